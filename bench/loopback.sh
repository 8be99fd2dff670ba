#!/bin/sh
# bench/loopback.sh <builddir> [--quick] [--servers "mica openssl gnutls nginx"]
#
# Real TLS 1.3 servers over 127.0.0.1, all driven by the same client load
# (<builddir>/bench/mica-bench-loopback, bench/bench_loopback.c), and what each server
# process spends, read from the kernel: server CPU (user + system) per full handshake
# (x25519, with an ECDSA P-256, an RSA-2048 and an Ed25519 certificate), per resumed
# handshake (psk_dhe_ke, with the newest ticket the client got) and per GiB of a file sent
# with TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256.
# Each figure beside openssl s_server's, measured in the same run; see bench/README.md.
#
# Servers: mica server --root, openssl s_server -WWW, gnutls-serv --http --httpdata,
# nginx (daemon off, master_process off: the one process is the worker), each from a
# temporary directory with its own files, pinned to CPU 0 (taskset -c 0); the client
# runs pinned to CPU 1. A server that is not installed is left out of the table.
#
# Network: the script runs itself in a private network namespace when it can (unshare
# -n, or unshare -rn for a user without privileges), so that nothing it starts is
# reachable from outside, whatever address a server binds: gnutls-serv has no option
# to listen on 127.0.0.1 only. Without one, gnutls-serv is left out; the others listen
# on 127.0.0.1 only, on ports from 20000 + 10 * ($$ % 1000) up that are free.
#
# Every measurement runs MICA_LOOPBACK_PASSES times (default 2; --quick: 1, and short);
# the table gives the lowest CPU of the passes and then the spread between them. The
# table goes to stdout and to <builddir>/bench-loopback.txt. Every server started is
# stopped when its figures are done, and by a trap on exit (also on HUP, INT, PIPE and
# TERM, after the client running then has ended: at most its 10 s timeouts). Exit status: 0 every figure measured, 1 any failure,
# 2 bad usage, 77 (skip) when openssl or the driver is missing.
set -eu

usage() {
    echo "usage: sh bench/loopback.sh <builddir> [--quick] [--servers \"mica openssl gnutls nginx\"]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
self=$0
build=$1
shift
quick=
servers="mica openssl gnutls nginx"
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --servers)
        [ $# -ge 2 ] || usage
        servers=$2
        shift
        ;;
    *) usage ;;
    esac
    shift
done
for s in $servers; do
    case $s in
    mica | openssl | gnutls | nginx) ;;
    *) usage ;;
    esac
done
case " $servers " in
*" openssl "*) ;;
*) servers="openssl $servers" ;; # every ratio is to openssl s_server
esac

build=$(cd "$build" && pwd)
drv=$build/bench/mica-bench-loopback
mica=$build/mica
if [ ! -x "$drv" ] || [ ! -x "$mica" ]; then
    echo "loopback.sh: $drv or $mica not found; build them first:" >&2
    echo "    cmake --build $build --target mica mica-bench-loopback" >&2
    exit 77
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "loopback.sh: openssl not found: skipped" >&2
    exit 77
fi

# ---- a private network namespace, when one can be made ------------------------------
ip_cmd=
for c in ip /sbin/ip /usr/sbin/ip; do
    if command -v "$c" >/dev/null 2>&1; then
        ip_cmd=$(command -v "$c")
        break
    fi
done
if [ -z "${MICA_LOOPBACK_NETNS:-}" ]; then
    MICA_LOOPBACK_NETNS=no
    if [ -n "$ip_cmd" ] && command -v unshare >/dev/null 2>&1; then
        for u in -n -rn; do
            if unshare $u "$ip_cmd" link set lo up 2>/dev/null; then
                export MICA_LOOPBACK_NETNS=yes
                # shellcheck disable=SC2016 # expanded by the inner sh
                exec unshare $u sh -c '"$1" link set lo up && shift && exec sh "$@"' \
                    sh "$ip_cmd" "$self" "$build" ${quick:+--quick} --servers "$servers"
            fi
        done
    fi
fi
if [ "$MICA_LOOPBACK_NETNS" != yes ]; then
    case " $servers " in
    *" gnutls "*)
        echo "loopback.sh: no private network namespace (unshare -n): gnutls-serv, which" >&2
        echo "    listens on every interface, is left out" >&2
        servers=$(echo "$servers" | sed 's/gnutls//')
        ;;
    esac
fi

# ---- CPUs: the server on 0, the client on 1 ----------------------------------------
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
pin_srv=
pin_cli=
if command -v taskset >/dev/null 2>&1; then
    pin_srv="taskset -c 0"
    pin_cli="taskset -c 1"
    if [ "$ncpu" -lt 2 ]; then
        pin_cli="taskset -c 0"
        echo "loopback.sh: one CPU: server and client share it" >&2
    fi
else
    echo "loopback.sh: no taskset: server and client are not pinned" >&2
fi

passes=${MICA_LOOPBACK_PASSES:-2}
case $passes in
'' | *[!0-9]* | 0) echo "loopback.sh: MICA_LOOPBACK_PASSES must be a number > 0" >&2; exit 2 ;;
esac
secs=1          # wall time of a handshake figure; the client runs 2 connections at a time
big_mib=32      # the file of the bulk figures ...
big_count=8     # ... downloaded this many times per figure (256 MiB)
if [ -n "$quick" ]; then
    passes=1 secs=0.2 big_mib=4 big_count=2
fi
certs="ecdsa-p256 rsa2048 ed25519"
suites="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-loopback.XXXXXX")
srv_pid=
stop_server() {
    [ -n "$srv_pid" ] || return 0
    kill "$srv_pid" 2>/dev/null || true
    n=0
    while kill -0 "$srv_pid" 2>/dev/null && [ $n -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    kill -9 "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
}
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
kv=$tmp/kv # one line per figure: <pass> <key> <value>
: >"$kv"
failed=0

# ---- certificates: an ECDSA P-256 CA, and a leaf of each kind for localhost ------------
(
    cd "$tmp"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -out ca.pem -subj /CN=mica-bench-ca -days 2 -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign
    printf '%s\n' 'subjectAltName=DNS:localhost' 'basicConstraints=CA:FALSE' \
        'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' >leaf.ext
    for c in $certs; do
        case $c in
        ecdsa-p256) set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256 ;;
        rsa2048) set -- -newkey rsa:2048 ;;
        ed25519) set -- -newkey ed25519 ;;
        esac
        openssl req "$@" -nodes -keyout "$c.key" -out "$c.csr" -subj /CN=localhost
        openssl x509 -req -in "$c.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile leaf.ext -out "$c.pem"
    done
) >"$tmp/certs.log" 2>&1 || {
    cat "$tmp/certs.log" >&2
    echo "loopback.sh: cannot make the certificates" >&2
    exit 1
}
mkdir "$tmp/www"
printf 'hello, TLS\n' >"$tmp/www/hello.txt" # 11 bytes: the answer of a handshake figure
small=11
big=$((big_mib * 1048576))
head -c "$big" /dev/urandom >"$tmp/www/big.bin"

# ---- ports ---------------------------------------------------------------------------
port=$((20000 + 10 * ($$ % 1000)))
next_port() {
    port=$((port + 1))
    while ! "$drv" --port-free "$port"; do
        port=$((port + 1))
    done
}

# ---- servers ---------------------------------------------------------------------------

# start_server NAME CERT BODY: start server NAME with certificate CERT, serving
# $tmp/www (gnutls-serv: answering every request with the file BODY), pinned to CPU 0,
# on a new port; sets srv_pid and waits until it accepts. Returns 1 if it does not.
start_server() {
    name=$1 cert=$2 body=$3
    next_port
    log=$tmp/$name.log
    case $name in
    mica)
        $pin_srv "$mica" server --cert "$tmp/$cert.pem" --key "$tmp/$cert.key" \
            --root "$tmp/www" --accept "127.0.0.1:$port" >"$log" 2>&1 &
        ;;
    openssl)
        (cd "$tmp/www" && exec $pin_srv openssl s_server -accept "127.0.0.1:$port" -tls1_3 \
            -cert "$tmp/$cert.pem" -key "$tmp/$cert.key" -WWW -quiet) >"$log" 2>&1 &
        ;;
    gnutls)
        $pin_srv gnutls-serv --http --httpdata "$tmp/www/$body" -p "$port" -q \
            --x509certfile "$tmp/$cert.pem" --x509keyfile "$tmp/$cert.key" >"$log" 2>&1 &
        ;;
    nginx)
        d=$tmp/nginx
        mkdir -p "$d"
        cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    types { text/plain txt; application/octet-stream bin; }
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $tmp/$cert.pem;
        ssl_certificate_key $tmp/$cert.key;
        ssl_protocols TLSv1.3;
        root $tmp/www;
    }
}
EOF
        $pin_srv "$nginx" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$log" 2>&1 &
        ;;
    esac
    srv_pid=$!
    if ! "$drv" --wait "$port" 2>>"$log"; then
        echo "loopback.sh: $name did not start:" >&2
        sed 's/^/    /' "$log" >&2
        stop_server
        return 1
    fi
}

# measure PASS KEY KIND ARGS...: one figure of the running server: KIND us (server CPU
# per connection) or ms/GiB (per GiB of body); also records the average record size
measure() {
    p=$1 key=$2 kind=$3
    shift 3
    if ! $pin_cli "$drv" --port "$port" --pid "$srv_pid" --cafile "$tmp/ca.pem" "$@" \
        >"$tmp/drv.out" 2>"$tmp/drv.err"; then
        echo "loopback.sh: $key failed (mica-bench-loopback $*):" >&2
        sed 's/^/    /' "$tmp/drv.err" "$log" | head -20 >&2
        failed=1
        return 0
    fi
    awk -v p="$p" -v k="$key" -v kind="$kind" '{
        for (i = 1; i <= NF; i++) { eq = index($i, "="); v[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
        split("conns tickets body_bytes records full_records stat_cpu_us stat_sys_us", num, " ")
        for (i in num) v[num[i]] += 0 # numbers, not strings, in the comparisons below
        if (kind == "us") {
            print p, k, v["us_per_conn"]
            print p, "tix:" k, v["tickets"] / v["conns"]
        }
        else if (v["body_bytes"] > 0) {
            print p, k, v["server_cpu_us"] / 1e3 / (v["body_bytes"] / 1073741824)
            if (v["records"] > 0) print p, "rec:" k, 100 * v["full_records"] / v["records"]
            if (v["stat_cpu_us"] > 0) print p, "sys:" k, 100 * v["stat_sys_us"] / v["stat_cpu_us"]
        }
    }' "$tmp/drv.out" >>"$kv"
}

nginx=/usr/sbin/nginx
command -v nginx >/dev/null 2>&1 && nginx=$(command -v nginx)
have() {
    case $1 in
    mica | openssl) return 0 ;;
    gnutls) command -v gnutls-serv >/dev/null 2>&1 ;;
    nginx) [ -x "$nginx" ] ;;
    esac
}
run=
for s in $servers; do
    if have "$s"; then
        run="$run $s"
    else
        echo "loopback.sh: $s is not installed: left out" >&2
    fi
done

hs="--path /hello.txt --expect-bytes $small --seconds $secs --parallel 2"
bulk="--path /big.bin --expect-bytes $big --count $big_count --warmup 1"
start=$(date +%s)
pass=1
while [ $pass -le "$passes" ]; do
    # one certificate at a time, every server back to back: the ratios' two figures are
    # measured seconds apart, not a minute
    for c in $certs; do
        echo "loopback.sh: pass $pass, $c" >&2
        for s in $run; do
            start_server "$s" "$c" hello.txt || { failed=1; continue; }
            # shellcheck disable=SC2086 # hs and bulk: lists of flags
            measure $pass "full:$c:$s" us $hs
            if [ "$c" = ecdsa-p256 ]; then
                # shellcheck disable=SC2086
                measure $pass "resumed:$s" us $hs --resume
                if [ "$s" = gnutls ]; then # its answer is one file, named at start
                    stop_server
                    start_server "$s" "$c" big.bin || { failed=1; continue; }
                fi
                for u in $suites; do
                    # shellcheck disable=SC2086
                    measure $pass "bulk:$u:$s" gib $bulk --suite "$u"
                done
            fi
            stop_server
        done
    done
    pass=$((pass + 1))
done
elapsed=$(($(date +%s) - start))

# ---- the table ---------------------------------------------------------------------------

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
v_ossl=$(openssl version 2>/dev/null | awk '{ print $2 }')
v_gnutls=$(gnutls-serv --version 2>/dev/null | awk 'NR == 1 { print $NF }' || true)
v_nginx=$("$nginx" -v 2>&1 | sed -n 's|.*nginx/||p' || true)
commit=$(git -C "$(dirname "$self")" rev-parse --short HEAD 2>/dev/null || echo '?')
out=$build/bench-loopback.txt
{
    echo "Over loopback, $(date -u '+%Y-%m-%d %H:%M UTC'), git $commit; ${cpu:-unknown CPU}, $ncpu cores"
    echo "servers: mica server --root, openssl s_server -WWW (OpenSSL ${v_ossl:-?}), gnutls-serv --http"
    echo "  (GnuTLS ${v_gnutls:-?}), nginx ${v_nginx:-?} (one worker); server on CPU 0, client (libssl) on CPU 1;"
    echo "  private network namespace: $MICA_LOOPBACK_NETNS; lowest of $passes pass(es), $elapsed s"
    echo "Server CPU (user + system, from the kernel) per connection or per GiB sent; x25519;"
    echo "  a connection = TCP connect, handshake, GET of an 11-byte file (HTTP/1.0), the server's"
    echo "  tickets read, close; resumed = psk_dhe_ke with the newest ticket; bulk = a"
    echo "  ${big_mib} MiB file downloaded $big_count times; ratio = server / openssl s_server, same run"
    awk -v run="$run" -v certs="$certs" -v suites="$suites" -v passes="$passes" '
    {
        k = $2; v = $3 + 0
        if (!(k in best) || v < best[k]) best[k] = v
        if (!(k in worst) || v > worst[k]) worst[k] = v
    }
    function cell(k) { return (k in best) ? sprintf(best[k] >= 100 ? "%.0f" : "%.1f", best[k]) : "-" }
    function ratio(k, o) { return (k in best) && (o in best) && best[o] > 0 ? sprintf("%.2f", best[k] / best[o]) : "-" }
    function spread(k) { return (k in best) && best[k] > 0 ? sprintf("%.0f%%", 100 * (worst[k] - best[k]) / best[k]) : "-" }
    function row(label, base,    i, line, sl) {
        line = sprintf("%-42s", label); sl = sprintf("%-42s", label)
        for (i = 1; i <= ns; i++) line = line sprintf(" %8s", cell(base ":" S[i]))
        for (i = 1; i <= ns; i++) if (S[i] != "openssl") line = line sprintf(" %11s", ratio(base ":" S[i], base ":openssl"))
        print line
        for (i = 1; i <= ns; i++) sl = sl sprintf(" %8s", spread(base ":" S[i]))
        spreads[++nsp] = sl
    }
    END {
        ns = split(run, S, " ")
        # openssl first: the column every ratio refers to
        for (i = 1; i <= ns; i++) if (S[i] == "openssl") { t = S[1]; S[1] = S[i]; S[i] = t }
        head = sprintf("%-42s", "figure")
        for (i = 1; i <= ns; i++) head = head sprintf(" %8s", S[i])
        for (i = 1; i <= ns; i++) if (S[i] != "openssl") head = head sprintf(" %11s", S[i] "/ossl")
        print head
        nc = split(certs, C, " ")
        for (j = 1; j <= nc; j++) row("full handshake " C[j] " (us)", "full:" C[j])
        row("resumed handshake ecdsa-p256 (us)", "resumed")
        nu = split(suites, U, " ")
        for (j = 1; j <= nu; j++) row("bulk " U[j] " (ms/GiB)", "bulk:" U[j])
        if (passes > 1) {
            print ""
            print "spread between the passes ((highest - lowest) / lowest):"
            for (i = 1; i <= nsp; i++) print spreads[i]
        }
        print ""
        line = sprintf("%-42s", "tickets the server sent per connection: full")
        for (i = 1; i <= ns; i++) line = line sprintf(" %8s", cell("tix:full:ecdsa-p256:" S[i]))
        print line
        line = sprintf("%-42s", "                                     resumed")
        for (i = 1; i <= ns; i++) line = line sprintf(" %8s", cell("tix:resumed:" S[i]))
        print line
        line = sprintf("%-42s", "bulk: records with 16 KiB of content (%)")
        for (i = 1; i <= ns; i++) line = line sprintf(" %8s", cell("rec:bulk:TLS_AES_128_GCM_SHA256:" S[i]))
        print line
        line = sprintf("%-42s", "bulk AES-128-GCM: system part of the CPU (%)")
        for (i = 1; i <= ns; i++) line = line sprintf(" %8s", cell("sys:bulk:TLS_AES_128_GCM_SHA256:" S[i]))
        print line
    }' "$kv"
} >"$tmp/table"
cp "$tmp/table" "$out"
cat "$tmp/table"
echo "(written to $out)"

# every figure of every server that ran must be there
for s in $run; do
    for k in $(for c in $certs; do echo "full:$c"; done) resumed $(for u in $suites; do echo "bulk:$u"; done); do
        if ! awk -v k="$k:$s" '$2 == k && $3 > 0 { f = 1 } END { exit !f }' "$kv"; then
            echo "loopback.sh: no figure (or 0) for $k:$s" >&2
            failed=1
        fi
    done
done
exit $failed
