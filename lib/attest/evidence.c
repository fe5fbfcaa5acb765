/* SPDX-License-Identifier: Apache-2.0 */
/* Evidence containers: detect the input format, copy the report out of
 * the (untrusted) input, collect the certificates it carries, and dispatch
 * verification to the TEE's verifier. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "snp/snp-internal.h"
#include "ward/attest.h"
#include "ward/ratls.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"

#define HCL_MAGIC "HCLA"
#define TSM_BLOB_MAX_SIZE (64u * 1024)
#define WARD_EVIDENCE_CERTS_FILE_MAX_SIZE (256u * 1024) /* a PEM chain with room to spare */

const char *ward_evidence_format_name(enum ward_evidence_format f)
{
	switch (f) {
	case WARD_EVIDENCE_SNP_REPORT:
		return "snp-report";
	case WARD_EVIDENCE_SNP_TSM:
		return "configfs-tsm";
	case WARD_EVIDENCE_SNP_HCL:
		return "azure-hcl";
	case WARD_EVIDENCE_WARD_ENVELOPE:
		return "ward-envelope";
	case WARD_EVIDENCE_DCAP_QUOTE:
		return "dcap-quote";
	case WARD_EVIDENCE_RATLS_CERT:
		return "ratls-certificate";
	}
	return "unknown";
}

struct ward_evidence *ward_evidence_free(struct ward_evidence *ev)
{
	if (!ev)
		return NULL;
	if (ev->certs)
		ward_x509_list_free(ev->certs, ev->cert_count);
	for (size_t i = 0; i < ev->crl_count; i++)
		ward_crl_free(ev->crls[i]);
	free(ev->crls);
	free(ev->runtime_data);
	free(ev->quote);
	ward_x509_free(ev->ratls_cert);
	free(ev);
	return NULL;
}

static bool looks_like_pem(const uint8_t *p, size_t size)
{
	return size >= 10 && memmem(p, size, "-----BEGIN", 10) != NULL;
}

static int add_cert(struct ward_evidence *ev, struct ward_x509 *cert, struct ward_err *err)
{
	struct ward_x509 **n;

	if (ev->cert_count >= WARD_EVIDENCE_MAX_CERTS) {
		ward_x509_free(cert);
		return ward_err_set(err, -WARD_E_TOO_BIG, "more than %u certificates",
				    WARD_EVIDENCE_MAX_CERTS);
	}
	n = reallocarray(ev->certs, ev->cert_count + 1, sizeof(*n));
	if (!n) {
		ward_x509_free(cert);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	ev->certs = n;
	ev->certs[ev->cert_count++] = cert;
	return 0;
}

/* Parsed DER certificates, remembered per process by the SHA-256 of their
 * exact bytes: a platform sends the same VCEK and ASK with every report,
 * and OpenSSL 3.0 spends ~0.1 ms decoding each one (mostly its public key
 * decoder lookup). A hit returns a new reference to the object parsing
 * those bytes produced, so every later check sees what it would have seen;
 * only successful parses are remembered, the oldest entry goes first. */
#define CERT_CACHE_SIZE 32

static struct {
	uint8_t hash[32];
	struct ward_x509 *cert; /* owned reference, NULL when unused */
} g_cert_cache[CERT_CACHE_SIZE];
static unsigned g_cert_cache_next;
static pthread_mutex_t g_cert_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cert_from_der_cached(const uint8_t *der, size_t size, struct ward_x509 **ret,
				struct ward_err *err)
{
	struct ward_x509 *cert = NULL, *old;
	uint8_t hash[32];
	int r;

	r = ward_hash(WARD_HASH_SHA256, der, size, hash, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&g_cert_cache_lock);
	for (size_t i = 0; i < CERT_CACHE_SIZE && !cert; i++)
		if (g_cert_cache[i].cert && memcmp(g_cert_cache[i].hash, hash, 32) == 0)
			cert = ward_x509_ref(g_cert_cache[i].cert);
	pthread_mutex_unlock(&g_cert_cache_lock);
	if (cert) {
		*ret = cert;
		return 0;
	}
	r = ward_x509_from_der(der, size, &cert, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&g_cert_cache_lock);
	old = g_cert_cache[g_cert_cache_next].cert;
	memcpy(g_cert_cache[g_cert_cache_next].hash, hash, 32);
	g_cert_cache[g_cert_cache_next].cert = ward_x509_ref(cert);
	g_cert_cache_next = (g_cert_cache_next + 1) % CERT_CACHE_SIZE;
	pthread_mutex_unlock(&g_cert_cache_lock);
	ward_x509_free(old);
	*ret = cert;
	return 0;
}

/* Add every certificate in buf (a PEM bundle or one DER certificate). */
static int add_certs_bytes(struct ward_evidence *ev, const uint8_t *buf, size_t size,
			   struct ward_err *err)
{
	int r;

	if (looks_like_pem(buf, size)) {
		struct ward_x509 **list = NULL;
		size_t count = 0;

		r = ward_x509_list_from_pem(buf, size, WARD_EVIDENCE_MAX_CERTS, &list, &count, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < count; i++) {
			r = add_cert(ev, list[i], err);
			if (r < 0) {
				/* add_cert freed list[i]; free the rest. */
				for (size_t j = i + 1; j < count; j++)
					ward_x509_free(list[j]);
				free(list);
				return r;
			}
		}
		free(list);
		return 0;
	}
	{
		struct ward_x509 *cert = NULL;

		r = cert_from_der_cached(buf, size, &cert, err);
		if (r < 0)
			return r;
		return add_cert(ev, cert, err);
	}
}

static int add_crl_bytes(struct ward_evidence *ev, const uint8_t *buf, size_t size,
			 struct ward_err *err)
{
	struct ward_crl *crl = NULL, **n;
	int r;

	if (ev->crl_count >= WARD_EVIDENCE_MAX_CERTS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "more than %u CRLs",
				    WARD_EVIDENCE_MAX_CERTS);
	r = looks_like_pem(buf, size) ? ward_crl_from_pem(buf, size, &crl, err)
				      : ward_crl_from_der(buf, size, &crl, err);
	if (r < 0)
		return r;
	n = reallocarray(ev->crls, ev->crl_count + 1, sizeof(*n));
	if (!n) {
		ward_crl_free(crl);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	ev->crls = n;
	ev->crls[ev->crl_count++] = crl;
	return 0;
}

static int add_certtable(struct ward_evidence *ev, const void *aux, size_t aux_size,
			 struct ward_err *err)
{
	struct ward_snp_certtable t;
	int r;

	r = ward_snp_certtable_parse(aux, aux_size, &t, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.count; i++) {
		const struct ward_snp_cert_entry *e = &t.entries[i];

		switch (e->kind) {
		case WARD_SNP_CERT_ARK:
			/* The ARK is built in; a supplied one is not needed
			 * (and never trusted). */
			continue;
		case WARD_SNP_CERT_ASK:
		case WARD_SNP_CERT_VCEK:
		case WARD_SNP_CERT_VLEK:
			r = add_certs_bytes(ev, e->data, e->size, err);
			break;
		case WARD_SNP_CERT_CRL:
			r = add_crl_bytes(ev, e->data, e->size, err);
			break;
		default:
			ward_debug("SNP certificate table: ignoring entry %zu (unknown GUID)", i);
			continue;
		}
		if (r < 0)
			return ward_err_prefix(err, "certificate table entry %zu", i);
	}
	return 0;
}

static int set_report(struct ward_evidence *ev, const uint8_t *report, size_t size,
		      struct ward_err *err)
{
	if (size != WARD_SNP_REPORT_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "SNP report: size %zu, expected exactly %u bytes", size,
				    WARD_SNP_REPORT_SIZE);
	/* Copy, then check: the views in ev->snp point into our copy. */
	memcpy(ev->report_buf, report, WARD_SNP_REPORT_SIZE);
	return ward_snp_report_parse(ev->report_buf, WARD_SNP_REPORT_SIZE, &ev->snp, err);
}

/* Veraison's configfs-tsm JSON (application/vnd.veraison.tsm-report+json):
 * {"outblob": B64URL, "auxblob": B64URL, "provider": "sev_guest\n"}. */
static int parse_tsm_json(struct ward_evidence *ev, json_t *j, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *out = NULL;
	WARD_AUTOFREE uint8_t *aux = NULL;
	const char *key, *out_b64 = NULL, *aux_b64 = NULL, *provider = NULL;
	size_t out_size, aux_size;
	json_t *v;
	int r;

	json_object_foreach(j, key, v)
	{
		if (!json_is_string(v))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "configfs-tsm JSON: member '%s' is not a string", key);
		if (strcmp(key, "outblob") == 0)
			out_b64 = json_string_value(v);
		else if (strcmp(key, "auxblob") == 0)
			aux_b64 = json_string_value(v);
		else if (strcmp(key, "provider") == 0)
			provider = json_string_value(v);
		else
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "configfs-tsm JSON: unexpected member '%s'", key);
	}
	if (provider && strcmp(provider, "sev_guest\n") != 0 && strcmp(provider, "sev_guest") != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "configfs-tsm JSON: provider is not sev_guest");
	r = ward_base64url_decode(out_b64, strlen(out_b64), &out, &out_size, err);
	if (r < 0)
		return ward_err_prefix(err, "configfs-tsm JSON: outblob");
	r = set_report(ev, out, out_size, err);
	if (r < 0)
		return ward_err_prefix(err, "configfs-tsm JSON: outblob");
	if (aux_b64) {
		r = ward_base64url_decode(aux_b64, strlen(aux_b64), &aux, &aux_size, err);
		if (r < 0)
			return ward_err_prefix(err, "configfs-tsm JSON: auxblob");
		r = add_certtable(ev, aux, aux_size, err);
		if (r < 0)
			return ward_err_prefix(err, "configfs-tsm JSON: auxblob");
	}
	ev->format = WARD_EVIDENCE_SNP_TSM;
	return 0;
}

/* {"tee":"snp","report":B64,"certs":[B64 DER...],"cert_table":B64}, or
 * Veraison's configfs-tsm JSON (recognised by its "outblob" member). */
static int parse_envelope(struct ward_evidence *ev, const void *buf, size_t size,
			  enum ward_tee_type requested, struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *j = NULL;
	WARD_AUTOFREE uint8_t *report = NULL;
	WARD_AUTOFREE uint8_t *table = NULL;
	const char *key;
	json_t *v, *certs = NULL;
	const char *tee = NULL, *report_b64 = NULL, *table_b64 = NULL;
	size_t report_size, table_size;
	int r;

	r = ward_json_parse(buf, size, WARD_EVIDENCE_MAX_SIZE, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "evidence envelope");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "evidence envelope: not an object");
	if (json_object_get(j, "outblob"))
		return parse_tsm_json(ev, j, err);
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "tee") == 0 && json_is_string(v))
			tee = json_string_value(v);
		else if (strcmp(key, "report") == 0 && json_is_string(v))
			report_b64 = json_string_value(v);
		else if (strcmp(key, "cert_table") == 0 && json_is_string(v))
			table_b64 = json_string_value(v);
		else if (strcmp(key, "certs") == 0 && json_is_array(v) &&
			 json_array_size(v) <= WARD_EVIDENCE_MAX_CERTS)
			certs = v;
		else
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "evidence envelope: unexpected member '%s' or wrong "
					    "type",
					    key);
	}
	/* sim evidence has the SNP format; only the trust anchor differs. */
	if (tee && strcmp(tee, "snp") == 0 && requested != WARD_TEE_SIM)
		ev->tee = WARD_TEE_SNP;
	else if (tee && strcmp(tee, "sim") == 0 && requested != WARD_TEE_SNP)
		ev->tee = WARD_TEE_SIM;
	else
		return ward_err_set(
		    err, -WARD_E_UNSUPPORTED, "evidence envelope: tee \"%s\" where %s was expected",
		    tee ? tee : "", requested ? ward_tee_name(requested) : "snp or sim");
	if (!report_b64)
		return ward_err_set(err, -WARD_E_MALFORMED, "evidence envelope: report missing");
	r = ward_base64_decode(report_b64, strlen(report_b64), &report, &report_size, err);
	if (r < 0)
		return ward_err_prefix(err, "evidence envelope: report");
	r = set_report(ev, report, report_size, err);
	if (r < 0)
		return ward_err_prefix(err, "evidence envelope");
	for (size_t i = 0; certs && i < json_array_size(certs); i++) {
		json_t *c = json_array_get(certs, i);
		WARD_AUTOFREE uint8_t *der = NULL;
		size_t der_size;

		if (!json_is_string(c))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "evidence envelope: certs[%zu] is not a string", i);
		r = ward_base64_decode(json_string_value(c), json_string_length(c), &der, &der_size,
				       err);
		if (r < 0)
			return ward_err_prefix(err, "evidence envelope: certs[%zu]", i);
		r = add_certs_bytes(ev, der, der_size, err);
		if (r < 0)
			return ward_err_prefix(err, "evidence envelope: certs[%zu]", i);
	}
	if (table_b64) {
		r = ward_base64_decode(table_b64, strlen(table_b64), &table, &table_size, err);
		if (r < 0)
			return ward_err_prefix(err, "evidence envelope: cert_table");
		r = add_certtable(ev, table, table_size, err);
		if (r < 0)
			return ward_err_prefix(err, "evidence envelope: cert_table");
	}
	return 0;
}

/* A DCAP quote starts with u16 version 3..5 and u16 attestation key type
 * 2 (ECDSA P-256); an SNP report starts with a u32 version (bytes 2-3
 * zero), so the two cannot be confused. */
static bool looks_like_dcap_quote(const uint8_t *p, size_t size)
{
	return size >= WARD_DCAP_HEADER_SIZE && p[1] == 0 && p[0] >= 3 && p[0] <= 5 && p[2] == 2 &&
	       p[3] == 0;
}

/* DER SEQUENCE with a long-form length, or a PEM certificate block. */
static bool looks_like_certificate(const uint8_t *p, size_t size)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----";

	if (size >= sizeof(pem) - 1 && memcmp(p, pem, sizeof(pem) - 1) == 0)
		return true;
	return size > 4 && p[0] == 0x30 && (p[1] == 0x82 || p[1] == 0x83);
}

static int expect_intel_tee(struct ward_evidence *ev, uint32_t quote_tee, enum ward_tee_type want,
			    struct ward_err *err)
{
	ev->tee = quote_tee == WARD_DCAP_TEE_TDX ? WARD_TEE_TDX : WARD_TEE_SGX;
	if (want != WARD_TEE_NONE && want != ev->tee)
		return ward_err_set(err, -WARD_E_MALFORMED, "evidence is a %s quote, not %s",
				    ward_tee_name(ev->tee), ward_tee_name(want));
	return 0;
}

static int parse_dcap(struct ward_evidence *ev, const uint8_t *buf, size_t size,
		      enum ward_tee_type tee, struct ward_err *err)
{
	struct ward_dcap_quote q;
	int r;

	/* Copy, then check: the parsed views must point into our own copy. */
	ev->quote = malloc(size);
	if (!ev->quote)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(ev->quote, buf, size);
	ev->quote_size = size;
	ev->format = WARD_EVIDENCE_DCAP_QUOTE;
	r = ward_dcap_quote_parse(ev->quote, size, &q, err);
	if (r < 0)
		return r;
	return expect_intel_tee(ev, q.tee_type, tee, err);
}

static int parse_ratls(struct ward_evidence *ev, const uint8_t *buf, size_t size,
		       enum ward_tee_type tee, struct ward_err *err)
{
	struct ward_ratls_evidence rev;
	struct ward_dcap_quote q;
	int r;

	ev->format = WARD_EVIDENCE_RATLS_CERT;
	r = buf[0] == 0x30 ? ward_x509_from_der(buf, size, &ev->ratls_cert, err)
			   : ward_x509_from_pem(buf, size, &ev->ratls_cert, err);
	if (r < 0)
		return ward_err_prefix(err, "RA-TLS certificate");
	r = ward_ratls_extract(ev->ratls_cert, &rev, err);
	if (r < 0)
		return r;
	r = ward_dcap_quote_parse(rev.quote, rev.quote_size, &q, err);
	if (r < 0)
		return ward_err_prefix(err, "RA-TLS quote");
	return expect_intel_tee(ev, q.tee_type, tee, err);
}

int ward_evidence_parse(const void *buf, size_t size, const void *aux, size_t aux_size,
			enum ward_tee_type tee, struct ward_evidence **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	const uint8_t *p = buf;
	int r;

	if (!buf || size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "evidence is empty");
	if (size > WARD_EVIDENCE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "evidence: %zu bytes exceeds %u", size,
				    WARD_EVIDENCE_MAX_SIZE);
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return ward_err_set(err, -ENOMEM, "out of memory");
	ev->tee = tee == WARD_TEE_SIM ? WARD_TEE_SIM : WARD_TEE_SNP;

	if (looks_like_certificate(p, size)) {
		r = parse_ratls(ev, buf, size, tee, err);
		if (r < 0)
			return r;
		*ret = WARD_TAKE_PTR(ev);
		return 0;
	}
	if (looks_like_dcap_quote(p, size)) {
		r = parse_dcap(ev, buf, size, tee, err);
		if (r < 0)
			return r;
		*ret = WARD_TAKE_PTR(ev);
		return 0;
	}
	if (tee == WARD_TEE_TDX || tee == WARD_TEE_SGX)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "expected a %s quote or RA-TLS certificate (%zu bytes)",
				    ward_tee_name(tee), size);

	if (size >= 4 && memcmp(p, HCL_MAGIC, 4) == 0) {
		struct ward_snp_hcl hcl;

		ev->format = WARD_EVIDENCE_SNP_HCL;
		r = ward_snp_hcl_parse(buf, size, &hcl, err);
		if (r < 0)
			return r;
		r = set_report(ev, hcl.report, WARD_SNP_REPORT_SIZE, err);
		if (r < 0)
			return ward_err_prefix(err, "HCL report");
		ev->runtime_data = malloc(hcl.runtime_data_size + 1);
		if (!ev->runtime_data)
			return ward_err_set(err, -ENOMEM, "out of memory");
		memcpy(ev->runtime_data, hcl.runtime_data, hcl.runtime_data_size);
		ev->runtime_data[hcl.runtime_data_size] = '\0';
		ev->runtime_data_size = hcl.runtime_data_size;
		ev->runtime_hash_type = hcl.hash_type;
	} else if (p[0] == '{') {
		ev->format = WARD_EVIDENCE_WARD_ENVELOPE;
		r = parse_envelope(ev, buf, size, tee, err);
		if (r < 0)
			return r;
	} else if (size == WARD_SNP_REPORT_SIZE) {
		ev->format = aux && aux_size ? WARD_EVIDENCE_SNP_TSM : WARD_EVIDENCE_SNP_REPORT;
		r = set_report(ev, buf, size, err);
		if (r < 0)
			return r;
	} else {
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "unrecognized evidence (%zu bytes): expected a %u-byte SNP "
				    "report, an Azure HCL report or a Ward evidence envelope",
				    size, WARD_SNP_REPORT_SIZE);
	}
	if (aux && aux_size) {
		r = add_certtable(ev, aux, aux_size, err);
		if (r < 0)
			return ward_err_prefix(err, "auxblob");
	}
	*ret = WARD_TAKE_PTR(ev);
	return 0;
}

static int read_beneath(int dirfd, const char *dir, const char *name, bool required, uint8_t **ret,
			size_t *ret_size, struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = -1;
	int r;

	fd = ward_openat_beneath(dirfd, name, O_RDONLY, 0, err);
	if (fd == -ENOENT && !required) {
		*ret = NULL;
		*ret_size = 0;
		return 0;
	}
	if (fd < 0)
		return ward_err_prefix(err, "%s/%s", dir, name);
	r = ward_fd_read_all(fd, TSM_BLOB_MAX_SIZE, ret, ret_size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s/%s", dir, name);
	return 0;
}

int ward_evidence_load(const char *path, enum ward_tee_type tee, struct ward_evidence **ret,
		       struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	WARD_AUTOFREE uint8_t *aux = NULL;
	WARD_AUTOFREE uint8_t *provider = NULL;
	size_t size, aux_size = 0, provider_size = 0;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return ward_err_errno(err, -errno, "evidence '%s'", path);
	if (S_ISDIR(st.st_mode)) {
		/* A configfs-tsm report directory (or a copy of one). */
		WARD_AUTOCLOSE int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dirfd < 0)
			return ward_err_errno(err, -errno, "evidence '%s'", path);
		r = read_beneath(dirfd, path, "provider", false, &provider, &provider_size, err);
		if (r < 0)
			return r;
		if (provider && strcmp((char *)provider, "sev_guest\n") != 0 &&
		    strcmp((char *)provider, "sev_guest") != 0)
			return ward_err_set(err, -WARD_E_UNSUPPORTED,
					    "evidence '%s': provider '%.*s' is not sev_guest", path,
					    (int)WARD_MIN(provider_size, 32), (char *)provider);
		r = read_beneath(dirfd, path, "outblob", true, &buf, &size, err);
		if (r < 0)
			return r;
		r = read_beneath(dirfd, path, "auxblob", false, &aux, &aux_size, err);
		if (r < 0)
			return r;
		r = ward_evidence_parse(buf, size, aux, aux_size, tee, ret, err);
		if (r < 0)
			return ward_err_prefix(err, "evidence '%s'", path);
		(*ret)->format = WARD_EVIDENCE_SNP_TSM;
		return 0;
	}
	r = ward_file_read(path, WARD_EVIDENCE_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "evidence '%s'", path);
	r = ward_evidence_parse(buf, size, NULL, 0, tee, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "evidence '%s'", path);
	return 0;
}

int ward_evidence_add_certs_file(struct ward_evidence *ev, const char *path, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, WARD_EVIDENCE_CERTS_FILE_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "certificates '%s'", path);
	r = add_certs_bytes(ev, buf, size, err);
	if (r < 0)
		return ward_err_prefix(err, "certificates '%s'", path);
	return 0;
}

static int add_format(json_t *claims, const struct ward_evidence *ev)
{
	return ward_snp_json_set(claims, "evidence_format",
				 json_string(ward_evidence_format_name(ev->format)));
}

static enum ward_snp_product guess_product(const struct ward_evidence *ev)
{
	enum ward_snp_product p = ward_snp_report_product(&ev->snp);

	/* v2: the issuer of a carried VCEK/VLEK names the product (unverified,
	 * for display only). */
	for (size_t i = 0; p == WARD_SNP_PRODUCT_UNKNOWN && i < ev->cert_count; i++) {
		WARD_AUTOFREE char *issuer = NULL;
		const char *cn;

		if (ward_x509_issuer(ev->certs[i], &issuer, NULL) < 0)
			continue;
		cn = strstr(issuer, "CN=SEV-");
		if (cn) {
			char buf[64];

			snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(cn + 3, ",+"), cn + 3);
			p = ward_snp_product_from_issuer_cn(buf);
		}
	}
	return p;
}

static int dcap_quote_view(const struct ward_evidence *ev, const uint8_t **quote, size_t *size,
			   struct ward_err *err)
{
	struct ward_ratls_evidence rev;
	int r;

	if (ev->ratls_cert) {
		r = ward_ratls_extract(ev->ratls_cert, &rev, err);
		if (r < 0)
			return r;
		*quote = rev.quote;
		*size = rev.quote_size;
	} else {
		*quote = ev->quote;
		*size = ev->quote_size;
	}
	return 0;
}

int ward_evidence_claims(const struct ward_evidence *ev, json_t **ret, struct ward_err *err)
{
	json_t *claims = NULL;
	int r;

	if (ev->tee == WARD_TEE_TDX || ev->tee == WARD_TEE_SGX) {
		struct ward_dcap_quote q;
		const uint8_t *quote;
		size_t size;

		if ((r = dcap_quote_view(ev, &quote, &size, err)) < 0 ||
		    (r = ward_dcap_quote_parse(quote, size, &q, err)) < 0 ||
		    (r = ward_dcap_quote_claims(&q, &claims, err)) < 0)
			return r;
	} else {
		r = ward_snp_report_claims(&ev->snp, guess_product(ev), &claims, err);
	}
	if (r < 0)
		return r;
	if (add_format(claims, ev) < 0) {
		json_decref(claims);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	*ret = claims;
	return 0;
}

/* Azure: REPORT_DATA must start with hash(runtime data), zero after it. */
static int check_hcl_binding(const struct ward_evidence *ev, json_t *claims, struct ward_err *err)
{
	static const enum ward_hash_alg algs[] = {WARD_HASH_SHA256, WARD_HASH_SHA384,
						  WARD_HASH_SHA512};
	enum ward_hash_alg alg;
	uint8_t digest[WARD_HASH_MAX_SIZE], zeros[64] = {0};
	size_t n;
	json_t *runtime = NULL;
	int r;

	if (ev->runtime_hash_type < 1 || ev->runtime_hash_type > 3)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "HCL hash type %u",
				    ev->runtime_hash_type);
	alg = algs[ev->runtime_hash_type - 1];
	n = ward_hash_size(alg);
	r = ward_hash(alg, ev->runtime_data, ev->runtime_data_size, digest, err);
	if (r < 0)
		return r;
	if (!ward_ct_eq(digest, ev->snp.report_data, n) ||
	    !ward_ct_eq(ev->snp.report_data + n, zeros, 64 - n))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "HCL report: REPORT_DATA does not bind the runtime data "
				    "(expected %s of it, zero-padded)",
				    ward_hash_name(alg));
	/* The runtime data is JSON (the vTPM attestation key, VM
	 * configuration); keep it as an object when it parses. */
	if (ward_json_parse(ev->runtime_data, ev->runtime_data_size, WARD_SNP_HCL_MAX_SIZE,
			    &runtime, NULL) < 0)
		runtime = json_stringn((const char *)ev->runtime_data, ev->runtime_data_size);
	if (ward_snp_json_set(claims, "runtime_data", runtime) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* TDX/SGX quotes and RA-TLS certificates: the DCAP verifier with the
 * caller's collateral (or a collateral directory opened for this call). */
static int verify_dcap(const struct ward_evidence *ev, const struct ward_attest_opts *opts,
		       json_t **ret_claims, struct ward_err *err)
{
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *own = NULL;
	WARD_CLEANUP(json_decrefp) json_t *claims = NULL;
	struct ward_dcap_collateral *coll = opts->dcap;
	int r;

	if (!coll && opts->collateral_dir) {
		r = ward_dcap_collateral_open_dir(opts->collateral_dir, &own, err);
		if (r < 0)
			return r;
		coll = own;
	}
	if (!coll)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "%s quote: no DCAP collateral given (a collateral directory "
				    "or a dcap-qvl collateral file)",
				    ward_tee_name(ev->tee));
	if (ev->ratls_cert)
		r = ward_ratls_verify(ev->ratls_cert, coll, opts->at, &claims, err);
	else
		r = ward_dcap_verify(ev->quote, ev->quote_size, coll, opts->at, &claims, err);
	if (r < 0)
		return r;
	if (add_format(claims, ev) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_claims = WARD_TAKE_PTR(claims);
	return 0;
}

int ward_evidence_verify(const struct ward_evidence *ev, const struct ward_attest_opts *opts,
			 json_t **ret_claims, struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *claims = NULL;
	struct ward_snp_verify_opts sopts = {
	    .at = opts->at,
	    .collateral_dir = opts->collateral_dir,
	    .certs = ev->certs,
	    .cert_count = ev->cert_count,
	    .crls = ev->crls,
	    .crl_count = ev->crl_count,
	    .warn_days = opts->warn_days,
	    .require_crl = opts->require_crl,
	};
	int r;

	if (ev->tee == WARD_TEE_TDX || ev->tee == WARD_TEE_SGX)
		return verify_dcap(ev, opts, ret_claims, err);
	if (ev->tee == WARD_TEE_SIM) {
		/* INSECURE: the sim TEE's keys live on the host. Its evidence is
		 * checked only against the sim ARK the caller chose to trust,
		 * never against AMD's roots, and is marked as insecure. */
		if (!opts->sim_ark)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "sim TEE evidence is not accepted (no sim root given)");
		sopts.insecure_ark = opts->sim_ark;
		sopts.collateral_dir = NULL;
	} else if (ev->tee != WARD_TEE_SNP) {
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "TEE %s cannot be verified here",
				    ward_tee_name(ev->tee));
	}
	r = ward_snp_verify(&ev->snp, &sopts, &claims, err);
	if (r < 0)
		return r;
	if (ev->tee == WARD_TEE_SIM) {
		json_t *w = json_object_get(claims, "warnings");

		if (ward_snp_json_set(claims, "tee", json_string("sim")) < 0 ||
		    json_array_append_new(w, json_string("INSECURE: sim TEE evidence, signed by "
							 "keys on the host; it proves nothing "
							 "about confidentiality")) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (ev->format == WARD_EVIDENCE_SNP_HCL) {
		r = check_hcl_binding(ev, claims, err);
		if (r < 0)
			return r;
	}
	if (add_format(claims, ev) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_claims = WARD_TAKE_PTR(claims);
	return 0;
}
