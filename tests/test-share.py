#!/usr/bin/env python3
"""Logdirs that share run directories, and logdirs given back when idle.

- One run directory, whatever names reach it (logdir "m" run "n" and
  logdir "m/n" run "."): one writer, one file at a time, one table of last
  steps, so a step refused through one name is refused through the other.
- --max-logdirs counts the logdirs in use at once: idle ones are released
  (the least recently used at the limit, all after --logdir-idle), and a
  released logdir opened again refuses backward steps and resumes its
  counter exactly as before.

Standard library only; the harness is test-daemon.py's.
Usage: test-share.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, evfile, eventlint = td.Daemon, td.check, td.evfile, td.eventlint


def ok(c, obj, what):
    r = c.request(obj)
    check(r.get("ok") is True, "%s: %s" % (what, r))
    return r


def refused(c, obj, what, text="not greater"):
    r = c.request(obj)
    check(r.get("ok") is False and text in r.get("error", ""), "%s: %s" % (what, r))
    return r


def test_nested_names_one_run(tmp):
    """The issue's repro: m/n steps 0..4, flush, logdir m once, m/n 5..19,
    then step 10 through logdir m run n must be refused."""
    d = Daemon(tmp)
    c = d.client()
    for s in range(5):
        ok(c, {"logdir": "m/n", "step": s, "values": {"acc": s / 10}}, "m/n step %d" % s)
    ok(c, {"op": "flush", "logdir": "m/n"}, "flush")
    ok(c, {"logdir": "m", "values": {"config": 1}}, "logdir m once")
    for s in range(5, 20):
        ok(c, {"logdir": "m/n", "step": s, "values": {"acc": s / 10}}, "m/n step %d" % s)
    refused(c, {"logdir": "m", "step": 10, "values": {"n": {"acc": -1}}},
            "a backward step through the parent's name")
    # And the other way: a tag begun through the parent is the child's too.
    ok(c, {"logdir": "m", "step": 30, "values": {"n": {"loss": 1}}}, "loss via m")
    refused(c, {"logdir": "m/n", "step": 29, "values": {"loss": 2}}, "loss via m/n")
    ok(c, {"logdir": "m/n", "step": 31, "values": {"loss": 2}}, "loss via m/n, forward")
    # A tag keeps its kind whatever the name.
    refused(c, {"logdir": "m", "step": 40, "values": {"n": {"loss": "text"}}},
            "another kind through the parent", "holds scalars")
    # Each logdir keeps its own counter: m, opened after m/n's steps 0..4
    # were in the files, resumed after them and logged once, at step 5;
    # m/n's explicit steps since did not move it.
    r = ok(c, {"op": "step_get", "logdir": "m"}, "step_get m")
    check(r.get("step") == 5, "m's own counter: %s" % r)
    r = ok(c, {"op": "step_get", "logdir": "m/n"}, "step_get m/n")
    check(r.get("step") == -1, "m/n logged explicit steps only: %s" % r)
    ok(c, {"op": "flush"}, "flush all")
    check(d.stop() == 0, "exit status")
    files = evfile.event_files(os.path.join(d.root, "m"))
    check(len(files.get("n", [])) == 1, "one writer, one file for m/n: %s" % files)
    tags, _ = evfile.load(os.path.join(d.root, "m"))
    acc = [s for s, _ in td.scalars(tags["n"], "acc")]
    check(acc == list(range(20)), "acc steps in order, nothing backward: %s" % acc)
    check([s for s, _ in td.scalars(tags["n"], "loss")] == [30, 31], "loss steps")
    eventlint(os.path.join(d.root, "m"))


def test_nested_after_release(tmp):
    """The same through a parent opened after the child was released, its
    file still open (the run's state outlives the logdir)."""
    d = Daemon(tmp, "--max-logdirs", "2", "--flush-interval", "60")
    c = d.client()
    for s in range(10):
        ok(c, {"logdir": "p/q", "step": s, "values": {"x": s}}, "p/q step %d" % s)
    ok(c, {"op": "flush", "logdir": "p/q"}, "flush p/q")
    # Two other logdirs: p/q, written and idle, is released to make room.
    ok(c, {"logdir": "o1", "values": {"y": 1}}, "o1")
    ok(c, {"op": "flush", "logdir": "o1"}, "flush o1")
    ok(c, {"logdir": "o2", "values": {"y": 1}}, "o2")
    ok(c, {"op": "flush", "logdir": "o2"}, "flush o2")
    refused(c, {"logdir": "p", "step": 5, "values": {"q": {"x": -1}}},
            "backward through the parent after the child's release")
    r = ok(c, {"op": "step_get", "logdir": "p/q"}, "step_get p/q reopened")
    check(r.get("step") == 9, "the reopened child's counter resumes after step 9: %s" % r)
    refused(c, {"logdir": "p/q", "step": 9, "values": {"x": -1}}, "repeat step in the child")
    ok(c, {"logdir": "p/q", "values": {"x": 10}}, "next step")
    check(d.stop() == 0, "exit status")
    tags, _ = evfile.load(os.path.join(d.root, "p"))
    check([s for s, _ in td.scalars(tags["q"], "x")] == list(range(11)), "x: %s" % tags["q"])
    eventlint(os.path.join(d.root, "p"))


def test_hparams_layout(tmp):
    """The R package's layout: the experiment's config in the parent logdir,
    each trial a child logdir with its own counter."""
    d = Daemon(tmp)
    c = d.client()
    ok(c, {"op": "hparams_config", "logdir": "exp",
           "hparams": [{"name": "lr", "type": "float"}],
           "metrics": [{"tag": "loss"}]}, "config")
    for t in range(3):
        L = "exp/trial%d" % t
        ok(c, {"op": "hparams_session_start", "logdir": L, "hparams": {"lr": 0.1 * (t + 1)}},
           "session start %d" % t)
        for i in range(5):
            r = ok(c, {"logdir": L, "values": {"loss": 1.0 / (i + 1)}}, "trial %d" % t)
            check(r["step"] == i, "each trial counts from 0: %s" % r)
        ok(c, {"op": "hparams_session_end", "logdir": L, "status": "success"},
           "session end %d" % t)
    ok(c, {"op": "flush"}, "flush")
    check(d.stop() == 0, "exit status")
    eventlint(os.path.join(d.root, "exp"))


def test_logdir_slots_given_back(tmp):
    """More distinct logdirs than --max-logdirs, one after the other: none
    is refused; a released one, reopened, refuses a backward step and
    resumes its counter."""
    d = Daemon(tmp, "--max-logdirs", "8")
    c = d.client()
    for i in range(30):
        L = "many/l%02d" % i
        for k in range(3):
            r = ok(c, {"logdir": L, "values": {"loss": i + k / 10}}, "%s value %d" % (L, k))
            check(r["step"] == k, "%s step %s" % (L, r))
        ok(c, {"op": "flush", "logdir": L}, "flush " + L)
    # In use (records not yet written) is never released: refused at the limit.
    os.makedirs(os.path.join(tmp, "b"))
    d2 = Daemon(os.path.join(tmp, "b"), "--max-logdirs", "2", "--flush-interval", "60")
    c2 = d2.client()
    ok(c2, {"logdir": "u1", "values": {"x": 1}}, "u1")
    ok(c2, {"logdir": "u2", "values": {"x": 1}}, "u2")
    refused(c2, {"logdir": "u3", "values": {"x": 1}}, "u3 while u1, u2 are in use",
            "--max-logdirs")
    ok(c2, {"op": "flush", "logdir": "u1"}, "flush u1")
    ok(c2, {"logdir": "u3", "values": {"x": 1}}, "u3 once u1 is written")
    check(d2.stop() == 0, "exit status (second daemon)")
    stats = ok(c, {"op": "stats"}, "stats")["stats"]
    check(stats["logdirs"] <= 8, "at most 8 logdirs open: %s" % stats["logdirs"])
    check(stats["limit_logdirs"] == 0, "no logdir refused: %s" % stats["limit_logdirs"])
    for L in ("many/l00", "many/l01"):   # released long ago
        r = ok(c, {"op": "step_get", "logdir": L}, "step_get " + L)
        check(r.get("step") == 2 and r.get("next") == 3, "%s resumed: %s" % (L, r))
        refused(c, {"logdir": L, "step": 1, "values": {"loss": -1}}, "backward in " + L)
        r = ok(c, {"logdir": L, "values": {"loss": 9}}, "next in " + L)
        check(r["step"] == 3, "%s next step: %s" % (L, r))
    check(d.stop() == 0, "exit status")
    tags, _ = evfile.load(os.path.join(d.root, "many", "l01"))
    check([s for s, _ in td.scalars(tags["."], "loss")] == [0, 1, 2, 3], "l01: %s" % tags)
    eventlint(os.path.join(d.root, "many"))


def test_logdir_idle_release(tmp):
    """--logdir-idle releases what is unused, and only that."""
    d = Daemon(tmp, "--logdir-idle", "0.3", "--flush-interval", "0.05")
    c = d.client()
    ok(c, {"logdir": "idle/a", "values": {"x": 1}}, "a")
    ok(c, {"logdir": "idle/b", "values": {"x": 1}}, "b")
    deadline = time.monotonic() + 10
    n = None
    while time.monotonic() < deadline:
        ok(c, {"logdir": "idle/b", "values": {"x": 2}}, "b stays in use")
        n = c.request({"op": "stats"})["stats"]["logdirs"]
        if n == 1:
            break
        time.sleep(0.05)
    check(n == 1, "the unused logdir was released, the used one kept: %s" % n)
    refused(c, {"logdir": "idle/a", "step": 0, "values": {"x": 5}}, "a reopened: step 0 again")
    r = ok(c, {"logdir": "idle/a", "values": {"x": 2}}, "a next")
    check(r["step"] == 1, "a's counter resumed: %s" % r)
    check(d.stop() == 0, "exit status")
    eventlint(os.path.join(d.root, "idle"))


TESTS = [test_nested_names_one_run, test_nested_after_release, test_hparams_layout,
         test_logdir_slots_given_back, test_logdir_idle_release]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfs.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
