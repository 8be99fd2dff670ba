/*
 * ML-KEM-768 (src/crypto/mlkem.c) against every vector set in tests/vectors/mlkem/
 * (README.md there: origin, license and SHA-256 of each file), run through each
 * implementation the machine has -- mica's own always, libcrypto's when it has one
 * (OpenSSL >= 3.5):
 *
 *   - Wycheproof keygen_seed, test (expand + decaps, implicit rejection, strcmp), encaps
 *     (every "not reduced" / ModulusOverflow / wrong-length key must be refused) and
 *     semi_expanded_decaps (wrong lengths, corrupted H(ek) or embedded ek refused);
 *   - NIST ACVP keyGen and encapDecap, ML-KEM-768 groups;
 *   - CCTV intermediate values where they hold for final FIPS 203 (everything after
 *     K-PKE.KeyGen's step 1, Encaps, Decaps; their KeyGen is the draft's G(d)), strcmp,
 *     unlucky SampleNTT and the 780 modulus-check keys;
 *   - the accumulated pq-crystals test: 10,000 iterations, or 1,000 under sanitizers
 *     without optimisation (MICA_MLKEM_ITERATIONS overrides), against the final-FIPS-203
 *     hashes of the vectors README;
 * plus the arithmetic exhaustively (Barrett reduction, Compress/Decompress), SampleNTT's
 * extra-squeeze path, random round trips, tampered ciphertexts (implicit rejection gives
 * J(z || c), different but deterministic), the 7.3 key check byte by byte, the RNG hook,
 * and outputs wiped on every error.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "check.h"
#include "vec.h"

#include "base/mem.h"
#include "crypto/crypto.h"
#include "crypto/mlkem.h"

#define EK_LEN MICA_MLKEM768_EK_LEN
#define DK_LEN MICA_MLKEM768_DK_LEN
#define CT_LEN MICA_MLKEM768_CT_LEN
#define SS_LEN MICA_MLKEM768_SS_LEN
#define Q 3329u
#define MAX_FIELDS 8

static const char *impl_tag = "own";

/* ---- reading the vector files -------------------------------------------------------- */

struct vfile {
    const char *rel;
    char *text, *cur;
    long declared; /* the "tests|n" header, -1 if none */
};

static bool vopen(struct vfile *f, const char *rel)
{
    f->rel = rel;
    f->declared = -1;
    f->text = f->cur = vec_read_file(vec_path(rel), NULL);
    CHECK_MSG(f->text != NULL, "cannot read %s", vec_path(rel));
    return f->text != NULL;
}

/* vnext: the next data line split at '|' into f[] (in place); 0 at the end. Comment
 * lines and the "tests|n" header are consumed here. */
static size_t vnext(struct vfile *f, char **fld)
{
    while (f->cur != NULL && *f->cur != '\0') {
        char *line = f->cur, *nl = strchr(line, '\n');
        size_t n = 0;
        f->cur = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL) {
            *nl = '\0';
        }
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        for (char *p = line; n < MAX_FIELDS; n++) {
            char *bar = strchr(p, '|');
            fld[n] = p;
            if (bar == NULL) {
                n++;
                break;
            }
            *bar = '\0';
            p = bar + 1;
        }
        if (n == 2 && strcmp(fld[0], "tests") == 0) {
            f->declared = strtol(fld[1], NULL, 10);
            continue;
        }
        return n;
    }
    return 0;
}

static void vclose(struct vfile *f, size_t cases)
{
    CHECK_MSG(f->declared >= 0 && (size_t)f->declared == cases,
              "%s: header declares %ld tests, %zu read", f->rel, f->declared, cases);
    free(f->text);
}

/* unhex: a hex field as a heap buffer; bad hex is a broken checkout: stop */
static uint8_t *unhex(const char *hex, size_t *len)
{
    uint8_t *p = hex_alloc(hex, len);

    if (p == NULL) {
        fprintf(stderr, "test_mlkem: bad hex field \"%.40s\"\n", hex);
        exit(2);
    }
    return p;
}

/* need: a hex field of exactly len bytes into out */
static void need(const char *hex, uint8_t *out, size_t len)
{
    size_t n = hex_decode(hex, out, len);

    if (n != len) {
        fprintf(stderr, "test_mlkem: want %zu bytes of hex in \"%.40s\"\n", len, hex);
        exit(2);
    }
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static bool is_valid(const char *result)
{
    return strcmp(result, "valid") == 0;
}

/* shake: SHAKE128/256(a || b) into out[0..n) through libcrypto, for the test's own
 * reference values (J(z || c)) and the accumulated test's RNG and hash. */
static void shake(const char *name, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                  uint8_t *out, size_t n)
{
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = md != NULL && c != NULL && EVP_DigestInit_ex2(c, md, NULL) == 1 &&
             EVP_DigestUpdate(c, a, a_len) == 1 && EVP_DigestUpdate(c, b, b_len) == 1 &&
             EVP_DigestFinalXOF(c, out, n) == 1;

    EVP_MD_CTX_free(c);
    EVP_MD_free(md);
    if (!ok) {
        fprintf(stderr, "test_mlkem: %s failed\n", name);
        exit(2);
    }
}

/* ---- the arithmetic, exhaustively ---------------------------------------------------- */

static void test_reduce(void)
{
    uint32_t bad = 0, limit = Q + 2 * Q * Q;

    for (uint32_t x = 0; x < limit; x++) {
        bad += mica_mlkem_reduce(x) != x % Q;
    }
    CHECK_MSG(bad == 0, "Barrett reduction wrong for %u of %u inputs", bad, limit);
}

static void test_compress(void)
{
    uint32_t bad = 0;

    for (unsigned d = 1; d <= 11; d++) {
        for (uint32_t x = 0; x < Q; x++) {
            /* round(2^d x / q), halves up: floor((2^(d+1) x + q) / 2q), mod 2^d */
            uint32_t want = (((x << (d + 1)) + Q) / (2 * Q)) & ((1u << d) - 1);
            bad += mica_mlkem_compress((uint16_t)x, d) != want;
        }
        for (uint32_t y = 0; y < (1u << d); y++) {
            /* round(q y / 2^d), halves up */
            uint32_t want = (2 * Q * y + (1u << d)) >> (d + 1);
            uint16_t got = mica_mlkem_decompress((uint16_t)y, d);
            bad += got != want;
            bad +=
                mica_mlkem_compress(got, d) != y; /* FIPS 203 4.2.1: Compress(Decompress(y)) = y */
        }
    }
    CHECK_MSG(bad == 0, "Compress/Decompress wrong for %u inputs", bad);
}

/* ---- Wycheproof ---------------------------------------------------------------------- */

static void wp_group(char **f, size_t n, const char *rel)
{
    CHECK_MSG(n == 2 && strcmp(f[1], "ML-KEM-768") == 0, "%s: group %s", rel, n > 1 ? f[1] : "?");
}

static void wp_keygen_seed(void)
{
    static const char rel[] = "mlkem/wycheproof/mlkem_768_keygen_seed_test.txt";
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], want_ek[EK_LEN], want_dk[DK_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, ok = 0;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        if (strcmp(f[0], "group") == 0) {
            wp_group(f, n, rel);
            continue;
        }
        cases++;
        CHECK_MSG(n == 6 && is_valid(f[1]), "%s: tc %s: unexpected line", rel, f[0]);
        if (n != 6) {
            continue;
        }
        need(f[3], seed, 64);
        need(f[4], want_ek, EK_LEN);
        need(f[5], want_dk, DK_LEN);
        CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
        CHECK_MEM("keygen_seed ek", ek, want_ek, EK_LEN);
        CHECK_MEM("keygen_seed dk", dk, want_dk, DK_LEN);
        CHECK_OK(mica_mlkem768_ek_check(ek, EK_LEN));
        CHECK_OK(mica_mlkem768_dk_check(dk, DK_LEN));
        ok += memcmp(ek, want_ek, EK_LEN) == 0 && memcmp(dk, want_dk, DK_LEN) == 0;
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases, %zu key pairs matched\n", impl_tag, rel, cases, ok);
    CHECK(cases == 100 && ok == cases);
}

/* mlkem_768_test: expand the seed, compare ek, decapsulate c. Invalid cases are a seed
 * of the wrong length (the API takes exactly 64 bytes: refused by its type) or a
 * ciphertext of the wrong length (MICA_E_BAD_PEER_KEY, ss wiped). */
static void wp_test(void)
{
    static const char rel[] = "mlkem/wycheproof/mlkem_768_test.txt";
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], want_ek[EK_LEN], ss[SS_LEN], want_k[SS_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, valid = 0, bad_seed = 0, bad_ct = 0, strcmp_cases = 0;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        size_t seed_len, c_len = 0;
        uint8_t *c;
        if (strcmp(f[0], "group") == 0) {
            wp_group(f, n, rel);
            continue;
        }
        cases++;
        CHECK_MSG(n == 7, "%s: tc %s: %zu fields", rel, f[0], n);
        if (n != 7) {
            continue;
        }
        seed_len = strlen(f[3]) / 2;
        if (seed_len != 64) { /* "Private key too short/long" */
            CHECK_MSG(!is_valid(f[1]), "%s: tc %s: valid with a %zu-byte seed", rel, f[0],
                      seed_len);
            bad_seed++;
            continue;
        }
        need(f[3], seed, 64);
        need(f[4], want_ek, EK_LEN);
        CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
        CHECK_MEM("test: ek from seed", ek, want_ek, EK_LEN);
        c = unhex(f[5], &c_len);
        memset(ss, 0xaa, sizeof(ss));
        if (is_valid(f[1])) {
            need(f[6], want_k, SS_LEN);
            CHECK_OK(mica_mlkem768_decaps(dk, c, c_len, ss));
            CHECK_MSG(memcmp(ss, want_k, SS_LEN) == 0, "%s: tc %s: wrong K", rel, f[0]);
            valid++;
            strcmp_cases += strcmp(f[2], "Strcmp") == 0;
        } else {
            CHECK_MSG(c_len != CT_LEN, "%s: tc %s: invalid with a good ciphertext", rel, f[0]);
            CHECK_ERR(mica_mlkem768_decaps(dk, c, c_len, ss), MICA_E_BAD_PEER_KEY);
            CHECK(all_zero(ss, SS_LEN));
            bad_ct++;
        }
        free(c);
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases: %zu valid matched (%zu Strcmp), %zu ciphertext lengths "
           "refused, %zu seed lengths refused by the API's type\n",
           impl_tag, rel, cases, valid, strcmp_cases, bad_ct, bad_seed);
    CHECK(cases == 193 && valid == 153 && bad_ct + bad_seed == 40 && strcmp_cases == 1);
}

static void wp_encaps(void)
{
    static const char rel[] = "mlkem/wycheproof/mlkem_768_encaps_test.txt";
    static uint8_t m[32], ct[CT_LEN], ss[SS_LEN], want_c[CT_LEN], want_k[SS_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, valid = 0, unreduced = 0, overflow = 0, bad_len = 0;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        size_t ek_len = 0;
        uint8_t *ek;
        if (strcmp(f[0], "group") == 0) {
            wp_group(f, n, rel);
            continue;
        }
        cases++;
        CHECK_MSG(n == 7, "%s: tc %s: %zu fields", rel, f[0], n);
        if (n != 7) {
            continue;
        }
        ek = unhex(f[3], &ek_len);
        need(f[4], m, 32);
        memset(ct, 0xaa, sizeof(ct));
        memset(ss, 0xaa, sizeof(ss));
        if (is_valid(f[1])) {
            need(f[5], want_c, CT_LEN);
            need(f[6], want_k, SS_LEN);
            CHECK_OK(mica_mlkem768_ek_check(ek, ek_len));
            CHECK_OK(mica_mlkem768_encaps_m(ek, ek_len, m, ct, ss));
            CHECK_MSG(memcmp(ct, want_c, CT_LEN) == 0 && memcmp(ss, want_k, SS_LEN) == 0,
                      "%s: tc %s: wrong c or K", rel, f[0]);
            valid++;
        } else {
            CHECK_ERR(mica_mlkem768_ek_check(ek, ek_len), MICA_E_BAD_PEER_KEY);
            CHECK_ERR(mica_mlkem768_encaps_m(ek, ek_len, m, ct, ss), MICA_E_BAD_PEER_KEY);
            CHECK(all_zero(ct, CT_LEN) && all_zero(ss, SS_LEN));
            if (ek_len != EK_LEN) {
                bad_len++;
            } else if (strcmp(f[2], "ModulusOverflow") == 0) {
                overflow++;
            } else {
                unreduced++;
            }
        }
        free(ek);
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases: %zu valid matched; refused: %zu not reduced, %zu "
           "ModulusOverflow, %zu wrong length\n",
           impl_tag, rel, cases, valid, unreduced, overflow, bad_len);
    CHECK(cases == 265 && valid == 133 && unreduced == 100 && overflow == 12 && bad_len == 20);
}

static void wp_semi_expanded(void)
{
    static const char rel[] = "mlkem/wycheproof/mlkem_768_semi_expanded_decaps_test.txt";
    static uint8_t ss[SS_LEN], want_k[SS_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, valid = 0, bad_c = 0, bad_dk_len = 0, bad_dk = 0;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        size_t dk_len = 0, c_len = 0;
        uint8_t *dk, *c;
        if (strcmp(f[0], "group") == 0) {
            wp_group(f, n, rel);
            continue;
        }
        cases++;
        CHECK_MSG(n == 7, "%s: tc %s: %zu fields", rel, f[0], n);
        if (n != 7) {
            continue;
        }
        dk = unhex(f[3], &dk_len);
        c = unhex(f[4], &c_len);
        memset(ss, 0xaa, sizeof(ss));
        if (is_valid(f[1])) {
            need(f[6], want_k, SS_LEN);
            CHECK_OK(mica_mlkem768_dk_check(dk, dk_len));
            CHECK_OK(dk_len == DK_LEN ? mica_mlkem768_decaps(dk, c, c_len, ss) : MICA_E_ARGUMENT);
            CHECK_MSG(memcmp(ss, want_k, SS_LEN) == 0, "%s: tc %s: wrong K", rel, f[0]);
            valid++;
        } else if (dk_len != DK_LEN) { /* the API's decaps takes exactly 2400 bytes */
            CHECK_ERR(mica_mlkem768_dk_check(dk, dk_len), MICA_E_ARGUMENT);
            bad_dk_len++;
        } else if (c_len != CT_LEN) {
            CHECK_OK(mica_mlkem768_dk_check(dk, dk_len));
            CHECK_ERR(mica_mlkem768_decaps(dk, c, c_len, ss), MICA_E_BAD_PEER_KEY);
            CHECK(all_zero(ss, SS_LEN));
            bad_c++;
        } else { /* corrupted H(ek) or embedded ek: 7.3's hash check */
            CHECK_ERR(mica_mlkem768_dk_check(dk, dk_len), MICA_E_ARGUMENT);
            CHECK_ERR(mica_mlkem768_decaps(dk, c, c_len, ss), MICA_E_ARGUMENT);
            CHECK(all_zero(ss, SS_LEN));
            bad_dk++;
        }
        free(dk);
        free(c);
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases: %zu valid matched; refused: %zu ciphertext length, %zu dk "
           "length, %zu hash check\n",
           impl_tag, rel, cases, valid, bad_c, bad_dk_len, bad_dk);
    CHECK(cases == 9 && valid == 3 && bad_c == 2 && bad_dk_len == 2 && bad_dk == 2);
}

/* ---- NIST ACVP ------------------------------------------------------------------------ */

static void acvp_keygen(void)
{
    static const char rel[] = "mlkem/acvp/keygen_mlkem768.txt";
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], want_ek[EK_LEN], want_dk[DK_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, ok = 0;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        cases++;
        CHECK_MSG(n == 5, "%s: %zu fields", rel, n);
        if (n != 5) {
            continue;
        }
        need(f[1], seed, 32);
        need(f[2], seed + 32, 32);
        need(f[3], want_ek, EK_LEN);
        need(f[4], want_dk, DK_LEN);
        CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
        ok += memcmp(ek, want_ek, EK_LEN) == 0 && memcmp(dk, want_dk, DK_LEN) == 0;
        CHECK_MEM("ACVP keyGen ek", ek, want_ek, EK_LEN);
        CHECK_MEM("ACVP keyGen dk", dk, want_dk, DK_LEN);
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases, %zu key pairs matched\n", impl_tag, rel, cases, ok);
    CHECK(cases == 25 && ok == 25);
}

static void acvp_encapdecap(void)
{
    static const char rel[] = "mlkem/acvp/encapdecap_mlkem768.txt";
    static uint8_t ek[EK_LEN], dk[DK_LEN], m[32], c[CT_LEN], k[SS_LEN], ct[CT_LEN], ss[SS_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, enc = 0, dec_same = 0, dec_modified = 0;
    bool have_key = false;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        if (strcmp(f[0], "encaps") == 0 && n == 7) {
            cases++;
            need(f[2], ek, EK_LEN);
            need(f[3], dk, DK_LEN);
            need(f[4], m, 32);
            need(f[5], c, CT_LEN);
            need(f[6], k, SS_LEN);
            CHECK_OK(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, ss));
            CHECK_MSG(memcmp(ct, c, CT_LEN) == 0 && memcmp(ss, k, SS_LEN) == 0,
                      "%s: tc %s: wrong c or k", rel, f[1]);
            CHECK_OK(mica_mlkem768_decaps(dk, c, CT_LEN, ss));
            CHECK_MEM("ACVP encaps: decaps(dk, c)", ss, k, SS_LEN);
            enc++;
        } else if (strcmp(f[0], "decapsgroup") == 0 && n == 3) {
            need(f[1], ek, EK_LEN);
            need(f[2], dk, DK_LEN);
            CHECK_OK(mica_mlkem768_ek_check(ek, EK_LEN));
            CHECK_OK(mica_mlkem768_dk_check(dk, DK_LEN));
            have_key = true;
        } else if (strcmp(f[0], "decaps") == 0 && n == 5 && have_key) {
            cases++;
            need(f[3], c, CT_LEN);
            need(f[4], k, SS_LEN);
            CHECK_OK(mica_mlkem768_decaps(dk, c, CT_LEN, ss));
            CHECK_MSG(memcmp(ss, k, SS_LEN) == 0, "%s: tc %s (%s): wrong k", rel, f[1], f[2]);
            dec_same += strcmp(f[2], "no modification") == 0;
            dec_modified += strcmp(f[2], "modify ciphertext") == 0;
        } else {
            cases++;
            CHECK_MSG(false, "%s: unexpected line %s (%zu fields)", rel, f[0], n);
        }
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu cases: %zu encapsulations, %zu decapsulations (%zu unmodified, "
           "%zu modified: implicit rejection)\n",
           impl_tag, rel, cases, enc, dec_same + dec_modified, dec_same, dec_modified);
    CHECK(enc == 25 && dec_same == 5 && dec_modified == 5);
}

/* ---- CCTV --------------------------------------------------------------------------- */

/* cctv_value: the hex after the last " = " on the first line named name in text (the
 * files are "name = value" or "name = {decimals} = value") into out; false if absent */
static bool cctv_value(const char *text, const char *name, uint8_t *out, size_t len)
{
    size_t name_len = strlen(name);

    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t line_len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        if (line_len > name_len + 3 && strncmp(line, name, name_len) == 0 &&
            strncmp(line + name_len, " = ", 3) == 0) {
            char buf[8192];
            const char *v = line;
            for (const char *p = line; p + 3 <= line + line_len; p++) {
                if (strncmp(p, " = ", 3) == 0) {
                    v = p + 3;
                }
            }
            if ((size_t)(line + line_len - v) >= sizeof(buf)) {
                return false;
            }
            memcpy(buf, v, (size_t)(line + line_len - v));
            buf[line + line_len - v] = '\0';
            return hex_decode(buf, out, len) == len;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

static char *cctv_open(const char *rel)
{
    char *text = vec_read_file(vec_path(rel), NULL);

    CHECK_MSG(text != NULL, "cannot read %s", vec_path(rel));
    return text;
}

#define CCTV_NEED(text, name, out, len)                                                            \
    CHECK_MSG(cctv_value(text, name, out, len), "CCTV: no %zu-byte value %s", (size_t)(len), name)

/* decode12: the 256 12-bit values of one ByteEncode12 polynomial */
static void decode12(const uint8_t *b, uint16_t a[256])
{
    for (size_t i = 0; i < 128; i++) {
        a[2 * i] = (uint16_t)(b[3 * i] | (b[3 * i + 1] & 0x0f) << 8);
        a[2 * i + 1] = (uint16_t)(b[3 * i + 1] >> 4 | b[3 * i + 2] << 4);
    }
}

static void cctv_intermediate(void)
{
    static const char rel[] = "mlkem/cctv/intermediate/ML-KEM-768.txt";
    static uint8_t d[32], z[32], rho[32], sigma[32], a_hat[9 * 384], ek[EK_LEN], want_ek[EK_LEN],
        dk_pke[1152], want_dk_pke[1152], dk[DK_LEN], m[32], c[CT_LEN], k[SS_LEN], kbar[SS_LEN],
        ct[CT_LEN], ss[SS_LEN], seed[64], dk2[DK_LEN];
    uint16_t got[256], want[256];
    size_t a_ok = 0;
    char *text = cctv_open(rel);

    if (text == NULL) {
        return;
    }
    CCTV_NEED(text, "d", d, 32);
    CCTV_NEED(text, "z", z, 32);
    CCTV_NEED(text, "\xcf\x81", rho, 32);   /* ρ */
    CCTV_NEED(text, "\xcf\x83", sigma, 32); /* σ */
    CCTV_NEED(text, "A", a_hat, sizeof(a_hat));
    CCTV_NEED(text, "ek", want_ek, EK_LEN);
    CCTV_NEED(text, "dkPKE", want_dk_pke, 1152); /* "dkPKE = NTT(s) = ..." */
    CCTV_NEED(text, "dk", dk, DK_LEN);
    CCTV_NEED(text, "m", m, 32);
    CCTV_NEED(text, "K", k, SS_LEN);
    CCTV_NEED(text, "c", c, CT_LEN);
    CCTV_NEED(text, "KBar", kbar, SS_LEN);

    /* K-PKE.KeyGen after step 1: A^[i, j] = SampleNTT(rho || j || i), row by row */
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            CHECK_OK(mica_mlkem_sample_ntt(rho, (uint8_t)j, (uint8_t)i, MICA_MLKEM_XOF_FIRST, got));
            decode12(a_hat + (3 * i + j) * 384, want);
            a_ok += memcmp(got, want, sizeof(got)) == 0;
        }
    }
    CHECK_MSG(a_ok == 9, "CCTV: %zu of 9 entries of A^ match", a_ok);
    CHECK_OK(mica_mlkem768_kpke_keygen(rho, sigma, ek, dk_pke));
    CHECK_MEM("CCTV K-PKE.KeyGen(rho, sigma) ekPKE", ek, want_ek, EK_LEN);
    CHECK_MEM("CCTV K-PKE.KeyGen(rho, sigma) dkPKE", dk_pke, want_dk_pke, 1152);
    CHECK_MEM("CCTV dk[0:1152] is dkPKE", dk, want_dk_pke, 1152);
    CHECK_OK(mica_mlkem768_ek_check(want_ek, EK_LEN));
    CHECK_OK(mica_mlkem768_dk_check(dk, DK_LEN)); /* H(ek) inside dk */

    /* the file's KeyGen is the draft's (G(d), not G(d || 3)): final KeyGen differs */
    memcpy(seed, d, 32);
    memcpy(seed + 32, z, 32);
    CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk2));
    CHECK_MSG(memcmp(ek, want_ek, EK_LEN) != 0, "CCTV: final KeyGen gave the draft's ek");

    CHECK_OK(mica_mlkem768_encaps_m(want_ek, EK_LEN, m, ct, ss));
    CHECK_MEM("CCTV Encaps c", ct, c, CT_LEN);
    CHECK_MEM("CCTV Encaps K", ss, k, SS_LEN);
    CHECK_OK(mica_mlkem768_decaps(dk, c, CT_LEN, ss));
    CHECK_MEM("CCTV Decaps K", ss, k, SS_LEN);
    /* K-bar = J(z || c): what decapsulation returns for c had c not re-encrypted */
    shake("SHAKE256", z, 32, c, CT_LEN, ss, SS_LEN);
    CHECK_MEM("CCTV KBar = J(z || c)", ss, kbar, SS_LEN);
    printf("  [%s] %s: A^ (9 entries), K-PKE.KeyGen from (rho, sigma), Encaps, Decaps, KBar\n",
           impl_tag, rel);
    free(text);
}

static void cctv_strcmp_unlucky(void)
{
    static uint8_t dk[DK_LEN], ek[EK_LEN], c[CT_LEN], k[SS_LEN], m[32], ct[CT_LEN], ss[SS_LEN];
    uint16_t a[256], b[256];
    char *text = cctv_open("mlkem/cctv/strcmp/ML-KEM-768.txt");
    size_t same = 0;

    if (text != NULL) {
        CCTV_NEED(text, "dk", dk, DK_LEN);
        CCTV_NEED(text, "c", c, CT_LEN);
        CCTV_NEED(text, "K", k, SS_LEN);
        CHECK_OK(mica_mlkem768_decaps(dk, c, CT_LEN, ss));
        CHECK_MEM("CCTV strcmp K", ss, k, SS_LEN);
        free(text);
    }
    text = cctv_open("mlkem/cctv/unluckysample/ML-KEM-768.txt");
    if (text == NULL) {
        return;
    }
    CCTV_NEED(text, "ek", ek, EK_LEN);
    CCTV_NEED(text, "dk", dk, DK_LEN);
    CCTV_NEED(text, "m", m, 32);
    CCTV_NEED(text, "c", c, CT_LEN);
    CCTV_NEED(text, "K", k, SS_LEN);
    CHECK_OK(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, ss));
    CHECK_MEM("CCTV unlucky Encaps c", ct, c, CT_LEN);
    CHECK_MEM("CCTV unlucky Encaps K", ss, k, SS_LEN);
    CHECK_OK(mica_mlkem768_decaps(dk, c, CT_LEN, ss));
    CHECK_MEM("CCTV unlucky Decaps K", ss, k, SS_LEN);
    /* SampleNTT with a first squeeze too short for the unlucky rho (575 bytes; and 3,
     * which re-squeezes many times) must give what one 840-byte squeeze gives */
    for (uint8_t i = 0; i < 3; i++) {
        for (uint8_t j = 0; j < 3; j++) {
            CHECK_OK(mica_mlkem_sample_ntt(ek + 1152, j, i, MICA_MLKEM_XOF_FIRST, a));
            CHECK_OK(mica_mlkem_sample_ntt(ek + 1152, j, i, 575, b));
            same += memcmp(a, b, sizeof(a)) == 0;
            CHECK_OK(mica_mlkem_sample_ntt(ek + 1152, j, i, 3, b));
            same += memcmp(a, b, sizeof(a)) == 0;
        }
    }
    CHECK_MSG(same == 18, "SampleNTT: %zu of 18 short-squeeze results agree", same);
    printf("  [%s] mlkem/cctv/strcmp, unluckysample: Decaps, Encaps; SampleNTT re-squeeze\n",
           impl_tag);
    free(text);
}

static void cctv_modulus(void)
{
    static const char rel[] = "mlkem/cctv/modulus_mlkem768.txt";
    static uint8_t base[EK_LEN], ek[EK_LEN], m[32], ct[CT_LEN], ss[SS_LEN];
    struct vfile vf;
    char *f[MAX_FIELDS];
    size_t n, cases = 0, refused = 0;
    bool have_base = false;

    if (!vopen(&vf, rel)) {
        return;
    }
    while ((n = vnext(&vf, f)) > 0) {
        size_t off, len = 0, big = 0;
        uint8_t *patch;
        if (strcmp(f[0], "base") == 0 && n == 2) {
            need(f[1], base, EK_LEN);
            CHECK_OK(mica_mlkem768_ek_check(base, EK_LEN)); /* the majority key is fine */
            have_base = true;
            continue;
        }
        cases++;
        CHECK_MSG(n == 3 && have_base, "%s: bad line %s", rel, f[0]);
        if (n != 3 || !have_base) {
            continue;
        }
        off = (size_t)strtoul(f[1], NULL, 10);
        patch = unhex(f[2], &len);
        CHECK_MSG(off + len <= 1152, "%s: patch outside t", rel);
        memcpy(ek, base, EK_LEN);
        memcpy(ek + off, patch, len < EK_LEN - off ? len : EK_LEN - off);
        for (size_t p = 0; p < 1152; p += 3) { /* exactly one coefficient in q..4095 */
            uint16_t v0 = (uint16_t)(ek[p] | (ek[p + 1] & 0x0f) << 8);
            uint16_t v1 = (uint16_t)(ek[p + 1] >> 4 | ek[p + 2] << 4);
            big += (size_t)(v0 >= Q) + (size_t)(v1 >= Q);
        }
        CHECK_MSG(big == 1, "%s: key %s has %zu coefficients >= q", rel, f[0], big);
        memset(ss, 0xaa, sizeof(ss));
        CHECK_ERR(mica_mlkem768_ek_check(ek, EK_LEN), MICA_E_BAD_PEER_KEY);
        CHECK_ERR(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, ss), MICA_E_BAD_PEER_KEY);
        refused += mica_mlkem768_encaps(ek, EK_LEN, ct, ss) == MICA_E_BAD_PEER_KEY &&
                   all_zero(ss, SS_LEN) && all_zero(ct, CT_LEN);
        free(patch);
    }
    vclose(&vf, cases);
    printf("  [%s] %s: %zu keys, %zu refused by the modulus check\n", impl_tag, rel, cases,
           refused);
    CHECK(cases == 780 && refused == 780);
}

/* ---- the accumulated pq-crystals test (CCTV README, final FIPS 203 values) ----------- */

static const struct {
    size_t n;
    const char *hash;
} accumulated[] = {
    {1, "f98f7d4cdfead60fca190b36cf84af5438f98a03c5ca3780ee73fea10fa834a6"},
    {100, "8d65b902f28edc683cebee2872962fd165a4d197c9e24ec74caa4470270df0b7"},
    {1000, "5706194c22e3e0977b570e636de7364abce0609b341433cc4eb48062080b7c76"},
    {10000, "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1"},
};

/* 10,000 iterations take about 4 s at -O2 and 8 s under ASan + UBSan at -O1 (make
 * test's sanitizer build), but about 25 s under sanitizers without optimisation (the
 * Debug sanitizer build): there, 1,000. MICA_MLKEM_ITERATIONS (1, 100, 1000 or 10000)
 * overrides either way. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(SANITIZED) && !defined(__OPTIMIZE__)
#define ACCUMULATED_DEFAULT 1000u
#else
#define ACCUMULATED_DEFAULT 10000u
#endif

static size_t accumulated_count(void)
{
    const char *env = getenv("MICA_MLKEM_ITERATIONS");
    size_t n = env != NULL ? (size_t)strtoul(env, NULL, 10) : ACCUMULATED_DEFAULT;

    for (size_t i = 0; i < MICA_ARRAY_LEN(accumulated); i++) {
        if (accumulated[i].n == n) {
            return n;
        }
    }
    return ACCUMULATED_DEFAULT;
}

/* checkpoint: compare the running hash so far with the published value for i tests */
static void checkpoint(const EVP_MD_CTX *acc, size_t i)
{
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    uint8_t got[32], want[32];

    for (size_t k = 0; k < MICA_ARRAY_LEN(accumulated); k++) {
        if (accumulated[k].n != i) {
            continue;
        }
        need(accumulated[k].hash, want, 32);
        CHECK(copy != NULL && EVP_MD_CTX_copy_ex(copy, acc) == 1 &&
              EVP_DigestFinalXOF(copy, got, 32) == 1);
        CHECK_MSG(memcmp(got, want, 32) == 0, "accumulated test: wrong hash after %zu tests", i);
        printf("  [%s] accumulated pq-crystals test: %zu iterations hash to the final-FIPS-203 "
               "value\n",
               impl_tag, i);
    }
    EVP_MD_CTX_free(copy);
}

static void test_accumulated(void)
{
    static uint8_t ek[EK_LEN], dk[DK_LEN], ct[CT_LEN], k1[SS_LEN], k2[SS_LEN], k3[SS_LEN];
    size_t n = accumulated_count(), per = 32 + 32 + 32 + CT_LEN, bad = 0;
    uint8_t *stream = malloc(n * per);
    EVP_MD *md = EVP_MD_fetch(NULL, "SHAKE128", NULL);
    EVP_MD_CTX *acc = EVP_MD_CTX_new();
    clock_t t0 = clock();

    CHECK(stream != NULL && md != NULL && acc != NULL && EVP_DigestInit_ex2(acc, md, NULL) == 1);
    if (stream == NULL || md == NULL || acc == NULL) {
        return;
    }
    shake("SHAKE128", NULL, 0, NULL, 0, stream, n * per); /* the RNG: SHAKE128("") */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *seed = stream + i * per, *m = seed + 64, *bad_ct = m + 32;
        bad += mica_mlkem768_keygen_seed(seed, ek, dk) != MICA_OK;
        bad += mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, k1) != MICA_OK;
        bad += mica_mlkem768_decaps(dk, ct, CT_LEN, k2) != MICA_OK || memcmp(k1, k2, SS_LEN) != 0;
        bad += mica_mlkem768_decaps(dk, bad_ct, CT_LEN, k3) != MICA_OK;
        EVP_DigestUpdate(acc, ek, EK_LEN);
        EVP_DigestUpdate(acc, dk, DK_LEN);
        EVP_DigestUpdate(acc, ct, CT_LEN);
        EVP_DigestUpdate(acc, k1, SS_LEN);
        EVP_DigestUpdate(acc, k3, SS_LEN);
        checkpoint(acc, i + 1);
    }
    CHECK_MSG(bad == 0, "accumulated test: %zu failed calls or mismatched decapsulations", bad);
    printf("  [%s] accumulated: %zu iterations in %.2f s CPU%s\n", impl_tag, n,
           (double)(clock() - t0) / CLOCKS_PER_SEC,
           n < 10000 ? " (MICA_MLKEM_ITERATIONS=10000 for the full run)" : "");
    EVP_MD_CTX_free(acc);
    EVP_MD_free(md);
    free(stream);
}

/* ---- properties: round trips, tampering, key checks, RNG, wiping ----------------------- */

static void test_round_trips(void)
{
    static uint8_t ek[EK_LEN], dk[DK_LEN], ct[CT_LEN], k1[SS_LEN], k2[SS_LEN], first[SS_LEN];
    size_t bad = 0;

    for (int i = 0; i < 20; i++) {
        CHECK_OK(mica_mlkem768_keygen(ek, dk));
        CHECK_OK(mica_mlkem768_encaps(ek, EK_LEN, ct, k1));
        CHECK_OK(mica_mlkem768_decaps(dk, ct, CT_LEN, k2));
        bad += memcmp(k1, k2, SS_LEN) != 0;
        if (i == 0) {
            memcpy(first, k1, SS_LEN);
        } else {
            bad += memcmp(first, k1, SS_LEN) == 0; /* fresh randomness every time */
        }
    }
    CHECK_MSG(bad == 0, "random round trips: %zu failures", bad);
}

/* Tampered ciphertexts: each position (a sample of them, and every byte at the c1/c2
 * boundary and the ends) flipped in turn. Decaps must succeed, give K-bar = J(z || c')
 * -- not K -- and give it again on a second call. */
static void test_tampered(void)
{
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], ct[CT_LEN], k[SS_LEN], got[SS_LEN],
        again[SS_LEN], want[SS_LEN], m[32];
    size_t tried = 0, bad = 0;

    memset(seed, 0x5c, sizeof(seed));
    memset(m, 0x3a, sizeof(m));
    CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
    CHECK_OK(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, k));
    for (size_t pos = 0; pos < CT_LEN; pos++) {
        if (pos % 61 != 0 && pos != 959 && pos != 960 && pos != CT_LEN - 1) {
            continue;
        }
        for (uint8_t bit = 1; bit != 0; bit = (uint8_t)(bit << 3)) {
            ct[pos] ^= bit;
            bad += mica_mlkem768_decaps(dk, ct, CT_LEN, got) != MICA_OK;
            bad += mica_mlkem768_decaps(dk, ct, CT_LEN, again) != MICA_OK;
            shake("SHAKE256", dk + 2368, 32, ct, CT_LEN, want, SS_LEN);
            bad += memcmp(got, want, SS_LEN) != 0 || memcmp(got, again, SS_LEN) != 0 ||
                   memcmp(got, k, SS_LEN) == 0;
            ct[pos] ^= bit;
            tried++;
        }
    }
    CHECK_OK(mica_mlkem768_decaps(dk, ct, CT_LEN, got));
    CHECK_MEM("untampered ciphertext", got, k, SS_LEN);
    CHECK_MSG(bad == 0, "tampered ciphertexts: %zu of %zu wrong", bad, tried);
}

/* The 7.3 hash check covers exactly ek and H(ek) inside dk: a change anywhere there is
 * refused, a change in dkPKE or z is not (it just gives other secrets). */
static void test_dk_check(void)
{
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], ss[SS_LEN], ct[CT_LEN];
    size_t bad = 0;

    memset(seed, 0x11, sizeof(seed));
    CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
    for (size_t i = 0; i < DK_LEN; i += 7) {
        mica_err want = i >= 1152 && i < 2368 ? MICA_E_ARGUMENT : MICA_OK;
        dk[i] ^= 0x80;
        bad += mica_mlkem768_dk_check(dk, DK_LEN) != want;
        dk[i] ^= 0x80;
    }
    CHECK_MSG(bad == 0, "dk check: %zu positions decided wrongly", bad);
    CHECK_ERR(mica_mlkem768_dk_check(dk, DK_LEN - 1), MICA_E_ARGUMENT);
    CHECK_ERR(mica_mlkem768_dk_check(dk, DK_LEN + 1), MICA_E_ARGUMENT);
    CHECK_ERR(mica_mlkem768_dk_check(NULL, DK_LEN), MICA_E_ARGUMENT);
    CHECK_ERR(mica_mlkem768_ek_check(NULL, EK_LEN), MICA_E_BAD_PEER_KEY);
    CHECK_ERR(mica_mlkem768_ek_check(ek, 0), MICA_E_BAD_PEER_KEY);
    CHECK_ERR(mica_mlkem768_encaps(ek, EK_LEN - 1, ct, ss), MICA_E_BAD_PEER_KEY);
    CHECK_ERR(mica_mlkem768_decaps(dk, NULL, CT_LEN, ss), MICA_E_BAD_PEER_KEY);
    CHECK_ERR(mica_mlkem768_decaps(dk, ct, 0, ss), MICA_E_BAD_PEER_KEY);
    /* every coefficient position, one at a time, set to q: refused */
    bad = 0;
    for (size_t p = 0; p < 1152; p += 3) {
        uint8_t save[3];
        memcpy(save, ek + p, 3);
        ek[p] = Q & 0xff; /* first coefficient of the pair = q */
        ek[p + 1] = (uint8_t)((ek[p + 1] & 0xf0) | Q >> 8);
        bad += mica_mlkem768_ek_check(ek, EK_LEN) != MICA_E_BAD_PEER_KEY;
        memcpy(ek + p, save, 3);
        ek[p + 1] = (uint8_t)((ek[p + 1] & 0x0f) | (Q & 0x0f) << 4); /* second = q */
        ek[p + 2] = (uint8_t)(Q >> 4);
        bad += mica_mlkem768_ek_check(ek, EK_LEN) != MICA_E_BAD_PEER_KEY;
        memcpy(ek + p, save, 3);
    }
    CHECK_MSG(bad == 0, "modulus check: %zu positions not refused at q", bad);
    CHECK_OK(mica_mlkem768_ek_check(ek, EK_LEN));
}

struct counter {
    uint8_t byte;
    size_t calls, bytes;
};

static void counting_rng(uint8_t *buf, size_t len, void *ctx)
{
    struct counter *c = ctx;

    c->calls++;
    c->bytes += len;
    memset(buf, c->byte++, len);
}

/* keygen takes exactly d || z (64 bytes) and encaps exactly m (32) from mica_rand */
static void test_rng_hook(void)
{
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], ek2[EK_LEN], dk2[DK_LEN], m[32], ct[CT_LEN],
        ct2[CT_LEN], k[SS_LEN], k2[SS_LEN];
    struct counter c = {7, 0, 0};

    mica_rand_set_hook(counting_rng, &c);
    CHECK_OK(mica_mlkem768_keygen(ek, dk));
    CHECK(c.calls == 1 && c.bytes == 64);
    CHECK_OK(mica_mlkem768_encaps(ek, EK_LEN, ct, k));
    CHECK(c.calls == 2 && c.bytes == 96);
    mica_rand_set_hook(NULL, NULL);
    memset(seed, 7, sizeof(seed));
    memset(m, 8, sizeof(m));
    CHECK_OK(mica_mlkem768_keygen_seed(seed, ek2, dk2));
    CHECK_MEM("keygen with the hook = keygen_seed(its bytes)", dk, dk2, DK_LEN);
    CHECK_OK(mica_mlkem768_encaps_m(ek2, EK_LEN, m, ct2, k2));
    CHECK_MEM("encaps with the hook = encaps_m(its bytes)", ct, ct2, CT_LEN);
    CHECK_MEM("encaps with the hook: K", k, k2, SS_LEN);
}

struct frees {
    size_t secret, plain;
};

static void on_free(const void *p, size_t size, bool secret, void *ctx)
{
    struct frees *f = ctx;

    (void)p;
    (void)size;
    if (secret) {
        f->secret++;
    } else {
        f->plain++;
    }
}

/* mica's own code puts its intermediates in one heap workspace: freed as a secret (wiped),
 * nothing else freed, nothing leaked */
static void test_workspace_wiped(void)
{
    static uint8_t seed[64], ek[EK_LEN], dk[DK_LEN], ct[CT_LEN], k[SS_LEN], m[32];
    struct frees f = {0, 0};
    struct mica_mem_hooks hooks = {0, on_free, &f};
    size_t live = mica_mem_live();

    if (mica_mlkem768_impl() != MICA_MLKEM_IMPL_OWN) {
        return;
    }
    mica_mem_set_hooks(&hooks);
    CHECK_OK(mica_mlkem768_keygen_seed(seed, ek, dk));
    CHECK_OK(mica_mlkem768_encaps_m(ek, EK_LEN, m, ct, k));
    CHECK_OK(mica_mlkem768_decaps(dk, ct, CT_LEN, k));
    mica_mem_set_hooks(NULL);
    CHECK_MSG(f.secret == 3 && f.plain == 0, "workspace frees: %zu secret, %zu plain", f.secret,
              f.plain);
    CHECK(mica_mem_live() == live);
    /* a failed allocation is a clean MICA_E_NOMEM with the outputs wiped */
    hooks.on_free = NULL;
    hooks.fail_at = 1;
    mica_mem_set_hooks(&hooks);
    memset(k, 0xaa, sizeof(k));
    CHECK_ERR(mica_mlkem768_decaps(dk, ct, CT_LEN, k), MICA_E_NOMEM);
    CHECK(all_zero(k, SS_LEN));
    mica_mem_set_hooks(NULL);
}

static void test_impl_choice(void)
{
    bool lc = mica_mlkem768_libcrypto_available();

    CHECK(mica_mlkem768_impl() == (lc ? MICA_MLKEM_IMPL_LIBCRYPTO : MICA_MLKEM_IMPL_OWN));
    CHECK_ERR(mica_mlkem768_set_impl(MICA_MLKEM_IMPL_LIBCRYPTO), lc ? MICA_OK : MICA_E_UNSUPPORTED);
    CHECK_OK(mica_mlkem768_set_impl(MICA_MLKEM_IMPL_OWN));
    CHECK(mica_mlkem768_impl() == MICA_MLKEM_IMPL_OWN);
    printf("libcrypto's ML-KEM-768: %s\n",
           lc ? "available (its results are checked too)" : "absent (OpenSSL < 3.5): own only");
}

static void run_all(void)
{
    wp_keygen_seed();
    wp_test();
    wp_encaps();
    wp_semi_expanded();
    acvp_keygen();
    acvp_encapdecap();
    cctv_intermediate();
    cctv_strcmp_unlucky();
    cctv_modulus();
    test_round_trips();
    test_tampered();
    test_dk_check();
    test_rng_hook();
    test_workspace_wiped();
    test_accumulated();
}

int main(void)
{
    test_impl_choice();
    test_reduce();
    test_compress();
    CHECK_OK(mica_mlkem768_set_impl(MICA_MLKEM_IMPL_OWN));
    impl_tag = "own";
    run_all();
    if (mica_mlkem768_set_impl(MICA_MLKEM_IMPL_LIBCRYPTO) == MICA_OK) {
        impl_tag = "libcrypto";
        run_all();
    }
    return check_exit("test_mlkem");
}
