/*
 * Fuzz target for ML-KEM-768's input handling (src/crypto/mlkem.c): the encapsulation
 * key a TLS server receives, the ciphertext a client receives, and decapsulation keys.
 * The first byte picks what the rest of the input is; every case has an exact oracle
 * computed here, independently of mlkem.c:
 *
 *   0  an encapsulation key. ek_check and encaps_m succeed exactly when it is 1184
 *      bytes and every 12-bit coefficient of its first 1152 bytes is below q = 3329
 *      (FIPS 203 7.2); otherwise both give MICA_E_BAD_PEER_KEY and wipe their outputs.
 *      A success repeats: the same m gives the same ciphertext and secret.
 *   1  a ciphertext for a fixed key. Decapsulation succeeds exactly when it is 1088
 *      bytes (7.3), gives the same secret twice, and gives the encapsulated secret
 *      exactly when the input is the encapsulated ciphertext (implicit rejection
 *      otherwise); a wrong length is MICA_E_BAD_PEER_KEY with the secret wiped.
 *   2  edits to the fixed decapsulation key: (offset hi, offset lo, xor) triples. The
 *      7.3 hash check fails exactly when a byte of the embedded ek or H(ek) (offsets
 *      1152..2367) changed; decapsulation then fails the same way, and otherwise works.
 *   3  a decapsulation key of any length: dk_check is MICA_E_ARGUMENT unless it is 2400
 *      bytes; a 2400-byte key it accepts must decapsulate.
 *
 * The fixed key is Wycheproof's "official round 3 seeds 0" (mlkem_768_test tcId 2 and
 * mlkem_768_encaps_test tcId 14), checked against its known secret at start-up. Seeds:
 * tests/fuzz/make_mlkem_corpus.py.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "crypto/mlkem.h"
#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EK_LEN MICA_MLKEM768_EK_LEN
#define DK_LEN MICA_MLKEM768_DK_LEN
#define CT_LEN MICA_MLKEM768_CT_LEN
#define SS_LEN MICA_MLKEM768_SS_LEN

static const char seed_hex[] = "7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d"
                               "8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f";
static const char m_hex[] = "147c03f7a5bebba406c8fae1874d7f13c80efe79a3a9a874cc09fe76f6997615";
static const char k_hex[] = "e7184a0975ee3470878d2d159ec83129c8aec253d4ee17b4810311d198cd0368";

static uint8_t ek[EK_LEN], dk[DK_LEN], m[32], ct[CT_LEN], key[SS_LEN];

static void setup(void)
{
    static bool done;
    uint8_t seed[64], want[SS_LEN];

    if (done) {
        return;
    }
    FUZZ_ASSERT(hex_decode(seed_hex, seed, sizeof(seed)) == sizeof(seed));
    FUZZ_ASSERT(hex_decode(m_hex, m, sizeof(m)) == sizeof(m));
    FUZZ_ASSERT(hex_decode(k_hex, want, sizeof(want)) == sizeof(want));
    FUZZ_ASSERT(mica_mlkem768_keygen_seed(seed, ek, dk) == MICA_OK);
    FUZZ_ASSERT(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, key) == MICA_OK);
    FUZZ_ASSERT(memcmp(key, want, SS_LEN) == 0);
    done = true;
}

static bool zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* the modulus check, written out the way FIPS 203 7.2 states it */
static bool model_ek_ok(const uint8_t *p, size_t n)
{
    if (n != EK_LEN) {
        return false;
    }
    for (size_t i = 0; i < 1152; i += 3) {
        unsigned a = p[i] | (unsigned)(p[i + 1] & 0x0f) << 8;
        unsigned b = (unsigned)(p[i + 1] >> 4) | (unsigned)p[i + 2] << 4;
        if (a >= 3329 || b >= 3329) {
            return false;
        }
    }
    return true;
}

static void fuzz_ek(const uint8_t *p, size_t n)
{
    uint8_t c1[CT_LEN], c2[CT_LEN], s1[SS_LEN], s2[SS_LEN];
    bool ok = model_ek_ok(p, n);
    mica_err err;

    FUZZ_ASSERT(mica_mlkem768_ek_check(p, n) == (ok ? MICA_OK : MICA_E_BAD_PEER_KEY));
    memset(c1, 0xa5, sizeof(c1));
    memset(s1, 0xa5, sizeof(s1));
    err = mica_mlkem768_encaps_m(p, n, m, c1, s1);
    if (!ok) {
        FUZZ_ASSERT(err == MICA_E_BAD_PEER_KEY && zero(c1, CT_LEN) && zero(s1, SS_LEN));
        return;
    }
    FUZZ_ASSERT(err == MICA_OK);
    FUZZ_ASSERT(mica_mlkem768_encaps_m(p, n, m, c2, s2) == MICA_OK);
    FUZZ_ASSERT(memcmp(c1, c2, CT_LEN) == 0 && memcmp(s1, s2, SS_LEN) == 0);
}

static void fuzz_ct(const uint8_t *p, size_t n)
{
    uint8_t s1[SS_LEN], s2[SS_LEN];
    mica_err err;

    memset(s1, 0xa5, sizeof(s1));
    err = mica_mlkem768_decaps(dk, p, n, s1);
    if (n != CT_LEN) {
        FUZZ_ASSERT(err == MICA_E_BAD_PEER_KEY && zero(s1, SS_LEN));
        return;
    }
    FUZZ_ASSERT(err == MICA_OK);
    FUZZ_ASSERT(mica_mlkem768_decaps(dk, p, n, s2) == MICA_OK && memcmp(s1, s2, SS_LEN) == 0);
    FUZZ_ASSERT((memcmp(s1, key, SS_LEN) == 0) == (memcmp(p, ct, CT_LEN) == 0));
}

static void fuzz_dk_edit(const uint8_t *p, size_t n)
{
    static uint8_t d[DK_LEN];
    uint8_t s[SS_LEN];
    bool covered = false; /* a byte inside ek || H(ek) changed */
    mica_err want, err;

    memcpy(d, dk, DK_LEN);
    for (size_t i = 0; i + 3 <= n; i += 3) {
        size_t off = ((size_t)p[i] << 8 | p[i + 1]) % DK_LEN;
        d[off] ^= p[i + 2];
    }
    for (size_t off = 1152; off < 2368; off++) {
        covered |= d[off] != dk[off];
    }
    want = covered ? MICA_E_ARGUMENT : MICA_OK;
    FUZZ_ASSERT(mica_mlkem768_dk_check(d, DK_LEN) == want);
    memset(s, 0xa5, sizeof(s));
    err = mica_mlkem768_decaps(d, ct, CT_LEN, s);
    FUZZ_ASSERT(err == want);
    if (err != MICA_OK) {
        FUZZ_ASSERT(zero(s, SS_LEN));
    } else if (memcmp(d, dk, DK_LEN) == 0) {
        FUZZ_ASSERT(memcmp(s, key, SS_LEN) == 0);
    }
}

static void fuzz_dk_raw(const uint8_t *p, size_t n)
{
    uint8_t s[SS_LEN];
    mica_err err = mica_mlkem768_dk_check(p, n);

    if (n != DK_LEN) {
        FUZZ_ASSERT(err == MICA_E_ARGUMENT);
        return;
    }
    FUZZ_ASSERT(err == MICA_OK || err == MICA_E_ARGUMENT);
    FUZZ_ASSERT(mica_mlkem768_decaps(p, ct, CT_LEN, s) == err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 4) {
    case 0: fuzz_ek(data + 1, size - 1); break;
    case 1: fuzz_ct(data + 1, size - 1); break;
    case 2: fuzz_dk_edit(data + 1, size - 1); break;
    default: fuzz_dk_raw(data + 1, size - 1); break;
    }
    return 0;
}
