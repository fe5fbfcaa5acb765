/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/runtime/runtime-internal.h"
#include "ward-test.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/json.h"
#include "ward/runtime.h"

WARD_TEST(port_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_port p;

	CHECK_OK(ward_port_parse("8080:80", &p, &err), &err);
	CHECK_STR(p.host_ip, "127.0.0.1");
	CHECK_INT(p.host_port, ==, 8080);
	CHECK_INT(p.container_port, ==, 80);
	CHECK_OK(ward_port_parse("0.0.0.0:6380:6379/tcp", &p, &err), &err);
	CHECK_STR(p.host_ip, "0.0.0.0");
	CHECK_INT(p.host_port, ==, 6380);
	CHECK_ERR(ward_port_parse("80", &p, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_port_parse("0:80", &p, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_port_parse("70000:80", &p, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_port_parse("1:2:3:4", &p, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_port_parse("53:53/udp", &p, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "tcp");
	CHECK_ERR(ward_port_parse("+1:80", &p, &err), -WARD_E_USAGE);
}

WARD_TEST(network_parse_and_names)
{
	struct ward_err err = WARD_ERR_INIT;
	enum ward_network n;
	const char *path;

	CHECK_OK(ward_network_parse("host", &n, &path, &err), &err);
	CHECK_INT(n, ==, WARD_NET_HOST);
	CHECK_OK(ward_network_parse("none", &n, &path, &err), &err);
	CHECK_INT(n, ==, WARD_NET_NONE);
	CHECK_OK(ward_network_parse("ns:/run/netns/x", &n, &path, &err), &err);
	CHECK_INT(n, ==, WARD_NET_PATH);
	CHECK_STR(path, "/run/netns/x");
	CHECK_ERR(ward_network_parse("ns:relative", &n, &path, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_network_parse("bridge0", &n, &path, &err), -WARD_E_USAGE);
	CHECK(ward_container_name_valid("web-1.a_b"));
	CHECK(!ward_container_name_valid(""));
	CHECK(!ward_container_name_valid("-x"));
	CHECK(!ward_container_name_valid("a/b"));
	CHECK(!ward_container_name_valid(".."));
	char longname[80];
	memset(longname, 'a', 65);
	longname[65] = 0;
	CHECK(!ward_container_name_valid(longname));
}

WARD_TEST(bundle_config)
{
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-rt-test-XXXXXX", path[128];
	char *args[] = {(char *)"--env", (char *)"A=1"};
	json_t *j = NULL, *ns;
	size_t i;
	json_t *v;
	bool has_net = false;

	CHECK(mkdtemp(dir));
	struct rt_bundle_opts b = {.bundle = dir,
				   .rootfs = "/x/rootfs",
				   .run_dir = "/x/run",
				   .ward_init = "/x/init",
				   .hostname = "h",
				   .init_args = args,
				   .init_arg_count = 2,
				   .network = WARD_NET_HOST};
	CHECK_OK(rt_bundle_write(&b, &err), &err);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	CHECK_OK(ward_json_load_file(path, 1 << 20, &j, &err), &err);
	CHECK_STR(json_string_value(
		      json_array_get(json_object_get(json_object_get(j, "process"), "args"), 0)),
		  "/.ward/init");
	CHECK_STR(json_string_value(
		      json_array_get(json_object_get(json_object_get(j, "process"), "args"), 2)),
		  "A=1");
	CHECK(json_is_true(json_object_get(json_object_get(j, "root"), "readonly")));
	ns = json_object_get(json_object_get(j, "linux"), "namespaces");
	json_array_foreach(ns, i, v) has_net |=
	    strcmp(json_string_value(json_object_get(v, "type")), "network") == 0;
	CHECK(!has_net); /* host network */
	json_decref(j);
	b.network = WARD_NET_PATH;
	b.netns_path = "/run/netns/t";
	CHECK_OK(rt_bundle_write(&b, &err), &err);
	CHECK_OK(ward_json_load_file(path, 1 << 20, &j, &err), &err);
	ns = json_object_get(json_object_get(j, "linux"), "namespaces");
	has_net = false;
	json_array_foreach(
	    ns, i, v) if (strcmp(json_string_value(json_object_get(v, "type")), "network") == 0)
	    has_net = strcmp(json_string_value(json_object_get(v, "path")), "/run/netns/t") == 0;
	CHECK(has_net);
	json_decref(j);
	b.bundle = "/nonexistent-ward-dir";
	CHECK(rt_bundle_write(&b, &err) < 0);
	CHECK_OK(ward_rm_rf(dir, &err), &err);
}

WARD_TEST(write_volatile)
{
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-rt-test-XXXXXX", path[128], longp[PATH_MAX + 8];
	uint8_t *data = NULL;
	size_t size;
	struct stat st;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK_OK(ward_file_write_volatile(path, "one", 3, 0640, &err), &err);
	CHECK_INT(stat(path, &st), ==, 0);
	CHECK_INT(st.st_mode & 07777, ==, 0640);
	/* replaced whole, never appended; size 0 is a file too */
	CHECK_OK(ward_file_write_volatile(path, "", 0, 0600, &err), &err);
	CHECK_OK(ward_file_read(path, 64, &data, &size, &err), &err);
	CHECK_INT(size, ==, 0);
	free(data);
	CHECK_OK(ward_file_write_volatile(path, "two", 3, 0600, &err), &err);
	CHECK_OK(ward_file_read(path, 64, &data, &size, &err), &err);
	CHECK_MEM(data, "two", 3);
	CHECK_INT(size, ==, 3);
	free(data);
	/* the errors: no directory, a name too long; no temp file is left */
	CHECK_ERR(ward_file_write_volatile("/nonexistent-ward-dir/f", "x", 1, 0600, &err), -ENOENT);
	CHECK_MSG(&err, "/nonexistent-ward-dir/f");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CHECK_ERR(ward_file_write_volatile(longp, "x", 1, 0600, &err), -ENAMETOOLONG);
	snprintf(path, sizeof(path), "%s/dir", dir);
	CHECK_INT(mkdir(path, 0700), ==, 0);
	CHECK(ward_file_write_volatile(path, "x", 1, 0600, &err) < 0); /* rename over a directory */
	CHECK_MSG(&err, "rename");
	CHECK_OK(ward_rm_rf(path, &err), &err);
	snprintf(path, sizeof(path), "%s/f", dir);
	CHECK_INT(unlink(path), ==, 0);
	CHECK_INT(rmdir(dir), ==, 0); /* fails if a temp file was left behind */
}

WARD_TEST(run_trace_format)
{
	char buf[256];
	int p[2], saved;
	ssize_t n;
	double t;
	char comp[32], what[64];

	CHECK_INT(setenv("WARD_TRACE", "1", 1), ==, 0);
	CHECK_INT(pipe(p), ==, 0);
	saved = dup(STDERR_FILENO);
	CHECK_INT(dup2(p[1], STDERR_FILENO), ==, STDERR_FILENO);
	ward_trace("unit", "step %d", 7);
	CHECK_INT(dup2(saved, STDERR_FILENO), ==, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK_INT(sscanf(buf, "ward-trace %lf %31[^:]: %63[^\n]", &t, comp, what), ==, 3);
	CHECK_STR(comp, "unit");
	CHECK_STR(what, "step 7");
	CHECK(t > 1.6e9);
	CHECK_INT(buf[n - 1], ==, '\n');
}

WARD_TEST(state_list_get_remove)
{
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-rt-state-XXXXXX", path[256];
	struct ward_container_info *list = NULL, info;
	size_t n;

	CHECK(mkdtemp(dir));
	CHECK_OK(ward_state_list(dir, &list, &n, &err), &err);
	CHECK_INT(n, ==, 0);
	free(list);
	snprintf(path, sizeof(path), "%s/web", dir);
	CHECK_INT(mkdir(path, 0700), ==, 0);
	snprintf(path, sizeof(path), "%s/web/state.json", dir);
	const char *st =
	    "{\"name\":\"web\",\"image\":\"img\",\"status\":\"exited\",\"exit_code\":3,"
	    "\"supervisor\":1,\"created\":\"x\",\"ports\":\"\"}";
	CHECK_OK(ward_file_write_atomic(path, st, strlen(st), 0600, &err), &err);
	CHECK_OK(ward_state_list(dir, &list, &n, &err), &err);
	CHECK_INT(n, ==, 1);
	CHECK_STR(list[0].status, "exited");
	CHECK_INT(list[0].exit_code, ==, 3);
	free(list);
	CHECK_ERR(ward_state_get(dir, "other", &info, &err), -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_state_get(dir, "../x", &info, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_state_log_path(dir, "web", path, sizeof(path), &err), -WARD_E_NOT_FOUND);
	/* "running" with a dead supervisor reads as dead */
	snprintf(path, sizeof(path), "%s/web/state.json", dir);
	const char *st2 = "{\"name\":\"web\",\"status\":\"running\",\"supervisor\":2147483000}";
	CHECK_OK(ward_file_write_atomic(path, st2, strlen(st2), 0600, &err), &err);
	CHECK_OK(ward_state_get(dir, "web", &info, &err), &err);
	CHECK_STR(info.status, "dead");
	CHECK_OK(ward_state_stop(dir, "web", 0, &err), &err);
	CHECK_OK(ward_state_remove(dir, "web", false, &err), &err);
	CHECK_ERR(ward_state_get(dir, "web", &info, &err), -WARD_E_NOT_FOUND);
	CHECK_OK(ward_rm_rf(dir, &err), &err);
}

WARD_TEST_MAIN()
