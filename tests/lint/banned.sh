#!/bin/sh
# banned.sh: patterns STYLE.md 2.7.6 bans (after s2n's grep_simple_mistakes.sh).
#
#   memcmp                         in src/tls/ and src/crypto/: secrets are compared with
#                                  mica_ct_eq (STYLE.md 2.6)
#   strcpy sprintf vsprintf strcat alloca gets
#                                  anywhere in src/ and tools/ (snprintf and fgets are fine)
#   malloc calloc realloc free     the bare libc names, in src/ outside src/base/mem.c: all
#   strdup strndup aligned_alloc   memory goes through the mica_mem_* seam (mica_mem_free,
#                                  EVP_MD_free, OPENSSL_free, ->free( are not matched)
#   sizeof(a) / sizeof(a[0])       in src/ and tools/: use MICA_ARRAY_LEN
#   // comments                    in src/: write /* */ comments
#   ;;                             in src/ and tools/, except inside for (...)
#   ->p[                           in src/ outside src/base/rd.c and src/base/wr.c: wire
#                                  bytes are read through mica_rd_* (STYLE.md 2.4)
#
# Comments and the insides of string and character literals are blanked before matching,
# so "free(" in a comment or "//" in a URL string is not a violation.
# Run from the repository root. Prints each violation as file:line and exits 1 if any.
set -u

if [ ! -d src ]; then
    echo "banned: run me from the repository root" >&2
    exit 2
fi

echo "banned: memcmp in src/tls/ and src/crypto/ (use mica_ct_eq)"
echo "banned: strcpy, sprintf, vsprintf, strcat, alloca, gets in src/ and tools/"
echo "banned: malloc, calloc, realloc, free, strdup, strndup, aligned_alloc in src/ outside src/base/mem.c"
echo "banned: sizeof(a) / sizeof(a[0]) in src/ and tools/ (use MICA_ARRAY_LEN)"
echo "banned: // comments in src/"
echo "banned: ;; outside for (...) in src/ and tools/"
echo "banned: ->p[ in src/ outside src/base/rd.c and src/base/wr.c"

files=$(for d in src tools; do
    [ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
done | LC_ALL=C sort)

bad=0
for f in $files; do
    in_src=0 memcmp_zone=0 alloc_ok=0 rdwr=0
    case "$f" in src/*) in_src=1 ;; esac
    case "$f" in src/tls/* | src/crypto/*) memcmp_zone=1 ;; esac
    # src/io may include only public headers, so it cannot reach the seam in src/base/mem.c;
    # its one allocation pair (io_alloc/io_release in fd.c) is the exception
    case "$f" in src/base/mem.c | src/io/fd.c) alloc_ok=1 ;; esac
    case "$f" in src/base/rd.c | src/base/wr.c) rdwr=1 ;; esac
    awk -v f="$f" -v in_src=$in_src -v memcmp_zone=$memcmp_zone -v alloc_ok=$alloc_ok \
        -v rdwr=$rdwr '
    function report(rule) {
        orig = $0
        sub(/^[ \t]+/, "", orig)
        printf "%s:%d: %s: %s\n", f, NR, rule, orig
        found = 1
    }
    # code: this line with comments and literal contents blanked ("//" kept as a marker)
    function code(line,    out, i, n, c, d, q) {
        out = ""; i = 1; n = length(line)
        while (i <= n) {
            c = substr(line, i, 1); d = substr(line, i, 2)
            if (inblock) {
                if (d == "*/") { inblock = 0; out = out "  "; i += 2 } else { out = out " "; i++ }
                continue
            }
            if (d == "/*") { inblock = 1; out = out "  "; i += 2; continue }
            if (d == "//") { out = out "//"; break }
            if (c == "\"" || c == "\047") {
                q = c; out = out q; i++
                while (i <= n) {
                    c = substr(line, i, 1)
                    if (c == "\\") { out = out "  "; i += 2; continue }
                    if (c == q) { break }
                    out = out " "; i++
                }
                out = out q; i++
                continue
            }
            out = out c; i++
        }
        return out
    }
    {
        t = code($0)
        if (memcmp_zone && t ~ /(^|[^A-Za-z0-9_])memcmp[ \t]*\(/)
            report("memcmp (compare secrets with mica_ct_eq)")
        if (t ~ /(^|[^A-Za-z0-9_])(strcpy|sprintf|vsprintf|strcat|alloca|gets)[ \t]*\(/)
            report("banned libc function")
        if (in_src && !alloc_ok && t ~ /(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free|strdup|strndup|aligned_alloc)[ \t]*\(/)
            report("libc allocation outside src/base/mem.c (use mica_mem_*)")
        if (t ~ /sizeof.*\/[ \t]*sizeof[ \t]*\(?[ \t]*(\*|\(?[ \t]*[A-Za-z_][A-Za-z0-9_.>-]*[ \t]*\)?[ \t]*\[[ \t]*0[ \t]*\])/ && t !~ /#[ \t]*define[ \t]+MICA_ARRAY_LEN/)
            report("sizeof(a) / sizeof(a[0]) (use MICA_ARRAY_LEN)")
        if (in_src && index(t, "//") > 0)
            report("// comment (use /* */)")
        u = t
        gsub(/for[ \t]*\(([^()]|\([^()]*\))*\)/, "for()", u)
        if (index(u, ";;") > 0)
            report(";; outside for (;;)")
        if (in_src && !rdwr && index(t, "->p[") > 0)
            report("->p[ outside rd.c/wr.c (read through mica_rd_*)")
    }
    END { exit found }' "$f" || bad=1
done

if [ $bad -ne 0 ]; then
    echo "banned: FAILED" >&2
    exit 1
fi
echo "banned: ok ($(echo "$files" | wc -w | tr -d ' ') files)"
exit 0
