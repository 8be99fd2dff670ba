/*
 * mica over file descriptors (include/mica/io.h): blocking and non-blocking sockets on
 * top of the sans-I/O engine, in the size of LibreSSL's libtls. Only the public engine
 * API of mica.h is used here, so this file is also an example of driving mica_conn.
 *
 * How bytes move
 * --------------
 * - Output. Whatever the engine queues (mica_conn_pending) is sent by flush(): send()
 *   with MSG_NOSIGNAL (a closed peer gives EPIPE, never SIGPIPE), partial sends and
 *   EINTR handled; EAGAIN on a non-blocking socket becomes MICA_WANT_WRITE.
 * - Input. recv_more() receives into one buffer the size of the largest TLS record and
 *   feeds it to the engine (mica_conn_feed); EAGAIN becomes MICA_WANT_READ. A recv of 0
 *   after the peer's close_notify is the end of the stream; without it, MICA_E_CLOSED
 *   (a truncation attack or a crash is never reported as a clean EOF).
 * - Failures. The engine's first error sticks in the engine; a socket failure sticks
 *   here (io->err, io->why). After an engine failure the queued alert is flushed once
 *   before the error is returned. mica_io_error_sentence() names the cause of either.
 *
 * Socket-level results:
 * - mica_io_connect*, mica_io_listen: MICA_E_ARGUMENT when host:port does not resolve
 *   (errno 0, or the system error); MICA_E_IO when no address could be connected
 *   to (listened on), with errno set to the last system error.
 * - send/recv failures other than the peer closing: MICA_E_IO with the system error in
 *   the sentence; the peer closing or resetting: MICA_E_CLOSED.
 * - mica_io_accept: MICA_WANT_READ when a non-blocking listening socket has nobody
 *   waiting; MICA_E_LIMIT when out of file descriptors (EMFILE, ENFILE); MICA_E_NOMEM;
 *   MICA_E_ARGUMENT for a socket that is not listening; errno set.
 * - mica_io_write(io, NULL, 0, &n) only flushes: MICA_OK once everything queued is
 *   sent, MICA_WANT_WRITE while the socket is full. An event loop polls for POLLOUT
 *   while mica_conn_pending(mica_io_conn(io), ...) reports bytes.
 * - mica_io_wrap: on failure the fd stays the caller's.
 * - mica_io_error_sentence: "no error" while nothing failed; never NULL.
 *
 * The client's Finished and the first application data in one send()
 * ------------------------------------------------------------------
 * When a client's handshake completes, its last flight (Finished, and any certificate)
 * is left queued and mica_io_handshake returns MICA_OK: the first mica_io_write then
 * seals its data behind it and one send() carries both, one TCP segment with
 * TCP_NODELAY (which mica_io_connect sets), instead of the Finished alone and the data a
 * segment later. A server holds its tickets the same way when the client's first data
 * came with its Finished, so that they leave with the answer. What is held is never held
 * longer than the application's next mica_io call that could wait: mica_io_read sends it
 * before it waits for input (a read that finds data at once keeps it held for the
 * answer), mica_io_close with the close_notify, mica_io_write(io, NULL, 0, &n) by itself,
 * and mica_io_free before it closes. An application that polls the fd itself sees the
 * queued bytes through mica_conn_pending, as it already must for any output
 * (include/mica/io.h).
 */
#include <mica/io.h>
#include <mica/trace.h> /* mica_conn_is_server */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* One whole TLS record: 5-byte header, 2^14 bytes of plaintext and the 256 bytes of
 * expansion RFC 8446 5.2 allows. The engine takes everything it is fed, so one record's
 * worth per recv() is enough; more would only delay feeding. recv() writes into the
 * stack: a connection holds received bytes only in the rare case the engine does not
 * take them all (its received-data buffer is full), so an idle one holds no buffer. */
#define IO_IN_CAP (5 + 16384 + 256)

/* listen(2) backlog for mica_io_listen. */
#define IO_LISTEN_BACKLOG 128

/* The default address of mica_io_listen: never every interface by accident. */
#define IO_DEFAULT_LISTEN_HOST "127.0.0.1"

struct mica_io {
    int fd;
    mica_conn *conn;
    bool nonblocking;
    bool hs_done;    /* mica_io_handshake has returned MICA_OK once */
    bool fin_held;   /* the handshake's last output waits in the engine for the first write */
    bool close_sent; /* mica_conn_close has been called */
    bool shut_wr;    /* shutdown(SHUT_WR) is done */
    bool eof;        /* recv() returned 0 */
    mica_err err;    /* the first socket-level failure, sticky; MICA_OK while none */
    char why[256];   /* its sentence */
    size_t in_off;   /* in[in_off .. in_len): received, not yet taken by the engine */
    size_t in_len;
    uint8_t *in; /* NULL unless such bytes wait */
};

/* The one allocation pair of src/io. STYLE.md bans malloc/calloc/free in src/ outside
 * src/base/mem.c, and src/io may include only public headers, so the mem.c seam is out of
 * reach: the lint's exception for src/io is these two functions. */
static mica_io *io_alloc(void)
{
    return calloc(1, sizeof(mica_io));
}

static void io_release(mica_io *io)
{
    free(io->in);
    free(io);
}

/* keep: what the engine did not take of a receive (ciphertext: no wipe needed) */
static bool io_keep(mica_io *io, const uint8_t *p, size_t len)
{
    io->in = malloc(len);
    if (io->in == NULL) {
        return false;
    }
    memcpy(io->in, p, len);
    io->in_off = 0;
    io->in_len = len;
    return true;
}

static void io_drop(mica_io *io)
{
    free(io->in);
    io->in = NULL;
    io->in_off = io->in_len = 0;
}

/* Record a socket-level failure (the first one sticks) and return its code. */
__attribute__((format(printf, 3, 4))) static mica_err io_fail(mica_io *io, mica_err err,
                                                              const char *fmt, ...)
{
    if (io->err == MICA_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(io->why, sizeof io->why, fmt, ap);
        va_end(ap);
        io->err = err;
    }
    return io->err;
}

/* The error the connection stands on: the engine's first, else the socket's. */
static mica_err status(const mica_io *io)
{
    mica_err err = mica_conn_error(io->conn);
    return err != MICA_OK ? err : io->err;
}

static void set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) {
        (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

/* Handshake flights go out whole, so Nagle's algorithm only adds a round trip of delay. */
static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Send everything the engine has queued. MICA_OK when nothing is left, MICA_WANT_WRITE when
 * a non-blocking socket is full, MICA_E_CLOSED when the socket fails. */
static mica_err flush(mica_io *io)
{
    if (io->err != MICA_OK) {
        return io->err;
    }
    for (;;) {
        const uint8_t *out = NULL;
        size_t len = 0;
        /* After a fatal error the engine still hands out its alert, so the result of
         * mica_conn_pending is not a reason to stop; only an empty queue is. */
        (void)mica_conn_pending(io->conn, &out, &len);
        if (len == 0 || out == NULL) {
            return MICA_OK;
        }
        ssize_t n = send(io->fd, out, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return MICA_WANT_WRITE;
            }
            if (errno == EPIPE || errno == ECONNRESET) {
                return io_fail(io, MICA_E_CLOSED,
                               "the peer closed the connection while mica "
                               "was still sending");
            }
            return io_fail(io, MICA_E_IO, "cannot send to the peer: %s", strerror(errno));
        }
        mica_conn_sent(io->conn, (size_t)n);
    }
}

/* recv() returned 0: the end of the stream if close_notify came first, else truncation. */
static mica_err on_eof(mica_io *io)
{
    io->eof = true;
    if (mica_conn_peer_closed(io->conn)) {
        return MICA_OK;
    }
    if (!io->hs_done) {
        return io_fail(io, MICA_E_CLOSED, "the peer closed the connection during the handshake");
    }
    return io_fail(io, MICA_E_CLOSED,
                   "the peer closed the TCP connection without sending "
                   "close_notify; the data "
                   "received may be truncated");
}

/* Give the engine more input: what is left in the buffer, else one recv(). MICA_OK when the
 * engine took bytes (or the stream ended after close_notify), MICA_WANT_READ when a
 * non-blocking socket has nothing, the engine's fatal error, or MICA_E_CLOSED. */
static mica_err recv_more(mica_io *io)
{
    uint8_t buf[IO_IN_CAP];
    const uint8_t *p;
    size_t avail, used = 0;
    mica_err err;

    if (io->err != MICA_OK) {
        return io->err;
    }
    if (io->in != NULL) {
        p = io->in + io->in_off; /* what the engine left last time */
        avail = io->in_len - io->in_off;
    } else {
        ssize_t n;
        if (io->eof) {
            return on_eof(io);
        }
        do {
            n = recv(io->fd, buf, sizeof buf, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return MICA_WANT_READ;
            }
            if (errno == ECONNRESET) {
                return io_fail(io, MICA_E_CLOSED, "the peer reset the connection");
            }
            return io_fail(io, MICA_E_IO, "cannot receive from the peer: %s", strerror(errno));
        }
        if (n == 0) {
            return on_eof(io);
        }
        p = buf;
        avail = (size_t)n;
    }
    err = mica_conn_feed(io->conn, p, avail, &used);
    if (used > avail) {
        return io_fail(io, MICA_E_INTERNAL, "the engine reported taking more bytes than given");
    }
    if (mica_err_is_fatal(err)) {
        return err;
    }
    if (used == 0) {
        /* mica.h: feed takes everything unless it fails or its received-data buffer is
         * full; this runs only once the application has read that buffer empty, so
         * taking nothing is an engine bug (and would spin) */
        return io_fail(io, MICA_E_INTERNAL, "the engine took no input and reported no error");
    }
    if (io->in != NULL) {
        io->in_off += used;
        if (io->in_off == io->in_len) {
            io_drop(io);
        }
    } else if (used < avail && !io_keep(io, p + used, avail - used)) {
        return io_fail(io, MICA_E_NOMEM, "out of memory for %zu received bytes", avail - used);
    }
    return MICA_OK;
}

/* The handshake has just completed: keep what it left queued for the first
 * mica_io_write (every other mica_io call sends it too): a client's last flight, or a
 * server's tickets when the client's first data came with its Finished (the answer
 * follows at once; a server that waits for its client's data sends them first). Only
 * for a connected end without an error, with something queued. */
static bool hold_finished(mica_io *io)
{
    const uint8_t *out = NULL;
    size_t len = 0;

    if (!mica_conn_is_connected(io->conn) || mica_conn_error(io->conn) != MICA_OK ||
        (mica_conn_is_server(io->conn) && mica_conn_readable(io->conn) == 0)) {
        return false;
    }
    (void)mica_conn_pending(io->conn, &out, &len);
    io->fin_held = len > 0;
    return io->fin_held;
}

/* A fatal engine error: send its alert if the socket takes it now, then report it. */
static mica_err fail_flush(mica_io *io, mica_err err)
{
    (void)flush(io);
    return err;
}

mica_err mica_io_handshake(mica_io *io)
{
    if (io == NULL) {
        return MICA_E_ARGUMENT;
    }
    io->fin_held = false; /* called again: send a held Finished now */
    for (;;) {
        mica_err err = flush(io);
        if (err == MICA_WANT_WRITE) {
            return err;
        }
        if (err != MICA_OK) {
            return status(io);
        }
        err = mica_conn_error(io->conn);
        if (err != MICA_OK) {
            return err; /* its alert is out: flush() above sent it */
        }
        if (mica_conn_is_connected(io->conn)) {
            io->hs_done = true;
            return MICA_OK;
        }
        if (io->eof) {
            /* The stream ended after a close_notify that came before the handshake did. */
            return io_fail(io, MICA_E_CLOSED,
                           "the peer closed the connection during the handshake");
        }
        err = recv_more(io);
        if (err == MICA_WANT_READ || io->err != MICA_OK) {
            return err;
        }
        if (err == MICA_OK && hold_finished(io)) {
            io->hs_done = true;
            return MICA_OK; /* the Finished goes out with the first write (see above) */
        }
        /* MICA_OK: go round and send what the engine answered. A fatal engine error: go
         * round, flush its alert, and return it. */
    }
}

mica_err mica_io_read(mica_io *io, void *buf, size_t cap, size_t *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (io == NULL || buf == NULL || cap == 0 || n == NULL) {
        return MICA_E_ARGUMENT;
    }
    if (!io->hs_done) {
        mica_err err = mica_io_handshake(io);
        if (err != MICA_OK) {
            return err;
        }
    }
    bool held = io->fin_held;
    io->fin_held = false; /* held output goes out below, before any wait for input */
    for (;;) {
        mica_err err = mica_conn_read(io->conn, buf, cap, n);
        if (err == MICA_OK) {
            /* Data was there without waiting: held output stays held for the answer
             * that likely follows. Otherwise reading may have made the engine answer (a
             * KeyUpdate): send it if the socket takes it now; a later call sends the
             * rest. */
            if (held) {
                io->fin_held = true;
                return MICA_OK;
            }
            (void)flush(io);
            return MICA_OK;
        }
        if (err != MICA_WANT_READ && err != MICA_WANT_WRITE) {
            return fail_flush(io, err);
        }
        err = flush(io);
        held = false; /* sent, or the socket is full: nothing is held past a wait */
        if (err != MICA_OK && err != MICA_WANT_WRITE) {
            return err;
        }
        if (io->eof && mica_conn_peer_closed(io->conn)) {
            return MICA_OK; /* end of stream, *n == 0 */
        }
        err = recv_more(io);
        if (err == MICA_WANT_READ || io->err != MICA_OK) {
            return err;
        }
        /* MICA_OK: read what it decrypted. A fatal engine error: mica_conn_read returns it
         * next, and the alert is flushed there. */
    }
}

mica_err mica_io_write_early(mica_io *io, const void *buf, size_t len, size_t *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (io == NULL || n == NULL || (buf == NULL && len > 0)) {
        return MICA_E_ARGUMENT;
    }
    mica_err err = mica_conn_write_early(io->conn, buf, len, n);
    if (err != MICA_OK) {
        return err;
    }
    /* the ClientHello and the early data leave in one send() where the socket allows */
    err = flush(io);
    return err == MICA_WANT_WRITE ? MICA_OK : err; /* queued: the handshake sends the rest */
}

mica_err mica_io_read_early(mica_io *io, void *buf, size_t cap, size_t *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (io == NULL || buf == NULL || cap == 0 || n == NULL) {
        return MICA_E_ARGUMENT;
    }
    for (;;) {
        mica_err err = mica_conn_read_early(io->conn, buf, cap, n);
        if (err != MICA_WANT_READ) {
            if (mica_err_is_fatal(err)) {
                return fail_flush(io, err);
            }
            return err;
        }
        /* the server's flight (and 0.5-RTT data) goes out while early data comes in */
        err = flush(io);
        if (err != MICA_OK) {
            return err;
        }
        if (io->eof) {
            return io_fail(io, MICA_E_CLOSED,
                           "the peer closed the connection during the handshake");
        }
        err = recv_more(io);
        if (err == MICA_WANT_READ || io->err != MICA_OK) {
            return err;
        }
    }
}

mica_err mica_io_write(mica_io *io, const void *buf, size_t len, size_t *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (io == NULL || n == NULL || (buf == NULL && len > 0)) {
        return MICA_E_ARGUMENT;
    }
    /* a server that accepted 0-RTT may answer before the client's Finished (0.5-RTT) */
    if (!io->hs_done &&
        !(mica_conn_early_data(io->conn) == MICA_EARLY_ACCEPTED && mica_conn_is_server(io->conn))) {
        mica_err err = mica_io_handshake(io);
        if (err != MICA_OK) {
            return err;
        }
    }
    /* Take new data only once the socket has taken the old: this is the backpressure a
     * non-blocking caller sees as MICA_WANT_WRITE (then it retries with the same data).
     * A held Finished is the exception: the data is sealed behind it and one send()
     * carries both. */
    mica_err err = MICA_OK;
    if (!io->fin_held || len == 0) {
        io->fin_held = false;
        err = flush(io);
    }
    io->fin_held = false;
    if (err != MICA_OK || len == 0) {
        return err;
    }
    const uint8_t *p = buf;
    size_t total = 0;
    while (total < len) {
        size_t w = 0;
        err = mica_conn_write(io->conn, p + total, len - total, &w);
        if (mica_err_is_fatal(err)) {
            return fail_flush(io, err);
        }
        if (w > len - total) {
            return io_fail(io, MICA_E_INTERNAL, "the engine reported taking more bytes than given");
        }
        total += w;
        err = flush(io);
        if (err == MICA_WANT_WRITE) {
            break; /* what was taken is the engine's to send; report it as written */
        }
        if (err != MICA_OK) {
            return err;
        }
        if (w == 0) {
            return io_fail(io, MICA_E_INTERNAL,
                           "the engine took no data with its output queue empty");
        }
    }
    *n = total;
    return total > 0 ? MICA_OK : MICA_WANT_WRITE;
}

mica_err mica_io_close(mica_io *io)
{
    if (io == NULL) {
        return MICA_E_ARGUMENT;
    }
    io->fin_held = false; /* held output leaves with the close_notify */
    if (!io->close_sent) {
        io->close_sent = true;
        /* A failed connection has sent its alert instead; closing twice is harmless. */
        (void)mica_conn_close(io->conn);
    }
    mica_err err = flush(io);
    if (err == MICA_WANT_WRITE) {
        return err;
    }
    if (!io->shut_wr) {
        io->shut_wr = true;
        (void)shutdown(io->fd, SHUT_WR);
    }
    return status(io);
}

void mica_io_free(mica_io *io)
{
    if (io == NULL) {
        return;
    }
    if (io->fin_held && io->fd >= 0) {
        /* the peer is owed what was held (a Finished, tickets); never wait for it here */
        const uint8_t *out = NULL;
        size_t len = 0;
        (void)mica_conn_pending(io->conn, &out, &len);
        if (len > 0) {
            (void)send(io->fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
    }
    mica_conn_free(io->conn);
    if (io->fd >= 0) {
        (void)close(io->fd);
    }
    io_release(io);
}

int mica_io_fd(const mica_io *io)
{
    return io != NULL ? io->fd : -1;
}

mica_conn *mica_io_conn(mica_io *io)
{
    return io != NULL ? io->conn : NULL;
}

const char *mica_io_error_sentence(const mica_io *io)
{
    if (io == NULL) {
        return "no connection";
    }
    if (mica_conn_error(io->conn) != MICA_OK) {
        return mica_conn_error_sentence(io->conn);
    }
    if (io->err != MICA_OK) {
        return io->why;
    }
    return "no error";
}

mica_err mica_io_set_nonblocking(mica_io *io, int on)
{
    if (io == NULL) {
        return MICA_E_ARGUMENT;
    }
    int flags = fcntl(io->fd, F_GETFL);
    if (flags < 0) {
        return MICA_E_ARGUMENT;
    }
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (fcntl(io->fd, F_SETFL, flags) < 0) {
        return MICA_E_ARGUMENT;
    }
    io->nonblocking = on != 0;
    return MICA_OK;
}

/* wrap: fd and a connection the engine made (or its error) into *out */
static mica_err wrap(mica_err made, mica_conn *conn, int fd, mica_io **out)
{
    if (made != MICA_OK) {
        return made; /* the fd stays the caller's */
    }
    mica_io *io = io_alloc();
    if (io == NULL) {
        mica_conn_free(conn);
        return MICA_E_NOMEM;
    }
    int flags = fcntl(fd, F_GETFL);
    io->conn = conn;
    io->fd = fd;
    io->nonblocking = flags >= 0 && (flags & O_NONBLOCK) != 0;
    *out = io;
    return MICA_OK;
}

mica_err mica_io_wrap(const mica_config *cfg, int fd, int server, const char *server_name,
                      mica_io **out)
{
    mica_conn *conn = NULL;

    if (out != NULL) {
        *out = NULL;
    }
    if (cfg == NULL || fd < 0 || out == NULL) {
        return MICA_E_ARGUMENT;
    }
    /* made first: the order in which arguments are evaluated is unspecified */
    mica_err made =
        server ? mica_conn_new_server(cfg, &conn) : mica_conn_new_client(cfg, server_name, &conn);
    return wrap(made, conn, fd, out);
}

mica_err mica_io_wrap_resume(const mica_config *cfg, int fd, const char *server_name,
                             const uint8_t *session, size_t session_len, mica_io **out)
{
    mica_conn *conn = NULL;

    if (out != NULL) {
        *out = NULL;
    }
    if (cfg == NULL || fd < 0 || out == NULL) {
        return MICA_E_ARGUMENT;
    }
    mica_err made = mica_conn_new_client_resume(cfg, server_name, session, session_len, &conn);
    return wrap(made, conn, fd, out);
}

/* connect(2), finishing the connection if a signal interrupts it (POSIX: it goes on
 * asynchronously, and retrying connect would fail with EALREADY). */
static int connect_fd(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (connect(fd, addr, len) == 0) {
        return 0;
    }
    if (errno != EINTR) {
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r;
    do {
        r = poll(&p, 1, -1);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -1;
    }
    int soerr = 0;
    socklen_t soerr_len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) < 0) {
        return -1;
    }
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    return 0;
}

mica_err mica_io_connect_name(const mica_config *cfg, const char *host, const char *port,
                              const char *server_name, mica_io **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (cfg == NULL || host == NULL || port == NULL || out == NULL) {
        return MICA_E_ARGUMENT;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* IPv6 and IPv4, in the resolver's order */
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        if (rc != EAI_SYSTEM) {
            errno = 0;
        }
        return MICA_E_ARGUMENT;
    }
    int fd = -1;
    int last_errno = ECONNREFUSED;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect_fd(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        last_errno = errno;
        (void)close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = last_errno;
        return MICA_E_IO;
    }
    set_cloexec(fd);
    set_nodelay(fd);
    mica_err err = mica_io_wrap(cfg, fd, 0, server_name, out);
    if (err != MICA_OK) {
        (void)close(fd);
    }
    return err;
}

mica_err mica_io_connect(const mica_config *cfg, const char *host, const char *port, mica_io **out)
{
    return mica_io_connect_name(cfg, host, port, host, out);
}

mica_err mica_io_listen(const char *host, const char *port, int *fd)
{
    if (fd != NULL) {
        *fd = -1;
    }
    if (port == NULL || fd == NULL) {
        return MICA_E_ARGUMENT;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host != NULL ? host : IO_DEFAULT_LISTEN_HOST, port, &hints, &res);
    if (rc != 0) {
        if (rc != EAI_SYSTEM) {
            errno = 0;
        }
        return MICA_E_ARGUMENT;
    }
    int s = -1;
    int last_errno = EADDRNOTAVAIL;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, IO_LISTEN_BACKLOG) == 0) {
            break;
        }
        last_errno = errno;
        (void)close(s);
        s = -1;
    }
    freeaddrinfo(res);
    if (s < 0) {
        errno = last_errno;
        return MICA_E_IO;
    }
    set_cloexec(s);
    *fd = s;
    return MICA_OK;
}

mica_err mica_io_accept(const mica_config *cfg, int listen_fd, mica_io **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (cfg == NULL || listen_fd < 0 || out == NULL) {
        return MICA_E_ARGUMENT;
    }
    int fd;
    for (;;) {
        fd = accept(listen_fd, NULL, NULL);
        if (fd >= 0) {
            break;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED: /* the client gave up while queued: take the next one */
        case EPROTO: continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return MICA_WANT_READ;
        case EMFILE:
        case ENFILE: return MICA_E_LIMIT;
        case ENOMEM:
        case ENOBUFS: return MICA_E_NOMEM;
        default: return MICA_E_ARGUMENT;
        }
    }
    set_cloexec(fd);
    set_nodelay(fd);
    mica_err err = mica_io_wrap(cfg, fd, 1, NULL, out);
    if (err != MICA_OK) {
        (void)close(fd);
    }
    return err;
}
