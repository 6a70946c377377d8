#include "hparams.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "hparams.pb-c.h"
#include "struct.pb-c.h"
#include "utf8.h"

/* protobuf-c wants char * for string fields; it never writes through
 * them when packing, so borrowed strings are passed as they are, and NULL
 * becomes the empty string (proto3: not emitted). */
static char *pbstr(const char *s)
{
    return (char *)(s ? s : "");
}

static int check_string(const char *s, bool required, const char **why, const char *what)
{
    if (!s || !*s) {
        if (required) {
            *why = what;
            return -EINVAL;
        }
        return 0;
    }
    size_t len = strlen(s);
    if (len > HPARAMS_MAX_STRING)
        return -EMSGSIZE;
    if (!utf8_valid(s, len)) {
        *why = "hparams string is not valid UTF-8";
        return -EILSEQ;
    }
    return 0;
}

static int check_value(const struct hparams_value *v, const char **why)
{
    switch (v->kind) {
    case HPARAMS_NUMBER:
        if (!isfinite(v->number)) {
            *why = "hparams number is NaN or infinite";
            return -EINVAL;
        }
        return 0;
    case HPARAMS_INT:
    case HPARAMS_BOOL:
        return 0;
    case HPARAMS_STRING:
        if (!v->string) {
            *why = "hparams string value is NULL";
            return -EINVAL;
        }
        return check_string(v->string, false, why, NULL);
    }
    *why = "unknown hparams value kind";
    return -EINVAL;
}

/* Fill a protobuf Value that borrows v's string. */
static void set_pb_value(Google__Protobuf__Value *pv, const struct hparams_value *v)
{
    google__protobuf__value__init(pv);
    switch (v->kind) {
    case HPARAMS_NUMBER:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        pv->number_value = v->number;
        break;
    case HPARAMS_INT:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        pv->number_value = (double)v->integer;
        break;
    case HPARAMS_STRING:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        pv->string_value = pbstr(v->string);
        break;
    case HPARAMS_BOOL:
        pv->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        pv->bool_value = v->boolean;
        break;
    }
}

/* The hparams type a value belongs to. */
static enum hparams_type value_type(const struct hparams_value *v)
{
    switch (v->kind) {
    case HPARAMS_STRING: return HPARAMS_TYPE_STRING;
    case HPARAMS_BOOL: return HPARAMS_TYPE_BOOL;
    default: return HPARAMS_TYPE_FLOAT64;
    }
}

static int pack_plugin_data(struct buf *out, Tensorboard__Hparams__HParamsPluginData *pd)
{
    size_t n = tensorboard__hparams__hparams_plugin_data__get_packed_size(pd);
    int r = buf_reserve(out, n);
    if (r < 0)
        return r;
    tensorboard__hparams__hparams_plugin_data__pack(pd, out->data + out->len);
    out->len += n;
    return 0;
}

/* A discrete domain: valid values, all of one type, the hparam's when it
 * has one (TensorBoard needs one type per domain). */
static int check_discrete(const struct hparams_info *h, const char **why)
{
    if (h->n_values > HPARAMS_MAX_DOMAIN_VALUES)
        return -EMSGSIZE;
    if (h->n_values && !h->values) {
        *why = "discrete domain values are NULL";
        return -EINVAL;
    }
    for (size_t j = 0; j < h->n_values; j++) {
        int r = check_value(&h->values[j], why);
        if (r < 0)
            return r;
        enum hparams_type t = value_type(&h->values[j]);
        if (t != value_type(&h->values[0]) || (h->type != HPARAMS_TYPE_UNSET && t != h->type)) {
            *why = "discrete domain values do not all have the hparam's type";
            return -EINVAL;
        }
    }
    return 0;
}

static int check_interval(const struct hparams_info *h, const char **why)
{
    if (!isfinite(h->min_value) || !isfinite(h->max_value) || h->min_value > h->max_value) {
        *why = "interval bounds are not finite with min <= max";
        return -EINVAL;
    }
    if (h->type != HPARAMS_TYPE_UNSET && h->type != HPARAMS_TYPE_FLOAT64) {
        *why = "interval domain on a non-numeric hparam";
        return -EINVAL;
    }
    return 0;
}

/* HParamInfo i of e: its strings, type, a name no earlier one has, and
 * its domain. */
static int check_info(const struct hparams_experiment *e, size_t i, const char **why)
{
    const struct hparams_info *h = &e->hparams[i];
    int r;
    if ((r = check_string(h->name, true, why, "hparam without a name")) < 0 ||
        (r = check_string(h->display_name, false, why, NULL)) < 0 ||
        (r = check_string(h->description, false, why, NULL)) < 0)
        return r;
    if ((unsigned)h->type > HPARAMS_TYPE_FLOAT64) {
        *why = "unknown hparam type";
        return -EINVAL;
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(e->hparams[j].name, h->name) == 0) {
            *why = "duplicate hparam name";
            return -EINVAL;
        }
    }
    switch (h->domain) {
    case HPARAMS_DOMAIN_NONE:
        return 0;
    case HPARAMS_DOMAIN_DISCRETE:
        return check_discrete(h, why);
    case HPARAMS_DOMAIN_INTERVAL:
        return check_interval(h, why);
    }
    *why = "unknown hparam domain";
    return -EINVAL;
}

static int check_metric(const struct hparams_metric *m, const char **why)
{
    int r;
    if ((r = check_string(m->tag, true, why, "metric without a tag")) < 0 ||
        (r = check_string(m->group, false, why, NULL)) < 0 ||
        (r = check_string(m->display_name, false, why, NULL)) < 0 ||
        (r = check_string(m->description, false, why, NULL)) < 0)
        return r;
    if ((unsigned)m->dataset_type > HPARAMS_DATASET_VALIDATION) {
        *why = "unknown metric dataset type";
        return -EINVAL;
    }
    return 0;
}

/* Everything of e, before anything is built. */
static int check_experiment(const struct hparams_experiment *e, const char **why)
{
    int r;
    if ((e->n_hparams && !e->hparams) || (e->n_metrics && !e->metrics)) {
        *why = "hparams array is NULL";
        return -EINVAL;
    }
    if ((r = check_string(e->name, false, why, NULL)) < 0 ||
        (r = check_string(e->description, false, why, NULL)) < 0 ||
        (r = check_string(e->user, false, why, NULL)) < 0)
        return r;
    if (!isfinite(e->time_created_secs)) {
        *why = "time_created_secs is not finite";
        return -EINVAL;
    }
    for (size_t i = 0; i < e->n_hparams; i++)
        if ((r = check_info(e, i, why)) < 0)
            return r;
    for (size_t i = 0; i < e->n_metrics; i++)
        if ((r = check_metric(&e->metrics[i], why)) < 0)
            return r;
    return 0;
}

/* The protobuf-c messages of an Experiment: arrays of the structs, which
 * borrow every string from the caller's hparams_experiment. */
struct experiment_pb {
    Tensorboard__Hparams__HParamInfo *infos, **info_ptrs;
    Google__Protobuf__ListValue *lists;            /* discrete domains */
    Tensorboard__Hparams__Interval *intervals;     /* interval domains */
    Google__Protobuf__Value *values, **value_ptrs; /* every discrete value */
    Tensorboard__Hparams__MetricInfo *metrics, **metric_ptrs;
    Tensorboard__Hparams__MetricName *metric_names;
};

static void experiment_pb_free(struct experiment_pb *pb)
{
    free(pb->infos);
    free(pb->info_ptrs);
    free(pb->lists);
    free(pb->intervals);
    free(pb->values);
    free(pb->value_ptrs);
    free(pb->metrics);
    free(pb->metric_ptrs);
    free(pb->metric_names);
}

/* calloc() that returns non-NULL for n == 0 too. */
static void *calloc_n(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

/* Room for nh hparams, nm metrics and nv discrete values. -ENOMEM. */
static int experiment_pb_alloc(struct experiment_pb *pb, size_t nh, size_t nm, size_t nv)
{
    *pb = (struct experiment_pb){0};
    pb->infos = calloc_n(nh, sizeof *pb->infos);
    pb->info_ptrs = calloc_n(nh, sizeof *pb->info_ptrs);
    pb->lists = calloc_n(nh, sizeof *pb->lists);
    pb->intervals = calloc_n(nh, sizeof *pb->intervals);
    pb->values = calloc_n(nv, sizeof *pb->values);
    pb->value_ptrs = calloc_n(nv, sizeof *pb->value_ptrs);
    pb->metrics = calloc_n(nm, sizeof *pb->metrics);
    pb->metric_ptrs = calloc_n(nm, sizeof *pb->metric_ptrs);
    pb->metric_names = calloc_n(nm, sizeof *pb->metric_names);
    if (!pb->infos || !pb->info_ptrs || !pb->lists || !pb->intervals || !pb->values ||
        !pb->value_ptrs || !pb->metrics || !pb->metric_ptrs || !pb->metric_names) {
        experiment_pb_free(pb);
        return -ENOMEM;
    }
    return 0;
}

/* HParamInfo i from h; its discrete values go from pb->values[*vi] on. */
static void build_info(struct experiment_pb *pb, size_t i, const struct hparams_info *h,
                       size_t *vi)
{
    Tensorboard__Hparams__HParamInfo *pi = &pb->infos[i];
    tensorboard__hparams__hparam_info__init(pi);
    pi->name = pbstr(h->name);
    pi->display_name = pbstr(h->display_name);
    pi->description = pbstr(h->description);
    pi->type = (Tensorboard__Hparams__DataType)h->type;
    if (h->domain == HPARAMS_DOMAIN_DISCRETE) {
        Google__Protobuf__ListValue *l = &pb->lists[i];
        google__protobuf__list_value__init(l);
        l->n_values = h->n_values;
        l->values = pb->value_ptrs + *vi;
        for (size_t j = 0; j < h->n_values; j++, (*vi)++) {
            set_pb_value(&pb->values[*vi], &h->values[j]);
            pb->value_ptrs[*vi] = &pb->values[*vi];
        }
        pi->domain_case = TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_DISCRETE;
        pi->domain_discrete = l;
    } else if (h->domain == HPARAMS_DOMAIN_INTERVAL) {
        Tensorboard__Hparams__Interval *in = &pb->intervals[i];
        tensorboard__hparams__interval__init(in);
        in->min_value = h->min_value;
        in->max_value = h->max_value;
        pi->domain_case = TENSORBOARD__HPARAMS__HPARAM_INFO__DOMAIN_DOMAIN_INTERVAL;
        pi->domain_interval = in;
    }
    pb->info_ptrs[i] = pi;
}

static void build_metric(struct experiment_pb *pb, size_t i, const struct hparams_metric *m)
{
    Tensorboard__Hparams__MetricName *mn = &pb->metric_names[i];
    tensorboard__hparams__metric_name__init(mn);
    mn->group = pbstr(m->group);
    mn->tag = pbstr(m->tag);
    Tensorboard__Hparams__MetricInfo *mi = &pb->metrics[i];
    tensorboard__hparams__metric_info__init(mi);
    mi->name = mn;
    mi->display_name = pbstr(m->display_name);
    mi->description = pbstr(m->description);
    mi->dataset_type = (Tensorboard__Hparams__DatasetType)m->dataset_type;
    pb->metric_ptrs[i] = mi;
}

int hparams_encode_experiment(struct buf *out, const struct hparams_experiment *e,
                              const char **ret_why)
{
    const char *why = NULL;
    if (e->n_hparams > HPARAMS_MAX_HPARAMS || e->n_metrics > HPARAMS_MAX_METRICS)
        return -EMSGSIZE;
    int r = check_experiment(e, &why);
    if (r < 0)
        goto out;

    size_t n_values = 0;
    for (size_t i = 0; i < e->n_hparams; i++)
        if (e->hparams[i].domain == HPARAMS_DOMAIN_DISCRETE)
            n_values += e->hparams[i].n_values;
    struct experiment_pb pb;
    if ((r = experiment_pb_alloc(&pb, e->n_hparams, e->n_metrics, n_values)) < 0)
        goto out;
    size_t vi = 0;
    for (size_t i = 0; i < e->n_hparams; i++)
        build_info(&pb, i, &e->hparams[i], &vi);
    for (size_t i = 0; i < e->n_metrics; i++)
        build_metric(&pb, i, &e->metrics[i]);

    Tensorboard__Hparams__Experiment ex = TENSORBOARD__HPARAMS__EXPERIMENT__INIT;
    ex.name = pbstr(e->name);
    ex.description = pbstr(e->description);
    ex.user = pbstr(e->user);
    ex.time_created_secs = e->time_created_secs;
    ex.n_hparam_infos = e->n_hparams;
    ex.hparam_infos = pb.info_ptrs;
    ex.n_metric_infos = e->n_metrics;
    ex.metric_infos = pb.metric_ptrs;
    Tensorboard__Hparams__HParamsPluginData pd = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    pd.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT;
    pd.experiment = &ex;
    r = pack_plugin_data(out, &pd);
    experiment_pb_free(&pb);
out:
    if (ret_why)
        *ret_why = why;
    return r;
}

static int cmp_kv_name(const void *a, const void *b)
{
    const struct hparams_kv *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Validate kv and return an array of pointers to it sorted by name (caller
 * frees; NULL with n == 0). */
static int sorted_kv(const struct hparams_kv *kv, size_t n,
                     const struct hparams_kv ***ret, const char **why)
{
    *ret = NULL;
    if (n > HPARAMS_MAX_HPARAMS)
        return -EMSGSIZE;
    if (n == 0)
        return 0;
    if (!kv) {
        *why = "hparams array is NULL";
        return -EINVAL;
    }
    int r;
    for (size_t i = 0; i < n; i++) {
        if ((r = check_string(kv[i].name, true, why, "hparam without a name")) < 0 ||
            (r = check_value(&kv[i].value, why)) < 0)
            return r;
    }
    const struct hparams_kv **s = malloc(n * sizeof *s);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        s[i] = &kv[i];
    qsort(s, n, sizeof *s, cmp_kv_name);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(s[i - 1]->name, s[i]->name) == 0) {
            free(s);
            *why = "duplicate hparam name";
            return -EINVAL;
        }
    }
    *ret = s;
    return 0;
}

int hparams_encode_session_start(struct buf *out, const struct hparams_session_start *s,
                                 const char **ret_why)
{
    const char *why = NULL;
    const struct hparams_kv **sorted = NULL;
    Tensorboard__Hparams__SessionStartInfo__HparamsEntry *entries = NULL;
    Tensorboard__Hparams__SessionStartInfo__HparamsEntry **entry_ptrs = NULL;
    Google__Protobuf__Value *values = NULL;
    char group[65];
    int r = sorted_kv(s->hparams, s->n_hparams, &sorted, &why);
    if (r < 0)
        goto out;
    if ((r = check_string(s->model_uri, false, &why, NULL)) < 0 ||
        (r = check_string(s->monitor_url, false, &why, NULL)) < 0 ||
        (r = check_string(s->group_name, false, &why, NULL)) < 0)
        goto out;
    if (!isfinite(s->start_time_secs)) {
        why = "start_time_secs is not finite";
        r = -EINVAL;
        goto out;
    }
    const char *group_name = s->group_name;
    if (!group_name) {
        r = hparams_group_name(group, s->hparams, s->n_hparams);
        if (r < 0)
            goto out;
        group_name = group;
    }

    size_t n = s->n_hparams;
    if (n) {
        entries = calloc(n, sizeof *entries);
        entry_ptrs = calloc(n, sizeof *entry_ptrs);
        values = calloc(n, sizeof *values);
        if (!entries || !entry_ptrs || !values) {
            r = -ENOMEM;
            goto out;
        }
    }
    /* Entries in name order: deterministic bytes whatever the caller's
     * order (protobuf maps have none). */
    for (size_t i = 0; i < n; i++) {
        tensorboard__hparams__session_start_info__hparams_entry__init(&entries[i]);
        entries[i].key = pbstr(sorted[i]->name);
        set_pb_value(&values[i], &sorted[i]->value);
        entries[i].value = &values[i];
        entry_ptrs[i] = &entries[i];
    }
    Tensorboard__Hparams__SessionStartInfo si = TENSORBOARD__HPARAMS__SESSION_START_INFO__INIT;
    si.n_hparams = n;
    si.hparams = entry_ptrs;
    si.model_uri = pbstr(s->model_uri);
    si.monitor_url = pbstr(s->monitor_url);
    si.group_name = pbstr(group_name);
    si.start_time_secs = s->start_time_secs;
    Tensorboard__Hparams__HParamsPluginData pd = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    pd.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO;
    pd.session_start_info = &si;
    r = pack_plugin_data(out, &pd);
out:
    free(sorted);
    free(entries);
    free(entry_ptrs);
    free(values);
    if (ret_why)
        *ret_why = why;
    return r;
}

int hparams_encode_session_end(struct buf *out, enum hparams_status status,
                               double end_time_secs)
{
    if ((unsigned)status > HPARAMS_STATUS_RUNNING || !isfinite(end_time_secs))
        return -EINVAL;
    Tensorboard__Hparams__SessionEndInfo ei = TENSORBOARD__HPARAMS__SESSION_END_INFO__INIT;
    ei.status = (Tensorboard__Hparams__Status)status;
    ei.end_time_secs = end_time_secs;
    Tensorboard__Hparams__HParamsPluginData pd = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__INIT;
    pd.data_case = TENSORBOARD__HPARAMS__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO;
    pd.session_end_info = &ei;
    return pack_plugin_data(out, &pd);
}

/* ---- Python-compatible JSON ------------------------------------------- */

/* Does the decimal m * 10^e (m < 10^18) read back as d? */
static bool reads_back(uint64_t m, int e, double d)
{
    char s[48];
    snprintf(s, sizeof s, "%" PRIu64 "e%d", m, e);
    return strtod(s, NULL) == d;
}

size_t hparams_format_double(char *out, double d)
{
    char *o = out;
    if (signbit(d)) {
        *o++ = '-';
        d = -d;
    }
    if (d == 0) {
        memcpy(o, "0.0", 4);
        return (size_t)(o - out) + 3;
    }

    /* Shortest digit string that reads back as d, as Python's repr (David
     * Gay's shortest mode) finds it: for each precision, the correctly
     * rounded digits, or, at the edge of a binade where the rounding
     * interval is lopsided, a neighbour one unit away that still reads
     * back. */
    uint64_t m = 0;
    int e = 0;   /* d == m * 10^e */
    for (int p = 1; p <= 17; p++) {
        char s[40];
        snprintf(s, sizeof s, "%.*e", p - 1, d);
        char *ep = strchr(s, 'e');
        int x = atoi(ep + 1);
        uint64_t mm = 0;
        for (char *c = s; c < ep; c++)
            if (*c >= '0' && *c <= '9')
                mm = mm * 10 + (uint64_t)(*c - '0');
        int ee = x - (p - 1);
        if (reads_back(mm, ee, d)) {
            m = mm;
            e = ee;
            break;
        }
        if (reads_back(mm + 1, ee, d)) {
            m = mm + 1;
            e = ee;
            break;
        }
        if (mm > 1 && reads_back(mm - 1, ee, d)) {
            m = mm - 1;
            e = ee;
            break;
        }
    }
    /* Digits without trailing zeros and the position of the decimal point
     * (value = 0.DIGITS * 10^decpt). */
    while (m % 10 == 0) {
        m /= 10;
        e++;
    }
    char digits[24];
    int nd = snprintf(digits, sizeof digits, "%" PRIu64, m);
    int decpt = nd + e;

    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            memcpy(o, digits, (size_t)nd);
            o += nd;
        } else if (decpt >= nd) {
            memcpy(o, digits, (size_t)nd);
            o += nd;
            for (int i = nd; i < decpt; i++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, digits + decpt, (size_t)(nd - decpt));
            o += nd - decpt;
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        int x = decpt - 1;
        o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
    return (size_t)(o - out);
}

/* A JSON string the way Python's json.dumps writes it with ensure_ascii:
 * printable ASCII as is except '"' and '\\', the five short escapes, and
 * everything else (controls, DEL, non-ASCII) as \uXXXX in lowercase hex,
 * code points above U+FFFF as a surrogate pair. */
static int json_string(struct buf *out, const char *s)
{
    size_t len = strlen(s);
    int r = buf_reserve(out, 2 + len);
    if (r < 0)
        return r;
    out->data[out->len++] = '"';
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        const char *piece = esc;
        size_t plen;
        if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') {
            esc[0] = (char)c;
            plen = 1;
            i++;
        } else if (c < 0x80) {
            i++;
            switch (c) {
            case '"': piece = "\\\""; break;
            case '\\': piece = "\\\\"; break;
            case '\n': piece = "\\n"; break;
            case '\r': piece = "\\r"; break;
            case '\t': piece = "\\t"; break;
            case '\b': piece = "\\b"; break;
            case '\f': piece = "\\f"; break;
            default: snprintf(esc, sizeof esc, "\\u%04x", c); break;
            }
            plen = strlen(piece);
        } else {
            unsigned cp;
            int n = utf8_decode(s + i, len - i, &cp);
            if (n < 0)
                return -EILSEQ;
            i += (size_t)n;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
                         0xDC00 + (cp & 0x3FF));
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", cp);
            }
            plen = strlen(esc);
        }
        r = buf_append(out, piece, plen);
        if (r < 0)
            return r;
    }
    return buf_append(out, "\"", 1);
}

int hparams_json(struct buf *out, const struct hparams_kv *kv, size_t n)
{
    const char *why = NULL;
    const struct hparams_kv **sorted = NULL;
    size_t start = out->len;
    int r = sorted_kv(kv, n, &sorted, &why);
    if (r < 0)
        return r;
    r = buf_append(out, "{", 1);
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct hparams_value *v = &sorted[i]->value;
        char num[48];
        if (i && (r = buf_append(out, ",", 1)) < 0)
            break;
        if ((r = json_string(out, sorted[i]->name)) < 0 || (r = buf_append(out, ":", 1)) < 0)
            break;
        switch (v->kind) {
        case HPARAMS_NUMBER:
            r = buf_append(out, num, hparams_format_double(num, v->number));
            break;
        case HPARAMS_INT:
            r = buf_append(out, num, (size_t)snprintf(num, sizeof num, "%" PRId64, v->integer));
            break;
        case HPARAMS_STRING:
            r = json_string(out, v->string);
            break;
        case HPARAMS_BOOL:
            r = buf_append_str(out, v->boolean ? "true" : "false");
            break;
        }
    }
    if (r == 0)
        r = buf_append(out, "}", 1);
    free(sorted);
    if (r < 0)
        out->len = start;
    return r;
}

int hparams_group_name(char out[65], const struct hparams_kv *kv, size_t n)
{
    struct buf json;
    buf_init(&json, BUF_NO_CAP);
    int r = hparams_json(&json, kv, n);
    if (r < 0)
        goto out;
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, json.len, json.data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[64] = '\0';
out:
    buf_free(&json);
    return r;
}
