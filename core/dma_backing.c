/* SPDX-License-Identifier: MIT */
/*
 * The mappings behind fd-backed DMA windows, shared between windows.
 *
 * A client sends an fd with each DMA_MAP; QEMU sends its guest-RAM memfd
 * again for every window, and the kernel installs a fresh fd number for
 * each message. One mmap per window would cost an mmap and a munmap per
 * map and unmap and a VMA per window: 65535 windows are more VMAs than
 * vm.max_map_count (65530) allows. So a space keeps one mapping per backing
 * object (and offset range), counts the windows in it, and unmaps it with
 * its last window. The fd itself is not kept: the mapping holds the file.
 *
 * Identity: (st_dev, st_ino) of one fstat, which the size check needs
 * anyway; no per-map comparison of fds (kcmp) or kept fds. Sharing is only
 * for regular files (memfd, tmpfs, hugetlbfs, files), whose pages belong
 * to the inode, so every fd of the inode maps the same memory. Not for
 * other kinds: all anon-inode fds (dma-buf, vfio) share one inode number,
 * and a device's mmap may give each call its own memory (/dev/zero); those
 * keep one mapping per window, as before. The mapping pins its inode, so
 * no other live inode can have its number meanwhile (a wrapped inode
 * counter could still alias two live memfds; the table is per space, i.e.
 * per client, so a client could at worst alias its own memory).
 *
 * A miss maps the whole object when it is a regular file (st_size bytes
 * from offset 0), so that every later window of the object finds it. There
 * is one mapping per access class: read-only windows share a PROT_READ
 * mapping, windows that may be written share a read-write one (x86 has no
 * write-only pages). So the MMU, as an IOMMU would, stops a device that
 * writes through a pointer from a read-only window, on top of the space's
 * own prot check on every access (uvfio_dma_get/read/write); a client
 * mapping both kinds costs two VMAs per object. A window past the end of an
 * existing mapping (the file grew) gets a new mapping of the new size. If
 * the whole object cannot be mapped (address space), the window's range is
 * (aligned to the huge page size on hugetlbfs, whose munmap needs it).
 *
 * A hit checks the fd's access mode (one fcntl) as mmap would have:
 * O_PATH -> EBADF, not readable -> EACCES, write wanted on a read-only or
 * append-only fd -> EACCES. Not re-checked on a hit: seals added since the
 * mapping was made (F_SEAL_FUTURE_WRITE) and LSM mmap hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "dma_internal.h"

#define BUCKETS_MIN 16u

struct dma_backing {
	struct dma_backing *next; /* hash chain, newest first */
	uint64_t dev, ino;
	uint64_t off, len;	  /* the file range mapped at base */
	char *base;
	size_t map_len;		  /* what munmap needs (huge page aligned) */
	uint32_t refs;		  /* windows using it */
	uint8_t prot;		  /* its access class: UVFIO_DMA_READ, or READ | WRITE */
	bool shared;		  /* in the table */
};

int dma_backings_init(struct dma_backings *t)
{
	memset(t, 0, sizeof(*t));
	t->tab = calloc(BUCKETS_MIN, sizeof(*t->tab));
	if (!t->tab)
		return -ENOMEM;
	t->nbuckets = BUCKETS_MIN;
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t->tab);
		return -ENOMEM;
	}
	return 0;
}

/* Every window is gone by now, and with it every backing. */
void dma_backings_fini(struct dma_backings *t)
{
	free(t->tab);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

static uint32_t bucket(const struct dma_backings *t, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino ^ (dev * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return (uint32_t)(h >> 32) & (t->nbuckets - 1);
}

/* More buckets when the chains get long (a client with many memfds). Lock held. */
static void maybe_grow(struct dma_backings *t)
{
	uint32_t n = t->nbuckets * 4;
	struct dma_backing **old = t->tab, **tab;
	uint32_t oldn = t->nbuckets;

	if (t->count <= t->nbuckets || n > (1u << 24))
		return;
	tab = calloc(n, sizeof(*tab));
	if (!tab)
		return; /* longer chains, still correct */
	t->tab = tab;
	t->nbuckets = n;
	for (uint32_t i = 0; i < oldn; i++) {
		struct dma_backing *b = old[i], *nx;

		for (; b; b = nx) {
			uint32_t k = bucket(t, b->dev, b->ino);

			nx = b->next;
			b->next = tab[k];
			tab[k] = b;
		}
	}
	free(old);
}

/* The access class of a window's prot: read-only, or read-write. */
static uint8_t prot_class(uint32_t prot)
{
	return prot & UVFIO_DMA_WRITE ? UVFIO_DMA_READ | UVFIO_DMA_WRITE : UVFIO_DMA_READ;
}

/* A mapping of (dev, ino) covering [off, last] of class cls. Lock held. */
static struct dma_backing *find(struct dma_backings *t, const struct stat *st, uint64_t off,
				uint64_t last, uint8_t cls)
{
	struct dma_backing *b = t->tab[bucket(t, (uint64_t)st->st_dev, (uint64_t)st->st_ino)];

	for (; b; b = b->next)
		if (b->ino == (uint64_t)st->st_ino && b->dev == (uint64_t)st->st_dev &&
		    b->off <= off && last - b->off < b->len && b->prot == cls)
			return b;
	return NULL;
}

/* What mmap would have refused for this fd and prot. */
static int fd_allows(int fd, uint32_t prot)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (fl & O_PATH)
		return -EBADF;
	if ((fl & O_ACCMODE) == O_WRONLY)
		return -EACCES;
	if ((prot & UVFIO_DMA_WRITE) && ((fl & O_ACCMODE) != O_RDWR || (fl & O_APPEND)))
		return -EACCES;
	return 0;
}

static uint64_t host_page(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (uint64_t)p : 4096;
}

/* The mapping granule: the huge page size on hugetlbfs, else the page size. */
static uint64_t granule(int fd, const struct stat *st)
{
	struct statfs sf;
	uint64_t g = host_page();

	if (!fstatfs(fd, &sf) && sf.f_type == HUGETLBFS_MAGIC && st->st_blksize > 0 &&
	    !((uint64_t)st->st_blksize & ((uint64_t)st->st_blksize - 1)) &&
	    (uint64_t)st->st_blksize > g)
		g = (uint64_t)st->st_blksize;
	return g;
}

/* mmap [off, off + len) of fd for access class cls: the base or MAP_FAILED. */
static void *map_range(int fd, uint64_t off, uint64_t len, uint8_t cls)
{
	int mprot = cls & UVFIO_DMA_WRITE ? PROT_READ | PROT_WRITE : PROT_READ;

	return mmap(NULL, (size_t)len, mprot, MAP_SHARED, fd, (off_t)off);
}

/* A new shared mapping of a regular file, the whole of it if possible. */
static int map_file(int fd, const struct stat *st, uint64_t off, uint64_t size, uint8_t cls,
		    struct dma_backing *b)
{
	uint64_t g = granule(fd, st), end = (uint64_t)st->st_size, a, z;
	void *p = MAP_FAILED;

	if (end <= SIZE_MAX - g) {
		b->off = 0;
		b->len = end;
		b->map_len = (size_t)((end + g - 1) & ~(g - 1));
		p = map_range(fd, 0, end, cls);
		if (p == MAP_FAILED && errno != ENOMEM && errno != EOVERFLOW)
			return -errno;
	}
	if (p == MAP_FAILED) {
		/* only the window's range (the caller checked off + size: no wrap) */
		a = off & ~(g - 1);
		z = ((off + size - 1) | (g - 1)) + 1;
		b->off = a;
		b->len = z - a;
		b->map_len = (size_t)b->len;
		p = map_range(fd, a, b->len, cls);
		if (p == MAP_FAILED)
			return -errno;
	}
	b->base = p;
	b->prot = cls;
	b->shared = true;
	return 0;
}

int dma_backing_get(struct dma_backings *t, int fd, uint64_t off, uint64_t size, uint32_t prot,
		    struct dma_backing **out, void **host)
{
	uint64_t last = off + size - 1; /* validated by the caller: no wrap */
	struct dma_backing *b;
	struct stat st;
	bool made = false;
	int ret, mprot;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		/* device memory: a mapping of its own, with the window's prot */
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		mprot = (prot & UVFIO_DMA_READ ? PROT_READ : 0) |
			(prot & UVFIO_DMA_WRITE ? PROT_WRITE : 0);
		b->base = mmap(NULL, (size_t)size, mprot, MAP_SHARED, fd, (off_t)off);
		if (b->base == MAP_FAILED) {
			ret = -errno;
			free(b);
			return ret;
		}
		b->off = off;
		b->len = size;
		b->map_len = (size_t)size;
		b->prot = (uint8_t)prot;
		b->refs = 1;
		pthread_mutex_lock(&t->lock);
		t->bytes += sizeof(*b);
		pthread_mutex_unlock(&t->lock);
		*out = b;
		*host = b->base;
		return 1;
	}
	/* Every access would fault: refuse a window that the file cannot back. */
	if (st.st_size < 0 || last >= (uint64_t)st.st_size)
		return -EFAULT;

	pthread_mutex_lock(&t->lock);
	b = find(t, &st, off, last, prot_class(prot));
	if (b) {
		ret = fd_allows(fd, prot);
		if (ret)
			goto out_unlock;
	} else {
		b = calloc(1, sizeof(*b));
		if (!b) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		ret = map_file(fd, &st, off, size, prot_class(prot), b);
		if (ret) {
			free(b);
			goto out_unlock;
		}
		b->dev = (uint64_t)st.st_dev;
		b->ino = (uint64_t)st.st_ino;
		b->next = t->tab[bucket(t, b->dev, b->ino)];
		t->tab[bucket(t, b->dev, b->ino)] = b;
		t->count++;
		t->bytes += sizeof(*b);
		maybe_grow(t);
		made = true;
	}
	b->refs++;
	*out = b;
	*host = b->base + (off - b->off);
	ret = made ? 1 : 0;
out_unlock:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void dma_backing_put(struct dma_backings *t, struct dma_backing *b)
{
	struct dma_backing **pp;

	if (!b)
		return;
	pthread_mutex_lock(&t->lock);
	if (--b->refs) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (b->shared) {
		for (pp = &t->tab[bucket(t, b->dev, b->ino)]; *pp != b; pp = &(*pp)->next)
			;
		*pp = b->next;
		t->count--;
	}
	t->bytes -= sizeof(*b);
	pthread_mutex_unlock(&t->lock);
	munmap(b->base, b->map_len);
	free(b);
}

size_t dma_backings_bytes(struct dma_backings *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->bytes + t->nbuckets * sizeof(*t->tab);
	pthread_mutex_unlock(&t->lock);
	return n;
}
