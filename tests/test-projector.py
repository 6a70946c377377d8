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
- order: embeddings run on the daemon's thread pool, yet a connection's
  replies keep their order (a slow embedding, then a ping...).
- concurrent writers: two daemons on one root and an embedded client add
  to one run's config at once; no entry is lost (the config's flock).
- config limit: a config over 4 MiB, or one an embedding would push over
  it, is refused with a clear sentence and left as it is.
Skips the golden comparison with a note when TFEVENTS_SHARED is absent.
Standard library only; the harness is test-daemon.py's.
Usage: test-projector.py [TEST-NAME-SUBSTRING]"""

import base64
import fcntl
import importlib.util
import os
import re
import struct
import subprocess
import sys
import time
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


def test_order(tmp):
    """Embeddings are written on the daemon's thread pool; what the
    connection sends after one waits for it, so that replies keep their
    order: an embedding that takes a while (20,000 x 16 values, fsyncs),
    a ping, a refused embedding, a log and a ping, all sent at once, are
    answered in that order; meanwhile another connection is answered."""
    big = {"tag": "big", "tensor": [[i + j / 16 for j in range(16)] for i in range(20000)]}
    d = Daemon(tmp)
    try:
        c, other = d.client(), d.client()
        c.send({"op": "embedding", "logdir": "o", "id": "e1", "embedding": big})
        c.send({"op": "ping", "id": "p1"})
        c.send({"op": "embedding", "logdir": "o", "id": "e2",
                "embedding": {"tag": "../bad", "tensor": [[1]]}})
        c.send({"logdir": "o", "step": 1, "values": {"x": 1}, "id": "l1"})
        c.send({"op": "ping", "id": "p2"})
        check(other.request({"op": "ping"})["ok"], "other connection")
        got = [c.reply() for _ in range(5)]
        check([g.get("id") for g in got] == ["e1", "p1", "e2", "l1", "p2"],
              "reply order: %r" % [(g.get("id"), g.get("ok")) for g in got])
        check(got[0]["ok"] and not got[2]["ok"] and got[3]["ok"], "replies: %r" % got)
        conf = parse_pbtxt(read(d.root, "o", "projector_config.pbtxt").decode())
        check([e["tensor_name"] for e in conf] == ["big:00000"], "config %r" % conf)
        check(len(read(d.root, "o", "00000", "big", "tensors.tsv").splitlines()) == 20000,
              "tensor rows")
        c.close()
        other.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def embedded_writer(root, logdir, tags):
    """A process adding embeddings through libtfevents in embedded mode
    (the Python client), or None when the library cannot be loaded here."""
    lib = os.path.join(td.BUILD, "client", "libtfevents.so")
    src = os.environ.get("TFEVENTS_SOURCE_ROOT", os.path.join(_here, ".."))
    if os.environ.get("TFEVENTS_SANITIZE") or not os.path.exists(lib):
        return None
    code = ("import sys, tfevents\n"
            "c = tfevents.Client(mode='embedded')\n"
            "w = tfevents.SummaryWriter(sys.argv[1], client=c)\n"
            "for t in sys.argv[2:]:\n"
            "    w.add_embedding([[1.0, 2.0], [3.0, 4.0]], metadata=['a', 'b'], tag=t,"
            " global_step=3)\n"
            "c.close()\n")
    env = dict(os.environ, TFEVENTS_LIBRARY=lib, TFEVENTS_MODE="embedded",
               PYTHONPATH=os.path.join(src, "client", "python"))
    return subprocess.Popen([sys.executable, "-c", code, os.path.join(root, logdir)] + tags,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_concurrent_writers(tmp):
    """Two daemons on one root (two connections each) and an embedded
    client add embeddings to one run's config at the same time: every
    entry is there at the end (the config's lock), none lost."""
    root = os.path.join(tmp, "logs")
    os.makedirs(os.path.join(root, "shared"))
    daemons = []
    for k in range(2):   # each its own socket, one root
        os.makedirs(os.path.join(tmp, "d%d" % k))
        daemons.append(Daemon(os.path.join(tmp, "d%d" % k), root=root))
    n = 25
    want = []
    try:
        clients = [(d.client(), "%s%d" % ("ab"[k // 2], k % 2))
                   for k, d in enumerate(daemons + daemons)]
        emb_tags = ["emb%d" % i for i in range(n)]
        proc = embedded_writer(root, "shared", emb_tags)
        if proc is not None:
            want += ["%s:00003" % t for t in emb_tags]
        for c, name in clients:   # everything sent at once: the daemons' pools overlap
            for i in range(n):
                c.send({"op": "embedding", "logdir": "shared", "step": 3, "id": i,
                        "embedding": {"tag": "%s_%d" % (name, i),
                                      "tensor": [[i, 1.5], [2.5, i]]}})
                want.append("%s_%d:00003" % (name, i))
        for c, name in clients:
            got = [c.reply(60) for _ in range(n)]
            bad = [g for g in got if not g.get("ok")]
            check(not bad, "%s refused: %r" % (name, bad[:3]))
            c.close()
        if proc is not None:
            out, err = proc.communicate(timeout=120)
            check(proc.returncode == 0, "embedded writer: %s" % err.decode()[-2000:])
        else:
            print("note: embedded writer skipped (libtfevents not loadable here)")
    finally:
        rcs = [d.stop() for d in daemons]
    check(rcs == [0, 0], "daemon exit status %r" % rcs)
    conf = parse_pbtxt(read(root, "shared", "projector_config.pbtxt").decode())
    names = [e["tensor_name"] for e in conf]
    check(sorted(names) == sorted(want), "lost entries: %r" % sorted(set(want) - set(names)))
    leftovers = [f for _, _, fs in os.walk(root) for f in fs if ".tmp." in f]
    check(not leftovers, "temporary files left: %r" % leftovers)


def holds_open(pid, path):
    """Has process pid a descriptor open on path?"""
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, fd)) == path:
                return True
        except OSError:
            pass
    return False


def test_closing_gauge(tmp):
    """stats' writers_closing counts a writer whose close is queued or
    running on the thread pool, which writers_open no longer counts; it is
    0 again when the close is done. Held here with a pool of one thread
    (UV_THREADPOOL_SIZE=1) kept busy by an embedding that waits for its
    run's config lock, which the test holds."""
    root = os.path.join(tmp, "logs")
    os.makedirs(os.path.join(root, "held"))
    lock_path = os.path.join(root, "held", ".projector_config.pbtxt.lock")
    lock = open(lock_path, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    d = Daemon(tmp, root=root, env=dict(os.environ, UV_THREADPOOL_SIZE="1"))
    try:
        emb, run, st = d.client(), d.client(), d.client()
        run.send({"logdir": "run", "step": 0, "values": {"x": 1.5}})
        check(run.request({"op": "flush", "logdir": "run"})["ok"], "flush")
        s = st.request({"op": "stats"})["stats"]
        check((s["writers_open"], s["writers_closing"]) == (1, 0), "before: %r" % s)
        emb.send({"op": "embedding", "logdir": "held", "step": 1, "id": 1,
                  "embedding": {"tag": "e", "tensor": [[1.0, 2.0]]}})
        t = time.monotonic() + 5   # the pool's one thread waits on the lock
        while not holds_open(d.p.pid, lock_path):
            check(time.monotonic() < t, "the embedding never took the lock file")
            time.sleep(0.01)
        run.send({"op": "close", "id": 9, "logdir": "run"})
        s = td.wait_stats(st, lambda s: s["writers_closing"] == 1, timeout=5, every=0.01)
        check((s["writers_open"], s["writers_closing"], s["writers_closed"]) == (0, 1, 0),
              "while the close waits for the pool: %r" % s)
        fcntl.flock(lock, fcntl.LOCK_UN)
        check(emb.reply(30).get("ok") is True, "embedding refused")
        r = run.reply(30)
        check(r.get("ok") is True and r.get("id") == 9, "close reply %r" % r)
        s = st.request({"op": "stats"})["stats"]
        check((s["writers_open"], s["writers_closing"], s["writers_closed"]) == (0, 0, 1),
              "after the close: %r" % s)
        for c in (emb, run, st):
            c.close()
    finally:
        lock.close()
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)


def test_config_limit(tmp):
    """A config larger than 4 MiB (PROJECTOR_MAX_CONFIG), or one that an
    embedding would make larger, is refused with a sentence that says so
    and left as it is; no file of the embedding is written."""
    root = os.path.join(tmp, "logs")
    big, near = os.path.join(root, "big"), os.path.join(root, "near")
    limit = 4 << 20
    texts = {}
    for path, size in ((big, limit + 1), (near, limit - 50)):
        os.makedirs(path)
        head = 'model_checkpoint_path: "'
        body = head + "x" * (size - len(head) - 2) + '"\n'
        check(len(body) == size, "config size")
        with open(os.path.join(path, "projector_config.pbtxt"), "w") as f:
            f.write(body)
        texts[path] = body
    d = Daemon(tmp, root=root)
    try:
        c = d.client()
        for ld in ("big", "near"):
            a = c.request({"op": "embedding", "logdir": ld,
                           "embedding": {"tag": "t", "tensor": [[1, 2]]}})
            check(not a.get("ok") and "larger than the 4 MiB limit" in a.get("error", ""),
                  "%s: %r" % (ld, a))
        # Under the limit, it merges (the same writer, a short config).
        a = c.request({"op": "embedding", "logdir": "ok",
                       "embedding": {"tag": "t", "tensor": [[1, 2]]}})
        check(a.get("ok"), "small config: %r" % a)
        c.close()
    finally:
        rc = d.stop()
    check(rc == 0, "daemon exit status %d" % rc)
    for path, body in texts.items():
        check(read(path, "projector_config.pbtxt").decode() == body, "config changed")
        check(sorted(os.listdir(path)) == ["projector_config.pbtxt"],
              "written: %r" % os.listdir(path))


TESTS = [test_golden, test_adds, test_hostile, test_order, test_concurrent_writers,
         test_closing_gauge, test_config_limit]


def main():
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    failed, _ = td.run_tests(TESTS, sel, prefix="tfproj.", note_skips=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
