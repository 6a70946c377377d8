#!/usr/bin/env python3
"""The binary protocol against the real tfeventsd: frames built by hand
(standard library only, our own protobuf encoder), the Hello, replies,
error replies that keep the connection, desynchronised streams that close
only their own connection, and the files read back with clients/evfile.py.
When the shared tools are present the logdir must pass eventlint --strict.

Usage: test-binary.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
check, evfile, Failure = td.check, td.evfile, td.Failure
DAEMON, EVENTLINT = td.DAEMON, td.EVENTLINT

MAGIC = b"TFEVBIN\x01"
BATCH, REPLY, HELLO = 1, 2, 3


# ---- protobuf, by hand ----------------------------------------------------

def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, v):
    return key(field, 0) + varint(v)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_double(field, d):
    return key(field, 1) + struct.pack("<d", d)


def parse(b):
    """{field: [values]} of one message (varints as ints, LEN as bytes)."""
    out = {}
    pos = 0
    while pos < len(b):
        k, pos = evfile._varint(b, pos)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, pos = evfile._varint(b, pos)
        elif wire == 1:
            v = b[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n, pos = evfile._varint(b, pos)
            v = b[pos:pos + n]
            pos += n
        elif wire == 5:
            v = b[pos:pos + 4]
            pos += 4
        else:
            raise Failure("bad wire type in a daemon frame")
        out.setdefault(field, []).append(v)
    return out


# tfwire.proto
def value_scalar(tag, x, run=None):
    return (f_bytes(1, run) if run else b"") + f_bytes(2, tag) + f_double(10, x)


def log(logdir, values, step=None, rid=None, extra=b""):
    body = f_bytes(1, logdir)
    if step is not None:
        body += f_varint(2, step)
    for v in values:
        body += f_bytes(5, v)
    rq = (f_varint(1, rid) if rid is not None else b"") + f_bytes(2, body + extra)
    return rq


def ping(rid=None):
    return (f_varint(1, rid) if rid is not None else b"") + f_bytes(11, b"")


def stats(rid):
    return f_varint(1, rid) + f_bytes(12, b"")


def step_get(logdir, rid):
    return f_varint(1, rid) + f_bytes(3, f_bytes(1, logdir))


def flush(rid, sync=False):
    return f_varint(1, rid) + f_bytes(5, f_varint(2, 1) if sync else b"")


def frame(requests, kind=BATCH):
    payload = b"".join(f_bytes(1, r) for r in requests)
    return struct.pack("<IB", len(payload), kind) + payload


class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(20)
        self.s.connect(path)
        self.buf = b""

    def hello(self):
        self.s.sendall(MAGIC)
        kind, payload = self.read_frame()
        check(kind == HELLO, "first frame is not a Hello: kind %d" % kind)
        return parse(payload)

    def read_frame(self):
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack_from("<I", self.buf)[0]:
            chunk = self.s.recv(65536)
            if not chunk:
                return None, None
            self.buf += chunk
        n, kind = struct.unpack_from("<IB", self.buf)
        payload = self.buf[5:5 + n]
        self.buf = self.buf[5 + n:]
        return kind, payload

    def reply(self):
        kind, payload = self.read_frame()
        check(kind == REPLY, "expected a Reply frame, got %r" % kind)
        p = parse(payload)
        r = {"ok": bool(p.get(2, [0])[0])}
        if 1 in p:
            r["id"] = p[1][0]
        if 3 in p:
            r["request"] = p[3][0]
        if 4 in p:
            r["error"] = p[4][0].decode()
        for f, name in ((5, "step"), (6, "next")):
            if f in p:
                v = p[f][0]
                r[name] = v - (1 << 64) if v >= 1 << 63 else v
        if 7 in p:
            r["pong"] = bool(p[7][0])
        if 8 in p:
            r["protocol"] = p[8][0]
        if 9 in p:
            r["stats_json"] = p[9][0].decode()
        if 10 in p:
            r["closing"] = bool(p[10][0])
        return r

    def send(self, b):
        self.s.sendall(b)

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except OSError:
            return True

    def close(self):
        self.s.close()


class Daemon:
    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "d.sock")
        self.root = os.path.join(tmp, "logs")
        self.err = open(os.path.join(tmp, "stderr"), "w")
        self.p = subprocess.Popen([DAEMON, "--socket", self.sock, "--root", self.root,
                                   "--log-level", "debug", "--max-line", "65536"],
                                  stdout=subprocess.PIPE, stderr=self.err, text=True)
        td._live_daemons.append(self.p)   # killed at exit if a check fails first
        line = self.p.stdout.readline()
        check("listening on" in line, "daemon did not start: %r" % line)

    def stop(self):
        self.p.terminate()
        self.p.wait(30)
        self.err.close()


def t_hello(d):
    c = Conn(d.sock)
    h = c.hello()
    check(h[1] == [1], "protocol 1 in the Hello: %r" % h)
    check(h[2] == [65536], "max_frame is --max-line: %r" % h)
    check(h[3][0].decode() == os.path.realpath(d.root), "root in the Hello: %r" % h[3])
    c.close()


def t_log_and_replies(d):
    c = Conn(d.sock)
    c.hello()
    c.send(frame([log("bin", [value_scalar("loss", 0.5), value_scalar("acc", 0.25, "train")],
                      rid=1),
                  log("bin", [value_scalar("loss", 0.75)]),
                  step_get("bin", 2),
                  ping(3)]))
    r = c.reply()
    check(r == {"ok": True, "id": 1, "step": 0}, "log reply: %r" % r)
    r = c.reply()
    check(r["id"] == 2 and r["step"] == 1 and r["next"] == 2, "step_get: %r" % r)
    r = c.reply()
    check(r["id"] == 3 and r.get("pong") and r.get("protocol") == 1, "ping: %r" % r)
    # a 64-bit id comes back exactly
    c.send(frame([ping((1 << 64) - 1)]))
    r = c.reply()
    check(r["id"] == (1 << 64) - 1, "64-bit id: %r" % r)
    c.send(frame([stats(5)]))
    r = c.reply()
    check(r["id"] == 5 and '"events":3' in r["stats_json"], "stats: %r" % r)
    c.send(frame([flush(6, sync=True)]))
    r = c.reply()
    check(r == {"ok": True, "id": 6}, "flush: %r" % r)
    runs, _ = evfile.load(os.path.join(d.root, "bin"))
    loss = [(s, evfile.scalar_of(v)) for s, v in runs["."]["loss"]]
    check(loss == [(0, 0.5), (1, 0.75)], "loss in the file: %r" % loss)
    acc = [(s, evfile.scalar_of(v)) for s, v in runs["train"]["acc"]]
    check(acc == [(0, 0.25)], "acc in the file: %r" % acc)
    c.close()
    if EVENTLINT:
        p = subprocess.run([sys.executable, EVENTLINT, "--strict", "-q",
                            os.path.join(d.root, "bin")], capture_output=True, text=True)
        check(p.returncode == 0, "eventlint: %s%s" % (p.stdout, p.stderr))


def t_errors_keep_connection(d):
    c = Conn(d.sock)
    c.hello()
    c.send(frame([
        log("bin2", [value_scalar("x", 1)], rid=1, extra=f_varint(77, 1)),   # unknown field
        log("bin2", [value_scalar("x", 1)], step=5, rid=2),
        log("bin2", [value_scalar("x", 2)], step=3, rid=3),                  # goes back
        log("/abs", [value_scalar("x", 2)], rid=4),
        log("bin2", [f_bytes(2, "t")], rid=5),                              # no data
        ping(6)]))
    r = c.reply()
    check(not r["ok"] and r["id"] == 1 and r["request"] == 1 and
          "unknown field 77 in tfevents.Log" in r["error"], "unknown field: %r" % r)
    r = c.reply()
    check(r["ok"] and r["step"] == 5, "step 5: %r" % r)
    r = c.reply()
    check(not r["ok"] and r["request"] == 3 and "not greater than its last step 5" in r["error"],
          "refused step: %r" % r)
    r = c.reply()
    check(not r["ok"] and r["id"] == 4 and "absolute" in r["error"], "absolute logdir: %r" % r)
    r = c.reply()
    check(not r["ok"] and "no data" in r["error"], "no data: %r" % r)
    r = c.reply()
    check(r.get("pong"), "the connection goes on: %r" % r)
    # a frame whose payload is not a Batch: one error, then the next frame
    c.send(struct.pack("<IB", 3, BATCH) + b"\xff\xff\xff" + frame([ping(8)]))
    r = c.reply()
    check(not r["ok"] and r["request"] == 7 and "not a tfevents.Batch" in r["error"],
          "garbage payload: %r" % r)
    r = c.reply()
    check(r.get("id") == 8 and r.get("pong"), "after garbage: %r" % r)
    # wrong wire type: field 2 (log) as a varint
    c.send(frame([f_varint(1, 9) + f_varint(2, 1)]))
    r = c.reply()
    check(not r["ok"] and "not a tfevents.Batch" in r["error"], "wrong wire type: %r" % r)
    c.close()


def t_nul_in_strings(d):
    """A NUL byte in any string (protobuf-c would cut it there) refuses that
    request with the field's name; the lean path's shape and the general
    path's alike; the rest of the frame goes on."""
    c = Conn(d.sock)
    c.hello()
    c.send(frame([
        log("nl\x00x", [value_scalar("x", 1)], rid=1),                  # lean shape
        log("nul", [value_scalar("he\x00llo", 1)], rid=2),               # lean shape
        log("nul", [f_bytes(2, "t") + f_bytes(11, f_bytes(1, "a\x00b"))], rid=3),  # text
        log("nul", [value_scalar("ok", 1)], rid=4)]))
    for want_field in ("logdir", "tag", "strings"):
        r = c.reply()
        check(not r["ok"] and ("field '%s'" % want_field) in r["error"] and
              "NUL" in r["error"], "NUL in %s: %r" % (want_field, r))
    r = c.reply()
    check(r["ok"] and r["id"] == 4, "the frame goes on: %r" % r)
    c.close()
    check(not os.path.exists(os.path.join(d.root, "nl")), "a cut logdir was made")


def png_gray_pixels(png):
    """The bytes of an 8-bit PNG (IHDR width/height/channels from the
    colour type), rows unfiltered: enough to read back what was written."""
    pos, idat, w, h, ch = 8, b"", 0, 0, 1
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", data[:8])
            ch = {0: 1, 4: 2, 2: 3, 6: 4}[data[9]]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + n
    raw, out, prev = zlib.decompress(idat), [], bytearray(w * ch)
    stride = w * ch
    for y in range(h):
        ftype, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - ch] if i >= ch else 0
            b, c = prev[i], (prev[i - ch] if i >= ch else 0)
            if ftype == 1:
                row[i] = (row[i] + a) & 255
            elif ftype == 2:
                row[i] = (row[i] + b) & 255
            elif ftype == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
        out.extend(row)
        prev = row
    return list(out)


def t_out_of_range_values(d):
    """Issue 16 item 11: float pixels and audio samples out of their range
    are clamped, as documented in protocol.md, the same in JSON and binary:
    pixel byte = 0 for x <= 0 or NaN, 255 for x >= 1, else
    floor(x * 255 + 0.5); sample = lrint(clip(x, -1, 1) * 32767), NaN -> 0."""
    px = [-0.5, 0.0, 0.2, 0.5, 1.0, 1.5, float("nan"), float("inf"), float("-inf")]
    want_px = [0, 0, 51, 128, 255, 255, 0, 255, 0]
    sm = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, float("nan"), float("inf")]
    want_sm = [-32767, -32767, -16384, 0, 16384, 32767, 32767, 0, 32767]

    def num(x):
        return "NaN" if x != x else ("Infinity" if x == float("inf") else
                                     "-Infinity" if x == float("-inf") else repr(x))
    c = td.Client(d.sock)
    line = ('{"logdir":"range","step":0,"values":{"img":{"$image":{"pixels":[[%s]]}},'
            '"snd":{"$audio":{"samples":[%s],"sample_rate":8000}}},"id":1}\n' %
            (",".join(num(x) for x in px), ",".join(num(x) for x in sm)))
    c.send_raw(line.encode())
    r = c.reply(20)
    check(r.get("ok"), "JSON out-of-range values: %r" % r)
    b = Conn(d.sock)
    b.hello()
    packed = lambda xs: b"".join(struct.pack("<f", x) for x in xs)   # noqa: E731
    img = f_bytes(6, packed(px)) + f_bytes(7, varint(1) + varint(len(px)))
    snd = f_bytes(2, packed(sm)) + f_bytes(3, varint(len(sm))) + f_varint(4, 8000)
    b.send(frame([log("range", [f_bytes(2, "img") + f_bytes(13, img),
                                f_bytes(2, "snd") + f_bytes(14, snd)], step=1, rid=2),
                  flush(3)]))
    r = b.reply()
    check(r.get("ok") and r["id"] == 2, "binary out-of-range values: %r" % r)
    check(b.reply() == {"ok": True, "id": 3}, "flush")
    b.close()
    runs, _ = evfile.load(os.path.join(d.root, "range"))
    for step, v in runs["."]["img"]:
        got = png_gray_pixels(v["tensor"]["strings"][2])
        check(got == want_px, "step %d: pixels %r, want %r" % (step, got, want_px))
    for step, v in runs["."]["snd"]:
        wav = v["tensor"]["strings"][0]
        got = list(struct.unpack("<%dh" % len(sm), wav[44:44 + 2 * len(sm)]))
        check(got == want_sm, "step %d: samples %r, want %r" % (step, got, want_sm))
    check(sorted(s for s, _ in runs["."]["img"]) == [0, 1], "both images written")


def t_desync_closes_only_that_connection(d):
    other = Conn(d.sock)
    other.hello()
    json_conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    json_conn.settimeout(20)
    json_conn.connect(d.sock)
    for bad, words in ((struct.pack("<IB", 4, 9) + b"abcd", "bad frame kind"),
                       (struct.pack("<IB", 1 << 20, BATCH), "longer than the limit")):
        c = Conn(d.sock)
        c.hello()
        c.send(frame([ping(1)]) + bad + frame([ping(2)]))
        r = c.reply()
        check(r.get("pong"), "before the bad frame: %r" % r)
        r = c.reply()
        check(not r["ok"] and words in r["error"] and r.get("closing"), "desync: %r" % r)
        check(c.closed(), "the daemon closes a desynchronised connection")
        c.close()
    other.send(frame([ping(11)]))
    r = other.reply()
    check(r.get("id") == 11 and r.get("pong"), "other binary connection unaffected: %r" % r)
    json_conn.sendall(b'{"op":"ping","id":12}\n')
    line = json_conn.recv(4096)
    check(b'"pong":true' in line and b'"id":12' in line, "JSON connection unaffected: %r" % line)
    json_conn.close()
    other.close()


def t_partial_frame_at_eof(d):
    c = Conn(d.sock)
    c.hello()
    c.send(frame([ping(1)])[:-1])
    c.s.shutdown(socket.SHUT_WR)
    r = c.reply()
    check(not r["ok"] and "inside a frame" in r["error"], "partial frame: %r" % r)
    c.close()


def t_many_requests_in_frames(d):
    # 5000 scalars in 50 frames, then one flush: every one in the file, in order.
    c = Conn(d.sock)
    c.hello()
    for k in range(50):
        c.send(frame([log("many", [value_scalar("s", float(k * 100 + i))])
                      for i in range(100)]))
    c.send(frame([flush(1)]))
    r = c.reply()
    check(r == {"ok": True, "id": 1}, "flush: %r" % r)
    runs, _ = evfile.load(os.path.join(d.root, "many"))
    pts = [(s, evfile.scalar_of(v)) for s, v in runs["."]["s"]]
    check(pts == [(i, float(i)) for i in range(5000)], "5000 points in order")
    c.close()


def t_resent(d):
    # Log.resent: a message sent again after a broken connection; values
    # whose tag already holds the step (or a later one) are skipped as
    # written, the others written, and the answer is ok.
    c = Conn(d.sock)
    c.hello()
    resent = key(6, 0) + varint(1)
    c.send(frame([log("res", [value_scalar("r", float(s))], step=s, rid=s + 1)
                  for s in range(3)]))
    for s in range(3):
        check(c.reply()["ok"], "step %d" % s)
    c.send(frame([log("res", [value_scalar("r", 9.0), value_scalar("r2", 1.5)], step=1, rid=10,
                      extra=resent),
                  log("res", [value_scalar("r", 9.0)], step=1, rid=11),
                  log("res", [value_scalar("r", 9.0)], rid=12, extra=resent),
                  flush(13)]))
    rs = {}
    while len(rs) < 4:
        r = c.reply()
        rs[r["id"]] = r
    check(rs[10] == {"ok": True, "id": 10, "step": 1}, "resent: %r" % rs[10])
    check(not rs[11]["ok"] and "not greater" in rs[11]["error"], "not resent: %r" % rs[11])
    check(not rs[12]["ok"] and "explicit step" in rs[12]["error"], "resent at the counter: %r"
          % rs[12])
    runs, _ = evfile.load(os.path.join(d.root, "res"))
    pts = {t: [(s, evfile.scalar_of(v)) for s, v in runs["."][t]] for t in ("r", "r2")}
    check(pts == {"r": [(0, 0.0), (1, 1.0), (2, 2.0)], "r2": [(1, 1.5)]}, "files: %r" % pts)
    c.close()


def embedding(logdir, tag, rows, cols, rid):
    body = (f_bytes(1, logdir) + f_bytes(4, tag) + f_varint(5, rows) + f_varint(6, cols) +
            f_bytes(7, struct.pack("<%df" % (rows * cols),
                                   *[i / 7 for i in range(rows * cols)])))
    return f_varint(1, rid) + f_bytes(13, body)


def t_embedding_keeps_order(d):
    # An embedding is written on the daemon's thread pool (TSV, fsyncs);
    # the requests after it in its frame, and in the next frame, wait for
    # it: replies in request order, the refused embedding's included.
    c = Conn(d.sock)
    c.hello()
    c.send(frame([embedding(b"emb", b"big", 2000, 6, 1), ping(2),
                  log(b"emb", [value_scalar(b"x", 1.0)], step=1, rid=3),
                  embedding(b"emb", b"../bad", 1, 1, 4), ping(5)]))
    c.send(frame([ping(6)]))
    got = [c.reply() for _ in range(6)]
    check([g.get("id") for g in got] == [1, 2, 3, 4, 5, 6],
          "reply order: %r" % [(g.get("id"), g["ok"]) for g in got])
    check(got[0]["ok"] and got[0].get("step") == 0 and not got[3]["ok"],
          "replies: %r" % got)
    with open(os.path.join(d.root, "emb", "00000", "big", "tensors.tsv"), "rb") as f:
        check(len(f.read().splitlines()) == 2000, "tensor rows")
    c.close()


TESTS = [t_hello, t_log_and_replies, t_errors_keep_connection,
         t_desync_closes_only_that_connection, t_partial_frame_at_eof,
         t_many_requests_in_frames, t_nul_in_strings, t_out_of_range_values, t_resent,
         t_embedding_keeps_order]


def main():
    if not os.path.exists(DAEMON):
        print("SKIP: tfeventsd not built (%s)" % DAEMON)
        return 77
    if not EVENTLINT:
        print("note: eventlint parts skipped (TFEVENTS_SHARED/tools/eventlint absent)")
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(tmp)
        try:
            for t in TESTS:
                if only not in t.__name__:
                    continue
                try:
                    t(d)
                    print("ok   %s" % t.__name__)
                except Exception:
                    failed += 1
                    print("FAIL %s" % t.__name__)
                    traceback.print_exc()
        finally:
            d.stop()
            if failed:
                with open(os.path.join(tmp, "stderr")) as f:
                    sys.stderr.write(f.read()[-4000:])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
