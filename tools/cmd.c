/*
 * Helpers shared by the subcommands: option values, HOST:PORT, algorithm lists, key log.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tool_opt_value(int argc, char **argv, int *i, const char *name, const char *prefix,
                   const char **val)
{
    const char *a = argv[*i];
    size_t name_len = strlen(name);

    if (strncmp(a, name, name_len) != 0) {
        return 0;
    }
    if (a[name_len] == '=') {
        *val = a + name_len + 1;
        return 1;
    }
    if (a[name_len] != '\0') {
        return 0; /* a longer option that starts the same way */
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: option %s needs a value\n", prefix, name);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len == 0 || len >= cap) {
        return -1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static int bad_hostport(const char *prefix, const char *arg)
{
    fprintf(stderr, "%s: '%s' is not HOST:PORT (or [IPv6]:PORT)\n", prefix, arg);
    return -1;
}

int tool_split_hostport(const char *arg, const char *prefix, char *host, size_t host_cap,
                        char *port, size_t port_cap)
{
    const char *h = arg;
    size_t h_len;
    const char *p;

    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (close == NULL || close[1] != ':') {
            return bad_hostport(prefix, arg);
        }
        h = arg + 1;
        h_len = (size_t)(close - h);
        p = close + 2;
    } else {
        const char *colon = strrchr(arg, ':');
        if (colon == NULL) {
            return bad_hostport(prefix, arg);
        }
        if (memchr(arg, ':', (size_t)(colon - arg)) != NULL) {
            fprintf(stderr, "%s: write an IPv6 address in brackets: [%.*s]%s\n", prefix,
                    (int)(colon - arg), arg, colon);
            return -1;
        }
        h_len = (size_t)(colon - arg);
        p = colon + 1;
    }
    if (copy_part(host, host_cap, h, h_len) != 0 || copy_part(port, port_cap, p, strlen(p)) != 0) {
        return bad_hostport(prefix, arg);
    }
    return 0;
}

int tool_set_algorithms(mica_config *cfg, const char *prefix, const char *ciphers,
                        const char *groups, const char *alpn)
{
    mica_err err;

    if (ciphers != NULL && (err = mica_config_set_cipher_suites(cfg, ciphers)) != MICA_OK) {
        fprintf(
            stderr, "%s: --ciphers '%s': %s\n", prefix, ciphers,
            err == MICA_E_ARGUMENT
                ? "not a list of distinct TLS 1.3 cipher suites mica offers (mica list shows them)"
                : mica_err_sentence(err));
        return -1;
    }
    if (groups != NULL && (err = mica_config_set_groups(cfg, groups)) != MICA_OK) {
        fprintf(stderr, "%s: --groups '%s': %s\n", prefix, groups,
                err == MICA_E_ARGUMENT
                    ? "not a list of distinct groups mica offers (mica list shows them)"
                    : mica_err_sentence(err));
        return -1;
    }
    if (alpn != NULL && (err = mica_config_set_alpn(cfg, alpn)) != MICA_OK) {
        fprintf(stderr, "%s: --alpn '%s': %s\n", prefix, alpn,
                err == MICA_E_ARGUMENT
                    ? "not a list of protocol names of 1 to 255 bytes separated by commas"
                    : mica_err_sentence(err));
        return -1;
    }
    return 0;
}

int tool_readable(const char *prefix, const char *option, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot read %s %s: %s\n", prefix, option, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* The engine's callback: line + '\n' in one write(2), so that O_APPEND keeps it whole. */
static void keylog_line(void *ctx, const char *line)
{
    struct tool_keylog *kl = ctx;
    char buf[1024];
    size_t len = strlen(line);
    size_t off = 0;

    if (kl->fd < 0 || len + 1 > sizeof buf) {
        return; /* the engine's lines are under 300 bytes */
    }
    memcpy(buf, line, len);
    buf[len++] = '\n';
    while (off < len) {
        ssize_t n = write(kl->fd, buf + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (!kl->write_failed) {
                fprintf(stderr, "%s: warning: cannot write to the key log %s: %s\n", kl->prefix,
                        kl->path, n < 0 ? strerror(errno) : "nothing written");
                kl->write_failed = 1;
            }
            break;
        }
        off += (size_t)n;
    }
    explicit_bzero(buf, sizeof buf);
}

void tool_keylog_attach(struct tool_keylog *kl, mica_config *cfg)
{
    if (kl->fd >= 0) {
        mica_config_set_keylog(cfg, keylog_line, kl);
    }
}

int tool_keylog_open(struct tool_keylog *kl, mica_config *cfg, const char *prefix,
                     const char *option)
{
    const char *path = option;
    const char *env = getenv("SSLKEYLOGFILE");

    kl->fd = -1;
    kl->path = NULL;
    kl->prefix = prefix;
    kl->write_failed = 0;
    if (path == NULL && env != NULL && env[0] != '\0') {
        path = env;
    }
    if (path == NULL) {
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        if (option != NULL) {
            fprintf(stderr, "%s: cannot open --keylog %s: %s\n", prefix, path, strerror(errno));
            return -1;
        }
        fprintf(stderr, "%s: warning: cannot open SSLKEYLOGFILE %s: %s; no key log is written\n",
                prefix, path, strerror(errno));
        return 0;
    }
    kl->fd = fd;
    kl->path = path;
    mica_config_set_keylog(cfg, keylog_line, kl);
    fprintf(stderr,
            "%s: writing TLS secrets to %s: anyone who reads it can decrypt these "
            "connections\n",
            prefix, path);
    return 0;
}

void tool_keylog_close(struct tool_keylog *kl)
{
    if (kl->fd >= 0) {
        close(kl->fd);
        kl->fd = -1;
    }
}
