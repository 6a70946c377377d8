#!/usr/bin/env python3
"""Integration tests of tfeventsd: start the real daemon on a temporary
socket and root, speak the protocol, read the event files back with an
independent reader (clients/evfile.py) and, when the shared tools are
present, check them with eventlint --strict.

Standard library only. Usage: test-daemon.py [TEST-NAME-SUBSTRING]"""

import atexit
import base64
import io
import json
import multiprocessing
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import wave
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
import evfile  # noqa: E402

BUILD = os.environ.get("TFEVENTS_BUILD_ROOT", ".")
DAEMON = os.environ.get("TFEVENTSD") or os.path.join(BUILD, "daemon", "tfeventsd")
SHARED = os.environ.get("TFEVENTS_SHARED", "")
EVENTLINT = os.path.join(SHARED, "tools", "eventlint") if SHARED else ""
if EVENTLINT and not os.path.exists(EVENTLINT):
    EVENTLINT = ""

notes = []


class Failure(Exception):
    pass


class Skip(Exception):
    """A test that cannot run here (a tool or a permission is missing)."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def eventlint(logdir):
    if not EVENTLINT:
        notes.append("eventlint part skipped: TFEVENTS_SHARED/tools/eventlint absent")
        return
    p = subprocess.run([sys.executable, EVENTLINT, "--strict", "-q", logdir],
                       capture_output=True, text=True)
    check(p.returncode == 0, "eventlint --strict %s failed:\n%s%s" % (logdir, p.stdout, p.stderr))


# Every daemon a test starts, so that none outlives this process whichever
# way a test ends (a failed check raises before its stop()).
_live_daemons = []
_owner_pid = os.getpid()


@atexit.register
def _kill_live_daemons():
    if os.getpid() != _owner_pid:   # a forked child: not its daemons
        return
    for p in _live_daemons:
        if p.poll() is None:
            p.kill()
            p.wait()


class Daemon:
    def __init__(self, tmp, *args, root=None, env=None):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "d.sock")
        self.root = root or os.path.join(tmp, "logs")
        self.errpath = os.path.join(tmp, "stderr.%d" % time.monotonic_ns())
        self.err = open(self.errpath, "w")
        self.p = subprocess.Popen([DAEMON, "--socket", self.sock, "--root", self.root,
                                   "--log-level", "debug"] + list(args),
                                  stdout=subprocess.PIPE, stderr=self.err, text=True, env=env)
        _live_daemons.append(self.p)
        line = self.p.stdout.readline()
        check("listening on " + self.sock in line, "daemon did not start: %r\n%s" %
              (line, self.stderr()))

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Failure("daemon did not exit after signal %d\n%s" % (sig, self.stderr()))
        self.p.stdout.close()
        self.err.close()
        return rc

    def client(self):
        return Client(self.sock)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 0

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, obj):
        self.s.sendall(json.dumps(obj).encode() + b"\n")

    def reply(self, timeout=20):
        self.s.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Failure("connection closed while waiting for a reply")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, obj, timeout=20):
        self.next_id += 1
        obj = dict(obj, id=self.next_id)
        self.send(obj)
        while True:
            r = self.reply(timeout)
            if r.get("id") == self.next_id:
                return r

    def close(self):
        self.s.close()


def scalars(tags, tag):
    return [(step, evfile.scalar_of(v)) for step, v in tags.get(tag, [])]


# ---- tests ------------------------------------------------------------------

N_CLIENTS = 16
N_MSGS = 300


def _client_proc(sock, cid, n):
    c = Client(sock)
    lines = []
    for i in range(n):
        val = cid * 100000 + i
        lines.append(json.dumps({"logdir": "conc", "values": {
            "loss": val, "train": {"acc": val}, "eval": {"acc": val, "deep": {"x": val}}}}))
        # Small bursts, so that clients interleave.
        if len(lines) == 7 or i == n - 1:
            c.send_raw(("\n".join(lines) + "\n").encode())
            lines = []
    r = c.request({"op": "flush", "logdir": "conc"}, timeout=60)
    os._exit(0 if r.get("ok") else 3)


def test_sixteen_clients(tmp):
    d = Daemon(tmp)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_client_proc, args=(d.sock, cid, N_MSGS))
             for cid in range(N_CLIENTS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        check(p.exitcode == 0, "client exit code %s" % p.exitcode)
    logdir = os.path.join(d.root, "conc")
    # After every client's flush ack the data is in the files, before exit.
    tags, _ = evfile.load(logdir)
    total = N_CLIENTS * N_MSGS
    for run, tag in ((".", "loss"), ("train", "acc"), ("eval", "acc"), ("eval/deep", "x")):
        check(len(tags.get(run, {}).get(tag, [])) == total,
              "run %s tag %s: %d events, want %d" % (run, tag,
                                                     len(tags.get(run, {}).get(tag, [])), total))
    check(d.stop() == 0, "daemon exit status")
    files = evfile.event_files(logdir)
    check(sorted(files) == [".", "eval", "eval/deep", "train"], "runs: %s" % sorted(files))
    for run, paths in files.items():
        check(len(paths) == 1, "run %s has %d files, want exactly one" % (run, len(paths)))
    tags, _ = evfile.load(logdir)
    loss = scalars(tags["."], "loss")
    steps = [s for s, _ in loss]
    # One step per message, each message its own step, in file order.
    check(steps == list(range(total)), "steps are not 0..%d in order" % (total - 1))
    by_step = {s: v for s, v in loss}
    for run, tag in (("train", "acc"), ("eval", "acc"), ("eval/deep", "x")):
        for s, v in scalars(tags[run], tag):
            check(by_step[s] == v, "run %s step %d: %s != loss %s" % (run, s, v, by_step[s]))
    # Each client's messages keep their order.
    last = {}
    for s, v in loss:
        cid, i = divmod(int(v), 100000)
        check(last.get(cid, -1) == i - 1, "client %d message %d out of order" % (cid, i))
        last[cid] = i
    check(sorted(set(int(v) for _, v in loss)) ==
          sorted(c * 100000 + i for c in range(N_CLIENTS) for i in range(N_MSGS)),
          "some values missing or duplicated")
    # Metadata exactly on the first value of each tag in the file.
    _, events = evfile.load(logdir)
    seen = set()
    for ev in events["."]:
        for v in ev.get("values", []):
            check(("plugin" in v) == (v["tag"] not in seen), "metadata placement")
            seen.add(v["tag"])
    eventlint(logdir)


def _png(w, h):
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
    raw = b"".join(b"\x00" + b"".join(bytes(((x * 37) % 256, (y * 53) % 256, 99))
                                       for x in range(w))
                   for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _wav(rate, frames):
    bio = io.BytesIO()
    with wave.open(bio, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", (i * 997) % 20000 - 10000)
                               for i in range(frames)))
    return bio.getvalue()


def b64(b):
    return base64.b64encode(b).decode()


def test_value_kinds(tmp):
    d = Daemon(tmp)
    c = d.client()
    values = {
        "scalar": 0.25,
        "scalar_meta": {"$scalar": {"value": 3, "display_name": "Three",
                                    "description": "a described scalar"}},
        "text": "hello *markdown*",
        "table": {"$text": {"value": [["a", "b"], ["c", "d"]]}},
        "list": {"$text": {"value": ["x", "y", "z"]}},
        "hist": {"$histogram": {"values": [1, 2, 2, 3, 3, 3, 10], "bucket_count": 4}},
        "hist_buckets": {"$histogram": {"edges": [0, 1, 2], "counts": [3, 4]}},
        "png": {"$image": {"png": b64(_png(5, 3))}},
        "pixels": {"$image": {"pixels": [[[0, 0.5, 1], [1, 0, 0]], [[0, 1, 0], [0, 0, 1]]]}},
        "pixels_u8": {"$image": {"pixels": list(range(12)), "shape": [2, 2, 3],
                                 "dtype": "uint8"}},
        "wav": {"$audio": {"wav": b64(_wav(8000, 400))}},
        "samples": {"$audio": {"samples": [0.0, 0.5, -0.5, 1.0] * 100, "sample_rate": 16000}},
        "pr": {"$custom": {"plugin": "pr_curves", "content": b64(b"\x10\x03"),
                           "numbers": [1] * 18, "shape": [6, 3]}},
        "run": {"nested": 1.5},
    }
    r = c.request({"logdir": "kinds", "step": 7, "wall_time": 1700000000.25, "values": values})
    check(r.get("ok") is True and r.get("step") == 7, "log reply %s" % r)
    r = c.request({"op": "hparams_config", "logdir": "kinds",
                   "hparams": [{"name": "lr", "min": 0.0001, "max": 1},
                               {"name": "opt", "values": ["adam", "sgd"]}],
                   "metrics": [{"tag": "scalar"}]})
    check(r.get("ok") is True, "hparams_config reply %s" % r)
    r = c.request({"op": "hparams_session_start", "logdir": "kinds", "run": "run",
                   "hparams": {"lr": 0.01, "opt": "adam"}})
    check(r.get("ok") is True, "hparams_session_start reply %s" % r)
    r = c.request({"op": "hparams_session_end", "logdir": "kinds", "run": "run",
                   "status": "success"})
    check(r.get("ok") is True, "hparams_session_end reply %s" % r)
    r = c.request({"op": "flush", "logdir": "kinds"})
    check(r.get("ok") is True, "flush reply %s" % r)
    check(d.stop() == 0, "daemon exit status")
    tags, events = evfile.load(os.path.join(d.root, "kinds"))
    want = {"scalar": "scalars", "scalar_meta": "scalars", "text": "text", "table": "text",
            "list": "text", "hist": "histograms", "hist_buckets": "histograms",
            "png": "images", "pixels": "images", "pixels_u8": "images", "wav": "audio",
            "samples": "audio", "pr": "pr_curves", "_hparams_/experiment": "hparams"}
    for tag, plugin in want.items():
        got = tags["."].get(tag)
        check(got is not None, "tag %s missing" % tag)
        check(got[0][1].get("plugin") == plugin, "tag %s plugin %s" % (tag, got[0][1].get("plugin")))
    check(scalars(tags["run"], "nested") == [(7, 1.5)], "nested run scalar")
    check("_hparams_/session_start_info" in tags["run"], "session start in run")
    check("_hparams_/session_end_info" in tags["run"], "session end in run")
    check(scalars(tags["."], "scalar") == [(7, 0.25)], "scalar value/step")
    ev = [e for e in events["."] if any(v["tag"] == "scalar" for v in e.get("values", []))][0]
    check(abs(ev["wall_time"] - 1700000000.25) < 1e-6, "wall_time kept with sub-second precision")
    text = tags["."]["text"][0][1]["tensor"]
    check(text["strings"] == [b"hello *markdown*"], "text value")
    table = tags["."]["table"][0][1]["tensor"]
    check(table["shape"] == [2, 2] and table["strings"] == [b"a", b"b", b"c", b"d"], "table")
    png = tags["."]["png"][0][1]["tensor"]
    check(png["strings"][:2] == [b"5", b"3"], "image size strings %s" % png["strings"][:2])
    eventlint(os.path.join(d.root, "kinds"))


def test_flush_ack(tmp):
    # A long interval and a large threshold: only the flush op writes.
    d = Daemon(tmp, "--flush-interval", "600", "--flush-bytes", "64M")
    c = d.client()
    logdir = os.path.join(d.root, "fl")
    r = c.request({"logdir": "fl", "values": {"v": -1}})
    check(r.get("ok"), "log %s" % r)
    tags, _ = evfile.load(logdir) if os.path.isdir(logdir) else ({}, None)
    check(not tags.get(".", {}).get("v"), "data written before any flush (test would not "
          "tell a working flush from the timer)")
    for i in range(20):
        c.send({"logdir": "fl", "values": {"v": i}})
        r = c.request({"op": "flush", "logdir": "fl", "sync": i % 2 == 0})
        check(r.get("ok") is True, "flush reply %s" % r)
        tags, _ = evfile.load(logdir)
        vals = [v for _, v in scalars(tags["."], "v")]
        check(vals == [-1] + list(range(i + 1)), "after flush %d the file holds %s" % (i, vals))
    # A flush of everything (no logdir) too.
    c.send({"logdir": "fl2", "values": {"w": 1}})
    r = c.request({"op": "flush"})
    check(r.get("ok") is True, "global flush reply %s" % r)
    tags, _ = evfile.load(os.path.join(d.root, "fl2"))
    check(scalars(tags["."], "w") == [(0, 1.0)], "global flush wrote fl2")
    check(d.stop() == 0, "daemon exit status")
    eventlint(logdir)


def test_sigterm_drain(tmp):
    d = Daemon(tmp, "--flush-interval", "600", "--flush-bytes", "64M")
    n = 20000
    c = d.client()
    data = "".join(json.dumps({"logdir": "drain", "values": {"i": i, "sub": {"j": i}}}) + "\n"
                   for i in range(n)).encode()
    c.send_raw(data)
    partial = d.client()
    partial.send_raw(b'{"logdir":"drain","values":{"i":')  # never finished
    # Everything sent is in the kernel's buffers now; stop at once.
    rc = d.stop()
    check(rc == 0, "exit status %s\n%s" % (rc, d.stderr()))
    tags, _ = evfile.load(os.path.join(d.root, "drain"))
    check(len(tags["."]["i"]) == n, "%d of %d events after SIGTERM" % (len(tags["."]["i"]), n))
    check(len(tags["sub"]["j"]) == n, "run sub: %d of %d" % (len(tags["sub"]["j"]), n))
    check([s for s, _ in tags["."]["i"]] == list(range(n)), "steps after drain")
    check(not os.path.exists(d.sock), "socket removed at exit")
    eventlint(os.path.join(d.root, "drain"))


def test_resume(tmp):
    root = os.path.join(tmp, "logs")
    d = Daemon(tmp, root=root)
    c = d.client()
    for i in range(3):
        check(c.request({"logdir": "res", "values": {"loss": i}})["step"] == i, "first steps")
    check(c.request({"logdir": "res", "step": 10, "values": {"r": {"x": 1}}})["ok"], "step 10")
    check(d.stop() == 0, "exit status")
    # A torn tail (a writer killed mid-record) must not stop the scan.
    run_file = evfile.event_files(os.path.join(root, "res"))["."][0]
    with open(run_file, "ab") as f:
        f.write(b"\x30\x00\x00\x00\x00")
    d = Daemon(tmp, root=root)
    c = d.client()
    r = c.request({"op": "step_get", "logdir": "./res/"})
    check(r.get("step") == 10 and r.get("next") == 11, "resumed counter %s" % r)
    r = c.request({"logdir": "res", "values": {"loss": 3}})
    check(r.get("step") == 11, "first step after restart %s" % r)
    r = c.request({"logdir": "res", "step": 5, "values": {"r": {"x": 2}}})
    check(r.get("ok") is False and "last step 10" in r.get("error", ""),
          "last step learned from the files: %s" % r)
    r = c.request({"logdir": "res", "step": 2, "values": {"loss": 2}})
    check(r.get("ok") is False, "loss step 2 after 11 refused: %s" % r)
    check(d.stop() == 0, "exit status")
    files = evfile.event_files(os.path.join(root, "res"))
    check(len(files["."]) == 2, "a new file after restart, old one untouched")


def test_step_policy(tmp):
    d = Daemon(tmp)
    c = d.client()
    L = "pol"
    check(c.request({"logdir": L, "step": 5, "values": {"a": 1, "b": 1}})["ok"], "step 5")
    r = c.request({"logdir": L, "step": 5, "values": {"c": 1, "a": 2}})
    check(r["ok"] is False and "tag 'a'" in r["error"] and "not greater" in r["error"],
          "repeat step refused: %s" % r)
    r = c.request({"logdir": L, "step": 3, "values": {"b": 2}})
    check(r["ok"] is False, "backwards refused: %s" % r)
    r = c.request({"logdir": L, "step": 6, "values": {"a": 3, "a2": {"$scalar": {"value": 1}}}})
    check(r["ok"] is True, "increasing accepted")
    r = c.request({"logdir": L, "step": 7, "values": {"d": 1, "d ": 2}})
    check(r["ok"] is True, "distinct tags")
    # The counter: explicit steps leave it alone.
    check(c.request({"logdir": L, "values": {"n": 1}})["step"] == 0, "first auto step 0")
    check(c.request({"logdir": L, "step": "current", "values": {"m": 1}})["step"] == 0,
          "current step")
    check(c.request({"logdir": L, "values": {"n": 2}})["step"] == 1, "next step 1")
    r = c.request({"op": "step_set", "logdir": L, "step": 99})
    check(r["ok"] and r["next"] == 100, "step_set %s" % r)
    check(c.request({"logdir": L, "values": {"n": 3}})["step"] == 100, "after step_set")
    # Restart is the way back.
    r = c.request({"op": "restart", "logdir": L, "step": 4})
    check(r["ok"] is True, "restart %s" % r)
    check(c.request({"logdir": L, "values": {"a": 9}})["step"] == 4, "after restart, step 4")
    check(c.request({"op": "stats"})["stats"]["errors_step"] == 2, "errors_step counted")
    c.request({"op": "flush"})
    tags, events = evfile.load(os.path.join(d.root, L))
    check("c" not in tags["."], "a refused message is refused whole")
    check(scalars(tags["."], "a") == [(5, 1.0), (6, 3.0), (4, 9.0)], "a: %s" %
          scalars(tags["."], "a"))
    check(any(e.get("session_log") == 1 and e["step"] == 4 for e in events["."]),
          "SessionLog START at step 4")
    check(d.stop() == 0, "exit status")


def test_bad_lines(tmp):
    d = Daemon(tmp, "--max-line", "4096")
    c = d.client()
    lines = [
        b"this is not json",                                          # 1
        b'{"logdir":"bad","values":{"x":true}}',                       # 2
        b'{"op":"launch","logdir":"bad"}',                             # 3
        b'{"logdir":"bad","values":{"x":1}}' + b" " * 5000,           # 4 oversize
        b"",                                                           # 5 blank
        b'[1,2,3]',                                                    # 6
        b'{"logdir":"../up","values":{"x":1}}',                        # 7
        b'{"logdir":"/abs","values":{"x":1}}',                         # 8
        b'{"logdir":"bad","values":{"$x":1}}',                         # 9
        b'{"logdir":"bad","step":-1,"values":{"x":1}}',                # 10
        b'{"logdir":"bad","values":{"h":{"$histogram":{"values":"no"}}}}',  # 11
        b'{"logdir":"bad","values":{"x":1},"colour":"red"}',           # 12
        b'{"id":77,"logdir":"bad","values":{"x":1}}',                  # 13 fine
        b'{"logdir":"bad","values":{"x":1}} trailing',                 # 14
    ]
    c.send_raw(b"\n".join(lines) + b"\n")
    replies = {}
    while 77 not in replies or ("line", 14) not in replies:
        r = c.reply()
        replies[r.get("id", ("line", r.get("line")))] = r
    errors = {k[1]: v for k, v in replies.items() if isinstance(k, tuple)}
    want = {1: "invalid JSON", 2: "true/false", 3: "unknown op", 4: "longer than the limit",
            6: "JSON object", 7: "leave the root", 8: "absolute", 9: "reserved",
            10: "step", 11: "array of numbers", 12: "unknown field", 14: "extra data"}
    for line, text in want.items():
        check(line in errors, "no error reply for line %d (got %s)" % (line, sorted(errors)))
        check(text in errors[line]["error"], "line %d: %r lacks %r" %
              (line, errors[line]["error"], text))
        check(errors[line]["ok"] is False, "ok false")
    check(5 not in errors, "blank lines are not errors")
    check(replies[77]["ok"] is True and replies[77]["step"] == 0, "line 13 processed")
    # An oversize line split over many writes, then a good line.
    c.send_raw(b'{"logdir":"bad","values":{"y":"')
    for _ in range(10):
        c.send_raw(b"z" * 1000)
        time.sleep(0.01)
    c.send_raw(b'"}}\n{"id":78,"logdir":"bad","values":{"y":"short"}}\n')
    r = c.reply()
    check(r.get("line") == 15 and "longer" in r.get("error", ""), "split oversize: %s" % r)
    r = c.reply()
    check(r.get("id") == 78 and r.get("ok"), "after split oversize: %s" % r)
    s = c.request({"op": "stats"})["stats"]
    check(s["errors_oversize"] == 2 and s["errors_json"] >= 3, "error counters %s" % s)
    check(d.stop() == 0, "exit status")


def test_reader_that_never_reads(tmp):
    d = Daemon(tmp, "--max-replies", "16")
    lazy = d.client()
    lazy.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Many requests with ids whose replies are never read.
    burst = "".join(json.dumps({"id": i, "op": "ping"}) + "\n" for i in range(50000)).encode()
    ctx = multiprocessing.get_context("fork")

    def send_burst():
        lazy.s.settimeout(5)
        try:
            lazy.send_raw(burst)
        except socket.timeout:
            os._exit(3)
        os._exit(0)
    p = ctx.Process(target=send_burst)
    p.start()
    other = d.client()
    t0 = time.monotonic()
    for i in range(50):
        r = other.request({"logdir": "busy", "values": {"x": i}}, timeout=5)
        check(r.get("ok") is True, "other client answered: %s" % r)
    check(time.monotonic() - t0 < 10, "other client was slowed down")
    p.join(60)
    if p.exitcode is None:
        p.kill()
        p.join()
    check(p.exitcode == 3, "the daemon stopped reading from the client that never reads "
          "(sender exit %s)" % p.exitcode)
    stats = other.request({"op": "stats"})["stats"]
    check(stats["reply_pauses"] > 0 and stats["replies_dropped"] == 0,
          "paused, not dropped: %s" % stats)
    lazy.close()
    check(other.request({"op": "ping"}).get("pong") is True, "still alive")
    check(d.stop() == 0, "exit status")


def test_startup_checks(tmp):
    d = Daemon(tmp)
    # A second daemon must not take over a live socket.
    p = subprocess.run([DAEMON, "--socket", d.sock, "--root", d.root], capture_output=True,
                       text=True, timeout=20)
    check(p.returncode != 0 and "another process" in p.stderr, "live socket: %s" % p.stderr)
    check(d.client().request({"op": "ping"})["pong"], "first daemon still serves")
    mode = os.stat(d.sock).st_mode & 0o777
    check(mode == 0o660, "socket mode %o" % mode)
    d.stop(signal.SIGKILL)
    # A stale socket (daemon killed) is replaced.
    check(os.path.exists(d.sock), "stale socket left by SIGKILL")
    d2 = Daemon(tmp)
    check(d2.client().request({"op": "ping"})["pong"], "stale socket replaced")
    check(d2.stop() == 0, "exit status")
    long_path = os.path.join(tmp, "x" * 120 + ".sock")
    p = subprocess.run([DAEMON, "--socket", long_path, "--root", d.root],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode != 0 and "longer than" in p.stderr, "long path: %s" % p.stderr)


def test_sighup_rotates(tmp):
    d = Daemon(tmp)
    c = d.client()
    c.request({"logdir": "rot", "values": {"a": 1}})
    c.request({"op": "flush"})
    d.p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    c.request({"logdir": "rot", "values": {"a": 2}})
    c.request({"op": "flush"})
    check(d.stop() == 0, "exit status")
    files = evfile.event_files(os.path.join(d.root, "rot"))["."]
    check(len(files) == 2, "SIGHUP rotated: %d files" % len(files))
    eventlint(os.path.join(d.root, "rot"))


def wait_stats(c, cond, timeout=15, every=0.1):
    """The daemon's stats (asked through client c) once cond(stats) holds,
    or the last ones asked when timeout s have passed."""
    t = time.monotonic() + timeout
    while True:
        s = c.request({"op": "stats"})["stats"]
        if cond(s) or time.monotonic() > t:
            return s
        time.sleep(every)


def test_writer_limits(tmp):
    # At most 2 open files: the least recently used is closed, and its run's
    # next value starts a new file (nothing lost, still one writer per run).
    d = Daemon(tmp, "--max-writers", "2", "--idle-timeout", "0.5", "--flush-interval", "0.1")
    c = d.client()
    for run in ("r1", "r2", "r3", "r4"):
        check(c.request({"logdir": "lim", "values": {run: {"x": 1}}})["ok"], "log " + run)
    c.request({"op": "flush"})
    s = c.request({"op": "stats"})["stats"]
    check(s["writers_open"] <= 2 and s["writers_closed"] >= 2, "writer cap: %s" % s)
    check(c.request({"logdir": "lim", "values": {"r1": {"x": 2}}})["ok"], "r1 again")
    # Idle timeout 0.5 s, checked every 0.1 s: closed within a second, or
    # a few under a loaded sanitizer run.
    s = wait_stats(c, lambda s: s["writers_open"] == 0)
    check(s["writers_open"] == 0, "idle writers closed: %s" % s)
    check(d.stop() == 0, "exit status")
    files = evfile.event_files(os.path.join(d.root, "lim"))
    check(len(files["r1"]) == 2 and len(files["r4"]) == 1, "files %s" % files)
    tags, _ = evfile.load(os.path.join(d.root, "lim"))
    check(scalars(tags["r1"], "x") == [(0, 1.0), (4, 2.0)], "r1: %s" % scalars(tags["r1"], "x"))
    eventlint(os.path.join(d.root, "lim"))


def _read_until_closed(c, timeout):
    """Every byte until the daemon closes the connection; raises when it is
    still open after timeout seconds."""
    c.s.settimeout(timeout)
    data = c.buf
    while True:
        try:
            chunk = c.s.recv(65536)
        except socket.timeout:
            raise Failure("the connection is still open after %g s" % timeout)
        if not chunk:
            return data
        data += chunk


def test_read_timeout(tmp):
    # A line or frame begun and not finished within --read-timeout gets an
    # error reply and its connection is closed; a client dripping bytes
    # gains nothing; idle connections and the data before stay.
    d = Daemon(tmp, "--read-timeout", "0.5")
    idle = d.client()
    half = d.client()
    half.send_raw(b'{"logdir":"rt","values":{"x":1}}\n{"logdir":"rt","val')
    drip = d.client()
    t0 = time.monotonic()
    drip.send_raw(b'{"logdir":"rt",')
    closed = False
    for _ in range(40):   # a byte every 0.1 s, for up to 4 s
        try:
            drip.send_raw(b" ")
        except OSError:
            closed = True
            break
        time.sleep(0.1)
        drip.s.settimeout(0)
        try:
            if drip.s.recv(65536, socket.MSG_PEEK) == b"":
                closed = True
                break
        except (BlockingIOError, socket.timeout):
            pass
        except OSError:
            closed = True
            break
    waited = time.monotonic() - t0
    check(closed and waited < 3, "the dripping client was closed in time (%.1f s)" % waited)
    replies = [json.loads(x) for x in _read_until_closed(half, 5).split(b"\n") if x.strip()]
    check(len(replies) == 1 and replies[0]["ok"] is False and replies[0]["line"] == 2 and
          "--read-timeout" in replies[0]["error"], "half line: %s" % replies)
    # A binary client stuck inside a frame header: the Hello, then an error
    # frame naming the timeout, then the end.
    b = d.client()
    b.send_raw(b"TFEVBIN\x01" + b"\x05\x00")
    check(b"--read-timeout" in _read_until_closed(b, 5), "binary: the error names the limit")
    # The idle connection is still served, and the finished line was kept.
    r = idle.request({"op": "flush", "logdir": "rt"})
    check(r["ok"], "idle client still served: %s" % r)
    s = idle.request({"op": "stats"})["stats"]
    check(s["errors_timeout"] == 3, "errors_timeout %s" % s)
    check(d.stop() == 0, "exit status")
    tags, _ = evfile.load(os.path.join(d.root, "rt"))
    check(scalars(tags["."], "x") == [(0, 1.0)], "kept: %s" % tags)


def test_nonfinite_json(tmp):
    """Bare NaN / Infinity / -Infinity, as json.dumps writes a diverged loss,
    are scalars (an extension of JSON, docs/protocol.md); histogram data
    holding them is refused as for the binary protocol; 1e400 still is."""
    import math
    d = Daemon(tmp)
    c = d.client()
    nan, inf = float("nan"), float("inf")
    lines = [
        json.dumps({"logdir": "nf", "step": 0, "values": {"loss": nan}}),     # fast path
        json.dumps({"logdir": "nf", "step": 1, "values": {"loss": inf, "r": {"lo": -inf}}}),
        json.dumps({"logdir": "nf", "step": 2, "values": {"loss": -inf, "t": "NaN"}}),
        json.dumps({"logdir": "nf", "step": 3, "values": {"loss": 0.5}}),
    ]
    check("NaN" in lines[0] and "-Infinity" in lines[2], "json.dumps writes %s" % lines[0])
    for i, line in enumerate(lines):
        c.send_raw(line[:-1].encode() + (', "id": %d}\n' % i).encode())
        r = c.reply()
        check(r.get("ok") is True and r.get("id") == i, "line %s answered %s" % (line, r))
    for bad, phrase in [
            ({"logdir": "nf", "step": 4, "values": {"h": {"$histogram": {"values": [1, nan]}}}},
             "NaN or Inf"),
            ('{"logdir": "nf", "step": 4, "values": {"loss": 1e400}}', "out of range"),
            ('{"logdir": "nf", "step": 4, "values": {"loss": -NaN}}', "invalid JSON")]:
        c.send_raw((bad if isinstance(bad, str) else json.dumps(bad)).encode() + b"\n")
        r = c.reply()
        check(r.get("ok") is False and phrase in r.get("error", ""), "%s answered %s" % (bad, r))
    r = c.request({"op": "flush"})
    check(r.get("ok") is True, "flush reply %s" % r)
    check(d.stop() == 0, "daemon exit status")
    tags, _ = evfile.load(os.path.join(d.root, "nf"))
    got = scalars(tags["."], "loss")
    check([s for s, _ in got] == [0, 1, 2, 3], "loss steps %s" % got)
    check(math.isnan(got[0][1]) and got[1][1] == inf and got[2][1] == -inf and got[3][1] == 0.5,
          "loss values %s" % got)
    check(scalars(tags["r"], "lo") == [(1, -inf)], "nested -Infinity %s" % tags["r"])
    check(tags["."]["t"][0][1]["tensor"]["strings"] == [b"NaN"], "the string stays text")
    eventlint(os.path.join(d.root, "nf"))


TESTS = [test_sixteen_clients, test_value_kinds, test_flush_ack, test_sigterm_drain,
         test_resume, test_step_policy, test_bad_lines, test_reader_that_never_reads,
         test_startup_checks, test_sighup_rotates, test_writer_limits, test_read_timeout,
         test_nonfinite_json]


def run_tests(tests, sel="", prefix="tfd.", note_skips=False):
    """Runs the tests whose names contain sel, each with a new temporary
    directory (kept when the test fails, for a look at its files), prints a
    line per test and then the notes. A test raising Skip is not counted as
    run (with note_skips it also leaves a note). Returns (failed, ran)."""
    failed = ran = 0
    for t in tests:
        if sel not in t.__name__:
            continue
        tmp = tempfile.mkdtemp(prefix=prefix)   # short: socket paths are limited
        t0 = time.monotonic()
        try:
            t(tmp)
            ran += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.monotonic() - t0))
        except Skip as e:
            if note_skips:
                notes.append("%s skipped: %s" % (t.__name__, e))
            print("SKIP %s: %s" % (t.__name__, e))
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e))
            if not isinstance(e, Failure):
                traceback.print_exc()
            print("     (files kept in %s)" % tmp)
            tmp = None
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()
    for n in sorted(set(notes)):
        print("note: " + n)
    return failed, ran


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(DAEMON):
        print("daemon not found at %s" % DAEMON)
        return 1
    failed, _ = run_tests(TESTS, sel)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
