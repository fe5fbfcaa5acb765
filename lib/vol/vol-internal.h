/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Internals of the volume engine shared by vol.c and format.c. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ward/vol.h"

#define VOL_FORMAT 1
#define VOL_REC_OVERHEAD (WARD_VOL_NONCE_SIZE + WARD_VOL_TAG_SIZE)
#define VOL_BLK_SLOT 1u /* which of the two slot files holds the block */
#define VOL_BLK_HOLE 2u /* never written: reads as zeros, no record */

enum vol_type {
	VOL_T_FILE = 1,
	VOL_T_DIR = 2,
	VOL_T_LNK = 3,
};

struct vol_blk {
	uint8_t flags;
	uint8_t tag[WARD_VOL_TAG_SIZE];
};

struct vol_dent {
	char *name; /* owned */
	uint64_t ino;
};

struct vol_inode {
	uint64_t ino;
	uint8_t type;
	uint32_t perm; /* 07777 bits */
	uint32_t uid, gid, nlink;
	int64_t atime, mtime, ctime;
	struct vol_inode *hnext;

	/* VOL_T_FILE */
	uint8_t file_id[16];
	uint64_t size;
	struct vol_blk *blks; /* owned; nblk used, blk_cap allocated */
	uint64_t nblk, blk_cap;
	uint8_t *com; /* owned: flags of each block at the last commit */
	uint64_t com_nblk;
	uint8_t key[32];
	bool key_ready;
	int h[2];
	bool hdirty[2];
	bool shrunk; /* slot files may be truncated after the next commit */

	/* VOL_T_DIR */
	struct vol_dent *ents; /* owned */
	size_t nents, ents_cap;
	uint64_t parent;

	/* VOL_T_LNK */
	char *target; /* owned */

	uint32_t open_count;
	uint32_t busy; /* unlocked I/O in progress (range locks held) */
	bool zombie;   /* dropped from the namespace; freed when !busy */
	uint32_t refs; /* validation scratch */
};

struct vol_ns {
	struct vol_inode **buckets; /* owned, with every inode */
	size_t nbuckets, count;
	uint64_t next_ino;
};

void vol_ns_clear(struct vol_ns *ns);
struct vol_inode *vol_ns_get(const struct vol_ns *ns, uint64_t ino);
int vol_ns_add(struct vol_ns *ns, struct vol_inode *in);
void vol_ns_remove(struct vol_ns *ns, struct vol_inode *in);
struct vol_inode *vol_inode_free(struct vol_inode *in);

/* Parse + validate namespace bytes into ns (empty on entry). */
int vol_ns_parse(const uint8_t *buf, size_t size, uint32_t block_size, struct vol_ns *ns,
		 struct ward_err *err);
/* Serialize ns (inodes with nlink > 0) into a malloc'ed buffer. */
int vol_ns_serialize(const struct vol_ns *ns, uint8_t **ret, size_t *ret_size);

void vol_header_encode(const struct ward_vol_header *h, uint8_t out[WARD_VOL_HEADER_SIZE]);
void vol_meta_header_encode(const struct ward_vol_meta_header *h,
			    uint8_t out[WARD_VOL_META_HEADER_SIZE]);

static inline void vol_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void vol_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vol_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool vol_name_valid(const char *name, size_t len);
