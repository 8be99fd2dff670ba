/*
 * RFC 8448 reproduced byte for byte: every secret, key, IV, Finished value, binder and
 * every record of sections 3 (1-RTT), 4 (resumed 0-RTT), 5 (HelloRetryRequest),
 * 6 (client authentication) and 7 (compatibility mode).
 *
 * Two passes over the same data (tests/vectors/rfc8448/rfc8448.vec, extracted from the
 * RFC text by extract.py):
 *   1. step by step: every derivation the RFC prints is recomputed from its printed
 *      inputs with mica's functions (Derive-Secret, HKDF-Extract, traffic keys,
 *      finished keys, binders, resumption PSKs, key pairs);
 *   2. as a connection: each section's handshake is replayed through the key schedule
 *      stages, the running transcript and the record layer, the way the engine uses
 *      them, and every protected record is sealed and opened again, byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "base/rd.h"
#include "check.h"
#include "crypto/crypto.h"
#include "tls/keysched.h"
#include "tls/record.h"
#include "tls/transcript.h"
#include "vec.h"
#include "x509/x509.h"

struct bytes {
    const uint8_t *p;
    size_t n;
};

static struct bytes V(int sec, const char *side, const char *step, const char *field, int nth) {
    struct bytes b;

    b.p = vec_rfc8448(sec, side, step, field, nth, &b.n);
    return b;
}

static void
secret_from(mica_secret *s, struct bytes b)
{
    CHECK(b.n <= sizeof(s->b));
    memcpy(s->b, b.p, b.n);
    s->len = (uint8_t)b.n;
}

static const struct mica_suite *suite(void)
{
    /* every RFC 8448 trace uses TLS_AES_128_GCM_SHA256 */
    return mica_suite_by_id(0x1301);
}

/* ---- pass 1: each printed step recomputed from its printed inputs ------------------- */

struct step {
    int sec;
    const char *side, *step;
    const char *field[8];
    struct bytes val[8];
    int n;
};

static struct bytes get(const struct step *s, const char *field)
{
    struct bytes none = {NULL, 0};

    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->field[i], field) == 0) {
            return s->val[i];
        }
    }
    return none;
}

static int counts[8];
enum { K_DERIVE, K_EXTRACT, K_KEYS, K_FINKEY, K_BINDER, K_RESUMPTION, K_KEYPAIR, K_PLAIN };

/* label inside the quotes, without "tls13 " */
static int quoted_label(const char *step, char *out, size_t cap)
{
    const char *a = strchr(step, '"'), *b;

    if (a == NULL || (b = strchr(a + 1, '"')) == NULL) {
        return 0;
    }
    a++;
    if (strncmp(a, "tls13 ", 6) == 0) {
        a += 6;
    }
    if ((size_t)(b - a) >= cap) {
        return 0;
    }
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return 1;
}

static void check_step(const struct step *s)
{
    const struct mica_hash_desc *h = &mica_hash_sha256;
    char label[64];
    uint8_t out[256];

    if (strncmp(s->step, "derive secret", 13) == 0 && get(s, "expanded").p != NULL) {
        MICA_SECRET(prk);
        MICA_SECRET(got);
        struct bytes hash = get(s, "hash"), want = get(s, "expanded");
        CHECK(quoted_label(s->step, label, sizeof(label)));
        secret_from(&prk, get(s, "PRK"));
        CHECK(hash.n == 32);
        CHECK_OK(mica_ks_derive_secret(h, &prk, label, hash.p, &got));
        CHECK_MSG(got.len == want.n && memcmp(got.b, want.p, want.n) == 0, "section %d {%s} %s",
                  s->sec, s->side, s->step);
        counts[K_DERIVE]++;
    } else if (strncmp(s->step, "extract secret", 14) == 0 && get(s, "secret").p != NULL) {
        MICA_SECRET(got);
        struct bytes salt = get(s, "salt"), ikm = get(s, "IKM"), want = get(s, "secret");
        CHECK_OK(mica_hkdf_extract(h, salt.p, salt.n, ikm.p, ikm.n, &got));
        CHECK_MSG(got.len == want.n && memcmp(got.b, want.p, want.n) == 0, "section %d {%s} %s",
                  s->sec, s->side, s->step);
        counts[K_EXTRACT]++;
    } else if (strstr(s->step, "traffic keys") != NULL && get(s, "key expanded").p != NULL) {
        MICA_SECRET(prk);
        uint8_t iv[MICA_AEAD_NONCE_LEN];
        secret_from(&prk, get(s, "PRK"));
        CHECK_OK(mica_ks_traffic_key(suite(), &prk, out, iv));
        CHECK_MEM(s->step, out, get(s, "key expanded").p, 16);
        CHECK_MEM(s->step, iv, get(s, "iv expanded").p, 12);
        counts[K_KEYS]++;
    } else if (strncmp(s->step, "calculate finished", 18) == 0 && get(s, "PRK").p != NULL) {
        MICA_SECRET(base);
        MICA_SECRET(fk);
        secret_from(&base, get(s, "PRK"));
        CHECK_OK(mica_ks_finished_key(h, &base, &fk));
        CHECK_MEM(s->step, fk.b, get(s, "expanded").p, 32);
        counts[K_FINKEY]++;
    } else if (strcmp(s->step, "calculate PSK binder") == 0 && get(s, "PRK").p != NULL) {
        MICA_SECRET(binder_key);
        struct bytes prefix = get(s, "ClientHello prefix");
        CHECK_OK(mica_hash(h, prefix.p, prefix.n, out));
        CHECK_MEM("binder hash", out, get(s, "binder hash").p, 32);
        secret_from(&binder_key, get(s, "PRK"));
        CHECK_OK(mica_ks_finished(h, &binder_key, out, out + 64));
        CHECK_MEM("binder", out + 64, get(s, "finished").p, 32);
        counts[K_BINDER]++;
    } else if (strncmp(s->step, "generate resumption secret", 26) == 0 && get(s, "PRK").p != NULL) {
        MICA_SECRET(rms);
        MICA_SECRET(psk);
        struct bytes nonce = get(s, "hash");
        secret_from(&rms, get(s, "PRK"));
        CHECK_OK(mica_ks_resumption_psk(h, &rms, nonce.p, nonce.n, &psk));
        CHECK_MEM(s->step, psk.b, get(s, "expanded").p, 32);
        counts[K_RESUMPTION]++;
    } else if (strstr(s->step, "key pair") != NULL) {
        const struct mica_group *g =
            mica_group_by_name(strstr(s->step, "x25519") ? "x25519" : "secp256r1");
        struct bytes priv = get(s, "private key"), pub = get(s, "public key");
        mica_kx_key *k = NULL;
        size_t n = 0;
        CHECK_OK(mica_kx_key_from_private(g, priv.p, priv.n, &k, out, sizeof(out), &n));
        CHECK(n == pub.n);
        CHECK_MEM(s->step, out, pub.p, pub.n);
        mica_kx_free(k);
        counts[K_KEYPAIR]++;
    } else if (strncmp(s->step, "send ", 5) == 0 && get(s, "complete record").p != NULL &&
               get(s, "complete record").p[0] != MICA_CT_APPLICATION_DATA) {
        /* unprotected records: ClientHello, ServerHello, ChangeCipherSpec */
        struct bytes payload = get(s, "payload"), rec = get(s, "complete record");
        struct mica_rec_dir d;
        uint8_t buf[1024];
        size_t n = 0;
        uint16_t version = (uint16_t)(rec.p[1] << 8 | rec.p[2]);
        mica_rec_dir_init(&d, true);
        memcpy(buf + MICA_RECORD_HEADER_LEN, payload.p, payload.n);
        CHECK_OK(mica_rec_seal(&d, (enum mica_content_type)rec.p[0], buf, sizeof(buf), payload.n, 0,
                               version, &n));
        CHECK(n == rec.n);
        CHECK_MEM(s->step, buf, rec.p, rec.n);
        counts[K_PLAIN]++;
    }
}

static void pass_steps(void)
{
    struct step cur;
    size_t rows = vec_rfc8448_rows();

    memset(&cur, 0, sizeof(cur));
    for (size_t i = 0; i <= rows; i++) {
        int sec = 0;
        const char *side = NULL, *step = NULL, *field = NULL;
        const uint8_t *val = NULL;
        size_t len = 0;
        bool same;

        if (i < rows) {
            vec_rfc8448_row(i, &sec, &side, &step, &field, &val, &len);
        }
        same = i < rows && cur.n > 0 && cur.sec == sec && strcmp(cur.side, side) == 0 &&
               strcmp(cur.step, step) == 0 && get(&cur, field).p == NULL && cur.n < 8;
        if (!same && cur.n > 0) {
            check_step(&cur);
            memset(&cur, 0, sizeof(cur));
        }
        if (i == rows) {
            break;
        }
        cur.sec = sec;
        cur.side = side;
        cur.step = step;
        cur.field[cur.n] = field;
        cur.val[cur.n].p = val;
        cur.val[cur.n].n = len;
        cur.n++;
    }
    printf("steps: %d Derive-Secret, %d HKDF-Extract, %d traffic key/IV, %d finished keys, "
           "%d binders, %d resumption PSKs, %d key pairs, %d plaintext records\n",
           counts[K_DERIVE], counts[K_EXTRACT], counts[K_KEYS], counts[K_FINKEY], counts[K_BINDER],
           counts[K_RESUMPTION], counts[K_KEYPAIR], counts[K_PLAIN]);
    /* the RFC prints exactly these many of each (its steps that say "same as" print no
     * values); any other count means the walk missed or misread some */
    CHECK(counts[K_DERIVE] == 47);
    CHECK(counts[K_EXTRACT] == 15);
    CHECK(counts[K_KEYS] == 21);
    CHECK(counts[K_FINKEY] == 10);
    CHECK(counts[K_BINDER] == 1);
    CHECK(counts[K_RESUMPTION] == 1);
    CHECK(counts[K_KEYPAIR] == 11);
    CHECK(counts[K_PLAIN] == 14);
}

/* ---- pass 2: each section as a connection ------------------------------------------ */

struct side_dirs {
    struct mica_rec_dir seal; /* the sender's write direction */
    struct mica_rec_dir open; /* the receiver's read direction */
};

struct flow {
    int sec;
    struct mica_transcript t;
    struct mica_keysched ks;
    struct side_dirs c2s, s2c;
    mica_secret c_hs, s_hs, c_ap, s_ap;
    int rec_n[2][4]; /* [client/server][kind] records seen so far */
};

static void flow_init(struct flow *f, int sec)
{
    memset(f, 0, sizeof(*f));
    f->sec = sec;
    mica_transcript_init(&f->t);
    mica_ks_init(&f->ks, &mica_hash_sha256);
    mica_rec_dir_init(&f->c2s.seal, true);
    mica_rec_dir_init(&f->c2s.open, false);
    mica_rec_dir_init(&f->s2c.seal, true);
    mica_rec_dir_init(&f->s2c.open, false);
}

static void flow_free(struct flow *f)
{
    mica_transcript_clear(&f->t);
    mica_ks_clear(&f->ks);
    mica_rec_dir_clear(&f->c2s.seal);
    mica_rec_dir_clear(&f->c2s.open);
    mica_rec_dir_clear(&f->s2c.seal);
    mica_rec_dir_clear(&f->s2c.open);
    mica_secret_wipe(&f->c_hs);
    mica_secret_wipe(&f->s_hs);
    mica_secret_wipe(&f->c_ap);
    mica_secret_wipe(&f->s_ap);
}

static void set_keys(struct side_dirs *d, const mica_secret *traffic, enum mica_epoch epoch)
{
    CHECK_OK(mica_rec_set_key(&d->seal, suite(), traffic, epoch));
    CHECK_OK(mica_rec_set_key(&d->open, suite(), traffic, epoch));
}

/* add: one handshake message, as the RFC constructs it, to the transcript */
static struct bytes add(struct flow *f, const char *side, const char *what, int nth)
{
    char step[128];
    struct bytes m;
    const char *article = (what[0] == 'E' || what[0] == 'A') ? "an" : "a";

    snprintf(step, sizeof(step), "construct %s %s handshake message", article, what);
    m = V(f->sec, side, step, what, nth);
    if (strcmp(what, "ServerHello") == 0 && nth == 0 && f->t.hash == NULL) {
        /* the ServerHello fixes the suite, hence the transcript hash */
        CHECK_OK(mica_transcript_set_hash(&f->t, &mica_hash_sha256));
    }
    CHECK_OK(mica_transcript_add(&f->t, m.p, m.n));
    return m;
}

/* th_is: the running transcript hash equals what the RFC printed for a step */
static void th_is(struct flow *f, const char *side, const char *step, int nth)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    CHECK_OK(mica_transcript_hash(&f->t, th));
    CHECK_MEM(step, th, V(f->sec, side, step, "hash", nth).p, 32);
}

static void secret_is(const mica_secret *s, struct bytes want, const char *what)
{
    CHECK_MSG(s->len == want.n && memcmp(s->b, want.p, want.n) == 0, "%s differs", what);
}

/*
 * record: the sender seals the printed payload and must produce the printed record
 * byte for byte; the receiver opens that record and must get the payload and type back.
 */
static void record(struct flow *f, const char *side, const char *kind, enum mica_content_type type)
{
    static const char *const kinds[] = {"handshake", "application_data", "alert",
                                        "change_cipher_spec"};
    int who = strcmp(side, "client") == 0 ? 0 : 1, k = 0;
    struct side_dirs *d = who == 0 ? &f->c2s : &f->s2c;
    char step[64];
    struct bytes payload, rec;
    uint8_t buf[2048], *content = NULL;
    size_t n = 0, content_len = 0;
    enum mica_content_type got_type = MICA_CT_INVALID;
    uint16_t version;

    while (strcmp(kinds[k], kind) != 0) {
        k++;
    }
    snprintf(step, sizeof(step), "send %s record", kind);
    payload = V(f->sec, side, step, "payload", f->rec_n[who][k]);
    rec = V(f->sec, side, step, "complete record", f->rec_n[who][k]);
    f->rec_n[who][k]++;
    version = (uint16_t)(rec.p[1] << 8 | rec.p[2]);

    memcpy(buf + MICA_RECORD_HEADER_LEN, payload.p, payload.n);
    CHECK_OK(mica_rec_seal(&d->seal, type, buf, sizeof(buf), payload.n, 0, version, &n));
    CHECK_MSG(n == rec.n, "section %d {%s} %s #%d: length %zu, want %zu", f->sec, side, step,
              f->rec_n[who][k], n, rec.n);
    CHECK_MEM(step, buf, rec.p, rec.n);

    memcpy(buf, rec.p, rec.n);
    CHECK_OK(mica_rec_open(&d->open, buf, rec.n, &got_type, &content, &content_len));
    CHECK(got_type == type);
    CHECK(content_len == payload.n);
    if (content != NULL && content_len == payload.n) {
        CHECK_MEM("opened payload", content, payload.p, payload.n);
    }
}

/* key exchange: the client's key from its printed private key; the server encapsulates
 * to the client's share with the RNG hook returning the server's printed private key */
static const uint8_t *hook_bytes;
static void rand_from_vector(uint8_t *buf, size_t len, void *ctx)
{
    (void)ctx;
    memcpy(buf, hook_bytes, len);
}

static void kx(struct flow *f, const char *group_step, int client_nth, int server_nth,
               mica_kx_shared *shared)
{
    const struct mica_group *g =
        mica_group_by_name(strstr(group_step, "x25519") ? "x25519" : "secp256r1");
    struct bytes cpriv = V(f->sec, "client", group_step, "private key", client_nth);
    struct bytes cpub = V(f->sec, "client", group_step, "public key", client_nth);
    struct bytes spub = V(f->sec, "server", group_step, "public key", server_nth);
    struct bytes ikm = V(f->sec, "server", "extract secret \"handshake\"", "IKM", 0);
    mica_kx_key *ck = NULL;
    uint8_t pub[MICA_MAX_KX_PUBLIC_LEN], share[MICA_MAX_KX_PUBLIC_LEN];
    size_t pub_len = 0, share_len = 0;
    MICA_KX_SHARED(server_shared);

    CHECK_OK(mica_kx_key_from_private(g, cpriv.p, cpriv.n, &ck, pub, sizeof(pub), &pub_len));
    CHECK_MEM("client share", pub, cpub.p, cpub.n);
    if (g->kind == MICA_KX_XDH) {
        hook_bytes = V(f->sec, "server", group_step, "private key", server_nth).p;
        mica_rand_set_hook(rand_from_vector, NULL);
        CHECK_OK(
            mica_kx_encap(g, cpub.p, cpub.n, share, sizeof(share), &share_len, &server_shared));
        mica_rand_set_hook(NULL, NULL);
        CHECK(share_len == spub.n);
        CHECK_MEM("server share", share, spub.p, spub.n);
        CHECK(server_shared.len == ikm.n);
        CHECK_MEM("server's shared secret", server_shared.b, ikm.p, ikm.n);
    } else {
        /* ECDH: the server's printed private key with the client's share */
        struct bytes spriv = V(f->sec, "server", group_step, "private key", server_nth);
        mica_kx_key *sk = NULL;
        CHECK_OK(
            mica_kx_key_from_private(g, spriv.p, spriv.n, &sk, share, sizeof(share), &share_len));
        CHECK_MEM("server share", share, spub.p, spub.n);
        CHECK_OK(mica_kx_decap(sk, cpub.p, cpub.n, &server_shared));
        CHECK_MEM("server's shared secret", server_shared.b, ikm.p, ikm.n);
        mica_kx_free(sk);
    }
    CHECK_OK(mica_kx_decap(ck, spub.p, spub.n, shared));
    CHECK(shared->len == ikm.n);
    CHECK_MEM("client's shared secret", shared->b, ikm.p, ikm.n);
    mica_kx_free(ck);
}

/* CertificateVerify (RFC 8446 4.4.3) checked with the leaf of the Certificate message */
static void check_cv(struct flow *f, const char *side, struct bytes cert_msg, struct bytes cv_msg,
                     const uint8_t *th)
{
    static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
    static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
    const char *ctx = strcmp(side, "server") == 0 ? server_ctx : client_ctx;
    mica_rd r = mica_rd_init(cert_msg.p + 4, cert_msg.n - 4), list, entry, cert, sig;
    uint8_t content[64 + 34 + 1 + MICA_MAX_HASH_LEN];
    uint16_t scheme = 0;
    mica_pkey *key = NULL;
    size_t n;

    CHECK_OK(mica_rd_vec8(&r, &list, 0, 255)); /* certificate_request_context */
    CHECK_OK(mica_rd_vec24(&r, &list, 0, 0xffffff));
    CHECK_OK(mica_rd_vec24(&list, &cert, 1, 0xffffff));
    CHECK_OK(mica_x509_pubkey(cert.p, cert.n, &key));
    (void)entry;

    r = mica_rd_init(cv_msg.p + 4, cv_msg.n - 4);
    CHECK_OK(mica_rd_u16(&r, &scheme));
    CHECK_OK(mica_rd_vec16(&r, &sig, 1, 0xffff));
    CHECK_OK(mica_rd_end(&r));

    memset(content, 0x20, 64);
    memcpy(content + 64, ctx, strlen(ctx) + 1);
    n = 64 + strlen(ctx) + 1;
    memcpy(content + n, th, 32);
    n += 32;
    if (key != NULL && mica_sig_scheme_by_id(scheme) != NULL) {
        CHECK_OK(mica_sig_verify(mica_sig_scheme_by_id(scheme), key, content, n, sig.p, sig.n));
        content[70] ^= 1; /* one changed byte of the signed content */
        CHECK_ERR(mica_sig_verify(mica_sig_scheme_by_id(scheme), key, content, n, sig.p, sig.n),
                  MICA_E_BAD_SIGNATURE);
    } else {
        CHECK_MSG(0, "section %d: %s CertificateVerify: no key or unknown scheme 0x%04x", f->sec,
                  side, scheme);
    }
    mica_pkey_free(key);
}

/* handshake secrets and keys, common to every section once (EC)DHE is known */
static void hs_secrets(struct flow *f, const mica_kx_shared *shared)
{
    CHECK_OK(mica_ks_handshake(&f->ks, shared->b, shared->len));
    secret_is(&f->ks.secret, V(f->sec, "server", "extract secret \"handshake\"", "secret", 0),
              "handshake secret");
    th_is(f, "server", "derive secret \"tls13 c hs traffic\"", 0);
    {
        uint8_t th[MICA_MAX_HASH_LEN];
        CHECK_OK(mica_transcript_hash(&f->t, th));
        CHECK_OK(mica_ks_hs_traffic(&f->ks, th, &f->c_hs, &f->s_hs));
    }
    secret_is(&f->c_hs, V(f->sec, "server", "derive secret \"tls13 c hs traffic\"", "expanded", 0),
              "c hs traffic");
    secret_is(&f->s_hs, V(f->sec, "server", "derive secret \"tls13 s hs traffic\"", "expanded", 0),
              "s hs traffic");
    CHECK_OK(mica_ks_master(&f->ks));
    secret_is(&f->ks.secret, V(f->sec, "server", "extract secret \"master\"", "secret", 0),
              "master secret");
    set_keys(&f->s2c, &f->s_hs, MICA_EPOCH_HANDSHAKE);
}

/* finished: compute the Finished for side over the transcript so far, compare with the
 * printed value and message, verify it as the peer would, and add it */
static void finished(struct flow *f, const char *side, const mica_secret *base)
{
    uint8_t th[MICA_MAX_HASH_LEN], vd[MICA_MAX_HASH_LEN];
    struct bytes want = V(f->sec, side, "calculate finished \"tls13 finished\"", "finished", 0);
    struct bytes msg;

    CHECK_OK(mica_transcript_hash(&f->t, th));
    CHECK_OK(mica_ks_finished(&mica_hash_sha256, base, th, vd));
    CHECK_MEM("verify_data", vd, want.p, want.n);
    CHECK_OK(mica_ks_verify_finished(&mica_hash_sha256, base, th, want.p, want.n));
    vd[0] ^= 0x80;
    CHECK_ERR(mica_ks_verify_finished(&mica_hash_sha256, base, th, vd, 32), MICA_E_DECRYPT_ERROR);
    CHECK_ERR(mica_ks_verify_finished(&mica_hash_sha256, base, th, want.p, 31),
              MICA_E_DECRYPT_ERROR);
    msg = add(f, side, "Finished", 0);
    CHECK(msg.n == 36 && memcmp(msg.p + 4, want.p, 32) == 0);
}

/* after the server Finished: application secrets */
static void app_secrets(struct flow *f)
{
    uint8_t th[MICA_MAX_HASH_LEN];
    MICA_SECRET(exp);

    th_is(f, "server", "derive secret \"tls13 c ap traffic\"", 0);
    CHECK_OK(mica_transcript_hash(&f->t, th));
    CHECK_OK(mica_ks_app_traffic(&f->ks, th, &f->c_ap, &f->s_ap));
    secret_is(&f->c_ap, V(f->sec, "server", "derive secret \"tls13 c ap traffic\"", "expanded", 0),
              "c ap traffic");
    secret_is(&f->s_ap, V(f->sec, "server", "derive secret \"tls13 s ap traffic\"", "expanded", 0),
              "s ap traffic");
    CHECK_OK(mica_ks_exporter_master(&f->ks, th, &exp));
    secret_is(&exp, V(f->sec, "server", "derive secret \"tls13 exp master\"", "expanded", 0),
              "exporter master");
}

/* after the client Finished: resumption master; the key schedule is then done */
static void res_master(struct flow *f, mica_secret *rms)
{
    uint8_t th[MICA_MAX_HASH_LEN];

    th_is(f, "client", "derive secret \"tls13 res master\"", 0);
    CHECK_OK(mica_transcript_hash(&f->t, th));
    CHECK_OK(mica_ks_resumption_master(&f->ks, th, rms));
    secret_is(rms, V(f->sec, "client", "derive secret \"tls13 res master\"", "expanded", 0),
              "resumption master");
    CHECK_OK(mica_ks_done(&f->ks));
    CHECK(mica_ct_is_zero(f->ks.secret.b, sizeof(f->ks.secret.b)));
    CHECK_ERR(mica_ks_app_traffic(&f->ks, th, rms, rms), MICA_E_STAGE);
}

static void closing(struct flow *f, int client_app, int server_app)
{
    for (int i = 0; i < client_app; i++) {
        record(f, "client", "application_data", MICA_CT_APPLICATION_DATA);
    }
    for (int i = 0; i < server_app; i++) {
        record(f, "server", "application_data", MICA_CT_APPLICATION_DATA);
    }
    record(f, "client", "alert", MICA_CT_ALERT);
    record(f, "server", "alert", MICA_CT_ALERT);
}

/* Section 3 (and 7, which adds compatibility-mode ChangeCipherSpec records) */
static void section_full(int sec, mica_secret *psk_out)
{
    struct flow f;
    struct bytes cert, cv, nst;
    uint8_t th[MICA_MAX_HASH_LEN];
    MICA_KX_SHARED(shared);
    MICA_SECRET(rms);
    mica_rd r, nonce;
    uint32_t u32;

    flow_init(&f, sec);
    CHECK_OK(mica_ks_early(&f.ks, NULL, 0));
    secret_is(&f.ks.secret, V(sec, "server", "extract secret \"early\"", "secret", 0),
              "early secret");
    add(&f, "client", "ClientHello", 0);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    kx(&f, "create an ephemeral x25519 key pair", 0, 0, &shared);
    add(&f, "server", "ServerHello", 0);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    hs_secrets(&f, &shared);
    if (sec == 7) {
        record(&f, "server", "change_cipher_spec", MICA_CT_CHANGE_CIPHER_SPEC);
    }
    add(&f, "server", "EncryptedExtensions", 0);
    cert = add(&f, "server", "Certificate", 0);
    CHECK_OK(mica_transcript_hash(&f.t, th));
    cv = add(&f, "server", "CertificateVerify", 0);
    check_cv(&f, "server", cert, cv, th);
    finished(&f, "server", &f.s_hs);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    app_secrets(&f);
    set_keys(&f.s2c, &f.s_ap, MICA_EPOCH_APPLICATION);
    if (sec == 7) {
        record(&f, "client", "change_cipher_spec", MICA_CT_CHANGE_CIPHER_SPEC);
    }
    set_keys(&f.c2s, &f.c_hs, MICA_EPOCH_HANDSHAKE);
    finished(&f, "client", &f.c_hs);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    set_keys(&f.c2s, &f.c_ap, MICA_EPOCH_APPLICATION);
    res_master(&f, &rms);
    if (sec == 3) {
        /* NewSessionTicket: its nonce and the resumption master give the PSK of 4 */
        nst = V(sec, "server", "construct a NewSessionTicket handshake message", "NewSessionTicket",
                0);
        r = mica_rd_init(nst.p + 4, nst.n - 4);
        CHECK_OK(mica_rd_u32(&r, &u32)); /* ticket_lifetime */
        CHECK_OK(mica_rd_u32(&r, &u32)); /* ticket_age_add */
        CHECK_OK(mica_rd_vec8(&r, &nonce, 0, 255));
        CHECK_OK(mica_ks_resumption_psk(&mica_hash_sha256, &rms, nonce.p, nonce.n, psk_out));
        secret_is(
            psk_out,
            V(sec, "server", "generate resumption secret \"tls13 resumption\"", "expanded", 0),
            "resumption PSK");
        record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
        closing(&f, 1, 1);
    } else {
        closing(&f, 0, 0);
    }
    flow_free(&f);
}

/* Section 4: resumption with the PSK from section 3, 0-RTT data, EndOfEarlyData */
static void section_resumed(const mica_secret *psk)
{
    struct flow f;
    struct bytes ch, prefix;
    uint8_t th[MICA_MAX_HASH_LEN], binder[MICA_MAX_HASH_LEN];
    MICA_KX_SHARED(shared);
    MICA_SECRET(binder_key);
    MICA_SECRET(c_e);
    MICA_SECRET(e_exp);
    MICA_SECRET(rms);

    flow_init(&f, 4);
    CHECK_OK(mica_ks_early(&f.ks, psk->b, psk->len));
    secret_is(&f.ks.secret, V(4, "client", "extract secret \"early\"", "secret", 0),
              "early secret (PSK)");

    /* the binder covers the ClientHello up to the binders list (RFC 8446 4.2.11.2) */
    CHECK_OK(mica_ks_binder_key(&f.ks, false, &binder_key));
    secret_is(&binder_key, V(4, "client", "calculate PSK binder", "PRK", 0), "binder key");
    prefix = V(4, "client", "calculate PSK binder", "ClientHello prefix", 0);
    CHECK_OK(mica_hash(&mica_hash_sha256, prefix.p, prefix.n, th));
    CHECK_OK(mica_ks_finished(&mica_hash_sha256, &binder_key, th, binder));
    CHECK_MEM("binder", binder, V(4, "client", "calculate PSK binder", "finished", 0).p, 32);
    ch = V(4, "client", "send handshake record", "payload", 0);
    CHECK(ch.n == prefix.n + 2 + 1 + 32);
    CHECK_MEM("binder in ClientHello", ch.p + ch.n - 32, binder, 32);
    CHECK_OK(mica_ks_verify_finished(&mica_hash_sha256, &binder_key, th, ch.p + ch.n - 32, 32));

    /* the whole ClientHello (with binders) enters the transcript */
    CHECK_OK(mica_transcript_set_hash(&f.t, &mica_hash_sha256));
    CHECK_OK(mica_transcript_add(&f.t, ch.p, ch.n));
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    th_is(&f, "client", "derive secret \"tls13 c e traffic\"", 0);
    CHECK_OK(mica_transcript_hash(&f.t, th));
    CHECK_OK(mica_ks_early_traffic(&f.ks, th, &c_e));
    secret_is(&c_e, V(4, "client", "derive secret \"tls13 c e traffic\"", "expanded", 0),
              "c e traffic");
    CHECK_OK(mica_ks_early_exporter(&f.ks, th, &e_exp));
    secret_is(&e_exp, V(4, "client", "derive secret \"tls13 e exp master\"", "expanded", 0),
              "e exp master");
    /* 0-RTT data under the early traffic key */
    set_keys(&f.c2s, &c_e, MICA_EPOCH_EARLY);
    record(&f, "client", "application_data", MICA_CT_APPLICATION_DATA);

    kx(&f, "create an ephemeral x25519 key pair", 0, 0, &shared);
    add(&f, "server", "ServerHello", 0);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    hs_secrets(&f, &shared);
    add(&f, "server", "EncryptedExtensions", 0);
    finished(&f, "server", &f.s_hs);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    app_secrets(&f);
    set_keys(&f.s2c, &f.s_ap, MICA_EPOCH_APPLICATION);
    /* EndOfEarlyData: the second record under the early key (sequence number 1) */
    add(&f, "client", "EndOfEarlyData", 0);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    set_keys(&f.c2s, &f.c_hs, MICA_EPOCH_HANDSHAKE);
    finished(&f, "client", &f.c_hs);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    set_keys(&f.c2s, &f.c_ap, MICA_EPOCH_APPLICATION);
    res_master(&f, &rms);
    closing(&f, 1, 1);
    flow_free(&f);
}

/* Section 5: HelloRetryRequest from x25519 to P-256 */
static void section_hrr(void)
{
    struct flow f;
    struct bytes cert, cv;
    uint8_t th[MICA_MAX_HASH_LEN];
    MICA_KX_SHARED(shared);
    MICA_SECRET(rms);

    flow_init(&f, 5);
    CHECK_OK(mica_ks_early(&f.ks, NULL, 0));
    add(&f, "client", "ClientHello", 0);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    /* RFC 8446 4.4.1: ClientHello1 becomes message_hash(Hash(ClientHello1)), then HRR */
    {
        struct bytes ch1 =
            V(5, "client", "construct a ClientHello handshake message", "ClientHello", 0);
        struct bytes hrr =
            V(5, "server", "construct a ServerHello handshake message", "ServerHello", 0);
        uint8_t synthetic[4 + 32], want[32];
        mica_hash_ctx *h = NULL;
        CHECK_OK(mica_transcript_set_hash(&f.t, &mica_hash_sha256));
        CHECK_OK(mica_transcript_hrr(&f.t));
        CHECK_OK(mica_transcript_add(&f.t, hrr.p, hrr.n));
        /* the same thing spelled out by hand */
        synthetic[0] = 254;
        synthetic[1] = synthetic[2] = 0;
        synthetic[3] = 32;
        CHECK_OK(mica_hash(&mica_hash_sha256, ch1.p, ch1.n, synthetic + 4));
        CHECK_OK(mica_hash_new(&mica_hash_sha256, &h));
        CHECK_OK(mica_hash_update(h, synthetic, sizeof(synthetic)));
        CHECK_OK(mica_hash_update(h, hrr.p, hrr.n));
        CHECK_OK(mica_hash_peek(h, want));
        CHECK_OK(mica_transcript_hash(&f.t, th));
        CHECK_MEM("transcript after HRR", th, want, 32);
        mica_hash_free(h);
    }
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    add(&f, "client", "ClientHello", 1);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    kx(&f, "create an ephemeral P-256 key pair", 0, 0, &shared);
    add(&f, "server", "ServerHello", 1);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    hs_secrets(&f, &shared);
    add(&f, "server", "EncryptedExtensions", 0);
    cert = add(&f, "server", "Certificate", 0);
    CHECK_OK(mica_transcript_hash(&f.t, th));
    cv = add(&f, "server", "CertificateVerify", 0);
    check_cv(&f, "server", cert, cv, th);
    finished(&f, "server", &f.s_hs);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    app_secrets(&f);
    set_keys(&f.s2c, &f.s_ap, MICA_EPOCH_APPLICATION);
    set_keys(&f.c2s, &f.c_hs, MICA_EPOCH_HANDSHAKE);
    finished(&f, "client", &f.c_hs);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    set_keys(&f.c2s, &f.c_ap, MICA_EPOCH_APPLICATION);
    res_master(&f, &rms);
    closing(&f, 0, 0);
    flow_free(&f);
}

/* Section 6: the server asks for a certificate; the client sends Certificate,
 * CertificateVerify and Finished in one record */
static void section_client_auth(void)
{
    struct flow f;
    struct bytes cert, cv;
    uint8_t th[MICA_MAX_HASH_LEN];
    MICA_KX_SHARED(shared);
    MICA_SECRET(rms);

    flow_init(&f, 6);
    CHECK_OK(mica_ks_early(&f.ks, NULL, 0));
    add(&f, "client", "ClientHello", 0);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    kx(&f, "create an ephemeral x25519 key pair", 0, 0, &shared);
    add(&f, "server", "ServerHello", 0);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    hs_secrets(&f, &shared);
    add(&f, "server", "EncryptedExtensions", 0);
    add(&f, "server", "CertificateRequest", 0);
    cert = add(&f, "server", "Certificate", 0);
    CHECK_OK(mica_transcript_hash(&f.t, th));
    cv = add(&f, "server", "CertificateVerify", 0);
    check_cv(&f, "server", cert, cv, th);
    finished(&f, "server", &f.s_hs);
    record(&f, "server", "handshake", MICA_CT_HANDSHAKE);
    app_secrets(&f);
    set_keys(&f.s2c, &f.s_ap, MICA_EPOCH_APPLICATION);
    set_keys(&f.c2s, &f.c_hs, MICA_EPOCH_HANDSHAKE);
    cert = add(&f, "client", "Certificate", 0);
    CHECK_OK(mica_transcript_hash(&f.t, th));
    cv = add(&f, "client", "CertificateVerify", 0);
    check_cv(&f, "client", cert, cv, th);
    finished(&f, "client", &f.c_hs);
    record(&f, "client", "handshake", MICA_CT_HANDSHAKE);
    set_keys(&f.c2s, &f.c_ap, MICA_EPOCH_APPLICATION);
    res_master(&f, &rms);
    closing(&f, 0, 0);
    flow_free(&f);
}

int main(void)
{
    MICA_SECRET(psk);

    pass_steps();
    section_full(3, &psk);
    section_resumed(&psk);
    section_hrr();
    section_client_auth();
    section_full(7, NULL);
    return check_exit("test_rfc8448");
}
