"""A PEP 517 build backend for the tfevents package, standard library only:
the wheel is the package directory plus the dist-info files, zipped.
Metadata comes from pyproject.toml's [project] table (name, version,
description, requires-python)."""

import base64
import hashlib
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "tfevents"


def _project():
    text = open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8").read()
    section = text.split("[project]", 1)[1].split("\n[", 1)[0]
    out = {}
    for key in ("name", "version", "description", "requires-python"):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), section, re.M)
        if m:
            out[key] = m.group(1)
    return out


def _metadata(p):
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % p["version"],
             "Summary: %s" % p.get("description", ""), "License: MIT"]
    if "requires-python" in p:
        lines.append("Requires-Python: %s" % p["requires-python"])
    return "\n".join(lines) + "\n"


def _files():
    root = os.path.join(HERE, PACKAGE)
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py") or f == "py.typed":
                full = os.path.join(d, f)
                yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + h.decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _wheel(wheel_directory, editable=False):
    p = _project()
    dist = "%s-%s" % (p["name"], p["version"])
    name = "%s-py3-none-any.whl" % dist
    info = dist + ".dist-info"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        def add(arc, data):
            z.writestr(arc, data)
            record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        if editable:
            add(PACKAGE + ".pth", (HERE + "\n").encode())
        else:
            for full, arc in _files():
                with open(full, "rb") as f:
                    add(arc, f.read())
        add(info + "/METADATA", _metadata(p).encode())
        add(info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: tfevents-backend\n"
                              "Root-Is-Purelib: true\nTag: py3-none-any\n").encode())
        record.append(info + "/RECORD,,")
        z.writestr(info + "/RECORD", "\n".join(record) + "\n")
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    dist = "%s-%s" % (p["name"], p["version"])
    name = dist + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "_build/backend.py"] + [a for _, a in _files()]:
            t.add(os.path.join(HERE, rel), dist + "/" + rel)
        pkg = _metadata(p).encode()
        import io
        ti = tarfile.TarInfo(dist + "/PKG-INFO")
        ti.size = len(pkg)
        t.addfile(ti, io.BytesIO(pkg))
    return name
