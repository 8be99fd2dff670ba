/*
 * record_engine: writes the fuzzing build's seeds for fuzz_server and fuzz_client by
 * recording whole conversations between a mica client and a mica server in memory, with
 * the configurations, randomness and clock of tests/fuzz/fuzz_engine.h:
 *
 *     build/fuzz/tests/record_engine tests/fuzz/corpus
 *
 * (scripts/fuzz-seeds.sh builds and runs it). Each conversation gives two files,
 * corpus/fuzz_server/fz_<name>.bin (what the client sent, the control byte first) and
 * corpus/fuzz_client/fz_<name>.bin (what the server sent). Built only with MICA_FUZZ:
 * the records are sealed by the null AEAD, so the fuzzer can change what is inside them,
 * and the fixed randomness makes the fuzzed side meet the same conversation again.
 *
 * The server runs the targets' application (fz_app: echo, KeyUpdate, tickets, a
 * post-handshake certificate request); the client writes one request (and early data
 * when it resumes), reads the answer, updates its keys and closes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_engine.h"

#ifndef MICA_FUZZING
#error "record_engine belongs to the fuzzing build (make fuzz)"
#endif

struct tape {
    uint8_t *p;
    size_t len, cap;
};

static void tape_add(struct tape *t, const uint8_t *p, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = (t->len + n) * 2;
        uint8_t *q = realloc(t->p, cap);
        fz_need(q != NULL, "memory");
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

/* move: what from wants to send goes to to (recorded on t); true if anything moved */
static int move(mica_conn *from, mica_conn *to, struct tape *t)
{
    const uint8_t *out;
    size_t len = 0, used = 0;

    if (mica_conn_pending(from, &out, &len) != MICA_OK || len == 0) {
        return 0;
    }
    tape_add(t, out, len);
    (void)mica_conn_feed(to, out, len, &used);
    mica_conn_sent(from, len);
    return 1;
}

static uint8_t *session;
static size_t session_len;

static void on_session(void *ctx, const char *name, const uint8_t *s, size_t len)
{
    (void)ctx;
    (void)name;
    if (session == NULL) { /* the first ticket's session */
        session = malloc(len);
        fz_need(session != NULL, "memory");
        memcpy(session, s, len);
        session_len = len;
    }
}

static void save(const char *dir, const char *target, const char *name, uint8_t control,
                 const struct tape *t)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/fz_%s.bin", dir, target, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(&control, 1, 1, f) != 1 ||
        (t->len > 0 && fwrite(t->p, 1, t->len, f) != t->len) || fclose(f) != 0) {
        fprintf(stderr, "record_engine: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    printf("%-44s %6zu bytes\n", path, t->len + 1);
}

/* one conversation; resume: offer the session of an earlier one, with early data */
static void record(const char *dir, const char *name, int cmode, int smode, int resume,
                   unsigned chunk)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct tape to_server = {0}, to_client = {0};
    struct fz_app sst = {0, 0};
    mica_conn *c = NULL, *s = NULL;
    int wrote = 0, updated = 0, closed = 0;
    size_t w;

    if (resume) {
        fz_need(session != NULL, "a session to resume");
        fz_config(0, cmode);
        fz_reset(0x636f6e6eu); /* as fz_new */
        fz_need(mica_conn_new_client_resume(fz_config(0, cmode), "localhost", session, session_len,
                                            &c) == MICA_OK,
                "a resuming client");
        (void)mica_conn_write_early(c, (const uint8_t *)"early ", 6, &w);
    } else {
        fz_need(fz_new(0, cmode, &c) == MICA_OK, "a client");
    }
    fz_need(fz_new(1, smode, &s) == MICA_OK, "a server");
    for (int round = 0; round < 64; round++) {
        int moved = move(c, s, &to_server);
        (void)fz_app(s, 1, &sst);
        moved |= move(s, c, &to_client);
        if (mica_conn_is_connected(c)) {
            uint8_t buf[4096];
            size_t n;
            if (!wrote) {
                wrote = mica_conn_write(c, (const uint8_t *)req, sizeof(req) - 1, &w) == MICA_OK;
            }
            while (mica_conn_read(c, buf, sizeof(buf), &n) == MICA_OK && n > 0) {
                if (!updated) {
                    updated = mica_conn_key_update(c, 0) == MICA_OK;
                    (void)mica_conn_write(c, (const uint8_t *)"bye", 3, &w);
                } else if (!closed) {
                    closed = mica_conn_close(c) == MICA_OK;
                }
            }
        }
        if (!moved && (closed || mica_err_is_fatal(mica_conn_error(c)) ||
                       mica_err_is_fatal(mica_conn_error(s)))) {
            break;
        }
    }
    printf("%s: client %s, server %s\n", name, mica_err_name(mica_conn_error(c)),
           mica_err_name(mica_conn_error(s)));
    save(dir, "fuzz_server", name, (uint8_t)((unsigned)smode << 6 | chunk), &to_server);
    save(dir, "fuzz_client", name, (uint8_t)((unsigned)cmode << 6 | chunk), &to_client);
    free(to_server.p);
    free(to_client.p);
    mica_conn_free(c);
    mica_conn_free(s);
}

/* --hello MODE FILE: the ClientHello record a client of MODE sends (the same bytes in
 * every build), for tests/fuzz/record_interop.py to send to real servers */
static int hello(const char *mode, const char *path)
{
    mica_conn *c = NULL;
    const uint8_t *out;
    size_t len = 0;
    FILE *f;

    fz_need(fz_new(0, atoi(mode) & 3, &c) == MICA_OK, "a client");
    fz_need(mica_conn_pending(c, &out, &len) == MICA_OK && len > 0, "a ClientHello");
    f = fopen(path, "wb");
    if (f == NULL || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "record_engine: %s: %s\n", path, strerror(errno));
        return 1;
    }
    mica_conn_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--hello") == 0) {
        return hello(argv[2], argv[3]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: record_engine CORPUS_DIR | --hello MODE FILE\n");
        return 2;
    }
    mica_config_set_session_cb(fz_config(0, 1), on_session, NULL);
    fz_need(mica_config_set_early_data(fz_config(0, 1), 1024) == MICA_OK, "early data");
    record(argv[1], "c0_s0", 0, 0, 0, 63);
    record(argv[1], "c0_s0_bytes", 0, 0, 0, 0);
    record(argv[1], "c1_s1", 1, 1, 0, 63);
    record(argv[1], "c1_s1_resume_early", 1, 1, 1, 63);
    record(argv[1], "c1_s2", 1, 2, 0, 63);
    record(argv[1], "c2_s1", 2, 1, 0, 63);
    record(argv[1], "c3_s0", 3, 0, 0, 63);
    record(argv[1], "c0_s3", 0, 3, 0, 63);
    record(argv[1], "c1_s0", 1, 0, 0, 5);
    free(session);
    return 0;
}
