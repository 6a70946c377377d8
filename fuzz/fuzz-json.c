/* fuzz-json: one line of the daemon's JSON protocol (protocol/json_decode).
 *
 * The input is a line without its newline. Whatever it holds, jd_decode()
 * must answer 0 or a negative errno with a reason; a message it accepts
 * must build values that make an Event protobuf-c decodes, whose values
 * decode (value_decode()) as valid data. Decoding the same line again into
 * the used message must give the same answer (messages are reused). */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "fuzz.h"
#include "json_decode.h"
#include "value.h"

static void check_values(const struct request *m)
{
    struct buf values, event;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&event, BUF_NO_CAP);
    for (size_t i = 0; i < m->n_values; i++) {
        const struct request_value *jv = &m->values[i];
        FUZZ_CHECK(jv->run != NULL);
        FUZZ_CHECK(jv->value.tag.len > 0);
        FUZZ_CHECK(summary_value_encode(&values, &jv->value, true) == 0);
    }
    FUZZ_CHECK(event_encode_summary(&event, 1.5, m->step, values.data, values.len) == 0);

    Tensorboard__Event *ev;
    FUZZ_CHECK(event_unpack(event.data, event.len, &ev) == 0);
    FUZZ_CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY);
    FUZZ_CHECK(ev->summary->n_value == m->n_values);
    for (size_t i = 0; i < ev->summary->n_value; i++) {
        struct decoded_value v;
        value_init(&v);
        FUZZ_CHECK(value_decode(ev->summary->value[i], NULL, NULL, &v) == 0);
        FUZZ_CHECK(v.meta.present);
        if (v.kind == VALUE_INVALID)
            fprintf(stderr, "value %zu (plugin %s) decodes as invalid\n", i, v.meta.plugin);
        FUZZ_CHECK(v.kind != VALUE_INVALID);
        value_done(&v);
    }
    event_free(ev);
    buf_free(&values);
    buf_free(&event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    memset(err, 0x55, sizeof err);
    int r = jd_decode(&m, (const char *)data, size, err, sizeof err);
    FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -EILSEQ || r == -EMSGSIZE ||
               r == -ENOMEM);
    if (r < 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        FUZZ_CHECK(err[0] != '\0');
    } else {
        FUZZ_CHECK(request_op_name(m.op)[0] != '?');
        if (m.has_id)
            FUZZ_CHECK(memchr(m.id, '\0', sizeof m.id) != NULL);
        if (m.n_values > 0)
            check_values(&m);
    }
    if (m.has_id)
        FUZZ_CHECK(memchr(m.id, '\0', sizeof m.id) != NULL);

    /* Reuse the message, as a connection does. */
    int r2 = jd_decode(&m, (const char *)data, size, err, sizeof err);
    FUZZ_CHECK(r2 == r);
    request_done(&m);
    return 0;
}
