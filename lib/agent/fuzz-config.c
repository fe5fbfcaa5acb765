/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the parsers ward-init applies to image- and coordinator-supplied
 * JSON: /.ward/config.json, the insecure key file and ocicrypt private
 * options (the first byte picks the parser). */
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "ward/agent.h"
#include "ward/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_config *c = NULL;
	struct ward_layer_key key;
	json_t *kf = NULL;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (ward_agent_config_parse(data + 1, size - 1, &c, &err) == 0) {
			for (size_t i = 0; i < c->layer_count; i++)
				(void)c->layers[i].blob[0];
			if (c->rootfs.volume)
				(void)strlen(c->rootfs.dir);
			ward_agent_config_free(c);
		}
		break;
	case 1:
		if (ward_agent_insecure_keyfile_load(data + 1, size - 1, &kf, &err) == 0) {
			struct ward_agent_layer l = {.encrypted_digest = "sha256:0"};
			(void)ward_agent_insecure_keyfile_key(kf, &l, &key, &err);
			json_decref(kf);
		}
		break;
	default:
		(void)ward_agent_privopts_parse(data + 1, size - 1, &key, &err);
		break;
	}
	return 0;
}
