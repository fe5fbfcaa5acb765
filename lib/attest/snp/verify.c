/* SPDX-License-Identifier: Apache-2.0 */
/* SEV-SNP report verification: VCEK/VLEK lookup, certificate chain to the
 * built-in AMD ARK, VCEK extensions (AMD spec 57230) against the report,
 * CRLs, and the report signature. Authenticity only: policy is separate. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../der.h"
#include "snp-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/util.h"

#define OID_TCB_BL "1.3.6.1.4.1.3704.1.3.1"
#define OID_TCB_TEE "1.3.6.1.4.1.3704.1.3.2"
#define OID_TCB_SNP "1.3.6.1.4.1.3704.1.3.3"
#define OID_TCB_UCODE "1.3.6.1.4.1.3704.1.3.8"
#define OID_TCB_FMC "1.3.6.1.4.1.3704.1.3.9"
#define OID_HWID "1.3.6.1.4.1.3704.1.4"
#define OID_PRODUCT_NAME "1.3.6.1.4.1.3704.1.2"

#define SNP_CERT_MAX_SIZE (64u * 1024)
#define CHAIN_CACHE_SIZE 64
#define CHAIN_MAX 3
#define SNP_CRL_MAX_SIZE (1u << 20)

struct chain {
	struct ward_x509 **certs; /* owned */
	size_t count;
};
static void chain_clear(struct chain *c)
{
	if (c->certs)
		ward_x509_list_free(c->certs, c->count);
	c->certs = NULL;
	c->count = 0;
}

struct crls {
	struct ward_crl *list[WARD_EVIDENCE_MAX_CERTS + 1];
	size_t count;
	struct ward_crl *owned; /* the collateral CRL, if loaded */
};
static void crls_clear(struct crls *c)
{
	c->owned = ward_crl_free(c->owned);
}

/* Verified chains, remembered per process: the same VCEK arrives with
 * every report of a machine, and re-verifying two RSA-4096 signatures each
 * time would halve the throughput. An entry says "this leaf, with these
 * intermediates and exactly these CRLs, chains to this anchor, unrevoked,
 * at any time in [lo, hi]": lo and hi intersect the certificates' validity
 * and every CRL's [thisUpdate, nextUpdate], the only inputs of the answer
 * that change with time. So a cached answer is the answer
 * ward_x509_verify_chain() would give; a new CRL (other bytes) is a new
 * key and is looked at. */
struct chain_cache_entry {
	uint8_t key[32];
	time_t lo, hi;
	time_t not_after[CHAIN_MAX];
	size_t count;
	bool used;
};
static struct chain_cache_entry g_chain_cache[CHAIN_CACHE_SIZE];
static unsigned g_chain_cache_next;
static pthread_mutex_t g_chain_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int chain_key(const struct ward_x509 *leaf, struct ward_x509 *const *untrusted, size_t n,
		     const struct ward_x509 *ark, const struct ward_x509_verify_opts *xopts,
		     uint8_t key[32], struct ward_err *err)
{
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	uint8_t fp[32];
	int r;

	if ((r = ward_hash_new(WARD_HASH_SHA256, &h, err)) < 0)
		return r;
	for (size_t i = 0; i < n + 2; i++) {
		const struct ward_x509 *c = i == 0 ? leaf : i == 1 ? ark : untrusted[i - 2];

		if ((r = ward_x509_fingerprint(c, fp, err)) < 0 ||
		    (r = ward_hash_update(h, fp, sizeof(fp), err)) < 0)
			return r;
	}
	/* "crl" separates the CRLs from the certificates. */
	if ((r = ward_hash_update(h, "crl", 3, err)) < 0)
		return r;
	for (size_t i = 0; i < xopts->crl_count; i++)
		if ((r = ward_crl_fingerprint(xopts->crls[i], fp, err)) < 0 ||
		    (r = ward_hash_update(h, fp, sizeof(fp), err)) < 0)
			return r;
	return ward_hash_final(h, key, err);
}

static bool chain_cache_get(const uint8_t key[32], time_t at, time_t *not_after, size_t *count)
{
	bool hit = false;

	pthread_mutex_lock(&g_chain_cache_lock);
	for (size_t i = 0; i < CHAIN_CACHE_SIZE && !hit; i++) {
		const struct chain_cache_entry *e = &g_chain_cache[i];

		/* hi is exclusive: OpenSSL treats a notAfter or nextUpdate equal
		 * to the verification time as passed. */
		if (e->used && at >= e->lo && at < e->hi && ward_ct_eq(e->key, key, 32)) {
			memcpy(not_after, e->not_after, sizeof(e->not_after));
			*count = e->count;
			hit = true;
		}
	}
	pthread_mutex_unlock(&g_chain_cache_lock);
	return hit;
}

static void chain_cache_put(const uint8_t key[32], time_t lo, time_t hi, const time_t *not_after,
			    size_t count)
{
	struct chain_cache_entry *e;

	pthread_mutex_lock(&g_chain_cache_lock);
	e = &g_chain_cache[g_chain_cache_next++ % CHAIN_CACHE_SIZE];
	memcpy(e->key, key, 32);
	e->lo = lo;
	e->hi = hi;
	memcpy(e->not_after, not_after, sizeof(e->not_after));
	e->count = count;
	e->used = true;
	pthread_mutex_unlock(&g_chain_cache_lock);
}

/* ward_x509_verify_chain(), or its remembered answer. *not_after gets the
 * chain's expiry times, leaf first. */
static int verify_chain_cached(const struct ward_x509 *leaf, struct ward_x509 *const *untrusted,
			       size_t n, struct ward_x509 *ark,
			       const struct ward_x509_verify_opts *xopts,
			       time_t not_after[CHAIN_MAX], size_t *count, struct ward_err *err)
{
	WARD_CLEANUP(chain_clear) struct chain chain = {0};
	uint8_t key[32];
	bool cacheable = !xopts->crl_required;
	time_t lo = 0, hi = (time_t)INT64_MAX, nb, na;
	int r;

	if (cacheable && chain_key(leaf, untrusted, n, ark, xopts, key, err) < 0)
		cacheable = false;
	if (cacheable && chain_cache_get(key, xopts->at, not_after, count))
		return 0;
	r = ward_x509_verify_chain(leaf, untrusted, n, &ark, 1, xopts, &chain.certs, &chain.count,
				   err);
	if (r < 0)
		return r;
	*count = 0;
	for (size_t i = 0; i < chain.count; i++) {
		if ((r = ward_x509_validity(chain.certs[i], &nb, &na, err)) < 0)
			return ward_err_prefix(err, "certificate validity");
		lo = WARD_MAX(lo, nb);
		hi = WARD_MIN(hi, na);
		if (i < CHAIN_MAX)
			not_after[(*count)++] = na;
	}
	for (size_t i = 0; i < xopts->crl_count; i++) {
		time_t this_update, next_update;

		if (ward_crl_validity(xopts->crls[i], &this_update, &next_update, err) < 0) {
			cacheable = false;
			break;
		}
		lo = WARD_MAX(lo, this_update);
		if (next_update != 0)
			hi = WARD_MIN(hi, next_update);
	}
	if (cacheable)
		chain_cache_put(key, lo, hi, not_after, *count);
	return 0;
}

static const char *product_dir(enum ward_snp_product p)
{
	switch (p) {
	case WARD_SNP_PRODUCT_MILAN:
		return "milan";
	case WARD_SNP_PRODUCT_GENOA:
		return "genoa";
	case WARD_SNP_PRODUCT_TURIN:
		return "turin";
	default:
		return "unknown";
	}
}

/* Product named by the CN of an RFC 2253 issuer DN ("CN=SEV-Milan,ST=..."). */
static enum ward_snp_product product_from_issuer_dn(const char *dn)
{
	const char *cn = strstr(dn, "CN=");
	char buf[64] = "";

	if (cn) {
		size_t n = strcspn(cn + 3, ",+");

		snprintf(buf, sizeof(buf), "%.*s", (int)WARD_MIN(n, sizeof(buf) - 1), cn + 3);
	}
	return ward_snp_product_from_issuer_cn(buf);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int load_cert_file(const char *path, struct ward_x509 **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, SNP_CERT_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return r;
	if (size >= 10 && memmem(buf, size, "-----BEGIN", 10))
		r = ward_x509_from_pem(buf, size, ret, err);
	else
		r = ward_x509_from_der(buf, size, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", path);
	return 0;
}

/* Collateral path of the VCEK/VLEK for this report and product. */
static void leaf_path(const struct ward_snp_report *r, enum ward_snp_product product,
		      const char *dir, char *out, size_t out_size)
{
	size_t hwid_size =
	    product == WARD_SNP_PRODUCT_TURIN ? WARD_SNP_TURIN_HWID_SIZE : WARD_SNP_CHIP_ID_SIZE;
	char hwid[2 * WARD_SNP_CHIP_ID_SIZE + 1];

	ward_hex_encode(r->chip_id, hwid_size, hwid);
	if (r->signing_key == WARD_SNP_SIGNING_KEY_VLEK)
		snprintf(out, out_size, "%s/snp/%s/vlek/%016llx.der", dir, product_dir(product),
			 (unsigned long long)r->reported_tcb);
	else
		snprintf(out, out_size, "%s/snp/%s/vcek/%s-%016llx.der", dir, product_dir(product),
			 hwid, (unsigned long long)r->reported_tcb);
}

/* Find the signing certificate: in the evidence by subject CN, else in the
 * collateral directory. *ret is a new reference. */
static int find_leaf(const struct ward_snp_report *r, const struct ward_snp_verify_opts *opts,
		     enum ward_snp_product product, struct ward_x509 **ret, bool *ret_from_dir,
		     struct ward_err *err)
{
	const bool vlek = r->signing_key == WARD_SNP_SIGNING_KEY_VLEK;
	const char *want_cn = vlek ? "SEV-VLEK" : "SEV-VCEK";
	const char *what = vlek ? "VLEK" : "VCEK";
	static const enum ward_snp_product v2_candidates[] = {WARD_SNP_PRODUCT_MILAN,
							      WARD_SNP_PRODUCT_GENOA};
	char tried[2][1024];
	size_t tried_count = 0;

	for (size_t i = 0; i < opts->cert_count; i++) {
		WARD_AUTOFREE char *cn = NULL;

		if (ward_x509_common_name(opts->certs[i], &cn, NULL) == 0 &&
		    strcmp(cn, want_cn) == 0) {
			*ret = ward_x509_ref(opts->certs[i]);
			if (!*ret)
				return ward_err_set(err, -ENOMEM, "out of memory");
			*ret_from_dir = false;
			return 0;
		}
	}
	if (!opts->collateral_dir)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "%s missing: the evidence carries none and no collateral "
				    "directory was given",
				    what);

	/* v2 reports do not say which product they come from: try each one
	 * that produces v2 reports. */
	for (size_t i = 0; i < (product ? 1 : WARD_ARRAY_SIZE(v2_candidates)); i++) {
		enum ward_snp_product p = product ? product : v2_candidates[i];

		leaf_path(r, p, opts->collateral_dir, tried[tried_count], sizeof(tried[0]));
		if (file_exists(tried[tried_count])) {
			int rr = load_cert_file(tried[tried_count], ret, err);

			if (rr < 0)
				return ward_err_prefix(err, "%s", what);
			*ret_from_dir = true;
			return 0;
		}
		tried_count++;
	}
	if (tried_count == 1)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "%s missing: %s", what, tried[0]);
	/* Both paths share the file name; keep the message short enough to
	 * show it whole. */
	{
		const char *file = strrchr(tried[0], '/');

		return ward_err_set(err, -WARD_E_NOT_FOUND, "%s missing: %s/snp/{milan,genoa}/%s%s",
				    what, opts->collateral_dir, vlek ? "vlek" : "vcek",
				    file ? file : "");
	}
}

static int ext_uint8(const struct ward_x509 *leaf, const char *oid, const char *name, bool required,
		     int *ret, struct ward_err *err)
{
	struct ward_cur c, content;
	const uint8_t *der;
	size_t size;
	uint64_t v;
	int r;

	r = ward_x509_extension(leaf, oid, &der, &size, err);
	if (r == -WARD_E_NOT_FOUND && !required) {
		*ret = -1;
		return 0;
	}
	if (r < 0)
		return ward_err_prefix(err, "certificate extension %s (%s)", name, oid);
	/* Exactly one DER INTEGER in 0..255 (a TCB component is one byte). */
	c = ward_cur_make(der, size);
	if (ward_der_expect(&c, WARD_DER_INTEGER, &content) < 0 || !ward_cur_empty(&c) ||
	    ward_der_uint(&content, 255, &v) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "certificate extension %s (%s) is not an INTEGER in 0..255",
				    name, oid);
	*ret = (int)v;
	return 0;
}

/* The leaf's TCB extensions must equal REPORTED_TCB (not CURRENT_TCB: the
 * VCEK is derived from, and fetched for, the reported TCB). */
static int check_tcb(const struct ward_x509 *leaf, const struct ward_snp_report *r,
		     enum ward_snp_product product, const char *what, struct ward_err *err)
{
	struct ward_snp_tcb t;
	struct {
		const char *oid, *name;
		int report;
		bool required;
	} f[5];
	size_t n = 0;

	ward_snp_tcb_decode(r->reported_tcb, product, &t);
	f[n++] = (typeof(f[0])){OID_TCB_BL, "bl", t.bl, true};
	f[n++] = (typeof(f[0])){OID_TCB_TEE, "tee", t.tee, true};
	f[n++] = (typeof(f[0])){OID_TCB_SNP, "snp", t.snp, true};
	f[n++] = (typeof(f[0])){OID_TCB_UCODE, "ucode", t.ucode, true};
	if (t.has_fmc)
		f[n++] = (typeof(f[0])){OID_TCB_FMC, "fmc", t.fmc, true};
	for (size_t i = 0; i < n; i++) {
		int cert_value = -1;
		int rr = ext_uint8(leaf, f[i].oid, f[i].name, f[i].required, &cert_value, err);

		if (rr < 0)
			return ward_err_prefix(err, "%s", what);
		if (cert_value != f[i].report)
			return ward_err_set(
			    err, -WARD_E_VERIFY,
			    "%s TCB does not match the report's REPORTED_TCB: %s is "
			    "%d in the %s, %d in the report",
			    what, f[i].name, cert_value, what, f[i].report);
	}
	return 0;
}

static int check_hwid(const struct ward_x509 *leaf, const struct ward_snp_report *r,
		      enum ward_snp_product product, struct ward_err *err)
{
	size_t want =
	    product == WARD_SNP_PRODUCT_TURIN ? WARD_SNP_TURIN_HWID_SIZE : WARD_SNP_CHIP_ID_SIZE;
	struct ward_cur hwid;
	const uint8_t *der;
	size_t size;
	int rr;

	rr = ward_x509_extension(leaf, OID_HWID, &der, &size, err);
	if (rr < 0)
		return ward_err_prefix(err, "VCEK hardware ID extension (%s)", OID_HWID);
	/* KDS VCEKs carry the raw bytes as the extension value; newer ones
	 * wrap them in a DER OCTET STRING. Accept exactly these two forms. */
	if (size == want) {
		hwid = ward_cur_make(der, size);
	} else {
		struct ward_cur c = ward_cur_make(der, size);

		if (ward_der_expect(&c, WARD_DER_OCTET_STRING, &hwid) < 0 || !ward_cur_empty(&c))
			return ward_err_set(
			    err, -WARD_E_MALFORMED,
			    "VCEK hardware ID extension (%s) is neither %zu raw bytes "
			    "nor an OCTET STRING",
			    OID_HWID, want);
	}
	if (hwid.left != want)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "VCEK hardware ID is %zu bytes, expected %zu for %s", hwid.left,
				    want, ward_snp_product_name(product));
	if (!ward_ct_eq(hwid.p, r->chip_id, want))
		return ward_err_set(
		    err, -WARD_E_VERIFY,
		    "VCEK belongs to another chip: its hardware ID differs from the "
		    "report's CHIP_ID");
	return 0;
}

static int check_signature(const struct ward_x509 *leaf, const struct ward_snp_report *r,
			   const char *what, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	uint8_t sig[96];
	int rr;

	rr = ward_x509_pubkey(leaf, &key, err);
	if (rr < 0)
		return ward_err_prefix(err, "%s public key", what);
	if (ward_pkey_type(key) != WARD_KEY_EC_P384)
		return ward_err_set(err, -WARD_E_VERIFY, "%s key is not an ECDSA P-384 key", what);
	memcpy(sig, r->sig_r, 48);
	memcpy(sig + 48, r->sig_s, 48);
	rr = ward_verify_fast(key, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, r->raw,
			      WARD_SNP_SIGNED_SIZE, sig, sizeof(sig), err);
	if (rr < 0)
		return ward_err_prefix(err, "SNP report signature (by the %s)", what);
	return 0;
}

static int set_time(json_t *o, const char *key, time_t t)
{
	char s[WARD_RFC3339_SIZE];

	ward_time_format_rfc3339(t, s);
	return ward_snp_json_set(o, key, json_string(s));
}

/* Record the expiry of one collateral item; warn when it is near. */
static int note_expiry(json_t *collateral, json_t *warnings, const char *key, const char *what,
		       time_t not_after, const struct ward_snp_verify_opts *opts)
{
	int rr = set_time(collateral, key, not_after);

	if (rr == 0 && opts->warn_days > 0 &&
	    not_after - opts->at < (time_t)opts->warn_days * 86400) {
		char s[WARD_RFC3339_SIZE], msg[160];

		ward_time_format_rfc3339(not_after, s);
		snprintf(msg, sizeof(msg), "%s expires at %s (within %u days)", what, s,
			 opts->warn_days);
		rr = json_array_append_new(warnings, json_string(msg)) < 0 ? -ENOMEM : 0;
	}
	return rr;
}

static int load_collateral_crl(const struct ward_snp_verify_opts *opts,
			       enum ward_snp_product product, bool vlek, struct crls *crls,
			       char *path, size_t path_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	int r;

	path[0] = '\0';
	if (!opts->collateral_dir)
		return 0;
	snprintf(path, path_size, "%s/snp/%s/%s", opts->collateral_dir, product_dir(product),
		 vlek ? "vlek-crl.der" : "crl.der");
	if (!file_exists(path))
		return 0;
	r = ward_file_read(path, SNP_CRL_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return r;
	if (size >= 10 && memmem(buf, size, "-----BEGIN", 10))
		r = ward_crl_from_pem(buf, size, &crls->owned, err);
	else
		r = ward_crl_from_der(buf, size, &crls->owned, err);
	if (r < 0)
		return ward_err_prefix(err, "CRL %s", path);
	crls->list[crls->count++] = crls->owned;
	return 0;
}

int ward_snp_verify(const struct ward_snp_report *r, const struct ward_snp_verify_opts *opts,
		    json_t **ret_claims, struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ask = NULL;
	WARD_CLEANUP(crls_clear) struct crls crls = {0};
	WARD_CLEANUP(json_decrefp) json_t *claims = NULL;
	time_t chain_not_after[CHAIN_MAX];
	size_t chain_count = 0;
	WARD_AUTOFREE char *issuer_cn = NULL;
	struct ward_x509 *untrusted[WARD_EVIDENCE_MAX_CERTS + 1];
	size_t untrusted_count = 0;
	enum ward_snp_product product, issuer_product;
	const bool vlek = r->signing_key == WARD_SNP_SIGNING_KEY_VLEK;
	const char *what = vlek ? "VLEK" : "VCEK";
	struct ward_x509_verify_opts xopts = {.at = opts->at};
	json_t *collateral, *warnings;
	char crl_path[1100];
	bool from_dir = false;
	int rr;

	if (r->signing_key == WARD_SNP_SIGNING_KEY_NONE)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "SNP report is not signed (KEY_INFO.SIGNING_KEY = none)");
	product = opts->product ? opts->product : ward_snp_report_product(r);
	if (r->version >= 3 && product == WARD_SNP_PRODUCT_UNKNOWN)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "SNP report: unknown CPU (family 0x%02x, model 0x%02x)",
				    r->cpuid_fam_id, r->cpuid_mod_id);

	rr = find_leaf(r, opts, product, &leaf, &from_dir, err);
	if (rr < 0)
		return rr;

	if (opts->insecure_ark) {
		/* INSECURE anchor (sim TEE): the chain must end at it; the
		 * issuer names no AMD product and no built-in key is used. */
		ark = ward_x509_ref(opts->insecure_ark);
		if (!ark)
			return ward_err_set(err, -ENOMEM, "out of memory");
	} else {
		/* The issuer names the product line (SEV-Milan,
		 * SEV-VLEK-Genoa...): it decides the product of v2 reports and
		 * must agree with CPUID. */
		rr = ward_x509_issuer(leaf, &issuer_cn, err);
		if (rr < 0)
			return ward_err_prefix(err, "%s issuer", what);
		issuer_product = product_from_issuer_dn(issuer_cn);
		if (issuer_product == WARD_SNP_PRODUCT_UNKNOWN)
			return ward_err_set(err, -WARD_E_VERIFY, "%s issuer '%s' is not an AMD %s",
					    what, issuer_cn, vlek ? "ASVK" : "ASK");
		if (product == WARD_SNP_PRODUCT_UNKNOWN)
			product = issuer_product;
		else if (product != issuer_product)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "%s is issued for %s but the report comes from %s",
					    what, ward_snp_product_name(issuer_product),
					    ward_snp_product_name(product));

		/* Chain: leaf -> ASK/ASVK -> ARK (built in, fingerprint-pinned). */
		rr = ward_snp_builtin_ark(product, &ark, err);
		if (rr < 0)
			return rr;
		rr = ward_snp_builtin_ask(product, vlek, &ask, err);
		if (rr < 0)
			return rr;
		untrusted[untrusted_count++] = ask;
	}
	for (size_t i = 0; i < opts->cert_count && untrusted_count < WARD_ARRAY_SIZE(untrusted);
	     i++)
		if (opts->certs[i] != leaf)
			untrusted[untrusted_count++] = opts->certs[i];
	for (size_t i = 0; i < opts->crl_count && crls.count < WARD_EVIDENCE_MAX_CERTS; i++)
		crls.list[crls.count++] = opts->crls[i];
	crl_path[0] = '\0';
	if (!opts->insecure_ark)
		rr = load_collateral_crl(opts, product, vlek, &crls, crl_path, sizeof(crl_path),
					 err);
	if (rr < 0)
		return rr;
	if (opts->require_crl && crls.count == 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "CRL missing: %s",
				    crl_path[0] ? crl_path : "(no collateral directory given)");
	for (size_t i = 0; i < crls.count; i++) {
		time_t this_update, next_update;

		rr = ward_crl_validity(crls.list[i], &this_update, &next_update, err);
		if (rr < 0)
			return ward_err_prefix(err, "AMD CRL");
		if (next_update != 0 && next_update < opts->at)
			return ward_err_set(err, -WARD_E_EXPIRED, "AMD CRL %s has expired",
					    crls.owned == crls.list[i] ? crl_path
								       : "(from evidence)");
	}
	xopts.crls = crls.count ? crls.list : NULL;
	xopts.crl_count = crls.count;
	rr = verify_chain_cached(leaf, untrusted, untrusted_count, ark, &xopts, chain_not_after,
				 &chain_count, err);
	if (rr < 0)
		return ward_err_prefix(err, "%s certificate chain (%s)", what,
				       ward_snp_product_name(product));

	if (!vlek) {
		rr = check_hwid(leaf, r, product, err);
		if (rr < 0)
			return rr;
	}
	rr = check_tcb(leaf, r, product, what, err);
	if (rr < 0)
		return rr;
	rr = check_signature(leaf, r, what, err);
	if (rr < 0)
		return rr;

	/* Authentic: build the claims. */
	rr = ward_snp_report_claims(r, product, &claims, err);
	if (rr < 0)
		return rr;
	if (opts->insecure_ark && ward_snp_json_set(claims, "insecure", json_true()) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	collateral = json_object();
	warnings = json_array();
	rr = ward_snp_json_set(claims, "collateral", collateral);
	rr |= ward_snp_json_set(claims, "warnings", warnings);
	rr |= ward_snp_json_set(claims, "verified", json_true());
	rr |= set_time(claims, "verified_at", opts->at);
	if (rr)
		return ward_err_set(err, -ENOMEM, "out of memory");
	rr = ward_snp_json_set(collateral, "signing_cert_source",
			       json_string(from_dir ? "collateral" : "evidence"));
	rr |= ward_snp_json_set(collateral, "crl_checked", json_boolean(crls.count > 0));
	for (size_t i = 0; rr == 0 && i < chain_count; i++) {
		static const char *const keys[] = {"leaf", "ask", "ark"};
		const char *names[] = {what, vlek ? "ASVK" : "ASK", "ARK"};
		char key[32];

		snprintf(key, sizeof(key), "%s_not_after",
			 i == 0 ? (vlek ? "vlek" : "vcek") : keys[i]);
		rr |= note_expiry(collateral, warnings, key, names[i], chain_not_after[i], opts);
	}
	for (size_t i = 0; rr == 0 && i < crls.count; i++) {
		time_t tu, nu;

		if (ward_crl_validity(crls.list[i], &tu, &nu, err) < 0)
			return ward_err_prefix(err, "CRL validity");
		if (nu)
			rr |= note_expiry(collateral, warnings, "crl_next_update", "AMD CRL", nu,
					  opts);
	}
	if (rr)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_claims = WARD_TAKE_PTR(claims);
	return 0;
}
