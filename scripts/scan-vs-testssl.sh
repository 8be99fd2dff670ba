#!/bin/sh
# scan-vs-testssl.sh: run `mica scan` and testssl.sh against the same local servers
# (several `openssl s_server` configurations, nginx, mica server) and compare what
# they report: protocol versions, TLS 1.3, 1.2, 1.1 and 1.0 cipher suites, whose suite
# order wins, the certificate's facts and HSTS. docs/scan-vs-testssl.md records a run.
#
#   sh scripts/scan-vs-testssl.sh [path-to-mica]        (from the repository root)
#
# Every server listens on 127.0.0.1 only, on a free port from 62800 up, and is
# stopped on exit. testssl.sh runs with OPENSSL_CONF pointing at a temporary file
# that sets @SECLEVEL=0, so that its OpenSSL 3 client can still speak TLS 1.0.
# Environment: SCAN_VS_TESTSSL_KEEP=DIR copies the raw JSON and logs to DIR;
# SCAN_VS_TESTSSL_ONLY="a c" runs only those servers; TESTSSL (default: testssl),
# OPENSSL (default: openssl), NGINX (default: /usr/sbin/nginx).
#
# Exit status: 0 when the report was printed (disagreements included), 2 when
# something could not be set up (a tool is missing, a server does not start).

set -u

MICA=${1:-build/dev/mica}
CERTS=tests/vectors/certs
TESTSSL=${TESTSSL:-testssl}
OPENSSL=${OPENSSL:-openssl}
NGINX=${NGINX:-/usr/sbin/nginx}
ONLY=${SCAN_VS_TESTSSL_ONLY:-}
KEEP=${SCAN_VS_TESTSSL_KEEP:-}

die() {
    echo "scan-vs-testssl: $*" >&2
    exit 2
}

if [ ! -f tools/scan.c ] || [ ! -d "$CERTS" ]; then
    die "run from the repository root"
fi
[ -x "$MICA" ] || die "no mica binary at $MICA (build it, or pass its path)"
command -v "$TESTSSL" >/dev/null 2>&1 || die "testssl not found (apt-get install testssl.sh)"
command -v "$OPENSSL" >/dev/null 2>&1 || die "openssl not found"
command -v python3 >/dev/null 2>&1 || die "python3 not found"
OPENSSL_BIN=$(command -v "$OPENSSL")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scan-vs-testssl.XXXXXX") || die "mktemp failed"
SERVER_PID=
CHILD_PID=

# run a scanner in the background and wait for it, so that a signal is acted on at once
run() {
    "$@" </dev/null &
    CHILD_PID=$!
    wait "$CHILD_PID"
    rc=$?
    CHILD_PID=
    return $rc
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
}

# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [ -n "$CHILD_PID" ] && kill "$CHILD_PID" 2>/dev/null
    stop_server
    if [ -n "$KEEP" ]; then
        mkdir -p "$KEEP" && cp -R "$WORK"/. "$KEEP"/ 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

now() { python3 -c 'import time; print("%.3f" % time.time())'; }

# a port on 127.0.0.1, from 62800 up, that nothing listens on and that can be bound
free_port() {
    python3 - "$1" <<'EOF'
import socket, sys
for port in range(int(sys.argv[1]), 63800):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit(1)
EOF
}

# wait until 127.0.0.1:$1 accepts a connection while $SERVER_PID lives (10 s)
wait_port() {
    python3 - "$1" "$SERVER_PID" <<'EOF'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
end = time.time() + 10
while time.time() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# OpenSSL 3 speaks TLS 1.0/1.1 only at @SECLEVEL=0: testssl's s_client calls need it
cat >"$WORK/openssl-seclevel0.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = ALL:@SECLEVEL=0
EOF

# the nginx configuration for port $1 in directory $2
nginx_conf() {
    user_line=
    if [ "$(id -u)" = 0 ]; then
        # as root the master would switch workers to "nobody", which cannot enter
        # the 0700 temporary directory; the workers only answer a fixed page
        user_line="user $(id -un) $(id -gn);"
    fi
    cat <<EOF
$user_line
worker_processes 1;
pid $2/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $2/client_body;
    proxy_temp_path $2/proxy;
    fastcgi_temp_path $2/fastcgi;
    uwsgi_temp_path $2/uwsgi;
    scgi_temp_path $2/scgi;
    server {
        listen 127.0.0.1:$1 ssl;
        server_name localhost;
        ssl_certificate $PWD/$CERTS/rsa2048.chain.pem;
        ssl_certificate_key $PWD/$CERTS/rsa2048.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        add_header Strict-Transport-Security "max-age=31536000";
        location / { default_type text/plain; return 200 "ok\n"; }
    }
}
EOF
}

# start server $1 on port $2, logging to $3; sets SERVER_PID
start_server() {
    id=$1 port=$2 log=$3
    acc=127.0.0.1:$port
    case $id in
    a) "$OPENSSL" s_server -accept "$acc" -www -cert "$CERTS/rsa2048.crt" \
        -key "$CERTS/rsa2048.key" -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    b) "$OPENSSL" s_server -accept "$acc" -www -tls1_3 \
        -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384 \
        -cert "$CERTS/ecdsa-p256.crt" -key "$CERTS/ecdsa-p256.key" \
        -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    c) "$OPENSSL" s_server -accept "$acc" -www -tls1_2 -serverpref \
        -cipher 'AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256' -cert "$CERTS/rsa2048.crt" \
        -key "$CERTS/rsa2048.key" -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    d) "$OPENSSL" s_server -accept "$acc" -www -tls1 -cipher 'ALL:@SECLEVEL=0' \
        -cert "$CERTS/rsa2048.crt" -key "$CERTS/rsa2048.key" \
        -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    e) command -v "$NGINX" >/dev/null 2>&1 || die "nginx not found at $NGINX"
       dir=$WORK/nginx-$port
       mkdir -p "$dir" || die "cannot create $dir"
       nginx_conf "$port" "$dir" >"$dir/nginx.conf"
       "$NGINX" -p "$dir" -e stderr -c "$dir/nginx.conf" \
           -g 'daemon off; error_log stderr;' >"$log" 2>&1 </dev/null &
       ;;
    f) "$MICA" server --accept "$acc" --cert "$CERTS/ecdsa-p256.chain.pem" \
        --key "$CERTS/ecdsa-p256.key" --www >"$log" 2>&1 </dev/null &
       ;;
    h) "$OPENSSL" s_server -accept "$acc" -www -groups secp384r1 \
        -cert "$CERTS/ecdsa-p384.crt" -key "$CERTS/ecdsa-p384.key" \
        -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    i) "$OPENSSL" s_server -accept "$acc" -www -cert "$CERTS/ed25519.crt" \
        -key "$CERTS/ed25519.key" -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    g) "$OPENSSL" s_server -accept "$acc" -www -no_ssl3 -no_tls1 \
        -ciphersuites TLS_AES_128_CCM_8_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256 \
        -cipher 'ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES256-CCM:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0' \
        -cert "$CERTS/ecdsa-p256.crt" -key "$CERTS/ecdsa-p256.key" \
        -cert_chain "$CERTS/ca.pem" >"$log" 2>&1 </dev/null &
       ;;
    esac
    SERVER_PID=$!
    wait_port "$port" || { cat "$log" >&2; die "server $id did not start on $acc"; }
}

describe() {
    case $1 in
    a) echo "openssl s_server -www: defaults (TLS 1.2+1.3), RSA 2048 + CA" ;;
    b) echo "openssl s_server -www -tls1_3 -ciphersuites CHACHA20:AES_256_GCM, ECDSA P-256" ;;
    c) echo "openssl s_server -www -tls1_2 -serverpref -cipher AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256, RSA" ;;
    d) echo "openssl s_server -www -tls1 -cipher ALL:@SECLEVEL=0, RSA" ;;
    e) echo "nginx: ssl_protocols TLSv1.2 TLSv1.3, RSA chain, HSTS header" ;;
    f) echo "mica server --www, ECDSA P-256 chain" ;;
    g) echo "openssl s_server -www -no_tls1 (TLS 1.1-1.3), CCM suites, @SECLEVEL=0, ECDSA P-256" ;;
    h) echo "openssl s_server -www -groups secp384r1 (HelloRetryRequest), ECDSA P-384" ;;
    i) echo "openssl s_server -www, Ed25519 (testssl without -S)" ;;
    esac
}

SERVERS=${ONLY:-"a b c d e f g h i"}
: >"$WORK/manifest"
port=62800
for id in $SERVERS; do
    case $id in a | b | c | d | e | f | g | h | i) ;; *) die "unknown server '$id' (a to i)" ;; esac
    # -S (certificate, server defaults): testssl 3.0.8 stops with "8*: syntax error"
    # when it sizes an Ed25519 key, so server i is compared without it
    cert_opt=-S
    [ "$id" = i ] && cert_opt=
    port=$(free_port "$port") || die "no free port"
    log=$WORK/$id-server.log
    echo "scan-vs-testssl: ($id) $(describe "$id") on 127.0.0.1:$port" >&2
    start_server "$id" "$port" "$log"

    t0=$(now)
    run "$MICA" scan --json --servername localhost --cafile "$CERTS/ca.pem" \
        "127.0.0.1:$port" >"$WORK/$id-mica.json" 2>"$WORK/$id-mica.err"
    mica_rc=$?
    t1=$(now)
    # -p protocols, -E ciphers per protocol, -S certificate and server defaults,
    # -P server order, -h HTTP headers (HSTS); no DNS, no phoning out
    run env OPENSSL_CONF="$WORK/openssl-seclevel0.cnf" "$TESTSSL" --openssl "$OPENSSL_BIN" \
        -p -E $cert_opt -P -h --ip 127.0.0.1 --nodns none --warnings batch --color 0 --quiet \
        --add-ca "$CERTS/ca.pem" --jsonfile "$WORK/$id-testssl.json" \
        "localhost:$port" >"$WORK/$id-testssl.out" 2>&1
    testssl_rc=$?
    t2=$(now)
    stop_server
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$(describe "$id")" "$mica_rc" "$testssl_rc" \
        "$(python3 -c "print('%.1f' % ($t1 - $t0))")" \
        "$(python3 -c "print('%.1f' % ($t2 - $t1))")" "$port" "$cert_opt" >>"$WORK/manifest"
    port=$((port + 1))
done

# ---- the comparison ---------------------------------------------------------------------
python3 - "$WORK" tools/scan.c <<'EOF' || exit 2
import ipaddress, json, os, re, sys

work, scan_c = sys.argv[1], sys.argv[2]

# mica's fixed list of legacy suites (TLS 1.2, 1.1 and 1.0), read from tools/scan.c so
# that it stays current
src = open(scan_c).read()
m = re.search(r"suites12\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
MICA12 = {n: int(h, 16) for h, n in re.findall(r'\{0x([0-9a-fA-F]{4}),\s*"([A-Za-z0-9_]+)"\}',
                                                  m.group(1) if m else "")}
if not MICA12:
    sys.exit("scan-vs-testssl: cannot read the TLS 1.2 suite list from " + scan_c)
MICA12_BY_CODE = {v: k for k, v in MICA12.items()}
# TLS 1.3 suites mica probes: all five of RFC 8446 (mica list)
MICA13 = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_AES_256_GCM_SHA384": 0x1302,
          "TLS_CHACHA20_POLY1305_SHA256": 0x1303, "TLS_AES_128_CCM_SHA256": 0x1304,
          "TLS_AES_128_CCM_8_SHA256": 0x1305}

rows = []          # (server, fact, mica, testssl, agree)
timings = []


def row(server, fact, mica, testssl, agree):
    if agree is True:
        agree = "yes"
    elif agree is False:
        agree = "no"
    rows.append((server, fact, str(mica), str(testssl), agree))


def load_testssl(path):
    """{id: finding}; ids of a server's second certificate keep their <hostCert#2>"""
    out, ciphers = {}, []
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        return None, None
    if isinstance(data, dict):  # --jsonfile-pretty
        data = [f for s in data.get("scanResult", []) for v in s.values()
                if isinstance(v, list) for f in v]
    for f in data:
        fid, finding = f.get("id", ""), f.get("finding", "")
        mm = re.match(r"cipher-(tls1(?:_[123])?|ssl3)_x([0-9a-f]+)$", fid)
        if mm:
            parts = finding.split()
            # "TLS 1.2   xc030   ECDHE-RSA-AES256-GCM-SHA384 ... TLS_ECDHE_RSA_WITH_..."
            ciphers.append((mm.group(1), int(mm.group(2), 16), parts[3], parts[-1]))
            continue
        fid = re.sub(r"\s*<hostCert#1>$", "", fid)
        out.setdefault(fid, finding)
    return out, ciphers


def offered(finding):
    if finding is None:
        return "?"
    f = finding.lower()
    if "not offered" in f:  # "not offered", "TLSv1.1 is not offered, and downgraded ..."
        return "no"
    if f.startswith("offered"):  # "offered", "offered with final", "offered (deprecated)"
        return "yes"
    return "? (" + finding + ")"


def cn_of(dn):
    mm = re.search(r"(?:^|[,/]\s*)CN\s*=\s*([^,/]+)", dn or "")
    return mm.group(1).strip() if mm else (dn or "")


def norm_name(n):
    n = n.strip()
    for p in ("DNS:", "IP:", "IP Address:"):
        if n.startswith(p):
            n = n[len(p):]
    try:
        return str(ipaddress.ip_address(n))
    except ValueError:
        return n.lower()


def norm_key(k):
    mm = re.match(r"(RSA|ECDSA|EC|DSA|EdDSA|Ed25519|Ed448)\s*(?:P-)?(\d+)?", k or "")
    if not mm:
        return k or ""
    kind = {"ECDSA": "EC"}.get(mm.group(1), mm.group(1))
    return kind + (" " + mm.group(2) if mm.group(2) else "")


def norm_sig(s):
    t = re.sub(r"[^a-z0-9]", "", (s or "").lower())
    h = re.search(r"sha(1|224|256|384|512)", t)
    h = "SHA" + h.group(1) if h else ""
    if "pss" in t:
        return "RSASSA-PSS " + h
    if "ecdsa" in t:
        return "ECDSA " + h
    if "rsa" in t:
        return "RSA " + h
    if "ed25519" in t or "ed448" in t:
        return t
    return s or ""


def short(names, limit=4):
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names) if names else "none"
    return "%d suites" % len(names)


def compare_suites(sid, fact, mica_list, ts_set, probed, names):
    """mica_list: IANA names; ts_set: codes testssl found; probed: codes mica probes"""
    mica_set = set()
    for n in mica_list:
        mica_set.add(MICA12.get(n, MICA13.get(n, -1)))
    ts_in = ts_set & probed
    only_m = sorted(mica_set - ts_in)
    only_t = sorted(ts_in - mica_set)
    name = lambda c: names.get(c, "0x%04x" % c)
    mv = short(mica_list)
    tv = short(name(c) for c in sorted(ts_in))
    if only_m:
        mv += "; only mica: " + ", ".join(name(c) for c in only_m)
    if only_t:
        tv += "; only testssl: " + ", ".join(name(c) for c in only_t)
    row(sid, fact, mv, tv, not only_m and not only_t)
    outside = sorted(ts_set - probed)
    if outside:
        row(sid, fact + ", not in mica's list", "not probed",
            ", ".join(name(c) for c in outside), "n/a")


for line in open(os.path.join(work, "manifest")):
    sid, desc, mica_rc, ts_rc, mica_t, ts_t, port, cert_opt = line.rstrip("\n").split("\t")
    timings.append((sid, desc, mica_t, ts_t, mica_rc, ts_rc))
    try:
        mj = json.load(open(os.path.join(work, sid + "-mica.json")))
    except (OSError, ValueError):
        mj = None
    t, ciphers = load_testssl(os.path.join(work, sid + "-testssl.json"))
    if mj is None or t is None:
        row(sid, "scan", "exit %s%s" % (mica_rc, "" if mj else ", no JSON"),
            "exit %s%s" % (ts_rc, "" if t is not None else ", no JSON"), "no")
        continue
    if "scanTime" in t and t.get("scanTime", "").lower().startswith("scan interrupted"):
        row(sid, "scan", "exit %s" % mica_rc,
            "interrupted: " + t.get("optimal_proto", t["scanTime"]), "no")

    # protocol versions (SSLv2 is not probed by mica)
    for mk, tk in (("SSLv3", "SSLv3"), ("TLSv1.0", "TLS1"), ("TLSv1.1", "TLS1_1"),
                   ("TLSv1.2", "TLS1_2"), ("TLSv1.3", "TLS1_3")):
        mv = "yes" if mj["versions"].get(mk) else "no"
        tv = offered(t.get(tk))
        row(sid, mk, mv, tv, mv == tv)

    names = {c: n for n, c in list(MICA12.items()) + list(MICA13.items())}
    for proto, code, _, iana in ciphers:
        names.setdefault(code, iana if iana != "-" else "0x%04x" % code)

    # TLS 1.3 suites: testssl tries every TLS 1.3 suite, mica the five of RFC 8446
    ts13 = {c for p, c, _, _ in ciphers if p == "tls1_3"}
    compare_suites(sid, "TLS 1.3 suites", mj.get("tls13_cipher_suites", []), ts13,
                   set(MICA13.values()), names)
    # TLS 1.2 suites on mica's fixed list
    ts12 = {c for p, c, _, _ in ciphers if p == "tls1_2"}
    compare_suites(sid, "TLS 1.2 suites", mj.get("tls12_cipher_suites", []), ts12,
                   set(MICA12.values()), names)
    # TLS 1.1 and 1.0 suites: mica enumerates the newest legacy version it finds (TLS 1.2,
    # else 1.1, else 1.0) and reports it as legacy_cipher_suites, on the same fixed list
    legacy = mj.get("legacy_cipher_suites") or {}
    lv = legacy.get("version")
    rank = {"TLSv1.0": 1, "TLSv1.1": 2, "TLSv1.2": 3}
    ts_legacy = {}
    for p, label, ver in (("tls1", "TLS 1.0", "TLSv1.0"), ("tls1_1", "TLS 1.1", "TLSv1.1")):
        ts_legacy[ver] = {c for q, c, _, _ in ciphers if q == p}
        if lv == ver:
            compare_suites(sid, label + " suites", legacy.get("suites", []), ts_legacy[ver],
                           set(MICA12.values()), names)
        elif ts_legacy[ver]:
            found = sorted(ts_legacy[ver])
            tv = "%d suite%s, e.g. %s" % (len(found), "s" if len(found) > 1 else "",
                                          ", ".join(names[c] for c in found[:3]))
            if rank.get(lv, 0) > rank[ver]:  # by design: only the newest legacy version
                row(sid, label + " suites", "not enumerated (mica lists %s's only)" % lv, tv,
                    "n/a")
            else:
                row(sid, label + " suites", "not enumerated (legacy version: %s)" % lv, tv, False)

    # whose cipher order: testssl's cipher_order finding covers TLS 1.2 and 1.3 at once
    co = t.get("cipher_order", "").lower()
    if co.startswith("not a cipher order"):      # "NOT a cipher order configured", "... for TLS 1.3"
        order = {"1.2": "client", "1.3": "client"}
    elif co.startswith("server -- tls 1.3 client"):
        order = {"1.2": "server", "1.3": "client"}
    elif co.startswith("server -- < tls 1.3 client"):
        order = {"1.2": "client", "1.3": "server"}
    elif co.startswith("server"):                # "server", "server (TLS 1.3)"
        order = {"1.2": "server", "1.3": "server"}
    else:
        order = {}
    by_ossl = {o: c for p, c, o, _ in ciphers}
    # (label, testssl's order key, mica's suites, mica's flag, testssl's suites, list)
    checks = [("1.2", "1.2", mj.get("tls12_cipher_suites", []),
               mj.get("tls12_server_cipher_order"), ts12, MICA12),
              ("1.3", "1.3", mj.get("tls13_cipher_suites", []),
               mj.get("server_cipher_order"), ts13, MICA13)]
    if lv in ("TLSv1.0", "TLSv1.1"):  # no TLS 1.2: testssl's "< TLS 1.3" order is this one
        checks.insert(0, (lv[4:], "1.2", legacy.get("suites", []), legacy.get("server_order"),
                          ts_legacy[lv], MICA12))
    for ver, okey, order_m, mflag, ts, probed in checks:
        # both tools tell the order from two suites or more only
        if len(order_m) < 2 or len(ts) < 2 or okey not in order:
            continue
        mv = "server" if mflag else "client"
        tv = order[okey]
        row(sid, "TLS %s server order" % ver, mv, tv, mv == tv)
        # cipherorder_TLSv1, cipherorder_TLSv1_1, cipherorder_TLSv1_2, cipherorder_TLSv1_3
        olist = t.get("cipherorder_TLSv" + ver.replace(".0", "").replace(".", "_"))
        if mv == tv == "server" and olist:
            order_t = [names.get(by_ossl.get(o, -1), o) for o in olist.split()]
            order_t = [n for n in order_t if n in probed]
            row(sid, "TLS %s suite order" % ver, " > ".join(order_m), " > ".join(order_t),
                order_m == order_t)

    # the certificate: mica reads it over TLS 1.3 only, and says so (checked: false)
    cert = mj.get("certificate") or {}
    chain = cert.get("chain") or []
    checked = cert.get("checked", bool(chain))
    if cert_opt != "-S":
        row(sid, "certificate", "%s, %s" % (chain[0]["subject"], chain[0]["key"]) if chain
            else "none", "not asked (no -S)", "n/a")
    elif "cert_commonName" not in t:
        row(sid, "certificate", "%d certificates" % len(chain), "not reported", "no")
    elif not checked:
        # one row for the ten facts: mica must say it did not look, and why
        mv = "checked: false, verify_error: " + (cert.get("verify_error") or "none")
        honest = not chain and (cert.get("verify_error") or "").startswith("not checked")
        tv = "%s, %s, %s sent, chain of trust %s" % (
            t.get("cert_commonName", ""), norm_key(t.get("cert_keySize", "")),
            t.get("certs_countServer", "?"),
            "passed" if t.get("cert_chain_of_trust", "").lower().startswith("passed")
            else "not passed")
        row(sid, "certificate (10 facts)", mv, tv, "n/a" if honest else False)
    elif not chain:
        row(sid, "certificate", "checked, but no certificates", t.get("cert_commonName"), False)
    else:
        facts = [
            ("cert subject CN", lambda c: cn_of(c["subject"]), t.get("cert_commonName", "")),
            ("cert issuer CN", lambda c: cn_of(c["issuer"]), t.get("cert_caIssuers", "")),
            ("cert SANs", lambda c: " ".join(sorted(norm_name(x) for x in c["sans"].split(",")
                                                    if x.strip())),
             " ".join(sorted(norm_name(x) for x in t.get("cert_subjectAltName", "").split()))),
            ("cert notAfter (UTC)", lambda c: c["not_after"][:16].replace("T", " "),
             t.get("cert_notAfter", "")),
            ("cert key", lambda c: norm_key(c["key"]), norm_key(t.get("cert_keySize", ""))),
            ("cert signature", lambda c: norm_sig(c["signature_algorithm"]),
             norm_sig(t.get("cert_signatureAlgorithm", ""))),
            ("cert SHA-256", lambda c: c["sha256"].upper(), t.get("cert_fingerprintSHA256", "")),
        ]
        for fact, get, tv in facts:
            mv = get(chain[0])
            row(sid, fact, mv, tv, mv == tv)
        row(sid, "certificates sent", len(chain), t.get("certs_countServer", "?"),
            str(len(chain)) == t.get("certs_countServer"))
        mv = "yes" if cert.get("verified") else "no"
        tv = "yes" if t.get("cert_chain_of_trust", "").lower().startswith("passed") else "no"
        row(sid, "chain trusted (ca.pem)", mv, tv, mv == tv)
        mv = "yes" if cert.get("ocsp_stapled") else "no"
        tv = offered(t.get("OCSP_stapling"))
        row(sid, "OCSP stapled", mv, tv, mv == tv)

    # HSTS: mica asks over TLS 1.3 only
    if "HSTS" in t or "HSTS_time" in t:
        hm = re.search(r"max-age\s*=\s*(\d+)", mj.get("hsts") or "", re.I)
        mv = (hm.group(1) if hm else "none" if mj.get("http")
              else "not HTTP" if mj["versions"].get("TLSv1.3") else "not checked (no TLS 1.3)")
        ts = t.get("HSTS_time", t.get("HSTS", ""))  # "365 days=31536000 s" / "not offered"
        th = re.search(r"=(\d+) s", ts)
        tv = th.group(1) if th else ("none" if "not offered" in ts else ts)
        row(sid, "HSTS max-age", mv, tv, "n/a" if mv.startswith("not checked") else mv == tv)

# ---- the report -------------------------------------------------------------------------
print("| server | fact | mica scan | testssl.sh | agree |")
print("|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(x.replace("|", "\\|") for x in r) + " |")
print()
n = {k: sum(1 for r in rows if r[4] == k) for k in ("yes", "no", "n/a")}
print("agree: %d yes, %d no, %d n/a (a fact mica does not report for that server)"
      % (n["yes"], n["no"], n["n/a"]))
print()
print("| server | configuration | mica scan (s) | testssl.sh (s) | exit codes (mica, testssl) |")
print("|---|---|---|---|---|")
for sid, desc, mt, tt, mrc, trc in timings:
    print("| %s | %s | %s | %s | %s, %s |" % (sid, desc, mt, tt, mrc, trc))
EOF
exit 0
