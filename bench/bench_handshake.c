/*
 * mica-bench-hs: whole handshakes, bulk transfer and memory, mica beside OpenSSL's libssl,
 * both in memory: client and server in this one process, bytes handed from one to the
 * other with no socket and no scheduler in between. mica through its public sans-I/O API
 * (mica_conn_feed / mica_conn_pending); libssl through SSL_do_handshake over a BIO pair
 * of our own (a fixed buffer per direction, so the transport allocates nothing).
 *
 * CPU: each call into one end is timed with CLOCK_THREAD_CPUTIME_ID and added to that
 * end's account, so the server's cost and the client's come out separately from one
 * run. A clock read costs about 0.1-0.3 us and a handshake makes about 10 per end: the
 * same small bias for both stacks.
 *
 * Memory: this program replaces malloc (glibc allows it: malloc, calloc, realloc, free
 * and the aligned variants) and charges each block, with its size, to the end that was
 * running when it was made; freeing it credits the same end. So a figure counts
 * everything the end holds, libcrypto's contexts and keys included, not only what the
 * TLS code thinks it holds. Under a sanitizer (which replaces malloc itself) the memory
 * figures are left out.
 *
 * Output: one line per figure, "<name ...> <value> <unit>" (bench/run.sh makes the
 * table and the ratios):
 *   hs <end> <stack> <kind> <cert> us        CPU per handshake of that end; kind full or
 *                                             resumed (psk_dhe_ke); the exchange is a
 *                                             handshake, a 1-byte request and a 1-byte
 *                                             answer (so that tickets are sent and read)
 *   mem-peak <end> <stack> <cert> bytes       the end's heap high-water mark during one
 *                                             such exchange, above what it held before
 *   mem-idle <end> <stack> bytes              what each of --conns established, idle
 *                                             connections holds (after the exchange)
 *   mica-reports <end> <kind> bytes           mica_conn_memory's own figure (current or
 *                                             peak), for comparison with the above
 *   bulk <end> <stack> <suite> MB/s           the server writing 16 KiB records to the
 *                                             client: CPU of that end per 10^6 content bytes
 *   evp <suite> MB/s                          one EVP AEAD stream of 16 KiB updates, as
 *                                             `openssl speed -evp` measures: the bound
 *   flights <end> <kind> <cert> us            the record and transcript part of the crypto
 *                                             bound of that end's exchange (see flights()):
 *                                             libcrypto calls only, at the sizes mica sent
 *
 *     mica-bench-hs [--seconds S] [--quick] [--conns N] [--only TEXT] [--certs DIR]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <mica/mica.h>

#ifndef MICA_BENCH_CERTS
#define MICA_BENCH_CERTS "tests/vectors/certs"
#endif

/* ---- who is running: the memory and CPU accounts ------------------------------------ */

enum end { CLIENT = 0, SERVER = 1, HARNESS = 2 };
static const char *const end_names[2] = {"client", "server"};

static enum end running = HARNESS;

/* ---- malloc, charged to the running end --------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||                         \
    __has_feature(thread_sanitizer)
#define BENCH_MALLOC 0
#endif
#endif
#ifndef BENCH_MALLOC
#define BENCH_MALLOC 1
#endif

static size_t live[3], peak[3];

#if BENCH_MALLOC
#include <malloc.h> /* the prototypes of memalign, pvalloc, malloc_usable_size */

extern void *__libc_malloc(size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

/* every block: this header right before it */
struct hdr {
    void *base;    /* what __libc_* returned */
    size_t charge; /* size << 2 | end */
};

/* hdr_of: the header of block p (through an integer, so that the compiler does not take
 * it for an index before the start of whatever the caller allocated) */
static struct hdr *hdr_of(void *p)
{
    return (struct hdr *)((uintptr_t)p - sizeof(struct hdr));
}

static void *charge(void *base, size_t off, size_t size)
{
    struct hdr *h = (struct hdr *)((uint8_t *)base + off) - 1;

    h->base = base;
    h->charge = size << 2 | (size_t)running;
    live[running] += size;
    if (live[running] > peak[running]) {
        peak[running] = live[running];
    }
    return h + 1;
}

void *malloc(size_t size)
{
    void *b = size <= SIZE_MAX / 8 ? __libc_malloc(size + sizeof(struct hdr)) : NULL;
    return b != NULL ? charge(b, sizeof(struct hdr), size) : NULL;
}

void free(void *p)
{
    if (p != NULL) {
        struct hdr *h = hdr_of(p);
        live[h->charge & 3] -= h->charge >> 2;
        __libc_free(h->base);
    }
}

void *calloc(size_t n, size_t size)
{
    void *p;
    if (size != 0 && n > SIZE_MAX / 8 / size) {
        errno = ENOMEM;
        return NULL;
    }
    /* (not malloc then memset: gcc turns that pair into a call to calloc, this one) */
    p = __libc_malloc(n * size + sizeof(struct hdr));
    if (p == NULL) {
        return NULL;
    }
    memset(p, 0, n * size + sizeof(struct hdr));
    return charge(p, sizeof(struct hdr), n * size);
}

void *realloc(void *p, size_t size)
{
    void *q;
    size_t old;

    if (p == NULL) {
        return malloc(size);
    }
    if (size == 0) {
        free(p);
        return NULL;
    }
    old = hdr_of(p)->charge >> 2;
    q = malloc(size);
    if (q != NULL) {
        memcpy(q, p, old < size ? old : size);
        free(p);
    }
    return q;
}

static void *aligned(size_t align, size_t size)
{
    void *b;
    if (align < sizeof(struct hdr)) {
        align = sizeof(struct hdr);
    }
    if ((align & (align - 1)) != 0 || size > SIZE_MAX / 8) {
        return NULL;
    }
    b = __libc_memalign(align, size + align);
    return b != NULL ? charge(b, align, size) : NULL;
}

int posix_memalign(void **out, size_t align, size_t size)
{
    *out = aligned(align, size);
    return *out != NULL ? 0 : ENOMEM;
}
void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size);
}
void *memalign(size_t align, size_t size)
{
    return aligned(align, size);
}
void *valloc(size_t size)
{
    return aligned(4096, size);
}
void *pvalloc(size_t size)
{
    return aligned(4096, (size + 4095) & ~(size_t)4095);
}
size_t malloc_usable_size(void *p)
{
    return p != NULL ? hdr_of(p)->charge >> 2 : 0;
}
#endif

/* ---- CPU ------------------------------------------------------------------------------ */

static double cpu[3];
static double t_enter;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* enter: from here on, CPU and memory are the end's */
static void enter(enum end e)
{
    double t = now();
    cpu[running] += t - t_enter;
    t_enter = t;
    running = e;
}

static void die(const char *what)
{
    fprintf(stderr, "mica-bench-hs: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- options --------------------------------------------------------------------------- */

static double min_secs = 1.0;
static unsigned conns = 1000;
static const char *only;
static const char *certs = MICA_BENCH_CERTS;

static bool wanted(const char *name)
{
    return only == NULL || strstr(name, only) != NULL;
}

struct cert {
    const char *name; /* "ecdsa-p256" */
    char chain[512], key[512];
};

/* ---- mica -------------------------------------------------------------------------------- */

struct mica_env {
    mica_config *server, *client;
    uint8_t session[4096];
    size_t session_len;
};

static void on_session(void *ctx, const char *name, const uint8_t *blob, size_t len)
{
    struct mica_env *m = ctx;
    (void)name;
    if (len <= sizeof m->session) {
        memcpy(m->session, blob, len);
        m->session_len = len;
    }
}

static void mica_check(mica_err err, const char *what)
{
    if (err != MICA_OK) {
        fprintf(stderr, "mica-bench-hs: %s: %s\n", what, mica_err_sentence(err));
        exit(1);
    }
}

static void mica_env_init(struct mica_env *m, const struct cert *c, const char *suite)
{
    char ca[600];

    memset(m, 0, sizeof *m);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    m->server = mica_config_new();
    m->client = mica_config_new();
    if (m->server == NULL || m->client == NULL) {
        die("out of memory");
    }
    mica_check(mica_config_add_cert_chain_file(m->server, c->chain, c->key), c->chain);
    mica_check(mica_config_set_ca_file(m->client, ca), ca);
    mica_check(mica_config_set_groups(m->server, "x25519"), "groups");
    mica_check(mica_config_set_groups(m->client, "x25519"), "groups");
    mica_check(mica_config_set_cipher_suites(m->server, suite), suite);
    mica_check(mica_config_set_cipher_suites(m->client, suite), suite);
    mica_config_set_session_cb(m->client, on_session, m);
}

static void mica_env_free(struct mica_env *m)
{
    mica_config_free(m->server);
    mica_config_free(m->client);
}

/* What one exchange put on the wire, record by record, when flights() asks (capturing) */
#define MAX_RECS 64
struct wire {
    size_t n;
    enum end from[MAX_RECS];
    uint8_t type[MAX_RECS];
    size_t len[MAX_RECS]; /* the record's body: ciphertext and tag when encrypted */
};
static struct wire wire;
static bool capturing;

static void capture(enum end from, const uint8_t *p, size_t len)
{
    while (len >= 5 && wire.n < MAX_RECS) {
        size_t body = (size_t)p[3] << 8 | p[4];
        if (body > len - 5) {
            die("flights: a record split across sends");
        }
        wire.from[wire.n] = from;
        wire.type[wire.n] = p[0];
        wire.len[wire.n] = body;
        wire.n++;
        p += 5 + body;
        len -= 5 + body;
    }
}

/* mica_move: what `from` has to send, fed to `to` (each call charged to its end) */
static bool mica_move(mica_conn *from, enum end fe, mica_conn *to, enum end te)
{
    const uint8_t *out;
    size_t len = 0, used = 0;

    enter(fe);
    mica_check(mica_conn_pending(from, &out, &len), "pending");
    if (len == 0) {
        enter(HARNESS);
        return false;
    }
    if (capturing) {
        enter(HARNESS);
        capture(fe, out, len);
    }
    enter(te);
    mica_check(mica_conn_feed(to, out, len, &used), "feed");
    enter(fe);
    mica_conn_sent(from, used);
    enter(HARNESS);
    return true;
}

/* mica_read1: one byte of application data on c, after moving what is pending to it */
static void mica_read1(mica_conn *c, enum end e, uint8_t want)
{
    uint8_t b = 0;
    size_t n = 0;

    enter(e);
    mica_check(mica_conn_read(c, &b, 1, &n), "read");
    enter(HARNESS);
    if (n != 1 || b != want) {
        die("mica: the byte did not arrive");
    }
}

static void mica_write1(mica_conn *c, enum end e, uint8_t v)
{
    size_t n = 0;

    enter(e);
    mica_check(mica_conn_write(c, &v, 1, &n), "write");
    enter(HARNESS);
}

/* mica_exchange: a handshake, 'x' from the client, 'y' from the server, both read; the
 * two connections are left open in *cp, *sp */
static void mica_exchange(struct mica_env *m, bool resume, mica_conn **cp, mica_conn **sp)
{
    mica_conn *c = NULL, *s = NULL;

    enter(SERVER);
    mica_check(mica_conn_new_server(m->server, &s), "new server");
    enter(CLIENT);
    mica_check(
        resume ? mica_conn_new_client_resume(m->client, "localhost", m->session, m->session_len, &c)
               : mica_conn_new_client(m->client, "localhost", &c),
        "new client");
    enter(HARNESS);
    for (int i = 0; i < 16 && !(mica_conn_is_connected(c) && mica_conn_is_connected(s)); i++) {
        bool moved = mica_move(c, CLIENT, s, SERVER);
        moved = mica_move(s, SERVER, c, CLIENT) || moved;
        if (!moved) {
            die("mica: the handshake stalled");
        }
    }
    if (resume && !mica_conn_resumed(c)) {
        die("mica: the session was not resumed");
    }
    mica_write1(c, CLIENT, 'x');
    (void)mica_move(c, CLIENT, s, SERVER);
    mica_read1(s, SERVER, 'x');
    mica_write1(s, SERVER, 'y');
    (void)mica_move(s, SERVER, c, CLIENT);
    mica_read1(c, CLIENT, 'y');
    *cp = c;
    *sp = s;
}

static void mica_close(mica_conn *c, mica_conn *s)
{
    enter(CLIENT);
    mica_conn_free(c);
    enter(SERVER);
    mica_conn_free(s);
    enter(HARNESS);
}

/* ---- libssl ------------------------------------------------------------------------------ */

/* a pipe: one direction of the transport, a fixed buffer */
struct pipe {
    uint8_t b[1 << 17];
    size_t head, tail;
};
static struct pipe c2s, s2c;

static int pipe_write(BIO *bio, const char *in, int len)
{
    struct pipe *p = BIO_get_data(bio);
    size_t room;

    BIO_clear_retry_flags(bio);
    if (p->head == p->tail) {
        p->head = p->tail = 0;
    }
    room = sizeof p->b - p->tail;
    if (room == 0) {
        BIO_set_retry_write(bio);
        return -1;
    }
    if ((size_t)len > room) {
        len = (int)room;
    }
    memcpy(p->b + p->tail, in, (size_t)len);
    p->tail += (size_t)len;
    return len;
}

static int pipe_read(BIO *bio, char *out, int len)
{
    struct pipe *p = BIO_get_data(bio);
    size_t have = p->tail - p->head;

    BIO_clear_retry_flags(bio);
    if (have == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    if ((size_t)len > have) {
        len = (int)have;
    }
    memcpy(out, p->b + p->head, (size_t)len);
    p->head += (size_t)len;
    return len;
}

static long pipe_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    struct pipe *p = BIO_get_data(bio);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return (long)(p->tail - p->head);
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
    }
}

static int pipe_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *pipe_method;

static BIO *pipe_bio(struct pipe *p)
{
    BIO *b = BIO_new(pipe_method);
    if (b == NULL) {
        die("BIO_new");
    }
    BIO_set_data(b, p);
    return b;
}

struct ossl_env {
    SSL_CTX *server, *client;
    SSL_SESSION *session;
};

static void ossl_env_init(struct ossl_env *o, const struct cert *c, const char *suite)
{
    char ca[600];

    memset(o, 0, sizeof *o);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    o->server = SSL_CTX_new(TLS_server_method());
    o->client = SSL_CTX_new(TLS_client_method());
    if (o->server == NULL || o->client == NULL ||
        SSL_CTX_use_certificate_chain_file(o->server, c->chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(o->server, c->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(o->client, ca, NULL) != 1) {
        die("libssl: cannot set up the contexts");
    }
    SSL_CTX_set_verify(o->client, SSL_VERIFY_PEER, NULL);
    for (int i = 0; i < 2; i++) {
        SSL_CTX *x = i == 0 ? o->server : o->client;
        if (SSL_CTX_set_min_proto_version(x, TLS1_3_VERSION) != 1 ||
            SSL_CTX_set1_groups_list(x, "X25519") != 1 || SSL_CTX_set_ciphersuites(x, suite) != 1) {
            die("libssl: cannot set version, group or suite");
        }
    }
    /* the client keeps the session itself (SSL_get1_session); no client-side cache */
    SSL_CTX_set_session_cache_mode(o->client, SSL_SESS_CACHE_OFF);
}

static void ossl_env_free(struct ossl_env *o)
{
    SSL_SESSION_free(o->session);
    SSL_CTX_free(o->server);
    SSL_CTX_free(o->client);
}

static int ossl_call(SSL *ssl, enum end e, int (*fn)(SSL *))
{
    int r;

    enter(e);
    r = fn(ssl);
    if (r <= 0) {
        int err = SSL_get_error(ssl, r);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            die(e == SERVER ? "libssl: the server failed" : "libssl: the client failed");
        }
    }
    enter(HARNESS);
    return r;
}

static void ossl_write1(SSL *ssl, enum end e, uint8_t v)
{
    enter(e);
    if (SSL_write(ssl, &v, 1) != 1) {
        die("libssl: SSL_write");
    }
    enter(HARNESS);
}

static void ossl_read1(SSL *ssl, enum end e, uint8_t want)
{
    uint8_t b = 0;
    int r;

    enter(e);
    r = SSL_read(ssl, &b, 1);
    enter(HARNESS);
    if (r != 1 || b != want) {
        die("libssl: the byte did not arrive");
    }
}

static void ossl_exchange(struct ossl_env *o, bool resume, SSL **cp, SSL **sp)
{
    SSL *c, *s;
    BIO *to_server, *to_client;

    c2s.head = c2s.tail = s2c.head = s2c.tail = 0;
    to_server = pipe_bio(&c2s);
    to_client = pipe_bio(&s2c);
    BIO_up_ref(to_server);
    BIO_up_ref(to_client);
    enter(SERVER);
    s = SSL_new(o->server);
    if (s == NULL) {
        die("SSL_new");
    }
    SSL_set_accept_state(s);
    SSL_set_bio(s, to_server, to_client);
    enter(CLIENT);
    c = SSL_new(o->client);
    if (c == NULL || SSL_set_tlsext_host_name(c, "localhost") != 1 ||
        SSL_set1_host(c, "localhost") != 1 || (resume && SSL_set_session(c, o->session) != 1)) {
        die("libssl: cannot set up the client");
    }
    SSL_set_connect_state(c);
    SSL_set_bio(c, to_client, to_server);
    enter(HARNESS);
    for (int i = 0; i < 16; i++) {
        int rc = ossl_call(c, CLIENT, SSL_do_handshake);
        int rs = ossl_call(s, SERVER, SSL_do_handshake);
        if (rc == 1 && rs == 1) {
            break;
        }
        if (i == 15) {
            die("libssl: the handshake stalled");
        }
    }
    if (resume && SSL_session_reused(c) != 1) {
        die("libssl: the session was not resumed");
    }
    ossl_write1(c, CLIENT, 'x');
    ossl_read1(s, SERVER, 'x');
    ossl_write1(s, SERVER, 'y');
    ossl_read1(c, CLIENT, 'y'); /* the tickets, then 'y' */
    if (!resume && o->session == NULL) {
        o->session = SSL_get1_session(c);
    }
    *cp = c;
    *sp = s;
}

/* ossl_close: as after close_notify both ways (the flags only: mica sends none either);
 * an SSL freed without them counts as failed and its session is made unresumable */
static void ossl_close(SSL *c, SSL *s)
{
    enter(CLIENT);
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    enter(SERVER);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(s);
    enter(HARNESS);
}

/* ---- the figures --------------------------------------------------------------------------- */

enum stack { MICA, OSSL };
static const char *const stack_names[2] = {"mica", "openssl"};

struct envs {
    struct mica_env m;
    struct ossl_env o;
};

static void exchange_and_close(struct envs *e, enum stack st, bool resume)
{
    if (st == MICA) {
        mica_conn *c, *s;
        mica_exchange(&e->m, resume, &c, &s);
        mica_close(c, s);
    } else {
        SSL *c, *s;
        ossl_exchange(&e->o, resume, &c, &s);
        ossl_close(c, s);
    }
}

/* handshakes: CPU per exchange of each end, over at least min_secs of CPU in all */
static void handshakes(struct envs *e, enum stack st, bool resume, const char *cert)
{
    double start[3];
    unsigned n = 0;
    char name[128];

    snprintf(name, sizeof name, "hs %s %s %s", stack_names[st], resume ? "resumed" : "full", cert);
    if (!wanted(name)) {
        return;
    }
    exchange_and_close(e, st, false); /* warm-up; the session to resume */
    enter(HARNESS);
    memcpy(start, cpu, sizeof start);
    do {
        exchange_and_close(e, st, resume);
        n++;
    } while (cpu[CLIENT] + cpu[SERVER] - start[CLIENT] - start[SERVER] < min_secs);
    for (int end = SERVER; end >= CLIENT; end--) {
        printf("hs %s %s %s %s %.1f us\n", end_names[end], stack_names[st],
               resume ? "resumed" : "full", cert, (cpu[end] - start[end]) / n * 1e6);
    }
    fflush(stdout);
}

/* memory: the peak of one exchange, then what conns idle connections hold */
static void memory(struct envs *e, enum stack st, const char *cert, bool idle)
{
    size_t base[2];
    char name[128];

    snprintf(name, sizeof name, "mem %s %s", stack_names[st], cert);
    if (!BENCH_MALLOC || !wanted(name)) {
        return;
    }
    exchange_and_close(e, st, false); /* warm-up: lazy tables, the session */
    for (int end = CLIENT; end <= SERVER; end++) {
        base[end] = live[end];
        peak[end] = live[end];
    }
    if (st == MICA) {
        mica_conn *c, *s;
        size_t cur, pk;
        mica_exchange(&e->m, false, &c, &s);
        mica_conn_memory(s, &cur, &pk);
        printf("mica-reports server current %s %zu bytes\n", cert, cur);
        printf("mica-reports server peak %s %zu bytes\n", cert, pk);
        mica_close(c, s);
    } else {
        SSL *c, *s;
        ossl_exchange(&e->o, false, &c, &s);
        ossl_close(c, s);
    }
    for (int end = SERVER; end >= CLIENT; end--) {
        printf("mem-peak %s %s %s %zu bytes\n", end_names[end], stack_names[st], cert,
               peak[end] - base[end]);
        if (live[end] != base[end]) { /* a leak (or a cache that grows): fail */
            fprintf(stderr, "mica-bench-hs: %s %s holds %zd bytes more after closing\n",
                    stack_names[st], end_names[end], (ssize_t)(live[end] - base[end]));
            exit(1);
        }
    }
    if (idle) {
        void **cs = calloc(conns, sizeof(void *)), **ss = calloc(conns, sizeof(void *));
        size_t before[2] = {live[CLIENT], live[SERVER]};
        if (cs == NULL || ss == NULL) {
            die("out of memory");
        }
        /* (the two arrays are the harness's, allocated before `before`) */
        for (unsigned i = 0; i < conns; i++) {
            if (st == MICA) {
                mica_exchange(&e->m, false, (mica_conn **)&cs[i], (mica_conn **)&ss[i]);
            } else {
                ossl_exchange(&e->o, false, (SSL **)&cs[i], (SSL **)&ss[i]);
            }
        }
        for (int end = SERVER; end >= CLIENT; end--) {
            printf("mem-idle %s %s %zu bytes\n", end_names[end], stack_names[st],
                   (live[end] - before[end]) / conns);
        }
        for (unsigned i = 0; i < conns; i++) {
            if (st == MICA) {
                mica_close(cs[i], ss[i]);
            } else {
                ossl_close(cs[i], ss[i]);
            }
        }
        enter(HARNESS);
        free(cs);
        free(ss);
    }
    fflush(stdout);
}

/* bulk: the server writes 16 KiB records, the client reads them */
#define CHUNK 16384
static uint8_t chunk[CHUNK], sink[CHUNK];

static void bulk(struct envs *e, enum stack st, const char *suite)
{
    double start[3], secs[2];
    double bytes[2] = {0, 0};
    char name[160];

    snprintf(name, sizeof name, "bulk %s %s", stack_names[st], suite);
    if (!wanted(name)) {
        return;
    }
    /* the server alone: 64 records written and handed to the transport (then dropped,
     * as a socket would take them) between two clock reads; then the client: records
     * from the server, read one by one */
    if (st == MICA) {
        mica_conn *c, *s;
        mica_exchange(&e->m, false, &c, &s);
        memcpy(start, cpu, sizeof start);
        while (cpu[SERVER] - start[SERVER] < min_secs) {
            enter(SERVER);
            for (int i = 0; i < 64; i++) {
                const uint8_t *out;
                size_t n = 0, len = 0;
                mica_check(mica_conn_write(s, chunk, CHUNK, &n), "write");
                mica_check(mica_conn_pending(s, &out, &len), "pending");
                mica_conn_sent(s, len);
                bytes[SERVER] += (double)n;
            }
            enter(HARNESS);
        }
        secs[SERVER] = cpu[SERVER] - start[SERVER];
        mica_close(c, s);
        mica_exchange(&e->m, false, &c, &s);
        memcpy(start, cpu, sizeof start);
        while (cpu[CLIENT] - start[CLIENT] < min_secs) {
            for (int i = 0; i < 64; i++) {
                size_t n = 0, got = 0;
                enter(SERVER);
                mica_check(mica_conn_write(s, chunk, CHUNK, &n), "write");
                enter(HARNESS);
                (void)mica_move(s, SERVER, c, CLIENT);
                while (got < n) {
                    size_t k = 0;
                    enter(CLIENT);
                    mica_check(mica_conn_read(c, sink, sizeof sink, &k), "read");
                    enter(HARNESS);
                    got += k;
                }
                bytes[CLIENT] += (double)n;
            }
        }
        secs[CLIENT] = cpu[CLIENT] - start[CLIENT];
        mica_close(c, s);
    } else {
        SSL *c, *s;
        ossl_exchange(&e->o, false, &c, &s);
        memcpy(start, cpu, sizeof start);
        while (cpu[SERVER] - start[SERVER] < min_secs) {
            enter(SERVER);
            for (int i = 0; i < 64; i++) {
                if (SSL_write(s, chunk, CHUNK) != CHUNK) {
                    die("libssl: SSL_write");
                }
                s2c.head = s2c.tail = 0; /* taken by the transport */
                bytes[SERVER] += CHUNK;
            }
            enter(HARNESS);
        }
        secs[SERVER] = cpu[SERVER] - start[SERVER];
        ossl_close(c, s);
        ossl_exchange(&e->o, false, &c, &s);
        memcpy(start, cpu, sizeof start);
        while (cpu[CLIENT] - start[CLIENT] < min_secs) {
            for (int i = 0; i < 64; i++) {
                int got = 0, n;
                enter(SERVER);
                n = SSL_write(s, chunk, CHUNK);
                enter(HARNESS);
                if (n != CHUNK) {
                    die("libssl: SSL_write");
                }
                while (got < n) {
                    int k;
                    enter(CLIENT);
                    k = SSL_read(c, sink, sizeof sink);
                    enter(HARNESS);
                    if (k <= 0) {
                        die("libssl: SSL_read");
                    }
                    got += k;
                }
                bytes[CLIENT] += (double)n;
            }
        }
        secs[CLIENT] = cpu[CLIENT] - start[CLIENT];
        ossl_close(c, s);
    }
    for (int end = SERVER; end >= CLIENT; end--) {
        printf("bulk %s %s %s %.1f MB/s\n", end_names[end], stack_names[st], suite,
               bytes[end] / secs[end] / 1e6);
    }
    fflush(stdout);
}

/* ---- the record and transcript part of the crypto bound ------------------------------------ */

/*
 * flights: what one end's exchange costs in libcrypto beyond the key exchange, the
 * signature and the key schedule's HMACs (mica-bench measures those): the issue's
 * "AEAD of the flights", and the transcript hash. The records are those of a real mica
 * exchange of this kind (captured once), and the calls are the EVP calls any TLS 1.3
 * stack on libcrypto must make for them, with no mica code:
 *   - four AEAD contexts made, keyed and freed (handshake and application traffic keys,
 *     each direction);
 *   - each encrypted record the end sent sealed (nonce, 5-byte AAD, body, tag) and each
 *     it received opened (the same calls decrypting; the tag check's result is not
 *     looked at: its cost is the same);
 *   - SHA-256 over every plaintext handshake record and every encrypted record's
 *     content (an upper bound: it counts the tickets and the two data bytes too), with
 *     six snapshots of the running hash (copy and final: the handshake secret, the
 *     CertificateVerify, both Finished, the application secrets, the resumption secret).
 */
static void flights(struct envs *e, bool resume, const char *cert)
{
    static uint8_t buf[1 << 14];
    const uint8_t key[16] = {3}, nonce[12] = {4};
    EVP_CIPHER *gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    EVP_MD *sha = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *th = EVP_MD_CTX_new(), *snap = EVP_MD_CTX_new();
    char name[128];

    if (gcm == NULL || sha == NULL || th == NULL || snap == NULL) {
        die("flights: EVP fetch");
    }
    for (int end = SERVER; end >= CLIENT; end--) {
        snprintf(name, sizeof name, "flights %s %s %s", end_names[end], resume ? "resumed" : "full",
                 cert);
        if (!wanted(name)) {
            continue;
        }
        /* the records of one exchange of this kind */
        mica_conn *c, *s;
        memset(&wire, 0, sizeof wire);
        if (resume) {
            mica_exchange(&e->m, false, &c, &s); /* a fresh ticket */
            mica_close(c, s);
        }
        capturing = true;
        mica_exchange(&e->m, resume, &c, &s);
        capturing = false;
        mica_close(c, s);

        double secs = 0;
        unsigned n = 0;
        do {
            double t0 = now();
            EVP_CIPHER_CTX *x[4];
            uint8_t out[EVP_MAX_MD_SIZE], tag[16] = {0};
            unsigned olen;
            int m;
            for (int k = 0; k < 4; k++) {
                x[k] = EVP_CIPHER_CTX_new();
                if (x[k] == NULL || EVP_CipherInit_ex2(x[k], gcm, key, NULL, k & 1, NULL) != 1) {
                    die("flights: EVP_CipherInit_ex2");
                }
            }
            if (EVP_DigestInit_ex(th, sha, NULL) != 1) {
                die("flights: EVP_DigestInit_ex");
            }
            for (size_t i = 0; i < wire.n; i++) {
                size_t len = wire.len[i] > sizeof buf ? sizeof buf : wire.len[i];
                if (wire.type[i] == 22) { /* ClientHello, ServerHello: hashed only */
                    (void)EVP_DigestUpdate(th, buf, len);
                    continue;
                }
                if (wire.type[i] != 23 || len < 17) {
                    continue; /* change_cipher_spec */
                }
                /* handshake keys for the first of each direction, application ones after:
                 * which context does not change the cost */
                int enc = wire.from[i] == (enum end)end; /* sent: sealed; received: opened */
                EVP_CIPHER_CTX *ctx = x[enc];
                (void)EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, enc, NULL);
                (void)EVP_CipherUpdate(ctx, NULL, &m, buf, 5);
                (void)EVP_CipherUpdate(ctx, buf, &m, buf, (int)(len - 16));
                if (enc) {
                    (void)EVP_CipherFinal_ex(ctx, buf, &m);
                    (void)EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
                } else {
                    (void)EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag);
                    (void)EVP_CipherFinal_ex(ctx, buf, &m); /* fails: same cost */
                }
                (void)EVP_DigestUpdate(th, buf, len - 17);
            }
            for (int k = 0; k < 6; k++) {
                (void)EVP_MD_CTX_copy_ex(snap, th);
                (void)EVP_DigestFinal_ex(snap, out, &olen);
            }
            for (int k = 0; k < 4; k++) {
                EVP_CIPHER_CTX_free(x[k]);
            }
            secs += now() - t0;
            n++;
        } while (secs < min_secs / 4);
        printf("%s %.1f us\n", name, secs / n * 1e6);
    }
    ERR_clear_error();
    EVP_MD_CTX_free(snap);
    EVP_MD_CTX_free(th);
    EVP_MD_free(sha);
    EVP_CIPHER_free(gcm);
    fflush(stdout);
}

/* evp: one AEAD stream, 16 KiB per update, as `openssl speed -evp -bytes 16384` */
static void evp_stream(const char *suite, const char *cipher)
{
    static uint8_t buf[CHUNK];
    uint8_t key[32] = {1}, iv[12] = {2};
    EVP_CIPHER *ci;
    EVP_CIPHER_CTX *x;
    double t0, secs = 0, bytes = 0;
    char name[160];
    int len;

    snprintf(name, sizeof name, "evp %s", suite);
    if (!wanted(name)) {
        return;
    }
    ci = EVP_CIPHER_fetch(NULL, cipher, NULL);
    x = EVP_CIPHER_CTX_new();
    if (ci == NULL || x == NULL || EVP_EncryptInit_ex2(x, ci, key, iv, NULL) != 1) {
        die("EVP_EncryptInit_ex2");
    }
    (void)EVP_EncryptUpdate(x, buf, &len, buf, CHUNK); /* warm-up */
    while (secs < min_secs) {
        t0 = now();
        for (int i = 0; i < 64; i++) {
            if (EVP_EncryptUpdate(x, buf, &len, buf, CHUNK) != 1) {
                die("EVP_EncryptUpdate");
            }
        }
        secs += now() - t0;
        bytes += 64.0 * CHUNK;
    }
    printf("evp %s %.1f MB/s\n", suite, bytes / secs / 1e6);
    EVP_CIPHER_CTX_free(x);
    EVP_CIPHER_free(ci);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const char *const cert_names[] = {"ecdsa-p256", "rsa2048", "ed25519"};
    static const struct {
        const char *suite, *cipher;
    } bulks[] = {{"TLS_AES_128_GCM_SHA256", "AES-128-GCM"},
                 {"TLS_AES_256_GCM_SHA384", "AES-256-GCM"},
                 {"TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305"}};
    struct envs *e = calloc(1, sizeof *e);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            min_secs = 0.05;
            conns = 50;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            min_secs = atof(argv[++i]);
        } else if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc) {
            conns = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--certs") == 0 && i + 1 < argc) {
            certs = argv[++i];
        } else {
            fprintf(stderr, "usage: mica-bench-hs [--seconds S] [--quick] [--conns N] [--only "
                            "TEXT] [--certs DIR]\n");
            return 2;
        }
    }
    if (e == NULL || min_secs <= 0 || conns == 0) {
        die("bad arguments");
    }
    pipe_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mica-bench pipe");
    if (pipe_method == NULL || BIO_meth_set_write(pipe_method, pipe_write) != 1 ||
        BIO_meth_set_read(pipe_method, pipe_read) != 1 ||
        BIO_meth_set_ctrl(pipe_method, pipe_ctrl) != 1 ||
        BIO_meth_set_create(pipe_method, pipe_create) != 1) {
        die("BIO_meth_new");
    }
    memset(chunk, 0x61, sizeof chunk);
    t_enter = now();
    for (size_t i = 0; i < sizeof cert_names / sizeof cert_names[0]; i++) {
        struct cert c = {.name = cert_names[i]};
        snprintf(c.chain, sizeof c.chain, "%s/%s.chain.pem", certs, c.name);
        snprintf(c.key, sizeof c.key, "%s/%s.key", certs, c.name);
        mica_env_init(&e->m, &c, "TLS_AES_128_GCM_SHA256");
        ossl_env_init(&e->o, &c, "TLS_AES_128_GCM_SHA256");
        /* mica right before OpenSSL, figure by figure, so that load drifts apart little */
        for (int resume = 0; resume <= (i == 0 ? 1 : 0); resume++) {
            handshakes(e, MICA, resume, c.name);
            handshakes(e, OSSL, resume, c.name);
            flights(e, resume, c.name);
        }
        memory(e, MICA, c.name, i == 0);
        memory(e, OSSL, c.name, i == 0);
        mica_env_free(&e->m);
        ossl_env_free(&e->o);
    }
    for (size_t i = 0; i < sizeof bulks / sizeof bulks[0]; i++) {
        struct cert c = {.name = cert_names[0]};
        snprintf(c.chain, sizeof c.chain, "%s/%s.chain.pem", certs, c.name);
        snprintf(c.key, sizeof c.key, "%s/%s.key", certs, c.name);
        mica_env_init(&e->m, &c, bulks[i].suite);
        ossl_env_init(&e->o, &c, bulks[i].suite);
        bulk(e, MICA, bulks[i].suite);
        bulk(e, OSSL, bulks[i].suite);
        evp_stream(bulks[i].suite, bulks[i].cipher);
        mica_env_free(&e->m);
        ossl_env_free(&e->o);
    }
    BIO_meth_free(pipe_method);
    free(e);
    return 0;
}
