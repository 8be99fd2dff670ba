/*
 * Fuzz target for the record layer (src/tls/record.c, RFC 8446 section 5).
 *
 * Input: one selector byte, then a stream of records.
 *
 *   selector bits 0-2  the epoch and keys of the receiving direction:
 *                      0 plaintext; 1-4 TLS_AES_128_GCM_SHA256 with the RFC 8448 section 3
 *                      traffic secrets (server handshake, client handshake, server
 *                      application, client application), so the RFC's records decrypt;
 *                      5 ChaCha20-Poly1305, 6 AES-128-CCM-8 (an 8-byte tag), 7
 *                      AES-256-GCM-SHA384, with fixed secrets of our own
 *   selector bit 3     also apply an RFC 8449 record_size_limit of 64 + (bits 4-7) * 1021
 *   selector bits 4-5  the content type of the round trip below
 *
 * 1. Receive: mica_rec_header + mica_rec_open over the stream, record after record, as
 *    a connection would, until the input ends or a record fails (failures are fatal in
 *    TLS). Every outcome must be one of the codes record.h documents; a record that
 *    opens must give a known type and content inside the record, within the size limits;
 *    a record that fails authentication must leave no plaintext behind.
 * 2. Round trip: the stream bytes as content, padded by the last two input bytes
 *    (mod 0x4200), sealed and opened again with the same keys. seal must succeed exactly
 *    when the sizes are within the limits, and open must give back the same type and
 *    content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/record.h"
#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* MICA_FUZZ_TRACE=1 in the environment prints the outcome of every record (to check
 * what the seeds reach). */
static int trace = -1;

#define PAD_MOD 0x4200u /* pads range a little past the largest TLSInnerPlaintext */

/* RFC 8448 section 3 traffic secrets ("derive secret ..." | expanded), and two of ours */
static const struct key {
    uint16_t suite;
    uint8_t len;
    uint8_t secret[48];
} keys[8] = {
    {0, 0, {0}},
    {0x1301, 32, {0xb6, 0x7b, 0x7d, 0x69, 0x0c, 0xc1, 0x6c, 0x4e, 0x75, 0xe5, 0x42,
                  0x13, 0xcb, 0x2d, 0x37, 0xb4, 0xe9, 0xc9, 0x12, 0xbc, 0xde, 0xd9,
                  0x10, 0x5d, 0x42, 0xbe, 0xfd, 0x59, 0xd3, 0x91, 0xad, 0x38}},
    {0x1301, 32, {0xb3, 0xed, 0xdb, 0x12, 0x6e, 0x06, 0x7f, 0x35, 0xa7, 0x80, 0xb3,
                  0xab, 0xf4, 0x5e, 0x2d, 0x8f, 0x3b, 0x1a, 0x95, 0x07, 0x38, 0xf5,
                  0x2e, 0x96, 0x00, 0x74, 0x6a, 0x0e, 0x27, 0xa5, 0x5a, 0x21}},
    {0x1301, 32, {0xa1, 0x1a, 0xf9, 0xf0, 0x55, 0x31, 0xf8, 0x56, 0xad, 0x47, 0x11,
                  0x6b, 0x45, 0xa9, 0x50, 0x32, 0x82, 0x04, 0xb4, 0xf4, 0x4b, 0xfb,
                  0x6b, 0x3a, 0x4b, 0x4f, 0x1f, 0x3f, 0xcb, 0x63, 0x16, 0x43}},
    {0x1301, 32, {0x9e, 0x40, 0x64, 0x6c, 0xe7, 0x9a, 0x7f, 0x9d, 0xc0, 0x5a, 0xf8,
                  0x88, 0x9b, 0xce, 0x65, 0x52, 0x87, 0x5a, 0xfa, 0x0b, 0x06, 0xdf,
                  0x00, 0x87, 0xf7, 0x92, 0xeb, 0xb7, 0xc1, 0x75, 0x04, 0xa5}},
    {0x1303, 32, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                  0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
                  0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20}},
    {0x1305, 32, {0x20, 0x1f, 0x1e, 0x1d, 0x1c, 0x1b, 0x1a, 0x19, 0x18, 0x17, 0x16,
                  0x15, 0x14, 0x13, 0x12, 0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b,
                  0x0a, 0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}},
    {0x1302, 48, {0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
                  0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                  0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53,
                  0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f}},
};

static const enum mica_content_type round_trip_types[4] = {
    MICA_CT_APPLICATION_DATA, MICA_CT_HANDSHAKE, MICA_CT_ALERT, MICA_CT_CHANGE_CIPHER_SPEC};

static const enum mica_epoch epochs[8] = {
    MICA_EPOCH_PLAINTEXT,   MICA_EPOCH_HANDSHAKE,   MICA_EPOCH_HANDSHAKE, MICA_EPOCH_APPLICATION,
    MICA_EPOCH_APPLICATION, MICA_EPOCH_APPLICATION, MICA_EPOCH_EARLY,     MICA_EPOCH_HANDSHAKE};

/* setup: a direction in the selected epoch; false when this build cannot offer it */
static bool setup(struct mica_rec_dir *d, bool encrypt, uint8_t sel)
{
    const struct key *k = &keys[sel & 7u];
    const struct mica_suite *s;
    MICA_SECRET(traffic);

    mica_rec_dir_init(d, encrypt);
    if (sel & 8u) {
        FUZZ_ASSERT(mica_rec_set_limit(d, 64u + (size_t)(sel >> 4) * 1021u) == MICA_OK);
    }
    if (k->suite == 0) {
        return true;
    }
    s = mica_suite_by_id(k->suite);
    FUZZ_ASSERT(s != NULL);
    if (!mica_cr_suite_available(s)) {
        return false;
    }
    memcpy(traffic.b, k->secret, k->len);
    traffic.len = k->len;
    FUZZ_ASSERT(mica_rec_set_key(d, s, &traffic, epochs[sel & 7u]) == MICA_OK);
    return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* 1. the stream of records, as received */
static void receive(struct mica_rec_dir *rx, uint8_t *buf, size_t n)
{
    size_t off = 0;
    uint64_t opened = 0;

    while (off < n) {
        struct mica_rec_header h;
        enum mica_content_type type = MICA_CT_INVALID;
        uint8_t *rec = buf + off, *content = NULL;
        size_t content_len = 0, rec_len;
        bool protected_rec;
        mica_err err = mica_rec_header(rx, rec, n - off, &h);

        if (err == MICA_WANT_READ) {
            FUZZ_ASSERT(n - off < MICA_RECORD_HEADER_LEN);
            return;
        }
        FUZZ_ASSERT(err == MICA_OK || err == MICA_E_CONTENT_TYPE || err == MICA_E_RECORD_OVERFLOW);
        if (err != MICA_OK) {
            return;
        }
        FUZZ_ASSERT(h.type == rec[0]);
        FUZZ_ASSERT(h.len <= MICA_MAX_CIPHERTEXT);
        FUZZ_ASSERT(h.len <= MICA_MAX_PLAINTEXT ||
                    (rx->suite != NULL && h.type == MICA_CT_APPLICATION_DATA));
        rec_len = MICA_RECORD_HEADER_LEN + (size_t)h.len;
        if (rec_len > n - off) {
            return; /* incomplete: a connection would wait for more */
        }
        protected_rec = rx->suite != NULL && h.type != MICA_CT_CHANGE_CIPHER_SPEC;

        err = mica_rec_open(rx, rec, rec_len, &type, &content, &content_len);
        if (trace) {
            fprintf(stderr, "fuzz_record: record at %zu, type %u, %u bytes: %s\n", off, h.type,
                    h.len, mica_err_name(err));
        }
        FUZZ_ASSERT(err == MICA_OK || err == MICA_E_BAD_RECORD_MAC || err == MICA_E_EMPTY_INNER ||
                    err == MICA_E_RECORD_OVERFLOW || err == MICA_E_UNEXPECTED_MESSAGE);
        if (err == MICA_E_BAD_RECORD_MAC && rx->suite != NULL &&
            h.len >= rx->suite->aead->tag_len) {
            /* crypto.h: a failed open wipes the would-be plaintext (DESIGN.md: partial
             * plaintext from a record that fails to authenticate is never returned) */
            FUZZ_ASSERT(all_zero(rec + MICA_RECORD_HEADER_LEN, h.len - rx->suite->aead->tag_len));
        }
        if (err != MICA_OK) {
            /* a record that does not authenticate uses up no sequence number; one that
             * authenticates and then breaks a rule may (the connection ends either way) */
            FUZZ_ASSERT(rx->seq == opened ||
                        (err != MICA_E_BAD_RECORD_MAC && protected_rec && rx->seq == opened + 1));
            return;
        }
        FUZZ_ASSERT(type == MICA_CT_ALERT || type == MICA_CT_HANDSHAKE ||
                    type == MICA_CT_APPLICATION_DATA || type == MICA_CT_CHANGE_CIPHER_SPEC);
        FUZZ_ASSERT(content == rec + MICA_RECORD_HEADER_LEN);
        FUZZ_ASSERT(content_len <= h.len);
        FUZZ_ASSERT(type == MICA_CT_APPLICATION_DATA || content_len > 0);
        if (protected_rec) {
            FUZZ_ASSERT(type != MICA_CT_CHANGE_CIPHER_SPEC);
            FUZZ_ASSERT(content_len <= mica_rec_max_content(rx));
            FUZZ_ASSERT(content_len + 1 + rx->suite->aead->tag_len <= h.len);
            FUZZ_ASSERT(content[content_len] == (uint8_t)type);
            FUZZ_ASSERT(all_zero(content + content_len + 1,
                                 h.len - rx->suite->aead->tag_len - content_len - 1));
            opened++;
        } else {
            FUZZ_ASSERT(type == (enum mica_content_type)h.type);
            FUZZ_ASSERT(content_len == h.len);
            FUZZ_ASSERT(content_len <= MICA_MAX_PLAINTEXT);
        }
        FUZZ_ASSERT(rx->seq == opened);
        off += rec_len;
    }
}

/* 2. seal then open: succeeds exactly within the limits, and gives back what went in */
static void round_trip(uint8_t sel, const uint8_t *content, size_t content_len, size_t pad)
{
    enum mica_content_type type = round_trip_types[(sel >> 4) & 3u];
    struct mica_rec_dir tx, rx;
    size_t cap, expect_len, rec_len = 0, got_len = 0;
    uint8_t *buf, *got = NULL;
    enum mica_content_type got_type = MICA_CT_INVALID;
    bool plain, want_ok;
    mica_err err;

    if (!setup(&tx, true, sel) || !setup(&rx, false, sel)) {
        mica_rec_dir_clear(&tx);
        return;
    }
    plain = tx.suite == NULL || type == MICA_CT_CHANGE_CIPHER_SPEC;
    if (plain && pad > 0) {
        /* unprotected records have no padding: refused, and nothing is used up */
        uint8_t tiny[MICA_RECORD_HEADER_LEN + 1] = {0};
        FUZZ_ASSERT(mica_rec_seal(&tx, type, tiny, sizeof(tiny), 1, pad, 0x0303, &rec_len) ==
                    MICA_E_ARGUMENT);
        pad = 0;
    }
    if (plain) {
        want_ok = content_len <= MICA_MAX_PLAINTEXT;
        expect_len = MICA_RECORD_HEADER_LEN + content_len;
    } else {
        want_ok = content_len + 1 + pad <= tx.max_inner;
        FUZZ_ASSERT(want_ok == (content_len <= mica_rec_max_content(&tx) &&
                                pad <= mica_rec_max_content(&tx) - content_len));
        expect_len = MICA_RECORD_HEADER_LEN + content_len + mica_rec_overhead(&tx) + pad;
    }
    want_ok = want_ok && (content_len > 0 || type == MICA_CT_APPLICATION_DATA);

    cap = expect_len;
    buf = malloc(cap);
    FUZZ_ASSERT(buf != NULL);
    if (content_len > 0) {
        memcpy(buf + MICA_RECORD_HEADER_LEN, content, content_len);
    }
    if (want_ok) {
        /* one byte less room than the record needs is refused, and uses up nothing */
        err = mica_rec_seal(&tx, type, buf, cap - 1, content_len, pad, 0x0303, &rec_len);
        FUZZ_ASSERT(err == MICA_E_ARGUMENT && tx.seq == 0);
    }
    err = mica_rec_seal(&tx, type, buf, cap, content_len, pad, 0x0303, &rec_len);
    if (!want_ok) {
        FUZZ_ASSERT(err == MICA_E_ARGUMENT);
        FUZZ_ASSERT(tx.seq == 0);
    } else {
        FUZZ_ASSERT(err == MICA_OK);
        FUZZ_ASSERT(rec_len == expect_len);
        FUZZ_ASSERT(tx.seq == (plain ? 0u : 1u));
        err = mica_rec_open(&rx, buf, rec_len, &got_type, &got, &got_len);
        FUZZ_ASSERT(err == MICA_OK);
        FUZZ_ASSERT(got_type == type);
        FUZZ_ASSERT(got_len == content_len);
        FUZZ_ASSERT(got == buf + MICA_RECORD_HEADER_LEN);
        FUZZ_ASSERT(content_len == 0 || memcmp(got, content, content_len) == 0);
        FUZZ_ASSERT(rx.seq == tx.seq);
    }
    free(buf);
    mica_rec_dir_clear(&tx);
    mica_rec_dir_clear(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mica_rec_dir rx;
    uint8_t sel, *stream;
    size_t n, pad = 0;

    if (trace < 0) {
        trace = getenv("MICA_FUZZ_TRACE") != NULL;
    }
    if (size == 0) {
        return 0;
    }
    sel = data[0];
    n = size - 1;
    stream = malloc(n > 0 ? n : 1);
    FUZZ_ASSERT(stream != NULL);
    if (n > 0) {
        memcpy(stream, data + 1, n);
    }
    if (setup(&rx, false, sel)) {
        receive(&rx, stream, n);
    }
    mica_rec_dir_clear(&rx);
    free(stream);

    if (size >= 3) {
        pad = (((size_t)data[size - 2] << 8) | data[size - 1]) % PAD_MOD;
    }
    round_trip(sel, data + 1, n, pad);
    return 0;
}
