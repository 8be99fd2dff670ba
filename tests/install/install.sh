#!/bin/sh
# make install, checked: install a build into a DESTDIR, then build a program against it
# with pkg-config and with CMake's find_package, and run both.
set -eu
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix=/opt/mica-test

DESTDIR="$stage" cmake --install "$build" --prefix "$prefix" >/dev/null
root="$stage$prefix"
for f in include/mica/mica.h bin/mica lib/libmica.a lib/pkgconfig/mica.pc \
         lib/cmake/mica/micaConfig.cmake; do
    [ -e "$root/$f" ] || { echo "install: missing $f" >&2; exit 1; }
done
ls "$root"/lib/libmica.so.0* >/dev/null || { echo "install: no versioned libmica.so.0" >&2; exit 1; }
"$root/bin/mica" version | grep -q "^mica " || { echo "install: mica does not run" >&2; exit 1; }

cat > "$stage/use.c" <<'C'
#include <mica/mica.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    const char *name = NULL;
    if (strcmp(mica_version(), MICA_VERSION_STRING) != 0 || mica_cipher_suite_at(0, &name) != 0x1301) {
        return 1;
    }
    printf("%s %s\n", mica_version(), name);
    return 0;
}
C
# pkg-config (mica.pc is relocatable), against the shared library
PKG_CONFIG_PATH="$root/lib/pkgconfig" \
    cc -o "$stage/use_pc" "$stage/use.c" $(PKG_CONFIG_PATH="$root/lib/pkgconfig" \
    pkg-config --cflags --libs mica)
LD_LIBRARY_PATH="$root/lib" "$stage/use_pc" | grep -q "TLS_AES_128_GCM_SHA256"

# CMake package, against the static library
mkdir -p "$stage/cm"
cat > "$stage/cm/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.18)
project(use C)
find_package(mica REQUIRED)
add_executable(use ../use.c)
target_link_libraries(use PRIVATE mica::mica_static)
C
cmake -S "$stage/cm" -B "$stage/cm/b" -DCMAKE_PREFIX_PATH="$root" >/dev/null
cmake --build "$stage/cm/b" >/dev/null
"$stage/cm/b/use" | grep -q "TLS_AES_128_GCM_SHA256"
echo "install: headers, libraries, mica.pc, CMake package and mica all work from $prefix"
