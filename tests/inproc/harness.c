#include "harness.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/keysched.h"
#include "tls/msg.h"
#include "tls/record.h"
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

bool harness_all_groups;

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
    /* MICA_TEST_LIGHT (valgrind): no ML-KEM share, whose C costs most of a handshake
     * there; test_mlkem, test_hybrid and test_handshake's group matrix still run it */
    if (check_light() && !harness_all_groups &&
        mica_config_set_groups(cfg, "x25519:secp256r1") != MICA_OK) {
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
    if (p->rewrite != NULL) {
        uint8_t *re = NULL;
        len = p->rewrite(p->rewrite_ctx, to_server, copy, len, &re);
        free(copy);
        copy = re;
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

/* ---- the man in the middle -------------------------------------------------------- */

struct mitm_dir {
    struct mica_rec_dir rd, wr; /* opening what the sender sealed; sealing for the receiver */
    int rd_epoch, wr_epoch;     /* MITM_PLAIN until keys are installed */
    mica_secret rd_ap, wr_ap;   /* the application secret in use on each side */
};

struct mitm {
    mica_config *scfg;
    mitm_edit_fn edit;
    void *ctx;
    mica_secret c_hs, s_hs, c_ap, s_ap;
    const struct mica_suite *suite;
    struct mitm_dir c2s, s2c;
    struct flight f;
};

static int unhex(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

/* "LABEL <client_random> <secret>": the secret after the second space */
static void mitm_keylog(void *ctx, const char *line)
{
    struct mitm *m = ctx;
    static const struct {
        const char *label;
        size_t off;
    } labels[] = {
        {"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", offsetof(struct mitm, c_hs)},
        {"SERVER_HANDSHAKE_TRAFFIC_SECRET ", offsetof(struct mitm, s_hs)},
        {"CLIENT_TRAFFIC_SECRET_0 ", offsetof(struct mitm, c_ap)},
        {"SERVER_TRAFFIC_SECRET_0 ", offsetof(struct mitm, s_ap)},
    };
    const char *hex;

    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        mica_secret *s = (mica_secret *)(void *)((uint8_t *)m + labels[i].off);
        size_t n = 0;
        if (strncmp(line, labels[i].label, strlen(labels[i].label)) != 0) {
            continue;
        }
        hex = strchr(line + strlen(labels[i].label), ' ');
        if (hex == NULL || s->len != 0) {
            return; /* the first value logged wins */
        }
        for (hex++; unhex(hex[0]) >= 0 && unhex(hex[1]) >= 0 && n < MICA_MAX_HASH_LEN; hex += 2) {
            s->b[n++] = (uint8_t)(unhex(hex[0]) << 4 | unhex(hex[1]));
        }
        s->len = (uint8_t)n;
    }
}

static void mitm_reset(struct mitm *m)
{
    mica_rec_dir_clear(&m->c2s.rd);
    mica_rec_dir_clear(&m->c2s.wr);
    mica_rec_dir_clear(&m->s2c.rd);
    mica_rec_dir_clear(&m->s2c.wr);
    flight_truncate(&m->f, 0);
    memset(&m->c_hs, 0, sizeof(m->c_hs));
    memset(&m->s_hs, 0, sizeof(m->s_hs));
    memset(&m->c_ap, 0, sizeof(m->c_ap));
    memset(&m->s_ap, 0, sizeof(m->s_ap));
    m->suite = NULL;
    m->c2s.rd_epoch = m->c2s.wr_epoch = m->s2c.rd_epoch = m->s2c.wr_epoch = MITM_PLAIN;
}

struct mitm *mitm_new(mica_config *scfg, mitm_edit_fn edit, void *ctx)
{
    struct mitm *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    m->scfg = scfg;
    m->edit = edit;
    m->ctx = ctx;
    mica_rec_dir_init(&m->c2s.rd, false);
    mica_rec_dir_init(&m->c2s.wr, true);
    mica_rec_dir_init(&m->s2c.rd, false);
    mica_rec_dir_init(&m->s2c.wr, true);
    mica_config_set_keylog(scfg, mitm_keylog, m);
    return m;
}

void mitm_free(struct mitm *m)
{
    if (m == NULL) {
        return;
    }
    mitm_reset(m);
    mica_config_set_keylog(m->scfg, NULL, NULL);
    free(m);
}

/* the traffic secret of a direction and epoch (NULL if not known yet) */
static const mica_secret *mitm_secret(struct mitm *m, bool to_server, int epoch)
{
    const mica_secret *s =
        epoch == MITM_HS ? (to_server ? &m->c_hs : &m->s_hs) : (to_server ? &m->c_ap : &m->s_ap);

    return s->len != 0 && m->suite != NULL ? s : NULL;
}

/* install keys for epoch on one side of a direction; the application epoch starts from
 * secret 0 and KeyUpdates move it on (ap points at rd_ap or wr_ap) */
static bool mitm_key(struct mitm *m, bool to_server, struct mica_rec_dir *d, int *cur,
                     mica_secret *ap, int epoch)
{
    const mica_secret *s = mitm_secret(m, to_server, epoch);

    if (s == NULL) {
        return false;
    }
    if (epoch == MITM_AP) {
        *ap = *s;
        s = ap;
    }
    if (mica_rec_set_key(d, m->suite, s,
                         epoch == MITM_HS ? MICA_EPOCH_HANDSHAKE : MICA_EPOCH_APPLICATION) !=
        MICA_OK) {
        return false;
    }
    *cur = epoch;
    return true;
}

static bool mitm_key_update(struct mitm *m, struct mica_rec_dir *d, mica_secret *ap)
{
    return mica_ks_update_traffic(m->suite->hash, ap) == MICA_OK &&
           mica_rec_set_key(d, m->suite, ap, MICA_EPOCH_APPLICATION) == MICA_OK;
}

/* whether a handshake record's content holds a whole message of type t */
static bool holds_msg(const uint8_t *p, size_t len, uint8_t t)
{
    size_t off = 0;

    while (len - off >= 4) {
        size_t n = (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        if (p[off] == t) {
            return true;
        }
        if (len - off - 4 < n) {
            break;
        }
        off += 4 + n;
    }
    return false;
}

/* mitm_open: one record from the wire into the flight */
static void mitm_open(struct mitm *m, bool to_server, const uint8_t *rec, size_t len)
{
    struct mitm_dir *d = to_server ? &m->c2s : &m->s2c;
    struct flight *f = &m->f;
    enum mica_content_type type = MICA_CT_INVALID;
    uint8_t *copy, *content = NULL;
    size_t content_len = 0;

    if (len < MICA_RECORD_HEADER_LEN || rec[0] != MICA_CT_APPLICATION_DATA) {
        if (len >= MICA_RECORD_HEADER_LEN) {
            (void)flight_insert(f, f->n, rec[0], MITM_PLAIN, rec + MICA_RECORD_HEADER_LEN,
                                len - MICA_RECORD_HEADER_LEN);
            /* the cipher suite, from the server's (first, real) ServerHello */
            if (!to_server && rec[0] == MICA_CT_HANDSHAKE && m->suite == NULL &&
                len > MICA_RECORD_HEADER_LEN + 4 && rec[MICA_RECORD_HEADER_LEN] == 2) {
                struct mica_server_hello sh;
                if (mica_msg_decode_server_hello(rec + MICA_RECORD_HEADER_LEN + 4,
                                                 len - MICA_RECORD_HEADER_LEN - 4,
                                                 &sh) == MICA_OK &&
                    !sh.is_hrr) {
                    m->suite = mica_suite_by_id(sh.cipher_suite);
                }
            }
        } else {
            (void)flight_insert(f, f->n, 0, MITM_RAW, rec, len);
        }
        return;
    }
    if (d->rd_epoch == MITM_PLAIN &&
        !mitm_key(m, to_server, &d->rd, &d->rd_epoch, &d->rd_ap, MITM_HS)) {
        (void)flight_insert(f, f->n, rec[0], MITM_RAW, rec, len);
        return;
    }
    copy = malloc(len);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, rec, len);
    if (mica_rec_open(&d->rd, copy, len, &type, &content, &content_len) != MICA_OK) {
        free(copy);
        (void)flight_insert(f, f->n, rec[0], MITM_RAW, rec, len);
        return;
    }
    (void)flight_insert(f, f->n, (uint8_t)type, (uint8_t)d->rd_epoch, content, content_len);
    if (type == MICA_CT_HANDSHAKE && d->rd_epoch == MITM_HS &&
        holds_msg(content, content_len, MICA_HS_FINISHED)) {
        (void)mitm_key(m, to_server, &d->rd, &d->rd_epoch, &d->rd_ap, MITM_AP);
    } else if (type == MICA_CT_HANDSHAKE && d->rd_epoch == MITM_AP &&
               holds_msg(content, content_len, MICA_HS_KEY_UPDATE)) {
        (void)mitm_key_update(m, &d->rd, &d->rd_ap);
    }
    free(copy);
}

/* seal_any: a protected record of any inner type, CCS and unknown types included (which
 * mica_rec_seal refuses to make), as RFC 8446 5.2 and 5.3 build one */
static bool seal_any(struct mica_rec_dir *d, uint8_t type, uint8_t *buf, size_t cap, size_t len,
                     size_t *rec_len)
{
    uint8_t nonce[MICA_AEAD_NONCE_LEN];
    size_t tag = d->suite->aead->tag_len, inner = len + 1;

    if (cap < MICA_RECORD_HEADER_LEN + inner + tag) {
        return false;
    }
    buf[MICA_RECORD_HEADER_LEN + len] = type;
    buf[0] = MICA_CT_APPLICATION_DATA;
    buf[1] = 3;
    buf[2] = 3;
    buf[3] = (uint8_t)((inner + tag) >> 8);
    buf[4] = (uint8_t)(inner + tag);
    memcpy(nonce, d->iv, sizeof(nonce));
    for (size_t i = 0; i < 8; i++) {
        nonce[MICA_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
    }
    if (mica_aead_seal(d->aead, nonce, sizeof(nonce), buf, MICA_RECORD_HEADER_LEN,
                       buf + MICA_RECORD_HEADER_LEN, inner,
                       buf + MICA_RECORD_HEADER_LEN + inner) != MICA_OK) {
        return false;
    }
    d->seq++;
    *rec_len = MICA_RECORD_HEADER_LEN + inner + tag;
    return true;
}

size_t mitm_seal(struct mitm *m, bool to_server, uint8_t type, int epoch, const uint8_t *content,
                 size_t len, uint8_t *out, size_t cap)
{
    struct mitm_dir *d = to_server ? &m->c2s : &m->s2c;
    size_t rec_len = 0;

    if (epoch == MITM_CUR) {
        epoch = d->rd_epoch;
    }
    if (epoch == MITM_RAW) {
        if (len > cap) {
            return 0;
        }
        memcpy(out, content, len);
        return len;
    }
    if (cap < MICA_RECORD_HEADER_LEN + len + 1 + MICA_MAX_AEAD_TAG_LEN) {
        return 0;
    }
    if (epoch == MITM_PLAIN) {
        out[0] = type;
        out[1] = 3;
        out[2] = 3;
        out[3] = (uint8_t)(len >> 8);
        out[4] = (uint8_t)len;
        memcpy(out + MICA_RECORD_HEADER_LEN, content, len);
        return MICA_RECORD_HEADER_LEN + len;
    }
    if (d->wr_epoch != epoch && !mitm_key(m, to_server, &d->wr, &d->wr_epoch, &d->wr_ap, epoch)) {
        return 0;
    }
    memcpy(out + MICA_RECORD_HEADER_LEN, content, len);
    if (type != MICA_CT_ALERT && type != MICA_CT_HANDSHAKE && type != MICA_CT_APPLICATION_DATA) {
        return seal_any(&d->wr, type, out, cap, len, &rec_len) ? rec_len : 0;
    }
    if (mica_rec_seal(&d->wr, (enum mica_content_type)type, out, cap, len, 0, 0x0303, &rec_len) !=
        MICA_OK) {
        return 0;
    }
    if (type == MICA_CT_HANDSHAKE && epoch == MITM_AP &&
        holds_msg(content, len, MICA_HS_KEY_UPDATE)) {
        (void)mitm_key_update(m, &d->wr, &d->wr_ap);
    }
    return rec_len;
}

static size_t mitm_rewrite(void *ctx, bool to_server, const uint8_t *in, size_t len, uint8_t **out)
{
    struct mitm *m = ctx;
    struct flight *f = &m->f;
    size_t off = 0, cap = 0, n = 0;
    uint8_t *buf;

    flight_truncate(f, 0);
    f->to_server = to_server;
    while (off < len) {
        size_t rec_len = len - off;
        if (rec_len >= MICA_RECORD_HEADER_LEN) {
            size_t body = (size_t)in[off + 3] << 8 | in[off + 4];
            rec_len =
                MICA_RECORD_HEADER_LEN + body < rec_len ? MICA_RECORD_HEADER_LEN + body : rec_len;
        }
        mitm_open(m, to_server, in + off, rec_len);
        off += rec_len;
    }
    if (m->edit != NULL) {
        m->edit(m->ctx, f);
    }
    for (size_t i = 0; i < f->n; i++) {
        cap += MICA_RECORD_HEADER_LEN + f->rec[i].len + 1 + MICA_MAX_AEAD_TAG_LEN;
    }
    buf = malloc(cap + 1);
    if (buf == NULL) {
        *out = NULL;
        return 0;
    }
    for (size_t i = 0; i < f->n; i++) {
        n += mitm_seal(m, to_server, f->rec[i].type, f->rec[i].epoch, f->rec[i].data, f->rec[i].len,
                       buf + n, cap - n);
    }
    flight_truncate(f, 0);
    *out = buf;
    return n;
}

mica_err mitm_pair_new(struct pair *p, struct mitm *m, const mica_config *ccfg,
                       const mica_config *scfg, const char *server_name)
{
    mica_err err;

    mitm_reset(m);
    err = pair_new(p, ccfg, scfg, server_name);
    p->rewrite = mitm_rewrite;
    p->rewrite_ctx = m;
    return err;
}

mica_err mitm_inject(struct mitm *m, struct pair *p, bool to_server, uint8_t type, int epoch,
                     const uint8_t *content, size_t len)
{
    size_t cap = MICA_RECORD_HEADER_LEN + len + 1 + MICA_MAX_AEAD_TAG_LEN, n, used = 0;
    uint8_t *buf = malloc(cap);
    mica_err err;

    if (buf == NULL) {
        return MICA_E_NOMEM;
    }
    n = mitm_seal(m, to_server, type, epoch, content, len, buf, cap);
    err =
        n == 0 ? MICA_E_INTERNAL : mica_conn_feed(to_server ? p->server : p->client, buf, n, &used);
    free(buf);
    return err;
}

int flight_find(const struct flight *f, uint8_t hs_type)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct mitm_rec *r = &f->rec[i];
        if (r->epoch != MITM_RAW && r->type == MICA_CT_HANDSHAKE && r->len > 0 &&
            r->data[0] == hs_type) {
            return (int)i;
        }
    }
    return -1;
}

bool flight_insert(struct flight *f, size_t at, uint8_t type, uint8_t epoch, const uint8_t *data,
                   size_t len)
{
    uint8_t *copy;

    if (f->n == MITM_MAX_RECS || at > f->n) {
        return false;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        return false;
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    memmove(&f->rec[at + 1], &f->rec[at], (f->n - at) * sizeof(f->rec[0]));
    f->rec[at].type = type;
    f->rec[at].epoch = epoch;
    f->rec[at].data = copy;
    f->rec[at].len = len;
    f->n++;
    return true;
}

bool flight_set(struct flight *f, size_t at, const uint8_t *data, size_t len)
{
    uint8_t *copy;

    if (at >= f->n || (copy = malloc(len + 1)) == NULL) {
        return false;
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    free(f->rec[at].data);
    f->rec[at].data = copy;
    f->rec[at].len = len;
    return true;
}

void flight_remove(struct flight *f, size_t at)
{
    if (at >= f->n) {
        return;
    }
    free(f->rec[at].data);
    memmove(&f->rec[at], &f->rec[at + 1], (f->n - at - 1) * sizeof(f->rec[0]));
    f->n--;
}

void flight_truncate(struct flight *f, size_t n)
{
    while (f->n > n) {
        flight_remove(f, f->n - 1);
    }
}
