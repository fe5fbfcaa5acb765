/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 and CRLs against real AMD (RSASSA-PSS) and Intel (ECDSA) vendor
 * certificates from the shared vectors, plus a throwaway test PKI for
 * revocation and duplicate-extension cases. */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/util.h"

/* A throwaway test PKI made with `openssl ca` for these tests only (not
 * vendor data): root and intermediate EC P-256 CAs, a P-384 leaf with
 * private extensions 1.2.3.4 (INTEGER 3) and 1.2.3.5, an empty root CRL and
 * one revoking the intermediate. Valid 2020-01-01 .. 2040-01-01; the CRLs
 * from 2026-11-28. */
static const char pki_root[] = "-----BEGIN CERTIFICATE-----\n"
			       "MIIBZDCCAQqgAwIBAgICEAAwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOV2FyZCBU\n"
			       "ZXN0IFJvb3QwHhcNMjAwMTAxMDAwMDAwWhcNNDAwMTAxMDAwMDAwWjAZMRcwFQYD\n"
			       "VQQDDA5XYXJkIFRlc3QgUm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFkq\n"
			       "QHBFyTED5E1MQ+3nGXSwMYDbgwp/IX7lDfR4jBe60pzhBXzb/1PvZ90ko9qbGDMQ\n"
			       "Qaedv9FmaMePJPfi9f6jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n"
			       "AgEGMB0GA1UdDgQWBBSxIEahq7kFvJIAUg031sWJk+7+yzAKBggqhkjOPQQDAgNI\n"
			       "ADBFAiEAujF2HEGi8FIEmnJIG27MHKAxjjKEbzRZkBZhzow4RR4CIDcX1Q3SknJr\n"
			       "JO4t3HEaqn6FxIqbYl85dUE9eI9FvABO\n"
			       "-----END CERTIFICATE-----\n";
static const char pki_inter[] = "-----BEGIN CERTIFICATE-----\n"
				"MIIBjDCCATOgAwIBAgICEAEwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOV2FyZCBU\n"
				"ZXN0IFJvb3QwHhcNMjAwMTAxMDAwMDAwWhcNNDAwMTAxMDAwMDAwWjAhMR8wHQYD\n"
				"VQQDDBZXYXJkIFRlc3QgSW50ZXJtZWRpYXRlMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
				"AQcDQgAEcMivRpbpwQN9IOtR1AMgt+D/RQpnlIP0VicOhe2i7JPzre2/bTQbIHzX\n"
				"960DnQXN1DgNcLwGR7fM2pHe7byRUKNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNV\n"
				"HQ8BAf8EBAMCAQYwHQYDVR0OBBYEFEwrBlZI/ub5bHqHB/WLUtxXWs7pMB8GA1Ud\n"
				"IwQYMBaAFLEgRqGruQW8kgBSDTfWxYmT7v7LMAoGCCqGSM49BAMCA0cAMEQCICO4\n"
				"tPqlu494rqt49X3M4CzO+Su4Zba8Y7hjqZfa1/y3AiAxOgsftudAlBNOuwFToTTu\n"
				"7qjg/i7trCpM2loG1Sjidw==\n"
				"-----END CERTIFICATE-----\n";
static const char pki_leaf[] = "-----BEGIN CERTIFICATE-----\n"
			       "MIIBvzCCAWWgAwIBAgICEAIwCgYIKoZIzj0EAwIwITEfMB0GA1UEAwwWV2FyZCBU\n"
			       "ZXN0IEludGVybWVkaWF0ZTAeFw0yMDAxMDEwMDAwMDBaFw00MDAxMDEwMDAwMDBa\n"
			       "MBkxFzAVBgNVBAMMDldhcmQgVGVzdCBMZWFmMHYwEAYHKoZIzj0CAQYFK4EEACID\n"
			       "YgAEK9tSFp79urW8OKO51xSUX+Gl7kIT1OPLpESByqKnoRNKCi0xAUmBmgP7MDPO\n"
			       "meF3q+XxylIXDIbju33K4LCeSGImvnn9IB7w2AqDPhDbiuiazkJuzuabo9bYEXkN\n"
			       "Ychxo3gwdjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAKBgMqAwQEAwIB\n"
			       "AzAKBgMqAwUEAwIBBDAdBgNVHQ4EFgQUnuXi+O4fR1cwz3hRpf1p0QsPCOcwHwYD\n"
			       "VR0jBBgwFoAUTCsGVkj+5vlseocH9YtS3FdazukwCgYIKoZIzj0EAwIDSAAwRQIg\n"
			       "U+14bTLzJnYR2srhBemrYHT9Yt8lX1RNzlsBLmHK5vICIQCEcen2p4qvhiZxzYt5\n"
			       "oh/MEfl3azBrC9ewOlc19Qm/YQ==\n"
			       "-----END CERTIFICATE-----\n";
static const char pki_crl_empty[] =
    "-----BEGIN X509 CRL-----\n"
    "MIGvMFgCAQEwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOV2FyZCBUZXN0IFJvb3QX\n"
    "DTI2MTEyODA1MzczM1oXDTM2MTEyNTA1MzczM1qgDjAMMAoGA1UdFAQDAgEBMAoG\n"
    "CCqGSM49BAMCA0cAMEQCIGRNojjDEWut1VG6Ub5cW2H24CwhMISo61wTTbhfIJFI\n"
    "AiBzWpc/xSaJdW8HA4sSKTRV/ugIWP4GGa3Cvfnpvzv89Q==\n"
    "-----END X509 CRL-----\n";
static const char pki_crl_revoked[] =
    "-----BEGIN X509 CRL-----\n"
    "MIHHMG8CAQEwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOV2FyZCBUZXN0IFJvb3QX\n"
    "DTI2MTEyODA1MzczM1oXDTM2MTEyNTA1MzczM1owFTATAgIQARcNMjYxMTI4MDUz\n"
    "NzMzWqAOMAwwCgYDVR0UBAMCAQIwCgYIKoZIzj0EAwIDSAAwRQIgemh03KOWMvHr\n"
    "l0/UdpzE83wLyZAU5M25D4zdiDIKRmACIQC9PWg/rdzuV1nRUTesbhzOT+zYmFlM\n"
    "RbsheRg2RwSEFQ==\n"
    "-----END X509 CRL-----\n";

/* Self-signed test certificates without a CN and with two CNs. */
static const char cert_no_cn[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBijCCAS+gAwIBAgIUMCnvwyvnK7QlFNtmTzbfw19w8nQwCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UECgwPV2FyZCBUZXN0IE5vIENOMB4XDTI2MTEyODA1NDM1M1oXDTM2\n"
    "MTEyNTA1NDM1M1owGjEYMBYGA1UECgwPV2FyZCBUZXN0IE5vIENOMFkwEwYHKoZI\n"
    "zj0CAQYIKoZIzj0DAQcDQgAEWSpAcEXJMQPkTUxD7ecZdLAxgNuDCn8hfuUN9HiM\n"
    "F7rSnOEFfNv/U+9n3SSj2psYMxBBp52/0WZox48k9+L1/qNTMFEwHQYDVR0OBBYE\n"
    "FLEgRqGruQW8kgBSDTfWxYmT7v7LMB8GA1UdIwQYMBaAFLEgRqGruQW8kgBSDTfW\n"
    "xYmT7v7LMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAI/NwUmr\n"
    "l+WgWZdcGPO4gw9Of4kEvdfYd8auRMoE0MAwAiEA3IOhW4DXlkpDtvP64U22dO5E\n"
    "qCPDtl3ZejY+aZOWDCE=\n"
    "-----END CERTIFICATE-----\n";
static const char cert_two_cn[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlzCCAT2gAwIBAgIUSuZt1GF86Z9OKr7pb3l8g/XHoVYwCgYIKoZIzj0EAwIw\n"
    "ITEOMAwGA1UEAwwFZmlyc3QxDzANBgNVBAMMBnNlY29uZDAeFw0yNjExMjgwNTQz\n"
    "NTNaFw0zNjExMjUwNTQzNTNaMCExDjAMBgNVBAMMBWZpcnN0MQ8wDQYDVQQDDAZz\n"
    "ZWNvbmQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARZKkBwRckxA+RNTEPt5xl0\n"
    "sDGA24MKfyF+5Q30eIwXutKc4QV82/9T72fdJKPamxgzEEGnnb/RZmjHjyT34vX+\n"
    "o1MwUTAdBgNVHQ4EFgQUsSBGoau5BbySAFINN9bFiZPu/sswHwYDVR0jBBgwFoAU\n"
    "sSBGoau5BbySAFINN9bFiZPu/sswDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD\n"
    "AgNIADBFAiAXBhZHojWpx/DrgwbvKe3BVlXUEcwsLH5r6qF+NRuqcAIhANk8nk8D\n"
    "+igAxANIQmzruqBa7HenT3ybkUfg5CR7SQd2\n"
    "-----END CERTIFICATE-----\n";

static void free_buf(uint8_t **p)
{
	free(*p);
}
#define AUTOBUF WARD_CLEANUP(free_buf)

struct certs {
	struct ward_x509 **v;
	size_t n;
};
static void certs_free(struct certs *c)
{
	ward_x509_list_free(c->v, c->n);
}
#define AUTOCERTS WARD_CLEANUP(certs_free)

/* Read a vector file; NULL (and a note) if the vectors are absent. */
static uint8_t *read_vector(const char *rel, size_t *size)
{
	const char *path = ward_test_vector(rel);
	struct ward_err err = WARD_ERR_INIT;
	uint8_t *buf = NULL;

	if (!path) {
		fprintf(stderr, "SKIP: vector %s not available\n", rel);
		return NULL;
	}
	if (ward_file_read(path, 1 << 20, &buf, size, &err) < 0) {
		fprintf(stderr, "SKIP: %s: %s\n", rel, err.msg);
		return NULL;
	}
	return buf;
}

static time_t at(const char *rfc3339)
{
	time_t t = 0;

	if (ward_time_parse_rfc3339(rfc3339, &t, NULL) < 0)
		abort();
	return t;
}

static const char vcek_path[] = "snp/milan-v2-trustee/vcek.der";
static const char ask_ark_path[] = "roots/amd/milan_ask_ark.pem";

/* Load VCEK, [ASK, ARK]; false if vectors are missing. */
static bool load_amd(struct ward_x509 **vcek, struct certs *ask_ark)
{
	struct ward_err err = WARD_ERR_INIT;
	AUTOBUF uint8_t *der = NULL;
	AUTOBUF uint8_t *pem = NULL;
	size_t der_n, pem_n;

	der = read_vector(vcek_path, &der_n);
	pem = read_vector(ask_ark_path, &pem_n);
	if (!der || !pem)
		return false;
	if (ward_x509_from_der(der, der_n, vcek, &err) < 0 ||
	    ward_x509_list_from_pem(pem, pem_n, 8, &ask_ark->v, &ask_ark->n, &err) < 0) {
		fprintf(stderr, "load_amd: %s\n", err.msg);
		abort();
	}
	return true;
}

WARD_TEST(x509_amd_parse_and_accessors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	AUTOCERTS struct certs aa = {0};
	WARD_AUTOFREE char *subject = NULL;
	WARD_AUTOFREE char *issuer = NULL;
	WARD_AUTOFREE char *cn = NULL;
	WARD_AUTOFREE char *serial = NULL;
	WARD_AUTOFREE char *pem = NULL;
	AUTOBUF uint8_t *der = NULL;
	AUTOBUF uint8_t *raw = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *again = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	time_t nb, na;
	uint8_t fp[32];
	char fp_hex[65];
	size_t der_n, raw_n;

	if (!load_amd(&vcek, &aa))
		return;
	CHECK_INT(aa.n, ==, 2);
	CHECK_OK(ward_x509_subject(vcek, &subject, &err), &err);
	CHECK_STR(subject,
		  "CN=SEV-VCEK,O=Advanced Micro Devices,ST=CA,L=Santa Clara,C=US,OU=Engineering");
	CHECK_OK(ward_x509_issuer(vcek, &issuer, &err), &err);
	CHECK(strstr(issuer, "CN=SEV-Milan,") == issuer);
	CHECK_OK(ward_x509_common_name(vcek, &cn, &err), &err);
	CHECK_STR(cn, "SEV-VCEK");
	free(cn);
	cn = NULL;
	CHECK_OK(ward_x509_common_name(aa.v[1], &cn, &err), &err);
	CHECK_STR(cn, "ARK-Milan");
	CHECK_STR(ward_x509_sig_alg_name(vcek), "RSASSA-PSS");
	CHECK_STR(ward_x509_sig_alg_name(aa.v[0]), "RSASSA-PSS");

	/* VCEK valid 2023-01-24T17:58:26Z -> 2030-01-24T17:58:26Z (PROVENANCE) */
	CHECK_OK(ward_x509_validity(vcek, &nb, &na, &err), &err);
	CHECK_INT(nb, ==, at("2023-01-24T17:58:26Z"));
	CHECK_INT(na, ==, at("2030-01-24T17:58:26Z"));

	/* ASK / ARK fingerprints (PROVENANCE table prefixes) */
	CHECK_OK(ward_x509_fingerprint(aa.v[0], fp, &err), &err);
	ward_hex_encode(fp, 32, fp_hex);
	CHECK(strncmp(fp_hex, "67d303bd3905fd38db8b20e079369987", 32) == 0);
	CHECK_OK(ward_x509_fingerprint(aa.v[1], fp, &err), &err);
	ward_hex_encode(fp, 32, fp_hex);
	CHECK(strncmp(fp_hex, "69d063b45344d26a2e94e1f4210de49e", 32) == 0);

	/* ARK serial 0x010000 in minimal hex bytes */
	CHECK_OK(ward_x509_serial_hex(aa.v[1], &serial, &err), &err);
	CHECK_STR(serial, "010000");

	/* VCEK key is P-384; ARK/ASK RSA-4096 */
	CHECK_OK(ward_x509_pubkey(vcek, &pub, &err), &err);
	CHECK_INT(ward_pkey_type(pub), ==, WARD_KEY_EC_P384);
	pub = ward_pkey_free(pub);
	CHECK_OK(ward_x509_pubkey(aa.v[1], &pub, &err), &err);
	CHECK_INT(ward_pkey_type(pub), ==, WARD_KEY_RSA);
	CHECK_INT(ward_pkey_bits(pub), ==, 4096);

	/* DER and PEM round trips give the same certificate */
	raw = read_vector(vcek_path, &raw_n);
	CHECK(raw);
	CHECK_OK(ward_x509_der(vcek, &der, &der_n, &err), &err);
	CHECK_INT(der_n, ==, raw_n);
	CHECK_MEM(der, raw, raw_n);
	CHECK_OK(ward_x509_pem(vcek, &pem, &err), &err);
	CHECK_OK(ward_x509_from_pem(pem, strlen(pem), &again, &err), &err);
	uint8_t fp2[32];
	CHECK_OK(ward_x509_fingerprint(vcek, fp, &err), &err);
	CHECK_OK(ward_x509_fingerprint(again, fp2, &err), &err);
	CHECK_MEM(fp, fp2, 32);
	CHECK(ward_x509_ref(vcek) == vcek);
	ward_x509_free(vcek);
}

WARD_TEST(x509_amd_extensions)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	AUTOCERTS struct certs aa = {0};
	const uint8_t *v = NULL;
	size_t n = 0;
	uint8_t chip_id[64];

	if (!load_amd(&vcek, &aa))
		return;
	/* blSPL = INTEGER 3 */
	CHECK_OK(ward_x509_extension(vcek, "1.3.6.1.4.1.3704.1.3.1", &v, &n, &err), &err);
	CHECK_INT(n, ==, 3);
	CHECK_MEM(v, "\x02\x01\x03", 3);
	/* snpSPL = 8, ucodeSPL = 115 */
	CHECK_OK(ward_x509_extension(vcek, "1.3.6.1.4.1.3704.1.3.3", &v, &n, &err), &err);
	CHECK_INT(n, ==, 3);
	CHECK_MEM(v, "\x02\x01\x08", 3);
	CHECK_OK(ward_x509_extension(vcek, "1.3.6.1.4.1.3704.1.3.8", &v, &n, &err), &err);
	CHECK_INT(n, ==, 3);
	CHECK_MEM(v, "\x02\x01\x73", 3);
	/* HWID: extnValue holds the report's 64-byte CHIP_ID as raw bytes (AMD
	 * does not wrap it in an inner OCTET STRING) */
	ward_test_unhex("c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f"
			"8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e",
			chip_id, 64);
	CHECK_OK(ward_x509_extension(vcek, "1.3.6.1.4.1.3704.1.4", &v, &n, &err), &err);
	CHECK_INT(n, ==, 64);
	CHECK_MEM(v, chip_id, 64);
	/* absent, and not an OID */
	CHECK_ERR(ward_x509_extension(vcek, "1.3.6.1.4.1.3704.1.3.9", &v, &n, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "1.3.6.1.4.1.3704.1.3.9");
	CHECK_ERR(ward_x509_extension(vcek, "2.5.29.19", &v, &n, &err), -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_x509_extension(vcek, "commonName", &v, &n, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_x509_extension(vcek, "", &v, &n, &err), -WARD_E_USAGE);
	/* the ASK does have basicConstraints (CA:TRUE, pathlen 0) */
	CHECK_OK(ward_x509_extension(aa.v[0], "2.5.29.19", &v, &n, &err), &err);
	CHECK_INT(n, ==, 8);
	CHECK_MEM(v, "\x30\x06\x01\x01\xff\x02\x01\x00", 8);
}

WARD_TEST(x509_amd_check_issued_by)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	AUTOCERTS struct certs aa = {0};

	if (!load_amd(&vcek, &aa))
		return;
	CHECK_OK(ward_x509_check_issued_by(vcek, aa.v[0], &err), &err);
	CHECK_OK(ward_x509_check_issued_by(aa.v[0], aa.v[1], &err), &err);
	CHECK_OK(ward_x509_check_issued_by(aa.v[1], aa.v[1], &err), &err);
	CHECK_ERR(ward_x509_check_issued_by(vcek, aa.v[1], &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "not issued by");
	CHECK_ERR(ward_x509_check_issued_by(aa.v[1], aa.v[0], &err), -WARD_E_VERIFY);
}

WARD_TEST(x509_amd_chain)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	AUTOCERTS struct certs aa = {0};
	AUTOCERTS struct certs chain = {0};
	struct ward_x509_verify_opts opts = {.at = at("2024-01-01T00:00:00Z")};
	WARD_AUTOFREE char *cn = NULL;
	uint8_t a[32], b[32];

	if (!load_amd(&vcek, &aa))
		return;
	CHECK_OK(
	    ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, &chain.v, &chain.n, &err),
	    &err);
	CHECK_INT(chain.n, ==, 3);
	CHECK_OK(ward_x509_fingerprint(chain.v[0], a, &err), &err);
	CHECK_OK(ward_x509_fingerprint(vcek, b, &err), &err);
	CHECK_MEM(a, b, 32);
	CHECK_OK(ward_x509_common_name(chain.v[2], &cn, &err), &err);
	CHECK_STR(cn, "ARK-Milan");
	/* without asking for the chain; the ASK offered among extra noise */
	struct ward_x509 *untrusted[] = {aa.v[1], aa.v[0], vcek};
	CHECK_OK(ward_x509_verify_chain(vcek, untrusted, 3, &aa.v[1], 1, &opts, NULL, NULL, &err),
		 &err);

	/* after the VCEK expires (2030-01-24) */
	opts.at = at("2031-01-01T00:00:00Z");
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "SEV-VCEK");
	CHECK_MSG(&err, "depth 0");
	CHECK_MSG(&err, "expired");
	/* before it was issued */
	opts.at = at("2022-01-01T00:00:00Z");
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "not yet valid");

	/* no intermediate, or the ASK offered as the root: untrusted chain */
	opts.at = at("2024-01-01T00:00:00Z");
	CHECK_ERR(ward_x509_verify_chain(vcek, NULL, 0, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "depth 0");
	CHECK_ERR(ward_x509_verify_chain(vcek, NULL, 0, &aa.v[0], 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	/* usage errors */
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 0, &opts, NULL, NULL, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, NULL, NULL, NULL, &err),
		  -WARD_E_USAGE);
	opts.at = 0;
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_USAGE);
}

WARD_TEST(x509_amd_chain_negative)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *legacy = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *mutated = NULL;
	AUTOCERTS struct certs aa = {0};
	AUTOCERTS struct certs asvk = {0};
	AUTOBUF uint8_t *pem = NULL;
	AUTOBUF uint8_t *der = NULL;
	struct ward_x509_verify_opts opts = {.at = at("2024-01-01T00:00:00Z")};
	size_t n;
	int r;

	if (!load_amd(&vcek, &aa))
		return;
	/* ASVK instead of the ASK */
	pem = read_vector("roots/amd/milan_asvk_ark.pem", &n);
	if (!pem)
		return;
	CHECK_OK(ward_x509_list_from_pem(pem, n, 2, &asvk.v, &asvk.n, &err), &err);
	CHECK_INT(asvk.n, ==, 2);
	CHECK_ERR(
	    ward_x509_verify_chain(vcek, &asvk.v[0], 1, &asvk.v[1], 1, &opts, NULL, NULL, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "SEV-VCEK");

	/* the invalid legacy VCEK parses but does not chain */
	der = read_vector("snp/milan-v2-trustee/NEGATIVE-vcek-invalid-legacy.der", &n);
	if (!der)
		return;
	CHECK_OK(ward_x509_from_der(der, n, &legacy, &err), &err);
	CHECK_ERR(ward_x509_verify_chain(legacy, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "signature failure");
	CHECK_ERR(ward_x509_check_issued_by(legacy, aa.v[0], &err), -WARD_E_VERIFY);
	free(der);

	/* VCEK with byte 42 += 1: either it no longer parses or it fails to verify */
	der = read_vector(vcek_path, &n);
	CHECK(der && n > 42);
	der[42] += 1;
	r = ward_x509_from_der(der, n, &mutated, &err);
	if (r == 0) {
		CHECK_ERR(ward_x509_verify_chain(mutated, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL,
						 NULL, &err),
			  -WARD_E_VERIFY);
		CHECK_ERR(ward_x509_check_issued_by(mutated, aa.v[0], &err), -WARD_E_VERIFY);
	} else {
		CHECK_ERR(r, -WARD_E_MALFORMED);
	}
}

/* Intel: Platform CA + root from the PCK CRL issuer chain, root CRL. */
struct intel {
	struct ward_x509 *root;
	struct certs chain; /* [Platform CA, root] */
	struct ward_crl *root_crl;
};
static void intel_free(struct intel *in)
{
	ward_x509_free(in->root);
	certs_free(&in->chain);
	ward_crl_free(in->root_crl);
}

static bool load_intel(struct intel *in)
{
	struct ward_err err = WARD_ERR_INIT;
	AUTOBUF uint8_t *root = NULL;
	AUTOBUF uint8_t *chain = NULL;
	AUTOBUF uint8_t *crl = NULL;
	size_t root_n, chain_n, crl_n;

	root = read_vector("roots/intel/Intel_SGX_RootCA.pem", &root_n);
	chain = read_vector("tdx/v4-spr-gotdxguest/pckcrl-issuer-chain.pem", &chain_n);
	crl = read_vector("tdx/v4-spr-gotdxguest/rootcrl.der", &crl_n);
	if (!root || !chain || !crl)
		return false;
	if (ward_x509_from_pem(root, root_n, &in->root, &err) < 0 ||
	    ward_x509_list_from_pem(chain, chain_n, 4, &in->chain.v, &in->chain.n, &err) < 0 ||
	    ward_crl_from_der(crl, crl_n, &in->root_crl, &err) < 0) {
		fprintf(stderr, "load_intel: %s\n", err.msg);
		abort();
	}
	return true;
}

WARD_TEST(x509_intel_chain_with_crl)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(intel_free) struct intel in = {0};
	WARD_AUTOFREE char *cn = NULL;
	WARD_AUTOFREE char *serial = NULL;
	AUTOCERTS struct certs chain = {0};
	time_t tu, nu;
	uint8_t a[32], b[32];

	if (!load_intel(&in))
		return;
	CHECK_INT(in.chain.n, ==, 2);
	CHECK_OK(ward_x509_common_name(in.chain.v[0], &cn, &err), &err);
	CHECK_STR(cn, "Intel SGX PCK Platform CA");
	CHECK_STR(ward_x509_sig_alg_name(in.chain.v[0]), "ecdsa-with-SHA256");
	/* the bundled root is the same certificate as the trust anchor */
	CHECK_OK(ward_x509_fingerprint(in.chain.v[1], a, &err), &err);
	CHECK_OK(ward_x509_fingerprint(in.root, b, &err), &err);
	CHECK_MEM(a, b, 32);
	char hex[65];
	ward_hex_encode(b, 32, hex);
	CHECK_STR(hex, "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
	CHECK_OK(ward_x509_serial_hex(in.root, &serial, &err), &err);
	CHECK_STR(serial, "22650cd65a9d3489f383b49552bf501b392706ac");

	/* root CRL 2023-04-03T10:22:51Z -> 2024-04-02T10:22:51Z */
	CHECK_OK(ward_crl_validity(in.root_crl, &tu, &nu, &err), &err);
	CHECK_INT(tu, ==, at("2023-04-03T10:22:51Z"));
	CHECK_INT(nu, ==, at("2024-04-02T10:22:51Z"));

	struct ward_x509_verify_opts opts = {.at = at("2023-07-01T01:00:00Z"),
					     .crls = &in.root_crl,
					     .crl_count = 1,
					     .crl_required = true};
	CHECK_OK(ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, &chain.v,
					&chain.n, &err),
		 &err);
	CHECK_INT(chain.n, ==, 2);
	/* after the root CRL's nextUpdate */
	opts.at = at("2024-04-03T00:00:00Z");
	CHECK_ERR(
	    ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_EXPIRED);
	CHECK_MSG(&err, "CRL has expired");
	/* before its thisUpdate */
	opts.at = at("2023-01-01T00:00:00Z");
	CHECK_ERR(
	    ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_EXPIRED);
	CHECK_MSG(&err, "CRL is not yet valid");
	/* required but absent */
	opts.at = at("2023-07-01T01:00:00Z");
	opts.crls = NULL;
	opts.crl_count = 0;
	CHECK_ERR(
	    ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "unable to get certificate CRL");
	/* not required, none given: no revocation check, so even 2030 is fine for
	 * the certificates (Platform CA valid to 2033) */
	opts.crl_required = false;
	opts.at = at("2030-01-01T00:00:00Z");
	CHECK_OK(
	    ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, NULL, NULL, &err),
	    &err);
	/* given but not required: an expired CRL still fails */
	opts.crls = &in.root_crl;
	opts.crl_count = 1;
	CHECK_ERR(
	    ward_x509_verify_chain(in.chain.v[0], NULL, 0, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_EXPIRED);
}

WARD_TEST(x509_intel_pck_leaf_full_crl_coverage)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(intel_free) struct intel in = {0};
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *pck_crl = NULL;
	AUTOBUF uint8_t *quote = NULL;
	AUTOBUF uint8_t *crl_der = NULL;
	AUTOCERTS struct certs pck = {0};
	AUTOCERTS struct certs chain = {0};
	WARD_AUTOFREE char *cn = NULL;
	const char *pem = NULL;
	size_t quote_n, crl_n;

	if (!load_intel(&in))
		return;
	/* the quote's certification data carries the PEM PCK chain (leaf,
	 * Platform CA, root), followed by a test trailer of plain text */
	quote = read_vector("tdx/v4-spr-gotdxguest/quote.dat", &quote_n);
	crl_der = read_vector("tdx/v4-spr-gotdxguest/pckcrl-platform.der", &crl_n);
	if (!quote || !crl_der)
		return;
	for (size_t i = 0; i + 27 <= quote_n && !pem; i++)
		if (memcmp(quote + i, "-----BEGIN CERTIFICATE-----", 27) == 0)
			pem = (const char *)quote + i;
	CHECK(pem);
	CHECK_OK(ward_x509_list_from_pem(pem, quote_n - (size_t)((const uint8_t *)pem - quote), 8,
					 &pck.v, &pck.n, &err),
		 &err);
	CHECK_INT(pck.n, ==, 3);
	CHECK_OK(ward_x509_common_name(pck.v[0], &cn, &err), &err);
	CHECK_STR(cn, "Intel SGX PCK Certificate");
	CHECK_OK(ward_crl_from_der(crl_der, crl_n, &pck_crl, &err), &err);

	/* every certificate covered: PCK by the Platform CA CRL, the Platform
	 * CA by the root CRL (source test time 2023-07-01T01:00:00Z) */
	struct ward_crl *crls[] = {in.root_crl, pck_crl};
	struct ward_x509_verify_opts opts = {
	    .at = at("2023-07-01T01:00:00Z"), .crls = crls, .crl_count = 2, .crl_required = true};
	CHECK_OK(ward_x509_verify_chain(pck.v[0], &pck.v[1], 1, &in.root, 1, &opts, &chain.v,
					&chain.n, &err),
		 &err);
	CHECK_INT(chain.n, ==, 3);
	/* the PCK CRL is only good until 2023-07-08T07:27:52Z */
	opts.at = at("2023-07-09T00:00:00Z");
	CHECK_ERR(
	    ward_x509_verify_chain(pck.v[0], &pck.v[1], 1, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_EXPIRED);
	CHECK_MSG(&err, "Intel SGX PCK Certificate");
	/* without the PCK CRL the leaf is uncovered */
	opts.at = at("2023-07-01T01:00:00Z");
	opts.crl_count = 1;
	CHECK_ERR(
	    ward_x509_verify_chain(pck.v[0], &pck.v[1], 1, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "depth 0");
	opts.crl_required = false;
	CHECK_OK(
	    ward_x509_verify_chain(pck.v[0], &pck.v[1], 1, &in.root, 1, &opts, NULL, NULL, &err),
	    &err);
	/* the PCK certificate expired 2029-09-20T13:20:31Z (source test) */
	opts.crl_count = 0;
	opts.at = at("2053-07-01T00:00:00Z");
	CHECK_ERR(
	    ward_x509_verify_chain(pck.v[0], &pck.v[1], 1, &in.root, 1, &opts, NULL, NULL, &err),
	    -WARD_E_EXPIRED);
}

WARD_TEST(x509_crl_partial_coverage)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(intel_free) struct intel in = {0};
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	AUTOCERTS struct certs aa = {0};

	if (!load_intel(&in) || !load_amd(&vcek, &aa))
		return;
	/* an unrelated (Intel) CRL covers nothing in the AMD chain: accepted
	 * when CRLs are optional, refused when required */
	struct ward_x509_verify_opts opts = {
	    .at = at("2023-07-01T01:00:00Z"), .crls = &in.root_crl, .crl_count = 1};
	CHECK_OK(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		 &err);
	opts.crl_required = true;
	CHECK_ERR(ward_x509_verify_chain(vcek, &aa.v[0], 1, &aa.v[1], 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "SEV-VCEK");
}

/* ---- the throwaway test PKI ---- */

struct pki {
	struct ward_x509 *root, *inter, *leaf;
	struct ward_crl *empty, *revoked;
};
static void pki_free(struct pki *p)
{
	ward_x509_free(p->root);
	ward_x509_free(p->inter);
	ward_x509_free(p->leaf);
	ward_crl_free(p->empty);
	ward_crl_free(p->revoked);
}

static int pki_load(struct pki *p, struct ward_err *err)
{
	int r;

	if ((r = ward_x509_from_pem(pki_root, strlen(pki_root), &p->root, err)) < 0 ||
	    (r = ward_x509_from_pem(pki_inter, strlen(pki_inter), &p->inter, err)) < 0 ||
	    (r = ward_x509_from_pem(pki_leaf, strlen(pki_leaf), &p->leaf, err)) < 0 ||
	    (r = ward_crl_from_pem(pki_crl_empty, strlen(pki_crl_empty), &p->empty, err)) < 0 ||
	    (r = ward_crl_from_pem(pki_crl_revoked, strlen(pki_crl_revoked), &p->revoked, err)) < 0)
		return r;
	return 0;
}

WARD_TEST(x509_revocation)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(pki_free) struct pki p = {0};
	struct ward_x509_verify_opts opts = {.at = at("2030-01-01T00:00:00Z")};

	CHECK_OK(pki_load(&p, &err), &err);
	CHECK_OK(ward_x509_verify_chain(p.leaf, &p.inter, 1, &p.root, 1, &opts, NULL, NULL, &err),
		 &err);
	/* root CRL without revocations: the intermediate is covered, the leaf
	 * (issued by the intermediate, which has no CRL here) is not */
	opts.crls = &p.empty;
	opts.crl_count = 1;
	CHECK_OK(ward_x509_verify_chain(p.leaf, &p.inter, 1, &p.root, 1, &opts, NULL, NULL, &err),
		 &err);
	opts.crl_required = true;
	CHECK_ERR(ward_x509_verify_chain(p.leaf, &p.inter, 1, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "Ward Test Leaf");
	/* the intermediate alone is fully covered by the root CRL */
	CHECK_OK(ward_x509_verify_chain(p.inter, NULL, 0, &p.root, 1, &opts, NULL, NULL, &err),
		 &err);
	/* revoked intermediate: fails whether or not CRLs are required */
	opts.crls = &p.revoked;
	CHECK_ERR(ward_x509_verify_chain(p.inter, NULL, 0, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "revoked");
	opts.crl_required = false;
	CHECK_ERR(ward_x509_verify_chain(p.leaf, &p.inter, 1, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "Ward Test Intermediate");
	CHECK_MSG(&err, "depth 1");
	/* both CRLs present (same thisUpdate): a revocation in either wins, in
	 * either order */
	struct ward_crl *both[] = {p.empty, p.revoked};
	opts.crls = both;
	opts.crl_count = 2;
	CHECK_ERR(ward_x509_verify_chain(p.inter, NULL, 0, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "revoked");
	both[0] = p.revoked;
	both[1] = p.empty;
	CHECK_ERR(ward_x509_verify_chain(p.inter, NULL, 0, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "revoked");
	/* a CRL not yet valid at the verification time */
	opts.crls = &p.empty;
	opts.crl_count = 1;
	opts.at = at("2025-01-01T00:00:00Z");
	CHECK_ERR(ward_x509_verify_chain(p.inter, NULL, 0, &p.root, 1, &opts, NULL, NULL, &err),
		  -WARD_E_EXPIRED);
}

WARD_TEST(x509_extension_duplicate)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(pki_free) struct pki p = {0};
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *dup = NULL;
	AUTOBUF uint8_t *der = NULL;
	static const uint8_t oid5[] = {0x06, 0x03, 0x2a, 0x03, 0x05};
	const uint8_t *v;
	size_t n, hits = 0;
	int r;

	CHECK_OK(pki_load(&p, &err), &err);
	CHECK_OK(ward_x509_extension(p.leaf, "1.2.3.4", &v, &n, &err), &err);
	CHECK_INT(n, ==, 3);
	CHECK_MEM(v, "\x02\x01\x03", 3);
	CHECK_OK(ward_x509_extension(p.leaf, "1.2.3.5", &v, &n, &err), &err);
	CHECK_MEM(v, "\x02\x01\x04", 3);
	/* rename extension 1.2.3.5 to 1.2.3.4 (same length): now it appears twice */
	CHECK_OK(ward_x509_der(p.leaf, &der, &n, &err), &err);
	for (size_t i = 0; i + sizeof(oid5) <= n; i++)
		if (memcmp(der + i, oid5, sizeof(oid5)) == 0) {
			der[i + 4] = 0x04;
			hits++;
		}
	CHECK_INT(hits, ==, 1);
	r = ward_x509_from_der(der, n, &dup, &err);
	if (r == 0) {
		CHECK_ERR(ward_x509_extension(dup, "1.2.3.4", &v, &n, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "twice");
	} else {
		CHECK_ERR(r, -WARD_E_MALFORMED); /* the parser may refuse it outright */
	}
}

WARD_TEST(x509_parse_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(pki_free) struct pki p = {0};
	struct ward_x509 *c = NULL;
	struct ward_x509 **list = NULL;
	struct ward_crl *crl = NULL;
	AUTOBUF uint8_t *der = NULL;
	WARD_AUTOFREE char *bundle = NULL;
	size_t n, count = 0;

	CHECK_OK(pki_load(&p, &err), &err);
	CHECK_OK(ward_x509_der(p.leaf, &der, &n, &err), &err);
	/* truncation at every offset, and a trailing byte */
	for (size_t cut = 0; cut < n; cut++)
		CHECK_ERR(ward_x509_from_der(der, cut, &c, &err), -WARD_E_MALFORMED);
	uint8_t *longer = malloc(n + 1);
	CHECK(longer);
	memcpy(longer, der, n);
	longer[n] = 0;
	CHECK_ERR(ward_x509_from_der(longer, n + 1, &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "canonical DER");
	free(longer);
	CHECK_ERR(ward_x509_from_der("garbage", 7, &c, &err), -WARD_E_MALFORMED);
	/* BER, not DER: the signature BIT STRING claims 1 unused bit that is set */
	uint8_t *ber = malloc(n);
	size_t bs = 0;
	CHECK(ber);
	memcpy(ber, der, n);
	for (size_t i = n - 3; i > 0 && !bs; i--)
		if (ber[i] == 0x03 && ber[i + 1] == n - i - 2 && ber[i + 2] == 0)
			bs = i;
	CHECK(bs > 0);
	ber[bs + 2] = 1;
	ber[n - 1] |= 1;
	CHECK_ERR(ward_x509_from_der(ber, n, &c, &err), -WARD_E_MALFORMED);
	free(ber);
	/* PEM: garbage, wrong label, two certs where one is expected */
	CHECK_ERR(ward_x509_from_pem("garbage", 7, &c, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_x509_from_pem("", 0, &c, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_x509_from_pem(pki_crl_empty, strlen(pki_crl_empty), &c, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "X509 CRL");
	bundle = malloc(strlen(pki_leaf) + strlen(pki_inter) + strlen(pki_root) + 1);
	CHECK(bundle);
	strcpy(bundle, pki_leaf);
	strcat(bundle, pki_inter);
	CHECK_ERR(ward_x509_from_pem(bundle, strlen(bundle), &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "exactly one");
	CHECK(c == NULL);
	/* bundles */
	strcat(bundle, pki_root);
	CHECK_OK(ward_x509_list_from_pem(bundle, strlen(bundle), 3, &list, &count, &err), &err);
	CHECK_INT(count, ==, 3);
	WARD_AUTOFREE char *cn = NULL;
	CHECK_OK(ward_x509_common_name(list[1], &cn, &err), &err);
	CHECK_STR(cn, "Ward Test Intermediate");
	ward_x509_list_free(list, count);
	list = NULL;
	CHECK_ERR(ward_x509_list_from_pem(bundle, strlen(bundle), 2, &list, &count, &err),
		  -WARD_E_TOO_BIG);
	CHECK_ERR(ward_x509_list_from_pem(bundle, strlen(bundle), 0, &list, &count, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_x509_list_from_pem("no pem here", 11, 4, &list, &count, &err),
		  -WARD_E_MALFORMED);
	/* a corrupted block in the middle */
	char *mid = strstr(bundle + strlen(pki_leaf), "\n") + 1;
	mid[5] = '*';
	CHECK_ERR(ward_x509_list_from_pem(bundle, strlen(bundle), 3, &list, &count, &err),
		  -WARD_E_MALFORMED);
	CHECK(list == NULL);
	ward_x509_list_free(NULL, 0);
	/* CRLs */
	CHECK_ERR(ward_crl_from_der("garbage", 7, &crl, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_crl_from_pem(pki_leaf, strlen(pki_leaf), &crl, &err), -WARD_E_MALFORMED);
	CHECK(crl == NULL);
	CHECK(ward_crl_free(NULL) == NULL);
	CHECK(ward_x509_free(NULL) == NULL);
	CHECK(ward_x509_ref(NULL) == NULL);
}

WARD_TEST(x509_common_name_absent_or_twice)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *none = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *two = NULL;
	WARD_AUTOFREE char *subject = NULL;
	char *cn = NULL;

	CHECK_OK(ward_x509_from_pem(cert_no_cn, strlen(cert_no_cn), &none, &err), &err);
	CHECK_OK(ward_x509_from_pem(cert_two_cn, strlen(cert_two_cn), &two, &err), &err);
	CHECK_ERR(ward_x509_common_name(none, &cn, &err), -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_x509_common_name(two, &cn, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "several CNs");
	CHECK(cn == NULL);
	CHECK_OK(ward_x509_subject(none, &subject, &err), &err);
	CHECK_STR(subject, "O=Ward Test No CN");
}

WARD_TEST(x509_pki_accessors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(pki_free) struct pki p = {0};
	WARD_AUTOFREE char *issuer = NULL;
	WARD_AUTOFREE char *serial = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	time_t nb, na;

	CHECK_OK(pki_load(&p, &err), &err);
	CHECK_OK(ward_x509_issuer(p.leaf, &issuer, &err), &err);
	CHECK_STR(issuer, "CN=Ward Test Intermediate");
	CHECK_OK(ward_x509_serial_hex(p.leaf, &serial, &err), &err);
	CHECK_STR(serial, "1002"); /* openssl ca serials 1000, 1001, 1002 */
	CHECK_OK(ward_x509_validity(p.leaf, &nb, &na, &err), &err);
	CHECK_INT(nb, ==, at("2020-01-01T00:00:00Z"));
	CHECK_INT(na, ==, at("2040-01-01T00:00:00Z"));
	CHECK_OK(ward_x509_pubkey(p.leaf, &k, &err), &err);
	CHECK_INT(ward_pkey_type(k), ==, WARD_KEY_EC_P384);
	CHECK_STR(ward_x509_sig_alg_name(p.leaf), "ecdsa-with-SHA256");
	CHECK_OK(ward_x509_check_issued_by(p.leaf, p.inter, &err), &err);
	CHECK_ERR(ward_x509_check_issued_by(p.leaf, p.root, &err), -WARD_E_VERIFY);
}

WARD_TEST_MAIN()
