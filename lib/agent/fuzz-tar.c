/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the layer unpacker: apply arbitrary bytes as a tar to a scratch
 * directory (ownership and devices off, so it runs unprivileged), then
 * remove what was written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_unpack_opts opts = {.no_chown = true, .no_devices = true, .max_entries = 256};
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-fuzz-tar-XXXXXX";
	int fd;

	if (!mkdtemp(dir))
		abort();
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	(void)ward_unpack_tar(fd, data, size, &opts, NULL, &err);
	close(fd);
	if (ward_rm_rf(dir, &err) < 0)
		abort();
	return 0;
}
