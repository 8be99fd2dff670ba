/*
 * The record layer's failure paths (RFC 8446 section 5), each with its exact error:
 * truncated record, wrong tag, altered header, bad padding, oversize records, unknown
 * and misplaced content types, zero-length records, sequence number exhaustion, key
 * usage limits and record_size_limit; plus round trips of every suite at every size
 * boundary and padding length.
 */
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "tls/record.h"

static uint8_t buf[MICA_MAX_RECORD_LEN + 64];

struct pair {
    struct mica_rec_dir w, r;
};

static void pair_init(struct pair *p, const struct mica_suite *s)
{
    MICA_SECRET(traffic);

    mica_rec_dir_init(&p->w, true);
    mica_rec_dir_init(&p->r, false);
    if (s == NULL) {
        return;
    }
    traffic.len = s->hash->len;
    for (size_t i = 0; i < traffic.len; i++) {
        traffic.b[i] = (uint8_t)(0x40 + i);
    }
    CHECK_OK(mica_rec_set_key(&p->w, s, &traffic, MICA_EPOCH_APPLICATION));
    CHECK_OK(mica_rec_set_key(&p->r, s, &traffic, MICA_EPOCH_APPLICATION));
}

static void pair_free(struct pair *p)
{
    mica_rec_dir_clear(&p->w);
    mica_rec_dir_clear(&p->r);
}

/* seal n bytes of a pattern as type, return the record length */
static size_t seal(struct pair *p, enum mica_content_type type, size_t n, size_t pad)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        buf[MICA_RECORD_HEADER_LEN + i] = (uint8_t)(i * 7 + 1);
    }
    CHECK_OK(mica_rec_seal(&p->w, type, buf, sizeof(buf), n, pad, 0x0303, &len));
    return len;
}

static mica_err open_rec(struct pair *p, size_t len, enum mica_content_type *type,
                         size_t *content_len)
{
    uint8_t *content = NULL;

    return mica_rec_open(&p->r, buf, len, type, &content, content_len);
}

static void round_trips(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 255, 256, 4096, 16383, 16384};
    static const size_t pads[] = {0, 1, 100};

    for (size_t s = 0; s < mica_suites_n; s++) {
        struct pair p;
        pair_init(&p, &mica_suites[s]);
        for (size_t i = 0; i < MICA_ARRAY_LEN(sizes); i++) {
            for (size_t j = 0; j < MICA_ARRAY_LEN(pads); j++) {
                enum mica_content_type type = MICA_CT_INVALID;
                size_t n = sizes[i], pad = pads[j], len, got = 0;
                mica_err err;
                if (n + 1 + pad > MICA_MAX_PLAINTEXT + 1) {
                    size_t dummy;
                    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_APPLICATION_DATA, buf, sizeof(buf), n,
                                            pad, 0x0303, &dummy),
                              MICA_E_ARGUMENT);
                    continue;
                }
                len = seal(&p, MICA_CT_APPLICATION_DATA, n, pad);
                CHECK(len == MICA_RECORD_HEADER_LEN + n + 1 + pad + mica_suites[s].aead->tag_len);
                err = open_rec(&p, len, &type, &got);
                CHECK_MSG(err == MICA_OK, "%s: size %zu pad %zu: %s", mica_suites[s].name, n, pad,
                          mica_err_name(err));
                CHECK(type == MICA_CT_APPLICATION_DATA && got == n);
                for (size_t k = 0; k < got; k++) {
                    if (buf[MICA_RECORD_HEADER_LEN + k] != (uint8_t)(k * 7 + 1)) {
                        CHECK_MSG(0, "%s: content differs at %zu", mica_suites[s].name, k);
                        break;
                    }
                }
            }
        }
        CHECK(p.w.seq == p.r.seq);
        pair_free(&p);
    }
}

/* every protected record that was tampered with fails with bad_record_mac, and its
 * buffer holds no plaintext afterwards */
static void tampering(void)
{
    struct pair p;
    enum mica_content_type type;
    size_t len, got;

    pair_init(&p, mica_suite_by_name("TLS_AES_128_GCM_SHA256"));
    /* each byte of the record flipped in turn: header bytes 3..4 change the length and so
     * the framing; the others must fail authentication */
    for (size_t at = 0; at < 5 + 10 + 1 + 16; at++) {
        len = seal(&p, MICA_CT_HANDSHAKE, 10, 0);
        if (at == 0 || at == 3 || at == 4) {
            continue; /* outer type and length: covered below */
        }
        buf[at] ^= 0x01;
        p.r.seq = p.w.seq - 1;
        CHECK_ERR(open_rec(&p, len, &type, &got), MICA_E_BAD_RECORD_MAC);
        if (at >= 5) {
            /* "no partial plaintext": the body is wiped on failure */
            CHECK(mica_ct_is_zero(buf + 5, 11));
        }
    }
    /* a record from a wrong sequence number (replayed or reordered) */
    len = seal(&p, MICA_CT_HANDSHAKE, 10, 0);
    p.r.seq = p.w.seq; /* one ahead */
    CHECK_ERR(open_rec(&p, len, &type, &got), MICA_E_BAD_RECORD_MAC);
    /* truncated: shorter than a tag; one byte short of its tag */
    p.r.seq = p.w.seq - 1;
    buf[3] = 0;
    buf[4] = 15;
    CHECK_ERR(open_rec(&p, 5 + 15, &type, &got), MICA_E_BAD_RECORD_MAC);
    len = seal(&p, MICA_CT_HANDSHAKE, 10, 0);
    p.r.seq = p.w.seq - 1;
    buf[4] = (uint8_t)(buf[4] - 1);
    CHECK_ERR(open_rec(&p, len - 1, &type, &got), MICA_E_BAD_RECORD_MAC);
    /* the length in the header disagrees with the bytes given: the caller's bug */
    len = seal(&p, MICA_CT_HANDSHAKE, 10, 0);
    CHECK_ERR(open_rec(&p, len - 1, &type, &got), MICA_E_ARGUMENT);
    pair_free(&p);
}

static void content_rules(void)
{
    struct pair p;
    enum mica_content_type type = MICA_CT_INVALID;
    size_t len, got = 0;

    pair_init(&p, mica_suite_by_name("TLS_CHACHA20_POLY1305_SHA256"));
    /* zero-length application data is allowed (5.4); handshake and alert are not */
    len = seal(&p, MICA_CT_APPLICATION_DATA, 0, 3);
    CHECK_OK(open_rec(&p, len, &type, &got));
    CHECK(type == MICA_CT_APPLICATION_DATA && got == 0);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_HANDSHAKE, buf, sizeof(buf), 0, 0, 0x0303, &len),
              MICA_E_ARGUMENT);
    /* what a misbehaving peer could send: inner plaintexts that mica_rec_seal refuses to
     * make, sealed here with the raw AEAD under the same traffic key */
    {
        const struct mica_suite *s = mica_suite_by_name("TLS_CHACHA20_POLY1305_SHA256");
        uint8_t key[32], iv[12], nonce[12];
        mica_aead *a = NULL;
        MICA_SECRET(traffic);
        struct mica_rec_dir r;
        uint8_t *content;
        static const uint8_t inners[][4] = {
            {22, 0, 0, 0}, /* zero-length handshake, with padding */
            {21, 0, 0, 0}, /* zero-length alert */
            {0, 0, 0, 0},  /* all zeros: no content type */
            {1, 20, 0, 0}, /* change_cipher_spec inside protection */
            {1, 99, 0, 0}, /* unknown inner type */
        };
        static const size_t inner_len[] = {4, 1, 4, 2, 2};
        static const mica_err want[] = {MICA_E_UNEXPECTED_MESSAGE, MICA_E_UNEXPECTED_MESSAGE,
                                        MICA_E_EMPTY_INNER, MICA_E_UNEXPECTED_MESSAGE,
                                        MICA_E_UNEXPECTED_MESSAGE};
        traffic.len = 32;
        for (size_t i = 0; i < 32; i++) {
            traffic.b[i] = (uint8_t)(0x40 + i);
        }
        CHECK_OK(mica_ks_traffic_key(s, &traffic, key, iv));
        CHECK_OK(mica_aead_new(s->aead, key, 32, true, &a));
        for (size_t t = 0; t < MICA_ARRAY_LEN(inners); t++) {
            size_t n = inner_len[t];
            mica_rec_dir_init(&r, false);
            CHECK_OK(mica_rec_set_key(&r, s, &traffic, MICA_EPOCH_APPLICATION));
            buf[0] = 23;
            buf[1] = 3;
            buf[2] = 3;
            buf[3] = 0;
            buf[4] = (uint8_t)(n + 16);
            memcpy(buf + 5, inners[t], n);
            memcpy(nonce, iv, 12); /* sequence number 0 */
            CHECK_OK(mica_aead_seal(a, nonce, 12, buf, 5, buf + 5, n, buf + 5 + n));
            CHECK_ERR(mica_rec_open(&r, buf, 5 + n + 16, &type, &content, &got), want[t]);
            mica_rec_dir_clear(&r);
        }
        mica_aead_free(a);
    }
    /* protected epoch: a record whose outer type is not application_data */
    len = seal(&p, MICA_CT_HANDSHAKE, 5, 0);
    buf[0] = MICA_CT_HANDSHAKE;
    CHECK_ERR(open_rec(&p, len, &type, &got), MICA_E_UNEXPECTED_MESSAGE);
    /* ChangeCipherSpec is never protected: passed through as it is, in every epoch */
    buf[0] = MICA_CT_CHANGE_CIPHER_SPEC;
    buf[1] = 3;
    buf[2] = 3;
    buf[3] = 0;
    buf[4] = 1;
    buf[5] = 1;
    CHECK_OK(open_rec(&p, 6, &type, &got));
    CHECK(type == MICA_CT_CHANGE_CIPHER_SPEC && got == 1);
    /* unknown outer content types */
    for (unsigned t = 0; t < 256; t++) {
        struct mica_rec_header h;
        buf[0] = (uint8_t)t;
        if (t >= 20 && t <= 23) {
            CHECK_OK(mica_rec_header(&p.r, buf, 6, &h));
        } else {
            CHECK_ERR(mica_rec_header(&p.r, buf, 6, &h), MICA_E_CONTENT_TYPE);
        }
    }
    pair_free(&p);
}

static void plaintext_rules(void)
{
    struct pair p;
    enum mica_content_type type;
    size_t got, len;
    struct mica_rec_header h;

    pair_init(&p, NULL);
    /* fewer than five bytes: more input needed, whatever they are */
    for (size_t n = 0; n < 5; n++) {
        CHECK_ERR(mica_rec_header(&p.r, buf, n, &h), MICA_WANT_READ);
    }
    /* 2^14 is the largest plaintext record, 2^14 + 1 overflows (5.1) */
    buf[0] = MICA_CT_HANDSHAKE;
    buf[1] = 3;
    buf[2] = 1;
    buf[3] = 0x40;
    buf[4] = 0x00;
    CHECK_OK(mica_rec_header(&p.r, buf, 5, &h));
    CHECK(h.len == 16384 && h.version == 0x0301);
    buf[4] = 0x01;
    CHECK_ERR(mica_rec_header(&p.r, buf, 5, &h), MICA_E_RECORD_OVERFLOW);
    /* zero-length handshake / alert records (5.1, 5.4) */
    buf[3] = 0;
    buf[4] = 0;
    CHECK_ERR(open_rec(&p, 5, &type, &got), MICA_E_UNEXPECTED_MESSAGE);
    buf[0] = MICA_CT_ALERT;
    CHECK_ERR(open_rec(&p, 5, &type, &got), MICA_E_UNEXPECTED_MESSAGE);
    /* sealing in the plaintext epoch frames without protection and refuses padding */
    len = 0;
    CHECK_OK(mica_rec_seal(&p.w, MICA_CT_HANDSHAKE, buf, sizeof(buf), 4, 0, 0x0301, &len));
    CHECK(len == 9 && buf[0] == 22 && buf[1] == 3 && buf[2] == 1 && buf[4] == 4);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_HANDSHAKE, buf, sizeof(buf), 4, 1, 0x0303, &len),
              MICA_E_ARGUMENT);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_HANDSHAKE, buf, sizeof(buf), 16385, 0, 0x0303, &len),
              MICA_E_ARGUMENT);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_HANDSHAKE, buf, 8, 4, 0, 0x0303, &len), MICA_E_ARGUMENT);
    /* a read direction cannot seal, a write direction cannot open */
    CHECK_ERR(mica_rec_seal(&p.r, MICA_CT_HANDSHAKE, buf, sizeof(buf), 4, 0, 0x0303, &len),
              MICA_E_ARGUMENT);
    pair_free(&p);
}

static void size_limits(void)
{
    struct pair p;
    struct mica_rec_header h;
    enum mica_content_type type;
    size_t got, len;

    pair_init(&p, mica_suite_by_name("TLS_AES_256_GCM_SHA384"));
    /* 2^14 + 256 is the largest ciphertext, one more overflows (5.2) */
    buf[0] = MICA_CT_APPLICATION_DATA;
    buf[1] = 3;
    buf[2] = 3;
    buf[3] = (uint8_t)((16384 + 256) >> 8);
    buf[4] = (uint8_t)(16384 + 256);
    CHECK_OK(mica_rec_header(&p.r, buf, 5, &h));
    buf[4] = (uint8_t)(16384 + 257);
    CHECK_ERR(mica_rec_header(&p.r, buf, 5, &h), MICA_E_RECORD_OVERFLOW);
    /* a peer that pads past 2^14 + 1 bytes of inner plaintext: record_overflow after
     * authentication (6.2) -- made by a writer without the limit */
    p.w.max_inner = MICA_MAX_PLAINTEXT + 200;
    len = seal(&p, MICA_CT_APPLICATION_DATA, 16384, 10);
    CHECK_ERR(open_rec(&p, len, &type, &got), MICA_E_RECORD_OVERFLOW);
    /* RFC 8449 record_size_limit: 64 is the smallest; the limit includes type and pad */
    CHECK_ERR(mica_rec_set_limit(&p.r, 63), MICA_E_ILLEGAL_PARAMETER);
    CHECK_OK(mica_rec_set_limit(&p.r, 64));
    CHECK_OK(mica_rec_set_limit(&p.w, 100000)); /* clamped to 2^14 + 1 */
    CHECK(mica_rec_max_content(&p.w) == MICA_MAX_PLAINTEXT);
    CHECK_OK(mica_rec_set_limit(&p.w, 64));
    CHECK(mica_rec_max_content(&p.w) == 63);
    len = seal(&p, MICA_CT_APPLICATION_DATA, 63, 0);
    CHECK_OK(open_rec(&p, len, &type, &got));
    CHECK(got == 63);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_APPLICATION_DATA, buf, sizeof(buf), 64, 0, 0x0303, &len),
              MICA_E_ARGUMENT);
    p.w.max_inner = 200; /* a peer ignoring our limit */
    len = seal(&p, MICA_CT_APPLICATION_DATA, 64, 0);
    CHECK_ERR(open_rec(&p, len, &type, &got), MICA_E_RECORD_OVERFLOW);
    pair_free(&p);
}

static void sequence_and_limits(void)
{
    struct pair p;
    enum mica_content_type type;
    size_t got, len;

    pair_init(&p, mica_suite_by_name("TLS_AES_128_GCM_SHA256"));
    /* usage counters: a fresh key has the suite's limit; each record uses one */
    CHECK(mica_rec_uses_left(&p.w) == MICA_AEAD_LIMIT_GCM);
    len = seal(&p, MICA_CT_APPLICATION_DATA, 1, 0);
    CHECK_OK(open_rec(&p, len, &type, &got));
    CHECK(mica_rec_uses_left(&p.w) == MICA_AEAD_LIMIT_GCM - 1);
    /* the key limit (RFC 8446 5.5) stops sealing at the limit */
    p.w.seq = MICA_AEAD_LIMIT_GCM - 1;
    p.r.seq = p.w.seq;
    len = seal(&p, MICA_CT_APPLICATION_DATA, 1, 0);
    CHECK_OK(open_rec(&p, len, &type, &got));
    CHECK(mica_rec_uses_left(&p.w) == 0);
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_APPLICATION_DATA, buf, sizeof(buf), 1, 0, 0x0303, &len),
              MICA_E_KEY_LIMIT);
    /* a new key resets the count and the sequence number */
    {
        MICA_SECRET(next);
        next.len = 32;
        memset(next.b, 0x11, 32);
        CHECK_OK(mica_rec_set_key(&p.w, p.w.suite, &next, MICA_EPOCH_APPLICATION));
        CHECK_OK(mica_rec_set_key(&p.r, p.r.suite, &next, MICA_EPOCH_APPLICATION));
        CHECK(p.w.seq == 0 && mica_rec_uses_left(&p.w) == MICA_AEAD_LIMIT_GCM);
    }
    /* the sequence number never wraps (5.3): ChaCha20 has no usage limit, so the
     * 64-bit counter itself is the bound */
    pair_free(&p);
    pair_init(&p, mica_suite_by_name("TLS_CHACHA20_POLY1305_SHA256"));
    p.w.seq = UINT64_MAX - 1;
    p.r.seq = UINT64_MAX - 1;
    len = seal(&p, MICA_CT_APPLICATION_DATA, 1, 0);
    CHECK_OK(open_rec(&p, len, &type, &got));
    CHECK_ERR(mica_rec_seal(&p.w, MICA_CT_APPLICATION_DATA, buf, sizeof(buf), 1, 0, 0x0303, &len),
              MICA_E_SEQ_EXHAUSTED);
    /* the reader refuses the record at the last sequence number before decrypting */
    CHECK(buf[0] == 23 && buf[4] == 18);
    CHECK_ERR(open_rec(&p, 5 + 18, &type, &got), MICA_E_SEQ_EXHAUSTED);
    pair_free(&p);
}

static void keys_are_wiped(void)
{
    struct pair p;

    pair_init(&p, mica_suite_by_name("TLS_AES_128_CCM_8_SHA256"));
    CHECK(!mica_ct_is_zero(p.w.iv, sizeof(p.w.iv)));
    mica_rec_dir_clear(&p.w);
    CHECK(mica_ct_is_zero(p.w.iv, sizeof(p.w.iv)));
    CHECK(p.w.aead == NULL && p.w.suite == NULL && p.w.seq == 0);
    CHECK(p.w.epoch == MICA_EPOCH_PLAINTEXT && p.w.encrypt);
    pair_free(&p);
}

/* mica_rec_open_to: the record is left as it was, the plaintext is the same as opening in
 * place gives (every suite; content, a handshake record, padding); a flipped bit anywhere
 * is bad_record_mac with the output wiped; no keys, ChangeCipherSpec or a short output
 * is an argument error */
static void open_to(void)
{
    static uint8_t copy[MICA_MAX_RECORD_LEN + 64], out[MICA_MAX_RECORD_LEN + 64];

    for (size_t s = 0; s < mica_suites_n; s++) {
        static const size_t sizes[] = {0, 1, 100, 16384};
        struct pair p, q;
        pair_init(&p, &mica_suites[s]);
        pair_init(&q, &mica_suites[s]);
        for (size_t i = 0; i < MICA_ARRAY_LEN(sizes); i++) {
            enum mica_content_type type = MICA_CT_INVALID;
            size_t n = sizes[i], pad = n == 100 ? 7 : 0, content_len = 0, inner = 0, len;
            enum mica_content_type ct = n == 1 ? MICA_CT_HANDSHAKE : MICA_CT_APPLICATION_DATA;
            len = seal(&p, ct, n, pad);
            memcpy(copy, buf, len);
            CHECK_OK(
                mica_rec_open_to(&q.r, copy, len, out, sizeof(out), &type, &content_len, &inner));
            CHECK(memcmp(copy, buf, len) == 0); /* the record itself untouched */
            CHECK(type == ct && content_len == n && inner == n + 1 + pad);
            for (size_t k = 0; k < n; k++) {
                if (out[k] != (uint8_t)(k * 7 + 1)) {
                    CHECK(0);
                    break;
                }
            }
            /* an output one byte short: refused before anything is decrypted */
            CHECK_ERR(
                mica_rec_open_to(&q.r, copy, len, out, inner - 1, &type, &content_len, &inner),
                MICA_E_ARGUMENT);
        }
        /* tampering: sequence numbers advance in step, then a flipped bit */
        pair_free(&p);
        pair_free(&q);
        pair_init(&p, &mica_suites[s]);
        pair_init(&q, &mica_suites[s]);
        {
            enum mica_content_type type;
            size_t content_len = 0, inner = 0, len = seal(&p, MICA_CT_APPLICATION_DATA, 64, 0);
            buf[len - 1] ^= 0x01;
            memset(out, 0xee, sizeof(out));
            CHECK_ERR(
                mica_rec_open_to(&q.r, buf, len, out, sizeof(out), &type, &content_len, &inner),
                MICA_E_BAD_RECORD_MAC);
            for (size_t k = 0; k < 65; k++) {
                if (out[k] != 0) {
                    CHECK(0); /* no unauthenticated plaintext left behind */
                    break;
                }
            }
        }
        pair_free(&p);
        pair_free(&q);
    }
    {
        struct pair p;
        enum mica_content_type type;
        size_t content_len, inner;
        pair_init(&p, NULL);
        memcpy(buf, "\x17\x03\x03\x00\x20", 5);
        CHECK_ERR(mica_rec_open_to(&p.r, buf, 37, out, sizeof(out), &type, &content_len, &inner),
                  MICA_E_ARGUMENT);
        pair_free(&p);
        pair_init(&p, &mica_suites[0]);
        memcpy(buf, "\x14\x03\x03\x00\x01\x01", 6);
        CHECK_ERR(mica_rec_open_to(&p.r, buf, 6, out, sizeof(out), &type, &content_len, &inner),
                  MICA_E_ARGUMENT);
        pair_free(&p);
    }
}

int main(void)
{
    round_trips();
    tampering();
    content_rules();
    plaintext_rules();
    size_limits();
    sequence_and_limits();
    keys_are_wiped();
    open_to();
    return check_exit("test_record");
}
