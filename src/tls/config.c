/* mica_config: built once, shared read-only by connections. See mica.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tls/conn.h"

static void defaults(mica_config *cfg)
{
    size_t n = 0;

    for (size_t i = 0; i < mica_suites_n; i++) {
        if (mica_cr_suite_available(&mica_suites[i])) {
            cfg->suites[n++] = mica_suites[i].id;
        }
    }
    cfg->suites_n = n;
    n = 0;
    for (size_t i = 0; i < mica_groups_n; i++) {
        if (mica_cr_group_available(&mica_groups[i])) {
            cfg->groups[n++] = mica_groups[i].id;
        }
    }
    cfg->groups_n = n;
    n = 0;
    /* every scheme but SHA-1's: mica refuses SHA-1 signatures, so it does not offer them */
    for (size_t i = 0; i < mica_sig_schemes_n && n < MICA_MAX_ALG_N; i++) {
        if (mica_sig_schemes[i].hash != &mica_hash_sha1) {
            cfg->sigs[n++] = mica_sig_schemes[i].id;
        }
    }
    cfg->sigs_n = n;
    cfg->server_preference = true;
    cfg->grease = true;
    cfg->middlebox_compat = true;
    cfg->verify = true;
    cfg->ocsp = MICA_OCSP_AUTO;
    cfg->max_handshake = MICA_MAX_HANDSHAKE_MSG_DEFAULT;
    mica_psk_defaults(cfg);
}

mica_config *mica_config_new(void)
{
    mica_config *cfg;

    if (mica_cr_init() != MICA_OK) {
        return NULL;
    }
    cfg = mica_mem_alloc(sizeof(*cfg));
    if (cfg == NULL) {
        return NULL;
    }
    defaults(cfg);
    /* the system trust store, read on first use (mica_x509_store_ready: thread-safe) */
    if (mica_rand(cfg->cookie_key, sizeof(cfg->cookie_key)) != MICA_OK ||
        mica_rand(cfg->ticket_secret, sizeof(cfg->ticket_secret)) != MICA_OK ||
        mica_psk_config_init(cfg) != MICA_OK || mica_x509_store_new(&cfg->store) != MICA_OK ||
        mica_x509_store_add_default(cfg->store) != MICA_OK) {
        mica_config_free(cfg);
        return NULL;
    }
    return cfg;
}

void mica_config_free(mica_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->chains_n; i++) {
        mica_x509_chain_free(cfg->chains[i]);
    }
    mica_x509_store_free(cfg->store);
    mica_cache_free(cfg->cache);
    mica_staple_free(cfg->staple);
    mica_keep_free(cfg->keep);
    mica_replay_free(cfg->replay_own);
    mica_psk_config_free(cfg);
    mica_mem_free_secret(cfg);
}

/* next_name: the next ':'- or ','-separated name of *list into buf. */
static bool next_name(const char **list, char *buf, size_t cap)
{
    const char *p = *list;
    size_t n = 0;

    while (*p == ':' || *p == ',' || *p == ' ') {
        p++;
    }
    if (*p == '\0') {
        return false;
    }
    while (p[n] != '\0' && p[n] != ':' && p[n] != ',' && p[n] != ' ') {
        n++;
    }
    if (n >= cap) {
        n = cap - 1; /* an over-long name will not match any algorithm */
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    while (*p != '\0' && *p != ':' && *p != ',' && *p != ' ') {
        p++;
    }
    *list = p;
    return true;
}

enum family { SUITES, GROUPS, SIGS };

static uint16_t lookup(enum family f, const char *name)
{
    const struct mica_suite *s;
    const struct mica_group *g;
    const struct mica_sig_scheme *sig;

    switch (f) {
    case SUITES:
        s = mica_suite_by_name(name);
        return s != NULL && mica_cr_suite_available(s) ? s->id : 0;
    case GROUPS:
        g = mica_group_by_name(name);
        return g != NULL && mica_cr_group_available(g) ? g->id : 0;
    case SIGS: sig = mica_sig_scheme_by_name(name); return sig != NULL ? sig->id : 0;
    default: return 0;
    }
}

static mica_err set_list(enum family f, const char *list, uint16_t *ids, size_t *n)
{
    uint16_t tmp[MICA_MAX_ALG_N];
    size_t k = 0;
    char name[64];

    ENSURE(list != NULL, MICA_E_ARGUMENT);
    while (next_name(&list, name, sizeof(name))) {
        uint16_t id = lookup(f, name);
        ENSURE(id != 0 && k < MICA_MAX_ALG_N, MICA_E_ARGUMENT);
        for (size_t i = 0; i < k; i++) {
            ENSURE(tmp[i] != id, MICA_E_ARGUMENT); /* listed twice */
        }
        tmp[k++] = id;
    }
    ENSURE(k > 0, MICA_E_ARGUMENT);
    memcpy(ids, tmp, k * sizeof(tmp[0]));
    *n = k;
    return MICA_OK;
}

mica_err mica_config_set_cipher_suites(mica_config *cfg, const char *list)
{
    return set_list(SUITES, list, cfg->suites, &cfg->suites_n);
}

mica_err mica_config_set_groups(mica_config *cfg, const char *list)
{
    return set_list(GROUPS, list, cfg->groups, &cfg->groups_n);
}

mica_err mica_config_set_sig_schemes(mica_config *cfg, const char *list)
{
    return set_list(SIGS, list, cfg->sigs, &cfg->sigs_n);
}

mica_err mica_config_set_alpn(mica_config *cfg, const char *list)
{
    uint8_t wire[MICA_MAX_ALPN_WIRE];
    size_t len = 0;
    const char *p = list;

    ENSURE(list != NULL, MICA_E_ARGUMENT);
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        /* RFC 7301 3.1: opaque ProtocolName<1..2^8-1> */
        ENSURE(n >= 1 && n <= 255 && len + 1 + n <= sizeof(wire), MICA_E_ARGUMENT);
        wire[len++] = (uint8_t)n;
        memcpy(wire + len, p, n);
        len += n;
        p += n;
        if (*p == ',') {
            p++;
            ENSURE(*p != '\0', MICA_E_ARGUMENT);
        }
    }
    ENSURE(len > 0, MICA_E_ARGUMENT);
    memcpy(cfg->alpn, wire, len);
    cfg->alpn_len = len;
    return MICA_OK;
}

void mica_config_set_server_preference(mica_config *cfg, int on)
{
    cfg->server_preference = on != 0;
}

void mica_config_set_grease(mica_config *cfg, int on)
{
    cfg->grease = on != 0;
}

void mica_config_set_middlebox_compat(mica_config *cfg, int on)
{
    cfg->middlebox_compat = on != 0;
}

void mica_config_insecure_no_verify(mica_config *cfg)
{
    cfg->verify = false;
}

mica_err mica_config_set_max_handshake_size(mica_config *cfg, size_t bytes)
{
    /* the handshake layer's own bound is the 24-bit length */
    ENSURE(bytes >= 1024 && bytes <= 0xffffffu, MICA_E_ARGUMENT);
    cfg->max_handshake = bytes;
    return MICA_OK;
}

mica_err mica_config_set_record_size_limit(mica_config *cfg, size_t bytes)
{
    /* RFC 8449 4: at least 64; in TLS 1.3 at most 2^14 + 1 */
    ENSURE(bytes >= MICA_MIN_RECORD_SIZE_LIMIT && bytes <= MICA_MAX_PLAINTEXT + 1, MICA_E_ARGUMENT);
    cfg->record_size_limit = bytes == MICA_MAX_PLAINTEXT + 1 ? 0 : bytes;
    return MICA_OK;
}

void mica_config_set_clock(mica_config *cfg, uint64_t (*now)(void *ctx), void *ctx)
{
    cfg->clock.now = now;
    cfg->clock.ctx = ctx;
}

void mica_config_set_keylog(mica_config *cfg, void (*cb)(void *ctx, const char *line), void *ctx)
{
    cfg->keylog = cb;
    cfg->keylog_ctx = ctx;
}

void mica_config_set_ticket_cb(mica_config *cfg,
                               void (*cb)(void *ctx, const uint8_t *msg, size_t len), void *ctx)
{
    cfg->ticket_cb = cb;
    cfg->ticket_ctx = ctx;
}

mica_err mica_config_add_cert_chain_pem(mica_config *cfg, const char *chain_pem, size_t chain_len,
                                        const char *key_pem, size_t key_len)
{
    struct mica_chain *chain = NULL;

    ENSURE(cfg->chains_n < MICA_MAX_CHAINS, MICA_E_LIMIT);
    TRY(mica_x509_chain_from_pem(chain_pem, chain_len, key_pem, key_len, &chain));
    cfg->chains[cfg->chains_n++] = chain;
    return MICA_OK;
}

/* read_file: a whole (small) file into a new buffer; PEM files only. read(2), not stdio,
 * so no library buffer keeps a copy of a private key after the caller wipes its own. */
static mica_err read_file(const char *path, char **out, size_t *len)
{
    const size_t cap = 1024u * 1024u;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t n = 0;

    ENSURE(fd >= 0, MICA_E_ARGUMENT);
    buf = mica_mem_alloc(cap);
    if (buf == NULL) {
        close(fd);
        return MICA_E_NOMEM;
    }
    while (n < cap - 1) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return MICA_OK;
}

mica_err mica_config_add_cert_chain_file(mica_config *cfg, const char *chain_file,
                                         const char *key_file)
{
    char *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    mica_err err;

    err = read_file(chain_file, &chain, &chain_len);
    if (err == MICA_OK) {
        err = read_file(key_file, &key, &key_len);
    }
    if (err == MICA_OK) {
        err = mica_config_add_cert_chain_pem(cfg, chain, chain_len, key, key_len);
    }
    mica_mem_free(chain);
    mica_mem_free_secret(key);
    return err;
}

static mica_err custom_store(mica_config *cfg)
{
    if (!cfg->store_custom) {
        mica_x509_store_free(cfg->store);
        cfg->store = NULL;
        TRY(mica_x509_store_new(&cfg->store));
        cfg->store_custom = true;
    }
    return MICA_OK;
}

mica_err mica_config_set_ca_file(mica_config *cfg, const char *file)
{
    TRY(custom_store(cfg));
    return mica_x509_store_add_file(cfg->store, file);
}

mica_err mica_config_set_ca_dir(mica_config *cfg, const char *dir)
{
    TRY(custom_store(cfg));
    return mica_x509_store_add_dir(cfg->store, dir);
}

mica_err mica_config_set_ca_pem(mica_config *cfg, const char *pem, size_t len)
{
    TRY(custom_store(cfg));
    return mica_x509_store_add_pem(cfg->store, pem, len);
}

mica_err mica_config_add_intermediates_file(mica_config *cfg, const char *file)
{
    ENSURE(cfg != NULL && file != NULL, MICA_E_ARGUMENT);
    return mica_x509_store_add_untrusted_file(cfg->store, file);
}

mica_err mica_config_add_crl_file(mica_config *cfg, const char *file)
{
    ENSURE(cfg != NULL && file != NULL, MICA_E_ARGUMENT);
    return mica_x509_store_add_crl_file(cfg->store, file);
}

mica_err mica_config_add_pin(mica_config *cfg, const char *pin)
{
    ENSURE(cfg != NULL && cfg->pins_n < MICA_MAX_PINS, MICA_E_ARGUMENT);
    TRY(mica_x509_parse_pin(pin, cfg->pins[cfg->pins_n]));
    cfg->pins_n++;
    return MICA_OK;
}

mica_err mica_config_set_client_auth(mica_config *cfg, mica_client_auth mode)
{
    ENSURE(cfg != NULL && (mode == MICA_CLIENT_AUTH_NONE || mode == MICA_CLIENT_AUTH_OPTIONAL ||
                           mode == MICA_CLIENT_AUTH_REQUIRE),
           MICA_E_ARGUMENT);
    cfg->client_auth = mode;
    return MICA_OK;
}

mica_err mica_config_set_ocsp(mica_config *cfg, mica_ocsp mode)
{
    ENSURE(cfg != NULL &&
               (mode == MICA_OCSP_OFF || mode == MICA_OCSP_AUTO || mode == MICA_OCSP_REQUIRE),
           MICA_E_ARGUMENT);
    cfg->ocsp = mode;
    return MICA_OK;
}

mica_err mica_config_set_ocsp_staple_file(mica_config *cfg, const char *file)
{
    struct mica_staple *st = NULL;

    ENSURE(cfg != NULL, MICA_E_ARGUMENT);
    if (file != NULL) {
        TRY(mica_staple_new(file, &st));
    }
    mica_staple_free(cfg->staple);
    cfg->staple = st;
    return MICA_OK;
}
