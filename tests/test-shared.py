#!/usr/bin/env python3
"""tfeventsd: several writers sharing a logdir (issue 15).

- restart_one_run: with workers logging through the logdir's shared
  counter, one worker's restart of its own run refuses none of the other
  runs' messages; the restarted run goes back as asked.
- tag_keeps_its_kind: a (run, tag) keeps the kind (plugin) of its first
  value, also across a daemon restart (learned from the files).

Standard library only; the harness is test-daemon.py's.
Usage: test-shared.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import os
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, evfile = td.Daemon, td.check, td.evfile


def lint_clean(logdir, allowed=frozenset()):
    """eventlint --json of logdir (None without the shared tools), checked
    to report no problem but those whose codes are in allowed."""
    if not td.EVENTLINT:
        td.notes.append("eventlint part skipped: TFEVENTS_SHARED/tools/eventlint absent")
        return None
    p = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                       capture_output=True, text=True)
    check(p.returncode in (0, 1), "eventlint failed: %s" % p.stderr)
    lint = json.loads(p.stdout)
    bad = [x for x in lint["problems"] if x["code"] not in allowed]
    check(not bad, "%s: eventlint reports %s" % (logdir, bad[:3]))
    return lint


def test_restart_one_run(tmp):
    """Four runs share the counter of logdir "w"; run w1 restarts at step
    10 mid-run. No other run's message is refused, and TensorBoard's view
    of w1 is its points below 10 and those logged after the restart."""
    d = Daemon(tmp)
    try:
        c = d.client()
        runs = ["w0", "w1", "w2", "w3"]
        refused = []
        mine = {r: [] for r in runs}
        for i in range(40):
            for r in runs:
                if r == "w1" and i == 25:
                    a = c.request({"op": "restart", "logdir": "w", "run": "w1", "step": 10})
                    check(a["ok"], "restart: %r" % a)
                    mine["w1"] = [(s, v) for s, v in mine["w1"] if s < 10]
                    w1_step = 10
                msg = {"logdir": "w", "values": {r: {"loss": float(i)}}}
                if r == "w1" and i >= 25:
                    # The restarted worker gives its steps (the counter is shared).
                    msg["step"] = w1_step
                    w1_step += 1
                a = c.request(msg)
                if not a["ok"]:
                    refused.append((r, i, a.get("error")))
                else:
                    mine[r].append((a["step"], float(i)))
        check(not refused, "%d messages refused after one run's restart, first: %r"
              % (len(refused), refused[:1]))
        check(c.request({"op": "flush"})["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    tags, _ = evfile.load(os.path.join(d.root, "w"))
    for r in ["w0", "w2", "w3"]:
        got = td.scalars(tags[r], "loss")
        check(got == mine[r], "run %s: %r != %r" % (r, got[:5], mine[r][:5]))
    # w1 holds its old points too; TensorBoard's loaders drop those at or
    # above 10 (eventlint's loaded view), a purge asked for.
    lint = lint_clean(os.path.join(d.root, "w"), {"restart-purge"})
    if lint is not None:
        for r in runs:
            t = lint["runs"][r]["loss"]
            check(list(zip(t["steps"], t["values"])) == mine[r],
                  "loaded view of %s: %r" % (r, t))


def test_tag_keeps_its_kind(tmp):
    """A tag that holds scalars refuses a string (and a text tag a number),
    with a reply naming the tag and both kinds; nothing of the message is
    written. After a daemon restart the kinds are learned from the files."""
    root = os.path.join(tmp, "logs")
    for round_ in range(2):
        d = Daemon(tmp, root=root)
        try:
            c = d.client()
            base = 10 * round_
            for s in range(3):
                r = c.request({"logdir": "k", "step": base + s,
                               "values": {"loss": 0.5 + s, "note": "n%d" % s}})
                check(r["ok"], "round %d step %d: %r" % (round_, s, r))
            r = c.request({"logdir": "k", "step": base + 5,
                           "values": {"acc": 1.0, "loss": "0.4"}})
            check(not r["ok"] and "'loss'" in r["error"] and "scalars" in r["error"]
                  and "text" in r["error"], "string after scalars: %r" % r)
            r = c.request({"logdir": "k", "step": base + 5, "values": {"note": 3.0}})
            check(not r["ok"] and "'note'" in r["error"] and "holds text" in r["error"]
                  and "scalars" in r["error"], "number after text: %r" % r)
            # Refused whole: acc was not written, so step base+5 is still free.
            r = c.request({"logdir": "k", "step": base + 5, "values": {"acc": 1.0, "loss": 2.0}})
            check(r["ok"], "the right kinds after the refusals: %r" % r)
            check(c.request({"op": "flush"})["ok"], "flush")
            c.close()
        finally:
            rc = d.stop()
        check(rc == 0, "daemon exit status %d" % rc)
    tags, _ = evfile.load(os.path.join(root, "k"))
    check([s for s, _ in td.scalars(tags["."], "loss")] == [0, 1, 2, 5, 10, 11, 12, 15],
          "loss steps: %r" % td.scalars(tags["."], "loss"))
    check([s for s, _ in td.scalars(tags["."], "acc")] == [5, 15], "acc written once a round")
    lint_clean(os.path.join(root, "k"))


def test_tag_kind_embedded(tmp):
    """The same rule in libtfevents' embedded mode, through the CLI:
    `tfevents log loss=abc` after loss=0.5 fails, naming both kinds, and
    the files stay as TensorBoard can read them."""
    cli = os.environ.get("TFEVENTS_CLI")
    if not cli or not os.path.exists(cli):
        raise td.Skip("TFEVENTS_CLI (the tfevents CLI) not set")
    logdir = os.path.join(tmp, "emb")

    def log(arg):
        return subprocess.run([cli, "log", "--embedded", "--logdir", logdir, arg],
                              capture_output=True, text=True, timeout=60)
    check(log("loss=0.5").returncode == 0, "first scalar")
    p = log("loss=abc")
    check(p.returncode != 0 and "'loss'" in p.stderr and "scalars" in p.stderr
          and "text" in p.stderr, "text after scalars: %d %r" % (p.returncode, p.stderr))
    check(log("loss=0.75").returncode == 0, "a scalar again")
    tags, _ = evfile.load(logdir)
    check([v for _, v in td.scalars(tags["."], "loss")] == [0.5, 0.75],
          "loss: %r" % td.scalars(tags["."], "loss"))
    lint_clean(logdir)


TESTS = [test_restart_one_run, test_tag_keeps_its_kind, test_tag_kind_embedded]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfm.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
