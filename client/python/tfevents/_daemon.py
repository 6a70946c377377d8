"""The daemon transport: tfeventsd's binary protocol over its Unix socket.

Callers never wait for the daemon when they log: each request is encoded
by the caller and appended to the current batch (one lock, a list of
bytes objects: no copy of bulk data in the caller);
a sender thread sends a batch as one frame when it is full, every
`interval` seconds, and when someone waits (flush, get_step). The queue is
bounded: past `max_pending` bytes a caller waits until the sender caught
up. A reader thread takes the replies: answers to requests that carry an
id go to whoever waits for them; refusals of logged requests are kept and
raised by the next flush()/close() (or given to on_error).

When the connection breaks (the daemon restarts), the sender reconnects
with growing delays for up to `reconnect_timeout` seconds and sends again
the frame it could not finish (the daemon never executes a partial
frame). Frames the daemon had read before it stopped are executed and
written by it (it reads everything before exiting on SIGTERM). Unlike
libtfevents, no copy of the frames sent is kept: when a daemon is killed,
what it had read but not written, and bytes still in the socket, are lost
without being counted (a returned flush() is the acknowledgement)."""

import collections
import errno
import os
import socket
import threading
import time

from . import _wire as w
from ._arrays import POOL
from ._refusals import Refusals
from ._values import release

BATCH_BYTES = 256 * 1024          # a frame is sent when its batch reaches this
MAX_REQUESTS = 65536              # requests per frame (the daemon's limit)
MAX_PENDING = 64 * 1024 * 1024    # bytes queued before callers wait
HELLO_TIMEOUT = 5.0
IOV_MAX = 1024                    # buffers per sendmsg() (Linux's limit)


class DaemonError(ConnectionError):
    """The daemon cannot be reached (and could not be reached again)."""


def default_socket():
    """Where libtfevents looks: $TFEVENTS_SOCKET, else
    $XDG_RUNTIME_DIR/tfevents.sock, else ./tfevents.sock."""
    env = os.environ.get("TFEVENTS_SOCKET")
    if env:
        return env
    rt = os.environ.get("XDG_RUNTIME_DIR")
    if rt:
        return os.path.join(rt, "tfevents.sock")
    return "./tfevents.sock"


def _recv_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("the daemon closed the connection")
        out += chunk
    return bytes(out)


def _sendmsg_all(sock, bufs):
    """Send every buffer, in order, without joining them: the bulk data
    of a frame is never copied (nor allocated and freed) by this process,
    which on a busy machine costs the logging thread more than the copy
    itself (freeing large blocks from another thread unmaps memory)."""
    i, n = 0, len(bufs)
    while i < n:
        sent = sock.sendmsg(bufs[i:i + IOV_MAX])
        while sent > 0:
            k = len(bufs[i])
            if sent >= k:
                sent -= k
                i += 1
            else:
                bufs[i] = memoryview(bufs[i])[sent:]
                sent = 0


def connect(path, timeout=HELLO_TIMEOUT):
    """A connected socket speaking frames and the daemon's Hello."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(w.MAGIC)
        n, kind = w.HEADER.unpack(_recv_exact(s, 5))
        if kind != w.FRAME_HELLO:
            raise ConnectionError("%s does not speak the tfevents binary protocol" % path)
        hello = w.decode_hello(_recv_exact(s, n))
        if hello["protocol"] != 1:
            raise ConnectionError("unsupported protocol version %d" % hello["protocol"])
        s.settimeout(None)
        return s, hello
    except BaseException:
        s.close()
        raise


# ---- the operations, encoded (used by the router) ---------------------------------

def _hvalue(v):
    if isinstance(v, bool):
        return w.f_bool(4, v)
    if isinstance(v, int):
        return w.f_varint(2, v)
    if isinstance(v, float):
        return w.f_double(1, v)
    if isinstance(v, str):
        return w.f_str(3, v)
    raise TypeError("hparam values are numbers, strings or booleans, not %s" % type(v).__name__)


def _opt_str(field, s):
    return w.f_str(field, s) if s else b""


class _Ops:
    """What DaemonSink does besides queueing: the requests, encoded."""

    def log(self, name, items, step, wall):
        parts = [w.f_str(1, name)]
        for run, tag, s in items:
            parts += w.lp(5, s.wire(run, tag))
        if wall is not None:
            parts.append(w.f_double(4, wall))
        if step == "current":
            parts.append(w.f_bool(3, True))
        elif step is not None:
            parts.append(w.f_varint(2, step))
        parts = w.lp(1, w.lp(w.RQ_LOG, parts))
        n = sum(map(len, parts))
        if n > self.max_frame:
            release(items)
            raise ValueError("a message of %d bytes is larger than the daemon's frame limit "
                             "(%d bytes, tfeventsd --max-line)" % (n, self.max_frame))
        pooled = [b for _, _, s in items if s.pooled for b in s.pooled]
        self.put_parts(parts, n, pooled)

    def restart(self, name, step, run):
        body = w.f_str(1, name) + w.f_varint(2, step) + _opt_str(3, run)
        self.put(w.request(w.RQ_RESTART, body))

    def hparams_config(self, name, run, hparams, metrics):
        body = [w.f_str(1, name), _opt_str(2, run)]
        for hp in hparams:
            b = w.f_str(1, hp.name) + _opt_str(2, hp.display_name) + _opt_str(3, hp.description)
            if hp.type_code():
                b += w.f_varint(4, hp.type_code())
            for v in hp.values or ():
                b += w.f_bytes(5, _hvalue(v))
            if hp.interval is not None:
                b += w.f_double(6, hp.interval[0]) + w.f_double(7, hp.interval[1])
            body.append(w.f_bytes(4, b))
        for m in metrics:
            b = (w.f_str(1, m.tag) + _opt_str(2, m.group) + _opt_str(3, m.display_name)
                 + _opt_str(4, m.description))
            if m.dataset_code():
                b += w.f_varint(5, m.dataset_code())
            body.append(w.f_bytes(5, b))
        self.put(w.request(w.RQ_HP_CONFIG, b"".join(body)))

    def session_start(self, name, run, hparams, group_name):
        body = [w.f_str(1, name), _opt_str(2, run)]
        for k, v in hparams.items():
            body.append(w.f_bytes(4, w.f_str(1, k) + w.f_bytes(2, _hvalue(v))))
        body.append(_opt_str(5, group_name))
        self.put(w.request(w.RQ_HP_START, b"".join(body)))

    def session_end(self, name, run, status):
        body = w.f_str(1, name) + _opt_str(2, run) + w.f_varint(4, status)
        self.put(w.request(w.RQ_HP_END, body))


class DaemonSink(_Ops, Refusals):
    mode = "daemon"

    def __init__(self, path=None, on_error=None, interval=0.05, batch_bytes=BATCH_BYTES,
                 max_pending=MAX_PENDING, reconnect_timeout=30.0):
        self.path = path or default_socket()
        self.sock, hello = connect(self.path)
        self.root = hello["root"]
        self.max_frame = hello["max_frame"]
        self.on_error = on_error
        self.interval = interval
        self.batch_bytes = min(batch_bytes, self.max_frame)
        self.max_pending = max_pending
        self.reconnect_timeout = reconnect_timeout
        self.reconnects = 0
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._parts = []          # the current batch: encoded requests
        self._size = 0
        self._pooled = []         # pooled buffers the current batch uses
        self._frames = collections.deque()
        self._queued = 0          # bytes in _frames and in the sender's hands
        self._wake = threading.Event()
        self._waiters = {}
        self._next_id = 0
        self._errors = []
        self._refused = 0
        self._fatal = None
        self._stopping = False
        self._lost = False
        self._gen = 0
        self._start_reader()
        self._sender = threading.Thread(target=self._send_loop, name="tfevents-sender",
                                        daemon=True)
        self._sender.start()

    # ---- queueing (caller threads) --------------------------------------
    def put(self, entry):
        """Queue one Batch entry (a Request); never waits for the daemon
        unless the queue is full."""
        lock = self._lock
        lock.acquire()
        try:
            if self._fatal is not None:
                raise self._fatal
            n = len(entry)
            if self._size + n > self.max_frame:
                self._cut()
            self._parts.append(entry)
            self._size += n
            if self._size >= self.batch_bytes or len(self._parts) >= MAX_REQUESTS:
                self._cut()
                self._wake.set()
                while self._queued > self.max_pending and self._fatal is None:
                    self._cv.wait(1.0)
        finally:
            lock.release()

    def put_parts(self, parts, n, pooled=()):
        """Queue one Batch entry given as parts of n bytes in all; pooled
        buffers among them go back to the pool once sent."""
        lock = self._lock
        lock.acquire()
        try:
            if self._fatal is not None:
                raise self._fatal
            if self._size + n > self.max_frame:
                self._cut()
            self._parts += parts
            self._size += n
            if pooled:
                self._pooled += pooled
            if self._size >= self.batch_bytes or len(self._parts) >= MAX_REQUESTS:
                self._cut()
                self._wake.set()
                while self._queued > self.max_pending and self._fatal is None:
                    self._cv.wait(1.0)
        finally:
            lock.release()

    def _cut(self):
        """Move the current batch to the frames to send (lock held)."""
        if self._parts:
            self._frames.append((self._parts, self._size, self._pooled))
            self._queued += self._size
            self._parts = []
            self._size = 0
            self._pooled = []

    def call(self, op_field, body, timeout=60.0, retries=3):
        """Send one request with an id and wait for its reply (dict). The
        request is retried when the connection was replaced meanwhile."""
        for _ in range(retries + 1):
            with self._lock:
                if self._fatal is not None:
                    raise self._fatal
                self._next_id += 1
                rid = self._next_id
                slot = [threading.Event(), None]
                self._waiters[rid] = slot
                entry = w.request(op_field, body, rid)
                if self._size + len(entry) > self.max_frame:
                    self._cut()
                self._parts.append(entry)
                self._size += len(entry)
                self._cut()
            self._wake.set()
            if not slot[0].wait(timeout):
                with self._lock:
                    self._waiters.pop(rid, None)
                raise TimeoutError("no reply from tfeventsd at %s in %.0f s" % (self.path, timeout))
            if slot[1] is not None:
                return slot[1]
            if self._fatal is not None:
                raise self._fatal
        raise DaemonError("the connection to tfeventsd at %s kept breaking" % self.path)

    # ---- errors -----------------------------------------------------------
    def _note_error(self, msg):
        self._note_refusal(msg)

    # ---- the reader thread ------------------------------------------------
    def _start_reader(self):
        self._gen += 1
        t = threading.Thread(target=self._read_loop, args=(self.sock, self._gen),
                             name="tfevents-reader", daemon=True)
        t.start()

    def _read_loop(self, sock, gen):
        buf = bytearray()
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                pos = 0
                while len(buf) - pos >= 5:
                    n, kind = w.HEADER.unpack_from(buf, pos)
                    if len(buf) - pos - 5 < n:
                        break
                    payload = bytes(buf[pos + 5:pos + 5 + n])
                    pos += 5 + n
                    if kind == w.FRAME_REPLY:
                        self._on_reply(w.decode_reply(payload))
                del buf[:pos]
        except (OSError, ValueError):
            pass
        if gen == self._gen and not self._stopping:
            self._lost = True
            self._wake.set()

    def _on_reply(self, r):
        rid = r["id"]
        slot = self._waiters.pop(rid, None) if rid is not None else None
        if slot is not None:
            slot[1] = r
            slot[0].set()
        elif not r["ok"]:
            self._note_error("request %s: %s" % (r["request"], r["error"] or "refused"))
        if r["closing"]:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- the sender thread ------------------------------------------------
    def _send_loop(self):
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                self._cut()
                frames = list(self._frames)
                self._frames.clear()
                stopping = self._stopping
            if self._lost and not stopping:
                self._reconnect()
            for parts, size, pooled in frames:
                self._send(parts, size)
                del parts[:]
                for b in pooled:
                    POOL.put(b)
                with self._lock:
                    self._queued -= size
                    self._cv.notify_all()
            if stopping:
                with self._lock:
                    if not self._parts and not self._frames:
                        return

    def _send(self, parts, size):
        head = w.HEADER.pack(size, w.FRAME_BATCH)
        while self._fatal is None:
            try:
                _sendmsg_all(self.sock, [head] + parts)
                return
            except OSError:
                self._reconnect()
        self._note_error("lost %d bytes of requests: %s" % (size, self._fatal))

    def _reconnect(self):
        """Replace a broken connection (sender thread only)."""
        old = self.sock
        try:
            old.close()
        except OSError:
            pass
        # Requests sent on the old connection will never be answered:
        # their callers retry.
        with self._lock:
            waiters, self._waiters = self._waiters, {}
        for slot in waiters.values():
            slot[0].set()
        deadline = time.monotonic() + self.reconnect_timeout
        delay = 0.02
        last = None
        while True:
            try:
                sock, hello = connect(self.path)
                break
            except OSError as e:
                last = e
            if time.monotonic() + delay > deadline or self._stopping and delay > 1:
                self._fail(DaemonError(
                    "tfeventsd at %s is gone and did not come back within %.0f s (%s); "
                    "the values logged since are lost" % (self.path, self.reconnect_timeout,
                                                          last)))
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        if hello["root"] != self.root:
            sock.close()
            self._fail(DaemonError("tfeventsd at %s came back with another root (%s, was %s)"
                                   % (self.path, hello["root"], self.root)))
            return
        self.sock = sock
        self.max_frame = hello["max_frame"]
        self.reconnects += 1
        self._lost = False
        self._start_reader()

    def _fail(self, exc):
        with self._lock:
            self._fatal = exc
            waiters, self._waiters = self._waiters, {}
            self._cv.notify_all()
        for slot in waiters.values():
            slot[0].set()

    # ---- requests -----------------------------------------------------------
    def flush(self, name=None, sync=False, close=False):
        body = (w.f_str(1, name) if name is not None else b"") + (w.f_bool(2, True) if sync
                                                                 else b"")
        r = self.call(w.RQ_CLOSE if close else w.RQ_FLUSH, body)
        if not r["ok"]:
            self._note_error(r["error"] or "flush refused")

    def get_step(self, name):
        r = self.call(w.RQ_STEP_GET, w.f_str(1, name))
        if not r["ok"]:
            raise RuntimeError("tfeventsd: %s" % r["error"])
        return r["step"]

    def set_step(self, name, step):
        r = self.call(w.RQ_STEP_SET, w.f_str(1, name) + w.f_varint(2, step))
        if not r["ok"]:
            raise RuntimeError("tfeventsd: %s" % r["error"])

    def embedding(self, name, run, step, e):
        """Write an embedding's projector files (e: _values.embedding());
        waits for the daemon. ValueError when refused."""
        body = [w.f_str(1, name), _opt_str(2, run), w.f_varint(3, step), w.f_str(4, e["tag"]),
                w.f_varint(5, e["rows"]), w.f_varint(6, e["cols"]),
                w.f_bytes(7, e["tensor"].tobytes())]
        body += [w.f_str(8, s) for s in e["header"]]
        body += [w.f_str(9, s) for s in e["cells"]]
        if e["sprite"] is not None:
            body += [w.f_bytes(10, e["sprite"]), w.f_varint(11, e["dim"][0]),
                     w.f_varint(11, e["dim"][1])]
        r = self.call(w.RQ_EMBEDDING, b"".join(body))
        if not r["ok"]:
            raise ValueError("tfeventsd: %s" % r["error"])

    def send(self, op_field, body):
        self.put(w.request(op_field, body))

    def close(self):
        """Send everything, wait until it is written, stop the threads."""
        if self._stopping:
            return
        try:
            if self._fatal is None:
                self.flush()
        finally:
            with self._lock:
                self._stopping = True
            self._wake.set()
            self._sender.join(30)
            self._gen += 1
            with self._lock:
                if self._fatal is None:
                    self._fatal = ValueError("this tfevents client is closed")
            try:
                self.sock.close()
            except OSError:
                pass

    def ping(self):
        return self.call(w.RQ_PING, b"")["ok"]


def unreachable_message(path, err):
    what = {errno.ENOENT: "no socket there", errno.ECONNREFUSED: "nothing listens"}.get(
        getattr(err, "errno", None), str(err))
    return ("tfeventsd does not answer at %s (%s). Start it with `tfeventsd --socket %s "
            "--root DIR` (or `systemctl --user start tfeventsd.socket`; from a checkout: "
            "`./dev run`), or set TFEVENTS_SOCKET to its socket" % (path, what, path))

