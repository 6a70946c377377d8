"""Protobuf wire format for the daemon's binary protocol (proto/tfwire.proto)
and for TensorBoard's own messages where the client builds them itself
(pr_curves and custom_scalars plugin data).

Only what the client needs: encoders for the requests it sends, a decoder
for the Hello and Reply frames it reads, and a generic field walker used by
the event-file reader. Bulk arrays are written packed (little-endian) and
never as number text.

Field numbers are those of proto/tfwire.proto; the encoders emit fields in
an order the daemon's lean decoder takes for single scalars (logdir,
values, wall_time, step)."""

import struct

MAGIC = b"TFEVBIN\x01"
FRAME_BATCH = 1
FRAME_REPLY = 2
FRAME_HELLO = 3
HEADER = struct.Struct("<IB")

# Wire types.
VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5

_double = struct.Struct("<d").pack


_V1 = tuple(bytes((i,)) for i in range(128))
_U16 = struct.Struct("<H").pack
_U16U8 = struct.Struct("<HB").pack


def varint(n):
    """A varint; negative numbers as 64-bit two's complement (int64). The
    1 to 3 byte forms (steps below 2^21, lengths) without a loop: this is
    on the path of every add_scalar and add_text."""
    if 0 <= n < 0x80:
        return _V1[n]
    if 0 <= n < 0x4000:
        return _U16((n & 0x7F) | 0x80 | (n >> 7) << 8)
    if 0 <= n < 0x200000:
        return _U16U8((n & 0x7F) | 0x80 | ((n >> 7) & 0x7F | 0x80) << 8, n >> 14)
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(field, wire):
    return varint((field << 3) | wire)


def f_bytes(field, data):
    return key(field, LEN) + varint(len(data)) + data


def f_str(field, s):
    return f_bytes(field, s.encode("utf-8"))


def f_varint(field, n):
    return key(field, VARINT) + varint(n)


def f_double(field, x):
    return key(field, FIXED64) + _double(x)


def f_bool(field, b):
    return key(field, VARINT) + (b"\x01" if b else b"\x00")


def lp(field, parts):
    """parts (a list of bytes-like) prefixed as one length-delimited field,
    without copying them: returns the list, its head inserted first."""
    n = 0
    for p in parts:
        n += len(p)
    parts.insert(0, key(field, LEN) + varint(n))
    return parts


def big(field, data):
    """A length-delimited field as [head, data] (data not copied)."""
    return [key(field, LEN) + varint(len(data)), data]


def f_packed_u64(field, seq):
    return f_bytes(field, b"".join(varint(int(x)) for x in seq))


# ---- Request -----------------------------------------------------------------
# Request fields (oneof op).
RQ_LOG, RQ_STEP_GET, RQ_STEP_SET, RQ_FLUSH = 2, 3, 4, 5
RQ_HP_CONFIG, RQ_HP_START, RQ_HP_END, RQ_RESTART, RQ_CLOSE = 6, 7, 8, 9, 10
RQ_PING, RQ_STATS, RQ_EMBEDDING, RQ_GRAPH = 11, 12, 13, 14


def request(op_field, body, rid=None):
    """One Batch entry (field 1 of Batch) holding a Request."""
    rq = f_bytes(op_field, body)
    if rid is not None:
        rq = f_varint(1, rid) + rq
    return f_bytes(1, rq)


def value_head(run, tag, display_name=None, description=None):
    out = []
    if run and run != ".":
        out.append(f_str(1, run))
    out.append(f_str(2, tag))
    if display_name:
        out.append(f_str(3, display_name))
    if description:
        out.append(f_str(4, description))
    return b"".join(out)


# Value kinds (fields of Value).
V_SCALAR, V_TEXT, V_HISTOGRAM, V_IMAGE, V_AUDIO, V_CUSTOM, V_ENCODED = 10, 11, 12, 13, 14, 15, 16
V_PR_CURVE, V_LAYOUT, V_MESH = 17, 18, 19


# The tail of a one-value Log request: Log.wall_time (0x21 + double) and
# Log.step (0x10 + varint), the step's varint of 1 to 4 bytes packed as
# little-endian integers with the continuation bits set (_step_word), so
# that one struct call makes the whole tail; with the scalar's double
# first for ScalarTemplate. Longer varints (steps of 2^28 and more) take
# varint().
_S_TAIL = [struct.Struct("<d" + f).pack for f in ("Bd", "BdBB", "BdBH", "BdBHB", "BdBI")]
_T_TAIL = [struct.Struct("<" + f).pack for f in ("Bd", "BdBB", "BdBH", "BdBHB", "BdBI")]


def _step_word(step):
    """(varint length, the varint as packed by the tail's last fields) for
    0 <= step < 2^28, else (0, None)."""
    if step < 0x80:
        return 1, (step,)
    if step < 0x4000:
        return 2, ((step & 0x7F) | 0x80 | (step >> 7) << 8,)
    if step < 0x200000:
        return 3, ((step & 0x7F) | 0x80 | ((step >> 7) & 0x7F | 0x80) << 8, step >> 14)
    if step < 0x10000000:
        return 4, ((step & 0x7F) | 0x80 | ((step >> 7) & 0x7F | 0x80) << 8
                   | ((step >> 14) & 0x7F | 0x80) << 16 | (step >> 21) << 24,)
    return 0, None


class ScalarTemplate:
    """The bytes of a one-scalar Log request for one (logdir, run, tag),
    kept so that each add_scalar only packs its numbers: entry =
    head[len(step varint)] + double(value) + 0x21 + double(wall) + 0x10 +
    varint(step)."""

    __slots__ = ("heads",)

    def __init__(self, logdir, run, tag):
        ld = f_str(1, logdir)
        val = value_head(run, tag) + key(V_SCALAR, FIXED64)
        vfield = key(5, LEN) + varint(len(val) + 8) + val
        self.heads = []
        # Log body = ld + vfield + 8 + 9 (wall) + (1 + n) (step) for n in 0..10
        # (n = 0: no step field, the counter's next step).
        for n in range(11):
            step_len = 1 + n if n else 0
            body_len = len(ld) + len(vfield) + 8 + 9 + step_len
            rq = key(RQ_LOG, LEN) + varint(body_len)
            entry_head = key(1, LEN) + varint(len(rq) + body_len)
            self.heads.append(entry_head + rq + ld + vfield)

    def entry(self, value, wall, step):
        if step is None:
            return self.heads[0] + _S_TAIL[0](value, 0x21, wall)
        if 0 <= step < 0x80:
            return self.heads[1] + _S_TAIL[1](value, 0x21, wall, 0x10, step)
        if 0 <= step < 0x200000:   # written out: the function call costs 20 %
            if step < 0x4000:
                return self.heads[2] + _S_TAIL[2](value, 0x21, wall, 0x10,
                                                  (step & 0x7F) | 0x80 | (step >> 7) << 8)
            return self.heads[3] + _S_TAIL[3](
                value, 0x21, wall, 0x10,
                (step & 0x7F) | 0x80 | ((step >> 7) & 0x7F | 0x80) << 8, step >> 14)
        k, words = _step_word(step) if step >= 0 else (0, None)
        if k:
            return self.heads[k] + _S_TAIL[k](value, 0x21, wall, 0x10, *words)
        sv = varint(step)
        return self.heads[len(sv)] + _S_TAIL[0](value, 0x21, wall) + b"\x10" + sv


# Text lengths whose request heads TextTemplate keeps (per template, at
# most this many heads).
TEXT_KEEP_HEADS = 1024


class TextTemplate:
    """The fixed bytes of a one-text Log request for one (logdir, run, tag):
    each add_text encodes its string, and takes the bytes before it (which
    depend only on the string's length and the step's varint length) from
    a dictionary, and packs the wall time and step with one struct call.
    The bytes are those DaemonSink.log makes for summary_text(text):
    Log{logdir, values: Value{run, tag, text: Text{strings: [text]}},
    wall_time, step}."""

    __slots__ = ("logdir", "head", "heads")

    def __init__(self, logdir, run, tag):
        self.logdir = f_str(1, logdir)
        self.head = value_head(run, tag) + key(V_TEXT, LEN)
        self.heads = {}

    def _head(self, n, step_len):
        """The entry's bytes before a string of n bytes (step_len: the
        Log.step field's length, 0 without a step)."""
        sub = 1 + len(varint(n)) + n                                # Text.strings
        val = len(self.head) + len(varint(sub)) + sub
        body = len(self.logdir) + 1 + len(varint(val)) + val + 9 + step_len
        rq = 1 + len(varint(body)) + body
        h = (b"\x0a" + varint(rq) + key(RQ_LOG, LEN) + varint(body) +   # Batch.requests
             self.logdir + b"\x2a" + varint(val) + self.head +         # Log.values
             varint(sub) + b"\x0a" + varint(n))
        if len(self.heads) < TEXT_KEEP_HEADS:
            self.heads[n << 4 | step_len] = h
        return h

    def entry(self, text, wall, step):
        tb = text.encode("utf-8")
        if step is None:
            k, tail = 0, _T_TAIL[0](0x21, wall)
        elif 0 <= step < 0x80:
            k, tail = 2, _T_TAIL[1](0x21, wall, 0x10, step)
        elif 0 <= step < 0x200000:
            if step < 0x4000:
                k, tail = 3, _T_TAIL[2](0x21, wall, 0x10, (step & 0x7F) | 0x80 | (step >> 7) << 8)
            else:
                k, tail = 4, _T_TAIL[3](0x21, wall, 0x10,
                                        (step & 0x7F) | 0x80 | ((step >> 7) & 0x7F | 0x80) << 8,
                                        step >> 14)
        else:
            k, words = _step_word(step) if step >= 0 else (0, None)
            if k:
                tail = _T_TAIL[k](0x21, wall, 0x10, *words)
                k += 1
            else:
                sv = varint(step)
                k, tail = 1 + len(sv), _T_TAIL[0](0x21, wall) + b"\x10" + sv
        h = self.heads.get(len(tb) << 4 | k)
        if h is None:
            h = self._head(len(tb), k)
        return h + tb + tail


def frame(payload, kind=FRAME_BATCH):
    return HEADER.pack(len(payload), kind) + payload


# ---- decoding ----------------------------------------------------------------

def read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(buf, start=0, end=None):
    """Yield (field, wire type, value) of a serialized message: ints for
    varints, bytes (memoryview slices) for LEN, raw 8/4 bytes for fixed."""
    pos = start
    end = len(buf) if end is None else end
    while pos < end:
        k, pos = read_varint(buf, pos)
        f, w = k >> 3, k & 7
        if w == VARINT:
            v, pos = read_varint(buf, pos)
        elif w == FIXED64:
            v = buf[pos:pos + 8]
            pos += 8
        elif w == LEN:
            n, pos = read_varint(buf, pos)
            v = buf[pos:pos + n]
            pos += n
        elif w == FIXED32:
            v = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % w)
        if pos > end:
            raise ValueError("truncated message")
        yield f, w, v


def signed64(n):
    return n - (1 << 64) if n >= 1 << 63 else n


def decode_hello(buf):
    out = {"protocol": 0, "max_frame": 0, "root": ""}
    for f, _, v in fields(buf):
        if f == 1:
            out["protocol"] = v
        elif f == 2:
            out["max_frame"] = v
        elif f == 3:
            out["root"] = bytes(v).decode("utf-8")
    return out


def decode_reply(buf):
    r = {"id": None, "ok": False, "request": None, "error": None, "step": None,
         "next": None, "closing": False, "stats_json": None}
    for f, _, v in fields(buf):
        if f == 1:
            r["id"] = v
        elif f == 2:
            r["ok"] = bool(v)
        elif f == 3:
            r["request"] = v
        elif f == 4:
            r["error"] = bytes(v).decode("utf-8", "replace")
        elif f == 5:
            r["step"] = signed64(v)
        elif f == 6:
            r["next"] = signed64(v)
        elif f == 9:
            r["stats_json"] = bytes(v).decode("utf-8", "replace")
        elif f == 10:
            r["closing"] = bool(v)
    return r


# ---- what a client sends again after a broken connection -------------------------
# The kinds of a Request, for sending it again when the daemon may have
# executed it already (as libtfevents' lib_journal sorts them).
K_OTHER = 0          # flush, step_get, ping ... (with an id: its caller retries)
K_LOG_AT = 1         # a log at an explicit step: sent again with Log.resent
K_LOG_COUNTER = 2    # a log at the counter's step: again could log it twice
K_STEP_SET = 3       # moves the counter: again could move it below later steps
K_REPLAYABLE = 4     # restart, hparams: the same again changes nothing shown
LOG_RESENT = b"\x30\x01"   # Log field 6 (resent), varint 1


def batch_requests(buf):
    """The serialized Requests of a Batch payload (memoryview slices)."""
    for f, wt, v in fields(memoryview(buf)):
        if f == 1 and wt == LEN:
            yield v


def classify(req):
    """(kind, id or None) of a serialized Request."""
    rid = None
    kind = K_OTHER
    for f, wt, v in fields(req):
        if f == 1 and wt == VARINT:
            rid = v
        elif f == RQ_LOG and wt == LEN:
            kind = K_LOG_COUNTER
            for lf, _, _ in fields(v):
                if lf == 2:
                    kind = K_LOG_AT
        elif f == RQ_STEP_SET:
            kind = K_STEP_SET
        elif f in (RQ_RESTART, RQ_HP_CONFIG, RQ_HP_START, RQ_HP_END):
            kind = K_REPLAYABLE
    return kind, rid


def resent(req):
    """A Log request (without id, at an explicit step) with Log.resent set:
    the Log body is copied once and the flag appended (fields may come in
    any order), the lengths written again."""
    for f, wt, v in fields(req):
        if f == RQ_LOG and wt == LEN:
            for lf, _, _ in fields(v):
                if lf == 6:
                    return bytes(req)
            return f_bytes(RQ_LOG, bytes(v) + LOG_RESENT)
    raise ValueError("not a log request")
