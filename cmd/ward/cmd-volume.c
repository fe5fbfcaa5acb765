/* SPDX-License-Identifier: Apache-2.0 */
/* ward volume: create, check, inspect and mount protected volumes. The
 * mount subcommand is the FUSE server ward-init runs inside the TEE; for
 * development it takes the volume key from a file and keeps the freshness
 * registry in a local file (the coordinator replaces both). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/util.h"
#include "ward/vol.h"

int volume_accept_rollback(int argc, char **argv); /* cmd-volume-accept.c */

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward volume create DIR --key-file FILE [--new-key] [--block-size N]\n"
		"                          [--registry FILE]\n"
		"       ward volume check DIR --key-file FILE [--registry FILE]\n"
		"       ward volume inspect DIR\n"
		"       ward volume accept-rollback DIR WORKLOAD/VOLUME --coordinator URL\n"
		"                          --user NAME --key FILE (see its --help)\n"
		"       ward volume mount DIR MOUNTPOINT --key-file FILE [--registry FILE]\n"
		"                          [--commit-interval MS] [--no-writeback-cache]\n"
		"                          [--allow-other] [--accept-rollback-insecure] [--debug]\n"
		"\n"
		"Protected volumes: files encrypted and integrity-checked block by block,\n"
		"names hidden, and the volume state bound to a root hash whose version is\n"
		"registered so that a rolled-back backing directory is refused. DIR is the\n"
		"backing directory on untrusted storage. See docs/volumes.md.\n"
		"\n"
		"  --key-file FILE      volume key: 32 raw bytes or 64 hex digits\n"
		"  --new-key            (create) generate a random key into FILE (mode 0600;\n"
		"                       FILE must not exist)\n"
		"  --block-size N       (create) 4096 (default) .. 1048576, a power of two\n"
		"  --registry FILE      freshness registry: a DEVELOPMENT STAND-IN for the\n"
		"                       coordinator, kept outside DIR; it does not stop a host\n"
		"                       that also rolls this file back\n"
		"  --commit-interval MS (mount) commit + register changes at most MS after\n"
		"                       they happen (default 1000); fsync commits at once\n"
		"  --accept-rollback-insecure  (mount) accept an on-disk state older than the\n"
		"                       registered one (audit-logged; development builds only:\n"
		"                       in production this goes through the coordinator)\n"
		"\n"
		"check verifies the whole volume offline: metadata, every block of every\n"
		"file, freshness against the registry, nothing foreign in DIR.\n"
		"Exit status: 0 success, 1 failure or verification refused, 2 usage error.\n");
}

enum {
	OPT_KEY_FILE = 256,
	OPT_NEW_KEY,
	OPT_BLOCK_SIZE,
	OPT_REGISTRY,
	OPT_COMMIT_INTERVAL,
	OPT_NO_WRITEBACK,
	OPT_ALLOW_OTHER,
	OPT_ACCEPT_ROLLBACK,
	OPT_DEBUG,
};

static const struct option options[] = {
	{"key-file", required_argument, NULL, OPT_KEY_FILE},
	{"new-key", no_argument, NULL, OPT_NEW_KEY},
	{"block-size", required_argument, NULL, OPT_BLOCK_SIZE},
	{"registry", required_argument, NULL, OPT_REGISTRY},
	{"commit-interval", required_argument, NULL, OPT_COMMIT_INTERVAL},
	{"no-writeback-cache", no_argument, NULL, OPT_NO_WRITEBACK},
	{"allow-other", no_argument, NULL, OPT_ALLOW_OTHER},
	{"accept-rollback-insecure", no_argument, NULL, OPT_ACCEPT_ROLLBACK},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *key_file, *registry;
	bool new_key, no_writeback, allow_other, accept_rollback, debug;
	uint32_t block_size, commit_interval;
	char *pos[2];
	int npos;
};

/* Read a volume key: exactly 32 raw bytes, or 64 hex digits with an
 * optional trailing newline. */
static int key_read(const char *path, uint8_t key[WARD_VOL_KEY_SIZE], struct ward_err *err)
{
	uint8_t *raw = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, 256, &raw, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "key file '%s'", path);
	if (size == WARD_VOL_KEY_SIZE) {
		memcpy(key, raw, WARD_VOL_KEY_SIZE);
		r = 0;
	} else {
		size_t n = size;

		if (n > 0 && raw[n - 1] == '\n')
			n--;
		r = n == 2 * WARD_VOL_KEY_SIZE
			    ? ward_hex_decode_fixed((const char *)raw, n, key, WARD_VOL_KEY_SIZE, err)
			    : -WARD_E_MALFORMED;
		if (r < 0)
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "key file '%s': expected 32 raw bytes or 64 hex digits",
					 path);
	}
	ward_wipe(raw, size);
	free(raw);
	return r;
}

static int key_generate(const char *path, uint8_t key[WARD_VOL_KEY_SIZE], struct ward_err *err)
{
	char hexkey[2 * WARD_VOL_KEY_SIZE + 2];
	WARD_CLEANUP_ERASE(hexkey);
	int fd, r;

	r = ward_random(key, WARD_VOL_KEY_SIZE, err);
	if (r < 0)
		return r;
	ward_hex_encode(key, WARD_VOL_KEY_SIZE, hexkey);
	hexkey[2 * WARD_VOL_KEY_SIZE] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_err_errno(err, -errno, "create key file '%s'", path);
	r = ward_fd_write_all(fd, hexkey, 2 * WARD_VOL_KEY_SIZE + 1, err);
	if (r == 0 && fsync(fd) < 0)
		r = ward_err_errno(err, -errno, "sync key file '%s'", path);
	close(fd);
	if (r < 0)
		(void)unlink(path);
	return r;
}

static int parse(const char *sub, int argc, char **argv, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->block_size = WARD_VOL_BLOCK_DEFAULT;
	a->commit_interval = 1000;
	optind = 1;
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "+h", options, NULL);
		if (c == -1) {
			/* A positional argument; options may follow it. */
			if (optind >= argc)
				break;
			if (strcmp(argv[optind], "--") == 0) {
				optind++;
				continue;
			}
			if (a->npos == 2)
				return cli_usage(sub, "unexpected argument '%s'", argv[optind]);
			a->pos[a->npos++] = argv[optind++];
			continue;
		}
		switch (c) {
		case OPT_KEY_FILE:
			a->key_file = optarg;
			break;
		case OPT_NEW_KEY:
			a->new_key = true;
			break;
		case OPT_BLOCK_SIZE:
			if (ward_parse_u32(optarg, &a->block_size) < 0)
				return cli_usage(sub, "bad --block-size '%s'", optarg);
			break;
		case OPT_REGISTRY:
			a->registry = optarg;
			break;
		case OPT_COMMIT_INTERVAL:
			if (ward_parse_u32(optarg, &a->commit_interval) < 0 ||
			    a->commit_interval > 3600000)
				return cli_usage(sub, "bad --commit-interval '%s'", optarg);
			break;
		case OPT_NO_WRITEBACK:
			a->no_writeback = true;
			break;
		case OPT_ALLOW_OTHER:
			a->allow_other = true;
			break;
		case OPT_ACCEPT_ROLLBACK:
#if !WARD_INSECURE_TEST_SWITCHES
			/* In production an authorised user accepts an older
			 * state through the coordinator, not on this command line. */
			return cli_usage(sub, "--accept-rollback-insecure is not available in this "
					      "build (distribution builds leave test switches out)");
#endif
			a->accept_rollback = true;
			break;
		case OPT_DEBUG:
			a->debug = true;
			break;
		case 'h':
			help(stdout);
			return -1;
		default:
			return cli_usage(sub, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

static void print_id(const char *label, const uint8_t *p, size_t n)
{
	char h[2 * 32 + 1];

	ward_hex_encode(p, n, h);
	printf("%s%s\n", label, h);
}

static int do_create(struct args *a)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_registry_file_freep) struct ward_vol_registry *reg = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t key[WARD_VOL_KEY_SIZE], id[WARD_VOL_ID_SIZE];
	WARD_CLEANUP_ERASE(key);
	int r;

	if (a->npos != 1)
		return cli_usage("volume create", "expected the backing directory");
	if (!a->key_file)
		return cli_usage("volume create", "--key-file is required");
	if (mkdir(a->pos[0], 0700) < 0 && errno != EEXIST) {
		ward_err_errno(&err, -errno, "create '%s'", a->pos[0]);
		return cli_fail("volume create", &err);
	}
	r = a->new_key ? key_generate(a->key_file, key, &err) : key_read(a->key_file, key, &err);
	if (r < 0)
		return cli_fail("volume create", &err);
	if (ward_vol_io_posix(a->pos[0], &io, &err) < 0 ||
	    (a->registry && ward_vol_registry_file(a->registry, &reg, &err) < 0) ||
	    ward_vol_create(io, ward_vol_crypto_default(), reg, key, a->block_size, id, &err) < 0)
		return cli_fail("volume create", &err);
	print_id("created volume ", id, sizeof(id));
	return WARD_EXIT_OK;
}

static int open_common(const char *sub, struct args *a, struct ward_vol_io **io,
		       struct ward_vol_registry **reg, uint8_t key[WARD_VOL_KEY_SIZE],
		       struct ward_err *err)
{
	if (!a->key_file)
		return cli_usage(sub, "--key-file is required");
	if (key_read(a->key_file, key, err) < 0 || ward_vol_io_posix(a->pos[0], io, err) < 0 ||
	    (a->registry && ward_vol_registry_file(a->registry, reg, err) < 0))
		return cli_fail(sub, err);
	return 0;
}

static int do_check(struct args *a)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_registry_file_freep) struct ward_vol_registry *reg = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_check_result res;
	struct ward_vol_opts o = {0};
	uint8_t key[WARD_VOL_KEY_SIZE];
	WARD_CLEANUP_ERASE(key);
	int r;

	if (a->npos != 1)
		return cli_usage("volume check", "expected the backing directory");
	r = open_common("volume check", a, &io, &reg, key, &err);
	if (r)
		return r;
	o.io = io;
	o.crypto = ward_vol_crypto_default();
	o.registry = reg;
	if (ward_vol_check(&o, key, &res, &err) < 0)
		return cli_fail("volume check", &err);
	print_id("volume ", res.id, sizeof(res.id));
	printf("version %" PRIu64 "%s\n", res.version,
	       reg ? " (matches or is newer than the registry)" : " (no registry given)");
	print_id("root ", res.root, sizeof(res.root));
	printf("ok: %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " symlinks, %" PRIu64
	       " blocks, %" PRIu64 " bytes verified\n",
	       res.files, res.dirs, res.symlinks, res.blocks, res.bytes);
	return WARD_EXIT_OK;
}

static int do_inspect(struct args *a)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_info info;
	char created[WARD_RFC3339_SIZE];

	if (a->npos != 1)
		return cli_usage("volume inspect", "expected the backing directory");
	if (ward_vol_io_posix(a->pos[0], &io, &err) < 0 || ward_vol_inspect(io, &info, &err) < 0)
		return cli_fail("volume inspect", &err);
	ward_time_format_rfc3339((time_t)info.created, created);
	print_id("volume     ", info.id, sizeof(info.id));
	printf("format     %u\nblock size %u\ncreated    %s (unauthenticated)\n"
	       "version    %" PRIu64 " (unauthenticated; 'check' verifies)\n"
	       "metadata   %" PRIu64 " bytes\ndata files %" PRIu64 " (%" PRIu64 " bytes)\n",
	       info.format, info.block_size, created, info.version, info.meta_size, info.blobs,
	       info.blob_bytes);
	if (info.other_files)
		printf("foreign    %" PRIu64 " file(s) not part of the volume\n", info.other_files);
	return WARD_EXIT_OK;
}

static void ready(void *ctx)
{
	const char *mnt = ctx;

	ward_info("volume mounted at %s", mnt);
}

static int do_mount(struct args *a)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_registry_file_freep) struct ward_vol_registry *reg = NULL;
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_opts o = {0};
	struct ward_vol_fuse_opts fo = {0};
	uint8_t key[WARD_VOL_KEY_SIZE];
	WARD_CLEANUP_ERASE(key);
	struct rlimit rl;
	int r;

	if (a->npos != 2)
		return cli_usage("volume mount", "expected the backing directory and the mount point");
	/* The key lives in this process: keep it out of core dumps. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	/* Two slot files per open file: use the whole descriptor allowance. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	r = open_common("volume mount", a, &io, &reg, key, &err);
	if (r)
		return r;
	if (!reg)
		ward_warn("no --registry: rollback of the backing directory is NOT detected");
	o.io = io;
	o.crypto = ward_vol_crypto_default();
	o.registry = reg;
	o.commit_interval_ms = a->commit_interval;
	o.accept_rollback_insecure = a->accept_rollback;
	if (a->accept_rollback)
		ward_warn("--accept-rollback-insecure: an on-disk state older than the registered "
			  "one will be accepted");
	if (ward_vol_open(&o, key, &vol, &err) < 0)
		return cli_fail("volume mount", &err);
	fo.writeback_cache = !a->no_writeback;
	fo.allow_other = a->allow_other;
	fo.debug = a->debug;
	fo.ready = ready;
	fo.ready_ctx = a->pos[1];
	r = ward_vol_fuse_serve(vol, a->pos[1], &fo, &err);
	if (r < 0)
		return cli_fail("volume mount", &err);
	r = ward_vol_close(WARD_TAKE_PTR(vol), &err);
	if (r < 0)
		return cli_fail("volume mount", &err);
	return WARD_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct args a;
	const char *sub;
	int r;

	if (argc < 2)
		return cli_usage("volume", "expected create, check, inspect or mount");
	sub = argv[1];
	if (strcmp(sub, "accept-rollback") == 0)
		return volume_accept_rollback(argc - 1, argv + 1);
	r = parse("volume", argc - 1, argv + 1, &a);
	if (r < 0)
		return WARD_EXIT_OK; /* --help */
	if (r > 0)
		return r;
	if (strcmp(sub, "create") == 0)
		return do_create(&a);
	if (strcmp(sub, "check") == 0)
		return do_check(&a);
	if (strcmp(sub, "inspect") == 0)
		return do_inspect(&a);
	if (strcmp(sub, "mount") == 0)
		return do_mount(&a);
	return cli_usage("volume", "unknown subcommand '%s'", sub);
}

const struct ward_cmd cmd_volume = {"volume", "create, check, inspect and mount protected volumes",
				    run, help};
