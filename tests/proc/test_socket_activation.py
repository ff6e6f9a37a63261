#!/usr/bin/env python3
# systemd socket activation of `uvfio serve`: the socket is bound and listening
# before uvfio runs and arrives as fd 3 with LISTEN_FDS=1, LISTEN_PID=its pid.
#   test_socket_activation.py UVFIO_BINARY
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

uvfio = sys.argv[1]
failed = 0


def check(what, ok):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed = 1


def activated(args, fd, pid_env="$$", fds="1"):
    """Run uvfio with `fd` as fd 3, as systemd would (LISTEN_PID = its own pid)."""
    def as_fd3():
        os.dup2(fd, 3)
        os.set_inheritable(3, True)
    script = 'LISTEN_PID=%s LISTEN_FDS=%s exec "$0" "$@"' % (pid_env, fds)
    return subprocess.Popen(["sh", "-c", script, uvfio] + args, preexec_fn=as_fd3,
                            pass_fds=[3], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


tmp = tempfile.mkdtemp(prefix="uvfio-sd-")
path = tmp + "/edu.sock"
ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ls.bind(path)
ls.listen(4)

srv = activated(["serve", "edu"], ls.fileno())
try:
    out = None
    for _ in range(50):  # the socket listens already: connecting works at once
        r = subprocess.run([uvfio, "info", path, "--json"], capture_output=True, text=True)
        if r.returncode == 0:
            out = json.loads(r.stdout)
            break
        time.sleep(0.1)
    check("info over the passed socket: exit 0", out is not None)
    check("it is the edu device (PCI, 9 regions)", out and out["flags"] & 2 and
          len(out["regions"]) == 9)
    r = subprocess.run([uvfio, "info", path], capture_output=True, text=True)
    check("a second client after the first left", r.returncode == 0)
    check("still running", srv.poll() is None)
finally:
    srv.terminate()
    try:
        srv.wait(5)
    except subprocess.TimeoutExpired:
        srv.kill()
        srv.wait()
check("SIGTERM: exit 0", srv.returncode == 0)
check("the socket file is systemd's: left in place", os.path.exists(path))

# LISTEN_PID of another process: not for us, so --socket is required.
p = activated(["serve", "edu"], ls.fileno(), pid_env="1")
_, err = p.communicate(timeout=5)
check("LISTEN_PID not ours: ignored, --socket required (exit 2)",
      p.returncode == 2 and "--socket PATH is required" in err)
# fd 3 is not a listening socket.
with open(os.devnull) as f:
    p = activated(["serve", "edu"], f.fileno())
    _, err = p.communicate(timeout=5)
check("fd 3 not a socket: exit 1 and says so",
      p.returncode == 1 and "fd 3 is not a listening UNIX stream socket" in err)
p = activated(["serve", "edu"], ls.fileno(), fds="2")
_, err = p.communicate(timeout=5)
check("LISTEN_FDS=2: exit 1, wants one socket", p.returncode == 1 and "exactly one" in err)
ls.close()
os.unlink(path)
os.rmdir(tmp)
sys.exit(failed)
