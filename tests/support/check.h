/*
 * A tiny test harness. Each CHECK records a failure with file:line and carries on, so
 * one run shows every broken assertion. main() returns check_exit().
 */
#ifndef MICA_TEST_CHECK_H
#define MICA_TEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mica/mica.h>

extern _Atomic int check_failures; /* atomic: tests check from several threads */
extern _Atomic int check_count;

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_mem(const char *file, int line, const char *what, const uint8_t *got,
               const uint8_t *want, size_t len);
int check_exit(const char *name);
/* check_light: MICA_TEST_LIGHT is set, not empty and not "0" (make valgrind, where a
 * handshake costs ~50 times more): tests that repeat one kind of work many times do a
 * representative part of it, and say what they leave out. */
bool check_light(void);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_fail(__FILE__, __LINE__, "%s", #cond);                                           \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        check_count++;                                                                             \
        if (!(cond)) {                                                                             \
            check_fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
        }                                                                                          \
    } while (0)

#define CHECK_ERR(expr, want)                                                                      \
    do {                                                                                           \
        mica_err got_ = (expr);                                                                    \
        check_count++;                                                                             \
        if (got_ != (want)) {                                                                      \
            check_fail(__FILE__, __LINE__, "%s: got %s, want %s", #expr, mica_err_name(got_),      \
                       mica_err_name(want));                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, MICA_OK)

#define CHECK_MEM(what, got, want, len) check_mem(__FILE__, __LINE__, what, got, want, len)

/* hex_decode: decode a hex string (spaces allowed) into out; returns the byte count or
 * (size_t)-1 if it is not hex or does not fit. */
size_t hex_decode(const char *hex, uint8_t *out, size_t cap);
/* hex_alloc: decode into a new heap buffer (free with free()); *len gets the size. */
uint8_t *hex_alloc(const char *hex, size_t *len);

#endif
