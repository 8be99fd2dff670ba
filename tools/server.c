/*
 * mica server: many TLS 1.3 connections at once on one epoll loop over the non-blocking
 * mica_io API.
 *
 * The event loop
 * --------------
 * One epoll instance (level-triggered, made in each --workers process) watches the read
 * end of a self-pipe that SIGINT, SIGTERM and SIGHUP write to, the listening sockets
 * (taken out while --max-conns connections are open, so the kernel's backlog holds the
 * rest) and each connection's socket for the events its state waits for; a connection is
 * re-registered only when those change. So a wakeup costs what is ready, not what is
 * open: 10,000 mostly idle connections cost no more per event than ten. Each connection
 * is a small state machine advanced by step() whenever its socket is ready or its
 * deadline passes:
 *
 *   HANDSHAKE --ok--> ECHO ------------------------ peer close_notify --> CLOSING
 *             --ok--> REQUEST --\r\n\r\n--> RESPOND ----- all written ---> CLOSING
 *   CLOSING (our close_notify flushed, SHUT_WR) --> LINGER (read and discard until
 *   the peer closes or 2 s pass) --> freed
 *
 * step() runs a state until it returns MICA_WANT_READ or MICA_WANT_WRITE, which become
 * the connection's epoll events; a fatal error ends the connection, with one log line.
 * Backpressure: ECHO reads nothing more while what it read is not yet taken by the
 * engine, so a client that does not read cannot make the server buffer without bound.
 * Deadlines: the handshake must complete within --handshake-timeout (10 s) and the HTTP
 * request within 10 s; ECHO ends after --idle-timeout (300 s) without a byte read or
 * written; LINGER lasts at most 2 s. Deadlines are looked at when the earliest one is
 * due, but at most every SCAN_GAP_MS (one pass over all connections each time, so a
 * crowd of staggered deadlines cannot make every wakeup O(connections)): a timeout fires
 * up to 100 ms late.
 */
#include "cmd.h"
#include "conffile.h"
#include "render.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mica/cert.h>
#include <mica/io.h>
#include <mica/mica.h>
#include <mica/trace.h>

#define PREFIX "mica server"

#define DEFAULT_ACCEPT "127.0.0.1:4433"
#define DEFAULT_MAX_CONNS 1000
#define DEFAULT_TICKETS 2              /* NewSessionTickets after each full handshake */
#define MAX_TICKETS 16                 /* mica_config_set_tickets' limit */
#define TICKET_LIFETIME_S 7200         /* how long a ticket can resume a session */
#define DEFAULT_HANDSHAKE_TIMEOUT_S 10 /* --handshake-timeout */
#define DEFAULT_IDLE_TIMEOUT_S 300     /* --idle-timeout: an echo connection silent 5 min */
#define REQUEST_TIMEOUT_MS 10000
#define LINGER_MS 2000
#define ACCEPT_PAUSE_MS 1000 /* after running out of file descriptors */
#define ACCEPT_BATCH 64      /* connections accepted per wakeup, so old ones are served too */
#define ECHO_CAP 16384
#define SCAN_GAP_MS 100  /* deadlines: looked at no more often than this */
#define EVENT_BATCH 1024 /* epoll events taken per wakeup */
#define REQUEST_CAP 8192 /* the largest HTTP request head --www reads */

/* "Strict-Transport-Security: max-age=N\r\n" (--hsts), or "" */
static char hsts_header[64] = "Strict-Transport-Security: max-age=31536000\r\n";

enum mode { MODE_ECHO, MODE_WWW };

enum conn_state {
    ST_HANDSHAKE,
    ST_ECHO,
    ST_REQUEST,
    ST_CLIENT_AUTH, /* --www /client-auth: waiting for the client's certificate (4.6.2) */
    ST_RESPOND,
    ST_CLOSING,
    ST_LINGER
};

#define MAX_CERTS 8 /* --cert/--key pairs: one chain per server name (chosen by SNI) */

struct server_opts {
    const char *cert; /* the first pair */
    const char *key;
    const char *certs[MAX_CERTS];
    const char *keys[MAX_CERTS];
    int certs_n, keys_n;
    const char *accept;     /* the first --accept */
    const char *accepts[8]; /* every --accept: a listening socket each */
    int accepts_n;
    const char *ciphers;
    const char *groups;
    const char *alpn;
    const char *keylog;
    enum mode mode;
    const char *access_log; /* --access-log FILE */
    const char *trace_dir;  /* --trace-dir DIR */
    unsigned long max_conns;
    unsigned long tickets;       /* --tickets N, --no-tickets: 0 */
    const char *ticket_key_file; /* --ticket-key-file FILE */
    const char *ticket_rotate;   /* --ticket-rotate SECONDS */
    const char *ocsp_staple;     /* --ocsp-staple FILE: the DER OCSP response to staple */
    const char *verify_client;   /* --verify-client none|optional|require */
    const char *root;            /* --root DIR: static files (HTTP/1.1 keep-alive) */
    char root_real[4096];        /* its realpath: every file served is under it */
    long hsts;                   /* --hsts SECONDS: Strict-Transport-Security max-age (0: none) */
    unsigned long workers;       /* --workers N: processes sharing the port (SO_REUSEPORT) */
    int64_t handshake_ms;        /* --handshake-timeout S: the handshake must end within it */
    int64_t idle_ms;             /* --idle-timeout S: an established connection silent this
                                    long is closed (0: never) */
    const char *client_ca;       /* --client-ca FILE: anchors for client certificates */
    unsigned long early_data;    /* --early-data MAX_BYTES: 0-RTT accepted (0: off) */
    unsigned long session_cache; /* --session-cache N: stateful single-use tickets */
    bool no_anti_replay;         /* --anti-replay off */
    bool verbose;                /* the access log on standard error */
    bool trace;                  /* --trace: each connection's narration on standard error */
};

struct conn {
    mica_io *io;
    enum conn_state state;
    uint32_t events;     /* what its state waits for: EPOLLIN, EPOLLOUT */
    uint32_t armed;      /* what epoll watches for it now */
    size_t idx;          /* where it is in server.conns */
    int64_t deadline_ms; /* 0: none */
    char peer[64];       /* "127.0.0.1:50000", "[::1]:50000" */
    char ip[48];         /* "127.0.0.1", "::1" */
    unsigned port;
    unsigned long seq;    /* 1, 2, ...: the connection's number since the server started */
    int64_t start_us;     /* accepted */
    int64_t hs_us;        /* the handshake's duration; -1 while it runs */
    char result[32];      /* "" while all is well, else the error's name */
    char error[256];      /* the error's sentence */
    struct render *trace; /* --trace, --trace-dir: NULL when off */
    mica_config *cfg;     /* the config it was accepted with (SIGHUP makes new ones) */
    size_t early_len;     /* bytes at the start of buf that came as 0-RTT early data */
    bool early_over;      /* no more early data can come */
    bool answered;        /* --www: the response is made (perhaps before the handshake ends) */
    char method[16];      /* --www: the request being answered */
    char target[256];
    bool keep_alive;      /* --root: another request may follow on this connection */
    unsigned requests;    /* requests answered */
    int file_fd;          /* --root: the file being sent after the head, or -1 */
    off_t file_left;      /* its bytes still to send */
    unsigned char *carry; /* --root: bytes after the request head (a pipelined request) */
    size_t carry_len;
    unsigned char *buf; /* ECHO: read, not yet written back; REQUEST: the request head;
                            RESPOND: the response */
    size_t len, off, cap;
};

#define MAX_CONFIGS 8 /* the current config and those still used by older connections */

struct server {
    const struct server_opts *o;
    mica_config *cfg; /* for new connections: cfgs[0..] holds it and the retired ones */
    mica_config *cfgs[MAX_CONFIGS];
    size_t cfg_conns[MAX_CONFIGS]; /* connections using each */
    struct tool_keylog *keylog;
    int listen_fds[8]; /* one per --accept */
    int listen_n;
    int sig_fd;
    struct conn **conns;
    size_t n;
    int64_t accept_paused_until;
    int epfd;                  /* the epoll instance (-1 until serve() makes it) */
    bool listening;            /* the listening sockets are in it */
    int64_t next_scan;         /* when the deadlines are next looked at; -1: none is set */
    int64_t last_scan;         /* when they last were */
    unsigned long seq;         /* connections accepted so far */
    int access_fd;             /* --access-log FILE: O_APPEND; -1 when none */
    unsigned long access_lost; /* access log lines that could not be written, in a row */
    struct conn *current;      /* the connection step() is running, for the trace callback */
    unsigned char *scratch;    /* ECHO_CAP bytes: what ECHO reads, before it is written back */
};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t stopping;
static volatile sig_atomic_t reload_pending; /* SIGHUP: re-read certificates and keys */

/* SIGINT, SIGTERM, SIGHUP: wake epoll_wait() through the self-pipe (a flag alone could
 * be set just before it sleeps). */
static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP) {
        reload_pending = 1;
    } else {
        stopping = 1;
    }
    unsigned char b = (unsigned char)sig;
    (void)!write(sig_pipe[1], &b, 1);
    errno = saved;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3))) static void log_conn(const struct conn *c, const char *fmt,
                                                           ...)
{
    va_list ap;
    char line[512];

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, PREFIX ": %s: %s\n", c->peer, line);
}

static void server_usage(FILE *f)
{
    fprintf(f,
            "usage: mica server --cert FILE --key FILE [options]\n"
            "\n"
            "Serve TLS 1.3 on a TCP port, many connections at once. Each failed handshake\n"
            "is logged on standard error as one line: mica server: ADDRESS:PORT: reason.\n"
            "SIGINT (Ctrl-C) or SIGTERM stops the server.\n"
            "\n"
            "options:\n"
            "  --cert FILE        the certificate chain (PEM: the leaf first, then\n"
            "                     intermediates)\n"
            "  --key FILE         the leaf's private key (PEM)\n"
            "  --accept HOST:PORT where to listen (default " DEFAULT_ACCEPT "; repeatable, up to\n"
            "                     8 addresses; [::1]:PORT for\n"
            "                     IPv6, 0.0.0.0:PORT or [::]:PORT for every interface)\n"
            "  --ciphers LIST     cipher suites in preference order, separated by ':' or ','\n"
            "                     (mica list shows the names)\n"
            "  --groups LIST      key exchange groups in preference order\n"
            "  --alpn LIST        application protocols to accept, in preference order\n"
            "  --echo             send every byte received back to the client (the default)\n"
            "  --root DIR         serve the files under DIR over HTTP/1.1 (GET and HEAD,\n"
            "                     keep-alive, pipelining, MIME types by extension,\n"
            "                     index.html for directories); nothing outside DIR is ever\n"
            "                     served (.. and symbolic links that leave it are 404)\n"
            "  --hsts SECONDS     the Strict-Transport-Security max-age of --www and --root\n"
            "                     answers (default 31536000, one year; 0: no header)\n"
            "  --www              answer an HTTP/1.x request with a page that shows the\n"
            "                     negotiated parameters, then close; GET /client-auth first\n"
            "                     asks the client for a certificate after the handshake\n"
            "                     (when it offered post_handshake_auth; --client-ca)\n"
            "  --max-conns N      at most N connections at once (default %d); more wait in\n"
            "                     the kernel's listen queue\n"
            "  --handshake-timeout SECONDS  close a connection whose handshake is not done\n"
            "                     SECONDS (1 to 3600, default %d) after it was accepted\n"
            "  --idle-timeout SECONDS  --echo: close (close_notify) a connection that neither\n"
            "                     sent nor took a byte for SECONDS (0 to 86400, default %d;\n"
            "                     0: never)\n"
            "  --tickets N        send N session tickets (0 to %d, default %d) after each full\n"
            "                     handshake (one after a resumed one, replacing the ticket\n"
            "                     spent), so that clients can resume the session later\n"
            "                     (PSK with a fresh key exchange, no certificate); stateless,\n"
            "                     valid %d s, sealed with a key that changes every hour\n"
            "                     (--ticket-rotate), derived from a secret random to this\n"
            "                     process unless --ticket-key-file gives one\n"
            "  --ticket-key-file FILE  derive the ticket keys from FILE's contents (32 to\n"
            "                     1024 bytes, e.g. head -c 48 /dev/urandom > FILE): servers\n"
            "                     given the same file and --ticket-rotate accept each\n"
            "                     other's tickets. FILE\n"
            "                     opens every ticket: keep it private (mica warns when\n"
            "                     others can read it)\n"
            "  --ticket-rotate SECONDS  a new ticket key every SECONDS (60 to 604800, default\n"
            "                     3600); tickets of earlier keys are accepted while they can\n"
            "                     still be valid\n"
            "  --no-tickets       send no session tickets (the same as --tickets 0), so\n"
            "                     clients cannot resume with this server's tickets (it\n"
            "                     still accepts those of servers sharing its\n"
            "                     --ticket-key-file)\n"
            "  --verify-client MODE  ask clients for a certificate (mutual TLS): none (the\n"
            "                     default), optional (a client may send none; one that does\n"
            "                     not verify is logged and served), or require (none, or one\n"
            "                     that does not verify, ends the handshake); needs\n"
            "                     --client-ca\n"
            "  --client-ca FILE   the CA certificates (PEM) that client certificates must\n"
            "                     chain to; their names go in the CertificateRequest\n"
            "  --ocsp-staple FILE staple the DER OCSP response in FILE (e.g. from openssl\n"
            "                     ocsp -respout) to clients that ask (status_request); FILE\n"
            "                     is read again whenever it changes, so it can be renewed\n"
            "                     under a running server\n"
            "  --session-cache N  keep up to N sessions in memory (1 to 1048576) and send\n"
            "                     tickets that only name them: each resumes once (so its\n"
            "                     early data cannot be replayed), the oldest go when full\n"
            "  --early-data MAX_BYTES  accept up to MAX_BYTES (1 to 1048576) of 0-RTT early\n"
            "                     data on resumed connections and announce it in tickets.\n"
            "                     Early data can be replayed by an attacker: --www answers\n"
            "                     early requests other than GET and HEAD with 425 Too Early\n"
            "                     and answers the others at once (0.5-RTT, before the\n"
            "                     client's Finished); --echo echoes early data at once\n"
            "  --anti-replay on|off  record every ClientHello whose early data is accepted\n"
            "                     and refuse early data in one seen before (default on;\n"
            "                     off is for tests and benchmarks: replays then succeed)\n"
            "  --keylog FILE      append the TLS secrets of every connection to FILE (NSS key\n"
            "                     log format, one line per secret, created 0600) so that\n"
            "                     Wireshark or tshark can decrypt them; without --keylog the\n"
            "                     SSLKEYLOGFILE environment variable names the file. Anyone\n"
            "                     who reads FILE can decrypt the connections; mica warns.\n"
            "                     A --keylog FILE that cannot be opened stops the server\n"
            "                     (exit 1); an SSLKEYLOGFILE that cannot be opened is a warning\n"
            "  --access-log FILE  append one line per connection to FILE (created 0644):\n"
            "                     time= client= sni= version= cipher= group= hrr= sig=\n"
            "                     alpn= resumed= early_data= handshake_ms= result=ok or the\n"
            "                     error's name, and error=\"sentence\" when it failed;\n"
            "                     resumed=yes when a ticket resumed the session (then\n"
            "                     sig=none: no certificate was sent); early_data=accepted,\n"
            "                     rejected (refused, the connection went on in 1-RTT: a\n"
            "                     replayed flight shows here) or none; with --verify-client\n"
            "                     also client_cert=none|verified|unverified\n"
            "  --verbose          the same access log line on standard error (without\n"
            "                     time=, after \"mica server: \"), instead of the failure line\n"
            "  --trace            narrate each connection's handshake on standard error, each\n"
            "                     line after \"mica server: ADDRESS:PORT: \"\n"
            "  --trace-dir DIR    per connection, write DIR/N-IP-PORT.trace.jsonl (its trace\n"
            "                     events as JSON Lines, as mica client --trace-json) and, when\n"
            "                     it ends, DIR/N-IP-PORT.json (the connection report, as mica\n"
            "                     client --json); N counts connections from 1\n"
            "  --workers N        run N processes (1 to 64) that each listen on the port\n"
            "                     (SO_REUSEPORT: the kernel spreads connections) and share\n"
            "                     the ticket keys and the 0-RTT anti-replay store; signals\n"
            "                     to the first process reach them all\n"
            "  --config FILE      read settings from FILE first: one per line, a flag's name\n"
            "                     without -- and its value (\"accept 0.0.0.0:443\",\n"
            "                     \"cert chain.pem\", \"www\"); # starts a comment; flags on\n"
            "                     the command line come after, and win. --cert/--key may\n"
            "                     repeat (up to 8 pairs): a chain per server name, chosen by\n"
            "                     SNI. See docs/CLI.md\n"
            "  --help             this text\n"
            "\n"
            "examples:\n"
            "  mica server --cert cert.pem --key key.pem --echo\n"
            "  mica server --cert cert.pem --key key.pem --www --accept 127.0.0.1:8443\n"
            "  mica server --cert cert.pem --key key.pem --www --keylog keys.txt\n"
            "  mica server --cert cert.pem --key key.pem --www --early-data 16384\n"
            "  curl --cacert ca.pem https://localhost:8443/\n",
            DEFAULT_MAX_CONNS, DEFAULT_HANDSHAKE_TIMEOUT_S, DEFAULT_IDLE_TIMEOUT_S, MAX_TICKETS,
            DEFAULT_TICKETS, TICKET_LIFETIME_S);
}

/* a decimal count from lo to hi, else a usage error naming the option */
static int parse_count(const char *opt, const char *v, unsigned long lo, unsigned long hi,
                       unsigned long *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || *out < lo || *out > hi) {
        fprintf(stderr, PREFIX ": %s '%s' is not a number from %lu to %lu\n", opt, v, lo, hi);
        return -1;
    }
    return 0;
}

static int parse_server_args(int argc, char **argv, struct server_opts *o)
{
    const char *max = NULL, *tickets = NULL, *early = NULL, *cache = NULL, *replay = NULL;
    const char *hsts = NULL, *workers = NULL, *hs_timeout = NULL, *idle = NULL;
    unsigned long hsts_s = 31536000;
    bool echo = false, www = false, no_tickets = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            server_usage(stdout);
            return 1;
        }
        {
            const char *v = NULL;
            if ((r = tool_opt_value(argc, argv, &i, "--cert", PREFIX, &v)) != 0 ||
                (r = tool_opt_value(argc, argv, &i, "--key", PREFIX, &v)) != 0) {
                bool cert = strncmp(a, "--cert", 6) == 0;
                if (r < 0) {
                    return -1;
                }
                if ((cert ? o->certs_n : o->keys_n) == MAX_CERTS) {
                    fprintf(stderr, PREFIX ": at most %d --cert/--key pairs\n", MAX_CERTS);
                    return -1;
                }
                if (cert) {
                    o->certs[o->certs_n++] = v;
                } else {
                    o->keys[o->keys_n++] = v;
                }
                continue;
            }
        }
        {
            const char *v = NULL;
            r = tool_opt_value(argc, argv, &i, "--accept", PREFIX, &v);
            if (r < 0) {
                return -1;
            }
            if (r > 0) {
                if (o->accepts_n == 8) {
                    fprintf(stderr, PREFIX ": at most 8 --accept\n");
                    return -1;
                }
                o->accepts[o->accepts_n++] = v;
                continue;
            }
        }
        if ((r = tool_opt_value(argc, argv, &i, "--ciphers", PREFIX, &o->ciphers)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--groups", PREFIX, &o->groups)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--alpn", PREFIX, &o->alpn)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--max-conns", PREFIX, &max)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--tickets", PREFIX, &tickets)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ticket-key-file", PREFIX,
                                &o->ticket_key_file)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ticket-rotate", PREFIX, &o->ticket_rotate)) !=
                0 ||
            (r = tool_opt_value(argc, argv, &i, "--keylog", PREFIX, &o->keylog)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--early-data", PREFIX, &early)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ocsp-staple", PREFIX, &o->ocsp_staple)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--verify-client", PREFIX, &o->verify_client)) !=
                0 ||
            (r = tool_opt_value(argc, argv, &i, "--root", PREFIX, &o->root)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--hsts", PREFIX, &hsts)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--workers", PREFIX, &workers)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--handshake-timeout", PREFIX, &hs_timeout)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--idle-timeout", PREFIX, &idle)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--client-ca", PREFIX, &o->client_ca)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--session-cache", PREFIX, &cache)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--anti-replay", PREFIX, &replay)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--access-log", PREFIX, &o->access_log)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--trace-dir", PREFIX, &o->trace_dir)) != 0) {
            if (r < 0) {
                return -1;
            }
            continue;
        }
        if (strcmp(a, "--echo") == 0) {
            echo = true;
        } else if (strcmp(a, "--www") == 0) {
            www = true;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--trace") == 0) {
            o->trace = true;
        } else if (strcmp(a, "--no-tickets") == 0) {
            no_tickets = true;
        } else {
            fprintf(stderr, PREFIX ": unknown argument '%s' (see mica server --help)\n", a);
            return -1;
        }
    }
    if (echo && (www || o->root != NULL)) {
        fprintf(stderr, PREFIX ": --echo excludes --www and --root\n");
        return -1;
    }
    o->mode = www || o->root != NULL ? MODE_WWW : MODE_ECHO;
    if (o->root != NULL && realpath(o->root, o->root_real) == NULL) {
        fprintf(stderr, PREFIX ": --root %s: %s\n", o->root, strerror(errno));
        return -1;
    }
    if (hsts != NULL && parse_count("--hsts", hsts, 0, 63072000, &hsts_s) != 0) {
        return -1;
    }
    o->workers = 1;
    if (workers != NULL && parse_count("--workers", workers, 1, 64, &o->workers) != 0) {
        return -1;
    }
    o->hsts = (long)hsts_s;
    {
        unsigned long hs_s = DEFAULT_HANDSHAKE_TIMEOUT_S, idle_s = DEFAULT_IDLE_TIMEOUT_S;
        if ((hs_timeout != NULL &&
             parse_count("--handshake-timeout", hs_timeout, 1, 3600, &hs_s) != 0) ||
            (idle != NULL && parse_count("--idle-timeout", idle, 0, 86400, &idle_s) != 0)) {
            return -1;
        }
        o->handshake_ms = (int64_t)hs_s * 1000;
        o->idle_ms = (int64_t)idle_s * 1000;
    }
    if (o->hsts == 0) {
        hsts_header[0] = '\0';
    } else {
        snprintf(hsts_header, sizeof hsts_header, "Strict-Transport-Security: max-age=%ld\r\n",
                 o->hsts);
    }
    if (o->keylog != NULL && o->keylog[0] == '\0') {
        fprintf(stderr, PREFIX ": --keylog needs a file name\n");
        return -1;
    }
    if ((o->access_log != NULL && o->access_log[0] == '\0') ||
        (o->trace_dir != NULL && o->trace_dir[0] == '\0')) {
        fprintf(stderr, PREFIX ": --access-log and --trace-dir need a name\n");
        return -1;
    }
    if (o->certs_n != o->keys_n) {
        fprintf(stderr, PREFIX ": give one --key for each --cert, in the same order\n");
        return -1;
    }
    o->cert = o->certs_n > 0 ? o->certs[0] : NULL;
    o->key = o->keys_n > 0 ? o->keys[0] : NULL;
    if (o->cert == NULL || o->key == NULL) {
        fprintf(stderr, PREFIX ": --cert FILE and --key FILE are required (see mica server "
                               "--help)\n");
        return -1;
    }
    o->max_conns = DEFAULT_MAX_CONNS;
    if (max != NULL) {
        char *end;
        errno = 0;
        o->max_conns = strtoul(max, &end, 10);
        if (errno != 0 || end == max || *end != '\0' || o->max_conns < 1 ||
            o->max_conns > 1000000) {
            fprintf(stderr, PREFIX ": --max-conns '%s' is not a number from 1 to 1000000\n", max);
            return -1;
        }
    }
    o->tickets = DEFAULT_TICKETS;
    if (tickets != NULL) {
        char *end;
        errno = 0;
        o->tickets = strtoul(tickets, &end, 10);
        if (errno != 0 || end == tickets || *end != '\0' || tickets[0] == '-' ||
            o->tickets > MAX_TICKETS) {
            fprintf(stderr, PREFIX ": --tickets '%s' is not a number from 0 to %d\n", tickets,
                    MAX_TICKETS);
            return -1;
        }
        if (no_tickets && o->tickets != 0) {
            fprintf(stderr, PREFIX ": --tickets %s and --no-tickets contradict each other\n",
                    tickets);
            return -1;
        }
    }
    if (no_tickets) {
        o->tickets = 0;
    }
    if ((early != NULL && parse_count("--early-data", early, 1, 1048576, &o->early_data) != 0) ||
        (cache != NULL &&
         parse_count("--session-cache", cache, 1, 1048576, &o->session_cache) != 0)) {
        return -1;
    }
    if (o->verify_client != NULL && strcmp(o->verify_client, "none") != 0 &&
        strcmp(o->verify_client, "optional") != 0 && strcmp(o->verify_client, "require") != 0) {
        fprintf(stderr, PREFIX ": --verify-client '%s': give none, optional or require\n",
                o->verify_client);
        return -1;
    }
    if (o->verify_client != NULL && strcmp(o->verify_client, "none") != 0 && o->client_ca == NULL) {
        fprintf(stderr,
                PREFIX ": --verify-client %s needs --client-ca FILE (the CAs that issue "
                       "client certificates)\n",
                o->verify_client);
        return -1;
    }
    if (replay != NULL) {
        if (strcmp(replay, "on") != 0 && strcmp(replay, "off") != 0) {
            fprintf(stderr, PREFIX ": --anti-replay '%s': give on or off\n", replay);
            return -1;
        }
        o->no_anti_replay = strcmp(replay, "off") == 0;
    }
    if (o->accepts_n == 0) {
        o->accepts[o->accepts_n++] = DEFAULT_ACCEPT;
    }
    o->accept = o->accepts[0];
    if (o->accept == NULL) {
        o->accept = DEFAULT_ACCEPT;
    }
    return 0;
}

/* "ADDRESS:PORT" of a socket's peer (or its own address), IPv6 in brackets. */
static void format_addr(int fd, bool peer, char *out, size_t cap, char *ip, size_t ip_cap,
                        unsigned *port_out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    memset(&ss, 0, sizeof ss);
    int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
                 : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r == 0 && ss.ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
        port = ntohs(in4->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
        snprintf(ip, ip_cap, "%s", host);
        *port_out = port;
        return;
    }
    if (r == 0 && ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
        snprintf(ip, ip_cap, "%s", host);
        *port_out = port;
        return;
    }
    snprintf(out, cap, "unknown address");
    snprintf(ip, ip_cap, "unknown");
    *port_out = 0;
}

/* ---- connections ------------------------------------------------------------------ */

static struct conn *conn_new(struct server *s, mica_io *io)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->io = io;
    c->state = ST_HANDSHAKE;
    c->start_us = now_us();
    c->hs_us = -1;
    c->file_fd = -1;
    c->seq = ++s->seq;
    c->deadline_ms = now_ms() + s->o->handshake_ms;
    format_addr(mica_io_fd(io), true, c->peer, sizeof c->peer, c->ip, sizeof c->ip, &c->port);
    if (s->o->trace || s->o->trace_dir != NULL) {
        c->trace = calloc(1, sizeof *c->trace);
        if (c->trace == NULL) {
            free(c);
            return NULL;
        }
        if (s->o->trace_dir != NULL) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%lu-%s-%u.trace.jsonl", s->o->trace_dir, c->seq, c->ip,
                     c->port);
            c->trace->jsonl = fopen(path, "w");
            if (c->trace->jsonl == NULL) {
                fprintf(stderr, PREFIX ": %s: cannot write %s: %s\n", c->peer, path,
                        strerror(errno));
            }
        }
    }
    c->cfg = s->cfg;
    for (size_t i = 0; i < MAX_CONFIGS; i++) {
        if (s->cfgs[i] == s->cfg) {
            s->cfg_conns[i]++;
        }
    }
    return c;
}

/*
 * The connection failed: remember the first error for the access log (name: mica_err_name
 * or a word such as "timeout"; sentence: why) and, without --verbose, log it on standard
 * error as before. Returns false (the connection is over).
 */
static bool conn_fail(const struct server *s, struct conn *c, const char *name,
                      const char *sentence)
{
    if (c->result[0] == '\0') {
        snprintf(c->result, sizeof c->result, "%s", name);
        snprintf(c->error, sizeof c->error, "%s", sentence);
    }
    if (c->hs_us < 0) {
        c->hs_us = now_us() - c->start_us;
    }
    if (!s->o->verbose) {
        log_conn(c, "%s", sentence);
    }
    return false;
}

static bool conn_fail_err(const struct server *s, struct conn *c, mica_err err)
{
    const char *sentence = mica_io_error_sentence(c->io);
    if (err == MICA_E_NOMEM) {
        sentence = mica_err_sentence(err);
    }
    return conn_fail(s, c, mica_err_name(err), sentence);
}

/* Append "key=value " to line; value NULL is "none"; characters that would break the
 * key=value syntax (space, '"', '=', controls, non-ASCII) become '?'. */
static void add_field(char *line, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(line);
    int k = snprintf(line + n, cap - n, "%s=", key);
    if (k < 0 || (size_t)k >= cap - n) {
        return;
    }
    n += (size_t)k;
    if (value == NULL || value[0] == '\0') {
        value = "none";
    }
    for (; *value != '\0' && n + 2 < cap; value++) {
        unsigned char ch = (unsigned char)*value;
        line[n++] = (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '=') ? '?' : (char)ch;
    }
    line[n++] = ' ';
    line[n] = '\0';
}

/* false: the line could not be written whole (errno says why) */
static bool write_line(int fd, const char *line, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, line, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            if (w == 0) {
                errno = EIO;
            }
            return false;
        }
        line += w;
        len -= (size_t)w;
    }
    return true;
}

/* The access log line of a connection that ends: to --access-log FILE (with time=) and,
 * with --verbose, to standard error; each in one write(2). */
static void access_log(struct server *s, struct conn *c)
{
    if (s->access_fd < 0 && !s->o->verbose) {
        return;
    }
    const mica_conn *tls = mica_io_conn(c->io);
    char line[1024] = "";
    char hs[32];

    add_field(line, sizeof line, "client", c->peer);
    add_field(line, sizeof line, "sni", mica_conn_server_name(tls));
    add_field(line, sizeof line, "version", mica_conn_version(tls));
    add_field(line, sizeof line, "cipher", mica_conn_cipher_suite(tls));
    add_field(line, sizeof line, "group", mica_conn_group(tls));
    add_field(line, sizeof line, "hrr", mica_conn_hrr(tls) ? "yes" : "no");
    add_field(line, sizeof line, "sig", mica_conn_sig_scheme(tls));
    add_field(line, sizeof line, "alpn", mica_conn_alpn(tls));
    add_field(line, sizeof line, "resumed", mica_conn_resumed(tls) ? "yes" : "no");
    add_field(line, sizeof line, "early_data",
              mica_conn_early_data(tls) == MICA_EARLY_NOT_SENT
                  ? "none"
                  : mica_early_name(mica_conn_early_data(tls)));
    if (s->o->verify_client != NULL && strcmp(s->o->verify_client, "none") != 0) {
        size_t n0 = 0;
        add_field(line, sizeof line, "client_cert",
                  mica_conn_peer_cert(tls, 0, &n0) == NULL ? "none"
                  : mica_conn_verified(tls)                ? "verified"
                                                           : "unverified");
    }
    snprintf(hs, sizeof hs, "%.1f",
             (double)(c->hs_us < 0 ? now_us() - c->start_us : c->hs_us) / 1000.0);
    add_field(line, sizeof line, "handshake_ms", hs);
    add_field(line, sizeof line, "result", c->result[0] != '\0' ? c->result : "ok");
    size_t n = strlen(line) - 1; /* the last space */
    if (c->result[0] != '\0') {
        n += (size_t)snprintf(line + n, sizeof line - n, " error=\"");
        for (const char *e = c->error; *e != '\0' && n + 3 < sizeof line; e++) {
            line[n++] = *e == '"' ? '\'' : (*e == '\n' ? ' ' : *e);
        }
        line[n++] = '"';
    }
    line[n] = '\0';

    char out[1200];
    if (s->access_fd >= 0) {
        char when[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int k = snprintf(out, sizeof out, "time=%s %s\n", when, line);
        if (k > 0) {
            bool ok =
                write_line(s->access_fd, out, (size_t)k < sizeof out ? (size_t)k : sizeof out - 1);
            /* a full disk (or any failing write) is said once, not once per connection,
             * and its end once too; the connections are served all the same */
            if (!ok && s->access_lost++ == 0) {
                fprintf(stderr,
                        PREFIX ": --access-log %s: cannot write: %s; serving on, without "
                               "access log lines until it can be written again\n",
                        s->o->access_log, strerror(errno));
            } else if (ok && s->access_lost > 0) {
                fprintf(stderr, PREFIX ": --access-log %s: written again (%lu line%s lost)\n",
                        s->o->access_log, s->access_lost, s->access_lost == 1 ? "" : "s");
                s->access_lost = 0;
            }
        }
    }
    if (s->o->verbose) {
        int k = snprintf(out, sizeof out, PREFIX ": %s\n", line);
        if (k > 0) {
            write_line(STDERR_FILENO, out, (size_t)k < sizeof out ? (size_t)k : sizeof out - 1);
        }
    }
}

/* The connection is over: its access log line, its trace report, then free it. */
static void conn_end(struct server *s, struct conn *c)
{
    access_log(s, c);
    if (c->trace != NULL) {
        if (s->o->trace_dir != NULL) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%lu-%s-%u.json", s->o->trace_dir, c->seq, c->ip,
                     c->port);
            FILE *f = fopen(path, "w");
            if (f != NULL) {
                render_report(c->trace, mica_io_conn(c->io), f);
                fclose(f);
            } else {
                fprintf(stderr, PREFIX ": %s: cannot write %s: %s\n", c->peer, path,
                        strerror(errno));
            }
        }
        if (c->trace->jsonl != NULL) {
            fclose(c->trace->jsonl);
        }
        free(c->trace);
    }
    if (s->current == c) {
        s->current = NULL;
    }
    mica_io_free(c->io);
    for (size_t i = 0; i < MAX_CONFIGS; i++) {
        if (s->cfgs[i] == c->cfg && --s->cfg_conns[i] == 0 && c->cfg != s->cfg) {
            mica_config_free(s->cfgs[i]); /* a config SIGHUP replaced, now unused */
            s->cfgs[i] = NULL;
        }
    }
    free(c->buf);
    free(c->carry);
    if (c->file_fd >= 0) {
        close(c->file_fd);
    }
    free(c);
}

/* The connection whose engine is tc (the trace callback gets only that). */
static struct conn *find_conn(struct server *s, const mica_conn *tc)
{
    if (s->current != NULL && mica_io_conn(s->current->io) == tc) {
        return s->current;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (mica_io_conn(s->conns[i]->io) == tc) {
            return s->conns[i];
        }
    }
    return NULL;
}

/* Write the text of a memory stream to standard error, each line after the connection's
 * address. */
static void emit_prefixed(const struct conn *c, const char *text, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(text, '\n', len);
        size_t k = nl != NULL ? (size_t)(nl - text) + 1 : len;
        fprintf(stderr, PREFIX ": %s: %.*s%s", c->peer, (int)k, text, nl != NULL ? "" : "\n");
        text += k;
        len -= k;
    }
    fflush(stderr);
}

/* The trace callback (--trace, --trace-dir): ctx is the server. */
static void on_trace(void *ctx, const mica_conn *tc, const struct mica_trace_event *ev)
{
    struct server *s = ctx;
    struct conn *c = find_conn(s, tc);
    char *text = NULL;
    size_t len = 0;

    if (c == NULL || c->trace == NULL) {
        return;
    }
    if (s->o->trace) {
        c->trace->narrate = open_memstream(&text, &len);
    }
    render_event(c->trace, tc, ev);
    if (c->trace->narrate != NULL) {
        fclose(c->trace->narrate);
        c->trace->narrate = NULL;
        emit_prefixed(c, text, len);
    }
    free(text);
}

static int conn_reserve(struct conn *c, size_t cap)
{
    if (c->cap >= cap) {
        return 0;
    }
    unsigned char *p = realloc(c->buf, cap);
    if (p == NULL) {
        return -1;
    }
    c->buf = p;
    c->cap = cap;
    return 0;
}

static bool engine_has_output(struct conn *c)
{
    const uint8_t *out = NULL;
    size_t len = 0;
    (void)mica_conn_pending(mica_io_conn(c->io), &out, &len);
    return len > 0;
}

/* Wait for what err asks; anything else is the end of the connection (returns false). */
static bool wait_for(struct conn *c, mica_err err)
{
    if (err == MICA_WANT_READ) {
        c->events = EPOLLIN;
        if (engine_has_output(c)) {
            c->events |= EPOLLOUT;
        }
        return true;
    }
    if (err == MICA_WANT_WRITE) {
        c->events = EPOLLOUT;
        return true;
    }
    return false;
}

/* Append s to out (cap bytes) with the HTML special characters escaped. */
static size_t html_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        const char *rep = NULL;
        char one[2] = {*s, '\0'};
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: rep = one; break;
        }
        size_t k = strlen(rep);
        if (n + k >= cap) {
            break;
        }
        memcpy(out + n, rep, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

/* Replace c->buf with the HTTP response (status, extra headers, body). */
static int set_response(struct conn *c, const char *status, const char *extra, const char *type,
                        const char *body, bool head_only)
{
    size_t body_len = strlen(body);
    char head[512];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\n"
                     "Server: mica/%s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %zu\r\n"
                     "%s"
                     "%s"
                     "Connection: %s\r\n"
                     "\r\n",
                     status, mica_version(), type, body_len, hsts_header, extra,
                     c->keep_alive ? "keep-alive" : "close");
    if (h < 0 || (size_t)h >= sizeof head) {
        return -1;
    }
    size_t total = (size_t)h + (head_only ? 0 : body_len);
    if (conn_reserve(c, total) != 0) {
        return -1;
    }
    memcpy(c->buf, head, (size_t)h);
    if (!head_only) {
        memcpy(c->buf + h, body, body_len);
    }
    c->len = total;
    c->off = 0;
    return 0;
}

static int status_page(struct conn *c, const char *method, const char *target, bool head_only)
{
    const mica_conn *tls = mica_io_conn(c->io);
    const char *alpn = mica_conn_alpn(tls);
    const char *sni = mica_conn_server_name(tls);
    const char *sig = mica_conn_sig_scheme(tls);
    const char *group = mica_conn_group(tls);
    bool resumed = mica_conn_resumed(tls) != 0;
    char e_sni[768], e_alpn[768], e_req[1024], req[300], client[700], e_client[1400];
    size_t cert_len = 0;
    const uint8_t *cert = mica_conn_peer_cert(tls, 0, &cert_len);
    struct mica_cert_info ci;
    char body[4096];

    snprintf(req, sizeof req, "%s %s", method, target);
    if (cert == NULL) {
        snprintf(client, sizeof client, "none");
    } else if (mica_cert_describe(cert, cert_len, &ci) == MICA_OK) {
        snprintf(client, sizeof client, "%s (%s)", ci.subject,
                 mica_conn_verified(tls) ? "verified" : mica_conn_verify_error(tls));
    } else {
        snprintf(client, sizeof client, "unreadable");
    }
    html_escape(e_client, sizeof e_client, client);
    html_escape(e_sni, sizeof e_sni, sni != NULL ? sni : "none");
    html_escape(e_alpn, sizeof e_alpn, alpn != NULL ? alpn : "none");
    html_escape(e_req, sizeof e_req, req);
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n"
                     "<html lang=\"en\">\n"
                     "<head><meta charset=\"utf-8\"><title>mica</title></head>\n"
                     "<body>\n"
                     "<h1>mica %s: TLS 1.3</h1>\n"
                     "<p>This connection negotiated:</p>\n"
                     "<table>\n"
                     "<tr><th>version</th><td>%s</td></tr>\n"
                     "<tr><th>cipher suite</th><td>%s</td></tr>\n"
                     "<tr><th>group</th><td>%s</td></tr>\n"
                     "<tr><th>signature scheme</th><td>%s</td></tr>\n"
                     "<tr><th>resumed</th><td>%s</td></tr>\n"
                     "<tr><th>early data</th><td>%s</td></tr>\n"
                     "<tr><th>client certificate</th><td>%s</td></tr>\n"
                     "<tr><th>ALPN</th><td>%s</td></tr>\n"
                     "<tr><th>SNI</th><td>%s</td></tr>\n"
                     "<tr><th>client</th><td>%s</td></tr>\n"
                     "<tr><th>request</th><td>%s</td></tr>\n"
                     "</table>\n"
                     "</body>\n"
                     "</html>\n",
                     mica_version(), mica_conn_version(tls), mica_conn_cipher_suite(tls),
                     group != NULL ? group : "none",
                     sig != NULL ? sig : (resumed ? "none (resumed: no certificate)" : "none"),
                     resumed ? "yes (a session ticket)" : "no",
                     c->early_len > 0 ? "accepted: this request came in 0-RTT"
                                      : mica_early_name(mica_conn_early_data(tls)),
                     e_client, e_alpn, e_sni, c->peer, e_req);
    if (n < 0 || (size_t)n >= sizeof body) {
        return -1;
    }
    return set_response(c, "200 OK", "", "text/html; charset=utf-8", body, head_only);
}

/* The length of the HTTP request head in c->buf (through its blank line), or 0. */
static size_t head_end(const struct conn *c)
{
    for (size_t i = 0; i + 1 < c->len; i++) {
        if (c->buf[i] == '\n') {
            if (c->buf[i + 1] == '\n') {
                return i + 2;
            }
            if (c->buf[i + 1] == '\r' && i + 2 < c->len && c->buf[i + 2] == '\n') {
                return i + 3;
            }
        }
    }
    return 0;
}

static bool head_complete(const struct conn *c)
{
    return head_end(c) > 0;
}

/* --root: MIME types by file extension (what browsers need to render or run a file) */
static const char *mime_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".mmd", "text/plain; charset=utf-8"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/vnd.microsoft.icon"},
        {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},
        {".woff2", "font/woff2"},
        {".pem", "application/x-pem-file"},
    };
    const char *dot = strrchr(path, '.');

    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < MICA_ARRAY_LEN(types); i++) {
            if (strcasecmp(dot, types[i][0]) == 0) {
                return types[i][1];
            }
        }
    }
    return "application/octet-stream";
}

/* url_path: the request target's path, percent-decoded, into out; false when it is not a
 * plain absolute path (a NUL, a backslash, a ".." segment, a bad escape) */
static bool url_path(const char *target, char *out, size_t cap)
{
    size_t n = 0;

    if (target[0] != '/') {
        return false;
    }
    for (const char *p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
        int ch = (unsigned char)*p;
        if (ch == '%') {
            unsigned hi, lo;
            if (sscanf(p + 1, "%1x%1x", &hi, &lo) != 2) {
                return false;
            }
            ch = (int)(hi << 4 | lo);
            p += 2;
        }
        if (ch == 0 || ch == '\\' || n + 1 >= cap) {
            return false;
        }
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    /* no segment may be ".." (realpath below is the second line of defence) */
    for (const char *p = out; (p = strstr(p, "/..")) != NULL; p += 3) {
        if (p[3] == '/' || p[3] == '\0') {
            return false;
        }
    }
    return true;
}

/* serve_file: --root's answer to GET/HEAD target: the file under the root, index.html
 * for a directory; 404 for anything else, and never a file outside the root */
static int serve_file(const struct server_opts *o, struct conn *c, const char *target,
                      bool head_only)
{
    char path[4096], joined[8192], real[PATH_MAX], head[768];
    struct stat st;
    size_t rl = strlen(o->root_real);
    int fd, h;

    if (!url_path(target, path, sizeof path)) {
        return set_response(c, "400 Bad Request", "", "text/plain", "bad path\n", head_only);
    }
    snprintf(joined, sizeof joined, "%s%s%s", o->root_real, path,
             path[strlen(path) - 1] == '/' ? "index.html" : "");
    if (realpath(joined, real) == NULL ||
        (strncmp(real, o->root_real, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) ||
        stat(real, &st) != 0) {
        return set_response(c, "404 Not Found", "", "text/plain", "not found\n", head_only);
    }
    if (S_ISDIR(st.st_mode)) { /* a directory without the slash: index.html in it */
        size_t n = strlen(real);
        snprintf(real + n, sizeof real - n, "/index.html");
        if (stat(real, &st) != 0) {
            return set_response(c, "404 Not Found", "", "text/plain", "not found\n", head_only);
        }
    }
    if (!S_ISREG(st.st_mode) || (fd = open(real, O_RDONLY | O_CLOEXEC)) < 0) {
        return set_response(c, "404 Not Found", "", "text/plain", "not found\n", head_only);
    }
    h = snprintf(head, sizeof head,
                 "HTTP/1.1 200 OK\r\n"
                 "Server: mica/%s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %lld\r\n"
                 "%s"
                 "Connection: %s\r\n"
                 "\r\n",
                 mica_version(), mime_type(real), (long long)st.st_size, hsts_header,
                 c->keep_alive ? "keep-alive" : "close");
    if (h < 0 || (size_t)h >= sizeof head || conn_reserve(c, ECHO_CAP) != 0) {
        close(fd);
        return -1;
    }
    memcpy(c->buf, head, (size_t)h);
    c->len = (size_t)h;
    c->off = 0;
    if (head_only || st.st_size == 0) {
        close(fd);
    } else {
        c->file_fd = fd;
        c->file_left = st.st_size;
    }
    return 0;
}

/*
 * The request head is complete in c->buf[0 .. c->len): answer it. Only the request line
 * matters: METHOD SP TARGET SP HTTP/1.x.
 */
/* wants_keep_alive: HTTP/1.1 keeps the connection unless "Connection: close", 1.0 closes
 * it unless "Connection: keep-alive" (RFC 9112 9.3) */
static bool wants_keep_alive(const struct conn *c, size_t end, const char *version)
{
    bool v11 = strcmp(version, "HTTP/1.1") == 0;
    const unsigned char *p = c->buf, *stop = c->buf + end;

    while (p < stop) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(stop - p);
        if (n > 11 && strncasecmp((const char *)p, "connection:", 11) == 0) {
            char v[64];
            size_t k = n - 11 < sizeof v - 1 ? n - 11 : sizeof v - 1;
            memcpy(v, p + 11, k);
            v[k] = '\0';
            for (size_t j = 0; v[j] != '\0'; j++) {
                v[j] = (char)tolower((unsigned char)v[j]);
            }
            if (strstr(v, "close") != NULL) {
                return false;
            }
            if (strstr(v, "keep-alive") != NULL) {
                return true;
            }
        }
        p += n + 1;
    }
    return v11;
}

static int answer_request(const struct server_opts *o, struct conn *c)
{
    char method[16], target[256], version[16];
    char line[512];
    const char *eol = memchr(c->buf, '\n', c->len);
    size_t line_len = (size_t)(eol - (const char *)c->buf);
    size_t end = head_end(c);

    /* a pipelined request after this one waits in carry while the answer uses buf */
    free(c->carry);
    c->carry = NULL;
    c->carry_len = 0;
    c->keep_alive = false;
    if (o->root != NULL && end < c->len) {
        c->carry = malloc(c->len - end);
        if (c->carry == NULL) {
            return -1;
        }
        memcpy(c->carry, c->buf + end, c->len - end);
        c->carry_len = c->len - end;
    }

    if (line_len > 0 && c->buf[line_len - 1] == '\r') {
        line_len--;
    }
    if (line_len >= sizeof line) {
        return set_response(c, "414 URI Too Long", "", "text/plain", "request line too long\n",
                            false);
    }
    memcpy(line, c->buf, line_len);
    line[line_len] = '\0';
    if (sscanf(line, "%15s %255s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        return set_response(c, "400 Bad Request", "", "text/plain",
                            "mica --www speaks HTTP/1.0 and HTTP/1.1\n", false);
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (c->early_len > 0 && !head && strcmp(method, "GET") != 0) {
        /* RFC 8470 5.2: a request that came (even partly) in early data, which an attacker
         * can replay, is refused unless it is safe to run twice */
        return set_response(c, "425 Too Early", "", "text/plain",
                            "this request came in 0-RTT early data, which can be replayed; "
                            "send it again after the handshake\n",
                            false);
    }
    if (!head && strcmp(method, "GET") != 0) {
        return set_response(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "text/plain",
                            "GET or HEAD only\n", false);
    }
    c->requests++;
    if (o->root != NULL) {
        c->keep_alive = wants_keep_alive(c, end, version);
        return serve_file(o, c, target, head);
    }
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->target, sizeof c->target, "%s", target);
    /* /client-auth: ask a client that offered post_handshake_auth for its certificate
     * now (RFC 8446 4.6.2), and answer once it is in */
    if (strcmp(target, "/client-auth") == 0 && c->hs_us >= 0 &&
        mica_conn_request_client_auth(mica_io_conn(c->io)) == MICA_OK) {
        return 1;
    }
    return status_page(c, method, target, head);
}

/* --idle-timeout: when an ECHO connection that just made progress expires (0: never) */
static int64_t idle_deadline(const struct server *s)
{
    return s->o->idle_ms > 0 ? now_ms() + s->o->idle_ms : 0;
}

static void enter_closing(struct conn *c)
{
    c->state = ST_CLOSING;
    c->deadline_ms = now_ms() + LINGER_MS;
}

/* Advance c as far as its socket allows. false: the connection is over (free it). */
static bool step(struct server *s, struct conn *c)
{
    for (;;) {
        mica_err err;
        size_t n = 0;
        switch (c->state) {
        case ST_HANDSHAKE:
            if (s->o->early_data > 0 && !c->early_over) {
                /* 0-RTT: early data is read (and answered, 0.5-RTT) while the handshake
                 * runs; mica_io_read_early says when no more can come */
                if (conn_reserve(c, s->o->mode == MODE_ECHO ? ECHO_CAP : REQUEST_CAP) != 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
                if (s->o->mode == MODE_ECHO && c->len > 0) {
                    c->state = ST_ECHO; /* echo it at once */
                    break;
                }
                if (c->answered || c->len == c->cap) {
                    c->early_over = true;
                    break;
                }
                err = mica_io_read_early(c->io, c->buf + c->len, c->cap - c->len, &n);
                if (err != MICA_OK) {
                    if (wait_for(c, err)) {
                        return true;
                    }
                    return conn_fail_err(s, c, err);
                }
                if (n == 0) {
                    c->early_over = true;
                    break;
                }
                c->len += n;
                c->early_len += n;
                if (s->o->mode == MODE_WWW && head_complete(c)) {
                    if (answer_request(s->o, c) != 0) {
                        return conn_fail_err(s, c, MICA_E_NOMEM);
                    }
                    c->answered = true;
                    c->state = ST_RESPOND;
                }
                break;
            }
            err = mica_io_handshake(c->io);
            if (err != MICA_OK) {
                if (wait_for(c, err)) {
                    return true;
                }
                return conn_fail_err(s, c, err);
            }
            c->hs_us = now_us() - c->start_us;
            if (c->answered) { /* answered in 0.5-RTT: send the rest, then close */
                c->state = ST_RESPOND;
                c->deadline_ms = now_ms() + REQUEST_TIMEOUT_MS;
            } else if (s->o->mode == MODE_ECHO) {
                c->state = ST_ECHO; /* its buffer comes only when the engine lags */
                c->deadline_ms = idle_deadline(s);
            } else {
                c->state = ST_REQUEST;
                c->deadline_ms = now_ms() + REQUEST_TIMEOUT_MS;
                if (conn_reserve(c, REQUEST_CAP) != 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
            }
            break;

        case ST_ECHO:
            if (c->off < c->len) {
                err = mica_io_write(c->io, c->buf + c->off, c->len - c->off, &n);
                if (err != MICA_OK) {
                    if (wait_for(c, err)) {
                        return true;
                    }
                    return conn_fail_err(s, c, err);
                }
                c->off += n;
                if (n > 0 && c->hs_us >= 0) {
                    c->deadline_ms = idle_deadline(s);
                }
                break;
            }
            c->off = c->len = 0;
            if (c->hs_us < 0) {
                c->state = ST_HANDSHAKE; /* early data echoed: back to the handshake */
                break;
            }
            if (c->cap > 0) { /* an idle connection holds no buffer of ours */
                free(c->buf);
                c->buf = NULL;
                c->cap = 0;
            }
            /* read into the server's one scratch buffer and write back from it at once;
             * only what the engine does not take yet is copied to a buffer of c's own */
            err = mica_io_read(c->io, s->scratch, ECHO_CAP, &n);
            if (err != MICA_OK) {
                if (wait_for(c, err)) {
                    return true;
                }
                return conn_fail_err(s, c, err);
            }
            if (n == 0) {
                enter_closing(c); /* the client's close_notify: answer with ours */
                break;
            }
            c->deadline_ms = idle_deadline(s);
            size_t w = 0;
            err = mica_io_write(c->io, s->scratch, n, &w);
            if (err != MICA_OK && err != MICA_WANT_WRITE && err != MICA_WANT_READ) {
                return conn_fail_err(s, c, err);
            }
            if (w < n) {
                if (conn_reserve(c, n - w) != 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
                memcpy(c->buf, s->scratch + w, n - w);
                c->len = n - w;
            }
            break;

        case ST_REQUEST:
            if (c->len > 0 && head_complete(c)) { /* a pipelined request */
                int r = answer_request(s->o, c);
                if (r < 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
                c->state = r > 0 ? ST_CLIENT_AUTH : ST_RESPOND;
                break;
            }
            if (c->len == c->cap) {
                if (set_response(c, "431 Request Header Fields Too Large", "", "text/plain",
                                 "request head too large\n", false) != 0) {
                    return false;
                }
                c->state = ST_RESPOND;
                break;
            }
            err = mica_io_read(c->io, c->buf + c->len, c->cap - c->len, &n);
            if (err != MICA_OK) {
                if (wait_for(c, err)) {
                    return true;
                }
                return conn_fail_err(s, c, err);
            }
            if (n == 0) {
                enter_closing(c); /* closed before a whole request: nothing to answer */
                break;
            }
            c->len += n;
            if (head_complete(c)) {
                int r = answer_request(s->o, c);
                if (r < 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
                c->state = r > 0 ? ST_CLIENT_AUTH : ST_RESPOND;
            }
            break;

        case ST_CLIENT_AUTH: {
            unsigned char scratch[4096];
            if (!mica_conn_client_auth_pending(mica_io_conn(c->io))) {
                if (status_page(c, c->method, c->target, strcmp(c->method, "HEAD") == 0) != 0) {
                    return conn_fail_err(s, c, MICA_E_NOMEM);
                }
                c->state = ST_RESPOND;
                break;
            }
            /* the client's Certificate, CertificateVerify and Finished come as input */
            err = mica_io_read(c->io, scratch, sizeof scratch, &n);
            if (err != MICA_OK) {
                if ((err == MICA_WANT_READ || err == MICA_WANT_WRITE) &&
                    !mica_conn_client_auth_pending(mica_io_conn(c->io))) {
                    break; /* the answer is in: the response goes now */
                }
                if (wait_for(c, err)) {
                    return true;
                }
                return conn_fail_err(s, c, err);
            }
            if (n == 0 && mica_conn_client_auth_pending(mica_io_conn(c->io))) {
                enter_closing(c); /* it closed instead of answering */
            }
            break;
        }

        case ST_RESPOND:
            if (c->off == c->len) {
                c->off = c->len = 0;
            }
            if (c->off == 0 && c->len < c->cap && c->file_fd >= 0) {
                /* --root: the next piece of the file; the first goes behind the head, so
                 * a small file leaves with it in one record and one send */
                size_t room = c->cap - c->len;
                size_t want = c->file_left < (off_t)room ? (size_t)c->file_left : room;
                ssize_t got = read(c->file_fd, c->buf + c->len, want);
                if (got <= 0) {
                    return conn_fail(s, c, "io", "the file being sent cannot be read");
                }
                c->len += (size_t)got;
                c->file_left -= got;
                if (c->file_left == 0) {
                    close(c->file_fd);
                    c->file_fd = -1;
                }
            }
            if (c->off == c->len) {
                if (c->hs_us < 0) {
                    c->state = ST_HANDSHAKE; /* a 0.5-RTT answer: the handshake ends first */
                    break;
                }
                if (c->keep_alive) {
                    /* HTTP/1.1 keep-alive: the next request, perhaps already here */
                    c->len = c->off = 0;
                    if (c->carry_len > 0 && conn_reserve(c, REQUEST_CAP) == 0 &&
                        c->carry_len <= c->cap) {
                        memcpy(c->buf, c->carry, c->carry_len);
                        c->len = c->carry_len;
                    }
                    free(c->carry);
                    c->carry = NULL;
                    c->carry_len = 0;
                    c->early_len = 0;
                    c->state = ST_REQUEST;
                    c->deadline_ms = now_ms() + REQUEST_TIMEOUT_MS;
                    break;
                }
                enter_closing(c);
                break;
            }
            err = mica_io_write(c->io, c->buf + c->off, c->len - c->off, &n);
            if (err != MICA_OK) {
                if (wait_for(c, err)) {
                    return true;
                }
                return conn_fail_err(s, c, err);
            }
            c->off += n;
            break;

        case ST_CLOSING:
            err = mica_io_close(c->io);
            if (err == MICA_WANT_WRITE) {
                c->events = EPOLLOUT;
                return true;
            }
            if (err != MICA_OK) {
                return false;
            }
            c->state = ST_LINGER;
            break;

        case ST_LINGER: {
            /* Read until the client closes, so that closing our socket with unread data
             * in it does not send a reset that could destroy the response in flight. */
            unsigned char scratch[4096];
            err = mica_io_read(c->io, scratch, sizeof scratch, &n);
            if (err == MICA_OK && n > 0) {
                break;
            }
            return err != MICA_OK && wait_for(c, err);
        }

        default: return false;
        }
    }
}

/*
 * SIGHUP: build a new config from the same options -- certificates, keys, client CAs,
 * staple, ticket key file read again -- and give it to new connections; connections
 * already open keep theirs until they end. A config that cannot be built (a broken
 * certificate file) leaves the running one in place.
 */
/*
 * The 0-RTT anti-replay store of the command: the library's algorithm (a table of
 * ClientHello ids with their expiry, 32 probes, full means "seen") in memory shared by
 * every --workers process (MAP_SHARED, a process-shared lock) and by every configuration
 * a SIGHUP makes, so a recorded flight is refused whichever process or configuration it
 * reaches.
 */
#define REPLAY_SLOTS (1u << 16)
#define REPLAY_PROBES 32u

struct shared_replay {
    pthread_mutex_t lock;
    struct {
        uint8_t id[16];
        uint64_t expires_ms;
    } slot[REPLAY_SLOTS];
};

static struct shared_replay *shared_replay_new(void)
{
    struct shared_replay *r =
        mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;

    if (r == MAP_FAILED) {
        return NULL;
    }
    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutex_init(&r->lock, &a) != 0) {
        munmap(r, sizeof *r);
        return NULL;
    }
    pthread_mutexattr_destroy(&a);
    return r;
}

static int shared_replay_check(void *ctx, const uint8_t id[32], uint64_t now_ms, uint64_t keep_ms)
{
    struct shared_replay *r = ctx;
    uint32_t home = ((uint32_t)id[0] << 8 | id[1]) & (REPLAY_SLOTS - 1);
    int free_at = -1, fresh = 0;

    pthread_mutex_lock(&r->lock);
    for (uint32_t i = 0; i < REPLAY_PROBES; i++) {
        uint32_t k = (home + i) & (REPLAY_SLOTS - 1);
        if (r->slot[k].expires_ms <= now_ms) {
            if (free_at < 0) {
                free_at = (int)k;
            }
            continue;
        }
        if (memcmp(r->slot[k].id, id, 16) == 0) {
            free_at = -1; /* seen: a replay */
            break;
        }
    }
    if (free_at >= 0) {
        memcpy(r->slot[free_at].id, id, 16);
        r->slot[free_at].expires_ms = now_ms + keep_ms;
        fresh = 1;
    }
    pthread_mutex_unlock(&r->lock);
    return fresh;
}

static struct shared_replay *g_replay; /* made before the workers fork */

/* listen_shared: a listening socket for --workers: SO_REUSEPORT, so each process has its
 * own and the kernel spreads connections over them */
static int listen_shared(const char *host, const char *port, int *out)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1, one = 1, e;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
        fprintf(stderr, PREFIX ": cannot listen on %s:%s: %s\n", host, port, gai_strerror(e));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
            e = errno;
            close(fd);
            fd = -1;
            errno = e;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, PREFIX ": cannot listen on %s:%s: %s\n", host, port, strerror(errno));
        return -1;
    }
    *out = fd;
    return 0;
}

static mica_config *server_config(const struct server_opts *o);

static void reload(struct server *s)
{
    size_t slot = MAX_CONFIGS;
    mica_config *cfg;

    for (size_t i = 0; i < MAX_CONFIGS; i++) {
        if (s->cfgs[i] == NULL) {
            slot = i;
            break;
        }
    }
    if (slot == MAX_CONFIGS) {
        fprintf(stderr,
                PREFIX ": SIGHUP: not reloaded: %d older configurations are still in "
                       "use by open connections\n",
                MAX_CONFIGS - 1);
        return;
    }
    cfg = server_config(s->o);
    if (cfg == NULL) {
        fprintf(stderr, PREFIX ": SIGHUP: not reloaded; still serving the previous "
                               "certificates\n");
        return;
    }
    tool_keylog_attach(s->keylog, cfg);
    if (s->o->trace || s->o->trace_dir != NULL) {
        mica_config_set_trace(cfg, on_trace, s);
    }
    s->cfgs[slot] = cfg;
    for (size_t i = 0; i < MAX_CONFIGS; i++) {
        if (s->cfgs[i] == s->cfg && s->cfg_conns[i] == 0) {
            mica_config_free(s->cfgs[i]); /* nobody uses the old one any more */
            s->cfgs[i] = NULL;
        }
    }
    s->cfg = cfg;
    fprintf(stderr, PREFIX ": SIGHUP: reloaded %d certificate chain%s\n", s->o->certs_n,
            s->o->certs_n == 1 ? "" : "s");
}

/* The deadline of c passed. false: free it. */
static bool expire(struct server *s, struct conn *c)
{
    char why[80];
    switch (c->state) {
    case ST_HANDSHAKE:
        snprintf(why, sizeof why, "the handshake did not complete within %lld s",
                 (long long)(s->o->handshake_ms / 1000));
        return conn_fail(s, c, "timeout", why);
    case ST_CLIENT_AUTH:
        snprintf(why, sizeof why, "no client certificate within %d s of the request",
                 REQUEST_TIMEOUT_MS / 1000);
        return conn_fail(s, c, "timeout", why);
    case ST_REQUEST:
        if (c->requests > 0 && c->len == 0) {
            enter_closing(c); /* an idle keep-alive connection: closed, no failure */
            return step(s, c);
        }
        snprintf(why, sizeof why, "no complete HTTP request within %d s",
                 REQUEST_TIMEOUT_MS / 1000);
        return conn_fail(s, c, "timeout", why);
    case ST_ECHO:
        /* --idle-timeout: closed as the client would close, with our close_notify; the
         * access log says why (result=idle), standard error does not (it is no failure) */
        snprintf(c->result, sizeof c->result, "idle");
        snprintf(c->error, sizeof c->error, "nothing sent or taken for %lld s: closed",
                 (long long)(s->o->idle_ms / 1000));
        c->off = c->len = 0;
        enter_closing(c);
        return step(s, c);
    default: return false; /* CLOSING, LINGER: done waiting */
    }
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Tags of the epoll entries that are not connections (a connection's is its address) */
#define TAG_SIGNAL 1u
#define TAG_LISTEN 2u /* + the listener's index */
#define TAG_CONN_MIN 4096u

/* epoll_ctl for a connection's socket: op ADD, MOD or DEL */
static int watch_conn(struct server *s, struct conn *c, int op)
{
    struct epoll_event ev = {.events = c->events, .data.u64 = (uint64_t)(uintptr_t)c};
    if (epoll_ctl(s->epfd, op, mica_io_fd(c->io), &ev) != 0) {
        return -1;
    }
    c->armed = c->events;
    return 0;
}

/* After a step: watch for what the connection now waits for, and note its deadline (the
 * next scan comes no later than it, nor sooner than SCAN_GAP_MS after the last). False
 * when epoll refuses, which ends the connection. */
static bool rearm(struct server *s, struct conn *c)
{
    if (c->events != c->armed && watch_conn(s, c, EPOLL_CTL_MOD) != 0) {
        snprintf(c->result, sizeof c->result, "internal");
        snprintf(c->error, sizeof c->error, "epoll_ctl: %s", strerror(errno));
        fprintf(stderr, PREFIX ": %s: epoll_ctl: %s\n", c->peer, strerror(errno));
        return false;
    }
    if (c->deadline_ms != 0) {
        int64_t at = c->deadline_ms;
        if (at < s->last_scan + SCAN_GAP_MS) {
            at = s->last_scan + SCAN_GAP_MS;
        }
        if (s->next_scan < 0 || at < s->next_scan) {
            s->next_scan = at;
        }
    }
    return true;
}

/* The connection is over: out of epoll and of the table (the last one takes its place),
 * then conn_end. */
static void conn_gone(struct server *s, struct conn *c)
{
    if (c->armed != 0) {
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, mica_io_fd(c->io), NULL);
    }
    struct conn *last = s->conns[--s->n];
    s->conns[c->idx] = last;
    last->idx = c->idx;
    conn_end(s, c);
}

/* Deadlines: expire every connection whose deadline has passed, and set the next scan */
static void scan_deadlines(struct server *s, int64_t now)
{
    s->last_scan = now;
    s->next_scan = -1;
    for (size_t i = 0; i < s->n;) {
        struct conn *c = s->conns[i];
        if (c->deadline_ms != 0 && c->deadline_ms <= now) {
            s->current = c;
            if (!expire(s, c) || !rearm(s, c)) {
                conn_gone(s, c); /* the last connection is at i now */
                continue;
            }
        } else if (!rearm(s, c)) {
            conn_gone(s, c);
            continue;
        }
        i++;
    }
}

/* The listening sockets into epoll (on) or out of it (off: --max-conns reached, or
 * accepting paused after running out of descriptors). When epoll cannot take them
 * (ENOMEM, ENOSPC: the user's max_user_watches), the server keeps serving the connections
 * it has, says so, and tries again ACCEPT_PAUSE_MS later. */
static void set_listening(struct server *s, bool on)
{
    for (int l = 0; l < s->listen_n; l++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTEN + (uint64_t)l};
        if (!on) {
            (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fds[l], NULL);
        } else if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fds[l], &ev) != 0) {
            fprintf(stderr, PREFIX ": cannot watch the listening socket: epoll_ctl: %s\n",
                    strerror(errno));
            while (l-- > 0) {
                (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fds[l], NULL);
            }
            s->accept_paused_until = now_ms() + ACCEPT_PAUSE_MS;
            s->listening = false;
            return;
        }
    }
    s->listening = on;
}

static void accept_some(struct server *s, int listen_fd)
{
    for (int i = 0; i < ACCEPT_BATCH && s->n < s->o->max_conns; i++) {
        mica_io *io = NULL;
        errno = 0;
        mica_err err = mica_io_accept(s->cfg, listen_fd, &io);
        if (err == MICA_WANT_READ) {
            return;
        }
        if (err != MICA_OK) {
            int e = errno;
            fprintf(stderr, PREFIX ": cannot accept a connection: %s\n",
                    e != 0 ? strerror(e) : mica_err_sentence(err));
            if (err == MICA_E_LIMIT || err == MICA_E_NOMEM) {
                s->accept_paused_until = now_ms() + ACCEPT_PAUSE_MS;
            }
            return;
        }
        struct conn *c = NULL;
        if (mica_io_set_nonblocking(io, 1) != MICA_OK || (c = conn_new(s, io)) == NULL) {
            fprintf(stderr, PREFIX ": cannot take a connection: %s\n",
                    mica_err_sentence(MICA_E_NOMEM));
            mica_io_free(io);
            continue;
        }
        c->idx = s->n;
        s->conns[s->n++] = c;
        s->current = c;
        if (!step(s, c)) {
            conn_gone(s, c);
        } else if (watch_conn(s, c, EPOLL_CTL_ADD) != 0) {
            fprintf(stderr, PREFIX ": cannot take a connection: epoll_ctl: %s\n", strerror(errno));
            conn_gone(s, c);
        } else {
            (void)rearm(s, c); /* its deadline */
        }
    }
}

static int serve(struct server *s)
{
    struct epoll_event evs[EVENT_BATCH];
    struct epoll_event sig = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sig_fd, &sig) != 0) {
        fprintf(stderr, PREFIX ": epoll: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    s->listening = false;
    s->next_scan = -1;
    s->last_scan = now_ms();
    while (!stopping) {
        int64_t now = now_ms();
        bool accepting = s->n < s->o->max_conns && now >= s->accept_paused_until;
        if (accepting != s->listening) {
            set_listening(s, accepting);
            accepting = s->listening;
        }
        int64_t next = s->next_scan;
        if (!accepting && s->accept_paused_until > now &&
            (next < 0 || s->accept_paused_until < next)) {
            next = s->accept_paused_until;
        }
        int timeout = -1;
        if (next >= 0) {
            timeout = next <= now ? 0 : next - now > INT_MAX ? INT_MAX : (int)(next - now);
        }
        int k = epoll_wait(s->epfd, evs, EVENT_BATCH, timeout);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PREFIX ": epoll_wait: %s\n", strerror(errno));
            return TOOL_EXIT_FAIL;
        }
        /* the signals first: a stop leaves the ready connections to the shutdown */
        uint32_t ready_listeners = 0;
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u64 == TAG_SIGNAL) {
                unsigned char drain[64];
                while (read(s->sig_fd, drain, sizeof drain) > 0) {
                }
                if (stopping) {
                    return TOOL_EXIT_OK;
                }
                if (reload_pending) {
                    reload_pending = 0;
                    reload(s);
                }
            } else if (evs[i].data.u64 < TAG_CONN_MIN) {
                ready_listeners |= 1u << (evs[i].data.u64 - TAG_LISTEN);
            }
        }
        /* Existing connections first, then new ones. epoll reports each socket once per
         * wakeup and a step touches only its own connection, so none of these is one a
         * step before it has ended. */
        for (int i = 0; i < k; i++) {
            if (evs[i].data.u64 < TAG_CONN_MIN) {
                continue;
            }
            struct conn *c = (struct conn *)(uintptr_t)evs[i].data.u64;
            s->current = c;
            if (!step(s, c) || !rearm(s, c)) {
                conn_gone(s, c);
            }
        }
        now = now_ms();
        if (s->next_scan >= 0 && now >= s->next_scan) {
            scan_deadlines(s, now);
        }
        for (int l = 0; l < s->listen_n; l++) {
            if ((ready_listeners & (1u << l)) != 0) {
                accept_some(s, s->listen_fds[l]);
            }
        }
    }
    return TOOL_EXIT_OK;
}

/* Room for max_conns sockets: raise the soft descriptor limit toward the hard one. */
static void raise_fd_limit(unsigned long max_conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_conns + 16;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
        fprintf(stderr,
                PREFIX ": warning: only %lu file descriptors allowed; fewer than "
                       "--max-conns %lu connections will fit\n",
                (unsigned long)rl.rlim_cur, max_conns);
    }
}

static int install_signals(void)
{
    struct sigaction sa;

    if (pipe(sig_pipe) != 0) {
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
        (void)fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0) {
        return -1;
    }
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* --ticket-key-file, --ticket-rotate: 0, or -1 after a message */
static int set_ticket_key(const struct server_opts *o, mica_config *cfg)
{
    unsigned char secret[1025];
    size_t n = 0;
    unsigned long rotate = 3600;
    mica_err err;

    if (o->ticket_rotate != NULL) {
        char *end = NULL;
        errno = 0;
        rotate = strtoul(o->ticket_rotate, &end, 10);
        if (errno != 0 || end == o->ticket_rotate || *end != '\0' || o->ticket_rotate[0] == '-' ||
            rotate < 60 || rotate > 604800) {
            fprintf(stderr, PREFIX ": --ticket-rotate '%s': give seconds from 60 to 604800\n",
                    o->ticket_rotate);
            return -1;
        }
    }
    if (o->ticket_key_file != NULL) {
        struct stat st;
        FILE *f = fopen(o->ticket_key_file, "rb");
        if (f == NULL) {
            fprintf(stderr, PREFIX ": --ticket-key-file %s: %s\n", o->ticket_key_file,
                    strerror(errno));
            return -1;
        }
        if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077) != 0) {
            fprintf(stderr,
                    PREFIX ": warning: --ticket-key-file %s can be read by others; whoever "
                           "reads it can open every ticket (chmod 600)\n",
                    o->ticket_key_file);
        }
        n = fread(secret, 1, sizeof secret, f);
        fclose(f);
        if (n < 32 || n > 1024) {
            fprintf(stderr,
                    PREFIX ": --ticket-key-file %s: %s; it must hold 32 to 1024 bytes (e.g. "
                           "head -c 48 /dev/urandom > FILE)\n",
                    o->ticket_key_file, n < 32 ? "too short" : "too long");
            memset(secret, 0, sizeof secret);
            return -1;
        }
    }
    if (n == 0) {
        /* no key file: one random secret for the life of the process, so tickets survive
         * a SIGHUP reload and are shared by the --workers */
        static unsigned char own[48];
        static bool made;
        if (!made) {
            if (getrandom(own, sizeof own, 0) != (ssize_t)sizeof own) {
                fprintf(stderr, PREFIX ": cannot draw the ticket secret: %s\n", strerror(errno));
                return -1;
            }
            made = true;
        }
        memcpy(secret, own, sizeof own);
        n = sizeof own;
    }
    err = mica_config_set_ticket_key(cfg, secret, n, (unsigned)rotate);
    memset(secret, 0, sizeof secret);
    if (err != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot set the ticket key: %s\n", mica_err_sentence(err));
        return -1;
    }
    return 0;
}

static mica_config *server_config(const struct server_opts *o)
{
    mica_config *cfg = mica_config_new();
    mica_err err;

    if (cfg == NULL) {
        fprintf(stderr, PREFIX ": %s\n", mica_err_sentence(MICA_E_NOMEM));
        return NULL;
    }
    if (tool_set_algorithms(cfg, PREFIX, o->ciphers, o->groups, o->alpn) != 0) {
        mica_config_free(cfg);
        return NULL;
    }
    for (int i = 0; i < o->certs_n; i++) {
        if (tool_readable(PREFIX, "--cert", o->certs[i]) != 0 ||
            tool_readable(PREFIX, "--key", o->keys[i]) != 0) {
            mica_config_free(cfg);
            return NULL;
        }
        err = mica_config_add_cert_chain_file(cfg, o->certs[i], o->keys[i]);
        if (err != MICA_OK) {
            /* The generic sentence of MICA_E_DECODE speaks of a peer; here it is a file. */
            fprintf(stderr, PREFIX ": cannot use --cert %s --key %s: %s\n", o->certs[i], o->keys[i],
                    err == MICA_E_DECODE ? "not a PEM certificate chain and a PEM private key"
                                         : mica_err_sentence(err));
            mica_config_free(cfg);
            return NULL;
        }
    }
    err = mica_config_set_tickets(cfg, (unsigned)o->tickets, TICKET_LIFETIME_S);
    if (err != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot set --tickets %lu: %s\n", o->tickets,
                mica_err_sentence(err));
        mica_config_free(cfg);
        return NULL;
    }
    if (set_ticket_key(o, cfg) != 0) {
        mica_config_free(cfg);
        return NULL;
    }
    if ((o->session_cache > 0 &&
         (err = mica_config_set_session_cache(cfg, o->session_cache)) != MICA_OK) ||
        (o->early_data > 0 &&
         (err = mica_config_set_early_data(cfg, (uint32_t)o->early_data)) != MICA_OK)) {
        fprintf(stderr, PREFIX ": cannot set up 0-RTT and sessions: %s\n", mica_err_sentence(err));
        mica_config_free(cfg);
        return NULL;
    }
    if (o->client_ca != NULL && (tool_readable(PREFIX, "--client-ca", o->client_ca) != 0 ||
                                 mica_config_set_ca_file(cfg, o->client_ca) != MICA_OK)) {
        fprintf(stderr, PREFIX ": cannot use --client-ca %s: not a PEM certificate file\n",
                o->client_ca);
        mica_config_free(cfg);
        return NULL;
    }
    if (o->verify_client != NULL) {
        (void)mica_config_set_client_auth(
            cfg, strcmp(o->verify_client, "require") == 0    ? MICA_CLIENT_AUTH_REQUIRE
                 : strcmp(o->verify_client, "optional") == 0 ? MICA_CLIENT_AUTH_OPTIONAL
                                                             : MICA_CLIENT_AUTH_NONE);
    }
    if (o->ocsp_staple != NULL &&
        (tool_readable(PREFIX, "--ocsp-staple", o->ocsp_staple) != 0 ||
         mica_config_set_ocsp_staple_file(cfg, o->ocsp_staple) != MICA_OK)) {
        mica_config_free(cfg);
        return NULL;
    }
    if (g_replay != NULL) {
        mica_config_set_replay_store(cfg, shared_replay_check, g_replay);
    }
    if (o->no_anti_replay) {
        mica_config_insecure_no_anti_replay(cfg);
        if (o->early_data > 0) {
            fprintf(stderr, PREFIX ": warning: --anti-replay off: a recorded 0-RTT flight can be "
                                   "replayed, and its early data is then accepted again\n");
        }
    }
    return cfg;
}

static int open_listener(const struct server_opts *o, const char *accept, int *fd)
{
    char host[256], port[32], where[300];

    if (tool_split_hostport(accept, PREFIX, host, sizeof host, port, sizeof port) != 0) {
        return TOOL_EXIT_USAGE;
    }
    if (o->workers > 1) {
        if (listen_shared(host, port, fd) != 0) {
            return TOOL_EXIT_FAIL;
        }
        int fl = fcntl(*fd, F_GETFL);
        if (fl < 0 || fcntl(*fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            close(*fd);
            return TOOL_EXIT_FAIL;
        }
        char wh[300], ip2[48];
        unsigned lp;
        format_addr(*fd, false, wh, sizeof wh, ip2, sizeof ip2, &lp);
        fprintf(stderr, PREFIX ": listening on %s (%s, worker %d)\n", wh,
                o->mode == MODE_WWW ? "www" : "echo", (int)getpid());
        return TOOL_EXIT_OK;
    }
    errno = 0;
    mica_err err = mica_io_listen(host, port, fd);
    if (err != MICA_OK) {
        int e = errno;
        fprintf(stderr, PREFIX ": cannot listen on %s: %s\n", accept,
                e != 0 ? strerror(e)
                       : (err == MICA_E_ARGUMENT ? "the address does not resolve"
                                                 : mica_err_sentence(err)));
        return TOOL_EXIT_FAIL;
    }
    int flags = fcntl(*fd, F_GETFL);
    if (flags < 0 || fcntl(*fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        fprintf(stderr, PREFIX ": %s\n", strerror(errno));
        close(*fd);
        return TOOL_EXIT_FAIL;
    }
    char ip[48];
    unsigned lport;
    format_addr(*fd, false, where, sizeof where, ip, sizeof ip, &lport);
    fprintf(stderr, PREFIX ": listening on %s (%s)\n", where, o->mode == MODE_WWW ? "www" : "echo");
    return TOOL_EXIT_OK;
}

/*
 * --workers N: fork N workers, each of which returns -1 from here and serves on its own
 * SO_REUSEPORT socket; the parent forwards SIGINT, SIGTERM and SIGHUP to them, waits for
 * them all, and returns the exit status (0 when every worker stopped cleanly).
 */
static volatile sig_atomic_t forward_sig;

static void on_parent_signal(int sig)
{
    forward_sig = sig;
}

static int run_workers(const struct server_opts *o)
{
    pid_t pids[64];
    unsigned long n = 0;
    int rc = TOOL_EXIT_OK, status;
    struct sigaction sa;

    fflush(NULL);
    for (; n < o->workers; n++) {
        pid_t pid = fork();
        if (pid == 0) {
            return -1;
        }
        if (pid < 0) {
            fprintf(stderr, PREFIX ": cannot start worker %lu: %s\n", n + 1, strerror(errno));
            rc = TOOL_EXIT_FAIL;
            break;
        }
        pids[n] = pid;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGHUP, &sa, NULL);
    if (rc != TOOL_EXIT_OK) {
        forward_sig = SIGTERM;
    }
    for (unsigned long left = n; left > 0;) {
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR) {
            if (forward_sig != 0) {
                for (unsigned long i = 0; i < n; i++) {
                    if (pids[i] > 0) {
                        (void)kill(pids[i], forward_sig);
                    }
                }
                forward_sig = 0;
            }
            continue;
        }
        if (pid < 0) {
            break;
        }
        for (unsigned long i = 0; i < n; i++) {
            if (pids[i] == pid) {
                pids[i] = 0;
                left--;
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            rc = TOOL_EXIT_FAIL;
            /* one failed (it could not listen, say): stop the others too */
            for (unsigned long i = 0; i < n; i++) {
                if (pids[i] > 0) {
                    (void)kill(pids[i], SIGTERM);
                }
            }
        }
    }
    return rc;
}

/* The settings --config may hold: parse_server_args's flags without "--". */
static const char *const config_with_value[] = {
    "cert",        "key",         "accept",        "ciphers",          "groups",
    "alpn",        "max-conns",   "tickets",       "ticket-key-file",  "ticket-rotate",
    "keylog",      "access-log",  "trace-dir",     "early-data",       "session-cache",
    "anti-replay", "ocsp-staple", "verify-client", "client-ca",        "root",
    "hsts",        "workers",     "idle-timeout",  "handshake-timeout"};
static const char *const config_flags[] = {"echo", "www", "verbose", "trace", "no-tickets"};
const struct tool_conffile_names tool_server_config_names = {
    config_with_value, MICA_ARRAY_LEN(config_with_value), config_flags,
    MICA_ARRAY_LEN(config_flags)};

/* The text of --config FILE, at most TOOL_CONFFILE_MAX_BYTES + 1 of it (more is refused by
 * the parser): a new buffer in *text, its length in *len. -1 after a message. */
static int config_read(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "r");

    *text = NULL;
    *len = 0;
    if (f == NULL) {
        fprintf(stderr, PREFIX ": --config %s: %s\n", path, strerror(errno));
        return -1;
    }
    *text = malloc(TOOL_CONFFILE_MAX_BYTES + 1);
    if (*text == NULL) {
        fclose(f);
        fprintf(stderr, PREFIX ": --config %s: out of memory\n", path);
        return -1;
    }
    *len = fread(*text, 1, TOOL_CONFFILE_MAX_BYTES + 1, f);
    if (ferror(f)) {
        fprintf(stderr, PREFIX ": --config %s: %s\n", path, strerror(errno));
        fclose(f);
        free(*text);
        *text = NULL;
        return -1;
    }
    fclose(f);
    return 0;
}

/*
 * --config FILE: the same settings as the flags (tools/conffile.h: one per line, the
 * flag's name without "--", then its value; '#' starts a comment). The settings come
 * first and the command line after them, so a flag given there wins (and --cert/--key
 * pairs add to the file's). Returns a new argument vector whose strings live in *cf (keep
 * it as long as the options are used), or NULL after printing why.
 */
static char **config_args(int argc, char **argv, int *out_argc, struct tool_conffile *cf)
{
    const char *path = NULL;
    char **out;
    int n = 0;

    cf->argv = NULL;
    cf->argc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
    }
    if (path != NULL) {
        char *text, why[256];
        size_t len;
        if (config_read(path, &text, &len) != 0) {
            return NULL;
        }
        int rc = tool_conffile_parse(text, len, &tool_server_config_names, cf, why, sizeof why);
        free(text);
        if (rc != 0) {
            if (cf->line > 0) {
                fprintf(stderr, PREFIX ": %s:%zu: %s\n", path, cf->line, why);
            } else {
                fprintf(stderr, PREFIX ": %s: %s\n", path, why);
            }
            return NULL;
        }
    }
    out = calloc((size_t)argc + (size_t)cf->argc + 1, sizeof *out);
    if (out == NULL) {
        tool_conffile_free(cf);
        return NULL;
    }
    out[n++] = argv[0];
    for (int i = 0; i < cf->argc; i++) {
        out[n++] = cf->argv[i];
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--config=", 9) == 0) {
            continue;
        }
        out[n++] = argv[i];
    }
    out[n] = NULL;
    *out_argc = n;
    return out;
}

int tool_server_config_check(const char *text, size_t len)
{
    static char name[] = "server";
    struct tool_conffile cf;
    struct server_opts o;
    char why[256];
    char **args;
    int rc;

    if (tool_conffile_parse(text, len, &tool_server_config_names, &cf, why, sizeof why) != 0) {
        fprintf(stderr, PREFIX ": --config:%zu: %s\n", cf.line, why);
        return -1;
    }
    args = calloc((size_t)cf.argc + 2, sizeof *args);
    if (args == NULL) {
        tool_conffile_free(&cf);
        return -1;
    }
    args[0] = name;
    for (int i = 0; i < cf.argc; i++) {
        args[i + 1] = cf.argv[i];
    }
    memset(&o, 0, sizeof o);
    rc = parse_server_args(cf.argc + 1, args, &o);
    free(args);
    tool_conffile_free(&cf);
    return rc == 0 ? 0 : -1;
}

int cmd_server(int argc, char **argv)
{
    struct server_opts o;
    struct server s;
    struct tool_keylog keylog = {.fd = -1};
    int rc;
    /* the settings point into these for the life of the process */
    static struct tool_conffile config;
    static char **all;
    int all_argc = 0;

    all = config_args(argc, argv, &all_argc, &config);
    if (all == NULL) {
        return TOOL_EXIT_USAGE;
    }
    memset(&o, 0, sizeof o);
    rc = parse_server_args(all_argc, all, &o);
    if (rc != 0) {
        return rc > 0 ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
    }
    memset(&s, 0, sizeof s);
    s.o = &o;
    s.listen_n = 0;
    s.epfd = -1;
    s.access_fd = -1;
    if (o.early_data > 0 && !o.no_anti_replay && (g_replay = shared_replay_new()) == NULL) {
        fprintf(stderr, PREFIX ": cannot make the anti-replay store: %s\n", strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    s.cfg = server_config(&o);
    if (s.cfg != NULL && o.workers > 1) {
        rc = run_workers(&o);
        if (rc >= 0) { /* the parent: its workers have all stopped */
            mica_config_free(s.cfg);
            return rc;
        }
        /* a worker: go on as a server of its own (same config, same secrets) */
        rc = TOOL_EXIT_OK;
    }
    if (s.cfg == NULL) {
        return TOOL_EXIT_FAIL;
    }
    if (tool_keylog_open(&keylog, s.cfg, PREFIX, o.keylog) != 0) {
        mica_config_free(s.cfg);
        return TOOL_EXIT_FAIL;
    }
    if (o.access_log != NULL) {
        s.access_fd = open(o.access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (s.access_fd < 0) {
            fprintf(stderr, PREFIX ": cannot open --access-log %s: %s\n", o.access_log,
                    strerror(errno));
            mica_config_free(s.cfg);
            tool_keylog_close(&keylog);
            return TOOL_EXIT_FAIL;
        }
    }
    if (o.trace_dir != NULL) {
        struct stat st;
        if (stat(o.trace_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, PREFIX ": --trace-dir %s is not a directory\n", o.trace_dir);
            if (s.access_fd >= 0) {
                close(s.access_fd);
            }
            mica_config_free(s.cfg);
            tool_keylog_close(&keylog);
            return TOOL_EXIT_FAIL;
        }
    }
    if (o.trace || o.trace_dir != NULL) {
        mica_config_set_trace(s.cfg, on_trace, &s);
    }
    s.cfgs[0] = s.cfg;
    s.keylog = &keylog;
    if (o.mode == MODE_WWW && o.alpn != NULL && strstr(o.alpn, "h2") != NULL) {
        fprintf(stderr, PREFIX ": warning: --www speaks HTTP/1.x only; a client that gets h2 "
                               "from --alpn will not understand the answer\n");
    }
    s.conns = calloc(o.max_conns, sizeof *s.conns);
    s.scratch = malloc(ECHO_CAP);
    if (s.conns == NULL || s.scratch == NULL || install_signals() != 0) {
        fprintf(stderr, PREFIX ": cannot start: %s\n", strerror(errno));
        rc = TOOL_EXIT_FAIL;
    } else {
        raise_fd_limit(o.trace_dir != NULL ? 2 * o.max_conns : o.max_conns);
        for (int l = 0; l < o.accepts_n && rc == TOOL_EXIT_OK; l++) {
            rc = open_listener(&o, o.accepts[l], &s.listen_fds[l]);
            if (rc == TOOL_EXIT_OK) {
                s.listen_n++;
            }
        }
    }
    if (rc == TOOL_EXIT_OK) {
        s.sig_fd = sig_pipe[0];
        rc = serve(&s);
        fprintf(stderr, PREFIX ": stopping (%zu connection%s open)\n", s.n, s.n == 1 ? "" : "s");
    }
    size_t open_n = s.n;
    for (size_t i = 0; i < open_n; i++) {
        struct conn *c = s.conns[i];
        s.current = c;
        (void)mica_io_close(c->io); /* close_notify if the socket takes it now */
        if (c->hs_us < 0 && c->result[0] == '\0') {
            snprintf(c->result, sizeof c->result, "shutdown");
            snprintf(c->error, sizeof c->error, "the server stopped during the handshake");
        }
        conn_end(&s, c);
    }
    s.n = 0;
    if (s.access_fd >= 0) {
        close(s.access_fd);
    }
    for (int l = 0; l < s.listen_n; l++) {
        close(s.listen_fds[l]);
    }
    free(s.conns);
    if (s.epfd >= 0) {
        close(s.epfd);
    }
    free(s.scratch);
    for (size_t i = 0; i < MAX_CONFIGS; i++) {
        mica_config_free(s.cfgs[i]);
    }
    tool_keylog_close(&keylog);
    return rc;
}
