#!/usr/bin/env python3
"""R writers side by side: the tfeventsd R package (client/r) through the
daemon's TCP listener and in embedded mode (libtfevents of this build in
R's process), and the R tfevents package (mlverse) when it is installed, on scalars, texts, 10k-value histograms and 64x64x3 images.
Not a test: it prints items/s (first call until the data is in the
files), medians of --runs runs, one Rscript process per run.

Usage (from the source root, after `ninja -C build`):
  python3 bench/r_bench.py [--build build] [--runs 3] [--scale 1]
The peer is used when `library(tfevents)` loads (R_LIBS may point at a
local build of it, see docs/performance.md); otherwise it is skipped."""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

# Items per run: enough for about a second at the expected rate.
COUNTS = {"tfeventsd": {"scalars": 50000, "texts": 50000, "histograms": 2000, "images": 1000},
          "tfevents": {"scalars": 1000, "texts": 1000, "histograms": 300, "images": 300}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    if not shutil.which("Rscript"):
        print("Rscript not installed")
        return 1
    tmp = tempfile.mkdtemp(prefix="rbench.")
    lib = os.path.join(tmp, "rlib")
    os.mkdir(lib)
    src = os.path.join(tmp, "rsrc")   # R CMD INSTALL compiles src/ where it is
    shutil.copytree(os.path.join(SRC, "client", "r"), src,
                    ignore=shutil.ignore_patterns("*.o", "*.so"))
    subprocess.run(["R", "CMD", "INSTALL", "-l", lib, src], check=True, capture_output=True)
    root = os.path.join(tmp, "logs")
    os.mkdir(root)
    port = free_port()
    sock = os.path.join(tmp, "d.sock")
    daemon = subprocess.Popen([os.path.join(a.build, "daemon", "tfeventsd"), "--socket", sock,
                               "--root", root, "--tcp-port", str(port), "--log-level", "warn"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        daemon.stdout.readline()
        env = dict(os.environ, TFEVENTSD_TCP_PORT=str(port),
                   TFEVENTSD_TOKEN_FILE=sock + ".token", BENCH_LOGDIR=root,
                   R_LIBS=lib + (":" + os.environ["R_LIBS"] if os.environ.get("R_LIBS") else ""))
        peer = subprocess.run(["Rscript", "-e", "library(tfevents)"], env=env,
                              capture_output=True).returncode == 0
        library = os.path.abspath(os.path.join(a.build, "client", "libtfevents.so"))
        writers = ["tfeventsd", "tfeventsd-values", "tfeventsd-embedded"] + (
            ["tfevents"] if peer else [])
        if not peer:
            print("R tfevents package not installed: peer skipped")
        rates = {}
        for wl in ("scalars", "texts", "histograms", "images"):
            for w in writers:
                if w == "tfeventsd-values" and wl != "histograms":
                    continue
                n = max(1, int(COUNTS["tfevents" if w == "tfevents" else "tfeventsd"][wl] * a.scale))
                runs = []
                for r in range(a.runs):
                    wenv = env if w != "tfeventsd-embedded" else dict(
                        env, TFEVENTS_MODE="embedded", TFEVENTS_LIBRARY=library)
                    p = subprocess.run(["Rscript", os.path.join(HERE, "r_bench.R"), w, wl, str(n)],
                                       env=wenv, capture_output=True, text=True, cwd=root)
                    if p.returncode != 0:
                        print("%s %s failed:\n%s" % (w, wl, p.stderr))
                        break
                    runs.append(n / float(p.stdout.split()[3]))
                    shutil.rmtree(os.path.join(root, "%s-%s" % (w, wl)), ignore_errors=True)
                if runs:
                    rates[(w, wl)] = statistics.median(runs)
                    print("%-17s %-10s %10.0f items/s" % (w, wl, rates[(w, wl)]), flush=True)
        if peer:
            for wl in ("scalars", "texts", "histograms", "images"):
                if ("tfevents", wl) in rates and ("tfeventsd", wl) in rates:
                    print("%-10s tfeventsd / tfevents: %.1fx" %
                          (wl, rates[("tfeventsd", wl)] / rates[("tfevents", wl)]))
    finally:
        daemon.terminate()
        daemon.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
