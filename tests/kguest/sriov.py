#!/usr/bin/env python3
"""SR-IOV and the VF token on the real kernel, through our client.

  sriov.py --sriov BIN [--uvfio BIN] [--kernel sid|72] [--timeout S]

QEMU 11 from the Debian sid chroot (tests/guest/sid-chroot.sh; the host's
QEMU 7.2 has no igb) boots a kernel with vfio-pci and PCI_IOV on q35 behind
intel-iommu: --kernel sid (default) the sid chroot's (kernel-sid.sh; VFIO
as modules, no IOMMUFD), --kernel 72 our own from sid's linux-source-7.2
(kernel-72.sh; all built in, with IOMMUFD and the device cdev, so the
cdev checks run). Each VF gets an IOMMU group of
its own, with QEMU's igb (an SR-IOV PF, 8086:10c9, up to 8 VFs 8086:10ca)
behind a PCIe root port and an edu (neither PF nor VF). The guest's /init
(init.sh, kguest.mode=sriov) loads vfio-pci with enable_sriov=1 (built in:
vfio_pci.enable_sriov=1 on the kernel command line) and runs
kguest-sriov (sriov.c, static, on our client API), which binds the PF,
sets a VF token with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, enables VFs and
opens them with the right token, a wrong one and none. Every check name
in EXPECTED must be reported and pass: a missing one fails the test. The
cdev checks (VFIO_DEVICE_BIND_IOMMUFD with the token) are expected only
when the guest kernel has CONFIG_VFIO_DEVICE_CDEV and is 6.17 or newer;
otherwise the run says that path is not covered. Exit 0 pass, 1 fail,
77 skip (not root, or no sid chroot and no mirror).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as kg  # noqa: E402  (kernel, initramfs, watch_console, log)
import full_circle as fc  # noqa: E402  (chroot_qemu, SID)

log = kg.log
# In the order kguest-sriov runs them; init.sh adds modules and kguest-sriov.
EXPECTED = [
    "modules", "pf-bind", "plain-bind", "pf-open", "token-probe", "token-get-refused",
    "token-set-short", "token-set-before-vfs", "vfs-enable", "vf-autobind",
    "vf-no-token", "vf-wrong-token", "vf-malformed-token", "vf-right-token",
    "vf-token-feature", "vf-shared-wrong-token", "vf-shared-right-token",
    "pf-reopen-no-token", "pf-reopen-wrong-token", "pf-reopen-right-token",
    "token-set-while-vf-open", "vf-old-token", "vf-new-token",
    "vf-no-token-pf-closed", "vf-token-outlives-pf-user", "pf-open-vfs-in-use",
    "vfs-disable-while-open", "plain-token-refused", "plain-no-token",
    "plain-token-feature", "vf-fresh-pf-no-token", "vf-fresh-pf-old-token", "kguest-sriov",
]
# In sriov.c's cdev_checks() and cdev_pf_checks(), required when the kernel has the cdev token.
CDEV = ["cdev-vf-no-token", "cdev-vf-wrong-token", "cdev-vf-right-token",
        "cdev-vf-shared-right-token", "cdev-vf-shared-wrong-token", "cdev-vf-shared-no-token",
        "cdev-group-vf-bound", "cdev-vf-open-elsewhere", "cdev-vf-group-open",
        "cdev-pf-no-token", "cdev-pf-wrong-token", "cdev-pf-right-token",
        "cdev-vf-token-from-cdev-pf-old", "cdev-vf-token-from-cdev-pf", "cdev-pf-token-set"]


def kernel_has_cdev_token(k):
    """CONFIG_VFIO_DEVICE_CDEV=y and Linux >= 6.17 (BIND_IOMMUFD's token)."""
    config = open(os.path.join(k, "config")).read()
    ver = open(os.path.join(k, "version")).read().strip()
    m = re.match(r"(\d+)\.(\d+)", ver)
    new = m is not None and (int(m.group(1)), int(m.group(2))) >= (6, 17)
    cdev = re.search(r"^CONFIG_VFIO_DEVICE_CDEV=y", config, re.M) is not None
    return cdev and new, f"{ver}: VFIO_DEVICE_CDEV {'y' if cdev else 'not set'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sriov", required=True, help="kguest-sriov (static)")
    ap.add_argument("--uvfio", help="a static uvfio, for `uvfio ls` in the guest")
    ap.add_argument("--kernel", choices=["sid", "72"], default="sid",
                    help="sid: the sid chroot's kernel (modules, no IOMMUFD); 72: ours from "
                         "linux-source-7.2 (built in, IOMMUFD + cdev)")
    ap.add_argument("--timeout", type=float, default=180, help="guest run, seconds")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (chroot, mount namespaces, mknod in the initramfs)")
        return kg.SKIP
    os.makedirs(kg.CACHE, exist_ok=True)
    r = subprocess.run([fc.SID], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return r.returncode
    chroot = r.stdout.strip()
    qver = subprocess.run(["chroot", chroot, "qemu-system-x86_64", "--version"],
                          stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    t = time.monotonic()
    script = {"sid": "kernel-sid.sh", "72": "kernel-72.sh"}[args.kernel]
    p = subprocess.run([os.path.join(HERE, script), chroot], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{script} failed (exit {p.returncode})")
    k = p.stdout.strip().splitlines()[-1]
    log(f"{script}: {k} ({time.monotonic() - t:.1f} s)")
    # sid: vmlinux + modules; ours: a bzImage with everything built in.
    image, moddir = ("vmlinuz", k) if args.kernel == "sid" else ("bzImage", None)
    cdev, why = kernel_has_cdev_token(k)
    expected = EXPECTED + (CDEV if cdev else [])
    progs = {"kguest-sriov": args.sriov}
    if args.uvfio:
        progs["uvfio"] = args.uvfio
        expected.append("uvfio-ls")
    initrd = kg.initramfs(progs, moddir)
    log(f"{qver}; chroot {chroot}")

    q = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35,kernel-irqchip=split",
         "-m", "512", "-smp", "1", "-nographic", "-no-reboot", "-nic", "none",
         "-vga", "none", "-kernel", "/sock/vmlinuz", "-initrd", "/sock/initrd.gz",
         "-device", "intel-iommu,intremap=on",
         "-device", "pcie-root-port,id=rp1,chassis=1", "-device", "igb,bus=rp1",
         "-device", "edu",
         "-append", "console=ttyS0 panic=-1 quiet intel_iommu=on kguest.mode=sriov "
                    "vfio_pci.enable_sriov=1"]

    def extra(line):
        if line.startswith(("KMSG| ", "LS| ", "NOTE ", "VF| ", "uvfio[", "STUCK| ")):
            log("  " + line)
            return
        if re.search(r"Kernel panic|BUG:|Oops|qemu-system|DMAR:.*[Ff]ault|blocked for more",
                     line):
            log("  console| " + line)

    tmp = tempfile.mkdtemp(prefix="kguest-sriov-")
    try:
        for src, dst in ((os.path.join(k, image), "vmlinuz"), (initrd, "initrd.gz")):
            try:
                os.link(src, os.path.join(tmp, dst))
            except OSError:
                shutil.copy(src, os.path.join(tmp, dst))
        t = time.monotonic()
        checks, _, done, console, rc = fc.chroot_qemu(chroot, tmp, q, args.timeout, extra)
        log(f"guest: {time.monotonic() - t:.1f} s, qemu exit {rc}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if not done:
        checks.append(("guest-done", False, f"no GUEST-DONE; qemu exit {rc}"))
        log("  last console lines:\n    " + "\n    ".join(console[-30:]))
    failed = [name for name, ok, _ in checks if not ok]
    seen = {name for name, _, _ in checks}
    missing = [name for name in expected if name not in seen]
    unknown = sorted(seen - set(expected) - {"timeout", "guest-done"})
    if missing:
        failed.append("missing: " + ", ".join(missing))
    if unknown:  # a check the runner does not know is a check nobody requires
        failed.append("unexpected: " + ", ".join(unknown))
    if args.kernel == "72" and not cdev:  # the reason this kernel exists
        failed.append(f"kernel-72.sh's kernel lacks the cdev token ({why})")
    if not cdev:
        log(f"  NOT COVERED: the cdev path (BIND_IOMMUFD with the VF token, Linux 6.17+): "
            f"guest kernel {why}")
    n = len(checks)
    log(f"sriov: {n - len([c for c in checks if not c[1]])}/{n} checks passed, "
        f"{len(expected)} expected; {'FAILED: ' + '; '.join(failed) if failed else 'ok'} "
        f"({time.monotonic() - kg.T0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
