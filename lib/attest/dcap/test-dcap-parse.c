/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP pure logic: DER reader, quote parser, PCK extension, TCB info / QE
 * identity parsing and TCB evaluation against the real vectors. */
#include "test-dcap-util.h"

/* ---- DER ------------------------------------------------------------- */

WARD_TEST(der_lengths)
{
	static const uint8_t short_form[] = {0x04, 0x02, 0xaa, 0xbb};
	static const uint8_t long_form[] = {0x04, 0x81, 0x80};
	static const uint8_t nonminimal_long[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
	static const uint8_t leading_zero[] = {0x04, 0x82, 0x00, 0x85};
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t high_tag[] = {0x1f, 0x81, 0x01, 0x00};
	static const uint8_t overlong[] = {0x04, 0x03, 0xaa};
	struct ward_cur c, v;
	uint8_t tag;

	c = ward_cur_make(short_form, sizeof(short_form));
	CHECK_OK(ward_der_next(&c, &tag, &v), NULL);
	CHECK_INT(tag, ==, 0x04);
	CHECK_INT(v.left, ==, 2);
	CHECK(ward_cur_empty(&c));
	c = ward_cur_make(long_form, sizeof(long_form));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED); /* 128 bytes missing */
	CHECK_INT(c.left, ==, sizeof(long_form));		   /* unchanged */
	c = ward_cur_make(nonminimal_long, sizeof(nonminimal_long));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(leading_zero, sizeof(leading_zero));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(indefinite, sizeof(indefinite));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(high_tag, sizeof(high_tag));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(overlong, sizeof(overlong));
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(short_form, 1);
	CHECK_ERR(ward_der_next(&c, &tag, &v), -WARD_E_MALFORMED);
	c = ward_cur_make(short_form, sizeof(short_form));
	CHECK_ERR(ward_der_expect(&c, WARD_DER_INTEGER, &v), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, sizeof(short_form));
}

WARD_TEST(der_uint)
{
	static const struct {
		uint8_t bytes[10];
		size_t size;
		uint64_t max;
		int r;
		uint64_t v;
	} cases[] = {
	    {{0x00}, 1, 255, 0, 0},
	    {{0x7f}, 1, 255, 0, 127},
	    {{0x00, 0x80}, 2, 255, 0, 128},
	    {{0x00, 0xff}, 2, 255, 0, 255},
	    {{0x01, 0x00}, 2, 255, -WARD_E_MALFORMED, 0}, /* 256 > max */
	    {{0x80}, 1, 255, -WARD_E_MALFORMED, 0},	  /* negative */
	    {{0x00, 0x01}, 2, 255, -WARD_E_MALFORMED, 0}, /* not minimal */
	    {{0}, 0, 255, -WARD_E_MALFORMED, 0},	  /* empty */
	    {{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 9, UINT64_MAX, 0, UINT64_MAX},
	    {{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 9, UINT64_MAX, -WARD_E_MALFORMED, 0},
	};

	for (size_t i = 0; i < WARD_ARRAY_SIZE(cases); i++) {
		struct ward_cur c = ward_cur_make(cases[i].bytes, cases[i].size);
		uint64_t v = 12345;

		CHECK_INT(ward_der_uint(&c, cases[i].max, &v), ==, cases[i].r);
		if (cases[i].r == 0)
			CHECK_INT(v, ==, cases[i].v);
	}
}

WARD_TEST(der_oid)
{
	static const uint8_t sgx[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
	static const uint8_t bad_lead[] = {0x2a, 0x80, 0x01};
	static const uint8_t unterminated[] = {0x2a, 0x86};
	struct ward_cur c = ward_cur_make(sgx, sizeof(sgx));
	char buf[64];

	CHECK_OK(ward_der_oid_text(&c, buf, sizeof(buf)), NULL);
	CHECK_STR(buf, WARD_DCAP_SGX_EXT_OID);
	CHECK(ward_der_oid_eq(&c, sgx, sizeof(sgx)));
	CHECK(!ward_der_oid_eq(&c, sgx, sizeof(sgx) - 1));
	c = ward_cur_make(bad_lead, sizeof(bad_lead));
	CHECK_ERR(ward_der_oid_text(&c, buf, sizeof(buf)), -WARD_E_MALFORMED);
	c = ward_cur_make(unterminated, sizeof(unterminated));
	CHECK_ERR(ward_der_oid_text(&c, buf, sizeof(buf)), -WARD_E_MALFORMED);
	c = ward_cur_make(sgx, 0);
	CHECK_ERR(ward_der_oid_text(&c, buf, sizeof(buf)), -WARD_E_MALFORMED);
}

WARD_TEST(der_walk_and_issuer)
{
	struct tvec v;
	size_t der_size;
	uint8_t *der;
	char cn[128];

	if (!tvec_load("roots/intel/Intel_SGX_RootCA.der", &v))
		return;
	CHECK_OK(ward_der_walk(v.data, v.size), NULL);
	CHECK_ERR(ward_der_walk(v.data, v.size - 1), -WARD_E_MALFORMED);
	CHECK_OK(ward_der_issuer_cn(v.data, v.size, false, cn, sizeof(cn)), NULL);
	CHECK_STR(cn, "Intel SGX Root CA");
	CHECK_ERR(ward_der_issuer_cn(v.data, v.size, false, cn, 5), -WARD_E_MALFORMED);
	tvec_clear(&v);

	if (!tvec_load("tdx/v4-spr-gotdxguest/pckcrl-platform.der", &v))
		return;
	CHECK_OK(ward_der_walk(v.data, v.size), NULL);
	CHECK_OK(ward_der_issuer_cn(v.data, v.size, true, cn, sizeof(cn)), NULL);
	CHECK_STR(cn, "Intel SGX PCK Platform CA");
	tvec_clear(&v);

	if (!tvec_load("tdx/v4-spr-gotdxguest/pckcrl-issuer-chain.pem", &v))
		return;
	der = tpem_first_der((const char *)v.data, v.size, &der_size);
	CHECK(der != NULL);
	CHECK_OK(ward_der_issuer_cn(der, der_size, false, cn, sizeof(cn)), NULL);
	CHECK_STR(cn, "Intel SGX Root CA");
	free(der);
	tvec_clear(&v);
}

/* ---- quotes ------------------------------------------------------------ */

static bool hex_is(const uint8_t *p, const char *hex)
{
	uint8_t buf[64];
	size_t n = ward_test_unhex(hex, buf, sizeof(buf));

	return memcmp(p, buf, n) == 0;
}

struct quote_case {
	const char *path;
	uint16_t version;
	uint32_t tee;
	size_t size, parsed;
	const char *meas;	 /* MRTD or MRENCLAVE prefix */
	const char *report_data; /* prefix */
	bool debug;
};

static const struct quote_case quote_cases[] = {
    {"tdx/v4-uptodate-dcapqvl/quote.dat", 4, 0x81, 5006, 4936,
     "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b253887311"
     "8b7",
     "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e"
     "44aed55d51ec39b7e518fadb92c2b523f20",
     false},
    {"tdx/v4-spr-gotdxguest/quote.dat", 4, 0x81, 4974, 4935,
     "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215"
     "cbb",
     "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dace"
     "ad6f0c87a6d766c66f6f29f8acb281f1113",
     false},
    {"tdx/v5-gotdxguest/quote.dat", 5, 0x81, 5006, 0,
     "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f"
     "876",
     "945eaacf5abc1f719d8666a942fda03d1edcb4490277396093dc5a5289ab9f1e094aed63060cd4a4933a4dd537ed1"
     "255c9c79ecb3ed82cd1b486233e31c25c3a",
     false},
    {"tdx/v5-relaunch-advised-oe/quote.dat", 5, 0x81, 5006, 0,
     "ece51dc95034ed0e1aad68e57b2d9d0a54d79f5b75626adbc4bbe9576971e85ed33702d96be68134a841fb5de7f83"
     "9bf",
     "9aa5e2de08cdb4cc1cf982ea2179b20f2b7fd9e18b74aac533b6aa760bb3d680", false},
    {"tdx/v4-outofdate-trustee/quote.dat", 4, 0x81, 5006, 4936,
     "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1"
     "e88",
     "26cae1c77185617fb6a03fc29bf1f924596e52352b9b7594940b576ae126cd4a570cc3202a900c5d19a6eb0a95b32"
     "cfd",
     false},
    {"tdx/v4-debugtd-trustee/quote.dat", 4, 0x81, 4936, 4936,
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f"
     "031",
     "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85"
     "b45c8a28fee1d3bdb38342bf96671501429",
     true},
    {"tdx/v5-trustee/quote.dat", 5, 0x81, 5006, 0,
     "dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f38864"
     "00a",
     "", false},
    {"tdx/v4-oe/quote.dat", 4, 0x81, 4940, 4940,
     "569e660ca18bdc532697faa4a2238ef2e439c2381a2239553c49d9708ed40f0c8612b5bcb621e431bb188f4de5bfd"
     "8a8",
     "00000000000000000000000000000000", false},
    {"tdx/v4-gcp-cos-gotdxguest/quote-8000B-zero-padded.dat", 4, 0x81, 8000, 4935,
     "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f"
     "94a",
     "00000000000000000000000000000000", false},
    {"tdx/azure-v4-hcl-trustee/td-quote.dat", 4, 0x81, 5006, 4936,
     "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7a"
     "b7b",
     "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839", false},
    {"sgx/v3-dcapqvl/quote.dat", 3, 0x00, 4600, 0,
     "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb",
     "48656c6c6f2c20776f726c6421000000", false},
    {"sgx/v3-occlum-trustee/quote.dat", 3, 0x00, 4733, 0,
     "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68", "7465737400000000", true},
};

WARD_TEST(quote_parse_vectors)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(quote_cases); i++) {
		const struct quote_case *qc = &quote_cases[i];
		struct ward_err err = WARD_ERR_INIT;
		struct ward_dcap_quote q;
		struct tvec v;

		if (!tvec_load(qc->path, &v))
			continue;
		CHECK_INT(v.size, ==, qc->size);
		CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
		fprintf(stderr, "%s: v%u parsed %zu of %zu\n", qc->path, q.version, q.quote_size,
			v.size);
		CHECK_INT(q.version, ==, qc->version);
		CHECK_INT(q.tee_type, ==, qc->tee);
		if (qc->parsed)
			CHECK_INT(q.quote_size, ==, qc->parsed);
		CHECK(hex_is(q.qe_vendor_id, "939a7233f79c4ca9940a0db3957f0607"));
		if (qc->tee == 0x81) {
			CHECK(hex_is(q.td.mrtd, qc->meas));
			CHECK(hex_is(q.td.report_data, qc->report_data));
		} else {
			CHECK(hex_is(q.enclave.mrenclave, qc->meas));
			CHECK(hex_is(q.enclave.report_data, qc->report_data));
		}
		CHECK_INT(ward_dcap_quote_is_debug(&q), ==, qc->debug);
		CHECK_INT(q.qe_auth_size, ==, 32);
		CHECK(memmem(q.pck_chain_pem, q.pck_chain_size, "BEGIN CERTIFICATE", 17) != NULL);
		tvec_clear(&v);
	}
}

WARD_TEST(quote_v5_fields)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_quote q;
	struct tvec v;

	if (!tvec_load("tdx/v5-trustee/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_INT(q.body_type, ==, 3);
	CHECK_INT(q.signed_size, ==, 48 + 6 + 648);
	CHECK(q.td.mrservicetd != NULL);
	CHECK(hex_is(q.td.mrservicetd, "383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd"
				       "848fe8d47629e08b3f6cbd4a00dd47a5a033d"));
	CHECK(hex_is(q.td.tee_tcb_svn, "05010200"));
	CHECK(hex_is(q.td.tee_tcb_svn2, "05010200"));
	tvec_clear(&v);

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_INT(q.body_type, ==, 2);
	CHECK_INT(q.signed_size, ==, 48 + 584);
	CHECK(q.td.tee_tcb_svn2 == NULL && q.td.mrservicetd == NULL);
	CHECK(hex_is(q.td.rtmr[0], "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5"
				   "c48aca29b220b80b6a540cf994b9bc9c0"));
	CHECK(hex_is(q.td.rtmr[2], "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa"
				   "3ba80b70870d7330733642e01d48c3132"));
	CHECK(hex_is(q.td.td_attributes, "0000001000000000"));
	CHECK(hex_is(q.td.xfam, "e702060000000000"));
	tvec_clear(&v);

	if (!tvec_load("sgx/v3-dcapqvl/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_INT(q.qe_svn, ==, 10);
	CHECK_INT(q.pce_svn, ==, 15);
	CHECK(hex_is(q.enclave.mrsigner,
		     "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"));
	CHECK(hex_is(q.enclave.attributes, "0500000000000000e700000000000000"));
	CHECK(hex_is(q.enclave.cpusvn, "0b0b1a18ffff04000000000000000000"));
	CHECK(hex_is(q.qe_report.mrsigner,
		     "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff"));
	CHECK_INT(q.qe_report.isvprodid, ==, 1);
	CHECK_INT(q.qe_report.isvsvn, ==, 10);
	CHECK_INT(q.signed_size, ==, 48 + 384);
	tvec_clear(&v);

	if (!tvec_load("sgx/v3-occlum-trustee/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_INT(q.enclave.miscselect, ==, 1);
	tvec_clear(&v);
}

/* Truncation anywhere before the end of the signature data must fail
 * with -WARD_E_MALFORMED (parse only: fast). */
WARD_TEST(quote_truncation_every_offset)
{
	for (size_t k = 0; k < WARD_ARRAY_SIZE(quote_cases); k++) {
		const char *path = quote_cases[k].path;
		struct ward_err err = WARD_ERR_INIT;
		struct ward_dcap_quote q;
		struct tvec v;

		if (!tvec_load(path, &v))
			continue;
		CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
		for (size_t n = 0; n < q.quote_size; n++) {
			struct ward_dcap_quote t;
			/* a private copy of exactly n bytes, so ASan catches over-reads */
			uint8_t *copy = malloc(n ? n : 1);
			int r;

			memcpy(copy, v.data, n);
			r = ward_dcap_quote_parse(copy, n, &t, &err);
			free(copy);
			if (r != -WARD_E_MALFORMED)
				fprintf(stderr, "%s truncated to %zu: %d (%s)\n", path, n, r,
					err.msg);
			CHECK_ERR(r, -WARD_E_MALFORMED);
		}
		tvec_clear(&v);
	}
}

WARD_TEST(quote_header_rejects)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_quote q;
	struct tvec v;
	uint8_t *m;

	if (!tvec_load("tdx/v4-spr-gotdxguest/quote.dat", &v))
		return;
	m = malloc(v.size);
	/* go-tdx-guest's negative: byte 0 := 3 (v3 header with TDX TEE type) */
	memcpy(m, v.data, v.size);
	m[0] = 3;
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_UNSUPPORTED);
	m[0] = 6;
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "version 6");
	memcpy(m, v.data, v.size);
	m[2] = 3; /* attestation key type 3 (ECDSA-384) */
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_UNSUPPORTED);
	memcpy(m, v.data, v.size);
	m[4] = 0x82;
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_UNSUPPORTED);
	memcpy(m, v.data, v.size);
	m[0x278] = 0x10; /* signature data length field (offset 632) */
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_MALFORMED);
	memcpy(m, v.data, v.size);
	m[632 + 4 + 128] = 7; /* certification data type */
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_UNSUPPORTED);
	/* the declared signature data length must fit exactly its contents */
	memcpy(m, v.data, v.size);
	m[632] = (uint8_t)(m[632] + 1);
	CHECK_ERR(ward_dcap_quote_parse(m, v.size, &q, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "unexpected bytes");
	memcpy(m, v.data, v.size);
	CHECK_ERR(ward_dcap_quote_parse(m, WARD_DCAP_QUOTE_MAX_SIZE + 1, &q, &err),
		  -WARD_E_TOO_BIG);
	free(m);
	tvec_clear(&v);
}

/* ---- PCK extension ---------------------------------------------------- */

WARD_TEST(pck_extension)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_pck_info pck;
	struct ward_dcap_quote q;
	struct tvec v;
	size_t der_size;
	uint8_t *der;
	struct ward_cur ext;

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_OK(tquote_pck(&q, &pck), NULL);
	CHECK(hex_is(pck.fmspc, "b0c06f000000"));
	CHECK_INT(pck.pcesvn, ==, 11);
	CHECK_INT(pck.comp_svn[0], ==, 3);
	CHECK_INT(pck.comp_svn[4], ==, 4);
	CHECK_INT(pck.comp_svn[7], ==, 5);
	CHECK(hex_is(pck.pceid, "0000"));

	/* Every truncation and every single-byte corruption of the extension
	 * either fails cleanly or still yields a well-formed structure. */
	der = tpem_first_der(q.pck_chain_pem, q.pck_chain_size, &der_size);
	CHECK(der && tcert_sgx_ext(der, der_size, &ext));
	for (size_t n = 0; n < ext.left; n++)
		CHECK_ERR(ward_dcap_pck_ext_parse(ext.p, n, &pck, &err), -WARD_E_MALFORMED);
	free(der);
	tvec_clear(&v);

	if (!tvec_load("tdx/v4-outofdate-trustee/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_OK(tquote_pck(&q, &pck), NULL);
	CHECK_INT(pck.sgx_type, ==, 2);
	CHECK(hex_is(pck.fmspc, "00a06d080000"));
	tvec_clear(&v);

	if (!tvec_load("sgx/v3-dcapqvl/quote.dat", &v))
		return;
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_OK(tquote_pck(&q, &pck), NULL);
	CHECK_INT(pck.sgx_type, ==, 0);
	CHECK_INT(pck.comp_svn[4], ==, 255);
	CHECK_INT(pck.pcesvn, ==, 13);
	tvec_clear(&v);
}

/* ---- TCB info / QE identity ------------------------------------------ */

struct coll {
	struct ward_dcap_tcb_info *ti;
	struct ward_dcap_qe_identity *qi;
};

static void coll_clear(struct coll *c)
{
	c->ti = ward_dcap_tcb_info_free(c->ti);
	c->qi = ward_dcap_qe_identity_free(c->qi);
}

static int load_pcs(const char *rel, const char *key, struct coll *c)
{
	struct ward_err err = WARD_ERR_INIT;
	struct tvec v;
	uint8_t sig[64];
	size_t off, len;
	int r;

	if (!tvec_load(rel, &v))
		return -ENOENT;
	r = ward_dcap_pcs_body_split((const char *)v.data, v.size, key, &off, &len, sig, &err);
	if (r == 0) {
		if (strcmp(key, "tcbInfo") == 0)
			r = ward_dcap_tcb_info_parse((const char *)v.data + off, len, &c->ti, &err);
		else
			r = ward_dcap_qe_identity_parse((const char *)v.data + off, len, &c->qi,
							&err);
	}
	if (r < 0)
		fprintf(stderr, "%s: %s\n", rel, err.msg);
	tvec_clear(&v);
	return r;
}

static int load_qvl(const char *rel, struct coll *c)
{
	struct ward_err err = WARD_ERR_INIT;
	struct tvec v;
	char *ti, *qi;
	int r;

	if (!tvec_load(rel, &v))
		return -ENOENT;
	ti = tqvl_member(&v, "tcb_info");
	qi = tqvl_member(&v, "qe_identity");
	r = ward_dcap_tcb_info_parse(ti, strlen(ti), &c->ti, &err);
	if (r == 0)
		r = ward_dcap_qe_identity_parse(qi, strlen(qi), &c->qi, &err);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", rel, err.msg);
	free(ti);
	free(qi);
	tvec_clear(&v);
	return r;
}

static int eval_case(const char *quote_rel, struct coll *c, struct ward_dcap_eval *e,
		     struct ward_err *err)
{
	struct ward_dcap_pck_info pck;
	struct ward_dcap_quote q;
	struct tvec v;
	int r;

	if (!tvec_load(quote_rel, &v))
		return -ENOENT;
	r = ward_dcap_quote_parse(v.data, v.size, &q, err);
	if (r == 0)
		r = tquote_pck(&q, &pck);
	if (r == 0 && (!c->ti || !c->qi))
		r = -WARD_E_NOT_FOUND;
	if (r == 0)
		r = ward_dcap_evaluate(&q, &pck, c->ti, c->qi, e, err);
	tvec_clear(&v);
	return r;
}

static bool advisories_are(const json_t *a, const char *const *want, size_t n)
{
	if (json_array_size(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_string_value(json_array_get(a, i)), want[i]) != 0)
			return false;
	return true;
}

WARD_TEST(eval_tdx_uptodate)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_eval e;

	if (load_qvl("tdx/v4-uptodate-dcapqvl/collateral.json", &c) == -ENOENT)
		return;
	CHECK(c.ti && c.qi);
	CHECK_INT(c.ti->tee, ==, WARD_DCAP_TEE_TDX);
	CHECK_INT(c.ti->eval_number, ==, 17);
	CHECK_INT(c.qi->id, ==, WARD_DCAP_QE_TD);
	CHECK_OK(eval_case("tdx/v4-uptodate-dcapqvl/quote.dat", &c, &e, &err), &err);
	CHECK_INT(e.status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(e.platform_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK(e.has_module);
	CHECK_INT(e.module_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(e.qe_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(json_array_size(e.advisories), ==, 0);
	ward_dcap_eval_clear(&e);
	coll_clear(&c);
}

WARD_TEST(eval_sgx_config_sw_hardening)
{
	static const char *const adv[] = {"INTEL-SA-00289", "INTEL-SA-00615"};
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_eval e;

	if (load_qvl("sgx/v3-dcapqvl/collateral.json", &c) == -ENOENT)
		return;
	CHECK_INT(c.ti->tee, ==, WARD_DCAP_TEE_SGX);
	CHECK_INT(c.qi->id, ==, WARD_DCAP_QE_SGX);
	CHECK_OK(eval_case("sgx/v3-dcapqvl/quote.dat", &c, &e, &err), &err);
	CHECK_STR(ward_dcap_tcb_status_name(e.status), "ConfigurationAndSWHardeningNeeded");
	CHECK(advisories_are(e.advisories, adv, 2));
	CHECK_INT(e.qe_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK(!e.has_module);
	ward_dcap_eval_clear(&e);

	/* A TDX quote against SGX collateral is refused. */
	CHECK_ERR(eval_case("tdx/v4-uptodate-dcapqvl/quote.dat", &c, &e, &err), -WARD_E_VERIFY);
	coll_clear(&c);
}

WARD_TEST(eval_tdx_no_matching_level)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_eval e;

	if (load_pcs("tdx/v4-spr-gotdxguest/tcbinfo.json", "tcbInfo", &c) == -ENOENT ||
	    load_pcs("tdx/v4-spr-gotdxguest/qeidentity.json", "enclaveIdentity", &c) == -ENOENT)
		return;
	CHECK_ERR(eval_case("tdx/v4-spr-gotdxguest/quote.dat", &c, &e, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "no TCB level");
	/* The QE identity on its own matches (go-tdx-guest: QE isvsvn 4 UpToDate). */
	{
		struct ward_dcap_quote q;
		struct tvec v;
		struct ward_dcap_eval qe = {.advisories = json_array()};

		CHECK(tvec_load("tdx/v4-spr-gotdxguest/quote.dat", &v));
		CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
		CHECK_OK(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_TD, &q.qe_report, &qe, &err), &err);
		CHECK_INT(qe.qe_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
		CHECK_ERR(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_SGX, &q.qe_report, &qe, &err),
			  -WARD_E_VERIFY);
		/* a different MRSIGNER is an identity mismatch */
		c.qi->mrsigner[0] ^= 1;
		CHECK_ERR(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_TD, &q.qe_report, &qe, &err),
			  -WARD_E_VERIFY);
		CHECK_MSG(&err, "MRSIGNER");
		c.qi->mrsigner[0] ^= 1;
		c.qi->isvprodid++;
		CHECK_ERR(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_TD, &q.qe_report, &qe, &err),
			  -WARD_E_VERIFY);
		c.qi->isvprodid--;
		c.qi->attributes[0] ^= 0x01; /* masked bit */
		CHECK_ERR(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_TD, &q.qe_report, &qe, &err),
			  -WARD_E_VERIFY);
		c.qi->attributes[0] ^= 0x01;
		for (size_t i = 0; i < c.qi->level_count; i++)
			c.qi->levels[i].isvsvn = 60000;
		CHECK_ERR(ward_dcap_eval_qe(c.qi, WARD_DCAP_QE_TD, &q.qe_report, &qe, &err),
			  -WARD_E_POLICY);
		ward_dcap_eval_clear(&qe);
		tvec_clear(&v);
	}
	coll_clear(&c);
}

WARD_TEST(eval_tdx_relaunch_advised)
{
	static const char *const adv[] = {"INTEL-SA-01036", "INTEL-SA-01099"};
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_eval e;

	if (load_pcs("tdx/v5-relaunch-advised-oe/tcbinfo.json", "tcbInfo", &c) == -ENOENT ||
	    load_pcs("tdx/v5-relaunch-advised-oe/qeidentity.json", "enclaveIdentity", &c) ==
		-ENOENT)
		return;
	CHECK_OK(eval_case("tdx/v5-relaunch-advised-oe/quote.dat", &c, &e, &err), &err);
	CHECK_STR(ward_dcap_tcb_status_name(e.status), "TDRelaunchAdvised");
	CHECK_INT(e.platform_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(e.module_status, ==, WARD_DCAP_TCB_OUT_OF_DATE);
	CHECK(advisories_are(e.advisories, adv, 2));
	ward_dcap_eval_clear(&e);
	coll_clear(&c);
}

WARD_TEST(eval_tdx_outofdate)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_eval e;

	if (load_pcs("tdx/v4-outofdate-trustee/tcbinfo.json", "tcbInfo", &c) == -ENOENT ||
	    load_pcs("tdx/v4-outofdate-trustee/qeidentity.json", "enclaveIdentity", &c) == -ENOENT)
		return;
	CHECK_OK(eval_case("tdx/v4-outofdate-trustee/quote.dat", &c, &e, &err), &err);
	CHECK_STR(ward_dcap_tcb_status_name(e.status), "OutOfDate");
	CHECK_INT(e.platform_status, ==, WARD_DCAP_TCB_OUT_OF_DATE);
	CHECK_INT(e.module_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(e.qe_status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(e.platform_level->pcesvn, ==, 5);
	ward_dcap_eval_clear(&e);
	coll_clear(&c);
}

WARD_TEST(eval_tdx_v5_platform)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coll c = {0};
	struct ward_dcap_pck_info pck;
	struct ward_dcap_quote q;
	struct ward_dcap_eval e;
	struct tvec v;

	if (load_pcs("tdx/v5-gotdxguest/tcbinfo-v5.json", "tcbInfo", &c) == -ENOENT)
		return;
	CHECK(tvec_load("tdx/v5-gotdxguest/quote.dat", &v));
	CHECK_OK(ward_dcap_quote_parse(v.data, v.size, &q, &err), &err);
	CHECK_OK(tquote_pck(&q, &pck), NULL);
	CHECK(memcmp(pck.fmspc, c.ti->fmspc, 6) == 0);
	CHECK_OK(ward_dcap_eval_platform(c.ti, &pck, q.td.tee_tcb_svn, q.td.mrsignerseam,
					 q.td.seam_attributes, &e, &err),
		 &err);
	CHECK_INT(e.status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	CHECK(e.has_module);
	ward_dcap_eval_clear(&e);
	/* An unknown TDX module version has no identity. */
	{
		uint8_t svn[16];

		memcpy(svn, q.td.tee_tcb_svn, 16);
		svn[1] = 0x7f;
		CHECK_ERR(ward_dcap_eval_platform(c.ti, &pck, svn, q.td.mrsignerseam,
						  q.td.seam_attributes, &e, &err),
			  -WARD_E_POLICY);
		CHECK_MSG(&err, "TDX_7F");
	}
	/* An SGX evaluation against TDX TCB info is malformed use. */
	CHECK_ERR(ward_dcap_eval_platform(c.ti, &pck, NULL, NULL, NULL, &e, &err),
		  -WARD_E_MALFORMED);
	tvec_clear(&v);
	coll_clear(&c);
}

WARD_TEST(status_converge)
{
	CHECK_INT(ward_dcap_status_converge(WARD_DCAP_TCB_UP_TO_DATE, WARD_DCAP_TCB_UP_TO_DATE), ==,
		  WARD_DCAP_TCB_UP_TO_DATE);
	CHECK_INT(ward_dcap_status_converge(WARD_DCAP_TCB_UP_TO_DATE, WARD_DCAP_TCB_OUT_OF_DATE),
		  ==, WARD_DCAP_TCB_OUT_OF_DATE);
	CHECK_INT(
	    ward_dcap_status_converge(WARD_DCAP_TCB_SW_HARDENING_NEEDED, WARD_DCAP_TCB_OUT_OF_DATE),
	    ==, WARD_DCAP_TCB_OUT_OF_DATE);
	CHECK_INT(ward_dcap_status_converge(WARD_DCAP_TCB_CONFIGURATION_NEEDED,
					    WARD_DCAP_TCB_OUT_OF_DATE),
		  ==, WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	CHECK_INT(ward_dcap_status_converge(WARD_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
					    WARD_DCAP_TCB_OUT_OF_DATE),
		  ==, WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	CHECK_INT(ward_dcap_status_converge(WARD_DCAP_TCB_UP_TO_DATE, WARD_DCAP_TCB_REVOKED), ==,
		  WARD_DCAP_TCB_REVOKED);
	CHECK_INT(
	    ward_dcap_status_converge(WARD_DCAP_TCB_CONFIGURATION_NEEDED, WARD_DCAP_TCB_UP_TO_DATE),
	    ==, WARD_DCAP_TCB_CONFIGURATION_NEEDED);
	CHECK_STR(ward_dcap_tcb_status_name(WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED),
		  "OutOfDateConfigurationNeeded");
	CHECK_STR(ward_dcap_tcb_status_name((enum ward_dcap_tcb_status)99), "invalid");
}

WARD_TEST(pcs_body_split_exact_bytes)
{
	struct ward_err err = WARD_ERR_INIT;
	struct tvec v;
	uint8_t sig[64];
	size_t off, len;

	if (!tvec_load("tdx/v4-spr-gotdxguest/tcbinfo.json", &v))
		return;
	CHECK_OK(ward_dcap_pcs_body_split((const char *)v.data, v.size, "tcbInfo", &off, &len, sig,
					  &err),
		 &err);
	CHECK_INT(off, ==, strlen("{\"tcbInfo\":"));
	CHECK(memcmp(v.data + off, "{\"id\":\"TDX\"", 11) == 0);
	CHECK_INT(v.data[off + len - 1], ==, '}');
	CHECK(memcmp(v.data + off + len, ",\"signature\":\"", 14) == 0);
	CHECK_ERR(ward_dcap_pcs_body_split((const char *)v.data, v.size, "enclaveIdentity", &off,
					   &len, sig, &err),
		  -WARD_E_MALFORMED);
	tvec_clear(&v);

	{
		static const char *const bad[] = {
		    "{\"tcbInfo\":{},\"signature\":\"00\"}",
		    "{\"tcbInfo\":{},\"tcbInfo\":{},\"signature\":\"" /* dup */,
		    "{\"tcbInfo\":{},\"extra\":1,\"signature\":\"\"}",
		    "{\"tcbInfo\":[],\"signature\":\"\"}",
		    "[]",
		    "{\"tcbInfo\":{}",
		};
		for (size_t i = 0; i < WARD_ARRAY_SIZE(bad); i++)
			CHECK_ERR(ward_dcap_pcs_body_split(bad[i], strlen(bad[i]), "tcbInfo", &off,
							   &len, sig, &err),
				  -WARD_E_MALFORMED);
	}
	{
		char good[300];

		snprintf(good, sizeof(good),
			 " { \"signature\" : \"%0128d\" , \"tcbInfo\" : { \"a\" : "
			 "[1,{\"}\":\"\\\"\"}] } } ",
			 0);
		CHECK_OK(
		    ward_dcap_pcs_body_split(good, strlen(good), "tcbInfo", &off, &len, sig, &err),
		    &err);
		CHECK(strncmp(good + off, "{ \"a\" : [1,{\"}\":\"\\\"\"}] }", len) == 0);
		CHECK_INT(len, ==, strlen("{ \"a\" : [1,{\"}\":\"\\\"\"}] }"));
	}
}

WARD_TEST(tcb_info_rejects)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_tcb_info *ti = NULL;
	struct ward_dcap_qe_identity *qi = NULL;
	static const char *const bad_ti[] = {
	    "{}",
	    "{\"id\":\"XYZ\"}",
	    "{\"id\":\"TDX\",\"version\":2}",
	    "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"bad\"}",
	    "[1]",
	    "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
	    "\"2025-02-01T00:00:00Z\",\"fmspc\":\"00\",\"pceId\":\"0000\",\"tcbType\":0,"
	    "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}",
	    "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
	    "\"2025-02-01T00:00:00Z\",\"fmspc\":\"001122334455\",\"pceId\":\"0000\",\"tcbType\":0,"
	    "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}",
	    "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
	    "\"2025-02-01T00:00:00Z\",\"fmspc\":\"001122334455\",\"pceId\":\"0000\",\"tcbType\":0,"
	    "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":"
	    "1}],\"pcesvn\":1},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
	};
	static const char good_v2[] =
	    "{\"id\":\"SGX\",\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
	    "\"2025-02-01T00:00:00Z\",\"fmspc\":\"001122334455\",\"pceId\":\"0000\",\"tcbType\":0,"
	    "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[{\"tcb\":{"
	    "\"sgxtcbcomp01svn\":1,\"sgxtcbcomp02svn\":1,\"sgxtcbcomp03svn\":1,\"sgxtcbcomp04svn\":"
	    "1,\"sgxtcbcomp05svn\":1,\"sgxtcbcomp06svn\":1,\"sgxtcbcomp07svn\":1,"
	    "\"sgxtcbcomp08svn\":1,"
	    "\"sgxtcbcomp09svn\":1,\"sgxtcbcomp10svn\":1,\"sgxtcbcomp11svn\":1,\"sgxtcbcomp12svn\":"
	    "1,\"sgxtcbcomp13svn\":1,\"sgxtcbcomp14svn\":1,\"sgxtcbcomp15svn\":1,"
	    "\"sgxtcbcomp16svn\":7,"
	    "\"pcesvn\":9},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"Revoked\","
	    "\"advisoryIDs\":[\"INTEL-SA-1\"]}]}";

	for (size_t i = 0; i < WARD_ARRAY_SIZE(bad_ti); i++) {
		int r = ward_dcap_tcb_info_parse(bad_ti[i], strlen(bad_ti[i]), &ti, &err);

		CHECK(r == -WARD_E_MALFORMED || r == -WARD_E_UNSUPPORTED);
	}
	CHECK_OK(ward_dcap_tcb_info_parse(good_v2, strlen(good_v2), &ti, &err), &err);
	CHECK_INT(ti->version, ==, 2);
	CHECK_INT(ti->levels[0].sgx_svn[15], ==, 7);
	CHECK_INT(ti->levels[0].pcesvn, ==, 9);
	CHECK_INT(ti->levels[0].status, ==, WARD_DCAP_TCB_REVOKED);
	ti = ward_dcap_tcb_info_free(ti);
	CHECK_ERR(ward_dcap_qe_identity_parse("{\"id\":\"QE\",\"version\":1}", 23, &qi, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(ward_dcap_qe_identity_parse("{\"id\":\"QE\"}", 11, &qi, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "version");
	CHECK_ERR(ward_dcap_qe_identity_parse("{\"id\":\"QE\",\"id\":\"QE\"}", 22, &qi, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
