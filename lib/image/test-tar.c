/* SPDX-License-Identifier: Apache-2.0 */
/* Tar entry checks: paths, links, devices, sizes, checksums, pax and GNU
 * long names, truncation, and chunked feeding. */
#include <string.h>

#include "image-internal.h"
#include "ward-test.h"

struct tb {
	uint8_t buf[64 * 512];
	size_t size;
};

/* Append a header (computed checksum) with optional body. */
static void tb_add(struct tb *t, const char *name, char type, const char *link, const void *body,
		   size_t body_size)
{
	uint8_t *h = t->buf + t->size;
	struct ward_err err = WARD_ERR_INIT;
	unsigned sum = 0;

	if (img_tar_header(h, name, type, 0644, body_size, 0, &err) < 0)
		abort();
	if (link) {
		memcpy(h + 157, link, strlen(link));
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
		h[155] = ' ';
	}
	t->size += 512;
	if (body_size) {
		memcpy(t->buf + t->size, body, body_size);
		t->size += (body_size + 511) / 512 * 512;
	}
}

static void tb_end(struct tb *t)
{
	memset(t->buf + t->size, 0, 1024);
	t->size += 1024;
}

static void fix_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* A pax record "LEN key=value\n" with the correct LEN. */
static int pax_rec(char *out, size_t size, const char *kv)
{
	size_t body = strlen(kv) + 2, len = body + 1;

	while ((size_t)snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	return snprintf(out, size, "%zu %s\n", len, kv);
}

static int check(const struct tb *t, size_t chunk, struct ward_err *err)
{
	WARD_CLEANUP(ward_tar_check_freep) struct ward_tar_check *c = NULL;
	int r = ward_tar_check_new(NULL, &c, err);

	if (r < 0)
		return r;
	for (size_t off = 0; off < t->size; off += chunk) {
		size_t n = t->size - off < chunk ? t->size - off : chunk;

		r = ward_tar_check_feed(c, t->buf + off, n, err);
		if (r < 0)
			return r;
	}
	return ward_tar_check_finish(c, err);
}

WARD_TEST(path_check)
{
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(ward_tar_path_check("etc/passwd", 10, &err), &err);
	CHECK_OK(ward_tar_path_check("./etc/passwd", 12, &err), &err);
	CHECK_OK(ward_tar_path_check("./", 2, &err), &err);
	CHECK_OK(ward_tar_path_check(".", 1, &err), &err);
	CHECK_OK(ward_tar_path_check("usr/bin/", 8, &err), &err);
	CHECK_OK(ward_tar_path_check("a..b/..c", 8, &err), &err);
	CHECK_ERR(ward_tar_path_check("/etc/passwd", 11, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "absolute");
	CHECK_ERR(ward_tar_path_check("../etc", 6, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "escapes");
	CHECK_ERR(ward_tar_path_check("a/../../b", 9, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_tar_path_check("./..", 4, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_tar_path_check("a//b", 4, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_tar_path_check("a/./b", 5, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_tar_path_check("", 0, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_tar_path_check("a\0b", 3, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "NUL");
}

WARD_TEST(valid_stream_any_chunking)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;
	static const size_t chunks[] = {1, 7, 511, 512, 513, 100000};

	t.size = 0;
	tb_add(&t, "./", '5', NULL, NULL, 0);
	tb_add(&t, "./bin/", '5', NULL, NULL, 0);
	tb_add(&t, "./bin/busybox", '0', NULL, "hello world", 11);
	tb_add(&t, "./bin/sh", '2', "busybox", NULL, 0);
	tb_add(&t, "./bin/ls", '2', "/bin/busybox", NULL, 0);
	tb_add(&t, "./usr/lib/x", '2', "../../bin/busybox", NULL, 0);
	tb_add(&t, "./bin/cat", '1', "./bin/busybox", NULL, 0);
	tb_add(&t, "./run/fifo", '6', NULL, NULL, 0);
	tb_end(&t);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		CHECK_OK(check(&t, chunks[i], &err), &err);
	/* no end-of-archive blocks (some Go writers) is accepted */
	t.size -= 1024;
	CHECK_OK(check(&t, 512, &err), &err);
}

WARD_TEST(hostile_paths)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;

	t.size = 0;
	tb_add(&t, "../etc/passwd", '0', NULL, "x", 1);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "escapes");
	t.size = 0;
	tb_add(&t, "/etc/passwd", '0', NULL, "x", 1);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "absolute");
}

WARD_TEST(link_escapes)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;

	t.size = 0;
	tb_add(&t, "a/link", '2', "../../etc/shadow", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "symlink");
	t.size = 0;
	tb_add(&t, "link", '2', "..", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	t.size = 0;
	tb_add(&t, "link", '2', "", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	t.size = 0;
	tb_add(&t, "hard", '1', "../outside", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "hard link");
	t.size = 0;
	tb_add(&t, "hard", '1', "/etc/passwd", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
}

WARD_TEST(devices)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_tar_check_freep) struct ward_tar_check *c = NULL;
	struct ward_tar_check_opts o = {.allow_devices = true};
	static struct tb t;

	t.size = 0;
	tb_add(&t, "dev/sda", '4', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "device node");
	t.size = 0;
	tb_add(&t, "dev/null", '3', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_POLICY);
	CHECK_OK(ward_tar_check_new(&o, &c, &err), &err);
	CHECK_OK(ward_tar_check_feed(c, t.buf, t.size, &err), &err);
	CHECK_OK(ward_tar_check_finish(c, &err), &err);
	CHECK_INT(ward_tar_check_entries(c), ==, 1);
}

WARD_TEST(sizes)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_tar_check_freep) struct ward_tar_check *c = NULL;
	struct ward_tar_check_opts o = {.max_entry_size = 10};
	static struct tb t;

	/* negative base-256 size */
	t.size = 0;
	tb_add(&t, "f", '0', NULL, NULL, 0);
	memset(t.buf + 124, 0xff, 12);
	fix_checksum(t.buf);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "negative");
	/* base-256 positive size beyond the limit */
	t.size = 0;
	tb_add(&t, "f", '0', NULL, NULL, 0);
	memset(t.buf + 124, 0, 12);
	t.buf[124] = 0x80;
	t.buf[128] = 0x7f; /* ~ 2^63 */
	fix_checksum(t.buf);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_TOO_BIG);
	/* garbage in the octal field */
	t.size = 0;
	tb_add(&t, "f", '0', NULL, NULL, 0);
	memcpy(t.buf + 124, "12x4", 4);
	fix_checksum(t.buf);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	/* configured maximum */
	t.size = 0;
	tb_add(&t, "f", '0', NULL, "0123456789a", 11);
	tb_end(&t);
	CHECK_OK(ward_tar_check_new(&o, &c, &err), &err);
	CHECK_ERR(ward_tar_check_feed(c, t.buf, t.size, &err), -WARD_E_TOO_BIG);
}

WARD_TEST(checksum_and_garbage)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;

	t.size = 0;
	tb_add(&t, "f", '0', NULL, "abc", 3);
	t.buf[0] = 'g'; /* name changed, checksum stale */
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "checksum");
	t.size = 0;
	tb_add(&t, "f", '0', NULL, "abc", 3);
	tb_end(&t);
	t.buf[t.size - 1] = 1; /* data after the end marker */
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "after the end");
	t.size = 0;
	tb_add(&t, "f", 'S', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_UNSUPPORTED);
}

WARD_TEST(truncated)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;
	size_t full;

	t.size = 0;
	tb_add(&t, "f", '0', NULL, "hello", 5);
	full = t.size;
	for (size_t cut = 1; cut < full; cut += 37) {
		t.size = cut;
		CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "truncated");
	}
	t.size = 0;
	CHECK_OK(check(&t, 512, &err), &err); /* empty stream: no entries */
}

WARD_TEST(pax_and_gnu_long_names)
{
	struct ward_err err = WARD_ERR_INIT;
	static struct tb t;
	char rec[256];
	char longname[300];
	int n;

	/* pax path with ".." overrides a harmless ustar name */
	n = pax_rec(rec, sizeof(rec), "path=../../x");
	t.size = 0;
	tb_add(&t, "PaxHeaders/x", 'x', NULL, rec, (size_t)n);
	tb_add(&t, "x", '0', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	/* a good pax path */
	n = pax_rec(rec, sizeof(rec), "path=a/b/c");
	t.size = 0;
	tb_add(&t, "PaxHeaders/x", 'x', NULL, rec, (size_t)n);
	tb_add(&t, "x", '0', NULL, NULL, 0);
	tb_end(&t);
	CHECK_OK(check(&t, 3, &err), &err);
	/* pax record with a wrong length */
	n = snprintf(rec, sizeof(rec), "%d path=a/b/c\n", 99);
	t.size = 0;
	tb_add(&t, "PaxHeaders/x", 'x', NULL, rec, (size_t)n);
	tb_add(&t, "x", '0', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	/* pax negative size */
	n = pax_rec(rec, sizeof(rec), "size=-5");
	t.size = 0;
	tb_add(&t, "PaxHeaders/x", 'x', NULL, rec, (size_t)n);
	tb_add(&t, "x", '0', NULL, NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	/* GNU long name, 250 characters, then a long link name escaping */
	memset(longname, 'a', 250);
	longname[250] = '\0';
	t.size = 0;
	tb_add(&t, "././@LongLink", 'L', NULL, longname, 251);
	tb_add(&t, "aaaa", '0', NULL, NULL, 0);
	tb_end(&t);
	CHECK_OK(check(&t, 512, &err), &err);
	t.size = 0;
	tb_add(&t, "././@LongLink", 'K', NULL, "../../../../../etc", 19);
	tb_add(&t, "l", '2', "x", NULL, 0);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
	/* a long name header right before the end */
	t.size = 0;
	tb_add(&t, "././@LongLink", 'L', NULL, longname, 251);
	tb_end(&t);
	CHECK_ERR(check(&t, 512, &err), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
