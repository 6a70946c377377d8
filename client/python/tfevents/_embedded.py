"""The embedded transport: libtfevents (client/tfevents.h) through ctypes,
in TFEVENTS_MODE_EMBEDDED, writing the files in this process with the
daemon's code (same names, counters, step policy, metadata rules).

Refusals (a step that does not increase, an invalid value) are collected
and raised by the next flush()/close(), as with the daemon, so a script
behaves the same whichever transport it got; errors in the arguments
themselves are raised by the call that made them in both."""

import array
import ctypes
import ctypes.util
import os
import threading

from ._refusals import Refusals
from ._values import release

c_char_pp = ctypes.POINTER(ctypes.c_char_p)
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_double_p = ctypes.POINTER(ctypes.c_double)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_u8_p = ctypes.POINTER(ctypes.c_uint8)
vp = ctypes.c_void_p

STEP_NEXT = -1
STEP_CURRENT = -2


class Options(ctypes.Structure):
    # The library's struct tfevents_options: it starts with its own size
    # (libtfevents.so.1), set by tfevents_options_init().
    _fields_ = [("size", ctypes.c_size_t),
                ("mode", ctypes.c_int), ("socket_path", ctypes.c_char_p),
                ("logdir", ctypes.c_char_p), ("batch_bytes", ctypes.c_size_t),
                ("flush_interval", ctypes.c_double), ("any_step", ctypes.c_bool)]


class HparamValue(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("number", ctypes.c_double),
                ("integer", ctypes.c_int64), ("string", ctypes.c_char_p),
                ("boolean", ctypes.c_bool)]


class HparamInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("display_name", ctypes.c_char_p),
                ("description", ctypes.c_char_p), ("type", ctypes.c_int),
                ("values", ctypes.POINTER(HparamValue)), ("n_values", ctypes.c_size_t),
                ("has_interval", ctypes.c_bool), ("min", ctypes.c_double),
                ("max", ctypes.c_double)]


class MetricInfo(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_char_p), ("group", ctypes.c_char_p),
                ("display_name", ctypes.c_char_p), ("description", ctypes.c_char_p),
                ("dataset_type", ctypes.c_int)]


class Hparam(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", HparamValue)]


_SIGS = {
    "tfevents_options_init": (None, [vp]),
    "tfevents_open": (ctypes.c_int, [ctypes.POINTER(vp), vp]),
    "tfevents_close": (ctypes.c_int, [vp]),
    "tfevents_last_error": (ctypes.c_size_t, [vp, ctypes.c_char_p, ctypes.c_size_t]),
    "tfevents_get_step": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64)]),
    "tfevents_set_step": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_int64]),
    "tfevents_values_new": (vp, []),
    "tfevents_values_free": (None, [vp]),
    "tfevents_values_clear": (None, [vp]),
    "tfevents_values_meta": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p]),
    "tfevents_add_scalar": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.c_double]),
    "tfevents_add_text": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_char_p]),
    "tfevents_add_text_table": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                               c_char_pp, ctypes.c_size_t, ctypes.c_size_t]),
    "tfevents_add_histogram": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                              vp, ctypes.c_size_t, ctypes.c_int]),
    "tfevents_add_histogram_buckets": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                      vp, vp, ctypes.c_size_t]),
    "tfevents_add_image_u8": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp,
                                             ctypes.c_size_t, ctypes.c_size_t,
                                             ctypes.c_size_t, ctypes.c_size_t]),
    "tfevents_add_image_png": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                              ctypes.POINTER(vp), c_size_p, ctypes.c_size_t]),
    "tfevents_add_image_jpeg": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.POINTER(vp), c_size_p, ctypes.c_size_t]),
    "tfevents_add_audio_float": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp,
                                                ctypes.c_size_t, ctypes.c_size_t,
                                                ctypes.c_size_t, ctypes.c_uint32]),
    "tfevents_add_audio_wav": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                              ctypes.POINTER(vp), c_size_p, ctypes.c_size_t]),
    "tfevents_add_custom_numbers": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                   ctypes.c_char_p, vp, ctypes.c_size_t,
                                                   ctypes.c_int, vp, ctypes.c_size_t,
                                                   c_size_p, ctypes.c_int]),
    "tfevents_add_custom_strings": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                   ctypes.c_char_p, vp, ctypes.c_size_t,
                                                   ctypes.c_int, ctypes.POINTER(vp), c_size_p,
                                                   ctypes.c_size_t, c_size_p]),
    "tfevents_add_custom_tensor": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                  ctypes.c_char_p, vp, ctypes.c_size_t,
                                                  ctypes.c_int, vp, ctypes.c_size_t]),
    "tfevents_add_encoded": (ctypes.c_int, [vp, ctypes.c_char_p, vp, ctypes.c_size_t]),
    "tfevents_log": (ctypes.c_int, [vp, ctypes.c_char_p, vp, ctypes.c_int64, ctypes.c_double,
                                    vp]),
    "tfevents_log_scalar": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.c_char_p, ctypes.c_double, ctypes.c_int64]),
    "tfevents_restart": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64]),
    "tfevents_flush": (ctypes.c_int, [vp, ctypes.c_bool]),
    "tfevents_close_files": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_bool]),
    "tfevents_hparams_config": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.POINTER(HparamInfo), ctypes.c_size_t,
                                               ctypes.POINTER(MetricInfo), ctypes.c_size_t]),
    "tfevents_hparams_session_start": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                      ctypes.POINTER(Hparam), ctypes.c_size_t,
                                                      ctypes.c_char_p]),
    "tfevents_hparams_session_end": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                    ctypes.c_int]),
}



class LayoutSeries(ctypes.Structure):
    _fields_ = [("value", ctypes.c_char_p), ("lower", ctypes.c_char_p),
                ("upper", ctypes.c_char_p)]


class LayoutChart(ctypes.Structure):
    _fields_ = [("title", ctypes.c_char_p), ("multiline", ctypes.POINTER(ctypes.c_char_p)),
                ("n_multiline", ctypes.c_size_t), ("margin", ctypes.POINTER(LayoutSeries)),
                ("n_margin", ctypes.c_size_t)]


class LayoutCategory(ctypes.Structure):
    _fields_ = [("title", ctypes.c_char_p), ("closed", ctypes.c_bool),
                ("charts", ctypes.POINTER(LayoutChart)), ("n_charts", ctypes.c_size_t)]


# Functions of libtfevents 0.3 (bound when the library has them).
_SIGS_0_3 = {
    "tfevents_add_pr_curve": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp, vp,
                                             ctypes.c_size_t, vp, ctypes.c_size_t,
                                             ctypes.c_uint]),
    "tfevents_add_pr_curve_double": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp,
                                                    vp, ctypes.c_size_t, vp, ctypes.c_size_t,
                                                    ctypes.c_uint]),
    "tfevents_add_pr_curve_raw": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                 ctypes.POINTER(ctypes.c_void_p),
                                                 ctypes.c_size_t]),
    "tfevents_add_animation_u8": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp,
                                                 ctypes.c_size_t, ctypes.c_size_t,
                                                 ctypes.c_size_t, ctypes.c_size_t,
                                                 ctypes.c_double]),
    "tfevents_add_mesh": (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p, vp,
                                         ctypes.c_size_t, vp, ctypes.c_size_t, vp,
                                         ctypes.c_size_t, ctypes.c_char_p]),
    "tfevents_add_custom_scalars": (ctypes.c_int, [vp, ctypes.c_char_p,
                                                   ctypes.POINTER(LayoutCategory),
                                                   ctypes.c_size_t]),
}



class Embedding(ctypes.Structure):
    _fields_ = [("tag", ctypes.c_char_p), ("rows", ctypes.c_size_t), ("cols", ctypes.c_size_t),
                ("tensor", ctypes.c_void_p), ("metadata_header", ctypes.POINTER(ctypes.c_char_p)),
                ("n_header", ctypes.c_size_t), ("metadata", ctypes.POINTER(ctypes.c_char_p)),
                ("sprite_png", ctypes.c_char_p), ("sprite_len", ctypes.c_size_t),
                ("sprite_width", ctypes.c_uint32), ("sprite_height", ctypes.c_uint32)]


# Functions of libtfevents 0.4.
_SIGS_0_3["tfevents_add_embedding"] = (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                      ctypes.c_int64,
                                                      ctypes.POINTER(Embedding)])

# Functions of libtfevents 0.5.
_SIGS_0_3["tfevents_add_graph"] = (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                  ctypes.c_int64, ctypes.c_char_p,
                                                  ctypes.c_size_t])
_SIGS_0_3["tfevents_add_run_metadata"] = (ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_char_p,
                                                         ctypes.c_int64, ctypes.c_char_p,
                                                         ctypes.c_char_p, ctypes.c_size_t])

_lib = None
_lib_lock = threading.Lock()


def find_library():
    """libtfevents: $TFEVENTS_LIBRARY, else what the dynamic linker finds
    (ldconfig's cache, or libtfevents.so.1 on the default path). None
    when absent."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        cands = []
        env = os.environ.get("TFEVENTS_LIBRARY")
        if env:
            cands.append(env)
        found = ctypes.util.find_library("tfevents")
        if found:
            cands.append(found)
        cands += ["libtfevents.so.1", "/usr/local/lib/libtfevents.so.1"]
        for c in cands:
            try:
                lib = ctypes.CDLL(c)
                getattr(lib, "tfevents_open")
            except (OSError, AttributeError):
                continue
            for name, (res, args) in _SIGS.items():
                f = getattr(lib, name)
                f.restype = res
                f.argtypes = args
            for name, (res, args) in _SIGS_0_3.items():
                f = getattr(lib, name, None)
                if f is not None:
                    f.restype = res
                    f.argtypes = args
            _lib = lib
            return lib
        return None


def _buf(b):
    """A pointer argument for bytes, or for a (writable) memoryview."""
    if isinstance(b, bytes):
        return b
    return (ctypes.c_char * len(b)).from_buffer(b)


def _b(s):
    return None if s is None else s.encode("utf-8")


def _ptrs(blobs):
    n = len(blobs)
    bufs = [ctypes.create_string_buffer(b, len(b)) for b in blobs]
    arr = (vp * n)(*[ctypes.cast(b, vp) for b in bufs])
    lens = (ctypes.c_size_t * n)(*[len(b) for b in blobs])
    return bufs, arr, lens


def _hvalue(v):
    hv = HparamValue()
    if isinstance(v, bool):
        hv.kind, hv.boolean = 3, v
    elif isinstance(v, int):
        hv.kind, hv.integer = 1, v
    elif isinstance(v, float):
        hv.kind, hv.number = 0, v
    elif isinstance(v, str):
        hv.kind, hv.string = 2, v.encode("utf-8")
    else:
        raise TypeError("hparam values are numbers, strings or booleans, not %s"
                        % type(v).__name__)
    return hv


class EmbeddedSink(Refusals):
    mode = "embedded"

    def __init__(self, lib, on_error=None, any_step=False):
        self.lib = lib
        self.on_error = on_error
        o = Options()
        lib.tfevents_options_init(ctypes.byref(o))
        o.mode = 2  # TFEVENTS_MODE_EMBEDDED
        o.any_step = any_step
        h = vp()
        r = lib.tfevents_open(ctypes.byref(h), ctypes.byref(o))
        if r < 0:
            raise OSError(-r, "libtfevents: tfevents_open failed: %s" % os.strerror(-r))
        self.h = h
        self._errors = []
        self._refused = 0
        self._lock = threading.Lock()
        self._vs = lib.tfevents_values_new()

    def _err(self, r):
        buf = ctypes.create_string_buffer(1024)
        if self.h:
            self.lib.tfevents_last_error(self.h, buf, 1024)
        msg = buf.value.decode("utf-8", "replace") or os.strerror(-r)
        return msg

    def _note(self, r):
        self._note_refusal(self._err(r))

    def _handle(self):
        if not self.h:
            raise ValueError("this tfevents client is closed")
        return self.h

    def embedding(self, name, run, step, e):
        """Write an embedding's projector files (e: _values.embedding());
        ValueError when refused."""
        f = getattr(self.lib, "tfevents_add_embedding", None)
        if f is None:
            raise NotImplementedError("add_embedding needs libtfevents 0.4 or later")
        strs = lambda xs: (ctypes.c_char_p * max(1, len(xs)))(*[s.encode() for s in xs])
        header, cells = strs(e["header"]), strs(e["cells"])
        x = Embedding(e["tag"].encode(), e["rows"], e["cols"], e["tensor"].buffer_info()[0],
                      header if e["header"] else None, len(e["header"]),
                      cells if e["cells"] else None)
        if e["sprite"] is not None:
            x.sprite_png, x.sprite_len = e["sprite"], len(e["sprite"])
            x.sprite_width, x.sprite_height = e["dim"]
        r = f(self._handle(), name, _b(run), step, ctypes.byref(x))
        if r < 0:
            raise ValueError("libtfevents: %s" % self._err(r))

    def graph(self, name, run, step, tag, data):
        """Write a serialized GraphDef (tag None) or a RunMetadata under tag;
        libtfevents parses it first. ValueError when refused."""
        fname = "tfevents_add_graph" if tag is None else "tfevents_add_run_metadata"
        f = getattr(self.lib, fname, None)
        if f is None:
            raise NotImplementedError("add_graph needs libtfevents 0.5 or later")
        if tag is None:
            r = f(self._handle(), name, _b(run), step, data, len(data))
        else:
            r = f(self._handle(), name, _b(run), step, _b(tag), data, len(data))
        if r < 0:
            raise ValueError("libtfevents: %s" % self._err(r))

    def log_scalar(self, name, run, tag, value, step, wall):
        r = self.lib.tfevents_log_scalar(self._handle(), name, run, tag, value,
                                         STEP_NEXT if step is None else step)
        if r < 0:
            self._note(r)

    def log(self, name, items, step, wall):
        """items: [(run, tag, Summary)]."""
        lib = self.lib
        with self._lock:
            vs = self._vs
            lib.tfevents_values_clear(vs)
            keep = []
            for run, tag, s in items:
                r = self._add(vs, _b(run), _b(tag), s, keep)
                if r == 0 and (s.display_name or s.description):
                    r = lib.tfevents_values_meta(vs, _b(s.display_name), _b(s.description))
                if r < 0:
                    release(items)
                    raise ValueError("libtfevents refused %s %r: %s"
                                     % (s.kind, tag, os.strerror(-r)))
            st = STEP_NEXT if step is None else STEP_CURRENT if step == "current" else step
            r = lib.tfevents_log(self._handle(), name, vs, st, -1.0 if wall is None else wall, None)
        release(items)
        if r < 0:
            self._note(r)

    def _add(self, vs, run, tag, s, keep):
        lib, d, k = self.lib, s.data, s.kind
        if k == "scalar":
            return lib.tfevents_add_scalar(vs, run, tag, d["value"])
        if k == "text":
            strs = [x.encode("utf-8") for x in d["strings"]]
            if d["shape"] is None:
                return lib.tfevents_add_text(vs, run, tag, strs[0])
            cells = (ctypes.c_char_p * len(strs))(*strs)
            rows, cols = (d["shape"] + [0])[:2]
            return lib.tfevents_add_text_table(vs, run, tag, cells, rows, cols)
        if k == "histogram":
            if "values" in d:
                b = d["values"]
                keep.append(b)
                bc = d.get("bucket_count")
                return lib.tfevents_add_histogram(vs, run, tag, _buf(b), len(b) // 8,
                                                  -1 if bc is None else bc)
            e, c = d["edges"], d["counts"]
            keep += [e, c]
            return lib.tfevents_add_histogram_buckets(vs, run, tag, e, c, len(c) // 8)
        if k == "image":
            if d.get("animate"):
                if not hasattr(lib, "tfevents_add_animation_u8"):
                    raise ValueError("this libtfevents is older than 0.3: no animations")
                n, hh, ww, cc = d["shape"]
                return lib.tfevents_add_animation_u8(vs, run, tag, _buf(d["pixels"]), n, hh, ww,
                                                     cc, d["fps"])
            if "pixels" in d:
                n, hh, ww, cc = d["shape"]
                return lib.tfevents_add_image_u8(vs, run, tag, _buf(d["pixels"]), n, hh, ww, cc)
            bufs, arr, lens = _ptrs(d["blobs"])
            keep.append(bufs)
            f = lib.tfevents_add_image_png if d["format"] == "png" else \
                lib.tfevents_add_image_jpeg
            return f(vs, run, tag, arr, lens, len(d["blobs"]))
        if k == "audio":
            if "samples" in d:
                clips, frames, ch = d["shape"]
                return lib.tfevents_add_audio_float(vs, run, tag, d["samples"], clips, frames,
                                                    ch, d["sample_rate"])
            bufs, arr, lens = _ptrs(d["wavs"])
            keep.append(bufs)
            return lib.tfevents_add_audio_wav(vs, run, tag, arr, lens, len(d["wavs"]))
        if k == "custom":
            content = d.get("content") or b""
            plugin = _b(d["plugin"])
            dc = d["data_class"]
            if "tensor" in d:
                return lib.tfevents_add_custom_tensor(vs, run, tag, plugin, content,
                                                      len(content), dc, d["tensor"],
                                                      len(d["tensor"]))
            n = len(d["numbers"]) // 8 if "numbers" in d else len(d["strings"])
            shape = [] if d.get("rank0") else (d["shape"] if d["shape"] is not None else [n])
            dims = (ctypes.c_size_t * max(1, len(shape)))(*shape)
            if "numbers" in d:
                return lib.tfevents_add_custom_numbers(vs, run, tag, plugin, content,
                                                       len(content), dc, d["numbers"],
                                                       len(shape), dims, d["dtype"])
            bufs, arr, lens = _ptrs(d["strings"])
            keep.append(bufs)
            return lib.tfevents_add_custom_strings(vs, run, tag, plugin, content, len(content),
                                                   dc, arr, lens, len(shape), dims)
        if k == "encoded":
            b = d["bytes"]
            return lib.tfevents_add_encoded(vs, run, b, len(b))
        if k == "mesh":
            if not hasattr(lib, "tfevents_add_mesh"):
                raise ValueError("this libtfevents is older than 0.3: no meshes")
            v, n = bytes(d["vertices"]), d["samples"]
            f = array.array("i", d["faces"] or []).tobytes()
            keep += [v, f, d["colors"]]
            return lib.tfevents_add_mesh(vs, run, tag, v, len(v) // 12 // n, f or None,
                                         len(f) // 12 // n, d["colors"], n,
                                         d["config"].encode("utf-8"))
        if k in ("pr_curve", "layout"):
            return self._add_dashboard(vs, run, tag, s, keep)
        raise ValueError("unknown summary kind %r" % k)

    def _add_dashboard(self, vs, run, tag, s, keep):
        """PR curves and layouts (libtfevents 0.3)."""
        lib, d = self.lib, s.data
        if not hasattr(lib, "tfevents_add_custom_scalars"):
            raise ValueError("this libtfevents is older than 0.3: no %s" % s.kind)
        if s.kind == "layout":
            cats, hold = [], []
            for title, closed, charts in d["categories"]:
                arr = (LayoutChart * max(1, len(charts)))()
                for i, (ct, kind, tags) in enumerate(charts):
                    arr[i].title = ct.encode("utf-8")
                    if kind == "Multiline":
                        ml = (ctypes.c_char_p * len(tags))(*[t.encode("utf-8") for t in tags])
                        arr[i].multiline, arr[i].n_multiline = ml, len(tags)
                        hold.append(ml)
                    else:
                        series = [tags] if tags and isinstance(tags[0], str) else tags
                        ms = (LayoutSeries * len(series))(
                            *[LayoutSeries(*[x.encode("utf-8") for x in t]) for t in series])
                        arr[i].margin, arr[i].n_margin = ms, len(series)
                        hold.append(ms)
                hold.append(arr)
                cats.append(LayoutCategory(title.encode("utf-8"), closed, arr, len(charts)))
            keep.append(hold)
            ca = (LayoutCategory * len(cats))(*cats)
            keep.append(ca)
            return lib.tfevents_add_custom_scalars(vs, run, ca, len(cats))
        if "rows" in d:
            rows = (ctypes.c_void_p * 6)(*[ctypes.cast(ctypes.c_char_p(bytes(r)), ctypes.c_void_p)
                                           for r in d["rows"]])
            keep.append([bytes(r) for r in d["rows"]])
            keep.append(rows)
            return lib.tfevents_add_pr_curve_raw(vs, run, tag, rows, len(d["rows"][0]) // 8)
        lab, pred = bytes(d["labels"]), bytes(d["predictions"])
        wts = bytes(d["weights"]) if d["weights"] is not None else b""
        keep += [lab, pred, wts]
        f = lib.tfevents_add_pr_curve if d["f32"] else lib.tfevents_add_pr_curve_double
        return f(vs, run, tag, lab, pred, len(lab) // 8, wts or None, len(wts) // 8,
                 d["num_thresholds"])

    def get_step(self, name):
        out = ctypes.c_int64()
        r = self.lib.tfevents_get_step(self._handle(), name, ctypes.byref(out))
        if r < 0:
            raise RuntimeError("libtfevents: %s" % self._err(r))
        return out.value

    def set_step(self, name, step):
        r = self.lib.tfevents_set_step(self._handle(), name, step)
        if r < 0:
            raise RuntimeError("libtfevents: %s" % self._err(r))

    def restart(self, name, step, run):
        r = self.lib.tfevents_restart(self._handle(), name, _b(run), step)
        if r < 0:
            self._note(r)

    def flush(self, name=None, sync=False, close=False):
        if close:
            r = self.lib.tfevents_close_files(self._handle(), name, sync)
        else:
            r = self.lib.tfevents_flush(self._handle(), sync)
        if r < 0:
            self._note(r)

    def hparams_config(self, name, run, hparams, metrics):
        infos = (HparamInfo * max(1, len(hparams)))()
        keep = []
        for i, hp in enumerate(hparams):
            x = infos[i]
            x.name, x.display_name = _b(hp.name), _b(hp.display_name)
            x.description, x.type = _b(hp.description), hp.type_code()
            if hp.values is not None:
                vals = (HparamValue * max(1, len(hp.values)))(*[_hvalue(v) for v in hp.values])
                keep.append(vals)
                x.values, x.n_values = vals, len(hp.values)
            if hp.interval is not None:
                x.has_interval, x.min, x.max = True, hp.interval[0], hp.interval[1]
        ms = (MetricInfo * max(1, len(metrics)))()
        for i, m in enumerate(metrics):
            ms[i].tag, ms[i].group = _b(m.tag), _b(m.group)
            ms[i].display_name, ms[i].description = _b(m.display_name), _b(m.description)
            ms[i].dataset_type = m.dataset_code()
        r = self.lib.tfevents_hparams_config(self._handle(), name, _b(run), infos, len(hparams), ms,
                                             len(metrics))
        if r < 0:
            self._note(r)

    def session_start(self, name, run, hparams, group_name):
        items = list(hparams.items())
        arr = (Hparam * max(1, len(items)))()
        for i, (k, v) in enumerate(items):
            arr[i].name = k.encode("utf-8")
            arr[i].value = _hvalue(v)
        r = self.lib.tfevents_hparams_session_start(self._handle(), name, _b(run), arr, len(items),
                                                    _b(group_name))
        if r < 0:
            self._note(r)

    def session_end(self, name, run, status):
        r = self.lib.tfevents_hparams_session_end(self._handle(), name, _b(run), status)
        if r < 0:
            self._note(r)

    def close(self):
        h, self.h = self.h, None
        if h:
            self.lib.tfevents_values_free(self._vs)
            r = self.lib.tfevents_close(h)
            if r < 0:
                self._errors.append("closing: %s" % os.strerror(-r))
