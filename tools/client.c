/*
 * mica client: connect, handshake, say what was negotiated, then copy standard input to
 * the server and the server's data to standard output.
 *
 * The data phase runs the socket non-blocking under poll(): standard input is read only
 * when the engine has taken everything read before (so a slow server slows the reader,
 * and memory stays bounded), and the socket is read whenever it is readable. At the end
 * of standard input mica sends close_notify and keeps reading; when the server's
 * close_notify arrives mica answers with its own (if not sent yet) and exits 0. A server
 * that closes the TCP connection without close_notify is reported as truncation (exit 3).
 *
 * The TCP connection is made here (getaddrinfo, a non-blocking connect(2) under poll()
 * for --connect-timeout) and handed to mica_io_wrap; the handshake then runs
 * non-blocking too, so that --timeout bounds every wait for the server.
 *
 * Exit codes: 0 ok, 1 a TLS or verification failure, 2 a bad command line, 3 the network
 * (a name that does not resolve, a refused or unreachable connection, a timeout, a
 * connection reset or closed without close_notify).
 */
#include "cmd.h"
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mica/cert.h>
#include <mica/io.h>
#include <mica/mica.h>

#define PREFIX "mica"

/* --connect-timeout's default, and --timeout's for --http and --json (milliseconds). */
#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_TIMEOUT_MS 10000

#define MAX_PINS 16

struct client_opts {
    const char *cafile;
    const char *capath;         /* --capath DIR: a hashed CA directory */
    const char *pins[MAX_PINS]; /* --pin sha256/BASE64, repeatable */
    int pins_n;
    const char *ocsp;      /* --ocsp off|auto|require */
    const char *crl;       /* --crl FILE */
    const char *untrusted; /* --untrusted FILE: intermediates the server may not send */
    const char *cert;      /* --cert FILE --key FILE: a client certificate for mutual TLS */
    const char *key;
    const char *servername;
    const char *ciphers;
    const char *groups;
    const char *alpn;
    const char *keylog;
    const char *diagram; /* --diagram FILE: .mmd (Mermaid) or .svg */
    const char *http;    /* --http PATH: send a GET, print the response */
    const char *target;
    const char *timeout_arg; /* --timeout SEC as given, for messages */
    const char *connect_timeout_arg;
    const char *sess_in;  /* --sess-in FILE: offer the session saved there */
    const char *sess_out; /* --sess-out FILE: save the newest session there */
    const char *reconnect_arg;
    const char *early_file; /* --early-data FILE: its bytes go as 0-RTT when allowed */
    unsigned char *early;   /* FILE's contents */
    size_t early_len;
    int reconnect;          /* --reconnect N: N more connections, each with the newest session */
    int timeout_ms;         /* -1: none */
    int connect_timeout_ms; /* > 0 */
    int family;             /* AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6) */
    bool insecure;
    bool quiet;
    bool brief;      /* --brief: one line instead of the negotiated block */
    bool showcerts;  /* --showcerts: the peer's chain on stderr */
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
               "  --cert FILE --key FILE  a certificate chain (PEM, leaf first) and its key to\n"
               "                     send when the server asks for one (mutual TLS)\n"
               "  --capath DIR       trust the CA certificates in DIR (hashed, as c_rehash or\n"
               "                     openssl rehash makes it) instead of the system store\n"
               "  --pin sha256/BASE64  also require that a certificate of the verified chain\n"
               "                     has this public key (SPKI pin, as --showcerts prints);\n"
               "                     repeatable: any one pin matching is enough\n"
               "  --ocsp MODE        revocation by the server's stapled OCSP response: off (do\n"
               "                     not ask), auto (check one if stapled; the default), or\n"
               "                     require (fail without a good one)\n"
               "  --untrusted FILE   intermediate certificates (PEM) to complete the server's\n"
               "                     chain with when it does not send them; not trusted\n"
               "  --crl FILE         also check the server's certificate against this CRL\n"
               "                     (PEM or DER); its issuer must then have a CRL loaded\n"
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
               "  --showcerts        print each certificate the server sent, leaf first:\n"
               "                     subject, issuer, SANs, validity with days left, key,\n"
               "                     signature algorithm, SHA-256 fingerprint and SPKI pin\n"
               "  --brief            one line instead of the negotiated block: version,\n"
               "                     cipher, group, signature scheme, ALPN, verification\n"
               "  --http PATH        send GET PATH HTTP/1.1 (Host, Connection: close,\n"
               "                     User-Agent mica/VERSION) instead of standard input, print\n"
               "                     the whole response on standard output, exit when the\n"
               "                     server closes\n"
               "  --connect-timeout SEC  give up the TCP connection after SEC seconds\n"
               "                     (default 10)\n"
               "  --timeout SEC      give up when the handshake, or any wait for data from\n"
               "                     the server, takes longer than SEC seconds (default: none;\n"
               "                     10 with --http and --json)\n"
               "  -4, -6             use IPv4 or IPv6 addresses of HOST only\n"
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
               "  --sess-out FILE    save the newest session the server sends (a ticket and its\n"
               "                     resumption secret: keep FILE private; created 0600)\n"
               "  --sess-in FILE     offer the session saved in FILE (resumption, with a fresh\n"
               "                     key exchange); a damaged or foreign file is refused, an\n"
               "                     expired session or one for another name is not offered\n"
               "  --early-data FILE  send FILE (at most 1 MiB) first: as 0-RTT early data,\n"
               "                     right behind the ClientHello, when the offered session\n"
               "                     allows it (--sess-in, --reconnect), else (or when the\n"
               "                     server rejects it) right after the handshake. Early data\n"
               "                     can be replayed by an attacker: send only requests that\n"
               "                     are safe to repeat (an HTTP GET)\n"
               "  --reconnect N      after the first connection, connect N more times, each\n"
               "                     offering the newest session, and print for each whether\n"
               "                     it resumed, whether early data was accepted, the round\n"
               "                     trips until the first byte of the answer to\n"
               "                     --early-data's request and the time they took, and the\n"
               "                     handshake time (no other data is copied)\n"
               "  --quiet            do not print the negotiated parameters\n"
               "  --help             this text\n"
               "\n"
               "exit status (the reason follows \"mica: \" on standard error):\n"
               "  0  the server closed the connection cleanly (close_notify)\n"
               "  1  a TLS or certificate verification failure (an alert, an untrusted or\n"
               "     expired certificate, a name mismatch, no common parameters), or a local\n"
               "     failure such as a --keylog FILE that cannot be opened\n"
               "  2  a bad command line\n"
               "  3  the network: HOST does not resolve, the connection is refused or\n"
               "     unreachable, a timeout, a connection reset or closed without close_notify\n"
               "An SSLKEYLOGFILE that cannot be opened is a warning, and the connection goes\n"
               "ahead without a key log.\n"
               "\n"
               "examples:\n"
               "  mica client --http / example.com:443\n"
               "  mica client --brief --showcerts example.com:443 </dev/null\n"
               "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | mica client example.com:443\n"
               "  mica client --keylog keys.txt example.com:443 </dev/null\n"
               "  tshark -r capture.pcapng -o tls.keylog_file:keys.txt   # decrypted\n");
}

/* "SEC" (seconds, a decimal number, at most a day) -> milliseconds; -1 when it is not. */
static int parse_seconds(const char *s)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (s[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !(v > 0.0) || v > 86400.0) {
        return -1;
    }
    int ms = (int)(v * 1000.0 + 0.5);
    return ms > 0 ? ms : 1;
}

/* A request target mica can put on the request line: "/..." of visible ASCII. */
static bool valid_http_path(const char *p)
{
    if (p[0] != '/') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            return false;
        }
    }
    return true;
}

static int read_early_file(struct client_opts *o);

static int parse_client_args(int argc, char **argv, struct client_opts *o)
{
    o->timeout_ms = -1;
    o->connect_timeout_ms = DEFAULT_CONNECT_MS;
    o->family = AF_UNSPEC;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            client_usage(stdout);
            return 1;
        }
        if ((r = tool_opt_value(argc, argv, &i, "--cafile", PREFIX, &o->cafile)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--capath", PREFIX, &o->capath)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ocsp", PREFIX, &o->ocsp)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--crl", PREFIX, &o->crl)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--untrusted", PREFIX, &o->untrusted)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--cert", PREFIX, &o->cert)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--key", PREFIX, &o->key)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--servername", PREFIX, &o->servername)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--ciphers", PREFIX, &o->ciphers)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--groups", PREFIX, &o->groups)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--alpn", PREFIX, &o->alpn)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--keylog", PREFIX, &o->keylog)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--diagram", PREFIX, &o->diagram)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--http", PREFIX, &o->http)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--sess-in", PREFIX, &o->sess_in)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--sess-out", PREFIX, &o->sess_out)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--reconnect", PREFIX, &o->reconnect_arg)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--early-data", PREFIX, &o->early_file)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--timeout", PREFIX, &o->timeout_arg)) != 0 ||
            (r = tool_opt_value(argc, argv, &i, "--connect-timeout", PREFIX,
                                &o->connect_timeout_arg)) != 0) {
            if (r < 0) {
                return -1;
            }
            continue;
        }
        {
            const char *pin = NULL;
            r = tool_opt_value(argc, argv, &i, "--pin", PREFIX, &pin);
            if (r < 0) {
                return -1;
            }
            if (r > 0) {
                if (o->pins_n == MAX_PINS) {
                    fprintf(stderr, PREFIX ": at most %d --pin\n", MAX_PINS);
                    return -1;
                }
                o->pins[o->pins_n++] = pin;
                continue;
            }
        }
        if (strcmp(a, "--insecure") == 0) {
            o->insecure = true;
            continue;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        }
        if (strcmp(a, "--brief") == 0) {
            o->brief = true;
            continue;
        }
        if (strcmp(a, "--showcerts") == 0) {
            o->showcerts = true;
            continue;
        }
        if (strcmp(a, "-4") == 0 || strcmp(a, "-6") == 0) {
            int fam = a[1] == '4' ? AF_INET : AF_INET6;
            if (o->family != AF_UNSPEC && o->family != fam) {
                fprintf(stderr, PREFIX ": -4 and -6 exclude each other\n");
                return -1;
            }
            o->family = fam;
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
    if (o->timeout_arg != NULL && (o->timeout_ms = parse_seconds(o->timeout_arg)) < 0) {
        fprintf(stderr, PREFIX ": --timeout '%s': give seconds, more than 0 and at most 86400\n",
                o->timeout_arg);
        return -1;
    }
    if (o->connect_timeout_arg != NULL &&
        (o->connect_timeout_ms = parse_seconds(o->connect_timeout_arg)) < 0) {
        fprintf(stderr,
                PREFIX ": --connect-timeout '%s': give seconds, more than 0 and at most 86400\n",
                o->connect_timeout_arg);
        return -1;
    }
    if (o->http != NULL && !valid_http_path(o->http)) {
        fprintf(stderr,
                PREFIX ": --http '%s': give a path that starts with '/', without spaces or "
                       "control characters\n",
                o->http);
        return -1;
    }
    if (o->http != NULL && o->json) {
        fprintf(stderr, PREFIX ": --http and --json exclude each other\n");
        return -1;
    }
    if (o->reconnect_arg != NULL) {
        char *end = NULL;
        long n = strtol(o->reconnect_arg, &end, 10);
        if (o->reconnect_arg[0] == '\0' || *end != '\0' || n < 1 || n > 1000) {
            fprintf(stderr, PREFIX ": --reconnect '%s': give a count from 1 to 1000\n",
                    o->reconnect_arg);
            return -1;
        }
        if (o->http != NULL || o->json || o->diagram != NULL) {
            fprintf(stderr, PREFIX ": --reconnect excludes --http, --json and --diagram\n");
            return -1;
        }
        o->reconnect = (int)n;
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        fprintf(stderr, PREFIX ": --cert and --key go together\n");
        return -1;
    }
    if (o->ocsp != NULL && strcmp(o->ocsp, "off") != 0 && strcmp(o->ocsp, "auto") != 0 &&
        strcmp(o->ocsp, "require") != 0) {
        fprintf(stderr, PREFIX ": --ocsp '%s': give off, auto or require\n", o->ocsp);
        return -1;
    }
    if (o->early_file != NULL && (o->http != NULL || o->json)) {
        fprintf(stderr, PREFIX ": --early-data excludes --http and --json\n");
        return -1;
    }
    if (o->early_file != NULL && read_early_file(o) != 0) {
        return -1;
    }
    if (o->timeout_ms < 0 && (o->http != NULL || o->json)) {
        o->timeout_ms = DEFAULT_TIMEOUT_MS;
    }
    return 0;
}

#define EARLY_MAX (1024 * 1024)

static int read_early_file(struct client_opts *o)
{
    FILE *f = fopen(o->early_file, "rb");

    if (f == NULL) {
        fprintf(stderr, PREFIX ": --early-data %s: %s\n", o->early_file, strerror(errno));
        return -1;
    }
    static unsigned char buf[EARLY_MAX + 1]; /* one per process: nothing to free */

    o->early = buf;
    o->early_len = fread(o->early, 1, EARLY_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || o->early_len == 0 || o->early_len > EARLY_MAX) {
        fprintf(stderr, PREFIX ": --early-data %s: %s\n", o->early_file,
                bad                 ? "cannot read it"
                : o->early_len == 0 ? "empty"
                                    : "more than 1 MiB");
        o->early = NULL;
        return -1;
    }
    return 0;
}

static mica_config *client_config(const struct client_opts *o)
{
    mica_config *cfg = mica_config_new();
    mica_err err = MICA_OK;

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
    if (o->cert != NULL &&
        (tool_readable(PREFIX, "--cert", o->cert) != 0 ||
         tool_readable(PREFIX, "--key", o->key) != 0 ||
         (err = mica_config_add_cert_chain_file(cfg, o->cert, o->key)) != MICA_OK)) {
        if (o->cert != NULL && o->key != NULL && err != MICA_OK) {
            fprintf(stderr, PREFIX ": cannot use --cert %s --key %s: %s\n", o->cert, o->key,
                    err == MICA_E_DECODE ? "not a PEM certificate chain and a PEM private key"
                                         : mica_err_sentence(err));
        }
        mica_config_free(cfg);
        return NULL;
    }
    if (o->capath != NULL && (err = mica_config_set_ca_dir(cfg, o->capath)) != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot use --capath %s: %s\n", o->capath, mica_err_sentence(err));
        mica_config_free(cfg);
        return NULL;
    }
    if (o->untrusted != NULL &&
        (err = mica_config_add_intermediates_file(cfg, o->untrusted)) != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot use --untrusted %s: no PEM certificate in it\n",
                o->untrusted);
        mica_config_free(cfg);
        return NULL;
    }
    if (o->crl != NULL && (err = mica_config_add_crl_file(cfg, o->crl)) != MICA_OK) {
        fprintf(stderr, PREFIX ": cannot use --crl %s: not a readable CRL (PEM or DER)\n", o->crl);
        mica_config_free(cfg);
        return NULL;
    }
    for (int i = 0; i < o->pins_n; i++) {
        if (mica_config_add_pin(cfg, o->pins[i]) != MICA_OK) {
            fprintf(stderr,
                    PREFIX ": --pin '%s': give sha256/ and the base64 of a SHA-256 (44 "
                           "characters), as --showcerts prints\n",
                    o->pins[i]);
            mica_config_free(cfg);
            return NULL;
        }
    }
    if (o->ocsp != NULL) {
        (void)mica_config_set_ocsp(cfg, strcmp(o->ocsp, "off") == 0       ? MICA_OCSP_OFF
                                        : strcmp(o->ocsp, "require") == 0 ? MICA_OCSP_REQUIRE
                                                                          : MICA_OCSP_AUTO);
    }
    if (o->insecure) {
        mica_config_insecure_no_verify(cfg);
    }
    if (o->early_len > 0 &&
        (err = mica_config_set_early_data(cfg, (uint32_t)o->early_len)) != MICA_OK) {
        fprintf(stderr, PREFIX ": --early-data: %s\n", mica_err_sentence(err));
        mica_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* The monotonic clock in milliseconds. */
static long long now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline timeout_ms from now; -1 (none) when timeout_ms < 0. */
static long long deadline_in(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* poll(2)'s timeout until deadline: -1 without one, 0 once it has passed. */
static int poll_ms(long long deadline)
{
    if (deadline < 0) {
        return -1;
    }
    long long left = deadline - now_ms();
    return left <= 0 ? 0 : left > 86400000 ? 86400000 : (int)left;
}

/*
 * Resolve host:port and connect a TCP socket to its addresses in turn, each connect(2)
 * non-blocking under poll() so that --connect-timeout bounds the whole attempt. *out gets
 * a connected non-blocking socket. TOOL_EXIT_OK, or TOOL_EXIT_NET after a message.
 */
static int tcp_connect(const struct client_opts *o, const char *host, const char *port, int *out)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    int last_errno = 0;
    bool timed_out = false;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = o->family;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, PREFIX ": cannot resolve %s%s: %s\n", o->target,
                o->family == AF_INET    ? " (-4)"
                : o->family == AF_INET6 ? " (-6)"
                                        : "",
                rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return TOOL_EXIT_NET;
    }
    long long deadline = deadline_in(o->connect_timeout_ms);
    *out = -1;
    for (struct addrinfo *ai = res; ai != NULL && *out < 0 && !timed_out; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            last_errno = errno;
            close(fd);
            continue;
        }
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
        }
        if (err == EINPROGRESS || err == EINTR) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n;
            do {
                n = poll(&p, 1, poll_ms(deadline));
            } while (n < 0 && errno == EINTR);
            if (n == 0) {
                timed_out = true;
                err = ETIMEDOUT;
            } else if (n < 0) {
                err = errno;
            } else {
                socklen_t len = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
                    err = errno;
                }
            }
        }
        if (err != 0) {
            last_errno = err;
            close(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        *out = fd;
    }
    freeaddrinfo(res);
    if (*out >= 0) {
        return TOOL_EXIT_OK;
    }
    if (timed_out) {
        fprintf(stderr,
                PREFIX ": cannot connect to %s: no answer within %g second%s "
                       "(--connect-timeout)\n",
                o->target, o->connect_timeout_ms / 1000.0,
                o->connect_timeout_ms == 1000 ? "" : "s");
    } else {
        fprintf(stderr, PREFIX ": cannot connect to %s: %s\n", o->target,
                strerror(last_errno != 0 ? last_errno : EHOSTUNREACH));
    }
    return TOOL_EXIT_NET;
}

/* The exit status for a failed connection: the network's, or TLS's. */
static int exit_for(mica_err err)
{
    return err == MICA_E_IO || err == MICA_E_CLOSED ? TOOL_EXIT_NET : TOOL_EXIT_FAIL;
}

static int fail_io(mica_io *io, mica_err err)
{
    fprintf(stderr, PREFIX ": %s\n", mica_io_error_sentence(io));
    return exit_for(err);
}

static int fail_timeout(const struct client_opts *o, const char *what)
{
    fprintf(stderr, PREFIX ": %s: the server sent nothing for %g second%s (--timeout)\n", what,
            o->timeout_ms / 1000.0, o->timeout_ms == 1000 ? "" : "s");
    return TOOL_EXIT_NET;
}

static bool has_pending(mica_io *io)
{
    const uint8_t *out = NULL;
    size_t len = 0;
    (void)mica_conn_pending(mica_io_conn(io), &out, &len);
    return len > 0;
}

/*
 * Wait until the socket is ready for what want asks (MICA_WANT_READ or MICA_WANT_WRITE;
 * writing too while the engine has bytes queued), or the deadline passes. 1 ready,
 * 0 timed out, -1 after a message when poll fails.
 */
static int wait_socket(mica_io *io, mica_err want, long long deadline)
{
    struct pollfd p = {.fd = mica_io_fd(io), .events = want == MICA_WANT_WRITE ? POLLOUT : POLLIN};
    if (has_pending(io)) {
        p.events |= POLLOUT;
    }
    for (;;) {
        int n = poll(&p, 1, poll_ms(deadline));
        if (n > 0) {
            return 1;
        }
        if (n == 0) {
            return 0;
        }
        if (errno != EINTR) {
            fprintf(stderr, PREFIX ": poll: %s\n", strerror(errno));
            return -1;
        }
    }
}

/* The handshake on the non-blocking socket, within --timeout. TOOL_EXIT_OK, or the exit
 * status after a message (*err gets the engine's error, MICA_OK for a timeout). */
static int handshake(mica_io *io, const struct client_opts *o, mica_err *err)
{
    long long deadline = deadline_in(o->timeout_ms);
    for (;;) {
        *err = mica_io_handshake(io);
        if (*err == MICA_OK) {
            return TOOL_EXIT_OK;
        }
        if (*err != MICA_WANT_READ && *err != MICA_WANT_WRITE) {
            return exit_for(*err);
        }
        int w = wait_socket(io, *err, deadline);
        if (w <= 0) {
            *err = MICA_OK;
            return w == 0 ? fail_timeout(o, "the handshake did not finish") : TOOL_EXIT_NET;
        }
    }
}

/* --early-data: FILE as early data right behind the ClientHello, when the session offered
 * allows it; *sent gets how much went as early data */
static void send_early(mica_io *io, const struct client_opts *o, size_t *sent)
{
    *sent = 0;
    if (o->early_len > 0 && mica_io_write_early(io, o->early, o->early_len, sent) != MICA_OK) {
        *sent = 0; /* no early data possible: it all goes after the handshake */
    }
}

/* After the handshake: say what became of the early data, and send what the server did
 * not accept (rejected, over the session's limit, or never offered) as ordinary data. */
static int after_early(mica_io *io, const struct client_opts *o, size_t sent, bool report)
{
    mica_early e = mica_conn_early_data(mica_io_conn(io));
    size_t from = e == MICA_EARLY_ACCEPTED ? sent : 0;
    long long deadline = deadline_in(o->timeout_ms);

    if (o->early_len == 0) {
        return TOOL_EXIT_OK;
    }
    if (report && !o->quiet) {
        if (e == MICA_EARLY_ACCEPTED) {
            fprintf(stderr, "early data: accepted (%zu bytes in 0-RTT", sent);
            if (sent < o->early_len) {
                fprintf(stderr, ", the session's limit; %zu more after the handshake",
                        o->early_len - sent);
            }
            fputs(")\n", stderr);
        } else if (e == MICA_EARLY_REJECTED) {
            fprintf(stderr,
                    "early data: rejected by the server; its %zu bytes are sent again after "
                    "the handshake\n",
                    o->early_len);
        } else {
            fprintf(stderr, "early data: not sent (%s); its %zu bytes go after the handshake\n",
                    o->sess_in == NULL && o->reconnect == 0 ? "no session: give --sess-in"
                                                            : "the session does not allow it",
                    o->early_len);
        }
    }
    while (from < o->early_len) {
        size_t n = 0;
        mica_err err = mica_io_write(io, o->early + from, o->early_len - from, &n);
        from += n;
        if (err == MICA_WANT_WRITE || err == MICA_WANT_READ) {
            int w = wait_socket(io, err, deadline);
            if (w <= 0) {
                return w == 0 ? fail_timeout(o, "sending the early data again") : TOOL_EXIT_NET;
            }
        } else if (err != MICA_OK) {
            return fail_io(io, err);
        }
    }
    return TOOL_EXIT_OK;
}

static void print_negotiated(mica_io *io, const struct client_opts *o)
{
    const mica_conn *c = mica_io_conn(io);
    const char *alpn = mica_conn_alpn(c);
    const char *sig = mica_conn_sig_scheme(c);
    const char *group = mica_conn_group(c);

    if (o->brief) {
        fprintf(stderr, "%s %s %s %s alpn=%s%s%s %s\n", mica_conn_version(c),
                mica_conn_cipher_suite(c), group != NULL ? group : "none",
                sig != NULL ? sig : "none", alpn != NULL ? alpn : "none",
                mica_conn_hrr(c) ? " hrr" : "", mica_conn_resumed(c) ? " resumed" : "",
                mica_conn_verified(c) ? "verified"
                : o->insecure         ? "unverified(--insecure)"
                                      : "unverified");
        return;
    }
    fprintf(stderr, "version: %s\n", mica_conn_version(c));
    fprintf(stderr, "cipher: %s\n", mica_conn_cipher_suite(c));
    fprintf(stderr, "group: %s\n", group != NULL ? group : "none");
    fprintf(stderr, "hrr: %s\n",
            mica_conn_hrr(c) ? "yes (the server asked for another key share)" : "no");
    fprintf(stderr, "resumed: %s\n",
            mica_conn_resumed(c) ? "yes (the PSK of an earlier session, with a fresh key exchange)"
                                 : "no");
    fprintf(stderr, "signature scheme: %s\n",
            sig != NULL            ? sig
            : mica_conn_resumed(c) ? "none (a resumed session sends no certificate)"
                                   : "none");
    fprintf(stderr, "alpn: %s\n", alpn != NULL ? alpn : "none");
    if (mica_conn_verified(c)) {
        fprintf(stderr, "verification: ok\n");
    } else if (o->insecure) {
        fprintf(stderr, "verification: skipped (--insecure)\n");
    }
}

/* "in 12 days", "expired 3 days ago", "not valid for another 2 days". */
static void print_validity(const struct mica_cert_info *ci, int64_t now)
{
    const int64_t day = 86400;

    fprintf(stderr, "     valid:     %s to %s", ci->not_before, ci->not_after);
    if (now < ci->not_before_s) {
        int64_t d = (ci->not_before_s - now + day - 1) / day;
        fprintf(stderr, " (NOT YET VALID: starts in %lld day%s)\n", (long long)d,
                d == 1 ? "" : "s");
    } else if (now > ci->not_after_s) {
        int64_t d = (now - ci->not_after_s) / day;
        fprintf(stderr, " (EXPIRED %lld day%s ago)\n", (long long)d, d == 1 ? "" : "s");
    } else {
        int64_t d = (ci->not_after_s - now) / day;
        fprintf(stderr, " (%lld day%s left)\n", (long long)d, d == 1 ? "" : "s");
    }
}

/* --showcerts: every certificate the server sent, leaf first. */
static void print_chain(mica_io *io)
{
    const mica_conn *c = mica_io_conn(io);
    int64_t now = (int64_t)time(NULL);
    size_t n = 0;
    size_t len;

    while (mica_conn_peer_cert(c, n, &len) != NULL) {
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "certificate chain: the server sent no certificate\n");
        return;
    }
    fprintf(stderr, "certificate chain: %zu certificate%s, as the server sent %s (leaf first)\n", n,
            n == 1 ? "" : "s", n == 1 ? "it" : "them");
    for (size_t i = 0; i < n; i++) {
        struct mica_cert_info ci;
        const uint8_t *der = mica_conn_peer_cert(c, i, &len);
        if (der == NULL) {
            break;
        }
        if (mica_cert_describe(der, len, &ci) != MICA_OK) {
            fprintf(stderr, " %zu  (%zu bytes that do not parse as an X.509 certificate)\n", i,
                    len);
            continue;
        }
        fprintf(stderr, " %zu   subject:   %s\n", i, ci.subject);
        fprintf(stderr, "     issuer:    %s\n", ci.issuer);
        fprintf(stderr, "     SANs:      %s\n", ci.sans[0] != '\0' ? ci.sans : "none");
        print_validity(&ci, now);
        fprintf(stderr, "     key:       %s\n", ci.key);
        fprintf(stderr, "     signature: %s\n", ci.signature_algorithm);
        fprintf(stderr, "     sha256:    %s\n", ci.sha256);
        fprintf(stderr, "     spki pin:  %s\n", ci.spki_pin);
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

/* The server's close_notify came: answer with ours, sent in full, then stop. */
static int finish(mica_io *io, bool close_sent)
{
    mica_err err;

    if (mica_io_set_nonblocking(io, 0) != MICA_OK) {
        return TOOL_EXIT_FAIL;
    }
    err = close_sent ? mica_io_write(io, NULL, 0, &(size_t){0}) : mica_io_close(io);
    if (err != MICA_OK) {
        return fail_io(io, err);
    }
    return TOOL_EXIT_OK;
}

/* The data phase: stdin -> server, server -> stdout, until the server closes. With
 * --timeout, the server may stay silent for that long at most. */
static int relay(mica_io *io, const struct client_opts *o)
{
    static unsigned char in[16384];
    static unsigned char out[16384];
    size_t in_off = 0, in_len = 0;
    bool stdin_open = true;
    bool close_sent = false;
    long long deadline = deadline_in(o->timeout_ms);
    mica_err err;

    if (mica_io_set_nonblocking(io, 1) != MICA_OK) {
        return fail_io(io, MICA_E_IO);
    }
    for (;;) {
        /* 1. Standard input the engine has not taken yet. */
        if (in_off < in_len) {
            size_t n = 0;
            err = mica_io_write(io, in + in_off, in_len - in_off, &n);
            if (err == MICA_OK) {
                in_off += n;
            } else if (err != MICA_WANT_WRITE) {
                return fail_io(io, err);
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
                return fail_io(io, err);
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
                return fail_io(io, err);
            }
            if (n == 0) {
                return finish(io, close_sent);
            }
            deadline = deadline_in(o->timeout_ms);
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
        int ready = poll(p, 2, poll_ms(deadline));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PREFIX ": poll: %s\n", strerror(errno));
            return TOOL_EXIT_FAIL;
        }
        if (ready == 0 && deadline >= 0 && now_ms() >= deadline) {
            return fail_timeout(o, "waiting for data");
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

/* --http PATH: one GET with Connection: close, then the whole response to standard
 * output until the server closes. host is the Host header's value. */
static int http_get(mica_io *io, const struct client_opts *o, const char *host)
{
    static unsigned char out[16384];
    char req[8192];
    size_t off = 0;
    mica_err err;

    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mica/%s\r\nAccept: */*\r\n"
                       "Connection: close\r\n\r\n",
                       o->http, host, mica_version());
    if (len < 0 || (size_t)len >= sizeof req) {
        fprintf(stderr, PREFIX ": --http: the request does not fit in %zu bytes\n", sizeof req);
        return TOOL_EXIT_USAGE;
    }
    long long deadline = deadline_in(o->timeout_ms);
    while (off < (size_t)len) {
        size_t n = 0;
        err = mica_io_write(io, req + off, (size_t)len - off, &n);
        if (err == MICA_OK) {
            off += n;
            continue;
        }
        if (err != MICA_WANT_WRITE) {
            return fail_io(io, err);
        }
        int w = wait_socket(io, err, deadline);
        if (w <= 0) {
            return w == 0 ? fail_timeout(o, "sending the request") : TOOL_EXIT_NET;
        }
    }
    for (;;) {
        size_t n = 0;
        err = mica_io_read(io, out, sizeof out, &n);
        if (err == MICA_WANT_READ || err == MICA_WANT_WRITE) {
            int w = wait_socket(io, err, deadline);
            if (w <= 0) {
                return w == 0 ? fail_timeout(o, "waiting for the response") : TOOL_EXIT_NET;
            }
            continue;
        }
        if (err != MICA_OK) {
            return fail_io(io, err);
        }
        if (n == 0) {
            return finish(io, false);
        }
        deadline = deadline_in(o->timeout_ms);
        if (write_all(STDOUT_FILENO, out, n) != 0) {
            fprintf(stderr, PREFIX ": cannot write to standard output: %s\n", strerror(errno));
            return TOOL_EXIT_FAIL;
        }
    }
}

/* The Host header: the server name (else HOST, bracketed when IPv6), with the port
 * unless it is 443. */
static void http_host(char *buf, size_t cap, const char *name, const char *port)
{
    bool v6 = strchr(name, ':') != NULL;
    bool default_port = strcmp(port, "443") == 0 || strcmp(port, "https") == 0;
    (void)snprintf(buf, cap, "%s%s%s%s%s", v6 ? "[" : "", name, v6 ? "]" : "",
                   default_port ? "" : ":", default_port ? "" : port);
}

/* Sessions the server sends (--sess-out, --reconnect): the newest is kept. */
struct sessions {
    uint8_t blob[4096];
    size_t len;
    unsigned count;
};

static void on_session(void *ctx, const char *server_name, const uint8_t *blob, size_t len)
{
    struct sessions *ss = ctx;

    (void)server_name;
    if (len <= sizeof ss->blob) {
        memcpy(ss->blob, blob, len);
        ss->len = len;
        ss->count++;
    }
}

/* A session file: this line, then the library's session blob (versioned, with its own
 * SHA-256 check, so a damaged file is refused when it is used). */
#define SESSION_MAGIC "mica-session 1\n"

static int read_session(const char *path, struct sessions *ss)
{
    uint8_t buf[sizeof ss->blob + 64];
    size_t m = strlen(SESSION_MAGIC), n;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        fprintf(stderr, PREFIX ": --sess-in %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof buf, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n <= m || n - m > sizeof ss->blob || memcmp(buf, SESSION_MAGIC, m) != 0) {
        fprintf(stderr, PREFIX ": --sess-in %s: not a mica session file\n", path);
        explicit_bzero(buf, sizeof buf);
        return -1;
    }
    memcpy(ss->blob, buf + m, n - m);
    ss->len = n - m;
    explicit_bzero(buf, sizeof buf);
    return 0;
}

static int write_session(const char *path, const struct sessions *ss)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t m = strlen(SESSION_MAGIC);

    if (fd < 0 || fchmod(fd, 0600) != 0 ||
        write_all(fd, (const unsigned char *)SESSION_MAGIC, m) != 0 ||
        write_all(fd, ss->blob, ss->len) != 0 || close(fd) != 0) {
        fprintf(stderr, PREFIX ": --sess-out %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            (void)close(fd);
        }
        return -1;
    }
    return 0;
}

/* After the handshake, read (and drop) until a new session arrives, the server closes,
 * or the wait ends: the tickets follow the server's handshake by one flight. */
static void await_session(mica_io *io, const struct sessions *ss, unsigned before, int timeout_ms)
{
    long long deadline = deadline_in(timeout_ms > 0 ? timeout_ms : 2000);
    unsigned char buf[4096];

    while (ss->count == before) {
        size_t n = 0;
        mica_err err = mica_io_read(io, buf, sizeof buf, &n);
        if (err == MICA_OK && n > 0 && poll_ms(deadline) > 0) {
            continue; /* data, not a ticket: dropped, within the wait */
        }
        if (err == MICA_OK) {
            return; /* the end of the stream, or the wait is over */
        }
        /* a read that processed a ticket may still say "want more" */
        if (ss->count != before || (err != MICA_WANT_READ && err != MICA_WANT_WRITE) ||
            wait_socket(io, err, deadline) <= 0) {
            return;
        }
    }
}

static double now_precise_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Wait for the first byte of the server's answer (dropped); the time it came, or -1. */
static double first_byte(mica_io *io, const struct client_opts *o)
{
    long long deadline = deadline_in(o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
    unsigned char buf[4096];

    for (;;) {
        size_t n = 0;
        mica_err err = mica_io_read(io, buf, sizeof buf, &n);
        if (err == MICA_OK && n > 0) {
            return now_precise_ms();
        }
        if (err == MICA_OK) {
            fprintf(stderr, PREFIX ": the server closed without answering\n");
            return -1;
        }
        if ((err != MICA_WANT_READ && err != MICA_WANT_WRITE)) {
            (void)fail_io(io, err);
            return -1;
        }
        if (wait_socket(io, err, deadline) <= 0) {
            fprintf(stderr, PREFIX ": no answer to --early-data's request\n");
            return -1;
        }
    }
}

/*
 * --reconnect: connection 0 is made as usual (with --sess-in's session if given), then N
 * more, each offering the newest session; each is a handshake, a wait for tickets and a
 * close. One line per connection on standard error.
 */
static int reconnect_run(const struct client_opts *o, mica_config *cfg, struct render *view,
                         const char *host, const char *port, const char *servername,
                         struct sessions *ss)
{
    int rc = TOOL_EXIT_OK;
    int resumed = 0, early = 0;

    for (int i = 0; i <= o->reconnect && rc == TOOL_EXIT_OK; i++) {
        int fd = -1;
        mica_io *io = NULL;
        mica_err err;
        unsigned before = ss->count;

        FILE *narrate = view->narrate, *jsonl = view->jsonl;
        memset(view, 0, sizeof *view);
        view->narrate = narrate;
        view->jsonl = jsonl;
        rc = tcp_connect(o, host, port, &fd);
        if (rc != TOOL_EXIT_OK) {
            break;
        }
        err = ss->len > 0 ? mica_io_wrap_resume(cfg, fd, servername, ss->blob, ss->len, &io)
                          : mica_io_wrap(cfg, fd, 0, servername, &io);
        if (err != MICA_OK) {
            if (err == MICA_E_DECODE) {
                fprintf(stderr,
                        PREFIX ": %s%s: the session is damaged or was saved by another "
                               "version of mica\n",
                        o->sess_in != NULL && i == 0 ? "--sess-in " : "the server's session",
                        o->sess_in != NULL && i == 0 ? o->sess_in : "");
            } else {
                fprintf(stderr, PREFIX ": %s\n", mica_err_sentence(err));
            }
            close(fd);
            return TOOL_EXIT_FAIL;
        }
        double t0 = now_precise_ms();
        size_t early_sent = 0;
        send_early(io, o, &early_sent);
        rc = handshake(io, o, &err);
        double ms = now_precise_ms() - t0;
        if (rc != TOOL_EXIT_OK) {
            if (err != MICA_OK) {
                (void)fail_io(io, err);
            }
        } else if (!check_verified(io, o)) {
            rc = TOOL_EXIT_FAIL;
        } else {
            const mica_conn *c = mica_io_conn(io);
            if (i == 0 && !o->quiet) {
                print_negotiated(io, o);
            }
            resumed += mica_conn_resumed(c) ? 1 : 0;
            early += mica_conn_early_data(c) == MICA_EARLY_ACCEPTED ? 1 : 0;
            char first[128] = "";
            if (o->early_len > 0) {
                rc = after_early(io, o, early_sent, false);
                double first_ms = rc == TOOL_EXIT_OK ? first_byte(io, o) : -1;
                if (first_ms < 0) {
                    rc = rc != TOOL_EXIT_OK ? rc : TOOL_EXIT_NET;
                    snprintf(first, sizeof first, ", no answer");
                } else {
                    /* the hello exchanges, and one more unless the whole request went in
                     * 0-RTT: then its answer came with the server's first flight */
                    int rtt = view->round_trips + (mica_conn_early_data(c) == MICA_EARLY_ACCEPTED &&
                                                           early_sent == o->early_len
                                                       ? 0
                                                       : 1);
                    snprintf(first, sizeof first,
                             ", first byte of the answer after %d round trip%s (%.1f ms)", rtt,
                             rtt == 1 ? "" : "s", first_ms - t0);
                }
            }
            fprintf(stderr,
                    "connection %d: %s, %d round trip%s, handshake %.1f ms, early data: %s%s\n",
                    i + 1, mica_conn_resumed(c) ? "resumed" : "full handshake", view->round_trips,
                    view->round_trips == 1 ? "" : "s", ms,
                    mica_conn_early_data(c) == MICA_EARLY_NOT_SENT
                        ? "not sent"
                        : mica_early_name(mica_conn_early_data(c)),
                    first);
            if (rc != TOOL_EXIT_OK) {
                mica_io_free(io);
                break;
            }
            await_session(io, ss, before, o->timeout_ms);
            if (ss->count == before) {
                fprintf(stderr, PREFIX ": connection %d: the server sent no session ticket\n",
                        i + 1);
            }
            rc = finish(io, false);
        }
        mica_io_free(io);
    }
    if (rc == TOOL_EXIT_OK) {
        fprintf(stderr, "%d of %d connections resumed", resumed, o->reconnect + 1);
        if (o->early_len > 0) {
            fprintf(stderr, ", %d with early data accepted", early);
        }
        fputc('\n', stderr);
    }
    return rc;
}

int cmd_client(int argc, char **argv)
{
    struct client_opts o;
    char host[256], port[32];
    mica_io *io = NULL;
    int rc;
    int fd = -1;

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
    char http_hostname[300];
    http_host(http_hostname, sizeof http_hostname, servername != NULL ? servername : host, port);
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
    static struct sessions ss;
    memset(&ss, 0, sizeof ss);
    if (o.sess_in != NULL && read_session(o.sess_in, &ss) != 0) {
        mica_config_free(cfg);
        tool_keylog_close(&keylog);
        return TOOL_EXIT_FAIL;
    }
    unsigned sessions_in = ss.count;
    if (o.sess_out != NULL || o.reconnect > 0) {
        mica_config_set_session_cb(cfg, on_session, &ss);
    }
    if (o.insecure) {
        fprintf(stderr, PREFIX ": warning: --insecure: the server's certificate is not "
                               "verified; anyone on the path can impersonate the server\n");
    }
    (void)signal(SIGPIPE, SIG_IGN);

    if (o.reconnect > 0) {
        mica_config_set_trace(cfg, render_event, &view); /* for the round trips */
        rc = reconnect_run(&o, cfg, &view, host, port, servername, &ss);
        if (rc == TOOL_EXIT_OK && o.sess_out != NULL && ss.count > sessions_in &&
            write_session(o.sess_out, &ss) != 0) {
            rc = TOOL_EXIT_FAIL;
        }
        memset(&ss, 0, sizeof ss);
        mica_config_free(cfg);
        tool_keylog_close(&keylog);
        return rc;
    }
    rc = tcp_connect(&o, host, port, &fd);
    if (rc != TOOL_EXIT_OK) {
        mica_config_free(cfg);
        tool_keylog_close(&keylog);
        return rc;
    }
    mica_err err = ss.len > 0 ? mica_io_wrap_resume(cfg, fd, servername, ss.blob, ss.len, &io)
                              : mica_io_wrap(cfg, fd, 0, servername, &io);
    if (err != MICA_OK) {
        if (err == MICA_E_DECODE) {
            fprintf(stderr,
                    PREFIX ": --sess-in %s: the session is damaged or was saved by "
                           "another version of mica\n",
                    o.sess_in);
        } else {
            fprintf(stderr, PREFIX ": %s\n", mica_err_sentence(err));
        }
        close(fd);
        mica_config_free(cfg);
        tool_keylog_close(&keylog);
        return TOOL_EXIT_FAIL;
    }
    if (!o.quiet && !o.brief) {
        fprintf(stderr, "connected to %s\n", o.target);
    }
    size_t early_sent = 0;
    send_early(io, &o, &early_sent);
    rc = handshake(io, &o, &err);
    if (rc != TOOL_EXIT_OK) {
        if (err != MICA_OK) {
            /* the certificates the server sent explain many a failed verification */
            if (o.showcerts) {
                print_chain(io);
            }
            (void)fail_io(io, err);
        }
        if (o.json) { /* the report says what was seen, and why it failed */
            render_report(&view, mica_io_conn(io), stdout);
            fflush(stdout);
        }
    } else {
        if (o.trace) {
            render_summary(&view, stderr);
        }
        if (o.showcerts) {
            print_chain(io);
        }
        if (o.json) {
            /* the report is the output: no data is copied */
            render_report(&view, mica_io_conn(io), stdout);
            fflush(stdout);
        } else if (!o.quiet) {
            print_negotiated(io, &o);
        }
        if (!check_verified(io, &o)) {
            rc = TOOL_EXIT_FAIL;
        } else if (o.json) {
            if (o.sess_out != NULL) { /* the tickets follow the handshake */
                await_session(io, &ss, sessions_in, o.timeout_ms);
            }
            rc = finish(io, false);
        } else if (o.http != NULL) {
            rc = http_get(io, &o, http_hostname);
        } else {
            rc = after_early(io, &o, early_sent, true);
            if (rc == TOOL_EXIT_OK) {
                rc = relay(io, &o);
            }
        }
    }
    if (o.diagram != NULL && view.msgs_n > 0) {
        FILE *df = fopen(o.diagram, "w");
        size_t n = strlen(o.diagram);
        if (df == NULL) {
            fprintf(stderr, PREFIX ": cannot write %s: %s\n", o.diagram, strerror(errno));
            rc = rc != TOOL_EXIT_OK ? rc : TOOL_EXIT_FAIL;
        } else {
            render_diagram(&view, o.target, strcmp(o.diagram + n - 4, ".svg") == 0, df);
            fclose(df);
            if (!o.quiet) {
                fprintf(stderr, "diagram written to %s\n", o.diagram);
            }
        }
    }
    if (o.sess_out != NULL) {
        if (ss.count > sessions_in) {
            if (write_session(o.sess_out, &ss) != 0 && rc == TOOL_EXIT_OK) {
                rc = TOOL_EXIT_FAIL;
            }
        } else if (rc == TOOL_EXIT_OK) {
            fprintf(stderr, PREFIX ": --sess-out %s: the server sent no session ticket\n",
                    o.sess_out);
        }
    }
    memset(&ss, 0, sizeof ss);
    mica_io_free(io);
    mica_config_free(cfg);
    tool_keylog_close(&keylog);
    return rc;
}
