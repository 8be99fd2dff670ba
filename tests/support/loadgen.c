/*
 * loadgen: many TLS 1.3 clients from one poll() loop, and the misbehaving peers of the
 * robustness tests of `mica server` (tests/load/). It links only libmica's public API:
 * mica_io over non-blocking sockets for TLS clients, mica_conn (sans-I/O) to make a
 * ClientHello to send by hand.
 *
 *   loadgen hold HOST PORT -n N -a ACTIVE -t SECONDS [--pid PID]
 *       N connections at once, ACTIVE of them echoing messages for SECONDS while the
 *       rest stay idle, then one more echo on every connection (all must still live).
 *       Prints the server's VmRSS (of PID) before, with all connected, and after.
 *   loadgen handshakes HOST PORT -n TOTAL [-c CONC] [--sample K] [--pid PID]
 *           [--max-seconds S]
 *       TOTAL connections, CONC at a time: handshake, one echo, close_notify both
 *       ways. Every K handshakes: "sample hs=... rss_kb=... hs_per_s=...". After S
 *       seconds no new one starts (those under way finish).
 *   loadgen slow HOST PORT -n N --kind silent|dribble [--interval-ms MS] [--wait S]
 *       N plain TCP connections that send nothing, or a ClientHello one byte every MS
 *       (1000 by default) each; meanwhile a normal client is timed. Reports when the
 *       server closed each (it must, within --wait S).
 *   loadgen idle HOST PORT -n N [--wait S]
 *       N established TLS connections that say nothing, and one that echoes a byte
 *       every 300 ms: reports when the server closed the idle ones (close_notify) and
 *       checks that the busy one still echoes.
 *   loadgen fault HOST PORT --kind KIND [-n N] [--http PATH] [--out FILE] [--bytes B]
 *       partial-ch: half a ClientHello, then close. after-ch: a whole ClientHello, then
 *       close without reading. halfclose: a request, then shutdown(SHUT_WR) with no
 *       close_notify; the answer must still come. reset: a large echo not read, then a
 *       close with SO_LINGER 0 (a TCP reset). slowread: a 4 KiB receive buffer, and
 *       the answer (an echo of B bytes, or GET PATH with --http) read 2 KiB per ms;
 *       with --out the body is written to FILE.
 *   loadgen echo HOST PORT [--http PATH]
 *       one normal client: handshake, an echo (or GET PATH), close; prints its time.
 *
 * Common options: --cafile FILE (verify the server as "localhost"; without it the
 * server is not verified), --groups LIST. Exit 0 when every check held, 1 otherwise
 * (with a line saying why), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mica/io.h>
#include <mica/mica.h>

#define MSG_MAX 1024
#define NAME "localhost"

struct opts {
    const char *mode, *host, *port, *cafile, *groups, *kind, *http, *out;
    long n, active, seconds, conc, sample, pid, interval_ms, wait_s, bytes, msg, max_seconds;
};

static struct opts o = {.n = 1,
                        .conc = 64,
                        .sample = 10000,
                        .pid = 0,
                        .interval_ms = 1000,
                        .wait_s = 10,
                        .bytes = 1 << 20,
                        .msg = 256};
static mica_config *cfg;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* VmRSS of pid in KiB (-1 when unknown) */
static long rss_kb(long pid)
{
    char path[64], line[256];
    long kb = -1;
    if (pid <= 0) {
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kb;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A TCP socket to HOST:PORT (IPv4 literal), connecting; non-blocking unless blocking.
 * rcvbuf > 0: that SO_RCVBUF, set before connect so the window is small from the start. */
static int tcp_connect(bool blocking, int rcvbuf)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(o.port));
    if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "loadgen: %s is not an IPv4 address\n", o.host);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0) {
        return -1;
    }
    if (rcvbuf > 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* the byte at offset x of the slow reader's echo stream */
static unsigned char pattern(size_t x)
{
    return (unsigned char)(x * 7 + x / 251);
}

static void fill_msg(unsigned char *m, size_t len, size_t id, unsigned round)
{
    for (size_t i = 0; i < len; i++) {
        m[i] = (unsigned char)(id * 131 + i * 7 + round * 13);
    }
}

/* ---- many TLS clients on one poll() loop ------------------------------------------- */

enum cstate { C_CONNECT, C_HS, C_WRITE, C_READ, C_IDLE, C_CLOSE, C_DRAIN, C_DONE };

struct lc {
    mica_io *io;
    int fd;
    enum cstate st;
    short events;
    unsigned round;
    size_t off, got;
    size_t id;
    int64_t t_open, t_est, t_closed; /* connect, handshake done, the server closed it */
    bool closed_by_server;
};

struct loop {
    struct lc *c;
    size_t n;
    struct pollfd *pfd;
    size_t *map;
    size_t failed;
    char first_error[300];
    size_t rounds; /* echoes completed and checked */
    void (*on_est)(struct loop *, struct lc *);
    void (*on_round)(struct loop *, struct lc *);
    void (*on_done)(struct loop *, struct lc *);
};

static void lc_fail(struct loop *l, struct lc *c, const char *what, mica_err err)
{
    if (l->failed++ == 0) {
        snprintf(l->first_error, sizeof l->first_error, "connection %zu: %s: %s (%s)", c->id, what,
                 c->io != NULL ? mica_io_error_sentence(c->io) : strerror(errno),
                 mica_err_name(err));
    }
    if (c->io != NULL) {
        mica_io_free(c->io);
    } else if (c->fd >= 0) {
        close(c->fd);
    }
    c->io = NULL;
    c->fd = -1;
    c->st = C_DONE;
    c->events = 0;
}

static bool lc_wait(struct lc *c, mica_err err)
{
    if (err == MICA_WANT_READ) {
        c->events = POLLIN;
        return true;
    }
    if (err == MICA_WANT_WRITE) {
        c->events = POLLOUT;
        return true;
    }
    return false;
}

static void lc_open(struct loop *l, struct lc *c)
{
    (void)l;
    c->io = NULL;
    c->t_open = now_ms();
    c->t_est = c->t_closed = 0;
    c->closed_by_server = false;
    c->round = 0;
    c->fd = tcp_connect(false, 0);
    if (c->fd < 0) {
        lc_fail(l, c, "connect", MICA_E_IO);
        return;
    }
    c->st = C_CONNECT;
    c->events = POLLOUT;
}

static void lc_start_round(struct lc *c)
{
    c->st = C_WRITE;
    c->off = c->got = 0;
    c->events = POLLOUT;
}

static void lc_start_close(struct lc *c)
{
    c->st = C_CLOSE;
    c->events = POLLOUT;
}

/* Advance c until it waits; callbacks decide what follows a handshake and an echo. */
static void lc_step(struct loop *l, struct lc *c)
{
    unsigned char msg[MSG_MAX], got[MSG_MAX];
    size_t mlen = (size_t)o.msg;
    for (;;) {
        mica_err err;
        size_t n = 0;
        switch (c->st) {
        case C_CONNECT: {
            int e = 0;
            socklen_t el = sizeof e;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
                errno = e;
                lc_fail(l, c, "connect", MICA_E_IO);
                return;
            }
            err = mica_io_wrap(cfg, c->fd, 0, NAME, &c->io);
            if (err == MICA_OK) {
                err = mica_io_set_nonblocking(c->io, 1);
            }
            if (err != MICA_OK) {
                lc_fail(l, c, "mica_io_wrap", err);
                return;
            }
            c->st = C_HS;
            break;
        }
        case C_HS:
            err = mica_io_handshake(c->io);
            if (err != MICA_OK) {
                if (!lc_wait(c, err)) {
                    lc_fail(l, c, "handshake", err);
                }
                return;
            }
            c->t_est = now_ms();
            /* one read at once, as a client waiting for data does: mica_io may hold the
             * client's Finished until the first read or write, and without it the
             * server's handshake never ends */
            err = mica_io_read(c->io, got, sizeof got, &n);
            if (err != MICA_WANT_READ && err != MICA_WANT_WRITE) {
                lc_fail(l, c, "the first read after the handshake", err);
                return;
            }
            c->st = C_IDLE;
            c->events = err == MICA_WANT_WRITE ? POLLOUT : POLLIN;
            l->on_est(l, c);
            if (c->st == C_IDLE) {
                return;
            }
            break;
        case C_WRITE:
            fill_msg(msg, mlen, c->id, c->round);
            err = mica_io_write(c->io, msg + c->off, mlen - c->off, &n);
            if (err != MICA_OK) {
                if (!lc_wait(c, err)) {
                    lc_fail(l, c, "write", err);
                }
                return;
            }
            c->off += n;
            if (c->off == mlen) {
                c->st = C_READ;
            }
            break;
        case C_READ:
            err = mica_io_read(c->io, got, mlen - c->got, &n);
            if (err != MICA_OK) {
                if (!lc_wait(c, err)) {
                    lc_fail(l, c, "read the echo", err);
                }
                return;
            }
            if (n == 0) {
                lc_fail(l, c, "read the echo: the server closed", MICA_E_CLOSED);
                return;
            }
            fill_msg(msg, mlen, c->id, c->round);
            if (memcmp(got, msg + c->got, n) != 0) {
                lc_fail(l, c, "the echo differs from what was sent", MICA_E_INTERNAL);
                return;
            }
            c->got += n;
            if (c->got == mlen) {
                c->round++;
                l->rounds++;
                c->st = C_IDLE;
                c->events = POLLIN;
                l->on_round(l, c);
                if (c->st == C_IDLE) {
                    return;
                }
            }
            break;
        case C_IDLE:
            /* session tickets, or the server's close_notify */
            err = mica_io_read(c->io, got, sizeof got, &n);
            if (err != MICA_OK) {
                if (!lc_wait(c, err)) {
                    lc_fail(l, c, "read while idle", err);
                }
                return;
            }
            if (n > 0) {
                lc_fail(l, c, "unexpected data while idle", MICA_E_INTERNAL);
                return;
            }
            c->closed_by_server = true;
            c->t_closed = now_ms();
            lc_start_close(c);
            break;
        case C_CLOSE:
            err = mica_io_close(c->io);
            if (err != MICA_OK) {
                if (!lc_wait(c, err)) {
                    lc_fail(l, c, "close", err);
                }
                return;
            }
            c->st = c->closed_by_server ? C_DONE : C_DRAIN;
            if (c->st == C_DONE) {
                mica_io_free(c->io);
                c->io = NULL;
                c->fd = -1;
                c->events = 0;
                l->on_done(l, c);
                return;
            }
            break;
        case C_DRAIN: /* until the server's close_notify */
            err = mica_io_read(c->io, got, sizeof got, &n);
            if (err != MICA_OK && lc_wait(c, err)) {
                return;
            }
            if (err == MICA_OK && n > 0) {
                break;
            }
            mica_io_free(c->io); /* close_notify, or a reset after it: done either way */
            c->io = NULL;
            c->fd = -1;
            c->st = C_DONE;
            c->events = 0;
            l->on_done(l, c);
            return;
        case C_DONE: return;
        }
    }
}

/* One poll() round over every live connection; timeout_ms: poll's. */
static void loop_once(struct loop *l, int timeout_ms)
{
    size_t np = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct lc *c = &l->c[i];
        if (c->st == C_DONE || c->events == 0) {
            continue;
        }
        int fd = c->io != NULL ? mica_io_fd(c->io) : c->fd;
        l->pfd[np] = (struct pollfd){.fd = fd, .events = c->events};
        l->map[np++] = i;
    }
    int r = poll(l->pfd, (nfds_t)np, timeout_ms);
    if (r <= 0) {
        return;
    }
    for (size_t k = 0; k < np; k++) {
        if (l->pfd[k].revents != 0) {
            lc_step(l, &l->c[l->map[k]]);
        }
    }
}

static void loop_init(struct loop *l, size_t n)
{
    memset(l, 0, sizeof *l);
    l->n = n;
    l->c = calloc(n, sizeof *l->c);
    l->pfd = calloc(n, sizeof *l->pfd);
    l->map = calloc(n, sizeof *l->map);
    if (l->c == NULL || l->pfd == NULL || l->map == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        l->c[i].id = i;
        l->c[i].fd = -1;
        l->c[i].st = C_DONE;
    }
}

static void loop_free(struct loop *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->c[i].io != NULL) {
            mica_io_free(l->c[i].io);
        } else if (l->c[i].fd >= 0) {
            close(l->c[i].fd);
        }
    }
    free(l->c);
    free(l->pfd);
    free(l->map);
}

static size_t count_state(const struct loop *l, enum cstate st)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        k += l->c[i].st == st;
    }
    return k;
}

static void nothing(struct loop *l, struct lc *c)
{
    (void)l;
    (void)c;
}

/* ---- hold: N at once, ACTIVE of them busy ------------------------------------------ */

static bool hold_busy; /* phase 2: active connections echo again and again */

/* hold: an idle connection is left out of poll() until the last phase (what the server
 * sends it meanwhile, session tickets, waits in its socket), so that 10,000 of them do
 * not make every poll() of the load generator scan 10,000 sockets */
static void hold_est(struct loop *l, struct lc *c)
{
    (void)l;
    if (c->events == POLLIN) { /* (POLLOUT: its Finished is not out yet) */
        c->events = 0;
    }
}

static void hold_round(struct loop *l, struct lc *c)
{
    (void)l;
    if (hold_busy && (long)c->id < o.active) {
        lc_start_round(c);
    } else {
        c->events = 0;
    }
}

static int run_hold(struct loop *lp)
{
    size_t n = (size_t)o.n;
    loop_init(lp, n);
    lp->on_est = hold_est;
    lp->on_round = hold_round;
    lp->on_done = nothing;

    long rss0 = rss_kb(o.pid);
    int64_t t0 = now_ms(), deadline = t0 + 150000;
    size_t opened = 0;
    /* phase 1: connect all, at most CONC handshaking at once */
    for (;;) {
        size_t est = count_state(lp, C_IDLE);
        size_t pending = opened - est - lp->failed;
        while (opened < n && pending < (size_t)o.conc) {
            lc_open(lp, &lp->c[opened++]);
            pending++;
        }
        if (est + lp->failed == n || now_ms() > deadline) {
            break;
        }
        loop_once(lp, 100);
    }
    size_t est = count_state(lp, C_IDLE);
    int64_t t1 = now_ms();
    printf("established %zu of %zu in %.1f s (%.0f handshakes/s)\n", est, n,
           (double)(t1 - t0) / 1000.0, (double)est * 1000.0 / (double)(t1 - t0 + 1));
    if (est != n) {
        printf("FAIL: %zu connections failed: %s\n", n - est, lp->first_error);
        return 1;
    }
    size_t lib_cur = 0, lib_sum = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        mica_conn_memory(mica_io_conn(lp->c[i].io), &lib_cur, &peak);
        lib_sum += lib_cur;
    }
    sleep_ms(500); /* let the server settle (its last session tickets are sent) */
    long rss1 = rss_kb(o.pid);
    /* phase 2: the active ones echo for SECONDS */
    hold_busy = true;
    for (size_t i = 0; i < (size_t)o.active && i < n; i++) {
        lc_start_round(&lp->c[i]);
    }
    int64_t end = now_ms() + o.seconds * 1000;
    while (now_ms() < end && lp->failed == 0) {
        loop_once(lp, 100);
    }
    hold_busy = false;
    while (count_state(lp, C_IDLE) + lp->failed < n && now_ms() < end + 30000) {
        loop_once(lp, 100);
    }
    size_t busy_rounds = lp->rounds;
    long rss2 = rss_kb(o.pid);
    /* phase 3: every connection, idle ones too, still echoes (after what waits for it) */
    for (size_t i = 0; i < n; i++) {
        if (lp->c[i].st == C_IDLE) {
            lc_start_round(&lp->c[i]);
        }
    }
    end = now_ms() + 60000;
    while (lp->rounds < busy_rounds + n && lp->failed == 0 && now_ms() < end) {
        loop_once(lp, 100);
    }
    size_t live = lp->rounds - busy_rounds;
    /* phase 4: close_notify on all */
    for (size_t i = 0; i < n; i++) {
        if (lp->c[i].st == C_IDLE) {
            lc_start_close(&lp->c[i]);
        }
    }
    end = now_ms() + 30000;
    while (count_state(lp, C_DONE) < n && now_ms() < end) {
        loop_once(lp, 100);
    }
    printf("echoes %zu during %ld s by %ld active connections (%.0f/s)\n", busy_rounds, o.seconds,
           o.active, (double)busy_rounds / (double)(o.seconds > 0 ? o.seconds : 1));
    printf("client library bytes per idle connection: %zu\n", lib_sum / n);
    printf("rss_kb before=%ld connected=%ld after=%ld\n", rss0, rss1, rss2);
    if (rss0 > 0 && rss1 > 0) {
        printf("rss_bytes_per_conn connected=%ld after=%ld\n", (rss1 - rss0) * 1024 / (long)n,
               (rss2 - rss0) * 1024 / (long)n);
    }
    printf("live at the end: %zu of %zu\n", live, n);
    if (lp->failed > 0 || live != n) {
        printf("FAIL: %zu connections failed: %s\n", lp->failed, lp->first_error);
        return 1;
    }
    return 0;
}

/* ---- handshakes: TOTAL in a row, CONC at a time ------------------------------------ */

static size_t hs_started, hs_done;
static int64_t hs_t0, hs_tlast;

static void hs_est(struct loop *l, struct lc *c)
{
    (void)l;
    lc_start_round(c);
}

static void hs_round(struct loop *l, struct lc *c)
{
    (void)l;
    lc_start_close(c);
}

static void hs_done_cb(struct loop *l, struct lc *c)
{
    hs_done++;
    if (o.sample > 0 && hs_done % (size_t)o.sample == 0) {
        int64_t t = now_ms();
        printf("sample hs=%zu rss_kb=%ld hs_per_s=%.0f\n", hs_done, rss_kb(o.pid),
               (double)o.sample * 1000.0 / (double)(t - hs_tlast + 1));
        fflush(stdout);
        hs_tlast = t;
    }
    bool over = o.max_seconds > 0 && now_ms() - hs_t0 > o.max_seconds * 1000;
    if (hs_started < (size_t)o.n && !over) {
        hs_started++;
        lc_open(l, c);
    }
}

static int run_handshakes(struct loop *lp)
{
    size_t conc = (size_t)(o.conc < o.n ? o.conc : o.n);
    loop_init(lp, conc);
    lp->on_est = hs_est;
    lp->on_round = hs_round;
    lp->on_done = hs_done_cb;
    hs_t0 = hs_tlast = now_ms();
    printf("sample hs=0 rss_kb=%ld\n", rss_kb(o.pid));
    for (size_t i = 0; i < conc; i++) {
        hs_started++;
        lc_open(lp, &lp->c[i]);
    }
    int64_t idle_since = now_ms();
    size_t last = 0;
    while (hs_done + lp->failed < hs_started) {
        loop_once(lp, 100);
        if (lp->failed > 0) {
            break;
        }
        if (hs_done != last) {
            last = hs_done;
            idle_since = now_ms();
        } else if (now_ms() - idle_since > 10000) {
            printf("FAIL: no handshake completed for 10 s (%zu done)\n", hs_done);
            return 1;
        }
    }
    int64_t t = now_ms();
    printf("handshakes %zu in %.1f s: %.0f/s\n", hs_done, (double)(t - hs_t0) / 1000.0,
           (double)hs_done * 1000.0 / (double)(t - hs_t0 + 1));
    if (lp->failed > 0) {
        printf("FAIL: %zu failed: %s\n", lp->failed, lp->first_error);
        return 1;
    }
    return 0;
}

/* ---- one normal client (blocking, with a time limit) --------------------------------- */

/* Handshake, send req, read the answer until want bytes (echo) or the end (http), close.
 * 0 when it worked; the answer is in ans (up to cap). */
static int normal_client(const unsigned char *req, size_t req_len, size_t want, char *ans,
                         size_t cap, size_t *ans_len, char *why, size_t why_cap)
{
    int fd = tcp_connect(true, 0);
    struct timeval tv = {.tv_sec = 5};
    mica_io *io = NULL;
    mica_err err;
    size_t n = 0, got = 0;

    if (fd < 0) {
        snprintf(why, why_cap, "connect: %s", strerror(errno));
        return 1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if ((err = mica_io_wrap(cfg, fd, 0, NAME, &io)) != MICA_OK) {
        close(fd);
        snprintf(why, why_cap, "mica_io_wrap: %s", mica_err_name(err));
        return 1;
    }
    if ((err = mica_io_handshake(io)) != MICA_OK ||
        (err = mica_io_write(io, req, req_len, &n)) != MICA_OK) {
        snprintf(why, why_cap, "%s: %s", mica_err_name(err), mica_io_error_sentence(io));
        mica_io_free(io);
        return 1;
    }
    while (want == 0 || got < want) { /* to the end; what does not fit in ans is dropped */
        unsigned char rest[16384];
        bool full = got == cap;
        err = mica_io_read(io, full ? rest : (unsigned char *)ans + got,
                           full ? sizeof rest : cap - got, &n);
        if (err != MICA_OK) {
            snprintf(why, why_cap, "read: %s: %s", mica_err_name(err), mica_io_error_sentence(io));
            mica_io_free(io);
            return 1;
        }
        if (n == 0) {
            break;
        }
        got += full ? 0 : n;
    }
    *ans_len = got;
    (void)mica_io_close(io);
    mica_io_free(io);
    return 0;
}

/* One echo (or GET PATH); prints its time. */
static int run_echo(void)
{
    char req[512], ans[8192], why[300];
    size_t ans_len = 0;
    int64_t t0 = now_ms();
    int r;
    if (o.http != NULL) {
        int k = snprintf(req, sizeof req,
                         "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: "
                         "close\r\n\r\n",
                         o.http);
        r = normal_client((unsigned char *)req, (size_t)k, 0, ans, sizeof ans - 1, &ans_len, why,
                          sizeof why);
        if (r == 0 && (ans_len < 12 || memcmp(ans, "HTTP/1.1 200", 12) != 0)) {
            snprintf(why, sizeof why, "the answer is not 200 OK");
            r = 1;
        }
    } else {
        static const char hello[] = "hello, mica server";
        r = normal_client((const unsigned char *)hello, sizeof hello - 1, sizeof hello - 1, ans,
                          sizeof ans, &ans_len, why, sizeof why);
        if (r == 0 && (ans_len != sizeof hello - 1 || memcmp(ans, hello, ans_len) != 0)) {
            snprintf(why, sizeof why, "the echo differs");
            r = 1;
        }
    }
    if (r != 0) {
        printf("FAIL: normal client: %s\n", why);
        return 1;
    }
    printf("normal client ok in %lld ms\n", (long long)(now_ms() - t0));
    return 0;
}

/* ---- slow: connections that send nothing, or dribble a ClientHello -------------------- */

/* A ClientHello as the engine makes it (sans-I/O): *len bytes in out. */
static size_t client_hello(unsigned char *out, size_t cap)
{
    mica_conn *c = NULL;
    const uint8_t *p = NULL;
    size_t len = 0;
    if (mica_conn_new_client(cfg, NAME, &c) != MICA_OK ||
        mica_conn_pending(c, &p, &len) != MICA_OK || len == 0 || len > cap) {
        fprintf(stderr, "loadgen: cannot make a ClientHello\n");
        exit(1);
    }
    memcpy(out, p, len);
    mica_conn_free(c);
    return len;
}

static int run_slow(void)
{
    size_t n = (size_t)o.n;
    unsigned char ch[4096];
    size_t ch_len = client_hello(ch, sizeof ch);
    bool dribble = strcmp(o.kind, "dribble") == 0;
    int *fd = calloc(n, sizeof *fd);
    size_t *sent = calloc(n, sizeof *sent);
    int64_t *t_open = calloc(n, sizeof *t_open), *t_closed = calloc(n, sizeof *t_closed);
    if (fd == NULL || sent == NULL || t_open == NULL || t_closed == NULL) {
        return 1;
    }
    if (!dribble && strcmp(o.kind, "silent") != 0) {
        fprintf(stderr, "loadgen: slow --kind silent|dribble\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        fd[i] = tcp_connect(false, 0);
        t_open[i] = now_ms();
        if (fd[i] < 0) {
            printf("FAIL: connect %zu: %s\n", i, strerror(errno));
            return 1;
        }
    }
    printf("opened %zu %s connections\n", n, o.kind);
    fflush(stdout);
    int64_t start = now_ms(), next_byte = start, deadline = start + o.wait_s * 1000;
    bool normal_done = false;
    int rc = 0;
    size_t open_n = n;
    while (open_n > 0 && now_ms() < deadline) {
        if (!normal_done && now_ms() >= start + 300) {
            /* a normal client while the slow ones hold their connections */
            rc |= run_echo();
            fflush(stdout);
            normal_done = true;
        }
        if (dribble && now_ms() >= next_byte) {
            for (size_t i = 0; i < n; i++) {
                if (t_closed[i] == 0 && sent[i] < ch_len &&
                    send(fd[i], ch + sent[i], 1, MSG_NOSIGNAL) == 1) {
                    sent[i]++;
                }
            }
            next_byte += o.interval_ms;
        }
        /* which ones the server closed: readable with EOF or an error */
        for (size_t i = 0; i < n; i++) {
            if (t_closed[i] != 0) {
                continue;
            }
            unsigned char b[4096];
            ssize_t r = recv(fd[i], b, sizeof b, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                t_closed[i] = now_ms();
                close(fd[i]);
                open_n--;
            }
        }
        sleep_ms(20);
    }
    int64_t lo = -1, hi = -1;
    size_t most = 0;
    for (size_t i = 0; i < n; i++) {
        if (t_closed[i] == 0) {
            close(fd[i]);
            continue;
        }
        int64_t d = t_closed[i] - t_open[i];
        lo = lo < 0 || d < lo ? d : lo;
        hi = d > hi ? d : hi;
        most = sent[i] > most ? sent[i] : most;
    }
    printf("closed by the server: %zu of %zu, after %.2f to %.2f s (ClientHello bytes sent: "
           "at most %zu of %zu)\n",
           n - open_n, n, (double)lo / 1000.0, (double)hi / 1000.0, most, ch_len);
    if (open_n > 0) {
        printf("FAIL: %zu connections still open after %ld s\n", open_n, o.wait_s);
        rc = 1;
    }
    free(fd);
    free(sent);
    free(t_open);
    free(t_closed);
    return rc;
}

/* ---- idle: established connections that say nothing ---------------------------------- */

static void idle_round(struct loop *l, struct lc *c)
{
    (void)l;
    (void)c; /* the busy connection echoes again on the timer, not at once */
}

static int run_idle(struct loop *lp)
{
    size_t n = (size_t)o.n + 1; /* the last one is busy */
    loop_init(lp, n);
    lp->on_est = nothing;
    lp->on_round = idle_round;
    lp->on_done = nothing;
    o.msg = 1;
    for (size_t i = 0; i < n; i++) {
        lc_open(lp, &lp->c[i]);
    }
    int64_t deadline = now_ms() + 20000;
    while (count_state(lp, C_IDLE) + lp->failed < n && now_ms() < deadline) {
        loop_once(lp, 100);
    }
    if (count_state(lp, C_IDLE) != n) {
        printf("FAIL: %zu of %zu connected: %s\n", count_state(lp, C_IDLE), n, lp->first_error);
        return 1;
    }
    printf("established %zu idle connections and 1 busy one\n", n - 1);
    fflush(stdout);
    struct lc *busy = &lp->c[n - 1];
    int64_t next_echo = now_ms();
    size_t busy_before = 0;
    deadline = now_ms() + o.wait_s * 1000;
    /* until every idle one is closed by the server, and at least wait_s / 2 */
    for (;;) {
        size_t closed = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            closed += lp->c[i].closed_by_server;
        }
        int64_t t = now_ms();
        if (t >= deadline || (closed == n - 1 && t >= deadline - o.wait_s * 500)) {
            break;
        }
        if (busy->st == C_IDLE && t >= next_echo) {
            lc_start_round(busy);
            lc_step(lp, busy);
            next_echo = t + 300;
        }
        if (lp->failed > 0) {
            break;
        }
        loop_once(lp, 50);
    }
    int64_t lo = -1, hi = -1;
    size_t closed = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        struct lc *c = &lp->c[i];
        if (!c->closed_by_server) {
            continue;
        }
        closed++;
        int64_t d = c->t_closed - c->t_est;
        lo = lo < 0 || d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    busy_before = lp->rounds;
    bool busy_open = busy->st != C_DONE && !busy->closed_by_server;
    if (busy->st == C_IDLE && !busy->closed_by_server) { /* close it as a client should */
        lc_start_close(busy);
        int64_t end = now_ms() + 5000;
        while (busy->st != C_DONE && now_ms() < end) {
            loop_once(lp, 50);
        }
    }
    printf("idle connections closed by the server (close_notify): %zu of %zu, %.2f to %.2f s "
           "after their handshake\n",
           closed, n - 1, (double)lo / 1000.0, (double)hi / 1000.0);
    printf("busy connection: %zu echoes, %s\n", busy_before, busy_open ? "still open" : "closed");
    int rc = 0;
    if (lp->failed > 0) {
        printf("FAIL: %s\n", lp->first_error);
        rc = 1;
    }
    if (closed != n - 1) {
        printf("FAIL: %zu idle connections still open after %ld s\n", n - 1 - closed, o.wait_s);
        rc = 1;
    }
    if (!busy_open) {
        printf("FAIL: the busy connection was closed\n");
        rc = 1;
    }
    return rc;
}

/* ---- faults --------------------------------------------------------------------------- */

/* A blocking TLS client on a fresh socket; NULL after printing why. */
static mica_io *tls_client(int rcvbuf)
{
    int fd = tcp_connect(true, rcvbuf);
    struct timeval tv = {.tv_sec = 10};
    mica_io *io = NULL;
    mica_err err;
    if (fd < 0) {
        printf("FAIL: connect: %s\n", strerror(errno));
        return NULL;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if ((err = mica_io_wrap(cfg, fd, 0, NAME, &io)) != MICA_OK) {
        close(fd);
        printf("FAIL: mica_io_wrap: %s\n", mica_err_name(err));
        return NULL;
    }
    if ((err = mica_io_handshake(io)) != MICA_OK) {
        printf("FAIL: handshake: %s\n", mica_io_error_sentence(io));
        mica_io_free(io);
        return NULL;
    }
    return io;
}

static size_t http_request(char *req, size_t cap)
{
    int k = snprintf(req, cap, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                     o.http);
    return (size_t)k;
}

static int fault_hello(bool whole)
{
    unsigned char ch[4096];
    size_t ch_len = client_hello(ch, sizeof ch);
    for (long i = 0; i < o.n; i++) {
        int fd = tcp_connect(true, 0);
        size_t len = whole ? ch_len : ch_len / 2;
        if (fd < 0 || send(fd, ch, len, MSG_NOSIGNAL) != (ssize_t)len) {
            printf("FAIL: connect or send: %s\n", strerror(errno));
            return 1;
        }
        if (whole) {
            sleep_ms(100); /* the server answers; nobody reads it */
        }
        close(fd);
    }
    printf("%ld connections closed after %s ClientHello\n", o.n, whole ? "a whole" : "half a");
    return 0;
}

static int fault_halfclose(void)
{
    char req[512];
    unsigned char ans[8192];
    for (long i = 0; i < o.n; i++) {
        mica_io *io = tls_client(0);
        size_t len, n = 0, got = 0;
        mica_err err;
        if (io == NULL) {
            return 1;
        }
        if (o.http != NULL) {
            len = http_request(req, sizeof req);
        } else {
            len = (size_t)snprintf(req, sizeof req, "request %ld, then SHUT_WR", i);
        }
        if (mica_io_write(io, req, len, &n) != MICA_OK || n != len ||
            shutdown(mica_io_fd(io), SHUT_WR) != 0) {
            printf("FAIL: write or shutdown: %s\n", mica_io_error_sentence(io));
            mica_io_free(io);
            return 1;
        }
        for (;;) { /* the whole answer; its first 8 KiB kept */
            unsigned char rest[16384];
            bool full = got == sizeof ans;
            err = mica_io_read(io, full ? rest : ans + got, full ? sizeof rest : sizeof ans - got,
                               &n);
            if (err != MICA_OK || n == 0 || (o.http == NULL && got + n >= len)) {
                got += err == MICA_OK && !full ? n : 0;
                break;
            }
            got += full ? 0 : n;
        }
        mica_io_free(io);
        bool ok = o.http != NULL ? got >= 12 && memcmp(ans, "HTTP/1.1 200", 12) == 0
                                 : got == len && memcmp(ans, req, len) == 0;
        if (!ok) {
            printf("FAIL: after SHUT_WR the answer is %zu bytes%s (%s)\n", got,
                   o.http != NULL ? ", not 200 OK" : ", not the echo",
                   err != MICA_OK ? mica_err_name(err) : "ok");
            return 1;
        }
    }
    printf("%ld half-closed connections answered\n", o.n);
    return 0;
}

static int fault_reset(void)
{
    unsigned char big[16384];
    memset(big, 'r', sizeof big);
    for (long i = 0; i < o.n; i++) {
        mica_io *io = tls_client(4096);
        size_t n = 0, total = 0;
        if (io == NULL) {
            return 1;
        }
        /* more than the socket buffers hold, so the server is mid-write when reset */
        (void)mica_io_set_nonblocking(io, 1);
        int64_t end = now_ms() + 2000;
        while (total < (size_t)o.bytes && now_ms() < end) {
            mica_err err = mica_io_write(io, big, sizeof big, &n);
            if (err == MICA_WANT_WRITE || err == MICA_WANT_READ) {
                sleep_ms(5);
                continue;
            }
            if (err != MICA_OK) {
                break;
            }
            total += n;
        }
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(mica_io_fd(io), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        mica_io_free(io); /* close(2) with linger 0: a RST */
        printf("reset a connection after writing %zu bytes\n", total);
    }
    return 0;
}

static int fault_slowread(void)
{
    char req[512];
    unsigned char buf[2048];
    mica_io *io = tls_client(4096);
    FILE *out = NULL;
    size_t n = 0, got = 0, sent = 0, want = (size_t)o.bytes;
    int64_t t0 = now_ms();
    if (io == NULL) {
        return 1;
    }
    if (o.out != NULL && (out = fopen(o.out, "wb")) == NULL) {
        printf("FAIL: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    (void)mica_io_set_nonblocking(io, 1);
    if (o.http != NULL) {
        size_t len = http_request(req, sizeof req);
        if (mica_io_write(io, req, len, &n) != MICA_OK || n != len) {
            printf("FAIL: write the request: %s\n", mica_io_error_sentence(io));
            return 1;
        }
    }
    /* echo: write B bytes as the window allows; both: read 2 KiB per ms */
    for (;;) {
        mica_err err;
        if (o.http == NULL && sent < want) {
            unsigned char chunk[4096];
            size_t k = want - sent < sizeof chunk ? want - sent : sizeof chunk;
            for (size_t j = 0; j < k; j++) {
                chunk[j] = pattern(sent + j);
            }
            err = mica_io_write(io, chunk, k, &n);
            if (err == MICA_OK) {
                sent += n;
            } else if (err != MICA_WANT_WRITE && err != MICA_WANT_READ) {
                printf("FAIL: write: %s\n", mica_io_error_sentence(io));
                return 1;
            }
        }
        err = mica_io_read(io, buf, sizeof buf, &n);
        if (err == MICA_WANT_READ || err == MICA_WANT_WRITE) {
            if (now_ms() - t0 > 60000) {
                printf("FAIL: stalled after %zu bytes\n", got);
                return 1;
            }
            sleep_ms(1);
            continue;
        }
        if (err != MICA_OK) {
            printf("FAIL: read after %zu bytes: %s\n", got, mica_io_error_sentence(io));
            return 1;
        }
        if (n == 0) {
            break;
        }
        if (out != NULL) {
            fwrite(buf, 1, n, out);
        }
        if (o.http == NULL) {
            for (size_t i = 0; i < n; i++) {
                if (buf[i] != pattern(got + i)) {
                    printf("FAIL: echo byte %zu differs\n", got + i);
                    return 1;
                }
            }
        }
        got += n;
        if (o.http == NULL && got == want) {
            break;
        }
        sleep_ms(1);
    }
    (void)mica_io_set_nonblocking(io, 0);
    (void)mica_io_close(io);
    mica_io_free(io);
    if (out != NULL) {
        fclose(out);
    }
    printf("slow reader got %zu bytes in %.1f s\n", got, (double)(now_ms() - t0) / 1000.0);
    if (o.http == NULL && got != want) {
        printf("FAIL: %zu of %zu echoed bytes\n", got, want);
        return 1;
    }
    return 0;
}

static int run_fault(void)
{
    if (o.kind == NULL) {
        fprintf(stderr, "loadgen: fault needs --kind\n");
        return 2;
    }
    if (strcmp(o.kind, "partial-ch") == 0 || strcmp(o.kind, "after-ch") == 0) {
        return fault_hello(strcmp(o.kind, "after-ch") == 0);
    }
    if (strcmp(o.kind, "halfclose") == 0) {
        return fault_halfclose();
    }
    if (strcmp(o.kind, "reset") == 0) {
        return fault_reset();
    }
    if (strcmp(o.kind, "slowread") == 0) {
        return fault_slowread();
    }
    fprintf(stderr, "loadgen: unknown fault '%s'\n", o.kind);
    return 2;
}

/* ---- main ----------------------------------------------------------------------------- */

static long num(const char *opt, const char *v)
{
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (end == v || *end != '\0' || x < 0) {
        fprintf(stderr, "loadgen: %s '%s' is not a count\n", opt, v);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: loadgen hold|handshakes|slow|idle|fault|echo HOST PORT "
                        "[options] (see tests/support/loadgen.c)\n");
        return 2;
    }
    o.mode = argv[1];
    o.host = argv[2];
    o.port = argv[3];
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            fprintf(stderr, "loadgen: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "-n") == 0) {
            o.n = num(a, v);
        } else if (strcmp(a, "-a") == 0) {
            o.active = num(a, v);
        } else if (strcmp(a, "-t") == 0) {
            o.seconds = num(a, v);
        } else if (strcmp(a, "-c") == 0) {
            o.conc = num(a, v);
        } else if (strcmp(a, "--max-seconds") == 0) {
            o.max_seconds = num(a, v);
        } else if (strcmp(a, "--sample") == 0) {
            o.sample = num(a, v);
        } else if (strcmp(a, "--pid") == 0) {
            o.pid = num(a, v);
        } else if (strcmp(a, "--interval-ms") == 0) {
            o.interval_ms = num(a, v);
        } else if (strcmp(a, "--wait") == 0) {
            o.wait_s = num(a, v);
        } else if (strcmp(a, "--bytes") == 0) {
            o.bytes = num(a, v);
        } else if (strcmp(a, "--msg") == 0) {
            o.msg = num(a, v);
        } else if (strcmp(a, "--cafile") == 0) {
            o.cafile = v;
        } else if (strcmp(a, "--groups") == 0) {
            o.groups = v;
        } else if (strcmp(a, "--kind") == 0) {
            o.kind = v;
        } else if (strcmp(a, "--http") == 0) {
            o.http = v;
        } else if (strcmp(a, "--out") == 0) {
            o.out = v;
        } else {
            fprintf(stderr, "loadgen: unknown option %s\n", a);
            return 2;
        }
    }
    if (o.msg < 1 || o.msg > MSG_MAX || o.n < 1 || o.conc < 1) {
        fprintf(stderr, "loadgen: -n, -c at least 1; --msg 1 to %d\n", MSG_MAX);
        return 2;
    }
    raise_fd_limit();
    cfg = mica_config_new();
    if (cfg == NULL || (o.groups != NULL && mica_config_set_groups(cfg, o.groups) != MICA_OK)) {
        fprintf(stderr, "loadgen: cannot make the client configuration\n");
        return 2;
    }
    if (o.cafile != NULL) {
        if (mica_config_set_ca_file(cfg, o.cafile) != MICA_OK) {
            fprintf(stderr, "loadgen: cannot load %s\n", o.cafile);
            return 2;
        }
    } else {
        mica_config_insecure_no_verify(cfg);
    }
    struct loop lp = {0};
    int rc;
    if (strcmp(o.mode, "hold") == 0) {
        rc = run_hold(&lp);
    } else if (strcmp(o.mode, "handshakes") == 0) {
        rc = run_handshakes(&lp);
    } else if (strcmp(o.mode, "slow") == 0) {
        rc = o.kind == NULL ? 2 : run_slow();
    } else if (strcmp(o.mode, "idle") == 0) {
        rc = run_idle(&lp);
    } else if (strcmp(o.mode, "fault") == 0) {
        rc = run_fault();
    } else if (strcmp(o.mode, "echo") == 0) {
        rc = run_echo();
    } else {
        fprintf(stderr, "loadgen: unknown mode %s\n", o.mode);
        rc = 2;
    }
    if (lp.c != NULL) {
        loop_free(&lp);
    }
    mica_config_free(cfg);
    return rc;
}
