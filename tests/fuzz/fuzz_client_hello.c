/*
 * Fuzz target for mica_msg_decode_client_hello (src/tls/msg/client_hello.c).
 *
 * Input: a ClientHello body (the corpus holds RFC 8448's, without their 4-byte header).
 * The target gives the decoder a correct header in front of it, so mutations reach the
 * body rather than failing the length check, and then also the raw input as a whole
 * message, for the header checks (and mica_msg_header, whose oracle is exact).
 */
#include <string.h>

#include "fuzz_msg.h"

static void walk(const struct mica_client_hello *ch, const uint8_t *msg, size_t len)
{
    mica_rd l;
    size_t n;

    FUZZ_ASSERT(ch->random != NULL);
    fuzz_inside(mica_rd_init(ch->random, 32), msg, len);
    fuzz_inside(ch->session_id, msg, len);
    FUZZ_ASSERT(ch->session_id.n <= 32);
    FUZZ_ASSERT(fuzz_u16_list(ch->cipher_suites, msg, len) >= 1);
    fuzz_inside(ch->compression, msg, len);
    FUZZ_ASSERT(ch->compression.n >= 1);
    FUZZ_ASSERT(ch->has_extensions || ch->present == 0);
    fuzz_inside(ch->server_name, msg, len);
    FUZZ_ASSERT(ch->server_name.n <= 255);
    fuzz_u16_list(ch->groups, msg, len);
    fuzz_u16_list(ch->sig_algs, msg, len);
    fuzz_u16_list(ch->sig_algs_cert, msg, len);
    fuzz_u16_list(ch->versions, msg, len);
    fuzz_inside(ch->cookie, msg, len);

    l = ch->key_shares;
    fuzz_inside(l, msg, len);
    while (l.n > 0) {
        struct mica_key_share_entry e;

        FUZZ_ASSERT(mica_ext_next_key_share(&l, &e) == MICA_OK);
        FUZZ_ASSERT(e.key.n >= 1);
        fuzz_touch(e.key);
    }
    l = ch->alpn;
    fuzz_inside(l, msg, len);
    while (l.n > 0) {
        mica_rd name;

        FUZZ_ASSERT(mica_ext_next_protocol_name(&l, &name) == MICA_OK);
        FUZZ_ASSERT(name.n >= 1 && name.n <= 255);
    }

    if ((ch->present & mica_ext_bit(MICA_EXT_PRE_SHARED_KEY)) != 0) {
        const struct mica_psk_offer *psk = &ch->psk;

        /* the binders vector (length prefix included) starts at binders_offset */
        FUZZ_ASSERT(psk->binders_offset + 2 + psk->binders.n <= len);
        FUZZ_ASSERT(psk->binders.p == msg + psk->binders_offset + 2);
        l = psk->identities;
        n = 0;
        while (l.n > 0) {
            mica_rd id;
            uint32_t age;

            FUZZ_ASSERT(mica_ext_next_psk_identity(&l, &id, &age) == MICA_OK);
            fuzz_touch(id);
            n++;
        }
        FUZZ_ASSERT(n == psk->identities_n && n >= 1);
        l = psk->binders;
        n = 0;
        while (l.n > 0) {
            mica_rd binder;

            FUZZ_ASSERT(mica_ext_next_psk_binder(&l, &binder) == MICA_OK);
            FUZZ_ASSERT(binder.n >= 32);
            n++;
        }
        FUZZ_ASSERT(n == psk->binders_n && n == psk->identities_n);
    }
    if ((ch->present & mica_ext_bit(MICA_EXT_RECORD_SIZE_LIMIT)) != 0) {
        FUZZ_ASSERT(ch->record_size_limit >= 64);
    }
    FUZZ_ASSERT(ch->psk_modes <= 3);
}

static void run(const uint8_t *msg, size_t len)
{
    struct mica_client_hello a, b;
    mica_err err = mica_msg_decode_client_hello(msg, len, &a);

    FUZZ_ASSERT(fuzz_expected(err));
    FUZZ_ASSERT(mica_msg_decode_client_hello(msg, len, &b) == err);
    if (err != MICA_OK) {
        return;
    }
    FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    walk(&a, msg, len);
}

/* mica_msg_header (src/tls/msg/header.c), with an exact oracle */
static void header(const uint8_t *data, size_t size)
{
    struct mica_hs_header h = {0, 0};
    mica_err err = mica_msg_header(data, size, &h);

    if (size < 4) {
        FUZZ_ASSERT(err == MICA_WANT_READ);
        return;
    }
    FUZZ_ASSERT(err == MICA_OK && h.type == data[0]);
    FUZZ_ASSERT(h.len == (((uint32_t)data[1] << 16) | ((uint32_t)data[2] << 8) | data[3]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *msg;

    header(data, size);
    run(data, size);
    if (size > 0xffffff) {
        return 0;
    }
    msg = malloc(size + 4);
    FUZZ_ASSERT(msg != NULL);
    msg[0] = MICA_HS_CLIENT_HELLO;
    msg[1] = (uint8_t)(size >> 16);
    msg[2] = (uint8_t)(size >> 8);
    msg[3] = (uint8_t)size;
    if (size > 0) {
        memcpy(msg + 4, data, size);
    }
    run(msg, size + 4);
    free(msg);
    return 0;
}
