/*
 * Internal error helpers: the two control-flow macros and the warn-unused attribute.
 * The codes themselves are the public mica_err (include/mica/mica.h); their alert and
 * sentence live in one table in err.c.
 */
#ifndef MICA_BASE_ERR_H
#define MICA_BASE_ERR_H

#include <mica/mica.h>

/* Every fallible internal function is declared MICA_MUST: ignoring its result is a
 * compile error under -Werror. */
#define MICA_MUST __attribute__((warn_unused_result))

/* TRY(expr): evaluate expr; return its error if it is not MICA_OK. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        mica_err try_err_ = (expr);                                                                \
        if (try_err_ != MICA_OK) {                                                                 \
            return try_err_;                                                                       \
        }                                                                                          \
    } while (0)

/* ENSURE(cond, code): return code unless cond holds. */
#define ENSURE(cond, code)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

#define MICA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * mica_err_first: the first-failure-sticks rule in one place. *sticky keeps the first
 * error ever stored into it; later errors are ignored. Returns the stored error.
 *
 *     return mica_err_first(&conn->err, MICA_E_DECODE);
 */
mica_err mica_err_first(mica_err *sticky, mica_err err);

/* mica_err_is_error: true for codes in the error range (not OK, not WANT_*). */
int mica_err_is_error(mica_err err);

#endif /* MICA_BASE_ERR_H */
