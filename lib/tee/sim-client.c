/* SPDX-License-Identifier: Apache-2.0 */
/* Client side of the sim TEE socket (see ward/tee.h). The server runs on
 * the host, so its answer is UNTRUSTED like any other evidence source. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "ward/file.h"
#include "ward/tee.h"
#include "tee-internal.h"

#define SIM_RESPONSE_MAX (WARD_TEE_OUTBLOB_MAX + WARD_TEE_AUXBLOB_MAX + 64)

int ward_tee_sim_parse_response(const uint8_t *buf, size_t size, struct ward_tee_evidence *ev,
				struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size), report, aux;
	const uint8_t *magic;
	uint16_t version, status;

	if (ward_cur_take(&c, 4, &magic) < 0 || memcmp(magic, WARD_SIM_MAGIC, 4) != 0 ||
	    ward_cur_u16le(&c, &version) < 0 || version != WARD_SIM_VERSION ||
	    ward_cur_u16le(&c, &status) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "sim: malformed response header");
	if (status != 0)
		return ward_err_set(err, -EIO, "sim: the sim TEE refused the request (status %u)",
				    status);
	if (ward_cur_sub_u32le(&c, WARD_TEE_OUTBLOB_MAX, &report) < 0 || report.left == 0 ||
	    ward_cur_sub_u32le(&c, WARD_TEE_AUXBLOB_MAX, &aux) < 0 || !ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "sim: malformed response body");
	free(ev->outblob);
	free(ev->auxblob);
	ev->auxblob = NULL;
	ev->outblob = malloc(report.left);
	if (!ev->outblob || (aux.left && !(ev->auxblob = malloc(aux.left))))
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(ev->outblob, report.p, report.left);
	ev->outblob_size = report.left;
	if (aux.left)
		memcpy(ev->auxblob, aux.p, aux.left);
	ev->auxblob_size = aux.left;
	return 0;
}

int ward_tee_sim_collect(const char *socket_path, const uint8_t report_data[64],
			 struct ward_tee_evidence **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	WARD_AUTOCLOSE int fd = -1;
	WARD_AUTOFREE uint8_t *resp = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t req[4 + 2 + 2 + 64];
	size_t resp_size;
	int r;

	if (!socket_path)
		socket_path = WARD_SIM_SOCKET_DEFAULT;
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return ward_err_set(err, -ENAMETOOLONG, "sim: socket path too long");
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_err_errno(err, -errno, "sim: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ward_err_errno(err, -errno, "sim: connect '%s'", socket_path);
	memcpy(req, WARD_SIM_MAGIC, 4);
	req[4] = WARD_SIM_VERSION;
	req[5] = 0;
	req[6] = req[7] = 0;
	memcpy(req + 8, report_data, 64);
	if ((r = ward_fd_write_all(fd, req, sizeof(req), err)) < 0)
		return ward_err_prefix(err, "sim: request");
	(void)shutdown(fd, SHUT_WR);
	if ((r = ward_fd_read_all(fd, SIM_RESPONSE_MAX, &resp, &resp_size, err)) < 0)
		return ward_err_prefix(err, "sim: response");

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if ((r = ward_tee_sim_parse_response(resp, resp_size, ev, err)) < 0)
		return r;
	ev->tee = WARD_TEE_SIM;
	ev->source = WARD_TEE_SOURCE_AUTO;
	strcpy(ev->provider, "ward_sim");
	*ret = WARD_TAKE_PTR(ev);
	return 0;
}
