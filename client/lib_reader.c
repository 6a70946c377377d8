/* tfevents_reader: the public reading API, a thin layer over
 * logdir_reader (lib/logdir_reader.h), which does the incremental,
 * truncation-tolerant reading and TensorBoard's value decoding. This file
 * only flattens an event into one record per summary value and converts
 * the decoded values to the plain C types of tfevents.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "logdir_reader.h"
#include "record.h"
#include "tfevents.h"
#include "value.h"
#ifdef TFEVENTS_READER_S3
#include "s3mirror.h"
#endif

#define TFEV_API __attribute__((visibility("default")))

struct tfevents_reader {
    logdir_reader *r;
#ifdef TFEVENTS_READER_S3
    /* An s3:// logdir: its local copy, synced at the start of each poll
     * but the first (tfevents_reader_open synced it). */
    s3mirror *mirror;
    bool in_poll;       /* logdir_reader_next is within a poll */
    bool synced;        /* the copy is fresh for the next poll */
#endif
    struct logdir_reader_item item; /* the event being handed out */
    bool have_item;
    size_t next_value;            /* index of its next summary value */
    /* The record handed out: the reader's, so that it can grow (tfevents.h). */
    struct tfevents_record rec;
    /* storage behind the pointers of the last record */
    struct tfevents_blob *blobs;
    size_t cap_blobs;
    struct tfevents_clip *clips;
    size_t cap_clips;
    char *json;
    char problem[768];
};

TFEV_API int tfevents_reader_open(tfevents_reader **ret, const char *logdir)
{
    *ret = NULL;
    if (!logdir)
        return -EINVAL;
    tfevents_reader *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    if (strncmp(logdir, "s3://", 5) == 0) {
#ifdef TFEVENTS_READER_S3
        /* Object storage: the event files are copied into a temporary
         * directory (lib/s3mirror.h), here at once so that a bad URL, no
         * credentials, no bucket or no server are said now. */
        char err[512];
        int r = s3mirror_open(&t->mirror, logdir, err, sizeof err);
        if (r == 0 && (r = s3mirror_sync(t->mirror)) > 0)
            r = 0;
        if (r < 0) {
            tfevents_reader_free(t);
            return r;
        }
        t->synced = true;
        logdir = s3mirror_dir(t->mirror);
#else
        free(t);
        return -EPROTONOSUPPORT;   /* built with -Dreader_s3=false */
#endif
    }
    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
#ifdef TFEVENTS_READER_S3
    /* Several nodes' segments of one run arrive out of name order. */
    opts.late_files = t->mirror != NULL;
#endif
    int r = logdir_reader_open(&t->r, logdir, &opts);
    if (r < 0) {
        tfevents_reader_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

TFEV_API void tfevents_reader_free(tfevents_reader *t)
{
    if (!t)
        return;
    logdir_reader_free(t->r);
#ifdef TFEVENTS_READER_S3
    s3mirror_free(t->mirror);
#endif
    free(t->blobs);
    free(t->clips);
    free(t->json);
    free(t);
}

static int blobs_from(tfevents_reader *t, const struct value_bytes *b, size_t n)
{
    if (n > t->cap_blobs) {
        struct tfevents_blob *p = realloc(t->blobs, n * sizeof *p);
        if (!p)
            return -ENOMEM;
        t->blobs = p;
        t->cap_blobs = n;
    }
    for (size_t i = 0; i < n; i++) {
        t->blobs[i].data = b[i].data;
        t->blobs[i].len = b[i].len;
    }
    return 0;
}

static int fill_value(tfevents_reader *t, const struct decoded_value *v,
                      struct tfevents_record *rec)
{
    const struct value_meta *m = &v->meta;
    rec->plugin = v->plugin ? v->plugin : "";
    rec->display_name = m->display_name ? m->display_name : "";
    rec->description = m->description ? m->description : "";
    rec->rank = v->shape.rank;
    rec->dims = v->shape.dims;
    int r;
    switch (v->kind) {
    case VALUE_SCALAR:
        rec->kind = TFEVENTS_KIND_SCALAR;
        rec->scalar = v->scalar;
        return 0;
    case VALUE_TEXT:
    case VALUE_TENSOR:
        rec->kind = v->kind == VALUE_TEXT ? TFEVENTS_KIND_TEXT : TFEVENTS_KIND_TENSOR;
        rec->numbers = v->numbers;
        rec->n_numbers = v->n_numbers;
        if ((r = blobs_from(t, v->strings, v->n_strings)) < 0)
            return r;
        rec->strings = t->blobs;
        rec->n_strings = v->n_strings;
        return 0;
    case VALUE_HISTOGRAM:
        rec->kind = TFEVENTS_KIND_HISTOGRAM;
        rec->numbers = v->numbers;
        rec->n_numbers = v->n_numbers;
        return 0;
    case VALUE_IMAGE:
        rec->kind = TFEVENTS_KIND_IMAGE;
        if (v->n_strings >= 2) {
            /* width and height are decimal ASCII */
            char num[24];
            for (int k = 0; k < 2; k++) {
                size_t len = v->strings[k].len < sizeof num - 1 ? v->strings[k].len
                                                                : sizeof num - 1;
                memcpy(num, v->strings[k].data, len);
                num[len] = '\0';
                unsigned long x = strtoul(num, NULL, 10);
                if (k == 0)
                    rec->width = (uint32_t)x;
                else
                    rec->height = (uint32_t)x;
            }
            if ((r = blobs_from(t, v->strings + 2, v->n_strings - 2)) < 0)
                return r;
            rec->blobs = t->blobs;
            rec->n_blobs = v->n_strings - 2;
        }
        return 0;
    case VALUE_AUDIO:
        rec->kind = TFEVENTS_KIND_AUDIO;
        if (v->n_clips > t->cap_clips) {
            struct tfevents_clip *p = realloc(t->clips, v->n_clips * sizeof *p);
            if (!p)
                return -ENOMEM;
            t->clips = p;
            t->cap_clips = v->n_clips;
        }
        for (size_t i = 0; i < v->n_clips; i++) {
            const struct value_clip *c = &v->clips[i];
            t->clips[i].sample_rate = c->is_wav ? c->sample_rate : 0;
            t->clips[i].channels = c->is_wav ? c->channels : 0;
            t->clips[i].frames = c->is_wav ? c->frames : 0;
            t->clips[i].wav.data = c->bytes.data;
            t->clips[i].wav.len = c->bytes.len;
        }
        rec->clips = t->clips;
        rec->n_clips = v->n_clips;
        return 0;
    case VALUE_HPARAMS:
        rec->kind = TFEVENTS_KIND_HPARAMS;
        if (v->hparams && !(t->json = cJSON_PrintUnformatted(v->hparams)))
            return -ENOMEM;
        rec->json = t->json ? t->json : "";
        return 0;
    case VALUE_EMPTY:
        rec->kind = TFEVENTS_KIND_EMPTY;
        return 0;
    case VALUE_INVALID:
    default:
        rec->kind = TFEVENTS_KIND_INVALID;
        return 0;
    }
}

/* A graph or tagged run metadata event as the tag TensorBoard gives it,
 * its bytes as the one blob. 1, or -ENOMEM. */
static int graph_record(tfevents_reader *t, const Tensorboard__Event *ev,
                        struct tfevents_record *rec)
{
    bool is_def = ev->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF;
    const ProtobufCBinaryData *b = is_def ? &ev->graph_def : &ev->tagged_run_metadata->run_metadata;
    struct value_bytes one = {b->data, b->len};
    if (blobs_from(t, &one, 1) < 0)
        return -ENOMEM;
    rec->kind = TFEVENTS_KIND_GRAPH;
    rec->tag = is_def ? GRAPH_RUN_GRAPH_TAG
                      : ev->tagged_run_metadata->tag ? ev->tagged_run_metadata->tag : "";
    rec->plugin = is_def ? "graphs" : "graph_tagged_run_metadata";
    rec->blobs = t->blobs;
    rec->n_blobs = 1;
    return 1;
}

/* The next record into t->rec: 1, 0 (nothing now) or a negative errno. */
static int next_record(tfevents_reader *t)
{
    struct tfevents_record *rec = &t->rec;
    memset(rec, 0, sizeof *rec);
    free(t->json);
    t->json = NULL;
    for (;;) {
        if (!t->have_item) {
#ifdef TFEVENTS_READER_S3
            if (t->mirror && !t->in_poll) {
                t->in_poll = true;
                int s = t->synced ? 0 : s3mirror_sync(t->mirror);
                t->synced = false;
                if (s == -ENOMEM)
                    return s;
                if (s < 0) {
                    /* Said as a problem; this poll reads what is here, and
                     * the next one tries the server again. */
                    rec->kind = TFEVENTS_KIND_PROBLEM;
                    rec->run = ".";
                    rec->file = rec->tag = "";
                    rec->plugin = rec->display_name = rec->description = "";
                    snprintf(t->problem, sizeof t->problem, "%s", s3mirror_error(t->mirror));
                    rec->problem = t->problem;
                    return 1;
                }
            }
#endif
            int r = logdir_reader_next(t->r, &t->item);
#ifdef TFEVENTS_READER_S3
            if (r <= 0)
                t->in_poll = false;
#endif
            if (r <= 0)
                return r;
            t->have_item = true;
            t->next_value = 0;
        }
        const struct logdir_reader_item *it = &t->item;
        rec->run = it->run;
        rec->file = it->file;
        rec->offset = it->offset;
        rec->tag = "";
        rec->plugin = rec->display_name = rec->description = "";
        if (it->type == LOGDIR_READER_ITEM_PROBLEM) {
            t->have_item = false;
            rec->kind = TFEVENTS_KIND_PROBLEM;
            rec->truncated = it->fault == RECORD_FAULT_TRUNCATED;
            if (it->error)
                snprintf(t->problem, sizeof t->problem, "%s", strerror(-it->error));
            else
                snprintf(t->problem, sizeof t->problem, "%s",
                         rec->truncated ? "truncated record (retried later)"
                                        : "corrupt record: the rest of the file is not read");
            rec->problem = t->problem;
            return 1;
        }
        const Tensorboard__Event *ev = it->event;
        rec->step = ev->step;
        rec->wall_time = ev->wall_time;
        if (ev->what_case != TENSORBOARD__EVENT__WHAT_SUMMARY) {
            t->have_item = false;
            if (ev->what_case == TENSORBOARD__EVENT__WHAT_FILE_VERSION) {
                rec->kind = TFEVENTS_KIND_FILE_VERSION;
            } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG &&
                       ev->session_log) {
                rec->kind = TFEVENTS_KIND_SESSION_LOG;
                rec->status = (int)ev->session_log->status;
            } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF ||
                       (ev->what_case == TENSORBOARD__EVENT__WHAT_TAGGED_RUN_METADATA &&
                        ev->tagged_run_metadata)) {
                return graph_record(t, ev, rec);
            } else {
                rec->kind = TFEVENTS_KIND_OTHER;
            }
            return 1;
        }
        size_t n = ev->summary ? ev->summary->n_value : 0;
        if (t->next_value >= n || !it->values) {
            t->have_item = false;
            continue;
        }
        size_t i = t->next_value++;
        if (t->next_value >= n)
            t->have_item = false;   /* the item stays valid until the next call */
        rec->tag = ev->summary->value[i]->tag ? ev->summary->value[i]->tag : "";
        int r = fill_value(t, &it->values[i], rec);
        return r < 0 ? r : 1;
    }
}

TFEV_API int tfevents_reader_next(tfevents_reader *t, const struct tfevents_record **ret_rec)
{
    *ret_rec = NULL;
    int r = next_record(t);
    if (r > 0)
        *ret_rec = &t->rec;
    return r;
}
