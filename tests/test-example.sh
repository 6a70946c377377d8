#!/bin/sh
# examples/c against the INSTALLED library: `meson install --destdir` into a
# temporary directory, compile every examples/c/*.c with the flags
# pkg-config gives for the installed tfevents.pc (relocated with
# PKG_CONFIG_SYSROOT_DIR), run it twice into one logdir with LD_LIBRARY_PATH and check its
# logdir (the scalars it prints from its own reader, and eventlint --strict
# when the shared tools are present).
# Usage: test-example.sh BUILD_ROOT SOURCE_ROOT PREFIX LIBDIR
set -eu
build=$1 src=$2 prefix=$3 libdir=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
# Under the sanitizer build (.ci/extra-checks) the installed library needs
# the sanitizer runtime first: build the example with the same flags.
san=
[ -n "${TFEVENTS_SANITIZE:-}" ] && san="-fsanitize=$TFEVENTS_SANITIZE"
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not found"; exit 77; }

meson install -C "$build" --destdir "$tmp/dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
pcdir=$tmp/dest$libdir/pkgconfig
[ -f "$pcdir/tfevents.pc" ] || { echo "FAIL: no tfevents.pc in $pcdir"; exit 1; }
[ -f "$tmp/dest$prefix/include/tfevents.h" ] || { echo "FAIL: tfevents.h not installed"; exit 1; }

# Only the public API is exported.
if command -v nm >/dev/null; then
    bad=$(nm -D --defined-only "$tmp/dest$libdir/libtfevents.so" | awk '{print $3}' |
          grep -v '^tfevents_' | grep -v '^TFEVENTS_' || true)
    [ -z "$bad" ] || { echo "FAIL: libtfevents.so exports more than tfevents_*: $bad"; exit 1; }
fi

# The soname is the ABI version (client/meson.build, libtfevents(3)
# VERSIONS): changing it must be deliberate, here too.
if command -v readelf >/dev/null; then
    soname=$(readelf -d "$tmp/dest$libdir/libtfevents.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ "$soname" = libtfevents.so.1 ] || { echo "FAIL: soname is '$soname', not libtfevents.so.1"; exit 1; }
fi

export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$tmp/dest PKG_CONFIG_LIBDIR=$pcdir
flags=$(pkg-config --cflags --libs tfevents)
status=0
for ex in "$src"/examples/c/*.c; do
    name=$(basename "$ex" .c)
    # shellcheck disable=SC2086
    "$cc" -std=c11 -Wall -Wextra -Werror $san "$ex" $flags -o "$tmp/$name" ||
        { echo "FAIL: $name does not compile with: $flags"; status=1; continue; }
    logdir=$tmp/logs-$name
    # Twice into the same logdir: an example must be re-runnable (the
    # second run continues at the logdir's next steps, 5..9).
    for run in 1 2; do
        # embedded for sure: no daemon on this socket
        if ! TFEVENTS_SOCKET=$tmp/none.sock LD_LIBRARY_PATH=$tmp/dest$libdir \
                "$tmp/$name" "$logdir" >"$tmp/$name.out" 2>&1; then
            cat "$tmp/$name.out"; echo "FAIL: $name exited non-zero (run $run)"; status=1; break
        fi
        last=$((run * 5 - 1))
        for want in "mode: embedded" ". loss 0 1" ". loss $((last - 4)) 1" ". loss $last 0.2" \
                    "validation loss $last 0.3" ". done $last 1"; do
            grep -qx "$want" "$tmp/$name.out" ||
                { cat "$tmp/$name.out"; echo "FAIL: $name: no line '$want' (run $run)"; status=1; }
        done
    done
    if [ -n "${TFEVENTS_SHARED:-}" ] && [ -f "$TFEVENTS_SHARED/tools/eventlint" ]; then
        python3 "$TFEVENTS_SHARED/tools/eventlint" --strict -q "$logdir" ||
            { echo "FAIL: eventlint --strict $logdir"; status=1; }
    else
        echo "note: eventlint part skipped (TFEVENTS_SHARED absent)"
    fi
    [ $status -eq 0 ] && echo "ok   $name"
done
exit $status
