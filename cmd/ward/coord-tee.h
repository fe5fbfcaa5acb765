/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The coordinator's TEE backends and verifiers as the CLI sets them up
 * (shared by ward coordinator, ward verify and the load generator). */

#include "ward/coord.h"
#include "ward/sim.h"

struct coord_tee_setup {
	struct ward_coord_tee tee;
	struct ward_sim *sim; /* owned, for --tee sim */
	struct ward_sim_launch launch;
	struct ward_tee_opts tee_opts;
};

/* Set up the TEE: "sim" needs sim_state (and an optional measurement in
 * hex; default SHA-384 of this executable), "snp" uses the guest device. */
int coord_tee_setup(struct coord_tee_setup *s, const char *tee, const char *sim_state,
		    const char *measurement_hex, struct ward_err *err);
void coord_tee_cleanup(struct coord_tee_setup *s);
