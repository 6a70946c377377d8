#!/usr/bin/env python3
"""tfeventsd: the newer dashboards' kinds (issue 19) against the golden
files TensorBoard's own code wrote (TFEVENTS_SHARED/golden/dashboards).

- pr_curves: the golden fixture's PR curves, from the same labels and
  predictions (numpy RandomState(0), replayed here by our own MT19937) and
  from raw counts, logged as $pr_curve; TensorBoard's view of our files
  (eventlint --json) equals the fixture's tag by tag: plugin, data class,
  content, display name, description, dtype, shape, steps, every float.
- custom_scalars: the fixture's layout as $layout: the same serialized
  Layout bytes, with the scalars it charts.
- mesh: the fixture's meshes as $mesh, part by part.
- graph: the fixture's GraphDef and tagged RunMetadata, read from its
  event file with clients/evfile.py and sent again (op "graph", JSON and
  binary): our Events equal TensorBoard's byte for byte; bytes that do not
  parse are refused with the same sentence by both protocols.
- gif: the fixture's animated GIF passed through as $image "gif" (the same
  bytes and view); its frames, decoded here, encoded again by our encoder
  ("animate": true) and decoded back to the same pixels and delays; large
  frames of many colours (LZW table resets, the 216-colour cube).

Each test also runs eventlint --strict on what the daemon wrote. Tests skip
with a note when the golden files or eventlint are absent. Standard library
only; the harness is test-daemon.py's.
Usage: test-dashboards.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import base64
import json
import os
import struct
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check = td.Daemon, td.check
_spec = importlib.util.spec_from_file_location("tbinary", os.path.join(_here, "test-binary.py"))
tb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tb)
evfile = td.evfile

GOLDEN = os.path.join(td.SHARED, "golden", "dashboards") if td.SHARED else ""


def golden(kind):
    """The fixture's expected view, or Skip when the golden files are absent."""
    path = os.path.join(GOLDEN, kind + ".json") if GOLDEN else ""
    if not path or not os.path.exists(path):
        raise td.Skip("golden file dashboards/%s.json absent (TFEVENTS_SHARED unset or "
                      "incomplete)" % kind)
    with open(path) as f:
        return json.load(f)


def loaded(logdir):
    """eventlint --strict must pass; then its --json view of logdir."""
    if not td.EVENTLINT:
        raise td.Skip("eventlint absent (TFEVENTS_SHARED/tools/eventlint)")
    td.eventlint(logdir)
    p = subprocess.run([sys.executable, td.EVENTLINT, "--json", logdir],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "eventlint --json: %s" % p.stderr)
    return json.loads(p.stdout)["runs"]


FIELDS = ("plugin", "data_class", "content", "display_name", "description", "dtype", "shape",
          "steps", "values")


def same_tag(ours, theirs, what):
    for k in FIELDS:
        check(ours.get(k) == theirs.get(k), "%s: %s differs: ours %s, TensorBoard's %s"
              % (what, k, json.dumps(ours.get(k))[:300], json.dumps(theirs.get(k))[:300]))


def collect(logdir, tag):
    """tfevents collect --type summary --format jsonl rows of tags matching tag."""
    cli = os.environ.get("TFEVENTS_CLI")
    if not cli:
        td.notes.append("collect part skipped: TFEVENTS_CLI not set")
        return []
    p = subprocess.run([cli, "collect", logdir, "--type", "summary", "--format", "jsonl",
                        "--tag", tag], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "collect: %s" % p.stderr)
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    check(rows, "collect printed no row for %s" % tag)
    return rows


def log_all(tmp, messages):
    """Run a daemon, send messages (dicts) to it, flush; every reply ok."""
    d = Daemon(tmp)
    try:
        c = d.client()
        for m in messages:
            a = c.request(m)
            check(a.get("ok"), "refused: %r for %s" % (a, json.dumps(m)[:200]))
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    return d.root


class MT19937:
    """numpy's legacy RandomState: MT19937 seeded by init_genrand, and
    random_sample() from two 32-bit draws (53 bits)."""

    def __init__(self, seed):
        self.mt = [seed & 0xffffffff]
        for i in range(1, 624):
            prev = self.mt[-1]
            self.mt.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xffffffff)
        self.i = 624

    def u32(self):
        if self.i >= 624:
            mt = self.mt
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908b0df if y & 1 else 0)
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c5680
        y ^= (y << 15) & 0xefc60000
        return y ^ (y >> 18)

    def rand(self, n):
        return [((self.u32() >> 5) * 67108864.0 + (self.u32() >> 6)) / 9007199254740992.0
                for _ in range(n)]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_pr_curves(tmp):
    """The fixture's three PR curve tags, logged from their inputs."""
    g = golden("pr_curves")
    rng = MT19937(0)
    msgs = []
    gs = g["runs"]["."]
    for step in range(3):
        # The fixture's data: labels rand < 0.5, predictions
        # clip(0.3 * label + 0.7 * rand) as float32.
        labels = [x < 0.5 for x in rng.rand(40)]
        preds = [f32(min(1.0, max(0.0, (0.3 if lab else 0.0) + r * 0.7)))
                 for lab, r in zip(labels, rng.rand(40))]
        small = {"labels": labels, "predictions": preds, "num_thresholds": 11,
                 "display_name": "small", "description": gs["small/pr_curves"]["description"]}
        if step == 1:
            small["weights"] = [2.0 if lab else 1.0 for lab in labels]
        fine = {"labels": labels, "predictions": preds, "num_thresholds": 201,
                "display_name": "fine"}
        msgs.append({"logdir": "pr", "step": step, "wall_time": 1700000000 + step,
                     "values": {"small/pr_curves": {"$pr_curve": small},
                                "fine/pr_curves": {"$pr_curve": fine}}})
    # The raw run: hand-made counts at 5 thresholds (precision 1 where
    # nothing is predicted positive, as the fixture's author wrote it).
    tp, fp = [10, 8, 5, 2, 0], [10, 4, 1, 0, 0]
    raw = {"true_positives": tp, "false_positives": fp,
           "true_negatives": [fp[0] - x for x in fp], "false_negatives": [tp[0] - x for x in tp],
           "precision": [t / (t + f) if t + f else 1.0 for t, f in zip(tp, fp)],
           "recall": [t / tp[0] for t in tp], "display_name": "raw counts"}
    msgs.append({"logdir": "pr", "step": 0, "values": {"raw": {
        "counts/pr_curves": {"$pr_curve": raw}}}})
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "pr"))
    for run in ("raw", "."):
        check(sorted(runs.get(run, {})) == sorted(g["runs"][run]),
              "run %s tags %r" % (run, sorted(runs.get(run, {}))))
        for tag, theirs in g["runs"][run].items():
            same_tag(runs[run][tag], theirs, "%s/%s" % (run, tag))
    # tfevents collect names the rows.
    names = ["true_positives", "false_positives", "true_negatives", "false_negatives",
             "precision", "recall"]
    for row in collect(os.path.join(root, "pr"), "small/*"):
        want = g["runs"]["."]["small/pr_curves"]["values"][row["step"]]
        check(row["value"]["num_thresholds"] == 11 and
              [row["value"][n] for n in names] == want, "collect: %r" % row)


def test_pr_curve_refusals(tmp):
    """Inputs TensorBoard would silently drop or misread are refused."""
    d = Daemon(tmp)
    bad = [({"labels": [1, 0], "predictions": [0.5, 1.5]}, "[0, 1]"),
           ({"labels": [1, 0], "predictions": [0.5]}, "as many"),
           ({"labels": [1], "predictions": [0.5], "num_thresholds": 1}, "num_thresholds"),
           ({"labels": [1, 0], "predictions": [0.5, 0.2], "weights": [1, 2, 3]}, "weight"),
           ({"true_positives": [1, 0], "false_positives": [1]}, "equal length"),
           ({"labels": [1], "predictions": [0.5], "true_positives": [1]}, "not both")]
    try:
        c = d.client()
        for body, why in bad:
            a = c.request({"logdir": "x", "values": {"pr": {"$pr_curve": body}}})
            check(not a["ok"] and why in a["error"], "%r: %r" % (body, a))
        a = c.request({"logdir": "x", "values": {"layout": {"$layout": {
            "categories": [{"title": "t", "charts": [{"multiline": ["a"]}]}]}}}})
        check(not a["ok"] and "custom_scalars__config__" in a["error"], "layout tag: %r" % a)
        a = c.request({"logdir": "x", "values": {"custom_scalars__config__": {"$layout": {
            "categories": [{"title": "t", "charts": [{"multiline": ["a"], "margin": [
                {"value": "v", "lower": "l", "upper": "u"}]}]}]}}}})
        check(not a["ok"] and "not both" in a["error"], "multiline and margin: %r" % a)
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def test_custom_scalars(tmp):
    """The fixture's layout and its five scalars."""
    g = golden("custom_scalars")
    layout = {"categories": [
        {"title": "losses", "charts": [{"title": "all losses", "multiline": ["loss/.*"]},
                                       {"title": "train only", "multiline": ["loss/train$"]}]},
        {"title": "accuracy", "closed": True, "charts": [
            {"title": "acc with bounds", "margin": [
                {"value": "acc/mean", "lower": "acc/lower", "upper": "acc/upper"}]}]}]}
    msgs = [{"logdir": "cs", "step": 0, "values": {"custom_scalars__config__":
                                                  {"$layout": layout}}}]
    gs = g["runs"]["."]
    for step in range(5):
        msgs.append({"logdir": "cs", "step": step, "values": {
            t: gs[t]["values"][step] for t in gs if t != "custom_scalars__config__"}})
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "cs"))
    check(sorted(runs["."]) == sorted(gs), "tags %r" % sorted(runs["."]))
    for tag, theirs in gs.items():
        same_tag(runs["."][tag], theirs, tag)
    row = collect(os.path.join(root, "cs"), "custom_scalars__config__")
    if row:
        cats = row[0]["value"]["layout"]["category"]
        check([c["title"] for c in cats] == ["losses", "accuracy"] and cats[1]["closed"] and
              cats[1]["chart"][0]["margin"]["series"][0]["upper"] == "acc/upper",
              "collect: %r" % row)


# ---- GIF ----------------------------------------------------------------------

def gif_decode(b):
    """(width, height, [(delay, [palette index rows])], palette, loops) of a
    GIF with a global colour table and full-size frames: our own decoder,
    independent of the encoder under test."""
    check(b[:6] in (b"GIF87a", b"GIF89a"), "not a GIF: %r" % b[:6])
    w, h, packed = struct.unpack("<HHB", b[6:11])
    pos = 13
    check(packed & 0x80, "no global colour table")
    n_colors = 2 << (packed & 7)
    pal = [tuple(b[pos + 3 * i:pos + 3 * i + 3]) for i in range(n_colors)]
    pos += 3 * n_colors
    frames, delay, loops = [], 0, False
    while True:
        t = b[pos]
        if t == 0x3B:
            return w, h, frames, pal, loops
        if t == 0x21:
            label = b[pos + 1]
            pos += 2
            data = b""
            while b[pos]:
                data += b[pos + 1:pos + 1 + b[pos]]
                pos += 1 + b[pos]
            pos += 1
            if label == 0xF9:
                delay = struct.unpack("<H", data[1:3])[0]
            elif label == 0xFF and data.startswith(b"NETSCAPE2.0"):
                loops = True
            continue
        check(t == 0x2C, "unexpected block 0x%02x at %d" % (t, pos))
        fx, fy, fw, fh, fp = struct.unpack("<HHHHB", b[pos + 1:pos + 10])
        check((fx, fy, fw, fh, fp & 0xC0) == (0, 0, w, h, 0), "frame not full-size")
        pos += 10
        min_size = b[pos]
        pos += 1
        data = b""
        while b[pos]:
            data += b[pos + 1:pos + 1 + b[pos]]
            pos += 1 + b[pos]
        pos += 1
        px = lzw_decode(data, min_size)
        check(len(px) >= w * h, "frame has %d pixels, not %d" % (len(px), w * h))
        frames.append((delay, [px[r * w:(r + 1) * w] for r in range(h)]))


def lzw_decode(data, min_size):
    clear, eoi = 1 << min_size, (1 << min_size) + 1
    size, bitpos, out = min_size + 1, 0, []
    table, prev = None, None
    while bitpos + size <= len(data) * 8:
        code = int.from_bytes(data[bitpos // 8:bitpos // 8 + 3].ljust(3, b"\0"), "little")
        code = (code >> (bitpos % 8)) & ((1 << size) - 1)
        bitpos += size
        if code == clear:
            table = [[i] for i in range(clear)] + [None, None]
            size, prev = min_size + 1, None
            continue
        if code == eoi:
            return out
        check(table is not None, "no clear code first")
        if prev is None:
            entry = table[code]
        else:
            entry = table[code] if code < len(table) else prev + [prev[0]]
            if len(table) < 4096:
                table.append(prev + [entry[0]])
        out.extend(entry)
        prev = entry
        if len(table) == 1 << size and size < 12:
            size += 1
    raise td.Failure("LZW data ends without an end code")


def rgb_frames(decoded):
    _w, _h, frames, pal, _ = decoded
    return [[[pal[i] for i in row] for row in rows] for _d, rows in frames]


def golden_gif():
    g = golden("gif")
    tags, _ = td.evfile.load(os.path.join(GOLDEN, "gif"))
    pts = tags["."]["anim"]
    return g, [v["tensor"]["strings"][2] for _step, v in pts]


def test_gif_bytes(tmp):
    """The fixture's GIF as given bytes: the same view as TensorBoard's."""
    g, gifs = golden_gif()
    gs = g["runs"]["."]["anim"]
    msgs = [{"logdir": "gif", "step": step, "values": {"anim": {"$image": {
        "gif": base64.b64encode(b).decode(), "display_name": gs["display_name"],
        "description": gs["description"]}}}} for step, b in enumerate(gifs)]
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "gif"))
    same_tag(runs["."]["anim"], gs, "anim")


def send_frames(tmp, name, frames, fps):
    """frames ([n][h][w][3] bytes) as one animation; our GIF's bytes back."""
    root = log_all(tmp, [{"logdir": name, "step": 0, "values": {"a": {"$image": {
        "pixels": frames, "dtype": "uint8", "animate": True, "fps": fps}}}}])
    loaded(os.path.join(root, name))   # eventlint --strict clean
    tags, _ = td.evfile.load(os.path.join(root, name))
    t = tags["."]["a"][0][1]["tensor"]
    h, w = len(frames[0]), len(frames[0][0])
    check(t["strings"][:2] == [str(w).encode(), str(h).encode()], "size %r" % t["strings"][:2])
    return t["strings"][2]


def test_gif_frames(tmp):
    """The fixture's frames through our encoder: same pixels, delays, loop."""
    _g, gifs = golden_gif()
    theirs = gif_decode(gifs[0])
    frames = rgb_frames(theirs)
    ours = gif_decode(send_frames(tmp, "gifenc", frames, 100.0 / theirs[2][0][0]))
    check(ours[:2] == theirs[:2] and ours[4], "size or loop: %r" % (ours[:2],))
    check([d for d, _ in ours[2]] == [d for d, _ in theirs[2]], "delays")
    check(rgb_frames(ours) == frames, "pixels differ")


def test_gif_many_colors(tmp):
    """200 exact colours over 3 frames of 120x90 (LZW resets), then
    thousands of colours: the 216-colour cube, each channel to the nearest
    multiple of 51."""
    rng = MT19937(7)
    pal = [tuple(int(x * 256) for x in rng.rand(3)) for _ in range(200)]
    frames = [[[list(pal[int(rng.rand(1)[0] * 200)]) for _x in range(120)] for _y in range(90)]
              for _f in range(3)]
    ours = gif_decode(send_frames(tmp, "gifpal", frames, 10))
    check(rgb_frames(ours) == [[[tuple(p) for p in row] for row in f] for f in frames],
          "exact palette: pixels differ")
    check([d for d, _ in ours[2]] == [10, 10, 10], "delays %r" % [d for d, _ in ours[2]])
    frames = [[[[int(x * 256) for x in rng.rand(3)] for _x in range(64)] for _y in range(48)]
              for _f in range(2)]
    ours = gif_decode(send_frames(tmp, "gifcube", frames, 4))
    want = [[[tuple((c + 25) // 51 * 51 for c in p) for p in row] for row in f] for f in frames]
    check(rgb_frames(ours) == want, "cube: pixels differ")


def test_mesh(tmp):
    """The fixture's meshes (tetra with faces and colours at steps 0-1, the
    vertex-only cloud) as $mesh: every part's tag, dtype, shape, numbers and
    MeshPluginData (name, content type, config, shape, components)."""
    g = golden("mesh")
    gs = g["runs"]["."]
    msgs = []
    for step in (0, 1):
        t = {"vertices": gs["tetra_VERTEX"]["values"][step][0],
             "faces": gs["tetra_FACE"]["values"][step][0],
             "colors": gs["tetra_COLOR"]["values"][step][0],
             "config": gs["tetra_VERTEX"]["content"]["json_config"],
             "description": gs["tetra_VERTEX"]["description"]}
        values = {"tetra": {"$mesh": t}}
        if step == 0:
            values["cloud"] = {"$mesh": {"vertices": gs["cloud_VERTEX"]["values"][0]}}
        msgs.append({"logdir": "mesh", "step": step, "values": values})
    root = log_all(tmp, msgs)
    runs = loaded(os.path.join(root, "mesh"))
    check(sorted(runs["."]) == sorted(gs), "tags %r" % sorted(runs["."]))
    for tag, theirs in gs.items():
        same_tag(runs["."][tag], theirs, tag)
    for row in collect(os.path.join(root, "mesh"), "*_*"):
        check(row["value"] == {"shape": gs[row["tag"]]["shape"]}, "collect: %r" % row)
    d = Daemon(tmp)
    try:
        c = d.client()
        for body, why in [({"vertices": [[0, 0, 0]], "faces": [[0, 1, 2]]}, "index"),
                          ({"vertices": [[0, 0]]}, "[n][3]"),
                          ({"vertices": [[0, 0, 0]], "colors": [[0, 0, 256]]}, "0..255"),
                          ({"vertices": {"f32": "AAAAAAAAAAAAAAAA"}, "samples": 2}, "flat"),
                          ({"vertices": [[0, 0, 0]], "samples": 1}, "flat parts only"),
                          ({"vertices": [0, 0, 0], "samples": 0}, "samples")]:
            a = c.request({"logdir": "m2", "values": {"m": {"$mesh": body}}})
            check(not a["ok"] and why in a["error"], "%r: %r" % (body, a))
        c.close()
    finally:
        check(d.stop() == 0, "daemon exit status")


# ---- graphs -------------------------------------------------------------------

def golden_graph_events():
    """The payloads of the fixture's graph_def and tagged_run_metadata Events."""
    golden("graph")
    d = os.path.join(GOLDEN, "graph")
    (name,) = [n for n in os.listdir(d) if "tfevents" in n]
    payloads = list(evfile.records(os.path.join(d, name)))
    def_ev = [p for p in payloads if 4 in evfile.fields(p)]
    md_ev = [p for p in payloads if 8 in evfile.fields(p)]
    check(len(def_ev) == 1 and len(md_ev) == 1, "fixture: one graph and one run metadata")
    return def_ev[0], md_ev[0]


def our_events(logdir):
    """Payloads of logdir's run "." other than the file_version record."""
    files = evfile.event_files(logdir).get(".", [])
    check(files, "no event file in %s" % logdir)
    return [p for f in files for p in evfile.records(f) if 3 not in evfile.fields(p)]


def graph_request(logdir, step, wall_time, graph_def=None, tag=None, run_metadata=None,
                  rid=1):
    """A binary Request {id, graph {...}} (tfwire.proto Graph)."""
    g = tb.f_bytes(1, logdir) + tb.f_varint(3, step) + tb.f_double(4, wall_time)
    if graph_def is not None:
        g += tb.f_bytes(5, graph_def)
    if run_metadata is not None:
        g += tb.f_bytes(6, run_metadata)
    if tag is not None:
        g += tb.f_bytes(7, tag)
    return tb.f_varint(1, rid) + tb.f_bytes(14, g)


def graph_json(logdir, step, wall_time, graph_def=None, tag=None, run_metadata=None):
    m = {"op": "graph", "logdir": logdir, "step": step, "wall_time": wall_time, "id": 1}
    if graph_def is not None:
        m["graph_def"] = base64.b64encode(graph_def).decode()
    if run_metadata is not None:
        m["run_metadata"] = base64.b64encode(run_metadata).decode()
    if tag is not None:
        m["tag"] = tag
    return m


def test_graph(tmp):
    """The fixture's graph and run metadata, sent again by both protocols:
    the same Event bytes, the same view, eventlint --strict clean."""
    g = golden("graph")
    gdef, gmd = golden_graph_events()
    fd, fm = evfile.fields(gdef), evfile.fields(gmd)
    trm = evfile.fields(fm[8][0])
    wall = [struct.unpack("<d", f[1][0])[0] for f in (fd, fm)]
    steps = [f.get(2, [0])[0] for f in (fd, fm)]
    args = [dict(graph_def=fd[4][0]), dict(tag=trm[1][0].decode(), run_metadata=trm[2][0])]
    d = Daemon(tmp)
    try:
        c = d.client()
        for i in range(2):
            a = c.request(graph_json("gj", steps[i], wall[i], **args[i]))
            check(a.get("ok") and a.get("step") == steps[i], "json: %r" % a)
        b = tb.Conn(d.sock)
        b.hello()
        for i in range(2):
            b.send(tb.frame([graph_request("gb", steps[i], wall[i], rid=i + 1, **args[i])]))
            a = b.reply()
            check(a["ok"] and a.get("step", 0) == steps[i], "binary: %r" % a)
        b.close()
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    for ld in ("gj", "gb"):
        path = os.path.join(d.root, ld)
        check(our_events(path) == [gdef, gmd], "%s: our Events differ from the fixture's" % ld)
        runs = loaded(path)
        check(sorted(runs["."]) == sorted(g["runs"]["."]), "%s: tags %r" % (ld, runs["."]))
        for tag, theirs in g["runs"]["."].items():
            same_tag(runs["."][tag], theirs, "%s %s" % (ld, tag))
    rows = collect(os.path.join(d.root, "gj"), "*")
    if rows:
        kinds = {r["tag"]: r for r in rows}
        check(kinds.get("__run_graph__", {}).get("plugin") == "graphs" and
              kinds["__run_graph__"]["value"] == {"kind": "graph", "nodes": 4,
                                                  "bytes": len(fd[4][0])} and
              kinds.get("step_1", {}).get("plugin") == "graph_tagged_run_metadata" and
              kinds["step_1"]["value"] == {"kind": "run_metadata", "nodes": 2,
                                           "bytes": len(trm[2][0])}, "collect: %r" % rows)


def node_def(name, op, inputs=(), extra=b""):
    return (tb.f_bytes(1, name) + tb.f_bytes(2, op) +
            b"".join(tb.f_bytes(3, i) for i in inputs) + extra)


def test_graph_refusals(tmp):
    """Bytes TensorBoard could not parse, and malformed requests, are
    refused with one sentence by both protocols, and nothing is written."""
    good = tb.f_bytes(1, node_def("x", "Placeholder"))
    attr = tb.f_bytes(5, tb.f_bytes(1, "T") + tb.f_bytes(2, tb.f_varint(6, 1)))
    deep = tb.f_varint(6, 1)   # AttrValue{type}
    for _ in range(40):        # AttrValue.func.attr[k] = AttrValue ... 120 levels
        deep = tb.f_bytes(10, tb.f_bytes(2, tb.f_bytes(1, "k") + tb.f_bytes(2, deep)))
    bad = [
        (dict(graph_def=good[:-1]), "does not parse as a GraphDef"),       # cut
        (dict(graph_def=b"\x0a\x05\x0a\x01\xffxx"), "not valid UTF-8"),  # node name
        (dict(graph_def=tb.f_varint(1, 3)), "wire type 0"),                # node as varint
        (dict(graph_def=tb.f_bytes(1, node_def("m", "Mul", extra=tb.f_bytes(
            5, tb.f_bytes(1, "a") + tb.f_bytes(2, deep))))), "deeper than"),
        (dict(graph_def=b"\x5b\x5c"), "groups"),             # field 11
        (dict(graph_def=good + b"\x00"), "field number 0"),
        (dict(graph_def=b""), "empty"),
        (dict(tag="t", run_metadata=tb.f_bytes(1, tb.f_bytes(1, tb.f_varint(2, 5)))),
         "does not parse as a RunMetadata"),   # node_stats as a varint
        (dict(run_metadata=tb.f_bytes(2, b"")), "needs a \"tag\""),
        (dict(tag="__run_graph__", run_metadata=tb.f_bytes(2, b"")), "other than"),
        (dict(graph_def=good, tag="t"), "\"tag\" goes with"),
        (dict(graph_def=good, run_metadata=good), "not both"),
        ({}, "graph needs"),
    ]
    d = Daemon(tmp)
    try:
        c = d.client()
        b = tb.Conn(d.sock)
        b.hello()
        for i, (kw, why) in enumerate(bad):
            a = c.request(graph_json("x", 0, 1.5e9, **kw))
            b.send(tb.frame([graph_request("x", 0, 1.5e9, rid=i + 1, **kw)]))
            ab = b.reply()
            check(not a["ok"] and why in a["error"], "json %r: %r" % (kw, a))
            check(not ab["ok"] and ab["error"] == a["error"],
                  "binary %r: %r, json said %r" % (kw, ab, a["error"]))
        # A good graph with an attr passes; another at the same step does not
        # (TensorBoard would keep both, or one), at a later step it does.
        good_attr = tb.f_bytes(1, node_def("x", "Placeholder", extra=attr))
        a = c.request(graph_json("y", 0, 1.5e9, graph_def=good_attr))
        check(a["ok"], "good graph: %r" % a)
        a = c.request(graph_json("y", 0, 1.5e9, graph_def=good))
        check(not a["ok"] and "already holds a graph at step 0" in a["error"], "again: %r" % a)
        a = c.request(graph_json("y", 1, 1.5e9, tag="__run_graph__x", run_metadata=b"\x0a\x00"))
        check(a["ok"], "run metadata: %r" % a)
        a = c.request(graph_json("y", 1, 1.5e9, tag="__run_graph__x", run_metadata=b"\x0a\x00"))
        check(not a["ok"] and "not greater than its last step 1" in a["error"], "rm again: %r" % a)
        a = c.request({"logdir": "y", "step": 5, "values": {"__run_graph__x": 1.5}})
        check(not a["ok"] and "graph_tagged_run_metadata" in a["error"], "scalar on it: %r" % a)
        a = c.request({"op": "graph", "logdir": "x", "graph_def": "%%%"})
        check(not a["ok"] and "base64" in a["error"], "bad base64: %r" % a)
        a = c.request({"op": "graph", "logdir": "x", "step": -1, "graph_def": ""})
        check(not a["ok"] and "step" in a["error"], "negative step: %r" % a)
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        b.close()
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    check(not evfile.event_files(os.path.join(d.root, "x")), "refused graphs wrote files")
    # After a restart the files tell the same: the graph's step is known.
    d2 = Daemon(tmp, root=d.root)
    try:
        c = d2.client()
        a = c.request(graph_json("y", 0, 1.5e9, graph_def=good))
        check(not a["ok"] and "already holds a graph" in a["error"], "after restart: %r" % a)
        a = c.request(graph_json("y", 3, 1.5e9, graph_def=good))
        check(a["ok"], "later step: %r" % a)
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        c.close()
    finally:
        rc = d2.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    if td.EVENTLINT:
        td.eventlint(os.path.join(d.root, "y"))


GRAPH_MAX_BYTES = 64 << 20   # lib/graph.h


def test_graph_limit(tmp):
    """A GraphDef of exactly GRAPH_MAX_BYTES is written (through a daemon
    whose --max-line lets it in); one byte more is refused by name."""
    d = Daemon(tmp, "--max-line", "80M")
    try:
        b = tb.Conn(d.sock)
        b.s.settimeout(120)
        b.hello()
        for extra in (0, 1):
            body = GRAPH_MAX_BYTES + extra - 5      # GraphDef.library: key, 4 length bytes
            g = b"\x12" + tb.varint(body) + bytes(body)
            check(len(g) == GRAPH_MAX_BYTES + extra, "size %d" % len(g))
            b.send(tb.frame([graph_request("big", extra, 1.5e9, graph_def=g, rid=1 + extra)]))
            a = b.reply()
            if extra:
                check(not a["ok"] and "the limit is %d" % GRAPH_MAX_BYTES in a["error"],
                      "one byte over: %r" % a)
            else:
                check(a["ok"], "at the limit: %r" % a)
        b.close()
        c = d.client()
        check(c.request({"op": "flush", "sync": True}, timeout=120)["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    files = evfile.event_files(os.path.join(d.root, "big"))["."]
    size = sum(os.path.getsize(f) for f in files)
    check(GRAPH_MAX_BYTES < size < GRAPH_MAX_BYTES + 4096, "%d bytes written" % size)
    for f in files:   # bounded: the test's own 64 MiB, removed with its directory
        os.unlink(f)


TESTS = [test_pr_curves, test_pr_curve_refusals, test_custom_scalars, test_gif_bytes,
         test_gif_frames, test_gif_many_colors, test_mesh, test_graph, test_graph_refusals,
         test_graph_limit]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfdash.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
