/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator service: state, identity, KBS protocol, admin API. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coord-internal.h"
#include "ward/ca.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/http.h"
#include "ward/jose.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/util.h"

#define SESSION_BUCKETS 16384
#define SESSION_MAX 200000
#define ADMIN_NONCE_TTL 120
#define BODY_MAX (1u << 20)
#define NONCE_BYTES 32

#define NS_META "meta"
#define NS_MANIFEST "manifest"
#define NS_SECRET "secret"
#define NS_RECOVERY "recovery"

static const char AAD_DATAKEY[] = "ward-datakey-v1";

struct session {
	struct session *next;
	char id[33];
	char nonce[64];
	int64_t expires;
	bool admin; /* a nonce for signed admin requests */
	bool used;  /* nonce consumed by an attestation */
	bool attested;
	enum ward_tee_type tee;
	char *package;				   /* owned */
	char workload[WARD_MANIFEST_NAME_MAX + 1]; /* bundle fetched for, or "" */
	char *tee_jwk; /* owned: canonical JSON text of the attested key (small: a
			* parsed key is kept only in the recent-key ring) */
	int key_slot;  /* index into ward_coord.recent_keys, or -1 */
};

/* The parsed tee keys of the most recently attested sessions: a TEE fetches
 * its resources right after attesting, and re-importing (and re-validating)
 * the key from its JWK text for every request cost ~8% of a flow's CPU.
 * Bounded, so memory stays ~0.4 KB per session whatever the rate; an older
 * session falls back to its JWK text. */
#define RECENT_KEYS 256

struct recent_key {
	struct session *session; /* borrowed; NULL when the slot is free */
	struct ward_pkey *key;	 /* owned */
	json_t *jwk;		 /* owned */
};

/* Latency histogram bucket bounds (seconds) for /metrics. */
static const double BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
#define NBUCKETS (sizeof(BUCKETS) / sizeof(BUCKETS[0]))

struct metrics {
	uint64_t requests[6];		      /* by status class: 1xx..5xx, other */
	uint64_t attest[WARD_TEE_SGX + 1][2]; /* [tee][accepted] */
	uint64_t releases, release_refusals;
	uint64_t latency_count, latency_buckets[NBUCKETS];
	double latency_sum;
};

/* Group commit, per event loop: attestation and release replies wait (a
 * few ms) for their audit records to be committed together; each reply is
 * sent from the loop that owns its request. */
struct coord_loop {
	struct ward_coord *c;
	struct pending *pending; /* owned, PENDING_MAX entries */
	size_t pending_count;
	struct ward_http_timer *timer; /* on this loop */
};

struct ward_coord {
	struct ward_coord_opts opts;
	struct ward_store *store;
	uint8_t datakey[32];
	struct ward_pkey *tls_key; /* also signs KBS tokens (ES256) */
	struct ward_x509 *tls_cert;
	char *tls_cert_pem;
	uint8_t spki_hash[32];
	struct ward_ca *ca;
	char *ca_bundle;
	struct ward_manifest *manifest; /* current, or NULL */
	uint64_t manifest_seq;
	struct ward_tls_ctx *tls;
	struct ward_http_server *srv;
	uint16_t port, metrics_port;
	struct session *sessions[SESSION_BUCKETS];
	struct recent_key recent_keys[RECENT_KEYS];
	unsigned recent_next;
	size_t session_count;
	struct metrics m;
	/* The HTTP server runs several event loops (threads). Everything in
	 * this struct is used under lock; kbs_attest() and kbs_resource()
	 * drop it only around pure computation on their own copies (evidence
	 * verification, JWE encryption). */
	pthread_mutex_t lock;
	struct coord_loop loops[WARD_HTTP_LOOPS_MAX];
	unsigned loop_count;
	struct ward_http_timer *sweep_timer; /* drops expired sessions every few seconds */
};

#define SWEEP_USEC 5000000

struct pending {
	struct ward_http_req *req;
	int status;
	const char *content_type;
	char *body;   /* owned */
	char *cookie; /* owned, may be NULL */
	const char *kind;
	char *subject;	/* owned */
	json_t *detail; /* owned */
};

#define PENDING_MAX 256
#define GROUP_COMMIT_USEC 1500

/* Event loops: opts->loops, else $WARD_COORD_LOOPS, else one per online
 * CPU up to 4. */
static unsigned coord_loops(const struct ward_coord_opts *opts)
{
	const char *env = getenv("WARD_COORD_LOOPS");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t n = 0;

	if (opts->loops)
		n = opts->loops;
	else if (env && ward_parse_u32(env, &n) < 0)
		n = 0;
	if (n == 0)
		n = cpus > 0 ? (uint32_t)WARD_MIN(cpus, 4) : 1;
	return WARD_MIN(n, (uint32_t)WARD_HTTP_LOOPS_MAX);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- sessions ---- */

static unsigned bucket_of(const char *id)
{
	unsigned h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % SESSION_BUCKETS;
}

static void recent_key_clear(struct recent_key *k)
{
	if (k->session)
		k->session->key_slot = -1;
	k->session = NULL;
	k->key = ward_pkey_free(k->key);
	json_decref(k->jwk);
	k->jwk = NULL;
}

/* Remember key and jwk (new references taken) as session s's parsed key. */
static void recent_key_put(struct ward_coord *c, struct session *s, struct ward_pkey *key,
			   json_t *jwk)
{
	unsigned slot = c->recent_next;
	struct recent_key *k = &c->recent_keys[slot];

	c->recent_next = (slot + 1) % RECENT_KEYS;
	recent_key_clear(k);
	k->key = ward_pkey_ref(key);
	k->jwk = json_incref(jwk);
	if (!k->key || !k->jwk) {
		recent_key_clear(k);
		return;
	}
	k->session = s;
	s->key_slot = (int)slot;
}

static void session_free(struct ward_coord *c, struct session *s)
{
	if (s->key_slot >= 0)
		recent_key_clear(&c->recent_keys[s->key_slot]);
	free(s->package);
	free(s->tee_jwk);
	free(s);
}

static void sessions_sweep(struct ward_coord *c, bool all)
{
	int64_t now = now_s();

	for (size_t b = 0; b < SESSION_BUCKETS; b++) {
		struct session **pp = &c->sessions[b];

		while (*pp) {
			struct session *s = *pp;

			if (all || s->expires <= now) {
				*pp = s->next;
				session_free(c, s);
				c->session_count--;
			} else {
				pp = &s->next;
			}
		}
	}
}

static void sweep_tick(void *ud)
{
	struct ward_coord *c = ud;

	pthread_mutex_lock(&c->lock);
	sessions_sweep(c, false);
	pthread_mutex_unlock(&c->lock);
	ward_http_timer_arm(c->sweep_timer, SWEEP_USEC);
}

static struct session *session_find(struct ward_coord *c, const char *id)
{
	for (struct session *s = c->sessions[bucket_of(id)]; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s->expires > now_s() ? s : NULL;
	return NULL;
}

static void session_drop(struct ward_coord *c, struct session *victim)
{
	struct session **pp = &c->sessions[bucket_of(victim->id)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == victim) {
			*pp = victim->next;
			session_free(c, victim);
			c->session_count--;
			return;
		}
}

static int session_new(struct ward_coord *c, int64_t ttl, bool admin, struct session **ret,
		       struct ward_err *err)
{
	uint8_t raw[16], nonce[NONCE_BYTES];
	struct session *s;
	unsigned b;
	int r;

	if (c->session_count >= SESSION_MAX)
		sessions_sweep(c, false);
	if (c->session_count >= SESSION_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "too many sessions");
	s = calloc(1, sizeof(*s));
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	s->key_slot = -1;
	r = ward_random(raw, sizeof(raw), err);
	if (r >= 0)
		r = ward_random(nonce, sizeof(nonce), err);
	if (r < 0) {
		free(s);
		return r;
	}
	ward_hex_encode(raw, sizeof(raw), s->id);
	ward_base64_encode(nonce, sizeof(nonce), s->nonce);
	s->expires = now_s() + ttl;
	s->admin = admin;
	b = bucket_of(s->id);
	s->next = c->sessions[b];
	c->sessions[b] = s;
	c->session_count++;
	*ret = s;
	return 0;
}

/* ---- replies ---- */

static void reply_json(struct ward_coord *c, struct ward_http_req *req, int status, json_t *j,
		       const char *const *headers)
{
	WARD_AUTOFREE char *text = NULL;

	(void)c;
	if (!j || ward_json_dump(j, &text, NULL) < 0) {
		ward_http_reply(req, 500, "text/plain", "internal error\n", 15, NULL);
		return;
	}
	ward_http_reply(req, status, "application/json", text, strlen(text), headers);
}

/* RFC 7807 problem details, with the KBS error type names. */
static void reply_problem(struct ward_coord *c, struct ward_http_req *req, int status,
			  const char *type, const char *detail)
{
	WARD_AUTOJSON json_t *j = NULL;
	char t[160];

	snprintf(t, sizeof(t), "https://github.com/confidential-containers/kbs/errors/%s", type);
	j = json_pack("{s:s, s:s, s:s, s:i}", "type", t, "title", type, "detail", detail, "status",
		      status);
	if (!j) {
		ward_http_reply(req, status, "text/plain", detail, strlen(detail), NULL);
		return;
	}
	{
		WARD_AUTOFREE char *text = NULL;

		if (ward_json_dump(j, &text, NULL) < 0) {
			ward_http_reply(req, 500, "text/plain", "internal error\n", 15, NULL);
			return;
		}
		ward_http_reply(req, status, "application/problem+json", text, strlen(text), NULL);
	}
	(void)c;
}

static char *problem_text(int status, const char *type, const char *detail)
{
	WARD_AUTOJSON json_t *j = NULL;
	char t[160];
	char *text = NULL;

	snprintf(t, sizeof(t), "https://github.com/confidential-containers/kbs/errors/%s", type);
	j = json_pack("{s:s, s:s, s:s, s:i}", "type", t, "title", type, "detail", detail, "status",
		      status);
	if (j)
		(void)ward_json_dump(j, &text, NULL);
	return text;
}

/* Commit the audit records of L's queued replies and send them. Called
 * with c->lock held, on L's loop (or after the loops stopped). */
static void flush_pending_locked(struct coord_loop *L)
{
	struct ward_coord *c = L->c;
	struct ward_err err = WARD_ERR_INIT;
	int r;

	if (L->pending_count == 0)
		return;
	r = ward_store_begin(c->store, &err);
	for (size_t i = 0; r >= 0 && i < L->pending_count; i++) {
		struct pending *p = &L->pending[i];

		r = ward_audit_append(c->store, now_s(), p->kind, p->subject, p->detail, NULL,
				      &err);
	}
	if (r >= 0)
		r = ward_store_commit(c->store, &err);
	else
		ward_store_rollback(c->store);
	if (r < 0)
		ward_error("audit commit failed, refusing %zu replies: %s", L->pending_count,
			   err.msg);
	for (size_t i = 0; i < L->pending_count; i++) {
		struct pending *p = &L->pending[i];

		if (r < 0 && p->status == 200) {
			/* No audit record, no release: fail closed. */
			WARD_AUTOFREE char *text =
			    problem_text(500, "Internal", "audit log unavailable");

			ward_http_reply(p->req, 500, "application/problem+json", text ? text : "",
					text ? strlen(text) : 0, NULL);
		} else {
			ward_http_reply(p->req, p->status, p->content_type, p->body ? p->body : "",
					p->body ? strlen(p->body) : 0,
					p->cookie
					    ? (const char *const[]){"Set-Cookie", p->cookie, NULL}
					    : NULL);
		}
		if (p->body)
			ward_wipe(p->body, strlen(p->body));
		free(p->body);
		free(p->cookie);
		free(p->subject);
		json_decref(p->detail);
	}
	L->pending_count = 0;
}

static void flush_pending(void *ud)
{
	struct coord_loop *L = ud;

	pthread_mutex_lock(&L->c->lock);
	flush_pending_locked(L);
	pthread_mutex_unlock(&L->c->lock);
}

/* Queue a reply until its audit record (kind, subject, detail: consumed)
 * is committed. body and cookie are consumed too. */
static void defer_reply(struct ward_coord *c, struct ward_http_req *req, int status,
			const char *content_type, char *body, char *cookie, const char *kind,
			json_t *detail)
{
	struct coord_loop *L = &c->loops[ward_http_req_loop(req)];
	struct pending *p;

	if (L->pending_count >= PENDING_MAX)
		flush_pending_locked(L);
	p = &L->pending[L->pending_count];
	*p = (struct pending){.req = req,
			      .status = status,
			      .content_type = content_type,
			      .body = body,
			      .cookie = cookie,
			      .kind = kind,
			      .subject = strdup(ward_http_req_peer(req)),
			      .detail = detail};
	if (!p->detail || !p->subject || !p->body) {
		WARD_AUTOFREE char *text = problem_text(500, "Internal", "out of memory");

		ward_http_reply(req, 500, "application/problem+json", text ? text : "",
				text ? strlen(text) : 0, NULL);
		free(body);
		free(cookie);
		free(p->subject);
		json_decref(detail);
		return;
	}
	if (++L->pending_count == 1)
		ward_http_timer_arm(L->timer, GROUP_COMMIT_USEC);
}

static int status_for(int code)
{
	switch (-code) {
	case WARD_E_MALFORMED:
	case WARD_E_TOO_BIG:
	case WARD_E_USAGE:
	case WARD_E_UNSUPPORTED:
		return 400;
	case WARD_E_VERIFY:
	case WARD_E_EXPIRED:
		return 401;
	case WARD_E_POLICY:
		return 403;
	case WARD_E_NOT_FOUND:
		return 404;
	case WARD_E_STATE:
	case EEXIST:
		return 409;
	default:
		return 500;
	}
}

/* ---- audit (in its own transaction unless one is open) ---- */

static int audit(struct ward_coord *c, const char *kind, const char *subject, json_t *detail,
		 struct ward_err *err)
{
	bool own = !ward_store_in_transaction(c->store);
	int r;

	if (!detail)
		return ward_err_set(err, -ENOMEM, "audit: out of memory");
	if (own) {
		r = ward_store_begin(c->store, err);
		if (r < 0)
			goto out;
	}
	r = ward_audit_append(c->store, now_s(), kind, subject, detail, NULL, err);
	if (own) {
		if (r >= 0)
			r = ward_store_commit(c->store, err);
		else
			ward_store_rollback(c->store);
	}
out:
	json_decref(detail);
	return r;
}

/* ward_audit_append() with a new-reference detail it consumes. */
static int audit_new(struct ward_store *st, const char *kind, const char *subject, json_t *detail,
		     struct ward_err *err)
{
	int r;

	if (!detail)
		return ward_err_set(err, -ENOMEM, "audit: out of memory");
	r = ward_audit_append(st, now_s(), kind, subject, detail, NULL, err);
	json_decref(detail);
	return r;
}

/* ---- secrets ---- */

static void secret_aad(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "ward-secret-v1:%s", name);
}

static int secret_store(struct ward_coord *c, const char *name, json_t *value, struct ward_err *err)
{
	WARD_AUTOFREE char *text = NULL;
	WARD_AUTOFREE uint8_t *blob = NULL;
	size_t size;
	char aad[128];
	int r;

	r = ward_json_dump(value, &text, err);
	if (r < 0)
		return r;
	secret_aad(aad, sizeof(aad), name);
	r = coord_blob_seal(c->datakey, aad, text, strlen(text), &blob, &size, err);
	ward_wipe(text, strlen(text));
	if (r >= 0)
		r = ward_store_put(c->store, NS_SECRET, name, blob, size, err);
	return r;
}

static int secret_load(struct ward_coord *c, const char *name, json_t **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *blob = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
	size_t size;
	char aad[128];
	int r;

	r = ward_store_get(c->store, NS_SECRET, name, &blob, &size, err);
	if (r < 0)
		return r;
	secret_aad(aad, sizeof(aad), name);
	r = coord_blob_open(c->datakey, aad, blob, size, &pt, err);
	if (r >= 0)
		r = ward_json_parse(pt->data, pt->size, WARD_STORE_VALUE_MAX, ret, err);
	return r;
}

static int pem_pair_json(const struct ward_pkey *k, json_t *j, struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *priv = NULL;
	WARD_AUTOFREE char *pub = NULL;
	int r;

	r = ward_pkey_private_pem(k, &priv, err);
	if (r >= 0)
		r = ward_pkey_public_pem(k, &pub, err);
	if (r < 0)
		return r;
	if (json_object_set_new(j, "private", json_string((const char *)priv->data)) < 0 ||
	    json_object_set_new(j, "public", json_string(pub)) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int json_strings(const json_t *a, const char **out, size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 0; a && i < json_array_size(a) && n < max; i++)
		out[n++] = json_string_value(json_array_get(a, i));
	*ret_n = n;
	return 0;
}

/* Generate a fresh value for a manifest secret (not for "user"). */
static int secret_generate(struct ward_coord *c, const struct ward_manifest_secret *s, json_t **ret,
			   struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = json_pack("{s:s, s:I}", "type", ward_secret_type_name(s->type),
					    "created", (json_int_t)now_s());
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = NULL;
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOFREE char *text = NULL, *pem = NULL;
	int r = 0;

	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	switch (s->type) {
	case WARD_SECRET_SYMMETRIC:
	case WARD_SECRET_PASSWORD:
		raw = malloc((size_t)s->size);
		if (!raw)
			return ward_err_set(err, -ENOMEM, "out of memory");
		r = ward_random(raw, (size_t)s->size, err);
		if (r < 0)
			return r;
		if (s->type == WARD_SECRET_PASSWORD) {
			static const char alphabet[] =
			    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

			text = calloc(1, (size_t)s->size + 1);
			if (!text)
				return ward_err_set(err, -ENOMEM, "out of memory");
			/* 57 symbols: reject bytes >= 228 to avoid modulo bias. */
			for (int64_t i = 0, got = 0; got < s->size; i++) {
				uint8_t b;

				if (i >= s->size) {
					r = ward_random(raw, (size_t)s->size, err);
					if (r < 0)
						return r;
					i = 0;
				}
				b = raw[i];
				if (b >= 228)
					continue;
				text[got++] = alphabet[b % 57];
			}
			r = json_object_set_new(j, "value", json_string(text));
			ward_wipe(text, (size_t)s->size);
		} else {
			text = ward_base64url_encode_alloc(raw, (size_t)s->size);
			if (!text)
				return ward_err_set(err, -ENOMEM, "out of memory");
			r = json_object_set_new(j, "value", json_string(text));
			ward_wipe(text, strlen(text));
		}
		ward_wipe(raw, (size_t)s->size);
		if (r < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
		break;
	case WARD_SECRET_EC_P256:
	case WARD_SECRET_EC_P384:
	case WARD_SECRET_RSA:
	case WARD_SECRET_CERT:
		r = ward_pkey_generate(s->type == WARD_SECRET_EC_P384 ? WARD_KEY_EC_P384
				       : s->type == WARD_SECRET_RSA   ? WARD_KEY_RSA
								      : WARD_KEY_EC_P256,
				       (unsigned)s->size, &k, err);
		if (r >= 0)
			r = pem_pair_json(k, j, err);
		if (r >= 0 && s->type == WARD_SECRET_CERT) {
			const char *dns[16], *ips[16];
			struct ward_ca_leaf leaf = {.subject = s->cert_subject,
						    .not_before = now_s() - 300,
						    .not_after =
							now_s() + s->cert_validity_days * 86400,
						    .client_auth = true,
						    .dns = dns,
						    .ips = ips};

			json_strings(s->cert_dns, dns, 16, &leaf.dns_count);
			json_strings(s->cert_ips, ips, 16, &leaf.ip_count);
			r = ward_ca_issue(c->ca, k, &leaf, &cert, err);
			if (r >= 0)
				r = ward_x509_pem(cert, &pem, err);
			if (r >= 0 && json_object_set_new(j, "cert", json_string(pem)) < 0)
				r = ward_err_set(err, -ENOMEM, "out of memory");
		}
		if (r < 0)
			return ward_err_prefix(err, "secret %s", s->name);
		break;
	case WARD_SECRET_USER:
		return ward_err_set(err, -WARD_E_STATE, "secret %s is set by users", s->name);
	}
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

/* The bytes of one part of a stored secret (for templates and resources). */
static int secret_bytes(json_t *val, const struct ward_manifest_secret *s, const char *part,
			uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	const char *v = NULL;

	if (s->type == WARD_SECRET_SYMMETRIC || s->type == WARD_SECRET_USER) {
		if (ward_json_get_string(val, "$", "value", true, &v, err) < 0)
			return -WARD_E_MALFORMED;
		return ward_base64url_decode(v, strlen(v), ret, ret_size, err);
	}
	if (!part)
		part = s->type == WARD_SECRET_CERT	 ? "cert"
		       : s->type == WARD_SECRET_PASSWORD ? "value"
							 : "private";
	if (s->type == WARD_SECRET_PASSWORD)
		part = "value";
	if (ward_json_get_string(val, "$", part, true, &v, err) < 0)
		return -WARD_E_MALFORMED;
	*ret = (uint8_t *)strdup(v);
	if (!*ret)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_size = strlen(v);
	return 0;
}

struct resolve_ctx {
	struct ward_coord *c;
};

static int resolve_secret(void *ud, const struct ward_manifest_secret *s, const char *part,
			  uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	struct resolve_ctx *rc = ud;
	WARD_AUTOJSON json_t *val = NULL;
	int r;

	r = secret_load(rc->c, s->name, &val, err);
	if (r == -WARD_E_NOT_FOUND && s->type == WARD_SECRET_USER)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "user secret %s has not been set yet",
				    s->name);
	if (r < 0)
		return r;
	return secret_bytes(val, s, part, ret, ret_size, err);
}

/* ---- state: data key, identity, manifest ---- */

static int datakey_wrap_recovery(struct ward_coord *c, const struct ward_manifest *m,
				 struct ward_err *err)
{
	for (size_t i = 0; i < m->recovery_key_count; i++) {
		WARD_AUTOFREE uint8_t *ct = NULL;
		size_t size;
		int r;

		r = ward_rsa_oaep_encrypt(m->recovery_keys[i].key, WARD_HASH_SHA256, c->datakey, 32,
					  &ct, &size, err);
		if (r >= 0)
			r = ward_store_put(c->store, NS_RECOVERY, m->recovery_keys[i].name, ct,
					   size, err);
		if (r < 0)
			return ward_err_prefix(err, "recovery key %s", m->recovery_keys[i].name);
	}
	return 0;
}

static int seal_datakey(struct ward_coord *c, const struct ward_coord_tee *tee,
			struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *blob = NULL;
	uint8_t sk[32];
	WARD_CLEANUP_ERASE(sk);
	size_t size;
	int r;

	r = tee->sealing_key(tee->ctx, sk, err);
	if (r >= 0)
		r = coord_blob_seal(sk, AAD_DATAKEY, c->datakey, 32, &blob, &size, err);
	if (r >= 0)
		r = ward_store_put(c->store, NS_META, "datakey.sealed", blob, size, err);
	return r;
}

static int put_sealed(struct ward_coord *c, const char *key, const void *data, size_t size,
		      struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *blob = NULL;
	size_t bsize;
	char aad[64];
	int r;

	snprintf(aad, sizeof(aad), "ward-meta-v1:%s", key);
	r = coord_blob_seal(c->datakey, aad, data, size, &blob, &bsize, err);
	if (r >= 0)
		r = ward_store_put(c->store, NS_META, key, blob, bsize, err);
	return r;
}

static int get_sealed(struct ward_coord *c, const char *key, struct ward_secret **ret,
		      struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *blob = NULL;
	size_t bsize;
	char aad[64];
	int r;

	snprintf(aad, sizeof(aad), "ward-meta-v1:%s", key);
	r = ward_store_get(c->store, NS_META, key, &blob, &bsize, err);
	if (r >= 0)
		r = coord_blob_open(c->datakey, aad, blob, bsize, ret, err);
	return r;
}

/* The coordinator's self-signed TLS certificate for key: localhost,
 * 127.0.0.1, ::1 and the manifest's coordinator names (m may be NULL). */
static int issue_tls_cert(const struct ward_pkey *key, const struct ward_manifest *m,
			  struct ward_x509 **ret, struct ward_err *err)
{
	const char *dns[17] = {"localhost"}, *ips[18] = {"127.0.0.1", "::1"};
	size_t nd = 0, ni = 0;
	int64_t now = now_s();
	struct ward_x509_template t = {.subject = "CN=ward-coordinator,O=Ward",
				       .not_before = now - 3600,
				       .not_after = now + 10L * 365 * 86400,
				       .path_len = -1,
				       .key_usage = WARD_KU_DIGITAL_SIGNATURE,
				       .ext_key_usage = WARD_EKU_SERVER_AUTH,
				       .dns_names = dns,
				       .ip_addresses = ips};

	if (m) {
		json_strings(m->coord_dns, dns + 1, 16, &nd);
		json_strings(m->coord_ips, ips + 2, 16, &ni);
	}
	t.dns_count = 1 + nd;
	t.ip_count = 2 + ni;
	return ward_x509_create(&t, key, NULL, key, WARD_SIG_ECDSA_SHA256, ret, err);
}

static int identity_json(const struct ward_pkey *key, const struct ward_x509 *cert, char **ret,
			 struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *key_pem = NULL;
	WARD_AUTOFREE char *cert_pem = NULL;
	WARD_AUTOJSON json_t *id = NULL;
	int r;

	r = ward_pkey_private_pem(key, &key_pem, err);
	if (r >= 0)
		r = ward_x509_pem(cert, &cert_pem, err);
	if (r < 0)
		return r;
	id = json_pack("{s:s, s:s}", "key", (const char *)key_pem->data, "cert", cert_pem);
	if (!id)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return ward_json_dump(id, ret, err);
}

static int first_start(struct ward_coord *c, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *ca_blob = NULL;
	WARD_CLEANUP(ward_ca_freep) struct ward_ca *ca = NULL;
	WARD_AUTOFREE char *text = NULL;
	int r;

	r = ward_random(c->datakey, 32, err);
	if (r >= 0)
		r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &key, err);
	if (r >= 0)
		r = issue_tls_cert(key, NULL, &cert, err);
	if (r >= 0)
		r = identity_json(key, cert, &text, err);
	if (r >= 0)
		r = ward_ca_create("Ward Coordinator", now_s(), &ca, err);
	if (r >= 0)
		r = ward_ca_export(ca, &ca_blob, err);
	if (r < 0)
		return ward_err_prefix(err, "creating the coordinator identity");
	r = ward_store_begin(c->store, err);
	if (r < 0)
		return r;
	r = seal_datakey(c, c->opts.tee, err);
	if (r >= 0)
		r = put_sealed(c, "identity", text, strlen(text), err);
	if (r >= 0)
		r = put_sealed(c, "ca", ca_blob->data, ca_blob->size, err);
	if (r >= 0)
		r = audit_new(c->store, "coordinator.created", "coordinator",
			      json_pack("{s:s}", "tee", ward_tee_name(c->opts.tee->type)), err);
	ward_wipe(text, strlen(text));
	if (r >= 0)
		r = ward_store_commit(c->store, err);
	else
		ward_store_rollback(c->store);
	return r;
}

static int load_identity(struct ward_coord *c, struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *id = NULL, *ca = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE uint8_t *spki = NULL;
	const char *key, *cert;
	size_t spki_size;
	int r;

	r = get_sealed(c, "identity", &id, err);
	if (r >= 0)
		r = ward_json_parse(id->data, id->size, 65536, &j, err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "key", true, &key, err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "cert", true, &cert, err);
	if (r >= 0)
		r = ward_pkey_from_pem(key, strlen(key), &c->tls_key, err);
	if (r >= 0)
		r = ward_x509_from_pem(cert, strlen(cert), &c->tls_cert, err);
	if (r >= 0)
		r = ward_x509_pem(c->tls_cert, &c->tls_cert_pem, err);
	if (r >= 0)
		r = ward_pkey_public_der(c->tls_key, &spki, &spki_size, err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, spki, spki_size, c->spki_hash, err);
	if (r >= 0)
		r = get_sealed(c, "ca", &ca, err);
	if (r >= 0)
		r = ward_ca_import(ca->data, ca->size, &c->ca, err);
	if (r >= 0)
		r = ward_ca_bundle_pem(c->ca, &c->ca_bundle, err);
	if (r < 0)
		return ward_err_prefix(err, "loading the coordinator identity");
	return 0;
}

static int load_manifest(struct ward_coord *c, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *cur = NULL, *text = NULL;
	size_t size, tsize;
	uint64_t seq;
	int r;

	r = ward_store_get(c->store, NS_META, "manifest.current", &cur, &size, err);
	if (r == -WARD_E_NOT_FOUND)
		return 0;
	if (r < 0)
		return r;
	if (ward_parse_u64((const char *)cur, &seq) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "state: bad manifest.current");
	{
		char key[24];

		snprintf(key, sizeof(key), "%020" PRIu64, seq);
		r = ward_store_get(c->store, NS_MANIFEST, key, &text, &tsize, err);
	}
	if (r >= 0)
		r = ward_manifest_parse(text, tsize, &c->manifest, err);
	if (r < 0)
		return ward_err_prefix(err, "loading manifest %" PRIu64, seq);
	c->manifest_seq = seq;
	return 0;
}

/* Install m as the new manifest in one transaction: history entry,
 * secrets generated for new names, recovery wraps, audit. */
static bool tls_names_changed(const struct ward_manifest *old, const struct ward_manifest *m)
{
	json_t *a = old ? json_object_get(old->root, "coordinator") : NULL;
	json_t *b = json_object_get(m->root, "coordinator");

	return !(a == b || (a && b && json_equal(a, b)));
}

static int install_manifest(struct ward_coord *c, struct ward_manifest *m, const char *signer,
			    struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *new_cert = NULL;
	WARD_AUTOFREE char *text = NULL;
	char key[24], seqtext[24];
	uint64_t seq = c->manifest_seq + 1;
	json_t *generated = json_array();
	int r;

	if (!generated)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_manifest_canonical(m, &text, err);
	if (r >= 0)
		r = ward_store_begin(c->store, err);
	if (r < 0) {
		json_decref(generated);
		return r;
	}
	snprintf(key, sizeof(key), "%020" PRIu64, seq);
	snprintf(seqtext, sizeof(seqtext), "%" PRIu64, seq);
	r = ward_store_insert(c->store, NS_MANIFEST, key, text, strlen(text), err);
	if (r >= 0)
		r = ward_store_put(c->store, NS_META, "manifest.current", seqtext, strlen(seqtext),
				   err);
	for (size_t i = 0; r >= 0 && i < m->secret_count; i++) {
		const struct ward_manifest_secret *s = &m->secrets[i];
		WARD_AUTOJSON json_t *old = NULL, *val = NULL;
		struct ward_err e2 = WARD_ERR_INIT;

		if (s->type == WARD_SECRET_USER)
			continue;
		if (secret_load(c, s->name, &old, &e2) >= 0) {
			const char *t = json_string_value(json_object_get(old, "type"));

			if (t && strcmp(t, ward_secret_type_name(s->type)) == 0)
				continue; /* kept across manifest updates */
		}
		r = secret_generate(c, s, &val, err);
		if (r >= 0)
			r = secret_store(c, s->name, val, err);
		if (r >= 0)
			json_array_append_new(generated, json_string(s->name));
	}
	if (r >= 0)
		r = datakey_wrap_recovery(c, m, err);
	if (r >= 0 && tls_names_changed(c->manifest, m)) {
		/* Same key (what clients pin and evidence binds), new names. */
		WARD_AUTOFREE char *id = NULL;

		r = issue_tls_cert(c->tls_key, m, &new_cert, err);
		if (r >= 0)
			r = identity_json(c->tls_key, new_cert, &id, err);
		if (r >= 0)
			r = put_sealed(c, "identity", id, strlen(id), err);
		if (id)
			ward_wipe(id, strlen(id));
	}
	if (r >= 0)
		r = audit_new(c->store, seq == 1 ? "manifest.set" : "manifest.update", signer,
			      json_pack("{s:s, s:I, s:O}", "hash", m->hash_hex, "seq",
					(json_int_t)seq, "generated", generated),
			      err);
	json_decref(generated);
	if (r >= 0)
		r = ward_store_commit(c->store, err);
	else
		ward_store_rollback(c->store);
	if (r < 0)
		return r;
	if (new_cert) {
		struct ward_tls_ctx *tls = NULL;
		char *pem = NULL;
		struct ward_err e2 = WARD_ERR_INIT;

		/* Committed: serve the new certificate from now on. If that fails
		 * the old one keeps being served until a restart. */
		if (ward_x509_pem(new_cert, &pem, &e2) >= 0 &&
		    ward_tls_server_new(c->tls_key, new_cert, NULL, 0, &tls, &e2) >= 0) {
			ward_http_server_replace_tls(c->srv, c->tls, tls);
			ward_tls_ctx_free(c->tls);
			c->tls = tls;
			ward_x509_free(c->tls_cert);
			c->tls_cert = WARD_TAKE_PTR(new_cert);
			free(c->tls_cert_pem);
			c->tls_cert_pem = pem;
			ward_info("TLS certificate reissued for the manifest's coordinator names");
		} else {
			free(pem);
			ward_error("TLS certificate reissue: %s", e2.msg);
		}
	}
	ward_manifest_free(c->manifest);
	c->manifest = m;
	c->manifest_seq = seq;
	ward_info("manifest %" PRIu64 " installed (sha256 %s) by %s", seq, m->hash_hex, signer);
	return 0;
}

static int listen_all(struct ward_coord *c, struct ward_err *err);

int ward_coord_open(const struct ward_coord_opts *opts, struct ward_coord **ret,
		    struct ward_err *err)
{
	WARD_CLEANUP(ward_coord_freep) struct ward_coord *c = NULL;
	WARD_AUTOFREE uint8_t *sealed = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *dk = NULL;
	char path[4096];
	size_t size;
	int r;

	(void)prctl(PR_SET_DUMPABLE, 0);
	c = calloc(1, sizeof(*c));
	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	c->opts = *opts;
	c->loop_count = coord_loops(opts);
	if (c->opts.token_ttl <= 0)
		c->opts.token_ttl = 300;
	if (c->opts.session_ttl <= 0)
		c->opts.session_ttl = 300;
	if (mkdir(opts->state_dir, 0700) < 0 && errno != EEXIST)
		return ward_err_errno(err, -errno, "state directory '%s'", opts->state_dir);
	snprintf(path, sizeof(path), "%s/coordinator.db", opts->state_dir);
	r = ward_store_open(path, &c->store, err);
	if (r < 0)
		return r;
	r = ward_store_get(c->store, NS_META, "datakey.sealed", &sealed, &size, err);
	if (r == -WARD_E_NOT_FOUND) {
		r = first_start(c, err);
		if (r < 0)
			return r;
		ward_info("coordinator state created in %s", opts->state_dir);
	} else if (r < 0) {
		return r;
	} else {
		uint8_t sk[32];
		WARD_CLEANUP_ERASE(sk);

		r = opts->tee->sealing_key(opts->tee->ctx, sk, err);
		if (r < 0)
			return ward_err_prefix(err, "sealing key");
		r = coord_blob_open(sk, AAD_DATAKEY, sealed, size, &dk, err);
		if (r < 0 || dk->size != 32)
			return ward_err_set(
			    err, -WARD_E_VERIFY,
			    "the data key does not unseal with this TEE's sealing "
			    "key (TEE or measurement changed?): run 'ward recover'");
		memcpy(c->datakey, dk->data, 32);
	}
	r = load_identity(c, err);
	if (r >= 0)
		r = load_manifest(c, err);
	if (r >= 0)
		r = ward_tls_server_new(c->tls_key, c->tls_cert, NULL, 0, &c->tls, err);
	if (r >= 0)
		r = ward_http_server_new(&c->srv, err);
	if (r >= 0)
		r = ward_http_server_set_loops(c->srv, c->loop_count, err);
	for (unsigned i = 0; r >= 0 && i < c->loop_count; i++) {
		struct coord_loop *L = &c->loops[i];

		L->c = c;
		L->pending = calloc(PENDING_MAX, sizeof(*L->pending));
		r = L->pending ? ward_http_timer_new_on(c->srv, i, flush_pending, L, &L->timer, err)
			       : ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (r >= 0)
		r = ward_http_timer_new(c->srv, sweep_tick, c, &c->sweep_timer, err);
	if (r >= 0)
		ward_http_timer_arm(c->sweep_timer, SWEEP_USEC);
	if (r >= 0)
		r = listen_all(c, err);
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

struct ward_coord *ward_coord_free(struct ward_coord *c)
{
	if (!c)
		return NULL;
	sessions_sweep(c, true);
	for (size_t i = 0; i < RECENT_KEYS; i++)
		recent_key_clear(&c->recent_keys[i]);
	for (unsigned i = 0; i < c->loop_count; i++) {
		ward_http_timer_free(c->loops[i].timer);
		free(c->loops[i].pending);
	}
	ward_http_timer_free(c->sweep_timer);
	ward_http_server_free(c->srv);
	ward_tls_ctx_free(c->tls);
	ward_manifest_free(c->manifest);
	ward_ca_free(c->ca);
	free(c->ca_bundle);
	free(c->tls_cert_pem);
	ward_x509_free(c->tls_cert);
	ward_pkey_free(c->tls_key);
	ward_store_free(c->store);
	pthread_mutex_destroy(&c->lock);
	ward_wipe(c->datakey, sizeof(c->datakey));
	free(c);
	return NULL;
}

struct recover_walk {
	const struct ward_pkey *key;
	uint8_t *datakey;
	bool found;
};

static int recover_try(const char *name, const uint8_t *data, size_t size, void *ud)
{
	struct recover_walk *w = ud;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;

	(void)name;
	if (w->found)
		return 0;
	if (ward_rsa_oaep_decrypt(w->key, WARD_HASH_SHA256, data, size, &s, NULL) == 0 &&
	    s->size == 32) {
		memcpy(w->datakey, s->data, 32);
		w->found = true;
	}
	return 0;
}

int ward_coord_recover(const char *state_dir, const struct ward_coord_tee *tee,
		       const struct ward_pkey *recovery_key, struct ward_err *err)
{
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_coord c = {0};
	struct recover_walk w = {.key = recovery_key, .datakey = c.datakey};
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/coordinator.db", state_dir);
	r = ward_store_open(path, &st, err);
	if (r < 0)
		return r;
	c.store = st;
	r = ward_store_list(st, NS_RECOVERY, recover_try, &w, err);
	if (r < 0)
		return r;
	if (!w.found)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "recovery: the key unwraps no recovery copy of the data key "
				    "in '%s'",
				    state_dir);
	r = ward_store_begin(st, err);
	if (r >= 0)
		r = seal_datakey(&c, tee, err);
	if (r >= 0)
		r = audit_new(st, "coordinator.recovered", "recovery",
			      json_pack("{s:s}", "tee", ward_tee_name(tee->type)), err);
	if (r >= 0)
		r = ward_store_commit(st, err);
	else
		ward_store_rollback(st);
	ward_wipe(c.datakey, 32);
	return r;
}

/* ---- KBS protocol ---- */

static int kbs_auth(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *challenge = NULL;
	enum ward_tee_type t;
	struct session *s;
	char cookie[96];
	size_t size;
	const uint8_t *body = ward_http_req_body(req, &size);
	int r;

	r = ward_kbs_parse_request(body, size, &t, &err);
	if (r < 0) {
		reply_problem(c, req, 400,
			      r == -WARD_E_UNSUPPORTED ? "UnsupportedRequest" : "InvalidRequest",
			      err.msg);
		return 400;
	}
	r = session_new(c, c->opts.session_ttl, false, &s, &err);
	if (r < 0) {
		reply_problem(c, req, 503, "Busy", err.msg);
		return 503;
	}
	s->tee = t;
	challenge = json_pack("{s:s, s:s}", "nonce", s->nonce, "extra-params", "");
	snprintf(cookie, sizeof(cookie), "kbs-session-id=%s; Path=/; Max-Age=%" PRId64, s->id,
		 c->opts.session_ttl);
	reply_json(c, req, 200, challenge, (const char *const[]){"Set-Cookie", cookie, NULL});
	return 200;
}

static int make_token(struct ward_coord *c, const struct session *s, const json_t *jwk,
		      const struct ward_coord_claims *claims, char **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *payload = NULL;
	WARD_AUTOFREE char *text = NULL;
	char meas[WARD_MANIFEST_MEASUREMENT_MAX * 2 + 1];
	int64_t now = now_s();
	int r;

	ward_hex_encode(claims->measurement, claims->measurement_size, meas);
	payload = json_pack(
	    "{s:s, s:I, s:I, s:s, s:s, s:s, s:{s:{s:s, s:{s:s, s:s, s:b, s:b}}}, s:{s:s, s:s, "
	    "s:I}, "
	    "s:O}",
	    "iss", "ward-coordinator", "iat", (json_int_t)now, "exp",
	    (json_int_t)(now + c->opts.token_ttl), "jti", s->id, "eat_profile",
	    "tag:github.com,2023:veraison/ear", "ear.status", "affirming", "submods", "cpu0",
	    "ear.status", "affirming", "ear.veraison.annotated-evidence", "tee",
	    ward_tee_name(claims->tee), "measurement", meas, "debug", claims->debug, "insecure",
	    claims->insecure, "ward", "package", s->package, "manifest", c->manifest->hash_hex,
	    "manifest_seq", (json_int_t)c->manifest_seq, "tee-pubkey", jwk);
	if (!payload)
		return ward_err_set(err, -ENOMEM, "token: out of memory");
	r = ward_json_dump(payload, &text, err);
	if (r >= 0)
		r = ward_jws_sign_compact(c->tls_key, WARD_JWS_ES256, "JWT", NULL, text,
					  strlen(text), ret, err);
	return r;
}

static int refuse_attest(struct ward_coord *c, struct ward_http_req *req, enum ward_tee_type tee,
			 int status, const char *type, const char *reason)
{
	c->m.attest[tee][0]++;
	ward_logkv(WARD_LOG_WARN, "attestation refused",
		   (const char *const[]){"tee", ward_tee_name(tee), "reason", reason, "peer",
					 ward_http_req_peer(req), NULL});
	defer_reply(c, req, status, "application/problem+json", problem_text(status, type, reason),
		    NULL, "attest.refused",
		    json_pack("{s:s, s:s}", "tee", ward_tee_name(tee), "reason", reason));
	return status;
}

static int kbs_attest(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_kbs_attestation_clear) struct ward_kbs_attestation att = {0};
	WARD_AUTOJSON json_t *resp = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_AUTOFREE char *token = NULL;
	struct ward_coord_claims claims;
	uint8_t want_rd[WARD_REPORT_DATA_SIZE];
	const json_t *jwk = NULL, *ev = NULL;
	const struct ward_manifest_package *pkg = NULL;
	char id[64], cookie[96], first_reason[WARD_ERR_MSG_MAX] = "";
	char nonce[sizeof(((struct session *)0)->nonce)];
	const char *fail_type = NULL;
	int fail_status = 0;
	enum ward_tee_type tee;
	struct session *s;
	int r;

	if (!ward_http_req_cookie(req, "kbs-session-id", id, sizeof(id)) ||
	    !(s = session_find(c, id)) || s->admin)
		return refuse_attest(c, req, WARD_TEE_NONE, 401, "UnAuthenticated",
				     "no valid kbs-session-id cookie (call /kbs/v0/auth first)");
	if (s->used)
		return refuse_attest(c, req, s->tee, 401, "AttestationFailed",
				     "nonce already used (replayed attestation)");
	s->used = true; /* single use, whatever the outcome */
	if (!c->manifest)
		return refuse_attest(c, req, s->tee, 401, "AttestationFailed",
				     "no manifest is set");
	tee = s->tee;
	memcpy(nonce, s->nonce, sizeof(nonce));

	/* Parsing and verifying touch only this request and the copies above:
	 * other loops may serve requests meanwhile. s may be gone afterwards. */
	pthread_mutex_unlock(&c->lock);
	{
		size_t size;
		const uint8_t *raw = ward_http_req_body(req, &size);

		r = ward_kbs_parse_attestation(raw, size, &att, &err);
	}
	jwk = att.tee_pubkey;
	ev = att.evidence;
	if (r >= 0 && att.nonce && strcmp(att.nonce, nonce) != 0) {
		fail_status = 401, fail_type = "AttestationFailed";
		r = ward_err_set(&err, -WARD_E_VERIFY,
				 "runtime-data nonce is not this session's nonce");
	}
	if (r >= 0)
		r = ward_jwk_import(jwk, &key, &err);
	if (r >= 0 && ward_pkey_is_private(key))
		r = ward_err_set(&err, -WARD_E_MALFORMED, "tee-pubkey carries a private key");
	if (r < 0 && !fail_type)
		fail_status = 400, fail_type = "InvalidRequest";
	if (r >= 0)
		r = ward_kbs_report_data(nonce, jwk, want_rd, &err);
	if (r >= 0) {
		bool concurrent = (c->opts.verifier->concurrent_tees & (1u << tee)) != 0;

		if (!concurrent)
			pthread_mutex_lock(&c->lock);
		r = c->opts.verifier->verify(c->opts.verifier->ctx, tee, ev, &claims, &err);
		if (!concurrent)
			pthread_mutex_unlock(&c->lock);
	}
	if (r >= 0 && !ward_ct_eq(claims.report_data, want_rd, sizeof(want_rd)))
		r = ward_err_set(&err, -WARD_E_VERIFY,
				 "report data does not bind the nonce and tee-pubkey");
	if (r < 0 && !fail_type)
		fail_status = 401, fail_type = "AttestationFailed";
	pthread_mutex_lock(&c->lock);
	if (r < 0)
		return refuse_attest(c, req, tee, fail_status, fail_type, err.msg);
	s = session_find(c, id);
	if (!s)
		return refuse_attest(c, req, tee, 401, "AttestationFailed",
				     "session expired during attestation");
	if (!c->manifest)
		return refuse_attest(c, req, tee, 401, "AttestationFailed", "no manifest is set");
	for (size_t i = 0; i < c->manifest->package_count; i++) {
		struct ward_err pe = WARD_ERR_INIT;
		size_t used = strlen(first_reason);

		if (ward_coord_check_policy(&c->manifest->packages[i], &claims, &pe) == 0) {
			pkg = &c->manifest->packages[i];
			break;
		}
		/* Say why each package refused, truncated to the message size. */
		snprintf(first_reason + used, sizeof(first_reason) - used, "%s%s", used ? "; " : "",
			 pe.msg);
	}
	if (!pkg)
		return refuse_attest(c, req, s->tee, 401, "AttestationFailed",
				     first_reason[0] ? first_reason : "no package in the manifest");
	if (claims.insecure)
		ward_warn("INSECURE: accepted sim TEE evidence for package %s (the manifest lists "
			  "\"sim\"; nothing about this attestation is secure)",
			  pkg->name);
	s->attested = true;
	s->package = strdup(pkg->name);
	if (ward_json_dump(jwk, &s->tee_jwk, &err) < 0)
		s->tee_jwk = NULL;
	s->expires = now_s() + c->opts.token_ttl;
	if (!s->package || !s->tee_jwk)
		return refuse_attest(c, req, s->tee, 500, "Internal", "out of memory");
	recent_key_put(c, s, key, (json_t *)jwk);
	r = make_token(c, s, jwk, &claims, &token, &err);
	if (r < 0)
		return refuse_attest(c, req, s->tee, 500, "Internal", err.msg);
	c->m.attest[claims.tee][1]++;
	{
		char meas[WARD_MANIFEST_MEASUREMENT_MAX * 2 + 1];
		char *text = NULL;

		ward_hex_encode(claims.measurement, claims.measurement_size, meas);
		resp = json_pack("{s:s}", "token", token);
		if (resp)
			(void)ward_json_dump(resp, &text, NULL);
		snprintf(cookie, sizeof(cookie), "kbs-session-id=%s; Path=/; Max-Age=%" PRId64,
			 s->id, c->opts.token_ttl);
		/* The session counts as attested now; if the audit commit fails the
		 * reply becomes a 500 and the client never learns the token. */
		defer_reply(
		    c, req, 200, "application/json", text, strdup(cookie), "attest.accepted",
		    json_pack("{s:s, s:s, s:s, s:b}", "tee", ward_tee_name(claims.tee), "package",
			      pkg->name, "measurement", meas, "insecure", claims.insecure));
	}
	return 200;
}

/* Who is asking for a resource: from the session cookie or a bearer token. */
struct principal {
	char package[WARD_MANIFEST_NAME_MAX + 1];
	struct session *session; /* borrowed: the attested session (cookie, or the
				  * token's jti while it lives), may be NULL */
	struct ward_pkey *key;	 /* owned */
	json_t *jwk;		 /* owned */
};

static void principal_clear(struct principal *p)
{
	ward_pkey_free(p->key);
	json_decref(p->jwk);
}

static int authenticate(struct ward_coord *c, struct ward_http_req *req, struct principal *ret,
			struct ward_err *err)
{
	const char *auth = ward_http_req_header(req, "Authorization");
	char id[64];
	struct session *s;

	if (auth && ward_startswith(auth, "Bearer ")) {
		WARD_AUTOFREE uint8_t *payload = NULL;
		WARD_AUTOJSON json_t *claims = NULL;
		const char *pkg;
		json_t *jwk, *ward;
		int64_t exp = 0;
		size_t size;
		int r;

		r = ward_jws_verify_compact(c->tls_key, auth + 7, strlen(auth + 7), &payload, &size,
					    NULL, err);
		if (r < 0)
			return ward_err_set(err, -WARD_E_VERIFY, "token signature invalid");
		r = ward_json_parse(payload, size, BODY_MAX, &claims, err);
		if (r >= 0)
			r = ward_json_get_int(claims, "$", "exp", true, 0, INT64_MAX, &exp, err);
		if (r < 0)
			return ward_err_set(err, -WARD_E_VERIFY, "token malformed");
		if (exp <= now_s())
			return ward_err_set(err, -WARD_E_EXPIRED, "token expired");
		ward = json_object_get(claims, "ward");
		pkg = json_string_value(json_object_get(ward, "package"));
		jwk = json_object_get(claims, "tee-pubkey");
		if (!pkg || !jwk || strlen(pkg) > WARD_MANIFEST_NAME_MAX)
			return ward_err_set(err, -WARD_E_VERIFY, "token lacks claims");
		r = ward_jwk_import(jwk, &ret->key, err);
		if (r < 0)
			return r;
		snprintf(ret->package, sizeof(ret->package), "%s", pkg);
		ret->jwk = json_incref(jwk);
		{
			const char *jti = json_string_value(json_object_get(claims, "jti"));
			struct session *js = jti ? session_find(c, jti) : NULL;

			ret->session = js && js->attested ? js : NULL;
		}
		return 0;
	}
	if (!ward_http_req_cookie(req, "kbs-session-id", id, sizeof(id)))
		return ward_err_set(err, -WARD_E_VERIFY, "no session cookie or bearer token");
	s = session_find(c, id);
	if (!s || !s->attested)
		return ward_err_set(err, -WARD_E_EXPIRED,
				    "session unknown, expired or not attested");
	snprintf(ret->package, sizeof(ret->package), "%s", s->package);
	ret->session = s;
	if (s->key_slot >= 0) {
		const struct recent_key *k = &c->recent_keys[s->key_slot];

		ret->key = ward_pkey_ref(k->key);
		ret->jwk = json_incref(k->jwk);
		if (!ret->key || !ret->jwk)
			return ward_err_set(err, -ENOMEM, "out of memory");
		return 0;
	}
	if (ward_json_parse(s->tee_jwk, strlen(s->tee_jwk), 65536, &ret->jwk, err) < 0)
		return ward_err_set(err, -WARD_E_STATE, "session key unreadable");
	return ward_jwk_import(ret->jwk, &ret->key, err);
}

static int render_bundle(struct ward_coord *c, const struct ward_manifest_workload *w,
			 struct ward_secret **ret, struct ward_err *err)
{
	struct resolve_ctx rc = {.c = c};
	WARD_AUTOJSON json_t *out =
	    json_pack("{s:s, s:[], s:{}, s:{}, s:s}", "workload", w->name, "argv", "env", "files",
		      "manifest", c->manifest->hash_hex);
	WARD_AUTOFREE char *text = NULL;
	const char *key;
	json_t *v;
	size_t i;
	int r;

	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach((json_t *)w->argv, i, v)
	{
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;

		r = ward_template_render(c->manifest, json_string_value(v), resolve_secret, &rc, &s,
					 err);
		if (r < 0)
			return r;
		json_array_append_new(json_object_get(out, "argv"),
				      json_stringn((const char *)s->data, s->size));
	}
	json_object_foreach((json_t *)w->env, key, v)
	{
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;

		r = ward_template_render(c->manifest, json_string_value(v), resolve_secret, &rc, &s,
					 err);
		if (r < 0)
			return r;
		json_object_set_new(json_object_get(out, "env"), key,
				    json_stringn((const char *)s->data, s->size));
	}
	json_object_foreach((json_t *)w->files, key, v)
	{
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;
		WARD_AUTOFREE char *b64 = NULL;

		r = ward_template_render(c->manifest, json_string_value(v), resolve_secret, &rc, &s,
					 err);
		if (r < 0)
			return r;
		b64 = ward_base64_encode_alloc(s->data, s->size);
		if (!b64)
			return ward_err_set(err, -ENOMEM, "out of memory");
		json_object_set_new(json_object_get(out, "files"), key, json_string(b64));
		ward_wipe(b64, strlen(b64));
	}
	r = ward_json_dump(out, &text, err);
	if (r < 0)
		return r;
	*ret = ward_secret_dup(text, strlen(text));
	ward_wipe(text, strlen(text));
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

static int issue_workload_cert(struct ward_coord *c, const struct ward_manifest_workload *w,
			       const struct ward_pkey *key, struct ward_secret **ret,
			       struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = NULL;
	WARD_AUTOJSON json_t *out = NULL;
	WARD_AUTOFREE char *pem = NULL, *text = NULL;
	const char *dns[16], *ips[16];
	char subject[128];
	struct ward_ca_leaf leaf = {.subject = subject,
				    .dns = dns,
				    .ips = ips,
				    .not_before = now_s() - 300,
				    .not_after = now_s() + 86400,
				    .client_auth = true};
	int r;

	snprintf(subject, sizeof(subject), "CN=%s,O=Ward", w->name);
	json_strings(w->dns, dns, 16, &leaf.dns_count);
	json_strings(w->ips, ips, 16, &leaf.ip_count);
	r = ward_ca_issue(c->ca, key, &leaf, &cert, err);
	if (r >= 0)
		r = ward_x509_pem(cert, &pem, err);
	if (r < 0)
		return r;
	out = json_pack("{s:s, s:s}", "cert", pem, "ca", c->ca_bundle);
	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(out, &text, err);
	if (r < 0)
		return r;
	*ret = ward_secret_dup(text, strlen(text));
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

static int refuse_resource(struct ward_coord *c, struct ward_http_req *req, int status,
			   const char *type, const char *path, const char *reason)
{
	c->m.release_refusals++;
	ward_logkv(WARD_LOG_WARN, "resource refused",
		   (const char *const[]){"resource", path, "reason", reason, NULL});
	defer_reply(c, req, status, "application/problem+json", problem_text(status, type, reason),
		    NULL, "resource.refused",
		    json_pack("{s:s, s:s}", "resource", path, "reason", reason));
	return status;
}

static int kbs_resource(struct ward_coord *c, struct ward_http_req *req, const char *rpath)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(principal_clear) struct principal who = {0};
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *plain = NULL;
	WARD_AUTOFREE char *jwe = NULL;
	WARD_AUTOFREE uint8_t *raw = NULL;
	char repo[WARD_MANIFEST_NAME_MAX + 1], type[WARD_MANIFEST_NAME_MAX + 1],
	    tag[WARD_MANIFEST_NAME_MAX * 2 + 2];
	const char *alg;
	enum ward_jwe_alg jalg;
	uint8_t thumb[32];
	char thumb_hex[17];
	size_t raw_size;
	int r, n = 0;

	r = authenticate(c, req, &who, &err);
	if (r < 0)
		return refuse_resource(c, req, 401,
				       r == -WARD_E_EXPIRED ? "TokenExpired" : "UnAuthenticated",
				       rpath, err.msg);
	if (!c->manifest || !ward_manifest_package(c->manifest, who.package))
		return refuse_resource(c, req, 403, "PolicyDeny", rpath,
				       "the attested package is no longer in the manifest");
	if (sscanf(rpath, "%64[^/]/%64[^/]/%129[^/]%n", repo, type, tag, &n) != 3 ||
	    (size_t)n != strlen(rpath))
		return refuse_resource(c, req, 404, "ResourceNotFound", rpath,
				       "resource paths are <repo>/<type>/<tag>");
	if (strcmp(repo, "ward") == 0) {
		const struct ward_manifest_workload *w = NULL;

		if (strcmp(type, "volume") == 0) {
			/* tag: <workload>.<volume> */
			char *dot = strchr(tag, '.');

			if (dot) {
				*dot = '\0';
				w = ward_manifest_workload(c->manifest, tag);
				*dot = '.';
			}
		} else {
			w = ward_manifest_workload(c->manifest, tag);
		}
		if (!w)
			return refuse_resource(c, req, 404, "ResourceNotFound", rpath,
					       "no such workload");
		if (strcmp(w->package->name, who.package) != 0)
			return refuse_resource(c, req, 403, "PolicyDeny", rpath,
					       "workload belongs to another package");
		if (strcmp(type, "bundle") == 0) {
			/* max_instances: live attested sessions holding this
			 * workload's bundle (a session counts once). */
			if (w->max_instances > 0 &&
			    !(who.session && strcmp(who.session->workload, w->name) == 0)) {
				int64_t live = 0;

				if (!who.session)
					return refuse_resource(
					    c, req, 403, "PolicyDeny", rpath,
					    "max_instances needs a live session");
				for (size_t b = 0; b < SESSION_BUCKETS; b++)
					for (struct session *x = c->sessions[b]; x; x = x->next)
						live += x->attested && x->expires > now_s() &&
							strcmp(x->workload, w->name) == 0;
				if (live >= w->max_instances)
					return refuse_resource(c, req, 403, "PolicyDeny", rpath,
							       "max_instances reached");
			}
			r = render_bundle(c, w, &plain, &err);
			if (r >= 0 && who.session)
				snprintf(who.session->workload, sizeof(who.session->workload), "%s",
					 w->name);
		} else if (strcmp(type, "cert") == 0) {
			r = issue_workload_cert(c, w, who.key, &plain, &err);
		} else if (strcmp(type, "volume") == 0) {
			const char *vol = strchr(tag, '.') + 1;
			bool listed = false;
			char info[160];
			json_t *x;
			size_t i;

			json_array_foreach((json_t *)w->volumes, i, x) listed |=
			    strcmp(json_string_value(x), vol) == 0;
			if (!listed)
				return refuse_resource(c, req, 404, "ResourceNotFound", rpath,
						       "no such volume");
			plain = ward_secret_new(32);
			snprintf(info, sizeof(info), "ward-volume-v1:%s/%s", w->name, vol);
			r = plain ? ward_hkdf(WARD_HASH_SHA256, c->datakey, 32, NULL, 0, info,
					      strlen(info), plain->data, 32, &err)
				  : ward_err_set(&err, -ENOMEM, "out of memory");
		} else {
			return refuse_resource(c, req, 404, "ResourceNotFound", rpath,
					       "ward resources are bundle, cert and volume");
		}
	} else {
		const struct ward_manifest_secret *s =
		    ward_manifest_secret_by_resource(c->manifest, rpath);
		struct resolve_ctx rc = {.c = c};
		bool allowed = false;
		json_t *x;
		size_t i;

		if (!s)
			return refuse_resource(c, req, 404, "ResourceNotFound", rpath,
					       "no such resource");
		json_array_foreach((json_t *)s->packages, i, x) allowed |=
		    strcmp(json_string_value(x), who.package) == 0;
		if (!allowed)
			return refuse_resource(c, req, 403, "PolicyDeny", rpath,
					       "the attested package may not fetch this resource");
		r = resolve_secret(&rc, s, NULL, &raw, &raw_size, &err);
		if (r >= 0) {
			plain = ward_secret_dup(raw, raw_size);
			ward_wipe(raw, raw_size);
			if (!plain)
				r = ward_err_set(&err, -ENOMEM, "out of memory");
		}
	}
	if (r < 0)
		return refuse_resource(c, req, r == -WARD_E_NOT_FOUND ? 404 : 500,
				       r == -WARD_E_NOT_FOUND ? "ResourceNotFound" : "Internal",
				       rpath, err.msg);
	alg = json_string_value(json_object_get(who.jwk, "alg"));
	if (ward_pkey_type(who.key) == WARD_KEY_RSA)
		jalg =
		    alg && strcmp(alg, "RSA-OAEP") == 0 ? WARD_JWE_RSA_OAEP : WARD_JWE_RSA_OAEP_256;
	else
		jalg =
		    alg && strcmp(alg, "ECDH-ES") == 0 ? WARD_JWE_ECDH_ES : WARD_JWE_ECDH_ES_A256KW;
	/* The encryption uses only this request's references and copies:
	 * other loops may serve requests meanwhile. */
	pthread_mutex_unlock(&c->lock);
	/* The reply body is the JWE's JSON text, written directly. */
	r = ward_jwe_encrypt_text(who.key, jalg, plain->data, plain->size, &jwe, &err);
	if (r >= 0 && ward_jwk_thumbprint(who.key, thumb, &err) < 0)
		memset(thumb, 0, sizeof(thumb));
	pthread_mutex_lock(&c->lock);
	if (r < 0)
		return refuse_resource(c, req, 500, "Internal", rpath, err.msg);
	ward_hex_encode(thumb, 8, thumb_hex);
	c->m.releases++;
	defer_reply(c, req, 200, "application/json", WARD_TAKE_PTR(jwe), NULL, "resource.released",
		    json_pack("{s:s, s:s, s:s}", "resource", rpath, "package", who.package,
			      "tee_key", thumb_hex));
	return 200;
}

/* ---- coordinator evidence, manifest, admin ---- */

static int get_evidence(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *q = ward_http_req_query(req, "nonce");
	WARD_AUTOFREE uint8_t *nonce = NULL;
	WARD_AUTOJSON json_t *ev = NULL, *out = NULL;
	uint8_t mhash[32] = {0}, head[32], rd[WARD_REPORT_DATA_SIZE];
	char head_hex[65], spki_hex[65];
	size_t nsize = 0;
	uint64_t seq;
	int r;

	if (!q || ward_hex_decode(q, strlen(q), &nonce, &nsize, &err) < 0 || nsize < 16 ||
	    nsize > 64) {
		reply_problem(c, req, 400, "InvalidRequest", "nonce: 16 to 64 bytes in hex");
		return 400;
	}
	if (c->manifest)
		memcpy(mhash, c->manifest->hash, 32);
	r = ward_store_audit_head(c->store, &seq, head, &err);
	if (r >= 0)
		r = ward_coord_evidence_report_data(nonce, nsize, c->spki_hash, mhash, head, rd,
						    &err);
	if (r >= 0)
		r = c->opts.tee->evidence(c->opts.tee->ctx, rd, &ev, &err);
	if (r < 0) {
		reply_problem(c, req, 500, "Internal", err.msg);
		return 500;
	}
	ward_hex_encode(head, 32, head_hex);
	ward_hex_encode(c->spki_hash, 32, spki_hex);
	out = json_pack("{s:s, s:O, s:s, s:s, s:s, s:s?, s:I, s:I, s:s, s:s}", "tee",
			ward_tee_name(c->opts.tee->type), "evidence", ev, "nonce", q, "cert",
			c->tls_cert_pem, "tls_spki_sha256", spki_hex, "manifest_hash",
			c->manifest ? c->manifest->hash_hex : NULL, "manifest_seq",
			(json_int_t)c->manifest_seq, "audit_seq", (json_int_t)seq, "audit_head",
			head_hex, "ca", c->ca_bundle);
	reply_json(c, req, 200, out, NULL);
	return 200;
}

static int get_manifest(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *q = ward_http_req_query(req, "seq");
	WARD_AUTOFREE uint8_t *text = NULL;
	WARD_AUTOJSON json_t *m = NULL, *out = NULL;
	uint64_t seq = c->manifest_seq;
	char key[24], hex[65];
	uint8_t hash[32];
	size_t size;
	int r;

	if (q && ward_parse_u64(q, &seq) < 0) {
		reply_problem(c, req, 400, "InvalidRequest", "seq: a number");
		return 400;
	}
	if (seq == 0 || seq > c->manifest_seq) {
		reply_problem(c, req, 404, "NotFound", "no such manifest");
		return 404;
	}
	snprintf(key, sizeof(key), "%020" PRIu64, seq);
	r = ward_store_get(c->store, NS_MANIFEST, key, &text, &size, &err);
	if (r >= 0)
		r = ward_json_parse(text, size, WARD_MANIFEST_MAX_SIZE, &m, &err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, text, size, hash, &err);
	if (r < 0) {
		reply_problem(c, req, 500, "Internal", err.msg);
		return 500;
	}
	ward_hex_encode(hash, 32, hex);
	out = json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)seq, "latest",
			(json_int_t)c->manifest_seq, "hash", hex, "manifest", m);
	reply_json(c, req, 200, out, NULL);
	return 200;
}

static int set_manifest(struct ward_coord *c, struct ward_http_req *req, const uint8_t *body,
			size_t size, const char *signer)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	WARD_AUTOJSON json_t *out = NULL;
	int r;

	r = ward_manifest_parse(body, size, &m, &err);
	if (r < 0) {
		reply_problem(c, req, 400, "InvalidManifest", err.msg);
		return 400;
	}
	r = install_manifest(c, m, signer, &err);
	if (r < 0) {
		reply_problem(c, req, status_for(r), "Internal", err.msg);
		return status_for(r);
	}
	m = NULL; /* installed: owned by c now */
	out = json_pack("{s:s, s:I}", "hash", c->manifest->hash_hex, "seq",
			(json_int_t)c->manifest_seq);
	reply_json(c, req, 200, out, NULL);
	return 200;
}

static int post_manifest(struct ward_coord *c, struct ward_http_req *req)
{
	size_t size;
	const uint8_t *body = ward_http_req_body(req, &size);
	struct ward_err err = WARD_ERR_INIT;

	if (c->manifest) {
		(void)audit(c, "admin.refused", ward_http_req_peer(req),
			    json_pack("{s:s, s:s}", "op", "manifest.set", "reason",
				      "unsigned update of an existing manifest"),
			    &err);
		reply_problem(c, req, 403, "PolicyDeny",
			      "a manifest is set: updates must be signed by a user whose role "
			      "allows update_manifest");
		return 403;
	}
	return set_manifest(c, req, body, size, "first-set");
}

static int admin_nonce(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *out = NULL;
	struct session *s;

	if (session_new(c, ADMIN_NONCE_TTL, true, &s, &err) < 0) {
		reply_problem(c, req, 503, "Busy", err.msg);
		return 503;
	}
	out = json_pack("{s:s}", "nonce", s->id);
	reply_json(c, req, 200, out, NULL);
	return 200;
}

struct log_ctx {
	json_t *entries;
	struct ward_err *err;
};

static int log_row(const struct ward_store_audit_row *row, void *ud)
{
	struct log_ctx *lc = ud;
	json_t *j;
	int r = ward_audit_row_json(row, &j, lc->err);

	if (r < 0)
		return r;
	return json_array_append_new(lc->entries, j) < 0 ? -ENOMEM : 0;
}

static int admin_refuse(struct ward_coord *c, struct ward_http_req *req, int status,
			const char *user, const char *op, const char *reason)
{
	struct ward_err err = WARD_ERR_INIT;

	(void)audit(c, "admin.refused", user ? user : ward_http_req_peer(req),
		    json_pack("{s:s, s:s}", "op", op ? op : "?", "reason", reason), &err);
	reply_problem(c, req, status, status == 401 ? "UnAuthenticated" : "PolicyDeny", reason);
	return status;
}

/* ---- protected-volume freshness (docs/volumes.md) ---- */

#define NS_VOLUME "volume"

static int volume_load(struct ward_coord *c, const char *key, struct coord_vol_state *ret,
		       bool *ret_found, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t size;
	int r = ward_store_get(c->store, NS_VOLUME, key, &raw, &size, err);

	*ret_found = false;
	if (r == -WARD_E_NOT_FOUND) {
		ward_err_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	*ret_found = true;
	return coord_vol_state_parse(raw, size, ret, err);
}

/* Store s and append one audit record, in one transaction. */
static int volume_store(struct ward_coord *c, const char *key, const struct coord_vol_state *s,
			const char *kind, const char *subject, json_t *detail,
			struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *text = NULL;
	int r;

	r = coord_vol_state_json(s, &j, err);
	if (r >= 0)
		r = ward_json_dump(j, &text, err);
	if (r < 0) {
		json_decref(detail);
		return r;
	}
	r = ward_store_begin(c->store, err);
	if (r < 0) {
		json_decref(detail);
		return r;
	}
	r = ward_store_put(c->store, NS_VOLUME, key, text, strlen(text), err);
	if (r >= 0)
		r = audit_new(c->store, kind, subject, detail, err);
	else
		json_decref(detail);
	if (r >= 0)
		r = ward_store_commit(c->store, err);
	else
		ward_store_rollback(c->store);
	return r;
}

static int volume_refuse(struct ward_coord *c, struct ward_http_req *req, int status,
			 const char *type, const char *vpath, const char *reason)
{
	struct ward_err err = WARD_ERR_INIT;

	ward_logkv(WARD_LOG_WARN, "volume request refused",
		   (const char *const[]){"volume", vpath, "reason", reason, NULL});
	if (audit(c, "volume.refused", ward_http_req_peer(req),
		  json_pack("{s:s, s:s}", "volume", vpath, "reason", reason), &err) < 0) {
		reply_problem(c, req, 500, "Internal", "audit log unavailable");
		return 500;
	}
	reply_problem(c, req, status, type, reason);
	return status;
}

/* GET/PUT /ward/v1/volume/<workload>/<volume>: the attested workload reads
 * or registers its volume's (id, version, root). */
static int volume_api(struct ward_coord *c, struct ward_http_req *req, bool put,
		      const char *vpath)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(principal_clear) struct principal who = {0};
	const struct ward_manifest_workload *w;
	struct coord_vol_state cur, next;
	char wname[65], vname[65];
	bool found, listed = false;
	json_t *x;
	size_t i;
	int r;

	r = authenticate(c, req, &who, &err);
	if (r < 0)
		return volume_refuse(c, req, 401,
				     r == -WARD_E_EXPIRED ? "TokenExpired" : "UnAuthenticated",
				     vpath, err.msg);
	if (coord_vol_split(vpath, wname, vname, &err) < 0)
		return volume_refuse(c, req, 404, "ResourceNotFound", vpath, err.msg);
	if (!c->manifest || !(w = ward_manifest_workload(c->manifest, wname)))
		return volume_refuse(c, req, 404, "ResourceNotFound", vpath, "no such workload");
	if (strcmp(w->package->name, who.package) != 0)
		return volume_refuse(c, req, 403, "PolicyDeny", vpath,
				     "workload belongs to another package");
	json_array_foreach((json_t *)w->volumes, i, x) listed |=
	    strcmp(json_string_value(x), vname) == 0;
	if (!listed)
		return volume_refuse(c, req, 404, "ResourceNotFound", vpath,
				     "the workload has no such volume");
	r = volume_load(c, vpath, &cur, &found, &err);
	if (r < 0) {
		reply_problem(c, req, 500, "Internal", err.msg);
		return 500;
	}
	if (!put) {
		WARD_AUTOJSON json_t *out = NULL;

		if (!found) {
			reply_problem(c, req, 404, "ResourceNotFound", "volume never registered");
			return 404;
		}
		if (coord_vol_state_json(&cur, &out, &err) < 0) {
			reply_problem(c, req, 500, "Internal", err.msg);
			return 500;
		}
		reply_json(c, req, 200, out, NULL);
		return 200;
	}
	{
		size_t size;
		const uint8_t *body = ward_http_req_body(req, &size);
		WARD_AUTOJSON json_t *j = NULL, *out = NULL;
		static const char *const keys[] = {"id", "version", "root", NULL};
		uint8_t id[16], root[32];
		char id_hex[33], root_hex[65];
		int64_t version = 0;

		r = ward_json_parse(body, size, 4096, &j, &err);
		if (r >= 0)
			r = ward_json_check_keys(j, "$", keys, &err);
		if (r >= 0)
			r = ward_json_get_hex_fixed(j, "$", "id", true, id, 16, &err);
		if (r >= 0)
			r = ward_json_get_int(j, "$", "version", true, 1, INT64_MAX, &version,
					      &err);
		if (r >= 0)
			r = ward_json_get_hex_fixed(j, "$", "root", true, root, 32, &err);
		if (r < 0)
			return volume_refuse(c, req, 400, "InvalidRequest", vpath, err.msg);
		r = coord_vol_register(found ? &cur : NULL, id, (uint64_t)version, root, &next,
				       &err);
		ward_hex_encode(id, 16, id_hex);
		ward_hex_encode(root, 32, root_hex);
		if (r < 0) {
			char reason[512];

			snprintf(reason, sizeof(reason), "%s (offered version %" PRId64 ")",
				 err.msg, version);
			return volume_refuse(c, req, r == -WARD_E_POLICY ? 409 : 400,
					     r == -WARD_E_POLICY ? "PolicyDeny" : "InvalidRequest",
					     vpath, reason);
		}
		r = volume_store(c, vpath, &next, "volume.registered", ward_http_req_peer(req),
				 json_pack("{s:s, s:s, s:I, s:s, s:b}", "volume", vpath, "id",
					   id_hex, "version", (json_int_t)version, "root",
					   root_hex, "after_accepted_rollback",
					   found && cur.has_accept && !next.has_accept),
				 &err);
		if (r < 0) {
			reply_problem(c, req, 500, "Internal", err.msg);
			return 500;
		}
		out = json_pack("{s:I}", "version", (json_int_t)version);
		reply_json(c, req, 200, out, NULL);
		return 200;
	}
}

/* Admin op volume.accept_rollback {volume: "<workload>/<volume>", version,
 * root}: a user allowed to update the manifest accepts an older state. */
static int volume_accept_op(struct ward_coord *c, struct ward_http_req *req, const json_t *p,
			    const char *kid)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *vpath = NULL;
	char wname[65], vname[65], root_hex[65];
	struct coord_vol_state cur, next;
	uint8_t root[32];
	int64_t version = 0;
	bool found;
	int r;

	r = ward_json_get_string(p, "$", "volume", true, &vpath, &err);
	if (r >= 0)
		r = coord_vol_split(vpath, wname, vname, &err);
	if (r >= 0)
		r = ward_json_get_int(p, "$", "version", true, 1, INT64_MAX, &version, &err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(p, "$", "root", true, root, 32, &err);
	if (r < 0)
		return admin_refuse(c, req, 400, kid, "volume.accept_rollback", err.msg);
	r = volume_load(c, vpath, &cur, &found, &err);
	if (r >= 0)
		r = coord_vol_accept(found ? &cur : NULL, (uint64_t)version, root, kid, &next,
				     &err);
	if (r < 0)
		return admin_refuse(c, req, status_for(r), kid, "volume.accept_rollback", err.msg);
	ward_hex_encode(root, 32, root_hex);
	r = volume_store(c, vpath, &next, "volume.rollback_accepted", kid,
			 json_pack("{s:s, s:I, s:s, s:I}", "volume", vpath, "version",
				   (json_int_t)version, "root", root_hex, "registered_version",
				   (json_int_t)cur.version),
			 &err);
	if (r < 0) {
		reply_problem(c, req, 500, "Internal", err.msg);
		return 500;
	}
	{
		WARD_AUTOJSON json_t *out = json_pack("{s:s, s:I}", "volume", vpath, "version",
						       (json_int_t)version);

		reply_json(c, req, 200, out, NULL);
	}
	return 200;
}

static int admin(struct ward_coord *c, struct ward_http_req *req)
{
	struct ward_err err = WARD_ERR_INIT;
	size_t size, psize;
	const uint8_t *body = ward_http_req_body(req, &size);
	WARD_AUTOFREE char *jws = NULL;
	WARD_AUTOFREE uint8_t *hdr_raw = NULL, *payload = NULL;
	WARD_AUTOJSON json_t *hdr = NULL, *p = NULL, *out = NULL;
	const struct ward_manifest_user *u;
	const char *kid, *op, *nonce, *dot, *name = NULL;
	struct session *s;
	size_t hsize;
	int r;

	jws = strndup((const char *)body, size);
	if (!jws || !(dot = strchr(jws, '.')))
		return admin_refuse(c, req, 401, NULL, NULL, "body is not a compact JWS");
	if (ward_base64url_decode(jws, (size_t)(dot - jws), &hdr_raw, &hsize, &err) < 0 ||
	    ward_json_parse(hdr_raw, hsize, 4096, &hdr, &err) < 0 ||
	    !(kid = json_string_value(json_object_get(hdr, "kid"))))
		return admin_refuse(c, req, 401, NULL, NULL, "JWS header lacks a kid (user name)");
	if (!c->manifest || !(u = ward_manifest_user(c->manifest, kid)))
		return admin_refuse(c, req, 401, kid, NULL, "unknown user");
	r = ward_jws_verify_compact(u->key, jws, strlen(jws), &payload, &psize, NULL, &err);
	if (r < 0)
		return admin_refuse(c, req, 401, kid, NULL, "signature does not verify");
	r = ward_json_parse(payload, psize, BODY_MAX, &p, &err);
	if (r >= 0)
		r = ward_json_get_string(p, "$", "op", true, &op, &err);
	if (r >= 0)
		r = ward_json_get_string(p, "$", "nonce", true, &nonce, &err);
	if (r >= 0)
		r = ward_json_get_string(p, "$", "name", false, &name, &err);
	if (r < 0)
		return admin_refuse(c, req, 400, kid, NULL, err.msg);
	s = session_find(c, nonce);
	if (!s || !s->admin)
		return admin_refuse(c, req, 401, kid, op, "nonce unknown, expired or used");
	session_drop(c, s);

	if (strcmp(op, "manifest.set") == 0) {
		json_t *m = json_object_get(p, "manifest");
		WARD_AUTOFREE char *text = NULL;

		if (!ward_manifest_user_allows(c->manifest, u, WARD_ROLE_UPDATE_MANIFEST, NULL))
			return admin_refuse(c, req, 403, kid, op,
					    "role does not allow update_manifest");
		if (!m || ward_json_dump(m, &text, &err) < 0)
			return admin_refuse(c, req, 400, kid, op, "manifest missing");
		return set_manifest(c, req, (const uint8_t *)text, strlen(text), kid);
	}
	if (strcmp(op, "log.read") == 0) {
		struct log_ctx lc = {.entries = json_array(), .err = &err};
		int64_t from = 1;

		if (!ward_manifest_user_allows(c->manifest, u, WARD_ROLE_READ_LOG, NULL))
			return admin_refuse(c, req, 403, kid, op, "role does not allow read_log");
		(void)ward_json_get_int(p, "$", "from", false, 1, INT64_MAX, &from, &err);
		r = lc.entries ? ward_store_audit_each(c->store, (uint64_t)from, log_row, &lc, &err)
			       : -ENOMEM;
		if (r < 0) {
			json_decref(lc.entries);
			reply_problem(c, req, 500, "Internal", err.msg);
			return 500;
		}
		out = json_pack("{s:o}", "entries", lc.entries);
		reply_json(c, req, 200, out, NULL);
		return 200;
	}
	if (strcmp(op, "secret.set") == 0 || strcmp(op, "secret.rotate") == 0 ||
	    strcmp(op, "secret.get") == 0) {
		const struct ward_manifest_secret *sec = ward_manifest_secret(c->manifest, name);
		bool get = strcmp(op, "secret.get") == 0;
		WARD_AUTOJSON json_t *val = NULL;

		if (!sec)
			return admin_refuse(c, req, 404, kid, op, "no such secret in the manifest");
		if (!ward_manifest_user_allows(c->manifest, u,
					       get ? WARD_ROLE_READ_SECRET : WARD_ROLE_SET_SECRET,
					       sec->name))
			return admin_refuse(c, req, 403, kid, op,
					    get ? "role does not allow reading this secret"
						: "role does not allow setting this secret");
		if (get) {
			WARD_AUTOFREE char *text = NULL;
			WARD_AUTOJSON json_t *jwe = NULL;

			r = secret_load(c, sec->name, &val, &err);
			if (r >= 0)
				r = ward_json_dump(val, &text, &err);
			if (r >= 0)
				r = ward_jwe_encrypt(u->key, WARD_JWE_ECDH_ES_A256KW, text,
						     strlen(text), &jwe, &err);
			if (text)
				ward_wipe(text, strlen(text));
			if (r < 0) {
				reply_problem(c, req, status_for(r), "NotFound", err.msg);
				return status_for(r);
			}
			(void)audit(c, "secret.read", kid, json_pack("{s:s}", "name", sec->name),
				    &err);
			out = json_pack("{s:O}", "jwe", jwe);
			reply_json(c, req, 200, out, NULL);
			return 200;
		}
		if (strcmp(op, "secret.set") == 0) {
			const char *v = NULL;
			WARD_AUTOFREE uint8_t *raw = NULL;
			size_t rsize;

			if (sec->type != WARD_SECRET_USER)
				return admin_refuse(c, req, 409, kid, op,
						    "only user secrets are set (generated ones "
						    "are rotated)");
			if (ward_json_get_string(p, "$", "value", true, &v, &err) < 0 ||
			    ward_base64url_decode(v, strlen(v), &raw, &rsize, &err) < 0)
				return admin_refuse(c, req, 400, kid, op,
						    "value: base64url bytes required");
			if (sec->size && (int64_t)rsize != sec->size)
				return admin_refuse(c, req, 400, kid, op,
						    "value has the wrong size for this secret");
			ward_wipe(raw, rsize);
			val = json_pack("{s:s, s:s, s:I}", "type", "user", "value", v, "created",
					(json_int_t)now_s());
		} else {
			if (sec->type == WARD_SECRET_USER)
				return admin_refuse(c, req, 409, kid, op,
						    "user secrets are set, not rotated");
			r = secret_generate(c, sec, &val, &err);
			if (r < 0) {
				reply_problem(c, req, 500, "Internal", err.msg);
				return 500;
			}
		}
		r = ward_store_begin(c->store, &err);
		if (r >= 0)
			r = secret_store(c, sec->name, val, &err);
		if (r >= 0)
			r = audit_new(c->store, op, kid, json_pack("{s:s}", "name", sec->name),
				      &err);
		if (r >= 0)
			r = ward_store_commit(c->store, &err);
		else
			ward_store_rollback(c->store);
		if (r < 0) {
			reply_problem(c, req, 500, "Internal", err.msg);
			return 500;
		}
		out = json_pack("{s:s}", "name", sec->name);
		reply_json(c, req, 200, out, NULL);
		return 200;
	}
	if (strcmp(op, "volume.accept_rollback") == 0) {
		if (!ward_manifest_user_allows(c->manifest, u, WARD_ROLE_UPDATE_MANIFEST, NULL))
			return admin_refuse(c, req, 403, kid, op,
					    "role does not allow update_manifest (needed to "
					    "accept a volume rollback)");
		return volume_accept_op(c, req, p, kid);
	}
	return admin_refuse(c, req, 400, kid, op, "unknown op");
}

/* ---- metrics ---- */

static int metrics(struct ward_coord *c, struct ward_http_req *req)
{
	char buf[8192];
	size_t n = 0;
	static const char *const classes[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
	uint64_t cum = 0;

#define OUT(...)                                                                                   \
	(n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, __VA_ARGS__))
	OUT("# HELP ward_requests_total HTTP requests by status class.\n"
	    "# TYPE ward_requests_total counter\n");
	for (int i = 0; i < 6; i++)
		OUT("ward_requests_total{code=\"%s\"} %" PRIu64 "\n", classes[i], c->m.requests[i]);
	OUT("# HELP ward_attestations_total KBS attestations by result and TEE.\n"
	    "# TYPE ward_attestations_total counter\n");
	for (int t = 0; t <= WARD_TEE_SGX; t++)
		for (int a = 0; a < 2; a++)
			OUT("ward_attestations_total{tee=\"%s\",result=\"%s\"} %" PRIu64 "\n",
			    t ? ward_tee_name((enum ward_tee_type)t) : "none",
			    a ? "accepted" : "refused", c->m.attest[t][a]);
	OUT("# TYPE ward_resource_releases_total counter\nward_resource_releases_total %" PRIu64
	    "\n# TYPE ward_resource_refusals_total counter\nward_resource_refusals_total %" PRIu64
	    "\n",
	    c->m.releases, c->m.release_refusals);
	OUT("# HELP ward_request_duration_seconds Request handling time.\n"
	    "# TYPE ward_request_duration_seconds histogram\n");
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += c->m.latency_buckets[i];
		OUT("ward_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", BUCKETS[i],
		    cum);
	}
	OUT("ward_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64
	    "\nward_request_duration_seconds_sum %.6f\nward_request_duration_seconds_count %" PRIu64
	    "\n",
	    c->m.latency_count, c->m.latency_sum, c->m.latency_count);
	OUT("# TYPE ward_sessions gauge\nward_sessions %zu\n", c->session_count);
#undef OUT
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	ward_http_reply(req, 200, "text/plain; version=0.0.4", buf, n, NULL);
	return 200;
}

static void record(struct ward_coord *c, int status, double t0)
{
	double dt = mono() - t0;
	int cls = status / 100 - 1;

	c->m.requests[cls >= 0 && cls < 5 ? cls : 5]++;
	c->m.latency_count++;
	c->m.latency_sum += dt;
	for (size_t i = 0; i < NBUCKETS; i++)
		if (dt <= BUCKETS[i]) {
			c->m.latency_buckets[i]++;
			break;
		}
}

static void handle(struct ward_http_req *req, void *ud)
{
	struct ward_coord *c = ud;
	const char *path = ward_http_req_path(req);
	const char *method = ward_http_req_method(req);
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	double t0 = mono();
	int status;

	pthread_mutex_lock(&c->lock);
	if (!path) {
		reply_problem(c, req, 400, "InvalidRequest", "undecodable path");
		status = 400;
	} else if (post && strcmp(path, "/kbs/v0/auth") == 0) {
		status = kbs_auth(c, req);
	} else if (post && strcmp(path, "/kbs/v0/attest") == 0) {
		status = kbs_attest(c, req);
	} else if (get && ward_startswith(path, "/kbs/v0/resource/")) {
		status = kbs_resource(c, req, path + strlen("/kbs/v0/resource/"));
	} else if (get && strcmp(path, "/ward/v1/evidence") == 0) {
		status = get_evidence(c, req);
	} else if (get && strcmp(path, "/ward/v1/manifest") == 0) {
		status = get_manifest(c, req);
	} else if (post && strcmp(path, "/ward/v1/manifest") == 0) {
		status = post_manifest(c, req);
	} else if (get && strcmp(path, "/ward/v1/nonce") == 0) {
		status = admin_nonce(c, req);
	} else if (post && strcmp(path, "/ward/v1/admin") == 0) {
		status = admin(c, req);
	} else if ((get || strcmp(method, "PUT") == 0) &&
		   ward_startswith(path, "/ward/v1/volume/")) {
		status = volume_api(c, req, !get, path + strlen("/ward/v1/volume/"));
	} else if (get && strcmp(path, "/ward/v1/ca") == 0) {
		ward_http_reply(req, 200, "application/x-pem-file", c->ca_bundle,
				strlen(c->ca_bundle), NULL);
		status = 200;
	} else {
		reply_problem(c, req, 404, "NotFound", "no such endpoint");
		status = 404;
	}
	record(c, status, t0);
	pthread_mutex_unlock(&c->lock);
	ward_logkv(WARD_LOG_DEBUG, "request",
		   (const char *const[]){"method", method, "path", path ? path : "?", NULL});
}

static void handle_metrics(struct ward_http_req *req, void *ud)
{
	struct ward_coord *c = ud;
	const char *path = ward_http_req_path(req);

	if (path && strcmp(path, "/metrics") == 0) {
		pthread_mutex_lock(&c->lock);
		(void)metrics(c, req);
		pthread_mutex_unlock(&c->lock);
	} else
		ward_http_reply(req, 404, "text/plain", "not found\n", 10, NULL);
}

static int listen_all(struct ward_coord *c, struct ward_err *err)
{
	int r;

	r = ward_http_server_listen(c->srv, c->opts.listen_addr, c->opts.listen_port, c->tls,
				    BODY_MAX, handle, c, &c->port, err);
	if (r >= 0 && c->opts.metrics_addr)
		r = ward_http_server_listen(c->srv, c->opts.metrics_addr, c->opts.metrics_port,
					    NULL, 4096, handle_metrics, c, &c->metrics_port, err);
	return r;
}

int ward_coord_run(struct ward_coord *c, struct ward_err *err)
{
	int r;

	ward_info("coordinator listening on https://%s:%u (tee %s)", c->opts.listen_addr, c->port,
		  ward_tee_name(c->opts.tee->type));
	if (c->opts.metrics_addr)
		ward_info("metrics on http://%s:%u/metrics", c->opts.metrics_addr, c->metrics_port);
	r = ward_http_server_run(c->srv, true, err);
	for (unsigned i = 0; i < c->loop_count; i++)
		flush_pending(&c->loops[i]);
	ward_info("coordinator stopped");
	return r;
}

void ward_coord_stop(struct ward_coord *c)
{
	ward_http_server_stop(c->srv);
}

uint16_t ward_coord_port(const struct ward_coord *c)
{
	return c->port;
}

uint16_t ward_coord_metrics_port(const struct ward_coord *c)
{
	return c->metrics_port;
}
