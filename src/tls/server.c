/*
 * The server, RFC 8446 Appendix A.2:
 *
 *                              START <-----+
 *               Recv ClientHello |         | Send HelloRetryRequest
 *                                v         |
 *                             RECVD_CH ----+
 *                                | Select parameters
 *                                v
 *                             NEGOTIATED
 *                                | Send ServerHello
 *                                | K_send = handshake
 *                                | Send EncryptedExtensions
 *                                | [Send CertificateRequest]
 * Can send                       | [Send Certificate + CertificateVerify]
 * app data                       | Send Finished
 * after   -->                    | K_send = application
 * here                  +--------+--------+
 *              No 0-RTT |                 | 0-RTT
 *                       |                 |
 *   K_recv = handshake  |                 | K_recv = early data
 * [Skip decrypt errors] |    +------> WAIT_EOED -+
 *                       |    |       Recv |      | Recv EndOfEarlyData
 *                       |    | early data |      | K_recv = handshake
 *                       |    +------------+      |
 *                       |                        |
 *                       +> WAIT_FLIGHT2 <--------+
 *                                |
 *                       +--------+--------+
 *               No auth |                 | Client auth
 *                       |                 |
 *                       |                 v
 *                       |             WAIT_CERT
 *                       |        Recv |       | Recv Certificate
 *                       |       empty |       v
 *                       | Certificate |    WAIT_CV
 *                       |             |       | Recv
 *                       |             v       | CertificateVerify
 *                       +-> WAIT_FINISHED <---+
 *                                | Recv Finished
 *                                | K_recv = application
 *                                v
 *                            CONNECTED
 *
 * RECVD_CH and NEGOTIATED wait for no message: on_client_hello passes through them in one
 * step. WAIT_FLIGHT2 without client authentication is WAIT_FINISHED; WAIT_CERT and
 * WAIT_CV arrive with the certificates issue. In WAIT_EOED the client's accepted 0-RTT
 * data arrives under the early key (conn.c hands it to mica_conn_read_early).
 */
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

/* RFC 8446 4.1.3: HelloRetryRequest's random is SHA-256("HelloRetryRequest") */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static bool list_has(mica_rd list, uint16_t v)
{
    uint16_t x;

    while (mica_rd_u16(&list, &x) == MICA_OK) {
        if (x == v) {
            return true;
        }
    }
    return false;
}

static const struct mica_suite *choose_suite(const mica_conn *c, const struct mica_client_hello *ch)
{
    const mica_config *cfg = c->cfg;

    if (cfg->server_preference) {
        for (size_t i = 0; i < cfg->suites_n; i++) {
            if (list_has(ch->cipher_suites, cfg->suites[i])) {
                return mica_suite_by_id(cfg->suites[i]);
            }
        }
        return NULL;
    }
    {
        mica_rd r = ch->cipher_suites;
        uint16_t id;
        while (mica_rd_u16(&r, &id) == MICA_OK) {
            for (size_t i = 0; i < cfg->suites_n; i++) {
                if (cfg->suites[i] == id) {
                    return mica_suite_by_id(id);
                }
            }
        }
    }
    return NULL;
}

/* find_share: the client's key share for group, if it sent one */
static bool find_share(const struct mica_client_hello *ch, uint16_t group,
                       struct mica_key_share_entry *out)
{
    mica_rd r = ch->key_shares, key;
    uint16_t g;

    while (r.n > 0) {
        if (mica_rd_u16(&r, &g) != MICA_OK || mica_rd_vec16(&r, &key, 1, 0xffff) != MICA_OK) {
            return false;
        }
        if (g == group) {
            out->group = g;
            out->key = key;
            return true;
        }
    }
    return false;
}

/*
 * choose_group: by the server's preference, the first group the client supports and sent a
 * key share for; else (HRR) the first group the client supports. *share_found says which.
 */
static const struct mica_group *choose_group(const mica_conn *c, const struct mica_client_hello *ch,
                                             struct mica_key_share_entry *share, bool *found)
{
    const mica_config *cfg = c->cfg;

    *found = false;
    for (size_t i = 0; i < cfg->groups_n; i++) {
        if (list_has(ch->groups, cfg->groups[i]) && find_share(ch, cfg->groups[i], share)) {
            *found = true;
            return mica_group_by_id(cfg->groups[i]);
        }
    }
    for (size_t i = 0; i < cfg->groups_n; i++) {
        if (list_has(ch->groups, cfg->groups[i])) {
            return mica_group_by_id(cfg->groups[i]);
        }
    }
    return NULL;
}

/* choose_cert: a chain that covers the SNI name (or the first chain) and a scheme both
 * sides accept for its key, by the server's signature preference */
static mica_err choose_cert(mica_conn *c, const struct mica_client_hello *ch)
{
    const mica_config *cfg = c->cfg;
    const char *name = c->server_name[0] != '\0' ? c->server_name : NULL;

    /* with one chain both passes would pick it: skip the name check (X509_check_host
     * decodes the names each time, 2 us) */
    for (int pass = cfg->chains_n > 1 ? 0 : 1; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->chains_n; i++) {
            const struct mica_chain *chain = cfg->chains[i];
            if (pass == 0 && (name == NULL || !mica_x509_chain_covers(chain, name))) {
                continue; /* first pass: only chains for the requested name */
            }
            for (size_t k = 0; k < cfg->sigs_n; k++) {
                const struct mica_sig_scheme *s = mica_sig_scheme_by_id(cfg->sigs[k]);
                if (s != NULL && s->handshake_ok && list_has(ch->sig_algs, s->id) &&
                    mica_sig_fits(s, chain->key)) {
                    c->chain = chain;
                    c->sig = s;
                    return MICA_OK;
                }
            }
        }
    }
    if (cfg->chains_n == 0) {
        return mica_fail(c, MICA_E_HANDSHAKE_FAILURE, "the server has no certificate configured");
    }
    return mica_fail(c, MICA_E_HANDSHAKE_FAILURE,
                     "no certificate of this server can be signed for with a signature "
                     "algorithm the client offers");
}

static mica_err choose_alpn(mica_conn *c, const struct mica_client_hello *ch)
{
    mica_rd ours = mica_rd_init(c->cfg->alpn, c->cfg->alpn_len), name;

    if ((ch->present & mica_ext_bit(MICA_EXT_ALPN)) == 0 || c->cfg->alpn_len == 0) {
        return MICA_OK;
    }
    while (ours.n > 0) {
        TRY(mica_rd_vec8(&ours, &name, 1, 255));
        if (mica_hs_name_in_list(ch->alpn, name.p, name.n)) {
            return mica_hs_set_alpn(c, name.p, name.n);
        }
    }
    /* RFC 7301 3.2: "the server MUST respond with a fatal no_application_protocol alert" */
    return mica_fail(c, MICA_E_NO_APPLICATION_PROTOCOL,
                     "the client offers no application protocol this server accepts");
}

/* psk_ke_offer: the ClientHello offers a PSK in the mode this server prefers, psk_ke
 * (4.2.9): then it may come without supported_groups and key_share (9.2), and the PSK is
 * tried before any group is chosen (no HelloRetryRequest for a key it will not use) */
static bool psk_ke_offer(const mica_conn *c, const struct mica_client_hello *ch)
{
    return (ch->present & mica_ext_bit(MICA_EXT_PRE_SHARED_KEY)) != 0 &&
           mica_psk_mode(c->cfg, ch->psk_modes) == MICA_PSK_KE;
}

/* the RFC 8446 4.1.2 and 9.2 rules a ClientHello must meet before negotiation */
static mica_err check_client_hello(mica_conn *c, const struct mica_client_hello *ch)
{
    if ((ch->present & mica_ext_bit(MICA_EXT_SUPPORTED_VERSIONS)) == 0 ||
        !list_has(ch->versions, 0x0304)) {
        /* 4.2.1: "If the 'supported_versions' extension in the ClientHello contains no
         * versions acceptable to the server, the server MUST abort the handshake with a
         * protocol_version alert"; without it the client speaks TLS 1.2 or older */
        return mica_fail(c, MICA_E_PROTOCOL_VERSION,
                         "the client offers only protocol version 0x%04x or older; mica "
                         "speaks TLS 1.3 only",
                         ch->legacy_version);
    }
    /* 4.1.2: legacy_compression_methods "MUST contain exactly one byte, set to zero" */
    if (ch->compression.n != 1 || ch->compression.p[0] != 0) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the ClientHello offers compression methods; TLS 1.3 has none");
    }
    /* 4.2.11: pre_shared_key "MUST be the last extension in the ClientHello" */
    if ((ch->present & mica_ext_bit(MICA_EXT_PRE_SHARED_KEY)) != 0 &&
        ch->last_ext != MICA_EXT_PRE_SHARED_KEY) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "pre_shared_key is not the last extension of the ClientHello");
    }
    /* 4.2.9: a PSK offer "MUST" come with psk_key_exchange_modes */
    if ((ch->present & mica_ext_bit(MICA_EXT_PRE_SHARED_KEY)) != 0 &&
        (ch->present & mica_ext_bit(MICA_EXT_PSK_KEY_EXCHANGE_MODES)) == 0) {
        return mica_fail(c, MICA_E_MISSING_EXTENSION,
                         "the ClientHello offers a PSK without psk_key_exchange_modes");
    }
    /* 9.2: certificate authentication needs signature_algorithms; (EC)DHE needs both
     * supported_groups and key_share */
    if ((ch->present & mica_ext_bit(MICA_EXT_SIGNATURE_ALGORITHMS)) == 0) {
        return mica_fail(c, MICA_E_MISSING_EXTENSION,
                         "the ClientHello has no signature_algorithms");
    }
    if (!psk_ke_offer(c, ch) && ((ch->present & mica_ext_bit(MICA_EXT_SUPPORTED_GROUPS)) == 0 ||
                                 (ch->present & mica_ext_bit(MICA_EXT_KEY_SHARE)) == 0)) {
        return mica_fail(c, MICA_E_MISSING_EXTENSION,
                         "the ClientHello lacks %s, needed for an (EC)DHE handshake",
                         (ch->present & mica_ext_bit(MICA_EXT_SUPPORTED_GROUPS)) == 0
                             ? "supported_groups"
                             : "key_share");
    }
    return MICA_OK;
}

/*
 * HelloRetryRequest cookies (RFC 8446 4.2.2), so a server can stay stateless across the
 * HRR: everything needed to continue is in the cookie, authenticated with the config's
 * key, and a fresh connection given the second ClientHello rebuilds the transcript from
 * it. Layout: version(1) suite(2) group(2) issued_ms(8) ccs_sent(1) hash_len(1)
 * Hash(ClientHello1) HMAC-SHA256(key, all before)(32).
 */
#define COOKIE_VERSION 1u
#define COOKIE_MAC_LEN 32u
#define COOKIE_LIFETIME_MS 60000u /* the second ClientHello follows within one round trip */

struct cookie {
    const struct mica_suite *suite;
    uint16_t group;
    bool ccs_sent;
    uint8_t hash[MICA_MAX_HASH_LEN];
    size_t hash_len;
};

static mica_err make_cookie(const mica_conn *c, const uint8_t *ch1_hash, uint8_t *out, size_t cap,
                            size_t *len)
{
    mica_wr w = mica_wr_init(out, cap);
    uint8_t *mac;
    size_t n;

    mica_wr_u8(&w, COOKIE_VERSION);
    mica_wr_u16(&w, c->suite->id);
    mica_wr_u16(&w, c->hrr_group);
    mica_wr_u64(&w, mica_clock_now(&c->cfg->clock));
    mica_wr_u8(&w, c->ccs_sent ? 1 : 0);
    mica_wr_u8(&w, c->suite->hash->len);
    mica_wr_bytes(&w, ch1_hash, c->suite->hash->len);
    n = w.len;
    mac = mica_wr_reserve(&w, COOKIE_MAC_LEN);
    ENSURE(mac != NULL, MICA_E_INTERNAL);
    TRY(mica_hmac(&mica_hash_sha256, c->cfg->cookie_key, sizeof(c->cfg->cookie_key), out, n, mac));
    return mica_wr_finish(&w, len);
}

static mica_err open_cookie(mica_conn *c, mica_rd r, struct cookie *ck)
{
    uint8_t mac[COOKIE_MAC_LEN];
    const uint8_t *start = r.p, *got;
    uint8_t version, ccs, hlen;
    uint16_t suite;
    uint64_t issued, now = mica_clock_now(&c->cfg->clock);
    size_t n;

    if (r.n < COOKIE_MAC_LEN) {
        return MICA_E_ILLEGAL_PARAMETER;
    }
    n = r.n - COOKIE_MAC_LEN;
    TRY(mica_hmac(&mica_hash_sha256, c->cfg->cookie_key, sizeof(c->cfg->cookie_key), start, n,
                  mac));
    TRY(mica_rd_skip(&r, n));
    TRY(mica_rd_bytes(&r, COOKIE_MAC_LEN, &got));
    ENSURE(MICA_VERIFIED(mica_ct_eq(mac, got, COOKIE_MAC_LEN)), MICA_E_ILLEGAL_PARAMETER);
    r = mica_rd_init(start, n);
    ENSURE(mica_rd_u8(&r, &version) == MICA_OK && version == COOKIE_VERSION &&
               mica_rd_u16(&r, &suite) == MICA_OK && mica_rd_u16(&r, &ck->group) == MICA_OK &&
               mica_rd_u64(&r, &issued) == MICA_OK && mica_rd_u8(&r, &ccs) == MICA_OK &&
               mica_rd_u8(&r, &hlen) == MICA_OK && hlen <= MICA_MAX_HASH_LEN &&
               mica_rd_copy(&r, ck->hash, hlen) == MICA_OK && mica_rd_end(&r) == MICA_OK,
           MICA_E_ILLEGAL_PARAMETER);
    ck->suite = mica_suite_by_id(suite);
    ck->ccs_sent = ccs != 0;
    ck->hash_len = hlen;
    ENSURE(ck->suite != NULL && ck->suite->hash->len == hlen, MICA_E_ILLEGAL_PARAMETER);
    /* fresh: at most COOKIE_LIFETIME_MS old, or up to 1 s ahead (clocks of the servers
     * of a stateless fleet differ a little) */
    ENSURE(issued <= now ? now - issued <= COOKIE_LIFETIME_MS : issued - now <= 1000u,
           MICA_E_ILLEGAL_PARAMETER);
    return MICA_OK;
}

/* the fields ServerHello and HelloRetryRequest share, up to and including
 * supported_versions; the caller adds its extensions and closes *ext and *msg */
static void write_hello_head(mica_wr *w, const uint8_t *random, mica_rd session_id, uint16_t suite,
                             size_t *msg, size_t *ext)
{
    size_t m;

    mica_msg_open(w, MICA_HS_SERVER_HELLO, msg);
    mica_wr_u16(w, 0x0303); /* RFC 8446 4.1.3: legacy_version */
    mica_wr_bytes(w, random, 32);
    mica_wr_open8(w, &m);
    mica_wr_bytes(w, session_id.p, session_id.n); /* 4.1.3: echoed */
    mica_wr_close(w, m);
    mica_wr_u16(w, suite);
    mica_wr_u8(w, 0); /* legacy_compression_method */
    mica_wr_open16(w, ext);
    mica_wr_u16(w, MICA_EXT_SUPPORTED_VERSIONS);
    mica_wr_u16(w, 2);
    mica_wr_u16(w, 0x0304);
}

/* build_hrr: the HelloRetryRequest for the chosen suite and group, with the cookie; the
 * same bytes again when a stateless server rebuilds its transcript */
static mica_err build_hrr(const mica_conn *c, mica_rd session_id, const uint8_t *cookie,
                          size_t cookie_len, uint8_t *buf, size_t cap, size_t *len)
{
    mica_wr w = mica_wr_init(buf, cap);
    size_t msg, m, ext;

    write_hello_head(&w, hrr_random, session_id, c->suite->id, &msg, &ext);
    mica_wr_u16(&w, MICA_EXT_KEY_SHARE);
    mica_wr_u16(&w, 2);
    mica_wr_u16(&w, c->hrr_group);
    mica_wr_u16(&w, MICA_EXT_COOKIE);
    mica_wr_open16(&w, &m);
    {
        size_t k;
        mica_wr_open16(&w, &k);
        mica_wr_bytes(&w, cookie, cookie_len);
        mica_wr_close(&w, k);
    }
    mica_wr_close(&w, m);
    mica_wr_close(&w, ext);
    mica_msg_close(&w, msg);
    return mica_wr_finish(&w, len);
}

static mica_err send_hello_retry_request(mica_conn *c, const struct mica_group *g,
                                         const uint8_t *ch_msg, size_t ch_len,
                                         const struct mica_client_hello *ch)
{
    uint8_t buf[512], cookie[128], ch1_hash[MICA_MAX_HASH_LEN];
    size_t len = 0, cookie_len = 0;

    c->hrr = true;
    c->hrr_group = g->id;
    /* D.4: the dummy CCS right after the first handshake message, when the client asked
     * for compatibility mode with a session id; the cookie records that it was sent */
    c->ccs_sent = c->ccs_sent || (ch->session_id.n > 0 && c->cfg->middlebox_compat);
    TRY(mica_transcript_add(&c->t, ch_msg, ch_len));
    TRY(mica_transcript_set_hash(&c->t, c->suite->hash));
    TRY(mica_transcript_hash(&c->t, ch1_hash));
    TRY(mica_transcript_hrr(&c->t));
    TRY(make_cookie(c, ch1_hash, cookie, sizeof(cookie), &cookie_len));
    TRY(build_hrr(c, ch->session_id, cookie, cookie_len, buf, sizeof(buf), &len));
    TRY(mica_conn_send_hs(c, buf, len));
    if (ch->session_id.n > 0 && c->cfg->middlebox_compat) {
        static const uint8_t one = 1;
        TRY(mica_conn_send(c, MICA_CT_CHANGE_CIPHER_SPEC, &one, 1));
    }
    return MICA_OK;
}

/*
 * after_cookie: a second ClientHello. Either this connection sent the HRR (then the cookie
 * must be the one it sent) or it is a fresh connection of a stateless server: then the
 * cookie restores the suite, the group and the transcript -- message_hash(ClientHello1)
 * and the HelloRetryRequest, rebuilt byte for byte.
 */
static mica_err after_cookie(mica_conn *c, const struct mica_client_hello *ch)
{
    struct cookie ck;
    uint8_t hrr[512], synthetic[MICA_HANDSHAKE_HEADER_LEN + MICA_MAX_HASH_LEN];
    size_t len = 0;

    if ((ch->present & mica_ext_bit(MICA_EXT_COOKIE)) == 0 || c->hrr) {
        /* RFC 8446 5: a CCS is allowed only "after the first ClientHello" */
        if (c->ccs_before_ch) {
            return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                             "the client sent a change_cipher_spec before its first ClientHello");
        }
    }
    if ((ch->present & mica_ext_bit(MICA_EXT_COOKIE)) == 0) {
        if (c->early_before_ch) {
            /* only a second ClientHello (with its cookie) may follow skipped 0-RTT data */
            return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                             "the peer sent application data before its first ClientHello");
        }
        if (c->hrr) {
            /* 4.2.2: the client "MUST copy the contents of the extension received in the
             * HelloRetryRequest into a cookie extension in the new ClientHello" */
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the second ClientHello does not echo the HelloRetryRequest's cookie");
        }
        return MICA_OK;
    }
    if (open_cookie(c, ch->cookie, &ck) != MICA_OK) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the ClientHello's cookie was not issued by this server, was altered "
                         "or has expired");
    }
    if (c->hrr) {
        return ck.group == c->hrr_group && ck.suite == c->suite
                   ? MICA_OK
                   : mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                               "the cookie does not belong to this connection's retry");
    }
    /* stateless: continue where the connection that sent the HRR stopped */
    c->suite = ck.suite;
    c->hrr = true;
    c->hrr_group = ck.group;
    c->ccs_sent = ck.ccs_sent;
    synthetic[0] = MICA_HS_MESSAGE_HASH;
    synthetic[1] = 0;
    synthetic[2] = 0;
    synthetic[3] = (uint8_t)ck.hash_len;
    memcpy(synthetic + MICA_HANDSHAKE_HEADER_LEN, ck.hash, ck.hash_len);
    TRY(build_hrr(c, ch->session_id, ch->cookie.p, ch->cookie.n, hrr, sizeof(hrr), &len));
    TRY(mica_transcript_set_hash(&c->t, c->suite->hash));
    TRY(mica_transcript_add(&c->t, synthetic, MICA_HANDSHAKE_HEADER_LEN + ck.hash_len));
    return mica_transcript_add(&c->t, hrr, len);
}

static mica_err send_server_hello(mica_conn *c, const struct mica_client_hello *ch,
                                  const uint8_t *share, size_t share_len)
{
    uint8_t buf[MICA_MAX_KX_PUBLIC_LEN + 256], random[32];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t msg, m, ext, len;

    TRY(mica_rand(random, sizeof(random)));
    write_hello_head(&w, random, ch->session_id, c->suite->id, &msg, &ext);
    if (c->group != NULL) {
        size_t k;
        mica_wr_u16(&w, MICA_EXT_KEY_SHARE);
        mica_wr_open16(&w, &m);
        mica_wr_u16(&w, c->group->id);
        mica_wr_open16(&w, &k);
        mica_wr_bytes(&w, share, share_len);
        mica_wr_close(&w, k);
        mica_wr_close(&w, m);
    }
    if (c->resumed) {
        /* 4.2.11: selected_identity, the first (and only) PSK mica accepts */
        mica_wr_u16(&w, MICA_EXT_PRE_SHARED_KEY);
        mica_wr_u16(&w, 2);
        mica_wr_u16(&w, 0);
    }
    mica_wr_close(&w, ext);
    mica_msg_close(&w, msg);
    TRY(mica_wr_finish(&w, &len));
    return mica_conn_send_hs(c, buf, len);
}

static mica_err send_encrypted_extensions(mica_conn *c, const struct mica_client_hello *ch)
{
    uint8_t buf[512];
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t msg, ext, m, len;

    mica_msg_open(&w, MICA_HS_ENCRYPTED_EXTENSIONS, &msg);
    mica_wr_open16(&w, &ext);
    if (c->server_name[0] != '\0') {
        /* RFC 6066 3: the server that used the name answers with an empty server_name */
        mica_wr_u16(&w, MICA_EXT_SERVER_NAME);
        mica_wr_u16(&w, 0);
    }
    if (c->alpn != NULL) {
        size_t list;
        mica_wr_u16(&w, MICA_EXT_ALPN);
        mica_wr_open16(&w, &m);
        mica_wr_open16(&w, &list);
        mica_wr_open8(&w, &len);
        mica_wr_bytes(&w, (const uint8_t *)c->alpn, strlen(c->alpn));
        mica_wr_close(&w, len);
        mica_wr_close(&w, list);
        mica_wr_close(&w, m);
    }
    if (c->early == MICA_EARLY_ACCEPTED) {
        /* 4.2.10: an empty early_data says the 0-RTT data is accepted */
        mica_wr_u16(&w, MICA_EXT_EARLY_DATA);
        mica_wr_u16(&w, 0);
    }
    if ((ch->present & mica_ext_bit(MICA_EXT_RECORD_SIZE_LIMIT)) != 0) {
        /* RFC 8449 4: answer with our own limit (2^14 + 1 when we set none) */
        mica_wr_u16(&w, MICA_EXT_RECORD_SIZE_LIMIT);
        mica_wr_u16(&w, 2);
        mica_wr_u16(&w, (uint16_t)(c->cfg->record_size_limit != 0 ? c->cfg->record_size_limit
                                                                  : MICA_MAX_PLAINTEXT + 1));
    }
    mica_wr_close(&w, ext);
    mica_msg_close(&w, msg);
    TRY(mica_wr_finish(&w, &len));
    return mica_conn_send_hs(c, buf, len);
}

/* the server's Certificate: its chain, with the OCSP staple in the leaf's entry when the
 * client asked (RFC 8446 4.4.2.1; the staple is for the first configured chain) */
static mica_err send_certificate(mica_conn *c)
{
    uint8_t *staple = NULL;
    size_t staple_len = 0;
    mica_err err;

    if (c->ocsp_requested && c->cfg->staple != NULL && c->chain == c->cfg->chains[0]) {
        TRY(mica_staple_get(c->cfg->staple, &staple, &staple_len));
    }
    err = mica_hs_send_certificate(c, c->chain, NULL, 0, staple, staple_len);
    mica_mem_free(staple);
    return err;
}

/* 4.3.2: CertificateRequest in the handshake: an empty context */
static mica_err send_certificate_request(mica_conn *c)
{
    TRY(mica_hs_send_certificate_request(c, NULL, 0));
    c->cert_requested = true;
    return MICA_OK;
}

/* after the ClientHello is accepted: keys, and the server's whole first flight */
static mica_err negotiate(mica_conn *c, const struct mica_client_hello *ch,
                          const struct mica_key_share_entry *share)
{
    uint8_t pub[MICA_MAX_KX_PUBLIC_LEN];
    size_t pub_len = 0;
    mica_err err;
    MICA_KX_SHARED(shared);

    /* the key log names each secret by the ClientHello's random (after an HRR the same:
     * RFC 8446 4.1.2) */
    memcpy(c->client_random, ch->random, sizeof(c->client_random));
    if (c->resumed && c->psk_mode == MICA_PSK_KE) {
        c->group = NULL; /* 4.2.9 psk_ke: no key exchange, no key_share in the ServerHello */
    } else {
        err = mica_kx_encap(c->group, share->key.p, share->key.n, pub, sizeof(pub), &pub_len,
                            &shared);
        if (err != MICA_OK) {
            return mica_fail(c, err, "the client's %s key share is invalid: %s", c->group->name,
                             mica_err_sentence(err));
        }
    }
    TRY(send_server_hello(c, ch, pub, pub_len));
    if (!c->hrr && ch->session_id.n > 0) {
        TRY(mica_conn_send_ccs(c)); /* D.4 */
    }
    TRY(mica_hs_handshake_secrets(c, c->group != NULL ? &shared : NULL));
    TRY(mica_conn_set_write_key(c, &c->s_hs, MICA_EPOCH_HANDSHAKE));
    /* A.2: K_recv = early data with 0-RTT, else handshake */
    if (c->early == MICA_EARLY_ACCEPTED) {
        TRY(mica_conn_set_early_key(c, false));
    } else {
        TRY(mica_conn_set_read_key(c, &c->c_hs, MICA_EPOCH_HANDSHAKE));
    }
    TRY(send_encrypted_extensions(c, ch));
    if (!c->resumed) { /* 2.2: a resumed handshake is authenticated by the PSK */
        /* 4.3.2: "Servers which are authenticating with a PSK MUST NOT send the
         * CertificateRequest message in the main handshake" */
        if (c->cfg->client_auth != MICA_CLIENT_AUTH_NONE) {
            TRY(send_certificate_request(c));
        }
        TRY(send_certificate(c));
        TRY(mica_hs_send_certificate_verify(c, c->chain, c->sig));
    }
    TRY(mica_hs_send_finished(c, &c->s_hs));
    TRY(mica_hs_app_secrets(c));
    return mica_conn_set_write_key(c, &c->s_ap, MICA_EPOCH_APPLICATION);
}

/* keep_server_name: the SNI host name, which must be one (RFC 6066 3: "HostName" is a DNS
 * name in ASCII): a NUL or control byte would cut or disguise it in every later use */
static mica_err keep_server_name(mica_conn *c, mica_rd name)
{
    mica_rd r = name;
    uint8_t b = 0;

    while (mica_rd_u8(&r, &b) == MICA_OK) {
        if (b <= 0x20 || b >= 0x7f) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the client's server_name is not a host name (it holds byte 0x%02x)",
                             b);
        }
    }
    memcpy(c->server_name, name.p, name.n);
    c->server_name[name.n] = '\0';
    return MICA_OK;
}

/* the state that waits for the client's second flight (Appendix A.2 WAIT_FLIGHT2) */
static enum mica_state flight2(const mica_conn *c)
{
    return c->cert_requested ? S_WAIT_CERT : S_WAIT_FLIGHT2;
}

/* the (EC)DHE group: one with the client's share, else (*found false: an HRR) one the
 * client supports */
static mica_err choose_key_exchange(mica_conn *c, const struct mica_client_hello *ch,
                                    struct mica_key_share_entry *share, bool *found)
{
    if ((ch->present & mica_ext_bit(MICA_EXT_SUPPORTED_GROUPS)) == 0 ||
        (ch->present & mica_ext_bit(MICA_EXT_KEY_SHARE)) == 0) {
        /* 9.2: only a psk_ke resumption does without them, and this is none */
        return mica_fail(c, MICA_E_MISSING_EXTENSION,
                         "the ClientHello lacks %s, needed for an (EC)DHE handshake",
                         (ch->present & mica_ext_bit(MICA_EXT_SUPPORTED_GROUPS)) == 0
                             ? "supported_groups"
                             : "key_share");
    }
    c->group = choose_group(c, ch, share, found);
    if (c->group == NULL) {
        return mica_fail(c, MICA_E_HANDSHAKE_FAILURE,
                         "the client supports no key exchange group this server accepts");
    }
    if (c->hrr && (!*found || c->group->id != c->hrr_group)) {
        /* 4.1.2: the second ClientHello must answer the HRR with the group it asked for */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the second ClientHello does not share the group the "
                         "HelloRetryRequest asked for");
    }
    return MICA_OK;
}

static mica_err on_client_hello(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                enum mica_state *next)
{
    struct mica_client_hello ch;
    struct mica_key_share_entry share = {0};
    const struct mica_suite *suite;
    bool found = false;
    mica_err err;

    (void)type;
    c->ch_seen = true;
    err = mica_msg_decode_client_hello(msg, len, &ch);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the client sent a malformed ClientHello");
    }
    TRY(check_client_hello(c, &ch));
    /* RFC 8446 4.1.2/5: the dummy CCS may come once the first ClientHello is in */
    c->ccs_ok = true;
    TRY(after_cookie(c, &ch));
    suite = choose_suite(c, &ch);
    if (suite == NULL) {
        return mica_fail(c, MICA_E_HANDSHAKE_FAILURE,
                         "the client offers no cipher suite this server accepts");
    }
    if (c->hrr && suite != c->suite) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the second ClientHello changed the cipher suite choice");
    }
    c->suite = suite;
    if ((ch.present & mica_ext_bit(MICA_EXT_SERVER_NAME)) != 0 && ch.server_name.n > 0) {
        TRY(keep_server_name(c, ch.server_name));
    }
    /* 4.2.11: the PSK is checked (binder included) before anything else depends on it;
     * a psk_ke resumption needs no group at all */
    if (psk_ke_offer(c, &ch)) {
        TRY(mica_psk_accept(c, &ch, msg, len));
    }
    if (!c->resumed || c->psk_mode != MICA_PSK_KE) {
        TRY(choose_key_exchange(c, &ch, &share, &found));
        if (!found) {
            TRY(mica_psk_decide_early(c, &ch, true));
            *next = S_START;
            return send_hello_retry_request(c, c->group, msg, len, &ch);
        }
        if (!psk_ke_offer(c, &ch)) {
            TRY(mica_psk_accept(c, &ch, msg, len));
        }
    }
    if (!c->resumed) {
        TRY(choose_cert(c, &ch));
    }
    TRY(choose_alpn(c, &ch));
    TRY(mica_psk_decide_early(c, &ch, false));
    c->ocsp_requested =
        (ch.present & mica_ext_bit(MICA_EXT_STATUS_REQUEST)) != 0 && ch.status_request;
    c->pha_offered = (ch.present & mica_ext_bit(MICA_EXT_POST_HANDSHAKE_AUTH)) != 0;
    if ((ch.present & mica_ext_bit(MICA_EXT_RECORD_SIZE_LIMIT)) != 0) {
        c->peer_record_limit = ch.record_size_limit;
        /* RFC 8449 4: we answer with our limit; the client's protected records must keep
         * to it ("MUST ... record_overflow" beyond) -- from its handshake records on: its
         * 0-RTT records were sealed before it could know our limit */
        if (c->cfg->record_size_limit != 0 && c->early != MICA_EARLY_ACCEPTED) {
            TRY(mica_rec_set_limit(&c->rd, c->cfg->record_size_limit));
        }
    }
    if (!c->hrr) {
        TRY(mica_transcript_set_hash(&c->t, c->suite->hash));
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    if (c->early == MICA_EARLY_ACCEPTED) {
        TRY(mica_hs_early_secrets(c, c->suite)); /* over the ClientHello alone */
    }
    TRY(negotiate(c, &ch, &share));
    /* Appendix A.2: with 0-RTT the early data and EndOfEarlyData come first, then the
     * client's second flight: its Certificate when one was requested */
    *next = c->early == MICA_EARLY_ACCEPTED ? S_WAIT_EOED : flight2(c);
    return MICA_OK;
}

static mica_err on_end_of_early_data(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                     enum mica_state *next)
{
    (void)type;
    /* 4.5: struct {} EndOfEarlyData */
    if (len != MICA_HANDSHAKE_HEADER_LEN) {
        return mica_fail(c, MICA_E_DECODE, "the client's EndOfEarlyData is not empty");
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    c->early_done = true;
    TRY(mica_conn_set_read_key(c, &c->c_hs, MICA_EPOCH_HANDSHAKE));
    if (c->peer_record_limit != 0 && c->cfg->record_size_limit != 0) {
        TRY(mica_rec_set_limit(&c->rd, c->cfg->record_size_limit)); /* RFC 8449, see above */
    }
    mica_secret_wipe(&c->c_early);
    *next = flight2(c);
    return MICA_OK;
}

/* the client's Certificate (4.4.2): empty, or a chain verified for clientAuth */
static mica_err on_client_certificate(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                      enum mica_state *next)
{
    struct mica_certificate cert;
    mica_err err;

    (void)type;
    err = mica_msg_decode_certificate(msg + MICA_HANDSHAKE_HEADER_LEN,
                                      len - MICA_HANDSHAKE_HEADER_LEN, &cert);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the client sent a malformed Certificate");
    }
    /* 4.4.2: the context echoes the CertificateRequest's, empty in the handshake */
    if (cert.context.n != 0) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the client's Certificate has a request context the server never sent");
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    if (cert.entries_n == 0) {
        /* 4.4.2.4: with none, "the server MAY at its discretion either continue ... or abort
         * the handshake with a "certificate_required" alert" */
        if (c->cfg->client_auth == MICA_CLIENT_AUTH_REQUIRE) {
            return mica_fail(c, MICA_E_CERTIFICATE_REQUIRED,
                             "the client sent no certificate, and this server requires one");
        }
        mica_hs_set_verify_error(c, "the client sent no certificate");
        *next = S_WAIT_FINISHED;
        return MICA_OK;
    }
    err = mica_hs_keep_peer_chain(c, &cert);
    if (err != MICA_OK) {
        return mica_fail(c, err, "cannot keep the client's chain of %zu certificates: %s",
                         cert.entries_n, mica_err_sentence(err));
    }
    err = mica_hs_verify_chain(c, NULL, 0);
    if (err != MICA_OK && c->cfg->client_auth == MICA_CLIENT_AUTH_REQUIRE) {
        return mica_fail(c, err, "the client's certificate is not valid: %s",
                         mica_hs_verify_text(c));
    }
    /* optional: an unverified certificate is the application's to judge
     * (mica_conn_verified, mica_conn_verify_error); its signature is still checked */
    c->proof |= MICA_PROOF_CERT;
    *next = S_WAIT_CV;
    return MICA_OK;
}

static mica_err on_client_certificate_verify(mica_conn *c, uint8_t type, const uint8_t *msg,
                                             size_t len, enum mica_state *next)
{
    (void)type;
    TRY(mica_hs_verify_certificate_verify(c, msg, len));
    *next = S_WAIT_FINISHED;
    return MICA_OK;
}

static mica_err on_finished(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                            enum mica_state *next)
{
    (void)type;
    TRY(mica_hs_verify_finished(c, &c->c_hs, msg, len));
    c->ccs_ok = false;
    TRY(mica_conn_set_read_key(c, &c->c_ap, MICA_EPOCH_APPLICATION));
    TRY(mica_hs_complete(c)); /* the tickets, then the key schedule is closed */
    *next = MICA_ST_CONNECTED;
    return MICA_OK;
}

static mica_err on_post_handshake(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                  enum mica_state *next)
{
    *next = MICA_ST_CONNECTED;
    if (type != MICA_HS_KEY_UPDATE) {
        return mica_pha_on_message(c, type, msg, len); /* 4.6.2 */
    }
    return mica_conn_on_key_update(c, msg + MICA_HANDSHAKE_HEADER_LEN,
                                   len - MICA_HANDSHAKE_HEADER_LEN);
}

/* RFC 8446 Appendix A.2 as a table; see fsm.c for how it is used */
const struct mica_fsm_row mica_server_fsm[] = {
    /* state          message received       handler            may go to */
    {S_START, MICA_HS_CLIENT_HELLO, on_client_hello,
     MICA_S(S_START) | MICA_S(S_WAIT_EOED) | MICA_S(S_WAIT_FLIGHT2) | MICA_S(S_WAIT_CERT)},
    {S_WAIT_EOED, MICA_HS_END_OF_EARLY_DATA, on_end_of_early_data,
     MICA_S(S_WAIT_FLIGHT2) | MICA_S(S_WAIT_CERT)},
    {S_WAIT_FLIGHT2, MICA_HS_FINISHED, on_finished, MICA_S(MICA_ST_CONNECTED)},
    {S_WAIT_CERT, MICA_HS_CERTIFICATE, on_client_certificate,
     MICA_S(S_WAIT_CV) | MICA_S(S_WAIT_FINISHED)},
    {S_WAIT_CV, MICA_HS_CERTIFICATE_VERIFY, on_client_certificate_verify, MICA_S(S_WAIT_FINISHED)},
    {S_WAIT_FINISHED, MICA_HS_FINISHED, on_finished, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_KEY_UPDATE, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_CERTIFICATE, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_CERTIFICATE_VERIFY, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_FINISHED, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_NONE, 0, NULL, 0},
};
