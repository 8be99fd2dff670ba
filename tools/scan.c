/*
 * mica scan HOST[:PORT]: what a TLS server accepts, and what it should not.
 *
 * Legacy versions (SSL 3.0, TLS 1.0, 1.1, 1.2) are probed with hand-built ClientHellos of
 * that version and classified from the ServerHello or the alert: no legacy handshake is
 * made, so mica needs no legacy code. Everything TLS 1.3 is probed with mica's own
 * engine: one handshake per suite, group and signature scheme offered alone; the
 * server's suite order by removing its choice and asking again; the certificate with
 * mica's verification; ALPN; tickets, resumption and 0-RTT; an HTTP GET for HSTS.
 * Each probe has its own TCP connection with send and receive timeouts. The findings
 * each carry a severity and a one-sentence fix; the grade follows from the worst.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mica/cert.h>
#include <mica/io.h>
#include <mica/mica.h>

#include "cmd.h"

#define PREFIX "mica scan"

struct scan_opts {
    const char *target;
    char host[256], port[32];
    const char *servername;
    const char *cafile;
    int timeout_ms;
    bool json;
    bool progress; /* a line on a terminal says what is being probed */
};

struct finding {
    const char *severity; /* "critical", "high", "medium", "low", "info" */
    char title[160];
    char fix[520];
};

struct scan {
    const struct scan_opts *o;
    bool versions[5]; /* SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3 */
    bool probed[5];
    char suites[8][48]; /* TLS 1.3 suites in the server's order */
    size_t suites_n;
    bool server_order; /* the server chooses by its own order */
    char groups[16][32];
    size_t groups_n;
    char hrr_groups[16][32]; /* supported, but only after a HelloRetryRequest */
    size_t hrr_n;
    char preferred_group[32];
    char sigs[16][48];
    size_t sigs_n;
    char alpn[64];
    bool downgrade_sentinel; /* a TLS 1.2 answer carries the RFC 8446 4.1.3 sentinel */
    bool downgrade_checked;
    /* certificate */
    bool have_cert;
    bool verified;
    char verify_error[512];
    int verify_code;
    struct mica_cert_info certs[8];
    size_t certs_n;
    bool ocsp_stapled;
    /* sessions */
    unsigned tickets;
    unsigned ticket_lifetime;
    uint32_t max_early;
    bool resumed;
    bool early_accepted;
    bool hsts;
    char hsts_value[128];
    struct finding findings[32];
    size_t findings_n;
};

/* ---- probes over raw TCP ---------------------------------------------------------- */

static void progress(const struct scan_opts *o, const char *what)
{
    if (o->progress) {
        fprintf(stderr, "\r\033[K" PREFIX ": probing %s ...", what);
        fflush(stderr);
    }
}

static int tcp_open(const struct scan_opts *o)
{
    struct addrinfo hints, *res = NULL;
    struct timeval tv = {.tv_sec = o->timeout_ms / 1000, .tv_usec = (o->timeout_ms % 1000) * 1000};
    int fd = -1, one = 1;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(o->host, o->port, &hints, &res) != 0) {
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

struct buf {
    uint8_t b[2048];
    size_t n;
};
static void put8(struct buf *w, size_t v)
{
    if (w->n < sizeof w->b) {
        w->b[w->n++] = (uint8_t)v;
    }
}
static void put16(struct buf *w, size_t v)
{
    put8(w, v >> 8);
    put8(w, v);
}
static void set16(struct buf *w, size_t at, size_t v)
{
    w->b[at] = (uint8_t)(v >> 8);
    w->b[at + 1] = (uint8_t)v;
}

/*
 * legacy_probe: a ClientHello of `version` (0x0300 .. 0x0303) without supported_versions,
 * with the usual suites of that era; returns 1 when the server answers with a ServerHello
 * of exactly that version, 0 when it refuses (an alert, another version, or it closes),
 * -1 when it cannot be reached. *random gets the ServerHello's random when there is one.
 */
static int legacy_probe(const struct scan_opts *o, unsigned version, uint8_t random[32])
{
    static const uint16_t suites[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                                      0xc009, 0xc013, 0xc00a, 0xc014, 0x009c, 0x009d,
                                      0x002f, 0x0035, 0x000a, 0x0005, 0x0004, 0x00ff};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018, 0x0019};
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                       0x0401, 0x0501, 0x0601, 0x0203, 0x0201};
    struct buf w = {.n = 0};
    size_t rec, hs, exts, e;
    uint8_t in[4096];
    size_t got = 0;
    int fd = tcp_open(o), rc = 0;
    const char *sni = o->servername;

    if (fd < 0) {
        return -1;
    }
    put8(&w, 22);
    put16(&w, version == 0x0300 ? 0x0300 : 0x0301);
    rec = w.n;
    put16(&w, 0);
    put8(&w, 1); /* client_hello */
    hs = w.n;
    put8(&w, 0);
    put16(&w, 0);
    put16(&w, version);
    for (int i = 0; i < 32; i++) {
        put8(&w, (unsigned)rand());
    }
    put8(&w, 0); /* no session id */
    put16(&w, sizeof suites);
    for (size_t i = 0; i < MICA_ARRAY_LEN(suites); i++) {
        put16(&w, suites[i]);
    }
    put8(&w, 1);
    put8(&w, 0);
    if (version > 0x0300) {
        exts = w.n;
        put16(&w, 0);
        if (sni != NULL && sni[0] != '\0') {
            size_t l = strlen(sni);
            put16(&w, 0); /* server_name */
            put16(&w, l + 5);
            put16(&w, l + 3);
            put8(&w, 0);
            put16(&w, l);
            for (size_t i = 0; i < l; i++) {
                put8(&w, (unsigned char)sni[i]);
            }
        }
        put16(&w, 10); /* supported_groups */
        put16(&w, 2 + sizeof groups);
        put16(&w, sizeof groups);
        for (size_t i = 0; i < MICA_ARRAY_LEN(groups); i++) {
            put16(&w, groups[i]);
        }
        put16(&w, 11); /* ec_point_formats: uncompressed */
        put16(&w, 2);
        put8(&w, 1);
        put8(&w, 0);
        if (version == 0x0303) {
            put16(&w, 13); /* signature_algorithms */
            put16(&w, 2 + sizeof sigalgs);
            put16(&w, sizeof sigalgs);
            for (size_t i = 0; i < MICA_ARRAY_LEN(sigalgs); i++) {
                put16(&w, sigalgs[i]);
            }
        }
        e = w.n - exts - 2;
        set16(&w, exts, e);
    }
    {
        size_t body = w.n - hs - 3;
        w.b[hs] = (uint8_t)(body >> 16);
        w.b[hs + 1] = (uint8_t)(body >> 8);
        w.b[hs + 2] = (uint8_t)body;
        set16(&w, rec, w.n - rec - 2);
    }
    if (send(fd, w.b, w.n, MSG_NOSIGNAL) != (ssize_t)w.n) {
        close(fd);
        return 0;
    }
    /* the first record: a handshake record starting with a ServerHello, or an alert */
    while (got < 5 + 4 + 2 + 32) {
        ssize_t n = recv(fd, in + got, sizeof in - got, 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (got >= 5 + 4 + 2 + 32 && in[0] == 22 && in[5] == 2) {
        unsigned v = (unsigned)in[9] << 8 | in[10];
        memcpy(random, in + 11, 32);
        rc = v == version;
    }
    return rc;
}

/* ---- probes with mica's engine ------------------------------------------------------ */

struct tickets {
    unsigned n;
    unsigned lifetime;
    uint32_t max_early;
    uint8_t session[4096];
    size_t session_len;
};

static void on_ticket(void *ctx, const uint8_t *m, size_t len)
{
    struct tickets *t = ctx;
    size_t at;

    t->n++;
    if (len < 13) {
        return;
    }
    t->lifetime = (unsigned)m[4] << 24 | (unsigned)m[5] << 16 | (unsigned)m[6] << 8 | m[7];
    /* lifetime(4) age_add(4) nonce<1> ticket<2> extensions<2>: early_data(42) */
    at = 12;
    at += 1 + (size_t)m[at];
    if (at + 2 > len) {
        return;
    }
    at += 2 + ((size_t)m[at] << 8 | m[at + 1]);
    if (at + 2 > len) {
        return;
    }
    at += 2;
    while (at + 4 <= len) {
        unsigned type = (unsigned)m[at] << 8 | m[at + 1];
        size_t l = (size_t)m[at + 2] << 8 | m[at + 3];
        if (type == 42 && l == 4 && at + 8 <= len) {
            t->max_early = (uint32_t)m[at + 4] << 24 | (uint32_t)m[at + 5] << 16 |
                           (uint32_t)m[at + 6] << 8 | m[at + 7];
        }
        at += 4 + l;
    }
}

static void on_session(void *ctx, const char *name, const uint8_t *blob, size_t len)
{
    struct tickets *t = ctx;

    (void)name;
    if (len <= sizeof t->session) {
        memcpy(t->session, blob, len);
        t->session_len = len;
    }
}

/* a config for one probe: insecure (the certificate probe verifies on its own) */
static mica_config *probe_config(const char *suites, const char *groups, const char *sigs,
                                 const char *alpn)
{
    mica_config *cfg = mica_config_new();

    if (cfg == NULL) {
        return NULL;
    }
    mica_config_insecure_no_verify(cfg);
    if ((suites != NULL && mica_config_set_cipher_suites(cfg, suites) != MICA_OK) ||
        (groups != NULL && mica_config_set_groups(cfg, groups) != MICA_OK) ||
        (sigs != NULL && mica_config_set_sig_schemes(cfg, sigs) != MICA_OK) ||
        (alpn != NULL && mica_config_set_alpn(cfg, alpn) != MICA_OK)) {
        mica_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* handshake: one TLS 1.3 handshake with cfg; *out the connection (caller frees) or NULL */
static mica_err handshake(const struct scan_opts *o, const mica_config *cfg, const uint8_t *session,
                          size_t session_len, mica_io **out)
{
    int fd = tcp_open(o);
    mica_io *io = NULL;
    mica_err err;

    *out = NULL;
    if (fd < 0) {
        return MICA_E_IO;
    }
    err = session != NULL ? mica_io_wrap_resume(cfg, fd, o->servername, session, session_len, &io)
                          : mica_io_wrap(cfg, fd, 0, o->servername, &io);
    if (err != MICA_OK) {
        close(fd);
        return err;
    }
    err = mica_io_handshake(io);
    if (err == MICA_WANT_READ || err == MICA_WANT_WRITE) {
        err = MICA_E_IO; /* the socket timed out */
    }
    *out = io;
    return err;
}

static bool accepts(const struct scan_opts *o, const char *suites, const char *groups,
                    const char *sigs, char *chose, size_t cap, bool *hrr)
{
    mica_config *cfg = probe_config(suites, groups, sigs, NULL);
    mica_io *io = NULL;
    bool ok = false;

    if (cfg == NULL) {
        return false;
    }
    if (handshake(o, cfg, NULL, 0, &io) == MICA_OK) {
        const mica_conn *c = mica_io_conn(io);
        ok = true;
        if (chose != NULL) {
            snprintf(chose, cap, "%s", mica_conn_cipher_suite(c));
        }
        if (hrr != NULL) {
            *hrr = mica_conn_hrr(c) != 0;
        }
        (void)mica_io_close(io);
    }
    mica_io_free(io);
    mica_config_free(cfg);
    return ok;
}

static void add_finding(struct scan *s, const char *severity, const char *title, const char *fix)
{
    if (s->findings_n < MICA_ARRAY_LEN(s->findings)) {
        struct finding *f = &s->findings[s->findings_n++];
        f->severity = severity;
        snprintf(f->title, sizeof f->title, "%s", title);
        snprintf(f->fix, sizeof f->fix, "%s", fix);
    }
}

static const char *const version_names[5] = {"SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

static void probe_versions(struct scan *s)
{
    static const unsigned v[4] = {0x0300, 0x0301, 0x0302, 0x0303};
    uint8_t random[32];

    for (int i = 0; i < 4; i++) {
        progress(s->o, version_names[i]);
        int r = legacy_probe(s->o, v[i], random);
        s->probed[i] = r >= 0;
        s->versions[i] = r == 1;
        if (i == 3 && r == 1) {
            /* RFC 8446 4.1.3: a TLS 1.3 server that answers TLS 1.2 says so in its random */
            static const uint8_t sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
            s->downgrade_checked = true;
            s->downgrade_sentinel = memcmp(random + 24, sentinel, 8) == 0;
        }
    }
    progress(s->o, "TLSv1.3");
    s->probed[4] = true;
    s->versions[4] = accepts(s->o, NULL, NULL, NULL, NULL, 0, NULL);
}

static void probe_suites(struct scan *s)
{
    const char *name;
    char offered[8][48];
    size_t n = 0;

    for (size_t i = 0; mica_cipher_suite_at(i, &name) != 0 && n < 8; i++) {
        progress(s->o, name);
        if (accepts(s->o, name, NULL, NULL, NULL, 0, NULL)) {
            snprintf(offered[n++], sizeof offered[0], "%s", name);
        }
    }
    /* the server's order: offer what is left, see what it takes, remove it, again */
    while (n > 0) {
        char list[512] = "", chose[48] = "";
        size_t at = 0;
        for (size_t i = 0; i < n && at < sizeof list; i++) {
            at +=
                (size_t)snprintf(list + at, sizeof list - at, "%s%s", i > 0 ? ":" : "", offered[i]);
        }
        if (!accepts(s->o, list, NULL, NULL, chose, sizeof chose, NULL)) {
            break;
        }
        snprintf(s->suites[s->suites_n++], sizeof s->suites[0], "%s", chose);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(offered[i], chose) == 0) {
                memmove(offered[i], offered[i + 1], (n - i - 1) * sizeof offered[0]);
                n--;
                break;
            }
        }
    }
    /* whose order: offer the first two reversed; the server's if it keeps its first */
    if (s->suites_n >= 2) {
        char list[128], chose[48] = "";
        snprintf(list, sizeof list, "%s:%s", s->suites[1], s->suites[0]);
        s->server_order = accepts(s->o, list, NULL, NULL, chose, sizeof chose, NULL) &&
                          strcmp(chose, s->suites[0]) == 0;
    }
}

static void probe_groups(struct scan *s)
{
    const char *name;

    for (size_t i = 0; mica_group_at(i, &name) != 0; i++) {
        bool hrr = false;
        char list[96];
        progress(s->o, name);
        if (accepts(s->o, NULL, name, NULL, NULL, 0, NULL)) {
            snprintf(s->groups[s->groups_n++], sizeof s->groups[0], "%s", name);
            /* with an x25519 share first and this group second: an HRR means the server
             * prefers this group enough to ask for it */
            if (strcmp(name, "x25519") != 0) {
                snprintf(list, sizeof list, "x25519:%s", name);
                if (accepts(s->o, NULL, list, NULL, NULL, 0, &hrr) && hrr) {
                    snprintf(s->hrr_groups[s->hrr_n++], sizeof s->hrr_groups[0], "%s", name);
                }
            }
        }
    }
    {
        mica_config *cfg = probe_config(NULL, NULL, NULL, NULL);
        mica_io *io = NULL;
        if (cfg != NULL && handshake(s->o, cfg, NULL, 0, &io) == MICA_OK) {
            snprintf(s->preferred_group, sizeof s->preferred_group, "%s",
                     mica_conn_group(mica_io_conn(io)) != NULL ? mica_conn_group(mica_io_conn(io))
                                                               : "none");
            (void)mica_io_close(io);
        }
        mica_io_free(io);
        mica_config_free(cfg);
    }
}

static void probe_sigs(struct scan *s)
{
    const char *name;

    for (size_t i = 0; mica_sig_scheme_at(i, &name) != 0 && s->sigs_n < 16; i++) {
        progress(s->o, name);
        if (accepts(s->o, NULL, NULL, name, NULL, 0, NULL)) {
            snprintf(s->sigs[s->sigs_n++], sizeof s->sigs[0], "%s", name);
        }
    }
}

/* the certificate with mica's verification, ALPN, tickets, resumption, 0-RTT, HSTS */
static void probe_session(struct scan *s)
{
    mica_config *cfg = probe_config(NULL, NULL, NULL, "h2,http/1.1");
    struct tickets t;
    mica_io *io = NULL;
    mica_err err;

    memset(&t, 0, sizeof t);
    if (cfg == NULL) {
        return;
    }
    progress(s->o, "certificate, tickets, HSTS");
    mica_config_set_ticket_cb(cfg, on_ticket, &t);
    mica_config_set_session_cb(cfg, on_session, &t);
    (void)mica_config_set_early_data(cfg, 1024);
    err = handshake(s->o, cfg, NULL, 0, &io);
    if (err == MICA_OK) {
        const mica_conn *c = mica_io_conn(io);
        const uint8_t *der;
        size_t len;
        char req[512], resp[4096];
        size_t n = 0, total = 0;
        s->have_cert = true;
        s->ocsp_stapled = mica_conn_ocsp_stapled(c) != 0;
        snprintf(s->alpn, sizeof s->alpn, "%s",
                 mica_conn_alpn(c) != NULL ? mica_conn_alpn(c) : "none");
        for (size_t i = 0; i < 8 && (der = mica_conn_peer_cert(c, i, &len)) != NULL; i++) {
            if (mica_cert_describe(der, len, &s->certs[s->certs_n]) == MICA_OK) {
                s->certs_n++;
            }
        }
        /* an HTTP/1.1 GET, for HSTS (and the tickets that follow the handshake) */
        snprintf(req, sizeof req,
                 "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: mica-scan/%s\r\nConnection: "
                 "close\r\n\r\n",
                 s->o->servername != NULL ? s->o->servername : s->o->host, mica_version());
        if (strcmp(s->alpn, "h2") != 0 && mica_io_write(io, req, strlen(req), &n) == MICA_OK) {
            while (total + 1 < sizeof resp &&
                   mica_io_read(io, resp + total, sizeof resp - 1 - total, &n) == MICA_OK &&
                   n > 0) {
                total += n;
            }
            resp[total] = '\0';
            char *h, *end = strstr(resp, "\r\n\r\n");
            for (char *p = resp; end != NULL && p < end; p++) { /* names: any case */
                *p = (char)tolower((unsigned char)*p);
            }
            h = strstr(resp, "\nstrict-transport-security:");
            if (h != NULL) {
                s->hsts = true;
                snprintf(s->hsts_value, sizeof s->hsts_value, "%.*s", (int)strcspn(h + 28, "\r\n"),
                         h + 28);
            }
        }
        (void)mica_io_close(io);
    }
    mica_io_free(io);
    s->tickets = t.n;
    s->ticket_lifetime = t.lifetime;
    s->max_early = t.max_early;
    /* resumption, with early data when the ticket allows it */
    if (t.session_len > 0) {
        uint8_t blob[4096];
        size_t blob_len = t.session_len, w = 0;
        static const char early[] = "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        memcpy(blob, t.session, blob_len);
        progress(s->o, "resumption and 0-RTT");
        int fd = tcp_open(s->o);
        if (fd >= 0 &&
            mica_io_wrap_resume(cfg, fd, s->o->servername, blob, blob_len, &io) == MICA_OK) {
            (void)mica_io_write_early(io, early, sizeof early - 1, &w);
            if (mica_io_handshake(io) == MICA_OK) {
                s->resumed = mica_conn_resumed(mica_io_conn(io)) != 0;
                s->early_accepted = mica_conn_early_data(mica_io_conn(io)) == MICA_EARLY_ACCEPTED;
                (void)mica_io_close(io);
            }
            mica_io_free(io);
        } else if (fd >= 0) {
            close(fd);
        }
    }
    mica_config_free(cfg);
    /* the certificate, verified as mica client would */
    cfg = mica_config_new();
    if (cfg != NULL &&
        (s->o->cafile == NULL || mica_config_set_ca_file(cfg, s->o->cafile) == MICA_OK) &&
        s->o->servername != NULL) {
        err = handshake(s->o, cfg, NULL, 0, &io);
        s->verified = err == MICA_OK;
        s->verify_code = (int)err;
        snprintf(s->verify_error, sizeof s->verify_error, "%s",
                 err == MICA_OK ? "" : mica_io_error_sentence(io));
        if (io != NULL && err == MICA_OK) {
            (void)mica_io_close(io);
        }
        mica_io_free(io);
    }
    mica_config_free(cfg);
}

/* ---- findings and grade ------------------------------------------------------------- */

static bool has_name(const char (*list)[32], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static void judge(struct scan *s)
{
    char t[160];
    time_t now = time(NULL);

    if (s->versions[0]) {
        add_finding(s, "critical", "SSL 3.0 is enabled (POODLE)",
                    "Disable SSL 3.0; no client that matters needs it.");
    }
    if (s->versions[1] || s->versions[2]) {
        add_finding(s, "high", "TLS 1.0 or 1.1 is enabled (deprecated by RFC 8996)",
                    "Disable TLS 1.0 and 1.1 and keep TLS 1.2 and 1.3.");
    }
    if (!s->versions[4]) {
        add_finding(s, "high", "TLS 1.3 is not supported",
                    "Enable TLS 1.3: faster handshakes and no legacy cryptography.");
    }
    if (s->versions[4] && s->versions[3] && s->downgrade_checked && !s->downgrade_sentinel) {
        add_finding(s, "medium", "TLS 1.2 answers lack the TLS 1.3 downgrade sentinel",
                    "Use a TLS 1.3 library that sets the RFC 8446 4.1.3 sentinel.");
    }
    if (s->versions[4] && s->suites_n == 0) {
        add_finding(s, "high", "no TLS 1.3 cipher suite is accepted alone",
                    "Enable at least TLS_AES_128_GCM_SHA256.");
    }
    if (s->versions[4] && s->groups_n > 0 && !has_name(s->groups, s->groups_n, "x25519") &&
        !has_name(s->groups, s->groups_n, "secp256r1")) {
        add_finding(s, "medium", "neither x25519 nor secp256r1 is accepted",
                    "Offer x25519 and secp256r1, the groups every client shares.");
    }
    if (s->versions[4] && s->groups_n > 0 && !has_name(s->groups, s->groups_n, "X25519MLKEM768")) {
        add_finding(s, "low", "no post-quantum key exchange (X25519MLKEM768)",
                    "Enable X25519MLKEM768 so recorded traffic resists a future quantum "
                    "computer.");
    }
    if (s->have_cert && !s->verified) {
        const char *fix = "Serve a chain that leads to a trusted root.";
        switch ((mica_err)s->verify_code) {
        case MICA_E_CERT_HOSTNAME:
            fix = "Serve a certificate whose subjectAltName covers the name clients use.";
            break;
        case MICA_E_CERT_EXPIRED: fix = "Renew the certificate, and automate renewal."; break;
        case MICA_E_CERT_WEAK:
            fix = "Use an ECDSA P-256 or RSA 2048+ key and a SHA-256 signature.";
            break;
        case MICA_E_CERT_UNTRUSTED:
            if (strstr(s->verify_error, "does not send its intermediate") != NULL) {
                fix = "Send the intermediate certificate(s) after the leaf: the chain is "
                      "incomplete.";
            }
            break;
        case MICA_E_CERT_REVOKED: fix = "Get a new certificate: this one is revoked."; break;
        default: break;
        }
        snprintf(t, sizeof t, "the certificate does not verify: %.120s%s", s->verify_error,
                 strlen(s->verify_error) > 120 ? "..." : "");
        add_finding(s, "critical", t, fix);
    }
    if (s->certs_n > 0) {
        long days = (long)((s->certs[0].not_after_s - (int64_t)now) / 86400);
        if (s->certs[0].not_after_s < (int64_t)now) {
            add_finding(s, "critical", "the certificate has expired", "Renew the certificate now.");
        } else if (days < 30) {
            snprintf(t, sizeof t, "the certificate expires in %ld days", days);
            add_finding(s, "medium", t, "Renew the certificate, and automate renewal.");
        }
        if (strstr(s->certs[0].key, "RSA") != NULL && atoi(s->certs[0].key + 4) < 2048) {
            add_finding(s, "high", "the certificate's RSA key is under 2048 bits",
                        "Use RSA 2048+ or ECDSA P-256.");
        }
        if (strstr(s->certs[0].signature_algorithm, "sha1") != NULL ||
            strstr(s->certs[0].signature_algorithm, "md5") != NULL) {
            add_finding(s, "high", "the certificate is signed with SHA-1 or MD5",
                        "Get a certificate signed with SHA-256 or better.");
        }
    }
    if (s->have_cert && !s->ocsp_stapled) {
        add_finding(s, "low", "no OCSP response is stapled",
                    "Staple OCSP responses so clients learn revocation without asking the CA.");
    }
    if (s->early_accepted) {
        add_finding(s, "medium",
                    "0-RTT early data is accepted (replay protection not verified by this scan)",
                    "Accept early data only with anti-replay (single-use tickets or ClientHello "
                    "recording) and for idempotent requests.");
    }
    if (s->ticket_lifetime > 7 * 24 * 3600) {
        add_finding(s, "medium", "session tickets live longer than 7 days",
                    "Keep ticket lifetimes at or under RFC 8446's 7 days.");
    }
    if (s->have_cert && !s->hsts && strcmp(s->alpn, "h2") != 0) {
        add_finding(s, "low", "no HSTS header on HTTPS",
                    "Send Strict-Transport-Security: max-age=31536000.");
    }
}

static const char *grade(const struct scan *s)
{
    const char *g = "A+";

    for (size_t i = 0; i < s->findings_n; i++) {
        const char *v = s->findings[i].severity;
        if (strcmp(v, "critical") == 0) {
            return "F";
        }
        if (strcmp(v, "high") == 0) {
            g = "C";
        } else if (strcmp(v, "medium") == 0 && strcmp(g, "C") != 0) {
            g = "B";
        } else if (strcmp(v, "low") == 0 && strcmp(g, "A+") == 0) {
            g = "A";
        }
    }
    return g;
}

/* ---- output ------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *v)
{
    fputc('"', f);
    for (; *v != '\0'; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

static void json_list(FILE *f, const char *key, const char *list, size_t n, size_t stride)
{
    fprintf(f, ",\n  \"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        fputs(i > 0 ? ", " : "", f);
        json_str(f, list + i * stride);
    }
    fputc(']', f);
}

static void print_json(const struct scan *s, FILE *f)
{
    fputs("{\n  \"target\": ", f);
    json_str(f, s->o->target);
    fputs(",\n  \"versions\": {", f);
    for (int i = 0; i < 5; i++) {
        fprintf(f, "%s\"%s\": %s", i > 0 ? ", " : "", version_names[i],
                s->versions[i] ? "true" : "false");
    }
    fputc('}', f);
    json_list(f, "tls13_cipher_suites", s->suites[0], s->suites_n, sizeof s->suites[0]);
    fprintf(f, ",\n  \"server_cipher_order\": %s", s->server_order ? "true" : "false");
    json_list(f, "groups", s->groups[0], s->groups_n, sizeof s->groups[0]);
    json_list(f, "groups_needing_hrr", s->hrr_groups[0], s->hrr_n, sizeof s->hrr_groups[0]);
    fputs(",\n  \"preferred_group\": ", f);
    json_str(f, s->preferred_group);
    json_list(f, "signature_schemes", s->sigs[0], s->sigs_n, sizeof s->sigs[0]);
    fputs(",\n  \"alpn\": ", f);
    json_str(f, s->alpn);
    fputs(",\n  \"certificate\": {\"verified\": ", f);
    fputs(s->verified ? "true" : "false", f);
    fputs(", \"verify_error\": ", f);
    if (s->verified) {
        fputs("null", f);
    } else {
        json_str(f, s->verify_error);
    }
    fprintf(f, ", \"ocsp_stapled\": %s, \"chain\": [", s->ocsp_stapled ? "true" : "false");
    for (size_t i = 0; i < s->certs_n; i++) {
        const struct mica_cert_info *c = &s->certs[i];
        fputs(i > 0 ? ", " : "", f);
        fputs("{\"subject\": ", f);
        json_str(f, c->subject);
        fputs(", \"issuer\": ", f);
        json_str(f, c->issuer);
        fputs(", \"sans\": ", f);
        json_str(f, c->sans);
        fputs(", \"not_after\": ", f);
        json_str(f, c->not_after);
        fprintf(f, ", \"days_left\": %lld, \"key\": ",
                (long long)((c->not_after_s - (int64_t)time(NULL)) / 86400));
        json_str(f, c->key);
        fputs(", \"signature_algorithm\": ", f);
        json_str(f, c->signature_algorithm);
        fputs(", \"sha256\": ", f);
        json_str(f, c->sha256);
        fputs(", \"spki_pin\": ", f);
        json_str(f, c->spki_pin);
        fputc('}', f);
    }
    fputs("]}", f);
    fprintf(f,
            ",\n  \"sessions\": {\"tickets\": %u, \"ticket_lifetime\": %u, \"resumed\": %s, "
            "\"max_early_data\": %u, \"early_data_accepted\": %s}",
            s->tickets, s->ticket_lifetime, s->resumed ? "true" : "false", s->max_early,
            s->early_accepted ? "true" : "false");
    fprintf(f, ",\n  \"downgrade_sentinel\": %s",
            !s->downgrade_checked   ? "null"
            : s->downgrade_sentinel ? "true"
                                    : "false");
    fputs(",\n  \"hsts\": ", f);
    if (s->hsts) {
        json_str(f, s->hsts_value);
    } else {
        fputs("null", f);
    }
    fputs(",\n  \"findings\": [", f);
    for (size_t i = 0; i < s->findings_n; i++) {
        fputs(i > 0 ? ",\n    " : "\n    ", f);
        fputs("{\"severity\": ", f);
        json_str(f, s->findings[i].severity);
        fputs(", \"title\": ", f);
        json_str(f, s->findings[i].title);
        fputs(", \"fix\": ", f);
        json_str(f, s->findings[i].fix);
        fputc('}', f);
    }
    fprintf(f, "%s],\n  \"grade\": \"%s\"\n}\n", s->findings_n > 0 ? "\n  " : "", grade(s));
}

static void print_text(const struct scan *s, FILE *f)
{
    fprintf(f, "%s\n\nprotocol versions\n", s->o->target);
    for (int i = 0; i < 5; i++) {
        fprintf(f, "  %-8s %s\n", version_names[i],
                !s->probed[i]    ? "not probed (unreachable)"
                : s->versions[i] ? "yes"
                                 : "no");
    }
    if (s->downgrade_checked) {
        fprintf(f, "  downgrade sentinel in TLS 1.2 answers: %s\n",
                s->downgrade_sentinel ? "yes" : "no");
    }
    fprintf(f, "\nTLS 1.3 cipher suites (%s order)\n",
            s->server_order ? "the server's" : "the client's");
    for (size_t i = 0; i < s->suites_n; i++) {
        fprintf(f, "  %zu. %s\n", i + 1, s->suites[i]);
    }
    fputs("\ngroups (each alone)\n", f);
    for (size_t i = 0; i < s->groups_n; i++) {
        fprintf(f, "  %s%s\n", s->groups[i],
                has_name(s->hrr_groups, s->hrr_n, s->groups[i])
                    ? "  (preferred over x25519: asked for with a HelloRetryRequest)"
                    : "");
    }
    fprintf(f, "  chosen from mica's default offer: %s\n", s->preferred_group);
    fputs("\nsignature schemes\n", f);
    for (size_t i = 0; i < s->sigs_n; i++) {
        fprintf(f, "  %s\n", s->sigs[i]);
    }
    fprintf(f, "\ncertificate: %s%s%s\n", s->verified ? "verified" : "NOT verified",
            s->verified ? "" : ": ", s->verified ? "" : s->verify_error);
    for (size_t i = 0; i < s->certs_n; i++) {
        const struct mica_cert_info *c = &s->certs[i];
        fprintf(f, "  %zu. %s\n     issuer %s, %s, %s, valid until %s (%lld days)\n", i, c->subject,
                c->issuer, c->key, c->signature_algorithm, c->not_after,
                (long long)((c->not_after_s - (int64_t)time(NULL)) / 86400));
    }
    fprintf(f, "  OCSP stapled: %s\n", s->ocsp_stapled ? "yes" : "no");
    fprintf(f, "\nALPN (offered h2, http/1.1): %s\n", s->alpn);
    fprintf(f, "session tickets: %u (lifetime %u s), resumption: %s, 0-RTT: %s\n", s->tickets,
            s->ticket_lifetime, s->resumed ? "yes" : "no",
            s->early_accepted  ? "accepted"
            : s->max_early > 0 ? "offered, not accepted"
                               : "no");
    fprintf(f, "HSTS: %s\n", s->hsts ? s->hsts_value : "none");
    fprintf(f, "\nfindings\n");
    for (size_t i = 0; i < s->findings_n; i++) {
        fprintf(f, "  [%s] %s\n         fix: %s\n", s->findings[i].severity, s->findings[i].title,
                s->findings[i].fix);
    }
    if (s->findings_n == 0) {
        fputs("  none\n", f);
    }
    fprintf(f, "\ngrade: %s\n", grade(s));
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mica scan [options] HOST[:PORT]\n"
               "\n"
               "Probe a TLS server and grade its configuration: protocol versions (SSL 3.0 to\n"
               "TLS 1.3; legacy versions with hand-built ClientHellos, no legacy handshake),\n"
               "TLS 1.3 cipher suites in the server's order, key exchange groups (and which\n"
               "it asks for with a HelloRetryRequest), signature schemes, the certificate\n"
               "verified as mica client does, OCSP stapling, ALPN, session tickets,\n"
               "resumption, 0-RTT, the TLS 1.3 downgrade sentinel and HSTS. Each finding has\n"
               "a severity and a one-sentence fix; the grade follows from the worst.\n"
               "\n"
               "options:\n"
               "  --servername NAME  the name for SNI and the certificate (default: HOST)\n"
               "  --cafile FILE      verify the certificate against FILE instead of the system\n"
               "                     trust store\n"
               "  --timeout SEC      give up a probe after SEC seconds (default 5)\n"
               "  --json             the result as one JSON document on standard output\n"
               "  --help             this text\n"
               "\n"
               "exit status: 0 scanned, 1 the server could not be reached, 2 usage.\n");
}

int cmd_scan(int argc, char **argv)
{
    static struct scan_opts o;
    static struct scan s;
    const char *timeout = NULL;

    memset(&o, 0, sizeof o);
    o.timeout_ms = 5000;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TOOL_EXIT_OK;
        }
        if ((r = tool_opt_value(argc, argv, &i, "--servername", PREFIX, &o.servername)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--cafile", PREFIX, &o.cafile)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--timeout", PREFIX, &timeout)) != 0) {
            if (r < 0) {
                return TOOL_EXIT_USAGE;
            }
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else if (argv[i][0] == '-' || o.target != NULL) {
            fprintf(stderr, PREFIX ": unexpected argument '%s' (see mica scan --help)\n", argv[i]);
            return TOOL_EXIT_USAGE;
        } else {
            o.target = argv[i];
        }
    }
    if (o.target == NULL) {
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (timeout != NULL) {
        char *end = NULL;
        double sec = strtod(timeout, &end);
        if (end == timeout || *end != '\0' || sec <= 0 || sec > 600) {
            fprintf(stderr, PREFIX ": --timeout '%s': give seconds from 0 to 600\n", timeout);
            return TOOL_EXIT_USAGE;
        }
        o.timeout_ms = (int)(sec * 1000);
    }
    if (tool_split_hostport(o.target, PREFIX, o.host, sizeof o.host, o.port, sizeof o.port) != 0) {
        return TOOL_EXIT_USAGE;
    }
    if (o.port[0] == '\0') {
        snprintf(o.port, sizeof o.port, "443");
    }
    if (o.servername == NULL) {
        o.servername = o.host;
    }
    o.progress = isatty(STDERR_FILENO) != 0;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    memset(&s, 0, sizeof s);
    s.o = &o;
    {
        int fd = tcp_open(&o);
        if (fd < 0) {
            fprintf(stderr, PREFIX ": cannot connect to %s: %s\n", o.target, strerror(errno));
            return TOOL_EXIT_FAIL;
        }
        close(fd);
    }
    probe_versions(&s);
    if (s.versions[4]) {
        probe_suites(&s);
        probe_groups(&s);
        probe_sigs(&s);
        probe_session(&s);
    }
    judge(&s);
    if (o.progress) {
        fputs("\r\033[K", stderr);
    }
    if (o.json) {
        print_json(&s, stdout);
    } else {
        print_text(&s, stdout);
    }
    return TOOL_EXIT_OK;
}
