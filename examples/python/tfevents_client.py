#!/usr/bin/env python3
"""Log to tfeventsd from Python with nothing but the standard library.

Usage: tfevents_client.py SOCKET LOGDIR

SOCKET is the daemon's Unix socket (e.g. $XDG_RUNTIME_DIR/tfevents.sock);
LOGDIR is a directory relative to the daemon's root. Logs five steps of
scalars (loss, train/acc), a text and a histogram, then flushes and checks
every reply. The protocol is in docs/protocol.md: one JSON object per line,
one reply line for each request that carries an "id"."""

import json
import socket
import sys


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(30)
        self.buf = b""
        self.next_id = 0

    def request(self, msg):
        """Send msg with a fresh id and return its reply (a dict)."""
        self.next_id += 1
        msg = dict(msg, id=self.next_id)
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the daemon closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                return reply

    def close(self):
        self.sock.close()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, logdir = sys.argv[1], sys.argv[2]
    c = Client(path)
    failed = 0
    for step in range(5):
        values = {"loss": 1.0 / (step + 1), "train": {"acc": step / 4}}
        if step == 0:
            values["notes"] = "hello from **Python**"
        if step == 4:
            values["weights"] = {"$histogram": {"values": [0.1, 0.2, 0.2, 0.7, 1.5]}}
        r = c.request({"logdir": logdir, "step": step, "values": values})
        if not r.get("ok"):
            print("step %d refused: %s" % (step, r.get("error")), file=sys.stderr)
            failed += 1
    # The reply to a flush comes once everything before it is in the files.
    r = c.request({"op": "flush", "logdir": logdir, "sync": True})
    c.close()
    if not r.get("ok"):
        print("flush failed: %s" % r.get("error"), file=sys.stderr)
        return 1
    if failed:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
