/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* `ward run IMAGE` without --coordinator: the embedded default coordinator
 * (INSECURE sim mode). See run-embedded.c and docs/running.md. */

#include "ward/error.h"
#include "ward/runtime.h"

/* Start a child `ward coordinator` on the sim TEE (127.0.0.1, ephemeral
 * port, temporary state; in its own network namespace that the container
 * joins unless --network host), attest it and pin its certificate, convert
 * the plain image o->image with a fresh image key and that pin measured
 * into the ward layer, set a manifest for it (o->args as the workload's
 * argv, a demo password as $WARD_DEMO_SECRET, the image key as the user
 * secret) and run it with ward_run(). Everything is removed on return.
 * The caller refuses -d (the coordinator lives only as long as the run). */
int ward_run_embedded(const struct ward_run_opts *o, int *ret_code, struct ward_err *err);
