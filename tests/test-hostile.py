#!/usr/bin/env python3
"""Hostile input, table-driven: every line below gets an error reply that
contains the expected text (and carries the line's id when it has one),
the daemon stays up, and a well-behaved client logging at the same time
has every one of its events in the files.

Standard library only; the harness is test-daemon.py's.
Usage: test-hostile.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import multiprocessing
import os
import socket
import sys
import threading
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, Client, check, evfile, eventlint = td.Daemon, td.Client, td.check, td.evfile, td.eventlint

L = b'{"id":%d,"logdir":"h",'

# (line without its id prefix or newline, expected text in the error)
HOSTILE = [
    (b'"values":{"x":1}', None),                                   # sanity: accepted
    (b'"values":{"x":1e400}}', "out of range: 1e400"),  # extra brace too; the guard sees 1e400 first
    (b'"values":{"x":NaN}', None),          # the extension of JSON (docs/protocol.md)
    (b'"values":{"x":-NaN}', "invalid JSON"),  # ... exactly its three spellings
    (b'"values":{"x":nan}', "invalid JSON"),
    (b'"values":{"x":"\xff\xfe"}', "UTF-8"),                       # invalid UTF-8 text
    (b'"values":{"\xc0\xaf":1}', "UTF-8"),                         # overlong '/'
    (b'"values":{"t\\u0000":1}', "NUL"),                           # NUL in a tag
    (b'"values":{"x":1},"values":{"y":2}', "twice"),               # duplicate key
    (b'"values":{}', "empty"),
    (b'"values":[1,2]', "object"),
    (b'"values":{"x":null}', "null"),
    (b'"values":{"x":{"$scalar":{"value":1},"y":2}}', "$"),       # typed value mixed with a tag
    (b'"values":{"x":{"$nope":{}}}', "$nope"),
    (b'"step":-5,"values":{"x":1}', "step"),
    (b'"step":1.5,"values":{"x":1}', "step"),
    (b'"step":99999999999999999999,"values":{"x":1}', "step"),
    (b'"step":"later","values":{"x":1}', "step"),
    (b'"wall_time":-1,"values":{"x":1}', "wall_time"),
    (b'"v":2,"values":{"x":1}', "version"),
    (b'"op":7,"values":{"x":1}', "op"),
    (b'"values":{"h":{"$histogram":{"values":[1,"a"]}}}', "number"),
    (b'"values":{"h":{"$histogram":{"values":[1],"bucket_count":100000000}}}', "bucket"),
    (b'"values":{"h":{"$histogram":{"edges":[0,1],"counts":[1,2]}}}', "edges"),
    (b'"values":{"i":{"$image":{"png":"!!!notbase64"}}}', "base64"),
    (b'"values":{"i":{"$image":{"png":"aGVsbG8="}}}', "PNG"),
    (b'"values":{"i":{"$image":{"pixels":[1,2,3],"shape":[1000000,1000000,3]}}}', "shape"),
    (b'"values":{"a":{"$audio":{"samples":[0.1,0.2]}}}', "sample_rate"),
    (b'"values":{"a":{"$audio":{"samples":[0.1],"sample_rate":-3}}}', "sample_rate"),
    (b'"values":{"a":{"$audio":{"wav":"aGVsbG8="}}}', "WAV"),
    (b'"values":{"c":{"$custom":{"numbers":[1]}}}', "plugin"),
    (b'"values":{"c":{"$custom":{"plugin":"p","numbers":[1,2],"shape":[3]}}}', "shape"),
    (b'"values":{"t":{"$text":{"value":[["a"],["b","c"]]}}}', "equal length"),
    (b'"values":{"x":1},"colour":"red"', "unknown field"),
    (b'"values":{"' + b"t" * 5000 + b'":1}', "tag longer than"),  # reason before the name
    (b'"values":{"x":1e400}', "number out of range: 1e400"),
    (b'"values":{"x":-1e400}', "number out of range: -1e400"),
    # cJSON reads these as infinities too (found by fuzz-json_guard)
    (b'"values":{"x":-.9e999}', "number out of range: -.9e999"),
    (b'"values":{"x":' + b"9" * 400 + b'}', "number out of range"),
    (b'"values":{"x":' + b"1" * 62 + b'e300}', "number out of range"),
    (b'"values":' + b'{"r":' * 30 + b'1' + b'}' * 30, "nested deeper than 16"),
    (b'"values":' + b'{"r":' * 70 + b'1' + b'}' * 70, "--max-json-depth"),
    (b'"values":{"h":{"$histogram":{"values":' + b"[" * 70 + b"]" * 70 + b'}}}',
     "--max-json-depth"),
    (b'"op":"hparams_session_end","status":"exploded"', "status"),
    (b'"op":"restart","step":-1', "step"),
    (b'"op":"flush","sync":"yes"', "sync"),
]

RAW = [
    (b"\x00\x01\x02garbage", "invalid JSON"),
    (b"{" * 100, "--max-json-depth"),
    (b'"just a string"', "object"),
    (b"{}", "logdir"),
    (b'{"id":{"nested":1},"logdir":"h","values":{"x":1}}', "id"),
    (b'{"id":"' + b"i" * 300 + b'","logdir":"h","values":{"x":1}}', "id"),
    # A raw NUL byte in a string: cJSON would cut "nl\0x" to "nl".
    (b'{"logdir":"nl\x00x","values":{"x":1}}', "NUL"),
    (b'{"logdir":"h","values":{"he\x00llo":1}}', "NUL"),
    (b'{"logdir":"h","values":{"t":"hello\x00world"}}', "NUL"),
]

N_GOOD = 3000


def _good_client(sock, result):
    try:
        c = Client(sock)
        for i in range(N_GOOD):
            c.send({"logdir": "good", "values": {"v": i, "run": {"w": i}}})
        r = c.request({"op": "flush", "logdir": "good"}, timeout=60)
        errs = []
        result.send("ok" if r.get("ok") else "flush failed: %s" % r)
    except Exception as e:  # noqa: BLE001
        errs = e
        result.send("good client failed: %r" % errs)


def test_hostile_table(tmp):
    d = Daemon(tmp, "--max-line", "64K")
    ctx = multiprocessing.get_context("fork")
    rd, wr = ctx.Pipe(duplex=False)
    good = ctx.Process(target=_good_client, args=(d.sock, wr))
    good.start()
    c = Client(d.sock)
    lines = []
    for i, (body, _) in enumerate(HOSTILE):
        lines.append((L % (i + 1)) + body + b"}")
    for body, _ in RAW:
        lines.append(body)
    c.send_raw(b"\n".join(lines) + b"\n")
    c.send_raw(b'{"id":"end","op":"ping"}\n')
    replies = []
    while True:
        r = c.reply(timeout=30)
        if r.get("id") == "end":
            break
        replies.append(r)
    by_line = {r.get("line"): r for r in replies if "line" in r}
    by_id = {r.get("id"): r for r in replies if "id" in r}
    problems = []
    for i, (body, want) in enumerate(HOSTILE):
        r = by_id.get(i + 1)
        if want is None:
            if not (r and r.get("ok")):
                problems.append("line %d should be accepted: %s" % (i + 1, r))
            continue
        if r is None:
            problems.append("line %d (%r): no reply with its id" % (i + 1, body[:60]))
        elif r.get("ok") is not False or want not in r.get("error", ""):
            problems.append("line %d (%r): %s lacks %r" % (i + 1, body[:60], r, want))
    for k, (body, want) in enumerate(RAW):
        n = len(HOSTILE) + k + 1
        r = by_line.get(n)
        if r is None or r.get("ok") is not False or want not in r.get("error", ""):
            problems.append("raw line %d (%r): %s lacks %r" % (n, body[:40], r, want))
    check(not problems, "\n  " + "\n  ".join(problems))
    # Every reply is valid JSON (c.reply parsed it) and nothing else came.
    check(len(replies) == len(lines) - 0, "%d replies to %d lines" % (len(replies), len(lines)))
    check(rd.poll(120), "good client did not finish")
    msg = rd.recv()
    good.join(30)
    check(msg == "ok", msg)
    check(c.request({"op": "ping"})["pong"], "still alive")
    check(d.stop() == 0, "exit status")
    tags, _ = evfile.load(os.path.join(d.root, "good"))
    vals = sorted(int(v) for _, v in td.scalars(tags["."], "v"))
    check(vals == list(range(N_GOOD)), "good client: %d of %d events" % (len(vals), N_GOOD))
    check(len(tags["run"]["w"]) == N_GOOD, "good client's run")
    tags, _ = evfile.load(os.path.join(d.root, "h"))
    accepted = sum(1 for _, want in HOSTILE if want is None)
    check(list(tags.get(".", {})) == ["x"] and len(tags["."]["x"]) == accepted,
          "only the sane lines of the table were written: %s" % list(tags.get(".", {})))
    eventlint(os.path.join(d.root, "good"))
    print("     %d hostile lines refused with the expected errors" % (len(lines) - 1))
    _ = json


SANITIZED = bool(os.environ.get("TFEVENTS_SANITIZE"))
MIB = 1024 * 1024


def _rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise td.Failure("no VmRSS for pid %d" % pid)


def _pipelined(sock, n):
    """Send n pings with ids in one write (from a thread, as a real
    pipelining client does) while reading; return the ids answered."""
    c = Client(sock)
    burst = b"".join(b'{"op":"ping","id":%d}\n' % i for i in range(n))
    err = []

    def send():
        try:
            c.s.sendall(burst)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    got = set()
    c.s.settimeout(30)
    while len(got) < n:
        try:
            r = c.reply(timeout=30)
        except socket.timeout:
            break
        got.add(r.get("id"))
    t.join(30)
    c.close()
    check(not err, "sending the burst: %s" % err)
    return got


def test_pipelined_replies(tmp):
    """Issue 16 item 4: no reply is dropped for a client that pipelines;
    one that never reads is not read from (bounded memory), others are
    served."""
    d = Daemon(tmp, "--max-replies", "1024")
    for n in (2000, 100000):
        got = _pipelined(d.sock, n)
        check(got == set(range(n)), "%d pipelined pings: %d answered" % (n, len(got)))
    other = d.client()
    st = other.request({"op": "stats"})["stats"]
    check(st["replies_dropped"] == 0 and st["reply_pauses"] > 0,
          "no reply dropped, reading paused instead: %s" % st)
    # A client that never reads: it sends until the daemon stops reading
    # from it (its sends then block), bounded by a time budget.
    lazy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.connect(d.sock)
    lazy.setblocking(False)
    line = b'{"op":"ping","id":"' + b"i" * 100 + b'"}\n'
    chunk = line * 1000
    sent, peak, stalled_since = 0, 0, None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sent < 200 * MIB:
        try:
            sent += lazy.send(chunk)
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.monotonic()
            if time.monotonic() - stalled_since > 1.0:
                break
            time.sleep(0.01)
        peak = max(peak, _rss(d.p.pid))
    check(stalled_since is not None, "the daemon stopped reading a client that never reads "
          "(%d bytes taken)" % sent)
    check(sent < 64 * MIB, "bytes the daemon took from a non-reader: %d" % sent)
    for i in range(20):
        check(other.request({"op": "ping"}, timeout=5)["pong"], "others served")
    check(other.request({"logdir": "busy", "values": {"x": 1}}, timeout=5)["ok"],
          "others' events accepted")
    peak = max(peak, _rss(d.p.pid))
    print("     non-reader: %.1f MiB sent before the daemon stopped reading; RSS peak %.1f MiB"
          % (sent / MIB, peak / MIB))
    if not SANITIZED:
        check(peak < 64 * MIB, "RSS %.1f MiB with a client that never reads" % (peak / MIB))
    lazy.close()
    check(other.request({"op": "ping"})["pong"], "still alive")
    check(d.stop() == 0, "exit status")


def test_log_injection(tmp):
    """Issue 16 item 7: a refused logdir with a newline, ESC or a C1
    control cannot forge or hide a line of the daemon's log: each shows as
    a visible escape, and every line of the log is the daemon's own."""
    d = Daemon(tmp)
    c = d.client()
    forged = "tfeventsd[1]: error: FORGED"
    evil = "a\n" + forged + "\r\x1b[2J\x1b]0;title\x07\u009b31m\\n"
    r = c.request({"logdir": evil, "values": {"x": 1}})
    check(r.get("ok") is False, "refused: %s" % r)
    r = c.request({"logdir": "../\x1b[31m\n" + forged, "values": {"x": 1}})
    check(r.get("ok") is False, "refused: %s" % r)
    check(d.stop() == 0, "exit status")
    with open(d.errpath, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")   # strict: the log is valid UTF-8
    prefix = "tfeventsd[%d]: " % d.p.pid
    lines = text.split("\n")[:-1]
    check(lines and all(line.startswith(prefix) for line in lines),
          "a line not the daemon's own:\n%s" % "\n".join(l for l in lines
                                                           if not l.startswith(prefix)))
    check(not any(line.startswith(forged) for line in lines), "forged line")
    bad = [ch for ch in text if (ord(ch) < 0x20 and ch != "\n") or 0x7f <= ord(ch) <= 0x9f]
    check(not bad, "control characters in the log: %r" % bad[:5])
    check("a\\n" + forged + "\\r\\x1b[2J\\x1b]0;title\\x07\\u009b31m\\\\n" in text,
          "the refused logdir, visibly escaped, in the log:\n%s" % text)
    check("\\x1b[31m\\n" + forged in text, "second refusal escaped")


def test_input_total(tmp):
    """Issue 16 item 5: one bound on the input buffered by all connections
    (--max-input-total): past it the largest unfinished lines are refused
    with a clear error (counted), the daemon stays small, others are
    served, and a refused client goes on with its next line."""
    limit = 8 * MIB
    d = Daemon(tmp, "--max-line", "4M", "--max-input-total", "8M")
    n, part = 16, 3 * MIB
    holders = [d.client() for _ in range(n)]
    peak = 0
    for h in holders:
        h.send_raw(b'{"logdir":"big","values":{"t":"' + b"x" * part)
        peak = max(peak, _rss(d.p.pid))
    other = d.client()
    check(other.request({"op": "ping"}, timeout=10)["pong"], "others served")
    peak = max(peak, _rss(d.p.pid))
    st = other.request({"op": "stats"})["stats"]
    refused = st["limit_input_total"]
    # Whatever is held fits the limit: at least n - limit/part refused.
    check(refused >= n - limit // part, "refused %d of %d half-lines: %s" % (refused, n, st))
    errors = []
    for h in holders:
        h.s.settimeout(0.5)
        try:
            errors.append(h.reply(timeout=0.5))
        except (socket.timeout, OSError):
            pass
    check(len(errors) == refused and all(r.get("ok") is False and r.get("line") == 1 and
                                         "--max-input-total" in r.get("error", "")
                                         for r in errors),
          "each refused holder got a clear error: %s" % errors[:3])
    # Refused or not, each holder finishes its line and goes on.
    for h in holders:
        h.send_raw(b'"}}\n')
        r = h.request({"op": "ping"}, timeout=10)
        check(r.get("pong") is True, "holder goes on: %s" % r)
    print("     %d of %d 3 MiB half-lines refused past 8 MiB; RSS peak %.1f MiB"
          % (refused, n, peak / MIB))
    if not SANITIZED:
        check(peak < 40 * MIB, "RSS %.1f MiB with %d MiB of half-lines offered"
              % (peak / MIB, n * part // MIB))
    for h in holders:
        h.close()
    check(d.stop() == 0, "exit status")


def test_invalid_utf8_id(tmp):
    """An id that is not UTF-8 is refused, not echoed: every reply line is
    valid UTF-8 JSON (Client.reply() decodes each line strictly)."""
    d = Daemon(tmp)
    try:
        c = Client(d.sock)
        c.send_raw(b'{"id":"a\xff\xfeb","op":"ping"}\n'
                   b'{"id":"a\xc3","logdir":"u","values":{"v":1}}\n'
                   b'{"id":"end","op":"ping"}\n')
        for line in (1, 2):
            r = c.reply()
            check(not r["ok"] and "id" not in r and r["line"] == line and
                  "not valid UTF-8" in r["error"], "line %d: %r" % (line, r))
        r = c.reply()
        check(r == {"id": "end", "ok": True, "pong": True, "protocol": 1}, "then %r" % r)
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


TESTS = [test_hostile_table, test_pipelined_replies, test_log_injection, test_input_total,
         test_invalid_utf8_id]

if __name__ == "__main__":
    td.TESTS[:] = TESTS
    sys.exit(td.main())
