/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI JSON model: descriptors, manifests, index selection, configs,
 * docker manifest.json; and the ocicrypt option blobs. */
#include <string.h>

#include "image-internal.h"
#include "ward-test.h"
#include "ward/encoding.h"

#define D64(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D64("a")
#define DB D64("b")
#define DC D64("c")

static const char good_manifest[] =
	"{\"schemaVersion\":2,\"mediaType\":\"" WARD_MT_OCI_MANIFEST "\","
	"\"config\":{\"mediaType\":\"" WARD_MT_OCI_CONFIG "\",\"digest\":\"" DA "\",\"size\":10},"
	"\"layers\":[{\"mediaType\":\"" WARD_MT_OCI_LAYER_GZIP "\",\"digest\":\"" DB "\",\"size\":5,"
	"\"annotations\":{\"k\":\"v\"}}]}";

static int parse_manifest(const char *s, struct ward_err *err)
{
	WARD_CLEANUP(ward_oci_manifest_freep) struct ward_oci_manifest *m = NULL;

	return ward_oci_manifest_parse(s, strlen(s), &m, err);
}

WARD_TEST(manifest_good)
{
	WARD_CLEANUP(ward_oci_manifest_freep) struct ward_oci_manifest *m = NULL;
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(ward_oci_manifest_parse(good_manifest, strlen(good_manifest), &m, &err), &err);
	CHECK_INT(m->layer_count, ==, 1);
	CHECK_STR(m->config.digest, DA);
	CHECK_INT(m->layers[0].size, ==, 5);
	CHECK_STR(m->layers[0].media_type, WARD_MT_OCI_LAYER_GZIP);
	CHECK(m->layers[0].annotations != NULL);
}

WARD_TEST(manifest_bad)
{
	struct ward_err err = WARD_ERR_INIT;

	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"schemaVersion\":2}", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "duplicate");
	CHECK_ERR(parse_manifest("{\"schemaVersion\":\"2\"}", &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(parse_manifest("[]", &err), -WARD_E_MALFORMED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2} x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA
				 "\",\"size\":-1},\"layers\":[]}",
				 &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "size");
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA
				 "\",\"size\":\"1\"},\"layers\":[]}",
				 &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":"
				 "\"sha256:AB\",\"size\":1},\"layers\":[]}",
				 &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":"
				 "\"sha512:" DA "\",\"size\":1},\"layers\":[]}",
				 &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA
				 "\",\"size\":1},\"layers\":{}}",
				 &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"mediaType\":\"text/plain\",\"config\":{}}", &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(parse_manifest("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA
				 "\",\"size\":1},\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" DB
				 "\",\"size\":1,\"annotations\":{\"k\":1}}]}",
				 &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "annotation");
}

WARD_TEST(manifest_too_many_layers)
{
	struct ward_err err = WARD_ERR_INIT;
	char *s = malloc(200000);
	size_t n;

	n = (size_t)sprintf(s, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DA
			       "\",\"size\":1},\"layers\":[");
	for (int i = 0; i <= WARD_IMAGE_MAX_LAYERS; i++)
		n += (size_t)sprintf(s + n, "%s{\"mediaType\":\"x\",\"digest\":\"" DB "\",\"size\":1}",
				     i ? "," : "");
	strcpy(s + n, "]}");
	CHECK_ERR(parse_manifest(s, &err), -WARD_E_TOO_BIG);
	free(s);
}

static const char multi_index[] =
	"{\"schemaVersion\":2,\"manifests\":["
	"{\"mediaType\":\"" WARD_MT_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":1,"
	"\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	"{\"mediaType\":\"" WARD_MT_OCI_MANIFEST "\",\"digest\":\"" DB "\",\"size\":1,"
	"\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
	"\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}},"
	"{\"mediaType\":\"" WARD_MT_OCI_MANIFEST "\",\"digest\":\"" DC "\",\"size\":1,"
	"\"annotations\":{\"org.opencontainers.image.ref.name\":\"v2\"}}]}";

WARD_TEST(index_select)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_oci_desc d;
	json_t *j = NULL;

	CHECK_OK(ward_oci_index_select(multi_index, strlen(multi_index), NULL, NULL, &j, &d, &err),
		 &err);
	CHECK_STR(d.digest, DB); /* linux/amd64 by default */
	json_decref(j);
	CHECK_OK(ward_oci_index_select(multi_index, strlen(multi_index), NULL, "linux/arm64/v8", &j,
				       &d, &err),
		 &err);
	CHECK_STR(d.digest, DA);
	json_decref(j);
	CHECK_OK(ward_oci_index_select(multi_index, strlen(multi_index), "v2", NULL, &j, &d, &err),
		 &err);
	CHECK_STR(d.digest, DC);
	json_decref(j);
	CHECK_OK(ward_oci_index_select(multi_index, strlen(multi_index), "localhost/app:v2", NULL, &j,
				       &d, &err),
		 &err);
	CHECK_STR(d.digest, DC); /* full reference, layout stores the tag only */
	json_decref(j);
	CHECK_ERR(ward_oci_index_select(multi_index, strlen(multi_index), "v3", NULL, &j, &d, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "no tag 'v3'");
	CHECK_ERR(ward_oci_index_select(multi_index, strlen(multi_index), NULL, "linux/s390x", &j,
					&d, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_oci_index_select("{\"schemaVersion\":2,\"manifests\":{}}", 35, NULL, NULL, &j,
					&d, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_oci_index_select("{\"schemaVersion\":2,\"manifests\":[1]}", 35, NULL, NULL, &j,
					&d, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(config_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	json_t *j = NULL;
	size_t n;
	const char *good = "{\"config\":{\"Cmd\":[\"a\"],\"User\":\"1\"},\"rootfs\":{\"type\":\"layers\","
			   "\"diff_ids\":[\"" DA "\",\"" DB "\"]}}";

	CHECK_OK(ward_oci_config_parse(good, strlen(good), &j, &n, &err), &err);
	CHECK_INT(n, ==, 2);
	json_decref(j);
#define BAD(s, code)                                                                               \
	CHECK_ERR(ward_oci_config_parse(s, strlen(s), &j, &n, &err), code)
	BAD("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}", -WARD_E_MALFORMED);
	BAD("{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}", -WARD_E_UNSUPPORTED);
	BAD("{\"rootfs\":[]}", -WARD_E_MALFORMED);
	BAD("{\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    -WARD_E_MALFORMED);
	CHECK_MSG(&err, "config.Cmd");
	BAD("{\"config\":{\"Env\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    -WARD_E_MALFORMED);
	BAD("{\"config\":{\"User\":0},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    -WARD_E_MALFORMED);
	BAD("{\"config\":{\"ExposedPorts\":[]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
	    -WARD_E_MALFORMED);
	BAD("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"rootfs\":{}}", -WARD_E_MALFORMED);
#undef BAD
}

WARD_TEST(docker_manifest)
{
	struct ward_err err = WARD_ERR_INIT;
	const json_t *e;
	json_t *j = NULL;
	const char *two = "[{\"Config\":\"a.json\",\"RepoTags\":[\"localhost/x:latest\"],\"Layers\":[\"l\"]},"
			  "{\"Config\":\"b.json\",\"RepoTags\":[\"localhost/y:v2\"],\"Layers\":[]}]";

	CHECK_OK(ward_docker_manifest_parse(two, strlen(two), "localhost/x", &j, &e, &err), &err);
	CHECK_STR(json_string_value(json_object_get(e, "Config")), "a.json");
	json_decref(j);
	CHECK_OK(ward_docker_manifest_parse(two, strlen(two), "localhost/y:v2", &j, &e, &err), &err);
	CHECK_STR(json_string_value(json_object_get(e, "Config")), "b.json");
	json_decref(j);
	CHECK_ERR(ward_docker_manifest_parse(two, strlen(two), NULL, &j, &e, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "--tag");
	CHECK_ERR(ward_docker_manifest_parse(two, strlen(two), "z", &j, &e, &err), -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_docker_manifest_parse("[]", 2, NULL, &j, &e, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_docker_manifest_parse("[{\"Config\":1,\"Layers\":[]}]", 26, NULL, &j, &e, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_docker_manifest_parse("[{\"Config\":\"a\",\"Layers\":[2]}]", 28, NULL, &j, &e,
					     &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(options_round_trip)
{
	struct ward_err err = WARD_ERR_INIT;
	struct img_layer_keys k, k2;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;
	WARD_AUTOFREE char *pub = NULL;
	uint8_t hmac[32], hmac2[32];
	char digest[72];

	for (int i = 0; i < 32; i++)
		k.symkey[i] = (uint8_t)i, hmac[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 16; i++)
		k.nonce[i] = (uint8_t)(0x40 + i);
	CHECK_OK(img_pubopts_encode(hmac, &pub, &err), &err);
	CHECK_OK(img_pubopts_decode(pub, hmac2, &err), &err);
	CHECK_MEM(hmac, hmac2, 32);
	CHECK_OK(img_privopts_encode(&k, DA, &s, &err), &err);
	CHECK_OK(img_privopts_decode(s->data, s->size, &k2, digest, &err), &err);
	CHECK_MEM(&k, &k2, sizeof(k));
	CHECK_STR(digest, DA);
	/* wrong cipher name, short hmac, short nonce, bad digest */
	CHECK_ERR(img_pubopts_decode("eyJjaXBoZXIiOiJBRVNfMTI4X0dDTSIsImhtYWMiOiIifQ==", hmac2, &err),
		  -WARD_E_UNSUPPORTED); /* {"cipher":"AES_128_GCM","hmac":""} */
	CHECK_ERR(img_pubopts_decode("eyJjaXBoZXIiOiJBRVNfMjU2X0NUUl9ITUFDX1NIQTI1NiIsImhtYWMiOiJBQUFBIn0=",
				     hmac2, &err),
		  -WARD_E_MALFORMED); /* hmac "AAAA" (3 bytes) */
	{
		const char *p = "{\"symkey\":\"AAAA\",\"digest\":\"" DA "\",\"cipheroptions\":{\"nonce\":\"\"}}";

		CHECK_ERR(img_privopts_decode(p, strlen(p), &k2, digest, &err), -WARD_E_MALFORMED);
		p = "{\"symkey\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"digest\":\"md5:1\","
		    "\"cipheroptions\":{\"nonce\":\"QEFCQ0RFRkdISUpLTE1OTw==\"}}";
		CHECK_ERR(img_privopts_decode(p, strlen(p), &k2, digest, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "digest");
	}
}

WARD_TEST(sim_measurement)
{
	struct ward_err err = WARD_ERR_INIT;
	char out[97], want[97];
	uint8_t d[48];
	const char *msg = "ward-sim-v1:" DA;

	CHECK_OK(ward_hash(WARD_HASH_SHA384, msg, strlen(msg), d, &err), &err);
	ward_hex_encode(d, 48, want);
	CHECK_OK(ward_image_sim_measurement(DA, out, &err), &err);
	CHECK_STR(out, want);
	CHECK_INT(strlen(out), ==, 96);
	CHECK_ERR(ward_image_sim_measurement("sha256:xyz", out, &err), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
