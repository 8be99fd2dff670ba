/*
 * The server's two shared, mutable stores (RFC 8446 8, 4.6.1). A mica_config is read-only
 * once connections use it; these are the exceptions, each an object of its own behind a
 * pointer in the config, with its own lock, so any number of connections on any threads
 * may use them at once.
 *
 * The replay table (anti-replay for 0-RTT, RFC 8446 8.2, "ClientHello recording"): a
 * fixed open-addressing table of 2^16 slots, each an id (the first 16 bytes of a
 * ClientHello's PSK binder, an HMAC output, so uniformly distributed) and the time it may
 * be forgotten. Insertion probes at most 32 slots from the id's home and reuses any slot
 * whose time has passed; when all 32 are live the answer is "seen": under a flood of
 * 0-RTT hellos early data is refused (the handshake goes on in 1-RTT), never accepted
 * twice. An entry need live only as long as the freshness window lets the same
 * ClientHello be accepted again (psk.c); the caller says how long.
 *
 * The session cache (stateful tickets, "--session-cache N"): up to N sessions keyed by
 * a random 32-byte ticket, each the serialized session state (psk.c's format), in a hash
 * table with chaining and a least-recently-used list; when full the oldest session is
 * dropped. A ticket is taken out when it is used: each is good for one resumption,
 * which is also the anti-replay for 0-RTT with stateful tickets (RFC 8446 8.1).
 *
 * The client's sessions (mica_config_keep_sessions): per server name, the newest few
 * session blobs, for up to N names (the least recently used name goes when full); a
 * new client connection takes the newest one out (a ticket is used once, RFC 8446 C.4).
 */
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>

#include "tls/conn.h"

/* ---- the replay table -------------------------------------------------------------- */

#define REPLAY_SLOTS (1u << 16)
#define REPLAY_PROBES 32u
#define REPLAY_ID_LEN 16u

struct replay_slot {
    uint8_t id[REPLAY_ID_LEN];
    uint64_t expires_ms; /* 0: free */
};

struct mica_replay {
    pthread_mutex_t lock;
    struct replay_slot *slots; /* made at the first check: a client config never pays */
};

mica_err mica_replay_new(struct mica_replay **out)
{
    struct mica_replay *r = mica_mem_alloc(sizeof(*r));

    ENSURE(r != NULL, MICA_E_NOMEM);
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        mica_mem_free(r);
        return MICA_E_NOMEM;
    }
    *out = r;
    return MICA_OK;
}

void mica_replay_free(struct mica_replay *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_destroy(&r->lock);
    mica_mem_free(r->slots);
    mica_mem_free(r);
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int mica_replay_check(void *ctx, const uint8_t id[32], uint64_t now_ms, uint64_t keep_ms)
{
    struct mica_replay *r = ctx;
    struct replay_slot *free_slot = NULL;
    uint32_t home = load32(id) & (REPLAY_SLOTS - 1);
    int fresh = 0;

    pthread_mutex_lock(&r->lock);
    if (r->slots == NULL) {
        r->slots = mica_mem_alloc((size_t)REPLAY_SLOTS * sizeof(*r->slots));
    }
    if (r->slots != NULL) { /* no memory: "seen", so early data is refused */
        for (uint32_t i = 0; i < REPLAY_PROBES; i++) {
            struct replay_slot *s = &r->slots[(home + i) & (REPLAY_SLOTS - 1)];
            if (s->expires_ms <= now_ms) {
                if (free_slot == NULL) {
                    free_slot = s; /* free or forgotten: usable, but keep looking for id */
                }
                continue;
            }
            if (mica_ct_eq(s->id, id, REPLAY_ID_LEN)) {
                free_slot = NULL; /* seen while its entry lives: a replay */
                break;
            }
        }
        if (free_slot != NULL) {
            memcpy(free_slot->id, id, REPLAY_ID_LEN);
            free_slot->expires_ms = now_ms + (keep_ms > 0 ? keep_ms : 1);
            fresh = 1;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return fresh;
}

/* ---- the session cache ------------------------------------------------------------- */

#define NIL ((uint32_t)-1)

struct cache_entry {
    uint8_t id[MICA_SESSION_ID_LEN];
    uint8_t *state; /* NULL: the entry is free */
    size_t len;
    uint32_t chain;      /* next in the hash bucket */
    uint32_t prev, next; /* LRU list: head is the newest */
};

struct mica_cache {
    pthread_mutex_t lock;
    struct cache_entry *e;
    uint32_t *buckets;
    uint32_t n, cap, nbuckets;
    uint32_t head, tail;
    uint32_t free_head; /* entries emptied by take or eviction, linked by chain */
    uint32_t free_next; /* the next never-used entry */
};

mica_err mica_cache_new(size_t n, struct mica_cache **out)
{
    struct mica_cache *c;
    uint32_t nb = 1;

    ENSURE(n >= 1 && n <= MICA_MAX_SESSION_CACHE, MICA_E_ARGUMENT);
    while (nb < n) {
        nb <<= 1;
    }
    c = mica_mem_alloc(sizeof(*c));
    ENSURE(c != NULL, MICA_E_NOMEM);
    c->e = mica_mem_alloc(n * sizeof(*c->e));
    c->buckets = mica_mem_alloc((size_t)nb * sizeof(*c->buckets));
    if (c->e == NULL || c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        mica_mem_free(c->e);
        mica_mem_free(c->buckets);
        mica_mem_free(c);
        return MICA_E_NOMEM;
    }
    for (uint32_t i = 0; i < nb; i++) {
        c->buckets[i] = NIL;
    }
    c->cap = (uint32_t)n;
    c->nbuckets = nb;
    c->head = c->tail = c->free_head = NIL;
    *out = c;
    return MICA_OK;
}

void mica_cache_free(struct mica_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->free_next; i++) {
        if (c->e[i].state != NULL) {
            mica_mem_wipe(c->e[i].state, c->e[i].len); /* each holds a resumption PSK */
            mica_mem_free(c->e[i].state);
        }
    }
    pthread_mutex_destroy(&c->lock);
    mica_mem_free_secret(c->e);
    mica_mem_free(c->buckets);
    mica_mem_free(c);
}

static uint32_t *bucket_of(struct mica_cache *c, const uint8_t *id)
{
    return &c->buckets[load32(id) & (c->nbuckets - 1)];
}

static void lru_unlink(struct mica_cache *c, uint32_t i)
{
    struct cache_entry *e = &c->e[i];

    if (e->prev != NIL) {
        c->e[e->prev].next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != NIL) {
        c->e[e->next].prev = e->prev;
    } else {
        c->tail = e->prev;
    }
}

/* drop: take entry i out of its bucket and the LRU list, wipe it, put it on the free list */
static void drop(struct mica_cache *c, uint32_t i)
{
    uint32_t *p = bucket_of(c, c->e[i].id);

    while (*p != i) {
        p = &c->e[*p].chain;
    }
    *p = c->e[i].chain;
    lru_unlink(c, i);
    mica_mem_wipe(c->e[i].state, c->e[i].len);
    mica_mem_free(c->e[i].state);
    c->e[i].state = NULL;
    c->e[i].chain = c->free_head;
    c->free_head = i;
    c->n--;
}

static uint32_t find(struct mica_cache *c, const uint8_t *id)
{
    for (uint32_t i = *bucket_of(c, id); i != NIL; i = c->e[i].chain) {
        if (mica_ct_eq(c->e[i].id, id, MICA_SESSION_ID_LEN)) {
            return i;
        }
    }
    return NIL;
}

mica_err mica_cache_put(struct mica_cache *c, const uint8_t *id, const uint8_t *state, size_t len)
{
    uint8_t *copy = mica_mem_alloc(len);
    uint32_t i;

    ENSURE(copy != NULL, MICA_E_NOMEM);
    memcpy(copy, state, len);
    pthread_mutex_lock(&c->lock);
    if (c->free_head == NIL && c->free_next < c->cap) {
        i = c->free_next++;
    } else {
        if (c->free_head == NIL) {
            drop(c, c->tail); /* full: the least recently used session goes */
        }
        i = c->free_head;
        c->free_head = c->e[i].chain;
    }
    memcpy(c->e[i].id, id, MICA_SESSION_ID_LEN);
    c->e[i].state = copy;
    c->e[i].len = len;
    c->e[i].chain = *bucket_of(c, id);
    *bucket_of(c, id) = i;
    c->e[i].prev = NIL;
    c->e[i].next = c->head;
    if (c->head != NIL) {
        c->e[c->head].prev = i;
    }
    c->head = i;
    if (c->tail == NIL) {
        c->tail = i;
    }
    c->n++;
    pthread_mutex_unlock(&c->lock);
    return MICA_OK;
}

mica_err mica_cache_take(struct mica_cache *c, const uint8_t *id, uint8_t *state, size_t cap,
                         size_t *len)
{
    mica_err err = MICA_E_DECODE;
    uint32_t i;

    pthread_mutex_lock(&c->lock);
    i = find(c, id);
    if (i != NIL && c->e[i].len <= cap) {
        memcpy(state, c->e[i].state, c->e[i].len);
        *len = c->e[i].len;
        err = MICA_OK;
    }
    if (i != NIL) {
        drop(c, i); /* single use, whatever happens next */
    }
    pthread_mutex_unlock(&c->lock);
    return err;
}

size_t mica_cache_count(struct mica_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->lock);
    n = c->n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- the client's sessions, per server name ---------------------------------------- */

#define KEEP_MAX_PER_NAME 16u

struct keep_entry {
    char name[MICA_MAX_SERVER_NAME + 1];
    uint64_t used; /* the store's tick when last touched: the least recent goes first */
    size_t n;      /* sessions, oldest first */
    uint8_t *blob[KEEP_MAX_PER_NAME];
    size_t len[KEEP_MAX_PER_NAME];
};

struct mica_keep {
    pthread_mutex_t lock;
    struct keep_entry *e;
    size_t cap, per_name;
    uint64_t tick;
};

mica_err mica_keep_new(size_t names, size_t per_name, struct mica_keep **out)
{
    struct mica_keep *k;

    ENSURE(names >= 1 && names <= MICA_MAX_KEEP_NAMES && per_name >= 1 &&
               per_name <= KEEP_MAX_PER_NAME,
           MICA_E_ARGUMENT);
    k = mica_mem_alloc(sizeof(*k));
    ENSURE(k != NULL, MICA_E_NOMEM);
    k->e = mica_mem_alloc(names * sizeof(*k->e));
    if (k->e == NULL || pthread_mutex_init(&k->lock, NULL) != 0) {
        mica_mem_free(k->e);
        mica_mem_free(k);
        return MICA_E_NOMEM;
    }
    k->cap = names;
    k->per_name = per_name;
    *out = k;
    return MICA_OK;
}

static void keep_drop(struct keep_entry *e, size_t i)
{
    mica_mem_free_secret(e->blob[i]); /* a session holds its resumption PSK */
    memmove(&e->blob[i], &e->blob[i + 1], (e->n - i - 1) * sizeof(e->blob[0]));
    memmove(&e->len[i], &e->len[i + 1], (e->n - i - 1) * sizeof(e->len[0]));
    e->n--;
}

void mica_keep_free(struct mica_keep *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < k->cap; i++) {
        while (k->e[i].n > 0) {
            keep_drop(&k->e[i], k->e[i].n - 1);
        }
    }
    pthread_mutex_destroy(&k->lock);
    mica_mem_free(k->e);
    mica_mem_free(k);
}

static struct keep_entry *keep_find(struct mica_keep *k, const char *name)
{
    for (size_t i = 0; i < k->cap; i++) {
        if (k->e[i].used != 0 && strcmp(k->e[i].name, name) == 0) {
            return &k->e[i];
        }
    }
    return NULL;
}

void mica_keep_put(struct mica_keep *k, const char *name, const uint8_t *blob, size_t len)
{
    uint8_t *copy = mica_mem_alloc(len);
    struct keep_entry *e;

    if (copy == NULL) {
        return; /* a session not kept costs a full handshake, nothing more */
    }
    memcpy(copy, blob, len);
    pthread_mutex_lock(&k->lock);
    e = keep_find(k, name);
    if (e == NULL) { /* a free entry, else the least recently used name's */
        e = &k->e[0];
        for (size_t i = 0; i < k->cap && e->used != 0; i++) {
            if (k->e[i].used < e->used) {
                e = &k->e[i];
            }
        }
        while (e->n > 0) {
            keep_drop(e, e->n - 1);
        }
        snprintf(e->name, sizeof(e->name), "%s", name);
    }
    if (e->n == k->per_name) {
        keep_drop(e, 0); /* the oldest session of this name */
    }
    e->blob[e->n] = copy;
    e->len[e->n] = len;
    e->n++;
    e->used = ++k->tick;
    pthread_mutex_unlock(&k->lock);
}

uint8_t *mica_keep_take(struct mica_keep *k, const char *name, size_t *len)
{
    struct keep_entry *e;
    uint8_t *blob = NULL;

    pthread_mutex_lock(&k->lock);
    e = keep_find(k, name);
    if (e != NULL && e->n > 0) {
        blob = e->blob[e->n - 1]; /* the newest: the caller owns it now */
        *len = e->len[e->n - 1];
        e->n--;
        e->used = ++k->tick;
    }
    pthread_mutex_unlock(&k->lock);
    return blob;
}

/* ---- the server's OCSP staple, re-read when its file changes ----------------------- */

struct mica_staple {
    pthread_mutex_t lock;
    char path[4096];
    struct stat seen; /* the file as last read: size and modification time */
    bool read;
    uint8_t *der; /* NULL: none (missing, empty, unreadable or too large) */
    size_t len;
};

mica_err mica_staple_new(const char *path, struct mica_staple **out)
{
    struct mica_staple *st;

    ENSURE(path != NULL && strlen(path) < sizeof(st->path), MICA_E_ARGUMENT);
    st = mica_mem_alloc(sizeof(*st));
    ENSURE(st != NULL, MICA_E_NOMEM);
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        mica_mem_free(st);
        return MICA_E_NOMEM;
    }
    memcpy(st->path, path, strlen(path) + 1);
    *out = st;
    return MICA_OK;
}

void mica_staple_free(struct mica_staple *st)
{
    if (st == NULL) {
        return;
    }
    pthread_mutex_destroy(&st->lock);
    mica_mem_free(st->der);
    mica_mem_free(st);
}

/* reload: read the file again (caller holds the lock) */
static void reload(struct mica_staple *st, const struct stat *now)
{
    FILE *f;
    size_t n = 0;

    mica_mem_free(st->der);
    st->der = NULL;
    st->len = 0;
    st->seen = *now;
    st->read = true;
    if (now->st_size <= 0 || now->st_size > (off_t)MICA_MAX_OCSP_RESPONSE) {
        return;
    }
    f = fopen(st->path, "rb");
    if (f == NULL) {
        return;
    }
    st->der = mica_mem_alloc((size_t)now->st_size);
    if (st->der != NULL) {
        n = fread(st->der, 1, (size_t)now->st_size, f);
    }
    fclose(f);
    if (st->der != NULL && n == (size_t)now->st_size) {
        st->len = n;
    } else {
        mica_mem_free(st->der);
        st->der = NULL;
    }
}

mica_err mica_staple_get(struct mica_staple *st, uint8_t **out, size_t *len)
{
    struct stat now;
    mica_err err = MICA_OK;

    *out = NULL;
    *len = 0;
    pthread_mutex_lock(&st->lock);
    if (stat(st->path, &now) != 0) {
        memset(&now, 0, sizeof(now)); /* gone: nothing to staple until it is back */
    }
    if (!st->read || now.st_size != st->seen.st_size ||
        now.st_mtim.tv_sec != st->seen.st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != st->seen.st_mtim.tv_nsec || now.st_ino != st->seen.st_ino) {
        reload(st, &now);
    }
    if (st->der != NULL) {
        *out = mica_mem_alloc(st->len);
        if (*out != NULL) {
            memcpy(*out, st->der, st->len);
            *len = st->len;
        } else {
            err = MICA_E_NOMEM;
        }
    }
    pthread_mutex_unlock(&st->lock);
    return err;
}
