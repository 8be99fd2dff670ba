/*
 * Every limit mica enforces, each as one named constant (DESIGN.md, "Security rules").
 * Code that needs a bound includes this header; no other file spells a limit's value.
 */
#ifndef MICA_BASE_LIMITS_H
#define MICA_BASE_LIMITS_H

/* RFC 8446 5.1: TLSPlaintext.length MUST NOT exceed 2^14 bytes. */
#define MICA_MAX_PLAINTEXT 16384u
/* RFC 8446 5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256 bytes. */
#define MICA_MAX_CIPHERTEXT (16384u + 256u)
/* The record header: type(1) legacy_record_version(2) length(2). */
#define MICA_RECORD_HEADER_LEN 5u
/* Largest record on the wire: header plus the largest ciphertext. */
#define MICA_MAX_RECORD_LEN (MICA_RECORD_HEADER_LEN + MICA_MAX_CIPHERTEXT)
/* RFC 8449: the smallest record_size_limit a peer may announce. */
#define MICA_MIN_RECORD_SIZE_LIMIT 64u

/* Default cap on one handshake message (configurable; RFC allows 2^24-1). */
#define MICA_MAX_HANDSHAKE_MSG_DEFAULT 65536u
/* Handshake header: msg_type(1) length(3). */
#define MICA_HANDSHAKE_HEADER_LEN 4u

/* Crypto sizes: the largest over every algorithm mica offers. */
#define MICA_MAX_HASH_LEN 64u /* SHA-512 output */
#define MICA_MAX_AEAD_KEY_LEN 32u
#define MICA_AEAD_NONCE_LEN 12u /* RFC 8446 5.3: iv_length is max(8, N_MIN) = 12 for all suites */
#define MICA_MAX_AEAD_TAG_LEN 16u
#define MICA_MAX_KX_PUBLIC_LEN 1568u /* largest key share (room for the ML-KEM hybrids) */
#define MICA_MAX_KX_SECRET_LEN 96u   /* largest shared secret (secp521r1: 66; hybrids: 64) */
#define MICA_MAX_SIGNATURE_LEN 1024u /* RSA-8192 */

/* RFC 8446 7.1: HkdfLabel.label is opaque <7..255> including "tls13 ". */
#define MICA_MAX_HKDF_LABEL_LEN 255u
/* RFC 8446 7.1: HkdfLabel.context is opaque <0..255>. */
#define MICA_MAX_HKDF_CONTEXT_LEN 255u
/* RFC 5869: HKDF-Expand output is at most 255 * HashLen. */
#define MICA_MAX_HKDF_BLOCKS 255u

/* Exporter labels and contexts (RFC 8446 7.5); the label is bounded like HkdfLabel. */
#define MICA_MAX_EXPORTER_LEN 16384u

/* RFC 8446 5.5 usage limits, in records per key, with a safety margin below the
 * published bounds so a KeyUpdate can be sent in time. AES-GCM: 2^24.5 full-size
 * records; ChaCha20-Poly1305 has no practical limit below 2^64, CCM follows GCM's
 * confidentiality bound (RFC 9147 section 4.5.3 lists 2^23 for CCM_8). */
#define MICA_AEAD_LIMIT_GCM ((uint64_t)23726566u) /* floor(2^24.5) */
#define MICA_AEAD_LIMIT_CCM ((uint64_t)23726566u)
#define MICA_AEAD_LIMIT_CCM8 ((uint64_t)8388608u) /* 2^23 */
#define MICA_AEAD_LIMIT_CHACHA ((uint64_t)UINT64_MAX)
/* RFC 8446 5.3: the sequence number MUST NOT wrap. */
#define MICA_SEQ_MAX UINT64_MAX

/* Received application data buffered for the application before mica_conn_feed stops
 * taking input (the reader must catch up first): a peer cannot grow it further. */
#define MICA_MAX_APP_BUFFER (16u * 1024u * 1024u)
/* Consecutive KeyUpdates (or dummy CCS records) accepted without application data in
 * between: more is a peer spending our CPU for nothing. */
#define MICA_MAX_IDLE_UPDATES 32u

/* Certificate chains and extension counts (used by the handshake). */
#define MICA_MAX_CHAIN_LEN 10u
#define MICA_MAX_EXTENSIONS 64u

#endif /* MICA_BASE_LIMITS_H */
