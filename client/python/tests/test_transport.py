"""The daemon transport: reconnecting after a restart, giving up with a
clear error, routing logdirs outside the root, frames split at the
daemon's limit; and what happens with no daemon."""

import os
import time

import pytest

import tfevents
from tfevents import _client
from conftest import DAEMON, Daemon, eventlint, need_library


def scalar_steps(ld, tag="x"):
    return [r["step"] for r in tfevents.collect_events(ld, type="summary", as_frame=False)
            if r["tag"] == tag]


@pytest.fixture
def daemon_only():
    if not os.path.exists(DAEMON):
        pytest.skip("tfeventsd not built")


def test_reconnects_after_daemon_restart(tmp_path, daemon_only):
    d = Daemon(tmp_path)
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    ld = os.path.join(d.root, "re")
    w = tfevents.SummaryWriter(ld, client=c)
    try:
        for i in range(100):
            w.add_scalar("x", i, i)
        w.flush()
        assert d.stop() == 0           # SIGTERM: the daemon writes everything first
        t0 = time.monotonic()
        for i in range(100, 200):      # the daemon is away: calls still return at once
            w.add_scalar("x", i, i)
        assert time.monotonic() - t0 < 1.0
        time.sleep(0.2)
        d.start()
        w.flush()
        assert c.daemon.reconnects >= 1
        assert scalar_steps(ld) == list(range(200))
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_gives_up_when_daemon_stays_away(tmp_path, daemon_only):
    d = Daemon(tmp_path)
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    c.daemon.reconnect_timeout = 0.5
    ld = os.path.join(d.root, "gone")
    tfevents.log_event(x=1, logdir=ld, client=c)
    c.flush()
    d.stop()
    with pytest.raises(tfevents.DaemonError, match="did not come back"):
        for _ in range(100):
            tfevents.log_event(x=1, logdir=ld, client=c)
            c.flush()
    with pytest.raises(tfevents.DaemonError):
        tfevents.log_event(x=1, logdir=ld, client=c)


def test_logdir_outside_root(tmp_path, daemon_only):
    d = Daemon(tmp_path)
    try:
        c = tfevents.Client(mode="daemon", socket_path=d.sock)
        with pytest.raises(tfevents.NoTransportError, match="outside the root"):
            c.route(os.path.join(str(tmp_path), "elsewhere"))
        c.close()
        need_library()
        c = tfevents.Client(mode="auto", socket_path=d.sock)
        assert c.route(os.path.join(d.root, "in")).sink.mode == "daemon"
        out = os.path.join(str(tmp_path), "elsewhere")
        assert c.route(out).sink.mode == "embedded"
        tfevents.log_event(x=1, logdir=out, client=c)
        tfevents.log_event(x=2, logdir=os.path.join(d.root, "in"), client=c)
        c.close()
        assert scalar_steps(out) == [0] and scalar_steps(os.path.join(d.root, "in")) == [0]
        # A symbolic link to a directory under the root names the same logdir.
        os.symlink(d.root, os.path.join(str(tmp_path), "link"))
        c = tfevents.Client(mode="daemon", socket_path=d.sock)
        assert c.route(os.path.join(str(tmp_path), "link", "in")).name == "in"
        c.close()
    finally:
        d.stop()


def test_frames_split_at_daemon_limit(tmp_path, daemon_only):
    d = Daemon(tmp_path, "--max-line", "65536")
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    try:
        assert c.daemon.max_frame == 65536
        ld = os.path.join(d.root, "split")
        big = [float(i) for i in range(6000)]   # 48 KB of doubles: one per frame
        for i in range(5):
            tfevents.log_event(h=tfevents.summary_histogram(big), step=i, logdir=ld, client=c)
        with pytest.raises(ValueError, match="frame limit"):
            tfevents.log_event(h=tfevents.summary_histogram(big * 2), logdir=ld, client=c)
        for i in range(5000):
            tfevents.log_event(x=i, step=i, logdir=ld, client=c)
        c.flush()
        assert len(scalar_steps(ld, "h")) == 5 and scalar_steps(ld) == list(range(5000))
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_no_daemon_no_library(tmp_path, monkeypatch):
    monkeypatch.setattr(_client, "find_library", lambda: None)
    sock = os.path.join(str(tmp_path), "none.sock")
    with pytest.raises(tfevents.NoTransportError) as e:
        tfevents.Client(socket_path=sock)
    msg = str(e.value)
    assert "tfeventsd --socket %s" % sock in msg and "libtfevents" in msg
    with pytest.raises(tfevents.NoTransportError, match="does not answer"):
        tfevents.Client(mode="daemon", socket_path=sock)


def test_no_daemon_writes_in_process(tmp_path, monkeypatch):
    need_library()
    monkeypatch.chdir(tmp_path)
    c = tfevents.Client(socket_path=os.path.join(str(tmp_path), "none.sock"))
    assert c.transport() == "embedded"
    w = tfevents.SummaryWriter("runs/a", client=c)
    w.add_scalar("x", 1.0, 0)
    w.close()
    c.close()
    assert scalar_steps(os.path.join(str(tmp_path), "runs", "a")) == [0]
    eventlint(os.path.join(str(tmp_path), "runs", "a"))


EXIT_SCRIPT = """
import sys, tfevents
c = tfevents.Client(mode=sys.argv[2], socket_path=sys.argv[3])
w = tfevents.SummaryWriter(sys.argv[1], client=c)
for i in range(1000):
    w.add_scalar("x", i, i)
w.add_scalar("x", 0, 0)   # refused: said on stderr at exit
"""


@pytest.mark.parametrize("mode", ["daemon", "embedded"])
def test_exit_without_close_loses_nothing(tmp_path, mode):
    import subprocess
    import sys
    sock = os.path.join(str(tmp_path), "none.sock")
    d = None
    if mode == "daemon":
        if not os.path.exists(DAEMON):
            pytest.skip("tfeventsd not built")
        d = Daemon(tmp_path)
        sock = d.sock
        ld = os.path.join(d.root, "exit")
    else:
        need_library()
        ld = os.path.join(str(tmp_path), "exit")
    try:
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        p = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, ld, mode, sock], env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "1 request(s) refused" in p.stderr and "not greater" in p.stderr
        assert scalar_steps(ld) == list(range(1000))
    finally:
        if d:
            d.stop()


def test_threads_share_a_client(env):
    import threading
    c, root = env
    ld = os.path.join(root, "threads")
    w = tfevents.SummaryWriter(ld, client=c)

    def work(k):
        for i in range(2000):
            w.add_scalar("t%d" % k, float(i), i)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    w.close()
    rows = tfevents.collect_events(ld, type="scalar", as_frame=False)
    for k in range(4):
        assert [r["step"] for r in rows if r["tag"] == "t%d" % k] == list(range(2000))
    eventlint(ld)


def test_bounded_queue_waits_and_loses_nothing(tmp_path, daemon_only):
    d = Daemon(tmp_path)
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    try:
        c.daemon.batch_bytes = 1024
        c.daemon.max_pending = 4096       # callers wait past 4 KiB queued
        ld = os.path.join(d.root, "bounded")
        w = tfevents.SummaryWriter(ld, client=c)
        for i in range(20000):
            w.add_scalar("x", i, i)
        w.flush()
        assert scalar_steps(ld) == list(range(20000))
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_reconnects_after_daemon_killed(tmp_path, daemon_only):
    import signal
    d = Daemon(tmp_path)
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    ld = os.path.join(d.root, "killed")
    try:
        tfevents.log_event(x=0, step=0, logdir=ld, client=c)
        c.flush()
        d.stop(signal.SIGKILL)
        os.unlink(d.sock)               # a killed daemon leaves its socket file
        d.start()
        time.sleep(0.1)
        # What the dead connection still held may be lost; what comes after
        # the reconnection is not.
        deadline = time.monotonic() + 20
        while c.daemon.reconnects == 0 and time.monotonic() < deadline:
            tfevents.log_event(x=1, logdir=ld, client=c)
            time.sleep(0.05)
        tfevents.log_event(y=2, step=7, logdir=ld, client=c)
        c.flush()
        assert c.daemon.reconnects >= 1
        assert scalar_steps(ld, "y") == [7]
    finally:
        c.close(raise_errors=False)
        d.stop()


# ---- the journal: what the daemon had not acknowledged, sent again ---------------

def _killed_and_back(d):
    import signal
    d.stop(signal.SIGKILL)
    os.unlink(d.sock)               # a killed daemon leaves its socket file
    d.start()


@pytest.fixture
def no_checkpoint(monkeypatch):
    """No acknowledgement asked by the client itself during the test: what
    it sends stays in doubt until the test flushes."""
    from tfevents import _daemon
    monkeypatch.setattr(_daemon, "CHECKPOINT_INTERVAL", 3600.0)


@pytest.mark.parametrize("written", ["unwritten", "written"])
def test_kill9_explicit_steps_nothing_lost_nothing_doubled(tmp_path, daemon_only,
                                                           no_checkpoint, written):
    # unwritten: the daemon holds what it read in memory when killed (the
    # values must be sent again); written: it wrote them before (sent
    # again with Log.resent, they are skipped, not refused nor doubled).
    interval = "60" if written == "unwritten" else "0.05"
    d = Daemon(tmp_path, "--flush-interval", interval)
    errors = []
    c = tfevents.Client(mode="daemon", socket_path=d.sock, on_error=errors.append)
    ld = os.path.join(d.root, "k9")
    try:
        for i in range(500):
            tfevents.log_event(x=float(i), step=i, logdir=ld, client=c)
        time.sleep(0.5)                # sent and read, not acknowledged
        _killed_and_back(d)
        for i in range(500, 1000):
            tfevents.log_event(x=float(i), step=i, logdir=ld, client=c)
        c.flush()
        assert c.reconnects == 1
        assert errors == [] and c.lost == 0 and c.daemon.refused == 0
        rows = [r for r in tfevents.collect_events(ld, type="summary", as_frame=False)
                if r["tag"] == "x"]
        assert [r["step"] for r in rows] == list(range(1000))
        assert [r["value"] for r in rows] == [float(i) for i in range(1000)]
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_kill9_counter_steps_in_doubt_are_counted(tmp_path, daemon_only, no_checkpoint):
    d = Daemon(tmp_path, "--flush-interval", "60")
    errors = []
    c = tfevents.Client(mode="daemon", socket_path=d.sock, on_error=errors.append)
    ld = os.path.join(d.root, "k9c")
    try:
        tfevents.log_event(x=-1.0, logdir=ld, client=c)
        c.flush()                       # acknowledged: never in doubt
        for i in range(100):
            tfevents.log_event(x=float(i), logdir=ld, client=c)
        time.sleep(0.5)
        _killed_and_back(d)
        tfevents.log_event(y=1.0, step=3, logdir=ld, client=c)
        c.flush()
        assert c.reconnects == 1
        assert c.lost == 100
        assert len(errors) == 1 and "100 log request(s) at the counter's step" in errors[0]
        assert c.last_error == errors[0]
        assert c.daemon.refused == 0
        assert scalar_steps(ld, "x") == [0]
        assert scalar_steps(ld, "y") == [3]
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_sigterm_restart_loses_nothing(tmp_path, daemon_only, no_checkpoint):
    # The goodbye tells which requests were executed: none is in doubt,
    # counter steps included, and those it had not read are sent again.
    d = Daemon(tmp_path, "--flush-interval", "60")
    errors = []
    c = tfevents.Client(mode="daemon", socket_path=d.sock, on_error=errors.append)
    ld = os.path.join(d.root, "term")
    try:
        for i in range(300):
            tfevents.log_event(x=float(i), logdir=ld, client=c)
            tfevents.log_event(y=float(i), step=i, logdir=ld, client=c)
        time.sleep(0.3)
        assert d.stop() == 0
        for i in range(300, 600):        # the daemon is away
            tfevents.log_event(x=float(i), logdir=ld, client=c)
            tfevents.log_event(y=float(i), step=i, logdir=ld, client=c)
        time.sleep(0.2)
        d.start()
        c.flush()
        assert c.reconnects == 1
        assert errors == [] and c.lost == 0 and c.daemon.refused == 0
        assert scalar_steps(ld, "x") == list(range(600))
        assert scalar_steps(ld, "y") == list(range(600))
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_frame_cut_mid_send_is_sent_once(tmp_path, daemon_only, monkeypatch):
    # The connection breaks in the middle of a frame: the daemon never runs
    # a partial frame, so the client sends it again on the next connection
    # -- once. (It used to be sent twice, from the journal and from the
    # sender's queue, and the second copy was refused.)
    import socket
    from tfevents import _daemon
    d = Daemon(tmp_path)
    errors = []
    c = tfevents.Client(mode="daemon", socket_path=d.sock, on_error=errors.append)
    ld = os.path.join(d.root, "cut")
    real = _daemon._sendmsg_all
    calls = {"n": 0}

    def cut_third(sock, bufs):
        calls["n"] += 1
        if calls["n"] != 3:
            return real(sock, bufs)
        data = b"".join(bytes(b) for b in bufs)
        sock.sendall(data[:len(data) // 2])
        sock.shutdown(socket.SHUT_RDWR)
        raise BrokenPipeError("cut in the middle of a frame (test)")

    monkeypatch.setattr(_daemon, "_sendmsg_all", cut_third)
    try:
        for i in range(300):
            tfevents.log_event(x=float(i), step=i, logdir=ld, client=c)
            if i % 50 == 49:
                time.sleep(0.15)           # one frame per 50 steps
        c.flush()
        assert calls["n"] > 3 and c.reconnects == 1
        assert errors == [] and c.lost == 0 and c.daemon.refused == 0
        assert scalar_steps(ld) == list(range(300))
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_small_and_bulk_requests_share_frames(tmp_path, daemon_only):
    # Small requests are joined in one buffer per frame, bulk data (here
    # 80 KB histograms) travels as parts of its own between them: with
    # small frames (a cut every 4 KiB and in the middle of the mix) every
    # value arrives, in order, and the pooled buffers come back.
    pytest.importorskip("numpy")
    import numpy as np
    from tfevents._arrays import POOL
    d = Daemon(tmp_path)
    c = tfevents.Client(mode="daemon", socket_path=d.sock)
    try:
        c.daemon.batch_bytes = 4096
        ld = os.path.join(d.root, "mixed")
        w = tfevents.SummaryWriter(ld, client=c)
        data = np.arange(10000, dtype=np.float64)
        for i in range(300):
            w.add_scalar("x", float(i), i)
            w.add_text("t", "step %d é" % i, i)
            if i % 10 == 0:
                w.add_histogram("h", data + i, i)
                w.add_image("im", np.full((8, 8, 3), i % 256, dtype=np.uint8), i,
                            dataformats="HWC")
        w.flush()
        rows = tfevents.collect_events(ld, type="summary", as_frame=False)
        by = {}
        for r in rows:
            by.setdefault(r["tag"], []).append(r)
        assert [r["step"] for r in by["x"]] == list(range(300))
        assert [r["value"] for r in by["t"]] == ["step %d é" % i for i in range(300)]
        assert [r["step"] for r in by["h"]] == list(range(0, 300, 10))
        assert [r["step"] for r in by["im"]] == list(range(0, 300, 10))
        assert sum(b[2] for b in by["h"][-1]["value"]) == 10000
        assert c.daemon._queued == 0 and not c.daemon._journal
        eventlint(ld)
    finally:
        c.close(raise_errors=False)
        d.stop()


def test_buffer_pool_keeps_sizes_apart():
    # Buffers are kept by size class: a pool filled with one size makes
    # room for another size given back (the largest dropped first), and a
    # small request never walks or takes the big buffers.
    from tfevents._arrays import BufferPool, _size_class
    for n in (0, 1, 64, 65, 1000, 12288, 80000, 10 ** 6):
        k = _size_class(n)
        assert n <= k <= max(64, n * 5 // 4 + 1)
    p = BufferPool()
    p.MAX_BYTES = 1000000
    big = [p.get(80000) for _ in range(12)]
    assert all(len(b) == _size_class(80000) for b in big)
    for b in big:
        p.put(b)
    assert p._bytes <= p.MAX_BYTES and len(p._free[_size_class(80000)]) == 12
    small = [p.get(12288) for _ in range(30)]
    assert all(len(b) == 12288 for b in small)       # none of the big ones
    for b in small:
        p.put(b)
    assert p._bytes <= p.MAX_BYTES
    assert len(p._free[12288]) == 30                 # all kept: big ones dropped
    assert p.get(12288) is small[-1]                 # and reused
    assert len(p._free[_size_class(80000)]) < 12


def test_blocks_at_max_pending_while_checkpoints_fail(tmp_path, daemon_only):
    # The daemon cannot write (its file-size limit lowered below any
    # record: every flush fails, so no checkpoint acknowledges anything):
    # a logging thread blocks once max_pending bytes wait unacknowledged,
    # instead of growing the journal; when the daemon can write again the
    # next checkpoint releases it and nothing is lost.
    import resource
    import subprocess
    import threading
    sock, root = str(tmp_path / "d.sock"), str(tmp_path / "logs")
    p = subprocess.Popen([DAEMON, "--socket", sock, "--root", root, "--flush-interval", "0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert "listening" in p.stdout.readline()
    c = tfevents.Client(mode="daemon", socket_path=sock)
    try:
        c.daemon.batch_bytes = 2048
        c.daemon.max_pending = 16384
        ld = os.path.join(root, "stuck")
        w = tfevents.SummaryWriter(ld, client=c)
        for i in range(100):
            w.add_scalar("x", i, i)
        w.flush()
        resource.prlimit(p.pid, resource.RLIMIT_FSIZE, (20, resource.RLIM_INFINITY))
        n = 3000                                   # about 150 KB: 9 times max_pending

        def log():
            for i in range(100, 100 + n):
                w.add_scalar("x", i, i)
        t = threading.Thread(target=log, daemon=True)
        t.start()
        t.join(3.0)
        assert t.is_alive(), "the caller never blocked"
        d = c.daemon
        with d._lock:
            queued, journal = d._queued, sum(f[1] for f in d._journal)
        assert queued <= d.max_pending + d.batch_bytes + 1024
        assert journal <= queued
        resource.prlimit(p.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        t.join(30.0)
        assert not t.is_alive(), "the caller stayed blocked after the daemon could write"
        w.flush()
        assert scalar_steps(ld) == list(range(100 + n))
        assert c.lost == 0
    finally:
        c.close(raise_errors=False)
        p.terminate()
        p.wait(30)
