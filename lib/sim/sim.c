/* SPDX-License-Identifier: Apache-2.0 */
/* The INSECURE sim TEE: an AMD-shaped certificate chain and SEV-SNP-format
 * v3 reports signed on the host. See ward/sim.h. */
#include "ward/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/tee.h"
#include "ward/util.h"

#define SIM_KEY_MAX (16u << 10)
#define SIM_YEAR (365 * 24 * 3600L)
/* Sim TCB: bl 3, tee 0, snp 8, ucode 115 (any values would do). */
#define SIM_TCB_BL 3
#define SIM_TCB_TEE 0
#define SIM_TCB_SNP 8
#define SIM_TCB_UCODE 115


struct ward_sim {
	struct ward_pkey *ark_key, *ask_key, *vcek_key;
	struct ward_x509 *ark, *ask, *vcek;
	uint8_t chip_id[64];
	uint8_t report_id[32];
	uint8_t seal_secret[32];
};

struct ward_sim *ward_sim_free(struct ward_sim *sim)
{
	if (!sim)
		return NULL;
	ward_pkey_free(sim->ark_key);
	ward_pkey_free(sim->ask_key);
	ward_pkey_free(sim->vcek_key);
	ward_x509_free(sim->ark);
	ward_x509_free(sim->ask);
	ward_x509_free(sim->vcek);
	ward_wipe(sim, sizeof(*sim));
	free(sim);
	return NULL;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t sim_tcb(void)
{
	return (uint64_t)SIM_TCB_BL | (uint64_t)SIM_TCB_TEE << 8 | (uint64_t)SIM_TCB_SNP << 48 |
	       (uint64_t)SIM_TCB_UCODE << 56;
}

/* DER INTEGER of a small non-negative value. */
static size_t der_small_int(uint8_t *out, unsigned v)
{
	if (v < 0x80) {
		out[0] = 0x02, out[1] = 1, out[2] = (uint8_t)v;
		return 3;
	}
	out[0] = 0x02, out[1] = 2, out[2] = 0, out[3] = (uint8_t)v;
	return 4;
}

static int make_chain(struct ward_sim *s, struct ward_err *err)
{
	time_t now = time(NULL);
	uint8_t ints[9][4], product[16];
	size_t int_sizes[9];
	static const unsigned spl[9] = {1, SIM_TCB_BL, SIM_TCB_TEE, SIM_TCB_SNP, 0, 0, 0, 0,
					SIM_TCB_UCODE};
	static const char *const oids[9] = {
		"1.3.6.1.4.1.3704.1.1",   "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
		"1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.4", "1.3.6.1.4.1.3704.1.3.5",
		"1.3.6.1.4.1.3704.1.3.6", "1.3.6.1.4.1.3704.1.3.7", "1.3.6.1.4.1.3704.1.3.8",
	};
	struct ward_x509_ext exts[11];
	const char *pname = "Sim-Genoa";
	int r;

	struct ward_x509_template ark_t = {
		.subject = "CN=ARK-Sim,OU=INSECURE sim TEE,O=Ward",
		.not_before = now - 3600,
		.not_after = now + 25 * SIM_YEAR,
		.ca = true,
		.path_len = 1,
		.key_usage = WARD_KU_KEY_CERT_SIGN | WARD_KU_CRL_SIGN,
	};
	struct ward_x509_template ask_t = ark_t;
	ask_t.subject = "CN=SEV-Sim,OU=INSECURE sim TEE,O=Ward";
	ask_t.path_len = 0;
	struct ward_x509_template vcek_t = {
		.subject = "CN=SEV-VCEK,OU=INSECURE sim TEE,O=Ward",
		.not_before = now - 3600,
		.not_after = now + 7 * SIM_YEAR,
		.exts = exts,
		.ext_count = 11,
		.no_key_ids = true,
	};

	for (size_t i = 0; i < 9; i++) {
		int_sizes[i] = der_small_int(ints[i], spl[i]);
		exts[i] = (struct ward_x509_ext){oids[i], ints[i], int_sizes[i], false};
	}
	product[0] = 0x16; /* IA5String */
	product[1] = (uint8_t)strlen(pname);
	memcpy(product + 2, pname, strlen(pname));
	exts[9] = (struct ward_x509_ext){"1.3.6.1.4.1.3704.1.2", product, 2 + strlen(pname), false};
	/* AMD's VCEKs carry the raw CHIP_ID as the HWID extension value. */
	exts[10] = (struct ward_x509_ext){"1.3.6.1.4.1.3704.1.4", s->chip_id, 64, false};

	if ((r = ward_pkey_generate(WARD_KEY_RSA, 4096, &s->ark_key, err)) < 0 ||
	    (r = ward_pkey_generate(WARD_KEY_RSA, 4096, &s->ask_key, err)) < 0 ||
	    (r = ward_pkey_generate(WARD_KEY_EC_P384, 0, &s->vcek_key, err)) < 0)
		return ward_err_prefix(err, "sim: key generation");
	if ((r = ward_x509_create(&ark_t, s->ark_key, NULL, s->ark_key, WARD_SIG_RSA_PSS_SHA384,
				  &s->ark, err)) < 0 ||
	    (r = ward_x509_create(&ask_t, s->ask_key, s->ark, s->ark_key, WARD_SIG_RSA_PSS_SHA384,
				  &s->ask, err)) < 0 ||
	    (r = ward_x509_create(&vcek_t, s->vcek_key, s->ask, s->ask_key,
				  WARD_SIG_RSA_PSS_SHA384, &s->vcek, err)) < 0)
		return ward_err_prefix(err, "sim: certificate");
	return 0;
}

static int save_pem(const char *dir, const char *name, const void *data, size_t size, mode_t mode,
		    struct ward_err *err)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return ward_err_set(err, -ENAMETOOLONG, "sim: state path too long");
	return ward_file_write_atomic(path, data, size, mode, err);
}

static int save_key(const char *dir, const char *name, const struct ward_pkey *k,
		    struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pem = NULL;
	int r = ward_pkey_private_pem(k, &pem, err);

	if (r < 0)
		return r;
	return save_pem(dir, name, pem->data, pem->size, 0600, err);
}

static int save_cert(const char *dir, const char *name, const struct ward_x509 *c,
		     struct ward_err *err)
{
	WARD_AUTOFREE char *pem = NULL;
	int r = ward_x509_pem(c, &pem, err);

	if (r < 0)
		return r;
	return save_pem(dir, name, pem, strlen(pem), 0644, err);
}

static int save_state(const char *dir, const struct ward_sim *s, struct ward_err *err)
{
	char hex[2 * 128 + 1];
	uint8_t secrets[128];
	WARD_CLEANUP_ERASE(hex);
	WARD_CLEANUP_ERASE(secrets);
	int r;

	memcpy(secrets, s->chip_id, 64);
	memcpy(secrets + 64, s->report_id, 32);
	memcpy(secrets + 96, s->seal_secret, 32);
	ward_hex_encode(secrets, sizeof(secrets), hex);
	if ((r = save_key(dir, "ark.key", s->ark_key, err)) < 0 ||
	    (r = save_key(dir, "ask.key", s->ask_key, err)) < 0 ||
	    (r = save_key(dir, "vcek.key", s->vcek_key, err)) < 0 ||
	    (r = save_cert(dir, "ask.pem", s->ask, err)) < 0 ||
	    (r = save_cert(dir, "vcek.pem", s->vcek, err)) < 0 ||
	    (r = save_pem(dir, "platform.hex", hex, strlen(hex), 0600, err)) < 0)
		return r;
	/* The ARK certificate last: its presence marks a complete state. */
	return save_cert(dir, "ark.pem", s->ark, err);
}

static int load_file(const char *dir, const char *name, uint8_t **ret, size_t *ret_size,
		     struct ward_err *err)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return ward_err_set(err, -ENAMETOOLONG, "sim: state path too long");
	return ward_file_read(path, SIM_KEY_MAX, ret, ret_size, err);
}

static int load_key(const char *dir, const char *name, struct ward_pkey **ret,
		    struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	int r = load_file(dir, name, &buf, &size, err);

	if (r >= 0)
		r = ward_pkey_from_pem(buf, size, ret, err);
	if (buf)
		ward_wipe(buf, size);
	return r < 0 ? ward_err_prefix(err, "sim: %s", name) : 0;
}

static int load_cert(const char *dir, const char *name, struct ward_x509 **ret,
		     struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	int r = load_file(dir, name, &buf, &size, err);

	if (r >= 0)
		r = ward_x509_from_pem(buf, size, ret, err);
	return r < 0 ? ward_err_prefix(err, "sim: %s", name) : 0;
}

static int load_state(const char *dir, struct ward_sim *s, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *hex = NULL;
	size_t size;
	uint8_t secrets[128];
	WARD_CLEANUP_ERASE(secrets);
	struct ward_x509 *mid[1];
	struct ward_x509_verify_opts vo = {.at = time(NULL)};
	int r;

	if ((r = load_key(dir, "ark.key", &s->ark_key, err)) < 0 ||
	    (r = load_key(dir, "ask.key", &s->ask_key, err)) < 0 ||
	    (r = load_key(dir, "vcek.key", &s->vcek_key, err)) < 0 ||
	    (r = load_cert(dir, "ark.pem", &s->ark, err)) < 0 ||
	    (r = load_cert(dir, "ask.pem", &s->ask, err)) < 0 ||
	    (r = load_cert(dir, "vcek.pem", &s->vcek, err)) < 0)
		return r;
	r = load_file(dir, "platform.hex", &hex, &size, err);
	if (r >= 0)
		r = ward_hex_decode_fixed((char *)hex, size, secrets, sizeof(secrets), err);
	if (hex)
		ward_wipe(hex, size);
	if (r < 0)
		return ward_err_prefix(err, "sim: platform.hex");
	memcpy(s->chip_id, secrets, 64);
	memcpy(s->report_id, secrets + 64, 32);
	memcpy(s->seal_secret, secrets + 96, 32);

	/* A consistent state: the chain verifies and the keys match the certs. */
	mid[0] = s->ask;
	r = ward_x509_verify_chain(s->vcek, mid, 1, &s->ark, 1, &vo, NULL, NULL, err);
	if (r < 0)
		return ward_err_prefix(err, "sim: state in '%s' is inconsistent", dir);
	struct ward_pkey *pub = NULL;
	if ((r = ward_x509_pubkey(s->vcek, &pub, err)) < 0)
		return r;
	bool same = ward_pkey_public_eq(pub, s->vcek_key);
	ward_pkey_free(pub);
	if (!same)
		return ward_err_set(err, -WARD_E_VERIFY, "sim: vcek.key does not match vcek.pem");
	return 0;
}

int ward_sim_open(const char *state_dir, struct ward_sim **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_sim_freep) struct ward_sim *s = calloc(1, sizeof(*s));
	WARD_AUTOCLOSE int lock = -1;
	char path[PATH_MAX];
	int r;

	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return ward_err_errno(err, -errno, "sim: mkdir '%s'", state_dir);
	if (snprintf(path, sizeof(path), "%s/lock", state_dir) >= (int)sizeof(path))
		return ward_err_set(err, -ENAMETOOLONG, "sim: state path too long");
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return ward_err_errno(err, -errno, "sim: lock '%s'", path);
	snprintf(path, sizeof(path), "%s/ark.pem", state_dir);
	if (access(path, F_OK) == 0) {
		r = load_state(state_dir, s, err);
	} else {
		ward_warn("sim TEE: creating an INSECURE development platform in '%s'", state_dir);
		if ((r = ward_random(s->chip_id, sizeof(s->chip_id), err)) < 0 ||
		    (r = ward_random(s->report_id, sizeof(s->report_id), err)) < 0 ||
		    (r = ward_random(s->seal_secret, sizeof(s->seal_secret), err)) < 0 ||
		    (r = make_chain(s, err)) < 0)
			return r;
		r = save_state(state_dir, s, err);
	}
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(s);
	return 0;
}

int ward_sim_report(const struct ward_sim *sim, const struct ward_sim_launch *launch,
		    const uint8_t report_data[64], uint8_t report[WARD_SNP_REPORT_SIZE],
		    struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *sig = NULL;
	size_t sig_size;
	uint64_t tcb = sim_tcb();
	int r;

	memset(report, 0, WARD_SNP_REPORT_SIZE);
	put_u32(report + WARD_SNP_OFF_VERSION, 3);
	put_u32(report + WARD_SNP_OFF_GUEST_SVN, 0);
	put_u64(report + WARD_SNP_OFF_POLICY, launch->policy ? launch->policy : 0x30000);
	put_u32(report + WARD_SNP_OFF_VMPL, launch->vmpl);
	put_u32(report + WARD_SNP_OFF_SIG_ALGO, 1); /* ECDSA P-384 with SHA-384 */
	put_u64(report + WARD_SNP_OFF_CURRENT_TCB, tcb);
	put_u64(report + WARD_SNP_OFF_PLATFORM_INFO, 0x1); /* SMT enabled */
	memcpy(report + WARD_SNP_OFF_REPORT_DATA, report_data, 64);
	memcpy(report + WARD_SNP_OFF_MEASUREMENT, launch->measurement, 48);
	memcpy(report + WARD_SNP_OFF_HOST_DATA, launch->host_data, 32);
	memcpy(report + WARD_SNP_OFF_REPORT_ID, sim->report_id, 32);
	memset(report + WARD_SNP_OFF_REPORT_ID_MA, 0xff, 32);
	put_u64(report + WARD_SNP_OFF_REPORTED_TCB, tcb);
	report[WARD_SNP_OFF_CPUID_FAM] = 0x19; /* Genoa-shaped */
	report[WARD_SNP_OFF_CPUID_MOD] = 0x11;
	report[WARD_SNP_OFF_CPUID_STEP] = 0x01;
	memcpy(report + WARD_SNP_OFF_CHIP_ID, sim->chip_id, 64);
	put_u64(report + WARD_SNP_OFF_COMMITTED_TCB, tcb);
	/* BUILD, MINOR, MAJOR */
	memcpy(report + WARD_SNP_OFF_CURRENT_BUILD, (const uint8_t[]){1, 55, 1}, 3);
	memcpy(report + WARD_SNP_OFF_COMMITTED_BUILD, (const uint8_t[]){1, 55, 1}, 3);
	put_u64(report + WARD_SNP_OFF_LAUNCH_TCB, tcb);

	/* Nettle's P-384 when possible: the same signature format, ~6x faster. */
	r = ward_sign_fast(sim->vcek_key, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, report,
			   WARD_SNP_SIGNED_SIZE, &sig, &sig_size, err);
	if (r < 0)
		return ward_err_prefix(err, "sim: signing report");
	if (sig_size != 96)
		return ward_err_set(err, -WARD_E_CRYPTO, "sim: unexpected signature size %zu",
				    sig_size);
	/* r and s, little-endian, in 72-byte fields (upper bytes zero). */
	memcpy(report + WARD_SNP_OFF_SIG_R, sig, 48);
	memcpy(report + WARD_SNP_OFF_SIG_S, sig + 48, 48);
	return 0;
}

int ward_sim_cert_table(const struct ward_sim *sim, uint8_t **ret, size_t *ret_size,
			struct ward_err *err)
{
	/* GUIDs from the GHCB specification, in the byte order the table uses. */
	static const uint8_t guids[3][16] = {
		{0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b,
		 0xe8, 0xac, 0xcd}, /* VCEK */
		{0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3,
		 0x27, 0xc7, 0x82}, /* ASK */
		{0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01,
		 0x4c, 0xd0, 0xae}, /* ARK */
	};
	const struct ward_x509 *certs[3] = {sim->vcek, sim->ask, sim->ark};
	uint8_t *der[3] = {NULL, NULL, NULL};
	size_t der_size[3], header = 4 * 24, total, off;
	uint8_t *out;
	int r = 0;

	for (int i = 0; i < 3 && r == 0; i++)
		r = ward_x509_der(certs[i], &der[i], &der_size[i], err);
	if (r < 0)
		goto out;
	total = header + der_size[0] + der_size[1] + der_size[2];
	out = calloc(1, total);
	if (!out) {
		r = ward_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	off = header;
	for (int i = 0; i < 3; i++) {
		memcpy(out + 24 * i, guids[i], 16);
		put_u32(out + 24 * i + 16, (uint32_t)off);
		put_u32(out + 24 * i + 20, (uint32_t)der_size[i]);
		memcpy(out + off, der[i], der_size[i]);
		off += der_size[i];
	}
	*ret = out;
	*ret_size = total;
out:
	for (int i = 0; i < 3; i++)
		free(der[i]);
	return r;
}

const struct ward_x509 *ward_sim_ark(const struct ward_sim *sim)
{
	return sim->ark;
}

const struct ward_x509 *ward_sim_ask(const struct ward_sim *sim)
{
	return sim->ask;
}

const struct ward_x509 *ward_sim_vcek(const struct ward_sim *sim)
{
	return sim->vcek;
}

int ward_sim_sealing_key(const struct ward_sim *sim, const uint8_t measurement[48],
			 uint8_t out[32], struct ward_err *err)
{
	return ward_hkdf(WARD_HASH_SHA256, sim->seal_secret, sizeof(sim->seal_secret),
			 "ward-sim-seal-v1", 16, measurement, 48, out, 32, err);
}

int ward_sim_load_ark(const char *state_dir, struct ward_x509 **ret, struct ward_err *err)
{
	return load_cert(state_dir, "ark.pem", ret, err);
}

int ward_sim_image_measurement(const char *config_digest, uint8_t out[48], struct ward_err *err)
{
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	int r;

	if (!config_digest || !ward_startswith(config_digest, "sha256:") ||
	    strlen(config_digest) != 7 + 64)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "config digest '%.80s' is not sha256:<64 hex>",
				    config_digest ? config_digest : "");
	if ((r = ward_hash_new(WARD_HASH_SHA384, &h, err)) < 0 ||
	    (r = ward_hash_update(h, "ward-sim-v1:", 12, err)) < 0 ||
	    (r = ward_hash_update(h, config_digest, strlen(config_digest), err)) < 0 ||
	    (r = ward_hash_final(h, out, err)) < 0)
		return r;
	return 0;
}

int ward_sim_listen(const char *path, int *ret_fd, struct ward_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	WARD_AUTOCLOSE int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ward_err_set(err, -ENAMETOOLONG, "sim: socket path '%s' too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "sim: socket");
	(void)unlink(path); /* a stale socket from an earlier run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ward_err_errno(err, -errno, "sim: bind '%s'", path);
	if (listen(fd, 16) < 0)
		return ward_err_errno(err, -errno, "sim: listen '%s'", path);
	*ret_fd = WARD_TAKE_FD(fd);
	return 0;
}

/* Read exactly the fixed-size request, with a deadline. UNTRUSTED bytes. */
static int read_request(int fd, uint8_t *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

int ward_sim_parse_request(const uint8_t *buf, size_t size, uint8_t report_data[64])
{
	struct ward_cur c = ward_cur_make(buf, size);
	const uint8_t *magic, *rd;
	uint16_t version, flags;

	if (ward_cur_take(&c, 4, &magic) < 0 || memcmp(magic, WARD_SIM_MAGIC, 4) != 0 ||
	    ward_cur_u16le(&c, &version) < 0 || version != WARD_SIM_VERSION ||
	    ward_cur_u16le(&c, &flags) < 0 || flags != 0 || ward_cur_take(&c, 64, &rd) < 0 ||
	    !ward_cur_empty(&c))
		return -WARD_E_MALFORMED;
	memcpy(report_data, rd, 64);
	return 0;
}

static void serve_one(const struct ward_sim *sim, const struct ward_sim_launch *launch, int fd)
{
	uint8_t req[72], rd[64], report[WARD_SNP_REPORT_SIZE], hdr[8], len[4];
	WARD_AUTOFREE uint8_t *table = NULL;
	size_t table_size = 0;
	struct ward_err err = WARD_ERR_INIT;
	uint16_t status = 0;

	if (read_request(fd, req, sizeof(req)) < 0)
		return;
	if (ward_sim_parse_request(req, sizeof(req), rd) < 0) {
		ward_warn("sim TEE: malformed request refused");
		status = 1;
	} else if (ward_sim_report(sim, launch, rd, report, &err) < 0 ||
		   ward_sim_cert_table(sim, &table, &table_size, &err) < 0) {
		ward_error("sim TEE: %s", err.msg);
		status = 2;
	} else {
		ward_warn("sim TEE (INSECURE): signed a report (not hardware-backed)");
	}
	memcpy(hdr, WARD_SIM_MAGIC, 4);
	hdr[4] = WARD_SIM_VERSION, hdr[5] = 0;
	hdr[6] = (uint8_t)status, hdr[7] = (uint8_t)(status >> 8);
	if (ward_fd_write_all(fd, hdr, sizeof(hdr), NULL) < 0 || status != 0)
		return;
	put_u32(len, WARD_SNP_REPORT_SIZE);
	if (ward_fd_write_all(fd, len, 4, NULL) < 0 ||
	    ward_fd_write_all(fd, report, sizeof(report), NULL) < 0)
		return;
	put_u32(len, (uint32_t)table_size);
	if (ward_fd_write_all(fd, len, 4, NULL) < 0)
		return;
	(void)ward_fd_write_all(fd, table, table_size, NULL);
}

int ward_sim_serve(const struct ward_sim *sim, const struct ward_sim_launch *launch,
		   int listen_fd, volatile int *stop, struct ward_err *err)
{
	while (!stop || !*stop) {
		struct pollfd p = {.fd = listen_fd, .events = POLLIN};
		int r = poll(&p, 1, 200), fd;

		if (r < 0 && errno != EINTR)
			return ward_err_errno(err, -errno, "sim: poll");
		if (r <= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			return ward_err_errno(err, -errno, "sim: accept");
		}
		serve_one(sim, launch, fd);
		(void)close(fd);
	}
	return 0;
}
