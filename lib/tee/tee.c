/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/tee.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "tee-internal.h"

#define TSM_REPORT_DIR "/sys/kernel/config/tsm/report"
#define SEV_GUEST_DEV "/dev/sev-guest"
#define TDX_GUEST_DEV "/dev/tdx_guest"
#define GRAMINE_DIR "/dev/attestation"
#define SNP_REPORT_SIZE 1184
#define TDX_REPORT_SIZE 1024
#define SMALL_ATTR_MAX 64

/* Linux uapi <linux/tdx-guest.h> (not in Debian 12's 6.1 headers). */
struct tdx_report_req {
	uint8_t reportdata[64];
	uint8_t tdreport[TDX_REPORT_SIZE];
};
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)

static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags | O_CLOEXEC, mode);
}
static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}
static const struct ward_tee_sys real_sys = {
	.open = sys_open,
	.read = read,
	.write = write,
	.close = close,
	.ioctl = sys_ioctl,
	.mkdir = mkdir,
	.rmdir = rmdir,
	.access = access,
};

const char *ward_tee_name(enum ward_tee_type tee)
{
	switch (tee) {
	case WARD_TEE_SIM:
		return "sim";
	case WARD_TEE_SNP:
		return "snp";
	case WARD_TEE_TDX:
		return "tdx";
	case WARD_TEE_SGX:
		return "sgx";
	default:
		return "none";
	}
}

int ward_tee_parse(const char *s, enum ward_tee_type *ret)
{
	static const enum ward_tee_type all[] = {WARD_TEE_SIM, WARD_TEE_SNP, WARD_TEE_TDX,
						 WARD_TEE_SGX};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, ward_tee_name(all[i])) == 0) {
			*ret = all[i];
			return 0;
		}
	return -WARD_E_USAGE;
}

const char *ward_tee_source_name(enum ward_tee_source s)
{
	switch (s) {
	case WARD_TEE_SOURCE_CONFIGFS_TSM:
		return "configfs-tsm";
	case WARD_TEE_SOURCE_SEV_GUEST:
		return "sev-guest";
	case WARD_TEE_SOURCE_TDX_GUEST:
		return "tdx-guest";
	case WARD_TEE_SOURCE_GRAMINE:
		return "gramine";
	default:
		return "auto";
	}
}

struct ctx {
	const struct ward_tee_sys *sys;
	const char *root;
};

static void ctx_init(struct ctx *c, const struct ward_tee_opts *opts)
{
	c->sys = opts && opts->sys ? opts->sys : &real_sys;
	c->root = opts && opts->root ? opts->root : "";
}

static int mkpath(const struct ctx *c, char *buf, size_t size, const char *a, const char *b,
		  struct ward_err *err)
{
	int n = snprintf(buf, size, "%s%s%s%s", c->root, a, b ? "/" : "", b ? b : "");

	if (n < 0 || (size_t)n >= size)
		return ward_err_set(err, -ENAMETOOLONG, "path under '%s' too long", c->root);
	return 0;
}

/* Read a whole attribute file of at most max bytes. UNTRUSTED content. */
static int read_attr(const struct ctx *c, const char *path, size_t max, uint8_t **ret,
		     size_t *ret_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size = 0;
	int fd, r = 0;

	buf = malloc(max + 1);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	fd = c->sys->open(path, O_RDONLY, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "open '%s'", path);
	for (;;) {
		/* Ask for one byte more than allowed, so oversize is detected. */
		size_t want = max + 1 - size;
		ssize_t n = c->sys->read(fd, buf + size, want);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = ward_err_errno(err, -errno, "read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > want) {
			r = ward_err_set(err, -EIO, "read '%s': more bytes than requested", path);
			break;
		}
		size += (size_t)n;
		if (size > max) {
			r = ward_err_set(err, -WARD_E_TOO_BIG, "'%s' is larger than %zu bytes",
					 path, max);
			break;
		}
	}
	(void)c->sys->close(fd);
	if (r < 0)
		return r;
	buf[size] = 0;
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

static int write_attr(const struct ctx *c, const char *path, const void *data, size_t size,
		      struct ward_err *err)
{
	int fd = c->sys->open(path, O_WRONLY, 0), r = 0;
	ssize_t n;

	if (fd < 0)
		return ward_err_errno(err, -errno, "open '%s'", path);
	do
		n = c->sys->write(fd, data, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		r = ward_err_errno(err, -errno, "write '%s'", path);
	else if ((size_t)n != size)
		r = ward_err_set(err, -EIO, "write '%s': short write (%zd of %zu bytes)", path, n,
				 size);
	if (c->sys->close(fd) < 0 && r == 0)
		r = ward_err_errno(err, -errno, "close '%s'", path);
	return r;
}

/* A configfs-tsm number attribute ("42\n"). */
static int read_u64_attr(const struct ctx *c, const char *path, uint64_t *ret,
			 struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	uint64_t v = 0;
	int r = read_attr(c, path, SMALL_ATTR_MAX, &buf, &size, err);

	if (r < 0)
		return r;
	if (size > 0 && buf[size - 1] == '\n')
		size--;
	if (size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "'%s' is empty", path);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return ward_err_set(err, -WARD_E_MALFORMED, "'%s' is not a number", path);
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	*ret = v;
	return 0;
}

static int tsm_expected_provider(enum ward_tee_type tee, const char *provider)
{
	if (tee == WARD_TEE_SNP)
		return strcmp(provider, "sev_guest") == 0 ? 0 : -1;
	if (tee == WARD_TEE_TDX)
		return strcmp(provider, "tdx_guest") == 0 ? 0 : -1;
	return -1;
}

static int tsm_collect_once(const struct ctx *c, const char *entry, const struct ward_tee_opts *o,
			    const uint8_t *report_data, struct ward_tee_evidence *ev, bool *race,
			    struct ward_err *err)
{
	char path[512];
	uint64_t g0, g1, g2;
	unsigned writes = 0;
	WARD_AUTOFREE uint8_t *prov = NULL;
	size_t prov_size;
	int r;

	*race = false;
	if ((r = mkpath(c, path, sizeof(path), entry, "generation", err)) < 0 ||
	    (r = read_u64_attr(c, path, &g0, err)) < 0)
		return r;
	if (o->privlevel) {
		char lvl[16];
		int n = snprintf(lvl, sizeof(lvl), "%u", o->privlevel);

		if ((r = mkpath(c, path, sizeof(path), entry, "privlevel", err)) < 0 ||
		    (r = write_attr(c, path, lvl, (size_t)n, err)) < 0)
			return r;
		writes++;
	}
	if ((r = mkpath(c, path, sizeof(path), entry, "inblob", err)) < 0 ||
	    (r = write_attr(c, path, report_data, WARD_REPORT_DATA_SIZE, err)) < 0)
		return r;
	writes++;
	if ((r = mkpath(c, path, sizeof(path), entry, "generation", err)) < 0 ||
	    (r = read_u64_attr(c, path, &g1, err)) < 0)
		return r;
	if (g1 != g0 + writes) {
		*race = true; /* somebody else wrote the entry between our writes */
		return 0;
	}
	free(ev->outblob);
	ev->outblob = NULL;
	if ((r = mkpath(c, path, sizeof(path), entry, "outblob", err)) < 0 ||
	    (r = read_attr(c, path, WARD_TEE_OUTBLOB_MAX, &ev->outblob, &ev->outblob_size, err)) <
		    0)
		return r;
	if (ev->outblob_size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "'%s' is empty", path);
	free(ev->auxblob);
	ev->auxblob = NULL;
	ev->auxblob_size = 0;
	if (o->want_aux) {
		if ((r = mkpath(c, path, sizeof(path), entry, "auxblob", err)) < 0)
			return r;
		r = read_attr(c, path, WARD_TEE_AUXBLOB_MAX, &ev->auxblob, &ev->auxblob_size, err);
		if (r == -ENOENT || r == -EOPNOTSUPP || r == -ENXIO) {
			ward_err_clear(err); /* the provider has no auxblob: not an error */
		} else if (r < 0) {
			return r;
		}
	}
	if ((r = mkpath(c, path, sizeof(path), entry, "provider", err)) < 0 ||
	    (r = read_attr(c, path, sizeof(ev->provider) - 1, &prov, &prov_size, err)) < 0)
		return r;
	if (prov_size > 0 && prov[prov_size - 1] == '\n')
		prov_size--;
	memcpy(ev->provider, prov, prov_size);
	ev->provider[prov_size] = '\0';
	if ((r = mkpath(c, path, sizeof(path), entry, "generation", err)) < 0 ||
	    (r = read_u64_attr(c, path, &g2, err)) < 0)
		return r;
	if (g2 != g1) {
		*race = true; /* the blobs may belong to another writer's request */
		return 0;
	}
	ev->generation = g2;
	return 0;
}

static int collect_tsm(const struct ctx *c, const struct ward_tee_opts *o,
		       const uint8_t *report_data, struct ward_tee_evidence *ev,
		       struct ward_err *err)
{
	char base[256], entry[320];
	int r;

	if ((r = mkpath(c, base, sizeof(base), TSM_REPORT_DIR, NULL, err)) < 0)
		return r;
	static unsigned counter;
	unsigned seq = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);

	if (snprintf(entry, sizeof(entry), "%s/ward-%ld-%u", TSM_REPORT_DIR, (long)getpid(), seq) >=
	    (int)sizeof(entry))
		return ward_err_set(err, -ENAMETOOLONG, "entry name too long");
	char full[512];
	if ((r = mkpath(c, full, sizeof(full), entry, NULL, err)) < 0)
		return r;
	if (c->sys->mkdir(full, 0700) < 0)
		return ward_err_errno(err, -errno, "configfs-tsm: mkdir '%s'", full);

	r = -WARD_E_STATE;
	for (unsigned attempt = 0; attempt < WARD_TEE_TSM_RETRIES; attempt++) {
		bool race;

		r = tsm_collect_once(c, entry, o, report_data, ev, &race, err);
		if (r < 0 || !race)
			break;
		r = ward_err_set(err, -EAGAIN,
				 "configfs-tsm: '%s' kept changing under us (%u attempts)", full,
				 WARD_TEE_TSM_RETRIES);
	}
	if (c->sys->rmdir(full) < 0 && r == 0)
		r = ward_err_errno(err, -errno, "configfs-tsm: rmdir '%s'", full);
	if (r < 0)
		return ward_err_prefix(err, "configfs-tsm");

	enum ward_tee_type tee = strcmp(ev->provider, "sev_guest") == 0   ? WARD_TEE_SNP
				 : strcmp(ev->provider, "tdx_guest") == 0 ? WARD_TEE_TDX
									  : WARD_TEE_NONE;
	if (tee == WARD_TEE_NONE)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "configfs-tsm: unknown provider '%.31s'", ev->provider);
	if (o->tee != WARD_TEE_NONE && tsm_expected_provider(o->tee, ev->provider) < 0)
		return ward_err_set(err, -WARD_E_STATE,
				    "configfs-tsm: provider '%s' is not a %s TEE", ev->provider,
				    ward_tee_name(o->tee));
	if (tee == WARD_TEE_SNP && ev->outblob_size != SNP_REPORT_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "configfs-tsm: SNP outblob is %zu bytes, expected %d",
				    ev->outblob_size, SNP_REPORT_SIZE);
	ev->tee = tee;
	ev->source = WARD_TEE_SOURCE_CONFIGFS_TSM;
	return 0;
}

/* MSG_REPORT_RSP inside snp_report_resp.data: status, report_size, 24
 * reserved bytes, then the report. UNTRUSTED (the firmware's answer passes
 * through host-shared pages). */
int ward_tee_snp_unpack_report(const uint8_t *data, size_t size, struct ward_tee_evidence *ev,
			       struct ward_err *err)
{
	struct ward_cur cur = ward_cur_make(data, size), rep;
	uint32_t status, report_size;

	if (ward_cur_u32le(&cur, &status) < 0 || ward_cur_u32le(&cur, &report_size) < 0 ||
	    ward_cur_skip(&cur, 24) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "sev-guest: short response");
	if (status != 0)
		return ward_err_set(err, -EIO, "sev-guest: firmware status 0x%x", status);
	if (report_size != SNP_REPORT_SIZE || ward_cur_sub(&cur, report_size, &rep) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "sev-guest: report size %u, expected %d", report_size,
				    SNP_REPORT_SIZE);
	ev->outblob = malloc(report_size);
	if (!ev->outblob)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(ev->outblob, rep.p, report_size);
	ev->outblob_size = report_size;
	return 0;
}

static int collect_sev_guest(const struct ctx *c, const struct ward_tee_opts *o,
			     const uint8_t *report_data, struct ward_tee_evidence *ev,
			     struct ward_err *err)
{
	char dev[256];
	struct snp_ext_report_req ext = {0};
	struct snp_report_resp resp;
	struct snp_guest_request_ioctl g;
	WARD_AUTOFREE uint8_t *certs = NULL;
	size_t certs_size = o->want_aux ? 4 * 4096 : 0;
	int fd, r;

	if ((r = mkpath(c, dev, sizeof(dev), SEV_GUEST_DEV, NULL, err)) < 0)
		return r;
	fd = c->sys->open(dev, O_RDWR, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "sev-guest: open '%s'", dev);
	memcpy(ext.data.user_data, report_data, WARD_REPORT_DATA_SIZE);
	ext.data.vmpl = o->privlevel;
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(&resp, 0, sizeof(resp));
		memset(&g, 0, sizeof(g));
		g.msg_version = 1;
		g.resp_data = (uint64_t)(uintptr_t)&resp;
		if (o->want_aux) {
			free(certs);
			certs = calloc(1, certs_size);
			if (!certs) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			ext.certs_address = (uint64_t)(uintptr_t)certs;
			ext.certs_len = (uint32_t)certs_size;
			g.req_data = (uint64_t)(uintptr_t)&ext;
			r = c->sys->ioctl(fd, SNP_GET_EXT_REPORT, &g);
		} else {
			g.req_data = (uint64_t)(uintptr_t)&ext.data;
			r = c->sys->ioctl(fd, SNP_GET_REPORT, &g);
		}
		if (r < 0 && o->want_aux && attempt == 0 && g.vmm_error == 1 /* INVALID_LEN */) {
			/* The host says how much room the certificates need. UNTRUSTED. */
			if (ext.certs_len == 0 || ext.certs_len > WARD_TEE_AUXBLOB_MAX) {
				r = ward_err_set(err, -WARD_E_TOO_BIG,
						 "sev-guest: certificate table of %u bytes",
						 ext.certs_len);
				break;
			}
			certs_size = ext.certs_len;
			continue;
		}
		if (r < 0)
			r = ward_err_errno(err, -errno, "sev-guest: %s (fw_error 0x%x)",
					   o->want_aux ? "SNP_GET_EXT_REPORT" : "SNP_GET_REPORT",
					   g.fw_error);
		break;
	}
	(void)c->sys->close(fd);
	if (r < 0)
		return r;
	r = ward_tee_snp_unpack_report(resp.data, sizeof(resp.data), ev, err);
	if (r < 0)
		return r;
	if (o->want_aux && ext.certs_len > 0) {
		if (ext.certs_len > certs_size)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "sev-guest: certificate table length %u exceeds %zu",
					    ext.certs_len, certs_size);
		ev->auxblob = WARD_TAKE_PTR(certs);
		ev->auxblob_size = ext.certs_len;
	}
	ev->tee = WARD_TEE_SNP;
	ev->source = WARD_TEE_SOURCE_SEV_GUEST;
	return 0;
}

static int collect_tdx_guest(const struct ctx *c, const uint8_t *report_data,
			     struct ward_tee_evidence *ev, struct ward_err *err)
{
	char dev[256];
	struct tdx_report_req req;
	int fd, r;

	if ((r = mkpath(c, dev, sizeof(dev), TDX_GUEST_DEV, NULL, err)) < 0)
		return r;
	fd = c->sys->open(dev, O_RDWR, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "tdx-guest: open '%s'", dev);
	memset(&req, 0, sizeof(req));
	memcpy(req.reportdata, report_data, WARD_REPORT_DATA_SIZE);
	r = c->sys->ioctl(fd, TDX_CMD_GET_REPORT0, &req);
	if (r < 0)
		r = ward_err_errno(err, -errno, "tdx-guest: TDX_CMD_GET_REPORT0");
	(void)c->sys->close(fd);
	if (r < 0)
		return r;
	ev->outblob = malloc(TDX_REPORT_SIZE);
	if (!ev->outblob)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(ev->outblob, req.tdreport, TDX_REPORT_SIZE);
	ev->outblob_size = TDX_REPORT_SIZE;
	ev->tee = WARD_TEE_TDX;
	ev->source = WARD_TEE_SOURCE_TDX_GUEST;
	return 0;
}

static int collect_gramine(const struct ctx *c, const uint8_t *report_data,
			   struct ward_tee_evidence *ev, struct ward_err *err)
{
	char path[256];
	WARD_AUTOFREE uint8_t *type = NULL;
	size_t type_size;
	int r;

	if ((r = mkpath(c, path, sizeof(path), GRAMINE_DIR, "attestation_type", err)) < 0 ||
	    (r = read_attr(c, path, SMALL_ATTR_MAX, &type, &type_size, err)) < 0)
		return ward_err_prefix(err, "gramine");
	while (type_size > 0 && (type[type_size - 1] == '\n' || type[type_size - 1] == '\0'))
		type[--type_size] = '\0';
	if (strcmp((char *)type, "dcap") != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "gramine: attestation type '%.32s', only 'dcap' is supported",
				    (char *)type);
	if ((r = mkpath(c, path, sizeof(path), GRAMINE_DIR, "user_report_data", err)) < 0 ||
	    (r = write_attr(c, path, report_data, WARD_REPORT_DATA_SIZE, err)) < 0)
		return ward_err_prefix(err, "gramine");
	if ((r = mkpath(c, path, sizeof(path), GRAMINE_DIR, "quote", err)) < 0 ||
	    (r = read_attr(c, path, WARD_TEE_OUTBLOB_MAX, &ev->outblob, &ev->outblob_size, err)) <
		    0)
		return ward_err_prefix(err, "gramine");
	if (ev->outblob_size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "gramine: empty quote");
	ev->tee = WARD_TEE_SGX;
	ev->source = WARD_TEE_SOURCE_GRAMINE;
	return 0;
}

static bool exists(const struct ctx *c, const char *p)
{
	char path[256];

	return mkpath(c, path, sizeof(path), p, NULL, NULL) == 0 && c->sys->access(path, F_OK) == 0;
}

enum ward_tee_type ward_tee_detect(const struct ward_tee_opts *opts)
{
	struct ctx c;

	ctx_init(&c, opts);
	if (exists(&c, SEV_GUEST_DEV))
		return WARD_TEE_SNP;
	if (exists(&c, TDX_GUEST_DEV))
		return WARD_TEE_TDX;
	if (exists(&c, GRAMINE_DIR "/quote"))
		return WARD_TEE_SGX;
	return WARD_TEE_NONE;
}

static enum ward_tee_source pick_source(const struct ctx *c, enum ward_tee_type tee)
{
	if (tee == WARD_TEE_SGX)
		return WARD_TEE_SOURCE_GRAMINE;
	if (exists(c, TSM_REPORT_DIR))
		return WARD_TEE_SOURCE_CONFIGFS_TSM;
	if (tee == WARD_TEE_SNP)
		return WARD_TEE_SOURCE_SEV_GUEST;
	if (tee == WARD_TEE_TDX)
		return WARD_TEE_SOURCE_TDX_GUEST;
	return WARD_TEE_SOURCE_AUTO;
}

int ward_tee_collect(const struct ward_tee_opts *opts, const uint8_t report_data[64],
		     struct ward_tee_evidence **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	struct ward_tee_opts o = opts ? *opts : (struct ward_tee_opts){0};
	struct ctx c;
	int r;

	ctx_init(&c, &o);
	if (o.tee == WARD_TEE_SIM)
		return ward_err_set(err, -WARD_E_USAGE,
				    "the sim TEE is reached through its socket, not a device");
	if (o.tee == WARD_TEE_NONE)
		o.tee = ward_tee_detect(&o);
	if (o.source == WARD_TEE_SOURCE_AUTO)
		o.source = pick_source(&c, o.tee);
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return ward_err_set(err, -ENOMEM, "out of memory");

	switch (o.source) {
	case WARD_TEE_SOURCE_CONFIGFS_TSM:
		r = collect_tsm(&c, &o, report_data, ev, err);
		break;
	case WARD_TEE_SOURCE_SEV_GUEST:
		r = collect_sev_guest(&c, &o, report_data, ev, err);
		break;
	case WARD_TEE_SOURCE_TDX_GUEST:
		r = collect_tdx_guest(&c, report_data, ev, err);
		break;
	case WARD_TEE_SOURCE_GRAMINE:
		r = collect_gramine(&c, report_data, ev, err);
		break;
	default:
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "no TEE found (no configfs-tsm, /dev/sev-guest, "
				    "/dev/tdx_guest or /dev/attestation under '%s/')",
				    c.root);
	}
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(ev);
	return 0;
}

struct ward_tee_evidence *ward_tee_evidence_free(struct ward_tee_evidence *ev)
{
	if (!ev)
		return NULL;
	free(ev->outblob);
	free(ev->auxblob);
	free(ev);
	return NULL;
}

int ward_tee_sealing_key(const struct ward_tee_opts *opts, uint8_t out[32], struct ward_err *err)
{
	struct snp_derived_key_req req = {0};
	struct snp_derived_key_resp resp;
	struct snp_guest_request_ioctl g = {0};
	struct ward_cur cur;
	const uint8_t *key;
	uint32_t status;
	char dev[256];
	struct ctx c;
	int fd, r;

	ctx_init(&c, opts);
	if (opts && opts->tee != WARD_TEE_NONE && opts->tee != WARD_TEE_SNP)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "%s has no derived sealing key here",
				    ward_tee_name(opts->tee));
	if ((r = mkpath(&c, dev, sizeof(dev), SEV_GUEST_DEV, NULL, err)) < 0)
		return r;
	fd = c.sys->open(dev, O_RDWR, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "sev-guest: open '%s'", dev);
	req.root_key_select = 0;            /* VCEK-derived */
	req.guest_field_select = 1u << 3 | 1; /* mix in the measurement and the guest policy */
	req.vmpl = opts ? opts->privlevel : 0;
	memset(&resp, 0, sizeof(resp));
	g.msg_version = 1;
	g.req_data = (uint64_t)(uintptr_t)&req;
	g.resp_data = (uint64_t)(uintptr_t)&resp;
	r = c.sys->ioctl(fd, SNP_GET_DERIVED_KEY, &g);
	if (r < 0)
		r = ward_err_errno(err, -errno, "sev-guest: SNP_GET_DERIVED_KEY");
	(void)c.sys->close(fd);
	if (r < 0)
		return r;
	/* MSG_KEY_RSP: status, 28 reserved bytes, 32-byte key. */
	cur = ward_cur_make(resp.data, sizeof(resp.data));
	if (ward_cur_u32le(&cur, &status) < 0 || ward_cur_skip(&cur, 28) < 0 ||
	    ward_cur_take(&cur, 32, &key) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "sev-guest: short key response");
	if (status != 0) {
		explicit_bzero(&resp, sizeof(resp));
		return ward_err_set(err, -EIO, "sev-guest: key request status 0x%x", status);
	}
	memcpy(out, key, 32);
	explicit_bzero(&resp, sizeof(resp));
	return 0;
}
