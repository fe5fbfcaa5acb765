/* SPDX-License-Identifier: Apache-2.0 */
/* ward manifest set|get|verify|log */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "coord-client.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/manifest.h"

static void help(FILE *out)
{
	fprintf(out, "Usage: ward manifest set FILE --coordinator URL [--user NAME --key FILE]\n"
		     "       ward manifest get --coordinator URL [--seq N]\n"
		     "       ward manifest verify FILE [--coordinator URL]\n"
		     "       ward manifest log --coordinator URL --user NAME --key FILE\n"
		     "\n"
		     "set     install FILE; the first manifest needs only the pinned coordinator\n"
		     "        (ward verify), later ones are signed by a user whose role allows\n"
		     "        update_manifest (ES256 with --key, the user's P-256 private key)\n"
		     "get     print the current (or --seq N) manifest\n"
		     "verify  validate FILE and print its hash; with --coordinator also check\n"
		     "        that it is the coordinator's current manifest\n"
		     "log     the audit log (as 'ward log')\n");
}

static int run(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_cli o = {0};
	struct coord_conn conn = {0};
	const char *verb, *file = NULL;
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	WARD_AUTOJSON json_t *body = NULL;
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOFREE char *text = NULL;
	size_t size;
	bool done;
	int code = 0, r;

	if (argc < 2)
		return cli_usage("manifest", "missing subcommand (set, get, verify, log)");
	verb = argv[1];
	optind = 2;
	coord_cli_parse("manifest", argc, argv, &o, help, &done, &code);
	if (done)
		return code;
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return cli_usage("manifest", "unexpected argument '%s'", argv[optind]);

	if (strcmp(verb, "log") == 0)
		return coord_cli_log("manifest log", &o);
	if (strcmp(verb, "verify") == 0 || strcmp(verb, "set") == 0) {
		if (!file)
			return cli_usage("manifest", "%s needs a FILE", verb);
		r = ward_file_read(file, WARD_MANIFEST_MAX_SIZE, &raw, &size, &err);
		if (r >= 0)
			r = ward_manifest_parse(raw, size, &m, &err);
		if (r < 0)
			return cli_fail("manifest", &err);
	}
	if (strcmp(verb, "verify") == 0 && !o.url) {
		printf("%s\n", m->hash_hex);
		return WARD_EXIT_OK;
	}
	if (strcmp(verb, "verify") != 0 && strcmp(verb, "set") != 0 && strcmp(verb, "get") != 0)
		return cli_usage("manifest", "unknown subcommand '%s'", verb);
	if (!o.url)
		return cli_usage("manifest", "--coordinator URL is required");
	r = coord_connect(o.url, o.pin_file, &conn, &err);
	if (r < 0)
		return cli_fail("manifest", &err);
	if (strcmp(verb, "set") == 0) {
		if (o.user || o.key) {
			WARD_AUTOJSON json_t *p = NULL;

			if (!o.user || !o.key) {
				coord_conn_clear(&conn);
				return cli_usage("manifest", "--user and --key go together");
			}
			p = json_pack("{s:s, s:O}", "op", "manifest.set", "manifest", m->root);
			r = coord_admin(&conn, o.user, o.key, p, &body, &err);
		} else {
			r = ward_manifest_canonical(m, &text, &err);
			if (r >= 0)
				r = coord_call(&conn, "POST", "/ward/v1/manifest", text,
					       strlen(text), &body, &err);
		}
		coord_conn_clear(&conn);
		if (r < 0)
			return cli_fail("manifest", &err);
		printf("manifest %lld set: %s\n",
		       (long long)json_integer_value(json_object_get(body, "seq")),
		       json_string_value(json_object_get(body, "hash")));
		return WARD_EXIT_OK;
	}
	{
		char path[64] = "/ward/v1/manifest";

		if (o.seq)
			snprintf(path, sizeof(path), "/ward/v1/manifest?seq=%llu",
				 (unsigned long long)o.seq);
		r = coord_call(&conn, "GET", path, NULL, 0, &body, &err);
	}
	coord_conn_clear(&conn);
	if (r < 0)
		return cli_fail("manifest", &err);
	if (strcmp(verb, "verify") == 0) {
		const char *h = json_string_value(json_object_get(body, "hash"));

		if (!h || strcmp(h, m->hash_hex) != 0) {
			fprintf(stderr,
				"ward manifest: MISMATCH: the coordinator's manifest is %s, FILE "
				"is %s\n",
				h ? h : "?", m->hash_hex);
			return WARD_EXIT_FAILURE;
		}
		printf("%s (the coordinator's current manifest)\n", m->hash_hex);
		return WARD_EXIT_OK;
	}
	if (ward_json_dump_pretty(json_object_get(body, "manifest"), &text, &err) < 0)
		return cli_fail("manifest", &err);
	fputs(text, stdout);
	fprintf(stderr, "manifest %lld of %lld, sha256 %s\n",
		(long long)json_integer_value(json_object_get(body, "seq")),
		(long long)json_integer_value(json_object_get(body, "latest")),
		json_string_value(json_object_get(body, "hash")));
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_manifest = {
    "manifest", "set, get, verify and log the coordinator manifest", run, help};
