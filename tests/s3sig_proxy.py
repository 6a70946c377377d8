#!/usr/bin/env python3
"""A SigV4-checking S3 front for the upload tests.

Every request is checked the way S3 checks it, with Debian's python3-botocore
recomputing the signature from the request as received (method, path, query,
the headers the client says it signed, the payload hash): the Authorization
header must name the expected access key, sign host, x-amz-date and
x-amz-content-sha256 (and x-amz-security-token when a session token is
expected), a hex x-amz-content-sha256 must be the body's SHA-256, and the
signature must match. A request that fails is answered 403 and counted;
one that passes is forwarded unchanged to the S3 server behind (s3rver) and
its answer relayed. With --store none there is no server behind: a passing
request gets 200 (enough for the signing check alone).

s3rver 3.7 implements neither ListMultipartUploads (it answers 501
NotImplemented) nor AbortMultipartUpload (405). With a server behind, the
proxy keeps the table of multipart uploads it saw started and not yet
completed, answers those two requests itself from it in S3's format
(ListMultipartUploadsResult, two uploads per page so that paging is used;
204 for an abort, 404 NoSuchUpload for an unknown id), and writes the table
to F.multipart (JSON [[key, upload id], ...]) after each change (not with
--no-emulation: then s3rver's own answers come back). The
parts of an aborted upload stay in s3rver's directory (invisible, as on S3
until the abort).

Usage: s3sig_proxy.py --port-file F --key K --secret S [--token T]
                      [--backend http://127.0.0.1:PORT] [--delay SECONDS]
Prints nothing; writes the port it listens on to F, and its counts to
F.counts ("ok refused") after each request, and the Host headers of the
requests that passed to F.hosts, and "METHOD PATH" of each one that
passed to F.requests."""

import argparse
import hashlib
import http.client
import http.server
import re
import socketserver
import sys
import threading
import time
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,"
                     r"\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")

args = None
lock = threading.Lock()
counts = {"ok": 0, "refused": 0}


hosts = set()


def count(what, host=None):
    with lock:
        counts[what] += 1
        if host and host not in hosts:
            hosts.add(host)
            with open(args.port_file + ".hosts", "w") as f:
                f.write("\n".join(sorted(hosts)) + "\n")
        with open(args.port_file + ".counts.tmp", "w") as f:
            f.write("%d %d\n" % (counts["ok"], counts["refused"]))
        import os
        os.replace(args.port_file + ".counts.tmp", args.port_file + ".counts")


uploads = {}   # (key, upload id) -> True, under lock
PAGE = 2


def save_uploads():
    import json
    import os
    with open(args.port_file + ".multipart.tmp", "w") as f:
        json.dump(sorted(uploads), f)
    os.replace(args.port_file + ".multipart.tmp", args.port_file + ".multipart")


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def list_uploads(bucket, q):
    """A ListMultipartUploadsResult page of the table."""
    prefix = q.get("prefix", [""])[0]
    km, im = q.get("key-marker", [""])[0], q.get("upload-id-marker", [""])[0]
    with lock:
        todo = sorted(u for u in uploads if u[0].startswith(prefix) and u > (km, im))
    page, more = todo[:PAGE], len(todo) > PAGE
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>',
           "<Bucket>%s</Bucket><Prefix>%s</Prefix>" % (bucket, xml_escape(prefix)),
           "<IsTruncated>%s</IsTruncated>" % ("true" if more else "false")]
    if more:
        out.append("<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s"
                   "</NextUploadIdMarker>" % (xml_escape(page[-1][0]), page[-1][1]))
    for key, uid in page:
        out.append("<Upload><Key>%s</Key><UploadId>%s</UploadId>"
                   "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>" %
                   (xml_escape(key), uid))
    out.append("</ListMultipartUploadsResult>")
    return "".join(out).encode()


def verify(method, raw_path, headers, body):
    """None when the request is signed right, else why not."""
    auth = headers.get("Authorization", "")
    m = AUTH_RE.match(auth)
    if not m:
        return "no SigV4 Authorization header: %r" % auth
    key, date, region, service, signed, sig = m.groups()
    if key != args.key:
        return "unknown access key %s" % key
    if service != "s3":
        return "service %s, not s3" % service
    names = signed.split(";")
    need = ["host", "x-amz-date", "x-amz-content-sha256"]
    if args.token:
        need.append("x-amz-security-token")
        if headers.get("x-amz-security-token") != args.token:
            return "wrong or missing session token"
    for n in need:
        if n not in names:
            return "%s is not signed (SignedHeaders=%s)" % (n, signed)
    amz_date = headers.get("x-amz-date", "")
    if amz_date[:8] != date:
        return "x-amz-date %s does not match the credential date %s" % (amz_date, date)
    content_sha = headers.get("x-amz-content-sha256", "")
    if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
        return "x-amz-content-sha256 is not the body's SHA-256"
    sign_headers = {}
    for n in names:
        v = headers.get_all(n)
        if v is None:
            return "signed header %s is absent" % n
        sign_headers[n] = ",".join(v)
    req = AWSRequest(method=method, url="http://" + headers["host"] + raw_path,
                     headers=sign_headers, data=body)
    req.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(args.key, args.secret, args.token), "s3", region)
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    if want != sig:
        return "signature mismatch; canonical request was:\n" + canonical
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        why = verify(self.command, self.path, self.headers, body)
        if why:
            count("refused")
            sys.stderr.write("s3sig_proxy: refused %s %s: %s\n" % (self.command, self.path, why))
            out = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                   "SignatureDoesNotMatch</Code><Message>refused by the test proxy</Message>"
                   "</Error>").encode()
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        count("ok", self.headers.get("Host"))
        with lock, open(args.port_file + ".requests", "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        if args.delay and self.command in ("PUT", "POST"):
            time.sleep(args.delay)   # slow uploads (only): a kill lands mid-upload
        if not args.backend:
            self.send_response(200)
            self.send_header("ETag", '"%s"' % hashlib.md5(body).hexdigest())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        # The multipart requests s3rver lacks (see the header).
        sp = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(sp.query, keep_blank_values=True)
        parts = sp.path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        if args.no_emulation:
            pass
        elif self.command == "GET" and not key and "uploads" in q:
            self.answer(200, list_uploads(bucket, q))
            return
        elif self.command == "DELETE" and key and "uploadId" in q:
            with lock:
                found = uploads.pop((key, q["uploadId"][0]), None)
                save_uploads()
            if found:
                self.answer(204, b"")
            else:
                self.answer(404, b"<?xml version=\"1.0\"?>\n<Error><Code>NoSuchUpload</Code>"
                                 b"<Message>no such upload</Message></Error>")
            return
        u = urllib.parse.urlsplit(args.backend)
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in ("expect", "connection", "transfer-encoding")}
            hdrs["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            status, rh = r.status, r.getheaders()
            conn.close()
        except OSError as e:
            self.send_error(502, "backend: %s" % e)
            return
        if self.command == "POST" and key and status == 200:
            if "uploads" in q:
                m = re.search(rb"<UploadId>([^<]+)</UploadId>", data)
                if m:
                    with lock:
                        uploads[(key, m.group(1).decode())] = True
                        save_uploads()
            elif "uploadId" in q:
                with lock:
                    uploads.pop((key, q["uploadId"][0]), None)
                    save_uploads()
        self.send_response(status)
        for k, v in rh:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def answer(self, status, out):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--token", default=None)
    ap.add_argument("--backend", default=None)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--no-emulation", action="store_true",
                    help="forward the multipart listing and abort to s3rver as they are")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
