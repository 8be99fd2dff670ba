/* RFC 8446 section 7: the key schedule. See keysched.h for the stage machine. */
#include "tls/keysched.h"

#include <string.h>

#include "base/limits.h"
#include "base/wr.h"

static const char *const stage_names[] = {"none", "early", "handshake", "master", "done"};

const char *mica_ks_stage_name(enum mica_ks_stage stage)
{
    return (size_t)stage < MICA_ARRAY_LEN(stage_names) ? stage_names[stage] : "unknown";
}

void mica_ks_init(struct mica_keysched *ks, const struct mica_hash_desc *hash)
{
    mica_mem_wipe(ks, sizeof(*ks));
    ks->hash = hash;
    ks->stage = MICA_KS_NONE;
}

void mica_ks_clear(struct mica_keysched *ks)
{
    const struct mica_hash_desc *hash = ks->hash;

    mica_mem_wipe(ks, sizeof(*ks));
    ks->hash = hash;
}

mica_err mica_ks_expand_label(const struct mica_hash_desc *h, const mica_secret *secret,
                              const char *label, const uint8_t *context, size_t context_len,
                              uint8_t *out, size_t out_len)
{
    static const char prefix[] = "tls13 ";
    uint8_t info[2 + 1 + MICA_MAX_HKDF_LABEL_LEN + 1 + MICA_MAX_HKDF_CONTEXT_LEN];
    size_t label_len = strlen(label), info_len, mark;
    mica_wr w = mica_wr_init(info, sizeof(info));

    /* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel */
    ENSURE(out_len <= UINT16_MAX, MICA_E_ARGUMENT);
    ENSURE(label_len <= MICA_MAX_HKDF_LABEL_LEN - (sizeof(prefix) - 1), MICA_E_ARGUMENT);
    ENSURE(context_len <= MICA_MAX_HKDF_CONTEXT_LEN, MICA_E_ARGUMENT);
    mica_wr_u16(&w, (uint16_t)out_len);
    mica_wr_open8(&w, &mark);
    mica_wr_bytes(&w, (const uint8_t *)prefix, sizeof(prefix) - 1);
    mica_wr_bytes(&w, (const uint8_t *)label, label_len);
    mica_wr_close(&w, mark);
    mica_wr_open8(&w, &mark);
    mica_wr_bytes(&w, context, context_len);
    mica_wr_close(&w, mark);
    TRY(mica_wr_finish(&w, &info_len));
    return mica_hkdf_expand(h, secret->b, secret->len, info, info_len, out, out_len);
}

mica_err mica_ks_derive_secret(const struct mica_hash_desc *h, const mica_secret *secret,
                               const char *label, const uint8_t *th, mica_secret *out)
{
    TRY(mica_ks_expand_label(h, secret, label, th, h->len, out->b, h->len));
    out->len = h->len;
    return MICA_OK;
}

/* derive_empty: Derive-Secret(secret, label, "") -- the transcript of no messages. */
static mica_err derive_empty(const struct mica_hash_desc *h, const mica_secret *secret,
                             const char *label, mica_secret *out)
{
    const uint8_t *empty_hash = mica_hash_empty(h);

    ENSURE(empty_hash != NULL, MICA_E_UNSUPPORTED);
    return mica_ks_derive_secret(h, secret, label, empty_hash, out);
}

static mica_err at(const struct mica_keysched *ks, enum mica_ks_stage stage)
{
    ENSURE(ks->hash != NULL && ks->stage == stage, MICA_E_STAGE);
    return MICA_OK;
}

mica_err mica_ks_early(struct mica_keysched *ks, const uint8_t *psk, size_t psk_len)
{
    static const uint8_t zeros[MICA_MAX_HASH_LEN];

    TRY(at(ks, MICA_KS_NONE));
    if (psk == NULL) { /* RFC 8446 7.1: "a string of Hash.length bytes set to zeros" */
        psk = zeros;
        psk_len = ks->hash->len;
    }
    TRY(mica_hkdf_extract(ks->hash, NULL, 0, psk, psk_len, &ks->secret));
    ks->stage = MICA_KS_EARLY;
    return MICA_OK;
}

mica_err mica_ks_binder_key(const struct mica_keysched *ks, bool external, mica_secret *out)
{
    TRY(at(ks, MICA_KS_EARLY));
    return derive_empty(ks->hash, &ks->secret, external ? "ext binder" : "res binder", out);
}

mica_err mica_ks_early_traffic(const struct mica_keysched *ks, const uint8_t *th, mica_secret *out)
{
    TRY(at(ks, MICA_KS_EARLY));
    return mica_ks_derive_secret(ks->hash, &ks->secret, "c e traffic", th, out);
}

mica_err mica_ks_early_exporter(const struct mica_keysched *ks, const uint8_t *th, mica_secret *out)
{
    TRY(at(ks, MICA_KS_EARLY));
    return mica_ks_derive_secret(ks->hash, &ks->secret, "e exp master", th, out);
}

/* next_stage: secret = HKDF-Extract(Derive-Secret(secret, "derived", ""), ikm), wiping
 * the old secret as it is replaced. */
static mica_err next_stage(struct mica_keysched *ks, const uint8_t *ikm, size_t ikm_len,
                           enum mica_ks_stage next)
{
    static const uint8_t zeros[MICA_MAX_HASH_LEN];
    MICA_SECRET(derived);

    TRY(derive_empty(ks->hash, &ks->secret, "derived", &derived));
    if (ikm == NULL) {
        ikm = zeros;
        ikm_len = ks->hash->len;
    }
    mica_secret_wipe(&ks->secret);
    TRY(mica_hkdf_extract(ks->hash, derived.b, derived.len, ikm, ikm_len, &ks->secret));
    ks->stage = next;
    return MICA_OK;
}

mica_err mica_ks_handshake(struct mica_keysched *ks, const uint8_t *shared, size_t shared_len)
{
    TRY(at(ks, MICA_KS_EARLY));
    return next_stage(ks, shared, shared_len, MICA_KS_HANDSHAKE);
}

static mica_err pair(const struct mica_keysched *ks, const char *c_label, const char *s_label,
                     const uint8_t *th, mica_secret *client, mica_secret *server)
{
    TRY(mica_ks_derive_secret(ks->hash, &ks->secret, c_label, th, client));
    return mica_ks_derive_secret(ks->hash, &ks->secret, s_label, th, server);
}

mica_err mica_ks_hs_traffic(const struct mica_keysched *ks, const uint8_t *th, mica_secret *client,
                            mica_secret *server)
{
    TRY(at(ks, MICA_KS_HANDSHAKE));
    return pair(ks, "c hs traffic", "s hs traffic", th, client, server);
}

mica_err mica_ks_master(struct mica_keysched *ks)
{
    TRY(at(ks, MICA_KS_HANDSHAKE));
    return next_stage(ks, NULL, 0, MICA_KS_MASTER);
}

mica_err mica_ks_app_traffic(const struct mica_keysched *ks, const uint8_t *th, mica_secret *client,
                             mica_secret *server)
{
    TRY(at(ks, MICA_KS_MASTER));
    return pair(ks, "c ap traffic", "s ap traffic", th, client, server);
}

mica_err mica_ks_exporter_master(const struct mica_keysched *ks, const uint8_t *th,
                                 mica_secret *out)
{
    TRY(at(ks, MICA_KS_MASTER));
    return mica_ks_derive_secret(ks->hash, &ks->secret, "exp master", th, out);
}

mica_err mica_ks_resumption_master(const struct mica_keysched *ks, const uint8_t *th,
                                   mica_secret *out)
{
    TRY(at(ks, MICA_KS_MASTER));
    return mica_ks_derive_secret(ks->hash, &ks->secret, "res master", th, out);
}

mica_err mica_ks_done(struct mica_keysched *ks)
{
    TRY(at(ks, MICA_KS_MASTER));
    mica_secret_wipe(&ks->secret);
    ks->stage = MICA_KS_DONE;
    return MICA_OK;
}

mica_err mica_ks_traffic_key(const struct mica_suite *s, const mica_secret *traffic, uint8_t *key,
                             uint8_t *iv)
{
    /* RFC 8446 7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
     *               [sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length) */
    TRY(mica_ks_expand_label(s->hash, traffic, "key", NULL, 0, key, s->aead->key_len));
    return mica_ks_expand_label(s->hash, traffic, "iv", NULL, 0, iv, MICA_AEAD_NONCE_LEN);
}

mica_err mica_ks_finished_key(const struct mica_hash_desc *h, const mica_secret *base_key,
                              mica_secret *out)
{
    TRY(mica_ks_expand_label(h, base_key, "finished", NULL, 0, out->b, h->len));
    out->len = h->len;
    return MICA_OK;
}

mica_err mica_ks_finished(const struct mica_hash_desc *h, const mica_secret *base_key,
                          const uint8_t *th, uint8_t *out)
{
    MICA_SECRET(finished_key);

    TRY(mica_ks_finished_key(h, base_key, &finished_key));
    return mica_hmac(h, finished_key.b, finished_key.len, th, h->len, out);
}

mica_err mica_ks_verify_finished(const struct mica_hash_desc *h, const mica_secret *base_key,
                                 const uint8_t *th, const uint8_t *got, size_t got_len)
{
    uint8_t want[MICA_MAX_HASH_LEN];
    bool ok;

    TRY(mica_ks_finished(h, base_key, th, want));
    /* the length is public (it is the hash's); the value is compared in constant time */
    ok = MICA_VERIFIED(got_len == h->len && mica_ct_eq(want, got, h->len));
    mica_mem_wipe(want, sizeof(want));
    ENSURE(ok, MICA_E_DECRYPT_ERROR);
    return MICA_OK;
}

mica_err mica_ks_update_traffic(const struct mica_hash_desc *h, mica_secret *traffic)
{
    MICA_SECRET(next);

    TRY(mica_ks_expand_label(h, traffic, "traffic upd", NULL, 0, next.b, h->len));
    next.len = h->len;
    mica_secret_wipe(traffic);
    *traffic = next;
    return MICA_OK;
}

mica_err mica_ks_exporter(const struct mica_hash_desc *h, const mica_secret *exp_master,
                          const char *label, size_t label_len, const uint8_t *context,
                          size_t context_len, uint8_t *out, size_t out_len)
{
    char lbl[MICA_MAX_HKDF_LABEL_LEN + 1];
    uint8_t ctx_hash[MICA_MAX_HASH_LEN];
    MICA_SECRET(derived);

    /* RFC 8446 7.5: TLS-Exporter(label, context_value, key_length) =
     *   HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter",
     *                     Hash(context_value), key_length) */
    ENSURE(label_len < sizeof(lbl) && memchr(label, '\0', label_len) == NULL, MICA_E_ARGUMENT);
    ENSURE(out_len <= MICA_MAX_EXPORTER_LEN, MICA_E_ARGUMENT);
    memcpy(lbl, label, label_len);
    lbl[label_len] = '\0';
    TRY(derive_empty(h, exp_master, lbl, &derived));
    TRY(mica_hash(h, context, context_len, ctx_hash));
    return mica_ks_expand_label(h, &derived, "exporter", ctx_hash, h->len, out, out_len);
}

mica_err mica_ks_resumption_psk(const struct mica_hash_desc *h, const mica_secret *res_master,
                                const uint8_t *nonce, size_t nonce_len, mica_secret *psk)
{
    TRY(mica_ks_expand_label(h, res_master, "resumption", nonce, nonce_len, psk->b, h->len));
    psk->len = h->len;
    return MICA_OK;
}
