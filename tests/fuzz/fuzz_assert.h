/*
 * FUZZ_ASSERT: an invariant of a fuzz target; when it fails the target says which (file
 * and line name the target) and aborts, which libFuzzer and tests/fuzz/driver.c report
 * as a crash with its input saved.
 */
#ifndef MICA_FUZZ_ASSERT_H
#define MICA_FUZZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
