/*
 * 0-RTT (RFC 8446 2.3, 4.2.10, 8): the server's decision, the early data API of both
 * sides, and the configuration of PSK modes, early data, anti-replay and the session
 * cache. The records themselves pass through conn.c (early data in, rejected early data
 * skipped) and the handshakes (client.c: EndOfEarlyData; server.c: WAIT_EOED).
 *
 * Acceptance, all of it or nothing (4.2.10, 8):
 *   - the client offered early_data, the PSK (its first identity) was accepted, no HRR;
 *   - this config accepts early data and the ticket allowed it when it was issued;
 *   - the suite, the ALPN protocol and the server name are the session's;
 *   - the client's ticket age is within MICA_EARLY_WINDOW_MS of the server's (8.3);
 *   - anti-replay: a single-use ticket of the session cache (8.1), or else a ClientHello
 *     never recorded before (8.2: its binder, kept for twice the window, after which the
 *     age check alone refuses the same hello).
 * A rejection is not an error: the handshake goes on in 1-RTT and the early records are
 * skipped (conn.c), up to the larger of the configured limit and 16 KiB.
 */
#include <string.h>

#include "tls/conn.h"

/* how long a hello is recorded: the same hello is fresh (within the window) for at most
 * twice the window from its first arrival; a second more for clocks that step */
#define REPLAY_KEEP_MS (2u * MICA_EARLY_WINDOW_MS + 1000u)

static const char *const early_names[] = {"not_sent", "accepted", "rejected"};

const char *mica_early_name(mica_early e)
{
    return (unsigned)e < MICA_ARRAY_LEN(early_names) ? early_names[e] : "unknown";
}

mica_early mica_conn_early_data(const mica_conn *c)
{
    return c->early;
}

/* why_not: the reason 0-RTT is refused, or NULL to accept (replay checked last, so only
 * hellos that could be accepted are recorded) */
static const char *why_not(const mica_conn *c)
{
    const mica_config *cfg = c->cfg;
    const struct mica_session *s = c->session;

    if (!c->resumed || s == NULL) {
        return "the PSK was not accepted";
    }
    if (cfg->early_max == 0) {
        return "this server does not accept early data";
    }
    if (s->max_early == 0) {
        return "the ticket was issued without early data";
    }
    if (s->max_early > cfg->early_max) {
        /* its client may send up to the ticket's limit, more than is accepted now */
        return "the ticket allows more early data than this server now accepts";
    }
    if (s->suite != c->suite->id) {
        return "the cipher suite differs from the session's";
    }
    if (strcmp(s->alpn, mica_hs_alpn_text(c)) != 0) {
        return "the ALPN protocol differs from the session's";
    }
    if (strcmp(s->sni, c->server_name) != 0) {
        return "the server name differs from the session's";
    }
    if (!c->psk_fresh) {
        return "the ticket age is outside the freshness window (a replay, or a wrong clock)";
    }
    if (!c->psk_stateful) {
        if (cfg->no_anti_replay) {
            return NULL; /* mica_config_insecure_no_anti_replay */
        }
        if (cfg->replay != NULL ? !cfg->replay(cfg->replay_ctx, c->binder_id,
                                               mica_clock_now(&cfg->clock), REPLAY_KEEP_MS)
                                : !mica_replay_check(cfg->replay_own, c->binder_id,
                                                     mica_clock_now(&cfg->clock), REPLAY_KEEP_MS)) {
            return "this ClientHello was seen before: a replay";
        }
    }
    return NULL;
}

mica_err mica_psk_decide_early(mica_conn *c, const struct mica_client_hello *ch, bool retry)
{
    const char *why;
    /* the most a client may send: the configured limit, or what an older ticket allowed */
    uint32_t skip =
        c->cfg->early_max > MICA_EARLY_SKIP_DEFAULT ? c->cfg->early_max : MICA_EARLY_SKIP_DEFAULT;

    if (c->resumed && c->session != NULL && c->session->max_early > skip) {
        skip = c->session->max_early;
    }

    if (!ch->early_data) {
        c->early_done = true;
        c->early_skip = 0; /* after an HRR: all 0-RTT came before this second hello */
        return MICA_OK;
    }
    if (c->hrr) {
        /* 4.2.10: "A client MUST NOT include the early_data extension in its followup
         * ClientHello" */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the ClientHello that answers the HelloRetryRequest offers early data");
    }
    c->early_offered = true;
    why = retry ? "a HelloRetryRequest is needed" : why_not(c);
    if (why != NULL) {
        c->early = MICA_EARLY_REJECTED;
        c->early_done = true;
        c->early_skip = skip; /* 4.2.10: skipped up to the configured limit */
        mica_trace_early(c, true, "rejected", why, 0);
        return MICA_OK;
    }
    c->early = MICA_EARLY_ACCEPTED;
    c->early_max = c->session->max_early; /* at most cfg->early_max (why_not) */
    mica_trace_early(c, true, "accepted", NULL, c->early_max);
    return MICA_OK;
}

mica_err mica_conn_set_early_key(mica_conn *c, bool write)
{
    const struct mica_suite *suite = c->server ? c->suite : c->early_suite;

    if (write) {
        TRY(mica_rec_set_key(&c->wr, suite, &c->c_early, MICA_EPOCH_EARLY));
        mica_trace_event(c, MICA_TRACE_KEYS, true, "write keys");
        return MICA_OK;
    }
    c->rd_keys++;
    TRY(mica_rec_set_key(&c->rd, suite, &c->c_early, MICA_EPOCH_EARLY));
    mica_trace_event(c, MICA_TRACE_KEYS, false, "read keys");
    return MICA_OK;
}

mica_err mica_conn_write_early(mica_conn *c, const uint8_t *data, size_t len, size_t *written)
{
    size_t room;

    ENSURE(c != NULL && written != NULL && (data != NULL || len == 0), MICA_E_ARGUMENT);
    *written = 0;
    TRY(c->err);
    /* early data goes out under the early key, which is replaced at the server's
     * EncryptedExtensions (rejected) or Finished (EndOfEarlyData) */
    ENSURE(!c->server && !c->closed && c->wr.epoch == MICA_EPOCH_EARLY &&
               c->early != MICA_EARLY_REJECTED,
           MICA_E_ARGUMENT);
    room = c->early_max - c->early_count;
    if (len > room) {
        len = room;
    }
    if (len > 0) {
        mica_err err = mica_conn_send(c, MICA_CT_APPLICATION_DATA, data, len);
        if (err != MICA_OK) {
            return mica_fail(c, err, "cannot queue early data: %s", mica_err_sentence(err));
        }
        c->early_count += (uint32_t)len;
    }
    *written = len;
    return MICA_OK;
}

mica_err mica_conn_read_early(mica_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
    size_t avail;

    ENSURE(c != NULL && n != NULL && (buf != NULL || cap == 0), MICA_E_ARGUMENT);
    *n = 0;
    avail = c->early_len - c->early_off;
    if (avail > 0) {
        size_t k = avail < cap ? avail : cap;
        memcpy(buf, c->early_buf + c->early_off, k);
        mica_mem_wipe(c->early_buf + c->early_off, k);
        c->early_off += k;
        *n = k;
        if (c->early_off == c->early_len) {
            mica_mem_free_secret(c->early_buf);
            c->early_buf = NULL;
            c->early_len = c->early_off = c->early_cap = 0;
        }
        return MICA_OK;
    }
    /* until the ClientHello is in, a server does not know whether early data comes */
    if (!c->server || c->early_done || (c->early != MICA_EARLY_ACCEPTED && c->state != S_START)) {
        return MICA_OK; /* no (more) early data can come */
    }
    TRY(c->err);
    return MICA_WANT_READ;
}

/* the server's receipt of early data in WAIT_EOED, within the accepted limit */
mica_err mica_early_append(mica_conn *c, const uint8_t *p, size_t len)
{
    uint8_t *grown;

    if (len > c->early_max - c->early_count) {
        /* 4.2.10: more than max_early_data_size "SHOULD" end with unexpected_message */
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the client sent more than the %u bytes of early data it may send",
                         c->early_max);
    }
    if (c->early_off > 0) { /* the application read some: move the rest to the front */
        memmove(c->early_buf, c->early_buf + c->early_off, c->early_len - c->early_off);
        c->early_len -= c->early_off;
        c->early_off = 0;
    }
    if (c->early_cap - c->early_len < len) {
        /* grown as data comes (a ticket holder cannot make every connection cost the
         * whole limit at its first byte), never past the limit */
        size_t cap = c->early_cap == 0 ? 4096 : c->early_cap;
        while (cap - c->early_len < len) {
            cap *= 2;
        }
        cap = cap < c->early_max ? cap : c->early_max;
        grown = mica_mem_alloc(cap);
        if (grown == NULL) {
            return mica_fail(c, MICA_E_NOMEM, "no memory for early data");
        }
        if (c->early_len > 0) {
            memcpy(grown, c->early_buf, c->early_len);
        }
        mica_mem_free_secret(c->early_buf);
        c->early_buf = grown;
        c->early_cap = cap;
    }
    memcpy(c->early_buf + c->early_len, p, len);
    c->early_len += len;
    c->early_count += (uint32_t)len;
    return MICA_OK;
}

mica_err mica_conn_export_early(const mica_conn *c, const char *label, const uint8_t *context,
                                size_t context_len, uint8_t *out, size_t out_len)
{
    const struct mica_suite *suite;

    ENSURE(c != NULL && label != NULL && out != NULL, MICA_E_ARGUMENT);
    suite = c->server ? c->suite : c->early_suite;
    ENSURE(c->err == MICA_OK && c->early_exp.len > 0 && suite != NULL, MICA_E_ARGUMENT);
    return mica_ks_exporter(suite->hash, &c->early_exp, label, strlen(label), context, context_len,
                            out, out_len);
}

/* ---- configuration ----------------------------------------------------------------- */

mica_err mica_config_set_psk_modes(mica_config *cfg, const char *list)
{
    uint8_t modes[2];
    size_t n = 0;
    const char *p = list;

    ENSURE(cfg != NULL && list != NULL, MICA_E_ARGUMENT);
    while (*p != '\0') {
        size_t len = strcspn(p, ":, ");
        int mode = -1;
        if (len == 10 && strncmp(p, "psk_dhe_ke", len) == 0) {
            mode = MICA_PSK_DHE_KE;
        } else if (len == 6 && strncmp(p, "psk_ke", len) == 0) {
            mode = MICA_PSK_KE;
        } else if (len > 0) {
            return MICA_E_ARGUMENT;
        }
        if (mode >= 0) {
            for (size_t i = 0; i < n; i++) {
                ENSURE(modes[i] != mode, MICA_E_ARGUMENT);
            }
            ENSURE(n < MICA_ARRAY_LEN(modes), MICA_E_ARGUMENT);
            modes[n++] = (uint8_t)mode;
        }
        p += len;
        p += *p != '\0' ? 1 : 0;
    }
    ENSURE(n > 0, MICA_E_ARGUMENT);
    memcpy(cfg->psk_modes, modes, n);
    cfg->psk_modes_n = n;
    return MICA_OK;
}

mica_err mica_config_set_early_data(mica_config *cfg, uint32_t max_bytes)
{
    ENSURE(cfg != NULL && max_bytes <= MICA_MAX_EARLY_DATA, MICA_E_ARGUMENT);
    if (max_bytes > 0 && cfg->replay_own == NULL) {
        TRY(mica_replay_new(&cfg->replay_own)); /* small until a server first uses it */
    }
    cfg->early_max = max_bytes;
    return MICA_OK;
}

void mica_config_set_replay_store(mica_config *cfg,
                                  int (*check)(void *ctx, const uint8_t id[32], uint64_t now_ms,
                                               uint64_t keep_ms),
                                  void *ctx)
{
    if (cfg == NULL) {
        return;
    }
    cfg->replay = check;
    cfg->replay_ctx = ctx;
}

void mica_config_insecure_no_anti_replay(mica_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    cfg->no_anti_replay = true;
}

mica_err mica_config_keep_sessions(mica_config *cfg, size_t names, size_t per_name)
{
    struct mica_keep *keep = NULL;

    ENSURE(cfg != NULL && names <= MICA_MAX_KEEP_NAMES, MICA_E_ARGUMENT);
    if (names > 0) {
        TRY(mica_keep_new(names, per_name, &keep));
    }
    mica_keep_free(cfg->keep);
    cfg->keep = keep;
    return MICA_OK;
}

mica_err mica_config_set_session_cache(mica_config *cfg, size_t n)
{
    struct mica_cache *cache = NULL;

    ENSURE(cfg != NULL && n <= MICA_MAX_SESSION_CACHE, MICA_E_ARGUMENT);
    if (n > 0) {
        TRY(mica_cache_new(n, &cache));
    }
    mica_cache_free(cfg->cache);
    cfg->cache = cache;
    return MICA_OK;
}
