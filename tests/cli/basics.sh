#!/bin/sh
# basics.sh <mica>: the command's smallest promises.
#
#   mica version   prints "mica <MICA_VERSION_STRING>" (the version in include/mica/mica.h)
#   mica list      lists TLS_AES_128_GCM_SHA256, x25519 and ecdsa_secp256r1_sha256
#   mica help      exits 0 and prints usage
#   mica <bogus>   exits 2 with a message on stderr and nothing on stdout
#
# Runs from any directory (ctest gives no working directory); exits 1 on any failure.
set -u

if [ $# -ne 1 ]; then
    echo "usage: basics.sh <path-to-mica-binary>" >&2
    exit 2
fi
mica=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
me=cli
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
make_tmp

# run NAME ARGS...: stdout, stderr and status of `mica ARGS` into $tmp/NAME.{out,err,rc}
run() {
    name=$1
    shift
    "$mica" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    echo $? >"$tmp/$name.rc"
}

want=$(sed -n 's/^#define MICA_VERSION_STRING "\(.*\)"$/\1/p' "$top/include/mica/mica.h")
if [ -z "$want" ]; then
    echo "cli: cannot find MICA_VERSION_STRING in $top/include/mica/mica.h" >&2
    exit 2
fi

echo "cli: mica version prints mica $want"
run version version
[ "$(cat "$tmp/version.rc")" = 0 ] || fail "mica version exited $(cat "$tmp/version.rc")"
[ "$(cat "$tmp/version.out")" = "mica $want" ] ||
    fail "mica version printed '$(cat "$tmp/version.out")', want 'mica $want'"

echo "cli: mica list names TLS_AES_128_GCM_SHA256, x25519, ecdsa_secp256r1_sha256"
run list list
[ "$(cat "$tmp/list.rc")" = 0 ] || fail "mica list exited $(cat "$tmp/list.rc")"
for name in TLS_AES_128_GCM_SHA256 x25519 ecdsa_secp256r1_sha256; do
    grep -Eq "(^|[^A-Za-z0-9_])$name([^A-Za-z0-9_]|\$)" "$tmp/list.out" ||
        fail "mica list does not list $name"
done

echo "cli: mica help exits 0 with usage"
run help help
[ "$(cat "$tmp/help.rc")" = 0 ] || fail "mica help exited $(cat "$tmp/help.rc")"
grep -qi usage "$tmp/help.out" || fail "mica help prints no usage"

echo "cli: an unknown command exits 2 with a message on stderr"
run bogus no-such-command
[ "$(cat "$tmp/bogus.rc")" = 2 ] || fail "mica no-such-command exited $(cat "$tmp/bogus.rc"), want 2"
grep -q no-such-command "$tmp/bogus.err" ||
    fail "mica no-such-command: stderr does not name the command: '$(head -1 "$tmp/bogus.err")'"
[ -s "$tmp/bogus.out" ] && fail "mica no-such-command wrote to stdout"

if [ $bad -ne 0 ]; then
    exit 1
fi
echo "cli: ok"
exit 0
