#!/bin/sh
# bench/run.sh <builddir> [--quick]
#
# mica's benchmarks beside the bare cost of the same crypto in libcrypto (`openssl
# speed`), measured in one run on one machine, and a table of the two with their ratio.
# The table goes to stdout and to <builddir>/bench-results.txt. See bench/README.md for
# what each figure means and how to read the ratios. Then, when the build has
# bench/mica-bench-loopback, bench/loopback.sh measures real servers over 127.0.0.1
# (mica server, openssl s_server, gnutls-serv, nginx) and prints its own table
# (<builddir>/bench-loopback.txt); about a minute more.
#
# Each mica figure is measured right next to its OpenSSL counterpart, so that a change
# in machine load between them (shared and virtual machines drift by tens of percent
# within a minute) skews the ratio as little as possible. The whole sequence runs
# MICA_BENCH_PASSES times (default 2) and every figure keeps its best pass; a further
# pass is skipped when it would end after 110 s, so the run stays under two minutes.
#
#   --quick   one pass, about 0.1 s per mica figure (a smoke test of this script)
set -eu

usage() {
    echo "usage: sh bench/run.sh <builddir> [--quick]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
quick=
passes=${MICA_BENCH_PASSES:-2}
for arg in "$@"; do
    case $arg in
    --quick) quick=--quick passes=1 ;;
    *) usage ;;
    esac
done
case $passes in
'' | *[!0-9]*) echo "run.sh: MICA_BENCH_PASSES must be a number" >&2; exit 2 ;;
esac

bench=$build/bench/mica-bench
if [ ! -x "$bench" ]; then
    echo "run.sh: $bench not found; build it first:" >&2
    echo "    cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release && cmake --build $build --target mica-bench" >&2
    exit 1
fi
OPENSSL=${OPENSSL:-openssl}
if ! command -v "$OPENSSL" >/dev/null 2>&1; then
    echo "run.sh: '$OPENSSL' not found; OpenSSL columns will read -" >&2
    OPENSSL=
fi
out=$build/bench-results.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mica-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
kv=$tmp/kv # one line per measurement: <pass> <key> <value>

# ---- OpenSSL: the bare cost of the crypto ------------------------------------------

# ossl_bulk <bytes> <content> <cipher> [flags]: `openssl speed` on <bytes>-byte buffers,
# as MB/s (10^6 bytes/s) of records carrying <content> bytes each, or nothing when this
# openssl cannot run it. A TLS 1.3 record encrypts its content and one content type
# byte, and libcrypto's speed can differ between the two sizes (ChaCha20-Poly1305 in
# OpenSSL 3.0 runs 20% slower on 16385 bytes than on 16384), so the per-record figures
# encrypt content + 1 bytes and count the content, as mica's do.
ossl_bulk() {
    n=$1 content=$2 c=$3
    shift 3
    [ -n "$OPENSSL" ] || return 0
    "$OPENSSL" speed -mr -seconds 1 -bytes "$n" "$@" -evp "$c" 2>/dev/null |
        awk -F: -v n="$n" -v m="$content" '/^\+F:/ { printf "%.1f\n", $4 / n * m / 1e6; exit }' || true
}

# ossl_ecdh <algorithm>: ECDH operations per second (one EVP_PKEY_derive each).
ossl_ecdh() {
    [ -n "$OPENSSL" ] || return 0
    "$OPENSSL" speed -mr -seconds 1 "$1" 2>/dev/null |
        awk -F: '/^\+F5:/ { printf "%.1f\n", $4; exit }' || true
}

# TLS 1.3 suite -> the cipher `openssl speed -evp` knows it by. openssl speed cannot
# set CCM's tag length, so CCM_8 is compared with 16-byte-tag CCM: the same AES work.
cipher_of() {
    case $1 in
    TLS_AES_128_GCM_SHA256) echo aes-128-gcm ;;
    TLS_AES_256_GCM_SHA384) echo aes-256-gcm ;;
    TLS_CHACHA20_POLY1305_SHA256) echo chacha20-poly1305 ;;
    TLS_AES_128_CCM_SHA256 | TLS_AES_128_CCM_8_SHA256) echo aes-128-ccm ;;
    esac
}

# group -> `openssl speed` ECDH algorithm (names as OpenSSL 3.0 spells them)
ecdh_of() {
    case $1 in
    x25519) echo ecdhx25519 ;;
    x448) echo ecdhx448 ;;
    secp256r1) echo ecdhp256 ;;
    secp384r1) echo ecdhp384 ;;
    secp521r1) echo ecdhp521 ;;
    esac
}

put() { # put <pass> <key> <value>; an empty value (not measured) is left out
    [ -z "$3" ] || echo "$1 $2 $3" >>"$kv"
}

# mica <pass> <--only text>: run mica-bench on some figures and record them
mica() {
    if ! "$bench" $quick --only "$2" >"$tmp/mica.out" 2>"$tmp/mica.err"; then
        cat "$tmp/mica.out" "$tmp/mica.err" >&2
        echo "run.sh: mica-bench failed (--only '$2')" >&2
        exit 1
    fi
    # "seal TLS_AES_128_GCM_SHA256 16384 5000.0 MB/s" -> mica:seal:TLS_AES_128_GCM_SHA256:16384
    awk -v p="$1" 'NF >= 3 {
        k = "mica"
        for (i = 1; i <= NF - 2; i++) k = k ":" $i
        print p, k, $(NF - 1)
    }' "$tmp/mica.out" >>"$kv"
}

# The suites and groups are whatever this mica offers with this libcrypto: ask it.
if ! suites=$("$bench" --list suites) || ! groups=$("$bench" --list groups); then
    echo "run.sh: $bench does not run" >&2
    exit 1
fi
smap= # suite=cipher pairs, for the table
for s in $suites; do
    smap="$smap $s=$(cipher_of "$s")"
done

start=$(date +%s)
pass=1
while [ "$pass" -le "$passes" ]; do
    # stay under two minutes: stop when one more pass, as long as the average one so
    # far, would end after 110 s
    spent=$(($(date +%s) - start))
    if [ "$pass" -gt 1 ] && [ $((spent * pass / (pass - 1))) -gt 110 ]; then
        echo "run.sh: $((pass - 1)) pass(es) took $spent s; skipping the rest" >&2
        break
    fi
    echo "run.sh: pass $pass of $passes" >&2
    done_ciphers=
    for s in $suites; do
        mica "$pass" " $s"
        c=$(cipher_of "$s")
        case " $done_ciphers " in
        *" $c "*) continue ;; # no counterpart, or measured already in this pass
        esac
        done_ciphers="$done_ciphers $c"
        # OpenSSL 3.0's speed runs ChaCha20-Poly1305 as one stream even with -aead (no
        # per-record nonce, AAD or tag: see README), where an odd length only misaligns
        # the stream; so it gets the content length. No openssl figure for 256-byte
        # records: the per-call overhead of speed's own loop dominates there (README).
        m=16385
        [ "$c" != chacha20-poly1305 ] || m=16384
        put "$pass" "ossl:evp-enc:$c:16384" "$(ossl_bulk 16384 16384 "$c")"
        put "$pass" "ossl:aead-enc:$c:16384" "$(ossl_bulk $m 16384 "$c" -aead)"
        put "$pass" "ossl:aead-dec:$c:16384" "$(ossl_bulk $m 16384 "$c" -aead -decrypt)"
    done
    for g in $groups; do
        mica "$pass" " $g"
        a=$(ecdh_of "$g")
        [ -z "$a" ] || put "$pass" "ossl:ecdh:$g" "$(ossl_ecdh "$a")"
    done
    mica "$pass" "sign "
    mica "$pass" "verify "
    pass=$((pass + 1))
done

# ---- whole handshakes, memory and bulk beside libssl, in memory (mica-bench-hs) -----
# one run: each of its figures already puts mica right before OpenSSL
hs=$build/bench/mica-bench-hs
if [ -x "$hs" ]; then
    echo "run.sh: handshakes, memory and bulk (mica-bench-hs)" >&2
    secs=1
    [ -z "$quick" ] || secs=0.05
    if ! "$hs" --seconds "$secs" >"$tmp/hs.out" 2>"$tmp/hs.err"; then
        cat "$tmp/hs.out" "$tmp/hs.err" >&2
        echo "run.sh: mica-bench-hs failed" >&2
        exit 1
    fi
    # "hs server mica full ecdsa-p256 233.6 us" -> hs:hs:server:mica:full:ecdsa-p256
    awk 'NF >= 3 {
        k = "hs"
        for (i = 1; i <= NF - 2; i++) k = k ":" $i
        print 1, k, $(NF - 1)
    }' "$tmp/hs.out" >>"$kv"
fi
elapsed=$(($(date +%s) - start))

# ---- the table ---------------------------------------------------------------------

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
ossl_version=$([ -n "$OPENSSL" ] && "$OPENSSL" version 2>/dev/null || echo 'no openssl')
commit=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')

{
    echo "mica benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), git $commit"
    echo "machine: ${cpu:-unknown CPU}, $ncpu cores, $(uname -sm); load average $load"
    echo "against: $ossl_version (openssl speed, same machine, same run)"
    echo "best of $((pass - 1)) pass(es), $elapsed s; mica: process CPU time; openssl speed: user CPU time"
    echo
    awk -v suites="$suites" -v groups="$groups" -v smap="$smap" '
    {
        k = $2; v = $3 + 0
        if (!(k in best) || v > best[k]) best[k] = v
        if (!(k in low) || v < low[k]) low[k] = v
    }
    function get(k) { return (k in best) ? sprintf("%.1f", best[k]) : "-" }
    function ratio(a, b) { return ((a in best) && (b in best) && best[b] > 0) ? sprintf("%.2f", best[a] / best[b]) : "-" }
    function nsrec(k, n) { return (k in best) && best[k] > 0 ? sprintf("%.0f", n * 1e3 / best[k]) : "-" }
    function mark(k, star) { return (k in best) ? star : "" }
    function fixed(k,    a, b) {
        a = k ":256"; b = k ":16384"
        if (!(a in best) || !(b in best) || best[a] <= 0 || best[b] <= 0) return "-"
        return sprintf("%.0f", 256e3 / best[a] - 256e3 / best[b])
    }
    function us(k) { return (k in best) && best[k] > 0 ? sprintf("%.1f", 1e6 / best[k]) : "-" }
    function cost(k) { return (k in best) && best[k] > 0 ? 1e6 / best[k] : 0 } # us per op
    function memrow(label, m, o) {
        if (!(m in best)) return
        ov = "-"
        if (o in best) ov = sprintf("%.0f", best[o])
        printf "%-28s %8.0f %8s %6s\n", label, best[m], ov, ratio(m, o)
    }
    END {
        ns = split(suites, S, " "); ng = split(groups, G, " ")
        nm = split(smap, M, " ")
        for (i = 1; i <= nm; i++) { eq = index(M[i], "="); C[substr(M[i], 1, eq - 1)] = substr(M[i], eq + 1) }

        print "Record protection: application_data records sealed and opened in place, with 16384-byte (full)"
        print "and 256-byte content; MB/s = 10^6 content bytes per second, ns = per record"
        print "  aead = openssl speed -aead -bytes 16385: per record a nonce, 13-byte AAD, the content and its"
        print "         content type byte (as in TLS 1.3), the tag (* ChaCha20-Poly1305: a stream, see README)"
        print "  evp  = openssl speed -evp -bytes 16384: one stream, no per-record nonce or tag: the cipher alone"
        print "  256-byte records have no openssl figure: see their fixed cost below instead"
        printf "%-41s %8s %7s %8s %6s %8s %6s\n", "figure", "mica", "ns", "aead", "ratio", "evp", "ratio"
        for (i = 1; i <= ns; i++) {
            s = S[i]; c = C[s]; star = c == "chacha20-poly1305" ? "*" : ""
            for (j = 1; j <= 2; j++) {
                n = j == 1 ? 16384 : 256
                for (d = 1; d <= 2; d++) {
                    op = d == 1 ? "seal" : "open"; o = d == 1 ? "enc" : "dec"
                    m = "mica:" op ":" s ":" n; a = "ossl:aead-" o ":" c ":" n; e = "ossl:evp-" o ":" c ":" n
                    printf "%-41s %8s %7s %8s %6s %8s %6s\n", op " " s " " n, get(m),
                        nsrec(m, n), get(a) mark(a, star), ratio(m, a), get(e), ratio(m, e)
                }
            }
        }
        print "  (CCM_8 is compared with aes-128-ccm: openssl speed has no 8-byte-tag CCM; the AES work is the same)"
        print ""
        print "The libcrypto floor of a record (mica-bench evp-record): the EVP calls one 16 KiB record needs"
        print "(nonce, AAD, content, final, tag) on a keyed context with no mica code, beside mica seal and"
        print "the stream rate: floor/evp is what any TLS stack on EVP can reach, seal/floor is the overhead of mica"
        printf "%-36s %8s %8s %8s %8s %8s\n", "suite", "seal", "floor", "evp", "s/floor", "fl/evp"
        for (i = 1; i <= ns; i++) {
            s = S[i]; c = C[s]
            f = "mica:evp-record:" s ":16384"; m = "mica:seal:" s ":16384"; e = "ossl:evp-enc:" c ":16384"
            if (!(f in best)) continue
            printf "%-36s %8s %8s %8s %8s %8s\n", s, get(m), get(f), get(e), ratio(m, f), ratio(f, e)
        }
        print ""
        print "Fixed cost per record in mica (ns per record at 256 bytes minus 256 bytes at the 16 KiB rate):"
        print "what one record costs beyond its bytes: nonce, AAD, tag, the EVP calls and the checks of mica"
        printf "%-36s %8s %8s\n", "suite", "seal", "open"
        for (i = 1; i <= ns; i++) {
            s = S[i]
            printf "%-36s %8s %8s\n", s, fixed("mica:seal:" s), fixed("mica:open:" s)
        }
        print ""

        print "Key exchange: a mica round = client keygen + server encap + client decap"
        print "  = 2 key generations + 2 ECDH + 2 peer-share imports with validation."
        print "  openssl speed ecdh times one EVP_PKEY_derive with both keys ready, so round/ecdh can"
        print "  never reach 1: 0.5 would mean free keygen and validation. decap = 1 import + 1 ECDH,"
        print "  the like-for-like figure: decap/ecdh = 1 would mean validation is free."
        printf "%-12s %10s %10s %10s %10s %10s %10s\n", "group", "round/s", "keygen/s", "decap/s", "ecdh/s", "round/ecdh", "decap/ecdh"
        for (i = 1; i <= ng; i++) {
            g = G[i]
            printf "%-12s %10s %10s %10s %10s %10s %10s\n", g, get("mica:kx:" g),
                get("mica:kx-keygen:" g), get("mica:kx-decap:" g), get("ossl:ecdh:" g),
                ratio("mica:kx:" g, "ossl:ecdh:" g), ratio("mica:kx-decap:" g, "ossl:ecdh:" g)
        }
        print ""

        print "Key schedule (no openssl speed equivalent)"
        print "  keysched = one full handshake: early..resumption master, 4 traffic keys+IVs, 2 Finished (23 HMACs)"
        print "  set-key  = mica_rec_set_key: key and IV from a traffic secret plus a keyed AEAD context"
        printf "%-36s %14s %8s %12s %8s\n", "suite", "handshakes/s", "us", "keys/s", "us"
        for (i = 1; i <= ns; i++) {
            s = S[i]
            printf "%-36s %14s %8s %12s %8s\n", s, get("mica:keysched:" s), us("mica:keysched:" s),
                get("mica:set-key:" s), us("mica:set-key:" s)
        }
        print ""

        if ("hs:hs:server:mica:full:ecdsa-p256" in best) {
            print "Handshakes in memory (mica-bench-hs): client and server in one process, no sockets;"
            print "  CPU per handshake of each end (us), x25519, TLS_AES_128_GCM_SHA256, a 1-byte request and"
            print "  answer so that tickets are sent and read; openssl = libssl 3.0 over a BIO pair, same load"
            print "  bound = the primitives it needs, from the figures above: server kx-encap + sign +"
            print "  keysched; client kx-keygen + kx-decap + verify (CertificateVerify) + verify (ECDSA"
            print "  P-256: the CA signed every leaf) + keysched; resumed (psk_dhe_ke): kx-encap or"
            print "  kx-keygen + kx-decap, + keysched; each + flights (mica-bench-hs: 4 AEAD contexts, the"
            print "  records of that exchange sealed and opened, the transcript hashed: EVP calls only)"
            printf "%-28s %8s %8s %6s %8s %6s\n", "handshake", "mica", "openssl", "ratio", "bound", "/bound"
            ncert = split("ecdsa-p256 rsa2048 ed25519", C, " ")
            SCH["ecdsa-p256"] = "ecdsa_secp256r1_sha256"
            SCH["rsa2048"] = "rsa_pss_rsae_sha256"
            SCH["ed25519"] = "ed25519"
            ks = "mica:keysched:TLS_AES_128_GCM_SHA256"
            for (i = 1; i <= ncert; i++) {
                c = C[i]
                for (e = 1; e <= 2; e++) {
                    end = e == 1 ? "server" : "client"
                    for (r = 0; r <= 1; r++) {
                        kind = r ? "resumed" : "full"
                        m = "hs:hs:" end ":mica:" kind ":" c
                        o = "hs:hs:" end ":openssl:" kind ":" c
                        if (!(m in best)) continue
                        if (end == "server")
                            b = cost("mica:kx-encap:x25519") + cost(ks) + (r ? 0 : cost("mica:sign:" SCH[c]))
                        else
                            b = cost("mica:kx-keygen:x25519") + cost("mica:kx-decap:x25519") + cost(ks) + \
                                (r ? 0 : cost("mica:verify:" SCH[c]) + cost("mica:verify:ecdsa_secp256r1_sha256"))
                        fl = "hs:flights:" end ":" kind ":" c
                        if (b > 0 && (fl in best)) b += best[fl]
                        ov = "-"; orat = "-"; bv = "-"; brat = "-"
                        if ((o in best) && best[o] > 0) { ov = sprintf("%.1f", best[o]); orat = sprintf("%.2f", best[m] / best[o]) }
                        if (b > 0) { bv = sprintf("%.1f", b); brat = sprintf("%.2f", best[m] / b) }
                        printf "%-28s %8.1f %8s %6s %8s %6s\n", end " " kind " " c, best[m], ov, orat, bv, brat
                    }
                }
            }
            print ""
            print "Memory (mica-bench-hs; malloc counted per end, libcrypto allocations included), bytes"
            print "  peak = that end: heap high-water mark during one handshake and exchange, above what it"
            print "  held before; idle = per established connection, over many kept open at once"
            printf "%-28s %8s %8s %6s\n", "figure", "mica", "openssl", "ratio"
            for (i = 1; i <= ncert; i++)
                for (e = 1; e <= 2; e++) {
                    end = e == 1 ? "server" : "client"
                    memrow("peak " end " " C[i], "hs:mem-peak:" end ":mica:" C[i], "hs:mem-peak:" end ":openssl:" C[i])
                }
            memrow("idle server", "hs:mem-idle:server:mica", "hs:mem-idle:server:openssl")
            memrow("idle client", "hs:mem-idle:client:mica", "hs:mem-idle:client:openssl")
            print ""
            print "Bulk in memory (mica-bench-hs): 16 KiB records, MB/s of content per CPU second of that end"
            print "  server = 64 records written and handed off between two clock reads; client = reading them"
            print "  evp = one EVP AEAD stream of 16 KiB updates (what openssl speed -evp measures): the limit"
            printf "%-36s %8s %8s %8s %7s %7s\n", "figure", "mica", "openssl", "evp", "m/evp", "o/evp"
            for (i = 1; i <= ns; i++) {
                s = S[i]
                for (e = 1; e <= 2; e++) {
                    end = e == 1 ? "server" : "client"
                    m = "hs:bulk:" end ":mica:" s
                    o = "hs:bulk:" end ":openssl:" s
                    v = "hs:evp:" s
                    if (!(m in best)) continue
                    printf "%-36s %8.1f %8s %8s %7s %7s\n", end " " s, best[m], get(o), get(v),
                        ratio(m, v), ratio(o, v)
                }
            }
            print ""
        }

        worst = 0
        for (k in best) {
            if (best[k] > 0 && (best[k] - low[k]) / best[k] > worst) { worst = (best[k] - low[k]) / best[k]; wk = k }
        }
        if (worst > 0)
            printf "noise: the largest pass-to-pass spread was %.0f%% (%s); ratios within about that are ties\n", worst * 100, wk
    }' "$kv"
} >"$tmp/table"

cp "$tmp/table" "$out"
cat "$tmp/table"
echo "(written to $out)"

# ---- over loopback: real servers, their CPU read from the kernel (bench/loopback.sh) ----
if [ -x "$build/bench/mica-bench-loopback" ]; then
    echo
    echo "run.sh: over loopback (bench/loopback.sh)" >&2
    st=0
    # shellcheck disable=SC2086 # quick: empty or one flag
    sh "$(dirname "$0")/loopback.sh" "$build" $quick || st=$?
    case $st in
    0) ;;
    77) echo "run.sh: the loopback benchmarks were skipped" >&2 ;;
    *)
        echo "run.sh: the loopback benchmarks failed" >&2
        exit 1
        ;;
    esac
fi
