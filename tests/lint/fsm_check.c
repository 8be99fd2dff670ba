/*
 * fsm_check: the engine's state tables checked against RFC 8446 Appendix A, written down
 * here as data on its own (after LibreSSL's handshake_table.c test), and the diagram in
 * docs/STATE-MACHINE.md generated from the tables.
 *
 *   fsm_check --check docs/STATE-MACHINE.md   compare tables with the RFC; diagram fresh?
 *   fsm_check --write docs/STATE-MACHINE.md   regenerate the diagram
 *
 * Every transition in mica's tables must be one the RFC draws; every transition the RFC
 * draws must be in mica's tables, or listed below as not yet built, with the issue that
 * brings it. A state that mica passes through without waiting for a message (RFC
 * RECVD_CH, NEGOTIATED, and WAIT_FLIGHT2 while there is no 0-RTT or client
 * authentication) is mapped to the state mica waits in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/conn.h"

struct edge {
    const char *from, *msg, *to;
};

/* RFC 8446 Appendix A.1 (client), transitions on a received message */
static const struct edge rfc_client[] = {
    {"WAIT_SH", "HelloRetryRequest", "WAIT_SH"}, /* via START: Send ClientHello again */
    {"WAIT_SH", "ServerHello", "WAIT_EE"},
    {"WAIT_EE", "EncryptedExtensions", "WAIT_CERT_CR"},
    {"WAIT_EE", "EncryptedExtensions", "WAIT_FINISHED"}, /* using PSK */
    {"WAIT_CERT_CR", "Certificate", "WAIT_CV"},
    {"WAIT_CERT_CR", "CertificateRequest", "WAIT_CERT"},
    {"WAIT_CERT", "Certificate", "WAIT_CV"},
    {"WAIT_CV", "CertificateVerify", "WAIT_FINISHED"},
    {"WAIT_FINISHED", "Finished", "CONNECTED"},
    /* 4.6: post-handshake messages */
    {"CONNECTED", "NewSessionTicket", "CONNECTED"},
    {"CONNECTED", "KeyUpdate", "CONNECTED"},
    {"CONNECTED", "CertificateRequest", "CONNECTED"}, /* only with post_handshake_auth */
};

/* RFC 8446 Appendix A.2 (server) */
static const struct edge rfc_server[] = {
    {"START", "ClientHello", "START"},        /* Send HelloRetryRequest */
    {"START", "ClientHello", "WAIT_FLIGHT2"}, /* no 0-RTT */
    {"START", "ClientHello", "WAIT_EOED"},    /* 0-RTT */
    {"WAIT_EOED", "EndOfEarlyData", "WAIT_FLIGHT2"},
    {"WAIT_FLIGHT2", "Certificate", "WAIT_CV"},       /* WAIT_FLIGHT2 -> WAIT_CERT */
    {"WAIT_FLIGHT2", "Certificate", "WAIT_FINISHED"}, /* empty Certificate */
    {"WAIT_FLIGHT2", "Finished", "CONNECTED"},        /* no client auth: WAIT_FINISHED */
    {"WAIT_CV", "CertificateVerify", "WAIT_FINISHED"},
    {"WAIT_FINISHED", "Finished", "CONNECTED"},
    {"CONNECTED", "KeyUpdate", "CONNECTED"},
    {"CONNECTED", "Certificate", "CONNECTED"}, /* post-handshake auth */
    /* 4.6.2 (not drawn in A.2, which shows the handshake only): the rest of the client's
     * answer to a post-handshake CertificateRequest */
    {"CONNECTED", "CertificateVerify", "CONNECTED"},
    {"CONNECTED", "Finished", "CONNECTED"},
};

/* Transitions of the RFC not built yet, and the issue that brings them. */
static const struct edge pending[] = {
    {"", "", ""}, /* none left: every transition the RFC draws is built */
};

/* mica state -> RFC state name; the server's S_WAIT_FLIGHT2 (no client authentication) and
 * S_WAIT_CERT (client authentication) are both the RFC's WAIT_FLIGHT2 */
static const char *rfc_state(bool server, enum mica_state s)
{
    switch (s) {
    case C_WAIT_SH: return "WAIT_SH";
    case C_WAIT_EE: return "WAIT_EE";
    case C_WAIT_CERT_CR: return "WAIT_CERT_CR";
    case C_WAIT_CERT: return "WAIT_CERT";
    case C_WAIT_CV: return "WAIT_CV";
    case C_WAIT_FINISHED: return "WAIT_FINISHED";
    case S_START: return "START";
    case S_WAIT_EOED: return "WAIT_EOED";
    case S_WAIT_FLIGHT2: return "WAIT_FLIGHT2";
    case S_WAIT_CERT: return "WAIT_FLIGHT2"; /* the RFC's WAIT_FLIGHT2 -> WAIT_CERT, no message */
    case S_WAIT_CV: return "WAIT_CV";
    case S_WAIT_FINISHED: return "WAIT_FINISHED";
    case MICA_ST_CONNECTED: return "CONNECTED";
    default: return server ? "?server" : "?client";
    }
}

static bool has(const struct edge *set, size_t n, const char *from, const char *msg, const char *to)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(set[i].from, from) == 0 && strcmp(set[i].msg, msg) == 0 &&
            strcmp(set[i].to, to) == 0) {
            return true;
        }
    }
    return false;
}

/* the message name as the RFC's diagram says it (an HRR is a ServerHello on the wire) */
static const char *msg_name(bool server, enum mica_state from, enum mica_state to, uint8_t msg)
{
    if (!server && msg == MICA_HS_SERVER_HELLO && from == C_WAIT_SH && to == C_WAIT_SH) {
        return "HelloRetryRequest";
    }
    return mica_hs_type_name(msg);
}

static int check_side(bool server, const struct mica_fsm_row *t, const struct edge *rfc,
                      size_t rfc_n, char *dia, size_t cap)
{
    int bad = 0;
    size_t len = strlen(dia);

    for (; t->handler != NULL; t++) {
        for (unsigned to = 0; to < MICA_ST__COUNT; to++) {
            const char *m, *f, *tn;
            if ((t->may_go & MICA_S(to)) == 0) {
                continue;
            }
            m = msg_name(server, t->state, (enum mica_state)to, t->msg);
            f = rfc_state(server, t->state);
            tn = rfc_state(server, (enum mica_state)to);
            /* a server's Finished in WAIT_FLIGHT2 is the RFC's WAIT_FINISHED --Finished--> */
            if (!has(rfc, rfc_n, f, m, tn)) {
                fprintf(stderr,
                        "fsm_check: %s table has %s --%s--> %s, which RFC 8446 "
                        "Appendix A does not draw\n",
                        server ? "server" : "client", f, m, tn);
                bad = 1;
            }
            len += (size_t)snprintf(dia + len, cap - len, "    %s --> %s : %s\n",
                                    mica_state_name(t->state), mica_state_name(to), m);
        }
    }
    for (size_t i = 0; i < rfc_n; i++) {
        bool found = false;
        for (const struct mica_fsm_row *r = server ? mica_server_fsm : mica_client_fsm;
             r->handler != NULL; r++) {
            for (unsigned to = 0; to < MICA_ST__COUNT; to++) {
                if ((r->may_go & MICA_S(to)) != 0 &&
                    strcmp(rfc_state(server, r->state), rfc[i].from) == 0 &&
                    strcmp(rfc_state(server, (enum mica_state)to), rfc[i].to) == 0 &&
                    strcmp(msg_name(server, r->state, (enum mica_state)to, r->msg), rfc[i].msg) ==
                        0) {
                    found = true;
                }
            }
        }
        if (!found && !has(pending, sizeof(pending) / sizeof(pending[0]), rfc[i].from, rfc[i].msg,
                           rfc[i].to)) {
            fprintf(stderr,
                    "fsm_check: RFC 8446 Appendix A draws %s --%s--> %s (%s), "
                    "missing from mica's table and not listed as pending\n",
                    rfc[i].from, rfc[i].msg, rfc[i].to, server ? "server" : "client");
            bad = 1;
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    static char dia[16384];
    char *have;
    size_t len;
    int bad = 0;
    FILE *f;

    if (argc != 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0)) {
        fprintf(stderr, "usage: fsm_check --check|--write docs/STATE-MACHINE.md\n");
        return 2;
    }
    len = (size_t)snprintf(
        dia, sizeof(dia),
        "# mica's handshake state machines\n\n"
        "Generated by `tests/lint/fsm_check --write` from the tables in `src/tls/client.c`\n"
        "and `src/tls/server.c`; do not edit. `make test` checks that this file is fresh\n"
        "and that every transition is one RFC 8446 Appendix A draws. Each arrow is a message\n"
        "received; a message with no arrow from the current state is `unexpected_message`.\n"
        "The server's `S_WAIT_FLIGHT2` (no client authentication) and `S_WAIT_CERT` (a\n"
        "certificate was requested) are both the RFC's WAIT_FLIGHT2.\n\n"
        "## Client (RFC 8446 A.1)\n\n```mermaid\nstateDiagram-v2\n"
        "    [*] --> C_WAIT_SH : send ClientHello\n");
    (void)len;
    bad |= check_side(false, mica_client_fsm, rfc_client,
                      sizeof(rfc_client) / sizeof(rfc_client[0]), dia, sizeof(dia));
    snprintf(dia + strlen(dia), sizeof(dia) - strlen(dia),
             "```\n\n## Server (RFC 8446 A.2)\n\n```mermaid\nstateDiagram-v2\n"
             "    [*] --> S_START\n");
    bad |= check_side(true, mica_server_fsm, rfc_server, sizeof(rfc_server) / sizeof(rfc_server[0]),
                      dia, sizeof(dia));
    snprintf(dia + strlen(dia), sizeof(dia) - strlen(dia), "```\n");

    if (strcmp(argv[1], "--write") == 0) {
        f = fopen(argv[2], "w");
        if (f == NULL || fputs(dia, f) == EOF || fclose(f) != 0) {
            fprintf(stderr, "fsm_check: cannot write %s\n", argv[2]);
            return 1;
        }
        return bad;
    }
    f = fopen(argv[2], "r");
    have = calloc(1, sizeof(dia) + 1);
    if (f == NULL || have == NULL) {
        fprintf(stderr, "fsm_check: cannot read %s\n", argv[2]);
        free(have);
        return 1;
    }
    len = fread(have, 1, sizeof(dia), f);
    fclose(f);
    if (len != strlen(dia) || memcmp(have, dia, len) != 0) {
        fprintf(stderr, "fsm_check: %s is stale: run tests/lint/fsm_check --write %s\n", argv[2],
                argv[2]);
        bad = 1;
    }
    free(have);
    if (bad == 0) {
        printf("fsm_check: tables match RFC 8446 Appendix A (pending transitions listed); "
               "diagram fresh\n");
    }
    return bad;
}
