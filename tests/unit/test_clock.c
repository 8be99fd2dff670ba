/* The clock seam: a hook replaces the time; without one it is the real time. */
#include <time.h>

#include "base/clock.h"
#include "check.h"

static uint64_t fake(void *ctx)
{
    return *(const uint64_t *)ctx;
}

int main(void)
{
    uint64_t t = 1740787200000u; /* 2025-03-01T00:00:00Z */
    struct mica_clock c = {fake, &t};
    uint64_t real = (uint64_t)time(NULL) * 1000u, a, b;

    CHECK(mica_clock_now(&c) == 1740787200000u);
    t += (uint64_t)631u * 86400u * 1000u; /* move time instead of waiting */
    CHECK(mica_clock_now(&c) == 1795305600000u);
    /* no hook: the system clock, to within a few seconds */
    a = mica_clock_now(NULL);
    CHECK(a + 5000 >= real && a <= real + 5000);
    c.now = NULL;
    CHECK(mica_clock_now(&c) + 5000 >= real);
    a = mica_clock_monotonic();
    b = mica_clock_monotonic();
    CHECK(b >= a);
    return check_exit("test_clock");
}
