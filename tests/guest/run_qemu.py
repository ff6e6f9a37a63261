#!/usr/bin/env python3
"""Boot the sid kernel under QEMU (TCG) with a device served by `uvfio serve`
attached through QEMU's vfio-user-pci client, and collect the guest's checks.

  run_qemu.py --device edu|gpio [--memfd] [--trace] --uvfio PATH
  run_qemu.py --device none       (harness only: no device, lists PCI devices)
  run_qemu.py --device qemu-edu   (reference: QEMU's own edu, same guest checks)

The guest prints "CHECK <name> PASS|FAIL <detail>" lines and GUEST-DONE. The
runner fails on any FAIL, on a missing GUEST-DONE, on a timeout, and if the
server does not exit 0 on SIGTERM or leaves its socket behind. Exit 77 = skip.
With --trace, QEMU reaches the server through `uvfio trace --json`: the guest's
checks must pass unchanged, and the decoded traffic is checked too.
"""
import argparse
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
# gpio: input patterns the host sets after the guest's n-th "GPIO-OUTPUTS-SET".
GPIO_INPUTS = [0x5A3C, 0x0FF0]


def log(msg):
    print(msg, flush=True)


class Checks:
    def __init__(self):
        self.t0 = time.monotonic()
        self.last = self.t0
        self.items = []  # (name, ok, detail, seconds since the previous event)

    def add(self, name, ok, detail):
        """Logs a check with the time since the previous one and since the start."""
        now = time.monotonic()
        self.items.append((name, ok, detail, now - self.last))
        log(f"  {'PASS' if ok else 'FAIL'} {name:<18} +{now - self.last:5.2f}s "
            f"(t={now - self.t0:5.2f}s)  {detail}")
        self.last = now

    def failed(self):
        return [i for i in self.items if not i[1]]


def control(path, line):
    """One command on the gpio control socket; returns the reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            reply += chunk
    return reply.decode().strip()


def start_server(args, tmp):
    # With --trace the proxy listens on dev.sock, where QEMU connects.
    sock = os.path.join(tmp, "real.sock" if args.trace else "dev.sock")
    cmd = [args.uvfio, "serve", args.device, "--socket", sock]
    if args.device == "gpio":
        cmd += ["--control", os.path.join(tmp, "ctl.sock")]
    logf = open(os.path.join(tmp, "server.log"), "wb")
    srv = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 5
    want = [sock] + ([cmd[-1]] if args.device == "gpio" else [])
    while not all(os.path.exists(p) for p in want):
        if srv.poll() is not None or time.monotonic() > deadline:
            srv.kill()
            srv.wait()
            sys.exit(f"server did not create {' '.join(want)}: {' '.join(cmd)}\n"
                     + open(logf.name, errors="replace").read())
        time.sleep(0.02)
    log(f"server: {' '.join(cmd)} (pid {srv.pid})")
    return srv, want


def start_trace(args, tmp, server_sock):
    """`uvfio trace --json` on dev.sock in front of the server."""
    listen = os.path.join(tmp, "dev.sock")
    out = open(os.path.join(tmp, "trace.json"), "wb")
    err = open(os.path.join(tmp, "trace.err"), "wb")
    cmd = [args.uvfio, "trace", "--listen", listen, "--connect", server_sock, "--json"]
    tr = subprocess.Popen(cmd, stdout=out, stderr=err)
    deadline = time.monotonic() + 5
    while not os.path.exists(listen):
        if tr.poll() is not None or time.monotonic() > deadline:
            tr.kill()
            tr.wait()
            sys.exit(f"uvfio trace did not listen: {' '.join(cmd)}")
        time.sleep(0.02)
    time.sleep(0.05)
    log(f"trace: {' '.join(cmd)} (pid {tr.pid})")
    return tr


def check_trace(args, tr, tmp, checks):
    """Stops the proxy and checks what it decoded of QEMU's traffic."""
    import json
    tr.send_signal(signal.SIGTERM)
    try:
        rc = tr.wait(timeout=10)
    except subprocess.TimeoutExpired:
        tr.kill()
        rc = tr.wait()
    checks.add("trace-exit", rc == 0 and not os.path.exists(os.path.join(tmp, "dev.sock")),
               f"SIGTERM: exit status {rc}")
    try:
        msgs = [json.loads(x) for x in open(os.path.join(tmp, "trace.json"))]
    except ValueError as e:
        checks.add("trace-json", False, f"a line is not JSON: {e}")
        return
    req = [m for m in msgs if not m["reply"]]
    rep = [m for m in msgs if m["reply"]]
    answered = sorted((m["dir"], m["msg_id"], m["cmd"]) for m in req if not m["no_reply"])
    replies = sorted(("c2s" if m["dir"] == "s2c" else "s2c", m["msg_id"], m["cmd"])
                     for m in rep)
    checks.add("trace-replies", answered == replies and
               all("latency_us" in m for m in rep),
               f"{len(req)} requests ({sum(m['no_reply'] for m in req)} posted), "
               f"{len(rep)} replies, each matched")
    cmds = {m["cmd"] for m in req}
    maps = [m for m in req if m["cmd"] == "DMA_MAP"]
    irqs = [m for m in req if m["cmd"] == "DEVICE_SET_IRQS" and m["fds"]]
    want = {"VERSION", "DEVICE_GET_INFO", "DEVICE_GET_REGION_INFO", "DEVICE_GET_IRQ_INFO",
            "REGION_READ", "REGION_WRITE", "DMA_MAP", "DEVICE_SET_IRQS"}
    checks.add("trace-commands", want <= cmds, "seen: " + " ".join(sorted(cmds)))
    if args.memfd:
        ok = any(m["fds"] == 1 for m in maps)
        detail = f"{sum(m['fds'] for m in maps)} of {len(maps)} DMA_MAPs carried an fd"
    else:
        ok = maps and all(m["fds"] == 0 for m in maps)
        detail = f"{len(maps)} DMA_MAPs, none with an fd"
    checks.add("trace-dma-map", bool(ok), detail)
    checks.add("trace-irq-fds", bool(irqs),
               f"{len(irqs)} SET_IRQS with eventfds ({sum(m['fds'] for m in irqs)} fds)")
    if args.device == "edu" and not args.memfd:
        s2c = [m for m in req if m["dir"] == "s2c"]
        checks.add("trace-server-dma", any(m["cmd"] in ("DMA_READ", "DMA_WRITE") for m in s2c),
                   f"{len(s2c)} server-initiated DMA_READ/DMA_WRITE, each answered by QEMU")


def stop_server(srv, socks, checks):
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = srv.wait()
        checks.add("server-exit", False, "did not exit within 10 s of SIGTERM (killed)")
        return
    left = [os.path.basename(p) for p in socks if os.path.exists(p)]
    checks.add("server-exit", rc == 0 and not left,
               f"SIGTERM: exit status {rc}, "
               + (f"LEFT BEHIND {' '.join(left)}" if left else
                  f"removed {' '.join(os.path.basename(p) for p in socks)}"))


def qemu_command(args, kernel, initrd):
    check = {"none": "lspci", "qemu-edu": "edu-qemu"}.get(args.device, args.device)
    q = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-m", "512",
         "-nographic", "-no-reboot", "-nic", "none", "-vga", "none",
         "-kernel", "/sock/" + os.path.basename(kernel),
         "-initrd", "/sock/" + os.path.basename(initrd),
         "-append", f"console=ttyS0 panic=-1 {args.append} uvfio.check={check}"]
    if args.memfd:
        q += ["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
              "-machine", "q35,memory-backend=mem"]
    if args.device in ("edu", "gpio"):
        q += ["-device", '{"driver":"vfio-user-pci","socket":'
                         '{"type":"unix","path":"/sock/dev.sock"}}']
    elif args.device == "qemu-edu":
        q += ["-device", "edu,dma_mask=0xffffffff"]
    return q


def run_guest(args, chroot, tmp, kernel, initrd, checks):
    """Runs QEMU in a private mount namespace, chrooted; returns (done, console)."""
    os.makedirs(os.path.join(chroot, "sock"), exist_ok=True)
    script = ('mount --bind "$1" "$2/sock" && mount -t proc proc "$2/proc" && '
              'c=$2 && shift 2 && exec chroot "$c" "$@"')
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
           tmp, chroot] + qemu_command(args, kernel, initrd)
    log("qemu: " + " ".join(qemu_command(args, kernel, initrd)))
    q = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    console, buf, done, rounds = [], b"", False, 0
    deadline = time.monotonic() + args.timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                checks.add("timeout", False, f"guest did not finish in {args.timeout} s")
                break
            r, _, _ = select.select([q.stdout], [], [], left)
            if not r:
                continue
            data = os.read(q.stdout.fileno(), 65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("latin-1").replace("\r", "")
                console.append(line)
                done |= guest_line(args, tmp, line, q, checks)
        if buf:
            console.append(buf.decode("latin-1"))
        if q.poll() is None:
            q.wait(timeout=10 if done else 0.1)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if q.poll() is None:
            os.killpg(q.pid, signal.SIGKILL)
            q.wait()
    return done, console


def guest_line(args, tmp, line, q, checks):
    """Acts on one console line; returns True on GUEST-DONE."""
    # BIOS output carries escape codes: find markers anywhere in the line.
    if "GUEST-START" in line:
        f = line.split("GUEST-START", 1)[1].split()
        checks.add("boot", True, f"kernel {f[0]} ran /init at guest uptime {f[-1]} s")
    elif "CHECK " in line:
        f = line[line.index("CHECK "):].split(" ", 3) + ["", ""]
        checks.add(f[1], f[2] == "PASS", f[3])
    elif "GPIO-OUTPUTS-SET" in line:
        gpio_round(args, tmp, line, q, checks)
    return "GUEST-DONE" in line


def gpio_round(args, tmp, line, q, checks):
    """The guest drove its outputs: check them from the host, then set inputs."""
    n = gpio_round.count
    gpio_round.count += 1
    want = int(line.split("GPIO-OUTPUTS-SET", 1)[1].split()[0], 16)
    ctl = os.path.join(tmp, "ctl.sock")
    try:
        got = control(ctl, "outputs")
        ok = int(got.split()[-1], 16) == want
        checks.add("gpio-outputs-host", ok,
                   f"control socket 'outputs' -> {got!r}, guest drove 0x{want:04x}")
        pattern = GPIO_INPUTS[n % len(GPIO_INPUTS)]
        reply = control(ctl, f"inputs 0x{pattern:04x}")
        checks.add("gpio-inputs-host", reply == "ok",
                   f"control socket 'inputs 0x{pattern:04x}' -> {reply!r}")
    except (OSError, ValueError, IndexError) as e:
        checks.add("gpio-outputs-host", False, f"control socket {ctl}: {e}")
        pattern = 0
    try:
        q.stdin.write(f"INPUTS 0x{pattern:04x}\n".encode())
        q.stdin.flush()
    except OSError as e:
        checks.add("gpio-inputs-host", False, f"cannot write to the guest console: {e}")


gpio_round.count = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", required=True, choices=["edu", "gpio", "none", "qemu-edu"])
    ap.add_argument("--memfd", action="store_true",
                    help="guest RAM in a shared memfd: the server gets fds with DMA_MAP")
    ap.add_argument("--uvfio", help="path of the uvfio binary")
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--console", action="store_true", help="print the whole guest console")
    ap.add_argument("--append", default="quiet", help="extra kernel command line")
    ap.add_argument("--trace", action="store_true",
                    help="put `uvfio trace` between QEMU and the server, check its output")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("SKIP: the guest tests need root (chroot, mount namespaces)")
        return SKIP

    t0 = time.monotonic()
    r = subprocess.run([os.path.join(HERE, "sid-chroot.sh")], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return r.returncode
    chroot = r.stdout.strip()
    files = []
    for script in ("guest-kernel.sh", "mkinitramfs.sh"):
        r = subprocess.run([os.path.join(HERE, script), chroot],
                           stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            log(f"{script} failed")
            return 1
        files.append(r.stdout.strip())
    kernel, initrd = files
    qver = subprocess.run(["chroot", chroot, "qemu-system-x86_64", "--version"],
                          stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    log(f"{qver}; chroot {chroot}; kernel {kernel}; initramfs {initrd} "
        f"(ready in {time.monotonic() - t0:.1f} s)")
    dma = "fd-backed DMA (memfd guest RAM)" if args.memfd else "message-based DMA"
    log(f"device: {args.device}" + (f", {dma}" if args.device == "edu" else ""))

    tmp = tempfile.mkdtemp(prefix="uvfio-guest-")
    srv = tr = None
    checks = Checks()
    try:
        for f in (kernel, initrd):  # QEMU sees them in /sock
            try:
                os.link(f, os.path.join(tmp, os.path.basename(f)))
            except OSError:
                shutil.copy(f, tmp)
        if args.device in ("edu", "gpio"):
            srv, socks = start_server(args, tmp)
            if args.trace:
                tr = start_trace(args, tmp, socks[0])
        checks = Checks()
        done, console = run_guest(args, chroot, tmp, kernel, initrd, checks)
        if not done:
            checks.add("guest-done", False, "no GUEST-DONE on the console")
        if tr:
            check_trace(args, tr, tmp, checks)
        if srv:
            stop_server(srv, socks, checks)
            if checks.failed():
                log("---- server log (last 40 lines) ----")
                with open(os.path.join(tmp, "server.log"), errors="replace") as f:
                    for line in f.read().splitlines()[-40:]:
                        log("  | " + line)
    finally:
        if tr and tr.poll() is None:
            tr.kill()
            tr.wait()
        if srv and srv.poll() is None:
            srv.kill()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    total = time.monotonic() - checks.t0
    bad = checks.failed()
    if bad or args.console:
        log("---- guest console ----")
        for line in console[-60 if not args.console else 0:]:
            log("  | " + line)
    log(f"{len(checks.items) - len(bad)} checks passed, {len(bad)} failed; "
        f"guest run {total:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
