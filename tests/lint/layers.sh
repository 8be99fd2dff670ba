#!/bin/sh
# layers.sh: a layer includes only the layers below it (DESIGN.md "Layers", STYLE.md 2.1).
#
#   base  <-  crypto  <-  x509  <-  tls  <-  io, tools (through include/mica/ only)
#
# Checked, on every #include line of every .c/.h file:
#   1. <openssl/...> only under src/crypto/ and src/x509/ (the crypto gate); nowhere else
#      in src/, include/ or tools/.
#   2. src/io/ and tools/ use only the public API: <mica/...> and system headers. No
#      internal header ("base/...", <tls/...>, ...); a quoted include is allowed only for
#      a header in the same directory (a tool's own header).
#   3. src/base/ includes nothing from crypto/, tls/, x509/, io/.
#   4. src/crypto/ includes nothing from tls/, x509/, io/.
#   5. src/x509/ includes nothing from tls/, io/.
#   6. src/tls/ includes nothing from io/.
#   7. include/mica/ (the public API) includes only <mica/...> and system headers.
# Run from the repository root. Prints each violation as file:line and exits 1 if any.
set -u

if [ ! -d src ] || [ ! -d include/mica ]; then
    echo "layers: run me from the repository root" >&2
    exit 2
fi

bad=0
report() { # file line message text
    printf '%s:%s: %s: %s\n' "$1" "$2" "$3" "$4"
    bad=1
}

# includes FILE: "line<TAB>target" for each #include (target keeps its <> or "")
includes() {
    awk '/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
        t = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*/, "", t)
        if (match(t, /^<[^>]*>/) || match(t, /^"[^"]*"/)) {
            t = substr(t, 1, RLENGTH)
        }
        printf "%d\t%s\n", NR, t
    }' "$1"
}

# files under the given directories (those that exist), sorted
sources() {
    for d in "$@"; do
        [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
    done | LC_ALL=C sort
}

# layer of an include target: base crypto x509 tls io, or "" (other)
layer_of() {
    case "$1" in
    '"base/'* | '<base/'*) echo base ;;
    '"crypto/'* | '<crypto/'*) echo crypto ;;
    '"x509/'* | '<x509/'*) echo x509 ;;
    '"tls/'* | '<tls/'*) echo tls ;;
    '"io/'* | '<io/'*) echo io ;;
    *) echo "" ;;
    esac
}

echo "layers: <openssl/ only in src/crypto/ and src/x509/"
echo "layers: src/io/ and tools/ include only <mica/...> and system headers"
echo "layers: base <- crypto <- x509 <- tls <- io; no layer includes one above it"
echo "layers: include/mica/ includes only <mica/...> and system headers"

tmp=$(mktemp "${TMPDIR:-/tmp}/mica-layers.XXXXXX") || exit 2
trap 'rm -f "$tmp"' EXIT INT TERM

files=$(sources src include tools)
for f in $files; do
    dir=${f%/*}
    case "$f" in
    src/base/*) forbidden="crypto tls x509 io" ;;
    src/crypto/*) forbidden="tls x509 io" ;;
    src/x509/*) forbidden="tls io" ;;
    src/tls/*) forbidden="io" ;;
    *) forbidden="" ;;
    esac
    public_only=no
    case "$f" in
    src/io/* | tools/* | include/*) public_only=yes ;;
    esac
    includes "$f" >"$tmp"
    while IFS='	' read -r line target; do
        case "$target" in
        '<openssl/'*)
            case "$f" in
            src/crypto/* | src/x509/*) ;;
            *) report "$f" "$line" "libcrypto outside the crypto gate" "#include $target" ;;
            esac
            ;;
        esac
        layer=$(layer_of "$target")
        if [ "$public_only" = yes ]; then
            case "$target" in
            '<mica/'*) ;;
            '"'*)
                inner=${target#\"}
                inner=${inner%\"}
                case "$inner" in
                */*) report "$f" "$line" "public-API-only file includes an internal header" "#include $target" ;;
                *) [ -f "$dir/$inner" ] || report "$f" "$line" "public-API-only file includes a header that is not beside it" "#include $target" ;;
                esac
                ;;
            *)
                [ -n "$layer" ] && report "$f" "$line" "public-API-only file includes an internal header" "#include $target"
                ;;
            esac
        fi
        for up in $forbidden; do
            if [ "$layer" = "$up" ]; then
                report "$f" "$line" "${f#src/}: a lower layer includes $up/" "#include $target"
            fi
        done
    done <"$tmp"
done

if [ $bad -ne 0 ]; then
    echo "layers: FAILED" >&2
    exit 1
fi
echo "layers: ok ($(echo "$files" | wc -w | tr -d ' ') files)"
exit 0
