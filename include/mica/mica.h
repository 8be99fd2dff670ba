/*
 * mica -- a TLS 1.3 implementation you can see into.
 *
 * Conventions (read these once; every function below follows them)
 * ------------------------------------------------------------------
 * - Results. Every fallible function returns a mica_err. MICA_OK is 0; errors are
 *   positive codes from one table (mica_err_name(), mica_err_sentence(),
 *   mica_err_alert()). MICA_WANT_READ and MICA_WANT_WRITE are negative: they are not
 *   failures, only "call again when the socket is ready".
 * - NULL. Pointers are never NULL unless a parameter's contract says so.
 * - Lengths. Byte lengths are size_t and named *_len; capacities *_cap; counts *_n.
 * - Ownership. A function borrows what it is given for the duration of the call only,
 *   unless its contract says it keeps a reference. Strings returned by the library are
 *   static and live for the life of the process.
 * - Threads. A mica_config is immutable once a connection uses it and may be shared by
 *   any number of threads; a connection belongs to one thread at a time. The functions
 *   in this header keep no mutable global state and are thread-safe.
 * - Names. Cipher suites, groups and signature schemes use their IANA/RFC names
 *   ("TLS_AES_128_GCM_SHA256", "x25519", "ecdsa_secp256r1_sha256").
 */
#ifndef MICA_MICA_H
#define MICA_MICA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MICA_BUILDING_LIBRARY)
#define MICA_API __attribute__((visibility("default")))
#else
#define MICA_API
#endif

#define MICA_VERSION_MAJOR 0
#define MICA_VERSION_MINOR 1
#define MICA_VERSION_PATCH 0
#define MICA_VERSION_STRING "0.1.0"

/*
 * mica_err: the one result type. The numeric values are part of the ABI: codes are
 * only ever appended. docs/ERRORS.md lists them all with their alert and sentence.
 */
typedef enum mica_err {
    MICA_WANT_WRITE = -3, /* not an error: the engine has bytes to send first */
    MICA_WANT_READ = -2,  /* not an error: the engine needs more input */
    MICA_OK = 0,
    MICA_E_INTERNAL = 1,                 /* a bug in mica: an invariant did not hold */
    MICA_E_NOMEM = 2,                    /* an allocation failed */
    MICA_E_ARGUMENT = 3,                 /* the caller passed an invalid argument */
    MICA_E_DECODE = 4,                   /* the peer sent bytes that do not parse */
    MICA_E_ILLEGAL_PARAMETER = 5,        /* a field parsed but holds a forbidden value */
    MICA_E_UNEXPECTED_MESSAGE = 6,       /* a message or record arrived where it may not */
    MICA_E_BAD_RECORD_MAC = 7,           /* a protected record failed authentication */
    MICA_E_RECORD_OVERFLOW = 8,          /* a record exceeds the size limit */
    MICA_E_EMPTY_INNER = 9,              /* a protected record's plaintext holds no content type */
    MICA_E_CONTENT_TYPE = 10,            /* a record carries an unknown content type */
    MICA_E_SEQ_EXHAUSTED = 11,           /* a record sequence number would wrap */
    MICA_E_KEY_LIMIT = 12,               /* a key reached its RFC 8446 5.5 usage limit */
    MICA_E_BAD_PEER_KEY = 13,            /* the peer's key share is not a valid public key */
    MICA_E_ZERO_SHARED = 14,             /* the key exchange produced an all-zero secret */
    MICA_E_CRYPTO = 15,                  /* libcrypto failed an operation it should not fail */
    MICA_E_UNSUPPORTED = 16,             /* an algorithm this build or libcrypto does not offer */
    MICA_E_STAGE = 17,                   /* the key schedule was used out of its RFC order */
    MICA_E_DECRYPT_ERROR = 18,           /* a signature, Finished or binder did not verify */
    MICA_E_BAD_SIGNATURE = 19,           /* a signature does not verify under the given key */
    MICA_E_KEY_MISMATCH = 20,            /* a key does not fit the requested algorithm */
    MICA_E_PROTOCOL_VERSION = 21,        /* the peer offered no version mica speaks */
    MICA_E_HANDSHAKE_FAILURE = 22,       /* no acceptable set of parameters */
    MICA_E_CLOSED = 23,                  /* the connection is closed */
    MICA_E_LIMIT = 24,                   /* a configured limit was exceeded */
    MICA_E_UNSUPPORTED_EXTENSION = 25,   /* the peer answered an extension never offered */
    MICA_E_MISSING_EXTENSION = 26,       /* a required extension is missing */
    MICA_E_BAD_CERTIFICATE = 27,         /* a certificate is malformed or unusable */
    MICA_E_CERT_UNTRUSTED = 28,          /* the chain does not lead to a trusted root */
    MICA_E_CERT_EXPIRED = 29,            /* a certificate is expired or not yet valid */
    MICA_E_CERT_HOSTNAME = 30,           /* the certificate does not cover the server name */
    MICA_E_NO_APPLICATION_PROTOCOL = 31, /* no ALPN protocol in common */
    MICA_E_PEER_ALERT = 32,              /* the peer ended the connection with a fatal alert */
    MICA_E_CERTIFICATE_REQUIRED = 33,    /* a certificate was required and not sent */
    MICA_E__COUNT                        /* number of codes; not a code */
} mica_err;

/* TLS alert descriptions, RFC 8446 section 6 (values are the wire values). */
typedef enum mica_alert {
    MICA_ALERT_CLOSE_NOTIFY = 0,
    MICA_ALERT_UNEXPECTED_MESSAGE = 10,
    MICA_ALERT_BAD_RECORD_MAC = 20,
    MICA_ALERT_RECORD_OVERFLOW = 22,
    MICA_ALERT_HANDSHAKE_FAILURE = 40,
    MICA_ALERT_BAD_CERTIFICATE = 42,
    MICA_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    MICA_ALERT_CERTIFICATE_REVOKED = 44,
    MICA_ALERT_CERTIFICATE_EXPIRED = 45,
    MICA_ALERT_CERTIFICATE_UNKNOWN = 46,
    MICA_ALERT_ILLEGAL_PARAMETER = 47,
    MICA_ALERT_UNKNOWN_CA = 48,
    MICA_ALERT_ACCESS_DENIED = 49,
    MICA_ALERT_DECODE_ERROR = 50,
    MICA_ALERT_DECRYPT_ERROR = 51,
    MICA_ALERT_PROTOCOL_VERSION = 70,
    MICA_ALERT_INSUFFICIENT_SECURITY = 71,
    MICA_ALERT_INTERNAL_ERROR = 80,
    MICA_ALERT_INAPPROPRIATE_FALLBACK = 86,
    MICA_ALERT_USER_CANCELED = 90,
    MICA_ALERT_MISSING_EXTENSION = 109,
    MICA_ALERT_UNSUPPORTED_EXTENSION = 110,
    MICA_ALERT_UNRECOGNIZED_NAME = 112,
    MICA_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
    MICA_ALERT_UNKNOWN_PSK_IDENTITY = 115,
    MICA_ALERT_CERTIFICATE_REQUIRED = 116,
    MICA_ALERT_NO_APPLICATION_PROTOCOL = 120,
    MICA_ALERT_NONE = 255 /* not a wire value: no alert is sent for this error */
} mica_alert;

/*
 * mica_version: the library's version string, e.g. "0.1.0". Static storage.
 */
MICA_API const char *mica_version(void);

/*
 * mica_err_name: the short, stable name of an error code, e.g. "decode" for
 * MICA_E_DECODE, "want_read" for MICA_WANT_READ. Unknown codes give "unknown".
 * mica_err_sentence: the default human sentence for a code, e.g. "the peer sent a
 * message that does not parse". Connections give a more precise sentence of their own.
 * mica_err_alert: the alert RFC 8446 prescribes when this error ends a connection.
 *
 *     fprintf(stderr, "mica: %s\n", mica_err_sentence(err));
 */
MICA_API const char *mica_err_name(mica_err err);
MICA_API const char *mica_err_sentence(mica_err err);
MICA_API mica_alert mica_err_alert(mica_err err);

/*
 * mica_alert_name: the RFC name of an alert ("decode_error"), or "unknown".
 */
MICA_API const char *mica_alert_name(mica_alert alert);

/*
 * Algorithms this build offers. Each family is listed by index: mica_<family>_at(i)
 * returns the IANA code point of the i-th entry and its RFC name through *name, or 0
 * when i is past the end (no entry has code point 0). Order is mica's default
 * preference. Example:
 *
 *     const char *name;
 *     for (size_t i = 0; mica_cipher_suite_at(i, &name) != 0; i++) puts(name);
 */
MICA_API uint16_t mica_cipher_suite_at(size_t i, const char **name);
MICA_API uint16_t mica_group_at(size_t i, const char **name);
MICA_API uint16_t mica_sig_scheme_at(size_t i, const char **name);

#ifdef __cplusplus
}
#endif

#endif /* MICA_MICA_H */
