/* SPDX-License-Identifier: Apache-2.0 */
/* SEV-SNP ATTESTATION_REPORT parsing (AMD SEV-SNP ABI spec 56860, table
 * "ATTESTATION_REPORT Structure") and its unverified claims. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "snp-internal.h"
#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "ward/encoding.h"

/* Read a field or fail naming it and its offset. */
#define FIELD(expr, name)                                                                          \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			return ward_err_set(err, -WARD_E_MALFORMED,                                \
					    "SNP report: field %s at offset 0x%zx is malformed",   \
					    name, ward_cur_offset(&c, &base));                     \
	} while (0)

int ward_snp_report_parse(const void *buf, size_t size, struct ward_snp_report *ret,
			  struct ward_err *err)
{
	const struct ward_cur base = ward_cur_make(buf, size);
	struct ward_cur c = base;
	struct ward_snp_report r = {0};
	uint32_t key_info;

	if (!buf || size != WARD_SNP_REPORT_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "SNP report: size %zu, expected exactly %u bytes", size,
				    WARD_SNP_REPORT_SIZE);
	r.raw = buf;

	FIELD(ward_cur_u32le(&c, &r.version), "VERSION");
	if (r.version != 2 && r.version != 3 && r.version != 5)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "SNP report: version %u not supported (2, 3 or 5)", r.version);
	FIELD(ward_cur_u32le(&c, &r.guest_svn), "GUEST_SVN");
	FIELD(ward_cur_u64le(&c, &r.policy), "POLICY");
	FIELD(ward_cur_take(&c, 16, &r.family_id), "FAMILY_ID");
	FIELD(ward_cur_take(&c, 16, &r.image_id), "IMAGE_ID");
	FIELD(ward_cur_u32le(&c, &r.vmpl), "VMPL");
	FIELD(ward_cur_u32le(&c, &r.signature_algo), "SIGNATURE_ALGO");
	if (r.signature_algo != WARD_SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "SNP report: SIGNATURE_ALGO %u not supported (1 = ECDSA P-384 "
				    "with SHA-384)",
				    r.signature_algo);
	FIELD(ward_cur_u64le(&c, &r.current_tcb), "CURRENT_TCB");
	FIELD(ward_cur_u64le(&c, &r.platform_info), "PLATFORM_INFO");
	FIELD(ward_cur_u32le(&c, &key_info), "KEY_INFO");
	if (key_info >> 5)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "SNP report: reserved KEY_INFO bits set (0x%08x at 0x48)",
				    key_info);
	r.author_key_en = key_info & 1;
	r.mask_chip_key = (key_info >> 1) & 1;
	r.signing_key = (enum ward_snp_signing_key)((key_info >> 2) & 7);
	if (r.signing_key != WARD_SNP_SIGNING_KEY_VCEK &&
	    r.signing_key != WARD_SNP_SIGNING_KEY_VLEK &&
	    r.signing_key != WARD_SNP_SIGNING_KEY_NONE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "SNP report: KEY_INFO.SIGNING_KEY %u is reserved",
				    (unsigned)r.signing_key);
	FIELD(ward_cur_zeros(&c, 4), "reserved (0x4C)");
	FIELD(ward_cur_take(&c, 64, &r.report_data), "REPORT_DATA");
	FIELD(ward_cur_take(&c, 48, &r.measurement), "MEASUREMENT");
	FIELD(ward_cur_take(&c, 32, &r.host_data), "HOST_DATA");
	FIELD(ward_cur_take(&c, 48, &r.id_key_digest), "ID_KEY_DIGEST");
	FIELD(ward_cur_take(&c, 48, &r.author_key_digest), "AUTHOR_KEY_DIGEST");
	FIELD(ward_cur_take(&c, 32, &r.report_id), "REPORT_ID");
	FIELD(ward_cur_take(&c, 32, &r.report_id_ma), "REPORT_ID_MA");
	FIELD(ward_cur_u64le(&c, &r.reported_tcb), "REPORTED_TCB");
	if (r.version >= 3) {
		FIELD(ward_cur_u8(&c, &r.cpuid_fam_id), "CPUID_FAM_ID");
		FIELD(ward_cur_u8(&c, &r.cpuid_mod_id), "CPUID_MOD_ID");
		FIELD(ward_cur_u8(&c, &r.cpuid_step), "CPUID_STEP");
		FIELD(ward_cur_zeros(&c, WARD_SNP_OFF_CHIP_ID - WARD_SNP_OFF_CPUID_STEP - 1),
		      "reserved (0x18B)");
	} else {
		FIELD(ward_cur_zeros(&c, WARD_SNP_OFF_CHIP_ID - WARD_SNP_OFF_CPUID_FAM),
		      "reserved (0x188)");
	}
	FIELD(ward_cur_take(&c, WARD_SNP_CHIP_ID_SIZE, &r.chip_id), "CHIP_ID");
	FIELD(ward_cur_u64le(&c, &r.committed_tcb), "COMMITTED_TCB");
	FIELD(ward_cur_u8(&c, &r.current_build), "CURRENT_BUILD");
	FIELD(ward_cur_u8(&c, &r.current_minor), "CURRENT_MINOR");
	FIELD(ward_cur_u8(&c, &r.current_major), "CURRENT_MAJOR");
	FIELD(ward_cur_zeros(&c, 1), "reserved (0x1EB)");
	FIELD(ward_cur_u8(&c, &r.committed_build), "COMMITTED_BUILD");
	FIELD(ward_cur_u8(&c, &r.committed_minor), "COMMITTED_MINOR");
	FIELD(ward_cur_u8(&c, &r.committed_major), "COMMITTED_MAJOR");
	FIELD(ward_cur_zeros(&c, 1), "reserved (0x1EF)");
	FIELD(ward_cur_u64le(&c, &r.launch_tcb), "LAUNCH_TCB");
	if (r.version >= 5) {
		FIELD(ward_cur_u64le(&c, &r.launch_mit_vector), "LAUNCH_MIT_VECTOR");
		FIELD(ward_cur_u64le(&c, &r.current_mit_vector), "CURRENT_MIT_VECTOR");
		FIELD(ward_cur_zeros(&c,
				     WARD_SNP_SIGNED_SIZE - WARD_SNP_OFF_CURRENT_MIT_VECTOR - 8),
		      "reserved (0x208)");
	} else {
		FIELD(ward_cur_zeros(&c, WARD_SNP_SIGNED_SIZE - WARD_SNP_OFF_LAUNCH_MIT_VECTOR),
		      "reserved (0x1F8)");
	}
	/* SIGNATURE: r and s are 72-byte little-endian fields of which a P-384
	 * value uses the low 48 bytes; the rest of the 512 bytes is reserved. */
	FIELD(ward_cur_take(&c, 48, &r.sig_r), "SIGNATURE.R");
	FIELD(ward_cur_zeros(&c, WARD_SNP_SIG_COMPONENT_SIZE - 48), "SIGNATURE.R (upper bytes)");
	FIELD(ward_cur_take(&c, 48, &r.sig_s), "SIGNATURE.S");
	FIELD(ward_cur_zeros(&c, WARD_SNP_SIG_COMPONENT_SIZE - 48), "SIGNATURE.S (upper bytes)");
	FIELD(ward_cur_zeros(&c, WARD_SNP_REPORT_SIZE - WARD_SNP_OFF_SIG_R -
				     2 * WARD_SNP_SIG_COMPONENT_SIZE),
	      "SIGNATURE (reserved)");
	if (!ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "SNP report: trailing bytes");
	*ret = r;
	return 0;
}

enum ward_snp_product ward_snp_report_product(const struct ward_snp_report *r)
{
	if (r->version < 3)
		return WARD_SNP_PRODUCT_UNKNOWN;
	if (r->cpuid_fam_id == 0x19) {
		if (r->cpuid_mod_id <= 0x0F)
			return WARD_SNP_PRODUCT_MILAN;
		if ((r->cpuid_mod_id >= 0x10 && r->cpuid_mod_id <= 0x1F) ||
		    (r->cpuid_mod_id >= 0xA0 && r->cpuid_mod_id <= 0xAF))
			return WARD_SNP_PRODUCT_GENOA;
	} else if (r->cpuid_fam_id == 0x1A) {
		return WARD_SNP_PRODUCT_TURIN;
	}
	return WARD_SNP_PRODUCT_UNKNOWN;
}

void ward_snp_tcb_decode(uint64_t raw, enum ward_snp_product product, struct ward_snp_tcb *ret)
{
	uint8_t b[8];

	for (size_t i = 0; i < 8; i++)
		b[i] = (uint8_t)(raw >> (8 * i));
	*ret = (struct ward_snp_tcb){.raw = raw, .ucode = b[7]};
	if (product == WARD_SNP_PRODUCT_TURIN) {
		ret->has_fmc = true;
		ret->fmc = b[0];
		ret->bl = b[1];
		ret->tee = b[2];
		ret->snp = b[3];
	} else {
		ret->bl = b[0];
		ret->tee = b[1];
		ret->snp = b[6];
	}
}

static const char *const product_names[] = {
    [WARD_SNP_PRODUCT_UNKNOWN] = "unknown",
    [WARD_SNP_PRODUCT_MILAN] = "Milan",
    [WARD_SNP_PRODUCT_GENOA] = "Genoa",
    [WARD_SNP_PRODUCT_TURIN] = "Turin",
};

const char *ward_snp_product_name(enum ward_snp_product product)
{
	if ((size_t)product >= WARD_ARRAY_SIZE(product_names))
		return "unknown";
	return product_names[product];
}

int ward_snp_product_parse(const char *name, enum ward_snp_product *ret, struct ward_err *err)
{
	for (size_t i = WARD_SNP_PRODUCT_MILAN; i < WARD_ARRAY_SIZE(product_names); i++)
		if (name && strcasecmp(name, product_names[i]) == 0) {
			*ret = (enum ward_snp_product)i;
			return 0;
		}
	return ward_err_set(err, -WARD_E_MALFORMED,
			    "unknown SNP product '%s' (Milan, Genoa, Turin)", name ? name : "");
}

enum ward_snp_product ward_snp_product_from_issuer_cn(const char *cn)
{
	static const char *const prefixes[] = {"SEV-VLEK-", "SEV-"};

	for (size_t i = 0; cn && i < WARD_ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		enum ward_snp_product p;

		if (strncmp(cn, prefixes[i], n) == 0 &&
		    ward_snp_product_parse(cn + n, &p, NULL) == 0)
			return p;
	}
	return WARD_SNP_PRODUCT_UNKNOWN;
}

json_t *ward_snp_json_hex(const uint8_t *p, size_t size)
{
	WARD_AUTOFREE char *hex = ward_hex_encode_alloc(p, size);

	return hex ? json_string(hex) : NULL;
}

int ward_snp_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value)
		return -ENOMEM;
	if (json_object_set_new(obj, key, value) < 0)
		return -ENOMEM;
	return 0;
}

json_t *ward_snp_json_tcb(uint64_t raw, enum ward_snp_product product)
{
	struct ward_snp_tcb t;
	char hex[17];
	json_t *o;

	ward_snp_tcb_decode(raw, product, &t);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)raw);
	o = json_pack("{s:s, s:i, s:i, s:i, s:i}", "raw", hex, "bl", (json_int_t)t.bl, "tee",
		      (json_int_t)t.tee, "snp", (json_int_t)t.snp, "ucode", (json_int_t)t.ucode);
	if (o && t.has_fmc && json_object_set_new(o, "fmc", json_integer(t.fmc)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *signing_key_name(enum ward_snp_signing_key k)
{
	switch (k) {
	case WARD_SNP_SIGNING_KEY_VCEK:
		return "vcek";
	case WARD_SNP_SIGNING_KEY_VLEK:
		return "vlek";
	default:
		return "none";
	}
}

static json_t *firmware_version(uint8_t major, uint8_t minor, uint8_t build)
{
	char s[16];

	snprintf(s, sizeof(s), "%u.%u.%u", major, minor, build);
	return json_string(s);
}

int ward_snp_report_claims(const struct ward_snp_report *r, enum ward_snp_product product,
			   json_t **ret, struct ward_err *err)
{
	json_t *o = json_object(), *pol = NULL;
	int rr = 0;
	char polhex[19];

	if (!o)
		return ward_err_set(err, -ENOMEM, "out of memory");
	snprintf(polhex, sizeof(polhex), "0x%016llx", (unsigned long long)r->policy);
	pol = json_pack("{s:s, s:i, s:i, s:b, s:b, s:b, s:b}", "raw", polhex, "abi_major",
			(json_int_t)((r->policy >> 8) & 0xFF), "abi_minor",
			(json_int_t)(r->policy & 0xFF), "smt", !!(r->policy & WARD_SNP_POLICY_SMT),
			"migrate_ma", !!(r->policy & WARD_SNP_POLICY_MIGRATE_MA), "debug",
			!!(r->policy & WARD_SNP_POLICY_DEBUG), "single_socket",
			!!(r->policy & WARD_SNP_POLICY_SINGLE_SOCKET));

	rr |= ward_snp_json_set(o, "tee", json_string("snp"));
	rr |= ward_snp_json_set(o, "verified", json_false());
	rr |= ward_snp_json_set(o, "insecure", json_false());
	rr |= ward_snp_json_set(o, "version", json_integer(r->version));
	rr |= ward_snp_json_set(o, "product", json_string(ward_snp_product_name(product)));
	rr |= ward_snp_json_set(o, "measurement", ward_snp_json_hex(r->measurement, 48));
	rr |= ward_snp_json_set(o, "host_data", ward_snp_json_hex(r->host_data, 32));
	rr |= ward_snp_json_set(o, "report_data", ward_snp_json_hex(r->report_data, 64));
	rr |= ward_snp_json_set(o, "id_key_digest", ward_snp_json_hex(r->id_key_digest, 48));
	rr |=
	    ward_snp_json_set(o, "author_key_digest", ward_snp_json_hex(r->author_key_digest, 48));
	rr |= ward_snp_json_set(o, "family_id", ward_snp_json_hex(r->family_id, 16));
	rr |= ward_snp_json_set(o, "image_id", ward_snp_json_hex(r->image_id, 16));
	rr |= ward_snp_json_set(o, "report_id", ward_snp_json_hex(r->report_id, 32));
	rr |= ward_snp_json_set(o, "report_id_ma", ward_snp_json_hex(r->report_id_ma, 32));
	rr |= ward_snp_json_set(o, "guest_svn", json_integer(r->guest_svn));
	rr |= ward_snp_json_set(o, "policy", pol);
	rr |= ward_snp_json_set(o, "debug", json_boolean(r->policy & WARD_SNP_POLICY_DEBUG));
	rr |= ward_snp_json_set(o, "vmpl", json_integer(r->vmpl));
	rr |= ward_snp_json_set(o, "platform_info", json_integer((json_int_t)r->platform_info));
	rr |= ward_snp_json_set(o, "author_key_en", json_boolean(r->author_key_en));
	rr |= ward_snp_json_set(o, "mask_chip_key", json_boolean(r->mask_chip_key));
	rr |= ward_snp_json_set(o, "signing_key", json_string(signing_key_name(r->signing_key)));
	rr |= ward_snp_json_set(o, "chip_id", ward_snp_json_hex(r->chip_id, WARD_SNP_CHIP_ID_SIZE));
	if (r->version >= 3) {
		json_t *cpuid =
		    json_pack("{s:i, s:i, s:i}", "family", (json_int_t)r->cpuid_fam_id, "model",
			      (json_int_t)r->cpuid_mod_id, "stepping", (json_int_t)r->cpuid_step);
		rr |= ward_snp_json_set(o, "cpuid", cpuid);
	}
	rr |= ward_snp_json_set(o, "current_tcb", ward_snp_json_tcb(r->current_tcb, product));
	rr |= ward_snp_json_set(o, "reported_tcb", ward_snp_json_tcb(r->reported_tcb, product));
	rr |= ward_snp_json_set(o, "committed_tcb", ward_snp_json_tcb(r->committed_tcb, product));
	rr |= ward_snp_json_set(o, "launch_tcb", ward_snp_json_tcb(r->launch_tcb, product));
	rr |= ward_snp_json_set(
	    o, "current_firmware",
	    firmware_version(r->current_major, r->current_minor, r->current_build));
	rr |= ward_snp_json_set(
	    o, "committed_firmware",
	    firmware_version(r->committed_major, r->committed_minor, r->committed_build));
	if (r->version >= 5) {
		rr |= ward_snp_json_set(o, "launch_mit_vector",
					json_integer((json_int_t)r->launch_mit_vector));
		rr |= ward_snp_json_set(o, "current_mit_vector",
					json_integer((json_int_t)r->current_mit_vector));
	}
	if (rr) {
		json_decref(o);
		return ward_err_set(err, -ENOMEM, "out of memory building SNP claims");
	}
	*ret = o;
	return 0;
}
