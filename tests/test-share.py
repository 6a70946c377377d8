#!/usr/bin/env python3
"""Logdirs that share run directories.

- One run directory, whatever names reach it (logdir "m" run "n" and
  logdir "m/n" run "."): one writer, one file at a time, one table of last
  steps, so a step refused through one name is refused through the other.

Standard library only; the harness is test-daemon.py's.
Usage: test-share.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import sys

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


TESTS = [test_nested_names_one_run, test_hparams_layout]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfs.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
