/*
 * The TLS 1.3 key schedule, RFC 8446 section 7, as a small typestate machine:
 *
 *      NONE --early()--> EARLY --handshake()--> HANDSHAKE --master()--> MASTER --done()--> DONE
 *
 * Each derivation names the stage it belongs to and fails with MICA_E_STAGE when called
 * in any other (rustls's stage tokens, checked at run time). Moving to the next stage
 * wipes the previous stage's secret at once: after handshake() the early secret no
 * longer exists anywhere.
 *
 * Transcript hashes are passed in as bytes of the suite's hash length; the caller owns
 * the running transcript (transcript.h).
 *
 *     struct mica_keysched ks;
 *     mica_ks_init(&ks, suite->hash);
 *     TRY(mica_ks_early(&ks, NULL, 0));                 // no PSK
 *     TRY(mica_ks_handshake(&ks, ecdhe.b, ecdhe.len));
 *     TRY(mica_ks_hs_traffic(&ks, th_ch_sh, &c_hs, &s_hs));
 *     TRY(mica_ks_master(&ks));
 *     TRY(mica_ks_app_traffic(&ks, th_ch_sf, &c_ap, &s_ap));
 *     ...
 *     mica_ks_clear(&ks);
 */
#ifndef MICA_TLS_KEYSCHED_H
#define MICA_TLS_KEYSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

enum mica_ks_stage { MICA_KS_NONE, MICA_KS_EARLY, MICA_KS_HANDSHAKE, MICA_KS_MASTER, MICA_KS_DONE };

struct mica_keysched {
    const struct mica_hash_desc *hash;
    enum mica_ks_stage stage;
    mica_secret secret; /* the current stage's secret: early, handshake or master */
};

void mica_ks_init(struct mica_keysched *ks, const struct mica_hash_desc *hash);
void mica_ks_clear(struct mica_keysched *ks); /* wipes; back to NONE */
const char *mica_ks_stage_name(enum mica_ks_stage stage);

/* NONE -> EARLY. Early Secret = HKDF-Extract(0, PSK); psk NULL means no PSK (zeros). */
MICA_MUST mica_err mica_ks_early(struct mica_keysched *ks, const uint8_t *psk, size_t psk_len);

/* EARLY: binder_key = Derive-Secret(ES, "ext binder" | "res binder", "") */
MICA_MUST mica_err mica_ks_binder_key(const struct mica_keysched *ks, bool external,
                                      mica_secret *out);
/* EARLY: client_early_traffic_secret = Derive-Secret(ES, "c e traffic", ClientHello) */
MICA_MUST mica_err mica_ks_early_traffic(const struct mica_keysched *ks, const uint8_t *th,
                                         mica_secret *out);
/* EARLY: early_exporter_master_secret = Derive-Secret(ES, "e exp master", ClientHello) */
MICA_MUST mica_err mica_ks_early_exporter(const struct mica_keysched *ks, const uint8_t *th,
                                          mica_secret *out);

/* EARLY -> HANDSHAKE. Handshake Secret = HKDF-Extract(Derive-Secret(ES, "derived", ""),
 * (EC)DHE); a NULL shared secret (psk_ke) means zeros. */
MICA_MUST mica_err mica_ks_handshake(struct mica_keysched *ks, const uint8_t *shared,
                                     size_t shared_len);
/* HANDSHAKE: {client,server}_handshake_traffic_secret over ClientHello..ServerHello */
MICA_MUST mica_err mica_ks_hs_traffic(const struct mica_keysched *ks, const uint8_t *th,
                                      mica_secret *client, mica_secret *server);

/* HANDSHAKE -> MASTER. Master Secret = HKDF-Extract(Derive-Secret(HS, "derived", ""), 0) */
MICA_MUST mica_err mica_ks_master(struct mica_keysched *ks);
/* MASTER: {client,server}_application_traffic_secret_0 over ClientHello..server Finished */
MICA_MUST mica_err mica_ks_app_traffic(const struct mica_keysched *ks, const uint8_t *th,
                                       mica_secret *client, mica_secret *server);
/* MASTER: exporter_master_secret over ClientHello..server Finished */
MICA_MUST mica_err mica_ks_exporter_master(const struct mica_keysched *ks, const uint8_t *th,
                                           mica_secret *out);
/* MASTER: resumption_master_secret over ClientHello..client Finished */
MICA_MUST mica_err mica_ks_resumption_master(const struct mica_keysched *ks, const uint8_t *th,
                                             mica_secret *out);
/* MASTER -> DONE: the master secret is wiped; nothing more can be derived. */
MICA_MUST mica_err mica_ks_done(struct mica_keysched *ks);

/* ---- stage-free functions of a given secret (RFC 8446 7.1, 7.3, 7.5, 4.4.4, 4.6.1) ---- */

/* HKDF-Expand-Label(secret, label, context, out_len); label without "tls13 ". */
MICA_MUST mica_err mica_ks_expand_label(const struct mica_hash_desc *h, const mica_secret *secret,
                                        const char *label, const uint8_t *context,
                                        size_t context_len, uint8_t *out, size_t out_len);

/* Derive-Secret(secret, label, Messages) given th = Transcript-Hash(Messages). */
MICA_MUST mica_err mica_ks_derive_secret(const struct mica_hash_desc *h, const mica_secret *secret,
                                         const char *label, const uint8_t *th, mica_secret *out);

/* [sender]_write_key and _iv from a traffic secret (RFC 8446 7.3). */
MICA_MUST mica_err mica_ks_traffic_key(const struct mica_suite *s, const mica_secret *traffic,
                                       uint8_t *key, uint8_t *iv);

/* finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) */
MICA_MUST mica_err mica_ks_finished_key(const struct mica_hash_desc *h, const mica_secret *base_key,
                                        mica_secret *out);

/* verify_data = HMAC(finished_key, th): the Finished value, and (with a binder key and
 * the truncated ClientHello's hash) the PSK binder. out gets h->len bytes. */
MICA_MUST mica_err mica_ks_finished(const struct mica_hash_desc *h, const mica_secret *base_key,
                                    const uint8_t *th, uint8_t *out);

/* Constant-time check of a received Finished or binder: MICA_E_DECRYPT_ERROR if it is
 * not the expected value (RFC 8446 4.4.4: "MUST terminate ... with decrypt_error"). */
MICA_MUST mica_err mica_ks_verify_finished(const struct mica_hash_desc *h,
                                           const mica_secret *base_key, const uint8_t *th,
                                           const uint8_t *got, size_t got_len);

/* application_traffic_secret_N+1 = HKDF-Expand-Label(_N, "traffic upd", "", Hash.length),
 * in place (RFC 8446 7.2). */
MICA_MUST mica_err mica_ks_update_traffic(const struct mica_hash_desc *h, mica_secret *traffic);

/* TLS-Exporter(label, context, length) from an (early) exporter master secret (7.5). */
MICA_MUST mica_err mica_ks_exporter(const struct mica_hash_desc *h, const mica_secret *exp_master,
                                    const char *label, size_t label_len, const uint8_t *context,
                                    size_t context_len, uint8_t *out, size_t out_len);

/* PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length) */
MICA_MUST mica_err mica_ks_resumption_psk(const struct mica_hash_desc *h,
                                          const mica_secret *res_master, const uint8_t *nonce,
                                          size_t nonce_len, mica_secret *psk);

#endif /* MICA_TLS_KEYSCHED_H */
