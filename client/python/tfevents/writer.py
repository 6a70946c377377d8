"""SummaryWriter: the signature and methods of torch.utils.tensorboard's
and tensorboardX's, writing through tfeventsd (or libtfevents).

A training script written for either runs with only its import changed.
Differences, on purpose:
  - global_step=None logs at the logdir's next step (its global step
    counter) instead of step 0, so repeated calls without a step are not
    refused by the step policy and all show in TensorBoard;
  - steps must increase per tag: a value at a step not greater than the
    last one of its tag is refused (TensorBoard's loader would delete the
    newer points); refusals are raised by flush()/close() as RefusedError,
    or given to on_error;
  - add_images() writes the N images as one value of N samples (TensorBoard
    shows them with a slider) instead of a grid;
  - max_queue, flush_secs and filename_suffix are accepted and ignored:
    values leave the process within 50 ms and the daemon writes them every
    second;
  - add_graph writes the graph at once (it waits for the daemon, which
    parses it first) and raises ValueError when it is refused, a second
    graph of a run included (both at step 0: TensorBoard would keep both);
    it takes a torch.nn.Module (traced with torch.jit.trace, encoded by
    tfevents), or a serialized GraphDef; it writes no empty run metadata
    "step1";
  - add_onnx_graph and add_image_with_boxes raise NotImplementedError;
  - add_embedding writes the projector's files at once (it waits for the
    daemon) and raises ValueError when they are refused;
  - add_video's GIF keeps up to 256 colours exactly and rounds more to a
    216-colour cube (tensorboardX's moviepy quantizes its own way);
  - add_pr_curve_raw takes the width from the rows (num_thresholds and
    weights are ignored), as TensorBoard itself does when it reads them.
add_scalars() writes to the sub-runs <main_tag>/<tag> like tensorboardX;
tfevents.torch.SummaryWriter uses torch's <main_tag>_<tag> instead."""

import array
import datetime
import io
import math
import os
import socket
import struct
import time
import zlib

from . import _wire as w
from ._api import HParam, Metric
from ._graph import graph_bytes
from ._arrays import doubles, flatten, floats, np, unpack_doubles
from ._client import Client, default_client
from ._values import (Summary, flatten, pooled_histogram, pooled_image, summary_audio,
                      summary_histogram, summary_image, summary_layout,
                      summary_mesh, summary_pr_curve, summary_pr_curve_raw, summary_text,
                      summary_video)

_now = time.time


def _png(rows, width, channels):
    """An 8-bit PNG of rows (each a bytes of width * channels samples)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _sprite(label_img):
    """[N, C, H, W] images as tensorboardX's sprite: a square grid of
    ceil(sqrt(N)) images a side, row by row, the rest black. (png, [W, H])."""
    uint8 = getattr(getattr(label_img, "dtype", None), "name", "") == "uint8"
    flat, shape = flatten(label_img.tolist() if hasattr(label_img, "tolist") else label_img)
    if len(shape) != 4 or shape[1] not in (1, 3, 4):
        raise ValueError("label_img must be [N, C, H, W] with C 1, 3 or 4")
    n, c, h, wd = shape
    side = math.ceil(math.sqrt(n))
    px = [v if uint8 else min(255, max(0, int(float(v) * 255))) for v in flat]
    rows = []
    for gy in range(side):
        for y in range(h):
            row = bytearray(side * wd * c)
            for gx in range(side):
                k = gy * side + gx
                if k >= n:
                    break
                for x in range(wd):
                    for ch in range(c):
                        row[(gx * wd + x) * c + ch] = px[((k * c + ch) * h + y) * wd + x]
            rows.append(bytes(row))
    return _png(rows, side * wd, c), [wd, h]


def _embedding(mat, metadata, label_img, tag, metadata_header):
    data, n, shape = floats(mat)
    if len(shape) != 2:
        raise ValueError("add_embedding: mat must be [N, D]")
    tensor = array.array("f")
    tensor.frombytes(data)
    header = [str(h) for h in metadata_header] if metadata_header else []
    cells = []
    if metadata is not None:
        for row in (metadata.tolist() if hasattr(metadata, "tolist") else metadata):
            if len(header) > 1:
                cells.extend(str(x) for x in row)
            else:
                cells.append(str(row[0] if isinstance(row, (list, tuple)) else row))
    sprite, dim = _sprite(label_img) if label_img is not None else (None, None)
    return {"tag": tag, "rows": shape[0], "cols": shape[1], "tensor": tensor,
            "header": header if len(header) > 1 else [], "cells": cells, "sprite": sprite,
            "dim": dim}


def _step(global_step):
    if global_step is None or type(global_step) is int:
        return global_step
    s = int(global_step)
    return s


class SummaryWriter:
    """Writes TensorBoard data for one logdir (log_dir, or logdir for
    tensorboardX; default runs/<date>_<host><comment>)."""

    _scalars_run_sep = "/"

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix="", write_to_disk=True, logdir=None, *, client=None,
                 on_error=None, **kwargs):
        if log_dir is None:
            log_dir = logdir
        if not log_dir:
            stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + (comment or ""))
        self.log_dir = self.logdir = str(log_dir)
        if client is None:
            client = Client(on_error=on_error) if on_error is not None else default_client()
            self._own_client = on_error is not None
        else:
            self._own_client = False
        self._client = client
        self._route = client.route(self.log_dir)
        self._closed = False
        self.purge_step = purge_step
        if purge_step is not None:
            self._route.sink.restart(self._route.name, int(purge_step), None)

    def get_logdir(self):
        return self.log_dir

    # ---- scalars ---------------------------------------------------------
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False, display_name="", summary_description=""):
        """One scalar (NaN and infinities kept)."""
        if display_name or summary_description:
            s = Summary("scalar", {"value": float(scalar_value)}, display_name or None,
                        summary_description or None)
            self._route.log([(".", tag, s)], _step(global_step), walltime)
            return
        rt = self._route
        if rt.daemon:
            t = rt.templates.get(tag)
            if t is None:
                t = rt.templates[tag] = w.ScalarTemplate(rt.name, ".", tag)
            if type(global_step) is not int and global_step is not None:
                global_step = int(global_step)
            rt.sink.put(t.entry(scalar_value if type(scalar_value) is float
                                else float(scalar_value),
                                _now() if walltime is None else walltime, global_step))
        else:
            rt.log_scalar(".", tag, float(scalar_value), _step(global_step), walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Scalars of one step, each in the sub-run <main_tag>/<tag> under the
        tag main_tag (one chart with a line per sub-run)."""
        items = []
        for tag, v in tag_scalar_dict.items():
            run = self._scalars_run(main_tag, tag)
            items.append((run, main_tag, Summary("scalar", {"value": float(v)})))
        if items:
            self._route.log(items, _step(global_step), walltime)

    def _scalars_run(self, main_tag, tag):
        return main_tag + "/" + tag

    # ---- histograms --------------------------------------------------------
    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """A histogram of values. bins "tensorflow" (default): TensorBoard's
        own bucketing (30 buckets, done by the daemon); an int: that many
        equal-width buckets; anything else numpy.histogram takes."""
        if isinstance(bins, str) and bins == "tensorflow":
            s = pooled_histogram(values)
        elif isinstance(bins, int) and not isinstance(bins, bool):
            s = pooled_histogram(values, buckets=bins)
        else:
            if np is None:
                raise ValueError("bins=%r needs numpy; use 'tensorflow' or a number" % (bins,))
            from ._arrays import to_numpy
            counts, edges = np.histogram(to_numpy(values, "f8").ravel(), bins=bins)
            s = summary_histogram(edges=edges, counts=counts.astype("f8"))
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None):
        """A histogram from buckets: bucket_limits are the right edges, the
        first bucket starts at min."""
        limits = unpack_doubles(doubles(bucket_limits)[0])
        counts = unpack_doubles(doubles(bucket_counts)[0])
        if len(limits) != len(counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts)")
        if not limits:
            raise ValueError("a histogram needs at least one bucket")
        edges = [float(min) if min <= limits[0] else limits[0]] + limits
        s = summary_histogram(edges=edges, counts=counts)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    # ---- images, figures, audio, text ---------------------------------------
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image: uint8 (0..255) or float (0..1) pixels laid out as
        dataformats (CHW, HWC, HW, ...)."""
        s = pooled_image(img_tensor, dataformats)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """N images (NCHW, NHWC, ...) as one value of N samples."""
        if isinstance(img_tensor, (list, tuple)) and "N" not in dataformats.upper():
            dataformats = "N" + dataformats
        s = pooled_image(img_tensor, dataformats)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of figures of one size), as PNG."""
        figs = figure if isinstance(figure, (list, tuple)) else [figure]
        blobs = []
        for f in figs:
            buf = io.BytesIO()
            f.savefig(buf, format="png")
            blobs.append(buf.getvalue())
            if close:
                try:
                    import matplotlib.pyplot as plt
                    plt.close(f)
                except ImportError:
                    pass
        s = summary_image(blobs, format="png")
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Audio samples in [-1, 1] ([L], [1, L] or [L, C]) as 16-bit WAV."""
        if np is not None:
            from ._arrays import to_numpy
            a = to_numpy(snd_tensor, "<f4")
            a = a.squeeze()
            if a.ndim == 0:
                a = a.reshape(1)
            snd_tensor = a
        else:
            flat, shape = flatten(snd_tensor)
            shape = [d for d in shape if d != 1] or [1]
            if len(shape) == 1:
                snd_tensor = flat
        s = summary_audio(snd_tensor, sample_rate=sample_rate)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Text rendered as Markdown."""
        rt = self._route
        if rt.daemon and type(text_string) is str and len(text_string) < 65536:
            # Kept request bytes, as add_scalar: only the string is encoded.
            t = rt.texts.get(tag)
            if t is None:
                t = rt.texts[tag] = w.TextTemplate(rt.name, ".", tag)
            if type(global_step) is not int and global_step is not None:
                global_step = int(global_step)
            rt.sink.put(t.entry(text_string, _now() if walltime is None else walltime,
                                global_step))
            return
        s = summary_text(text_string)
        rt.log([(".", tag, s)], _step(global_step), walltime)

    # ---- hparams --------------------------------------------------------------
    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None, name=None):
        """A session in the sub-run run_name (name; default the time): its
        hparams, the experiment listing them and the metrics, and the metric
        values as scalars of that run."""
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict should be dictionaries")
        run = run_name or name or str(time.time())
        hp = {}
        for k, v in hparam_dict.items():
            if hasattr(v, "item") and not isinstance(v, (bool, int, float, str)):
                v = v.item()
            if v is None:
                v = "None"
            if not isinstance(v, (bool, int, float, str)):
                v = str(v)
            hp[k] = v
        infos = [HParam(k, (hparam_domain_discrete or {}).get(k)) for k in hp]
        metrics = [Metric(k) for k in metric_dict]
        rt = self._route
        rt.sink.hparams_config(rt.name, run, infos, metrics)
        rt.sink.session_start(rt.name, run, hp, None)
        items = [(run, k, Summary("scalar", {"value": float(v)})) for k, v in metric_dict.items()]
        if items:
            rt.log(items, _step(global_step), None)
        rt.sink.session_end(rt.name, run, 1)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """A video [N, T, C, H, W] as one looping animated GIF (the N videos
        tiled like tensorboardX does), played by TensorBoard's image tab."""
        s = summary_video(vid_tensor, fps)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None,
                 global_step=None, walltime=None):
        """A 3D mesh or point cloud: vertices [B, N, 3], colors [B, N, 3] (0..255),
        faces [B, F, 3] vertex indices; tags <tag>_VERTEX, _FACE, _COLOR."""
        s = summary_mesh(vertices, colors, faces, config_dict)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    # ---- pr curves, custom scalars -------------------------------------------
    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        """A precision-recall curve from labels (0/1) and predictions in [0, 1],
        computed by the daemon bit for bit as TensorBoard's pr_curve summary
        (float32 arrays multiply in float32, lists and float64 in double)."""
        s = summary_pr_curve(labels, predictions, num_thresholds, weights)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds=127, weights=None, walltime=None):
        """A precision-recall curve from its six rows, each one entry per
        threshold (num_thresholds and weights are ignored, as TensorBoard takes
        the width from the rows)."""
        s = summary_pr_curve_raw(true_positive_counts, false_positive_counts,
                                 true_negative_counts, false_negative_counts, precision, recall)
        self._route.log([(".", tag, s)], _step(global_step), walltime)

    def add_custom_scalars(self, layout):
        """The layout of the CUSTOM SCALARS tab: {category: {chart: ['Multiline',
        [tag regexps]] or ['Margin', [value, lower, upper]]}}."""
        cats = [(cat, False, [(title, kind, tags) for title, (kind, tags) in charts.items()])
                for cat, charts in layout.items()]
        self._route.log([(".", "custom_scalars__config__", summary_layout(cats))], None, None)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    # ---- not supported (yet) -------------------------------------------------------
    def _unsupported(self, what):
        raise NotImplementedError(
            "tfevents.SummaryWriter.%s: the daemon has no encoder for this kind yet; use "
            "tensorboardX or torch.utils.tensorboard for it (both can write to another "
            "logdir next to this one)" % what)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's graph for the GRAPHS tab: a torch.nn.Module traced on
        input_to_model (torch.jit.trace; verbose prints the traced graph),
        or a serialized GraphDef (bytes, or a message with
        SerializeToString()). Written at step 0; TensorBoard shows the last
        graph of a run. ValueError when the daemon refuses it (bytes that do
        not parse as a GraphDef)."""
        data = graph_bytes(model, input_to_model, verbose, use_strict_trace)
        self._route.sink.graph(self._route.name, None, 0, None, data)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """A traced step's RunMetadata (serialized bytes, or a message with
        SerializeToString()) under tag, for the graphs dashboard's profile
        (TensorFlow's FileWriter.add_run_metadata)."""
        ser = getattr(run_metadata, "SerializeToString", None)
        data = bytes(ser()) if callable(ser) else bytes(run_metadata)
        self._route.sink.graph(self._route.name, None, _step(global_step) or 0, tag, data)

    def add_onnx_graph(self, *a, **k):
        self._unsupported("add_onnx_graph")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag="default", metadata_header=None):
        """The embedding projector's files beside this logdir's event files:
        mat [N, D]; metadata N labels (or N rows of cells with
        metadata_header); label_img [N, C, H, W] (floats in [0, 1] or
        uint8) as a sprite. Laid out as tensorboardX does
        (<step %05d>/<tag>/...), merged into projector_config.pbtxt."""
        step = _step(global_step) or 0
        self._route.sink.embedding(self._route.name, None, step,
                                   _embedding(mat, metadata, label_img, tag, metadata_header))



    def add_image_with_boxes(self, *a, **k):
        self._unsupported("add_image_with_boxes")

    # ---- lifetime ---------------------------------------------------------------------
    def flush(self):
        """Wait until everything is in the files; raises RefusedError with
        what was refused since the last flush."""
        self._client.flush()

    def close(self):
        """Flush and close this logdir's event files (a later add opens new
        ones); raises RefusedError like flush()."""
        if self._closed:
            return
        self._closed = True
        rt = self._route
        rt.sink.flush(rt.name, False, close=True)
        if self._own_client:
            self._client.close()
        else:
            self._client.raise_errors()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            try:
                self.close()
            except Exception:
                pass
