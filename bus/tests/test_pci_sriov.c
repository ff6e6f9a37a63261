/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV: the extended capability at 0x100 and its config rules (NumVFs,
 * VF Enable and the PF hook, read-only fields, VF BAR sizing, survival of
 * a function reset), the PCI_VF_TOKEN feature's PROBE/GET/SET/errno table,
 * and the VF open check against the PF's token.
 */
#include <stdlib.h>

#include "pci_test.h"

#define SR 0x100u
#define TOTAL 4

static int hook_calls, hook_last, hook_ret;

static int sriov_hook(struct uvfio_pci_device *p, uint16_t n)
{
	(void)p;
	hook_calls++;
	hook_last = n;
	return hook_ret;
}

static const struct uvfio_pci_ops sriov_ops = { .sriov_configure = sriov_hook };

static struct uvfio_pci_info pf_info(void)
{
	struct uvfio_pci_info info = {
		.vendor_id = 0x1234, .device_id = 0x11e8,
		.bars[0] = { .size = 4096 },
		.pcie = true,
		.sriov = { .total_vfs = TOTAL, .vf_offset = 1, .vf_stride = 1,
			   .vf_device_id = 0x11e9, .vf_bar_size = { 4096 } },
		.ops = &sriov_ops,
	};
	return info;
}

static struct uvfio_pci_device *make_pf(void)
{
	struct uvfio_pci_info info = pf_info();
	struct uvfio_pci_device *p = uvfio_pci_create("pf", &info, NULL);

	assert_non_null(p);
	hook_calls = hook_last = hook_ret = 0;
	return p;
}

static void test_cap_layout(void **state)
{
	struct uvfio_pci_device *p = make_pf();

	(void)state;
	assert_int_equal(uvfio_pci_config_size(p), 4096);
	assert_int_equal(cfg_read(p, SR, 4), PCI_EXT_CAP_ID_SRIOV | 1u << 16);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_TOTAL_VF, 2), TOTAL);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_INITIAL_VF, 2), TOTAL);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_VF_OFFSET, 2), 1);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_VF_STRIDE, 2), 1);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_VF_DID, 2), 0x11e9);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 0);
	/* Read-only fields keep their values. */
	cfg_write(p, SR, 4, 0xffffffff);
	cfg_write(p, SR + PCI_SRIOV_TOTAL_VF, 2, 99);
	cfg_write(p, SR + PCI_SRIOV_VF_DID, 2, 0xdead);
	cfg_write(p, SR + PCI_SRIOV_SYS_PGSIZE, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, SR, 4), PCI_EXT_CAP_ID_SRIOV | 1u << 16);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_TOTAL_VF, 2), TOTAL);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_VF_DID, 2), 0x11e9);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_SYS_PGSIZE, 4), 1);
	/* VF BAR0 sizes like a BAR, the unimplemented ones read 0. */
	cfg_write(p, SR + PCI_SRIOV_BAR, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_BAR, 4), 0xfffff000);
	cfg_write(p, SR + PCI_SRIOV_BAR + 4, 4, 0xffffffff);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_BAR + 4, 4), 0);
	/* Only VF Enable and VF MSE are writable in the control register. */
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_VFM);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_CTRL, 2), PCI_SRIOV_CTRL_MSE);
	assert_int_equal(hook_calls, 0);
	uvfio_pci_destroy(p);
}

static void test_numvfs_and_enable(void **state)
{
	struct uvfio_pci_device *p = make_pf();

	(void)state;
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 2, TOTAL + 1); /* > TotalVFs: dropped */
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 0);
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 2, 3);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 3);
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_last, 3);
	assert_int_equal(uvfio_pci_sriov_num_vfs(p), 3);
	/* NumVFs is frozen while VF Enable is set. */
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 2, 1);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 3);
	/* Writing the same enable again is no change: no hook call. */
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE);
	assert_int_equal(hook_calls, 1);
	/* FLR leaves the capability (and the VFs) alone. */
	assert_int_equal(uvfio_device_reset(uvfio_pci_to_device(p)), 0);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE,
			 PCI_SRIOV_CTRL_VFE);
	assert_int_equal(uvfio_pci_sriov_num_vfs(p), 3);
	/* A busy PF refuses the disable: VF Enable stays set. */
	hook_ret = -EBUSY;
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, 0);
	assert_int_equal(hook_calls, 2);
	assert_int_equal(hook_last, 0);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_CTRL, 2) & PCI_SRIOV_CTRL_VFE,
			 PCI_SRIOV_CTRL_VFE);
	assert_int_equal(uvfio_pci_sriov_num_vfs(p), 3);
	hook_ret = 0;
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, 0);
	assert_int_equal(hook_last, 0);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_CTRL, 2), 0);
	assert_int_equal(uvfio_pci_sriov_num_vfs(p), 0);
	/* Byte writes of NumVFs follow the same rules. */
	cfg_write(p, SR + PCI_SRIOV_NUM_VF + 1, 1, 1); /* 256 > TotalVFs */
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 3);
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 1, 2);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_NUM_VF, 2), 2);
	/* VF Enable with NumVFs 0: no VFs to bring up, no hook call. */
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 4, 0);
	hook_calls = 0;
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE);
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, 0);
	assert_int_equal(hook_calls, 0);
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 2, 3);
	/* A refused enable leaves VF Enable clear. */
	hook_ret = -ENOMEM;
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE);
	assert_int_equal(cfg_read(p, SR + PCI_SRIOV_CTRL, 2), 0);
	assert_int_equal(uvfio_pci_sriov_num_vfs(p), 0);
	uvfio_pci_destroy(p);
}

static void test_invalid(void **state)
{
	struct uvfio_pci_info info = pf_info();

	(void)state;
	info.pcie = false; /* no extended config space */
	assert_null(uvfio_pci_create("bad", &info, NULL));
	assert_int_equal(errno, EINVAL);
	info = pf_info();
	info.sriov.initial_vfs = TOTAL + 1;
	assert_null(uvfio_pci_create("bad", &info, NULL));
	info = pf_info();
	info.sriov.vf_bar_size[1] = 100;
	assert_null(uvfio_pci_create("bad", &info, NULL));
}

/* VFIO_DEVICE_FEATURE with `len` data bytes; returns the errno (0 ok). */
static int feature(struct uvfio_device *d, uint32_t flags, size_t len)
{
	uint8_t buf[64] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = (uint32_t)(sizeof(*f) + len);
	f->flags = flags;
	memset(buf + sizeof(*f), 0x5a, len);
	return uvfio_device_feature(d, buf, sizeof(buf), NULL);
}

#define TOK 0 /* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN */

static void test_token_feature(void **state)
{
	struct uvfio_pci_device *p = make_pf();
	struct uvfio_device *d = uvfio_pci_to_device(p);
	struct uvfio_pci_info plain = { .vendor_id = 1, .device_id = 2, .pcie = true };
	struct uvfio_pci_device *q = uvfio_pci_create("plain", &plain, NULL);
	const uint32_t S = VFIO_DEVICE_FEATURE_SET, G = VFIO_DEVICE_FEATURE_GET,
		       P = VFIO_DEVICE_FEATURE_PROBE;

	(void)state;
	assert_non_null(q);
	assert_int_equal(feature(d, TOK | P | S, 0), 0);
	assert_int_equal(feature(d, TOK | P, 0), 0);
	assert_int_equal(feature(d, TOK | P | G, 0), -EINVAL);
	assert_int_equal(feature(d, TOK | P | G | S, 0), -EINVAL);
	assert_int_equal(feature(d, TOK | G, 16), -EINVAL);
	assert_int_equal(feature(d, TOK | S, 15), -EINVAL); /* short UUID */
	assert_int_equal(feature(d, TOK | S, 16), 0);
	/* The kernel sets it whatever the VFs' state: enabled too. */
	cfg_write(p, SR + PCI_SRIOV_NUM_VF, 2, 2);
	cfg_write(p, SR + PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE);
	assert_int_equal(feature(d, TOK | S, 16), 0);
	/* Not a PF: ENOTTY for every op. */
	assert_int_equal(feature(uvfio_pci_to_device(q), TOK | P | S, 0), -ENOTTY);
	assert_int_equal(feature(uvfio_pci_to_device(q), TOK | S, 16), -ENOTTY);
	assert_int_equal(feature(uvfio_pci_to_device(q), TOK | G, 16), -ENOTTY);
	/* 0xffff is reserved: nobody offers it. */
	assert_int_equal(feature(d, 0xffff | P | G, 0), -ENOTTY);
	assert_int_equal(feature(d, 0xffff | S, 16), -ENOTTY);
	assert_int_equal(feature(uvfio_pci_to_device(q), 0xffff | G, 16), -ENOTTY);
	uvfio_pci_destroy(q);
	uvfio_pci_destroy(p);
}

static void test_vf_token_check(void **state)
{
	struct uvfio_pci_device *p = make_pf();
	struct uvfio_device *d = uvfio_pci_to_device(p);
	uint8_t good[16], bad[16];
	const char *why;

	(void)state;
	memset(good, 0x5a, sizeof(good)); /* what feature() sets */
	memset(bad, 0x11, sizeof(bad));
	/* PF without a user and without a token: no token wanted. */
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, NULL, &why), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, good, &why), -EINVAL);
	assert_non_null(why);
	/* PF owned by a user that set no token: every VF open is refused. */
	assert_int_equal(uvfio_device_open(d), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, NULL, &why), -EACCES);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, good, &why), -EACCES);
	assert_int_equal(feature(d, TOK | VFIO_DEVICE_FEATURE_SET, 16), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, good, &why), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, bad, &why), -EACCES);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, NULL, &why), -EACCES);
	/* The user left; the token stays and still guards the VFs. */
	uvfio_device_close(d);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, good, &why), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, NULL, &why), -EACCES);
	uvfio_pci_destroy(p);
}

static void test_pf_token_check(void **state)
{
	struct uvfio_pci_device *p = make_pf();
	uint8_t a[16], b[16];

	(void)state;
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	/* No VF in use: no token is fine, a token given becomes the PF's. */
	assert_int_equal(uvfio_pci_sriov_check_pf_token(p, NULL, false, NULL), 0);
	assert_int_equal(uvfio_pci_sriov_check_pf_token(p, a, false, NULL), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, a, NULL), 0);
	/* VFs in use: the token is required and must match. */
	assert_int_equal(uvfio_pci_sriov_check_pf_token(p, NULL, true, NULL), -EACCES);
	assert_int_equal(uvfio_pci_sriov_check_pf_token(p, b, true, NULL), -EACCES);
	assert_int_equal(uvfio_pci_sriov_check_pf_token(p, a, true, NULL), 0);
	assert_int_equal(uvfio_pci_sriov_check_vf_token(p, a, NULL), 0);
	uvfio_pci_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_layout),
		cmocka_unit_test(test_numvfs_and_enable),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_token_feature),
		cmocka_unit_test(test_vf_token_check),
		cmocka_unit_test(test_pf_token_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
