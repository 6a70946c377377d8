"""Where `meson install` puts the tfevents package: a directory on this
Python's import path under the install prefix when there is one.

Usage: install_dir.py PREFIX MESON_DEFAULT  (prints an absolute directory)"""

import os
import sys
import sysconfig


def main():
    prefix = os.path.normpath(sys.argv[1])
    fallback = sys.argv[2]
    # The interpreter's own scheme (Debian: posix_local for /usr/local).
    cands = [sysconfig.get_paths()["purelib"]]
    cands += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    for c in cands:
        c = os.path.normpath(c)
        if c.startswith(prefix + os.sep):
            print(c)
            return
    print(fallback if os.path.isabs(fallback) else os.path.join(prefix, fallback))


main()
