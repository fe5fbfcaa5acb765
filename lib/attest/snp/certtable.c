/* SPDX-License-Identifier: Apache-2.0 */
/* The SNP certificate table returned with an extended report
 * (SNP_GET_EXT_REPORT) and by configfs-tsm as "auxblob": entries of
 * { GUID[16], offset u32le, length u32le }, terminated by an all-zero
 * entry, followed by the certificates (offsets count from the table start).
 * UNTRUSTED: written by the host. */
#include <string.h>

#include "ward/attest.h"
#include "ward/cursor.h"

#define ENTRY_SIZE 24

static const struct {
	uint8_t guid[16];
	enum ward_snp_cert_kind kind;
} known_guids[] = {
    /* c0b406a4-a803-4952-9743-3fb6014cd0ae */
    {{0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0,
      0xae},
     WARD_SNP_CERT_ARK},
    /* 4ab7b379-bbac-4fe4-a02f-05aef327c782 */
    {{0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7,
      0x82},
     WARD_SNP_CERT_ASK},
    /* 63da758d-e664-4564-adc5-f4b93be8accd */
    {{0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac,
      0xcd},
     WARD_SNP_CERT_VCEK},
    /* a8074bc2-a25a-483e-aae6-39c045a0b8a1 */
    {{0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8,
      0xa1},
     WARD_SNP_CERT_VLEK},
    /* 92f81bc3-5811-4d3d-97ff-d19f88dc67ea */
    {{0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d, 0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67,
      0xea},
     WARD_SNP_CERT_CRL},
};

static enum ward_snp_cert_kind guid_kind(const uint8_t guid[16])
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(known_guids); i++)
		if (memcmp(guid, known_guids[i].guid, 16) == 0)
			return known_guids[i].kind;
	return WARD_SNP_CERT_OTHER;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int ward_snp_certtable_parse(const void *buf, size_t size, struct ward_snp_certtable *ret,
			     struct ward_err *err)
{
	const struct ward_cur base = ward_cur_make(buf, size);
	struct ward_cur c = base;
	struct ward_snp_certtable t = {0};
	uint32_t offsets[WARD_SNP_CERTTABLE_MAX_ENTRIES];
	size_t table_end;

	if (size > WARD_SNP_CERTTABLE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "SNP certificate table: %zu bytes exceeds the limit of %u",
				    size, WARD_SNP_CERTTABLE_MAX_SIZE);
	for (;;) {
		const uint8_t *guid;
		uint32_t offset, length;
		struct ward_snp_cert_entry *e;

		if (ward_cur_take(&c, 16, &guid) < 0 || ward_cur_u32le(&c, &offset) < 0 ||
		    ward_cur_u32le(&c, &length) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "SNP certificate table: entry %zu truncated "
					    "(no all-zero terminator)",
					    t.count);
		if (all_zero(guid, 16) && offset == 0 && length == 0)
			break;
		if (t.count == WARD_SNP_CERTTABLE_MAX_ENTRIES)
			return ward_err_set(err, -WARD_E_TOO_BIG,
					    "SNP certificate table: more than %u entries",
					    WARD_SNP_CERTTABLE_MAX_ENTRIES);
		if (all_zero(guid, 16))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "SNP certificate table: entry %zu has a zero GUID",
					    t.count);
		e = &t.entries[t.count];
		memcpy(e->guid, guid, 16);
		e->kind = guid_kind(guid);
		e->size = length;
		/* Offsets are checked once the table's end is known (below). */
		offsets[t.count] = offset;
		for (size_t i = 0; i < t.count; i++)
			if (memcmp(t.entries[i].guid, guid, 16) == 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "SNP certificate table: duplicate GUID in "
						    "entry %zu",
						    t.count);
		t.count++;
	}
	table_end = ward_cur_offset(&c, &base);
	for (size_t i = 0; i < t.count; i++) {
		struct ward_snp_cert_entry *e = &t.entries[i];
		size_t offset = offsets[i];
		struct ward_cur region = base, data;

		if (offset < table_end || ward_cur_skip(&region, offset) < 0 ||
		    ward_cur_sub(&region, e->size, &data) < 0 || e->size == 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "SNP certificate table: entry %zu (offset %zu, length "
					    "%zu) lies outside the data area [%zu, %zu)",
					    i, offset, e->size, table_end, size);
		e->data = data.p;
	}
	*ret = t;
	return 0;
}
