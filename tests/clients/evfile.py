"""Read TensorBoard event files back, independently of the C code under test.

Standard library only: its own CRC-32C, TFRecord framing and a minimal
protobuf wire decoder for the Event fields the daemon writes. Used by the
daemon integration tests to count and check what reached the files."""

import os
import struct

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    """Yield payloads; raise ValueError on a CRC error; stop at a truncated tail."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        (lcrc,) = struct.unpack_from("<I", data, pos + 8)
        if masked(crc32c(data[pos:pos + 8])) != lcrc:
            raise ValueError("%s: bad length crc at %d" % (path, pos))
        end = pos + 12 + length + 4
        if end > len(data):
            return
        payload = data[pos + 12:pos + 12 + length]
        (dcrc,) = struct.unpack_from("<I", data, pos + 12 + length)
        if masked(crc32c(payload)) != dcrc:
            raise ValueError("%s: bad data crc at %d" % (path, pos))
        yield payload
        pos = end


def _varint(b, pos):
    v = shift = 0
    while True:
        c = b[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, pos


def fields(b):
    """{field_number: [raw values]}: ints for varints, bytes for the rest."""
    out = {}
    pos = 0
    while pos < len(b):
        key, pos = _varint(b, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = _varint(b, pos)
        elif wt == 1:
            v = b[pos:pos + 8]
            pos += 8
        elif wt == 5:
            v = b[pos:pos + 4]
            pos += 4
        elif wt == 2:
            n, pos = _varint(b, pos)
            v = b[pos:pos + n]
            pos += n
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def _floats(raw_list, fmt):
    vals = []
    size = struct.calcsize(fmt)
    for raw in raw_list:
        vals.extend(struct.unpack("<%d%s" % (len(raw) // size, fmt), raw))
    return vals


def decode_tensor(b):
    f = fields(b)
    t = {"dtype": f.get(1, [0])[0], "shape": [], "floats": [], "doubles": [], "strings": []}
    if 2 in f:
        for dim in fields(f[2][0]).get(2, []):
            t["shape"].append(fields(dim).get(1, [0])[0])
    t["floats"] = _floats(f.get(5, []), "f")
    t["doubles"] = _floats(f.get(6, []), "d")
    t["strings"] = list(f.get(8, []))
    if 4 in f:  # tensor_content
        t["content"] = f[4][0]
    return t


def decode_event(payload):
    f = fields(payload)
    ev = {"wall_time": struct.unpack("<d", f[1][0])[0] if 1 in f else 0.0,
          "step": f.get(2, [0])[0]}
    if ev["step"] >= 1 << 63:
        ev["step"] -= 1 << 64
    if 3 in f:
        ev["file_version"] = f[3][0].decode()
    if 7 in f:
        ev["session_log"] = fields(f[7][0]).get(1, [0])[0]
    if 5 in f:
        ev["values"] = []
        for raw in fields(f[5][0]).get(1, []):
            vf = fields(raw)
            v = {"tag": vf[1][0].decode() if 1 in vf else ""}
            if 2 in vf:
                v["simple_value"] = struct.unpack("<f", vf[2][0])[0]
            if 8 in vf:
                v["tensor"] = decode_tensor(vf[8][0])
            if 9 in vf:
                md = fields(vf[9][0])
                v["plugin"] = fields(md[1][0]).get(1, [b""])[0].decode() if 1 in md else ""
                v["data_class"] = md.get(4, [0])[0]
            ev["values"].append(v)
    return ev


def event_files(logdir):
    """{run: [paths in name order]} like TensorBoard's run discovery."""
    runs = {}
    for dirpath, _dirs, files in os.walk(logdir):
        names = sorted(n for n in files if "tfevents" in n)
        if names:
            run = os.path.relpath(dirpath, logdir)
            runs[run] = [os.path.join(dirpath, n) for n in names]
    return runs


def scalar_of(v):
    if "simple_value" in v:
        return v["simple_value"]
    t = v.get("tensor")
    if t and t["floats"]:
        return t["floats"][0]
    if t and t["doubles"]:
        return t["doubles"][0]
    return None


def load(logdir):
    """{run: {tag: [(step, value dict)]}}, plus the events per run."""
    out = {}
    events = {}
    for run, paths in event_files(logdir).items():
        tags = out.setdefault(run, {})
        evs = events.setdefault(run, [])
        for p in paths:
            for payload in records(p):
                ev = decode_event(payload)
                evs.append(ev)
                for v in ev.get("values", []):
                    tags.setdefault(v["tag"], []).append((ev["step"], v))
    return out, events
