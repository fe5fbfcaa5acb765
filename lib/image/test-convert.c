/* SPDX-License-Identifier: Apache-2.0 */
/* Conversion and decryption on real images: the ocicrypt vectors made by
 * skopeo (shared/vectors/ocicrypt) decrypt to the plain layers; our own
 * conversions round-trip, are reproducible with a seed, and leave nothing
 * behind on failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
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

/* gzip-compress (one member, zlib) into a new buffer. */
static int gzip_buf(const uint8_t *in, size_t size, uint8_t **ret, size_t *ret_size)
{
	z_stream z = {0};
	uint8_t *out;
	size_t cap;

	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, (uLong)size);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)size;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return -EIO;
	}
	*ret_size = cap - z.avail_out;
	*ret = out;
	deflateEnd(&z);
	return 0;
}

/* Write an OCI layout at dir whose one layer is a tar of BIG_FILES
 * compressible files under top (a directory name ending in '/'),
 * uncompressed or gzip-compressed; *ret_tar/ret_tar_size get the tar and
 * ret_diff_id its digest. */
static int make_layout(const char *dir, const char *top, bool gz, uint8_t **ret_tar,
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
	if (gz) {
		r = gzip_buf(tar, size, &gzb, &blob_size);
		if (r < 0)
			return r;
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
		     cfg_digest, strlen(cfg), gz ? WARD_MT_OCI_LAYER_GZIP : WARD_MT_OCI_LAYER_TAR,
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

/* Convert the uncompressed layout with the given compression (threads 1
 * and 2 give the same bytes), decrypt it, and decompress the layer with
 * zlib/libzstd: it must be exactly the original tar, in several
 * independent members/frames, with the right media type. */
static void recompress_round_trip(bool *ward_test_failed_, enum ward_image_compression comp,
				  enum ward_image_mode mode)
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
	CHECK_OK(make_layout(in, "data/", false, &tar, &tar_size, diff_id, &err), &err);
	CHECK_OK(ward_image_convert(&o, NULL, &err), &err);
	o.output = b;
	o.export_keys = kb;
	o.threads = 1;
	CHECK_OK(ward_image_convert(&o, NULL, &err), &err);
	CHECK_OK(ward_file_read(a, 1u << 26, &x, &xs, &err), &err);
	CHECK_OK(ward_file_read(b, 1u << 26, &y, &ys, &err), &err);
	CHECK_INT(xs, ==, ys);
	CHECK(xs == ys && memcmp(x, y, xs) == 0);
	CHECK(xs < tar_size / 2); /* it was compressed */

	CHECK_OK(ward_image_decrypt(&d, &err), &err);
	CHECK_OK(img_image_load(dec, NULL, NULL, &im, &err), &err);
	CHECK_INT(im->layer_count, ==, 1);
	CHECK_STR(im->layers[0].media_type, comp == WARD_IMAGE_COMPRESSION_ZSTD
						    ? WARD_MT_OCI_LAYER_ZSTD
						    : WARD_MT_OCI_LAYER_GZIP);
	CHECK_STR(im->layers[0].diff_id, diff_id);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dec, im->layers[0].digest + 7);
	CHECK_OK(ward_file_read(path, 1u << 26, &blob, &blob_size, &err), &err);
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
			      WARD_IMAGE_MODE_OCICRYPT);
}

WARD_TEST(zstd_output_wrapped)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_ZSTD,
			      WARD_IMAGE_MODE_WRAPPED);
}

WARD_TEST(gzip_output_ocicrypt)
{
	recompress_round_trip(ward_test_failed_, WARD_IMAGE_COMPRESSION_GZIP,
			      WARD_IMAGE_MODE_OCICRYPT);
}

/* A gzip layer is decompressed on one thread and checked on another: a
 * hostile first entry stops the decompressor while it waits for room, a
 * clean layer of several MiB passes (threads 1 and 2 agree). */
WARD_TEST(threaded_check_of_gzip_layer)
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
	CHECK_OK(make_layout(good, "data/", true, &tar, &tar_size, diff_id, &err), &err);
	CHECK_OK(make_layout(bad, "../escape/", true, &tar2, &tar_size, bad_diff_id, &err), &err);
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
