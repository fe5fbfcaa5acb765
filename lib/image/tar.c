/* SPDX-License-Identifier: Apache-2.0 */
/* Tar entry checks for untrusted layers: a path helper and a streaming
 * header parser (ustar, GNU long names, pax) fed with arbitrary chunks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/image.h"

#define TAR_BLOCK 512
#define TAR_META_MAX (1u << 20) /* pax header or GNU long name body */

/* Strip leading "./" (tar -C DIR . writes "./etc/passwd") and one trailing
 * "/" of a directory. Returns the length of the core path, *start its start. */
static size_t tar_path_core(const char *path, size_t size, size_t *start)
{
	size_t s = 0;

	while (size - s >= 2 && path[s] == '.' && path[s + 1] == '/')
		s += 2;
	while (size > s && path[size - 1] == '/' && size - s > 1)
		size--;
	*start = s;
	return size - s;
}

int ward_tar_path_check(const char *path, size_t size, struct ward_err *err)
{
	char buf[WARD_PATH_MAX + 1];
	size_t start, n;

	if (size > WARD_PATH_MAX)
		return ward_err_set(err, -WARD_E_MALFORMED, "path longer than %u bytes",
				    WARD_PATH_MAX);
	if (memchr(path, '\0', size))
		return ward_err_set(err, -WARD_E_MALFORMED, "path contains NUL");
	if (size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "empty path");
	if (path[0] == '/')
		return ward_err_set(err, -WARD_E_MALFORMED, "'%.*s' is an absolute path",
				    (int)(size > 200 ? 200 : size), path);
	n = tar_path_core(path, size, &start);
	/* the root itself: "." or "./" */
	if ((n == 1 && path[start] == '.') || n == 0)
		return 0;
	memcpy(buf, path + start, n);
	buf[n] = '\0';
	if (!ward_path_is_safe_relative(buf))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "'%.200s' escapes the root (\"..\", \".\" or empty component)",
				    buf);
	return 0;
}

/* Would a relative symlink at entry path (checked safe) with this target
 * leave the root, evaluated lexically? Absolute targets are interpreted
 * inside the container root by runtimes and are accepted. */
static bool symlink_escapes(const char *path, size_t path_size, const char *target,
			    size_t target_size)
{
	size_t start, n, depth = 0;
	const char *p, *end;

	if (target_size == 0)
		return true;
	if (target[0] == '/')
		return false;
	n = tar_path_core(path, path_size, &start);
	/* depth of the directory holding the link = components - 1 */
	for (size_t i = start; i < start + n; i++)
		if (path[i] == '/')
			depth++;
	p = target;
	end = target + target_size;
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return true;
			depth--;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p += len + (slash ? 1 : 0);
	}
	return false;
}

enum tar_state {
	TAR_HEADER, /* collecting a 512-byte header */
	TAR_DATA,   /* skipping file data (+ padding) */
	TAR_META,   /* collecting a pax / GNU long-name body */
	TAR_END,    /* after the first zero block: only zeros may follow */
};

struct ward_tar_check {
	struct ward_tar_check_opts opts;
	enum tar_state state;
	uint8_t hdr[TAR_BLOCK];
	size_t hdr_fill;
	uint64_t skip;       /* bytes of data + padding left to skip */
	char meta_type;      /* 'x', 'g', 'L', 'K' while in TAR_META */
	uint8_t *meta;       /* owned: body being collected */
	size_t meta_size, meta_fill;
	uint64_t meta_pad;
	char *long_path;     /* owned: pending path from 'L' or pax */
	size_t long_path_size;
	char *long_link;     /* owned: pending link target from 'K' or pax */
	size_t long_link_size;
	bool pax_size_set;
	uint64_t pax_size;
	uint64_t entries;
	uint64_t offset; /* stream offset of the current header, for messages */
	uint64_t pos;
};

int ward_tar_check_new(const struct ward_tar_check_opts *opts, struct ward_tar_check **ret,
		       struct ward_err *err)
{
	struct ward_tar_check *t = calloc(1, sizeof(*t));

	if (!t)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (opts)
		t->opts = *opts;
	if (t->opts.max_entry_size == 0)
		t->opts.max_entry_size = WARD_IMAGE_LAYER_MAX_SIZE;
	*ret = t;
	return 0;
}

struct ward_tar_check *ward_tar_check_free(struct ward_tar_check *t)
{
	if (!t)
		return NULL;
	free(t->meta);
	free(t->long_path);
	free(t->long_link);
	free(t);
	return NULL;
}

uint64_t ward_tar_check_entries(const struct ward_tar_check *t)
{
	return t->entries;
}

/* Octal or GNU base-256 numeric field. Negative base-256 values fail. */
static int tar_number(const uint8_t *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1; /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -1;
			v = (v << 8) | f[i];
		}
		*ret = v;
		return 0;
	}
	while (i < n && f[i] == ' ')
		i++;
	if (i == n || f[i] < '0' || f[i] > '7') {
		/* an all-NUL field is zero */
		for (size_t k = i; k < n; k++)
			if (f[k] != 0)
				return -1;
		*ret = 0;
		return 0;
	}
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*ret = v;
	return 0;
}

static bool block_is_zero(const uint8_t *b)
{
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

static int set_owned(char **dst, size_t *dst_size, const void *src, size_t size)
{
	char *c = malloc(size + 1);

	if (!c)
		return -ENOMEM;
	memcpy(c, src, size);
	c[size] = '\0';
	free(*dst);
	*dst = c;
	*dst_size = size;
	return 0;
}

/* Parse pax records "LEN key=value\n" and keep path, linkpath, size. */
static int tar_pax_parse(struct ward_tar_check *t, bool global, struct ward_err *err)
{
	size_t off = 0;

	while (off < t->meta_fill) {
		size_t len = 0, i = off, klen;
		const char *rec, *eq;

		while (i < t->meta_fill && t->meta[i] >= '0' && t->meta[i] <= '9' && i - off < 10) {
			len = len * 10 + (size_t)(t->meta[i] - '0');
			i++;
		}
		if (i == off || i >= t->meta_fill || t->meta[i] != ' ' || len <= i - off + 1 ||
		    len > t->meta_fill - off || t->meta[off + len - 1] != '\n')
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "tar pax header at offset %llu: malformed record",
					    (unsigned long long)t->offset);
		rec = (const char *)t->meta + i + 1;
		klen = off + len - 1 - (i + 1); /* key=value without newline */
		eq = memchr(rec, '=', klen);
		if (!eq)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "tar pax header at offset %llu: record without '='",
					    (unsigned long long)t->offset);
		{
			size_t kl = (size_t)(eq - rec), vl = klen - kl - 1;
			const char *v = eq + 1;

			if (global && ((kl == 4 && !memcmp(rec, "path", 4)) ||
				       (kl == 8 && !memcmp(rec, "linkpath", 8)) ||
				       (kl == 4 && !memcmp(rec, "size", 4))))
				return ward_err_set(err, -WARD_E_UNSUPPORTED,
						    "tar global pax header sets '%.*s'", (int)kl, rec);
			if (kl == 4 && !memcmp(rec, "path", 4)) {
				if (set_owned(&t->long_path, &t->long_path_size, v, vl) < 0)
					return ward_err_set(err, -ENOMEM, "out of memory");
			} else if (kl == 8 && !memcmp(rec, "linkpath", 8)) {
				if (set_owned(&t->long_link, &t->long_link_size, v, vl) < 0)
					return ward_err_set(err, -ENOMEM, "out of memory");
			} else if (kl == 4 && !memcmp(rec, "size", 4)) {
				uint64_t s = 0;

				if (vl == 0 || vl > 20)
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "tar pax size is malformed");
				for (size_t k = 0; k < vl; k++) {
					if (v[k] < '0' || v[k] > '9' || s > UINT64_MAX / 10)
						return ward_err_set(err, -WARD_E_MALFORMED,
								    "tar pax size is malformed "
								    "or negative");
					s = s * 10 + (uint64_t)(v[k] - '0');
				}
				t->pax_size_set = true;
				t->pax_size = s;
			}
		}
		off += len;
	}
	return 0;
}

static int tar_header(struct ward_tar_check *t, struct ward_err *err)
{
	const uint8_t *h = t->hdr;
	uint64_t chk, size, sum_u = 0;
	int64_t sum_s = 0;
	char type = (char)h[156];
	char name[256 + 2];
	size_t name_size;
	const char *path, *link;
	size_t path_size, link_size;
	int r;

	if (block_is_zero(h)) {
		if (t->long_path || t->long_link || t->pax_size_set)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "tar: end of archive right after a long-name/pax header");
		t->state = TAR_END;
		return 0;
	}
	if (tar_number(h + 148, 8, &chk) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "tar header at offset %llu: bad checksum field",
				    (unsigned long long)t->offset);
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
		sum_u += c;
		sum_s += (int8_t)c;
	}
	if (chk != sum_u && (int64_t)chk != sum_s)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "tar header at offset %llu: checksum mismatch (not a tar "
				    "stream, or corrupted)",
				    (unsigned long long)t->offset);
	if (tar_number(h + 124, 12, &size) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "tar header at offset %llu: size field malformed or negative",
				    (unsigned long long)t->offset);

	if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
		if (size > TAR_META_MAX)
			return ward_err_set(err, -WARD_E_TOO_BIG,
					    "tar header at offset %llu: %s body of %llu bytes "
					    "exceeds %u",
					    (unsigned long long)t->offset,
					    type == 'x' || type == 'g' ? "pax" : "long-name",
					    (unsigned long long)size, TAR_META_MAX);
		t->meta = malloc(size ? size : 1);
		if (!t->meta)
			return ward_err_set(err, -ENOMEM, "out of memory");
		t->meta_type = type;
		t->meta_size = size;
		t->meta_fill = 0;
		t->meta_pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
		t->state = TAR_META;
		return 0;
	}

	/* the entry's path: pending long name, else prefix + "/" + name */
	if (t->long_path) {
		path = t->long_path;
		path_size = t->long_path_size;
	} else {
		size_t nl = strnlen((const char *)h, 100), pl = 0;
		bool ustar = memcmp(h + 257, "ustar\0", 6) == 0;

		if (ustar)
			pl = strnlen((const char *)h + 345, 155);
		name_size = 0;
		if (pl) {
			memcpy(name, h + 345, pl);
			name[pl] = '/';
			name_size = pl + 1;
		}
		memcpy(name + name_size, h, nl);
		name_size += nl;
		name[name_size] = '\0';
		path = name;
		path_size = name_size;
	}
	if (t->long_link) {
		link = t->long_link;
		link_size = t->long_link_size;
	} else {
		link = (const char *)h + 157;
		link_size = strnlen(link, 100);
	}
	if (t->pax_size_set)
		size = t->pax_size;

	r = ward_tar_path_check(path, path_size, err);
	if (r < 0)
		return ward_err_prefix(err, "tar entry %llu", (unsigned long long)t->entries + 1);

	switch (type) {
	case '0':
	case '\0':
	case '7':
	case '5':
		break;
	case '1':
		r = ward_tar_path_check(link, link_size, err);
		if (r < 0)
			return ward_err_prefix(err, "hard link '%.100s'", path);
		size = 0;
		break;
	case '2':
		if (memchr(link, '\0', link_size) ||
		    symlink_escapes(path, path_size, link, link_size))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "symlink '%.100s' -> '%.100s' escapes the root", path,
					    link);
		size = 0;
		break;
	case '3':
	case '4':
		if (!t->opts.allow_devices)
			return ward_err_set(err, -WARD_E_POLICY,
					    "tar entry '%.200s' is a device node (not allowed in a "
					    "layer)",
					    path);
		size = 0;
		break;
	case '6':
		size = 0;
		break;
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "tar entry '%.200s' has unsupported type '%c' (0x%02x)", path,
				    type >= 0x20 && type < 0x7f ? type : '?', (unsigned)(uint8_t)type);
	}
	if (size > t->opts.max_entry_size)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "tar entry '%.200s' size %llu exceeds the limit %llu", path,
				    (unsigned long long)size,
				    (unsigned long long)t->opts.max_entry_size);

	free(t->long_path);
	t->long_path = NULL;
	free(t->long_link);
	t->long_link = NULL;
	t->pax_size_set = false;
	t->entries++;
	t->skip = size + (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	t->state = t->skip ? TAR_DATA : TAR_HEADER;
	return 0;
}

static int tar_meta_done(struct ward_tar_check *t, struct ward_err *err)
{
	int r = 0;

	switch (t->meta_type) {
	case 'x':
		r = tar_pax_parse(t, false, err);
		break;
	case 'g':
		r = tar_pax_parse(t, true, err);
		break;
	case 'L':
	case 'K': {
		size_t n = strnlen((const char *)t->meta, t->meta_fill);

		if (set_owned(t->meta_type == 'L' ? &t->long_path : &t->long_link,
			      t->meta_type == 'L' ? &t->long_path_size : &t->long_link_size,
			      t->meta, n) < 0)
			r = ward_err_set(err, -ENOMEM, "out of memory");
		break;
	}
	}
	free(t->meta);
	t->meta = NULL;
	if (r < 0)
		return r;
	t->skip = t->meta_pad;
	t->state = t->skip ? TAR_DATA : TAR_HEADER;
	return 0;
}

int ward_tar_check_feed(struct ward_tar_check *t, const void *data, size_t size,
			struct ward_err *err)
{
	const uint8_t *p = data;
	int r;

	while (size > 0) {
		switch (t->state) {
		case TAR_HEADER: {
			size_t n = TAR_BLOCK - t->hdr_fill;

			if (n > size)
				n = size;
			memcpy(t->hdr + t->hdr_fill, p, n);
			t->hdr_fill += n;
			p += n;
			size -= n;
			t->pos += n;
			if (t->hdr_fill == TAR_BLOCK) {
				t->hdr_fill = 0;
				r = tar_header(t, err);
				if (r < 0)
					return r;
				t->offset = t->pos;
			}
			break;
		}
		case TAR_DATA: {
			uint64_t n = t->skip < size ? t->skip : size;

			t->skip -= n;
			p += n;
			size -= (size_t)n;
			t->pos += n;
			if (t->skip == 0) {
				t->state = TAR_HEADER;
				t->offset = t->pos;
			}
			break;
		}
		case TAR_META: {
			size_t n = t->meta_size - t->meta_fill;

			if (n > size)
				n = size;
			memcpy(t->meta + t->meta_fill, p, n);
			t->meta_fill += n;
			p += n;
			size -= n;
			t->pos += n;
			if (t->meta_fill == t->meta_size) {
				r = tar_meta_done(t, err);
				if (r < 0)
					return r;
			}
			break;
		}
		case TAR_END:
			for (size_t i = 0; i < size; i++)
				if (p[i])
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "tar: data after the end-of-archive "
							    "marker at offset %llu",
							    (unsigned long long)(t->pos + i));
			t->pos += size;
			size = 0;
			break;
		}
	}
	return 0;
}

int ward_tar_check_finish(struct ward_tar_check *t, struct ward_err *err)
{
	if (t->state == TAR_END || (t->state == TAR_HEADER && t->hdr_fill == 0)) {
		if (t->long_path || t->long_link || t->pax_size_set)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "tar: stream ends after a long-name/pax header");
		return 0;
	}
	return ward_err_set(err, -WARD_E_MALFORMED,
			    "tar: stream truncated inside an entry (at offset %llu)",
			    (unsigned long long)t->pos);
}
