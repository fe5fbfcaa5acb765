/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the layer pipeline in check mode, as ward convert runs it on a
 * compressed input layer: gzip (ISA-L inflate, member starts, trailing
 * garbage, truncation) or zstd streaming decompression, the tar checker
 * and the diff_id, encrypted or not, on one thread or with the checker on
 * a worker thread.
 *
 * Input: one flags byte, then the layer blob. Flags: bit 0 zstd (else
 * gzip), bit 1 two threads, bit 2 encrypt with a fixed key, bit 3 allow
 * device nodes, bits 4-7 k: read the blob in pieces of 4 << k bytes (k 0:
 * whole chunks), so members and frames straddle piece boundaries. With
 * any of threads, encryption or pieces chosen, the verdict, diff_id and
 * input digest must match a run on one thread, whole chunks, unencrypted.
 *
 * The blob is read from a memfd; the sink is a blob of one output layout
 * in a private temporary directory, freed without commit (its temporary
 * file is removed) and the layout removed at exit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct img_out *out;

static void out_cleanup(void)
{
	out = img_out_free(out);
}

/* The shared output layout, opened on first use. */
static struct img_out *out_get(void)
{
	struct ward_err err = WARD_ERR_INIT;
	struct stat st;
	char path[96];

	if (out)
		return out;
	snprintf(path, sizeof(path), "%s/ward-fuzz-layer-%ld",
		 stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp",
		 (long)getpid());
	if (img_out_open(path, WARD_IMAGE_FORMAT_OCI_DIR, &out, &err) < 0) {
		fprintf(stderr, "fuzz-image-layer: %s\n", err.msg);
		abort();
	}
	atexit(out_cleanup);
	return out;
}

/* The layer in a memfd, rewound; -1 on failure. */
static int layer_fd(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	int fd = memfd_create("fuzz-layer", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ward_fd_write_all(fd, data, size, &err) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Run the pipeline on the layer; aborts when set-up fails or when a layer
 * that passes was not read and passed through whole. */
static int run(const uint8_t *data, size_t size, const struct img_pipe_opts *po,
	       struct img_pipe_result *res)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(img_blob_freep) struct img_blob *in = NULL;
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *sink = NULL;
	int fd = layer_fd(data, size), r;

	if (fd < 0)
		abort();
	if (img_blob_from_fd(fd, size, "fuzz-layer", &in, &err) < 0) {
		(void)close(fd);
		abort();
	}
	if (img_out_blob_begin(out_get(), &sink, &err) < 0) {
		fprintf(stderr, "fuzz-image-layer: %s\n", err.msg);
		abort();
	}
	r = img_pipe_run(in, size, sink, po, res, &err);
	if (r == 0 && (res->in_size != size || res->diff_id[0] == '\0' || res->enc_size != size))
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct img_layer_keys keys = {.symkey = {1, 2, 3}, .nonce = {4, 5, 6}};
	struct img_pipe_opts po = {0}, plain;
	struct img_pipe_result res, res_plain;
	int r;

	if (size < 1)
		return 0;
	po.in_comp = data[0] & 1 ? IMG_COMP_ZSTD : IMG_COMP_GZIP;
	po.check_tar = true;
	po.threads = data[0] & 2 ? 2 : 1;
	po.keys = data[0] & 4 ? &keys : NULL;
	po.allow_devices = data[0] & 8;
	po.piece = data[0] >> 4 ? (size_t)4 << (data[0] >> 4) : 0;
	po.layer_count = 1;
	r = run(data + 1, size - 1, &po, &res);
	if (po.threads == 1 && !po.keys && !po.piece)
		return 0;
	/* the verdict and the diff_id do not depend on threads, pieces or
	 * encryption: compare with one thread, whole chunks, no encryption */
	plain = po;
	plain.threads = 1;
	plain.keys = NULL;
	plain.piece = 0;
	if ((run(data + 1, size - 1, &plain, &res_plain) == 0) != (r == 0) ||
	    (r == 0 && (strcmp(res.diff_id, res_plain.diff_id) != 0 ||
			strcmp(res.in_digest, res_plain.in_digest) != 0 ||
			res.tar_entries != res_plain.tar_entries)))
		abort();
	return 0;
}
