/*
 * The crypto gate (src/crypto/crypto.h) against Project Wycheproof.
 *
 * The vectors are tests/vectors/wycheproof/<name>.txt, made from the checked-in JSON by
 * convert.py (format in its docstring; check_fresh.sh keeps them in step). Every file
 * is read whole; each case is run through the gate exactly as the TLS layers above use
 * it, and the result is held to mica's policy for TLS 1.3:
 *
 *   - X25519: a valid case gives the vector's secret. An all-zero secret (Wycheproof
 *     flags these ZeroSharedSecret, "acceptable") MUST fail with MICA_E_ZERO_SHARED
 *     (RFC 8446 7.4.2). Other "acceptable" cases (twist, low order, non-canonical) may
 *     go either way, but a success must give the vector's secret and never all zeros.
 *   - ECDH P-256/P-384: TLS 1.3 key shares are uncompressed points only (RFC 8446
 *     4.2.8.2), so compressed points are MICA_E_BAD_PEER_KEY whatever Wycheproof says;
 *     invalid points too.
 *   - AEAD: only the TLS 1.3 parameter sets are run (AES-128/256-GCM, ChaCha20-Poly1305,
 *     AES-128-CCM with 16- or 8-byte tags; 12-byte nonces). A nonce of any other size
 *     must be refused with MICA_E_ARGUMENT; key and tag sizes TLS does not use are
 *     skipped and counted. A failed open must wipe the buffer (crypto.h's promise).
 *   - HKDF: okm matches; a size over 255 * HashLen is MICA_E_ARGUMENT.
 *   - Signatures: every public key in these files is a well-formed key on the scheme's
 *     curve/type (they are Wycheproof's "valid key, bad signature" suites), so loading
 *     must succeed and mica_sig_fits must hold; then valid is MICA_OK and invalid is
 *     exactly MICA_E_BAD_SIGNATURE. MICA_E_DECODE/MICA_E_KEY_MISMATCH would mean the
 *     gate refused a usable key, which is a failure here, not a pass.
 *
 * Every file prints what it tested and what it skipped; a file with nothing tested fails.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vec.h"

#include "crypto/crypto.h"

#define MAX_FIELDS 12

/* ---- reading the .txt files ------------------------------------------------------ */

struct wp_case {
    long id;
    const char *result; /* valid, invalid, acceptable */
    const char *flags;  /* comma-separated, "-" for none */
    char **f;           /* the kind's fields after the flags */
};

struct stats {
    size_t cases;     /* test lines read */
    size_t valid;     /* valid (or accepted) cases that gave the expected result */
    size_t must_fail; /* cases that had to be refused: invalid, or refused by TLS policy */
    size_t acc_ok;    /* "acceptable" cases the gate accepted (result then checked) */
    size_t acc_rej;   /* "acceptable" cases the gate refused */
    size_t nonce;     /* AEAD: vectors with a non-TLS nonce size, checked to be refused */
    size_t skipped;   /* parameter sets TLS 1.3 does not use: not run */
};

typedef void (*group_fn)(char **f, void *ctx);
typedef void (*case_fn)(const struct wp_case *tc, void *ctx);

/* split: cut line at each '|' in place; empty fields are kept. Returns the field count
 * (MAX_FIELDS + 1 when there are too many). */
static size_t split(char *line, char **f)
{
    size_t n = 0;

    for (;;) {
        char *bar = strchr(line, '|');
        if (n == MAX_FIELDS) {
            return MAX_FIELDS + 1;
        }
        f[n++] = line;
        if (bar == NULL) {
            return n;
        }
        *bar = '\0';
        line = bar + 1;
    }
}

/*
 * run_file: feed every group line (group_n fields after "group") and every test line
 * (3 + case_n fields) of wycheproof/<name> to the callbacks. A missing file, a
 * malformed line or a test count that differs from the "tests|n" header fails the test.
 */
static void run_file(const char *name, size_t group_n, size_t case_n, group_fn on_group,
                     case_fn on_case, void *ctx, struct stats *st)
{
    char rel[256];
    char *text, *line, *next;
    long declared = -1;
    bool in_group = false;

    snprintf(rel, sizeof(rel), "wycheproof/%s", name);
    text = vec_read_file(vec_path(rel), NULL);
    CHECK_MSG(text != NULL, "%s: cannot read %s", name, vec_path(rel));
    if (text == NULL) {
        return;
    }
    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *f[MAX_FIELDS];
        size_t n;

        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        n = split(line, f);
        if (strcmp(f[0], "tests") == 0 && n == 2) {
            declared = strtol(f[1], NULL, 10);
        } else if (strcmp(f[0], "group") == 0) {
            CHECK_MSG(n == 1 + group_n, "%s: group line with %zu fields", name, n);
            if (n == 1 + group_n) {
                on_group(f + 1, ctx);
                in_group = true;
            }
        } else {
            struct wp_case tc;
            char *end;
            CHECK_MSG(n == 3 + case_n && in_group, "%s: bad test line (%zu fields) %s", name, n,
                      f[0]);
            if (n != 3 + case_n || !in_group) {
                continue;
            }
            tc.id = strtol(f[0], &end, 10);
            CHECK_MSG(*end == '\0', "%s: bad tcId %s", name, f[0]);
            tc.result = f[1];
            tc.flags = f[2];
            tc.f = f + 3;
            st->cases++;
            if (check_light() && st->cases % 4 != 1) {
                st->skipped++; /* MICA_TEST_LIGHT (valgrind): every fourth case */
                continue;
            }
            on_case(&tc, ctx);
        }
    }
    CHECK_MSG(declared >= 0 && (size_t)declared == st->cases,
              "%s: header declares %ld tests, file has %zu", name, declared, st->cases);
    free(text);
}

static void report(const char *name, const struct stats *st)
{
    size_t tested = st->valid + st->must_fail + st->acc_ok + st->acc_rej + st->nonce;

    printf("%-40s %4zu cases: %4zu tested (valid %zu, must-fail %zu, acceptable %zu accepted/"
           "%zu refused, bad-nonce refused %zu), %zu skipped\n",
           name, st->cases, tested, st->valid, st->must_fail, st->acc_ok, st->acc_rej, st->nonce,
           st->skipped);
    CHECK_MSG(tested > 0, "%s: no case was tested", name);
    /* A case that failed its checks is still counted above, so cases = tested + skipped
     * proves that no line fell through the policy without a decision. */
    CHECK_MSG(tested + st->skipped == st->cases, "%s: %zu cases, %zu tested + %zu skipped", name,
              st->cases, tested, st->skipped);
}

static bool is(const struct wp_case *tc, const char *result)
{
    return strcmp(tc->result, result) == 0;
}

static bool has_flag(const char *flags, const char *flag)
{
    size_t n = strlen(flag);

    while (*flags != '\0') {
        const char *comma = strchr(flags, ',');
        size_t len = comma != NULL ? (size_t)(comma - flags) : strlen(flags);
        if (len == n && strncmp(flags, flag, n) == 0) {
            return true;
        }
        if (comma == NULL) {
            break;
        }
        flags = comma + 1;
    }
    return false;
}

/* unhex: a field as bytes (heap; free()). The files are generated, so bad hex is a
 * broken checkout: stop at once rather than test garbage. */
static uint8_t *unhex(const char *hex, size_t *len)
{
    uint8_t *p = hex_alloc(hex, len);

    if (p == NULL) {
        fprintf(stderr, "test_wycheproof: bad hex field \"%.40s\"\n", hex);
        exit(2);
    }
    return p;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* ---- X25519 and ECDH --------------------------------------------------------------- */

struct kx_ctx {
    const struct mica_group *g;
    const char *curve; /* the Wycheproof curve name the file must use */
    struct stats st;
};

static void kx_group(char **f, void *ctx)
{
    struct kx_ctx *k = ctx;

    CHECK_MSG(strcmp(f[0], k->curve) == 0, "group curve %s, expected %s", f[0], k->curve);
}

/* x25519_case: tcId|result|flags|private|public|shared */
static void x25519_case(const struct wp_case *tc, void *ctx)
{
    struct kx_ctx *k = ctx;
    size_t priv_len, pub_len, want_len;
    uint8_t *priv = unhex(tc->f[0], &priv_len);
    uint8_t *pub = unhex(tc->f[1], &pub_len);
    uint8_t *want = unhex(tc->f[2], &want_len);
    mica_kx_key *key = NULL;
    MICA_KX_SHARED(out);
    mica_err err;

    err = mica_kx_key_from_private(k->g, priv, priv_len, &key, NULL, 0, NULL);
    CHECK_MSG(err == MICA_OK, "x25519 tc %ld: key_from_private: %s", tc->id, mica_err_name(err));
    if (err != MICA_OK) {
        k->st.must_fail++; /* counted so the totals still add up; the CHECK failed */
        goto done;
    }
    err = mica_kx_decap(key, pub, pub_len, &out);
    if (has_flag(tc->flags, "ZeroSharedSecret") || all_zero(want, want_len)) {
        /* RFC 8446 7.4.2: an all-zero X25519 result MUST abort the handshake */
        CHECK_MSG(err == MICA_E_ZERO_SHARED, "x25519 tc %ld (%s): decap gave %s, want zero_shared",
                  tc->id, tc->flags, mica_err_name(err));
        CHECK_MSG(out.len == 0 && all_zero(out.b, sizeof(out.b)),
                  "x25519 tc %ld: refused secret not wiped", tc->id);
        k->st.must_fail++;
    } else if (is(tc, "valid") || (is(tc, "acceptable") && err == MICA_OK)) {
        CHECK_MSG(err == MICA_OK, "x25519 tc %ld (%s, %s): decap: %s", tc->id, tc->result,
                  tc->flags, mica_err_name(err));
        CHECK_MSG(out.len == want_len && memcmp(out.b, want, want_len) == 0 &&
                      !all_zero(out.b, out.len),
                  "x25519 tc %ld (%s, %s): wrong shared secret", tc->id, tc->result, tc->flags);
        if (is(tc, "valid")) {
            k->st.valid++;
        } else {
            k->st.acc_ok++;
        }
    } else if (is(tc, "acceptable")) {
        /* refused without an all-zero result: allowed, but only as a peer-key error */
        CHECK_MSG(err == MICA_E_BAD_PEER_KEY, "x25519 tc %ld (%s): refused with %s", tc->id,
                  tc->flags, mica_err_name(err));
        k->st.acc_rej++;
    } else {
        CHECK_MSG(err != MICA_OK, "x25519 tc %ld (%s): invalid case accepted", tc->id, tc->flags);
        k->st.must_fail++;
    }
done:
    mica_kx_free(key);
    free(priv);
    free(pub);
    free(want);
}

/* ecdh_case: tcId|result|flags|private|public|shared (public: the raw X9.62 point) */
static void ecdh_case(const struct wp_case *tc, void *ctx)
{
    struct kx_ctx *k = ctx;
    size_t priv_len, pub_len, want_len, flen = k->g->secret_len, skip = 0;
    uint8_t *priv = unhex(tc->f[0], &priv_len);
    uint8_t *pub = unhex(tc->f[1], &pub_len);
    uint8_t *want = unhex(tc->f[2], &want_len);
    uint8_t scalar[MICA_MAX_KX_SECRET_LEN] = {0};
    bool compressed =
        has_flag(tc->flags, "CompressedPoint") || has_flag(tc->flags, "CompressedPublic");
    mica_kx_key *key = NULL;
    MICA_KX_SHARED(out);
    mica_err err;

    /* Wycheproof writes the scalar as a signed big-endian integer: it may carry a 00 sign
     * byte or be shorter than the field. The gate takes exactly the field length. */
    while (priv_len - skip > flen && priv[skip] == 0) {
        skip++;
    }
    CHECK_MSG(priv_len - skip <= flen, "ecdh tc %ld: private key longer than the field", tc->id);
    if (priv_len - skip > flen) {
        k->st.must_fail++;
        goto done;
    }
    memcpy(scalar + flen - (priv_len - skip), priv + skip, priv_len - skip);
    err = mica_kx_key_from_private(k->g, scalar, flen, &key, NULL, 0, NULL);
    CHECK_MSG(err == MICA_OK, "%s tc %ld: key_from_private: %s", k->g->name, tc->id,
              mica_err_name(err));
    if (err != MICA_OK) {
        k->st.must_fail++;
        goto done;
    }
    err = mica_kx_decap(key, pub, pub_len, &out);
    if (compressed || is(tc, "invalid")) {
        /* RFC 8446 4.2.8.2: only the uncompressed form (legacy_form = 4) is allowed */
        CHECK_MSG(err == MICA_E_BAD_PEER_KEY, "%s tc %ld (%s, %s): decap gave %s, want %s",
                  k->g->name, tc->id, tc->result, tc->flags, mica_err_name(err),
                  mica_err_name(MICA_E_BAD_PEER_KEY));
        k->st.must_fail++;
    } else if (is(tc, "valid") || err == MICA_OK) {
        CHECK_MSG(err == MICA_OK, "%s tc %ld (%s): decap: %s", k->g->name, tc->id, tc->flags,
                  mica_err_name(err));
        CHECK_MSG(out.len == want_len && memcmp(out.b, want, want_len) == 0,
                  "%s tc %ld (%s): wrong shared secret", k->g->name, tc->id, tc->flags);
        if (is(tc, "valid")) {
            k->st.valid++;
        } else {
            k->st.acc_ok++;
        }
    } else {
        CHECK_MSG(err == MICA_E_BAD_PEER_KEY, "%s tc %ld (%s): refused with %s", k->g->name, tc->id,
                  tc->flags, mica_err_name(err));
        k->st.acc_rej++;
    }
done:
    mica_kx_free(key);
    free(priv);
    free(pub);
    free(want);
}

static void test_kx(const char *file, const char *group, const char *curve, case_fn fn)
{
    struct kx_ctx k = {mica_group_by_name(group), curve, {0}};

    CHECK_MSG(k.g != NULL, "group %s missing", group);
    if (k.g == NULL) {
        return;
    }
    run_file(file, 1, 3, kx_group, fn, &k, &k.st);
    report(file, &k.st);
}

/* ---- AEAD ---------------------------------------------------------------------------- */

/* pick: the TLS 1.3 AEAD for (key bits, tag bits) in this file, or NULL. */
typedef const struct mica_aead_desc *(*aead_pick)(unsigned key_bits, unsigned tag_bits);

static const struct mica_aead_desc *suite_aead(const char *suite)
{
    const struct mica_suite *s = mica_suite_by_name(suite);

    CHECK_MSG(s != NULL, "suite %s missing", suite);
    return s != NULL ? s->aead : NULL;
}

static const struct mica_aead_desc *pick_gcm(unsigned key_bits, unsigned tag_bits)
{
    if (tag_bits != 128) {
        return NULL;
    }
    if (key_bits == 128) {
        return suite_aead("TLS_AES_128_GCM_SHA256");
    }
    return key_bits == 256 ? suite_aead("TLS_AES_256_GCM_SHA384") : NULL;
}

static const struct mica_aead_desc *pick_chacha(unsigned key_bits, unsigned tag_bits)
{
    return key_bits == 256 && tag_bits == 128 ? suite_aead("TLS_CHACHA20_POLY1305_SHA256") : NULL;
}

static const struct mica_aead_desc *pick_ccm(unsigned key_bits, unsigned tag_bits)
{
    if (key_bits != 128) {
        return NULL;
    }
    if (tag_bits == 128) {
        return suite_aead("TLS_AES_128_CCM_SHA256");
    }
    return tag_bits == 64 ? suite_aead("TLS_AES_128_CCM_8_SHA256") : NULL;
}

struct aead_ctx {
    aead_pick pick;
    unsigned key_bits, iv_bits, tag_bits;
    const struct mica_aead_desc *d;    /* the TLS AEAD for this group, or NULL */
    const struct mica_aead_desc *dkey; /* one for this key size (any tag), or NULL */
    struct stats st;
};

static void aead_group(char **f, void *ctx)
{
    struct aead_ctx *a = ctx;

    a->key_bits = (unsigned)strtoul(f[0], NULL, 10);
    a->iv_bits = (unsigned)strtoul(f[1], NULL, 10);
    a->tag_bits = (unsigned)strtoul(f[2], NULL, 10);
    a->d = a->pick(a->key_bits, a->tag_bits);
    a->dkey = a->d;
    /* The nonce-size check does not depend on the tag size, so a group with a non-TLS
     * tag and a non-TLS nonce still checks the nonce with a same-key descriptor. */
    for (unsigned t = 128; a->dkey == NULL && t >= 64; t -= 64) {
        a->dkey = a->pick(a->key_bits, t);
    }
}

/* new_pair: an encrypting and a decrypting context for key (both or neither). */
static bool new_pair(const struct mica_aead_desc *d, const uint8_t *key, size_t key_len,
                     mica_aead **enc, mica_aead **dec, long id)
{
    mica_err e1 = mica_aead_new(d, key, key_len, true, enc);
    mica_err e2 = e1 == MICA_OK ? mica_aead_new(d, key, key_len, false, dec) : e1;

    CHECK_MSG(e1 == MICA_OK && e2 == MICA_OK, "%s tc %ld: aead_new: %s", d->name, id,
              mica_err_name(e1 != MICA_OK ? e1 : e2));
    if (e1 == MICA_OK && e2 != MICA_OK) {
        mica_aead_free(*enc);
    }
    return e1 == MICA_OK && e2 == MICA_OK;
}

/* aead_case: tcId|result|flags|key|iv|aad|msg|ct|tag */
static void aead_case(const struct wp_case *tc, void *ctx)
{
    struct aead_ctx *a = ctx;
    size_t key_len, iv_len, aad_len, msg_len, ct_len, tag_len;
    uint8_t *key, *iv, *aad, *msg, *ct, *tag, *buf;
    uint8_t tagbuf[MICA_MAX_AEAD_TAG_LEN] = {0};
    mica_aead *enc = NULL, *dec = NULL;
    const struct mica_aead_desc *d;
    mica_err err;

    if (a->dkey == NULL) {
        a->st.skipped++; /* a key size no TLS 1.3 suite uses (AES-192, AES-256-CCM) */
        return;
    }
    key = unhex(tc->f[0], &key_len);
    iv = unhex(tc->f[1], &iv_len);
    aad = unhex(tc->f[2], &aad_len);
    msg = unhex(tc->f[3], &msg_len);
    ct = unhex(tc->f[4], &ct_len);
    tag = unhex(tc->f[5], &tag_len);
    buf = malloc(msg_len + 1);
    /* (the invalid-nonce cases of the ChaCha20-Poly1305 file carry no ct and no tag) */
    CHECK_MSG(iv_len * 8 == a->iv_bits && ct_len == msg_len &&
                  (tag_len * 8 == a->tag_bits || (tag_len == 0 && is(tc, "invalid"))),
              "tc %ld: field sizes disagree with the group", tc->id);
    if (buf == NULL || ct_len != msg_len || tag_len > sizeof(tagbuf)) {
        a->st.must_fail++;
        goto done;
    }
    memcpy(tagbuf, tag, tag_len);

    if (iv_len != MICA_AEAD_NONCE_LEN) {
        /* RFC 8446 5.3: the per-record nonce is 12 bytes for every suite; anything else
         * is a caller bug the gate must refuse, not silently pad or truncate. */
        d = a->dkey;
        if (!new_pair(d, key, key_len, &enc, &dec, tc->id)) {
            a->st.must_fail++;
            goto done;
        }
        memcpy(buf, msg, msg_len);
        err = mica_aead_seal(enc, iv, iv_len, aad, aad_len, buf, msg_len, tagbuf);
        CHECK_MSG(err == MICA_E_ARGUMENT, "%s tc %ld: seal with a %zu-byte nonce gave %s", d->name,
                  tc->id, iv_len, mica_err_name(err));
        memcpy(buf, ct, ct_len);
        err = mica_aead_open(dec, iv, iv_len, aad, aad_len, buf, ct_len, tagbuf);
        CHECK_MSG(err == MICA_E_ARGUMENT, "%s tc %ld: open with a %zu-byte nonce gave %s", d->name,
                  tc->id, iv_len, mica_err_name(err));
        a->st.nonce++;
        goto done;
    }
    d = a->d;
    if (d == NULL) {
        a->st.skipped++; /* a tag size no TLS 1.3 suite uses */
        goto done;
    }
    CHECK_MSG(key_len == d->key_len && tag_len == d->tag_len, "tc %ld: sizes", tc->id);
    if (key_len != d->key_len || tag_len != d->tag_len ||
        !new_pair(d, key, key_len, &enc, &dec, tc->id)) {
        a->st.must_fail++;
        goto done;
    }

    if (is(tc, "invalid")) {
        memcpy(buf, ct, ct_len);
        err = mica_aead_open(dec, iv, iv_len, aad, aad_len, buf, ct_len, tag);
        CHECK_MSG(err == MICA_E_BAD_RECORD_MAC, "%s tc %ld (%s): open gave %s, want %s", d->name,
                  tc->id, tc->flags, mica_err_name(err), mica_err_name(MICA_E_BAD_RECORD_MAC));
        /* crypto.h: a failed open wipes buf, so no unauthenticated plaintext is seen */
        CHECK_MSG(all_zero(buf, ct_len), "%s tc %ld: buffer not wiped after a failed open", d->name,
                  tc->id);
        a->st.must_fail++;
        goto done;
    }
    /* valid (Wycheproof marks no AEAD case "acceptable") */
    memcpy(buf, msg, msg_len);
    err = mica_aead_seal(enc, iv, iv_len, aad, aad_len, buf, msg_len, tagbuf);
    CHECK_MSG(err == MICA_OK, "%s tc %ld: seal: %s", d->name, tc->id, mica_err_name(err));
    CHECK_MSG(err != MICA_OK || (memcmp(buf, ct, ct_len) == 0 && memcmp(tagbuf, tag, tag_len) == 0),
              "%s tc %ld (%s): seal gave the wrong ciphertext or tag", d->name, tc->id, tc->flags);
    memcpy(buf, ct, ct_len);
    err = mica_aead_open(dec, iv, iv_len, aad, aad_len, buf, ct_len, tag);
    CHECK_MSG(err == MICA_OK, "%s tc %ld (%s): open: %s", d->name, tc->id, tc->flags,
              mica_err_name(err));
    CHECK_MSG(err != MICA_OK || memcmp(buf, msg, msg_len) == 0,
              "%s tc %ld: open gave the wrong plaintext", d->name, tc->id);
    a->st.valid++;
done:
    mica_aead_free(enc);
    mica_aead_free(dec);
    free(buf);
    free(key);
    free(iv);
    free(aad);
    free(msg);
    free(ct);
    free(tag);
}

static void test_aead(const char *file, aead_pick pick)
{
    struct aead_ctx a;

    memset(&a, 0, sizeof(a));
    a.pick = pick;
    run_file(file, 3, 6, aead_group, aead_case, &a, &a.st);
    report(file, &a.st);
}

/* ---- HKDF ---------------------------------------------------------------------------- */

struct hkdf_ctx {
    const struct mica_hash_desc *h;
    struct stats st;
};

static void hkdf_group(char **f, void *ctx)
{
    (void)f, (void)ctx; /* keySize is the ikm size: nothing to set up */
}

/* hkdf_case: tcId|result|flags|ikm|salt|info|size|okm */
static void hkdf_case(const struct wp_case *tc, void *ctx)
{
    struct hkdf_ctx *k = ctx;
    size_t ikm_len, salt_len, info_len, okm_len, size;
    uint8_t *ikm = unhex(tc->f[0], &ikm_len);
    uint8_t *salt = unhex(tc->f[1], &salt_len);
    uint8_t *info = unhex(tc->f[2], &info_len);
    uint8_t *okm = unhex(tc->f[4], &okm_len);
    uint8_t *out;
    char *end;
    MICA_SECRET(prk);
    mica_err err;

    size = (size_t)strtoul(tc->f[3], &end, 10);
    CHECK_MSG(*end == '\0', "hkdf tc %ld: bad size %s", tc->id, tc->f[3]);
    out = malloc(size + 1);
    if (out == NULL) {
        k->st.must_fail++;
        goto done;
    }
    /* RFC 5869 2.2: an empty salt is HashLen zeros; the gate does that for salt_len 0 */
    err = mica_hkdf_extract(k->h, salt, salt_len, ikm, ikm_len, &prk);
    CHECK_MSG(err == MICA_OK && prk.len == k->h->len, "hkdf %s tc %ld: extract: %s", k->h->name,
              tc->id, mica_err_name(err));
    err = mica_hkdf_expand(k->h, prk.b, prk.len, info, info_len, out, size);
    if (is(tc, "invalid")) {
        /* RFC 5869 2.3: L <= 255 * HashLen */
        CHECK_MSG(err == MICA_E_ARGUMENT, "hkdf %s tc %ld (%s, size %zu): expand gave %s",
                  k->h->name, tc->id, tc->flags, size, mica_err_name(err));
        k->st.must_fail++;
    } else {
        CHECK_MSG(err == MICA_OK, "hkdf %s tc %ld: expand: %s", k->h->name, tc->id,
                  mica_err_name(err));
        CHECK_MSG(okm_len == size && (err != MICA_OK || memcmp(out, okm, size) == 0),
                  "hkdf %s tc %ld (%s): wrong okm", k->h->name, tc->id, tc->flags);
        k->st.valid++;
    }
done:
    free(out);
    free(ikm);
    free(salt);
    free(info);
    free(okm);
}

static void test_hkdf(const char *file, const struct mica_hash_desc *h)
{
    struct hkdf_ctx k = {h, {0}};

    run_file(file, 1, 5, hkdf_group, hkdf_case, &k, &k.st);
    report(file, &k.st);
}

/* ---- signatures ------------------------------------------------------------------- */

struct sig_ctx {
    const struct mica_sig_scheme *s;
    const char *sha, *mgf_sha, *slen; /* the group parameters the scheme implies */
    mica_pkey *key;                   /* the current group's key, or NULL */
    struct stats st;
};

/* sig_group: publicKeyDer|sha|mgfSha|sLen */
static void sig_group(char **f, void *ctx)
{
    struct sig_ctx *c = ctx;
    size_t der_len;
    uint8_t *der = unhex(f[0], &der_len);
    mica_err err;

    mica_pkey_free(c->key);
    c->key = NULL;
    /* the file must test exactly what the scheme means (RFC 8446 4.2.3) */
    CHECK_MSG(strcmp(f[1], c->sha) == 0 && strcmp(f[2], c->mgf_sha) == 0 &&
                  strcmp(f[3], c->slen) == 0,
              "%s: group parameters %s/%s/%s", c->s->name, f[1], f[2], f[3]);
    err = mica_pkey_from_spki(der, der_len, &c->key);
    CHECK_MSG(err == MICA_OK, "%s: a well-formed public key was refused: %s (%.60s...)", c->s->name,
              mica_err_name(err), f[0]);
    if (err != MICA_OK) {
        c->key = NULL;
    } else {
        CHECK_MSG(mica_sig_fits(c->s, c->key), "%s: key does not fit", c->s->name);
    }
    free(der);
}

/* sig_case: tcId|result|flags|msg|sig */
static void sig_case(const struct wp_case *tc, void *ctx)
{
    struct sig_ctx *c = ctx;
    size_t msg_len, sig_len;
    uint8_t *msg = unhex(tc->f[0], &msg_len);
    uint8_t *sig = unhex(tc->f[1], &sig_len);
    mica_err err;

    if (c->key == NULL) {
        CHECK_MSG(false, "%s tc %ld: no key (group key refused)", c->s->name, tc->id);
        c->st.must_fail++;
        goto done;
    }
    err = mica_sig_verify(c->s, c->key, msg, msg_len, sig, sig_len);
    if (is(tc, "valid")) {
        CHECK_MSG(err == MICA_OK, "%s tc %ld (%s): valid signature refused: %s", c->s->name, tc->id,
                  tc->flags, mica_err_name(err));
        c->st.valid++;
    } else if (is(tc, "invalid")) {
        CHECK_MSG(err == MICA_E_BAD_SIGNATURE, "%s tc %ld (%s): invalid signature gave %s",
                  c->s->name, tc->id, tc->flags, mica_err_name(err));
        c->st.must_fail++;
    } else {
        CHECK_MSG(err == MICA_OK || err == MICA_E_BAD_SIGNATURE, "%s tc %ld: gave %s", c->s->name,
                  tc->id, mica_err_name(err));
        if (err == MICA_OK) {
            c->st.acc_ok++;
        } else {
            c->st.acc_rej++;
        }
    }
done:
    free(msg);
    free(sig);
}

static void test_sig(const char *file, const char *scheme, const char *sha, const char *mgf_sha,
                     const char *slen)
{
    struct sig_ctx c = {mica_sig_scheme_by_name(scheme), sha, mgf_sha, slen, NULL, {0}};

    CHECK_MSG(c.s != NULL, "scheme %s missing", scheme);
    if (c.s == NULL) {
        return;
    }
    run_file(file, 4, 2, sig_group, sig_case, &c, &c.st);
    mica_pkey_free(c.key);
    report(file, &c.st);
}

int main(void)
{
    CHECK_OK(mica_cr_init());

    test_kx("x25519_test.txt", "x25519", "curve25519", x25519_case);
    test_kx("ecdh_secp256r1_ecpoint_test.txt", "secp256r1", "secp256r1", ecdh_case);
    test_kx("ecdh_secp384r1_ecpoint_test.txt", "secp384r1", "secp384r1", ecdh_case);

    test_aead("aes_gcm_test.txt", pick_gcm);
    test_aead("chacha20_poly1305_test.txt", pick_chacha);
    test_aead("aes_ccm_test.txt", pick_ccm);

    test_hkdf("hkdf_sha256_test.txt", &mica_hash_sha256);
    test_hkdf("hkdf_sha384_test.txt", &mica_hash_sha384);

    test_sig("ecdsa_secp256r1_sha256_test.txt", "ecdsa_secp256r1_sha256", "SHA-256", "-", "-");
    test_sig("ecdsa_secp384r1_sha384_test.txt", "ecdsa_secp384r1_sha384", "SHA-384", "-", "-");
    test_sig("ed25519_test.txt", "ed25519", "-", "-", "-");
    /* The file's key is an rsaEncryption SPKI (OID 1.2.840.113549.1.1.1), so the TLS
     * scheme is rsa_pss_rsae_sha256: PSS, SHA-256, MGF1-SHA-256, salt 32. */
    test_sig("rsa_pss_2048_sha256_mgf1_32_test.txt", "rsa_pss_rsae_sha256", "SHA-256", "SHA-256",
             "32");

    return check_exit("test_wycheproof");
}
