/*
 * The subcommands of the mica command and the few helpers they share. Only the public
 * headers of include/mica/ and system headers are used under tools/.
 */
#ifndef MICA_TOOLS_CMD_H
#define MICA_TOOLS_CMD_H

#include <stddef.h>

#include <mica/mica.h>

/* Exit codes of every subcommand: success, a failure (the message says which), and a
 * command line that does not parse. */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2
/* The network failed: a name that does not resolve, a refused or unreachable connection, a
 * timeout, a connection reset or closed without close_notify (mica client). */
#define TOOL_EXIT_NET 3

/* The subcommands. argv[0] is the subcommand's own name ("client"). */
int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_scan(int argc, char **argv);

/*
 * tool_opt_value: if argv[*i] is the option `name` ("--cafile"), written "--cafile F" or
 * "--cafile=F", point *val at F, step *i past it and return 1. 0 when argv[*i] is another
 * option; -1, after a message starting with prefix ("mica"), when the value is missing.
 */
int tool_opt_value(int argc, char **argv, int *i, const char *name, const char *prefix,
                   const char **val);

/*
 * tool_split_hostport: "host:port", "[v6]:port" (brackets removed) -> host and port.
 * 0 on success; -1, after a message starting with prefix ("mica"), when arg is not of that form or does not
 * fit the buffers.
 */
int tool_split_hostport(const char *arg, const char *prefix, char *host, size_t host_cap,
                        char *port, size_t port_cap);

/*
 * tool_set_algorithms: apply --ciphers, --groups and --alpn (each may be NULL) to cfg.
 * 0 on success; -1 after a message starting with prefix ("mica") and the option that was refused.
 */
int tool_set_algorithms(mica_config *cfg, const char *prefix, const char *ciphers,
                        const char *groups, const char *alpn);

/*
 * tool_readable: 0 when path can be opened for reading; -1 after a message naming the
 * option and the system's reason (the library only says that a file was refused).
 */
int tool_readable(const char *prefix, const char *option, const char *path);

/*
 * Key logging (--keylog FILE, else the SSLKEYLOGFILE environment variable): the engine's
 * NSS key log lines (mica_config_set_keylog), one line per secret, appended to the file.
 * Each line goes out in one write(2) of the whole line and its '\n' on a descriptor opened
 * with O_APPEND, so processes sharing a file (a client and a server, several servers) never
 * interleave inside a line, and nothing waits in a buffer. A new file is created 0600.
 */
/* the number of elements of an array (src/base has its own: tools see only mica.h) */
#ifndef MICA_ARRAY_LEN
#define MICA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct tool_keylog {
    int fd;             /* -1: key logging is off */
    const char *path;   /* the file, for messages */
    const char *prefix; /* "mica", "mica server" */
    int write_failed;   /* a write failed and was reported once */
};

/*
 * tool_keylog_open: turn key logging on for cfg when option (the --keylog value, or NULL)
 * or else SSLKEYLOGFILE (set and not empty) names a file, with a warning on standard error
 * that the file holds secrets. kl stays valid while cfg is used; tool_keylog_close after
 * cfg is freed. 0 on success (on or off); -1, after a message, when --keylog FILE cannot
 * be opened. An SSLKEYLOGFILE that cannot be opened is a warning and key logging stays off.
 */
int tool_keylog_open(struct tool_keylog *kl, mica_config *cfg, const char *prefix,
                     const char *option);
void tool_keylog_close(struct tool_keylog *kl);
/* tool_keylog_attach: the same open key log for another config (a reload) */
void tool_keylog_attach(struct tool_keylog *kl, mica_config *cfg);

#endif /* MICA_TOOLS_CMD_H */
