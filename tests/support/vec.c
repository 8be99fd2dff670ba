#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

struct row {
    int section;
    char *side, *step, *field;
    uint8_t *val;
    size_t len;
};

static struct row *rows;
static size_t rows_n;

const char *vec_path(const char *rel)
{
    static char buf[4096];

    snprintf(buf, sizeof(buf), "%s/%s", MICA_TEST_VECTORS, rel);
    return buf;
}

char *vec_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            char *nb = realloc(buf, cap + 65536 + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return buf;
}

static void load(void)
{
    char *text, *line, *save = NULL;
    const char *path = vec_path("rfc8448/rfc8448.vec");

    if (rows != NULL) {
        return;
    }
    text = vec_read_file(path, NULL);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *f[5], *s = line;
        struct row *r;
        if (line[0] == '#') {
            continue;
        }
        for (int i = 0; i < 5; i++) {
            f[i] = s;
            s = (i < 4) ? strchr(s, '|') : NULL;
            if (i < 4 && s == NULL) {
                fprintf(stderr, "bad line in %s: %s\n", path, line);
                exit(2);
            }
            if (s != NULL) {
                *s++ = '\0';
            }
        }
        rows = realloc(rows, (rows_n + 1) * sizeof(*rows));
        if (rows == NULL) {
            exit(2);
        }
        r = &rows[rows_n++];
        r->section = atoi(f[0]);
        r->side = f[1];
        r->step = f[2];
        r->field = f[3];
        r->val = hex_alloc(f[4], &r->len);
        if (r->val == NULL && strlen(f[4]) > 0) {
            fprintf(stderr, "bad hex in %s\n", path);
            exit(2);
        }
        if (r->val == NULL) {
            r->val = (uint8_t *)"";
        }
    }
    /* text is kept: rows point into it for the life of the test */
}

const uint8_t *vec_rfc8448(int section, const char *side, const char *step, const char *field,
                           int nth, size_t *len)
{
    load();
    for (size_t i = 0; i < rows_n; i++) {
        struct row *r = &rows[i];
        if (r->section == section && strcmp(r->side, side) == 0 && strcmp(r->step, step) == 0 &&
            strcmp(r->field, field) == 0 && nth-- == 0) {
            *len = r->len;
            return r->val;
        }
    }
    fprintf(stderr, "RFC 8448 value missing: section %d {%s} %s / %s\n", section, side, step,
            field);
    exit(2);
}

size_t vec_rfc8448_rows(void)
{
    load();
    return rows_n;
}

void vec_rfc8448_row(size_t i, int *section, const char **side, const char **step,
                     const char **field, const uint8_t **val, size_t *len)
{
    load();
    *section = rows[i].section;
    *side = rows[i].side;
    *step = rows[i].step;
    *field = rows[i].field;
    *val = rows[i].val;
    *len = rows[i].len;
}
