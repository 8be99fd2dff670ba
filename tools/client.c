/*
 * mica client: connect, handshake, say what was negotiated, then copy standard input to
 * the server and the server's data to standard output.
 *
 * The data phase runs the socket non-blocking under poll(): standard input is read only
 * when the engine has taken everything read before (so a slow server slows the reader,
 * and memory stays bounded), and the socket is read whenever it is readable. At the end
 * of standard input mica sends close_notify and keeps reading; when the server's
 * close_notify arrives mica answers with its own (if not sent yet) and exits 0. A server
 * that closes the TCP connection without close_notify is reported as truncation (exit 1).
 */
#include "cmd.h"
#include "render.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mica/io.h>
#include <mica/mica.h>

#define PREFIX "mica"

struct client_opts {
    const char *cafile;
    const char *servername;
    const char *ciphers;
    const char *groups;
    const char *alpn;
    const char *keylog;
    const char *diagram; /* --diagram FILE: .mmd (Mermaid) or .svg */
    const char *target;
    bool insecure;
    bool quiet;
    bool trace;      /* --trace: the narration on stderr */
    bool trace_json; /* --trace-json: the events as JSON Lines on stderr */
    bool json;       /* --json: the connection report on stdout, then close */
};

static void client_usage(FILE *f)
{
    fprintf(f, "usage: mica client [options] HOST:PORT\n"
               "\n"
               "Connect to a TLS 1.3 server, print what was negotiated on standard error, then\n"
               "copy standard input to the server and the server's data to standard output.\n"
               "At the end of standard input mica sends close_notify and reads on until the\n"
               "server closes. HOST may be a name, an IPv4 address or [an IPv6 address].\n"
               "\n"
               "options:\n"
               "  --cafile FILE      trust the CA certificates in FILE (PEM) instead of the\n"
               "                     system trust store\n"
               "  --servername NAME  the name sent in SNI and checked in the certificate\n"
               "                     (default: HOST; \"\" sends none and needs --insecure)\n"
               "  --ciphers LIST     cipher suites in preference order, separated by ':' or ','\n"
               "                     (mica list shows the names)\n"
               "  --groups LIST      key exchange groups in preference order; the first one\n"
               "                     gets a key share in the ClientHello\n"
               "  --alpn LIST        application protocols to offer, e.g. h2,http/1.1\n"
               "  --insecure         do not verify the server's certificate (tests and\n"
               "                     diagnostics only: anyone on the path can impersonate the\n"
               "                     server); the signature is still checked\n"
               "  --keylog FILE      append the TLS secrets to FILE (NSS key log format, one\n"
               "                     line per secret, created 0600) so that Wireshark or\n"
               "                     tshark can decrypt the connection; without --keylog the\n"
               "                     SSLKEYLOGFILE environment variable names the file. Anyone\n"
               "                     who reads FILE can decrypt the connection; mica warns.\n"
               "  --trace            narrate the handshake step by step on standard error:\n"
               "                     each message and what it means, key changes, the\n"
               "                     certificate check, then round trips, flights and timing\n"
               "  --trace-json       the same events as JSON Lines on standard error\n"
               "                     (docs/trace.md has the schema)\n"
               "  --diagram FILE     write the observed handshake as a sequence diagram:\n"
               "                     Mermaid when FILE ends in .mmd, a self-contained SVG\n"
               "                     when it ends in .svg (flights, keys, round trips)\n"
               "  --json             handshake, print the connection report as one JSON\n"
               "                     document on standard output, and close (no data is\n"
               "                     copied); the keys are listed in docs/trace.md\n"
               "  --quiet            do not print the negotiated parameters\n"
               "  --help             this text\n"
               "\n"
               "exit status: 0 when the server closed the connection cleanly, 1 on any\n"
               "failure (the reason follows \"mica: \" on standard error), 2 for a bad command "
               "line.\n"
               "A --keylog FILE that cannot be opened is a failure (1); an SSLKEYLOGFILE that\n"
               "cannot be opened is a warning, and the connection goes ahead without a key log.\n"
               "\n"
               "examples:\n"
               "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | mica client example.com:443\n"
               "  mica client --keylog keys.txt example.com:443 </dev/null\n"
               "  tshark -r capture.pcapng -o tls.keylog_file:keys.txt   # decrypted\n");
}

static int parse_client_args(int argc, char **argv, struct client_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            client_usage(stdout);
            return 1;
        }
        if ((r = tool_opt_value(argc, argv, &i, "--cafile", PREFIX, &o->cafile)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--servername", PREFIX, &o->servername)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ciphers", PREFIX, &o->ciphers)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--groups", PREFIX, &o->groups)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--alpn", PREFIX, &o->alpn)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--keylog", PREFIX, &o->keylog)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--diagram", PREFIX, &o->diagram)) != 0) {
            if (r < 0) {
                return -1;
            }
            continue;
        }
        if (strcmp(a, "--insecure") == 0) {
            o->insecure = true;
            continue;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        }
        if (strcmp(a, "--trace") == 0) {
            o->trace = true;
            continue;
        }
        if (strcmp(a, "--trace-json") == 0) {
            o->trace_json = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, PREFIX ": unknown option '%s' (see mica client --help)\n", a);
            return -1;
        }
        if (o->target != NULL) {
            fprintf(stderr, PREFIX ": one HOST:PORT only ('%s' and '%s')\n", o->target, a);
            return -1;
        }
        o->target = a;
    }
    if (o->target == NULL) {
        fprintf(stderr, PREFIX ": which server? (mica client [options] HOST:PORT)\n");
        return -1;
    }
    if (o->diagram != NULL) {
        size_t n = strlen(o->diagram);
        if (n < 5 ||
            (strcmp(o->diagram + n - 4, ".mmd") != 0 && strcmp(o->diagram + n - 4, ".svg") != 0)) {
            fprintf(stderr, PREFIX ": --diagram FILE must end in .mmd (Mermaid) or .svg\n");
            return -1;
        }
    }
    if (o->keylog != NULL && o->keylog[0] == '\0') {
        fprintf(stderr, PREFIX ": --keylog needs a file name\n");
        return -1;
    }
    return 0;
}

static mica_config *client_config(const struct client_opts *o)
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
    if (o->cafile != NULL && tool_readable(PREFIX, "--cafile", o->cafile) != 0) {
        mica_config_free(cfg);
        return NULL;
    }
    if (o->cafile != NULL && (err = mica_config_set_ca_file(cfg, o->cafile)) != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot use --cafile %s: %s\n", o->cafile, mica_err_sentence(err));
        mica_config_free(cfg);
        return NULL;
    }
    if (o->insecure) {
        mica_config_insecure_no_verify(cfg);
    }
    return cfg;
}

/* Say why mica_io_connect_name failed: it reports socket-level causes through errno. */
static void report_connect_error(mica_err err, int saved_errno, const char *host, const char *port,
                                 const char *target)
{
    if (err == MICA_E_ARGUMENT) {
        /* Either the name does not resolve or the engine refused the arguments: ask the
         * resolver again to tell which, and for its own words. */
        struct addrinfo hints;
        struct addrinfo *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0) {
            fprintf(stderr, PREFIX ": cannot resolve %s: %s\n", target, gai_strerror(rc));
            return;
        }
        freeaddrinfo(res);
    }
    if (err == MICA_E_IO) {
        fprintf(stderr, PREFIX ": cannot connect to %s: %s\n", target, strerror(saved_errno));
        return;
    }
    fprintf(stderr, PREFIX ": %s\n", mica_err_sentence(err));
}

static void print_negotiated(mica_io *io, const struct client_opts *o)
{
    const mica_conn *c = mica_io_conn(io);
    const char *alpn = mica_conn_alpn(c);
    const char *sig = mica_conn_sig_scheme(c);
    const char *group = mica_conn_group(c);

    fprintf(stderr, "version: %s\n", mica_conn_version(c));
    fprintf(stderr, "cipher: %s\n", mica_conn_cipher_suite(c));
    fprintf(stderr, "group: %s\n", group != NULL ? group : "none");
    fprintf(stderr, "hrr: %s\n",
            mica_conn_hrr(c) ? "yes (the server asked for another key share)" : "no");
    fprintf(stderr, "signature scheme: %s\n", sig != NULL ? sig : "none");
    fprintf(stderr, "alpn: %s\n", alpn != NULL ? alpn : "none");
    if (mica_conn_verified(c)) {
        fprintf(stderr, "verification: ok\n");
    } else if (o->insecure) {
        fprintf(stderr, "verification: skipped (--insecure)\n");
    }
}

/*
 * Without --insecure the engine ends a handshake whose chain does not verify; this
 * second look makes sure no data flows over an unverified connection even if that
 * changed. false (after a message) when the connection must not be used.
 */
static bool check_verified(mica_io *io, const struct client_opts *o)
{
    const mica_conn *c = mica_io_conn(io);
    const char *why = mica_conn_verify_error(c);

    if (o->insecure || mica_conn_verified(c)) {
        return true;
    }
    why = why != NULL ? why : "the server's certificate chain was not verified";
    if (!o->quiet) {
        fprintf(stderr, "verification: FAILED: %s\n", why);
    }
    fprintf(stderr, PREFIX ": %s\n", why);
    return false;
}

/* write(2) all of buf to fd. */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool has_pending(mica_io *io)
{
    const uint8_t *out = NULL;
    size_t len = 0;
    (void)mica_conn_pending(mica_io_conn(io), &out, &len);
    return len > 0;
}

/* The server's close_notify came: answer with ours, sent in full, then stop. */
static int finish(mica_io *io, bool close_sent)
{
    mica_err err;

    if (mica_io_set_nonblocking(io, 0) != MICA_OK) {
        return TOOL_EXIT_FAIL;
    }
    err = close_sent ? mica_io_write(io, NULL, 0, &(size_t){0}) : mica_io_close(io);
    if (err != MICA_OK) {
        fprintf(stderr, PREFIX ": %s\n", mica_io_error_sentence(io));
        return TOOL_EXIT_FAIL;
    }
    return TOOL_EXIT_OK;
}

static int fail_io(mica_io *io)
{
    fprintf(stderr, PREFIX ": %s\n", mica_io_error_sentence(io));
    return TOOL_EXIT_FAIL;
}

/* The data phase: stdin -> server, server -> stdout, until the server closes. */
static int relay(mica_io *io)
{
    static unsigned char in[16384];
    static unsigned char out[16384];
    size_t in_off = 0, in_len = 0;
    bool stdin_open = true;
    bool close_sent = false;
    mica_err err;

    if (mica_io_set_nonblocking(io, 1) != MICA_OK) {
        return fail_io(io);
    }
    for (;;) {
        /* 1. Standard input the engine has not taken yet. */
        if (in_off < in_len) {
            size_t n = 0;
            err = mica_io_write(io, in + in_off, in_len - in_off, &n);
            if (err == MICA_OK) {
                in_off += n;
            } else if (err != MICA_WANT_WRITE) {
                return fail_io(io);
            }
        }
        if (in_off == in_len) {
            in_off = in_len = 0;
        }
        /* 2. End of standard input: our close_notify, once everything before it is out. */
        if (!stdin_open && in_len == 0 && !close_sent) {
            err = mica_io_close(io);
            if (err == MICA_OK) {
                close_sent = true;
            } else if (err != MICA_WANT_WRITE) {
                return fail_io(io);
            }
        }
        /* 3. Everything the server has sent. */
        for (;;) {
            size_t n = 0;
            err = mica_io_read(io, out, sizeof out, &n);
            if (err == MICA_WANT_READ || err == MICA_WANT_WRITE) {
                break;
            }
            if (err != MICA_OK) {
                return fail_io(io);
            }
            if (n == 0) {
                return finish(io, close_sent);
            }
            if (write_all(STDOUT_FILENO, out, n) != 0) {
                fprintf(stderr, PREFIX ": cannot write to standard output: %s\n", strerror(errno));
                return TOOL_EXIT_FAIL;
            }
        }
        /* 4. Wait for the socket, and for standard input when there is room for more. */
        struct pollfd p[2] = {
            {.fd = mica_io_fd(io), .events = POLLIN},
            {.fd = stdin_open && in_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
        };
        if (has_pending(io) || in_len > 0) {
            p[0].events |= POLLOUT;
        }
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PREFIX ": poll: %s\n", strerror(errno));
            return TOOL_EXIT_FAIL;
        }
        if (p[1].revents != 0) {
            ssize_t n = read(STDIN_FILENO, in, sizeof in);
            if (n > 0) {
                in_len = (size_t)n;
            } else if (n == 0) {
                stdin_open = false;
            } else if (errno != EINTR && errno != EAGAIN) {
                fprintf(stderr, PREFIX ": cannot read standard input: %s\n", strerror(errno));
                return TOOL_EXIT_FAIL;
            }
        }
    }
}

int cmd_client(int argc, char **argv)
{
    struct client_opts o;
    char host[256], port[32];
    mica_io *io = NULL;
    int rc;

    memset(&o, 0, sizeof o);
    rc = parse_client_args(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? TOOL_EXIT_OK : TOOL_EXIT_USAGE;
    }
    if (tool_split_hostport(o.target, PREFIX, host, sizeof host, port, sizeof port) != 0) {
        return TOOL_EXIT_USAGE;
    }
    const char *servername = o.servername != NULL ? o.servername : host;
    if (servername[0] == '\0') {
        servername = NULL;
        if (!o.insecure) {
            fprintf(stderr, PREFIX ": without a server name the certificate cannot be "
                                   "verified; give --servername or --insecure\n");
            return TOOL_EXIT_USAGE;
        }
    }
    mica_config *cfg = client_config(&o);
    if (cfg == NULL) {
        return TOOL_EXIT_FAIL;
    }
    static struct render view;
    memset(&view, 0, sizeof view);
    view.narrate = o.trace ? stderr : NULL;
    view.jsonl = o.trace_json ? stderr : NULL;
    if (o.trace || o.trace_json || o.json || o.diagram != NULL) {
        mica_config_set_trace(cfg, render_event, &view);
    }
    struct tool_keylog keylog;
    if (tool_keylog_open(&keylog, cfg, PREFIX, o.keylog) != 0) {
        mica_config_free(cfg);
        return TOOL_EXIT_FAIL;
    }
    if (o.insecure) {
        fprintf(stderr, PREFIX ": warning: --insecure: the server's certificate is not "
                               "verified; anyone on the path can impersonate the server\n");
    }
    (void)signal(SIGPIPE, SIG_IGN);

    errno = 0;
    mica_err err = mica_io_connect_name(cfg, host, port, servername, &io);
    if (err != MICA_OK) {
        report_connect_error(err, errno, host, port, o.target);
        mica_config_free(cfg);
        tool_keylog_close(&keylog);
        return TOOL_EXIT_FAIL;
    }
    if (!o.quiet) {
        fprintf(stderr, "connected to %s\n", o.target);
    }
    if (mica_io_handshake(io) != MICA_OK) {
        if (o.json) { /* the report says what was seen, and why it failed */
            render_report(&view, mica_io_conn(io), stdout);
            fflush(stdout);
        }
        rc = fail_io(io);
    } else if (o.json) {
        /* the report is the output: no data is copied */
        if (o.trace) {
            render_summary(&view, stderr);
        }
        render_report(&view, mica_io_conn(io), stdout);
        fflush(stdout);
        rc = check_verified(io, &o) ? finish(io, false) : TOOL_EXIT_FAIL;
    } else {
        if (o.trace) {
            render_summary(&view, stderr);
        }
        if (!o.quiet) {
            print_negotiated(io, &o);
        }
        rc = check_verified(io, &o) ? relay(io) : TOOL_EXIT_FAIL;
    }
    if (o.diagram != NULL && view.msgs_n > 0) {
        FILE *df = fopen(o.diagram, "w");
        size_t n = strlen(o.diagram);
        if (df == NULL) {
            fprintf(stderr, PREFIX ": cannot write %s: %s\n", o.diagram, strerror(errno));
            rc = TOOL_EXIT_FAIL;
        } else {
            render_diagram(&view, o.target, strcmp(o.diagram + n - 4, ".svg") == 0, df);
            fclose(df);
            if (!o.quiet) {
                fprintf(stderr, "diagram written to %s\n", o.diagram);
            }
        }
    }
    mica_io_free(io);
    mica_config_free(cfg);
    tool_keylog_close(&keylog);
    return rc;
}
