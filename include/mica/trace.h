/*
 * Trace events: what a connection does, as it does it, for narration, JSON and diagrams.
 *
 * A config with a trace callback makes every connection report, in order: each handshake
 * message sent or received (with its decoded fields), each key-schedule secret reached (its
 * label only: secret bytes leave mica through the key log alone), each change of read or
 * write keys, each certificate check, each alert, each state transition, and the end of
 * each flight mica sends. Without a callback nothing is built: tracing costs nothing.
 *
 * The event and everything it points to is valid only during the callback. Schema
 * version MICA_TRACE_VERSION; docs/trace.md describes every event and field name.
 *
 *     static void show(void *ctx, const mica_conn *c, const struct mica_trace_event *ev)
 *     {
 *         if (ev->kind == MICA_TRACE_MESSAGE)
 *             printf("%s %s (%zu bytes)\n", ev->sent ? "->" : "<-", ev->name, ev->length);
 *     }
 *     mica_config_set_trace(cfg, show, NULL);
 */
#ifndef MICA_TRACE_H
#define MICA_TRACE_H

#include <mica/mica.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MICA_TRACE_VERSION 1

enum mica_trace_kind {
    MICA_TRACE_MESSAGE = 1, /* a handshake message: name, length, protection, fields */
    MICA_TRACE_SECRET = 2,  /* a key-schedule secret derived: name is its RFC label */
    MICA_TRACE_KEYS = 3,    /* read (sent = 0) or write (sent = 1) keys changed: protection */
    MICA_TRACE_CERT = 4,    /* the peer's chain checked: name "verified" / "failed" / "skipped" */
    MICA_TRACE_ALERT = 5,   /* an alert: name is its RFC name; fields level, cause */
    MICA_TRACE_STATE = 6,   /* the state machine moved: name is the new state */
    MICA_TRACE_FLIGHT = 7,  /* mica finished a flight: length = bytes, fields messages */
    MICA_TRACE_EARLY = 8    /* 0-RTT: name "offered" / "accepted" / "rejected" / "skipped" */
};

struct mica_trace_field {
    const char *name;  /* "cipher_suites", "key_share", ... */
    const char *value; /* human- and machine-readable text: names, hex, lists joined by ", " */
};

struct mica_trace_event {
    enum mica_trace_kind kind;
    int sent;               /* 1: by this side; 0: from the peer */
    const char *name;       /* "ClientHello", "c hs traffic", "decode_error", "C_WAIT_EE" */
    size_t length;          /* message or flight bytes (0 when not applicable) */
    const char *protection; /* "plaintext", "early keys", "handshake keys", "application keys";
                               a flight lists each it used: "plaintext + handshake keys" */
    uint64_t elapsed_us;    /* since the connection was created (monotonic clock) */
    const struct mica_trace_field *fields;
    size_t fields_n;
};

typedef void (*mica_trace_cb)(void *ctx, const mica_conn *c, const struct mica_trace_event *ev);

/* mica_config_set_trace: report every connection's events to cb (NULL turns it off). */
MICA_API void mica_config_set_trace(mica_config *cfg, mica_trace_cb cb, void *ctx);

/* mica_conn_is_server: the side of a connection (for a trace shared by both). */
MICA_API int mica_conn_is_server(const mica_conn *c);

#ifdef __cplusplus
}
#endif

#endif /* MICA_TRACE_H */
