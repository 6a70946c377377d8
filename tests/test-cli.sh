#!/bin/sh
# tfevents CLI: exit codes and output of collect, dump, --help, bad usage,
# on golden fixtures and on files this script makes from them (truncated,
# corrupted copies), and tail following a logdir that WRITE_EVENTS (the
# tests/write-events helper) writes to. Usage:
#   test-cli.sh PATH_TO_TFEVENTS [PATH_TO_WRITE_EVENTS]
# Needs TFEVENTS_SHARED for the golden data; skips (77) without it.
set -u
TFEVENTS=${1:?usage: test-cli.sh TFEVENTS [WRITE_EVENTS]}
case $TFEVENTS in /*) ;; *) TFEVENTS=$(pwd)/$TFEVENTS ;; esac
W=${2:-}
case $W in /*|'') ;; *) W=$(pwd)/$W ;; esac
fails=0
T=$(mktemp -d "${TMPDIR:-/tmp}/tfev-cli.XXXXXX")
TP=
trap '[ -n "$TP" ] && kill "$TP" 2>/dev/null; rm -rf "$T"' EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS CMD...: run, keep stdout in $T/out and stderr in $T/err.
expect() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want ($(head -c 300 "$T/err"))"
}
has() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2'"; }
lines() { n=$(wc -l <"$1"); [ "$n" -eq "$2" ] || fail "$1 has $n lines, expected $2"; }
# wait_for FILE TEXT: until FILE holds TEXT, for at most 10 s.
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1"; do
        i=$((i + 1))
        [ "$i" -gt 200 ] && { fail "$1 lacks '$2' after 10 s"; return 1; }
        sleep 0.05
    done
}
# stop_tail SIGNAL: stop the background tail, which must exit 0.
stop_tail() {
    kill "-$1" "$TP"
    wait "$TP"
    st=$?
    TP=
    [ "$st" -eq 0 ] || fail "tail exited $st after SIG$1"
}

# Usage and help, no data needed.
expect 0 "$TFEVENTS" --version;               has "$T/out" "tfevents "
expect 0 "$TFEVENTS" --help;                  has "$T/out" "collect"
expect 0 "$TFEVENTS" collect --help;          has "$T/out" "--type"
expect 0 "$TFEVENTS" dump --help;             has "$T/out" "usage: tfevents dump"
expect 2 "$TFEVENTS"
expect 2 "$TFEVENTS" frobnicate;              has "$T/err" "unknown command"
expect 2 "$TFEVENTS" collect --type bogus
expect 2 "$TFEVENTS" collect --format xml
expect 2 "$TFEVENTS" collect -n many
expect 2 "$TFEVENTS" collect --no-such-option
expect 2 "$TFEVENTS" collect a b
expect 2 "$TFEVENTS" dump
expect 3 "$TFEVENTS" collect "$T/missing"
expect 3 "$TFEVENTS" dump "$T/missing"
mkdir "$T/empty"
expect 0 "$TFEVENTS" collect "$T/empty" --format csv;  lines "$T/out" 1
# Default LOGDIR is ./logs.
(cd "$T" && expect 3 "$TFEVENTS" collect);   has "$T/err" "logs"

# The daemon commands (tested with a daemon in test-cli-daemon.py): help,
# bad usage, and no daemon on the socket (exit 3).
for c in log send step stats ping; do
    expect 0 "$TFEVENTS" "$c" --help;         has "$T/out" "usage: tfevents $c"
done
expect 2 "$TFEVENTS" log
expect 2 "$TFEVENTS" log no-value
expect 2 "$TFEVENTS" step
expect 2 "$TFEVENTS" step set
expect 2 "$TFEVENTS" ping extra
(
    export TFEVENTS_SOCKET="$T/none.sock"
    expect 3 "$TFEVENTS" ping;                has "$T/err" "$T/none.sock"
    expect 3 "$TFEVENTS" stats
    expect 3 "$TFEVENTS" step get
    expect 3 "$TFEVENTS" log --daemon x=1
    echo '{"op":"ping"}' >"$T/ping.jsonl"
    expect 3 "$TFEVENTS" send "$T/ping.jsonl"
    # No daemon: log writes the files itself.
    cd "$T" && expect 0 "$TFEVENTS" log --logdir "$T/own" --print-step x=1
    has "$T/out" "0"
    expect 0 "$TFEVENTS" collect "$T/own" --type scalar --format csv
    has "$T/out" ".,x,0,"
    [ "$fails" -eq 0 ] || exit 1
) || fail "daemon command checks"
rm -rf "$T/own"

# tail: usage, then following a logdir while write-events writes to it.
expect 0 "$TFEVENTS" tail --help;             has "$T/out" "usage: tfevents tail"
expect 2 "$TFEVENTS" tail
expect 2 "$TFEVENTS" tail "$T" --interval 0
expect 2 "$TFEVENTS" tail "$T" --interval soon
expect 3 "$TFEVENTS" tail "$T/missing"
if [ -n "$W" ]; then
    L=$T/live
    mkdir "$L"
    F=$("$W" new "$L/run1" loss 0 1.5 2.5) || fail "write-events new"
    "$TFEVENTS" tail "$L" --plain --interval 0.05 >"$T/tail.out" 2>"$T/tail.err" &
    TP=$!
    wait_for "$T/tail.out" "run1 loss 1 1700000001 2.5"
    # Records appended to the file tail is reading.
    "$W" append "$F" loss 2 3.5 || fail "write-events append"
    wait_for "$T/tail.out" "run1 loss 2 1700000002 3.5"
    # Half a record: nothing shown until the rest arrives.
    "$W" head "$F" loss 3 4.5 || fail "write-events head"
    sleep 0.4
    grep -q "loss 3 " "$T/tail.out" && fail "tail printed a truncated record"
    "$W" rest "$F" loss 3 4.5 || fail "write-events rest"
    wait_for "$T/tail.out" "run1 loss 3 1700000003 4.5"
    # A run directory created after tail started.
    "$W" new "$L/later/run2" acc 7 0.25 >/dev/null || fail "write-events new run2"
    wait_for "$T/tail.out" "later/run2 acc 7 1700000007 0.25"
    stop_tail INT
    lines "$T/tail.out" 5
    has "$T/tail.out" "run1 loss 0 1700000000 1.5"
    [ -s "$T/tail.err" ] && fail "tail wrote to stderr: $(head -c 300 "$T/tail.err")"
    # SIGTERM stops it cleanly too.
    "$TFEVENTS" tail "$L" --plain --interval 0.05 >"$T/tail.out" 2>"$T/tail.err" &
    TP=$!
    wait_for "$T/tail.out" "later/run2 acc 7"
    stop_tail TERM
else
    echo "SKIP tail following checks: no write-events helper given"
fi

if [ -z "${TFEVENTS_SHARED:-}" ] || [ ! -d "$TFEVENTS_SHARED/golden" ]; then
    echo "SKIP golden parts: shared golden data absent (TFEVENTS_SHARED)"
    [ "$fails" -eq 0 ] || exit 1
    exit 77
fi
G=$TFEVENTS_SHARED/golden

# collect: scalar rows (3 tags x 10 steps), each format.
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --type scalar --format csv
lines "$T/out" 31
has "$T/out" "run,tag,step,wall_time,value"
# float32 scalars: the shortest decimal that reads back as that float32;
# --precision full: the exact double.
has "$T/out" "pb,accuracy,1,1700000001,0.1"
has "$T/out" "writer,loss,2,1700000002,0.33333334"
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --type scalar --format csv \
    --precision full
has "$T/out" "pb,accuracy,1,1700000001,0.10000000149011612"
has "$T/out" "writer,loss,2,1700000002,0.3333333432674408"
expect 2 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --precision some
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --type scalar --format jsonl
lines "$T/out" 30
has "$T/out" '{"run":"pb","tag":"accuracy","step":1,"wall_time":1700000001,"value":0.1}'
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --type scalar --format jsonl -p full
has "$T/out" '{"run":"pb","tag":"accuracy","step":1,"wall_time":1700000001,"value":0.10000000149011612}'
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/scalar" --type scalar
lines "$T/out" 31
head -n 1 "$T/out" | grep -q '^run  *tag  *step  *wall_time  *value$' || fail "table header"
# Legacy simple_value (tensorboardX), runs in subdirectories.
expect 0 "$TFEVENTS" collect "$G/writers/tensorboardX/scalar" --type scalar --format csv
lines "$T/out" 31
has "$T/out" "multi/b,multi,3,1700000003,6"

# --type any: one row per event, file_version included; -n limits.
expect 0 "$TFEVENTS" collect "$G/edge/multifile" --type any --format csv
lines "$T/out" 13
has "$T/out" "run,step,wall_time,kind"
has "$T/out" ".,0,1700000000,file_version"
expect 0 "$TFEVENTS" collect "$G/edge/multifile" -n 3 --format csv
lines "$T/out" 4

# --type summary: plugins and decoded values.
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/text" --type summary --format csv
has "$T/out" "run,step,wall_time,tag,plugin,value"
has "$T/out" ".,0,1700000000,notes,text,**step** 0: hello _markdown_"
has "$T/out" '.,3,1700000003,table,text,"[[""a"",""b""],[""c"",""d""]]"'
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/audio" --type summary --format jsonl
has "$T/out" '"sample_rate":16000,"channels":1,"frames":4000'
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/hparams" --type summary --format jsonl -n 1
lines "$T/out" 1
has "$T/out" '"plugin":"hparams"'

# Images of the R package (sizes stored as raw bytes): numbers all the same,
# from the PNG header.
expect 0 "$TFEVENTS" collect "$G/writers/tfevents-r/image" --type summary --format jsonl -n 1
has "$T/out" '"value":{"width":5,"height":4,"count":2,'
expect 0 "$TFEVENTS" collect "$G/writers/tensorboard/image" --type summary --format csv -n 1
has "$T/out" '{""width"":8,""height"":6,""count"":3,'

# Session logs show their status (a START is a restart).
expect 0 "$TFEVENTS" collect "$G/edge/purge_start" --format csv
has "$T/out" ".,5,1700000055,session_log START"
expect 0 "$TFEVENTS" collect "$G/edge/purge_start" --format jsonl
has "$T/out" '"step":5,"wall_time":1700000055,"kind":"session_log START"}'

# Corruption: collect reports and exits 1; truncation is a warning.
expect 1 "$TFEVENTS" collect "$G/edge/bad_crc" --type scalar --format csv
has "$T/err" "offset 116"
lines "$T/out" 3
expect 0 "$TFEVENTS" collect "$G/edge/truncated" --type scalar --format csv
has "$T/err" "offset 233: truncated record"
lines "$T/out" 6

# tail summarises non-scalar values.
"$TFEVENTS" tail "$G/writers/tensorboard" --plain --interval 0.05 >"$T/tail.out" 2>"$T/tail.err" &
TP=$!
wait_for "$T/tail.out" "image sample/image_summary 2 1700000002 image 8x6 x3"
wait_for "$T/tail.out" "histogram weights "
stop_tail INT
has "$T/tail.out" "audio tone/audio_summary 0 "
has "$T/tail.out" "audio x2 16000Hz 4000 frames"
grep -qx "scalar/pb accuracy 1 1700000001 0.1" "$T/tail.out" || fail "tail: float32 0.1"
"$TFEVENTS" tail "$G/writers/tensorboard/scalar" --plain --interval 0.05 --precision full \
    >"$T/tail.out" 2>"$T/tail.err" &
TP=$!
wait_for "$T/tail.out" "pb accuracy 1 1700000001 0.10000000149011612"
stop_tail TERM
expect 2 "$TFEVENTS" tail "$G/writers/tensorboard/scalar" --precision some

# dump on golden files.
expect 0 "$TFEVENTS" dump "$G/minimal/events.out.tfevents.1700000000.golden"
has "$T/out" 'offset 0: record 0, 40 bytes (payload 24), CRCs ok'
has "$T/out" 'file_version "brain.Event:2"'
has "$T/out" 'offset 40: record 1, 55 bytes'
has "$T/out" 'tag "loss": plugin scalars, DATA_CLASS_SCALAR'
has "$T/out" '= 0.5'
expect 1 "$TFEVENTS" dump "$G/edge/bad_crc/events.out.tfevents.1700000000.h"
has "$T/out" "offset 116: data CRC mismatch; stopping"
expect 1 "$TFEVENTS" dump "$G/edge/bad_length_crc/events.out.tfevents.1700000000.h"
has "$T/out" "offset 77: length CRC mismatch; stopping"
expect 1 "$TFEVENTS" dump "$G/edge/truncated/events.out.tfevents.1700000000.h"
has "$T/out" "offset 233: truncated record (file ends 28 bytes into a 39-byte record)"
expect 1 "$TFEVENTS" dump "$G/edge/garbage_record/a_garbage/events.out.tfevents.1700000000.h"
has "$T/out" "offset 77:"

# Files made here: cut and damaged copies of the minimal file (95 bytes:
# records at 0 (40 bytes) and 40 (55 bytes)).
M=$G/minimal/events.out.tfevents.1700000000.golden
mkdir "$T/made"
head -c 45 "$M" >"$T/made/events.out.tfevents.1.cut"
expect 1 "$TFEVENTS" dump "$T/made/events.out.tfevents.1.cut"
has "$T/out" "offset 40: truncated record (file ends 5 bytes into the 12-byte record header)"
head -c 60 "$M" >"$T/made/events.out.tfevents.1.cut"
expect 1 "$TFEVENTS" dump "$T/made/events.out.tfevents.1.cut"
has "$T/out" "offset 40: truncated record (file ends 20 bytes into a 55-byte record)"
cp "$M" "$T/made/events.out.tfevents.1.cut"
expect 0 "$TFEVENTS" dump "$T/made/events.out.tfevents.1.cut"
# Flip a payload byte of the second record (offset 40 + 12 + 10).
cp "$M" "$T/flip"
printf '\377' | dd of="$T/flip" bs=1 seek=62 conv=notrunc 2>/dev/null
expect 1 "$TFEVENTS" dump "$T/flip"
has "$T/out" "offset 40: data CRC mismatch; stopping"
# Several files (a run after a daemon restart holds two): each is dumped in
# the order given, after a header naming it; the worst status wins, and a
# missing file does not stop the others.
cp "$M" "$T/made/events.out.tfevents.2.ok"
expect 0 "$TFEVENTS" dump "$T/made/events.out.tfevents."*
[ "$(grep -c ': 95 bytes$' "$T/out")" -eq 2 ] || fail "dump of 2 files: $(head -c 300 "$T/out")"
[ "$(grep -c '^2 record(s), 95 of 95 bytes read$' "$T/out")" -eq 2 ] || fail "2 summaries"
head -n 1 "$T/out" | grep -qF "$T/made/events.out.tfevents.1.cut: 95 bytes" || fail "order"
expect 1 "$TFEVENTS" dump "$T/flip" "$M"
has "$T/out" "offset 40: data CRC mismatch; stopping"
has "$T/out" "$M: 95 bytes"
expect 3 "$TFEVENTS" dump "$T/missing" "$T/flip" "$M"
has "$T/err" "$T/missing"
has "$T/out" "$M: 95 bytes"
has "$T/out" "offset 40: data CRC mismatch"
rm "$T/made/events.out.tfevents.2.ok"
mkdir "$T/made/run2"
cp "$T/flip" "$T/made/run2/events.out.tfevents.2"
expect 1 "$TFEVENTS" collect "$T/made" --type any --format csv
has "$T/out" "run2,0,1700000000,file_version"
has "$T/err" "run2/events.out.tfevents.2: offset 40"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all CLI checks passed"
