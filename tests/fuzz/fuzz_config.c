/*
 * Fuzz target for mica server --config: tool_conffile_parse (tools/conffile.c), the text
 * of a config file turned into an argument vector, and then the server's own option
 * parser over that vector (tool_server_config_check, tools/server.c), which is what
 * `mica server --config FILE` runs before it starts anything.
 *
 * Oracles, beyond "no crash, no sanitizer report":
 * - a refusal leaves no vector and gives a reason; a text with a NUL byte is refused;
 * - an accepted vector is NULL-terminated, every setting is "--" and a name from the
 *   server's tables, a value follows exactly the names that take one, and values are not
 *   empty and hold no newline, '#' or blank at either end; there are no more settings
 *   than lines;
 * - writing the vector back as a config text ("name value" lines) and parsing that gives
 *   the same vector.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"
#include "fuzz_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int listed(const char *name, const char *const *list, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (strcmp(name, list[k]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* check the vector's shape; returns the number of settings and the text length needed
 * to write it back */
static size_t check_vector(const struct tool_conffile *cf, size_t *text_len)
{
    const struct tool_conffile_names *names = &tool_server_config_names;
    size_t settings = 0;

    *text_len = 0;
    FUZZ_ASSERT(cf->argv != NULL && cf->argc >= 0 && cf->argv[cf->argc] == NULL);
    for (int i = 0; i < cf->argc; i++) {
        const char *a = cf->argv[i];
        int takes;
        FUZZ_ASSERT(a != NULL && a[0] == '-' && a[1] == '-');
        takes = listed(a + 2, names->with_value, names->with_value_n);
        FUZZ_ASSERT(takes || listed(a + 2, names->flags, names->flags_n));
        *text_len += strlen(a) + 1;
        settings++;
        if (takes) {
            const char *v = cf->argv[++i];
            size_t vl;
            FUZZ_ASSERT(i < cf->argc && v != NULL);
            vl = strlen(v);
            FUZZ_ASSERT(vl > 0 && !is_blank(v[0]) && !is_blank(v[vl - 1]));
            FUZZ_ASSERT(strchr(v, '\n') == NULL && strchr(v, '#') == NULL);
            *text_len += vl + 1;
        }
    }
    return settings;
}

/* the vector written back as a config text: "name value\n" per setting */
static char *write_back(const struct tool_conffile *cf, size_t cap, size_t *len)
{
    const struct tool_conffile_names *names = &tool_server_config_names;
    char *text = malloc(cap + 1);
    size_t n = 0;

    FUZZ_ASSERT(text != NULL);
    for (int i = 0; i < cf->argc; i++) {
        const char *name = cf->argv[i] + 2;
        size_t k = strlen(name);
        memcpy(text + n, name, k);
        n += k;
        if (listed(name, names->with_value, names->with_value_n)) {
            const char *v = cf->argv[++i];
            text[n++] = ' ';
            k = strlen(v);
            memcpy(text + n, v, k);
            n += k;
        }
        text[n++] = '\n';
    }
    FUZZ_ASSERT(n <= cap);
    *len = n;
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct tool_conffile a, b;
    char why[256];
    size_t lines = 1, settings, need, back_len;
    char *back;

    for (size_t i = 0; i < size; i++) {
        lines += text[i] == '\n';
    }
    why[0] = '\0';
    if (tool_conffile_parse(text, size, &tool_server_config_names, &a, why, sizeof why) != 0) {
        FUZZ_ASSERT(a.argv == NULL && a.argc == 0 && why[0] != '\0');
        FUZZ_ASSERT(a.line <= lines);
        return 0;
    }
    FUZZ_ASSERT(size == 0 || memchr(data, '\0', size) == NULL);
    settings = check_vector(&a, &need);
    FUZZ_ASSERT(settings <= lines && settings <= TOOL_CONFFILE_MAX_SETTINGS);

    back = write_back(&a, need, &back_len);
    FUZZ_ASSERT(
        tool_conffile_parse(back, back_len, &tool_server_config_names, &b, why, sizeof why) == 0);
    FUZZ_ASSERT(a.argc == b.argc);
    for (int i = 0; i < a.argc; i++) {
        FUZZ_ASSERT(strcmp(a.argv[i], b.argv[i]) == 0);
    }
    tool_conffile_free(&b);
    free(back);
    tool_conffile_free(&a);

    /* the option parser: any result is fine, as long as it is one */
    int rc = tool_server_config_check(text, size);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    return 0;
}
