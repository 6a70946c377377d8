/* strmap: a hash map from byte-string keys to a small value.
 *
 * The logdir keeps its step bookkeeping per (run, tag) and its writers per
 * run, and a run writer keeps the set of tags already given metadata in its
 * current file; all are maps keyed by strings a client chose, looked up once
 * per value on the hot path. Open addressing with linear probing and
 * backward-shift deletion (no tombstones, so a long-lived map never
 * degrades). Keys are copied and NUL-terminated (they may hold NUL bytes
 * too: the length is what counts). Not thread-safe. */
#ifndef TFEVENTS_STRMAP_H
#define TFEVENTS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strmap_entry {
    char *key;          /* owned; NULL for a free slot */
    size_t key_len;
    uint64_t hash;
    union {
        void *ptr;      /* not owned by the map */
        int64_t i64;
    } val;
    uint64_t aux;       /* a second word for the user */
};

struct strmap {
    struct strmap_entry *slots;
    size_t cap;         /* 0 or a power of two */
    size_t count;
    /* Changes whenever entries may move or go (the table grows, a key is
     * removed, the map is cleared): an entry pointer stays valid, holding
     * the same key, while gen is what it was when the entry was found.
     * Lets a caller keep the entry it used last. */
    uint64_t gen;
};

/* A cheap hash of a non-empty short key (its length, middle and last
 * bytes), to pick the slot of a small direct-mapped cache kept in front of
 * a map for the few keys a caller uses over and over (the tags of a
 * training loop mostly differ in length or in their last letters). */
static inline unsigned strmap_quick_hash(const void *key, size_t len)
{
    const unsigned char *k = key;
    return (unsigned)len + 3u * k[len - 1] + 5u * k[len / 2];
}

/* a[0..n) == b[0..n). Keys are mostly short names, for which a call to
 * memcmp() costs more than the compare: up to 16 bytes are compared with
 * two overlapping loads per side. */
static inline bool strmap_bytes_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (n >= 8 && n <= 16) {
        uint64_t x0, x1, y0, y1;
        memcpy(&x0, x, 8);
        memcpy(&y0, y, 8);
        memcpy(&x1, x + n - 8, 8);
        memcpy(&y1, y + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, x1, y0, y1;
        memcpy(&x0, x, 4);
        memcpy(&y0, y, 4);
        memcpy(&x1, x + n - 4, 4);
        memcpy(&y1, y + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n < 4) {
        /* First, middle and last byte: every byte of 1 to 3. */
        return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
    }
    return memcmp(a, b, n) == 0;
}

void strmap_init(struct strmap *m);

/* Frees the keys and the table, not what val.ptr points to. NULL-safe. */
void strmap_done(struct strmap *m);

/* The entry of key, or NULL. Valid until the next put or remove. */
struct strmap_entry *strmap_get(const struct strmap *m, const void *key, size_t len);

/* Find or insert key. Returns 1 and a new entry (val and aux zeroed) when
 * it was inserted, 0 with the existing one, -ENOMEM. *ret is valid until
 * the next put or remove. */
int strmap_put(struct strmap *m, const void *key, size_t len, struct strmap_entry **ret);

/* Remove key. Returns 1 if it was there, 0 if not. */
int strmap_remove(struct strmap *m, const void *key, size_t len);

/* Iterate: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ...
 * Do not put or remove while iterating. */

/* Forget every key, keep the table. */
void strmap_clear(struct strmap *m);

#endif
