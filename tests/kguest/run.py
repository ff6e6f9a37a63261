#!/usr/bin/env python3
"""Guest tests of uvfio's kernel backend under the host's QEMU 7.2 (TCG).

  run.py RUN --edu-driver BIN --probe BIN [--selftest BIN] [--uvfio BIN]

RUN is one of
  deb61-legacy  Debian 12's 6.1 kernel, intel-iommu, container/group type1v2
  612-cdev      our 6.12 kernel, intel-iommu, iommufd + /dev/vfio/devices/vfioX
  612-nonviable 612-cdev plus a second edu whose IOMMU group another driver
                shares: opening it must fail, naming why
  612-noiommu   our 6.12 kernel, no IOMMU, vfio.enable_unsafe_noiommu_mode=1
  two-worlds    edu-driver on the host against `uvfio serve edu` (vfio-user)
                and in the 6.1 guest against QEMU's edu: the check lines
                (names and ok/FAILED) must be identical

The guest's /init (init.sh) prints "CHECK name PASS|FAIL detail" lines,
edu-driver's stdout prefixed "EDU| " (stderr "EDU-STDERR| "), and GUEST-DONE. Kernels come from
kernel-deb61.sh / kernel-612.sh, the initramfs is cached by content; all in
${UVFIO_CACHE:-/var/cache/uvfio}/kguest. Exit 0 pass, 1 fail, 77 skip.
"""
import argparse
import gzip
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.environ.get("UVFIO_CACHE", "/var/cache/uvfio"), "kguest")
SKIP = 77
# edu-driver checks that cannot pass on noiommu with today's client API.
NOIOMMU_GAPS = {
    "dma map": "noiommu DMA needs physical addresses; the client API maps IOVAs only",
}
EDU_REQUIRED = {"identification", "liveness", "factorial", "dma map", "msi on eventfd",
                "interrupt ack"}
EDU_LINE = re.compile(r"^(\S.*?)\s+(ok|FAILED)(?:\s+(.*))?$")

T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def kernel(script):
    """Runs a kernel script (cached after the first run); returns its output dir."""
    t = time.monotonic()
    p = subprocess.run([os.path.join(HERE, script)], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"{script} failed (exit {p.returncode})")
    out = p.stdout.strip().splitlines()[-1]
    log(f"{script}: {out} ({time.monotonic() - t:.1f} s)")
    return out


def initramfs(progs, moddir=None):
    """busybox + /init + programs (+ 6.1 modules) as a cpio.gz, cached by content."""
    files = {"bin/busybox": "/bin/busybox", "init": os.path.join(HERE, "init.sh")}
    for name, path in progs.items():
        files["bin/" + name] = path
    for dst, src in files.items():  # the initramfs has no dynamic loader
        if dst.startswith("bin/") and b"ld-linux" in open(src, "rb").read(4096):
            sys.exit(f"{src} is dynamically linked (busybox-static, static builds needed)")
    if moddir:
        files["lib/modules/modules.order"] = os.path.join(moddir, "modules.order")
        for m in open(files["lib/modules/modules.order"]).read().split():
            files["lib/modules/" + m] = os.path.join(moddir, "modules", m)
    h = hashlib.sha256()
    for dst in sorted(files):
        h.update(dst.encode() + b"\0" + open(files[dst], "rb").read())
    out = os.path.join(CACHE, f"initramfs-{h.hexdigest()[:16]}.cpio.gz")
    if os.path.exists(out):
        return out
    with tempfile.TemporaryDirectory() as stage:
        for d in ("bin", "dev", "proc", "sys", "tmp", "lib/modules"):
            os.makedirs(os.path.join(stage, d), exist_ok=True)
        os.mknod(os.path.join(stage, "dev/console"), 0o600 | 0o020000, os.makedev(5, 1))
        for dst, src in files.items():
            shutil.copy(src, os.path.join(stage, dst))
            os.chmod(os.path.join(stage, dst), 0o755)
        names = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=stage,
                               stdout=subprocess.PIPE, check=True).stdout
        cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=stage,
                              input=names, stdout=subprocess.PIPE, check=True).stdout
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(gzip.compress(cpio, 6))
        os.replace(tmp, out)
    log(f"initramfs: {out} ({os.path.getsize(out) // 1024} KiB)")
    for old in os.listdir(CACHE):  # other trees' and older builds: keep a week's worth
        path = os.path.join(CACHE, old)
        if old.startswith("initramfs-") and time.time() - os.path.getmtime(path) > 7 * 86400:
            os.unlink(path)
    return out


def watch_console(p, timeout, extra=lambda line: None):
    """Reads the guest console of process p until it ends or `timeout` s pass.

    Collects CHECK lines, edu-driver output per location (EDU-BEGIN/EDU|) and
    GUEST-DONE; every other line goes to extra(line). BIOS output carries
    escape codes, so markers are found anywhere in a line. Returns (checks,
    {location: edu-driver lines}, done, console lines).
    """
    checks, edu, done, console, loc = [], {}, False, [], "?"
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        r, _, _ = select.select([p.stdout], [], [], max(0, deadline - time.monotonic()))
        if not r:
            checks.append(("timeout", False, "GUEST-DONE, but no power-off within 20 s" if done
                           else f"no GUEST-DONE within {timeout} s"))
            break
        data = os.read(p.stdout.fileno(), 65536)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("latin-1").replace("\r", "")
            console.append(line)
            if "GUEST-START" in line:
                f = line.split("GUEST-START", 1)[1].split()
                log(f"  guest: kernel {f[0]} ran /init at uptime {f[-1]} s")
            elif "EDU-BEGIN " in line:
                loc = line.split("EDU-BEGIN ", 1)[1].strip()
                edu[loc] = []
            elif "EDU-STDERR| " in line:
                log("  edu-driver stderr| " + line.split("EDU-STDERR| ", 1)[1])
            elif "EDU| " in line:
                edu.setdefault(loc, []).append(line.split("EDU| ", 1)[1])
                log("  edu-driver| " + edu[loc][-1])
            elif "CHECK " in line:
                f = line[line.index("CHECK "):].split(" ", 3) + ["", ""]
                checks.append((f[1], f[2] == "PASS", f[3]))
                log(f"  {'PASS' if f[2] == 'PASS' else 'FAIL'} {f[1]:<18} {f[3]}")
            elif "GUEST-DONE" in line:
                done = True
                # The guest powers off now; a hung poweroff (a task stuck
                # in the kernel) must not hold the run for the full timeout.
                deadline = min(deadline, time.monotonic() + 20)
            else:
                extra(line)
    return checks, edu, done, console


def boot(kernel_image, initrd, iommu, append, timeout, extra=()):
    """Boots QEMU 7.2 with edu; returns (checks, {location: edu-driver lines}, done)."""
    q = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35,kernel-irqchip=split",
         "-m", "256", "-smp", "1", "-nographic", "-no-reboot", "-nic", "none",
         "-vga", "none", "-kernel", kernel_image, "-initrd", initrd]
    if iommu:
        q += ["-device", "intel-iommu,intremap=on"]
        append += " intel_iommu=on"
    q += ["-device", "edu", *extra, "-append", f"console=ttyS0 panic=-1 quiet {append}"]
    log("qemu: " + " ".join(q))
    t = time.monotonic()
    p = subprocess.Popen(q, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    def extra(line):
        if "SELFTEST| " in line:
            log("  selftest| " + line.split("SELFTEST| ", 1)[1])
        elif "NONVIABLE| " in line:
            log("  edu-driver (non-viable group)| " + line.split("NONVIABLE| ", 1)[1])
        elif re.search(r"Kernel panic|BUG:|Oops|QEMU:|qemu-system", line):
            log("  console| " + line)

    checks, edu, done, console = watch_console(p, timeout, extra)
    if p.poll() is None:
        try:
            p.wait(timeout=10 if done else 0.1)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if not done:
        checks.append(("guest-done", False, f"no GUEST-DONE; qemu exit {p.returncode}"))
        log("  last console lines:\n    " + "\n    ".join(console[-25:]))
    log(f"guest: {time.monotonic() - t:.1f} s, qemu exit {p.returncode}")
    return checks, edu, done


def guest(name, progs, timeout):
    if name in ("deb61-legacy", "two-worlds"):
        k = kernel("kernel-deb61.sh")
        return boot(os.path.join(k, "vmlinuz"), initramfs(progs, k), True,
                    "kguest.mode=legacy", timeout)
    k = kernel("kernel-612.sh")
    img = os.path.join(k, "bzImage")
    if name == "612-cdev":
        return boot(img, initramfs(progs), True, "kguest.mode=cdev", timeout)
    if name == "612-nonviable":
        # A second edu behind a conventional PCI bridge shares its IOMMU group
        # with a virtio device that virtio-pci (built in) holds: not viable.
        return boot(img, initramfs(progs), True, "kguest.mode=cdev", timeout,
                    ["-device", "pci-bridge,id=br,chassis_nr=1",
                     "-device", "edu,bus=br,addr=1", "-device", "virtio-rng-pci,bus=br,addr=2"])
    return boot(img, initramfs(progs), False,
                "kguest.mode=noiommu vfio.enable_unsafe_noiommu_mode=1", timeout)


def edu_checks(lines):
    """edu-driver's check lines as [(name, ok)] (the header/footer lines are not checks)."""
    out = []
    for line in lines:
        m = EDU_LINE.match(line)
        if m and not line.startswith("edu-driver:"):
            out.append((m.group(1).strip(), m.group(2) == "ok"))
    return out


def host_world(uvfio, driver):
    """edu-driver over vfio-user against `uvfio serve edu`; returns its lines or None (skip)."""
    tmp = tempfile.mkdtemp(prefix="kguest-")
    sock = os.path.join(tmp, "edu.sock")
    logf = open(os.path.join(tmp, "serve.log"), "w+")
    srv = subprocess.Popen([uvfio, "serve", "edu", "--socket", sock],
                           stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 5
        while not os.path.exists(sock):
            if srv.poll() is not None or time.monotonic() > deadline:
                logf.seek(0)
                log(f"host: `uvfio serve edu` did not start: {logf.read().strip()}")
                return None
            time.sleep(0.02)
        t = time.monotonic()
        p = subprocess.run([driver, "vfio-user:" + sock], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        for line in p.stdout.splitlines():
            log("  host edu-driver| " + line)
        for line in p.stderr.splitlines():
            log("  host edu-driver stderr| " + line)
        log(f"host: edu-driver exit {p.returncode}, {time.monotonic() - t:.1f} s")
        return p.stdout.splitlines()
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", choices=["deb61-legacy", "612-cdev", "612-nonviable", "612-noiommu",
                                    "two-worlds"])
    ap.add_argument("--edu-driver", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--selftest", help="the kernel backend's guest self-test (static)")
    ap.add_argument("--uvfio", help="uvfio binary (two-worlds)")
    ap.add_argument("--timeout", type=float, default=120, help="per guest boot, seconds")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: needs root (apt-get download, mknod in the initramfs)")
        return SKIP
    if not shutil.which("qemu-system-x86_64"):
        log("SKIP: no qemu-system-x86_64")
        return SKIP
    os.makedirs(CACHE, exist_ok=True)

    host = None
    if args.run == "two-worlds":
        if not args.uvfio:
            sys.exit("two-worlds needs --uvfio")
        host = host_world(args.uvfio, args.edu_driver)
        if host is None:
            log("SKIP: no vfio-user world yet (`uvfio serve edu` unavailable)")
            return SKIP

    progs = {"kguest-probe": args.probe, "edu-driver": args.edu_driver}
    if args.selftest:
        progs["selftest"] = args.selftest
    checks, edu, done = guest(args.run, progs, args.timeout)

    failed = []
    for name, ok, detail in checks:
        if ok:
            continue
        if args.run == "612-noiommu" and name == "edu-driver":
            continue  # judged per check below
        failed.append(name)
    for loc, lines in edu.items():
        if args.run == "612-noiommu":
            for name, ok in edu_checks(lines):
                if not ok and name in NOIOMMU_GAPS:
                    log(f"  GAP  edu-driver {loc} '{name}': {NOIOMMU_GAPS[name]}")
                elif not ok:
                    failed.append(f"edu:{name}")
            missing = EDU_REQUIRED - {n for n, _ in edu_checks(lines)}
            if missing:  # edu-driver stopped early: its exit status is not judged here
                failed.append(f"edu-driver {loc} did not report {', '.join(sorted(missing))}")
        if not edu_checks(lines):
            failed.append(f"edu-driver {loc} (no check lines)")
    if not edu:
        failed.append("edu-driver (did not run)")
    if args.run == "two-worlds":
        a = edu_checks(host)
        for loc, lines in edu.items():
            b = edu_checks(lines)
            same = a == b and len(a) > 0
            log(f"  {'PASS' if same else 'FAIL'} two-worlds         vfio-user: {len(a)} checks, "
                f"{loc}: {len(b)} checks, {'identical' if same else 'DIFFER'}")
            if not same:
                for i in range(max(len(a), len(b))):
                    x = a[i] if i < len(a) else None
                    y = b[i] if i < len(b) else None
                    log(f"    {'  ' if x == y else '!='} host {x}  guest {y}")
                failed.append("two-worlds " + loc)
    n = len(checks)
    log(f"{args.run}: {n - len([c for c in checks if not c[1]])}/{n} guest checks passed, "
        f"edu-driver at {len(edu)} locations; "
        f"{'FAILED: ' + ', '.join(failed) if failed else 'ok'} ({time.monotonic() - T0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
