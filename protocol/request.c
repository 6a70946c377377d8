#include "request.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
    [REQUEST_LOG] = "log",
    [REQUEST_STEP_GET] = "step_get",
    [REQUEST_STEP_SET] = "step_set",
    [REQUEST_FLUSH] = "flush",
    [REQUEST_HPARAMS_CONFIG] = "hparams_config",
    [REQUEST_HPARAMS_SESSION_START] = "hparams_session_start",
    [REQUEST_HPARAMS_SESSION_END] = "hparams_session_end",
    [REQUEST_RESTART] = "restart",
    [REQUEST_CLOSE] = "close",
    [REQUEST_PING] = "ping",
    [REQUEST_STATS] = "stats",
    [REQUEST_EMBEDDING] = "embedding",
    [REQUEST_GRAPH] = "graph",
};

const char *request_op_name(enum request_op op)
{
    if ((unsigned)op < sizeof op_names / sizeof op_names[0] && op_names[op])
        return op_names[op];
    return "?";
}

bool request_needs_logdir(enum request_op op)
{
    return op != REQUEST_FLUSH && op != REQUEST_CLOSE && op != REQUEST_PING &&
           op != REQUEST_STATS && op != REQUEST_EMBEDDING;   /* embedding: files only */
}

void request_init(struct request *m)
{
    memset(m, 0, sizeof *m);
}

/* The run of values outside any run: shared by every such value rather
 * than copied (an allocation per value saved on the hot path); never
 * written and never freed. */
static char run_root[] = ".";

/* Every field but the value slots as request_init() leaves it, without
 * clearing the name buffers (2 KiB) once per request: every string is
 * empty. */
static void clear_fields(struct request *m)
{
    m->op = REQUEST_LOG;
    m->has_id = false;
    m->id[0] = '\0';
    m->id_is_u64 = false;
    m->id_u64 = 0;
    m->has_logdir = false;
    m->logdir[0] = '\0';
    m->has_run = false;
    m->run[0] = '\0';
    m->step_mode = LOGDIR_STEP_NEXT;
    m->step = 0;
    m->has_wall_time = false;
    m->wall_time = 0;
    m->sync = false;
    m->resent = false;
    struct projector_embedding *e = &m->embedding;
    if (e->tag || e->tensor || e->header || e->cells || e->sprite)
        projector_embedding_done(e);
    else
        e->rows = e->cols = e->n_header = e->n_cells = e->sprite_len = 0;
    if (m->graph_data || m->graph_tag) {
        free(m->graph_data);
        free(m->graph_tag);
        m->graph_data = NULL;
        m->graph_tag = NULL;
    }
    m->graph_len = 0;
    m->graph_info.nodes = 0;
}

void request_done(struct request *m)
{
    if (!m)
        return;
    size_t used = m->n_kept > m->n_values ? m->n_kept : m->n_values;
    for (size_t i = 0; i < used; i++) {
        if (i < m->n_values && m->values[i].run != run_root)
            free(m->values[i].run);
        summary_value_done(&m->values[i].value);
    }
    free(m->values);
    clear_fields(m);
    m->values = NULL;
    m->n_values = 0;
    m->cap_values = 0;
    m->n_kept = 0;
}

void request_recycle(struct request *m)
{
    size_t used = m->n_kept > m->n_values ? m->n_kept : m->n_values;
    if (m->cap_values > REQUEST_KEEP_VALUES) {
        request_done(m);
        return;
    }
    for (size_t i = 0; i < used; i++) {
        struct request_value *v = &m->values[i];
        if (i < m->n_values && v->run != run_root)
            free(v->run);
        v->run = NULL;
        if (v->value.tag.cap + v->value.metadata.cap + v->value.body.cap >
            REQUEST_KEEP_BYTES) {
            summary_value_done(&v->value);   /* allocates nothing when used again */
            summary_value_init(&v->value);
        }
    }
    clear_fields(m);
    m->n_values = 0;
    m->n_kept = used;
}

void request_set_id_u64(struct request *m, uint64_t id)
{
    snprintf(m->id, sizeof m->id, "\"%" PRIu64 "\"", id);
    m->has_id = true;
    m->id_is_u64 = true;
    m->id_u64 = id;
}

int request_add_value(struct request *m, const char *run, struct summary_value **ret)
{
    if (m->n_values >= REQUEST_MAX_VALUES)
        return -EMSGSIZE;
    if (m->n_values == m->cap_values) {
        size_t cap = m->cap_values ? m->cap_values * 2 : 8;
        struct request_value *v = realloc(m->values, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        m->values = v;
        m->cap_values = cap;
    }
    struct request_value *v = &m->values[m->n_values];
    v->run = strcmp(run, ".") == 0 ? run_root : strdup(run);
    if (!v->run)
        return -ENOMEM;
    if (m->n_values < m->n_kept) {
        /* A kept slot: empty it, as summary_value_init() would. */
        buf_reset(&v->value.tag);
        buf_reset(&v->value.metadata);
        buf_reset(&v->value.body);
    } else {
        summary_value_init(&v->value);
    }
    m->n_values++;
    if (m->n_kept < m->n_values)
        m->n_kept = m->n_values;
    *ret = &v->value;
    return 0;
}

int request_error(char *err, size_t size, int code, const char *fmt, ...)
{
    if (!err || size == 0)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return code;
}

int request_error_at(char *err, size_t size, int code, const char *what, const char *name,
                     const char *fmt, ...)
{
    if (!err || size == 0)
        return code;
    char cut[REQUEST_ERROR_NAME + 4];
    size_t n = strlen(name);
    if (n > REQUEST_ERROR_NAME) {
        n = REQUEST_ERROR_NAME;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
        memcpy(cut, name, n);
        memcpy(cut + n, "\xe2\x80\xa6", 4);   /* U+2026 and the NUL */
        name = cut;
    }
    int k = snprintf(err, size, "%s '%s': ", what, name);
    if (k < 0 || (size_t)k >= size)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, size - (size_t)k, fmt, ap);
    va_end(ap);
    return code;
}
