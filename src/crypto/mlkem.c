/*
 * ML-KEM-768, FIPS 203 (August 2024). See mlkem.h for the contract.
 *
 * Two implementations behind one API: the running libcrypto's (OpenSSL >= 3.5, fetched
 * once at start-up) or, when it has none, mica's own below -- the one primitive mica
 * writes by hand, because Debian 12's libcrypto (OpenSSL 3.0) lacks ML-KEM. The FIPS 203
 * input checks (7.2, 7.3) are ours and run in front of both, so both fail alike.
 *
 * How the own implementation is written:
 *
 *   Arithmetic. Coefficients are uint16_t in [0, q), q = 3329, always fully reduced.
 *   Products (< q^2) and sums of two products are reduced by Barrett reduction with the
 *   multiplier 5039 = floor(2^24 / q) and one conditional subtraction done with a mask
 *   (no division, no branch): reduce() is exact for x < q + 2 q^2, which the unit test
 *   checks for every such x. The NTT, its inverse and MultiplyNTTs follow Algorithms
 *   9-12 line by line with the constants of Appendix A.
 *
 *   Constant time. Nothing secret (d, z, sigma, s, e, m, r, y, e1, e2, the decrypted
 *   message, the shared secrets, the rejection decision) ever chooses a branch, a loop
 *   bound, a memory address or a division. Loops run a fixed number of times; selection
 *   is by masks that pass through ct_barrier() so the compiler cannot turn them back
 *   into branches. The re-encryption comparison of Decaps (Algorithm 18 line 9) reads
 *   all 1088 bytes whatever they hold, and the choice between K' and K-bar is a masked
 *   select. SampleNTT's rejection loop branches on its XOF output, which comes from rho,
 *   public in the encapsulation key. Checked with Valgrind's memcheck, the secrets (the
 *   seed, sigma, m, dkPKE and z) marked undefined: gcc 12 and clang 14 at -O0 to -O3
 *   and -Os make no branch or address depend on them; the only reports are
 *   SampleNTT's rejection loop on the rho that KeyGen derives from d (public output).
 *
 *   SHA-3. H, G, J, PRF and XOF (FIPS 203 4.1) are libcrypto's SHA3-256, SHA3-512,
 *   SHAKE256 and SHAKE128, fetched once. OpenSSL 3.0 has no incremental squeeze
 *   (EVP_DigestSqueeze came in 3.3): an XOF's output is produced by one
 *   EVP_DigestFinalXOF call, so SampleNTT squeezes a generous amount at once -- see
 *   sample_ntt() for the bound and for what happens when it is not enough.
 *
 *   Secrets. Each operation keeps its intermediates in one workspace (union own_ws, on
 *   the heap: about 10 KiB) freed by mica_mem_free_secret, which wipes it, on every
 *   path out; outputs are wiped when the function fails.
 */
#include "crypto/mlkem.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <pthread.h>
#include <string.h>

#include "crypto/gate.h"

/* FIPS 203 Table 2, ML-KEM-768 */
#define N 256u
#define Q 3329u
#define K 3u
#define DU 10u
#define DV 4u
#define ETA 2u /* eta1 = eta2 = 2 */

#define POLY_BYTES 384u             /* ByteEncode12 of one polynomial */
#define PKE_DK_LEN (K * POLY_BYTES) /* 1152: dkPKE */
#define C1_LEN (K * 32u * DU)       /* 960 */
#define C2_LEN (32u * DV)           /* 128 */
#define PRF_LEN (64u * ETA)         /* 128: PRF_eta output */
#define XOF_BLOCK 168u              /* SHAKE128 rate */
#define HALF_Q 1664u                /* floor(q / 2) */
#define INV_128 3303u               /* 128^-1 mod q (Algorithm 10 line 14) */
#define BARRETT_MUL 5039u           /* floor(2^24 / q) */
#define BARRETT_SHIFT 24u
#define DK_EK_OFF PKE_DK_LEN                        /* ek inside dk */
#define DK_H_OFF (DK_EK_OFF + MICA_MLKEM768_EK_LEN) /* H(ek) inside dk */
#define DK_Z_OFF (DK_H_OFF + 32u)                   /* z inside dk */

_Static_assert(DK_Z_OFF + 32u == MICA_MLKEM768_DK_LEN, "dk layout");
_Static_assert(C1_LEN + C2_LEN == MICA_MLKEM768_CT_LEN, "ciphertext layout");
_Static_assert(MICA_MLKEM_XOF_FIRST % XOF_BLOCK == 0, "whole SHAKE128 blocks");

struct poly {
    uint16_t c[N];
};

/* FIPS 203 Appendix A: zeta^BitRev7(i) mod q, i = 0..127 (Algorithms 9 and 10) */
static const uint16_t zetas[128] = {
    1,    1729, 2580, 3289, 2642, 630,  1897, 848,  1062, 1919, 193,  797,  2786, 3260, 569,  1746,
    296,  2447, 1339, 1476, 3046, 56,   2240, 1333, 1426, 2094, 535,  2882, 2393, 2879, 1974, 821,
    289,  331,  3253, 1756, 1197, 2304, 2277, 2055, 650,  1977, 2513, 632,  2865, 33,   1320, 1915,
    2319, 1435, 807,  452,  1438, 2868, 1534, 2402, 2647, 2617, 1481, 648,  2474, 3110, 1227, 910,
    17,   2761, 583,  2649, 1637, 723,  2288, 1100, 1409, 2662, 3281, 233,  756,  2156, 3015, 3050,
    1703, 1651, 2789, 1789, 1847, 952,  1461, 2687, 939,  2308, 2437, 2388, 733,  2337, 268,  641,
    1584, 2298, 2037, 3220, 375,  2549, 2090, 1645, 1063, 319,  2773, 757,  2099, 561,  2466, 2594,
    2804, 1092, 403,  1026, 1143, 2150, 2775, 886,  1722, 1212, 1874, 1029, 2110, 2935, 885,  2154,
};

/* FIPS 203 Appendix A: zeta^(2 BitRev7(i) + 1) mod q, i = 0..127 (Algorithm 11), with
 * the appendix's negative entries taken mod q */
static const uint16_t gammas[128] = {
    17,   3312, 2761, 568,  583,  2746, 2649, 680,  1637, 1692, 723,  2606, 2288, 1041, 1100, 2229,
    1409, 1920, 2662, 667,  3281, 48,   233,  3096, 756,  2573, 2156, 1173, 3015, 314,  3050, 279,
    1703, 1626, 1651, 1678, 2789, 540,  1789, 1540, 1847, 1482, 952,  2377, 1461, 1868, 2687, 642,
    939,  2390, 2308, 1021, 2437, 892,  2388, 941,  733,  2596, 2337, 992,  268,  3061, 641,  2688,
    1584, 1745, 2298, 1031, 2037, 1292, 3220, 109,  375,  2954, 2549, 780,  2090, 1239, 1645, 1684,
    1063, 2266, 319,  3010, 2773, 556,  757,  2572, 2099, 1230, 561,  2768, 2466, 863,  2594, 735,
    2804, 525,  1092, 2237, 403,  2926, 1026, 2303, 1143, 2186, 2150, 1179, 2775, 554,  886,  2443,
    1722, 1607, 1212, 2117, 1874, 1455, 1029, 2300, 2110, 1219, 2935, 394,  885,  2444, 2154, 1175,
};

/* ---- libcrypto objects, fetched once ------------------------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *sha3_256, *sha3_512, *shake128, *shake256;
static EVP_KEM *lc_kem; /* non-NULL when the running libcrypto has ML-KEM-768 */
static enum mica_mlkem_impl impl = MICA_MLKEM_IMPL_OWN;

static void init_once(void)
{
    sha3_256 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
    sha3_512 = EVP_MD_fetch(NULL, "SHA3-512", NULL);
    shake128 = EVP_MD_fetch(NULL, "SHAKE128", NULL);
    shake256 = EVP_MD_fetch(NULL, "SHAKE256", NULL);
    lc_kem = EVP_KEM_fetch(NULL, "ML-KEM-768", NULL); /* NULL before OpenSSL 3.5 */
    if (lc_kem != NULL) {
        impl = MICA_MLKEM_IMPL_LIBCRYPTO;
    }
    ERR_clear_error();
}

static mica_err init(void)
{
    ENSURE(pthread_once(&once, init_once) == 0, MICA_E_CRYPTO);
    ENSURE(sha3_256 != NULL && sha3_512 != NULL && shake128 != NULL && shake256 != NULL,
           MICA_E_CRYPTO);
    return MICA_OK;
}

bool mica_mlkem768_libcrypto_available(void)
{
    return init() == MICA_OK && lc_kem != NULL;
}

enum mica_mlkem_impl mica_mlkem768_impl(void)
{
    (void)init();
    return impl;
}

mica_err mica_mlkem768_set_impl(enum mica_mlkem_impl want)
{
    TRY(init());
    ENSURE(want == MICA_MLKEM_IMPL_OWN || lc_kem != NULL, MICA_E_UNSUPPORTED);
    impl = want;
    return MICA_OK;
}

/* ---- FIPS 203 4.1: H, G, J, PRF, XOF over libcrypto ------------------------------ */

/* digest: out[0..out_len) = md(a || b); XOFs (xof) give any length, hashes their own. */
static mica_err digest(EVP_MD_CTX *ctx, const EVP_MD *md, bool xof, const uint8_t *a, size_t a_len,
                       const uint8_t *b, size_t b_len, uint8_t *out, size_t out_len)
{
    unsigned int n = 0;

    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, a_len) != 1 ||
        (b_len > 0 && EVP_DigestUpdate(ctx, b, b_len) != 1)) {
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    if (xof) {
        ENSURE(EVP_DigestFinalXOF(ctx, out, out_len) == 1, mica_cr_fail(MICA_E_CRYPTO));
        return MICA_OK;
    }
    ENSURE(EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == out_len, mica_cr_fail(MICA_E_CRYPTO));
    return MICA_OK;
}

/* H(s) = SHA3-256(s) (4.4) */
static mica_err hash_h(EVP_MD_CTX *ctx, const uint8_t *s, size_t len, uint8_t out[32])
{
    return digest(ctx, sha3_256, false, s, len, NULL, 0, out, 32);
}

/* G(a || b) = SHA3-512(a || b) (4.5); out = the two 32-byte halves */
static mica_err hash_g(EVP_MD_CTX *ctx, const uint8_t *a, size_t a_len, const uint8_t *b,
                       size_t b_len, uint8_t out[64])
{
    return digest(ctx, sha3_512, false, a, a_len, b, b_len, out, 64);
}

/* J(z || c) = SHAKE256(z || c, 8 * 32) (4.4) */
static mica_err hash_j(EVP_MD_CTX *ctx, const uint8_t z[32], const uint8_t *c, size_t c_len,
                       uint8_t out[32])
{
    return digest(ctx, shake256, true, z, 32, c, c_len, out, 32);
}

/* PRF_eta(s, b) = SHAKE256(s || b, 8 * 64 * eta) (4.3), eta = 2 */
static mica_err prf(EVP_MD_CTX *ctx, const uint8_t s[32], uint8_t b, uint8_t out[PRF_LEN])
{
    return digest(ctx, shake256, true, s, 32, &b, 1, out, PRF_LEN);
}

/* ---- arithmetic mod q, without branches or division ------------------------------- */

/* ct_barrier: an opaque copy of x, so that mask arithmetic stays arithmetic. */
static inline uint32_t ct_barrier(uint32_t x)
{
    __asm__ volatile("" : "+r"(x));
    return x;
}

/* reduce_once: x mod q for x < 2q: subtract q, keep x if that went negative.
 *
 * The mask goes through ct_barrier. BoringSSL leaves it out here so the NTT loops can
 * vectorise, but clang 14 at -O2 then compiles this select into conditional jumps in
 * the NTT's scalar loops (seen with memcheck, secrets marked undefined, and in the
 * object code); with the barrier neither gcc 12 nor clang 14 branches on data. */
static inline uint16_t reduce_once(uint32_t x)
{
    uint32_t sub = x - Q;
    uint32_t keep = ct_barrier(0u - (sub >> 31)); /* all ones when x < q */

    return (uint16_t)((keep & x) | (~keep & sub));
}

/* reduce: x mod q for x < q + 2 q^2 (Barrett). floor(x * 5039 / 2^24) is floor(x / q)
 * or one less (5039 / 2^24 = (1 - 2385 / 2^24) / q and x * 2385 / 2^24 < q), so the
 * remainder is below 2q and one reduce_once finishes it. */
static inline uint16_t reduce(uint32_t x)
{
    uint32_t quot = (uint32_t)(((uint64_t)x * BARRETT_MUL) >> BARRETT_SHIFT);

    return reduce_once(x - quot * Q);
}

uint16_t mica_mlkem_reduce(uint32_t x)
{
    return reduce(x);
}

/* Compress_d(x) = round(2^d x / q) mod 2^d (4.7), rounding halves up, for x < q and
 * d <= 11. quot = floor(2^d x * 5039 / 2^24) is floor(2^d x / q) or one less, and one
 * less only when the true remainder is below 2^d x * 2385 / 2^24 < 967 (2^d x < 2^23).
 * So rem = 2^d x - quot q is either the true remainder R, or R + q with R < 967; in
 * both cases adding one exactly when rem > q/2 gives the rounded quotient (R + q > q/2
 * makes up the missing one; R < 967 < q/2 never rounds up). Checked for every x and d
 * by the unit test. */
static inline uint16_t compress(uint16_t x, unsigned d)
{
    uint32_t shifted = (uint32_t)x << d;
    uint32_t quot = (uint32_t)(((uint64_t)shifted * BARRETT_MUL) >> BARRETT_SHIFT);
    uint32_t rem = shifted - quot * Q;

    quot += (HALF_Q - rem) >> 31; /* rem > q/2 */
    return (uint16_t)(quot & ((1u << d) - 1u));
}

/* Decompress_d(y) = round(q y / 2^d) (4.8) = floor((q y + 2^(d-1)) / 2^d) */
static inline uint16_t decompress(uint16_t y, unsigned d)
{
    return (uint16_t)(((uint32_t)y * Q + (1u << (d - 1u))) >> d);
}

uint16_t mica_mlkem_compress(uint16_t x, unsigned d)
{
    return compress(x, d);
}

uint16_t mica_mlkem_decompress(uint16_t y, unsigned d)
{
    return decompress(y, d);
}

/* ---- polynomials: NTT (4.3), sampling (4.2.2) ---------------------------------- */

/* Algorithm 9: NTT(f), in place */
static void ntt(struct poly *f)
{
    size_t i = 1;

    for (size_t len = 128; len >= 2; len /= 2) {
        for (size_t start = 0; start < N; start += 2 * len) {
            uint32_t zeta = zetas[i++];
            for (size_t j = start; j < start + len; j++) {
                uint16_t t = reduce(zeta * f->c[j + len]);
                f->c[j + len] = reduce_once((uint32_t)f->c[j] + Q - t);
                f->c[j] = reduce_once((uint32_t)f->c[j] + t);
            }
        }
    }
}

/* Algorithm 10: NTT^-1(f), in place */
static void ntt_inverse(struct poly *f)
{
    size_t i = 127;

    for (size_t len = 2; len <= 128; len *= 2) {
        for (size_t start = 0; start < N; start += 2 * len) {
            uint32_t zeta = zetas[i--];
            for (size_t j = start; j < start + len; j++) {
                uint16_t t = f->c[j];
                f->c[j] = reduce_once((uint32_t)t + f->c[j + len]);
                f->c[j + len] = reduce(zeta * ((uint32_t)f->c[j + len] + Q - t));
            }
        }
    }
    for (size_t j = 0; j < N; j++) {
        f->c[j] = reduce((uint32_t)f->c[j] * INV_128);
    }
}

/* acc += f x g in T_q: MultiplyNTTs (Algorithm 11) with BaseCaseMultiply (Algorithm 12)
 * for each of the 128 degree-one factors. Every sum fed to reduce() is below 2 q^2. */
static void multiply_ntts_acc(struct poly *acc, const struct poly *f, const struct poly *g)
{
    for (size_t i = 0; i < N / 2; i++) {
        uint32_t a0 = f->c[2 * i], a1 = f->c[2 * i + 1];
        uint32_t b0 = g->c[2 * i], b1 = g->c[2 * i + 1];
        uint32_t c0 = reduce(a0 * b0 + (uint32_t)reduce(a1 * b1) * gammas[i]);
        uint32_t c1 = reduce(a0 * b1 + a1 * b0);

        acc->c[2 * i] = reduce_once(acc->c[2 * i] + c0);
        acc->c[2 * i + 1] = reduce_once(acc->c[2 * i + 1] + c1);
    }
}

/* f += g */
static void poly_add(struct poly *f, const struct poly *g)
{
    for (size_t j = 0; j < N; j++) {
        f->c[j] = reduce_once((uint32_t)f->c[j] + g->c[j]);
    }
}

/* SamplePolyCBD_2(B) (Algorithm 8) for B of 128 bytes: coefficient i is
 * (b[4i] + b[4i+1]) - (b[4i+2] + b[4i+3]) mod q, bits in little-endian order. Four bytes
 * make eight coefficients: pair sums first, then the differences, all by masks. x - y
 * is one of five values, few enough to tempt a compiler into a branch (BoringSSL saw
 * clang do so), so the "add q if negative" select goes through ct_barrier. */
static void sample_cbd2(const uint8_t b[PRF_LEN], struct poly *f)
{
    for (size_t i = 0; i < PRF_LEN / 4; i++) {
        uint32_t t = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        uint32_t pairs = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
        for (size_t k = 0; k < 8; k++) {
            uint32_t x = (pairs >> (4 * k)) & 3u, y = (pairs >> (4 * k + 2)) & 3u;
            uint32_t neg = ct_barrier(0u - ((x - y) >> 31)); /* all ones when x < y */
            f->c[8 * i + k] = (uint16_t)((x - y) + (neg & Q));
        }
    }
}

/* sample_cbd: SamplePolyCBD_2(PRF_2(s, n)) into f; buf is scratch (wiped by the caller) */
static mica_err sample_cbd(EVP_MD_CTX *ctx, const uint8_t s[32], uint8_t n, uint8_t buf[PRF_LEN],
                           struct poly *f)
{
    TRY(prf(ctx, s, n, buf));
    sample_cbd2(buf, f);
    return MICA_OK;
}

/* xof_read: the first len bytes of SHAKE128(b) into out (XOF.Init, Absorb, Squeeze) */
static mica_err xof_read(EVP_MD_CTX *ctx, const uint8_t b[34], uint8_t *out, size_t len)
{
    return digest(ctx, shake128, true, b, 34, NULL, 0, out, len);
}

/* rejection: Algorithm 7 lines 5-15 over buf[*pos..len), three bytes at a time, filling
 * a from *j on. Returns when a is full or fewer than three bytes remain. */
static void rejection(const uint8_t *buf, size_t len, size_t *pos, size_t *j, uint16_t a[N])
{
    size_t p = *pos, n = *j;

    while (n < N && len - p >= 3) {
        uint16_t d1 = (uint16_t)(buf[p] | (buf[p + 1] & 0x0f) << 8);
        uint16_t d2 = (uint16_t)(buf[p + 1] >> 4 | buf[p + 2] << 4);
        p += 3;
        if (d1 < Q) {
            a[n++] = d1;
        }
        if (d2 < Q && n < N) {
            a[n++] = d2;
        }
    }
    *pos = p;
    *j = n;
}

/*
 * SampleNTT(b) (Algorithm 7), b = rho || j || i.
 *
 * Algorithm 7 squeezes three bytes per iteration until 256 coefficients are accepted.
 * Without incremental squeezing (OpenSSL 3.0) the XOF output is made in one call, so
 * we squeeze first_len bytes at once: the library uses MICA_MLKEM_XOF_FIRST = 840 =
 * 5 SHAKE128 blocks = 280 iterations, exactly FIPS 203 Appendix B's (Table 4) minimum
 * for an implementation that bounds the loop, which it gives as reached with
 * probability 2^-261. (The expected need is about 473 bytes; CCTV's "unlucky" vector
 * needs more than 575, which happens with probability 2^-38.)
 *
 * Appendix B asks not to bound the loop at all where possible, so we do not: if the 840
 * bytes run out, we absorb b again and squeeze twice as much -- SHAKE128's output for a
 * longer request begins with the shorter one, so this continues the same stream -- and
 * carry on from the byte where we stopped, doubling until done. Re-absorbing the 34
 * input bytes is the same as keeping a copy of the absorbed state (EVP_MD_CTX_copy)
 * and costs less, since the common path then makes no copy at all. The longer buffers
 * live on the heap; they hold only public data. A loop that never ends would need
 * SHAKE128 to reject forever, so termination is certain in practice, not in theory.
 */
static mica_err sample_ntt(EVP_MD_CTX *ctx, const uint8_t b[34], size_t first_len, uint16_t a[N])
{
    uint8_t first[MICA_MLKEM_XOF_FIRST];
    uint8_t *buf = first, *big = NULL;
    size_t len = first_len < 3 ? 3 : first_len, pos = 0, j = 0;
    mica_err err = MICA_OK;

    if (len > sizeof(first)) {
        len = sizeof(first);
    }
    for (;;) {
        err = xof_read(ctx, b, buf, len);
        if (err != MICA_OK) {
            break;
        }
        rejection(buf, len, &pos, &j, a);
        if (j == N) {
            break;
        }
        len *= 2; /* Appendix B: exceedingly rare; see above */
        mica_mem_free(big);
        buf = big = mica_mem_alloc(len);
        if (big == NULL) {
            err = MICA_E_NOMEM;
            break;
        }
    }
    mica_mem_free(big);
    return err;
}

mica_err mica_mlkem_sample_ntt(const uint8_t rho[32], uint8_t j, uint8_t i, size_t first_len,
                               uint16_t a[256])
{
    uint8_t b[34];
    EVP_MD_CTX *ctx;
    mica_err err;

    TRY(init());
    ENSURE((ctx = EVP_MD_CTX_new()) != NULL, MICA_E_NOMEM);
    memcpy(b, rho, 32);
    b[32] = j;
    b[33] = i;
    err = sample_ntt(ctx, b, first_len, a);
    EVP_MD_CTX_free(ctx);
    return err;
}

/* matrix_entry: A^[row, col] = SampleNTT(rho || col || row) (Algorithm 13 line 5,
 * Algorithm 14 line 6: "j and i are bytes 33 and 34 of the input") */
static mica_err matrix_entry(EVP_MD_CTX *ctx, const uint8_t rho[32], size_t row, size_t col,
                             struct poly *a)
{
    uint8_t b[34];

    memcpy(b, rho, 32);
    b[32] = (uint8_t)col;
    b[33] = (uint8_t)row;
    return sample_ntt(ctx, b, MICA_MLKEM_XOF_FIRST, a->c);
}

/* ---- ByteEncode / ByteDecode (Algorithms 5 and 6), Compress / Decompress ----------- */

/* byte_encode: ByteEncode_d(f) for 1 <= d <= 12, f[i] < 2^d: 32 d bytes, little-endian
 * bit order. Branches only on the bit count, which depends on d and i alone. */
static void byte_encode(const uint16_t f[N], unsigned d, uint8_t *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < N; i++) {
        acc |= (uint32_t)f[i] << bits;
        bits += d;
        while (bits >= 8) {
            *out++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
}

/* byte_decode: the d-bit integers of ByteDecode_d(in), 32 d bytes, without the final
 * "mod q" of d = 12 (decode12 adds it) */
static void byte_decode(const uint8_t *in, unsigned d, uint16_t f[N])
{
    uint32_t acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < N; i++) {
        while (bits < d) {
            acc |= (uint32_t)*in++ << bits;
            bits += 8;
        }
        f[i] = (uint16_t)(acc & ((1u << d) - 1u));
        acc >>= d;
        bits -= d;
    }
}

/* decode12: ByteDecode12 (Algorithm 6 with m = q): each 12-bit value mod q */
static void decode12(const uint8_t in[POLY_BYTES], struct poly *f)
{
    byte_decode(in, 12, f->c);
    for (size_t i = 0; i < N; i++) {
        f->c[i] = reduce_once(f->c[i]);
    }
}

/* compress_encode: ByteEncode_d(Compress_d(f)); f is scratch (overwritten) */
static void compress_encode(struct poly *f, unsigned d, uint8_t *out)
{
    for (size_t i = 0; i < N; i++) {
        f->c[i] = compress(f->c[i], d);
    }
    byte_encode(f->c, d, out);
}

/* decode_decompress: Decompress_d(ByteDecode_d(in)) */
static void decode_decompress(const uint8_t *in, unsigned d, struct poly *f)
{
    byte_decode(in, d, f->c);
    for (size_t i = 0; i < N; i++) {
        f->c[i] = decompress(f->c[i], d);
    }
}

/* ek_reduced: the modulus check of FIPS 203 7.2, "ByteEncode12(ByteDecode12(ek)) == ek",
 * i.e. every 12-bit value of ek[0..1152) is below q. (q - 1) - v has its top bit set
 * exactly when v >= q; ek is public, but there is no branch anyway. */
static bool ek_reduced(const uint8_t *ek)
{
    uint32_t bad = 0;

    for (size_t p = 0; p < PKE_DK_LEN; p += 3) {
        uint32_t v0 = (uint32_t)ek[p] | ((uint32_t)ek[p + 1] & 0x0fu) << 8;
        uint32_t v1 = (uint32_t)ek[p + 1] >> 4 | (uint32_t)ek[p + 2] << 4;
        bad |= ((Q - 1u) - v0) | ((Q - 1u) - v1);
    }
    return (bad >> 31) == 0;
}

/* ---- K-PKE (section 5) ------------------------------------------------------------ */

struct keygen_ws {
    uint8_t rho_sigma[64]; /* (rho, sigma) = G(d || k) */
    uint8_t prf[PRF_LEN];
    struct poly s[K]; /* s, then s^ */
    struct poly e;    /* one e[i] at a time */
    struct poly t[K];
    struct poly a; /* one entry of A^ at a time */
};

/* K-PKE.KeyGen (Algorithm 13) lines 2-21, given rho and sigma */
static mica_err kpke_keygen_from(EVP_MD_CTX *ctx, struct keygen_ws *w, const uint8_t rho[32],
                                 const uint8_t sigma[32], uint8_t ek[MICA_MLKEM768_EK_LEN],
                                 uint8_t dk_pke[PKE_DK_LEN])
{
    for (size_t i = 0; i < K; i++) { /* lines 8-11, 16: s^ = NTT(s) */
        TRY(sample_cbd(ctx, sigma, (uint8_t)i, w->prf, &w->s[i]));
        ntt(&w->s[i]);
    }
    for (size_t i = 0; i < K; i++) { /* line 18: t^ = A^ o s^ + e^ */
        memset(&w->t[i], 0, sizeof(w->t[i]));
        for (size_t j = 0; j < K; j++) {
            TRY(matrix_entry(ctx, rho, i, j, &w->a));
            multiply_ntts_acc(&w->t[i], &w->a, &w->s[j]);
        }
        TRY(sample_cbd(ctx, sigma, (uint8_t)(K + i), w->prf, &w->e)); /* lines 12-15, 17 */
        ntt(&w->e);
        poly_add(&w->t[i], &w->e);
    }
    for (size_t i = 0; i < K; i++) { /* lines 19-20 */
        byte_encode(w->t[i].c, 12, ek + i * POLY_BYTES);
        byte_encode(w->s[i].c, 12, dk_pke + i * POLY_BYTES);
    }
    memcpy(ek + PKE_DK_LEN, rho, 32);
    return MICA_OK;
}

struct encrypt_ws {
    uint8_t prf[PRF_LEN];
    struct poly t[K]; /* t^ from ek */
    struct poly y[K]; /* y, then y^ */
    struct poly u[K];
    struct poly v;
    struct poly e; /* e1[i], e2, mu in turn */
    struct poly a; /* one entry of A^ at a time */
};

/* u = NTT^-1(A^T o y^) + e1 (Algorithm 14 lines 13-16, 19); w->y holds y^ */
static mica_err encrypt_u(EVP_MD_CTX *ctx, struct encrypt_ws *w, const uint8_t rho[32],
                          const uint8_t r[32])
{
    for (size_t i = 0; i < K; i++) {
        memset(&w->u[i], 0, sizeof(w->u[i]));
        for (size_t j = 0; j < K; j++) {
            TRY(matrix_entry(ctx, rho, j, i, &w->a)); /* A^T[i, j] = A^[j, i] */
            multiply_ntts_acc(&w->u[i], &w->a, &w->y[j]);
        }
        ntt_inverse(&w->u[i]);
        TRY(sample_cbd(ctx, r, (uint8_t)(K + i), w->prf, &w->e));
        poly_add(&w->u[i], &w->e);
    }
    return MICA_OK;
}

/* v = NTT^-1(t^T o y^) + e2 + mu (Algorithm 14 lines 17, 20-21) */
static mica_err encrypt_v(EVP_MD_CTX *ctx, struct encrypt_ws *w, const uint8_t m[32],
                          const uint8_t r[32])
{
    memset(&w->v, 0, sizeof(w->v));
    for (size_t i = 0; i < K; i++) {
        multiply_ntts_acc(&w->v, &w->t[i], &w->y[i]);
    }
    ntt_inverse(&w->v);
    TRY(sample_cbd(ctx, r, (uint8_t)(2 * K), w->prf, &w->e));
    poly_add(&w->v, &w->e);
    decode_decompress(m, 1, &w->e); /* mu = Decompress1(ByteDecode1(m)) */
    poly_add(&w->v, &w->e);
    return MICA_OK;
}

/* K-PKE.Encrypt(ekPKE, m, r) (Algorithm 14). ek must have passed the 7.2 check or the
 * 7.3 hash check; either way decode12 reduces mod q as ByteDecode12 does. */
static mica_err kpke_encrypt(EVP_MD_CTX *ctx, struct encrypt_ws *w, const uint8_t *ek,
                             const uint8_t m[32], const uint8_t r[32],
                             uint8_t c[MICA_MLKEM768_CT_LEN])
{
    const uint8_t *rho = ek + PKE_DK_LEN; /* line 3 */

    for (size_t i = 0; i < K; i++) {
        decode12(ek + i * POLY_BYTES, &w->t[i]);               /* line 2 */
        TRY(sample_cbd(ctx, r, (uint8_t)i, w->prf, &w->y[i])); /* lines 9-12 */
        ntt(&w->y[i]);                                         /* line 18 */
    }
    TRY(encrypt_u(ctx, w, rho, r));
    TRY(encrypt_v(ctx, w, m, r));
    for (size_t i = 0; i < K; i++) { /* line 22 */
        compress_encode(&w->u[i], DU, c + i * 32 * DU);
    }
    compress_encode(&w->v, DV, c + C1_LEN); /* line 23 */
    return MICA_OK;
}

struct decrypt_ws {
    struct poly u[K]; /* u', then NTT(u') */
    struct poly s;    /* one s^[i] at a time */
    struct poly w;    /* s^T o NTT(u'), then w */
    struct poly v;
};

/* K-PKE.Decrypt(dkPKE, c) (Algorithm 15) */
static void kpke_decrypt(struct decrypt_ws *w, const uint8_t *dk_pke, const uint8_t *c,
                         uint8_t m[32])
{
    memset(&w->w, 0, sizeof(w->w));
    for (size_t i = 0; i < K; i++) {
        decode_decompress(c + i * 32 * DU, DU, &w->u[i]); /* lines 1, 3 */
        ntt(&w->u[i]);
        decode12(dk_pke + i * POLY_BYTES, &w->s); /* line 5 */
        multiply_ntts_acc(&w->w, &w->s, &w->u[i]);
    }
    ntt_inverse(&w->w);
    decode_decompress(c + C1_LEN, DV, &w->v); /* lines 2, 4 */
    for (size_t j = 0; j < N; j++) {          /* line 6: w = v' - NTT^-1(...) */
        w->w.c[j] = reduce_once((uint32_t)w->v.c[j] + Q - w->w.c[j]);
    }
    compress_encode(&w->w, 1, m); /* line 7 */
}

/* ---- ML-KEM internals (section 6), mica's own ------------------------------------- */

/* The operations keep everything they compute here; wiped on every return. */
union own_ws {
    struct keygen_ws keygen;
    struct {
        uint8_t h[32];  /* H(ek) */
        uint8_t kr[64]; /* (K, r) = G(m || H(ek)) */
        struct encrypt_ws enc;
    } encaps;
    struct {
        uint8_t m[32];  /* m' */
        uint8_t kr[64]; /* (K', r') = G(m' || h) */
        uint8_t kbar[32];
        uint8_t c[MICA_MLKEM768_CT_LEN]; /* c' */
        struct decrypt_ws dec;
        struct encrypt_ws enc;
    } decaps;
};

/* ML-KEM.KeyGen_internal(d, z) (Algorithm 16) with K-PKE.KeyGen(d) (Algorithm 13) */
static mica_err own_keygen(EVP_MD_CTX *ctx, union own_ws *w, const uint8_t seed[64],
                           uint8_t ek[MICA_MLKEM768_EK_LEN], uint8_t dk[MICA_MLKEM768_DK_LEN])
{
    const uint8_t k = K;

    TRY(hash_g(ctx, seed, 32, &k, 1, w->keygen.rho_sigma)); /* 13.1: G(d || k), final FIPS */
    TRY(kpke_keygen_from(ctx, &w->keygen, w->keygen.rho_sigma, w->keygen.rho_sigma + 32, ek, dk));
    memcpy(dk + DK_EK_OFF, ek, MICA_MLKEM768_EK_LEN); /* 16.3: dkPKE || ek || H(ek) || z */
    TRY(hash_h(ctx, ek, MICA_MLKEM768_EK_LEN, dk + DK_H_OFF));
    memcpy(dk + DK_Z_OFF, seed + 32, 32);
    return MICA_OK;
}

/* ML-KEM.Encaps_internal(ek, m) (Algorithm 17); ek has passed the 7.2 check */
static mica_err own_encaps(EVP_MD_CTX *ctx, union own_ws *w, const uint8_t *ek, const uint8_t m[32],
                           uint8_t ct[MICA_MLKEM768_CT_LEN], uint8_t ss[32])
{
    TRY(hash_h(ctx, ek, MICA_MLKEM768_EK_LEN, w->encaps.h));
    TRY(hash_g(ctx, m, 32, w->encaps.h, 32, w->encaps.kr)); /* line 1 */
    TRY(kpke_encrypt(ctx, &w->encaps.enc, ek, m, w->encaps.kr + 32, ct));
    memcpy(ss, w->encaps.kr, 32);
    return MICA_OK;
}

/* ML-KEM.Decaps_internal(dk, c) (Algorithm 18); dk and c have passed the 7.3 checks */
static mica_err own_decaps(EVP_MD_CTX *ctx, union own_ws *w, const uint8_t *dk, const uint8_t *c,
                           uint8_t ss[32])
{
    uint32_t diff = 0, equal;

    kpke_decrypt(&w->decaps.dec, dk, c, w->decaps.m);                         /* line 5 */
    TRY(hash_g(ctx, w->decaps.m, 32, dk + DK_H_OFF, 32, w->decaps.kr));       /* line 6 */
    TRY(hash_j(ctx, dk + DK_Z_OFF, c, MICA_MLKEM768_CT_LEN, w->decaps.kbar)); /* line 7 */
    TRY(kpke_encrypt(ctx, &w->decaps.enc, dk + DK_EK_OFF, w->decaps.m, w->decaps.kr + 32,
                     w->decaps.c)); /* line 8 */
    /* lines 9-11, in constant time: every byte compared, then a masked select */
    for (size_t i = 0; i < MICA_MLKEM768_CT_LEN; i++) {
        diff |= (uint32_t)(c[i] ^ w->decaps.c[i]);
    }
    equal = ct_barrier(0u - ((diff - 1u) >> 31)); /* all ones iff diff == 0 */
    for (size_t i = 0; i < 32; i++) {
        ss[i] = (uint8_t)((equal & w->decaps.kr[i]) | (~equal & w->decaps.kbar[i]));
    }
    return MICA_OK;
}

mica_err mica_mlkem768_kpke_keygen(const uint8_t rho[32], const uint8_t sigma[32],
                                   uint8_t ek[MICA_MLKEM768_EK_LEN], uint8_t dk_pke[1152])
{
    struct keygen_ws w;
    EVP_MD_CTX *ctx;
    mica_err err;

    TRY(init());
    ENSURE((ctx = EVP_MD_CTX_new()) != NULL, MICA_E_NOMEM);
    err = kpke_keygen_from(ctx, &w, rho, sigma, ek, dk_pke);
    EVP_MD_CTX_free(ctx);
    mica_mem_wipe(&w, sizeof(w));
    return err;
}

/* ---- libcrypto's ML-KEM-768 (OpenSSL >= 3.5), through calls that exist in 3.0 ------ */

/* Parameter names of OpenSSL 3.5's ML-KEM (OSSL_PKEY_PARAM_ML_KEM_SEED and
 * OSSL_KEM_PARAM_IKME), spelled out because 3.0's headers do not have them. */
#define LC_NAME "ML-KEM-768"
#define LC_PARAM_SEED "seed"
#define LC_PARAM_IKME "ikme"

/* octets: an OSSL_PARAM for input bytes (the API takes void *, never writes through it) */
static OSSL_PARAM octets(const char *name, const uint8_t *p, size_t len)
{
    return OSSL_PARAM_construct_octet_string(name, (void *)(uintptr_t)p, len);
}

static mica_err lc_keygen(const uint8_t seed[64], uint8_t ek[MICA_MLKEM768_EK_LEN],
                          uint8_t dk[MICA_MLKEM768_DK_LEN])
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, LC_NAME, NULL);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM params[2] = {octets(LC_PARAM_SEED, seed, 64), OSSL_PARAM_construct_end()};
    size_t ek_len = MICA_MLKEM768_EK_LEN, dk_len = MICA_MLKEM768_DK_LEN;
    bool ok = pc != NULL && EVP_PKEY_keygen_init(pc) == 1 &&
              EVP_PKEY_CTX_set_params(pc, params) == 1 && EVP_PKEY_generate(pc, &pk) == 1 &&
              EVP_PKEY_get_raw_public_key(pk, ek, &ek_len) == 1 &&
              EVP_PKEY_get_raw_private_key(pk, dk, &dk_len) == 1 &&
              ek_len == MICA_MLKEM768_EK_LEN && dk_len == MICA_MLKEM768_DK_LEN;

    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pc);
    return ok ? MICA_OK : mica_cr_fail(MICA_E_CRYPTO);
}

static mica_err lc_encaps(const uint8_t *ek, const uint8_t m[32], uint8_t ct[MICA_MLKEM768_CT_LEN],
                          uint8_t ss[32])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key_ex(NULL, LC_NAME, NULL, ek, MICA_MLKEM768_EK_LEN);
    EVP_PKEY_CTX *pc = pk != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL) : NULL;
    OSSL_PARAM params[2] = {octets(LC_PARAM_IKME, m, 32), OSSL_PARAM_construct_end()};
    size_t ct_len = MICA_MLKEM768_CT_LEN, ss_len = 32;
    bool ok = pc != NULL && EVP_PKEY_encapsulate_init(pc, params) == 1 &&
              EVP_PKEY_encapsulate(pc, ct, &ct_len, ss, &ss_len) == 1 &&
              ct_len == MICA_MLKEM768_CT_LEN && ss_len == 32;

    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pk);
    return ok ? MICA_OK : mica_cr_fail(MICA_E_CRYPTO);
}

static mica_err lc_decaps(const uint8_t *dk, const uint8_t *c, uint8_t ss[32])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key_ex(NULL, LC_NAME, NULL, dk, MICA_MLKEM768_DK_LEN);
    EVP_PKEY_CTX *pc = pk != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL) : NULL;
    size_t ss_len = 32;
    bool ok = pc != NULL && EVP_PKEY_decapsulate_init(pc, NULL) == 1 &&
              EVP_PKEY_decapsulate(pc, ss, &ss_len, c, MICA_MLKEM768_CT_LEN) == 1 && ss_len == 32;

    EVP_PKEY_CTX_free(pc);
    EVP_PKEY_free(pk); /* libcrypto cleanses private key material on free */
    return ok ? MICA_OK : mica_cr_fail(MICA_E_CRYPTO);
}

/* ---- the API: input checks (section 7), then one of the two implementations -------- */

/* run: the shared frame of every operation -- a hash context, a workspace, and the
 * wipe of both on the way out -- then the implementation in use. */
enum op { OP_KEYGEN, OP_ENCAPS, OP_DECAPS };

struct op_args {
    enum op op;
    const uint8_t *in1; /* seed | ek | dk */
    const uint8_t *in2; /* -    | m  | c  */
    uint8_t *out1;      /* ek   | ct | ss */
    uint8_t *out2;      /* dk   | ss | -  */
};

static mica_err run_own(const struct op_args *a)
{
    union own_ws *w = mica_mem_alloc(sizeof(*w));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    mica_err err = MICA_E_NOMEM;

    if (w != NULL && ctx != NULL) {
        switch (a->op) {
        case OP_KEYGEN: err = own_keygen(ctx, w, a->in1, a->out1, a->out2); break;
        case OP_ENCAPS: err = own_encaps(ctx, w, a->in1, a->in2, a->out1, a->out2); break;
        case OP_DECAPS: err = own_decaps(ctx, w, a->in1, a->in2, a->out1); break;
        default: err = MICA_E_INTERNAL; break;
        }
    }
    EVP_MD_CTX_free(ctx); /* libcrypto cleanses the SHA-3 state on free */
    mica_mem_free_secret(w);
    return err;
}

static mica_err run(const struct op_args *a)
{
    TRY(init());
    if (impl == MICA_MLKEM_IMPL_OWN) {
        return run_own(a);
    }
    switch (a->op) {
    case OP_KEYGEN: return lc_keygen(a->in1, a->out1, a->out2);
    case OP_ENCAPS: return lc_encaps(a->in1, a->in2, a->out1, a->out2);
    case OP_DECAPS: return lc_decaps(a->in1, a->in2, a->out1);
    default: return MICA_E_INTERNAL;
    }
}

mica_err mica_mlkem768_ek_check(const uint8_t *ek, size_t ek_len)
{
    ENSURE(ek != NULL && ek_len == MICA_MLKEM768_EK_LEN, MICA_E_BAD_PEER_KEY); /* 7.2.1 */
    ENSURE(ek_reduced(ek), MICA_E_BAD_PEER_KEY);                               /* 7.2.2 */
    return MICA_OK;
}

mica_err mica_mlkem768_dk_check(const uint8_t *dk, size_t dk_len)
{
    uint8_t h[32];
    EVP_MD_CTX *ctx;
    mica_err err;

    ENSURE(dk != NULL && dk_len == MICA_MLKEM768_DK_LEN, MICA_E_ARGUMENT); /* 7.3.2 */
    TRY(init());
    ENSURE((ctx = EVP_MD_CTX_new()) != NULL, MICA_E_NOMEM);
    err = hash_h(ctx, dk + DK_EK_OFF, MICA_MLKEM768_EK_LEN, h); /* 7.3.3 */
    EVP_MD_CTX_free(ctx);
    TRY(err);
    ENSURE(mica_ct_eq(h, dk + DK_H_OFF, 32), MICA_E_ARGUMENT);
    return MICA_OK;
}

mica_err mica_mlkem768_keygen_seed(const uint8_t seed[MICA_MLKEM768_SEED_LEN],
                                   uint8_t ek[MICA_MLKEM768_EK_LEN],
                                   uint8_t dk[MICA_MLKEM768_DK_LEN])
{
    struct op_args a = {OP_KEYGEN, seed, NULL, ek, dk};
    mica_err err = run(&a);

    if (err != MICA_OK) {
        mica_mem_wipe(ek, MICA_MLKEM768_EK_LEN);
        mica_mem_wipe(dk, MICA_MLKEM768_DK_LEN);
    }
    return err;
}

mica_err mica_mlkem768_keygen(uint8_t ek[MICA_MLKEM768_EK_LEN], uint8_t dk[MICA_MLKEM768_DK_LEN])
{
    uint8_t seed[MICA_MLKEM768_SEED_LEN];
    mica_err err = mica_rand(seed, sizeof(seed)); /* Algorithm 19 lines 1-5 */

    if (err == MICA_OK) {
        err = mica_mlkem768_keygen_seed(seed, ek, dk);
    } else {
        mica_mem_wipe(ek, MICA_MLKEM768_EK_LEN);
        mica_mem_wipe(dk, MICA_MLKEM768_DK_LEN);
    }
    mica_mem_wipe(seed, sizeof(seed));
    return err;
}

mica_err mica_mlkem768_encaps_m(const uint8_t *ek, size_t ek_len,
                                const uint8_t m[MICA_MLKEM768_M_LEN],
                                uint8_t ct[MICA_MLKEM768_CT_LEN], uint8_t ss[MICA_MLKEM768_SS_LEN])
{
    struct op_args a = {OP_ENCAPS, ek, m, ct, ss};
    mica_err err = mica_mlkem768_ek_check(ek, ek_len);

    if (err == MICA_OK) {
        err = run(&a);
    }
    if (err != MICA_OK) {
        mica_mem_wipe(ct, MICA_MLKEM768_CT_LEN);
        mica_mem_wipe(ss, MICA_MLKEM768_SS_LEN);
    }
    return err;
}

mica_err mica_mlkem768_encaps(const uint8_t *ek, size_t ek_len, uint8_t ct[MICA_MLKEM768_CT_LEN],
                              uint8_t ss[MICA_MLKEM768_SS_LEN])
{
    uint8_t m[MICA_MLKEM768_M_LEN];
    mica_err err = mica_rand(m, sizeof(m)); /* Algorithm 20 lines 1-4 */

    if (err == MICA_OK) {
        err = mica_mlkem768_encaps_m(ek, ek_len, m, ct, ss);
    } else {
        mica_mem_wipe(ct, MICA_MLKEM768_CT_LEN);
        mica_mem_wipe(ss, MICA_MLKEM768_SS_LEN);
    }
    mica_mem_wipe(m, sizeof(m));
    return err;
}

mica_err mica_mlkem768_decaps(const uint8_t dk[MICA_MLKEM768_DK_LEN], const uint8_t *ct,
                              size_t ct_len, uint8_t ss[MICA_MLKEM768_SS_LEN])
{
    struct op_args a = {OP_DECAPS, dk, ct, ss, NULL};
    mica_err err = MICA_E_BAD_PEER_KEY;

    if (ct != NULL && ct_len == MICA_MLKEM768_CT_LEN) {         /* 7.3.1 */
        err = mica_mlkem768_dk_check(dk, MICA_MLKEM768_DK_LEN); /* 7.3.2, 7.3.3 */
    }
    if (err == MICA_OK) {
        err = run(&a);
    }
    if (err != MICA_OK) {
        mica_mem_wipe(ss, MICA_MLKEM768_SS_LEN);
    }
    return err;
}
