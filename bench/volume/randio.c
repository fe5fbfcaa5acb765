/* SPDX-License-Identifier: Apache-2.0 */
/* randio: random 4 KiB reads or writes on an existing file, like fio's
 * randread/randwrite with one job at queue depth 1 (fio is not installed
 * on the project machines). Writes end with one fsync, included in the
 * time. Prints operations per second and MB/s.
 * Usage: randio read|write FILE OPS [SEED] */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[4096];
	struct timespec a, b;
	struct stat st;
	uint64_t rng, blocks;
	long ops;
	int fd, wr;
	double s;

	if (argc < 4)
		return fprintf(stderr, "usage: randio read|write FILE OPS [SEED]\n"), 2;
	wr = strcmp(argv[1], "write") == 0;
	ops = atol(argv[3]);
	rng = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
	fd = open(argv[2], wr ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4096)
		return perror(argv[2]), 1;
	blocks = (uint64_t)st.st_size / 4096;
	memset(buf, 0x5a, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < ops; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		off_t off = (off_t)((rng >> 17) % blocks) * 4096;
		ssize_t n = wr ? pwrite(fd, buf, 4096, off) : pread(fd, buf, 4096, off);

		if (n != 4096)
			return perror("io"), 1;
	}
	if (wr && fsync(fd) < 0)
		return perror("fsync"), 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f %.1f\n", (double)ops / s, (double)ops * 4096 / s / 1e6);
	close(fd);
	return 0;
}
