/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/tls.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <unistd.h>

#include "crypto-internal.h"

WARD_DEFINE_FREEP(SSL_CTX, SSL_CTX_free)

struct ward_tls_conn {
	SSL *ssl; /* owned */
	int fd;	  /* owned */
};

static SSL_CTX *ctx_raw(struct ward_tls_ctx *c)
{
	return (SSL_CTX *)c;
}

/* The pinned certificate of a client context lives in ex_data. */
static int g_pin_index = -1;
static CRYPTO_ONCE g_pin_once = CRYPTO_ONCE_STATIC_INIT;

static void pin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	X509_free(ptr);
}

static void pin_index_init(void)
{
	g_pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, pin_free);
}

static int ctx_common(SSL_CTX *ctx, struct ward_err *err)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: cannot require TLS 1.3");
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	(void)SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

int ward_tls_server_new(const struct ward_pkey *key, const struct ward_x509 *cert,
			struct ward_x509 *const *chain, size_t chain_count,
			struct ward_tls_ctx **ret, struct ward_err *err)
{
	WARD_CLEANUP(SSL_CTX_freep) SSL_CTX *ctx = NULL;
	int r;

	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return ward_crypto_err(err, -ENOMEM, "tls: cannot create server context");
	r = ctx_common(ctx, err);
	if (r < 0)
		return r;
	if (SSL_CTX_use_certificate(ctx, ward_x509_raw(cert)) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: server certificate refused");
	if (SSL_CTX_use_PrivateKey(ctx, ward_pkey_evp(key)) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO,
				       "tls: server key does not match its certificate");
	for (size_t i = 0; i < chain_count; i++)
		if (SSL_CTX_add1_chain_cert(ctx, ward_x509_raw(chain[i])) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO,
					       "tls: chain certificate %zu refused", i);
	(void)SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	*ret = (struct ward_tls_ctx *)WARD_TAKE_PTR(ctx);
	return 0;
}

int ward_tls_client_new(const struct ward_x509 *pinned, struct ward_tls_ctx **ret,
			struct ward_err *err)
{
	WARD_CLEANUP(SSL_CTX_freep) SSL_CTX *ctx = NULL;
	int r;

	if (!CRYPTO_THREAD_run_once(&g_pin_once, pin_index_init) || g_pin_index < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: ex_data index");
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return ward_crypto_err(err, -ENOMEM, "tls: cannot create client context");
	r = ctx_common(ctx, err);
	if (r < 0)
		return r;
	/* No Web PKI: the certificate is checked against the pin (or by the
	 * caller) after the handshake, which already proved key possession. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (pinned) {
		X509 *x = ward_x509_raw(pinned);

		if (X509_up_ref(x) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: pin reference");
		if (SSL_CTX_set_ex_data(ctx, g_pin_index, x) != 1) {
			X509_free(x);
			return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: storing pin");
		}
	}
	*ret = (struct ward_tls_ctx *)WARD_TAKE_PTR(ctx);
	return 0;
}

struct ward_tls_ctx *ward_tls_ctx_free(struct ward_tls_ctx *ctx)
{
	SSL_CTX_free(ctx_raw(ctx));
	return NULL;
}

void *ward_tls_server_ssl_new(struct ward_tls_ctx *ctx)
{
	return SSL_new(ctx_raw(ctx));
}

struct ward_tls_conn *ward_tls_conn_free(struct ward_tls_conn *c)
{
	if (!c)
		return NULL;
	if (c->ssl) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		(void)close(c->fd);
	free(c);
	return NULL;
}

int ward_tls_connect(struct ward_tls_ctx *ctx, int fd, const char *server_name,
		     struct ward_tls_conn **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_tls_conn_freep) struct ward_tls_conn *c = NULL;
	X509 *pin = g_pin_index >= 0 ? SSL_CTX_get_ex_data(ctx_raw(ctx), g_pin_index) : NULL;
	X509 *peer;
	int cmp;

	c = calloc(1, sizeof(*c));
	if (!c) {
		(void)close(fd);
		return ward_err_set(err, -ENOMEM, "tls: out of memory");
	}
	c->fd = fd;
	c->ssl = SSL_new(ctx_raw(ctx));
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: cannot create connection");
	if (server_name && SSL_set_tlsext_host_name(c->ssl, server_name) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "tls: bad server name");
	if (SSL_connect(c->ssl) != 1)
		return ward_crypto_err(err, -ECONNREFUSED, "tls: handshake failed");
	if (pin) {
		/* The pin is the key (what attested evidence binds), so the
		 * server may reissue its certificate for new names. */
		peer = SSL_get0_peer_certificate(c->ssl);
		cmp = peer ? EVP_PKEY_eq(X509_get0_pubkey(peer), X509_get0_pubkey(pin)) : 0;
		if (cmp != 1)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "tls: the server's key is not the pinned one");
	}
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

int ward_tls_write(struct ward_tls_conn *c, const void *buf, size_t size, struct ward_err *err)
{
	size_t done = 0, n;

	while (done < size) {
		if (SSL_write_ex(c->ssl, (const uint8_t *)buf + done, size - done, &n) != 1)
			return ward_crypto_err(err, -EIO, "tls: write failed");
		done += n;
	}
	return 0;
}

int ward_tls_read(struct ward_tls_conn *c, void *buf, size_t size, size_t *ret_n,
		  struct ward_err *err)
{
	size_t n = 0;
	int e;

	if (SSL_read_ex(c->ssl, buf, size, &n) == 1) {
		*ret_n = n;
		return 0;
	}
	e = SSL_get_error(c->ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0) ||
	    (e == SSL_ERROR_SSL &&
	     ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		*ret_n = 0;
		return 0;
	}
	return ward_crypto_err(err, -EIO, "tls: read failed");
}

int ward_tls_conn_peer_cert(struct ward_tls_conn *c, struct ward_x509 **ret, struct ward_err *err)
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl);

	if (!peer)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "tls: the server sent no certificate");
	*ret = (struct ward_x509 *)peer;
	return 0;
}

const char *ward_tls_conn_version(struct ward_tls_conn *c)
{
	return SSL_get_version(c->ssl);
}
