/*
 * The record layer (RFC 8446 section 5): framing, in-place AEAD protection,
 * TLSInnerPlaintext with content type and zero padding, size limits, per-record nonces,
 * sequence numbers and per-key usage limits.
 *
 * One mica_rec_dir per direction. It starts unprotected (the plaintext epoch); a traffic
 * secret installs keys for the next epoch and resets the sequence number to zero.
 *
 * Sending, in place: the caller writes its plaintext at buf + MICA_RECORD_HEADER_LEN,
 * leaving room after it for mica_rec_overhead() + padding bytes; seal() writes the
 * header, the content type, the padding and the tag around it.
 *
 *     uint8_t *body = buf + MICA_RECORD_HEADER_LEN;   // build the message here
 *     TRY(mica_rec_seal(&conn->wr, MICA_CT_HANDSHAKE, buf, cap, body_len, 0, 0x0303, &n));
 *
 * Receiving, in place: once mica_rec_header() has found a whole record in the input,
 * open() authenticates and decrypts it where it lies and points at the content.
 */
#ifndef MICA_TLS_RECORD_H
#define MICA_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "crypto/crypto.h"

enum mica_content_type {
    MICA_CT_INVALID = 0,
    MICA_CT_CHANGE_CIPHER_SPEC = 20,
    MICA_CT_ALERT = 21,
    MICA_CT_HANDSHAKE = 22,
    MICA_CT_APPLICATION_DATA = 23
};

/* Which keys protect a direction (for the record rules and the trace). */
enum mica_epoch {
    MICA_EPOCH_PLAINTEXT,
    MICA_EPOCH_EARLY,
    MICA_EPOCH_HANDSHAKE,
    MICA_EPOCH_APPLICATION
};

struct mica_rec_dir {
    const struct mica_suite *suite; /* NULL in the plaintext epoch */
    mica_aead *aead;
    uint8_t iv[MICA_AEAD_NONCE_LEN];
    uint64_t seq;     /* next record's sequence number under this key */
    uint64_t limit;   /* records this key may protect (RFC 8446 5.5) */
    size_t max_inner; /* largest TLSInnerPlaintext: 2^14 + 1, or record_size_limit */
    enum mica_epoch epoch;
    bool encrypt;
};

struct mica_rec_header {
    uint8_t type;
    uint16_t version;
    uint16_t len; /* body length, without the 5-byte header */
};

void mica_rec_dir_init(struct mica_rec_dir *d, bool encrypt);
/* mica_rec_dir_clear: free the AEAD, wipe keys and IV; back to the plaintext epoch. */
void mica_rec_dir_clear(struct mica_rec_dir *d);

/* mica_rec_set_key: install [sender]_write_key/iv derived from traffic (RFC 8446 7.3)
 * for the given epoch; seq = 0. The old key, if any, is wiped. */
MICA_MUST mica_err mica_rec_set_key(struct mica_rec_dir *d, const struct mica_suite *s,
                                    const mica_secret *traffic, enum mica_epoch epoch);

/* mica_rec_set_limit: RFC 8449 record_size_limit for this direction (protected records:
 * the whole TLSInnerPlaintext, content type and padding included). */
MICA_MUST mica_err mica_rec_set_limit(struct mica_rec_dir *d, size_t record_size_limit);

/* How many more records the current key may protect before a KeyUpdate is needed. */
uint64_t mica_rec_uses_left(const struct mica_rec_dir *d);

/* Bytes seal() adds after the content (content type + tag; 0 in plaintext). */
size_t mica_rec_overhead(const struct mica_rec_dir *d);

/* Largest content one record can carry in this direction. */
size_t mica_rec_max_content(const struct mica_rec_dir *d);

/*
 * mica_rec_header: look at the start of the input. MICA_WANT_READ if fewer than five
 * bytes are there; otherwise the header, checked: a known content type
 * (MICA_E_CONTENT_TYPE otherwise), a length within RFC 8446's limits for this epoch
 * (MICA_E_RECORD_OVERFLOW). The record is complete once avail >= 5 + h->len.
 */
MICA_MUST mica_err mica_rec_header(const struct mica_rec_dir *d, const uint8_t *buf, size_t avail,
                                   struct mica_rec_header *h);

/*
 * mica_rec_seal: frame (and in a protected epoch, encrypt) one record in place.
 * buf[5 .. 5 + content_len) holds the content; pad_len zero bytes of padding are added
 * (protected epochs only). legacy_version is the record's legacy_record_version (0x0303,
 * or 0x0301 for an initial ClientHello). *rec_len gets the record's total length.
 * MICA_E_SEQ_EXHAUSTED / MICA_E_KEY_LIMIT when this key may protect no more records.
 */
MICA_MUST mica_err mica_rec_seal(struct mica_rec_dir *d, enum mica_content_type type, uint8_t *buf,
                                 size_t cap, size_t content_len, size_t pad_len,
                                 uint16_t legacy_version, size_t *rec_len);
/* mica_rec_seal_from: the same with the content read from content[0..content_len)
 * (not overlapping buf) instead of buf + 5: the record is written to buf without first
 * copying the content there. content NULL: as mica_rec_seal. */
MICA_MUST mica_err mica_rec_seal_from(struct mica_rec_dir *d, enum mica_content_type type,
                                      const uint8_t *content, uint8_t *buf, size_t cap,
                                      size_t content_len, size_t pad_len, uint16_t legacy_version,
                                      size_t *rec_len);

/*
 * mica_rec_open: authenticate and decrypt one whole record rec[0..rec_len) in place
 * (rec_len = 5 + header length). *type gets the real content type and *content points
 * at the content inside rec. Errors (RFC 8446 5.2, 5.4): MICA_E_BAD_RECORD_MAC when it
 * does not authenticate; MICA_E_EMPTY_INNER when the plaintext is all zeros;
 * MICA_E_RECORD_OVERFLOW when the plaintext is too long; MICA_E_UNEXPECTED_MESSAGE for a
 * zero-length handshake or alert, a protected record whose outer type is not
 * application_data, or a ChangeCipherSpec inside protection. ChangeCipherSpec records
 * are never protected and are returned as they are, in every epoch.
 */
MICA_MUST mica_err mica_rec_open(struct mica_rec_dir *d, uint8_t *rec, size_t rec_len,
                                 enum mica_content_type *type, uint8_t **content,
                                 size_t *content_len);

/* mica_rec_open_to: a protected record, whole in rec[0..rec_len) (left as it is, e.g.
 * the caller's input), decrypted into out[0..*inner_len) (out_cap at least the body
 * length less the tag): content first, then the type and padding. The same checks and
 * errors as mica_rec_open; MICA_E_ARGUMENT for a ChangeCipherSpec or without keys. */
MICA_MUST mica_err mica_rec_open_to(struct mica_rec_dir *d, const uint8_t *rec, size_t rec_len,
                                    uint8_t *out, size_t out_cap, enum mica_content_type *type,
                                    size_t *content_len, size_t *inner_len);

#endif /* MICA_TLS_RECORD_H */
