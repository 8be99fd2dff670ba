/*
 * The client, RFC 8446 Appendix A.1:
 *
 *                               START <----+
 *                Send ClientHello |        | Recv HelloRetryRequest
 *           [K_send = early data] |        |
 *                                 v        |
 *            /                 WAIT_SH ----+
 *            |                    | Recv ServerHello
 *            |                    | K_recv = handshake
 *        Can |                    V
 *       send |                 WAIT_EE
 *      early |                    | Recv EncryptedExtensions
 *       data |           +--------+--------+
 *            |     Using |                 | Using certificate
 *            |       PSK |                 v
 *            |           |            WAIT_CERT_CR
 *            |           |        Recv |       | Recv CertificateRequest
 *            |           | Certificate |       v
 *            |           |             |    WAIT_CERT
 *            |           |             |       | Recv Certificate
 *            |           |             v       v
 *            |           |              WAIT_CV
 *            |           |                 | Recv CertificateVerify
 *            |           +> WAIT_FINISHED <+
 *            |                  | Recv Finished
 *            \                  | [Send EndOfEarlyData]
 *                               | K_send = handshake
 *                               | [Send Certificate [+ CertificateVerify]]
 *     Can send                  | Send Finished
 *     app data   -->            | K_send = K_recv = application
 *     after here                v
 *                           CONNECTED
 *
 * START is left at once (mica_client_start sends the ClientHello), so the table begins
 * at WAIT_SH. The PSK branch arrives with the resumption issue.
 */
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

/* RFC 8446 4.1.3: the last eight bytes of ServerHello.random from a TLS 1.3 server that
 * negotiated TLS 1.2 or below */
static const uint8_t downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t downgrade_tls11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

static bool is_ip_literal(const char *name)
{
    /* RFC 6066 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName" */
    bool dots_digits = name[0] != '\0';

    for (const char *p = name; *p != '\0'; p++) {
        if (*p == ':') {
            return true;
        }
        if ((*p < '0' || *p > '9') && *p != '.') {
            dots_digits = false;
        }
    }
    return dots_digits;
}

/* RFC 8701: GREASE values are 0x?A?A for cipher suites, groups, extensions, versions and
 * signature algorithms */
static uint16_t grease_value(uint8_t r)
{
    uint8_t v = (uint8_t)((r & 0xf0u) | 0x0au);

    return (uint16_t)(v << 8 | v);
}

static void ext_start(mica_conn *c, mica_wr *w, uint16_t type, size_t *mark)
{
    c->offered |= mica_ext_bit(type);
    mica_wr_u16(w, type);
    mica_wr_open16(w, mark);
}

/* a u16 list with an optional GREASE value first */
static void write_u16_list(mica_wr *w, const uint16_t *v, size_t n, uint16_t grease)
{
    size_t mark;

    mica_wr_open16(w, &mark);
    if (grease != 0) {
        mica_wr_u16(w, grease);
    }
    for (size_t i = 0; i < n; i++) {
        mica_wr_u16(w, v[i]);
    }
    mica_wr_close(w, mark);
}

/* ext_label: an extension's RFC name, for sentences */
static const char *ext_label(uint16_t type)
{
    const struct mica_ext_row *row = mica_ext_find(type);

    return row != NULL ? row->name : "of a type mica does not know";
}

static mica_err write_key_shares(mica_conn *c, mica_wr *w)
{
    size_t ext, list;

    ext_start(c, w, MICA_EXT_KEY_SHARE, &ext);
    mica_wr_open16(w, &list);
    if (c->cfg->grease && c->hrr_group == 0) {
        /* a GREASE share of one zero byte (RFC 8701 3); not after an HRR, which names
         * the one group the second ClientHello must share */
        mica_wr_u16(w, c->grease[1]);
        mica_wr_u16(w, 1);
        mica_wr_u8(w, 0);
    }
    for (size_t i = 0; i < MICA_MAX_KEY_SHARES; i++) {
        const struct mica_group *g;
        uint8_t *pub;
        size_t mark, len = 0;
        if (c->shares[i] == NULL) {
            continue;
        }
        g = mica_kx_group(c->shares[i]);
        mica_wr_u16(w, g->id);
        mica_wr_open16(w, &mark);
        pub = mica_wr_reserve(w, g->client_share_len);
        ENSURE(pub != NULL, MICA_E_INTERNAL);
        TRY(mica_kx_public(c->shares[i], pub, g->client_share_len, &len));
        mica_wr_close(w, mark);
    }
    mica_wr_close(w, list);
    mica_wr_close(w, ext);
    return MICA_OK;
}

static void write_extensions(mica_conn *c, mica_wr *w)
{
    const mica_config *cfg = c->cfg;
    static const uint16_t tls13 = 0x0304;
    size_t ext, m;

    if (cfg->grease) {
        mica_wr_u16(w, c->grease[2]); /* an empty GREASE extension first */
        mica_wr_u16(w, 0);
    }
    if (c->server_name[0] != '\0' && !is_ip_literal(c->server_name)) {
        /* RFC 6066 3: ServerNameList with one host_name(0) */
        size_t list;
        ext_start(c, w, MICA_EXT_SERVER_NAME, &ext);
        mica_wr_open16(w, &list);
        mica_wr_u8(w, 0);
        mica_wr_open16(w, &m);
        mica_wr_bytes(w, (const uint8_t *)c->server_name, strlen(c->server_name));
        mica_wr_close(w, m);
        mica_wr_close(w, list);
        mica_wr_close(w, ext);
    }
    ext_start(c, w, MICA_EXT_SUPPORTED_GROUPS, &ext);
    write_u16_list(w, cfg->groups, cfg->groups_n, cfg->grease ? c->grease[1] : 0);
    mica_wr_close(w, ext);
    ext_start(c, w, MICA_EXT_SIGNATURE_ALGORITHMS, &ext);
    write_u16_list(w, cfg->sigs, cfg->sigs_n, 0);
    mica_wr_close(w, ext);
    ext_start(c, w, MICA_EXT_SUPPORTED_VERSIONS, &ext);
    mica_wr_open8(w, &m);
    if (cfg->grease) {
        mica_wr_u16(w, c->grease[3]);
    }
    mica_wr_u16(w, tls13);
    mica_wr_close(w, m);
    mica_wr_close(w, ext);
    if (c->cookie_len > 0) {
        /* RFC 8446 4.2.2: the cookie of the HelloRetryRequest, echoed */
        ext_start(c, w, MICA_EXT_COOKIE, &ext);
        mica_wr_open16(w, &m);
        mica_wr_bytes(w, c->cookie, c->cookie_len);
        mica_wr_close(w, m);
        mica_wr_close(w, ext);
    }
    if (cfg->chains_n > 0) {
        /* 4.2.6: we have a certificate, so the server may ask for it after the handshake */
        ext_start(c, w, MICA_EXT_POST_HANDSHAKE_AUTH, &ext);
        mica_wr_close(w, ext);
        c->pha_offered = true;
    }
    if (cfg->ocsp != MICA_OCSP_OFF) {
        /* RFC 6066 8: status_request for OCSP, no responder ids, no request extensions */
        ext_start(c, w, MICA_EXT_STATUS_REQUEST, &ext);
        mica_wr_u8(w, 1);
        mica_wr_u16(w, 0);
        mica_wr_u16(w, 0);
        mica_wr_close(w, ext);
    }
    if (cfg->alpn_len > 0) {
        ext_start(c, w, MICA_EXT_ALPN, &ext);
        mica_wr_open16(w, &m);
        mica_wr_bytes(w, cfg->alpn, cfg->alpn_len);
        mica_wr_close(w, m);
        mica_wr_close(w, ext);
    }
    if (cfg->record_size_limit != 0) {
        ext_start(c, w, MICA_EXT_RECORD_SIZE_LIMIT, &ext);
        mica_wr_u16(w, (uint16_t)cfg->record_size_limit);
        mica_wr_close(w, ext);
    }
}

/* send_client_hello: the first ClientHello, or the second after an HRR */
static mica_err send_client_hello(mica_conn *c)
{
    const mica_config *cfg = c->cfg;
    /* room for everything but the cookie, which may be up to 2^16 - 1 bytes (4.2.2) */
    size_t cap = 4096 + c->cookie_len, msg, m, ext, len;
    uint8_t *buf = mica_mem_alloc(cap);
    mica_wr w = mica_wr_init(buf, cap);
    mica_err err;

    ENSURE(buf != NULL, MICA_E_NOMEM);

    c->offered = 0;
    mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &msg);
    mica_wr_u16(&w, 0x0303); /* RFC 8446 4.1.2: legacy_version = 0x0303 */
    mica_wr_bytes(&w, c->client_random, 32);
    mica_wr_open8(&w, &m);
    mica_wr_bytes(&w, c->session_id, c->session_id_len);
    mica_wr_close(&w, m);
    write_u16_list(&w, cfg->suites, cfg->suites_n, cfg->grease ? c->grease[0] : 0);
    mica_wr_u8(&w, 1); /* legacy_compression_methods: null only */
    mica_wr_u8(&w, 0);
    mica_wr_open16(&w, &ext);
    write_extensions(c, &w);
    err = write_key_shares(c, &w);
    if (err != MICA_OK) {
        mica_mem_free(buf);
        return err;
    }
    if (cfg->grease) {
        mica_wr_u16(&w, (uint16_t)(c->grease[2] ^ 0x1010u)); /* a second, non-empty one */
        mica_wr_u16(&w, 1);
        mica_wr_u8(&w, 0);
    }
    mica_psk_write_offer(c, &w); /* 4.2.11: pre_shared_key comes last */
    mica_wr_close(&w, ext);
    mica_msg_close(&w, msg);
    err = mica_wr_finish(&w, &len);
    if (err == MICA_OK) {
        err = mica_psk_fill_binder(c, buf, len);
    }
    if (err == MICA_OK) {
        err = mica_conn_send_hs(c, buf, len);
    }
    mica_mem_free(buf);
    return err;
}

mica_err mica_client_start(mica_conn *c)
{
    const mica_config *cfg = c->cfg;
    uint8_t r[4];
    const struct mica_group *g = mica_group_by_id(cfg->groups[0]);

    ENSURE(cfg->suites_n > 0 && cfg->groups_n > 0 && g != NULL, MICA_E_ARGUMENT);
    TRY(mica_rand(c->client_random, sizeof(c->client_random)));
    if (cfg->middlebox_compat) {
        /* RFC 8446 D.4: "the client MUST send a non-empty session ID" in compatibility mode */
        c->session_id_len = 32;
        TRY(mica_rand(c->session_id, c->session_id_len));
    }
    TRY(mica_rand(r, sizeof(r)));
    for (size_t i = 0; i < 4; i++) {
        c->grease[i] = grease_value(r[i]);
    }
    if (c->grease[2] == (uint16_t)(c->grease[2] ^ 0x1010u)) {
        c->grease[2] = 0x0a0a;
    }
    /* key shares (RFC 8446 4.2.8 allows a partial set): the first group's, and when that is
     * a post-quantum hybrid, also its classical group's if configured -- so a server
     * without ML-KEM still answers in one round trip (issue 7: X25519MLKEM768 + x25519) */
    {
        uint8_t pub[MICA_MAX_KX_PUBLIC_LEN];
        size_t len = 0;
        TRY(mica_kx_keygen(g, &c->shares[0], pub, sizeof(pub), &len));
        if (g->classic != NULL) {
            for (size_t i = 1; i < cfg->groups_n; i++) {
                if (cfg->groups[i] == g->classic->id) {
                    TRY(mica_kx_keygen(g->classic, &c->shares[1], pub, sizeof(pub), &len));
                    break;
                }
            }
        }
    }
    TRY(send_client_hello(c));
    if (c->early_offered) {
        /* D.4: with early data the dummy CCS comes right after the first ClientHello;
         * then K_send = early data (Appendix A.1) with the session's suite */
        TRY(mica_conn_send_ccs(c));
        TRY(mica_hs_early_secrets(c, c->early_suite));
        TRY(mica_conn_set_early_key(c, true));
        mica_trace_early(c, true, "offered", NULL, c->early_max);
    }
    c->ccs_ok = true;     /* a dummy CCS may come from now until the server's Finished */
    c->state = C_WAIT_SH; /* START is left at once; the dispatcher owns every later move */
    return MICA_OK;
}

static bool offered_suite(const mica_conn *c, uint16_t id)
{
    for (size_t i = 0; i < c->cfg->suites_n; i++) {
        if (c->cfg->suites[i] == id) {
            return true;
        }
    }
    return false;
}

static bool offered_group(const mica_conn *c, uint16_t id)
{
    for (size_t i = 0; i < c->cfg->groups_n; i++) {
        if (c->cfg->groups[i] == id) {
            return true;
        }
    }
    return false;
}

static mica_kx_key *share_for(mica_conn *c, uint16_t group)
{
    for (size_t i = 0; i < MICA_MAX_KEY_SHARES; i++) {
        if (c->shares[i] != NULL && mica_kx_group(c->shares[i])->id == group) {
            return c->shares[i];
        }
    }
    return NULL;
}

static void free_shares(mica_conn *c)
{
    for (size_t i = 0; i < MICA_MAX_KEY_SHARES; i++) {
        mica_kx_free(c->shares[i]);
        c->shares[i] = NULL;
    }
}

/* checks common to ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4) */
static mica_err check_server_hello(mica_conn *c, const struct mica_server_hello *sh)
{
    uint16_t which = 0;

    if ((sh->present & mica_ext_bit(MICA_EXT_SUPPORTED_VERSIONS)) == 0) {
        /* 4.1.3: a TLS 1.3 server negotiating an older version sets a sentinel; seeing it
         * "MUST abort the handshake with an illegal_parameter alert" */
        if (mica_ct_eq(sh->random + 24, downgrade_tls12, 8) ||
            mica_ct_eq(sh->random + 24, downgrade_tls11, 8)) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the server's random carries the TLS 1.3 downgrade sentinel: "
                             "something between us forced an older protocol version");
        }
        return mica_fail(c, MICA_E_PROTOCOL_VERSION,
                         "the server chose protocol version 0x%04x; mica speaks TLS 1.3 only",
                         sh->legacy_version);
    }
    /* 4.2.1: "selected_version ... If this value is not one the client offered, the
     * client MUST abort with illegal_parameter"; 4.1.3: legacy_version must be 0x0303 */
    if (sh->version != 0x0304) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server selected version 0x%04x, which was not offered", sh->version);
    }
    if (sh->legacy_version != 0x0303) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the ServerHello's legacy_version is 0x%04x; TLS 1.3 requires 0x0303",
                         sh->legacy_version);
    }
    /* 4.1.3: "A client which receives a legacy_session_id_echo field that does not match
     * what it sent in the ClientHello MUST abort the handshake with an illegal_parameter" */
    if (sh->session_id_echo.n != c->session_id_len ||
        (c->session_id_len > 0 &&
         !mica_ct_eq(sh->session_id_echo.p, c->session_id, c->session_id_len))) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server's legacy_session_id_echo differs from our session id");
    }
    if (!offered_suite(c, sh->cipher_suite) || mica_suite_by_id(sh->cipher_suite) == NULL) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server chose cipher suite 0x%04x, which was not offered",
                         sh->cipher_suite);
    }
    if (sh->compression != 0) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server chose compression method %u; TLS 1.3 has none",
                         sh->compression);
    }
    if (mica_ext_check_offered(c->offered, sh->present, sh->is_hrr ? MICA_IN_HRR : MICA_IN_SH,
                               &which) != MICA_OK) {
        return mica_fail(c, MICA_E_UNSUPPORTED_EXTENSION,
                         "the server sent extension %s, which the ClientHello did not offer",
                         ext_label(which));
    }
    return MICA_OK;
}

/* early_rejected: the server will not read our 0-RTT data (the application may send it
 * again after the handshake) */
static void early_rejected(mica_conn *c, const char *why)
{
    c->early = MICA_EARLY_REJECTED;
    mica_secret_wipe(&c->c_early);
    mica_secret_wipe(&c->early_exp);
    mica_trace_early(c, false, "rejected", why, 0);
}

static mica_err on_hello_retry_request(mica_conn *c, const struct mica_server_hello *hrr,
                                       const uint8_t *msg, size_t len)
{
    const struct mica_group *g = mica_group_by_id(hrr->share.group);
    uint8_t pub[MICA_MAX_KX_PUBLIC_LEN];
    size_t pub_len = 0;

    /* 4.1.4: "If a client receives a second HelloRetryRequest in the same connection ...,
     * it MUST abort the handshake with an unexpected_message alert" */
    if (c->hrr) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the server sent a second HelloRetryRequest");
    }
    TRY(check_server_hello(c, hrr));
    /* 4.2.8: the selected group "MUST correspond to a group which was provided in the
     * supported_groups extension" and not one with a key share already */
    if ((hrr->present & mica_ext_bit(MICA_EXT_KEY_SHARE)) != 0) {
        if (g == NULL || !offered_group(c, hrr->share.group) ||
            share_for(c, hrr->share.group) != NULL) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the HelloRetryRequest asks for group 0x%04x, which was %s",
                             hrr->share.group,
                             g != NULL && share_for(c, hrr->share.group) != NULL ? "already shared"
                                                                                 : "not offered");
        }
    } else if (hrr->cookie.n == 0) {
        /* 4.1.4: an HRR that "would not result in any change in the ClientHello" is
         * illegal_parameter */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER, "the HelloRetryRequest asks for no change");
    }
    c->suite = mica_suite_by_id(hrr->cipher_suite);
    c->hrr = true;
    if (c->early_offered) {
        /* 4.2.10: an HRR rejects 0-RTT; the second ClientHello goes in the clear and
         * offers none, and the early secrets are dropped */
        early_rejected(c, "the server sent a HelloRetryRequest");
        mica_rec_dir_clear(&c->wr);
        mica_rec_dir_init(&c->wr, true);
        mica_ks_clear(&c->ks);
    }
    /* 4.1.4: a PSK whose hash is not the chosen suite's cannot be used: not offered again */
    if (c->offer_psk && mica_suite_by_id(c->session->suite)->hash != c->suite->hash) {
        c->offer_psk = false;
        mica_secret_wipe(&c->session->psk);
    }
    /* 4.4.1: ClientHello1 is replaced by message_hash, then the HRR follows */
    TRY(mica_transcript_set_hash(&c->t, c->suite->hash));
    TRY(mica_transcript_hrr(&c->t));
    TRY(mica_transcript_add(&c->t, msg, len));
    if (hrr->cookie.n > 0) {
        c->cookie = mica_mem_alloc(hrr->cookie.n);
        ENSURE(c->cookie != NULL, MICA_E_NOMEM);
        c->cookie_len = hrr->cookie.n;
        memcpy(c->cookie, hrr->cookie.p, hrr->cookie.n);
    }
    if (g != NULL && (hrr->present & mica_ext_bit(MICA_EXT_KEY_SHARE)) != 0) {
        free_shares(c);
        c->hrr_group = g->id;
        TRY(mica_kx_keygen(g, &c->shares[0], pub, sizeof(pub), &pub_len));
    }
    TRY(mica_conn_send_ccs(c)); /* D.4: before the second flight */
    return send_client_hello(c);
}

static mica_err derive_handshake_keys(mica_conn *c, const mica_kx_shared *shared)
{
    TRY(mica_hs_handshake_secrets(c, shared));
    TRY(mica_conn_set_read_key(c, &c->s_hs, MICA_EPOCH_HANDSHAKE));
    if (c->early_offered && c->early == MICA_EARLY_NOT_SENT) {
        if (c->resumed) {
            return MICA_OK; /* K_send stays early until the EncryptedExtensions say */
        }
        early_rejected(c, "the server did not resume the session");
    }
    /* K_send = handshake now rather than at the client's Finished (Appendix A.1): nothing
     * but an alert can be sent in between, and the server, which reads with handshake keys
     * from here on, can then read that alert (BoringSSL and rustls do the same) */
    return mica_conn_set_write_key(c, &c->c_hs, MICA_EPOCH_HANDSHAKE);
}

/* the ServerHello's suite and PSK choice, into the transcript (the key exchange aside) */
static mica_err accept_server_hello(mica_conn *c, const struct mica_server_hello *sh,
                                    const uint8_t *msg, size_t len)
{
    c->suite = mica_suite_by_id(sh->cipher_suite);
    if (sh->psk_selected) {
        /* 4.2.11: "Clients MUST verify that the server's selected_identity is within the
         * range supplied by the client, that the server selected a cipher suite indicating
         * a Hash associated with the PSK" (illegal_parameter otherwise) */
        if (!c->offer_psk || sh->psk_identity != 0 ||
            mica_suite_by_id(c->session->suite)->hash != c->suite->hash) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the server selected PSK %u, which was not offered for this suite",
                             sh->psk_identity);
        }
        c->resumed = true;
        c->proof |= MICA_PROOF_BINDER; /* our binder, their acceptance */
        /* the PSK authenticates the server its session came from: verified if that
         * handshake verified the chain and this config asks for verification */
        c->verified = c->cfg->verify && c->session->verified;
    }
    if (!c->hrr) {
        TRY(mica_transcript_set_hash(&c->t, c->suite->hash));
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    free_shares(c);
    return MICA_OK;
}

static bool offered_psk_dhe_ke(const mica_conn *c)
{
    for (size_t i = 0; i < c->cfg->psk_modes_n; i++) {
        if (c->cfg->psk_modes[i] == MICA_PSK_DHE_KE) {
            return true;
        }
    }
    return false;
}

static bool offered_psk_ke(const mica_conn *c)
{
    for (size_t i = 0; i < c->cfg->psk_modes_n; i++) {
        if (c->cfg->psk_modes[i] == MICA_PSK_KE) {
            return c->offer_psk;
        }
    }
    return false;
}

/* psk_ke (4.2.9): the server resumed without a key exchange */
static mica_err on_psk_only_hello(mica_conn *c, const struct mica_server_hello *sh,
                                  const uint8_t *msg, size_t len, enum mica_state *next)
{
    c->group = NULL;
    TRY(accept_server_hello(c, sh, msg, len));
    c->psk_mode = MICA_PSK_KE;
    TRY(derive_handshake_keys(c, NULL));
    *next = C_WAIT_EE;
    return MICA_OK;
}

static mica_err on_server_hello(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                enum mica_state *next)
{
    struct mica_server_hello sh;
    mica_kx_key *mine;
    mica_err err;
    MICA_KX_SHARED(shared);

    (void)type;
    err = mica_msg_decode_server_hello(msg + MICA_HANDSHAKE_HEADER_LEN,
                                       len - MICA_HANDSHAKE_HEADER_LEN, &sh);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the server sent a malformed ServerHello");
    }
    if (sh.is_hrr) {
        *next = C_WAIT_SH;
        return on_hello_retry_request(c, &sh, msg, len);
    }
    TRY(check_server_hello(c, &sh));
    /* 4.1.4: after an HRR the suite "MUST" stay the same */
    if (c->hrr && sh.cipher_suite != c->suite->id) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the ServerHello's cipher suite differs from the HelloRetryRequest's");
    }
    if ((sh.present & mica_ext_bit(MICA_EXT_KEY_SHARE)) == 0) {
        /* without PSK, key_share is mandatory (4.2.8, 9.2); with one, only if we offered
         * psk_ke (4.2.9) */
        if (!sh.psk_selected || !offered_psk_ke(c)) {
            return mica_fail(c, MICA_E_MISSING_EXTENSION, "the ServerHello has no key_share");
        }
        return on_psk_only_hello(c, &sh, msg, len, next);
    }
    if (sh.psk_selected && !offered_psk_dhe_ke(c)) {
        /* 4.2.9: the server must pick a mode we offered: psk_ke alone has no key_share */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server resumed with a key exchange, but we offered psk_ke only");
    }
    mine = share_for(c, sh.share.group);
    if (mine == NULL) {
        /* 4.2.8: "the client MUST verify that the selected NamedGroup ... [matches] a
         * KeyShareEntry ... in the ClientHello" or "abort with illegal_parameter" */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server answered with group 0x%04x, for which we sent no key share",
                         sh.share.group);
    }
    err = mica_kx_decap(mine, sh.share.key.p, sh.share.key.n, &shared);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the server's %s key share is invalid: %s",
                         mica_kx_group(mine)->name, mica_err_sentence(err));
    }
    c->group = mica_kx_group(mine);
    TRY(accept_server_hello(c, &sh, msg, len));
    TRY(derive_handshake_keys(c, &shared));
    *next = C_WAIT_EE;
    return MICA_OK;
}

static mica_err on_encrypted_extensions(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                        enum mica_state *next)
{
    struct mica_encrypted_extensions ee;
    uint16_t which = 0;
    mica_err err;

    (void)type;
    err = mica_msg_decode_encrypted_extensions(msg + MICA_HANDSHAKE_HEADER_LEN,
                                               len - MICA_HANDSHAKE_HEADER_LEN, &ee);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the server sent malformed EncryptedExtensions");
    }
    if (mica_ext_check_offered(c->offered, ee.present, MICA_IN_EE, &which) != MICA_OK) {
        return mica_fail(c, MICA_E_UNSUPPORTED_EXTENSION,
                         "the server sent extension %s, which the ClientHello did not offer",
                         ext_label(which));
    }
    if ((ee.present & mica_ext_bit(MICA_EXT_ALPN)) != 0) {
        /* RFC 7301 3.1: the selected protocol must be one the client offered */
        if (!mica_hs_name_in_list(mica_rd_init(c->cfg->alpn, c->cfg->alpn_len), ee.alpn_selected.p,
                                  ee.alpn_selected.n)) {
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the server selected an ALPN protocol that was not offered");
        }
        TRY(mica_hs_set_alpn(c, ee.alpn_selected.p, ee.alpn_selected.n));
    }
    if ((ee.present & mica_ext_bit(MICA_EXT_RECORD_SIZE_LIMIT)) != 0) {
        c->peer_record_limit = ee.record_size_limit;
        /* RFC 8449 4: the server now knows our limit; records beyond it are record_overflow */
        if (c->cfg->record_size_limit != 0) {
            TRY(mica_rec_set_limit(&c->rd, c->cfg->record_size_limit));
        }
    }
    if (c->early_offered && c->early == MICA_EARLY_NOT_SENT) {
        if (!ee.early_data) {
            early_rejected(c, "the server's EncryptedExtensions do not accept it");
            TRY(mica_conn_set_write_key(c, &c->c_hs, MICA_EPOCH_HANDSHAKE));
        } else if (c->suite->id != c->session->suite ||
                   strcmp(mica_hs_alpn_text(c), c->session->alpn) != 0) {
            /* 4.2.10: 0-RTT is accepted only under the session's suite and ALPN */
            return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                             "the server accepted our early data under another cipher suite "
                             "or ALPN protocol than the session's");
        } else {
            c->early = MICA_EARLY_ACCEPTED;
            mica_trace_early(c, false, "accepted", NULL, c->early_count);
        }
    } else if (ee.early_data) {
        /* 4.2.10: early_data in EE only answers ours, and only with the first PSK */
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server accepts early data that was not sent with a resumption");
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    /* Appendix A.1: a resumption has no certificate; the Finished comes next */
    *next = c->resumed ? C_WAIT_FINISHED : C_WAIT_CERT_CR;
    return MICA_OK;
}

static mica_err on_certificate(mica_conn *c, const uint8_t *msg, size_t len, enum mica_state *next)
{
    struct mica_certificate cert;
    mica_err err = mica_msg_decode_certificate(msg + MICA_HANDSHAKE_HEADER_LEN,
                                               len - MICA_HANDSHAKE_HEADER_LEN, &cert);

    if (err != MICA_OK) {
        return mica_fail(c, err, "the server sent a malformed Certificate");
    }
    /* 4.4.2: "in the case of server authentication, this field SHALL be zero length" */
    if (cert.context.n != 0) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the server's Certificate has a non-empty request context");
    }
    /* 4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
     * abort the handshake with a decode_error alert" */
    if (cert.entries_n == 0) {
        return mica_fail(c, MICA_E_DECODE, "the server sent an empty Certificate");
    }
    {
        /* RFC 8446 4.4.2: extensions in a CertificateEntry answer ones the ClientHello sent
         * (4.2: "MUST abort the handshake with an unsupported_extension alert") */
        mica_rd list = cert.entries;
        while (list.n > 0) {
            struct mica_cert_entry e;
            uint16_t which = 0;
            TRY(mica_msg_next_cert_entry(&list, &e));
            if (mica_ext_check_offered(c->offered, e.present, MICA_IN_CT, &which) != MICA_OK) {
                return mica_fail(c, MICA_E_UNSUPPORTED_EXTENSION,
                                 "the server's Certificate carries extension %s, which the "
                                 "ClientHello did not offer",
                                 ext_label(which));
            }
        }
    }
    err = mica_hs_keep_peer_chain(c, &cert);
    if (err != MICA_OK) {
        return mica_fail(c, err, "cannot keep the server's chain of %zu certificates: %s",
                         cert.entries_n, mica_err_sentence(err));
    }
    /* the leaf's entry carries the stapled OCSP response, if any (4.4.2.1) */
    mica_rd list = cert.entries;
    struct mica_cert_entry leaf;
    TRY(mica_msg_next_cert_entry(&list, &leaf));
    c->ocsp_stapled = leaf.ocsp_response.n > 0;
    if (c->cfg->verify) {
        err = mica_hs_verify_chain(c, leaf.ocsp_response.n > 0 ? leaf.ocsp_response.p : NULL,
                                   leaf.ocsp_response.n);
        if (err != MICA_OK) {
            return mica_fail(c, err, "the server's certificate is not valid: %s",
                             mica_hs_verify_text(c));
        }
    } else {
        mica_hs_set_verify_error(c, "verification disabled (insecure mode)");
        mica_trace_cert(c, "skipped", mica_hs_verify_text(c));
    }
    c->proof |= MICA_PROOF_CERT;
    TRY(mica_transcript_add(&c->t, msg, len));
    *next = C_WAIT_CV;
    return MICA_OK;
}

/* choose_client_chain: the first configured chain whose key can sign with a scheme the
 * server asked for and we offer (by our preference), preferring one whose issuer the
 * server names in certificate_authorities; none: an empty Certificate */
void mica_hs_choose_client_chain(mica_conn *c, const struct mica_certificate_request *cr)
{
    const mica_config *cfg = c->cfg;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < cfg->chains_n; i++) {
            const struct mica_chain *chain = cfg->chains[i];
            if (pass == 0 &&
                (cr->authorities.n == 0 || !mica_x509_chain_issued_by(chain, cr->authorities))) {
                continue;
            }
            for (size_t k = 0; k < cfg->sigs_n; k++) {
                const struct mica_sig_scheme *s = mica_sig_scheme_by_id(cfg->sigs[k]);
                if (s != NULL && s->handshake_ok && mica_hs_u16_in_list(cr->sig_algs, s->id) &&
                    mica_sig_fits(s, chain->key)) {
                    c->chain = chain;
                    c->own_sig = s;
                    return;
                }
            }
        }
    }
}

static mica_err on_certificate_request(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                       enum mica_state *next)
{
    struct mica_certificate_request cr;
    mica_err err;

    (void)type;
    err = mica_msg_decode_certificate_request(msg + MICA_HANDSHAKE_HEADER_LEN,
                                              len - MICA_HANDSHAKE_HEADER_LEN, &cr);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the server sent a malformed CertificateRequest");
    }
    /* 4.3.2: the context "SHALL be zero length" during the handshake */
    if (cr.context.n != 0) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the CertificateRequest has a non-empty context in the handshake");
    }
    c->cert_requested = true;
    mica_hs_choose_client_chain(c, &cr);
    TRY(mica_transcript_add(&c->t, msg, len));
    *next = C_WAIT_CERT;
    return MICA_OK;
}

static mica_err on_cert(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                        enum mica_state *next)
{
    (void)type;
    return on_certificate(c, msg, len, next);
}

static mica_err on_certificate_verify(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                      enum mica_state *next)
{
    (void)type;
    TRY(mica_hs_verify_certificate_verify(c, msg, len));
    *next = C_WAIT_FINISHED;
    return MICA_OK;
}

/* the client's second flight: [CCS] [Certificate [CertificateVerify]] Finished, under
 * the handshake key */
static mica_err send_second_flight(mica_conn *c)
{
    TRY(mica_conn_send_ccs(c)); /* unprotected whatever the write key (5.1) */
    if (c->cert_requested) {
        if (c->chain != NULL) {
            TRY(mica_hs_send_certificate(c, c->chain, NULL, 0, NULL, 0));
            TRY(mica_hs_send_certificate_verify(c, c->chain, c->own_sig));
        } else {
            /* 4.4.2: with no certificate that fits, an empty Certificate */
            static const uint8_t empty_cert[] = {MICA_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
            TRY(mica_conn_send_hs(c, empty_cert, sizeof(empty_cert)));
        }
    }
    return mica_hs_send_finished(c, &c->c_hs);
}

static mica_err on_finished(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                            enum mica_state *next)
{
    (void)type;
    TRY(mica_hs_verify_finished(c, &c->s_hs, msg, len));
    c->ccs_ok = false;
    TRY(mica_hs_app_secrets(c));
    TRY(mica_conn_set_read_key(c, &c->s_ap, MICA_EPOCH_APPLICATION));
    if (c->early == MICA_EARLY_ACCEPTED) {
        /* 4.5: EndOfEarlyData, the last message under the early key */
        static const uint8_t eoed[] = {MICA_HS_END_OF_EARLY_DATA, 0, 0, 0};
        TRY(mica_conn_send_hs(c, eoed, sizeof(eoed)));
        TRY(mica_conn_set_write_key(c, &c->c_hs, MICA_EPOCH_HANDSHAKE));
        mica_secret_wipe(&c->c_early);
    }
    TRY(send_second_flight(c));
    TRY(mica_conn_set_write_key(c, &c->c_ap, MICA_EPOCH_APPLICATION));
    TRY(mica_hs_complete(c));
    *next = MICA_ST_CONNECTED;
    return MICA_OK;
}

static mica_err on_post_handshake(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len,
                                  enum mica_state *next)
{
    *next = MICA_ST_CONNECTED;
    if (type == MICA_HS_CERTIFICATE_REQUEST) {
        return mica_pha_on_request(c, msg, len); /* 4.6.2 */
    }
    if (type == MICA_HS_KEY_UPDATE) {
        return mica_conn_on_key_update(c, msg + MICA_HANDSHAKE_HEADER_LEN,
                                       len - MICA_HANDSHAKE_HEADER_LEN);
    }
    {
        struct mica_new_session_ticket nst;
        mica_err err = mica_msg_decode_new_session_ticket(msg + MICA_HANDSHAKE_HEADER_LEN,
                                                          len - MICA_HANDSHAKE_HEADER_LEN, &nst);
        if (err != MICA_OK) {
            return mica_fail(c, err, "the server sent a malformed NewSessionTicket");
        }
        if (c->cfg->ticket_cb != NULL) {
            c->cfg->ticket_cb(c->cfg->ticket_ctx, msg, len);
        }
        TRY(mica_psk_on_ticket(c, &nst));
    }
    return MICA_OK;
}

/* RFC 8446 Appendix A.1 as a table; see fsm.c for how it is used */
const struct mica_fsm_row mica_client_fsm[] = {
    /* state          message received                 handler                 may go to */
    {C_WAIT_SH, MICA_HS_SERVER_HELLO, on_server_hello, MICA_S(C_WAIT_SH) | MICA_S(C_WAIT_EE)},
    {C_WAIT_EE, MICA_HS_ENCRYPTED_EXTENSIONS, on_encrypted_extensions,
     MICA_S(C_WAIT_CERT_CR) | MICA_S(C_WAIT_FINISHED)},
    {C_WAIT_CERT_CR, MICA_HS_CERTIFICATE, on_cert, MICA_S(C_WAIT_CV)},
    {C_WAIT_CERT_CR, MICA_HS_CERTIFICATE_REQUEST, on_certificate_request, MICA_S(C_WAIT_CERT)},
    {C_WAIT_CERT, MICA_HS_CERTIFICATE, on_cert, MICA_S(C_WAIT_CV)},
    {C_WAIT_CV, MICA_HS_CERTIFICATE_VERIFY, on_certificate_verify, MICA_S(C_WAIT_FINISHED)},
    {C_WAIT_FINISHED, MICA_HS_FINISHED, on_finished, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_NEW_SESSION_TICKET, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_KEY_UPDATE, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_CONNECTED, MICA_HS_CERTIFICATE_REQUEST, on_post_handshake, MICA_S(MICA_ST_CONNECTED)},
    {MICA_ST_NONE, 0, NULL, 0},
};
