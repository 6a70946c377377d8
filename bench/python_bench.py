#!/usr/bin/env python3
"""Python writers side by side: tfevents.SummaryWriter through tfeventsd
and in-process (libtfevents), tensorboardX's SummaryWriter and
torch.utils.tensorboard's, on scalars, texts, 10k-value histograms and
64x64x3 images. Not a test: it prints figures.

For each writer and workload: items/s from the first call until the data
is in the files (flush() returned), the CPU of the calling thread per item
(time.thread_time), the CPU of the whole client process per item (its
sender/writer threads included) and, through the daemon, the daemon's CPU
per item. Medians of --runs runs (default 3).

Usage (from the source root, after `ninja -C build`):
  python3 bench/python_bench.py [--build build] [--runs 3] [--only NAME] [--scale 1]
Peers are used when they import (PYTHONPATH may point at a local
tensorboardX checkout); a missing peer is reported and skipped.
numpy is needed (the peers need it too)."""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "client", "python"))

import numpy as np  # noqa: E402

import tfevents  # noqa: E402


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Python %s, numpy %s" % (model, os.cpu_count(),
                                                  platform.python_version(), np.__version__)


def proc_cpu(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


# ---- workloads: (name, items for our writer, items for peers, call) -------------

RNG = np.random.default_rng(1)
HIST = RNG.standard_normal(10000)
IMAGE = RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)


def w_scalar(w, i):
    w.add_scalar("loss", 0.5 + i * 1e-6, i)


def w_text(w, i):
    w.add_text("note", "step %d: **ok**" % i, i)


def w_hist(w, i):
    w.add_histogram("weights", HIST, i)


def w_image(w, i):
    w.add_image("sample", IMAGE, i, dataformats="HWC")


WORKLOADS = [("scalars", 200000, 20000, w_scalar), ("texts", 50000, 10000, w_text),
             ("histograms 10k", 3000, 600, w_hist), ("images 64x64x3", 3000, 600, w_image)]


# ---- writers -------------------------------------------------------------------

class Daemon:
    def __init__(self, build, tmp):
        self.sock = os.path.join(tmp, "d.sock")
        self.root = os.path.join(tmp, "logs")
        exe = os.path.join(build, "daemon", "tfeventsd")
        self.p = subprocess.Popen([exe, "--socket", self.sock, "--root", self.root],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "listening" not in self.p.stdout.readline():
            raise SystemExit("tfeventsd did not start")

    def stop(self):
        self.p.terminate()
        self.p.wait()


def make_writers(build, tmp, daemon):
    """name -> (factory(logdir) -> writer, daemon pid or None, note)."""
    out = {}
    dc = tfevents.Client(mode="daemon", socket_path=daemon.sock)
    out["tfevents (daemon)"] = (lambda d: tfevents.SummaryWriter(
        os.path.join(daemon.root, d), client=dc), daemon.p.pid, "")
    lib = os.path.join(build, "client", "libtfevents.so")
    if os.path.exists(lib):
        os.environ["TFEVENTS_LIBRARY"] = lib
        ec = tfevents.Client(mode="embedded")
        out["tfevents (embedded)"] = (lambda d: tfevents.SummaryWriter(
            os.path.join(tmp, "emb", d), client=ec), None, "")
    try:
        import tensorboardX
        import tensorboardX.crc32c as tc
        note = "native crc32c" if tc._crc32c_native is not None else "pure-Python CRC"
        out["tensorboardX"] = (lambda d: tensorboardX.SummaryWriter(
            os.path.join(tmp, "tbx", d)), None, note)
    except ImportError as e:
        print("# tensorboardX skipped: %s" % e)
    try:
        from torch.utils.tensorboard import SummaryWriter as TorchWriter
        out["torch.utils.tensorboard"] = (lambda d: TorchWriter(os.path.join(tmp, "torch", d)),
                                          None, "")
    except Exception as e:  # ImportError, or tensorboard missing inside torch
        print("# torch.utils.tensorboard skipped: %s: %s" % (type(e).__name__, e))
    return out


def one_run(factory, pid, call, n, tag):
    w = factory(tag)
    call(w, 0)          # connection, files, first metadata: not timed
    w.flush()
    d0 = proc_cpu(pid) if pid else 0.0
    c0, p0, t0 = time.thread_time(), time.process_time(), time.perf_counter()
    for i in range(1, n + 1):
        call(w, i)
    c1 = time.thread_time()
    w.flush()
    t1, p1 = time.perf_counter(), time.process_time()
    d1 = proc_cpu(pid) if pid else 0.0
    w.close()
    return {"rate": n / (t1 - t0), "caller_us": (c1 - c0) / n * 1e6,
            "process_us": (p1 - p0) / n * 1e6, "daemon_us": (d1 - d0) / n * 1e6}


def placement():
    """Where PNG encoding and histogram bucketing cost least: their price in
    this Python process against the price of packing the raw data."""
    import zlib
    n = 300
    t = time.perf_counter()
    for _ in range(n):
        raw = b"".join(b"\0" + IMAGE[y].tobytes() for y in range(64))
        zlib.compress(raw, 6)
    png_us = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        IMAGE.tobytes()
    pix_us = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        lo, hi = HIST.min(), HIST.max()
        np.histogram(HIST, bins=30, range=(lo, hi))
    np_hist_us = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        HIST.astype("<f8").tobytes()
    pack_us = (time.perf_counter() - t) / n * 1e6
    lst = HIST.tolist()
    t = time.perf_counter()
    for _ in range(20):
        lo, hi = min(lst), max(lst)
        width = (hi - lo) / 30
        counts = [0] * 30
        for x in lst:
            k = int((x - lo) / width)
            counts[k if k < 30 else 29] += 1
    py_hist_us = (time.perf_counter() - t) / 20 * 1e6
    print("\n## where to encode (client CPU per item, this process)")
    print("64x64x3 image: PNG with zlib in Python %.0f us (filter 0 only) vs raw pixels %.1f us"
          % (png_us, pix_us))
    print("10k histogram: numpy bucketing %.0f us, pure-Python bucketing %.0f us vs packed "
          "doubles %.1f us" % (np_hist_us, py_hist_us, pack_us))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    print("# machine: %s" % machine())
    tmp = tempfile.mkdtemp(prefix="tfev-pybench.")
    daemon = Daemon(a.build, tmp)
    try:
        writers = make_writers(a.build, tmp, daemon)
        print("# runs: %d (medians); writers: %s" % (a.runs, ", ".join(
            "%s%s" % (k, " [%s]" % v[2] if v[2] else "") for k, v in writers.items())))
        print("| workload | writer | items | items/s | caller CPU us/item | process CPU "
              "us/item | daemon CPU us/item |")
        print("|---|---|---|---|---|---|---|")
        rates = {}
        for wname, n_ours, n_peer, call in WORKLOADS:
            if a.only and a.only not in wname:
                continue
            for name, (factory, pid, _) in writers.items():
                n = int((n_ours if name.startswith("tfevents") else n_peer) * a.scale)
                try:
                    res = [one_run(factory, pid, call, n, "%s-%d" % (wname.split()[0], r))
                           for r in range(a.runs)]
                except Exception as e:  # a peer that cannot do this workload
                    print("| %s | %s | - | fails: %s: %s | | | |" % (
                        wname, name, type(e).__name__, str(e).splitlines()[0][:80]))
                    continue
                med = {k: statistics.median(r[k] for r in res) for k in res[0]}
                rates[(wname, name)] = med["rate"]
                print("| %s | %s | %d | %.0f | %.2f | %.2f | %s |" % (
                    wname, name, n, med["rate"], med["caller_us"], med["process_us"],
                    "%.2f" % med["daemon_us"] if pid else "-"))
                sys.stdout.flush()
        print("\n## items/s relative to tensorboardX")
        for (wname, name), r in rates.items():
            peer = rates.get((wname, "tensorboardX"))
            if peer and name != "tensorboardX":
                print("%s, %s: %.1fx" % (wname, name, r / peer))
        placement()
    finally:
        daemon.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
