/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the VERSION capabilities JSON parser (user/caps_json.c)
 * and the VERSION payload parsers around it. A successful parse must emit
 * JSON that parses back to the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "user/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_caps a, b;
	struct vu_version v;
	char out[VFIO_USER_MAX_CAPS_JSON];
	ssize_t n;

	vu_version_req_parse(data, size, &v);
	vu_version_rep_parse(data, size, &v);
	if (vu_caps_parse((const char *)data, size, &a))
		return 0;
	n = vu_caps_emit(&a, out, sizeof(out));
	if (n < 0)
		return 0;
	if (vu_caps_parse(out, (size_t)n, &b) || a.max_msg_fds != b.max_msg_fds ||
	    a.max_data_xfer_size != b.max_data_xfer_size || a.pgsizes != b.pgsizes ||
	    a.max_dma_maps != b.max_dma_maps || a.write_multiple != b.write_multiple ||
	    a.twin_socket != b.twin_socket)
		abort(); /* emit and parse disagree */
	return 0;
}
