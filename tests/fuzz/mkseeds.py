#!/usr/bin/env python3
# Writes the seed corpora of the wire and config fuzz targets: small, real
# vfio-user messages in the record format of fuzz_stream.h. (mig_load's seeds
# are real device streams: UVFIO_FUZZ_MKSEEDS=DIR build-fuzz/tests/fuzz/fuzz_mig_load.)
#   tests/fuzz/mkseeds.py [OUTDIR]   (default: tests/fuzz/corpus)
import json, os, struct, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')

CMD = dict(VERSION=1, DMA_MAP=2, DMA_UNMAP=3, GET_INFO=4, REGION_INFO=5, IO_FDS=6,
           IRQ_INFO=7, SET_IRQS=8, REGION_READ=9, REGION_WRITE=10, DMA_READ=11,
           DMA_WRITE=12, RESET=13, DIRTY_PAGES=14, WRITE_MULTI=15, FEATURE=16,
           MIG_READ=17, MIG_WRITE=18)
F_REPLY, F_NO_REPLY = 1, 0x10
IRQ_NONE, IRQ_BOOL, IRQ_EVENTFD, IRQ_MASK, IRQ_UNMASK, IRQ_TRIGGER = 1, 2, 4, 8, 16, 32
FEAT_GET, FEAT_SET, FEAT_PROBE = 1 << 17, 1 << 16, 1 << 18
MIG_STATE, MIG_MIGRATION = 2, 1
CAPS = {"capabilities": {"max_msg_fds": 16, "max_data_xfer_size": 1048576,
                         "pgsizes": 4096, "max_dma_maps": 65535, "write_multiple": True}}


def msg(mid, cmd, payload=b'', flags=0, err=0):
    return struct.pack('<HHIII', mid, CMD[cmd], 16 + len(payload), flags, err) + payload


def rec(m, nfds=0, memfd=False):
    return bytes([nfds | (4 if memfd else 0)]) + struct.pack('<H', len(m)) + m


def version(mid=0, reply=False):
    return msg(mid, 'VERSION', struct.pack('<HH', 0, 2) + json.dumps(CAPS).encode() + b'\0',
               F_REPLY if reply else 0)


def rw(region, off, data=b'', count=None):
    return struct.pack('<QII', off, region, len(data) if count is None else count) + data


def dma_map(addr, size, flags=3, off=0):
    return struct.pack('<IIQQQ', 32, flags, off, addr, size)


def unmap(addr, size, flags=0):
    return struct.pack('<IIQQ', 24, flags, addr, size)


def irqs(flags, index, start, count, data=b''):
    return struct.pack('<IIIII', 20 + len(data), flags, index, start, count) + data


def feature(flags, data=b''):
    return struct.pack('<II', 8 + len(data), flags) + data


def reg(off, v):  # testdev register write (u64)
    return rw(0, off, struct.pack('<Q', v))


def write(target, name, records):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b''.join(records))


V = rec(version())
# ---- server: a client's requests, one file per command (after VERSION) ----
S = 'server'
write(S, 'version', [V])
write(S, 'version-nojson', [rec(msg(0, 'VERSION', struct.pack('<HH', 0, 0)))])
write(S, 'get_info', [V, rec(msg(1, 'GET_INFO', struct.pack('<IIII', 16, 0, 0, 0)))])
write(S, 'region_info', [V] + [rec(msg(1 + i, 'REGION_INFO', struct.pack('<IIIIQQ', 256, 0, i, 0, 0, 0)))
                              for i in range(3)])
write(S, 'io_fds', [V, rec(msg(1, 'IO_FDS', struct.pack('<IIII', 256, 0, 1, 0)))])
# region 0's doorbells: the short reply, the full one (eventfds made), again (the same ones)
write(S, 'io_fds_doorbells', [V] + [rec(msg(1 + i, 'IO_FDS', struct.pack('<IIII', a, 0, 0, 0)))
                                   for i, a in enumerate((16, 4096, 4096))])
write(S, 'irq_info', [V, rec(msg(1, 'IRQ_INFO', struct.pack('<IIII', 16, 0, 0, 0)))])
write(S, 'set_irqs', [V,
      rec(msg(1, 'SET_IRQS', irqs(IRQ_EVENTFD | IRQ_TRIGGER, 0, 0, 2)), nfds=2),
      rec(msg(2, 'SET_IRQS', irqs(IRQ_BOOL | IRQ_TRIGGER, 0, 0, 2, b'\1\0'))),
      rec(msg(3, 'SET_IRQS', irqs(IRQ_NONE | IRQ_MASK, 0, 1, 1))),
      rec(msg(4, 'REGION_WRITE', reg(0x10, 1))),
      rec(msg(5, 'SET_IRQS', irqs(IRQ_NONE | IRQ_TRIGGER, 0, 0, 0)))])
write(S, 'region_rw', [V, rec(msg(1, 'REGION_READ', rw(0, 0, count=8))),
      rec(msg(2, 'REGION_WRITE', reg(0x08, 0x1122334455667788))),
      rec(msg(3, 'REGION_READ', rw(1, 4096, count=64))),
      rec(msg(4, 'REGION_WRITE', rw(2, 0, b'x' * 32), F_NO_REPLY))])
write(S, 'write_multi', [V, rec(msg(1, 'WRITE_MULTI', struct.pack('<Q', 2) +
      struct.pack('<QII8s', 0x40, 0, 8, b'abcdefgh') + struct.pack('<QII8s', 0x48, 0, 4, b'wxyz\0\0\0\0')))])
write(S, 'reset', [V, rec(msg(1, 'RESET'))])
write(S, 'dirty_pages', [V, rec(msg(1, 'DIRTY_PAGES', b'\0' * 8))])
write(S, 'feature', [V, rec(msg(1, 'FEATURE', feature(FEAT_GET | 0x100, b'\0' * 8))),
      rec(msg(2, 'FEATURE', feature(FEAT_SET | 0x100, struct.pack('<Q', 7)))),
      rec(msg(3, 'FEATURE', feature(FEAT_PROBE | FEAT_GET | MIG_MIGRATION))),
      rec(msg(4, 'FEATURE', feature(FEAT_GET | MIG_MIGRATION, b'\0' * 8)))])
# DMA: an fd window, a message-based window, a device copy between them
# (answers to the server's DMA_READ/DMA_WRITE follow the command), unmaps.
write(S, 'dma', [V,
      rec(msg(1, 'DMA_MAP', dma_map(0x100000, 16384)), nfds=1, memfd=True),
      rec(msg(2, 'DMA_MAP', dma_map(0x200000, 4096))),
      rec(msg(3, 'REGION_WRITE', reg(0x18, 0x100000))),
      rec(msg(4, 'REGION_WRITE', reg(0x20, 0x200000))),
      rec(msg(5, 'REGION_WRITE', reg(0x28, 64))),
      rec(msg(6, 'REGION_WRITE', reg(0x30, 1))),
      rec(msg(0, 'DMA_READ', struct.pack('<QQ', 0x200000, 0), F_REPLY)),
      rec(msg(1, 'DMA_WRITE', struct.pack('<QQ', 0x200000, 64), F_REPLY)),
      rec(msg(7, 'REGION_READ', rw(0, 0x38, count=8))),
      rec(msg(8, 'DMA_UNMAP', unmap(0x100000, 16384))),
      rec(msg(9, 'DMA_UNMAP', unmap(0, 0, 2)))])
write(S, 'dma_read', [V,
      rec(msg(1, 'DMA_MAP', dma_map(0x200000, 4096))),
      rec(msg(2, 'REGION_WRITE', reg(0x18, 0x200000))),
      rec(msg(3, 'REGION_WRITE', reg(0x20, 0x200800))),
      rec(msg(4, 'REGION_WRITE', reg(0x28, 16))),
      rec(msg(5, 'REGION_WRITE', reg(0x30, 1))),
      rec(msg(0, 'DMA_READ', struct.pack('<QQ', 0x200000, 16) + b'y' * 16, F_REPLY)),
      rec(msg(1, 'DMA_WRITE', struct.pack('<QQ', 0x200800, 16), F_REPLY))])
write(S, 'dirty_log', [V,
      rec(msg(1, 'DMA_MAP', dma_map(0x100000, 16384)), nfds=1, memfd=True),
      rec(msg(2, 'FEATURE', feature(FEAT_SET | 6, struct.pack('<QII', 4096, 1, 0) +
                                    struct.pack('<QQ', 0x100000, 16384)))),
      rec(msg(3, 'DMA_UNMAP', unmap(0x100000, 16384, 1) + struct.pack('<QQ', 4096, 8)))])
write(S, 'migration', [V,
      rec(msg(1, 'FEATURE', feature(FEAT_SET | MIG_STATE, struct.pack('<Ii', 3, -1)))),
      rec(msg(2, 'MIG_READ', struct.pack('<II', 8, 4096))),
      rec(msg(3, 'FEATURE', feature(FEAT_SET | MIG_STATE, struct.pack('<Ii', 1, -1)))),
      rec(msg(4, 'FEATURE', feature(FEAT_SET | MIG_STATE, struct.pack('<Ii', 4, -1)))),
      rec(msg(5, 'MIG_WRITE', struct.pack('<II', 24, 16) + b'G' * 16)),
      rec(msg(6, 'FEATURE', feature(FEAT_SET | MIG_STATE, struct.pack('<Ii', 2, -1)))),
      rec(msg(7, 'FEATURE', feature(FEAT_GET | MIG_STATE, b'\0' * 8)))])
write(S, 'bad', [V, rec(msg(1, 'GET_INFO', b'\0' * 4), nfds=3),
      rec(msg(2, 'REGION_READ', rw(0, 0xfffffffffffffff8, count=16))),
      rec(struct.pack('<HHIII', 3, 99, 16, 0, 0)),
      rec(struct.pack('<HHIII', 4, 4, 8, 0, 0))])

# ---- client: a server's replies (msg_id 0, 1, ...) and requests ----------
C = 'client'
R = F_REPLY
info = rec(msg(1, 'GET_INFO', struct.pack('<IIII', 16, 1, 3, 1), R))
ri0 = rec(msg(2, 'REGION_INFO', struct.pack('<IIIIQQ', 32, 3, 0, 0, 256, 0), R))
ri1 = rec(msg(3, 'REGION_INFO', struct.pack('<IIIIQQ', 32, 3, 1, 0, 8192, 1 << 40), R))
irq = rec(msg(4, 'IRQ_INFO', struct.pack('<IIII', 16, 1, 0, 4), R))
rd = rec(msg(5, 'REGION_READ', rw(0, 0, b'\x01\0\0\0\0\0\0\0'), R))
wr = rec(msg(6, 'REGION_WRITE', rw(0, 8, count=8), R))
maps = [rec(msg(7, 'DMA_MAP', b'', R)), rec(msg(8, 'DMA_MAP', b'', R))]
seti = rec(msg(9, 'SET_IRQS', b'', R))
reqs = [rec(msg(100, 'DMA_READ', struct.pack('<QQ', 0x10000, 16))),
        rec(msg(101, 'DMA_WRITE', struct.pack('<QQ', 0x10010, 8) + b'ABCDEFGH')),
        rec(msg(102, 'DMA_WRITE', struct.pack('<QQ', 0x40000, 4) + b'nope')),
        rec(msg(103, 'DMA_READ', struct.pack('<QQ', 0x40ff8, 16))),
        rec(msg(104, 'DMA_READ', struct.pack('<QI', 0x10000, 0))),
        rec(msg(105, 'DMA_WRITE', struct.pack('<QQ', 0x13ffc, 4) + b'edge', F_NO_REPLY))]
feat = rec(msg(10, 'FEATURE', feature(FEAT_GET | 0x100, struct.pack('<Q', 42)), R))
migr = rec(msg(11, 'MIG_READ', struct.pack('<II', 16, 8) + b'M' * 8, R))
migw = rec(msg(12, 'MIG_WRITE', b'', R))
rst = rec(msg(13, 'RESET', b'', R))
um = [rec(msg(14, 'DMA_UNMAP', unmap(0x10000, 16384), R)), rec(msg(15, 'DMA_UNMAP', unmap(0, 0, 2), R))]
full = [rec(version(0, True)), info, ri0, ri1, irq, rd, wr] + maps + [seti] + reqs + \
       [feat, migr, migw, rst] + um
write(C, 'session', full)
write(C, 'version-only', [rec(version(0, True))])
write(C, 'version-nojson', [rec(msg(0, 'VERSION', struct.pack('<HH', 0, 0), R))])
write(C, 'error-replies', [rec(version(0, True)), rec(msg(1, 'GET_INFO', b'', R | 0x20, 5))])
write(C, 'region-caps', [rec(version(0, True)), info,
      rec(msg(2, 'REGION_INFO', struct.pack('<IIIIQQ', 80, 0xf, 0, 32, 8192, 0) +
              struct.pack('<HHIII', 1, 1, 0, 2, 0) + struct.pack('<QQQQ', 0, 4096, 4096, 4096), R), nfds=1, memfd=True)])

# ---- caps_json ------------------------------------------------------------
J = 'caps_json'
write(J, 'qemu', [json.dumps({"capabilities": {"max_msg_fds": 16, "max_data_xfer_size": 1048576,
       "pgsizes": 4096, "max_dma_maps": 65535, "write_multiple": True,
       "migration": {"pgsize": 4096, "max_bitmap_size": 1048576}}}).encode()])
write(J, 'twin', [b'{"capabilities":{"twin_socket":{"supported":true,"fd_index":0},"x":[1,2.5e3,"s\\u00e9",null,false]}}'])
write(J, 'empty', [b'{}'])
write(J, 'version-req', [struct.pack('<HH', 0, 2) + json.dumps(CAPS).encode() + b'\0'])

# ---- pci_config: byte 0 = device (0 edu, 1 every capability), 8-byte ops ----
P = 'pci_config'


def op(kind, off, v=0):
    return struct.pack('<BBHI', kind, 0, off, v)


W4, W2, W1, R4 = 4 | 2, 4 | 1, 4, 2
for dev in (0, 1):
    ops = [op(R4, 0), op(W2, 4, 0x7), op(W4, 0x10, 0xffffffff), op(R4, 0x10), op(W4, 0x10, 0),
           op(W4, 0x30, 0xfffff800), op(R4, 0x30), op(W1, 0x3c, 0x0b), op(R4, 0x34)]
    # walk the capability list: MSI, MSI-X, PM, PCIe live from 0x40
    for o in range(0x40, 0x100, 4):
        ops += [op(R4, o), op(W4, o, 0xffffffff)]
    ops += [op(W2, 6, 0xffff), op(0xfe, 0, 3), op(0xff, 0)]
    ops += [op(4 | 2 | 8 | (0 << 4), 0, 0x12345678), op(2 | 8 | (0 << 4), 2048)]
    write(P, 'walk%d' % dev, [bytes([dev])] + ops)
    write(P, 'ext%d' % dev, [bytes([dev]), op(R4, 0x100), op(W4, 0x100, 0xffffffff),
                            op(W4, 0xffc, 1), op(R4, 0x1000)])
