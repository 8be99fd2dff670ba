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

/* The subcommands. argv[0] is the subcommand's own name ("client"). */
int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);

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

#endif /* MICA_TOOLS_CMD_H */
