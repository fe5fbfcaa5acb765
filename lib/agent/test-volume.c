/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init's volume registry and mount policy against a fake coordinator
 * volume endpoint that keeps one registered state and applies the
 * coordinator's rules (lib/coord/volume.c has their own unit tests). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/agent-volume.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"

struct fake {
	bool registered;
	uint8_t id[16], root[32];
	uint64_t version;
	bool accept;
	uint64_t accept_version;
	uint8_t accept_root[32];
	int puts, refused_puts, gets;
	uint64_t last_refused_version;
	int answer_401; /* answer this many requests with 401 */
	char bearer[64];
};

static int answer(int status, const char *text, int *ret_status, uint8_t **ret_body,
		  size_t *ret_size)
{
	*ret_status = status;
	*ret_body = (uint8_t *)strdup(text);
	*ret_size = strlen(text);
	return *ret_body ? 0 : -ENOMEM;
}

static int fake_request(void *ctx, const char *method, const char *path, const char *cookie,
			const char *bearer, const void *body, size_t body_size, int *ret_status,
			uint8_t **ret_body, size_t *ret_size, char **ret_set_cookie,
			struct ward_err *err)
{
	struct fake *f = ctx;
	char text[512], id_hex[33], root_hex[65];

	(void)cookie;
	(void)ret_set_cookie;
	(void)err;
	snprintf(f->bearer, sizeof(f->bearer), "%s", bearer ? bearer : "");
	if (strcmp(path, "/ward/v1/volume/redis/data") != 0)
		return answer(404, "{\"detail\":\"no such endpoint\"}", ret_status, ret_body,
			      ret_size);
	if (f->answer_401 > 0) {
		f->answer_401--;
		return answer(401, "{\"detail\":\"token expired\"}", ret_status, ret_body,
			      ret_size);
	}
	if (strcmp(method, "GET") == 0) {
		f->gets++;
		if (!f->registered)
			return answer(404, "{\"detail\":\"volume never registered\"}", ret_status,
				      ret_body, ret_size);
		ward_hex_encode(f->id, 16, id_hex);
		ward_hex_encode(f->root, 32, root_hex);
		snprintf(text, sizeof(text), "{\"id\":\"%s\",\"version\":%" PRIu64 ",\"root\":\"%s\"",
			 id_hex, f->version, root_hex);
		if (f->accept) {
			char a[65];

			ward_hex_encode(f->accept_root, 32, a);
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 ",\"accept\":{\"version\":%" PRIu64 ",\"root\":\"%s\",\"by\":\"a\"}",
				 f->accept_version, a);
		}
		strcat(text, "}");
		return answer(200, text, ret_status, ret_body, ret_size);
	}
	if (strcmp(method, "PUT") == 0) {
		WARD_AUTOJSON json_t *j = json_loadb(body, body_size, 0, NULL);
		uint8_t id[16], root[32];
		uint64_t v = (uint64_t)json_integer_value(json_object_get(j, "version"));
		const char *is = json_string_value(json_object_get(j, "id"));
		const char *rs = json_string_value(json_object_get(j, "root"));

		f->puts++;
		if (!is || !rs || ward_hex_decode_fixed(is, strlen(is), id, 16, NULL) < 0 ||
		    ward_hex_decode_fixed(rs, strlen(rs), root, 32, NULL) < 0)
			return answer(400, "{\"detail\":\"bad body\"}", ret_status, ret_body,
				      ret_size);
		if (f->registered &&
		    (memcmp(id, f->id, 16) != 0 || v < f->version ||
		     (v == f->version && memcmp(root, f->root, 32) != 0))) {
			f->refused_puts++;
			f->last_refused_version = v;
			return answer(409, "{\"detail\":\"rollback: refused\"}", ret_status,
				      ret_body, ret_size);
		}
		if (v > f->version)
			f->accept = false;
		f->registered = true;
		memcpy(f->id, id, 16);
		memcpy(f->root, root, 32);
		f->version = v;
		return answer(200, "{}", ret_status, ret_body, ret_size);
	}
	return answer(405, "{}", ret_status, ret_body, ret_size);
}

static void copy_dir(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *e;

	mkdir(to, 0700);
	while (d && (e = readdir(d))) {
		char a[512], b[512];
		WARD_AUTOFREE uint8_t *data = NULL;
		size_t size;

		if (e->d_name[0] == '.')
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
		if (ward_file_read(a, 1 << 26, &data, &size, NULL) >= 0)
			(void)ward_file_write_atomic(b, data, size, 0600, NULL);
	}
	if (d)
		closedir(d);
}

static void clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char a[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(a, sizeof(a), "%s/%s", dir, e->d_name);
		unlink(a);
	}
	if (d)
		closedir(d);
}

static int write_file(struct ward_vol *vol, const char *name, const char *content)
{
	struct ward_vol_stat st;
	uint64_t ino;
	int r = ward_vol_resolve(vol, name, &ino);

	if (r == -ENOENT) {
		r = ward_vol_create_file(vol, 1, name, 0100644, 0, 0, &st);
		ino = st.ino;
	}
	if (r < 0)
		return r;
	return ward_vol_write(vol, ino, content, strlen(content), 0) < 0 ? -EIO : 0;
}

WARD_TEST(create_commit_rollback_accept)
{
	char base[] = "/tmp/ward-agent-vol-XXXXXX", dir[128], snap[128];
	struct ward_err err = WARD_ERR_INIT;
	struct fake f = {0};
	struct ward_kbs_transport t = {fake_request, &f};
	struct ward_kbs_session s = {.token = (char *)"T0K"};
	WARD_CLEANUP(ward_agent_volreg_freep) struct ward_agent_volreg *reg = NULL;
	struct ward_vol *vol = NULL;
	struct ward_vol_io *io = NULL;
	uint8_t key[32];
	uint64_t v_snap;

	memset(key, 0x42, sizeof(key));
	CHECK(mkdtemp(base) != NULL);
	snprintf(dir, sizeof(dir), "%s/vol", base);
	snprintf(snap, sizeof(snap), "%s/snap", base);
	CHECK_INT(mkdir(dir, 0700), ==, 0);
	CHECK_OK(ward_agent_volreg_new(&t, NULL, &s, "redis", "data", &reg, &err), &err);

	/* empty directory: created and registered at version 1 */
	CHECK_OK(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err), &err);
	CHECK(f.registered);
	CHECK_INT(f.version, ==, 1);
	CHECK_STR(f.bearer, "T0K");
	CHECK_INT(write_file(vol, "a", "one"), ==, 0);
	CHECK_OK(ward_vol_commit(vol, &err), &err);
	CHECK_INT(f.version, ==, 2);
	CHECK_OK(ward_vol_close(vol, &err), &err);
	ward_vol_io_posix_free(io);
	v_snap = f.version;
	copy_dir(dir, snap); /* the host keeps the old state */
	{
		uint8_t snap_root[32];

		memcpy(snap_root, f.root, 32);
		/* a later state */
		CHECK_OK(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err), &err);
		CHECK_INT(write_file(vol, "a", "two"), ==, 0);
		CHECK_OK(ward_vol_close(vol, &err), &err);
		ward_vol_io_posix_free(io);
		CHECK_INT(f.version, ==, 3);

		/* the host restores the old copy: refused, and offered to the
		 * coordinator (which refuses and audits it) */
		clear_dir(dir);
		copy_dir(snap, dir);
		vol = NULL;
		CHECK_ERR(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err),
			  -WARD_E_POLICY);
		CHECK_MSG(&err, "rollback detected");
		CHECK(vol == NULL);
		CHECK_INT(f.refused_puts, ==, 1);
		CHECK_INT(f.last_refused_version, ==, v_snap);
		CHECK_INT(f.version, ==, 3);
		ward_err_clear(&err);

		/* an acceptance of another state does not help */
		f.accept = true;
		f.accept_version = v_snap;
		memset(f.accept_root, 0x11, 32);
		CHECK_ERR(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err),
			  -WARD_E_POLICY);
		ward_err_clear(&err);

		/* a user accepted exactly this state: opened, continued above */
		memcpy(f.accept_root, snap_root, 32);
		CHECK_OK(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err), &err);
		CHECK_INT(f.version, ==, 4);
		CHECK(!f.accept);
		{
			char buf[8] = {0};
			uint64_t ino;

			CHECK_OK(ward_vol_resolve(vol, "a", &ino), &err);
			CHECK_INT(ward_vol_read(vol, ino, buf, sizeof(buf), 0), ==, 3);
			CHECK_STR(buf, "one");
		}
		CHECK_OK(ward_vol_close(vol, &err), &err);
		ward_vol_io_posix_free(io);
	}

	/* the host replaces the volume with an empty directory: a new volume
	 * cannot be registered under the name */
	clear_dir(dir);
	CHECK_ERR(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "refused by the coordinator");
	ward_err_clear(&err);
	/* ...and not on a second start either (it is not empty now) */
	CHECK_ERR(ward_agent_volume_open(dir, key, reg, 0, &vol, &io, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "another volume");
	clear_dir(dir);
	clear_dir(snap);
	rmdir(dir);
	rmdir(snap);
	rmdir(base);
}

WARD_TEST(registry_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct fake f = {0};
	struct ward_kbs_transport t = {fake_request, &f};
	struct ward_kbs_session s = {.token = (char *)"T"};
	WARD_CLEANUP(ward_agent_volreg_freep) struct ward_agent_volreg *reg = NULL, *other = NULL;
	const struct ward_vol_registry *r;
	uint8_t id[16] = {1}, root[32] = {2}, got_root[32];
	uint64_t v = 0;

	CHECK_ERR(ward_agent_volreg_new(&t, NULL, &s, "re/dis", "data", &reg, &err),
		  -WARD_E_USAGE);
	ward_err_clear(&err);
	CHECK_ERR(ward_agent_volreg_new(&t, NULL, &s, "redis", "", &reg, &err), -WARD_E_USAGE);
	ward_err_clear(&err);
	CHECK_OK(ward_agent_volreg_new(&t, NULL, &s, "redis", "data", &reg, &err), &err);
	r = ward_agent_volreg_registry(reg);
	CHECK_ERR(r->get(r->ctx, id, &v, got_root, &err), -WARD_E_NOT_FOUND);
	ward_err_clear(&err);
	CHECK_OK(r->put(r->ctx, id, 5, root, &err), &err);
	CHECK_OK(r->get(r->ctx, id, &v, got_root, &err), &err);
	CHECK_INT(v, ==, 5);
	CHECK_MEM(got_root, root, 32);
	CHECK_ERR(r->put(r->ctx, id, 4, root, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "registration of version 4 refused");
	ward_err_clear(&err);
	/* an expired session without an evidence source to renew it */
	f.answer_401 = 1;
	CHECK_ERR(r->get(r->ctx, id, &v, got_root, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "401");
	ward_err_clear(&err);
	/* a volume the workload does not have */
	CHECK_OK(ward_agent_volreg_new(&t, NULL, &s, "redis", "other", &other, &err), &err);
	r = ward_agent_volreg_registry(other);
	CHECK_ERR(r->get(r->ctx, id, &v, got_root, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "404");
}

WARD_TEST_MAIN()
