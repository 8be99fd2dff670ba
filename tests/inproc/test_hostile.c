/*
 * The hostile-input matrix of the handshake (STYLE.md 2.7.4): every case breaks one MUST
 * of RFC 8446 and asserts the exact error code of the side that detects it
 * (mica_conn_error), the alert it sends (mica_conn_error_alert), and, where there is a
 * peer, that the peer reads that alert (MICA_E_PEER_ALERT carrying it).
 *
 * How the inputs reach each state:
 *   - Plaintext states (the hellos): a real ClientHello or ServerHello is taken from a
 *     mica peer, decoded into struct hello, edited, re-encoded and fed to the engine
 *     under test; its alert is then fed back to the peer (ch_case, sh_case).
 *   - Protected states: a man in the middle (harness.h, struct mitm) learns the traffic
 *     secrets from the server's key log, opens every record of a real handshake, lets
 *     the case drop, replace, duplicate, coalesce or split messages, and seals the
 *     result as the sender would. To put a message into state X, the MITM replaces the
 *     message that state waits for (and all after it in that flight) with the injected
 *     one; after the handshake, mitm_inject seals it under the application keys.
 *   - C_WAIT_CERT, which a mica server never causes (no client authentication yet),
 *     is reached by inserting a CertificateRequest before the Certificate.
 *
 * A check whose message starts with "ENGINE BUG:" shows a place where the engine does not
 * do what the RFC requires; it fails until src/ is fixed. HOSTILE_VERBOSE=1 prints every
 * case as "case | expected | observed".
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "check.h"
#include "harness.h"
#include "tls/msg.h"
#include "tls/record.h"

#define HS MICA_CT_HANDSHAKE

static mica_config *g_scfg; /* ecdsa-p256 server */
static mica_config *g_ccfg; /* client trusting the test CA, all defaults */
static bool verbose;
static size_t g_chunk; /* bytes per feed in MITM runs (0: whole batches) */

/* ---- outcomes --------------------------------------------------------------------- */

static const char *sentence(const mica_conn *c)
{
    const char *s = mica_conn_error_sentence(c);

    return s != NULL ? s : "-";
}

/*
 * expect: the failing side ended with err and sent alert; its peer (if given) ended
 * with MICA_E_PEER_ALERT carrying that alert. bug marks a case the engine gets wrong.
 */
static void expect(const char *label, mica_conn *failing, mica_conn *peer, const char *side,
                   mica_err err, mica_alert alert, bool bug)
{
    char name[160];
    mica_err got = mica_conn_error(failing);
    mica_alert got_alert = mica_conn_error_alert(failing);
    const char *tag = bug ? "regression: " : "";

    snprintf(name, sizeof(name), "%s%s", label, g_chunk == 1 ? " [1-byte feeds]" : "");
    if (verbose) {
        printf("%-58s | %s %s/%s | %s/%s%s | %s\n", name, side, mica_err_name(err),
               mica_alert_name(alert), mica_err_name(got), mica_alert_name(got_alert),
               peer != NULL && mica_conn_error(peer) == MICA_E_PEER_ALERT &&
                       mica_conn_error_alert(peer) == got_alert
                   ? " (peer read it)"
                   : "",
               sentence(failing));
    }
    CHECK_MSG(got == err && got_alert == alert, "%s%s: %s ended with %s/%s (%s), want %s/%s", tag,
              name, side, mica_err_name(got), mica_alert_name(got_alert), sentence(failing),
              mica_err_name(err), mica_alert_name(alert));
    if (peer != NULL && alert != MICA_ALERT_NONE) {
        CHECK_MSG(
            mica_conn_error(peer) == MICA_E_PEER_ALERT && mica_conn_error_alert(peer) == alert,
            "%s%s: the peer of the %s ended with %s/%s (%s), want peer_alert/%s", tag, name, side,
            mica_err_name(mica_conn_error(peer)), mica_alert_name(mica_conn_error_alert(peer)),
            sentence(peer), mica_alert_name(alert));
    }
}

static void expect_pair(const char *name, const struct pair *p, bool server_fails, mica_err err,
                        mica_alert alert, bool bug)
{
    expect(name, server_fails ? p->server : p->client, server_fails ? p->client : p->server,
           server_fails ? "server" : "client", err, alert, bug);
}

/* expect_connected: the case is legal; both sides connected */
static void expect_connected(const char *name, const struct pair *p, bool bug)
{
    if (verbose) {
        printf("%-58s | connected | client %s, server %s\n", name,
               mica_err_name(mica_conn_error(p->client)),
               mica_err_name(mica_conn_error(p->server)));
    }
    CHECK_MSG(mica_conn_is_connected(p->client) && mica_conn_is_connected(p->server),
              "%s%s: want both connected; client %s (%s), server %s (%s)",
              bug ? "regression: " : "", name, mica_err_name(mica_conn_error(p->client)),
              sentence(p->client), mica_err_name(mica_conn_error(p->server)), sentence(p->server));
}

/* ---- moving bytes by hand ---------------------------------------------------------- */

/* take: everything c has to send, into buf; returns its length */
static size_t take(mica_conn *c, uint8_t *buf, size_t cap)
{
    const uint8_t *out;
    size_t len = 0;

    CHECK_OK(mica_conn_pending(c, &out, &len));
    if (len > cap) {
        CHECK_MSG(len <= cap, "take: %zu bytes pending, room for %zu", len, cap);
        len = cap;
    }
    if (len > 0) {
        memcpy(buf, out, len);
    }
    mica_conn_sent(c, len);
    return len;
}

/* feed: all of in to c (g_chunk bytes at a time, if set); its result */
static mica_err feed(mica_conn *c, const uint8_t *in, size_t len)
{
    size_t off = 0, used = 0;
    mica_err err = MICA_OK;

    while (off < len && err == MICA_OK) {
        size_t n = g_chunk == 0 || len - off < g_chunk ? len - off : g_chunk;
        err = mica_conn_feed(c, in + off, n, &used);
        off += n;
    }
    return err;
}

/* pass: whatever from has pending goes to to */
static void pass(mica_conn *from, mica_conn *to)
{
    static uint8_t buf[65536];
    size_t n = take(from, buf, sizeof(buf));

    if (n > 0) {
        (void)feed(to, buf, n);
    }
}

/* record: a plaintext record of type around content; returns its length */
static size_t record(uint8_t type, uint16_t version, const uint8_t *content, size_t len,
                     uint8_t *out)
{
    out[0] = type;
    out[1] = (uint8_t)(version >> 8);
    out[2] = (uint8_t)version;
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
    memmove(out + 5, content, len);
    return 5 + len;
}

/* the plaintext alert record c must have queued, and nothing else */
static void expect_plain_alert(const char *name, mica_conn *c, mica_alert alert, uint8_t *out,
                               size_t *len, bool bug)
{
    static uint8_t all[65536];
    uint8_t want[7] = {MICA_CT_ALERT, 3, 3, 0, 2, 2, (uint8_t)alert};
    size_t n = take(c, all, sizeof(all));

    CHECK_MSG(n == sizeof(want) && memcmp(all, want, sizeof(want)) == 0,
              "%s%s: want exactly one plaintext fatal %s alert record, got %zu bytes",
              bug ? "regression: " : "", name, mica_alert_name(alert), n);
    *len = n < 64 ? n : 64; /* callers pass the alert on in a buffer of 64 */
    memcpy(out, all, *len);
}

/* ---- hellos as structures ---------------------------------------------------------- */

#define MAX_EXT 32
#define MAX_EXT_DATA 2048

struct ext {
    uint16_t type;
    size_t len;
    uint8_t data[MAX_EXT_DATA];
};

/* A ClientHello or ServerHello (HRR too), with knobs to break its framing. */
struct hello {
    uint8_t msg_type;
    uint16_t rec_version; /* of the record it is sent in */
    uint16_t version;
    uint8_t random[32];
    uint8_t sid[64];
    size_t sid_len;
    uint8_t suites[512]; /* ClientHello: the list; ServerHello: the two bytes chosen */
    size_t suites_len;
    uint8_t comp[256]; /* ClientHello: the list; ServerHello: the one byte */
    size_t comp_len;
    bool has_ext;
    size_t n_ext;
    struct ext ext[MAX_EXT];
    /* framing damage */
    int d_last_ext_len; /* added to the last extension's length field */
    int d_exts_len;     /* added to the extension block's length field */
    size_t trailing;    /* zero bytes after the extension block, inside the message */
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static bool hello_parse(const uint8_t *m, size_t len, struct hello *h)
{
    size_t off = 4, n;
    bool ch = m[0] == MICA_HS_CLIENT_HELLO;

    memset(h, 0, sizeof(*h));
    h->msg_type = m[0];
    h->rec_version = ch ? 0x0301 : 0x0303;
    if (len < off + 35) {
        return false;
    }
    h->version = get16(m + off);
    memcpy(h->random, m + off + 2, 32);
    off += 34;
    h->sid_len = m[off++];
    if (len < off + h->sid_len + 3) {
        return false;
    }
    memcpy(h->sid, m + off, h->sid_len);
    off += h->sid_len;
    n = ch ? get16(m + off) : 2;
    off += ch ? 2 : 0;
    if (len < off + n + 1 || n > sizeof(h->suites)) {
        return false;
    }
    memcpy(h->suites, m + off, n);
    h->suites_len = n;
    off += n;
    n = ch ? m[off++] : 1;
    if (len < off + n) {
        return false;
    }
    memcpy(h->comp, m + off, n);
    h->comp_len = n;
    off += n;
    if (off == len) {
        return true;
    }
    h->has_ext = true;
    off += 2;
    while (off + 4 <= len && h->n_ext < MAX_EXT) {
        struct ext *e = &h->ext[h->n_ext++];
        e->type = get16(m + off);
        e->len = get16(m + off + 2);
        if (e->len > MAX_EXT_DATA || off + 4 + e->len > len) {
            return false;
        }
        memcpy(e->data, m + off + 4, e->len);
        off += 4 + e->len;
    }
    return off == len;
}

static size_t hello_build(const struct hello *h, uint8_t *out, size_t cap)
{
    bool ch = h->msg_type == MICA_HS_CLIENT_HELLO;
    size_t off = 4, exts, body;

    (void)cap;
    out[0] = h->msg_type;
    put16(out + off, h->version);
    memcpy(out + off + 2, h->random, 32);
    off += 34;
    out[off++] = (uint8_t)h->sid_len;
    memcpy(out + off, h->sid, h->sid_len);
    off += h->sid_len;
    if (ch) {
        put16(out + off, h->suites_len);
        off += 2;
    }
    memcpy(out + off, h->suites, h->suites_len);
    off += h->suites_len;
    if (ch) {
        out[off++] = (uint8_t)h->comp_len;
    }
    memcpy(out + off, h->comp, h->comp_len);
    off += h->comp_len;
    if (h->has_ext) {
        exts = off;
        off += 2;
        for (size_t i = 0; i < h->n_ext; i++) {
            const struct ext *e = &h->ext[i];
            put16(out + off, e->type);
            put16(out + off + 2,
                  (size_t)((long)e->len + (i + 1 == h->n_ext ? h->d_last_ext_len : 0)));
            memcpy(out + off + 4, e->data, e->len);
            off += 4 + e->len;
        }
        put16(out + exts, (size_t)((long)(off - exts - 2) + h->d_exts_len));
        memset(out + off, 0, h->trailing);
        off += h->trailing;
    }
    body = off - 4;
    out[1] = (uint8_t)(body >> 16);
    out[2] = (uint8_t)(body >> 8);
    out[3] = (uint8_t)body;
    return off;
}

static struct ext *ext_get(struct hello *h, uint16_t type)
{
    for (size_t i = 0; i < h->n_ext; i++) {
        if (h->ext[i].type == type) {
            return &h->ext[i];
        }
    }
    return NULL;
}

static void ext_remove(struct hello *h, uint16_t type)
{
    for (size_t i = 0; i < h->n_ext; i++) {
        if (h->ext[i].type == type) {
            memmove(&h->ext[i], &h->ext[i + 1], (h->n_ext - i - 1) * sizeof(h->ext[0]));
            h->n_ext--;
            return;
        }
    }
}

/* ext_add: insert an extension at position at (h->n_ext: at the end) */
static void ext_add(struct hello *h, size_t at, uint16_t type, const uint8_t *data, size_t len)
{
    if (h->n_ext == MAX_EXT || len > MAX_EXT_DATA || at > h->n_ext) {
        CHECK_MSG(false, "ext_add: no room");
        return;
    }
    memmove(&h->ext[at + 1], &h->ext[at], (h->n_ext - at) * sizeof(h->ext[0]));
    h->ext[at].type = type;
    h->ext[at].len = len;
    if (len > 0) {
        memcpy(h->ext[at].data, data, len);
    }
    h->n_ext++;
}

static void ext_set(struct hello *h, uint16_t type, const uint8_t *data, size_t len)
{
    struct ext *e = ext_get(h, type);

    if (e == NULL) {
        ext_add(h, h->n_ext, type, data, len);
        return;
    }
    e->len = len;
    memcpy(e->data, data, len);
}

/* ---- ClientHello to a mica server (RFC 8446 4.1.2, 4.2, 9.2, D) ------------------- */

typedef void (*hello_fix)(struct hello *h);

/*
 * ch_case: a real mica ClientHello, changed by fix, to a fresh server. The server must
 * end with err and queue exactly that alert in the clear; the client, fed the alert,
 * must read it. err MICA_OK: the server must accept the hello and answer it.
 */
static void ch_case(const char *name, const mica_config *scfg, hello_fix fix, mica_err err,
                    mica_alert alert, bool bug)
{
    static uint8_t buf[16384], msg[16384];
    mica_conn *c = NULL, *s = NULL;
    struct hello h;
    size_t n, len;

    CHECK_OK(mica_conn_new_client(g_ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(scfg, &s));
    if (c == NULL || s == NULL) {
        mica_conn_free(c);
        mica_conn_free(s);
        return;
    }
    n = take(c, buf, sizeof(buf));
    CHECK_MSG(n > 5 && hello_parse(buf + 5, n - 5, &h), "%s: cannot parse our own ClientHello",
              name);
    fix(&h);
    len = hello_build(&h, msg, sizeof(msg));
    n = record(HS, h.rec_version, msg, len, buf);
    (void)feed(s, buf, n);
    if (err == MICA_OK) {
        n = take(s, buf, sizeof(buf));
        if (verbose) {
            printf("%-58s | server accepts | server %s\n", name, mica_err_name(mica_conn_error(s)));
        }
        CHECK_MSG(mica_conn_error(s) == MICA_OK && n > 5 && buf[0] == HS && buf[5] == 2,
                  "%s%s: the server should answer with a ServerHello; got %s (%s)",
                  bug ? "regression: " : "", name, mica_err_name(mica_conn_error(s)), sentence(s));
    } else {
        expect_plain_alert(name, s, alert, buf, &n, bug);
        (void)feed(c, buf, n);
        expect(name, s, c, "server", err, alert, bug);
    }
    mica_conn_free(c);
    mica_conn_free(s);
}

static void fix_no_versions(struct hello *h)
{
    ext_remove(h, MICA_EXT_SUPPORTED_VERSIONS);
}

static void fix_tls12_only(struct hello *h)
{
    static const uint8_t v[] = {4, 0x03, 0x03, 0x03, 0x02};

    ext_set(h, MICA_EXT_SUPPORTED_VERSIONS, v, sizeof(v));
}

/* an old hello: TLS 1.2 suites, no TLS 1.3 extension; version set by the callers */
static void old_hello(struct hello *h, uint16_t version, bool extensions)
{
    static const uint8_t suites[] = {0xc0, 0x2f, 0x00, 0x9c, 0x00, 0x2f, 0x00, 0x35, 0x00, 0x0a};

    h->version = version;
    h->rec_version = version < 0x0301 ? version : 0x0301;
    memcpy(h->suites, suites, sizeof(suites));
    h->suites_len = sizeof(suites);
    h->sid_len = 0;
    ext_remove(h, MICA_EXT_SUPPORTED_VERSIONS);
    ext_remove(h, MICA_EXT_KEY_SHARE);
    if (!extensions) {
        h->has_ext = false;
        h->n_ext = 0;
    }
}

static void fix_ssl30(struct hello *h)
{
    old_hello(h, 0x0300, false);
}

static void fix_tls10(struct hello *h)
{
    old_hello(h, 0x0301, true);
}

static void fix_tls11(struct hello *h)
{
    old_hello(h, 0x0302, true);
}

static void fix_tls12(struct hello *h)
{
    old_hello(h, 0x0303, true);
}

static void fix_comp_two(struct hello *h)
{
    h->comp[0] = 1; /* DEFLATE, then null */
    h->comp[1] = 0;
    h->comp_len = 2;
}

static void fix_comp_deflate(struct hello *h)
{
    h->comp[0] = 1;
}

static void fix_dup_groups(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_SUPPORTED_GROUPS);

    ext_add(h, h->n_ext, e->type, e->data, e->len);
}

static void fix_oid_filters(struct hello *h)
{
    static const uint8_t empty_filters[] = {0, 0};

    ext_add(h, 1, MICA_EXT_OID_FILTERS, empty_filters, sizeof(empty_filters)); /* CR only */
}

static void fix_last_ext_long(struct hello *h)
{
    h->d_last_ext_len = 4; /* the last extension runs past the block */
}

static void fix_last_ext_short(struct hello *h)
{
    h->d_last_ext_len = -1; /* its last byte is left over as a truncated extension */
}

static void fix_exts_len_long(struct hello *h)
{
    h->d_exts_len = 3; /* the block runs past the message */
}

static void fix_trailing(struct hello *h)
{
    h->trailing = 2; /* bytes after the extension block */
}

static void fix_long_name(struct hello *h)
{
    uint8_t sni[5 + 300];

    put16(sni, 3 + 300);
    sni[2] = 0;
    put16(sni + 3, 300);
    memset(sni + 5, 'a', 300);
    ext_set(h, MICA_EXT_SERVER_NAME, sni, sizeof(sni));
}

static void fix_long_session_id(struct hello *h)
{
    memset(h->sid, 7, 33);
    h->sid_len = 33;
}

static void fix_odd_suites(struct hello *h)
{
    h->suites_len--;
}

static void fix_no_sigalgs(struct hello *h)
{
    ext_remove(h, MICA_EXT_SIGNATURE_ALGORITHMS);
}

static void fix_no_key_share(struct hello *h)
{
    ext_remove(h, MICA_EXT_KEY_SHARE);
}

static void fix_no_groups(struct hello *h)
{
    ext_remove(h, MICA_EXT_SUPPORTED_GROUPS);
}

/* a syntactically valid pre_shared_key offer: identity "hello", one 32-byte binder */
static const uint8_t psk_offer[] = {
    0x00, 0x0b, 0x00, 0x05, 'h',  'e',  'l',  'l',  'o',  0,    0,    0,    0,    0x00, 0x21, 0x20,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t psk_modes[] = {1, 1}; /* psk_dhe_ke */

static void fix_psk_not_last(struct hello *h)
{
    ext_add(h, h->n_ext, MICA_EXT_PSK_KEY_EXCHANGE_MODES, psk_modes, sizeof(psk_modes));
    ext_add(h, 0, MICA_EXT_PRE_SHARED_KEY, psk_offer, sizeof(psk_offer));
}

static void fix_psk_no_modes(struct hello *h)
{
    ext_add(h, h->n_ext, MICA_EXT_PRE_SHARED_KEY, psk_offer, sizeof(psk_offer));
}

/* key_share with one entry for group, key bytes key_len of value v */
static void set_share(struct hello *h, uint16_t group, size_t key_len, uint8_t v)
{
    uint8_t ks[6 + 256];

    put16(ks, 4 + key_len);
    put16(ks + 2, group);
    put16(ks + 4, key_len);
    memset(ks + 6, v, key_len);
    if (key_len > 0 && group == 0x0017) {
        ks[6] = 4; /* uncompressed point prefix, then a point not on the curve */
    }
    ext_set(h, MICA_EXT_KEY_SHARE, ks, 6 + key_len);
}

static void fix_x25519_zero(struct hello *h)
{
    set_share(h, 0x001d, 32, 0);
}

static void fix_x25519_short(struct hello *h)
{
    set_share(h, 0x001d, 31, 9);
}

static void fix_p256_off_curve(struct hello *h)
{
    set_share(h, 0x0017, 65, 1);
}

static void fix_unknown_ext(struct hello *h)
{
    static const uint8_t junk[] = {1, 2, 3};

    ext_add(h, 2, 0x7777, junk, sizeof(junk));
    ext_add(h, 3, 0xfafa, NULL, 0); /* GREASE (RFC 8701) */
}

static void fix_empty_suites_match(struct hello *h)
{
    static const uint8_t suites[] = {0x00, 0x2f, 0x00, 0x35};

    memcpy(h->suites, suites, sizeof(suites)); /* TLS 1.2 suites only */
    h->suites_len = sizeof(suites);
}

static void fix_no_common_group(struct hello *h)
{
    static const uint8_t groups[] = {0, 2, 0x01, 0x00}; /* ffdhe2048 only */

    ext_set(h, MICA_EXT_SUPPORTED_GROUPS, groups, sizeof(groups));
}

/*
 * ch2_case: the second ClientHello of a HelloRetryRequest handshake (scfg asks for one),
 * changed by fix, to the server that sent the HRR.
 */
static void ch2_case(const char *name, const mica_config *scfg, hello_fix fix, mica_err err,
                     mica_alert alert, bool bug)
{
    static uint8_t buf[16384], out[16384], msg[16384];
    mica_conn *c = NULL, *s = NULL;
    struct hello h;
    size_t n, off = 0, k = 0;

    CHECK_OK(mica_conn_new_client(g_ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(scfg, &s));
    if (c == NULL || s == NULL) {
        mica_conn_free(c);
        mica_conn_free(s);
        return;
    }
    pass(c, s);
    pass(s, c);
    n = take(c, buf, sizeof(buf)); /* [CCS] ClientHello2 */
    while (off + 5 <= n) {
        size_t rec = 5 + (size_t)get16(buf + off + 3);
        if (buf[off] == HS && hello_parse(buf + off + 5, rec - 5, &h)) {
            fix(&h);
            k += record(HS, 0x0303, msg, hello_build(&h, msg, sizeof(msg)), out + k);
        } else {
            memcpy(out + k, buf + off, rec);
            k += rec;
        }
        off += rec;
    }
    (void)feed(s, out, k);
    expect_plain_alert(name, s, alert, buf, &n, bug);
    (void)feed(c, buf, n);
    expect(name, s, c, "server", err, alert, bug);
    mica_conn_free(c);
    mica_conn_free(s);
}

static void fix_forged_cookie(struct hello *h)
{
    uint8_t cookie[2 + 64];

    put16(cookie, 64);
    memset(cookie + 2, 0x5a, 64);
    ext_add(h, h->n_ext - 1, MICA_EXT_COOKIE, cookie, sizeof(cookie));
}

static void fix_drop_cookie(struct hello *h)
{
    ext_remove(h, MICA_EXT_COOKIE);
}

static void fix_flip_cookie(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_COOKIE);

    e->data[e->len - 1] ^= 1;
}

static void fix_wrong_retry_group(struct hello *h)
{
    set_share(h, 0x0017, 65, 0); /* secp256r1; the HRR asked for secp384r1 */
}

static void fix_retry_suite(struct hello *h)
{
    static const uint8_t suites[] = {0x13, 0x03}; /* ChaCha20 only: the HRR chose another */

    memcpy(h->suites, suites, sizeof(suites));
    h->suites_len = sizeof(suites);
}

static void client_hello_cases(void)
{
    ch_case("CH: no supported_versions (TLS 1.2 hello)", g_scfg, fix_no_versions,
            MICA_E_PROTOCOL_VERSION, MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: supported_versions {1.2, 1.1} only", g_scfg, fix_tls12_only,
            MICA_E_PROTOCOL_VERSION, MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: SSL 3.0 hello (0x0300, no extensions)", g_scfg, fix_ssl30, MICA_E_PROTOCOL_VERSION,
            MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: TLS 1.0 hello", g_scfg, fix_tls10, MICA_E_PROTOCOL_VERSION,
            MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: TLS 1.1 hello", g_scfg, fix_tls11, MICA_E_PROTOCOL_VERSION,
            MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: TLS 1.2-only hello (1.2 suites)", g_scfg, fix_tls12, MICA_E_PROTOCOL_VERSION,
            MICA_ALERT_PROTOCOL_VERSION, false);
    ch_case("CH: compression methods {1, 0}", g_scfg, fix_comp_two, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: compression methods {1}", g_scfg, fix_comp_deflate, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: supported_groups twice", g_scfg, fix_dup_groups, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: oid_filters (CertificateRequest only)", g_scfg, fix_oid_filters,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: last extension longer than the block", g_scfg, fix_last_ext_long, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: last extension cut short, one byte left", g_scfg, fix_last_ext_short,
            MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: extension block longer than the message", g_scfg, fix_exts_len_long, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: bytes after the extension block", g_scfg, fix_trailing, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: server_name host_name of 300 bytes", g_scfg, fix_long_name, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: legacy_session_id of 33 bytes", g_scfg, fix_long_session_id, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: cipher_suites of odd length", g_scfg, fix_odd_suites, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ch_case("CH: no signature_algorithms", g_scfg, fix_no_sigalgs, MICA_E_MISSING_EXTENSION,
            MICA_ALERT_MISSING_EXTENSION, false);
    ch_case("CH: no key_share", g_scfg, fix_no_key_share, MICA_E_MISSING_EXTENSION,
            MICA_ALERT_MISSING_EXTENSION, false);
    ch_case("CH: no supported_groups", g_scfg, fix_no_groups, MICA_E_MISSING_EXTENSION,
            MICA_ALERT_MISSING_EXTENSION, false);
    ch_case("CH: pre_shared_key not the last extension", g_scfg, fix_psk_not_last,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: pre_shared_key without psk_key_exchange_modes", g_scfg, fix_psk_no_modes,
            MICA_E_MISSING_EXTENSION, MICA_ALERT_MISSING_EXTENSION, false);
    ch_case("CH: x25519 share all zeros", g_scfg, fix_x25519_zero, MICA_E_ZERO_SHARED,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: x25519 share of 31 bytes", g_scfg, fix_x25519_short, MICA_E_BAD_PEER_KEY,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: secp256r1 share not on the curve", g_scfg, fix_p256_off_curve, MICA_E_BAD_PEER_KEY,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ch_case("CH: no cipher suite in common", g_scfg, fix_empty_suites_match,
            MICA_E_HANDSHAKE_FAILURE, MICA_ALERT_HANDSHAKE_FAILURE, false);
    ch_case("CH: no group in common", g_scfg, fix_no_common_group, MICA_E_HANDSHAKE_FAILURE,
            MICA_ALERT_HANDSHAKE_FAILURE, false);
    ch_case("CH: a cookie this server never issued", g_scfg, fix_forged_cookie,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    {
        mica_config *hrr = server_config("ecdsa-p256");
        CHECK_OK(mica_config_set_groups(hrr, "secp384r1"));
        /* 4.2.2: the client "MUST copy the contents of the extension received in the
         * HelloRetryRequest into a cookie extension in the new ClientHello" */
        ch2_case("CH2: the HRR's cookie left out", hrr, fix_drop_cookie, MICA_E_ILLEGAL_PARAMETER,
                 MICA_ALERT_ILLEGAL_PARAMETER, false);
        ch2_case("CH2: the HRR's cookie altered", hrr, fix_flip_cookie, MICA_E_ILLEGAL_PARAMETER,
                 MICA_ALERT_ILLEGAL_PARAMETER, false);
        /* 4.1.2: the second hello must replace key_share with one for the group asked */
        ch2_case("CH2: shares a group the HRR did not ask for", hrr, fix_wrong_retry_group,
                 MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
        /* 4.1.4: the suite chosen in the HRR must be the one chosen in the end */
        ch2_case("CH2: no longer offers the HRR's cipher suite", hrr, fix_retry_suite,
                 MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
        mica_config_free(hrr);
    }
    /* RFC 8446 4.1.2: "Servers MUST ignore unrecognized extensions" (GREASE included) */
    ch_case("CH: unknown and GREASE extensions are ignored", g_scfg, fix_unknown_ext, MICA_OK,
            MICA_ALERT_NONE, false);
}

/* ---- ServerHello and HelloRetryRequest to a mica client (RFC 8446 4.1.3, 4.1.4) ---- */

/*
 * sh_case: a real ServerHello (or HelloRetryRequest, when scfg makes the server ask for
 * one) from a mica server, changed by fix, to the client. The client must end with err
 * and send exactly that alert in the clear; the server, fed it, must read it.
 */
static void sh_case(const char *name, const mica_config *ccfg, const mica_config *scfg,
                    hello_fix fix, mica_err err, mica_alert alert, bool bug)
{
    static uint8_t buf[65536], msg[16384];
    mica_conn *c = NULL, *s = NULL;
    struct hello h;
    size_t n, len;
    bool parsed;

    CHECK_OK(mica_conn_new_client(ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(scfg, &s));
    if (c == NULL || s == NULL) {
        mica_conn_free(c);
        mica_conn_free(s);
        return;
    }
    pass(c, s);
    n = take(s, buf, sizeof(buf));
    len = n > 5 ? (size_t)get16(buf + 3) : 0;
    parsed = len > 0 && 5 + len <= n && hello_parse(buf + 5, len, &h);
    CHECK_MSG(parsed, "%s: cannot parse the server's hello", name);
    if (!parsed) {
        mica_conn_free(c);
        mica_conn_free(s);
        return;
    }
    fix(&h);
    len = hello_build(&h, msg, sizeof(msg));
    n = record(HS, 0x0303, msg, len, buf);
    (void)feed(c, buf, n);
    expect_plain_alert(name, c, alert, buf, &n, bug);
    (void)feed(s, buf, n);
    expect(name, c, s, "client", err, alert, bug);
    mica_conn_free(c);
    mica_conn_free(s);
}

static const uint8_t downgrade_12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t downgrade_11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

/* a TLS 1.2 ServerHello: no supported_versions, no key_share; renegotiation_info and
 * extended_master_secret instead */
static void tls12_server_hello(struct hello *h)
{
    static const uint8_t reneg[] = {0};

    ext_remove(h, MICA_EXT_SUPPORTED_VERSIONS);
    ext_remove(h, MICA_EXT_KEY_SHARE);
    ext_add(h, 0, 0xff01, reneg, sizeof(reneg));
    ext_add(h, 1, 0x0017, NULL, 0);
    h->suites[0] = 0xc0; /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    h->suites[1] = 0x2b;
}

static void fix_sh_tls12(struct hello *h)
{
    tls12_server_hello(h);
}

static void fix_sh_tls12_no_ext(struct hello *h)
{
    tls12_server_hello(h);
    h->has_ext = false;
    h->n_ext = 0;
}

static void fix_sh_downgrade12(struct hello *h)
{
    tls12_server_hello(h);
    memcpy(h->random + 24, downgrade_12, 8);
}

static void fix_sh_downgrade11(struct hello *h)
{
    tls12_server_hello(h);
    h->version = 0x0302;
    h->has_ext = false;
    h->n_ext = 0;
    memcpy(h->random + 24, downgrade_11, 8);
}

static void fix_sh_selects_12(struct hello *h)
{
    static const uint8_t v[] = {0x03, 0x03};

    ext_set(h, MICA_EXT_SUPPORTED_VERSIONS, v, sizeof(v));
}

static void fix_sh_selects_future(struct hello *h)
{
    static const uint8_t v[] = {0x03, 0x05};

    ext_set(h, MICA_EXT_SUPPORTED_VERSIONS, v, sizeof(v));
}

static void fix_sh_legacy_version(struct hello *h)
{
    h->version = 0x0301;
}

static void fix_sh_suite_not_offered(struct hello *h)
{
    h->suites[0] = 0x13; /* TLS_AES_256_GCM_SHA384; the client offers only AES-128-GCM */
    h->suites[1] = 0x02;
}

static void fix_sh_suite_unknown(struct hello *h)
{
    h->suites[0] = 0x00;
    h->suites[1] = 0xff;
}

static void fix_sh_group_no_share(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    put16(e->data, 0x0018); /* secp384r1: offered, but without a key share */
}

static void fix_sh_group_not_offered(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    put16(e->data, 0x0100); /* ffdhe2048: never offered */
}

static void fix_sh_share_zero(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    memset(e->data + 4, 0, e->len - 4); /* x25519: the all-zero point */
}

static void fix_sh_sid_mismatch(struct hello *h)
{
    h->sid[5] ^= 1;
}

static void fix_sh_sid_empty(struct hello *h)
{
    h->sid_len = 0;
}

static void fix_sh_compression(struct hello *h)
{
    h->comp[0] = 1;
}

static void fix_sh_ext_long(struct hello *h)
{
    h->d_last_ext_len = 2;
}

static void fix_sh_trailing(struct hello *h)
{
    h->trailing = 1;
}

static void fix_sh_dup_key_share(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    ext_add(h, h->n_ext, e->type, e->data, e->len);
}

static void fix_sh_server_name(struct hello *h)
{
    ext_add(h, 0, MICA_EXT_SERVER_NAME, NULL, 0); /* EE's, not the ServerHello's */
}

static void fix_sh_cookie(struct hello *h)
{
    static const uint8_t cookie[] = {0, 2, 0xc0, 0x0c};

    ext_add(h, 0, MICA_EXT_COOKIE, cookie, sizeof(cookie)); /* HRR only */
}

static void fix_sh_early_data(struct hello *h)
{
    ext_add(h, 0, MICA_EXT_EARLY_DATA, NULL, 0);
}

static void fix_sh_psk_not_offered(struct hello *h)
{
    static const uint8_t identity[] = {0, 0};

    ext_add(h, h->n_ext, MICA_EXT_PRE_SHARED_KEY, identity, sizeof(identity));
}

static void fix_sh_unknown_ext(struct hello *h)
{
    static const uint8_t junk[] = {0xab};

    ext_add(h, 1, 0x7777, junk, sizeof(junk));
}

static void fix_sh_grease_ext(struct hello *h)
{
    ext_add(h, 1, 0x0a0a, NULL, 0);
}

static void fix_sh_no_key_share(struct hello *h)
{
    ext_remove(h, MICA_EXT_KEY_SHARE);
}

/* HelloRetryRequest edits (the server's HRR asks for secp384r1) */
static void fix_hrr_shared_group(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    put16(e->data, 0x001d); /* x25519: the client already sent a share for it */
}

static void fix_hrr_group_not_offered(struct hello *h)
{
    struct ext *e = ext_get(h, MICA_EXT_KEY_SHARE);

    put16(e->data, 0x0100);
}

static void fix_hrr_no_change(struct hello *h)
{
    ext_remove(h, MICA_EXT_KEY_SHARE);
    ext_remove(h, MICA_EXT_COOKIE);
}

static void fix_hrr_unknown_ext(struct hello *h)
{
    ext_add(h, 1, 0x7777, NULL, 0);
}

static void fix_hrr_suite_not_offered(struct hello *h)
{
    h->suites[0] = 0x13;
    h->suites[1] = 0x02;
}

/* RFC 8446 4.1.4: a second HelloRetryRequest is unexpected_message */
static void second_hrr(const mica_config *ccfg, const mica_config *hrr_scfg)
{
    static uint8_t hrr[4096], buf[4096];
    const char *name = "HRR: a second HelloRetryRequest";
    mica_conn *c = NULL, *s = NULL;
    size_t n, len;

    CHECK_OK(mica_conn_new_client(ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(hrr_scfg, &s));
    if (c == NULL || s == NULL) {
        mica_conn_free(c);
        mica_conn_free(s);
        return;
    }
    pass(c, s);
    n = take(s, hrr, sizeof(hrr));
    len = 5 + (size_t)get16(hrr + 3); /* the HRR record; a CCS may follow */
    CHECK_OK(feed(c, hrr, len));
    (void)take(c, buf, sizeof(buf)); /* CCS and the second ClientHello, dropped */
    (void)feed(c, hrr, len);
    expect_plain_alert(name, c, MICA_ALERT_UNEXPECTED_MESSAGE, buf, &n, false);
    (void)feed(s, buf, n);
    expect(name, c, s, "client", MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    mica_conn_free(c);
    mica_conn_free(s);
}

static void server_hello_cases(void)
{
    mica_config *aes128 = client_config(), *hrr = server_config("ecdsa-p256");

    CHECK_OK(mica_config_set_cipher_suites(aes128, "TLS_AES_128_GCM_SHA256"));
    CHECK_OK(mica_config_set_groups(hrr, "secp384r1"));
    sh_case("SH: TLS 1.2 ServerHello (no supported_versions)", g_ccfg, g_scfg, fix_sh_tls12,
            MICA_E_PROTOCOL_VERSION, MICA_ALERT_PROTOCOL_VERSION, false);
    sh_case("SH: TLS 1.2 ServerHello without extensions", g_ccfg, g_scfg, fix_sh_tls12_no_ext,
            MICA_E_PROTOCOL_VERSION, MICA_ALERT_PROTOCOL_VERSION, false);
    sh_case("SH: TLS 1.2 with the DOWNGRD 01 sentinel", g_ccfg, g_scfg, fix_sh_downgrade12,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: TLS 1.1 with the DOWNGRD 00 sentinel", g_ccfg, g_scfg, fix_sh_downgrade11,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: supported_versions selects 0x0303", g_ccfg, g_scfg, fix_sh_selects_12,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: supported_versions selects 0x0305", g_ccfg, g_scfg, fix_sh_selects_future,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: legacy_version 0x0301", g_ccfg, g_scfg, fix_sh_legacy_version,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: cipher suite not offered", aes128, g_scfg, fix_sh_suite_not_offered,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: unknown cipher suite 0x00ff", g_ccfg, g_scfg, fix_sh_suite_unknown,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: key_share group offered without a share", g_ccfg, g_scfg, fix_sh_group_no_share,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: key_share group never offered", g_ccfg, g_scfg, fix_sh_group_not_offered,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: x25519 share all zeros", g_ccfg, g_scfg, fix_sh_share_zero, MICA_E_ZERO_SHARED,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: legacy_session_id_echo differs", g_ccfg, g_scfg, fix_sh_sid_mismatch,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: legacy_session_id_echo empty", g_ccfg, g_scfg, fix_sh_sid_empty,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: compression method 1", g_ccfg, g_scfg, fix_sh_compression,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: last extension longer than the block", g_ccfg, g_scfg, fix_sh_ext_long,
            MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false);
    sh_case("SH: a byte after the extension block", g_ccfg, g_scfg, fix_sh_trailing, MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    sh_case("SH: key_share twice", g_ccfg, g_scfg, fix_sh_dup_key_share, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: server_name (an EE extension)", g_ccfg, g_scfg, fix_sh_server_name,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: cookie (an HRR extension)", g_ccfg, g_scfg, fix_sh_cookie,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: early_data", g_ccfg, g_scfg, fix_sh_early_data, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("SH: pre_shared_key never offered", g_ccfg, g_scfg, fix_sh_psk_not_offered,
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, false);
    /* RFC 8446 4.2: a response extension the client did not send -> unsupported_extension;
     * the client never sends an unknown type, so an unknown one was never offered */
    sh_case("SH: unknown extension 0x7777", g_ccfg, g_scfg, fix_sh_unknown_ext,
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, true);
    /* RFC 8701 3.1: the client "MUST fail the connection if a GREASE value appears in ...
     * any ServerHello extension" */
    sh_case("SH: GREASE extension 0x0a0a", g_ccfg, g_scfg, fix_sh_grease_ext,
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, true);
    sh_case("SH: no key_share", g_ccfg, g_scfg, fix_sh_no_key_share, MICA_E_MISSING_EXTENSION,
            MICA_ALERT_MISSING_EXTENSION, false);
    sh_case("HRR: asks for a group already shared", g_ccfg, hrr, fix_hrr_shared_group,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("HRR: asks for a group never offered", g_ccfg, hrr, fix_hrr_group_not_offered,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("HRR: asks for no change", g_ccfg, hrr, fix_hrr_no_change, MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    sh_case("HRR: cipher suite not offered", aes128, hrr, fix_hrr_suite_not_offered,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    /* RFC 8446 4.1.4: an HRR "MUST NOT contain any extensions that were not first offered
     * by the client", except cookie; 4.2: unsupported_extension */
    sh_case("HRR: unknown extension 0x7777", g_ccfg, hrr, fix_hrr_unknown_ext,
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, true);
    second_hrr(g_ccfg, hrr);
    mica_config_free(aes128);
    mica_config_free(hrr);
}

/* ---- protected states, through the man in the middle ------------------------------ */

/* hs_msg: a handshake message of type around body; returns its length */
static size_t hs_msg(uint8_t *out, uint8_t type, const uint8_t *body, size_t len)
{
    out[0] = type;
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    if (len > 0) {
        memmove(out + 4, body, len);
    }
    return 4 + len;
}

/*
 * One edit of one flight: in the first batch going to_server that holds a handshake
 * message of type anchor, op changes the flight around that record (index i).
 */
struct edit {
    bool to_server;
    uint8_t anchor;
    void (*op)(struct edit *e, struct flight *f, size_t i);
    uint8_t msg[4096]; /* a message or record content to put in */
    size_t len;
    int type;  /* its content type (0: handshake; TYPE_NONE: no type, zeros only) */
    int epoch; /* its epoch (MITM_CUR: the anchor's) */
    long arg;
    bool cr; /* op_replace_rest: a CertificateRequest before the message */
    void (*fix)(uint8_t *msg, size_t *len); /* op_fix: rewrites the anchor message */
    bool done;
};

static void on_batch(void *ctx, struct flight *f)
{
    struct edit *e = ctx;
    int i;

    if (e->done || e->op == NULL || f->to_server != e->to_server ||
        (i = flight_find(f, e->anchor)) < 0) {
        return;
    }
    e->op(e, f, (size_t)i);
    e->done = true;
}

#define TYPE_NONE 0x100

static uint8_t put_type(const struct edit *e)
{
    return e->type == 0 ? HS : e->type == TYPE_NONE ? 0 : (uint8_t)e->type;
}

static uint8_t put_epoch(const struct edit *e, const struct flight *f, size_t i)
{
    return (uint8_t)(e->epoch == MITM_CUR ? f->rec[i].epoch : e->epoch);
}

/* the CertificateRequest that leads a client into C_WAIT_CERT: empty context,
 * signature_algorithms {ecdsa_secp256r1_sha256} */
static const uint8_t cert_request[] = {13,   0,    0,    11,   0, 0, 8, 0x00,
                                       0x0d, 0x00, 0x04, 0x00, 2, 4, 3};

/* the anchor and all after it in this flight give way to e->msg */
static void op_replace_rest(struct edit *e, struct flight *f, size_t i)
{
    uint8_t epoch = put_epoch(e, f, i);

    flight_truncate(f, i);
    if (e->cr) {
        (void)flight_insert(f, f->n, HS, epoch, cert_request, sizeof(cert_request));
    }
    (void)flight_insert(f, f->n, put_type(e), epoch, e->msg, e->len);
}

static void op_replace(struct edit *e, struct flight *f, size_t i)
{
    (void)flight_set(f, i, e->msg, e->len);
}

static void op_remove(struct edit *e, struct flight *f, size_t i)
{
    (void)e;
    flight_remove(f, i);
}

static void op_dup(struct edit *e, struct flight *f, size_t i)
{
    (void)e;
    (void)flight_insert(f, i + 1, f->rec[i].type, f->rec[i].epoch, f->rec[i].data, f->rec[i].len);
}

/* flip one byte of the anchor: arg >= 0 from the start, < 0 from the end */
static void op_flip(struct edit *e, struct flight *f, size_t i)
{
    size_t at = e->arg >= 0 ? (size_t)e->arg : f->rec[i].len - (size_t)(-e->arg);

    f->rec[i].data[at] ^= 0x01;
}

static void op_insert_before(struct edit *e, struct flight *f, size_t i)
{
    (void)flight_insert(f, i, put_type(e), put_epoch(e, f, i), e->msg, e->len);
}

/* the anchor and the next handshake record become one record, in the anchor's epoch */
static void op_coalesce(struct edit *e, struct flight *f, size_t i)
{
    static uint8_t both[32768];

    (void)e;
    for (size_t k = i + 1; k < f->n; k++) {
        if (f->rec[k].type == HS && f->rec[k].epoch != MITM_RAW) {
            memcpy(both, f->rec[i].data, f->rec[i].len);
            memcpy(both + f->rec[i].len, f->rec[k].data, f->rec[k].len);
            (void)flight_set(f, i, both, f->rec[i].len + f->rec[k].len);
            flight_remove(f, k);
            return;
        }
    }
}

/* e->msg follows the anchor in the same record */
static void op_append(struct edit *e, struct flight *f, size_t i)
{
    static uint8_t both[32768];

    memcpy(both, f->rec[i].data, f->rec[i].len);
    memcpy(both + f->rec[i].len, e->msg, e->len);
    (void)flight_set(f, i, both, f->rec[i].len + e->len);
}

/* the anchor is cut after arg bytes into two records, with e->msg's record between */
static void op_split(struct edit *e, struct flight *f, size_t i)
{
    uint8_t epoch = f->rec[i].epoch;
    size_t cut = (size_t)e->arg;

    (void)flight_insert(f, i + 1, HS, epoch, f->rec[i].data + cut, f->rec[i].len - cut);
    f->rec[i].len = cut;
    (void)flight_insert(f, i + 1, put_type(e), put_epoch(e, f, i), e->msg, e->len);
}

/* the anchor swaps places with the next handshake record */
static void op_swap(struct edit *e, struct flight *f, size_t i)
{
    (void)e;
    for (size_t k = i + 1; k < f->n; k++) {
        if (f->rec[k].type == HS) {
            struct mitm_rec t = f->rec[i];
            f->rec[i] = f->rec[k];
            f->rec[k] = t;
            return;
        }
    }
}

static void op_fix(struct edit *e, struct flight *f, size_t i)
{
    static uint8_t m[32768];
    size_t len = f->rec[i].len;

    memcpy(m, f->rec[i].data, len);
    e->fix(m, &len);
    (void)flight_set(f, i, m, len);
}

/* a run: a pair through a man in the middle that applies e */
struct run {
    struct pair p;
    struct mitm *m;
};

static bool run_start(struct run *r, const mica_config *ccfg, mica_config *scfg, const char *host,
                      struct edit *e)
{
    memset(r, 0, sizeof(*r));
    r->m = mitm_new(scfg, on_batch, e);
    CHECK(r->m != NULL);
    if (r->m == NULL) {
        return false;
    }
    CHECK_OK(mitm_pair_new(&r->p, r->m, ccfg, scfg, host));
    r->p.chunk = g_chunk;
    if (r->p.client == NULL || r->p.server == NULL) {
        pair_free(&r->p);
        mitm_free(r->m);
        return false;
    }
    return true;
}

static void run_end(struct run *r)
{
    pair_free(&r->p);
    mitm_free(r->m);
}

/* edit_case: a handshake with edit e; side failing fails with err / alert */
static void edit_case(const char *name, const mica_config *ccfg, mica_config *scfg, struct edit *e,
                      bool server_fails, mica_err err, mica_alert alert, bool bug)
{
    struct run r;

    if (!run_start(&r, ccfg, scfg, "localhost", e)) {
        return;
    }
    (void)pair_move(&r.p);
    CHECK_MSG(e->done, "%s: the edit found no %s to work on", name, mica_hs_type_name(e->anchor));
    expect_pair(name, &r.p, server_fails, err, alert, bug);
    run_end(&r);
}

/* post_case: a clean handshake, then content of type sealed under the current keys to
 * one side; that side fails with err / alert */
static void post_case(const char *name, bool to_server, uint8_t type, int epoch,
                      const uint8_t *content, size_t len, mica_err err, mica_alert alert, bool bug)
{
    struct edit none = {0};
    struct run r;

    if (!run_start(&r, g_ccfg, g_scfg, "localhost", &none)) {
        return;
    }
    CHECK_OK(pair_handshake(&r.p));
    (void)mitm_inject(r.m, &r.p, to_server, type, epoch, content, len);
    (void)pair_move(&r.p);
    expect_pair(name, &r.p, to_server, err, alert, bug);
    run_end(&r);
}

/* ---- 1. every unexpected message in every state (RFC 8446 4, Appendix A) ---------- */

struct st_row {
    const char *name;
    bool server;    /* the side in this state */
    uint8_t anchor; /* the message it waits for, replaced by the injected one; 0: after
                       the handshake, injected under the application keys */
    bool cr;        /* reached by a CertificateRequest first */
    uint8_t accepts[2];
};

static const struct st_row st_rows[] = {
    {"C_WAIT_SH", false, MICA_HS_SERVER_HELLO, false, {MICA_HS_SERVER_HELLO, 0}},
    {"C_WAIT_EE", false, MICA_HS_ENCRYPTED_EXTENSIONS, false, {MICA_HS_ENCRYPTED_EXTENSIONS, 0}},
    {"C_WAIT_CERT_CR",
     false,
     MICA_HS_CERTIFICATE,
     false,
     {MICA_HS_CERTIFICATE, MICA_HS_CERTIFICATE_REQUEST}},
    {"C_WAIT_CERT", false, MICA_HS_CERTIFICATE, true, {MICA_HS_CERTIFICATE, 0}},
    {"C_WAIT_CV", false, MICA_HS_CERTIFICATE_VERIFY, false, {MICA_HS_CERTIFICATE_VERIFY, 0}},
    {"C_WAIT_FINISHED", false, MICA_HS_FINISHED, false, {MICA_HS_FINISHED, 0}},
    {"CONNECTED (client)", false, 0, false, {MICA_HS_NEW_SESSION_TICKET, MICA_HS_KEY_UPDATE}},
    {"S_START", true, MICA_HS_CLIENT_HELLO, false, {MICA_HS_CLIENT_HELLO, 0}},
    {"S_WAIT_FINISHED", true, MICA_HS_FINISHED, false, {MICA_HS_FINISHED, 0}},
    {"CONNECTED (server)", true, 0, false, {MICA_HS_KEY_UPDATE, 0}},
};

static const uint8_t all_types[] = {MICA_HS_CLIENT_HELLO,
                                    MICA_HS_SERVER_HELLO,
                                    MICA_HS_NEW_SESSION_TICKET,
                                    MICA_HS_END_OF_EARLY_DATA,
                                    MICA_HS_ENCRYPTED_EXTENSIONS,
                                    MICA_HS_CERTIFICATE,
                                    MICA_HS_CERTIFICATE_REQUEST,
                                    MICA_HS_CERTIFICATE_VERIFY,
                                    MICA_HS_FINISHED,
                                    MICA_HS_KEY_UPDATE,
                                    99,
                                    MICA_HS_MESSAGE_HASH};

/* state_case: msg delivered to the side in state row, as its peer would send it */
static void state_case(const char *name, const struct st_row *row, const uint8_t *msg, size_t len,
                       mica_err err, mica_alert alert, bool bug)
{
    struct edit e = {0};

    if (row->anchor == 0) {
        post_case(name, row->server, HS, MITM_CUR, msg, len, err, alert, bug);
        return;
    }
    e.to_server = row->server;
    e.anchor = row->anchor;
    e.op = op_replace_rest;
    e.epoch = MITM_CUR;
    e.cr = row->cr;
    memcpy(e.msg, msg, len);
    e.len = len;
    edit_case(name, g_ccfg, g_scfg, &e, row->server, err, alert, bug);
}

static void unexpected_matrix(void)
{
    int n = 0;

    for (size_t s = 0; s < sizeof(st_rows) / sizeof(st_rows[0]); s++) {
        const struct st_row *row = &st_rows[s];
        for (size_t t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
            uint8_t type = all_types[t], msg[8] = {type, 0, 0, 4, 0, 0, 0, 0};
            char name[128];
            if (type == row->accepts[0] || type == row->accepts[1]) {
                continue;
            }
            snprintf(name, sizeof(name), "%s: %s (%u)", row->name, mica_hs_type_name(type), type);
            state_case(name, row, msg, sizeof(msg), MICA_E_UNEXPECTED_MESSAGE,
                       MICA_ALERT_UNEXPECTED_MESSAGE, false);
            n++;
        }
    }
    printf("unexpected_matrix: %d cases\n", n);
}

/* each state's own message, cut short: its decoder fails (decode_error) */
static void truncated_expected(void)
{
    static const struct {
        size_t row;
        uint8_t type;
        size_t body_len; /* body of zero bytes */
        uint8_t body0;
        mica_err err;
        mica_alert alert;
        bool bug;
    } cases[] = {
        {0, MICA_HS_SERVER_HELLO, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {1, MICA_HS_ENCRYPTED_EXTENSIONS, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {2, MICA_HS_CERTIFICATE, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {2, MICA_HS_CERTIFICATE_REQUEST, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {3, MICA_HS_CERTIFICATE, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {4, MICA_HS_CERTIFICATE_VERIFY, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        /* a Finished of the wrong length: see finished_length below */
        {5, MICA_HS_FINISHED, 1, 0, MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR, false},
        {6, MICA_HS_NEW_SESSION_TICKET, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {6, MICA_HS_KEY_UPDATE, 0, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        /* 4.6.3: request_update other than 0 or 1 */
        {6, MICA_HS_KEY_UPDATE, 1, 2, MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER,
         false},
        {7, MICA_HS_CLIENT_HELLO, 1, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {8, MICA_HS_FINISHED, 1, 0, MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR, false},
        {9, MICA_HS_KEY_UPDATE, 0, 0, MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false},
        {9, MICA_HS_KEY_UPDATE, 1, 2, MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER,
         false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t msg[8] = {cases[i].type, 0, 0, (uint8_t)cases[i].body_len, cases[i].body0};
        char name[128];
        snprintf(name, sizeof(name), "%s: %s with a %zu-byte body", st_rows[cases[i].row].name,
                 mica_hs_type_name(cases[i].type), cases[i].body_len);
        state_case(name, &st_rows[cases[i].row], msg, 4 + cases[i].body_len, cases[i].err,
                   cases[i].alert, cases[i].bug);
    }
}

/* ---- 2. EncryptedExtensions (RFC 8446 4.2, 4.3.1) ---------------------------------- */

static void ee_case(const char *name, const mica_config *ccfg, const uint8_t *exts, size_t len,
                    mica_err err, mica_alert alert, bool bug)
{
    struct edit e = {0};
    uint8_t body[1024];

    put16(body, len);
    memcpy(body + 2, exts, len);
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.op = op_replace;
    e.len = hs_msg(e.msg, MICA_HS_ENCRYPTED_EXTENSIONS, body, 2 + len);
    edit_case(name, ccfg, g_scfg, &e, false, err, alert, bug);
}

static void encrypted_extensions_cases(void)
{
    static const uint8_t alpn_h2[] = {0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2'};
    static const uint8_t alpn_two[] = {0x00, 0x10, 0x00, 0x08, 0x00, 0x06,
                                       0x02, 'h',  '2',  0x02, 'h',  '3'};
    static const uint8_t key_share[] = {0x00, 0x33, 0x00, 0x02, 0x00, 0x1d};
    static const uint8_t versions[] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
    static const uint8_t sni_twice[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t sni_data[] = {0x00, 0x00, 0x00, 0x01, 0x00};
    static const uint8_t cut[] = {0x00, 0x00, 0x00, 0x04, 0x00};
    static const uint8_t unknown[] = {0x77, 0x77, 0x00, 0x01, 0xab};
    static const uint8_t grease[] = {0x1a, 0x1a, 0x00, 0x00};
    static const uint8_t max_frag[] = {0x00, 0x01, 0x00, 0x01, 0x02};
    static const uint8_t early[] = {0x00, 0x2a, 0x00, 0x00};
    static const uint8_t rsl_63[] = {0x00, 0x1c, 0x00, 0x02, 0x00, 0x3f};
    mica_config *alpn = client_config(), *rsl = client_config();
    struct edit e = {0};

    CHECK_OK(mica_config_set_alpn(alpn, "http/1.1"));
    CHECK_OK(mica_config_set_record_size_limit(rsl, 1000));
    ee_case("EE: ALPN never offered", g_ccfg, alpn_h2, sizeof(alpn_h2),
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, false);
    ee_case("EE: ALPN protocol the client did not list", alpn, alpn_h2, sizeof(alpn_h2),
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    ee_case("EE: ALPN with two protocols", alpn, alpn_two, sizeof(alpn_two), MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ee_case("EE: key_share (a ServerHello extension)", g_ccfg, key_share, sizeof(key_share),
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    ee_case("EE: supported_versions (a ServerHello extension)", g_ccfg, versions, sizeof(versions),
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    ee_case("EE: server_name twice", g_ccfg, sni_twice, sizeof(sni_twice), MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    ee_case("EE: server_name with data", g_ccfg, sni_data, sizeof(sni_data), MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ee_case("EE: extension longer than the block", g_ccfg, cut, sizeof(cut), MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR, false);
    ee_case("EE: max_fragment_length never offered", g_ccfg, max_frag, sizeof(max_frag),
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, false);
    ee_case("EE: early_data never offered", g_ccfg, early, sizeof(early),
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, false);
    ee_case("EE: record_size_limit 63", rsl, rsl_63, sizeof(rsl_63), MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER, false);
    /* RFC 8446 4.2: never offered -> unsupported_extension; RFC 8701 3.1 for GREASE */
    ee_case("EE: unknown extension 0x7777", g_ccfg, unknown, sizeof(unknown),
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, true);
    ee_case("EE: GREASE extension 0x1a1a", g_ccfg, grease, sizeof(grease),
            MICA_E_UNSUPPORTED_EXTENSION, MICA_ALERT_UNSUPPORTED_EXTENSION, true);
    /* a byte after the extensions */
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.op = op_replace;
    {
        static const uint8_t body[] = {0x00, 0x00, 0x00};
        e.len = hs_msg(e.msg, MICA_HS_ENCRYPTED_EXTENSIONS, body, sizeof(body));
    }
    edit_case("EE: a byte after the extension block", g_ccfg, g_scfg, &e, false, MICA_E_DECODE,
              MICA_ALERT_DECODE_ERROR, false);
    mica_config_free(alpn);
    mica_config_free(rsl);
}

/* ---- 3. the server's authentication (RFC 8446 4.4) --------------------------------- */

static void set_cv_scheme(uint8_t *m, size_t *len, uint16_t scheme)
{
    (void)len;
    put16(m + 4, scheme);
}

static void fix_cv_p384(uint8_t *m, size_t *len)
{
    set_cv_scheme(m, len, 0x0503);
}

static void fix_cv_pkcs1(uint8_t *m, size_t *len)
{
    set_cv_scheme(m, len, 0x0401);
}

static void fix_cv_ed25519(uint8_t *m, size_t *len)
{
    set_cv_scheme(m, len, 0x0807);
}

static void fix_cv_long_sig(uint8_t *m, size_t *len)
{
    put16(m + 6, (size_t)get16(m + 6) + 1); /* the signature runs past the message */
    (void)len;
}

static void fix_cv_empty_sig(uint8_t *m, size_t *len)
{
    put16(m + 6, 0);
    m[1] = 0;
    m[2] = 0;
    m[3] = 4;
    *len = 8;
}

static void fix_cert_context(uint8_t *m, size_t *len)
{
    size_t body = *len - 4;

    memmove(m + 6, m + 5, body - 1); /* context <1 byte 0xaa>, then the list as it was */
    m[4] = 1;
    m[5] = 0xaa;
    *len += 1;
    m[1] = (uint8_t)((body + 1) >> 16);
    m[2] = (uint8_t)((body + 1) >> 8);
    m[3] = (uint8_t)(body + 1);
}

static void fix_cert_garbage(uint8_t *m, size_t *len)
{
    /* one entry of 16 bytes that are not DER */
    static const uint8_t body[] = {0, 0, 0, 0x15, 0, 0, 0x10, 0x30, 0x82, 0xff, 0xff, 1, 2,
                                   3, 4, 5, 6,    7, 8, 9,    10,   11,   12,   0,    0};

    *len = hs_msg(m, MICA_HS_CERTIFICATE, body, sizeof(body));
}

static void fix_cert_list_long(uint8_t *m, size_t *len)
{
    m[7] = (uint8_t)(m[7] + 1); /* certificate_list<..> one byte longer than what follows */
    (void)len;
}

static void fix_finished_short(uint8_t *m, size_t *len)
{
    *len -= 1;
    m[3] = (uint8_t)(m[3] - 1);
}

static void fix_finished_long(uint8_t *m, size_t *len)
{
    m[*len] = 0;
    *len += 1;
    m[3] = (uint8_t)(m[3] + 1);
}

static void fix_edit(struct edit *e, bool to_server, uint8_t anchor,
                     void (*fix)(uint8_t *, size_t *))
{
    memset(e, 0, sizeof(*e));
    e->to_server = to_server;
    e->anchor = anchor;
    e->op = op_fix;
    e->fix = fix;
}

static uint64_t clock_2200(void *ctx)
{
    (void)ctx;
    return 7258118400000ull; /* 2200-01-01 */
}

static uint64_t clock_2020(void *ctx)
{
    (void)ctx;
    return 1577836800000ull; /* 2020-01-01 */
}

static void authentication_cases(void)
{
    mica_config *two_sigs = client_config(), *untrusting = mica_config_new();
    struct edit e;

    CHECK_OK(mica_config_set_sig_schemes(two_sigs, "ecdsa_secp256r1_sha256:ed25519"));
    /* Finished: RFC 8446 4.4.4 decrypt_error */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_FINISHED;
    e.op = op_flip;
    e.arg = -1;
    edit_case("server Finished with one byte flipped", g_ccfg, g_scfg, &e, false,
              MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR, false);
    e.done = false;
    e.to_server = true;
    edit_case("client Finished with one byte flipped", g_ccfg, g_scfg, &e, true,
              MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR, false);
    /* finished_length: verify_data is opaque[Hash.length], so a Finished of another length
     * could be decode_error (6.2: "the length of the message was incorrect", OpenSSL's
     * choice); 4.4.4 calls contents that are not correct decrypt_error (BoringSSL's and
     * rustls's choice, and mica's: the length is compared with the value) */
    fix_edit(&e, false, MICA_HS_FINISHED, fix_finished_short);
    edit_case("server Finished one byte short", g_ccfg, g_scfg, &e, false, MICA_E_DECRYPT_ERROR,
              MICA_ALERT_DECRYPT_ERROR, false);
    fix_edit(&e, true, MICA_HS_FINISHED, fix_finished_long);
    edit_case("client Finished one byte long", g_ccfg, g_scfg, &e, true, MICA_E_DECRYPT_ERROR,
              MICA_ALERT_DECRYPT_ERROR, false);
    /* CertificateVerify: 4.4.3 */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE_VERIFY;
    e.op = op_flip;
    e.arg = -1;
    edit_case("CV signature with one byte flipped", g_ccfg, g_scfg, &e, false, MICA_E_DECRYPT_ERROR,
              MICA_ALERT_DECRYPT_ERROR, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE_VERIFY, fix_cv_p384);
    edit_case("CV scheme ecdsa_secp384r1_sha384, not offered", two_sigs, g_scfg, &e, false,
              MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE_VERIFY, fix_cv_pkcs1);
    edit_case("CV scheme rsa_pkcs1_sha256 (certificates only)", g_ccfg, g_scfg, &e, false,
              MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    /* offered, but not the certificate key's type: the signature cannot verify */
    fix_edit(&e, false, MICA_HS_CERTIFICATE_VERIFY, fix_cv_ed25519);
    edit_case("CV scheme ed25519 for a P-256 key", two_sigs, g_scfg, &e, false,
              MICA_E_DECRYPT_ERROR, MICA_ALERT_DECRYPT_ERROR, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE_VERIFY, fix_cv_long_sig);
    edit_case("CV signature longer than the message", g_ccfg, g_scfg, &e, false, MICA_E_DECODE,
              MICA_ALERT_DECODE_ERROR, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE_VERIFY, fix_cv_empty_sig);
    edit_case("CV with an empty signature", g_ccfg, g_scfg, &e, false, MICA_E_DECRYPT_ERROR,
              MICA_ALERT_DECRYPT_ERROR, false);
    /* Certificate: 4.4.2 */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_replace;
    {
        static const uint8_t empty[] = {0, 0, 0, 0};
        e.len = hs_msg(e.msg, MICA_HS_CERTIFICATE, empty, sizeof(empty));
    }
    edit_case("empty server Certificate", g_ccfg, g_scfg, &e, false, MICA_E_DECODE,
              MICA_ALERT_DECODE_ERROR, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE, fix_cert_context);
    edit_case("server Certificate with a request context", g_ccfg, g_scfg, &e, false,
              MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE, fix_cert_garbage);
    edit_case("server Certificate that is not DER", g_ccfg, g_scfg, &e, false,
              MICA_E_BAD_CERTIFICATE, MICA_ALERT_BAD_CERTIFICATE, false);
    fix_edit(&e, false, MICA_HS_CERTIFICATE, fix_cert_list_long);
    edit_case("certificate_list longer than the message", g_ccfg, g_scfg, &e, false, MICA_E_DECODE,
              MICA_ALERT_DECODE_ERROR, false);
    /* trust, names, validity (no tampering) */
    {
        struct pair p;
        mica_config *future = client_config(), *past = client_config();
        mica_config_set_clock(future, clock_2200, NULL);
        mica_config_set_clock(past, clock_2020, NULL);
        CHECK_OK(pair_new(&p, untrusting, g_scfg, "localhost"));
        (void)pair_move(&p);
        expect_pair("server chain from an unknown CA", &p, false, MICA_E_CERT_UNTRUSTED,
                    MICA_ALERT_UNKNOWN_CA, false);
        pair_free(&p);
        CHECK_OK(pair_new(&p, g_ccfg, g_scfg, "example.com"));
        (void)pair_move(&p);
        expect_pair("server certificate for another name", &p, false, MICA_E_CERT_HOSTNAME,
                    MICA_ALERT_BAD_CERTIFICATE, false);
        pair_free(&p);
        CHECK_OK(pair_new(&p, future, g_scfg, "localhost"));
        (void)pair_move(&p);
        expect_pair("server certificate expired (clock in 2200)", &p, false, MICA_E_CERT_EXPIRED,
                    MICA_ALERT_CERTIFICATE_EXPIRED, false);
        pair_free(&p);
        CHECK_OK(pair_new(&p, past, g_scfg, "localhost"));
        (void)pair_move(&p);
        expect_pair("server certificate not yet valid (clock in 2020)", &p, false,
                    MICA_E_CERT_EXPIRED, MICA_ALERT_CERTIFICATE_EXPIRED, false);
        pair_free(&p);
        mica_config_free(future);
        mica_config_free(past);
    }
    mica_config_free(two_sigs);
    mica_config_free(untrusting);
}

/* a CertificateRequest (RFC 8446 4.3.2) before the server's Certificate */
static void cr_case(const char *name, const uint8_t *msg, size_t len, mica_err err,
                    mica_alert alert)
{
    struct edit e = {0};

    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_insert_before;
    e.epoch = MITM_CUR;
    memcpy(e.msg, msg, len);
    e.len = len;
    edit_case(name, g_ccfg, g_scfg, &e, false, err, alert, false);
}

static void certificate_request_cases(void)
{
    static const uint8_t context[] = {13, 0, 0, 12, 1, 0xaa, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    static const uint8_t no_sigalgs[] = {13, 0, 0, 11, 0, 0, 8, 0, 0x32, 0, 4, 0, 2, 4, 3};
    static const uint8_t no_exts[] = {13, 0, 0, 3, 0, 0, 0};
    static const uint8_t key_share[] = {13, 0,  0, 17,   0, 0, 14, 0, 0x33, 0, 2,
                                        0,  29, 0, 0x0d, 0, 4, 0,  2, 4,    3};
    static const uint8_t sigalgs_twice[] = {13, 0, 0, 19, 0,  0, 16, 0, 13, 0, 4, 0,
                                            2,  4, 3, 0,  13, 0, 4,  0, 2,  4, 3};

    /* 4.3.2: the context "SHALL be zero length unless used for ... post-handshake" */
    cr_case("CR with a context in the handshake", context, sizeof(context),
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER);
    /* 4.3.2: "The "signature_algorithms" extension MUST be specified" */
    cr_case("CR with signature_algorithms_cert only", no_sigalgs, sizeof(no_sigalgs),
            MICA_E_MISSING_EXTENSION, MICA_ALERT_MISSING_EXTENSION);
    /* 4.3.2: Extension extensions<2..2^16-1> */
    cr_case("CR with an empty extension block", no_exts, sizeof(no_exts), MICA_E_DECODE,
            MICA_ALERT_DECODE_ERROR);
    cr_case("CR with key_share", key_share, sizeof(key_share), MICA_E_ILLEGAL_PARAMETER,
            MICA_ALERT_ILLEGAL_PARAMETER);
    cr_case("CR with signature_algorithms twice", sigalgs_twice, sizeof(sigalgs_twice),
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER);
}

/* ---- messages out of order (RFC 8446 4, Appendix A) ------------------------------- */

static void reorder_cases(void)
{
    struct edit e;

    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.op = op_remove;
    edit_case("server flight without EncryptedExtensions", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_dup;
    edit_case("server flight with Certificate twice", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_swap;
    edit_case("server flight with CertificateVerify before Certificate", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE_VERIFY;
    e.op = op_remove;
    edit_case("server flight without CertificateVerify", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_remove;
    edit_case("server flight without Certificate", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
}

/* ---- 4. ChangeCipherSpec (RFC 8446 5, D.4) ----------------------------------------- */

/* ccs_before_hello: n CCS records, then (if the server still stands) a real ClientHello */
static void ccs_before_hello(const char *name, int count, mica_err err, mica_alert alert)
{
    static const uint8_t one = 1;
    static uint8_t buf[16384];
    mica_conn *c = NULL, *s = NULL;
    size_t n;

    CHECK_OK(mica_conn_new_client(g_ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(g_scfg, &s));
    if (c != NULL && s != NULL) {
        for (int i = 0; i < count; i++) {
            n = record(MICA_CT_CHANGE_CIPHER_SPEC, 0x0303, &one, 1, buf);
            (void)feed(s, buf, n);
        }
        if (mica_conn_error(s) == MICA_OK) {
            pass(c, s);
        }
        expect_plain_alert(name, s, alert, buf, &n, false);
        (void)feed(c, buf, n);
        expect(name, s, c, "server", err, alert, false);
    }
    mica_conn_free(c);
    mica_conn_free(s);
}

static void ccs_cases(void)
{
    static const uint8_t one = 1, two = 2, one_one[2] = {1, 1};
    mica_config *quiet_c = client_config(), *quiet_s = server_config("ecdsa-p256");
    struct edit e;
    struct run r;

    /* without compatibility mode neither side sends a CCS of its own */
    mica_config_set_middlebox_compat(quiet_c, 0);
    mica_config_set_middlebox_compat(quiet_s, 0);
    /* before the first ClientHello: RFC 8446 5 allows a CCS only "after the first
     * ClientHello message has been sent or received"; the server decides once the hello
     * arrives (a stateless retry's second hello may follow a CCS), and then says
     * unexpected_message */
    ccs_before_hello("CCS before the ClientHello", 1, MICA_E_UNEXPECTED_MESSAGE,
                     MICA_ALERT_UNEXPECTED_MESSAGE);
    ccs_before_hello("two CCS before the ClientHello", 2, MICA_E_UNEXPECTED_MESSAGE,
                     MICA_ALERT_UNEXPECTED_MESSAGE);
    /* after the handshake, both directions */
    post_case("CCS to the client after the handshake", false, MICA_CT_CHANGE_CIPHER_SPEC,
              MITM_PLAIN, &one, 1, MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    post_case("CCS to the server after the handshake", true, MICA_CT_CHANGE_CIPHER_SPEC, MITM_PLAIN,
              &one, 1, MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* bodies other than the single byte 01, where a CCS may come */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.op = op_insert_before;
    e.type = MICA_CT_CHANGE_CIPHER_SPEC;
    e.epoch = MITM_PLAIN;
    e.msg[0] = two;
    e.len = 1;
    edit_case("CCS with body 02 in the handshake", quiet_c, quiet_s, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    memcpy(e.msg, one_one, 2);
    e.len = 2;
    edit_case("CCS with body 01 01 in the handshake", quiet_c, quiet_s, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.len = 0;
    edit_case("CCS with an empty body in the handshake", quiet_c, quiet_s, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* a CCS inside protection: RFC 8446 5 "MUST abort ... unexpected_message" */
    e.done = false;
    e.epoch = MITM_CUR;
    e.msg[0] = one;
    e.len = 1;
    edit_case("CCS sealed under the handshake keys", quiet_c, quiet_s, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* the allowed dummy CCS: dropped, in both directions, with compatibility mode off */
    {
        struct edit both = {0};
        both.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
        both.op = op_insert_before;
        both.type = MICA_CT_CHANGE_CIPHER_SPEC;
        both.epoch = MITM_PLAIN;
        both.msg[0] = one;
        both.len = 1;
        if (run_start(&r, quiet_c, quiet_s, "localhost", &both)) {
            (void)pair_move(&r.p);
            expect_connected("a dummy CCS between ServerHello and EE is dropped", &r.p, false);
            run_end(&r);
        }
        both.done = false;
        both.to_server = true;
        both.anchor = MICA_HS_FINISHED;
        if (run_start(&r, quiet_c, quiet_s, "localhost", &both)) {
            (void)pair_move(&r.p);
            expect_connected("a dummy CCS before the client Finished is dropped", &r.p, false);
            run_end(&r);
        }
        /* RFC 8446 5: a CCS of 01 "at any time after the first ClientHello ... and before
         * the peer's Finished ... MUST simply drop it" -- a second one too */
        both.done = false;
        both.to_server = false;
        both.anchor = MICA_HS_CERTIFICATE;
        if (run_start(&r, g_ccfg, g_scfg, "localhost", &both)) {
            (void)pair_move(&r.p);
            expect_connected("a second dummy CCS (server compat mode sent one)", &r.p, true);
            run_end(&r);
        }
    }
    mica_config_free(quiet_c);
    mica_config_free(quiet_s);
}

/* ---- 5. records (RFC 8446 5, 6) ---------------------------------------------------- */

/* garbage_case: bytes to a fresh server (or to a client that has sent its hello) */
static void garbage_case(const char *name, bool to_server, const uint8_t *in, size_t len,
                         mica_err err, mica_alert alert, bool bug)
{
    static uint8_t buf[8192];
    mica_conn *c = NULL;
    size_t n;

    if (to_server) {
        CHECK_OK(mica_conn_new_server(g_scfg, &c));
    } else {
        CHECK_OK(mica_conn_new_client(g_ccfg, "localhost", &c));
    }
    if (c == NULL) {
        return;
    }
    (void)take(c, buf, sizeof(buf));
    (void)feed(c, in, len);
    if (alert != MICA_ALERT_NONE && err != MICA_E_PEER_ALERT) {
        expect_plain_alert(name, c, alert, buf, &n, bug);
    } else {
        n = take(c, buf, sizeof(buf));
        CHECK_MSG(n == 0, "%s: nothing may be sent back, got %zu bytes", name, n);
    }
    expect(name, c, NULL, to_server ? "server" : "client", err, alert, bug);
    mica_conn_free(c);
}

static void garbage_cases(void)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static const char http_reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    /* an SSL 2.0 CLIENT-HELLO offering SSL 3.0 (RFC 6101 E.2, RFC 5246 E.2) */
    static const uint8_t sslv2[] = {0x80, 0x2e, 0x01, 0x03, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00,
                                    0x10, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x00, 0x00, 0x0a,
                                    0x07, 0x00, 0xc0, 0x00, 0x00, 0x05, 0x00, 0x00, 0x04, 0x01,
                                    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                                    0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13};
    static const uint8_t heartbeat[] = {24, 3, 3, 0, 3, 1, 0, 0};
    static const uint8_t hs_too_long[] = {22, 3, 1, 0x40, 0x01};
    static const uint8_t ad_too_long[] = {23, 3, 3, 0x41, 0x01};
    static const uint8_t hs_empty[] = {22, 3, 1, 0, 0};
    static const uint8_t alert_empty[] = {21, 3, 3, 0, 0};
    static const uint8_t alert_three[] = {21, 3, 3, 0, 3, 2, 40, 0};
    static const uint8_t alerts_two[] = {21, 3, 3, 0, 4, 2, 40, 2, 40};
    static const uint8_t hs_huge[] = {22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff};
    static const uint8_t app_early[] = {23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t ch_garbage[] = {22, 3, 1, 0, 9, 1, 0, 0, 5, 3, 3, 0xde, 0xad, 0xbe};
    uint8_t rnd[512];
    uint32_t x = 0x9e3779b9u;

    for (size_t i = 0; i < sizeof(rnd); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        rnd[i] = (uint8_t)x;
    }
    if (rnd[0] >= 20 && rnd[0] <= 24) {
        rnd[0] ^= 0x80;
    }
    /* RFC 8446 5: "If a TLS implementation receives an unexpected record type, it MUST
     * terminate the connection with an unexpected_message alert." An unknown type is
     * the first byte of each of these. */
    garbage_case("garbage: an HTTP request", true, (const uint8_t *)http, sizeof(http) - 1,
                 MICA_E_CONTENT_TYPE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    garbage_case("garbage: an SSL 2.0 CLIENT-HELLO", true, sslv2, sizeof(sslv2),
                 MICA_E_CONTENT_TYPE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    garbage_case("garbage: 512 random bytes", true, rnd, sizeof(rnd), MICA_E_CONTENT_TYPE,
                 MICA_ALERT_UNEXPECTED_MESSAGE, false);
    garbage_case("garbage: a heartbeat record (type 24)", true, heartbeat, sizeof(heartbeat),
                 MICA_E_CONTENT_TYPE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    garbage_case("garbage: an HTTP reply to the client", false, (const uint8_t *)http_reply,
                 sizeof(http_reply) - 1, MICA_E_CONTENT_TYPE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* 5.1: TLSPlaintext.length "MUST NOT exceed 2^14"; 5.2 / 6.2: record_overflow */
    garbage_case("record: plaintext handshake record of 2^14+1", true, hs_too_long,
                 sizeof(hs_too_long), MICA_E_RECORD_OVERFLOW, MICA_ALERT_RECORD_OVERFLOW, false);
    garbage_case("record: application_data of 2^14+257 in plaintext", true, ad_too_long,
                 sizeof(ad_too_long), MICA_E_RECORD_OVERFLOW, MICA_ALERT_RECORD_OVERFLOW, false);
    /* 5.1: "Implementations MUST NOT send zero-length fragments of Handshake types";
     * 5.4: zero-length handshake or alert content is unexpected_message */
    garbage_case("record: empty handshake record", true, hs_empty, sizeof(hs_empty),
                 MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    garbage_case("record: empty alert record", true, alert_empty, sizeof(alert_empty),
                 MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* 5.1: alerts are never fragmented nor coalesced */
    garbage_case("record: alert of three bytes", true, alert_three, sizeof(alert_three),
                 MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false);
    garbage_case("record: two alerts in one record", true, alerts_two, sizeof(alerts_two),
                 MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false);
    /* the engine's limit on one message (default 64 KiB) applies to the header alone */
    garbage_case("record: ClientHello header claiming 2^24-1 bytes", true, hs_huge, sizeof(hs_huge),
                 MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    garbage_case("record: ClientHello of garbage", true, ch_garbage, sizeof(ch_garbage),
                 MICA_E_DECODE, MICA_ALERT_DECODE_ERROR, false);
    garbage_case("record: application data before the ClientHello", true, app_early,
                 sizeof(app_early), MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE,
                 false);
}

static void flip_last(void *ctx, bool to_server, uint8_t *buf, size_t *len)
{
    int *armed = ctx;

    if (!to_server && *armed && *len > 0) {
        buf[*len - 1] ^= 0x80; /* the tag of the server's Finished record */
        *armed = 0;
    }
}

static void protected_record_cases(void)
{
    static const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
    struct edit e;
    struct pair p;
    int armed = 1;

    /* application data before the handshake completes: RFC 8446 5 / 2 unexpected_message */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_SERVER_HELLO;
    e.op = op_replace_rest;
    e.type = MICA_CT_APPLICATION_DATA;
    e.epoch = MITM_PLAIN;
    memcpy(e.msg, hello, sizeof(hello));
    e.len = sizeof(hello);
    edit_case("C_WAIT_SH: application data in the clear", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.op = op_insert_before;
    e.epoch = MITM_CUR;
    e.done = false;
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    edit_case("C_WAIT_EE: application data under handshake keys", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.anchor = MICA_HS_FINISHED;
    edit_case("C_WAIT_FINISHED: application data under handshake keys", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.to_server = true;
    edit_case("S_WAIT_FINISHED: application data under handshake keys", g_ccfg, g_scfg, &e, true,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* an unknown inner content type: 5.2/5 unexpected_message */
    e.done = false;
    e.to_server = false;
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.type = 24;
    edit_case("C_WAIT_EE: protected record of inner type 24", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* RFC 8446 5.4: "If a receiving implementation does not find a non-zero octet in the
     * cleartext, it MUST terminate the connection with an unexpected_message alert." */
    e.done = false;
    e.type = TYPE_NONE;
    e.len = 0;
    edit_case("C_WAIT_EE: protected record of zeros only (no type)", g_ccfg, g_scfg, &e, false,
              MICA_E_EMPTY_INNER, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* a record that does not authenticate: 5.2 bad_record_mac */
    CHECK_OK(pair_new(&p, g_ccfg, g_scfg, "localhost"));
    p.tamper = flip_last;
    p.tamper_ctx = &armed;
    (void)pair_move(&p);
    expect_pair("server Finished record with its tag flipped", &p, false, MICA_E_BAD_RECORD_MAC,
                MICA_ALERT_BAD_RECORD_MAC, false);
    pair_free(&p);
}

/* data after close_notify: RFC 8446 6.1 "MUST be ignored" */
static void after_close_notify(void)
{
    static const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'}, fatal[] = {2, 40};
    static const uint8_t junk_msg[] = {99, 0, 0, 1, 0};
    struct edit none = {0};
    struct run r;
    uint8_t buf[16];
    size_t n = 99, w = 0;

    if (!run_start(&r, g_ccfg, g_scfg, "localhost", &none)) {
        return;
    }
    CHECK_OK(pair_handshake(&r.p));
    CHECK_OK(mica_conn_close(r.p.client));
    CHECK_OK(pair_move(&r.p));
    CHECK(mica_conn_peer_closed(r.p.server));
    CHECK_OK(
        mitm_inject(r.m, &r.p, true, MICA_CT_APPLICATION_DATA, MITM_CUR, hello, sizeof(hello)));
    CHECK_OK(mitm_inject(r.m, &r.p, true, HS, MITM_CUR, junk_msg, sizeof(junk_msg)));
    CHECK_OK(mitm_inject(r.m, &r.p, true, MICA_CT_ALERT, MITM_CUR, fatal, sizeof(fatal)));
    CHECK_OK(mica_conn_read(r.p.server, buf, sizeof(buf), &n));
    CHECK_MSG(n == 0, "after close_notify: %zu bytes of data read, want end of stream", n);
    CHECK_OK(mica_conn_error(r.p.server));
    /* the server's half is still open */
    CHECK_OK(mica_conn_write(r.p.server, hello, sizeof(hello), &w));
    CHECK_OK(pair_move(&r.p));
    CHECK_OK(mica_conn_read(r.p.client, buf, sizeof(buf), &n));
    CHECK(n == sizeof(hello));
    if (verbose) {
        printf("%-58s | ignored | server %s, read %zu\n",
               "data, a message and a fatal alert after close_notify",
               mica_err_name(mica_conn_error(r.p.server)), n);
    }
    run_end(&r);
}

/* a handshake message over mica_config_set_max_handshake_size: the engine answers
 * illegal_parameter (RFC 8446 sets no alert for a local limit; OpenSSL's choice too) */
static void fix_padding(struct hello *h)
{
    static uint8_t zeros[1100];

    ext_add(h, h->n_ext, MICA_EXT_PADDING, zeros, sizeof(zeros));
}

static void size_limit_cases(void)
{
    static const uint8_t header_only[] = {22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00};
    mica_config *small_s = server_config("ecdsa-p256"), *small_c = client_config();
    mica_config *rsa = server_config("rsa2048");
    mica_conn *s = NULL;
    struct pair p;
    uint8_t buf[64];
    size_t n;

    CHECK_ERR(mica_config_set_max_handshake_size(small_s, 1023), MICA_E_ARGUMENT);
    CHECK_OK(mica_config_set_max_handshake_size(small_s, 1024));
    CHECK_OK(mica_config_set_max_handshake_size(small_c, 1024));
    ch_case("limit: ClientHello of 1.4 KB to a server taking 1 KB", small_s, fix_padding,
            MICA_E_ILLEGAL_PARAMETER, MICA_ALERT_ILLEGAL_PARAMETER, false);
    /* refused on its header, before the body arrives */
    CHECK_OK(mica_conn_new_server(small_s, &s));
    if (s != NULL) {
        (void)feed(s, header_only, sizeof(header_only));
        expect_plain_alert("limit: a header claiming 64 KiB", s, MICA_ALERT_ILLEGAL_PARAMETER, buf,
                           &n, false);
        expect("limit: a header claiming 64 KiB", s, NULL, "server", MICA_E_ILLEGAL_PARAMETER,
               MICA_ALERT_ILLEGAL_PARAMETER, false);
        mica_conn_free(s);
    }
    CHECK_OK(pair_new(&p, small_c, rsa, "localhost"));
    (void)pair_move(&p);
    expect_pair("limit: an RSA chain to a client taking 1 KB", &p, false, MICA_E_ILLEGAL_PARAMETER,
                MICA_ALERT_ILLEGAL_PARAMETER, false);
    pair_free(&p);
    mica_config_free(small_s);
    mica_config_free(small_c);
    mica_config_free(rsa);
}

/* RFC 8446 5.1: "Handshake messages MUST NOT span key changes ... If an implementation
 * detects a violation of these rules, it MUST terminate the connection with an
 * unexpected_message alert." */
static void straddle_cases(void)
{
    static const uint8_t nst[] = {4, 0, 0, 14, 0, 0, 0, 60, 0, 0, 0, 1, 0, 0, 1, 0xaa, 0, 0};
    static const uint8_t ku[] = {24, 0, 0, 1, 0};
    static const uint8_t ku_ku[] = {24, 0, 0, 1, 0, 24, 0, 0, 1, 0};
    struct edit e;

    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_SERVER_HELLO;
    e.op = op_coalesce;
    edit_case("ServerHello and EE in one plaintext record", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_FINISHED;
    e.op = op_append;
    memcpy(e.msg, nst, sizeof(nst));
    e.len = sizeof(nst);
    edit_case("server Finished and a NewSessionTicket in one record", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.to_server = true;
    memcpy(e.msg, ku, sizeof(ku));
    e.len = sizeof(ku);
    edit_case("client Finished and a KeyUpdate in one record", g_ccfg, g_scfg, &e, true,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    post_case("two KeyUpdates in one record", true, HS, MITM_CUR, ku_ku, sizeof(ku_ku),
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
}

/* RFC 8446 5.1: "Handshake messages MUST NOT be interleaved with other record types" */
static void interleave_cases(void)
{
    static const uint8_t fatal[] = {2, 40}, one = 1, hello[] = {'h', 'i'};
    static const uint8_t ku[] = {24, 0, 0, 1, 0};
    static uint8_t buf[16384], out[16384];
    mica_conn *c = NULL, *s = NULL;
    struct edit e;
    struct run r;
    size_t n, len, k;

    /* plaintext: a ClientHello in two records with an alert between */
    CHECK_OK(mica_conn_new_client(g_ccfg, "localhost", &c));
    CHECK_OK(mica_conn_new_server(g_scfg, &s));
    if (c != NULL && s != NULL) {
        n = take(c, buf, sizeof(buf));
        len = n - 5;
        k = record(HS, 0x0301, buf + 5, 40, out);
        k += record(MICA_CT_ALERT, 0x0303, fatal, sizeof(fatal), out + k);
        k += record(HS, 0x0301, buf + 5 + 40, len - 40, out + k);
        (void)feed(s, out, k);
        expect_plain_alert("alert inside a fragmented ClientHello", s,
                           MICA_ALERT_UNEXPECTED_MESSAGE, buf, &n, false);
        (void)feed(c, buf, n);
        expect("alert inside a fragmented ClientHello", s, c, "server", MICA_E_UNEXPECTED_MESSAGE,
               MICA_ALERT_UNEXPECTED_MESSAGE, false);
    }
    mica_conn_free(c);
    mica_conn_free(s);
    /* protected: the Certificate in two records with an alert, a CCS, data between */
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_CERTIFICATE;
    e.op = op_split;
    e.arg = 10;
    e.type = MICA_CT_ALERT;
    e.epoch = MITM_CUR;
    memcpy(e.msg, fatal, sizeof(fatal));
    e.len = sizeof(fatal);
    edit_case("alert inside a fragmented Certificate", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.type = MICA_CT_CHANGE_CIPHER_SPEC;
    e.epoch = MITM_PLAIN;
    e.msg[0] = one;
    e.len = 1;
    edit_case("CCS inside a fragmented Certificate", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    e.done = false;
    e.type = MICA_CT_APPLICATION_DATA;
    e.epoch = MITM_CUR;
    memcpy(e.msg, hello, sizeof(hello));
    e.len = sizeof(hello);
    edit_case("application data inside a fragmented Certificate", g_ccfg, g_scfg, &e, false,
              MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
    /* after the handshake: data inside a fragmented KeyUpdate */
    memset(&e, 0, sizeof(e));
    if (run_start(&r, g_ccfg, g_scfg, "localhost", &e)) {
        CHECK_OK(pair_handshake(&r.p));
        (void)mitm_inject(r.m, &r.p, false, HS, MITM_CUR, ku, 2);
        (void)mitm_inject(r.m, &r.p, false, MICA_CT_APPLICATION_DATA, MITM_CUR, hello,
                          sizeof(hello));
        (void)pair_move(&r.p);
        expect_pair("application data inside a fragmented KeyUpdate", &r.p, false,
                    MICA_E_UNEXPECTED_MESSAGE, MICA_ALERT_UNEXPECTED_MESSAGE, false);
        run_end(&r);
    }
}

/* a fatal alert from the peer: MICA_E_PEER_ALERT carrying it, and nothing sent back */
static void peer_alert_case(const char *name, mica_conn *c, mica_alert alert)
{
    uint8_t buf[256];
    size_t n = take(c, buf, sizeof(buf)), k = 0;

    CHECK_MSG(n == 0, "%s: %zu bytes sent back after a fatal alert, want none", name, n);
    expect(name, c, NULL, "receiver", MICA_E_PEER_ALERT, alert, false);
    CHECK_ERR(mica_conn_read(c, buf, sizeof(buf), &k), MICA_E_PEER_ALERT);
    CHECK_ERR(mica_conn_write(c, buf, 1, &k), MICA_E_PEER_ALERT);
}

static void peer_alert_cases(void)
{
    static const uint8_t hf[] = {2, 40}, warn_hf[] = {1, 40}, odd[] = {2, 200}, ie[] = {2, 80};
    mica_conn *s = NULL;
    struct edit e;
    struct run r;
    uint8_t buf[16];
    size_t n;

    CHECK_OK(mica_conn_new_server(g_scfg, &s));
    if (s != NULL) {
        n = record(MICA_CT_ALERT, 0x0303, hf, sizeof(hf), buf);
        (void)feed(s, buf, n);
        peer_alert_case("fatal handshake_failure to S_START", s, MICA_ALERT_HANDSHAKE_FAILURE);
        mica_conn_free(s);
    }
    memset(&e, 0, sizeof(e));
    e.anchor = MICA_HS_ENCRYPTED_EXTENSIONS;
    e.op = op_replace_rest;
    e.type = MICA_CT_ALERT;
    e.epoch = MITM_CUR;
    memcpy(e.msg, hf, sizeof(hf));
    e.len = sizeof(hf);
    if (run_start(&r, g_ccfg, g_scfg, "localhost", &e)) {
        (void)pair_move(&r.p);
        peer_alert_case("fatal handshake_failure to C_WAIT_EE", r.p.client,
                        MICA_ALERT_HANDSHAKE_FAILURE);
        run_end(&r);
    }
    /* RFC 8446 6.2: error alerts are fatal "regardless of the AlertLevel" */
    e.done = false;
    memcpy(e.msg, warn_hf, sizeof(warn_hf));
    if (run_start(&r, g_ccfg, g_scfg, "localhost", &e)) {
        (void)pair_move(&r.p);
        peer_alert_case("warning-level handshake_failure to C_WAIT_EE", r.p.client,
                        MICA_ALERT_HANDSHAKE_FAILURE);
        run_end(&r);
    }
    e.done = false;
    memcpy(e.msg, odd, sizeof(odd));
    if (run_start(&r, g_ccfg, g_scfg, "localhost", &e)) {
        (void)pair_move(&r.p);
        peer_alert_case("unknown alert 200 to C_WAIT_EE", r.p.client, (mica_alert)200);
        run_end(&r);
    }
    memset(&e, 0, sizeof(e));
    if (run_start(&r, g_ccfg, g_scfg, "localhost", &e)) {
        CHECK_OK(pair_handshake(&r.p));
        (void)mitm_inject(r.m, &r.p, true, MICA_CT_ALERT, MITM_CUR, ie, sizeof(ie));
        peer_alert_case("internal_error to a connected server", r.p.server,
                        MICA_ALERT_INTERNAL_ERROR);
        run_end(&r);
    }
}

/* ---- 6. every allocation of a full connection fails in turn (STYLE.md 2.6) -------- */

/* one connection: handshake, data both ways, a KeyUpdate, close_notify both ways */
static mica_err full_run(const mica_config *ccfg, const mica_config *scfg, struct pair *p)
{
    mica_err err = pair_new(p, ccfg, scfg, "localhost");

    if (err != MICA_OK) {
        return err;
    }
    err = pair_handshake(p);
    if (err == MICA_OK && !pair_transfer(p, true, 3000)) {
        err = MICA_E_INTERNAL;
    }
    if (err == MICA_OK && !pair_transfer(p, false, 20000)) {
        err = MICA_E_INTERNAL;
    }
    if (err == MICA_OK) {
        err = mica_conn_key_update(p->client, 1);
    }
    if (err == MICA_OK && !pair_transfer(p, true, 100)) {
        err = MICA_E_INTERNAL;
    }
    if (err == MICA_OK) {
        err = mica_conn_close(p->client);
    }
    if (err == MICA_OK) {
        err = mica_conn_close(p->server);
    }
    if (err == MICA_OK) {
        err = pair_move(p);
    }
    return err;
}

/*
 * Each allocation of full_run fails in turn (the configs exist before the hook). Every run
 * must end cleanly: the side that ran out says MICA_E_NOMEM and sends internal_error, the
 * other reads it (MICA_E_PEER_ALERT), and mica_mem_live() is back at its baseline once
 * both connections are freed. One degraded outcome is accepted and counted: when the
 * allocation that fails is the AEAD of a key change whose announcing message is already
 * queued (ServerHello, either Finished, a KeyUpdate), the alert goes out under the old
 * keys, which the peer no longer reads, and the peer ends with bad_record_mac or
 * unexpected_message instead -- still a failure the alert caused.
 */
struct alloc_tally {
    int at_creation, client, server, unreadable;
};

/* judge one run in which allocation i of total failed */
static void judge_alloc_run(const char *label, size_t i, size_t total, const struct pair *p,
                            mica_err err, struct alloc_tally *t)
{
    mica_err ec, es, oe;
    mica_conn *other;

    if (p->client == NULL || p->server == NULL) {
        /* pair_new failed: it must say so (and has freed what it made) */
        CHECK_MSG(err == MICA_E_NOMEM, "%s: allocation %zu: creating a connection gave %s", label,
                  i, mica_err_name(err));
        t->at_creation++;
        return;
    }
    ec = mica_conn_error(p->client);
    es = mica_conn_error(p->server);
    if (i > total) {
        CHECK_MSG(err == MICA_OK, "%s: no allocation failed, yet the run gave %s", label,
                  mica_err_name(err));
        return;
    }
    CHECK_MSG(ec == MICA_E_NOMEM || es == MICA_E_NOMEM,
              "regression: %s: allocation %zu of %zu failed, yet neither side says nomem: "
              "client %s/%s (%s), server %s/%s (%s)",
              label, i, total, mica_err_name(ec), mica_alert_name(mica_conn_error_alert(p->client)),
              sentence(p->client), mica_err_name(es),
              mica_alert_name(mica_conn_error_alert(p->server)), sentence(p->server));
    if (ec != MICA_E_NOMEM && es != MICA_E_NOMEM) {
        return;
    }
    t->client += ec == MICA_E_NOMEM;
    t->server += ec != MICA_E_NOMEM;
    other = ec == MICA_E_NOMEM ? p->server : p->client;
    oe = mica_conn_error(other);
    if (oe == MICA_E_BAD_RECORD_MAC || oe == MICA_E_UNEXPECTED_MESSAGE) {
        t->unreadable++;
        if (verbose) {
            printf("alloc %s %zu: the %s's alert was unreadable: %s (%s)\n", label, i,
                   ec == MICA_E_NOMEM ? "client" : "server", mica_err_name(oe), sentence(other));
        }
        return;
    }
    CHECK_MSG(oe == MICA_OK || (oe == MICA_E_PEER_ALERT &&
                                mica_conn_error_alert(other) == MICA_ALERT_INTERNAL_ERROR),
              "%s: allocation %zu: the other side ended with %s/%s (%s)", label, i,
              mica_err_name(oe), mica_alert_name(mica_conn_error_alert(other)), sentence(other));
}

static void alloc_failures_with(const char *label, const mica_config *ccfg, const mica_config *scfg)
{
    struct mica_mem_hooks hooks = {0};
    struct alloc_tally t = {0};
    size_t base, total;
    struct pair p;

    /* one run first: the configs keep what their first verification makes (the peer
     * certificates parsed, src/x509/cert.c), which is no leak of a connection's */
    CHECK_OK(full_run(ccfg, scfg, &p));
    pair_free(&p);
    base = mica_mem_live();
    mica_mem_set_hooks(&hooks);
    CHECK_OK(full_run(ccfg, scfg, &p));
    total = mica_mem_alloc_count();
    pair_free(&p);
    CHECK_MSG(mica_mem_live() == base, "%s: a clean run leaks %zu buffers", label,
              mica_mem_live() - base);
    for (size_t i = 1; i <= total + 1; i++) {
        mica_err err;
        hooks.fail_at = i;
        mica_mem_set_hooks(&hooks);
        memset(&p, 0, sizeof(p));
        err = full_run(ccfg, scfg, &p);
        if (verbose && p.client != NULL && p.server != NULL) {
            printf("alloc %s %zu: run %s | client %s/%s (%s) | server %s/%s (%s)\n", label, i,
                   mica_err_name(err), mica_err_name(mica_conn_error(p.client)),
                   mica_alert_name(mica_conn_error_alert(p.client)), sentence(p.client),
                   mica_err_name(mica_conn_error(p.server)),
                   mica_alert_name(mica_conn_error_alert(p.server)), sentence(p.server));
        }
        judge_alloc_run(label, i, total, &p, err, &t);
        pair_free(&p);
        CHECK_MSG(mica_mem_live() == base, "%s: allocation %zu failed: %zu buffers leak", label, i,
                  mica_mem_live() - base);
    }
    mica_mem_set_hooks(NULL);
    printf("alloc_failures %s: %zu allocations, each failed in turn (at creation %d, client "
           "%d, server %d; alert unreadable by the peer %d)\n",
           label, total, t.at_creation, t.client, t.server, t.unreadable);
}

static void alloc_failures(void)
{
    mica_config *scfg = server_config("ed25519"), *ccfg = client_config();
    mica_config *hrr = server_config("ed25519");

    CHECK_OK(mica_config_set_groups(hrr, "secp384r1"));
    alloc_failures_with("plain", ccfg, scfg);
    alloc_failures_with("hrr", ccfg, hrr);
    mica_config_free(scfg);
    mica_config_free(ccfg);
    mica_config_free(hrr);
}

int main(void)
{
    harness_all_groups = true; /* its cases are built on the default key shares */
    verbose = getenv("HOSTILE_VERBOSE") != NULL;
    g_scfg = server_config("ecdsa-p256");
    g_ccfg = client_config();
    CHECK(g_scfg != NULL && g_ccfg != NULL);
    if (g_scfg == NULL || g_ccfg == NULL) {
        return check_exit("test_hostile");
    }
    unexpected_matrix();
    truncated_expected();
    client_hello_cases();
    server_hello_cases();
    encrypted_extensions_cases();
    authentication_cases();
    certificate_request_cases();
    reorder_cases();
    ccs_cases();
    garbage_cases();
    protected_record_cases();
    after_close_notify();
    size_limit_cases();
    straddle_cases();
    interleave_cases();
    peer_alert_cases();
    /* the reassembly path: the same record-level cases with every record fed byte by byte */
    g_chunk = 1;
    reorder_cases();
    straddle_cases();
    interleave_cases();
    g_chunk = 0;
    alloc_failures();
    mica_config_free(g_scfg);
    mica_config_free(g_ccfg);
    return check_exit("test_hostile");
}
