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
import sys

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


TESTS = [test_hostile_table]

if __name__ == "__main__":
    td.TESTS[:] = TESTS
    sys.exit(td.main())
