/* pbfields: the protobuf field numbers of TensorBoard's messages that we
 * encode or scan by hand.
 *
 * The measured hot paths (scalar events, record heads, the event scanner
 * of the reader) write and read these messages with pbwire.h instead of
 * building protobuf-c trees, so they need the field numbers. They live
 * here only, and tests/test-pbfields.c checks every one (and its wire
 * type) against the descriptors protobuf-c generated from proto/, so a
 * number can never drift from the .proto files. Everything else is encoded
 * and decoded with protobuf-c.
 *
 * Named PBF_<MESSAGE>_<FIELD>; the message of each group is in its
 * comment. */
#ifndef TFEVENTS_PBFIELDS_H
#define TFEVENTS_PBFIELDS_H

enum pbfields {
    /* tensorboard.Event (proto/event.proto) */
    PBF_EVENT_WALL_TIME = 1,            /* double */
    PBF_EVENT_STEP = 2,                 /* int64 */
    PBF_EVENT_FILE_VERSION = 3,         /* string, oneof what */
    PBF_EVENT_SUMMARY = 5,              /* Summary, oneof what */
    PBF_EVENT_SESSION_LOG = 7,          /* SessionLog, oneof what */
    PBF_EVENT_GRAPH_DEF = 4,            /* bytes (a GraphDef), oneof what */
    PBF_EVENT_TAGGED_RUN_METADATA = 8,  /* TaggedRunMetadata, oneof what */

    /* tensorboard.TaggedRunMetadata */
    PBF_TRM_TAG = 1,                    /* string */
    PBF_TRM_RUN_METADATA = 2,           /* bytes (a RunMetadata) */

    /* tensorboard.SessionLog */
    PBF_SESSION_LOG_STATUS = 1,         /* enum SessionStatus */
    PBF_SESSION_LOG_MSG = 3,            /* string */

    /* tensorboard.Summary (proto/summary.proto) */
    PBF_SUMMARY_VALUE = 1,              /* repeated Value */

    /* tensorboard.Summary.Value */
    PBF_VALUE_TAG = 1,                  /* string */
    PBF_VALUE_SIMPLE_VALUE = 2,         /* float, oneof value */
    PBF_VALUE_NODE_NAME = 7,            /* string */
    PBF_VALUE_TENSOR = 8,               /* TensorProto, oneof value */
    PBF_VALUE_METADATA = 9,             /* SummaryMetadata */

    /* tensorboard.SummaryMetadata */
    PBF_META_PLUGIN_DATA = 1,           /* PluginData */
    PBF_META_DISPLAY_NAME = 2,          /* string */
    PBF_META_DESCRIPTION = 3,           /* string summary_description */
    PBF_META_DATA_CLASS = 4,            /* enum DataClass */

    /* tensorboard.SummaryMetadata.PluginData */
    PBF_PLUGIN_NAME = 1,                /* string plugin_name */
    PBF_PLUGIN_CONTENT = 2,             /* bytes content */

    /* tensorboard.TensorProto (proto/tensor.proto) */
    PBF_TENSOR_DTYPE = 1,               /* enum DataType */
    PBF_TENSOR_SHAPE = 2,               /* TensorShapeProto tensor_shape */
    PBF_TENSOR_CONTENT = 4,             /* bytes tensor_content */
    PBF_TENSOR_FLOAT_VAL = 5,           /* repeated float, packed */
    PBF_TENSOR_DOUBLE_VAL = 6,          /* repeated double, packed */
    PBF_TENSOR_STRING_VAL = 8,          /* repeated bytes */

    /* tensorboard.TensorShapeProto (proto/tensor_shape.proto) */
    PBF_SHAPE_DIM = 2,                  /* repeated Dim */
    /* tensorboard.TensorShapeProto.Dim */
    PBF_DIM_SIZE = 1,                   /* int64 */
    PBF_DIM_NAME = 2,                   /* string */

    /* tensorboard.ImagePluginData, AudioPluginData (proto/plugins.proto) */
    PBF_IMAGE_CONVERTED_TO_TENSOR = 2,  /* bool */
    PBF_AUDIO_ENCODING = 2,             /* enum Encoding */
    PBF_AUDIO_CONVERTED_TO_TENSOR = 3,  /* bool */
};

#endif
