/* buf: a growable byte buffer with a hard cap.
 *
 * Every buffer that grows with client input has a cap, set when it is
 * initialised, so that no client can make us allocate without bound.
 * All functions return 0 or a negative errno. */
#ifndef TFEVENTS_BUF_H
#define TFEVENTS_BUF_H

#include <stddef.h>
#include <stdint.h>

/* No cap beyond what size_t and the allocator allow. */
#define BUF_NO_CAP SIZE_MAX

struct buf {
    uint8_t *data;   /* owned; NULL until the first reservation */
    size_t len;      /* bytes in use */
    size_t cap;      /* bytes allocated */
    size_t max;      /* hard cap on len; BUF_NO_CAP for none */
};

/* Initialise an empty buffer that may grow to max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Release the memory. NULL-safe; leaves b empty and reusable with the same cap. */
void buf_free(struct buf *b);

/* Forget the contents, keep the memory. */
static inline void buf_reset(struct buf *b) { b->len = 0; }

/* Make room for n more bytes. -EMSGSIZE past the cap, -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);

/* Append n bytes. -EMSGSIZE past the cap (nothing appended), -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);

/* Append a NUL-terminated string without its NUL. */
int buf_append_str(struct buf *b, const char *s);

/* printf-style append; the result is NUL-terminated but the NUL is not counted. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);

/* Move the contents out: *ret owns the memory, b is left empty. */
void buf_take(struct buf *b, uint8_t **ret, size_t *ret_len);

#endif
