/* lib_journal (client/lib_journal.h): what libtfevents keeps of the frames
 * it sent until the daemon acknowledges them, and how it sorts them after a
 * broken connection. Requests are built by lib_request (what the library
 * sends), resent ones decoded back with protobuf-c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lib_journal.h"
#include "lib_request.h"
#include "pbwire.h"
#include "test.h"
#include "tfwire.pb-c.h"

/* A log request of one plain scalar (lib_request's bytes). */
static void log_req(struct buf *out, int64_t step)
{
    struct lib_scalar sc = {NULL, "loss", 0.5};
    size_t n = lib_request_log_scalars_size("exp", step, 1.7e9, &sc, 1);
    buf_reset(out);
    REQUIRE(buf_reserve(out, n) == 0);
    lib_request_put_log_scalars(out->data, "exp", step, 1.7e9, &sc, 1);
    out->len = n;
}

/* req with Request.id = id appended (a call's request). */
static void with_id(struct buf *req, uint64_t id)
{
    uint8_t k[16];
    size_t n = pb_put_tag(k, 1, PB_VARINT);
    n += pb_put_varint(k + n, id);
    REQUIRE(buf_append(req, k, n) == 0);
}

static void test_classify(void)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    uint64_t id = 99;
    log_req(&b, 7);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_LOG_AT);
    CHECK_EQ(id, 0);
    log_req(&b, -1);   /* TFEVENTS_STEP_NEXT */
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_LOG_COUNTER);
    log_req(&b, -2);   /* TFEVENTS_STEP_CURRENT */
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_LOG_COUNTER);
    REQUIRE(lib_request_step_set(&b, "exp", 10) == 0);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_STEP_SET);
    REQUIRE(lib_request_restart(&b, "exp", "run", 5) == 0);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_REPLAYABLE);
    REQUIRE(lib_request_flush(&b, NULL, false, false) == 0);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_FLUSH_ALL);
    REQUIRE(lib_request_flush(&b, NULL, true, true) == 0);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_FLUSH_ALL);
    REQUIRE(lib_request_flush(&b, "exp", false, false) == 0);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_REPLAYABLE);
    REQUIRE(lib_request_step_get(&b, "exp") == 0);
    with_id(&b, 42);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_CALL);
    CHECK_EQ(id, 42);
    log_req(&b, 3);
    with_id(&b, 43);
    CHECK_EQ(lib_journal_classify(b.data, b.len, &id), LIB_JOURNAL_CALL);
    CHECK_EQ(id, 43);
    buf_free(&b);
}

static void test_resent(void)
{
    struct buf b, out, twice;
    buf_init(&b, BUF_NO_CAP);
    buf_init(&out, BUF_NO_CAP);
    buf_init(&twice, BUF_NO_CAP);
    log_req(&b, 12);
    REQUIRE(lib_journal_resent(&out, b.data, b.len) == 0);
    Tfevents__Request *rq = tfevents__request__unpack(NULL, out.len, out.data);
    REQUIRE(rq);
    CHECK_EQ(rq->op_case, TFEVENTS__REQUEST__OP_LOG);
    CHECK(rq->log->has_resent && rq->log->resent);
    CHECK_EQ(rq->log->step_kind_case, TFEVENTS__LOG__STEP_KIND_STEP);
    CHECK_EQ(rq->log->step, 12);
    CHECK_STR(rq->log->logdir, "exp");
    CHECK_EQ(rq->log->n_values, 1);
    CHECK_STR(rq->log->values[0]->tag, "loss");
    tfevents__request__free_unpacked(rq, NULL);
    /* Already resent: the same bytes again, not a second field. */
    REQUIRE(lib_journal_resent(&twice, out.data, out.len) == 0);
    CHECK(twice.len == out.len && memcmp(twice.data, out.data, out.len) == 0);
    /* Only a log at an explicit step can be resent. */
    log_req(&b, -1);
    CHECK_EQ(lib_journal_resent(&out, b.data, b.len), -EINVAL);
    REQUIRE(lib_request_step_set(&b, "exp", 1) == 0);
    CHECK_EQ(lib_journal_resent(&out, b.data, b.len), -EINVAL);
    buf_free(&b);
    buf_free(&out);
    buf_free(&twice);
}

/* A frame of n log requests at steps from.., with header room. */
static void make_frame(struct buf *f, int64_t from, unsigned n)
{
    struct buf r;
    buf_init(&r, BUF_NO_CAP);
    buf_reset(f);
    REQUIRE(buf_reserve(f, 5) == 0);
    f->len = 5;
    for (unsigned i = 0; i < n; i++) {
        log_req(&r, from + i);
        REQUIRE(pb_add_bytes(f, 1, r.data, r.len) == 0);
    }
    buf_free(&r);
}

struct seen {
    int64_t steps[64];
    bool unread[64];
    unsigned n;
};

static int collect(void *ctx, const uint8_t *req, size_t len, bool unread)
{
    struct seen *s = ctx;
    Tfevents__Request *rq = tfevents__request__unpack(NULL, len, req);
    if (!rq || s->n >= 64)
        return -EPROTO;
    s->steps[s->n] = (int64_t)rq->log->step;
    s->unread[s->n++] = unread;
    tfevents__request__free_unpacked(rq, NULL);
    return 0;
}

static void test_ack_and_replay(void)
{
    struct lib_journal j;
    struct buf f;
    lib_journal_init(&j);
    buf_init(&f, BUF_NO_CAP);
    /* Frames of requests 1-3, 4-6 (written), 7-8 (not written). */
    make_frame(&f, 100, 3);
    REQUIRE(lib_journal_add(&j, &f, 5, 1, 3) == 0);
    CHECK_EQ(f.len, 0);   /* taken */
    lib_journal_sent(&j);
    make_frame(&f, 103, 3);
    REQUIRE(lib_journal_add(&j, &f, 5, 4, 3) == 0);
    lib_journal_sent(&j);
    make_frame(&f, 106, 2);
    size_t third = f.len;
    REQUIRE(lib_journal_add(&j, &f, 5, 7, 2) == 0);
    uint8_t *p;
    size_t len;
    REQUIRE(lib_journal_unsent(&j, &p, &len));
    CHECK_EQ(len, third);
    CHECK_EQ(lib_journal_pending(&j), 8);
    /* An acknowledgement inside the second frame drops the first only. */
    size_t before = lib_journal_bytes(&j);
    lib_journal_ack(&j, 4);
    CHECK(lib_journal_bytes(&j) < before);
    CHECK_EQ(lib_journal_pending(&j), 4);
    lib_journal_refused(&j, 6);
    CHECK_EQ(lib_journal_pending(&j), 3);
    /* The spare buffer of the first frame comes back with the next add. */
    make_frame(&f, 0, 1);
    struct seen s = {.n = 0};
    REQUIRE(lib_journal_replay(&j, collect, &s) == 0);
    CHECK_EQ(s.n, 3);   /* 5; 6 refused; 7 and 8 */
    CHECK_EQ(s.steps[0], 104);
    CHECK(!s.unread[0]);   /* written, not acknowledged: in doubt */
    CHECK_EQ(s.steps[1], 106);
    CHECK(s.unread[1] && s.unread[2]);   /* never written whole */
    CHECK_EQ(lib_journal_bytes(&j), 0);
    CHECK_EQ(lib_journal_pending(&j), 0);

    /* After the goodbye, whatever is left was not read. */
    make_frame(&f, 200, 4);
    REQUIRE(lib_journal_add(&j, &f, 5, 1, 4) == 0);
    lib_journal_sent(&j);
    lib_journal_ack(&j, 2);
    j.goodbye = true;
    s.n = 0;
    REQUIRE(lib_journal_replay(&j, collect, &s) == 0);
    CHECK_EQ(s.n, 2);
    CHECK(s.steps[0] == 202 && s.unread[0] && s.unread[1]);
    CHECK(!j.goodbye && j.acked == 0);
    buf_free(&f);
    lib_journal_done(&j);
    lib_journal_done(NULL);
}

TEST_MAIN(TEST(test_classify), TEST(test_resent), TEST(test_ack_and_replay))
