/* SPDX-License-Identifier: MIT */
/*
 * A DMA address space: the IOVA -> backing map one client gives one device,
 * with the rules of the kernel's type1 IOMMU (v2 semantics).
 *
 * A window is backed by one of:
 *   - an fd (memfd, shared guest RAM): device accesses are a plain memcpy
 *     (zero copy). A regular file is mapped once (whole) per space and the
 *     mapping shared by every window in it, whatever fd each map passed,
 *     so many windows cost one VMA; prot is enforced per window by the
 *     space. The fd is closed once mapped: the mapping holds the file;
 *   - caller memory (vaddr), for in-process users and tests;
 *   - nothing: accesses go through the space's message handler (vfio-user
 *     DMA_READ/DMA_WRITE sent to the client).
 *
 * Thread safety: every function may be called from any thread. An unmap
 * waits until accesses in flight on that window have ended.
 */
#ifndef UVFIO_DMA_H
#define UVFIO_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvfio_dma;

/* Window protection, as seen by the device (values of VFIO_DMA_MAP_FLAG_*). */
#define UVFIO_DMA_READ  (1u << 0) /* the device may read the window */
#define UVFIO_DMA_WRITE (1u << 1) /* the device may write the window */

#define UVFIO_DMA_DEFAULT_MAX_ENTRIES 65535u /* type1's dma_entry_limit */
#define UVFIO_DMA_DEFAULT_PGSIZE 4096u

struct uvfio_dma_limits {
	uint32_t max_entries; /* 0: UVFIO_DMA_DEFAULT_MAX_ENTRIES */
	uint64_t pgsize;      /* 0: UVFIO_DMA_DEFAULT_PGSIZE; a power of two */
};

/*
 * Message-based access to a window mapped without fd or vaddr. Called with no
 * lock held; returns 0 or a negative errno. `len` never exceeds the window.
 */
typedef int (*uvfio_dma_msg_fn)(void *opaque, uint64_t iova, void *buf,
				size_t len, bool is_write);

struct uvfio_dma *uvfio_dma_create(const struct uvfio_dma_limits *limits);
/* Unmaps every window (waiting for accesses in flight) and frees the space. */
void uvfio_dma_destroy(struct uvfio_dma *dma);

void uvfio_dma_set_msg_handler(struct uvfio_dma *dma, uvfio_dma_msg_fn fn,
			       void *opaque);

/*
 * Called for each window about to be removed (unmap, unmap-all, destroy),
 * before the space waits for its accesses in flight to end, with no lock
 * held. The device core uses it for ops->dma_unmap.
 */
typedef void (*uvfio_dma_unmap_fn)(void *opaque, uint64_t iova, uint64_t size);
void uvfio_dma_set_unmap_notify(struct uvfio_dma *dma, uvfio_dma_unmap_fn fn,
				void *opaque);

struct uvfio_dma_map_args {
	uint64_t iova;
	uint64_t size;
	uint32_t prot;	    /* UVFIO_DMA_READ | UVFIO_DMA_WRITE, at least one */
	int fd;		    /* -1: none. On success the space takes it (closes it). */
	uint64_t fd_offset; /* offset of the window in fd */
	void *vaddr;	    /* caller memory when fd < 0; NULL: message based */
};

/*
 * Map a window. Errors, in the kernel's order of checks:
 *   -EINVAL    prot has no access bit or unknown bits, size 0, iova/size/fd_offset
 *              not aligned to pgsize
 *   -EOVERFLOW iova + size - 1 wraps
 *   -EEXIST    overlaps an existing window
 *   -ENOSPC    max_entries windows already mapped
 *   -EFAULT    fd is a regular file (memfd, tmpfs) shorter than fd_offset + size
 *   -errno     mmap of the fd failed (e.g. -ENODEV, -EACCES), or, for a window
 *              that reuses the mapping of its file, what mmap would refuse for
 *              this fd (-EACCES: not readable, or write on a read-only fd;
 *              -EBADF: O_PATH)
 * The first fd-backed map installs a SIGBUS handler (chained to the one
 * before): if the fd's owner truncates it later, a read/write that touches
 * a vanished page fails with -EFAULT instead of killing the process.
 */
int uvfio_dma_map(struct uvfio_dma *dma, const struct uvfio_dma_map_args *args);

#define UVFIO_DMA_UNMAP_EXACT (1u << 0) /* [iova, iova+size) must be one window */

/*
 * Unmap with type1 v2 rules: the range must cover whole windows (a window
 * that contains iova but starts before it, or contains the last byte but
 * ends after it -> -EINVAL); it may span several windows and holes. A range
 * that covers nothing succeeds with *unmapped = 0, unless UVFIO_DMA_UNMAP_EXACT
 * is given: then the range must be exactly one existing window (-ENOENT).
 * Blocks until accesses in flight to the removed windows have ended.
 * -EINVAL: size 0 or unaligned; -EOVERFLOW: range wraps.
 */
int uvfio_dma_unmap(struct uvfio_dma *dma, uint64_t iova, uint64_t size,
		    uint32_t flags, uint64_t *unmapped);
/* Unmap every window; returns the number of bytes unmapped in *unmapped. */
int uvfio_dma_unmap_all(struct uvfio_dma *dma, uint64_t *unmapped);

uint32_t uvfio_dma_count(struct uvfio_dma *dma);
uint64_t uvfio_dma_pgsize(struct uvfio_dma *dma);

/*
 * Device access to client memory. The range may span adjacent windows; every
 * byte must be mapped with the needed protection (else -EFAULT; also when an
 * fd-backed window's file was truncated under it). Writes set dirty bits
 * while logging is on.
 */
int uvfio_dma_read(struct uvfio_dma *dma, uint64_t iova, void *buf, size_t len);
int uvfio_dma_write(struct uvfio_dma *dma, uint64_t iova, const void *buf,
		    size_t len);

/*
 * Zero-copy access: a host pointer to [iova, iova+len) inside one fd- or
 * vaddr-backed window with `prot`, valid until uvfio_dma_put(). Holding the
 * reference delays unmap of that window. Returns NULL with errno set
 * (EFAULT: not mapped / wrong prot / crosses a window end; ENOTSUP: message
 * based window). A write reference marks its pages dirty when logging.
 */
struct uvfio_dma_ref {
	void *window; /* private */
};
void *uvfio_dma_get(struct uvfio_dma *dma, uint64_t iova, size_t len,
		    uint32_t prot, struct uvfio_dma_ref *ref);
void uvfio_dma_put(struct uvfio_dma *dma, struct uvfio_dma_ref *ref);

/*
 * Dirty page logging over the windows. Bit n of the report covers page
 * (addr - iova) / pgsize, bit n%64 of little-endian u64 word n/64. Reading a
 * report clears the reported bits. The report may span several windows and
 * parts of windows. As the kernel's DMA_LOGGING_REPORT, a report only sets
 * bits: the caller passes a zeroed bitmap, and unmapped or clean pages leave
 * their bits as they were.
 */
int uvfio_dma_log_start(struct uvfio_dma *dma, uint64_t pgsize);

struct uvfio_dma_range {
	uint64_t iova;
	uint64_t length;
};

/*
 * Start logging only writes inside `ranges` (n of them; n == 0: the whole
 * IOVA space, windows mapped later included). Ranges must not overlap or
 * wrap (-EINVAL / -EOVERFLOW); zero-length ranges track nothing. pgsize as
 * for uvfio_dma_log_start(). -EBUSY while logging.
 */
int uvfio_dma_log_start_ranges(struct uvfio_dma *dma, uint64_t pgsize,
			       const struct uvfio_dma_range *ranges, uint32_t n);
int uvfio_dma_log_stop(struct uvfio_dma *dma);
bool uvfio_dma_logging(struct uvfio_dma *dma);
int uvfio_dma_log_report(struct uvfio_dma *dma, uint64_t iova, uint64_t length,
			 uint64_t pgsize, uint64_t *bitmap, size_t bitmap_bytes);
/* Mark a range dirty (for writes that bypass uvfio_dma_write). */
void uvfio_dma_mark_dirty(struct uvfio_dma *dma, uint64_t iova, uint64_t len);

#ifdef __cplusplus
}
#endif
#endif
