/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert: package an image as a confidential image, decrypt one, or
 * verify a converted image's signature. Parsing and output only; the work
 * is in lib/image. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/image.h"
#include "ward/log.h"
#include "ward/util.h"

#define MAX_KEYS 16

static void img_json_decrefp_cli(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define PEM_MAX (64u << 10)

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward convert [OPTIONS] INPUT -o OUTPUT\n"
		"       ward convert --decrypt (--key PRIV.pem... | --keys FILE) INPUT -o OUTPUT\n"
		"       ward convert verify --key PUB.pem IMAGE\n"
		"\n"
		"Turn a Docker/OCI image into a confidential image: layers encrypted with\n"
		"AES-256-CTR + HMAC-SHA256 (ocicrypt), keys wrapped as JWE to recipients,\n"
		"optionally signed, with reference values for the coordinator manifest.\n"
		"INPUT is a docker-archive (docker save), an oci-archive or an OCI layout dir.\n"
		"\n"
		"Options:\n"
		"  -o, --output PATH          output image (must not exist)\n"
		"  --format FMT               oci (layout dir, default), oci-archive, docker-archive\n"
		"  --mode MODE                wrapped (default) or ocicrypt\n"
		"  --rootfs LAYOUT            wrapped mode: layers (default: the encrypted layers,\n"
		"                             unpacked at every start), volume (one read-only\n"
		"                             protected volume, mounted at start) or ext4 (one\n"
		"                             sealed ext4 image, decrypted into memory and mounted\n"
		"                             read-write at start); docs/images.md\n"
		"  --rootfs-size SIZE         --rootfs ext4: filesystem size in bytes, suffix K, M\n"
		"                             or G (default: the larger of 8G and twice the content;\n"
		"                             only what is written is stored)\n"
		"  --tag TAG                  select TAG in the input (default: the only image)\n"
		"  --platform OS/ARCH[/VAR]   select from an index (default linux/amd64)\n"
		"  --output-tag TAG           tag of the output (default: the input tag)\n"
		"  --recipient jwe:PUB.pem    wrap layer keys to this RSA/EC public key (repeatable)\n"
		"  --export-keys FILE         also write the plaintext layer keys to FILE (0600)\n"
		"  --sign KEY.pem             sign the manifest digest (EC P-256/P-384 or RSA)\n"
		"  --reference-out FILE       write the reference values (JSON) to FILE\n"
		"  --ward-init PATH           ward-init binary for wrapped mode (default: next to ward)\n"
		"  --coordinator-pin CERT.pem wrapped mode: measure the coordinator's certificate\n"
		"                             into the image (/.ward/coordinator.pem, ward-init's pin)\n"
		"  --source-date-epoch N      timestamps (default $SOURCE_DATE_EPOCH, else now)\n"
		"  --compression ALGO         gzip (default) or zstd, for layers stored uncompressed\n"
		"                             in INPUT (compressed layers are kept as they are)\n"
		"  --gzip-level N             when layers need gzip compressing: libdeflate at\n"
		"                             level 1..12 (smaller output, slower); without it,\n"
		"                             ISA-L igzip (fastest, output a few %% larger)\n"
		"  --zstd-level N             1..19 with --compression zstd (default 3)\n"
		"  --threads N                1 or 2 (default 2)\n"
		"  --insecure-seed HEX        TEST ONLY: derive layer keys and nonces from HEX\n"
		"  -v, --verbose              per-layer lines even when stderr is not a terminal\n"
		"  -q, --quiet                no progress, no summary\n"
		"Decrypt options:\n"
		"  --decrypt                  decrypt INPUT (either mode) into a plain image\n"
		"  --key PRIV.pem             private key for the JWE-wrapped keys (repeatable)\n"
		"  --keys FILE                a file written by --export-keys\n"
		"\n"
		"Exit status: 0 success, 1 failure (nothing is left at OUTPUT), 2 usage error.\n");
}

/* ---- progress ------------------------------------------------------------ */

struct progress {
	bool tty, verbose;
	struct timespec start;
	size_t layer;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_cb(void *ctx, size_t layer, size_t count, uint64_t done, uint64_t total,
			bool finished)
{
	struct progress *p = ctx;
	static double t0, last;
	double t = now_s(), rate;

	if (done == 0 || layer != p->layer || t0 == 0) {
		if (layer != p->layer || t0 == 0)
			t0 = t;
		p->layer = layer;
	}
	rate = t > t0 ? (double)done / (t - t0) : 0;
	if (p->tty) {
		if (!finished && t - last < 0.1)
			return;
		last = t;
		if (total) {
			int width = 30, fill = (int)((double)done / (double)total * width);
			double eta = rate > 0 ? (double)(total - done) / rate : 0;

			fprintf(stderr, "\rlayer %zu/%zu [%-*.*s] %6.1f/%.1f MB %6.1f MB/s ETA %3.0fs ",
				layer + 1, count, width, fill,
				"##############################", (double)done / 1e6,
				(double)total / 1e6, rate / 1e6, eta);
		} else {
			fprintf(stderr, "\rlayer %zu/%zu %6.1f MB %6.1f MB/s ", layer + 1, count,
				(double)done / 1e6, rate / 1e6);
		}
		if (finished)
			fputc('\n', stderr);
	} else if (p->verbose && finished) {
		fprintf(stderr, "layer %zu/%zu: %.1f MB in %.2fs (%.1f MB/s)\n", layer + 1, count,
			(double)done / 1e6, t - t0, rate / 1e6);
	}
	if (finished)
		t0 = 0;
}

/* ---- helpers --------------------------------------------------------------- */

static int load_key(const char *path, struct ward_pkey **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *pem = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, PEM_MAX, &pem, &size, err);
	if (r >= 0)
		r = ward_pkey_from_pem(pem, size, ret, err);
	if (pem)
		ward_wipe(pem, size);
	if (r < 0)
		return ward_err_prefix(err, "key '%.200s'", path);
	return 0;
}

static int parse_format(const char *s, enum ward_image_format *ret)
{
	if (!strcmp(s, "oci") || !strcmp(s, "oci-dir") || !strcmp(s, "oci-layout"))
		*ret = WARD_IMAGE_FORMAT_OCI_DIR;
	else if (!strcmp(s, "oci-archive"))
		*ret = WARD_IMAGE_FORMAT_OCI_ARCHIVE;
	else if (!strcmp(s, "docker-archive"))
		*ret = WARD_IMAGE_FORMAT_DOCKER_ARCHIVE;
	else
		return -1;
	return 0;
}

/* ward-init next to the ward binary: the build tree layout
 * (cmd/ward/ward -> cmd/ward-init/ward-init) or an install (same dir). */
static char *default_ward_init(void)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *dir;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = dirname(exe);
	snprintf(cand, sizeof(cand), "%s/../ward-init/ward-init", dir);
	if (access(cand, R_OK) == 0)
		return strdup(cand);
	snprintf(cand, sizeof(cand), "%s/ward-init", dir);
	if (access(cand, R_OK) == 0)
		return strdup(cand);
	return NULL;
}

static void free_keys(struct ward_pkey **k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ward_pkey_free(k[i]);
}

static int run_verify(int argc, char **argv)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	struct ward_err err = WARD_ERR_INIT;
	const char *key_path = NULL, *tag = NULL, *image = NULL;
	char digest[72];
	int r;

	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			help(stdout);
			return WARD_EXIT_OK;
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key_path = argv[++i];
		else if (!strcmp(argv[i], "--tag") && i + 1 < argc)
			tag = argv[++i];
		else if (argv[i][0] == '-')
			return cli_usage("convert", "verify: unknown option '%s'", argv[i]);
		else if (!image)
			image = argv[i];
		else
			return cli_usage("convert", "verify: unexpected argument '%s'", argv[i]);
	}
	if (!key_path || !image)
		return cli_usage("convert", "verify needs --key PUB.pem and IMAGE");
	r = load_key(key_path, &key, &err);
	if (r >= 0)
		r = ward_image_verify_signature(image, tag, key, digest, &err);
	if (r < 0)
		return cli_fail("convert verify", &err);
	printf("signature OK: %s\n", digest);
	return WARD_EXIT_OK;
}

static void print_summary(const json_t *ref)
{
	const json_t *layers = json_object_get(ref, "layers"), *l;
	size_t i;

	printf("image digest:  %s\n", json_string_value(json_object_get(ref, "image_digest")));
	printf("config digest: %s\n", json_string_value(json_object_get(ref, "config_digest")));
	if (json_is_string(json_object_get(ref, "ward_init_digest")))
		printf("ward-init:     %s\n",
		       json_string_value(json_object_get(ref, "ward_init_digest")));
	printf("sim measurement: %s\n",
	       json_string_value(json_object_get(json_object_get(ref, "measurements"), "sim")));
	if (json_is_object(json_object_get(ref, "rootfs")) &&
	    json_is_string(json_object_get(json_object_get(ref, "rootfs"), "digest"))) {
		printf("root ext4:     %s (%lld bytes)\n",
		       json_string_value(json_object_get(json_object_get(ref, "rootfs"), "digest")),
		       (long long)json_integer_value(
			   json_object_get(json_object_get(ref, "rootfs"), "size")));
		return;
	}
	if (json_is_object(json_object_get(ref, "rootfs"))) {
		printf("root volume:   %s (volume %s)\n",
		       json_string_value(json_object_get(json_object_get(ref, "rootfs"), "root")),
		       json_string_value(
			   json_object_get(json_object_get(ref, "rootfs"), "volume_id")));
		return;
	}
	json_array_foreach(layers, i, l)
		printf("layer %zu: %s -> %s\n", i,
		       json_string_value(json_object_get(l, "plain_digest")),
		       json_string_value(json_object_get(l, "encrypted_digest")));
}

enum {
	OPT_FORMAT = 1000,
	OPT_MODE,
	OPT_TAG,
	OPT_PLATFORM,
	OPT_OUTPUT_TAG,
	OPT_RECIPIENT,
	OPT_EXPORT_KEYS,
	OPT_SIGN,
	OPT_REFERENCE_OUT,
	OPT_WARD_INIT,
	OPT_COORD_PIN,
	OPT_SDE,
	OPT_GZIP_LEVEL,
	OPT_COMPRESSION,
	OPT_ZSTD_LEVEL,
	OPT_THREADS,
	OPT_INSECURE_SEED,
	OPT_DECRYPT,
	OPT_KEY,
	OPT_KEYS,
	OPT_ROOTFS,
	OPT_ROOTFS_SIZE,
};

/* "SIZE" in bytes with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret)
{
	char digits[32];
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (len == 0 || len >= sizeof(digits))
		return -1;
	if (strchr("Kk", s[len - 1]))
		shift = 10;
	else if (strchr("Mm", s[len - 1]))
		shift = 20;
	else if (strchr("Gg", s[len - 1]))
		shift = 30;
	if (shift)
		len--;
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (ward_parse_u64(digits, &v) < 0 || v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*ret = v << shift;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"mode", required_argument, NULL, OPT_MODE},
		{"tag", required_argument, NULL, OPT_TAG},
		{"platform", required_argument, NULL, OPT_PLATFORM},
		{"output-tag", required_argument, NULL, OPT_OUTPUT_TAG},
		{"recipient", required_argument, NULL, OPT_RECIPIENT},
		{"export-keys", required_argument, NULL, OPT_EXPORT_KEYS},
		{"sign", required_argument, NULL, OPT_SIGN},
		{"reference-out", required_argument, NULL, OPT_REFERENCE_OUT},
		{"ward-init", required_argument, NULL, OPT_WARD_INIT},
		{"coordinator-pin", required_argument, NULL, OPT_COORD_PIN},
		{"source-date-epoch", required_argument, NULL, OPT_SDE},
		{"gzip-level", required_argument, NULL, OPT_GZIP_LEVEL},
		{"compression", required_argument, NULL, OPT_COMPRESSION},
		{"zstd-level", required_argument, NULL, OPT_ZSTD_LEVEL},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"insecure-seed", required_argument, NULL, OPT_INSECURE_SEED},
		{"decrypt", no_argument, NULL, OPT_DECRYPT},
		{"key", required_argument, NULL, OPT_KEY},
		{"keys", required_argument, NULL, OPT_KEYS},
		{"rootfs", required_argument, NULL, OPT_ROOTFS},
		{"rootfs-size", required_argument, NULL, OPT_ROOTFS_SIZE},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct ward_pkey *recipients[MAX_KEYS] = {0}, *keys[MAX_KEYS] = {0};
	size_t n_recipients = 0, n_keys = 0;
	const char *recipient_paths[MAX_KEYS], *key_paths[MAX_KEYS];
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *sign_key = NULL;
	WARD_AUTOFREE uint8_t *seed = NULL;
	WARD_AUTOFREE char *ward_init = NULL;
	struct ward_image_convert_opts co = {.source_date_epoch = -1};
	struct ward_image_decrypt_opts dopts = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct progress prog = {.tty = isatty(STDERR_FILENO) == 1, .layer = (size_t)-1};
	const char *sign_path = NULL, *ref_out = NULL, *keys_file = NULL, *sde_env;
	bool decrypt = false, quiet = false;
	size_t seed_size = 0;
	int c, r, rc = WARD_EXIT_FAILURE;

	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return run_verify(argc - 1, argv + 1);
	co.format = WARD_IMAGE_FORMAT_OCI_DIR;
	co.mode = WARD_IMAGE_MODE_WRAPPED;
	sde_env = getenv("SOURCE_DATE_EPOCH");
	if (sde_env && *sde_env) {
		uint64_t v;

		if (ward_parse_u64(sde_env, &v) < 0 || v > INT64_MAX / 2)
			return cli_usage("convert", "SOURCE_DATE_EPOCH '%s' is not a number", sde_env);
		co.source_date_epoch = (int64_t)v;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			co.output = optarg;
			break;
		case OPT_FORMAT:
			if (parse_format(optarg, &co.format) < 0)
				return cli_usage("convert", "unknown format '%s'", optarg);
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "wrapped"))
				co.mode = WARD_IMAGE_MODE_WRAPPED;
			else if (!strcmp(optarg, "ocicrypt"))
				co.mode = WARD_IMAGE_MODE_OCICRYPT;
			else
				return cli_usage("convert", "unknown mode '%s'", optarg);
			break;
		case OPT_ROOTFS:
			if (!strcmp(optarg, "layers"))
				co.rootfs = WARD_IMAGE_ROOTFS_LAYERS;
			else if (!strcmp(optarg, "volume"))
				co.rootfs = WARD_IMAGE_ROOTFS_VOLUME;
			else if (!strcmp(optarg, "ext4"))
				co.rootfs = WARD_IMAGE_ROOTFS_EXT4;
			else
				return cli_usage("convert",
						 "unknown --rootfs '%s' (layers, volume or ext4)",
						 optarg);
			break;
		case OPT_ROOTFS_SIZE:
			if (parse_size(optarg, &co.rootfs_size) < 0)
				return cli_usage("convert",
						 "--rootfs-size '%s' is not a size in bytes (suffix "
						 "K, M or G allowed)",
						 optarg);
			break;
		case OPT_TAG:
			co.tag = optarg;
			break;
		case OPT_PLATFORM:
			co.platform = optarg;
			break;
		case OPT_OUTPUT_TAG:
			co.output_tag = optarg;
			break;
		case OPT_RECIPIENT:
			if (strncmp(optarg, "jwe:", 4) != 0)
				return cli_usage("convert",
						 "recipient '%s' must be jwe:PUBKEY.pem", optarg);
			if (n_recipients == MAX_KEYS)
				return cli_usage("convert", "at most %d recipients", MAX_KEYS);
			recipient_paths[n_recipients++] = optarg + 4;
			break;
		case OPT_EXPORT_KEYS:
			co.export_keys = optarg;
			break;
		case OPT_SIGN:
			sign_path = optarg;
			break;
		case OPT_REFERENCE_OUT:
			ref_out = optarg;
			break;
		case OPT_WARD_INIT:
			co.ward_init = optarg;
			break;
		case OPT_COORD_PIN:
			co.coordinator_pin = optarg;
			break;
		case OPT_SDE: {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v > INT64_MAX / 2)
				return cli_usage("convert", "--source-date-epoch '%s' is not a number",
						 optarg);
			co.source_date_epoch = (int64_t)v;
			break;
		}
		case OPT_GZIP_LEVEL: {
			uint32_t v;

			if (ward_parse_u32(optarg, &v) < 0 || v < 1 || v > 12)
				return cli_usage("convert", "--gzip-level must be 1..12");
			co.gzip_level = (int)v;
			break;
		}
		case OPT_COMPRESSION:
			if (strcmp(optarg, "gzip") == 0)
				co.compression = WARD_IMAGE_COMPRESSION_GZIP;
			else if (strcmp(optarg, "zstd") == 0)
				co.compression = WARD_IMAGE_COMPRESSION_ZSTD;
			else
				return cli_usage("convert", "--compression must be gzip or zstd, not '%s'",
						 optarg);
			break;
		case OPT_ZSTD_LEVEL: {
			uint32_t v;

			if (ward_parse_u32(optarg, &v) < 0 || v < 1 || v > 19)
				return cli_usage("convert", "--zstd-level must be 1..19");
			co.zstd_level = (int)v;
			break;
		}
		case OPT_THREADS: {
			uint32_t v;

			if (ward_parse_u32(optarg, &v) < 0 || v < 1 || v > 2)
				return cli_usage("convert", "--threads must be 1 or 2");
			co.threads = v;
			break;
		}
		case OPT_INSECURE_SEED:
#if !WARD_INSECURE_TEST_SWITCHES
			return cli_usage("convert", "--insecure-seed is not available in this build "
						    "(distribution builds leave test switches out)");
#endif
			free(seed);
			seed = NULL;
			if (ward_hex_decode(optarg, strlen(optarg), &seed, &seed_size, &err) < 0 ||
			    seed_size < 16)
				return cli_usage("convert",
						 "--insecure-seed must be at least 16 bytes of hex");
			break;
		case OPT_DECRYPT:
			decrypt = true;
			break;
		case OPT_KEY:
			if (n_keys == MAX_KEYS)
				return cli_usage("convert", "at most %d keys", MAX_KEYS);
			key_paths[n_keys++] = optarg;
			break;
		case OPT_KEYS:
			keys_file = optarg;
			break;
		case 'v':
			prog.verbose = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		case ':':
			return cli_usage("convert", "option '%s' needs an argument", argv[optind - 1]);
		default:
			return cli_usage("convert", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage("convert", optind >= argc ? "missing INPUT"
							   : "expected exactly one INPUT");
	if (!co.output)
		return cli_usage("convert", "missing -o OUTPUT");
	co.input = argv[optind];
	if (quiet)
		prog.tty = prog.verbose = false;

	if (decrypt) {
		if (n_recipients || sign_path || co.export_keys || seed || ref_out)
			return cli_usage("convert", "--decrypt takes only --key/--keys, --tag, "
						    "--platform, --format, --output-tag");
		if (!n_keys && !keys_file)
			return cli_usage("convert", "--decrypt needs --key PRIV.pem or --keys FILE");
		for (size_t i = 0; i < n_keys; i++)
			if (load_key(key_paths[i], &keys[i], &err) < 0) {
				free_keys(keys, n_keys);
				return cli_fail("convert", &err);
			}
		dopts.input = co.input;
		dopts.tag = co.tag;
		dopts.platform = co.platform;
		dopts.output = co.output;
		dopts.output_tag = co.output_tag;
		dopts.format = co.format;
		dopts.keys = keys;
		dopts.key_count = n_keys;
		dopts.keys_file = keys_file;
		dopts.progress = progress_cb;
		dopts.progress_ctx = &prog;
		r = ward_image_decrypt(&dopts, &err);
		free_keys(keys, n_keys);
		if (r < 0)
			return cli_fail("convert", &err);
		if (!quiet)
			printf("decrypted %s -> %s\n", co.input, co.output);
		return WARD_EXIT_OK;
	}
	if (n_keys || keys_file)
		return cli_usage("convert", "--key/--keys are for --decrypt");
	if (co.rootfs_size && co.rootfs != WARD_IMAGE_ROOTFS_EXT4)
		return cli_usage("convert", "--rootfs-size is for --rootfs ext4");
	if (!n_recipients && !co.export_keys)
		return cli_usage("convert", "give --recipient jwe:PUB.pem and/or --export-keys FILE "
					    "(otherwise the layer keys would be lost)");
	if (seed) {
		ward_warn("--insecure-seed: layer keys and nonces are derived from a fixed seed; "
			  "TEST ONLY, never for real images");
		co.insecure_seed = seed;
		co.insecure_seed_size = seed_size;
	}
	if (co.mode == WARD_IMAGE_MODE_WRAPPED && !co.ward_init) {
		ward_init = default_ward_init();
		if (!ward_init)
			return cli_usage("convert", "ward-init not found next to ward; use --ward-init");
		co.ward_init = ward_init;
	}
	for (size_t i = 0; i < n_recipients; i++)
		if (load_key(recipient_paths[i], &recipients[i], &err) < 0)
			goto out;
	if (sign_path && load_key(sign_path, &sign_key, &err) < 0)
		goto out;
	co.recipients = recipients;
	co.recipient_count = n_recipients;
	co.sign_key = sign_key;
	co.progress = progress_cb;
	co.progress_ctx = &prog;
	{
		WARD_CLEANUP(img_json_decrefp_cli) json_t *ref = NULL;

		r = ward_image_convert(&co, &ref, &err);
		if (r < 0)
			goto out;
		if (ref_out) {
			WARD_AUTOFREE char *txt = json_dumps(ref, JSON_INDENT(2) | JSON_SORT_KEYS);

			if (!txt) {
				ward_err_set(&err, -ENOMEM, "out of memory");
				goto out;
			}
			r = ward_file_write_atomic(ref_out, txt, strlen(txt), 0644, &err);
			if (r < 0) {
				ward_err_prefix(&err, "reference values '%s' (the image was written)",
						ref_out);
				goto out;
			}
		}
		if (json_is_false(json_object_get(ref, "ward_init_static")))
			ward_warn("ward-init '%s' is dynamically linked: the wrapped image runs only "
				  "where its loader and libraries exist (not in scratch or musl "
				  "images); build ward-init statically",
				  co.ward_init);
		if (!quiet)
			print_summary(ref);
	}
	rc = WARD_EXIT_OK;
out:
	free_keys(recipients, n_recipients);
	if (rc != WARD_EXIT_OK)
		return cli_fail("convert", &err);
	return rc;
}

const struct ward_cmd cmd_convert = {"convert",
				     "convert an OCI/Docker image into a confidential image", run,
				     help};
