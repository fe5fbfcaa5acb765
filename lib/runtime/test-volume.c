/* SPDX-License-Identifier: Apache-2.0 */
/* ward run -v: parsing, ward-init arguments, the OCI config additions. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/json.h"

WARD_TEST(volume_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_volume_mount v;
	char dir[] = "/tmp/ward-rtvol-XXXXXX", spec[256], file[300];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(spec, sizeof(spec), "%s:/data", dir);
	CHECK_OK(ward_volume_mount_parse(spec, &v, &err), &err);
	CHECK_STR(v.name, "data");
	CHECK_STR(v.path, "/data");
	CHECK_STR(v.host_dir, dir);
	snprintf(spec, sizeof(spec), "%s:/var/lib/db/:db_1", dir);
	CHECK_OK(ward_volume_mount_parse(spec, &v, &err), &err);
	CHECK_STR(v.name, "db_1");
	CHECK_STR(v.path, "/var/lib/db");

	static const char *const bad_paths[] = {":/", ":relative", ":/.ward/x", ":/proc/x",
						":/a/../b", ":/a/..", ":/dev/x", ":/d:bad.name", ""};
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		snprintf(spec, sizeof(spec), "%s%s", dir, bad_paths[i]);
		CHECK_ERR(ward_volume_mount_parse(spec, &v, &err), -WARD_E_USAGE);
		ward_err_clear(&err);
	}
	CHECK_ERR(ward_volume_mount_parse(":/data", &v, &err), -WARD_E_USAGE);
	ward_err_clear(&err);
	CHECK_ERR(ward_volume_mount_parse("/nonexistent-ward-dir:/data", &v, &err), -ENOENT);
	CHECK_MSG(&err, "host directory");
	ward_err_clear(&err);
	snprintf(file, sizeof(file), "%s/f", dir);
	CHECK_INT(close(creat(file, 0600)), ==, 0);
	snprintf(spec, sizeof(spec), "%s:/data", file);
	CHECK_ERR(ward_volume_mount_parse(spec, &v, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "not a directory");
	unlink(file);
	rmdir(dir);
}

WARD_TEST(volume_bundle_and_args)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_volume_mount v[2] = {{"/srv/a", "/data", "data"}, {"/srv/b", "/x/y", "logs"}};
	WARD_AUTOJSON json_t *cfg = json_pack("{s:[], s:{}}", "mounts", "linux");
	char bufs[2][340], *args[4];
	json_t *m, *d, *r;

	CHECK_INT(rt_volume_init_args(v, 2, args, bufs), ==, 4);
	CHECK_STR(args[0], "--volume");
	CHECK_STR(args[1], "data:/data");
	CHECK_STR(args[3], "logs:/x/y");
	CHECK_OK(rt_bundle_add_volumes(cfg, v, 2, &err), &err);
	m = json_array_get(json_object_get(cfg, "mounts"), 1);
	CHECK_STR(json_string_value(json_object_get(m, "destination")), "/.ward/vol/logs");
	CHECK_STR(json_string_value(json_object_get(m, "source")), "/srv/b");
	d = json_array_get(json_object_get(json_object_get(cfg, "linux"), "devices"), 0);
	CHECK_STR(json_string_value(json_object_get(d, "path")), "/dev/fuse");
	CHECK_INT(json_integer_value(json_object_get(d, "major")), ==, 10);
	CHECK_INT(json_integer_value(json_object_get(d, "minor")), ==, 229);
	r = json_array_get(
	    json_object_get(json_object_get(json_object_get(cfg, "linux"), "resources"), "devices"),
	    0);
	CHECK(json_is_true(json_object_get(r, "allow")));
	CHECK_STR(json_string_value(json_object_get(r, "access")), "rwm");
	/* the same name twice */
	{
		WARD_AUTOJSON json_t *c2 = json_pack("{s:[], s:{}}", "mounts", "linux");
		struct ward_volume_mount twice[2] = {{"/a", "/a", "n"}, {"/b", "/b", "n"}};

		CHECK_ERR(rt_bundle_add_volumes(c2, twice, 2, &err), -WARD_E_USAGE);
		CHECK_MSG(&err, "given twice");
	}
}

/* Devices for the bundle: a node and its rule once each, a wildcard rule
 * without a minor, and no node for a rule-only device. */
WARD_TEST(bundle_add_device)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *cfg = json_pack("{s:[], s:{}}", "mounts", "linux");
	json_t *devs, *rules, *r;

	for (int i = 0; i < 2; i++) {
		CHECK_OK(rt_bundle_add_device(cfg, "/dev/loop-control", 'c', 10, 237, 0600, &err),
			 &err);
		CHECK_OK(rt_bundle_add_device(cfg, NULL, 'b', 7, -1, 0, &err), &err);
	}
	devs = json_object_get(json_object_get(cfg, "linux"), "devices");
	rules = json_object_get(json_object_get(json_object_get(cfg, "linux"), "resources"),
				"devices");
	CHECK_INT(json_array_size(devs), ==, 1);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(devs, 0), "fileMode")), ==,
		  0600);
	CHECK_INT(json_array_size(rules), ==, 2);
	r = json_array_get(rules, 1);
	CHECK_STR(json_string_value(json_object_get(r, "type")), "b");
	CHECK_INT(json_integer_value(json_object_get(r, "major")), ==, 7);
	CHECK(json_object_get(r, "minor") == NULL);
	CHECK_ERR(rt_bundle_add_device(json_object_get(cfg, "mounts"), "/dev/x", 'c', 1, 1, 0600,
				       &err),
		  -WARD_E_USAGE);
}

WARD_TEST_MAIN()
