/*
 * The message layer (src/tls/msg/, src/tls/ext/, contract in src/tls/msg.h).
 *
 * 1. RFC 8448: every handshake message printed in sections 3-7 is decoded and its fields
 *    are checked against the values the RFC prints elsewhere (key shares against the
 *    key pairs, the PSK identity against the ticket, the binder and its offset against
 *    the "calculate PSK binder" step, the HelloRetryRequest's cookie against the second
 *    ClientHello's).
 * 2. The extension table against RFC 8446 4.2, written out again here from the RFC text,
 *    and every known extension placed in every message.
 * 3. A hostile matrix, with messages built by mica_wr: every truncation, trailing bytes,
 *    duplicates, unknown and GREASE extensions, every vector one past its bounds, and
 *    the values the decoders reject on their own.
 *
 * Not the decoders' job, and so checked here only as "decodes": pre_shared_key not last
 * in a ClientHello (the server's handler checks last_ext, RFC 8446 4.2.11), compression
 * other than null, an unknown or absent version, an empty certificate_list. Duplicates
 * of unknown extension types are not detected (the seen mask covers known types only);
 * in a server's message an unknown type is rejected by mica_ext_check_offered anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "base/wr.h"
#include "check.h"
#include "tls/msg.h"
#include "vec.h"

#define BUF_CAP 80000u

static uint8_t buf[BUF_CAP];  /* messages built by the tests */
static uint8_t buf2[BUF_CAP]; /* a second one (a header added, a byte appended) */

/* ---- helpers ----------------------------------------------------------------------- */

struct bytes {
    const uint8_t *p;
    size_t n;
};

/* msg_vec: the nth handshake message `name` that `side` constructs in RFC 8448 section
 * `sec` (the whole message, header included) */
static struct bytes msg_vec(int sec, const char *side, const char *name, int nth)
{
    char step[96];
    struct bytes b;

    snprintf(step, sizeof(step), "construct %s %s handshake message", name[0] == 'E' ? "an" : "a",
             name);
    b.p = vec_rfc8448(sec, side, step, name, nth, &b.n);
    return b;
}

static struct bytes field_vec(int sec, const char *side, const char *step, const char *field,
                              int nth)
{
    struct bytes b;

    b.p = vec_rfc8448(sec, side, step, field, nth, &b.n);
    return b;
}

/* body: the message without its header, after checking the header says `type` and the
 * right length */
static struct bytes body(struct bytes m, uint8_t type)
{
    struct mica_hs_header h;
    struct bytes b = {m.p + 4, m.n >= 4 ? m.n - 4 : 0};

    CHECK_OK(mica_msg_header(m.p, m.n, &h));
    CHECK(h.type == type);
    CHECK(h.len == m.n - 4);
    return b;
}

static bool rd_eq(mica_rd r, const uint8_t *p, size_t n)
{
    return r.n == n && (n == 0 || memcmp(r.p, p, n) == 0);
}

static bool rd_eq_str(mica_rd r, const char *s)
{
    return rd_eq(r, (const uint8_t *)s, strlen(s));
}

static bool u16_list_eq(mica_rd r, const uint16_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v;

        if (mica_rd_u16(&r, &v) != MICA_OK || v != want[i]) {
            return false;
        }
    }
    return r.n == 0;
}

static size_t count_key_shares(mica_rd l)
{
    size_t n = 0;
    struct mica_key_share_entry e;

    while (l.n > 0 && mica_ext_next_key_share(&l, &e) == MICA_OK) {
        n++;
    }
    return n;
}

#define BIT(t) mica_ext_bit(MICA_EXT_##t)

/* ---- 1. RFC 8448 ------------------------------------------------------------------- */

static const uint16_t suites[] = {0x1301, 0x1303, 0x1302};
static const uint16_t groups_all[] = {0x001d, 0x0017, 0x0018, 0x0019, 0x0100,
                                      0x0101, 0x0102, 0x0103, 0x0104};
static const uint16_t sig_algs[] = {0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401,
                                    0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202};
static const uint16_t tls13[] = {0x0304};

/* the fields every RFC 8448 ClientHello shares */
static void check_ch_common(const struct mica_client_hello *ch)
{
    CHECK(ch->legacy_version == 0x0303);
    CHECK(u16_list_eq(ch->cipher_suites, suites, MICA_ARRAY_LEN(suites)));
    CHECK(rd_eq(ch->compression, (const uint8_t *)"", 1));
    CHECK(ch->has_extensions);
    CHECK(rd_eq_str(ch->server_name, "server"));
    CHECK(u16_list_eq(ch->sig_algs, sig_algs, MICA_ARRAY_LEN(sig_algs)));
    CHECK(u16_list_eq(ch->versions, tls13, 1));
    CHECK(ch->psk_modes == 2); /* psk_dhe_ke only */
    CHECK(ch->record_size_limit == 0x4001);
    CHECK(!ch->status_request && !ch->post_handshake_auth);
}

#define CH_BASE                                                                                    \
    (BIT(SERVER_NAME) | BIT(SUPPORTED_GROUPS) | BIT(KEY_SHARE) | BIT(SUPPORTED_VERSIONS) |         \
     BIT(SIGNATURE_ALGORITHMS) | BIT(PSK_KEY_EXCHANGE_MODES) | BIT(RECORD_SIZE_LIMIT))

static void check_ch_x25519(const struct mica_client_hello *ch, int sec)
{
    struct bytes pub =
        field_vec(sec, "client", "create an ephemeral x25519 key pair", "public key", 0);
    mica_rd l = ch->key_shares;
    struct mica_key_share_entry e;

    CHECK(count_key_shares(l) == 1);
    CHECK_OK(mica_ext_next_key_share(&l, &e));
    CHECK(e.group == 0x001d);
    CHECK(rd_eq(e.key, pub.p, pub.n));
}

static void check_sh(const struct mica_server_hello *sh, int sec, uint16_t group, const char *kp)
{
    struct bytes pub = field_vec(sec, "server", kp, "public key", 0);

    CHECK(sh->legacy_version == 0x0303);
    CHECK(!sh->is_hrr);
    CHECK(sh->cipher_suite == 0x1301);
    CHECK(sh->compression == 0);
    CHECK(sh->version == 0x0304);
    CHECK(sh->share.group == group);
    CHECK(rd_eq(sh->share.key, pub.p, pub.n));
}

static void check_ee(struct bytes m, const uint16_t *groups, size_t groups_n, bool early)
{
    struct mica_encrypted_extensions ee;
    struct bytes b = body(m, MICA_HS_ENCRYPTED_EXTENSIONS);
    uint64_t want = BIT(SUPPORTED_GROUPS) | BIT(RECORD_SIZE_LIMIT) | BIT(SERVER_NAME);

    CHECK_OK(mica_msg_decode_encrypted_extensions(b.p, b.n, &ee));
    CHECK(ee.present == (want | (early ? BIT(EARLY_DATA) : 0)));
    CHECK(u16_list_eq(ee.groups, groups, groups_n));
    CHECK(ee.record_size_limit == 0x4001);
    CHECK(ee.server_name_ack);
    CHECK(ee.early_data == early);
    CHECK(ee.alpn_selected.n == 0);
}

static void check_cert(struct bytes m, size_t cert_len)
{
    struct mica_certificate c;
    struct mica_cert_entry e;
    struct bytes b = body(m, MICA_HS_CERTIFICATE);
    mica_rd l;

    CHECK_OK(mica_msg_decode_certificate(b.p, b.n, &c));
    CHECK(c.context.n == 0);
    CHECK(c.entries_n == 1);
    l = c.entries;
    CHECK_OK(mica_msg_next_cert_entry(&l, &e));
    CHECK(l.n == 0);
    CHECK(e.cert_data.n == cert_len);
    CHECK(e.cert_data.n > 2 && e.cert_data.p[0] == 0x30 && e.cert_data.p[1] == 0x82); /* DER */
    CHECK(e.present == 0 && e.ocsp_response.n == 0);
}

static void check_cv(struct bytes m, uint16_t scheme, size_t sig_len)
{
    struct mica_certificate_verify cv;
    struct bytes b = body(m, MICA_HS_CERTIFICATE_VERIFY);

    CHECK_OK(mica_msg_decode_certificate_verify(b.p, b.n, &cv));
    CHECK(cv.scheme == scheme);
    CHECK(cv.signature.n == sig_len);
    CHECK(cv.signature.p == b.p + 4);
}

/* RFC 8448 section 3: a simple 1-RTT handshake */
static void test_rfc8448_s3(void)
{
    struct mica_client_hello ch;
    struct mica_server_hello sh;
    struct mica_new_session_ticket nst;
    struct bytes m = msg_vec(3, "client", "ClientHello", 0);
    struct bytes b;
    static const uint8_t nonce[] = {0, 0};

    CHECK(body(m, MICA_HS_CLIENT_HELLO).n == m.n - 4);
    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    check_ch_x25519(&ch, 3);
    CHECK(ch.random == m.p + 6 && ch.session_id.n == 0);
    /* plus session_ticket(35) and renegotiation_info(0xff01), unknown to mica: ignored */
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) == CH_BASE);
    CHECK(u16_list_eq(ch.groups, groups_all, MICA_ARRAY_LEN(groups_all)));
    CHECK(!ch.early_data && ch.cookie.n == 0);
    CHECK(ch.last_ext == MICA_EXT_RECORD_SIZE_LIMIT);

    b = body(msg_vec(3, "server", "ServerHello", 0), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &sh));
    check_sh(&sh, 3, 0x001d, "create an ephemeral x25519 key pair");
    CHECK(sh.present == (BIT(KEY_SHARE) | BIT(SUPPORTED_VERSIONS)));
    CHECK(sh.session_id_echo.n == 0 && !sh.psk_selected && sh.cookie.n == 0);

    check_ee(msg_vec(3, "server", "EncryptedExtensions", 0), groups_all, MICA_ARRAY_LEN(groups_all),
             false);
    check_cert(msg_vec(3, "server", "Certificate", 0), 432);
    check_cv(msg_vec(3, "server", "CertificateVerify", 0), 0x0804, 128); /* rsa_pss_rsae_sha256 */

    b = body(msg_vec(3, "server", "NewSessionTicket", 0), MICA_HS_NEW_SESSION_TICKET);
    CHECK_OK(mica_msg_decode_new_session_ticket(b.p, b.n, &nst));
    CHECK(nst.lifetime == 30);
    CHECK(nst.age_add == 0xfad6aac5u);
    CHECK(rd_eq(nst.nonce, nonce, sizeof(nonce)));
    CHECK(nst.ticket.n == 178);
    CHECK(nst.present == BIT(EARLY_DATA));
    CHECK(nst.max_early_data == 1024);

    /* Finished: the header only (the body is verify_data, hash-length) */
    CHECK(body(msg_vec(3, "server", "Finished", 0), MICA_HS_FINISHED).n == 32);
    CHECK(body(msg_vec(3, "client", "Finished", 0), MICA_HS_FINISHED).n == 32);
}

/* RFC 8448 section 4: resumed 0-RTT handshake: the PSK offer and its binder */
static void test_rfc8448_s4(void)
{
    struct mica_client_hello ch;
    struct mica_server_hello sh;
    struct mica_new_session_ticket nst;
    /* "construct a ClientHello" prints the message up to the binders (the part the
     * binder covers); the whole message is the payload of the first record sent */
    struct bytes m = field_vec(4, "client", "send handshake record", "payload", 0);
    struct bytes prefix = field_vec(4, "client", "calculate PSK binder", "ClientHello prefix", 0);
    struct bytes binder = field_vec(4, "client", "calculate PSK binder", "finished", 0);
    struct bytes nst_msg = msg_vec(3, "server", "NewSessionTicket", 0);
    struct bytes b = body(nst_msg, MICA_HS_NEW_SESSION_TICKET);
    mica_rd l, id, bind;
    uint32_t age;

    CHECK_OK(mica_msg_decode_new_session_ticket(b.p, b.n, &nst));
    CHECK(body(m, MICA_HS_CLIENT_HELLO).n == 508);
    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    check_ch_x25519(&ch, 4);
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) ==
          (CH_BASE | BIT(EARLY_DATA) | BIT(PADDING) | BIT(PRE_SHARED_KEY)));
    CHECK(ch.early_data);
    CHECK(ch.last_ext == MICA_EXT_PRE_SHARED_KEY);

    /* the identity is section 3's ticket; one binder, the one the RFC computes */
    CHECK(ch.psk.identities_n == 1 && ch.psk.binders_n == 1);
    l = ch.psk.identities;
    CHECK_OK(mica_ext_next_psk_identity(&l, &id, &age));
    CHECK(l.n == 0);
    CHECK(rd_eq(id, nst.ticket.p, nst.ticket.n));
    CHECK(age == 0xfad6aacbu);
    l = ch.psk.binders;
    CHECK_OK(mica_ext_next_psk_binder(&l, &bind));
    CHECK(l.n == 0);
    CHECK(rd_eq(bind, binder.p, binder.n));

    /* RFC 8446 4.2.11.2: the binder covers msg[0..binders_offset) */
    CHECK(ch.psk.binders_offset == prefix.n);
    CHECK(ch.psk.binders_offset == 477);
    CHECK(memcmp(m.p, prefix.p, prefix.n) == 0);
    CHECK(ch.psk.binders.p == m.p + ch.psk.binders_offset + 2);
    /* the printed prefix itself stops inside the extension: it does not decode */
    CHECK_ERR(mica_msg_decode_client_hello(msg_vec(4, "client", "ClientHello", 0).p,
                                           msg_vec(4, "client", "ClientHello", 0).n, &ch),
              MICA_E_DECODE);

    b = body(msg_vec(4, "server", "ServerHello", 0), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &sh));
    check_sh(&sh, 4, 0x001d, "create an ephemeral x25519 key pair");
    CHECK(sh.present == (BIT(PRE_SHARED_KEY) | BIT(KEY_SHARE) | BIT(SUPPORTED_VERSIONS)));
    CHECK(sh.psk_selected && sh.psk_identity == 0);

    check_ee(msg_vec(4, "server", "EncryptedExtensions", 0), groups_all, MICA_ARRAY_LEN(groups_all),
             true);
    CHECK(body(msg_vec(4, "client", "EndOfEarlyData", 0), MICA_HS_END_OF_EARLY_DATA).n == 0);
}

/* RFC 8448 section 5: HelloRetryRequest (x25519 offered, secp256r1 chosen) */
static void test_rfc8448_s5(void)
{
    static const uint16_t groups5[] = {0x001d, 0x0017, 0x0018};
    static const uint16_t ee_groups5[] = {0x0017, 0x0018, 0x001d};
    struct mica_client_hello ch;
    struct mica_server_hello hrr, sh;
    struct bytes m = msg_vec(5, "client", "ClientHello", 0);
    struct bytes b;
    struct bytes p256 =
        field_vec(5, "client", "create an ephemeral P-256 key pair", "public key", 0);
    struct mica_key_share_entry e;
    mica_rd l;

    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    check_ch_x25519(&ch, 5);
    CHECK(u16_list_eq(ch.groups, groups5, MICA_ARRAY_LEN(groups5)));
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) == CH_BASE);

    b = body(msg_vec(5, "server", "ServerHello", 0), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &hrr));
    CHECK(hrr.is_hrr);
    CHECK(hrr.cipher_suite == 0x1301);
    CHECK(hrr.version == 0x0304);
    CHECK(hrr.share.group == 0x0017); /* selected_group secp256r1 */
    CHECK(hrr.share.key.n == 0);
    CHECK(hrr.cookie.n == 114); /* RFC 8448 5: the HRR carries a cookie */
    CHECK(hrr.present == (BIT(KEY_SHARE) | BIT(COOKIE) | BIT(SUPPORTED_VERSIONS)));

    m = msg_vec(5, "client", "ClientHello", 1);
    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) == (CH_BASE | BIT(COOKIE) | BIT(PADDING)));
    CHECK(rd_eq(ch.cookie, hrr.cookie.p, hrr.cookie.n)); /* the cookie echoed */
    l = ch.key_shares;
    CHECK(count_key_shares(l) == 1);
    CHECK_OK(mica_ext_next_key_share(&l, &e));
    CHECK(e.group == 0x0017);
    CHECK(rd_eq(e.key, p256.p, p256.n));
    CHECK(e.key.n == 65);

    b = body(msg_vec(5, "server", "ServerHello", 1), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &sh));
    check_sh(&sh, 5, 0x0017, "create an ephemeral P-256 key pair");
    CHECK(sh.share.key.n == 65);

    check_ee(msg_vec(5, "server", "EncryptedExtensions", 0), ee_groups5, MICA_ARRAY_LEN(ee_groups5),
             false);
    check_cert(msg_vec(5, "server", "Certificate", 0), 432);
    check_cv(msg_vec(5, "server", "CertificateVerify", 0), 0x0804, 128);
}

/* RFC 8448 section 6: client authentication */
static void test_rfc8448_s6(void)
{
    struct mica_client_hello ch;
    struct mica_server_hello sh;
    struct mica_certificate_request cr;
    struct bytes m = msg_vec(6, "client", "ClientHello", 0);
    struct bytes b;

    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    check_ch_x25519(&ch, 6);
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) == CH_BASE);
    b = body(msg_vec(6, "server", "ServerHello", 0), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &sh));
    check_sh(&sh, 6, 0x001d, "create an ephemeral x25519 key pair");
    check_ee(msg_vec(6, "server", "EncryptedExtensions", 0), groups_all, MICA_ARRAY_LEN(groups_all),
             false);

    b = body(msg_vec(6, "server", "CertificateRequest", 0), MICA_HS_CERTIFICATE_REQUEST);
    CHECK_OK(mica_msg_decode_certificate_request(b.p, b.n, &cr));
    CHECK(cr.context.n == 0);
    CHECK(cr.present == BIT(SIGNATURE_ALGORITHMS));
    CHECK(u16_list_eq(cr.sig_algs, sig_algs, MICA_ARRAY_LEN(sig_algs)));
    CHECK(cr.sig_algs_cert.n == 0 && !cr.status_request);

    check_cert(msg_vec(6, "server", "Certificate", 0), 306);
    check_cv(msg_vec(6, "server", "CertificateVerify", 0), 0x0403, 71); /* ecdsa_secp256r1 */
    check_cert(msg_vec(6, "client", "Certificate", 0), 438);
    check_cv(msg_vec(6, "client", "CertificateVerify", 0), 0x0804, 128);
}

/* RFC 8448 section 7: compatibility mode (a 32-byte legacy_session_id, echoed) */
static void test_rfc8448_s7(void)
{
    struct mica_client_hello ch;
    struct mica_server_hello sh;
    struct bytes m = msg_vec(7, "client", "ClientHello", 0);
    struct bytes b;

    CHECK_OK(mica_msg_decode_client_hello(m.p, m.n, &ch));
    check_ch_common(&ch);
    check_ch_x25519(&ch, 7);
    CHECK(ch.session_id.n == 32);
    b = body(msg_vec(7, "server", "ServerHello", 0), MICA_HS_SERVER_HELLO);
    CHECK_OK(mica_msg_decode_server_hello(b.p, b.n, &sh));
    check_sh(&sh, 7, 0x001d, "create an ephemeral x25519 key pair");
    CHECK(rd_eq(sh.session_id_echo, ch.session_id.p, ch.session_id.n));
    check_ee(msg_vec(7, "server", "EncryptedExtensions", 0), groups_all, MICA_ARRAY_LEN(groups_all),
             false);
    check_cert(msg_vec(7, "server", "Certificate", 0), 432);
    check_cv(msg_vec(7, "server", "CertificateVerify", 0), 0x0804, 128);
}

/* ---- decoding any message by type -------------------------------------------------- */

/* decode: run the decoder of handshake type `type` over body[0..len) (for a ClientHello
 * a correct header is put in front first) */
static mica_err decode(uint8_t type, const uint8_t *b, size_t len)
{
    static struct mica_client_hello ch;
    static struct mica_server_hello sh;
    static struct mica_encrypted_extensions ee;
    static struct mica_certificate_request cr;
    static struct mica_certificate ct;
    static struct mica_certificate_verify cv;
    static struct mica_new_session_ticket nst;
    mica_wr w;
    size_t mark, n;
    bool request;

    switch (type) {
    case MICA_HS_CLIENT_HELLO:
        w = mica_wr_init(buf2, sizeof(buf2));
        mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &mark);
        mica_wr_bytes(&w, b, len);
        mica_msg_close(&w, mark);
        if (mica_wr_finish(&w, &n) != MICA_OK) {
            return MICA_E_INTERNAL;
        }
        return mica_msg_decode_client_hello(buf2, n, &ch);
    case MICA_HS_SERVER_HELLO: return mica_msg_decode_server_hello(b, len, &sh);
    case MICA_HS_ENCRYPTED_EXTENSIONS: return mica_msg_decode_encrypted_extensions(b, len, &ee);
    case MICA_HS_CERTIFICATE_REQUEST: return mica_msg_decode_certificate_request(b, len, &cr);
    case MICA_HS_CERTIFICATE: return mica_msg_decode_certificate(b, len, &ct);
    case MICA_HS_CERTIFICATE_VERIFY: return mica_msg_decode_certificate_verify(b, len, &cv);
    case MICA_HS_NEW_SESSION_TICKET: return mica_msg_decode_new_session_ticket(b, len, &nst);
    case MICA_HS_KEY_UPDATE: return mica_msg_decode_key_update(b, len, &request);
    default: return MICA_E_INTERNAL;
    }
}

/* every message RFC 8448 prints that mica decodes: whole messages, header included */
static size_t rfc_messages(struct bytes *out, size_t cap)
{
    static const char *const names[] = {"ClientHello",        "ServerHello", "EncryptedExtensions",
                                        "CertificateRequest", "Certificate", "CertificateVerify",
                                        "NewSessionTicket"};
    size_t n = 0;

    for (size_t i = 0; i < vec_rfc8448_rows(); i++) {
        int sec;
        const char *side, *step, *field;
        const uint8_t *val;
        size_t len;

        vec_rfc8448_row(i, &sec, &side, &step, &field, &val, &len);
        for (size_t k = 0; k < MICA_ARRAY_LEN(names); k++) {
            bool construct = strncmp(step, "construct", 9) == 0 && strcmp(field, names[k]) == 0;
            /* section 4's ClientHello is printed whole only as a record's payload */
            bool ch4 = sec == 4 && strcmp(side, "client") == 0 &&
                       strcmp(step, "send handshake record") == 0 &&
                       strcmp(field, "payload") == 0 && val[0] == MICA_HS_CLIENT_HELLO;

            if ((construct && !(sec == 4 && k == 0)) || (ch4 && k == 0)) {
                if (n < cap) {
                    out[n].p = val;
                    out[n].n = len;
                    n++;
                }
            }
        }
    }
    return n;
}

/* Every truncation of every RFC 8448 message is DECODE, except where the shorter
 * message is itself well formed: a ClientHello or ServerHello cut right after the
 * compression field (no extensions: a TLS 1.2-style hello). One byte more is DECODE. */
static void test_truncations_and_trailing(void)
{
    struct bytes msgs[64];
    size_t n = rfc_messages(msgs, MICA_ARRAY_LEN(msgs));
    size_t ok_cuts = 0, hellos = 0;

    CHECK_MSG(n == 29, "%zu RFC 8448 messages", n);
    for (size_t i = 0; i < n; i++) {
        uint8_t type = msgs[i].p[0];
        const uint8_t *b = msgs[i].p + 4;
        size_t len = msgs[i].n - 4;

        CHECK_MSG(decode(type, b, len) == MICA_OK, "RFC message %zu (%s) does not decode", i,
                  mica_hs_type_name(type));
        for (size_t cut = 0; cut < len; cut++) {
            mica_err err = decode(type, b, cut);

            CHECK_MSG(err == MICA_E_DECODE || err == MICA_OK, "%s cut at %zu: %s",
                      mica_hs_type_name(type), cut, mica_err_name(err));
            if (err == MICA_OK) {
                ok_cuts++;
                CHECK(type == MICA_HS_CLIENT_HELLO || type == MICA_HS_SERVER_HELLO);
            }
        }
        hellos += type == MICA_HS_CLIENT_HELLO || type == MICA_HS_SERVER_HELLO;
        memcpy(buf, b, len);
        buf[len] = 0;
        CHECK_MSG(decode(type, buf, len + 1) == MICA_E_DECODE, "%s with a trailing byte",
                  mica_hs_type_name(type));
    }
    CHECK(ok_cuts == hellos); /* exactly one clean cut per hello */

    /* the ClientHello's own header: wrong type, wrong length */
    {
        struct bytes m = msg_vec(3, "client", "ClientHello", 0);
        struct mica_client_hello ch;

        memcpy(buf, m.p, m.n);
        buf[0] = MICA_HS_SERVER_HELLO;
        CHECK_ERR(mica_msg_decode_client_hello(buf, m.n, &ch), MICA_E_DECODE);
        buf[0] = MICA_HS_CLIENT_HELLO;
        buf[3] = (uint8_t)(buf[3] + 1);
        CHECK_ERR(mica_msg_decode_client_hello(buf, m.n, &ch), MICA_E_DECODE);
        for (size_t cut = 0; cut < m.n; cut++) {
            CHECK_ERR(mica_msg_decode_client_hello(m.p, cut, &ch), MICA_E_DECODE);
        }
    }
}

/* ---- building messages with mica_wr ------------------------------------------------ */

/* one extension: its type and its extension_data in hex */
struct x {
    uint16_t type;
    const char *hex;
};

static void wr_hex(mica_wr *w, const char *hex)
{
    uint8_t tmp[2048];
    size_t n = hex_decode(hex, tmp, sizeof(tmp));

    CHECK(n != (size_t)-1);
    if (n != (size_t)-1) {
        mica_wr_bytes(w, tmp, n);
    }
}

static void wr_exts(mica_wr *w, const struct x *xs, size_t n)
{
    size_t all, one;

    mica_wr_open16(w, &all);
    for (size_t i = 0; i < n; i++) {
        mica_wr_u16(w, xs[i].type);
        mica_wr_open16(w, &one);
        wr_hex(w, xs[i].hex);
        mica_wr_close(w, one);
    }
    mica_wr_close(w, all);
}

static size_t finish(const mica_wr *w)
{
    size_t n = 0;

    CHECK_OK(mica_wr_finish(w, &n));
    return n;
}

/* kinds of messages the matrix builds; each maps to one column of RFC 8446 4.2 */
enum kind { K_CH, K_SH, K_HRR, K_EE, K_CT, K_CR, K_NST, K__N };

static const unsigned kind_where[K__N] = {MICA_IN_CH, MICA_IN_SH, MICA_IN_HRR, MICA_IN_EE,
                                          MICA_IN_CT, MICA_IN_CR, MICA_IN_NST};
static const char *const kind_name[K__N] = {"CH", "SH", "HRR", "EE", "CT", "CR", "NST"};

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* with_first: out = first followed by xs[0..n); returns n + 1 */
static size_t with_first(struct x *out, size_t cap, uint16_t type, const char *hex,
                         const struct x *xs, size_t n)
{
    CHECK(n < cap);
    out[0].type = type;
    out[0].hex = hex;
    for (size_t i = 0; i < n && i + 1 < cap; i++) {
        out[i + 1] = xs[i];
    }
    return n + 1 < cap ? n + 1 : cap;
}

/* build: a message of kind k with extensions xs into buf; returns its length. A
 * ClientHello is whole (header included, as its decoder takes it); the rest are bodies.
 * A ClientHello gets an empty GREASE extension first (its block must hold 8 bytes or
 * more, RFC 8446 4.1.2); ServerHello and HelloRetryRequest get supported_versions first
 * (without it the table does not apply, see msg.h) unless xs has it. */
static size_t build(enum kind k, const struct x *xs, size_t n)
{
    mica_wr w = mica_wr_init(buf, sizeof(buf));
    size_t mark, m2;
    struct x first[16];
    bool has_sv = false;

    switch (k) {
    case K_CH:
        mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &mark);
        mica_wr_u16(&w, 0x0303);
        mica_wr_zeros(&w, 32);
        mica_wr_u8(&w, 0);  /* legacy_session_id */
        mica_wr_u16(&w, 2); /* cipher_suites */
        mica_wr_u16(&w, 0x1301);
        mica_wr_u8(&w, 1); /* legacy_compression_methods */
        mica_wr_u8(&w, 0);
        wr_exts(&w, first, with_first(first, MICA_ARRAY_LEN(first), 0x0a0a, "", xs, n));
        mica_msg_close(&w, mark);
        return finish(&w);
    case K_SH:
    case K_HRR:
        for (size_t i = 0; i < n; i++) {
            has_sv = has_sv || xs[i].type == MICA_EXT_SUPPORTED_VERSIONS;
        }
        mica_wr_u16(&w, 0x0303);
        if (k == K_HRR) {
            mica_wr_bytes(&w, hrr_random, sizeof(hrr_random));
        } else {
            mica_wr_zeros(&w, 32);
        }
        mica_wr_u8(&w, 0); /* legacy_session_id_echo */
        mica_wr_u16(&w, 0x1301);
        mica_wr_u8(&w, 0); /* legacy_compression_method */
        if (has_sv) {
            wr_exts(&w, xs, n);
        } else {
            wr_exts(&w, first,
                    with_first(first, MICA_ARRAY_LEN(first), MICA_EXT_SUPPORTED_VERSIONS, "0304",
                               xs, n));
        }
        return finish(&w);
    case K_EE: wr_exts(&w, xs, n); return finish(&w);
    case K_CT:
        mica_wr_u8(&w, 0);         /* certificate_request_context */
        mica_wr_open24(&w, &mark); /* certificate_list */
        mica_wr_open24(&w, &m2);
        mica_wr_bytes(&w, (const uint8_t *)"\x30\x03\x02\x01\x01", 5); /* cert_data */
        mica_wr_close(&w, m2);
        wr_exts(&w, xs, n);
        mica_wr_close(&w, mark);
        return finish(&w);
    case K_CR:
        mica_wr_u8(&w, 0); /* certificate_request_context */
        wr_exts(&w, xs, n);
        return finish(&w);
    case K_NST:
        mica_wr_u32(&w, 7200);
        mica_wr_u32(&w, 0x01020304);
        mica_wr_u8(&w, 1); /* ticket_nonce */
        mica_wr_u8(&w, 0);
        mica_wr_u16(&w, 1); /* ticket */
        mica_wr_u8(&w, 0x42);
        wr_exts(&w, xs, n);
        return finish(&w);
    default: CHECK(0); return 0;
    }
}

static mica_err decode_kind(enum kind k, size_t len)
{
    static struct mica_client_hello ch;
    static struct mica_server_hello sh;
    static struct mica_encrypted_extensions ee;
    static struct mica_certificate_request cr;
    static struct mica_certificate ct;
    static struct mica_new_session_ticket nst;
    struct mica_cert_entry e;
    mica_rd l;

    switch (k) {
    case K_CH: return mica_msg_decode_client_hello(buf, len, &ch);
    case K_SH:
    case K_HRR: {
        mica_err err = mica_msg_decode_server_hello(buf, len, &sh);

        CHECK(err != MICA_OK || sh.is_hrr == (k == K_HRR));
        return err;
    }
    case K_EE: return mica_msg_decode_encrypted_extensions(buf, len, &ee);
    case K_CT:
        TRY(mica_msg_decode_certificate(buf, len, &ct));
        l = ct.entries;
        TRY(mica_msg_next_cert_entry(&l, &e));
        CHECK(ct.entries_n == 1 && l.n == 0);
        return MICA_OK;
    case K_CR: return mica_msg_decode_certificate_request(buf, len, &cr);
    case K_NST: return mica_msg_decode_new_session_ticket(buf, len, &nst);
    default: return MICA_E_INTERNAL;
    }
}

static mica_err try_kind(enum kind k, const struct x *xs, size_t n)
{
    return decode_kind(k, build(k, xs, n));
}

#define TRY_KIND(k, ...)                                                                           \
    try_kind(k, (const struct x[]){__VA_ARGS__},                                                   \
             sizeof((const struct x[]){__VA_ARGS__}) / sizeof(struct x))

/* ---- 2. the extension table -------------------------------------------------------- */

/* RFC 8446 4.2's table, copied from the RFC text (and RFC 8449 5 for record_size_limit):
 * the test's own copy, so a slip in ext_table.c cannot agree with itself. */
static const struct {
    uint16_t type;
    const char *where;
} rfc_table[] = {
    {0, "CH EE"},      {1, "CH EE"},   {5, "CH CR CT"},   {10, "CH EE"},    {13, "CH CR"},
    {14, "CH EE"},     {15, "CH EE"},  {16, "CH EE"},     {18, "CH CR CT"}, {19, "CH EE"},
    {20, "CH EE"},     {21, "CH"},     {28, "CH EE"},     {41, "CH SH"},    {42, "CH EE NST"},
    {43, "CH SH HRR"}, {44, "CH HRR"}, {45, "CH"},        {47, "CH CR"},    {48, "CR"},
    {49, "CH"},        {50, "CH CR"},  {51, "CH SH HRR"},
};

static bool rfc_allows(size_t row, enum kind k)
{
    const char *w = rfc_table[row].where;
    const char *name = kind_name[k];
    size_t n = strlen(name);

    for (const char *p = w; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == w || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static void test_ext_table(void)
{
    uint64_t all = 0;

    for (size_t i = 0; i < MICA_ARRAY_LEN(rfc_table); i++) {
        const struct mica_ext_row *row = mica_ext_find(rfc_table[i].type);
        unsigned where = 0;

        CHECK_MSG(row != NULL, "extension %u not in the table", rfc_table[i].type);
        if (row == NULL) {
            continue;
        }
        for (int k = 0; k < K__N; k++) {
            where |= rfc_allows(i, (enum kind)k) ? kind_where[k] : 0;
        }
        CHECK_MSG(row->where == where, "%s: where %#x, RFC 8446 4.2 says %#x", row->name,
                  row->where, where);
        CHECK(row->type == rfc_table[i].type);
        CHECK(row->name != NULL && row->name[0] != '\0');
        CHECK(row->index < 64);
        CHECK(mica_ext_bit(row->type) == (uint64_t)1 << row->index);
        CHECK((all & mica_ext_bit(row->type)) == 0); /* distinct bits */
        all |= mica_ext_bit(row->type);
    }
    CHECK(strcmp(mica_ext_find(MICA_EXT_KEY_SHARE)->name, "key_share") == 0);
    /* unknown and GREASE (RFC 8701: 0x?a?a) types are not in the table */
    for (unsigned g = 0; g < 16; g++) {
        uint16_t grease = (uint16_t)(((g << 4 | 0xa) << 8) | (g << 4 | 0xa));

        CHECK(mica_ext_find(grease) == NULL);
        CHECK(mica_ext_bit(grease) == 0);
    }
    CHECK(mica_ext_find(0xffff) == NULL && mica_ext_find(35) == NULL);
}

/* mica_ext_check and every decoder: each known extension in each message. Not allowed
 * -> ILLEGAL_PARAMETER before its data is looked at; allowed -> never ILLEGAL_PARAMETER
 * for being there (its empty data may not parse: DECODE). */
static void test_placement_matrix(void)
{
    for (size_t i = 0; i < MICA_ARRAY_LEN(rfc_table); i++) {
        for (int k = 0; k < K__N; k++) {
            struct x one = {rfc_table[i].type, ""};
            mica_err err = try_kind((enum kind)k, &one, 1);
            uint64_t seen = 0;

            if (rfc_allows(i, (enum kind)k)) {
                CHECK_MSG(err != MICA_E_ILLEGAL_PARAMETER, "type %u in %s: %s", rfc_table[i].type,
                          kind_name[k], mica_err_name(err));
                CHECK_OK(mica_ext_check(rfc_table[i].type, kind_where[k], &seen));
                CHECK(seen == mica_ext_bit(rfc_table[i].type));
            } else {
                CHECK_MSG(err == MICA_E_ILLEGAL_PARAMETER, "type %u in %s: %s", rfc_table[i].type,
                          kind_name[k], mica_err_name(err));
                CHECK_ERR(mica_ext_check(rfc_table[i].type, kind_where[k], &seen),
                          MICA_E_ILLEGAL_PARAMETER);
                CHECK(seen == 0);
            }
        }
    }
    /* the brief's examples, by name */
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_KEY_SHARE, "001d0001aa"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_COOKIE, "0001aa"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_HRR, {MICA_EXT_PRE_SHARED_KEY, "0000"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_NST, {MICA_EXT_ALPN, "00030268 32"}), MICA_E_ILLEGAL_PARAMETER);
}

/* the same extension twice -> ILLEGAL_PARAMETER, in every message that has extensions */
static void test_duplicates(void)
{
    CHECK_ERR(TRY_KIND(K_CH, {MICA_EXT_SUPPORTED_GROUPS, "0002001d"},
                       {MICA_EXT_SUPPORTED_GROUPS, "0002001d"}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_CH,
                       {MICA_EXT_PRE_SHARED_KEY, "000b00050102030405 00000000 0021 20"
                                                 "0000000000000000000000000000000000000000"
                                                 "000000000000000000000000"},
                       {MICA_EXT_PRE_SHARED_KEY, ""}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_SUPPORTED_VERSIONS, "0304"},
                       {MICA_EXT_SUPPORTED_VERSIONS, "0304"}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_HRR, {MICA_EXT_COOKIE, "0001aa"}, {MICA_EXT_COOKIE, "0001aa"}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_ALPN, "0003026832"}, {MICA_EXT_ALPN, "0003026832"}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_CR, {MICA_EXT_SIGNATURE_ALGORITHMS, "00020403"},
                       {MICA_EXT_SIGNATURE_ALGORITHMS, "00020403"}),
              MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_CT, {MICA_EXT_SCT, "00"}, {MICA_EXT_SCT, "00"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_NST, {MICA_EXT_EARLY_DATA, "00000400"}, {MICA_EXT_EARLY_DATA, "00000400"}),
              MICA_E_ILLEGAL_PARAMETER);
    /* the rule is per extension block: one per CertificateEntry is fine */
    {
        struct mica_certificate c;
        struct mica_cert_entry e;
        mica_wr w = mica_wr_init(buf, sizeof(buf));
        size_t list, cert;
        mica_rd l;
        const struct x sct = {MICA_EXT_SCT, "00"};

        mica_wr_u8(&w, 0);
        mica_wr_open24(&w, &list);
        for (int i = 0; i < 2; i++) {
            mica_wr_open24(&w, &cert);
            mica_wr_u8(&w, 0x30);
            mica_wr_close(&w, cert);
            wr_exts(&w, &sct, 1);
        }
        mica_wr_close(&w, list);
        CHECK_OK(mica_msg_decode_certificate(buf, finish(&w), &c));
        CHECK(c.entries_n == 2);
        l = c.entries;
        CHECK_OK(mica_msg_next_cert_entry(&l, &e));
        CHECK(e.present == BIT(SCT));
        CHECK_OK(mica_msg_next_cert_entry(&l, &e));
        CHECK(e.present == BIT(SCT) && l.n == 0);
    }
}

/* unknown and GREASE extensions are skipped in every message (even twice: see the top) */
static void test_unknown_ignored(void)
{
    static const struct x unknown[] = {
        {0x0a0a, ""}, {0xfafa, "00"}, {0x1234, "deadbeef"}, {0x0023, ""}, {0x0a0a, "01"},
    };

    for (int k = 0; k < K__N; k++) {
        struct x xs[8];
        size_t n = 0;

        for (size_t i = 0; i < MICA_ARRAY_LEN(unknown); i++) {
            xs[n++] = unknown[i];
        }
        if (k == K_CR) {
            xs[n].type = MICA_EXT_SIGNATURE_ALGORITHMS;
            xs[n++].hex = "00020804";
        }
        CHECK_MSG(try_kind((enum kind)k, xs, n) == MICA_OK, "unknown extensions in %s",
                  kind_name[k]);
    }
    {
        struct mica_encrypted_extensions ee;
        size_t len = build(K_EE, unknown, MICA_ARRAY_LEN(unknown));

        CHECK_OK(mica_msg_decode_encrypted_extensions(buf, len, &ee));
        CHECK((ee.present & ~MICA_EXT_UNKNOWN_BIT) == 0);
    }
}

/* ---- 3. each message's own rules ---------------------------------------------------- */

static void test_client_hello(void)
{
    struct mica_client_hello ch;
    mica_wr w;
    size_t mark, len;
    mica_rd l, id, name;
    uint32_t age;

    /* a full offer */
    len = build(K_CH,
                (const struct x[]){
                    {MICA_EXT_SERVER_NAME, "000c 00 0009 6c6f63616c686f7374"},
                    {MICA_EXT_ALPN, "000c 02 6832 08 687474702f312e31"},
                    {MICA_EXT_STATUS_REQUEST, "01 0000 0000"},
                    {MICA_EXT_POST_HANDSHAKE_AUTH, ""},
                    {MICA_EXT_SIGNATURE_ALGORITHMS_CERT, "0004 0403 0804"},
                    {MICA_EXT_PSK_KEY_EXCHANGE_MODES, "03 00 01 07"},
                    {MICA_EXT_KEY_SHARE, "000e 001d 0002 aabb 0017 0004 04010203"},
                    {MICA_EXT_PRE_SHARED_KEY, "0016 0005 0102030405 00000007"
                                              "0005 aabbccddee 00000009"
                                              "0042"
                                              "20 1111111111111111111111111111111111111111"
                                              "111111111111111111111111"
                                              "20 2222222222222222222222222222222222222222"
                                              "222222222222222222222222"},
                },
                8);
    CHECK_OK(mica_msg_decode_client_hello(buf, len, &ch));
    CHECK(rd_eq_str(ch.server_name, "localhost"));
    l = ch.alpn;
    CHECK_OK(mica_ext_next_protocol_name(&l, &name));
    CHECK(rd_eq_str(name, "h2"));
    CHECK_OK(mica_ext_next_protocol_name(&l, &name));
    CHECK(rd_eq_str(name, "http/1.1") && l.n == 0);
    CHECK(ch.status_request && ch.post_handshake_auth);
    CHECK(ch.sig_algs_cert.n == 4);
    CHECK(ch.psk_modes == 3); /* psk_ke, psk_dhe_ke; mode 7 ignored */
    CHECK(count_key_shares(ch.key_shares) == 2);
    CHECK(ch.psk.identities_n == 2 && ch.psk.binders_n == 2);
    l = ch.psk.identities;
    CHECK_OK(mica_ext_next_psk_identity(&l, &id, &age));
    CHECK_OK(mica_ext_next_psk_identity(&l, &id, &age));
    CHECK(id.n == 5 && age == 9 && l.n == 0);
    /* the binders (with their 2-byte length) are the last 2 + 66 bytes */
    CHECK(ch.psk.binders_offset == len - 68);
    CHECK(ch.last_ext == MICA_EXT_PRE_SHARED_KEY);

    /* pre_shared_key not last: decodes; last_ext tells the handler (RFC 8446 4.2.11) */
    CHECK_OK(TRY_KIND(K_CH,
                      {MICA_EXT_PRE_SHARED_KEY, "0009 0003 010203 00000000 0021 20"
                                                "00000000000000000000000000000000"
                                                "00000000000000000000000000000000"},
                      {MICA_EXT_SUPPORTED_VERSIONS, "020304"}));
    CHECK_OK(mica_msg_decode_client_hello(
        buf, build(K_CH, (const struct x[]){{MICA_EXT_COOKIE, "0001aa"}, {0x0a0a, ""}}, 2), &ch));
    CHECK(ch.last_ext == 0x0a0a && (ch.present & ~MICA_EXT_UNKNOWN_BIT) == BIT(COOKIE) &&
          (ch.present & MICA_EXT_UNKNOWN_BIT) != 0);

    /* legacy_session_id<0..32>: 33 -> DECODE; 32 fine */
    for (size_t sid = 31; sid <= 33; sid++) {
        w = mica_wr_init(buf, sizeof(buf));
        mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &mark);
        mica_wr_u16(&w, 0x0303);
        mica_wr_zeros(&w, 32);
        mica_wr_u8(&w, (uint8_t)sid);
        mica_wr_zeros(&w, sid);
        mica_wr_bytes(&w, (const uint8_t *)"\x00\x02\x13\x01\x01\x00", 6);
        mica_msg_close(&w, mark);
        len = finish(&w);
        CHECK_ERR(mica_msg_decode_client_hello(buf, len, &ch), sid <= 32 ? MICA_OK : MICA_E_DECODE);
        CHECK(sid > 32 || (ch.session_id.n == sid && !ch.has_extensions && ch.present == 0));
    }

    /* cipher_suites<2..2^16-2> of u16; compression<1..2^8-1> */
    static const char *const bad_prefix[] = {
        "0000 01 00",                    /* no suites */
        "0003 130113 01 00",             /* odd */
        "0002 1301 00",                  /* no compression method */
        "0002 1301 02 0001 0000",        /* extensions block of 0 bytes (< 8) */
        "0002 1301 01 00 0004 0a0a0000", /* extensions block of 4 bytes (< 8) */
        "0002 1301 01 00 00",            /* one byte where the block's length goes */
    };
    for (size_t i = 0; i < MICA_ARRAY_LEN(bad_prefix); i++) {
        w = mica_wr_init(buf, sizeof(buf));
        mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &mark);
        mica_wr_u16(&w, 0x0303);
        mica_wr_zeros(&w, 32);
        mica_wr_u8(&w, 0);
        wr_hex(&w, bad_prefix[i]);
        mica_msg_close(&w, mark);
        CHECK_MSG(mica_msg_decode_client_hello(buf, finish(&w), &ch) == MICA_E_DECODE,
                  "bad prefix %zu", i);
    }
    /* compression other than null is the handler's illegal_parameter, not syntax */
    w = mica_wr_init(buf, sizeof(buf));
    mica_msg_open(&w, MICA_HS_CLIENT_HELLO, &mark);
    mica_wr_u16(&w, 0x0303);
    mica_wr_zeros(&w, 32);
    mica_wr_u8(&w, 0);
    wr_hex(&w, "0002 1301 02 0100");
    mica_msg_close(&w, mark);
    CHECK_OK(mica_msg_decode_client_hello(buf, finish(&w), &ch));
    CHECK(ch.compression.n == 2);

    /* extension bodies one step out of their bounds */
    static const struct x bad[] = {
        {MICA_EXT_SERVER_NAME, ""},                           /* no list */
        {MICA_EXT_SERVER_NAME, "0000"},                       /* list<1..> empty */
        {MICA_EXT_SERVER_NAME, "0003 00 0000"},               /* HostName<1..> empty */
        {MICA_EXT_SERVER_NAME, "0008 00 0001 61 00 0001 62"}, /* two host_names */
        {MICA_EXT_SERVER_NAME, "0004 00 0001 61 00"},         /* trailing after the list */
        {MICA_EXT_SUPPORTED_GROUPS, "0000"},                  /* <2..> */
        {MICA_EXT_SUPPORTED_GROUPS, "0003 001d00"},           /* odd */
        {MICA_EXT_SUPPORTED_GROUPS, "0002 001d 00"},          /* trailing */
        {MICA_EXT_SIGNATURE_ALGORITHMS, "0000"},
        {MICA_EXT_SIGNATURE_ALGORITHMS, "0001 04"},
        {MICA_EXT_SIGNATURE_ALGORITHMS_CERT, "0003 040308"},
        {MICA_EXT_SUPPORTED_VERSIONS, "00"}, /* versions<2..254> */
        {MICA_EXT_SUPPORTED_VERSIONS, "01 03"},
        {MICA_EXT_SUPPORTED_VERSIONS, "03 030403"},   /* odd */
        {MICA_EXT_SUPPORTED_VERSIONS, "0304"},        /* SH form in a CH */
        {MICA_EXT_KEY_SHARE, "0004 001d 0000"},       /* key_exchange<1..> empty */
        {MICA_EXT_KEY_SHARE, "0005 001d 0002 aa"},    /* entry longer than list */
        {MICA_EXT_KEY_SHARE, "0006 001d 0001 aa 00"}, /* half an entry */
        {MICA_EXT_KEY_SHARE, "001d"},                 /* HRR form in a CH */
        {MICA_EXT_COOKIE, "0000"},                    /* cookie<1..> */
        {MICA_EXT_COOKIE, "0001"},
        {MICA_EXT_PSK_KEY_EXCHANGE_MODES, "00"}, /* ke_modes<1..255> */
        {MICA_EXT_PSK_KEY_EXCHANGE_MODES, "02 01"},
        {MICA_EXT_ALPN, "0000"}, /* list<2..> */
        {MICA_EXT_ALPN, "0001 00"},
        {MICA_EXT_ALPN, "0002 0100"}, /* one 1-byte name: fine */
        {MICA_EXT_ALPN, "0003 02 6832 00"},
        {MICA_EXT_ALPN, "0004 02 6832 00"}, /* empty ProtocolName */
        {MICA_EXT_RECORD_SIZE_LIMIT, "40"},
        {MICA_EXT_RECORD_SIZE_LIMIT, "400100"},
        {MICA_EXT_STATUS_REQUEST, ""},
        {MICA_EXT_STATUS_REQUEST, "01 0002 0000 0000"}, /* ResponderID<1..> empty */
        {MICA_EXT_STATUS_REQUEST, "01 0000"},           /* no request_extensions */
        {MICA_EXT_EARLY_DATA, "00"},                    /* struct {} */
        {MICA_EXT_POST_HANDSHAKE_AUTH, "00"},
        {MICA_EXT_PRE_SHARED_KEY, ""},
        /* identities<7..>: 6 bytes */
        {MICA_EXT_PRE_SHARED_KEY,
         "0006 0000 00000000 0021 20"
         "0000000000000000000000000000000000000000000000000000000000000000"},
        /* identity<1..> empty */
        {MICA_EXT_PRE_SHARED_KEY,
         "0007 0000 00000000 00 0021 20"
         "0000000000000000000000000000000000000000000000000000000000000000"},
        /* a binder of 31 bytes (PskBinderEntry<32..255>) in a 33-byte list */
        {MICA_EXT_PRE_SHARED_KEY, "0007 0001 61 00000000 0021 1f"
                                  "00000000000000000000000000000000000000000000000000000000000000"
                                  "00"},
        /* binders<33..>: none */
        {MICA_EXT_PRE_SHARED_KEY, "0007 0001 61 00000000 0000"},
    };
    for (size_t i = 0; i < MICA_ARRAY_LEN(bad); i++) {
        mica_err err = try_kind(K_CH, &bad[i], 1);

        /* "0002 0100" is one name of one byte (0x00): that one is well formed */
        if (bad[i].type == MICA_EXT_ALPN && strcmp(bad[i].hex, "0002 0100") == 0) {
            CHECK_OK(err);
            continue;
        }
        CHECK_MSG(err == MICA_E_DECODE, "bad CH extension %zu (type %u): %s", i, bad[i].type,
                  mica_err_name(err));
    }

    /* values a decoder rejects on its own */
    CHECK_ERR(TRY_KIND(K_CH, {MICA_EXT_RECORD_SIZE_LIMIT, "003f"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_OK(TRY_KIND(K_CH, {MICA_EXT_RECORD_SIZE_LIMIT, "0040"}));
    /* RFC 8446 4.2.11: one binder per identity */
    CHECK_ERR(TRY_KIND(K_CH, {MICA_EXT_PRE_SHARED_KEY,
                              "000e 0001 61 00000000 0001 62 00000000 0021 20"
                              "0000000000000000000000000000000000000000000000000000000000000000"}),
              MICA_E_ILLEGAL_PARAMETER);

    /* what is ignored rather than rejected */
    CHECK_OK(mica_msg_decode_client_hello(
        buf, build(K_CH, (const struct x[]){{MICA_EXT_SERVER_NAME, "0005 07 0002 6162"}}, 1), &ch));
    CHECK((ch.present & ~MICA_EXT_UNKNOWN_BIT) == BIT(SERVER_NAME) &&
          ch.server_name.n == 0); /* no host_name */
    CHECK_OK(mica_msg_decode_client_hello(
        buf, build(K_CH, (const struct x[]){{MICA_EXT_STATUS_REQUEST, "02 abcdef"}}, 1), &ch));
    CHECK(!ch.status_request); /* an unknown status_type */
    CHECK_OK(mica_msg_decode_client_hello(
        buf, build(K_CH, (const struct x[]){{MICA_EXT_KEY_SHARE, "0000"}}, 1), &ch));
    CHECK(ch.key_shares.n == 0); /* client_shares<0..>: empty asks for an HRR */
    CHECK_OK(mica_msg_decode_client_hello(
        buf, build(K_CH, (const struct x[]){{MICA_EXT_PSK_KEY_EXCHANGE_MODES, "01 09"}}, 1), &ch));
    CHECK(ch.psk_modes == 0);

    /* host_name at its 255-byte bound, and one past it */
    {
        char hex[2 * 270 + 32];
        struct x sni = {MICA_EXT_SERVER_NAME, hex};

        for (size_t n = 255; n <= 256; n++) {
            size_t at = (size_t)snprintf(hex, sizeof(hex), "%04zx 00 %04zx", n + 3, n);

            for (size_t i = 0; i < n; i++) {
                at += (size_t)snprintf(hex + at, sizeof(hex) - at, "61");
            }
            CHECK_ERR(try_kind(K_CH, &sni, 1), n <= 255 ? MICA_OK : MICA_E_DECODE);
        }
    }
}

static void test_server_hello(void)
{
    struct mica_server_hello sh;
    mica_wr w;
    size_t len;

    /* ServerHello: one KeyShareEntry; HRR: selected_group only */
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_KEY_SHARE, "0017"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_KEY_SHARE, "001d 0000"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_KEY_SHARE, "001d 0001 aa bb"}), MICA_E_DECODE);
    CHECK_OK(TRY_KIND(K_SH, {MICA_EXT_KEY_SHARE, "001d 0001 aa"}));
    CHECK_ERR(TRY_KIND(K_HRR, {MICA_EXT_KEY_SHARE, "001d 0001 aa"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_HRR, {MICA_EXT_KEY_SHARE, "00"}), MICA_E_DECODE);
    CHECK_OK(TRY_KIND(K_HRR, {MICA_EXT_KEY_SHARE, "0018"}));
    CHECK_ERR(TRY_KIND(K_HRR, {MICA_EXT_COOKIE, "0000"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_SUPPORTED_VERSIONS, "020304"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_SUPPORTED_VERSIONS, "03"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_PRE_SHARED_KEY, "00"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_SH, {MICA_EXT_PRE_SHARED_KEY, "000000"}), MICA_E_DECODE);

    len = build(K_HRR,
                (const struct x[]){{MICA_EXT_COOKIE, "0003 616263"}, {MICA_EXT_KEY_SHARE, "0018"}},
                2);
    CHECK_OK(mica_msg_decode_server_hello(buf, len, &sh));
    CHECK(sh.is_hrr && sh.share.group == 0x0018 && rd_eq_str(sh.cookie, "abc"));
    CHECK(sh.version == 0x0304);
    /* one bit off the special random is an ordinary ServerHello, where cookie is illegal */
    buf[2 + 31] ^= 1;
    CHECK_ERR(mica_msg_decode_server_hello(buf, len, &sh), MICA_E_ILLEGAL_PARAMETER);

    len = build(K_SH,
                (const struct x[]){{MICA_EXT_PRE_SHARED_KEY, "0001"},
                                   {MICA_EXT_KEY_SHARE, "0017 0002 0401"}},
                2);
    CHECK_OK(mica_msg_decode_server_hello(buf, len, &sh));
    CHECK(!sh.is_hrr && sh.psk_selected && sh.psk_identity == 1);
    CHECK(sh.share.group == 0x0017 && sh.share.key.n == 2);

    /* legacy_session_id_echo<0..32> */
    for (size_t sid = 32; sid <= 33; sid++) {
        w = mica_wr_init(buf, sizeof(buf));
        mica_wr_u16(&w, 0x0303);
        mica_wr_zeros(&w, 32);
        mica_wr_u8(&w, (uint8_t)sid);
        mica_wr_zeros(&w, sid);
        wr_hex(&w, "1301 00 0006 002b 0002 0304");
        CHECK_ERR(mica_msg_decode_server_hello(buf, finish(&w), &sh),
                  sid <= 32 ? MICA_OK : MICA_E_DECODE);
    }

    /* extensions<6..2^16-1>: fewer than 6 bytes is DECODE; none at all is TLS 1.2 */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_u16(&w, 0x0303);
    mica_wr_zeros(&w, 32);
    wr_hex(&w, "00 1301 00 0004 ff010000");
    CHECK_ERR(mica_msg_decode_server_hello(buf, finish(&w), &sh), MICA_E_DECODE);

    /* A TLS 1.2 ServerHello (no supported_versions): the table is not applied, present
     * stays 0 and the handler answers protocol_version. Its framing is still checked. */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_u16(&w, 0x0303);
    mica_wr_zeros(&w, 32);
    wr_hex(&w, "00 c02f 00 0007 ff01 0001 00 0000"); /* the last extension has no length */
    len = finish(&w);
    CHECK_ERR(mica_msg_decode_server_hello(buf, len, &sh), MICA_E_DECODE); /* framing */
    w = mica_wr_init(buf, sizeof(buf));
    mica_wr_u16(&w, 0x0303);
    mica_wr_zeros(&w, 32);
    wr_hex(&w, "00 c02f 00 000d ff01 0001 00 0000 0000 0010 0000"); /* SNI, ALPN: not TLS 1.3 */
    CHECK_OK(mica_msg_decode_server_hello(buf, finish(&w), &sh));
    CHECK(sh.present == 0 && sh.version == 0 && sh.cipher_suite == 0xc02f);
}

static void test_encrypted_extensions(void)
{
    struct mica_encrypted_extensions ee;
    size_t len;

    len = build(K_EE,
                (const struct x[]){{MICA_EXT_ALPN, "0003 02 6832"},
                                   {MICA_EXT_EARLY_DATA, ""},
                                   {MICA_EXT_RECORD_SIZE_LIMIT, "0040"}},
                3);
    CHECK_OK(mica_msg_decode_encrypted_extensions(buf, len, &ee));
    CHECK(rd_eq_str(ee.alpn_selected, "h2"));
    CHECK(ee.early_data && ee.record_size_limit == 64 && !ee.server_name_ack);
    CHECK(ee.present == (BIT(ALPN) | BIT(EARLY_DATA) | BIT(RECORD_SIZE_LIMIT)));

    CHECK_OK(mica_msg_decode_encrypted_extensions((const uint8_t *)"\x00\x00", 2, &ee));
    CHECK((ee.present & ~MICA_EXT_UNKNOWN_BIT) == 0);
    CHECK_ERR(mica_msg_decode_encrypted_extensions((const uint8_t *)"\x00", 1, &ee), MICA_E_DECODE);

    /* RFC 7301 3.1: exactly one ProtocolName */
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_ALPN, "0006 02 6832 02 6833"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_ALPN, "0001 00"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_ALPN, "0000"}), MICA_E_DECODE);
    /* empty-extension rules: server_name and early_data carry nothing in EE */
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_SERVER_NAME, "00"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_SERVER_NAME, "0003 00 0000"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_EARLY_DATA, "00000400"}), MICA_E_DECODE);
    CHECK_OK(TRY_KIND(K_EE, {MICA_EXT_SERVER_NAME, ""}));
    /* RFC 8449 4: below 64 is illegal_parameter */
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_RECORD_SIZE_LIMIT, "003f"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_RECORD_SIZE_LIMIT, "0000"}), MICA_E_ILLEGAL_PARAMETER);
    CHECK_OK(TRY_KIND(K_EE, {MICA_EXT_RECORD_SIZE_LIMIT, "ffff"}));
    CHECK_ERR(TRY_KIND(K_EE, {MICA_EXT_SUPPORTED_GROUPS, "0003 001d 00"}), MICA_E_DECODE);
}

static void test_certificate_request(void)
{
    struct mica_certificate_request cr;
    size_t len;

    len = build(K_CR,
                (const struct x[]){{MICA_EXT_SIGNATURE_ALGORITHMS, "0004 0403 0804"},
                                   {MICA_EXT_SIGNATURE_ALGORITHMS_CERT, "0002 0403"},
                                   {MICA_EXT_STATUS_REQUEST, ""},
                                   {MICA_EXT_CERTIFICATE_AUTHORITIES, "0003 0001 41"},
                                   {MICA_EXT_OID_FILTERS, "0000"}},
                5);
    CHECK_OK(mica_msg_decode_certificate_request(buf, len, &cr));
    CHECK(cr.sig_algs.n == 4 && cr.sig_algs_cert.n == 2 && cr.status_request);
    /* RFC 8446 4.3.2: signature_algorithms "MUST be specified" */
    CHECK_ERR(TRY_KIND(K_CR, {MICA_EXT_SIGNATURE_ALGORITHMS_CERT, "0002 0403"}),
              MICA_E_MISSING_EXTENSION);
    CHECK_ERR(TRY_KIND(K_CR, {0x0a0a, ""}), MICA_E_MISSING_EXTENSION);
    CHECK_ERR(TRY_KIND(K_CR, {MICA_EXT_SIGNATURE_ALGORITHMS, "0000"}), MICA_E_DECODE);
    /* a CertificateStatusRequest is accepted in a CR too (some stacks send one) */
    CHECK_OK(TRY_KIND(K_CR, {MICA_EXT_SIGNATURE_ALGORITHMS, "0002 0403"},
                      {MICA_EXT_STATUS_REQUEST, "01 0000 0000"}));
    CHECK_ERR(TRY_KIND(K_CR, {MICA_EXT_SIGNATURE_ALGORITHMS, "0002 0403"},
                       {MICA_EXT_STATUS_REQUEST, "01 00"}),
              MICA_E_DECODE);
    /* extensions<2..2^16-1>: an empty block is DECODE; context<0..255> */
    CHECK_ERR(mica_msg_decode_certificate_request((const uint8_t *)"\x00\x00\x00", 3, &cr),
              MICA_E_DECODE);
    CHECK_ERR(mica_msg_decode_certificate_request((const uint8_t *)"\x05\x00", 2, &cr),
              MICA_E_DECODE);
}

static void test_certificate(void)
{
    struct mica_certificate c;
    struct mica_cert_entry e;
    size_t len;
    mica_rd l;

    len = build(
        K_CT,
        (const struct x[]){{MICA_EXT_STATUS_REQUEST, "01 000004 0a0b0c0d"}, {MICA_EXT_SCT, "0000"}},
        2);
    CHECK_OK(mica_msg_decode_certificate(buf, len, &c));
    l = c.entries;
    CHECK_OK(mica_msg_next_cert_entry(&l, &e));
    CHECK(e.cert_data.n == 5 && e.ocsp_response.n == 4);
    CHECK(e.present == (BIT(STATUS_REQUEST) | BIT(SCT)));

    /* CertificateStatus: ocsp(1) and OCSPResponse<1..2^24-1> */
    CHECK_ERR(TRY_KIND(K_CT, {MICA_EXT_STATUS_REQUEST, "02 000001 00"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_CT, {MICA_EXT_STATUS_REQUEST, "01 000000"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_CT, {MICA_EXT_STATUS_REQUEST, ""}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_CT, {MICA_EXT_STATUS_REQUEST, "01 000001 00 00"}), MICA_E_DECODE);

    /* empty certificate_list: decodes (the handler decides, RFC 8446 4.4.2.4) */
    CHECK_OK(mica_msg_decode_certificate((const uint8_t *)"\x00\x00\x00\x00", 4, &c));
    CHECK(c.entries_n == 0);
    /* cert_data<1..2^24-1>: empty -> DECODE */
    CHECK_ERR(
        mica_msg_decode_certificate((const uint8_t *)"\x00\x00\x00\x05\x00\x00\x00\x00\x00", 9, &c),
        MICA_E_DECODE);
    /* an entry without its extensions field */
    CHECK_ERR(
        mica_msg_decode_certificate((const uint8_t *)"\x00\x00\x00\x04\x00\x00\x01\x30", 8, &c),
        MICA_E_DECODE);
    /* a context of 2 bytes */
    CHECK_OK(mica_msg_decode_certificate((const uint8_t *)"\x02\xaa\xbb\x00\x00\x00", 6, &c));
    CHECK(c.context.n == 2);
}

static void test_small_messages(void)
{
    struct mica_certificate_verify cv;
    struct mica_new_session_ticket nst;
    bool request = true;
    uint8_t level = 0, desc = 0;
    uint8_t b[8] = {0};

    /* CertificateVerify: algorithm(2) signature<0..2^16-1> */
    CHECK_OK(mica_msg_decode_certificate_verify((const uint8_t *)"\x08\x07\x00\x00", 4, &cv));
    CHECK(cv.scheme == 0x0807 && cv.signature.n == 0);
    CHECK_ERR(mica_msg_decode_certificate_verify((const uint8_t *)"\x08\x07\x00\x01", 4, &cv),
              MICA_E_DECODE);
    CHECK_ERR(mica_msg_decode_certificate_verify((const uint8_t *)"\x08\x07\x00", 3, &cv),
              MICA_E_DECODE);

    /* KeyUpdate: exactly one byte, 0 or 1 (RFC 8446 4.6.3) */
    for (unsigned v = 0; v < 256; v++) {
        b[0] = (uint8_t)v;
        CHECK_ERR(mica_msg_decode_key_update(b, 1, &request),
                  v <= 1 ? MICA_OK : MICA_E_ILLEGAL_PARAMETER);
        CHECK(v > 1 || request == (v == 1));
    }
    CHECK_ERR(mica_msg_decode_key_update(b, 0, &request), MICA_E_DECODE);
    b[0] = 1;
    CHECK_ERR(mica_msg_decode_key_update(b, 2, &request), MICA_E_DECODE);
    b[0] = 9;
    CHECK_ERR(mica_msg_decode_key_update(b, 2, &request), MICA_E_DECODE); /* length first */

    /* Alert: exactly two bytes */
    b[0] = 2;
    b[1] = 50;
    CHECK_OK(mica_msg_decode_alert(b, 2, &level, &desc));
    CHECK(level == 2 && desc == 50);
    CHECK_ERR(mica_msg_decode_alert(b, 0, &level, &desc), MICA_E_DECODE);
    CHECK_ERR(mica_msg_decode_alert(b, 1, &level, &desc), MICA_E_DECODE);
    CHECK_ERR(mica_msg_decode_alert(b, 3, &level, &desc), MICA_E_DECODE);
    CHECK_ERR(mica_msg_decode_alert(b, 4, &level, &desc), MICA_E_DECODE);

    /* NewSessionTicket */
    CHECK_OK(TRY_KIND(K_NST, {MICA_EXT_EARLY_DATA, "ffffffff"}));
    CHECK_ERR(TRY_KIND(K_NST, {MICA_EXT_EARLY_DATA, ""}), MICA_E_DECODE); /* a u32 here */
    CHECK_ERR(TRY_KIND(K_NST, {MICA_EXT_EARLY_DATA, "000004"}), MICA_E_DECODE);
    CHECK_ERR(TRY_KIND(K_NST, {MICA_EXT_EARLY_DATA, "0000040000"}), MICA_E_DECODE);
    /* ticket<1..2^16-1>: empty -> DECODE */
    CHECK_ERR(
        mica_msg_decode_new_session_ticket((const uint8_t *)"\0\0\0\1\0\0\0\2\0\0\0\0\0", 13, &nst),
        MICA_E_DECODE);
    CHECK_OK(mica_msg_decode_new_session_ticket((const uint8_t *)"\0\0\0\1\0\0\0\2\0\0\1\x42\0\0",
                                                14, &nst));
    CHECK(nst.lifetime == 1 && nst.age_add == 2 && nst.nonce.n == 0 && nst.ticket.n == 1);
    /* extensions<0..2^16-2>: a block of 65535 bytes is one too many */
    {
        mica_wr w = mica_wr_init(buf, sizeof(buf));
        size_t mark, one;

        mica_wr_zeros(&w, 8);
        mica_wr_u8(&w, 0);
        mica_wr_u16(&w, 1);
        mica_wr_u8(&w, 0x42);
        mica_wr_open16(&w, &mark);
        mica_wr_u16(&w, 0x1234); /* one unknown extension of 65531 bytes */
        mica_wr_open16(&w, &one);
        mica_wr_zeros(&w, 65531);
        mica_wr_close(&w, one);
        mica_wr_close(&w, mark);
        CHECK_ERR(mica_msg_decode_new_session_ticket(buf, finish(&w), &nst), MICA_E_DECODE);

        w = mica_wr_init(buf, sizeof(buf));
        mica_wr_zeros(&w, 8);
        mica_wr_u8(&w, 0);
        mica_wr_u16(&w, 1);
        mica_wr_u8(&w, 0x42);
        mica_wr_open16(&w, &mark);
        mica_wr_u16(&w, 0x1234); /* 65534 bytes: the largest allowed */
        mica_wr_open16(&w, &one);
        mica_wr_zeros(&w, 65530);
        mica_wr_close(&w, one);
        mica_wr_close(&w, mark);
        CHECK_OK(mica_msg_decode_new_session_ticket(buf, finish(&w), &nst));
    }
}

/* mica_ext_check_offered: answers must answer an offer (RFC 8446 4.2) */
static void test_check_offered(void)
{
    uint64_t offered = BIT(SERVER_NAME) | BIT(KEY_SHARE) | BIT(SUPPORTED_VERSIONS) | BIT(ALPN);
    uint16_t which = 0;

    CHECK_OK(mica_ext_check_offered(offered, BIT(SERVER_NAME) | BIT(ALPN), MICA_IN_EE, &which));
    CHECK_OK(mica_ext_check_offered(offered, 0, MICA_IN_EE, &which));
    CHECK_ERR(mica_ext_check_offered(offered, BIT(ALPN) | BIT(EARLY_DATA), MICA_IN_EE, &which),
              MICA_E_UNSUPPORTED_EXTENSION);
    CHECK(which == MICA_EXT_EARLY_DATA);
    CHECK_ERR(
        mica_ext_check_offered(offered, BIT(PRE_SHARED_KEY) | BIT(KEY_SHARE), MICA_IN_SH, &which),
        MICA_E_UNSUPPORTED_EXTENSION);
    CHECK(which == MICA_EXT_PRE_SHARED_KEY);
    /* RFC 8446 4.1.4: the cookie is the one unsolicited answer in an HRR */
    CHECK_OK(mica_ext_check_offered(offered, BIT(COOKIE) | BIT(KEY_SHARE), MICA_IN_HRR, &which));
    CHECK_ERR(mica_ext_check_offered(offered, BIT(COOKIE), MICA_IN_SH, &which),
              MICA_E_UNSUPPORTED_EXTENSION);
    CHECK(which == MICA_EXT_COOKIE);
    CHECK_ERR(mica_ext_check_offered(0, BIT(STATUS_REQUEST), MICA_IN_CT, &which),
              MICA_E_UNSUPPORTED_EXTENSION);
    /* requests (CR) and unsolicited NST extensions answer nothing */
    CHECK_OK(mica_ext_check_offered(0, BIT(SIGNATURE_ALGORITHMS), MICA_IN_CR, &which));
    CHECK_OK(mica_ext_check_offered(0, BIT(EARLY_DATA), MICA_IN_NST, &which));
}

static void test_header_and_names(void)
{
    static const struct {
        uint8_t type;
        const char *name;
    } names[] = {
        {1, "ClientHello"},
        {2, "ServerHello"},
        {4, "NewSessionTicket"},
        {5, "EndOfEarlyData"},
        {8, "EncryptedExtensions"},
        {11, "Certificate"},
        {13, "CertificateRequest"},
        {15, "CertificateVerify"},
        {20, "Finished"},
        {24, "KeyUpdate"},
        {254, "message_hash"},
        {0, "unknown"},
        {3, "unknown"},
        {255, "unknown"},
    };
    static const uint8_t hdr[] = {0x0b, 0x01, 0x02, 0x03, 0xee};
    struct mica_hs_header h = {0, 0};
    mica_wr w;
    size_t mark, len;
    bool request = false;

    for (size_t i = 0; i < MICA_ARRAY_LEN(names); i++) {
        CHECK(strcmp(mica_hs_type_name(names[i].type), names[i].name) == 0);
    }
    for (size_t n = 0; n < 4; n++) {
        CHECK_ERR(mica_msg_header(hdr, n, &h), MICA_WANT_READ);
    }
    CHECK_OK(mica_msg_header(hdr, sizeof(hdr), &h));
    CHECK(h.type == 0x0b && h.len == 0x010203);

    /* the writer side: open/close fill in the 3-byte length */
    w = mica_wr_init(buf, sizeof(buf));
    mica_msg_open(&w, MICA_HS_KEY_UPDATE, &mark);
    mica_wr_u8(&w, 1);
    mica_msg_close(&w, mark);
    len = finish(&w);
    CHECK(len == 5 && memcmp(buf, "\x18\x00\x00\x01\x01", 5) == 0);
    CHECK_OK(mica_msg_header(buf, len, &h));
    CHECK(h.type == MICA_HS_KEY_UPDATE && h.len == 1);
    CHECK_OK(mica_msg_decode_key_update(buf + 4, h.len, &request));
    CHECK(request);
}

/* CertificateRequest: RFC 8448 section 6's message, decoded and encoded again, byte for
 * byte (the encoder the certificates issue's client authentication will use) */
static void test_encode_certificate_request(void)
{
    size_t len = 0, out_len = 0;
    const uint8_t *want =
        vec_rfc8448(6, "server", "construct a CertificateRequest handshake message",
                    "CertificateRequest", 0, &len);
    struct mica_certificate_request cr;
    uint16_t algs[64];
    size_t n = 0;
    uint8_t crbuf[256];
    mica_wr w = mica_wr_init(crbuf, sizeof(crbuf));
    mica_rd r;

    CHECK_OK(mica_msg_decode_certificate_request(want + 4, len - 4, &cr));
    r = cr.sig_algs;
    while (n < 64 && mica_rd_u16(&r, &algs[n]) == MICA_OK) {
        n++;
    }
    mica_msg_encode_certificate_request(&w, cr.context.p, cr.context.n, algs, n, NULL, 0);
    CHECK_OK(mica_wr_finish(&w, &out_len));
    CHECK(out_len == len);
    CHECK_MEM("CertificateRequest re-encoded", crbuf, want, len);
    /* a writer too small overflows and says so */
    w = mica_wr_init(crbuf, 20);
    mica_msg_encode_certificate_request(&w, NULL, 0, algs, n, NULL, 0);
    CHECK_ERR(mica_wr_finish(&w, &out_len), MICA_E_INTERNAL);
}

int main(void)
{
    test_encode_certificate_request();
    test_rfc8448_s3();
    test_rfc8448_s4();
    test_rfc8448_s5();
    test_rfc8448_s6();
    test_rfc8448_s7();
    test_truncations_and_trailing();
    test_ext_table();
    test_placement_matrix();
    test_duplicates();
    test_unknown_ignored();
    test_client_hello();
    test_server_hello();
    test_encrypted_extensions();
    test_certificate_request();
    test_certificate();
    test_small_messages();
    test_check_offered();
    test_header_and_names();
    return check_exit("test_msg");
}
