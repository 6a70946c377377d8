#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "pbwire.h"
#include "test.h"

static uint8_t *hex_decode(const char *hex, size_t *ret_len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *ret_len = n;
    return out;
}

/* The two payloads of golden/minimal, byte for byte what protobuf emits. */
static void golden_minimal(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: minimal payloads not compared");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/minimal/expected.json", shared);
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    cJSON *root = cJSON_ParseWithLength(text, len);
    REQUIRE(root);
    cJSON *records = cJSON_GetObjectItem(root, "records");
    REQUIRE(cJSON_GetArraySize(records) == 2);

    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    size_t want_len;
    uint8_t *want = hex_decode(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(records, 0), "payload")),
        &want_len);
    REQUIRE(event_encode_file_version(&out, 1700000000.0, "brain.Event:2") == 0);
    CHECK_EQ(out.len, want_len);
    CHECK(out.len == want_len && memcmp(out.data, want, want_len) == 0);
    free(want);

    /* Summary.Value {tag "loss", simple_value 0.5, metadata {plugin_data
     * {plugin_name "scalars"}}}, assembled with pbwire as summary.c would. */
    struct buf value, md, plugin, values;
    buf_init(&value, BUF_NO_CAP);
    buf_init(&md, BUF_NO_CAP);
    buf_init(&plugin, BUF_NO_CAP);
    buf_init(&values, BUF_NO_CAP);
    pb_add_string(&plugin, 1, "scalars");
    pb_add_bytes(&md, 1, plugin.data, plugin.len);
    pb_add_string(&value, 1, "loss");
    pb_add_float(&value, 2, 0.5f);
    pb_add_bytes(&value, 9, md.data, md.len);
    pb_add_bytes(&values, 1, value.data, value.len);

    buf_reset(&out);
    want = hex_decode(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(records, 1), "payload")),
        &want_len);
    REQUIRE(event_encode_summary(&out, 1700000000.0, 3, values.data, values.len) == 0);
    CHECK_EQ(out.len, want_len);
    CHECK(out.len == want_len && memcmp(out.data, want, want_len) == 0);
    free(want);

    buf_free(&value);
    buf_free(&md);
    buf_free(&plugin);
    buf_free(&values);
    buf_free(&out);
    cJSON_Delete(root);
    free(text);
}

/* protobuf-c's own encoder is an independent reference for the same
 * messages (it too writes fields in number order and omits defaults). */
static void same_as_protobuf_c(void)
{
    static const double walls[] = {1700000000.123456, 1.0, -5.5, 1e-300};
    static const int64_t steps[] = {0, 1, 127, 128, -1, INT64_MAX, INT64_MIN, 1234567890123};
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    uint8_t ref[256];
    for (size_t i = 0; i < sizeof walls / sizeof walls[0]; i++) {
        for (size_t j = 0; j < sizeof steps / sizeof steps[0]; j++) {
            /* session_log */
            Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
            Tensorboard__SessionLog sl = TENSORBOARD__SESSION_LOG__INIT;
            ev.wall_time = walls[i];
            ev.step = steps[j];
            sl.status = TENSORBOARD__SESSION_LOG__SESSION_STATUS__START;
            sl.msg = (char *)"restarted";
            ev.what_case = TENSORBOARD__EVENT__WHAT_SESSION_LOG;
            ev.session_log = &sl;
            size_t n = tensorboard__event__pack(&ev, ref);
            buf_reset(&out);
            REQUIRE(event_encode_session_log(&out, walls[i], steps[j],
                                             TENSORBOARD__SESSION_LOG__SESSION_STATUS__START,
                                             "restarted") == 0);
            CHECK(out.len == n && memcmp(out.data, ref, n) == 0);

            /* summary with one value */
            Tensorboard__Summary sum = TENSORBOARD__SUMMARY__INIT;
            Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
            Tensorboard__Summary__Value *vp = &v;
            v.tag = (char *)"a/b";
            v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
            v.simple_value = 2.5f;
            sum.n_value = 1;
            sum.value = &vp;
            ev.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
            ev.summary = &sum;
            n = tensorboard__event__pack(&ev, ref);
            uint8_t vbytes[64];
            size_t vlen = tensorboard__summary__pack(&sum, vbytes);
            buf_reset(&out);
            REQUIRE(event_encode_summary(&out, walls[i], steps[j], vbytes, vlen) == 0);
            CHECK(out.len == n && memcmp(out.data, ref, n) == 0);

            /* file_version */
            ev.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
            ev.file_version = (char *)"brain.Event:2";
            ev.step = 0;
            n = tensorboard__event__pack(&ev, ref);
            buf_reset(&out);
            REQUIRE(event_encode_file_version(&out, walls[i], "brain.Event:2") == 0);
            CHECK(out.len == n && memcmp(out.data, ref, n) == 0);
        }
    }
    buf_free(&out);
}

static void defaults_and_decode(void)
{
    struct buf out;
    buf_init(&out, BUF_NO_CAP);

    /* wall_time 0 and step 0 are left out; an empty summary still marks
     * the oneof. */
    REQUIRE(event_encode_summary(&out, 0.0, 0, NULL, 0) == 0);
    static const uint8_t empty_summary[] = {0x2a, 0x00};
    CHECK(out.len == 2 && memcmp(out.data, empty_summary, 2) == 0);
    Tensorboard__Event *ev = event_decode(out.data, out.len);
    REQUIRE(ev);
    CHECK(ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY);
    CHECK_EQ(ev->summary->n_value, 0);
    event_free(ev);

    /* -0.0 differs from 0.0 in its bits: protobuf writes it. */
    buf_reset(&out);
    REQUIRE(event_encode_file_version(&out, -0.0, "x") == 0);
    CHECK_EQ(out.len, 9 + 3);

    /* Status 0 and no message: an empty SessionLog. */
    buf_reset(&out);
    REQUIRE(event_encode_session_log(&out, 0.0, 5, 0, NULL) == 0);
    static const uint8_t empty_log[] = {0x10, 0x05, 0x3a, 0x00};
    CHECK(out.len == 4 && memcmp(out.data, empty_log, 4) == 0);

    /* A capped buffer refuses and is left as it was. */
    struct buf small;
    buf_init(&small, 10);
    CHECK_EQ(event_encode_file_version(&small, 1.0, "brain.Event:2"), -EMSGSIZE);
    CHECK_EQ(small.len, 0);
    buf_free(&small);

    /* Not an Event: a wrong wire type for field 1, a truncated varint. */
    static const uint8_t bad1[] = {0x08, 0x01};
    static const uint8_t bad2[] = {0xff, 0xff, 0xff};
    static const uint8_t bad3[] = {0x10, 0x80};
    CHECK(event_decode(bad1, sizeof bad1) == NULL);
    CHECK(event_decode(bad2, sizeof bad2) == NULL);
    CHECK(event_decode(bad3, sizeof bad3) == NULL);
    event_free(NULL);

    double a = event_now(), b = event_now();
    CHECK(a > 1.6e9 && b >= a);
    CHECK(a != (double)(int64_t)a || b != (double)(int64_t)b);   /* sub-second */
    buf_free(&out);
}

TEST_MAIN(TEST(golden_minimal), TEST(same_as_protobuf_c), TEST(defaults_and_decode))
