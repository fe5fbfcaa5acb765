/* SPDX-License-Identifier: Apache-2.0 */
/* ward secret set|get|rotate: signed requests about manifest secrets. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "coord-client.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"

static void help(FILE *out)
{
	fprintf(out, "Usage: ward secret set NAME (--value-file FILE | --value HEX) COMMON\n"
		     "       ward secret get NAME [--out FILE] COMMON\n"
		     "       ward secret rotate NAME COMMON\n"
		     "COMMON: --coordinator URL --user NAME --key FILE [--pin-file FILE]\n"
		     "\n"
		     "set     upload a user-defined secret (type \"user\" in the manifest)\n"
		     "get     fetch a secret, encrypted to the user's key (JWE ECDH-ES+A256KW)\n"
		     "        and decrypted here; prints its JSON (or writes it to --out)\n"
		     "rotate  generate a new value for a generated secret\n"
		     "The user's role must allow set_secret / read_secret for the secret.\n");
}

static int run(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_cli o = {0};
	struct coord_conn conn = {0};
	WARD_AUTOJSON json_t *p = NULL, *body = NULL;
	WARD_AUTOFREE uint8_t *value = NULL;
	const char *verb, *name;
	size_t vsize = 0;
	bool done;
	int code = 0, r;

	if (argc < 3)
		return cli_usage("secret", "usage: ward secret set|get|rotate NAME ...");
	verb = argv[1];
	name = argv[2];
	optind = 3;
	coord_cli_parse("secret", argc, argv, &o, help, &done, &code);
	if (done)
		return code;
	if (optind < argc)
		return cli_usage("secret", "unexpected argument '%s'", argv[optind]);
	if (!o.url || !o.user || !o.key)
		return cli_usage("secret", "--coordinator, --user and --key are required");
	if (strcmp(verb, "set") == 0) {
		WARD_AUTOFREE char *b64 = NULL;

		if (!!o.value == !!o.value_file)
			return cli_usage("secret",
					 "set needs one of --value HEX, --value-file FILE");
		r = o.value ? ward_hex_decode(o.value, strlen(o.value), &value, &vsize, &err)
			    : ward_file_read(o.value_file, 1 << 20, &value, &vsize, &err);
		if (r < 0)
			return cli_fail("secret", &err);
		b64 = ward_base64url_encode_alloc(value, vsize);
		p = json_pack("{s:s, s:s, s:s}", "op", "secret.set", "name", name, "value",
			      b64 ? b64 : "");
		if (b64)
			ward_wipe(b64, strlen(b64));
		ward_wipe(value, vsize);
	} else if (strcmp(verb, "get") == 0 || strcmp(verb, "rotate") == 0) {
		p = json_pack("{s:s, s:s}", "op",
			      strcmp(verb, "get") == 0 ? "secret.get" : "secret.rotate", "name",
			      name);
	} else {
		return cli_usage("secret", "unknown subcommand '%s'", verb);
	}
	r = coord_connect(o.url, o.pin_file, &conn, &err);
	if (r >= 0)
		r = coord_admin(&conn, o.user, o.key, p, &body, &err);
	coord_conn_clear(&conn);
	if (r < 0)
		return cli_fail("secret", &err);
	if (strcmp(verb, "get") == 0) {
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *plain = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
		WARD_AUTOFREE uint8_t *pem = NULL;
		size_t size;

		r = ward_file_read(o.key, 1 << 16, &pem, &size, &err);
		if (r >= 0)
			r = ward_pkey_from_pem(pem, size, &key, &err);
		if (pem)
			ward_wipe(pem, size);
		if (r >= 0)
			r = ward_jwe_decrypt(key, json_object_get(body, "jwe"), &plain, &err);
		if (r < 0)
			return cli_fail("secret", &err);
		if (o.out)
			r = ward_file_write_atomic(o.out, plain->data, plain->size, 0600, &err);
		else
			r = fwrite(plain->data, 1, plain->size, stdout) == plain->size &&
				    fputc('\n', stdout) != EOF
				? 0
				: ward_err_set(&err, -EIO, "writing stdout");
		if (r < 0)
			return cli_fail("secret", &err);
		return WARD_EXIT_OK;
	}
	printf("secret %s: %s done\n", name, verb);
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_secret = {"secret", "set, get and rotate user-defined secrets", run,
				    help};
