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
    MICA_E_IO = 34,                      /* a socket operation failed (errno says which) */
    MICA_E_CERT_PIN = 35,                /* no certificate of the chain matches a pin */
    MICA_E_CERT_REVOKED = 36,            /* a certificate is revoked (OCSP or CRL) */
    MICA_E_CERT_WEAK = 37,               /* a certificate's key or signature is too weak */
    MICA_E_CERT_PURPOSE = 38,            /* a certificate is not for this use (EKU, CA) */
    MICA_E_CERT_STATUS = 39,             /* the OCSP status is missing, stale or unusable */
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

/* ==== configuration ================================================================== */

/*
 * A mica_config holds everything both sides of many connections share: algorithms,
 * certificates, trust, ALPN, limits, callbacks. Build it once, then use it read-only from
 * any number of connections (and threads). Secure by default: every peer certificate is
 * verified against the system trust store unless told otherwise.
 *
 *     mica_config *cfg = mica_config_new();
 *     if (cfg == NULL) ...;
 *     err = mica_config_set_alpn(cfg, "h2,http/1.1");
 */
typedef struct mica_config mica_config;

/* mica_config_new: defaults -- all five suites, groups x25519, secp256r1, secp384r1,
 * secp521r1, x448 (key shares for the first one), all signature schemes, GREASE and
 * middlebox compatibility on, system trust store. NULL when out of memory. */
MICA_API mica_config *mica_config_new(void);
MICA_API void mica_config_free(mica_config *cfg);

/*
 * Algorithm lists: names separated by ':' or ',' in preference order (IANA/RFC names,
 * see mica list). MICA_E_ARGUMENT for an unknown or unavailable name or an empty list.
 *     mica_config_set_cipher_suites(cfg, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
 * For a client, the first group also decides the key share sent in the ClientHello.
 */
MICA_API mica_err mica_config_set_cipher_suites(mica_config *cfg, const char *list);
MICA_API mica_err mica_config_set_groups(mica_config *cfg, const char *list);
MICA_API mica_err mica_config_set_sig_schemes(mica_config *cfg, const char *list);

/* mica_config_set_alpn: protocols offered (client) or accepted in order (server), e.g.
 * "h2,http/1.1". Each 1..255 bytes. */
MICA_API mica_err mica_config_set_alpn(mica_config *cfg, const char *list);

/* mica_config_set_server_preference: a server picks the suite by its own order (true,
 * the default) or by the client's (false). */
MICA_API void mica_config_set_server_preference(mica_config *cfg, int on);

/* Certificate chains with their private keys (a server may hold several; one is chosen
 * per connection by SNI and by the client's signature_algorithms). PEM: the leaf first,
 * then intermediates. Keys: ECDSA P-256/P-384/P-521, RSA >= 2048 (signing with PSS),
 * Ed25519, Ed448. MICA_E_DECODE for unreadable PEM, MICA_E_KEY_MISMATCH when the key does
 * not belong to the leaf. */
MICA_API mica_err mica_config_add_cert_chain_pem(mica_config *cfg, const char *chain_pem,
                                                 size_t chain_len, const char *key_pem,
                                                 size_t key_len);
MICA_API mica_err mica_config_add_cert_chain_file(mica_config *cfg, const char *chain_file,
                                                  const char *key_file);

/* Trust: a CA file, a CA directory (hashed, as c_rehash makes), or PEM in memory; any of
 * these replaces the system store. */
MICA_API mica_err mica_config_set_ca_file(mica_config *cfg, const char *file);
MICA_API mica_err mica_config_set_ca_dir(mica_config *cfg, const char *dir);
MICA_API mica_err mica_config_set_ca_pem(mica_config *cfg, const char *pem, size_t len);

/* mica_config_add_intermediates_file: intermediate CA certificates (PEM) to complete
 * a peer's chain with when it does not send them (they are not trust anchors). Add them
 * after mica_config_set_ca_*, which starts a new trust store. */
MICA_API mica_err mica_config_add_intermediates_file(mica_config *cfg, const char *file);

/* mica_config_add_crl_file: revocation lists (PEM or DER) the leaf is checked against;
 * once any is loaded, a leaf whose issuer has no CRL is not accepted. */
MICA_API mica_err mica_config_add_crl_file(mica_config *cfg, const char *file);

/* mica_config_add_pin: an SPKI pin, "sha256/BASE64" (RFC 7469 form: base64 of the SHA-256
 * of a SubjectPublicKeyInfo, as mica client --showcerts prints). When pins are set, at
 * least one certificate of the verified chain must match one (up to 16);
 * MICA_E_CERT_PIN otherwise. MICA_E_ARGUMENT for a malformed pin. */
MICA_API mica_err mica_config_add_pin(mica_config *cfg, const char *pin);

/* Revocation by OCSP stapling (RFC 6066 status_request, RFC 8446 4.4.2.1). A client asks
 * for the server's OCSP response unless the mode is OFF; AUTO (the default) checks one
 * when stapled (its signature by the issuer or a delegated responder, its freshness,
 * the status: revoked is MICA_E_CERT_REVOKED), REQUIRE also fails without one
 * (MICA_E_CERT_STATUS). */
typedef enum mica_ocsp { MICA_OCSP_OFF = 0, MICA_OCSP_AUTO = 1, MICA_OCSP_REQUIRE = 2 } mica_ocsp;
MICA_API mica_err mica_config_set_ocsp(mica_config *cfg, mica_ocsp mode);
/* mica_config_set_ocsp_staple_file: a server staples the DER OCSP response in file (for
 * its first chain's leaf) to clients that ask; the file is re-read when it changes, so
 * a cron job can renew it under a running server. NULL: no stapling. */
MICA_API mica_err mica_config_set_ocsp_staple_file(mica_config *cfg, const char *file);

/* Mutual TLS. mica_config_set_client_auth: a server asks clients for a certificate
 * (CertificateRequest with its signature algorithms and, when the trust anchors are set
 * with mica_config_set_ca_*, their names as certificate_authorities) and verifies it
 * for clientAuth against those anchors. NONE (the default): no request. OPTIONAL: a
 * client may send none; one that does not verify is still accepted, reported by
 * mica_conn_verified / mica_conn_verify_error for the application to judge. REQUIRE:
 * none is certificate_required, one that does not verify is fatal. Resumed handshakes
 * request none (the session carries the first one's authentication). A client offers
 * the first chain added with mica_config_add_cert_chain_* that fits the request, and an
 * empty Certificate when none does. */
typedef enum mica_client_auth {
    MICA_CLIENT_AUTH_NONE = 0,
    MICA_CLIENT_AUTH_OPTIONAL = 1,
    MICA_CLIENT_AUTH_REQUIRE = 2
} mica_client_auth;
MICA_API mica_err mica_config_set_client_auth(mica_config *cfg, mica_client_auth mode);

/* mica_config_insecure_no_verify: accept any peer certificate (the handshake still checks
 * the CertificateVerify signature). For tests and diagnostics only; the CLI warns. */
MICA_API void mica_config_insecure_no_verify(mica_config *cfg);

/* Toggles: GREASE (RFC 8701) values in the client's hello; middlebox compatibility mode
 * (RFC 8446 D.4). Both on by default. */
MICA_API void mica_config_set_grease(mica_config *cfg, int on);
MICA_API void mica_config_set_middlebox_compat(mica_config *cfg, int on);

/* Limits: the largest handshake message accepted (default 64 KiB, at least 1 KiB); the
 * record_size_limit announced (RFC 8449, 64..16385, default 16385 = not sent). */
MICA_API mica_err mica_config_set_max_handshake_size(mica_config *cfg, size_t bytes);
MICA_API mica_err mica_config_set_record_size_limit(mica_config *cfg, size_t bytes);

/* mica_config_set_clock: time for the engine, in ms since the Unix epoch (tests move
 * it); NULL restores the system clock. */
MICA_API void mica_config_set_clock(mica_config *cfg, uint64_t (*now)(void *ctx), void *ctx);

/* mica_config_set_keylog: receives NSS key log lines ("CLIENT_HANDSHAKE_TRAFFIC_SECRET
 * <client_random> <secret>", no newline) so Wireshark can decrypt. The only way secrets
 * leave mica. */
MICA_API void mica_config_set_keylog(mica_config *cfg, void (*cb)(void *ctx, const char *line),
                                     void *ctx);

/* mica_config_set_ticket_cb: a client receives each NewSessionTicket message (the whole
 * handshake message) here; the resumption support stores them. */
MICA_API void mica_config_set_ticket_cb(mica_config *cfg,
                                        void (*cb)(void *ctx, const uint8_t *msg, size_t len),
                                        void *ctx);

/* Resumption (RFC 8446 2.2). A server sends `count` NewSessionTickets after each full
 * handshake (default 2; 0: none unless mica_conn_send_tickets asks) and one after a
 * resumed handshake (when count >= 1), replacing the ticket the client spent: stateless
 * tickets sealed with a key of this config, valid lifetime_s seconds (default 7200, at
 * most 7 days). A ticket the config's key opens is accepted whatever count is. */
MICA_API mica_err mica_config_set_tickets(mica_config *cfg, unsigned count, unsigned lifetime_s);

/* The ticket key: every rotate_s seconds (60 s .. 7 days; default 3600) tickets are sealed
 * under a new key derived from a secret; a ticket sealed under an earlier key is accepted
 * while it can be alive, then never again. The secret is random per config unless given
 * here (32 to 1024 bytes, e.g. from a file): servers that share it (processes, a fleet)
 * accept each other's tickets. secret NULL keeps the current secret and sets only the
 * period. Keep the secret like a private key: it opens every ticket. */
MICA_API mica_err mica_config_set_ticket_key(mica_config *cfg, const uint8_t *secret, size_t len,
                                             unsigned rotate_s);

/* A client receives one session per ticket through cb: an opaque, versioned blob for
 * mica_conn_new_client_resume. It holds the resumption PSK: keep it like a key. Its
 * SHA-256 check catches damage, not forgery: whoever can write the store can make a blob
 * that says its server was verified, so keep the store as private as the config. A
 * resumed connection reports mica_conn_verified as the session's original handshake
 * did (no certificate is sent again: mica_conn_peer_cert is empty, the signature scheme
 * NULL), and a chain of resumptions ends 7 days after that verification. */
MICA_API void mica_config_set_session_cb(mica_config *cfg,
                                         void (*cb)(void *ctx, const char *server_name,
                                                    const uint8_t *session, size_t len),
                                         void *ctx);

/* mica_config_keep_sessions: a client config keeps the sessions its connections
 * receive, in memory: the newest per_name (1..16) for each of up to names (1..65536)
 * server names (the least recently used name goes first). mica_conn_new_client (and
 * mica_io_connect) then offers the newest session kept for its name that is still
 * usable, and takes it out: each ticket is offered once, so connections cannot be
 * linked by it (RFC 8446 C.4). The session callback, if set, still gets every session.
 * Thread-safe (its own lock). names 0: keep none (the default). */
MICA_API mica_err mica_config_keep_sessions(mica_config *cfg, size_t names, size_t per_name);

/* mica_config_set_psk_modes: the PSK key exchange modes (RFC 8446 4.2.9) a client offers
 * and a server accepts, in preference order: "psk_dhe_ke" (the default alone: a fresh
 * (EC)DHE with every resumption, so forward secrecy is kept) and "psk_ke" (the PSK alone:
 * one less key exchange, but a stolen ticket key or session then decrypts the
 * connection). A server picks the first of its modes the client offers. */
MICA_API mica_err mica_config_set_psk_modes(mica_config *cfg, const char *list);

/* mica_config_set_session_cache: a server keeps up to n sessions (1 .. 2^20) in memory
 * and sends tickets that only name them (32 random bytes), instead of sealing the session
 * into the ticket. Each such ticket resumes once (it is taken out when used), which
 * also makes its 0-RTT data impossible to replay; the oldest sessions go when the cache
 * is full. Sessions live in this process only; tickets sealed by the ticket key are still
 * accepted. n 0: stateless tickets only (the default). Thread-safe (its own lock). */
MICA_API mica_err mica_config_set_session_cache(mica_config *cfg, size_t n);

/*
 * 0-RTT, early data (RFC 8446 2.3, 4.2.10). Early data is sent with the first flight of
 * a resumed connection, before any answer from the server: it saves a round trip, and
 * it can be REPLAYED by an attacker who records it. Use it only for requests that are
 * safe to run twice (an HTTP GET), read it only through mica_conn_read_early.
 *
 * mica_config_set_early_data: a server accepts up to max_bytes (1 .. 1 MiB) of early
 * data per resumed connection and says so in its tickets; a client sends early data
 * (at most max_bytes) when its session allows it. 0: off (the default).
 * A server refuses (the handshake goes on in 1-RTT, its early data skipped) when the
 * ticket does not allow it, the suite, ALPN or server name differ from the session's,
 * the client's ticket age is more than 10 s off, or the anti-replay store has seen this
 * ClientHello: every ClientHello whose early data is accepted is recorded, so a replayed
 * flight never has its early data delivered twice by this config. The built-in store is
 * in memory, per config (up to 65536 hellos per 20 s, fewer when their ids cluster;
 * beyond that early data is refused, not risked): servers that share a ticket key
 * (processes, a fleet, a config reloaded) must share a store too, or each accepts a
 * replayed flight once -- give them one with mica_config_set_replay_store.
 * mica_config_set_replay_store: a store of your own, e.g. shared by a fleet: check(ctx,
 * id, now_ms, keep_ms) returns 1 when id (32 bytes) is new, recording it for keep_ms,
 * and 0 when it was seen or cannot be recorded. Called from any thread.
 * mica_config_insecure_no_anti_replay: accept 0-RTT with no recording at all (tests,
 * benchmarks): then a recorded flight can be replayed at will while its ticket lives.
 */
MICA_API mica_err mica_config_set_early_data(mica_config *cfg, uint32_t max_bytes);
MICA_API void mica_config_set_replay_store(mica_config *cfg,
                                           int (*check)(void *ctx, const uint8_t id[32],
                                                        uint64_t now_ms, uint64_t keep_ms),
                                           void *ctx);
MICA_API void mica_config_insecure_no_anti_replay(mica_config *cfg);

/* ==== connections: the sans-I/O engine ================================================ */

/*
 * A mica_conn is one TLS connection as a state machine with byte buffers on both sides.
 * It never touches a socket: the application moves bytes.
 *
 *     for (;;) {
 *         while (mica_conn_pending(c, &out, &out_len) == MICA_OK && out_len > 0) {
 *             n = send(fd, out, out_len, 0);      // error handling elided
 *             mica_conn_sent(c, n);
 *         }
 *         if (mica_conn_is_connected(c)) break;
 *         n = recv(fd, buf, sizeof buf, 0);
 *         err = mica_conn_feed(c, buf, n, &used);   // consumes all it can
 *         if (mica_err_is_fatal(err)) { report(mica_conn_error_sentence(c)); break; }
 *     }
 *
 * After a fatal error the connection queues its alert once (collect it with
 * mica_conn_pending) and every later call returns the same error.
 */
typedef struct mica_conn mica_conn;

/* mica_conn_new_client: a client for server_name (used for SNI and certificate name
 * checks; NULL sends no SNI and requires mica_config_insecure_no_verify; an IP address
 * is checked against IP SANs and sent without SNI). The ClientHello is ready in
 * mica_conn_pending at once. cfg must outlive the connection. */
MICA_API mica_err mica_conn_new_client(const mica_config *cfg, const char *server_name,
                                       mica_conn **out);
MICA_API mica_err mica_conn_new_server(const mica_config *cfg, mica_conn **out);
/* mica_conn_new_client_resume: a client that offers a session from the session callback
 * (by default PSK with (EC)DHE, so forward secrecy is kept; see mica_config_set_psk_modes).
 * A session that is expired, for another
 * name or for a suite this config does not offer is not offered: a full handshake.
 * MICA_E_DECODE when the blob is not a mica session. */
MICA_API mica_err mica_conn_new_client_resume(const mica_config *cfg, const char *server_name,
                                              const uint8_t *session, size_t session_len,
                                              mica_conn **out);
MICA_API void mica_conn_free(mica_conn *c);

/* mica_conn_feed: give the engine bytes received from the peer. *used gets how many it
 * took: all of them, unless it stopped at a fatal error, or because more than 16 MiB of
 * received application data waits to be read (read it, then feed the rest). MICA_OK, or
 * the fatal error. */
MICA_API mica_err mica_conn_feed(mica_conn *c, const uint8_t *in, size_t len, size_t *used);

/* mica_conn_pending: bytes to send to the peer, valid until the next call on c; *len is 0
 * when there is nothing. mica_conn_sent: n of them were sent. */
MICA_API mica_err mica_conn_pending(mica_conn *c, const uint8_t **out, size_t *len);
MICA_API void mica_conn_sent(mica_conn *c, size_t n);

/* mica_conn_write: queue application data (after the handshake; a server may write once
 * its Finished is sent, before the client's: 0.5-RTT data, to a client not yet
 * authenticated by its Finished); *written gets how much
 * was taken (all of it unless the output buffer limit is reached: then send and retry).
 * mica_conn_read: received application data; MICA_WANT_READ when none is buffered;
 * MICA_OK with *n == 0 after the peer's close_notify (end of stream). */
MICA_API mica_err mica_conn_write(mica_conn *c, const uint8_t *data, size_t len, size_t *written);
MICA_API mica_err mica_conn_read(mica_conn *c, uint8_t *buf, size_t cap, size_t *n);
/* mica_conn_readable: bytes of application data already decrypted, which mica_conn_read
 * returns without more input (like SSL_pending); an event loop reads them before it
 * waits for the socket. */
MICA_API size_t mica_conn_readable(const mica_conn *c);

/* mica_conn_close: send close_notify (our half; RFC 8446 6.1 half-close: we may still
 * read until the peer's close_notify). During the handshake it cancels it: user_canceled,
 * then close_notify. */
MICA_API mica_err mica_conn_close(mica_conn *c);

/* mica_conn_key_update: send a KeyUpdate; request_peer asks the peer to update too. */
MICA_API mica_err mica_conn_key_update(mica_conn *c, int request_peer);

/* mica_conn_send_tickets: a server sends count (1..16) more NewSessionTickets on a
 * connected connection, e.g. before a client opens more connections (RFC 8446 4.6.1);
 * MICA_E_ARGUMENT on a client, before the handshake ends, after close, or past 255
 * tickets on one connection. */
MICA_API mica_err mica_conn_send_tickets(mica_conn *c, unsigned count);

/* mica_conn_request_client_auth: a connected server asks the client for a certificate
 * now (post-handshake authentication, RFC 8446 4.6.2), e.g. before serving a protected
 * resource. Only a client that offered it (post_handshake_auth: mica clients do when
 * they have a certificate) can be asked: MICA_E_ARGUMENT otherwise, or while a request is
 * open. The answer arrives with later input: mica_conn_peer_cert, mica_conn_verified and
 * mica_conn_verify_error then describe the new certificate (none sent: not verified);
 * a certificate that does not verify is fatal unless the mode is OPTIONAL. */
MICA_API mica_err mica_conn_request_client_auth(mica_conn *c);
/* mica_conn_client_auth_pending: a request is open, the client's answer not all in. */
MICA_API int mica_conn_client_auth_pending(const mica_conn *c);

/*
 * 0-RTT on a connection. A client made with mica_conn_new_client_resume, whose config has
 * early data on and whose session allows it, offers early data in its ClientHello; it
 * then writes early data with mica_conn_write_early until the server answers (*written <
 * len once the session's limit is reached; MICA_E_ARGUMENT when it cannot be sent: no
 * offer, rejected, or too late). If the server rejects it, nothing of it was delivered:
 * send it again with mica_conn_write after the handshake if it still matters.
 * A server reads early data with mica_conn_read_early, before the handshake completes:
 * MICA_OK with *n > 0; MICA_OK with *n == 0 once no more early data can come; or
 * MICA_WANT_READ (feed more). A server may answer with mica_conn_write as soon as it has
 * sent its Finished (0.5-RTT data), before the client's Finished.
 * mica_conn_early_data: what became of early data: known to the client at the server's
 * EncryptedExtensions, to the server at the ClientHello.
 */
typedef enum mica_early {
    MICA_EARLY_NOT_SENT = 0, /* not offered */
    MICA_EARLY_ACCEPTED = 1,
    MICA_EARLY_REJECTED = 2 /* offered, refused by the server (or after an HRR) */
} mica_early;
MICA_API mica_err mica_conn_write_early(mica_conn *c, const uint8_t *data, size_t len,
                                        size_t *written);
MICA_API mica_err mica_conn_read_early(mica_conn *c, uint8_t *buf, size_t cap, size_t *n);
MICA_API mica_early mica_conn_early_data(const mica_conn *c);
/* "not_sent", "accepted", "rejected" */
MICA_API const char *mica_early_name(mica_early e);
/* mica_conn_export_early: RFC 8446 7.5 early exporter (from the early_exporter_master
 * secret): on a client that offered early data, at once (MICA_E_ARGUMENT again once the
 * server rejected it); on a server that accepted it. */
MICA_API mica_err mica_conn_export_early(const mica_conn *c, const char *label,
                                         const uint8_t *context, size_t context_len, uint8_t *out,
                                         size_t out_len);

/* State. */
MICA_API int mica_conn_is_connected(const mica_conn *c); /* handshake done, not failed */
MICA_API int mica_conn_peer_closed(const mica_conn *c);  /* close_notify received */
MICA_API int mica_err_is_fatal(mica_err err);            /* an error, not OK or WANT_* */

/* The error of a failed connection: its code, the alert sent or received, and one
 * sentence naming the cause (static or owned by c until mica_conn_free). */
MICA_API mica_err mica_conn_error(const mica_conn *c);
MICA_API mica_alert mica_conn_error_alert(const mica_conn *c);
MICA_API const char *mica_conn_error_sentence(const mica_conn *c);

/* What was negotiated (NULL / 0 before it is known; the group is NULL after a psk_ke
 * resumption, which has no key exchange). Names are static strings. */
MICA_API const char *mica_conn_version(const mica_conn *c);      /* "TLSv1.3" */
MICA_API const char *mica_conn_cipher_suite(const mica_conn *c); /* IANA name */
MICA_API const char *mica_conn_group(const mica_conn *c);
MICA_API const char *mica_conn_sig_scheme(const mica_conn *c);  /* the server's CertificateVerify */
MICA_API const char *mica_conn_alpn(const mica_conn *c);        /* owned by c */
MICA_API const char *mica_conn_server_name(const mica_conn *c); /* SNI (server: received) */
MICA_API int mica_conn_hrr(const mica_conn *c);                 /* a HelloRetryRequest happened */
MICA_API int mica_conn_resumed(const mica_conn *c);             /* the session's PSK was accepted */
MICA_API int mica_conn_verified(const mica_conn *c);            /* peer chain verified */
/* mica_conn_verify_error: why not, or NULL; valid until the next post-handshake
 * certificate arrives (mica_conn_request_client_auth) or the connection is freed */
MICA_API const char *mica_conn_verify_error(const mica_conn *c);
/* mica_conn_verify_code: the peer chain's verification result as a stable code
 * (MICA_E_CERT_EXPIRED, MICA_E_CERT_HOSTNAME, ...; MICA_OK when verified or not done):
 * with mica_conn_verify_error, what a server in OPTIONAL mode reports of a client it
 * accepted unverified. */
MICA_API mica_err mica_conn_verify_code(const mica_conn *c);
/* mica_conn_ocsp_stapled: the server stapled an OCSP response (checked unless the
 * config's OCSP mode is OFF, which also asks for none) */
MICA_API int mica_conn_ocsp_stapled(const mica_conn *c);

/* mica_conn_peer_cert: the i-th certificate the peer sent (0 = leaf), DER, owned by c. */
MICA_API const uint8_t *mica_conn_peer_cert(const mica_conn *c, size_t i, size_t *len);

/* mica_conn_memory: the bytes this connection holds now (its state and buffers, not
 * libcrypto's contexts), and the most it held at once. Buffers are released while the
 * connection is idle, so a waiting connection holds little more than its state. */
MICA_API void mica_conn_memory(const mica_conn *c, size_t *current, size_t *peak);

/* mica_conn_export: RFC 8446 7.5 exporter (after the handshake). */
MICA_API mica_err mica_conn_export(const mica_conn *c, const char *label, const uint8_t *context,
                                   size_t context_len, uint8_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* MICA_MICA_H */
