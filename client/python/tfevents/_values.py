"""Typed values: what summary_scalar(), summary_image()... return and what
both transports consume. A Summary holds its data already converted
(bulk data as packed little-endian bytes), so the daemon transport only
frames it and the embedded one hands the same bytes to libtfevents."""

from . import _wire as w
from ._arrays import POOL, doubles, flatten, floats, is_tensor, np, pooled_copy, to_numpy

# TensorBoard's data classes (tfwire DataClass).
DATA_CLASS = {"unknown": 0, "scalar": 1, "tensor": 2, "blob_sequence": 3}


class Summary:
    """One typed value (the R package's summary_* objects). kind is one of
    scalar, text, histogram, image, audio, custom, encoded; data holds the
    converted payload; tag, when set, overrides the name it is logged
    under."""

    __slots__ = ("kind", "data", "display_name", "description", "tag", "pooled")

    def __init__(self, kind, data, display_name=None, description=None, tag=None):
        self.pooled = None   # buffers of BufferPool to give back once consumed
        self.kind = kind
        self.data = data
        self.display_name = display_name
        self.description = description
        self.tag = tag

    def __repr__(self):
        return "<tfevents.Summary %s%s>" % (self.kind, " tag=%r" % self.tag if self.tag else "")

    # -- the binary protocol ----------------------------------------------
    def wire(self, run, tag):
        """The serialized tfwire Value as a list of bytes-like parts (bulk
        data is not copied)."""
        d = self.data
        k = self.kind
        if k == "encoded":
            head = w.f_str(1, run) if run and run != "." else b""
            return [head] + w.big(w.V_ENCODED, d["bytes"])
        head = w.value_head(run, tag, self.display_name, self.description)
        if k == "scalar":
            return [head + w.f_double(w.V_SCALAR, d["value"])]
        if k == "text":
            body = b"".join(w.f_str(1, s) for s in d["strings"])
            if d["shape"] is not None:
                body += w.f_packed_u64(2, d["shape"])
            return [head + w.f_bytes(w.V_TEXT, body)]
        if k == "histogram":
            if "values" in d:
                body = w.big(1, d["values"])
                if d.get("bucket_count") is not None:
                    body.append(w.f_varint(2, d["bucket_count"]))
            else:
                body = w.big(3, d["edges"]) + w.big(4, d["counts"])
            return [head] + w.lp(w.V_HISTOGRAM, body)
        if k == "image":
            if "pixels" in d:
                body = w.big(5, d["pixels"]) + [w.f_packed_u64(7, d["shape"])]
                if d.get("animate"):
                    body += [w.f_bool(9, True), w.f_double(10, d["fps"])]
            else:
                field = 1 if d["format"] == "png" else 2
                body = [p for b in d["blobs"] for p in w.big(field, b)]
            return [head] + w.lp(w.V_IMAGE, body)
        if k == "audio":
            if "samples" in d:
                body = w.big(2, d["samples"]) + [w.f_packed_u64(3, d["shape"]),
                                                  w.f_varint(4, d["sample_rate"])]
            else:
                body = [p for b in d["wavs"] for p in w.big(1, b)]
            return [head] + w.lp(w.V_AUDIO, body)
        if k == "custom":
            body = [w.f_str(1, d["plugin"])]
            if d.get("content"):
                body.append(w.f_bytes(2, d["content"]))
            body.append(w.f_varint(3, d["data_class"]))
            if "tensor" in d:
                body += w.big(4, d["tensor"])
            elif "numbers" in d:
                body += w.big(5, d["numbers"]) + [w.f_varint(8, d["dtype"])]
            else:
                body += [p for x in d["strings"] for p in w.big(6, x)]
            if d.get("rank0"):
                body.append(w.f_bool(9, True))
            elif d.get("shape") is not None:
                body.append(w.f_packed_u64(7, d["shape"]))
            return [head] + w.lp(w.V_CUSTOM, body)
        if k == "pr_curve":
            if "rows" in d:
                body = [p for i, r in enumerate(d["rows"]) for p in w.big(6 + i, r)]
            else:
                body = w.big(1, d["labels"]) + w.big(2 if d["f32"] else 3, d["predictions"])
                if d["weights"] is not None:
                    body += w.big(4, d["weights"])
                body.append(w.f_varint(5, d["num_thresholds"]))
            return [head] + w.lp(w.V_PR_CURVE, body)
        if k == "mesh":
            body = w.big(1, d["vertices"])
            if d["faces"] is not None:
                body.append(w.f_bytes(2, b"".join(w.varint(x & 0xFFFFFFFFFFFFFFFF)
                                                  for x in d["faces"])))
            if d["colors"] is not None:
                body += w.big(3, d["colors"])
            body += [w.f_varint(4, d["samples"]), w.f_str(5, d["config"])]
            return [head] + w.lp(w.V_MESH, body)
        if k == "layout":
            return [head + w.f_bytes(w.V_LAYOUT, layout_wire(d["categories"]))]
        raise ValueError("unknown summary kind %r" % k)


def layout_wire(categories):
    """tfwire Layout of [(title, closed, [(title, kind, tags)])], kind
    "Multiline" (tags: regexes) or "Margin" (tags: [value, lower, upper], or a
    list of such triples)."""
    out = b""
    for title, closed, charts in categories:
        cb = w.f_str(1, title) + (w.f_bool(2, True) if closed else b"")
        for ctitle, kind, tags in charts:
            chart = w.f_str(1, ctitle)
            if kind == "Multiline":
                chart += b"".join(w.f_str(2, t) for t in tags)
            elif kind == "Margin":
                series = [tags] if tags and isinstance(tags[0], str) else tags
                for s in series:
                    if len(s) != 3:
                        raise ValueError("a Margin chart has 3 tags: value, lower, upper")
                    chart += w.f_bytes(3, w.f_str(1, s[0]) + w.f_str(2, s[1]) + w.f_str(3, s[2]))
            else:
                raise ValueError("chart kind must be 'Multiline' or 'Margin', not %r" % kind)
            cb += w.f_bytes(3, chart)
        out += w.f_bytes(1, cb)
    return out


# ---- constructors (the R package's names) -----------------------------------

def summary_scalar(value, display_name=None, description=None, tag=None):
    """A scalar (float32 in TensorBoard). NaN and infinities are kept."""
    return Summary("scalar", {"value": float(value)}, display_name, description, tag)


def summary_text(text, display_name=None, description=None, tag=None):
    """Markdown text: a string, a list of strings, or a table (list of
    equal-length lists of strings)."""
    if isinstance(text, str):
        strings, shape = [text], None
    else:
        flat, shape = flatten(text)
        if len(shape) > 2:
            raise ValueError("text must be a string, a list or a table (rank <= 2)")
        strings = [str(s) for s in flat]
    return Summary("text", {"strings": strings, "shape": shape}, display_name, description, tag)


def summary_histogram(data=None, display_name=None, description=None, tag=None,
                      buckets=None, edges=None, counts=None):
    """A histogram of data with TensorBoard's own bucketing (buckets: how
    many, default 30; done by the daemon or libtfevents), or from
    precomputed edges (k+1) and counts (k)."""
    if edges is not None or counts is not None:
        if data is not None or edges is None or counts is None:
            raise ValueError("give either data or both edges and counts")
        eb, ne, _ = doubles(edges)
        cb, nc, _ = doubles(counts)
        if ne != nc + 1:
            raise ValueError("edges must have one element more than counts")
        return Summary("histogram", {"edges": eb, "counts": cb}, display_name, description, tag)
    vb, _, _ = doubles(data)
    d = {"values": vb}
    if buckets is not None:
        d["bucket_count"] = int(buckets)
    return Summary("histogram", d, display_name, description, tag)


def pooled_histogram(data, buckets=None):
    """summary_histogram(data) for internal use: the data copied into a
    pooled buffer (given back when consumed); plain when numpy is absent."""
    if np is None or isinstance(data, (list, tuple)):
        return summary_histogram(data, buckets=buckets)
    mv, buf = pooled_copy(to_numpy(data), "<f8")
    d = {"values": mv}
    if buckets is not None:
        d["bucket_count"] = int(buckets)
    s = Summary("histogram", d)
    s.pooled = [buf]
    return s


def release(items):
    """Give the pooled buffers of [(run, tag, Summary)] back."""
    for _, _, s in items:
        if s.pooled:
            for b in s.pooled:
                POOL.put(b)
            s.pooled = None


def _pil_pixels(img):
    if img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    c = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[img.mode]
    return img.tobytes(), [1, img.size[1], img.size[0], c]


def _check_format(fmt, ndim):
    fmt = fmt.upper()
    if (len(set(fmt)) != len(fmt) or not set(fmt) <= set("NCHW") or "H" not in fmt
            or "W" not in fmt):
        raise ValueError("dataformats %r: use the letters N, C, H, W (H and W required)" % fmt)
    if len(fmt) != ndim:
        raise ValueError("dataformats %r needs a %d-d image, got %d dimensions"
                         % (fmt, len(fmt), ndim))
    return fmt


def image_pixels(img, dataformats="HWC", pooled=None):
    """(uint8 bytes, [n, h, w, c]) of an image or batch of images laid out
    as dataformats. uint8 data is kept; anything else is taken as [0, 1]
    and scaled by 255, clipped and truncated (as tensorboardX does).
    pooled: a list to which the pooled buffer holding the pixels is added
    (None: plain bytes)."""
    if hasattr(img, "mode") and hasattr(img, "tobytes") and hasattr(img, "size"):
        return _pil_pixels(img)
    if np is not None and not isinstance(img, (bytes, bytearray)):
        a = to_numpy(img)
        fmt = _check_format(dataformats, a.ndim)
        for letter in "NC":
            if letter not in fmt:
                a = a[..., None]
                fmt += letter
        a = a.transpose([fmt.index(c) for c in "NHWC"])
        if a.shape[3] > 4:
            raise ValueError("images have 1 to 4 channels, not %d" % a.shape[3])
        if a.dtype != np.uint8:
            t = np.multiply(a, 255.0, dtype=np.float32 if a.dtype.itemsize <= 4 else np.float64)
            a = np.clip(t, 0, 255, out=t)
        if pooled is not None:
            mv, buf = pooled_copy(a, np.uint8)
            pooled.append(buf)
            return mv, list(a.shape)
        return np.ascontiguousarray(a, dtype=np.uint8).tobytes(), list(a.shape)
    u8 = isinstance(img, (bytes, bytearray)) or getattr(img, "typecode", None) == "B"
    flat, shape = flatten(img)
    fmt = _check_format(dataformats, len(shape))
    dims = dict(zip(fmt, shape))
    n, h, wd, c = dims.get("N", 1), dims["H"], dims["W"], dims.get("C", 1)
    if c > 4:
        raise ValueError("images have 1 to 4 channels, not %d" % c)
    strides, s = {}, 1
    for letter, size in reversed(list(zip(fmt, shape))):
        strides[letter] = s
        s *= size
    sn, sh, sw, sc = (strides.get(x, 0) for x in "NHWC")
    order = [i * sn + y * sh + x * sw + k * sc
             for i in range(n) for y in range(h) for x in range(wd) for k in range(c)]
    if u8:
        out = bytes(int(flat[i]) for i in order)
    else:
        out = bytes(int(min(max(float(flat[i]) * 255.0, 0.0), 255.0)) for i in order)
    return out, [n, h, wd, c]


def pooled_image(img, dataformats):
    """summary_image() for internal use: pixels in a pooled buffer."""
    pool = []
    pixels, shape = image_pixels(img, dataformats, pool)
    s = Summary("image", {"pixels": pixels, "shape": shape})
    s.pooled = pool or None
    return s


def summary_image(img, display_name=None, description=None, tag=None, dataformats="HWC",
                  format=None):
    """Images from pixels (laid out as dataformats: HWC, CHW, HW, NHWC,
    NCHW...; a PIL image works too), or encoded files: bytes (or a list of
    bytes) with format "png" or "jpeg"."""
    if format is not None:
        blobs = [img] if isinstance(img, (bytes, bytearray)) else list(img)
        if format not in ("png", "jpeg"):
            raise ValueError("format must be 'png' or 'jpeg'")
        return Summary("image", {"format": format, "blobs": [bytes(b) for b in blobs]},
                       display_name, description, tag)
    pixels, shape = image_pixels(img, dataformats)
    return Summary("image", {"pixels": pixels, "shape": shape}, display_name, description, tag)


def summary_video(video, fps=4, display_name=None, description=None, tag=None):
    """An animated image (one looping GIF, encoded by the daemon) from a video
    [N, T, C, H, W] as tensorboardX's add_video takes it: the N videos tiled
    in a grid as tensorboardX tiles them (N > 1 needs numpy); uint8 kept,
    other values in [0, 1] scaled by 255, clipped and truncated."""
    if np is not None and not isinstance(video, (list, tuple, bytes, bytearray)):
        v = to_numpy(video)
        if v.ndim != 5:
            raise ValueError("a video is [N, T, C, H, W], not %d-dimensional" % v.ndim)
        b, t, c, h, wd = v.shape
        if b & (b - 1):
            pad = np.zeros((2 ** b.bit_length() - b, t, c, h, wd), dtype=v.dtype)
            v = np.concatenate((v, pad), axis=0)
        rows = 2 ** ((b.bit_length() - 1) // 2)
        cols = v.shape[0] // rows
        v = v.reshape(rows, cols, t, c, h, wd).transpose(2, 0, 4, 1, 5, 3)
        frames = v.reshape(t, rows * h, cols * wd, c)
        px, shape = image_pixels(frames, "NHWC")
    else:
        flat, shape = flatten(video)
        if len(shape) != 5 or shape[0] != 1:
            raise ValueError("without numpy a video is [1, T, C, H, W]")
        px, shape = image_pixels(video[0], "NCHW")
    return Summary("image", {"pixels": px, "shape": shape, "animate": True, "fps": float(fps)},
                   display_name, description, tag)


def summary_audio(audio, sample_rate=44100, display_name=None, description=None, tag=None,
                  format=None):
    """Audio from samples in [-1, 1] (clipped): [frames], [frames, channels]
    or [clips, frames, channels]; or WAV files (format="wav"). Written as
    16-bit PCM WAV."""
    if format is not None:
        if format != "wav":
            raise ValueError("format must be 'wav'")
        wavs = [audio] if isinstance(audio, (bytes, bytearray)) else list(audio)
        return Summary("audio", {"wavs": [bytes(b) for b in wavs]}, display_name, description,
                       tag)
    if np is not None and not isinstance(audio, (list, tuple)):
        a = to_numpy(audio, "<f4")
        a = np.clip(a, -1.0, 1.0)
        shape = list(a.shape)
        data = np.ascontiguousarray(a, "<f4").tobytes()
    else:
        flat, shape = flatten(audio)
        data, _, _ = floats([min(max(float(v), -1.0), 1.0) for v in flat])
    if len(shape) == 1:
        shape = [1, shape[0], 1]
    elif len(shape) == 2:
        shape = [1] + shape
    elif len(shape) != 3:
        raise ValueError("audio must be [frames], [frames, channels] or [clips, frames, channels]")
    return Summary("audio", {"samples": data, "shape": shape, "sample_rate": int(sample_rate)},
                   display_name, description, tag)


def summary_custom(plugin, numbers=None, strings=None, tensor=None, content=b"",
                   data_class="tensor", shape=None, dtype="float", rank0=False,
                   display_name=None, description=None, tag=None):
    """A value for any plugin: plugin name and content bytes, a data class,
    and a tensor (numbers, strings, or a serialized TensorProto)."""
    d = {"plugin": plugin, "content": bytes(content), "data_class": DATA_CLASS[data_class],
         "rank0": rank0}
    if sum(x is not None for x in (numbers, strings, tensor)) != 1:
        raise ValueError("give exactly one of numbers, strings, tensor")
    if tensor is not None:
        d["tensor"] = bytes(tensor)
    elif numbers is not None:
        d["numbers"], _, nshape = doubles(numbers)
        d["dtype"] = {"float": 1, "double": 2}[dtype]
        if shape is None and not rank0:
            shape = nshape
    else:
        if isinstance(strings, (str, bytes)):
            strings = [strings]
        d["strings"] = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in strings]
    d["shape"] = None if shape is None else [int(x) for x in shape]
    return Summary("custom", d, display_name, description, tag)


def _is_float32(x):
    """Predictions TensorBoard would multiply in float32 (numpy / torch
    arrays of 32 bits or less); lists are float64 to numpy."""
    dt = getattr(x, "dtype", None)
    return dt is not None and str(dt).replace("torch.", "") in ("float32", "float16",
                                                                 "bfloat16")


def summary_pr_curve(labels, predictions, num_thresholds=127, weights=None,
                     display_name=None, description=None, tag=None):
    """A precision-recall curve from labels (1/True positive) and predictions in
    [0, 1], computed by the daemon exactly as TensorBoard's pr_curve summary:
    float32 arrays in float32, anything else in double."""
    f32 = _is_float32(predictions)
    lab, n, _ = doubles(labels)
    pred, m, _ = (floats if f32 else doubles)(predictions)
    if n != m:
        raise ValueError("labels and predictions differ in size")
    wts = None
    if weights is not None:
        wts = doubles([weights] if isinstance(weights, (int, float)) else weights)[0]
    return Summary("pr_curve", {"labels": lab, "predictions": pred, "f32": f32, "weights": wts,
                                "num_thresholds": int(num_thresholds)},
                   display_name, description, tag)


def summary_pr_curve_raw(tp, fp, tn, fn, precision, recall, display_name=None,
                         description=None, tag=None):
    """A precision-recall curve from its six rows (of equal length)."""
    rows = [doubles(r)[0] for r in (tp, fp, tn, fn, precision, recall)]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("the six pr-curve rows must have the same length")
    return Summary("pr_curve", {"rows": rows}, display_name, description, tag)


def summary_mesh(vertices, colors=None, faces=None, config_dict=None, display_name=None,
                 description=None, tag=None):
    """A mesh or point cloud (tensorboardX's add_mesh arguments): vertices
    [B, N, 3] (or [N, 3]), colors [B, N, 3] bytes, faces [B, F, 3] vertex
    indices, config_dict the three.js settings. Logged under NAME it writes
    NAME_VERTEX, NAME_FACE, NAME_COLOR."""
    import json

    def part(x, what):
        flat, shape = flatten(x if np is None or isinstance(x, (list, tuple))
                              else to_numpy(x).tolist())
        if shape[-1:] != [3] or len(shape) not in (2, 3):
            raise ValueError("mesh %s must be [N, 3] or [B, N, 3]" % what)
        return flat, (shape[0] if len(shape) == 3 else 1)
    v, samples = part(vertices, "vertices")
    f = c = None
    if faces is not None:
        f = [int(x) for x in part(faces, "faces")[0]]
    if colors is not None:
        c = bytes(int(x) for x in part(colors, "colors")[0])
    return Summary("mesh", {"vertices": floats(v)[0], "faces": f, "colors": c,
                            "samples": samples, "config": json.dumps(config_dict or {})},
                   display_name, description, tag)


def summary_layout(categories):
    """A custom scalars layout: [(title, closed, [(chart title, "Multiline",
    [regexes]) or (chart title, "Margin", [value, lower, upper])])]; log it
    under the tag custom_scalars__config__."""
    cats = [(str(t), bool(c), [(str(a), k, list(x)) for a, k, x in ch])
            for t, c, ch in categories]
    layout_wire(cats)   # refuse a bad chart kind now
    return Summary("layout", {"categories": cats}, tag="custom_scalars__config__")


def summary_encoded(summary_value):
    """A serialized tensorboard.Summary.Value (its own tag and metadata)."""
    return Summary("encoded", {"bytes": bytes(summary_value)})


# ---- values as callers pass them ----------------------------------------------

def as_summary(x):
    """A Summary for a leaf value: numbers are scalars, strings text."""
    if isinstance(x, Summary):
        return x
    if isinstance(x, str):
        return summary_text(x)
    if isinstance(x, bool):
        raise TypeError("a boolean is not a value (log 0/1 or text)")
    if isinstance(x, (int, float)) or is_tensor(x) or (np is not None and np.ndim(x) == 0):
        return Summary("scalar", {"value": float(x)})
    raise TypeError("cannot log a %s: use a number, a string, a dict (a run) or a summary_*() "
                    "value" % type(x).__name__)


def flatten_values(values, run="."):
    """[(run, tag, Summary)] of a dict whose nested dicts are runs."""
    out = []
    for name, v in values.items():
        if not isinstance(name, str) or not name:
            raise ValueError("value names must be non-empty strings")
        if isinstance(v, dict):
            sub = name if run == "." else run + "/" + name
            out.extend(flatten_values(v, sub))
        else:
            s = as_summary(v)
            out.append((run, s.tag or name, s))
    return out

