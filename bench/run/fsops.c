/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run/fsops: what nginx's per-request file operations cost on one
 * filesystem, in ns per operation (median of 5 batches):
 *   miss  open(2) of a name that does not exist (nginx's `index` list tries
 *         index.html and index.htm before index.nginx-debian.html)
 *   hit   open, read 4 KiB, close of an existing file (the page it serves)
 *   log   a 100-byte append to an open file (the access log)
 * Usage: fsops DIR EXISTING-FILE   (DIR must be writable for "log") */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 100000
#define BATCHES 5

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* op: 0 miss, 1 hit, 2 log; returns ns per operation, or -1 */
static double batch(int op, const char *path, int logfd)
{
	static char buf[4096];
	double t0 = now_ns();

	for (int i = 0; i < N; i++) {
		if (op == 2) {
			if (write(logfd, buf, 100) != 100)
				return -1;
			continue;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (op == 0 && fd >= 0)
			return -1;
		if (op == 1) {
			if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
				return -1;
		}
		if (fd >= 0)
			close(fd);
	}
	return (now_ns() - t0) / N;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"miss", "hit", "log"};
	char miss[4096], logp[4096];
	int logfd;

	if (argc != 3) {
		fprintf(stderr, "usage: fsops DIR EXISTING-FILE\n");
		return 2;
	}
	snprintf(miss, sizeof(miss), "%s/fsops-no-such-file", argv[1]);
	snprintf(logp, sizeof(logp), "%s/fsops-log.%d", argv[1], (int)getpid());
	logfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (logfd < 0) {
		perror(logp);
		return 1;
	}
	for (int op = 0; op < 3; op++) {
		double t[BATCHES];

		for (int b = 0; b < BATCHES; b++) {
			t[b] = batch(op, op == 0 ? miss : argv[2], logfd);
			if (t[b] < 0) {
				fprintf(stderr, "fsops: %s failed on %s\n", names[op],
					op == 0 ? miss : argv[2]);
				unlink(logp);
				return 1;
			}
			if (op == 2 && ftruncate(logfd, 0) < 0)
				perror("ftruncate");
		}
		qsort(t, BATCHES, sizeof(t[0]), cmp);
		printf("%s %.0f ", names[op], t[BATCHES / 2]);
	}
	printf("\n");
	close(logfd);
	unlink(logp);
	return 0;
}
