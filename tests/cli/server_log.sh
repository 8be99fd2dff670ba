#!/bin/sh
# server_log.sh <mica> [port]: mica server's access log and per-connection traces.
#
#   - --access-log FILE: one line per connection, appended in one write: time= client=
#     sni= version= cipher= group= hrr= sig= alpn= resumed= early_data= handshake_ms=
#     result=ok, for curl, mica client (with HRR); result=<error name> error="sentence" for
#     an untrusted-certificate failure and for a peer that sends no TLS at all
#   - --verbose: the same line on standard error after "mica server: "
#   - --trace-dir DIR: N-IP-PORT.trace.jsonl (JSON Lines of the server's events) and
#     N-IP-PORT.json (the connection report) per connection; --trace narrates on stderr
#     with each line after the client's address
#
# Uses tests/vectors/certs (ECDSA P-256 leaf for localhost). Ports: [port] (default
# 42000 + 3 * ($$ % 1000)), moved up by 7 when in use. Exits 1 on failure, 77 without curl.
unset SSLKEYLOGFILE
set -u
[ $# -ge 1 ] || {
    echo "usage: server_log.sh <mica> [port]" >&2
    exit 2
}
mica=$1
port=${2:-$((42000 + 3 * ($$ % 1000)))}
here=$(cd "$(dirname "$0")" && pwd)
certs=$here/../vectors/certs
command -v curl >/dev/null 2>&1 || {
    echo "server_log: SKIP: curl is needed"
    exit 77
}
me=server_log
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp
use_timeout 30

# start NAME ARGS...: mica server on 127.0.0.1:$port; stderr in $tmp/NAME.log
start() {
    name=$1
    shift
    spawn_server "$tmp/$name.log" 'listening on' "$mica" server \
        --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
        --accept 127.0.0.1:@PORT@ "$@" || {
        echo "server_log: cannot start mica server: $(cat "$tmp/$name.log")" >&2
        exit 1
    }
}
stop() {
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
}

mkdir "$tmp/traces"
start log --www --access-log "$tmp/access.log" --verbose --trace-dir "$tmp/traces" --trace \
    --groups secp384r1 --alpn http/1.1
url=https://localhost:$srv_port/

echo "server_log: curl, mica client with HRR, an untrusted certificate, no TLS at all"
$to curl -s --cacert "$certs/ca.pem" -o "$tmp/curl.out" "$url" || fail "curl failed"
printf 'GET / HTTP/1.0\r\n\r\n' | $to "$mica" client --cafile "$certs/ca.pem" \
    --servername localhost --groups x25519,secp384r1 "127.0.0.1:$srv_port" >/dev/null 2>&1 ||
    fail "mica client failed"
printf 'x' | $to "$mica" client --cafile "$certs/ecdsa-p384.crt" --servername localhost \
    "127.0.0.1:$srv_port" >/dev/null 2>&1 && fail "the untrusted certificate was accepted"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\n\r\n")
time.sleep(0.2)' "$srv_port"
else
    printf 'GET / HTTP/1.1\r\n\r\n' | $to curl -s "telnet://127.0.0.1:$srv_port" >/dev/null 2>&1
fi
sleep 0.3
stop

n=$(grep -c '' "$tmp/access.log")
[ "$n" = 4 ] || fail "access log has $n lines, want 4: $(cat "$tmp/access.log")"
ok='result=ok$'
hdr='^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z client=127\.0\.0\.1:[0-9]+ '
sed -n 1p "$tmp/access.log" | grep -Eq "${hdr}sni=localhost version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ group=secp384r1 hrr=(yes|no) sig=ecdsa_secp256r1_sha256 alpn=http/1\.1 resumed=no early_data=none handshake_ms=[0-9]+\.[0-9] $ok" ||
    fail "curl's access line: $(sed -n 1p "$tmp/access.log")"
sed -n 2p "$tmp/access.log" | grep -Eq "${hdr}sni=localhost version=TLSv1\.3 cipher=TLS_[A-Z0-9_]+ group=secp384r1 hrr=yes sig=ecdsa_secp256r1_sha256 alpn=none resumed=no early_data=none handshake_ms=[0-9]+\.[0-9] $ok" ||
    fail "mica client's access line (HRR): $(sed -n 2p "$tmp/access.log")"
sed -n 3p "$tmp/access.log" | grep -Eq "${hdr}sni=localhost .* result=peer_alert error=\"the peer ended the connection with a fatal alert: [a-z_]+\"$" ||
    fail "the failed handshake's access line: $(sed -n 3p "$tmp/access.log")"
sed -n 4p "$tmp/access.log" | grep -Eq "${hdr}sni=none version=none .* result=[a-z_]+ error=\"[^\"]+\"$" ||
    fail "the non-TLS peer's access line: $(sed -n 4p "$tmp/access.log")"

echo "server_log: --verbose writes the same lines on standard error"
grep '^mica server: client=' "$tmp/log.log" | sed 's/^mica server: //' >"$tmp/verbose"
sed 's/^time=[^ ]* //' "$tmp/access.log" | cmp -s - "$tmp/verbose" ||
    fail "--verbose lines differ from the access log: $(cat "$tmp/verbose")"
grep -Eq '^mica server: 127\.0\.0\.1:[0-9]+: <- ClientHello \([0-9]+ bytes, plaintext\)' "$tmp/log.log" ||
    fail "--trace: no narrated ClientHello: $(head -5 "$tmp/log.log")"
grep -Eq '^mica server: 127\.0\.0\.1:[0-9]+: <- HelloRetryRequest|^mica server: 127\.0\.0\.1:[0-9]+: -> HelloRetryRequest' "$tmp/log.log" ||
    fail "--trace: no narrated HelloRetryRequest"

echo "server_log: --trace-dir holds the events and the report of each connection"
for k in 1 2 3 4; do
    set -- "$tmp/traces/$k-127.0.0.1-"*.trace.jsonl
    [ -f "$1" ] || {
        fail "no trace file for connection $k: $(ls "$tmp/traces")"
        continue
    }
    base=${1%.trace.jsonl}
    [ -f "$base.json" ] || fail "no report for connection $k"
done
j1=$(ls "$tmp/traces/1-127.0.0.1-"*.trace.jsonl)
head -1 "$j1" | grep -q '^{"v":1,"side":"server","kind":"message","sent":false,"name":"ClientHello"' ||
    fail "the first event is not the ClientHello received: $(head -c 200 "$j1")"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$tmp/traces" <<'PY' || fail "the trace files are not valid JSON (see above)"
import glob, json, sys
d = sys.argv[1]
for p in glob.glob(d + "/*.trace.jsonl"):
    for line in open(p):
        json.loads(line)
r = json.load(open(glob.glob(d + "/1-*.json")[0]))
assert r["version"] == "TLSv1.3" and r["sni"] == "localhost" and r["alpn"] == "http/1.1", r
assert r["group"] == "secp384r1", r
names = [m["type"] for m in r["handshake"]["messages"]]
assert names[0] == "ClientHello" and "ServerHello" in names and "Finished" in names, names
r = json.load(open(glob.glob(d + "/2-*.json")[0]))
assert r["hrr"] is True, r
PY
fi

echo "server_log: a bad --access-log or --trace-dir stops the server"
"$mica" server --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept "127.0.0.1:$port" --access-log "$tmp/no/such/dir/log" 2>"$tmp/bad1.log"
[ $? = 1 ] || fail "--access-log in a missing directory: not exit 1"
grep -q '^mica server: cannot open --access-log ' "$tmp/bad1.log" || fail "$(cat "$tmp/bad1.log")"
"$mica" server --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept "127.0.0.1:$port" --trace-dir "$tmp/nodir" 2>"$tmp/bad2.log"
[ $? = 1 ] || fail "--trace-dir missing: not exit 1"

[ $bad = 0 ] && echo "server_log: ok"
exit $bad
