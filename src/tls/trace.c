/*
 * Trace events (include/mica/trace.h). Built only when the config has a callback; every
 * text lives in the connection's scratch buffer for the duration of the callback. Fields
 * are decoded with the same pure decoders the engine uses, so a trace shows exactly what
 * the engine saw. No secret byte is ever put into an event: secrets are named by label.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mica/trace.h>

#include "base/clock.h"
#include "tls/conn.h"

#define TRACE_TEXT 6144u
#define TRACE_FIELDS 32u

struct tb {
    char text[TRACE_TEXT];
    size_t used;
    struct mica_trace_field f[TRACE_FIELDS];
    size_t n;
};

__attribute__((format(printf, 2, 0))) static const char *tb_vprintf(struct tb *b, const char *fmt,
                                                                    va_list ap)
{
    char *at = b->text + b->used;
    size_t room = sizeof(b->text) - b->used;
    int n;

    if (room < 2) {
        return "";
    }
    n = vsnprintf(at, room, fmt, ap);
    if (n < 0) {
        at[0] = '\0';
        n = 0;
    }
    b->used += (size_t)n < room ? (size_t)n + 1 : room;
    return at;
}

__attribute__((format(printf, 3, 4))) static void field(struct tb *b, const char *name,
                                                        const char *fmt, ...)
{
    va_list ap;

    if (b->n >= TRACE_FIELDS) {
        return;
    }
    va_start(ap, fmt);
    b->f[b->n].value = tb_vprintf(b, fmt, ap);
    va_end(ap);
    b->f[b->n].name = name;
    b->n++;
}

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0fu) == 0x0a0au && (v >> 8) == (v & 0xffu);
}

enum names { SUITES, GROUPS, SIGS, VERSIONS };

static void name_of(enum names kind, uint16_t v, char *out, size_t cap)
{
    const char *n = NULL;

    if (is_grease(v)) {
        snprintf(out, cap, "GREASE(0x%04x)", v);
        return;
    }
    switch (kind) {
    case SUITES: n = mica_suite_by_id(v) != NULL ? mica_suite_by_id(v)->name : NULL; break;
    case GROUPS: n = mica_group_by_id(v) != NULL ? mica_group_by_id(v)->name : NULL; break;
    case SIGS: n = mica_sig_scheme_by_id(v) != NULL ? mica_sig_scheme_by_id(v)->name : NULL; break;
    case VERSIONS: n = v == 0x0304 ? "TLSv1.3" : v == 0x0303 ? "TLSv1.2" : NULL; break;
    default: break;
    }
    if (n != NULL) {
        snprintf(out, cap, "%s", n);
    } else {
        snprintf(out, cap, "0x%04x", v);
    }
}

/* a u16 list as names joined by ", " */
static void list_field(struct tb *b, const char *fname, mica_rd r, enum names kind)
{
    char buf[1024], one[64];
    size_t len = 0;
    uint16_t v;

    buf[0] = '\0';
    while (mica_rd_u16(&r, &v) == MICA_OK && len + sizeof(one) < sizeof(buf)) {
        name_of(kind, v, one, sizeof(one));
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len > 0 ? ", " : "", one);
    }
    field(b, fname, "%s", buf);
}

static void hex_field(struct tb *b, const char *fname, const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    size_t k = n < 64 ? n : 64;

    for (size_t i = 0; i < k; i++) {
        snprintf(buf + 2 * i, 3, "%02x", p[i]);
    }
    buf[2 * k] = '\0';
    field(b, fname, "%s%s", buf, n > k ? "..." : "");
}

static void key_shares_field(struct tb *b, mica_rd r)
{
    char buf[512], one[64];
    size_t len = 0;
    uint16_t g;
    mica_rd key;

    buf[0] = '\0';
    while (r.n > 0 && mica_rd_u16(&r, &g) == MICA_OK &&
           mica_rd_vec16(&r, &key, 0, 0xffff) == MICA_OK && len + sizeof(one) < sizeof(buf)) {
        name_of(GROUPS, g, one, sizeof(one));
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s (%zu bytes)",
                                len > 0 ? ", " : "", one, key.n);
    }
    field(b, "key_share", "%s", buf);
}

static void alpn_field(struct tb *b, const char *fname, mica_rd r)
{
    char buf[512];
    size_t len = 0;
    mica_rd name;

    buf[0] = '\0';
    while (r.n > 0 && mica_rd_vec8(&r, &name, 1, 255) == MICA_OK &&
           len + name.n + 3 < sizeof(buf)) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%.*s", len > 0 ? ", " : "",
                                (int)name.n, (const char *)name.p);
    }
    field(b, fname, "%s", buf);
}

static bool has(uint64_t present, uint16_t ext)
{
    return (present & mica_ext_bit(ext)) != 0;
}

static void client_hello_fields(struct tb *b, const uint8_t *msg, size_t len)
{
    struct mica_client_hello ch;

    if (mica_msg_decode_client_hello(msg, len, &ch) != MICA_OK) {
        field(b, "error", "does not parse");
        return;
    }
    field(b, "legacy_version", "0x%04x", ch.legacy_version);
    hex_field(b, "random", ch.random, 32);
    hex_field(b, "legacy_session_id", ch.session_id.p, ch.session_id.n);
    list_field(b, "cipher_suites", ch.cipher_suites, SUITES);
    if (has(ch.present, MICA_EXT_SERVER_NAME)) {
        field(b, "server_name", "%.*s", (int)ch.server_name.n, (const char *)ch.server_name.p);
    }
    if (has(ch.present, MICA_EXT_SUPPORTED_VERSIONS)) {
        list_field(b, "supported_versions", ch.versions, VERSIONS);
    }
    if (has(ch.present, MICA_EXT_SUPPORTED_GROUPS)) {
        list_field(b, "supported_groups", ch.groups, GROUPS);
    }
    if (has(ch.present, MICA_EXT_KEY_SHARE)) {
        key_shares_field(b, ch.key_shares);
    }
    if (has(ch.present, MICA_EXT_SIGNATURE_ALGORITHMS)) {
        list_field(b, "signature_algorithms", ch.sig_algs, SIGS);
    }
    if (has(ch.present, MICA_EXT_ALPN)) {
        alpn_field(b, "application_layer_protocol_negotiation", ch.alpn);
    }
    if (has(ch.present, MICA_EXT_COOKIE)) {
        field(b, "cookie", "%zu bytes", ch.cookie.n);
    }
    if (has(ch.present, MICA_EXT_RECORD_SIZE_LIMIT)) {
        field(b, "record_size_limit", "%u", ch.record_size_limit);
    }
    if (has(ch.present, MICA_EXT_PRE_SHARED_KEY)) {
        field(b, "pre_shared_key", "%zu identities", ch.psk.identities_n);
    }
    if (has(ch.present, MICA_EXT_EARLY_DATA)) {
        field(b, "early_data", "offered");
    }
    if ((ch.present & MICA_EXT_UNKNOWN_BIT) != 0) {
        field(b, "unknown_extensions", "present (ignored; GREASE among them, if any)");
    }
}

static void server_hello_fields(struct tb *b, const uint8_t *body, size_t len, bool *hrr)
{
    struct mica_server_hello sh;
    char one[64];

    if (mica_msg_decode_server_hello(body, len, &sh) != MICA_OK) {
        field(b, "error", "does not parse");
        return;
    }
    *hrr = sh.is_hrr;
    field(b, "legacy_version", "0x%04x", sh.legacy_version);
    if (!sh.is_hrr) {
        hex_field(b, "random", sh.random, 32);
    }
    hex_field(b, "legacy_session_id_echo", sh.session_id_echo.p, sh.session_id_echo.n);
    name_of(SUITES, sh.cipher_suite, one, sizeof(one));
    field(b, "cipher_suite", "%s", one);
    if (has(sh.present, MICA_EXT_SUPPORTED_VERSIONS)) {
        name_of(VERSIONS, sh.version, one, sizeof(one));
        field(b, "supported_versions", "%s", one);
    }
    if (has(sh.present, MICA_EXT_KEY_SHARE)) {
        name_of(GROUPS, sh.share.group, one, sizeof(one));
        if (sh.is_hrr) {
            field(b, "key_share", "%s (selected group)", one);
        } else {
            field(b, "key_share", "%s (%zu bytes)", one, sh.share.key.n);
        }
    }
    if (has(sh.present, MICA_EXT_COOKIE)) {
        field(b, "cookie", "%zu bytes", sh.cookie.n);
    }
    if (sh.psk_selected) {
        field(b, "pre_shared_key", "selected identity %u", sh.psk_identity);
    }
}

static void encrypted_extensions_fields(struct tb *b, const uint8_t *body, size_t len)
{
    struct mica_encrypted_extensions ee;

    if (mica_msg_decode_encrypted_extensions(body, len, &ee) != MICA_OK) {
        field(b, "error", "does not parse");
        return;
    }
    if (ee.server_name_ack) {
        field(b, "server_name", "acknowledged");
    }
    if (has(ee.present, MICA_EXT_ALPN)) {
        field(b, "application_layer_protocol_negotiation", "%.*s", (int)ee.alpn_selected.n,
              (const char *)ee.alpn_selected.p);
    }
    if (has(ee.present, MICA_EXT_RECORD_SIZE_LIMIT)) {
        field(b, "record_size_limit", "%u", ee.record_size_limit);
    }
    if (has(ee.present, MICA_EXT_SUPPORTED_GROUPS)) {
        list_field(b, "supported_groups", ee.groups, GROUPS);
    }
    if (ee.early_data) {
        field(b, "early_data", "accepted");
    }
}

static void other_fields(struct tb *b, uint8_t type, const uint8_t *body, size_t len)
{
    struct mica_certificate cert;
    struct mica_certificate_verify cv;
    struct mica_certificate_request cr;
    struct mica_new_session_ticket nst;
    char one[64];
    bool request = false;

    switch (type) {
    case MICA_HS_CERTIFICATE:
        if (mica_msg_decode_certificate(body, len, &cert) == MICA_OK) {
            field(b, "certificates", "%zu", cert.entries_n);
            field(b, "certificate_request_context", "%zu bytes", cert.context.n);
        }
        break;
    case MICA_HS_CERTIFICATE_VERIFY:
        if (mica_msg_decode_certificate_verify(body, len, &cv) == MICA_OK) {
            name_of(SIGS, cv.scheme, one, sizeof(one));
            field(b, "algorithm", "%s", one);
            field(b, "signature", "%zu bytes", cv.signature.n);
        }
        break;
    case MICA_HS_CERTIFICATE_REQUEST:
        if (mica_msg_decode_certificate_request(body, len, &cr) == MICA_OK) {
            list_field(b, "signature_algorithms", cr.sig_algs, SIGS);
        }
        break;
    case MICA_HS_FINISHED:
        field(b, "verify_data", "%zu bytes", len); /* never the value: it is a MAC */
        break;
    case MICA_HS_NEW_SESSION_TICKET:
        if (mica_msg_decode_new_session_ticket(body, len, &nst) == MICA_OK) {
            field(b, "ticket_lifetime", "%u s", nst.lifetime);
            field(b, "ticket", "%zu bytes", nst.ticket.n);
            if (has(nst.present, MICA_EXT_EARLY_DATA)) {
                field(b, "max_early_data_size", "%u", nst.max_early_data);
            }
        }
        break;
    case MICA_HS_KEY_UPDATE:
        if (mica_msg_decode_key_update(body, len, &request) == MICA_OK) {
            field(b, "request_update", "%s", request ? "update_requested" : "update_not_requested");
        }
        break;
    default: break;
    }
}

static const char *protection_of(enum mica_epoch e)
{
    switch (e) {
    case MICA_EPOCH_EARLY: return "early keys";
    case MICA_EPOCH_HANDSHAKE: return "handshake keys";
    case MICA_EPOCH_APPLICATION: return "application keys";
    case MICA_EPOCH_PLAINTEXT:
    default: return "plaintext";
    }
}

static void emit(const mica_conn *c, struct tb *b, enum mica_trace_kind kind, bool sent,
                 const char *name, size_t length, const char *protection)
{
    struct mica_trace_event ev;

    ev.kind = kind;
    ev.sent = sent ? 1 : 0;
    ev.name = name;
    ev.length = length;
    ev.protection = protection;
    ev.elapsed_us = mica_clock_monotonic_us() - c->trace_start_us;
    ev.fields = b != NULL ? b->f : NULL;
    ev.fields_n = b != NULL ? b->n : 0;
    c->cfg->trace(c->cfg->trace_ctx, c, &ev);
}

void mica_trace_message(mica_conn *c, bool sent, const uint8_t *msg, size_t len)
{
    struct tb b;
    const uint8_t *body = msg + MICA_HANDSHAKE_HEADER_LEN;
    size_t blen = len - MICA_HANDSHAKE_HEADER_LEN;
    const char *name = mica_hs_type_name(msg[0]);
    bool hrr = false;
    enum mica_epoch epoch = sent ? c->wr.epoch : c->rd.epoch;

    if (c->cfg->trace == NULL || len < MICA_HANDSHAKE_HEADER_LEN) {
        return;
    }
    b.used = 0;
    b.n = 0;
    switch (msg[0]) {
    case MICA_HS_CLIENT_HELLO: client_hello_fields(&b, msg, len); break;
    case MICA_HS_SERVER_HELLO: server_hello_fields(&b, body, blen, &hrr); break;
    case MICA_HS_ENCRYPTED_EXTENSIONS: encrypted_extensions_fields(&b, body, blen); break;
    default: other_fields(&b, msg[0], body, blen); break;
    }
    if (hrr) {
        name = "HelloRetryRequest";
    }
    if (sent && c->trace_flight == NULL) {
        c->trace_flight = mica_mem_alloc(MICA_TRACE_FLIGHT_LEN); /* zeroed: an empty list */
    }
    if (sent && c->trace_flight != NULL) {
        size_t at = strlen(c->trace_flight);
        snprintf(c->trace_flight + at, MICA_TRACE_FLIGHT_LEN - at, "%s%s", at > 0 ? ", " : "",
                 name);
        c->trace_flight_bytes += len;
        c->trace_flight_epochs |= 1u << epoch;
    }
    emit(c, &b, MICA_TRACE_MESSAGE, sent, name, len, protection_of(epoch));
}

void mica_trace_event(mica_conn *c, enum mica_trace_kind kind, bool sent, const char *name)
{
    enum mica_epoch epoch = sent ? c->wr.epoch : c->rd.epoch;

    if (c->cfg->trace == NULL) {
        return;
    }
    emit(c, NULL, kind, sent, name, 0, protection_of(epoch));
}

void mica_trace_early(mica_conn *c, bool sent, const char *result, const char *why, size_t bytes)
{
    struct tb b;

    if (c->cfg->trace == NULL) {
        return;
    }
    b.used = 0;
    b.n = 0;
    if (why != NULL) {
        field(&b, "reason", "%s", why);
    }
    emit(c, &b, MICA_TRACE_EARLY, sent, result, bytes,
         protection_of(sent ? c->wr.epoch : c->rd.epoch));
}

void mica_trace_cert(mica_conn *c, const char *result, const char *why)
{
    struct tb b;

    if (c->cfg->trace == NULL) {
        return;
    }
    b.used = 0;
    b.n = 0;
    field(&b, "certificates", "%zu", c->peer_n);
    field(&b, "name", "%s", c->server_name[0] != '\0' ? c->server_name : "(none)");
    if (why != NULL) {
        field(&b, "reason", "%s", why);
    }
    emit(c, &b, MICA_TRACE_CERT, false, result, 0, protection_of(c->rd.epoch));
}

void mica_trace_alert(mica_conn *c, bool sent, uint8_t level, uint8_t desc, const char *cause)
{
    struct tb b;

    if (c->cfg->trace == NULL) {
        return;
    }
    b.used = 0;
    b.n = 0;
    field(&b, "level", "%s", level == 1 ? "warning" : "fatal");
    if (cause != NULL && cause[0] != '\0') {
        field(&b, "cause", "%s", cause);
    }
    emit(c, &b, MICA_TRACE_ALERT, sent, mica_alert_name((mica_alert)desc), 2,
         protection_of(sent ? c->wr.epoch : c->rd.epoch));
}

void mica_trace_flight(mica_conn *c)
{
    struct tb b;
    char prot[96];
    size_t n = 0;

    if (c->cfg->trace == NULL || c->trace_flight == NULL || c->trace_flight[0] == '\0') {
        return;
    }
    b.used = 0;
    b.n = 0;
    field(&b, "messages", "%s", c->trace_flight);
    /* a flight may cross a key change (the server's: plaintext ServerHello, the rest under
     * handshake keys): its protection lists every one, in epoch order */
    prot[0] = '\0';
    for (unsigned e = MICA_EPOCH_PLAINTEXT; e <= MICA_EPOCH_APPLICATION; e++) {
        if ((c->trace_flight_epochs & (1u << e)) != 0) {
            n += (size_t)snprintf(prot + n, sizeof(prot) - n, "%s%s", n > 0 ? " + " : "",
                                  protection_of((enum mica_epoch)e));
        }
    }
    emit(c, &b, MICA_TRACE_FLIGHT, true, "flight", c->trace_flight_bytes, prot);
    c->trace_flight[0] = '\0';
    c->trace_flight_bytes = 0;
    c->trace_flight_epochs = 0;
}

void mica_config_set_trace(mica_config *cfg, mica_trace_cb cb, void *ctx)
{
    cfg->trace = cb;
    cfg->trace_ctx = ctx;
}

int mica_conn_is_server(const mica_conn *c)
{
    return c->server;
}
