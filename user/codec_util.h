/* SPDX-License-Identifier: MIT */
/* Helpers shared by the codec files: unaligned loads/stores, size checks. */
#ifndef UVFIO_USER_CODEC_UTIL_H
#define UVFIO_USER_CODEC_UTIL_H

#include <stdint.h>
#include <string.h>

/* Payload pointers are unaligned in general: always go through memcpy. */
static inline uint32_t vu_ld32(const void *p, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}

static inline uint64_t vu_ld64(const void *p, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)p + off, sizeof(v));
	return v;
}

static inline void vu_st32(void *p, size_t off, uint32_t v)
{
	memcpy((uint8_t *)p + off, &v, sizeof(v));
}

static inline void vu_st64(void *p, size_t off, uint64_t v)
{
	memcpy((uint8_t *)p + off, &v, sizeof(v));
}

/* A fixed part + n data bytes fits `cap`, without wrapping. */
static inline int vu_fits(size_t cap, size_t fixed, uint64_t n)
{
	uint64_t need;

	if (__builtin_add_overflow((uint64_t)fixed, n, &need))
		return 0;
	return need <= cap;
}

#endif
