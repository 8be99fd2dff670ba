/*
 * mica-bench-loopback: the client load of bench/loopback.sh. It drives a real TLS 1.3
 * server over 127.0.0.1 with OpenSSL's libssl (a measurement peer, never part of mica)
 * and reads that server's CPU time from the kernel before and after, so that the figure
 * is what the server process spent, whatever it is (mica server, openssl s_server,
 * gnutls-serv, nginx).
 *
 * One connection: TCP connect, the TLS 1.3 handshake offering exactly one group and one
 * cipher suite (and, with --resume, the newest ticket this client process received: a
 * psk_dhe_ke resumption), then "GET PATH HTTP/1.0", the whole answer read until the
 * server closes (its tickets with it), the body's length checked, close_notify, close.
 *
 * Server CPU: the sum over the server's threads of /proc/PID/task/TID/schedstat's first
 * field (the scheduler's on-CPU time, user and system, in ns); /proc/PID/stat's utime +
 * stime (the same account, in clock ticks) is read beside it as a check, and replaces it
 * where schedstat is missing (clock=stat in the output); stat_sys_us is its system part.
 * Read after --warmup untimed connections and again 50 ms after the last timed one has
 * closed.
 *
 *     mica-bench-loopback --port PORT --pid PID [options]     measure
 *     mica-bench-loopback --wait PORT                         wait until PORT accepts (10 s)
 *     mica-bench-loopback --port-free PORT                    exit 0 if 127.0.0.1:PORT binds
 *
 * options:
 *   --cafile FILE      verify the server's certificate against FILE (else no verification)
 *   --servername NAME  SNI and the name checked (default localhost)
 *   --group G          the one group offered, as libssl names it (default x25519)
 *   --suite S          the one TLS 1.3 suite offered (default TLS_AES_128_GCM_SHA256)
 *   --resume           resume every timed connection (each must resume, or the run fails)
 *   --path P           what to GET (default /)
 *   --expect-bytes N   the body must be exactly N bytes
 *   --count N          N timed connections per worker ...
 *   --seconds S        ... or as many as fit in S seconds of wall time (default 1)
 *   --parallel P       P worker processes, each one connection at a time (default 1)
 *   --warmup W         untimed connections first (default 3)
 *
 * Output: one line of key=value pairs (bench/loopback.sh reads it):
 *   conns= resumed= tickets= body_bytes= records= full_records= record_bytes= wall_s=
 *   server_cpu_us= stat_cpu_us= stat_sys_us= us_per_conn= clock= group= suite=
 * records and record_bytes count the application_data records received (their whole
 * length on the wire), full_records those carrying 16 KiB of content, so that the record
 * sizes a server chose can be seen. Any failed
 * connection fails the run (exit 1), with the reason on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct opts {
    uint16_t port;
    long pid;
    const char *cafile;
    char *servername; /* not const: libssl's macros cast to char * */
    char *group;
    const char *suite;
    const char *path;
    bool resume;
    long long expect; /* -1: any length */
    long count;       /* 0: use seconds */
    double seconds;
    long parallel;
    long warmup;
};

/* what one worker did; sent to the parent through a pipe */
struct tally {
    long conns;
    long resumed;
    long failed;
    long long body;
    long long records;
    long long record_bytes;
    long long full_records; /* of 16 KiB of content: 16384 + 1 + 16 bytes after the header */
    long tickets;           /* NewSessionTicket messages received */
};

static char default_name[] = "localhost", default_group[] = "x25519";

static struct opts opt = {
    .servername = default_name,
    .group = default_group,
    .suite = "TLS_AES_128_GCM_SHA256",
    .path = "/",
    .expect = -1,
    .seconds = 1.0,
    .parallel = 1,
    .warmup = 3,
};

static SSL_SESSION *newest; /* the newest ticket of this process (--resume) */
static struct tally *counting;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void ssl_fail(const char *what)
{
    fprintf(stderr, "mica-bench-loopback: %s\n", what);
    ERR_print_errors_fp(stderr);
}

/* ---- the server's CPU, from the kernel ---------------------------------------------- */

/* sched_ns: the sum of the first field of /proc/PID/task/TID/schedstat over its threads */
static bool sched_ns(long pid, unsigned long long *out)
{
    char dir[64], file[96];
    DIR *d;
    struct dirent *e;
    unsigned long long sum = 0;
    bool any = false;

    snprintf(dir, sizeof dir, "/proc/%ld/task", pid);
    d = opendir(dir);
    if (d == NULL) {
        return false;
    }
    while ((e = readdir(d)) != NULL) {
        FILE *f;
        unsigned long long ns;
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0') {
            continue; /* . and .. */
        }
        snprintf(file, sizeof file, "/proc/%ld/task/%ld/schedstat", pid, tid);
        f = fopen(file, "r");
        if (f == NULL) {
            continue; /* the thread ended meanwhile */
        }
        if (fscanf(f, "%llu", &ns) == 1) {
            sum += ns;
            any = true;
        }
        fclose(f);
    }
    closedir(d);
    *out = sum;
    return any;
}

/* stat_ticks: utime and stime of /proc/PID/stat (fields 14 and 15), in clock ticks */
static bool stat_ticks(long pid, unsigned long long *user, unsigned long long *sys)
{
    char file[64], buf[1024];
    FILE *f;
    size_t n;
    char *p;
    unsigned long long ut, st;

    snprintf(file, sizeof file, "/proc/%ld/stat", pid);
    f = fopen(file, "r");
    if (f == NULL) {
        return false;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (p == NULL ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return false;
    }
    *user = ut;
    *sys = st;
    return true;
}

/* ---- one connection ------------------------------------------------------------------ */

static int connect_port(uint16_t port)
{
    struct sockaddr_in a;
    struct timeval tv = {.tv_sec = 10};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* a server that hangs fails the run instead of stopping it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int keep_ticket(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl;
    if (counting != NULL) {
        counting->tickets++;
    }
    if (newest != NULL) {
        SSL_SESSION_free(newest);
    }
    newest = s;
    return 1; /* we keep the reference */
}

/* count the application_data records received (5-byte headers seen by libssl) */
static void on_msg(int write_p, int version, int type, const void *buf, size_t len, SSL *ssl,
                   void *arg)
{
    const unsigned char *h = buf;
    (void)version;
    (void)ssl;
    (void)arg;
    if (write_p == 0 && type == SSL3_RT_HEADER && len == 5 && h[0] == SSL3_RT_APPLICATION_DATA &&
        counting != NULL) {
        counting->records++;
        counting->record_bytes += 5 + ((long long)h[3] << 8 | h[4]);
        counting->full_records += ((long long)h[3] << 8 | h[4]) >= 16384 + 17 ? 1 : 0;
    }
}

static SSL_CTX *make_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set1_groups_list(ctx, opt.group) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, opt.suite) != 1) {
        ssl_fail("cannot set the group or suite");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (opt.cafile != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1) {
            ssl_fail("cannot read --cafile");
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    /* tickets reach us through keep_ticket, never an internal cache */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, keep_ticket);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_msg_callback(ctx, on_msg);
    return ctx;
}

/* body_of: the body's length in an answer of n bytes, or -1 if it is not a 200 */
static long long body_of(const char *head, size_t head_len, long long n)
{
    const char *end;
    if (head_len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || strncmp(head + 8, " 200", 4) != 0) {
        return -1;
    }
    end = memmem(head, head_len, "\r\n\r\n", 4);
    if (end == NULL) {
        return -1;
    }
    return n - (long long)(end + 4 - head);
}

/* one_conn: one connection as described at the top; false (with the reason) on failure */
static bool one_conn(SSL_CTX *ctx, bool resume, struct tally *t)
{
    static char buf[1 << 16];
    static char head[1024];
    char req[512];
    size_t head_len = 0;
    long long total = 0, body;
    SSL *ssl = NULL;
    bool ok = false;
    int fd = connect_port(opt.port), r, rl;

    if (fd < 0) {
        fprintf(stderr, "mica-bench-loopback: connect: %s\n", strerror(errno));
        return false;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        SSL_set_tlsext_host_name(ssl, opt.servername) != 1 ||
        (opt.cafile != NULL && SSL_set1_host(ssl, opt.servername) != 1) ||
        (resume && (newest == NULL || SSL_set_session(ssl, newest) != 1))) {
        ssl_fail("cannot set up the connection");
        goto out;
    }
    if (SSL_connect(ssl) != 1) {
        ssl_fail("handshake failed");
        goto out;
    }
    if (strcmp(SSL_get_cipher_name(ssl), opt.suite) != 0) {
        fprintf(stderr, "mica-bench-loopback: negotiated %s, not %s\n", SSL_get_cipher_name(ssl),
                opt.suite);
        goto out;
    }
    if (resume && !SSL_session_reused(ssl)) {
        fprintf(stderr, "mica-bench-loopback: the server did not resume the session\n");
        goto out;
    }
    rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", opt.path, opt.servername);
    if (rl <= 0 || (size_t)rl >= sizeof req || SSL_write(ssl, req, rl) != rl) {
        ssl_fail("cannot send the request");
        goto out;
    }
    for (;;) {
        r = SSL_read(ssl, buf, sizeof buf);
        if (r <= 0) {
            int e = SSL_get_error(ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN) {
                break;
            }
            ssl_fail("reading the answer failed");
            goto out;
        }
        if (head_len < sizeof head) {
            size_t k = sizeof head - head_len < (size_t)r ? sizeof head - head_len : (size_t)r;
            memcpy(head + head_len, buf, k);
            head_len += k;
        }
        total += r;
    }
    body = body_of(head, head_len, total);
    if (body < 0 || (opt.expect >= 0 && body != opt.expect)) {
        fprintf(stderr, "mica-bench-loopback: GET %s: %lld bytes, body %lld, expected %lld: %.*s\n",
                opt.path, total, body, opt.expect,
                (int)(memchr(head, '\r', head_len) != NULL
                          ? (const char *)memchr(head, '\r', head_len) - head
                          : (long)(head_len < 80 ? head_len : 80)),
                head);
        goto out;
    }
    t->conns++;
    t->resumed += SSL_session_reused(ssl) ? 1 : 0;
    t->body += body;
    ok = true;
    SSL_shutdown(ssl); /* the server closed already: whatever it answers */
out:
    SSL_free(ssl);
    close(fd);
    return ok;
}

/* worker: the timed connections of one process, until the count or the deadline */
static void worker(SSL_CTX *ctx, double deadline, struct tally *t)
{
    long i;
    counting = t;
    for (i = 0; opt.count > 0 ? i < opt.count : now() < deadline; i++) {
        if (!one_conn(ctx, opt.resume, t)) {
            t->failed++;
            return;
        }
    }
}

/* ---- the small helpers of the script -------------------------------------------------- */

static int port_free(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    if (fd < 0) {
        return 1;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0;
    close(fd);
    return ok ? 0 : 1;
}

static int wait_port(uint16_t port)
{
    double end = now() + 10;
    struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
    while (now() < end) {
        int fd = connect_port(port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "mica-bench-loopback: nothing listens on 127.0.0.1:%u after 10 s\n", port);
    return 1;
}

/* ---- the measurement ------------------------------------------------------------------ */

static int measure_with(SSL_CTX *ctx)
{
    struct tally sum = {0}, warm = {0};
    unsigned long long s0 = 0, s1 = 0, u0 = 0, u1 = 0, y0 = 0, y1 = 0, k0, k1;
    double t0, t1, deadline;
    struct timespec settle = {.tv_nsec = 50 * 1000 * 1000};
    long i, w, tick = sysconf(_SC_CLK_TCK);
    int fds[2];
    pid_t kids[64];
    bool bad = false, have_sched;

    /* warm-up: the server's caches, lazy initialisations, and a first ticket */
    counting = &warm;
    for (i = 0; i < (opt.warmup > 0 ? opt.warmup : 1); i++) {
        if (!one_conn(ctx, false, &warm)) {
            return 1;
        }
    }
    if (opt.resume && newest == NULL) {
        fprintf(stderr, "mica-bench-loopback: the server sent no session ticket\n");
        return 1;
    }
    if (pipe(fds) != 0) {
        perror("mica-bench-loopback: pipe");
        return 1;
    }
    nanosleep(&settle, NULL);
    have_sched = sched_ns(opt.pid, &s0);
    if (!stat_ticks(opt.pid, &u0, &y0)) {
        fprintf(stderr, "mica-bench-loopback: cannot read the CPU time of process %ld\n", opt.pid);
        return 1;
    }
    t0 = now();
    deadline = t0 + opt.seconds;
    for (w = 0; w < opt.parallel; w++) {
        kids[w] = fork();
        if (kids[w] < 0) {
            perror("mica-bench-loopback: fork");
            return 1;
        }
        if (kids[w] == 0) {
            struct tally t = {0};
            close(fds[0]);
            worker(ctx, deadline, &t);
            if (write(fds[1], &t, sizeof t) != (ssize_t)sizeof t) {
                _exit(1);
            }
            _exit(0);
        }
    }
    close(fds[1]);
    for (w = 0; w < opt.parallel; w++) {
        struct tally t;
        int st;
        if (read(fds[0], &t, sizeof t) != (ssize_t)sizeof t) {
            bad = true;
        } else {
            sum.conns += t.conns;
            sum.resumed += t.resumed;
            sum.failed += t.failed;
            sum.body += t.body;
            sum.records += t.records;
            sum.record_bytes += t.record_bytes;
            sum.full_records += t.full_records;
            sum.tickets += t.tickets;
        }
        if (waitpid(kids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            bad = true;
        }
    }
    close(fds[0]);
    t1 = now();
    nanosleep(&settle, NULL); /* the server's last close */
    have_sched = have_sched && sched_ns(opt.pid, &s1);
    if (!stat_ticks(opt.pid, &u1, &y1)) {
        fprintf(stderr, "mica-bench-loopback: process %ld is gone\n", opt.pid);
        return 1;
    }
    if (bad || sum.failed > 0 || sum.conns == 0) {
        fprintf(stderr, "mica-bench-loopback: %ld connection(s) failed, %ld succeeded\n",
                sum.failed, sum.conns);
        return 1;
    }
    if (opt.resume && sum.resumed != sum.conns) {
        fprintf(stderr, "mica-bench-loopback: only %ld of %ld resumed\n", sum.resumed, sum.conns);
        return 1;
    }
    k0 = u0 + y0;
    k1 = u1 + y1;
    /* without schedstat (a kernel without CONFIG_SCHED_INFO) the ticks must do */
    if (!have_sched) {
        s0 = k0 * 1000000000ULL / (unsigned long long)tick;
        s1 = k1 * 1000000000ULL / (unsigned long long)tick;
    }
    printf("conns=%ld resumed=%ld tickets=%ld body_bytes=%lld records=%lld full_records=%lld "
           "record_bytes=%lld "
           "wall_s=%.3f "
           "server_cpu_us=%.1f stat_cpu_us=%.0f stat_sys_us=%.0f us_per_conn=%.2f clock=%s "
           "group=%s suite=%s\n",
           sum.conns, sum.resumed, sum.tickets, sum.body, sum.records, sum.full_records,
           sum.record_bytes, t1 - t0, (double)(s1 - s0) / 1e3,
           (double)(k1 - k0) * 1e6 / (double)tick, (double)(y1 - y0) * 1e6 / (double)tick,
           (double)(s1 - s0) / 1e3 / (double)sum.conns, have_sched ? "schedstat" : "stat",
           opt.group, opt.suite);
    return 0;
}

static int measure(void)
{
    SSL_CTX *ctx = make_ctx();
    int rc = ctx != NULL ? measure_with(ctx) : 1;

    SSL_CTX_free(ctx);
    SSL_SESSION_free(newest);
    newest = NULL;
    return rc;
}

/* ---- the command line ------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr, "usage: mica-bench-loopback --port PORT --pid PID [--cafile FILE]\n"
                    "         [--servername NAME] [--group G] [--suite S] [--resume]\n"
                    "         [--path P] [--expect-bytes N] [--count N | --seconds S]\n"
                    "         [--parallel P] [--warmup W]\n"
                    "       mica-bench-loopback --wait PORT\n"
                    "       mica-bench-loopback --port-free PORT\n");
    exit(2);
}

static long long number(const char *s, long long lo, long long hi)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        usage();
    }
    return v;
}

int main(int argc, char **argv)
{
    int i;
    int mode = 0; /* 0 measure, 1 wait, 2 port-free */

    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--resume") == 0) {
            opt.resume = true;
            continue;
        }
        if (v == NULL) {
            usage();
        }
        i++;
        if (strcmp(a, "--port") == 0) {
            opt.port = (uint16_t)number(v, 1, 65535);
        } else if (strcmp(a, "--wait") == 0) {
            opt.port = (uint16_t)number(v, 1, 65535);
            mode = 1;
        } else if (strcmp(a, "--port-free") == 0) {
            opt.port = (uint16_t)number(v, 1, 65535);
            mode = 2;
        } else if (strcmp(a, "--pid") == 0) {
            opt.pid = (long)number(v, 1, 1 << 30);
        } else if (strcmp(a, "--cafile") == 0) {
            opt.cafile = v;
        } else if (strcmp(a, "--servername") == 0) {
            opt.servername = v;
        } else if (strcmp(a, "--group") == 0) {
            opt.group = v;
        } else if (strcmp(a, "--suite") == 0) {
            opt.suite = v;
        } else if (strcmp(a, "--path") == 0) {
            opt.path = v;
        } else if (strcmp(a, "--expect-bytes") == 0) {
            opt.expect = number(v, 0, 1LL << 50);
        } else if (strcmp(a, "--count") == 0) {
            opt.count = (long)number(v, 1, 1 << 30);
        } else if (strcmp(a, "--seconds") == 0) {
            char *end;
            opt.seconds = strtod(v, &end);
            if (*end != '\0' || !(opt.seconds > 0 && opt.seconds <= 600)) {
                usage();
            }
        } else if (strcmp(a, "--parallel") == 0) {
            opt.parallel = (long)number(v, 1, 64);
        } else if (strcmp(a, "--warmup") == 0) {
            opt.warmup = (long)number(v, 0, 1000);
        } else {
            usage();
        }
    }
    if (opt.port == 0) {
        usage();
    }
    if (mode == 1) {
        return wait_port(opt.port);
    }
    if (mode == 2) {
        return port_free(opt.port);
    }
    if (opt.pid == 0) {
        usage();
    }
    return measure();
}
