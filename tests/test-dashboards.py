#!/usr/bin/env python3
"""tfeventsd: the newer dashboards' kinds (issue 19) against the golden
files TensorBoard's own code wrote (TFEVENTS_SHARED/golden/dashboards).

- pr_curves: the golden fixture's PR curves, from the same labels and
  predictions (numpy RandomState(0), replayed here by our own MT19937) and
  from raw counts, logged as $pr_curve; TensorBoard's view of our files
  (eventlint --json) equals the fixture's tag by tag: plugin, data class,
  content, display name, description, dtype, shape, steps, every float.
- custom_scalars: the fixture's layout as $layout: the same serialized
  Layout bytes, with the scalars it charts.

Each test also runs eventlint --strict on what the daemon wrote. Tests skip
with a note when the golden files or eventlint are absent. Standard library
only; the harness is test-daemon.py's.
Usage: test-dashboards.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import os
import struct
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check = td.Daemon, td.check

GOLDEN = os.path.join(td.SHARED, "golden", "dashboards") if td.SHARED else ""


def golden(kind):
    """The fixture's expected view, or Skip when the golden files are absent."""
    path = os.path.join(GOLDEN, kind + ".json") if GOLDEN else ""
    if not path or not os.path.exists(path):
        raise td.Skip("golden file dashboards/%s.json absent (TFEVENTS_SHARED unset or "
                      "incomplete)" % kind)
    with open(path) as f:
        return json.load(f)


def loaded(logdir):
    """eventlint --strict must pass; then its --json view of logdir."""
    if not td.EVENTLINT:
        raise td.Skip("eventlint absent (TFEVENTS_SHARED/tools/eventlint)")
    td.eventlint(logdir)
    p = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "eventlint --json: %s" % p.stderr)
    return json.loads(p.stdout)["runs"]


FIELDS = ("plugin", "data_class", "content", "display_name", "description", "dtype", "shape",
          "steps", "values")


def same_tag(ours, theirs, what):
    for k in FIELDS:
        check(ours.get(k) == theirs.get(k), "%s: %s differs: ours %s, TensorBoard's %s"
              % (what, k, json.dumps(ours.get(k))[:300], json.dumps(theirs.get(k))[:300]))


def collect(logdir, tag):
    """tfevents collect --type summary --format jsonl rows of tags matching tag."""
    cli = os.environ.get("TFEVENTS_CLI")
    if not cli:
        td.notes.append("collect part skipped: TFEVENTS_CLI not set")
        return []
    p = subprocess.run([cli, "collect", logdir, "--type", "summary", "--format", "jsonl",
                        "--tag", tag], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "collect: %s" % p.stderr)
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    check(rows, "collect printed no row for %s" % tag)
    return rows


def log_all(tmp, messages):
    """Run a daemon, send messages (dicts) to it, flush; every reply ok."""
    d = Daemon(tmp)
    try:
        c = d.client()
        for m in messages:
            a = c.request(m)
            check(a.get("ok"), "refused: %r for %s" % (a, json.dumps(m)[:200]))
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    return d.root


class MT19937:
    """numpy's legacy RandomState: MT19937 seeded by init_genrand, and
    random_sample() from two 32-bit draws (53 bits)."""

    def __init__(self, seed):
        self.mt = [seed & 0xffffffff]
        for i in range(1, 624):
            prev = self.mt[-1]
            self.mt.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xffffffff)
        self.i = 624

    def u32(self):
        if self.i >= 624:
            mt = self.mt
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908b0df if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c5680
        y ^= (y << 15) & 0xefc60000
        return y ^ (y >> 18)

    def rand(self, n):
        return [((self.u32() >> 5) * 67108864.0 + (self.u32() >> 6)) / 9007199254740992.0
                for _ in range(n)]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_pr_curves(tmp):
    """The fixture's three PR curve tags, logged from their inputs."""
    g = golden("pr_curves")
    rng = MT19937(0)
    msgs = []
    gs = g["runs"]["."]
    for step in range(3):
        # The fixture's data: labels rand < 0.5, predictions
        # clip(0.3 * label + 0.7 * rand) as float32.
        labels = [x < 0.5 for x in rng.rand(40)]
        preds = [f32(min(1.0, max(0.0, (0.3 if lab else 0.0) + r * 0.7)))
                 for lab, r in zip(labels, rng.rand(40))]
        small = {"labels": labels, "predictions": preds, "num_thresholds": 11,
                 "display_name": "small", "description": gs["small/pr_curves"]["description"]}
        if step == 1:
            small["weights"] = [2.0 if lab else 1.0 for lab in labels]
        fine = {"labels": labels, "predictions": preds, "num_thresholds": 201,
                "display_name": "fine"}
        msgs.append({"logdir": "pr", "step": step, "wall_time": 1700000000 + step,
                     "values": {"small/pr_curves": {"$pr_curve": small},
                                "fine/pr_curves": {"$pr_curve": fine}}})
    # The raw run: hand-made counts at 5 thresholds (precision 1 where
    # nothing is predicted positive, as the fixture's author wrote it).
    tp, fp = [10, 8, 5, 2, 0], [10, 4, 1, 0, 0]
    raw = {"true_positives": tp, "false_positives": fp,
           "true_negatives": [fp[0] - x for x in fp], "false_negatives": [tp[0] - x for x in tp],
           "precision": [t / (t + f) if t + f else 1.0 for t, f in zip(tp, fp)],
           "recall": [t / tp[0] for t in tp], "display_name": "raw counts"}
    msgs.append({"logdir": "pr", "step": 0, "values": {"raw": {
        "counts/pr_curves": {"$pr_curve": raw}}}})
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "pr"))
    for run in ("raw", "."):
        check(sorted(runs.get(run, {})) == sorted(g["runs"][run]),
              "run %s tags %r" % (run, sorted(runs.get(run, {}))))
        for tag, theirs in g["runs"][run].items():
            same_tag(runs[run][tag], theirs, "%s/%s" % (run, tag))
    # tfevents collect names the rows.
    names = ["true_positives", "false_positives", "true_negatives", "false_negatives",
             "precision", "recall"]
    for row in collect(os.path.join(root, "pr"), "small/*"):
        want = g["runs"]["."]["small/pr_curves"]["values"][row["step"]]
        check(row["value"]["num_thresholds"] == 11 and
              [row["value"][n] for n in names] == want, "collect: %r" % row)


def test_pr_curve_refusals(tmp):
    """Inputs TensorBoard would silently drop or misread are refused."""
    d = Daemon(tmp)
    bad = [({"labels": [1, 0], "predictions": [0.5, 1.5]}, "[0, 1]"),
           ({"labels": [1, 0], "predictions": [0.5]}, "as many"),
           ({"labels": [1], "predictions": [0.5], "num_thresholds": 1}, "num_thresholds"),
           ({"labels": [1, 0], "predictions": [0.5, 0.2], "weights": [1, 2, 3]}, "weight"),
           ({"true_positives": [1, 0], "false_positives": [1]}, "equal length"),
           ({"labels": [1], "predictions": [0.5], "true_positives": [1]}, "not both")]
    try:
        c = d.client()
        for body, why in bad:
            a = c.request({"logdir": "x", "values": {"pr": {"$pr_curve": body}}})
            check(not a["ok"] and why in a["error"], "%r: %r" % (body, a))
        a = c.request({"logdir": "x", "values": {"layout": {"$layout": {
            "categories": [{"title": "t", "charts": [{"multiline": ["a"]}]}]}}}})
        check(not a["ok"] and "custom_scalars__config__" in a["error"], "layout tag: %r" % a)
        a = c.request({"logdir": "x", "values": {"custom_scalars__config__": {"$layout": {
            "categories": [{"title": "t", "charts": [{"multiline": ["a"], "margin": [
                {"value": "v", "lower": "l", "upper": "u"}]}]}]}}}})
        check(not a["ok"] and "not both" in a["error"], "multiline and margin: %r" % a)
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def test_custom_scalars(tmp):
    """The fixture's layout and its five scalars."""
    g = golden("custom_scalars")
    layout = {"categories": [
        {"title": "losses", "charts": [{"title": "all losses", "multiline": ["loss/.*"]},
                                       {"title": "train only", "multiline": ["loss/train$"]}]},
        {"title": "accuracy", "closed": True, "charts": [
            {"title": "acc with bounds", "margin": [
                {"value": "acc/mean", "lower": "acc/lower", "upper": "acc/upper"}]}]}]}
    msgs = [{"logdir": "cs", "step": 0, "values": {"custom_scalars__config__":
                                                  {"$layout": layout}}}]
    gs = g["runs"]["."]
    for step in range(5):
        msgs.append({"logdir": "cs", "step": step, "values": {
            t: gs[t]["values"][step] for t in gs if t != "custom_scalars__config__"}})
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "cs"))
    check(sorted(runs["."]) == sorted(gs), "tags %r" % sorted(runs["."]))
    for tag, theirs in gs.items():
        same_tag(runs["."][tag], theirs, tag)
    row = collect(os.path.join(root, "cs"), "custom_scalars__config__")
    if row:
        cats = row[0]["value"]["layout"]["category"]
        check([c["title"] for c in cats] == ["losses", "accuracy"] and cats[1]["closed"] and
              cats[1]["chart"][0]["margin"]["series"][0]["upper"] == "acc/upper",
              "collect: %r" % row)


TESTS = [test_pr_curves, test_pr_curve_refusals, test_custom_scalars]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfdash.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
