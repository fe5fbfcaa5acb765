/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sim TEE: an INSECURE development platform for machines without a TEE.
 * It generates an AMD-shaped chain — ARK and ASK (RSA-4096, RSA-PSS
 * SHA-384, like AMD's) and a VCEK (ECDSA P-384 with AMD's TCB and HWID
 * extensions) — persists it in a state directory, and signs SEV-SNP-format
 * v3 reports. Verifiers check them with the ordinary SNP code path; only
 * the trust anchor differs, and it is accepted only when the caller
 * explicitly allows the sim TEE. Anything that trusts this is insecure: the
 * keys sit on the host. */

#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"

#ifndef WARD_SNP_REPORT_SIZE
#define WARD_SNP_REPORT_SIZE 0x4A0 /* 1184, as in ward/attest.h */
#endif
#define WARD_SIM_MEASUREMENT_SIZE 48

struct ward_sim; /* opaque platform */

/* What the "hardware" measured at launch; fixed for the life of a server. */
struct ward_sim_launch {
	uint8_t measurement[WARD_SIM_MEASUREMENT_SIZE];
	uint8_t host_data[32];
	uint64_t policy; /* SNP guest policy; default 0x30000 (SMT allowed, no debug) */
	uint32_t vmpl;
};

/* Load the platform from state_dir, creating it (0700 directory, keys 0600,
 * written atomically) if it does not exist yet. A restart with the same
 * directory keeps the same root. Creating takes a few seconds (RSA-4096). */
WARD_PUBLIC int ward_sim_open(const char *state_dir, struct ward_sim **ret, struct ward_err *err);
WARD_PUBLIC struct ward_sim *ward_sim_free(struct ward_sim *sim);
static inline void ward_sim_freep(struct ward_sim **s)
{
	ward_sim_free(*s);
}

/* Sign a v3 report binding report_data under launch. */
WARD_PUBLIC int ward_sim_report(const struct ward_sim *sim, const struct ward_sim_launch *launch,
				const uint8_t report_data[64], uint8_t report[WARD_SNP_REPORT_SIZE],
				struct ward_err *err);
/* The SNP certificate table (VCEK, ASK, ARK as DER), as configfs-tsm's
 * auxblob carries it. *ret malloc'ed. */
WARD_PUBLIC int ward_sim_cert_table(const struct ward_sim *sim, uint8_t **ret, size_t *ret_size,
				    struct ward_err *err);
/* Borrowed certificates of the chain. */
WARD_PUBLIC const struct ward_x509 *ward_sim_ark(const struct ward_sim *sim);
WARD_PUBLIC const struct ward_x509 *ward_sim_ask(const struct ward_sim *sim);
WARD_PUBLIC const struct ward_x509 *ward_sim_vcek(const struct ward_sim *sim);
/* A sealing key for a launch measurement: HKDF-SHA256 of the platform's
 * sealing secret with the measurement. */
WARD_PUBLIC int ward_sim_sealing_key(const struct ward_sim *sim,
				     const uint8_t measurement[WARD_SIM_MEASUREMENT_SIZE],
				     uint8_t out[32], struct ward_err *err);

/* Load only the ARK certificate of a sim state directory: the trust anchor
 * a verifier needs to accept this platform's reports (insecurely). */
WARD_PUBLIC int ward_sim_load_ark(const char *state_dir, struct ward_x509 **ret,
				  struct ward_err *err);

/* Serve the socket protocol of ward/tee.h on listen_fd (a listening unix
 * stream socket) until *stop becomes non-zero or the fd fails. Each
 * connection gets one report for launch. Logs every request as insecure. */
WARD_PUBLIC int ward_sim_serve(const struct ward_sim *sim, const struct ward_sim_launch *launch,
			       int listen_fd, volatile int *stop, struct ward_err *err);
/* Parse a sim socket request (ward/tee.h): exactly 72 bytes, magic,
 * version 1, flags 0. UNTRUSTED input. 0 or -WARD_E_MALFORMED. */
WARD_PUBLIC int ward_sim_parse_request(const uint8_t *buf, size_t size, uint8_t report_data[64]);
/* Bind and listen on a unix socket path (replacing a stale socket file). */
WARD_PUBLIC int ward_sim_listen(const char *path, int *ret_fd, struct ward_err *err);

/* The sim measurement of a converted image: SHA-384("ward-sim-v1:" ||
 * config_digest), where config_digest is "sha256:<hex>". */
WARD_PUBLIC int ward_sim_image_measurement(const char *config_digest,
					   uint8_t out[WARD_SIM_MEASUREMENT_SIZE],
					   struct ward_err *err);
