#!/usr/bin/env python3
# `uvfio info` on PCI devices: config space decoded (IDs, names from a pci.ids,
# class, command/status, BARs, PM/MSI/MSI-X/PCIe), the VFIO view and the
# features found by PROBE, as JSON and as text.
#   test_info_pci.py UVFIO PCICAPS_SERVER TESTDEV_SERVER
import json
import os
import subprocess
import sys
import tempfile
import time

uvfio, pcicaps_bin, testdev_bin = sys.argv[1:4]
failed = 0
tmp = tempfile.mkdtemp(prefix="uvfio-infopci-")
procs = []


def check(what, ok):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed = 1


def start(argv, sock):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    for _ in range(100):
        if os.path.exists(sock):
            time.sleep(0.05)
            return
        time.sleep(0.05)
    raise SystemExit("no socket " + sock)


def info(sock, *extra, ids=None):
    env = dict(os.environ, UVFIO_PCI_IDS=ids or tmp + "/none.ids")
    r = subprocess.run([uvfio, "info", sock] + list(extra), capture_output=True, text=True,
                       env=env)
    if r.returncode:
        print(r.stderr)
    return r


ids = tmp + "/pci.ids"
with open(ids, "w") as f:
    f.write("# a pci.ids in the upstream format\n"
            "1234  Technical Corp.\n"
            "\t11e8  QEMU edu device\n"
            "\t\t1af4 1100  QEMU Virtual Machine\n"
            "494f  ACCES I/O Products, Inc.\n"
            "\t0dc8  PCI-IDIO-16\n"
            "C 00  Unclassified device\n"
            "\t00  Non-VGA unclassified device\n"
            "C 02  Network controller\n"
            "\t00  Ethernet controller\n"
            "C 11  Signal processing controller\n"
            "\t80  Signal processing controller\n")

edu, gpio, caps, tdev, cdx = (tmp + "/" + n + ".sock"
                              for n in ("edu", "gpio", "caps", "tdev", "cdx"))
try:
    start([uvfio, "serve", "edu", "--socket", edu], edu)
    start([uvfio, "serve", "gpio", "--socket", gpio], gpio)
    start([pcicaps_bin, caps], caps)
    start([testdev_bin, tdev], tdev)
    start([uvfio, "serve", "cdx-demo", "--socket", cdx], cdx)

    # ---- edu ----------------------------------------------------------------------
    r = info(edu, "--json")
    d = json.loads(r.stdout)
    p = d.get("pci", {})
    check("edu: exit 0, VFIO view kept (flags, 9 regions, 5 irqs)",
          r.returncode == 0 and d["flags"] == 3 and len(d["regions"]) == 9 and
          len(d["irqs"]) == 5)
    check("edu: IDs, revision, class, subsystem",
          (p["vendor_id"], p["device_id"], p["revision"], p["class"],
           p["subsystem_vendor_id"], p["subsystem_id"]) ==
          (0x1234, 0x11e8, 0x10, 0x00ff00, 0x1af4, 0x1100))
    check("edu: no pci.ids -> names null",
          p["vendor_name"] is None and p["device_name"] is None and p["class_name"] is None)
    check("edu: BAR0 32-bit memory of 1 MiB, no other BAR",
          p["bars"] == [{"index": 0, "type": "memory", "address": 0, "size": 1 << 20,
                         "64bit": False, "prefetchable": False}])
    check("edu: status has Cap, pin INTA", "Cap" in p["status_bits"] and p["interrupt_pin"] == 1)
    check("edu: one capability, MSI 1 vector 64-bit not maskable",
          [(c["name"], c["vectors"], c["64bit"], c["maskable"], c["enabled"])
           for c in p["capabilities"]] == [("MSI", 1, True, False, False)])
    f = {x["name"]: x for x in d["features"]}
    check("edu: migration (STOP_COPY) and DMA logging found by PROBE",
          f.get("MIGRATION", {}).get("migration_flag_names") == ["STOP_COPY"] and
          f.get("DMA_LOGGING_START", {}).get("set") and
          not f["DMA_LOGGING_START"]["get"] and f.get("DMA_LOGGING_REPORT", {}).get("get") and
          "BUS_MASTER" not in f)
    r = info(edu, "--json", ids=ids)
    p = json.loads(r.stdout)["pci"]
    check("edu: names from pci.ids",
          (p["vendor_name"], p["device_name"], p["subsystem_name"], p["class_name"]) ==
          ("Technical Corp.", "QEMU edu device", "QEMU Virtual Machine",
           "Unclassified device"))  # sub-class 0xff is not listed: the base class
    t = info(edu, ids=ids).stdout
    check("edu text: name line", "pci: 1234:11e8 (rev 10) Technical Corp. QEMU edu device" in t)
    check("edu text: MSI line", "Capabilities: [40] MSI: Enable- Count=1/1 Maskable- 64bit+" in t)
    check("edu text: BAR line",
          "Region 0: Memory at 0 (32-bit, non-prefetchable) [size=1048576]" in t)
    check("edu text: features line",
          "features (PROBE): MIGRATION [GET] flags 0x1 STOP_COPY, MIG_DEVICE_STATE [GET|SET], "
          "DMA_LOGGING_START [SET]" in t)

    # ---- gpio ---------------------------------------------------------------------
    p = json.loads(info(gpio, "--json", ids=ids).stdout)["pci"]
    check("gpio: ACCES IDs and names",
          (p["vendor_id"], p["device_id"], p["vendor_name"], p["device_name"]) ==
          (0x494f, 0x0dc8, "ACCES I/O Products, Inc.", "PCI-IDIO-16"))
    check("gpio: class 0x118000 named", p["class"] == 0x118000 and
          p["class_name"] == "Signal processing controller")
    check("gpio: BAR2 I/O of 256 bytes only",
          p["bars"] == [{"index": 2, "type": "io", "address": 0, "size": 256}])
    check("gpio: no capabilities", p["capabilities"] == [])

    # ---- every capability ---------------------------------------------------------
    r = info(caps, "--json")
    p = json.loads(r.stdout)["pci"]
    cap = {c["name"]: c for c in p["capabilities"]}
    check("caps: config space 4 KiB (PCIe)", p["config_size"] == 4096)
    check("caps: the list PM, MSI, MSI-X, Express in order",
          [c["name"] for c in p["capabilities"] if not c["extended"]] ==
          ["Power Management", "MSI", "MSI-X", "Express"])
    check("caps: PM in D0", cap["Power Management"]["state"] == "D0")
    m = cap["MSI"]
    check("caps: MSI 4 vectors, 64-bit, maskable",
          (m["vectors"], m["64bit"], m["maskable"]) == (4, True, True))
    x = cap["MSI-X"]
    check("caps: MSI-X 70 vectors, table BAR0+0x1000, PBA BAR0+0x1800",
          (x["table_size"], x["table_bar"], x["table_offset"], x["pba_bar"], x["pba_offset"])
          == (70, 0, 0x1000, 0, 0x1800))
    e = cap["Express"]
    check("caps: PCIe v2 endpoint with FLR", (e["version"], e["type"], e["flr"]) ==
          (2, "Endpoint", True))
    check("caps: BAR0 64-bit prefetchable 8 KiB, BAR2 I/O",
          [(b["index"], b["type"], b.get("64bit"), b.get("prefetchable"), b["size"])
           for b in p["bars"]] == [(0, "memory", True, True, 8192), (2, "io", None, None, 256)])
    check("caps: MSI-X and ERR irqs", json.loads(r.stdout)["irqs"][2]["count"] == 70)
    t = info(caps).stdout
    check("caps text: MSI-X lines", "MSI-X: Enable- Count=70 Masked-" in t and
          "Vector table: BAR=0 offset=00001000" in t and "PBA: BAR=0 offset=00001800" in t)
    check("caps text: Express line", "Express (v2) Endpoint:" in t and "FLReset+" in t)
    check("caps text: 64-bit BAR", "Region 0: Memory at 0 (64-bit, prefetchable) [size=8192]" in t)

    # ---- features by PROBE (testdev: migration) ------------------------------------
    d = json.loads(info(tdev, "--json").stdout)
    f = {x["name"]: x for x in d["features"]}
    check("testdev: not PCI -> no pci object", "pci" not in d)
    check("testdev: MIGRATION GET with STOP_COPY",
          f.get("MIGRATION", {}).get("get") and
          "STOP_COPY" in f["MIGRATION"]["migration_flag_names"])
    check("testdev: MIG_DEVICE_STATE GET and SET",
          f.get("MIG_DEVICE_STATE", {}).get("get") and f["MIG_DEVICE_STATE"]["set"])
    t = info(tdev).stdout
    check("testdev text: features line", "MIGRATION [GET] flags" in t and "STOP_COPY" in t)

    # ---- BUS_MASTER (cdx-demo: SET only, not PCI) ------------------------------------
    d = json.loads(info(cdx, "--json").stdout)
    check("cdx-demo: BUS_MASTER SET only, no pci object",
          {x["name"]: (x["get"], x["set"]) for x in d["features"]}.get("BUS_MASTER") ==
          (False, True) and "pci" not in d)
    check("cdx-demo text: BUS_MASTER [SET]", "BUS_MASTER [SET]" in info(cdx).stdout)
finally:
    for p in procs:
        p.terminate()
        p.wait(5)
for n in os.listdir(tmp):
    os.unlink(os.path.join(tmp, n))
os.rmdir(tmp)
sys.exit(failed)
