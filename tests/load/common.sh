# shellcheck shell=sh disable=SC2034 # (what it sets is for the tests that source it)
# tests/load/common.sh: what the load tests that start several servers share. Sourced
# after tests/lib.sh, with mica, loadgen, certs, me and tmp set.
#
#   start NAME ARGS...    mica server ARGS (an ECDSA certificate) on 127.0.0.1:$port,
#                         its log in $tmp/NAME.log; sets srv_pid, srv_port, log (exits 1
#                         when it does not start)
#   run NAME MODE ARGS... loadgen MODE against it with ARGS; its output in $tmp/NAME.out,
#                         shown prefixed by "$me: "; a failure when it exits non-zero

start() {
    log=$tmp/$1.log
    shift
    spawn_server "$log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ "$@" || {
        echo "$me: FAIL: mica server did not start:$(excerpt "$log")"
        exit 1
    }
}

run() {
    out=$tmp/$1.out
    mode=$2
    shift 2
    $to "$loadgen" "$mode" 127.0.0.1 "$srv_port" --cafile "$certs/ca.pem" "$@" >"$out" 2>&1
    st=$?
    sed "s/^/$me: /" "$out"
    [ $st = 0 ] || fail "loadgen $mode $*: exited $st"
}
