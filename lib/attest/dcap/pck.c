/* SPDX-License-Identifier: Apache-2.0 */
/* The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1):
 * SEQUENCE OF SEQUENCE { OID, value } carrying the platform's TCB
 * (component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC and SGX type. */

#include <string.h>

#include "dcap-internal.h"

/* 1.2.840.113741.1.13.1 encoded; sub-OIDs append one or two arcs. */
#define SGX_OID_PREFIX 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01
#define SGX_OID_PREFIX_SIZE 9

static bool sgx_oid_is(const struct ward_cur *oid, uint8_t a, int b)
{
	static const uint8_t prefix[] = {SGX_OID_PREFIX};
	size_t want = SGX_OID_PREFIX_SIZE + (b >= 0 ? 2 : 1);

	if (oid->left != want || memcmp(oid->p, prefix, sizeof(prefix)) != 0)
		return false;
	if (oid->p[SGX_OID_PREFIX_SIZE] != a)
		return false;
	return b < 0 || oid->p[SGX_OID_PREFIX_SIZE + 1] == (uint8_t)b;
}

static int octets(struct ward_cur *val, size_t n, uint8_t *out)
{
	struct ward_cur s;

	if (ward_der_expect(val, WARD_DER_OCTET_STRING, &s) < 0 || s.left != n ||
	    !ward_cur_empty(val))
		return -WARD_E_MALFORMED;
	memcpy(out, s.p, n);
	return 0;
}

static int parse_tcb(struct ward_cur tcb, struct ward_dcap_pck_info *info, struct ward_err *err)
{
	uint32_t seen = 0; /* bit i-1 for sub-arc i (1..18) */

	while (!ward_cur_empty(&tcb)) {
		struct ward_cur item, oid, val;
		uint64_t v;
		int arc = -1;

		if (ward_der_expect(&tcb, WARD_DER_SEQUENCE, &item) < 0 ||
		    ward_der_expect(&item, WARD_DER_OID, &oid) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "PCK SGX extension: bad TCB entry");
		for (int i = 1; i <= 18; i++)
			if (sgx_oid_is(&oid, 2, i))
				arc = i;
		if (arc < 0)
			continue; /* unknown TCB member: ignore */
		if (seen & (1u << (arc - 1)))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "PCK SGX extension: TCB entry %d repeated", arc);
		seen |= 1u << (arc - 1);
		val = item;
		if (arc <= 16) {
			struct ward_cur n;

			if (ward_der_expect(&val, WARD_DER_INTEGER, &n) < 0 ||
			    ward_der_uint(&n, 255, &v) < 0 || !ward_cur_empty(&val))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad TCB component %d", arc);
			info->comp_svn[arc - 1] = (uint8_t)v;
		} else if (arc == 17) {
			struct ward_cur n;

			if (ward_der_expect(&val, WARD_DER_INTEGER, &n) < 0 ||
			    ward_der_uint(&n, 65535, &v) < 0 || !ward_cur_empty(&val))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad PCESVN");
			info->pcesvn = (uint16_t)v;
		} else if (octets(&val, 16, info->cpusvn) < 0) {
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "PCK SGX extension: bad CPUSVN");
		}
	}
	if (seen != (1u << 18) - 1)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "PCK SGX extension: TCB lacks components (have mask %05x)",
				    seen);
	return 0;
}

int ward_dcap_pck_ext_parse(const uint8_t *der, size_t size, struct ward_dcap_pck_info *ret,
			    struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(der, size), seq;
	struct ward_dcap_pck_info info = {0};
	bool have_tcb = false, have_pceid = false, have_fmspc = false, have_type = false;
	int r;

	if (ward_der_expect(&c, WARD_DER_SEQUENCE, &seq) < 0 || !ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: not a SEQUENCE");
	while (!ward_cur_empty(&seq)) {
		struct ward_cur item, oid, val;

		if (ward_der_expect(&seq, WARD_DER_SEQUENCE, &item) < 0 ||
		    ward_der_expect(&item, WARD_DER_OID, &oid) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: bad entry");
		if (sgx_oid_is(&oid, 2, -1)) {
			if (have_tcb || ward_der_expect(&item, WARD_DER_SEQUENCE, &val) < 0 ||
			    !ward_cur_empty(&item))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad TCB");
			r = parse_tcb(val, &info, err);
			if (r < 0)
				return r;
			have_tcb = true;
		} else if (sgx_oid_is(&oid, 3, -1)) {
			if (have_pceid || octets(&item, 2, info.pceid) < 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad PCE-ID");
			have_pceid = true;
		} else if (sgx_oid_is(&oid, 4, -1)) {
			if (have_fmspc || octets(&item, 6, info.fmspc) < 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad FMSPC");
			have_fmspc = true;
		} else if (sgx_oid_is(&oid, 5, -1)) {
			uint64_t v;

			if (have_type || ward_der_expect(&item, WARD_DER_ENUMERATED, &val) < 0 ||
			    ward_der_uint(&val, 255, &v) < 0 || !ward_cur_empty(&item))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "PCK SGX extension: bad SGX type");
			info.sgx_type = (uint32_t)v;
			have_type = true;
		}
		/* PPID (.1), PlatformInstanceID (.6), Configuration (.7): not needed. */
	}
	if (!have_tcb)
		return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: TCB missing");
	if (!have_pceid)
		return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: PCE-ID missing");
	if (!have_fmspc)
		return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: FMSPC missing");
	if (!have_type)
		return ward_err_set(err, -WARD_E_MALFORMED, "PCK SGX extension: SGX type missing");
	*ret = info;
	return 0;
}
