#!/bin/sh
# Log to tfeventsd from a POSIX shell, through socat or OpenBSD nc.
#
# Usage: tfevents_client.sh SOCKET LOGDIR
#
# SOCKET is the daemon's Unix socket (e.g. $XDG_RUNTIME_DIR/tfevents.sock);
# LOGDIR is a directory relative to the daemon's root. Sends five steps of
# scalars (loss, train/acc), a text and a histogram, then a flush, in one
# connection, and checks the replies (every request has an id; the flush
# is answered once everything before it is in the files). The connector is
# socat when installed, else nc -U (netcat-openbsd); TFEVENTS_CONNECTOR=socat
# or nc picks one. The protocol is in docs/protocol.md. (The tfevents CLI
# does the same with `tfevents log` and `tfevents send`.)
set -eu
[ $# -eq 2 ] || { echo "usage: $0 SOCKET LOGDIR" >&2; exit 2; }
sock=$1 logdir=$2

connector=${TFEVENTS_CONNECTOR:-}
if [ -z "$connector" ]; then
    if command -v socat >/dev/null 2>&1; then connector=socat; else connector=nc; fi
fi
# Both half-close after the input and print the replies until the daemon
# closes, which it does once every reply is sent.
send() {
    case $connector in
    socat) socat -t 30 - "UNIX-CONNECT:$sock" ;;
    nc) nc -N -U "$sock" ;;
    *) echo "unknown connector $connector" >&2; exit 2 ;;
    esac
}

# LOGDIR goes into JSON: refuse what would need escaping.
case $logdir in *[\"\\]*) echo "LOGDIR must not hold quotes or backslashes" >&2; exit 2 ;; esac

# No "step": each message takes the logdir's next step, so running the
# example again continues after the steps already there.
requests() {
    for i in 0 1 2 3 4; do
        loss=$(awk "BEGIN { printf \"%.17g\", 1 / ($i + 1) }")
        acc=$(awk "BEGIN { printf \"%.17g\", $i / 4 }")
        extra=
        [ "$i" -eq 0 ] && extra=',"notes":"hello from **shell**"'
        [ "$i" -eq 4 ] && extra=',"weights":{"$histogram":{"values":[0.1,0.2,0.2,0.7,1.5]}}'
        printf '{"id":%d,"logdir":"%s","values":{"loss":%s,"train":{"acc":%s}%s}}\n' \
            "$((i + 1))" "$logdir" "$loss" "$acc" "$extra"
    done
    printf '{"id":"flush","op":"flush","logdir":"%s","sync":true}\n' "$logdir"
}

replies=$(requests | send)
status=0
for id in 1 2 3 4 5 '"flush"'; do
    line=$(printf '%s\n' "$replies" | grep -F "{\"id\":$id," || true)
    case $line in
    *'"ok":true'*) ;;
    '') echo "no reply for request $id" >&2; status=1 ;;
    *) echo "request $id failed: $line" >&2; status=1 ;;
    esac
done
[ "$status" -eq 0 ] && echo ok
exit "$status"
