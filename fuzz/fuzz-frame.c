/* fuzz-frame: one Batch payload of the daemon's binary protocol
 * (protocol/frame_decode).
 *
 * Whatever the bytes, the lean splitter (frame_split_*) and the general
 * decoder (frame_decode_batch + frame_decode_request) must agree: the same
 * answer for the frame (accepted, or refused with the same code and words),
 * the same number of requests, and for each request the same code and the
 * same reason. An accepted log request must carry values that encode into
 * an Event protobuf-c decodes again.
 *
 * Except for a NUL byte in a string: only the raw bytes show it (the
 * general decoder's protobuf-c strings are cut there), so for such input
 * the splitter must refuse: the frame, or every request holding one. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "frame_decode.h"
#include "frame_split.h"
#include "fuzz.h"
#include "json_decode.h"

static void check_values(const struct request *m)
{
    struct buf values, event;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&event, BUF_NO_CAP);
    for (size_t i = 0; i < m->n_values; i++) {
        FUZZ_CHECK(m->values[i].run != NULL);
        FUZZ_CHECK(summary_value_encode(&values, &m->values[i].value, true) == 0);
    }
    FUZZ_CHECK(event_encode_summary(&event, 1.5, 7, values.data, values.len) == 0);
    Tensorboard__Event *ev;
    FUZZ_CHECK(event_unpack(event.data, event.len, &ev) == 0);
    FUZZ_CHECK(ev->summary && ev->summary->n_value == m->n_values);
    event_free(ev);
    buf_free(&values);
    buf_free(&event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err_a[256], err_b[256];
    Tfevents__Batch *batch = NULL;
    struct frame_split *split = NULL;
    err_a[0] = err_b[0] = '\0';

    const char *nul_field, *nul_msg;
    if (frame_find_nul(&tfevents__batch__descriptor, data, size, &nul_field, &nul_msg) == 1) {
        if (frame_split_open(data, size, &split, err_b, sizeof err_b) < 0)
            return 0;
        struct request m;
        request_init(&m);
        size_t refused = 0;
        for (size_t i = 0; i < frame_split_count(split); i++) {
            struct request *got = NULL;
            if (frame_split_decode(split, i, &m, &got, err_b, sizeof err_b) < 0)
                refused++;
        }
        FUZZ_CHECK(refused > 0);
        request_done(&m);
        frame_split_free(split);
        return 0;
    }

    int ra = frame_decode_batch(data, size, &batch, err_a, sizeof err_a);
    int rb = frame_split_open(data, size, &split, err_b, sizeof err_b);
    FUZZ_CHECK(ra == rb);
    if (ra < 0) {
        FUZZ_CHECK(ra == -EBADMSG || ra == -EINVAL || ra == -EMSGSIZE || ra == -ENOMEM);
        if (ra != -ENOMEM)
            FUZZ_CHECK(strcmp(err_a, err_b) == 0 && err_a[0] != '\0');
        frame_batch_free(batch);
        frame_split_free(split);
        return 0;
    }
    FUZZ_CHECK(frame_split_count(split) == batch->n_requests);

    struct request ma, mb;
    request_init(&ma);
    request_init(&mb);
    for (size_t i = 0; i < batch->n_requests; i++) {
        struct request *got = NULL;
        err_a[0] = err_b[0] = '\0';
        int qa = frame_decode_request(batch->requests[i], &ma, err_a, sizeof err_a);
        int qb = frame_split_decode(split, i, &mb, &got, err_b, sizeof err_b);
        FUZZ_CHECK(qa == qb);
        FUZZ_CHECK(got != NULL);
        if (qa < 0) {
            FUZZ_CHECK(strcmp(err_a, err_b) == 0 && err_a[0] != '\0');
            continue;
        }
        /* The same message either way. */
        FUZZ_CHECK(ma.op == got->op && ma.has_id == got->has_id);
        FUZZ_CHECK(!ma.has_id || strcmp(ma.id, got->id) == 0);
        FUZZ_CHECK(ma.has_logdir == got->has_logdir);
        FUZZ_CHECK(!ma.has_logdir || strcmp(ma.logdir, got->logdir) == 0);
        FUZZ_CHECK(ma.step_mode == got->step_mode && ma.step == got->step);
        FUZZ_CHECK(ma.n_values == got->n_values);
        for (size_t k = 0; k < ma.n_values; k++) {
            const struct summary_value *va = &ma.values[k].value, *vb = &got->values[k].value;
            FUZZ_CHECK(strcmp(ma.values[k].run, got->values[k].run) == 0);
            FUZZ_CHECK(va->tag.len == vb->tag.len &&
                       memcmp(va->tag.data, vb->tag.data, va->tag.len) == 0);
            FUZZ_CHECK(va->body.len == vb->body.len &&
                       (va->body.len == 0 || memcmp(va->body.data, vb->body.data, va->body.len) == 0));
        }
        check_values(&ma);
    }
    request_done(&ma);
    request_done(&mb);
    frame_batch_free(batch);
    frame_split_free(split);
    return 0;
}
