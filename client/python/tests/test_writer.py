"""SummaryWriter's methods, through the daemon and in-process."""

import os

import pytest

import tfevents
from tfevents import SummaryWriter
from conftest import eventlint
from test_api import png_pixels

try:
    import numpy as np
except ImportError:
    np = None


def summaries(logdir):
    out = {}
    for r in tfevents.collect_events(logdir, type="summary", as_frame=False):
        out.setdefault((r["run"], r["tag"]), []).append(r)
    return out


# A 2x3 RGB image: pixel (y, x) channel c = 10*y + 3*x + c (as uint8).
H, W, C = 2, 3, 3
HWC = [[[10 * y + 3 * x + c for c in range(C)] for x in range(W)] for y in range(H)]
EXPECTED = bytes(10 * y + 3 * x + c for y in range(H) for x in range(W) for c in range(C))


def layout(fmt):
    """HWC data rearranged as fmt (N of 1)."""
    dims = {"H": H, "W": W, "C": C, "N": 1}

    def build(axes, idx):
        if not axes:
            return HWC[idx["H"]][idx["W"]][idx["C"]]
        a = axes[0]
        return [build(axes[1:], dict(idx, **{a: i})) for i in range(dims[a])]
    return build(fmt, {"N": 0})


@pytest.mark.parametrize("fmt", ["HWC", "CHW", "NCHW", "NHWC", "WHC", "HW"])
def test_image_dataformats(env, fmt):
    c, root = env
    ld = os.path.join(root, "img")
    w = SummaryWriter(ld, client=c)
    if fmt == "HW":
        data = [[(HWC[y][x][0] + 0.5) / 255 for x in range(W)] for y in range(H)]
        want = (W, H, 1, bytes(10 * y + 3 * x for y in range(H) for x in range(W)))
    else:
        data = layout(fmt)
        want = (W, H, C, EXPECTED)
    data = bytes_in(data) if fmt != "HW" else data
    if fmt.startswith("N"):
        w.add_images("i", data, 0, dataformats=fmt)
    else:
        w.add_image("i", data, 0, dataformats=fmt)
    if np is not None:
        arr = np.asarray(data, dtype=np.float64)
        if fmt != "HW":
            arr = (arr * 255).astype(np.uint8)
        w.add_image("np", arr, 0, dataformats=fmt) if not fmt.startswith("N") else \
            w.add_images("np", arr, 0, dataformats=fmt)
    w.close()
    s = summaries(ld)
    for tag in ["i"] + (["np"] if np is not None else []):
        v = s[(".", tag)][0]["value"]
        assert (v["width"], v["height"]) == (W, H)
        assert png_pixels(v["images"][0]) == want, tag
    eventlint(ld)


def bytes_in(nested):
    """Pixels as floats in [0, 1] (what lists are taken as, like
    tensorboardX); +0.5 so that the truncation to uint8 gives them back."""
    if isinstance(nested, list):
        return [bytes_in(x) for x in nested]
    return (nested + 0.5) / 255


def test_scalars_and_histograms(env):
    c, root = env
    ld = os.path.join(root, "w")
    with SummaryWriter(ld, client=c) as w:
        for i in range(5):
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.add_scalars("grp", {"a": i, "b": 2 * i}, i)
        w.add_scalar("named", 3.0, 0, display_name="Named", summary_description="d")
        w.add_histogram("h", [0.5, 1.5, 1.5, 2.5], 0)
        w.add_histogram("h4", [0.0, 1.0, 2.0, 3.0], 0, bins=4)
        w.add_histogram_raw("raw", min=0.0, max=3.0, num=6, sum=9.0, sum_squares=17.0,
                            bucket_limits=[1.0, 2.0, 3.0], bucket_counts=[1, 2, 3],
                            global_step=0)
        if np is not None:
            w.add_histogram("hnp", np.arange(10, dtype=np.float32), 0, bins="auto")
            w.add_scalar("np_scalar", np.float32(2.5), np.int64(1))
        w.add_text("t", "**bold**", 0)
        w.add_scalar("nostep", 1.0)
        w.add_scalar("nostep", 2.0)
    s = summaries(ld)
    assert [r["value"] for r in s[(".", "loss")]] == pytest.approx([1, 0.5, 1 / 3, 0.25, 0.2])
    assert [r["value"] for r in s[("grp/b", "grp")]] == [0, 2, 4, 6, 8]
    assert s[(".", "h4")][0]["value"] == [(0, 0.75, 1), (0.75, 1.5, 1), (1.5, 2.25, 1),
                                         (2.25, 3.0, 1)]
    assert s[(".", "raw")][0]["value"] == [(0, 1, 1), (1, 2, 2), (2, 3, 3)]
    assert s[(".", "t")][0]["value"] == "**bold**"
    # global_step None: the logdir's next steps, so both points are kept
    steps = [r["step"] for r in s[(".", "nostep")]]
    assert len(steps) == 2 and steps[0] < steps[1]
    if np is not None:
        assert sum(r[2] for r in s[(".", "hnp")][0]["value"]) == 10
        assert s[(".", "np_scalar")][0]["value"] == 2.5
    eventlint(ld)


def test_audio_figure_pr_custom(env):
    c, root = env
    ld = os.path.join(root, "misc")
    w = SummaryWriter(ld, client=c)
    w.add_audio("mono", [[0.0, 0.25, -0.25, 2.0]], 0, sample_rate=16000)   # [1, L], clipped
    labels = [1, 0, 1, 1, 0, 0]
    preds = [0.9, 0.1, 0.8, 0.4, 0.6, 0.2]
    w.add_pr_curve("pr", labels, preds, 0, num_thresholds=5)
    if np is not None:   # float32 predictions take the float32 path; one weight for all
        w.add_pr_curve("pr32", np.array(labels), np.array(preds, dtype=np.float32), 0,
                       num_thresholds=5, weights=2.0)
    w.add_custom_scalars_marginchart(["v", "lo", "hi"], category="C3", title="m")
    w.add_pr_curve_raw("prraw", [3, 2], [3, 1], [0, 2], [0, 1], [0.5, 0.66], [1, 0.66], 0,
                       num_thresholds=2)
    w.add_custom_scalars({"Cat": {"chart": ["Multiline", ["loss"]],
                                  "band": ["Margin", ["v", "lo", "hi"]]}})
    w.add_custom_scalars_multilinechart(["a", "b"], category="C2", title="t")
    w.close()
    s = summaries(ld)
    wav = s[(".", "mono")][0]["value"][0]
    assert wav[:4] == b"RIFF" and len(wav) == 44 + 4 * 2
    pr = s[(".", "pr")][0]["value"]
    tp, fp, tn, fn, prec, rec = pr
    assert tp[0] == 3 and fp[0] == 3 and tn[0] == 0 and fn[0] == 0
    assert all(a >= b for a, b in zip(tp, tp[1:])) and all(a >= b for a, b in zip(fp, fp[1:]))
    assert prec[0] == pytest.approx(0.5) and rec[0] == pytest.approx(1.0)
    # threshold 0.75 (index 3): predictions 0.9 and 0.8 are positive and labelled 1
    assert (tp[3], fp[3]) == (2, 0)
    # buckets floor(p * 4): 3, 0, 3, 1, 2, 0; counts are for prediction >= threshold
    assert list(tp) == [3, 3, 2, 2, 0] and list(fp) == [3, 1, 1, 0, 0]
    if np is not None:
        tp32, fp32 = s[(".", "pr32")][0]["value"][:2]
        assert list(tp32) == [6, 6, 4, 4, 0] and list(fp32) == [6, 2, 2, 0, 0]
    assert len(s[(".", "prraw")][0]["value"][0]) == 2
    assert s[(".", "custom_scalars__config__")][0]["plugin"] == "custom_scalars"
    eventlint(ld)


def test_figure(env):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    c, root = env
    ld = os.path.join(root, "fig")
    fig = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    w = SummaryWriter(ld, client=c)
    w.add_figure("f", fig, 0)
    w.close()
    v = summaries(ld)[(".", "f")][0]["value"]
    assert (v["width"], v["height"]) == (100, 50)
    eventlint(ld)


def test_hparams_and_purge_step(env):
    c, root = env
    ld = os.path.join(root, "hp")
    w = SummaryWriter(ld, client=c)
    for i in range(5):
        w.add_scalar("x", i, i)
    w.add_hparams({"lr": 0.1, "layers": 3, "opt": "adam", "bn": True}, {"m/acc": 0.5},
                  run_name="trial1")
    w.close()
    s = summaries(ld)
    assert ("trial1", "_hparams_/session_start_info") in s and ("trial1", "m/acc") in s
    eventlint(ld)
    # Resuming at step 3: TensorBoard drops x's points 3 and 4.
    w = SummaryWriter(ld, client=c, purge_step=3)
    w.add_scalar("x", 30.0, 3)
    w.close()
    ev = tfevents.collect_events(ld, as_frame=False)
    assert any(e["what"] == "session_log" and e["status"] == 1 and e["step"] == 3 for e in ev)


def test_unsupported_kinds_say_so(env):
    c, root = env
    w = SummaryWriter(os.path.join(root, "u"), client=c)
    for m in ("add_onnx_graph",):
        with pytest.raises(NotImplementedError, match=m):
            getattr(w, m)(None)
    w.close()


def test_embedding(env):
    c, root = env
    ld = os.path.join(root, "proj")
    w = SummaryWriter(ld, client=c)
    w.add_scalar("loss", 0.5, 0)   # the directory is a run
    mat = [[0.0, 0.5, 1.0], [1.0, 0.25, -2.0]]
    w.add_embedding(mat, metadata=["cat", "dog"], global_step=3, tag="words")
    # label_img [N, C, H, W]: a sprite of a 2 x 2 grid of 2 x 3 images
    img = [[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]] * 2
    w.add_embedding(mat, metadata=[["cat", "1"], ["dog", "2"]], metadata_header=["n", "k"],
                    label_img=img, global_step=5, tag="words")
    with pytest.raises(ValueError):
        w.add_embedding(mat, metadata=["only one"], global_step=6)
    with pytest.raises(ValueError):
        w.add_embedding(mat, tag="../x", global_step=6)
    w.close()
    with open(os.path.join(ld, "00003", "words", "tensors.tsv")) as f:
        assert [[float(x) for x in l.split("\t")] for l in f.read().splitlines()] == mat
    with open(os.path.join(ld, "00003", "words", "metadata.tsv")) as f:
        assert f.read() == "cat\ndog\n"
    with open(os.path.join(ld, "00005", "words", "metadata.tsv")) as f:
        assert f.read() == "n\tk\ncat\t1\ndog\t2\n"
    with open(os.path.join(ld, "00005", "words", "sprite.png"), "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 6 and int.from_bytes(png[20:24], "big") == 4
    with open(os.path.join(ld, "projector_config.pbtxt")) as f:
        conf = f.read()
    assert conf.count("embeddings {") == 2
    assert 'tensor_name: "words:00003"' in conf and 'tensor_name: "words:00005"' in conf
    assert "single_image_dim: 3" in conf and "single_image_dim: 2" in conf
    eventlint(ld)


def test_mesh(env):
    c, root = env
    ld = os.path.join(root, "mesh")
    w = SummaryWriter(ld, client=c)
    verts = [[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]]
    w.add_mesh("tetra", verts, colors=[[[255, 0, 0]] * 4], faces=[[[0, 2, 1], [1, 2, 3]]],
               config_dict={"camera": {"fov": 75}}, global_step=0)
    w.add_mesh("cloud", [[0.5, 0.5, 0.5]], global_step=0)
    w.close()
    s = summaries(ld)
    assert set(t for _, t in s) == {"tetra_VERTEX", "tetra_FACE", "tetra_COLOR", "cloud_VERTEX"}
    assert s[(".", "tetra_FACE")][0]["plugin"] == "mesh"
    eventlint(ld)


def test_video(env):
    c, root = env
    ld = os.path.join(root, "vid")
    w = SummaryWriter(ld, client=c)
    # [1, T=2, C=1, H=2, W=3] floats, pure Python: truncated x * 255
    w.add_video("lists", [[[[[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]], [[[0.2, 0.2, 0.2],
                                                                   [0.9, 0.9, 0.9]]]]], 0, fps=2)
    if np is not None:   # 3 videos: padded to 4, tiled 1 x 4 as tensorboardX does
        w.add_video("grid", np.full((3, 2, 3, 4, 5), 200, dtype=np.uint8), 0)
    w.close()
    s = summaries(ld)
    v = s[(".", "lists")][0]["value"]
    assert (v["width"], v["height"]) == (3, 2) and len(v["images"]) == 1
    gif = v["images"][0]
    assert gif[:6] == b"GIF89a" and b"NETSCAPE2.0" in gif
    assert b"\x21\xf9\x04\x04\x32\x00" in gif   # graphic control: 50 hundredths (2 fps)
    # palette: 0, 127, 255 and 51, 229 (gray) in first-seen order
    assert gif[13:13 + 15] == bytes([0, 0, 0, 127, 127, 127, 255, 255, 255,
                                     51, 51, 51, 229, 229, 229])
    if np is not None:
        v = s[(".", "grid")][0]["value"]
        assert (v["width"], v["height"]) == (20, 4)
    eventlint(ld)


def test_tensorboardx_scalars_runs_and_default_logdir(env, monkeypatch):
    c, root = env
    monkeypatch.chdir(root)
    w = SummaryWriter(client=c, comment="_x")
    assert w.log_dir.startswith("runs" + os.sep) and w.log_dir.endswith("_x")
    w.add_scalars("a/b", {"c": 1.0}, 0)
    w.close()
    assert ("a/b/c", "a/b") in summaries(w.log_dir)
    from tfevents.torch import SummaryWriter as TorchWriter
    t = TorchWriter(os.path.join(root, "t"), client=c)
    t.add_scalars("a/b", {"c": 1.0}, 0)
    t.close()
    assert ("a_b_c", "a/b") in summaries(os.path.join(root, "t"))


def test_refusals_to_callback(tmp_path, env):
    c, root = env
    seen = []
    mode = c.transport()
    kw = {"client": tfevents.Client(mode=mode, socket_path=c.socket_path,
                                    on_error=seen.append)}
    w = SummaryWriter(os.path.join(root, "cb"), **kw)
    w.add_scalar("x", 1.0, 2)
    w.add_scalar("x", 1.0, 1)
    w.flush()         # no exception: the callback has it
    assert len(seen) == 1 and "not greater" in seen[0]
    w.close()
    kw["client"].close()
    w = SummaryWriter(os.path.join(root, "cb2"), client=c)
    w.add_scalar("x", 1.0, 2)
    w.add_scalar("x", 1.0, 1)
    with pytest.raises(tfevents.RefusedError):
        w.close()


def test_text_template_is_the_general_encoding():
    """add_text's kept request bytes are byte for byte what the general
    path (DaemonSink.log of summary_text) makes, for texts with non-ASCII,
    empty, long, steps of every varint length and no step."""
    from tfevents import _wire as w
    from tfevents._values import summary_text

    def general(logdir, run, tag, text, wall, step):
        parts = [w.f_str(1, logdir)]
        parts += w.lp(5, summary_text(text).wire(run, tag))
        parts.append(w.f_double(4, wall))
        if step is not None:
            parts.append(w.f_varint(2, step))
        return b"".join(bytes(p) for p in w.lp(1, w.lp(w.RQ_LOG, parts)))

    texts = ["", "some *markdown*", "é ü 漢字 🙂", "x" * 200, "y" * 70000, "a\nb\tc"]
    steps = [None, 0, 1, 127, 128, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21 + 5,
             2 ** 28 - 1, 2 ** 28, 2 ** 53]
    for logdir, run, tag in [("exp", ".", "notes"), ("a/b" * 50, "train", "t" * 300)]:
        t = w.TextTemplate(logdir, run, tag)
        for text in texts:
            for step in steps:
                for wall in (0.0, 1700000000.25):
                    assert t.entry(text, wall, step) == general(logdir, run, tag, text, wall,
                                                                step)


# ---- graphs -------------------------------------------------------------------

# GraphDef{node{name "x", op "Placeholder"}, node{name "y", op "Identity", input "x"}}
GRAPH = bytes.fromhex("0a100a0178120b506c616365686f6c646572"
                      "0a100a017912084964656e74697479 1a0178".replace(" ", ""))
# RunMetadata{step_stats{dev_stats{device "/cpu", node_stats{node_name "y"}}}}
RUN_METADATA = bytes.fromhex("0a0d0a0b0a042f6370751203 0a0179".replace(" ", ""))


def graph_events(logdir):
    return [e for e in tfevents.events_logdir(logdir).read()
            if e["what"] in ("graph_def", "tagged_run_metadata")]


class _Message:
    """Like a protobuf message: what add_graph takes besides bytes."""

    def __init__(self, b):
        self.b = b

    def SerializeToString(self):
        return self.b


def test_add_graph_bytes(env):
    c, root = env
    ld = os.path.join(root, "graph")
    w = SummaryWriter(ld, client=c)
    w.add_graph(GRAPH)
    w.add_run_metadata(_Message(RUN_METADATA), "step_1", global_step=1)
    with pytest.raises(ValueError, match="does not parse as a GraphDef"):
        w.add_graph(GRAPH[:-1])
    with pytest.raises(ValueError, match="does not parse as a RunMetadata"):
        w.add_run_metadata(GRAPH, "step_2", 2)   # a node where step stats go
    with pytest.raises(TypeError):
        w.add_graph(3)
    with pytest.raises(ValueError, match="already holds a graph at step 0"):
        w.add_graph(_Message(GRAPH[:18]))   # TensorBoard would keep both, or one
    w.close()
    ev = graph_events(ld)
    assert [(e["what"], e["step"]) for e in ev] == [("graph_def", 0), ("tagged_run_metadata", 1)]
    assert ev[0]["graph_def"] == GRAPH
    assert ev[1]["tag"] == "step_1" and ev[1]["run_metadata"] == RUN_METADATA
    eventlint(ld)


def parse_graph(b):
    """[{name, op, input: [...], attr: {key: AttrValue bytes}}] of a GraphDef."""
    from tfevents._wire import fields
    nodes = []
    for f, _, v in fields(b):
        if f != 1:
            continue
        n = {"name": "", "op": "", "input": [], "attr": {}}
        for f2, _, x in fields(v):
            if f2 in (1, 2):
                n["name" if f2 == 1 else "op"] = bytes(x).decode()
            elif f2 == 3:
                n["input"].append(bytes(x).decode())
            elif f2 == 5:
                kv = {f3: bytes(y) for f3, _, y in fields(x)}
                n["attr"][kv[1].decode()] = kv.get(2, b"")
        nodes.append(n)
    return nodes


def output_shapes(attr_value):
    """AttrValue{list{shape{dim{size}}...}} -> [[sizes]...]."""
    from tfevents._wire import fields
    shapes = []
    for f, _, lst in fields(attr_value):
        for f2, _, sh in fields(lst):
            if f2 == 7:
                shapes.append([next((d for f4, _, d in fields(dim) if f4 == 1), 0)
                               for f3, _, dim in fields(sh) if f3 == 2])
    return shapes


def test_add_graph_torch_module(env):
    torch = pytest.importorskip("torch")
    c, root = env

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 3)
            self.fc2 = torch.nn.Linear(3, 2)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    model = Net()
    model.train()
    ld = os.path.join(root, "torchgraph")
    w = SummaryWriter(ld, client=c)
    w.add_graph(model, torch.zeros(5, 4))
    w.close()
    assert model.training   # traced in eval mode, put back
    (ev,) = graph_events(ld)
    nodes = parse_graph(ev["graph_def"])
    by_name = {n["name"]: n for n in nodes}
    assert len(by_name) == len(nodes)   # unique names
    for n in nodes:   # every edge starts at a node of the graph
        for i in n["input"]:
            assert i.split(":")[0] in by_name, (n, i)
    ins = [n for n in nodes if n["name"].startswith("input/")]
    outs = [n for n in nodes if n["name"].startswith("output/")]
    assert len(ins) == 1 and ins[0]["op"] == "IO Node"
    assert output_shapes(ins[0]["attr"]["_output_shapes"]) == [[5, 4]]
    assert len(outs) == 1 and outs[0]["op"] == "IO Node"
    linears = [n for n in nodes if n["op"] == "aten::linear"]
    assert [n["name"] for n in linears] == ["Net/fc1/linear", "Net/fc2/linear"]
    assert output_shapes(linears[1]["attr"]["_output_shapes"]) == [[5, 2]]
    assert linears[1]["attr"]["dtype"] == b"\x30\x01"   # type: DT_FLOAT
    assert outs[0]["input"] == ["Net/fc2/linear"]
    assert output_shapes(by_name["Net/fc1/weight"]["attr"]["_output_shapes"]) == [[3, 4]]
    params = {n["name"] for n in nodes if n["op"] == "prim::GetAttr"}
    assert {"Net/fc1/weight", "Net/fc1/bias", "Net/fc2/weight", "Net/fc2/bias"} <= params
    assert set(linears[0]["input"]) == {ins[0]["name"], "Net/fc1/weight", "Net/fc1/bias"}
    relu = [n for n in nodes if n["op"] == "aten::relu"]
    assert len(relu) == 1 and relu[0]["input"] == ["Net/fc1/linear"]
    assert set(linears[1]["input"]) == {"Net/relu", "Net/fc2/weight", "Net/fc2/bias"} or \
        set(linears[1]["input"]) == {relu[0]["name"], "Net/fc2/weight", "Net/fc2/bias"}
    eventlint(ld)


def test_scalar_template_is_the_general_encoding():
    """add_scalar's kept request bytes (the step's varint packed with the
    numbers) are byte for byte what the general path makes, for steps of
    every varint length, no step, and NaN and infinities."""
    from tfevents import _wire as w
    from tfevents._values import Summary

    def general(logdir, run, tag, x, wall, step):
        parts = [w.f_str(1, logdir)]
        parts += w.lp(5, Summary("scalar", {"value": x}).wire(run, tag))
        parts.append(w.f_double(4, wall))
        if step is not None:
            parts.append(w.f_varint(2, step))
        return b"".join(bytes(p) for p in w.lp(1, w.lp(w.RQ_LOG, parts)))

    steps = [None, 0, 1, 127, 128, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1,
             2 ** 28, 2 ** 35 + 3, 2 ** 53]
    steps += [(k * 2654435761) % 2 ** 30 for k in range(200)]
    for logdir, run, tag in [("exp", ".", "loss"), ("a/b" * 50, "train", "t" * 300)]:
        t = w.ScalarTemplate(logdir, run, tag)
        for step in steps:
            for x in (0.25, -1e300, float("inf"), float("-inf")):
                assert t.entry(x, 1700000000.25, step) == general(logdir, run, tag, x,
                                                                   1700000000.25, step)
        nan = t.entry(float("nan"), 1.0, 5)
        assert nan == general(logdir, run, tag, float("nan"), 1.0, 5)
