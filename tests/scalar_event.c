/* scalar_event: a scalar Event as our writers make it. */
#include "scalar_event.h"

#include "event.pb-c.h"

int scalar_event_append(struct buf *out, const char *tag, int64_t step, double wall_time, float x,
                        bool with_md)
{
    Tensorboard__TensorProto t;
    tensorboard__tensor_proto__init(&t);
    t.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT;
    t.n_float_val = 1;
    t.float_val = &x;
    Tensorboard__SummaryMetadata__PluginData pd;
    tensorboard__summary_metadata__plugin_data__init(&pd);
    pd.plugin_name = "scalars";
    Tensorboard__SummaryMetadata md;
    tensorboard__summary_metadata__init(&md);
    md.plugin_data = &pd;
    md.data_class = TENSORBOARD__DATA_CLASS__DATA_CLASS_SCALAR;
    Tensorboard__Summary__Value v, *vp = &v;
    tensorboard__summary__value__init(&v);
    v.tag = (char *)tag;
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &t;
    v.metadata = with_md ? &md : NULL;
    Tensorboard__Summary s;
    tensorboard__summary__init(&s);
    s.n_value = 1;
    s.value = &vp;
    Tensorboard__Event ev;
    tensorboard__event__init(&ev);
    ev.wall_time = wall_time;
    ev.step = step;
    ev.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    ev.summary = &s;
    size_t n = tensorboard__event__get_packed_size(&ev);
    int err = buf_reserve(out, n);
    if (err < 0)
        return err;
    out->len += tensorboard__event__pack(&ev, out->data + out->len);
    return 0;
}
