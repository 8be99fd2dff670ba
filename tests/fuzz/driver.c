/*
 * A stand-in for libFuzzer in normal builds, so every fuzz target also runs as a
 * regression test under ctest (and under ASan/UBSan in the sanitizer build):
 *
 *     fuzz_rd tests/fuzz/corpus/fuzz_rd       every file in the corpus, then mutations
 *     fuzz_rd crash-1234 other-file          just these files (to replay a finding)
 *
 * With a directory it calls LLVMFuzzerTestOneInput on the empty input, on every file in
 * the directory (in name order), and then on MUTATIONS inputs made from those files by
 * bit flips, truncations, insertions, byte repeats and splices. The generator has a
 * fixed seed, so every run tries the same inputs and a failure reproduces. When an input
 * crashes (a signal, or a sanitizer report), it is saved as ./fuzz-crash-input and its
 * name and length are printed, so it can be replayed with the target and turned into a
 * unit test. A missing or empty corpus directory is an error: a target that silently
 * runs nothing would be a test that cannot fail.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Present only when linked with a sanitizer runtime (a weak reference is NULL otherwise). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

#define MUTATIONS 20000u
#define CORPUS_CAP 4096u
#define INPUT_CAP (64u * 1024u)    /* mutated inputs stay below this */
#define TIME_BUDGET 15.0           /* seconds; mutations stop early past this (and say so) */
#define SEED 0x6d6963612d667a7aull /* "mica-fzz" */

struct input {
    uint8_t *data;
    size_t len;
    char *name;
};

static struct input inputs[CORPUS_CAP];
static size_t inputs_n;

/* splitmix64: small, fast, and the same sequence on every platform */
static uint64_t rng_state = SEED;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* below(n): uniform-enough in [0, n); n > 0 */
static size_t below(size_t n)
{
    return (size_t)(rng() % n);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *nb;
            cap = cap == 0 ? 4096 : cap * 2;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The input being run, for the crash handlers. */
static const uint8_t *current;
static size_t current_len;
static const char *current_what;

/* save_current: async-signal-safe (open/write only) */
static void save_current(void)
{
    static const char path[] = "fuzz-crash-input";
    static const char msg[] = "\ndriver: the crashing input is saved as ./fuzz-crash-input (from ";
    int fd;

    if (current_what == NULL) {
        return;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < current_len) {
            ssize_t k = write(fd, current + off, current_len - off);
            if (k <= 0) {
                break;
            }
            off += (size_t)k;
        }
        close(fd);
    }
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
        write(STDERR_FILENO, current_what, strlen(current_what)) < 0 ||
        write(STDERR_FILENO, ")\n", 2) < 0) {
        return;
    }
    current_what = NULL;
}

static void on_signal(int sig)
{
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_crash_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], on_signal);
    }
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(save_current);
    }
}

/* run: one input, in a heap copy of exactly its size (even 0, as libFuzzer does), so
 * ASan sees any overread */
static void run(const uint8_t *data, size_t len, const char *what)
{
    uint8_t *copy = malloc(len);

    if (copy == NULL && len > 0) {
        fprintf(stderr, "driver: out of memory\n");
        exit(2);
    }
    if (len > 0) {
        memcpy(copy, data, len);
    }
    if (getenv("MICA_FUZZ_VERBOSE") != NULL) {
        fprintf(stderr, "driver: running %s (%zu bytes)\n", what, len);
    }
    current = copy;
    current_len = len;
    current_what = what;
    (void)LLVMFuzzerTestOneInput(copy, len);
    current_what = NULL;
    free(copy);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

static int load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL) {
        fprintf(stderr, "driver: cannot open corpus directory %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL && inputs_n < CORPUS_CAP) {
        char path[4096];
        struct stat st;
        size_t len = 0;
        uint8_t *data;

        if (e->d_name[0] == '.') {
            continue;
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path)) {
            continue;
        }
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        data = read_file(path, &len);
        if (data == NULL) {
            fprintf(stderr, "driver: cannot read %s\n", path);
            closedir(d);
            return -1;
        }
        inputs[inputs_n].data = data;
        inputs[inputs_n].len = len;
        inputs[inputs_n].name = strdup(e->d_name);
        inputs_n++;
    }
    closedir(d);
    qsort(inputs, inputs_n, sizeof(inputs[0]), by_name);
    return 0;
}

/*
 * mutate: derive one input from a corpus entry into out[0..INPUT_CAP). Several edits in
 * a row, each one of: flip a bit, set a byte to an interesting value, truncate, insert
 * random bytes, repeat a run of bytes, overwrite a length-looking pair with a boundary
 * value, splice in part of another corpus file.
 */
static size_t mutate(uint8_t *out, const struct input *in)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x14, 0x15, 0x16,
                                          0x17, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff};
    static const uint16_t lengths[] = {0x0000, 0x0001, 0x0002, 0x00ff, 0x0100,
                                       0x3fff, 0x4000, 0x4001, 0x4100, 0x4101,
                                       0x4110, 0x4111, 0x7fff, 0x8000, 0xffff};
    size_t len = in->len < INPUT_CAP ? in->len : INPUT_CAP;
    size_t edits = 1 + below(4);

    memcpy(out, in->data, len);
    for (size_t e = 0; e < edits; e++) {
        switch (below(8)) {
        case 0: /* bit flip */
            if (len > 0) {
                out[below(len)] ^= (uint8_t)(1u << below(8));
            }
            break;
        case 1: /* interesting byte */
            if (len > 0) {
                out[below(len)] = interesting[below(sizeof(interesting))];
            }
            break;
        case 2: /* truncate */ len = len > 0 ? below(len + 1) : 0; break;
        case 3: { /* insert 1..16 random bytes */
            size_t at = below(len + 1), k = 1 + below(16);
            if (len + k <= INPUT_CAP) {
                memmove(out + at + k, out + at, len - at);
                for (size_t i = 0; i < k; i++) {
                    out[at + i] = (uint8_t)rng();
                }
                len += k;
            }
            break;
        }
        case 4: { /* repeat a run of bytes in place */
            size_t at, k, times;
            if (len == 0) {
                break;
            }
            at = below(len);
            k = 1 + below(len - at < 8 ? len - at : 8);
            times = 1 + below(8);
            if (len + k * times <= INPUT_CAP) {
                memmove(out + at + k * (times + 1), out + at + k, len - at - k);
                for (size_t t = 1; t <= times; t++) {
                    memmove(out + at + k * t, out + at, k);
                }
                len += k * times;
            }
            break;
        }
        case 5: /* a boundary length over any two bytes */
            if (len >= 2) {
                size_t at = below(len - 1);
                uint16_t v = lengths[below(sizeof(lengths) / sizeof(lengths[0]))];
                out[at] = (uint8_t)(v >> 8);
                out[at + 1] = (uint8_t)v;
            }
            break;
        case 6: { /* splice: the tail of another input after a prefix of this one */
            const struct input *o = &inputs[below(inputs_n)];
            size_t cut = below(len + 1), from = below(o->len + 1), k = o->len - from;
            if (cut + k > INPUT_CAP) {
                k = INPUT_CAP - cut;
            }
            memcpy(out + cut, o->data + from, k);
            len = cut + k;
            break;
        }
        default: /* delete a run */
            if (len > 0) {
                size_t at = below(len), k = 1 + below(len - at);
                memmove(out + at, out + at + k, len - at - k);
                len -= k;
            }
            break;
        }
    }
    return len;
}

static int run_corpus(const char *dir)
{
    uint8_t *buf;
    size_t mutations = 0, max_mutations = MUTATIONS;
    double start, budget = TIME_BUDGET;

    if (load_dir(dir) != 0) {
        return 2;
    }
    if (inputs_n == 0) {
        fprintf(stderr, "driver: corpus %s is empty\n", dir);
        return 2;
    }
    run(NULL, 0, "the empty input");
    for (size_t i = 0; i < inputs_n; i++) {
        run(inputs[i].data, inputs[i].len, inputs[i].name);
    }
    buf = malloc(INPUT_CAP);
    if (buf == NULL) {
        return 2;
    }
    /* MICA_TEST_LIGHT (make valgrind, where an input costs ~50 times more): every seed
     * still runs, then a tenth of the mutations within a third of the time */
    {
        const char *light = getenv("MICA_TEST_LIGHT");
        if (light != NULL && *light != '\0' && strcmp(light, "0") != 0) {
            max_mutations = MUTATIONS / 10;
            budget = TIME_BUDGET / 3;
        }
    }
    start = now();
    for (; mutations < max_mutations; mutations++) {
        const struct input *in = &inputs[below(inputs_n)];
        size_t len = mutate(buf, in);
        run(buf, len, in->name);
        if ((mutations & 255u) == 0 && now() - start > budget) {
            fprintf(stderr, "driver: time budget of %.0f s reached; stopping early\n", budget);
            mutations++;
            break;
        }
    }
    free(buf);
    printf("driver: %s: 1 empty input, %zu corpus files, %zu mutations (seed %#llx), %.2f s\n", dir,
           inputs_n, mutations, (unsigned long long)SEED, now() - start);
    for (size_t i = 0; i < inputs_n; i++) {
        free(inputs[i].data);
        free(inputs[i].name);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct stat st;
    size_t files = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s <corpus-dir> | <file>...\n", argv[0]);
        return 2;
    }
    install_crash_handlers();
    if (argc == 2 && stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
        return run_corpus(argv[1]);
    }
    for (int i = 1; i < argc; i++) {
        size_t len = 0;
        uint8_t *data = read_file(argv[i], &len);
        if (data == NULL) {
            fprintf(stderr, "driver: cannot read %s\n", argv[i]);
            return 2;
        }
        run(data, len, argv[i]);
        free(data);
        files++;
    }
    printf("driver: ran %zu files\n", files);
    return 0;
}
