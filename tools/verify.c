/*
 * mica verify: a chain on disk checked the way mica client checks a server's, with the
 * same explanations (the certificates issue's `mica verify`, first cut).
 */
#define _XOPEN_SOURCE 700 /* strptime */

#include <mica/cert.h>
#include <mica/mica.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "render.h"

#define PREFIX "mica verify"

static void usage(FILE *f)
{
    fprintf(f, "usage: mica verify [options] CHAIN.pem\n"
               "\n"
               "Verify the certificate chain in CHAIN.pem (leaf first) as mica client verifies\n"
               "a server's: to a trusted root, valid at the time, for the purpose, covering\n"
               "the name. Prints 'verified: ok' or the reason.\n"
               "\n"
               "options:\n"
               "  --cafile FILE      trust the CA certificates in FILE (PEM) instead of the\n"
               "                     system trust store\n"
               "  --capath DIR       trust a hashed CA directory (c_rehash) as well\n"
               "  --untrusted FILE   intermediates to build the chain with (PEM)\n"
               "  --host NAME        the DNS name the leaf must cover\n"
               "  --ip ADDR          the IP address the leaf must cover\n"
               "  --purpose server|client   what the leaf is for (default server)\n"
               "  --time RFC3339     check validity at this time, e.g. 2030-01-01T00:00:00Z\n"
               "  --json             the result and each certificate as JSON on stdout\n"
               "  --help             this text\n"
               "\n"
               "exit status: 0 verified, 1 not verified (the reason is printed), 2 usage.\n");
}

static bool parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof tm);
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0') {
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) {
        return NULL;
    }
    buf = malloc(1u << 20);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, (1u << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *value(int argc, char **argv, int *i, const char *name)
{
    if (strcmp(argv[*i], name) != 0) {
        return NULL;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, PREFIX ": %s needs a value\n", name);
        exit(2);
    }
    return argv[++*i];
}

int cmd_verify(int argc, char **argv)
{
    struct mica_verify_opts o;
    const char *file = NULL, *v;
    bool json = false;
    char why[512], *pem;
    size_t len = 0;
    mica_err err;

    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if ((v = value(argc, argv, &i, "--cafile")) != NULL) {
            o.ca_file = v;
        } else if ((v = value(argc, argv, &i, "--capath")) != NULL) {
            o.ca_dir = v;
        } else if ((v = value(argc, argv, &i, "--untrusted")) != NULL) {
            o.untrusted_file = v;
        } else if ((v = value(argc, argv, &i, "--host")) != NULL ||
                   (v = value(argc, argv, &i, "--ip")) != NULL) {
            o.name = v;
        } else if ((v = value(argc, argv, &i, "--purpose")) != NULL) {
            if (strcmp(v, "server") != 0 && strcmp(v, "client") != 0) {
                fprintf(stderr, PREFIX ": --purpose is server or client\n");
                return 2;
            }
            o.client = strcmp(v, "client") == 0;
        } else if ((v = value(argc, argv, &i, "--time")) != NULL) {
            if (!parse_time(v, &o.at)) {
                fprintf(stderr, PREFIX ": --time wants RFC 3339 UTC, e.g. 2030-01-01T00:00:00Z\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, PREFIX ": unknown option '%s' (see mica verify --help)\n", argv[i]);
            return 2;
        } else if (file == NULL) {
            file = argv[i];
        } else {
            fprintf(stderr, PREFIX ": one chain file only\n");
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, PREFIX ": which chain? (mica verify [options] CHAIN.pem)\n");
        return 2;
    }
    pem = read_file(file, &len);
    if (pem == NULL) {
        fprintf(stderr, PREFIX ": cannot read %s\n", file);
        return 1;
    }
    err = mica_verify_chain_pem(&o, pem, len, why, sizeof why);
    free(pem);
    if (json) {
        printf("{\"verified\": %s, \"error\": ", err == MICA_OK ? "true" : "false");
        json_string(stdout, err == MICA_OK ? NULL : why);
        printf(", \"code\": ");
        json_string(stdout, err == MICA_OK ? NULL : mica_err_name(err));
        printf("}\n");
    } else if (err == MICA_OK) {
        printf("verified: ok\n");
    } else {
        printf("verified: FAILED: %s\n", why);
    }
    return err == MICA_OK ? 0 : 1;
}
