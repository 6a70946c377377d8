#!/usr/bin/env python3
"""tfevents collect/export/log/embedding and the newer dashboards: PR
curves, meshes, custom scalar layouts, GIF images and the embedding
projector.

Values written through the real daemon and in-process (tfevents log
--pr-curve/--mesh/--image/--layout, tfevents embedding) come back
from collect --type pr_curve|mesh|layout|projector and from export's
files exactly as computed here; the golden dashboards written by
TensorBoard's own code read back as TensorBoard's routes served them
(skipped with a note when ../shared is absent). Also the --run/--tag/
--view/--precision parser that collect and export share. Graphs and run
metadata (tfevents log --graph/--run-metadata): the golden fixture's bytes
sent again give its Events (all but the wall time) byte for byte.

Usage: test-cli-kinds.py [TEST-NAME-SUBSTRING]"""

import csv
import hashlib
import importlib.util
import json
import math
import os
import random
import struct
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check, Skip = td.Daemon, td.check, td.Skip
evfile = td.evfile

CLI = os.path.abspath(os.environ.get("TFEVENTS_CLI") or
                      os.path.join(td.BUILD, "client", "tfevents"))
GOLDEN = os.path.join(td.SHARED, "golden", "dashboards") if td.SHARED else ""

# A 1x1 GIF89a (white and black palette, one pixel).
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00"
       b"\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def cli(args, want=0, env=None):
    p = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=120, env=env)
    check(p.returncode == want, "tfevents %s exited %d, expected %d: %s%s"
          % (" ".join(args), p.returncode, want, p.stdout[-300:], p.stderr[-500:]))
    return p


def jsonl(args):
    return [json.loads(line) for line in cli(args + ["--format", "jsonl"]).stdout.splitlines()]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def index_of(out):
    rows = read_csv(os.path.join(out, "index.csv"))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def golden():
    if not GOLDEN or not os.path.isdir(GOLDEN):
        raise Skip("../shared/golden/dashboards absent (TFEVENTS_SHARED unset or missing)")
    return GOLDEN


def route(kind, r):
    with open(os.path.join(GOLDEN, kind + ".json")) as f:
        return json.load(f)["routes"][r]


def read_ply(path):
    """(vertices [[x,y,z]], colours [[r,g,b]] or None, faces [[a,b,c]]) of an
    ASCII PLY as export writes it."""
    with open(path) as f:
        lines = f.read().splitlines()
    check(lines[0] == "ply" and lines[1] == "format ascii 1.0", "PLY head %s" % lines[:2])
    end = lines.index("end_header")
    head = lines[:end]
    nv = nf = 0
    for h in head:
        if h.startswith("element vertex "):
            nv = int(h.split()[2])
        if h.startswith("element face "):
            nf = int(h.split()[2])
    coloured = "property uchar red" in head
    body = lines[end + 1:]
    check(len(body) == nv + nf, "PLY body %d lines for %d + %d" % (len(body), nv, nf))
    verts = [[float(x) for x in line.split()[:3]] for line in body[:nv]]
    cols = [[int(x) for x in line.split()[3:]] for line in body[:nv]] if coloured else None
    faces = []
    for line in body[nv:]:
        w = [int(x) for x in line.split()]
        check(w[0] == 3 and len(w) == 4, "PLY face %s" % line)
        faces.append(w[1:])
    return verts, cols, faces


# ---- PR curves as TensorBoard computes and serves them ----------------------

def pr_expected(rows, n):
    """TensorBoard's pr_curve: buckets floor(p * (n-1)) in float32, reverse
    cumulative sums, precision/recall with a 1e-7 floor, float32; then the
    pr_curves route's trailing cut (int(TP) + int(FP) == 0)."""
    tp_b, fp_b = [0.0] * n, [0.0] * n
    for label, p, w in rows:
        b = int(math.floor(f32(f32(p) * f32(n - 1))))
        tp_b[b] += label * w
        fp_b[b] += (1 - label) * w
    tp, fp, acc_t, acc_f = [0.0] * n, [0.0] * n, 0.0, 0.0
    for i in range(n - 1, -1, -1):
        acc_t += tp_b[i]
        acc_f += fp_b[i]
        tp[i], fp[i] = acc_t, acc_f
    out = []
    for i in range(n):
        tn, fn = fp[0] - fp[i], tp[0] - tp[i]
        out.append({"threshold": 1.0 if i == n - 1 else i * (1.0 / (n - 1)),
                    "precision": f32(tp[i] / max(1e-7, tp[i] + fp[i])),
                    "recall": f32(tp[i] / max(1e-7, tp[i] + fn)),
                    "true_positives": f32(tp[i]), "false_positives": f32(fp[i]),
                    "true_negatives": f32(tn), "false_negatives": f32(fn)})
    end = n - 1
    while end > 0 and int(out[end]["true_positives"]) + int(out[end]["false_positives"]) == 0:
        end -= 1
    return out[:end + 1]


PR_KEYS = ["threshold", "precision", "recall", "true_positives", "false_positives",
           "true_negatives", "false_negatives"]


def test_golden_pr_curves(tmp):
    g = golden()
    routes = {r: v for r, v in json.load(open(os.path.join(g, "pr_curves.json")))["routes"].items()
              if r.startswith("/data/plugin/pr_curves/pr_curves?")}
    check(len(routes) == 3, "routes %s" % list(routes))
    out = os.path.join(tmp, "out")
    cli(["export", os.path.join(g, "pr_curves"), "--out", out, "--precision", "full"])
    idx = {(r["run"], r["tag"], r["step"]): r["file"] for r in index_of(out)}
    for r, ans in routes.items():
        q = dict(kv.split("=", 1) for kv in r.split("?", 1)[1].split("&"))
        run, tag = q["run"], q["tag"]
        full = jsonl(["collect", os.path.join(g, "pr_curves"), "--type", "pr_curve", "--run",
                      run, "--tag", tag, "--precision", "full"])
        short = jsonl(["collect", os.path.join(g, "pr_curves"), "--type", "pr_curve", "--run",
                       run, "--tag", tag])
        for e in ans[run]:
            rows = [x for x in full if x["step"] == e["step"]]
            srows = [x for x in short if x["step"] == e["step"]]
            # The trailing cut: as many rows as the route has thresholds.
            check(len(rows) == len(e["thresholds"]) == len(srows),
                  "%s step %d: %d rows, TensorBoard %d" % (tag, e["step"], len(rows),
                                                          len(e["thresholds"])))
            for i, x in enumerate(rows):
                check(x["threshold"] == e["thresholds"][i] and
                      x["precision"] == e["precision"][i] and x["recall"] == e["recall"][i] and
                      x["wall_time"] == e["wall_time"] and x["tag"] == tag and x["run"] == run,
                      "%s step %d row %d: %s vs route" % (tag, e["step"], i, x))
                for k in ("true_positives", "false_positives", "true_negatives",
                          "false_negatives"):
                    check(int(x[k]) == e[k][i], "%s %s[%d]: %s vs %s" % (tag, k, i, x[k], e[k][i]))
                # Shortest: the same float32.
                check(f32(srows[i]["precision"]) == f32(e["precision"][i]) and
                      f32(srows[i]["recall"]) == f32(e["recall"][i]), "shortest %s" % srows[i])
            # export: the same rows as CSV.
            got = read_csv(os.path.join(out, idx[(run, tag, str(e["step"]))]))
            check(got[0] == PR_KEYS, "CSV header %s" % got[0])
            check([[float(c) for c in row] for row in got[1:]] ==
                  [[float(x[k]) for k in PR_KEYS] for x in rows], "CSV of %s step %d"
                  % (tag, e["step"]))


def test_golden_mesh_layout_gif(tmp):
    g = golden()
    # Meshes: a row per name and step; its part counts are the data shapes.
    rows = jsonl(["collect", os.path.join(g, "mesh"), "--type", "mesh"])
    got = {(x["name"], x["step"]): x for x in rows}
    check(len(rows) == 3, "mesh rows %s" % rows)
    for name in ("tetra", "cloud"):
        for e in route("mesh", "/data/plugin/mesh/meshes?run=.&tag=%s&sample=0" % name):
            x = got[(name, e["step"])]
            part = {1: "vertices", 2: "faces", 3: "colors"}[e["content_type"]]
            check(x[part] == e["data_shape"][1] and x["samples"] == e["data_shape"][0] and
                  x["config"] == e["config"] and x["wall_time"] == e["wall_time"],
                  "%s step %d: %s vs %s" % (name, e["step"], x, e))
    check(got[("cloud", 0)]["faces"] == 0 and got[("cloud", 0)]["colors"] == 0, "cloud %s"
          % got[("cloud", 0)])
    # export: a PLY per mesh and step holding what /data serves.
    out = os.path.join(tmp, "mesh")
    cli(["export", os.path.join(g, "mesh"), "--out", out])
    idx = {(r["tag"], r["step"]): r for r in index_of(out)}
    check(sorted(idx) == [("cloud", "0"), ("tetra", "0"), ("tetra", "1")], "index %s"
          % sorted(idx))
    for (name, step), r in idx.items():
        check(r["kind"] == "mesh" and r["file"] == "_root/meshes/%s/step-%s.ply" % (name, step),
              "index row %s" % r)
        verts, cols, faces = read_ply(os.path.join(out, r["file"]))
        data = lambda ct: route("mesh", "/data/plugin/mesh/data?run=.&tag=%s&sample=0&"  # noqa
                                "content_type=%s&step=%s" % (name, ct, step))["decoded"]
        check(sum(verts, []) == data("VERTEX"), "%s %s vertices %s" % (name, step, verts))
        if name == "tetra":
            check(sum(faces, []) == data("FACE") and sum(cols, []) == data("COLOR"),
                  "%s %s faces %s colours %s" % (name, step, faces, cols))
        else:
            check(cols is None and faces == [], "cloud has only vertices")
    # Layouts: a row per chart, as /layout serves them.
    lay = route("custom_scalars", "/data/plugin/custom_scalars/layout")
    want = [(c["title"], c["closed"], ch["title"],
             "multiline" if "multiline" in ch else "margin",
             ch["multiline"]["tag"] if "multiline" in ch else ch["margin"]["series"])
            for c in lay["category"] for ch in c["chart"]]
    rows = jsonl(["collect", os.path.join(g, "custom_scalars"), "--type", "layout"])
    check([(x["category"], x["closed"], x["chart"], x["kind"], x["tags"]) for x in rows] == want,
          "layout rows %s, expected %s" % (rows, want))
    out = os.path.join(tmp, "layout")
    cli(["export", os.path.join(g, "custom_scalars"), "--out", out])
    lj = [r for r in index_of(out) if r["kind"] == "layout"]
    check(len(lj) == 1 and lj[0]["tag"] == "custom_scalars__config__", "layout index %s" % lj)
    with open(os.path.join(out, lj[0]["file"])) as f:
        exported = json.load(f)
    for c in exported["category"]:
        c.setdefault("closed", False)
    check(exported["category"] == lay["category"], "layout JSON %s" % exported)
    # GIF: exported as .gif with the bytes TensorBoard serves.
    out = os.path.join(tmp, "gif")
    cli(["export", os.path.join(g, "gif"), "--out", out])
    for r in index_of(out):
        check(r["kind"] == "image" and r["file"].endswith(".gif"), "gif index %s" % r)
        with open(os.path.join(out, r["file"]), "rb") as f:
            data = f.read()
        served = route("gif", "/data/plugin/images/individualImage (step %s)" % r["step"])
        check(hashlib.sha256(data).hexdigest() == served["sha256"], "gif bytes differ")


def test_golden_projector(tmp):
    g = golden()
    info = route("projector", "/data/plugin/projector/info?run=.")["embeddings"]
    rows = jsonl(["collect", os.path.join(g, "projector"), "--type", "projector"])
    meta = route("projector", "/data/plugin/projector/metadata?run=.&name=words")["text"]
    check([(x["run"], x["tensor_name"], x["shape"], x["tensor_path"], x["metadata_path"],
            x["metadata_columns"]) for x in rows] ==
          [(".", e["tensorName"], e["tensorShape"], e["tensorPath"], e["metadataPath"],
            meta.splitlines()[0].replace("\t", ",")) for e in info], "projector rows %s" % rows)
    out = os.path.join(tmp, "out")
    cli(["export", os.path.join(g, "projector"), "--out", out])
    idx = {r["kind"]: r for r in index_of(out) if r["kind"] != "image"}
    check(idx["embedding"]["file"] == "_root/projector/words/tensors.tsv" and
          idx["embedding_metadata"]["tag"] == "words" and "projector_config" in idx,
          "index %s" % idx)
    with open(os.path.join(out, idx["embedding"]["file"])) as f:
        tensor = [[float(c) for c in line.split("\t")] for line in f.read().splitlines()]
    check(tensor == route("projector", "/data/plugin/projector/tensor?run=.&name=words")
          ["decoded_float32"], "tensor copy %s" % tensor)
    with open(os.path.join(out, idx["embedding_metadata"]["file"])) as f:
        check(f.read() == meta, "metadata copy")
    # The exported config names the copies; collect reads it back.
    rows = jsonl(["collect", os.path.join(out, "_root", "projector"), "--type", "projector"])
    check([(x["tensor_name"], x["shape"], x["tensor_path"]) for x in rows] ==
          [("words", [5, 4], "words/tensors.tsv")], "exported config %s" % rows)


# ---- our own writes ---------------------------------------------------------

def write_files(tmp):
    rnd = random.Random(7)
    rows = [(rnd.random() < 0.5, rnd.random(), 2.0 if i % 3 == 0 else 1.0) for i in range(60)]
    pr = os.path.join(tmp, "pr.csv")
    with open(pr, "w") as f:
        f.write("label,prediction,weight\n")
        for lab, p, w in rows:
            f.write("%s,%r,%g\n" % ("true" if lab else "0", p, w))
    obj = os.path.join(tmp, "pyr.obj")
    with open(obj, "w") as f:
        f.write("# a pyramid\nv 0 0 0 1 0 0\nv 1.5 0 0 0 1 0\nv 0 1.25 0 0 0 1\nv 0 0 2 1 1 1\n"
                "f 1 3 2\nf 1/1/1 2/1/1 4/1/1\nf -4 -3 -2 -1\n")
    gif = os.path.join(tmp, "one.gif")
    with open(gif, "wb") as f:
        f.write(GIF)
    tsv = os.path.join(tmp, "vec.tsv")
    with open(tsv, "w") as f:
        f.write("0.5\t-1\t2\n0.25\t0\t1e-3\n")
    meta = os.path.join(tmp, "labels.tsv")
    with open(meta, "w") as f:
        f.write("word\tcount\ncat\t3\ndog\t5\n")
    return [(1 if lab else 0, p, w) for lab, p, w in rows], pr, obj, gif, tsv, meta


PYR_VERTS = [[0, 0, 0], [1.5, 0, 0], [0, 1.25, 0], [0, 0, 2]]
PYR_FACES = [[0, 2, 1], [0, 1, 3], [0, 1, 2], [0, 2, 3]]    # the quad is split in two
PYR_COLS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]


def check_written(tmp, logdir, rows, step):
    # PR curve: the values computed here, a row per threshold kept.
    got = jsonl(["collect", logdir, "--type", "pr_curve", "--precision", "full"])
    want = pr_expected(rows, 11)
    check(len(got) == len(want), "%d PR rows, expected %d" % (len(got), len(want)))
    for x, w in zip(got, want):
        check((x["run"], x["tag"], x["step"]) == ("eval", "pr", step), "PR row %s" % x)
        for k in PR_KEYS:
            check(x[k] == w[k], "PR %s: %r, expected %r" % (k, x[k], w[k]))
    # -n counts rows.
    check(len(cli(["collect", logdir, "--type", "pr_curve", "-n", "3", "--format", "csv"])
              .stdout.splitlines()) == 4, "-n 3")
    # Mesh: one row for its three parts (written as three events).
    m = jsonl(["collect", logdir, "--type", "mesh"])
    check([(x["run"], x["name"], x["step"], x["samples"], x["vertices"], x["faces"],
            x["colors"], x["config"]) for x in m] ==
          [(".", "pyr", step, 1, 4, 4, 4, '{"camera":{"fov":50}}')], "mesh rows %s" % m)
    layout = jsonl(["collect", logdir, "--type", "layout"])
    check([(x["category"], x["closed"], x["chart"], x["kind"], x["tags"]) for x in layout] ==
          [("losses", True, "both", "multiline", ["loss/.*"]),
           ("losses", True, "band", "margin", [{"value": "m", "lower": "lo", "upper": "hi"}])],
          "layout rows %s" % layout)
    proj = jsonl(["collect", logdir, "--type", "projector", "--run", "emb"])
    check([(x["run"], x["tensor_name"], x["shape"], x["metadata_columns"]) for x in proj] ==
          [("emb", "vec:00009", [2, 3], "word,count")], "projector rows %s" % proj)
    summ = jsonl(["collect", logdir, "--type", "summary", "--tag", "one"])
    check(len(summ) == 1 and summ[0]["value"]["width"] == 1 and
          summ[0]["value"]["sha256"] == [hashlib.sha256(GIF).hexdigest()], "gif %s" % summ)
    td.eventlint(logdir)

    out = os.path.join(tmp, "out-" + os.path.basename(logdir))
    p = cli(["export", logdir, "--out", out])
    check("1 PR curves, 1 meshes, 1 layouts, 1 embeddings" in p.stdout, "export %r" % p.stdout)
    idx = {r["kind"]: r for r in index_of(out)}
    verts, cols, faces = read_ply(os.path.join(out, idx["mesh"]["file"]))
    check((verts, cols, faces) == (PYR_VERTS, PYR_COLS, PYR_FACES), "PLY %s %s %s"
          % (verts, cols, faces))
    check(idx["mesh"]["file"] == "_root/meshes/pyr/step-%d.ply" % step, "mesh file %s"
          % idx["mesh"])
    with open(os.path.join(out, idx["image"]["file"]), "rb") as f:
        check(idx["image"]["file"].endswith(".gif") and f.read() == GIF, "gif export")
    csvrows = read_csv(os.path.join(out, idx["pr_curve"]["file"]))
    check([[f32(float(c)) for c in r] for r in csvrows[1:]] ==
          [[f32(w[k]) for k in PR_KEYS] for w in want], "PR CSV %s" % csvrows[:3])
    with open(os.path.join(out, idx["embedding"]["file"])) as f:
        check([[f32(float(c)) for c in line.split("\t")] for line in f.read().splitlines()] ==
              [[0.5, -1, 2], [0.25, 0, f32(1e-3)]], "embedding copy")
    check(idx["embedding"]["step"] == "9" and idx["embedding"]["run"] == "emb", "embedding %s"
          % idx["embedding"])
    # The exported mesh logs back to the same mesh.
    again = os.path.join(tmp, "again")
    cli(["log", "--embedded", "--logdir", again, "--step", "1", "--mesh",
         "pyr=" + os.path.join(out, idx["mesh"]["file"])])
    m2 = jsonl(["collect", again, "--type", "mesh"])
    check([(x["vertices"], x["faces"], x["colors"]) for x in m2] == [(4, 4, 4)], "again %s" % m2)


def write_kinds(tmp, logdir, mode, sock=None):
    rows, pr, obj, gif, tsv, meta = write_files(tmp)
    base = ["--logdir", logdir, mode] + (["--socket", sock] if sock else [])
    env = dict(os.environ)
    env.pop("TFEVENTS_MODE", None)
    cli(["log"] + base + ["--step", "4", "--pr-curve", "eval/pr=" + pr, "--thresholds", "11",
                          "--mesh", "pyr=" + obj, "--mesh-config", '{"camera":{"fov":50}}',
                          "--image", "one=" + gif, "loss=0.5"], env=env)
    layout = {"categories": [{"title": "losses", "closed": True, "charts": [
        {"title": "both", "multiline": ["loss/.*"]},
        {"title": "band", "margin": [{"value": "m", "lower": "lo", "upper": "hi"}]}]}]}
    lfile = os.path.join(tmp, "layout.json")
    with open(lfile, "w") as f:
        json.dump(layout, f)
    cli(["log"] + base + ["--step", "4", "--layout", lfile], env=env)
    cli(["embedding"] + base + ["--run", "emb", "--step", "9", "--metadata", meta, "vec", tsv],
        env=env)
    return rows


def test_daemon_writes(tmp):
    d = Daemon(tmp)
    logdir = os.path.join(d.root, "k")
    rows = write_kinds(tmp, logdir, "--daemon", d.sock)
    cli(["flush", "--socket", d.sock, "--daemon"])
    check_written(tmp, logdir, rows, 4)
    # A restart at step 3 (SessionLog START): TensorBoard drops step 4; the
    # view shows only the curve and mesh logged again at 3, raw shows both.
    env = dict(os.environ)
    env.pop("TFEVENTS_MODE", None)
    base = ["--logdir", logdir, "--daemon", "--socket", d.sock]
    cli(["restart", "3"] + base, env=env)
    cli(["log"] + base + ["--step", "3", "--pr-curve", "eval/pr=" + os.path.join(tmp, "pr.csv"),
                          "--thresholds", "5", "--mesh", "pyr=" + os.path.join(tmp, "pyr.obj")],
        env=env)
    cli(["flush", "--socket", d.sock, "--daemon"])
    for view, steps in (("raw", [4, 3]), ("tensorboard", [3])):
        pr = jsonl(["collect", logdir, "--type", "pr_curve", "--view", view])
        check(sorted(set(x["step"] for x in pr), reverse=True) == steps and
              len([x for x in pr if x["step"] == 3]) == len(pr_expected(rows, 5)),
              "--view %s: PR steps %s" % (view, [x["step"] for x in pr]))
        m = jsonl(["collect", logdir, "--type", "mesh", "--view", view])
        check([(x["step"], x["vertices"], x["faces"]) for x in m] == [(s, 4, 4) for s in steps],
              "--view %s: meshes %s" % (view, m))
    check(d.stop() == 0, "daemon exit status")


def test_embedded_writes(tmp):
    logdir = os.path.join(tmp, "root", "k")
    os.makedirs(logdir)
    rows = write_kinds(tmp, logdir, "--embedded")
    check_written(tmp, logdir, rows, 4)


def test_refusals(tmp):
    """Bad files are refused before anything is written; the shared filter
    options give the same errors in collect and export."""
    logdir = os.path.join(tmp, "l")
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("1 0.5\n0 x\n")
    outside = os.path.join(tmp, "p.csv")
    with open(outside, "w") as f:
        f.write("1 1.5\n")
    tsv = os.path.join(tmp, "v.tsv")
    with open(tsv, "w") as f:
        f.write("1\t2\n3\t4\n")
    cut = os.path.join(tmp, "cut.obj")    # a face field ending in '/' (read past once)
    with open(cut, "w") as f:
        f.write("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1/")
    jbad = os.path.join(tmp, "bad.json")
    with open(jbad, "w") as f:
        json.dump({"categories": [{"title": "t", "charts": [{"title": "c"}]}]}, f)
    one = os.path.join(tmp, "one.tsv")
    with open(one, "w") as f:
        f.write("a\n")
    cases = [(["log", "--embedded", "--logdir", logdir, "--pr-curve", "a=" + bad], 2, "bad.csv:2"),
             (["log", "--embedded", "--logdir", logdir, "--pr-curve",
               "a=" + os.path.join(tmp, "none")], 3, "No such file"),
             (["log", "--embedded", "--logdir", logdir, "--image", "a=" + bad], 2,
              "not a PNG, JPEG or GIF"),
             (["log", "--embedded", "--logdir", logdir, "--mesh", "a=" + tsv], 2, "no vertices"),
             (["log", "--embedded", "--logdir", logdir, "--thresholds", "1", "--pr-curve",
               "a=" + bad], 2, "--thresholds"),
             (["log", "--embedded", "--logdir", logdir, "--mesh", "a=" + cut], 2, "cut.obj:4"),
             (["log", "--embedded", "--logdir", logdir, "--layout", tsv], 2, "not JSON"),
             (["log", "--embedded", "--logdir", logdir, "--layout", jbad], 2, "a chart is"),
             (["embedding", "--embedded", "--logdir", logdir, "--metadata", one, "t", tsv], 2,
              "1 labels for 2 points"),
             (["embedding", "--embedded", "--logdir", logdir, "--sprite", tsv, "t", tsv], 2,
              "--sprite-size")]
    for args, want, say in cases:
        p = cli(args, want=want)
        check(say in p.stderr, "%s: %r" % (args, p.stderr))
    check(not os.path.exists(logdir), "a refused command wrote in %s" % logdir)
    # A prediction outside [0, 1]: refused by the library, nothing written.
    p = cli(["log", "--embedded", "--logdir", logdir, "--pr-curve", "a=" + outside], want=1)
    check("[0, 1]" in p.stderr or "prediction" in p.stderr, "outside: %r" % p.stderr)
    for cmd in (["collect", tmp], ["export", tmp, "--out", os.path.join(tmp, "o")]):
        for opt, val, say in (("--view", "rust", "unknown --view 'rust' (raw, tensorboard)"),
                              ("--precision", "half", "unknown --precision 'half'")):
            p = cli(cmd + [opt, val], want=2)
            check(("%s: %s" % (cmd[0], say)) in p.stderr, "%s %s: %r" % (cmd, opt, p.stderr))
    cli(["collect", tmp, "--type", "projector", "--view", "tensorboard"], want=2)
    cli(["collect", tmp, "--type", "any", "--tag", "x"], want=2)
    check(not os.path.exists(os.path.join(tmp, "o")), "a refused export made --out")


def test_limits(tmp):
    """The named limits of the file readers (client/cli_parse.c), each
    reached through the CLI with its sentence and exit status 2, nothing
    written: MESH_LINE_MAX_FIELDS (64 numbers on a PLY or OBJ line),
    EMB_MAX_LINES (2^24 lines of a TSV: a file of 16 MiB newlines, and one
    less is within it) and EMB_MAX_CELLS (2^26 metadata cells, from 8193
    rows of 8193 columns: 32 KiB of tabs and lines). A tensor past
    EMB_MAX_CELLS needs a file of 128 MiB: tests/test-cli_parse.c holds
    the tensor to small limits instead."""
    logdir = os.path.join(tmp, "l")
    log = ["log", "--embedded", "--logdir", logdir]
    emb = ["embedding", "--embedded", "--logdir", logdir]
    obj = os.path.join(tmp, "fan.obj")
    with open(obj, "w") as f:
        f.write("".join("v %d 0 %d\n" % (i, i * i) for i in range(65)))
        f.write("f %s\n" % " ".join(str(i + 1) for i in range(64)))
    cli(log + ["--mesh", "fan=" + obj])   # 64 numbers: a fan of 62 triangles
    with open(obj, "a") as f:
        f.write("f %s\n" % " ".join(str(i + 1) for i in range(65)))
    ply = os.path.join(tmp, "wide.ply")
    with open(ply, "w") as f:
        f.write("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                "property float y\nproperty float z\nend_header\n%s\n" % " ".join(["0"] * 65))
    lines = os.path.join(tmp, "lines.tsv")
    with open(lines, "wb") as f:
        f.write(b"\n" * ((1 << 24) + 1))
    one = os.path.join(tmp, "one.tsv")
    with open(one, "w") as f:
        f.write("1\n" * 8193)
    wide = os.path.join(tmp, "wide.tsv")
    with open(wide, "w") as f:
        f.write("\t".join(["c"] * 8193) + "\n" + "x\n" * 8193)
    cases = [(log + ["--mesh", "b=" + obj], "fan.obj:67: more than 64 numbers on a line"),
             (log + ["--mesh", "b=" + ply], "wide.ply:8: more than 64 numbers on a line"),
             (emb + ["t", lines], "lines.tsv: more than 16777216 lines"),
             (emb + ["--metadata", lines, "t", one], "lines.tsv: more than 16777216 lines"),
             (emb + ["--metadata", wide, "t", one],
              "wide.tsv: 8193 rows of 8193 columns: more than 67108864 cells")]
    for args, say in cases:
        p = cli(args, want=2)
        check(say in p.stderr, "%s: %r" % (args[-1], p.stderr))
    # One line less is within EMB_MAX_LINES: the lines are read, and found
    # blank.
    os.truncate(lines, 1 << 24)
    p = cli(emb + ["t", lines], want=2)
    check("lines.tsv: no numbers" in p.stderr, "2^24 lines: %r" % p.stderr)
    os.unlink(lines)
    # Only the first mesh was logged, its polygon split into 62 triangles.
    m = jsonl(["collect", logdir, "--type", "mesh"])
    check([(x["name"], x["vertices"], x["faces"]) for x in m] == [("fan", 65, 62)],
          "meshes %s" % m)
    check(not os.path.exists(os.path.join(logdir, "t")) and
          jsonl(["collect", logdir, "--type", "projector"]) == [],
          "a refused embedding was written")


def test_projector_outside(tmp):
    """A projector config naming files outside its run directory (an
    absolute path, '..', a symbolic link): collect lists them without
    reading them, export copies nothing of them."""
    logdir = os.path.join(tmp, "logs")
    run = os.path.join(logdir, "r")
    os.makedirs(run)
    secret = os.path.join(tmp, "secret.tsv")
    with open(secret, "w") as f:
        f.write("1\t2\t3\n")
    os.symlink(secret, os.path.join(run, "link.tsv"))
    with open(os.path.join(run, "ok.tsv"), "w") as f:
        f.write("1\t2\n3\t4\n5\t6\n")
    with open(os.path.join(run, "projector_config.pbtxt"), "w") as f:
        for name, path in (("abs", secret), ("up", "../../secret.tsv"), ("link", "link.tsv"),
                           ("ok", "ok.tsv")):
            f.write('embeddings {\n  tensor_name: "%s"\n  tensor_path: "%s"\n}\n' % (name, path))
    rows = jsonl(["collect", logdir, "--type", "projector"])
    check([(x["run"], x["tensor_name"], x["shape"]) for x in rows] ==
          [("r", "abs", None), ("r", "up", None), ("r", "link", None), ("r", "ok", [3, 2])],
          "rows %s" % rows)
    out = os.path.join(tmp, "out")
    p = cli(["export", logdir, "--out", out])
    check(p.stderr.count("outside its run directory") == 3, "stderr %r" % p.stderr)
    files = sorted(os.path.relpath(os.path.join(r, f), out) for r, _, fs in os.walk(out)
                   for f in fs)
    check(files == ["index.csv", "r/projector/ok/tensors.tsv",
                    "r/projector/projector_config.pbtxt"], "files %s" % files)
    check(sorted(os.listdir(os.path.join(out, "r", "projector"))) ==
          ["ok", "projector_config.pbtxt"], "dirs %s" % os.listdir(os.path.join(out, "r")))
    check([x["tensor_name"] for x in jsonl(["collect", os.path.join(out, "r", "projector"),
                                             "--type", "projector"])] == ["ok"],
          "the exported config lists what was copied")
    check("0 PR curves, 0 meshes, 0 layouts, 1 embeddings" in p.stdout, "count %r" % p.stdout)
    # A config that does not parse is said, and collect's status is 1.
    with open(os.path.join(run, "projector_config.pbtxt"), "w") as f:
        f.write("embeddings { tensor_name: \n")
    p = cli(["collect", logdir, "--type", "projector"], want=1)
    check("projector_config.pbtxt" in p.stderr, "stderr %r" % p.stderr)


# ---- graphs and run metadata ------------------------------------------------

# A GraphDef of one node "x" (op Placeholder), and a RunMetadata holding an
# empty StepStats: small valid messages for the parts that need no fixture.
TINY_GRAPH = b"\x0a\x10\x0a\x01x\x12\x0bPlaceholder"
TINY_RUN_METADATA = b"\x0a\x00"


def golden_graph_events():
    """The fixture's graph_def and tagged_run_metadata Event payloads."""
    d = os.path.join(golden(), "graph")
    (name,) = [n for n in os.listdir(d) if "tfevents" in n]
    payloads = list(evfile.records(os.path.join(d, name)))
    def_ev = [p for p in payloads if 4 in evfile.fields(p)]
    md_ev = [p for p in payloads if 8 in evfile.fields(p)]
    check(len(def_ev) == 1 and len(md_ev) == 1, "fixture: one graph and one run metadata")
    return def_ev[0], md_ev[0]


def run_events(logdir, run):
    """Payloads of run's event files other than the file_version record."""
    files = evfile.event_files(logdir).get(run, [])
    check(files, "no event file of run %s in %s" % (run, logdir))
    return [p for f in files for p in evfile.records(f) if 3 not in evfile.fields(p)]


def without_wall_time(payload):
    """An Event's bytes after its wall_time (field 1, a double: 9 bytes,
    first as every writer puts it); the CLI logs at the time it runs."""
    check(payload[:1] == b"\x09", "wall_time is not the Event's first field: %r" % payload[:12])
    return payload[9:]


def write_graph_files(tmp, gdef, gmd):
    fd, fm = evfile.fields(gdef), evfile.fields(gmd)
    trm = evfile.fields(fm[8][0])
    gfile, mfile = os.path.join(tmp, "model.pb"), os.path.join(tmp, "trace.pb")
    with open(gfile, "wb") as f:
        f.write(fd[4][0])
    with open(mfile, "wb") as f:
        f.write(trm[2][0])
    return gfile, mfile, trm[1][0].decode(), fm.get(2, [0])[0], fd, trm


def graph_golden(tmp, mode, logdir, sock=None):
    """Send the fixture's graph (its step 0: the fresh logdir's current
    step) and run metadata (--step 1) and compare the Events."""
    gdef, gmd = golden_graph_events()
    gfile, mfile, mtag, mstep, fd, trm = write_graph_files(tmp, gdef, gmd)
    check(mstep == 1 and 2 not in evfile.fields(gdef), "fixture steps: graph 0, metadata 1")
    base = ["--logdir", logdir, mode] + (["--socket", sock] if sock else [])
    env = dict(os.environ)
    env.pop("TFEVENTS_MODE", None)
    p = cli(["log"] + base + ["--graph", gfile, "--print-step"], env=env)
    check(p.stdout == "0\n", "graph step %r" % p.stdout)
    cli(["log"] + base + ["--step", str(mstep), "--run-metadata", "%s=%s" % (mtag, mfile)],
        env=env)
    # --run and --step with a value beside: both at step 7 of run "train".
    p = cli(["log"] + base + ["--run", "train", "--step", "7", "--graph", gfile,
                              "--run-metadata", "%s=%s" % (mtag, mfile), "loss=2", "-p"],
            env=env)
    check(p.stdout == "7\n", "--step 7 printed %r" % p.stdout)
    # No --step: at the step the values were logged at (the counter's next).
    p = cli(["log"] + base + ["--run", "ev", "--graph", gfile, "x=1", "-p"], env=env)
    nstep = int(p.stdout)
    # A second graph of run "train" at step 7: refused, exit 1, said.
    p = cli(["log"] + base + ["--run", "train", "--step", "7", "--graph", gfile], want=1,
            env=env)
    check("already holds a graph" in p.stderr, "second graph: %r" % p.stderr)
    if sock:
        cli(["flush", "--socket", sock, "--daemon"])
    ours = run_events(logdir, ".")
    check([without_wall_time(x) for x in ours] == [without_wall_time(gdef), without_wall_time(gmd)],
          "%s: our Events differ from the fixture's: %r" % (mode, ours))
    train = run_events(logdir, "train")
    kinds = sorted(k for x in train for k in evfile.fields(x) if k in (4, 8, 5))
    check(kinds == [4, 5, 8] and all(evfile.fields(x).get(2, [0])[0] == 7 for x in train),
          "%s: run train %r" % (mode, [evfile.fields(x) for x in train]))
    ev = run_events(logdir, "ev")
    check(len(ev) == 2 and {evfile.fields(x).get(2, [0])[0] for x in ev} == {nstep},
          "%s: run ev at step %d: %r" % (mode, nstep, [evfile.fields(x) for x in ev]))
    td.eventlint(logdir)
    rows = [r for r in jsonl(["collect", logdir, "--type", "summary"]) if r["run"] == "."]
    check([(r["tag"], r["step"], r["plugin"], r["value"]) for r in rows] ==
          [("__run_graph__", 0, "graphs", {"kind": "graph", "nodes": 4, "bytes": len(fd[4][0])}),
           (mtag, 1, "graph_tagged_run_metadata",
            {"kind": "run_metadata", "nodes": 2, "bytes": len(trm[2][0])})],
          "%s: collect %r" % (mode, rows))


def test_graph_daemon(tmp):
    d = Daemon(tmp)
    try:
        graph_golden(tmp, "--daemon", os.path.join(d.root, "g"), d.sock)
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def test_graph_embedded(tmp):
    logdir = os.path.join(tmp, "root", "g")
    os.makedirs(logdir)
    graph_golden(tmp, "--embedded", logdir)


def test_graph_refusals(tmp):
    """Files that do not parse (or are missing, empty, a directory) are
    refused before anything is opened or sent, in both modes; a valid
    graph beside them changes nothing."""
    files = {"good.pb": TINY_GRAPH, "md.pb": TINY_RUN_METADATA,
             "utf8.pb": b"\x0a\x05\x0a\x01\xffxx",       # node name not UTF-8
             "cut.pb": TINY_GRAPH[:-1], "varint.pb": b"\x08\x03", "empty.pb": b""}
    for n, b in files.items():
        with open(os.path.join(tmp, n), "wb") as f:
            f.write(b)
    f = {n: os.path.join(tmp, n) for n in files}
    f["huge.pb"] = os.path.join(tmp, "huge.pb")
    with open(f["huge.pb"], "wb") as fh:
        fh.truncate((256 << 20) + 1)      # sparse: no disk used
    d = Daemon(tmp)
    try:
        for mode in ("--daemon", "--embedded"):
            logdir = os.path.join(d.root, "r" + mode[2])
            base = ["log", "--logdir", logdir, mode, "--socket", d.sock]
            cases = [(["--graph", f["utf8.pb"]], 2, "utf8.pb does not parse as a GraphDef"),
                     (["--graph", f["cut.pb"]], 2, "cut.pb does not parse as a GraphDef"),
                     (["--graph", f["varint.pb"]], 2, "does not parse as a GraphDef"),
                     (["--run-metadata", "t=" + f["utf8.pb"]], 2,
                      "does not parse as a RunMetadata"),
                     (["--graph", f["empty.pb"]], 2, "empty.pb is empty"),
                     (["--graph", os.path.join(tmp, "none.pb")], 3, "No such file"),
                     (["--run-metadata", "t=" + os.path.join(tmp, "none.pb")], 3,
                      "No such file"),
                     (["--graph", tmp], 2, "not a regular file"),
                     # CLI_LOG_MAX_FILE (256 MiB) is the most a file may hold.
                     (["--graph", f["huge.pb"]], 2, "huge.pb: larger than 256 MiB"),
                     (["--run-metadata", f["md.pb"]], 2, "is not NAME=FILE"),
                     (["--run-metadata", "a/=" + f["md.pb"]], 2, "has an empty tag")]
            for args, want, say in cases:
                p = cli(base + ["--graph", f["good.pb"], "x=1"] + args, want=want)
                check(say in p.stderr, "%s %s: %r" % (mode, args, p.stderr))
            check(not os.path.exists(logdir), "%s: a refused command wrote in %s"
                  % (mode, logdir))
            # The valid ones alone are logged; the tag __run_graph__ is the
            # graph's, refused for a run metadata (exit 1, said).
            cli(base + ["--graph", f["good.pb"], "--run-metadata", "t=" + f["md.pb"]])
            p = cli(base + ["--step", "3", "--run-metadata", "__run_graph__=" + f["md.pb"]],
                    want=1)
            check("__run_graph__" in p.stderr, "%s: %r" % (mode, p.stderr))
            cli(["flush", "--socket", d.sock, "--daemon"])
            rows = jsonl(["collect", logdir, "--type", "summary"])
            check([(r["tag"], r["step"], r["value"]["kind"]) for r in rows] ==
                  [("__run_graph__", 0, "graph"), ("t", 0, "run_metadata")],
                  "%s: %r" % (mode, rows))
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


TESTS = [test_golden_pr_curves, test_golden_mesh_layout_gif, test_golden_projector,
         test_daemon_writes, test_embedded_writes, test_refusals, test_limits,
         test_projector_outside,
         test_graph_daemon, test_graph_embedded, test_graph_refusals]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    for what, path in (("daemon", td.DAEMON), ("tfevents", CLI)):
        if not os.path.exists(path):
            print("%s not found at %s" % (what, path))
            return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfk.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
