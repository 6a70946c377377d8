/* The wire format, one JSON object per line (docs/protocol.md):
 *
 *   {"v":1,"op":"log","id":7,"logdir":"exp1","step":3,"wall_time":1700000000.25,
 *    "values":{"loss":0.5,"train":{"acc":0.9},"img":{"$image":{"png":"iVBOR..."}}}}
 *
 * Every field is checked against the op's list of allowed fields, so a
 * typo is an error rather than silently ignored data.
 *
 * The decoder is a translator: it turns the cJSON tree into the
 * tfevents.Request a binary client would send for the same line (built in
 * memory with protobuf-c's structs, never serialized) and hands it to
 * frame_decode_fields(), which checks, normalises and builds the summary
 * values for both protocols. What stays here is what only JSON has: the
 * allowed fields of each op and typed value, JSON types, base64, nested
 * arrays and their shape, the "NaN"/"Infinity" spellings, "step":
 * "current", the id's text and runs as nested objects.
 *
 * Where a JSON value cannot be carried by the Request as it is (a step of
 * 1.5, a "status" of "meh"), the translator puts a value the shared check
 * refuses (a step above 2^53, status 99) instead of refusing it itself, so
 * that the sentence is the one a binary client gets for the same mistake.
 * The Request borrows the tree's strings; what it needs besides (arrays,
 * decoded base64) is owned by the translation and freed with it
 * (json_read.h). Typed values are json_typed.c's. */
#include "json_decode.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_fast.h"
#include "json_kinds.h"
#include "frame_decode.h"
#include "json_nonfinite.h"
#include "json_read.h"
#include "json_typed.h"
#include "hparams.h"
#include "utf8.h"

enum field {
    F_V = 1u << 0,
    F_OP = 1u << 1,
    F_ID = 1u << 2,
    F_LOGDIR = 1u << 3,
    F_STEP = 1u << 4,
    F_WALL_TIME = 1u << 5,
    F_VALUES = 1u << 6,
    F_RUN = 1u << 7,
    F_SYNC = 1u << 8,
    F_HPARAMS = 1u << 9,
    F_METRICS = 1u << 10,
    F_GROUP_NAME = 1u << 11,
    F_STATUS = 1u << 12,
    F_TIME = 1u << 13,        /* start_time_secs / end_time_secs / time_created_secs */
    F_DESCRIPTION = 1u << 14, /* experiment name/description/user, model_uri, monitor_url */
    F_EMBEDDING = 1u << 15,
    F_GRAPH_DEF = 1u << 16,
    F_RUN_METADATA = 1u << 17,
    F_TAG = 1u << 18,
};

static const struct {
    const char *name;
    unsigned bit;
} field_names[] = {
    {"v", F_V},
    {"op", F_OP},
    {"id", F_ID},
    {"logdir", F_LOGDIR},
    {"step", F_STEP},
    {"wall_time", F_WALL_TIME},
    {"values", F_VALUES},
    {"run", F_RUN},
    {"sync", F_SYNC},
    {"hparams", F_HPARAMS},
    {"metrics", F_METRICS},
    {"group_name", F_GROUP_NAME},
    {"status", F_STATUS},
    {"time_created_secs", F_TIME},
    {"start_time_secs", F_TIME},
    {"end_time_secs", F_TIME},
    {"name", F_DESCRIPTION},
    {"description", F_DESCRIPTION},
    {"user", F_DESCRIPTION},
    {"model_uri", F_DESCRIPTION},
    {"monitor_url", F_DESCRIPTION},
    {"embedding", F_EMBEDDING},
    {"graph_def", F_GRAPH_DEF},
    {"run_metadata", F_RUN_METADATA},
    {"tag", F_TAG},
};

#define COMMON (F_V | F_OP | F_ID)

static const struct {
    const char *name;
    enum request_op op;
    unsigned allowed;
    unsigned required;
} ops[] = {
    {"log", REQUEST_LOG, COMMON | F_LOGDIR | F_STEP | F_WALL_TIME | F_VALUES,
     F_LOGDIR | F_VALUES},
    {"step_get", REQUEST_STEP_GET, COMMON | F_LOGDIR, F_LOGDIR},
    {"step_set", REQUEST_STEP_SET, COMMON | F_LOGDIR | F_STEP, F_LOGDIR | F_STEP},
    {"flush", REQUEST_FLUSH, COMMON | F_LOGDIR | F_SYNC, 0},
    {"hparams_config", REQUEST_HPARAMS_CONFIG,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_HPARAMS | F_METRICS | F_TIME | F_DESCRIPTION,
     F_LOGDIR | F_HPARAMS},
    {"hparams_session_start", REQUEST_HPARAMS_SESSION_START,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_HPARAMS | F_GROUP_NAME | F_TIME |
         F_DESCRIPTION,
     F_LOGDIR | F_HPARAMS},
    {"hparams_session_end", REQUEST_HPARAMS_SESSION_END,
     COMMON | F_LOGDIR | F_RUN | F_WALL_TIME | F_STATUS | F_TIME, F_LOGDIR | F_STATUS},
    {"restart", REQUEST_RESTART, COMMON | F_LOGDIR | F_RUN | F_STEP | F_WALL_TIME,
     F_LOGDIR | F_STEP},
    {"close", REQUEST_CLOSE, COMMON | F_LOGDIR | F_SYNC, 0},
    {"ping", REQUEST_PING, COMMON, 0},
    {"stats", REQUEST_STATS, COMMON, 0},
    {"embedding", REQUEST_EMBEDDING, COMMON | F_LOGDIR | F_RUN | F_STEP | F_EMBEDDING,
     F_LOGDIR | F_EMBEDDING},
    {"graph", REQUEST_GRAPH,
     COMMON | F_LOGDIR | F_RUN | F_STEP | F_WALL_TIME | F_GRAPH_DEF | F_RUN_METADATA | F_TAG,
     F_LOGDIR},
};

/* ---- values ------------------------------------------------------------- */

/* A new Value in run (borrowed; NULL for the logdir itself) named tag
 * (borrowed), or NULL when the log already holds more values than a
 * request may: the walk stops there and the shared check refuses them. */
static int add_value(struct json_read *c, char *run, char *tag, Tfevents__Value **ret)
{
    static const Tfevents__Value init = TFEVENTS__VALUE__INIT;
    *ret = NULL;
    if (c->n_values > REQUEST_MAX_VALUES)
        return 0;
    if (c->n_values == c->cap_values) {
        /* Grown by copying: the old array stays the translation's. */
        size_t cap = c->cap_values ? c->cap_values * 2 : 16;
        Tfevents__Value **v = json_read_alloc(c, cap, sizeof *v);
        if (!v)
            return FAIL(-ENOMEM, "out of memory");
        if (c->n_values)
            memcpy(v, c->values, c->n_values * sizeof *v);
        c->values = v;
        c->cap_values = cap;
    }
    Tfevents__Value *v = NEW(c, Tfevents__Value, init);
    if (!v)
        return FAIL(-ENOMEM, "out of memory");
    v->run = run;
    v->tag = tag;
    c->values[c->n_values++] = v;
    *ret = v;
    return 0;
}

static int values_of(struct json_read *c, const cJSON *obj, const char *run);

/* A run: one path component, normalised together with its parent. */
static int run_of(struct json_read *c, const cJSON *it, const char *run)
{
    const char *key = it->string;
    if (!utf8_valid(key, strlen(key)))
        return FAIL(-EILSEQ, "a run name (in run '%.64s') is not valid UTF-8", run);
    if (strchr(key, '/') || strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
        return FAIL_AT(-EINVAL, "run name", key,
                       "a run is one directory name, without '/', '.' or '..'");
    char path[LOGDIR_MAX_NAME + 1], norm[LOGDIR_MAX_NAME + 1];
    int k = strcmp(run, ".") == 0 ? snprintf(path, sizeof path, "%s", key)
                                  : snprintf(path, sizeof path, "%s/%s", run, key);
    const char *why = "name too long";
    if (k < 0 || (size_t)k >= sizeof path ||
        logdir_normalize(path, (size_t)k, norm, LOGDIR_MAX_NAME + 1, &why) < 0)
        return FAIL_AT(-EINVAL, "run name", key, "%s", why);
    if (!it->child)
        return FAIL_AT(-EINVAL, "run", norm, "a run holds no values");
    char *own = json_read_alloc(c, strlen(norm) + 1, 1);
    if (!own)
        return FAIL(-ENOMEM, "out of memory");
    return values_of(c, it, strcpy(own, norm));
}

/* The values (or runs) inside obj, all in run. */
static int values_of(struct json_read *c, const cJSON *obj, const char *run)
{
    if (++c->depth > REQUEST_MAX_RUN_DEPTH)
        return FAIL(-EINVAL, "runs nested deeper than %u", REQUEST_MAX_RUN_DEPTH);
    char *vrun = strcmp(run, ".") == 0 ? NULL : (char *)run;
    for (const cJSON *it = obj->child; it && c->n_values <= REQUEST_MAX_VALUES; it = it->next) {
        char *key = it->string;
        Tfevents__Value *v;
        int r = 0;
        if (!*key)
            return FAIL(-EINVAL, "empty name in \"values\" (in run '%.64s')", run);
        if (key[0] == '$')
            return FAIL_AT(-EINVAL, "value", key, REQUEST_SAY_RESERVED);
        bool typed = cJSON_IsObject(it) && it->child && it->child->string[0] == '$';
        if (cJSON_IsObject(it) && !typed) {
            r = run_of(c, it, run);
        } else if (cJSON_IsNumber(it) || cJSON_IsString(it) || typed) {
            if ((r = add_value(c, vrun, key, &v)) < 0 || !v)
                return r;
            if (typed) {
                r = json_typed_value(c, it, key, v);
            } else if (cJSON_IsNumber(it)) {
                v->kind_case = TFEVENTS__VALUE__KIND_SCALAR;
                v->scalar = it->valuedouble;
            } else {
                static const Tfevents__Text init = TFEVENTS__TEXT__INIT;
                v->kind_case = TFEVENTS__VALUE__KIND_TEXT;
                if (!(v->text = NEW(c, Tfevents__Text, init)) ||
                    !(v->text->strings = json_read_alloc(c, 1, sizeof *v->text->strings)))
                    return FAIL(-ENOMEM, "out of memory");
                v->text->strings[0] = it->valuestring;
                v->text->n_strings = 1;
            }
        } else if (cJSON_IsBool(it)) {
            r = FAIL_AT(-EINVAL, "value", key,
                        "true/false is not a value kind (send 1 or 0 as a number)");
        } else if (cJSON_IsNull(it)) {
            r = FAIL_AT(-EINVAL, "value", key, "null is not a value");
        } else {
            r = FAIL_AT(-EINVAL, "value", key,
                        "an array is not a value (use {\"$histogram\": {\"values\": [...]}} "
                        "or another typed value)");
        }
        if (r < 0)
            return r;
    }
    c->depth--;
    return 0;
}

/* ---- hparams -------------------------------------------------------------- */

/* A JSON value as an HparamValue; one of another kind is left unset, which
 * the shared check refuses. */
static Tfevents__HparamValue *hparam_value(struct json_read *c, const cJSON *it)
{
    static const Tfevents__HparamValue init = TFEVENTS__HPARAM_VALUE__INIT;
    Tfevents__HparamValue *hv = NEW(c, Tfevents__HparamValue, init);
    if (!hv)
        return NULL;
    if (cJSON_IsBool(it)) {
        hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_BOOLEAN;
        hv->boolean = cJSON_IsTrue(it);
    } else if (cJSON_IsString(it)) {
        hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_STRING;
        hv->string = it->valuestring;
    } else if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        /* JSON does not tell 1 from 1.0 once parsed; an integral number
         * of safe size is taken as an int (as Python would read "1"). */
        if (isfinite(d) && floor(d) == d && fabs(d) <= (double)REQUEST_MAX_STEP) {
            hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_INTEGER;
            hv->integer = (int64_t)d;
        } else {
            hv->kind_case = TFEVENTS__HPARAM_VALUE__KIND_NUMBER;
            hv->number = d;
        }
    }
    return hv;
}

static int session_start(struct json_read *c, const cJSON *root, Tfevents__HparamsSessionStart *q)
{
    static const Tfevents__Hparam init = TFEVENTS__HPARAM__INIT;
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    if (!cJSON_IsObject(hp))
        return FAIL(-EINVAL, "\"hparams\" must be an object of name: value");
    size_t n = (size_t)cJSON_GetArraySize(hp);
    if (!(q->hparams = json_read_alloc(c, n, sizeof *q->hparams)))
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *it = hp->child; it; it = it->next) {
        Tfevents__Hparam *h = NEW(c, Tfevents__Hparam, init);
        if (!h || !(h->value = hparam_value(c, it)))
            return FAIL(-ENOMEM, "out of memory");
        h->name = it->string;
        q->hparams[q->n_hparams++] = h;
    }
    const char *w = "hparams_session_start";
    int r;
    if ((r = json_read_string(c, root, "group_name", w, &q->group_name)) < 0 ||
        (r = json_read_string(c, root, "model_uri", w, &q->model_uri)) < 0 ||
        (r = json_read_string(c, root, "monitor_url", w, &q->monitor_url)) < 0)
        return r;
    return json_read_number(c, root, "start_time_secs", w, &q->has_start_time_secs,
                      &q->start_time_secs);
}

static int hparams_type_of(const char *s)
{
    if (strcmp(s, "string") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_STRING;
    if (strcmp(s, "bool") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_BOOL;
    if (strcmp(s, "float") == 0 || strcmp(s, "number") == 0)
        return TFEVENTS__HPARAM_TYPE__HPARAM_TYPE_FLOAT64;
    return JSON_READ_POISON_ENUM;
}

/* One item of hparams_config's "hparams". */
static int experiment_hparam(struct json_read *c, const cJSON *it, Tfevents__HparamInfo **ret)
{
    static const char *const keys[] = {"name", "type", "display_name", "description",
                                       "values", "min", "max", NULL};
    static const Tfevents__HparamInfo init = TFEVENTS__HPARAM_INFO__INIT;
    const char *w = "hparams item";
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"hparams\" items must be objects");
    Tfevents__HparamInfo *h = *ret = NEW(c, Tfevents__HparamInfo, init);
    if (!h)
        return FAIL(-ENOMEM, "out of memory");
    char *type = NULL;
    int r;
    if ((r = json_read_keys(c, it, w, keys)) < 0 ||
        (r = json_read_string(c, it, "name", w, &h->name)) < 0 ||
        (r = json_read_string(c, it, "display_name", w, &h->display_name)) < 0 ||
        (r = json_read_string(c, it, "description", w, &h->description)) < 0 ||
        (r = json_read_string(c, it, "type", w, &type)) < 0 ||
        (r = json_read_number(c, it, "min", w, &h->has_min, &h->min)) < 0 ||
        (r = json_read_number(c, it, "max", w, &h->has_max, &h->max)) < 0)
        return r;
    if (!h->name)
        return FAIL(-EINVAL, "every hparams item needs a \"name\"");
    if (type) {
        h->has_type = true;
        h->type = hparams_type_of(type);
    }
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(it, "values");
    if (!vals)
        return 0;
    if (!cJSON_IsArray(vals))
        return FAIL_AT(-EINVAL, "hparam", h->name, "\"values\" must be an array");
    size_t n = (size_t)cJSON_GetArraySize(vals);
    if (!(h->values = json_read_alloc(c, n, sizeof *h->values)))
        return FAIL(-ENOMEM, "out of memory");
    for (const cJSON *e = vals->child; e; e = e->next)
        if (!(h->values[h->n_values++] = hparam_value(c, e)))
            return FAIL(-ENOMEM, "out of memory");
    return 0;
}

/* One item of hparams_config's "metrics". */
static int experiment_metric(struct json_read *c, const cJSON *it, Tfevents__MetricInfo **ret)
{
    static const char *const keys[] = {"tag", "group", "display_name", "description",
                                       "dataset_type", NULL};
    static const Tfevents__MetricInfo init = TFEVENTS__METRIC_INFO__INIT;
    const char *w = "metrics item";
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"metrics\" items must be objects");
    Tfevents__MetricInfo *m = *ret = NEW(c, Tfevents__MetricInfo, init);
    if (!m)
        return FAIL(-ENOMEM, "out of memory");
    char *ds = NULL;
    int r;
    if ((r = json_read_keys(c, it, w, keys)) < 0 ||
        (r = json_read_string(c, it, "tag", w, &m->tag)) < 0 ||
        (r = json_read_string(c, it, "group", w, &m->group)) < 0 ||
        (r = json_read_string(c, it, "display_name", w, &m->display_name)) < 0 ||
        (r = json_read_string(c, it, "description", w, &m->description)) < 0 ||
        (r = json_read_string(c, it, "dataset_type", w, &ds)) < 0)
        return r;
    if (!m->tag)
        return FAIL(-EINVAL, "every metrics item needs a \"tag\"");
    if (ds) {
        m->has_dataset_type = true;
        m->dataset_type = JSON_READ_POISON_ENUM;
        if (strcmp(ds, "training") == 0)
            m->dataset_type = TFEVENTS__DATASET_TYPE__DATASET_TRAINING;
        else if (strcmp(ds, "validation") == 0)
            m->dataset_type = TFEVENTS__DATASET_TYPE__DATASET_VALIDATION;
    }
    return 0;
}

static int experiment(struct json_read *c, const cJSON *root, Tfevents__HparamsConfig *q)
{
    const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hparams");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "metrics");
    if (!cJSON_IsArray(hp))
        return FAIL(-EINVAL, "\"hparams\" must be an array of {\"name\": ...} objects");
    if (mt && !cJSON_IsArray(mt))
        return FAIL(-EINVAL, "\"metrics\" must be an array of {\"tag\": ...} objects");
    size_t nh = (size_t)cJSON_GetArraySize(hp), nm = mt ? (size_t)cJSON_GetArraySize(mt) : 0;
    q->hparams = json_read_alloc(c, nh, sizeof *q->hparams);
    q->metrics = json_read_alloc(c, nm, sizeof *q->metrics);
    if (!q->hparams || !q->metrics)
        return FAIL(-ENOMEM, "out of memory");
    int r = 0;
    for (const cJSON *it = hp->child; it && r == 0; it = it->next)
        r = experiment_hparam(c, it, &q->hparams[q->n_hparams++]);
    for (const cJSON *it = mt ? mt->child : NULL; it && r == 0; it = it->next)
        r = experiment_metric(c, it, &q->metrics[q->n_metrics++]);
    const char *w = "hparams_config";
    if (r < 0 || (r = json_read_string(c, root, "name", w, &q->name)) < 0 ||
        (r = json_read_string(c, root, "description", w, &q->description)) < 0 ||
        (r = json_read_string(c, root, "user", w, &q->user)) < 0)
        return r;
    return json_read_number(c, root, "time_created_secs", w, &q->has_time_created_secs,
                      &q->time_created_secs);
}

static int session_end(struct json_read *c, const cJSON *root, Tfevents__HparamsSessionEnd *q)
{
    static const char *const names[] = {"unknown", "success", "failure", "running"};
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    q->status = JSON_READ_POISON_ENUM;
    for (int i = 0; cJSON_IsString(st) && i < 4; i++)
        if (strcmp(st->valuestring, names[i]) == 0)
            q->status = i;
    return json_read_number(c, root, "end_time_secs", "hparams_session_end", &q->has_end_time_secs,
                      &q->end_time_secs);
}

/* ---- the envelope ------------------------------------------------------- */

static int read_id(struct json_read *c, const cJSON *id)
{
    if (!cJSON_IsNumber(id) && !cJSON_IsString(id))
        return FAIL(-EINVAL, "\"id\" must be a number or a string");
    if (cJSON_IsNumber(id) && !isfinite(id->valuedouble))
        return FAIL(-EINVAL, "\"id\" must be finite");
    /* It is echoed in the reply, which must stay valid UTF-8 JSON: the
     * refusal then goes without an id. */
    if (cJSON_IsString(id) && !utf8_valid(id->valuestring, strlen(id->valuestring)))
        return FAIL(-EILSEQ, "\"id\" is not valid UTF-8");
    char *text = cJSON_PrintUnformatted(id);
    if (!text)
        return FAIL(-ENOMEM, "out of memory");
    size_t len = strlen(text);
    if (len > REQUEST_MAX_ID) {
        cJSON_free(text);
        return FAIL(-EMSGSIZE, "\"id\" is longer than %u bytes", REQUEST_MAX_ID);
    }
    memcpy(c->m->id, text, len + 1);
    c->m->has_id = true;
    cJSON_free(text);
    return 0;
}

/* Which op, with every field allowed for it and every one it needs. */
static int check_fields(struct json_read *c, const cJSON *root, size_t *ret_op)
{
    unsigned seen = 0;
    const cJSON *op = NULL;
    for (const cJSON *it = root->child; it; it = it->next) {
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if (strcmp(it->string, field_names[i].name) == 0)
                bit = field_names[i].bit;
        if (!bit)
            return FAIL(-EINVAL, "unknown field \"%s\"", it->string);
        for (const cJSON *p = root->child; p != it; p = p->next)
            if (strcmp(p->string, it->string) == 0)
                return FAIL(-EINVAL, "field \"%s\" given twice", it->string);
        seen |= bit;
        if (bit == F_OP)
            op = it;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "v");
    if (v && !(cJSON_IsNumber(v) && v->valuedouble == PROTOCOL_VERSION))
        return FAIL(-EINVAL, "unsupported protocol version (\"v\" must be %d)", PROTOCOL_VERSION);
    size_t opi = 0, nops = sizeof ops / sizeof ops[0];
    if (op && !cJSON_IsString(op))
        return FAIL(-EINVAL, "\"op\" must be a string");
    while (op && opi < nops && strcmp(ops[opi].name, op->valuestring) != 0)
        opi++;
    if (opi == nops)
        return FAIL(-EINVAL,
                    "unknown op \"%.64s\" (known: log, step_get, step_set, flush, "
                    "hparams_config, hparams_session_start, hparams_session_end, restart, "
                    "close, ping, stats, embedding, graph)",
                    op->valuestring);
    c->m->op = ops[opi].op;
    unsigned extra = seen & ~ops[opi].allowed, missing = ops[opi].required & ~seen;
    for (size_t i = 0; extra && i < sizeof field_names / sizeof field_names[0]; i++)
        if ((extra & field_names[i].bit) &&
            cJSON_GetObjectItemCaseSensitive(root, field_names[i].name))
            return FAIL(-EINVAL, "field \"%s\" does not belong to op \"%s\"",
                        field_names[i].name, ops[opi].name);
    for (size_t i = 0; missing && i < sizeof field_names / sizeof field_names[0]; i++)
        if (missing & field_names[i].bit)
            return FAIL(-EINVAL, "op \"%s\" needs \"%s\"", ops[opi].name, field_names[i].name);
    *ret_op = opi;
    return 0;
}

/* The fields several ops share, as the Request spells them. */
struct common {
    char *logdir, *run;
    const cJSON *step;
    protobuf_c_boolean has_wall_time, has_sync;
    double wall_time;
    protobuf_c_boolean sync;
};

static int read_common(struct json_read *c, const cJSON *root, struct common *f)
{
    const cJSON *it;
    memset(f, 0, sizeof *f);
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "logdir"))) {
        if (!cJSON_IsString(it))
            return FAIL(-EINVAL, "\"logdir\" must be a string");
        f->logdir = it->valuestring;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "run"))) {
        if (!cJSON_IsString(it))
            return FAIL(-EINVAL, "\"run\" must be a string");
        f->run = it->valuestring;
    }
    f->step = cJSON_GetObjectItemCaseSensitive(root, "step");
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "wall_time"))) {
        f->has_wall_time = true;
        f->wall_time = cJSON_IsNumber(it) ? it->valuedouble : NAN;   /* refused there */
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "sync"))) {
        if (!cJSON_IsBool(it))
            return FAIL(-EINVAL, "\"sync\" must be true or false");
        f->has_sync = true;
        f->sync = cJSON_IsTrue(it);
    }
    return 0;
}

static int translate_log(struct json_read *c, const cJSON *root, const struct common *f,
                         Tfevents__Request *rq)
{
    static const Tfevents__Log init = TFEVENTS__LOG__INIT;
    Tfevents__Log *q = NEW(c, Tfevents__Log, init);
    if (!q)
        return FAIL(-ENOMEM, "out of memory");
    rq->op_case = TFEVENTS__REQUEST__OP_LOG;
    rq->log = q;
    q->logdir = f->logdir;
    q->has_wall_time = f->has_wall_time;
    q->wall_time = f->wall_time;
    if (cJSON_IsString(f->step) && strcmp(f->step->valuestring, "current") == 0) {
        q->step_kind_case = TFEVENTS__LOG__STEP_KIND_CURRENT;
        q->current = true;
    } else if (f->step) {
        q->step_kind_case = TFEVENTS__LOG__STEP_KIND_STEP;
        q->step = json_read_u64(f->step);
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "values");
    if (!cJSON_IsObject(it))
        return FAIL(-EINVAL, "\"values\" must be an object of name: value");
    c->depth = 0;
    int r = values_of(c, it, ".");
    q->values = c->values;
    q->n_values = c->n_values;
    return r;
}

/* The hparams ops: their own message, with the envelope's fields. */
#define HPARAMS_OP(c, rq, type, init, field, CASE, f, q)  \
    do {                                                   \
        static const type init_ = init;                    \
        if (!((q) = NEW(c, type, init_)))                  \
            return FAIL(-ENOMEM, "out of memory");         \
        (rq)->op_case = CASE;                              \
        (rq)->field = (q);                                 \
        (q)->logdir = (f)->logdir;                         \
        (q)->run = (f)->run;                               \
        (q)->has_wall_time = (f)->has_wall_time;           \
        (q)->wall_time = (f)->wall_time;                   \
    } while (0)

static int translate_hparams(struct json_read *c, const cJSON *root, const struct common *f,
                             Tfevents__Request *rq)
{
    Tfevents__HparamsConfig *hc;
    Tfevents__HparamsSessionStart *hs;
    Tfevents__HparamsSessionEnd *he;
    switch (c->m->op) {
    case REQUEST_HPARAMS_CONFIG:
        HPARAMS_OP(c, rq, Tfevents__HparamsConfig, TFEVENTS__HPARAMS_CONFIG__INIT,
                   hparams_config, TFEVENTS__REQUEST__OP_HPARAMS_CONFIG, f, hc);
        return experiment(c, root, hc);
    case REQUEST_HPARAMS_SESSION_START:
        HPARAMS_OP(c, rq, Tfevents__HparamsSessionStart, TFEVENTS__HPARAMS_SESSION_START__INIT,
                   hparams_session_start, TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START, f, hs);
        return session_start(c, root, hs);
    default:
        HPARAMS_OP(c, rq, Tfevents__HparamsSessionEnd, TFEVENTS__HPARAMS_SESSION_END__INIT,
                   hparams_session_end, TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END, f, he);
        return session_end(c, root, he);
    }
}

/* The ops without values. */
static int translate_plain(struct json_read *c, const struct common *f, Tfevents__Request *rq)
{
    static const Tfevents__StepGet sg0 = TFEVENTS__STEP_GET__INIT;
    static const Tfevents__StepSet ss0 = TFEVENTS__STEP_SET__INIT;
    static const Tfevents__Flush fl0 = TFEVENTS__FLUSH__INIT;
    static const Tfevents__Restart rs0 = TFEVENTS__RESTART__INIT;
    static const Tfevents__Empty em0 = TFEVENTS__EMPTY__INIT;
    bool ok;
    switch (c->m->op) {
    case REQUEST_STEP_GET:
        rq->op_case = TFEVENTS__REQUEST__OP_STEP_GET;
        if ((ok = (rq->step_get = NEW(c, Tfevents__StepGet, sg0)) != NULL))
            rq->step_get->logdir = f->logdir;
        break;
    case REQUEST_STEP_SET:
        rq->op_case = TFEVENTS__REQUEST__OP_STEP_SET;
        if ((ok = (rq->step_set = NEW(c, Tfevents__StepSet, ss0)) != NULL)) {
            rq->step_set->logdir = f->logdir;
            rq->step_set->step = json_read_i64(f->step);
        }
        break;
    case REQUEST_FLUSH:
    case REQUEST_CLOSE: {
        Tfevents__Flush *q = NEW(c, Tfevents__Flush, fl0);
        bool flush = c->m->op == REQUEST_FLUSH;
        rq->op_case = flush ? TFEVENTS__REQUEST__OP_FLUSH : TFEVENTS__REQUEST__OP_CLOSE;
        *(flush ? &rq->flush : &rq->close) = q;
        if ((ok = q != NULL)) {
            q->logdir = f->logdir;
            q->has_sync = f->has_sync;
            q->sync = f->sync;
        }
        break;
    }
    case REQUEST_RESTART:
        rq->op_case = TFEVENTS__REQUEST__OP_RESTART;
        if ((ok = (rq->restart = NEW(c, Tfevents__Restart, rs0)) != NULL)) {
            rq->restart->logdir = f->logdir;
            rq->restart->step = json_read_u64(f->step);
            rq->restart->run = f->run;
            rq->restart->has_wall_time = f->has_wall_time;
            rq->restart->wall_time = f->wall_time;
        }
        break;
    default: {
        Tfevents__Empty *e = NEW(c, Tfevents__Empty, em0);
        bool ping = c->m->op == REQUEST_PING;
        rq->op_case = ping ? TFEVENTS__REQUEST__OP_PING : TFEVENTS__REQUEST__OP_STATS;
        *(ping ? &rq->ping : &rq->stats) = e;
        ok = e != NULL;
        break;
    }
    }
    return ok ? 0 : FAIL(-ENOMEM, "out of memory");
}

static int translate_embedding(struct json_read *c, const cJSON *root, const struct common *f,
                               Tfevents__Request *rq)
{
    static const Tfevents__Embedding init = TFEVENTS__EMBEDDING__INIT;
    Tfevents__Embedding *q = NEW(c, Tfevents__Embedding, init);
    if (!q)
        return FAIL(-ENOMEM, "out of memory");
    rq->op_case = TFEVENTS__REQUEST__OP_EMBEDDING;
    rq->embedding = q;
    q->logdir = f->logdir;
    q->run = f->run;
    if (f->step) {
        if (!cJSON_IsNumber(f->step) ||
            !json_read_is_integer(f->step->valuedouble, (double)PROJECTOR_MAX_STEP))
            return FAIL(-EINVAL, "\"step\" of an embedding must be an integer from 0 to "
                                 "%lld", (long long)PROJECTOR_MAX_STEP);
        q->has_step = true;
        q->step = (uint64_t)f->step->valuedouble;
    }
    return json_kinds_embedding(c, cJSON_GetObjectItemCaseSensitive(root, "embedding"), q);
}

/* {"op":"graph", "graph_def": base64} or {"op":"graph", "tag",
 * "run_metadata": base64}: the bytes decoded, every check left to
 * frame_kinds_graph(). */
static int translate_graph(struct json_read *c, const cJSON *root, const struct common *f,
                           Tfevents__Request *rq)
{
    static const Tfevents__Graph init = TFEVENTS__GRAPH__INIT;
    Tfevents__Graph *q = NEW(c, Tfevents__Graph, init);
    if (!q)
        return FAIL(-ENOMEM, "out of memory");
    rq->op_case = TFEVENTS__REQUEST__OP_GRAPH;
    rq->graph = q;
    q->logdir = f->logdir;
    q->run = f->run;
    q->has_wall_time = f->has_wall_time;
    q->wall_time = f->wall_time;
    if (f->step) {
        if (!cJSON_IsNumber(f->step) ||
            !json_read_is_integer(f->step->valuedouble, (double)REQUEST_MAX_STEP))
            return FAIL(-EINVAL, "\"step\" must be an integer from 0 to 2^53");
        q->has_step = true;
        q->step = (uint64_t)f->step->valuedouble;
    }
    int r = json_read_string(c, root, "tag", "graph", &q->tag);
    if (r < 0)
        return r;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(root, "graph_def");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "run_metadata");
    if (def && (r = json_read_base64(c, def, "\"graph_def\"", &q->graph_def)) < 0)
        return r;
    if (md && (r = json_read_base64(c, md, "\"run_metadata\"", &q->run_metadata)) < 0)
        return r;
    q->has_graph_def = def != NULL;
    q->has_run_metadata = md != NULL;
    return 0;
}

/* The line as the Request a binary client would send for it. */
static int translate(struct json_read *c, const cJSON *root, Tfevents__Request *rq)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    size_t opi;
    struct common f;
    int r;
    /* The id first, so that every error can carry it. */
    if ((id && (r = read_id(c, id)) < 0) || (r = check_fields(c, root, &opi)) < 0 ||
        (r = read_common(c, root, &f)) < 0)
        return r;
    switch (c->m->op) {
    case REQUEST_LOG:
        return translate_log(c, root, &f, rq);
    case REQUEST_HPARAMS_CONFIG:
    case REQUEST_HPARAMS_SESSION_START:
    case REQUEST_HPARAMS_SESSION_END:
        return translate_hparams(c, root, &f, rq);
    case REQUEST_EMBEDDING:
        return translate_embedding(c, root, &f, rq);
    case REQUEST_GRAPH:
        return translate_graph(c, root, &f, rq);
    default:
        return translate_plain(c, &f, rq);
    }
}

int jd_decode(struct request *m, const char *line, size_t len, char *err, size_t err_size)
{
    if (jd_decode_fast(m, line, len) == 0) {
        err[0] = '\0';
        return 0;
    }
    return jd_decode_full(m, line, len, err, err_size);
}

int jd_decode_full(struct request *m, const char *line, size_t len, char *err, size_t err_size)
{
    struct json_read cx = {.m = m, .err = err, .err_size = err_size}, *c = &cx;
    request_recycle(m);
    err[0] = '\0';
    /* Bare NaN and infinities (an extension of JSON) are parsed from a
     * masked copy of the same length, so that every byte offset below
     * holds for the line itself (json_nonfinite.h). */
    struct json_nonfinite nf;
    if (json_nonfinite_mask(line, len, &nf) < 0)
        return FAIL(-ENOMEM, "out of memory");
    const char *text = nf.text ? nf.text : line;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (end)
        end = line + (end - text);
    if (root)
        json_nonfinite_apply(&nf, root);
    json_nonfinite_free(&nf);
    if (!root) {
        if (end && end >= line && end <= line + len)
            return FAIL(-EBADMSG, "invalid JSON (at byte %zu)", (size_t)(end - line) + 1);
        return FAIL(-EBADMSG, "invalid JSON");
    }
    /* cJSON stops after the first value; anything but spaces after it
     * means the line was not one JSON object. */
    while (end && end < line + len && (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    int r;
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    if (end && end < line + len)
        r = FAIL(-EBADMSG, "invalid JSON (extra data at byte %zu)", (size_t)(end - line) + 1);
    else if (!cJSON_IsObject(root))
        r = FAIL(-EBADMSG, "a message must be a JSON object");
    else if ((r = translate(c, root, &rq)) == 0)
        r = frame_decode_fields(&rq, m, err, err_size);
    json_read_done(c);
    cJSON_Delete(root);
    return r;
}
