/*
 * mica server --config: text -> argument vector (see conffile.h). No I/O here; server.c
 * reads the file and hands the result to the same parser as the command line.
 *
 * Memory: one allocation holds the pointer array, a copy of the text (each value is cut
 * out of it in place) and the "--name" strings, sized from the text before any is
 * written: a setting takes at least one byte of the text and at most one line, so the
 * array needs 2 * lines + 1 pointers and the names at most len + 3 * lines bytes.
 */
#include "conffile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int refuse(char *why, size_t why_cap, const char *fmt,
                                                        ...)
{
    if (why_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(why, why_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool listed(const char *name, const char *const *list, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(name, list[k]) == 0) {
            return true;
        }
    }
    return false;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One setting line, NUL-terminated and writable: cut the comment and the blanks around
 * the name; *name and *value (may be "") point into it. false when nothing is left. */
static bool split_line(char *line, char **name, char **value)
{
    char *end = strchr(line, '#');
    char *n;

    if (end != NULL) {
        *end = '\0';
    }
    n = line;
    while (blank(*n)) {
        n++;
    }
    end = n + strlen(n);
    while (end > n && blank(end[-1])) {
        *--end = '\0';
    }
    if (*n == '\0') {
        return false;
    }
    *name = n;
    *value = n + strcspn(n, " \t");
    if (**value != '\0') {
        *(*value)++ = '\0';
        *value += strspn(*value, " \t\r");
    }
    return true;
}

int tool_conffile_parse(const char *text, size_t len, const struct tool_conffile_names *names,
                        struct tool_conffile *out, char *why, size_t why_cap)
{
    size_t lines = 1, settings_cap, settings = 0, names_cap, used = 0, lineno = 0;
    char **argv;
    char *copy, *arena;
    int argc = 0;

    out->argv = NULL;
    out->argc = 0;
    out->line = 0;
    if (len > TOOL_CONFFILE_MAX_BYTES) {
        return refuse(why, why_cap, "longer than %u bytes", TOOL_CONFFILE_MAX_BYTES);
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            lines++;
        } else if (text[i] == '\0') {
            out->line = lines;
            return refuse(why, why_cap, "a NUL byte");
        }
    }
    settings_cap = lines < TOOL_CONFFILE_MAX_SETTINGS ? lines : TOOL_CONFFILE_MAX_SETTINGS;
    names_cap = len + 3 * lines;
    argv = malloc((2 * settings_cap + 1) * sizeof *argv + len + 1 + names_cap);
    if (argv == NULL) {
        return refuse(why, why_cap, "out of memory");
    }
    copy = (char *)(argv + 2 * settings_cap + 1);
    arena = copy + len + 1;
    if (len > 0) {
        memcpy(copy, text, len);
    }
    copy[len] = '\0';

    for (char *line = copy, *next; line != NULL; line = next) {
        char *name, *value;
        bool takes;
        size_t need;

        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        lineno++;
        if (!split_line(line, &name, &value)) {
            continue;
        }
        takes = listed(name, names->with_value, names->with_value_n);
        out->line = lineno;
        if (!takes && !listed(name, names->flags, names->flags_n)) {
            (void)refuse(why, why_cap, "unknown setting '%s'", name); /* name lives in argv */
            free(argv);
            return -1;
        }
        if (takes && *value == '\0') {
            (void)refuse(why, why_cap, "a value is missing after '%s'",
                         name); /* name lives in argv */
            free(argv);
            return -1;
        }
        if (!takes && *value != '\0') {
            (void)refuse(why, why_cap, "no value may follow '%s'", name); /* name lives in argv */
            free(argv);
            return -1;
        }
        if (settings == settings_cap) { /* only when lines > TOOL_CONFFILE_MAX_SETTINGS */
            out->line = 0;
            free(argv);
            return refuse(why, why_cap, "more than %u settings", TOOL_CONFFILE_MAX_SETTINGS);
        }
        need = strlen(name) + 3;
        if (need > names_cap - used) { /* cannot happen: names_cap is an upper bound */
            free(argv);
            return refuse(why, why_cap, "internal error: the names do not fit");
        }
        settings++;
        (void)snprintf(arena + used, need, "--%s", name);
        argv[argc++] = arena + used;
        used += need;
        if (takes) {
            argv[argc++] = value;
        }
    }
    argv[argc] = NULL;
    out->argv = argv;
    out->argc = argc;
    out->line = 0;
    return 0;
}

void tool_conffile_free(struct tool_conffile *cf)
{
    if (cf != NULL) {
        free(cf->argv);
        cf->argv = NULL;
        cf->argc = 0;
    }
}
