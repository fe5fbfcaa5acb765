/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert --rootfs ext4: the image's root filesystem as one ext4
 * filesystem image, sealed in chunks (include/ward/ext4img.h), which
 * ward-init decrypts into memory and mounts through a loop device.
 *
 * The layer rules are written once, in rootfs.c: the layers are applied
 * into a temporary protected volume under a throwaway random key exactly
 * as for --rootfs volume; that volume's tree is then copied into a new
 * ext4 filesystem (ext4fs.c, made by mke2fs, filled with libext2fs), and
 * the filesystem is sealed into the ward layer (ext4seal.c) under a fresh
 * random key and image id. The temporary volume (one unlinked file,
 * volstore.c) and filesystem image live in the caller's temporary
 * directory, which it removes on every path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/ext4img.h"
#include "ward/file.h"
#include "ward/vol.h"

#define EXT4_SLACK (32ull << 20) /* superblocks, descriptors, bitmaps, extent blocks */

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The smallest filesystem that holds c with inodes inodes: the data
 * blocks, the inode tables, a little for extent trees and the fixed
 * metadata. */
static uint64_t ext4_need(const struct img_ext4_census *c, uint64_t inodes)
{
	return c->bytes + c->bytes / 32 + inodes * 256 + EXT4_SLACK;
}

/* Choose the filesystem size: opts->rootfs_size (rounded up to the
 * chunk), or the larger of 8 GiB and twice the content; refuse a size
 * that cannot hold the content. */
static int choose_size(const struct ward_image_convert_opts *opts, const struct img_ext4_census *c,
		       uint64_t inodes, uint32_t chunk, uint64_t *ret, struct ward_err *err)
{
	uint64_t need = round_up(ext4_need(c, inodes), chunk), size;

	if (opts->rootfs_size) {
		if (opts->rootfs_size > WARD_EXT4IMG_FS_MAX)
			return ward_err_set(err, -WARD_E_USAGE,
					    "--rootfs-size %llu bytes is larger than the 1 TiB an "
					    "ext4 image may have",
					    (unsigned long long)opts->rootfs_size);
		size = round_up(opts->rootfs_size, chunk);
		if (size < need)
			return ward_err_set(
			    err, -WARD_E_USAGE,
			    "--rootfs-size %llu bytes is too small for the image's "
			    "root filesystem: %llu bytes of files in %llu entries "
			    "need at least %llu bytes (%llu MiB)",
			    (unsigned long long)opts->rootfs_size,
			    (unsigned long long)c->file_bytes, (unsigned long long)c->entries,
			    (unsigned long long)need, (unsigned long long)(need >> 20));
	} else {
		size = round_up(IMG_EXT4_SIZE_DEFAULT > 2 * c->bytes ? IMG_EXT4_SIZE_DEFAULT
								     : 2 * c->bytes,
				chunk);
		if (size < need)
			size = need;
		if (size > WARD_EXT4IMG_FS_MAX)
			return ward_err_set(
			    err, -WARD_E_TOO_BIG,
			    "the image's root filesystem (%llu bytes of files) needs "
			    "more than the 1 TiB an ext4 image may have",
			    (unsigned long long)c->file_bytes);
	}
	*ret = size;
	return 0;
}

/* Build the volume in a store in tmp_dir and copy it into a new
 * filesystem image img_path (size chosen here). */
static int make_image(const struct ward_image_convert_opts *opts, struct img_image *im,
		      const char *tmp_dir, const char *img_path, struct img_rootfs *ret,
		      struct ward_err *err)
{
	WARD_CLEANUP(img_volstore_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	struct ward_vol_opts vo = {0};
	struct img_rootfs vrf;
	struct img_ext4_census c;
	uint64_t size = 0, inodes;
	int fd, r;

	WARD_CLEANUP_ERASE(vrf);
	r = img_volstore_new(tmp_dir, &io, err);
	if (r < 0)
		return r;
	/* the layer rules, applied once, into a volume under a throwaway key */
	r = img_rootfs_build_io(im, io, WARD_VOL_BLOCK_DEFAULT, opts->progress, opts->progress_ctx,
				&vrf, err);
	if (r < 0)
		return r;
	ret->stats = vrf.stats;
	vo.io = io;
	vo.crypto = ward_vol_crypto_default();
	vo.read_only = true;
	r = ward_vol_open(&vo, vrf.key, &vol, err);
	if (r < 0)
		return ward_err_prefix(err, "ext4 image: reopen the root volume");
	r = img_ext4_census(vol, &c, err);
	if (r < 0)
		return r;
	inodes = 2 * c.inodes > IMG_EXT4_INODES_MIN ? 2 * c.inodes : IMG_EXT4_INODES_MIN;
	r = choose_size(opts, &c, inodes, ret->chunk_size, &size, err);
	if (r < 0)
		return r;
	fd = open(img_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_err_errno(err, -errno, "ext4 image: create '%.200s'", img_path);
	/* sparse: only what mke2fs and the copy write takes space */
	if (ftruncate(fd, (off_t)size) < 0) {
		r = ward_err_errno(err, -errno, "ext4 image: size '%.200s'", img_path);
		(void)close(fd);
		return r;
	}
	(void)close(fd);
	r = img_ext4_mkfs(img_path, size, inodes, err);
	if (r < 0)
		return r;
	r = img_ext4_populate(img_path, vol, &ret->census, err);
	if (r == -ENOSPC)
		return ward_err_prefix(err,
				       "the %llu-byte filesystem is too small for the image's "
				       "root (%llu bytes of files in %llu entries): give a larger "
				       "--rootfs-size",
				       (unsigned long long)size, (unsigned long long)c.file_bytes,
				       (unsigned long long)c.entries);
	if (r < 0)
		return r;
	ret->fs_size = size;
	return 0;
}

int img_rootfs_build_ext4(const struct ward_image_convert_opts *opts, struct img_image *im,
			  const char *tmp_dir, struct img_out_blob *w, int64_t mtime,
			  struct img_rootfs *ret, struct ward_err *err)
{
	WARD_AUTOFREE char *img_path = NULL;
	WARD_AUTOCLOSE int fd = -1;
	struct img_ext4_sealed sealed;
	uint8_t hdr[512];
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->type = WARD_IMAGE_ROOTFS_EXT4;
	ret->chunk_size = WARD_EXT4IMG_CHUNK_DEFAULT;
	if (asprintf(&img_path, "%s/root.ext4", tmp_dir) < 0) {
		img_path = NULL;
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	/* the volume's store is gone (its space given back) when this returns */
	r = make_image(opts, im, tmp_dir, img_path, ret, err);
	if (r < 0)
		return r;
	/* a fresh key and image id per conversion, never derived from
	 * --insecure-seed: a key must never seal two different images */
	r = ward_random(ret->key, sizeof(ret->key), err);
	if (r >= 0)
		r = ward_random(ret->id, sizeof(ret->id), err);
	if (r < 0)
		return r;
	fd = open(img_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ward_err_errno(err, -errno, "ext4 image: open '%.200s'", img_path);
	r = img_tar_header(hdr, IMG_ROOTFS_DIR "/", '5', 0755, 0, mtime, err);
	if (r >= 0)
		r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	if (r >= 0)
		r = img_ext4_seal(fd, ret->fs_size, ret->chunk_size, ret->key, ret->id,
				  opts->threads ? opts->threads : 2, w, IMG_ROOTFS_EXT4_FILE, mtime,
				  &sealed, err);
	if (r < 0)
		return ward_err_prefix(err, "ext4 image");
	memcpy(ret->root, sealed.header_digest, sizeof(ret->root));
	img_digest_str(ret->root, ret->root_digest);
	ret->chunks_stored = sealed.chunks_stored;
	return 0;
}
