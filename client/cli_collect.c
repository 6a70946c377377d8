/* tfevents collect: the R package's collect_events() as a command.
 *
 * One row per event (--type any), per summary value (summary) or per scalar
 * (scalar), with plain decoded values and a wall_time column, as an aligned
 * table, CSV or JSON lines. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_collect_kinds.h"
#include "cli_filter.h"
#include "cli_s3.h"
#include "cli_view.h"
#include "graph.h"
#include "logdir_reader.h"
#include "value_json.h"
#include "layout.pb-c.h"

enum type { TYPE_ANY, TYPE_SUMMARY, TYPE_SCALAR, TYPE_PR_CURVE, TYPE_MESH, TYPE_LAYOUT,
             TYPE_PROJECTOR };
enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSONL };

/* Table widths are taken from the first rows; later rows that are wider
 * just push the columns right. */
#define TABLE_SAMPLE_ROWS 200
#define MAX_COLS CLI_KIND_MAX_COLS
/* Output is gathered in the out buffer and handed to stdio in pieces of
 * about this size: one fwrite per row (its locking and bookkeeping) was a
 * tenth of collect's time. */
#define OUT_FLUSH_BYTES (64u << 10)

struct row {
    char *cells[MAX_COLS];
};

struct out {
    enum type type;
    enum format format;
    const char *const *cols;
    size_t ncols;
    const struct cli_kind_cols *kind;   /* pr_curve, mesh, layout, projector */
    unsigned long long kind_left;       /* -n: kind rows still to print */
    struct cli_mesh_acc meshes;         /* --type mesh: parts not yet printed */
    bool kind_limit;
    struct row *pending;      /* table rows not yet printed */
    size_t n_pending;
    bool header_done;
    size_t width[MAX_COLS];
    struct buf line;
    struct buf row;           /* the row being printed */
    struct buf out;           /* rows not yet given to stdout */
    unsigned plain_cols;      /* bit i: column i never needs CSV quoting */
    struct cli_view *view;    /* --view tensorboard: rows held, then printed */
    bool full;                /* --precision full */
    const char *view_run, *view_tag;   /* the row being held */
    int64_t view_step;
};

static const char *const cols_any[] = {"run", "step", "wall_time", "kind"};
static const char *const cols_summary[] = {"run", "step", "wall_time", "tag", "plugin", "value"};
static const char *const cols_scalar[] = {"run", "tag", "step", "wall_time", "value"};

static void collect_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents collect [LOGDIR] [--type TYPE] [-n N]\n"
        "                        [--format table|csv|jsonl] [--run GLOB] [--tag GLOB]\n"
        "                        [--view raw|tensorboard] [--precision shortest|full]\n"
        "\n"
        "Read every run of LOGDIR (default: logs) and print one row per event\n"
        "(--type any: run, step, wall_time, kind), per summary value (summary:\n"
        "run, step, wall_time, tag, plugin, value) or per scalar (scalar: run, tag,\n"
        "step, wall_time, value). Values are decoded the way TensorBoard loads them.\n"
        "pr_curve: a row per threshold of each PR curve (as TensorBoard serves it);\n"
        "mesh: a row per mesh and step (its vertex, face and colour counts);\n"
        "layout: a row per chart of a custom scalars layout; projector: a row per\n"
        "embedding of the projector_config.pbtxt files (tensor name, shape,\n"
        "metadata columns, sprite).\n"
        "\n"
        "  -t, --type TYPE      any (default), summary, scalar, pr_curve, mesh,\n"
        "                       layout or projector\n"
        "  -n, --max-rows N     stop after N rows\n"
        "  -f, --format FORMAT  table (default), csv or jsonl\n"
        CLI_FILTER_USAGE
        "                       (--tag and --view: not with --type any; --view\n"
        "                       prints once LOGDIR is read, default type summary)\n"
        "  -h, --help           this text\n"
        "\n"
        "Corrupt records are reported on stderr and their file is not read further.\n"
        "exit status: 0 ok (truncated tails are only warned about), 1 corruption\n"
        "found, 2 usage error, 3 LOGDIR cannot be read\n");
}

/* The kind of event; a session log with its status ("session_log START"),
 * since a START is a restart that makes TensorBoard drop points. */
static const char *event_kind(const Tensorboard__Event *ev)
{
    static const char *const session[] = {"session_log STATUS_UNSPECIFIED",
                                          "session_log START", "session_log STOP",
                                          "session_log CHECKPOINT"};
    if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG && ev->session_log &&
        (unsigned)ev->session_log->status < 4)
        return session[ev->session_log->status];
    switch (ev->what_case) {
    case TENSORBOARD__EVENT__WHAT_FILE_VERSION: return "file_version";
    case TENSORBOARD__EVENT__WHAT_GRAPH_DEF: return "graph_def";
    case TENSORBOARD__EVENT__WHAT_SUMMARY: return "summary";
    case TENSORBOARD__EVENT__WHAT_LOG_MESSAGE: return "log_message";
    case TENSORBOARD__EVENT__WHAT_SESSION_LOG: return "session_log";
    case TENSORBOARD__EVENT__WHAT_TAGGED_RUN_METADATA: return "tagged_run_metadata";
    case TENSORBOARD__EVENT__WHAT_META_GRAPH_DEF: return "meta_graph_def";
    default: return "empty";
    }
}

/* A PR curve's [6, k] tensor as its named rows. NULL: not one (or
 * -ENOMEM: then the caller's fallback fails the same way). */
static cJSON *pr_curve_json(const struct decoded_value *v)
{
    static const char *const rows[6] = {"true_positives",  "false_positives",
                                        "true_negatives",  "false_negatives",
                                        "precision",       "recall"};
    if (v->kind != VALUE_TENSOR || !v->plugin || strcmp(v->plugin, "pr_curves") != 0 ||
        v->shape.rank != 2 || v->shape.dims[0] != 6 || !v->numbers)
        return NULL;
    size_t k = (size_t)v->shape.dims[1];
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "num_thresholds", (double)k))
        goto fail;
    for (size_t i = 0; i < 6; i++) {
        cJSON *a = cJSON_AddArrayToObject(o, rows[i]);
        for (size_t j = 0; a && j < k; j++) {
            cJSON *n = value_json_number(v->numbers[i * k + j]);
            if (!n || !cJSON_AddItemToArray(a, n)) {
                cJSON_Delete(n);
                goto fail;
            }
        }
        if (!a)
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* A custom scalars layout (a rank-0 string holding a Layout) decoded, as
 * {"layout": {...}}; NULL when v is not one or it does not decode. */
static cJSON *layout_json(const struct decoded_value *v)
{
    bool bad;
    if (!v->plugin || strcmp(v->plugin, "custom_scalars") != 0 || v->n_strings != 1 ||
        v->shape.rank != 0)
        return NULL;
    cJSON *l = value_message_json(&tensorboard__layout__descriptor, v->strings[0].data,
                                  v->strings[0].len, &bad);
    cJSON *o = l ? cJSON_CreateObject() : NULL;
    if (!o || !cJSON_AddItemToObject(o, "layout", l)) {
        cJSON_Delete(l);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* A mesh part as its size: {"shape": [samples, points, 3]} (the points are
 * vertices, or faces for <name>_FACE); the numbers are rarely wanted in a
 * table. NULL when v is not one. */
static cJSON *mesh_json(const struct decoded_value *v)
{
    if (v->kind != VALUE_TENSOR || !v->plugin || strcmp(v->plugin, "mesh") != 0 ||
        v->shape.rank != 3)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = o ? cJSON_AddArrayToObject(o, "shape") : NULL;
    for (size_t i = 0; a && i < 3; i++) {
        cJSON *n = cJSON_CreateNumber((double)v->shape.dims[i]);
        if (!n || !cJSON_AddItemToArray(a, n)) {
            cJSON_Delete(n);
            a = NULL;
        }
    }
    if (!a) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* value_to_json(), with an image's width and height as numbers even when
 * the writer stored them as raw bytes (the R package), a PR curve's rows by
 * name, a custom scalars layout decoded and a mesh part's shape. NULL:
 * -ENOMEM. */
static cJSON *value_json(const struct decoded_value *v)
{
    cJSON *special = pr_curve_json(v);
    if (!special)
        special = layout_json(v);
    if (!special)
        special = mesh_json(v);
    if (special)
        return special;
    cJSON *j = value_to_json(v);
    uint32_t w, h;
    if (j && v->kind == VALUE_IMAGE && cJSON_IsObject(cJSON_GetObjectItem(j, "width")) &&
        cli_image_dims(v, &w, &h)) {
        cJSON *wn = cJSON_CreateNumber(w), *hn = cJSON_CreateNumber(h);
        bool ok = wn && hn && cJSON_ReplaceItemInObject(j, "width", wn);
        if (ok)
            wn = NULL;    /* owned by j now */
        ok = ok && cJSON_ReplaceItemInObject(j, "height", hn);
        if (!ok) {
            cJSON_Delete(wn);
            cJSON_Delete(hn);
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* The value as one cell: scalars as numbers, rank-0 text as the string,
 * everything else as compact JSON. Appended to b. */
static int value_cell(struct buf *b, const struct decoded_value *v, bool full)
{
    if (v->kind == VALUE_SCALAR) {
        char num[64];
        cli_format_scalar(num, sizeof num, v->scalar, v->dtype, full);
        return buf_append_str(b, num);
    }
    if (v->kind == VALUE_TEXT && v->shape.rank == 0 && v->n_strings == 1)
        return buf_append(b, v->strings[0].data, v->strings[0].len);
    cJSON *j = value_json(v);
    if (!j)
        return -ENOMEM;
    int r = value_json_print(b, j);
    cJSON_Delete(j);
    return r;
}

/* JSON value of a cell for jsonl: numbers stay numbers. */
static int jsonl_value(struct buf *b, const struct decoded_value *v, bool full)
{
    if (v->kind == VALUE_SCALAR && isfinite(v->scalar)) {
        char num[64];
        cli_format_scalar(num, sizeof num, v->scalar, v->dtype, full);
        return buf_append_str(b, num);
    }
    cJSON *j = value_json(v);
    if (!j)
        return -ENOMEM;
    int r = value_json_print(b, j);
    cJSON_Delete(j);
    return r;
}

static int json_str(struct buf *b, const char *s)
{
    cJSON tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.type = cJSON_String;
    tmp.valuestring = (char *)s;
    return value_json_print(b, &tmp);
}

/* Hand what o->out holds to stdout. */
static void out_flush(struct out *o)
{
    if (o->out.len)
        fwrite(o->out.data, 1, o->out.len, stdout);
    buf_reset(&o->out);
}

/* Queue a row for stdout. */
static void out_write(struct out *o, const void *data, size_t len)
{
    buf_append(&o->out, data, len);
    if (o->out.len >= OUT_FLUSH_BYTES)
        out_flush(o);
}

/* A step as decimal digits (what "%" PRId64 prints); returns its length. */
static int format_step(char *out, int64_t v)
{
    char tmp[24];
    int n = 0, len = 0;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

/* Rows are assembled in a buffer and queued whole (out_write): stdio's
 * per-call locking made putchar-per-character printing a bottleneck. */
static void csv_cell(struct buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        buf_append_str(b, s);
        return;
    }
    buf_append(b, "\"", 1);
    for (const char *run = s;; s++) {
        if (*s == '"' || !*s) {
            buf_append(b, run, (size_t)(s - run));
            if (!*s)
                break;
            buf_append(b, "\"\"", 2);
            run = s + 1;
        }
    }
    buf_append(b, "\"", 1);
}

static void table_print_row(struct out *o, char *const *cells)
{
    struct buf *b = &o->row;
    buf_reset(b);
    for (size_t i = 0; i < o->ncols; i++) {
        /* Cells hold no newlines in a table: they would break the layout. */
        const char *s = cells[i];
        bool last = i + 1 == o->ncols;
        size_t start = b->len, n = strlen(s);
        if (buf_append(b, s, n) < 0)
            return;
        for (size_t k = start; k < b->len; k++)
            if (b->data[k] == '\n' || b->data[k] == '\r' || b->data[k] == '\t')
                b->data[k] = ' ';
        static const char spaces[] = "                                ";
        for (size_t k = n; !last && k < o->width[i] + 2;) {
            size_t m = o->width[i] + 2 - k < sizeof spaces - 1 ? o->width[i] + 2 - k
                                                                : sizeof spaces - 1;
            buf_append(b, spaces, m);
            k += m;
        }
    }
    buf_append(b, "\n", 1);
    out_write(o, b->data, b->len);
}

static void table_flush(struct out *o)
{
    if (!o->header_done) {
        for (size_t i = 0; i < o->ncols; i++)
            o->width[i] = strlen(o->cols[i]);
        for (size_t r = 0; r < o->n_pending; r++)
            for (size_t i = 0; i < o->ncols; i++) {
                size_t n = strlen(o->pending[r].cells[i]);
                if (n > o->width[i])
                    o->width[i] = n;
            }
        table_print_row(o, (char *const *)o->cols);
        o->header_done = true;
    }
    for (size_t r = 0; r < o->n_pending; r++) {
        table_print_row(o, o->pending[r].cells);
        for (size_t i = 0; i < o->ncols; i++)
            free(o->pending[r].cells[i]);
    }
    o->n_pending = 0;
}

/* Hold a row of cells for the view: NUL-separated in one string. */
static int view_hold(struct out *o, char *const *cells)
{
    struct buf *b = &o->row;
    buf_reset(b);
    for (size_t i = 0; i < o->ncols; i++)
        if (buf_append(b, cells[i], strlen(cells[i]) + 1) < 0)
            return -ENOMEM;
    return cli_view_add(o->view, o->view_run, o->view_tag, o->view_step, b->data, b->len);
}

/* Emit one row of plain-text cells (table, csv). */
static int emit_cells(struct out *o, char *const *cells)
{
    if (o->view)
        return view_hold(o, cells);
    if (o->format == FORMAT_CSV) {
        /* Straight into the output, room made once per row: cells that
         * need no quoting (numbers; most names) are copied whole. */
        struct buf *b = &o->out;
        size_t len[MAX_COLS], total = o->ncols;
        unsigned plain = o->plain_cols;
        for (size_t i = 0; i < o->ncols; i++) {
            len[i] = strlen(cells[i]);
            total += len[i];
            if (!(plain & (1u << i)) && !strpbrk(cells[i], ",\"\r\n"))
                plain |= 1u << i;
            else if (!(plain & (1u << i)))
                total += len[i] + 2;   /* quoted: every '"' doubled, at most */
        }
        if (buf_reserve(b, total) < 0)
            return -ENOMEM;
        for (size_t i = 0; i < o->ncols; i++) {
            if (i)
                b->data[b->len++] = ',';
            if (plain & (1u << i)) {
                memcpy(b->data + b->len, cells[i], len[i]);
                b->len += len[i];
            } else {
                csv_cell(b, cells[i]);
            }
        }
        buf_append(b, "\n", 1);
        if (b->len >= OUT_FLUSH_BYTES)
            out_flush(o);
        return 0;
    }
    if (o->header_done) {
        table_print_row(o, cells);
        return 0;
    }
    if (!o->pending) {
        o->pending = calloc(TABLE_SAMPLE_ROWS, sizeof *o->pending);
        if (!o->pending)
            return -ENOMEM;
    }
    struct row *row = &o->pending[o->n_pending];
    for (size_t i = 0; i < o->ncols; i++) {
        row->cells[i] = strdup(cells[i]);
        if (!row->cells[i]) {
            while (i-- > 0)
                free(row->cells[i]);
            return -ENOMEM;
        }
    }
    if (++o->n_pending == TABLE_SAMPLE_ROWS)
        table_flush(o);
    return 0;
}

/* One row: of the event (type any), or of a summary value v with its tag;
 * or, v NULL with a tag, of a graph event shown as TensorBoard names it
 * (plugin and the value as JSON text given). */
static int emit_row(struct out *o, const struct logdir_reader_item *it, const struct decoded_value *v,
                    const char *tag, const char *plugin, const char *value)
{
    const Tensorboard__Event *ev = it->event;
    char step[32], wall[64];
    format_step(step, ev->step);
    value_format_double(wall, sizeof wall, ev->wall_time);
    struct buf *b = &o->line;
    buf_reset(b);
    int r = 0;

    if (o->format == FORMAT_JSONL) {
        r = buf_append_str(b, "{\"run\":");
        if (!r) r = json_str(b, it->run);
        if (!r && o->type != TYPE_ANY) {
            r = buf_append_str(b, ",\"tag\":");
            if (!r) r = json_str(b, tag);
        }
        if (!r) r = buf_append_str(b, ",\"step\":");
        if (!r) r = buf_append_str(b, step);
        if (!r) r = buf_append_str(b, ",\"wall_time\":");
        if (!r) r = isfinite(ev->wall_time) ? buf_append_str(b, wall) : json_str(b, wall);
        if (!r && o->type == TYPE_ANY) {
            r = buf_append_str(b, ",\"kind\":");
            if (!r) r = json_str(b, event_kind(ev));
        }
        if (!r && o->type == TYPE_SUMMARY) {
            r = buf_append_str(b, ",\"plugin\":");
            if (!r) r = json_str(b, v ? v->plugin : plugin);
        }
        if (!r && o->type != TYPE_ANY) {
            r = buf_append_str(b, ",\"value\":");
            if (!r) r = v ? jsonl_value(b, v, o->full) : buf_append_str(b, value);
        }
        if (!r) r = buf_append_str(b, "}\n");
        if (!r && o->view)
            return cli_view_add(o->view, it->run, tag, ev->step, b->data, b->len);
        if (!r)
            out_write(o, b->data, b->len);
        return r;
    }

    o->view_run = it->run;
    o->view_tag = tag;
    o->view_step = ev->step;
    char *cells[MAX_COLS];
    char *valcell = (char *)value;
    if (v) {
        r = value_cell(b, v, o->full);
        if (!r) r = buf_append(b, "", 1);
        if (r)
            return r;
        valcell = (char *)b->data;
    }
    switch (o->type) {
    case TYPE_ANY:
        cells[0] = (char *)it->run; cells[1] = step; cells[2] = wall;
        cells[3] = (char *)event_kind(ev);
        break;
    case TYPE_SUMMARY:
        cells[0] = (char *)it->run; cells[1] = step; cells[2] = wall;
        cells[3] = (char *)tag; cells[4] = (char *)(v ? v->plugin : plugin);
        cells[5] = valcell;
        break;
    case TYPE_SCALAR:
        cells[0] = (char *)it->run; cells[1] = (char *)tag; cells[2] = step;
        cells[3] = wall; cells[4] = valcell;
        break;
    default:   /* the other types' rows come from kind_row() */
        return -EINVAL;
    }
    return emit_cells(o, cells);
}

/* A row of a --type pr_curve, mesh, layout or projector (cli_kind_out's
 * row function): jsonl objects keyed by the column names, numbers as
 * numbers, JSON cells as they are. */
static int kind_row(void *arg, const char *tag, int64_t step, char *const *cells)
{
    struct out *o = arg;
    const struct cli_kind_cols *k = o->kind;
    o->view_tag = tag;
    o->view_step = step;
    if (!o->view && o->kind_limit && o->kind_left-- == 0)
        return -ECANCELED;
    if (o->format != FORMAT_JSONL)
        return emit_cells(o, cells);
    struct buf *b = &o->line;
    buf_reset(b);
    int r = 0;
    for (size_t i = 0; !r && i < k->n; i++) {
        r = buf_append_str(b, i ? ",\"" : "{\"");
        if (!r) r = buf_append_str(b, k->names[i]);
        if (!r) r = buf_append_str(b, "\":");
        char *end = NULL;
        bool number = (k->numbers >> i & 1) && *cells[i] && isfinite(strtod(cells[i], &end)) &&
                      end && !*end;
        if (!r) r = number || (k->json >> i & 1) ? buf_append_str(b, cells[i])
                                                  : json_str(b, cells[i]);
    }
    if (!r) r = buf_append_str(b, "}\n");
    if (!r && o->view)
        return cli_view_add(o->view, o->view_run, tag, step, b->data, b->len);
    if (!r)
        out_write(o, b->data, b->len);
    return r;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Bytes in the event files under path (what the progress line counts
 * towards); 0 when it cannot be told. */
static uint64_t total_bytes;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *name = path + ftw->base;
    size_t n = strlen(name);
    if (flag == FTW_F && S_ISREG(st->st_mode) && strstr(name, "tfevents") &&
        !(n >= 14 && strcmp(name + n - 14, ".profile-empty") == 0))
        total_bytes += (uint64_t)st->st_size;
    return 0;
}

static uint64_t logdir_bytes(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return 0;
    if (S_ISREG(st.st_mode))
        return (uint64_t)st.st_size;
    total_bytes = 0;
    /* FTW_PHYS: directory links are not followed, as by the reader. */
    if (nftw(path, add_size, 32, FTW_PHYS) < 0)
        return 0;
    return total_bytes;
}

static void show_progress(logdir_reader *r, uint64_t total, double start)
{
    struct logdir_reader_stats st;
    logdir_reader_stats(r, &st);
    double dt = now_s() - start;
    double rps = dt > 0 ? (double)st.records / dt : 0;
    if (total > 0)
        fprintf(stderr, "\r\033[Ktfevents: %.1f / %.1f MB (%.0f%%), %" PRIu64
                " records, %.2f M records/s, %zu runs",
                (double)st.bytes / 1e6, (double)total / 1e6,
                st.bytes < total ? 100.0 * (double)st.bytes / (double)total : 100.0,
                st.records, rps / 1e6, st.runs);
    else
        fprintf(stderr, "\r\033[Ktfevents: %.1f MB, %" PRIu64 " records, %.2f M records/s, %zu runs",
                (double)st.bytes / 1e6, st.records, rps / 1e6, st.runs);
}

static void report_problem(const struct logdir_reader_item *it, bool *corrupt)
{
    if (it->error) {
        cli_error("%s: %s", it->file, strerror(-it->error));
        return;
    }
    if (it->fault == RECORD_FAULT_TRUNCATED) {
        cli_error("%s: offset %" PRIu64 ": truncated record (incomplete; a writer may "
                  "still be writing it)", it->file, it->offset);
        return;
    }
    *corrupt = true;
    cli_error("%s: offset %" PRIu64 ": %s; not reading this file further", it->file,
              it->offset, record_fault_str(it->fault));
}

struct collect_args {
    const char *logdir;
    struct cli_filter f;      /* --run, --tag, --view, --precision */
    unsigned long long max_rows;
    bool limit;
};

/* Parse argv into a and o's type and format. CLI_EXIT_OK, -1 after --help,
 * or a usage error. */
static int collect_parse(int argc, char **argv, struct collect_args *a, struct out *o)
{
    static const struct option longopts[] = {
        {"type", required_argument, NULL, 't'},
        {"max-rows", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        CLI_FILTER_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const types[] = {"any",    "summary", "scalar",    "pr_curve",
                                        "mesh",   "layout",  "projector", NULL};
    static const char *const formats[] = {"table", "csv", "jsonl", NULL};
    bool type_given = false;
    int c, t;
    cli_filter_init(&a->f, "collect");
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:n:f:" CLI_FILTER_SHORTOPTS "h", longopts, NULL)) !=
           -1) {
        size_t k = 0;
        if ((t = cli_filter_option(&a->f, c, optarg)) != 0) {
            if (t < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 't':
            while (types[k] && strcmp(optarg, types[k]) != 0)
                k++;
            if (!types[k]) {
                cli_error("collect: unknown --type '%s' (any, summary, scalar, pr_curve, "
                          "mesh, layout, projector)", optarg);
                return CLI_EXIT_USAGE;
            }
            o->type = (enum type)k;
            type_given = true;
            break;
        case 'n':
            if (!cli_parse_count(optarg, &a->max_rows)) {
                cli_error("collect: -n needs a non-negative number, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            a->limit = true;
            break;
        case 'f':
            while (formats[k] && strcmp(optarg, formats[k]) != 0)
                k++;
            if (!formats[k]) {
                cli_error("collect: unknown --format '%s' (table, csv, jsonl)", optarg);
                return CLI_EXIT_USAGE;
            }
            o->format = (enum format)k;
            break;
        case 'h':
            collect_usage(stdout);
            return -1;
        default:
            collect_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_error("collect: one LOGDIR only");
        collect_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (a->f.view && !type_given)
        o->type = TYPE_SUMMARY;
    if (o->type == TYPE_ANY && (a->f.view || a->f.tag_glob)) {
        cli_error("collect: --%s is for summary values (not --type any)",
                  a->f.view ? "view tensorboard" : "tag");
        return CLI_EXIT_USAGE;
    }
    if (o->type == TYPE_PROJECTOR && a->f.view) {
        cli_error("collect: --view is for events; projector files have no steps");
        return CLI_EXIT_USAGE;
    }
    o->full = a->f.full;
    a->logdir = optind < argc ? argv[optind] : "logs";
    static const char *const *const cols[] = {cols_any, cols_summary, cols_scalar};
    static const size_t ncols[] = {4, 6, 5};
    static const struct cli_kind_cols *const kinds[] = {
        &cli_kind_pr_curve_cols, &cli_kind_mesh_cols, &cli_kind_layout_cols,
        &cli_kind_projector_cols};
    if (o->type >= TYPE_PR_CURVE) {
        o->kind = kinds[o->type - TYPE_PR_CURVE];
        o->cols = o->kind->names;
        o->ncols = o->kind->n;
    } else {
        o->cols = cols[o->type];
        o->ncols = ncols[o->type];
    }
    return CLI_EXIT_OK;
}

/* A graph or a run metadata as the row of the tag TensorBoard gives it
 * (__run_graph__, plugin graphs; the run metadata's tag, plugin
 * graph_tagged_run_metadata), its value its size:
 * {"kind":"graph"|"run_metadata","nodes":N,"bytes":B}, or with "error"
 * instead of "nodes" when the bytes do not parse (TensorBoard's graphs
 * dashboard would answer HTTP 500). */
static int graph_row(struct out *o, const struct collect_args *a,
                     const struct logdir_reader_item *it, unsigned long long *rows)
{
    const Tensorboard__Event *ev = it->event;
    bool is_def = ev->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF;
    if (!is_def && !ev->tagged_run_metadata)
        return 0;
    const char *tag = is_def ? GRAPH_RUN_GRAPH_TAG : ev->tagged_run_metadata->tag;
    if (!cli_filter_tag(&a->f, tag))
        return 0;
    const ProtobufCBinaryData *bytes =
        is_def ? &ev->graph_def : &ev->tagged_run_metadata->run_metadata;
    struct graph_info info = {0};
    char why[160];
    int r = graph_check(is_def ? GRAPH_DEF : GRAPH_RUN_METADATA, bytes->data, bytes->len,
                        &info, why, sizeof why);
    cJSON *j = cJSON_CreateObject();
    bool ok = j && cJSON_AddStringToObject(j, "kind", is_def ? "graph" : "run_metadata") &&
              (r < 0 ? cJSON_AddStringToObject(j, "error", why) != NULL
                     : cJSON_AddNumberToObject(j, "nodes", (double)info.nodes) != NULL) &&
              cJSON_AddNumberToObject(j, "bytes", (double)bytes->len);
    struct buf text;
    buf_init(&text, BUF_NO_CAP);
    if (ok)
        ok = value_json_print(&text, j) == 0 && buf_append(&text, "", 1) == 0;
    cJSON_Delete(j);
    r = ok ? emit_row(o, it, NULL, tag, is_def ? "graphs" : "graph_tagged_run_metadata",
                      (const char *)text.data)
           : -ENOMEM;
    buf_free(&text);
    if (!o->view)
        (*rows)++;
    return r;
}

/* The rows of one event: CLI_EXIT_OK or a negative errno. */
static int collect_event(struct out *o, const struct collect_args *a,
                         const struct logdir_reader_item *it, unsigned long long *rows)
{
    int err = 0;
    if (!cli_filter_run(&a->f, it->run))
        return 0;
    if (o->type == TYPE_ANY) {
        (*rows)++;
        return emit_row(o, it, NULL, NULL, NULL, NULL);
    }
    if (o->type == TYPE_SUMMARY && (it->event->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF ||
                                    it->event->what_case ==
                                        TENSORBOARD__EVENT__WHAT_TAGGED_RUN_METADATA)) {
        if (o->view && (err = cli_view_event(o->view, it)) < 0)
            return err;
        return graph_row(o, a, it, rows);
    }
    struct cli_kind_out ko = {kind_row, o, o->full, &a->f};
    /* A mesh gathered so far is complete once another step comes; it is
     * printed (or held) before that event's purges apply. */
    if (o->type == TYPE_MESH && cli_mesh_acc_other(&o->meshes, it)) {
        o->view_run = o->meshes.run;
        if ((err = cli_kind_mesh_flush(&ko, &o->meshes)) < 0) {
            if (err != -ECANCELED)
                return err;
            *rows = a->max_rows;
            return 0;
        }
    }
    if (o->view && (err = cli_view_event(o->view, it)) < 0)
        return err;
    if (o->kind) {
        /* kind_row counts the rows against -n (a PR curve is many). */
        o->view_run = it->run;
        err = o->type == TYPE_PR_CURVE ? cli_kind_pr_curve_rows(&ko, it)
              : o->type == TYPE_MESH   ? cli_kind_mesh_rows(&ko, it, &o->meshes)
                                       : cli_kind_layout_rows(&ko, it);
        if (err == -ECANCELED) {
            *rows = a->max_rows;
            err = 0;
        }
        return err;
    }
    for (size_t i = 0; !err && i < it->n_values && !(a->limit && *rows >= a->max_rows); i++) {
        const struct decoded_value *v = &it->values[i];
        if (v->kind == VALUE_EMPTY || (o->type == TYPE_SCALAR && v->kind != VALUE_SCALAR))
            continue;
        const Tensorboard__Summary__Value *sv = it->event->summary->value[i];
        if (!cli_filter_tag(&a->f, sv->tag))
            continue;
        err = emit_row(o, it, v, sv->tag, NULL, NULL);
        /* In the view, -n counts the rows printed, not the rows held. */
        if (!o->view)
            (*rows)++;
    }
    return err;
}

/* Read the whole logdir through r into o. *corrupt: a corrupt record was
 * reported. Returns 0 or a negative errno. */
static int collect_read(logdir_reader *r, struct out *o, const struct collect_args *a,
                        bool *corrupt)
{
    bool progress = isatty(STDERR_FILENO);
    uint64_t total = progress ? logdir_bytes(a->logdir) : 0;
    double start = now_s(), last_progress = start;
    uint64_t since_check = 0;
    unsigned long long rows = 0;
    struct logdir_reader_item it;
    int rc = 0, err = 0;
    while (!(a->limit && !o->view && rows >= a->max_rows) &&
           (rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_PROBLEM) {
            if (progress)
                fputs("\r\033[K", stderr);
            report_problem(&it, corrupt);
            continue;
        }
        if ((err = collect_event(o, a, &it, &rows)) < 0)
            break;
        /* The clock is read every few thousand records only. */
        if (progress && ++since_check >= 4096) {
            since_check = 0;
            double t = now_s();
            if (t - last_progress > 0.2) {
                show_progress(r, total, start);
                last_progress = t;
            }
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    return err < 0 ? err : rc < 0 ? rc : 0;
}

struct view_print {
    struct out *o;
    unsigned long long left;
    bool limit;
};

/* Print one held row (a JSON line, or NUL-separated cells). */
static int view_print_row(void *arg, const char *data, size_t len)
{
    struct view_print *vp = arg;
    if (vp->limit && vp->left-- == 0)
        return -ECANCELED;
    if (vp->o->format == FORMAT_JSONL) {
        out_write(vp->o, data, len);
        return 0;
    }
    char *cells[MAX_COLS];
    for (size_t i = 0; i < vp->o->ncols; i++, data += strlen(data) + 1)
        cells[i] = (char *)data;
    return emit_cells(vp->o, cells);
}

static int collect_run(struct collect_args *ap, struct out *op);

int cli_collect_main(int argc, char **argv)
{
    struct out o;
    memset(&o, 0, sizeof o);
    struct collect_args a = {0};
    int status = collect_parse(argc, argv, &a, &o);
    if (status != CLI_EXIT_OK)
        return status < 0 ? CLI_EXIT_OK : status;

    /* s3://: read a downloaded copy (cli_s3.h). */
    s3mirror *m;
    if (cli_s3_open(&a.logdir, &m) < 0)
        return CLI_EXIT_IO;
    status = collect_run(&a, &o);
    s3mirror_free(m);
    return status;
}

/* collect of a local logdir, once the arguments are parsed. */
static int collect_run(struct collect_args *ap, struct out *op)
{
    struct collect_args a = *ap;
    struct out o = *op;
    int status = CLI_EXIT_OK;
    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = a.f.view;   /* raw: the events as collect_events() returns them */
    opts.decode_values = o.type != TYPE_ANY;
    logdir_reader *r = NULL;
    int err = logdir_reader_open(&r, a.logdir, &opts);
    if (err < 0) {
        cli_error("%s: %s", a.logdir, strerror(-err));
        return CLI_EXIT_IO;
    }
    if (a.f.view && !(o.view = cli_view_new())) {
        logdir_reader_free(r);
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    buf_init(&o.line, BUF_NO_CAP);
    buf_init(&o.row, BUF_NO_CAP);
    buf_init(&o.out, BUF_NO_CAP);
    /* Columns of numbers: step and wall_time, and a scalar's value. */
    o.plain_cols = o.kind ? o.kind->numbers : o.type == TYPE_SCALAR ? 0x1Cu : 0x6u;
    o.kind_left = a.max_rows;
    o.kind_limit = a.limit;
    if (o.format == FORMAT_CSV) {
        for (size_t i = 0; i < o.ncols; i++)
            printf("%s%s", i ? "," : "", o.cols[i]);
        putchar('\n');
    }

    bool corrupt = false;
    if (o.type == TYPE_PROJECTOR) {
        /* Not events: the projector's files, found by walking LOGDIR. */
        o.view_run = NULL;
        struct cli_kind_out ko = {kind_row, &o, o.full, &a.f};
        err = cli_kind_projector_rows(&ko, a.logdir, &corrupt);
        if (err == -ECANCELED)
            err = 0;
    } else {
        err = collect_read(r, &o, &a, &corrupt);
        if (err == 0 && o.type == TYPE_MESH) {
            struct cli_kind_out ko = {kind_row, &o, o.full, &a.f};
            o.view_run = o.meshes.run;
            err = cli_kind_mesh_flush(&ko, &o.meshes);
            if (err == -ECANCELED)
                err = 0;
        }
    }
    if (err == 0 && o.view) {
        struct cli_view *v = o.view;
        struct view_print vp = {.o = &o, .left = a.max_rows, .limit = a.limit};
        o.view = NULL;   /* from here on rows are printed */
        err = cli_view_each(v, view_print_row, &vp);
        if (err == -ECANCELED)
            err = 0;
        cli_view_free(v);
    }
    if (err < 0) {
        cli_error("%s: %s", a.logdir, err == -E2BIG ? "too many values to hold for --view "
                  "tensorboard (narrow it with --run or --tag)" : strerror(-err));
        status = CLI_EXIT_IO;
    }
    if (o.format == FORMAT_TABLE && (o.n_pending > 0 || !o.header_done))
        table_flush(&o);
    out_flush(&o);
    free(o.pending);
    cli_mesh_acc_reset(&o.meshes);
    cli_view_free(o.view);
    buf_free(&o.line);
    buf_free(&o.row);
    buf_free(&o.out);
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK) {
        cli_error("writing output: %s", strerror(errno));
        status = CLI_EXIT_IO;
    }
    logdir_reader_free(r);
    if (status == CLI_EXIT_OK && corrupt)
        status = CLI_EXIT_DATA;
    return status;
}
