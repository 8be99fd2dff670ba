/* The record layer, RFC 8446 section 5. See record.h. */
#include "tls/record.h"

#include <string.h>

#include "base/wr.h"
#include "tls/keysched.h"

void mica_rec_dir_init(struct mica_rec_dir *d, bool encrypt)
{
    memset(d, 0, sizeof(*d));
    d->max_inner = MICA_MAX_PLAINTEXT + 1;
    d->epoch = MICA_EPOCH_PLAINTEXT;
    d->encrypt = encrypt;
}

void mica_rec_dir_clear(struct mica_rec_dir *d)
{
    bool encrypt = d->encrypt;
    size_t max_inner = d->max_inner;

    mica_aead_free(d->aead);
    mica_mem_wipe(d, sizeof(*d));
    mica_rec_dir_init(d, encrypt);
    d->max_inner = max_inner;
}

mica_err mica_rec_set_key(struct mica_rec_dir *d, const struct mica_suite *s,
                          const mica_secret *traffic, enum mica_epoch epoch)
{
    uint8_t key[MICA_MAX_AEAD_KEY_LEN], iv[MICA_AEAD_NONCE_LEN];
    mica_aead *aead = NULL;
    mica_err err;

    ENSURE(epoch != MICA_EPOCH_PLAINTEXT, MICA_E_ARGUMENT);
    /* the new key and IV replace the old ones only once both exist: a failure leaves the
     * direction as it was (an alert may still need the old key) */
    err = mica_ks_traffic_key(s, traffic, key, iv);
    if (err == MICA_OK) {
        err = mica_aead_new(s->aead, key, s->aead->key_len, d->encrypt, &aead);
    }
    mica_mem_wipe(key, sizeof(key));
    if (err != MICA_OK) {
        mica_mem_wipe(iv, sizeof(iv));
        return err;
    }
    memcpy(d->iv, iv, sizeof(iv));
    mica_mem_wipe(iv, sizeof(iv));
    mica_aead_free(d->aead);
    d->aead = aead;
    d->suite = s;
    d->seq = 0;
    d->limit = s->aead->max_records;
    d->epoch = epoch;
    return MICA_OK;
}

mica_err mica_rec_set_limit(struct mica_rec_dir *d, size_t record_size_limit)
{
    /* RFC 8449 4: "MUST NOT send a value smaller than 64"; TLS 1.3 peers may not send
     * more than 2^14 + 1 */
    ENSURE(record_size_limit >= MICA_MIN_RECORD_SIZE_LIMIT, MICA_E_ILLEGAL_PARAMETER);
    d->max_inner =
        record_size_limit < MICA_MAX_PLAINTEXT + 1 ? record_size_limit : MICA_MAX_PLAINTEXT + 1;
    return MICA_OK;
}

uint64_t mica_rec_uses_left(const struct mica_rec_dir *d)
{
    if (d->suite == NULL) {
        return UINT64_MAX;
    }
    return d->seq < d->limit ? d->limit - d->seq : 0;
}

size_t mica_rec_overhead(const struct mica_rec_dir *d)
{
    return d->suite != NULL ? 1u + d->suite->aead->tag_len : 0u;
}

size_t mica_rec_max_content(const struct mica_rec_dir *d)
{
    return d->suite != NULL ? d->max_inner - 1 : MICA_MAX_PLAINTEXT;
}

static bool known_type(uint8_t t)
{
    return t == MICA_CT_CHANGE_CIPHER_SPEC || t == MICA_CT_ALERT || t == MICA_CT_HANDSHAKE ||
           t == MICA_CT_APPLICATION_DATA;
}

mica_err mica_rec_header(const struct mica_rec_dir *d, const uint8_t *buf, size_t avail,
                         struct mica_rec_header *h)
{
    struct mica_rec_header r;
    size_t max;

    if (avail < MICA_RECORD_HEADER_LEN) {
        return MICA_WANT_READ;
    }
    r.type = buf[0];
    r.version = (uint16_t)((buf[1] << 8) | buf[2]);
    r.len = (uint16_t)((buf[3] << 8) | buf[4]);
    ENSURE(known_type(r.type), MICA_E_CONTENT_TYPE);
    /* RFC 8446 5.1: TLSPlaintext.length "MUST NOT exceed 2^14 bytes"; 5.2:
     * TLSCiphertext.length "larger than 2^14 + 256 ... MUST terminate the connection
     * with a record_overflow alert" */
    max = (d->suite != NULL && r.type == MICA_CT_APPLICATION_DATA) ? MICA_MAX_CIPHERTEXT
                                                                   : MICA_MAX_PLAINTEXT;
    ENSURE(r.len <= max, MICA_E_RECORD_OVERFLOW);
    *h = r;
    return MICA_OK;
}

/* nonce = iv XOR seq, left-padded to iv_length (RFC 8446 5.3) */
static void make_nonce(const struct mica_rec_dir *d, uint8_t *nonce)
{
    memcpy(nonce, d->iv, MICA_AEAD_NONCE_LEN);
    for (size_t i = 0; i < 8; i++) {
        nonce[MICA_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
    }
}

static mica_err next_seq(struct mica_rec_dir *d, bool sending)
{
    /* RFC 8446 5.3: "If a TLS implementation would need to wrap a sequence number, it
     * MUST either rekey or terminate the connection." */
    ENSURE(d->seq != MICA_SEQ_MAX, MICA_E_SEQ_EXHAUSTED);
    ENSURE(!sending || d->seq < d->limit, MICA_E_KEY_LIMIT);
    return MICA_OK;
}

static void put_header(uint8_t *buf, uint8_t type, uint16_t version, size_t len)
{
    buf[0] = type;
    buf[1] = (uint8_t)(version >> 8);
    buf[2] = (uint8_t)version;
    buf[3] = (uint8_t)(len >> 8);
    buf[4] = (uint8_t)len;
}

mica_err mica_rec_seal(struct mica_rec_dir *d, enum mica_content_type type, uint8_t *buf,
                       size_t cap, size_t content_len, size_t pad_len, uint16_t legacy_version,
                       size_t *rec_len)
{
    return mica_rec_seal_from(d, type, NULL, buf, cap, content_len, pad_len, legacy_version,
                              rec_len);
}

mica_err mica_rec_seal_from(struct mica_rec_dir *d, enum mica_content_type type,
                            const uint8_t *content, uint8_t *buf, size_t cap, size_t content_len,
                            size_t pad_len, uint16_t legacy_version, size_t *rec_len)
{
    uint8_t nonce[MICA_AEAD_NONCE_LEN];
    size_t inner_len, body_len, tag_len;

    ENSURE(d->encrypt && known_type((uint8_t)type), MICA_E_ARGUMENT);
    /* RFC 8446 5.1/5.4: no zero-length handshake or alert fragments */
    ENSURE(content_len > 0 || type == MICA_CT_APPLICATION_DATA, MICA_E_ARGUMENT);
    if (d->suite == NULL || type == MICA_CT_CHANGE_CIPHER_SPEC) {
        ENSURE(content_len <= MICA_MAX_PLAINTEXT && pad_len == 0, MICA_E_ARGUMENT);
        ENSURE(cap >= MICA_RECORD_HEADER_LEN + content_len, MICA_E_ARGUMENT);
        if (content != NULL && content_len > 0) {
            memcpy(buf + MICA_RECORD_HEADER_LEN, content, content_len);
        }
        put_header(buf, (uint8_t)type, legacy_version, content_len);
        *rec_len = MICA_RECORD_HEADER_LEN + content_len;
        return MICA_OK;
    }
    tag_len = d->suite->aead->tag_len;
    inner_len = content_len + 1 + pad_len;
    ENSURE(content_len <= d->max_inner && pad_len <= d->max_inner - 1 && inner_len <= d->max_inner,
           MICA_E_ARGUMENT);
    body_len = inner_len + tag_len;
    ENSURE(cap >= MICA_RECORD_HEADER_LEN + body_len, MICA_E_ARGUMENT);
    TRY(next_seq(d, true));

    /* TLSInnerPlaintext: content | type | zeros[pad_len] */
    buf[MICA_RECORD_HEADER_LEN + content_len] = (uint8_t)type;
    memset(buf + MICA_RECORD_HEADER_LEN + content_len + 1, 0, pad_len);
    /* the header is the AAD: opaque_type = application_data, legacy 0x0303 (5.2) */
    put_header(buf, MICA_CT_APPLICATION_DATA, 0x0303, body_len);
    make_nonce(d, nonce);
    /* the content straight from the caller's buffer when it is elsewhere: no copy */
    TRY(mica_aead_seal_from(d->aead, nonce, sizeof(nonce), buf, MICA_RECORD_HEADER_LEN,
                            content != NULL ? content : buf + MICA_RECORD_HEADER_LEN,
                            content != NULL ? content_len : 0, buf + MICA_RECORD_HEADER_LEN,
                            inner_len, buf + MICA_RECORD_HEADER_LEN + inner_len));
    d->seq++;
    *rec_len = MICA_RECORD_HEADER_LEN + body_len;
    return MICA_OK;
}

static mica_err check_content(enum mica_content_type type, size_t len)
{
    /* RFC 8446 5.4: "MUST NOT send Handshake and Alert records that have a zero-length
     * TLSInnerPlaintext.content; if such a message is received, the receiving
     * implementation MUST terminate the connection with an unexpected_message alert" */
    ENSURE(len > 0 || type == MICA_CT_APPLICATION_DATA, MICA_E_UNEXPECTED_MESSAGE);
    return MICA_OK;
}

/* the protected part of mica_rec_open and mica_rec_open_to: body (inner_len + tag
 * bytes after rec's header) is decrypted into out[0..inner_len) */
static mica_err open_protected(struct mica_rec_dir *d, const uint8_t *rec,
                               const struct mica_rec_header *h, const uint8_t *body, uint8_t *out,
                               enum mica_content_type *type, size_t *content_len)
{
    uint8_t nonce[MICA_AEAD_NONCE_LEN];
    size_t tag_len, inner_len, n;

    /* RFC 8446 5.2: "opaque_type: The outer opaque_type field of a TLSCiphertext record
     * is always set to the value 23 (application_data)" */
    ENSURE(h->type == MICA_CT_APPLICATION_DATA, MICA_E_UNEXPECTED_MESSAGE);
    tag_len = d->suite->aead->tag_len;
    ENSURE(h->len >= tag_len, MICA_E_BAD_RECORD_MAC);
    inner_len = h->len - tag_len;
    TRY(next_seq(d, false));
    make_nonce(d, nonce);
    TRY(mica_aead_open_to(d->aead, nonce, sizeof(nonce), rec, MICA_RECORD_HEADER_LEN, body, out,
                          inner_len, body + inner_len));
    d->seq++;

    /* RFC 8446 5.4: scan from the end for the content type; all zeros is fatal */
    n = inner_len;
    while (n > 0 && out[n - 1] == 0) {
        n--;
    }
    ENSURE(n > 0, MICA_E_EMPTY_INNER);
    /* RFC 8449 4 / RFC 8446 6.2: a plaintext beyond the limit is record_overflow */
    ENSURE(inner_len <= d->max_inner, MICA_E_RECORD_OVERFLOW);
    *type = (enum mica_content_type)out[n - 1];
    ENSURE(*type == MICA_CT_ALERT || *type == MICA_CT_HANDSHAKE ||
               *type == MICA_CT_APPLICATION_DATA,
           MICA_E_UNEXPECTED_MESSAGE);
    TRY(check_content(*type, n - 1));
    *content_len = n - 1;
    return MICA_OK;
}

mica_err mica_rec_open(struct mica_rec_dir *d, uint8_t *rec, size_t rec_len,
                       enum mica_content_type *type, uint8_t **content, size_t *content_len)
{
    struct mica_rec_header h;
    uint8_t *body = rec + MICA_RECORD_HEADER_LEN;

    ENSURE(!d->encrypt, MICA_E_ARGUMENT);
    TRY(mica_rec_header(d, rec, rec_len, &h));
    ENSURE(rec_len == MICA_RECORD_HEADER_LEN + (size_t)h.len, MICA_E_ARGUMENT);

    if (d->suite == NULL || h.type == MICA_CT_CHANGE_CIPHER_SPEC) {
        TRY(check_content((enum mica_content_type)h.type, h.len));
        *type = (enum mica_content_type)h.type;
        *content = body;
        *content_len = h.len;
        return MICA_OK;
    }
    TRY(open_protected(d, rec, &h, body, body, type, content_len));
    *content = body;
    return MICA_OK;
}

mica_err mica_rec_open_to(struct mica_rec_dir *d, const uint8_t *rec, size_t rec_len, uint8_t *out,
                          size_t out_cap, enum mica_content_type *type, size_t *content_len,
                          size_t *inner_len)
{
    struct mica_rec_header h;

    ENSURE(!d->encrypt && d->suite != NULL, MICA_E_ARGUMENT);
    TRY(mica_rec_header(d, rec, rec_len, &h));
    ENSURE(rec_len == MICA_RECORD_HEADER_LEN + (size_t)h.len, MICA_E_ARGUMENT);
    ENSURE(h.type != MICA_CT_CHANGE_CIPHER_SPEC, MICA_E_ARGUMENT); /* never protected */
    ENSURE(h.len >= d->suite->aead->tag_len || h.type != MICA_CT_APPLICATION_DATA,
           MICA_E_BAD_RECORD_MAC);
    *inner_len = h.type == MICA_CT_APPLICATION_DATA ? h.len - d->suite->aead->tag_len : 0;
    ENSURE(out_cap >= *inner_len, MICA_E_ARGUMENT);
    return open_protected(d, rec, &h, rec + MICA_RECORD_HEADER_LEN, out, type, content_len);
}
