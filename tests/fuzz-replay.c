/* SPDX-License-Identifier: Apache-2.0 */
/* Replay driver for libFuzzer targets outside the fuzz build: feeds every
 * file in the given files/directories to LLVMFuzzerTestOneInput once, so
 * each corpus (and each crash found) is a regression test in CTest. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf;
	long n;

	if (!f) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	(*count)++;
	return 0;
}

static int replay(const char *path, size_t *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (stat(path, &st) != 0) {
		/* A missing optional corpus (e.g. shared vectors absent) is not an error. */
		fprintf(stderr, "fuzz-replay: skipping %s: %s\n", path, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (replay(sub, count) < 0)
			r = -1;
	}
	closedir(d);
	return r;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int r = 0;

	for (int i = 1; i < argc; i++)
		if (replay(argv[i], &count) < 0)
			r = 1;
	/* Run the empty input too: every target must survive it. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("fuzz-replay: %zu inputs replayed\n", count);
	if (count == 0 && argc > 1)
		fprintf(stderr, "fuzz-replay: warning: empty corpus\n");
	return r;
}
