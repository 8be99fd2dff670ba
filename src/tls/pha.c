/*
 * Post-handshake client authentication (RFC 8446 4.2.6, 4.6.2). A client that has a
 * certificate offers post_handshake_auth in its ClientHello; after the handshake the
 * server may send a CertificateRequest with a fresh, unpredictable context, and the
 * client answers with Certificate, CertificateVerify (when it has a certificate that
 * fits) and Finished, all under the application traffic keys.
 *
 * Each exchange's transcript is the handshake's (ClientHello .. client Finished) followed
 * by its own messages (4.4.1); the handshake's is kept in t_hs and c->t starts from a
 * copy of it, so the shared functions of hs_common.c build and check the messages as
 * in the handshake. The Finished MAC uses client_application_traffic_secret_N, the
 * current one (4.4).
 */
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

/* client: a CertificateRequest after the handshake */
mica_err mica_pha_on_request(mica_conn *c, const uint8_t *msg, size_t len)
{
    struct mica_certificate_request cr;
    mica_err err;

    /* 4.6.2: "A client that receives a CertificateRequest message without having sent the
     * "post_handshake_auth" extension MUST send an "unexpected_message" fatal alert." */
    if (!c->pha_offered) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the server asked for a certificate after the handshake, which this "
                         "client did not offer (post_handshake_auth)");
    }
    err = mica_msg_decode_certificate_request(msg + MICA_HANDSHAKE_HEADER_LEN,
                                              len - MICA_HANDSHAKE_HEADER_LEN, &cr);
    if (err != MICA_OK) {
        return mica_fail(c, err, "the server sent a malformed CertificateRequest");
    }
    TRY(mica_transcript_copy(&c->t_hs, &c->t));
    err = mica_transcript_add(&c->t, msg, len);
    c->chain = NULL;
    c->own_sig = NULL;
    mica_hs_choose_client_chain(c, &cr);
    if (err == MICA_OK) {
        err = c->chain != NULL
                  ? mica_hs_send_certificate(c, c->chain, cr.context.p, cr.context.n, NULL, 0)
                  : mica_hs_send_certificate(c, &(struct mica_chain){0}, cr.context.p, cr.context.n,
                                             NULL, 0);
    }
    if (err == MICA_OK && c->chain != NULL) {
        err = mica_hs_send_certificate_verify(c, c->chain, c->own_sig);
    }
    if (err == MICA_OK) {
        err = mica_hs_send_finished(c, &c->c_ap);
    }
    if (err == MICA_OK) {
        err = mica_transcript_copy(&c->t, &c->t_hs); /* the next request starts over */
    }
    mica_trace_flight(c);
    return err == MICA_OK ? MICA_OK
                          : mica_fail(c, err, "cannot answer the CertificateRequest: %s",
                                      mica_err_sentence(err));
}

mica_err mica_conn_request_client_auth(mica_conn *c)
{
    mica_err err;

    ENSURE(c != NULL, MICA_E_ARGUMENT);
    TRY(c->err);
    ENSURE(c->server && c->state == MICA_ST_CONNECTED && !c->closed && c->pha_offered &&
               c->pha_state == 0 && c->pha_count < 255,
           MICA_E_ARGUMENT);
    /* 4.3.2: the context of a post-handshake request "SHOULD" be unpredictable */
    err = mica_rand(c->pha_context, sizeof(c->pha_context));
    if (err == MICA_OK) {
        err = mica_transcript_copy(&c->t_hs, &c->t);
    }
    if (err == MICA_OK) {
        err = mica_hs_send_certificate_request(c, c->pha_context, sizeof(c->pha_context));
    }
    mica_trace_flight(c);
    if (err != MICA_OK) {
        return mica_fail(c, err, "cannot send a CertificateRequest: %s", mica_err_sentence(err));
    }
    c->pha_state = 1;
    c->pha_count++;
    return MICA_OK;
}

int mica_conn_client_auth_pending(const mica_conn *c)
{
    return c != NULL && c->pha_state != 0;
}

/* server: the client's answer, message by message */
static mica_err on_certificate(mica_conn *c, const uint8_t *msg, size_t len)
{
    struct mica_certificate cert;
    mica_err err = mica_msg_decode_certificate(msg + MICA_HANDSHAKE_HEADER_LEN,
                                               len - MICA_HANDSHAKE_HEADER_LEN, &cert);

    if (err != MICA_OK) {
        return mica_fail(c, err, "the client sent a malformed Certificate");
    }
    /* 4.4.2: the context is the request's */
    if (cert.context.n != sizeof(c->pha_context) ||
        !mica_ct_eq(cert.context.p, c->pha_context, sizeof(c->pha_context))) {
        return mica_fail(c, MICA_E_ILLEGAL_PARAMETER,
                         "the client's Certificate does not answer this server's request (its "
                         "context differs)");
    }
    TRY(mica_transcript_add(&c->t, msg, len));
    mica_hs_drop_peer_chain(c);
    if (cert.entries_n == 0) {
        mica_hs_set_verify_error(c, "the client sent no certificate");
        c->pha_state = 3;
        return MICA_OK;
    }
    err = mica_hs_keep_peer_chain(c, &cert);
    if (err != MICA_OK) {
        return mica_fail(c, err, "cannot keep the client's chain of %zu certificates: %s",
                         cert.entries_n, mica_err_sentence(err));
    }
    err = mica_hs_verify_chain(c, NULL, 0);
    if (err != MICA_OK && c->cfg->client_auth != MICA_CLIENT_AUTH_OPTIONAL) {
        return mica_fail(c, err, "the client's certificate is not valid: %s",
                         mica_hs_verify_text(c));
    }
    c->pha_state = 2;
    return MICA_OK;
}

mica_err mica_pha_on_message(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
    static const uint8_t want[4] = {0, MICA_HS_CERTIFICATE, MICA_HS_CERTIFICATE_VERIFY,
                                    MICA_HS_FINISHED};
    bool verified;

    if (c->pha_state == 0 || c->pha_state > 3 || type != want[c->pha_state]) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the client sent a %s after the handshake, which no request of this "
                         "server asked for",
                         mica_hs_type_name(type));
    }
    switch (c->pha_state) {
    case 1: return on_certificate(c, msg, len);
    case 2:
        TRY(mica_hs_verify_certificate_verify(c, msg, len));
        c->pha_state = 3;
        return MICA_OK;
    default:
        verified = c->verified;
        TRY(mica_hs_verify_finished(c, &c->c_ap, msg, len));
        /* the exchange is over: the next one starts from the handshake's transcript */
        TRY(mica_transcript_copy(&c->t, &c->t_hs));
        c->verified = verified && c->peer_n > 0;
        c->pha_state = 0;
        return MICA_OK;
    }
}
