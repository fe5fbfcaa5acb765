/* SPDX-License-Identifier: Apache-2.0 */
/* Azure confidential VMs expose the SNP report wrapped in an "HCL report"
 * (vTPM NV index 0x01400001): a 32-byte header { "HCLA", version,
 * report_size, request_type, status, reserved[3] }, the 1184-byte hardware
 * report at 0x20, then the IGVM request data { data_size, version,
 * report_type, hash_type, variable_data_size, variable_data[] } whose hash
 * the guest firmware put into REPORT_DATA[0:32]. The NV index is larger
 * than the report: the bytes after report_size are zero padding.
 * UNTRUSTED: read from the host-emulated vTPM. */
#include "ward/attest.h"
#include "ward/cursor.h"

#define HCL_MAGIC 0x414C4348u /* "HCLA" little-endian */
#define HCL_REQUEST_TYPE_REPORT 2
#define HCL_REPORT_TYPE_SNP 2
#define IGVM_HEADER_SIZE 20

int ward_snp_hcl_parse(const void *buf, size_t size, struct ward_snp_hcl *ret, struct ward_err *err)
{
	const struct ward_cur base = ward_cur_make(buf, size);
	struct ward_cur c = base, body, igvm;
	struct ward_snp_hcl h = {0};
	uint32_t magic, report_size, request_type, status;
	uint32_t data_size, igvm_version, report_type, var_size;

	if (size > WARD_SNP_HCL_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "HCL report: %zu bytes exceeds %u", size,
				    WARD_SNP_HCL_MAX_SIZE);
	if (ward_cur_u32le(&c, &magic) < 0 || magic != HCL_MAGIC)
		return ward_err_set(err, -WARD_E_MALFORMED, "HCL report: no \"HCLA\" signature");
	if (ward_cur_u32le(&c, &h.version) < 0 || ward_cur_u32le(&c, &report_size) < 0 ||
	    ward_cur_u32le(&c, &request_type) < 0 || ward_cur_u32le(&c, &status) < 0 ||
	    ward_cur_skip(&c, 12) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "HCL report: header truncated");
	if (h.version != 1 && h.version != 2)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "HCL report: version %u not supported", h.version);
	if (request_type != HCL_REQUEST_TYPE_REPORT || status != 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "HCL report: request type %u / status %u (expected 2 / 0)",
				    request_type, status);
	/* report_size counts from the start of the header. */
	c = base;
	if (report_size < WARD_SNP_HCL_REPORT_OFFSET + WARD_SNP_REPORT_SIZE + IGVM_HEADER_SIZE ||
	    ward_cur_sub(&c, report_size, &body) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "HCL report: report size %u does not fit the %zu-byte input",
				    report_size, size);
	if (ward_cur_zeros(&c, c.left) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "HCL report: non-zero bytes after the declared size %u",
				    report_size);
	if (ward_cur_skip(&body, WARD_SNP_HCL_REPORT_OFFSET) < 0 ||
	    ward_cur_take(&body, WARD_SNP_REPORT_SIZE, &h.report) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "HCL report: truncated");
	/* The rest of the declared size is the IGVM request data, whose own
	 * size field must agree. */
	igvm = body;
	if (ward_cur_u32le(&igvm, &data_size) < 0 || data_size != body.left ||
	    ward_cur_u32le(&igvm, &igvm_version) < 0 || ward_cur_u32le(&igvm, &report_type) < 0 ||
	    ward_cur_u32le(&igvm, &h.hash_type) < 0 || ward_cur_u32le(&igvm, &var_size) < 0 ||
	    ward_cur_take(&igvm, var_size, &h.runtime_data) < 0 || !ward_cur_empty(&igvm))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "HCL report: IGVM request data malformed (sizes disagree)");
	(void)igvm_version;
	if (report_type != HCL_REPORT_TYPE_SNP)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "HCL report: report type %u is not SEV-SNP (2)", report_type);
	if (h.hash_type < 1 || h.hash_type > 3)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "HCL report: hash type %u not supported", h.hash_type);
	h.runtime_data_size = var_size;
	*ret = h;
	return 0;
}
