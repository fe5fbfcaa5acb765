/* SPDX-License-Identifier: Apache-2.0 */
/* The TEE backends against fake configfs-tsm, sev-guest, tdx-guest and
 * Gramine trees: the system calls are replaced by an in-memory model whose
 * knobs produce the hostile cases (oversized blobs, short reads, reads that
 * return more than asked, generation races, firmware errors). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "tee-internal.h"
#include "ward/tee.h"

enum file_id { F_NONE, F_GEN, F_INBLOB, F_OUTBLOB, F_AUXBLOB, F_PROVIDER, F_PRIVLEVEL,
	       F_SEV, F_TDX, F_GR_TYPE, F_GR_URD, F_GR_QUOTE };

static struct {
	/* knobs */
	const char *provider;
	size_t outblob_size;
	size_t auxblob_size;
	bool has_aux;
	int race_every;   /* bump the generation behind our back on every Nth generation read */
	int race_once;    /* ... or only on the Nth */
	size_t chunk;     /* max bytes returned per read (short reads) */
	bool overread;    /* read() claims more bytes than asked */
	bool has_tsm, has_sev, has_tdx, has_gramine;
	const char *gramine_type;
	uint32_t fw_status;
	uint32_t report_size;
	bool want_len_retry;
	/* state */
	uint64_t generation;
	int gen_reads;
	uint8_t inblob[64];
	unsigned privlevel;
	bool mkdir_done, rmdir_done;
	int ioctl_calls;
	struct { enum file_id id; size_t off, size; uint8_t *buf; } fds[16];
} fk;

static void fake_reset(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.provider = "sev_guest\n";
	fk.outblob_size = 1184;
	fk.auxblob_size = 300;
	fk.has_aux = true;
	fk.has_tsm = true;
	fk.chunk = SIZE_MAX;
	fk.gramine_type = "dcap";
	fk.report_size = 1184;
	fk.generation = 7;
}

static size_t content(enum file_id id, uint8_t *buf, size_t max);

static enum file_id path_id(const char *p)
{
	static const struct { const char *suffix; enum file_id id; } map[] = {
		{"/generation", F_GEN}, {"/inblob", F_INBLOB}, {"/outblob", F_OUTBLOB},
		{"/auxblob", F_AUXBLOB}, {"/provider", F_PROVIDER}, {"/privlevel", F_PRIVLEVEL},
		{"/dev/sev-guest", F_SEV}, {"/dev/tdx_guest", F_TDX},
		{"/attestation_type", F_GR_TYPE}, {"/user_report_data", F_GR_URD},
		{"/dev/attestation/quote", F_GR_QUOTE},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(p), m = strlen(map[i].suffix);
		if (n >= m && strcmp(p + n - m, map[i].suffix) == 0)
			return map[i].id;
	}
	return F_NONE;
}

static int f_open(const char *path, int flags, mode_t mode)
{
	enum file_id id = path_id(path);

	(void)flags;
	(void)mode;
	if (id == F_NONE || (id == F_AUXBLOB && !fk.has_aux) || (id == F_SEV && !fk.has_sev) ||
	    (id == F_TDX && !fk.has_tdx) || (id >= F_GR_TYPE && !fk.has_gramine) ||
	    (id <= F_PRIVLEVEL && (!fk.has_tsm || !fk.mkdir_done))) {
		errno = ENOENT;
		return -1;
	}
	for (int fd = 3; fd < 16; fd++)
		if (fk.fds[fd].id == F_NONE) {
			fk.fds[fd].id = id;
			fk.fds[fd].off = 0;
			fk.fds[fd].buf = malloc(1 << 18);
			fk.fds[fd].size = content(id, fk.fds[fd].buf, 1 << 18);
			return fd;
		}
	errno = EMFILE;
	return -1;
}

/* The bytes a file holds right now. */
static size_t content(enum file_id id, uint8_t *buf, size_t max)
{
	size_t n = 0;

	switch (id) {
	case F_GEN:
		fk.gen_reads++;
		if ((fk.race_every && fk.gen_reads % fk.race_every == 0) ||
		    fk.gen_reads == fk.race_once)
			fk.generation++; /* another writer */
		n = (size_t)snprintf((char *)buf, max, "%llu\n", (unsigned long long)fk.generation);
		break;
	case F_OUTBLOB:
	case F_GR_QUOTE:
		for (n = 0; n < fk.outblob_size && n < max; n++)
			buf[n] = fk.inblob[n % 64] ^ (uint8_t)(n / 64);
		break;
	case F_AUXBLOB:
		for (n = 0; n < fk.auxblob_size && n < max; n++)
			buf[n] = 0xa5;
		break;
	case F_PROVIDER:
		n = (size_t)snprintf((char *)buf, max, "%s", fk.provider);
		break;
	case F_GR_TYPE:
		n = (size_t)snprintf((char *)buf, max, "%s", fk.gramine_type);
		break;
	default:
		break;
	}
	return n;
}

static ssize_t f_read(int fd, void *buf, size_t size)
{
	size_t n;

	if (fk.fds[fd].off >= fk.fds[fd].size)
		return 0;
	n = fk.fds[fd].size - fk.fds[fd].off;
	if (n > size)
		n = size;
	if (n > fk.chunk)
		n = fk.chunk;
	memcpy(buf, fk.fds[fd].buf + fk.fds[fd].off, n);
	fk.fds[fd].off += n;
	if (fk.overread)
		return (ssize_t)(size + 1);
	return (ssize_t)n;
}

static ssize_t f_write(int fd, const void *buf, size_t size)
{
	switch (fk.fds[fd].id) {
	case F_INBLOB:
	case F_GR_URD:
		if (size != 64) {
			errno = EINVAL;
			return -1;
		}
		memcpy(fk.inblob, buf, 64);
		fk.generation++;
		return (ssize_t)size;
	case F_PRIVLEVEL:
		fk.privlevel = (unsigned)atoi((const char *)buf);
		fk.generation++;
		return (ssize_t)size;
	default:
		errno = EACCES;
		return -1;
	}
}

static int f_close(int fd)
{
	fk.fds[fd].id = F_NONE;
	free(fk.fds[fd].buf);
	fk.fds[fd].buf = NULL;
	return 0;
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
	fk.ioctl_calls++;
	if (fk.fds[fd].id == F_SEV) {
		struct snp_guest_request_ioctl *g = arg;
		struct snp_report_resp *resp = (void *)(uintptr_t)g->resp_data;
		struct snp_report_req *r = (void *)(uintptr_t)g->req_data;

		if (req == SNP_GET_EXT_REPORT) {
			struct snp_ext_report_req *ext = (void *)(uintptr_t)g->req_data;
			if (fk.want_len_retry && fk.ioctl_calls == 1) {
				ext->certs_len = 8 * 4096;
				g->vmm_error = 1;
				errno = EIO;
				return -1;
			}
			memset((void *)(uintptr_t)ext->certs_address, 0x5a, 100);
			ext->certs_len = 100;
			r = &ext->data;
		} else if (req == SNP_GET_DERIVED_KEY) {
			memset(resp->data, 0, 64);
			memcpy(resp->data, &fk.fw_status, 4);
			memset(resp->data + 32, 0x42, 32);
			return 0;
		} else if (req != SNP_GET_REPORT) {
			errno = ENOTTY;
			return -1;
		}
		memcpy(resp->data, &fk.fw_status, 4);
		memcpy(resp->data + 4, &fk.report_size, 4);
		memcpy(resp->data + 32 + 0x50, r->user_data, 64); /* report_data at 0x50 */
		return 0;
	}
	if (fk.fds[fd].id == F_TDX) {
		uint8_t *p = arg; /* reportdata[64] then tdreport[1024] */
		memcpy(p + 64 + 128, p, 64);
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

static int f_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	if (!fk.has_tsm) {
		errno = ENOENT;
		return -1;
	}
	fk.mkdir_done = true;
	return 0;
}

static int f_rmdir(const char *path)
{
	(void)path;
	fk.rmdir_done = true;
	fk.mkdir_done = false;
	return 0;
}

static int f_access(const char *path, int mode)
{
	(void)mode;
	if ((strstr(path, "tsm/report") && fk.has_tsm) || (path_id(path) == F_SEV && fk.has_sev) ||
	    (path_id(path) == F_TDX && fk.has_tdx) || (path_id(path) == F_GR_QUOTE && fk.has_gramine))
		return 0;
	errno = ENOENT;
	return -1;
}

static const struct ward_tee_sys fake_sys = {f_open, f_read, f_write, f_close,
					     f_ioctl, f_mkdir, f_rmdir, f_access};

static const uint8_t rd[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, [63] = 0x3f};

static int collect(struct ward_tee_opts o, struct ward_tee_evidence **ev, struct ward_err *err)
{
	o.sys = &fake_sys;
	o.root = "/fake";
	return ward_tee_collect(&o, rd, ev, err);
}

WARD_TEST(tsm_snp_with_aux)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	CHECK_OK(collect((struct ward_tee_opts){.tee = WARD_TEE_SNP, .want_aux = true, .privlevel = 2},
			 &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_SNP);
	CHECK_INT(ev->source, ==, WARD_TEE_SOURCE_CONFIGFS_TSM);
	CHECK_STR(ev->provider, "sev_guest");
	CHECK_INT(ev->outblob_size, ==, 1184);
	CHECK_MEM(ev->outblob, rd, 64); /* the fake echoes the inblob */
	CHECK_INT(ev->auxblob_size, ==, 300);
	CHECK_INT(ev->generation, ==, 9); /* privlevel + inblob writes */
	CHECK_INT(fk.privlevel, ==, 2);
	CHECK(fk.rmdir_done);
	ward_tee_evidence_free(ev);
}

WARD_TEST(tsm_short_reads_and_no_aux)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.chunk = 7;
	fk.has_aux = false;
	CHECK_OK(collect((struct ward_tee_opts){.want_aux = true}, &ev, &err), &err);
	CHECK_INT(ev->outblob_size, ==, 1184);
	CHECK(ev->auxblob == NULL);
	ward_tee_evidence_free(ev);
}

WARD_TEST(tsm_tdx_provider)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.provider = "tdx_guest\n";
	fk.outblob_size = 5006;
	CHECK_OK(collect((struct ward_tee_opts){.tee = WARD_TEE_TDX}, &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_TDX);
	CHECK_INT(ev->outblob_size, ==, 5006);
	ward_tee_evidence_free(ev);
	/* asking for SNP on a TDX machine is refused */
	ev = NULL;
	CHECK_ERR(collect((struct ward_tee_opts){.tee = WARD_TEE_SNP, .source = WARD_TEE_SOURCE_CONFIGFS_TSM},
			  &ev, &err), -WARD_E_STATE);
	CHECK_MSG(&err, "tdx_guest");
	CHECK(fk.rmdir_done);
}

WARD_TEST(tsm_hostile)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.outblob_size = WARD_TEE_OUTBLOB_MAX + 1;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "outblob");
	CHECK(fk.rmdir_done); /* the entry is removed on failure too */

	fake_reset();
	fk.outblob_size = 0;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "empty");

	fake_reset();
	fk.outblob_size = 1000; /* not an SNP report */
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "1184");

	fake_reset();
	fk.overread = true;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -EIO);
	CHECK_MSG(&err, "more bytes than requested");

	fake_reset();
	fk.provider = "evil_guest\n";
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "evil_guest");

	fake_reset();
	fk.auxblob_size = WARD_TEE_AUXBLOB_MAX + 1;
	CHECK_ERR(collect((struct ward_tee_opts){.want_aux = true}, &ev, &err), -WARD_E_TOO_BIG);
	CHECK(ev == NULL);
}

WARD_TEST(tsm_generation_race)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	/* A writer that interferes once: we retry and succeed. */
	fake_reset();
	fk.race_once = 3; /* between reading the outblob and the final generation check */
	CHECK_OK(collect((struct ward_tee_opts){0}, &ev, &err), &err);
	CHECK_MEM(ev->outblob, rd, 64);
	ward_tee_evidence_free(ev);
	ev = NULL;
	/* A writer that always interferes: bounded retries, then a clear error. */
	fake_reset();
	fk.race_every = 2;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -EAGAIN);
	CHECK_MSG(&err, "kept changing");
	CHECK(fk.rmdir_done);
}

WARD_TEST(sev_guest_report)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.has_tsm = false;
	fk.has_sev = true;
	CHECK_INT(ward_tee_detect(&(struct ward_tee_opts){.sys = &fake_sys, .root = "/fake"}), ==,
		  WARD_TEE_SNP);
	CHECK_OK(collect((struct ward_tee_opts){0}, &ev, &err), &err);
	CHECK_INT(ev->source, ==, WARD_TEE_SOURCE_SEV_GUEST);
	CHECK_INT(ev->outblob_size, ==, 1184);
	CHECK_MEM(ev->outblob + 0x50, rd, 64);
	ward_tee_evidence_free(ev);
	ev = NULL;

	/* extended report, with the host asking for a bigger certificate buffer first */
	fake_reset();
	fk.has_tsm = false;
	fk.has_sev = true;
	fk.want_len_retry = true;
	CHECK_OK(collect((struct ward_tee_opts){.want_aux = true}, &ev, &err), &err);
	CHECK_INT(fk.ioctl_calls, ==, 2);
	CHECK_INT(ev->auxblob_size, ==, 100);
	ward_tee_evidence_free(ev);
	ev = NULL;

	fake_reset();
	fk.has_tsm = false;
	fk.has_sev = true;
	fk.fw_status = 0x16;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -EIO);
	CHECK_MSG(&err, "0x16");

	fake_reset();
	fk.has_tsm = false;
	fk.has_sev = true;
	fk.report_size = 4000;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "report size 4000");
}

WARD_TEST(tdx_guest_report)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.has_tsm = false;
	fk.has_tdx = true;
	CHECK_OK(collect((struct ward_tee_opts){0}, &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_TDX);
	CHECK_INT(ev->outblob_size, ==, 1024);
	CHECK_MEM(ev->outblob + 128, rd, 64);
	ward_tee_evidence_free(ev);
}

WARD_TEST(gramine_quote)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.has_tsm = false;
	fk.has_gramine = true;
	fk.outblob_size = 4600;
	CHECK_OK(collect((struct ward_tee_opts){0}, &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_SGX);
	CHECK_INT(ev->outblob_size, ==, 4600);
	CHECK_MEM(ev->outblob, rd, 64);
	ward_tee_evidence_free(ev);
	ev = NULL;

	fk.gramine_type = "epid\n";
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "'epid'");
	fk.gramine_type = "dcap";
	fk.outblob_size = WARD_TEE_OUTBLOB_MAX + 5;
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_TOO_BIG);
}

WARD_TEST(no_tee)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence *ev = NULL;

	fake_reset();
	fk.has_tsm = false;
	CHECK_INT(ward_tee_detect(&(struct ward_tee_opts){.sys = &fake_sys, .root = "/fake"}), ==,
		  WARD_TEE_NONE);
	CHECK_ERR(collect((struct ward_tee_opts){0}, &ev, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "no TEE found");
	CHECK_ERR(collect((struct ward_tee_opts){.tee = WARD_TEE_SIM}, &ev, &err), -WARD_E_USAGE);
	/* the real machine has no TEE either: detection must say so, not crash */
	CHECK_INT(ward_tee_detect(&(struct ward_tee_opts){.root = "/nonexistent"}), ==, WARD_TEE_NONE);
}

WARD_TEST(sealing_key)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t key[32];
	struct ward_tee_opts o = {.sys = &fake_sys, .root = "/fake"};

	fake_reset();
	fk.has_sev = true;
	CHECK_OK(ward_tee_sealing_key(&o, key, &err), &err);
	CHECK(key[0] == 0x42 && key[31] == 0x42);
	fk.fw_status = 1;
	CHECK_ERR(ward_tee_sealing_key(&o, key, &err), -EIO);
	o.tee = WARD_TEE_TDX;
	CHECK_ERR(ward_tee_sealing_key(&o, key, &err), -WARD_E_UNSUPPORTED);
	fake_reset();
	o.tee = WARD_TEE_NONE;
	CHECK_ERR(ward_tee_sealing_key(&o, key, &err), -ENOENT);
}

WARD_TEST(names)
{
	enum ward_tee_type t;

	CHECK_STR(ward_tee_name(WARD_TEE_SNP), "snp");
	CHECK_STR(ward_tee_name(WARD_TEE_NONE), "none");
	CHECK_OK(ward_tee_parse("tdx", &t), NULL);
	CHECK_INT(t, ==, WARD_TEE_TDX);
	CHECK_ERR(ward_tee_parse("tdx2", &t), -WARD_E_USAGE);
	CHECK_STR(ward_tee_source_name(WARD_TEE_SOURCE_GRAMINE), "gramine");
	CHECK_STR(ward_tee_source_name(WARD_TEE_SOURCE_AUTO), "auto");
}

WARD_TEST(sim_response_parser)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_evidence ev = {0};
	uint8_t ok[] = "WSIM\x01\x00\x00\x00\x04\x00\x00\x00"
		       "abcd\x02\x00\x00\x00"
		       "xy";
	size_t n = sizeof(ok) - 1;

	CHECK_OK(ward_tee_sim_parse_response(ok, n, &ev, &err), &err);
	CHECK_INT(ev.outblob_size, ==, 4);
	CHECK_INT(ev.auxblob_size, ==, 2);
	CHECK_MEM(ev.auxblob, "xy", 2);
	for (size_t cut = 0; cut < n; cut++)
		CHECK_ERR(ward_tee_sim_parse_response(ok, cut, &ev, &err), -WARD_E_MALFORMED);
	ok[n] = 'z';
	CHECK_ERR(ward_tee_sim_parse_response(ok, n + 1, &ev, &err), -WARD_E_MALFORMED);
	ok[6] = 3; /* refused */
	CHECK_ERR(ward_tee_sim_parse_response(ok, n, &ev, &err), -EIO);
	CHECK_MSG(&err, "status 3");
	ok[6] = 0, ok[8] = 0; /* empty report */
	CHECK_ERR(ward_tee_sim_parse_response(ok, n, &ev, &err), -WARD_E_MALFORMED);
	free(ev.outblob);
	free(ev.auxblob);
}

WARD_TEST_MAIN()
