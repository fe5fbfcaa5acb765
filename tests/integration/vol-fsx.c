/* SPDX-License-Identifier: Apache-2.0 */
/* vol-fsx: an fsx-style random-operations tester. Applies the same random
 * writes, reads, truncates, appends, fsyncs, reopens and mmap reads/writes
 * to a file under test (on a mounted volume) and to a reference file (on a
 * plain directory), and compares every read and the final contents.
 * Usage: vol-fsx FILE REFERENCE [OPS] [SEED]. Exit 0 if identical. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SIZE (1 << 20)
#define MAX_LEN (96 * 1024)

static uint64_t rng;

static uint32_t rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

static int open2(const char *a, const char *b, int fd[2])
{
	fd[0] = open(a, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	fd[1] = open(b, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	return fd[0] >= 0 && fd[1] >= 0 ? 0 : -1;
}

static off_t fsize(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static int fail(long op, const char *what)
{
	fprintf(stderr, "vol-fsx: op %ld: %s (%s)\n", op, what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	static uint8_t buf[MAX_LEN], got[2][MAX_LEN];
	long ops = argc > 3 ? atol(argv[3]) : 2000;
	int fd[2];

	if (argc < 3) {
		fprintf(stderr, "usage: vol-fsx FILE REFERENCE [OPS] [SEED]\n");
		return 2;
	}
	rng = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
	if (open2(argv[1], argv[2], fd) < 0)
		return fail(0, "open");
	for (long op = 0; op < ops; op++) {
		uint32_t kind = rnd() % 100;
		off_t size = fsize(fd[1]);
		size_t len = 1 + rnd() % (rnd() % 4 ? 8192 : MAX_LEN);
		off_t off = (off_t)(rnd() % MAX_SIZE);

		if (fsize(fd[0]) != size)
			return fail(op, "sizes differ");
		if (off + (off_t)len > MAX_SIZE)
			len = (size_t)(MAX_SIZE - off);
		if (kind < 35) { /* write */
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd();
			for (int k = 0; k < 2; k++)
				if (pwrite(fd[k], buf, len, off) != (ssize_t)len)
					return fail(op, "pwrite");
		} else if (kind < 40) { /* append */
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd();
			for (int k = 0; k < 2; k++) {
				int a = open(argv[1 + k], O_WRONLY | O_APPEND | O_CLOEXEC);

				if (a < 0 || write(a, buf, len) != (ssize_t)len)
					return fail(op, "append");
				close(a);
			}
		} else if (kind < 65) { /* read */
			ssize_t n[2];

			for (int k = 0; k < 2; k++)
				n[k] = pread(fd[k], got[k], len, off);
			if (n[0] != n[1] || n[0] < 0 || memcmp(got[0], got[1], (size_t)n[0]) != 0)
				return fail(op, "read differs");
		} else if (kind < 75) { /* truncate */
			off_t ns = (off_t)(rnd() % MAX_SIZE);

			for (int k = 0; k < 2; k++)
				if (ftruncate(fd[k], ns) < 0)
					return fail(op, "ftruncate");
		} else if (kind < 80) { /* fsync */
			if (fsync(fd[0]) < 0 || fdatasync(fd[1]) < 0)
				return fail(op, "fsync");
		} else if (kind < 85) { /* close and reopen */
			close(fd[0]);
			close(fd[1]);
			if (open2(argv[1], argv[2], fd) < 0)
				return fail(op, "reopen");
		} else if (kind < 93 && size > 0) { /* mmap read */
			uint8_t *m[2];

			for (int k = 0; k < 2; k++) {
				m[k] = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd[k], 0);
				if (m[k] == MAP_FAILED)
					return fail(op, "mmap");
			}
			if (memcmp(m[0], m[1], (size_t)size) != 0)
				return fail(op, "mmap contents differ");
			munmap(m[0], (size_t)size);
			munmap(m[1], (size_t)size);
		} else if (size > 0) { /* mmap write + msync */
			off_t moff = (off_t)(rnd() % (uint32_t)size);
			size_t mlen = ((size_t)(size - moff) < len ? (size_t)(size - moff) : len);
			uint8_t *m;

			for (size_t i = 0; i < mlen; i++)
				buf[i] = (uint8_t)rnd();
			for (int k = 0; k < 2; k++) {
				m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd[k], 0);
				if (m == MAP_FAILED)
					return fail(op, "mmap rw");
				memcpy(m + moff, buf, mlen);
				if (msync(m, (size_t)size, MS_SYNC) < 0)
					return fail(op, "msync");
				munmap(m, (size_t)size);
			}
		}
	}
	/* Final comparison through a fresh open. */
	close(fd[0]);
	close(fd[1]);
	if (open2(argv[1], argv[2], fd) < 0)
		return fail(ops, "final open");
	for (off_t off = 0;; off += MAX_LEN) {
		ssize_t a = pread(fd[0], got[0], MAX_LEN, off), b = pread(fd[1], got[1], MAX_LEN, off);

		if (a != b || a < 0 || memcmp(got[0], got[1], (size_t)a) != 0)
			return fail(ops, "final contents differ");
		if (a == 0)
			break;
	}
	printf("vol-fsx: %ld operations, contents identical (%lld bytes)\n", ops,
	       (long long)fsize(fd[1]));
	return 0;
}
