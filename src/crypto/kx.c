/*
 * Key exchange, KEM-shaped (crypto.h). DH groups are X25519/X448 (RFC 7748) and the
 * NIST curves with uncompressed points (RFC 8446 4.2.8.2). Every peer share is checked
 * before use: exact length, the 0x04 uncompressed form, on the curve (libcrypto's
 * import plus a public-key check), not the point at infinity; X25519/X448 results are
 * checked for all zeros (RFC 8446 7.4.2).
 *
 * KEM groups (draft-ietf-tls-ecdhe-mlkem): ML-KEM-768 alone, or hybrid with a classical
 * group whose half goes through the same functions; the shares and the secret are the
 * two halves concatenated, ML-KEM first for X25519MLKEM768, second for SecP256r1MLKEM768.
 */
#include "crypto/gate.h"
#include "crypto/mlkem.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <pthread.h>
#include <openssl/param_build.h>
#include <string.h>

struct mica_kx_key {
    const struct mica_group *g;
    EVP_PKEY *pk;                /* DH groups */
    EVP_PKEY_CTX *dctx;          /* X25519/X448: pk's derive context (xdh_key) */
    struct mica_kx_key *classic; /* hybrid KEM groups: the classical half */
    uint8_t *kem_dk;             /* KEM groups: the ML-KEM decapsulation key */
    uint8_t *pub;                /* KEM groups, X25519/X448: the whole share */
};

void mica_kx_shared_wipe(mica_kx_shared *s)
{
    mica_mem_wipe(s, sizeof(*s));
}

void mica_kx_free(mica_kx_key *key)
{
    if (key == NULL) {
        return;
    }
    EVP_PKEY_CTX_free(key->dctx);
    EVP_PKEY_free(key->pk); /* libcrypto cleanses private key material on free */
    mica_kx_free(key->classic);
    mica_mem_free_secret(key->kem_dk);
    mica_mem_free(key->pub);
    mica_mem_free_secret(key);
}

const struct mica_group *mica_kx_group(const mica_kx_key *key)
{
    return key->g;
}

bool mica_cr_group_available(const struct mica_group *g)
{
    /* ML-KEM is mica's own where libcrypto has none (src/crypto/mlkem.c) */
    return g->kind == MICA_KX_XDH || g->kind == MICA_KX_ECDH || g->kind == MICA_KX_KEM;
}

static mica_err wrap(const struct mica_group *g, EVP_PKEY *pk, mica_kx_key **out)
{
    mica_kx_key *k = mica_mem_alloc(sizeof(*k));

    if (k == NULL) {
        EVP_PKEY_free(pk);
        return MICA_E_NOMEM;
    }
    k->g = g;
    k->pk = pk;
    *out = k;
    return MICA_OK;
}

static mica_err public_share(const mica_kx_key *k, uint8_t *pub, size_t cap, size_t *len)
{
    size_t n = 0;
    int ok;

    if (pub == NULL) {
        return MICA_OK;
    }
    ENSURE(cap >= k->g->client_share_len, MICA_E_ARGUMENT);
    if (k->pub != NULL) { /* KEM and X25519/X448 keys keep their share */
        memcpy(pub, k->pub, k->g->client_share_len);
        *len = k->g->client_share_len;
        return MICA_OK;
    }
    ok = EVP_PKEY_get_octet_string_param(k->pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, cap, &n) ==
         1;
    ENSURE(ok && n == k->g->client_share_len, mica_cr_fail(MICA_E_CRYPTO));
    *len = n;
    return MICA_OK;
}

/* ec_import: an EC key of group g from params built by the caller. */
static EVP_PKEY *ec_import(OSSL_PARAM_BLD *bld, int selection)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, selection, params) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

/*
 * Domain parameters of each NIST curve, made once per process: key generation and peer
 * key import start from them instead of looking the curve up by name every handshake
 * (bench/ measured the by-name paths at about a quarter of a P-256 exchange).
 */
static pthread_once_t ec_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *ec_params[3]; /* P-256, P-384, P-521 */
static const char *const ec_names[3] = {"P-256", "P-384", "P-521"};

static void ec_params_init(void)
{
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (pc == NULL || EVP_PKEY_paramgen_init(pc) != 1 ||
            EVP_PKEY_CTX_set_group_name(pc, ec_names[i]) != 1 ||
            EVP_PKEY_paramgen(pc, &ec_params[i]) != 1) {
            ec_params[i] = NULL;
        }
        EVP_PKEY_CTX_free(pc);
    }
    ERR_clear_error();
}

static const EVP_PKEY *ec_template(const struct mica_group *g)
{
    if (pthread_once(&ec_once, ec_params_init) != 0) {
        return NULL;
    }
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(g->ossl_name, ec_names[i]) == 0) {
            return ec_params[i];
        }
    }
    return NULL;
}

/* ec_public: the peer's uncompressed point as a public key (libcrypto checks that the
 * point decodes and lies on the curve). */
static EVP_PKEY *ec_public(const struct mica_group *g, const uint8_t *p, size_t len)
{
    const EVP_PKEY *tmpl = ec_template(g);
    EVP_PKEY *pk = EVP_PKEY_new();

    if (pk == NULL || tmpl == NULL || EVP_PKEY_copy_parameters(pk, tmpl) != 1 ||
        EVP_PKEY_set1_encoded_public_key(pk, p, len) != 1) {
        EVP_PKEY_free(pk);
        return NULL;
    }
    return pk;
}

/* ec_generate: a fresh key pair on g's curve from the cached parameters. */
static EVP_PKEY *ec_generate(const struct mica_group *g)
{
    const EVP_PKEY *tmpl = ec_template(g);
    EVP_PKEY_CTX *kc =
        tmpl != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, (EVP_PKEY *)(uintptr_t)tmpl, NULL) : NULL;
    EVP_PKEY *pk = NULL;

    if (kc == NULL || EVP_PKEY_keygen_init(kc) != 1 || EVP_PKEY_keygen(kc, &pk) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    EVP_PKEY_CTX_free(kc);
    return pk;
}

/*
 * ec_keypair: an EC key pair from a private scalar. libcrypto's import does not compute
 * the public point, so it is computed here (priv * G) with the EC_POINT API, which 3.0
 * keeps undeprecated, and imported with the scalar.
 */
static EVP_PKEY *ec_keypair(const struct mica_group *g, const uint8_t *priv, size_t len)
{
    uint8_t pub[MICA_MAX_KX_PUBLIC_LEN];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EC_GROUP *grp = EC_GROUP_new_by_curve_name_ex(NULL, NULL, EC_curve_nist2nid(g->ossl_name));
    EC_POINT *pt = grp != NULL ? EC_POINT_new(grp) : NULL;
    BIGNUM *d = BN_secure_new();
    EVP_PKEY *pk = NULL;
    size_t pub_len = 0;

    if (bld != NULL && pt != NULL && d != NULL && BN_bin2bn(priv, (int)len, d) != NULL &&
        !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(grp)) < 0 &&
        EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) == 1 &&
        (pub_len = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub),
                                      NULL)) == g->client_share_len &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->ossl_name, 0) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len)) {
        pk = ec_import(bld, EVP_PKEY_KEYPAIR);
    }
    BN_clear_free(d);
    EC_POINT_free(pt);
    EC_GROUP_free(grp);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* ---- X25519 and X448 key pairs --------------------------------------------------------- */

/*
 * xdh_key: the key of a private key, its public key computed as RFC 7748 6.1 and 6.2
 * define it: X25519(k, 9), X448(k, 5). libcrypto 3.0 computes it on import with the
 * generic fixed-base code, 60 us for X25519 here; its X25519 function (the derive path,
 * assembly on x86-64) takes 44. So the private key is imported with the base point
 * standing in for the public key (an import with both computes nothing), and X(k, base)
 * is derived from it: that result is the share, kept in k->pub. The EVP_PKEY is only
 * ever used to derive, which reads its private half alone, and its derive context is
 * kept for the shared secret: no second import, no second context (4-5 us less per
 * exchange in bench/). The tests check the shares against RFC 7748's and RFC 8448's key
 * pairs.
 */
static pthread_once_t xdh_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *xdh_base[2]; /* the base points as public keys: X25519, X448 */

static void xdh_base_init(void)
{
    uint8_t u[56] = {0};

    u[0] = 9;
    xdh_base[0] = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, u, 32);
    u[0] = 5;
    xdh_base[1] = EVP_PKEY_new_raw_public_key_ex(NULL, "X448", NULL, u, 56);
}

/* xdh_base_key: the base point of the X25519 (len 32) or X448 (56) group as a public key */
static EVP_PKEY *xdh_base_key(size_t len)
{
    return pthread_once(&xdh_once, xdh_base_init) == 0 ? xdh_base[len == 32 ? 0 : 1] : NULL;
}

static EVP_PKEY *xdh_import(const struct mica_group *g, const uint8_t *priv, const uint8_t *pub,
                            size_t len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, g->ossl_name, NULL);
    OSSL_PARAM params[3];
    EVP_PKEY *pk = NULL;

    params[0] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)(uintptr_t)priv, len);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)pub, len);
    params[2] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

static mica_err xdh_key(const struct mica_group *g, const uint8_t *priv, size_t len,
                        mica_kx_key **out)
{
    uint8_t base[56] = {0};
    EVP_PKEY *base_key, *pk;
    mica_kx_key *k;
    size_t n = len;

    ENSURE(len <= sizeof(base), MICA_E_CRYPTO);
    base_key = xdh_base_key(len);
    ENSURE(base_key != NULL, mica_cr_fail(MICA_E_CRYPTO));
    base[0] = len == 32 ? 9 : 5;
    pk = xdh_import(g, priv, base, len);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_ARGUMENT));
    TRY(wrap(g, pk, &k));
    k->pub = mica_mem_alloc(len);
    k->dctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if (k->pub == NULL || k->dctx == NULL) {
        mica_kx_free(k);
        return MICA_E_NOMEM;
    }
    if (EVP_PKEY_derive_init(k->dctx) != 1 ||
        EVP_PKEY_derive_set_peer_ex(k->dctx, base_key, 0) != 1 ||
        EVP_PKEY_derive(k->dctx, k->pub, &n) != 1 || n != len) {
        mica_kx_free(k);
        return mica_cr_fail(MICA_E_CRYPTO);
    }
    *out = k;
    return MICA_OK;
}

/* peer_key: the peer's share as a validated public key, or MICA_E_BAD_PEER_KEY. */
static mica_err peer_key(const struct mica_group *g, const uint8_t *p, size_t len, EVP_PKEY **out)
{
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *ctx;
    int ok;

    ENSURE(len == g->client_share_len, MICA_E_BAD_PEER_KEY);
    if (g->kind == MICA_KX_XDH) {
        /* a copy of the base point's key given the peer's share: 1.6-1.9 us, where a new
         * key by name (EVP_PKEY_new_raw_public_key_ex) takes 3.4-3.8 */
        EVP_PKEY *base = xdh_base_key(len);
        pk = base != NULL ? EVP_PKEY_dup(base) : NULL;
        if (pk == NULL || EVP_PKEY_set1_encoded_public_key(pk, p, len) != 1) {
            EVP_PKEY_free(pk);
            return mica_cr_fail(MICA_E_BAD_PEER_KEY);
        }
        *out = pk;
        return MICA_OK;
    }
    /* RFC 8446 4.2.8.2: "legacy_form = 4" only; compressed and infinity are refused by
     * the length check above or this one. */
    ENSURE(p[0] == 0x04, MICA_E_BAD_PEER_KEY);
    pk = ec_public(g, p, len);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_BAD_PEER_KEY));
    /* on the curve and not infinity; the NIST curves have cofactor 1, so this is the
     * whole validation NIST SP 800-56A 5.6.2.3.4 asks for */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    ok = ctx != NULL && EVP_PKEY_public_check_quick(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pk);
        return mica_cr_fail(MICA_E_BAD_PEER_KEY);
    }
    *out = pk;
    return MICA_OK;
}

static mica_err derive(const mica_kx_key *mine, EVP_PKEY *peer, mica_kx_shared *out)
{
    const struct mica_group *g = mine->g;
    EVP_PKEY_CTX *ctx = mine->dctx; /* initialized for derive already */
    size_t n = sizeof(out->b);
    int ok;

    if (ctx == NULL) {
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine->pk, NULL);
        ENSURE(ctx != NULL, MICA_E_NOMEM);
        ok = EVP_PKEY_derive_init(ctx) == 1;
    } else {
        ok = 1;
    }
    ok = ok && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
         EVP_PKEY_derive(ctx, out->b, &n) == 1;
    if (ctx != mine->dctx) {
        EVP_PKEY_CTX_free(ctx);
    }
    if (!ok) {
        mica_kx_shared_wipe(out);
        /* libcrypto's X25519/X448 refuse exactly one thing here: an all-zero result */
        return mica_cr_fail(g->kind == MICA_KX_XDH ? MICA_E_ZERO_SHARED : MICA_E_CRYPTO);
    }
    out->len = n;
    /* RFC 8446 7.4.2: "[X25519/X448] MUST check whether the computed Diffie-Hellman
     * shared secret is the all-zero value and abort if so" */
    if (n != g->secret_len) {
        mica_kx_shared_wipe(out);
        return MICA_E_CRYPTO;
    }
    if (g->kind == MICA_KX_XDH && mica_ct_is_zero(out->b, n)) {
        mica_kx_shared_wipe(out);
        return MICA_E_ZERO_SHARED;
    }
    return MICA_OK;
}

/* ---- KEM groups ---------------------------------------------------------------------- */

/* the offsets of the ML-KEM half and the classical half in a share of total length len */
static size_t kem_at(const struct mica_group *g, size_t classic_len)
{
    return g->kem_first || g->classic == NULL ? 0 : classic_len;
}

static size_t classic_at(const struct mica_group *g, size_t kem_len)
{
    return g->kem_first ? kem_len : 0;
}

/* kem_make: a KEM key pair, from a seed (and classical private key) or fresh */
static mica_err kem_make(const struct mica_group *g, const uint8_t *seed, const uint8_t *cpriv,
                         size_t cpriv_len, mica_kx_key **out)
{
    const struct mica_group *cg = g->classic;
    size_t clen = cg != NULL ? cg->client_share_len : 0, n = 0;
    uint8_t *ek;
    mica_kx_key *k = mica_mem_alloc(sizeof(*k));
    mica_err err = MICA_OK;

    ENSURE(k != NULL, MICA_E_NOMEM);
    k->g = g;
    k->kem_dk = mica_mem_alloc(MICA_MLKEM768_DK_LEN);
    k->pub = mica_mem_alloc(g->client_share_len);
    if (k->kem_dk == NULL || k->pub == NULL) {
        mica_kx_free(k);
        return MICA_E_NOMEM;
    }
    ek = k->pub + kem_at(g, clen);
    err = seed != NULL ? mica_mlkem768_keygen_seed(seed, ek, k->kem_dk)
                       : mica_mlkem768_keygen(ek, k->kem_dk);
    if (err == MICA_OK && cg != NULL) {
        uint8_t *cpub = k->pub + classic_at(g, MICA_MLKEM768_EK_LEN);
        err = cpriv != NULL
                  ? mica_kx_key_from_private(cg, cpriv, cpriv_len, &k->classic, cpub, clen, &n)
                  : mica_kx_keygen(cg, &k->classic, cpub, clen, &n);
    }
    if (err != MICA_OK) {
        mica_kx_free(k);
        return err;
    }
    *out = k;
    return MICA_OK;
}

static void kem_join(const struct mica_group *g, const uint8_t *kem_ss,
                     const mica_kx_shared *classic, mica_kx_shared *out)
{
    size_t cl = classic != NULL ? classic->len : 0;

    /* draft-ietf-tls-ecdhe-mlkem 4.3 */
    memcpy(out->b + kem_at(g, cl), kem_ss, MICA_MLKEM768_SS_LEN);
    if (classic != NULL) {
        memcpy(out->b + classic_at(g, MICA_MLKEM768_SS_LEN), classic->b, cl);
    }
    out->len = MICA_MLKEM768_SS_LEN + cl;
}

static mica_err kem_decap(const mica_kx_key *key, const uint8_t *peer, size_t peer_len,
                          mica_kx_shared *out)
{
    const struct mica_group *g = key->g, *cg = g->classic;
    size_t cl = cg != NULL ? cg->server_share_len : 0;
    uint8_t ss[MICA_MLKEM768_SS_LEN];
    MICA_KX_SHARED(classic);
    mica_err err;

    /* 4.2: "the client MUST check if the ciphertext length matches the selected group, and
     * abort with an illegal_parameter alert if it fails" */
    ENSURE(peer_len == g->server_share_len, MICA_E_BAD_PEER_KEY);
    if (cg != NULL) {
        TRY(mica_kx_decap(key->classic, peer + classic_at(g, MICA_MLKEM768_CT_LEN), cl, &classic));
    }
    /* "If ML-KEM decapsulation fails for any other reason, ... internal_error" */
    err = mica_mlkem768_decaps(key->kem_dk, peer + kem_at(g, cl), MICA_MLKEM768_CT_LEN, ss);
    if (err != MICA_OK) {
        mica_mem_wipe(ss, sizeof(ss));
        return err == MICA_E_NOMEM ? err : MICA_E_CRYPTO;
    }
    kem_join(g, ss, cg != NULL ? &classic : NULL, out);
    mica_mem_wipe(ss, sizeof(ss));
    return MICA_OK;
}

static mica_err kem_encap(const struct mica_group *g, const uint8_t *peer, size_t peer_len,
                          uint8_t *share, size_t cap, size_t *share_len, mica_kx_shared *out)
{
    const struct mica_group *cg = g->classic;
    size_t cl_in = cg != NULL ? cg->client_share_len : 0, n = 0;
    uint8_t ss[MICA_MLKEM768_SS_LEN];
    MICA_KX_SHARED(classic);
    mica_err err;

    ENSURE(peer_len == g->client_share_len, MICA_E_BAD_PEER_KEY);
    ENSURE(cap >= g->server_share_len, MICA_E_ARGUMENT);
    /* 4.2: "the server MUST perform the encapsulation key check described in Section 7.2
     * of [FIPS 203] ... and abort with an illegal_parameter alert if it fails"; the random
     * m is drawn before the classical key (the order test vectors rely on) */
    err = mica_mlkem768_encaps(peer + kem_at(g, cl_in), MICA_MLKEM768_EK_LEN,
                               share + kem_at(g, cg != NULL ? cg->server_share_len : 0), ss);
    if (err != MICA_OK) {
        mica_mem_wipe(ss, sizeof(ss));
        return err == MICA_E_NOMEM || err == MICA_E_CRYPTO ? err : MICA_E_BAD_PEER_KEY;
    }
    if (cg != NULL) {
        err = mica_kx_encap(cg, peer + classic_at(g, MICA_MLKEM768_EK_LEN), cl_in,
                            share + classic_at(g, MICA_MLKEM768_CT_LEN), cg->server_share_len, &n,
                            &classic);
        if (err != MICA_OK) {
            mica_mem_wipe(ss, sizeof(ss));
            return err;
        }
    }
    kem_join(g, ss, cg != NULL ? &classic : NULL, out);
    mica_mem_wipe(ss, sizeof(ss));
    *share_len = g->server_share_len;
    return MICA_OK;
}

mica_err mica_kx_public(const mica_kx_key *key, uint8_t *pub, size_t pub_cap, size_t *pub_len)
{
    ENSURE(pub != NULL, MICA_E_ARGUMENT);
    return public_share(key, pub, pub_cap, pub_len);
}

mica_err mica_kx_key_from_private(const struct mica_group *g, const uint8_t *priv, size_t priv_len,
                                  mica_kx_key **key, uint8_t *pub, size_t pub_cap, size_t *pub_len)
{
    EVP_PKEY *pk = NULL;
    mica_kx_key *k = NULL;
    mica_err err;

    ENSURE(mica_cr_init() == MICA_OK, MICA_E_CRYPTO);
    if (g->kind == MICA_KX_KEM) {
        size_t clen = g->classic != NULL ? g->classic->secret_len : 0;
        ENSURE(priv_len == MICA_MLKEM768_SEED_LEN + clen, MICA_E_ARGUMENT);
        TRY(kem_make(g, priv, g->classic != NULL ? priv + MICA_MLKEM768_SEED_LEN : NULL, clen, &k));
        err = public_share(k, pub, pub_cap, pub_len);
        if (err != MICA_OK) {
            mica_kx_free(k);
            return err;
        }
        *key = k;
        return MICA_OK;
    }
    if (g->kind == MICA_KX_XDH) {
        ENSURE(priv_len == g->secret_len, MICA_E_ARGUMENT);
        TRY(xdh_key(g, priv, priv_len, &k));
    } else {
        ENSURE(g->kind == MICA_KX_ECDH, MICA_E_UNSUPPORTED);
        ENSURE(priv_len > 0 && priv_len <= g->secret_len, MICA_E_ARGUMENT);
        pk = ec_keypair(g, priv, priv_len);
        ENSURE(pk != NULL, mica_cr_fail(MICA_E_ARGUMENT));
        TRY(wrap(g, pk, &k));
    }
    err = public_share(k, pub, pub_cap, pub_len);
    if (err != MICA_OK) {
        mica_kx_free(k);
        return err;
    }
    *key = k;
    return MICA_OK;
}

mica_err mica_kx_keygen(const struct mica_group *g, mica_kx_key **key, uint8_t *pub, size_t pub_cap,
                        size_t *pub_len)
{
    uint8_t priv[MICA_MAX_KX_SECRET_LEN];
    EVP_PKEY *pk = NULL;
    mica_kx_key *k = NULL;
    mica_err err;

    ENSURE(mica_cr_init() == MICA_OK, MICA_E_CRYPTO);
    if (g->kind == MICA_KX_KEM) {
        TRY(kem_make(g, NULL, NULL, 0, &k));
        err = public_share(k, pub, pub_cap, pub_len);
        if (err != MICA_OK) {
            mica_kx_free(k);
            return err;
        }
        *key = k;
        return MICA_OK;
    }
    if (g->kind == MICA_KX_XDH) {
        /* RFC 7748 5: a private key is random bytes; clamping happens inside X25519 */
        TRY(mica_rand(priv, g->secret_len));
        err = mica_kx_key_from_private(g, priv, g->secret_len, key, pub, pub_cap, pub_len);
        mica_mem_wipe(priv, sizeof(priv));
        return err;
    }
    ENSURE(g->kind == MICA_KX_ECDH, MICA_E_UNSUPPORTED);
    pk = ec_generate(g);
    ENSURE(pk != NULL, mica_cr_fail(MICA_E_CRYPTO));
    TRY(wrap(g, pk, &k));
    err = public_share(k, pub, pub_cap, pub_len);
    if (err != MICA_OK) {
        mica_kx_free(k);
        return err;
    }
    *key = k;
    return MICA_OK;
}

mica_err mica_kx_decap(const mica_kx_key *key, const uint8_t *peer, size_t peer_len,
                       mica_kx_shared *out)
{
    EVP_PKEY *pk = NULL;
    mica_err err;

    if (key->g->kind == MICA_KX_KEM) {
        return kem_decap(key, peer, peer_len, out);
    }
    TRY(peer_key(key->g, peer, peer_len, &pk));
    err = derive(key, pk, out);
    EVP_PKEY_free(pk);
    return err;
}

mica_err mica_kx_encap(const struct mica_group *g, const uint8_t *peer, size_t peer_len,
                       uint8_t *share, size_t share_cap, size_t *share_len, mica_kx_shared *out)
{
    mica_kx_key *mine = NULL;
    EVP_PKEY *pk = NULL;
    mica_err err;

    ENSURE(share_cap >= g->server_share_len, MICA_E_ARGUMENT);
    if (g->kind == MICA_KX_KEM) {
        return kem_encap(g, peer, peer_len, share, share_cap, share_len, out);
    }
    TRY(peer_key(g, peer, peer_len, &pk));
    err = mica_kx_keygen(g, &mine, share, share_cap, share_len);
    if (err == MICA_OK) {
        err = derive(mine, pk, out);
        mica_kx_free(mine);
    }
    EVP_PKEY_free(pk);
    return err;
}
