/*
 * The running transcript hash (RFC 8446 4.4.1). Until the cipher suite (and so the hash)
 * is known, messages are kept as bytes; choosing the hash replays them. A
 * HelloRetryRequest replaces ClientHello1 by the synthetic message_hash message:
 *
 *     Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
 *         Hash(message_hash || 00 00 Hash.length || Hash(ClientHello1) ||
 *              HelloRetryRequest || ... || Mn)
 */
#ifndef MICA_TLS_TRANSCRIPT_H
#define MICA_TLS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "tls/msg.h" /* MICA_HS_MESSAGE_HASH */

struct mica_transcript {
    const struct mica_hash_desc *hash; /* NULL until chosen */
    mica_hash_ctx *ctx;
    uint8_t *pending; /* messages fed before the hash was chosen */
    size_t pending_len;
};

void mica_transcript_init(struct mica_transcript *t);
void mica_transcript_clear(struct mica_transcript *t);

/* mica_transcript_add: append one whole handshake message (header included). */
MICA_MUST mica_err mica_transcript_add(struct mica_transcript *t, const uint8_t *msg, size_t len);

/* mica_transcript_set_hash: choose the hash; everything added so far is hashed now. */
MICA_MUST mica_err mica_transcript_set_hash(struct mica_transcript *t,
                                            const struct mica_hash_desc *h);

/* mica_transcript_hrr: replace what was added so far (ClientHello1) by message_hash. */
MICA_MUST mica_err mica_transcript_hrr(struct mica_transcript *t);

/* mica_transcript_hash_with: Transcript-Hash(everything so far || extra) with hash h (the
 * transcript's own once chosen), without adding extra: the PSK binder's transcript. */
MICA_MUST mica_err mica_transcript_hash_with(const struct mica_transcript *t,
                                             const struct mica_hash_desc *h, const uint8_t *extra,
                                             size_t extra_len, uint8_t *out);

/* mica_transcript_copy: dst (cleared first) becomes an independent copy of src, whose
 * hash is chosen: the handshake's transcript kept for post-handshake authentication. */
MICA_MUST mica_err mica_transcript_copy(struct mica_transcript *dst,
                                        const struct mica_transcript *src);

/* mica_transcript_hash: Transcript-Hash of everything so far, into out[0..hash->len). */
MICA_MUST mica_err mica_transcript_hash(const struct mica_transcript *t, uint8_t *out);

#endif
