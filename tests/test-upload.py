#!/usr/bin/env python3
"""tfeventsd --upload against a real S3-compatible server: s3rver (npm, its
filesystem backend) behind s3sig_proxy.py, which recomputes every request's
SigV4 signature with Debian's botocore and refuses a mismatch. Objects are
read back with botocore directly from s3rver, independently of our client.

  signing          SigV4 alone: virtual-host addressing with a session token
                   passes, a wrong secret is refused and said
  multipart_delete a multipart upload, local files deleted once verified
  readers          libtfevents' reader, tail and dump on s3://
  stale_multipart  a kill -9 mid-multipart: the restarted daemon aborts its
                   own incomplete upload, never another node's
  https            s3rver over TLS: refused without AWS_CA_BUNDLE, used with
  part_size_limits --upload-part-size at 5M and 5G, and refused outside
  multi_node       the issue's run: three daemons (host names node1..3 when
                   `unshare --uts` works) write one logdir for 60 s with
                   rotation, the server stopped for the middle 20 s, one
                   daemon killed with SIGKILL while it uploads its backlog
                   and started again: every object is byte-identical to its
                   closed local file and passes eventlint --strict, every
                   flushed step arrives, `tfevents collect s3://` and the C
                   reader equal the union of the three local trees
TFEVENTS_UPLOAD_TEST_SECONDS shortens multi_node (the sanitizer run).
Skips (exit 77) with the reason when npm cannot install s3rver or
python3-botocore is missing."""

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
Client, check, eventlint, Failure = td.Client, td.check, td.eventlint, td.Failure

BUILD = os.environ.get("TFEVENTS_BUILD_ROOT", ".")
DAEMON = td.DAEMON
CLI = os.path.join(BUILD, "client", "tfevents")
KEY = SECRET = "S3RVER"   # s3rver's own default keys: it checks signatures too
BUCKET = "tfev"
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
children = []
# How long the three nodes write (the 60 s; the server is down for the
# middle third). The sanitizer run of .ci/extra-checks shortens it.
SECONDS = float(os.environ.get("TFEVENTS_UPLOAD_TEST_SECONDS", "60"))


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def s3rver_bin():
    """s3rver, installed once per build directory with npm."""
    prefix = os.path.join(os.path.abspath(BUILD), "npm-s3rver")
    exe = os.path.join(prefix, "node_modules", ".bin", "s3rver")
    if os.path.exists(exe):
        return exe
    if not shutil.which("npm") or not shutil.which("node"):
        skip("npm/node not installed (./dev test installs them)")
    os.makedirs(prefix, exist_ok=True)
    try:
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
                            "s3rver@3"], capture_output=True, text=True, timeout=240,
                           cwd=prefix)
    except subprocess.TimeoutExpired:
        skip("npm could not install s3rver within 240 s (no registry access?)")
    if p.returncode != 0 or not os.path.exists(exe):
        skip("npm could not install s3rver (no registry access?): %s" % p.stderr[-400:])
    return exe


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    children.append(p)
    return p


def kill_all():
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()


class S3:
    """s3rver on a fixed port (so that it can be restarted there) behind
    the signature-checking proxy."""

    def __init__(self, tmp, delay=0.0, backend=True, key=KEY, secret=SECRET, token=None,
                 emulation=True):
        self.exe = s3rver_bin()
        self.data = os.path.join(tmp, "s3data")
        os.makedirs(self.data, exist_ok=True)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(os.path.join(tmp, "s3rver.log"), "w")
        self.srv = None
        if backend:
            self.start()
        self.port_file = os.path.join(tmp, "proxy.port")
        self.plog = open(os.path.join(tmp, "proxy.log"), "w")
        cmd = [PY, os.path.join(_here, "s3sig_proxy.py"), "--port-file", self.port_file,
               "--key", key, "--secret", secret, "--delay", str(delay)]
        if token:
            cmd += ["--token", token]
        if not emulation:
            cmd.append("--no-emulation")
        if backend:
            cmd += ["--backend", "http://127.0.0.1:%d" % self.port]
        self.proxy = spawn(cmd, stderr=self.plog)
        t = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            check(time.monotonic() < t and self.proxy.poll() is None, "the proxy did not start")
            time.sleep(0.05)
        self.proxy_port = int(open(self.port_file).read())
        self.endpoint = "http://127.0.0.1:%d" % self.proxy_port

    def start(self):
        self.srv = spawn([self.exe, "-d", self.data, "-a", "127.0.0.1", "-p", str(self.port),
                          "--configure-bucket", BUCKET], stdout=self.log, stderr=self.log)
        t = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                check(time.monotonic() < t and self.srv.poll() is None, "s3rver did not start")
                time.sleep(0.1)

    def stop(self):
        self.srv.terminate()
        self.srv.wait()

    def counts(self):
        try:
            ok, refused = open(self.port_file + ".counts").read().split()
            return int(ok), int(refused)
        except OSError:
            return 0, 0

    def env(self):
        e = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
                 AWS_ENDPOINT_URL=self.endpoint, AWS_REGION="us-east-1")
        return e

    def objects(self, prefix):
        """{key: bytes} read with botocore straight from s3rver."""
        import botocore.session
        c = botocore.session.get_session().create_client(
            "s3", endpoint_url="http://127.0.0.1:%d" % self.port, region_name="us-east-1",
            aws_access_key_id=KEY, aws_secret_access_key=SECRET)
        out = {}
        kw = {"Bucket": BUCKET, "Prefix": prefix}
        while True:
            r = c.list_objects_v2(**kw)
            for o in r.get("Contents", []):
                out[o["Key"]] = c.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            if not r.get("IsTruncated"):
                return out
            kw["ContinuationToken"] = r["NextContinuationToken"]


class Node:
    def __init__(self, s3, tmp, name, *args, host=None, env=None):
        self.sock = os.path.join(tmp, name + ".sock")
        self.root = os.path.join(tmp, name)
        self.errpath = os.path.join(tmp, name + ".%d.log" % time.monotonic_ns())
        self.err = open(self.errpath, "w")
        cmd = [DAEMON, "--socket", self.sock, "--root", self.root, "--log-level", "debug",
               "--flush-interval", "0.2"] + list(args)
        if host:
            cmd = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host] + cmd
        self.p = spawn(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True,
                       env=env if env is not None else s3.env())
        line = self.p.stdout.readline()
        check("listening on" in line, "daemon did not start: %r\n%s" % (line, self.log()))

    def log(self):
        if not self.err.closed:
            self.err.flush()
        return open(self.errpath).read()

    def stats(self):
        c = Client(self.sock)
        r = c.request({"op": "stats"})
        c.close()
        return r["stats"]

    def wait_uploaded(self, timeout):
        t = time.monotonic() + timeout
        while True:
            st = self.stats()
            # A closed file is queued for upload when its close on the
            # thread pool ends: writers_closing counts it until then.
            if (st["upload_queued_files"] == 0 and st["writers_open"] == 0 and
                    st["writers_closing"] == 0):
                return st
            check(time.monotonic() < t, "uploads not done after %d s: %s\n%s" %
                  (timeout, json.dumps(st), self.log()[-3000:]))
            time.sleep(0.3)

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        rc = self.p.wait(60)
        self.p.stdout.close()
        self.err.close()
        return rc


def local_files(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            if "tfevents" in f:
                p = os.path.join(d, f)
                out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def local_tree(root):
    """{relative path: bytes} of every file under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def collect(target, env):
    p = subprocess.run([CLI, "collect", "-t", "scalar", "-f", "csv", target],
                       capture_output=True, text=True, env=env, timeout=60)
    check(p.returncode == 0, "collect %s: %d %s" % (target, p.returncode, p.stderr))
    return sorted(p.stdout.splitlines()[1:])


def can_unshare():
    try:
        return subprocess.run(["unshare", "--uts", "hostname", "node0"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def killing_children(t):
    def run(tmp):
        try:
            t(tmp)
        finally:
            kill_all()
    run.__name__ = t.__name__
    return run


@killing_children
def test_multi_node(tmp):
    """The issue's run: three daemons (host names node1..3) write one
    logdir into one bucket for SECONDS (60) with rotation; from a third to
    two thirds of it the server is stopped (20 s); once it is back and node2
    uploads its backlog, node2 is killed with SIGKILL and started again."""
    s3 = S3(tmp, delay=0.1)   # slow requests: the kill lands in the backlog's upload
    hosts = ["node1", "node2", "node3"] if can_unshare() else [None] * 3
    if not hosts[0]:
        td.notes.append("unshare --uts not permitted: the three daemons share the host name "
                        "(their file names still differ by pid)")
    args = ["--upload", "s3://%s/job" % BUCKET, "--upload-interval", "1", "--upload-size", "8K"]
    nodes = [Node(s3, tmp, "n%d" % i, *args, host=hosts[i]) for i in range(3)]
    clients = [Client(n.sock) for n in nodes]
    t0 = time.monotonic()
    t_down, t_up, t_end = t0 + SECONDS / 3, t0 + 2 * SECONDS / 3, t0 + SECONDS
    phase = "up"            # up -> down -> back -> killed
    step = 0
    flushed_at_kill = None  # node2's steps acknowledged by a flush before the kill
    restarted_at = None     # node2's first step after its restart
    errors_down = 0
    while time.monotonic() < t_end:
        for rank, c in enumerate(clients):
            c.send({"logdir": "exp", "step": step,
                    "values": {"rank%d" % rank: {"loss": 1.0 / (step + 1), "note": "s%d" % step}}})
        step += 1
        if step % 10 == 0:
            for c in clients:
                check(c.request({"op": "flush"}).get("ok"), "flush failed")
            flushed = step
        now = time.monotonic()
        if phase == "up" and now >= t_down:
            s3.stop()
            phase = "down"
        elif phase == "down" and now >= t_up:
            errors_down = nodes[1].stats()["upload_errors"]
            files_before = nodes[1].stats()["upload_files"]
            s3.start()
            phase = "back"
        elif phase == "back":
            st = nodes[1].stats()
            # Kill once node2 is uploading its backlog again (or, should it
            # be done already, 15 s after the server came back).
            if (st["upload_files"] > files_before and st["upload_queued_files"] > 0) or \
                    now > t_up + 15:
                if st["upload_queued_files"] == 0:
                    td.notes.append("node2 had uploaded its backlog before the kill")
                flushed_at_kill = flushed
                nodes[1].stop(signal.SIGKILL)
                clients[1].close()
                nodes[1] = Node(s3, tmp, "n1", *args, host=hosts[1])
                clients[1] = Client(nodes[1].sock)
                restarted_at = step
                phase = "killed"
        time.sleep(0.02)
    check(phase == "killed", "the run ended in phase %s (too short?)" % phase)
    check(errors_down > 0, "no upload failed while the server was down")
    for c in clients:
        check(c.request({"op": "flush"}).get("ok"), "flush failed")
        c.close()
    for n in nodes:
        st = n.wait_uploaded(60)
        check(st["upload_files"] >= 4, "too few files uploaded (rotation?): %s" % json.dumps(st))
    # The upload counters in the OpenMetrics output, typed.
    p = subprocess.run([CLI, "stats", "--format", "openmetrics"], capture_output=True, text=True,
                       env=dict(os.environ, TFEVENTS_SOCKET=nodes[0].sock), timeout=30)
    check(p.returncode == 0, "stats --format openmetrics: %s" % p.stderr)
    for fam, kind in (("upload_files", "counter"), ("upload_queued_files", "gauge"),
                      ("upload_errors", "counter"), ("upload_bytes", "counter"),
                      ("upload_aborted_multipart", "counter")):
        check("# TYPE tfeventsd_%s %s\n" % (fam, kind) in p.stdout,
              "openmetrics: no %s %s in\n%s" % (kind, fam, p.stdout[-1500:]))
    for n in nodes:
        check(n.stop() == 0, "daemon exit status:\n" + n.log()[-2000:])
    objs = s3.objects("job/")
    union = {}
    for n in nodes:
        for rel, data in local_files(n.root).items():
            check(rel not in union, "two nodes wrote the same file name %s" % rel)
            union[rel] = data
    if hosts[0]:
        for i, n in enumerate(nodes):
            check(all(".node%d." % (i + 1) in r for r in local_files(n.root)),
                  "file names without the host name node%d" % (i + 1))
    # Every object is its closed file, byte for byte (so none is partial),
    # and every file is an object.
    check(set(objs) == {"job/" + r for r in union},
          "objects %s != local files %s" % (sorted(objs), sorted(union)))
    for rel, data in union.items():
        check(objs["job/" + rel] == data, "object job/%s differs from its file" % rel)
    down = os.path.join(tmp, "down")
    for key, data in objs.items():
        p = os.path.join(down, key)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(data)
    eventlint(os.path.join(down, "job", "exp"))
    merged = os.path.join(tmp, "merged")
    for rel, data in union.items():
        p = os.path.join(merged, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(data)
    want = collect(os.path.join(merged, "exp"), s3.env())
    got = collect("s3://%s/job/exp" % BUCKET, s3.env())
    check(got == want, "collect s3:// differs from the union of the local trees")
    check(same_values(read_scalars("s3://%s/job/exp" % BUCKET, s3.env()), scalar_rows(want)),
          "the C reader on s3:// differs from the union of the local trees")
    # Nothing flushed is lost: ranks 0 and 2 have every step; node2 every
    # step flushed before its kill and every one after its restart.
    steps = {}
    for r in scalar_rows(want):
        steps.setdefault(r[0], set()).add(r[2])
    for rank in (0, 2):
        check(steps.get("rank%d" % rank) == set(range(step)),
              "rank%d: %d of %d steps arrived" % (rank, len(steps.get("rank%d" % rank, ())), step))
    s1 = steps.get("rank1", set())
    check(set(range(flushed_at_kill)) <= s1 and set(range(restarted_at, step)) <= s1,
          "rank1: flushed steps lost to the kill (%d flushed before it, %d rows)" %
          (flushed_at_kill, len(s1)))
    ok, refused = s3.counts()
    check(ok > 0 and refused == 0, "signing: %d requests passed, %d refused" % (ok, refused))


def read_scalars(target, env, until=None, timeout=60):
    """libtfevents' reader on target: sorted [(run, tag, step, value)]."""
    exe = os.environ.get("READ_SCALARS", os.path.join(BUILD, "tests", "read-scalars"))
    args = [exe, target] + ([str(until), str(timeout)] if until is not None else [])
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout + 30)
    if p.returncode == 3 and "Protocol not supported" in p.stderr:
        skip("libtfevents built with -Dreader_s3=false")
    check(p.returncode == 0, "read-scalars %s: %d %s" % (target, p.returncode, p.stderr))
    rows = []
    for line in p.stdout.splitlines():
        run, tag, step, value = line.rsplit(",", 3)
        rows.append((run, tag, int(step), float(value)))
    return sorted(rows)


def scalar_rows(csv_rows):
    """collect -t scalar -f csv rows (run,tag,step,wall_time,value) as
    read_scalars gives them."""
    out = []
    for r in csv_rows:
        run, tag, step, _, value = r.split(",")
        out.append((run, tag, int(step), float(value)))
    return sorted(out)


def same_values(a, b):
    """Rows equal, values within float32 printing (9 digits against the
    shortest form)."""
    return len(a) == len(b) and all(
        x[:3] == y[:3] and abs(x[3] - y[3]) <= 1e-6 * max(1.0, abs(x[3])) for x, y in zip(a, b))


@killing_children
def test_readers(tmp):
    """libtfevents' reader (read-scalars), `tfevents tail`, `export` and
    `dump` read s3://: the reader and tail follow the bucket while a daemon
    uploads into it and see every scalar exactly once; export of the bucket
    equals export of the local tree; dump of an object prints what dump of
    its local file prints; a missing bucket or object is said."""
    s3 = S3(tmp)
    env = dict(s3.env(), TMPDIR=tmp)   # where the copies go: checked at the end
    n = Node(s3, tmp, "r", "--upload", "s3://%s/r" % BUCKET, "--upload-interval", "0.5",
             "--upload-size", "2K")
    runs, per_run = (".", "train"), 150
    total = len(runs) * per_run
    exe = os.environ.get("READ_SCALARS", os.path.join(BUILD, "tests", "read-scalars"))
    reader = spawn([exe, "s3://%s/r/exp" % BUCKET, str(total), "60"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True, env=env)
    tail_out = open(os.path.join(tmp, "tail.out"), "w+")
    tail = spawn([CLI, "tail", "--plain", "--interval", "0.3", "s3://%s/r/exp" % BUCKET],
                 stdout=tail_out, stderr=subprocess.PIPE, text=True, env=env)
    c = Client(n.sock)
    for step in range(per_run):
        c.send({"logdir": "exp", "step": step,
                "values": {"loss": step * 0.25, "train": {"acc": step / 1000.0}}})
        if step % 10 == 9:
            check(c.request({"op": "flush"}).get("ok"), "flush failed")
            time.sleep(0.1)
    check(c.request({"op": "close"}).get("ok"), "close failed")
    c.close()
    n.wait_uploaded(40)
    out, err = reader.communicate(timeout=90)
    check(reader.returncode == 0, "read-scalars following s3://: %d %s" % (reader.returncode, err))
    got = sorted((r, t, int(s), float(v)) for r, t, s, v in
                 (line.rsplit(",", 3) for line in out.splitlines()))
    want = scalar_rows(collect(os.path.join(n.root, "exp"), env))
    check(len(want) == total, "collect of the local tree: %d rows" % len(want))
    check(same_values(got, want), "the C reader following s3:// read %d rows, %d written "
          "(duplicates or losses)" % (len(got), len(want)))
    t_end = time.monotonic() + 30
    while True:
        tail_out.seek(0)
        lines = tail_out.read().splitlines()
        if len(lines) >= total or time.monotonic() > t_end:
            break
        time.sleep(0.3)
    tail.send_signal(signal.SIGTERM)
    _, terr = tail.communicate(timeout=30)
    check(tail.returncode == 0, "tail s3:// exit %d: %s" % (tail.returncode, terr))
    seen = sorted((f[0], f[1], int(f[2])) for f in (line.split() for line in lines))
    check(seen == [w[:3] for w in want],
          "tail s3:// showed %d values, %d written (duplicates or losses)" % (len(seen), total))
    # One pass of the reader equals collect of the local tree too.
    check(same_values(read_scalars("s3://%s/r/exp" % BUCKET, env), want),
          "one pass of the C reader on s3:// differs from the local tree")
    # export of the bucket = export of the local tree.
    outs = []
    for src, name in (("s3://%s/r/exp" % BUCKET, "ex-s3"), (os.path.join(n.root, "exp"), "ex")):
        out = os.path.join(tmp, name)
        p = subprocess.run([CLI, "export", src, "--out", out], capture_output=True, text=True,
                           env=env, timeout=60)
        check(p.returncode == 0, "export %s: %d %s" % (src, p.returncode, p.stderr))
        outs.append(local_tree(out))
    check(outs[0] == outs[1] and any(k.endswith("scalars.csv") for k in outs[0]),
          "export s3:// differs from export of the local tree: %s" % sorted(outs[0]))
    # dump of one object = dump of its file, but for the name said.
    rel = sorted(local_files(n.root))[0]
    url = "s3://%s/r/%s" % (BUCKET, rel)
    p = subprocess.run([CLI, "dump", url], capture_output=True, text=True, env=env, timeout=60)
    q = subprocess.run([CLI, "dump", os.path.join(n.root, rel)], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and q.returncode == 0, "dump: %s %s" % (p.stderr, q.stderr))
    check(p.stdout.startswith(url + ": ") and
          p.stdout.replace(url, "F") == q.stdout.replace(os.path.join(n.root, rel), "F"),
          "dump of %s differs from dump of its file:\n%s" % (url, p.stdout[:600]))
    p = subprocess.run([CLI, "dump", url + ".nope"], capture_output=True, text=True, env=env,
                       timeout=60)
    check(p.returncode == 3 and "no such object" in p.stderr, "dump of a missing object: %d %s"
          % (p.returncode, p.stderr))
    # A segment that arrives after a later-named one of the same run (another
    # node's, uploaded late) is still read by a following reader and tail.
    runfiles = sorted(f for f in local_files(n.root) if f.count("/") == 1)
    early, late = runfiles[0], runfiles[-1]
    rows_late = read_scalars(os.path.join(n.root, late), env)
    want_both = sorted(read_scalars(os.path.join(n.root, early), env) + rows_late)
    check(rows_late and len(want_both) > len(rows_late), "no scalars in %s, %s" % (early, late))
    import botocore.session
    bc = botocore.session.get_session().create_client(
        "s3", endpoint_url=s3.endpoint, region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    put = lambda rel: bc.put_object(Bucket=BUCKET, Key="late/" + rel,  # noqa: E731
                                    Body=open(os.path.join(n.root, rel), "rb").read())
    put(late)
    follower = spawn([exe, "s3://%s/late/exp" % BUCKET, str(len(want_both)), "40"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    tail_out2 = open(os.path.join(tmp, "tail2.out"), "w+")
    tail2 = spawn([CLI, "tail", "--plain", "--interval", "0.2", "s3://%s/late/exp" % BUCKET],
                  stdout=tail_out2, stderr=subprocess.PIPE, text=True, env=env)

    def tail_lines(f, n, timeout):
        t = time.monotonic() + timeout
        while True:
            f.seek(0)
            lines = f.read().splitlines()
            if len(lines) >= n or time.monotonic() > t:
                return lines
            time.sleep(0.2)
    check(len(tail_lines(tail_out2, len(rows_late), 20)) == len(rows_late),
          "tail did not read the later segment")
    time.sleep(0.5)   # the reader has read it too, most likely
    put(early)
    out, err = follower.communicate(timeout=60)
    got = sorted((r, t, int(st), float(v)) for r, t, st, v in
                 (line.rsplit(",", 3) for line in out.splitlines()))
    check(follower.returncode == 0 and same_values(got, want_both),
          "the C reader skipped a segment that arrived late: %d of %d rows (%s)" %
          (len(got), len(want_both), err.strip()))
    lines = tail_lines(tail_out2, len(want_both), 20)
    tail2.send_signal(signal.SIGTERM)
    tail2.communicate(timeout=30)
    check(sorted((f[0], f[1], int(f[2])) for f in (line.split() for line in lines)) ==
          [w[:3] for w in want_both], "tail skipped a segment that arrived late: %d of %d "
          "values" % (len(lines), len(want_both)))
    for cmd in ([CLI, "collect", "s3://nobucket/x"], [CLI, "tail", "s3://nobucket/x"]):
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 3 and "NoSuchBucket" in p.stderr,
              "%s: %d %s" % (" ".join(cmd[1:]), p.returncode, p.stderr))
    p = subprocess.run([exe, "s3://nobucket/x"], capture_output=True, text=True, env=env,
                       timeout=60)
    check(p.returncode == 3 and "No such file" in p.stderr,
          "the C reader on a missing bucket: %d %s" % (p.returncode, p.stderr))
    n.stop()
    left = [d for d in os.listdir(tmp) if d.startswith("tfevents-")]
    check(not left, "temporary s3:// copies left behind: %s" % left)


@killing_children
def test_signing(tmp):
    """The signature check alone (the proxy answers itself): virtual-host
    addressing (bucket.localhost, which libcurl resolves to 127.0.0.1) with a
    session token passes; a wrong secret is refused, counted and said."""
    s3 = S3(tmp, backend=False, token="TOKEN/with+chars=")
    env = dict(s3.env(), AWS_ENDPOINT_URL="http://localhost:%d" % s3.proxy_port,
               AWS_SESSION_TOKEN="TOKEN/with+chars=", AWS_REGION="eu-west-3")
    args = ["--upload", "s3://%s/v" % BUCKET, "--upload-addressing", "virtual",
            "--upload-interval", "0.5"]
    n = Node(s3, tmp, "v", *args, env=env)
    c = Client(n.sock)
    for step in range(20):
        c.send({"logdir": "exp", "step": step, "values": {"loss": step}})
    check(c.request({"op": "flush"}).get("ok"), "flush failed")
    c.close()
    st = n.wait_uploaded(30)
    n.stop()
    ok, refused = s3.counts()
    check(st["upload_files"] >= 1 and st["upload_errors"] == 0 and refused == 0,
          "virtual-host + token: %s, proxy ok %d refused %d\n%s" %
          (json.dumps(st), ok, refused, open(os.path.join(tmp, "proxy.log")).read()[-2000:]))
    hosts = open(s3.port_file + ".hosts").read().split()
    check(hosts == ["%s.localhost:%d" % (BUCKET, s3.proxy_port)],
          "not virtual-host addressed: %r" % hosts)
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    n = Node(s3, tmp, "w", *args, "--upload-exit-wait", "1", env=env)
    c = Client(n.sock)
    c.send({"logdir": "exp", "step": 0, "values": {"loss": 1}})
    check(c.request({"op": "flush"}).get("ok"), "flush failed")
    c.close()
    t = time.monotonic() + 20
    while n.stats()["upload_errors"] == 0:
        check(time.monotonic() < t, "a wrongly signed upload was not refused")
        time.sleep(0.2)
    st = n.stats()
    check(st["upload_files"] == 0 and "403" in st["upload_last_error"],
          "wrong secret: %s" % json.dumps(st))
    n.stop()
    check(s3.counts()[1] > 0, "the proxy refused nothing")


@killing_children
def test_multipart_delete(tmp):
    """A file past --upload-part-size goes as a multipart upload; with
    --upload-delete the local files go once verified, and the objects read
    back hold everything. The proxy passes the multipart listing to s3rver,
    which does not implement it: the daemon says so once and uploads."""
    s3 = S3(tmp, emulation=False)
    n = Node(s3, tmp, "m", "--upload", "s3://%s/m" % BUCKET, "--upload-part-size", "5M",
             "--upload-size", "64M", "--upload-delete", "yes")
    c = Client(n.sock)
    big = "x" * (6 << 20)
    check(c.request({"logdir": "exp", "step": 0, "values": {"big": big, "loss": 0.5}}).get("ok"),
          "logging 6 MB of text failed")
    check(c.request({"op": "close"}).get("ok"), "close failed")
    c.close()
    st = n.wait_uploaded(60)
    n.stop()
    log = n.log()
    check(log.count("cannot be listed") == 1 and "lifecycle rule" in log,
          "the missing ListMultipartUploads is not said once:\n" + log[-2000:])
    check(st["upload_multipart"] >= 1 and st["upload_unverified"] == 0,
          "no verified multipart upload: %s" % json.dumps(st))
    check(st["upload_deleted"] == st["upload_files"] and not local_files(n.root),
          "local files left after verified uploads: %s" % json.dumps(st))
    rows = collect("s3://%s/m/exp" % BUCKET, s3.env())
    check(rows == [".,loss,0,%s,0.5" % rows[0].split(",")[3]] if rows else False,
          "scalars read back: %r" % rows)
    p = subprocess.run([CLI, "collect", "-t", "summary", "-f", "jsonl", "s3://%s/m/exp" % BUCKET],
                       capture_output=True, text=True, env=s3.env(), timeout=60)
    check(p.returncode == 0 and big in p.stdout, "the 6 MB text did not come back")


@killing_children
def test_stale_multipart(tmp):
    """kill -9 in the middle of a multipart upload: at its restart the
    daemon lists the incomplete multipart uploads under its prefix (paged)
    and aborts its own, then uploads the file whole; other nodes' uploads
    under the same prefix are left alone. s3rver lacks both requests: the
    proxy answers them (s3sig_proxy.py)."""
    s3 = S3(tmp, delay=0.3)
    args = ["--upload", "s3://%s/mp" % BUCKET, "--upload-part-size", "5M",
            "--upload-size", "64M"]
    n = Node(s3, tmp, "m", *args)
    c = Client(n.sock)
    big = "x" * (6 << 20)
    for step in range(2):
        check(c.request({"logdir": "exp", "step": step, "values": {"big": big}}).get("ok"),
              "logging 6 MB of text failed")
    check(c.request({"op": "close"}).get("ok"), "close failed")
    c.close()
    table = s3.port_file + ".multipart"
    t = time.monotonic() + 30
    while not (os.path.exists(table) and json.load(open(table))):
        check(time.monotonic() < t, "no multipart upload started: %s" % n.log()[-2000:])
        time.sleep(0.02)
    n.stop(signal.SIGKILL)
    ours = [tuple(u) for u in json.load(open(table))]
    check(len(ours) == 1 and ours[0][0].startswith("mp/exp/"), "uploads open: %r" % ours)
    import botocore.session
    bc = botocore.session.get_session().create_client(
        "s3", endpoint_url=s3.endpoint, region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    others = []
    for key in ("mp/exp/events.out.tfevents.1700000000.othernode.7.0",
                "mp/exp/events.out.tfevents.1700000001.othernode.7.1",
                "mp/exp2/events.out.tfevents.1700000002.othernode.8.0"):
        others.append((key, bc.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]))
    n = Node(s3, tmp, "m", *args)
    st = n.wait_uploaded(60)
    log = n.log()
    check(n.stop() == 0, "daemon exit status:\n" + log[-2000:])
    left = {tuple(u) for u in json.load(open(table))}
    check(ours[0] not in left, "the killed daemon's multipart upload was not aborted:\n" +
          log[-2000:])
    check(set(others) <= left, "another node's multipart upload was aborted: %r" % left)
    check(st["upload_aborted_multipart"] == 1 and st["upload_multipart"] == 1,
          "stats: %s" % json.dumps(st))
    check("aborted the incomplete multipart upload of s3://%s/%s" % (BUCKET, ours[0][0]) in log,
          "no log line for the abort:\n" + log[-2000:])
    objs = s3.objects("mp/")
    files = local_files(n.root)
    check(set(objs) == {"mp/" + r for r in files} and
          all(objs["mp/" + r] == d for r, d in files.items()),
          "objects differ from the local files after the restart")


@killing_children
def test_https(tmp):
    """s3rver over TLS with a certificate made here by openssl: a daemon
    without AWS_CA_BUNDLE refuses it (said in stats and the log, nothing
    uploaded), one with AWS_CA_BUNDLE naming the certificate uploads, and
    collect reads it back the same way; an unreadable AWS_CA_BUNDLE stops
    the daemon at start with its reason."""
    if not shutil.which("openssl"):
        skip("openssl is not installed (./dev test installs it)")
    key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "openssl req: %s" % p.stderr)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    log = open(os.path.join(tmp, "s3rver.log"), "w")
    srv = spawn([s3rver_bin(), "-d", os.path.join(tmp, "s3data"), "-a", "127.0.0.1", "-p",
                 str(port), "--key", key, "--cert", cert, "--configure-bucket", BUCKET],
                stdout=log, stderr=log)
    t = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            check(time.monotonic() < t and srv.poll() is None, "s3rver (TLS) did not start")
            time.sleep(0.1)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_ENDPOINT_URL="https://127.0.0.1:%d" % port, AWS_REGION="us-east-1")
    env.pop("AWS_CA_BUNDLE", None)
    args = ["--upload", "s3://%s/tls" % BUCKET, "--upload-interval", "0.5",
            "--upload-exit-wait", "1"]

    def log_some(node):
        c = Client(node.sock)
        for step in range(10):
            c.send({"logdir": "exp", "step": step, "values": {"loss": step}})
        check(c.request({"op": "close"}).get("ok"), "close failed")
        c.close()

    # Not trusted: refused, and said.
    n = Node(None, tmp, "u", *args, env=env)
    log_some(n)
    t = time.monotonic() + 20
    while n.stats()["upload_errors"] == 0:
        check(time.monotonic() < t, "an upload to an untrusted server was not refused")
        time.sleep(0.2)
    st = n.stats()
    n.stop()
    err = st["upload_last_error"]
    check(st["upload_files"] == 0 and "certificate" in err and "AWS_CA_BUNDLE" in err,
          "untrusted certificate: %s" % json.dumps(st))
    check("certificate" in n.log(), "the log does not say why:\n" + n.log()[-1500:])
    # Trusted through AWS_CA_BUNDLE: uploaded, and read back.
    tenv = dict(env, AWS_CA_BUNDLE=cert)
    n = Node(None, tmp, "t", *args, env=tenv)
    log_some(n)
    st = n.wait_uploaded(30)
    check(n.stop() == 0 and st["upload_files"] >= 1 and st["upload_errors"] == 0,
          "with AWS_CA_BUNDLE: %s\n%s" % (json.dumps(st), n.log()[-1500:]))
    import botocore.session
    bc = botocore.session.get_session().create_client(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET, verify=cert)
    files = local_files(n.root)
    for rel, data in files.items():
        got = bc.get_object(Bucket=BUCKET, Key="tls/" + rel)["Body"].read()
        check(got == data, "tls/%s differs from its file" % rel)
    rows = collect("s3://%s/tls/exp" % BUCKET, tenv)
    check(len(rows) == 10, "collect over https: %d rows" % len(rows))
    p = subprocess.run([CLI, "collect", "s3://%s/tls/exp" % BUCKET], capture_output=True,
                       text=True, env=env, timeout=60)
    check(p.returncode == 3 and "certificate" in p.stderr,
          "collect from an untrusted server: %d %s" % (p.returncode, p.stderr))
    # An unreadable CA file: refused at start.
    p = subprocess.run([DAEMON, "--socket", os.path.join(tmp, "x.sock"), "--root",
                        os.path.join(tmp, "x")] + args,
                       env=dict(env, AWS_CA_BUNDLE=os.path.join(tmp, "none.pem")),
                       capture_output=True, text=True, timeout=30)
    check(p.returncode != 0 and "AWS_CA_BUNDLE" in p.stderr and "No such file" in p.stderr,
          "a missing AWS_CA_BUNDLE: %d %s" % (p.returncode, p.stderr[-800:]))


@killing_children
def test_part_size_limits(tmp):
    """--upload-part-size: S3's extremes accepted (5M: a 12 MB file in 3
    parts; 5G: the same file in one PUT), a byte outside them refused with
    the range, and an --upload-size that would need more than 10000 parts
    refused at start with the part size that would do."""
    for v in ("5242879", "4M", "5368709121", "6G", "0", "-5M"):
        p = subprocess.run([DAEMON, "--socket", os.path.join(tmp, "x.sock"), "--root",
                            os.path.join(tmp, "x"), "--upload", "s3://%s/x" % BUCKET,
                            "--upload-part-size", v], capture_output=True, text=True, timeout=30)
        check(p.returncode != 0 and "upload-part-size: '%s'" % v in p.stderr and
              "5M to 5G" in p.stderr, "--upload-part-size %s: %d %s" % (v, p.returncode, p.stderr))
    s3 = S3(tmp)
    p = subprocess.run([DAEMON, "--socket", os.path.join(tmp, "x.sock"), "--root",
                        os.path.join(tmp, "x"), "--upload", "s3://%s/x" % BUCKET,
                        "--upload-part-size", "5M", "--upload-size", "60G"],
                       capture_output=True, text=True, timeout=30, env=s3.env())
    check(p.returncode != 0 and "more than 10000 parts" in p.stderr and
          "--upload-part-size to 7M or more" in p.stderr,
          "--upload-size 60G with 5M parts: %d %s" % (p.returncode, p.stderr[-600:]))
    big = "x" * (6 << 20)
    for name, part, want_parts in (("lo", "5242880", 3), ("hi", "5G", 0)):
        reqs = s3.port_file + ".requests"
        if os.path.exists(reqs):
            os.unlink(reqs)
        n = Node(s3, tmp, name, "--upload", "s3://%s/%s" % (BUCKET, name),
                 "--upload-part-size", part, "--upload-size", "64M")
        c = Client(n.sock)
        for step in range(2):
            check(c.request({"logdir": "exp", "step": step, "values": {"big": big}}).get("ok"),
                  "logging 6 MB of text failed")
        check(c.request({"op": "close"}).get("ok"), "close failed")
        c.close()
        st = n.wait_uploaded(60)
        check(n.stop() == 0 and st["upload_errors"] == 0, "part size %s: %s" %
              (part, json.dumps(st)))
        parts = [r for r in open(reqs).read().splitlines()
                 if r.startswith("PUT ") and "partNumber=" in r]
        check(len(parts) == want_parts and st["upload_multipart"] == (want_parts > 0),
              "part size %s: %d part uploads (want %d), %s" %
              (part, len(parts), want_parts, json.dumps(st)))
        objs = s3.objects(name + "/")
        files = local_files(n.root)
        check(len(files) == 1 and set(objs) == {name + "/" + r for r in files} and
              all(objs[name + "/" + r] == d for r, d in files.items()),
              "part size %s: the object differs from its file" % part)


def main():
    # Debian's python3 has python3-botocore; another one first on PATH
    # (pyenv) may not.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        try:
            import botocore.auth  # noqa: F401
        except ImportError:
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    if not os.path.exists(DAEMON):
        print("daemon not found at %s" % DAEMON)
        return 1
    try:
        import botocore.auth  # noqa: F401
    except ImportError:
        skip("python3-botocore is not installed (./dev test installs it)")
    s3rver_bin()
    sel = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        failed, _ = td.run_tests([test_signing, test_multipart_delete, test_readers,
                                  test_stale_multipart, test_https, test_part_size_limits,
                                  test_multi_node],
                                 sel, prefix="tfu.")
    finally:
        kill_all()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
