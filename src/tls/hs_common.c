/* Handshake pieces both sides use: CertificateVerify content, Finished, peer chains. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

mica_err mica_hs_cv_content(bool server, const uint8_t *th, size_t th_len, uint8_t *out, size_t cap,
                            size_t *len)
{
    /* RFC 8446 4.4.3: 64 spaces, the context string, a zero byte, the transcript hash */
    static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
    static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
    const char *ctx = server ? server_ctx : client_ctx;
    size_t ctx_len = sizeof(server_ctx); /* both include the terminating zero */

    ENSURE(cap >= 64 + ctx_len + th_len, MICA_E_INTERNAL);
    memset(out, 0x20, 64);
    memcpy(out + 64, ctx, ctx_len);
    memcpy(out + 64 + ctx_len, th, th_len);
    *len = 64 + ctx_len + th_len;
    return MICA_OK;
}

mica_err mica_hs_send_finished(mica_conn *c, const mica_secret *base)
{
    uint8_t msg[MICA_HANDSHAKE_HEADER_LEN + MICA_MAX_HASH_LEN], th[MICA_MAX_HASH_LEN];
    size_t hlen = c->suite->hash->len;

    TRY(mica_transcript_hash(&c->t, th));
    msg[0] = MICA_HS_FINISHED;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = (uint8_t)hlen;
    TRY(mica_ks_finished(c->suite->hash, base, th, msg + MICA_HANDSHAKE_HEADER_LEN));
    return mica_conn_send_hs(c, msg, MICA_HANDSHAKE_HEADER_LEN + hlen);
}

mica_err mica_hs_verify_finished(mica_conn *c, const mica_secret *base, const uint8_t *msg,
                                 size_t len)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    TRY(mica_transcript_hash(&c->t, th));
    /* RFC 8446 4.4.4: "Recipients of Finished messages MUST verify that the contents are
     * correct and if incorrect MUST terminate the connection with a decrypt_error alert" */
    if (mica_ks_verify_finished(c->suite->hash, base, th, msg + MICA_HANDSHAKE_HEADER_LEN,
                                len - MICA_HANDSHAKE_HEADER_LEN) != MICA_OK) {
        return mica_fail(c, MICA_E_DECRYPT_ERROR,
                         "the peer's Finished does not match the handshake: the transcript "
                         "or the keys differ");
    }
    c->proof |= MICA_PROOF_FIN;
    return mica_transcript_add(&c->t, msg, len);
}

void mica_hs_drop_peer_chain(mica_conn *c)
{
    for (size_t i = 0; i < c->peer_n; i++) {
        mica_mem_free(c->peer_der[i]);
    }
    mica_mem_free(c->peer_der);
    mica_mem_free(c->peer_len);
    mica_pkey_free(c->peer_key);
    c->peer_der = NULL;
    c->peer_len = NULL;
    c->peer_n = 0;
    c->peer_key = NULL;
    c->verified = false;
}

mica_err mica_hs_keep_peer_chain(mica_conn *c, const struct mica_certificate *cert)
{
    mica_rd list = cert->entries;
    size_t n = 0;

    ENSURE(cert->entries_n <= MICA_MAX_CHAIN_LEN, MICA_E_LIMIT);
    mica_hs_drop_peer_chain(c); /* post-handshake authentication replaces it */
    c->peer_der = mica_mem_alloc(MICA_MAX_CHAIN_LEN * sizeof(*c->peer_der));
    c->peer_len = mica_mem_alloc(MICA_MAX_CHAIN_LEN * sizeof(*c->peer_len));
    ENSURE(c->peer_der != NULL && c->peer_len != NULL, MICA_E_NOMEM);
    while (list.n > 0) {
        struct mica_cert_entry e;
        size_t der_len;
        TRY(mica_msg_next_cert_entry(&list, &e));
        ENSURE(n < MICA_MAX_CHAIN_LEN, MICA_E_LIMIT);
        der_len = e.cert_data.n;
        c->peer_der[n] = mica_mem_alloc(der_len);
        ENSURE(c->peer_der[n] != NULL, MICA_E_NOMEM);
        c->peer_len[n] = der_len;
        c->peer_n = ++n;
        TRY(mica_rd_copy(&e.cert_data, c->peer_der[n - 1], der_len));
    }
    return MICA_OK;
}

void mica_hs_set_verify_error(mica_conn *c, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    int n;

    mica_mem_free(c->verify_error);
    c->verify_error = NULL;
    if (fmt == NULL) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n >= 0) {
        size_t len = strlen(text);
        c->verify_error = mica_mem_alloc_buf(len + 1);
        if (c->verify_error != NULL) {
            memcpy(c->verify_error, text, len + 1);
        }
    }
}

mica_err mica_hs_set_alpn(mica_conn *c, const uint8_t *name, size_t len)
{
    mica_mem_free(c->alpn);
    c->alpn = mica_mem_alloc(len + 1); /* zeroed: the terminator */
    ENSURE(c->alpn != NULL, MICA_E_NOMEM);
    memcpy(c->alpn, name, len);
    return MICA_OK;
}

const char *mica_hs_alpn_text(const mica_conn *c)
{
    return c->alpn != NULL ? c->alpn : "";
}

const char *mica_hs_verify_text(const mica_conn *c)
{
    return c->verify_error != NULL ? c->verify_error : "";
}

mica_err mica_hs_verify_chain(mica_conn *c, const uint8_t *ocsp, size_t ocsp_len)
{
    struct mica_x509_policy p;
    char why[512];
    mica_err err;

    memset(&p, 0, sizeof(p));
    p.server = !c->server; /* the peer's role */
    p.now_ms = mica_clock_now(&c->cfg->clock);
    if (!c->server) {
        p.name = c->server_name[0] != '\0' ? c->server_name : NULL;
        if (p.name == NULL) { /* fail closed: a server's chain is verified for a name */
            return mica_fail(c, MICA_E_INTERNAL, "verification is on but there is no name");
        }
        p.pins = c->cfg->pins[0];
        p.pins_n = c->cfg->pins_n;
        p.ocsp = ocsp;
        p.ocsp_len = ocsp_len;
        p.ocsp_mode = (int)c->cfg->ocsp;
    }
    mica_pkey_free(c->peer_key);
    c->peer_key = NULL;
    err = mica_x509_verify(c->cfg->store, (const uint8_t *const *)c->peer_der, c->peer_len,
                           c->peer_n, &p, why, sizeof(why), &c->peer_key);
    if (err != MICA_OK) {
        mica_hs_set_verify_error(c, "%s", why);
        mica_trace_cert(c, "failed", mica_hs_verify_text(c));
        c->verify_code = err;
        return err;
    }
    mica_hs_set_verify_error(c, NULL);
    c->verify_code = MICA_OK;
    c->verified = true;
    mica_trace_cert(c, "verified", NULL);
    return MICA_OK;
}

bool mica_hs_name_in_list(mica_rd list, const uint8_t *name, size_t len)
{
    mica_rd item;

    while (list.n > 0) {
        if (mica_rd_vec8(&list, &item, 1, 255) != MICA_OK) {
            return false;
        }
        if (item.n == len && mica_ct_eq(item.p, name, len)) {
            return true;
        }
    }
    return false;
}

mica_err mica_hs_early_secrets(mica_conn *c, const struct mica_suite *suite)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    /* RFC 8446 7.1: client_early_traffic_secret and early_exporter_master_secret, over
     * the ClientHello, from the PSK's early secret */
    mica_ks_clear(&c->ks);
    mica_ks_init(&c->ks, suite->hash);
    ENSURE(c->session != NULL, MICA_E_INTERNAL);
    TRY(mica_ks_early(&c->ks, c->session->psk.b, c->session->psk.len));
    TRY(mica_transcript_hash_with(&c->t, suite->hash, NULL, 0, th));
    TRY(mica_ks_early_traffic(&c->ks, th, &c->c_early));
    TRY(mica_ks_early_exporter(&c->ks, th, &c->early_exp));
    mica_trace_event(c, MICA_TRACE_SECRET, true, "c e traffic");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "e exp master");
    mica_conn_keylog(c, "CLIENT_EARLY_TRAFFIC_SECRET", &c->c_early);
    mica_conn_keylog(c, "EARLY_EXPORTER_SECRET", &c->early_exp);
    return MICA_OK;
}

mica_err mica_hs_handshake_secrets(mica_conn *c, const mica_kx_shared *shared)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    /* RFC 8446 7.1: the early secret from the resumption PSK, or from zeros; a client
     * that sent 0-RTT has it already (the same PSK, so the same secret) unless the
     * server chose not to resume */
    if (c->ks.stage != MICA_KS_EARLY || !c->resumed || c->ks.hash != c->suite->hash) {
        mica_ks_clear(&c->ks);
        mica_ks_init(&c->ks, c->suite->hash);
        ENSURE(!c->resumed || c->session != NULL, MICA_E_INTERNAL);
        TRY(mica_ks_early(&c->ks, c->resumed ? c->session->psk.b : NULL,
                          c->resumed ? c->session->psk.len : 0));
    }
    if (c->session != NULL) {
        mica_secret_wipe(&c->session->psk); /* in the early secret now; not needed again */
    }
    /* psk_ke (4.2.9): no (EC)DHE, the handshake secret is extracted from zeros */
    TRY(mica_ks_handshake(&c->ks, shared != NULL ? shared->b : NULL,
                          shared != NULL ? shared->len : 0));
    TRY(mica_transcript_hash(&c->t, th));
    TRY(mica_ks_hs_traffic(&c->ks, th, &c->c_hs, &c->s_hs));
    mica_trace_event(c, MICA_TRACE_SECRET, true, "handshake secret");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "c hs traffic");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "s hs traffic");
    mica_conn_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", &c->c_hs);
    mica_conn_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", &c->s_hs);
    return MICA_OK;
}

mica_err mica_hs_complete(mica_conn *c)
{
    /* 7.1: resumption_master_secret over ClientHello..client Finished: a server's tickets
     * (now and on demand later), a client's sessions when the application takes them */
    if (c->server || c->cfg->session_cb != NULL || c->cfg->keep != NULL) {
        uint8_t th[MICA_MAX_HASH_LEN];
        TRY(mica_transcript_hash(&c->t, th));
        TRY(mica_ks_resumption_master(&c->ks, th, &c->res_master));
    }
    if (c->server) {
        /* after a resumption one ticket replaces the one the client spent (RFC 8446 C.4:
         * a ticket is best used once); a full handshake fills the client's supply */
        unsigned n = c->resumed && c->cfg->tickets > 1 ? 1 : c->cfg->tickets;
        TRY(mica_psk_send_tickets(c, n));
    }
    TRY(mica_ks_done(&c->ks));
    mica_secret_wipe(&c->c_hs);
    mica_secret_wipe(&c->s_hs);
    mica_mem_free_secret(c->session); /* what later tickets need is in session_auth_ms */
    c->session = NULL;
    /* the transcript outlives the handshake only for post-handshake authentication
     * (4.6.2), which needs the client to have offered it */
    if (!c->pha_offered) {
        mica_transcript_clear(&c->t);
    }
    return MICA_OK;
}

mica_err mica_hs_app_secrets(mica_conn *c)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    /* over ClientHello..server Finished */
    TRY(mica_ks_master(&c->ks));
    TRY(mica_transcript_hash(&c->t, th));
    TRY(mica_ks_app_traffic(&c->ks, th, &c->c_ap, &c->s_ap));
    TRY(mica_ks_exporter_master(&c->ks, th, &c->exp_master));
    mica_trace_event(c, MICA_TRACE_SECRET, true, "master secret");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "c ap traffic");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "s ap traffic");
    mica_trace_event(c, MICA_TRACE_SECRET, true, "exp master");
    mica_conn_keylog(c, "CLIENT_TRAFFIC_SECRET_0", &c->c_ap);
    mica_conn_keylog(c, "SERVER_TRAFFIC_SECRET_0", &c->s_ap);
    mica_conn_keylog(c, "EXPORTER_SECRET", &c->exp_master);
    return MICA_OK;
}

bool mica_hs_u16_in_list(mica_rd list, uint16_t v)
{
    uint16_t x;

    while (mica_rd_u16(&list, &x) == MICA_OK) {
        if (x == v) {
            return true;
        }
    }
    return false;
}

mica_err mica_hs_send_certificate(mica_conn *c, const struct mica_chain *chain,
                                  const uint8_t *context, size_t context_len, const uint8_t *staple,
                                  size_t staple_len)
{
    size_t total = 32 + context_len + staple_len, len, msg, list, m, ext;
    uint8_t *buf;
    mica_wr w;
    mica_err err;

    for (size_t i = 0; i < chain->n; i++) {
        total += 3 + chain->len[i] + 2;
    }
    buf = mica_mem_alloc(total);
    ENSURE(buf != NULL, MICA_E_NOMEM);
    w = mica_wr_init(buf, total);
    mica_msg_open(&w, MICA_HS_CERTIFICATE, &msg);
    mica_wr_open8(&w, &m); /* certificate_request_context: empty in the handshake */
    mica_wr_bytes(&w, context, context_len);
    mica_wr_close(&w, m);
    mica_wr_open24(&w, &list);
    for (size_t i = 0; i < chain->n; i++) {
        mica_wr_open24(&w, &m);
        mica_wr_bytes(&w, chain->der[i], chain->len[i]);
        mica_wr_close(&w, m);
        mica_wr_open16(&w, &ext);
        if (i == 0 && staple != NULL) {
            /* status_request: CertificateStatus { ocsp(1), OCSPResponse<1..2^24-1> } */
            size_t r;
            mica_wr_u16(&w, MICA_EXT_STATUS_REQUEST);
            mica_wr_open16(&w, &m);
            mica_wr_u8(&w, 1);
            mica_wr_open24(&w, &r);
            mica_wr_bytes(&w, staple, staple_len);
            mica_wr_close(&w, r);
            mica_wr_close(&w, m);
        }
        mica_wr_close(&w, ext);
    }
    mica_wr_close(&w, list);
    mica_msg_close(&w, msg);
    err = mica_wr_finish(&w, &len);
    if (err == MICA_OK) {
        err = mica_conn_send_hs(c, buf, len);
    }
    mica_mem_free(buf);
    return err;
}

mica_err mica_hs_send_certificate_verify(mica_conn *c, const struct mica_chain *chain,
                                         const struct mica_sig_scheme *scheme)
{
    uint8_t th[MICA_MAX_HASH_LEN], content[200], buf[MICA_MAX_SIGNATURE_LEN + 16];
    size_t content_len = 0, sig_len = 0;

    TRY(mica_transcript_hash(&c->t, th));
    TRY(mica_hs_cv_content(c->server, th, c->suite->hash->len, content, sizeof(content),
                           &content_len));
    TRY(mica_sig_sign(scheme, chain->key, content, content_len, buf + 8, sizeof(buf) - 8,
                      &sig_len));
    buf[0] = MICA_HS_CERTIFICATE_VERIFY;
    buf[1] = (uint8_t)((sig_len + 4) >> 16);
    buf[2] = (uint8_t)((sig_len + 4) >> 8);
    buf[3] = (uint8_t)(sig_len + 4);
    buf[4] = (uint8_t)(scheme->id >> 8);
    buf[5] = (uint8_t)scheme->id;
    buf[6] = (uint8_t)(sig_len >> 8);
    buf[7] = (uint8_t)sig_len;
    return mica_conn_send_hs(c, buf, 8 + sig_len);
}

static bool offered_sig(const mica_conn *c, uint16_t id)
{
    for (size_t i = 0; i < c->cfg->sigs_n; i++) {
        if (c->cfg->sigs[i] == id) {
            return true;
        }
    }
    return false;
}

mica_err mica_hs_verify_certificate_verify(mica_conn *c, const uint8_t *msg, size_t len)
{
    const char *peer = c->server ? "client" : "server";
    struct mica_certificate_verify cv;
    const struct mica_sig_scheme *s;
    uint8_t th[MICA_MAX_HASH_LEN], content[200];
    size_t content_len = 0;
    mica_pkey *key = NULL;
    mica_err err;

    err = mica_msg_decode_certificate_verify(msg + MICA_HANDSHAKE_HEADER_LEN,
                                             len - MICA_HANDSHAKE_HEADER_LEN, &cv);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the %s sent a malformed CertificateVerify", peer);
    }
    s = mica_sig_scheme_by_id(cv.scheme);
    /* 4.4.3: the algorithm "MUST be one of those present in the supported_signature_
     * algorithms field of the signature_algorithms extension" (ours, in the ClientHello or
     * the CertificateRequest); RSASSA-PKCS1 and SHA-1 are for certificates only */
    if (s == NULL || !s->handshake_ok || !offered_sig(c, cv.scheme)) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the %s signed with scheme 0x%04x, which was not offered", peer,
                         cv.scheme);
    }
    ENSURE(c->peer_n > 0, MICA_E_INTERNAL);
    if (c->peer_key == NULL) { /* not verified (or verification is off): parse it now */
        err = mica_x509_pubkey(c->peer_der[0], c->peer_len[0], &c->peer_key);
        if (err == MICA_E_NOMEM) {
            return mica_fail(c, err, "%s", mica_err_sentence(err));
        }
        if (err != MICA_OK) {
            return mica_fail(c, MICA_E_BAD_CERTIFICATE, "the %s's certificate key is unusable",
                             peer);
        }
    }
    key = c->peer_key;
    TRY(mica_transcript_hash(&c->t, th));
    TRY(mica_hs_cv_content(!c->server, th, c->suite->hash->len, content, sizeof(content),
                           &content_len));
    err = mica_sig_verify(s, key, content, content_len, cv.signature.p, cv.signature.n);
    /* 4.4.3: "If the verification fails, the receiver MUST terminate the handshake with a
     * decrypt_error alert" */
    if (err != MICA_OK) {
        return mica_fail(c, MICA_E_DECRYPT_ERROR,
                         "the %s's CertificateVerify (%s) does not verify with its "
                         "certificate's key%s",
                         peer, s->name, err == MICA_E_KEY_MISMATCH ? " (wrong key type)" : "");
    }
    /* a client reports the server's scheme; a server keeps reporting its own */
    if (!c->server) {
        c->sig = s;
    }
    c->proof |= MICA_PROOF_CV;
    return mica_transcript_add(&c->t, msg, len);
}

mica_err mica_hs_send_certificate_request(mica_conn *c, const uint8_t *context, size_t context_len)
{
    uint16_t sigs[MICA_MAX_ALG_N];
    size_t n = 0, len = 0, cas_len = 0, cap;
    uint8_t *buf, *cas = NULL;
    mica_wr w;
    mica_err err;

    for (size_t i = 0; i < c->cfg->sigs_n; i++) {
        const struct mica_sig_scheme *s = mica_sig_scheme_by_id(c->cfg->sigs[i]);
        if (s != NULL && s->handshake_ok) {
            sigs[n++] = s->id;
        }
    }
    /* the trust anchors' names when they are our own, not the system's hundreds */
    if (c->cfg->store_custom) {
        cas = mica_mem_alloc(MICA_MAX_CA_NAMES);
        ENSURE(cas != NULL, MICA_E_NOMEM);
        if (mica_x509_store_names(c->cfg->store, cas, MICA_MAX_CA_NAMES, &cas_len) != MICA_OK) {
            cas_len = 0; /* too many to list: the client chooses by algorithm alone */
        }
    }
    cap = 64 + context_len + 2 * n + cas_len;
    buf = mica_mem_alloc(cap);
    if (buf == NULL) {
        mica_mem_free(cas);
        return MICA_E_NOMEM;
    }
    w = mica_wr_init(buf, cap);
    mica_msg_encode_certificate_request(&w, context, context_len, sigs, n, cas, cas_len);
    err = mica_wr_finish(&w, &len);
    if (err == MICA_OK) {
        err = mica_conn_send_hs(c, buf, len);
    }
    mica_mem_free(buf);
    mica_mem_free(cas);
    return err;
}
