#!/usr/bin/env python3
"""Log to tfeventsd from Python with the tfevents package (client/python:
`pip install ./client/python`, or `meson install`; standard library only).

Usage: tfevents_client.py SOCKET LOGDIR

SOCKET is the daemon's Unix socket (by default the package finds it like
libtfevents: $TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock); LOGDIR
is a directory relative to the daemon's root. Logs five steps of scalars
(loss, train/acc), a text and a histogram with the R-style API, at the
logdir's next steps (its counter: running the example again continues
after the steps already there instead of being refused), then flushes: flush() returns once everything is in the files, and raises
tfevents.RefusedError if the daemon refused anything.

The same through the PyTorch-style writer:

    from tfevents import SummaryWriter      # instead of torch.utils.tensorboard
    w = SummaryWriter("logs/demo")
    w.add_scalar("loss", 0.5, step)
"""

import os
import sys

try:
    import tfevents
except ImportError:  # run from a checkout without installing
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "..", "..", "client", "python"))
    import tfevents


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    client = tfevents.Client(mode="daemon", socket_path=sys.argv[1])
    logdir = os.path.join(client.root, sys.argv[2])
    for i in range(5):
        values = {"loss": 1.0 / (i + 1), "train": {"acc": i / 4}}
        if i == 0:
            values["notes"] = "hello from **Python**"
        if i == 4:
            values["weights"] = tfevents.summary_histogram([0.1, 0.2, 0.2, 0.7, 1.5])
        # No step: each call takes the logdir's next one.
        tfevents.log_event(values, logdir=logdir, client=client)
    try:
        client.flush(sync=True)
    except tfevents.RefusedError as e:
        print("refused: %s" % e, file=sys.stderr)
        return 1
    finally:
        client.close(raise_errors=False)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
