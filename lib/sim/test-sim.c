/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/sim.h"
#include "ward/tee.h"

/* One platform for every test process of this build: creating it costs two
 * RSA-4096 keys (seconds). ward_sim_open() locks, so parallel cases share it. */
static char g_state[512];
static struct ward_sim *g_sim;

static struct ward_sim *platform(void)
{
	struct ward_err err = WARD_ERR_INIT;

	if (g_sim)
		return g_sim;
	snprintf(g_state, sizeof(g_state), "%s/test-sim-platform", WARD_BINARY_DIR);
	if (ward_sim_open(g_state, &g_sim, &err) < 0) {
		fprintf(stderr, "sim platform: %s\n", err.msg);
		abort();
	}
	return g_sim;
}

__attribute__((destructor)) static void cleanup(void)
{
	ward_sim_free(g_sim);
}

static const uint8_t rd[64] = {0xde, 0xad, 0xbe, 0xef, [63] = 1};

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

WARD_TEST(report_signed_by_vcek)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_sim *sim = platform();
	struct ward_sim_launch launch = {.measurement = {1, 2, 3}, .host_data = {9}};
	uint8_t report[WARD_SNP_REPORT_SIZE], sig[96];
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *vcek = NULL;

	CHECK_OK(ward_sim_report(sim, &launch, rd, report, &err), &err);
	CHECK_INT(report[0], ==, 3);                 /* version */
	CHECK(le64(report + 0x08) == 0x30000);       /* default policy: no debug */
	CHECK_MEM(report + 0x50, rd, 64);            /* report data */
	CHECK_MEM(report + 0x90, launch.measurement, 48);
	CHECK_MEM(report + 0xC0, launch.host_data, 32);
	CHECK(le64(report + 0x180) == le64(report + 0x38)); /* reported == current TCB */
	for (int i = 48; i < 72; i++)
		CHECK(report[0x2A0 + i] == 0 && report[0x2E8 + i] == 0);
	memcpy(sig, report + 0x2A0, 48);
	memcpy(sig + 48, report + 0x2E8, 48);
	CHECK_OK(ward_x509_pubkey(ward_sim_vcek(sim), &vcek, &err), &err);
	CHECK_OK(ward_verify(vcek, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, report, 0x2A0, sig,
			     sizeof(sig), &err), &err);
	report[0x90] ^= 1; /* a changed measurement no longer verifies */
	CHECK_ERR(ward_verify(vcek, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, report, 0x2A0, sig,
			      sizeof(sig), &err), -WARD_E_VERIFY);
}

WARD_TEST(chain_is_amd_shaped)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_sim *sim = platform();
	struct ward_x509 *mid[1] = {(struct ward_x509 *)ward_sim_ask(sim)};
	struct ward_x509 *root[1] = {(struct ward_x509 *)ward_sim_ark(sim)};
	struct ward_x509_verify_opts vo = {.at = time(NULL)};
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ark = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *vk = NULL;
	const uint8_t *ext;
	size_t ext_size;

	CHECK_OK(ward_x509_verify_chain(ward_sim_vcek(sim), mid, 1, root, 1, &vo, NULL, NULL, &err),
		 &err);
	CHECK_OK(ward_x509_pubkey(ward_sim_ark(sim), &ark, &err), &err);
	CHECK_INT(ward_pkey_type(ark), ==, WARD_KEY_RSA);
	CHECK_INT(ward_pkey_bits(ark), ==, 4096);
	CHECK_STR(ward_x509_sig_alg_name(ward_sim_vcek(sim)), "RSASSA-PSS");
	CHECK_OK(ward_x509_pubkey(ward_sim_vcek(sim), &vk, &err), &err);
	CHECK_INT(ward_pkey_type(vk), ==, WARD_KEY_EC_P384);
	/* blSPL = 3 as a DER INTEGER, HWID = the raw 64-byte chip id, as AMD's */
	CHECK_OK(ward_x509_extension(ward_sim_vcek(sim), "1.3.6.1.4.1.3704.1.3.1", &ext, &ext_size,
				     &err), &err);
	CHECK_INT(ext_size, ==, 3);
	CHECK(ext[0] == 0x02 && ext[2] == 3);
	CHECK_OK(ward_x509_extension(ward_sim_vcek(sim), "1.3.6.1.4.1.3704.1.4", &ext, &ext_size,
				     &err), &err);
	CHECK_INT(ext_size, ==, 64);
}

WARD_TEST(reopen_keeps_root)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_sim *sim = platform();
	WARD_CLEANUP(ward_sim_freep) struct ward_sim *again = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	uint8_t a[32], b[32], c[32];

	CHECK_OK(ward_sim_open(g_state, &again, &err), &err);
	CHECK_OK(ward_x509_fingerprint(ward_sim_ark(sim), a, &err), &err);
	CHECK_OK(ward_x509_fingerprint(ward_sim_ark(again), b, &err), &err);
	CHECK_MEM(a, b, 32);
	CHECK_OK(ward_sim_load_ark(g_state, &ark, &err), &err);
	CHECK_OK(ward_x509_fingerprint(ark, c, &err), &err);
	CHECK_MEM(a, c, 32);
	CHECK_ERR(ward_sim_load_ark("/nonexistent", &ark, &err), -ENOENT);
}

WARD_TEST(inconsistent_state_refused)
{
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-test-sim2-XXXXXX", cmd[256];
	struct ward_sim *s = NULL;

	platform();
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "cp %s/* %s/ && cp %s/ask.key %s/vcek.key", g_state, dir,
		 g_state, dir);
	CHECK(system(cmd) == 0);
	CHECK(ward_sim_open(dir, &s, &err) < 0);
	CHECK(s == NULL);
	CHECK_MSG(&err, "sim");
	snprintf(cmd, sizeof(cmd), "cp %s/vcek.key %s/ && echo -n zz > %s/platform.hex", g_state,
		 dir, dir);
	CHECK(system(cmd) == 0);
	CHECK_ERR(ward_sim_open(dir, &s, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "platform.hex");
	(void)ward_rm_rf(dir, NULL);
}

WARD_TEST(cert_table_layout)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *t = NULL;
	size_t size;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;

	CHECK_OK(ward_sim_cert_table(platform(), &t, &size, &err), &err);
	CHECK(t[0] == 0x63 && t[24] == 0x4a && t[48] == 0xc0); /* VCEK, ASK, ARK GUIDs */
	for (int i = 72; i < 96; i++)
		CHECK(t[i] == 0); /* terminator entry */
	uint32_t off = t[16] | t[17] << 8 | t[18] << 16 | (uint32_t)t[19] << 24;
	uint32_t len = t[20] | t[21] << 8 | t[22] << 16 | (uint32_t)t[23] << 24;
	CHECK_INT(off, ==, 96);
	CHECK(off + len <= size);
	CHECK_OK(ward_x509_from_der(t + off, len, &vcek, &err), &err);
}

struct server {
	int fd;
	volatile int stop;
	struct ward_sim_launch launch;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	(void)ward_sim_serve(platform(), &s->launch, s->fd, &s->stop, NULL);
	return NULL;
}

WARD_TEST(socket_round_trip)
{
	struct ward_err err = WARD_ERR_INIT;
	char path[] = "/tmp/ward-test-simsock-XXXXXX";
	struct server srv = {.launch = {.measurement = {7}}};
	struct ward_tee_evidence *ev = NULL;
	pthread_t th;
	int fd;

	platform();
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_OK(ward_sim_listen(path, &srv.fd, &err), &err);
	CHECK(pthread_create(&th, NULL, serve, &srv) == 0);
	CHECK_OK(ward_tee_sim_collect(path, rd, &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_SIM);
	CHECK_INT(ev->outblob_size, ==, WARD_SNP_REPORT_SIZE);
	CHECK_MEM(ev->outblob + 0x50, rd, 64);
	CHECK(ev->outblob[0x90] == 7);
	CHECK(ev->auxblob_size > 96);
	ward_tee_evidence_free(ev);
	/* a malformed request gets a refusal, not a report */
	{
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		uint8_t junk[72] = "XSIM", resp[64];
		strcpy(sa.sun_path, path);
		CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		CHECK(write(c, junk, sizeof(junk)) == sizeof(junk));
		CHECK(read(c, resp, sizeof(resp)) == 8);
		CHECK(resp[6] == 1);
		close(c);
	}
	srv.stop = 1;
	pthread_join(th, NULL);
	close(srv.fd);
	unlink(path);
	CHECK_ERR(ward_tee_sim_collect(path, rd, &ev, &err), -ENOENT);
	CHECK_MSG(&err, "connect");
}

WARD_TEST(sealing_key_per_measurement)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t m1[48] = {1}, m2[48] = {2}, k1[32], k1b[32], k2[32];

	CHECK_OK(ward_sim_sealing_key(platform(), m1, k1, &err), &err);
	CHECK_OK(ward_sim_sealing_key(platform(), m1, k1b, &err), &err);
	CHECK_OK(ward_sim_sealing_key(platform(), m2, k2, &err), &err);
	CHECK_MEM(k1, k1b, 32);
	CHECK(memcmp(k1, k2, 32) != 0);
}

WARD_TEST(image_measurement)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t m[48], want[48];
	char digest[7 + 65] = "sha256:";

	for (int i = 0; i < 32; i++)
		strcat(digest, "ab");
	CHECK_OK(ward_sim_image_measurement(digest, m, &err), &err);
	ward_test_unhex("495177a46f75bdd3acde2f46a637e542f12d144d3da53a7f415c8f7ac592709f"
			"76bc4a1c24af46af5da07182898dad66", want, sizeof(want));
	CHECK_MEM(m, want, 48);
	CHECK_ERR(ward_sim_image_measurement("sha256:abc", m, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_sim_image_measurement("sha512:", m, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_sim_image_measurement(NULL, m, &err), -WARD_E_MALFORMED);
}

WARD_TEST(request_parser)
{
	uint8_t req[73] = "WSIM\x01\x00\x00\x00", out[64];

	for (int i = 0; i < 64; i++)
		req[8 + i] = (uint8_t)i;
	CHECK_OK(ward_sim_parse_request(req, 72, out), NULL);
	CHECK(out[63] == 63);
	CHECK_ERR(ward_sim_parse_request(req, 71, out), -WARD_E_MALFORMED); /* short */
	CHECK_ERR(ward_sim_parse_request(req, 73, out), -WARD_E_MALFORMED); /* trailing */
	req[4] = 2;
	CHECK_ERR(ward_sim_parse_request(req, 72, out), -WARD_E_MALFORMED); /* version */
	req[4] = 1, req[6] = 1;
	CHECK_ERR(ward_sim_parse_request(req, 72, out), -WARD_E_MALFORMED); /* flags */
	req[6] = 0, req[0] = 'X';
	CHECK_ERR(ward_sim_parse_request(req, 72, out), -WARD_E_MALFORMED); /* magic */
}

WARD_TEST_MAIN()
