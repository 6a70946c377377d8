"""The R-style API (log_event, summary_*, logdirs, steps, hparams,
collect_events) through the daemon and in-process, read back."""

import math
import os
import struct

import pytest

import tfevents


from conftest import eventlint


def scalars(logdir):
    rows = tfevents.collect_events(logdir, type="scalar", as_frame=False)
    return [(r["run"], r["tag"], r["step"], r["value"]) for r in rows]


def test_log_event_runs_and_steps(env):
    c, root = env
    ld = os.path.join(root, "exp")
    tfevents.log_event(loss=0.5, train={"acc": 0.25, "eval": {"f1": 0.75}}, logdir=ld, client=c)
    tfevents.log_event({"loss": 0.25, "a/b": 1}, logdir=ld, client=c)
    tfevents.log_event(loss=0.125, step=10, logdir=ld, client=c)
    tfevents.log_event(other=1.0, step="current", logdir=ld, client=c)
    assert tfevents.get_global_step(ld, client=c) == 1
    tfevents.set_global_step(19, ld, client=c)
    tfevents.log_event(loss=2.0, logdir=ld, client=c)
    c.flush()
    got = sorted(scalars(ld))
    assert got == sorted([
        (".", "loss", 0, 0.5), ("train", "acc", 0, 0.25), ("train/eval", "f1", 0, 0.75),
        (".", "loss", 1, 0.25), (".", "a/b", 1, 1.0), (".", "loss", 10, 0.125),
        (".", "other", 1, 1.0), (".", "loss", 20, 2.0)])
    eventlint(ld)


def test_default_logdir_and_scope(env, monkeypatch):
    c, root = env
    monkeypatch.chdir(root)
    old = tfevents.set_default_logdir("a")
    try:
        assert tfevents.get_default_logdir() == "a"
        tfevents.log_event(x=1, client=c)
        with tfevents.logdir("b"):
            assert tfevents.get_default_logdir() == "b"
            tfevents.log_event(x=2, client=c)
            # "b", "./b" and its absolute path are one logdir, one counter.
            tfevents.log_event(x=3, logdir="./b", client=c)
            tfevents.log_event(x=4, logdir=os.path.join(root, "b"), client=c)
        tfevents.log_event(x=5, client=c)
    finally:
        tfevents.set_default_logdir(old)
    c.flush()
    assert [(s, v) for _, _, s, v in scalars(os.path.join(root, "a"))] == [(0, 1), (1, 5)]
    assert [(s, v) for _, _, s, v in scalars(os.path.join(root, "b"))] == [(0, 2), (1, 3),
                                                                          (2, 4)]


def test_refusal_raised_on_flush(env):
    c, root = env
    ld = os.path.join(root, "r")
    tfevents.log_event(loss=1, step=5, logdir=ld, client=c)
    tfevents.log_event(loss=2, step=5, logdir=ld, client=c)   # not greater: refused
    tfevents.log_event(loss=3, step=6, logdir=ld, client=c)
    with pytest.raises(tfevents.RefusedError) as e:
        c.flush()
    assert len(e.value.errors) == 1 and "not greater" in e.value.errors[0]
    c.flush()   # reported once
    assert [v for _, _, _, v in scalars(ld)] == [1, 3]
    eventlint(ld)
    # restart: the sanctioned way back.
    tfevents.restart(2, logdir=ld, client=c)
    tfevents.log_event(loss=4, logdir=ld, client=c)
    c.flush()
    assert scalars(ld)[-1] == (".", "loss", 2, 4)


def test_nan_and_infinities(env):
    c, root = env
    ld = os.path.join(root, "nan")
    for i, x in enumerate([float("nan"), float("inf"), -float("inf"), 1e300, -0.0]):
        tfevents.log_event(x=x, step=i, logdir=ld, client=c)
    tfevents.log_event(y=tfevents.summary_scalar(float("nan"), display_name="Y"), logdir=ld,
                       client=c)
    c.flush()
    v = [x for _, t, _, x in scalars(ld) if t == "x"]
    assert math.isnan(v[0]) and v[1] == math.inf and v[2] == -math.inf
    assert v[3] == math.inf    # float32 in TensorBoard
    assert v[4] == 0 and math.copysign(1, v[4]) < 0
    eventlint(ld)


def test_summary_kinds(env):
    c, root = env
    ld = os.path.join(root, "kinds")
    png = _png_gray(2, 1, b"\x00\xff")
    tfevents.log_event(
        t=tfevents.summary_text("*hi*", display_name="Notes", description="what"),
        table=tfevents.summary_text([["a", "b"], ["1", "2"]]),
        h=tfevents.summary_histogram([1.0, 2.0, 2.0, 4.0], buckets=3),
        hb=tfevents.summary_histogram(edges=[0, 1, 3], counts=[2, 5]),
        im=tfevents.summary_image([[0, 1.0]], dataformats="HW"),
        png=tfevents.summary_image(png, format="png"),
        au=tfevents.summary_audio([0.0, 0.5, -0.5, 1.0], sample_rate=8000),
        cu=tfevents.summary_custom("pr_curves", numbers=list(range(12)), shape=[6, 2],
                                   content=b"\x10\x02"),
        logdir=ld, client=c)
    c.flush()
    rows = {r["tag"]: r for r in tfevents.collect_events(ld, type="summary", as_frame=False)}
    assert rows["t"]["value"] == "*hi*" and rows["t"]["plugin"] == "text"
    assert rows["table"]["value"] == [["a", "b"], ["1", "2"]]
    h = rows["h"]["value"]
    assert len(h) == 3 and sum(r[2] for r in h) == 4 and h[0][0] == 1.0 and h[-1][1] == 4.0
    assert rows["hb"]["value"] == [(0, 1, 2), (1, 3, 5)]
    im = rows["im"]["value"]
    assert (im["width"], im["height"]) == (2, 1)
    assert _png_pixels(im["images"][0]) == (2, 1, 1, b"\x00\xff")
    assert rows["png"]["value"]["images"] == [png]
    wav = rows["au"]["value"][0]
    assert wav[:4] == b"RIFF" and struct.unpack_from("<I", wav, 24)[0] == 8000
    assert rows["cu"]["plugin"] == "pr_curves"
    assert rows["cu"]["value"] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    ev = [e for e in tfevents.events_logdir(ld).read() if e["what"] == "summary"]
    cu = [v for e in ev for v in e["values"] if v["tag"] == "cu"][0]
    assert cu["content"] == b"\x10\x02" and cu["tensor"]["shape"] == [6, 2]
    t = [v for e in ev for v in e["values"] if v["tag"] == "t"][0]
    assert (t["display_name"], t["description"]) == ("Notes", "what")
    # metadata travels with the first value
    assert rows["t"]["plugin"] == "text"
    eventlint(ld)



def test_hparams(env):
    c, root = env
    ld = os.path.join(root, "hp")
    tfevents.log_hparams_config(
        [tfevents.hparams_hparam("lr", {"min": 1e-4, "max": 1.0}),
         tfevents.hparams_hparam("opt", ["adam", "sgd"], display_name="Optimizer"),
         tfevents.hparams_hparam("bn", [True, False])],
        [tfevents.hparams_metric("acc", group="eval", dataset_type="validation")],
        logdir=ld, client=c)
    for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd")]):
        run = "s%d" % i
        tfevents.log_hparams({"lr": lr, "opt": opt}, bn=True, logdir=ld, run=run, client=c)
        tfevents.log_event({run: {"eval": {"acc": 0.5 + i}}}, logdir=ld, client=c)
        tfevents.log_session_end("success", logdir=ld, run=run, client=c)
    c.flush()
    tags = {(r["run"], r["tag"]) for r in tfevents.collect_events(ld, type="summary",
                                                                  as_frame=False)}
    assert (".", "_hparams_/experiment") in tags
    assert ("s0", "_hparams_/session_start_info") in tags
    assert ("s1", "_hparams_/session_end_info") in tags
    assert ("s1/eval", "acc") in tags
    eventlint(ld)


def test_collect_events_types_and_incremental(env):
    c, root = env
    ld = os.path.join(root, "inc")
    tfevents.log_event(a=1, b="text", logdir=ld, client=c)
    c.flush()
    r = tfevents.events_logdir(ld)
    first = tfevents.collect_events(r, as_frame=False)
    assert [e["what"] for e in first] == ["file_version", "summary", "summary"]
    assert tfevents.collect_events(r, as_frame=False) == []
    tfevents.log_event(a=2, logdir=ld, client=c)
    c.flush()
    again = tfevents.collect_events(r, type="scalar", as_frame=False)
    assert [(e["tag"], e["step"], e["value"]) for e in again] == [("a", 1, 2.0)]
    assert all("wall_time" in e for e in first)
    summ = tfevents.collect_events(ld, type="summary", as_frame=False)
    assert [(e["tag"], e["plugin"]) for e in summ] == [("a", "scalars"), ("b", "text"),
                                                       ("a", "scalars")]


def test_encoded_summary_value(env):
    c, root = env
    ld = os.path.join(root, "enc")
    md = b"\x0a\x09\x0a\x07scalars" + b"\x20\x01"     # plugin_data{scalars}, SCALAR
    value = (b"\x0a\x03enc" + b"\x15" + struct.pack("<f", 1.5)
             + b"\x4a" + bytes([len(md)]) + md)
    tfevents.log_event(x=tfevents.summary_encoded(value), step=3, logdir=ld, client=c)
    c.flush()
    assert scalars(ld) == [(".", "enc", 3, 1.5)]
    eventlint(ld)


def test_bad_values_raise_at_once(env):
    c, root = env
    ld = os.path.join(root, "bad")
    with pytest.raises(TypeError):
        tfevents.log_event(x=None, logdir=ld, client=c)
    with pytest.raises(TypeError):
        tfevents.log_event(x=True, logdir=ld, client=c)
    with pytest.raises(ValueError):
        tfevents.log_event(logdir=ld, client=c)
    with pytest.raises(ValueError):
        tfevents.summary_image([[[1, 2, 3, 4, 5]]], dataformats="HWC")


# ---- a minimal PNG reader (8-bit, no interlace), for checking pixels ----------

def _png_gray(w, h, pixels):
    import zlib
    raw = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _png_pixels(png):
    """(width, height, channels, bytes) of an 8-bit PNG."""
    import zlib
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(png):
        n, t = struct.unpack_from(">I4s", png, pos)
        d = png[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack_from(">IIBB", d)
            assert depth == 8
            ch = {0: 1, 4: 2, 2: 3, 6: 4}[ctype]
        elif t == b"IDAT":
            idat += d
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * ch
    out = bytearray()
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            cc = prev[i - ch] if i >= ch else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else cc
                line[i] = (line[i] + pr) & 255
        out += line
        prev = line
    return w, h, ch, bytes(out)


png_pixels = _png_pixels
