/*
 * Time, from one seam. The engine never reads the clock directly (DESIGN.md): a
 * connection asks its config's mica_clock, which tests replace to move time instead of
 * waiting (ticket ages, certificate validity, timestamps in traces).
 */
#ifndef MICA_BASE_CLOCK_H
#define MICA_BASE_CLOCK_H

#include <stdint.h>

/* A clock: milliseconds since the Unix epoch. now == NULL means the system clock. */
struct mica_clock {
    uint64_t (*now)(void *ctx);
    void *ctx;
};

/* mica_clock_now: the time in ms since the epoch from c (or the real time if c or
 * c->now is NULL). */
uint64_t mica_clock_now(const struct mica_clock *c);

/* mica_clock_monotonic: a monotonic ms counter for durations (never from a hook). */
uint64_t mica_clock_monotonic(void);
/* mica_clock_monotonic_us: the same in microseconds. */
uint64_t mica_clock_monotonic_us(void);

#endif
