/*
 * Certificates: loading chains and keys, names, and verification with libcrypto's
 * X509_STORE / X509_verify_cert. See x509.h.
 */
#include "x509/x509.h"
#include "x509/internal.h"

#include <mica/cert.h>

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/limits.h"
#include "crypto/gate.h"

/* The system trust anchors are read on first use, not when a config is made: Debian's
 * bundle is some 140 certificates, about 2 ms of parsing (and 1 MB) that a server config,
 * or a client that never verifies, does not need. A config is shared read-only between
 * threads once made, so the first verification loads them under a lock. */
struct store_lazy {
    pthread_mutex_t lock;
    atomic_bool loaded;
    bool pending; /* mica_x509_store_add_default was called */
};

/*
 * Peer certificates already parsed, by their exact DER. d2i_X509 costs 110-150 us per
 * certificate with libcrypto 3.0 (most of it decoding the public key through the
 * OSSL_DECODER machinery), twice a client's whole signature checking; a client that
 * connects to the same servers again, or a server whose clients present the same
 * certificates, parses each once. Only parsing is saved: every verification still runs
 * in full on the shared, read-only X509 (libcrypto's X509 objects are reference counted
 * and safe to use from several threads at once, as a store's anchors are). Entries match
 * by length and every byte, never by a hash alone. Least recently used out.
 */
#define PARSED_SLOTS 16
struct parsed_cache {
    pthread_mutex_t lock;
    uint64_t tick;
    unsigned long hits, misses; /* for the tests */
    struct {
        uint8_t *der; /* its own copy, NULL when the slot is empty */
        size_t len;
        X509 *x; /* the cache's reference */
        uint64_t used;
    } slot[PARSED_SLOTS];
};

struct mica_x509_store {
    X509_STORE *store;
    bool crls;              /* CRLs were loaded: check the leaf's revocation */
    STACK_OF(X509) * extra; /* intermediates to build chains with, not trusted (or NULL) */
    struct store_lazy *lazy;
    struct parsed_cache *parsed; /* mutable behind a const store: its own lock */
};

mica_err mica_x509_store_ready(const mica_x509_store *s)
{
    struct store_lazy *l = s->lazy;
    mica_err err = MICA_OK;

    if (!l->pending || atomic_load_explicit(&l->loaded, memory_order_acquire)) {
        return MICA_OK;
    }
    ENSURE(pthread_mutex_lock(&l->lock) == 0, MICA_E_INTERNAL);
    if (!atomic_load_explicit(&l->loaded, memory_order_relaxed)) {
        /* Debian's bundle, the way libcrypto finds it, honouring SSL_CERT_FILE and
         * SSL_CERT_DIR */
        if (X509_STORE_set_default_paths(s->store) == 1) {
            atomic_store_explicit(&l->loaded, true, memory_order_release);
        } else {
            err = mica_cr_fail(MICA_E_CRYPTO);
        }
    }
    (void)pthread_mutex_unlock(&l->lock);
    return err;
}

STACK_OF(X509) * mica_x509_store_extra(const mica_x509_store *s)
{
    return s->extra;
}

mica_err mica_x509_store_add_untrusted_file(mica_x509_store *s, const char *file)
{
    BIO *bio = BIO_new_file(file, "r");
    X509 *x;
    int added = 0;

    ENSURE(bio != NULL, mica_cr_fail(MICA_E_ARGUMENT));
    if (s->extra == NULL && (s->extra = sk_X509_new_null()) == NULL) {
        BIO_free(bio);
        return MICA_E_NOMEM;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_push(s->extra, x) <= 0) {
            X509_free(x);
            BIO_free(bio);
            return MICA_E_NOMEM;
        }
        added++;
    }
    ERR_clear_error();
    BIO_free(bio);
    ENSURE(added > 0, MICA_E_DECODE);
    return MICA_OK;
}

X509_STORE *mica_x509_store_raw(const mica_x509_store *s)
{
    return s->store;
}

bool mica_x509_store_has_crls(const mica_x509_store *s)
{
    return s->crls;
}

X509 *mica_x509_parse(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;

    if (len > LONG_MAX) {
        return NULL;
    }
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != der + len) { /* trailing bytes */
        X509_free(x);
        x = NULL;
    }
    return x;
}

X509 *mica_x509_parse_shared(const mica_x509_store *s, const uint8_t *der, size_t len)
{
    struct parsed_cache *c = s->parsed;
    X509 *x = NULL;
    size_t victim = 0;

    if (pthread_mutex_lock(&c->lock) != 0) {
        return mica_x509_parse(der, len);
    }
    for (size_t i = 0; i < PARSED_SLOTS; i++) {
        if (c->slot[i].der != NULL && c->slot[i].len == len &&
            memcmp(c->slot[i].der, der, len) == 0 && X509_up_ref(c->slot[i].x) == 1) {
            c->slot[i].used = ++c->tick;
            c->hits++;
            x = c->slot[i].x;
            break;
        }
    }
    if (x == NULL) {
        c->misses++;
    }
    (void)pthread_mutex_unlock(&c->lock);
    if (x != NULL) {
        return x;
    }

    /* parsed outside the lock; two threads that both miss both parse, and both insert */
    x = mica_x509_parse(der, len);
    uint8_t *copy = x != NULL ? mica_mem_alloc_buf(len) : NULL;
    if (copy == NULL || X509_up_ref(x) != 1) {
        mica_mem_free(copy);
        return x; /* not kept: still a good result */
    }
    memcpy(copy, der, len);
    if (pthread_mutex_lock(&c->lock) != 0) {
        X509_free(x); /* the cache's reference */
        mica_mem_free(copy);
        return x;
    }
    for (size_t i = 1; i < PARSED_SLOTS; i++) {
        if (c->slot[victim].der != NULL &&
            (c->slot[i].der == NULL || c->slot[i].used < c->slot[victim].used)) {
            victim = i;
        }
    }
    X509 *old = c->slot[victim].x;
    uint8_t *old_der = c->slot[victim].der;
    c->slot[victim].der = copy;
    c->slot[victim].len = len;
    c->slot[victim].x = x;
    c->slot[victim].used = ++c->tick;
    (void)pthread_mutex_unlock(&c->lock);
    X509_free(old);
    mica_mem_free(old_der);
    return x;
}

void mica_x509_parsed_stats(const mica_x509_store *s, unsigned long *hits, unsigned long *misses)
{
    struct parsed_cache *c = s->parsed;

    (void)pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    (void)pthread_mutex_unlock(&c->lock);
}

mica_err mica_x509_key_of(X509 *x, mica_pkey **out)
{
    EVP_PKEY *pk = X509_get_pubkey(x); /* a new reference */

    ENSURE(pk != NULL, mica_cr_fail(MICA_E_DECODE));
    return mica_pkey_wrap(pk, out);
}

mica_err mica_x509_pubkey(const uint8_t *der, size_t len, mica_pkey **out)
{
    X509 *x = mica_x509_parse(der, len);
    mica_err err;

    ENSURE(x != NULL, mica_cr_fail(MICA_E_DECODE));
    err = mica_x509_key_of(x, out);
    X509_free(x);
    return err;
}

void mica_x509_chain_free(struct mica_chain *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        mica_mem_free(c->der[i]);
    }
    mica_mem_free(c->der);
    mica_mem_free(c->len);
    mica_pkey_free(c->key);
    X509_free(c->leaf);
    mica_mem_free(c);
}

static mica_err chain_push(struct mica_chain *c, X509 *x)
{
    int n = i2d_X509(x, NULL);
    uint8_t *der, *p;

    ENSURE(n > 0, mica_cr_fail(MICA_E_DECODE));
    ENSURE(c->n < MICA_MAX_CHAIN_LEN, MICA_E_LIMIT);
    der = mica_mem_alloc((size_t)n);
    ENSURE(der != NULL, MICA_E_NOMEM);
    p = der;
    if (i2d_X509(x, &p) != n) {
        mica_mem_free(der);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    c->der[c->n] = der;
    c->len[c->n] = (size_t)n;
    c->n++;
    return MICA_OK;
}

static mica_err load_certs(struct mica_chain *c, const char *pem, size_t len, X509 **leaf)
{
    BIO *bio;
    X509 *x;
    mica_err err = MICA_OK;

    ENSURE(len <= INT_MAX, MICA_E_ARGUMENT);
    bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MICA_E_NOMEM);
    while (err == MICA_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        err = chain_push(c, x);
        if (*leaf == NULL) {
            *leaf = x;
        } else {
            X509_free(x);
        }
    }
    ERR_clear_error(); /* the end of the PEM stream is reported as an error */
    BIO_free(bio);
    TRY(err);
    ENSURE(c->n > 0, MICA_E_DECODE);
    return MICA_OK;
}

bool mica_x509_key_usable(const mica_pkey *k)
{
    /* RSA under 2048 bits is refused for signing (issue 3; NIST SP 800-131A) */
    if ((mica_pkey_type(k) == MICA_KEY_RSA || mica_pkey_type(k) == MICA_KEY_RSA_PSS) &&
        mica_pkey_bits(k) < 2048) {
        return false;
    }
    for (size_t i = 0; i < mica_sig_schemes_n; i++) {
        if (mica_sig_schemes[i].handshake_ok && mica_sig_fits(&mica_sig_schemes[i], k)) {
            return true;
        }
    }
    return false;
}

mica_err mica_x509_chain_from_pem(const char *chain_pem, size_t chain_len, const char *key_pem,
                                  size_t key_len, struct mica_chain **out)
{
    struct mica_chain *c = mica_mem_alloc(sizeof(*c));
    X509 *leaf = NULL;
    mica_err err;

    ENSURE(c != NULL, MICA_E_NOMEM);
    c->der = mica_mem_alloc(MICA_MAX_CHAIN_LEN * sizeof(*c->der));
    c->len = mica_mem_alloc(MICA_MAX_CHAIN_LEN * sizeof(*c->len));
    err = (c->der == NULL || c->len == NULL) ? MICA_E_NOMEM : MICA_OK;
    if (err == MICA_OK) {
        err = load_certs(c, chain_pem, chain_len, &leaf);
    }
    if (err == MICA_OK) {
        err = mica_pkey_from_pem((const uint8_t *)key_pem, key_len, &c->key);
    }
    if (err == MICA_OK && X509_check_private_key(leaf, mica_pkey_evp(c->key)) != 1) {
        err = mica_cr_fail(MICA_E_KEY_MISMATCH);
    }
    if (err == MICA_OK && !mica_x509_key_usable(c->key)) {
        err = MICA_E_UNSUPPORTED;
    }
    c->leaf = leaf; /* kept: chain_covers checks it on each handshake */
    if (err != MICA_OK) {
        mica_x509_chain_free(c);
        return err;
    }
    *out = c;
    return MICA_OK;
}

bool mica_x509_is_ip(const char *name)
{
    unsigned char *ip = NULL;
    ASN1_OCTET_STRING *os = a2i_IPADDRESS(name);

    (void)ip;
    if (os == NULL) {
        ERR_clear_error();
        return false;
    }
    ASN1_OCTET_STRING_free(os);
    return true;
}

bool mica_x509_chain_covers(const struct mica_chain *c, const char *name)
{
    int ok;

    if (c->leaf == NULL) {
        return false;
    }
    if (mica_x509_is_ip(name)) {
        ok = X509_check_ip_asc(c->leaf, name, 0);
    } else {
        ok = X509_check_host(c->leaf, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    }
    ERR_clear_error();
    return ok == 1;
}

mica_err mica_x509_store_new(mica_x509_store **out)
{
    mica_x509_store *s = mica_mem_alloc(sizeof(*s));

    ENSURE(s != NULL, MICA_E_NOMEM);
    s->lazy = mica_mem_alloc(sizeof(*s->lazy));
    s->parsed = mica_mem_alloc(sizeof(*s->parsed));
    s->store = X509_STORE_new();
    if (s->store == NULL || s->lazy == NULL || s->parsed == NULL ||
        pthread_mutex_init(&s->lazy->lock, NULL) != 0) {
        X509_STORE_free(s->store);
        mica_mem_free(s->lazy);
        mica_mem_free(s->parsed);
        mica_mem_free(s);
        return MICA_E_NOMEM;
    }
    if (pthread_mutex_init(&s->parsed->lock, NULL) != 0) {
        (void)pthread_mutex_destroy(&s->lazy->lock);
        X509_STORE_free(s->store);
        mica_mem_free(s->lazy);
        mica_mem_free(s->parsed);
        mica_mem_free(s);
        return MICA_E_NOMEM;
    }
    atomic_init(&s->lazy->loaded, false);
    *out = s;
    return MICA_OK;
}

void mica_x509_store_free(mica_x509_store *s)
{
    if (s == NULL) {
        return;
    }
    X509_STORE_free(s->store);
    sk_X509_pop_free(s->extra, X509_free);
    (void)pthread_mutex_destroy(&s->lazy->lock);
    mica_mem_free(s->lazy);
    for (size_t i = 0; i < PARSED_SLOTS; i++) {
        X509_free(s->parsed->slot[i].x);
        mica_mem_free(s->parsed->slot[i].der);
    }
    (void)pthread_mutex_destroy(&s->parsed->lock);
    mica_mem_free(s->parsed);
    mica_mem_free(s);
}

mica_err mica_x509_store_add_default(mica_x509_store *s)
{
    s->lazy->pending = true; /* read by mica_x509_store_ready, on first use */
    return MICA_OK;
}

mica_err mica_x509_store_add_file(mica_x509_store *s, const char *file)
{
    ENSURE(X509_STORE_load_file(s->store, file) == 1, mica_cr_fail(MICA_E_ARGUMENT));
    return MICA_OK;
}

mica_err mica_x509_store_add_crl_file(mica_x509_store *s, const char *file)
{
    X509_LOOKUP *l = X509_STORE_add_lookup(s->store, X509_LOOKUP_file());

    ENSURE(l != NULL, mica_cr_fail(MICA_E_NOMEM));
    ENSURE(X509_load_crl_file(l, file, X509_FILETYPE_PEM) > 0 ||
               X509_load_crl_file(l, file, X509_FILETYPE_ASN1) > 0,
           mica_cr_fail(MICA_E_ARGUMENT));
    ERR_clear_error();
    s->crls = true;
    return MICA_OK;
}

mica_err mica_x509_store_add_dir(mica_x509_store *s, const char *dir)
{
    ENSURE(X509_STORE_load_path(s->store, dir) == 1, mica_cr_fail(MICA_E_ARGUMENT));
    return MICA_OK;
}

mica_err mica_x509_store_add_pem(mica_x509_store *s, const char *pem, size_t len)
{
    BIO *bio;
    X509 *x;
    int added = 0;

    ENSURE(len <= INT_MAX, MICA_E_ARGUMENT);
    bio = BIO_new_mem_buf(pem, (int)len);
    ENSURE(bio != NULL, MICA_E_NOMEM);
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        added += X509_STORE_add_cert(s->store, x) == 1;
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(bio);
    ENSURE(added > 0, MICA_E_DECODE);
    return MICA_OK;
}

/* ---- mica verify (include/mica/cert.h) ------------------------------------------------ */

static mica_err read_pem_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1u << 20, n;
    char *buf;

    ENSURE(f != NULL, MICA_E_ARGUMENT);
    buf = mica_mem_alloc(cap);
    if (buf == NULL) {
        fclose(f);
        return MICA_E_NOMEM;
    }
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return MICA_OK;
}

mica_err mica_verify_chain_pem(const struct mica_verify_opts *o, const char *pem, size_t len,
                               char *why, size_t why_cap)
{
    struct mica_chain chain;
    uint8_t *der[MICA_MAX_CHAIN_LEN];
    size_t lens[MICA_MAX_CHAIN_LEN];
    X509 *leaf = NULL;
    mica_x509_store *store = NULL;
    char *extra = NULL;
    size_t extra_len = 0;
    uint64_t now_ms;
    mica_err err;

    ENSURE(o != NULL && pem != NULL && why != NULL && why_cap > 0, MICA_E_ARGUMENT);
    snprintf(why, why_cap, "no certificate in the input");
    memset(&chain, 0, sizeof(chain));
    chain.der = der;
    chain.len = lens;
    err = load_certs(&chain, pem, len, &leaf);
    X509_free(leaf);
    leaf = NULL;
    if (err == MICA_OK && o->untrusted_file != NULL) {
        err = read_pem_file(o->untrusted_file, &extra, &extra_len);
        if (err == MICA_OK) {
            err = load_certs(&chain, extra, extra_len, &leaf); /* appended after the leaf */
            X509_free(leaf);
        }
    }
    if (err == MICA_OK) {
        err = mica_x509_store_new(&store);
    }
    if (err == MICA_OK) {
        if (o->ca_file == NULL && o->ca_dir == NULL) {
            err = mica_x509_store_add_default(store);
        }
        if (err == MICA_OK && o->ca_file != NULL) {
            err = mica_x509_store_add_file(store, o->ca_file);
        }
        if (err == MICA_OK && o->ca_dir != NULL) {
            err = mica_x509_store_add_dir(store, o->ca_dir);
        }
        if (err != MICA_OK) {
            snprintf(why, why_cap, "cannot read the trust anchors");
        }
    }
    if (err == MICA_OK) {
        now_ms = o->at != 0 ? (uint64_t)o->at * 1000u : (uint64_t)time(NULL) * 1000u;
        struct mica_x509_policy pol;
        memset(&pol, 0, sizeof(pol));
        pol.server = o->client == 0;
        pol.name = o->name;
        pol.now_ms = now_ms;
        err = mica_x509_verify(store, (const uint8_t *const *)chain.der, chain.len, chain.n, &pol,
                               why, why_cap, NULL);
    }
    for (size_t i = 0; i < chain.n; i++) {
        mica_mem_free(chain.der[i]);
    }
    mica_mem_free(extra);
    mica_x509_store_free(store);
    return err;
}

/* ---- names for certificate_authorities (RFC 8446 4.2.4) ----------------------------- */

mica_err mica_x509_store_names(const mica_x509_store *s, uint8_t *out, size_t cap, size_t *len)
{
    STACK_OF(X509_OBJECT) * objs;
    size_t n = 0;

    *len = 0;
    TRY(mica_x509_store_ready(s));
    objs = X509_STORE_get0_objects(s->store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        unsigned char *der = NULL;
        int k;
        if (x == NULL) {
            continue; /* a CRL */
        }
        k = i2d_X509_NAME(X509_get_subject_name(x), &der);
        if (k <= 0 || k > 0xffff || cap - n < 2 + (size_t)k) {
            OPENSSL_free(der);
            return k <= 0 ? mica_cr_fail(MICA_E_NOMEM) : MICA_E_LIMIT;
        }
        out[n] = (uint8_t)(k >> 8);
        out[n + 1] = (uint8_t)k;
        memcpy(out + n + 2, der, (size_t)k);
        n += 2 + (size_t)k;
        OPENSSL_free(der);
    }
    *len = n;
    return MICA_OK;
}

bool mica_x509_chain_issued_by(const struct mica_chain *c, mica_rd names)
{
    for (size_t i = 0; i < c->n; i++) {
        X509 *x = mica_x509_parse(c->der[i], c->len[i]);
        unsigned char *der = NULL;
        int k = x != NULL ? i2d_X509_NAME(X509_get_issuer_name(x), &der) : 0;
        mica_rd list = names, name;
        bool found = false;
        while (k > 0 && !found && mica_rd_vec16(&list, &name, 1, 0xffff) == MICA_OK) {
            found = name.n == (size_t)k && mica_ct_eq(name.p, der, name.n);
        }
        OPENSSL_free(der);
        X509_free(x);
        if (found) {
            return true;
        }
    }
    return false;
}
