/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/file.h"

static char g_dir[64];

static const char *tmpdir(void)
{
	strcpy(g_dir, "/tmp/ward-test-file-XXXXXX");
	if (!mkdtemp(g_dir))
		abort();
	return g_dir;
}

static void cleanup_dir(void)
{
	(void)ward_rm_rf(g_dir, NULL);
}

WARD_TEST(read_caps_size)
{
	struct ward_err err = WARD_ERR_INIT;
	char path[128];
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/f", tmpdir());
	CHECK_OK(ward_file_write_atomic(path, "hello", 5, 0600, &err), &err);
	CHECK_OK(ward_file_read(path, 5, &buf, &n, &err), &err);
	CHECK_INT(n, ==, 5);
	CHECK_STR((char *)buf, "hello"); /* NUL-terminated */
	free(WARD_TAKE_PTR(buf));
	CHECK_ERR(ward_file_read(path, 4, &buf, &n, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "limit of 4");
	CHECK_ERR(ward_file_read("/nonexistent/x", 10, &buf, &n, &err), -ENOENT);
	CHECK_MSG(&err, "/nonexistent/x");
	CHECK_ERR(ward_file_read(g_dir, 10, &buf, &n, &err), -EISDIR);
	cleanup_dir();
}

WARD_TEST(read_empty_and_pipe)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t n;
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "abcdef", 6) == 6);
	close(p[1]);
	/* pipes have no size up front: the cap applies while reading */
	CHECK_ERR(ward_fd_read_all(p[0], 5, &buf, &n, &err), -WARD_E_TOO_BIG);
	close(p[0]);
	CHECK(pipe(p) == 0);
	close(p[1]);
	CHECK_OK(ward_fd_read_all(p[0], 5, &buf, &n, &err), &err);
	CHECK_INT(n, ==, 0);
	close(p[0]);
}

WARD_TEST(atomic_write_replaces)
{
	struct ward_err err = WARD_ERR_INIT;
	char path[128];
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t n;
	struct stat st;

	snprintf(path, sizeof(path), "%s/f", tmpdir());
	CHECK_OK(ward_file_write_atomic(path, "one", 3, 0644, &err), &err);
	CHECK_OK(ward_file_write_atomic(path, "two!", 4, 0600, &err), &err);
	CHECK_OK(ward_file_read(path, 100, &buf, &n, &err), &err);
	CHECK_STR((char *)buf, "two!");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	/* failure leaves nothing behind: a directory cannot be renamed over */
	snprintf(path, sizeof(path), "%s/d", g_dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(ward_file_write_atomic(path, "x", 1, 0600, &err) < 0);
	CHECK_MSG(&err, "rename");
	CHECK(rmdir(path) == 0);
	CHECK(rmdir(g_dir) != 0); /* only f remains */
	snprintf(path, sizeof(path), "%s/f", g_dir);
	CHECK(unlink(path) == 0);
	CHECK(rmdir(g_dir) == 0);
	CHECK_ERR(ward_file_write_atomic("/nonexistent/dir/f", "x", 1, 0600, &err), -ENOENT);
}

WARD_TEST(safe_relative_paths)
{
	CHECK(ward_path_is_safe_relative("a"));
	CHECK(ward_path_is_safe_relative("a/b/c"));
	CHECK(ward_path_is_safe_relative("a/b/"));
	CHECK(ward_path_is_safe_relative("..a/b.."));
	CHECK(!ward_path_is_safe_relative(""));
	CHECK(!ward_path_is_safe_relative(NULL));
	CHECK(!ward_path_is_safe_relative("/etc/passwd"));
	CHECK(!ward_path_is_safe_relative(".."));
	CHECK(!ward_path_is_safe_relative("a/../b"));
	CHECK(!ward_path_is_safe_relative("a/.."));
	CHECK(!ward_path_is_safe_relative("./a"));
	CHECK(!ward_path_is_safe_relative("a//b"));
	char big[WARD_PATH_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(!ward_path_is_safe_relative(big));
}

WARD_TEST(openat_beneath_refuses_escapes)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOCLOSE int root = -1;
	char path[128];
	int fd;

	tmpdir();
	root = open(g_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(root >= 0);
	CHECK(symlinkat("/etc", root, "abs") == 0);
	CHECK(symlinkat("../../..", root, "up") == 0);
	CHECK(symlinkat("sub", root, "rel") == 0);
	CHECK_OK(ward_mkdirat_beneath(root, "sub/deeper/x", 0700, &err), &err);
	fd = ward_openat_beneath(root, "rel/deeper/f", O_WRONLY | O_CREAT, 0600, &err);
	CHECK(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub/deeper/f", g_dir);
	CHECK(access(path, F_OK) == 0);
	CHECK_ERR(ward_openat_beneath(root, "abs/passwd", O_RDONLY, 0, &err), -EXDEV);
	CHECK_MSG(&err, "escapes");
	CHECK_ERR(ward_openat_beneath(root, "up/etc/passwd", O_RDONLY, 0, &err), -EXDEV);
	CHECK_ERR(ward_openat_beneath(root, "../x", O_RDONLY, 0, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_openat_beneath(root, "/etc/passwd", O_RDONLY, 0, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_openat_beneath(root, "missing", O_RDONLY, 0, &err), -ENOENT);
	CHECK(ward_mkdirat_beneath(root, "abs/newdir", 0700, &err) < 0);
	CHECK(access("/etc/newdir", F_OK) != 0);
	CHECK_ERR(ward_mkdirat_beneath(root, "../y", 0700, &err), -WARD_E_MALFORMED);
	cleanup_dir();
}

WARD_TEST(rm_rf_does_not_follow_symlinks)
{
	struct ward_err err = WARD_ERR_INIT;
	char keep[] = "/tmp/ward-test-keep-XXXXXX", path[128], link[128];

	CHECK(mkdtemp(keep) != NULL);
	tmpdir();
	snprintf(path, sizeof(path), "%s/a/b", g_dir);
	CHECK(mkdir(path, 0700) != 0); /* parent missing */
	snprintf(path, sizeof(path), "%s/a", g_dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(link, sizeof(link), "%s/a/link", g_dir);
	CHECK(symlink(keep, link) == 0);
	CHECK_OK(ward_rm_rf(g_dir, &err), &err);
	CHECK(access(g_dir, F_OK) != 0);
	CHECK(access(keep, F_OK) == 0);
	CHECK(rmdir(keep) == 0);
	CHECK_OK(ward_rm_rf("/tmp/ward-test-does-not-exist", &err), &err);
}

WARD_TEST(mkdtemp_error)
{
	struct ward_err err = WARD_ERR_INIT;
	char bad[] = "/nonexistent/x-XXXXXX";

	CHECK_ERR(ward_mkdtemp(bad, &err), -ENOENT);
}

WARD_TEST(write_all_error)
{
	struct ward_err err = WARD_ERR_INIT;

	CHECK_ERR(ward_fd_write_all(-1, "x", 1, &err), -EBADF);
}

WARD_TEST(fd_pio_all)
{
	int fd = memfd_create("pio", MFD_CLOEXEC);
	char buf[8] = {0}, data[] = "abcdef";

	CHECK(fd >= 0);
	CHECK_INT(ward_fd_pio_all(fd, true, data, 6, 4096), ==, 0);
	CHECK_INT(ward_fd_pio_all(fd, false, buf, 3, 4099), ==, 0);
	CHECK_MEM(buf, "def", 3);
	CHECK_INT(ward_fd_pio_all(fd, false, buf, 8, 4096), ==, -ENODATA); /* past the end */
	CHECK_INT(ward_fd_pio_all(-1, false, buf, 1, 0), ==, -EBADF);
	close(fd);
}

WARD_TEST_MAIN()
