/*
 * The dispatcher: the one place that changes conn->state (STYLE.md 2.5).
 *   1. look up the (state, message) row in the side's table (client.c, server.c);
 *   2. a message without a row gets unexpected_message;
 *   3. the handler runs and names the next state;
 *   4. a next state outside the row's "may go to" is a bug in mica (internal_error);
 *   5. entering CONNECTED requires the proof bits of the mode (rustls's tokens): a
 *      skipped check fails closed instead of connecting.
 */
#include "tls/conn.h"

static const char *const state_names[MICA_ST__COUNT] = {
    [MICA_ST_NONE] = "NONE",
    [C_START] = "C_START",
    [C_WAIT_SH] = "C_WAIT_SH",
    [C_WAIT_EE] = "C_WAIT_EE",
    [C_WAIT_CERT_CR] = "C_WAIT_CERT_CR",
    [C_WAIT_CERT] = "C_WAIT_CERT",
    [C_WAIT_CV] = "C_WAIT_CV",
    [C_WAIT_FINISHED] = "C_WAIT_FINISHED",
    [S_START] = "S_START",
    [S_WAIT_EOED] = "S_WAIT_EOED",
    [S_WAIT_FLIGHT2] = "S_WAIT_FLIGHT2",
    [S_WAIT_CERT] = "S_WAIT_CERT",
    [S_WAIT_CV] = "S_WAIT_CV",
    [S_WAIT_FINISHED] = "S_WAIT_FINISHED",
    [MICA_ST_CONNECTED] = "CONNECTED",
};

const char *mica_state_name(enum mica_state s)
{
    return (unsigned)s < MICA_ST__COUNT && state_names[s] != NULL ? state_names[s] : "unknown";
}

/* the proofs a side must hold to be connected: certificates need CERT|CV|FIN (a server
 * without a client certificate FIN alone); a resumption BINDER|FIN */
static unsigned required_proofs(const mica_conn *c)
{
    if (c->resumed) {
        return MICA_PROOF_BINDER | MICA_PROOF_FIN; /* the PSK stands for the certificate */
    }
    /* a server that got a client certificate (or requires one) needs its proofs too */
    if (c->server && c->peer_n == 0 && c->cfg->client_auth != MICA_CLIENT_AUTH_REQUIRE) {
        return MICA_PROOF_FIN;
    }
    return MICA_PROOF_CERT | MICA_PROOF_CV | MICA_PROOF_FIN;
}

static const struct mica_fsm_row *find_row(const struct mica_fsm_row *t, enum mica_state state,
                                           uint8_t type)
{
    for (; t->handler != NULL; t++) {
        if (t->state == state && t->msg == type) {
            return t;
        }
    }
    return NULL;
}

mica_err mica_fsm_dispatch(mica_conn *c, uint8_t type, const uint8_t *msg, size_t len)
{
    const struct mica_fsm_row *row =
        find_row(c->server ? mica_server_fsm : mica_client_fsm, c->state, type);
    enum mica_state next = MICA_ST_NONE;
    mica_err err;

    /* RFC 8446 4: a message not expected in this state "MUST abort the handshake with an
     * unexpected_message alert" */
    if (row == NULL) {
        return mica_fail(c, MICA_E_UNEXPECTED_MESSAGE,
                         "the peer sent a %s (type %u) in state %s, where it is not allowed",
                         mica_hs_type_name(type), type, mica_state_name(c->state));
    }
    err = row->handler(c, type, msg, len, &next);
    if (err != MICA_OK) {
        return err;
    }
    if ((unsigned)next >= MICA_ST__COUNT || (row->may_go & MICA_S(next)) == 0) {
        return mica_fail(c, MICA_E_INTERNAL, "state %s may not go to %s (a bug in mica)",
                         mica_state_name(c->state), mica_state_name(next));
    }
    if (next == MICA_ST_CONNECTED && c->state != MICA_ST_CONNECTED &&
        (c->proof & required_proofs(c)) != required_proofs(c)) {
        return mica_fail(c, MICA_E_INTERNAL,
                         "refusing to connect without every proof (have %#x, need %#x)", c->proof,
                         required_proofs(c));
    }
    if (next != c->state) {
        if (next == MICA_ST_CONNECTED) {
            c->idle_updates = 0; /* the handshake's dummy CCS do not count against KeyUpdates */
        }
        c->state = next;
        mica_trace_event(c, MICA_TRACE_STATE, false, mica_state_name(next));
    }
    return MICA_OK;
}
