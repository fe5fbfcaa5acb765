/* SPDX-License-Identifier: Apache-2.0 */
/* --rootfs volume: OCI layers applied into a protected volume. Small
 * multi-layer OCI layouts are written here (ustar built by hand) so every
 * layer rule is exercised: whiteouts, opaque directories, hard links,
 * symlinked parents, replacement, attributes, skipped device nodes, and
 * the refusals (bad digests, hostile names, dangling hard links). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "test-layout.h"
#include "ward-test.h"
#include "ward/crypto.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/vol.h"

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ward-test-rootfs-XXXXXX");

	if (!t || !mkdtemp(t))
		abort();
	return t;
}

static void progress_cb(void *ctx, size_t layer, size_t count, uint64_t done, uint64_t total,
			bool finished)
{
	int *calls = ctx;

	if (layer < count && done <= total && (!finished || done == total))
		(*calls)++;
	else
		*calls = -1000000; /* inconsistent: make the check fail */
}

struct fixture {
	int progress_calls;
	char *dir;
	char layout[300], backing[300];
	struct img_rootfs rf;
};

/* Convert the layers into a volume; returns img_rootfs_build's result. */
static int build(struct fixture *f, struct tarbuf *const *layers, size_t n, bool bad_digest,
		 struct ward_err *err)
{
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	int r;

	f->dir = tmpdir();
	snprintf(f->layout, sizeof(f->layout), "%s/layout", f->dir);
	snprintf(f->backing, sizeof(f->backing), "%s/vol", f->dir);
	if (mkdir(f->layout, 0755) < 0 || mkdir(f->backing, 0700) < 0)
		abort();
	write_layout(f->layout, layers, n, bad_digest);
	r = img_image_load(f->layout, NULL, NULL, &im, err);
	if (r < 0)
		return r;
	return img_rootfs_build(im, f->backing, 4096, progress_cb, &f->progress_calls, &f->rf, err);
}

static void fixture_done(struct fixture *f)
{
	(void)ward_rm_rf(f->dir, NULL);
	free(f->dir);
}

static int vopen(struct fixture *f, struct ward_vol_io **io, struct ward_vol **vol)
{
	struct ward_vol_opts o = {0};
	struct ward_err err = WARD_ERR_INIT;

	if (ward_vol_io_posix(f->backing, io, &err) < 0)
		return -1;
	o.io = *io;
	o.crypto = ward_vol_crypto_default();
	o.read_only = true;
	return ward_vol_open(&o, f->rf.key, vol, &err);
}

static int stat_path(struct ward_vol *vol, const char *path, struct ward_vol_stat *st)
{
	uint64_t ino;
	int r = ward_vol_resolve(vol, path, &ino);

	return r < 0 ? r : ward_vol_getattr(vol, ino, st);
}

static char *read_path(struct ward_vol *vol, const char *path)
{
	static char buf[256];
	uint64_t ino;
	ssize_t n;

	if (ward_vol_resolve(vol, path, &ino) < 0)
		return NULL;
	n = ward_vol_read(vol, ino, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

WARD_TEST(layers_applied_with_oci_semantics)
{
	static struct tarbuf l0, l1;
	struct tarbuf *layers[] = {&l0, &l1};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_io *io = NULL;
	struct ward_vol *vol = NULL;
	struct ward_vol_stat st, st2;
	char link[64];
	uint64_t ino;

	tar_add(&l0, "./", '5', 0755, 0, NULL, 100);
	tar_add(&l0, "etc/", '5', 0755, 0, NULL, 100);
	tar_add(&l0, "etc/a", '0', 0640, 7, "A", 1000);
	tar_add(&l0, "usr/bin/tool", '0', 04755, 0, "#!/bin/sh\n", 1001); /* parent implied */
	tar_add(&l0, "usr/bin/tool2", '1', 0755, 0, "usr/bin/tool", 1001);
	tar_add(&l0, "bin", '2', 0777, 0, "usr/bin", 1002);
	tar_add(&l0, "opq/old1", '0', 0644, 0, "1", 1003);
	tar_add(&l0, "opq/old2", '0', 0644, 0, "2", 1003);
	tar_add(&l0, "gone", '0', 0644, 0, "g", 1004);
	tar_add(&l0, "gonedir/x", '0', 0644, 0, "x", 1004);
	tar_add(&l0, "dev/null", '3', 0666, 0, NULL, 1005); /* skipped */
	tar_add(&l0, "fifo", '6', 0644, 0, NULL, 1005);     /* skipped */
	tar_end(&l0);
	tar_add(&l1, ".wh.gone", '0', 0644, 0, "", 2000);
	tar_add(&l1, ".wh.gonedir", '0', 0644, 0, "", 2000);
	tar_add(&l1, "opq/", '5', 0700, 0, NULL, 2001);
	tar_add(&l1, "opq/new", '0', 0644, 0, "n", 2001);
	tar_add(&l1, "opq/.wh..wh..opq", '0', 0644, 0, "", 2001);
	tar_add(&l1, "bin/added", '0', 0755, 0, "added", 2002); /* through the symlink */
	tar_add(&l1, "etc/a", '0', 0600, 7, "A2", 2003);
	tar_add(&l1, "./dotted", '0', 0644, 0, "d", 2004);
	tar_add(&l1, "nodir/.wh.x", '0', 0644, 0, "", 2005); /* creates nothing */
	tar_end(&l1);

	CHECK_OK(build(&f, layers, 2, false, &err), &err);
	CHECK_INT(f.rf.stats.skipped, ==, 2);
	CHECK_INT(f.rf.stats.whiteouts, ==, 4);
	CHECK_INT(f.progress_calls, >=, 4); /* both layers, read and finished */
	CHECK_INT(vopen(&f, &io, &vol), ==, 0);
	if (!vol)
		goto out;
	/* replaced, with the upper layer's attributes */
	CHECK_STR(read_path(vol, "etc/a"), "A2");
	CHECK_INT(stat_path(vol, "etc/a", &st), ==, 0);
	CHECK_INT(st.mode & 07777, ==, 0600);
	CHECK_INT(st.uid, ==, 7);
	CHECK_INT(st.mtime_ns, ==, 2003ll * 1000000000);
	/* set-id bits kept; hard link shares the inode */
	CHECK_INT(stat_path(vol, "usr/bin/tool", &st), ==, 0);
	CHECK_INT(st.mode & 07777, ==, 04755);
	CHECK_INT(stat_path(vol, "usr/bin/tool2", &st2), ==, 0);
	CHECK_INT(st2.ino, ==, st.ino);
	CHECK_INT(st.nlink, ==, 2);
	/* symlink kept as a symlink; a member under it lands in its target */
	CHECK_INT(ward_vol_resolve(vol, "bin", &ino), ==, 0);
	CHECK_INT(ward_vol_readlink(vol, ino, link, sizeof(link)), ==, 7);
	CHECK_STR(link, "usr/bin");
	CHECK_STR(read_path(vol, "usr/bin/added"), "added");
	/* whiteouts and the opaque directory */
	CHECK_ERR(stat_path(vol, "gone", &st), -ENOENT);
	CHECK_ERR(stat_path(vol, "gonedir", &st), -ENOENT);
	CHECK_ERR(stat_path(vol, "opq/old1", &st), -ENOENT);
	CHECK_ERR(stat_path(vol, "opq/old2", &st), -ENOENT);
	CHECK_STR(read_path(vol, "opq/new"), "n");
	CHECK_INT(stat_path(vol, "opq", &st), ==, 0);
	CHECK_INT(st.mode & 07777, ==, 0700);
	CHECK_INT(st.mtime_ns, ==, 2001ll * 1000000000);
	/* skipped nodes and whiteout markers never appear */
	CHECK_ERR(stat_path(vol, "dev/null", &st), -ENOENT);
	CHECK_ERR(stat_path(vol, "fifo", &st), -ENOENT);
	CHECK_ERR(stat_path(vol, ".wh.gone", &st), -ENOENT);
	CHECK_STR(read_path(vol, "dotted"), "d");
	CHECK_ERR(stat_path(vol, "nodir", &st), -ENOENT);
	/* the committed root hash is the one reported */
	{
		uint8_t id[16], root[32];
		uint64_t version;

		ward_vol_state(vol, id, &version, root);
		CHECK_MEM(root, f.rf.root, 32);
		CHECK_MEM(id, f.rf.id, 16);
	}
out:
	ward_vol_free(vol);
	ward_vol_io_posix_free(io);
	fixture_done(&f);
}

WARD_TEST(layer_digest_mismatch_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tar_add(&l0, "a", '0', 0644, 0, "a", 1);
	tar_end(&l0);
	CHECK_ERR(build(&f, layers, 1, true, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "digest mismatch");
	fixture_done(&f);
}

WARD_TEST(hostile_member_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tar_add(&l0, "a/../../escape", '0', 0644, 0, "x", 1);
	tar_end(&l0);
	CHECK_ERR(build(&f, layers, 1, false, &err), -WARD_E_MALFORMED);
	fixture_done(&f);
}

WARD_TEST(dangling_hardlink_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tar_add(&l0, "b", '1', 0644, 0, "missing", 1);
	tar_end(&l0);
	CHECK_ERR(build(&f, layers, 1, false, &err), -ENOENT);
	CHECK_MSG(&err, "hard link target 'missing'");
	fixture_done(&f);
}

WARD_TEST(hardlink_to_directory_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tar_add(&l0, "d/", '5', 0755, 0, NULL, 1);
	tar_add(&l0, "b", '1', 0644, 0, "d", 1);
	tar_end(&l0);
	CHECK_ERR(build(&f, layers, 1, false, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "to the directory");
	fixture_done(&f);
}

WARD_TEST(symlink_loop_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tar_add(&l0, "x", '2', 0777, 0, "y", 1);
	tar_add(&l0, "y", '2', 0777, 0, "x", 1);
	tar_add(&l0, "x/file", '0', 0644, 0, "f", 1);
	tar_end(&l0);
	CHECK_ERR(build(&f, layers, 1, false, &err), -ELOOP);
	fixture_done(&f);
}

WARD_TEST(not_a_tar_refused)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	struct fixture f = {0};
	struct ward_err err = WARD_ERR_INIT;

	tb_reserve(&l0, 2048);
	memset(l0.data, 'Z', 2048);
	l0.size = 2048;
	CHECK_ERR(build(&f, layers, 1, false, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "layer 0");
	fixture_done(&f);
}

/* The whole conversion: config.json names the volume, the key file and the
 * JWE carry the key bound to its root hash, the reference values say it. */
WARD_TEST(convert_rootfs_volume)
{
	static struct tarbuf l0;
	struct tarbuf *layers[] = {&l0};
	char *dir = tmpdir();
	char layout[300], out[300], keys[300], path[400];
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *ref = NULL, *kj = NULL;
	WARD_AUTOFREE uint8_t *kraw = NULL;
	size_t ksize;
	const char *root;

	tar_add(&l0, "hello", '0', 0644, 0, "world", 1);
	tar_end(&l0);
	snprintf(layout, sizeof(layout), "%s/layout", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(keys, sizeof(keys), "%s/keys.json", dir);
	CHECK(mkdir(layout, 0755) == 0);
	write_layout(layout, layers, 1, false);
	{
		struct ward_image_convert_opts o = {
		    .input = layout,
		    .output = out,
		    .mode = WARD_IMAGE_MODE_WRAPPED,
		    .export_keys = keys,
		    .ward_init = "/proc/self/exe",
		    .source_date_epoch = 1700000000,
		    .rootfs = WARD_IMAGE_ROOTFS_VOLUME,
		};

		CHECK_OK(ward_image_convert(&o, &ref, &err), &err);
		/* ocicrypt has no ward layer to carry a volume in */
		o.mode = WARD_IMAGE_MODE_OCICRYPT;
		snprintf(path, sizeof(path), "%s/out2", dir);
		o.output = path;
		CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
		CHECK(access(path, F_OK) < 0);
	}
	{
		/* nothing to decrypt back into layers */
		struct ward_image_decrypt_opts d = {.input = out, .keys_file = keys};

		snprintf(path, sizeof(path), "%s/dec", dir);
		d.output = path;
		CHECK_ERR(ward_image_decrypt(&d, &err), -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "--rootfs volume");
		CHECK(access(path, F_OK) < 0);
	}
	root = json_string_value(json_object_get(json_object_get(ref, "rootfs"), "root"));
	CHECK(root && strlen(root) == 71);
	CHECK_OK(ward_file_read(keys, 1 << 20, &kraw, &ksize, &err), &err);
	CHECK_OK(ward_json_parse(kraw, ksize, 1 << 20, &kj, &err), &err);
	if (root)
		CHECK_STR(json_string_value(json_object_get(
			      json_object_get(json_object_get(kj, "layers"), root), "digest")),
			  root);
	(void)ward_rm_rf(dir, NULL);
	free(dir);
}

WARD_TEST_MAIN()
