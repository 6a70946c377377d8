#!/bin/sh
# `meson install --destdir` puts every file where it belongs: the programs,
# the system and user units, sysusers.d and tmpfiles.d, the man pages (when
# scdoc was found), the Python client, and whatever else the build declares
# (the library, its header and pkg-config file). The installed units name the installed
# daemon, which runs. Usage (meson passes these):
#   test-install.sh BUILD_ROOT BINDIR SBINDIR MANDIR SYSTEM_UNIT_DIR
#                   USER_UNIT_DIR SYSUSERS_DIR TMPFILES_DIR SCDOC_FOUND
# (directories absolute, as configured; SCDOC_FOUND is true or false).
set -u
[ $# -eq 9 ] || { echo "usage: $0 BUILD BINDIR SBINDIR MANDIR SYSTEMUNITDIR USERUNITDIR SYSUSERSDIR TMPFILESDIR SCDOC" >&2; exit 2; }
BUILD=$1 BINDIR=$2 SBINDIR=$3 MANDIR=$4 SYSUNITS=$5 USERUNITS=$6 SYSUSERS=$7 TMPFILES=$8 SCDOC=$9
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
T=$(mktemp -d "${TMPDIR:-/tmp}/tfev-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
D=$T/dest

# meson test builds only what the selected tests depend on: let install
# build the rest (this test runs alone: is_parallel false).
if ! meson install -C "$BUILD" --destdir "$D" >"$T/log" 2>&1; then
    cat "$T/log"
    echo "FAIL: meson install"
    exit 1
fi

# The files of this project we know by name.
expect_file() {
    [ -f "$D$1" ] || fail "$1 not installed"
}
expect_file "$BINDIR/tfevents"
expect_file "$SBINDIR/tfeventsd"
[ -x "$D$SBINDIR/tfeventsd" ] || fail "$SBINDIR/tfeventsd is not executable"
[ -x "$D$BINDIR/tfevents" ] || fail "$BINDIR/tfevents is not executable"
for u in tfeventsd.service tfeventsd.socket; do
    expect_file "$SYSUNITS/$u"
    expect_file "$USERUNITS/$u"
done
expect_file "$SYSUSERS/tfevents.conf"
expect_file "$TMPFILES/tfevents.conf"
if [ "$SCDOC" = true ]; then
    expect_file "$MANDIR/man8/tfeventsd.8"
    expect_file "$MANDIR/man1/tfevents.1"
else
    echo "note: scdoc not found at configure time; man pages not expected"
fi

# Everything the build declares (other components included) is there.
meson introspect "$BUILD" --installed >"$T/installed.json" 2>"$T/err" ||
    fail "meson introspect --installed: $(cat "$T/err")"
python3 - "$T/installed.json" "$D" >"$T/missing" <<'EOF'
import json, os, sys
declared = json.load(open(sys.argv[1]))
for dst in sorted(set(declared.values())):
    if not os.path.lexists(sys.argv[2] + dst):
        print(dst)
print("declared: %d" % len(declared), file=sys.stderr)
EOF
if [ -s "$T/missing" ]; then
    fail "declared but not installed: $(tr '\n' ' ' <"$T/missing")"
fi
# The library (another component) is checked only when it is declared.
if grep -q '"[^"]*/tfevents\.h"' "$T/installed.json"; then
    grep -q '/pkgconfig/tfevents\.pc"' "$T/installed.json" ||
        fail "tfevents.h is installed without a pkg-config file"
fi

# Installed units point at the installed daemon (prefix-aware ExecStart=).
for f in "$D$SYSUNITS/tfeventsd.service" "$D$USERUNITS/tfeventsd.service"; do
    [ -f "$f" ] || continue
    exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$f")
    [ "$exe" = "$SBINDIR/tfeventsd" ] || fail "$f: ExecStart=$exe, expected $SBINDIR/tfeventsd"
    grep -q '@[A-Za-z_]*@' "$f" && fail "$f: unsubstituted @variable@"
done
grep -q '^ListenStream=/run/tfevents/tfevents.sock$' "$D$SYSUNITS/tfeventsd.socket" 2>/dev/null ||
    fail "system socket unit does not listen on /run/tfevents/tfevents.sock"

# The installed programs run.
"$D$SBINDIR/tfeventsd" --version >"$T/out" 2>&1 || fail "installed tfeventsd --version: $(cat "$T/out")"
"$D$BINDIR/tfevents" --help >"$T/out" 2>&1 || fail "installed tfevents --help: $(cat "$T/out")"

# The Python client (client/python) is installed with the rest, when meson
# found a Python, and imports from where it went.
pyinit=$(python3 - "$T/installed.json" <<'EOF'
import json, sys
for dst in json.load(open(sys.argv[1])).values():
    if dst.endswith("/tfevents/__init__.py"):
        print(dst)
EOF
)
if [ -n "$pyinit" ]; then
    pydir=$(dirname "$(dirname "$pyinit")")
    (cd "$T" && PYTHONPATH="$D$pydir" python3 -c \
        'import sys, tfevents, tfevents.torch; assert tfevents.__file__.startswith(sys.argv[1])' \
        "$D$pydir" >"$T/out" 2>&1) || fail "installed Python client does not import: $(cat "$T/out")"
else
    echo "note: meson found no Python; the Python client is not installed"
fi

# The sysusers.d file creates the user and group the units name.
if command -v systemd-sysusers >/dev/null 2>&1; then
    mkdir -p "$T/root/etc"
    if systemd-sysusers --root="$T/root" --dry-run "$D$SYSUSERS/tfevents.conf" >"$T/out" 2>&1; then
        grep -q "user 'tfevents'" "$T/out" || fail "sysusers.d creates no user tfevents: $(cat "$T/out")"
        grep -q "group 'tfevents'" "$T/out" || fail "sysusers.d creates no group tfevents: $(cat "$T/out")"
    else
        fail "systemd-sysusers --dry-run: $(cat "$T/out")"
    fi
else
    echo "note: systemd-sysusers not installed; sysusers.d file not checked"
fi

n=$(find "$D" -type f | wc -l)
echo "installed $n files under $D"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok"
