/* reply: the one typed answer to a request, and its two spellings on the
 * wire -- a JSON line (docs/protocol.md, "Replies") or a binary Reply
 * frame (proto/tfwire.proto) -- plus the Hello frame that answers the
 * binary magic.
 *
 * The executor (exec.h) fills a reply; the daemon writes it in its
 * connection's protocol, libtfevents' embedded mode reads it directly.
 * Both spellings carry the same facts. Pure; never logs. */
#ifndef TFEVENTS_REPLY_H
#define TFEVENTS_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "request.h"

/* Bytes of an error sentence (names in it are up to LOGDIR_MAX_NAME). */
#define REPLY_ERROR_SIZE 2560u

/* What a refusal is counted as besides its errno class (the daemon's
 * stats: limit_* and errors_path). */
enum reply_count {
    REPLY_COUNT_NONE = 0,
    REPLY_COUNT_VALUES,       /* --max-values */
    REPLY_COUNT_NAME,         /* --max-name */
    REPLY_COUNT_LOGDIRS,      /* --max-logdirs */
    REPLY_COUNT_RUNS,         /* --max-runs */
    REPLY_COUNT_TAGS,         /* --max-tags */
    REPLY_COUNT_JSON_DEPTH,   /* --max-json-depth */
    REPLY_COUNT_ELEMENTS,     /* --max-elements */
    REPLY_COUNT_PATH,         /* a logdir or run directory cannot be used */
};

/* A request's id, to echo back: JSON text, and the binary protocol's
 * number. */
struct reply_id {
    bool has, is_u64;
    uint64_t u64;
    char text[REQUEST_MAX_ID + 1];
};

struct reply {
    bool ok;
    /* To be sent: when the request had an id, for every refusal, and for
     * the answers of step_get, ping and stats. */
    bool answer;
    int code;                     /* refused: a negative errno */
    enum reply_count count;
    struct reply_id id;
    uint64_t line;                /* refused: the request's number on its connection */
    bool has_step, has_next;
    int64_t step, next;
    bool pong;                    /* ping: also says the protocol version */
    const char *stats;            /* stats: a JSON object, borrowed */
    size_t stats_len;
    char error[REPLY_ERROR_SIZE]; /* refused: the sentence */
};

/* Ready rp for the answer to m (NULL: a request whose id is unknown):
 * ok, nothing but the id set. Cheap (the error buffer is not cleared). */
void reply_init(struct reply *rp, const struct request *m);

/* m's id (m may be NULL: none). */
void reply_id_of(struct reply_id *out, const struct request *m);

/* Refuse: ok false, code, the sentence (printf); returns code. */
__attribute__((format(printf, 3, 4)))
int reply_fail(struct reply *rp, int code, const char *fmt, ...);

/* The same with a limit or path counter. */
__attribute__((format(printf, 4, 5)))
int reply_fail_count(struct reply *rp, int code, enum reply_count count, const char *fmt, ...);

/* Append rp as one JSON object (no newline) to out. Strings are escaped
 * and bytes that are not UTF-8 become '?', so the line is always valid
 * JSON. -ENOMEM, -EMSGSIZE (out's cap). */
int reply_write_json(struct buf *out, const struct reply *rp);

/* Append rp as a whole Reply frame (header + payload) to out. closing
 * marks the daemon's last reply on the connection. -ENOMEM, -EMSGSIZE. */
int reply_write_frame(struct buf *out, const struct reply *rp, bool closing);

/* Append the last frame of a connection the daemon closes at a graceful
 * stop: Reply{ok, request = requests, closing}, no id: the first
 * `requests` requests of the connection were executed and everything they
 * logged is in the files; no later one was read. -ENOMEM, -EMSGSIZE. */
int reply_write_goodbye(struct buf *out, uint64_t requests);

/* Append a whole Hello frame to out. root may be NULL. */
int reply_write_hello(struct buf *out, uint64_t max_frame, const char *root);

/* Append s as a JSON string (quoted, escaped, non-UTF-8 bytes as '?'). */
int reply_json_string(struct buf *out, const char *s);

#endif
