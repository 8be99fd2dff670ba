/*
 * mica over file descriptors: the blocking and non-blocking socket API, in the size of
 * LibreSSL's libtls. Built only on the public engine API of mica.h.
 *
 * Blocking client:
 *
 *     mica_io *io;
 *     if (mica_io_connect(cfg, "example.com", "443", &io) != MICA_OK) ...;
 *     mica_io_handshake(io);
 *     mica_io_write(io, req, req_len, &n);
 *     mica_io_read(io, buf, sizeof buf, &n);        // n == 0: the peer closed
 *     mica_io_close(io);
 *     mica_io_free(io);
 *
 * Non-blocking: after mica_io_set_nonblocking(io, 1), handshake/read/write/close may
 * return MICA_WANT_READ or MICA_WANT_WRITE: poll mica_io_fd(io) for that and call again.
 * Errors: the engine's (see mica_io_error_sentence); MICA_E_CLOSED when the socket ends
 * without close_notify (a truncation attack or a crash: never reported as EOF);
 * MICA_E_IO when a socket call fails (errno is kept); MICA_E_ARGUMENT when a host name
 * does not resolve. mica_io_error_sentence never returns NULL ("no error" before any).
 * mica_io_write(io, NULL, 0, &n) only flushes what is queued.
 *
 * Sockets: mica_io_connect* and mica_io_accept set TCP_NODELAY (flights go out whole, so
 * Nagle's algorithm would only add delay); a socket given to mica_io_wrap is the caller's
 * to set. The client's Finished and its first data leave in one write: when a client's
 * handshake completes, mica_io_handshake returns MICA_OK with its last flight (Finished,
 * and any certificate) still queued, and the next mica_io_write sends it and the data in
 * one send() -- one TCP segment, not the Finished alone and the data after it. A server
 * holds its NewSessionTickets the same way when the client's first data came with its
 * Finished, so they leave with the answer (else they are sent at once). What is
 * held is never held past the next mica_io call that could wait: mica_io_read sends it
 * before waiting for input (a read that finds data at once keeps it for the answer),
 * mica_io_close with its close_notify, mica_io_write(io, NULL, 0, &n) or
 * mica_io_handshake alone, mica_io_free before closing. An application that waits on
 * mica_io_fd(io) itself (poll) after the handshake must, as for any queued output, also
 * wait for POLLOUT and flush while mica_conn_pending(mica_io_conn(io), ...) reports
 * bytes, or call mica_io_write(io, NULL, 0, &n) first: a server that says nothing until
 * it has the client's Finished would otherwise wait for it forever.
 */
#ifndef MICA_IO_H
#define MICA_IO_H

#include <mica/mica.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mica_io mica_io;

/* mica_io_connect: resolve host (getaddrinfo; IPv4 and IPv6, each address in turn) and
 * connect a blocking TCP socket; host is also the server name. */
MICA_API mica_err mica_io_connect(const mica_config *cfg, const char *host, const char *port,
                                  mica_io **out);
/* mica_io_connect_name: the same with a different server name for SNI and verification
 * (NULL: none). */
MICA_API mica_err mica_io_connect_name(const mica_config *cfg, const char *host, const char *port,
                                       const char *server_name, mica_io **out);
/* mica_io_accept: accept one connection from a listening socket and make a server. */
MICA_API mica_err mica_io_accept(const mica_config *cfg, int listen_fd, mica_io **out);
/* mica_io_listen: a listening socket on host:port (NULL host: 127.0.0.1), SO_REUSEADDR;
 * *fd gets it. */
MICA_API mica_err mica_io_listen(const char *host, const char *port, int *fd);
/* mica_io_wrap: an existing connected socket; server chooses the role. On success the
 * fd is owned by the mica_io and closed by mica_io_free; on failure it stays the
 * caller's. */
MICA_API mica_err mica_io_wrap(const mica_config *cfg, int fd, int server, const char *server_name,
                               mica_io **out);
/* mica_io_wrap_resume: as mica_io_wrap for a client that offers a session blob from the
 * session callback (see mica_conn_new_client_resume). */
MICA_API mica_err mica_io_wrap_resume(const mica_config *cfg, int fd, const char *server_name,
                                      const uint8_t *session, size_t session_len, mica_io **out);

/* 0-RTT (see mica.h). mica_io_write_early: a resuming client writes early data right
 * after the ClientHello (before mica_io_handshake), *n < len at the session's limit.
 * mica_io_read_early: a server reads early data while the handshake runs: MICA_OK with
 * *n > 0, MICA_OK with *n == 0 once no more can come (then mica_io_handshake), or
 * MICA_WANT_READ/WANT_WRITE when non-blocking. Once early data is accepted a server may
 * mica_io_write its answer before the handshake completes (0.5-RTT). */
MICA_API mica_err mica_io_write_early(mica_io *io, const void *buf, size_t len, size_t *n);
MICA_API mica_err mica_io_read_early(mica_io *io, void *buf, size_t cap, size_t *n);

MICA_API mica_err mica_io_set_nonblocking(mica_io *io, int on);
MICA_API mica_err mica_io_handshake(mica_io *io);
MICA_API mica_err mica_io_read(mica_io *io, void *buf, size_t cap, size_t *n);
MICA_API mica_err mica_io_write(mica_io *io, const void *buf, size_t len, size_t *n);
MICA_API mica_err mica_io_close(mica_io *io); /* close_notify, then shut down writing */
MICA_API void mica_io_free(mica_io *io);      /* closes the fd */
MICA_API int mica_io_fd(const mica_io *io);
MICA_API mica_conn *mica_io_conn(mica_io *io);
MICA_API const char *mica_io_error_sentence(const mica_io *io);

#ifdef __cplusplus
}
#endif

#endif /* MICA_IO_H */
