/* SPDX-License-Identifier: Apache-2.0 */
/* The KBS transport over lib/http's blocking HTTPS client, with the
 * coordinator's TLS certificate pinned byte for byte: nothing is sent to a
 * server that is not the coordinator the image was built for. Built only
 * when lib/http is part of the tree ([coordinator]). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/http.h"
#include "ward/tls.h"

struct ward_kbs_http {
	struct ward_tls_ctx *tls;
	struct ward_http_client *client;
};

static int http_request(void *ctx, const char *method, const char *path, const char *cookie,
			const char *bearer, const void *body, size_t body_size, int *ret_status,
			uint8_t **ret_body, size_t *ret_body_size, char **ret_set_cookie,
			struct ward_err *err)
{
	struct ward_kbs_http *h = ctx;
	struct ward_http_response resp = {0};
	WARD_AUTOFREE char *auth = NULL;
	const char *headers[8];
	size_t n = 0;
	int r;

	headers[n++] = "Content-Type";
	headers[n++] = "application/json";
	if (cookie) {
		headers[n++] = "Cookie";
		headers[n++] = cookie;
	}
	if (bearer) {
		if (asprintf(&auth, "Bearer %s", bearer) < 0) {
			auth = NULL;
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		headers[n++] = "Authorization";
		headers[n++] = auth;
	}
	headers[n] = NULL;
	r = ward_http_request(h->client, method, path, headers, body, body_size, &resp, err);
	if (auth)
		ward_wipe(auth, strlen(auth));
	if (r < 0)
		return r;
	*ret_status = resp.status;
	*ret_body = WARD_TAKE_PTR(resp.body);
	*ret_body_size = resp.body_size;
	if (ret_set_cookie && resp.set_cookie) {
		/* keep "name=value", drop the attributes */
		resp.set_cookie[strcspn(resp.set_cookie, ";")] = 0;
		*ret_set_cookie = WARD_TAKE_PTR(resp.set_cookie);
	}
	ward_http_response_clear(&resp);
	return 0;
}

int ward_kbs_http_new(const char *url, const struct ward_x509 *pinned,
		      struct ward_kbs_transport *ret, struct ward_kbs_http **ret_state,
		      struct ward_err *err)
{
	struct ward_kbs_http *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!pinned) {
		free(h);
		return ward_err_set(err, -WARD_E_USAGE,
				    "the coordinator's certificate must be pinned");
	}
	r = ward_tls_client_new(pinned, &h->tls, err);
	if (r >= 0)
		r = ward_http_client_new(url, h->tls, &h->client, err);
	if (r < 0) {
		ward_kbs_http_free(h);
		return ward_err_prefix(err, "coordinator %s", url);
	}
	*ret = (struct ward_kbs_transport){http_request, h};
	*ret_state = h;
	return 0;
}

struct ward_kbs_http *ward_kbs_http_free(struct ward_kbs_http *h)
{
	if (!h)
		return NULL;
	ward_http_client_free(h->client);
	ward_tls_ctx_free(h->tls);
	free(h);
	return NULL;
}
