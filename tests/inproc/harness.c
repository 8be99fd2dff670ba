#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

mica_config *server_config(const char *kind)
{
    char chain[256], key[256];
    mica_config *cfg = mica_config_new();

    if (cfg == NULL) {
        return NULL;
    }
    snprintf(chain, sizeof(chain), "%s", vec_path("certs/"));
    snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%s.chain.pem", kind);
    snprintf(key, sizeof(key), "%s", vec_path("certs/"));
    snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s.key", kind);
    if (mica_config_add_cert_chain_file(cfg, chain, key) != MICA_OK) {
        fprintf(stderr, "cannot load %s / %s\n", chain, key);
        mica_config_free(cfg);
        return NULL;
    }
    return cfg;
}

mica_config *client_config(void)
{
    mica_config *cfg = mica_config_new();

    if (cfg == NULL) {
        return NULL;
    }
    if (mica_config_set_ca_file(cfg, vec_path("certs/ca.pem")) != MICA_OK) {
        mica_config_free(cfg);
        return NULL;
    }
    return cfg;
}

mica_err pair_new(struct pair *p, const mica_config *ccfg, const mica_config *scfg,
                  const char *server_name)
{
    mica_err err;

    memset(p, 0, sizeof(*p));
    err = mica_conn_new_server(scfg, &p->server);
    if (err != MICA_OK) {
        return err;
    }
    err = mica_conn_new_client(ccfg, server_name, &p->client);
    if (err != MICA_OK) {
        mica_conn_free(p->server);
        p->server = NULL;
    }
    return err;
}

void pair_free(struct pair *p)
{
    mica_conn_free(p->client);
    mica_conn_free(p->server);
    p->client = p->server = NULL;
}

/* deliver: from's pending output into to, in chunks; returns to's error if any */
static mica_err deliver(struct pair *p, mica_conn *from, mica_conn *to, bool to_server, bool *moved)
{
    const uint8_t *out;
    size_t len = 0, off = 0;
    uint8_t *copy;
    mica_err err = MICA_OK;

    if (mica_conn_pending(from, &out, &len) != MICA_OK || len == 0) {
        return MICA_OK;
    }
    *moved = true;
    copy = malloc(len + 64);
    if (copy == NULL) {
        return MICA_E_NOMEM;
    }
    memcpy(copy, out, len);
    mica_conn_sent(from, len);
    if (p->tamper != NULL) {
        p->tamper(p->tamper_ctx, to_server, copy, &len);
    }
    if (to_server) {
        p->bytes_c2s += len;
    } else {
        p->bytes_s2c += len;
    }
    while (off < len && err == MICA_OK) {
        size_t n = p->chunk == 0 || len - off < p->chunk ? len - off : p->chunk, used = 0;
        err = mica_conn_feed(to, copy + off, n, &used);
        off += used;
        if (err == MICA_OK && used != n) {
            err = MICA_E_INTERNAL; /* feed must take everything unless it fails */
        }
    }
    free(copy);
    return err;
}

mica_err pair_move(struct pair *p)
{
    bool moved = true;
    mica_err ec = MICA_OK, es = MICA_OK;

    while (moved) {
        moved = false;
        es = deliver(p, p->client, p->server, true, &moved);
        ec = deliver(p, p->server, p->client, false, &moved);
        if (moved) {
            p->flights++;
        }
        if (mica_err_is_fatal(es) || mica_err_is_fatal(ec)) {
            /* let the alert of the failing side reach the other */
            bool again = false;
            (void)deliver(p, p->client, p->server, true, &again);
            (void)deliver(p, p->server, p->client, false, &again);
            break;
        }
    }
    if (mica_err_is_fatal(mica_conn_error(p->client))) {
        return mica_conn_error(p->client);
    }
    if (mica_err_is_fatal(mica_conn_error(p->server))) {
        return mica_conn_error(p->server);
    }
    return MICA_OK;
}

mica_err pair_handshake(struct pair *p)
{
    mica_err err = pair_move(p);

    if (err != MICA_OK) {
        return err;
    }
    if (!mica_conn_is_connected(p->client) || !mica_conn_is_connected(p->server)) {
        return MICA_E_INTERNAL;
    }
    return MICA_OK;
}

bool pair_transfer(struct pair *p, bool from_client, size_t len)
{
    mica_conn *from = from_client ? p->client : p->server;
    mica_conn *to = from_client ? p->server : p->client;
    uint8_t *data = malloc(len + 1), *got = malloc(len + 1);
    size_t sent = 0, recvd = 0;
    bool ok = data != NULL && got != NULL;

    for (size_t i = 0; ok && i < len; i++) {
        data[i] = (uint8_t)(i * 131 + (i >> 11));
    }
    while (ok && recvd < len) {
        size_t n = 0;
        mica_err err;
        if (sent < len) {
            err = mica_conn_write(from, data + sent, len - sent, &n);
            if (err != MICA_OK && err != MICA_WANT_WRITE) {
                ok = false;
                break;
            }
            sent += n;
        }
        if (pair_move(p) != MICA_OK) {
            ok = false;
            break;
        }
        for (;;) {
            err = mica_conn_read(to, got + recvd, len - recvd, &n);
            if (err != MICA_OK || n == 0) {
                break;
            }
            recvd += n;
        }
        if (err != MICA_OK && err != MICA_WANT_READ) {
            ok = false;
        }
    }
    ok = ok && recvd == len && memcmp(data, got, len) == 0;
    free(data);
    free(got);
    return ok;
}
