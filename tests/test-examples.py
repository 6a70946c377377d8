#!/usr/bin/env python3
"""The clients in examples/ (Python through the tfevents package of
client/python, R, Go, shell with socat or nc: standard libraries only)
against the real daemon, and the daemon's opt-in loopback TCP listener
that the R client needs.

Each example logs five steps of loss and train/acc, a text at its first
step and a histogram at its last into a logdir, at the logdir's next steps,
flushes and checks the reply. Each is run twice into the same logdir (it
must be re-runnable: the second run continues at steps 5..9 instead of
being refused for its own steps); here the logdir is read back with the independent reader (clients/evfile.py) and
checked with eventlint --strict when TFEVENTS_SHARED is present. An example
whose interpreter is not installed is skipped with a message (exit 77 when
nothing at all could run).

Standard library only; the harness is test-daemon.py's.
Usage: test-examples.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, evfile, Failure, Skip = td.Daemon, td.check, td.evfile, td.Failure, td.Skip
_spec = importlib.util.spec_from_file_location("tbinary", os.path.join(_here, "test-binary.py"))
tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tb)

SOURCE = os.environ.get("TFEVENTS_SOURCE_ROOT") or os.path.dirname(_here)
EXAMPLES = os.path.join(SOURCE, "examples")
RUNS = 2   # each example, into the same logdir


def free_port():
    """A TCP port of 127.0.0.1 free right now (the daemon binds it next)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def token_of(d):
    """The token the daemon wrote beside its socket at start."""
    with open(d.sock + ".token") as f:
        return f.read().strip()


def tcp_connect(port, token):
    """A TCP connection that presented token; returns (socket, file, auth reply)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rwb")
    line = {"op": "auth", "token": token} if token is not None else {"op": "ping", "id": 1}
    f.write(json.dumps(line).encode() + b"\n")
    f.flush()
    reply = f.readline()
    return s, f, (json.loads(reply) if reply else None)


def check_logdir(logdir, greeting, runs=RUNS):
    """What every example logs (see their docstrings), run `runs` times:
    run k holds steps 5k..5k+4 with the same values."""
    tags, _ = evfile.load(logdir)
    check(sorted(tags) == [".", "train"], "runs %s" % sorted(tags))
    loss = [(s, evfile.scalar_of(v)) for s, v in tags["."].get("loss", [])]
    check([s for s, _ in loss] == list(range(5 * runs)), "loss steps %s" % loss)
    for s, v in loss:
        check(abs(v - 1.0 / (s % 5 + 1)) < 1e-6, "loss at %d: %r" % (s, v))
    acc = [(s, evfile.scalar_of(v)) for s, v in tags["train"].get("acc", [])]
    check(acc == [(s, (s % 5) / 4) for s in range(5 * runs)], "acc %s" % acc)
    notes = tags["."].get("notes", [])
    check([s for s, _ in notes] == [5 * k for k in range(runs)], "notes %s" % notes)
    # The plugin is in the metadata of a tag's first value (in a file).
    check(notes[0][1].get("plugin") == "text", "notes plugin")
    for _, n in notes:
        check(n["tensor"]["strings"] == [greeting.encode()],
              "notes text %r" % n["tensor"]["strings"])
    w = tags["."].get("weights", [])
    check([s for s, _ in w] == [5 * k + 4 for k in range(runs)], "weights %s" % w)
    check(w[0][1].get("plugin") == "histograms", "weights plugin")
    for _, wv in w:
        t = wv["tensor"]
        check(len(t["shape"]) == 2 and t["shape"][1] == 3, "histogram shape %s" % t["shape"])
        nums = t["doubles"] or t["floats"]
        rows = [nums[i:i + 3] for i in range(0, len(nums), 3)]
        check(len(rows) == t["shape"][0], "histogram rows")
        check(sum(r[2] for r in rows) == 5, "histogram counts %s" % [r[2] for r in rows])
        check(abs(rows[0][0] - 0.1) < 1e-9 and abs(rows[-1][1] - 1.5) < 1e-9, "histogram range")
    td.eventlint(logdir)


def run_example(tmp, argv, logdir_name, greeting, env=None, cwd=None, tcp=False, timeout=300):
    """Runs the example RUNS times into the same logdir of one daemon."""
    args = ["--tcp-port", str(free_port())] if tcp else []
    d = Daemon(tmp, *args)
    try:
        port = args[1] if tcp else None
        full = [a.replace("@SOCK@", d.sock).replace("@PORT@", port or "")
                .replace("@TOKEN@", d.sock + ".token") for a in argv]
        full.append(logdir_name)
        for run in range(RUNS):
            t0 = time.monotonic()
            p = subprocess.run(full, cwd=cwd, env=dict(os.environ, **(env or {})),
                               capture_output=True, text=True, timeout=timeout)
            dt = time.monotonic() - t0
            check(p.returncode == 0 and p.stdout.strip() == "ok",
                  "%s (run %d) exited %d\nstdout: %s\nstderr: %s" %
                  (" ".join(full), run + 1, p.returncode, p.stdout, p.stderr))
            # The example's own flush reply says the data is in the files.
            check_logdir(os.path.join(d.root, logdir_name), greeting, run + 1)
            td.notes.append("%s ran in %.1f s" % (os.path.basename(full[0]), dt))
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def need(prog):
    path = shutil.which(prog)
    if not path:
        raise Skip("%s not installed" % prog)
    return path


def test_python(tmp):
    run_example(tmp, [sys.executable, os.path.join(EXAMPLES, "python", "tfevents_client.py"),
                      "@SOCK@"], "py", "hello from **Python**")


def test_r(tmp):
    rscript = need("Rscript")
    run_example(tmp, [rscript, "--vanilla", os.path.join(EXAMPLES, "r", "tfevents_client.R"),
                      "@PORT@", "@TOKEN@"], "r", "hello from **R**", tcp=True)


def test_go(tmp):
    go = need("go")
    env = {}
    # A build cache of our own unless the caller has one (HOME may be
    # read-only in CI).
    if not os.environ.get("GOCACHE"):
        env["GOCACHE"] = os.path.join(tmp, "gocache")
    env.setdefault("GOPATH", os.environ.get("GOPATH") or os.path.join(tmp, "gopath"))
    env["GOFLAGS"] = ""
    run_example(tmp, [go, "run", "main.go", "@SOCK@"], "go", "hello from **Go**", env=env,
                cwd=os.path.join(EXAMPLES, "go"))


def test_shell_socat(tmp):
    need("socat")
    run_example(tmp, ["sh", os.path.join(EXAMPLES, "shell", "tfevents_client.sh"), "@SOCK@"],
                "sh", "hello from **shell**", env={"TFEVENTS_CONNECTOR": "socat"})


def test_shell_nc(tmp):
    nc = need("nc")
    # Only OpenBSD's nc has -U (Unix sockets) and -N (half-close at EOF).
    h = subprocess.run([nc, "-h"], capture_output=True, text=True)
    if "OpenBSD" not in h.stdout + h.stderr:
        raise Skip("nc is not OpenBSD netcat (no -U/-N)")
    run_example(tmp, ["sh", os.path.join(EXAMPLES, "shell", "tfevents_client.sh"), "@SOCK@"],
                "sh", "hello from **shell**", env={"TFEVENTS_CONNECTOR": "nc"})


def test_tcp_listener(tmp):
    """--tcp-port: both protocols' requests over 127.0.0.1, the Unix socket
    still served; non-loopback addresses and --per-user-root refused."""
    port = free_port()
    d = Daemon(tmp, "--tcp-port", str(port))
    try:
        check("also listening on TCP 127.0.0.1 port %d" % port in d.stderr(),
              "no TCP warning in the log:\n" + d.stderr())
        s, f, auth = tcp_connect(port, token_of(d))
        check(auth == {"op": "auth", "ok": True}, "auth reply %r" % auth)
        lines = [{"id": 1, "op": "ping"},
                 {"logdir": "tcp", "values": {"x": 1.5, "t": "over tcp"}},
                 {"id": 2, "logdir": "tcp", "values": {"x": 2.5}},
                 {"id": 3, "logdir": "tcp", "step": 0, "values": {"x": 9}},
                 {"id": 4, "op": "flush", "logdir": "tcp"}]
        f.write(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
        f.flush()
        replies = {}
        while len(replies) < 4:
            line = f.readline()
            check(line, "TCP connection closed early")
            r = json.loads(line)
            replies[r.get("id")] = r
        check(replies[1].get("pong") is True, "ping %r" % replies[1])
        check(replies[2] == {"id": 2, "ok": True, "step": 1}, "log %r" % replies[2])
        check(replies[3]["ok"] is False and "not greater" in replies[3]["error"], "step policy")
        check(replies[4]["ok"] is True, "flush %r" % replies[4])
        # A TCP peer has no credentials: logged by address, never as uid 0.
        here = "tcp 127.0.0.1:%d, uid unknown" % s.getsockname()[1]
        log = d.stderr()
        check(here in log and "line 4 logdir tcp" in log, "TCP peer in the log:\n" + log)
        check("uid 0)" not in log, "a TCP peer logged as uid 0:\n" + log)
        s.close()
        # The Unix socket at the same time.
        c = d.client()
        check(c.request({"op": "ping"})["ok"], "unix ping")
        c.close()
        tags, _ = evfile.load(os.path.join(d.root, "tcp"))
        x = [(st, evfile.scalar_of(v)) for st, v in tags["."]["x"]]
        check(x == [(0, 1.5), (1, 2.5)], "x %s" % x)
        td.eventlint(os.path.join(d.root, "tcp"))
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    # The port is closed after the daemon exits.
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        raise Failure("TCP port still open after exit")
    except ConnectionRefusedError:
        pass
    # Refused at startup: status 2 and a sentence.
    for args, what in ((["--tcp-port", "1", "--tcp-address", "0.0.0.0"], "tcp-address"),
                       (["--tcp-port", "1", "--tcp-address", "192.168.1.1"], "tcp-address"),
                       (["--tcp-port", "1", "--tcp-address", "::"], "tcp-address"),
                       (["--tcp-port", "70000"], "tcp-port"),
                       (["--tcp-port", "1", "--per-user-root", "yes"], "per-user-root")):
        p = subprocess.run([td.DAEMON, "--socket", os.path.join(tmp, "x.sock"),
                            "--root", os.path.join(tmp, "x")] + args,
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 2 and what in p.stderr,
              "%s: exit %d %r" % (args, p.returncode, p.stderr))
    # A port already taken: the daemon does not start (exit 1).
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    p = subprocess.run([td.DAEMON, "--socket", os.path.join(tmp, "y.sock"),
                        "--root", os.path.join(tmp, "y"), "--tcp-port",
                        str(busy.getsockname()[1])], capture_output=True, text=True, timeout=60)
    busy.close()
    check(p.returncode == 1 and "cannot listen on TCP" in p.stderr,
          "busy port: exit %d %r" % (p.returncode, p.stderr))
    check(not os.path.exists(os.path.join(tmp, "y.sock")), "Unix socket left behind")
    check(not os.path.exists(os.path.join(tmp, "y.sock.token")), "token file left behind")


def test_tcp_token(tmp):
    """The TCP listener's access control: the token file carries the
    socket's group and no wider mode; a connection's first line must
    present the token, or it is refused with a sentence and closed, in
    the JSON and the binary protocols."""
    port = free_port()
    d = Daemon(tmp, "--tcp-port", str(port), "--socket-mode", "0600")
    try:
        tok_path = d.sock + ".token"
        st, sock_st = os.stat(tok_path), os.stat(d.sock)
        check(st.st_mode & 0o777 == 0o600, "token mode %o with socket mode 0600" % st.st_mode)
        check(st.st_gid == sock_st.st_gid, "token group %d, socket's %d" % (st.st_gid,
                                                                          sock_st.st_gid))
        token = token_of(d)
        check(len(token) == 64 and all(ch in "0123456789abcdef" for ch in token),
              "token %r" % token)
        # No token: the first request is answered with a refusal, then EOF.
        for tok, what in ((None, "not authenticated"), ("0" * 64, "wrong token"),
                          (token[:-1], "wrong token"), (token + "0", "wrong token"),
                          ("", "wrong token")):
            s, f, r = tcp_connect(port, tok)
            check(r and r.get("op") == "auth" and r["ok"] is False and what in r["error"],
                  "token %r: %r" % (tok, r))
            check(f.readline() == b"", "connection open after a refusal (%r)" % tok)
            s.close()
        # A token in a line that is not the auth op does not count either.
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(json.dumps({"op": "ping", "token": token}).encode() + b"\n")
        f = s.makefile("rb")
        r = json.loads(f.readline())
        check(r["ok"] is False and "not authenticated" in r["error"], "ping+token %r" % r)
        s.close()
        # Binary magic before the auth line: refused at once, no Hello.
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(tb.MAGIC)
        f = s.makefile("rb")
        r = json.loads(f.readline())
        check(r["ok"] is False and "binary" in r["error"], "magic first %r" % r)
        check(f.readline() == b"", "open after binary refusal")
        s.close()
        # The connection ends before its auth line.
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b'{"op":"au')
        s.shutdown(socket.SHUT_WR)
        r = json.loads(s.makefile("rb").readline())
        check(r["ok"] is False and "ended" in r["error"], "EOF before auth %r" % r)
        s.close()
        # Right token, then the binary protocol on the same connection.
        s, f, r = tcp_connect(port, token)
        check(r == {"op": "auth", "ok": True}, "auth %r" % r)
        c = tb.Conn.__new__(tb.Conn)
        c.s, c.buf = s, b""
        h = c.hello()
        check(h[1] == [1], "Hello over TCP %r" % h)
        c.send(tb.frame([tb.log("bin", [tb.value_scalar("x", 0.5)], rid=1), tb.flush(2, True)]))
        check(c.reply() == {"ok": True, "id": 1, "step": 0}, "binary log over TCP")
        check(c.reply() == {"ok": True, "id": 2}, "binary flush over TCP")
        s.close()
        tags, _ = evfile.load(os.path.join(d.root, "bin"))
        check([(st_, evfile.scalar_of(v)) for st_, v in tags["."]["x"]] == [(0, 0.5)], "bin x")
        # Refusals are logged; nothing was written for them.
        check(d.stderr().count("refused: ") >= 7, "refusals in the log:\n" + d.stderr())
        check(sorted(os.listdir(d.root)) == ["bin"], "logdirs %s" % os.listdir(d.root))
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    check(not os.path.exists(d.sock + ".token"), "token file left after exit")
    # --tcp-token-file, and a group-readable socket: 0640.
    port = free_port()
    path = os.path.join(tmp, "tok")
    with open(path, "w") as f:
        f.write("stale\n")
    d = Daemon(tmp, "--tcp-port", str(port), "--tcp-token-file", path, "--socket-mode", "0660")
    try:
        check(os.stat(path).st_mode & 0o777 == 0o640, "token mode with socket 0660")
        with open(path) as f:
            token = f.read().strip()
        check(token != "stale" and len(token) == 64, "fresh token %r" % token)
        s, f, r = tcp_connect(port, token)
        check(r == {"op": "auth", "ok": True}, "auth with --tcp-token-file %r" % r)
        s.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


TESTS = [test_tcp_listener, test_tcp_token, test_python, test_r, test_go, test_shell_socat, test_shell_nc]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, ran = td.run_tests(TESTS, sel, prefix="tfx.")
    if failed:
        return 1
    return 0 if ran else 77


if __name__ == "__main__":
    sys.exit(main())
