#!/usr/bin/env python3
"""Full circle: our client, the real kernel, QEMU's vfio-user client and our server.

  full_circle.py --uvfio BIN --edu-driver BIN --probe BIN [--timeout S]

`uvfio serve edu` listens on a socket; QEMU 11 from the Debian sid chroot
(tests/guest/sid-chroot.sh, the one with vfio-user-pci) boots our 6.12 kernel
(kernel-612.sh) with the device attached through `-device vfio-user-pci`
behind a vIOMMU (intel-iommu, caching-mode=on, so QEMU's vfio-user container
follows the guest's IOMMU mappings). The guest's /init (init.sh,
kguest.mode=cdev) binds the device to vfio-pci and runs edu-driver at
/dev/vfio/devices/vfioX (iommufd) and pci:BDF: guest IOVA -> the guest
kernel's VFIO/iommufd -> QEMU's vIOMMU -> vfio-user DMA_MAP -> our server.
Every edu-driver check, DMA included, must pass at both locations, and the
server must stop cleanly on SIGTERM. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as kg  # noqa: E402  (kernel, initramfs, edu_checks, log)

log = kg.log
SID = os.path.join(HERE, "..", "guest", "sid-chroot.sh")
# The DMA checks are the point of the vIOMMU: none of them may be missing.
REQUIRED = kg.EDU_REQUIRED | {"dma round trip", "dma unmap"}


def start_server(uvfio, tmp):
    sock = os.path.join(tmp, "dev.sock")
    logf = open(os.path.join(tmp, "server.log"), "wb")
    srv = subprocess.Popen([uvfio, "serve", "edu", "--socket", sock, "-v"],
                           stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 5
    while not os.path.exists(sock):
        if srv.poll() is not None or time.monotonic() > deadline:
            if srv.poll() is None:
                srv.kill()
            srv.wait()
            sys.exit("`uvfio serve edu` did not start:\n"
                     + open(logf.name, errors="replace").read())
        time.sleep(0.02)
    log(f"server: {uvfio} serve edu --socket {sock} (pid {srv.pid})")
    return srv, sock


def chroot_qemu(chroot, tmp, q, timeout, extra=lambda line: None):
    """Runs the QEMU command q chrooted into the sid chroot, in a private mount
    namespace with tmp bind-mounted at /sock (kernel, initrd and sockets live
    there), and reads its console with run.py's watch_console. Returns
    (checks, edu, done, console lines, QEMU's exit code)."""
    log("qemu: " + " ".join(q))
    os.makedirs(os.path.join(chroot, "sock"), exist_ok=True)
    script = ('mount --bind "$1" "$2/sock" && mount -t proc proc "$2/proc" && '
              'c=$2 && shift 2 && exec chroot "$c" "$@"')
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                          "sh", tmp, chroot] + q,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    checks, edu, done, console = kg.watch_console(p, timeout, extra)
    if p.poll() is None:
        try:
            p.wait(timeout=10 if done else 0.1)
        except subprocess.TimeoutExpired:
            pass
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return checks, edu, done, console, p.returncode


def boot(chroot, tmp, timeout):
    """QEMU 11 with vfio-user-pci and a vIOMMU; parses the console."""
    q = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35,kernel-irqchip=split",
         "-m", "512", "-smp", "1", "-nographic", "-no-reboot", "-nic", "none",
         "-vga", "none", "-kernel", "/sock/bzImage", "-initrd", "/sock/initrd.gz",
         "-device", "intel-iommu,intremap=on,caching-mode=on",
         "-device", '{"driver":"vfio-user-pci","socket":'
                    '{"type":"unix","path":"/sock/dev.sock"}}',
         "-append", "console=ttyS0 panic=-1 quiet kguest.mode=cdev intel_iommu=on"]
    qerr = {}
    t = time.monotonic()

    def extra(line):
        if line.startswith(("qemu-system-x86_64:", "vfio_user")):
            # QEMU's own complaints: counted by kind (with the addresses
            # taken out), shown once each below.
            key = re.sub(r"0x[0-9a-f]+", "X", line)
            qerr[key] = qerr.get(key, 0) + 1
        elif re.search(r"Kernel panic|BUG:|Oops|DMAR: DRHD|DMAR:.*[Ff]ault", line):
            log("  console| " + line)

    checks, edu, done, console, rc = chroot_qemu(chroot, tmp, q, timeout, extra)
    for key, n in qerr.items():
        log(f"  qemu said ({n}x): {key}")
    if not done:
        checks.append(("guest-done", False, f"no GUEST-DONE; qemu exit {rc}"))
        log("  last console lines:\n    " + "\n    ".join(console[-30:]))
    log(f"guest: {time.monotonic() - t:.1f} s, qemu exit {rc}")
    return checks, edu, done, qerr


def stop_server(srv, sock, tmp):
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv.wait()
        return False, "did not exit within 10 s of SIGTERM (killed)"
    text = open(os.path.join(tmp, "server.log"), errors="replace").read()
    ok = rc == 0 and not os.path.exists(sock) and "client connected" in text
    return ok, (f"SIGTERM: exit {rc}, socket {'LEFT' if os.path.exists(sock) else 'removed'}, "
                f"QEMU {'connected' if 'client connected' in text else 'NEVER CONNECTED'}")


def server_dma(checks, tmp):
    """The vIOMMU path: the server (-v) must have done the guest probe's DMA at
    the guest's own IOVAs (not guest-physical addresses)."""
    text = open(os.path.join(tmp, "server.log"), errors="replace").read()
    probe = [d for n, _, d in checks if n == "probe-dma"]
    m = re.search(r"IOVA (0x[0-9a-f]+) -> (0x[0-9a-f]+)", probe[0] if probe else "")
    if not m:
        return False, "no probe-dma IOVAs from the guest"
    src, dst = m.groups()
    ok = (f"DMA from RAM of 0x800 bytes, device 0x40000, IOVA {src}" in text
          and f"DMA to RAM of 0x800 bytes, device 0x40000, IOVA {dst}" in text)
    maps = text.count("DMA_MAP (id")
    unmaps = text.count("DMA_UNMAP (id")
    enoent = len(re.findall(r"DMA_UNMAP \(id \d+\): No such file", text))
    return ok, (f"guest IOVA {src} -> {dst} {'seen' if ok else 'NOT SEEN'} by the server; "
                f"{maps} DMA_MAP, {unmaps} DMA_UNMAP ({enoent} of never-mapped ranges: ENOENT)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uvfio", required=True)
    ap.add_argument("--edu-driver", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--timeout", type=float, default=120, help="guest boot, seconds")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (chroot, mount namespaces, mknod in the initramfs)")
        return kg.SKIP
    os.makedirs(kg.CACHE, exist_ok=True)
    r = subprocess.run([SID], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return r.returncode
    chroot = r.stdout.strip()
    qver = subprocess.run(["chroot", chroot, "qemu-system-x86_64", "--version"],
                          stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    k = kg.kernel("kernel-612.sh")
    initrd = kg.initramfs({"kguest-probe": args.probe, "edu-driver": args.edu_driver})
    log(f"{qver}; chroot {chroot}")

    tmp = tempfile.mkdtemp(prefix="kguest-fc-")
    srv = None
    failed = []
    try:
        for src, dst in ((os.path.join(k, "bzImage"), "bzImage"), (initrd, "initrd.gz")):
            try:
                os.link(src, os.path.join(tmp, dst))
            except OSError:
                shutil.copy(src, os.path.join(tmp, dst))
        srv, sock = start_server(args.uvfio, tmp)
        checks, edu, done, qerr = boot(chroot, tmp, args.timeout)
        ok, detail = stop_server(srv, sock, tmp)
        checks.append(("server-exit", ok, detail))
        log(f"  {'PASS' if ok else 'FAIL'} {'server-exit':<18} {detail}")
        ok, detail = server_dma(checks, tmp)
        checks.append(("server-dma", ok, detail))
        log(f"  {'PASS' if ok else 'FAIL'} {'server-dma':<18} {detail}")
        if not all(c[1] for c in checks):
            with open(os.path.join(tmp, "server.log"), errors="replace") as f:
                for line in f.read().splitlines()[-40:]:
                    log("  server| " + line)
    finally:
        if srv and srv.poll() is None:
            srv.kill()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    failed += [name for name, ok, _ in checks if not ok]
    bind = [d for n, _, d in checks if n == "bind"]
    if not bind or "cdev vfio" not in bind[0] or "noiommu" in bind[0]:
        failed.append("bind (no vIOMMU group / device cdev)")
    want = 2  # /dev/vfio/devices/vfioX and pci:BDF
    if len(edu) != want:
        failed.append(f"edu-driver ran at {len(edu)} locations, not {want}")
    for loc, lines in edu.items():
        got = kg.edu_checks(lines)
        failed += [f"edu:{loc}:{n}" for n, ok in got if not ok]
        missing = REQUIRED - {n for n, _ in got}
        if missing:
            failed.append(f"edu-driver {loc} did not report {', '.join(sorted(missing))}")
    n = len(checks)
    log(f"full-circle (vIOMMU): {n - len([c for c in checks if not c[1]])}/{n} checks passed, "
        f"edu-driver at {len(edu)} locations; "
        f"{'FAILED: ' + ', '.join(failed) if failed else 'ok'} ({time.monotonic() - kg.T0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
