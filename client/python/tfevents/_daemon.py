"""The daemon transport: tfeventsd's binary protocol over its Unix socket.

Callers never wait for the daemon when they log: each request is encoded
by the caller and appended to the current batch (one lock; small requests
joined in one bytearray, bulk data kept as it is, never copied);
a sender thread sends a batch as one frame when it is full, every
`interval` seconds, and when someone waits (flush, get_step). The queue is
bounded: past `max_pending` bytes a caller waits until the sender caught
up. A reader thread takes the replies: answers to requests that carry an
id go to whoever waits for them; refusals of logged requests are kept and
raised by the next flush()/close() (or given to on_error).

Every frame is kept (a journal, no copy) until the daemon acknowledges
it: the answer to a flush of every logdir (flush(), close(), or a
checkpoint the sender asks for every CHECKPOINT_INTERVAL seconds and
CHECKPOINT_BYTES bytes) or the daemon's goodbye at a graceful stop
(Reply{ok, request N, closing}: 1..N written, none after N read). Past
`max_pending` bytes not acknowledged, callers wait for an acknowledgement;
while the daemon cannot write (its flushes fail) a checkpoint is asked for
again every CHECKPOINT_INTERVAL, so that they go on once it can.

When the connection breaks (the daemon restarts, or is killed), the
sender reconnects with growing delays for up to `reconnect_timeout`
seconds and sends again what the daemon had not acknowledged: as it was
when the daemon cannot have read it (a frame not written whole, or after
the goodbye's N); a log at an explicit step with Log.resent (the daemon
skips the values it had written); restarts and hparams as they were. A
log at the counter's step or a step_set the daemon may have carried out
(a kill -9, a crash) is not sent again, since it could be logged twice: it
is counted in `lost` and its sentence reported like a refusal, as is
everything unacknowledged when the daemon does not come back. Refusals
already reported are never sent again. `reconnects` counts the
connections made again."""

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
CHECKPOINT_BYTES = 1024 * 1024    # an acknowledgement asked for every MiB sent...
CHECKPOINT_INTERVAL = 1.0         # ...and every second
SMALL_PART = 4096                 # parts of a request joined with the batch's others


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
        self.lost = 0             # requests lost to broken connections
        self.last_error = None    # the sentence of the last refusal or loss
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        self._parts = []          # the current batch: encoded requests...
        self._tail = bytearray()  # ...and the small ones after them, joined
        self._size = 0
        self._count = 0           # requests in the current batch
        self._pooled = []         # pooled buffers the current batch uses
        self._frames = collections.deque()   # cut: [parts, size, pooled, count, slot]
        self._queued = 0          # bytes cut and not yet acknowledged
        # The journal: frames of this connection not yet acknowledged,
        # [parts, size, pooled, first request number, count, written whole].
        self._journal = collections.deque()
        self._seq = 0             # requests framed on this connection
        self._acked = 0           # requests 1.._acked are written
        self._goodbye = None      # the daemon said goodbye: none after it was read
        self._refused_nums = set()   # refused (reported): never sent again
        self._ckpt_seq = 0        # the last request a checkpoint covers
        self._ckpt_bytes = 0      # bytes framed since the last checkpoint
        self._ckpt_time = time.monotonic()
        self._wake = threading.Event()
        self._waiters = {}
        self._next_id = 0
        self._errors = []
        self._refused = 0
        self._fatal = None
        self._stopping = False
        self._broken = False
        self._gen = 0
        self._reader = None
        self._start_reader()
        self._sender = threading.Thread(target=self._send_loop, name="tfevents-sender",
                                        daemon=True)
        self._sender.start()

    # ---- queueing (caller threads) --------------------------------------
    # Small requests are appended to one bytearray (self._tail) rather
    # than kept as objects: a frame of 6,000 scalars is then one buffer
    # to send and to keep in the journal, the caller's entry is freed at
    # once (by the caller, with its memory still in cache), and the sender
    # no longer walks thousands of buffers (half of its CPU per scalar).
    # Bulk data (SMALL_PART bytes and more) stays a part of its own, never
    # copied.
    def put(self, entry):
        """Queue one Batch entry (a Request); never waits for the daemon
        unless the queue is full."""
        with self._lock:
            if self._fatal is not None:
                raise self._fatal
            size = self._size + len(entry)
            if size > self.max_frame:
                self._cut()
                size = len(entry)
            self._tail += entry
            self._size = size
            self._count += 1
            if size >= self.batch_bytes or self._count >= MAX_REQUESTS:
                self._full()

    def put_parts(self, parts, n, pooled=()):
        """Queue one Batch entry given as parts of n bytes in all; pooled
        buffers among them go back to the pool once acknowledged."""
        with self._lock:
            if self._fatal is not None:
                raise self._fatal
            if self._size + n > self.max_frame:
                self._cut()
            tail = self._tail
            for p in parts:
                if len(p) < SMALL_PART:
                    tail += p
                else:
                    if tail:
                        self._parts.append(tail)
                        tail = self._tail = bytearray()
                    self._parts.append(p)
            self._size += n
            self._count += 1
            if pooled:
                self._pooled += pooled
            if self._size >= self.batch_bytes or self._count >= MAX_REQUESTS:
                self._full()

    def _full(self):
        """The batch is full: hand it to the sender, and wait while more
        than max_pending bytes are not acknowledged (lock held)."""
        self._cut()
        self._wake.set()
        while self._queued > self.max_pending and self._fatal is None:
            self._cv.wait(1.0)

    def _cut(self, slot=None):
        """Move the current batch to the frames to send (lock held); slot:
        the waiter of the call that ends it (told its request number)."""
        if self._tail:
            self._parts.append(self._tail)
            self._tail = bytearray()
        if self._parts:
            self._frames.append([self._parts, self._size, self._pooled, self._count, slot])
            self._queued += self._size
            self._parts = []
            self._size = 0
            self._count = 0
            self._pooled = []

    def call(self, op_field, body, timeout=60.0, retries=3, acks=False):
        """Send one request with an id and wait for its reply (dict). The
        request is retried when the connection was replaced meanwhile.
        acks: its ok answers acknowledges every request before it (a
        flush or close of every logdir)."""
        for _ in range(retries + 1):
            with self._lock:
                if self._fatal is not None:
                    raise self._fatal
                self._next_id += 1
                rid = self._next_id
                # [answered, reply, acknowledges, its number on the connection]
                slot = [threading.Event(), None, acks, None]
                self._waiters[rid] = slot
                entry = w.request(op_field, body, rid)
                if self._size + len(entry) > self.max_frame:
                    self._cut()
                self._tail += entry
                self._size += len(entry)
                self._count += 1
                self._cut(slot)
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
        self.last_error = msg
        self._note_refusal(msg)

    def _note_lost(self, n, msg):
        """n requests are lost: counted, and the sentence reported like a
        refusal (on_error, or raised by the next flush()/close())."""
        if n <= 0:
            return
        self.lost += n
        self.last_error = msg
        cb = self.on_error
        if cb is not None:
            try:
                cb(msg)
            except Exception:  # a callback must not kill the sender
                pass
        else:
            with self._lock:
                self._errors.append(msg)

    # ---- the reader thread ------------------------------------------------
    def _start_reader(self):
        self._gen += 1
        self._reader = threading.Thread(target=self._read_loop, args=(self.sock, self._gen),
                                        name="tfevents-reader", daemon=True)
        self._reader.start()

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
                        self._on_reply(w.decode_reply(payload), gen, sock)
                del buf[:pos]
        except (OSError, ValueError):
            pass
        if gen == self._gen and not self._stopping:
            self._broken = True
            self._wake.set()

    def _on_reply(self, r, gen, sock):
        rid = r["id"]
        with self._lock:
            if gen != self._gen:
                return          # an old connection's: its journal is gone
            slot = self._waiters.pop(rid, None) if rid is not None else None
            if r["ok"]:
                if slot is not None and slot[2] and slot[3] is not None:
                    self._ack(slot[3])
                elif rid is None and r["closing"] and r["request"] is not None:
                    # The goodbye: 1..N executed and written, none after N read.
                    self._goodbye = r["request"]
                    self._ack(r["request"])
            elif slot is not None and slot[2]:
                # A flush of every logdir failed (the daemon cannot write):
                # nothing is acknowledged, so a checkpoint is asked for
                # again (_checkpoint(), every CHECKPOINT_INTERVAL) even if
                # nothing more is sent -- callers blocked at max_pending
                # send nothing more, and would otherwise wait for ever.
                self._ckpt_seq = min(self._ckpt_seq, self._acked)
            elif slot is None and r["request"] is not None:
                self._refused_nums.add(r["request"])
        if slot is not None:
            slot[1] = r
            slot[0].set()
        elif not r["ok"]:
            self._note_error("request %s: %s" % (r["request"], r["error"] or "refused"))
        if r["closing"]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _ack(self, upto):
        """Requests 1..upto of this connection are written: drop the
        frames they cover (lock held)."""
        if upto <= self._acked:
            return
        self._acked = upto
        j = self._journal
        while j and j[0][3] + j[0][4] - 1 <= upto:
            parts, size, pooled = j.popleft()[:3]
            self._queued -= size
            for b in pooled:
                POOL.put(b)
        if self._refused_nums:
            self._refused_nums = {n for n in self._refused_nums if n > upto}
        self._cv.notify_all()

    # ---- the sender thread ------------------------------------------------
    def _send_loop(self):
        todo = collections.deque()
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                self._cut()
                todo.extend(self._frames)
                self._frames.clear()
                stopping = self._stopping
            if self._broken and self._fatal is None:
                self._recover(todo)
            while todo and self._fatal is None:
                if not self._send(todo[0]):
                    self._recover(todo)
                    continue
                todo.popleft()
            if self._fatal is None:
                self._checkpoint()
            if todo:
                self._drop(todo)
            if stopping:
                with self._lock:
                    if not self._parts and not self._tail and not self._frames:
                        return

    def _send(self, frame):
        """Number, journal and write one frame; False when the connection
        broke. A frame not written whole cannot have been executed (the
        daemon runs whole frames only): it leaves the journal, and the
        caller sends it again, as it was, on the next connection. (Kept in
        both, it was sent twice after a break: once from the journal, once
        from the caller's queue, and the second copy was refused.)"""
        parts, size, pooled, count, slot = frame
        with self._lock:
            first = self._seq + 1
            self._seq += count
            if slot is not None:
                slot[3] = self._seq
            self._ckpt_bytes += size
            rec = [parts, size, pooled, first, count, False]
            self._journal.append(rec)
        try:
            _sendmsg_all(self.sock, [w.HEADER.pack(size, w.FRAME_BATCH)] + parts)
        except OSError:
            with self._lock:
                try:
                    self._journal.remove(rec)
                except ValueError:
                    pass          # a reader's ack cannot reach an unsent frame
            return False
        rec[5] = True
        return True

    def _checkpoint(self):
        """Ask for an acknowledgement (a flush of every logdir) every
        CHECKPOINT_INTERVAL seconds and CHECKPOINT_BYTES bytes sent, so
        that the journal stays short and a crash puts little in doubt."""
        now = time.monotonic()
        with self._lock:
            if self._seq <= self._ckpt_seq or self._seq <= self._acked:
                return
            # Callers wait past max_pending: ask early enough for them.
            every = min(CHECKPOINT_BYTES, self.max_pending // 4)
            if self._ckpt_bytes < every and now - self._ckpt_time < CHECKPOINT_INTERVAL:
                return
            self._next_id += 1
            rid = self._next_id
            slot = self._waiters[rid] = [threading.Event(), None, True, None]
            entry = w.request(w.RQ_FLUSH, b"", rid)
            self._queued += len(entry)
            self._ckpt_seq = self._seq + 1
            self._ckpt_bytes = 0
            self._ckpt_time = now
        self._send([[entry], len(entry), [], 1, slot])   # a break is seen by the reader

    def _drop(self, todo):
        """The daemon is gone for good: frames never sent are lost."""
        n = 0
        with self._lock:
            for parts, size, pooled, count, _ in todo:
                n += count
                self._queued -= size
                for b in pooled:
                    POOL.put(b)
        todo.clear()
        self._note_lost(n, "tfeventsd at %s is gone: %d request(s) not sent are lost"
                        % (self.path, n))

    def _recover(self, todo):
        """Replace a broken connection and put in front of todo what must
        be sent again (sender thread only)."""
        old = self.sock
        try:
            old.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        # The replies the old connection still holds (refusals, the
        # goodbye) are read before its journal is sorted.
        if self._reader is not None:
            self._reader.join(HELLO_TIMEOUT)
        with self._lock:
            self._gen += 1        # late replies of the old connection are ignored
            waiters, self._waiters = self._waiters, {}
        try:
            old.close()
        except OSError:
            pass
        # Requests with an id will never be answered on the old connection:
        # their callers send them again.
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
                self._give_up(todo, DaemonError(
                    "tfeventsd at %s is gone and did not come back within %.0f s (%s); "
                    "the values logged since are lost" % (self.path, self.reconnect_timeout,
                                                          last)))
                return
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        if hello["root"] != self.root:
            sock.close()
            self._give_up(todo, DaemonError(
                "tfeventsd at %s came back with another root (%s, was %s)"
                % (self.path, hello["root"], self.root)))
            return
        with self._lock:
            journal, self._journal = self._journal, collections.deque()
            goodbye, self._goodbye = self._goodbye, None
            refused, self._refused_nums = self._refused_nums, set()
            acked = self._acked
            self._seq = self._acked = self._ckpt_seq = self._ckpt_bytes = 0
            self.sock = sock
            self.max_frame = hello["max_frame"]
            self.reconnects += 1
            self._broken = False
        self._start_reader()
        todo.extendleft(reversed(self._replay(journal, goodbye, refused, acked)))

    def _replay(self, journal, goodbye, refused, acked):
        """The frames to send again for what the old connection's journal
        holds: as it was when the daemon cannot have read it, with
        Log.resent at an explicit step when it may have, never when that
        could log it twice (counted as lost)."""
        entries, sizes = [], []
        counter = step_set = 0
        for parts, size, pooled, first, count, whole in journal:
            data = b"".join(parts)
            with self._lock:
                self._queued -= size
            for b in pooled:
                POOL.put(b)
            num = first - 1
            for req in w.batch_requests(data):
                num += 1
                if num <= acked or num in refused:
                    continue
                kind, rid = w.classify(req)
                if rid is not None:
                    continue      # a call (or a checkpoint): its caller retries
                unread = not whole or (goodbye is not None and num > goodbye)
                if not unread:
                    if kind == w.K_LOG_COUNTER:
                        counter += 1
                        continue
                    if kind == w.K_STEP_SET:
                        step_set += 1
                        continue
                    if kind == w.K_LOG_AT:
                        req = w.resent(req)
                e = w.f_bytes(1, req)
                entries.append(e)
                sizes.append(len(e))
        self._note_lost(counter + step_set, (
            "the connection to tfeventsd at %s ended without an acknowledgement (the daemon "
            "was killed or crashed): %d log request(s) at the counter's step and %d step_set "
            "request(s), sent after the last acknowledgement, were not sent again (the daemon "
            "may have carried them out, and sending them again could log them twice); "
            "requests at explicit steps were sent again (what the daemon had written is "
            "skipped)" % (self.path, counter, step_set)))
        frames, cur, n = [], [], 0
        limit = min(self.batch_bytes, self.max_frame)
        for e, k in zip(entries, sizes):
            if cur and (n + k > limit or len(cur) >= MAX_REQUESTS):
                frames.append([cur, n, [], len(cur), None])
                cur, n = [], 0
            cur.append(e)
            n += k
        if cur:
            frames.append([cur, n, [], len(cur), None])
        with self._lock:
            self._queued += sum(sizes)
        return frames

    def _give_up(self, todo, exc):
        """The daemon did not come back: what was not acknowledged is lost."""
        n = 0
        with self._lock:
            self._fatal = exc
            journal, self._journal = self._journal, collections.deque()
            waiters, self._waiters = self._waiters, {}
            for parts, size, pooled, count, _ in list(todo) + list(self._frames):
                n += count
            self._frames.clear()
            n += self._count
            self._parts, self._size, self._count, self._pooled = [], 0, 0, []
            self._tail = bytearray()
            self._queued = 0
            self._cv.notify_all()
        todo.clear()
        for parts, size, pooled, first, count, whole in journal:
            for req in w.batch_requests(b"".join(parts)):
                if w.classify(req)[1] is None:
                    n += 1
        for slot in waiters.values():
            slot[0].set()
        self._note_lost(n, "%s: %d request(s) sent or batched since the last acknowledgement "
                        "are lost (those the daemon had read before it went away may be in "
                        "the files)" % (exc, n))

    # ---- requests -----------------------------------------------------------
    def flush(self, name=None, sync=False, close=False):
        body = (w.f_str(1, name) if name is not None else b"") + (w.f_bool(2, True) if sync
                                                                 else b"")
        r = self.call(w.RQ_CLOSE if close else w.RQ_FLUSH, body, acks=name is None)
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

    def graph(self, name, run, step, tag, data):
        """Write a serialized GraphDef (tag None) or a RunMetadata under tag
        into an Event of run; waits for the daemon, which parses it first.
        ValueError when refused."""
        body = [w.f_str(1, name), _opt_str(2, run), w.f_varint(3, step),
                w.f_double(4, time.time())]
        body += w.big(5 if tag is None else 6, data)
        if tag is not None:
            body.append(w.f_str(7, tag))
        r = self.call(w.RQ_GRAPH, b"".join(body))
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

