"""`pip install ./client/python` works offline (no index, build isolation
on): the build backend needs nothing but the standard library."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)


def test_pip_install_offline(tmp_path):
    try:
        import pip  # noqa: F401
    except ImportError:
        pytest.skip("pip is not installed for %s (apt-get install python3-pip)" % sys.executable)
    target = str(tmp_path / "site")
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--target", target, PROJECT],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert os.path.exists(os.path.join(target, "tfevents", "writer.py"))
    code = ("import tfevents, tfevents.torch, sys; "
            "assert tfevents.__file__.startswith(sys.argv[1]), tfevents.__file__; "
            "print(tfevents.__version__)")
    env = dict(os.environ, PYTHONPATH=target)
    p = subprocess.run([sys.executable, "-c", code, target], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path))
    assert p.returncode == 0 and p.stdout.strip() == "0.1.0", p.stderr
