#!/usr/bin/env python3
"""tfeventsd: restarts that TensorBoard's Python loader purges, the scan of
existing files on the thread pool, and scalars that are not numbers.

- restart: a run without a SessionLog START gets two (the Python loader
  ignores a run's first), a run with one gets one; the knowledge comes from
  the scan after a daemon restart. eventlint's loaded view is the purged one.
- scan: while a large logdir is scanned, other clients are answered; the
  messages that waited run in order with the resumed steps.
- NaN and the infinities round-trip as "NaN", "Infinity", "-Infinity";
  a literal that overflows a double is refused.

Standard library only; the harness is test-daemon.py's.
Usage: test-scan.py [TEST-NAME-SUBSTRING]
Environment: WRITE_EVENTS (tests/write-events) for the large logdir."""

import importlib.util
import json
import math
import os
import re
import select
import subprocess
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, evfile = td.Daemon, td.check, td.evfile
_spec = importlib.util.spec_from_file_location("tbinary", os.path.join(_here, "test-binary.py"))
tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tb)

notes = td.notes


def lint_json(logdir):
    """eventlint --json of logdir, or None without the shared tools."""
    if not td.EVENTLINT:
        notes.append("eventlint part skipped: TFEVENTS_SHARED/tools/eventlint absent")
        return None
    p = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                       capture_output=True, text=True)
    check(p.returncode in (0, 1), "eventlint failed: %s" % p.stderr)
    return json.loads(p.stdout)


def session_starts(logdir, run="."):
    """The steps of a run's SessionLog START events, in file order (Event
    field 7 = session_log, its field 1 = status, START = 1)."""
    out = []
    for path in evfile.event_files(logdir).get(run, []):
        for payload in evfile.records(path):
            f = evfile.fields(payload)
            for sl in f.get(7, []):
                if evfile.fields(sl).get(1) == [1]:
                    out.append(f.get(2, [0])[0])
    return out


def view(lint, run, tag):
    t = lint["runs"].get(run, {}).get(tag)
    check(t is not None, "eventlint shows no %s/%s: %s" % (run, tag, lint["runs"]))
    return t["steps"], t["values"]


def check_purged(logdir, run, tag, want_steps, want_values):
    lint = lint_json(logdir)
    if lint is None:
        return
    steps, values = view(lint, run, tag)
    check(steps == want_steps and values == want_values,
          "%s: loaded view %s %s, want %s %s" % (logdir, steps, values, want_steps, want_values))
    codes = set(p["code"] for p in lint["problems"])
    # Purging is what eventlint reports as restart-purge (a warning that
    # points were deleted, on purpose here); nothing else may show up.
    check(codes <= {"restart-purge"}, "%s: problems %s" % (logdir, lint["problems"]))


def log_steps(c, logdir, tag, steps, base=0.0):
    for s in steps:
        r = c.request({"logdir": logdir, "step": s, "values": {tag: base + s}})
        check(r.get("ok"), "log %s step %d: %s" % (tag, s, r))


def test_restart_purges(tmp):
    root = os.path.join(tmp, "logs")
    d = Daemon(tmp, root=root)
    c = d.client()
    # A fresh run: no START yet, so the restart writes two.
    log_steps(c, "fresh", "a", range(10))
    r = c.request({"op": "restart", "logdir": "fresh", "step": 5})
    check(r.get("ok") and r.get("step") == 5, "restart: %s" % r)
    r = c.request({"logdir": "fresh", "values": {"a": 105}})
    check(r.get("step") == 5, "next step after restart: %s" % r)
    # A run that has a START already (from the first restart): one more.
    log_steps(c, "again", "a", range(10))
    check(c.request({"op": "restart", "logdir": "again", "step": 5})["ok"], "restart 1")
    log_steps(c, "again", "a", range(5, 8), base=100)
    check(c.request({"op": "restart", "logdir": "again", "step": 3})["ok"], "restart 2")
    check(c.request({"logdir": "again", "values": {"a": 203}})["step"] == 3, "step 3")
    # Logged by this daemon, restarted by the next one.
    log_steps(c, "later", "a", range(10))
    check(c.request({"op": "flush", "sync": True})["ok"], "flush")
    check(session_starts(os.path.join(root, "fresh")) == [5, 5], "two STARTs in a fresh run: %s"
          % session_starts(os.path.join(root, "fresh")))
    check(session_starts(os.path.join(root, "again")) == [5, 5, 3], "one more START: %s"
          % session_starts(os.path.join(root, "again")))
    check_purged(os.path.join(root, "fresh"), ".", "a", [0, 1, 2, 3, 4, 5],
                 [0.0, 1.0, 2.0, 3.0, 4.0, 105.0])
    check_purged(os.path.join(root, "again"), ".", "a", [0, 1, 2, 3], [0.0, 1.0, 2.0, 203.0])
    check(d.stop() == 0, "exit status")

    # A new daemon learns from the files which runs hold a START.
    d = Daemon(tmp, root=root)
    c = d.client()
    check(c.request({"op": "restart", "logdir": "later", "step": 5})["ok"], "restart later")
    check(c.request({"logdir": "later", "values": {"a": 105}})["step"] == 5, "later step 5")
    check(c.request({"op": "restart", "logdir": "again", "step": 2})["ok"], "restart again")
    check(c.request({"logdir": "again", "values": {"a": 302}})["step"] == 2, "again step 2")
    check(c.request({"op": "flush"})["ok"], "flush")
    later = os.path.join(root, "later")
    again = os.path.join(root, "again")
    check(session_starts(later) == [5, 5], "later: %s" % session_starts(later))
    check(session_starts(again) == [5, 5, 3, 2], "again: %s" % session_starts(again))
    check_purged(later, ".", "a", [0, 1, 2, 3, 4, 5], [0.0, 1.0, 2.0, 3.0, 4.0, 105.0])
    check_purged(again, ".", "a", [0, 1, 2], [0.0, 1.0, 302.0])
    check(d.stop() == 0, "exit status")


def make_big(root, name, records):
    """A logdir of `records` scalar records (steps 0..19999 repeated), made
    with tests/write-events and copied; returns its largest step."""
    exe = os.environ.get("WRITE_EVENTS", "")
    check(exe and os.path.exists(exe), "WRITE_EVENTS not set")
    per = 20000
    out = subprocess.run([exe, "new", os.path.join(root, name), "t", "0"] +
                         ["%d.5" % i for i in range(per)], capture_output=True, text=True,
                         check=True).stdout.strip()
    with open(out, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        for _ in range((records + per - 1) // per):
            f.write(data)
    return per - 1


def readable(sock):
    return bool(select.select([sock], [], [], 0)[0])


def test_scan_off_the_loop(tmp):
    root = os.path.join(tmp, "logs")
    last = make_big(root, "big", 600000)
    d = Daemon(tmp, root=root)
    a, b, c3 = d.client(), d.client(), d.client()
    check(b.request({"op": "ping"})["pong"], "ping before")
    # a names the large logdir: its scan starts; a's flush must wait for
    # a's logs, and c3's log (sent later) comes after a's.
    t0 = time.monotonic()
    a.send({"id": 1, "logdir": "big", "values": {"t": 1}})
    a.send({"id": 2, "logdir": "big", "values": {"t": 2, "u": 2}})
    a.send({"id": 3, "op": "flush", "logdir": "big"})
    a.send({"id": 4, "logdir": "small", "values": {"x": 1}})   # held behind a's earlier lines
    time.sleep(0.02)
    c3.send({"id": 1, "logdir": "big", "values": {"t": 3}})
    # The binary protocol waits the same way; its ping is held behind its log.
    bc = tb.Conn(d.sock)
    bc.hello()
    time.sleep(0.02)
    bc.send(tb.frame([tb.log("big", [tb.value_scalar("t", 4.0)], rid=11), tb.ping(12),
                      tb.step_get("big", 13)]))
    # b is not held: another logdir, and a ping.
    r1 = b.request({"logdir": "other", "values": {"x": 1}})
    r2 = b.request({"op": "ping"})
    t_b = time.monotonic() - t0
    a_early = readable(a.s)
    check(r1.get("step") == 0 and r2.get("pong"), "b answered: %s %s" % (r1, r2))
    replies = [a.reply(60) for _ in range(4)]
    t_a = time.monotonic() - t0
    check(not a_early, "a was answered before b (the scan took %.3f s, b %.3f s)" % (t_a, t_b))
    # A flush is answered once written, so possibly after later lines.
    ids = [r.get("id") for r in replies]
    check(ids in ([1, 2, 3, 4], [1, 2, 4, 3]), "a's replies in order: %s" % replies)
    by_id = {r["id"]: r for r in replies}
    check(by_id[1].get("step") == last + 1 and by_id[2].get("step") == last + 2,
          "resumed steps: %s" % replies)
    check(by_id[3].get("ok") and by_id[4].get("step") == 0, "flush, small: %s" % replies)
    r = c3.reply(60)
    check(r.get("step") == last + 3, "c3 after a: %s" % r)
    br = [bc.reply() for _ in range(3)]
    check([r.get("id") for r in br] == [11, 12, 13] and br[0].get("step") == last + 4 and
          br[1].get("pong") and br[2].get("step") == last + 4, "binary client: %s" % br)
    check(b.request({"op": "step_get", "logdir": "big"})["step"] == last + 4, "counter")
    st = b.request({"op": "stats"})["stats"]
    check(st["errors_step"] == 0, "no step errors: %s" % st)
    log = d.stderr()
    m = re.search(r"logdir 'big': opened \(1 event files, (\d+) records found", log)
    check(m and int(m.group(1)) >= 600000, "scan logged:\n%s" % log[-2000:])
    notes.append("scan: b answered after %.3f s, a after %.3f s" % (t_b, t_a))
    # SIGTERM while a scan runs: the lines that wait for it still run.
    d.stop()
    d = Daemon(tmp, root=root)
    a = d.client()
    a.send({"id": 9, "logdir": "big", "values": {"t": 9}})
    time.sleep(0.05)
    check(d.stop() == 0, "exit status")
    tags, _ = evfile.load(os.path.join(root, "big"))
    got = [s for s, _v in tags["."]["t"]][-5:]
    check(got == [last + 1, last + 2, last + 3, last + 4, last + 5],
          "the held message ran before the exit: %s" % got)


def test_nonfinite_scalars(tmp):
    root = os.path.join(tmp, "logs")
    d = Daemon(tmp, root=root)
    c = d.client()
    for i, v in enumerate(["NaN", "Infinity", "-Infinity"]):
        r = c.request({"logdir": "nf", "step": i, "values": {"s": {"$scalar": {"value": v}}}})
        check(r.get("ok"), "%s: %s" % (v, r))
    for bad in ["nan", "inf", "1.5", ""]:
        r = c.request({"logdir": "nf", "step": 9, "values": {"s": {"$scalar": {"value": bad}}}})
        check(r.get("ok") is False and "NaN" in r.get("error", ""), "%r refused: %s" % (bad, r))
    for lit in ["1e400", "-1e400", "1.8e308"]:
        c.send_raw(b'{"id":"x","logdir":"nf","values":{"s":' + lit.encode() + b'}}\n')
        r = c.reply()
        check(r.get("ok") is False and r.get("error") == "number out of range: " + lit,
              "%s: %s" % (lit, r))
    r = c.request({"logdir": "nf", "values": {"t" * 3000: {"$scalar": {"value": True}}}})
    e = r.get("error", "")
    # The name is cut to 64 bytes and an ellipsis, so the whole reason fits.
    check(e.startswith("value '" + "t" * 64 + "\u2026': ") and len(e) < 256 and
          e.endswith('$scalar needs a numeric "value" (or "NaN", "Infinity", "-Infinity")'),
          "name cut, reason whole: %r" % e)
    check(c.request({"op": "flush"})["ok"], "flush")
    tags, _ = evfile.load(os.path.join(root, "nf"))
    vals = [evfile.scalar_of(v) for _s, v in tags["."]["s"]]
    check(len(vals) == 3 and math.isnan(vals[0]) and vals[1] == math.inf and
          vals[2] == -math.inf, "round trip: %s" % vals)
    lint = lint_json(os.path.join(root, "nf"))
    if lint is not None:
        steps, values = view(lint, ".", "s")
        values = [float(v) for v in values]   # non-finite values may come as strings
        check(steps == [0, 1, 2] and math.isnan(values[0]) and values[1:] == [math.inf, -math.inf],
              "eventlint view: %s %s" % (steps, values))
    check(d.stop() == 0, "exit status")


def test_steps_near_the_limit(tmp):
    """The counter never leaves 0..2^53 and never overflows: a file holding
    step 2^63-1 (another program's) is reported, not used; after step_set
    2^53 there is no next step; explicit steps in range still work."""
    exe = os.environ.get("WRITE_EVENTS", "")
    check(exe and os.path.exists(exe), "WRITE_EVENTS not set")
    d = Daemon(tmp)
    big = 2**63 - 1
    subprocess.run([exe, "new", os.path.join(d.root, "far"), "loss", str(big), "1.0"],
                   check=True, capture_output=True)
    try:
        c = d.client()
        r = c.request({"op": "step_get", "logdir": "far"})
        check(not r["ok"] and "beyond the largest step" in r["error"] and str(big) in r["error"],
              "step_get of a counter from files past 2^53: %r" % r)
        r = c.request({"logdir": "far", "values": {"acc": 0.5}})
        check(not r["ok"] and "beyond the largest step" in r["error"], "next step: %r" % r)
        r = c.request({"logdir": "far", "step": 3, "values": {"acc": 0.5}})
        check(r["ok"] and r["step"] == 3, "explicit step in range: %r" % r)
        r = c.request({"op": "step_set", "logdir": "far", "step": 10})
        check(r["ok"] and r["next"] == 11, "step_set back in range: %r" % r)
        r = c.request({"logdir": "far", "values": {"acc": 0.25}})
        check(r["ok"] and r["step"] == 11, "next step after step_set: %r" % r)

        top = 2**53
        r = c.request({"op": "step_set", "logdir": "top", "step": top})
        check(r["ok"] and r["step"] == top and "next" not in r, "step_set 2^53: %r" % r)
        r = c.request({"op": "step_get", "logdir": "top"})
        check(r["ok"] and r["step"] == top and "next" not in r, "step_get at 2^53: %r" % r)
        r = c.request({"logdir": "top", "values": {"x": 1}})
        check(not r["ok"] and "at the largest step" in r["error"], "log past 2^53: %r" % r)
        r = c.request({"logdir": "top", "step": top, "values": {"x": 1}})
        check(r["ok"] and r["step"] == top, "log at 2^53: %r" % r)
        r = c.request({"logdir": "top", "step": top + 1, "values": {"x": 2}})
        check(not r["ok"], "log at 2^53+1 refused: %r" % r)
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


TESTS = [test_restart_purges, test_scan_off_the_loop, test_nonfinite_scalars,
         test_steps_near_the_limit]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    failed, _ = td.run_tests(TESTS, sel, prefix="tfs.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
