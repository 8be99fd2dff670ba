#include "check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

_Atomic int check_failures;
_Atomic int check_count;

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    check_failures++;
    fprintf(stderr, "%s:%d: FAIL: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void dump(const char *tag, const uint8_t *p, size_t len)
{
    fprintf(stderr, "    %s:", tag);
    for (size_t i = 0; i < len; i++) {
        fprintf(stderr, "%s%02x", (i % 32 == 0 && i > 0) ? "\n         " : " ", p[i]);
    }
    fputc('\n', stderr);
}

void check_mem(const char *file, int line, const char *what, const uint8_t *got,
               const uint8_t *want, size_t len)
{
    check_count++;
    if (len > 0 && memcmp(got, want, len) != 0) {
        check_fail(file, line, "%s differs", what);
        dump("got ", got, len);
        dump("want", want, len);
    }
}

bool check_light(void)
{
    const char *v = getenv("MICA_TEST_LIGHT");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

int check_exit(const char *name)
{
    if (check_failures > 0) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures, check_count);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, check_count);
    return 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex != '\0'; hex++) {
        int v;
        if (*hex == ' ' || *hex == '\n' || *hex == ':') {
            continue;
        }
        v = nibble(*hex);
        if (v < 0) {
            return (size_t)-1;
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= cap) {
            return (size_t)-1;
        }
        out[n++] = (uint8_t)((hi << 4) | v);
        hi = -1;
    }
    return hi < 0 ? n : (size_t)-1;
}

uint8_t *hex_alloc(const char *hex, size_t *len)
{
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *p = malloc(cap);

    if (p == NULL) {
        return NULL;
    }
    *len = hex_decode(hex, p, cap);
    if (*len == (size_t)-1) {
        free(p);
        return NULL;
    }
    return p;
}
