/* SPDX-License-Identifier: Apache-2.0 */
#include "coord-tee.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"

#define EXE_MAX (512u << 20)

static int sim_evidence(void *ctx, const uint8_t rd[WARD_REPORT_DATA_SIZE], json_t **ret,
			struct ward_err *err)
{
	struct coord_tee_setup *s = ctx;
	uint8_t report[WARD_SNP_REPORT_SIZE];
	WARD_AUTOFREE uint8_t *table = NULL;
	WARD_AUTOFREE char *rep64 = NULL, *tab64 = NULL;
	size_t table_size;
	int r;

	r = ward_sim_report(s->sim, &s->launch, rd, report, err);
	if (r >= 0)
		r = ward_sim_cert_table(s->sim, &table, &table_size, err);
	if (r < 0)
		return r;
	rep64 = ward_base64url_encode_alloc(report, sizeof(report));
	tab64 = ward_base64url_encode_alloc(table, table_size);
	if (!rep64 || !tab64)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = json_pack("{s:s, s:s}", "report", rep64, "cert_table", tab64);
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

static int sim_sealing_key(void *ctx, uint8_t out[32], struct ward_err *err)
{
	struct coord_tee_setup *s = ctx;

	return ward_sim_sealing_key(s->sim, s->launch.measurement, out, err);
}

static int snp_evidence(void *ctx, const uint8_t rd[WARD_REPORT_DATA_SIZE], json_t **ret,
			struct ward_err *err)
{
	struct coord_tee_setup *s = ctx;
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	WARD_AUTOFREE char *rep64 = NULL, *tab64 = NULL;
	struct ward_tee_opts o = s->tee_opts;
	int r;

	o.want_aux = true;
	r = ward_tee_collect(&o, rd, &ev, err);
	if (r < 0)
		return r;
	rep64 = ward_base64url_encode_alloc(ev->outblob, ev->outblob_size);
	tab64 = ward_base64url_encode_alloc(ev->auxblob ? ev->auxblob : (const uint8_t *)"",
					    ev->auxblob_size);
	if (!rep64 || !tab64)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = json_pack("{s:s, s:s}", "report", rep64, "cert_table", tab64);
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

static int snp_sealing_key(void *ctx, uint8_t out[32], struct ward_err *err)
{
	struct coord_tee_setup *s = ctx;

	return ward_tee_sealing_key(&s->tee_opts, out, err);
}

int coord_tee_setup(struct coord_tee_setup *s, const char *tee, const char *sim_state,
		    const char *measurement_hex, struct ward_err *err)
{
	int r;

	*s = (struct coord_tee_setup){0};
	if (strcmp(tee, "auto") == 0)
		tee = ward_tee_detect(NULL) == WARD_TEE_SNP ? "snp" : "sim";
	if (strcmp(tee, "sim") == 0) {
		if (!sim_state)
			return ward_err_set(err, -WARD_E_USAGE, "--tee sim needs --sim-state DIR");
		if (measurement_hex) {
			r = ward_hex_decode_fixed(measurement_hex, strlen(measurement_hex),
						  s->launch.measurement, 48, err);
			if (r < 0)
				return ward_err_prefix(err, "--sim-measurement");
		} else {
			WARD_AUTOFREE uint8_t *exe = NULL;
			size_t size;

			/* What a real TEE would measure: this binary. */
			r = ward_file_read("/proc/self/exe", EXE_MAX, &exe, &size, err);
			if (r >= 0)
				r = ward_hash(WARD_HASH_SHA384, exe, size, s->launch.measurement,
					      err);
			if (r < 0)
				return r;
		}
		s->launch.policy = 0x30000;
		r = ward_sim_open(sim_state, &s->sim, err);
		if (r < 0)
			return r;
		ward_warn("coordinator runs on the INSECURE sim TEE (state %s)", sim_state);
		s->tee = (struct ward_coord_tee){.type = WARD_TEE_SIM,
						 .evidence = sim_evidence,
						 .sealing_key = sim_sealing_key,
						 .ctx = s};
		return 0;
	}
	if (strcmp(tee, "snp") == 0) {
		s->tee_opts.tee = WARD_TEE_SNP;
		s->tee = (struct ward_coord_tee){.type = WARD_TEE_SNP,
						 .evidence = snp_evidence,
						 .sealing_key = snp_sealing_key,
						 .ctx = s};
		return 0;
	}
	return ward_err_set(err, -WARD_E_USAGE, "--tee: expected sim, snp or auto (tdx: not yet)");
}

void coord_tee_cleanup(struct coord_tee_setup *s)
{
	s->sim = ward_sim_free(s->sim);
	ward_wipe(&s->launch, sizeof(s->launch));
}
