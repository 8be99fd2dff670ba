/*
 * In-process client <-> server through the public sans-I/O API, with fault injection:
 * bytes move between the two engines in chunks of a chosen size (1 = every record cut
 * into 1-byte fragments), and a hook may rewrite what crosses.
 */
#ifndef MICA_TEST_HARNESS_H
#define MICA_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/mica.h>

struct pair {
    mica_conn *client, *server;
    size_t chunk; /* bytes per feed call; 0 = everything at once */
    /* optional: called with each batch of bytes before delivery; may modify in place and
     * change *len. to_server says the direction. */
    void (*tamper)(void *ctx, bool to_server, uint8_t *buf, size_t *len);
    void *tamper_ctx;
    size_t bytes_c2s, bytes_s2c;
    int flights;
};

/* config helpers: a server config with the test chain of `kind` (ecdsa-p256, rsa2048,
 * ed25519, ...) and a client config that trusts the test CA */
mica_config *server_config(const char *kind);
mica_config *client_config(void);

/* pair_new: a client for server_name and a server, not yet run */
mica_err pair_new(struct pair *p, const mica_config *ccfg, const mica_config *scfg,
                  const char *server_name);
void pair_free(struct pair *p);

/* pair_move: deliver everything pending in both directions until neither side has output
 * (or an error); returns the first fatal error of either side, or MICA_OK */
mica_err pair_move(struct pair *p);

/* pair_handshake: move until both are connected or one failed */
mica_err pair_handshake(struct pair *p);

/* send len bytes from one side and read them at the other; checks they arrive intact */
bool pair_transfer(struct pair *p, bool from_client, size_t len);

#endif
