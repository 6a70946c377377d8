"""A training loop written for torch.utils.tensorboard. test_dropin.py runs
it with only the import line changed (to tfevents.torch). It needs no
torch: the data are Python lists unless TRAIN_TENSORS is "numpy" or
"torch", when they are converted to those before they are logged.

Prints the logdir it wrote."""

import math
import os
import random

from torch.utils.tensorboard import SummaryWriter

KIND = os.environ.get("TRAIN_TENSORS", "python")
if KIND == "numpy":
    import numpy

    def tensor(x, dtype=None):
        return numpy.asarray(x, dtype=dtype or "float32")
elif KIND == "torch":
    import torch

    def tensor(x, dtype=None):
        return torch.tensor(x, dtype=torch.uint8 if dtype == "uint8" else torch.float32)
else:
    def tensor(x, dtype=None):
        return x

random.seed(1)
writer = SummaryWriter(comment="_lr0.1")
weights = [random.gauss(0, 1) for _ in range(1000)]
lr = 0.1
for epoch in range(20):
    loss = 1.0 / (epoch + 1)
    writer.add_scalar("Loss/train", loss, epoch)
    writer.add_scalar("Loss/test", loss * 1.1, epoch)
    writer.add_scalars("run_14h", {"xsinx": epoch * math.sin(epoch / 5),
                                   "xcosx": epoch * math.cos(epoch / 5)}, epoch)
    weights = [w * (1 - lr * loss) for w in weights]
    if epoch % 5 == 0:
        writer.add_histogram("weights", tensor(weights), epoch)
        img = [[[(x + y + c) / 30 for x in range(8)] for y in range(6)] for c in range(3)]
        writer.add_image("sample", tensor(img), epoch)                       # CHW
        hwc = [[[int(255 * x / 7), int(255 * y / 5), 0] for x in range(8)] for y in range(6)]
        writer.add_image("sample_hwc", tensor(hwc, "uint8"), epoch, dataformats="HWC")
        writer.add_images("batch", tensor([img, img]), epoch)                # NCHW
        writer.add_text("note", "epoch %d, loss **%.3f**" % (epoch, loss), epoch)
        tone = [[0.5 * math.sin(2 * math.pi * 440 * i / 8000) for i in range(800)]]
        writer.add_audio("tone", tensor(tone), epoch, sample_rate=8000)
labels = [random.random() < 0.5 for _ in range(100)]
preds = [min(1.0, max(0.0, (0.7 if lab else 0.3) + random.gauss(0, 0.2))) for lab in labels]
writer.add_pr_curve("pr", tensor([float(x) for x in labels]), tensor(preds), 0)
writer.add_hparams({"lr": lr, "bsize": 32, "optimizer": "sgd"},
                   {"hparam/accuracy": 0.9, "hparam/loss": 0.1})
writer.flush()
writer.close()
print(writer.log_dir)
