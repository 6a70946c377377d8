/* Field numbers are those of proto/tfwire.proto. The log request, the
 * hot path, is encoded by hand; the rare hparams requests with protobuf-c. */
#include "lib_request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "pbwire.h"
#include "tfwire.pb-c.h"

enum {
    RQ_LOG = 2, RQ_STEP_GET = 3, RQ_STEP_SET = 4, RQ_FLUSH = 5, RQ_HPARAMS_CONFIG = 6,
    RQ_SESSION_START = 7, RQ_SESSION_END = 8, RQ_RESTART = 9, RQ_CLOSE = 10, RQ_PING = 11,
};

/* A sub-message built in sub, appended to out as field. */
static int put_sub(struct buf *out, uint32_t field, struct buf *sub, int r)
{
    if (r == 0)
        r = pb_add_bytes(out, field, sub->data, sub->len);
    buf_free(sub);
    return r;
}

/* Log's step (2) or current (3) and wall_time (4) fields: step >= 0 is
 * given, TFEVENTS_STEP_CURRENT asks for the current one, next otherwise;
 * a negative wall time is left to the daemon. */
static size_t log_head_size(int64_t step, double wall_time)
{
    size_t n = step >= 0 ? 1 + pb_varint_size((uint64_t)step)
                         : step == TFEVENTS_STEP_CURRENT ? 2 : 0;
    return n + (wall_time >= 0 ? 9 : 0);
}

static uint8_t *put_log_head(uint8_t *p, int64_t step, double wall_time)
{
    if (step >= 0) {
        *p++ = (2 << 3) | PB_VARINT;
        p += pb_put_varint(p, (uint64_t)step);
    } else if (step == TFEVENTS_STEP_CURRENT) {
        *p++ = (3 << 3) | PB_VARINT;
        *p++ = 1;
    }
    if (wall_time >= 0) {
        *p++ = (4 << 3) | PB_FIXED64;
        p += pb_put_double(p, wall_time);
    }
    return p;
}

int lib_request_log(struct buf *out, const char *logdir, int64_t step, double wall_time,
                    const struct buf *values)
{
    buf_reset(out);
    /* Log: logdir=1, step=2 | current=3, wall_time=4, values=5 (already
     * encoded as field 5 entries). Its length is known up front, so the
     * values are copied once. */
    size_t len = pb_len_field_size(1, strlen(logdir)) + values->len +
                 log_head_size(step, wall_time);
    int r = pb_add_len_header(out, RQ_LOG, len);
    if (r == 0)
        r = pb_add_string(out, 1, logdir);
    if (r == 0 && step >= 0)
        r = pb_add_varint(out, 2, (uint64_t)step);
    if (r == 0 && step == TFEVENTS_STEP_CURRENT)
        r = pb_add_varint(out, 3, 1);
    if (r == 0 && wall_time >= 0)
        r = pb_add_double(out, 4, wall_time);
    if (r == 0)
        r = buf_append(out, values->data, values->len);
    return r;
}

/* Log.values entry of one plain scalar: its body's length. The layout is
 * lib_values.c's (run unless NULL or ".", tag, scalar), which the tests
 * compare byte for byte. */
static size_t scalar_body(const struct lib_scalar *s, size_t *run_len, size_t *tag_len)
{
    bool has_run = s->run && strcmp(s->run, ".") != 0;
    *run_len = has_run ? strlen(s->run) : SIZE_MAX;
    *tag_len = strlen(s->tag);
    return (has_run ? pb_len_field_size(1, *run_len) : 0) + pb_len_field_size(2, *tag_len) + 9;
}

/* The Log body (without its own key and length). */
static size_t log_scalars_body(const char *logdir, int64_t step, double wall_time,
                               const struct lib_scalar *sc, size_t n)
{
    size_t len = pb_len_field_size(1, strlen(logdir)) + log_head_size(step, wall_time);
    for (size_t i = 0; i < n; i++) {
        size_t rl, tl;
        len += pb_len_field_size(5, scalar_body(&sc[i], &rl, &tl));
    }
    return len;
}

size_t lib_request_log_scalars_size(const char *logdir, int64_t step, double wall_time,
                                    const struct lib_scalar *sc, size_t n)
{
    return pb_len_field_size(RQ_LOG, log_scalars_body(logdir, step, wall_time, sc, n));
}

static uint8_t *put_str(uint8_t *p, uint32_t field, const char *s, size_t len)
{
    p += pb_put_tag(p, field, PB_LEN);
    p += pb_put_varint(p, len);
    memcpy(p, s, len);
    return p + len;
}

void lib_request_put_log_scalars(uint8_t *p, const char *logdir, int64_t step,
                                 double wall_time, const struct lib_scalar *sc, size_t n)
{
    p += pb_put_tag(p, RQ_LOG, PB_LEN);
    p += pb_put_varint(p, log_scalars_body(logdir, step, wall_time, sc, n));
    p = put_str(p, 1, logdir, strlen(logdir));
    p = put_log_head(p, step, wall_time);
    for (size_t i = 0; i < n; i++) {
        size_t rl, tl;
        size_t body = scalar_body(&sc[i], &rl, &tl);
        p += pb_put_tag(p, 5, PB_LEN);
        p += pb_put_varint(p, body);
        if (rl != SIZE_MAX)
            p = put_str(p, 1, sc[i].run, rl);
        p = put_str(p, 2, sc[i].tag, tl);
        p += pb_put_tag(p, 10, PB_FIXED64);
        p += pb_put_double(p, sc[i].value);
    }
}

size_t lib_request_log_scalar_prepare(struct lib_scalar_tmpl *t, const char *logdir,
                                      int64_t step, double wall_time, const char *run,
                                      const char *tag)
{
    const char *r = run && strcmp(run, ".") != 0 ? run : "";
    if (!t->valid || strcmp(t->tag, tag) != 0 || strcmp(t->run, r) != 0 ||
        strcmp(t->logdir, logdir) != 0) {
        size_t ll = strlen(logdir), rl = strlen(r), tl = strlen(tag);
        t->valid = false;
        if (ll > LIB_SCALAR_TMPL_LOGDIR || rl > LIB_SCALAR_TMPL_NAME ||
            tl > LIB_SCALAR_TMPL_NAME)
            return 0;
        memcpy(t->logdir, logdir, ll + 1);
        memcpy(t->run, r, rl + 1);
        memcpy(t->tag, tag, tl + 1);
        t->logdir_field_len = (size_t)(put_str(t->logdir_field, 1, logdir, ll) - t->logdir_field);
        /* The value as lib_request_put_log_scalars() lays it out, up to
         * the double. */
        struct lib_scalar sc = {run, tag, 0};
        size_t rlen, tlen;
        size_t body = scalar_body(&sc, &rlen, &tlen);
        uint8_t *p = t->value_head;
        p += pb_put_tag(p, 5, PB_LEN);
        p += pb_put_varint(p, body);
        if (rlen != SIZE_MAX)
            p = put_str(p, 1, run, rlen);
        p = put_str(p, 2, tag, tlen);
        p += pb_put_tag(p, 10, PB_FIXED64);
        t->value_head_len = (size_t)(p - t->value_head);
        t->valid = true;
    }
    size_t body = t->logdir_field_len + log_head_size(step, wall_time) + t->value_head_len + 8;
    t->body_len = body;
    return 1 + pb_varint_size(body) + body;
}

void lib_request_log_scalar_put(const struct lib_scalar_tmpl *t, uint8_t *p, int64_t step,
                                double wall_time, double value)
{
    p += pb_put_tag(p, RQ_LOG, PB_LEN);
    p += pb_put_varint(p, t->body_len);
    memcpy(p, t->logdir_field, t->logdir_field_len);
    p += t->logdir_field_len;
    p = put_log_head(p, step, wall_time);
    memcpy(p, t->value_head, t->value_head_len);
    p += t->value_head_len;
    pb_put_double(p, value);
}

int lib_request_step_get(struct buf *out, const char *logdir)
{
    struct buf sub;
    buf_reset(out);
    buf_init(&sub, BUF_NO_CAP);
    return put_sub(out, RQ_STEP_GET, &sub, pb_add_string(&sub, 1, logdir));
}

int lib_request_step_set(struct buf *out, const char *logdir, int64_t step)
{
    struct buf sub;
    buf_reset(out);
    buf_init(&sub, BUF_NO_CAP);
    int r = pb_add_string(&sub, 1, logdir);
    if (r == 0)
        r = pb_add_varint(&sub, 2, (uint64_t)step);   /* int64: two's complement */
    return put_sub(out, RQ_STEP_SET, &sub, r);
}

int lib_request_flush(struct buf *out, const char *logdir, bool sync, bool close)
{
    struct buf sub;
    buf_reset(out);
    buf_init(&sub, BUF_NO_CAP);
    int r = logdir ? pb_add_string(&sub, 1, logdir) : 0;
    if (r == 0 && sync)
        r = pb_add_varint(&sub, 2, 1);
    return put_sub(out, close ? RQ_CLOSE : RQ_FLUSH, &sub, r);
}

int lib_request_restart(struct buf *out, const char *logdir, const char *run, uint64_t step)
{
    struct buf sub;
    buf_reset(out);
    buf_init(&sub, BUF_NO_CAP);
    int r = pb_add_string(&sub, 1, logdir);
    if (r == 0)
        r = pb_add_varint(&sub, 2, step);
    if (r == 0 && run)
        r = pb_add_string(&sub, 3, run);
    return put_sub(out, RQ_RESTART, &sub, r);
}

/* ---- hparams, through protobuf-c ----------------------------------------- */

static int pack_request(struct buf *out, Tfevents__Request *rq)
{
    size_t len = tfevents__request__get_packed_size(rq);
    int r = buf_reserve(out, len);
    if (r < 0)
        return r;
    tfevents__request__pack(rq, out->data + out->len);
    out->len += len;
    return 0;
}

static int hparam_value(const struct tfevents_hparam_value *v, Tfevents__HparamValue *ret)
{
    tfevents__hparam_value__init(ret);
    switch (v->kind) {
    case TFEVENTS_HPARAM_NUMBER:
        ret->kind_case = TFEVENTS__HPARAM_VALUE__KIND_NUMBER;
        ret->number = v->number;
        return 0;
    case TFEVENTS_HPARAM_INT:
        ret->kind_case = TFEVENTS__HPARAM_VALUE__KIND_INTEGER;
        ret->integer = v->integer;
        return 0;
    case TFEVENTS_HPARAM_STRING:
        if (!v->string)
            return -EINVAL;
        ret->kind_case = TFEVENTS__HPARAM_VALUE__KIND_STRING;
        ret->string = (char *)v->string;
        return 0;
    case TFEVENTS_HPARAM_BOOL:
        ret->kind_case = TFEVENTS__HPARAM_VALUE__KIND_BOOLEAN;
        ret->boolean = v->boolean;
        return 0;
    }
    return -EINVAL;
}

int lib_request_hparams_config(struct buf *out, const char *logdir, const char *run,
                               const struct tfevents_hparam_info *hparams, size_t n_hparams,
                               const struct tfevents_metric_info *metrics, size_t n_metrics)
{
    buf_reset(out);
    if ((n_hparams && !hparams) || (n_metrics && !metrics))
        return -EINVAL;
    Tfevents__HparamsConfig q = TFEVENTS__HPARAMS_CONFIG__INIT;
    Tfevents__HparamInfo *hi = calloc(n_hparams ? n_hparams : 1, sizeof *hi);
    Tfevents__HparamInfo **hip = calloc(n_hparams ? n_hparams : 1, sizeof *hip);
    Tfevents__MetricInfo *mi = calloc(n_metrics ? n_metrics : 1, sizeof *mi);
    Tfevents__MetricInfo **mip = calloc(n_metrics ? n_metrics : 1, sizeof *mip);
    Tfevents__HparamValue **vals = calloc(n_hparams ? n_hparams : 1, sizeof *vals);
    Tfevents__HparamValue ***valp = calloc(n_hparams ? n_hparams : 1, sizeof *valp);
    int r = 0;
    if (!hi || !hip || !mi || !mip || !vals || !valp) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_hparams && r == 0; i++) {
        const struct tfevents_hparam_info *h = &hparams[i];
        tfevents__hparam_info__init(&hi[i]);
        hip[i] = &hi[i];
        if (!h->name || (h->n_values && !h->values)) {
            r = -EINVAL;
            break;
        }
        hi[i].name = (char *)h->name;
        hi[i].display_name = (char *)h->display_name;
        hi[i].description = (char *)h->description;
        if (h->type != TFEVENTS_HPARAM_TYPE_UNSET) {
            hi[i].has_type = true;
            hi[i].type = (Tfevents__HparamType)h->type;
        }
        if (h->has_interval) {
            hi[i].has_min = hi[i].has_max = true;
            hi[i].min = h->min;
            hi[i].max = h->max;
        }
        if (h->n_values) {
            vals[i] = calloc(h->n_values, sizeof **vals);
            valp[i] = calloc(h->n_values, sizeof **valp);
            if (!vals[i] || !valp[i]) {
                r = -ENOMEM;
                break;
            }
            for (size_t k = 0; k < h->n_values && r == 0; k++) {
                r = hparam_value(&h->values[k], &vals[i][k]);
                valp[i][k] = &vals[i][k];
            }
            hi[i].values = valp[i];
            hi[i].n_values = h->n_values;
        }
    }
    for (size_t i = 0; i < n_metrics && r == 0; i++) {
        const struct tfevents_metric_info *m = &metrics[i];
        tfevents__metric_info__init(&mi[i]);
        mip[i] = &mi[i];
        if (!m->tag) {
            r = -EINVAL;
            break;
        }
        mi[i].tag = (char *)m->tag;
        mi[i].group = (char *)m->group;
        mi[i].display_name = (char *)m->display_name;
        mi[i].description = (char *)m->description;
        if (m->dataset_type != TFEVENTS_DATASET_UNKNOWN) {
            mi[i].has_dataset_type = true;
            mi[i].dataset_type = (Tfevents__DatasetType)m->dataset_type;
        }
    }
    if (r == 0) {
        /* The wall time also dates the experiment (time_created_secs). */
        q.logdir = (char *)logdir;
        q.run = (char *)run;
        q.has_wall_time = true;
        q.wall_time = event_now();
        q.hparams = hip;
        q.n_hparams = n_hparams;
        q.metrics = mip;
        q.n_metrics = n_metrics;
        Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
        rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_CONFIG;
        rq.hparams_config = &q;
        r = pack_request(out, &rq);
    }
out:
    for (size_t i = 0; vals && valp && i < n_hparams; i++) {
        free(vals[i]);
        free(valp[i]);
    }
    free(hi);
    free(hip);
    free(mi);
    free(mip);
    free(vals);
    free(valp);
    return r;
}

int lib_request_session_start(struct buf *out, const char *logdir, const char *run,
                              const struct tfevents_hparam *hparams, size_t n,
                              const char *group_name)
{
    buf_reset(out);
    if (n && !hparams)
        return -EINVAL;
    Tfevents__Hparam *hp = calloc(n ? n : 1, sizeof *hp);
    Tfevents__Hparam **hpp = calloc(n ? n : 1, sizeof *hpp);
    Tfevents__HparamValue *vals = calloc(n ? n : 1, sizeof *vals);
    int r = 0;
    if (!hp || !hpp || !vals) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && r == 0; i++) {
        tfevents__hparam__init(&hp[i]);
        hpp[i] = &hp[i];
        if (!hparams[i].name) {
            r = -EINVAL;
            break;
        }
        hp[i].name = (char *)hparams[i].name;
        r = hparam_value(&hparams[i].value, &vals[i]);
        hp[i].value = &vals[i];
    }
    if (r == 0) {
        Tfevents__HparamsSessionStart q = TFEVENTS__HPARAMS_SESSION_START__INIT;
        q.logdir = (char *)logdir;
        q.run = (char *)run;
        q.has_wall_time = true;
        q.wall_time = event_now();
        q.hparams = hpp;
        q.n_hparams = n;
        q.group_name = (char *)group_name;
        Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
        rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START;
        rq.hparams_session_start = &q;
        r = pack_request(out, &rq);
    }
out:
    free(hp);
    free(hpp);
    free(vals);
    return r;
}

int lib_request_session_end(struct buf *out, const char *logdir, const char *run,
                            enum tfevents_status status)
{
    buf_reset(out);
    if ((unsigned)status > 3)
        return -EINVAL;
    Tfevents__HparamsSessionEnd q = TFEVENTS__HPARAMS_SESSION_END__INIT;
    q.logdir = (char *)logdir;
    q.run = (char *)run;
    q.has_wall_time = true;
    q.wall_time = event_now();
    q.status = (Tfevents__SessionStatus)status;
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END;
    rq.hparams_session_end = &q;
    return pack_request(out, &rq);
}

/* ---- embeddings ----------------------------------------------------------- */

int lib_request_embedding(struct buf *out, const char *logdir, const char *run, int64_t step,
                          const struct tfevents_embedding *e)
{
    if (!e || !e->tensor || e->rows > UINT32_MAX || e->cols > UINT32_MAX || step < 0 ||
        (e->cols && e->rows > SIZE_MAX / sizeof(float) / e->cols))
        return -EINVAL;
    size_t cols = e->n_header > 1 ? e->n_header : 1;
    if (e->metadata && e->rows > SIZE_MAX / sizeof(char *) / cols)
        return -EINVAL;
    Tfevents__Embedding q = TFEVENTS__EMBEDDING__INIT;
    q.logdir = (char *)logdir;
    q.run = (char *)run;
    q.has_step = true;
    q.step = (uint64_t)step;
    q.tag = (char *)(e->tag ? e->tag : "");
    q.rows = (uint32_t)e->rows;
    q.cols = (uint32_t)e->cols;
    q.n_tensor = e->rows * e->cols;
    q.tensor = (float *)e->tensor;
    q.n_metadata_header = e->metadata_header ? e->n_header : 0;
    q.metadata_header = (char **)e->metadata_header;
    q.n_metadata = e->metadata ? e->rows * cols : 0;
    q.metadata = (char **)e->metadata;
    uint32_t dim[2] = {e->sprite_width, e->sprite_height};
    if (e->sprite_png) {
        q.has_sprite_png = true;
        q.sprite_png.data = (uint8_t *)e->sprite_png;
        q.sprite_png.len = e->sprite_len;
        q.n_single_image_dim = 2;
        q.single_image_dim = dim;
    }
    for (size_t i = 0; i < q.n_metadata_header + q.n_metadata; i++)
        if (!(i < q.n_metadata_header ? q.metadata_header[i]
                                      : q.metadata[i - q.n_metadata_header]))
            return -EINVAL;
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_EMBEDDING;
    rq.embedding = &q;
    buf_reset(out);
    return pack_request(out, &rq);
}

/* ---- graphs ----------------------------------------------------------------- */

int lib_request_graph(struct buf *out, const char *logdir, const char *run, int64_t step,
                      const char *tag, const void *data, size_t len)
{
    buf_reset(out);
    if (!data || step < 0)
        return -EINVAL;
    Tfevents__Graph q = TFEVENTS__GRAPH__INIT;
    q.logdir = (char *)logdir;
    q.run = (char *)run;
    q.has_step = true;
    q.step = (uint64_t)step;
    q.has_wall_time = true;
    q.wall_time = event_now();
    ProtobufCBinaryData b = {len, (uint8_t *)data};
    if (tag) {
        q.tag = (char *)tag;
        q.has_run_metadata = true;
        q.run_metadata = b;
    } else {
        q.has_graph_def = true;
        q.graph_def = b;
    }
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_GRAPH;
    rq.graph = &q;
    return pack_request(out, &rq);
}
