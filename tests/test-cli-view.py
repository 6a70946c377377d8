#!/usr/bin/env python3
"""tfevents collect --view tensorboard, --run and --tag: what TensorBoard
keeps of a logdir, compared with the golden data's expected views (what
TensorBoard's Python loader kept, ../shared/golden) and eventlint's purge
emulation; and a worker restarted through the daemon, whose stale points
the view drops. The golden parts skip with a note when ../shared is absent.

Usage: test-cli-view.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import os
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check = td.Daemon, td.check

CLI = os.path.abspath(os.environ.get("TFEVENTS_CLI") or
                      os.path.join(td.BUILD, "client", "tfevents"))
GOLDEN = os.path.join(td.SHARED, "golden") if td.SHARED else ""


def collect(args, want=0):
    p = subprocess.run([CLI, "collect"] + args, capture_output=True, text=True, timeout=120)
    check(p.returncode == want, "collect %s exited %d, expected %d: %s"
          % (" ".join(args), p.returncode, want, p.stderr[:300]))
    return p


def steps_of(jsonl):
    """{(run, tag): [steps in output order]} of collect's JSON lines."""
    out = {}
    for line in jsonl.splitlines():
        j = json.loads(line)
        out.setdefault((j["run"], j["tag"]), []).append(j["step"])
    return out


def view_steps(runs):
    """{(run, tag): steps} of an expected/eventlint "runs" view."""
    return {(r, t): v["steps"] for r, tags in runs.items() for t, v in tags.items()
            if v.get("steps")}


def rust_rule(steps):
    """TensorBoard's Rust loader on top: a step below the tag's previous
    step drops the tag's points at and above it."""
    out, last = [], None
    for s in steps:
        if last is not None and s < last:
            out = [x for x in out if x < s]
        out.append(s)
        last = s
    return out


def golden_cases():
    """(logdir, expected json path) for every golden fixture."""
    cases = []
    edge = os.path.join(GOLDEN, "edge")
    for d in sorted(os.listdir(edge)):
        cases.append((os.path.join(edge, d), os.path.join(edge, d, "expected.json")))
    writers = os.path.join(GOLDEN, "writers")
    for w in sorted(os.listdir(writers)):
        for k in sorted(os.listdir(os.path.join(writers, w))):
            cases.append((os.path.join(writers, w, k),
                          os.path.join(GOLDEN, "expected", "%s-%s.json" % (w, k))))
    return cases


def test_golden_views(tmp):
    if not GOLDEN or not os.path.isdir(GOLDEN):
        raise td.Skip("TFEVENTS_SHARED/golden absent")
    n = rust = 0
    for logdir, exp_path in golden_cases():
        with open(exp_path) as f:
            exp = json.load(f)
        codes = {p.get("code") for p in exp.get("expected_problems", [])}
        want = view_steps(exp["runs"])
        # The Python loader keeps a tag that goes back in time without a
        # restart; the Rust one (also applied by the view) drops its newer
        # points: the golden data says so with a step-backwards warning.
        if "step-backwards" in codes:
            want = {k: rust_rule(v) for k, v in want.items()}
            rust += 1
        corrupt = bool(codes & {"bad-data-crc", "bad-length-crc", "not-an-event"})
        p = collect([logdir, "--view", "tensorboard", "--format", "jsonl"], want=1 if corrupt
                    else 0)
        got = steps_of(p.stdout)
        # A CRC-valid record that is not an Event kills TensorBoard's reload
        # thread (what was loaded before stays, in directory order): the
        # view goes on, as eventlint does, and is only compared with it.
        if "not-an-event" not in codes:
            check(got == want, "%s: view %s\nexpected %s" % (logdir, got, want))
        if td.EVENTLINT:
            e = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                               capture_output=True, text=True, timeout=120)
            lint = view_steps(json.loads(e.stdout)["runs"])
            if "step-backwards" in codes:
                lint = {k: rust_rule(v) for k, v in lint.items()}
            check(got == lint, "%s: view %s\neventlint %s" % (logdir, got, lint))
        n += 1
    check(n >= 30 and rust >= 1, "%d golden cases, %d with the Rust rule" % (n, rust))
    if not td.EVENTLINT:
        td.notes.append("eventlint comparison skipped: TFEVENTS_SHARED/tools/eventlint absent")
    # The raw view of a purged fixture keeps every point; the view does not.
    ps = os.path.join(GOLDEN, "edge", "purge_start")
    raw = steps_of(collect([ps, "--format", "jsonl", "--type", "summary"]).stdout)
    view = steps_of(collect([ps, "--format", "jsonl", "--view", "tensorboard"]).stdout)
    check(sum(map(len, raw.values())) > sum(map(len, view.values())), "purge_start: raw %s "
          "view %s" % (raw, view))


def test_filters(tmp):
    if not GOLDEN or not os.path.isdir(GOLDEN):
        raise td.Skip("TFEVENTS_SHARED/golden absent")
    logdir = os.path.join(GOLDEN, "writers", "tensorboard", "scalar")
    every = steps_of(collect([logdir, "--type", "scalar", "--format", "jsonl"]).stdout)
    runs = sorted({r for r, _ in every})
    tags = sorted({t for _, t in every})
    check(len(runs) >= 2 and len(tags) >= 2, "fixture runs %s tags %s" % (runs, tags))
    import fnmatch
    for rg, tg in ((runs[0], "*"), ("*", tags[0]), (runs[-1][:1] + "*", tags[-1][:2] + "*"),
                   ("nomatch", "*"), ("[", "*")):
        got = steps_of(collect([logdir, "--type", "scalar", "--format", "jsonl", "--run", rg,
                                "--tag", tg]).stdout)
        want = {(r, t): s for (r, t), s in every.items()
                if fnmatch.fnmatchcase(r, rg) and fnmatch.fnmatchcase(t, tg)}
        check(got == want, "--run %s --tag %s: %s, expected %s" % (rg, tg, got, want))
    # --run applies to --type any too; --tag and the view need values.
    p = collect([logdir, "--run", runs[0], "--format", "csv"])
    check(all(line.startswith(runs[0] + ",") for line in p.stdout.splitlines()[1:]) and
          len(p.stdout.splitlines()) > 1, "--run with --type any: %r" % p.stdout[:300])
    for bad in (["--type", "any", "--tag", "x"], ["--type", "any", "--view", "tensorboard"],
                ["--view", "rust"]):
        collect([logdir] + bad, want=2)


def test_restarted_worker(tmp):
    """A worker logs 0..999, is restored to 500 and logs 500..599 again
    through the daemon's restart: raw collect shows 500 stale points, the
    view shows 0..599 once each, as eventlint does."""
    d = Daemon(tmp)
    env = dict(os.environ, TFEVENTS_SOCKET=d.sock)
    env.pop("TFEVENTS_MODE", None)

    def send(lines):
        p = subprocess.run([CLI, "send"], input="\n".join(lines) + "\n", env=env,
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "send: %s %s" % (p.stdout[-300:], p.stderr[-300:]))

    send(['{"logdir":"w","values":{"loss":%d,"t":{"acc":%d}}}' % (i, i) for i in range(1000)])
    p = subprocess.run([CLI, "restart", "500", "--logdir", os.path.join(d.root, "w")], env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "restart: %s" % p.stderr)
    send(['{"logdir":"w","values":{"loss":%d,"t":{"acc":%d}}}' % (-i, -i)
          for i in range(500, 600)])
    logdir = os.path.join(d.root, "w")
    raw = steps_of(collect([logdir, "--type", "scalar", "--format", "jsonl"]).stdout)
    check(len(raw[(".", "loss")]) == 1100, "raw: %d points" % len(raw[(".", "loss")]))
    p = collect([logdir, "--type", "scalar", "--format", "jsonl", "--view", "tensorboard"])
    view = steps_of(p.stdout)
    check(view == {(".", "loss"): list(range(600)), ("t", "acc"): list(range(600))},
          "view: %s" % {k: (len(v), v[495:505]) for k, v in view.items()})
    vals = [json.loads(x)["value"] for x in p.stdout.splitlines()]
    check(vals[500:600] == [float(-i) for i in range(500, 600)], "the new values are shown")
    # -n counts printed rows; csv and table print the same rows.
    p = collect([logdir, "--view", "tensorboard", "--type", "scalar", "-n", "3",
                 "--format", "csv", "--tag", "acc"])
    check(p.stdout.splitlines() == ["run,tag,step,wall_time,value"] +
          ["t,acc,%d,%s,%d" % (i, l.split(",")[3], i) for i, l in
           enumerate(p.stdout.splitlines()[1:])], "csv -n 3: %r" % p.stdout)
    check(len(p.stdout.splitlines()) == 4, "csv -n 3 rows: %r" % p.stdout)
    p = collect([logdir, "--view", "tensorboard", "--run", "t"])
    check(len(p.stdout.splitlines()) == 601, "table: %d lines" % len(p.stdout.splitlines()))
    if td.EVENTLINT:
        e = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                           capture_output=True, text=True, timeout=120)
        check(view_steps(json.loads(e.stdout)["runs"]) == view, "eventlint disagrees")
    check(d.stop() == 0, "daemon exit status")


def test_precision(tmp):
    """Every float32 scalar of the golden writers prints as the shortest
    decimal that reads back as that float32; --precision full as the exact
    double; doubles (tensorboardX can write DT_DOUBLE) keep their digits."""
    if not GOLDEN or not os.path.isdir(GOLDEN):
        raise td.Skip("TFEVENTS_SHARED/golden absent")
    import struct

    def f32(x):
        return struct.unpack("<f", struct.pack("<f", x))[0]

    n = 0
    for w in ("tensorboard", "tensorboardX", "tfevents-r"):
        logdir = os.path.join(GOLDEN, "writers", w, "scalar")
        short = collect([logdir, "--type", "scalar", "--format", "csv"]).stdout.splitlines()
        full = collect([logdir, "--type", "scalar", "--format", "csv", "--precision",
                        "full"]).stdout.splitlines()
        check(len(short) == len(full) > 1, "%s: %d vs %d rows" % (w, len(short), len(full)))
        for a, b in zip(short[1:], full[1:]):
            s, x = a.rsplit(",", 1)[1], float(b.rsplit(",", 1)[1])
            if f32(x) != x or x != x or x in (float("inf"), float("-inf")):
                check(s == b.rsplit(",", 1)[1], "%s: a double printed short: %s" % (w, a))
                continue
            check(f32(float(s)) == x, "%s: %s does not read back as %r" % (w, s, x))
            digits = len(s.lstrip("-").replace(".", "").split("e")[0].strip("0")) or 1
            for k in range(1, digits):
                check(f32(float("%.*g" % (k, x))) != x, "%s: %s is not the shortest for %r "
                      "(%.*g)" % (w, s, x, k, x))
            n += 1
    check(n >= 30, "only %d float32 scalars checked" % n)


TESTS = [test_golden_views, test_filters, test_restarted_worker, test_precision]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    for what, path in (("daemon", td.DAEMON), ("tfevents", CLI)):
        if not os.path.exists(path):
            print("%s not found at %s" % (what, path))
            return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfv.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
