/*
 * mica server --config FILE: the file's text turned into the argument vector the command
 * line would give ("cert a.pem" -> "--cert" "a.pem"), so one option parser reads both.
 * A pure function over a buffer: no files, no output, no globals, so it is fuzzed on its
 * own (tests/fuzz/fuzz_config.c).
 *
 * The format: one setting per line -- a flag's name without "--", then (for a flag that
 * takes one) blanks and its value, the rest of the line; '#' starts a comment; blank
 * lines, leading and trailing blanks and '\r' are ignored. A value cannot hold '#'.
 */
#ifndef MICA_TOOLS_CONFFILE_H
#define MICA_TOOLS_CONFFILE_H

#include <stddef.h>

/* Limits: a larger file, or more settings, is refused (never cut short silently). */
#define TOOL_CONFFILE_MAX_BYTES (1024u * 1024u)
#define TOOL_CONFFILE_MAX_SETTINGS 4096u

/* The settings a file may hold: names (without "--") that take a value, and flags. */
struct tool_conffile_names {
    const char *const *with_value;
    size_t with_value_n;
    const char *const *flags;
    size_t flags_n;
};

/* The result: argv[0..argc) are "--name" and values in file order, argv[argc] is NULL
 * (no program name in front). Everything lives in one allocation owned by argv. line:
 * after a failure, the line it is on (from 1; 0 when it is about the whole file). */
struct tool_conffile {
    char **argv;
    int argc;
    size_t line;
};

/*
 * tool_conffile_parse: text[0..len) (not NUL-terminated; may be NULL when len is 0) ->
 * *out. 0 on success (out->argv then belongs to the caller: tool_conffile_free). -1 on a
 * file that does not parse, with out->argv NULL, out->line the line (0: none) and
 * why[0..why_cap) the reason: "unknown setting 'bogus'", "a value is missing after
 * 'cert'", "no value may follow 'www'", "a NUL byte", "more than 4096 settings", "longer
 * than 1048576 bytes", "out of memory". why may be NULL when why_cap is 0.
 *
 *     struct tool_conffile cf;
 *     char why[160];
 *     if (tool_conffile_parse(text, len, &names, &cf, why, sizeof why) != 0) {
 *         fprintf(stderr, "mica server: %s:%zu: %s\n", path, cf.line, why);
 *     }
 */
int tool_conffile_parse(const char *text, size_t len, const struct tool_conffile_names *names,
                        struct tool_conffile *out, char *why, size_t why_cap);
void tool_conffile_free(struct tool_conffile *cf);

/* The settings mica server --config takes (tools/server.c). */
extern const struct tool_conffile_names tool_server_config_names;

/*
 * tool_server_config_check: text as mica server --config reads it, through the same
 * option parser as the command line, without starting anything (tools/server.c). 0 when
 * the settings make a valid server command line, -1 after a message when not.
 * For tests/fuzz/fuzz_config.c.
 */
int tool_server_config_check(const char *text, size_t len);

#endif /* MICA_TOOLS_CONFFILE_H */
