/* SPDX-License-Identifier: MIT */
/* vfio-user codec: the header, fd rules, VERSION and the payload-less commands. */
#include <errno.h>
#include <string.h>

#include "user/codec.h"
#include "user/codec_util.h"

int vu_hdr_parse(const void *buf, size_t len, uint32_t max_msg_size,
		 struct vfio_user_header *out)
{
	uint32_t type;

	if (len < sizeof(*out))
		return -EINVAL;
	memcpy(out, buf, sizeof(*out));
	/* Absurd sizes first: the caller must drop a stream it can't skip. */
	if (out->msg_size > max_msg_size)
		return -EMSGSIZE;
	if (out->msg_size < sizeof(*out))
		return -EINVAL;
	if (out->flags & ~VFIO_USER_F_ALL)
		return -EINVAL;
	type = out->flags & VFIO_USER_F_TYPE_MASK;
	if (type != VFIO_USER_F_TYPE_COMMAND && type != VFIO_USER_F_TYPE_REPLY)
		return -EINVAL;
	if (type == VFIO_USER_F_TYPE_COMMAND && (out->flags & VFIO_USER_F_ERROR))
		return -EINVAL;
	/* The spec: an error reply is the header alone. */
	if ((out->flags & VFIO_USER_F_ERROR) && out->msg_size != sizeof(*out))
		return -EINVAL;
	return 0;
}

void vu_hdr_encode(void *buf, uint16_t msg_id, uint16_t cmd,
		   uint32_t payload_len, uint32_t flags, uint32_t error_no)
{
	struct vfio_user_header h = {
		.msg_id = msg_id,
		.cmd = cmd,
		.msg_size = (uint32_t)sizeof(h) + payload_len,
		.flags = flags,
		.error_no = error_no,
	};

	memcpy(buf, &h, sizeof(h));
}

void vu_hdr_encode_error(void *buf, const struct vfio_user_header *req, int err)
{
	if (err < 0)
		err = -err;
	/* Peers read errno 0 as success (QEMU negates it): never send it. */
	if (err == 0)
		err = EINVAL;
	vu_hdr_encode(buf, req->msg_id, req->cmd, 0,
		      VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR, (uint32_t)err);
}

int vu_cmd_check_fds(uint16_t cmd, bool reply, size_t nfds, uint32_t max_fds)
{
	size_t allowed = 0;

	if (!reply && cmd == VFIO_USER_DMA_MAP)
		allowed = 1;
	else if (!reply && cmd == VFIO_USER_DEVICE_SET_IRQS)
		allowed = max_fds;
	else if (reply && cmd == VFIO_USER_DEVICE_GET_REGION_INFO)
		allowed = 1; /* one fd per region (QEMU accepts no more) */
	else if (reply && (cmd == VFIO_USER_DEVICE_GET_REGION_IO_FDS ||
			   cmd == VFIO_USER_VERSION))
		allowed = max_fds;
	return nfds <= allowed ? 0 : -EINVAL;
}

const char *vu_cmd_name(uint16_t cmd)
{
	static const char *const names[VFIO_USER_MAX_CMD] = {
		[VFIO_USER_VERSION] = "VERSION",
		[VFIO_USER_DMA_MAP] = "DMA_MAP",
		[VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
		[VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFIO_USER_REGION_READ] = "REGION_READ",
		[VFIO_USER_REGION_WRITE] = "REGION_WRITE",
		[VFIO_USER_DMA_READ] = "DMA_READ",
		[VFIO_USER_DMA_WRITE] = "DMA_WRITE",
		[VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
		[VFIO_USER_DIRTY_PAGES] = "DIRTY_PAGES",
		[VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFIO_USER_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFIO_USER_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (cmd < VFIO_USER_MAX_CMD && names[cmd])
		return names[cmd];
	return "UNKNOWN";
}

/* ---- VERSION ---------------------------------------------------------------- */

static int version_parse(const void *p, size_t len, struct vu_version *out)
{
	const char *caps;
	size_t clen;
	const char *nul;

	if (len < sizeof(struct vfio_user_version))
		return -EINVAL; /* p may be NULL here: no arithmetic on it before */
	caps = (const char *)p + sizeof(struct vfio_user_version);
	memcpy(&out->major, p, 2);
	memcpy(&out->minor, (const uint8_t *)p + 2, 2);
	out->caps = NULL;
	out->caps_len = 0;
	clen = len - sizeof(struct vfio_user_version);
	if (!clen)
		return 0;
	if (clen > VFIO_USER_MAX_CAPS_JSON)
		return -EINVAL;
	/* The JSON must be terminated inside the payload, by its last byte. */
	if (caps[clen - 1] != '\0')
		return -EINVAL;
	nul = memchr(caps, '\0', clen);
	out->caps = caps;
	out->caps_len = (size_t)(nul - caps);
	return 0;
}

static ssize_t version_encode(void *buf, size_t cap, uint16_t major,
			      uint16_t minor, const char *json)
{
	size_t jlen = json ? strlen(json) + 1 : 0;
	size_t need = sizeof(struct vfio_user_version) + jlen;

	if (jlen > VFIO_USER_MAX_CAPS_JSON)
		return -EINVAL;
	if (need > cap)
		return -ENOSPC;
	memcpy(buf, &major, 2);
	memcpy((uint8_t *)buf + 2, &minor, 2);
	if (jlen)
		memcpy((uint8_t *)buf + 4, json, jlen);
	return (ssize_t)need;
}

int vu_version_req_parse(const void *p, size_t len, struct vu_version *out)
{
	return version_parse(p, len, out);
}

ssize_t vu_version_req_encode(void *buf, size_t cap, uint16_t major,
			      uint16_t minor, const char *json)
{
	return version_encode(buf, cap, major, minor, json);
}

int vu_version_rep_parse(const void *p, size_t len, struct vu_version *out)
{
	return version_parse(p, len, out);
}

ssize_t vu_version_rep_encode(void *buf, size_t cap, uint16_t major,
			      uint16_t minor, const char *json)
{
	return version_encode(buf, cap, major, minor, json);
}

/* ---- header-only messages ----------------------------------------------------- */

/* Extra bytes are tolerated (the spec's "accept oversize request payloads"). */
int vu_dma_map_rep_parse(const void *p, size_t len) { return 0; }
ssize_t vu_dma_map_rep_encode(void *buf, size_t cap) { return 0; }
int vu_set_irqs_rep_parse(const void *p, size_t len) { return 0; }
ssize_t vu_set_irqs_rep_encode(void *buf, size_t cap) { return 0; }
int vu_reset_req_parse(const void *p, size_t len) { return 0; }
ssize_t vu_reset_req_encode(void *buf, size_t cap) { return 0; }
int vu_reset_rep_parse(const void *p, size_t len) { return 0; }
ssize_t vu_reset_rep_encode(void *buf, size_t cap) { return 0; }
int vu_mig_write_rep_parse(const void *p, size_t len) { return 0; }
ssize_t vu_mig_write_rep_encode(void *buf, size_t cap) { return 0; }
