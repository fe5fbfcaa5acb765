/* SPDX-License-Identifier: Apache-2.0 */
/* Conversion and decryption on real images: the ocicrypt vectors made by
 * skopeo (shared/vectors/ocicrypt) decrypt to the plain layers; our own
 * conversions round-trip, are reproducible with a seed, and leave nothing
 * behind on failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "image-internal.h"
#include "ward-test.h"
#include "ward/encoding.h"
#include "ward/file.h"

static const char seed[] = "insecure-test-seed-0123456789";

static char *tmpdir(void)
{
	char *t = strdup("/tmp/ward-test-convert-XXXXXX");

	if (!t || !mkdtemp(t))
		abort();
	return t;
}

static void rmtree(char *t)
{
	(void)ward_rm_rf(t, NULL);
	free(t);
}

/* ward_test_vector() returns a static buffer: copy it. */
static char *vec(const char *rel)
{
	const char *p = ward_test_vector(rel);

	return p ? strdup(p) : NULL;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..")))
			n++;
	closedir(d);
	return n;
}

/* Layer digests of an image (via the loader). */
static int layer_digests(const char *path, char out[][72], size_t *n, struct ward_err *err)
{
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	int r = img_image_load(path, NULL, NULL, &im, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < im->layer_count; i++)
		memcpy(out[i], im->layers[i].digest, 72);
	*n = im->layer_count;
	return 0;
}

/* Write a keys file from expected.json's values for one encrypted image. */
static int keys_file_from_expected(const char *which, const char *path, struct ward_err *err)
{
	const char *exp = ward_test_vector("ocicrypt/expected.json");
	json_t *j, *layers, *out, *l;
	size_t i;
	char *txt;
	int r;

	if (!exp)
		return -ENOENT;
	j = json_load_file(exp, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return ward_err_set(err, -WARD_E_MALFORMED, "expected.json");
	layers = json_object_get(json_object_get(j, which), "layers");
	out = json_object();
	json_array_foreach(layers, i, l) {
		json_t *po = json_object_get(l, "privopts_json");

		json_object_set_new(
			out, json_string_value(json_object_get(l, "encrypted_digest")),
			json_pack("{s:O, s:O, s:O}", "symkey", json_object_get(po, "symkey"), "nonce",
				  json_object_get(json_object_get(po, "cipheroptions"), "nonce"),
				  "digest", json_object_get(po, "digest")));
	}
	{
		json_t *doc = json_pack("{s:i, s:o}", "version", 1, "layers", out);

		txt = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
	}
	r = ward_file_write_atomic(path, txt, strlen(txt), 0600, err);
	free(txt);
	json_decref(j);
	return r;
}

WARD_TEST(skopeo_vector_decrypts_with_keys)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *enc = vec("ocicrypt/encrypted-rsa");
	WARD_AUTOFREE char *plain = vec("ocicrypt/plain");
	char *t = tmpdir(), kf[256], out[256];
	char want[8][72], got[8][72];
	size_t nw, ng;
	struct ward_image_decrypt_opts o = {0};

	if (!enc || !plain) {
		fprintf(stderr, "ocicrypt vectors missing: skipped\n");
		rmtree(t);
		return;
	}
	snprintf(kf, sizeof(kf), "%s/keys.json", t);
	snprintf(out, sizeof(out), "%s/out", t);
	CHECK_OK(keys_file_from_expected("encrypted-rsa", kf, &err), &err);
	o.input = enc;
	o.output = out;
	o.keys_file = kf;
	CHECK_OK(ward_image_decrypt(&o, &err), &err);
	CHECK_OK(layer_digests(plain, want, &nw, &err), &err);
	CHECK_OK(layer_digests(out, got, &ng, &err), &err);
	CHECK_INT(nw, ==, 2);
	CHECK_INT(ng, ==, nw);
	for (size_t i = 0; i < nw; i++)
		CHECK_STR(got[i], want[i]);
	/* the wrong image's keys do not fit */
	snprintf(out, sizeof(out), "%s/out2", t);
	CHECK_OK(keys_file_from_expected("encrypted-ecp256", kf, &err), &err);
	CHECK_ERR(ward_image_decrypt(&o, &err), -WARD_E_NOT_FOUND);
	CHECK(access(out, F_OK) != 0);
	rmtree(t);
}

WARD_TEST(tampered_layer_fails_hmac)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *enc = vec("ocicrypt/encrypted-rsa");
	char *t = tmpdir(), kf[256], out[256], copy[256], cmd[768], blob[512];
	struct ward_image_decrypt_opts o = {0};
	uint8_t b;
	int fd;

	if (!enc) {
		rmtree(t);
		return;
	}
	snprintf(kf, sizeof(kf), "%s/keys.json", t);
	snprintf(out, sizeof(out), "%s/out", t);
	snprintf(copy, sizeof(copy), "%s/enc", t);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", enc, copy);
	CHECK_INT(system(cmd), ==, 0);
	/* flip one bit in the 191-byte encrypted motd layer */
	snprintf(blob, sizeof(blob),
		 "%s/blobs/sha256/27d5f7011b62d2e0346b5c16ecf1ebd5117854f393111d926858b5916561e566",
		 copy);
	fd = open(blob, O_RDWR);
	CHECK(fd >= 0);
	CHECK_INT(pread(fd, &b, 1, 100), ==, 1);
	b ^= 1;
	CHECK_INT(pwrite(fd, &b, 1, 100), ==, 1);
	close(fd);
	CHECK_OK(keys_file_from_expected("encrypted-rsa", kf, &err), &err);
	o.input = copy;
	o.output = out;
	o.keys_file = kf;
	CHECK_ERR(ward_image_decrypt(&o, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "digest mismatch");
	CHECK(access(out, F_OK) != 0);
	CHECK_INT(count_entries(t), ==, 2); /* keys.json, enc: no temp leftovers */
	/* an intact image with a wrong symmetric key: the HMAC refuses it */
	{
		WARD_AUTOFREE uint8_t *raw = NULL;
		size_t size;
		char *p;

		o.input = enc;
		CHECK_OK(ward_file_read(kf, 1 << 20, &raw, &size, &err), &err);
		p = strstr((char *)raw, "\"symkey\":\"");
		CHECK(p != NULL);
		p[10] = p[10] == 'A' ? 'B' : 'A';
		CHECK_OK(ward_file_write_atomic(kf, raw, size, 0600, &err), &err);
		CHECK_ERR(ward_image_decrypt(&o, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "HMAC");
		CHECK(access(out, F_OK) != 0);
	}
	rmtree(t);
}

static int convert(const char *in, const char *out, enum ward_image_mode mode,
		   enum ward_image_format fmt, const char *keys, json_t **ref, struct ward_err *err)
{
	struct ward_image_convert_opts o = {
		.input = in,
		.output = out,
		.mode = mode,
		.format = fmt,
		.export_keys = keys,
		.ward_init = "/proc/self/exe",
		.source_date_epoch = 1700000000,
		.insecure_seed = (const uint8_t *)seed,
		.insecure_seed_size = sizeof(seed) - 1,
		.threads = 2,
	};

	return ward_image_convert(&o, ref, err);
}

static void round_trip(bool *ward_test_failed_, enum ward_image_mode mode)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *plain = vec("ocicrypt/plain");
	char *t = tmpdir(), kf[256], conv[256], dec[256];
	char want[8][72], got[8][72];
	size_t nw, ng;
	json_t *ref = NULL;
	struct ward_image_decrypt_opts o = {0};

	if (!plain) {
		rmtree(t);
		return;
	}
	snprintf(kf, sizeof(kf), "%s/keys.json", t);
	snprintf(conv, sizeof(conv), "%s/conv", t);
	snprintf(dec, sizeof(dec), "%s/dec", t);
	CHECK_OK(convert(plain, conv, mode, WARD_IMAGE_FORMAT_OCI_DIR, kf, &ref, &err), &err);
	CHECK(json_is_object(ref));
	/* converting the converted image again is refused (wrapped: by its label) */
	CHECK_ERR(convert(conv, dec, mode, WARD_IMAGE_FORMAT_OCI_DIR, kf, NULL, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "already");
	CHECK(access(dec, F_OK) != 0);
	CHECK_INT(json_array_size(json_object_get(ref, "layers")), ==, 2);
	/* the test binary standing in for ward-init is dynamically linked */
	if (mode == WARD_IMAGE_MODE_WRAPPED)
		CHECK(json_is_false(json_object_get(ref, "ward_init_static")));
	else
		CHECK(json_object_get(ref, "ward_init_static") == NULL);
	json_decref(ref);
	o.input = conv;
	o.output = dec;
	o.keys_file = kf;
	CHECK_OK(ward_image_decrypt(&o, &err), &err);
	CHECK_OK(layer_digests(plain, want, &nw, &err), &err);
	CHECK_OK(layer_digests(dec, got, &ng, &err), &err);
	CHECK_INT(ng, ==, nw);
	for (size_t i = 0; i < nw; i++)
		CHECK_STR(got[i], want[i]);
	rmtree(t);
}

WARD_TEST(round_trip_ocicrypt)
{
	round_trip(ward_test_failed_, WARD_IMAGE_MODE_OCICRYPT);
}

WARD_TEST(round_trip_wrapped)
{
	round_trip(ward_test_failed_, WARD_IMAGE_MODE_WRAPPED);
}

WARD_TEST(reproducible_with_seed)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *plain = vec("ocicrypt/plain");
	char *t = tmpdir(), a[256], b[256], ka[256], kb[256];
	json_t *ra = NULL, *rb = NULL;

	if (!plain) {
		rmtree(t);
		return;
	}
	for (int mode = 0; mode < 2; mode++) {
		snprintf(a, sizeof(a), "%s/a%d.tar", t, mode);
		snprintf(b, sizeof(b), "%s/b%d.tar", t, mode);
		snprintf(ka, sizeof(ka), "%s/ka%d", t, mode);
		snprintf(kb, sizeof(kb), "%s/kb%d", t, mode);
		CHECK_OK(convert(plain, a, (enum ward_image_mode)mode, WARD_IMAGE_FORMAT_OCI_ARCHIVE,
				 ka, &ra, &err),
			 &err);
		CHECK_OK(convert(plain, b, (enum ward_image_mode)mode, WARD_IMAGE_FORMAT_OCI_ARCHIVE,
				 kb, &rb, &err),
			 &err);
		CHECK_STR(json_string_value(json_object_get(ra, "image_digest")),
			  json_string_value(json_object_get(rb, "image_digest")));
		json_decref(ra);
		json_decref(rb);
		{
			WARD_AUTOFREE uint8_t *x = NULL, *y = NULL;
			size_t xs, ys;

			CHECK_OK(ward_file_read(a, 1u << 26, &x, &xs, &err), &err);
			CHECK_OK(ward_file_read(b, 1u << 26, &y, &ys, &err), &err);
			CHECK_INT(xs, ==, ys);
			CHECK(memcmp(x, y, xs) == 0);
		}
	}
	rmtree(t);
}

WARD_TEST(failures_leave_nothing)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *plain = vec("ocicrypt/plain");
	WARD_AUTOFREE char *enc = vec("ocicrypt/encrypted-rsa");
	char *t = tmpdir(), out[256], kf[256];
	struct ward_image_convert_opts o = {.source_date_epoch = -1};

	if (!plain) {
		rmtree(t);
		return;
	}
	snprintf(out, sizeof(out), "%s/out", t);
	snprintf(kf, sizeof(kf), "%s/keys", t);
	o.input = plain;
	o.output = out;
	o.mode = WARD_IMAGE_MODE_OCICRYPT;
	o.export_keys = kf;
	o.tag = "no-such-tag";
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "no-such-tag");
	CHECK_INT(count_entries(t), ==, 0);
	/* already-encrypted input */
	o.tag = NULL;
	o.input = enc;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "already encrypted");
	CHECK_INT(count_entries(t), ==, 0);
	/* no key destination */
	o.input = plain;
	o.export_keys = NULL;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	/* wrapped mode with something that is not an executable as ward-init */
	o.export_keys = kf;
	o.mode = WARD_IMAGE_MODE_WRAPPED;
	o.ward_init = "/etc/passwd";
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "not an x86-64/ELF64");
	CHECK_INT(count_entries(t), ==, 0);
	o.mode = WARD_IMAGE_MODE_OCICRYPT;
	/* existing output */
	CHECK_INT(mkdir(out, 0700), ==, 0);
	o.export_keys = kf;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -EEXIST);
	CHECK_INT(count_entries(t), ==, 1);
	rmtree(t);
}

/* Does any blob of the OCI layout dir contain needle (the ward layer is an
 * uncompressed tar, so its members appear verbatim)? */
static bool blob_contains(const char *layout, const void *needle, size_t size)
{
	char dir[512], path[1024];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/blobs/sha256", layout);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		WARD_AUTOFREE uint8_t *buf = NULL;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (ward_file_read(path, 1 << 30, &buf, &n, NULL) >= 0 &&
		    memmem(buf, n, needle, size))
			found = true;
	}
	closedir(d);
	return found;
}

/* --coordinator-pin: the certificate is measured into the ward layer (so
 * the converted config, hence the measurement, depends on it); only a
 * certificate, only in wrapped mode. */
WARD_TEST(coordinator_pin)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *plain = vec("ocicrypt/plain");
	WARD_AUTOFREE char *cert = vec("roots/intel/Intel_SGX_RootCA.pem");
	WARD_AUTOFREE uint8_t *pem = NULL;
	char *t = tmpdir(), kf[256], a[256], b[256];
	json_t *ra = NULL, *rb = NULL;
	size_t pem_size;
	struct ward_image_convert_opts o = {
		.mode = WARD_IMAGE_MODE_OCICRYPT,
		.format = WARD_IMAGE_FORMAT_OCI_DIR,
		.ward_init = "/proc/self/exe",
		.source_date_epoch = 1700000000,
		.insecure_seed = (const uint8_t *)seed,
		.insecure_seed_size = sizeof(seed) - 1,
	};

	if (!plain || !cert) {
		rmtree(t);
		return;
	}
	snprintf(kf, sizeof(kf), "%s/keys.json", t);
	snprintf(a, sizeof(a), "%s/a", t);
	snprintf(b, sizeof(b), "%s/b", t);
	o.input = plain;
	o.export_keys = kf;
	o.output = a;
	o.coordinator_pin = cert;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "wrapped mode only");
	o.mode = WARD_IMAGE_MODE_WRAPPED;
	o.coordinator_pin = "/etc/passwd";
	CHECK(ward_image_convert(&o, NULL, &err) < 0);
	CHECK_MSG(&err, "coordinator pin '/etc/passwd'");
	o.coordinator_pin = "/nonexistent/pin.pem";
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -ENOENT);
	CHECK_INT(count_entries(t), ==, 0);

	o.coordinator_pin = cert;
	CHECK_OK(ward_image_convert(&o, &ra, &err), &err);
	o.coordinator_pin = NULL;
	o.output = b;
	CHECK_OK(ward_image_convert(&o, &rb, &err), &err);
	CHECK_OK(ward_file_read(cert, 1 << 16, &pem, &pem_size, &err), &err);
	CHECK(blob_contains(a, ".ward/coordinator.pem", strlen(".ward/coordinator.pem")));
	CHECK(blob_contains(a, pem, pem_size));
	/* (the stand-in ward-init, this binary, holds the member name itself) */
	CHECK(!blob_contains(b, pem, pem_size));
	CHECK(strcmp(json_string_value(json_object_get(ra, "config_digest")),
		     json_string_value(json_object_get(rb, "config_digest"))) != 0);
	json_decref(ra);
	json_decref(rb);
	rmtree(t);
}

/* ---- recompressing uncompressed layers: gzip members, zstd frames ------- */

#define BIG_FILES 5
#define BIG_FILE_SIZE (2u << 20) /* the tar spans several 4 MiB zstd chunks */

/* gzip-compress with zlib into a new buffer: members of member_size input
 * bytes each (0: one member), each header with a file name (FNAME), as
 * other tools write them. */
static int gzip_buf(const uint8_t *in, size_t size, size_t member_size, uint8_t **ret,
		    size_t *ret_size)
{
	size_t cap = size + size / 8 + 4096, used = 0, off = 0;
	uint8_t *out = malloc(cap);

	if (!out)
		return -ENOMEM;
	if (member_size == 0)
		member_size = size;
	do {
		size_t k = size - off < member_size ? size - off : member_size;
		gz_header h = {.name = (Bytef *)"layer.tar", .os = 3};
		z_stream z = {0};

		if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
		    deflateSetHeader(&z, &h) != Z_OK) {
			free(out);
			return -ENOMEM;
		}
		z.next_in = (Bytef *)in + off;
		z.avail_in = (uInt)k;
		z.next_out = out + used;
		z.avail_out = (uInt)(cap - used);
		if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
			deflateEnd(&z);
			free(out);
			return -EIO;
		}
		used = cap - z.avail_out;
		deflateEnd(&z);
		off += k;
	} while (off < size);
	*ret_size = used;
	*ret = out;
	return 0;
}

/* What make_layout() stores as the layer blob. */
enum blob_kind {
	BLOB_TAR,           /* the uncompressed tar */
	BLOB_GZIP,          /* one gzip member */
	BLOB_GZIP_MEMBERS,  /* members of 777777 input bytes each */
	BLOB_GZIP_TRUNC,    /* members, the last 3 bytes cut off */
	BLOB_GZIP_TRAILING, /* members, then 4 zero bytes */
	BLOB_GZIP_BAD_CRC,  /* members, the last member's CRC-32 changed */
	BLOB_GZIP_BAD_SIZE, /* members, the last member's ISIZE changed */
	BLOB_GZIP_BAD_MAGIC, /* members, the second member's ID2 byte changed */
	BLOB_GZIP_BAD_BLOCK, /* one member whose first block has BTYPE 11 */
};

/* Write an OCI layout at dir whose one layer is a tar of BIG_FILES
 * compressible files under top (a directory name ending in '/'),
 * uncompressed or gzip-compressed; *ret_tar/ret_tar_size get the tar and
 * ret_diff_id its digest. */
static int make_layout(const char *dir, const char *top, enum blob_kind kind, uint8_t **ret_tar,
		       size_t *ret_tar_size, char ret_diff_id[72], struct ward_err *err)
{
	size_t size = 512 + BIG_FILES * (512 + BIG_FILE_SIZE) + 1024, blob_size;
	WARD_AUTOFREE uint8_t *tar = calloc(1, size), *gzb = NULL;
	WARD_AUTOFREE char *cfg = NULL, *man = NULL, *idx = NULL;
	char path[512], cfg_digest[72], man_digest[72], blob_digest[72];
	const uint8_t *blob;
	uint8_t *p;
	int r;

	if (!tar)
		return -ENOMEM;
	p = tar;
	r = img_tar_header(p, top, '5', 0755, 0, 1700000000, err);
	if (r < 0)
		return r;
	p += 512;
	for (unsigned i = 0; i < BIG_FILES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%sf%u", top, i);
		r = img_tar_header(p, name, '0', 0644, BIG_FILE_SIZE, 1700000000, err);
		if (r < 0)
			return r;
		p += 512;
		/* text-like: compresses, but not to nothing */
		for (size_t k = 0; k < BIG_FILE_SIZE; k += 16)
			snprintf((char *)p + k, 17, "%08zx %06u\n", (k * 2654435761u) % 99991, i);
		p += BIG_FILE_SIZE;
	}
	r = img_sha256_str(tar, size, ret_diff_id, err);
	if (r < 0)
		return r;
	blob = tar;
	blob_size = size;
	if (kind != BLOB_TAR) {
		bool one = kind == BLOB_GZIP || kind == BLOB_GZIP_BAD_BLOCK;

		r = gzip_buf(tar, size, one ? 0 : 777777, &gzb, &blob_size);
		if (r < 0)
			return r;
		switch (kind) {
		case BLOB_GZIP_TRUNC:
			blob_size -= 3;
			break;
		case BLOB_GZIP_TRAILING: {
			uint8_t *g = realloc(gzb, blob_size + 4);

			if (!g)
				return -ENOMEM;
			gzb = g;
			memset(gzb + blob_size, 0, 4);
			blob_size += 4;
			break;
		}
		case BLOB_GZIP_BAD_CRC:
			gzb[blob_size - 8] ^= 1;
			break;
		case BLOB_GZIP_BAD_SIZE:
			gzb[blob_size - 1] ^= 1;
			break;
		case BLOB_GZIP_BAD_MAGIC:
			/* the second member starts right after the first member's trailer */
			for (size_t k = 20; k + 1 < blob_size; k++) {
				if (gzb[k] == 0x1f && gzb[k + 1] == 0x8b && gzb[k + 2] == 8 &&
				    gzb[k + 3] == 8 /* FNAME */) {
					gzb[k + 1] = 0x8c;
					break;
				}
			}
			break;
		case BLOB_GZIP_BAD_BLOCK:
			/* the header (10 bytes + "layer.tar\0"), then BFINAL 1, BTYPE 11 */
			gzb[20] = 0x07;
			break;
		default:
			break;
		}
		blob = gzb;
	}
	r = img_sha256_str(blob, blob_size, blob_digest, err);
	if (r < 0)
		return r;
	if (mkdir(dir, 0755) < 0)
		return ward_err_set(err, -errno, "mkdir");
	snprintf(path, sizeof(path), "%s/blobs", dir);
	if (mkdir(path, 0755) < 0)
		return ward_err_set(err, -errno, "mkdir");
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	if (mkdir(path, 0755) < 0)
		return ward_err_set(err, -errno, "mkdir");
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, blob_digest + 7);
	r = ward_file_write_atomic(path, blob, blob_size, 0644, err);
	if (r < 0)
		return r;
	if (asprintf(&cfg,
		     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
		     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		     ret_diff_id) < 0)
		return -ENOMEM;
	r = img_sha256_str(cfg, strlen(cfg), cfg_digest, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, cfg_digest + 7);
	r = ward_file_write_atomic(path, cfg, strlen(cfg), 0644, err);
	if (r < 0)
		return r;
	if (asprintf(&man,
		     "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		     "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
		     "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\","
		     "\"digest\":\"%s\",\"size\":%zu}]}",
		     cfg_digest, strlen(cfg),
		     kind != BLOB_TAR ? WARD_MT_OCI_LAYER_GZIP : WARD_MT_OCI_LAYER_TAR,
		     blob_digest, blob_size) < 0)
		return -ENOMEM;
	r = img_sha256_str(man, strlen(man), man_digest, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, man_digest + 7);
	r = ward_file_write_atomic(path, man, strlen(man), 0644, err);
	if (r < 0)
		return r;
	if (asprintf(&idx,
		     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		     "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
		     "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}",
		     man_digest, strlen(man)) < 0)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	r = ward_file_write_atomic(path, idx, strlen(idx), 0644, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	r = ward_file_write_atomic(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644, err);
	if (r < 0)
		return r;
	*ret_tar = WARD_TAKE_PTR(tar);
	*ret_tar_size = size;
	return 0;
}

/* Decompress a whole zstd blob with libzstd (independently of the pipeline)
 * into out (out_cap bytes); counts its frames. Returns bytes, or -1. */
static long unzstd_all(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
		       size_t *ret_frames)
{
	size_t used = 0, off = 0, frames = 0;

	while (off < in_size) {
		size_t fs = ZSTD_findFrameCompressedSize(in + off, in_size - off);
		size_t n;

		if (ZSTD_isError(fs))
			return -1;
		n = ZSTD_decompress(out + used, out_cap - used, in + off, fs);
		if (ZSTD_isError(n))
			return -1;
		used += n;
		off += fs;
		frames++;
	}
	*ret_frames = frames;
	return (long)used;
}

/* Decompress concatenated gzip members with zlib. Returns bytes, or -1. */
static long gunzip_all(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
		       size_t *ret_members)
{
	z_stream z = {0};
	size_t members = 0;
	long used = -1;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_size;
	z.next_out = out;
	z.avail_out = (uInt)out_cap;
	while (z.avail_in > 0) {
		int zr = inflate(&z, Z_FINISH);

		if (zr != Z_STREAM_END)
			goto out;
		members++;
		if (inflateReset(&z) != Z_OK)
			goto out;
	}
	used = (long)(out_cap - z.avail_out);
	*ret_members = members;
out:
	inflateEnd(&z);
	return used;
}

/* Decompress concatenated gzip members with libdeflate, member by member
 * (as ward-init reads layers); checks every member header is ward's fixed
 * one. Returns bytes, or -1. */
static long gunzip_all_libdeflate(const uint8_t *in, size_t in_size, uint8_t *out,
				  size_t out_cap, size_t *ret_members)
{
	static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t pos = 0, used = 0, members = 0;
	long ret = -1;

	if (!d)
		return -1;
	while (pos < in_size) {
		size_t in_used = 0, n = 0;

		/* libdeflate writes XFL 4 at level 1 and 0 at 2..7: mask it */
		if (in_size - pos < 10 || memcmp(in + pos, hdr, 8) != 0 || in[pos + 9] != 0xff)
			goto out;
		if (libdeflate_gzip_decompress_ex(d, in + pos, in_size - pos, out + used,
						  out_cap - used, &in_used, &n) != LIBDEFLATE_SUCCESS)
			goto out;
		pos += in_used;
		used += n;
		members++;
	}
	*ret_members = members;
	ret = (long)used;
out:
	libdeflate_free_decompressor(d);
	return ret;
}

/* Convert the uncompressed layout with the given compression (threads 1
 * and 2 give the same bytes), decrypt it, and decompress the layer with
 * zlib (and libdeflate)/libzstd: it must be exactly the original tar, in
 * several independent members/frames, with the right media type.
 * gzip_level 0 is the default encoder (igzip), 1..12 libdeflate. */
static void recompress_round_trip(bool *ward_test_failed_, enum ward_image_compression comp,
				  enum ward_image_mode mode, int gzip_level)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	WARD_AUTOFREE uint8_t *tar = NULL, *x = NULL, *y = NULL, *blob = NULL, *back = NULL;
	char *t = tmpdir(), in[256], a[256], b[256], ka[256], kb[256], dec[256], path[512];
	char diff_id[72], got_diff_id[72];
	size_t tar_size, xs, ys, blob_size, parts = 0;
	long n;
	struct ward_image_convert_opts o = {
		.output = a,
		.mode = mode,
		.format = WARD_IMAGE_FORMAT_OCI_ARCHIVE,
		.export_keys = ka,
		.ward_init = "/proc/self/exe",
		.source_date_epoch = 1700000000,
		.insecure_seed = (const uint8_t *)seed,
		.insecure_seed_size = sizeof(seed) - 1,
		.compression = comp,
		.gzip_level = gzip_level,
		.threads = 2,
	};
	struct ward_image_decrypt_opts d = {.input = a, .output = dec, .keys_file = ka};

	snprintf(in, sizeof(in), "%s/in", t);
	snprintf(a, sizeof(a), "%s/a.tar", t);
	snprintf(b, sizeof(b), "%s/b.tar", t);
	snprintf(ka, sizeof(ka), "%s/ka", t);
	snprintf(kb, sizeof(kb), "%s/kb", t);
	snprintf(dec, sizeof(dec), "%s/dec", t);
	o.input = in;
	CHECK_OK(make_layout(in, "data/", BLOB_TAR, &tar, &tar_size, diff_id, &err), &err);
	CHECK_OK(ward_image_convert(&o, NULL, &err), &err);
	o.output = b;
	o.export_keys = kb;
	o.threads = 1;
	CHECK_OK(ward_image_convert(&o, NULL, &err), &err);
	CHECK_OK(ward_file_read(a, 1u << 26, &x, &xs, &err), &err);
	CHECK_OK(ward_file_read(b, 1u << 26, &y, &ys, &err), &err);
	CHECK_INT(xs, ==, ys);
	CHECK(xs == ys && memcmp(x, y, xs) == 0);

	CHECK_OK(ward_image_decrypt(&d, &err), &err);
	CHECK_OK(img_image_load(dec, NULL, NULL, &im, &err), &err);
	CHECK_INT(im->layer_count, ==, 1);
	CHECK_STR(im->layers[0].media_type, comp == WARD_IMAGE_COMPRESSION_ZSTD
						    ? WARD_MT_OCI_LAYER_ZSTD
						    : WARD_MT_OCI_LAYER_GZIP);
	CHECK_STR(im->layers[0].diff_id, diff_id);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dec, im->layers[0].digest + 7);
	CHECK_OK(ward_file_read(path, 1u << 26, &blob, &blob_size, &err), &err);
	/* it was compressed (the layer: wrapped output also holds ward-init) */
	CHECK(blob_size < tar_size / 2);
	back = malloc(tar_size + 1);
	CHECK(back != NULL);
	if (!back)
		goto out;
	if (comp == WARD_IMAGE_COMPRESSION_ZSTD) {
		n = unzstd_all(blob, blob_size, back, tar_size + 1, &parts);
		CHECK_INT(parts, ==, (tar_size + (4u << 20) - 1) / (4u << 20));
	} else {
		n = gunzip_all(blob, blob_size, back, tar_size + 1, &parts);
		CHECK_INT(parts, ==, (tar_size + (1u << 20) - 1) / (1u << 20));
		CHECK_INT(n, ==, (long)tar_size);
		memset(back, 0, tar_size + 1);
		parts = 0;
		n = gunzip_all_libdeflate(blob, blob_size, back, tar_size + 1, &parts);
		CHECK_INT(parts, ==, (tar_size + (1u << 20) - 1) / (1u << 20));
	}
	CHECK_INT(n, ==, (long)tar_size);
	CHECK_OK(img_sha256_str(back, n > 0 ? (size_t)n : 0, got_diff_id, &err), &err);
	CHECK_STR(got_diff_id, diff_id);
out:
	rmtree(t);
}

WARD_TEST(zstd_output_ocicrypt)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_ZSTD,
			      WARD_IMAGE_MODE_OCICRYPT, 0);
}

WARD_TEST(zstd_output_wrapped)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_ZSTD,
			      WARD_IMAGE_MODE_WRAPPED, 0);
}

/* the default gzip encoder: ISA-L igzip */
WARD_TEST(gzip_output_ocicrypt)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_GZIP,
			      WARD_IMAGE_MODE_OCICRYPT, 0);
}

WARD_TEST(gzip_output_wrapped)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_GZIP,
			      WARD_IMAGE_MODE_WRAPPED, 0);
}

/* an explicit --gzip-level: libdeflate */
WARD_TEST(gzip_output_libdeflate)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_GZIP,
			      WARD_IMAGE_MODE_OCICRYPT, 1);
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_GZIP,
			      WARD_IMAGE_MODE_OCICRYPT, 9);
}

/* The stored-block fallback member: zlib and libdeflate read it back,
 * across the 65535-byte block boundary, empty input included; a buffer
 * one byte short is refused, nothing half written counts. */
WARD_TEST(gzip_stored_member)
{
	static const size_t sizes[] = {0, 1, 65535, 65536, 200000};
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	WARD_AUTOFREE uint8_t *in = malloc(200000), *out = malloc(img_gzip_stored_size(200000));
	WARD_AUTOFREE uint8_t *back = malloc(200001);

	CHECK(d && in && out && back);
	if (!d || !in || !out || !back)
		return;
	for (size_t i = 0; i < 200000; i++)
		in[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], got = 0, members = 0, in_used = 0, out_n = 0;
		long z;

		CHECK_ERR(img_gzip_stored_member(in, n, out, img_gzip_stored_size(n) - 1, &got),
			  -ENOSPC);
		CHECK_INT(img_gzip_stored_member(in, n, out, img_gzip_stored_size(n), &got), ==, 0);
		CHECK_INT(got, ==, img_gzip_stored_size(n));
		z = gunzip_all(out, got, back, 200001, &members);
		CHECK_INT(z, ==, (long)n);
		CHECK_INT(members, ==, 1);
		CHECK(z == (long)n && memcmp(back, in, n) == 0);
		CHECK_INT(libdeflate_gzip_decompress_ex(d, out, got, back, 200001, &in_used, &out_n),
			  ==, LIBDEFLATE_SUCCESS);
		CHECK_INT(in_used, ==, got);
		CHECK_INT(out_n, ==, n);
	}
	libdeflate_free_decompressor(d);
}

/* gzip input layers are inflated (ISA-L) for the tar check and diff_id:
 * several members with FNAME headers pass; truncation, trailing bytes,
 * bad checksums, lengths, magic and blocks are refused with a message
 * saying what is wrong, on one thread and two, and leave no output. */
WARD_TEST(gzip_input_checks)
{
	static const struct {
		enum blob_kind kind;
		const char *msg; /* NULL: converts */
	} cases[] = {
		{BLOB_GZIP_MEMBERS, NULL},
		{BLOB_GZIP_TRUNC, "truncated"},
		{BLOB_GZIP_TRAILING, "trailing garbage"},
		{BLOB_GZIP_BAD_CRC, "CRC-32 or length check failed"},
		{BLOB_GZIP_BAD_SIZE, "CRC-32 or length check failed"},
		{BLOB_GZIP_BAD_MAGIC, "invalid gzip header"},
		{BLOB_GZIP_BAD_BLOCK, "invalid deflate block"},
	};
	struct ward_err err = WARD_ERR_INIT;
	char *t = tmpdir(), in[256], out[256], kf[256], diff_id[72];
	struct ward_image_convert_opts o = {.source_date_epoch = 1700000000,
					    .mode = WARD_IMAGE_MODE_OCICRYPT,
					    .insecure_seed = (const uint8_t *)seed,
					    .insecure_seed_size = sizeof(seed) - 1};

	snprintf(out, sizeof(out), "%s/out", t);
	snprintf(kf, sizeof(kf), "%s/keys", t);
	o.output = out;
	o.export_keys = kf;
	o.input = in;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		WARD_AUTOFREE uint8_t *tar = NULL;
		size_t tar_size;

		snprintf(in, sizeof(in), "%s/in%zu", t, i);
		CHECK_OK(make_layout(in, "data/", cases[i].kind, &tar, &tar_size, diff_id, &err),
			 &err);
		for (unsigned th = 1; th <= 2; th++) {
			json_t *ref = NULL;

			o.threads = th;
			if (cases[i].msg) {
				CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_MALFORMED);
				CHECK_MSG(&err, cases[i].msg);
				CHECK(access(out, F_OK) != 0);
				continue;
			}
			CHECK_OK(ward_image_convert(&o, &ref, &err), &err);
			CHECK_STR(json_string_value(json_object_get(
					  json_array_get(json_object_get(ref, "layers"), 0),
					  "diff_id")),
				  diff_id);
			json_decref(ref);
			CHECK_OK(ward_rm_rf(out, &err), &err);
			(void)unlink(kf);
		}
	}
	rmtree(t);
}

/* With threads, a gzip layer is decompressed on one thread and checked on
 * another, and an uncompressed layer is checked on one thread while two
 * others compress it: a hostile first entry stops the pipeline while the
 * others wait for room, with the checker's message; a clean layer of
 * several MiB passes (threads 1 and 2 agree). */
static void threaded_check(bool *ward_test_failed_, enum blob_kind kind)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *tar = NULL, *tar2 = NULL;
	char *t = tmpdir(), good[256], bad[256], out[256], kf[256], diff_id[72], bad_diff_id[72];
	size_t tar_size;
	json_t *ref = NULL;
	struct ward_image_convert_opts o = {.source_date_epoch = 1700000000,
					    .mode = WARD_IMAGE_MODE_OCICRYPT,
					    .insecure_seed = (const uint8_t *)seed,
					    .insecure_seed_size = sizeof(seed) - 1};

	snprintf(good, sizeof(good), "%s/good", t);
	snprintf(bad, sizeof(bad), "%s/bad", t);
	snprintf(out, sizeof(out), "%s/out", t);
	snprintf(kf, sizeof(kf), "%s/keys", t);
	CHECK_OK(make_layout(good, "data/", kind, &tar, &tar_size, diff_id, &err), &err);
	CHECK_OK(make_layout(bad, "../escape/", kind, &tar2, &tar_size, bad_diff_id, &err), &err);
	o.output = out;
	o.export_keys = kf;
	for (unsigned th = 1; th <= 2; th++) {
		o.threads = th;
		o.input = bad;
		CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "escapes the root");
		CHECK(access(out, F_OK) != 0);
		o.input = good;
		CHECK_OK(ward_image_convert(&o, &ref, &err), &err);
		CHECK_STR(json_string_value(json_object_get(
				  json_array_get(json_object_get(ref, "layers"), 0), "diff_id")),
			  diff_id);
		json_decref(ref);
		ref = NULL;
		CHECK_OK(ward_rm_rf(out, &err), &err);
		(void)unlink(kf);
	}
	rmtree(t);
}

WARD_TEST(threaded_check_of_gzip_layer)
{
	threaded_check(ward_test_failed_, BLOB_GZIP);
}

WARD_TEST(threaded_check_while_compressing)
{
	threaded_check(ward_test_failed_, BLOB_TAR);
}

/* Run the check-mode pipeline on gz held in a memfd (img_blob_from_fd),
 * declared size bytes, into a new blob of out (freed uncommitted). */
static int pipe_memfd(struct img_out *out, const uint8_t *gz, size_t gz_size, uint64_t size,
		      const struct img_pipe_opts *po, struct img_pipe_result *res,
		      struct ward_err *err)
{
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *sink = NULL;
	WARD_CLEANUP(img_blob_freep) struct img_blob *in = NULL;
	int fd = memfd_create("layer", MFD_CLOEXEC), r;

	if (fd < 0)
		return ward_err_errno(err, -errno, "memfd_create");
	r = ward_fd_write_all(fd, gz, gz_size, err);
	if (r >= 0 && lseek(fd, 0, SEEK_SET) != 0)
		r = ward_err_errno(err, -errno, "lseek");
	if (r >= 0)
		r = img_blob_from_fd(fd, size, "layer", &in, err);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	r = img_out_blob_begin(out, &sink, err);
	if (r < 0)
		return r;
	return img_pipe_run(in, size, sink, po, res, err);
}

/* img_pipe_run straight from memory, as fuzz-layer.c drives it: a gzip
 * layer of several members (headers with FNAME, as other tools write
 * them) read whole and in pieces of 4..40 bytes, so that every member
 * header and trailer is cut somewhere, on one and on two threads, gives
 * the tar's digest as diff_id (ISA-L 2.30 resumed a cut header with
 * garbage flags); a blob shorter than its declared size is truncated; a
 * negative fd is refused. */
WARD_TEST(pipe_from_memfd)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t tar[4 * 512] = {0};
	WARD_AUTOFREE uint8_t *gz = NULL;
	size_t gz_size;
	char *t = tmpdir(), out_path[256], diff_id[72];
	WARD_CLEANUP(img_out_freep) struct img_out *out = NULL;
	struct img_pipe_opts po = {.in_comp = IMG_COMP_GZIP, .check_tar = true};
	struct img_pipe_result res;
	struct img_blob *b = NULL;

	CHECK_OK(img_tar_header(tar, "hello", '0', 0644, 600, 1700000000, &err), &err);
	memset(tar + 512, 'h', 600);
	CHECK_OK(img_sha256_str(tar, sizeof(tar), diff_id, &err), &err);
	CHECK_INT(gzip_buf(tar, sizeof(tar), 700, &gz, &gz_size), ==, 0);
	snprintf(out_path, sizeof(out_path), "%s/out", t);
	CHECK_OK(img_out_open(out_path, WARD_IMAGE_FORMAT_OCI_DIR, &out, &err), &err);
	for (po.threads = 1; po.threads <= 2; po.threads++) {
		for (po.piece = 3; po.piece <= 40; po.piece++) {
			if (po.piece == 3)
				po.piece = 0; /* whole chunks */
			CHECK_OK(pipe_memfd(out, gz, gz_size, gz_size, &po, &res, &err), &err);
			CHECK_STR(res.diff_id, diff_id);
			CHECK_INT(res.in_size, ==, gz_size);
			CHECK_INT(res.enc_size, ==, gz_size);
			CHECK_INT(res.tar_entries, ==, 1);
			if (po.piece == 0)
				po.piece = 3;
		}
		po.piece = 0;
		CHECK_ERR(pipe_memfd(out, gz, gz_size, gz_size + 1, &po, &res, &err),
			  -WARD_E_MALFORMED);
		CHECK_MSG(&err, "'layer' is truncated");
	}
	CHECK_ERR(img_blob_from_fd(-1, 1, "layer", &b, &err), -EBADF);
	CHECK_MSG(&err, "no file descriptor");
	CHECK(b == NULL);
	out = img_out_free(out);
	CHECK_INT(count_entries(t), ==, 0);
	rmtree(t);
}

WARD_TEST(bad_compression_options)
{
	struct ward_err err = WARD_ERR_INIT;
	char *t = tmpdir(), out[256], kf[256];
	struct ward_image_convert_opts o = {.source_date_epoch = -1,
					    .mode = WARD_IMAGE_MODE_OCICRYPT};

	snprintf(out, sizeof(out), "%s/out", t);
	snprintf(kf, sizeof(kf), "%s/keys", t);
	o.input = t; /* never opened: options are checked first */
	o.output = out;
	o.export_keys = kf;
	o.compression = (enum ward_image_compression)7;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "unknown layer compression");
	o.compression = WARD_IMAGE_COMPRESSION_ZSTD;
	o.zstd_level = 20;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "zstd level 20");
	o.zstd_level = -1;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	o.zstd_level = 0;
	o.gzip_level = 13;
	CHECK_ERR(ward_image_convert(&o, NULL, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "gzip level 13");
	CHECK_INT(count_entries(t), ==, 0);
	rmtree(t);
}

WARD_TEST_MAIN()
