#include "base/clock.h"

#include <time.h>

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t mica_clock_now(const struct mica_clock *c)
{
    if (c != NULL && c->now != NULL) {
        return c->now(c->ctx);
    }
    return read_clock(CLOCK_REALTIME);
}

uint64_t mica_clock_monotonic_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t mica_clock_monotonic(void)
{
    return read_clock(CLOCK_MONOTONIC);
}
