/*
 * The key schedule beyond RFC 8448: the stage order is enforced for every derivation,
 * secrets are wiped when the next stage exists, SHA-384 (which RFC 8448 never uses) is
 * cross-checked against libcrypto's independent TLS13-KDF, and KeyUpdate, exporters and
 * argument bounds behave as RFC 8446 7.1, 7.2 and 7.5 say.
 *
 * This test may include OpenSSL: it uses libcrypto as an independent oracle.
 */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "tls/transcript.h"

/* libcrypto's TLS13-KDF, mode EXPAND_ONLY: HKDF-Expand-Label(key, label, data, len) */
static int oracle_expand_label(const struct mica_hash_desc *h, const uint8_t *key, size_t key_len,
                               const char *label, const uint8_t *data, size_t data_len,
                               uint8_t *out, size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[7], *p = params;
    static const uint8_t nothing[1];
    int ok;

    if (data == NULL) { /* libcrypto wants a pointer even for an empty octet string */
        data = nothing;
    }
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t)h->name, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)key, key_len);
    *p++ =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)(uintptr_t) "tls13 ", 6);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)(uintptr_t)label,
                                             strlen(label));
    *p++ =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)(uintptr_t)data, data_len);
    *p = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok;
}

static void fill(mica_secret *s, size_t len, uint8_t seed)
{
    s->len = (uint8_t)len;
    for (size_t i = 0; i < len; i++) {
        s->b[i] = (uint8_t)(seed + 13 * i);
    }
}

static void cross_check(void)
{
    static const struct mica_hash_desc *const hashes[] = {&mica_hash_sha256, &mica_hash_sha384};
    static const char *const labels[] = {
        "derived",  "c hs traffic", "s ap traffic", "res master",   "key",     "iv",
        "finished", "traffic upd",  "resumption",   "e exp master", "exporter"};
    static const size_t lens[] = {12, 16, 32, 48, 64, 100};

    for (size_t hi = 0; hi < MICA_ARRAY_LEN(hashes); hi++) {
        const struct mica_hash_desc *h = hashes[hi];
        for (size_t li = 0; li < MICA_ARRAY_LEN(labels); li++) {
            for (size_t n = 0; n < MICA_ARRAY_LEN(lens); n++) {
                MICA_SECRET(s);
                uint8_t ctx[48], got[128], want[128];
                fill(&s, h->len, (uint8_t)(li + n));
                memset(ctx, (int)li, sizeof(ctx));
                CHECK_OK(
                    mica_ks_expand_label(h, &s, labels[li], ctx, n % 2 ? h->len : 0, got, lens[n]));
                CHECK(oracle_expand_label(h, s.b, s.len, labels[li], ctx, n % 2 ? h->len : 0, want,
                                          lens[n]));
                CHECK_MEM(labels[li], got, want, lens[n]);
            }
        }
    }
}

/* a full SHA-384 schedule, each step checked against the oracle */
static void sha384_schedule(void)
{
    const struct mica_hash_desc *h = &mica_hash_sha384;
    struct mica_keysched ks;
    uint8_t th[48], empty[48], want[48];
    MICA_SECRET(c);
    MICA_SECRET(s);
    MICA_SECRET(es);
    MICA_SECRET(derived);
    uint8_t ecdhe[48];

    memset(th, 0xa5, sizeof(th));
    memset(ecdhe, 0x5a, sizeof(ecdhe));
    CHECK_OK(mica_hash(h, NULL, 0, empty));
    mica_ks_init(&ks, h);
    CHECK_OK(mica_ks_early(&ks, NULL, 0));
    CHECK(ks.secret.len == 48);
    memcpy(es.b, ks.secret.b, 48);
    es.len = 48;
    CHECK_OK(mica_ks_handshake(&ks, ecdhe, sizeof(ecdhe)));
    /* HS = HKDF-Extract(Derive-Secret(ES, "derived", ""), ecdhe) */
    CHECK(oracle_expand_label(h, es.b, 48, "derived", empty, 48, derived.b, 48));
    derived.len = 48;
    {
        MICA_SECRET(hs);
        CHECK_OK(mica_hkdf_extract(h, derived.b, 48, ecdhe, sizeof(ecdhe), &hs));
        CHECK_MEM("SHA-384 handshake secret", ks.secret.b, hs.b, 48);
    }
    CHECK_OK(mica_ks_hs_traffic(&ks, th, &c, &s));
    CHECK(oracle_expand_label(h, ks.secret.b, 48, "c hs traffic", th, 48, want, 48));
    CHECK_MEM("SHA-384 c hs traffic", c.b, want, 48);
    CHECK(oracle_expand_label(h, ks.secret.b, 48, "s hs traffic", th, 48, want, 48));
    CHECK_MEM("SHA-384 s hs traffic", s.b, want, 48);
    CHECK_OK(mica_ks_master(&ks));
    CHECK_OK(mica_ks_app_traffic(&ks, th, &c, &s));
    CHECK(oracle_expand_label(h, ks.secret.b, 48, "s ap traffic", th, 48, want, 48));
    CHECK_MEM("SHA-384 s ap traffic", s.b, want, 48);
    /* traffic keys for TLS_AES_256_GCM_SHA384: 32-byte key, 12-byte IV */
    {
        uint8_t key[32], iv[12], wk[32], wiv[12];
        CHECK_OK(mica_ks_traffic_key(mica_suite_by_id(0x1302), &s, key, iv));
        CHECK(oracle_expand_label(h, s.b, 48, "key", NULL, 0, wk, 32));
        CHECK(oracle_expand_label(h, s.b, 48, "iv", NULL, 0, wiv, 12));
        CHECK_MEM("SHA-384 key", key, wk, 32);
        CHECK_MEM("SHA-384 iv", iv, wiv, 12);
    }
    CHECK_OK(mica_ks_done(&ks));
    mica_ks_clear(&ks);
}

/* every derivation refuses every stage but its own */
static void stage_order(void)
{
    const struct mica_hash_desc *h = &mica_hash_sha256;
    struct mica_keysched ks;
    uint8_t th[32] = {0};
    MICA_SECRET(a);
    MICA_SECRET(b);

    for (int stage = MICA_KS_NONE; stage <= MICA_KS_DONE; stage++) {
        mica_ks_init(&ks, h);
        if (stage >= MICA_KS_EARLY) {
            CHECK_OK(mica_ks_early(&ks, NULL, 0));
        }
        if (stage >= MICA_KS_HANDSHAKE) {
            CHECK_OK(mica_ks_handshake(&ks, th, sizeof(th)));
        }
        if (stage >= MICA_KS_MASTER) {
            CHECK_OK(mica_ks_master(&ks));
        }
        if (stage >= MICA_KS_DONE) {
            CHECK_OK(mica_ks_done(&ks));
        }
        CHECK(ks.stage == (enum mica_ks_stage)stage);
#define AT(st, expr) CHECK_ERR(expr, stage == (st) ? MICA_OK : MICA_E_STAGE)
        AT(MICA_KS_EARLY, mica_ks_binder_key(&ks, true, &a));
        AT(MICA_KS_EARLY, mica_ks_early_traffic(&ks, th, &a));
        AT(MICA_KS_EARLY, mica_ks_early_exporter(&ks, th, &a));
        AT(MICA_KS_HANDSHAKE, mica_ks_hs_traffic(&ks, th, &a, &b));
        AT(MICA_KS_MASTER, mica_ks_app_traffic(&ks, th, &a, &b));
        AT(MICA_KS_MASTER, mica_ks_exporter_master(&ks, th, &a));
        AT(MICA_KS_MASTER, mica_ks_resumption_master(&ks, th, &a));
        /* the transitions themselves, tried last since they change the stage */
        if (stage != MICA_KS_NONE) {
            CHECK_ERR(mica_ks_early(&ks, NULL, 0), MICA_E_STAGE);
        }
        if (stage != MICA_KS_EARLY) {
            CHECK_ERR(mica_ks_handshake(&ks, th, sizeof(th)), MICA_E_STAGE);
        }
        if (stage != MICA_KS_HANDSHAKE) {
            CHECK_ERR(mica_ks_master(&ks), MICA_E_STAGE);
        }
        if (stage != MICA_KS_MASTER) {
            CHECK_ERR(mica_ks_done(&ks), MICA_E_STAGE);
        }
#undef AT
        mica_ks_clear(&ks);
        CHECK(mica_ct_is_zero(ks.secret.b, sizeof(ks.secret.b)) && ks.stage == MICA_KS_NONE);
    }
    /* a schedule without a hash is never usable */
    mica_ks_init(&ks, NULL);
    CHECK_ERR(mica_ks_early(&ks, NULL, 0), MICA_E_STAGE);
}

/* each stage's secret disappears when the next exists */
static void wiped_on_advance(void)
{
    struct mica_keysched ks;
    uint8_t prev[32], ecdhe[32];

    memset(ecdhe, 7, sizeof(ecdhe));
    mica_ks_init(&ks, &mica_hash_sha256);
    CHECK_OK(mica_ks_early(&ks, NULL, 0));
    memcpy(prev, ks.secret.b, 32);
    CHECK_OK(mica_ks_handshake(&ks, ecdhe, sizeof(ecdhe)));
    CHECK(memcmp(prev, ks.secret.b, 32) != 0);
    memcpy(prev, ks.secret.b, 32);
    CHECK_OK(mica_ks_master(&ks));
    CHECK(memcmp(prev, ks.secret.b, 32) != 0);
    CHECK_OK(mica_ks_done(&ks));
    CHECK(mica_ct_is_zero(ks.secret.b, sizeof(ks.secret.b)));
    /* psk_ke: no (EC)DHE input means zeros, i.e. the same as 32 zero bytes */
    {
        struct mica_keysched k2;
        uint8_t zeros[32] = {0};
        mica_ks_init(&ks, &mica_hash_sha256);
        mica_ks_init(&k2, &mica_hash_sha256);
        CHECK_OK(mica_ks_early(&ks, NULL, 0));
        CHECK_OK(mica_ks_early(&k2, zeros, 32));
        CHECK_MEM("PSK-less early secret", ks.secret.b, k2.secret.b, 32);
        CHECK_OK(mica_ks_handshake(&ks, NULL, 0));
        CHECK_OK(mica_ks_handshake(&k2, zeros, 32));
        CHECK_MEM("psk_ke handshake secret", ks.secret.b, k2.secret.b, 32);
        mica_ks_clear(&ks);
        mica_ks_clear(&k2);
    }
}

static void key_update_and_exporters(void)
{
    const struct mica_hash_desc *h = &mica_hash_sha256;
    MICA_SECRET(t);
    MICA_SECRET(orig);
    uint8_t want[64], out[64], ctx_hash[32];
    MICA_SECRET(derived);

    /* RFC 8446 7.2: N+1 = HKDF-Expand-Label(N, "traffic upd", "", Hash.length) */
    fill(&t, 32, 3);
    fill(&orig, 32, 3);
    CHECK_OK(mica_ks_update_traffic(h, &t));
    CHECK(oracle_expand_label(h, orig.b, 32, "traffic upd", NULL, 0, want, 32));
    CHECK_MEM("traffic upd", t.b, want, 32);
    CHECK(t.len == 32);

    /* RFC 8446 7.5 exporter, spelled out with the oracle */
    fill(&orig, 32, 9);
    CHECK_OK(
        mica_ks_exporter(h, &orig, "EXPORTER-mica-test", 18, (const uint8_t *)"ctx", 3, out, 40));
    {
        uint8_t empty[32];
        CHECK_OK(mica_hash(h, NULL, 0, empty));
        CHECK(oracle_expand_label(h, orig.b, 32, "EXPORTER-mica-test", empty, 32, derived.b, 32));
        CHECK_OK(mica_hash(h, (const uint8_t *)"ctx", 3, ctx_hash));
        CHECK(oracle_expand_label(h, derived.b, 32, "exporter", ctx_hash, 32, want, 40));
    }
    CHECK_MEM("exporter", out, want, 40);
    /* an empty context is Hash("") -- not the same as no context in TLS 1.2, and the
     * same as a zero-length context in TLS 1.3 (RFC 8446 7.5) */
    CHECK_OK(mica_ks_exporter(h, &orig, "EXPORTER-mica-test", 18, NULL, 0, out, 40));
    CHECK(memcmp(out, want, 40) != 0);
    /* labels with a NUL byte or longer than HkdfLabel allows are refused */
    CHECK_ERR(mica_ks_exporter(h, &orig, "a\0b", 3, NULL, 0, out, 16), MICA_E_ARGUMENT);
    {
        char longl[300];
        memset(longl, 'x', sizeof(longl));
        CHECK_ERR(mica_ks_exporter(h, &orig, longl, 250, NULL, 0, out, 16), MICA_E_ARGUMENT);
        CHECK_OK(mica_ks_exporter(h, &orig, longl, 249, NULL, 0, out, 16));
        longl[249] = '\0';
        CHECK_OK(mica_ks_expand_label(h, &orig, longl, NULL, 0, out, 16));
        longl[249] = 'x';
        longl[250] = '\0';
        CHECK_ERR(mica_ks_expand_label(h, &orig, longl, NULL, 0, out, 16), MICA_E_ARGUMENT);
    }
    {
        uint8_t big[256] = {0};
        CHECK_ERR(mica_ks_expand_label(h, &orig, "x", big, 256, out, 16), MICA_E_ARGUMENT);
        CHECK_OK(mica_ks_expand_label(h, &orig, "x", big, 255, out, 16));
    }
    /* HKDF-Expand's own bound: 255 * HashLen */
    {
        static uint8_t okm[255 * 32 + 1];
        CHECK_OK(mica_hkdf_expand(h, orig.b, 32, NULL, 0, okm, 255 * 32));
        CHECK_ERR(mica_hkdf_expand(h, orig.b, 32, NULL, 0, okm, 255 * 32 + 1), MICA_E_ARGUMENT);
        CHECK_ERR(mica_hkdf_expand(h, orig.b, 31, NULL, 0, okm, 32), MICA_E_ARGUMENT);
    }
}

/* transcript: messages before the hash is chosen are replayed into it; peek is a
 * snapshot that does not disturb the running hash */
static void transcript(void)
{
    struct mica_transcript t;
    uint8_t a[32], b[32], all[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    mica_transcript_init(&t);
    CHECK_ERR(mica_transcript_hash(&t, a), MICA_E_INTERNAL);
    CHECK_ERR(mica_transcript_hrr(&t), MICA_E_INTERNAL);
    CHECK_OK(mica_transcript_add(&t, all, 3));
    CHECK_OK(mica_transcript_add(&t, all + 3, 2));
    CHECK_OK(mica_transcript_set_hash(&t, &mica_hash_sha256));
    CHECK_ERR(mica_transcript_set_hash(&t, &mica_hash_sha256), MICA_E_INTERNAL);
    CHECK_OK(mica_transcript_add(&t, all + 5, 3));
    CHECK_OK(mica_transcript_hash(&t, a));
    CHECK_OK(mica_transcript_hash(&t, b));
    CHECK_MEM("peek twice", a, b, 32);
    CHECK_OK(mica_hash(&mica_hash_sha256, all, 8, b));
    CHECK_MEM("transcript", a, b, 32);
    mica_transcript_clear(&t);
}

int main(void)
{
    cross_check();
    sha384_schedule();
    stage_order();
    wiped_on_advance();
    key_update_and_exporters();
    transcript();
    return check_exit("test_keysched");
}
