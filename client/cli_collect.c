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
#include "logdir_reader.h"
#include "value_json.h"

enum type { TYPE_ANY, TYPE_SUMMARY, TYPE_SCALAR };
enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSONL };

/* Table widths are taken from the first rows; later rows that are wider
 * just push the columns right. */
#define TABLE_SAMPLE_ROWS 200
#define MAX_COLS 6

struct row {
    char *cells[MAX_COLS];
};

struct out {
    enum type type;
    enum format format;
    const char *const *cols;
    size_t ncols;
    struct row *pending;      /* table rows not yet printed */
    size_t n_pending;
    bool header_done;
    size_t width[MAX_COLS];
    struct buf line;
    struct buf row;           /* the row being printed */
};

static const char *const cols_any[] = {"run", "step", "wall_time", "kind"};
static const char *const cols_summary[] = {"run", "step", "wall_time", "tag", "plugin", "value"};
static const char *const cols_scalar[] = {"run", "tag", "step", "wall_time", "value"};

static void collect_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents collect [LOGDIR] [--type any|summary|scalar] [-n N]\n"
        "                        [--format table|csv|jsonl]\n"
        "\n"
        "Read every run of LOGDIR (default: logs) and print one row per event\n"
        "(--type any: run, step, wall_time, kind), per summary value (summary:\n"
        "run, step, wall_time, tag, plugin, value) or per scalar (scalar: run, tag,\n"
        "step, wall_time, value). Values are decoded the way TensorBoard loads them.\n"
        "\n"
        "  -t, --type TYPE      any (default), summary or scalar\n"
        "  -n, --max-rows N     stop after N rows\n"
        "  -f, --format FORMAT  table (default), csv or jsonl\n"
        "  -h, --help           this text\n"
        "\n"
        "Corrupt records are reported on stderr and their file is not read further.\n"
        "exit status: 0 ok (truncated tails are only warned about), 1 corruption\n"
        "found, 2 usage error, 3 LOGDIR cannot be read\n");
}

static const char *event_kind(const Tensorboard__Event *ev)
{
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

/* The value as one cell: scalars as numbers, rank-0 text as the string,
 * everything else as compact JSON. Appended to b. */
static int value_cell(struct buf *b, const struct decoded_value *v)
{
    if (v->kind == VALUE_SCALAR) {
        char num[64];
        value_format_double(num, sizeof num, v->scalar);
        return buf_append_str(b, num);
    }
    if (v->kind == VALUE_TEXT && v->shape.rank == 0 && v->n_strings == 1)
        return buf_append(b, v->strings[0].data, v->strings[0].len);
    cJSON *j = value_to_json(v);
    if (!j)
        return -ENOMEM;
    int r = value_json_print(b, j);
    cJSON_Delete(j);
    return r;
}

/* JSON value of a cell for jsonl: numbers stay numbers. */
static int jsonl_value(struct buf *b, const struct decoded_value *v)
{
    if (v->kind == VALUE_SCALAR && isfinite(v->scalar)) {
        char num[64];
        value_format_double(num, sizeof num, v->scalar);
        return buf_append_str(b, num);
    }
    cJSON *j = value_to_json(v);
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

/* Rows are assembled in o->row and written with one fwrite: stdio's
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
    fwrite(b->data, 1, b->len, stdout);
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

/* Emit one row of plain-text cells (table, csv). */
static int emit_cells(struct out *o, char *const *cells)
{
    if (o->format == FORMAT_CSV) {
        struct buf *b = &o->row;
        buf_reset(b);
        for (size_t i = 0; i < o->ncols; i++) {
            if (i)
                buf_append(b, ",", 1);
            csv_cell(b, cells[i]);
        }
        buf_append(b, "\n", 1);
        fwrite(b->data, 1, b->len, stdout);
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

static int emit_row(struct out *o, const struct logdir_reader_item *it,
                    const struct decoded_value *v, const char *tag)
{
    const Tensorboard__Event *ev = it->event;
    char step[32], wall[64];
    snprintf(step, sizeof step, "%" PRId64, ev->step);
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
        if (!r) r = buf_printf(b, ",\"step\":%s,\"wall_time\":", step);
        if (!r) r = isfinite(ev->wall_time) ? buf_append_str(b, wall) : json_str(b, wall);
        if (!r && o->type == TYPE_ANY) {
            r = buf_append_str(b, ",\"kind\":");
            if (!r) r = json_str(b, event_kind(ev));
        }
        if (!r && o->type == TYPE_SUMMARY) {
            r = buf_append_str(b, ",\"plugin\":");
            if (!r) r = json_str(b, v->plugin);
        }
        if (!r && o->type != TYPE_ANY) {
            r = buf_append_str(b, ",\"value\":");
            if (!r) r = jsonl_value(b, v);
        }
        if (!r) r = buf_append_str(b, "}\n");
        if (!r)
            fwrite(b->data, 1, b->len, stdout);
        return r;
    }

    char *cells[MAX_COLS];
    char *valcell = NULL;
    if (v) {
        r = value_cell(b, v);
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
        cells[3] = (char *)tag; cells[4] = (char *)v->plugin; cells[5] = valcell;
        break;
    case TYPE_SCALAR:
        cells[0] = (char *)it->run; cells[1] = (char *)tag; cells[2] = step;
        cells[3] = wall; cells[4] = valcell;
        break;
    }
    return emit_cells(o, cells);
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

int cli_collect_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"type", required_argument, NULL, 't'},
        {"max-rows", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct out o;
    memset(&o, 0, sizeof o);
    unsigned long long max_rows = 0;
    bool limit = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:n:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (strcmp(optarg, "any") == 0) o.type = TYPE_ANY;
            else if (strcmp(optarg, "summary") == 0) o.type = TYPE_SUMMARY;
            else if (strcmp(optarg, "scalar") == 0) o.type = TYPE_SCALAR;
            else {
                cli_error("collect: unknown --type '%s' (any, summary, scalar)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'n':
            if (!cli_parse_count(optarg, &max_rows)) {
                cli_error("collect: -n needs a non-negative number, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            limit = true;
            break;
        case 'f':
            if (strcmp(optarg, "table") == 0) o.format = FORMAT_TABLE;
            else if (strcmp(optarg, "csv") == 0) o.format = FORMAT_CSV;
            else if (strcmp(optarg, "jsonl") == 0) o.format = FORMAT_JSONL;
            else {
                cli_error("collect: unknown --format '%s' (table, csv, jsonl)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            collect_usage(stdout);
            return CLI_EXIT_OK;
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
    const char *logdir = optind < argc ? argv[optind] : "logs";
    switch (o.type) {
    case TYPE_ANY: o.cols = cols_any; o.ncols = 4; break;
    case TYPE_SUMMARY: o.cols = cols_summary; o.ncols = 6; break;
    case TYPE_SCALAR: o.cols = cols_scalar; o.ncols = 5; break;
    }

    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = false;   /* raw events, as collect_events() returns them */
    opts.decode_values = o.type != TYPE_ANY;
    logdir_reader *r = NULL;
    int err = logdir_reader_open(&r, logdir, &opts);
    if (err < 0) {
        cli_error("%s: %s", logdir, strerror(-err));
        return CLI_EXIT_IO;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    buf_init(&o.line, BUF_NO_CAP);
    buf_init(&o.row, BUF_NO_CAP);

    if (o.format == FORMAT_CSV) {
        for (size_t i = 0; i < o.ncols; i++)
            printf("%s%s", i ? "," : "", o.cols[i]);
        putchar('\n');
    }

    bool progress = isatty(STDERR_FILENO);
    uint64_t total = progress ? logdir_bytes(logdir) : 0;
    double start = now_s(), last_progress = start;
    uint64_t since_check = 0;
    bool corrupt = false;
    int status = CLI_EXIT_OK;
    unsigned long long rows = 0;
    struct logdir_reader_item it;
    int rc = 0;
    while (!(limit && rows >= max_rows) && (rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_PROBLEM) {
            if (progress)
                fputs("\r\033[K", stderr);
            report_problem(&it, &corrupt);
            continue;
        }
        if (o.type == TYPE_ANY) {
            err = emit_row(&o, &it, NULL, NULL);
            rows++;
        } else {
            for (size_t i = 0; !err && i < it.n_values && !(limit && rows >= max_rows); i++) {
                const struct decoded_value *v = &it.values[i];
                if (v->kind == VALUE_EMPTY || (o.type == TYPE_SCALAR && v->kind != VALUE_SCALAR))
                    continue;
                const Tensorboard__Summary__Value *sv = it.event->summary->value[i];
                err = emit_row(&o, &it, v, sv->tag);
                rows++;
            }
        }
        if (err < 0)
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
    if (err < 0 || rc < 0) {
        cli_error("%s: %s", logdir, strerror(-(err < 0 ? err : rc)));
        status = CLI_EXIT_IO;
    }
    if (o.format == FORMAT_TABLE && (o.n_pending > 0 || !o.header_done))
        table_flush(&o);
    free(o.pending);
    buf_free(&o.line);
    buf_free(&o.row);
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK) {
        cli_error("writing output: %s", strerror(errno));
        status = CLI_EXIT_IO;
    }
    logdir_reader_free(r);
    if (status == CLI_EXIT_OK && corrupt)
        status = CLI_EXIT_DATA;
    return status;
}
