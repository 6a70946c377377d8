#include "strmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STRMAP_MIN_CAP 16u

/* FNV-1a, then a final mix so that linear probing sees well-spread low
 * bits even for keys that differ only at the end. */
static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void strmap_init(struct strmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
    m->gen = 0;
}

void strmap_clear(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        m->slots[i].key = NULL;
    }
    m->count = 0;
    m->gen++;
}

void strmap_done(struct strmap *m)
{
    if (!m)
        return;
    strmap_clear(m);
    free(m->slots);
    uint64_t gen = m->gen;
    strmap_init(m);
    m->gen = gen;   /* a map used again stays apart from its old entries */
}

static size_t find_slot(const struct strmap *m, const void *key, size_t len, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        const struct strmap_entry *e = &m->slots[i];
        if (!e->key)
            return i;
        if (e->hash == h && e->key_len == len && strmap_bytes_equal(e->key, key, len))
            return i;
        i = (i + 1) & mask;
    }
}

struct strmap_entry *strmap_get(const struct strmap *m, const void *key, size_t len)
{
    if (m->count == 0)
        return NULL;
    size_t i = find_slot(m, key, len, hash_bytes(key, len));
    return m->slots[i].key ? &m->slots[i] : NULL;
}

static int grow(struct strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : STRMAP_MIN_CAP;
    if (cap > SIZE_MAX / sizeof(struct strmap_entry))
        return -ENOMEM;
    struct strmap_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    struct strmap old = *m;
    m->slots = slots;
    m->cap = cap;
    m->gen++;
    for (size_t i = 0; i < old.cap; i++) {
        struct strmap_entry *e = &old.slots[i];
        if (e->key)
            m->slots[find_slot(m, e->key, e->key_len, e->hash)] = *e;
    }
    free(old.slots);
    return 0;
}

int strmap_put(struct strmap *m, const void *key, size_t len, struct strmap_entry **ret)
{
    uint64_t h = hash_bytes(key, len);
    if (m->count > 0) {
        size_t i = find_slot(m, key, len, h);
        if (m->slots[i].key) {
            *ret = &m->slots[i];
            return 0;
        }
    }
    /* Keep the load factor at or below 1/2 so probe runs stay short. */
    if ((m->count + 1) * 2 > m->cap) {
        int r = grow(m);
        if (r < 0)
            return r;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, key, len);
    copy[len] = '\0';
    size_t i = find_slot(m, key, len, h);
    struct strmap_entry *e = &m->slots[i];
    memset(e, 0, sizeof *e);
    e->key = copy;
    e->key_len = len;
    e->hash = h;
    m->count++;
    *ret = e;
    return 1;
}

int strmap_remove(struct strmap *m, const void *key, size_t len)
{
    if (m->count == 0)
        return 0;
    size_t mask = m->cap - 1;
    size_t i = find_slot(m, key, len, hash_bytes(key, len));
    if (!m->slots[i].key)
        return 0;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    m->gen++;
    /* Backward shift: move later members of the probe run into the hole
     * when their home slot is not between the hole and themselves. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & mask;
        struct strmap_entry *e = &m->slots[j];
        if (!e->key)
            break;
        size_t home = (size_t)e->hash & mask;
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->slots[hole] = *e;
            e->key = NULL;
            hole = j;
        }
    }
    return 1;
}
