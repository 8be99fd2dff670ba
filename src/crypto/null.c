/*
 * The fuzzing build's null AEAD (compiled only with -DMICA_FUZZING, by `make fuzz`; the
 * CMake file leaves this file out of every other build and tests/lint/symbols.sh proves
 * that no release library holds it). A record is its plaintext followed by a tag of
 * zeros; a tag whose first byte is not zero fails as a forged record would, so a fuzzer
 * reaches both the protected states and the bad_record_mac path. Together with the
 * verifications that pass (MICA_VERIFIED in crypto.h) and the fixed randomness the fuzz
 * targets install (mica_rand_set_hook), bytes a fuzzer writes go as deep into the engine
 * as bytes from a real peer would. The picotls and rustls trick (STYLE.md 2.7.3).
 */
#include "crypto/gate.h"

#include <string.h>

#ifndef MICA_FUZZING
#error "src/crypto/null.c belongs to the fuzzing build only"
#endif

mica_err mica_null_aead_seal_from(const struct mica_aead_desc *a, const uint8_t *src,
                                  size_t src_len, uint8_t *buf, size_t len, uint8_t *tag)
{
    if (src_len > 0 && src != buf) {
        memmove(buf, src, src_len);
    }
    (void)len; /* the rest of buf is already its own "ciphertext" */
    memset(tag, 0, a->tag_len);
    return MICA_OK;
}

mica_err mica_null_aead_open(const struct mica_aead_desc *a, uint8_t *buf, size_t len,
                             const uint8_t *tag)
{
    if (a->tag_len > 0 && tag[0] != 0) {
        mica_mem_wipe(buf, len);
        return MICA_E_BAD_RECORD_MAC;
    }
    return MICA_OK;
}

/* Out of line, so that no compiler sees a check that cannot fail and drops its failure
 * path from the fuzzing build's view. */
bool mica_null_verified(bool ok)
{
    (void)ok;
    return true;
}
