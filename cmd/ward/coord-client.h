/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the coordinator's client commands share: the pinned certificate
 * (written by `ward verify`), the HTTPS connection, signed admin requests. */

#include <jansson.h>

#include "ward/http.h"

#define COORD_URL_ENV "WARD_COORDINATOR"

struct coord_conn {
	struct ward_tls_ctx *tls;
	struct ward_http_client *http;
	char pin_path[4096];
};

/* The pin file for url: pin_file if given, else
 * $WARD_CONFIG_HOME|$XDG_CONFIG_HOME/ward|~/.config/ward + /coordinators/<host>_<port>.pem */
int coord_pin_path(const char *url, const char *pin_file, char *buf, size_t size,
		   struct ward_err *err);
/* Connect to url trusting only the pinned certificate (see ward verify). */
int coord_connect(const char *url, const char *pin_file, struct coord_conn *ret,
		  struct ward_err *err);
void coord_conn_clear(struct coord_conn *c);
/* GET/POST with a 200 expected; otherwise an error carrying the problem
 * detail. *ret_body parsed JSON (new reference), may be NULL. */
int coord_call(struct coord_conn *c, const char *method, const char *path, const void *body,
	       size_t size, json_t **ret_body, struct ward_err *err);
/* A signed admin request: payload gets a fresh nonce and is signed (ES256
 * JWS, kid = user) with the key in key_path. */
int coord_admin(struct coord_conn *c, const char *user, const char *key_path, json_t *payload,
		json_t **ret_body, struct ward_err *err);

/* Shared CLI options of client commands. */
struct coord_cli {
	const char *url;      /* --coordinator or $WARD_COORDINATOR */
	const char *pin_file; /* --pin-file */
	const char *user;     /* --user */
	const char *key;      /* --key */
	bool json;	      /* --json */
	const char *out;      /* --out */
	const char *value;    /* --value (hex) */
	const char *value_file;
	uint64_t seq;
};
/* Parse the shared options from argv[optind...]; leaves positional
 * arguments at argv[optind...]. Returns 0, or a WARD_EXIT_* for usage/help. */
int coord_cli_parse(const char *cmd, int argc, char **argv, struct coord_cli *o,
		    void (*help)(FILE *out), bool *ret_exit, int *ret_code);
/* ward log / ward manifest log. */
int coord_cli_log(const char *cmd, const struct coord_cli *o);
