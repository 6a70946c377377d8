"""A script written for torch.utils.tensorboard runs with only its import
changed, through the daemon and in-process; with Python lists, and with
numpy arrays and torch tensors when those are installed."""

import os
import subprocess
import sys

import pytest

import tfevents
from conftest import DAEMON, Daemon, eventlint, need_library

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "pytorch_style_train.py")
TORCH_IMPORT = "from torch.utils.tensorboard import SummaryWriter"
OUR_IMPORT = "from tfevents.torch import SummaryWriter"


def converted(tmp):
    with open(SCRIPT) as f:
        src = f.read().splitlines(True)
    out = [line.replace(TORCH_IMPORT, OUR_IMPORT) for line in src]
    changed = [i for i, (a, b) in enumerate(zip(src, out)) if a != b]
    assert len(changed) == 1, "exactly the import line changes"
    path = os.path.join(str(tmp), "train.py")
    with open(path, "w") as f:
        f.writelines(out)
    return path


def run_script(tmp, cwd, env):
    e = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), **env)
    p = subprocess.run([sys.executable, converted(tmp)], cwd=cwd, env=e, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return os.path.join(cwd, p.stdout.strip().splitlines()[-1])


def check(logdir):
    assert "_lr0.1" in logdir and os.sep + "runs" + os.sep in logdir
    rows = tfevents.collect_events(logdir, type="summary", as_frame=False)
    by = {}
    for r in rows:
        by.setdefault((r["run"], r["tag"]), []).append(r)
    assert [r["step"] for r in by[(".", "Loss/train")]] == list(range(20))
    assert abs(by[(".", "Loss/test")][3]["value"] - 1.1 / 4) < 1e-6
    # torch's run names for add_scalars: <main_tag>_<tag>
    assert len(by[("run_14h_xsinx", "run_14h")]) == 20
    assert len(by[("run_14h_xcosx", "run_14h")]) == 20
    assert [r["step"] for r in by[(".", "weights")]] == [0, 5, 10, 15]
    img = by[(".", "sample")][0]["value"]
    assert (img["width"], img["height"], len(img["images"])) == (8, 6, 1)
    hwc = by[(".", "sample_hwc")][0]["value"]
    assert (hwc["width"], hwc["height"]) == (8, 6)
    batch = by[(".", "batch")][0]["value"]
    assert (batch["width"], batch["height"], len(batch["images"])) == (8, 6, 2)
    assert by[(".", "note")][0]["value"] == "epoch 0, loss **1.000**"
    assert by[(".", "tone")][0]["value"][0][:4] == b"RIFF"
    assert by[(".", "pr")][0]["plugin"] == "pr_curves"
    hp = [k for k in by if k[1] == "_hparams_/session_start_info"]
    assert len(hp) == 1
    assert (hp[0][0], "hparam/accuracy") in by
    eventlint(logdir)


@pytest.mark.parametrize("tensors", ["python", "numpy", "torch"])
@pytest.mark.parametrize("mode", ["daemon", "embedded"])
def test_pytorch_script_with_changed_import(tmp_path, mode, tensors):
    if tensors != "python":
        pytest.importorskip(tensors)
    env = {"TRAIN_TENSORS": tensors}
    if mode == "daemon":
        if not os.path.exists(DAEMON):
            pytest.skip("tfeventsd not built")
        d = Daemon(tmp_path)
        try:
            os.makedirs(d.root, exist_ok=True)
            env["TFEVENTS_SOCKET"] = d.sock
            env["TFEVENTS_MODE"] = "daemon"
            # The default logdir runs/... is relative: run under the root.
            logdir = run_script(tmp_path, d.root, env)
        finally:
            assert d.stop() == 0
    else:
        need_library()
        env["TFEVENTS_MODE"] = "embedded"
        logdir = run_script(tmp_path, str(tmp_path), env)
    check(logdir)
