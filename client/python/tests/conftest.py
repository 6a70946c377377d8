"""Fixtures of the Python client's tests: the real tfeventsd on a temporary
socket and root, libtfevents for the embedded transport, eventlint.

Environment (meson test sets them): TFEVENTSD (the daemon), TFEVENTS_BUILD_ROOT
(libtfevents.so is under client/), TFEVENTS_SHARED (../shared: eventlint;
its checks are skipped with a warning when absent)."""

import os
import signal
import subprocess
import sys
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package from this checkout

BUILD = os.environ.get("TFEVENTS_BUILD_ROOT") or os.path.join(HERE, "..", "..", "..", "build")
DAEMON = os.environ.get("TFEVENTSD") or os.path.join(BUILD, "daemon", "tfeventsd")
LIBRARY = os.path.join(BUILD, "client", "libtfevents.so")
SHARED = os.environ.get("TFEVENTS_SHARED") or os.path.join(HERE, "..", "..", "..", "..",
                                                           "shared")
EVENTLINT = os.path.join(SHARED, "tools", "eventlint")

# The embedded transport loads the library of this build -- unless the
# build is instrumented (.ci/extra-checks sets TFEVENTS_SANITIZE): an
# ASan/TSan library cannot be loaded into an uninstrumented python without
# preloading the sanitizer's runtime, so embedded tests skip there.
SANITIZED = bool(os.environ.get("TFEVENTS_SANITIZE"))
if os.path.exists(LIBRARY) and not SANITIZED:
    os.environ["TFEVENTS_LIBRARY"] = LIBRARY
# Never reach a daemon of the machine by accident.
os.environ["TFEVENTS_SOCKET"] = "/nonexistent/tfevents.sock"
os.environ.pop("TFEVENTS_MODE", None)

import tfevents  # noqa: E402


class Daemon:
    """tfeventsd on tmp/d.sock with root tmp/logs."""

    def __init__(self, tmp, *args):
        self.tmp = str(tmp)
        self.sock = os.path.join(self.tmp, "d.sock")
        self.root = os.path.join(self.tmp, "logs")
        self.args = list(args)
        self.p = None
        self.start()

    def start(self):
        self.err = open(os.path.join(self.tmp, "daemon.err"), "a")
        self.p = subprocess.Popen([DAEMON, "--socket", self.sock, "--root", self.root]
                                  + self.args, stdout=subprocess.PIPE, stderr=self.err,
                                  text=True)
        line = self.p.stdout.readline()
        if "listening on" not in line:
            self.p.kill()
            raise RuntimeError("tfeventsd did not start: %r" % line)

    def stop(self, sig=signal.SIGTERM):
        if self.p and self.p.poll() is None:
            self.p.send_signal(sig)
            rc = self.p.wait(60)
        else:
            rc = self.p.returncode if self.p else 0
        if self.p:
            self.p.stdout.close()
        self.err.close()
        return rc


@pytest.fixture
def daemon(tmp_path):
    if not os.path.exists(DAEMON):
        pytest.skip("tfeventsd not built at %s" % DAEMON)
    d = Daemon(tmp_path)
    yield d
    d.stop()
    if d.p.poll() is None:
        d.p.kill()


def need_library():
    if SANITIZED:
        pytest.skip("libtfevents is built with sanitizers (TFEVENTS_SANITIZE): python "
                    "cannot load it")
    if not os.path.exists(LIBRARY) or tfevents._embedded.find_library() is None:
        pytest.skip("libtfevents not built at %s" % LIBRARY)


@pytest.fixture(params=["daemon", "embedded"])
def env(request, tmp_path, monkeypatch):
    """(client, root): a client of either transport and a directory under
    which its logdirs go (the daemon's root, or a temporary directory)."""
    monkeypatch.chdir(tmp_path)
    if request.param == "daemon":
        if not os.path.exists(DAEMON):
            pytest.skip("tfeventsd not built")
        d = Daemon(tmp_path)
        c = tfevents.Client(mode="daemon", socket_path=d.sock)
        yield c, d.root
        c.close(raise_errors=False)
        assert d.stop() == 0
    else:
        need_library()
        c = tfevents.Client(mode="embedded")
        root = os.path.join(str(tmp_path), "logs")
        os.makedirs(root)
        yield c, root
        c.close(raise_errors=False)


def eventlint(logdir):
    """eventlint --strict must accept logdir (a warning when it is absent)."""
    if not os.path.exists(EVENTLINT):
        warnings.warn("eventlint check skipped: %s absent (../shared not here)" % EVENTLINT)
        return
    p = subprocess.run([sys.executable, EVENTLINT, "--strict", "-q", str(logdir)],
                       capture_output=True, text=True)
    assert p.returncode == 0, "eventlint --strict %s:\n%s%s" % (logdir, p.stdout, p.stderr)


@pytest.fixture
def lint():
    return eventlint
