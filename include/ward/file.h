/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* File I/O: size-capped reads, atomic writes (temp + fsync + rename +
 * directory fsync), and openat2(RESOLVE_BENEATH) helpers for paths that
 * come from images or other untrusted sources. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/compiler.h"
#include "ward/error.h"

/* Read a whole file of at most max_size bytes. *ret is malloc'ed with a NUL
 * appended (not counted in *ret_size). -WARD_E_TOO_BIG if larger. */
WARD_PUBLIC int ward_file_read(const char *path, size_t max_size, uint8_t **ret,
			       size_t *ret_size, struct ward_err *err);
/* Same from an open fd (reads to EOF). */
WARD_PUBLIC int ward_fd_read_all(int fd, size_t max_size, uint8_t **ret, size_t *ret_size,
				 struct ward_err *err);
/* pread (write false) or pwrite exactly size bytes at off, retrying short
 * transfers and EINTR. Returns 0, -errno, or -ENODATA when the file ends
 * before size bytes were read (-EIO when a write makes no progress). No
 * message: the caller says what was read or written. */
WARD_PUBLIC int ward_fd_pio_all(int fd, bool write, void *buf, size_t size, uint64_t off);
/* Write all of buf, retrying short writes and EINTR. */
WARD_PUBLIC int ward_fd_write_all(int fd, const void *buf, size_t size, struct ward_err *err);

/* Atomically replace path with data: write "<path>.tmp-XXXXXX" in the same
 * directory with mode, fsync it, rename over path, fsync the directory.
 * On failure the temp file is removed and path is unchanged. */
WARD_PUBLIC int ward_file_write_atomic(const char *path, const void *data, size_t size,
				       mode_t mode, struct ward_err *err);

/* As ward_file_write_atomic() without the fsyncs: readers see the old or
 * the new content, never a torn file, but a crash may lose the update.
 * For state that does not outlive the machine (run directories). */
WARD_PUBLIC int ward_file_write_volatile(const char *path, const void *data, size_t size,
					 mode_t mode, struct ward_err *err);

/* Is p a safe relative path for use beneath a root: non-empty, not
 * absolute, no "." or ".." component, no empty component, no NUL, at most
 * WARD_PATH_MAX bytes? */
#define WARD_PATH_MAX 4096
WARD_PUBLIC bool ward_path_is_safe_relative(const char *p);

/* openat2(dirfd, path, flags|O_CLOEXEC, mode) with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS: symlinks may not lead outside dirfd. Falls back
 * to -ENOSYS reporting if the kernel lacks openat2 (no unsafe fallback).
 * Returns the new fd (>= 0) or a negative code with err set. */
WARD_PUBLIC int ward_openat_beneath(int dirfd, const char *path, int flags, mode_t mode,
				    struct ward_err *err);
/* Create every missing directory of the relative path p beneath dirfd
 * (mkdir -p), each step resolved beneath dirfd. */
WARD_PUBLIC int ward_mkdirat_beneath(int dirfd, const char *p, mode_t mode,
				     struct ward_err *err);

/* Remove a directory tree (like rm -rf) without following symlinks. */
WARD_PUBLIC int ward_rm_rf(const char *path, struct ward_err *err);

/* Make a private temp directory from template (mkdtemp). */
WARD_PUBLIC int ward_mkdtemp(char *tmpl, struct ward_err *err);
