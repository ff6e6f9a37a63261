/* SPDX-License-Identifier: MIT */
/* testdev: one device that exercises every vfio-user command (see testdev.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/vfio_compat.h"
#include "devices/testdev_priv.h"

#define MEMFD_SIZE TESTDEV_MEMFD_SIZE

static void free_state(struct testdev *t);

static struct testdev *td(struct uvfio_device *dev)
{
	return uvfio_device_priv(dev);
}

static uint64_t reg64(struct testdev *t, size_t off)
{
	uint64_t v;

	memcpy(&v, t->regs + off, sizeof(v));
	return v;
}

static void set_reg64(struct testdev *t, size_t off, uint64_t v)
{
	memcpy(t->regs + off, &v, sizeof(v));
}

void testdev_regs_reset(struct testdev *t)
{
	memset(t->regs, 0, sizeof(t->regs));
	set_reg64(t, TESTDEV_REG_ID, TESTDEV_ID);
}

static int td_open(struct uvfio_device *dev)
{
	/* No config space here: the device masters DMA whenever it is open. */
	uvfio_device_set_bus_master(dev, true);
	return 0;
}

static void td_close(struct uvfio_device *dev)
{
	uvfio_device_set_bus_master(dev, false);
}

static uint8_t *mem_at(struct testdev *t, uint32_t index, uint64_t pos)
{
	return t->mem + (index == 2 ? TESTDEV_MEM_SIZE : 0) + pos;
}

static ssize_t td_read(struct uvfio_device *dev, uint32_t index, uint64_t pos,
		       void *buf, size_t count)
{
	struct testdev *t = td(dev);

	pthread_mutex_lock(&t->lock);
	if (index == 0)
		memcpy(buf, t->regs + pos, count);
	else if (index == TESTDEV_STATE_REGION)
		memcpy(buf, t->state + pos, count);
	else
		memcpy(buf, mem_at(t, index, pos), count);
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)count;
}

/* The DMA engine: copy through a bounce buffer (or fill), as a device would. */
static uint64_t run_dma(struct uvfio_device *dev, uint64_t cmd, uint64_t src,
			uint64_t dst, uint64_t len)
{
	uint8_t *bounce;
	int ret;

	if (!len || len > TESTDEV_DMA_MAX)
		return EINVAL;
	bounce = malloc(len);
	if (!bounce)
		return ENOMEM;
	if (cmd == TESTDEV_DMA_FILL) {
		memset(bounce, (int)(src & 0xff), len);
		ret = 0;
	} else {
		ret = uvfio_device_dma_read(dev, src, bounce, len);
	}
	if (!ret)
		ret = uvfio_device_dma_write(dev, dst, bounce, len);
	free(bounce);
	return ret < 0 ? (uint64_t)-ret : 0;
}

/* The IRQ register's read value: rings by write (low half), by doorbell (high). */
static void count_ring(struct testdev *t, unsigned int half, uint64_t n)
{
	uint32_t c;

	pthread_mutex_lock(&t->lock);
	memcpy(&c, t->regs + TESTDEV_REG_IRQ + 4 * half, 4);
	c += (uint32_t)n;
	memcpy(t->regs + TESTDEV_REG_IRQ + 4 * half, &c, 4);
	pthread_mutex_unlock(&t->lock);
}

/* A doorbell of the IRQ register: the value is its datamatch. */
static void td_irq_doorbell(struct uvfio_device *dev, const struct uvfio_ioeventfd *ev,
			    uint64_t count)
{
	count_ring(td(dev), 1, count);
	uvfio_irq_trigger(dev, 0, (uint32_t)ev->datamatch);
}

static ssize_t td_write(struct uvfio_device *dev, uint32_t index, uint64_t pos,
			const void *buf, size_t count)
{
	struct testdev *t = td(dev);
	uint64_t v = 0, src, dst, len, status;

	if (index == TESTDEV_STATE_REGION) {
		pthread_mutex_lock(&t->lock);
		memcpy(t->state + pos, buf, count);
		testdev_mark_dirty(t, pos, count);
		pthread_mutex_unlock(&t->lock);
		return (ssize_t)count;
	}
	if (index != 0) {
		pthread_mutex_lock(&t->lock);
		memcpy(mem_at(t, index, pos), buf, count);
		pthread_mutex_unlock(&t->lock);
		return (ssize_t)count;
	}
	/* Command registers take one aligned u64 (or its low u32). */
	if (pos < TESTDEV_REG_DATA && pos >= TESTDEV_REG_IRQ) {
		if ((count != 4 && count != 8) || pos % 8)
			return -EINVAL;
		memcpy(&v, buf, count);
	}
	switch (pos) {
	case TESTDEV_REG_IRQ: {
		int ret;

		if (v >= TESTDEV_NUM_VECTORS)
			return -EINVAL;
		count_ring(t, 0, 1);
		ret = uvfio_irq_trigger(dev, 0, (uint32_t)v);
		return ret < 0 ? ret : (ssize_t)count;
	}
	case TESTDEV_REG_DMA_CMD:
		if (v != TESTDEV_DMA_COPY && v != TESTDEV_DMA_FILL)
			return -EINVAL;
		pthread_mutex_lock(&t->lock);
		src = reg64(t, TESTDEV_REG_DMA_SRC);
		dst = reg64(t, TESTDEV_REG_DMA_DST);
		len = reg64(t, TESTDEV_REG_DMA_LEN);
		pthread_mutex_unlock(&t->lock);
		/* No lock across the DMA: it may wait for the client. */
		status = run_dma(dev, v, src, dst, len);
		pthread_mutex_lock(&t->lock);
		set_reg64(t, TESTDEV_REG_DMA_STATUS, status);
		pthread_mutex_unlock(&t->lock);
		return (ssize_t)count;
	case TESTDEV_REG_DMA_STATUS:
		return -EINVAL;
	default:
		break;
	}
	/* ID is read-only; the rest is storage. */
	if (pos < TESTDEV_REG_SCRATCH)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	memcpy(t->regs + pos, buf, count);
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)count;
}

static int td_reset(struct uvfio_device *dev)
{
	struct testdev *t = td(dev);

	/* Never NULL; the check keeps GCC's -Warray-bounds quiet under UBSan,
	 * which otherwise splits out a NULL path and flags the memset. */
	if (!t)
		return -ENODEV;
	pthread_mutex_lock(&t->lock);
	testdev_regs_reset(t);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void td_free(struct testdev *t)
{
	testdev_mig_fini(t);
	munmap(t->mem, MEMFD_SIZE);
	close(t->memfd);
	free_state(t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void td_release(struct uvfio_device *dev)
{
	struct testdev *t = td(dev);

	if (t->released)
		*t->released = true;
	td_free(t);
}

void testdev_notify_release(struct uvfio_device *dev, bool *released)
{
	td(dev)->released = released;
}

void testdev_destroy(struct uvfio_device *dev)
{
	struct testdev *t;

	if (!dev)
		return;
	t = td(dev);
	uvfio_device_destroy(dev); /* no release for a device never registered */
	td_free(t);
}

static int td_feature(struct uvfio_device *dev, uint32_t flags, void *data,
		      size_t len, size_t *out_len)
{
	struct testdev *t = td(dev);

	pthread_mutex_lock(&t->lock);
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		memcpy(data, &t->feature_value, sizeof(uint64_t));
		*out_len = sizeof(uint64_t);
	} else {
		memcpy(&t->feature_value, data, sizeof(uint64_t));
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static const struct uvfio_device_ops td_ops = {
	.open_device = td_open,
	.close_device = td_close,
	.read = td_read,
	.write = td_write,
	.reset = td_reset,
	.release = td_release,
	.mig_ops = &testdev_mig_ops,
};

static const struct uvfio_feature td_feat = {
	.index = TESTDEV_FEATURE,
	.ops = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
	.minsz = sizeof(uint64_t),
	.fn = td_feature,
};

static int setup(struct uvfio_device *dev, struct testdev *t)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	struct uvfio_region regs = { .flags = rw, .size = TESTDEV_REGS_SIZE,
				     .offset = 0, .mmap_fd = -1 };
	struct uvfio_region mem = {
		.flags = rw | VFIO_REGION_INFO_FLAG_MMAP, .size = TESTDEV_MEM_SIZE,
		.offset = 0, .mmap_fd = t->memfd, .nr_areas = 1,
		.areas = { { .offset = 4096, .size = 4096 } },
	};
	struct uvfio_region whole = {
		.flags = rw | VFIO_REGION_INFO_FLAG_MMAP, .size = TESTDEV_WHOLE_SIZE,
		.offset = TESTDEV_MEM_SIZE, .mmap_fd = t->memfd,
	};
	int ret;

	ret = uvfio_device_set_num_regions(dev, TESTDEV_NUM_REGIONS + !!t->state_size);
	if (!ret)
		ret = uvfio_device_set_region(dev, 0, &regs);
	if (!ret)
		ret = uvfio_device_set_region(dev, 1, &mem);
	if (!ret)
		ret = uvfio_device_set_region(dev, 2, &whole);
	if (!ret && t->state_size) {
		struct uvfio_region st = { .flags = rw, .size = t->state_size, .mmap_fd = -1 };

		ret = uvfio_device_set_region(dev, TESTDEV_STATE_REGION, &st);
	}
	if (!ret)
		ret = uvfio_device_set_num_irqs(dev, 1);
	if (!ret)
		ret = uvfio_device_set_irq_info(dev, 0, TESTDEV_NUM_VECTORS,
						VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE);
	if (!ret)
		ret = uvfio_device_add_feature(dev, &td_feat);
	for (uint32_t v = 0; !ret && v < TESTDEV_DOORBELL_VECTORS; v++) {
		struct uvfio_ioeventfd ev = {
			.index = 0, .offset = TESTDEV_REG_IRQ, .size = 8,
			.flags = UVFIO_IOEVENTFD_DATAMATCH, .datamatch = v,
			.notify = td_irq_doorbell,
		};

		ret = uvfio_device_add_ioeventfd(dev, &ev);
	}
	return ret;
}

static void free_state(struct testdev *t)
{
	if (t->state)
		munmap(t->state, t->state_size);
	free(t->state_dirty);
	t->state = NULL;
	t->state_dirty = NULL;
}

/* The state region: anonymous memory with a pattern, so no page reads as zero. */
static int alloc_state(struct testdev *t, uint64_t size)
{
	uint64_t pages = size / TD_PAGE;

	if (!size)
		return 0;
	if (size % TD_PAGE || size > TESTDEV_STATE_MAX)
		return -EINVAL;
	t->state = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->state == MAP_FAILED) {
		t->state = NULL;
		return -ENOMEM;
	}
	t->state_size = size;
	t->state_dirty = calloc((pages + 63) / 64, sizeof(uint64_t));
	if (!t->state_dirty) {
		free_state(t);
		return -ENOMEM;
	}
	for (uint64_t p = 0; p < pages; p++)
		memset(t->state + p * TD_PAGE, (int)(p * 31 + 7), TD_PAGE);
	return 0;
}

struct uvfio_device *testdev_create(void)
{
	return testdev_create_opts(0);
}

struct uvfio_device *testdev_create_opts(uint64_t state_bytes)
{
	struct uvfio_device *dev;
	struct testdev *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	testdev_regs_reset(t);
	if (alloc_state(t, state_bytes))
		goto err_free;
	t->memfd = memfd_create("testdev", MFD_CLOEXEC);
	if (t->memfd < 0)
		goto err_state;
	if (ftruncate(t->memfd, MEMFD_SIZE))
		goto err_memfd;
	t->mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, t->memfd, 0);
	if (t->mem == MAP_FAILED)
		goto err_memfd;
	dev = uvfio_device_create("testdev", &td_ops, t);
	if (!dev)
		goto err_unmap;
	if (setup(dev, t)) {
		/* destroy without register: release is not called for us */
		uvfio_device_destroy(dev);
		goto err_unmap;
	}
	return dev;

err_unmap:
	munmap(t->mem, MEMFD_SIZE);
err_memfd:
	close(t->memfd);
err_state:
	free_state(t);
err_free:
	pthread_mutex_destroy(&t->lock);
	free(t);
	return NULL;
}
