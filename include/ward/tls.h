/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* TLS 1.3 over OpenSSL, for lib/http (which must not include OpenSSL
 * headers). Servers present one certificate; clients do not use the Web
 * PKI: they either pin one exact certificate (the coordinator's, learnt by
 * `ward verify` from attested evidence) or accept any certificate and let
 * the caller check it (ward_tls_conn_peer_cert) before sending anything
 * that matters. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"

struct ward_tls_ctx;  /* opaque: an SSL_CTX */
struct ward_tls_conn; /* opaque: a blocking client connection */

/* Server context: TLS 1.3 only, presenting cert (+ chain, may be NULL/0)
 * with key. Takes its own references. Connections already made keep the
 * context they were made with after it is freed (OpenSSL refcounts it). */
WARD_PUBLIC int ward_tls_server_new(const struct ward_pkey *key, const struct ward_x509 *cert,
				    struct ward_x509 *const *chain, size_t chain_count,
				    struct ward_tls_ctx **ret, struct ward_err *err);
/* Client context: TLS 1.3 only. With pinned, a connection succeeds only if
 * the server's certificate carries the pinned certificate's public key
 * (the key is what attestation binds; the certificate may be reissued);
 * with NULL any certificate is accepted (the caller must check it). */
WARD_PUBLIC int ward_tls_client_new(const struct ward_x509 *pinned, struct ward_tls_ctx **ret,
				    struct ward_err *err);
WARD_PUBLIC struct ward_tls_ctx *ward_tls_ctx_free(struct ward_tls_ctx *ctx);
static inline void ward_tls_ctx_freep(struct ward_tls_ctx **c)
{
	ward_tls_ctx_free(*c);
}

/* A new server-side SSL object (an OpenSSL `SSL *`, passed opaquely to
 * libevent's bufferevent_openssl_socket_new, which takes ownership). NULL
 * on failure. */
WARD_PUBLIC void *ward_tls_server_ssl_new(struct ward_tls_ctx *ctx);

/* Handshake as a client over the connected socket fd (ownership of fd
 * passes to the connection, also on failure). server_name is sent as SNI
 * (may be NULL). With a pinned context a different key fails with
 * -WARD_E_VERIFY. */
WARD_PUBLIC int ward_tls_connect(struct ward_tls_ctx *ctx, int fd, const char *server_name,
				 struct ward_tls_conn **ret, struct ward_err *err);
/* Write all of buf. */
WARD_PUBLIC int ward_tls_write(struct ward_tls_conn *c, const void *buf, size_t size,
			       struct ward_err *err);
/* Read up to size bytes; *ret_n 0 means the peer closed. */
WARD_PUBLIC int ward_tls_read(struct ward_tls_conn *c, void *buf, size_t size, size_t *ret_n,
			      struct ward_err *err);
/* The server's leaf certificate (new reference). */
WARD_PUBLIC int ward_tls_conn_peer_cert(struct ward_tls_conn *c, struct ward_x509 **ret,
					struct ward_err *err);
/* The negotiated protocol, e.g. "TLSv1.3" (static string). */
WARD_PUBLIC const char *ward_tls_conn_version(struct ward_tls_conn *c);
WARD_PUBLIC struct ward_tls_conn *ward_tls_conn_free(struct ward_tls_conn *c);
static inline void ward_tls_conn_freep(struct ward_tls_conn **c)
{
	ward_tls_conn_free(*c);
}
