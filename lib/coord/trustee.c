/* SPDX-License-Identifier: Apache-2.0 */
/* Trustee's SEV-SNP evidence, as CoCo's attestation-agent sends it to a
 * KBS: {"attestation_report": {...report fields as JSON...}, "cert_chain":
 * [{"cert_type": "VCEK"|"VLEK"|"ASK"|"ARK"|"CRL", "data": [bytes]}]}.
 * The report fields are written back to their offsets in the 1184-byte
 * report (AMD SEV-SNP ABI spec 56860, table "ATTESTATION_REPORT") and the
 * certificates into an SNP certificate table, which the shared verifier
 * then checks exactly as configfs-tsm evidence: nothing here is trusted,
 * a wrong field just makes the signature fail. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/json.h"

#define P "$.tee-evidence.attestation_report"
#define CHAIN_MAX 8
#define CERT_MAX (16u << 10)

/* A byte field: a JSON array of integers 0..255 (serde's form) or a hex
 * string, of exactly size bytes. */
static int get_bytes(const json_t *o, const char *path, const char *key, uint8_t *out,
		     size_t size, struct ward_err *err)
{
	const json_t *v = json_object_get(o, key);
	size_t i;
	json_t *e;

	if (!v)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: missing", path, key);
	if (json_is_string(v))
		return ward_json_get_hex_fixed(o, path, key, true, out, size, err);
	if (!json_is_array(v) || json_array_size(v) != size)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: expected %zu bytes", path, key,
				    size);
	json_array_foreach(v, i, e)
	{
		json_int_t x = json_integer_value(e);

		if (!json_is_integer(e) || x < 0 || x > 255)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s.%s[%zu]: expected a byte (0-255)", path, key, i);
		out[i] = (uint8_t)x;
	}
	return 0;
}

static void put_le(uint8_t *out, uint64_t v, size_t size)
{
	for (size_t i = 0; i < size; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

static int get_uint(const json_t *o, const char *path, const char *key, bool required,
		    int64_t max, uint8_t *out, size_t size, struct ward_err *err)
{
	int64_t v = 0;
	int r = ward_json_get_int(o, path, key, required, 0, max, &v, err);

	if (r >= 0)
		put_le(out, (uint64_t)v, size);
	return r;
}

/* TCB_VERSION {"fmc": n|null, "bootloader", "tee", "snp", "microcode"}:
 * with an fmc value the Turin layout (fmc, bl, tee, snp at bytes 0-3),
 * else Milan/Genoa (bl, tee at 0-1, snp at 6); microcode at 7. */
static int get_tcb(const json_t *o, const char *key, uint8_t out[8], struct ward_err *err)
{
	static const char *const keys[] = {"fmc", "bootloader", "tee", "snp", "microcode", NULL};
	char path[128];
	json_t *t = NULL, *fmc;
	int64_t v[5] = {0};
	int r;

	r = ward_json_get_object(o, P, key, true, &t, err);
	if (r < 0)
		return r;
	ward_json_path_key(path, sizeof(path), P, key);
	r = ward_json_check_keys(t, path, keys, err);
	for (int i = 1; r >= 0 && i < 5; i++)
		r = ward_json_get_int(t, path, keys[i], true, 0, 255, &v[i], err);
	if (r < 0)
		return r;
	fmc = json_object_get(t, "fmc");
	memset(out, 0, 8);
	if (fmc && !json_is_null(fmc)) {
		r = ward_json_get_int(t, path, "fmc", true, 0, 255, &v[0], err);
		if (r < 0)
			return r;
		out[0] = (uint8_t)v[0];
		out[1] = (uint8_t)v[1];
		out[2] = (uint8_t)v[2];
		out[3] = (uint8_t)v[3];
	} else {
		out[0] = (uint8_t)v[1];
		out[1] = (uint8_t)v[2];
		out[6] = (uint8_t)v[3];
	}
	out[7] = (uint8_t)v[4];
	return 0;
}

/* {"major", "minor", "build"} at out[0] = build, [1] = minor, [2] = major. */
static int get_version(const json_t *o, const char *key, uint8_t out[3], struct ward_err *err)
{
	static const char *const keys[] = {"major", "minor", "build", NULL};
	char path[128];
	json_t *t = NULL;
	int r;

	r = ward_json_get_object(o, P, key, true, &t, err);
	if (r < 0)
		return r;
	ward_json_path_key(path, sizeof(path), P, key);
	r = ward_json_check_keys(t, path, keys, err);
	if (r >= 0)
		r = get_uint(t, path, "build", true, 255, &out[0], 1, err);
	if (r >= 0)
		r = get_uint(t, path, "minor", true, 255, &out[1], 1, err);
	if (r >= 0)
		r = get_uint(t, path, "major", true, 255, &out[2], 1, err);
	return r;
}

/* Where a report field goes in the report being rebuilt (rep). */
#define AT(field) (rep + WARD_SNP_OFF_##field)

static int convert_report(const json_t *a, uint8_t *rep, struct ward_err *err)
{
	static const char *const keys[] = {
	    "version",	      "guest_svn",	 "policy",	    "family_id",
	    "image_id",	      "vmpl",		 "sig_algo",	    "current_tcb",
	    "plat_info",      "key_info",	 "report_data",	    "measurement",
	    "host_data",      "id_key_digest",	 "author_key_digest", "report_id",
	    "report_id_ma",   "reported_tcb",	 "cpuid_fam_id",    "cpuid_mod_id",
	    "cpuid_step",     "chip_id",	 "committed_tcb",   "current",
	    "committed",      "launch_tcb",	 "launch_mit_vector", "current_mit_vector",
	    "signature",      NULL};
	static const char *const sig_keys[] = {"r", "s", NULL};
	json_t *sig = NULL;
	int r;

	memset(rep, 0, WARD_SNP_REPORT_SIZE);
	if (!json_is_object(a))
		return ward_err_set(err, -WARD_E_MALFORMED, P ": expected an object");
	r = ward_json_check_keys(a, P, keys, err);
	if (r >= 0)
		r = get_uint(a, P, "version", true, UINT32_MAX, AT(VERSION), 4, err);
	if (r >= 0)
		r = get_uint(a, P, "guest_svn", true, UINT32_MAX, AT(GUEST_SVN), 4, err);
	if (r >= 0)
		r = get_uint(a, P, "policy", true, INT64_MAX, AT(POLICY), 8, err);
	if (r >= 0)
		r = get_bytes(a, P, "family_id", AT(FAMILY_ID), 16, err);
	if (r >= 0)
		r = get_bytes(a, P, "image_id", AT(IMAGE_ID), 16, err);
	if (r >= 0)
		r = get_uint(a, P, "vmpl", true, UINT32_MAX, AT(VMPL), 4, err);
	if (r >= 0)
		r = get_uint(a, P, "sig_algo", true, UINT32_MAX, AT(SIG_ALGO), 4, err);
	if (r >= 0)
		r = get_tcb(a, "current_tcb", AT(CURRENT_TCB), err);
	if (r >= 0)
		r = get_uint(a, P, "plat_info", true, INT64_MAX, AT(PLATFORM_INFO), 8, err);
	if (r >= 0)
		r = get_uint(a, P, "key_info", true, UINT32_MAX, AT(KEY_INFO), 4, err);
	if (r >= 0)
		r = get_bytes(a, P, "report_data", AT(REPORT_DATA), 64, err);
	if (r >= 0)
		r = get_bytes(a, P, "measurement", AT(MEASUREMENT), 48, err);
	if (r >= 0)
		r = get_bytes(a, P, "host_data", AT(HOST_DATA), 32, err);
	if (r >= 0)
		r = get_bytes(a, P, "id_key_digest", AT(ID_KEY_DIGEST), 48, err);
	if (r >= 0)
		r = get_bytes(a, P, "author_key_digest", AT(AUTHOR_KEY_DIGEST), 48, err);
	if (r >= 0)
		r = get_bytes(a, P, "report_id", AT(REPORT_ID), 32, err);
	if (r >= 0)
		r = get_bytes(a, P, "report_id_ma", AT(REPORT_ID_MA), 32, err);
	if (r >= 0)
		r = get_tcb(a, "reported_tcb", AT(REPORTED_TCB), err);
	if (r >= 0)
		r = get_uint(a, P, "cpuid_fam_id", false, 255, AT(CPUID_FAM), 1, err);
	if (r >= 0)
		r = get_uint(a, P, "cpuid_mod_id", false, 255, AT(CPUID_MOD), 1, err);
	if (r >= 0)
		r = get_uint(a, P, "cpuid_step", false, 255, AT(CPUID_STEP), 1, err);
	if (r >= 0)
		r = get_bytes(a, P, "chip_id", AT(CHIP_ID), 64, err);
	if (r >= 0)
		r = get_tcb(a, "committed_tcb", AT(COMMITTED_TCB), err);
	if (r >= 0)
		r = get_version(a, "current", AT(CURRENT_BUILD), err);
	if (r >= 0)
		r = get_version(a, "committed", AT(COMMITTED_BUILD), err);
	if (r >= 0)
		r = get_tcb(a, "launch_tcb", AT(LAUNCH_TCB), err);
	if (r >= 0)
		r = get_uint(a, P, "launch_mit_vector", false, INT64_MAX, AT(LAUNCH_MIT_VECTOR), 8,
			     err);
	if (r >= 0)
		r = get_uint(a, P, "current_mit_vector", false, INT64_MAX, AT(CURRENT_MIT_VECTOR), 8,
			     err);
	if (r >= 0)
		r = ward_json_get_object(a, P, "signature", true, &sig, err);
	if (r >= 0)
		r = ward_json_check_keys(sig, P ".signature", sig_keys, err);
	if (r >= 0)
		r = get_bytes(sig, P ".signature", "r", AT(SIG_R), 72, err);
	if (r >= 0)
		r = get_bytes(sig, P ".signature", "s", AT(SIG_S), 72, err);
	return r;
}

/* GUIDs as stored in the certificate table (byte order of the text form). */
static const struct {
	const char *name;
	uint8_t guid[16];
} CERT_TYPES[] = {
    {"VCEK", {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8,
	      0xac, 0xcd}},
    {"VLEK", {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0,
	      0xb8, 0xa1}},
    {"ASK", {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27,
	     0xc7, 0x82}},
    {"ARK", {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c,
	     0xd0, 0xae}},
    {"CRL", {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc,
	     0x67, 0xea}},
};

static int convert_chain(const json_t *chain, uint8_t **ret, size_t *ret_size,
			 struct ward_err *err)
{
	static const char *const keys[] = {"cert_type", "data", NULL};
	WARD_AUTOFREE uint8_t *table = NULL;
	size_t n = json_array_size(chain), off, size, i;
	json_t *e;
	int r;

	if (n > CHAIN_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "$.tee-evidence.cert_chain: more than %d certificates",
				    CHAIN_MAX);
	off = (n + 1) * 24;
	size = off + n * CERT_MAX;
	table = calloc(1, size);
	if (!table)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(chain, i, e)
	{
		char path[64];
		const char *type = NULL;
		const json_t *data;
		size_t k, len;
		uint8_t *entry = table + i * 24;

		snprintf(path, sizeof(path), "$.tee-evidence.cert_chain[%zu]", i);
		if (!json_is_object(e))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected an object", path);
		r = ward_json_check_keys(e, path, keys, err);
		if (r >= 0)
			r = ward_json_get_string(e, path, "cert_type", true, &type, err);
		if (r < 0)
			return r;
		for (k = 0; k < sizeof(CERT_TYPES) / sizeof(CERT_TYPES[0]); k++)
			if (strcmp(type, CERT_TYPES[k].name) == 0)
				break;
		if (k == sizeof(CERT_TYPES) / sizeof(CERT_TYPES[0]))
			return ward_err_set(err, -WARD_E_UNSUPPORTED,
					    "%s.cert_type: \"%s\" (expected VCEK, VLEK, ASK, ARK "
					    "or CRL)",
					    path, type);
		data = json_object_get(e, "data");
		len = json_array_size(data);
		if (!json_is_array(data) || len == 0 || len > CERT_MAX)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s.data: expected 1-%u bytes as an array", path,
					    CERT_MAX);
		r = get_bytes(e, path, "data", table + off, len, err);
		if (r < 0)
			return r;
		memcpy(entry, CERT_TYPES[k].guid, 16);
		put_le(entry + 16, off, 4);
		put_le(entry + 20, len, 4);
		off += len;
	}
	*ret_size = n ? off : 0;
	*ret = n ? WARD_TAKE_PTR(table) : NULL;
	return 0;
}

int ward_coord_trustee_snp_convert(const json_t *evidence, uint8_t report[WARD_SNP_REPORT_SIZE],
				   uint8_t **ret_table, size_t *ret_table_size,
				   struct ward_err *err)
{
	static const char *const keys[] = {"attestation_report", "cert_chain", NULL};
	json_t *chain = NULL;
	int r;

	r = ward_json_check_keys(evidence, "$.tee-evidence", keys, err);
	if (r >= 0)
		r = convert_report(json_object_get(evidence, "attestation_report"), report, err);
	/* cert_chain is optional (null or absent: the VCEK comes from the
	 * collateral directory). */
	if (r >= 0 && !json_is_null(json_object_get(evidence, "cert_chain")))
		r = ward_json_get_array(evidence, "$.tee-evidence", "cert_chain", false, CHAIN_MAX,
					&chain, err);
	if (r >= 0)
		r = convert_chain(chain, ret_table, ret_table_size, err);
	if (r < 0)
		return ward_err_prefix(err, "Trustee SNP evidence");
	return 0;
}
