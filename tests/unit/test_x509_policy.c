/*
 * The verification policy of src/x509/verify.c on the checked-in test PKI
 * (tests/vectors/certs) and OCSP responses (tests/vectors/ocsp): names per RFC 6125, time,
 * trust, strength, purpose, pins and stapled OCSP, each failure with its code and the
 * words of its sentence.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "vec.h"
#include "base/mem.h"
#include "x509/internal.h"
#include "x509/x509.h"

struct chain {
    uint8_t *der[4];
    size_t len[4];
    size_t n;
    uint64_t not_before_ms, not_after_ms; /* the leaf's */
};

static void load(const char *rel, struct chain *c)
{
    FILE *f = fopen(vec_path(rel), "r");
    X509 *x;

    memset(c, 0, sizeof(*c));
    CHECK_MSG(f != NULL, "cannot open %s", rel);
    while (f != NULL && c->n < 4 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        unsigned char *p = NULL;
        int k = i2d_X509(x, &p);
        CHECK(k > 0);
        if (c->n == 0) {
            struct tm a, b;
            CHECK(ASN1_TIME_to_tm(X509_get0_notBefore(x), &a) == 1 &&
                  ASN1_TIME_to_tm(X509_get0_notAfter(x), &b) == 1);
            c->not_before_ms = (uint64_t)timegm(&a) * 1000u;
            c->not_after_ms = (uint64_t)timegm(&b) * 1000u;
        }
        c->der[c->n] = p;
        c->len[c->n++] = (size_t)k;
        X509_free(x);
    }
    if (f != NULL) {
        fclose(f);
    }
}

static void unload(struct chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        OPENSSL_free(c->der[i]);
    }
}

static uint8_t *ocsp(const char *name, size_t *len)
{
    char rel[64];

    snprintf(rel, sizeof(rel), "ocsp/%s", name);
    return (uint8_t *)vec_read_file(vec_path(rel), len);
}

static mica_x509_store *store;

/* run: verify c under p; check the code and that the sentence holds `words` */
static void run(const char *what, const struct chain *c, const struct mica_x509_policy *p,
                mica_err want, const char *words)
{
    char why[512];
    mica_err got = mica_x509_verify(store, (const uint8_t *const *)c->der, c->len, c->n, p, why,
                                    sizeof(why), NULL);

    CHECK_MSG(got == want, "%s: got %s (%s), want %s", what, mica_err_name(got), why,
              mica_err_name(want));
    CHECK_MSG(words == NULL || strstr(why, words) != NULL, "%s: '%s' lacks '%s'", what, why, words);
}

static struct mica_x509_policy at(const struct chain *c, const char *name)
{
    struct mica_x509_policy p;

    memset(&p, 0, sizeof(p));
    p.server = true;
    p.name = name;
    p.now_ms = c->not_before_ms + 86400000u;
    p.ocsp_mode = MICA_X509_OCSP_AUTO;
    return p;
}

static void names_and_time(void)
{
    struct chain c;
    struct mica_x509_policy p;

    load("certs/ecdsa-p256.chain.pem", &c);
    /* the leaf: DNS localhost, DNS *.test.mica, IP 127.0.0.1 and ::1, CN "mica test
     * ecdsa-p256" */
    p = at(&c, "localhost");
    run("localhost", &c, &p, MICA_OK, "ok");
    p.name = "LOCALHOST";
    run("case-insensitive", &c, &p, MICA_OK, NULL);
    p.name = "www.test.mica";
    run("wildcard", &c, &p, MICA_OK, NULL);
    p.name = "a.b.test.mica";
    run("wildcard covers one label only", &c, &p, MICA_E_CERT_HOSTNAME, "does not cover");
    p.name = "test.mica";
    run("wildcard does not cover its parent", &c, &p, MICA_E_CERT_HOSTNAME, "its names: ");
    p.name = "mica test ecdsa-p256";
    run("the CN is never a name", &c, &p, MICA_E_CERT_HOSTNAME, NULL);
    p.name = "127.0.0.1";
    run("IP SAN", &c, &p, MICA_OK, NULL);
    p.name = "::1";
    run("IPv6 SAN", &c, &p, MICA_OK, NULL);
    p.name = "127.0.0.2";
    run("other IP", &c, &p, MICA_E_CERT_HOSTNAME, "127.0.0.1");
    p.name = "example.com";
    run("other name", &c, &p, MICA_E_CERT_HOSTNAME,
        "does not cover example.com (its names: localhost, *.test.mica, 127.0.0.1");
    /* time */
    p = at(&c, "localhost");
    p.now_ms = c.not_after_ms + 3 * 86400000u;
    run("expired", &c, &p, MICA_E_CERT_EXPIRED, "expired on");
    p.now_ms = c.not_before_ms - 2 * 86400000u;
    run("not yet valid", &c, &p, MICA_E_CERT_EXPIRED, "is not valid before");
    /* purpose: the leaf is for both servers and clients */
    p = at(&c, NULL);
    p.server = false;
    run("client purpose", &c, &p, MICA_OK, NULL);
    /* a leaf alone, its issuer unknown */
    c.n = 1;
    p = at(&c, "localhost");
    {
        mica_x509_store *full = store;
        mica_x509_store *empty = NULL;
        CHECK_OK(mica_x509_store_new(&empty));
        store = empty;
        run("untrusted", &c, &p, MICA_E_CERT_UNTRUSTED,
            "cannot find the issuer 'CN=mica test CA' of 'CN=mica test ecdsa-p256'");
        store = full;
        mica_x509_store_free(empty);
    }
    c.n = 2;
    unload(&c);
}

static void strength(void)
{
    struct chain c;
    struct mica_x509_policy p;

    load("certs/rsa1024.chain.pem", &c);
    p = at(&c, "localhost");
    run("RSA-1024", &c, &p, MICA_E_CERT_WEAK, "an RSA key of 1024 bits");
    unload(&c);
    load("certs/rsa2048.chain.pem", &c);
    p = at(&c, "localhost");
    run("RSA-2048", &c, &p, MICA_OK, NULL);
    unload(&c);
    /* a key TLS 1.3 cannot use: brainpoolP256r1 (no signature scheme of RFC 8446) */
    load("certs/brainpool.chain.pem", &c);
    p = at(&c, "localhost");
    run("brainpool", &c, &p, MICA_E_CERT_WEAK, "which TLS 1.3 as mica speaks it cannot use");
    unload(&c);
}

static void pins(void)
{
    struct chain c;
    struct mica_x509_policy p;
    uint8_t pin[2][32];
    char leaf_pin[64] = "sha256/";
    FILE *f = popen("openssl x509 -in " MICA_TEST_VECTORS "/certs/ecdsa-p256.crt -noout -pubkey"
                    " | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64",
                    "r");

    CHECK(f != NULL && fgets(leaf_pin + 7, sizeof(leaf_pin) - 7, f) != NULL);
    if (f != NULL) {
        pclose(f);
    }
    leaf_pin[strcspn(leaf_pin, "\n")] = '\0';
    CHECK_OK(mica_x509_parse_pin(leaf_pin, pin[0]));
    CHECK_ERR(mica_x509_parse_pin("sha256/AAAA", pin[1]), MICA_E_ARGUMENT);
    CHECK_ERR(mica_x509_parse_pin("sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", pin[1]),
              MICA_E_ARGUMENT);
    CHECK_OK(mica_x509_parse_pin("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", pin[1]));
    load("certs/ecdsa-p256.chain.pem", &c);
    p = at(&c, "localhost");
    p.pins = pin[0];
    p.pins_n = 2;
    run("pin matches", &c, &p, MICA_OK, NULL);
    p.pins = pin[1];
    p.pins_n = 1;
    run("pin mismatch", &c, &p, MICA_E_CERT_PIN, leaf_pin);
    unload(&c);
}

static void stapled_ocsp(void)
{
    struct chain c;
    struct mica_x509_policy p;
    size_t len = 0;
    uint8_t *good = ocsp("good.der", &len), *r;

    load("certs/ecdsa-p256.chain.pem", &c);
    p = at(&c, "localhost");
    p.ocsp = good;
    p.ocsp_len = len;
    /* the responses were made when the test ran ocsp/make.sh: a day into the leaf */
    p.now_ms = (uint64_t)time(NULL) * 1000u;
    run("good staple", &c, &p, MICA_OK, NULL);
    p.ocsp_mode = MICA_X509_OCSP_REQUIRE;
    run("good staple, required", &c, &p, MICA_OK, NULL);
    p.ocsp = NULL;
    p.ocsp_len = 0;
    run("no staple, required", &c, &p, MICA_E_CERT_STATUS, "stapled no OCSP response");
    p.ocsp_mode = MICA_X509_OCSP_AUTO;
    run("no staple, auto", &c, &p, MICA_OK, NULL);
    r = ocsp("revoked.der", &len);
    p.ocsp = r;
    p.ocsp_len = len;
    run("revoked", &c, &p, MICA_E_CERT_REVOKED,
        "was revoked on 2026-01-01 00:00:00 UTC (reason: keyCompromise)");
    p.ocsp_mode = MICA_X509_OCSP_OFF;
    run("revoked, OCSP off", &c, &p, MICA_OK, NULL);
    p.ocsp_mode = MICA_X509_OCSP_AUTO;
    free(r);
    r = ocsp("short.der", &len);
    p.ocsp = r;
    p.ocsp_len = len;
    p.now_ms += 30ull * 86400000u;
    run("stale", &c, &p, MICA_E_CERT_STATUS, "is stale: its nextUpdate was");
    free(r);
    p.now_ms = (uint64_t)time(NULL) * 1000u;
    r = ocsp("other.der", &len);
    p.ocsp = r;
    p.ocsp_len = len;
    run("foreign responder", &c, &p, MICA_E_CERT_STATUS, "not signed by its issuer");
    free(r);
    p.ocsp = good;
    p.ocsp_len = len > 10 ? 10 : len;
    run("truncated", &c, &p, MICA_E_CERT_STATUS, "does not parse");
    free(good);
    unload(&c);
}

static void crls(void)
{
    struct chain c;
    struct mica_x509_policy p;
    mica_x509_store *with = NULL;

    load("certs/ecdsa-p256.chain.pem", &c);
    p = at(&c, "localhost");
    p.now_ms = (uint64_t)time(NULL) * 1000u; /* the CRLs were made with ocsp/make.sh */
    CHECK_OK(mica_x509_store_new(&with));
    CHECK_OK(mica_x509_store_add_file(with, vec_path("certs/ca.pem")));
    CHECK_OK(mica_x509_store_add_crl_file(with, vec_path("ocsp/crl-revoked.pem")));
    {
        mica_x509_store *full = store;
        store = with;
        run("CRL revokes the leaf", &c, &p, MICA_E_CERT_REVOKED, "is revoked (its CRL says so)");
        store = full;
    }
    mica_x509_store_free(with);
    CHECK_OK(mica_x509_store_new(&with));
    CHECK_OK(mica_x509_store_add_file(with, vec_path("certs/ca.pem")));
    CHECK_OK(mica_x509_store_add_crl_file(with, vec_path("ocsp/crl-empty.pem")));
    CHECK_ERR(mica_x509_store_add_crl_file(with, vec_path("certs/ca.key")), MICA_E_ARGUMENT);
    {
        mica_x509_store *full = store;
        store = with;
        run("CRL revokes nothing", &c, &p, MICA_OK, NULL);
        store = full;
    }
    mica_x509_store_free(with);
    unload(&c);
}

/* ---- the cache of parsed peer certificates (src/x509/cert.c) ----------------------------- */

static void stats(const char *what, mica_x509_store *s, unsigned long hits, unsigned long misses)
{
    unsigned long h = 0, m = 0;

    mica_x509_parsed_stats(s, &h, &m);
    CHECK_MSG(h == hits && m == misses, "%s: %lu hits and %lu misses, want %lu and %lu", what, h, m,
              hits, misses);
}

struct sharer {
    const struct chain *c;
    const struct mica_x509_policy *p;
    int failures;
};

static void *share(void *arg)
{
    struct sharer *t = arg;
    char why[512];

    for (int i = 0; i < 50; i++) {
        if (mica_x509_verify(store, (const uint8_t *const *)t->c->der, t->c->len, t->c->n, t->p,
                             why, sizeof(why), NULL) != MICA_OK) {
            t->failures++;
        }
    }
    return NULL;
}

/* A certificate's DER is parsed once per store; a DER that differs in one bit is never
 * taken for it; the least recently used of the 16 entries goes first; threads verifying
 * at once share the entries, and every verification still checks everything. */
static void parsed_cache(void)
{
    mica_x509_store *saved = store, *s = NULL;
    struct chain c, bad;
    struct mica_x509_policy p;
    unsigned long hits = 0, misses = 0;
    pthread_t th[4];
    struct sharer t[4];

    CHECK_OK(mica_x509_store_new(&s));
    CHECK_OK(mica_x509_store_add_file(s, vec_path("certs/ca.pem")));
    store = s;
    load("certs/ecdsa-p256.chain.pem", &c);
    CHECK(c.n == 2);
    p = at(&c, "localhost");
    run("cache: first", &c, &p, MICA_OK, NULL);
    stats("cache: first", s, hits, misses += 2);
    run("cache: again", &c, &p, MICA_OK, NULL);
    stats("cache: again", s, hits += 2, misses);
    p.name = "example.com";
    run("cache: another name, checked in full", &c, &p, MICA_E_CERT_HOSTNAME, "does not cover");
    stats("cache: another name", s, hits += 2, misses);
    p.name = "localhost";

    /* 24 leaves that differ from the real one in one bit of the signature: each parsed
     * anew (a miss; the CA beside it a hit), each refused, and together they push the
     * real leaf, least recently used, out of the 16 entries */
    load("certs/ecdsa-p256.chain.pem", &bad);
    for (unsigned k = 0; k < 24; k++) {
        char why[512];
        uint8_t *bit = &bad.der[0][bad.len[0] - 1 - k / 8];
        *bit ^= (uint8_t)(1u << (k % 8));
        mica_err err = mica_x509_verify(store, (const uint8_t *const *)bad.der, bad.len, bad.n, &p,
                                        why, sizeof(why), NULL);
        CHECK_MSG(err != MICA_OK, "cache: leaf with signature bit %u flipped verified", k);
        *bit ^= (uint8_t)(1u << (k % 8));
    }
    stats("cache: 24 altered leaves", s, hits += 24, misses += 24);
    run("cache: the real leaf after them", &c, &p, MICA_OK, NULL);
    stats("cache: the real leaf, evicted", s, hits += 1, misses += 1);
    unload(&bad);

    for (int i = 0; i < 4; i++) {
        t[i] = (struct sharer){.c = &c, .p = &p, .failures = 0};
        CHECK(pthread_create(&th[i], NULL, share, &t[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK_MSG(t[i].failures == 0, "cache: thread %d: %d verifications failed", i,
                  t[i].failures);
    }
    stats("cache: 4 threads x 50", s, hits += 400, misses);
    mica_x509_store_free(s);

    /* no memory for an entry's copy: the certificate is verified all the same and simply
     * not kept (the first mica allocation of a verification is the leaf's copy) */
    struct mica_mem_hooks hooks = {1, NULL, NULL};
    CHECK_OK(mica_x509_store_new(&s));
    CHECK_OK(mica_x509_store_add_file(s, vec_path("certs/ca.pem")));
    store = s;
    mica_mem_set_hooks(&hooks);
    run("cache: no memory for the leaf's entry", &c, &p, MICA_OK, NULL);
    mica_mem_set_hooks(NULL);
    stats("cache: no memory", s, 0, 2);
    run("cache: after no memory", &c, &p, MICA_OK, NULL);
    stats("cache: the leaf parsed again, the CA kept", s, 1, 3);
    unload(&c);
    mica_x509_store_free(s);
    store = saved;
}

int main(void)
{
    CHECK_OK(mica_x509_store_new(&store));
    CHECK_OK(mica_x509_store_add_file(store, vec_path("certs/ca.pem")));
    names_and_time();
    strength();
    pins();
    stapled_ocsp();
    crls();
    parsed_cache();
    mica_x509_store_free(store);
    return check_exit("test_x509_policy");
}
