#!/usr/bin/env python3
# `uvfio trace` between a raw vfio-user client (this script) and testdev_server:
# a known sequence of messages, fds both ways and server-initiated DMA, must
# arrive unchanged and be decoded as expected (stable fields only); `uvfio info`
# gives the same answer through the proxy as without it; --filter; errors.
#   test_trace.py UVFIO_BINARY TESTDEV_SERVER_BINARY
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

uvfio, server_bin = sys.argv[1], sys.argv[2]
failed = 0


def check(what, ok):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed = 1


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.02)
    raise SystemExit("timed out waiting for " + what)


class Raw:
    """A vfio-user client at the byte level."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(5)
        self.next_id = 0

    def send(self, cmd, payload=b"", fds=(), msg_id=None, flags=0):
        if msg_id is None:
            msg_id = self.next_id
            self.next_id += 1
        hdr = struct.pack("<HHIII", msg_id, cmd, 16 + len(payload), flags, 0)
        socket.send_fds(self.s, [hdr + payload], list(fds))
        return msg_id

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def recv(self):
        msg, fds, _, _ = socket.recv_fds(self.s, 16, 16)
        msg += self.recv_exact(16 - len(msg))
        msg_id, cmd, size, flags, err = struct.unpack("<HHIII", msg)
        payload = self.recv_exact(size - 16)
        for fd in fds:
            os.close(fd)
        return msg_id, cmd, flags, err, payload, len(fds)

    def call(self, cmd, payload=b"", fds=(), mem=None):
        """Send a request and serve the server's DMA until its reply comes."""
        mid = self.send(cmd, payload, fds)
        while True:
            rid, rcmd, flags, err, p, _ = self.recv()
            if flags & 0xF == 1 and rid == mid:
                return flags, err, p
            addr, count = struct.unpack_from("<QQ", p)
            off = addr - 0x10000
            if rcmd == 11:  # DMA_READ: answer with the bytes
                self.send(11, struct.pack("<QQ", addr, count) + bytes(mem[off:off + count]),
                          msg_id=rid, flags=1)
            elif rcmd == 12:  # DMA_WRITE: take them
                mem[off:off + count] = p[16:16 + count]
                self.send(12, struct.pack("<QQ", addr, count), msg_id=rid, flags=1)


def region_write(reg, value):
    return struct.pack("<QII", reg, 0, 8) + struct.pack("<Q", value)


tmp = tempfile.mkdtemp(prefix="uvfio-trace-")
real, listen = tmp + "/real.sock", tmp + "/t.sock"
srv = subprocess.Popen([server_bin, real], stdout=subprocess.PIPE)
assert b"ready" in srv.stdout.readline()
tout = open(tmp + "/trace.json", "w")
terr = open(tmp + "/trace.err", "w")
tr = subprocess.Popen([uvfio, "trace", "--listen", "vfio-user:" + listen, "--connect", real,
                       "--json"], stdout=tout, stderr=terr)
wait_for(lambda: "listening" in open(tmp + "/trace.err").read(), "the proxy")

try:
    # ---- a known sequence -------------------------------------------------------------
    c = Raw(listen)
    mem = bytearray(0x1000)
    mem[0:16] = bytes(range(16))
    c.call(1, struct.pack("<HH", 0, 2) + b'{"capabilities":{"max_msg_fds":8}}\0')
    c.call(4, struct.pack("<IIII", 16, 0, 0, 0))                          # DEVICE_GET_INFO
    c.call(5, struct.pack("<IIIIQQ", 256, 0, 1, 0, 0, 0))                 # REGION_INFO 1
    memfd = os.memfd_create("trace-test")
    os.ftruncate(memfd, 0x1000)
    c.call(2, struct.pack("<IIQQQ", 32, 3, 0, 0x20000, 0x1000), [memfd])  # DMA_MAP, fd
    c.call(2, struct.pack("<IIQQQ", 32, 3, 0, 0x10000, 0x1000))           # DMA_MAP, no fd
    efd = os.eventfd(0)
    c.call(8, struct.pack("<IIIII", 20, 4 | 32, 0, 0, 1), [efd])         # SET_IRQS eventfd
    for reg, v in ((0x18, 0x10000), (0x20, 0x10800), (0x28, 16)):
        c.call(10, region_write(reg, v), mem=mem)
    c.call(10, region_write(0x30, 1), mem=mem)   # COPY: the server DMA_READs, DMA_WRITEs
    check("server-initiated DMA went through the proxy", mem[0x800:0x810] == bytes(range(16)))
    c.call(10, region_write(0x10, 0), mem=mem)   # raise vector 0
    check("eventfd passed through the proxy fires", os.read(efd, 8) != b"\0" * 8)
    flags, err, _ = c.call(99)
    check("unknown command: error reply ENOSYS through the proxy", flags & 0x20 and err == 38)
    flags, err, _ = c.call(16, struct.pack("<II", 8, 0x55 | (1 << 18) | (1 << 16)))
    check("unknown feature PROBE: ENOTTY", flags & 0x20 and err == 25)
    c.call(3, struct.pack("<IIQQ", 24, 0, 0x20000, 0x1000))              # DMA_UNMAP
    c.s.close()
    wait_for(lambda: "client closed" in open(tmp + "/trace.err").read(), "the session end")

    lines = [json.loads(line) for line in open(tmp + "/trace.json")]

    def pick(direction, cmd, reply, **fields):
        for m in lines:
            if (m["dir"], m["cmd"], m["reply"]) == (direction, cmd, reply) and \
                    all(m["fields"].get(k) == v for k, v in fields.items()):
                return m
        return None

    m = pick("c2s", "VERSION", False, major=0, minor=2)
    check("VERSION request decoded", m and m["msg_id"] == 0 and "max_msg_fds" in m["fields"]["caps"])
    m = pick("s2c", "VERSION", True)
    check("VERSION reply has a latency", m and m["latency_us"] >= 0 and m["msg_id"] == 0)
    m = pick("s2c", "DEVICE_GET_INFO", True, num_regions=3, num_irqs=1, flags="RESET")
    check("GET_INFO reply fields", m is not None)
    m = pick("s2c", "DEVICE_GET_REGION_INFO", True, index=1, size=0x2000, sparse_areas=1)
    check("REGION_INFO reply with its region fd", m and m["fds"] == 1
          and m["fields"]["flags"] == "READ|WRITE|MMAP|CAPS")
    m = pick("c2s", "DMA_MAP", False, iova=0x20000, size=0x1000, flags="READ|WRITE")
    check("DMA_MAP request with its fd", m and m["fds"] == 1 and m["fields"]["argsz"] == 32)
    m = pick("c2s", "DMA_MAP", False, iova=0x10000)
    check("DMA_MAP without fd", m and m["fds"] == 0)
    m = pick("c2s", "DEVICE_SET_IRQS", False, index=0, start=0, count=1,
             flags="DATA_EVENTFD|TRIGGER")
    check("SET_IRQS request with its eventfd", m and m["fds"] == 1)
    m = pick("s2c", "DMA_READ", False, iova=0x10000, count=16)
    check("server-initiated DMA_READ decoded", m is not None)
    m2 = m and pick("c2s", "DMA_READ", True, iova=0x10000, count=16)
    check("its reply matched by msg_id, with latency",
          m2 and m2["msg_id"] == m["msg_id"] and "latency_us" in m2)
    check("server-initiated DMA_WRITE decoded",
          pick("s2c", "DMA_WRITE", False, iova=0x10800, count=16) is not None)
    m = pick("c2s", "REGION_WRITE", False, region=0, offset=0x30, count=8)
    check("REGION_WRITE request fields", m is not None)
    m = [x for x in lines if x["cmd"] == "UNKNOWN" and x["reply"]]
    check("error reply: errno and its name",
          m and m[0]["error"] and m[0]["errno"] == 38 and m[0]["errno_name"] == "ENOSYS")
    m = pick("c2s", "DEVICE_FEATURE", False, feature=0x55, ops="GET|PROBE")
    check("DEVICE_FEATURE request: index and ops", m is not None)
    m = pick("c2s", "DMA_UNMAP", False, iova=0x20000, size=0x1000)
    check("DMA_UNMAP request", m is not None)
    reqs = [(x["dir"], x["msg_id"]) for x in lines if not x["reply"]]
    reps = [("c2s" if x["dir"] == "s2c" else "s2c", x["msg_id"]) for x in lines if x["reply"]]
    check("every request has exactly one reply", sorted(reqs) == sorted(reps))
    check("every reply has a latency", all("latency_us" in x for x in lines if x["reply"]))

    # ---- uvfio info: the same answer through the proxy ------------------------------
    direct = subprocess.run([uvfio, "info", real, "--json"], capture_output=True, text=True)
    proxied = subprocess.run([uvfio, "info", listen, "--json"], capture_output=True, text=True)
    check("uvfio info through the proxy: same JSON",
          direct.returncode == 0 and proxied.returncode == 0 and
          json.loads(direct.stdout) == json.loads(proxied.stdout))
    direct = subprocess.run([uvfio, "info", real], capture_output=True, text=True)
    proxied = subprocess.run([uvfio, "info", listen], capture_output=True, text=True)
    check("uvfio info through the proxy: same text",
          direct.stdout.replace(real, "X") == proxied.stdout.replace(listen, "X"))
finally:
    tr.terminate()
    rc_trace = tr.wait(5)
    check("trace exits 0 on SIGTERM", rc_trace == 0)
    check("trace removes its socket", not os.path.exists(listen))

# ---- --filter, text output ------------------------------------------------------------
tout = open(tmp + "/filtered.txt", "w")
tr = subprocess.Popen([uvfio, "trace", "--listen", listen, "--connect", real,
                       "--filter", "device_get_irq_info,VFIO_USER_VERSION"],
                      stdout=tout, stderr=subprocess.DEVNULL)
wait_for(lambda: os.path.exists(listen), "the proxy")
time.sleep(0.1)
subprocess.run([uvfio, "info", listen], capture_output=True)
tr.terminate()
tr.wait(5)
text = open(tmp + "/filtered.txt").read().splitlines()
cmds = sorted(set(line.split()[3] for line in text))
check("--filter: only the named commands", cmds == ["DEVICE_GET_IRQ_INFO", "VERSION"])
check("text: a reply line", any("S>C" in x and "reply" in x and "count=4" in x and
                                 "latency=" in x for x in text))

# ---- errors -------------------------------------------------------------------------------
r = subprocess.run([uvfio, "trace", "--listen", listen, "--connect", real, "--filter", "NOPE"],
                   capture_output=True, text=True)
check("--filter NOPE: exit 2 and names it", r.returncode == 2 and "'NOPE'" in r.stderr)
r = subprocess.run([uvfio, "trace", "--listen", listen], capture_output=True, text=True)
check("no --connect: exit 2", r.returncode == 2)
r = subprocess.run([uvfio, "trace", "--listen", "/nonexistent/dir/t.sock", "--connect", real],
                   capture_output=True, text=True)
check("listen in a missing dir: exit 1, names the path and the reason",
      r.returncode == 1 and "/nonexistent/dir/t.sock: no such file or directory" in r.stderr)
srv.terminate()
srv.wait(5)
for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
sys.exit(failed)
