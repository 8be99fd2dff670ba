#!/bin/sh
# Install the Debian 12 packages that mica's build, tests and demo need, if missing.
# Says what it installs; does nothing when everything is present.
set -eu

PKGS="build-essential cmake pkg-config libssl-dev openssl clang llvm libclang-rt-14-dev
clang-format binutils gnutls-bin curl python3 ca-certificates chromium tshark valgrind"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "mica: installing missing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "mica: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
