/*
 * Inside mica_config and mica_conn: the engine's own state. Only src/tls/ sees this.
 *
 * A connection is three layers of buffers around the handshake state machines:
 *
 *   network in  -> in[] (one record at a time) -> record open -> hs[] (messages)
 *                                                             -> app[] (plaintext)
 *   network out <- out[] <- record seal <- messages built in place / application data
 *
 * The state (conn->state) is changed in exactly one place, fsm.c.
 */
#ifndef MICA_TLS_CONN_H
#define MICA_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/mica.h>
#include <mica/trace.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "tls/msg.h"
#include "tls/record.h"
#include "tls/transcript.h"
#include "x509/x509.h"

#define MICA_MAX_ALG_N 32u        /* entries of a configured algorithm list */
#define MICA_MAX_ALPN_WIRE 512u   /* the ALPN list as sent, with its length prefixes */
#define MICA_MAX_CHAINS 8u        /* certificate chains a server config holds */
#define MICA_MAX_SERVER_NAME 255u /* RFC 6066 HostName <1..2^16-1>, DNS names <= 255 */
#define MICA_MAX_KEY_SHARES 2u    /* key shares a client sends */
#define MICA_MAX_OUT_BUFFER (4u * 1024u * 1024u) /* queued output before write refuses */
#define MICA_MAX_COOKIE 1024u                    /* HRR cookie a client echoes */
#define MICA_MAX_SESSION_ID 32u
#define MICA_MAX_TICKET 1024u      /* a ticket mica keeps to offer (its own are ~330 bytes) */
#define MICA_MAX_SESSION_LEN 2048u /* a session blob (psk.c) */
#define MICA_SESSION_ID_LEN 32u    /* a stateful ticket: the session cache's key */
#define MICA_MAX_SESSION_CACHE (1u << 20)
#define MICA_MAX_PINS 16u              /* SPKI pins a config holds */
#define MICA_MAX_CA_NAMES 16384u       /* certificate_authorities a server sends, bytes */
#define MICA_MAX_OCSP_RESPONSE 65536u  /* a stapled OCSP response mica sends or keeps */
#define MICA_MAX_KEEP_NAMES 65536u     /* server names a client config keeps sessions for */
#define MICA_MAX_EARLY_DATA (1u << 20) /* the most 0-RTT data a server may accept */
#define MICA_EARLY_SKIP_DEFAULT 16384u /* rejected 0-RTT skipped when none is accepted */
#define MICA_EARLY_WINDOW_MS 10000u    /* ticket age tolerance for 0-RTT (RFC 8446 8.3) */
#define MICA_PSK_KE 0u                 /* psk_key_exchange_modes values (4.2.9) */
#define MICA_PSK_DHE_KE 1u

/* A resumable session: the server's ticket state, or what a client keeps (psk.c). */
struct mica_session {
    uint16_t suite;
    uint64_t issued_ms;
    uint64_t auth_ms;  /* when a certificate last authenticated the server (4.6.1: resumption
                          chains end 7 days after it) */
    uint32_t lifetime; /* seconds */
    uint32_t age_add;
    mica_secret psk;
    char sni[MICA_MAX_SERVER_NAME + 1];
    char alpn[256];
    uint32_t max_early;              /* 0-RTT bytes the ticket allows (0: none) */
    uint8_t ticket[MICA_MAX_TICKET]; /* client: the ticket to offer */
    size_t ticket_len;
    bool verified; /* client: the server's chain was verified when the session was made */
};

struct mica_config {
    uint16_t suites[MICA_MAX_ALG_N];
    size_t suites_n;
    uint16_t groups[MICA_MAX_ALG_N];
    size_t groups_n;
    uint16_t sigs[MICA_MAX_ALG_N];
    size_t sigs_n;
    uint8_t alpn[MICA_MAX_ALPN_WIRE]; /* ProtocolName list, each with its 1-byte length */
    size_t alpn_len;
    bool server_preference;
    bool grease;
    bool middlebox_compat;
    bool verify; /* false only through mica_config_insecure_no_verify */
    size_t max_handshake;
    size_t record_size_limit; /* 0: not announced */
    struct mica_chain *chains[MICA_MAX_CHAINS];
    size_t chains_n;
    mica_x509_store *store; /* the system store until a CA is set */
    bool store_custom;
    struct mica_clock clock;
    void (*keylog)(void *ctx, const char *line);
    void *keylog_ctx;
    void (*ticket_cb)(void *ctx, const uint8_t *msg, size_t len);
    void *ticket_ctx;
    unsigned tickets;          /* NewSessionTickets a server sends (0: none) */
    unsigned ticket_lifetime;  /* seconds */
    uint8_t ticket_secret[32]; /* the ticket keys of every period derive from it (psk.c) */
    unsigned ticket_rotate;    /* seconds: a new ticket key each period */
    struct mica_ticket_keys *ticket_keys; /* the last periods' keys, derived (psk.c) */
    void (*session_cb)(void *ctx, const char *server_name, const uint8_t *session, size_t len);
    void *session_ctx;
    uint8_t psk_modes[2]; /* MICA_PSK_DHE_KE / MICA_PSK_KE in preference order */
    size_t psk_modes_n;
    uint32_t early_max; /* server: 0-RTT bytes accepted (0: off); client: sent at most */
    /* the shared mutable stores (store.c), each with its own lock; see mica.h */
    struct mica_cache *cache;       /* stateful single-use tickets (NULL: stateless) */
    struct mica_keep *keep;         /* client: sessions kept per server name (NULL: none) */
    struct mica_replay *replay_own; /* the built-in ClientHello recording */
    int (*replay)(void *ctx, const uint8_t id[32], uint64_t now_ms, uint64_t keep_ms);
    void *replay_ctx;                /* replay: the application's store instead of replay_own */
    bool no_anti_replay;             /* mica_config_insecure_no_anti_replay */
    uint8_t pins[MICA_MAX_PINS][32]; /* SPKI SHA-256 pins of the peer's chain */
    size_t pins_n;
    mica_ocsp ocsp;               /* client: stapled OCSP policy (MICA_OCSP_AUTO by default) */
    mica_client_auth client_auth; /* server: whether to ask clients for certificates */
    struct mica_staple *staple;   /* server: the OCSP response to staple (store.c) */
    mica_trace_cb trace;          /* NULL: no events are built at all */
    void *trace_ctx;
    uint8_t cookie_key[32]; /* HMAC key for stateless HRR cookies */
};

/* RFC 8446 Appendix A states, both sides in one enum so one dispatcher serves both. */
enum mica_state {
    MICA_ST_NONE = 0,
    /* client, A.1 */
    C_START,
    C_WAIT_SH,
    C_WAIT_EE,
    C_WAIT_CERT_CR,
    C_WAIT_CERT,
    C_WAIT_CV,
    C_WAIT_FINISHED,
    /* server, A.2 */
    S_START,
    S_WAIT_EOED,
    S_WAIT_FLIGHT2, /* no client authentication: the client's Finished next */
    S_WAIT_CERT,
    S_WAIT_CV,
    S_WAIT_FINISHED,
    /* both */
    MICA_ST_CONNECTED,
    MICA_ST__COUNT
};
const char *mica_state_name(enum mica_state s);

/* Proof bits (STYLE.md 2.5): each set in exactly one verify function. */
#define MICA_PROOF_CERT 1u   /* peer chain verified, or verification disabled by config */
#define MICA_PROOF_CV 2u     /* CertificateVerify signature verified */
#define MICA_PROOF_FIN 4u    /* peer Finished verified */
#define MICA_PROOF_BINDER 8u /* PSK binder verified */

#define MICA_ERR_SENTENCE_LEN 768u
#define MICA_TRACE_FLIGHT_LEN 256u

struct mica_conn {
    const mica_config *cfg;
    bool server;
    enum mica_state state;

    /* first failure sticks */
    mica_err err;
    mica_alert err_alert;
    char *err_sentence; /* MICA_ERR_SENTENCE_LEN bytes, made at the failure (NULL before,
                           or when that allocation failed: then the code's own sentence) */

    /* records */
    struct mica_rec_dir rd, wr;
    uint32_t rd_keys; /* read keys installed so far: a change ends a record's messages */
    uint8_t in_hdr[MICA_RECORD_HEADER_LEN]; /* the header of the record being received */
    uint8_t *in;                            /* that record, header included, made to its size */
    size_t in_len, in_cap;                  /* bytes of it received so far; in's size */
    uint8_t *hs;                            /* handshake message reassembly */
    size_t hs_len, hs_cap;
    uint8_t *out; /* records to send */
    size_t out_len, out_off, out_cap;
    uint8_t *app; /* received application data */
    size_t app_len, app_off, app_cap;
    size_t mem_peak; /* the most this connection held at once (mica_conn_memory) */

    /* handshake */
    struct mica_transcript t;
    struct mica_keysched ks;
    mica_secret c_hs, s_hs, c_ap, s_ap, exp_master;
    const struct mica_suite *suite;
    const struct mica_group *group;
    const struct mica_sig_scheme *sig;        /* the scheme of the peer's (client) / our CV */
    const struct mica_chain *chain;           /* our chain: a server's, or a client's when asked */
    const struct mica_sig_scheme *own_sig;    /* client: the scheme of our CertificateVerify */
    mica_kx_key *shares[MICA_MAX_KEY_SHARES]; /* client: private keys of offered shares */
    uint8_t client_random[32];
    uint8_t session_id[MICA_MAX_SESSION_ID];
    size_t session_id_len;
    uint8_t *cookie; /* client: the HRR cookie to echo */
    size_t cookie_len;
    uint64_t offered;    /* client: known extensions in our CH */
    uint16_t hrr_group;  /* group asked for by the HRR (0: none) */
    bool hrr;            /* an HRR happened */
    bool cert_requested; /* the server sent CertificateRequest */
    bool ccs_sent;
    bool ccs_ok;           /* a dummy CCS may arrive now */
    bool ccs_before_ch;    /* server: a CCS came before any ClientHello (stateless HRR) */
    uint32_t idle_updates; /* KeyUpdates / dummy CCS since the last application data */
    unsigned proof;
    uint16_t grease[4]; /* the client's GREASE values */

    /* negotiated and peer facts */
    char server_name[MICA_MAX_SERVER_NAME + 1];
    char *alpn; /* the protocol agreed on (made to its length), or NULL */
    uint8_t **peer_der;
    size_t *peer_len;
    size_t peer_n;
    mica_pkey *peer_key; /* the leaf's key: from the verification, or parsed for the
                            CertificateVerify when there is none; NULL until then */
    bool verified;
    char *verify_error;   /* why the peer's chain is not verified (mica_hs_set_verify_error),
                           or NULL: made to its length, so a verified connection holds none */
    mica_err verify_code; /* the verification's result (MICA_OK, or why not) */
    bool ocsp_stapled;    /* client: the server stapled an OCSP response */
    bool ocsp_requested;  /* server: the client sent status_request */

    /* post-handshake authentication (pha.c) */
    struct mica_transcript t_hs; /* the handshake's transcript, each exchange starts from */
    bool pha_offered;            /* the ClientHello carried post_handshake_auth */
    uint8_t pha_state;        /* server: 0 idle, 1 wait Certificate, 2 wait CV, 3 wait Finished */
    uint8_t pha_context[8];   /* server: the certificate_request_context of the request */
    unsigned pha_count;       /* server: requests so far */
    size_t peer_record_limit; /* RFC 8449: the peer's limit, applied when keys change */

    /* resumption (psk.c) */
    bool offer_psk; /* client: the ClientHello offers session */
    bool resumed;   /* the PSK was accepted */
    /* client: the session offered; server: the one accepted. Only during the handshake
     * (1.6 KB, mostly a client's ticket): freed when it completes, so an established
     * connection does not carry it */
    struct mica_session *session;
    uint64_t session_auth_ms; /* resumed: the session's auth_ms, for the tickets it issues */
    mica_secret res_master;   /* resumption_master_secret: each ticket's PSK comes from it */
    unsigned tickets_sent;    /* server: NewSessionTickets so far (their nonces) */
    uint8_t psk_mode;         /* MICA_PSK_DHE_KE or MICA_PSK_KE, when resumed */
    bool psk_fresh;           /* server: the ticket age is within the 0-RTT window */
    bool psk_stateful;        /* server: a single-use ticket of the session cache */
    uint8_t binder_id[32];    /* server: the accepted binder, the hello's anti-replay id */

    /* 0-RTT (RFC 8446 4.2.10) */
    mica_early early;     /* what became of early data (mica.h) */
    bool early_offered;   /* the ClientHello carried early_data */
    bool early_done;      /* server: no more early data can come (EOED, or none) */
    bool ch_seen;         /* server: a ClientHello arrived */
    bool early_before_ch; /* server: application data came before any ClientHello */
    uint32_t early_max;   /* client: bytes still allowed; server: the accepted limit */
    uint32_t early_count; /* bytes sent (client) or received (server) */
    uint32_t early_skip;  /* server: rejected 0-RTT bytes that may still be skipped */
    const struct mica_suite *early_suite; /* client: the session's suite protects 0-RTT */
    mica_secret c_early, early_exp;       /* client_early_traffic_secret, its exporter master */
    uint8_t *early_buf;                   /* server: received early data not read yet */
    size_t early_len, early_off, early_cap;

    /* closing */
    bool peer_closed; /* close_notify received */
    bool closed;      /* close_notify sent */

    /* tracing (trace.c) */
    uint64_t trace_start_us;
    char *trace_flight; /* names of the messages sent since the last flight event
                           (MICA_TRACE_FLIGHT_LEN bytes, made when tracing is on) */
    size_t trace_flight_bytes;
    unsigned trace_flight_epochs; /* bit (1 << epoch) of each protection used in the flight */
};

/* Resumption (psk.c). */
MICA_MUST mica_err mica_psk_send_tickets(mica_conn *c, unsigned count);
/* the config's cache of derived ticket keys: made with the config, wiped with it */
MICA_MUST mica_err mica_psk_config_init(mica_config *cfg);
void mica_psk_config_free(mica_config *cfg);
MICA_MUST mica_err mica_psk_on_ticket(mica_conn *c, const struct mica_new_session_ticket *nst);
MICA_MUST mica_err mica_psk_load_session(mica_conn *c, const uint8_t *blob, size_t len);
void mica_psk_write_offer(mica_conn *c, mica_wr *w);
MICA_MUST mica_err mica_psk_fill_binder(mica_conn *c, uint8_t *msg, size_t len);
MICA_MUST mica_err mica_psk_accept(mica_conn *c, const struct mica_client_hello *ch,
                                   const uint8_t *msg, size_t len);
void mica_psk_defaults(mica_config *cfg);
/* server: the first of its PSK modes the client offers (bits 1 << mode), or -1 */
int mica_psk_mode(const mica_config *cfg, uint8_t offered);
/* server: whether the ClientHello's 0-RTT data is accepted (c->early), after the PSK and
 * ALPN are chosen; retry: an HRR is about to be sent (rejected then) */
MICA_MUST mica_err mica_psk_decide_early(mica_conn *c, const struct mica_client_hello *ch,
                                         bool retry);
/* server: early data received in WAIT_EOED, within the accepted limit (early.c) */
MICA_MUST mica_err mica_early_append(mica_conn *c, const uint8_t *p, size_t len);

/* The shared stores (store.c). */
struct mica_replay;
MICA_MUST mica_err mica_replay_new(struct mica_replay **out);
void mica_replay_free(struct mica_replay *r);
/* 1: id was not seen and is recorded for keep_ms; 0: seen (a replay) or no room */
int mica_replay_check(void *ctx, const uint8_t id[32], uint64_t now_ms, uint64_t keep_ms);
struct mica_cache;
MICA_MUST mica_err mica_cache_new(size_t n, struct mica_cache **out);
void mica_cache_free(struct mica_cache *c);
MICA_MUST mica_err mica_cache_put(struct mica_cache *c, const uint8_t *id, const uint8_t *state,
                                  size_t len);
/* takes the session out (single use); MICA_E_DECODE when there is none for id */
MICA_MUST mica_err mica_cache_take(struct mica_cache *c, const uint8_t *id, uint8_t *state,
                                   size_t cap, size_t *len);
size_t mica_cache_count(struct mica_cache *c);
struct mica_staple;
MICA_MUST mica_err mica_staple_new(const char *path, struct mica_staple **out);
void mica_staple_free(struct mica_staple *st);
/* the current response (re-read when the file changes) into a new buffer *out (free with
 * mica_mem_free), or *out NULL when there is none or it cannot be read */
MICA_MUST mica_err mica_staple_get(struct mica_staple *st, uint8_t **out, size_t *len);
struct mica_keep;
MICA_MUST mica_err mica_keep_new(size_t names, size_t per_name, struct mica_keep **out);
void mica_keep_free(struct mica_keep *k);
void mica_keep_put(struct mica_keep *k, const char *name, const uint8_t *blob, size_t len);
/* the newest session kept for name, taken out (free with mica_mem_free_secret), or NULL */
uint8_t *mica_keep_take(struct mica_keep *k, const char *name, size_t *len);

/* Trace events (trace.c); each returns at once when the config has no trace callback. */
void mica_trace_message(mica_conn *c, bool sent, const uint8_t *msg, size_t len);
void mica_trace_event(mica_conn *c, enum mica_trace_kind kind, bool sent, const char *name);
void mica_trace_cert(mica_conn *c, const char *result, const char *why);
/* 0-RTT: result "offered", "accepted", "rejected" (why) or "skipped" (bytes) */
void mica_trace_early(mica_conn *c, bool sent, const char *result, const char *why, size_t bytes);
void mica_trace_alert(mica_conn *c, bool sent, uint8_t level, uint8_t desc, const char *cause);
void mica_trace_flight(mica_conn *c);

/* mica_hs_set_verify_error: c->verify_error = the formatted sentence (NULL: none; without
 * memory, the error code's sentence stands in, see mica_hs_verify_text) */
__attribute__((format(printf, 2, 3))) void mica_hs_set_verify_error(mica_conn *c, const char *fmt,
                                                                    ...);
/* mica_hs_verify_text: c->verify_error, or "" when there is none */
const char *mica_hs_verify_text(const mica_conn *c);
/* mica_hs_set_alpn: c->alpn = name[0..len); mica_hs_alpn_text: it, or "" for none */
MICA_MUST mica_err mica_hs_set_alpn(mica_conn *c, const uint8_t *name, size_t len);
const char *mica_hs_alpn_text(const mica_conn *c);

/*
 * mica_fail: record the first failure of a connection (later ones are ignored), queue
 * its alert once, and return the code -- so handlers end with `return mica_fail(...)`.
 * alert MICA_ALERT_NONE takes the code's default alert from the error table.
 */
mica_err mica_fail(mica_conn *c, mica_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
mica_err mica_fail_alert(mica_conn *c, mica_err code, mica_alert alert, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Output: handshake messages are built in a scratch writer and sent in records. */
MICA_MUST mica_err mica_conn_send(mica_conn *c, enum mica_content_type type, const uint8_t *p,
                                  size_t len);
/* mica_conn_send_hs: send one handshake message and add it to the transcript. */
MICA_MUST mica_err mica_conn_send_hs(mica_conn *c, const uint8_t *msg, size_t len);
MICA_MUST mica_err mica_conn_send_ccs(mica_conn *c);

/* Key changes: install keys on the read or write side, from a traffic secret. */
MICA_MUST mica_err mica_conn_set_read_key(mica_conn *c, const mica_secret *s, enum mica_epoch e);
MICA_MUST mica_err mica_conn_set_write_key(mica_conn *c, const mica_secret *s, enum mica_epoch e);
/* the early data keys: the session's suite (client) or the chosen one (server) */
MICA_MUST mica_err mica_conn_set_early_key(mica_conn *c, bool write);

/* The NSS key log line for a secret ("CLIENT_HANDSHAKE_TRAFFIC_SECRET" etc.). */
void mica_conn_keylog(mica_conn *c, const char *label, const mica_secret *s);

/* The handshake state machines (client.c, server.c) and the dispatcher (fsm.c). */
MICA_MUST mica_err mica_fsm_dispatch(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len);
MICA_MUST mica_err mica_client_start(mica_conn *c);
/* post-handshake messages common to both sides */
MICA_MUST mica_err mica_conn_on_key_update(mica_conn *c, const uint8_t *body, size_t len);

/*
 * The state tables, for the dispatcher and the table check (tests/lint/fsm_check.c): one
 * row per (state, message) pair the RFC allows, with the handler and the states it may
 * lead to. A pair without a row is unexpected_message. Tables end with a zero row.
 */
typedef mica_err (*mica_fsm_handler)(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                     enum mica_state *next);
struct mica_fsm_row {
    enum mica_state state;
    uint8_t msg; /* enum mica_hs_type */
    mica_fsm_handler handler;
    uint32_t may_go; /* MICA_S(state) of each state the handler may move to */
};
#define MICA_S(s) (1u << (s))
extern const struct mica_fsm_row mica_client_fsm[];
extern const struct mica_fsm_row mica_server_fsm[];

/* Shared handshake helpers (hs_common.c). */
MICA_MUST mica_err mica_hs_cv_content(bool server, const uint8_t *th, size_t th_len, uint8_t *out,
                                      size_t cap, size_t *len);
MICA_MUST mica_err mica_hs_send_finished(mica_conn *c, const mica_secret *base);
MICA_MUST mica_err mica_hs_verify_finished(mica_conn *c, const mica_secret *base,
                                           const uint8_t *msg, size_t len);
MICA_MUST mica_err mica_hs_keep_peer_chain(mica_conn *c, const struct mica_certificate *cert);
void mica_hs_drop_peer_chain(mica_conn *c);
/* post-handshake client authentication (RFC 8446 4.6.2; pha.c): the client's answer to a
 * CertificateRequest, and the server's handling of the client's messages */
MICA_MUST mica_err mica_pha_on_request(mica_conn *c, const uint8_t *msg, size_t len);
/* client: our chain and scheme for a CertificateRequest (c->chain NULL: none fits) */
void mica_hs_choose_client_chain(mica_conn *c, const struct mica_certificate_request *cr);
MICA_MUST mica_err mica_pha_on_message(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len);
/* the handshake secrets from the (EC)DHE secret, over ClientHello..ServerHello */
MICA_MUST mica_err mica_hs_handshake_secrets(mica_conn *c, const mica_kx_shared *shared);
/* the early secrets (client_early_traffic_secret, early exporter) over the ClientHello,
 * from the PSK: the key schedule is left in its EARLY stage for the handshake secrets */
MICA_MUST mica_err mica_hs_early_secrets(mica_conn *c, const struct mica_suite *suite);
/* master secret, application traffic secrets and exporter, over ..server Finished */
MICA_MUST mica_err mica_hs_app_secrets(mica_conn *c);
/* after both Finished: the resumption master secret when wanted (client: the application
 * takes sessions; server: it sends tickets), then the key schedule is closed and the
 * handshake traffic secrets wiped */
MICA_MUST mica_err mica_hs_complete(mica_conn *c);
/* mica_hs_verify_chain: verify the peer's chain (c->peer_der) under the config's policy
 * (a server's for the SNI name, with pins and the stapled OCSP response; a client's for
 * clientAuth); sets verified/verify_error/verify_code, traces the check. The error code
 * (no alert is queued: the caller decides). */
MICA_MUST mica_err mica_hs_verify_chain(mica_conn *c, const uint8_t *ocsp, size_t ocsp_len);
/* Certificates both sides send and check (hs_common.c): our Certificate (context, and
 * an OCSP staple for the leaf or NULL), our CertificateVerify, and the peer's
 * CertificateVerify (checked against its leaf, added to the transcript, sets c->sig). */
MICA_MUST mica_err mica_hs_send_certificate(mica_conn *c, const struct mica_chain *chain,
                                            const uint8_t *context, size_t context_len,
                                            const uint8_t *staple, size_t staple_len);
MICA_MUST mica_err mica_hs_send_certificate_verify(mica_conn *c, const struct mica_chain *chain,
                                                   const struct mica_sig_scheme *scheme);
MICA_MUST mica_err mica_hs_verify_certificate_verify(mica_conn *c, const uint8_t *msg, size_t len);
bool mica_hs_u16_in_list(mica_rd list, uint16_t v);
/* a CertificateRequest with context (empty in the handshake, fresh after it), our
 * signature algorithms and, when the anchors are our own, certificate_authorities */
MICA_MUST mica_err mica_hs_send_certificate_request(mica_conn *c, const uint8_t *context,
                                                    size_t context_len);
/* mica_hs_name_in_list: whether a ProtocolName list (vec8 entries, as ALPN) holds name */
bool mica_hs_name_in_list(mica_rd list, const uint8_t *name, size_t len);

#endif /* MICA_TLS_CONN_H */
