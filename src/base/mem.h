/*
 * Memory: the one allocator seam, secure wiping, constant-time comparison and the
 * secret container (STYLE.md 2.6).
 *
 * All of mica allocates through mica_mem_*; the lint bans malloc elsewhere. Tests use
 * the seam to fail the n-th allocation and to inspect every buffer as it is freed (to
 * prove that no secret survives in freed memory).
 */
#ifndef MICA_BASE_MEM_H
#define MICA_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

/* mica_mem_alloc: size bytes, zeroed. NULL when size is 0 or memory is exhausted. */
void *mica_mem_alloc(size_t size);

/* mica_mem_alloc_buf: size bytes, not zeroed: for byte buffers whose users track how
 * much they wrote and never read past it (records, messages, application data), where
 * zeroing would cost as much as using them. */
void *mica_mem_alloc_buf(size_t size);

/* mica_mem_free: release p (NULL is allowed). */
void mica_mem_free(void *p);

/* mica_mem_free_secret: wipe every byte of p, then release it. For buffers that held
 * keys, secrets or plaintext. NULL is allowed. */
void mica_mem_free_secret(void *p);

/* mica_mem_wipe: overwrite p[0..len) with zeros in a way the compiler cannot elide.
 * (explicit_bzero; the base layer may not include libcrypto, so not OPENSSL_cleanse.) */
void mica_mem_wipe(void *p, size_t len);

/* mica_ct_eq: true when a[0..len) == b[0..len), in time that depends on len only.
 * The only way mica compares Finished values, binders and MACs. */
bool mica_ct_eq(const void *a, const void *b, size_t len);

/* mica_ct_is_zero: true when p[0..len) is all zero, in time that depends on len only. */
bool mica_ct_is_zero(const void *p, size_t len);

/*
 * A secret: key material of at most one hash length. Never copied by value; wiped by
 * mica_secret_wipe. MICA_SECRET(name) declares a local one that is wiped on every path
 * out of its scope, TRY included:
 *
 *     MICA_SECRET(prk);
 *     TRY(mica_hkdf_extract(h, salt, n, ikm, m, &prk));
 */
typedef struct mica_secret {
    uint8_t b[MICA_MAX_HASH_LEN];
    uint8_t len;
} mica_secret;

void mica_secret_wipe(mica_secret *s);

#define MICA_SECRET(name) mica_secret name __attribute__((cleanup(mica_secret_wipe))) = {{0}, 0}

/*
 * Test seam. Not for applications: tests/unit/ uses it to inject failures and to look
 * at memory as it is freed. fail_at: the 1-based index of the allocation to fail
 * (0 = never); the count restarts when hooks are installed. on_free sees each buffer
 * (and its size) just before it is released -- after wiping, for secret frees.
 */
struct mica_mem_hooks {
    size_t fail_at;
    void (*on_free)(const void *p, size_t size, bool secret, void *ctx);
    void *ctx;
};

void mica_mem_set_hooks(const struct mica_mem_hooks *hooks); /* NULL restores defaults */
size_t mica_mem_alloc_count(void);                           /* allocations since set_hooks */
size_t mica_mem_live(void);                                  /* buffers not yet freed */

#endif /* MICA_BASE_MEM_H */
