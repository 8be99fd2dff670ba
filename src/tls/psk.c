/*
 * Resumption (RFC 8446 2.2, 4.2.11, 4.6.1): the server's stateless tickets, the client's
 * sessions, PSK offers with binders, and their acceptance.
 *
 * A ticket is the session state sealed with AES-256-GCM under the ticket key of the
 * current rotation period:
 *     key_name(16) | nonce(12) | AES-256-GCM(state) | tag(16)
 * with the key name as associated data. Period e's key and name come from the config's
 * ticket secret: okm = HKDF-Expand(secret, "mica ticket key" | e, 40), key = okm[0..32),
 * key_name = e (8 bytes) | okm[32..40). So keys rotate with no shared mutable state
 * (threads and processes that share the secret agree on every period's key), a server
 * still opens the tickets of earlier periods while they can be alive, and a ticket from
 * another secret is told apart by its name before any decryption. With a session cache
 * (store.c) a ticket is instead 32 random bytes naming the state kept in the cache.
 * The state, and a client's session blob, hold:
 *     version(1) suite(2) issued_ms(8) auth_ms(8) lifetime(4) age_add(4) max_early(4)
 *     psk<1..64> sni<0..255> alpn<0..255>
 * A client's session blob is: version(1) verified(1) state ticket<1..2^16-1> check(32),
 * verified saying whether the server's chain was verified in the handshake that made it,
 * check the SHA-256 of all before it: a blob damaged in storage is refused, not offered
 * (a damaged PSK would otherwise fail the handshake with a bad binder).
 * A session blob holds the resumption PSK: the application stores it as a secret.
 */
#include <pthread.h>
#include <string.h>

#include "tls/conn.h"

#define STATE_VERSION 2u /* 2: max_early */
#define SESSION_VERSION 2u
#define TICKET_NAME_LEN 16u
#define TICKET_NONCE_LEN 12u
#define TICKET_TAG_LEN 16u
#define MICA_MAX_TICKET_LIFETIME (7u * 24u * 3600u) /* RFC 8446 4.6.1: at most 7 days */
#define TICKET_LIFETIME_DEFAULT 7200u               /* 2 h */
#define TICKET_ROTATE_DEFAULT 3600u                 /* a new ticket key every hour */
#define TICKET_KEY_LEN 32u

static void write_state(mica_wr *w, const struct mica_session *s)
{
    size_t m;

    mica_wr_u16(w, s->suite);
    mica_wr_u64(w, s->issued_ms);
    mica_wr_u64(w, s->auth_ms);
    mica_wr_u32(w, s->lifetime);
    mica_wr_u32(w, s->age_add);
    mica_wr_u32(w, s->max_early);
    mica_wr_open8(w, &m);
    mica_wr_bytes(w, s->psk.b, s->psk.len);
    mica_wr_close(w, m);
    mica_wr_open8(w, &m);
    mica_wr_bytes(w, (const uint8_t *)s->sni, strlen(s->sni));
    mica_wr_close(w, m);
    mica_wr_open8(w, &m);
    mica_wr_bytes(w, (const uint8_t *)s->alpn, strlen(s->alpn));
    mica_wr_close(w, m);
}

static mica_err read_state(mica_rd *r, struct mica_session *s)
{
    mica_rd psk, sni, alpn;

    TRY(mica_rd_u16(r, &s->suite));
    TRY(mica_rd_u64(r, &s->issued_ms));
    TRY(mica_rd_u64(r, &s->auth_ms));
    TRY(mica_rd_u32(r, &s->lifetime));
    TRY(mica_rd_u32(r, &s->age_add));
    TRY(mica_rd_u32(r, &s->max_early));
    TRY(mica_rd_vec8(r, &psk, 1, MICA_MAX_HASH_LEN));
    TRY(mica_rd_vec8(r, &sni, 0, MICA_MAX_SERVER_NAME));
    TRY(mica_rd_vec8(r, &alpn, 0, 255));
    ENSURE(mica_suite_by_id(s->suite) != NULL, MICA_E_DECODE);
    s->psk.len = (uint8_t)psk.n;
    TRY(mica_rd_copy(&psk, s->psk.b, psk.n));
    memcpy(s->sni, sni.p, sni.n);
    s->sni[sni.n] = '\0';
    memcpy(s->alpn, alpn.p, alpn.n);
    s->alpn[alpn.n] = '\0';
    return MICA_OK;
}

static const struct mica_aead_desc *ticket_aead(void)
{
    return mica_suite_by_id(0x1302)->aead; /* AES-256-GCM */
}

/* usable: the session is alive now, and its server was authenticated by a certificate
 * no more than 7 days ago (RFC 8446 4.6.1: a resumption chain does not outlive that) */
static bool usable(const struct mica_session *s, uint64_t now)
{
    return now >= s->issued_ms && now - s->issued_ms <= (uint64_t)s->lifetime * 1000u &&
           now >= s->auth_ms && now - s->auth_ms <= (uint64_t)MICA_MAX_TICKET_LIFETIME * 1000u;
}

/* ---- server: tickets --------------------------------------------------------------- */

/*
 * The keys of the last two periods a config used, kept so that a ticket's key is not
 * derived again for every ticket sealed or opened (two HMACs each). They are no more
 * secret than ticket_secret beside them, and are wiped with the config, or when the
 * secret or the period changes.
 */
struct mica_ticket_keys {
    pthread_mutex_t lock;
    bool locked; /* lock was initialized */
    struct {
        bool valid;
        uint64_t epoch;
        uint8_t key[TICKET_KEY_LEN];
        uint8_t name[TICKET_NAME_LEN];
    } e[2];
};

mica_err mica_psk_config_init(mica_config *cfg)
{
    cfg->ticket_keys = mica_mem_alloc(sizeof(*cfg->ticket_keys));
    ENSURE(cfg->ticket_keys != NULL, MICA_E_NOMEM);
    cfg->ticket_keys->locked = pthread_mutex_init(&cfg->ticket_keys->lock, NULL) == 0;
    return MICA_OK;
}

void mica_psk_config_free(mica_config *cfg)
{
    if (cfg->ticket_keys == NULL) {
        return;
    }
    if (cfg->ticket_keys->locked) {
        pthread_mutex_destroy(&cfg->ticket_keys->lock);
    }
    mica_mem_free_secret(cfg->ticket_keys);
    cfg->ticket_keys = NULL;
}

/* keys_forget: the kept keys no longer match the secret or the period */
static void keys_forget(mica_config *cfg)
{
    struct mica_ticket_keys *tk = cfg->ticket_keys;

    if (tk != NULL && tk->locked && pthread_mutex_lock(&tk->lock) == 0) {
        mica_mem_wipe(tk->e, sizeof(tk->e));
        pthread_mutex_unlock(&tk->lock);
    }
}

/* keys_find: period epoch's key and name from the kept ones; keys_keep keeps them */
static bool keys_find(const mica_config *cfg, uint64_t epoch, uint8_t *key, uint8_t *name)
{
    struct mica_ticket_keys *tk = cfg->ticket_keys;
    bool found = false;

    if (tk == NULL || !tk->locked || pthread_mutex_lock(&tk->lock) != 0) {
        return false;
    }
    for (size_t i = 0; i < 2 && !found; i++) {
        if (tk->e[i].valid && tk->e[i].epoch == epoch) {
            memcpy(key, tk->e[i].key, TICKET_KEY_LEN);
            memcpy(name, tk->e[i].name, TICKET_NAME_LEN);
            found = true;
        }
    }
    pthread_mutex_unlock(&tk->lock);
    return found;
}

static void keys_keep(const mica_config *cfg, uint64_t epoch, const uint8_t *key,
                      const uint8_t *name)
{
    struct mica_ticket_keys *tk = cfg->ticket_keys;
    size_t i;

    if (tk == NULL || !tk->locked || pthread_mutex_lock(&tk->lock) != 0) {
        return;
    }
    /* replace an empty slot, else the older period */
    i = !tk->e[0].valid ? 0 : !tk->e[1].valid ? 1 : tk->e[0].epoch < tk->e[1].epoch ? 0 : 1;
    tk->e[i].valid = true;
    tk->e[i].epoch = epoch;
    memcpy(tk->e[i].key, key, TICKET_KEY_LEN);
    memcpy(tk->e[i].name, name, TICKET_NAME_LEN);
    pthread_mutex_unlock(&tk->lock);
}

/* ticket_key: the key and name of rotation period `epoch` (see the top of this file) */
static mica_err ticket_key(const mica_config *cfg, uint64_t epoch, uint8_t *key, uint8_t *name)
{
    static const char label[] = "mica ticket key";
    uint8_t info[sizeof(label) - 1 + 8], okm[TICKET_KEY_LEN + 8];
    mica_err err;

    if (keys_find(cfg, epoch, key, name)) {
        return MICA_OK;
    }
    memcpy(info, label, sizeof(label) - 1);
    for (int i = 0; i < 8; i++) {
        info[sizeof(label) - 1 + (size_t)i] = (uint8_t)(epoch >> (56 - 8 * i));
        name[i] = (uint8_t)(epoch >> (56 - 8 * i));
    }
    err = mica_hkdf_expand(&mica_hash_sha256, cfg->ticket_secret, sizeof(cfg->ticket_secret), info,
                           sizeof(info), okm, sizeof(okm));
    if (err == MICA_OK) {
        memcpy(key, okm, TICKET_KEY_LEN);
        memcpy(name + 8, okm + TICKET_KEY_LEN, 8);
        keys_keep(cfg, epoch, key, name);
    }
    mica_mem_wipe(okm, sizeof(okm));
    return err;
}

static uint64_t ticket_epoch(const mica_config *cfg)
{
    return mica_clock_now(&cfg->clock) / 1000u / cfg->ticket_rotate;
}

/* the key of the current period, keyed once for all the tickets a connection sends */
struct ticket_sealer {
    mica_aead *aead;
    uint8_t name[TICKET_NAME_LEN];
};

static mica_err sealer_new(const mica_config *cfg, struct ticket_sealer *ts)
{
    uint8_t key[TICKET_KEY_LEN];
    mica_err err;

    ts->aead = NULL;
    err = ticket_key(cfg, ticket_epoch(cfg), key, ts->name);
    if (err == MICA_OK) {
        err = mica_aead_new(ticket_aead(), key, sizeof(key), true, &ts->aead);
    }
    mica_mem_wipe(key, sizeof(key));
    return err;
}

/* seal_ticket: a ticket of s, sealed with the fresh random nonce given */
static mica_err seal_ticket(const struct ticket_sealer *ts, const struct mica_session *s,
                            const uint8_t *nonce, uint8_t *out, size_t cap, size_t *len)
{
    mica_wr w = mica_wr_init(out, cap);
    uint8_t *body, *tag;
    size_t start, n;

    mica_wr_bytes(&w, ts->name, TICKET_NAME_LEN);
    mica_wr_bytes(&w, nonce, TICKET_NONCE_LEN);
    start = w.len;
    mica_wr_u8(&w, STATE_VERSION);
    write_state(&w, s);
    ENSURE(mica_wr_ok(&w), MICA_E_INTERNAL);
    n = w.len - start;
    tag = mica_wr_reserve(&w, TICKET_TAG_LEN);
    TRY(mica_wr_finish(&w, len));
    ENSURE(tag != NULL, MICA_E_INTERNAL);
    body = out + start;
    return mica_aead_seal(ts->aead, nonce, TICKET_NONCE_LEN, out, TICKET_NAME_LEN, body, n, tag);
}

static mica_err read_versioned_state(const uint8_t *p, size_t n, struct mica_session *s)
{
    mica_rd r = mica_rd_init(p, n);
    uint8_t version = 0;

    TRY(mica_rd_u8(&r, &version));
    ENSURE(version == STATE_VERSION, MICA_E_DECODE);
    TRY(read_state(&r, s));
    return mica_rd_end(&r);
}

/* open_ticket: the state of a ticket this config sealed, or MICA_E_DECODE */
static mica_err open_ticket(const mica_config *cfg, mica_rd ticket, struct mica_session *s)
{
    uint8_t buf[1024], key[TICKET_KEY_LEN], want_name[TICKET_NAME_LEN];
    const uint8_t *name, *nonce, *tag;
    uint64_t epoch = 0, now_s;
    mica_aead *aead = NULL;
    size_t n;
    mica_err err;

    ENSURE(ticket.n > TICKET_NAME_LEN + TICKET_NONCE_LEN + TICKET_TAG_LEN &&
               ticket.n - (TICKET_NAME_LEN + TICKET_NONCE_LEN + TICKET_TAG_LEN) <= sizeof(buf),
           MICA_E_DECODE);
    TRY(mica_rd_bytes(&ticket, TICKET_NAME_LEN, &name));
    for (int i = 0; i < 8; i++) {
        epoch = epoch << 8 | name[i];
    }
    /* a period whose tickets can all have expired is retired: its key opens nothing */
    now_s = mica_clock_now(&cfg->clock) / 1000u;
    ENSURE(epoch <= ticket_epoch(cfg) &&
               (epoch + 1) * (uint64_t)cfg->ticket_rotate + cfg->ticket_lifetime >= now_s,
           MICA_E_DECODE);
    TRY(ticket_key(cfg, epoch, key, want_name));
    /* a ticket of another secret (another server, another fleet) is simply not ours */
    if (!mica_ct_eq(name, want_name, TICKET_NAME_LEN)) {
        mica_mem_wipe(key, sizeof(key));
        return MICA_E_DECODE;
    }
    TRY(mica_rd_bytes(&ticket, TICKET_NONCE_LEN, &nonce));
    n = ticket.n - TICKET_TAG_LEN;
    TRY(mica_rd_copy(&ticket, buf, n));
    TRY(mica_rd_bytes(&ticket, TICKET_TAG_LEN, &tag));
    err = mica_aead_new(ticket_aead(), key, sizeof(key), false, &aead);
    mica_mem_wipe(key, sizeof(key));
    if (err == MICA_OK) {
        err = mica_aead_open(aead, nonce, TICKET_NONCE_LEN, name, TICKET_NAME_LEN, buf, n, tag);
    }
    mica_aead_free(aead);
    if (err == MICA_OK) {
        err = read_versioned_state(buf, n, s);
    }
    mica_mem_wipe(buf, sizeof(buf));
    return err == MICA_OK ? MICA_OK : MICA_E_DECODE;
}

/* take_cached: the state a stateful ticket names, taken out of the cache (single use) */
static mica_err take_cached(const mica_config *cfg, mica_rd ticket, struct mica_session *s)
{
    uint8_t buf[1024];
    size_t n = 0;
    mica_err err;

    ENSURE(cfg->cache != NULL && ticket.n == MICA_SESSION_ID_LEN, MICA_E_DECODE);
    err = mica_cache_take(cfg->cache, ticket.p, buf, sizeof(buf), &n);
    if (err == MICA_OK) {
        err = read_versioned_state(buf, n, s);
    }
    mica_mem_wipe(buf, sizeof(buf));
    return err == MICA_OK ? MICA_OK : MICA_E_DECODE;
}

/* cache_ticket: keep the state in the session cache under `name` (fresh random bytes),
 * which is the ticket */
static mica_err cache_ticket(const mica_config *cfg, const struct mica_session *s,
                             const uint8_t *name, uint8_t *ticket, size_t *len)
{
    uint8_t buf[1024];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t n = 0;
    mica_err err;

    mica_wr_u8(&w, STATE_VERSION);
    write_state(&w, s);
    err = mica_wr_finish(&w, &n);
    memcpy(ticket, name, MICA_SESSION_ID_LEN);
    if (err == MICA_OK) {
        err = mica_cache_put(cfg->cache, ticket, buf, n);
    }
    mica_mem_wipe(buf, sizeof(buf));
    *len = MICA_SESSION_ID_LEN;
    return err;
}

/* the random bytes of one ticket: obfuscated_ticket_age's add, then the nonce of a
 * sealed ticket or the name of a cached one */
#define TICKET_FRESH_LEN (4u + MICA_SESSION_ID_LEN)
#define TICKETS_PER_DRAW 8u

/* one NewSessionTicket, its PSK derived from rms with nonce (RFC 8446 4.6.1), sealed by
 * ts (or kept in the session cache when the config has one) */
static mica_err send_ticket(mica_conn *c, const struct ticket_sealer *ts, const mica_secret *rms,
                            uint8_t nonce, const uint8_t *fresh)
{
    uint8_t msg[1200], ticket[900];
    struct mica_session s;
    size_t ticket_len = 0, len = 0, m, t;
    mica_wr w = mica_wr_init(msg, sizeof(msg));
    mica_err err;

    memset(&s, 0, sizeof(s));
    s.suite = c->suite->id;
    s.issued_ms = mica_clock_now(&c->cfg->clock);
    s.auth_ms = c->resumed ? c->session_auth_ms : s.issued_ms;
    s.lifetime = c->cfg->ticket_lifetime;
    memcpy(&s.age_add, fresh, sizeof(s.age_add));
    /* 4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", nonce) */
    TRY(mica_ks_resumption_psk(c->suite->hash, rms, &nonce, 1, &s.psk));
    memcpy(s.sni, c->server_name, sizeof(s.sni));
    memcpy(s.alpn, mica_hs_alpn_text(c), strlen(mica_hs_alpn_text(c)) + 1); /* <= 255 + 1 */
    s.max_early = c->cfg->early_max;
    err = ts != NULL ? seal_ticket(ts, &s, fresh + 4, ticket, sizeof(ticket), &ticket_len)
                     : cache_ticket(c->cfg, &s, fresh + 4, ticket, &ticket_len);
    mica_secret_wipe(&s.psk);
    if (err != MICA_OK) {
        mica_mem_wipe(ticket, sizeof(ticket)); /* it may hold the state in the clear */
        return err;
    }
    mica_msg_open(&w, MICA_HS_NEW_SESSION_TICKET, &m);
    mica_wr_u32(&w, s.lifetime);
    mica_wr_u32(&w, s.age_add);
    mica_wr_u8(&w, 1); /* ticket_nonce<0..255> */
    mica_wr_u8(&w, nonce);
    mica_wr_open16(&w, &t);
    mica_wr_bytes(&w, ticket, ticket_len);
    mica_wr_close(&w, t);
    mica_wr_open16(&w, &t);
    if (s.max_early > 0) {
        /* 4.2.10: early_data with max_early_data_size: this ticket may carry 0-RTT */
        mica_wr_u16(&w, MICA_EXT_EARLY_DATA);
        mica_wr_u16(&w, 4);
        mica_wr_u32(&w, s.max_early);
    }
    mica_wr_close(&w, t);
    mica_msg_close(&w, m);
    TRY(mica_wr_finish(&w, &len));
    /* after the handshake: not part of its transcript (which post-handshake
     * authentication continues from) */
    mica_trace_message(c, true, msg, len);
    return mica_conn_send(c, MICA_CT_HANDSHAKE, msg, len);
}

mica_err mica_psk_send_tickets(mica_conn *c, unsigned count)
{
    /* 4.6.1: the nonce "MUST be unique across all tickets issued on this connection" */
    /* libcrypto's DRBG costs ~1 us a call whatever its size: one draw for 8 tickets */
    uint8_t fresh[TICKETS_PER_DRAW][TICKET_FRESH_LEN];
    struct ticket_sealer ts, *sealer = NULL;
    mica_err err = MICA_OK;

    ENSURE(count <= 255u - c->tickets_sent, MICA_E_ARGUMENT);
    if (c->cfg->cache == NULL && count > 0) {
        TRY(sealer_new(c->cfg, &ts));
        sealer = &ts;
    }
    for (unsigned i = 0; i < count && err == MICA_OK; i++) {
        unsigned row = i % TICKETS_PER_DRAW;
        if (row == 0) {
            unsigned left = count - i;
            err = mica_rand(fresh[0],
                            (left < TICKETS_PER_DRAW ? left : TICKETS_PER_DRAW) * TICKET_FRESH_LEN);
        }
        if (err == MICA_OK) {
            err = send_ticket(c, sealer, &c->res_master, (uint8_t)c->tickets_sent, fresh[row]);
        }
        c->tickets_sent += err == MICA_OK;
    }
    if (sealer != NULL) {
        mica_aead_free(sealer->aead);
    }
    mica_mem_wipe(fresh, sizeof(fresh)); /* age_adds and cache names: kept from onlookers */
    return err;
}

mica_err mica_conn_send_tickets(mica_conn *c, unsigned count)
{
    ENSURE(c != NULL, MICA_E_ARGUMENT);
    TRY(c->err);
    ENSURE(c->server && c->state == MICA_ST_CONNECTED && !c->closed && count >= 1 && count <= 16,
           MICA_E_ARGUMENT);
    return mica_psk_send_tickets(c, count);
}

/* ---- client: sessions --------------------------------------------------------------- */

#define SESSION_CHECK_LEN 32u

static mica_err session_check(const uint8_t *p, size_t n, uint8_t *out)
{
    mica_hash_ctx *h = NULL;
    mica_err err;

    TRY(mica_hash_new(&mica_hash_sha256, &h));
    err = mica_hash_update(h, p, n);
    if (err == MICA_OK) {
        err = mica_hash_peek(h, out);
    }
    mica_hash_free(h);
    return err;
}

mica_err mica_psk_on_ticket(mica_conn *c, const struct mica_new_session_ticket *nst)
{
    struct mica_session s;
    uint8_t blob[MICA_MAX_SESSION_LEN];
    mica_wr w = mica_wr_init(blob, sizeof(blob));
    size_t len = 0, m;
    mica_err err;

    /* 4.6.1: lifetime 0 means "do not resume"; a ticket longer than mica keeps is not
     * kept (it costs only a resumption) */
    if ((c->cfg->session_cb == NULL && c->cfg->keep == NULL) || nst->lifetime == 0 ||
        nst->ticket.n > MICA_MAX_TICKET) {
        return MICA_OK;
    }
    memset(&s, 0, sizeof(s));
    s.suite = c->suite->id;
    s.issued_ms = mica_clock_now(&c->cfg->clock); /* the client's receipt time */
    s.auth_ms = c->resumed ? c->session_auth_ms : s.issued_ms;
    s.lifetime =
        nst->lifetime < MICA_MAX_TICKET_LIFETIME ? nst->lifetime : MICA_MAX_TICKET_LIFETIME;
    s.age_add = nst->age_add;
    /* 4.2.10: the ticket allows 0-RTT only with early_data (max_early_data_size) */
    s.max_early = (nst->present & mica_ext_bit(MICA_EXT_EARLY_DATA)) != 0 ? nst->max_early_data : 0;
    err =
        mica_ks_resumption_psk(c->suite->hash, &c->res_master, nst->nonce.p, nst->nonce.n, &s.psk);
    if (err != MICA_OK) {
        mica_secret_wipe(&s.psk);
        return MICA_OK; /* as above: no session, the connection goes on */
    }
    memcpy(s.sni, c->server_name, sizeof(s.sni));
    memcpy(s.alpn, mica_hs_alpn_text(c), strlen(mica_hs_alpn_text(c)) + 1); /* <= 255 + 1 */
    mica_wr_u8(&w, SESSION_VERSION);
    mica_wr_u8(&w, c->verified ? 1 : 0);
    write_state(&w, &s);
    mica_wr_open16(&w, &m);
    mica_wr_bytes(&w, nst->ticket.p, nst->ticket.n);
    mica_wr_close(&w, m);
    err = mica_wr_finish(&w, &len);
    if (err == MICA_OK) {
        err = len + SESSION_CHECK_LEN <= sizeof(blob) ? session_check(blob, len, blob + len)
                                                      : MICA_E_INTERNAL;
        len += SESSION_CHECK_LEN;
    }
    mica_secret_wipe(&s.psk);
    if (err == MICA_OK && c->cfg->keep != NULL && c->server_name[0] != '\0') {
        mica_keep_put(c->cfg->keep, c->server_name, blob, len);
    }
    if (err == MICA_OK && c->cfg->session_cb != NULL) {
        c->cfg->session_cb(c->cfg->session_ctx, c->server_name, blob, len);
    }
    mica_mem_wipe(blob, sizeof(blob));
    return MICA_OK; /* a session that cannot be made costs only a resumption */
}

mica_err mica_psk_load_session(mica_conn *c, const uint8_t *blob, size_t len)
{
    mica_rd r, ticket;
    uint8_t version = 0, verified = 0, check[SESSION_CHECK_LEN];
    struct mica_session *s;
    uint64_t now = mica_clock_now(&c->cfg->clock);

    mica_mem_free_secret(c->session);
    c->session = s = mica_mem_alloc(sizeof(*s));
    ENSURE(s != NULL, MICA_E_NOMEM);
    ENSURE(len > SESSION_CHECK_LEN, MICA_E_DECODE);
    len -= SESSION_CHECK_LEN;
    TRY(session_check(blob, len, check));
    ENSURE(mica_ct_eq(check, blob + len, SESSION_CHECK_LEN), MICA_E_DECODE);
    r = mica_rd_init(blob, len);
    TRY(mica_rd_u8(&r, &version));
    ENSURE(version == SESSION_VERSION, MICA_E_DECODE);
    TRY(mica_rd_u8(&r, &verified));
    ENSURE(verified <= 1, MICA_E_DECODE);
    s->verified = verified == 1;
    TRY(read_state(&r, s));
    c->session_auth_ms = s->auth_ms;
    TRY(mica_rd_vec16(&r, &ticket, 1, sizeof(s->ticket)));
    TRY(mica_rd_end(&r));
    memcpy(s->ticket, ticket.p, ticket.n);
    s->ticket_len = ticket.n;
    /* usable: for this name, still alive, with a suite this config offers */
    /* a config that verifies does not resume a session whose server was never verified */
    if ((c->cfg->verify && !s->verified) || strcmp(s->sni, c->server_name) != 0 ||
        s->lifetime > MICA_MAX_TICKET_LIFETIME || !usable(s, now)) {
        mica_secret_wipe(&s->psk);
        s->ticket_len = 0;
        return MICA_OK; /* not offered: a full handshake */
    }
    for (size_t i = 0; i < c->cfg->suites_n; i++) {
        if (c->cfg->suites[i] == s->suite) {
            c->offer_psk = true;
            /* 4.2.10: 0-RTT when the ticket allows it and the application wants it, with
             * the session's suite and at most the smaller of the two limits */
            if (c->cfg->early_max > 0 && s->max_early > 0) {
                c->early_offered = true;
                c->early_suite = mica_suite_by_id(s->suite);
                c->early_max = s->max_early < c->cfg->early_max ? s->max_early : c->cfg->early_max;
            }
            return MICA_OK;
        }
    }
    mica_secret_wipe(&s->psk);
    return MICA_OK;
}

/* the binder: HMAC over Transcript-Hash(everything before || ClientHello up to the
 * binders), with the binder key of the PSK's early secret (RFC 8446 4.2.11.2) */
static mica_err binder_for(const mica_conn *c, const struct mica_hash_desc *h,
                           const mica_secret *psk, const uint8_t *prefix, size_t prefix_len,
                           uint8_t *out)
{
    struct mica_keysched ks;
    uint8_t th[MICA_MAX_HASH_LEN];
    MICA_SECRET(binder_key);
    mica_err err;

    TRY(mica_transcript_hash_with(&c->t, h, prefix, prefix_len, th));
    mica_ks_init(&ks, h);
    err = mica_ks_early(&ks, psk->b, psk->len);
    if (err == MICA_OK) {
        err = mica_ks_binder_key(&ks, false, &binder_key);
    }
    mica_ks_clear(&ks);
    TRY(err);
    return mica_ks_finished(h, &binder_key, th, out);
}

void mica_psk_write_offer(mica_conn *c, mica_wr *w)
{
    const struct mica_suite *s;
    uint32_t age;
    size_t ext, list, m;

    if (!c->offer_psk) {
        return;
    }
    s = mica_suite_by_id(c->session->suite);
    age = (uint32_t)(mica_clock_now(&c->cfg->clock) - c->session->issued_ms);
    if (c->early_offered && !c->hrr) {
        /* 4.2.10: early_data, empty; never in the ClientHello that answers an HRR */
        c->offered |= mica_ext_bit(MICA_EXT_EARLY_DATA);
        mica_wr_u16(w, MICA_EXT_EARLY_DATA);
        mica_wr_u16(w, 0);
    }
    /* 4.2.9: the configured modes (psk_dhe_ke alone by default: forward secrecy) */
    c->offered |= mica_ext_bit(MICA_EXT_PSK_KEY_EXCHANGE_MODES);
    mica_wr_u16(w, MICA_EXT_PSK_KEY_EXCHANGE_MODES);
    mica_wr_u16(w, (uint16_t)(1 + c->cfg->psk_modes_n));
    mica_wr_u8(w, (uint8_t)c->cfg->psk_modes_n);
    mica_wr_bytes(w, c->cfg->psk_modes, c->cfg->psk_modes_n);
    /* 4.2.11: pre_shared_key, the last extension */
    c->offered |= mica_ext_bit(MICA_EXT_PRE_SHARED_KEY);
    mica_wr_u16(w, MICA_EXT_PRE_SHARED_KEY);
    mica_wr_open16(w, &ext);
    mica_wr_open16(w, &list);
    mica_wr_open16(w, &m);
    mica_wr_bytes(w, c->session->ticket, c->session->ticket_len);
    mica_wr_close(w, m);
    /* obfuscated_ticket_age = age in ms + ticket_age_add, mod 2^32 */
    mica_wr_u32(w, age + c->session->age_add);
    mica_wr_close(w, list);
    mica_wr_open16(w, &list);
    mica_wr_u8(w, s->hash->len);
    mica_wr_zeros(w, s->hash->len); /* filled by mica_psk_fill_binder */
    mica_wr_close(w, list);
    mica_wr_close(w, ext);
}

mica_err mica_psk_fill_binder(mica_conn *c, uint8_t *msg, size_t len)
{
    const struct mica_suite *s;
    size_t blen, binders_at;

    if (!c->offer_psk) {
        return MICA_OK;
    }
    s = mica_suite_by_id(c->session->suite);
    blen = s->hash->len;
    /* the binders list is the message's tail: u16 length, u8 length, the binder */
    ENSURE(len > 3 + blen, MICA_E_INTERNAL);
    binders_at = len - (3 + blen);
    return binder_for(c, s->hash, &c->session->psk, msg, binders_at, msg + len - blen);
}

/* ---- server: accepting a PSK ------------------------------------------------------- */

/* mica_psk_mode: the first of the server's PSK modes the client offers (4.2.9), or -1 */
int mica_psk_mode(const mica_config *cfg, uint8_t offered)
{
    for (size_t i = 0; i < cfg->psk_modes_n; i++) {
        if ((offered & (1u << cfg->psk_modes[i])) != 0) {
            return cfg->psk_modes[i];
        }
    }
    return -1;
}

/* not_now: a session that this hello cannot use, though its rightful client may: a
 * single-use session taken from the cache goes back (an attacker who copies a ticket
 * into a hello of its own does not burn it); its PSK is wiped here */
static mica_err not_now(mica_conn *c, mica_rd identity, struct mica_session *s)
{
    uint8_t buf[1024];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t n = 0;

    if (identity.n == MICA_SESSION_ID_LEN && c->cfg->cache != NULL) {
        mica_wr_u8(&w, STATE_VERSION);
        write_state(&w, s);
        if (mica_wr_finish(&w, &n) == MICA_OK &&
            mica_cache_put(c->cfg->cache, identity.p, buf, n) != MICA_OK) {
            n = 0; /* no memory: the session is lost, its client makes a full handshake */
        }
        mica_mem_wipe(buf, sizeof(buf));
    }
    mica_secret_wipe(&s->psk);
    return MICA_OK;
}

mica_err mica_psk_accept(mica_conn *c, const struct mica_client_hello *ch, const uint8_t *msg,
                         size_t len)
{
    struct mica_session s;
    mica_rd ids = ch->psk.identities, binders = ch->psk.binders, identity, binder;
    uint32_t age = 0;
    uint64_t now = mica_clock_now(&c->cfg->clock), server_age, client_age;
    uint8_t want[MICA_MAX_HASH_LEN];
    const struct mica_hash_desc *h;
    int mode;
    mica_err err;

    if ((ch->present & mica_ext_bit(MICA_EXT_PRE_SHARED_KEY)) == 0) {
        return MICA_OK;
    }
    /* a client whose modes this server does not allow gets a full handshake (4.2.9) */
    mode = mica_psk_mode(c->cfg, ch->psk_modes);
    if (mode < 0) {
        return MICA_OK;
    }
    /* the binder covers msg[0..binders_offset): the decoder put it inside the message */
    ENSURE(ch->psk.binders_offset <= len, MICA_E_INTERNAL);
    /* the first identity only: mica's clients offer one */
    TRY(mica_ext_next_psk_identity(&ids, &identity, &age));
    TRY(mica_ext_next_psk_binder(&binders, &binder));
    memset(&s, 0, sizeof(s));
    err = identity.n == MICA_SESSION_ID_LEN ? take_cached(c->cfg, identity, &s)
                                            : open_ticket(c->cfg, identity, &s);
    /* 8.3: the age the client reports (obfuscated_ticket_age - ticket_age_add) against the
     * one the server knows; a ticket whose reported age is past its lifetime by more than
     * the window is not accepted either (its client's clock or the ticket is wrong) */
    server_age = now >= s.issued_ms ? now - s.issued_ms : 0;
    client_age = (uint32_t)(age - s.age_add);
    if (err != MICA_OK || !usable(&s, now) ||
        client_age > (uint64_t)s.lifetime * 1000u + MICA_EARLY_WINDOW_MS) {
        mica_secret_wipe(&s.psk);
        return MICA_OK; /* unknown, altered or expired: a full handshake (4.2.11) */
    }
    h = mica_suite_by_id(s.suite)->hash;
    if (h != c->suite->hash) {
        return not_now(c, identity, &s); /* 4.2.11: the PSK's hash must be the suite's */
    }
    if (strcmp(s.sni, c->server_name) != 0) {
        /* a session authenticates the server for the name it was made for: a server with
         * certificates for several names does not lend one name's session to another
         * (RFC 8446 4.6.1 asks the same of clients) */
        return not_now(c, identity, &s);
    }
    /* 4.2.11.2: the binder is checked before the PSK is used; a wrong one is fatal */
    err = binder_for(c, h, &s.psk, msg, ch->psk.binders_offset, want);
    if (err == MICA_OK &&
        !MICA_VERIFIED(binder.n == h->len && mica_ct_eq(want, binder.p, h->len))) {
        err =
            mica_fail(c, MICA_E_DECRYPT_ERROR, "the PSK binder of the ClientHello does not verify");
    }
    mica_mem_wipe(want, sizeof(want));
    if (err != MICA_OK) {
        (void)not_now(c, identity, &s); /* whoever forged the binder does not burn it */
        return err;
    }
    c->proof |= MICA_PROOF_BINDER;
    mica_mem_free_secret(c->session);
    c->session = mica_mem_alloc(sizeof(*c->session));
    if (c->session == NULL) {
        mica_secret_wipe(&s.psk);
        return mica_fail(c, MICA_E_NOMEM, "%s", mica_err_sentence(MICA_E_NOMEM));
    }
    *c->session = s;
    c->session_auth_ms = s.auth_ms;
    c->resumed = true;
    c->psk_mode = (uint8_t)mode;
    /* for 0-RTT: within the window, and the ClientHello's identity for anti-replay (the
     * binder: an HMAC over the whole hello, so unique to it) */
    c->psk_fresh = (client_age > server_age ? client_age - server_age : server_age - client_age) <=
                   MICA_EARLY_WINDOW_MS;
    c->psk_stateful = identity.n == MICA_SESSION_ID_LEN;
    memcpy(c->binder_id, binder.p, sizeof(c->binder_id));
    mica_secret_wipe(&s.psk);
    return MICA_OK;
}

void mica_psk_defaults(mica_config *cfg)
{
    cfg->psk_modes[0] = MICA_PSK_DHE_KE;
    cfg->psk_modes_n = 1;
    cfg->tickets = 2;
    cfg->ticket_lifetime = TICKET_LIFETIME_DEFAULT;
    cfg->ticket_rotate = TICKET_ROTATE_DEFAULT;
}

mica_err mica_config_set_ticket_key(mica_config *cfg, const uint8_t *secret, size_t len,
                                    unsigned rotate_s)
{
    static const uint8_t salt[] = "mica ticket secret";
    MICA_SECRET(prk);
    mica_err err = MICA_OK;

    ENSURE(cfg != NULL && rotate_s >= 60 && rotate_s <= MICA_MAX_TICKET_LIFETIME, MICA_E_ARGUMENT);
    if (secret != NULL) {
        ENSURE(len >= 32 && len <= 1024, MICA_E_ARGUMENT);
        err = mica_hkdf_extract(&mica_hash_sha256, salt, sizeof(salt) - 1, secret, len, &prk);
        if (err == MICA_OK) {
            ENSURE(prk.len == sizeof(cfg->ticket_secret), MICA_E_INTERNAL);
            memcpy(cfg->ticket_secret, prk.b, sizeof(cfg->ticket_secret));
        }
        mica_secret_wipe(&prk);
    }
    if (err == MICA_OK) {
        cfg->ticket_rotate = rotate_s;
    }
    keys_forget(cfg); /* the kept keys belong to the old secret or period */
    return err;
}

mica_err mica_config_set_tickets(mica_config *cfg, unsigned count, unsigned lifetime_s)
{
    ENSURE(count <= 16 && lifetime_s > 0 && lifetime_s <= MICA_MAX_TICKET_LIFETIME,
           MICA_E_ARGUMENT);
    cfg->tickets = count;
    cfg->ticket_lifetime = lifetime_s;
    return MICA_OK;
}

void mica_config_set_session_cb(mica_config *cfg,
                                void (*cb)(void *ctx, const char *server_name,
                                           const uint8_t *session, size_t len),
                                void *ctx)
{
    cfg->session_cb = cb;
    cfg->session_ctx = ctx;
}

int mica_conn_resumed(const mica_conn *c)
{
    return c->resumed;
}
