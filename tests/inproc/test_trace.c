/*
 * Trace events: the order of messages, flights, key changes, states and checks of a real
 * handshake on both sides; decoded fields; and that no secret byte ever reaches an event
 * (each secret of the connection, from the key log, is searched for in every field).
 */
#include <stdlib.h>
#include <string.h>

#include <mica/trace.h>

#include "check.h"
#include "harness.h"

#define MAX_EVENTS 256

struct log {
    char line[MAX_EVENTS][1024];
    size_t n;
};

static struct log client_log, server_log;
static char secrets[16][200];
static size_t secrets_n;

static void record(void *ctx, const mica_conn *c, const struct mica_trace_event *ev)
{
    struct log *l = mica_conn_is_server(c) ? &server_log : &client_log;
    static const char *const kinds[] = {"?",    "message", "secret", "keys",
                                        "cert", "alert",   "state",  "flight"};
    size_t len;

    (void)ctx;
    if (l->n >= MAX_EVENTS) {
        return;
    }
    len = (size_t)snprintf(l->line[l->n], sizeof(l->line[0]), "%s %s %s [%s]", kinds[ev->kind],
                           ev->sent ? "sent" : "recv", ev->name, ev->protection);
    for (size_t i = 0; i < ev->fields_n && len < sizeof(l->line[0]); i++) {
        len += (size_t)snprintf(l->line[l->n] + len, sizeof(l->line[0]) - len, " %s=%s",
                                ev->fields[i].name, ev->fields[i].value);
    }
    CHECK(ev->elapsed_us < 60u * 1000000u);
    l->n++;
}

static void keylog(void *ctx, const char *line)
{
    const char *secret = strrchr(line, ' ');

    (void)ctx;
    if (secret != NULL && secrets_n < 16) {
        snprintf(secrets[secrets_n++], sizeof(secrets[0]), "%s", secret + 1);
    }
}

/* find: the index of the first line at or after from that starts with prefix, or -1 */
static int find(const struct log *l, size_t from, const char *prefix)
{
    for (size_t i = from; i < l->n; i++) {
        if (strncmp(l->line[i], prefix, strlen(prefix)) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* in_order: every prefix appears, each after the one before */
static void in_order(const struct log *l, const char *const *prefixes, size_t n, const char *who)
{
    int at = 0;

    for (size_t i = 0; i < n; i++) {
        int k = find(l, (size_t)at, prefixes[i]);
        CHECK_MSG(k >= 0, "%s: no event '%s' after event %d", who, prefixes[i], at);
        if (k < 0) {
            return;
        }
        at = k + 1;
    }
}

static void dump(const struct log *l, const char *who)
{
    for (size_t i = 0; i < l->n; i++) {
        fprintf(stderr, "%s %3zu %s\n", who, i, l->line[i]);
    }
}

static void full_handshake(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;
    static const char *const client_seq[] = {
        "message sent ClientHello [plaintext]",
        "flight sent flight [plaintext] messages=ClientHello",
        "message recv ServerHello [plaintext]",
        "secret sent c hs traffic",
        "keys recv read keys [handshake keys]",
        "state recv C_WAIT_EE",
        "message recv EncryptedExtensions [handshake keys]",
        "message recv Certificate [handshake keys]",
        "cert recv verified",
        "message recv CertificateVerify [handshake keys] algorithm=ecdsa_secp256r1_sha256",
        "message recv Finished [handshake keys] verify_data=32 bytes",
        "secret sent c ap traffic",
        "message sent Finished [handshake keys]",
        "keys sent write keys [application keys]",
        "state recv CONNECTED",
        "flight sent flight [handshake keys] messages=Finished",
    };
    static const char *const server_seq[] = {
        "message recv ClientHello [plaintext]",
        "message sent ServerHello [plaintext]",
        "keys sent write keys [handshake keys]",
        "message sent EncryptedExtensions [handshake keys]",
        "message sent Certificate [handshake keys]",
        "message sent CertificateVerify [handshake keys]",
        "message sent Finished [handshake keys]",
        "state recv S_WAIT_FLIGHT2",
        "flight sent flight [plaintext + handshake keys] messages=ServerHello, "
        "EncryptedExtensions, "
        "Certificate, CertificateVerify, Finished",
        "message recv Finished [handshake keys]",
        "state recv CONNECTED",
    };
    int ch;

    mica_config_set_trace(scfg, record, NULL);
    mica_config_set_trace(ccfg, record, NULL);
    mica_config_set_keylog(ccfg, keylog, NULL);
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(pair_transfer(&p, true, 100));
    CHECK_OK(mica_conn_key_update(p.client, 1));
    CHECK(pair_transfer(&p, true, 100));
    CHECK_OK(mica_conn_close(p.client));
    CHECK_OK(pair_move(&p));
    in_order(&client_log, client_seq, sizeof(client_seq) / sizeof(client_seq[0]), "client");
    in_order(&server_log, server_seq, sizeof(server_seq) / sizeof(server_seq[0]), "server");
    /* post-handshake: the KeyUpdate both ways, then the closure */
    {
        static const char *const post[] = {
            "message sent KeyUpdate [application keys] request_update=update_requested",
            "keys sent write keys [application keys]",
            "message recv KeyUpdate [application keys] request_update=update_not_requested",
            "alert sent close_notify [application keys] level=warning",
        };
        in_order(&client_log, post, 4, "client (post-handshake)");
    }
    /* decoded fields of the ClientHello */
    ch = find(&client_log, 0, "message sent ClientHello");
    CHECK(ch >= 0);
    if (ch >= 0) {
        const char *l = client_log.line[ch];
        CHECK(strstr(l, "cipher_suites=GREASE(0x") != NULL);
        CHECK(strstr(l, "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384") != NULL);
        CHECK(strstr(l, "key_share=GREASE(0x") != NULL);
        CHECK(strstr(l, "X25519MLKEM768 (1216 bytes), x25519 (32 bytes)") != NULL);
        CHECK(strstr(l, "server_name=localhost") != NULL);
        CHECK(strstr(l, "supported_versions=GREASE(0x") != NULL && strstr(l, "TLSv1.3") != NULL);
    }
    CHECK(find(&server_log, 0, "message sent ServerHello [plaintext] legacy_version=0x0303") >= 0);
    /* no secret, nor its first 16 bytes, in any event */
    CHECK(secrets_n >= 5);
    for (size_t s = 0; s < secrets_n; s++) {
        char prefix[33];
        snprintf(prefix, sizeof(prefix), "%.32s", secrets[s]);
        for (size_t i = 0; i < client_log.n; i++) {
            CHECK_MSG(strstr(client_log.line[i], prefix) == NULL, "secret %zu in client event %zu",
                      s, i);
        }
        for (size_t i = 0; i < server_log.n; i++) {
            CHECK_MSG(strstr(server_log.line[i], prefix) == NULL, "secret %zu in server event %zu",
                      s, i);
        }
    }
    if (check_failures > 0 || getenv("MICA_TRACE_DUMP") != NULL) {
        dump(&client_log, "client");
        dump(&server_log, "server");
    }
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

static void hrr_and_failure(void)
{
    mica_config *scfg = server_config("ecdsa-p256"), *ccfg = client_config();
    struct pair p;

    client_log.n = server_log.n = 0;
    mica_config_set_trace(scfg, record, NULL);
    mica_config_set_trace(ccfg, record, NULL);
    CHECK_OK(mica_config_set_groups(scfg, "secp384r1"));
    CHECK_OK(mica_config_set_groups(ccfg, "x25519:secp384r1"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "example.com")); /* a name the certificate lacks */
    CHECK(pair_handshake(&p) != MICA_OK);
    {
        static const char *const seq[] = {
            "message recv HelloRetryRequest [plaintext]",
            "message sent ClientHello [plaintext]",
            "cert recv failed",
            ("alert sent bad_certificate [handshake keys] level=fatal cause=the server's "
             "certificate is not valid"),
        };
        in_order(&client_log, seq, 4, "client (HRR, failure)");
    }
    CHECK(find(&client_log, 0,
               "message recv HelloRetryRequest [plaintext] legacy_version=0x0303 "
               "legacy_session_id_echo=") >= 0);
    CHECK(find(&server_log, 0, "alert recv bad_certificate") >= 0);
    if (check_failures > 0 || getenv("MICA_TRACE_DUMP") != NULL) {
        dump(&client_log, "client");
    }
    pair_free(&p);
    /* without a callback, nothing is reported */
    client_log.n = server_log.n = 0;
    mica_config_set_trace(scfg, NULL, NULL);
    mica_config_set_trace(ccfg, NULL, NULL);
    CHECK_OK(mica_config_set_groups(scfg, "secp384r1:x25519"));
    CHECK_OK(pair_new(&p, ccfg, scfg, "localhost"));
    CHECK_OK(pair_handshake(&p));
    CHECK(client_log.n == 0 && server_log.n == 0);
    pair_free(&p);
    mica_config_free(scfg);
    mica_config_free(ccfg);
}

int main(void)
{
    harness_all_groups = true; /* its cases are built on the default key shares */
    full_handshake();
    hrr_and_failure();
    return check_exit("test_trace");
}
