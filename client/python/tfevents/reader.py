"""Reading logdirs back, in pure Python: collect_events() and the
incremental events_logdir().

Every directory under the logdir (itself included, named ".") that holds a
file whose name contains "tfevents" is a run; its files are read in name
order, each from where the last call stopped. Records are checked (the
masked CRC-32C of the length and, unless verify=False, of the payload); a
truncated last record is left for a later call (a writer may be in the
middle of it); a corrupt record ends that file, with a warning. Events,
summaries and TensorFlow's tensors are decoded here (every dtype,
tensor_content included, and the legacy simple_value/histo/image/audio
fields), so files of TensorFlow, PyTorch, tensorboardX and the R package
read as well as ours.

This does not need the daemon or libtfevents; the payload CRC costs about
0.1 µs per byte in pure Python (verify=False skips it for large images)."""

import os
import struct
import warnings

from ._wire import FIXED32, FIXED64, LEN, fields, signed64

try:  # optional
    import pandas as _pd
except ImportError:  # pragma: no cover
    _pd = None


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = _T
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


_HEAD = struct.Struct("<QI")
_U32 = struct.Struct("<I")

# TensorFlow dtypes: (struct code, size) of tensor_content elements.
_DT = {1: ("f", 4), 2: ("d", 8), 3: ("i", 4), 4: ("B", 1), 5: ("h", 2), 6: ("b", 1),
       9: ("q", 8), 10: ("?", 1), 17: ("H", 2), 19: ("e", 2), 22: ("I", 4), 23: ("Q", 8)}
DT_STRING = 7


def _packed(v, w, code, size):
    if w == LEN:
        return list(struct.unpack("<%d%s" % (len(v) // size, code), v))
    return [struct.unpack("<" + code, v)[0]]


def _varints(v, w):
    if w != LEN:
        return [v]
    from ._wire import read_varint
    out, pos = [], 0
    while pos < len(v):
        x, pos = read_varint(v, pos)
        out.append(x)
    return out


def decode_tensor(buf):
    """{dtype, shape, values} of a TensorProto (values: a flat list of
    numbers, or of bytes for strings)."""
    dtype, shape, content, vals = 0, [], None, []
    for f, wt, v in fields(buf):
        if f == 1:
            dtype = v
        elif f == 2:
            for f2, _, d in fields(v):
                if f2 == 2:
                    for f3, _, size in fields(d):
                        if f3 == 1:
                            shape.append(signed64(size))
        elif f == 4:
            content = bytes(v)
        elif f == 5:
            vals += _packed(v, wt, "f", 4)
        elif f == 6:
            vals += _packed(v, wt, "d", 8)
        elif f == 8:
            vals.append(bytes(v))
        elif f in (7, 10, 11, 13):
            xs = _varints(v, wt)
            if f == 13:  # half_val: the bits of float16s
                xs = [struct.unpack("<e", struct.pack("<H", x & 0xFFFF))[0] for x in xs]
            elif f == 11:
                xs = [bool(x) for x in xs]
            else:
                xs = [signed64(x) if f == 10 else (x - (1 << 64) if x >= 1 << 63 else x)
                      for x in xs]
            vals += xs
    if content is not None and dtype in _DT:
        code, size = _DT[dtype]
        vals = list(struct.unpack("<%d%s" % (len(content) // size, code), content))
    n = 1
    for d in shape:
        n *= d
    if len(vals) == 1 and n > 1 and dtype != DT_STRING:  # one value fills the tensor
        vals = vals * n
    return {"dtype": dtype, "shape": shape, "values": vals}


def _metadata(buf):
    md = {"plugin": "", "content": b"", "display_name": "", "description": "", "data_class": 0}
    for f, _, v in fields(buf):
        if f == 1:
            for f2, _, x in fields(v):
                if f2 == 1:
                    md["plugin"] = bytes(x).decode("utf-8", "replace")
                elif f2 == 2:
                    md["content"] = bytes(x)
        elif f == 2:
            md["display_name"] = bytes(v).decode("utf-8", "replace")
        elif f == 3:
            md["description"] = bytes(v).decode("utf-8", "replace")
        elif f == 4:
            md["data_class"] = v
    return md


def _legacy_histo(buf):
    lo, limits, counts = 0.0, [], []
    for f, wt, v in fields(buf):
        if f == 1:
            lo = struct.unpack("<d", v)[0]
        elif f == 6:
            limits += _packed(v, wt, "d", 8)
        elif f == 7:
            counts += _packed(v, wt, "d", 8)
    rows, left = [], lo
    for r, c in zip(limits, counts):
        rows.append((left, r, c))
        left = r
    return rows


def _nest(vals, shape):
    if len(shape) <= 1:
        return list(vals)
    step = len(vals) // shape[0] if shape[0] else 0
    return [_nest(vals[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def _value_of(plugin, t, legacy):
    """The decoded value of one summary value for its plugin."""
    if legacy is not None:
        return legacy
    if t is None:
        return None
    vals, shape = t["values"], t["shape"]
    if plugin == "scalars":
        return float(vals[0]) if vals else None
    if plugin == "histograms":
        return [tuple(vals[i:i + 3]) for i in range(0, len(vals) - 2, 3)]
    if plugin == "text":
        vals = [_text(v) for v in vals]
        return vals[0] if not shape and vals else _nest(vals, shape)
    if plugin == "images" and len(vals) >= 2:
        return {"width": int(vals[0]), "height": int(vals[1]), "images": list(vals[2:])}
    if plugin == "audio":
        if len(shape) == 2:  # [k, 2]: clip and label
            return list(vals[0::2])
        return list(vals)
    if t["dtype"] == DT_STRING:
        return vals[0] if not shape and vals else _nest(vals, shape)
    return vals[0] if not shape and vals else _nest(vals, shape)


class EventsLogdir:
    """An incremental reader of a logdir (or one event file): each
    read() returns what was appended since the last one."""

    def __init__(self, logdir, verify=True):
        self.logdir = os.fspath(logdir)
        self.verify = verify
        self._offsets = {}     # file path -> offset of the next record
        self._dead = set()     # files that ended in corruption
        self._plugins = {}     # (run, tag) -> metadata of its first value

    def _files(self):
        if os.path.isfile(self.logdir):
            return [(".", self.logdir)]
        out = []
        for d, dirs, files in os.walk(self.logdir):
            dirs.sort()
            ev = sorted(f for f in files if "tfevents" in f)
            if ev:
                rel = os.path.relpath(d, self.logdir)
                run = "." if rel == "." else rel.replace(os.sep, "/")
                out += [(run, os.path.join(d, f)) for f in ev]
        if not out and not os.path.isdir(self.logdir):
            raise FileNotFoundError(self.logdir)
        return out

    def read(self, n=None):
        """The next events (at most n): dicts with run, step, wall_time,
        file, offset and what ("file_version", "summary", "session_log",
        "graph_def", "tagged_run_metadata", "other"), with "values" (tag,
        plugin, value...) for summaries, "graph_def" (bytes), or "tag" and
        "run_metadata" (bytes)."""
        out = []
        for run, path in self._files():
            if path in self._dead:
                continue
            self._read_file(run, path, out, n)
            if n is not None and len(out) >= n:
                break
        return out

    def _read_file(self, run, path, out, n):
        off = self._offsets.get(path, 0)
        try:
            with open(path, "rb") as f:
                f.seek(off)
                data = f.read()
        except OSError as e:
            warnings.warn("tfevents: cannot read %s: %s" % (path, e))
            return
        pos = 0
        verify = self.verify
        while n is None or len(out) < n:
            if len(data) - pos < 12:
                break
            length, lcrc = _HEAD.unpack_from(data, pos)
            if masked_crc(data[pos:pos + 8]) != lcrc:
                self._corrupt(path, off + pos, "length CRC")
                break
            end = pos + 12 + length + 4
            if len(data) < end:
                break   # truncated: retried at the next call
            payload = data[pos + 12:pos + 12 + length]
            if verify and masked_crc(payload) != _U32.unpack_from(data, end - 4)[0]:
                self._corrupt(path, off + pos, "data CRC")
                break
            try:
                ev = self._event(run, payload)
            except (ValueError, IndexError, struct.error) as e:
                self._corrupt(path, off + pos, "not an Event (%s)" % e)
                break
            ev["file"] = os.path.relpath(path, self.logdir) if path != self.logdir else \
                os.path.basename(path)
            ev["offset"] = off + pos
            out.append(ev)
            pos = end
        self._offsets[path] = off + pos

    def _corrupt(self, path, offset, what):
        warnings.warn("tfevents: %s at offset %d: bad %s; the rest of this file is skipped"
                      % (path, offset, what))
        self._dead.add(path)

    def _event(self, run, buf):
        ev = {"run": run, "step": 0, "wall_time": 0.0, "what": "other"}
        for f, _, v in fields(buf):
            if f == 1:
                ev["wall_time"] = struct.unpack("<d", v)[0]
            elif f == 2:
                ev["step"] = signed64(v)
            elif f == 3:
                ev["what"] = "file_version"
                ev["file_version"] = bytes(v).decode("utf-8", "replace")
            elif f == 5:
                ev["what"] = "summary"
                ev["values"] = [self._value(run, vb) for f2, _, vb in fields(v) if f2 == 1]
            elif f == 7:
                ev["what"] = "session_log"
                ev["status"] = next((x for f2, _, x in fields(v) if f2 == 1), 0)
            elif f == 4:
                ev["what"] = "graph_def"
                ev["graph_def"] = bytes(v)
            elif f == 8:
                ev["what"] = "tagged_run_metadata"
                for f2, _, x in fields(v):
                    if f2 == 1:
                        ev["tag"] = bytes(x).decode("utf-8", "replace")
                    elif f2 == 2:
                        ev["run_metadata"] = bytes(x)
        return ev

    def _value(self, run, buf):
        tag, md, tensor, legacy, legacy_plugin = "", None, None, None, ""
        for f, wt, v in fields(buf):
            if f == 1:
                tag = bytes(v).decode("utf-8", "replace")
            elif f == 2 and wt == FIXED32:
                legacy, legacy_plugin = struct.unpack("<f", v)[0], "scalars"
            elif f == 4 and wt == LEN:
                img = {fx: x for fx, _, x in fields(v)}
                legacy = {"width": img.get(2, 0), "height": img.get(1, 0),
                          "images": [bytes(img.get(4, b""))]}
                legacy_plugin = "images"
            elif f == 5 and wt == LEN:
                legacy, legacy_plugin = _legacy_histo(v), "histograms"
            elif f == 6 and wt == LEN:
                au = {fx: x for fx, _, x in fields(v)}
                legacy, legacy_plugin = [bytes(au.get(4, b""))], "audio"
            elif f == 8:
                tensor = decode_tensor(v)
            elif f == 9:
                md = _metadata(v)
            elif f == 2 and wt == FIXED64:  # not in the schema; tolerated
                pass
        key = (run, tag)
        if md is not None and md["plugin"]:
            self._plugins[key] = md
        else:
            md = self._plugins.get(key) or {"plugin": legacy_plugin, "display_name": "",
                                            "description": "", "content": b"",
                                            "data_class": 0}
        plugin = md["plugin"] or legacy_plugin
        return {"tag": tag, "plugin": plugin, "display_name": md["display_name"],
                "description": md["description"], "value": _value_of(plugin, tensor, legacy),
                "tensor": tensor, "content": md["content"]}

    def collect(self, n=None, type="any", as_frame=None):
        return _rows(self.read(n), type, as_frame)


def events_logdir(logdir, verify=True):
    """An incremental reader: collect_events(reader) returns what was
    added since the last call."""
    return EventsLogdir(logdir, verify)


def _rows(events, type, as_frame):
    if type not in ("any", "summary", "scalar"):
        raise ValueError("type is 'any', 'summary' or 'scalar'")
    rows = []
    for ev in events:
        base = {"run": ev["run"], "step": ev["step"], "wall_time": ev["wall_time"]}
        if type == "any":
            r = dict(base, what=ev["what"])
            if ev["what"] == "summary":
                r["tags"] = [v["tag"] for v in ev["values"]]
            elif ev["what"] == "session_log":
                r["status"] = ev["status"]
            rows.append(r)
            continue
        for v in ev.get("values", ()):
            if type == "scalar":
                if v["plugin"] == "scalars" and isinstance(v["value"], float):
                    rows.append(dict(base, tag=v["tag"], value=v["value"]))
            else:
                rows.append(dict(base, tag=v["tag"], plugin=v["plugin"], value=v["value"]))
    if as_frame is None:
        as_frame = _pd is not None
    if as_frame:
        if _pd is None:
            raise ImportError("as_frame=True needs pandas")
        return _pd.DataFrame(rows)
    return rows


def collect_events(logdir, n=None, type="any", as_frame=None, verify=True):
    """Rows of a logdir (a path, or an events_logdir() reader to continue
    where it stopped). type "any": one row per event (run, step,
    wall_time, what); "summary": one per summary value (+ tag, plugin,
    value decoded: float, text, histogram rows, images, WAVs...); "scalar":
    one per scalar (+ tag, value). A pandas DataFrame when pandas is
    installed (as_frame=False: a list of dicts)."""
    r = logdir if isinstance(logdir, EventsLogdir) else EventsLogdir(logdir, verify)
    return r.collect(n, type, as_frame)
