/* SPDX-License-Identifier: MIT */
/*
 * The bytes of one device's migration stream on their way out (saving) or
 * in (resuming), so a device's mig_ops only build and parse whole streams.
 * The resuming side is bounded: the peer decides how much it writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uvfio/mig_stream.h>

void uvfio_mig_buffer_init(struct uvfio_mig_buffer *b, size_t load_limit)
{
	memset(b, 0, sizeof(*b));
	b->load_limit = load_limit;
}

void uvfio_mig_buffer_drop_save(struct uvfio_mig_buffer *b)
{
	free(b->save);
	b->save = NULL;
	b->save_len = b->save_pos = 0;
}

void uvfio_mig_buffer_drop_load(struct uvfio_mig_buffer *b)
{
	free(b->load);
	b->load = NULL;
	b->load_len = b->load_cap = 0;
}

void uvfio_mig_buffer_fini(struct uvfio_mig_buffer *b)
{
	uvfio_mig_buffer_drop_save(b);
	uvfio_mig_buffer_drop_load(b);
}

void uvfio_mig_buffer_set_save(struct uvfio_mig_buffer *b, struct uvfio_mig_writer *w)
{
	uvfio_mig_buffer_drop_save(b);
	b->save = w->buf;
	b->save_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
}

size_t uvfio_mig_buffer_read(struct uvfio_mig_buffer *b, void *buf, size_t len)
{
	size_t n = b->save_len - b->save_pos;

	if (n > len)
		n = len;
	if (n)
		memcpy(buf, b->save + b->save_pos, n);
	b->save_pos += n;
	return n;
}

size_t uvfio_mig_buffer_pending(const struct uvfio_mig_buffer *b)
{
	return b->save_len - b->save_pos;
}

int uvfio_mig_buffer_append(struct uvfio_mig_buffer *b, const void *buf, size_t len)
{
	size_t need, cap;
	uint8_t *p;

	if (__builtin_add_overflow(b->load_len, len, &need) || need > b->load_limit)
		return -E2BIG;
	if (need > b->load_cap) {
		cap = b->load_cap ? b->load_cap : 1024;
		while (cap < need)
			cap = cap > b->load_limit / 2 ? b->load_limit : cap * 2;
		p = realloc(b->load, cap);
		if (!p)
			return -ENOMEM;
		b->load = p;
		b->load_cap = cap;
	}
	if (len)
		memcpy(b->load + b->load_len, buf, len);
	b->load_len = need;
	return 0;
}
