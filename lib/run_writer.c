#include "run_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "event.h"
#include "pbfields.h"
#include "pbwire.h"
#include "record.h"
#include "record_writer.h"
#include "strmap.h"

/* What the file_version record adds to a file, counted towards the rotate
 * size so that a file ends close to the limit (an estimate is enough). */
#define FILE_HEADER_ESTIMATE 40u

/* The scalar shortcut (run_writer_add_scalar()) keeps the heads of up to
 * SCALAR_HEADS tags per writer (a power of two; slot by strmap_quick_hash()),
 * of tags up to SCALAR_TAG_MAX bytes. A head is the Summary, Value and
 * tag fields' tag and length (3 bytes each at most for these lengths), the
 * tag, and the tensor's 8 bytes before its float. */
#define SCALAR_HEADS 8u
#define SCALAR_TAG_MAX 64u
#define SCALAR_HEAD_MAX (3u * 3u + SCALAR_TAG_MAX + SUMMARY_SCALAR_BODY_LEN - 4u)

/* Heads are copied whole (a fixed size is a few vector moves; a variable
 * one became `rep movsq`, slow to start), into a batch with that much room
 * past the record. */
#define SCALAR_HEAD_COPY 96u
_Static_assert(SCALAR_HEAD_MAX <= SCALAR_HEAD_COPY, "a head fits its copy");

struct scalar_head {
    uint8_t bytes[SCALAR_HEAD_COPY];
    uint8_t len;       /* of bytes; 0: empty slot */
    uint8_t tag_off;   /* where the tag is in bytes */
    uint8_t tag_len;
};

/* A run of whole framed records bound for one file. */
struct batch {
    struct buf data;
    bool new_file;      /* rotate before writing this batch */
    uint64_t seq_end;   /* seq_added after the last record of the batch */
    /* Records already written (or dropped: see write_past_limit()) from
     * the front of data, in bytes and as the seq reached. */
    size_t done;
    uint64_t seq_done;
};

struct batch_list {
    struct batch *v;
    size_t n, cap;
};

struct run_writer {
    char *dir;
    int dirfd;                   /* run_writer_new_at(); -1: dir is a path */
    struct run_writer_options opts;
    record_writer *rec;          /* NULL until the first write */

    /* Loop thread side. */
    struct batch_list pending;
    size_t pending_bytes;
    uint64_t file_logical;       /* bytes the current file will hold */
    bool rotate_requested;
    struct strmap tags_in_file;
    struct buf last_tag;         /* a tag known to be in tags_in_file */
    struct buf scratch_event;
    /* Plain scalar records of the current file (see
     * run_writer_add_scalar()): the Event bytes of a tag's record from the
     * summary field up to the float. NULL until the first. */
    struct scalar_head *heads;
    size_t hdr_len;              /* payload length of the last summary record */
    uint32_t hdr_crc;            /* and its masked length CRC (0 length: none) */
    uint64_t seq_added;

    /* In flight: owned by the worker between take and complete. */
    struct batch_list flying;
    size_t flying_done;
    bool busy;
    bool flying_sync;
    int flying_result;
    /* Set by the worker when a file could not grow (EFBIG) and it moved on
     * to a new one; read by complete(). */
    bool rotated_in_write;
    uint64_t size_reached;       /* the size of the file that refused to grow */
    /* Set by the worker while it writes, read by the loop at any time
     * (flush requests): accessed atomically (release / acquire). */
    uint64_t seq_written;
    uint64_t seq_synced;
    struct run_writer_stats stats;

    void *user;
};

static void batch_list_free(struct batch_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        buf_free(&l->v[i].data);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int batch_list_reserve(struct batch_list *l, size_t n)
{
    if (l->n + n <= l->cap)
        return 0;
    size_t cap = l->cap ? l->cap * 2 : 4;
    while (cap < l->n + n)
        cap *= 2;
    struct batch *v = realloc(l->v, cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    l->v = v;
    l->cap = cap;
    return 0;
}

/* Rotate at most at limit bytes from now on. */
static void lower_rotate_bytes(run_writer *w, uint64_t limit)
{
    if (w->opts.rotate_bytes == 0 || limit < w->opts.rotate_bytes)
        w->opts.rotate_bytes = limit;
}

run_writer *run_writer_new(const char *dir, const struct run_writer_options *opts)
{
    run_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->dirfd = -1;
    w->dir = strdup(dir);
    if (opts) {
        w->opts = *opts;
        if (opts->suffix)
            w->opts.suffix = strdup(opts->suffix);
    }
    if (w->opts.max_pending == 0 || w->opts.max_pending > RUN_WRITER_MAX_PENDING)
        w->opts.max_pending = RUN_WRITER_MAX_PENDING;
    /* A file-size limit (RLIMIT_FSIZE) is a rotation size: files end
     * before it, each with its own metadata, rather than at an EFBIG. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        lower_rotate_bytes(w, (uint64_t)rl.rlim_cur);
    if (!w->dir || (opts && opts->suffix && !w->opts.suffix)) {
        free(w->dir);
        free((char *)w->opts.suffix);
        free(w);
        return NULL;
    }
    strmap_init(&w->tags_in_file);
    buf_init(&w->last_tag, RUN_WRITER_LAST_TAG_MAX);
    buf_init(&w->scratch_event, BUF_NO_CAP);
    return w;
}

/* The batch the next record of `framed` bytes goes to: the last pending
 * one, or a new one when there is none or the file must change. */
static int batch_for(run_writer *w, size_t framed, struct batch **ret)
{
    bool rotate = w->file_logical > 0 &&
                  (w->rotate_requested ||
                   (w->opts.rotate_bytes &&
                    w->file_logical + framed > w->opts.rotate_bytes));
    if (!rotate && w->pending.n > 0) {
        *ret = &w->pending.v[w->pending.n - 1];
        return 0;
    }
    int r = batch_list_reserve(&w->pending, 1);
    if (r < 0)
        return r;
    struct batch *b = &w->pending.v[w->pending.n++];
    buf_init(&b->data, RUN_WRITER_MAX_PENDING);
    b->new_file = rotate;
    b->seq_end = w->seq_added;
    b->done = 0;
    b->seq_done = w->seq_added;
    if (rotate) {
        w->rotate_requested = false;
        w->file_logical = 0;
        strmap_clear(&w->tags_in_file);
        buf_reset(&w->last_tag);
        if (w->heads)
            memset(w->heads, 0, SCALAR_HEADS * sizeof *w->heads);
    }
    *ret = b;
    return 0;
}

/* Capacity of the scratch event kept after a large record. */
#define RUN_WRITER_SCRATCH_KEEP ((size_t)1 << 20)

/* Frame the event in scratch_event into the right batch. */
static int add_event(run_writer *w)
{
    size_t framed = w->scratch_event.len + RECORD_OVERHEAD;
    if (framed > run_writer_room(w))
        return -ENOBUFS;
    struct batch *b;
    int r = batch_for(w, framed, &b);
    if (r < 0)
        return r;
    r = record_frame(&b->data, w->scratch_event.data, w->scratch_event.len);
    if (r < 0)
        return r;
    if (w->file_logical == 0)
        w->file_logical = FILE_HEADER_ESTIMATE;
    w->file_logical += framed;
    w->pending_bytes += framed;
    b->seq_end = ++w->seq_added;
    return 0;
}

/* Little-endian stores for the frame and the fixed64 wall time: one store
 * where the byte loops of pbwire.h are not merged by every compiler. */
static inline void put_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    pb_put_fixed64(p, v);
#endif
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    pb_put_fixed32(p, v);
#endif
}

/* Event.summary (values_len bytes) holding one Summary.Value (inner
 * bytes), up to its tag's bytes: the keys and lengths. */
static inline uint8_t *put_value_start(uint8_t *p, size_t values_len, size_t inner,
                                       size_t tag_len)
{
    p += pb_put_tag(p, PBF_EVENT_SUMMARY, PB_LEN);
    p += pb_put_varint(p, values_len);
    p += pb_put_tag(p, PBF_SUMMARY_VALUE, PB_LEN);
    p += pb_put_varint(p, inner);
    p += pb_put_tag(p, PBF_VALUE_TAG, PB_LEN);
    p += pb_put_varint(p, tag_len);
    return p;
}

static inline struct scalar_head *head_slot(run_writer *w, const void *tag, size_t tag_len)
{
    return &w->heads[strmap_quick_hash(tag, tag_len) & (SCALAR_HEADS - 1)];
}

/* After a record of v whose tag is now in the file: when v is a plain
 * scalar, keep the bytes a later value of its tag starts with. */
static void keep_scalar_head(run_writer *w, const struct summary_value *v)
{
    if (v->body.len != SUMMARY_SCALAR_BODY_LEN || v->tag.len > SCALAR_TAG_MAX ||
        v->tag.len == 0 ||
        memcmp(v->body.data, summary_scalar_body_head, sizeof summary_scalar_body_head) != 0)
        return;
    /* Out of memory only costs the shortcut. */
    if (!w->heads && !(w->heads = calloc(SCALAR_HEADS, sizeof *w->heads)))
        return;
    struct scalar_head *h = head_slot(w, v->tag.data, v->tag.len);
    if (h->len > 0 && h->tag_len == v->tag.len &&
        memcmp(h->bytes + h->tag_off, v->tag.data, v->tag.len) == 0)
        return;
    size_t inner = pb_len_field_size(PBF_VALUE_TAG, v->tag.len) + SUMMARY_SCALAR_BODY_LEN;
    size_t values_len = pb_len_field_size(PBF_SUMMARY_VALUE, inner);
    uint8_t *p = put_value_start(h->bytes, values_len, inner, v->tag.len);
    h->tag_off = (uint8_t)(p - h->bytes);
    h->tag_len = (uint8_t)v->tag.len;
    memcpy(p, v->tag.data, v->tag.len);
    p += v->tag.len;
    memcpy(p, summary_scalar_body_head, sizeof summary_scalar_body_head);
    p += sizeof summary_scalar_body_head;
    h->len = (uint8_t)(p - h->bytes);
}
_Static_assert(SCALAR_HEAD_MAX <= 255, "scalar_head lengths are bytes");

/* The Event's wall_time and step fields. proto3 leaves out defaults by
 * bit pattern: -0.0 is written, 0.0 not (as event.c does). */
static inline size_t event_head_size(double wall_time, int64_t step)
{
    uint64_t wt_bits;
    memcpy(&wt_bits, &wall_time, sizeof wt_bits);
    return (wt_bits != 0 ? 1 + 8 : 0) + (step != 0 ? 1 + pb_varint_size((uint64_t)step) : 0);
}

static inline uint8_t *put_event_head(uint8_t *p, double wall_time, int64_t step)
{
    uint64_t wt_bits;
    memcpy(&wt_bits, &wall_time, sizeof wt_bits);
    if (wt_bits != 0) {
        *p++ = PB_KEY(PBF_EVENT_WALL_TIME, PB_FIXED64);
        put_le64(p, wt_bits);
        p += 8;
    }
    if (step != 0) {
        *p++ = PB_KEY(PBF_EVENT_STEP, PB_VARINT);
        p += pb_put_varint(p, (uint64_t)step);
    }
    return p;
}

/* The payload of payload bytes is in place at rec + RECORD_HEADER_SIZE, at
 * the end of b: write the frame around it and count the record. */
static inline void seal_record(run_writer *w, struct batch *b, uint8_t *rec, size_t payload)
{
    size_t framed = payload + RECORD_OVERHEAD;
    put_le64(rec, (uint64_t)payload);
    /* Records of one writer mostly have one length (scalars): keep the
     * header's CRC of the last length. */
    if (payload != w->hdr_len) {
        w->hdr_len = payload;
        w->hdr_crc = crc32c_mask(crc32c(rec, 8));
    }
    put_le32(rec + 8, w->hdr_crc);
    put_le32(rec + RECORD_HEADER_SIZE + payload,
             crc32c_mask(crc32c(rec + RECORD_HEADER_SIZE, payload)));
    b->data.len += framed;
    if (w->file_logical == 0)
        w->file_logical = FILE_HEADER_ESTIMATE;
    w->file_logical += framed;
    w->pending_bytes += framed;
    b->seq_end = ++w->seq_added;
}

static bool tag_in_file(run_writer *w, const struct summary_value *v)
{
    /* Runs usually log one tag after another of the same few: the last tag
     * found (or put) is checked first, by its bytes. */
    if (w->last_tag.len == v->tag.len && w->last_tag.len > 0 &&
        strmap_bytes_equal(w->last_tag.data, v->tag.data, v->tag.len))
        return true;
    if (!strmap_get(&w->tags_in_file, v->tag.data, v->tag.len))
        return false;
    buf_reset(&w->last_tag);
    /* Out of memory here only costs the shortcut. */
    if (v->tag.len <= RUN_WRITER_LAST_TAG_MAX)
        (void)buf_append(&w->last_tag, v->tag.data, v->tag.len);
    return true;
}

/* The same bytes as summary_value_encode() followed by
 * event_encode_summary() and record_frame(), written straight into the
 * batch: the Event is encoded once, behind room left for the frame header,
 * and the CRCs are computed in place. Field order and the proto3 rules
 * must stay those of summary.c and event.c: the files are expected to be
 * byte for byte what those encoders give. */
int run_writer_add_summary(run_writer *w, double wall_time, int64_t step,
                           const struct summary_value *v)
{
    if (v->tag.len == 0)
        return -EINVAL;
    /* Decide the metadata before encoding: a rotation triggered by this
     * record clears the set, so look again after the batch is chosen. The
     * size estimate with metadata is an upper bound, good enough for the
     * rotation decision. */
    size_t estimate = run_writer_record_bound(v) - RECORD_OVERHEAD;
    struct batch *b;
    int r = batch_for(w, estimate + RECORD_OVERHEAD, &b);
    if (r < 0)
        return r;
    bool with_md = !tag_in_file(w, v);

    /* Sizes inside out: Summary.Value, Summary, Event. */
    size_t inner = pb_len_field_size(PBF_VALUE_TAG, v->tag.len) + v->body.len;
    bool put_md = with_md && v->metadata.len > 0;
    if (put_md)
        inner += pb_len_field_size(PBF_VALUE_METADATA, v->metadata.len);
    size_t values_len = pb_len_field_size(PBF_SUMMARY_VALUE, inner);
    size_t payload = pb_len_field_size(PBF_EVENT_SUMMARY, values_len) +
                     event_head_size(wall_time, step);

    size_t framed = payload + RECORD_OVERHEAD;
    if (framed > run_writer_room(w))
        return -ENOBUFS;
    /* The first choice stands when the record is no bigger than its
     * estimate (always, in practice): asking again could not rotate. */
    if (framed > estimate + RECORD_OVERHEAD) {
        r = batch_for(w, framed, &b);
        if (r < 0)
            return r;
    }
    if ((uint64_t)payload > RECORD_MAX_PAYLOAD)
        return -EMSGSIZE;
    /* Room within cap is room within the limit too (cap never passes it). */
    if (b->data.cap - b->data.len < framed) {
        r = buf_reserve(&b->data, framed);
        if (r < 0)
            return r;
    }

    uint8_t *rec = b->data.data + b->data.len;
    uint8_t *p = rec + RECORD_HEADER_SIZE;
    p = put_event_head(p, wall_time, step);
    p = put_value_start(p, values_len, inner, v->tag.len);
    memcpy(p, v->tag.data, v->tag.len);
    p += v->tag.len;
    if (v->body.len > 0) {
        memcpy(p, v->body.data, v->body.len);
        p += v->body.len;
    }
    if (put_md) {
        p += pb_put_tag(p, PBF_VALUE_METADATA, PB_LEN);
        p += pb_put_varint(p, v->metadata.len);
        memcpy(p, v->metadata.data, v->metadata.len);
        p += v->metadata.len;
    }
    seal_record(w, b, rec, payload);

    bool in_file = !with_md;
    if (with_md && w->tags_in_file.count < RUN_WRITER_MAX_TAGS_PER_FILE) {
        struct strmap_entry *e;
        /* Out of memory here only costs metadata on a later value. */
        in_file = strmap_put(&w->tags_in_file, v->tag.data, v->tag.len, &e) == 0;
    }
    if (in_file)
        keep_scalar_head(w, v);
    return 0;
}

int run_writer_add_scalar(run_writer *w, double wall_time, int64_t step, const char *tag,
                          size_t tag_len, double value)
{
    if (!w->heads || tag_len == 0 || w->pending.n == 0)
        return RUN_WRITER_DECLINED;
    const struct scalar_head *h = head_slot(w, tag, tag_len);
    if (h->len == 0 || h->tag_len != tag_len ||
        !strmap_bytes_equal(h->bytes + h->tag_off, tag, tag_len))
        return RUN_WRITER_DECLINED;
    size_t payload = event_head_size(wall_time, step) + h->len + 4u;
    size_t framed = payload + RECORD_OVERHEAD;
    if (framed > run_writer_room(w))
        return -ENOBUFS;
    /* What batch_for() would decide for add_summary(): the open batch,
     * unless a rotation, judged on the same estimate. */
    size_t estimate = tag_len + SUMMARY_SCALAR_METADATA_LEN + SUMMARY_SCALAR_BODY_LEN + 64 +
                      RECORD_OVERHEAD;
    if (w->file_logical > 0 &&
        (w->rotate_requested ||
         (w->opts.rotate_bytes && w->file_logical + estimate > w->opts.rotate_bytes)))
        return RUN_WRITER_DECLINED;
    struct batch *b = &w->pending.v[w->pending.n - 1];
    /* Out of room or memory: add_summary() reserves exactly and says why. */
    if (b->data.cap - b->data.len < framed + SCALAR_HEAD_COPY &&
        buf_reserve(&b->data, framed + SCALAR_HEAD_COPY) < 0)
        return RUN_WRITER_DECLINED;

    uint8_t *rec = b->data.data + b->data.len;
    uint8_t *p = rec + RECORD_HEADER_SIZE;
    p = put_event_head(p, wall_time, step);
    memcpy(p, h->bytes, SCALAR_HEAD_COPY);   /* the float and the CRC overwrite the rest */
    p += h->len;
    pb_put_float(p, (float)value);
    seal_record(w, b, rec, payload);
    return 0;
}

int run_writer_add_session_log(run_writer *w, double wall_time, int64_t step, int status)
{
    buf_reset(&w->scratch_event);
    int r = event_encode_session_log(&w->scratch_event, wall_time, step,
                                     (Tensorboard__SessionLog__SessionStatus)status, NULL);
    if (r < 0)
        return r;
    return add_event(w);
}

int run_writer_add_graph(run_writer *w, double wall_time, int64_t step, const char *tag,
                         size_t tag_len, const void *data, size_t len)
{
    buf_reset(&w->scratch_event);
    int r = tag ? event_encode_run_metadata(&w->scratch_event, wall_time, step, tag,
                                            tag_len, data, len)
                : event_encode_graph_def(&w->scratch_event, wall_time, step, data, len);
    if (r == 0)
        r = add_event(w);
    /* A graph may be megabytes: do not keep a scratch buffer that large
     * for the small records that follow. */
    if (w->scratch_event.cap > RUN_WRITER_SCRATCH_KEEP) {
        buf_free(&w->scratch_event);
        buf_init(&w->scratch_event, BUF_NO_CAP);
    }
    return r;
}

void run_writer_request_rotate(run_writer *w)
{
    w->rotate_requested = true;
}

size_t run_writer_pending_bytes(const run_writer *w)
{
    return w->pending_bytes;
}

size_t run_writer_room(const run_writer *w)
{
    return w->pending_bytes < w->opts.max_pending ? w->opts.max_pending - w->pending_bytes : 0;
}

size_t run_writer_record_bound(const struct summary_value *v)
{
    return v->tag.len + v->metadata.len + v->body.len + 64 + RECORD_OVERHEAD;
}

uint64_t run_writer_seq_added(const run_writer *w)
{
    return w->seq_added;
}

uint64_t run_writer_seq_written(const run_writer *w)
{
    return __atomic_load_n(&w->seq_written, __ATOMIC_ACQUIRE);
}

uint64_t run_writer_seq_synced(const run_writer *w)
{
    return __atomic_load_n(&w->seq_synced, __ATOMIC_ACQUIRE);
}

bool run_writer_busy(const run_writer *w)
{
    return w->busy;
}

int run_writer_take(run_writer *w, bool sync)
{
    if (w->busy)
        return -EBUSY;
    bool want_sync = (sync || w->opts.fsync_always) && w->rec &&
                     w->seq_synced < w->seq_written;
    if (w->pending.n == 0 && !want_sync)
        return 0;
    /* Swap the lists: the (empty) in-flight list's memory becomes the
     * next pending list. */
    struct batch_list tmp = w->flying;
    w->flying = w->pending;
    w->pending = tmp;
    w->pending.n = 0;
    w->pending_bytes = 0;
    w->flying_done = 0;
    w->flying_sync = sync || w->opts.fsync_always;
    w->flying_result = 0;
    w->busy = true;
    return 1;
}

/* mkdir -p, for directories made of client-chosen (already checked)
 * components. */
run_writer *run_writer_new_at(int dirfd, const char *dir,
                              const struct run_writer_options *opts)
{
    run_writer *w = run_writer_new(dir, opts);
    if (!w) {
        close(dirfd);
        return NULL;
    }
    w->dirfd = dirfd;
    return w;
}

static int make_dirs(const char *dir)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, dir, len + 1);
    int r = 0;
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST) {
            r = -errno;
            break;
        }
        p[i] = c;
    }
    free(p);
    return r;
}

/* Close the current file and start the next one, telling on_file_closed
 * (the uploader) which file is now complete. */
static int rotate_file(run_writer *w)
{
    char *old = w->opts.on_file_closed ? strdup(record_writer_path(w->rec)) : NULL;
    int r = record_writer_rotate(w->rec);
    if (r == 0 && old)
        w->opts.on_file_closed(w->opts.on_file_closed_arg, old);
    free(old);
    return r;
}

/* The file cannot grow by the whole batch (EFBIG: RLIMIT_FSIZE lowered
 * since the rotation size was set, or the file system's largest file).
 * Write the batch's records one at a time, moving on to a new file when
 * one does not fit. A record that does not fit in a file holding only its
 * header never will: it is dropped and counted in records_lost, so nothing
 * waits for it forever. Each round either moves past a record or rotates
 * out of a file holding records, so this ends. */
static int write_past_limit(run_writer *w, struct batch *b)
{
    while (b->done < b->data.len) {
        const uint8_t *p = b->data.data + b->done;
        uint64_t payload = 0;
        for (unsigned i = 0; i < 8; i++)
            payload |= (uint64_t)p[i] << (8 * i);
        size_t len = RECORD_OVERHEAD + (size_t)payload;
        int r = record_writer_write_framed(w->rec, p, len);
        if (r == -EFBIG && record_writer_records(w->rec) > 1) {
            /* The limit is at most this file's size, and RLIMIT_FSIZE when
             * that is what refused (a file system's limit has no call). */
            uint64_t reached = record_writer_size(w->rec);
            struct rlimit rl;
            if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                (uint64_t)rl.rlim_cur < reached)
                reached = (uint64_t)rl.rlim_cur;
            if (w->size_reached == 0 || reached < w->size_reached)
                w->size_reached = reached;
            r = rotate_file(w);
            if (r < 0)
                return r;
            w->stats.files++;
            w->rotated_in_write = true;
            continue;
        }
        if (r == -EFBIG)
            w->stats.records_lost++;
        else if (r < 0)
            return r;
        else
            w->stats.bytes_written += len;
        b->done += len;
        __atomic_store_n(&w->seq_written, ++b->seq_done, __ATOMIC_RELEASE);
    }
    return 0;
}

int run_writer_write(run_writer *w)
{
    int r = 0;
    for (; w->flying_done < w->flying.n; w->flying_done++) {
        struct batch *b = &w->flying.v[w->flying_done];
        if (!w->rec) {
            struct record_writer_options ro = {
                .suffix = w->opts.suffix,
            };
            if (w->dirfd >= 0) {
                r = record_writer_openat(&w->rec, w->dirfd, w->dir, &ro);
                if (r == 0) {
                    /* The record writer holds its own duplicate (for
                     * rotations): one descriptor less per open run. */
                    close(w->dirfd);
                    w->dirfd = -1;
                }
            } else {
                r = make_dirs(w->dir);
                if (r == 0)
                    r = record_writer_open(&w->rec, w->dir, &ro);
            }
            if (r < 0) {
                w->rec = NULL;
                break;
            }
            w->stats.files++;
            b->new_file = false;
        } else if (b->new_file) {
            /* A file holding only its header (the last one was left
             * after a record too large for any file) takes the batch. */
            if (record_writer_records(w->rec) > 1) {
                r = rotate_file(w);
                if (r < 0)
                    break;
                w->stats.files++;
            }
            b->new_file = false;
        }
        if (b->data.len > b->done) {
            size_t len = b->data.len - b->done;
            r = record_writer_write_framed(w->rec, b->data.data + b->done, len);
            if (r == 0) {
                w->stats.bytes_written += len;
                b->done = b->data.len;
            } else if (r == -EFBIG) {
                r = write_past_limit(w, b);
            }
            if (r < 0)
                break;
            w->stats.batches++;
        }
        __atomic_store_n(&w->seq_written, b->seq_end, __ATOMIC_RELEASE);
    }
    if (r == 0 && w->flying_sync && w->rec && w->seq_synced < w->seq_written) {
        r = record_writer_flush(w->rec, true);
        if (r == 0) {
            w->stats.fsyncs++;
            __atomic_store_n(&w->seq_synced, w->seq_written, __ATOMIC_RELEASE);
        }
    }
    if (r < 0)
        w->stats.write_errors++;
    w->flying_result = r;
    return r;
}

int run_writer_complete(run_writer *w)
{
    if (!w->busy)
        return 0;
    struct batch_list *f = &w->flying;
    size_t left = f->n - w->flying_done;
    for (size_t i = 0; i < w->flying_done; i++)
        buf_free(&f->v[i].data);
    if (left > 0) {
        /* Put the unwritten batches back in front of the pending ones. */
        int r = batch_list_reserve(&w->pending, left);
        if (r < 0) {
            /* Cannot keep them: the data is lost, and said so. */
            for (size_t i = w->flying_done; i < f->n; i++)
                buf_free(&f->v[i].data);
            f->n = 0;
            w->busy = false;
            return w->flying_result < 0 ? w->flying_result : r;
        }
        memmove(w->pending.v + left, w->pending.v, w->pending.n * sizeof *w->pending.v);
        memcpy(w->pending.v, f->v + w->flying_done, left * sizeof *f->v);
        w->pending.n += left;
        for (size_t i = 0; i < left; i++)
            w->pending_bytes += w->pending.v[i].data.len - w->pending.v[i].done;
    }
    if (w->rotated_in_write) {
        /* The worker moved to a new file: later files end before the size
         * that was refused, and the next record starts a new file (with
         * its tags' metadata again). */
        w->rotated_in_write = false;
        if (w->size_reached > FILE_HEADER_ESTIMATE)
            lower_rotate_bytes(w, w->size_reached);
        w->size_reached = 0;
        w->rotate_requested = true;
    }
    f->n = 0;
    w->flying_done = 0;
    w->busy = false;
    return w->flying_result;
}

int run_writer_flush(run_writer *w, bool sync)
{
    int r = run_writer_take(w, sync);
    if (r <= 0)
        return r;
    uint64_t lost = w->stats.records_lost;
    run_writer_write(w);
    r = run_writer_complete(w);
    /* Records dropped as too large for any file fail the flush. */
    return r == 0 && w->stats.records_lost > lost ? -EFBIG : r;
}

int run_writer_close(run_writer *w, bool sync)
{
    if (!w)
        return 0;
    int r = 0;
    if (!w->busy)
        r = run_writer_flush(w, sync);
    char *last = w->rec && w->opts.on_file_closed ? strdup(record_writer_path(w->rec)) : NULL;
    int r2 = record_writer_close(w->rec);
    if (r == 0)
        r = r2;
    if (last)
        w->opts.on_file_closed(w->opts.on_file_closed_arg, last);
    free(last);
    batch_list_free(&w->pending);
    batch_list_free(&w->flying);
    strmap_done(&w->tags_in_file);
    buf_free(&w->last_tag);
    free(w->heads);
    buf_free(&w->scratch_event);
    free((char *)w->opts.suffix);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->dir);
    free(w);
    return r;
}

const char *run_writer_dir(const run_writer *w)
{
    return w->dir;
}

const char *run_writer_file(const run_writer *w)
{
    return w->rec ? record_writer_path(w->rec) : NULL;
}

void run_writer_get_stats(const run_writer *w, struct run_writer_stats *ret)
{
    *ret = w->stats;
}

void run_writer_set_user(run_writer *w, void *user)
{
    w->user = user;
}

void *run_writer_user(const run_writer *w)
{
    return w->user;
}
