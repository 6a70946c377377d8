#!/usr/bin/env python3
"""The R client (client/r, package tfeventsd) against the real daemon.

Installs the package into a temporary library (R CMD INSTALL, offline),
starts tfeventsd with --tcp-port (its token file beside the socket) and
runs, with Rscript in the daemon's root:
  - tests/r/test-api.R: the whole API, read back with collect_events();
  - tests/r/tfevents-script.R: a script for the R tfevents package with
    only its library() line changed.
Each must print "ok"; every logdir they write then passes eventlint
--strict (skipped with a note when TFEVENTS_SHARED is absent). Skipped
(exit 77) when Rscript is not installed.

Standard library only; the harness is test-daemon.py's.
Usage: test-r-client.py [TEST-NAME-SUBSTRING]"""

import importlib.util
import os
import shutil
import subprocess
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("tdaemon", os.path.join(_here, "test-daemon.py"))
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)
_spec = importlib.util.spec_from_file_location("texamples", os.path.join(_here, "test-examples.py"))
tx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tx)
Daemon, check, Skip = td.Daemon, td.check, td.Skip

SOURCE = os.environ.get("TFEVENTS_SOURCE_ROOT") or os.path.dirname(_here)
CLI = os.path.abspath(os.environ.get("TFEVENTS_CLI") or os.path.join(td.BUILD, "client", "tfevents"))


def install(tmp):
    """The package in a library of its own; returns its path."""
    r = shutil.which("R")
    if not r or not shutil.which("Rscript"):
        raise Skip("R (Rscript) not installed")
    lib = os.path.join(tmp, "rlib")
    os.mkdir(lib)
    p = subprocess.run([r, "CMD", "INSTALL", "--no-test-load", "-l", lib,
                        os.path.join(SOURCE, "client", "r")],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "R CMD INSTALL failed:\n%s%s" % (p.stdout, p.stderr))
    return lib


def run_script(tmp, script, timeout=300, after=None):
    lib = install(tmp)
    port = tx.free_port()
    d = Daemon(tmp, "--tcp-port", str(port))
    try:
        os.makedirs(d.root, exist_ok=True)
        root = d.root
        env = dict(os.environ, R_LIBS=lib, TFEVENTSD_TCP_PORT=str(port),
                   TFEVENTSD_TOKEN_FILE=d.sock + ".token", TFEVENTS_CLI=CLI)
        p = subprocess.run(["Rscript", "--no-save", "--no-restore", "--no-init-file",
                            os.path.join(SOURCE, "tests", "r", script)],
                           cwd=d.root, env=env, capture_output=True, text=True,
                           timeout=timeout)
        check(p.returncode == 0 and p.stdout.strip().endswith("ok"),
              "%s exited %d\nstdout: %s\nstderr: %s\ndaemon log (tail):\n%s" %
              (script, p.returncode, p.stdout, p.stderr, d.stderr()[-3000:]))
        logdirs = sorted(os.listdir(d.root))
        check(logdirs, "no logdir written")
        rc = d.stop()
        d = None
        check(rc == 0, "daemon exit status %d" % rc)
        for name in logdirs:
            td.eventlint(os.path.join(root, name))
        if after:
            after(root)
        return logdirs
    finally:
        if d is not None:
            d.stop()


def test_api(tmp):
    logdirs = run_script(tmp, "test-api.R")
    check({"logs", "hist", "media", "packed", "burst", "unbatched", "text", "hp", "inc",
           "refused"} <= set(logdirs),
          "logdirs %s" % logdirs)


def test_tfevents_script(tmp):
    logdirs = run_script(tmp, "tfevents-script.R")
    check(logdirs == ["script-logs"], "logdirs %s" % logdirs)


def test_exit(tmp):
    """Lines held at exit reach the daemon (the package's exit finalizer)."""
    def count(root):
        p = subprocess.run([CLI, "collect", os.path.join(root, "exit-logs"), "--type", "scalar",
                            "--format", "csv"], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "collect: %s" % p.stderr)
        rows = p.stdout.strip().split("\n")[1:]
        check(len(rows) == 5000, "%d scalars in the files, 5000 logged" % len(rows))
        check(rows[-1].split(",")[-1] in ("5000", "5000.0"), "last row %s" % rows[-1])
    run_script(tmp, "test-exit.R", after=count)


def test_help(tmp):
    """Every exported function has a help page whose usage matches the code
    (the Rd checks of R CMD check: checkRd, codoc, undoc, checkDocFiles)."""
    lib = install(tmp)
    code = ('for (f in list.files(file.path(Sys.getenv("SRC"), "client/r/man"), full.names = TRUE))'
            '  print(tools::checkRd(f));'
            'lib <- Sys.getenv("RLIB");'
            'print(tools::codoc(package = "tfeventsd", lib.loc = lib));'
            'print(tools::undoc(package = "tfeventsd", lib.loc = lib));'
            'print(tools::checkDocFiles(package = "tfeventsd", lib.loc = lib));'
            'cat("checked\\n")')
    p = subprocess.run(["Rscript", "--no-init-file", "-e", code], capture_output=True, text=True,
                       env=dict(os.environ, SRC=SOURCE, RLIB=lib), timeout=300)
    check(p.returncode == 0 and p.stdout.strip() == "checked",
          "Rd checks:\n%s%s" % (p.stdout, p.stderr))


TESTS = [test_api, test_tfevents_script, test_exit, test_help]


def main():
    if not os.path.exists(td.DAEMON):
        print("daemon not found at %s" % td.DAEMON)
        return 1
    if not shutil.which("Rscript"):
        print("SKIP: Rscript not installed (apt-get install r-base-core)")
        return 77
    failed, ran = td.run_tests(TESTS, sys.argv[1] if len(sys.argv) > 1 else "", prefix="tfr.")
    if failed:
        return 1
    return 0 if ran else 77


if __name__ == "__main__":
    sys.exit(main())
