/* SPDX-License-Identifier: Apache-2.0 */
/* Test fixture shared by lib/image's rootfs tests: ustar layers built by
 * hand in memory, and an OCI layout holding them (uncompressed). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ward/crypto.h"
#include "ward/file.h"
#include "ward/image.h"

struct tarbuf {
	uint8_t *data;
	size_t size, cap;
};

static inline void tb_reserve(struct tarbuf *t, size_t more)
{
	if (t->size + more <= t->cap)
		return;
	t->cap = (t->size + more) * 2;
	t->data = realloc(t->data, t->cap);
	if (!t->data)
		abort();
}

/* One ustar member: body_size bytes of body, link for types '1' and '2'. */
static inline void tar_entry(struct tarbuf *t, const char *name, char type, unsigned mode,
			     unsigned uid, unsigned gid, const void *body, size_t body_size,
			     const char *link, int64_t mtime)
{
	uint8_t *h;
	unsigned sum = 0;

	tb_reserve(t, 512 + body_size + 512);
	h = t->data + t->size;
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", uid);
	snprintf((char *)h + 116, 8, "%07o", gid);
	snprintf((char *)h + 124, 12, "%011zo", body_size);
	snprintf((char *)h + 136, 12, "%011llo", (unsigned long long)mtime);
	h[156] = (uint8_t)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	t->size += 512;
	if (body_size) {
		memcpy(t->data + t->size, body, body_size);
		memset(t->data + t->size + body_size, 0, (512 - body_size % 512) % 512);
		t->size += (body_size + 511) / 512 * 512;
	}
}

/* The short form: uid = gid; body_or_link is a regular file's text or a
 * link's target. */
static inline void tar_add(struct tarbuf *t, const char *name, char type, unsigned mode,
			   unsigned uid, const char *body_or_link, int64_t mtime)
{
	bool link = type == '1' || type == '2';
	size_t body = type == '0' && body_or_link ? strlen(body_or_link) : 0;

	tar_entry(t, name, type, mode, uid, uid, body_or_link, body,
		  link ? body_or_link : NULL, mtime);
}

static inline void tar_end(struct tarbuf *t)
{
	tb_reserve(t, 1024);
	memset(t->data + t->size, 0, 1024);
	t->size += 1024;
}

static inline void put_blob(const char *dir, const void *data, size_t size, char digest[72])
{
	char hex[65], path[512];

	if (ward_sha256_hex(data, size, hex, NULL) < 0)
		abort();
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, hex);
	if (ward_file_write_atomic(path, data, size, 0644, NULL) < 0)
		abort();
}

/* Write an OCI layout at dir (made if missing) with these layers. If
 * bad_digest, layer 0's blob no longer matches its digest. */
static inline void write_layout(const char *dir, struct tarbuf *const *layers, size_t n,
				bool bad_digest)
{
	char cfg[4096], man[4096], idx[1024], d[72], cd[72], md[72], path[512];
	char diff[8][72];
	size_t off;

	if (n > 8)
		abort();
	(void)mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		abort();
	off = (size_t)snprintf(cfg, sizeof(cfg),
			       "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
			       "[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (size_t i = 0; i < n; i++) {
		put_blob(dir, layers[i]->data, layers[i]->size, diff[i]);
		off += (size_t)snprintf(cfg + off, sizeof(cfg) - off, "%s\"%s\"", i ? "," : "",
					diff[i]);
	}
	snprintf(cfg + off, sizeof(cfg) - off, "]}}");
	put_blob(dir, cfg, strlen(cfg), cd);
	off = (size_t)snprintf(man, sizeof(man),
			       "{\"schemaVersion\":2,\"mediaType\":\"" WARD_MT_OCI_MANIFEST
			       "\",\"config\":{\"mediaType\":\"" WARD_MT_OCI_CONFIG
			       "\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[",
			       cd, strlen(cfg));
	for (size_t i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "%s", diff[i]);
		if (bad_digest && i == 0) {
			/* same size, one byte of the end-of-archive padding changed: the
			 * tar still reads, only the digest tells */
			FILE *fp;

			snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, d + 7);
			fp = fopen(path, "r+e");
			if (!fp || fseek(fp, -1, SEEK_END) < 0 || fputc(1, fp) == EOF || fclose(fp))
				abort();
		}
		off += (size_t)snprintf(man + off, sizeof(man) - off,
					"%s{\"mediaType\":\"" WARD_MT_OCI_LAYER_TAR
					"\",\"digest\":\"%s\",\"size\":%zu}",
					i ? "," : "", d, layers[i]->size);
	}
	snprintf(man + off, sizeof(man) - off, "]}");
	put_blob(dir, man, strlen(man), md);
	snprintf(idx, sizeof(idx),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" WARD_MT_OCI_MANIFEST
		 "\",\"digest\":\"%s\",\"size\":%zu}]}",
		 md, strlen(man));
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (ward_file_write_atomic(path, idx, strlen(idx), 0644, NULL) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	if (ward_file_write_atomic(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644, NULL) < 0)
		abort();
}

