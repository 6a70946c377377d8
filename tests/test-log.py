#!/usr/bin/env python3
"""tfeventsd's log lines, where they go (daemon/log.c):

  journal   stderr is the journal ($JOURNAL_STREAM names it): each line
            starts with its syslog priority, "<4>warn: ...", and carries no
            "tfeventsd[pid]:" (journald adds it); no start-up banner
  terminal  stderr is a terminal (a pty here), also with a $JOURNAL_STREAM
            inherited from elsewhere: "tfeventsd[pid]: level: message"
            lines, and the banner on stdout with absolute paths

Standard library only. Usage: test-log.py [TEST-NAME-SUBSTRING]"""

import importlib.util
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
Client, check, Failure = td.Client, td.check, td.Failure
DAEMON = td.DAEMON

PRIORITY = {"error": 3, "warn": 4, "info": 6, "debug": 7}


def stream_id(fd):
    st = os.fstat(fd)
    return "%d:%d" % (st.st_dev, st.st_ino)


def wait_for(cond, timeout=20, what="condition"):
    t0 = time.monotonic()
    while not cond():
        check(time.monotonic() - t0 < timeout, "timed out waiting for " + what)
        time.sleep(0.02)


def provoke(sock):
    """A line past --max-line (a warning), then a flush (debug lines)."""
    c = Client(sock)
    # No newline yet: the daemon answers (and warns) once it holds more
    # than --max-line bytes of the line.
    c.send_raw(b"x" * 3000)
    r = c.reply()
    check(r.get("ok") is False and "longer" in r.get("error", ""), "long line reply %s" % r)
    c.send_raw(b"\n")
    c.send({"logdir": "lg", "values": {"a": 1.0}})
    c.send({"op": "flush", "id": 1, "logdir": "lg"})
    r = c.reply()
    check(r.get("ok") is True, "flush reply %s" % r)
    c.close()


def daemon_args(tmp, sock):
    return [DAEMON, "--socket", sock, "--root", os.path.join(tmp, "logs"), "--log-level",
            "debug", "--max-line", "1024"]


def test_journal(tmp):
    sock = os.path.join(tmp, "j.sock")
    errpath = os.path.join(tmp, "stderr")
    with open(errpath, "w") as err:
        env = dict(os.environ, JOURNAL_STREAM=stream_id(err.fileno()))
        p = subprocess.Popen(daemon_args(tmp, sock), stdout=subprocess.PIPE,
                             stderr=err, env=env)
    td._live_daemons.append(p)
    try:
        wait_for(lambda: "listening on" in open(errpath).read() or p.poll() is not None,
                 what="the daemon's listening line")
        check(p.poll() is None, "daemon exited:\n" + open(errpath).read())
        provoke(sock)
        p.terminate()
        out = p.communicate(timeout=60)[0].decode()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "exit status %d" % p.returncode)
    check(out == "", "a banner on stdout under the journal: %r" % out)
    # A start-up failure logs an error.
    notsock = os.path.join(tmp, "notasocket")
    open(notsock, "w").close()
    with open(errpath, "a") as err:
        env = dict(os.environ, JOURNAL_STREAM=stream_id(err.fileno()))
        r = subprocess.run(daemon_args(tmp, notsock), stdout=subprocess.PIPE, stderr=err,
                           env=env, timeout=60)
    check(r.returncode == 1, "a daemon on a regular file exited %d" % r.returncode)
    log = open(errpath).read()
    seen = set()
    for line in log.splitlines():
        m = re.match(r"<(\d)>(error|warn|info|debug): (.*)$", line)
        check(m, "a line without its priority prefix: %r\n%s" % (line, log))
        check(int(m.group(1)) == PRIORITY[m.group(2)],
              "priority %s for level %s: %r" % (m.group(1), m.group(2), line))
        check("tfeventsd[" not in line, "name and pid under the journal: %r" % line)
        seen.add(m.group(2))
    check(seen == set(PRIORITY), "levels seen: %s\n%s" % (sorted(seen), log))
    check(re.search(r"^<4>warn: .*longer than 1024 bytes", log, re.M), "no warning:\n" + log)
    check(re.search(r"^<3>error: .*not a socket", log, re.M), "no error:\n" + log)


def read_pty(fd, until, timeout=20):
    buf = b""
    t0 = time.monotonic()
    while until not in buf:
        check(time.monotonic() - t0 < timeout, "no %r on the terminal: %r" % (until, buf))
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:   # EIO: the daemon closed the terminal
                break
    return buf


def test_terminal(tmp):
    sock = os.path.join(tmp, "t.sock")
    master, slave = os.openpty()
    other = os.path.join(tmp, "elsewhere")
    with open(other, "w") as f:   # inherited from a service, names another file
        env = dict(os.environ, JOURNAL_STREAM=stream_id(f.fileno()))
    # Relative socket path, from tmp: the banner must show it absolute.
    args = daemon_args(tmp, "t.sock")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, env=env, cwd=tmp,
                         text=True)
    os.close(slave)
    td._live_daemons.append(p)
    try:
        banner = [p.stdout.readline() for _ in range(3)]
        check(banner[0] == "tfeventsd: listening on %s\n" % sock, "banner: %r" % banner)
        check(banner[1] == "tfeventsd: logdirs go under %s\n" % os.path.join(tmp, "logs"),
              "banner: %r" % banner)
        check(banner[2].rstrip("\n").endswith("| socat - UNIX-CONNECT:%s" % sock),
              "banner: %r" % banner)
        provoke(sock)
        p.terminate()
        p.wait(60)
        text = read_pty(master, b"\n", timeout=5)
        try:
            while True:
                r, _, _ = select.select([master], [], [], 0.5)
                if not r:
                    break
                text += os.read(master, 65536)
        except OSError:
            pass
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0, "exit status %d" % p.returncode)
    lines = text.decode().replace("\r\n", "\n").splitlines()
    prefix = "tfeventsd[%d]: " % p.pid
    for line in lines:
        check(re.match(re.escape(prefix) + r"(error|warn|info|debug): ", line),
              "not a plain line: %r\n%s" % (line, "\n".join(lines)))
    check(any(re.match(re.escape(prefix) + r"warn: .*longer than 1024 bytes", line)
              for line in lines), "no warning:\n" + "\n".join(lines))
    check(any(" info: listening on t.sock" in line for line in lines),
          "no listening line:\n" + "\n".join(lines))


TESTS = [test_journal, test_terminal]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(DAEMON):
        print("daemon not found at %s" % DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfl.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
