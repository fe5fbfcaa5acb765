/* SPDX-License-Identifier: Apache-2.0 */
/* ward volume accept-rollback: an authorised user accepts, at the
 * coordinator, the older state of a protected volume found in a backing
 * directory (signed like manifest updates; audited as
 * volume.rollback_accepted). ward-init then opens exactly that state once
 * and continues above the registered version. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "coord-client.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/vol.h"

int volume_accept_rollback(int argc, char **argv);

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward volume accept-rollback DIR WORKLOAD/VOLUME --coordinator URL\n"
		"                                   --user NAME --key FILE [--pin-file FILE]\n"
		"\n"
		"Accept the (older) state of the protected volume in the backing directory\n"
		"DIR for WORKLOAD/VOLUME: the next mount opens exactly that state (version\n"
		"and root hash) and continues above the registered version. The user's role\n"
		"must allow update_manifest. The acceptance is audit-logged.\n");
}

/* The state in dir: version from the metadata header, root = SHA-256(meta). */
static int disk_state(const char *dir, uint64_t *ret_version, char root_hex[65],
		      struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_AUTOFREE uint8_t *meta = NULL;
	WARD_AUTOFREE char *path = NULL;
	struct ward_vol_info info;
	size_t size;
	int r;

	r = ward_vol_io_posix(dir, &io, err);
	if (r >= 0)
		r = ward_vol_inspect(io, &info, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", dir);
	if (asprintf(&path, "%s/meta", dir) < 0) {
		path = NULL;
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	r = ward_file_read(path, (size_t)1 << 30, &meta, &size, err);
	if (r >= 0)
		r = ward_sha256_hex(meta, size, root_hex, err);
	if (r < 0)
		return r;
	*ret_version = info.version;
	return 0;
}

int volume_accept_rollback(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_cli o = {0};
	struct coord_conn conn = {0};
	WARD_AUTOJSON json_t *p = NULL, *body = NULL;
	const char *dir, *vpath;
	char root_hex[65];
	uint64_t version = 0;
	bool done;
	int code = 0, r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		help(stdout);
		return WARD_EXIT_OK;
	}
	if (argc < 3)
		return cli_usage("volume accept-rollback",
				 "usage: ward volume accept-rollback DIR WORKLOAD/VOLUME ...");
	dir = argv[1];
	vpath = argv[2];
	optind = 3;
	coord_cli_parse("volume accept-rollback", argc, argv, &o, help, &done, &code);
	if (done)
		return code;
	if (optind < argc)
		return cli_usage("volume accept-rollback", "unexpected argument '%s'",
				 argv[optind]);
	if (!o.url || !o.user || !o.key)
		return cli_usage("volume accept-rollback",
				 "--coordinator, --user and --key are required");
	r = disk_state(dir, &version, root_hex, &err);
	if (r < 0)
		return cli_fail("volume accept-rollback", &err);
	if (version == 0 || version > INT64_MAX) {
		ward_err_set(&err, -WARD_E_MALFORMED, "%s: no committed metadata", dir);
		return cli_fail("volume accept-rollback", &err);
	}
	p = json_pack("{s:s, s:s, s:I, s:s}", "op", "volume.accept_rollback", "volume", vpath,
		      "version", (json_int_t)version, "root", root_hex);
	r = coord_connect(o.url, o.pin_file, &conn, &err);
	if (r >= 0)
		r = coord_admin(&conn, o.user, o.key, p, &body, &err);
	coord_conn_clear(&conn);
	if (r < 0)
		return cli_fail("volume accept-rollback", &err);
	printf("accepted %s version %" PRIu64 " root %s\n", vpath, version, root_hex);
	return WARD_EXIT_OK;
}
