/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP collateral sets and quote verification: signatures, PCK chain with
 * CRLs to the built-in Intel SGX Root CA, TCB info / QE identity
 * signatures over their exact received bytes, validity windows, and TCB
 * evaluation. Verified collateral is cached per collateral set together
 * with the time window in which that verification holds, so verifying
 * many quotes against one set checks each collateral signature once. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dcap-internal.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/util.h"

#define PCK_CACHE_SIZE 16
#define MAX_TCB_INFOS 256
#define MAX_CHAIN_CERTS 5
#define DCAP_NAME_SIZE 160

enum { CRL_PLATFORM, CRL_PROCESSOR };

struct dcap_crl {
	struct ward_crl *crl; /* owned; NULL when absent */
	time_t this_update, next_update;
	char name[DCAP_NAME_SIZE]; /* for messages: what, and where it came from */
};

struct dcap_signer {
	struct ward_x509 **chain; /* owned, leaf (TCB Signing) first */
	size_t count;
	struct ward_pkey *key; /* owned: the leaf's key */
	char name[DCAP_NAME_SIZE];
	unsigned gen; /* c->gen when verified; 0 = never */
	time_t from, until;
};

struct dcap_signed {
	char *text; /* owned: the exact signed bytes */
	size_t size;
	uint8_t sig[64];
	unsigned gen; /* c->gen when the signature verified; 0 = never */
	char name[DCAP_NAME_SIZE];
};

struct dcap_tcb_entry {
	struct dcap_signed s;
	struct ward_dcap_tcb_info *ti; /* owned */
};

struct dcap_qe_entry {
	struct dcap_signed s;
	struct ward_dcap_qe_identity *qi; /* owned; NULL when absent */
};

struct pck_cache_entry {
	uint8_t chain_hash[32]; /* SHA-256 of the PEM chain bytes in the quote */
	struct ward_pkey *key;	/* owned */
	struct ward_dcap_pck_info info;
	int crl; /* CRL_PLATFORM / CRL_PROCESSOR */
	unsigned gen;
	time_t from, until;
};

struct ward_dcap_collateral {
	char *dir;		/* owned; NULL unless backed by a directory */
	unsigned gen;		/* bumped by every add: invalidates what was verified */
	struct ward_x509 *root; /* the trust anchor: the built-in Intel root */
	uint8_t root_fp[32];
	struct dcap_crl root_crl;
	struct dcap_crl pck_crl[2];
	struct dcap_signer tcb_signer, qe_signer;
	struct dcap_tcb_entry *tcb; /* owned array */
	size_t tcb_count;
	struct dcap_qe_entry qe[2]; /* [WARD_DCAP_QE_SGX], [WARD_DCAP_QE_TD] */
	struct pck_cache_entry pck[PCK_CACHE_SIZE];
	size_t pck_next;
};

static const char *const crl_ca_names[] = {"Intel SGX PCK Platform CA",
					   "Intel SGX PCK Processor CA"};
static const char *const crl_files[] = {"pckcrl-platform", "pckcrl-processor"};

static void fmt_time(time_t t, char buf[WARD_RFC3339_SIZE])
{
	ward_time_format_rfc3339(t, buf);
}

/* ---- object lifetime ---------------------------------------------------- */

static void crl_clear(struct dcap_crl *c)
{
	c->crl = ward_crl_free(c->crl);
}

static void signer_clear(struct dcap_signer *s)
{
	ward_x509_list_free(s->chain, s->count);
	s->chain = NULL;
	s->count = 0;
	s->key = ward_pkey_free(s->key);
	s->gen = 0;
}

static void signed_clear(struct dcap_signed *s)
{
	free(s->text);
	s->text = NULL;
	s->gen = 0;
}

struct ward_dcap_collateral *ward_dcap_collateral_free(struct ward_dcap_collateral *c)
{
	if (!c)
		return NULL;
	free(c->dir);
	ward_x509_free(c->root);
	crl_clear(&c->root_crl);
	for (int i = 0; i < 2; i++) {
		crl_clear(&c->pck_crl[i]);
		signed_clear(&c->qe[i].s);
		ward_dcap_qe_identity_free(c->qe[i].qi);
	}
	signer_clear(&c->tcb_signer);
	signer_clear(&c->qe_signer);
	for (size_t i = 0; i < c->tcb_count; i++) {
		signed_clear(&c->tcb[i].s);
		ward_dcap_tcb_info_free(c->tcb[i].ti);
	}
	free(c->tcb);
	for (size_t i = 0; i < PCK_CACHE_SIZE; i++)
		ward_pkey_free(c->pck[i].key);
	free(c);
	return NULL;
}

/* Load the built-in root and check its pinned fingerprint. */
static int load_root(struct ward_x509 **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *root = NULL;
	const char *pem = ward_dcap_intel_root_pem();
	uint8_t fp[32];
	int r;

	r = ward_x509_from_pem(pem, strlen(pem), &root, err);
	if (r < 0)
		return ward_err_prefix(err, "built-in Intel SGX Root CA");
	r = ward_x509_fingerprint(root, fp, err);
	if (r < 0)
		return ward_err_prefix(err, "built-in Intel SGX Root CA");
	if (!ward_ct_eq(fp, ward_dcap_intel_root_fingerprint, 32))
		return ward_err_set(
		    err, -WARD_E_VERIFY,
		    "built-in Intel SGX Root CA does not match its pinned fingerprint");
	*ret = WARD_TAKE_PTR(root);
	return 0;
}

static int collateral_new(struct ward_x509 *root, struct ward_dcap_collateral **ret,
			  struct ward_err *err)
{
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	c->gen = 1;
	if (root) {
		c->root = ward_x509_ref(root);
		if (!c->root)
			return ward_err_set(err, -ENOMEM, "out of memory");
	} else {
		r = load_root(&c->root, err);
		if (r < 0)
			return r;
	}
	r = ward_x509_fingerprint(c->root, c->root_fp, err);
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

int ward_dcap_collateral_new(struct ward_dcap_collateral **ret, struct ward_err *err)
{
	return collateral_new(NULL, ret, err);
}

int ward_dcap_collateral_new_with_root_insecure(struct ward_x509 *root,
						struct ward_dcap_collateral **ret,
						struct ward_err *err)
{
	if (!root)
		return ward_err_set(err, -WARD_E_USAGE, "no root given");
	return collateral_new(root, ret, err);
}

/* ---- adding items ------------------------------------------------------- */

/* DER of a CRL given as DER, PEM ("X509 CRL") or hex text; malloc'ed. */
static int crl_to_der(const uint8_t *data, size_t size, uint8_t **ret, size_t *ret_size,
		      struct ward_err *err)
{
	static const char begin[] = "-----BEGIN X509 CRL-----", end[] = "-----END X509 CRL-----";
	WARD_AUTOFREE char *text = NULL;
	const char *b, *e;
	size_t n = 0;
	bool pem;

	if (size > 0 && data[0] == 0x30) {
		uint8_t *der = malloc(size);

		if (!der)
			return ward_err_set(err, -ENOMEM, "out of memory");
		memcpy(der, data, size);
		*ret = der;
		*ret_size = size;
		return 0;
	}
	b = memmem(data, size, begin, strlen(begin));
	pem = b != NULL;
	if (pem) {
		b += strlen(begin);
		e = memmem(b, size - (size_t)((const uint8_t *)b - data), end, strlen(end));
		if (!e)
			return ward_err_set(err, -WARD_E_MALFORMED, "PEM CRL without END line");
	} else {
		b = (const char *)data;
		e = b + size;
	}
	text = malloc((size_t)(e - b) + 1);
	if (!text)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (const char *p = b; p < e; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t' && *p != '\0')
			text[n++] = *p;
	if (pem ? ward_base64_decode(text, n, ret, ret_size, NULL) < 0
		: ward_hex_decode(text, n, ret, ret_size, NULL) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "CRL is neither DER, PEM nor hex");
	return 0;
}

static int add_crl(struct ward_dcap_collateral *c, bool root, const uint8_t *data, size_t size,
		   const char *origin, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *der = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *crl = NULL;
	struct dcap_crl *slot;
	size_t der_size;
	char cn[128];
	int r, which = -1;

	r = crl_to_der(data, size, &der, &der_size, err);
	if (r < 0)
		return r;
	r = ward_der_issuer_cn(der, der_size, true, cn, sizeof(cn));
	if (r < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "CRL issuer name unreadable");
	if (root) {
		if (strcmp(cn, "Intel SGX Root CA") != 0)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "root CRL issued by \"%s\", not Intel SGX Root CA", cn);
		slot = &c->root_crl;
	} else {
		for (int i = 0; i < 2; i++)
			if (strcmp(cn, crl_ca_names[i]) == 0)
				which = i;
		if (which < 0)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "PCK CRL issued by unknown CA \"%s\"", cn);
		slot = &c->pck_crl[which];
	}
	r = ward_crl_from_der(der, der_size, &crl, err);
	if (r < 0)
		return r;
	crl_clear(slot);
	r = ward_crl_validity(crl, &slot->this_update, &slot->next_update, err);
	if (r < 0)
		return r;
	slot->crl = WARD_TAKE_PTR(crl);
	if (root)
		snprintf(slot->name, sizeof(slot->name), "root CA CRL (%s)", origin);
	else
		snprintf(slot->name, sizeof(slot->name), "PCK CRL of %s (%s)", cn, origin);
	c->gen++;
	return 0;
}

static int add_signer(struct ward_dcap_collateral *c, struct dcap_signer *s, const uint8_t *data,
		      size_t size, const char *origin, struct ward_err *err)
{
	struct ward_x509 **list = NULL;
	size_t count = 0;
	int r;

	r = ward_x509_list_from_pem(data, size, MAX_CHAIN_CERTS, &list, &count, err);
	if (r < 0)
		return r;
	signer_clear(s);
	s->chain = list;
	s->count = count;
	snprintf(s->name, sizeof(s->name), "TCB signing chain (%s)", origin);
	c->gen++;
	return 0;
}

/* Which TCB info / QE identity slot an item goes to, parsed from text. */
static int add_signed(struct ward_dcap_collateral *c, enum ward_dcap_item item, const char *text,
		      size_t size, const uint8_t sig[64], const char *origin, struct ward_err *err)
{
	WARD_AUTOFREE char *copy = NULL;
	struct dcap_signed *s;
	int r;

	if (size > WARD_DCAP_COLLATERAL_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s too big", origin);
	copy = malloc(size + 1);
	if (!copy)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(copy, text, size);
	copy[size] = '\0';

	if (item == WARD_DCAP_TCB_INFO) {
		struct ward_dcap_tcb_info *ti = NULL;
		struct dcap_tcb_entry *e = NULL;

		r = ward_dcap_tcb_info_parse(copy, size, &ti, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < c->tcb_count; i++)
			if (c->tcb[i].ti->tee == ti->tee &&
			    memcmp(c->tcb[i].ti->fmspc, ti->fmspc, 6) == 0)
				e = &c->tcb[i];
		if (!e) {
			struct dcap_tcb_entry *n;

			if (c->tcb_count >= MAX_TCB_INFOS) {
				ward_dcap_tcb_info_free(ti);
				return ward_err_set(err, -WARD_E_TOO_BIG, "too many TCB infos");
			}
			n = reallocarray(c->tcb, c->tcb_count + 1, sizeof(*n));
			if (!n) {
				ward_dcap_tcb_info_free(ti);
				return ward_err_set(err, -ENOMEM, "out of memory");
			}
			c->tcb = n;
			e = &c->tcb[c->tcb_count++];
			memset(e, 0, sizeof(*e));
		}
		signed_clear(&e->s);
		ward_dcap_tcb_info_free(e->ti);
		e->ti = ti;
		s = &e->s;
		snprintf(s->name, sizeof(s->name), "%s TCB info (%s)",
			 ti->tee == WARD_DCAP_TEE_TDX ? "TDX" : "SGX", origin);
	} else {
		struct ward_dcap_qe_identity *qi = NULL;
		struct dcap_qe_entry *e;

		r = ward_dcap_qe_identity_parse(copy, size, &qi, err);
		if (r < 0)
			return r;
		if (qi->id == WARD_DCAP_QE_QVE) { /* not used to verify quotes */
			ward_dcap_qe_identity_free(qi);
			return 0;
		}
		e = &c->qe[qi->id];
		signed_clear(&e->s);
		ward_dcap_qe_identity_free(e->qi);
		e->qi = qi;
		s = &e->s;
		snprintf(s->name, sizeof(s->name), "%s identity (%s)",
			 qi->id == WARD_DCAP_QE_TD ? "TD QE" : "QE", origin);
	}
	s->text = WARD_TAKE_PTR(copy);
	s->size = size;
	memcpy(s->sig, sig, 64);
	/* Only this entry needs (re)verifying: c->gen stays, so the caches of
	 * chains and PCKs survive loading another FMSPC's TCB info. */
	return 0;
}

static int add_item(struct ward_dcap_collateral *c, enum ward_dcap_item item, const void *data,
		    size_t size, const char *origin, struct ward_err *err)
{
	uint8_t sig[64];
	size_t off, len;
	int r;

	if (size > WARD_DCAP_COLLATERAL_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: %zu bytes exceed %u", origin, size,
				    WARD_DCAP_COLLATERAL_MAX_SIZE);
	switch (item) {
	case WARD_DCAP_ROOT_CRL:
	case WARD_DCAP_PCK_CRL:
		r = add_crl(c, item == WARD_DCAP_ROOT_CRL, data, size, origin, err);
		break;
	case WARD_DCAP_TCB_INFO:
	case WARD_DCAP_QE_IDENTITY:
		r = ward_dcap_pcs_body_split(
		    data, size, item == WARD_DCAP_TCB_INFO ? "tcbInfo" : "enclaveIdentity", &off,
		    &len, sig, err);
		if (r == 0)
			r = add_signed(c, item, (const char *)data + off, len, sig, origin, err);
		break;
	case WARD_DCAP_TCB_ISSUER_CHAIN:
		r = add_signer(c, &c->tcb_signer, data, size, origin, err);
		break;
	case WARD_DCAP_PCK_CRL_ISSUER_CHAIN:
		/* The PCK CRL is checked against the CA in the quote's own chain. */
		r = 0;
		break;
	default:
		r = ward_err_set(err, -WARD_E_USAGE, "unknown collateral item %d", (int)item);
	}
	if (r < 0)
		return ward_err_prefix(err, "%s", origin);
	return 0;
}

static const char *item_name(enum ward_dcap_item item)
{
	switch (item) {
	case WARD_DCAP_ROOT_CRL:
		return "root CA CRL";
	case WARD_DCAP_PCK_CRL:
		return "PCK CRL";
	case WARD_DCAP_TCB_INFO:
		return "TCB info";
	case WARD_DCAP_QE_IDENTITY:
		return "QE identity";
	case WARD_DCAP_TCB_ISSUER_CHAIN:
		return "TCB signing chain";
	case WARD_DCAP_PCK_CRL_ISSUER_CHAIN:
		return "PCK CRL issuer chain";
	}
	return "collateral item";
}

int ward_dcap_collateral_add(struct ward_dcap_collateral *c, enum ward_dcap_item item,
			     const void *data, size_t size, struct ward_err *err)
{
	return add_item(c, item, data, size, item_name(item), err);
}

int ward_dcap_collateral_add_file(struct ward_dcap_collateral *c, enum ward_dcap_item item,
				  const char *path, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *data = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, WARD_DCAP_COLLATERAL_MAX_SIZE, &data, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s '%s'", item_name(item), path);
	return add_item(c, item, data, size, path, err);
}

int ward_dcap_collateral_add_signed(struct ward_dcap_collateral *c, enum ward_dcap_item item,
				    const char *text, size_t text_size, const uint8_t *sig,
				    size_t sig_size, struct ward_err *err)
{
	int r;

	if (item != WARD_DCAP_TCB_INFO && item != WARD_DCAP_QE_IDENTITY)
		return ward_err_set(err, -WARD_E_USAGE,
				    "only TCB info and QE identity are signed JSON");
	if (sig_size != 64)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s signature of %zu bytes (want 64)",
				    item_name(item), sig_size);
	r = add_signed(c, item, text, text_size, sig, item_name(item), err);
	if (r < 0)
		return ward_err_prefix(err, "%s", item_name(item));
	return 0;
}

static int qvl_str(json_t *root, const char *key, const char **ret, size_t *ret_size,
		   struct ward_err *err)
{
	json_t *v = json_object_get(root, key);

	if (!json_is_string(v))
		return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral.json: \"%s\" missing", key);
	*ret = json_string_value(v);
	*ret_size = json_string_length(v);
	return 0;
}

int ward_dcap_collateral_add_qvl_json(struct ward_dcap_collateral *c, const void *buf, size_t size,
				      struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *root = NULL;
	json_error_t jerr;
	const char *s;
	size_t n;
	int r;

	if (size > WARD_DCAP_COLLATERAL_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "collateral.json too big");
	root = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "collateral.json: JSON error at line %d column %d: %s",
				    jerr.line, jerr.column, root ? "not an object" : jerr.text);

	if ((r = qvl_str(root, "root_ca_crl", &s, &n, err)) < 0 ||
	    (r = add_item(c, WARD_DCAP_ROOT_CRL, s, n, "collateral.json root_ca_crl", err)) < 0 ||
	    (r = qvl_str(root, "pck_crl", &s, &n, err)) < 0 ||
	    (r = add_item(c, WARD_DCAP_PCK_CRL, s, n, "collateral.json pck_crl", err)) < 0 ||
	    (r = qvl_str(root, "tcb_info_issuer_chain", &s, &n, err)) < 0 ||
	    (r = add_item(c, WARD_DCAP_TCB_ISSUER_CHAIN, s, n,
			  "collateral.json tcb_info_issuer_chain", err)) < 0 ||
	    (r = qvl_str(root, "qe_identity_issuer_chain", &s, &n, err)) < 0 ||
	    (r = add_signer(c, &c->qe_signer, (const uint8_t *)s, n,
			    "collateral.json qe_identity_issuer_chain", err)) < 0)
		return r;

	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "tcb_info" : "qe_identity";
		char sig_key[32];
		const char *sig_hex;
		size_t sig_n;
		uint8_t sig[64];

		snprintf(sig_key, sizeof(sig_key), "%s_signature", key);
		if ((r = qvl_str(root, key, &s, &n, err)) < 0 ||
		    (r = qvl_str(root, sig_key, &sig_hex, &sig_n, err)) < 0)
			return r;
		if (ward_hex_decode_fixed(sig_hex, sig_n, sig, 64, NULL) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "collateral.json: %s is not 64 bytes of hex", sig_key);
		r = add_signed(c, i == 0 ? WARD_DCAP_TCB_INFO : WARD_DCAP_QE_IDENTITY, s, n, sig,
			       i == 0 ? "collateral.json tcb_info" : "collateral.json qe_identity",
			       err);
		if (r < 0)
			return ward_err_prefix(err, "collateral.json %s", key);
	}
	return 0;
}

int ward_dcap_collateral_load_qvl_json(const char *path, struct ward_dcap_collateral **ret,
				       struct ward_err *err)
{
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	WARD_AUTOFREE uint8_t *data = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, WARD_DCAP_COLLATERAL_MAX_SIZE, &data, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "collateral '%s'", path);
	r = ward_dcap_collateral_new(&c, err);
	if (r < 0)
		return r;
	r = ward_dcap_collateral_add_qvl_json(c, data, size, err);
	if (r < 0)
		return ward_err_prefix(err, "'%s'", path);
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

int ward_dcap_collateral_open_dir(const char *dir, struct ward_dcap_collateral **ret,
				  struct ward_err *err)
{
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	int r;

	if (!dir || !*dir)
		return ward_err_set(err, -WARD_E_USAGE, "collateral directory not given");
	r = ward_dcap_collateral_new(&c, err);
	if (r < 0)
		return r;
	c->dir = strdup(dir);
	if (!c->dir)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

/* ---- directory-backed loading on first need ----------------------------- */

/* Try "<dir>/dcap/<base><ext>" for each extension; -WARD_E_NOT_FOUND naming
 * the first candidate when none exists. */
static int dir_load(struct ward_dcap_collateral *c, enum ward_dcap_item item, const char *base,
		    const char *const *exts, struct ward_err *err)
{
	char path[WARD_PATH_MAX];

	for (size_t i = 0; exts[i]; i++) {
		snprintf(path, sizeof(path), "%s/dcap/%s%s", c->dir, base, exts[i]);
		if (access(path, F_OK) == 0)
			return ward_dcap_collateral_add_file(c, item, path, err);
	}
	snprintf(path, sizeof(path), "%s/dcap/%s%s", c->dir, base, exts[0]);
	return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral missing: %s '%s'", item_name(item),
			    path);
}

static const char *const crl_exts[] = {".der", ".pem", ".hex", NULL};
static const char *const pem_exts[] = {".pem", NULL};
static const char *const json_exts[] = {".json", NULL};

static int need_root_crl(struct ward_dcap_collateral *c, struct ward_err *err)
{
	if (c->root_crl.crl)
		return 0;
	if (c->dir)
		return dir_load(c, WARD_DCAP_ROOT_CRL, "rootcrl", crl_exts, err);
	return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral missing: root CA CRL");
}

static int need_pck_crl(struct ward_dcap_collateral *c, int which, struct ward_err *err)
{
	int r;

	if (c->pck_crl[which].crl)
		return 0;
	if (c->dir) {
		r = dir_load(c, WARD_DCAP_PCK_CRL, crl_files[which], crl_exts, err);
		if (r < 0)
			return r;
		if (c->pck_crl[which].crl)
			return 0;
		return ward_err_set(err, -WARD_E_VERIFY, "%s/dcap/%s.*: not a CRL of %s", c->dir,
				    crl_files[which], crl_ca_names[which]);
	}
	return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral missing: PCK CRL of %s",
			    crl_ca_names[which]);
}

static int need_tcb_signer(struct ward_dcap_collateral *c, struct ward_err *err)
{
	if (c->tcb_signer.chain)
		return 0;
	if (c->dir)
		return dir_load(c, WARD_DCAP_TCB_ISSUER_CHAIN, "tcb-signing-chain", pem_exts, err);
	return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral missing: TCB signing chain");
}

static struct dcap_tcb_entry *find_tcb(struct ward_dcap_collateral *c, enum ward_dcap_tee tee,
				       const uint8_t fmspc[6])
{
	for (size_t i = 0; i < c->tcb_count; i++)
		if (c->tcb[i].ti->tee == tee && memcmp(c->tcb[i].ti->fmspc, fmspc, 6) == 0)
			return &c->tcb[i];
	return NULL;
}

static int need_tcb_info(struct ward_dcap_collateral *c, enum ward_dcap_tee tee,
			 const uint8_t fmspc[6], struct dcap_tcb_entry **ret, struct ward_err *err)
{
	char fm[13], base[64];
	int r;

	*ret = find_tcb(c, tee, fmspc);
	if (*ret)
		return 0;
	ward_hex_encode(fmspc, 6, fm);
	if (!c->dir)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "collateral missing: %s TCB info for FMSPC %s",
				    tee == WARD_DCAP_TEE_TDX ? "TDX" : "SGX", fm);
	snprintf(base, sizeof(base), "%s/tcbinfo-%s", fm, tee == WARD_DCAP_TEE_TDX ? "tdx" : "sgx");
	r = dir_load(c, WARD_DCAP_TCB_INFO, base, json_exts, err);
	if (r < 0)
		return r;
	*ret = find_tcb(c, tee, fmspc);
	if (!*ret)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "%s/dcap/%s.json is not the %s TCB info of FMSPC %s", c->dir,
				    base, tee == WARD_DCAP_TEE_TDX ? "TDX" : "SGX", fm);
	return 0;
}

static int need_qe_identity(struct ward_dcap_collateral *c, enum ward_dcap_qe_id id,
			    struct ward_err *err)
{
	const char *base = id == WARD_DCAP_QE_TD ? "td-qe-identity" : "qe-identity";
	int r;

	if (c->qe[id].qi)
		return 0;
	if (!c->dir)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "collateral missing: %s identity",
				    id == WARD_DCAP_QE_TD ? "TD QE" : "QE");
	r = dir_load(c, WARD_DCAP_QE_IDENTITY, base, json_exts, err);
	if (r < 0)
		return r;
	if (!c->qe[id].qi)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "%s/dcap/%s.json holds another QE identity", c->dir, base);
	return 0;
}

/* ---- verification of collateral ----------------------------------------- */

static int check_window(const char *what, time_t from, time_t until, time_t at,
			struct ward_err *err)
{
	char t[WARD_RFC3339_SIZE];

	if (at < from) {
		fmt_time(from, t);
		return ward_err_set(err, -WARD_E_EXPIRED, "%s not yet valid (from %s)", what, t);
	}
	if (at > until) {
		fmt_time(until, t);
		return ward_err_set(err, -WARD_E_EXPIRED, "%s expired at %s", what, t);
	}
	return 0;
}

static int check_crl(const struct dcap_crl *crl, time_t at, struct ward_err *err)
{
	return check_window(crl->name, crl->this_update, crl->next_update, at, err);
}

/* Narrow [*from, *until] to the validity of every certificate in list. */
static int narrow_to_certs(struct ward_x509 *const *list, size_t count, time_t *from, time_t *until,
			   struct ward_err *err)
{
	for (size_t i = 0; i < count; i++) {
		time_t nb, na;
		int r = ward_x509_validity(list[i], &nb, &na, err);

		if (r < 0)
			return r;
		*from = WARD_MAX(*from, nb);
		*until = WARD_MIN(*until, na);
	}
	return 0;
}

/* Verify a TCB signing chain to the root with the root CRL at `at`. */
static int signer_verify(struct ward_dcap_collateral *c, struct dcap_signer *s, time_t at,
			 struct ward_err *err)
{
	struct ward_crl *crls[1];
	struct ward_x509_verify_opts opts = {
	    .at = at, .crls = crls, .crl_count = 1, .crl_required = true};
	struct ward_x509 **chain = NULL;
	size_t chain_count = 0;
	time_t from, until;
	int r;

	r = need_root_crl(c, err);
	if (r < 0)
		return r;
	if (s->gen == c->gen && at >= s->from && at <= s->until)
		return 0; /* verified before, and still inside the window it holds for */
	r = check_crl(&c->root_crl, at, err);
	if (r < 0)
		return r;
	crls[0] = c->root_crl.crl;
	r = ward_x509_verify_chain(s->chain[0], s->chain + 1, s->count - 1, &c->root, 1, &opts,
				   &chain, &chain_count, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", s->name);
	from = c->root_crl.this_update;
	until = c->root_crl.next_update;
	r = narrow_to_certs(chain, chain_count, &from, &until, err);
	ward_x509_list_free(chain, chain_count);
	if (r < 0)
		return r;
	if (!s->key) {
		r = ward_x509_pubkey(s->chain[0], &s->key, err);
		if (r < 0)
			return ward_err_prefix(err, "%s", s->name);
	}
	s->from = from;
	s->until = until;
	s->gen = c->gen;
	return 0;
}

/* Verify a signed TCB info / QE identity text with the signer's key. */
static int signed_verify(struct ward_dcap_collateral *c, struct dcap_signer *signer,
			 struct dcap_signed *s, time_t issue, time_t next, time_t at,
			 struct ward_err *err)
{
	int r;

	r = signer_verify(c, signer, at, err);
	if (r < 0)
		return r;
	if (s->gen != c->gen) {
		r = ward_verify(signer->key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, s->text,
				s->size, s->sig, 64, err);
		if (r < 0)
			return ward_err_set(err, -WARD_E_VERIFY, "%s: signature does not verify",
					    s->name);
		s->gen = c->gen;
	}
	return check_window(s->name, issue, next, at, err);
}

/* ---- quote checks ------------------------------------------------------- */

static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					    0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* The attestation-key signature, the QE report signature by the PCK key,
 * and the QE binding. */
static int quote_signatures(const struct ward_dcap_quote *q, const struct ward_pkey *pck_key,
			    struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ak = NULL;
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	static const uint8_t zeros[32];
	uint8_t digest[32];
	int r;

	if (memcmp(q->qe_vendor_id, intel_qe_vendor, 16) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "QE vendor ID is not Intel's");
	r = ward_verify(pck_key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, q->qe_report.raw,
			WARD_DCAP_SGX_REPORT_SIZE, q->qe_report_signature, 64, err);
	if (r < 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE report signature does not verify with the PCK key");
	if ((r = ward_hash_new(WARD_HASH_SHA256, &h, err)) < 0 ||
	    (r = ward_hash_update(h, q->attest_key, 64, err)) < 0 ||
	    (r = ward_hash_update(h, q->qe_auth_data, q->qe_auth_size, err)) < 0 ||
	    (r = ward_hash_final(h, digest, err)) < 0)
		return r;
	if (memcmp(digest, q->qe_report.report_data, 32) != 0 ||
	    memcmp(zeros, q->qe_report.report_data + 32, 32) != 0)
		return ward_err_set(
		    err, -WARD_E_VERIFY,
		    "QE report data is not SHA-256(attestation key || QE auth data)");
	r = ward_pkey_from_ec_xy(WARD_KEY_EC_P256, q->attest_key, 32, q->attest_key + 32, 32, &ak,
				 err);
	if (r < 0)
		return ward_err_set(err, -WARD_E_VERIFY, "attestation key is not a P-256 point");
	r = ward_verify(ak, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, q->signed_data, q->signed_size,
			q->signature, 64, err);
	if (r < 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "quote signature does not verify with the attestation key");
	return 0;
}

/* Which PCK CA issued the leaf: the intermediate's common name. */
static int pck_ca_kind(struct ward_x509 *const *chain, size_t count, int *ret, struct ward_err *err)
{
	WARD_AUTOFREE char *cn = NULL;
	int r;

	if (count < 2)
		return ward_err_set(err, -WARD_E_VERIFY, "PCK chain lacks the PCK CA certificate");
	r = ward_x509_common_name(chain[1], &cn, err);
	if (r < 0)
		return ward_err_prefix(err, "PCK CA certificate");
	for (int i = 0; i < 2; i++)
		if (strcmp(cn, crl_ca_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return ward_err_set(err, -WARD_E_VERIFY, "PCK issued by unknown CA \"%s\"", cn);
}

/* The PCK chain PEM of a quote as certificates (leaf first). */
static int pck_chain_parse(const struct ward_dcap_quote *q, struct ward_x509 ***ret,
			   size_t *ret_count, struct ward_err *err)
{
	size_t pem_size = q->pck_chain_size;
	int r;

	/* Some quote generators NUL-terminate the PEM text. */
	while (pem_size > 0 && q->pck_chain_pem[pem_size - 1] == '\0')
		pem_size--;
	r = ward_x509_list_from_pem(q->pck_chain_pem, pem_size, MAX_CHAIN_CERTS, ret, ret_count,
				    err);
	if (r < 0)
		return ward_err_prefix(err, "PCK certificate chain in the quote");
	return 0;
}

/* Verify a parsed PCK chain at `at` (with CRLs unless crls is NULL); fill
 * the leaf key, the SGX extension and the window in which the result
 * holds. */
static int pck_verify(struct ward_x509 *root, const uint8_t root_fp[32],
		      struct ward_x509 *const *list, size_t count, time_t at,
		      struct ward_crl **crls, size_t crl_count, struct pck_cache_entry *ret,
		      struct ward_err *err)
{
	struct ward_x509_verify_opts opts = {
	    .at = at, .crls = crls, .crl_count = crl_count, .crl_required = crls != NULL};
	struct ward_x509 **chain = NULL;
	size_t chain_count = 0;
	const uint8_t *ext;
	size_t ext_size;
	int r;

	if (count >= 3) {
		/* A root sent along must be Intel's (the built-in copy is used). */
		uint8_t fp[32];

		r = ward_x509_fingerprint(list[count - 1], fp, err);
		if (r < 0)
			return r;
		if (!ward_ct_eq(fp, root_fp, 32))
			return ward_err_set(err, -WARD_E_VERIFY,
					    "PCK certificate chain ends in a root other than the "
					    "Intel SGX Root CA");
	}
	r = ward_x509_verify_chain(list[0], list + 1, count - 1, &root, 1, &opts, &chain,
				   &chain_count, err);
	if (r < 0)
		return ward_err_prefix(err, "PCK certificate chain");
	ret->from = 0;
	ret->until = INT64_MAX;
	r = narrow_to_certs(chain, chain_count, &ret->from, &ret->until, err);
	ward_x509_list_free(chain, chain_count);
	if (r == 0)
		r = ward_x509_extension(list[0], WARD_DCAP_SGX_EXT_OID, &ext, &ext_size, err);
	if (r == 0)
		r = ward_dcap_pck_ext_parse(ext, ext_size, &ret->info, err);
	if (r == 0)
		r = ward_x509_pubkey(list[0], &ret->key, err);
	if (r < 0)
		return ward_err_prefix(err, "PCK certificate");
	return 0;
}

/* The verified PCK of a quote, from the collateral's cache when the same
 * chain was verified before under the same collateral and `at` lies in
 * the window that verification holds for. */
static int pck_lookup(struct ward_dcap_collateral *c, const struct ward_dcap_quote *q, time_t at,
		      const struct pck_cache_entry **ret, struct ward_err *err)
{
	struct pck_cache_entry fresh = {0}, *slot;
	struct ward_x509 **list = NULL;
	struct ward_crl *crls[2];
	size_t count = 0;
	uint8_t hash[32];
	int r, kind;

	r = ward_hash(WARD_HASH_SHA256, q->pck_chain_pem, q->pck_chain_size, hash, err);
	if (r < 0)
		return r;
	r = need_root_crl(c, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < PCK_CACHE_SIZE; i++) {
		struct pck_cache_entry *e = &c->pck[i];

		if (e->key && e->gen == c->gen && memcmp(e->chain_hash, hash, 32) == 0 &&
		    at >= e->from && at <= e->until) {
			*ret = e;
			return 0;
		}
	}

	r = pck_chain_parse(q, &list, &count, err);
	if (r < 0)
		return r;
	r = pck_ca_kind(list, count, &kind, err);
	if (r == 0)
		r = need_pck_crl(c, kind, err);
	if (r == 0)
		r = check_crl(&c->root_crl, at, err);
	if (r == 0)
		r = check_crl(&c->pck_crl[kind], at, err);
	if (r == 0) {
		crls[0] = c->root_crl.crl;
		crls[1] = c->pck_crl[kind].crl;
		r = pck_verify(c->root, c->root_fp, list, count, at, crls, 2, &fresh, err);
	}
	ward_x509_list_free(list, count);
	if (r < 0) {
		ward_pkey_free(fresh.key);
		return r;
	}
	fresh.crl = kind;
	fresh.from =
	    WARD_MAX(fresh.from, WARD_MAX(c->root_crl.this_update, c->pck_crl[kind].this_update));
	fresh.until =
	    WARD_MIN(fresh.until, WARD_MIN(c->root_crl.next_update, c->pck_crl[kind].next_update));
	memcpy(fresh.chain_hash, hash, 32);
	fresh.gen = c->gen;
	slot = &c->pck[c->pck_next];
	c->pck_next = (c->pck_next + 1) % PCK_CACHE_SIZE;
	ward_pkey_free(slot->key);
	*slot = fresh;
	*ret = slot;
	return 0;
}

int ward_dcap_verify(const void *quote, size_t quote_size, struct ward_dcap_collateral *coll,
		     time_t at, json_t **ret_claims, struct ward_err *err)
{
	const struct pck_cache_entry *pck;
	struct ward_dcap_eval e = {0};
	struct ward_dcap_quote q;
	struct dcap_tcb_entry *tcb;
	struct dcap_qe_entry *qe;
	struct dcap_signer *qe_signer;
	enum ward_dcap_qe_id qe_id;
	time_t expires;
	json_t *claims = NULL;
	int r;

	if (!coll || !ret_claims)
		return ward_err_set(err, -WARD_E_USAGE, "ward_dcap_verify: missing argument");
	r = ward_dcap_quote_parse(quote, quote_size, &q, err);
	if (r < 0)
		return ward_err_prefix(err, "DCAP quote");

	r = pck_lookup(coll, &q, at, &pck, err);
	if (r < 0)
		return r;
	r = quote_signatures(&q, pck->key, err);
	if (r < 0)
		return r;

	r = need_tcb_signer(coll, err);
	if (r < 0)
		return r;
	r = need_tcb_info(coll, q.tee_type, pck->info.fmspc, &tcb, err);
	if (r < 0)
		return r;
	r = signed_verify(coll, &coll->tcb_signer, &tcb->s, tcb->ti->issue_date,
			  tcb->ti->next_update, at, err);
	if (r < 0)
		return r;

	qe_id = q.tee_type == WARD_DCAP_TEE_TDX ? WARD_DCAP_QE_TD : WARD_DCAP_QE_SGX;
	r = need_qe_identity(coll, qe_id, err);
	if (r < 0)
		return r;
	qe = &coll->qe[qe_id];
	qe_signer = coll->qe_signer.chain ? &coll->qe_signer : &coll->tcb_signer;
	r = signed_verify(coll, qe_signer, &qe->s, qe->qi->issue_date, qe->qi->next_update, at,
			  err);
	if (r < 0)
		return r;

	r = ward_dcap_evaluate(&q, &pck->info, tcb->ti, qe->qi, &e, err);
	if (r < 0)
		return r;
	if (e.status == WARD_DCAP_TCB_REVOKED) {
		ward_dcap_eval_clear(&e);
		return ward_err_set(err, -WARD_E_POLICY, "TCB status Revoked");
	}

	expires = WARD_MIN(tcb->ti->next_update, qe->qi->next_update);
	expires = WARD_MIN(expires, coll->root_crl.next_update);
	expires = WARD_MIN(expires, coll->pck_crl[pck->crl].next_update);
	r = ward_dcap_claims_build(&q, &pck->info, tcb->ti, qe->qi, &e, expires, &claims, err);
	ward_dcap_eval_clear(&e);
	if (r < 0)
		return r;
	*ret_claims = claims;
	return 0;
}

int ward_dcap_verify_quote_only(const void *quote, size_t quote_size, time_t at,
				struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *root = NULL;
	struct pck_cache_entry pck = {0};
	struct ward_x509 **list = NULL;
	struct ward_dcap_quote q;
	size_t count = 0;
	int r, kind;

	r = ward_dcap_quote_parse(quote, quote_size, &q, err);
	if (r < 0)
		return ward_err_prefix(err, "DCAP quote");
	r = load_root(&root, err);
	if (r < 0)
		return r;
	r = pck_chain_parse(&q, &list, &count, err);
	if (r < 0)
		return r;
	r = pck_ca_kind(list, count, &kind, err);
	if (r == 0)
		r = pck_verify(root, ward_dcap_intel_root_fingerprint, list, count, at, NULL, 0,
			       &pck, err);
	ward_x509_list_free(list, count);
	if (r == 0)
		r = quote_signatures(&q, pck.key, err);
	ward_pkey_free(pck.key);
	return r;
}

int ward_dcap_collateral_check_tcb_info(struct ward_dcap_collateral *c, enum ward_dcap_tee tee,
					const uint8_t fmspc[6], time_t at,
					const struct ward_dcap_tcb_info **ret, struct ward_err *err)
{
	struct dcap_tcb_entry *tcb;
	int r;

	r = need_tcb_signer(c, err);
	if (r < 0)
		return r;
	r = need_tcb_info(c, tee, fmspc, &tcb, err);
	if (r < 0)
		return r;
	r = signed_verify(c, &c->tcb_signer, &tcb->s, tcb->ti->issue_date, tcb->ti->next_update, at,
			  err);
	if (r < 0)
		return r;
	*ret = tcb->ti;
	return 0;
}

int ward_dcap_collateral_check_qe_identity(struct ward_dcap_collateral *c, enum ward_dcap_qe_id id,
					   time_t at, const struct ward_dcap_qe_identity **ret,
					   struct ward_err *err)
{
	struct dcap_qe_entry *qe;
	int r;

	r = need_tcb_signer(c, err);
	if (r < 0)
		return r;
	r = need_qe_identity(c, id, err);
	if (r < 0)
		return r;
	qe = &c->qe[id];
	r = signed_verify(c, c->qe_signer.chain ? &c->qe_signer : &c->tcb_signer, &qe->s,
			  qe->qi->issue_date, qe->qi->next_update, at, err);
	if (r < 0)
		return r;
	*ret = qe->qi;
	return 0;
}
