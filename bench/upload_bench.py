#!/usr/bin/env python3
"""Upload throughput of tfeventsd --upload and the daemon's CPU per
uploaded MB, against s3rver on 127.0.0.1 (installed with npm into the build
directory, as the tests do).

The root is filled beforehand with FILES closed event files of SIZE MB
each (well-formed records of random bytes), so that only the upload is
timed: the daemon queues them at start (nothing is in its journal) and the
figure is the wall time from its start until `stats` shows an empty queue,
and the daemon's utime+stime (/proc/PID/stat, every thread) over the same
interval. The server (node.js writing to disk) is part of what is measured;
its own CPU is reported apart. Then `tfevents collect s3://` reads the
objects back (lib/s3mirror downloads them): its wall time and CPU.

Usage: bench/upload_bench.py [-b BUILD] [-n FILES] [-s SIZE_MB] [-r RUNS]
Not part of meson test (timing goals never are)."""

import argparse
import importlib.util
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


def load_test_module(build):
    os.environ.setdefault("TFEVENTS_BUILD_ROOT", build)
    os.environ.setdefault("TFEVENTSD", os.path.join(build, "daemon", "tfeventsd"))
    spec = importlib.util.spec_from_file_location(
        "tupload", os.path.join(here, "..", "tests", "test-upload.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def masked_crc(data):
    # CRC-32C, table-driven (only to make valid files, not timed).
    crc = 0xFFFFFFFF
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    TABLE.append(c)


def make_file(path, size):
    """Records framed like TensorBoard's of one 64 KiB payload repeated."""
    payload = os.urandom(65536)
    head = struct.pack("<Q", len(payload))
    rec = head + struct.pack("<I", masked_crc(head)) + payload + struct.pack("<I", 0)
    with open(path, "wb") as f:
        for _ in range(max(1, size // len(rec))):
            f.write(rec)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(m, tmp, nfiles, size_mb, template):
    root = os.path.join(tmp, "bench")   # Node(..., "bench") uses tmp/bench
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "exp"))
    for i in range(nfiles):
        os.link(template, os.path.join(root, "exp", "events.out.tfevents.%010d.bench.1.%d"
                                       % (1700000000 + i, i)))
    s3 = m.S3.__new__(m.S3)
    s3.exe = m.s3rver_bin()
    s3.data = os.path.join(tmp, "s3data")
    shutil.rmtree(s3.data, ignore_errors=True)
    os.makedirs(s3.data)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s3.port = s.getsockname()[1]
    s.close()
    s3.log = open(os.path.join(tmp, "s3rver.log"), "w")
    s3.start()
    s3.endpoint = "http://127.0.0.1:%d" % s3.port   # no proxy: s3rver checks signatures
    t0 = time.monotonic()
    n = m.Node(s3, tmp, "bench", "--upload", "s3://%s/b" % m.BUCKET)
    c0, s0 = cpu_seconds(n.p.pid), cpu_seconds(s3.srv.pid)
    st = n.wait_uploaded(600)
    wall = time.monotonic() - t0
    c1, s1 = cpu_seconds(n.p.pid), cpu_seconds(s3.srv.pid)
    n.stop()
    mb = st["upload_bytes"] / 1e6
    if st["upload_files"] != nfiles or st["upload_errors"]:
        raise SystemExit("upload failed: %s" % json.dumps(st))
    # Reading back: `tfevents collect s3://` lists and downloads every
    # object (lib/s3mirror) before reading; the records are not Events, so
    # reading stops at each file's first record and the download is what
    # is timed.
    env = dict(s3.env(), TMPDIR=tmp)
    r0 = os.times()
    t1 = time.monotonic()
    p = subprocess.run([m.CLI, "collect", "-n", "1", "s3://%s/b/exp" % m.BUCKET],
                       capture_output=True, text=True, env=env, timeout=600)
    rwall = time.monotonic() - t1
    r1 = os.times()
    s3.stop()
    if p.returncode not in (0, 1):
        raise SystemExit("collect s3:// failed: %s" % p.stderr[-500:])
    rcpu = (r1.children_user + r1.children_system) - (r0.children_user + r0.children_system)
    return (mb / wall, (c1 - c0) / mb * 1000, (s1 - s0) / mb * 1000, mb / rwall,
            rcpu / mb * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", "--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("-n", "--files", type=int, default=32)
    ap.add_argument("-s", "--size", type=int, default=8, help="MB per file")
    ap.add_argument("-r", "--runs", type=int, default=3)
    a = ap.parse_args()
    m = load_test_module(os.path.abspath(a.build))
    tmp = tempfile.mkdtemp(prefix="tfub.")
    try:
        template = os.path.join(tmp, "template")
        make_file(template, a.size << 20)
        res = [one_run(m, tmp, a.files, a.size, template) for _ in range(a.runs)]
    finally:
        m.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    res.sort()
    mid = res[len(res) // 2]
    print("upload of %d files of %d MB, %d runs (median by throughput):" %
          (a.files, a.size, a.runs))
    print("  throughput          %.1f MB/s" % mid[0])
    print("  daemon CPU per MB   %.2f ms" % mid[1])
    print("  s3rver CPU per MB   %.2f ms" % mid[2])
    print("read back with `tfevents collect s3://` (download into a local copy):")
    print("  throughput          %.1f MB/s" % mid[3])
    print("  CLI CPU per MB      %.2f ms" % mid[4])


if __name__ == "__main__":
    main()
