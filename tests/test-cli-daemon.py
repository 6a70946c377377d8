#!/usr/bin/env python3
"""The tfevents commands that talk to tfeventsd -- log, send, step, stats,
ping: their output and exit codes with the real daemon running (on a
temporary socket and root) and with none, and bad usage. The files are read
back with the independent reader (clients/evfile.py) and, when the shared
tools are present, checked with eventlint --strict.

Standard library only; the harness is test-daemon.py's.
Usage: test-cli-daemon.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, evfile, Failure = td.Daemon, td.check, td.evfile, td.Failure

CLI = os.path.abspath(os.environ.get("TFEVENTS_CLI") or
                      os.path.join(td.BUILD, "client", "tfevents"))

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_IO = 0, 1, 2, 3


def run(args, sock, cwd=None, stdin=None, want=None, env_extra=None):
    """Run tfevents with TFEVENTS_SOCKET=sock; check the exit status when
    want is given; return the CompletedProcess (text)."""
    env = dict(os.environ, TFEVENTS_SOCKET=sock)
    env.pop("TFEVENTS_MODE", None)
    env.update(env_extra or {})
    p = subprocess.run([CLI] + args, cwd=cwd, input=stdin, capture_output=True, text=True,
                       env=env, timeout=120)
    if want is not None:
        check(p.returncode == want, "tfevents %s exited %d, expected %d\nstdout: %s\nstderr: %s"
              % (" ".join(args)[:200], p.returncode, want, p.stdout[:500], p.stderr[:500]))
    return p


def scalars(tags, run_, tag):
    return [(s, evfile.scalar_of(v)) for s, v in tags.get(run_, {}).get(tag, [])]


def text_of(v):
    return [s.decode() for s in v["tensor"]["strings"]]


# ---- no daemon ---------------------------------------------------------------

def test_usage_and_no_daemon(tmp):
    none = os.path.join(tmp, "none.sock")
    for cmd in ("log", "send", "step", "stats", "ping", "restart", "flush", "close", "hparams"):
        p = run([cmd, "--help"], none, want=EXIT_OK)
        check(("usage: tfevents " + cmd) in p.stdout, "%s --help: %r" % (cmd, p.stdout[:200]))
    p = run(["--help"], none, want=EXIT_OK)
    for cmd in ("log", "send", "step", "stats", "ping", "restart", "flush", "close", "hparams"):
        check("\n  %s " % cmd in p.stdout, "tfevents --help lacks %s" % cmd)
    bad = [
        ["log"], ["log", "noequals"], ["log", "=1"], ["log", "a/=1"], ["log", "/a=1"],
        ["log", "--step", "soon", "a=1"], ["log", "--step", "-1", "a=1"],
        ["log", "--daemon", "--embedded", "a=1"], ["log", "--bogus", "a=1"],
        ["log", "--logdir"], ["log", "--run", "", "a=1"],
        ["send", "--timeout", "x"], ["send", "--timeout", "0"], ["send", "--bogus"],
        ["step"], ["step", "frob"], ["step", "set"], ["step", "set", "x"],
        ["step", "set", "-2"], ["step", "get", "5"], ["step", "get", "--bogus"],
        ["step", "set", "1", "2"],
        ["ping", "extra"], ["ping", "--bogus"], ["stats", "extra"], ["stats", "-x"],
    ]
    for args in bad:
        p = run(args, none, cwd=tmp, want=EXIT_USAGE)
        check(p.stderr.startswith("tfevents: "), "%s: stderr %r" % (args, p.stderr[:200]))
    check(not os.path.exists(os.path.join(tmp, "logs")), "a usage error wrote files")

    # No daemon: the daemon commands exit 3 and say where they looked.
    for args in (["ping"], ["stats"], ["step", "get"], ["step", "set", "3"],
                 ["log", "--daemon", "a=1"]):
        p = run(args, none, cwd=tmp, want=EXIT_IO)
        check(none in p.stderr, "%s: stderr does not name the socket: %r" % (args, p.stderr))
    p = run(["send"], none, stdin='{"op":"ping","id":1}\n', want=EXIT_IO)
    check(none in p.stderr, "send: %r" % p.stderr)
    # A missing FILE is found before connecting (exit 3 either way).
    p = run(["send", os.path.join(tmp, "missing.jsonl")], none, want=EXIT_IO)
    check("missing.jsonl" in p.stderr, "send missing file: %r" % p.stderr)

    # log without a daemon writes the files itself (auto and --embedded).
    # In auto mode the fallback is said on stderr, naming the socket, why,
    # and the logdir's absolute path; --embedded (asked for) is silent.
    p = run(["log", "loss=0.5", "train/acc=0.25", "note=hello world"], none, cwd=tmp,
            want=EXIT_OK)
    for part in ("no daemon at " + none, os.strerror(2), os.path.join(tmp, "logs"),
                 "in this process"):
        check(part in p.stderr, "auto fallback: %r lacks %r" % (p.stderr, part))
    p = run(["log", "--embedded", "--print-step", "loss=0.75"], none, cwd=tmp, want=EXIT_OK)
    check(p.stdout == "1\n", "--print-step printed %r" % p.stdout)
    check(p.stderr == "", "--embedded said %r" % p.stderr)
    p = run(["log", "--step", "5", "other=1"], none, cwd=tmp, want=EXIT_OK,
            env_extra={"TFEVENTS_MODE": "embedded"})
    check(p.stderr == "", "TFEVENTS_MODE=embedded said %r" % p.stderr)
    tags, _ = evfile.load(os.path.join(tmp, "logs"))
    check(scalars(tags, ".", "loss") == [(0, 0.5), (1, 0.75)], "loss %s" % scalars(tags, ".", "loss"))
    check(scalars(tags, "train", "acc") == [(0, 0.25)], "acc %s" % scalars(tags, "train", "acc"))
    check([text_of(v) for _, v in tags["."]["note"]] == [["hello world"]], "note")
    # The step policy holds in-process too: refused, exit 1, nothing written.
    p = run(["log", "--step", "1", "loss=9"], none, cwd=tmp, want=EXIT_FAIL)
    check("not greater" in p.stderr, "refusal: %r" % p.stderr)
    tags, _ = evfile.load(os.path.join(tmp, "logs"))
    check(len(tags["."]["loss"]) == 2, "a refused log was written")
    td.eventlint(os.path.join(tmp, "logs"))


# ---- with the daemon ---------------------------------------------------------

def test_ping_stats(tmp):
    d = Daemon(tmp)
    p = run(["ping"], d.sock, want=EXIT_OK)
    check(p.stdout.startswith("pong from %s (protocol 1) in " % d.sock), "ping: %r" % p.stdout)
    run(["ping", "--quiet"], d.sock, want=EXIT_OK)
    p = run(["ping", "-q"], d.sock, want=EXIT_OK)
    check(p.stdout == "", "ping -q printed %r" % p.stdout)
    # --socket wins over $TFEVENTS_SOCKET.
    run(["ping", "--socket", d.sock], os.path.join(tmp, "none.sock"), want=EXIT_OK)
    run(["ping", "--socket", os.path.join(tmp, "none.sock")], d.sock, want=EXIT_IO)
    # Three pings so far reached the daemon as connections (the refused one
    # did not), and this stats call is the fifth.
    p = run(["stats"], d.sock, want=EXIT_OK)
    kv = dict(line.split(" ", 1) for line in p.stdout.splitlines())
    check(kv.get("connections_accepted") == "5", "stats: %r" % p.stdout[:300])
    check(kv.get("connections_open") == "1", "stats: connections_open %r" % kv)
    check("errors_json" in kv and "pending_bytes" in kv, "stats keys %r" % sorted(kv))
    p = run(["stats", "--json"], d.sock, want=EXIT_OK)
    st = json.loads(p.stdout)
    check(st["connections_accepted"] == 6 and st["lines"] == 6,
          "stats --json: %r" % p.stdout[:300])
    check(sorted(st) == sorted(kv), "stats --json and plain differ in keys")
    run(["log", "--logdir", os.path.join(d.root, "m"), "x=1", "y=2"], d.sock, want=EXIT_OK)
    p = run(["stats", "--format", "openmetrics"], d.sock, want=EXIT_OK)
    fams = parse_openmetrics(p.stdout)
    st = json.loads(run(["stats", "--format=json"], d.sock, want=EXIT_OK).stdout)
    check(sorted(fams) == sorted("tfeventsd_" + k for k in st),
          "openmetrics families %s vs %s" % (sorted(fams), sorted(st)))
    gauges = {"connections_open", "writers_open", "writers_closing", "logdirs", "pending_bytes"}
    for k, v in st.items():
        typ, samples = fams["tfeventsd_" + k]
        want_t = "gauge" if k in gauges else "counter"
        check(typ == want_t, "%s: type %s, expected %s" % (k, typ, want_t))
        name = "tfeventsd_" + k + ("_total" if want_t == "counter" else "")
        check(list(samples) == [name], "%s: samples %s" % (k, samples))
        # Counters that did not move between the two calls are equal.
        if k in ("events", "files_created", "errors_json"):
            check(samples[name] == v, "%s: %r vs json %r" % (k, samples[name], v))
    check(fams["tfeventsd_events"][1]["tfeventsd_events_total"] == 2, "events %r"
          % (fams["tfeventsd_events"],))
    # Prometheus' 0.0.4 text format: TYPE and HELP name the sample, no EOF.
    p = run(["stats", "-f", "prometheus"], d.sock, want=EXIT_OK)
    prom = parse_openmetrics(p.stdout, prometheus=True)
    check(sorted(prom) == sorted(n for _, smp in fams.values() for n in smp),
          "prometheus families %s" % sorted(prom))
    check(prom["tfeventsd_events_total"] == ("counter", {"tfeventsd_events_total": 2.0}),
          "prometheus events %r" % (prom.get("tfeventsd_events_total"),))
    for bad in (["stats", "--format", "xml"], ["stats", "--format"]):
        run(bad, d.sock, want=EXIT_USAGE)
    check(d.stop() == 0, "daemon exit status")


def parse_openmetrics(text, prometheus=False):
    """A strict reader of the OpenMetrics text format (prometheus: of
    Prometheus' 0.0.4 text format), for what tfevents writes (no labels, no
    timestamps): {family: (type, {sample: value})}. Fails the test on
    anything the format does not allow."""
    import re
    name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    check(text.endswith("\n"), "no final newline")
    lines = text.split("\n")[:-1]
    if prometheus:
        check("# EOF" not in lines, "'# EOF' in Prometheus' format")
        lines.append("# EOF")
    else:
        check(text.endswith("# EOF\n"), "no final '# EOF' line: %r" % text[-100:])
        check(lines.count("# EOF") == 1, "'# EOF' not only at the end")
    types = "counter|gauge|untyped" if prometheus else "counter|gauge|unknown"
    fams, cur, seen_help = {}, None, set()
    for line in lines[:-1]:
        m = re.fullmatch(r"# TYPE (%s) (%s)" % (name_re, types), line)
        if m:
            check(m.group(1) not in fams, "family %s twice" % m.group(1))
            cur = m.group(1)
            fams[cur] = (m.group(2), {})
            continue
        m = re.fullmatch(r"# HELP (%s) (.+)" % name_re, line)
        if m:
            check(m.group(1) == cur and cur not in seen_help, "stray HELP: %r" % line)
            check("\\" not in m.group(2) and '"' not in m.group(2), "unescaped HELP %r" % line)
            seen_help.add(cur)
            continue
        m = re.fullmatch(r"(%s) (-?[0-9][0-9.e+-]*|NaN|[+-]Inf)" % name_re, line)
        check(m is not None, "not an OpenMetrics line: %r" % line)
        check(cur is not None, "sample before any TYPE: %r" % line)
        typ, samples = fams[cur]
        want = cur + "_total" if typ == "counter" and not prometheus else cur
        check(m.group(1) == want, "sample %s in family %s (%s)" % (m.group(1), cur, typ))
        v = float(m.group(2))
        check(typ != "counter" or v >= 0, "negative counter %r" % line)
        samples[m.group(1)] = v
    check(all(f in seen_help for f in fams), "a family without HELP")
    return fams


def test_log_daemon(tmp):
    d = Daemon(tmp)
    root = d.root
    logdir = os.path.join(root, "exp")
    # Names: RUN/TAG split at the last slash; numbers are scalars, anything
    # else text; one invocation is one step.
    p = run(["log", "--daemon", "--logdir", "exp", "-p", "loss=1.5", "a/b/c=2",
             "note=x=y", "big=1e3", "neg=-0.25", "hex=0x10", "empty="],
            d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "0\n", "step printed %r" % p.stdout)
    run(["log", "--logdir", "exp", "loss=2.5"], d.sock, cwd=root, want=EXIT_OK)
    # --text: every value is text, numbers too (at the current step, 1).
    run(["log", "--logdir", "exp", "--step", "current", "--text", "label=3"], d.sock,
        cwd=root, want=EXIT_OK)
    # --run: every value in that run, names whole (slashes kept).
    run(["log", "--logdir", "exp", "--run", "eval", "loss/val=4", "--step", "7"], d.sock,
        cwd=root, want=EXIT_OK)
    # --step current logs at the counter's step (1) without advancing it.
    run(["log", "--logdir", "exp", "--step", "current", "cur=5"], d.sock, cwd=root,
        want=EXIT_OK)
    p = run(["log", "--logdir", "exp", "-p", "loss=3.5"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "2\n", "next step printed %r" % p.stdout)
    # Refused by the step policy: exit 1, the daemon's sentence, nothing written.
    p = run(["log", "--logdir", "exp", "--step", "1", "loss=9"], d.sock, cwd=root,
            want=EXIT_FAIL)
    check("not greater than its last step 2" in p.stderr, "refusal: %r" % p.stderr)
    # Invalid text (not UTF-8) is refused by the daemon: exit 1.
    env = dict(os.environ, TFEVENTS_SOCKET=d.sock)
    bad = subprocess.run([CLI.encode(), b"log", b"--logdir", b"exp", b"t=\xff\xfe"],
                         cwd=root, env=env, capture_output=True, timeout=60)
    check(bad.returncode == EXIT_FAIL, "invalid UTF-8: exit %d %r" % (bad.returncode, bad.stderr))
    # A logdir outside the daemon's root, --daemon: exit 1 with a hint.
    p = run(["log", "--daemon", "--logdir", os.path.join(tmp, "elsewhere"), "x=1"], d.sock,
            want=EXIT_FAIL)
    check("outside the daemon's root" in p.stderr, "outside: %r" % p.stderr)
    check(not os.path.exists(os.path.join(tmp, "elsewhere")), "outside logdir written")
    # The same in auto mode: written here, and said so on stderr.
    aside = os.path.join(tmp, "aside")
    p = run(["log", "--logdir", aside, "x=1"], d.sock, want=EXIT_OK)
    for part in (aside + " is outside the root of the daemon at " + d.sock, "in this process"):
        check(part in p.stderr, "auto outside: %r lacks %r" % (p.stderr, part))
    atags, _ = evfile.load(aside)
    check(scalars(atags, ".", "x") == [(0, 1.0)], "aside %s" % atags)
    # Through the daemon nothing is said.
    p = run(["log", "--logdir", "exp", "quiet=1", "--step", "9"], d.sock, cwd=root,
            want=EXIT_OK)
    check(p.stderr == "", "daemon log said %r" % p.stderr)

    # The files are there as soon as log returns (it waits for the daemon).
    tags, _ = evfile.load(logdir)
    check(scalars(tags, ".", "loss") == [(0, 1.5), (1, 2.5), (2, 3.5)],
          "loss %s" % scalars(tags, ".", "loss"))
    check(scalars(tags, "a/b", "c") == [(0, 2.0)], "a/b c %s" % scalars(tags, "a/b", "c"))
    check(scalars(tags, ".", "big") == [(0, 1000.0)], "big")
    check(scalars(tags, ".", "neg") == [(0, -0.25)], "neg")
    check(scalars(tags, "eval", "loss/val") == [(7, 4.0)], "eval %s" % tags.get("eval"))
    check(scalars(tags, ".", "cur") == [(1, 5.0)], "cur %s" % scalars(tags, ".", "cur"))
    texts = {t: [(s, text_of(v)) for s, v in tags["."][t]] for t in ("note", "hex", "empty",
                                                                        "label")}
    check(texts == {"note": [(0, ["x=y"])], "hex": [(0, ["0x10"])], "empty": [(0, [""])],
                    "label": [(1, ["3"])]}, "texts %r" % texts)
    check("t" not in tags["."], "a refused text was written")
    check(d.stop() == 0, "daemon exit status")
    td.eventlint(logdir)


def test_step(tmp):
    d = Daemon(tmp)
    root = d.root
    p = run(["step", "get", "--logdir", "s"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "-1\n", "fresh counter %r" % p.stdout)
    run(["log", "--logdir", "s", "x=1"], d.sock, cwd=root, want=EXIT_OK)
    p = run(["step", "get", "--logdir", "s"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "0\n", "after one log %r" % p.stdout)
    p = run(["step", "set", "41", "--logdir", "s"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "", "step set printed %r" % p.stdout)
    p = run(["step", "get", "--logdir=s"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "41\n", "after set %r" % p.stdout)
    p = run(["log", "--logdir", "s", "-p", "x=2"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "42\n", "log after set %r" % p.stdout)
    # -1 (a negative number, not an option) starts over.
    run(["step", "set", "-1", "--logdir", "s"], d.sock, cwd=root, want=EXIT_OK)
    p = run(["step", "get", "--logdir", "s"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stdout == "-1\n", "after set -1 %r" % p.stdout)
    # Absolute paths under the root name the same logdir.
    p = run(["step", "get", "--logdir", os.path.join(root, "s")], d.sock, want=EXIT_OK)
    check(p.stdout == "-1\n", "absolute logdir %r" % p.stdout)
    # Outside the root: the request fails (1).
    p = run(["step", "get", "--logdir", os.path.join(tmp, "out")], d.sock, want=EXIT_FAIL)
    check("root" in p.stderr, "outside root: %r" % p.stderr)
    tags, _ = evfile.load(os.path.join(root, "s"))
    check(scalars(tags, ".", "x") == [(0, 1.0), (42, 2.0)], "x %s" % scalars(tags, ".", "x"))
    check(d.stop() == 0, "daemon exit status")


def test_send(tmp):
    d = Daemon(tmp)
    # Replies go to stdout as the daemon sent them: one per line with an id,
    # and every error. Exit 1 when a line failed; the rest is still written.
    lines = ['{"logdir":"s","values":{"x":1}}',
             '{"id":5,"logdir":"s","values":{"x":2}}',
             'not json',
             '{"id":"f","op":"flush","logdir":"s"}',
             '',
             '{"logdir":"s","values":{"x":3}}']      # no final newline
    p = run(["send"], d.sock, stdin="\n".join(lines), want=EXIT_FAIL)
    replies = [json.loads(line) for line in p.stdout.splitlines()]
    check(len(replies) == 3, "replies %r" % p.stdout)
    by_id = {r.get("id"): r for r in replies}
    check(by_id[5] == {"id": 5, "ok": True, "step": 1}, "reply 5: %r" % by_id.get(5))
    check(by_id["f"]["ok"] is True, "flush reply %r" % by_id.get("f"))
    check(by_id[None]["ok"] is False and by_id[None]["line"] == 3, "error %r" % by_id.get(None))
    check("1 error reply" in p.stderr, "stderr %r" % p.stderr)
    tags, _ = evfile.load(os.path.join(d.root, "s"))
    check(scalars(tags, ".", "x") == [(0, 1.0), (1, 2.0), (2, 3.0)], "x %s" % tags)

    # Files: in order; one without a final newline does not join the next.
    f1, f2 = os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")
    with open(f1, "w") as f:
        f.write('{"logdir":"s","values":{"y":1}}\n{"id":1,"logdir":"s","values":{"y":2}}')
    with open(f2, "w") as f:
        f.write('{"id":2,"logdir":"s","values":{"y":3}}\n')
    p = run(["send", f1, f2], d.sock, want=EXIT_OK)
    check([json.loads(x)["id"] for x in p.stdout.splitlines()] == [1, 2], "ids %r" % p.stdout)
    # "-" is standard input, between files.
    p = run(["send", f2, "-"], d.sock, stdin='{"id":"in","op":"ping"}', want=EXIT_OK)
    check([json.loads(x)["id"] for x in p.stdout.splitlines()] == [2, "in"], "%r" % p.stdout)

    # A large input: every line is in the files when send returns, every
    # line with an id answered, in one connection.
    n = 100000
    buf = []
    for i in range(n):
        if i % 1000 == 0:
            buf.append('{"id":%d,"logdir":"big","values":{"v":%d,"r":{"w":%d}}}' % (i, i, i))
        else:
            buf.append('{"logdir":"big","values":{"v":%d,"r":{"w":%d}}}' % (i, i))
    t0 = time.monotonic()
    p = run(["send"], d.sock, stdin="\n".join(buf) + "\n", want=EXIT_OK)
    dt = time.monotonic() - t0
    got = [json.loads(x) for x in p.stdout.splitlines()]
    check(len(got) == n // 1000 and all(r["ok"] for r in got), "%d replies" % len(got))
    check(sorted(r["id"] for r in got) == list(range(0, n, 1000)), "reply ids")
    tags, _ = evfile.load(os.path.join(d.root, "big"))
    vs = scalars(tags, ".", "v")
    check(len(vs) == n and [v for _, v in vs] == [float(i) for i in range(n)], "big: %d" % len(vs))
    check([s for s, _ in vs] == list(range(n)), "big steps")
    check(len(scalars(tags, "r", "w")) == n, "big run r")
    td.notes.append("send: %d lines (%.1f MB) in %.2f s" % (n, len("\n".join(buf)) / 1e6, dt))

    # A key named "id" below the top level, or inside a string, is not an id.
    tricky = ['{"logdir":"s","values":{"id":7}}',
              '{"logdir":"s","values":{"t":"\\"id\\":1"}}',
              '{"id":9,"op":"ping"}']
    p = run(["send"], d.sock, stdin="\n".join(tricky) + "\n", want=EXIT_OK)
    check([json.loads(x).get("id") for x in p.stdout.splitlines()] == [9], "tricky %r" % p.stdout)

    check(d.stop() == 0, "daemon exit status")
    td.eventlint(os.path.join(d.root, "s"))


def test_daemon_hangs_up(tmp):
    # Something that accepts and closes at once: the commands exit 3.
    path = os.path.join(tmp, "rude.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            c.recv(100)
            c.close()

    th = threading.Thread(target=serve)
    th.start()
    try:
        p = run(["send"], path, stdin='{"logdir":"x","values":{"a":1}}\n', want=EXIT_IO)
        check("closed the connection" in p.stderr, "send: %r" % p.stderr)
        run(["ping"], path, want=EXIT_IO)
        run(["stats"], path, want=EXIT_IO)
    finally:
        stop.set()
        th.join()
        srv.close()


def test_default_socket(tmp):
    """With no --socket the daemon and both kinds of client (ping: the
    CLI's own choice; log: libtfevents') meet at the same default:
    $TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock, else
    /run/tfevents.sock as root (sudo, su, containers), from any
    directory (one rule, lib/sockpath.c)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TFEVENTS_SOCKET", "TFEVENTS_MODE", "XDG_RUNTIME_DIR")}
    rt = os.path.join(tmp, "rt")
    os.makedirs(rt)
    cases = [(dict(env, XDG_RUNTIME_DIR=rt), os.path.join(rt, "tfevents.sock")),
             (dict(env, XDG_RUNTIME_DIR=rt, TFEVENTS_SOCKET=os.path.join(tmp, "env.sock")),
              os.path.join(tmp, "env.sock"))]
    if os.geteuid() == 0:
        if os.path.exists("/run/tfevents.sock"):
            td.notes.append("test_default_socket: /run/tfevents.sock in use, root default "
                            "not checked")
        else:
            cases.append((env, "/run/tfevents.sock"))
    else:
        td.notes.append("test_default_socket: not root, /run/tfevents.sock not checked")
    elsewhere = os.path.join(tmp, "elsewhere")
    os.makedirs(elsewhere)
    root = os.path.join(tmp, "logs")
    for i, (e, want) in enumerate(cases):
        p = subprocess.Popen([td.DAEMON, "--root", root], cwd=tmp, env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        td._live_daemons.append(p)
        try:
            line = p.stdout.readline()
            check(line == "tfeventsd: listening on %s\n" % want, "banner %r" % line)
            r = subprocess.run([CLI, "ping"], cwd=elsewhere, env=e, capture_output=True,
                               text=True, timeout=60)
            check(r.returncode == 0 and r.stdout.startswith("pong from %s " % want),
                  "ping from another directory: %d %r %r" % (r.returncode, r.stdout, r.stderr))
            r = subprocess.run([CLI, "log", "--daemon", "--logdir", os.path.join(root, "d%d" % i),
                                "x=1"], cwd=elsewhere, env=e, capture_output=True, text=True,
                               timeout=60)
            check(r.returncode == 0, "log --daemon: %d %r" % (r.returncode, r.stderr))
        finally:
            p.terminate()
            p.wait(60)
        check(p.returncode == 0 and not os.path.exists(want), "daemon exit %d" % p.returncode)
        tags, _ = evfile.load(os.path.join(root, "d%d" % i))
        check(len(tags.get(".", {}).get("x", [])) == 1, "logged through the daemon: %s" % tags)


def loaded_view(logdir):
    """eventlint's view of what TensorBoard keeps ({run: {tag: {...}}}),
    or None (with a note) when the shared tools are absent."""
    if not td.EVENTLINT:
        td.notes.append("TensorBoard's view not checked: TFEVENTS_SHARED/tools/eventlint absent")
        return None
    p = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir], capture_output=True,
                       text=True, timeout=120)
    check(p.returncode == 0, "eventlint %s: %s%s" % (logdir, p.stdout[-500:], p.stderr))
    return json.loads(p.stdout)["runs"]


def starts(events, run_):
    return [ev["step"] for ev in events.get(run_, []) if ev.get("session_log") == 1]


def check_restart_recipe(cwd, sock, logdir, extra):
    """The man page's recipe, as written: logged up to step 150, restored
    a checkpoint of step 100: `tfevents restart 100`, and the next log is
    at step 100; TensorBoard shows 99 and the new 100, not 100..150."""
    for step in ("99", "100", "150"):
        run(["log", "--logdir", logdir, "--step", step, "loss=" + step] + extra, sock,
            cwd=cwd, want=EXIT_OK)
    if not extra:
        # What the old recipe did (a daemon's counter): the next log is refused.
        run(["step", "set", "99", "--logdir", logdir], sock, cwd=cwd, want=EXIT_OK)
        p = run(["log", "--logdir", logdir, "loss=1"], sock, cwd=cwd, want=EXIT_FAIL)
        check("not greater" in p.stderr, "step set then log: %r" % p.stderr)
    run(["restart", "100", "--logdir", logdir] + extra, sock, cwd=cwd, want=EXIT_OK)
    # In-process, each command is a new process that resumes the counter
    # from the files: after the START's step - 1, as the daemon's counter.
    p = run(["log", "--logdir", logdir, "-p", "loss=0.5"] + extra, sock, cwd=cwd,
            want=EXIT_OK)
    check(p.stdout == "100\n", "log after restart at %r" % p.stdout)
    p = run(["log", "--logdir", logdir, "-p", "loss=0.25"] + extra, sock, cwd=cwd,
            want=EXIT_OK)
    check(p.stdout == "101\n", "second log after restart at %r" % p.stdout)
    full = os.path.join(cwd, logdir)
    tags, events = evfile.load(full)
    check(100 in starts(events, "."), "no START at 100: %s" % starts(events, "."))
    view = loaded_view(full)
    if view is not None:
        got = list(zip(view["."]["loss"]["steps"], view["."]["loss"]["values"]))
        check(got == [(99, 99.0), (100, 0.5), (101, 0.25)], "TensorBoard would show %s" % got)


def test_ops_daemon(tmp):
    d = Daemon(tmp)
    root = d.root
    check_restart_recipe(root, d.sock, "r", [])
    # restart --run: only that run.
    run(["log", "--logdir", "r2", "a/x=1", "b/x=1"], d.sock, cwd=root, want=EXIT_OK)
    run(["log", "--logdir", "r2", "a/x=2", "b/x=2"], d.sock, cwd=root, want=EXIT_OK)
    run(["restart", "1", "--run", "a", "--logdir", "r2"], d.sock, cwd=root, want=EXIT_OK)
    _, events = evfile.load(os.path.join(root, "r2"))
    check(1 in starts(events, "a") and starts(events, "b") == [], "restart --run %s %s"
          % (starts(events, "a"), starts(events, "b")))
    # Bad usage.
    for args in (["restart"], ["restart", "x"], ["restart", "-1"], ["restart", "1", "2"],
                 ["restart", "1", "--group", "g"], ["flush", "x"], ["close", "--run", "a"],
                 ["hparams"], ["hparams", "frob"], ["hparams", "start"],
                 ["hparams", "end"], ["hparams", "end", "done"],
                 ["hparams", "end", "success", "--metric", "m"],
                 ["hparams", "config", "--group", "g"]):
        p = run(args, d.sock, cwd=root, want=EXIT_USAGE)
        check(p.stderr.startswith("tfevents: "), "%s: %r" % (args, p.stderr[:200]))
    # close: the next value starts a new file; flush answers.
    run(["log", "--logdir", "c", "x=1"], d.sock, cwd=root, want=EXIT_OK)
    run(["close", "--logdir", "c", "--sync"], d.sock, cwd=root, want=EXIT_OK)
    run(["log", "--logdir", "c", "x=2"], d.sock, cwd=root, want=EXIT_OK)
    p = run(["flush", "--sync"], d.sock, cwd=root, want=EXIT_OK)
    check(p.stderr == "", "flush said %r" % p.stderr)
    files = evfile.event_files(os.path.join(root, "c"))["."]
    check(len(files) == 2, "close: %d files" % len(files))
    # A malformed hparams argument is a refusal before anything is sent.
    for bad in ("lr=0.1..x", "lr=", "=1", "lr=2..1"):
        p = run(["hparams", "config", "--logdir", "h", bad], d.sock, cwd=root,
                want=EXIT_USAGE)
        check(bad in p.stderr, "bad domain: %r" % p.stderr)
    p = run(["hparams", "start", "--logdir", "h", "lr"], d.sock, cwd=root, want=EXIT_USAGE)
    check(not os.path.exists(os.path.join(root, "h")), "a usage error wrote files")
    check_hparams(root, d.sock, "h", [])
    # Outside the root with --daemon: refused.
    p = run(["restart", "3", "--daemon", "--logdir", os.path.join(tmp, "out")], d.sock,
            want=EXIT_FAIL)
    check("outside the daemon's root" in p.stderr, "outside: %r" % p.stderr)
    check(d.stop() == 0, "daemon exit status")
    # r: restart-purge is a warning on purpose (loaded_view checked it).
    for ld in ("c", "h"):
        td.eventlint(os.path.join(root, ld))


def check_hparams(cwd, sock, logdir, extra):
    run(["hparams", "config", "--logdir", logdir, "lr=0.001..0.1", "opt=adam,sgd",
         "layers=1,2,4", "dropout=true,false", "free", "--metric", "loss",
         "--metric", "eval/acc"] + extra, sock, cwd=cwd, want=EXIT_OK)
    run(["hparams", "start", "--logdir", logdir, "--run", "s1", "--group", "g1", "lr=0.01",
         "opt=adam", "layers=2", "dropout=true"] + extra, sock, cwd=cwd, want=EXIT_OK)
    run(["hparams", "end", "--logdir", logdir, "--run", "s1", "failure"] + extra, sock,
        cwd=cwd, want=EXIT_OK)
    view = loaded_view(os.path.join(cwd, logdir))
    if view is None:
        tags, _ = evfile.load(os.path.join(cwd, logdir))
        check("_hparams_/experiment" in tags["."] and
              "_hparams_/session_end_info" in tags["s1"], "hparams tags %s" % tags)
        return
    exp = view["."]["_hparams_/experiment"]["content"]["experiment"]
    infos = {h["name"]: h for h in exp["hparam_infos"]}
    check(infos["lr"]["domain_interval"] == {"min_value": 0.001, "max_value": 0.1},
          "lr %r" % infos["lr"])
    check(infos["opt"]["domain_discrete"] == ["adam", "sgd"] and
          infos["opt"]["type"] == "DATA_TYPE_STRING", "opt %r" % infos["opt"])
    check(infos["layers"]["domain_discrete"] == [1.0, 2.0, 4.0], "layers %r" % infos["layers"])
    check(infos["dropout"]["type"] == "DATA_TYPE_BOOL", "dropout %r" % infos["dropout"])
    check("domain_discrete" not in infos["free"] and "domain_interval" not in infos["free"],
          "free %r" % infos["free"])
    check([m["name"]["tag"] for m in exp["metric_infos"]] == ["loss", "eval/acc"],
          "metrics %r" % exp["metric_infos"])
    ssi = view["s1"]["_hparams_/session_start_info"]["content"]["session_start_info"]
    check(ssi["hparams"] == {"lr": 0.01, "opt": "adam", "layers": 2, "dropout": True} and
          ssi["group_name"] == "g1", "session start %r" % ssi)
    sei = view["s1"]["_hparams_/session_end_info"]["content"]["session_end_info"]
    check(sei["status"] == "STATUS_FAILURE", "session end %r" % sei)


def test_ops_embedded(tmp):
    """The same ops without a daemon: written in-process (said on stderr in
    auto mode); flush and close have nothing to do."""
    none = os.path.join(tmp, "none.sock")
    check_restart_recipe(tmp, none, "r", ["--embedded"])
    check_hparams(tmp, none, "h", ["--embedded"])
    p = run(["restart", "0", "--logdir", "r"], none, cwd=tmp, want=EXIT_OK)
    check("no daemon at " + none in p.stderr, "auto restart: %r" % p.stderr)
    p = run(["flush"], none, cwd=tmp, want=EXIT_OK)
    check("nothing to flush" in p.stderr, "flush without daemon: %r" % p.stderr)
    run(["flush", "--daemon"], none, cwd=tmp, want=EXIT_IO)
    run(["close", "--embedded", "--logdir", "r"], none, cwd=tmp, want=EXIT_OK)
    td.eventlint(os.path.join(tmp, "h"))


TESTS = [test_usage_and_no_daemon, test_ping_stats, test_log_daemon, test_step, test_send,
         test_daemon_hangs_up, test_default_socket, test_ops_daemon, test_ops_embedded]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    for what, path in (("daemon", td.DAEMON), ("tfevents", CLI)):
        if not os.path.exists(path):
            print("%s not found at %s" % (what, path))
            return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfc.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
