/* SPDX-License-Identifier: Apache-2.0 */
/* --rootfs ext4: a small multi-layer OCI layout (ustar built here) is
 * converted; the sealed member is decrypted (ward_ext4img_unseal; chunk by
 * chunk from the format for the tag checks), checked by e2fsck -fn and
 * read back with libext2fs entry by entry (type, mode, owner, times, link
 * counts, content, whiteouts). Also: the header digest is the config's,
 * a flipped ciphertext byte fails its chunk's tag, chunk selection, a
 * filesystem too small, and the refusals. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "image-internal.h"
#include "test-layout.h"
#include "ward-test.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/ext4img.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/vol.h"

extern char **environ;

#define BIG_SIZE ((3u << 20) + 1234) /* crosses chunks; has a hole */
#define BIG_HOLE_OFF (1u << 20)	     /* 64 KiB of zeros here */
#define BIG_HOLE_LEN (64u << 10)
#define MANY 300 /* entries in one directory: it must grow */

/* ---- building layers ------------------------------------------------------ */

static void tar_file(struct tarbuf *t, const char *name, unsigned mode, unsigned uid,
		     const char *text, int64_t mtime)
{
	tar_entry(t, name, '0', mode, uid, uid, text, strlen(text), NULL, mtime);
}

static uint8_t *big_content(void)
{
	uint8_t *b = malloc(BIG_SIZE);

	if (!b)
		abort();
	for (size_t i = 0; i < BIG_SIZE; i++)
		b[i] = (uint8_t)(i * 131 + (i >> 12) + 1) | 1; /* never zero */
	memset(b + BIG_HOLE_OFF, 0, BIG_HOLE_LEN);
	return b;
}

/* The two layers every test converts. */
static void make_layers(struct tarbuf l[2])
{
	WARD_AUTOFREE uint8_t *big = big_content();
	char name[64], target[128];

	memset(l, 0, 2 * sizeof(*l));
	tar_entry(&l[0], "./", '5', 0755, 0, 0, NULL, 0, NULL, 100);
	tar_entry(&l[0], "etc/", '5', 0755, 0, 0, NULL, 0, NULL, 100);
	tar_file(&l[0], "etc/a", 0640, 7, "A", 1000);
	tar_file(&l[0], "usr/bin/tool", 04755, 0, "#!/bin/sh\n", 1001); /* parents implied */
	tar_entry(&l[0], "usr/bin/tool2", '1', 0755, 0, 0, NULL, 0, "usr/bin/tool", 1001);
	tar_entry(&l[0], "usr/bin/tool3", '1', 0755, 0, 0, NULL, 0, "usr/bin/tool", 1001);
	tar_entry(&l[0], "bin", '2', 0777, 0, 0, NULL, 0, "usr/bin", 1002);
	tar_file(&l[0], "opq/old1", 0644, 0, "1", 1003);
	tar_file(&l[0], "opq/old2", 0644, 0, "2", 1003);
	tar_file(&l[0], "gone", 0644, 0, "g", 1004);
	tar_file(&l[0], "gonedir/x", 0644, 0, "x", 1004);
	tar_entry(&l[0], "home/user/", '5', 0700, 1000, 1000, NULL, 0, NULL, 1005);
	tar_file(&l[0], "home/user/notes", 0600, 1000, "hello", 1006);
	tar_entry(&l[0], "tmp/", '5', 01777, 0, 0, NULL, 0, NULL, 1007);
	tar_entry(&l[0], "usr/bin/sg", '0', 02755, 0, 50, "sg", 2, NULL, 1008);
	tar_entry(&l[0], "big", '0', 0644, 0, 0, big, BIG_SIZE, NULL, 1009);
	memset(target, 'x', 90);
	memcpy(target, "usr/", 4);
	target[90] = '\0';
	tar_entry(&l[0], "longlink", '2', 0777, 0, 0, NULL, 0, target, 1010); /* not in the inode */
	tar_entry(&l[0], "lost+found/", '5', 0700, 0, 0, NULL, 0, NULL, 1011);
	tar_entry(&l[0], "dev/null", '3', 0666, 0, 0, NULL, 0, NULL, 1012); /* skipped */
	tar_end(&l[0]);
	tar_file(&l[1], ".wh.gone", 0644, 0, "", 2000);
	tar_file(&l[1], ".wh.gonedir", 0644, 0, "", 2000);
	tar_entry(&l[1], "opq/", '5', 0700, 0, 0, NULL, 0, NULL, 2001);
	tar_file(&l[1], "opq/new", 0644, 0, "n", 2001);
	tar_file(&l[1], "opq/.wh..wh..opq", 0644, 0, "", 2001);
	tar_file(&l[1], "bin/added", 0755, 0, "added", 2002); /* through the symlink */
	tar_file(&l[1], "etc/a", 0600, 7, "A2", 2003);
	tar_file(&l[1], "usr/bin/.wh.tool3", 0644, 0, "", 2004); /* one name fewer */
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/file-with-a-longer-name-%03d", i);
		tar_file(&l[1], name, 0644, 0, name + 5, 2005);
	}
	tar_end(&l[1]);
}

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ward-test-ext4-XXXXXX");

	if (!t || !mkdtemp(t))
		abort();
	return t;
}

/* ---- reading the output ----------------------------------------------------- */

struct member {
	const uint8_t *data; /* view into the layer */
	uint64_t size;
	unsigned mode;
	char type;
};

/* Find member name in a ustar stream (as written by ward). */
static int tar_find(const uint8_t *tar, size_t size, const char *name, struct member *ret,
		    char *ret_prev_name)
{
	size_t off = 0;
	char prev[101] = "";

	while (off + 512 <= size && tar[off]) {
		const uint8_t *h = tar + off;
		char n[101], num[13];
		uint64_t len;

		memcpy(n, h, 100);
		n[100] = '\0';
		memcpy(num, h + 124, 12);
		num[12] = '\0';
		len = strtoull(num, NULL, 8);
		if (!strcmp(n, name)) {
			memcpy(num, h + 100, 8);
			num[8] = '\0';
			ret->mode = (unsigned)strtoul(num, NULL, 8);
			ret->type = (char)h[156];
			ret->data = h + 512;
			ret->size = len;
			if (ret_prev_name)
				strcpy(ret_prev_name, prev);
			return off + 512 + len <= size ? 0 : -1;
		}
		strcpy(prev, n);
		off += 512 + (len + 511) / 512 * 512;
	}
	return -1;
}

/* The ward layer: the blob that is a tar starting with ".ward/". */
static uint8_t *read_ward_layer(const char *out, size_t *ret_size)
{
	char path[600];
	DIR *d;
	struct dirent *de;
	uint8_t *found = NULL;

	snprintf(path, sizeof(path), "%s/blobs/sha256", out);
	d = opendir(path);
	if (!d)
		return NULL;
	while (!found && (de = readdir(d))) {
		char p[900];
		uint8_t *buf = NULL;
		size_t size;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (ward_file_read(p, 1u << 30, &buf, &size, NULL) < 0)
			continue;
		if (size > 512 && !memcmp(buf, ".ward/", 6)) {
			found = buf;
			*ret_size = size;
		} else {
			free(buf);
		}
	}
	closedir(d);
	return found;
}

/* Decrypt the sealed member img (size bytes) with the library's decryptor
 * into the file path: the member is written to path.sealed first, as
 * ward-init finds it. Returns ward_ext4img_unseal's result. */
static int unseal(const uint8_t *img, size_t size, const char *digest, const uint8_t key[32],
		  const char *path, struct ward_err *err)
{
	char sealed[512];
	WARD_AUTOCLOSE int in = -1, out = -1;
	uint64_t fs_size = 0;
	int r;

	snprintf(sealed, sizeof(sealed), "%s.sealed", path);
	if (ward_file_write_atomic(sealed, img, size, 0600, err) < 0)
		return -EIO;
	in = open(sealed, O_RDONLY | O_CLOEXEC);
	out = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		return -EIO;
	r = ward_ext4img_unseal(in, digest, key, out, 2, &fs_size, err);
	(void)unlink(sealed);
	return r;
}

/* Exit status of e2fsck -fn path (-1 if it could not run). */
static int e2fsck(const char *path)
{
	static const char *const cand[] = {"/usr/sbin/e2fsck", "/sbin/e2fsck", "/usr/bin/e2fsck"};
	char *argv[] = {NULL, (char *)"-fn", (char *)path, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	for (size_t i = 0; i < 3 && !argv[0]; i++)
		if (access(cand[i], X_OK) == 0)
			argv[0] = (char *)cand[i];
	if (!argv[0])
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- checking the filesystem with libext2fs ------------------------------------ */

struct fsck {
	ext2_filsys fs;
	char msg[256];
};

static int lookup(struct fsck *f, const char *path, ext2_ino_t *ino, struct ext2_inode_large *in)
{
	errcode_t e = ext2fs_namei(f->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino);

	if (e)
		return e == EXT2_ET_FILE_NOT_FOUND ? -ENOENT : -EIO;
	memset(in, 0, sizeof(*in));
	return ext2fs_read_inode_full(f->fs, *ino, (struct ext2_inode *)in, sizeof(*in)) ? -EIO : 0;
}

/* Check an entry's mode (type included), owner, mtime and link count;
 * returns 0 or -1 with f->msg saying what differs. */
static int entry_is(struct fsck *f, const char *path, unsigned mode, unsigned uid, unsigned gid,
		    int64_t mtime, unsigned links)
{
	struct ext2_inode_large in;
	ext2_ino_t ino;

	if (lookup(f, path, &ino, &in) < 0) {
		snprintf(f->msg, sizeof(f->msg), "%s: missing", path);
		return -1;
	}
	if (in.i_mode != mode || inode_uid(in) != uid || inode_gid(in) != gid ||
	    (mtime >= 0 && (in.i_mtime != mtime || in.i_atime != mtime || in.i_ctime != mtime ||
			    (in.i_mtime_extra >> 2) != 0)) ||
	    (links && in.i_links_count != links)) {
		snprintf(f->msg, sizeof(f->msg),
			 "%s: mode 0%o uid %u gid %u mtime %u links %u (want 0%o %u %u %lld %u)",
			 path, in.i_mode, inode_uid(in), inode_gid(in), in.i_mtime,
			 in.i_links_count, mode, uid, gid, (long long)mtime, links);
		return -1;
	}
	return 0;
}

/* The content of a file, or the target of a symlink (malloc'ed). */
static uint8_t *content(struct fsck *f, const char *path, size_t *ret_size)
{
	struct ext2_inode_large in;
	ext2_ino_t ino;
	ext2_file_t file;
	uint8_t *buf;
	unsigned got = 0;
	size_t size;

	if (lookup(f, path, &ino, &in) < 0)
		return NULL;
	size = EXT2_I_SIZE((struct ext2_inode *)&in);
	buf = calloc(1, size + 1);
	if (!buf)
		return NULL;
	if (LINUX_S_ISLNK(in.i_mode) && ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		memcpy(buf, in.i_block, size);
	} else if (ext2fs_file_open(f->fs, ino, 0, &file) ||
		   (size && ext2fs_file_read(file, buf, (unsigned)size, &got)) ||
		   ext2fs_file_close(file) || got != size) {
		free(buf);
		return NULL;
	}
	*ret_size = size;
	return buf;
}

static bool content_is(struct fsck *f, const char *path, const char *want)
{
	size_t size = 0;
	WARD_AUTOFREE uint8_t *c = content(f, path, &size);

	return c && size == strlen(want) && !memcmp(c, want, size);
}

static bool absent(struct fsck *f, const char *path)
{
	ext2_ino_t ino;

	return ext2fs_namei(f->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, &ino) ==
	       EXT2_ET_FILE_NOT_FOUND;
}

/* Every expectation about the converted layers. */
static void check_tree(bool *ward_test_failed_, const char *img_path)
{
	struct fsck f = {0};
	WARD_AUTOFREE uint8_t *big = big_content(), *got = NULL;
	char name[64], target[128];
	struct ext2_inode_large in, in2;
	ext2_ino_t ino, ino2;
	size_t size = 0;

	CHECK(ext2fs_open2(img_path, NULL, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &f.fs) == 0);
#define ENTRY(...)                                                                                 \
	do {                                                                                       \
		if (entry_is(&f, __VA_ARGS__) < 0) {                                               \
			ext2fs_close_free(&f.fs);                                                  \
			WARD_FAIL_("%s", f.msg);                                                   \
		}                                                                                  \
	} while (0)
	/* replaced, with the upper layer's attributes */
	ENTRY("etc/a", LINUX_S_IFREG | 0600, 7, 7, 2003, 1);
	CHECK(content_is(&f, "etc/a", "A2"));
	/* set-id and sticky bits, owners */
	ENTRY("usr/bin/tool", LINUX_S_IFREG | 04755, 0, 0, 1001, 2);
	ENTRY("usr/bin/sg", LINUX_S_IFREG | 02755, 0, 50, 1008, 1);
	ENTRY("tmp", LINUX_S_IFDIR | 01777, 0, 0, 1007, 2);
	ENTRY("home/user", LINUX_S_IFDIR | 0700, 1000, 1000, 1005, 2);
	ENTRY("home/user/notes", LINUX_S_IFREG | 0600, 1000, 1000, 1006, 1);
	CHECK(content_is(&f, "home/user/notes", "hello"));
	/* hard links: one inode, the whited-out name gone */
	CHECK(lookup(&f, "usr/bin/tool", &ino, &in) == 0);
	CHECK(lookup(&f, "usr/bin/tool2", &ino2, &in2) == 0);
	CHECK_INT(ino, ==, ino2);
	CHECK(absent(&f, "usr/bin/tool3"));
	CHECK(content_is(&f, "usr/bin/tool2", "#!/bin/sh\n"));
	/* symlinks, short and long; a member below one lands in its target */
	ENTRY("bin", LINUX_S_IFLNK | 0777, 0, 0, 1002, 1);
	CHECK(content_is(&f, "bin", "usr/bin"));
	memset(target, 'x', 90);
	memcpy(target, "usr/", 4);
	target[90] = '\0';
	ENTRY("longlink", LINUX_S_IFLNK | 0777, 0, 0, 1010, 1);
	CHECK(content_is(&f, "longlink", target));
	CHECK(content_is(&f, "usr/bin/added", "added"));
	/* whiteouts and the opaque directory */
	CHECK(absent(&f, "gone"));
	CHECK(absent(&f, "gonedir"));
	CHECK(absent(&f, "opq/old1"));
	CHECK(absent(&f, "opq/old2"));
	CHECK(absent(&f, ".wh.gone"));
	ENTRY("opq", LINUX_S_IFDIR | 0700, 0, 0, 2001, 2);
	CHECK(content_is(&f, "opq/new", "n"));
	/* skipped device node; the image's own lost+found, not mke2fs's */
	CHECK(absent(&f, "dev/null"));
	ENTRY("dev", LINUX_S_IFDIR | 0755, 0, 0, -1, 2);
	ENTRY("lost+found", LINUX_S_IFDIR | 0700, 0, 0, 1011, 2);
	/* the root: its subdirectories' ".." counted */
	ENTRY(".", LINUX_S_IFDIR | 0755, 0, 0, -1, 10);
	/* a big file across chunks, its zeros a hole */
	got = content(&f, "big", &size);
	CHECK(got && size == BIG_SIZE && !memcmp(got, big, BIG_SIZE));
	CHECK(lookup(&f, "big", &ino, &in) == 0);
	CHECK_INT(ext2fs_get_stat_i_blocks(f.fs, (struct ext2_inode *)&in) * 512, <=,
		  BIG_SIZE - BIG_HOLE_LEN + 4096);
	/* a directory that had to grow */
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/file-with-a-longer-name-%03d", i);
		if (!content_is(&f, name, name + 5)) {
			ext2fs_close_free(&f.fs);
			WARD_FAIL_("%s: missing or wrong", name);
		}
	}
	CHECK(lookup(&f, "many", &ino, &in) == 0);
	CHECK_INT(EXT2_I_SIZE((struct ext2_inode *)&in), >, 4096);
#undef ENTRY
	ext2fs_close_free(&f.fs);
}

/* ---- the tests -------------------------------------------------------------- */

struct conv {
	char *dir;
	char layout[300], out[300], keys[300];
	json_t *ref;
};

static int convert(struct conv *c, enum ward_image_mode mode, enum ward_image_rootfs rootfs,
		   uint64_t size, struct ward_err *err)
{
	struct ward_image_convert_opts o = {
	    .input = c->layout,
	    .output = c->out,
	    .mode = mode,
	    .export_keys = c->keys,
	    .ward_init = "/proc/self/exe",
	    .source_date_epoch = 1700000000,
	    .rootfs = rootfs,
	    .rootfs_size = size,
	};

	return ward_image_convert(&o, &c->ref, err);
}

static void conv_setup(struct conv *c)
{
	struct tarbuf l[2];

	memset(c, 0, sizeof(*c));
	c->dir = tmpdir();
	snprintf(c->layout, sizeof(c->layout), "%s/layout", c->dir);
	snprintf(c->out, sizeof(c->out), "%s/out", c->dir);
	snprintf(c->keys, sizeof(c->keys), "%s/keys.json", c->dir);
	make_layers(l);
	write_layout(c->layout, (struct tarbuf *const[]){&l[0], &l[1]}, 2, false);
	free(l[0].data);
	free(l[1].data);
}

static void conv_done(struct conv *c)
{
	json_decref(c->ref);
	(void)ward_rm_rf(c->dir, NULL);
	free(c->dir);
}

/* Names in dir starting with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

WARD_TEST(convert_ext4_round_trip)
{
	struct conv c;
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *layer = NULL, *kraw = NULL, *key = NULL, *copy = NULL;
	WARD_AUTOJSON json_t *cfg = NULL, *kj = NULL;
	struct ward_ext4img_hdr h;
	struct member m, mc;
	const json_t *rootfs, *kentry;
	const char *digest;
	char prev[101], img[400], hex[65], want[72];
	size_t lsize = 0, ksize, key_size = 0;

	conv_setup(&c);
	CHECK_OK(convert(&c, WARD_IMAGE_MODE_WRAPPED, WARD_IMAGE_ROOTFS_EXT4, 0, &err), &err);
	/* nothing temporary left next to the output */
	CHECK_INT(count_prefix(c.dir, "out.ward-"), ==, 0);
	layer = read_ward_layer(c.out, &lsize);
	CHECK(layer);
	/* the config: no layers, the ext4 root; the reference values agree */
	CHECK(tar_find(layer, lsize, ".ward/config.json", &mc, NULL) == 0);
	CHECK_OK(ward_json_parse(mc.data, mc.size, 1 << 20, &cfg, &err), &err);
	CHECK(json_is_array(json_object_get(cfg, "layers")) &&
	      json_array_size(json_object_get(cfg, "layers")) == 0);
	rootfs = json_object_get(cfg, "rootfs");
	CHECK_STR(json_string_value(json_object_get(rootfs, "type")), "ext4");
	CHECK_STR(json_string_value(json_object_get(rootfs, "file")), ".ward/rootfs/root.ext4");
	CHECK_INT(json_integer_value(json_object_get(rootfs, "size")), ==, 8ll << 30);
	CHECK(!json_object_get(rootfs, "keys_jwe")); /* no recipient */
	CHECK(json_equal(rootfs, json_object_get(c.ref, "rootfs")));
	digest = json_string_value(json_object_get(rootfs, "digest"));
	CHECK(digest && ward_oci_digest_valid(digest));
	/* the member: 0444, right after its directory */
	CHECK(tar_find(layer, lsize, ".ward/rootfs/root.ext4", &m, prev) == 0);
	CHECK_INT(m.mode, ==, 0444);
	CHECK_INT(m.type, ==, '0');
	CHECK_STR(prev, ".ward/rootfs/");
	/* the key, exported under the header digest and bound to it */
	CHECK_OK(ward_file_read(c.keys, 1 << 20, &kraw, &ksize, &err), &err);
	CHECK_OK(ward_json_parse(kraw, ksize, 1 << 20, &kj, &err), &err);
	kentry = json_object_get(json_object_get(kj, "layers"), digest);
	CHECK(kentry);
	CHECK_STR(json_string_value(json_object_get(kentry, "digest")), digest);
	CHECK_STR(json_string_value(json_object_get(kentry, "nonce")), "AAAAAAAAAAAAAAAAAAAAAA==");
	CHECK_OK(ward_base64_decode(json_string_value(json_object_get(kentry, "symkey")),
				    strlen(json_string_value(json_object_get(kentry, "symkey"))),
				    &key, &key_size, &err),
		 &err);
	CHECK_INT(key_size, ==, 32);
	/* the header digest is the config's */
	CHECK_OK(ward_ext4img_parse(m.data, m.size, m.size, &h, &err), &err);
	CHECK_OK(ward_sha256_hex(m.data, h.header_len, hex, &err), &err);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	CHECK_STR(want, digest);
	CHECK_INT(h.chunk_size, ==, WARD_EXT4IMG_CHUNK_DEFAULT);
	CHECK_INT(h.fs_size, ==, 8ll << 30);
	/* only chunks holding data are stored: a few MiB of 8 GiB */
	CHECK_INT(h.count, >=, 4);
	CHECK_INT(h.count, <, 64);
	/* decrypt, fsck, read back */
	snprintf(img, sizeof(img), "%s/plain.ext4", c.dir);
	CHECK_OK(unseal(m.data, m.size, digest, key, img, &err), &err);
	CHECK_INT(e2fsck(img), ==, 0);
	check_tree(ward_test_failed_, img);
	if (*ward_test_failed_)
		return;
	/* a flipped ciphertext byte fails that chunk's tag, and only that one */
	copy = malloc(m.size);
	CHECK(copy);
	memcpy(copy, m.data, m.size);
	copy[ward_ext4img_chunk_off(&h, 1) + 12345] ^= 0x20;
	CHECK_ERR(unseal(copy, m.size, digest, key, img, &err), -WARD_E_VERIFY);
	/* so does another image's digest */
	CHECK_ERR(unseal(m.data, m.size,
			 "sha256:0000000000000000000000000000000000000000000000000000000000000000",
			 key, img, &err),
		  -WARD_E_VERIFY);
	{
		uint64_t i = ward_ext4img_index(&h, 1), off = ward_ext4img_chunk_off(&h, 1);
		uint8_t iv[12], aad[24];
		WARD_AUTOFREE uint8_t *pt = malloc(h.chunk_size);

		ward_ext4img_iv(i, iv);
		ward_ext4img_aad(h.id, i, aad);
		CHECK_ERR(ward_aes256gcm_open(key, iv, 12, aad, 24, copy + off, h.chunk_size,
					      copy + off + h.chunk_size, pt, &err),
			  -WARD_E_VERIFY);
		/* the same ciphertext as another chunk index fails too */
		ward_ext4img_iv(i + 1, iv);
		ward_ext4img_aad(h.id, i + 1, aad);
		CHECK_ERR(ward_aes256gcm_open(key, iv, 12, aad, 24, m.data + off, h.chunk_size,
					      m.data + off + h.chunk_size, pt, &err),
			  -WARD_E_VERIFY);
	}
	/* nothing to decrypt back into layers */
	{
		struct ward_image_decrypt_opts d = {.input = c.out, .keys_file = c.keys};
		char dec[400];

		snprintf(dec, sizeof(dec), "%s/dec", c.dir);
		d.output = dec;
		CHECK_ERR(ward_image_decrypt(&d, &err), -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "--rootfs ext4");
		CHECK(access(dec, F_OK) < 0);
	}
	conv_done(&c);
}

WARD_TEST(convert_ext4_with_recipient_and_size)
{
	struct conv c;
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pk = NULL;
	struct ward_pkey *rcpt[1];
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *priv = NULL;
	struct img_layer_keys k;
	char bound[72];
	const json_t *rootfs;

	conv_setup(&c);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &pk, &err), &err);
	rcpt[0] = pk;
	{
		struct ward_image_convert_opts o = {
		    .input = c.layout,
		    .output = c.out,
		    .mode = WARD_IMAGE_MODE_WRAPPED,
		    .recipients = rcpt,
		    .recipient_count = 1,
		    .ward_init = "/proc/self/exe",
		    .source_date_epoch = 1700000000,
		    .rootfs = WARD_IMAGE_ROOTFS_EXT4,
		    .rootfs_size = (64u << 20) + 1, /* rounded up to the chunk */
		    .threads = 1,
		};

		CHECK_OK(ward_image_convert(&o, &c.ref, &err), &err);
	}
	rootfs = json_object_get(c.ref, "rootfs");
	CHECK_INT(json_integer_value(json_object_get(rootfs, "size")), ==, 65ll << 20);
	/* the JWE opens to the key bound to the header digest */
	CHECK_OK(img_jwe_unwrap(&pk, 1, json_string_value(json_object_get(rootfs, "keys_jwe")),
				&priv, &err),
		 &err);
	CHECK_OK(img_privopts_decode(priv->data, priv->size, &k, bound, &err), &err);
	CHECK_STR(bound, json_string_value(json_object_get(rootfs, "digest")));
	ward_wipe(&k, sizeof(k));
	conv_done(&c);
}

WARD_TEST(convert_ext4_refusals)
{
	struct conv c;
	struct ward_err err = WARD_ERR_INIT;

	conv_setup(&c);
	/* too small for the content: said before anything is written */
	CHECK_ERR(convert(&c, WARD_IMAGE_MODE_WRAPPED, WARD_IMAGE_ROOTFS_EXT4, 4u << 20, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "--rootfs-size 4194304 bytes is too small");
	CHECK(access(c.out, F_OK) < 0);
	CHECK_INT(count_prefix(c.dir, "out.ward-"), ==, 0);
	/* larger than the format allows */
	CHECK_ERR(convert(&c, WARD_IMAGE_MODE_WRAPPED, WARD_IMAGE_ROOTFS_EXT4, 2ull << 40, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "1 TiB");
	/* ocicrypt has no ward layer to carry it */
	CHECK_ERR(convert(&c, WARD_IMAGE_MODE_OCICRYPT, WARD_IMAGE_ROOTFS_EXT4, 0, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "--rootfs ext4 needs wrapped mode");
	/* a size without an ext4 root */
	CHECK_ERR(convert(&c, WARD_IMAGE_MODE_WRAPPED, WARD_IMAGE_ROOTFS_VOLUME, 1u << 30, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "--rootfs-size is for --rootfs ext4");
	CHECK(access(c.out, F_OK) < 0);
	CHECK_INT(count_prefix(c.dir, "out.ward-"), ==, 0);
	conv_done(&c);
}

/* A filesystem that cannot hold the volume: -ENOSPC, said plainly. */
WARD_TEST(populate_out_of_space)
{
	struct conv c;
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	struct ward_vol_opts vo = {0};
	struct img_rootfs rf;
	struct img_ext4_census census;
	char vdir[400], img[400];
	int fd;

	conv_setup(&c);
	snprintf(vdir, sizeof(vdir), "%s/vol", c.dir);
	snprintf(img, sizeof(img), "%s/small.ext4", c.dir);
	CHECK(mkdir(vdir, 0700) == 0);
	CHECK_OK(img_image_load(c.layout, NULL, NULL, &im, &err), &err);
	CHECK_OK(img_rootfs_build(im, vdir, 4096, NULL, NULL, &rf, &err), &err);
	CHECK_OK(ward_vol_io_posix(vdir, &io, &err), &err);
	vo.io = io;
	vo.crypto = ward_vol_crypto_default();
	vo.read_only = true;
	CHECK_OK(ward_vol_open(&vo, rf.key, &vol, &err), &err);
	/* the census counts what goes in */
	CHECK_OK(img_ext4_census(vol, &census, &err), &err);
	CHECK_INT(census.hardlinks, ==, 1);
	CHECK_INT(census.symlinks, ==, 2);
	CHECK_INT(census.files, ==, 7 + MANY);
	CHECK_INT(census.file_bytes, >=, BIG_SIZE);
	CHECK_INT(census.inodes, ==, census.entries - census.hardlinks + 1);
	fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 2 << 20) == 0);
	close(fd);
	CHECK_OK(img_ext4_mkfs(img, 2 << 20, 512, &err), &err);
	CHECK_ERR(img_ext4_populate(img, vol, &census, &err), -ENOSPC);
	CHECK_MSG(&err, "ext4 image");
	/* mke2fs's own refusal is reported with what it said */
	fd = open(img, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, 64 << 10) == 0);
	close(fd);
	CHECK_ERR(img_ext4_mkfs(img, 64 << 10, 1u << 30, &err), -EIO);
	CHECK_MSG(&err, "mke2fs");
	ward_wipe(rf.key, sizeof(rf.key));
	conv_done(&c);
}

/* Chunk selection: holes and written zeros are not stored, a chunk with
 * one non-zero byte is; an image of nothing but zeros stores none. */
WARD_TEST(seal_stores_nonzero_chunks_only)
{
	char *dir = tmpdir();
	char path[300], out[300];
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(img_out_freep) struct img_out *o = NULL;
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *b = NULL;
	struct img_ext4_sealed s;
	static uint8_t zeros[64 << 10];
	uint8_t key[32] = {1}, id[16] = {2}, one = 7;
	int fd;

	snprintf(path, sizeof(path), "%s/img", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 8 * sizeof(zeros)) == 0);
	/* chunk 0: written zeros; chunk 2: one byte at its end; the rest holes */
	CHECK(pwrite(fd, zeros, sizeof(zeros), 0) == (ssize_t)sizeof(zeros));
	CHECK(pwrite(fd, &one, 1, 3 * sizeof(zeros) - 1) == 1);
	CHECK_OK(img_out_open(out, WARD_IMAGE_FORMAT_OCI_DIR, &o, &err), &err);
	CHECK_OK(img_out_blob_begin(o, &b, &err), &err);
	CHECK_OK(
	    img_ext4_seal(fd, 8 * sizeof(zeros), sizeof(zeros), key, id, 2, b, "m", 0, &s, &err),
	    &err);
	CHECK_INT(s.chunks_stored, ==, 1);
	CHECK_INT(s.header_len, ==, WARD_EXT4IMG_FIXED + 8);
	CHECK_INT(s.member_size, ==, 4096 + sizeof(zeros) + 16);
	CHECK_INT(img_out_blob_size(b), ==, 512 + (s.member_size + 511) / 512 * 512);
	/* all zeros: the header alone */
	CHECK(pwrite(fd, zeros, 1, 3 * sizeof(zeros) - 1) == 1);
	CHECK_OK(
	    img_ext4_seal(fd, 8 * sizeof(zeros), sizeof(zeros), key, id, 2, b, "m", 0, &s, &err),
	    &err);
	CHECK_INT(s.chunks_stored, ==, 0);
	CHECK_INT(s.member_size, ==, 4096);
	/* geometry the format refuses */
	CHECK_ERR(img_ext4_seal(fd, 8 * sizeof(zeros), 1000, key, id, 1, b, "m", 0, &s, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(img_ext4_seal(fd, 8 * sizeof(zeros) + 1, sizeof(zeros), key, id, 1, b, "m", 0, &s,
				&err),
		  -WARD_E_USAGE);
	/* a file shorter than it claims: chunk 2 holds data but ends early */
	CHECK(ftruncate(fd, 3 * sizeof(zeros) - 10) == 0);
	CHECK(pwrite(fd, &one, 1, 2 * sizeof(zeros)) == 1);
	CHECK_ERR(
	    img_ext4_seal(fd, 8 * sizeof(zeros), sizeof(zeros), key, id, 1, b, "m", 0, &s, &err),
	    -EIO);
	close(fd);
	(void)ward_rm_rf(dir, NULL);
	free(dir);
}

static int list_cb(void *ctx, const char *name)
{
	char *names = ctx;

	strcat(names, name);
	strcat(names, ";");
	return 0;
}

/* The temporary volume's store: files in one unlinked file. */
WARD_TEST(volstore_semantics)
{
	char *dir = tmpdir();
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(img_volstore_freep) struct ward_vol_io *io = NULL;
	static uint8_t big[200 << 10], back[200 << 10];
	char names[256] = "";
	uint8_t b[16];
	uint64_t size;
	size_t n;
	int h, h2;

	CHECK_OK(img_volstore_new(dir, &io, &err), &err);
	CHECK_INT(count_prefix(dir, ""), ==, 2); /* ".", "..": the store has no name */
	CHECK_ERR(io->open(io->ctx, "a", 0), -ENOENT);
	CHECK_ERR(io->open(io->ctx, "../a", WARD_VOL_IO_CREATE), -EINVAL);
	h = io->open(io->ctx, "a", WARD_VOL_IO_CREATE | WARD_VOL_IO_EXCL);
	CHECK_INT(h, >=, 0);
	CHECK_ERR(io->open(io->ctx, "a", WARD_VOL_IO_CREATE | WARD_VOL_IO_EXCL), -EEXIST);
	/* across pages, with a hole before it */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	CHECK_INT(io->pwrite(io->ctx, h, big, sizeof(big), 100000), ==, 0);
	CHECK_INT(io->fsize(io->ctx, h, &size), ==, 0);
	CHECK_INT(size, ==, 100000 + sizeof(big));
	CHECK_INT(io->pread(io->ctx, h, back, sizeof(back), 100000, &n), ==, 0);
	CHECK_INT(n, ==, sizeof(big));
	CHECK_MEM(back, big, sizeof(big));
	CHECK_INT(io->pread(io->ctx, h, b, sizeof(b), 10, &n), ==, 0);
	CHECK_INT(n, ==, sizeof(b));
	CHECK(b[0] == 0 && b[15] == 0);
	CHECK_INT(io->pread(io->ctx, h, b, sizeof(b), size - 4, &n), ==, 0);
	CHECK_INT(n, ==, 4); /* short only at the end */
	CHECK_INT(io->pread(io->ctx, h, b, sizeof(b), size + 10, &n), ==, 0);
	CHECK_INT(n, ==, 0);
	/* shrink then grow: the cut part reads as zeros */
	CHECK_INT(io->truncate(io->ctx, h, 100001), ==, 0);
	CHECK_INT(io->truncate(io->ctx, h, size), ==, 0);
	CHECK_INT(io->pread(io->ctx, h, b, sizeof(b), 100000, &n), ==, 0);
	CHECK(b[0] == big[0] && b[1] == 0 && b[15] == 0);
	/* rename replaces; an unlinked file stays readable while open */
	h2 = io->open(io->ctx, "b", WARD_VOL_IO_CREATE);
	CHECK_INT(h2, >=, 0);
	CHECK_INT(io->pwrite(io->ctx, h2, "bee", 3, 0), ==, 0);
	CHECK_INT(io->rename(io->ctx, "b", "a"), ==, 0);
	CHECK_ERR(io->rename(io->ctx, "b", "c"), -ENOENT);
	CHECK_INT(io->list(io->ctx, list_cb, names), ==, 0);
	CHECK_STR(names, "a;");
	CHECK_INT(io->pread(io->ctx, h, b, 1, 100000, &n), ==, 0); /* the old "a" */
	CHECK(n == 1 && b[0] == big[0]);
	CHECK_INT(io->close(io->ctx, h), ==, 0);
	CHECK_ERR(io->close(io->ctx, h), -EBADF);
	CHECK_ERR(io->pread(io->ctx, h, b, 1, 0, &n), -EBADF);
	h = io->open(io->ctx, "a", WARD_VOL_IO_RDONLY);
	CHECK_INT(io->pread(io->ctx, h, b, 3, 0, &n), ==, 0);
	CHECK(n == 3 && !memcmp(b, "bee", 3));
	CHECK_INT(io->unlink(io->ctx, "a"), ==, 0);
	CHECK_ERR(io->unlink(io->ctx, "a"), -ENOENT);
	CHECK_INT(io->pread(io->ctx, h, b, 3, 0, &n), ==, 0);
	CHECK(n == 3 && !memcmp(b, "bee", 3));
	names[0] = '\0';
	CHECK_INT(io->list(io->ctx, list_cb, names), ==, 0);
	CHECK_STR(names, "");
	io = img_volstore_free(io);
	CHECK_INT(count_prefix(dir, ""), ==, 2);
	(void)ward_rm_rf(dir, NULL);
	free(dir);
}

/* A sealed image of 8 GiB or more needs a size the octal field cannot
 * hold: GNU base-256, which libarchive (as runtimes' readers) reads. */
WARD_TEST(tar_header_large_size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct archive *ar = archive_read_new();
	struct archive_entry *e;
	static uint8_t tar[512 + 1024];
	uint64_t big = (9ull << 30) + 12345;

	CHECK(ar);
	CHECK_OK(img_tar_header(tar, "x", '0', 0444, big, 1700000000, &err), &err);
	CHECK_INT(tar[124], ==, 0x80);
	archive_read_support_format_tar(ar);
	CHECK_INT(archive_read_open_memory(ar, tar, sizeof(tar)), ==, ARCHIVE_OK);
	CHECK_INT(archive_read_next_header(ar, &e), ==, ARCHIVE_OK);
	CHECK_INT(archive_entry_size(e), ==, (int64_t)big);
	CHECK_STR(archive_entry_pathname(e), "x");
	archive_read_free(ar);
	/* below the limit: octal as before */
	CHECK_OK(img_tar_header(tar, "x", '0', 0444, 077777777777ull, 0, &err), &err);
	CHECK(!memcmp(tar + 124, "77777777777", 11));
	CHECK_ERR(img_tar_header(tar, "x", '0', 0444, 1, -1, &err), -WARD_E_TOO_BIG);
}

WARD_TEST_MAIN()
