/*
 * Readers for the checked-in vector files under tests/vectors/.
 *
 * rfc8448.vec lines: section|side|step|field|hex (see tests/vectors/rfc8448/extract.py).
 * vec_rfc8448(section, side, step, field, nth, &len) returns the nth (0-based) matching
 * value as a static buffer owned by the loader, or aborts the test with a message if it
 * is missing: a missing value is a broken test, never a skipped one.
 */
#ifndef MICA_TEST_VEC_H
#define MICA_TEST_VEC_H

#include <stddef.h>
#include <stdint.h>

const uint8_t *vec_rfc8448(int section, const char *side, const char *step, const char *field,
                           int nth, size_t *len);

/* Iteration over every row, in file (= RFC) order. */
size_t vec_rfc8448_rows(void);
void vec_rfc8448_row(size_t i, int *section, const char **side, const char **step,
                     const char **field, const uint8_t **val, size_t *len);

/* vec_path: MICA_TEST_VECTORS "/" rel, in a static buffer. */
const char *vec_path(const char *rel);

/* vec_read_file: the whole file as a NUL-terminated heap string (free()), or NULL. */
char *vec_read_file(const char *path, size_t *len);

#endif
