/*
 * mica-bench: what mica's record protection, key schedule and key exchange cost, in
 * process CPU time (CLOCK_PROCESS_CPUTIME_ID), measured on the internal API directly so
 * that no handshake logic or I/O hides in the figures.
 *
 * Output: one line per figure, "<name ...> <value> <unit>": the last two fields are
 * the value and its unit, everything before them names the figure. bench/run.sh puts
 * these beside `openssl speed` run on the same machine in the same run.
 *
 *     mica-bench                 about 0.5 s of CPU per figure
 *     mica-bench --quick         about 0.1 s per figure (a smoke test; exits 0 on success)
 *     mica-bench --seconds 2     about 2 s per figure
 *     mica-bench --only kx-decap only the figures whose name contains "kx-decap"
 *
 * Figures:
 *   seal|open <suite> 16384 MB/s    one full application_data record per call, in place
 *   seal|open <suite> 256 MB/s      the same with 256-byte records: per-record costs show
 *   evp-record <suite> 16384 MB/s   the floor: the libcrypto calls one TLS record needs
 *                                   (nonce, 5-byte header as AAD, content and type byte,
 *                                   final, tag) on a keyed EVP_CIPHER_CTX, no mica code
 *                                   (GCM and ChaCha20-Poly1305; CCM's calls differ)
 *   set-key <suite> keys/s          mica_rec_set_key: traffic key and IV, AEAD context
 *   keysched <suite> handshakes/s   the key schedule of one full (EC)DHE handshake
 *   kx <group> rounds/s             keygen + encap + decap: both sides of one key exchange
 *   kx-keygen <group> op/s          one key pair
 *   kx-decap <group> op/s           one peer share imported, checked and used (one ECDH)
 *   kx-encap <group> op/s           the server's side: the client's share checked, a key
 *                                   pair made, one ECDH (decapsulation for ML-KEM hybrids)
 *   sign|verify <scheme> op/s       one CertificateVerify-sized signature (130 bytes signed)
 *                                   with the test key of that type (tests/vectors/certs)
 *
 * MB is 10^6 bytes of record content, as in `openssl speed`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "crypto/gate.h"
#include "tls/keysched.h"
#include "tls/record.h"

/* Record sizes: full records (bulk transfer, where the cipher dominates) and small
 * ones (interactive traffic, where any per-record cost of mica's shows). */
#define FULL_CONTENT 16384u
#define SMALL_CONTENT 256u
/* Bytes of records per timed step: enough that the two clock reads around a step
 * (about 0.2 us each, a system call) stay well under 1% of it, few enough that the
 * records stay in L2, like the single buffer `openssl speed` reuses. */
#define STEP_CONTENT (32u * FULL_CONTENT)
#define ARENA (1u << 20)
#define HANDSHAKES_PER_STEP 16u
#define KX_PER_STEP 4u

/* the records of one step, each at a 64-byte aligned slot: work is sealed or opened in
 * place, sealed keeps the ciphertext that open_step restores */
static _Alignas(64) uint8_t work[ARENA];
static _Alignas(64) uint8_t sealed[ARENA];

static double cpu_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
        perror("mica-bench: clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * One step of a benchmark: do some work, add the CPU seconds its timed part took to
 * *secs and the units of work done (bytes, handshakes, rounds) to *units. Preparation
 * that is not part of the figure (restoring ciphertext before open) stays outside the
 * timed part.
 */
typedef mica_err (*step_fn)(void *ctx, double *secs, double *units);

/* measure: one untimed warm-up step (lazy fetches, page faults, caches), then steps
 * until min_secs of CPU time have been measured; *rate = units per second. */
static mica_err measure(step_fn step, void *ctx, double min_secs, double *rate)
{
    double secs = 0, units = 0, warm_secs = 0, warm_units = 0;

    TRY(step(ctx, &warm_secs, &warm_units));
    while (secs < min_secs) {
        TRY(step(ctx, &secs, &units));
    }
    *rate = units / secs;
    return MICA_OK;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed + i * 7u);
    }
}

static void secret_for(const struct mica_hash_desc *h, uint8_t seed, mica_secret *s)
{
    fill(s->b, h->len, seed);
    s->len = h->len;
}

/* ---- bulk record protection ------------------------------------------------------ */

struct bulk {
    const struct mica_suite *suite;
    struct mica_rec_dir wr, rd; /* the two ends of one direction, same traffic secret */
    size_t content_len;         /* of each record */
    size_t rec_len;             /* of each sealed record: header, content, type, tag */
    size_t stride;              /* from one record's slot to the next */
    size_t n;                   /* records per step */
};

static mica_err bulk_init(struct bulk *b, const struct mica_suite *s, size_t content_len)
{
    MICA_SECRET(traffic);

    b->suite = s;
    b->content_len = content_len;
    b->rec_len = MICA_RECORD_HEADER_LEN + content_len + 1 + s->aead->tag_len;
    b->stride = (b->rec_len + 63) & ~(size_t)63;
    b->n = STEP_CONTENT / content_len;
    if (b->n * b->stride > ARENA) {
        b->n = ARENA / b->stride;
    }
    mica_rec_dir_init(&b->wr, true);
    mica_rec_dir_init(&b->rd, false);
    secret_for(s->hash, 0x42, &traffic);
    TRY(mica_rec_set_key(&b->wr, s, &traffic, MICA_EPOCH_APPLICATION));
    TRY(mica_rec_set_key(&b->rd, s, &traffic, MICA_EPOCH_APPLICATION));
    /* the records open() will see: sequence numbers 0 .. n-1 */
    for (size_t i = 0; i < b->n; i++) {
        uint8_t *rec = sealed + i * b->stride;
        size_t len;
        fill(rec + MICA_RECORD_HEADER_LEN, content_len, (uint8_t)i);
        TRY(mica_rec_seal(&b->wr, MICA_CT_APPLICATION_DATA, rec, b->stride, content_len, 0, 0x0303,
                          &len));
        ENSURE(len == b->rec_len, MICA_E_INTERNAL);
        fill(work + i * b->stride + MICA_RECORD_HEADER_LEN, content_len, (uint8_t)i);
    }
    return MICA_OK;
}

static void bulk_clear(struct bulk *b)
{
    mica_rec_dir_clear(&b->wr);
    mica_rec_dir_clear(&b->rd);
}

/* check_content: content starts as fill(seed) wrote it. */
static mica_err check_content(const uint8_t *content, size_t len, uint8_t seed)
{
    uint8_t want[64];

    len = len < sizeof(want) ? len : sizeof(want);
    fill(want, len, seed);
    ENSURE(memcmp(content, want, len) == 0, MICA_E_INTERNAL);
    return MICA_OK;
}

static mica_err seal_step(void *ctx, double *secs, double *units)
{
    struct bulk *b = ctx;
    size_t len;
    double t0;

    /* Sealing the same buffers again and again encrypts ciphertext: the cost is the
     * same. The sequence number restarts each step so that a long run never meets the
     * key's usage limit; the repeated nonces never leave this process. */
    b->wr.seq = 0;
    t0 = cpu_now();
    for (size_t i = 0; i < b->n; i++) {
        TRY(mica_rec_seal(&b->wr, MICA_CT_APPLICATION_DATA, work + i * b->stride, b->stride,
                          b->content_len, 0, 0x0303, &len));
    }
    *secs += cpu_now() - t0;
    *units += (double)b->n * (double)b->content_len;
    return MICA_OK;
}

static mica_err open_step(void *ctx, double *secs, double *units)
{
    struct bulk *b = ctx;
    enum mica_content_type type = MICA_CT_INVALID;
    uint8_t *content = NULL;
    size_t len = 0;
    double t0;

    /* open() decrypts in place: put the ciphertext back first (not timed) */
    memcpy(work, sealed, b->n * b->stride);
    b->rd.seq = 0;
    t0 = cpu_now();
    for (size_t i = 0; i < b->n; i++) {
        TRY(mica_rec_open(&b->rd, work + i * b->stride, b->rec_len, &type, &content, &len));
    }
    *secs += cpu_now() - t0;
    *units += (double)b->n * (double)b->content_len;
    /* the last record decrypted to what was sealed: the figure measured real work */
    ENSURE(type == MICA_CT_APPLICATION_DATA && len == b->content_len, MICA_E_INTERNAL);
    return check_content(content, len, (uint8_t)(b->n - 1));
}

/* ---- the libcrypto floor of one record -------------------------------------------- */

/*
 * What any TLS stack on EVP pays per record: the same calls mica's seal makes
 * (src/crypto/aead.c), straight on a keyed context. OpenSSL 3.0's `openssl speed -aead`
 * runs ChaCha20-Poly1305 as one stream (no per-record nonce or tag), so it cannot say
 * this; the ratio seal/evp-record is mica's own overhead per record.
 */
struct evp_rec {
    EVP_CIPHER_CTX *ctx;
    size_t content_len; /* of each record, type byte included */
    size_t stride;
    size_t n;
};

static mica_err evp_rec_init(struct evp_rec *e, const struct mica_suite *s, size_t content_len)
{
    const uint8_t key[32] = {0x42};

    e->content_len = content_len + 1;
    e->stride = (MICA_RECORD_HEADER_LEN + e->content_len + 16 + 63) & ~(size_t)63;
    e->n = STEP_CONTENT / content_len;
    if (e->n * e->stride > ARENA) {
        e->n = ARENA / e->stride;
    }
    e->ctx = EVP_CIPHER_CTX_new();
    ENSURE(e->ctx != NULL, MICA_E_NOMEM);
    ENSURE(EVP_CipherInit_ex2(e->ctx, mica_cr_cipher(s->aead), NULL, NULL, 1, NULL) == 1 &&
               EVP_CIPHER_CTX_ctrl(e->ctx, EVP_CTRL_AEAD_SET_IVLEN, MICA_AEAD_NONCE_LEN, NULL) ==
                   1 &&
               EVP_CIPHER_CTX_get_key_length(e->ctx) <= (int)sizeof(key) &&
               EVP_CipherInit_ex2(e->ctx, NULL, key, NULL, 1, NULL) == 1,
           MICA_E_CRYPTO);
    return MICA_OK;
}

static mica_err evp_rec_step(void *ctx, double *secs, double *units)
{
    struct evp_rec *e = ctx;
    uint8_t nonce[MICA_AEAD_NONCE_LEN] = {0};
    double t0 = cpu_now();

    for (size_t i = 0; i < e->n; i++) {
        uint8_t *rec = work + i * e->stride;
        uint8_t tag[16];
        int n = 0, fin = 0;
        OSSL_PARAM params[2];

        nonce[MICA_AEAD_NONCE_LEN - 1] = (uint8_t)i;
        nonce[MICA_AEAD_NONCE_LEN - 2] = (uint8_t)(i >> 8);
        ENSURE(EVP_CipherInit_ex2(e->ctx, NULL, NULL, nonce, -1, NULL) == 1 &&
                   EVP_CipherUpdate(e->ctx, NULL, &n, rec, MICA_RECORD_HEADER_LEN) == 1 &&
                   EVP_CipherUpdate(e->ctx, rec + MICA_RECORD_HEADER_LEN, &n,
                                    rec + MICA_RECORD_HEADER_LEN, (int)e->content_len) == 1 &&
                   EVP_CipherFinal_ex(e->ctx, rec + MICA_RECORD_HEADER_LEN + n, &fin) == 1,
               MICA_E_CRYPTO);
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sizeof(tag));
        params[1] = OSSL_PARAM_construct_end();
        ENSURE(EVP_CIPHER_CTX_get_params(e->ctx, params) == 1, MICA_E_CRYPTO);
        memcpy(rec + MICA_RECORD_HEADER_LEN + e->content_len, tag, sizeof(tag));
    }
    *secs += cpu_now() - t0;
    *units += (double)e->n * (double)(e->content_len - 1);
    return MICA_OK;
}

/* ---- installing a traffic key ---------------------------------------------------- */

struct setkey {
    const struct mica_suite *suite;
    struct mica_rec_dir d;
    mica_secret traffic;
};

#define SETKEYS_PER_STEP 64u

static mica_err setkey_step(void *ctx, double *secs, double *units)
{
    struct setkey *k = ctx;
    double t0 = cpu_now();

    for (size_t i = 0; i < SETKEYS_PER_STEP; i++) {
        TRY(mica_rec_set_key(&k->d, k->suite, &k->traffic, MICA_EPOCH_APPLICATION));
    }
    *secs += cpu_now() - t0;
    *units += SETKEYS_PER_STEP;
    return MICA_OK;
}

/* ---- the key schedule of one handshake ------------------------------------------- */

struct ks_bench {
    const struct mica_suite *suite;
    uint8_t th[MICA_MAX_HASH_LEN]; /* stands for every transcript hash */
    uint8_t shared[32];            /* the (EC)DHE secret, as X25519 gives it */
};

/*
 * full_schedule: RFC 8446 section 7 for one (EC)DHE handshake without PSK, as one end
 * runs it: every secret up to the resumption master secret, the four traffic keys and
 * IVs (handshake and application, both directions) and the two Finished values.
 * That is 23 HMACs and 2 hashes of the empty string, in one scope of shared HMAC
 * contexts (crypto.h), as the engine runs them (it opens one per handshake message).
 */
static mica_err full_schedule(struct mica_keysched *ks, const struct ks_bench *k)
{
    const struct mica_suite *s = k->suite;
    uint8_t key[MICA_MAX_AEAD_KEY_LEN], iv[MICA_AEAD_NONCE_LEN], fin[MICA_MAX_HASH_LEN];
    MICA_SECRET(c_hs);
    MICA_SECRET(s_hs);
    MICA_SECRET(c_ap);
    MICA_SECRET(s_ap);
    MICA_SECRET(exp_master);
    MICA_SECRET(res_master);

    TRY(mica_ks_early(ks, NULL, 0));
    TRY(mica_ks_handshake(ks, k->shared, sizeof(k->shared)));
    TRY(mica_ks_hs_traffic(ks, k->th, &c_hs, &s_hs));
    TRY(mica_ks_traffic_key(s, &s_hs, key, iv));
    TRY(mica_ks_traffic_key(s, &c_hs, key, iv));
    TRY(mica_ks_finished(s->hash, &s_hs, k->th, fin));
    TRY(mica_ks_master(ks));
    TRY(mica_ks_app_traffic(ks, k->th, &c_ap, &s_ap));
    TRY(mica_ks_exporter_master(ks, k->th, &exp_master));
    TRY(mica_ks_finished(s->hash, &c_hs, k->th, fin));
    TRY(mica_ks_traffic_key(s, &s_ap, key, iv));
    TRY(mica_ks_traffic_key(s, &c_ap, key, iv));
    TRY(mica_ks_resumption_master(ks, k->th, &res_master));
    TRY(mica_ks_done(ks));
    mica_mem_wipe(key, sizeof(key));
    mica_mem_wipe(iv, sizeof(iv));
    return MICA_OK;
}

static mica_err keysched_step(void *ctx, double *secs, double *units)
{
    const struct ks_bench *k = ctx;
    struct mica_keysched ks;
    mica_err err = MICA_OK;
    double t0 = cpu_now();

    for (size_t i = 0; i < HANDSHAKES_PER_STEP && err == MICA_OK; i++) {
        mica_ks_init(&ks, k->suite->hash);
        mica_mac_scope_begin();
        err = full_schedule(&ks, k);
        mica_mac_scope_end();
        mica_ks_clear(&ks);
    }
    *secs += cpu_now() - t0;
    *units += HANDSHAKES_PER_STEP;
    return err;
}

/* ---- key exchange ---------------------------------------------------------------- */

struct kx_bench {
    const struct mica_group *g;
    mica_kx_key *key;                      /* the client's key, for kx-decap */
    uint8_t share[MICA_MAX_KX_PUBLIC_LEN]; /* the server's share, for kx-decap */
    size_t share_len;
};

/* kx_round: both ends of one key exchange, as in a handshake: the client makes a key
 * pair, the server encapsulates to its share, the client decapsulates. */
static mica_err kx_round(const struct mica_group *g)
{
    uint8_t client_share[MICA_MAX_KX_PUBLIC_LEN], server_share[MICA_MAX_KX_PUBLIC_LEN];
    size_t client_len, server_len;
    mica_kx_key *key;
    mica_err err;
    MICA_KX_SHARED(client_secret);
    MICA_KX_SHARED(server_secret);

    TRY(mica_kx_keygen(g, &key, client_share, sizeof(client_share), &client_len));
    err = mica_kx_encap(g, client_share, client_len, server_share, sizeof(server_share),
                        &server_len, &server_secret);
    if (err == MICA_OK) {
        err = mica_kx_decap(key, server_share, server_len, &client_secret);
    }
    mica_kx_free(key);
    TRY(err);
    ENSURE(client_secret.len == server_secret.len && client_secret.len == g->secret_len &&
               mica_ct_eq(client_secret.b, server_secret.b, client_secret.len),
           MICA_E_INTERNAL);
    return MICA_OK;
}

static mica_err kx_step(void *ctx, double *secs, double *units)
{
    const struct kx_bench *k = ctx;
    double t0 = cpu_now();

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(kx_round(k->g));
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

static mica_err keygen_step(void *ctx, double *secs, double *units)
{
    const struct kx_bench *k = ctx;
    uint8_t share[MICA_MAX_KX_PUBLIC_LEN];
    size_t len;
    mica_kx_key *key;
    double t0 = cpu_now();

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(mica_kx_keygen(k->g, &key, share, sizeof(share), &len));
        mica_kx_free(key);
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

static mica_err decap_step(void *ctx, double *secs, double *units)
{
    const struct kx_bench *k = ctx;
    double t0 = cpu_now();
    MICA_KX_SHARED(secret);

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(mica_kx_decap(k->key, k->share, k->share_len, &secret));
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

static mica_err encap_step(void *ctx, double *secs, double *units)
{
    const struct kx_bench *k = ctx;
    uint8_t share[MICA_MAX_KX_PUBLIC_LEN];
    size_t len;
    double t0 = cpu_now();
    MICA_KX_SHARED(secret);

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(mica_kx_encap(k->g, k->share, k->share_len, share, sizeof(share), &len, &secret));
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

/* ---- signatures: CertificateVerify ------------------------------------------------ */

#ifndef MICA_BENCH_CERTS
#define MICA_BENCH_CERTS "tests/vectors/certs"
#endif

struct sig_bench {
    const struct mica_sig_scheme *s;
    mica_pkey *key;
    uint8_t msg[130]; /* as long as a TLS 1.3 CertificateVerify's signed content */
    uint8_t sig[1024];
    size_t sig_len;
};

static mica_err sign_step(void *ctx, double *secs, double *units)
{
    struct sig_bench *b = ctx;
    double t0 = cpu_now();

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(mica_sig_sign(b->s, b->key, b->msg, sizeof(b->msg), b->sig, sizeof(b->sig),
                          &b->sig_len));
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

static mica_err verify_step(void *ctx, double *secs, double *units)
{
    struct sig_bench *b = ctx;
    double t0 = cpu_now();

    for (size_t i = 0; i < KX_PER_STEP; i++) {
        TRY(mica_sig_verify(b->s, b->key, b->msg, sizeof(b->msg), b->sig, b->sig_len));
    }
    *secs += cpu_now() - t0;
    *units += KX_PER_STEP;
    return MICA_OK;
}

/* ---- driver ---------------------------------------------------------------------- */

static void check(mica_err err, const char *figure, const char *name)
{
    if (err != MICA_OK) {
        fprintf(stderr, "mica-bench: %s %s: %s (%s)\n", figure, name, mica_err_sentence(err),
                mica_err_name(err));
        exit(1);
    }
}

/* --only: run only the figures whose "<figure> <name>" contains this string */
static const char *only;

static bool wanted(const char *figure, const char *name)
{
    char full[128];
    size_t f = strlen(figure), n = strlen(name);

    if (only == NULL) {
        return true;
    }
    if (f + 1 + n >= sizeof(full)) {
        return false;
    }
    memcpy(full, figure, f);
    full[f] = ' ';
    memcpy(full + f + 1, name, n + 1);
    return strstr(full, only) != NULL;
}

static void report(const char *figure, const char *name, double value, const char *unit)
{
    printf("%s %s %.1f %s\n", figure, name, value, unit);
    fflush(stdout);
}

/* record_name: "<suite> <content bytes>", as the seal and open figures are named */
static bool record_name(char *out, size_t cap, const char *suite, size_t size)
{
    char digits[24];
    size_t n = 0, len = strlen(suite);

    do {
        digits[n++] = (char)('0' + size % 10);
        size /= 10;
    } while (size > 0 && n < sizeof(digits));
    if (len + 1 + n + 1 > cap) {
        return false;
    }
    memcpy(out, suite, len);
    out[len++] = ' ';
    while (n > 0) {
        out[len++] = digits[--n];
    }
    out[len] = '\0';
    return true;
}

static void bench_suite(const struct mica_suite *s, double min_secs)
{
    static const size_t sizes[] = {FULL_CONTENT, SMALL_CONTENT};
    struct bulk b;
    struct setkey k;
    struct ks_bench ksb;
    double rate;

    for (size_t i = 0; i < MICA_ARRAY_LEN(sizes); i++) {
        char name[96];
        if (!record_name(name, sizeof(name), s->name, sizes[i])) {
            continue;
        }
        if (!wanted("seal", name) && !wanted("open", name)) {
            continue;
        }
        check(bulk_init(&b, s, sizes[i]), "setup", name);
        if (wanted("seal", name)) {
            check(measure(seal_step, &b, min_secs, &rate), "seal", name);
            report("seal", name, rate / 1e6, "MB/s");
        }
        if (wanted("open", name)) {
            check(measure(open_step, &b, min_secs, &rate), "open", name);
            report("open", name, rate / 1e6, "MB/s");
        }
        bulk_clear(&b);
    }
    if (s->aead->id != MICA_AEAD_AES_128_CCM && s->aead->id != MICA_AEAD_AES_128_CCM_8) {
        char name[96];
        struct evp_rec e;
        if (record_name(name, sizeof(name), s->name, FULL_CONTENT) && wanted("evp-record", name)) {
            check(evp_rec_init(&e, s, FULL_CONTENT), "setup", name);
            check(measure(evp_rec_step, &e, min_secs, &rate), "evp-record", name);
            report("evp-record", name, rate / 1e6, "MB/s");
            EVP_CIPHER_CTX_free(e.ctx);
        }
    }

    if (wanted("set-key", s->name)) {
        k.suite = s;
        mica_rec_dir_init(&k.d, true);
        secret_for(s->hash, 0x17, &k.traffic);
        check(measure(setkey_step, &k, min_secs, &rate), "set-key", s->name);
        report("set-key", s->name, rate, "keys/s");
        mica_rec_dir_clear(&k.d);
        mica_secret_wipe(&k.traffic);
    }

    /* one key schedule figure per hash: the first suite with SHA-256, the one with
     * SHA-384 */
    if ((s == &mica_suites[0] || s->hash->id == MICA_HASH_SHA384) && wanted("keysched", s->name)) {
        ksb.suite = s;
        fill(ksb.th, sizeof(ksb.th), 0x55);
        fill(ksb.shared, sizeof(ksb.shared), 0x66);
        check(measure(keysched_step, &ksb, min_secs, &rate), "keysched", s->name);
        report("keysched", s->name, rate, "handshakes/s");
    }
}

static void bench_group(const struct mica_group *g, double min_secs)
{
    struct kx_bench k;
    uint8_t client_share[MICA_MAX_KX_PUBLIC_LEN];
    size_t client_len;
    double rate;
    MICA_KX_SHARED(server_secret);

    k.g = g;
    if (wanted("kx", g->name)) {
        check(measure(kx_step, &k, min_secs, &rate), "kx", g->name);
        report("kx", g->name, rate, "rounds/s");
    }
    if (wanted("kx-keygen", g->name)) {
        check(measure(keygen_step, &k, min_secs, &rate), "kx-keygen", g->name);
        report("kx-keygen", g->name, rate, "op/s");
    }
    if (wanted("kx-decap", g->name) || wanted("kx-encap", g->name)) {
        check(mica_kx_keygen(g, &k.key, client_share, sizeof(client_share), &client_len), "setup",
              g->name);
        check(mica_kx_encap(g, client_share, client_len, k.share, sizeof(k.share), &k.share_len,
                            &server_secret),
              "setup", g->name);
        if (wanted("kx-decap", g->name)) {
            check(measure(decap_step, &k, min_secs, &rate), "kx-decap", g->name);
            report("kx-decap", g->name, rate, "op/s");
        }
        if (wanted("kx-encap", g->name)) {
            /* the server's side: the client's share checked, a key pair, one ECDH */
            memcpy(k.share, client_share, client_len);
            k.share_len = client_len;
            check(measure(encap_step, &k, min_secs, &rate), "kx-encap", g->name);
            report("kx-encap", g->name, rate, "op/s");
        }
        mica_kx_free(k.key);
    }
}

/* bench_sig: sign and verify with the test key `file` (tests/vectors/certs) */
static void bench_sig(const char *scheme, const char *file, double min_secs)
{
    struct sig_bench b;
    char path[512];
    uint8_t pem[8192];
    size_t n;
    double rate;
    FILE *f;

    if (!wanted("sign", scheme) && !wanted("verify", scheme)) {
        return;
    }
    memset(&b, 0, sizeof(b));
    b.s = mica_sig_scheme_by_name(scheme);
    snprintf(path, sizeof(path), "%s/%s", MICA_BENCH_CERTS, file);
    f = fopen(path, "rb");
    if (b.s == NULL || f == NULL) {
        fprintf(stderr, "mica-bench: %s: cannot read %s\n", scheme, path);
        exit(1);
    }
    n = fread(pem, 1, sizeof(pem), f);
    fclose(f);
    check(mica_pkey_from_pem(pem, n, &b.key), "setup", scheme);
    fill(b.msg, sizeof(b.msg), 0x20);
    check(mica_sig_sign(b.s, b.key, b.msg, sizeof(b.msg), b.sig, sizeof(b.sig), &b.sig_len),
          "setup", scheme);
    if (wanted("sign", scheme)) {
        check(measure(sign_step, &b, min_secs, &rate), "sign", scheme);
        report("sign", scheme, rate, "op/s");
    }
    if (wanted("verify", scheme)) {
        check(measure(verify_step, &b, min_secs, &rate), "verify", scheme);
        report("verify", scheme, rate, "op/s");
    }
    mica_pkey_free(b.key);
}

/* --list suites|groups: what this mica offers with this libcrypto, one name a line */
static int list(const char *what)
{
    if (strcmp(what, "suites") == 0) {
        for (size_t i = 0; i < mica_suites_n; i++) {
            if (mica_cr_suite_available(&mica_suites[i])) {
                printf("%s\n", mica_suites[i].name);
            }
        }
        return 0;
    }
    if (strcmp(what, "groups") == 0) {
        for (size_t i = 0; i < mica_groups_n; i++) {
            if (mica_cr_group_available(&mica_groups[i])) {
                printf("%s\n", mica_groups[i].name);
            }
        }
        return 0;
    }
    fprintf(stderr, "mica-bench: --list wants 'suites' or 'groups'\n");
    return 2;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mica-bench [--quick | --seconds S] [--only TEXT] | --list suites|groups\n"
               "  measures mica's record protection, key schedule and key exchange;\n"
               "  prints one line per figure: <name ...> <value> <unit>\n"
               "  --quick      about 0.1 s of CPU time per figure (smoke test)\n"
               "  --seconds S  about S seconds per figure (default 0.5)\n"
               "  --only TEXT  only the figures whose name contains TEXT, e.g.\n"
               "               --only 'seal TLS_AES_128_GCM' or --only kx-decap\n"
               "  --list suites|groups  the names this build offers, one a line\n");
}

int main(int argc, char **argv)
{
    double min_secs = 0.5;
    const char *list_what = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            min_secs = 0.1;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end;
            min_secs = strtod(argv[++i], &end);
            if (*end != '\0' || !(min_secs > 0 && min_secs <= 600)) {
                fprintf(stderr, "mica-bench: --seconds wants a number in (0, 600]\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc) {
            list_what = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    check(mica_cr_init(), "setup", "libcrypto");
    if (list_what != NULL) {
        return list(list_what);
    }

    for (size_t i = 0; i < mica_suites_n; i++) {
        if (!mica_cr_suite_available(&mica_suites[i])) {
            fprintf(stderr, "mica-bench: %s: not offered by this libcrypto; skipped\n",
                    mica_suites[i].name);
            continue;
        }
        bench_suite(&mica_suites[i], min_secs);
    }
    for (size_t i = 0; i < mica_groups_n; i++) {
        if (!mica_cr_group_available(&mica_groups[i])) {
            fprintf(stderr, "mica-bench: %s: not offered by this libcrypto; skipped\n",
                    mica_groups[i].name);
            continue;
        }
        bench_group(&mica_groups[i], min_secs);
    }
    bench_sig("ecdsa_secp256r1_sha256", "ecdsa-p256.key", min_secs);
    bench_sig("rsa_pss_rsae_sha256", "rsa2048.key", min_secs);
    bench_sig("ed25519", "ed25519.key", min_secs);
    return 0;
}
