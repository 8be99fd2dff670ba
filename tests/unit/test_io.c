/*
 * src/io (include/mica/io.h) over real sockets: a socketpair driven non-blocking from one
 * thread, and loopback TCP with a forked blocking peer. Checks the contract of io.h and
 * of the comment atop src/io/fd.c: WANT_READ/WANT_WRITE, partial writes, close_notify as
 * end of stream, a TCP close without it as MICA_E_CLOSED (truncation), the alert of a
 * failed handshake reaching the peer, and connect/listen/accept; TCP_NODELAY, and the
 * client's Finished leaving in one write with the first data (over SOCK_SEQPACKET, where
 * every send() is one message the relay can count).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mica/io.h>
#include <mica/mica.h>

#include "check.h"
#include "vec.h"

static mica_config *server_cfg(void)
{
    mica_config *cfg = mica_config_new();
    char chain[512], key[512];

    snprintf(chain, sizeof(chain), "%s", vec_path("certs/ecdsa-p256.chain.pem"));
    snprintf(key, sizeof(key), "%s", vec_path("certs/ecdsa-p256.key"));
    CHECK(cfg != NULL);
    CHECK_OK(mica_config_add_cert_chain_file(cfg, chain, key));
    return cfg;
}

static mica_config *client_cfg(bool trust)
{
    mica_config *cfg = mica_config_new();

    CHECK(cfg != NULL);
    if (trust) {
        CHECK_OK(mica_config_set_ca_file(cfg, vec_path("certs/ca.pem")));
    }
    return cfg;
}

struct duo {
    mica_io *c, *s;
};

/* A client and a server on the two ends of a non-blocking socketpair. */
static void duo_new(struct duo *d, const mica_config *ccfg, const mica_config *scfg)
{
    int sv[2];

    memset(d, 0, sizeof(*d));
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_OK(mica_io_wrap(ccfg, sv[0], 0, "localhost", &d->c));
    CHECK_OK(mica_io_wrap(scfg, sv[1], 1, NULL, &d->s));
    CHECK_OK(mica_io_set_nonblocking(d->c, 1));
    CHECK_OK(mica_io_set_nonblocking(d->s, 1));
}

static void duo_free(struct duo *d)
{
    mica_io_free(d->c);
    mica_io_free(d->s);
}

static bool want(mica_err err)
{
    return err == MICA_WANT_READ || err == MICA_WANT_WRITE;
}

/* Alternate both handshakes until each is done or failed; the results in *ce, *se. A
 * client that is done is called again while the server is not: that sends the Finished
 * it holds for its first write (io.h). */
static void duo_handshake(struct duo *d, mica_err *ce, mica_err *se)
{
    *ce = *se = MICA_WANT_READ;
    for (int i = 0; i < 100 && (want(*ce) || want(*se)); i++) {
        if (want(*ce) || *ce == MICA_OK) {
            *ce = mica_io_handshake(d->c);
        }
        if (want(*se)) {
            *se = mica_io_handshake(d->s);
        }
    }
}

static void test_nonblocking_roundtrip(const mica_config *ccfg, const mica_config *scfg)
{
    struct duo d;
    mica_err ce, se;
    uint8_t buf[64];
    size_t n = 0;

    duo_new(&d, ccfg, scfg);
    CHECK_ERR(mica_io_read(d.s, buf, sizeof(buf), &n), MICA_WANT_READ); /* no ClientHello yet */
    CHECK(strcmp(mica_io_error_sentence(d.c), "no error") == 0);
    duo_handshake(&d, &ce, &se);
    CHECK_OK(ce);
    CHECK_OK(se);
    CHECK(mica_conn_is_connected(mica_io_conn(d.c)));
    CHECK_OK(mica_io_handshake(d.c)); /* again: nothing to do */

    CHECK_OK(mica_io_write(d.c, "hello", 5, &n));
    CHECK(n == 5);
    CHECK_ERR(mica_io_read(d.s, buf, 0, &n), MICA_E_ARGUMENT);
    CHECK_OK(mica_io_read(d.s, buf, sizeof(buf), &n));
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_ERR(mica_io_read(d.s, buf, sizeof(buf), &n), MICA_WANT_READ);
    CHECK_OK(mica_io_write(d.s, "world!", 6, &n));
    CHECK_OK(mica_io_read(d.c, buf, sizeof(buf), &n));
    CHECK(n == 6 && memcmp(buf, "world!", 6) == 0);

    /* close_notify from the client: data before it, then end of stream (n == 0), twice */
    CHECK_OK(mica_io_write(d.c, "bye", 3, &n));
    CHECK_OK(mica_io_close(d.c));
    CHECK_OK(mica_io_read(d.s, buf, sizeof(buf), &n));
    CHECK(n == 3);
    CHECK_OK(mica_io_read(d.s, buf, sizeof(buf), &n));
    CHECK(n == 0);
    CHECK_OK(mica_io_read(d.s, buf, sizeof(buf), &n));
    CHECK(n == 0);
    /* half-close: the server may still send, then closes too */
    CHECK_OK(mica_io_write(d.s, "late", 4, &n));
    CHECK_OK(mica_io_close(d.s));
    CHECK_OK(mica_io_read(d.c, buf, sizeof(buf), &n));
    CHECK(n == 4 && memcmp(buf, "late", 4) == 0);
    CHECK_OK(mica_io_read(d.c, buf, sizeof(buf), &n));
    CHECK(n == 0);
    duo_free(&d);
}

/* 4 MiB one way through socket buffers far smaller: WANT_WRITE, partial writes, order. */
static void test_nonblocking_bulk(const mica_config *ccfg, const mica_config *scfg)
{
    enum { TOTAL = 4 << 20 };
    struct duo d;
    mica_err ce, se;
    uint8_t *src = malloc(TOTAL), *dst = malloc(TOTAL);
    size_t sent = 0, got = 0;
    int want_write = 0, rounds = 0;

    CHECK(src != NULL && dst != NULL);
    for (size_t i = 0; i < TOTAL; i++) {
        src[i] = (uint8_t)(i * 2654435761u >> 13);
    }
    duo_new(&d, ccfg, scfg);
    duo_handshake(&d, &ce, &se);
    CHECK_OK(ce);
    CHECK_OK(se);
    while (got < TOTAL && rounds++ < 100000) {
        size_t n = 0;
        if (sent < TOTAL) {
            size_t chunk = TOTAL - sent > 100000 ? 100000 : TOTAL - sent;
            mica_err err = mica_io_write(d.c, src + sent, chunk, &n);
            if (err == MICA_WANT_WRITE) {
                want_write++;
            } else {
                CHECK_OK(err);
                sent += n;
            }
        } else {
            mica_err err = mica_io_write(d.c, NULL, 0, &n); /* flush only */
            CHECK(err == MICA_OK || err == MICA_WANT_WRITE);
        }
        mica_err err = mica_io_read(d.s, dst + got, TOTAL - got, &n);
        if (err != MICA_WANT_READ) {
            CHECK_OK(err);
            got += n;
        }
    }
    CHECK(got == TOTAL);
    CHECK(want_write > 0);
    CHECK(memcmp(src, dst, TOTAL) == 0);
    duo_free(&d);
    free(src);
    free(dst);
}

/* The peer ends TCP without close_notify: MICA_E_CLOSED, never a clean EOF. */
static void test_truncation(const mica_config *ccfg, const mica_config *scfg)
{
    struct duo d;
    mica_err ce, se;
    uint8_t buf[16];
    size_t n = 0;

    duo_new(&d, ccfg, scfg);
    duo_handshake(&d, &ce, &se);
    CHECK_OK(ce);
    CHECK_OK(se);
    CHECK_OK(mica_io_write(d.s, "part", 4, &n));
    CHECK(shutdown(mica_io_fd(d.s), SHUT_WR) == 0);
    CHECK_OK(mica_io_read(d.c, buf, sizeof(buf), &n));
    CHECK(n == 4);
    CHECK_ERR(mica_io_read(d.c, buf, sizeof(buf), &n), MICA_E_CLOSED);
    CHECK(n == 0);
    CHECK(strstr(mica_io_error_sentence(d.c), "close_notify") != NULL);
    CHECK_ERR(mica_io_read(d.c, buf, sizeof(buf), &n), MICA_E_CLOSED); /* it sticks */
    duo_free(&d);
}

/* A client that cannot verify the server fails, and its alert reaches the server. */
static void test_alert_flushed(const mica_config *scfg)
{
    mica_config *untrusting = client_cfg(false);
    struct duo d;
    mica_err ce, se;

    CHECK_OK(mica_config_set_ca_file(untrusting, vec_path("certs/ecdsa-p256.crt"))); /* no CA */
    duo_new(&d, untrusting, scfg);
    duo_handshake(&d, &ce, &se);
    CHECK(mica_err_is_fatal(ce));
    CHECK_ERR(se, MICA_E_PEER_ALERT);
    CHECK(strcmp(mica_io_error_sentence(d.c), "no error") != 0);
    duo_free(&d);
    mica_config_free(untrusting);
}

/* A server in a child process, blocking: accept one connection, echo until close_notify,
 * close. Exits 0 when all of that went as the contract says. */
static void echo_child(const mica_config *scfg, int lfd)
{
    mica_io *io = NULL;
    uint8_t buf[4096];
    size_t n = 0, w = 0;

    if (mica_io_accept(scfg, lfd, &io) != MICA_OK || mica_io_handshake(io) != MICA_OK) {
        _exit(1);
    }
    for (;;) {
        if (mica_io_read(io, buf, sizeof(buf), &n) != MICA_OK) {
            _exit(2);
        }
        if (n == 0) {
            break;
        }
        if (mica_io_write(io, buf, n, &w) != MICA_OK || w != n) {
            _exit(3);
        }
    }
    _exit(mica_io_close(io) == MICA_OK ? 0 : 4);
}

static void test_tcp_blocking(const mica_config *ccfg, const mica_config *scfg)
{
    int lfd = -1;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char port[16];
    mica_io *io = NULL;
    uint8_t buf[256];
    size_t n = 0;

    CHECK_OK(mica_io_listen(NULL, "0", &lfd)); /* 127.0.0.1, any free port */
    CHECK(getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
    CHECK(sin.sin_family == AF_INET && sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    snprintf(port, sizeof(port), "%u", (unsigned)ntohs(sin.sin_port));

    /* nobody waiting: a non-blocking listening socket says WANT_READ */
    CHECK(fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK) == 0);
    CHECK_ERR(mica_io_accept(scfg, lfd, &io), MICA_WANT_READ);
    CHECK(io == NULL);
    CHECK(fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK) == 0);

    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        echo_child(scfg, lfd);
    }
    CHECK_OK(mica_io_connect_name(ccfg, "127.0.0.1", port, "localhost", &io));
    {
        int on = 0;
        socklen_t on_len = sizeof(on);
        CHECK(getsockopt(mica_io_fd(io), IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0);
        CHECK_MSG(on != 0, "mica_io_connect did not set TCP_NODELAY");
    }
    CHECK_OK(mica_io_handshake(io));
    for (int round = 0; round < 3; round++) {
        size_t w = 0, got = 0;
        memset(buf, 'a' + round, sizeof(buf));
        CHECK_OK(mica_io_write(io, buf, sizeof(buf), &w)); /* blocking: all of it */
        CHECK(w == sizeof(buf));
        while (got < sizeof(buf)) {
            uint8_t in[256];
            CHECK_OK(mica_io_read(io, in, sizeof(in) - got, &n));
            CHECK(n > 0);
            for (size_t i = 0; i < n; i++) {
                CHECK_MSG(in[i] == 'a' + round, "echo byte %zu of round %d", got + i, round);
            }
            got += n;
            if (n == 0) {
                break;
            }
        }
    }
    CHECK_OK(mica_io_close(io));
    CHECK_OK(mica_io_read(io, buf, sizeof(buf), &n)); /* the server's close_notify */
    CHECK(n == 0);
    mica_io_free(io);

    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "echo child status %d", status);

    /* the listener is gone: connection refused, errno says so */
    close(lfd);
    errno = 0;
    CHECK_ERR(mica_io_connect(ccfg, "127.0.0.1", port, &io), MICA_E_IO);
    CHECK(errno == ECONNREFUSED);
    CHECK(io == NULL);
}

/*
 * The client's Finished and first data in one write. Client and server talk through a
 * relay over two SOCK_SEQPACKET socketpairs: every send() is one message, and the relay
 * counts the client's and the TLS records in each. A client that writes right after its
 * handshake sends two messages in all: the ClientHello, then its Finished with the data.
 */
struct relay {
    struct duo d;
    int c_side, s_side;   /* the relay's ends: towards the client, towards the server */
    int c_msgs;           /* messages from the client */
    int last_app_records; /* application_data records in the client's last message */
    int s_msgs;           /* messages from the server */
    int last_s_records;   /* application_data records in the server's last message */
};

/* the application_data records in one message */
static int app_records(const uint8_t *msg, size_t n)
{
    int records = 0;

    for (size_t off = 0; off + 5 <= n;) {
        records += msg[off] == 23;
        off += 5 + ((size_t)msg[off + 3] << 8 | msg[off + 4]);
    }
    return records;
}

static void relay_new(struct relay *r, const mica_config *ccfg, const mica_config *scfg)
{
    int a[2], b[2];

    memset(r, 0, sizeof(*r));
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, a) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, b) == 0);
    CHECK_OK(mica_io_wrap(ccfg, a[0], 0, "localhost", &r->d.c));
    CHECK_OK(mica_io_wrap(scfg, b[0], 1, NULL, &r->d.s));
    CHECK_OK(mica_io_set_nonblocking(r->d.c, 1));
    CHECK_OK(mica_io_set_nonblocking(r->d.s, 1));
    r->c_side = a[1];
    r->s_side = b[1];
}

static void relay_free(struct relay *r)
{
    duo_free(&r->d);
    close(r->c_side);
    close(r->s_side);
}

/* Move every waiting message across, counting the client's. */
static void relay_pump(struct relay *r)
{
    static uint8_t msg[65536];

    for (;;) {
        ssize_t n = recv(r->c_side, msg, sizeof(msg), MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        r->c_msgs++;
        r->last_app_records = app_records(msg, (size_t)n);
        CHECK(send(r->s_side, msg, (size_t)n, 0) == n);
    }
    for (;;) {
        ssize_t n = recv(r->s_side, msg, sizeof(msg), MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        r->s_msgs++;
        r->last_s_records = app_records(msg, (size_t)n);
        CHECK(send(r->c_side, msg, (size_t)n, 0) == n);
    }
}

/* Drive the client's handshake to MICA_OK (the server's only as far as it gets). */
static void relay_client_handshake(struct relay *r, mica_err *se)
{
    mica_err ce = MICA_WANT_READ;

    *se = MICA_WANT_READ;
    for (int i = 0; i < 100 && want(ce); i++) {
        ce = mica_io_handshake(r->d.c);
        relay_pump(r);
        if (want(*se)) {
            *se = mica_io_handshake(r->d.s);
        }
        relay_pump(r);
    }
    CHECK_OK(ce);
}

static void test_finished_with_data(const mica_config *ccfg, const mica_config *scfg)
{
    struct relay r;
    mica_err se;
    uint8_t buf[64];
    size_t n = 0;

    /* 1. The client writes as soon as its handshake is done. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    CHECK_MSG(r.c_msgs == 1, "the client sent %d messages before its handshake was done", r.c_msgs);
    CHECK(want(se)); /* the server still waits for the Finished */
    CHECK_OK(mica_io_write(r.d.c, "GET / HTTP/1.0\r\n\r\n", 18, &n));
    CHECK(n == 18);
    relay_pump(&r);
    CHECK_MSG(r.c_msgs == 2,
              "the client's Finished and its data took %d writes, not one (%d messages)",
              r.c_msgs - 1, r.c_msgs);
    CHECK_MSG(r.last_app_records >= 2,
              "the client's second write holds %d encrypted records, not its Finished and "
              "the data",
              r.last_app_records);
    CHECK_OK(mica_io_handshake(r.d.s));
    CHECK_OK(mica_io_read(r.d.s, buf, sizeof(buf), &n));
    CHECK(n == 18 && memcmp(buf, "GET / HTTP/1.0\r\n\r\n", 18) == 0);
    relay_free(&r);

    /* 2. The client reads first (the server speaks first): the Finished leaves at once. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    CHECK_ERR(mica_io_read(r.d.c, buf, sizeof(buf), &n), MICA_WANT_READ);
    relay_pump(&r);
    CHECK(r.c_msgs == 2 && r.last_app_records >= 1);
    CHECK_OK(mica_io_handshake(r.d.s));
    CHECK_OK(mica_io_write(r.d.s, "* OK", 4, &n));
    relay_pump(&r);
    CHECK_OK(mica_io_read(r.d.c, buf, sizeof(buf), &n));
    CHECK(n == 4 && memcmp(buf, "* OK", 4) == 0);
    relay_free(&r);

    /* 3. The client closes without writing: Finished and close_notify in one write. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    CHECK_OK(mica_io_close(r.d.c));
    relay_pump(&r);
    CHECK(r.c_msgs == 2 && r.last_app_records >= 2);
    CHECK_OK(mica_io_handshake(r.d.s));
    CHECK_OK(mica_io_read(r.d.s, buf, sizeof(buf), &n));
    CHECK(n == 0); /* end of stream */
    relay_free(&r);

    /* 4. The client is freed without a word: the Finished still reaches the server. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    mica_io_free(r.d.c);
    r.d.c = NULL;
    relay_pump(&r);
    CHECK(r.c_msgs == 2);
    CHECK_OK(mica_io_handshake(r.d.s));
    relay_free(&r);
}

/*
 * A server's tickets and its first answer in one write when the request came with the
 * client's Finished: the server's second message carries both (its first is the flight).
 * A server whose client has sent no data yet sends them as its handshake completes.
 */
static void test_tickets_with_answer(const mica_config *ccfg, const mica_config *scfg)
{
    struct relay r;
    mica_err se;
    uint8_t buf[64];
    size_t n = 0;

    /* 1. The request is there when the handshake ends: tickets and answer together. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    CHECK_OK(mica_io_write(r.d.c, "GET / HTTP/1.0\r\n\r\n", 18, &n));
    relay_pump(&r);
    CHECK(r.s_msgs == 1); /* the server's flight */
    CHECK_OK(mica_io_handshake(r.d.s));
    relay_pump(&r);
    CHECK_MSG(r.s_msgs == 1, "the server sent its tickets alone (%d messages)", r.s_msgs);
    CHECK_OK(mica_io_read(r.d.s, buf, sizeof(buf), &n));
    CHECK(n == 18);
    relay_pump(&r);
    CHECK_MSG(r.s_msgs == 1, "the server sent its tickets when it read (%d messages)", r.s_msgs);
    CHECK_OK(mica_io_write(r.d.s, "HTTP/1.0 200 OK\r\n\r\n", 19, &n));
    relay_pump(&r);
    CHECK_MSG(r.s_msgs == 2 && r.last_s_records >= 3,
              "tickets and answer: %d messages, %d records in the last", r.s_msgs,
              r.last_s_records);
    CHECK_OK(mica_io_read(r.d.c, buf, sizeof(buf), &n));
    CHECK(n == 19 && memcmp(buf, "HTTP/1.0 200 OK\r\n\r\n", 19) == 0);
    relay_free(&r);

    /* 2. No data came with the Finished: the tickets leave as the handshake completes. */
    relay_new(&r, ccfg, scfg);
    relay_client_handshake(&r, &se);
    CHECK_ERR(mica_io_read(r.d.c, buf, sizeof(buf), &n), MICA_WANT_READ); /* sends Finished */
    relay_pump(&r);
    CHECK_OK(mica_io_handshake(r.d.s));
    relay_pump(&r);
    CHECK_MSG(r.s_msgs == 2 && r.last_s_records >= 2,
              "a server with nothing to read: %d messages, %d records in the last", r.s_msgs,
              r.last_s_records);
    CHECK_ERR(mica_io_read(r.d.s, buf, sizeof(buf), &n), MICA_WANT_READ);
    relay_pump(&r);
    CHECK(r.s_msgs == 2);
    relay_free(&r);
}

static void test_arguments(const mica_config *ccfg)
{
    mica_io *io = NULL;
    size_t n = 1;
    int fd = 5;

    CHECK_ERR(mica_io_connect(ccfg, "127.0.0.1", "no-such-service-mica", &io), MICA_E_ARGUMENT);
    CHECK(io == NULL);
    CHECK_ERR(mica_io_listen("127.0.0.1", "no-such-service-mica", &fd), MICA_E_ARGUMENT);
    CHECK(fd == -1);
    CHECK_ERR(mica_io_wrap(ccfg, -1, 0, "localhost", &io), MICA_E_ARGUMENT);
    CHECK_ERR(mica_io_handshake(NULL), MICA_E_ARGUMENT);
    CHECK_ERR(mica_io_read(NULL, &n, 1, &n), MICA_E_ARGUMENT);
    CHECK(n == 0);
    CHECK_ERR(mica_io_close(NULL), MICA_E_ARGUMENT);
    CHECK(mica_io_fd(NULL) == -1);
    CHECK(mica_io_conn(NULL) == NULL);
    mica_io_free(NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    mica_config *scfg = server_cfg();
    mica_config *ccfg = client_cfg(true);

    test_nonblocking_roundtrip(ccfg, scfg);
    test_nonblocking_bulk(ccfg, scfg);
    test_truncation(ccfg, scfg);
    test_alert_flushed(scfg);
    test_tcp_blocking(ccfg, scfg);
    test_finished_with_data(ccfg, scfg);
    test_tickets_with_answer(ccfg, scfg);
    test_arguments(ccfg);

    mica_config_free(ccfg);
    mica_config_free(scfg);
    return check_exit("io");
}
