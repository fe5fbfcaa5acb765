/* SPDX-License-Identifier: Apache-2.0 */
/* On-disk formats of a protected volume: the volume header, the metadata
 * envelope and the namespace (inode table + directories) inside it. See
 * docs/volumes.md. Every parser reads through a bounded cursor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vol-internal.h"
#include "ward/cleanup.h"
#include "ward/cursor.h"

static const uint8_t header_magic[8] = {'W', 'A', 'R', 'D', 'V', 'O', 'L', 0};
static const uint8_t meta_magic[8] = {'W', 'A', 'R', 'D', 'M', 'E', 'T', 'A'};

#define INODE_FIXED_SIZE 49
#define NS_FIXED_SIZE 12

static bool block_size_valid(uint32_t bs)
{
	return bs >= WARD_VOL_BLOCK_MIN && bs <= WARD_VOL_BLOCK_MAX && (bs & (bs - 1)) == 0;
}

void vol_header_encode(const struct ward_vol_header *h, uint8_t out[WARD_VOL_HEADER_SIZE])
{
	memcpy(out, header_magic, 8);
	vol_put_u32(out + 8, h->format);
	vol_put_u32(out + 12, h->block_size);
	memcpy(out + 16, h->id, WARD_VOL_ID_SIZE);
	vol_put_u64(out + 32, h->created);
	memcpy(out + 40, h->key_check, 32);
}

int ward_vol_header_parse(const uint8_t *buf, size_t size, struct ward_vol_header *ret,
			  struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size);
	struct ward_vol_header h;
	const uint8_t *magic;

	if (size != WARD_VOL_HEADER_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "volume header is %zu bytes, expected %d", size,
				    WARD_VOL_HEADER_SIZE);
	if (ward_cur_take(&c, 8, &magic) < 0 || memcmp(magic, header_magic, 8) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "volume header: bad magic");
	if (ward_cur_u32le(&c, &h.format) < 0 || ward_cur_u32le(&c, &h.block_size) < 0 ||
	    ward_cur_copy(&c, h.id, sizeof(h.id)) < 0 || ward_cur_u64le(&c, &h.created) < 0 ||
	    ward_cur_copy(&c, h.key_check, sizeof(h.key_check)) < 0 || !ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "volume header truncated");
	if (h.format != VOL_FORMAT)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "volume format %u not supported",
				    h.format);
	if (!block_size_valid(h.block_size))
		return ward_err_set(err, -WARD_E_MALFORMED, "volume header: bad block size %u",
				    h.block_size);
	*ret = h;
	return 0;
}

void vol_meta_header_encode(const struct ward_vol_meta_header *h,
			    uint8_t out[WARD_VOL_META_HEADER_SIZE])
{
	memcpy(out, meta_magic, 8);
	vol_put_u32(out + 8, h->format);
	vol_put_u32(out + 12, h->block_size);
	memcpy(out + 16, h->id, WARD_VOL_ID_SIZE);
	vol_put_u64(out + 32, h->version);
	vol_put_u64(out + 40, h->plain_size);
	memcpy(out + 48, h->nonce, WARD_VOL_NONCE_SIZE);
}

int ward_vol_meta_header_parse(const uint8_t *buf, size_t size, struct ward_vol_meta_header *ret,
			       const uint8_t **ret_ct, const uint8_t **ret_tag,
			       struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size);
	struct ward_vol_meta_header h;
	const uint8_t *magic, *ct, *tag;

	if (ward_cur_take(&c, 8, &magic) < 0 || memcmp(magic, meta_magic, 8) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata: bad magic");
	if (ward_cur_u32le(&c, &h.format) < 0 || ward_cur_u32le(&c, &h.block_size) < 0 ||
	    ward_cur_copy(&c, h.id, sizeof(h.id)) < 0 || ward_cur_u64le(&c, &h.version) < 0 ||
	    ward_cur_u64le(&c, &h.plain_size) < 0 || ward_cur_copy(&c, h.nonce, sizeof(h.nonce)) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata header truncated");
	if (h.format != VOL_FORMAT)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "metadata format %u not supported",
				    h.format);
	if (!block_size_valid(h.block_size))
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata: bad block size %u",
				    h.block_size);
	if (h.version == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata: version 0");
	if (h.plain_size > WARD_VOL_META_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "metadata: %llu bytes exceeds the limit",
				    (unsigned long long)h.plain_size);
	if (ward_cur_take(&c, (size_t)h.plain_size, &ct) < 0 ||
	    ward_cur_take(&c, WARD_VOL_TAG_SIZE, &tag) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata truncated");
	if (!ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "metadata: %zu trailing bytes",
				    c.left);
	*ret = h;
	*ret_ct = ct;
	*ret_tag = tag;
	return 0;
}

/* ---- namespace hash table ---------------------------------------------- */

static size_t ino_hash(uint64_t ino, size_t nbuckets)
{
	ino *= 0x9e3779b97f4a7c15ull;
	return (size_t)(ino >> 20) & (nbuckets - 1);
}

struct vol_inode *vol_ns_get(const struct vol_ns *ns, uint64_t ino)
{
	if (!ns->nbuckets)
		return NULL;
	for (struct vol_inode *in = ns->buckets[ino_hash(ino, ns->nbuckets)]; in; in = in->hnext)
		if (in->ino == ino)
			return in;
	return NULL;
}

int vol_ns_add(struct vol_ns *ns, struct vol_inode *in)
{
	if (ns->count + 1 > ns->nbuckets) {
		size_t n = ns->nbuckets ? ns->nbuckets * 2 : 64;
		struct vol_inode **b = calloc(n, sizeof(*b));

		if (!b)
			return -ENOMEM;
		for (size_t i = 0; i < ns->nbuckets; i++) {
			struct vol_inode *x = ns->buckets[i], *next;

			for (; x; x = next) {
				size_t k = ino_hash(x->ino, n);

				next = x->hnext;
				x->hnext = b[k];
				b[k] = x;
			}
		}
		free(ns->buckets);
		ns->buckets = b;
		ns->nbuckets = n;
	}
	size_t k = ino_hash(in->ino, ns->nbuckets);

	in->hnext = ns->buckets[k];
	ns->buckets[k] = in;
	ns->count++;
	return 0;
}

void vol_ns_remove(struct vol_ns *ns, struct vol_inode *in)
{
	struct vol_inode **pp = &ns->buckets[ino_hash(in->ino, ns->nbuckets)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == in) {
			*pp = in->hnext;
			in->hnext = NULL;
			ns->count--;
			return;
		}
}

struct vol_inode *vol_inode_free(struct vol_inode *in)
{
	if (!in)
		return NULL;
	free(in->blks);
	free(in->com);
	for (size_t i = 0; i < in->nents; i++)
		free(in->ents[i].name);
	free(in->ents);
	free(in->target);
	ward_wipe(in->key, sizeof(in->key));
	free(in);
	return NULL;
}

void vol_ns_clear(struct vol_ns *ns)
{
	for (size_t i = 0; i < ns->nbuckets; i++) {
		struct vol_inode *x = ns->buckets[i], *next;

		for (; x; x = next) {
			next = x->hnext;
			vol_inode_free(x);
		}
	}
	free(ns->buckets);
	memset(ns, 0, sizeof(*ns));
}

bool vol_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > WARD_VOL_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			return false;
	return true;
}

/* ---- namespace parse --------------------------------------------------- */

static int dent_cmp(const void *a, const void *b)
{
	const struct vol_dent *x = *(struct vol_dent *const *)a, *y = *(struct vol_dent *const *)b;

	return strcmp(x->name, y->name);
}

static int parse_file(struct ward_cur *c, struct vol_inode *in, uint32_t bs, struct ward_err *err)
{
	uint64_t nblk;

	if (ward_cur_copy(c, in->file_id, 16) < 0 || ward_cur_u64le(c, &in->size) < 0 ||
	    ward_cur_u64le(c, &nblk) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: file record truncated",
				    (unsigned long long)in->ino);
	if (in->size > WARD_VOL_FILE_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "inode %llu: file size too large",
				    (unsigned long long)in->ino);
	if (nblk != (in->size + bs - 1) / bs)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "inode %llu: %llu blocks for size %llu",
				    (unsigned long long)in->ino, (unsigned long long)nblk,
				    (unsigned long long)in->size);
	if (nblk > c->left / (1 + WARD_VOL_TAG_SIZE))
		return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: block table truncated",
				    (unsigned long long)in->ino);
	if (nblk) {
		in->blks = calloc((size_t)nblk, sizeof(*in->blks));
		in->com = calloc((size_t)nblk, 1);
		if (!in->blks || !in->com)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	in->nblk = in->blk_cap = in->com_nblk = nblk;
	for (uint64_t i = 0; i < nblk; i++) {
		struct vol_blk *b = &in->blks[i];

		if (ward_cur_u8(c, &b->flags) < 0 || ward_cur_copy(c, b->tag, WARD_VOL_TAG_SIZE) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "block table truncated");
		if (b->flags & ~(VOL_BLK_SLOT | VOL_BLK_HOLE))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "inode %llu block %llu: bad flags 0x%x",
					    (unsigned long long)in->ino, (unsigned long long)i,
					    b->flags);
		if (b->flags & VOL_BLK_HOLE) {
			static const uint8_t zero[WARD_VOL_TAG_SIZE];

			if (b->flags != VOL_BLK_HOLE || memcmp(b->tag, zero, sizeof(zero)) != 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "inode %llu block %llu: bad hole",
						    (unsigned long long)in->ino,
						    (unsigned long long)i);
		}
		in->com[i] = b->flags;
	}
	return 0;
}

static int parse_dir(struct ward_cur *c, struct vol_inode *in, struct ward_err *err)
{
	uint32_t n;

	if (ward_cur_u64le(c, &in->parent) < 0 || ward_cur_u32le(c, &n) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: directory truncated",
				    (unsigned long long)in->ino);
	if (n > c->left / 11) /* each entry is at least 2 + 1 + 8 bytes */
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "inode %llu: %u entries exceed the data",
				    (unsigned long long)in->ino, n);
	if (n) {
		in->ents = calloc(n, sizeof(*in->ents));
		if (!in->ents)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	in->ents_cap = n;
	for (uint32_t i = 0; i < n; i++) {
		struct ward_cur name;
		struct vol_dent *d = &in->ents[i];

		if (ward_cur_sub_u16le(c, WARD_VOL_NAME_MAX, &name) < 0 ||
		    ward_cur_u64le(c, &d->ino) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "inode %llu: directory entry %u truncated",
					    (unsigned long long)in->ino, i);
		if (!vol_name_valid((const char *)name.p, name.left))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "inode %llu: directory entry %u has an invalid name",
					    (unsigned long long)in->ino, i);
		d->name = strndup((const char *)name.p, name.left);
		if (!d->name)
			return ward_err_set(err, -ENOMEM, "out of memory");
		in->nents = i + 1;
	}
	return 0;
}

static void vol_inode_freep_(struct vol_inode **p)
{
	vol_inode_free(*p);
}

static int parse_inode(struct ward_cur *c, uint32_t bs, struct vol_inode **ret,
		       struct ward_err *err)
{
	WARD_CLEANUP(vol_inode_freep_) struct vol_inode *in = calloc(1, sizeof(*in));
	int r;

	if (!in)
		return ward_err_set(err, -ENOMEM, "out of memory");
	in->h[0] = in->h[1] = -1;
	if (ward_cur_u64le(c, &in->ino) < 0 || ward_cur_u8(c, &in->type) < 0 ||
	    ward_cur_u32le(c, &in->perm) < 0 || ward_cur_u32le(c, &in->uid) < 0 ||
	    ward_cur_u32le(c, &in->gid) < 0 || ward_cur_u32le(c, &in->nlink) < 0 ||
	    ward_cur_u64le(c, (uint64_t *)&in->atime) < 0 ||
	    ward_cur_u64le(c, (uint64_t *)&in->mtime) < 0 ||
	    ward_cur_u64le(c, (uint64_t *)&in->ctime) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "inode record truncated");
	if (in->ino == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "inode number 0");
	if (in->perm & ~07777u)
		return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: bad mode 0%o",
				    (unsigned long long)in->ino, in->perm);
	switch (in->type) {
	case VOL_T_FILE:
		r = parse_file(c, in, bs, err);
		break;
	case VOL_T_DIR:
		r = parse_dir(c, in, err);
		break;
	case VOL_T_LNK: {
		struct ward_cur t;

		if (ward_cur_sub_u16le(c, WARD_VOL_SYMLINK_MAX, &t) < 0 || t.left == 0 ||
		    memchr(t.p, 0, t.left))
			return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: bad symlink",
					    (unsigned long long)in->ino);
		in->target = strndup((const char *)t.p, t.left);
		r = in->target ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
		break;
	}
	default:
		return ward_err_set(err, -WARD_E_MALFORMED, "inode %llu: unknown type %u",
				    (unsigned long long)in->ino, in->type);
	}
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(in);
	return 0;
}

static int ns_validate(struct vol_ns *ns, struct ward_err *err)
{
	struct vol_inode *root = vol_ns_get(ns, WARD_VOL_ROOT_INO);

	if (!root || root->type != VOL_T_DIR || root->parent != WARD_VOL_ROOT_INO)
		return ward_err_set(err, -WARD_E_MALFORMED, "namespace: no root directory");
	for (size_t b = 0; b < ns->nbuckets; b++)
		for (struct vol_inode *in = ns->buckets[b]; in; in = in->hnext) {
			WARD_AUTOFREE struct vol_dent **sorted = NULL;
			uint32_t subdirs = 0;

			if (in->type != VOL_T_DIR)
				continue;
			if (in->nents) {
				sorted = calloc(in->nents, sizeof(*sorted));
				if (!sorted)
					return ward_err_set(err, -ENOMEM, "out of memory");
			}
			for (size_t i = 0; i < in->nents; i++) {
				struct vol_inode *t = vol_ns_get(ns, in->ents[i].ino);

				sorted[i] = &in->ents[i];
				if (!t || t == root)
					return ward_err_set(
						err, -WARD_E_MALFORMED,
						"directory %llu: entry '%s' points to a missing inode",
						(unsigned long long)in->ino, in->ents[i].name);
				if (t->type == VOL_T_DIR) {
					subdirs++;
					if (t->parent != in->ino || t->refs > 0)
						return ward_err_set(
							err, -WARD_E_MALFORMED,
							"directory %llu linked more than once",
							(unsigned long long)t->ino);
				}
				if (t->refs == UINT32_MAX)
					return ward_err_set(err, -WARD_E_MALFORMED, "too many links");
				t->refs++;
			}
			if (in->nlink != 2 + subdirs)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "directory %llu: link count %u, expected %u",
						    (unsigned long long)in->ino, in->nlink,
						    2 + subdirs);
			if (in->nents > 1) {
				qsort(sorted, in->nents, sizeof(*sorted), dent_cmp);
				for (size_t i = 1; i < in->nents; i++)
					if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
						return ward_err_set(
							err, -WARD_E_MALFORMED,
							"directory %llu: duplicate entry",
							(unsigned long long)in->ino);
			}
		}
	for (size_t b = 0; b < ns->nbuckets; b++)
		for (struct vol_inode *in = ns->buckets[b]; in; in = in->hnext) {
			if (in->type == VOL_T_DIR && in != root) {
				/* Reachability: the parent chain must end at the root. */
				struct vol_inode *p = in;
				size_t steps = 0;

				if (in->refs != 1)
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "directory %llu is not linked",
							    (unsigned long long)in->ino);
				while (p != root) {
					p = vol_ns_get(ns, p->parent);
					if (!p || ++steps > ns->count)
						return ward_err_set(
							err, -WARD_E_MALFORMED,
							"directory %llu is not reachable",
							(unsigned long long)in->ino);
				}
			} else if (in->type != VOL_T_DIR && (in->refs == 0 || in->refs != in->nlink)) {
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "inode %llu: link count %u, %u links found",
						    (unsigned long long)in->ino, in->nlink, in->refs);
			}
			in->refs = 0;
		}
	return 0;
}

int vol_ns_parse(const uint8_t *buf, size_t size, uint32_t bs, struct vol_ns *ns,
		 struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size);
	uint32_t count;
	int r;

	if (ward_cur_u64le(&c, &ns->next_ino) < 0 || ward_cur_u32le(&c, &count) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "namespace truncated");
	if (count == 0 || count > WARD_VOL_INODES_MAX || count > c.left / INODE_FIXED_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED, "namespace: bad inode count %u",
				    count);
	for (uint32_t i = 0; i < count; i++) {
		struct vol_inode *in = NULL;

		r = parse_inode(&c, bs, &in, err);
		if (r < 0 || !in)
			return ward_err_prefix(err, "namespace inode %u", i);
		if (in->ino >= ns->next_ino || vol_ns_get(ns, in->ino)) {
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "namespace: inode %llu duplicated or out of range",
					 (unsigned long long)in->ino);
			vol_inode_free(in);
			return r;
		}
		r = vol_ns_add(ns, in);
		if (r < 0) {
			vol_inode_free(in);
			return ward_err_set(err, r, "out of memory");
		}
	}
	if (!ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "namespace: %zu trailing bytes",
				    c.left);
	return ns_validate(ns, err);
}

int ward_vol_namespace_validate(const uint8_t *buf, size_t size, uint32_t block_size,
				struct ward_err *err)
{
	struct vol_ns ns = {0};
	int r;

	if (!block_size_valid(block_size))
		return ward_err_set(err, -WARD_E_USAGE, "bad block size %u", block_size);
	r = vol_ns_parse(buf, size, block_size, &ns, err);
	vol_ns_clear(&ns);
	return r;
}

/* ---- namespace serialize ----------------------------------------------- */

static size_t inode_size(const struct vol_inode *in)
{
	size_t s = INODE_FIXED_SIZE;

	switch (in->type) {
	case VOL_T_FILE:
		s += 32 + (size_t)in->nblk * (1 + WARD_VOL_TAG_SIZE);
		break;
	case VOL_T_DIR:
		s += 12;
		for (size_t i = 0; i < in->nents; i++)
			s += 10 + strlen(in->ents[i].name);
		break;
	case VOL_T_LNK:
		s += 2 + strlen(in->target);
		break;
	}
	return s;
}

int vol_ns_serialize(const struct vol_ns *ns, uint8_t **ret, size_t *ret_size)
{
	size_t size = NS_FIXED_SIZE, count = 0;
	uint8_t *buf, *p;

	for (size_t b = 0; b < ns->nbuckets; b++)
		for (struct vol_inode *in = ns->buckets[b]; in; in = in->hnext)
			if (in->nlink > 0) {
				size += inode_size(in);
				count++;
			}
	if (size > WARD_VOL_META_MAX)
		return -EFBIG;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	p = buf;
	vol_put_u64(p, ns->next_ino);
	vol_put_u32(p + 8, (uint32_t)count);
	p += NS_FIXED_SIZE;
	for (size_t b = 0; b < ns->nbuckets; b++)
		for (struct vol_inode *in = ns->buckets[b]; in; in = in->hnext) {
			if (in->nlink == 0)
				continue;
			vol_put_u64(p, in->ino);
			p[8] = in->type;
			vol_put_u32(p + 9, in->perm);
			vol_put_u32(p + 13, in->uid);
			vol_put_u32(p + 17, in->gid);
			vol_put_u32(p + 21, in->nlink);
			vol_put_u64(p + 25, (uint64_t)in->atime);
			vol_put_u64(p + 33, (uint64_t)in->mtime);
			vol_put_u64(p + 41, (uint64_t)in->ctime);
			p += INODE_FIXED_SIZE;
			if (in->type == VOL_T_FILE) {
				memcpy(p, in->file_id, 16);
				vol_put_u64(p + 16, in->size);
				vol_put_u64(p + 24, in->nblk);
				p += 32;
				for (uint64_t i = 0; i < in->nblk; i++) {
					*p++ = in->blks[i].flags;
					memcpy(p, in->blks[i].tag, WARD_VOL_TAG_SIZE);
					p += WARD_VOL_TAG_SIZE;
				}
			} else if (in->type == VOL_T_DIR) {
				vol_put_u64(p, in->parent);
				vol_put_u32(p + 8, (uint32_t)in->nents);
				p += 12;
				for (size_t i = 0; i < in->nents; i++) {
					size_t n = strlen(in->ents[i].name);

					vol_put_u16(p, (uint16_t)n);
					memcpy(p + 2, in->ents[i].name, n);
					vol_put_u64(p + 2 + n, in->ents[i].ino);
					p += 10 + n;
				}
			} else {
				size_t n = strlen(in->target);

				vol_put_u16(p, (uint16_t)n);
				memcpy(p + 2, in->target, n);
				p += 2 + n;
			}
		}
	*ret = buf;
	*ret_size = (size_t)(p - buf);
	return 0;
}
