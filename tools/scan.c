/*
 * mica scan HOST[:PORT]: what a TLS server accepts, and what it should not.
 *
 * Legacy versions (SSL 3.0, TLS 1.0, 1.1, 1.2) are probed with hand-built ClientHellos of
 * that version and classified from the ServerHello or the alert: no legacy handshake is
 * made, so mica needs no legacy code. The same raw ClientHellos enumerate the TLS 1.2
 * cipher suites in the server's order (offer all, remove its choice, ask again).
 * Everything TLS 1.3 is probed with mica's own engine: one handshake per suite, group
 * and signature scheme offered alone; the server's suite order as for TLS 1.2; the
 * certificate with mica's verification; ALPN; tickets, resumption and 0-RTT; an HTTP GET
 * for HSTS.
 *
 * A replayed 0-RTT flight: the bytes the client sent before the server's first answer
 * (ClientHello and early data) are sent again on a new connection, as an attacker on the
 * path would. The server's answer cannot be decrypted (its key share is new), but it is
 * still legible: a ServerHello without pre_shared_key means the ticket was refused; with
 * it, the first encrypted record holds EncryptedExtensions, whose early_data extension
 * (4 bytes) is there only when the early data is accepted. So the record is exactly as
 * long as on the first connection when the replay is accepted, and 4 bytes shorter when
 * only its early data is refused.
 *
 * Probes: each has its own TCP connection and one deadline (--timeout) for all of its
 * I/O, connect included, so a server that trickles bytes cannot hold a probe longer.
 * Independent probes run --parallel at a time (the engine is thread-safe; each probe has
 * its own config and connection); the probe that needs earlier answers (the suite order)
 * runs after them. The findings each carry a severity and a one-sentence fix; the grade
 * follows from the worst, and names the findings that set it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mica/cert.h>
#include <mica/mica.h>

#include "cmd.h"

#define PREFIX "mica scan"

struct scan_opts {
    const char *target;
    char host[256], port[32];
    const char *servername;
    const char *cafile;
    int timeout_ms;
    unsigned parallel;
    bool json;
    bool progress; /* a line on a terminal says what is being probed */
};

struct finding {
    const char *severity; /* "critical", "high", "medium", "low" */
    char title[160];
    char fix[520];
};

/* what became of a replayed 0-RTT flight */
enum replay {
    REPLAY_NOT_TESTED = 0, /* no 0-RTT accepted to replay */
    REPLAY_ACCEPTED,       /* the same EncryptedExtensions: the early data went in twice */
    REPLAY_EARLY_REJECTED, /* resumed, but the early data refused */
    REPLAY_FULL,           /* the ticket was not accepted again: a full handshake */
    REPLAY_REFUSED,        /* an alert or a closed connection */
    REPLAY_UNKNOWN         /* an answer that none of those explain */
};
static const char *const replay_names[] = {"not_tested",          "accepted",
                                           "early_data_rejected", "ticket_refused",
                                           "connection_refused",  "unknown"};

#define MAX_SUITES13 8
#define MAX_GROUPS 16
#define MAX_SIGS 32
#define MAX_SUITES12 64

struct scan {
    const struct scan_opts *o;
    bool versions[5]; /* SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3 */
    bool probed[5];
    /* TLS 1.3 suites: each alone, then in the server's order */
    bool suite_ok[MAX_SUITES13];
    char suites[MAX_SUITES13][48];
    size_t suites_n;
    bool server_order; /* the server chooses by its own order */
    /* the suites of the newest legacy version accepted (TLS 1.2, else 1.1, else 1.0),
     * in the server's order; legacy_v its index in version_names, or -1 */
    int legacy_v;
    uint16_t suites12[MAX_SUITES12];
    size_t suites12_n;
    bool server_order12;
    bool group_ok[MAX_GROUPS];
    bool group_hrr[MAX_GROUPS]; /* asked for with an HRR over an x25519 share */
    char groups[MAX_GROUPS][32];
    size_t groups_n;
    char hrr_groups[MAX_GROUPS][32];
    size_t hrr_n;
    char preferred_group[32];
    bool sig_ok[MAX_SIGS];
    char sigs[MAX_SIGS][48];
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
    enum replay replay;
    bool http; /* it answered the GET with HTTP */
    bool hsts;
    char hsts_value[128];
    struct finding findings[40];
    size_t findings_n;
    /* progress */
    pthread_mutex_t lock;
    unsigned done, total;
};

/* ---- progress ----------------------------------------------------------------------- */

static void progress(struct scan *s, const char *what)
{
    if (!s->o->progress) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    fprintf(stderr, "\r\033[K" PREFIX ": %u/%u probing %s ...", s->done + 1,
            s->total > s->done ? s->total : s->done + 1, what);
    fflush(stderr);
    pthread_mutex_unlock(&s->lock);
}

static void progress_done(struct scan *s)
{
    pthread_mutex_lock(&s->lock);
    s->done++;
    pthread_mutex_unlock(&s->lock);
}

/* ---- TCP with a deadline ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd: fd is ready for events before deadline (ms, monotonic) */
static bool wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd pf = {.fd = fd, .events = events};
    int r;

    do {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return false;
        }
        r = poll(&pf, 1, left > 60000 ? 60000 : (int)left);
    } while ((r < 0 && errno == EINTR) || r == 0);
    return r > 0;
}

/* tcp_open: a non-blocking TCP connection to the target, connected before deadline; -1
 * when it cannot be (errno says why) */
static int tcp_open(const struct scan_opts *o, int64_t deadline)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1, one = 1, err = ECONNREFUSED;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(o->host, o->port, &hints, &res) != 0) {
        errno = EHOSTUNREACH;
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        socklen_t len = sizeof err;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        err = errno;
        if (err == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            break;
        }
        if (err == EINPROGRESS) {
            err = ETIMEDOUT;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    errno = err;
    return fd;
}

/* send_all: all of b[0..n) before deadline */
static bool send_all(int fd, const uint8_t *b, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return false;
        } else if (!wait_fd(fd, POLLOUT, deadline)) {
            return false;
        }
    }
    return true;
}

/* recv_some: what arrives before deadline: > 0 bytes, 0 when the peer closed, -1 on an
 * error or the deadline */
static ssize_t recv_some(int fd, uint8_t *b, size_t cap, int64_t deadline)
{
    for (;;) {
        ssize_t n = recv(fd, b, cap, 0);
        if (n >= 0) {
            return n;
        }
        if ((errno != EAGAIN && errno != EINTR) || !wait_fd(fd, POLLIN, deadline)) {
            return -1;
        }
    }
}

/* ---- hand-built ClientHellos ---------------------------------------------------------- */

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

/* The TLS 1.2 (and older) suites a scan asks about: the sound ones and every kind of
 * weak one, so that a server's weak choices show. */
struct suite12 {
    uint16_t id;
    const char *name;
};
static const struct suite12 suites12[] = {
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
    {0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0009, "TLS_RSA_WITH_DES_CBC_SHA"},
    {0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"},
    {0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"},
    {0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"},
    {0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"},
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"},
    {0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"},
    {0x0001, "TLS_RSA_WITH_NULL_MD5"},
    {0x0002, "TLS_RSA_WITH_NULL_SHA"},
    {0x003b, "TLS_RSA_WITH_NULL_SHA256"},
    {0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"},
};

static const char *suite12_name(uint16_t id)
{
    for (size_t i = 0; i < MICA_ARRAY_LEN(suites12); i++) {
        if (suites12[i].id == id) {
            return suites12[i].name;
        }
    }
    return "unknown";
}

/*
 * legacy_probe: a ClientHello of `version` (0x0300 .. 0x0303) without supported_versions,
 * offering suites[0..n) (the usual suites of the era when n is 0); returns 1 when the
 * server answers with a ServerHello of exactly that version (*chosen its suite, random its
 * random), 0 when it refuses (an alert, another version, or it closes), -1 when it cannot
 * be reached.
 */
static int legacy_probe(const struct scan_opts *o, unsigned version, const uint16_t *suites,
                        size_t n, uint16_t *chosen, uint8_t random[32])
{
    static const uint16_t era[] = {0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                                   0xc009, 0xc013, 0xc00a, 0xc014, 0x009c, 0x009d,
                                   0x002f, 0x0035, 0x000a, 0x0005, 0x0004};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018, 0x0019};
    /* every scheme a TLS 1.2 server's certificate may need: without ed25519, ed448 or
     * rsa_pss_pss_* a server with such a key has nothing to sign with and refuses */
    static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804,
                                       0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401,
                                       0x0501, 0x0601, 0x0203, 0x0201};
    int64_t deadline = now_ms() + o->timeout_ms;
    struct buf w = {.n = 0};
    size_t rec, hs, exts;
    uint8_t in[4096], rnd[32];
    size_t got = 0;
    int fd, rc = 0;
    const char *sni = o->servername;

    if (n == 0) {
        suites = era;
        n = MICA_ARRAY_LEN(era);
    }
    fd = tcp_open(o, deadline);
    if (fd < 0) {
        return -1;
    }
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        memset(rnd, 0x5a, sizeof rnd); /* a probe's random needs no secrecy */
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
    for (size_t i = 0; i < sizeof rnd; i++) {
        put8(&w, rnd[i]);
    }
    put8(&w, 0); /* no session id */
    put16(&w, 2 * (n + 1));
    for (size_t i = 0; i < n; i++) {
        put16(&w, suites[i]);
    }
    put16(&w, 0x00ff); /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
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
        set16(&w, exts, w.n - exts - 2);
    }
    {
        size_t body = w.n - hs - 3;
        w.b[hs] = (uint8_t)(body >> 16);
        w.b[hs + 1] = (uint8_t)(body >> 8);
        w.b[hs + 2] = (uint8_t)body;
        set16(&w, rec, w.n - rec - 2);
    }
    if (!send_all(fd, w.b, w.n, deadline)) {
        close(fd);
        return 0;
    }
    /* the first record: a handshake record starting with a ServerHello, or an alert;
     * version(2) random(32) session_id<1> cipher_suite(2) */
    while (got < 5 + 4 + 2 + 32 + 1 + 32 + 2) {
        ssize_t r = recv_some(fd, in + got, sizeof in - got, deadline);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        if (in[0] != 22 || (got > 5 && in[5] != 2)) {
            break;
        }
    }
    close(fd);
    if (got >= 5 + 4 + 2 + 32 + 1 && in[0] == 22 && in[5] == 2) {
        unsigned v = (unsigned)in[9] << 8 | in[10];
        size_t at = 5 + 4 + 2 + 32 + 1 + in[5 + 4 + 2 + 32];
        if (at + 2 <= got) {
            memcpy(random, in + 11, 32);
            *chosen = (uint16_t)((unsigned)in[at] << 8 | in[at + 1]);
            rc = v == version;
        }
    }
    return rc;
}

/* ---- probes with mica's engine, over the sans-I/O API --------------------------------- */

struct probe {
    const struct scan_opts *o;
    int fd;
    int64_t deadline;
    mica_conn *c;
    const char *why; /* a failure that is not the engine's: "timed out", ... */
    /* when first != NULL: what the client sends before it receives anything */
    uint8_t *first;
    size_t first_cap, first_n;
    bool received;
    /* when rx != NULL: the first bytes received */
    uint8_t *rx;
    size_t rx_cap, rx_n;
};

/* probe_flush: send what the engine has for the peer */
static mica_err probe_flush(struct probe *p)
{
    const uint8_t *out;
    size_t len;

    if (mica_conn_pending(p->c, &out, &len) != MICA_OK || len == 0) {
        return MICA_OK;
    }
    if (p->first != NULL && !p->received && p->first_n + len <= p->first_cap) {
        memcpy(p->first + p->first_n, out, len);
        p->first_n += len;
    }
    if (!send_all(p->fd, out, len, p->deadline)) {
        p->why = "the connection failed or timed out while sending";
        return MICA_E_IO;
    }
    mica_conn_sent(p->c, len);
    return MICA_OK;
}

/* probe_pump: receive once and feed the engine */
static mica_err probe_pump(struct probe *p)
{
    uint8_t in[16384];
    ssize_t n = recv_some(p->fd, in, sizeof in, p->deadline);
    size_t at = 0;

    if (n <= 0) {
        p->why = n == 0 ? "the server closed the connection" : "the server did not answer in time";
        return MICA_E_IO;
    }
    p->received = true;
    if (p->rx != NULL && p->rx_n < p->rx_cap) {
        size_t k = (size_t)n < p->rx_cap - p->rx_n ? (size_t)n : p->rx_cap - p->rx_n;
        memcpy(p->rx + p->rx_n, in, k);
        p->rx_n += k;
    }
    while (at < (size_t)n) {
        size_t used = 0;
        mica_err err = mica_conn_feed(p->c, in + at, (size_t)n - at, &used);
        if (err != MICA_OK) {
            (void)probe_flush(p); /* the alert */
            return err;
        }
        at += used;
        if (used == 0) {
            break; /* 16 MiB unread: a probe never gets near */
        }
    }
    return MICA_OK;
}

/* probe_start: a connection to the target for c (taken: freed by probe_end) */
static mica_err probe_start(struct probe *p, const struct scan_opts *o, mica_conn *c)
{
    memset(p, 0, sizeof *p);
    p->o = o;
    p->c = c;
    p->deadline = now_ms() + o->timeout_ms;
    p->fd = tcp_open(o, p->deadline);
    if (p->fd < 0) {
        p->why = "cannot connect";
        return MICA_E_IO;
    }
    return MICA_OK;
}

static mica_err probe_handshake(struct probe *p)
{
    for (;;) {
        mica_err err = probe_flush(p);
        if (err != MICA_OK) {
            return err;
        }
        if (mica_conn_is_connected(p->c)) {
            return MICA_OK;
        }
        if (mica_err_is_fatal(mica_conn_error(p->c))) {
            return mica_conn_error(p->c);
        }
        err = probe_pump(p);
        if (err != MICA_OK) {
            return err;
        }
    }
}

/* probe_read: application data, up to cap; *n == 0 at the end of the stream */
static mica_err probe_read(struct probe *p, uint8_t *buf, size_t cap, size_t *n)
{
    for (;;) {
        mica_err err = mica_conn_read(p->c, buf, cap, n);
        if (err != MICA_WANT_READ) {
            return err;
        }
        if ((err = probe_flush(p)) != MICA_OK) {
            return err;
        }
        if (probe_pump(p) != MICA_OK) {
            *n = 0; /* closed without close_notify: the end, for a probe */
            return mica_err_is_fatal(mica_conn_error(p->c)) ? mica_conn_error(p->c) : MICA_OK;
        }
    }
}

/* probe_sentence: why the probe failed, in a sentence */
static const char *probe_sentence(const struct probe *p)
{
    if (p->c != NULL && mica_err_is_fatal(mica_conn_error(p->c))) {
        return mica_conn_error_sentence(p->c);
    }
    return p->why != NULL ? p->why : "the handshake did not complete";
}

static void probe_end(struct probe *p)
{
    if (p->c != NULL && mica_conn_is_connected(p->c) && mica_conn_close(p->c) == MICA_OK) {
        (void)probe_flush(p);
    }
    if (p->fd >= 0) {
        close(p->fd);
    }
    mica_conn_free(p->c);
    p->c = NULL;
    p->fd = -1;
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

/* what one full handshake tells */
struct hs_result {
    char suite[48];
    char group[32];
    bool hrr;
};

/* accepts: a full handshake with only these suites / groups / schemes (NULL: mica's
 * defaults) completes; *r (may be NULL) what was chosen */
static bool accepts(const struct scan_opts *o, const char *suites, const char *groups,
                    const char *sigs, struct hs_result *r)
{
    mica_config *cfg = probe_config(suites, groups, sigs, NULL);
    mica_conn *c = NULL;
    struct probe p;
    bool ok = false;

    if (cfg == NULL || mica_conn_new_client(cfg, o->servername, &c) != MICA_OK) {
        mica_config_free(cfg);
        return false;
    }
    if (probe_start(&p, o, c) == MICA_OK && probe_handshake(&p) == MICA_OK) {
        ok = true;
        if (r != NULL) {
            const char *g = mica_conn_group(c);
            snprintf(r->suite, sizeof r->suite, "%s", mica_conn_cipher_suite(c));
            snprintf(r->group, sizeof r->group, "%s", g != NULL ? g : "none");
            r->hrr = mica_conn_hrr(c) != 0;
        }
    }
    probe_end(&p);
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

/* ---- the probes ------------------------------------------------------------------------ */

/* RFC 8446 4.1.3: a TLS 1.3 server that answers TLS 1.2 says so in its random */
static const uint8_t downgrade_sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

static void probe_version(struct scan *s, int i)
{
    static const unsigned v[4] = {0x0300, 0x0301, 0x0302, 0x0303};
    uint8_t random[32];
    uint16_t chosen = 0;

    progress(s, version_names[i]);
    if (i == 4) {
        s->versions[4] = accepts(s->o, NULL, NULL, NULL, NULL);
        s->probed[4] = true;
        return;
    }
    int r = legacy_probe(s->o, v[i], NULL, 0, &chosen, random);
    s->probed[i] = r >= 0;
    s->versions[i] = r == 1;
    if (i == 3 && r == 1) {
        s->downgrade_checked = true;
        s->downgrade_sentinel = memcmp(random + 24, downgrade_sentinel, 8) == 0;
    }
}

/* the suites of the newest legacy version the server accepts, in the server's order:
 * offer all that are left, take its choice out */
static void probe_suites12(struct scan *s)
{
    static const unsigned v[3] = {0x0301, 0x0302, 0x0303};
    uint16_t left[MICA_ARRAY_LEN(suites12)];
    size_t n = MICA_ARRAY_LEN(suites12);
    uint8_t random[32];
    unsigned version;
    char what[64];

    if (s->legacy_v < 1) {
        return;
    }
    version = v[s->legacy_v - 1];
    snprintf(what, sizeof what, "%s cipher suites", version_names[s->legacy_v]);
    progress(s, what);
    for (size_t i = 0; i < n; i++) {
        left[i] = suites12[i].id;
    }
    while (n > 0 && s->suites12_n < MAX_SUITES12) {
        uint16_t chosen = 0;
        size_t k = n;
        if (legacy_probe(s->o, version, left, n, &chosen, random) != 1) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (left[i] == chosen) {
                k = i;
            }
        }
        if (k == n) {
            break; /* a suite not offered: RFC 5246 7.4.1.3 says never */
        }
        s->suites12[s->suites12_n++] = chosen;
        memmove(left + k, left + k + 1, (n - k - 1) * sizeof left[0]);
        n--;
    }
    /* whose order: the first two reversed; the server's if it keeps its first */
    if (s->suites12_n >= 2) {
        uint16_t two[2] = {s->suites12[1], s->suites12[0]}, chosen = 0;
        s->server_order12 =
            legacy_probe(s->o, version, two, 2, &chosen, random) == 1 && chosen == s->suites12[0];
    }
}

static void probe_suite(struct scan *s, int i)
{
    const char *name;

    if (mica_cipher_suite_at((size_t)i, &name) != 0) {
        progress(s, name);
        s->suite_ok[i] = accepts(s->o, name, NULL, NULL, NULL);
    }
}

/* the server's TLS 1.3 order, from the suites it accepts alone */
static void probe_suite_order(struct scan *s)
{
    const char *name;
    char offered[MAX_SUITES13][48];
    size_t n = 0;

    for (size_t i = 0; i < MAX_SUITES13 && mica_cipher_suite_at(i, &name) != 0; i++) {
        if (s->suite_ok[i]) {
            snprintf(offered[n++], sizeof offered[0], "%s", name);
        }
    }
    progress(s, "the TLS 1.3 suite order");
    while (n > 0) {
        char list[512] = "";
        size_t at = 0;
        struct hs_result r;
        for (size_t i = 0; i < n && at < sizeof list; i++) {
            at +=
                (size_t)snprintf(list + at, sizeof list - at, "%s%s", i > 0 ? ":" : "", offered[i]);
        }
        if (!accepts(s->o, list, NULL, NULL, &r)) {
            break;
        }
        snprintf(s->suites[s->suites_n++], sizeof s->suites[0], "%s", r.suite);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(offered[i], r.suite) == 0) {
                memmove(offered[i], offered[i + 1], (n - i - 1) * sizeof offered[0]);
                n--;
                break;
            }
        }
    }
    if (s->suites_n >= 2) {
        char list[128];
        struct hs_result r;
        snprintf(list, sizeof list, "%s:%s", s->suites[1], s->suites[0]);
        s->server_order = accepts(s->o, list, NULL, NULL, &r) && strcmp(r.suite, s->suites[0]) == 0;
    }
}

static void probe_group(struct scan *s, int i)
{
    const char *name;

    if (mica_group_at((size_t)i, &name) != 0) {
        progress(s, name);
        s->group_ok[i] = accepts(s->o, NULL, name, NULL, NULL);
    }
}

/* with an x25519 share first and group i second: an HRR means the server prefers group i
 * enough to ask for it */
static void probe_group_hrr(struct scan *s, int i)
{
    const char *name;
    char list[96];
    struct hs_result r;

    if (mica_group_at((size_t)i, &name) != 0 && strcmp(name, "x25519") != 0) {
        snprintf(list, sizeof list, "x25519:%s", name);
        progress(s, list);
        s->group_hrr[i] = accepts(s->o, NULL, list, NULL, &r) && r.hrr;
    }
}

static void probe_preferred_group(struct scan *s)
{
    struct hs_result r;

    progress(s, "the group chosen from mica's default offer");
    snprintf(s->preferred_group, sizeof s->preferred_group, "%s",
             accepts(s->o, NULL, NULL, NULL, &r) ? r.group : "none");
}

static void probe_sig(struct scan *s, int i)
{
    const char *name;

    if (mica_sig_scheme_at((size_t)i, &name) != 0) {
        progress(s, name);
        s->sig_ok[i] = accepts(s->o, NULL, NULL, name, NULL);
    }
}

/* the certificate, verified as mica client would */
static void probe_verify(struct scan *s)
{
    mica_config *cfg = mica_config_new();
    mica_conn *c = NULL;
    struct probe p;
    mica_err err;

    progress(s, "the certificate's verification");
    if (cfg == NULL ||
        (s->o->cafile != NULL && mica_config_set_ca_file(cfg, s->o->cafile) != MICA_OK) ||
        mica_conn_new_client(cfg, s->o->servername, &c) != MICA_OK) {
        snprintf(s->verify_error, sizeof s->verify_error, "cannot set up the verification");
        mica_config_free(cfg);
        return;
    }
    err = probe_start(&p, s->o, c);
    if (err == MICA_OK) {
        err = probe_handshake(&p);
    }
    s->verified = err == MICA_OK;
    s->verify_code = (int)err;
    snprintf(s->verify_error, sizeof s->verify_error, "%s",
             err == MICA_OK ? "" : probe_sentence(&p));
    probe_end(&p);
    mica_config_free(cfg);
}

/* tickets: what the NewSessionTickets say, and the newest session */
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

/*
 * server_flight: the server's answer in b[0..n), record by record: 1 when its ServerHello
 * and the header of its first encrypted record are in (*psk: the ServerHello accepted a
 * PSK; *enc_len: that record's length), 2 for a HelloRetryRequest (early data is then
 * refused), 0 when more is needed, -1 for an alert or anything else.
 */
static int server_flight(const uint8_t *b, size_t n, bool *psk, size_t *enc_len)
{
    /* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") as the random marks an HRR */
    static const uint8_t hrr[8] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11};
    bool seen_sh = false;

    *psk = false;
    for (size_t at = 0; at + 5 <= n;) {
        size_t len = (size_t)b[at + 3] << 8 | b[at + 4];
        const uint8_t *r = b + at + 5;
        if (b[at] == 23) {
            *enc_len = len;
            return seen_sh ? 1 : -1;
        }
        if (at + 5 + len > n) {
            return b[at] == 22 || b[at] == 20 ? 0 : -1;
        }
        if (b[at] == 22 && !seen_sh) {
            /* type(1) length(3) version(2) random(32) session_id<1> suite(2) comp(1) exts<2> */
            size_t p = 4 + 2 + 32;
            if (len < p + 1 || r[0] != 2) {
                return -1;
            }
            if (memcmp(r + 6, hrr, sizeof hrr) == 0) {
                return 2;
            }
            p += 1 + (size_t)r[p] + 2 + 1;
            if (p + 2 > len) {
                return -1;
            }
            size_t end = p + 2 + ((size_t)r[p] << 8 | r[p + 1]);
            for (p += 2; p + 4 <= end && end <= len;) {
                unsigned type = (unsigned)r[p] << 8 | r[p + 1];
                *psk = *psk || type == 41; /* pre_shared_key */
                p += 4 + ((size_t)r[p + 2] << 8 | r[p + 3]);
            }
            seen_sh = true;
        } else if (b[at] != 20) { /* (a change_cipher_spec is allowed) */
            return -1;
        }
        at += 5 + len;
    }
    return 0;
}

/* probe_replay: the client's first flight again, on a new connection; enc_len the length
 * of the server's first encrypted record when it accepted that flight's early data */
static enum replay probe_replay(struct scan *s, const uint8_t *first, size_t first_n,
                                size_t enc_len)
{
    int64_t deadline = now_ms() + s->o->timeout_ms;
    uint8_t rx[8192];
    size_t got = 0, len = 0;
    int fd = tcp_open(s->o, deadline), r = 0;
    bool psk = false;

    progress(s, "a replayed 0-RTT flight");
    if (fd < 0) {
        return REPLAY_UNKNOWN;
    }
    if (send_all(fd, first, first_n, deadline)) {
        while (r == 0 && got < sizeof rx) {
            ssize_t k = recv_some(fd, rx + got, sizeof rx - got, deadline);
            if (k <= 0) {
                r = -2;
                break;
            }
            got += (size_t)k;
            r = server_flight(rx, got, &psk, &len);
        }
    }
    close(fd);
    if (r == -2 || (r == -1 && got >= 5 && rx[0] == 21)) {
        return REPLAY_REFUSED;
    }
    if (r == 2) {
        return REPLAY_EARLY_REJECTED;
    }
    if (r != 1) {
        return REPLAY_UNKNOWN;
    }
    if (!psk) {
        return REPLAY_FULL;
    }
    return len == enc_len       ? REPLAY_ACCEPTED
           : len + 4 == enc_len ? REPLAY_EARLY_REJECTED
                                : REPLAY_UNKNOWN;
}

/* resumption with the newest ticket, early data when it allows it, then the replay */
static void probe_resume(struct scan *s, mica_config *cfg, const struct tickets *t)
{
    static const char early[] = "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static uint8_t first[16384], rx[8192]; /* (one session probe at a time) */
    mica_conn *c = NULL;
    struct probe p;
    size_t w = 0;

    progress(s, "resumption and 0-RTT");
    if (mica_conn_new_client_resume(cfg, s->o->servername, t->session, t->session_len, &c) !=
        MICA_OK) {
        return;
    }
    if (t->max_early > 0) {
        (void)mica_conn_write_early(c, (const uint8_t *)early, sizeof early - 1, &w);
    }
    if (probe_start(&p, s->o, c) == MICA_OK) {
        p.first = first;
        p.first_cap = sizeof first;
        p.rx = rx;
        p.rx_cap = sizeof rx;
        if (probe_handshake(&p) == MICA_OK) {
            s->resumed = mica_conn_resumed(c) != 0;
            s->early_accepted = mica_conn_early_data(c) == MICA_EARLY_ACCEPTED;
        }
    }
    {
        bool psk = false;
        size_t enc_len = 0;
        if (s->early_accepted && server_flight(rx, p.rx_n, &psk, &enc_len) == 1 && psk) {
            size_t first_n = p.first_n;
            probe_end(&p);
            s->replay = probe_replay(s, first, first_n, enc_len);
        } else {
            probe_end(&p);
        }
    }
}

/* the certificate as sent, OCSP, ALPN, tickets and HSTS; then resumption and 0-RTT */
static void probe_session(struct scan *s)
{
    mica_config *cfg = probe_config(NULL, NULL, NULL, "h2,http/1.1");
    static struct tickets t;
    mica_conn *c = NULL;
    struct probe p;

    memset(&t, 0, sizeof t);
    if (cfg == NULL) {
        return;
    }
    progress(s, "certificate, ALPN, tickets, HSTS");
    mica_config_set_ticket_cb(cfg, on_ticket, &t);
    mica_config_set_session_cb(cfg, on_session, &t);
    (void)mica_config_set_early_data(cfg, 1024);
    if (mica_conn_new_client(cfg, s->o->servername, &c) != MICA_OK) {
        mica_config_free(cfg);
        return;
    }
    if (probe_start(&p, s->o, c) == MICA_OK && probe_handshake(&p) == MICA_OK) {
        const uint8_t *der;
        size_t len, n = 0, total = 0;
        char req[512], resp[4096];
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
                 s->o->servername, mica_version());
        if (strcmp(s->alpn, "h2") != 0 &&
            mica_conn_write(c, (const uint8_t *)req, strlen(req), &n) == MICA_OK) {
            /* the headers are enough; a server that is not HTTP gets 2 s to say so */
            if (s->o->timeout_ms > 2000) {
                p.deadline = now_ms() + 2000;
            }
            resp[0] = '\0';
            while (total + 1 < sizeof resp && strstr(resp, "\r\n\r\n") == NULL &&
                   probe_read(&p, (uint8_t *)resp + total, sizeof resp - 1 - total, &n) ==
                       MICA_OK &&
                   n > 0) {
                total += n;
                resp[total] = '\0';
            }
            char *h, *end = strstr(resp, "\r\n\r\n");
            for (char *q = resp; end != NULL && q < end; q++) { /* names: any case */
                *q = (char)tolower((unsigned char)*q);
            }
            s->http = strncmp(resp, "http/", 5) == 0;
            h = end != NULL ? strstr(resp, "\nstrict-transport-security:") : NULL;
            if (h != NULL && h < end) {
                s->hsts = true;
                h += 27;
                h += strspn(h, " \t");
                snprintf(s->hsts_value, sizeof s->hsts_value, "%.*s", (int)strcspn(h, "\r\n"), h);
            }
        } else {
            /* the tickets come after the handshake: read until they are in or time is up */
            uint8_t b[512];
            p.deadline = now_ms() + 500;
            while (t.n == 0 && probe_read(&p, b, sizeof b, &n) == MICA_OK && n > 0) {
            }
        }
    }
    probe_end(&p);
    s->tickets = t.n;
    s->ticket_lifetime = t.lifetime;
    s->max_early = t.max_early;
    if (t.session_len > 0) {
        probe_resume(s, cfg, &t);
    }
    mica_config_free(cfg);
}

/* ---- running the probes -------------------------------------------------------------- */

enum job_kind {
    J_VERSION,
    J_SUITES12,
    J_SUITE,
    J_GROUP,
    J_GROUP_HRR,
    J_SIG,
    J_PREFERRED,
    J_SESSION,
    J_VERIFY
};
struct job {
    enum job_kind kind;
    int i;
};

struct pool {
    struct scan *s;
    const struct job *jobs;
    size_t n, next;
    pthread_mutex_t lock;
};

static void run_job(struct scan *s, const struct job *j)
{
    switch (j->kind) {
    case J_VERSION: probe_version(s, j->i); break;
    case J_SUITES12: probe_suites12(s); break;
    case J_SUITE: probe_suite(s, j->i); break;
    case J_GROUP: probe_group(s, j->i); break;
    case J_GROUP_HRR: probe_group_hrr(s, j->i); break;
    case J_SIG: probe_sig(s, j->i); break;
    case J_PREFERRED: probe_preferred_group(s); break;
    case J_SESSION: probe_session(s); break;
    case J_VERIFY: probe_verify(s); break;
    }
    progress_done(s);
}

static void *worker(void *arg)
{
    struct pool *pl = arg;

    for (;;) {
        size_t i;
        pthread_mutex_lock(&pl->lock);
        i = pl->next++;
        pthread_mutex_unlock(&pl->lock);
        if (i >= pl->n) {
            return NULL;
        }
        run_job(pl->s, &pl->jobs[i]);
    }
}

/* run_jobs: jobs[0..n), o->parallel at a time (each job writes only its own fields) */
static void run_jobs(struct scan *s, const struct job *jobs, size_t n)
{
    pthread_t th[16];
    size_t started = 0;
    struct pool pl = {.s = s, .jobs = jobs, .n = n, .next = 0};

    pthread_mutex_init(&pl.lock, NULL);
    for (unsigned i = 1; i < s->o->parallel && i < n && started < MICA_ARRAY_LEN(th); i++) {
        if (pthread_create(&th[started], NULL, worker, &pl) != 0) {
            break; /* fewer threads: this one does the rest */
        }
        started++;
    }
    (void)worker(&pl);
    for (size_t i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&pl.lock);
}

static void collect(struct scan *s)
{
    const char *name;

    for (size_t i = 0; i < MAX_GROUPS && mica_group_at(i, &name) != 0; i++) {
        if (s->group_ok[i]) {
            snprintf(s->groups[s->groups_n++], sizeof s->groups[0], "%s", name);
            if (s->group_hrr[i]) {
                snprintf(s->hrr_groups[s->hrr_n++], sizeof s->hrr_groups[0], "%s", name);
            }
        }
    }
    for (size_t i = 0; i < MAX_SIGS && mica_sig_scheme_at(i, &name) != 0; i++) {
        if (s->sig_ok[i]) {
            snprintf(s->sigs[s->sigs_n++], sizeof s->sigs[0], "%s", name);
        }
    }
}

static void scan_all(struct scan *s)
{
    struct job jobs[8 + MAX_SUITES13 + 2 * MAX_GROUPS + MAX_SIGS];
    size_t n = 0;
    const char *name;

    for (int i = 0; i < 5; i++) {
        jobs[n++] = (struct job){J_VERSION, i};
    }
    s->total = (unsigned)n;
    run_jobs(s, jobs, n);
    n = 0;
    s->legacy_v = s->versions[3] ? 3 : s->versions[2] ? 2 : s->versions[1] ? 1 : -1;
    if (s->legacy_v > 0) {
        jobs[n++] = (struct job){J_SUITES12, 0};
    }
    if (s->versions[4]) {
        jobs[n++] = (struct job){J_SESSION, 0}; /* the longest first */
        jobs[n++] = (struct job){J_VERIFY, 0};
        jobs[n++] = (struct job){J_PREFERRED, 0};
        for (int i = 0; i < MAX_SUITES13 && mica_cipher_suite_at((size_t)i, &name) != 0; i++) {
            jobs[n++] = (struct job){J_SUITE, i};
        }
        for (int i = 0; i < MAX_GROUPS && mica_group_at((size_t)i, &name) != 0; i++) {
            jobs[n++] = (struct job){J_GROUP, i};
            jobs[n++] = (struct job){J_GROUP_HRR, i};
        }
        for (int i = 0; i < MAX_SIGS && mica_sig_scheme_at((size_t)i, &name) != 0; i++) {
            jobs[n++] = (struct job){J_SIG, i};
        }
    }
    s->total += (unsigned)n + (s->versions[4] ? 1 : 0);
    run_jobs(s, jobs, n);
    if (s->versions[4]) {
        probe_suite_order(s);
        progress_done(s);
    } else {
        snprintf(s->verify_error, sizeof s->verify_error,
                 "not checked: mica reads certificates over TLS 1.3, which this server does not "
                 "speak");
    }
    collect(s);
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

static bool has_name48(const char (*list)[48], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* names: the accepted TLS 1.2 suites whose names contain one of the words (a list in
 * text, cut to fit); the number of them */
static size_t suites12_with(const struct scan *s, const char *const *words, char *names, size_t cap)
{
    size_t n = 0, at = 0;

    names[0] = '\0';
    for (size_t i = 0; i < s->suites12_n; i++) {
        const char *name = suite12_name(s->suites12[i]);
        bool hit = false;
        for (size_t w = 0; words[w] != NULL; w++) {
            hit = hit || strstr(name, words[w]) != NULL;
        }
        if (hit) {
            int k = snprintf(names + at, cap - at, "%s%s", n > 0 ? ", " : "", name);
            if (k > 0 && (size_t)k < cap - at) {
                at += (size_t)k;
            }
            n++;
        }
    }
    return n;
}

static void judge_suites12(struct scan *s)
{
    static const char *const broken[] = {"_NULL_", "_EXPORT_",  "_anon_",
                                         "_RC4_",  "_DES_CBC_", NULL};
    static const char *const des3[] = {"_3DES_", NULL};
    static const char *const static_rsa[] = {"TLS_RSA_", NULL};
    static const char *const cbc[] = {"_CBC_", NULL};
    char names[512], t[160];
    static const char *const titles[5] = {"SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
    const char *v = titles[s->legacy_v > 0 ? s->legacy_v : 3];

    if (suites12_with(s, broken, names, sizeof names) > 0) {
        snprintf(t, sizeof t, "broken %s cipher suites are accepted: %.100s%s", v, names,
                 strlen(names) > 100 ? "..." : "");
        add_finding(s, "critical", t,
                    "Remove NULL, export, anonymous, RC4 and DES suites: each can be broken or "
                    "gives no authentication.");
    }
    if (suites12_with(s, des3, names, sizeof names) > 0) {
        add_finding(s, "medium", "3DES suites are accepted (SWEET32: 64-bit blocks)",
                    "Remove the 3DES suites.");
    }
    if (suites12_with(s, static_rsa, names, sizeof names) > 0) {
        bool first = s->server_order12 && s->suites12_n > 0 &&
                     strncmp(suite12_name(s->suites12[0]), "TLS_RSA_", 8) == 0;
        snprintf(t, sizeof t,
                 first ? "the server prefers %s suites without forward secrecy (RSA key exchange)"
                       : "%s suites without forward secrecy (RSA key exchange) are accepted",
                 v);
        add_finding(s, first ? "high" : "medium", t,
                    "Remove the TLS_RSA_WITH_* suites and prefer ECDHE: a stolen key must not "
                    "decrypt recorded traffic.");
    }
    if (suites12_with(s, cbc, names, sizeof names) > 0) {
        snprintf(t, sizeof t, "CBC-mode %s suites are accepted", v);
        add_finding(s, "low", t,
                    "Prefer AES-GCM and ChaCha20-Poly1305; CBC has a long history of padding "
                    "oracles.");
    }
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
    if (s->versions[4] && s->suites_n > 0 &&
        !has_name48(s->suites, s->suites_n, "TLS_AES_128_GCM_SHA256")) {
        add_finding(s, "medium",
                    "TLS_AES_128_GCM_SHA256, which every TLS 1.3 peer must have, is not accepted",
                    "Enable TLS_AES_128_GCM_SHA256 (RFC 8446 9.1).");
    }
    judge_suites12(s);
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
    if (s->replay == REPLAY_ACCEPTED) {
        add_finding(s, "high",
                    "0-RTT without replay protection: a replayed early-data flight was accepted "
                    "again",
                    "Turn on anti-replay (single-use tickets or ClientHello recording, RFC 8446 "
                    "8) or turn 0-RTT off.");
    } else if (s->early_accepted && s->replay == REPLAY_UNKNOWN) {
        add_finding(s, "medium",
                    "0-RTT is accepted and whether a replay is refused could not be told",
                    "Make sure anti-replay is on (RFC 8446 8) and early data is used only for "
                    "idempotent requests.");
    } else if (s->early_accepted) {
        add_finding(s, "low", "0-RTT early data is accepted (a replay was refused)",
                    "Serve only idempotent requests from early data (RFC 8470: 425 Too "
                    "Early for the rest).");
    }
    if (s->ticket_lifetime > 7 * 24 * 3600) {
        add_finding(s, "medium", "session tickets live longer than 7 days",
                    "Keep ticket lifetimes at or under RFC 8446's 7 days.");
    }
    if (s->http && !s->hsts) {
        add_finding(s, "low", "no HSTS header on HTTPS",
                    "Send Strict-Transport-Security: max-age=31536000.");
    }
}

static int severity_rank(const char *v)
{
    return strcmp(v, "critical") == 0 ? 4
           : strcmp(v, "high") == 0   ? 3
           : strcmp(v, "medium") == 0 ? 2
           : strcmp(v, "low") == 0    ? 1
                                      : 0;
}

/* the worst severity among the findings (0: none) */
static int worst(const struct scan *s)
{
    int w = 0;

    for (size_t i = 0; i < s->findings_n; i++) {
        int r = severity_rank(s->findings[i].severity);
        w = r > w ? r : w;
    }
    return w;
}

/* the grade follows from the worst finding: none A+, low A, medium B, high C, critical F;
 * the findings of that severity are its causes */
static const char *grade(const struct scan *s)
{
    static const char *const g[5] = {"A+", "A", "B", "C", "F"};
    return g[worst(s)];
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
    /* tls12_*: TLS 1.2's; legacy_cipher_suites: the newest legacy version's (which may
     * be TLS 1.0 or 1.1 when the server has no TLS 1.2) */
    for (int k = 0; k < 2; k++) {
        bool tls12 = s->legacy_v == 3;
        fputs(k == 0 ? ",\n  \"tls12_cipher_suites\": ["
                     : ",\n  \"legacy_cipher_suites\": {\"version\": ",
              f);
        if (k == 1) {
            if (s->legacy_v > 0) {
                json_str(f, version_names[s->legacy_v]);
            } else {
                fputs("null", f);
            }
            fputs(", \"suites\": [", f);
        }
        for (size_t i = 0; (k == 1 || tls12) && i < s->suites12_n; i++) {
            fputs(i > 0 ? ", " : "", f);
            json_str(f, suite12_name(s->suites12[i]));
        }
        fprintf(f, k == 0 ? "],\n  \"tls12_server_cipher_order\": %s" : "], \"server_order\": %s}",
                (k == 1 || tls12) && s->server_order12 ? "true" : "false");
    }
    json_list(f, "groups", s->groups[0], s->groups_n, sizeof s->groups[0]);
    json_list(f, "groups_needing_hrr", s->hrr_groups[0], s->hrr_n, sizeof s->hrr_groups[0]);
    fputs(",\n  \"preferred_group\": ", f);
    json_str(f, s->preferred_group);
    json_list(f, "signature_schemes", s->sigs[0], s->sigs_n, sizeof s->sigs[0]);
    fputs(",\n  \"alpn\": ", f);
    json_str(f, s->alpn);
    fprintf(f, ",\n  \"certificate\": {\"checked\": %s, \"verified\": ",
            s->versions[4] ? "true" : "false");
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
            "\"max_early_data\": %u, \"early_data_accepted\": %s, \"replayed_early_data\": "
            "\"%s\"}",
            s->tickets, s->ticket_lifetime, s->resumed ? "true" : "false", s->max_early,
            s->early_accepted ? "true" : "false", replay_names[s->replay]);
    fprintf(f, ",\n  \"downgrade_sentinel\": %s",
            !s->downgrade_checked   ? "null"
            : s->downgrade_sentinel ? "true"
                                    : "false");
    fprintf(f, ",\n  \"http\": %s", s->http ? "true" : "false");
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
    fprintf(f, "%s],\n  \"grade\": \"%s\",\n  \"grade_reasons\": [",
            s->findings_n > 0 ? "\n  " : "", grade(s));
    for (size_t i = 0, k = 0; i < s->findings_n; i++) {
        if (worst(s) > 0 && severity_rank(s->findings[i].severity) == worst(s)) {
            fputs(k++ > 0 ? ", " : "", f);
            json_str(f, s->findings[i].title);
        }
    }
    fputs("]\n}\n", f);
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
    if (s->suites12_n > 0) {
        fprintf(f, "\n%s cipher suites (%s order)\n", version_names[s->legacy_v],
                s->server_order12 ? "the server's" : "the client's");
        for (size_t i = 0; i < s->suites12_n; i++) {
            fprintf(f, "  %zu. %s\n", i + 1, suite12_name(s->suites12[i]));
        }
    }
    if (!s->versions[4]) {
        fputs("\nno TLS 1.3: its suites, groups and signature schemes, the certificate, OCSP,\n"
              "ALPN, tickets, 0-RTT and HSTS were not probed (mica reads them over TLS 1.3)\n",
              f);
    } else {
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
            fprintf(f, "  %zu. %s\n     issuer %s, %s, %s, valid until %s (%lld days)\n", i,
                    c->subject, c->issuer, c->key, c->signature_algorithm, c->not_after,
                    (long long)((c->not_after_s - (int64_t)time(NULL)) / 86400));
        }
        fprintf(f, "  OCSP stapled: %s\n", s->ocsp_stapled ? "yes" : "no");
        fprintf(f, "\nALPN (offered h2, http/1.1): %s\n", s->alpn);
        fprintf(f, "session tickets: %u (lifetime %u s), resumption: %s, 0-RTT: %s\n", s->tickets,
                s->ticket_lifetime, s->resumed ? "yes" : "no",
                s->early_accepted  ? "accepted"
                : s->max_early > 0 ? "offered, not accepted"
                                   : "no");
        if (s->early_accepted) {
            static const char *const how[] = {"not tested",
                                              "ACCEPTED AGAIN (no replay protection)",
                                              "refused: the early data was rejected",
                                              "refused: the ticket was not accepted again",
                                              "refused: the connection was refused",
                                              "could not be told"};
            fprintf(f, "a replayed 0-RTT flight: %s\n", how[s->replay]);
        }
        fprintf(f, "HSTS: %s\n",
                s->hsts   ? s->hsts_value
                : s->http ? "none"
                          : "not HTTP (not checked)");
    }
    fprintf(f, "\nfindings\n");
    for (size_t i = 0; i < s->findings_n; i++) {
        fprintf(f, "  [%s] %s\n         fix: %s\n", s->findings[i].severity, s->findings[i].title,
                s->findings[i].fix);
    }
    if (s->findings_n == 0) {
        fputs("  none\n", f);
    }
    fprintf(f, "\ngrade: %s", grade(s));
    if (worst(s) > 0) {
        fputs(", because of:", f);
        for (size_t i = 0; i < s->findings_n; i++) {
            if (severity_rank(s->findings[i].severity) == worst(s)) {
                fprintf(f, "\n  - %s", s->findings[i].title);
            }
        }
    } else {
        fputs(" (no findings)", f);
    }
    fputc('\n', f);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mica scan [options] HOST[:PORT]\n"
               "\n"
               "Probe a TLS server and grade its configuration: protocol versions (SSL 3.0 to\n"
               "TLS 1.3; legacy versions with hand-built ClientHellos, no legacy handshake),\n"
               "TLS 1.3 and TLS 1.2 cipher suites in the server's order, key exchange groups\n"
               "(and which it asks for with a HelloRetryRequest), signature schemes, the\n"
               "certificate verified as mica client does, OCSP stapling, ALPN, session\n"
               "tickets, resumption, 0-RTT and whether a replayed 0-RTT flight is accepted\n"
               "again, the TLS 1.3 downgrade sentinel and HSTS. Each finding has a severity\n"
               "and a one-sentence fix. The grade follows from the worst finding (none: A+,\n"
               "low: A, medium: B, high: C, critical: F), and names the findings behind it.\n"
               "Each probe is its own connection, bounded by --timeout; a healthy server is\n"
               "scanned in seconds. On a terminal, a progress line shows what is probed.\n"
               "\n"
               "options:\n"
               "  --servername NAME  the name for SNI and the certificate (default: HOST)\n"
               "  --cafile FILE      verify the certificate against FILE instead of the system\n"
               "                     trust store\n"
               "  --timeout SEC      give up a probe after SEC seconds, connect included\n"
               "                     (default 5)\n"
               "  --parallel N       run up to N probes at once (1 to 16, default 4); 1 for a\n"
               "                     server that limits connections per client\n"
               "  --json             the result as one JSON document on standard output\n"
               "  --help             this text\n"
               "\n"
               "exit status: 0 scanned, 1 the server could not be reached, 2 usage.\n");
}

int cmd_scan(int argc, char **argv)
{
    static struct scan_opts o;
    static struct scan s;
    const char *timeout = NULL, *parallel = NULL;

    memset(&o, 0, sizeof o);
    o.timeout_ms = 5000;
    o.parallel = 4;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TOOL_EXIT_OK;
        }
        if ((r = tool_opt_value(argc, argv, &i, "--servername", PREFIX, &o.servername)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--cafile", PREFIX, &o.cafile)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--timeout", PREFIX, &timeout)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--parallel", PREFIX, &parallel)) != 0) {
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
    if (parallel != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(parallel, &end, 10);
        if (end == parallel || *end != '\0' || n < 1 || n > 16) {
            fprintf(stderr, PREFIX ": --parallel '%s': give a number from 1 to 16\n", parallel);
            return TOOL_EXIT_USAGE;
        }
        o.parallel = (unsigned)n;
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
    memset(&s, 0, sizeof s);
    s.o = &o;
    pthread_mutex_init(&s.lock, NULL);
    {
        int fd = tcp_open(&o, now_ms() + o.timeout_ms);
        if (fd < 0) {
            fprintf(stderr, PREFIX ": cannot connect to %s: %s\n", o.target, strerror(errno));
            pthread_mutex_destroy(&s.lock);
            return TOOL_EXIT_FAIL;
        }
        close(fd);
    }
    scan_all(&s);
    judge(&s);
    if (o.progress) {
        fputs("\r\033[K", stderr);
    }
    if (o.json) {
        print_json(&s, stdout);
    } else {
        print_text(&s, stdout);
    }
    pthread_mutex_destroy(&s.lock);
    return TOOL_EXIT_OK;
}
