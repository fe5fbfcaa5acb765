/* SPDX-License-Identifier: Apache-2.0 */
/* DEVELOPMENT STAND-IN for the coordinator's volume-freshness endpoint: a
 * text file outside the backing directory listing, per volume, the latest
 * registered version and root hash. It only helps against a host that
 * rolls back the backing directory but not this file; the coordinator
 * endpoint (issue [coordinator]) replaces it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/util.h"
#include "ward/vol.h"

#define REGISTRY_MAX_SIZE (1u << 20)
#define LINE_SIZE (32 + 1 + 20 + 1 + 64 + 1)

struct file_registry {
	struct ward_vol_registry reg;
	char *path; /* owned */
};

static int unhex(const uint8_t *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			uint8_t c = s[2 * i + k];

			if (c >= '0' && c <= '9')
				v = v * 16 + (c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

int ward_vol_registry_parse(const uint8_t *buf, size_t size, const uint8_t id[WARD_VOL_ID_SIZE],
			    bool *ret_found, uint64_t *ret_version,
			    uint8_t ret_root[WARD_VOL_ROOT_SIZE], struct ward_err *err)
{
	size_t pos = 0, line = 0;
	bool found = false;

	while (pos < size) {
		const uint8_t *nl = memchr(buf + pos, '\n', size - pos);
		const uint8_t *l = buf + pos, *sp1, *sp2;
		size_t len;
		uint8_t lid[16], root[32];
		char num[21];
		uint64_t version;

		line++;
		if (!nl)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "registry line %zu: no newline", line);
		len = (size_t)(nl - l);
		pos += len + 1;
		sp1 = memchr(l, ' ', len);
		if (!sp1 || sp1 - l != 32)
			return ward_err_set(err, -WARD_E_MALFORMED, "registry line %zu: bad id",
					    line);
		sp2 = memchr(sp1 + 1, ' ', len - 33);
		if (!sp2 || sp2 - sp1 - 1 < 1 || sp2 - sp1 - 1 > 20 || nl - sp2 - 1 != 64)
			return ward_err_set(err, -WARD_E_MALFORMED, "registry line %zu: malformed",
					    line);
		memcpy(num, sp1 + 1, (size_t)(sp2 - sp1 - 1));
		num[sp2 - sp1 - 1] = 0;
		if (unhex(l, 16, lid) < 0 || unhex(sp2 + 1, 32, root) < 0 ||
		    ward_parse_u64(num, &version) < 0 || version == 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "registry line %zu: malformed",
					    line);
		if (memcmp(lid, id, 16) == 0) {
			if (found)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "registry lists the volume twice");
			found = true;
			*ret_version = version;
			memcpy(ret_root, root, 32);
		}
	}
	*ret_found = found;
	return 0;
}

static void hexs(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int read_registry(const char *path, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	int r = ward_file_read(path, REGISTRY_MAX_SIZE, ret, ret_size, err);

	if (r == -ENOENT) {
		ward_err_clear(err);
		*ret = NULL;
		*ret_size = 0;
		return 0;
	}
	return r < 0 ? ward_err_prefix(err, "registry '%s'", path) : 0;
}

static int fr_get(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t *ret_version,
		  uint8_t ret_root[WARD_VOL_ROOT_SIZE], struct ward_err *err)
{
	struct file_registry *fr = ctx;
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	bool found;
	int r;

	r = read_registry(fr->path, &buf, &size, err);
	if (r < 0)
		return r;
	r = ward_vol_registry_parse(buf, size, id, &found, ret_version, ret_root, err);
	if (r < 0)
		return ward_err_prefix(err, "registry '%s'", fr->path);
	if (!found)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "volume not registered");
	return 0;
}

static int fr_put(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t version,
		  const uint8_t root[WARD_VOL_ROOT_SIZE], struct ward_err *err)
{
	struct file_registry *fr = ctx;
	WARD_AUTOFREE uint8_t *buf = NULL;
	WARD_AUTOFREE char *out = NULL;
	size_t size, pos = 0, o = 0;
	char idhex[33];
	int r;

	r = read_registry(fr->path, &buf, &size, err);
	if (r < 0)
		return r;
	out = malloc(size + LINE_SIZE + 1);
	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	hexs(id, 16, idhex);
	/* Keep every other volume's line as it is. */
	while (pos < size) {
		const uint8_t *nl = memchr(buf + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (buf + pos)) + 1 : size - pos;

		if (!(len >= 32 && memcmp(buf + pos, idhex, 32) == 0)) {
			memcpy(out + o, buf + pos, len);
			o += len;
		}
		pos += len;
	}
	o += (size_t)sprintf(out + o, "%s %llu ", idhex, (unsigned long long)version);
	hexs(root, 32, out + o);
	o += 64;
	out[o++] = '\n';
	r = ward_file_write_atomic(fr->path, out, o, 0600, err);
	if (r < 0)
		return ward_err_prefix(err, "registry '%s'", fr->path);
	return 0;
}

int ward_vol_registry_file(const char *path, struct ward_vol_registry **ret, struct ward_err *err)
{
	struct file_registry *fr = calloc(1, sizeof(*fr));

	if (!fr || !(fr->path = strdup(path))) {
		free(fr);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	fr->reg.ctx = fr;
	fr->reg.get = fr_get;
	fr->reg.put = fr_put;
	*ret = &fr->reg;
	return 0;
}

struct ward_vol_registry *ward_vol_registry_file_free(struct ward_vol_registry *r)
{
	if (!r)
		return NULL;
	struct file_registry *fr = r->ctx;

	free(fr->path);
	free(fr);
	return NULL;
}
