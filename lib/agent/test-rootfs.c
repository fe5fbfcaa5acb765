/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init's root volume (--rootfs volume images): the config's "rootfs"
 * object, the key's binding to the root hash, and the server's refusal of
 * a substituted or tampered volume — all checked before anything is
 * mounted, so these run without FUSE (the mount itself is covered by
 * tests/integration/test-run-rootfs.sh). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/agent-volume.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/vol.h"

#define ROOT_A "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static const char *cfg_with(const char *rootfs, const char *layers)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "{\"version\":1,\"layers\":%s%s%s}", layers,
		 rootfs ? ",\"rootfs\":" : "", rootfs ? rootfs : "");
	return buf;
}

WARD_TEST(config_rootfs_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_config *c = NULL;
	const char *s;

	s = cfg_with("{\"type\":\"volume\",\"dir\":\".ward/rootfs\",\"root\":\"" ROOT_A
		     "\",\"volume_id\":\"000102030405060708090a0b0c0d0e0f\",\"block_size\":4096,"
		     "\"keys_jwe\":\"abc\"}",
		     "[]");
	CHECK_OK(ward_agent_config_parse(s, strlen(s), &c, &err), &err);
	if (c) {
		CHECK(c->rootfs.volume);
		CHECK_STR(c->rootfs.dir, ".ward/rootfs");
		CHECK_STR(c->rootfs.root, ROOT_A);
		CHECK_INT(c->rootfs.volume_id[15], ==, 15);
		CHECK_STR(c->rootfs.keys_jwe, "abc");
		c = ward_agent_config_free(c);
	}
	/* an ext4 image */
	s = cfg_with("{\"type\":\"ext4\",\"file\":\".ward/rootfs/root.ext4\",\"digest\":\"" ROOT_A
		     "\",\"size\":8589934592,\"keys_jwe\":\"abc\"}",
		     "[]");
	CHECK_OK(ward_agent_config_parse(s, strlen(s), &c, &err), &err);
	if (c) {
		CHECK(c->rootfs.ext4 && !c->rootfs.volume);
		CHECK_STR(c->rootfs.dir, ".ward/rootfs/root.ext4");
		CHECK_STR(c->rootfs.root, ROOT_A);
		CHECK_INT(c->rootfs.size, ==, UINT64_C(8589934592));
		CHECK_STR(c->rootfs.keys_jwe, "abc");
		c = ward_agent_config_free(c);
	}
	/* without "rootfs": the layered layout */
	s = cfg_with(NULL, "[]");
	CHECK_OK(ward_agent_config_parse(s, strlen(s), &c, &err), &err);
	if (c) {
		CHECK(!c->rootfs.volume);
		c = ward_agent_config_free(c);
	}
	static const struct {
		const char *rootfs, *layers, *msg;
		int code;
	} bad[] = {
	    {"{\"type\":\"squashfs\",\"dir\":\".ward/rootfs\",\"root\":\"" ROOT_A
	     "\",\"volume_id\":\"000102030405060708090a0b0c0d0e0f\"}",
	     "[]", "unknown", -WARD_E_UNSUPPORTED},
	    {"{\"type\":\"volume\",\"dir\":\".ward/../x\",\"root\":\"" ROOT_A
	     "\",\"volume_id\":\"000102030405060708090a0b0c0d0e0f\"}",
	     "[]", "dir", -WARD_E_MALFORMED},
	    {"{\"type\":\"volume\",\"dir\":\"etc/rootfs\",\"root\":\"" ROOT_A
	     "\",\"volume_id\":\"000102030405060708090a0b0c0d0e0f\"}",
	     "[]", "dir", -WARD_E_MALFORMED},
	    {"{\"type\":\"volume\",\"dir\":\".ward/rootfs\",\"root\":\"" ROOT_A
	     "\",\"volume_id\":\"0001\"}",
	     "[]", "volume_id", -WARD_E_MALFORMED},
	    {"{\"type\":\"volume\",\"dir\":\".ward/rootfs\",\"root\":\"sha256:12\","
	     "\"volume_id\":\"000102030405060708090a0b0c0d0e0f\"}",
	     "[]", "root", -WARD_E_MALFORMED},
	    {"{\"type\":\"volume\",\"dir\":\".ward/rootfs\",\"root\":\"" ROOT_A "\"}", "[]",
	     "volume_id", -WARD_E_MALFORMED},
	    {"[]", "[]", "rootfs", -WARD_E_MALFORMED},
	    {"{\"type\":\"ext4\",\"file\":\".ward/rootfs/root.ext4\",\"digest\":\"" ROOT_A "\"}",
	     "[]", "size", -WARD_E_MALFORMED},
	    {"{\"type\":\"ext4\",\"file\":\".ward/rootfs/root.ext4\",\"digest\":\"" ROOT_A
	     "\",\"size\":0}",
	     "[]", "size", -WARD_E_MALFORMED},
	    {"{\"type\":\"ext4\",\"file\":\"/etc/root.ext4\",\"digest\":\"" ROOT_A
	     "\",\"size\":4096}",
	     "[]", "file", -WARD_E_MALFORMED},
	    {"{\"type\":\"ext4\",\"file\":\".ward/rootfs/root.ext4\",\"digest\":\"md5:1\","
	     "\"size\":4096}",
	     "[]", "digest", -WARD_E_MALFORMED},
	    {"{\"type\":\"ext4\",\"file\":\".ward/rootfs/root.ext4\",\"digest\":\"" ROOT_A
	     "\",\"size\":4096}",
	     "[{\"blob\":\".ward/layers/ab\",\"encrypted_digest\":\"" ROOT_A
	     "\",\"plain_digest\":\"" ROOT_A "\",\"diff_id\":\"" ROOT_A
	     "\",\"media_type\":\"x\",\"pubopts\":\"e30=\"}]",
	     "root image", -WARD_E_MALFORMED},
	    {"{\"type\":\"volume\",\"dir\":\".ward/rootfs\",\"root\":\"" ROOT_A
	     "\",\"volume_id\":\"000102030405060708090a0b0c0d0e0f\"}",
	     "[{\"blob\":\".ward/layers/ab\",\"encrypted_digest\":\"" ROOT_A
	     "\",\"plain_digest\":\"" ROOT_A "\",\"diff_id\":\"" ROOT_A
	     "\",\"media_type\":\"x\",\"pubopts\":\"e30=\"}]",
	     "which one", -WARD_E_MALFORMED},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = cfg_with(bad[i].rootfs, bad[i].layers);
		CHECK_ERR(ward_agent_config_parse(s, strlen(s), &c, &err), bad[i].code);
		CHECK_MSG(&err, bad[i].msg);
	}
}

/* A key source handing out one key bound to one digest. */
struct fake_keys {
	uint8_t key[32];
	char digest[72];
	int fail;
	char asked[72];
};

static int fake_key(void *ctx, const struct ward_agent_layer *layer, struct ward_layer_key *ret,
		    struct ward_err *err)
{
	struct fake_keys *f = ctx;

	snprintf(f->asked, sizeof(f->asked), "%s", layer->encrypted_digest);
	if (f->fail)
		return ward_err_set(err, f->fail, "no key for %s", layer->encrypted_digest);
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->symkey, f->key, 32);
	snprintf(ret->digest, sizeof(ret->digest), "%s", f->digest);
	return 0;
}

struct vol_fixture {
	char dir[64];
	char backing[128], scratch[128];
	uint8_t key[32], id[16], root[32];
	struct ward_agent_rootfs rf;
};

/* A committed volume with one file, in dir/.ward/rootfs, and an empty
 * scratch directory. */
static void make_volume(struct vol_fixture *v)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	struct ward_vol *vol = NULL;
	struct ward_vol_opts o = {0};
	struct ward_vol_stat st;
	uint64_t version;
	char hex[65], path[160];

	snprintf(v->dir, sizeof(v->dir), "/tmp/ward-test-rootfs-XXXXXX");
	if (!mkdtemp(v->dir))
		abort();
	snprintf(path, sizeof(path), "%s/.ward", v->dir);
	snprintf(v->backing, sizeof(v->backing), "%s/.ward/rootfs", v->dir);
	snprintf(v->scratch, sizeof(v->scratch), "%s/scratch", v->dir);
	if (mkdir(path, 0755) < 0 || mkdir(v->backing, 0755) < 0 || mkdir(v->scratch, 0755) < 0)
		abort();
	for (int i = 0; i < 32; i++)
		v->key[i] = (uint8_t)(i * 7 + 1);
	if (ward_vol_io_posix(v->backing, &io, &err) < 0 ||
	    ward_vol_create(io, ward_vol_crypto_default(), NULL, v->key, 4096, v->id, &err) < 0)
		abort();
	o.io = io;
	o.crypto = ward_vol_crypto_default();
	if (ward_vol_open(&o, v->key, &vol, &err) < 0 ||
	    ward_vol_create_file(vol, WARD_VOL_ROOT_INO, "f", S_IFREG | 0644, 0, 0, &st) < 0 ||
	    ward_vol_write(vol, st.ino, "data", 4, 0) != 4 || ward_vol_commit(vol, &err) < 0)
		abort();
	ward_vol_state(vol, NULL, &version, v->root);
	if (ward_vol_close(vol, &err) < 0)
		abort();
	ward_hex_encode(v->root, 32, hex);
	v->rf.volume = true;
	snprintf(v->rf.dir, sizeof(v->rf.dir), ".ward/rootfs");
	snprintf(v->rf.root, sizeof(v->rf.root), "sha256:%s", hex);
	memcpy(v->rf.volume_id, v->id, 16);
}

/* --rootfs ext4: a key for another root, a substituted or malformed image
 * and a wrong size are all refused before any loop device or mount. */
WARD_TEST(rootfs_ext4_refusals)
{
	struct ward_err err = WARD_ERR_INIT;
	struct fake_keys fk = {0};
	struct ward_agent_keysource ks = {"fake", fake_key, &fk};
	struct ward_agent_rootfs rf = {.ext4 = true, .size = 1 << 20};
	char dir[64] = "/tmp/ward-test-ext4-XXXXXX", path[128], mnt[128];
	uint8_t junk[4096] = {'W', 'A', 'R', 'D', 'E', 'X', 'T', '4', 2}; /* version 2 */
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/.ward", dir);
	CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/.ward/root.ext4", dir);
	CHECK_OK(ward_file_write_atomic(path, junk, sizeof(junk), 0444, &err), &err);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	CHECK(mkdir(mnt, 0755) == 0);
	snprintf(rf.dir, sizeof(rf.dir), ".ward/root.ext4");
	snprintf(rf.root, sizeof(rf.root), ROOT_A);
	/* the key is released for another root */
	snprintf(fk.digest, sizeof(fk.digest), "sha256:%064d", 2);
	CHECK_ERR(ward_agent_rootfs_ext4_mount(dir, &rf, &ks, mnt, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "root image key is bound to");
	CHECK_STR(fk.asked, ROOT_A);
	/* the right key, an image that does not parse */
	snprintf(fk.digest, sizeof(fk.digest), ROOT_A);
	CHECK_ERR(ward_agent_rootfs_ext4_mount(dir, &rf, &ks, mnt, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "version");
	/* no image file */
	snprintf(rf.dir, sizeof(rf.dir), ".ward/none.ext4");
	CHECK_ERR(ward_agent_rootfs_ext4_mount(dir, &rf, &ks, mnt, &err), -ENOENT);
	CHECK_MSG(&err, "none.ext4");
	/* not an ext4 root */
	rf.ext4 = false;
	CHECK_ERR(ward_agent_rootfs_ext4_mount(dir, &rf, &ks, mnt, &err), -WARD_E_USAGE);
	/* nothing was mounted */
	CHECK(stat(mnt, &st) == 0);
	snprintf(path, sizeof(path), "%s/lost+found", mnt);
	CHECK(stat(path, &st) < 0);
	(void)ward_rm_rf(dir, NULL);
}

static void vol_done(struct vol_fixture *v)
{
	(void)ward_rm_rf(v->dir, NULL);
}

static int mount_it(struct vol_fixture *v, struct fake_keys *fk, struct ward_err *err)
{
	struct ward_agent_keysource ks = {"fake", fake_key, fk};
	char root[256];
	pid_t pid = 0;

	return ward_agent_rootfs_volume_mount(v->dir, &v->rf, &ks, v->scratch, root, sizeof(root),
					      &pid, err);
}

WARD_TEST(rootfs_key_must_be_bound_to_root)
{
	struct vol_fixture v = {0};
	struct fake_keys fk = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct stat st;
	char p[200];

	make_volume(&v);
	memcpy(fk.key, v.key, 32);
	/* a key released for another root */
	snprintf(fk.digest, sizeof(fk.digest), ROOT_A);
	CHECK_ERR(mount_it(&v, &fk, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "bound to");
	CHECK_STR(fk.asked, v.rf.root); /* asked by the root hash */
	snprintf(p, sizeof(p), "%s/lower", v.scratch);
	CHECK(stat(p, &st) < 0); /* nothing was set up */
	/* no key at all */
	fk.fail = -WARD_E_NOT_FOUND;
	CHECK_ERR(mount_it(&v, &fk, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "root volume key (fake)");
	/* not a volume image */
	v.rf.volume = false;
	CHECK_ERR(mount_it(&v, &fk, &err), -WARD_E_USAGE);
	vol_done(&v);
}

/* The server refuses before it mounts: these fail without /dev/fuse. */
WARD_TEST(rootfs_substituted_volume_refused)
{
	struct vol_fixture v = {0}, other = {0};
	struct fake_keys fk = {0};
	struct ward_err err = WARD_ERR_INIT;
	char cmd[400];

	make_volume(&v);
	make_volume(&other);
	memcpy(fk.key, v.key, 32);
	snprintf(fk.digest, sizeof(fk.digest), "%s", v.rf.root);

	/* the config expects another root hash (a different state) */
	{
		struct vol_fixture w = v;

		w.rf.root[10] ^= 1;
		snprintf(fk.digest, sizeof(fk.digest), "%s", w.rf.root);
		snprintf(w.scratch, sizeof(w.scratch), "%s/s1", v.dir);
		CHECK(mkdir(w.scratch, 0755) == 0);
		CHECK_ERR(mount_it(&w, &fk, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "another volume state was substituted");
	}
	/* another volume id (the config names another volume) */
	{
		struct vol_fixture w = v;

		w.rf.volume_id[0] ^= 1;
		snprintf(fk.digest, sizeof(fk.digest), "%s", w.rf.root);
		snprintf(w.scratch, sizeof(w.scratch), "%s/s2", v.dir);
		CHECK(mkdir(w.scratch, 0755) == 0);
		CHECK_ERR(mount_it(&w, &fk, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "volume id differs");
	}
	/* the host swaps in another volume's files (same key, as if reused) */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", v.backing, other.backing,
		 v.backing);
	CHECK(system(cmd) == 0);
	snprintf(fk.digest, sizeof(fk.digest), "%s", v.rf.root);
	snprintf(v.scratch, sizeof(v.scratch), "%s/s3", v.dir);
	CHECK(mkdir(v.scratch, 0755) == 0);
	CHECK_ERR(mount_it(&v, &fk, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "volume id differs");
	/* tampered metadata: the AEAD fails */
	snprintf(cmd, sizeof(cmd),
		 "printf '\\377' | dd of=%s/meta bs=1 seek=70 conv=notrunc status=none", v.backing);
	CHECK(system(cmd) == 0);
	snprintf(v.scratch, sizeof(v.scratch), "%s/s4", v.dir);
	CHECK(mkdir(v.scratch, 0755) == 0);
	CHECK_ERR(mount_it(&v, &fk, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "root volume");
	vol_done(&v);
	vol_done(&other);
}

/* The backing directory of an image is on the container's read-only
 * root: a read_only volume must open every file read-only. The wrapper
 * refuses anything else with EROFS, as that file system would. */
static const struct ward_vol_io *g_inner;

static int ro_open(void *ctx, const char *name, int flags)
{
	(void)ctx;
	if (!(flags & WARD_VOL_IO_RDONLY))
		return -EROFS;
	return g_inner->open(g_inner->ctx, name, flags);
}

WARD_TEST(rootfs_volume_reads_from_read_only_backing)
{
	struct vol_fixture v = {0};
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	struct ward_vol_io ro;
	struct ward_vol_opts o = {0};
	struct ward_vol *vol = NULL;
	struct ward_vol_stat st;
	char buf[8] = {0};

	make_volume(&v);
	CHECK_OK(ward_vol_io_posix(v.backing, &io, &err), &err);
	if (!io)
		goto out;
	g_inner = io;
	ro = *io;
	ro.open = ro_open;
	o.io = &ro;
	o.crypto = ward_vol_crypto_default();
	o.read_only = true;
	CHECK_OK(ward_vol_open(&o, v.key, &vol, &err), &err);
	if (!vol)
		goto out;
	CHECK_INT(ward_vol_lookup(vol, WARD_VOL_ROOT_INO, "f", &st), ==, 0);
	CHECK_INT(ward_vol_read(vol, st.ino, buf, sizeof(buf), 0), ==, 4);
	CHECK_STR(buf, "data");
	/* and nothing can be written */
	CHECK_INT(ward_vol_write(vol, st.ino, "x", 1, 0), ==, -EROFS);
	vol = ward_vol_free(vol);
out:
	vol_done(&v);
}

WARD_TEST_MAIN()
