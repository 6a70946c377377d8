#!/usr/bin/env python3
"""tfeventsd: op "embedding" (issue 19), the embedding projector's files.

- golden: the fixture TensorBoard's projector read (golden/dashboards/
  projector: projector_config.pbtxt, tensors.tsv, metadata.tsv) sent as an
  embedding; our config parses to the same embedding (shape, tensor and
  metadata paths that exist), our tensor TSV holds the same float32
  matrix, our metadata TSV is the same text; with a sprite PNG, its image
  path and single_image_dim; eventlint --strict clean on the logdir.
- adds: a second embedding (later step, other tag) adds to the config and
  leaves the first one's files; the same tag and step replaces its entry.
- hostile: tags like ../x, a run directory that is a symbolic link, a
  config that is a link, malformed tensors: refused, nothing written
  outside the root.
Skips the golden comparison with a note when TFEVENTS_SHARED is absent.
Standard library only; the harness is test-daemon.py's.
Usage: test-projector.py [TEST-NAME-SUBSTRING]"""

import base64
import importlib.util
import os
import re
import struct
import sys
import zlib

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Daemon, check = td.Daemon, td.check

GOLDEN = os.path.join(td.SHARED, "golden", "dashboards", "projector") if td.SHARED else ""


def parse_pbtxt(text):
    """A ProjectorConfig's embeddings as dicts (repeated fields as lists);
    enough of the text format for the fields the projector reads."""
    toks = re.findall(r'"(?:[^"\\]|\\.)*"|[A-Za-z_]\w*|\d+|[{}:]', text)
    out, stack, i = [], [], 0
    cur = None
    while i < len(toks):
        t = toks[i]
        if t == "}":
            done = stack.pop()
            cur = stack[-1] if stack else None
            i += 1
            continue
        name = t
        i += 1
        if toks[i] == ":":
            i += 1
        if toks[i] == "{":
            node = {}
            if cur is None:
                out.append(node)
            else:
                cur[name] = node
            stack.append(node)
            cur = node
            i += 1
            continue
        v = toks[i]
        i += 1
        v = bytes(v[1:-1], "utf-8").decode("unicode_escape") if v.startswith('"') else int(v)
        if name in ("tensor_shape", "single_image_dim"):
            cur.setdefault(name, []).append(v)
        else:
            cur[name] = v
    return out


def read(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


def tsv_floats(b):
    return [[struct.unpack("<f", struct.pack("<f", float(x)))[0] for x in line.split("\t")]
            for line in b.decode().splitlines()]


def png(w, h):
    """An RGB PNG of w x h (a gradient), written here with zlib."""
    raw = b"".join(b"\0" + b"".join(bytes((x * 7 % 256, y * 11 % 256, 128)) for x in range(w))
                   for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run_requests(tmp, msgs):
    """A daemon; each (message, expect_ok) sent; the replies."""
    d = Daemon(tmp)
    replies = []
    try:
        c = d.client()
        for m, ok in msgs:
            a = c.request(m)
            check(bool(a.get("ok")) == ok, "%s: %r for %s" % ("refused" if ok else "accepted",
                                                             a, str(m)[:200]))
            replies.append(a)
        check(c.request({"op": "flush", "sync": True})["ok"], "flush")
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    return d.root, replies


def test_golden(tmp):
    if not GOLDEN or not os.path.isdir(GOLDEN):
        raise td.Skip("golden/dashboards/projector absent (TFEVENTS_SHARED unset)")
    gconf = parse_pbtxt(read(GOLDEN, "projector_config.pbtxt").decode())
    check(len(gconf) == 1, "golden config: %r" % gconf)
    g = gconf[0]
    gtensor = tsv_floats(read(GOLDEN, g["tensor_path"]))
    gmeta = read(GOLDEN, g["metadata_path"]).decode()
    lines = [l.split("\t") for l in gmeta.splitlines()]
    sprite = png(3 * 4, 3 * 5)   # a 3 x 3 grid of 4 x 5 images for 5 points
    emb = {"tag": g["tensor_name"], "tensor": gtensor,
           "metadata": {"header": lines[0], "rows": lines[1:]},
           "sprite": {"png": base64.b64encode(sprite).decode(), "single_image_dim": [4, 5]}}
    msgs = [({"logdir": "p", "step": s, "values": {"loss": 0.5 - s / 10}}, True) for s in (0, 1)]
    msgs.append(({"op": "embedding", "logdir": "p", "step": 1, "embedding": emb}, True))
    root, replies = run_requests(tmp, msgs)
    check(replies[-1].get("step") == 1, "reply: %r" % replies[-1])
    run = os.path.join(root, "p")
    conf = parse_pbtxt(read(run, "projector_config.pbtxt").decode())
    check(len(conf) == 1, "our config: %r" % conf)
    e = conf[0]
    check(e["tensor_name"] == "%s:00001" % g["tensor_name"], "tensor_name %r" % e)
    check(e["tensor_shape"] == g["tensor_shape"], "shape %r vs %r" % (e, g))
    check(e["tensor_path"] == "00001/words/tensors.tsv", "tensor_path %r" % e)
    check(tsv_floats(read(run, e["tensor_path"])) == gtensor, "tensors differ")
    check(read(run, e["metadata_path"]).decode() == gmeta, "metadata differs")
    check(e["sprite"]["single_image_dim"] == [4, 5], "sprite dims %r" % e)
    check(read(run, e["sprite"]["image_path"]) == sprite, "sprite bytes differ")
    td.eventlint(root)


def test_adds(tmp):
    def emb(tag, n, d, labels=True):
        e = {"tag": tag, "tensor": [[i + j / 8 for j in range(d)] for i in range(n)]}
        if labels:
            e["metadata"] = ["p%d" % i for i in range(n)]
        return e
    msgs = [({"logdir": "a", "values": {"r": {"x": 1}}}, True),
            ({"op": "embedding", "logdir": "a", "run": "r", "embedding": emb("e", 3, 2)}, True),
            ({"op": "embedding", "logdir": "a", "run": "r", "step": 7,
              "embedding": emb("e", 4, 2)}, True),
            ({"op": "embedding", "logdir": "a", "run": "r", "step": 7,
              "embedding": emb("f", 2, 5, labels=False)}, True),
            # The same tag and step again: replaces its entry, adds none.
            ({"op": "embedding", "logdir": "a", "run": "r", "step": 7,
              "embedding": emb("e", 5, 2)}, True)]
    root, _ = run_requests(tmp, msgs)
    run = os.path.join(root, "a", "r")
    conf = parse_pbtxt(read(run, "projector_config.pbtxt").decode())
    names = [e["tensor_name"] for e in conf]
    check(names == ["e:00000", "e:00007", "f:00007"], "names %r" % names)
    check(conf[1]["tensor_shape"] == [5, 2], "replaced entry %r" % conf[1])
    check("metadata_path" not in conf[2], "f has no metadata: %r" % conf[2])
    # The first embedding's files are still there and whole.
    check(tsv_floats(read(run, "00000/e/tensors.tsv")) ==
          [[i + j / 8 for j in range(2)] for i in range(3)], "first tensor")
    check(read(run, "00000/e/metadata.tsv") == b"p0\np1\np2\n", "one column: no header")
    leftovers = [f for _, _, fs in os.walk(run) for f in fs if ".tmp." in f]
    check(not leftovers, "temporary files left: %r" % leftovers)
    td.eventlint(root)


def test_hostile(tmp):
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    root = os.path.join(tmp, "logs")
    os.makedirs(os.path.join(root, "ld"))
    os.symlink(outside, os.path.join(root, "ld", "linked"))
    os.makedirs(os.path.join(root, "ld", "cfg"))
    os.symlink(os.path.join(outside, "c.pbtxt"), os.path.join(root, "ld", "cfg",
                                                              "projector_config.pbtxt"))
    ok = {"tag": "t", "tensor": [[1, 2]]}
    bad = [({"tag": "../x", "tensor": [[1, 2]]}, "ld", "."),
           ({"tag": "a/b", "tensor": [[1, 2]]}, "ld", "."),
           ({"tag": ".", "tensor": [[1, 2]]}, "ld", "."),
           (ok, "ld", "linked"),                       # the run directory is a link
           (ok, "ld", "cfg"),                          # its config is a link
           (ok, "ld", "../../outside"),                # a run above the root
           (ok, "../outside", "."),
           ({"tag": "t", "tensor": [[1, 2], [3]]}, "ld", "."),
           ({"tag": "t", "tensor": [1, 2]}, "ld", "."),
           ({"tag": "t", "tensor": [[1, 2]], "metadata": ["a", "b"]}, "ld", "."),
           ({"tag": "t", "tensor": [[1, 2]], "metadata": ["a\tb"]}, "ld", "."),
           ({"tag": "t", "tensor": [[1e39, 2]]}, "ld", "."),
           ({"tag": "t", "tensor": [[1, 2]],
             "sprite": {"png": base64.b64encode(b"GIF89a....").decode(),
                        "single_image_dim": [1, 1]}}, "ld", ".")]
    msgs = [({"op": "embedding", "logdir": ld, "run": run, "embedding": e}, False)
            for e, ld, run in bad]
    msgs.append(({"op": "embedding", "logdir": "ld", "step": -1, "embedding": ok}, False))
    msgs.append(({"op": "embedding", "logdir": "ld", "embedding": ok, "values": {}}, False))
    d = Daemon(tmp, root=root)
    try:
        c = d.client()
        for m, _ in msgs:
            a = c.request(m)
            check(not a.get("ok"), "accepted: %s -> %r" % (str(m)[:200], a))
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    check(os.listdir(outside) == [], "written outside the root: %r" % os.listdir(outside))
    written = [os.path.join(p, f) for p, _, fs in os.walk(root) for f in fs]
    check(not [w for w in written if "tensors.tsv" in w], "files written: %r" % written)


TESTS = [test_golden, test_adds, test_hostile]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfproj.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
