#!/usr/bin/env python3
"""tfeventsd under a service manager.

  test-systemd.py units [NAME]   the generated units: systemd-analyze verify
                                 and the security exposure (skips, exit 77,
                                 when systemd-analyze is absent)
  test-systemd.py daemon [NAME]  the real daemon: socket activation (by
                                 systemd-socket-activate and by LISTEN_FDS set
                                 here) and the sd_notify messages it sends to a
                                 NOTIFY_SOCKET bound here

Standard library only. Environment: TFEVENTSD (the daemon), TFEVENTS_UNITS_DIR
(the build's systemd/ directory with the generated units) and
TFEVENTS_UNIT_SBINDIR (the sbindir the units were generated for)."""

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Client, check, evfile, Failure, Skip = td.Client, td.check, td.evfile, td.Failure, td.Skip
BUILD, DAEMON, notes = td.BUILD, td.DAEMON, td.notes

UNITS_DIR = os.environ.get("TFEVENTS_UNITS_DIR") or os.path.join(BUILD, "systemd")
UNIT_SBINDIR = os.environ.get("TFEVENTS_UNIT_SBINDIR", "")

# The highest exposure "systemd-analyze security --offline=true" may give
# (0 = fully sandboxed, 10 = nothing restricted). The system unit scores 0.4
# today; 1.0 leaves room for one small relaxation and fails on any real
# weakening (dropping PrivateNetwork= alone costs 0.5, User= 0.4). The user
# unit is judged as if it ran in the system manager (6.1 today): it cannot
# use the namespace settings without unprivileged user namespaces, and a user
# service has no privileges to lose; 6.5 keeps its seccomp and flag settings
# from eroding. docs/architecture.md quotes these figures.
MAX_EXPOSURE_SYSTEM = 1.0
MAX_EXPOSURE_USER = 6.5


# ---- the units ---------------------------------------------------------

def unit_copies(tmp):
    """Copies of the generated units whose ExecStart= names the built
    daemon instead of the not yet installed one (systemd-analyze verify
    checks that the program exists); nothing else changes."""
    out = {}
    for sub in ("", "user"):
        dst = os.path.join(tmp, sub or "system")
        os.makedirs(dst)
        for name in ("tfeventsd.service", "tfeventsd.socket"):
            with open(os.path.join(UNITS_DIR, sub, name)) as f:
                text = f.read()
            check(not re.search(r"@[A-Za-z_]+@", text),
                  "%s/%s: an unsubstituted @variable@ is left" % (sub, name))
            if name.endswith(".service"):
                m = re.search(r"^ExecStart=(\S+)", text, re.M)
                check(m, "%s/%s has no ExecStart=" % (sub, name))
                if UNIT_SBINDIR:
                    check(m.group(1) == os.path.join(UNIT_SBINDIR, "tfeventsd"),
                          "%s/%s: ExecStart=%s, not under the configured sbindir %s" %
                          (sub, name, m.group(1), UNIT_SBINDIR))
                # ExecReload= runs the daemon too (tfeventsd --reload).
                reload = re.search(r"^ExecReload=(\S+)", text, re.M)
                check(reload and reload.group(1) == m.group(1),
                      "%s/%s: ExecReload= does not run %s" % (sub, name, m.group(1)))
                text = text.replace("=" + m.group(1) + " ", "=" + os.path.abspath(DAEMON) + " ")
            with open(os.path.join(dst, name), "w") as f:
                f.write(text)
            out[(sub or "system", name)] = os.path.join(dst, name)
    return out


def analyze(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["systemd-analyze"] + args, capture_output=True, text=True, env=e)


def test_verify(tmp):
    units = unit_copies(tmp)
    # --man=no: the man page is not installed where "man" would look.
    # verify exits 0 on unknown keys and bad values (it only warns), so any
    # output at all is a failure.
    p = analyze(["verify", "--man=no", units[("system", "tfeventsd.service")],
                 units[("system", "tfeventsd.socket")]])
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          "systemd-analyze verify (system units) said (exit %d):\n%s%s" %
          (p.returncode, p.stdout, p.stderr))
    # The user manager's verify needs a runtime directory.
    rt = os.path.join(tmp, "rt")
    os.makedirs(rt, mode=0o700)
    p = analyze(["verify", "--user", "--man=no", units[("user", "tfeventsd.service")],
                 units[("user", "tfeventsd.socket")]], env={"XDG_RUNTIME_DIR": rt})
    check(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          "systemd-analyze verify --user said (exit %d):\n%s%s" %
          (p.returncode, p.stdout, p.stderr))
    # The check itself must see a broken unit, or it proves nothing.
    bad = os.path.join(tmp, "system", "tfeventsd-bad.service")
    with open(units[("system", "tfeventsd.service")]) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("ProtectHome=yes", "ProtectHome=yes\nRestrictAddressFamilies=AF_NOPE"))
    p = analyze(["verify", "--man=no", bad])
    check(p.returncode != 0 or p.stdout.strip() or p.stderr.strip(),
          "systemd-analyze verify said nothing about an invalid setting")


def exposure(unit, user=False, env=None):
    p = analyze(["security", "--offline=true"] + (["--user"] if user else []) + [unit], env=env)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    check(m, "no exposure figure from systemd-analyze security (exit %d):\n%s%s" %
          (p.returncode, p.stdout[-2000:], p.stderr))
    return float(m.group(1)), p.stdout


def test_security(tmp):
    units = unit_copies(tmp)
    e, out = exposure(units[("system", "tfeventsd.service")])
    print("     system unit exposure: %.1f (limit %.1f)" % (e, MAX_EXPOSURE_SYSTEM))
    check(e <= MAX_EXPOSURE_SYSTEM, "system unit exposure %.1f above %.1f:\n%s" %
          (e, MAX_EXPOSURE_SYSTEM, "\n".join(l for l in out.splitlines() if "✗" in l)))
    rt = os.path.join(tmp, "rt")
    os.makedirs(rt, mode=0o700)
    e, out = exposure(units[("user", "tfeventsd.service")], user=True,
                      env={"XDG_RUNTIME_DIR": rt})
    print("     user unit exposure: %.1f (limit %.1f)" % (e, MAX_EXPOSURE_USER))
    check(e <= MAX_EXPOSURE_USER, "user unit exposure %.1f above %.1f" % (e, MAX_EXPOSURE_USER))
    # The figure must react to the settings: without the sandbox it rises.
    with open(units[("system", "tfeventsd.service")]) as f:
        text = f.read()
    loose = os.path.join(tmp, "system", "tfeventsd-loose.service")
    with open(loose, "w") as f:
        f.write(re.sub(r"^(PrivateNetwork|PrivateUsers|ProtectSystem|User|Group)=.*$", "",
                       text, flags=re.M))
    e2, _ = exposure(loose)
    check(e2 > MAX_EXPOSURE_SYSTEM, "exposure of a loosened unit is still %.1f" % e2)


# ---- the daemon --------------------------------------------------------

def answers(path):
    """Does a daemon accept connections on path?"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def listening(path):
    """Is a socket bound to path listening yet? (From /proc/net/unix, so
    that looking does not connect: bind() makes the path before listen()
    makes it answer, and a connect in between is refused.)"""
    try:
        with open("/proc/net/unix") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return os.path.exists(path)
    for row in rows:
        cols = row.split(None, 7)
        # Num RefCount Protocol Flags Type St Inode Path; __SO_ACCEPTCON
        if len(cols) == 8 and cols[7] == path and int(cols[3], 16) & 0x10000:
            return True
    return False


def log_and_flush(sock_path, logdir, values):
    """Log one scalar per value, then a flush; returns the flush reply."""
    c = Client(sock_path)
    for i, v in enumerate(values):
        c.send({"logdir": logdir, "step": i, "values": {"x": v}})
    c.send({"op": "flush", "id": 7, "logdir": logdir})
    r = c.reply()
    c.close()
    return r


def check_logged(root, name, values):
    """The logdir holds exactly values at steps 0, 1, ... under tag x."""
    logdir = os.path.join(root, name)
    check(os.path.isdir(logdir), "no logdir %s" % logdir)
    tags, _ = evfile.load(logdir)
    got = td.scalars(tags.get(".", {}), "x")
    want = [(i, float(v)) for i, v in enumerate(values)]
    check(got == want, "read back %s, logged %s" % (got, want))


def wait_exit(p, timeout=30):
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failure("daemon did not exit")


def wait_for(cond, timeout=10, what="condition"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return
        time.sleep(0.02)
    raise Failure("timed out waiting for " + what)


def test_socket_activate(tmp):
    """systemd's own tool listens, runs the daemon at the first connection
    with the socket as fd 3; the daemon must serve on it (it could not bind
    the path: someone is listening there) and leave it in place at exit."""
    tool = shutil.which("systemd-socket-activate")
    if not tool:
        raise Skip("systemd-socket-activate not installed")
    sock = os.path.join(tmp, "a.sock")
    root = os.path.join(tmp, "logs")
    errpath = os.path.join(tmp, "err")
    with open(errpath, "w") as err:
        p = subprocess.Popen([tool, "-l", sock, "-E", "TFEVENTS_MARK=1", DAEMON, "--root", root,
                              "--socket", os.path.join(tmp, "unused.sock")],
                             stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: listening(sock), what="systemd-socket-activate's socket")
        r = log_and_flush(sock, "act", [1.5, 2.5, 3.5])
        check(r.get("ok") is True and r.get("id") == 7, "flush reply %s" % r)
        check_logged(root, "act", [1.5, 2.5, 3.5])
        check(not os.path.exists(os.path.join(tmp, "unused.sock")),
              "the daemon bound its own socket although one was passed")
        p.send_signal(signal.SIGTERM)
        rc = wait_exit(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    with open(errpath) as f:
        log = f.read()
    check(rc == 0, "exit status %d\n%s" % (rc, log))
    check("passed by the service manager" in log, "no adoption in the log:\n" + log)
    check(os.path.exists(sock), "the daemon removed a socket it did not create")


def spawn_with_fds(tmp, fd, args, listen_pid="self", listen_fds="1", extra_env=None,
                   names="tfeventsd.socket"):
    """Run the daemon with fd (or a list) as its descriptors 3... and the LISTEN_*
    variables set by us; "self" means the daemon's own pid (the shell's,
    which exec keeps)."""
    env = dict(os.environ)
    env.update(extra_env or {})
    env["LISTEN_FDS"] = listen_fds
    fds = fd if isinstance(fd, list) else [fd]
    env["LISTEN_FDNAMES"] = ":".join([names] * len(fds))   # one name per descriptor
    script = 'LISTEN_PID=%s exec "$0" "$@"' % ("$$" if listen_pid == "self" else listen_pid)
    errpath = os.path.join(tmp, "err.%d" % time.monotonic_ns())
    err = open(errpath, "w")

    def child():
        # Move them out of the way first: one may already sit at 3 or 4.
        tmp_fds = [os.dup(f) for f in fds]
        for i, f in enumerate(tmp_fds):
            os.dup2(f, 3 + i)
            os.set_inheritable(3 + i, True)

    p = subprocess.Popen(["sh", "-c", script, DAEMON] + args, env=env, close_fds=False,
                         preexec_fn=child, stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    return p, errpath


def test_listen_fds(tmp):
    """LISTEN_PID/LISTEN_FDS set here, on a socket we created."""
    sock = os.path.join(tmp, "l.sock")
    root = os.path.join(tmp, "logs")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sock)
    ls.listen(16)
    p, errpath = spawn_with_fds(tmp, ls.fileno(), ["--root", root, "--socket",
                                                   os.path.join(tmp, "own.sock")])
    ls.close()   # the daemon has its copy
    try:
        r = log_and_flush(sock, "lf", [4.0, 5.0])
        check(r.get("ok") is True, "flush reply %s" % r)
        check_logged(root, "lf", [4.0, 5.0])
        check(not os.path.exists(os.path.join(tmp, "own.sock")), "bound its own socket too")
        p.send_signal(signal.SIGTERM)
        rc = wait_exit(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    log = open(errpath).read()
    check(rc == 0, "exit status %d\n%s" % (rc, log))
    check("passed by the service manager as tfeventsd.socket" in log,
          "LISTEN_FDNAMES not used:\n" + log)
    check(os.path.exists(sock), "the daemon removed a socket it did not create")

    # Meant for another process: ignored, the daemon binds --socket.
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(os.path.join(tmp, "other.sock"))
    ls.listen(1)
    own = os.path.join(tmp, "own.sock")
    p, errpath = spawn_with_fds(tmp, ls.fileno(), ["--root", root, "--socket", own],
                                listen_pid="1")
    ls.close()
    try:
        # The path appears at bind(), a moment before listen(): wait until
        # it answers (a slow machine lost that race).
        wait_for(lambda: answers(own) or p.poll() is not None, what="own socket")
        check(p.poll() is None, "daemon exited:\n" + open(errpath).read())
        r = log_and_flush(own, "lf2", [1.0])
        check(r.get("ok") is True, "flush reply on the bound socket %s" % r)
        p.send_signal(signal.SIGTERM)
        check(wait_exit(p) == 0, "exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(not os.path.exists(own), "the daemon left the socket it created")

    # Refused: two descriptors, a datagram socket, a bogus count.
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(os.path.join(tmp, "two.sock"))
    ls.listen(1)
    dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for fd, n, want in (([ls.fileno(), dg.fileno()], "2", "several sockets"),
                        (dg.fileno(), "1", "not a listening Unix stream socket"),
                        (ls.fileno(), "x1", "bad socket activation variables")):
        p, errpath = spawn_with_fds(tmp, fd, ["--root", root, "--socket", own], listen_fds=n)
        rc = wait_exit(p)
        log = open(errpath).read()
        check(rc == 1 and want in log, "LISTEN_FDS=%s: exit %d, log:\n%s" % (n, rc, log))
    ls.close()
    dg.close()


class Notify:
    """A NOTIFY_SOCKET: a datagram socket bound here, path or abstract."""

    def __init__(self, tmp, abstract=False):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "tfeventsd-test-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.s.bind("\0" + name)
            self.addr = "@" + name
        else:
            self.addr = os.path.join(tmp, "notify")
            self.s.bind(self.addr)
        self.msgs = []   # (monotonic time, {key: value})

    def poll(self, timeout):
        """Collect messages for timeout seconds."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            self.s.settimeout(left)
            try:
                data = self.s.recv(4096)
            except socket.timeout:
                return
            kv = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.msgs.append((time.monotonic(), kv))

    def wait(self, key, value=None, timeout=10, after=None):
        """The first message with key (=value) received after index after
        (default: from now on); returns (index, message)."""
        end = time.monotonic() + timeout
        seen = len(self.msgs) if after is None else after + 1
        while True:
            for i in range(seen, len(self.msgs)):
                kv = self.msgs[i][1]
                if key in kv and (value is None or kv[key] == value):
                    return i, kv
            seen = len(self.msgs)
            left = end - time.monotonic()
            check(left > 0, "no %s%s within %gs; got %s" %
                  (key, "=" + value if value else "", timeout, [m[1] for m in self.msgs]))
            self.poll(min(left, 0.05))

    def close(self):
        self.s.close()


def run_notified(tmp, n, extra_env, name="d.sock"):
    sock = os.path.join(tmp, name)
    root = os.path.join(tmp, "logs")
    env = dict(os.environ)
    env.update(extra_env)
    env["NOTIFY_SOCKET"] = n.addr
    errpath = os.path.join(tmp, "err.%d" % time.monotonic_ns())
    with open(errpath, "w") as err:
        p = subprocess.Popen(["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"', DAEMON,
                              "--socket", sock, "--root", root, "--log-level", "debug"],
                             env=env, stdout=subprocess.DEVNULL, stderr=err)
    return p, sock, root, errpath


def test_notify(tmp, abstract=False):
    n = Notify(tmp, abstract)
    p, sock, root, errpath = run_notified(tmp, n, {"WATCHDOG_USEC": "200000"})
    try:
        n.wait("READY", "1", after=-1)
        first = n.msgs[0][1]
        check(first.get("READY") == "1", "first message is not READY=1: %s" % first)
        check("STATUS" in first, "READY=1 came without a STATUS: %s" % first)
        # Ready means listening: connecting must work at once.
        c = Client(sock)
        c.close()
        # Keep-alives at half of WATCHDOG_USEC (100 ms). Loose bounds: a
        # loaded machine delays timers, but the interval must be derived
        # from the variable (1 s or 10 ms would be far outside).
        n.poll(1.5)
        times = [t for t, kv in n.msgs if kv.get("WATCHDOG") == "1"]
        check(len(times) >= 5, "%d WATCHDOG=1 in 1.5 s" % len(times))
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        median = gaps[len(gaps) // 2]
        check(0.06 <= median <= 0.4, "median keep-alive interval %.3f s, expected ~0.1" % median)
        print("     %d keep-alives, median interval %.0f ms" % (len(times), median * 1000))

        # STATUS follows what happens: 6 events logged show up within the
        # refresh period (2 s).
        r = log_and_flush(sock, "nt", [1, 2, 3, 4, 5, 6])
        check(r.get("ok") is True, "flush reply %s" % r)
        i, kv = n.wait("STATUS", timeout=10)
        t0 = time.monotonic()
        while "6 events since start" not in kv.get("STATUS", ""):
            check(time.monotonic() - t0 < 10, "no STATUS with the 6 events: %s" %
                  [m[1].get("STATUS") for m in n.msgs if "STATUS" in m[1]])
            i, kv = n.wait("STATUS", timeout=10, after=i)
        check(re.search(r"\d+ files open", kv["STATUS"]), "status %r" % kv["STATUS"])

        # SIGHUP, sent as the units' ExecReload= does: reloading, then ready
        # again.
        r = subprocess.run([DAEMON, "--reload", str(p.pid)], capture_output=True, text=True)
        check(r.returncode == 0 and not r.stderr, "tfeventsd --reload %d: exit %d, %r" %
              (p.pid, r.returncode, r.stderr))
        i, kv = n.wait("RELOADING", "1")
        check(kv.get("MONOTONIC_USEC", "").isdigit(), "RELOADING=1 without MONOTONIC_USEC: %s" % kv)
        n.wait("READY", "1", after=i)

        p.send_signal(signal.SIGTERM)
        n.wait("STOPPING", "1")
        rc = wait_exit(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        n.close()
    check(rc == 0, "exit status %d\n%s" % (rc, open(errpath).read()))
    check_logged(root, "nt", [1, 2, 3, 4, 5, 6])


def test_notify_abstract(tmp):
    test_notify(tmp, abstract=True)


def test_watchdog_other_pid(tmp):
    """WATCHDOG_PID naming another process: no keep-alives from us, the
    rest as usual."""
    n = Notify(tmp)
    sock = os.path.join(tmp, "w.sock")
    env = dict(os.environ, NOTIFY_SOCKET=n.addr, WATCHDOG_USEC="100000", WATCHDOG_PID="1")
    p = subprocess.Popen([DAEMON, "--socket", sock, "--root", os.path.join(tmp, "logs")],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        n.wait("READY", "1", after=-1)
        n.poll(0.6)
        check(not any("WATCHDOG" in kv for _, kv in n.msgs),
              "keep-alives sent although WATCHDOG_PID names pid 1")
        p.send_signal(signal.SIGTERM)
        n.wait("STOPPING", "1")
        check(wait_exit(p) == 0, "exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        n.close()


def test_notify_startup_failure(tmp):
    """A daemon that cannot start says why (STATUS, ERRNO) and never READY."""
    n = Notify(tmp)
    blocker = os.path.join(tmp, "notasocket")
    open(blocker, "w").close()
    env = dict(os.environ, NOTIFY_SOCKET=n.addr)
    p = subprocess.run([DAEMON, "--socket", blocker, "--root", os.path.join(tmp, "logs")],
                       env=env, capture_output=True, text=True, timeout=30)
    n.poll(0.2)
    check(p.returncode == 1, "exit status %d" % p.returncode)
    check(not any("READY" in kv for _, kv in n.msgs), "READY=1 from a daemon that failed")
    check(any(kv.get("ERRNO", "").isdigit() and int(kv["ERRNO"]) > 0 for _, kv in n.msgs),
          "no ERRNO=: %s" % [m[1] for m in n.msgs])


def test_reload_refuses(tmp):
    """tfeventsd --reload signals only a tfeventsd: a pid that runs another
    program (this test: SIGHUP would end it), init, a process group, a
    missing process and junk are refused without a signal."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        cases = [(str(os.getpid()), "not tfeventsd"), (str(sleeper.pid), "not tfeventsd"),
                 ("1", "pid of a tfeventsd"), ("0", "pid of a tfeventsd"),
                 ("-5", "pid of a tfeventsd"), ("12x", "pid of a tfeventsd"),
                 ("", "pid of a tfeventsd"), ("99999999999", "pid of a tfeventsd")]
        # A pid no process has: above pid_max.
        with open("/proc/sys/kernel/pid_max") as f:
            cases.append((str(int(f.read()) + 1), "no such process"))
        for arg, want in cases:
            r = subprocess.run([DAEMON, "--reload", arg], capture_output=True, text=True,
                               timeout=30)
            check(r.returncode == 1 and want in r.stderr,
                  "tfeventsd --reload %r: exit %d, %r (wanted %r)" %
                  (arg, r.returncode, r.stderr, want))
        check(sleeper.poll() is None, "the other program got a signal")
    finally:
        sleeper.kill()
        sleeper.wait()


UNIT_TESTS = [test_verify, test_security]
DAEMON_TESTS = [test_socket_activate, test_listen_fds, test_notify, test_notify_abstract,
                test_watchdog_other_pid, test_notify_startup_failure, test_reload_refuses]


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "daemon"
    sel = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode == "units":
        if not shutil.which("systemd-analyze"):
            print("SKIP: systemd-analyze is not installed (Debian package systemd)")
            return 77
        tests = UNIT_TESTS
    else:
        if not os.path.exists(DAEMON):
            print("daemon not found at %s" % DAEMON)
            return 1
        tests = DAEMON_TESTS
    failed, _ = td.run_tests(tests, sel, prefix="tfs.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
