/*
 * mica_conn: the sans-I/O engine's plumbing. Bytes in, records opened, handshake
 * messages reassembled and handed to the dispatcher (fsm.c), application data buffered;
 * records sealed into the output buffer. Errors stick (mica_fail) and their alert is
 * queued once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

/* ---- failure ------------------------------------------------------------------------ */

static void queue_alert(mica_conn *c, mica_alert alert)
{
    uint8_t body[2] = {2 /* fatal */, (uint8_t)alert};

    if (alert == MICA_ALERT_NONE) {
        return;
    }
    mica_trace_alert(c, true, 2, (uint8_t)alert, mica_conn_error_sentence(c));
    /* RFC 8446 6: alerts are sent under the current write keys; a failure to queue one
     * (memory, or the output limit) is not reported: the connection has already failed */
    if (mica_conn_send(c, MICA_CT_ALERT, body, sizeof(body)) != MICA_OK) {
        c->closed = true; /* could not even queue the alert: nothing more will be sent */
    }
}

__attribute__((format(printf, 4, 0))) static mica_err
fail_v(mica_conn *c, mica_err code, mica_alert alert, const char *fmt, va_list ap)
{
    if (c->err != MICA_OK) {
        return c->err; /* the first failure sticks */
    }
    c->err = code;
    c->err_alert = alert == MICA_ALERT_NONE ? mica_err_alert(code) : alert;
    /* the sentence's room is made only now: a connection that never fails never pays
     * for it; without memory the code's own sentence stands in */
    c->err_sentence = mica_mem_alloc_buf(MICA_ERR_SENTENCE_LEN);
    if (c->err_sentence != NULL) {
        c->err_sentence[0] = '\0'; /* should vsnprintf fail */
        vsnprintf(c->err_sentence, MICA_ERR_SENTENCE_LEN, fmt, ap);
    }
    if (code != MICA_E_PEER_ALERT) {
        queue_alert(c, c->err_alert);
    }
    return code;
}

mica_err mica_fail(mica_conn *c, mica_err code, const char *fmt, ...)
{
    va_list ap;
    mica_err err;

    va_start(ap, fmt);
    err = fail_v(c, code, MICA_ALERT_NONE, fmt, ap);
    va_end(ap);
    return err;
}

mica_err mica_fail_alert(mica_conn *c, mica_err code, mica_alert alert, const char *fmt, ...)
{
    va_list ap;
    mica_err err;

    va_start(ap, fmt);
    err = fail_v(c, code, alert, fmt, ap);
    va_end(ap);
    return err;
}

/* fail_plain: a failure whose sentence is the table's */
static mica_err fail_plain(mica_conn *c, mica_err code)
{
    return mica_fail(c, code, "%s", mica_err_sentence(code));
}

/* ---- life ---------------------------------------------------------------------------- */

/* track: the connection's memory now, and its peak (mica_conn_memory) */
static void track(mica_conn *c)
{
    size_t now = sizeof(*c) + c->in_cap + c->hs_cap + c->app_cap + c->out_cap;

    c->mem_peak = now > c->mem_peak ? now : c->mem_peak;
}

static mica_err conn_alloc(const mica_config *cfg, bool server, mica_conn **out)
{
    mica_conn *c;

    ENSURE(cfg != NULL && out != NULL, MICA_E_ARGUMENT);
    c = mica_mem_alloc(sizeof(*c));
    ENSURE(c != NULL, MICA_E_NOMEM);
    c->cfg = cfg;
    c->server = server;
    c->trace_start_us = mica_clock_monotonic_us();
    /* buffers are made when needed and released when idle (DESIGN.md): an established
     * connection that waits holds only this struct and its keys */
    mica_rec_dir_init(&c->rd, false);
    mica_rec_dir_init(&c->wr, true);
    mica_transcript_init(&c->t);
    *out = c;
    return MICA_OK;
}

mica_err mica_conn_new_server(const mica_config *cfg, mica_conn **out)
{
    mica_conn *c;

    TRY(conn_alloc(cfg, true, &c));
    c->state = S_START;
    *out = c;
    return MICA_OK;
}

static mica_err new_client(const mica_config *cfg, const char *server_name, const uint8_t *session,
                           size_t session_len, mica_conn **out)
{
    mica_conn *c;
    mica_err err;

    ENSURE(server_name == NULL || strlen(server_name) <= MICA_MAX_SERVER_NAME, MICA_E_ARGUMENT);
    /* verification needs a name to check the certificate against: "" is no name */
    ENSURE(cfg != NULL && (!cfg->verify || (server_name != NULL && server_name[0] != '\0')),
           MICA_E_ARGUMENT);
    TRY(conn_alloc(cfg, false, &c));
    if (server_name != NULL) {
        memcpy(c->server_name, server_name, strlen(server_name) + 1);
    }
    c->state = C_START;
    err = session != NULL ? mica_psk_load_session(c, session, session_len) : MICA_OK;
    /* the config's kept sessions: the newest usable one for this name, used up */
    while (err == MICA_OK && session == NULL && cfg->keep != NULL && !c->offer_psk &&
           c->server_name[0] != '\0') {
        size_t len = 0;
        uint8_t *kept = mica_keep_take(cfg->keep, c->server_name, &len);
        if (kept == NULL) {
            break;
        }
        if (mica_psk_load_session(c, kept, len) != MICA_OK) {
            c->offer_psk = false; /* cannot be: mica made it; a full handshake then */
        }
        mica_mem_free_secret(kept);
    }
    if (err == MICA_OK) {
        mica_mac_scope_begin();
        err = mica_client_start(c);
        mica_mac_scope_end();
        mica_trace_flight(c);
    }
    if (err != MICA_OK) {
        mica_conn_free(c);
        return err;
    }
    *out = c;
    return MICA_OK;
}

mica_err mica_conn_new_client(const mica_config *cfg, const char *server_name, mica_conn **out)
{
    return new_client(cfg, server_name, NULL, 0, out);
}

mica_err mica_conn_new_client_resume(const mica_config *cfg, const char *server_name,
                                     const uint8_t *session, size_t session_len, mica_conn **out)
{
    ENSURE(session != NULL, MICA_E_ARGUMENT);
    return new_client(cfg, server_name, session, session_len, out);
}

void mica_conn_free(mica_conn *c)
{
    if (c == NULL) {
        return;
    }
    mica_rec_dir_clear(&c->rd);
    mica_rec_dir_clear(&c->wr);
    mica_transcript_clear(&c->t);
    mica_ks_clear(&c->ks);
    for (size_t i = 0; i < MICA_MAX_KEY_SHARES; i++) {
        mica_kx_free(c->shares[i]);
    }
    mica_hs_drop_peer_chain(c);
    mica_transcript_clear(&c->t_hs);
    mica_mem_free(c->cookie);
    mica_mem_free_secret(c->in);
    mica_mem_free_secret(c->hs);
    mica_mem_free_secret(c->app);
    mica_mem_free_secret(c->out);
    mica_mem_free_secret(c->early_buf);
    mica_mem_free_secret(c->session);
    mica_mem_free(c->err_sentence);
    mica_mem_free(c->verify_error);
    mica_mem_free(c->alpn);
    mica_mem_free(c->trace_flight);
    mica_mem_free_secret(c); /* traffic secrets live in the struct */
}

/* ---- output -------------------------------------------------------------------------- */

static mica_err out_reserve(mica_conn *c, size_t need)
{
    uint8_t *grown;
    size_t cap;

    if (c->out_off > 0 && c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
    }
    if (c->out_cap - c->out_len >= need) {
        return MICA_OK;
    }
    ENSURE(c->out_len - c->out_off + need <= MICA_MAX_OUT_BUFFER + MICA_MAX_RECORD_LEN,
           MICA_E_LIMIT);
    /* the size asked for (whole KiB) at first, doubling after: a handshake flight takes a
     * few KiB, not a full record's worth */
    cap = c->out_cap == 0 ? (need + 1023) & ~(size_t)1023 : c->out_cap;
    while (cap - (c->out_len - c->out_off) < need) {
        cap *= 2;
    }
    grown = mica_mem_alloc_buf(cap);
    ENSURE(grown != NULL, MICA_E_NOMEM);
    if (c->out_len > c->out_off) {
        memcpy(grown, c->out + c->out_off, c->out_len - c->out_off);
    }
    c->out_len -= c->out_off;
    c->out_off = 0;
    mica_mem_free(c->out); /* sealed records only: see mica_conn_send */
    c->out = grown;
    c->out_cap = cap;
    track(c);
    return MICA_OK;
}

mica_err mica_conn_send(mica_conn *c, enum mica_content_type type, const uint8_t *p, size_t len)
{
    /* legacy_record_version: 0x0301 for an initial ClientHello is allowed, 0x0303 for
     * everything else (RFC 8446 5.1); mica sends 0x0303 throughout except the CH */
    uint16_t version = (!c->server && c->state <= C_WAIT_SH && type == MICA_CT_HANDSHAKE &&
                        c->wr.suite == NULL && !c->hrr)
                           ? 0x0301
                           : 0x0303;

    /* out holds only sealed records (and the public plaintext of the first flight), so it
     * is freed without a wipe: the content is encrypted from the caller's buffer straight
     * into it (CCM gathers it there first), and a seal that fails wipes what it wrote.
     * Room for all of this write's records at once. */
    {
        size_t max = mica_rec_max_content(&c->wr);
        size_t records = len == 0 ? 1 : (len + max - 1) / max;
        TRY(out_reserve(c, len + records * (MICA_RECORD_HEADER_LEN + MICA_MAX_AEAD_TAG_LEN + 1)));
    }
    do {
        size_t chunk = len < mica_rec_max_content(&c->wr) ? len : mica_rec_max_content(&c->wr);
        size_t rec_len = 0;
        mica_err err;
        /* RFC 8446 5.5: a key is updated before its usage limit, checked per record (one
         * write may fill hundreds); the KeyUpdate itself takes the key's last record */
        if (type == MICA_CT_APPLICATION_DATA && mica_rec_uses_left(&c->wr) <= 1) {
            TRY(mica_conn_key_update(c, 0));
        }
        TRY(out_reserve(c, MICA_RECORD_HEADER_LEN + chunk + MICA_MAX_AEAD_TAG_LEN + 1));
        err = mica_rec_seal_from(&c->wr, type, p, c->out + c->out_len, c->out_cap - c->out_len,
                                 chunk, 0, version, &rec_len);
        if (err != MICA_OK) {
            mica_mem_wipe(c->out + c->out_len, c->out_cap - c->out_len);
            return err;
        }
        c->out_len += rec_len;
        if (chunk > 0) {
            p += chunk; /* p may be NULL for an empty record */
        }
        len -= chunk;
    } while (len > 0);
    return MICA_OK;
}

mica_err mica_conn_send_hs(mica_conn *c, const uint8_t *msg, size_t len)
{
    mica_trace_message(c, true, msg, len);
    TRY(mica_transcript_add(&c->t, msg, len));
    return mica_conn_send(c, MICA_CT_HANDSHAKE, msg, len);
}

mica_err mica_conn_send_ccs(mica_conn *c)
{
    static const uint8_t one = 1;

    /* RFC 8446 D.4: at most one dummy change_cipher_spec per connection */
    if (c->ccs_sent || !c->cfg->middlebox_compat) {
        return MICA_OK;
    }
    c->ccs_sent = true;
    return mica_conn_send(c, MICA_CT_CHANGE_CIPHER_SPEC, &one, 1);
}

mica_err mica_conn_pending(mica_conn *c, const uint8_t **out, size_t *len)
{
    ENSURE(c != NULL && out != NULL && len != NULL, MICA_E_ARGUMENT);
    *len = c->out_len - c->out_off;
    *out = *len > 0 ? c->out + c->out_off : c->out; /* out may be NULL: nothing sent yet */
    return MICA_OK;
}

void mica_conn_sent(mica_conn *c, size_t n)
{
    size_t avail = c->out_len - c->out_off;

    c->out_off += n < avail ? n : avail;
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
        mica_mem_free(c->out); /* idle: give the buffer back (sealed records only) */
        c->out = NULL;
        c->out_cap = 0;
    }
}

void mica_conn_memory(const mica_conn *c, size_t *current, size_t *peak)
{
    size_t now = sizeof(*c) + c->in_cap + c->hs_cap + c->app_cap + c->out_cap;

    *current = now;
    *peak = now > c->mem_peak ? now : c->mem_peak;
}

/* ---- keys ---------------------------------------------------------------------------- */

mica_err mica_conn_set_read_key(mica_conn *c, const mica_secret *s, enum mica_epoch e)
{
    c->rd_keys++;
    TRY(mica_rec_set_key(&c->rd, c->suite, s, e));
    mica_trace_event(c, MICA_TRACE_KEYS, false, "read keys");
    return MICA_OK;
}

mica_err mica_conn_set_write_key(mica_conn *c, const mica_secret *s, enum mica_epoch e)
{
    TRY(mica_rec_set_key(&c->wr, c->suite, s, e));
    if (c->peer_record_limit != 0) {
        TRY(mica_rec_set_limit(&c->wr, c->peer_record_limit));
    }
    mica_trace_event(c, MICA_TRACE_KEYS, true, "write keys");
    return MICA_OK;
}

void mica_conn_keylog(mica_conn *c, const char *label, const mica_secret *s)
{
    char line[64 + 2 * 32 + 2 * MICA_MAX_HASH_LEN + 4];
    size_t n;

    if (c->cfg->keylog == NULL) {
        return;
    }
    n = (size_t)snprintf(line, sizeof(line), "%s ", label);
    for (size_t i = 0; i < 32 && n + 2 < sizeof(line); i++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", c->client_random[i]);
    }
    line[n++] = ' ';
    for (size_t i = 0; i < s->len && n + 2 < sizeof(line); i++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%02x", s->b[i]);
    }
    line[n] = '\0';
    c->cfg->keylog(c->cfg->keylog_ctx, line);
    mica_mem_wipe(line, sizeof(line));
}

/* ---- input: records ------------------------------------------------------------------ */

static mica_err on_alert(mica_conn *c, const uint8_t *p, size_t len)
{
    uint8_t level, desc;

    if (mica_msg_decode_alert(p, len, &level, &desc) != MICA_OK) {
        /* RFC 8446 5.1: alerts are never fragmented nor coalesced */
        return mica_fail(c, MICA_E_DECODE, "the peer sent a malformed alert record of %zu bytes",
                         len);
    }
    mica_trace_alert(c, false, level, desc, NULL);
    if (desc == MICA_ALERT_CLOSE_NOTIFY) {
        /* RFC 8446 6.1: the peer will send no more; we may still write (half-close) */
        c->peer_closed = true;
        return MICA_OK;
    }
    if (desc == MICA_ALERT_USER_CANCELED) {
        /* 6.1: a closure alert, "should be followed by a close_notify" */
        return MICA_OK;
    }
    /* 6.2: "all alerts listed in Section 6.2 MUST be sent with AlertLevel=fatal and MUST be
     * treated as error alerts when received regardless of the AlertLevel" */
    c->closed = true; /* nothing more is sent after a fatal alert */
    return mica_fail_alert(c, MICA_E_PEER_ALERT, (mica_alert)desc,
                           "the peer ended the connection with a fatal alert: %s",
                           mica_alert_name((mica_alert)desc));
}

static mica_err on_ccs(mica_conn *c, const uint8_t *p, size_t len)
{
    /* A stateless server's fresh connection sees the client's CCS before the second
     * ClientHello; whether that is allowed depends on that hello carrying our cookie, so
     * the decision waits for it (server.c). */
    if (c->server && c->state == S_START && !c->hrr && !c->ccs_before_ch && len == 1 && p[0] == 1) {
        c->ccs_before_ch = true;
        return MICA_OK;
    }
    /* RFC 8446 5: a change_cipher_spec "consisting of the single byte value 0x01" received
     * "after the first ClientHello ... and before the peer's Finished" "MUST simply drop it";
     * any other "MUST abort the handshake with an unexpected_message alert" */
    if (len != 1 || p[0] != 1 || !c->ccs_ok) {
        return mica_fail(
            c, MICA_E_UNEXPECTED_MESSAGE, "the peer sent a change_cipher_spec record %s",
            c->ccs_ok ? "with a body other than the single byte 01" : "where TLS 1.3 allows none");
    }
    if (++c->idle_updates > MICA_MAX_IDLE_UPDATES) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the peer sent more than %u change_cipher_spec records in a row",
                         MICA_MAX_IDLE_UPDATES);
    }
    return MICA_OK; /* dropped (RFC 8446 5), within reason */
}

/* app_reserve: room for len more bytes of received application data after app_len */
static mica_err app_reserve(mica_conn *c, size_t len)
{
    if (c->app_off > 0 && c->app_off == c->app_len) {
        c->app_off = c->app_len = 0;
    }
    if (c->app_cap - c->app_len < len) {
        size_t live = c->app_len - c->app_off;
        /* what this record needs (whole KiB) at first, doubling after: a connection that
         * receives small messages holds a small buffer */
        size_t cap = c->app_cap == 0 ? (len + 1023) & ~(size_t)1023 : c->app_cap;
        uint8_t *grown;
        while (cap - live < len) {
            cap *= 2;
        }
        grown = mica_mem_alloc_buf(cap);
        ENSURE(grown != NULL, MICA_E_NOMEM);
        if (live > 0) {
            memcpy(grown, c->app + c->app_off, live);
        }
        mica_mem_free_secret(c->app);
        c->app = grown;
        c->app_cap = cap;
        track(c);
        c->app_len = live;
        c->app_off = 0;
    }
    return MICA_OK;
}

static mica_err app_append(mica_conn *c, const uint8_t *p, size_t len)
{
    if (len == 0) {
        return MICA_OK; /* an empty record (5.4 allows them) adds nothing, needs no room */
    }
    TRY(app_reserve(c, len));
    memcpy(c->app + c->app_len, p, len);
    c->app_len += len;
    return MICA_OK;
}

static mica_err hs_append(mica_conn *c, const uint8_t *p, size_t len)
{
    if (c->hs_cap - c->hs_len < len) {
        size_t cap = c->hs_cap == 0 ? 1024 : c->hs_cap;
        uint8_t *grown;
        while (cap - c->hs_len < len) {
            cap *= 2;
        }
        grown = mica_mem_alloc_buf(cap);
        ENSURE(grown != NULL, MICA_E_NOMEM);
        if (c->hs_len > 0) {
            memcpy(grown, c->hs, c->hs_len);
        }
        mica_mem_free_secret(c->hs);
        c->hs = grown;
        c->hs_cap = cap;
        track(c);
    }
    memcpy(c->hs + c->hs_len, p, len);
    c->hs_len += len;
    return MICA_OK;
}

/* the read epoch before dispatching: a key change after a message means no handshake
 * bytes may follow it in the same record or the reassembly buffer (RFC 8446 5.1) */
static mica_err on_handshake(mica_conn *c, const uint8_t *p, size_t len)
{
    size_t off = 0;

    mica_err err0 = hs_append(c, p, len);

    if (err0 != MICA_OK) {
        return fail_plain(c, err0);
    }
    while (c->err == MICA_OK) {
        struct mica_hs_header h;
        uint32_t keys_before = c->rd_keys;
        mica_err err = mica_msg_header(c->hs + off, c->hs_len - off, &h);
        if (err == MICA_WANT_READ) {
            break;
        }
        TRY(err);
        if (h.len > c->cfg->max_handshake) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the peer sent a %s of %u bytes, over the limit of %zu",
                             mica_hs_type_name(h.type), h.len, c->cfg->max_handshake);
        }
        if (c->hs_len - off < MICA_HANDSHAKE_HEADER_LEN + (size_t)h.len) {
            break;
        }
        mica_trace_message(c, false, c->hs + off, MICA_HANDSHAKE_HEADER_LEN + h.len);
        mica_mac_scope_begin(); /* the message's HMACs share contexts (crypto.h) */
        err = mica_fsm_dispatch(c, h.type, c->hs + off, MICA_HANDSHAKE_HEADER_LEN + h.len);
        mica_mac_scope_end();
        if (err != MICA_OK) {
            return c->err != MICA_OK ? c->err : fail_plain(c, err);
        }
        off += MICA_HANDSHAKE_HEADER_LEN + h.len;
        if (c->rd_keys != keys_before && off != c->hs_len) {
            return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                             "a handshake message straddles a key change: %zu more bytes "
                             "followed the %s in the same record",
                             c->hs_len - off, mica_hs_type_name(h.type));
        }
    }
    if (off > 0) {
        memmove(c->hs, c->hs + off, c->hs_len - off);
        c->hs_len -= off;
        mica_mem_wipe(c->hs + c->hs_len, off); /* handled messages leave no copy behind */
    }
    return c->err;
}

/* skip_early: one record of rejected early data, body_len bytes after its header; the
 * limit counts plaintext (4.2.10), so the inner content type and the tag (at most 16
 * bytes in every TLS 1.3 suite) are not charged */
static mica_err skip_early(mica_conn *c, size_t body_len)
{
    size_t len = body_len > 1 + MICA_MAX_AEAD_TAG_LEN ? body_len - 1 - MICA_MAX_AEAD_TAG_LEN : 0;

    if (len > c->early_skip) {
        /* more than the client may send: not early data, or too much of it */
        return mica_fail(c, MICA_E_BAD_RECORD_MAC,
                         "a record does not decrypt, and is more than the rejected early "
                         "data the client could still send");
    }
    c->early_skip -= (uint32_t)len;
    mica_trace_early(c, false, "skipped", NULL, body_len);
    return MICA_OK;
}

static mica_err on_content(mica_conn *c, enum mica_content_type type, const uint8_t *content,
                           size_t content_len);

static mica_err on_record(mica_conn *c, uint8_t *rec, size_t len)
{
    enum mica_content_type type = MICA_CT_INVALID;
    uint8_t *content = NULL;
    size_t content_len = 0;
    mica_err err;

    /* A client that fails before it has handshake keys (on the ServerHello, say) can only
     * send its alert in the clear, while this server already reads with handshake keys.
     * Such an alert is read for what it says: it can only end the connection. */
    if (c->server && c->rd.epoch == MICA_EPOCH_HANDSHAKE && rec[0] == MICA_CT_ALERT &&
        len == MICA_RECORD_HEADER_LEN + 2 && c->hs_len == 0) {
        /* unauthenticated: it ends the handshake whatever it says -- never a clean close */
        uint8_t desc = rec[MICA_RECORD_HEADER_LEN + 1];
        mica_trace_alert(c, false, rec[MICA_RECORD_HEADER_LEN], desc, "unprotected");
        c->closed = true;
        return mica_fail_alert(c, MICA_E_PEER_ALERT, (mica_alert)desc,
                               "the peer ended the handshake with an unprotected alert: %s",
                               mica_alert_name((mica_alert)desc));
    }
    if (c->peer_closed) {
        return MICA_OK; /* RFC 8446 6.1: "Any data received after a closure alert has been
                           received MUST be ignored." -- not even decrypted */
    }
    if (c->server && c->state == S_START && !c->hrr && !c->ch_seen &&
        rec[0] == MICA_CT_APPLICATION_DATA &&
        len > MICA_RECORD_HEADER_LEN + MICA_MAX_AEAD_TAG_LEN) {
        /* a stateless server's fresh connection, made for the ClientHello that answers
         * its HelloRetryRequest, may first get the 0-RTT records the client sent after
         * ClientHello1: skipped as after an HRR, and that hello must then carry the
         * cookie (server.c); a record too short to be sealed is no 0-RTT at all */
        if (c->early_skip == 0 && !c->early_before_ch) {
            c->early_before_ch = true;
            c->early_skip = c->cfg->early_max > MICA_EARLY_SKIP_DEFAULT ? c->cfg->early_max
                                                                        : MICA_EARLY_SKIP_DEFAULT;
        }
        return skip_early(c, len - MICA_RECORD_HEADER_LEN);
    }
    if (c->early_skip > 0 && c->state == S_START && rec[0] == MICA_CT_APPLICATION_DATA) {
        /* 4.2.10: after a HelloRetryRequest, "skipping all records with an external
         * content type of application_data" (the rejected 0-RTT) */
        return skip_early(c, len - MICA_RECORD_HEADER_LEN);
    }
    err = mica_rec_open(&c->rd, rec, len, &type, &content, &content_len);
    if (err == MICA_E_BAD_RECORD_MAC && c->early_skip > 0 && c->rd.epoch == MICA_EPOCH_HANDSHAKE) {
        /* 4.2.10: with 0-RTT rejected, records that do not decrypt with the handshake
         * key are the client's early data: skipped, up to the limit */
        return skip_early(c, len - MICA_RECORD_HEADER_LEN);
    }
    if (err != MICA_OK) {
        return fail_plain(c, err);
    }
    if (c->early_skip > 0 && c->rd.epoch == MICA_EPOCH_HANDSHAKE &&
        rec[0] == MICA_CT_APPLICATION_DATA) {
        c->early_skip = 0; /* a record decrypted: the client's handshake flight has begun */
    }
    if (c->closed && c->state != MICA_ST_CONNECTED && type != MICA_CT_ALERT) {
        return MICA_OK; /* we canceled the handshake: only the peer's closure matters now */
    }
    return on_content(c, type, content, content_len);
}

/* on_content: the content of a record that was opened, by its type */
static mica_err on_content(mica_conn *c, enum mica_content_type type, const uint8_t *content,
                           size_t content_len)
{
    mica_err err;

    /* RFC 8446 5.1: handshake messages may not be interleaved with other record types */
    if (type != MICA_CT_HANDSHAKE && c->hs_len > 0) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "a %s record arrived in the middle of a fragmented handshake message",
                         type == MICA_CT_ALERT ? "alert" : "non-handshake");
    }
    switch (type) {
    case MICA_CT_CHANGE_CIPHER_SPEC: return on_ccs(c, content, content_len);
    case MICA_CT_ALERT: return on_alert(c, content, content_len);
    case MICA_CT_HANDSHAKE: return on_handshake(c, content, content_len);
    case MICA_CT_APPLICATION_DATA:
        if (c->state == S_WAIT_EOED && c->rd.epoch == MICA_EPOCH_EARLY) {
            return mica_early_append(c, content, content_len); /* accepted 0-RTT */
        }
        if (c->state != MICA_ST_CONNECTED || c->rd.epoch != MICA_EPOCH_APPLICATION) {
            return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                             "the peer sent application data before the handshake completed");
        }
        c->idle_updates = 0;
        err = app_append(c, content, content_len);
        return err == MICA_OK ? MICA_OK : fail_plain(c, err);
    default:
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE, "a record of unknown type %d", (int)type);
    }
}

/*
 * on_record_direct: an application-data record of a connected connection, whole in the
 * caller's input, is decrypted from there straight into the received-data buffer. The
 * common case of bulk transfer then costs one pass over the bytes (the decryption) and
 * the application's read, instead of a copy into the record buffer, the decryption in
 * place, a copy into the received-data buffer and a wipe of the record buffer. The rare
 * record that holds a handshake message or an alert (KeyUpdate, tickets, closure) goes
 * on from there as any other, and leaves no plaintext behind.
 */
static bool direct_ok(const mica_conn *c, const uint8_t *in, size_t avail, size_t *want)
{
    if (avail < MICA_RECORD_HEADER_LEN || in[0] != MICA_CT_APPLICATION_DATA ||
        c->state != MICA_ST_CONNECTED || c->rd.epoch != MICA_EPOCH_APPLICATION ||
        c->rd.suite == NULL || c->peer_closed) {
        return false;
    }
    *want = MICA_RECORD_HEADER_LEN + (size_t)((in[3] << 8) | in[4]);
    return *want <= avail;
}

static mica_err on_record_direct(mica_conn *c, const uint8_t *rec, size_t len)
{
    enum mica_content_type type = MICA_CT_INVALID;
    size_t content_len = 0, inner_len = 0;
    uint8_t *out;
    mica_err err;

    TRY(app_reserve(c, len - MICA_RECORD_HEADER_LEN));
    out = c->app + c->app_len;
    err = mica_rec_open_to(&c->rd, rec, len, out, c->app_cap - c->app_len, &type, &content_len,
                           &inner_len);
    if (err != MICA_OK) {
        mica_mem_wipe(out, inner_len);
        return fail_plain(c, err);
    }
    if (type == MICA_CT_APPLICATION_DATA && c->hs_len == 0) {
        c->idle_updates = 0;
        mica_mem_wipe(out + content_len, inner_len - content_len); /* type and padding */
        c->app_len += content_len;
        return MICA_OK;
    }
    err = on_content(c, type, out, content_len);
    mica_mem_wipe(out, inner_len);
    return err;
}

mica_err mica_conn_feed(mica_conn *c, const uint8_t *in, size_t len, size_t *used)
{
    size_t taken = 0;

    ENSURE(c != NULL && used != NULL && (in != NULL || len == 0), MICA_E_ARGUMENT);
    *used = 0;
    while (taken < len && c->err == MICA_OK) {
        size_t want, n;
        mica_err err;
        if (c->in_len == 0 && c->app_len - c->app_off >= MICA_MAX_APP_BUFFER) {
            break; /* the application must read first: *used < len tells it */
        }
        if (c->in_len == 0 && direct_ok(c, in + taken, len - taken, &want)) {
            err = on_record_direct(c, in + taken, want);
            taken += want;
            if (err != MICA_OK) {
                if (c->err == MICA_OK) {
                    (void)fail_plain(c, err);
                }
                break;
            }
            continue;
        }
        if (c->in_len < MICA_RECORD_HEADER_LEN) {
            struct mica_rec_header h;
            n = MICA_RECORD_HEADER_LEN - c->in_len < len - taken
                    ? MICA_RECORD_HEADER_LEN - c->in_len
                    : len - taken;
            memcpy(c->in_hdr + c->in_len, in + taken, n);
            c->in_len += n;
            taken += n;
            if (c->in_len < MICA_RECORD_HEADER_LEN) {
                break;
            }
            err = mica_rec_header(&c->rd, c->in_hdr, c->in_len, &h);
            if (err != MICA_OK) {
                *used = taken;
                return fail_plain(c, err);
            }
            /* a buffer the size of this record (the last one's when it is big enough) */
            if (c->in_cap < MICA_RECORD_HEADER_LEN + (size_t)h.len) {
                mica_mem_free(c->in); /* every record in it was wiped after use */
                c->in_cap = 0;
                c->in = mica_mem_alloc_buf(MICA_RECORD_HEADER_LEN + (size_t)h.len);
                if (c->in == NULL) {
                    *used = taken;
                    return fail_plain(c, MICA_E_NOMEM);
                }
                c->in_cap = MICA_RECORD_HEADER_LEN + (size_t)h.len;
                track(c);
            }
            memcpy(c->in, c->in_hdr, MICA_RECORD_HEADER_LEN);
        }
        want = MICA_RECORD_HEADER_LEN + (size_t)((c->in_hdr[3] << 8) | c->in_hdr[4]);
        n = want - c->in_len < len - taken ? want - c->in_len : len - taken;
        memcpy(c->in + c->in_len, in + taken, n);
        c->in_len += n;
        taken += n;
        if (c->in_len == want) {
            c->in_len = 0;
            err = on_record(c, c->in, want);
            mica_mem_wipe(c->in, want);
            if (err != MICA_OK) {
                /* every failure is recorded (and its alert queued), whatever its path */
                if (c->err == MICA_OK) {
                    (void)fail_plain(c, err);
                }
                break;
            }
        }
    }
    *used = taken;
    if (c->in != NULL && c->in_len < MICA_RECORD_HEADER_LEN) {
        /* no partial record waits in it: give the buffer back (each record in it was wiped
         * after use; a partial header lives in in_hdr) */
        mica_mem_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
    if (c->hs != NULL && c->hs_len == 0 && c->state == MICA_ST_CONNECTED) {
        mica_mem_free_secret(c->hs);
        c->hs = NULL;
        c->hs_cap = 0;
    }
    mica_trace_flight(c);
    return c->err;
}

/* ---- application data --------------------------------------------------------------- */

mica_err mica_conn_write(mica_conn *c, const uint8_t *data, size_t len, size_t *written)
{
    size_t room;

    ENSURE(c != NULL && written != NULL && (data != NULL || len == 0), MICA_E_ARGUMENT);
    *written = 0;
    TRY(c->err);
    ENSURE(!c->closed, MICA_E_CLOSED);
    /* a server may send once its Finished is out (0.5-RTT, RFC 8446 Appendix A.2) */
    if (c->state != MICA_ST_CONNECTED &&
        !(c->server && c->wr.epoch == MICA_EPOCH_APPLICATION && c->state != S_START)) {
        return MICA_WANT_READ; /* the handshake is not done: feed the engine first */
    }
    if (c->out_len - c->out_off >= MICA_MAX_OUT_BUFFER) {
        return MICA_WANT_WRITE;
    }
    /* as much as fits in the output limit once sealed: whole records of the largest
     * content the peer takes (record_size_limit may make it 64 bytes, so the per-record
     * overhead can be a quarter of the bytes), then what is left of a last one */
    room = MICA_MAX_OUT_BUFFER - (c->out_len - c->out_off);
    {
        size_t max = mica_rec_max_content(&c->wr);
        size_t per = max + MICA_RECORD_HEADER_LEN + MICA_MAX_AEAD_TAG_LEN + 1;
        size_t tail = room % per;
        size_t fit = room / per * max + (tail > per - max ? tail - (per - max) : 0);
        if (fit == 0 && len > 0) {
            return MICA_WANT_WRITE;
        }
        if (len > fit) {
            len = fit;
        }
    }
    {
        mica_err err = mica_conn_send(c, MICA_CT_APPLICATION_DATA, data, len);
        if (err != MICA_OK) {
            return fail_plain(c, err);
        }
    }
    *written = len;
    return MICA_OK;
}

size_t mica_conn_readable(const mica_conn *c)
{
    return c != NULL ? c->app_len - c->app_off : 0;
}

mica_err mica_conn_read(mica_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
    size_t avail;

    ENSURE(c != NULL && n != NULL && (buf != NULL || cap == 0), MICA_E_ARGUMENT);
    *n = 0;
    avail = c->app_len - c->app_off;
    if (avail > 0) {
        size_t k = avail < cap ? avail : cap;
        memcpy(buf, c->app + c->app_off, k);
        mica_mem_wipe(c->app + c->app_off, k);
        c->app_off += k;
        *n = k;
        if (c->app_off == c->app_len) { /* drained: give the buffer back (each byte read was
                                          * wiped as it was read) */
            mica_mem_free(c->app);
            c->app = NULL;
            c->app_cap = c->app_len = c->app_off = 0;
        }
        return MICA_OK;
    }
    TRY(c->err);
    if (c->peer_closed) {
        return MICA_OK; /* end of stream */
    }
    return MICA_WANT_READ;
}

mica_err mica_conn_close(mica_conn *c)
{
    static const uint8_t close_notify[2] = {1 /* warning */, MICA_ALERT_CLOSE_NOTIFY};

    ENSURE(c != NULL, MICA_E_ARGUMENT);
    if (c->closed) {
        return MICA_OK;
    }
    c->closed = true;
    if (c->err != MICA_OK) {
        return MICA_OK; /* the fatal alert is the last thing sent */
    }
    if (c->state != MICA_ST_CONNECTED) {
        /* RFC 8446 6.1: canceling a handshake is user_canceled, which "SHOULD be followed
         * by a close_notify" */
        static const uint8_t canceled[2] = {1 /* warning */, MICA_ALERT_USER_CANCELED};
        mica_err err;
        mica_trace_alert(c, true, 1, MICA_ALERT_USER_CANCELED, "the application canceled");
        err = mica_conn_send(c, MICA_CT_ALERT, canceled, sizeof(canceled));
        if (err != MICA_OK) {
            return fail_plain(c, err);
        }
    }
    mica_trace_alert(c, true, 1, MICA_ALERT_CLOSE_NOTIFY, NULL);
    {
        /* a failure to queue it (memory) is the connection's failure, and sticks */
        mica_err err = mica_conn_send(c, MICA_CT_ALERT, close_notify, sizeof(close_notify));
        return err == MICA_OK ? MICA_OK : fail_plain(c, err);
    }
}

/* ---- KeyUpdate (RFC 8446 4.6.3) ------------------------------------------------------ */

static mica_secret *own_ap(mica_conn *c)
{
    return c->server ? &c->s_ap : &c->c_ap;
}

static mica_secret *peer_ap(mica_conn *c)
{
    return c->server ? &c->c_ap : &c->s_ap;
}

mica_err mica_conn_key_update(mica_conn *c, int request_peer)
{
    uint8_t msg[5] = {MICA_HS_KEY_UPDATE, 0, 0, 1, 0};
    mica_err err;

    ENSURE(c != NULL, MICA_E_ARGUMENT);
    TRY(c->err);
    ENSURE(c->state == MICA_ST_CONNECTED && !c->closed, MICA_E_ARGUMENT);
    msg[4] = request_peer ? 1 : 0;
    /* the KeyUpdate goes out under the old key; everything after under the new */
    mica_trace_message(c, true, msg, sizeof(msg));
    err = mica_conn_send(c, MICA_CT_HANDSHAKE, msg, sizeof(msg));
    if (err == MICA_OK) {
        err = mica_ks_update_traffic(c->suite->hash, own_ap(c));
    }
    if (err == MICA_OK) {
        err = mica_conn_set_write_key(c, own_ap(c), MICA_EPOCH_APPLICATION);
    }
    mica_trace_flight(c);
    return err == MICA_OK ? MICA_OK : fail_plain(c, err);
}

mica_err mica_conn_on_key_update(mica_conn *c, const uint8_t *body, size_t len)
{
    bool request = false;
    mica_err err = mica_msg_decode_key_update(body, len, &request);

    if (err != MICA_OK) {
        return mica_fail(c, err, "the peer sent a malformed KeyUpdate");
    }
    if (++c->idle_updates > MICA_MAX_IDLE_UPDATES) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the peer sent more than %u KeyUpdates without application data",
                         MICA_MAX_IDLE_UPDATES);
    }
    err = mica_ks_update_traffic(c->suite->hash, peer_ap(c));
    if (err == MICA_OK) {
        err = mica_conn_set_read_key(c, peer_ap(c), MICA_EPOCH_APPLICATION);
    }
    if (err != MICA_OK) {
        return fail_plain(c, err);
    }
    /* 4.6.3: "If the request_update field is set to update_requested, then the receiver
     * MUST send a KeyUpdate of its own with request_update set to update_not_requested" */
    if (request && !c->closed) {
        return mica_conn_key_update(c, 0);
    }
    return MICA_OK;
}

/* ---- queries ------------------------------------------------------------------------- */

int mica_conn_is_connected(const mica_conn *c)
{
    return c != NULL && c->err == MICA_OK && c->state == MICA_ST_CONNECTED;
}

int mica_conn_peer_closed(const mica_conn *c)
{
    return c != NULL && c->peer_closed;
}

int mica_err_is_fatal(mica_err err)
{
    return err > MICA_OK;
}

mica_err mica_conn_error(const mica_conn *c)
{
    return c->err;
}

mica_alert mica_conn_error_alert(const mica_conn *c)
{
    return c->err == MICA_OK ? MICA_ALERT_NONE : c->err_alert;
}

const char *mica_conn_error_sentence(const mica_conn *c)
{
    if (c->err == MICA_OK) {
        return NULL;
    }
    return c->err_sentence != NULL ? c->err_sentence : mica_err_sentence(c->err);
}

const char *mica_conn_version(const mica_conn *c)
{
    return c->suite != NULL && c->state >= C_WAIT_EE && c->state != S_START ? "TLSv1.3" : NULL;
}

const char *mica_conn_cipher_suite(const mica_conn *c)
{
    return c->suite != NULL ? c->suite->name : NULL;
}

const char *mica_conn_group(const mica_conn *c)
{
    return c->group != NULL ? c->group->name : NULL;
}

const char *mica_conn_sig_scheme(const mica_conn *c)
{
    return c->sig != NULL ? c->sig->name : NULL;
}

const char *mica_conn_alpn(const mica_conn *c)
{
    return c->alpn;
}

const char *mica_conn_server_name(const mica_conn *c)
{
    return c->server_name[0] != '\0' ? c->server_name : NULL;
}

int mica_conn_hrr(const mica_conn *c)
{
    return c->hrr;
}

int mica_conn_verified(const mica_conn *c)
{
    return c->verified;
}

int mica_conn_ocsp_stapled(const mica_conn *c)
{
    return c->ocsp_stapled;
}

mica_err mica_conn_verify_code(const mica_conn *c)
{
    return c->verify_code;
}

const char *mica_conn_verify_error(const mica_conn *c)
{
    return c->verify_error;
}

const uint8_t *mica_conn_peer_cert(const mica_conn *c, size_t i, size_t *len)
{
    if (i >= c->peer_n) {
        *len = 0;
        return NULL;
    }
    *len = c->peer_len[i];
    return c->peer_der[i];
}

mica_err mica_conn_export(const mica_conn *c, const char *label, const uint8_t *context,
                          size_t context_len, uint8_t *out, size_t out_len)
{
    ENSURE(c != NULL && label != NULL && out != NULL, MICA_E_ARGUMENT);
    ENSURE(c->state == MICA_ST_CONNECTED && c->err == MICA_OK, MICA_E_ARGUMENT);
    return mica_ks_exporter(c->suite->hash, &c->exp_master, label, strlen(label), context,
                            context_len, out, out_len);
}
