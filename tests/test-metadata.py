#!/usr/bin/env python3
"""Display names and descriptions (issue 15, point 5): TensorBoard shows
those of a tag's first value in a run and ignores any later ones. So a
later value may repeat them or carry none, and one that carries others is
refused whole, with a sentence saying why, instead of being answered ok
and dropped. The same through JSON lines, binary frames and `tfevents
send`, also for metadata learned from the files after a daemon restart
(libtfevents, both modes: tests/test-libtfevents.c).

Standard library only; the harness is test-daemon.py's (and the frames
test-binary.py's). Usage: test-metadata.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(_here, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


td = _load("tdaemon", "test-daemon.py")
tb = _load("tbinary", "test-binary.py")
Daemon, check, evfile = td.Daemon, td.check, td.evfile


def metas(logdir, run, tag):
    """[(step, display_name, description)] of (run, tag), metadata or not."""
    out = []
    for run_name, paths in evfile.event_files(logdir).items():
        if run_name != run:
            continue
        for p in paths:
            for payload in evfile.records(p):
                f = evfile.fields(payload)
                if 5 not in f:
                    continue
                step = f.get(2, [0])[0]
                for raw in evfile.fields(f[5][0]).get(1, []):
                    vf = evfile.fields(raw)
                    if vf.get(1, [b""])[0].decode() != tag:
                        continue
                    md = evfile.fields(vf[9][0]) if 9 in vf else {}
                    out.append((step, md.get(2, [b""])[0].decode(),
                                md.get(3, [b""])[0].decode()))
    return out


def scalar(name=None, desc=None, value=1.0):
    v = {"value": value}
    if name is not None:
        v["display_name"] = name
    if desc is not None:
        v["description"] = desc
    return {"$scalar": v}


def test_json(tmp):
    d = Daemon(tmp)
    try:
        c = d.client()
        L = "meta"
        ok = lambda r, what: check(r.get("ok") is True, "%s: %r" % (what, r))  # noqa: E731
        ok(c.request({"logdir": L, "step": 0, "values": {"loss": scalar("Loss", "the loss")}}),
           "first value with its metadata")
        ok(c.request({"logdir": L, "step": 1, "values": {"loss": scalar("Loss", "the loss")}}),
           "the same again")
        ok(c.request({"logdir": L, "step": 2, "values": {"loss": 0.5}}), "none")
        r = c.request({"logdir": L, "step": 3,
                       "values": {"acc": 1, "loss": scalar("Loss (new)", "the loss")}})
        check(r.get("ok") is False and "tag 'loss' in run '.'" in r["error"]
              and "another display name or description" in r["error"]
              and "only the display name and description of a tag's first value" in r["error"]
              and "nothing of this message was written" in r["error"],
              "another display name refused: %r" % r)
        r = c.request({"logdir": L, "step": 3, "values": {"loss": scalar("Loss", None)}})
        check(r.get("ok") is False and "another display name" in r["error"],
              "another description (none) refused: %r" % r)
        # A tag first written without metadata cannot get some later.
        ok(c.request({"logdir": L, "step": 0, "values": {"plain": 1}}), "plain")
        r = c.request({"logdir": L, "step": 1, "values": {"plain": {"$text": {
            "value": "x", "display_name": "Plain"}}}})
        check(r.get("ok") is False and "kind" in r["error"], "kind first: %r" % r)
        r = c.request({"logdir": L, "step": 1, "values": {"plain": scalar("Plain")}})
        check(r.get("ok") is False and "without a display name or description" in r["error"],
              "late display name refused: %r" % r)
        # Another run's tag of the same name is another tag.
        ok(c.request({"logdir": L, "step": 3, "values": {"train": {"loss": scalar("T")}}}),
           "another run")
        ok(c.request({"logdir": L, "step": 3, "values": {"loss": 0.25}}), "step 3 after refusals")
        ok(c.request({"op": "flush"}), "flush")
        c.close()
        # The metadata the files hold are learned at the next start.
        check(d.stop() == 0, "daemon exit status")
        d = Daemon(tmp)
        c = d.client()
        ok(c.request({"logdir": L, "step": 4, "values": {"loss": scalar("Loss", "the loss")}}),
           "the first value's metadata after a restart")
        r = c.request({"logdir": L, "step": 5, "values": {"loss": scalar("Other", "the loss")}})
        check(r.get("ok") is False and "another display name" in r["error"],
              "learned from the files: %r" % r)
        r = c.request({"logdir": L, "step": 5, "values": {"train": {"loss": scalar("U")}}})
        check(r.get("ok") is False and "run 'train'" in r["error"], "train learned: %r" % r)
        ok(c.request({"op": "flush"}), "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    logdir = os.path.join(d.root, L)
    got = metas(logdir, ".", "loss")
    check([s for s, _, _ in got] == [0, 1, 2, 3, 4], "loss steps %r" % got)
    check(got[0] == (0, "Loss", "the loss"), "first metadata %r" % (got[0],))
    check(all(n in ("", "Loss") for _, n, _ in got), "no other display name written %r" % got)
    check(metas(logdir, ".", "acc") == [], "a refused message is refused whole")
    td.eventlint(logdir)


def value_meta(tag, x, name=None, desc=None):
    return (tb.f_bytes(2, tag) + (tb.f_bytes(3, name) if name is not None else b"")
            + (tb.f_bytes(4, desc) if desc is not None else b"") + tb.f_double(10, x))


def test_binary(tmp):
    d = Daemon(tmp)
    try:
        c = tb.Conn(d.sock)
        c.hello()
        L = "bmeta"
        c.send(tb.frame([tb.log(L, [value_meta("w", 1, "Weight", "d")], step=0, rid=1),
                         tb.log(L, [value_meta("w", 2, "Weight", "d")], step=1, rid=2),
                         tb.log(L, [value_meta("w", 3)], step=2, rid=3),
                         tb.log(L, [value_meta("w", 4, None, "other")], step=3, rid=4),
                         tb.log(L, [value_meta("w", 5, "Weight", "d")], step=3, rid=5),
                         tb.flush(6)]))
        rs = {}
        while len(rs) < 6:
            r = c.reply()
            rs[r["id"]] = r
        check(all(rs[i]["ok"] for i in (1, 2, 3, 5, 6)), "accepted: %r" % rs)
        check(not rs[4]["ok"] and "another display name or description" in rs[4]["error"]
              and rs[4].get("request") == 4, "refused: %r" % rs[4])
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    logdir = os.path.join(d.root, L)
    got = metas(logdir, ".", "w")
    check([s for s, _, _ in got] == [0, 1, 2, 3] and got[0] == (0, "Weight", "d"),
          "binary: %r" % got)
    td.eventlint(logdir)


def test_cli_send(tmp):
    cli = os.environ.get("TFEVENTS_CLI")
    if not cli:
        raise td.Skip("TFEVENTS_CLI (the tfevents CLI) not set")
    d = Daemon(tmp)
    try:
        lines = ('{"id":1,"logdir":"cmeta","step":0,"values":{"s":{"$text":'
                 '{"value":"a","display_name":"Notes"}}}}\n'
                 '{"id":2,"logdir":"cmeta","step":1,"values":{"s":{"$text":'
                 '{"value":"b","description":"changed"}}}}\n')
        p = subprocess.run([cli, "send", "--socket", d.sock], input=lines,
                           capture_output=True, text=True, timeout=60)
        out = p.stdout.splitlines()
        check(len(out) >= 2 and '"ok":true' in out[0].replace(" ", "")
              and "another display name or description" in out[1],
              "tfevents send: rc %d %r %s" % (p.returncode, out, p.stderr))
        check(p.returncode != 0, "tfevents send exits non-zero after a refusal (%d)"
              % p.returncode)
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    got = metas(os.path.join(d.root, "cmeta"), ".", "s")
    check(got == [(0, "Notes", "")], "cli: %r" % got)


TESTS = [test_json, test_binary, test_cli_send]

if __name__ == "__main__":
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        sys.exit(1)
    failed, _ = td.run_tests(TESTS, sys.argv[1] if len(sys.argv) > 1 else "", prefix="tfmeta.")
    sys.exit(1 if failed else 0)
