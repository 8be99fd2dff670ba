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
    /* optional: called after tamper with each batch; returns the batch to deliver instead
     * (its length, and in *out a malloc'ed buffer the harness frees; NULL when empty).
     * Unlike tamper it may grow the batch. The man in the middle below uses it. */
    size_t (*rewrite)(void *ctx, bool to_server, const uint8_t *in, size_t len, uint8_t **out);
    void *rewrite_ctx;
};

/* config helpers: a server config with the test chain of `kind` (ecdsa-p256, rsa2048,
 * ed25519, ...) and a client config that trusts the test CA */
mica_config *server_config(const char *kind);
mica_config *client_config(void);
/* harness_all_groups: client_config keeps the default groups under MICA_TEST_LIGHT too
 * (for tests whose cases depend on the default key shares: test_hostile, test_trace) */
extern bool harness_all_groups;

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

/*
 * A man in the middle for protected states (tests/inproc/test_hostile.c).
 *
 * It learns the traffic secrets from the server's key log (mica_config_set_keylog: the
 * server logs all four before it sends its first flight), opens every record that
 * crosses, hands each batch to an edit callback as a list of plaintext records, and
 * seals the result again as the sender would: same keys, its own sequence numbers. A
 * test can so drop, reorder, duplicate, coalesce, split or replace handshake messages in
 * any state, and inject records sealed under the keys the receiver expects.
 *
 * Epochs follow the stream: a direction is read in plaintext until a protected record
 * (outer type application_data) arrives, then under the handshake secret; after that
 * direction's Finished under the application secret, which a KeyUpdate moves on. A
 * record it cannot open (the peers' keys differ after tampering) passes unchanged, as
 * MITM_RAW. Records whose outer type is not application_data (the hellos, CCS, alerts
 * sent in the clear) stay plaintext.
 *
 *     struct mitm *m = mitm_new(scfg, my_edit, &ctx);   // before the pair is made
 *     CHECK_OK(mitm_pair_new(&p, m, ccfg, scfg, "localhost"));
 *     (void)pair_move(&p);                              // my_edit sees every batch
 *     pair_free(&p);
 *     mitm_free(m);                                     // also unhooks scfg's key log
 */
enum mitm_epoch { MITM_PLAIN = 0, MITM_HS = 1, MITM_AP = 2, MITM_RAW = 3, MITM_CUR = 4 };
#define MITM_MAX_RECS 64

/* one record: its (inner) content type, the epoch it is sealed in, its content
 * (for MITM_RAW: the whole record as it was on the wire), malloc'ed */
struct mitm_rec {
    uint8_t type;
    uint8_t epoch;
    uint8_t *data;
    size_t len;
};
struct flight {
    bool to_server;
    size_t n;
    struct mitm_rec rec[MITM_MAX_RECS];
};

struct mitm;
typedef void (*mitm_edit_fn)(void *ctx, struct flight *f);

/* mitm_new: sets scfg's key log to the new MITM (scfg must outlive it); edit may be NULL */
struct mitm *mitm_new(mica_config *scfg, mitm_edit_fn edit, void *ctx);
void mitm_free(struct mitm *m);
/* mitm_pair_new: pair_new with every batch going through m (whose state is reset) */
mica_err mitm_pair_new(struct pair *p, struct mitm *m, const mica_config *ccfg,
                       const mica_config *scfg, const char *server_name);
/* mitm_seal: one record of content type `type` in epoch (MITM_CUR: the epoch the sender
 * of that direction uses now), sealed as the MITM seals, into out; returns its length
 * (0 when it does not fit or the keys are unknown). Under protection any inner type
 * goes, change_cipher_spec and unknown ones included; type 0 with no content makes an
 * inner plaintext of zeros only. */
size_t mitm_seal(struct mitm *m, bool to_server, uint8_t type, int epoch, const uint8_t *content,
                 size_t len, uint8_t *out, size_t cap);
/* mitm_inject: seal as mitm_seal and feed it at once to the receiver; its feed result */
mica_err mitm_inject(struct mitm *m, struct pair *p, bool to_server, uint8_t type, int epoch,
                     const uint8_t *content, size_t len);

/* Flight edits. flight_find: the first record of content type handshake (not raw) whose
 * content starts with a message of hs_type, or -1. */
int flight_find(const struct flight *f, uint8_t hs_type);
bool flight_insert(struct flight *f, size_t at, uint8_t type, uint8_t epoch, const uint8_t *data,
                   size_t len);
bool flight_set(struct flight *f, size_t at, const uint8_t *data, size_t len);
void flight_remove(struct flight *f, size_t at);
void flight_truncate(struct flight *f, size_t n);

#endif
