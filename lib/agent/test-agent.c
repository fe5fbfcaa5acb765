/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"

/* ---- a tiny tar writer for crafted layers ---- */

struct tarbuf {
	uint8_t buf[1 << 16];
	size_t len;
};

static void hdr_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static void tar_raw(struct tarbuf *t, const char *name, char type, const char *link,
		    const void *data, size_t size, unsigned mode, unsigned uid)
{
	uint8_t *h = t->buf + t->len;

	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", uid);
	snprintf((char *)h + 116, 8, "%07o", uid);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000u);
	h[156] = (uint8_t)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	hdr_checksum(h);
	t->len += 512;
	if (size) {
		memcpy(t->buf + t->len, data, size);
		t->len += (size + 511) / 512 * 512;
	}
}

static void tar_file(struct tarbuf *t, const char *name, const char *content)
{
	tar_raw(t, name, '0', NULL, content, strlen(content), 0644, 0);
}

static void tar_end(struct tarbuf *t)
{
	memset(t->buf + t->len, 0, 1024);
	t->len += 1024;
}

static char g_dir[64];

static int scratch(void)
{
	int fd;

	snprintf(g_dir, sizeof(g_dir), "/tmp/ward-agent-test-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	char root[96];
	snprintf(root, sizeof(root), "%s/root", g_dir);
	mkdir(root, 0755);
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

static void scratch_done(int fd)
{
	struct ward_err err = WARD_ERR_INIT;

	close(fd);
	(void)ward_rm_rf(g_dir, &err);
}

static char *slurp(int rootfd, const char *rel)
{
	WARD_AUTOCLOSE int fd = ward_open_in_root(rootfd, rel, O_RDONLY, 0);
	struct ward_err err = WARD_ERR_INIT;
	uint8_t *buf = NULL;
	size_t size;

	if (fd < 0 || ward_fd_read_all(fd, 1 << 20, &buf, &size, &err) < 0)
		return NULL;
	return (char *)buf;
}

static bool exists_at(int rootfd, const char *rel)
{
	struct stat st;

	return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

WARD_TEST(unpack_basic_members)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_unpack_stats st = {0};
	struct stat sb;
	char target[64];
	int fd = scratch();

	CHECK(fd >= 0);
	t.len = 0;
	tar_raw(&t, "./", '5', NULL, NULL, 0, 0755, 0);
	tar_raw(&t, "./etc/", '5', NULL, NULL, 0, 0750, 0);
	tar_file(&t, "./etc/motd", "hello\n");
	tar_raw(&t, "bin/tool", '0', NULL, "#!", 2, 04755, 0);
	tar_raw(&t, "etc/motd.link", '1', "etc/motd", NULL, 0, 0644, 0);
	tar_raw(&t, "etc/alias", '2', "/etc/motd", NULL, 0, 0777, 0);
	tar_raw(&t, "run/fifo", '6', NULL, NULL, 0, 0600, 0);
	tar_raw(&t, "owned", '0', NULL, NULL, 0, 0600, 1234);
	tar_end(&t);
	CHECK_OK(ward_unpack_tar(fd, t.buf, t.len, NULL, &st, &err), &err);
	char *s = slurp(fd, "etc/motd");
	CHECK(s);
	CHECK_STR(s, "hello\n");
	free(s);
	s = slurp(fd, "etc/alias"); /* absolute symlink resolves inside the root */
	CHECK(s);
	CHECK_STR(s, "hello\n");
	free(s);
	CHECK_INT(readlinkat(fd, "etc/alias", target, sizeof(target)), ==, 9);
	CHECK_INT(fstatat(fd, "etc/motd", &sb, 0), ==, 0);
	CHECK_INT(sb.st_nlink, ==, 2);
	CHECK_INT(fstatat(fd, "etc", &sb, 0), ==, 0);
	CHECK_INT(sb.st_mode & 07777, ==, 0750);
	CHECK_INT(fstatat(fd, "bin/tool", &sb, 0), ==, 0);
	CHECK_INT(sb.st_mode & 07777, ==, 04755);
	CHECK_INT(sb.st_mtime, ==, 1700000000);
	CHECK_INT(fstatat(fd, "run/fifo", &sb, AT_SYMLINK_NOFOLLOW), ==, 0);
	CHECK(S_ISFIFO(sb.st_mode));
	if (geteuid() == 0) {
		CHECK_INT(fstatat(fd, "owned", &sb, 0), ==, 0);
		CHECK_INT(sb.st_uid, ==, 1234);
		CHECK_INT(sb.st_gid, ==, 1234);
	}
	CHECK_INT(st.entries, ==, 7);
	CHECK_INT(st.bytes, ==, 8);
	scratch_done(fd);
}

WARD_TEST(unpack_whiteouts_and_opaque)
{
	static struct tarbuf l1, l2;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_unpack_stats st = {0};
	int fd = scratch();

	CHECK(fd >= 0);
	l1.len = l2.len = 0;
	tar_file(&l1, "a/b", "1");
	tar_file(&l1, "a/c", "2");
	tar_file(&l1, "d/x", "3");
	tar_file(&l1, "d/sub/y", "4");
	tar_file(&l1, "e", "file");
	tar_end(&l1);
	CHECK_OK(ward_unpack_tar(fd, l1.buf, l1.len, NULL, &st, &err), &err);
	tar_file(&l2, "a/.wh.b", "");
	tar_raw(&l2, "d/", '5', NULL, NULL, 0, 0755, 0);
	tar_file(&l2, "d/new", "5"); /* same layer, before the marker: kept */
	tar_file(&l2, "d/.wh..wh..opq", "");
	tar_file(&l2, "d/later", "6");
	tar_raw(&l2, "e/", '5', NULL, NULL, 0, 0755, 0); /* directory replaces file */
	tar_file(&l2, "a/.wh.missing", "");
	tar_end(&l2);
	CHECK_OK(ward_unpack_tar(fd, l2.buf, l2.len, NULL, &st, &err), &err);
	CHECK(!exists_at(fd, "a/b"));
	CHECK(exists_at(fd, "a/c"));
	CHECK(!exists_at(fd, "a/.wh.b"));
	CHECK(!exists_at(fd, "d/x"));
	CHECK(!exists_at(fd, "d/sub"));
	CHECK(exists_at(fd, "d/new"));
	CHECK(exists_at(fd, "d/later"));
	CHECK(!exists_at(fd, "d/.wh..wh..opq"));
	struct stat sb;
	CHECK_INT(fstatat(fd, "e", &sb, 0), ==, 0);
	CHECK(S_ISDIR(sb.st_mode));
	CHECK_INT(st.whiteouts, ==, 3);
	scratch_done(fd);
}

WARD_TEST(unpack_refuses_traversal)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	const char *bad[] = {"../evil", "a/../../evil", "a//b", "a/./b"};
	int fd = scratch();

	CHECK(fd >= 0);
	for (size_t i = 0; i < 4; i++) {
		t.len = 0;
		tar_file(&t, bad[i], "x");
		tar_end(&t);
		CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "unsafe path");
	}
	/* hardlink target escaping */
	t.len = 0;
	tar_raw(&t, "h", '1', "../../etc/passwd", NULL, 0, 0644, 0);
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "hardlink");
	/* bad whiteout name */
	t.len = 0;
	tar_file(&t, "a/.wh...", "");
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_MALFORMED);
	scratch_done(fd);
}

WARD_TEST(unpack_symlink_escape_stays_inside)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	char outside[128];
	int fd = scratch();

	CHECK(fd >= 0);
	t.len = 0;
	tar_raw(&t, "up", '2', "../../../../..", NULL, 0, 0777, 0);
	tar_raw(&t, "abs", '2', "/", NULL, 0, 0777, 0);
	tar_file(&t, "up/escape1", "a");
	tar_file(&t, "abs/escape2", "b");
	tar_end(&t);
	CHECK_OK(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), &err);
	/* writing through the symlink replaced the symlink?  No: the parent
	 * resolves in the root, so the files land at the root's top level */
	CHECK(exists_at(fd, "escape1"));
	CHECK(exists_at(fd, "escape2"));
	snprintf(outside, sizeof(outside), "%s/escape1", g_dir);
	CHECK(access(outside, F_OK) < 0);
	CHECK(access("/escape1", F_OK) < 0);
	scratch_done(fd);
}

WARD_TEST(unpack_pax_and_gnu_long_names)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	char longname[300], pax[700], rec[600];
	int fd = scratch();

	CHECK(fd >= 0);
	memset(longname, 'n', 150);
	strcpy(longname + 150, "/file-with-a-long-name");
	t.len = 0;
	/* GNU long name */
	tar_raw(&t, "././@LongLink", 'L', NULL, longname, strlen(longname) + 1, 0, 0);
	tar_raw(&t, "truncated", '0', NULL, "gnu", 3, 0644, 0);
	/* pax path + mtime + xattr */
	snprintf(rec, sizeof(rec), "path=pax/%s", longname);
	size_t n = strlen(rec) + 2; /* " " and "\n" */
	size_t len = n + 3;	    /* three digits */
	snprintf(pax, sizeof(pax), "%zu %s\n", len, rec);
	CHECK_INT(strlen(pax), ==, len);
	strcat(pax, "20 mtime=1600000000\n");
	strcat(pax, "29 SCHILY.xattr.user.test=ok\n");
	tar_raw(&t, "PaxHeaders/x", 'x', NULL, pax, strlen(pax), 0, 0);
	tar_raw(&t, "short", '0', NULL, "pax", 3, 0644, 0);
	tar_end(&t);
	CHECK_OK(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), &err);
	char *s = slurp(fd, longname);
	CHECK(s);
	CHECK_STR(s, "gnu");
	free(s);
	char p2[400];
	snprintf(p2, sizeof(p2), "pax/%s", longname);
	s = slurp(fd, p2);
	CHECK(s);
	CHECK_STR(s, "pax");
	free(s);
	struct stat sb;
	CHECK_INT(fstatat(fd, p2, &sb, 0), ==, 0);
	CHECK_INT(sb.st_mtime, ==, 1600000000);
	CHECK(!exists_at(fd, "short"));
	CHECK(!exists_at(fd, "truncated"));

	/* a broken pax record */
	t.len = 0;
	tar_raw(&t, "PaxHeaders/y", 'x', NULL, "99 path=x\n", 10, 0, 0);
	tar_file(&t, "z", "z");
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "pax");
	scratch_done(fd);
}

WARD_TEST(unpack_malformed_headers)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_unpack_opts few = {.max_entries = 2};
	int fd = scratch();

	CHECK(fd >= 0);
	t.len = 0;
	tar_file(&t, "f", "content");
	t.buf[0] ^= 1; /* checksum no longer matches */
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "checksum");
	t.len = 0;
	tar_file(&t, "f", "content");
	CHECK_ERR(ward_unpack_tar(fd, t.buf, 515, NULL, NULL, &err), -WARD_E_MALFORMED);
	CHECK_OK(ward_unpack_tar(fd, t.buf, 700, NULL, NULL, &err), &err); /* padding may be cut */
	CHECK_ERR(ward_unpack_tar(fd, t.buf, 100, NULL, NULL, &err), -WARD_E_MALFORMED);
	CHECK_OK(ward_unpack_tar(fd, t.buf, 0, NULL, NULL, &err), &err);
	t.len = 0;
	tar_file(&t, "a", "1");
	tar_file(&t, "b", "2");
	tar_file(&t, "c", "3");
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, &few, NULL, &err), -WARD_E_TOO_BIG);
	t.len = 0;
	tar_raw(&t, "weird", 'Z', NULL, NULL, 0, 0644, 0);
	tar_end(&t);
	CHECK_ERR(ward_unpack_tar(fd, t.buf, t.len, NULL, NULL, &err), -WARD_E_UNSUPPORTED);
	scratch_done(fd);
}

/* ---- layers ---- */

static char *g_pubopts[8];
static size_t g_pubopts_count;

static void free_pubopts(void)
{
	for (size_t i = 0; i < 8; i++)
		free(g_pubopts[i]), g_pubopts[i] = NULL;
	g_pubopts_count = 0;
}

static void make_layer(struct ward_agent_layer *L, struct ward_layer_key *key, const uint8_t *tar,
		       size_t tar_size, uint8_t **ret_ct, size_t *ret_ct_size)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	struct ward_err err = WARD_ERR_INIT;
	size_t cap = libdeflate_gzip_compress_bound(c, tar_size);
	uint8_t *gz = malloc(cap), *ct;
	size_t gz_size = libdeflate_gzip_compress(c, tar, tar_size, gz, cap);
	char hex[65], *pubopts = NULL;

	libdeflate_free_compressor(c);
	memset(L, 0, sizeof(*L));
	memset(key->symkey, 0x11, 32);
	memset(key->nonce, 0x22, 16);
	ward_sha256_hex(gz, gz_size, hex, &err);
	snprintf(key->digest, sizeof(key->digest), "sha256:%s", hex);
	snprintf(L->plain_digest, sizeof(L->plain_digest), "sha256:%s", hex);
	ward_sha256_hex(tar, tar_size, hex, &err);
	snprintf(L->diff_id, sizeof(L->diff_id), "sha256:%s", hex);
	ct = malloc(gz_size);
	if (ward_agent_layer_encrypt(key, gz, gz_size, ct, &pubopts, &err) < 0)
		abort();
	ward_sha256_hex(ct, gz_size, hex, &err);
	snprintf(L->encrypted_digest, sizeof(L->encrypted_digest), "sha256:%s", hex);
	snprintf(L->blob, sizeof(L->blob), ".ward/layers/%s", hex);
	snprintf(L->media_type, sizeof(L->media_type),
		 "application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
	L->pubopts = pubopts;
	g_pubopts[g_pubopts_count++ % 8] = pubopts; /* freed by free_pubopts() */
	free(gz);
	*ret_ct = ct;
	*ret_ct_size = gz_size;
}

WARD_TEST(layer_open_verifies_before_release)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_layer L;
	struct ward_layer_key key, bad;
	WARD_AUTOFREE uint8_t *ct = NULL;
	uint8_t *tar = NULL;
	size_t ct_size, tar_size;

	t.len = 0;
	tar_file(&t, "hello", "world");
	tar_end(&t);
	make_layer(&L, &key, t.buf, t.len, &ct, &ct_size);
	CHECK_OK(ward_agent_layer_open(&L, ct, ct_size, &key, &tar, &tar_size, &err), &err);
	CHECK_INT(tar_size, ==, t.len);
	CHECK_MEM(tar, t.buf, t.len);
	free(tar);
	tar = NULL;

	/* wrong key: the HMAC fails, nothing is released */
	bad = key;
	bad.symkey[0] ^= 1;
	CHECK_ERR(ward_agent_layer_open(&L, ct, ct_size, &bad, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "HMAC");
	CHECK(tar == NULL);
	/* tampered blob: the encrypted digest fails first */
	ct[ct_size / 2] ^= 0x40;
	CHECK_ERR(ward_agent_layer_open(&L, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "encrypted blob digest");
	/* tampered blob with a matching (attacker-chosen) digest: HMAC fails */
	char hex[65];
	ward_sha256_hex(ct, ct_size, hex, &err);
	snprintf(L.encrypted_digest, sizeof(L.encrypted_digest), "sha256:%s", hex);
	CHECK_ERR(ward_agent_layer_open(&L, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "HMAC");
	ct[ct_size / 2] ^= 0x40;
	free(ct);
	make_layer(&L, &key, t.buf, t.len, &ct, &ct_size);
	/* wrong diff_id / plaintext digest / media types */
	struct ward_agent_layer L2 = L;
	L2.diff_id[10] ^= 1;
	CHECK_ERR(ward_agent_layer_open(&L2, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "diff_id");
	L2 = L;
	bad = key;
	bad.digest[10] ^= 1;
	CHECK_ERR(ward_agent_layer_open(&L2, ct, ct_size, &bad, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "plaintext digest");
	/* the wrapped format records the plain media type: same result */
	snprintf(L2.media_type, sizeof(L2.media_type),
		 "application/vnd.oci.image.layer.v1.tar+gzip");
	CHECK_OK(ward_agent_layer_open(&L2, ct, ct_size, &key, &tar, &tar_size, &err), &err);
	free(tar);
	tar = NULL;
	/* a plain tar media type for gzip bytes: the diff_id check fails */
	snprintf(L2.media_type, sizeof(L2.media_type), "application/vnd.oci.image.layer.v1.tar");
	CHECK_ERR(ward_agent_layer_open(&L2, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_VERIFY);
	snprintf(L2.media_type, sizeof(L2.media_type), "application/x-foo+encrypted");
	CHECK_ERR(ward_agent_layer_open(&L2, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_UNSUPPORTED);
	L2 = L;
	L2.pubopts = "bm90IGpzb24="; /* "not json" */
	CHECK_ERR(ward_agent_layer_open(&L2, ct, ct_size, &key, &tar, &tar_size, &err),
		  -WARD_E_MALFORMED);
	CHECK(tar == NULL);
	free_pubopts();
}

WARD_TEST(layer_apply_from_blob_file)
{
	static struct tarbuf t;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_layer L;
	struct ward_layer_key key;
	WARD_AUTOFREE uint8_t *ct = NULL;
	size_t ct_size;
	char path[256], keyjson[512], k64[45], n64[25];
	WARD_AUTOJSON json_t *kf = NULL;
	int fd = scratch(), wfd;

	CHECK(fd >= 0);
	t.len = 0;
	tar_file(&t, "app/bin", "binary");
	tar_end(&t);
	make_layer(&L, &key, t.buf, t.len, &ct, &ct_size);
	snprintf(path, sizeof(path), "%s/.ward/layers", g_dir);
	wfd = open(g_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK_OK(ward_mkdirat_beneath(wfd, ".ward/layers", 0755, &err), &err);
	snprintf(path, sizeof(path), "%s/%s", g_dir, L.blob);
	CHECK_OK(ward_file_write_atomic(path, ct, ct_size, 0644, &err), &err);
	ward_base64_encode(key.symkey, 32, k64);
	ward_base64_encode(key.nonce, 16, n64);
	snprintf(keyjson, sizeof(keyjson),
		 "{\"version\":1,\"layers\":{\"%s\":{\"symkey\":\"%s\",\"nonce\":\"%s\","
		 "\"digest\":\"%s\"}}}",
		 L.encrypted_digest, k64, n64, key.digest);
	CHECK_OK(ward_agent_insecure_keyfile_load(keyjson, strlen(keyjson), &kf, &err), &err);
	struct ward_agent_keysource ks = {"test", ward_agent_insecure_keyfile_key, kf};
	CHECK_OK(ward_agent_layer_apply(wfd, &L, &ks, fd, NULL, NULL, &err), &err);
	char *s = slurp(fd, "app/bin");
	CHECK(s);
	CHECK_STR(s, "binary");
	free(s);
	/* a key file without this layer */
	struct ward_agent_layer other = L;
	other.encrypted_digest[8] ^= 1;
	CHECK_ERR(ward_agent_layer_apply(wfd, &other, &ks, fd, NULL, NULL, &err),
		  -WARD_E_NOT_FOUND);
	/* a missing blob */
	snprintf(other.blob, sizeof(other.blob), ".ward/layers/missing");
	CHECK_ERR(ward_agent_layer_apply(wfd, &other, &ks, fd, NULL, NULL, &err), -ENOENT);
	CHECK_ERR(ward_agent_insecure_keyfile_load("{\"version\":2,\"layers\":{}}", 25, &kf, &err),
		  -WARD_E_MALFORMED);
	close(wfd);
	scratch_done(fd);
	free_pubopts();
}

WARD_TEST(config_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_config *c = NULL;
	const char *good =
	    "{\"version\":1,\"entrypoint\":[\"/bin/sh\"],\"cmd\":[\"-c\",\"true\"],"
	    "\"env\":[\"A=1\"],\"user\":\"nobody\",\"working_dir\":\"/srv\",\"stop_signal\":null,"
	    "\"labels\":null,\"exposed_ports\":[],\"original_config_digest\":\"sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000\","
	    "\"layers\":[{\"blob\":\".ward/layers/ab\",\"encrypted_digest\":\"sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"plain_digest\":\"sha256:"
	    "2222222222222222222222222222222222222222222222222222222222222222\","
	    "\"diff_id\":\"sha256:"
	    "3333333333333333333333333333333333333333333333333333333333333333\","
	    "\"media_type\":\"application/vnd.oci.image.layer.v1.tar+gzip+encrypted\","
	    "\"pubopts\":\"e30=\",\"size\":12}]}";

	CHECK_OK(ward_agent_config_parse(good, strlen(good), &c, &err), &err);
	CHECK_INT(c->layer_count, ==, 1);
	CHECK_STR(c->user, "nobody");
	CHECK_STR(c->working_dir, "/srv");
	CHECK(c->stop_signal == NULL);
	CHECK_STR(c->layers[0].blob, ".ward/layers/ab");
	CHECK_INT(c->layers[0].size, ==, 12);
	c = ward_agent_config_free(c);
	CHECK_ERR(ward_agent_config_parse("{\"version\":2,\"layers\":[]}", 25, &c, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_agent_config_parse("{\"version\":1}", 13, &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "layers");
	const char *bad_blob = "{\"version\":1,\"layers\":[{\"blob\":\"../x\"}]}";
	CHECK_ERR(ward_agent_config_parse(bad_blob, strlen(bad_blob), &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "blob");
	const char *bad_cmd = "{\"version\":1,\"cmd\":[1],\"layers\":[]}";
	CHECK_ERR(ward_agent_config_parse(bad_cmd, strlen(bad_cmd), &c, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_agent_config_parse("[]", 2, &c, &err), -WARD_E_MALFORMED);
}

WARD_TEST(user_resolve)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_ids ids;
	char path[128];
	int fd = scratch(), efd;

	CHECK(fd >= 0);
	/* no /etc/passwd: numeric ids only */
	CHECK_OK(ward_agent_user_resolve(fd, "", &ids, &err), &err);
	CHECK_INT(ids.uid, ==, 0);
	CHECK_OK(ward_agent_user_resolve(fd, "1000:1001", &ids, &err), &err);
	CHECK_INT(ids.uid, ==, 1000);
	CHECK_INT(ids.gid, ==, 1001);
	CHECK_ERR(ward_agent_user_resolve(fd, "www-data", &ids, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "www-data");
	efd = open(g_dir, O_PATH | O_DIRECTORY);
	CHECK_OK(ward_mkdirat_beneath(efd, "root/etc", 0755, &err), &err);
	close(efd);
	snprintf(path, sizeof(path), "%s/root/etc/passwd", g_dir);
	const char *pw = "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken line\n"
			 "redis:x:100:101::/var/lib/redis:/usr/sbin/nologin\n";
	CHECK_OK(ward_file_write_atomic(path, pw, strlen(pw), 0644, &err), &err);
	snprintf(path, sizeof(path), "%s/root/etc/group", g_dir);
	const char *gr = "root:x:0:\nredis:x:101:\nadm:x:4:redis,other\ndisk:x:6:other\n";
	CHECK_OK(ward_file_write_atomic(path, gr, strlen(gr), 0644, &err), &err);
	CHECK_OK(ward_agent_user_resolve(fd, "redis", &ids, &err), &err);
	CHECK_INT(ids.uid, ==, 100);
	CHECK_INT(ids.gid, ==, 101);
	CHECK_STR(ids.home, "/var/lib/redis");
	CHECK_INT(ids.group_count, ==, 1);
	CHECK_INT(ids.groups[0], ==, 4);
	CHECK_OK(ward_agent_user_resolve(fd, "100", &ids, &err), &err);
	CHECK_INT(ids.gid, ==, 101);
	CHECK_INT(ids.group_count, ==, 1);
	CHECK_OK(ward_agent_user_resolve(fd, "redis:disk", &ids, &err), &err);
	CHECK_INT(ids.gid, ==, 6);
	CHECK_ERR(ward_agent_user_resolve(fd, "redis:nogroup", &ids, &err), -WARD_E_NOT_FOUND);
	scratch_done(fd);
}

WARD_TEST(build_exec_and_signals)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_config *c = NULL;
	struct ward_agent_ids ids = {.uid = 0};
	char **argv = NULL, **envp = NULL;
	const char *j = "{\"version\":1,\"entrypoint\":[\"redis-server\"],\"cmd\":[\"--port\","
			"\"6379\"],\"env\":[\"A=1\",\"B=2\"],\"layers\":[]}";
	char *over[] = {(char *)"--port", (char *)"7000"};
	char *env[] = {(char *)"B=3", (char *)"C=4"};
	int sig;

	strcpy(ids.home, "/data");
	CHECK_OK(ward_agent_config_parse(j, strlen(j), &c, &err), &err);
	CHECK_OK(ward_agent_build_exec(c, NULL, 0, env, 2, &ids, &argv, &envp, &err), &err);
	CHECK_STR(argv[0], "redis-server");
	CHECK_STR(argv[2], "6379");
	CHECK(argv[3] == NULL);
	CHECK_STR(envp[0], "A=1");
	CHECK_STR(envp[1], "B=3");
	CHECK_STR(envp[2], "C=4");
	CHECK(strncmp(envp[3], "PATH=", 5) == 0);
	CHECK_STR(envp[4], "HOME=/data");
	ward_agent_strv_free(argv);
	ward_agent_strv_free(envp);
	CHECK_OK(ward_agent_build_exec(c, over, 2, NULL, 0, &ids, &argv, &envp, &err), &err);
	CHECK_STR(argv[2], "7000");
	ward_agent_strv_free(argv);
	ward_agent_strv_free(envp);
	char *noeq[] = {(char *)"NOEQUALS"};
	CHECK_ERR(ward_agent_build_exec(c, NULL, 0, noeq, 1, &ids, &argv, &envp, &err),
		  -WARD_E_USAGE);
	ward_agent_config_free(c);
	const char *empty = "{\"version\":1,\"layers\":[]}";
	CHECK_OK(ward_agent_config_parse(empty, strlen(empty), &c, &err), &err);
	CHECK_ERR(ward_agent_build_exec(c, NULL, 0, NULL, 0, &ids, &argv, &envp, &err),
		  -WARD_E_USAGE);
	ward_agent_config_free(c);

	CHECK_INT(ward_signal_parse("SIGQUIT", &sig), ==, 0);
	CHECK_INT(sig, ==, SIGQUIT);
	CHECK_INT(ward_signal_parse("TERM", &sig), ==, 0);
	CHECK_INT(sig, ==, SIGTERM);
	CHECK_INT(ward_signal_parse("9", &sig), ==, 0);
	CHECK_INT(sig, ==, 9);
	CHECK_INT(ward_signal_parse("SIGFOO", &sig), ==, -WARD_E_MALFORMED);
	CHECK_INT(ward_signal_parse("0", &sig), ==, -WARD_E_MALFORMED);
	CHECK_INT(ward_signal_parse(NULL, &sig), ==, -WARD_E_MALFORMED);
}

static int refuse(void *ctx, struct ward_err *err)
{
	return ward_err_set(err, -WARD_E_POLICY, "refused by %s", (const char *)ctx);
}

WARD_TEST(run_child_exit_codes)
{
	struct ward_err err = WARD_ERR_INIT;
	char *env[] = {(char *)"PATH=/usr/bin:/bin", NULL};
	char *a3[] = {(char *)"sh", (char *)"-c", (char *)"exit 3", NULL};
	char *sig[] = {(char *)"sh", (char *)"-c", (char *)"kill -TERM $$", NULL};
	char *missing[] = {(char *)"no-such-program-ward", NULL};
	int code = -1;

	CHECK_OK(ward_agent_run_child(a3, env, NULL, NULL, &code, &err), &err);
	CHECK_INT(code, ==, 3);
	CHECK_OK(ward_agent_run_child(sig, env, NULL, NULL, &code, &err), &err);
	CHECK_INT(code, ==, 128 + SIGTERM);
	CHECK_OK(ward_agent_run_child(missing, env, NULL, NULL, &code, &err), &err);
	CHECK_INT(code, ==, 127);
	CHECK_OK(ward_agent_run_child(a3, env, refuse, (void *)"test", &code, &err), &err);
	CHECK_INT(code, ==, 127);
}

WARD_TEST(default_caps)
{
	uint64_t c = ward_agent_default_caps();

	CHECK_INT(__builtin_popcountll(c), ==, 14);
	CHECK(!(c & (1ull << 21))); /* CAP_SYS_ADMIN */
	CHECK(c & (1ull << 10));    /* CAP_NET_BIND_SERVICE */
}

/* Layers encrypted by skopeo (ocicrypt), RSA-OAEP and ECDH-ES+A256KW
 * (../shared/vectors/ocicrypt): open the JWE with the private key, verify,
 * decrypt, gunzip and unpack with our code. */
static void skopeo_case(bool *ward_test_failed_, const char *dir, const char *keyfile)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *base = ward_test_vector("ocicrypt");
	char path[1024];
	WARD_AUTOJSON json_t *index = NULL, *man = NULL, *cfg = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *priv = NULL;
	WARD_AUTOFREE uint8_t *pem = NULL;
	size_t pem_size;
	json_t *layers, *l;
	size_t i;

	if (!base) {
		printf("SKIP: no ocicrypt vectors\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", base, keyfile);
	CHECK_OK(ward_file_read(path, 1 << 20, &pem, &pem_size, &err), &err);
	CHECK_OK(ward_pkey_from_pem(pem, pem_size, &priv, &err), &err);
	snprintf(path, sizeof(path), "%s/%s/index.json", base, dir);
	CHECK_OK(ward_json_load_file(path, 1 << 20, &index, &err), &err);
	snprintf(path, sizeof(path), "%s/%s/blobs/sha256/%s", base, dir,
		 json_string_value(json_object_get(
		     json_array_get(json_object_get(index, "manifests"), 0), "digest")) +
		     7);
	CHECK_OK(ward_json_load_file(path, 1 << 20, &man, &err), &err);
	snprintf(path, sizeof(path), "%s/%s/blobs/sha256/%s", base, dir,
		 json_string_value(json_object_get(json_object_get(man, "config"), "digest")) + 7);
	CHECK_OK(ward_json_load_file(path, 1 << 20, &cfg, &err), &err);
	layers = json_object_get(man, "layers");
	CHECK(json_array_size(layers) > 0);
	json_array_foreach(layers, i, l)
	{
		const json_t *ann = json_object_get(l, "annotations");
		struct ward_agent_layer L = {0};
		struct ward_pkey *keys[1] = {priv};
		struct ward_agent_jwe_keys jk = {keys, 1};
		struct ward_layer_key key;
		WARD_AUTOFREE uint8_t *ct = NULL, *tar = NULL;
		size_t ct_size, tar_size;
		const char *d = json_string_value(json_object_get(l, "digest"));

		snprintf(L.encrypted_digest, sizeof(L.encrypted_digest), "%s", d);
		snprintf(L.media_type, sizeof(L.media_type), "%s",
			 json_string_value(json_object_get(l, "mediaType")));
		snprintf(L.diff_id, sizeof(L.diff_id), "%s",
			 json_string_value(json_array_get(
			     json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), i)));
		L.pubopts =
		    json_string_value(json_object_get(ann, "org.opencontainers.image.enc.pubopts"));
		L.keys_jwe = json_string_value(
		    json_object_get(ann, "org.opencontainers.image.enc.keys.jwe"));
		CHECK(L.pubopts && L.keys_jwe);
		CHECK_OK(ward_agent_jwe_layer_key(&jk, &L, &key, &err), &err);
		snprintf(L.plain_digest, sizeof(L.plain_digest), "%s", key.digest);
		snprintf(path, sizeof(path), "%s/%s/blobs/sha256/%s", base, dir, d + 7);
		CHECK_OK(ward_file_read(path, 64 << 20, &ct, &ct_size, &err), &err);
		CHECK_OK(ward_agent_layer_open(&L, ct, ct_size, &key, &tar, &tar_size, &err), &err);
		int fd = scratch();
		struct ward_unpack_stats st = {0};
		CHECK(fd >= 0);
		CHECK_OK(ward_unpack_tar(fd, tar, tar_size, NULL, &st, &err), &err);
		CHECK(st.entries > 0);
		scratch_done(fd);
		/* the other key type cannot open it */
		jk.count = 0;
		CHECK_ERR(ward_agent_jwe_layer_key(&jk, &L, &key, &err), -WARD_E_NOT_FOUND);
	}
}

WARD_TEST(skopeo_ocicrypt_layers)
{
	skopeo_case(ward_test_failed_, "encrypted-ecp256", "ecp256-priv.pem");
	skopeo_case(ward_test_failed_, "encrypted-rsa", "rsa2048-priv.pem");
}

WARD_TEST(privopts_and_jwe_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_layer_key key;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k1 = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k2 = NULL;
	WARD_AUTOJSON json_t *jwe = NULL;
	WARD_AUTOFREE char *txt = NULL, *b64 = NULL;
	const char *po = "{\"symkey\":\"VmVyeSBzZWNyZXQga2V5IG1hdGVyaWFsIDMyIGJ5dGU=\","
			 "\"digest\":\"sha256:"
			 "4fc5f6965ff0941c4cdce6287d5a2eb84f5de0673ca62a9f7000121807ada3d5\","
			 "\"cipheroptions\":{\"nonce\":\"ae6bwOxijBxazDE8nHCwqw==\"}}";
	struct ward_agent_layer L = {.encrypted_digest = "sha256:x"};

	CHECK_OK(ward_agent_privopts_parse(po, strlen(po), &key, &err), &err);
	CHECK_MEM(key.symkey, "Very secret key material 32 byte", 32);
	CHECK_ERR(ward_agent_privopts_parse("{\"symkey\":\"AA==\"}", 17, &key, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_agent_privopts_parse("[]", 2, &key, &err), -WARD_E_MALFORMED);

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &k1, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &k2, &err), &err);
	CHECK_OK(ward_jwe_encrypt(k1, WARD_JWE_ECDH_ES_A256KW, po, strlen(po), &jwe, &err), &err);
	CHECK_OK(ward_json_dump(jwe, &txt, &err), &err);
	b64 = ward_base64_encode_alloc(txt, strlen(txt));
	L.keys_jwe = b64;
	struct ward_pkey *both[2] = {k2, k1};
	struct ward_agent_jwe_keys jk = {both, 2};
	CHECK_OK(ward_agent_jwe_layer_key(&jk, &L, &key, &err), &err); /* the second key opens it */
	CHECK_STR(key.digest,
		  "sha256:4fc5f6965ff0941c4cdce6287d5a2eb84f5de0673ca62a9f7000121807ada3d5");
	jk.count = 1; /* only k2 */
	CHECK_ERR(ward_agent_jwe_layer_key(&jk, &L, &key, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "no key opens");
	L.keys_jwe = NULL;
	CHECK_ERR(ward_agent_jwe_layer_key(&jk, &L, &key, &err), -WARD_E_NOT_FOUND);
	L.keys_jwe = "!!!";
	CHECK(ward_agent_jwe_layer_key(&jk, &L, &key, &err) < 0);
}

WARD_TEST_MAIN()
