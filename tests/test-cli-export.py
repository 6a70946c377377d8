#!/usr/bin/env python3
"""tfevents export: values logged through the real daemon come back as
files that decode to what was logged (PNG signature, size and pixels; WAV
header and samples; CSV scalars, histograms, text tables, hparams), the
--run/--tag filters and --view tensorboard select as collect does, and
hostile tag names written by another program cannot leave --out.

Usage: test-cli-export.py [TEST-NAME-SUBSTRING]"""

import csv
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import wave
import zlib

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check = td.Daemon, td.check
sys.path.insert(0, os.path.join(_here, "clients"))
import evfile  # noqa: E402

CLI = os.path.abspath(os.environ.get("TFEVENTS_CLI") or
                      os.path.join(td.BUILD, "client", "tfevents"))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def export(args, want=0):
    p = subprocess.run([CLI, "export"] + args, capture_output=True, text=True, timeout=120)
    check(p.returncode == want, "export %s exited %d, expected %d: %s"
          % (" ".join(args), p.returncode, want, p.stderr[:300]))
    return p


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def index_of(out):
    rows = read_csv(os.path.join(out, "index.csv"))
    check(rows[0] == ["run", "tag", "step", "wall_time", "kind", "file"], "index header %s"
          % rows[0])
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def png_decode(data):
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG, any filter."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature %r" % data[:8])
    pos, idat = 8, b""
    w = h = None
    while pos < len(data):
        n, t = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        check(zlib.crc32(t + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0],
              "PNG chunk CRC")
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype == 2, "PNG depth %d type %d" % (depth, ctype))
        elif t == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, bpp = zlib.decompress(idat), [], 3
    stride = w * bpp
    prev = bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


PIXELS = [[[0, 0.5, 1], [1, 1, 1], [0.25, 0, 0.75]],
          [[0, 0, 0], [0.2, 0.4, 0.6], [1, 0, 1]]]           # [h=2][w=3][c=3]
SAMPLES = [0, 0.5, -0.5, 1, -1, 0.25]
TABLE = [["epoch", "note, with comma"], ['say "hi"', "a|b\nc"]]


def log_everything(d):
    env = dict(os.environ, TFEVENTS_SOCKET=d.sock)
    env.pop("TFEVENTS_MODE", None)

    def send(lines):
        p = subprocess.run([CLI, "send"], input="\n".join(json.dumps(x) for x in lines) + "\n",
                           env=env, capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "send: %s %s" % (p.stdout[-300:], p.stderr[-300:]))

    def cli(args):
        p = subprocess.run([CLI] + args, env=env, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "%s: %s" % (args, p.stderr))

    lines = []
    for step in range(10):
        lines.append({"logdir": "e", "step": step, "values": {
            "loss": 1.0 / (step + 1), "train": {"acc": step * 0.1}}})
    lines.append({"logdir": "e", "step": 3, "values": {
        "notes": {"$text": {"value": "hello *world*"}},
        "tab": {"$text": {"value": TABLE}},
        "img": {"$image": {"pixels": PIXELS}},
        "two": {"$image": {"pixels": [PIXELS, PIXELS]}},
        "snd": {"$audio": {"samples": SAMPLES, "sample_rate": 8000}},
        "w": {"$histogram": {"values": list(range(100)), "bucket_count": 7}}}})
    lines.append({"logdir": "e", "step": 4, "values": {"notes": {"$text": {"value": "second"}}}})
    send(lines)
    logdir = os.path.join(d.root, "e")
    cli(["hparams", "config", "--logdir", logdir, "lr=0.001..0.1", "opt=adam,sgd",
         "--metric", "loss"])
    cli(["hparams", "start", "--logdir", logdir, "--run", "train", "lr=0.01", "opt=adam"])
    cli(["hparams", "end", "--logdir", logdir, "--run", "train", "success"])
    cli(["log", "--logdir", logdir, "--step", "20", "train/loss=0.375"])
    cli(["flush"])
    return logdir


def check_media(out, idx):
    by = {(r["run"], r["tag"], r["kind"]): [] for r in idx}
    for r in idx:
        by[(r["run"], r["tag"], r["kind"])].append(r)
    # One image: its own PNG, its pixels as logged (floats scaled to 0..255).
    img = by[(".", "img", "image")]
    check(len(img) == 1 and img[0]["step"] == "3" and
          img[0]["file"] == "_root/images/img/step-3.png", "image index %s" % img)
    with open(os.path.join(out, img[0]["file"]), "rb") as f:
        w, h, rows = png_decode(f.read())
    check((w, h) == (3, 2), "PNG size %dx%d" % (w, h))
    for y in range(2):
        for x in range(3):
            for c in range(3):
                want = PIXELS[y][x][c] * 255
                check(abs(rows[y][x * 3 + c] - want) <= 1, "pixel %d,%d,%d: %d vs %s"
                      % (y, x, c, rows[y][x * 3 + c], want))
    two = sorted(r["file"] for r in by[(".", "two", "image")])
    check(two == ["_root/images/two/step-3-0.png", "_root/images/two/step-3-1.png"],
          "two images %s" % two)
    # Audio: a 16-bit PCM WAV at the rate logged, the samples as logged.
    snd = by[(".", "snd", "audio")]
    check(len(snd) == 1 and snd[0]["file"] == "_root/audio/snd/step-3.wav", "audio %s" % snd)
    with wave.open(os.path.join(out, snd[0]["file"]), "rb") as wv:
        check((wv.getframerate(), wv.getnchannels(), wv.getsampwidth(), wv.getnframes()) ==
              (8000, 1, 2, len(SAMPLES)), "WAV header %s" % (wv.getparams(),))
        got = struct.unpack("<%dh" % len(SAMPLES), wv.readframes(len(SAMPLES)))
    for g, s in zip(got, SAMPLES):
        check(abs(g - s * 32767) <= 1.5, "sample %d vs %s" % (g, s))


def test_export(tmp):
    d = Daemon(tmp)
    logdir = log_everything(d)
    out = os.path.join(tmp, "out", "deep")       # parents are made
    p = export([logdir, "--out", out])
    check("21 scalars, 1 histograms, 3 texts (1 tables), 3 images, 1 audio clips" in p.stdout,
          "summary: %r" % p.stdout)
    idx = index_of(out)
    # Scalars: one CSV per run, the values as logged (float32).
    for run, tag, want in (("_root", "loss", [(s, 1.0 / (s + 1)) for s in range(10)]),
                           ("train", "acc", [(s, s * 0.1) for s in range(10)])):
        rows = read_csv(os.path.join(out, run, "scalars.csv"))
        check(rows[0] == ["step", "wall_time", "tag", "value"], "header %s" % rows[0])
        got = [(int(r[0]), float(r[3])) for r in rows[1:] if r[2] == tag]
        check(len(got) == len(want) and all(s == ws and f32(v) == f32(wv) for (s, v), (ws, wv)
                                             in zip(got, want)), "%s/%s: %s" % (run, tag, got))
        check(all(float(r[1]) > 1e9 for r in rows[1:]), "wall times %s" % rows[1:3])
    check_media(out, idx)
    # Text: one Markdown per tag, every step; the table also as CSV.
    with open(os.path.join(out, "_root", "text", "notes.md")) as f:
        md = f.read()
    check("## Step 3\n\nhello *world*" in md and "## Step 4\n\nsecond" in md, "md %r" % md)
    check(read_csv(os.path.join(out, "_root", "tables", "tab", "step-3.csv")) == TABLE,
          "table CSV %s" % read_csv(os.path.join(out, "_root", "tables", "tab", "step-3.csv")))
    with open(os.path.join(out, "_root", "text", "tab.md")) as f:
        md = f.read()
    check("| epoch | note, with comma |" in md and "| a\\|b<br>c |" in md and
          "[CSV](../tables/tab/step-3.csv)" in md, "table md %r" % md)
    # Histograms: 7 buckets holding the 100 values.
    rows = read_csv(os.path.join(out, "_root", "histograms.csv"))
    check(rows[0] == ["step", "wall_time", "tag", "left", "right", "count"] and
          len(rows) == 8 and sum(float(r[5]) for r in rows[1:]) == 100, "histograms %s" % rows)
    # hparams: the session of run train, its hparams and its last loss.
    hp = read_csv(os.path.join(out, "hparams.csv"))
    check(hp[0][:7] == ["run", "group", "status", "start_time", "end_time", "lr", "opt"] and
          hp[0][7:] == ["loss"], "hparams header %s" % hp[0])
    check(len(hp) == 2 and hp[1][0] == "train" and hp[1][2] == "STATUS_SUCCESS" and
          float(hp[1][5]) == 0.01 and hp[1][6] == "adam" and float(hp[1][7]) == 0.375,
          "hparams row %s" % hp[1:])
    # Every file is in the index or is one of the per-run tables.
    listed = {r["file"] for r in idx}
    for root, dirs, files in os.walk(out):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), out)
            check(rel in listed or fn in ("index.csv", "hparams.csv", "scalars.csv",
                                          "histograms.csv"), "%s not in the index" % rel)
    for r in idx:
        check(os.path.isfile(os.path.join(out, r["file"])), "index names %s" % r["file"])

    # Filters: only images of run "."; only run train.
    export([logdir, "--out", os.path.join(tmp, "o2"), "--tag", "t*", "--run", "."])
    files = sorted(r["file"] for r in index_of(os.path.join(tmp, "o2")))
    check(files == ["_root/images/two/step-3-0.png", "_root/images/two/step-3-1.png",
                    "_root/tables/tab/step-3.csv", "_root/text/tab.md"], "--tag t*: %s" % files)
    check(sorted(os.listdir(os.path.join(tmp, "o2"))) == ["_root", "index.csv"],
          "--tag t*: %s" % os.listdir(os.path.join(tmp, "o2")))
    export([logdir, "--out", os.path.join(tmp, "o3"), "--run", "train"])
    check(sorted(os.listdir(os.path.join(tmp, "o3"))) == ["hparams.csv", "index.csv", "train"],
          "--run train: %s" % os.listdir(os.path.join(tmp, "o3")))
    # Usage and refusals: a non-empty --out is never written into.
    export([logdir, "--out", out], want=3)
    export([logdir], want=2)
    export([logdir, "--out", os.path.join(tmp, "o4"), "--view", "rust"], want=2)
    export([os.path.join(tmp, "missing"), "--out", os.path.join(tmp, "o5")], want=3)
    check(not os.path.exists(os.path.join(tmp, "o5")), "a failed export made its --out")
    p = subprocess.run([CLI, "export", "--help"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "--out" in p.stdout, "export --help")
    check(d.stop() == 0, "daemon exit status")


def test_view(tmp):
    """A worker logs 0..9, is restored to 5 and logs 5..7 again: the raw
    export has both copies of 5..7, the TensorBoard view only the new."""
    d = Daemon(tmp)
    env = dict(os.environ, TFEVENTS_SOCKET=d.sock)
    env.pop("TFEVENTS_MODE", None)
    logdir = os.path.join(d.root, "w")

    def run(args, inp=None):
        p = subprocess.run([CLI] + args, input=inp, env=env, capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "%s: %s" % (args, p.stderr))

    run(["send"], "".join('{"logdir":"w","values":{"x":%d,"img":{"$image":{"pixels":[[%d]],'
                          '"dtype":"uint8"}}}}\n' % (i, i) for i in range(10)))
    run(["restart", "5", "--logdir", logdir])
    run(["send"], "".join('{"logdir":"w","values":{"x":%d}}\n' % (100 + i) for i in range(3)))
    run(["flush"])
    export([logdir, "--out", os.path.join(tmp, "raw")])
    export([logdir, "--out", os.path.join(tmp, "tb"), "--view", "tensorboard"])
    raw = [(int(r[0]), float(r[3])) for r in read_csv(os.path.join(tmp, "raw", "_root",
                                                                     "scalars.csv"))[1:]]
    tb = [(int(r[0]), float(r[3])) for r in read_csv(os.path.join(tmp, "tb", "_root",
                                                                   "scalars.csv"))[1:]]
    check(raw == [(i, i) for i in range(10)] + [(5 + i, 100 + i) for i in range(3)],
          "raw %s" % raw)
    check(tb == [(i, i) for i in range(5)] + [(5 + i, 100 + i) for i in range(3)], "view %s" % tb)
    # Images at steps 5..9 were purged by the restart: the view has 0..4.
    steps = sorted(int(r["step"]) for r in index_of(os.path.join(tmp, "tb")))
    check(steps == list(range(5)), "view images %s" % steps)
    check(len(index_of(os.path.join(tmp, "raw"))) == 10, "raw images")
    check(d.stop() == 0, "daemon exit status")


# ---- hostile names, in files another program wrote -------------------------

def _pb_key(field, wt):
    return _pb_varint(field << 3 | wt)


def _pb_varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _pb_bytes(field, data):
    return _pb_key(field, 2) + _pb_varint(len(data)) + data


def _event(step, values):
    """An Event with a Summary of (tag, simple_value | encoded image)."""
    summ = b""
    for tag, v in values:
        body = _pb_bytes(1, tag)
        if isinstance(v, bytes):
            img = (_pb_key(1, 0) + _pb_varint(1) + _pb_key(2, 0) + _pb_varint(1) +
                   _pb_key(3, 0) + _pb_varint(3) + _pb_bytes(4, v))
            body += _pb_bytes(4, img)
        else:
            body += _pb_key(2, 5) + struct.pack("<f", v)
        summ += _pb_bytes(1, body)
    return (_pb_key(1, 1) + struct.pack("<d", 1.5e9 + step) + _pb_key(2, 0) + _pb_varint(step) +
            _pb_bytes(5, summ))


def _record(payload):
    n = struct.pack("<Q", len(payload))
    return (n + struct.pack("<I", evfile.masked(evfile.crc32c(n))) + payload +
            struct.pack("<I", evfile.masked(evfile.crc32c(payload))))


HOSTILE = [b"../../../escape", b"/etc/passwd", b"..", b".", b"a/../../b", b"\x01ctl\nline",
           b".hidden", b"x" * 400, "\u00e9t\u00e9/\u00fc".encode(), b"a/b", b"a_b", b"a:b",
           b"\xff\xfe bad utf8", b"", b"~", b"CON", b"-rf"]


def test_hostile_names(tmp):
    logdir = os.path.join(tmp, "logs")
    os.makedirs(os.path.join(logdir, "..x"))
    png = td._png(2, 1)
    events = [_pb_key(1, 1) + struct.pack("<d", 1.5e9) + _pb_bytes(3, b"brain.Event:2")]
    for i, tag in enumerate(HOSTILE):
        events.append(_event(i, [(tag, float(i)), (tag + b"/img", png)]))
    for run in (logdir, os.path.join(logdir, "..x")):
        with open(os.path.join(run, "events.out.tfevents.1.host"), "wb") as f:
            for e in events:
                f.write(_record(e))
    before = sorted(os.listdir(tmp))
    out = os.path.join(tmp, "out")
    export([logdir, "--out", out])
    check(sorted(os.listdir(tmp)) == sorted(before + ["out"]), "written beside --out: %s"
          % sorted(os.listdir(tmp)))
    real = os.path.realpath(out)
    n_files = 0
    for root, dirs, files in os.walk(out):
        for name in dirs + files:
            p = os.path.join(root, name)
            check(not os.path.islink(p), "a link: %s" % p)
            check(os.path.realpath(p).startswith(real + os.sep), "outside --out: %s" % p)
            check(name[0] not in ".-" and len(name.encode()) <= 200,
                  "name %r" % name)
            n_files += name.endswith(".png")
    idx = index_of(out)
    images = [r for r in idx if r["kind"] == "image"]
    # Every hostile tag (but the empty one, which has no tag to name) of
    # both runs has its own image file, with the bytes written.
    check(n_files == len(images) == 2 * len(HOSTILE), "%d files, %d rows for %d tags"
          % (n_files, len(images), len(HOSTILE)))
    check(len({r["file"] for r in images}) == len(images), "two tags share a file")
    for r in images:
        with open(os.path.join(out, r["file"]), "rb") as f:
            check(f.read() == png, "%s: bytes differ" % r["file"])
    check({r["run"] for r in images} == {".", "..x"}, "runs %s" % {r["run"] for r in images})
    tags = {r["tag"] for r in images}
    want = {t.decode("utf-8", "replace") + "/img" for t in HOSTILE}
    check(len(tags) == len(HOSTILE), "tags %s, expected %s" % (sorted(tags), sorted(want)))
    # Scalars of every tag are in the runs' CSVs.
    check(sorted(os.listdir(out)) == ["_.x", "_root", "index.csv"], "top %s" % os.listdir(out))
    for run in ("_root", "_.x"):
        rows = read_csv(os.path.join(out, run, "scalars.csv"))
        check(len(rows) == 1 + len(HOSTILE), "%s: %d scalar rows" % (run, len(rows) - 1))


TESTS = [test_export, test_view, test_hostile_names]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    for what, path in (("daemon", td.DAEMON), ("tfevents", CLI)):
        if not os.path.exists(path):
            print("%s not found at %s" % (what, path))
            return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfx.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
