/*
 * Secrets do not outlive their use, and allocation failures are clean.
 *
 * 1. Every heap buffer freed while a handshake's worth of key material is in use --
 *    through mica's allocator seam and through libcrypto's allocator -- is scanned for
 *    every secret of that handshake (shared secret, stage secrets, traffic secrets,
 *    finished keys, AEAD keys and IVs). None may be found in freed memory.
 * 2. The same flow is run once per allocation it makes, failing that allocation: each
 *    run must end in MICA_E_NOMEM (never a crash), and leave no buffer behind.
 *
 * This test includes OpenSSL only to install libcrypto's memory hooks.
 */
#define _GNU_SOURCE /* memmem */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MICA_HAVE_MEMCHECK_H 1
#endif
#endif
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "check.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "tls/record.h"
#include "tls/transcript.h"

#define MAX_SECRETS 64
static uint8_t secrets[MAX_SECRETS][MICA_MAX_KX_SECRET_LEN];
static size_t secret_len[MAX_SECRETS];
static size_t secrets_n;
static size_t scanned, found;
static bool control; /* the scanner's own positive control: count, do not fail */

static void remember(const uint8_t *p, size_t len)
{
    if (secrets_n < MAX_SECRETS && len >= 12) {
        memcpy(secrets[secrets_n], p, len);
        secret_len[secrets_n++] = len;
    }
}

static void scan(const void *p, size_t size, const char *who)
{
    scanned++;
#ifdef MICA_HAVE_MEMCHECK_H
    /* a freed buffer may hold bytes nobody wrote (padding, unused room): under valgrind,
     * searching them is this test's own business, not an error of the code under test */
    VALGRIND_MAKE_MEM_DEFINED(p, size);
#endif
    for (size_t i = 0; i < secrets_n; i++) {
        size_t probe = secret_len[i] < 16 ? secret_len[i] : 16;
        if (size >= probe && memmem(p, size, secrets[i], probe) != NULL) {
            found++;
            CHECK_MSG(control, "secret #%zu (%zu bytes) found in a freed %s buffer of %zu bytes", i,
                      secret_len[i], who, size);
        }
    }
}

static void on_free(const void *p, size_t size, bool secret, void *ctx)
{
    (void)secret, (void)ctx;
    scan(p, size, "mica");
}

/* libcrypto's allocator, with a size header so frees can be scanned */
#define HDR 16
static void *c_malloc(size_t n, const char *file, int line)
{
    uint8_t *p = malloc(n + HDR);
    (void)file, (void)line;
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, &n, sizeof(n));
    return p + HDR;
}

static void c_free(void *q, const char *file, int line)
{
    uint8_t *p = q;
    size_t n;
    (void)file, (void)line;
    if (p == NULL) {
        return;
    }
    memcpy(&n, p - HDR, sizeof(n));
    scan(p, n, "libcrypto");
    free(p - HDR);
}

static void *c_realloc(void *q, size_t n, const char *file, int line)
{
    uint8_t *p = q, *r;
    size_t old;

    if (p == NULL) {
        return c_malloc(n, file, line);
    }
    memcpy(&old, p - HDR, sizeof(old));
    r = c_malloc(n, file, line);
    if (r == NULL) {
        return NULL;
    }
    memcpy(r, p, old < n ? old : n);
    c_free(p, file, line);
    return r;
}

struct flow {
    struct mica_transcript t;
    struct mica_keysched ks;
    struct mica_rec_dir w, r;
    mica_kx_key *client;
};

static void flow_free(struct flow *f)
{
    mica_transcript_clear(&f->t);
    mica_ks_clear(&f->ks);
    mica_rec_dir_clear(&f->w);
    mica_rec_dir_clear(&f->r);
    mica_kx_free(f->client);
    f->client = NULL;
}

/*
 * One handshake's key material through the real code paths: transcript, key exchange,
 * key schedule to the end, records in both epochs. When record is true, every secret is
 * remembered for the scan.
 */
static mica_err run_flow(struct flow *f, const struct mica_suite *s, const struct mica_group *g,
                         bool record_secrets)
{
    uint8_t share[MICA_MAX_KX_PUBLIC_LEN], sshare[MICA_MAX_KX_PUBLIC_LEN], th[MICA_MAX_HASH_LEN];
    uint8_t buf[256], key[MICA_MAX_AEAD_KEY_LEN], iv[MICA_AEAD_NONCE_LEN], *content;
    static const uint8_t hello[] = {1, 0, 0, 2, 3, 3};
    size_t share_len, sshare_len, n, content_len;
    enum mica_content_type type;
    MICA_KX_SHARED(cs);
    MICA_KX_SHARED(ss);
    MICA_SECRET(c_hs);
    MICA_SECRET(s_hs);
    MICA_SECRET(c_ap);
    MICA_SECRET(s_ap);
    MICA_SECRET(fk);

    mica_transcript_init(&f->t);
    mica_ks_init(&f->ks, s->hash);
    mica_rec_dir_init(&f->w, true);
    mica_rec_dir_init(&f->r, false);
    f->client = NULL;

    TRY(mica_transcript_add(&f->t, hello, sizeof(hello)));
    TRY(mica_kx_keygen(g, &f->client, share, sizeof(share), &share_len));
    TRY(mica_kx_encap(g, share, share_len, sshare, sizeof(sshare), &sshare_len, &ss));
    TRY(mica_kx_decap(f->client, sshare, sshare_len, &cs));
    TRY(mica_transcript_set_hash(&f->t, s->hash));
    TRY(mica_transcript_add(&f->t, hello, sizeof(hello)));
    TRY(mica_ks_early(&f->ks, NULL, 0));
    TRY(mica_ks_handshake(&f->ks, cs.b, cs.len));
    if (record_secrets) {
        remember(cs.b, cs.len);
        remember(f->ks.secret.b, f->ks.secret.len);
    }
    TRY(mica_transcript_hash(&f->t, th));
    TRY(mica_ks_hs_traffic(&f->ks, th, &c_hs, &s_hs));
    TRY(mica_ks_master(&f->ks));
    TRY(mica_ks_app_traffic(&f->ks, th, &c_ap, &s_ap));
    if (record_secrets) {
        remember(f->ks.secret.b, f->ks.secret.len);
        remember(c_hs.b, c_hs.len);
        remember(s_hs.b, s_hs.len);
        remember(c_ap.b, c_ap.len);
        remember(s_ap.b, s_ap.len);
        TRY(mica_ks_finished_key(s->hash, &s_hs, &fk));
        remember(fk.b, fk.len);
        TRY(mica_ks_traffic_key(s, &s_hs, key, iv));
        remember(key, s->aead->key_len);
        remember(iv, sizeof(iv));
        TRY(mica_ks_traffic_key(s, &s_ap, key, iv));
        remember(key, s->aead->key_len);
        remember(iv, sizeof(iv));
        mica_mem_wipe(key, sizeof(key));
        mica_mem_wipe(iv, sizeof(iv));
    }
    TRY(mica_ks_done(&f->ks));
    /* records under the handshake key, then the application key */
    TRY(mica_rec_set_key(&f->w, s, &s_hs, MICA_EPOCH_HANDSHAKE));
    TRY(mica_rec_set_key(&f->r, s, &s_hs, MICA_EPOCH_HANDSHAKE));
    memset(buf + MICA_RECORD_HEADER_LEN, 0x61, 40);
    TRY(mica_rec_seal(&f->w, MICA_CT_HANDSHAKE, buf, sizeof(buf), 40, 3, 0x0303, &n));
    TRY(mica_rec_open(&f->r, buf, n, &type, &content, &content_len));
    TRY(mica_rec_set_key(&f->w, s, &s_ap, MICA_EPOCH_APPLICATION));
    TRY(mica_rec_set_key(&f->r, s, &s_ap, MICA_EPOCH_APPLICATION));
    TRY(mica_rec_seal(&f->w, MICA_CT_APPLICATION_DATA, buf, sizeof(buf), 40, 0, 0x0303, &n));
    TRY(mica_rec_open(&f->r, buf, n, &type, &content, &content_len));
    return MICA_OK;
}

static void no_secret_in_freed_memory(void)
{
    struct mica_mem_hooks hooks = {0, on_free, NULL};

    for (size_t si = 0; si < mica_suites_n; si++) {
        for (size_t gi = 0; gi < mica_groups_n; gi++) {
            struct flow f;
            secrets_n = 0;
            mica_mem_set_hooks(&hooks);
            CHECK_OK(run_flow(&f, &mica_suites[si], &mica_groups[gi], true));
            flow_free(&f);
            mica_mem_set_hooks(NULL);
        }
    }
    printf("scanned %zu freed buffers for secrets, found %zu\n", scanned, found);
    CHECK(scanned > 100);

    /* the scanner itself: a secret freed without wiping is found, once wiped it is not */
    {
        uint8_t *p = mica_mem_alloc(64);
        size_t found_before = found;
        control = true;
        mica_mem_set_hooks(&hooks);
        memcpy(p + 7, secrets[0], secret_len[0]);
        mica_mem_free(p);
        CHECK(found == found_before + 1);
        p = mica_mem_alloc(64);
        memcpy(p + 7, secrets[0], secret_len[0]);
        mica_mem_free_secret(p);
        CHECK(found == found_before + 1);
        mica_mem_set_hooks(NULL);
        control = false;
    }
}

static void every_allocation_fails_cleanly(void)
{
    const struct mica_suite *s = mica_suite_by_name("TLS_AES_256_GCM_SHA384");
    const struct mica_group *g = mica_group_by_name("secp256r1");
    size_t base = mica_mem_live(), total, failures = 0;
    struct mica_mem_hooks hooks = {0, NULL, NULL};
    struct flow f;

    /* count the allocations of a successful run */
    mica_mem_set_hooks(&hooks);
    CHECK_OK(run_flow(&f, s, g, false));
    total = mica_mem_alloc_count();
    flow_free(&f);
    CHECK(mica_mem_live() == base);
    CHECK(total >= 5);
    for (size_t n = 1; n <= total; n++) {
        mica_err err;
        hooks.fail_at = n;
        mica_mem_set_hooks(&hooks);
        err = run_flow(&f, s, g, false);
        flow_free(&f);
        CHECK_MSG(err == MICA_E_NOMEM, "allocation %zu of %zu failed: got %s", n, total,
                  mica_err_name(err));
        CHECK_MSG(mica_mem_live() == base, "allocation %zu failed: %zu buffers leaked", n,
                  mica_mem_live() - base);
        failures += err == MICA_E_NOMEM;
    }
    mica_mem_set_hooks(NULL);
    printf("failed each of %zu allocations in turn: %zu clean NOMEM\n", total, failures);
}

int main(void)
{
    /* before libcrypto allocates anything */
    CHECK(CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free) == 1);
    no_secret_in_freed_memory();
    every_allocation_fails_cleanly();
    return check_exit("test_secrets");
}
