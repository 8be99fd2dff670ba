#!/bin/sh
# mica client --json / --trace-json / --trace against mica server: the report is valid JSON
# with every documented key and the right values, each JSON Lines event parses, the
# narration says what the ServerHello means, and an HRR shows in all three.
# Usage: trace.sh <mica>. Ports 48000-48899 on 127.0.0.1; the server is always stopped.
set -u
unset SSLKEYLOGFILE
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
certs="$top/tests/vectors/certs"
me=trace
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp

port=$((48000 + $$ % 900))
spawn_server "$tmp/server.log" 'listening on' "$mica" server \
    --cert "$certs/ecdsa-p256.chain.pem" --key "$certs/ecdsa-p256.key" \
    --accept 127.0.0.1:@PORT@ --echo --groups secp384r1 || {
    echo "trace: could not start mica server"
    exit 1
}
port=$srv_port
client() {
    timeout 20 "$mica" client --cafile "$certs/ca.pem" --servername localhost "$@" \
        "127.0.0.1:$port" </dev/null
}

# the report: the client offers x25519 first, the server wants secp384r1: one HRR
client --json --groups x25519:secp384r1 >"$tmp/report.json" 2>"$tmp/report.err" ||
    fail "--json exited $?: $(cat "$tmp/report.err")"
python3 - "$tmp/report.json" <<'PY' || bad=1
import json, sys
r = json.load(open(sys.argv[1]))
want = {"version": "TLSv1.3", "cipher": "TLS_AES_128_GCM_SHA256", "group": "secp384r1",
        "signature_scheme": "ecdsa_secp256r1_sha256", "alpn": None, "sni": "localhost",
        "verified": True, "verify_error": None, "resumed": False, "early_data": "not_sent",
        "hrr": True}
ok = True
for k, v in want.items():
    if r.get(k, "missing") != v:
        print(f"trace: FAIL: report {k} = {r.get(k, 'missing')!r}, want {v!r}"); ok = False
certs = r["peer_certificates"]
leaf = certs[0]
for k in ("subject", "issuer", "sans", "not_before", "not_after", "key",
          "signature_algorithm", "sha256", "spki_pin"):
    if k not in leaf:
        print(f"trace: FAIL: certificate has no {k}"); ok = False
if leaf["subject"] != "CN=mica test ecdsa-p256" or "DNS:localhost" not in leaf["sans"] \
        or not leaf["spki_pin"].startswith("sha256/") or len(leaf["sha256"]) != 64:
    print(f"trace: FAIL: leaf {leaf}"); ok = False
h = r["handshake"]
types = [(m["direction"], m["type"]) for m in h["messages"]]
if h["round_trips"] != 2 or types[:4] != [("sent", "ClientHello"), ("received", "HelloRetryRequest"),
                                          ("sent", "ClientHello"), ("received", "ServerHello")] \
        or types[-1] != ("sent", "Finished") or h["bytes_sent"] <= 0 or h["duration_ms"] <= 0:
    print(f"trace: FAIL: handshake {h}"); ok = False
sys.exit(0 if ok else 1)
PY

# JSON Lines: every line an event of schema 1
client --trace-json --quiet --groups x25519:secp384r1 2>"$tmp/events.jsonl" >/dev/null ||
    fail "--trace-json exited $?"
python3 - "$tmp/events.jsonl" <<'PY' || bad=1
import json, sys
kinds = set(); names = []
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    e = json.loads(line)
    assert e["v"] == 1 and e["side"] == "client", e
    kinds.add(e["kind"]); names.append(e["name"])
need = {"message", "secret", "keys", "cert", "state", "flight"}
if not need <= kinds or "HelloRetryRequest" not in names or "CONNECTED" not in names:
    print(f"trace: FAIL: events {sorted(kinds)} {names[:12]}"); sys.exit(1)
PY

# the narration
client --trace --groups x25519:secp384r1 >/dev/null 2>"$tmp/narration.txt" || fail "--trace exited $?"
grep -q "^<- ServerHello .* -- server chose TLS_AES_128_GCM_SHA256 and secp384r1. Both sides now compute the same shared secret" "$tmp/narration.txt" ||
    fail "the narration does not explain the ServerHello: $(head -5 "$tmp/narration.txt")"
grep -q "^<- HelloRetryRequest .*asks for secp384r1" "$tmp/narration.txt" ||
    fail "the narration does not explain the HelloRetryRequest"
grep -q "^summary: 2 round trips" "$tmp/narration.txt" || fail "no summary line"

# a failure still gives a report, with the reason
client --json --servername wrong.example >"$tmp/fail.json" 2>/dev/null && fail "a wrong name passed"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["verified"] is False and "does not cover wrong.example" in (r["verify_error"] or "") else 1)
' "$tmp/fail.json" || fail "the failure report lacks the reason: $(cat "$tmp/fail.json" | head -12)"

# the diagrams: Mermaid text and an SVG that parses, draws each message, and renders
client --diagram "$tmp/hs.mmd" --quiet --groups x25519:secp384r1 >/dev/null 2>&1 || fail "--diagram .mmd"
grep -q '^sequenceDiagram' "$tmp/hs.mmd" && grep -q 'S->>C: HelloRetryRequest' "$tmp/hs.mmd" &&
    grep -q 'Note over C,S: round trip 2' "$tmp/hs.mmd" ||
    fail "the Mermaid diagram lacks the HRR round trip: $(cat "$tmp/hs.mmd")"
[ "$(grep -c 'round trip' "$tmp/hs.mmd")" = 3 ] || fail "round trips in the Mermaid diagram"
client --diagram "$tmp/hs.svg" --quiet >/dev/null 2>&1 || fail "--diagram .svg"
python3 - "$tmp/hs.svg" <<'PY' || bad=1
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
texts = " ".join("".join(t.itertext()) for t in root.iter(ns + "text"))
lines = [l for l in root.iter(ns + "line") if l.get("marker-end")]
for want in ("ClientHello", "ServerHello", "EncryptedExtensions", "Certificate",
             "CertificateVerify", "Finished", "handshake keys", "connected after"):
    if want not in texts:
        print(f"trace: FAIL: the SVG has no '{want}'"); sys.exit(1)
if len(lines) < 8:
    print(f"trace: FAIL: the SVG draws {len(lines)} arrows"); sys.exit(1)
PY
browser=$(command -v chromium || true)
if [ -n "$browser" ]; then
    h=$(python3 -c "import sys,re; print(re.search(r'height=\"(\d+)\"', open(sys.argv[1]).read()).group(1))" "$tmp/hs.svg")
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$tmp/profile" --window-size="780,$((h + 20))" \
        --screenshot="$tmp/hs.png" "file://$tmp/hs.svg" >/dev/null 2>&1
    size=$(wc -c <"$tmp/hs.png" 2>/dev/null || echo 0)
    [ "$size" -gt 10000 ] || fail "Chromium did not render the SVG ($size bytes)"
    if [ -n "${MICA_KEEP_DIAGRAM:-}" ]; then cp "$tmp/hs.png" "$tmp/hs.svg" "$MICA_KEEP_DIAGRAM"/; fi
fi

[ $bad -eq 0 ] && echo "trace: ok"
exit $bad
