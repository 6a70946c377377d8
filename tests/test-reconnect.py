#!/usr/bin/env python3
"""libtfevents survives a daemon restart (issue 15, point 6).

A libtfevents handle in daemon mode (tests/reconnect-client, driven line by
line) logs while the real tfeventsd is restarted under it: by SIGTERM and
by kill -9, on a socket the daemon binds itself and under socket
activation (this script holds the listening socket across restarts, as
systemd does). Afterwards every value whose flush was acknowledged is in
the files exactly once, values at explicit steps sent but not acknowledged
are there exactly once too (sent again, what the daemon had written
skipped), and tfevents_lost() counts exactly what the library did not send
again: the messages at the counter's step the killed daemon may have
carried out. With a daemon that keeps its buffers (a long
--flush-interval), those are really lost: the count equals the points
missing. A daemon that does not come back within reconnect_timeout costs
exactly the messages not acknowledged, and the handle works again once it
is back. Every logdir must pass eventlint --strict.

Standard library only; the harness is test-daemon.py's.
Usage: test-reconnect.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import select
import signal
import socket
import subprocess
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
check, evfile = td.check, td.evfile

CLIENT = os.environ.get("RECONNECT_CLIENT", "")
ECONNRESET = 104
# The daemon keeps what it was sent in memory until a flush: a kill -9
# then loses everything not acknowledged.
KEEPS = ["--flush-interval", "30"]


class Client:
    """tests/reconnect-client: one command, one answer line."""

    def __init__(self):
        self.p = subprocess.Popen([CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        td._live_daemons.append(self.p)   # killed at exit whatever happens
        self.buf = b""

    def send(self, cmd):
        self.p.stdin.write(cmd.encode() + b"\n")
        self.p.stdin.flush()

    def answer(self, timeout=90):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            check(left > 0, "reconnect-client did not answer within %d s" % timeout)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                check(chunk, "reconnect-client exited (status %s)" % self.p.poll())
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def do(self, cmd, want="ok"):
        self.send(cmd)
        a = self.answer()
        if want is not None:
            check(a == want, "%s: %r" % (cmd, a))
        return a

    def counters(self):
        a = self.do("counters", None)
        return dict(kv.split("=") for kv in a.split()[1:])

    def close(self):
        self.do("close")
        self.p.stdin.close()
        rc = self.p.wait(30)
        check(rc == 0, "reconnect-client exit status %d (a sanitizer's report?)" % rc)


class Activated:
    """What a service manager does with a socket unit: it owns the
    listening socket and starts the daemon on it (LISTEN_FDS), again after
    every stop, so that clients connecting meanwhile wait in its backlog."""

    def __init__(self, tmp, args=()):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "act.sock")
        self.root = os.path.join(tmp, "logs")
        self.args = list(args)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.sock)
        self.listener.listen(64)
        self.p = None
        self.start()

    def start(self):
        fd = self.listener.fileno()

        def child():
            os.dup2(fd, 3)
            os.set_inheritable(3, True)

        env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="tfeventsd.socket")
        err = open(os.path.join(self.tmp, "err.%d" % time.monotonic_ns()), "w")
        self.p = subprocess.Popen(
            ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', td.DAEMON, "--root", self.root,
             "--socket", os.path.join(self.tmp, "unused.sock")] + self.args,
            env=env, close_fds=False, preexec_fn=child, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        td._live_daemons.append(self.p)

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        rc = self.p.wait(60)
        check(rc == (0 if sig == signal.SIGTERM else -sig), "daemon exit status %d" % rc)

    def restart(self, sig):
        self.stop(sig)
        self.start()

    def close(self):
        if self.p.poll() is None:
            self.stop()
        self.listener.close()


class Plain:
    """The daemon binding its own socket; a restart is a new process on the
    same path (the old one removes it at a graceful stop; after kill -9 the
    new one takes the stale path over)."""

    def __init__(self, tmp, args=()):
        self.tmp, self.args = tmp, list(args)
        self.d = td.Daemon(tmp, *self.args)
        self.sock, self.root = self.d.sock, self.d.root

    def stop(self, sig=signal.SIGTERM):
        if sig == signal.SIGTERM:
            check(self.d.stop() == 0, "daemon exit status")
        else:
            self.d.p.kill()
            self.d.p.wait()

    def start(self):
        self.d = td.Daemon(self.tmp, *self.args)

    def close(self):
        if self.d.p.poll() is None:
            self.stop()


def points(logdir, run, tag):
    tags, _ = evfile.load(logdir)
    return [(s, evfile.scalar_of(v)) for s, v in tags.get(run, {}).get(tag, [])]


def restart_under_handle(tmp, kind, sig, daemon_args=(), waiting_call=False):
    """Log, flush, log more (sent, not acknowledged), restart the daemon
    by sig while the handle is reconnecting (in a log call, or in a flush
    when waiting_call), log more, flush."""
    if not CLIENT:
        raise td.Skip("RECONNECT_CLIENT (tests/reconnect-client) not set")
    d = kind(tmp, daemon_args)
    c = Client()
    logdir = os.path.join(d.root, "rc")
    try:
        # Small batches: the unacknowledged values are on the wire, not
        # waiting in the library.
        c.do("open %s %s 2048 30" % (d.sock, logdir))
        c.do("at a x 0 300")
        c.do("flush")                       # acknowledged: steps 0..299
        c.do("at a x 300 600")              # sent, not acknowledged
        c.do("next c y 40")                 # at the counter's steps
        c.do("step")                        # all of it read by the daemon
        d.stop(sig)
        # The handle finds the daemon gone while it logs (or waits for a
        # flush), and tries again until it is back.
        c.send("flush" if waiting_call else "at a x 600 900")
        time.sleep(0.7)
        d.start()
        if waiting_call:
            a = c.answer()
            c.do("at a x 600 900")
            c.do("flush", None)
        else:
            a = c.answer()
            check(a == "ok", "logging across the restart: %r" % a)
            a = c.do("flush", None)
        n = c.counters()
        check(n["reconnects"] == "1" and n["refused"] == "0", "counters %r" % n)
        c.do("flush")                       # a loss is reported once
        c.close()
    finally:
        d.close()
    x = points(logdir, "a", "x")
    check(x == [(s, float(s)) for s in range(900)],
          "a/x: every step once, in order (%d points, first wrong: %r)"
          % (len(x), next((p for i, p in enumerate(x) if p != (i, float(i))), None)))
    y = points(logdir, "c", "y")
    td.eventlint(logdir)
    return a, int(n["lost"]), y


def test_sigterm(tmp):
    """A graceful stop: the daemon's goodbye says everything it read was
    written, so nothing is sent twice and nothing is lost."""
    a, lost, y = restart_under_handle(tmp, Plain, signal.SIGTERM)
    check(a == "ok" and lost == 0, "flush %r, lost %d" % (a, lost))
    check(sorted(v for _, v in y) == [1000000.0 + i for i in range(40)], "c/y %r" % y[:3])


def test_kill9(tmp):
    """kill -9 of a daemon holding the unacknowledged values in memory:
    those at explicit steps are sent again, the 40 at the counter's step
    are not (the daemon might have written them) -- here they were lost,
    and the loss counter says exactly 40."""
    a, lost, y = restart_under_handle(tmp, Plain, signal.SIGKILL, KEEPS)
    check(a.startswith("err %d " % ECONNRESET) and "40 log request(s) at the counter's step"
          in a, "the flush reports the loss: %r" % a)
    check(lost == 40 and lost == 40 - len(y), "lost %d, c/y holds %d" % (lost, len(y)))


def test_kill9_waiting_flush(tmp):
    """The same with the handle waiting in tfevents_flush() when the
    daemon is killed: the flush is sent again on the new connection and
    reports the loss."""
    a, lost, y = restart_under_handle(tmp, Plain, signal.SIGKILL, KEEPS, waiting_call=True)
    check(a.startswith("err %d " % ECONNRESET) and "40 log request(s)" in a,
          "the flush reports the loss: %r" % a)
    check(lost == 40 and len(y) == 0, "lost %d, c/y holds %d" % (lost, len(y)))


def test_activation_sigterm_waiting_flush(tmp):
    """systemctl restart while the handle waits in tfevents_flush():
    nothing lost."""
    a, lost, y = restart_under_handle(tmp, Activated, signal.SIGTERM, waiting_call=True)
    check(a == "ok" and lost == 0 and len(y) == 40, "flush %r, lost %d, c/y %d"
          % (a, lost, len(y)))


def test_kill9_written(tmp):
    """kill -9 after the daemon wrote what it was sent: sending the
    explicit steps again logs none of them twice; the counter's 40 are in
    doubt (counted), and they are in fact in the files."""
    if not CLIENT:
        raise td.Skip("RECONNECT_CLIENT (tests/reconnect-client) not set")

    class Flushing(Plain):
        def stop(self, sig=signal.SIGTERM):
            if sig == signal.SIGKILL:
                time.sleep(0.8)   # two of its 0.2 s flushes
            Plain.stop(self, sig)

    a, lost, y = restart_under_handle(tmp, Flushing, signal.SIGKILL, ["--flush-interval", "0.2"])
    check(lost == 40 and len(y) == 40, "lost %d (in doubt), c/y holds %d" % (lost, len(y)))


def test_activation_sigterm(tmp):
    """systemctl restart under socket activation: nothing lost."""
    a, lost, y = restart_under_handle(tmp, Activated, signal.SIGTERM)
    check(a == "ok" and lost == 0 and len(y) == 40, "flush %r, lost %d, c/y %d"
          % (a, lost, len(y)))


def test_activation_kill9(tmp):
    """kill -9 under socket activation: the acknowledged values stay; the
    loss counter equals what is missing."""
    a, lost, y = restart_under_handle(tmp, Activated, signal.SIGKILL, KEEPS)
    check(lost == 40 and len(y) == 0, "lost %d, c/y holds %d" % (lost, len(y)))


def test_gone_for_good(tmp):
    """A daemon that does not come back within reconnect_timeout (1 s
    here): what was accepted since the last acknowledgement is counted
    lost, calls fail meanwhile, and once it is back the handle works."""
    if not CLIENT:
        raise td.Skip("RECONNECT_CLIENT (tests/reconnect-client) not set")
    d = Plain(tmp, KEEPS)
    c = Client()
    logdir = os.path.join(d.root, "gone")
    try:
        c.do("open %s %s 2048 1" % (d.sock, logdir))
        c.do("at a x 0 100")
        c.do("flush")
        d.stop(signal.SIGKILL)
        t0 = time.monotonic()
        a = c.do("at a x 100 400", None)
        waited = time.monotonic() - t0
        check(a.startswith("err ") and " at=" in a, "logging with no daemon: %r" % a)
        failed_at = int(a.split()[2][3:])
        check(0.8 < waited < 10, "gave up after %.1f s" % waited)
        n = c.counters()
        check(int(n["lost"]) == failed_at - 100, "lost %s, accepted %d" % (n, failed_at - 100))
        check(c.do("at a x 400 401", None).startswith("err "), "still gone: fails at once")
        d.start()
        c.do("at a x 500 600")
        c.do("flush")
        check(c.counters()["reconnects"] == "1", "reconnected")
        c.close()
    finally:
        d.close()
    x = points(logdir, "a", "x")
    check([s for s, _ in x] == list(range(100)) + list(range(500, 600)),
          "a/x after the loss: %r" % [s for s, _ in x][95:105])
    td.eventlint(logdir)


def test_goodbye(tmp):
    """The protocol under it: at SIGTERM a binary connection's last frame
    is Reply{ok, request: N, closing} -- N requests executed and written."""
    tb = importlib.util.module_from_spec(importlib.util.spec_from_file_location(
        "tbinary", os.path.join(_here, "test-binary.py")))
    tb.__spec__.loader.exec_module(tb)
    d = Plain(tmp)
    c = tb.Conn(d.sock)
    c.hello()
    c.send(tb.frame([tb.log("bye", [tb.value_scalar("g", float(s))], step=s)
                     for s in range(5)]))
    c.send(tb.frame([tb.step_get("bye", 1)]))
    check(c.reply().get("ok"), "step_get")
    d.stop()
    frames = []
    while True:
        kind, payload = c.read_frame()
        if kind is None:
            break
        frames.append(tb.parse(payload))
    check(frames and frames[-1].get(2) == [1] and frames[-1].get(3) == [6]
          and frames[-1].get(10) == [1] and 1 not in frames[-1],
          "goodbye: %r" % frames[-1:])
    pts = points(os.path.join(d.root, "bye"), ".", "g")
    check([s for s, _ in pts] == list(range(5)), "written: %r" % pts)


TESTS = [test_goodbye, test_sigterm, test_kill9, test_kill9_waiting_flush, test_kill9_written,
         test_activation_sigterm, test_activation_sigterm_waiting_flush, test_activation_kill9,
         test_gone_for_good]

if __name__ == "__main__":
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        sys.exit(1)
    failed, _ = td.run_tests(TESTS, sys.argv[1] if len(sys.argv) > 1 else "", prefix="tfrec.")
    sys.exit(1 if failed else 0)
