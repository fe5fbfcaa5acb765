/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* TEE backends: "give me evidence binding these 64 bytes of report data"
 * (and a sealing key where the TEE has one). Evidence comes from:
 *   - Linux configfs-tsm (/sys/kernel/config/tsm/report: SNP and TDX),
 *   - /dev/sev-guest (SNP_GET_REPORT / SNP_GET_EXT_REPORT),
 *   - /dev/tdx_guest (TDREPORT) + configfs-tsm for the quote,
 *   - Gramine's /dev/attestation pseudo-files (SGX DCAP quotes).
 * Everything read back is UNTRUSTED (written by the host or firmware path):
 * sizes are capped, short and oversized reads are errors, and configfs-tsm
 * generation changes (another writer raced us) cause a bounded retry.
 * The root path is injectable, and so are the system calls (struct
 * ward_tee_sys), so every backend is tested against a fake tree. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/compiler.h"
#include "ward/error.h"

#define WARD_REPORT_DATA_SIZE 64
#define WARD_TEE_OUTBLOB_MAX (64u << 10) /* SNP report 1184 B; TDX quotes ~5-8 KiB */
#define WARD_TEE_AUXBLOB_MAX (64u << 10) /* SNP certificate table ~6.5 KiB */
#define WARD_TEE_TSM_RETRIES 8

enum ward_tee_type {
	WARD_TEE_NONE = 0,
	WARD_TEE_SIM,
	WARD_TEE_SNP,
	WARD_TEE_TDX,
	WARD_TEE_SGX,
};
WARD_PUBLIC const char *ward_tee_name(enum ward_tee_type tee);
/* "sim", "snp", "tdx", "sgx" -> type; -WARD_E_USAGE otherwise. */
WARD_PUBLIC int ward_tee_parse(const char *s, enum ward_tee_type *ret);

enum ward_tee_source {
	WARD_TEE_SOURCE_AUTO = 0,
	WARD_TEE_SOURCE_CONFIGFS_TSM,
	WARD_TEE_SOURCE_SEV_GUEST,
	WARD_TEE_SOURCE_TDX_GUEST,
	WARD_TEE_SOURCE_GRAMINE,
};
WARD_PUBLIC const char *ward_tee_source_name(enum ward_tee_source s);

/* System calls the backends use; tests substitute fakes. */
struct ward_tee_sys {
	int (*open)(const char *path, int flags, mode_t mode);
	ssize_t (*read)(int fd, void *buf, size_t size);
	ssize_t (*write)(int fd, const void *buf, size_t size);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	int (*mkdir)(const char *path, mode_t mode);
	int (*rmdir)(const char *path);
	int (*access)(const char *path, int mode);
};

struct ward_tee_opts {
	enum ward_tee_type tee;       /* WARD_TEE_NONE: detect from what exists */
	enum ward_tee_source source;  /* AUTO: configfs-tsm first, then the device */
	const char *root;             /* prefix for /sys and /dev paths ("" or NULL: real root) */
	unsigned privlevel;           /* configfs-tsm privlevel / SNP VMPL (0 = default) */
	bool want_aux;                /* also fetch the certificate table (auxblob / ext report) */
	const struct ward_tee_sys *sys; /* NULL: the real system calls */
};

struct ward_tee_evidence {
	enum ward_tee_type tee;
	enum ward_tee_source source;
	uint8_t *outblob; /* owned: SNP report, TDX/SGX quote, or TDREPORT */
	size_t outblob_size;
	uint8_t *auxblob; /* owned, may be NULL: SNP certificate table */
	size_t auxblob_size;
	char provider[32]; /* configfs-tsm provider ("sev_guest", "tdx_guest"), trailing '\n' removed */
	uint64_t generation; /* configfs-tsm generation the outblob belongs to */
};

/* Collect evidence binding report_data. On success *ret is owned by the
 * caller (ward_tee_evidence_free). Errors name the path and the backend. */
WARD_PUBLIC int ward_tee_collect(const struct ward_tee_opts *opts,
				 const uint8_t report_data[WARD_REPORT_DATA_SIZE],
				 struct ward_tee_evidence **ret, struct ward_err *err);
WARD_PUBLIC struct ward_tee_evidence *ward_tee_evidence_free(struct ward_tee_evidence *ev);
static inline void ward_tee_evidence_freep(struct ward_tee_evidence **ev)
{
	ward_tee_evidence_free(*ev);
}

/* Which TEE does this machine offer (by looking at configfs-tsm, the guest
 * devices and /dev/attestation)? WARD_TEE_NONE if none. */
WARD_PUBLIC enum ward_tee_type ward_tee_detect(const struct ward_tee_opts *opts);

/* SNP: a 32-byte key derived by the PSP from the VCEK (root_key_select 0)
 * mixed with the guest measurement (guest_field_select bit 3), for sealing.
 * -WARD_E_UNSUPPORTED where the TEE has no such key. */
WARD_PUBLIC int ward_tee_sealing_key(const struct ward_tee_opts *opts, uint8_t out[32],
				     struct ward_err *err);

/* ---- the sim TEE's socket protocol ------------------------------------
 * INSECURE development TEE: a host process (ward sim serve) that signs
 * SEV-SNP-format reports with a locally generated AMD-shaped chain. The
 * container reaches it through a bind-mounted unix socket.
 *   request:  "WSIM" u16le version(1) u16le 0 | report_data[64]
 *   response: "WSIM" u16le version(1) u16le status (0 ok) |
 *             u32le report_size | report | u32le aux_size | auxblob
 * The auxblob is an SNP certificate table (VCEK, ASK, ARK; DER), exactly
 * as configfs-tsm returns it on real hardware. */
#define WARD_SIM_MAGIC "WSIM"
#define WARD_SIM_VERSION 1
#define WARD_SIM_SOCKET_DEFAULT "/.ward/run/sim.sock"

/* Ask the sim TEE at socket_path for evidence (tee = WARD_TEE_SIM,
 * outblob = report, auxblob = certificate table). */
WARD_PUBLIC int ward_tee_sim_collect(const char *socket_path,
				     const uint8_t report_data[WARD_REPORT_DATA_SIZE],
				     struct ward_tee_evidence **ret, struct ward_err *err);
