/* pbfields.h against the descriptors protobuf-c generated from proto/: each
 * hand-kept field number must be the field's number in the .proto, and the
 * wire type the hand encoders and the event scanner use must be the one
 * the field's type is encoded with. */
#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "event.pb-c.h"
#include "pbfields.h"
#include "pbwire.h"
#include "plugins.pb-c.h"
#include "summary.pb-c.h"
#include "tensor.pb-c.h"
#include "tensor_shape.pb-c.h"
#include "test.h"

struct field_case {
    const ProtobufCMessageDescriptor *message;
    const char *name;       /* the field's name in the .proto */
    unsigned number;        /* pbfields.h's constant */
    unsigned wire;          /* the wire type we write / scan it with */
};

#define FIELD(desc, name, constant, wire) {&desc, name, constant, wire}

/* Every constant of pbfields.h. */
static const struct field_case cases[] = {
    FIELD(tensorboard__event__descriptor, "wall_time", PBF_EVENT_WALL_TIME, PB_FIXED64),
    FIELD(tensorboard__event__descriptor, "step", PBF_EVENT_STEP, PB_VARINT),
    FIELD(tensorboard__event__descriptor, "file_version", PBF_EVENT_FILE_VERSION, PB_LEN),
    FIELD(tensorboard__event__descriptor, "summary", PBF_EVENT_SUMMARY, PB_LEN),
    FIELD(tensorboard__event__descriptor, "session_log", PBF_EVENT_SESSION_LOG, PB_LEN),
    FIELD(tensorboard__session_log__descriptor, "status", PBF_SESSION_LOG_STATUS, PB_VARINT),
    FIELD(tensorboard__session_log__descriptor, "msg", PBF_SESSION_LOG_MSG, PB_LEN),
    FIELD(tensorboard__event__descriptor, "graph_def", PBF_EVENT_GRAPH_DEF, PB_LEN),
    FIELD(tensorboard__event__descriptor, "tagged_run_metadata", PBF_EVENT_TAGGED_RUN_METADATA,
          PB_LEN),
    FIELD(tensorboard__tagged_run_metadata__descriptor, "tag", PBF_TRM_TAG, PB_LEN),
    FIELD(tensorboard__tagged_run_metadata__descriptor, "run_metadata", PBF_TRM_RUN_METADATA,
          PB_LEN),
    FIELD(tensorboard__summary__descriptor, "value", PBF_SUMMARY_VALUE, PB_LEN),
    FIELD(tensorboard__summary__value__descriptor, "tag", PBF_VALUE_TAG, PB_LEN),
    FIELD(tensorboard__summary__value__descriptor, "simple_value", PBF_VALUE_SIMPLE_VALUE,
          PB_FIXED32),
    FIELD(tensorboard__summary__value__descriptor, "node_name", PBF_VALUE_NODE_NAME, PB_LEN),
    FIELD(tensorboard__summary__value__descriptor, "tensor", PBF_VALUE_TENSOR, PB_LEN),
    FIELD(tensorboard__summary__value__descriptor, "metadata", PBF_VALUE_METADATA, PB_LEN),
    FIELD(tensorboard__summary_metadata__descriptor, "plugin_data", PBF_META_PLUGIN_DATA,
          PB_LEN),
    FIELD(tensorboard__summary_metadata__descriptor, "display_name", PBF_META_DISPLAY_NAME,
          PB_LEN),
    FIELD(tensorboard__summary_metadata__descriptor, "summary_description",
          PBF_META_DESCRIPTION, PB_LEN),
    FIELD(tensorboard__summary_metadata__descriptor, "data_class", PBF_META_DATA_CLASS,
          PB_VARINT),
    FIELD(tensorboard__summary_metadata__plugin_data__descriptor, "plugin_name",
          PBF_PLUGIN_NAME, PB_LEN),
    FIELD(tensorboard__summary_metadata__plugin_data__descriptor, "content",
          PBF_PLUGIN_CONTENT, PB_LEN),
    FIELD(tensorboard__tensor_proto__descriptor, "dtype", PBF_TENSOR_DTYPE, PB_VARINT),
    FIELD(tensorboard__tensor_proto__descriptor, "tensor_shape", PBF_TENSOR_SHAPE, PB_LEN),
    FIELD(tensorboard__tensor_proto__descriptor, "tensor_content", PBF_TENSOR_CONTENT, PB_LEN),
    /* Repeated numbers: written packed, so length-delimited. */
    FIELD(tensorboard__tensor_proto__descriptor, "float_val", PBF_TENSOR_FLOAT_VAL, PB_LEN),
    FIELD(tensorboard__tensor_proto__descriptor, "double_val", PBF_TENSOR_DOUBLE_VAL, PB_LEN),
    FIELD(tensorboard__tensor_proto__descriptor, "string_val", PBF_TENSOR_STRING_VAL, PB_LEN),
    FIELD(tensorboard__tensor_shape_proto__descriptor, "dim", PBF_SHAPE_DIM, PB_LEN),
    FIELD(tensorboard__tensor_shape_proto__dim__descriptor, "size", PBF_DIM_SIZE, PB_VARINT),
    FIELD(tensorboard__tensor_shape_proto__dim__descriptor, "name", PBF_DIM_NAME, PB_LEN),
    FIELD(tensorboard__image_plugin_data__descriptor, "converted_to_tensor",
          PBF_IMAGE_CONVERTED_TO_TENSOR, PB_VARINT),
    FIELD(tensorboard__audio_plugin_data__descriptor, "encoding", PBF_AUDIO_ENCODING,
          PB_VARINT),
    FIELD(tensorboard__audio_plugin_data__descriptor, "converted_to_tensor",
          PBF_AUDIO_CONVERTED_TO_TENSOR, PB_VARINT),
};

/* The wire type protobuf encodes field f with (-1: a type we never hand
 * encode). */
static int wire_type(const ProtobufCFieldDescriptor *f)
{
    bool packed = f->label == PROTOBUF_C_LABEL_REPEATED &&
                  (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
        return packed ? PB_LEN : PB_VARINT;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return packed ? PB_LEN : PB_FIXED64;
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return packed ? PB_LEN : PB_FIXED32;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
        return PB_LEN;
    default:
        return -1;
    }
}

static void test_numbers_match_descriptors(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct field_case *c = &cases[i];
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(c->message, c->name);
        if (!f) {
            fprintf(stderr, "%s has no field %s\n", c->message->name, c->name);
            test_failures_++;
            continue;
        }
        if (f->id != c->number || wire_type(f) != (int)c->wire) {
            fprintf(stderr, "%s.%s: .proto number %u wire %d, pbfields.h %u wire %u\n",
                    c->message->name, c->name, f->id, wire_type(f), c->number, c->wire);
            test_failures_++;
        }
        /* The one-byte keys of PB_KEY() need numbers below 16. */
        CHECK(c->number < 16);
    }
}

/* The checker itself: a wrong number or wire type is reported. */
static void test_checker_sees_drift(void)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(
        &tensorboard__event__descriptor, "summary");
    REQUIRE(f != NULL);
    CHECK(f->id != PBF_EVENT_SESSION_LOG);
    CHECK(wire_type(f) != PB_VARINT);
    CHECK(protobuf_c_message_descriptor_get_field_by_name(&tensorboard__event__descriptor,
                                                          "no_such_field") == NULL);
    /* PB_KEY() is the key byte protobuf-c writes: pack an Event with a
     * step and compare its first byte. */
    Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
    ev.step = 5;
    uint8_t out[16];
    size_t n = tensorboard__event__pack(&ev, out);
    REQUIRE(n == 2);
    CHECK_EQ(out[0], PB_KEY(PBF_EVENT_STEP, PB_VARINT));
    CHECK_EQ(out[1], 5);
}

TEST_MAIN(TEST(test_numbers_match_descriptors), TEST(test_checker_sees_drift))
