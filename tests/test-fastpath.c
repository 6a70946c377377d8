/* The direct routes of plain scalars against the general ones, byte for
 * byte:
 *   - the client's straight encoding of a scalar Log request against
 *     tfevents_add_scalar() + lib_request_log(), and its single-scalar
 *     template (lib_request_log_scalar_prepare/put) against that;
 *   - frame_decode's lean decoder (scalars and one-string texts) against
 *     protobuf-c + frame_decode_request() (the same message, or the same
 *     error for requests it leaves alone),
 *     and frame_split_open() against frame_decode_batch() on whole frames;
 *   - the embedded direct route (lib_embedded_log_scalars()) and its
 *     single-scalar shortcut (lib_embedded_log_scalar()) against the
 *     request route (lib_embedded_exec()): the same replies and the same
 *     event records in the files (wall times given explicitly). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frame_decode.h"
#include "frame_split.h"
#include "lib_embedded.h"
#include "lib_request.h"
#include "lib_values.h"
#include "pbwire.h"
#include "record.h"
#include "test.h"

/* A list of scalars for one Log request. */
struct req {
    const char *logdir;
    int64_t step;
    double wall_time;
    struct lib_scalar sc[4];
    size_t n;
};

static const struct req reqs[] = {
    {"a", 3, 1700000000.5, {{NULL, "loss", 0.25}}, 1},
    {"a", TFEVENTS_STEP_NEXT, 1700000001.0, {{"train", "loss", -1.5}}, 1},
    {"a/b", TFEVENTS_STEP_CURRENT, 1700000002.0, {{".", "acc", 1e30}}, 1},
    {"a", 4, 1700000003.0, {{"train/eval", "x", 2}, {"train/eval", "y", 3}, {NULL, "z", 4}}, 3},
    {"a", 5, 0, {{"./train//eval/", "caf\xc3\xa9", 0}}, 1},
    {"deep/er", 9007199254740992, 9999999999.0, {{"r", "t", -0.0}}, 1},
    {"a", 6, 1.0, {{"r", "loss", 1.0 / 3}, {"r", "loss2", 5}}, 2},
};

/* tfevents_add_scalar() + lib_request_log(): the general client bytes. */
static void general_bytes(const struct req *q, struct buf *out)
{
    tfevents_values *vs = tfevents_values_new();
    REQUIRE(vs);
    for (size_t i = 0; i < q->n; i++)
        REQUIRE(tfevents_add_scalar(vs, q->sc[i].run, q->sc[i].tag, q->sc[i].value) == 0);
    REQUIRE(lib_request_log(out, q->logdir, q->step, q->wall_time, lib_values_bytes(vs)) == 0);
    /* And the view of the same values the direct route of tfevents_log()
     * takes must give them back. */
    struct lib_scalars s;
    lib_scalars_init(&s);
    CHECK_EQ(lib_values_scalars(vs, &s), 1);
    CHECK_EQ(s.n, q->n);
    for (size_t i = 0; i < s.n && i < q->n; i++) {
        bool dot = !q->sc[i].run || strcmp(q->sc[i].run, ".") == 0;
        CHECK(dot ? s.v[i].run == NULL : strcmp(s.v[i].run, q->sc[i].run) == 0);
        CHECK_STR(s.v[i].tag, q->sc[i].tag);
        CHECK(memcmp(&s.v[i].value, &q->sc[i].value, 8) == 0);
    }
    /* Metadata makes a value not plain. */
    REQUIRE(tfevents_values_meta(vs, "shown", NULL) == 0);
    CHECK_EQ(lib_values_scalars(vs, &s), 0);
    lib_scalars_done(&s);
    tfevents_values_free(vs);
}

static void direct_bytes(const struct req *q, struct buf *out)
{
    size_t len = lib_request_log_scalars_size(q->logdir, q->step, q->wall_time, q->sc, q->n);
    buf_reset(out);
    REQUIRE(buf_reserve(out, len) == 0);
    lib_request_put_log_scalars(out->data, q->logdir, q->step, q->wall_time, q->sc, q->n);
    out->len = len;
}

static void test_client_encoding(void)
{
    struct buf a, b;
    buf_init(&a, BUF_NO_CAP);
    buf_init(&b, BUF_NO_CAP);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        general_bytes(&reqs[i], &a);
        direct_bytes(&reqs[i], &b);
        CHECK_EQ(a.len, b.len);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        /* protobuf-c reads it back as what was meant. */
        Tfevents__Request *rq = tfevents__request__unpack(NULL, b.len, b.data);
        REQUIRE(rq && rq->op_case == TFEVENTS__REQUEST__OP_LOG);
        CHECK_STR(rq->log->logdir, reqs[i].logdir);
        CHECK_EQ(rq->log->n_values, reqs[i].n);
        tfevents__request__free_unpacked(rq, NULL);
    }
    buf_free(&a);
    buf_free(&b);
}

/* The single-scalar template (lib_request_log_scalar_prepare/put) against
 * lib_request_put_log_scalars(), over a random sequence with repeats (the
 * kept bytes reused) and changes of every name, long ones included (then
 * it declines: 0). */
static void test_client_template(void)
{
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *logdirs[] = {"a", "deep/er/logdir", longname};
    const char *runs[] = {NULL, ".", "train", "eval/x", longname + 100};
    const char *tags[] = {"loss", "acc", "caf\xc3\xa9", longname + 150};
    const int64_t steps[] = {TFEVENTS_STEP_NEXT, TFEVENTS_STEP_CURRENT, 0, 1, 127, 128,
                             (int64_t)1 << 40};
    const double walls[] = {-1, 0, 1700000000.25};
    struct lib_scalar_tmpl t;
    memset(&t, 0, sizeof t);
    struct buf a, b;
    buf_init(&a, BUF_NO_CAP);
    buf_init(&b, BUF_NO_CAP);
    uint64_t rng = 99;
    size_t taken = 0, declined = 0;
    for (int i = 0; i < 20000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t x = (uint32_t)(rng >> 33);
        bool same = x % 4 != 0;   /* mostly the names of the call before */
        static size_t li, ri, ti;
        if (!same) {
            li = (x >> 2) % 8 == 0 ? 2 : (x >> 2) % 2;
            ri = (x >> 5) % 5;
            ti = (x >> 8) % 4;
        }
        struct req q = {logdirs[li], steps[(x >> 11) % 7], walls[(x >> 14) % 3],
                        {{runs[ri], tags[ti], (double)(int32_t)x / 3.0}}, 1};
        direct_bytes(&q, &a);
        size_t len = lib_request_log_scalar_prepare(&t, q.logdir, q.step, q.wall_time,
                                                    q.sc[0].run, q.sc[0].tag);
        if (len == 0) {
            declined++;
            CHECK(strlen(q.logdir) > LIB_SCALAR_TMPL_LOGDIR ||
                  (q.sc[0].run && strlen(q.sc[0].run) > LIB_SCALAR_TMPL_NAME) ||
                  strlen(q.sc[0].tag) > LIB_SCALAR_TMPL_NAME);
            continue;
        }
        taken++;
        buf_reset(&b);
        REQUIRE(buf_reserve(&b, len) == 0);
        lib_request_log_scalar_put(&t, b.data, q.step, q.wall_time, q.sc[0].value);
        b.len = len;
        CHECK_EQ(a.len, b.len);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
            fprintf(stderr, "differs at call %d\n", i);
            CHECK(false);
            break;
        }
    }
    CHECK(taken > 10000);
    CHECK(declined > 100);
    buf_free(&a);
    buf_free(&b);
}

/* ---- lean vs general decoding ------------------------------------------ */

static void check_same_msg(const struct request *x, const struct request *y)
{
    CHECK_EQ(x->op, y->op);
    CHECK_EQ(x->has_id, y->has_id);
    if (x->has_id && y->has_id)
        CHECK_STR(x->id, y->id);
    CHECK_EQ(x->has_logdir, y->has_logdir);
    CHECK_STR(x->logdir, y->logdir);
    CHECK_EQ(x->has_run, y->has_run);
    CHECK_STR(x->run, y->run);
    CHECK_EQ(x->step_mode, y->step_mode);
    CHECK_EQ(x->step, y->step);
    CHECK_EQ(x->has_wall_time, y->has_wall_time);
    CHECK(!x->has_wall_time || memcmp(&x->wall_time, &y->wall_time, 8) == 0);
    CHECK_EQ(x->sync, y->sync);
    CHECK_EQ(x->n_values, y->n_values);
    for (size_t i = 0; i < x->n_values && i < y->n_values; i++) {
        const struct summary_value *a = &x->values[i].value, *b = &y->values[i].value;
        CHECK_STR(x->values[i].run, y->values[i].run);
        CHECK(a->tag.len == b->tag.len && memcmp(a->tag.data, b->tag.data, a->tag.len) == 0);
        CHECK(a->metadata.len == b->metadata.len &&
              memcmp(a->metadata.data, b->metadata.data, a->metadata.len) == 0);
        CHECK(a->body.len == b->body.len && memcmp(a->body.data, b->body.data, a->body.len) == 0);
    }
}

/* Request bytes through both decoders. want_lean: which way it must go. */
static void differential(struct frame_split *sp, const uint8_t *req, size_t len, int want_lean,
                         const char *what)
{
    struct request general, *lean = NULL;
    request_init(&general);
    char err1[REQUEST_ERROR_SIZE] = "", err2[REQUEST_ERROR_SIZE] = "";
    int r1 = -EBADMSG;
    Tfevents__Request *rq = tfevents__request__unpack(NULL, len, req);
    /* The general path: a NUL in a string is seen in the raw bytes only
     * (unpacked, the string is cut), then protobuf-c and the decoder. */
    const char *nul_field, *nul_msg;
    bool nul = frame_find_nul(&tfevents__request__descriptor, req, len, &nul_field,
                              &nul_msg) == 1;
    if (nul)
        r1 = frame_fail_nul(nul_field, nul_msg, err1, sizeof err1);
    else if (rq)
        r1 = frame_decode_request(rq, &general, err1, sizeof err1);
    int lean_r = frame_split_lean(sp, req, len, &lean);
    if (want_lean >= 0 && lean_r != (want_lean ? 0 : 1))
        fprintf(stderr, "case '%s': lean path %s\n", what, lean_r == 0 ? "taken" : "declined");
    if (want_lean >= 0)
        CHECK_EQ(lean_r, want_lean ? 0 : 1);
    if (lean_r == 0) {
        CHECK_EQ(r1, 0);
        if (r1 == 0)
            check_same_msg(lean, &general);
    }
    /* Through a whole frame holding this request: the same outcome. */
    struct buf frame;
    buf_init(&frame, BUF_NO_CAP);
    REQUIRE(pb_add_bytes(&frame, 1, req, len) == 0);
    struct frame_split *b = NULL;
    Tfevents__Batch *whole = NULL;
    int o1 = frame_decode_batch(frame.data, frame.len, &whole, err1, sizeof err1);
    int o2 = frame_split_open(frame.data, frame.len, &b, err2, sizeof err2);
    CHECK_EQ(o1, o2);
    CHECK_STR(err1, err2);
    if (o1 == 0 && o2 == 0) {
        struct request m2, *mm;
        request_init(&m2);
        CHECK_EQ(frame_split_count(b), 1);
        int r2 = frame_split_decode(b, 0, &m2, &mm, err2, sizeof err2);
        CHECK_EQ(r1, r2);
        if (r1 != r2)
            fprintf(stderr, "case '%s': %d '%s' vs %d '%s'\n", what, r1, err1, r2, err2);
        if (r1 < 0 && r2 < 0 && !nul) {
            request_done(&general);
            r1 = frame_decode_request(whole->requests[0], &general, err1, sizeof err1);
            CHECK_STR(err1, err2);
        }
        if (r1 == 0 && r2 == 0)
            check_same_msg(mm, &general);
        request_done(&m2);
    }
    frame_batch_free(whole);
    frame_split_free(b);
    buf_free(&frame);
    if (rq)
        tfevents__request__free_unpacked(rq, NULL);
    request_done(&general);
}

/* A hand-built Request: id (0: none), then Log fields given raw. */
static size_t build(uint8_t *out, uint64_t id, const uint8_t *log, size_t log_len)
{
    uint8_t *p = out;
    if (id) {
        p += pb_put_tag(p, 1, PB_VARINT);
        p += pb_put_varint(p, id);
    }
    p += pb_put_tag(p, 2, PB_LEN);
    p += pb_put_varint(p, log_len);
    memcpy(p, log, log_len);
    return (size_t)(p - out) + log_len;
}

static void test_lean_decoder(void)
{
    struct frame_split *sp = NULL;
    char err[REQUEST_ERROR_SIZE];
    REQUIRE(frame_split_open((const uint8_t *)"", 0, &sp, err, sizeof err) == 0);
    CHECK_EQ(frame_split_count(sp), 0);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    /* Every client request of the table is lean, with and without an id;
     * twice each, so the reuse of slots (same tag) is compared too. */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
            direct_bytes(&reqs[i], &b);
            /* "current" is left to the general path. */
            int want = reqs[i].step == TFEVENTS_STEP_CURRENT ? 0 : 1;
            differential(sp, b.data, b.len, want, "client request");
            uint8_t with_id[4096];
            /* Skip the Request's log key and length to rebuild it with an id. */
            const uint8_t *p = b.data + 1;
            uint64_t ll = 0;
            unsigned sh = 0;
            while (*p & 0x80)
                ll |= (uint64_t)(*p++ & 0x7f) << sh, sh += 7;
            ll |= (uint64_t)*p++ << sh;
            size_t n = build(with_id, 12345678901234ull, p, (size_t)ll);
            differential(sp, with_id, n, want, "with id");
        }
    }
    /* Log bodies the lean decoder must leave to the general path (which
     * refuses most of them, with its words), or take (want 1). */
#define V(...) {__VA_ARGS__}
    static const struct {
        const char *what;
        int want_lean;
        uint8_t log[64];
        size_t len;
    } cases[] = {
        {"plain", 1, V(0x0a, 1, 'a', 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         17},
        {"tag starting with $", 0,
         V(0x0a, 1, 'a', 0x2a, 12, 0x12, 1, '$', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 17},
        {"empty tag", 0, V(0x0a, 1, 'a', 0x2a, 11, 0x12, 0, 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         16},
        {"no tag", 0, V(0x0a, 1, 'a', 0x2a, 9, 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 14},
        {"no scalar", 0, V(0x0a, 1, 'a', 0x2a, 3, 0x12, 1, 't'), 8},
        {"NUL in the tag", 0,
         V(0x0a, 1, 'a', 0x2a, 13, 0x12, 2, 't', 0, 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 18},
        {"invalid UTF-8 tag", 0,
         V(0x0a, 1, 'a', 0x2a, 12, 0x12, 1, 0xff, 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 17},
        {"invalid UTF-8 run", 0,
         V(0x0a, 1, 'a', 0x2a, 15, 0x0a, 1, 0xc3, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         20},
        {"run leaving the logdir", 0,
         V(0x0a, 1, 'a', 0x2a, 16, 0x0a, 2, '.', '.', 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         21},
        {"absolute logdir", 0,
         V(0x0a, 2, '/', 'a', 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 18},
        {"logdir with $", 0,
         V(0x0a, 2, '$', 'a', 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 18},
        {"no values", 0, V(0x0a, 1, 'a'), 3},
        {"step above 2^53", 0,
         V(0x0a, 1, 'a', 0x10, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x2a, 12, 0x12, 1,
           't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         26},
        {"step 2^53", 1,
         V(0x0a, 1, 'a', 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x2a, 12, 0x12, 1,
           't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         26},
        {"negative wall time", 0,
         V(0x0a, 1, 'a', 0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf, 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0,
           0, 0, 0, 0, 0xf0, 0x3f),
         26},
        {"wall time 1e10", 0,
         V(0x0a, 1, 'a', 0x21, 0, 0, 0, 0x20, 0x5f, 0xa0, 0x02, 0x42, 0x2a, 12, 0x12, 1, 't',
           0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         26},
        {"step twice (protobuf keeps the last)", 0,
         V(0x0a, 1, 'a', 0x10, 1, 0x10, 2, 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         21},
        {"tag twice", 0,
         V(0x0a, 1, 'a', 0x2a, 15, 0x12, 1, 't', 0x12, 1, 'u', 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         20},
        {"display name", 0,
         V(0x0a, 1, 'a', 0x2a, 15, 0x12, 1, 't', 0x1a, 1, 'd', 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         20},
        {"unknown field in the value", 0,
         V(0x0a, 1, 'a', 0x2a, 15, 0x12, 1, 't', 0x90, 0x03, 1, 0x51, 0, 0, 0, 0, 0, 0, 0xf0,
           0x3f),
         20},
        {"current", 0,
         V(0x0a, 1, 'a', 0x18, 1, 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         19},
        {"scalar as float (wrong wire type)", -1,
         V(0x0a, 1, 'a', 0x2a, 8, 0x12, 1, 't', 0x55, 0, 0, 0x80, 0x3f), 13},
        {"no logdir", 0, V(0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), 14},
        {"same tag twice in one message", 1,
         V(0x0a, 1, 'a', 0x2a, 12, 0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x2a, 12,
           0x12, 1, 't', 0x51, 0, 0, 0, 0, 0, 0, 0, 0x40),
         31},
        /* Texts: Value.text (field 11) = Text{strings (1), shape (2)}. */
        {"text", 1, V(0x0a, 1, 'a', 0x2a, 10, 0x12, 1, 't', 0x5a, 5, 0x0a, 3, 'h', 'i', '!'), 15},
        {"text with a run and a step", 1,
         V(0x0a, 1, 'a', 0x10, 7, 0x2a, 13, 0x0a, 1, 'r', 0x12, 1, 't', 0x5a, 5, 0x0a, 3, 0xc3,
           0xa9, '*'),
         20},
        {"empty text", 1, V(0x0a, 1, 'a', 0x2a, 7, 0x12, 1, 't', 0x5a, 2, 0x0a, 0), 12},
        {"text without strings", 0, V(0x0a, 1, 'a', 0x2a, 5, 0x12, 1, 't', 0x5a, 0), 10},
        {"text of two strings", 0,
         V(0x0a, 1, 'a', 0x2a, 10, 0x12, 1, 't', 0x5a, 5, 0x0a, 0, 0x0a, 1, 'x'), 15},
        {"text with a shape", 0,
         V(0x0a, 1, 'a', 0x2a, 11, 0x12, 1, 't', 0x5a, 6, 0x0a, 1, 'x', 0x12, 1, 1), 16},
        {"text of invalid UTF-8", 0,
         V(0x0a, 1, 'a', 0x2a, 8, 0x12, 1, 't', 0x5a, 3, 0x0a, 1, 0xff), 13},
        {"text with a NUL", 0,
         V(0x0a, 1, 'a', 0x2a, 9, 0x12, 1, 't', 0x5a, 4, 0x0a, 2, 'x', 0), 14},
        {"text and a scalar in one value", 0,
         V(0x0a, 1, 'a', 0x2a, 17, 0x12, 1, 't', 0x5a, 3, 0x0a, 1, 'x', 0x51, 0, 0, 0, 0, 0, 0,
           0xf0, 0x3f),
         22},
        {"text with a display name", 0,
         V(0x0a, 1, 'a', 0x2a, 11, 0x12, 1, 't', 0x1a, 1, 'd', 0x5a, 3, 0x0a, 1, 'x'), 16},
        {"text with an unknown field", 0,
         V(0x0a, 1, 'a', 0x2a, 10, 0x12, 1, 't', 0x5a, 5, 0x0a, 1, 'x', 0x18, 1), 15},
        {"text and a scalar of the same tag", 1,
         V(0x0a, 1, 'a', 0x2a, 8, 0x12, 1, 't', 0x5a, 3, 0x0a, 1, 'x', 0x2a, 12, 0x12, 1, 't',
           0x51, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
         27},
        {"text with a $ tag", 0, V(0x0a, 1, 'a', 0x2a, 8, 0x12, 1, '$', 0x5a, 3, 0x0a, 1, 'x'),
         13},
    };
#undef V
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t req[128];
        size_t n = build(req, 0, cases[i].log, cases[i].len);
        differential(sp, req, n, cases[i].want_lean, cases[i].what);
        n = build(req, 7, cases[i].log, cases[i].len);
        differential(sp, req, n, cases[i].want_lean, cases[i].what);
    }
    /* Requests that are not logs never take the lean path. */
    differential(sp, (const uint8_t *)"\x5a\x00", 2, 0, "ping");
    differential(sp, (const uint8_t *)"\x1a\x03\x0a\x01\x61", 5, 0, "step_get");
    buf_free(&b);
    frame_split_free(sp);
}

/* Whole frames: a lean request next to others, and a frame whose second
 * request is broken (refused whole, as frame_decode_batch() does). */
static void test_frames(void)
{
    struct buf f, r;
    buf_init(&f, BUF_NO_CAP);
    buf_init(&r, BUF_NO_CAP);
    direct_bytes(&reqs[0], &r);
    REQUIRE(pb_add_bytes(&f, 1, r.data, r.len) == 0);
    REQUIRE(pb_add_bytes(&f, 1, "\x5a\x00", 2) == 0);   /* ping */
    REQUIRE(pb_add_bytes(&f, 1, r.data, r.len) == 0);
    char err[REQUEST_ERROR_SIZE];
    struct frame_split *b = NULL;
    REQUIRE(frame_split_open(f.data, f.len, &b, err, sizeof err) == 0);
    CHECK_EQ(frame_split_count(b), 3);
    struct request m, *mm;
    request_init(&m);
    CHECK_EQ(frame_split_decode(b, 0, &m, &mm, err, sizeof err), 0);
    CHECK(mm != &m && mm->op == REQUEST_LOG && mm->n_values == 1);
    CHECK_EQ(frame_split_decode(b, 1, &m, &mm, err, sizeof err), 0);
    CHECK(mm == &m && mm->op == REQUEST_PING);
    CHECK_EQ(frame_split_decode(b, 2, &m, &mm, err, sizeof err), 0);
    CHECK(mm != &m && mm->op == REQUEST_LOG && mm->step == 3);
    frame_split_free(b);
    request_done(&m);
    /* The same, with a truncated third request and an unknown Batch field. */
    static const char *const tails[] = {"\x0a\x03\x5a\x00", "\x10\x01"};
    static const size_t tail_len[] = {4, 2};
    for (size_t t = 0; t < 2; t++) {
        size_t keep = f.len;
        REQUIRE(buf_append(&f, tails[t], tail_len[t]) == 0);
        char e1[REQUEST_ERROR_SIZE], e2[REQUEST_ERROR_SIZE];
        Tfevents__Batch *w = NULL;
        b = NULL;
        int r1 = frame_decode_batch(f.data, f.len, &w, e1, sizeof e1);
        int r2 = frame_split_open(f.data, f.len, &b, e2, sizeof e2);
        CHECK(r1 < 0);
        CHECK_EQ(r1, r2);
        CHECK_STR(e1, e2);
        frame_batch_free(w);
        frame_split_free(b);
        f.len = keep;
    }
    buf_free(&f);
    buf_free(&r);
}

/* ---- embedded: direct route vs request route ----------------------------- */

/* Every record of every event file under dir (runs in sorted order,
 * without each file's first record, whose wall time is the file's
 * creation), appended to out with the run's name. */
static void collect(const char *dir, const char *run, struct buf *out)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    REQUIRE(n >= 0);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        struct stat st;
        if (nm[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", run, nm);
            collect(path, sub, out);
        } else if (strstr(nm, "tfevents")) {
            size_t len;
            char *data = test_read_file(path, &len);
            REQUIRE(data);
            buf_append_str(out, run);
            const uint8_t *p = (const uint8_t *)data;
            bool first = true;
            for (;;) {
                const uint8_t *payload;
                size_t plen, size;
                int r = record_parse(p, len - (size_t)(p - (const uint8_t *)data), &payload,
                                     &plen, &size, NULL);
                CHECK(r >= 0);
                if (r <= 0)
                    break;
                if (!first)
                    buf_append(out, p, size);
                first = false;
                p += size;
            }
            free(data);
        }
        free(names[i]);
    }
    free(names);
}

/* The records of tmp/a and tmp/b (every file of every run, file_version
 * left out) are the same bytes, and more than min_len of them. */
static void same_records(const char *tmp, const char *a, const char *b, size_t min_len)
{
    struct buf x, y;
    buf_init(&x, BUF_NO_CAP);
    buf_init(&y, BUF_NO_CAP);
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", tmp, a);
    collect(p, ".", &x);
    snprintf(p, sizeof p, "%s/%s", tmp, b);
    collect(p, ".", &y);
    CHECK(x.len > min_len);
    CHECK_EQ(x.len, y.len);
    CHECK(x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
    buf_free(&x);
    buf_free(&y);
}

static void test_embedded_routes(void)
{
    char *tmp = test_tmpdir("fastpath");
    REQUIRE(tmp);
    struct lib_embedded *direct = lib_embedded_new(1 << 10, false);
    struct lib_embedded *general = lib_embedded_new(1 << 10, false);
    REQUIRE(direct && general);
    char ld[2][1024];
    snprintf(ld[0], sizeof ld[0], "%s/direct", tmp + 1);   /* names without the '/' */
    snprintf(ld[1], sizeof ld[1], "%s/general", tmp + 1);
    struct buf req;
    buf_init(&req, BUF_NO_CAP);
    /* A sequence with every step mode, several runs, a refusal by the step
     * policy, a duplicate tag and values the direct route leaves alone. */
    static const struct {
        int64_t step;
        struct lib_scalar sc[3];
        size_t n;
    } seq[] = {
        {TFEVENTS_STEP_NEXT, {{NULL, "loss", 1}}, 1},
        {TFEVENTS_STEP_NEXT, {{"train", "loss", 0.5}, {"train", "acc", 0.1}}, 2},
        {10, {{"train", "loss", 0.25}}, 1},
        {10, {{"train", "loss", 0.2}}, 1},                       /* refused: step */
        {TFEVENTS_STEP_CURRENT, {{"eval", "loss", 3}}, 1},
        {TFEVENTS_STEP_NEXT, {{"eval", "x", 1}, {"./eval", "x", 2}}, 2},   /* duplicate */
        {TFEVENTS_STEP_NEXT, {{"eval/..", "$bad", 1}}, 1},       /* reserved tag */
        {TFEVENTS_STEP_NEXT, {{"../out", "t", 1}}, 1},           /* run outside */
        {20, {{"a/b", "caf\xc3\xa9", -0.0}, {NULL, "loss", 1e40}}, 2},
        {21, {{"a/b", "caf\xc3\xa9", 7}}, 1},
    };
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
            double wt = 1700000000.0 + (double)(k * 100 + i);
            struct lib_reply r1, r2;
            enum logdir_step_mode mode = seq[i].step == TFEVENTS_STEP_NEXT ? LOGDIR_STEP_NEXT
                                         : seq[i].step == TFEVENTS_STEP_CURRENT
                                             ? LOGDIR_STEP_CURRENT
                                             : LOGDIR_STEP_AT;
            int64_t step = seq[i].step >= 0 ? seq[i].step + (int64_t)k * 100 : seq[i].step;
            int a = lib_embedded_log_scalars(direct, ld[0], mode, step, wt, seq[i].sc,
                                             seq[i].n, &r1);
            if (a == LIB_EMBEDDED_DECLINED) {
                struct req q = {ld[0], step, wt, {{0}}, seq[i].n};
                memcpy(q.sc, seq[i].sc, sizeof seq[i].sc);
                direct_bytes(&q, &req);
                a = lib_embedded_exec(direct, req.data, req.len, &r1);
            }
            struct req q = {ld[1], step, wt, {{0}}, seq[i].n};
            memcpy(q.sc, seq[i].sc, sizeof seq[i].sc);
            general_bytes(&q, &req);
            int b = lib_embedded_exec(general, req.data, req.len, &r2);
            CHECK_EQ(a, b);
            CHECK_EQ(r1.ok, r2.ok);
            if (a < 0 && b < 0) {
                /* The sentences name the logdir only through the run. */
                CHECK_STR(r1.error, r2.error);
            } else if (a == 0 && b == 0) {
                CHECK_EQ(r1.step, r2.step);
            }
        }
    }
    CHECK_EQ(lib_embedded_free(direct), 0);
    CHECK_EQ(lib_embedded_free(general), 0);
    same_records(tmp, "direct", "general", 500);
    buf_free(&req);
    test_rmtree(tmp);
    free(tmp);
}

/* lib_embedded_log_scalar() (the shortcut through the logdir and the
 * writer, else lib_embedded_log_scalars()) against lib_embedded_exec(), on
 * a long random sequence of single scalars with a few tags and runs over
 * and over (which the shortcut takes), refusals, bad names and steps in
 * every mode, under both step policies: the same replies, the same files. */
static void test_embedded_single(void)
{
    static const char *const runs[] = {NULL, ".", "train", "eval", "./train", "../out"};
    static const char *const tags[] = {
        "loss", "acc", "lr", "caf\xc3\xa9", "loss", "acc", "$bad", "",
        "a-tag-of-seventy-bytes-which-is-longer-than-the-writers-shortcut-keeps",
    };
    for (int any = 0; any < 2; any++) {
        char *tmp = test_tmpdir("fastpath1");
        REQUIRE(tmp);
        struct lib_embedded *single = lib_embedded_new(1 << 12, any);
        struct lib_embedded *general = lib_embedded_new(1 << 12, any);
        REQUIRE(single && general);
        char ld[2][2][1024];
        for (int j = 0; j < 2; j++) {
            snprintf(ld[0][j], sizeof ld[0][j], "%s/single/l%d", tmp + 1, j);
            snprintf(ld[1][j], sizeof ld[1][j], "%s/general/l%d", tmp + 1, j);
        }
        logdir *cache[2] = {NULL, NULL};
        struct buf req;
        buf_init(&req, BUF_NO_CAP);
        uint64_t rng = 7 + (uint64_t)any;
        int64_t at[2] = {0, 0};
        size_t ok = 0, refused = 0;
        for (int i = 0; i < 6000; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x = (uint32_t)(rng >> 33);
            int j = (x >> 20) % 8 == 0;   /* mostly the first logdir */
            const char *run = runs[(x >> 4) % 16 < 10 ? 2 : (x >> 8) % 6];
            const char *tag = tags[(x >> 12) % 64 < 40 ? (x >> 12) % 3 : (x >> 12) % 9];
            int64_t step;
            enum logdir_step_mode mode;
            switch (x % 10) {
            case 0:
                mode = LOGDIR_STEP_NEXT;
                step = TFEVENTS_STEP_NEXT;
                break;
            case 1:
                mode = LOGDIR_STEP_CURRENT;
                step = TFEVENTS_STEP_CURRENT;
                break;
            case 2:   /* often below a tag's last step: refused */
                mode = LOGDIR_STEP_AT;
                step = at[j] - (int64_t)((x >> 24) % 4);
                break;
            default:
                mode = LOGDIR_STEP_AT;
                step = ++at[j];
                break;
            }
            if (mode == LOGDIR_STEP_AT && step < 0)
                step = 0;
            double wt = (x >> 9) % 17 == 0 ? 0.0 : 1700000000.0 + i * 0.25;
            double value = (double)(int32_t)x / 7.0;
            struct lib_scalar sc = {run, tag, value};
            struct lib_reply r1, r2;
            int a = lib_embedded_log_scalar(single, ld[0][j], &cache[j], mode, step, wt, run,
                                            tag, value, &r1);
            if (a == LIB_EMBEDDED_DECLINED) {
                struct req q = {ld[0][j], step, wt, {sc}, 1};
                direct_bytes(&q, &req);
                a = lib_embedded_exec(single, req.data, req.len, &r1);
            }
            /* What the client refuses before any request: the same here. */
            tfevents_values *vs = tfevents_values_new();
            REQUIRE(vs);
            bool valid = tfevents_add_scalar(vs, run, tag, value) == 0;
            tfevents_values_free(vs);
            if (!valid) {
                CHECK(a < 0 && !r1.ok);
                refused++;
                continue;
            }
            struct req q = {ld[1][j], step, wt, {sc}, 1};
            general_bytes(&q, &req);
            int b = lib_embedded_exec(general, req.data, req.len, &r2);
            CHECK_EQ(a, b);
            CHECK_EQ(r1.ok, r2.ok);
            if (a < 0 && b < 0)
                CHECK_STR(r1.error, r2.error);
            else if (a == 0 && b == 0)
                CHECK_EQ(r1.step, r2.step);
            if (a == 0)
                ok++;
            else
                refused++;
        }
        CHECK(cache[0] != NULL && cache[1] != NULL);
        CHECK(ok > 3000);
        CHECK(refused > 100);
        CHECK_EQ(lib_embedded_free(single), 0);
        CHECK_EQ(lib_embedded_free(general), 0);
        same_records(tmp, "single", "general", 100000);
        buf_free(&req);
        test_rmtree(tmp);
        free(tmp);
    }
}

TEST_MAIN(TEST(test_client_encoding), TEST(test_client_template), TEST(test_lean_decoder), TEST(test_frames),
          TEST(test_embedded_routes), TEST(test_embedded_single))
