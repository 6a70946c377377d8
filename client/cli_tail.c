/* tfevents tail: follow a logdir while it is being written.
 *
 * The logdir is polled with logdir_reader every --interval seconds; records
 * appended since the last poll, new files and new run directories are read
 * incrementally. A record cut short at the end of a file is not shown until
 * the writer completes it (the reader retries it on the next poll).
 *
 * On a terminal (and without --plain) a live table shows one line per run
 * and tag: latest step, latest value and a sparkline of recent values,
 * redrawn in place with ANSI escapes and cut to the terminal's width.
 * Otherwise one line per new value, "run tag step wall_time value", flushed
 * line by line so pipes see it at once. SIGINT and SIGTERM end it with
 * status 0. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_s3.h"
#include "logdir_reader.h"
#include "value_json.h"

/* Recent values kept per (run, tag) for the sparkline. */
#define TAIL_HISTORY 64
/* Series tracked in the live view; values of further tags are only counted. */
#define TAIL_MAX_SERIES 10000
/* Longest non-scalar summary ("image 64x64 x1", a text excerpt). */
#define TAIL_SUMMARY_CHARS 80
/* Bounds of --interval, in seconds. */
#define TAIL_MIN_INTERVAL 0.01
#define TAIL_MAX_INTERVAL 3600.0

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct series {
    char *run;
    char *tag;
    int64_t step;
    bool is_scalar;
    double value;
    char summary[TAIL_SUMMARY_CHARS];
    double history[TAIL_HISTORY];
    size_t n_history, head;   /* ring buffer */
};

struct tail {
    bool live;
    struct series *series;
    size_t n_series, cap_series;
    size_t dropped_series;
    unsigned lines_drawn;
    bool full;            /* --precision full */
    char status[256];     /* last problem, for the live view */
    struct buf line;
};

static void tail_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents tail LOGDIR [--interval S] [--plain] [--precision shortest|full]\n"
        "\n"
        "Follow the runs of LOGDIR as they are written: records appended later,\n"
        "new event files and new run directories are picked up every S seconds\n"
        "(default 1). On a terminal, a live table shows one line per run and tag\n"
        "with the latest step, the latest value and a sparkline of recent values;\n"
        "otherwise (or with --plain) one line per new value:\n"
        "    run tag step wall_time value\n"
        "where non-scalar values are summarised (\"image 64x64 x1\"). Incomplete\n"
        "records at the end of a file are shown once they are complete.\n"
        "Ctrl-C (SIGINT) or SIGTERM stops it. LOGDIR may be s3://BUCKET/PREFIX\n"
        "(what tfeventsd --upload writes): its listing is polled for new objects,\n"
        "copied into a temporary directory (removed at the end).\n"
        "\n"
        "  -i, --interval S   seconds between polls (%.2g to %.0f, default 1)\n"
        "  -p, --plain        plain lines even on a terminal\n"
        "  -P, --precision P  scalars in plain lines: shortest (default; a float32\n"
        "                     0.1 as 0.1) or full (its exact double)\n"
        "  -h, --help         this text\n"
        "\n"
        "exit status: 0 stopped by a signal, 2 usage error, 3 LOGDIR cannot be read\n",
        TAIL_MIN_INTERVAL, TAIL_MAX_INTERVAL);
}

/* A short description of a non-scalar value into out. */
static void summarise(const struct decoded_value *v, char *out, size_t size)
{
    switch (v->kind) {
    case VALUE_IMAGE: {
        char w[16] = "?", h[16] = "?";
        uint32_t wn, hn;
        if (cli_image_dims(v, &wn, &hn)) {
            snprintf(w, sizeof w, "%" PRIu32, wn);
            snprintf(h, sizeof h, "%" PRIu32, hn);
        }
        snprintf(out, size, "image %sx%s x%zu", w, h, v->n_strings >= 2 ? v->n_strings - 2 : 0);
        break;
    }
    case VALUE_AUDIO:
        if (v->n_clips > 0 && v->clips[0].is_wav)
            snprintf(out, size, "audio x%zu %" PRIu32 "Hz %" PRIu64 " frames", v->n_clips,
                     v->clips[0].sample_rate, v->clips[0].frames);
        else
            snprintf(out, size, "audio x%zu", v->n_clips);
        break;
    case VALUE_HISTOGRAM:
        snprintf(out, size, "histogram %zu buckets", v->n_numbers / 3);
        break;
    case VALUE_TEXT:
        if (v->shape.rank == 0 && v->n_strings == 1) {
            /* An excerpt on one line: control characters become spaces. */
            size_t n = 0, max = size > 16 ? size - 10 : 1;
            n = (size_t)snprintf(out, size, "text \"");
            for (size_t i = 0; i < v->strings[0].len && n + 5 < max; i++) {
                unsigned char c = v->strings[0].data[i];
                out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            }
            if (v->strings[0].len + 6 > max)
                n += (size_t)snprintf(out + n, size - n, "...");
            snprintf(out + n, size - n, "\"");
        } else {
            snprintf(out, size, "text x%zu", v->n_strings);
        }
        break;
    case VALUE_HPARAMS:
        snprintf(out, size, "hparams");
        break;
    case VALUE_TENSOR: {
        size_t n = (size_t)snprintf(out, size, "tensor %s [", tensor_dtype_name(v->dtype));
        for (size_t i = 0; i < v->shape.rank && n < size; i++)
            n += (size_t)snprintf(out + n, size - n, "%s%" PRId64, i ? "," : "", v->shape.dims[i]);
        if (n < size)
            snprintf(out + n, size - n, "]");
        break;
    }
    case VALUE_INVALID:
        snprintf(out, size, "invalid");
        break;
    default:
        snprintf(out, size, "%s", value_kind_name(v->kind));
        break;
    }
}

static struct series *find_series(struct tail *t, const char *run, const char *tag)
{
    /* Linear: the live view redraws every series anyway, and a screen holds
     * far fewer lines than this costs. */
    for (size_t i = 0; i < t->n_series; i++)
        if (strcmp(t->series[i].tag, tag) == 0 && strcmp(t->series[i].run, run) == 0)
            return &t->series[i];
    if (t->n_series >= TAIL_MAX_SERIES) {
        t->dropped_series++;
        return NULL;
    }
    if (t->n_series == t->cap_series) {
        size_t ncap = t->cap_series ? 2 * t->cap_series : 16;
        struct series *ns = realloc(t->series, ncap * sizeof *ns);
        if (!ns)
            return NULL;
        t->series = ns;
        t->cap_series = ncap;
    }
    struct series *s = &t->series[t->n_series];
    memset(s, 0, sizeof *s);
    s->run = strdup(run);
    s->tag = strdup(tag);
    if (!s->run || !s->tag) {
        free(s->run);
        free(s->tag);
        return NULL;
    }
    t->n_series++;
    return s;
}

static void plain_line(struct tail *t, const char *run, const char *tag,
                       const Tensorboard__Event *ev, const struct decoded_value *v)
{
    char step[32], wall[64], num[64], text[TAIL_SUMMARY_CHARS];
    snprintf(step, sizeof step, "%" PRId64, ev->step);
    value_format_double(wall, sizeof wall, ev->wall_time);
    const char *val = num;
    if (v->kind == VALUE_SCALAR) {
        cli_format_scalar(num, sizeof num, v->scalar, v->dtype, t->full);
    } else {
        summarise(v, text, sizeof text);
        val = text;
    }
    buf_reset(&t->line);
    buf_printf(&t->line, "%s %s %s %s %s\n", run, tag, step, wall, val);
    fwrite(t->line.data, 1, t->line.len, stdout);
    fflush(stdout);
}

static void record_value(struct tail *t, const char *run, const char *tag,
                         const Tensorboard__Event *ev, const struct decoded_value *v)
{
    struct series *s = find_series(t, run, tag);
    if (!s)
        return;
    s->step = ev->step;
    s->is_scalar = v->kind == VALUE_SCALAR;
    if (s->is_scalar) {
        s->value = v->scalar;
        s->history[s->head] = v->scalar;
        s->head = (s->head + 1) % TAIL_HISTORY;
        if (s->n_history < TAIL_HISTORY)
            s->n_history++;
    } else {
        summarise(v, s->summary, sizeof s->summary);
    }
}

/* ------------------------------------------------------------------ live view */

/* Display cells of a UTF-8 string (one per code point: good enough for tags
 * and the sparkline's block characters). */
static size_t cells(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            c++;
    return c;
}

/* Append s to b, cut so that no more than *room cells are used. */
static void put_cells(struct buf *b, const char *s, size_t *room)
{
    size_t n = strlen(s), i = 0, c = 0;
    while (i < n) {
        size_t len = 1;
        while (i + len < n && ((unsigned char)s[i + len] & 0xc0) == 0x80)
            len++;
        if (c + 1 > *room)
            break;
        c++;
        i += len;
    }
    buf_append(b, s, i);
    *room -= c;
}

static void sparkline(const struct series *s, size_t width, struct buf *b)
{
    static const char *const bars[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
    size_t n = s->n_history < width ? s->n_history : width;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        double x = s->history[(s->head + TAIL_HISTORY - n + k) % TAIL_HISTORY];
        if (isfinite(x)) {
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    }
    for (size_t k = 0; k < n; k++) {
        double x = s->history[(s->head + TAIL_HISTORY - n + k) % TAIL_HISTORY];
        if (!isfinite(x)) {
            buf_append_str(b, " ");
            continue;
        }
        int level = hi > lo ? (int)((x - lo) / (hi - lo) * 7.0 + 0.5) : 3;
        buf_append_str(b, bars[level < 0 ? 0 : level > 7 ? 7 : level]);
    }
}

static void terminal_size(unsigned *cols, unsigned *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
}

static void draw(struct tail *t, const char *logdir)
{
    unsigned cols, rows;
    terminal_size(&cols, &rows);
    struct buf *b = &t->line;
    buf_reset(b);
    /* Back to the top of what we drew last time, then overwrite it. */
    if (t->lines_drawn > 0)
        buf_printf(b, "\r\033[%uA", t->lines_drawn);
    unsigned lines = 0;
    size_t wrun = 3, wtag = 3;
    for (size_t i = 0; i < t->n_series; i++) {
        size_t a = cells(t->series[i].run, strlen(t->series[i].run));
        size_t c = cells(t->series[i].tag, strlen(t->series[i].tag));
        wrun = a > wrun ? a : wrun;
        wtag = c > wtag ? c : wtag;
    }
    wrun = wrun > cols / 4 ? cols / 4 : wrun;
    wtag = wtag > cols / 3 ? cols / 3 : wtag;
    char head[512];
    snprintf(head, sizeof head, "tfevents tail %s: %zu series%s%s", logdir, t->n_series,
             t->status[0] ? " -- " : "", t->status);
    size_t room = cols > 0 ? cols - 1 : 0;
    buf_append_str(b, "\033[K");
    put_cells(b, head, &room);
    buf_append_str(b, "\n");
    lines++;
    /* Leave the last terminal row free so drawing never scrolls. */
    size_t max_rows = rows > 3 ? rows - 3 : 1;
    for (size_t i = 0; i < t->n_series && lines <= max_rows; i++) {
        const struct series *s = &t->series[i];
        char cell[128];
        room = cols > 0 ? cols - 1 : 0;
        buf_append_str(b, "\033[K");
        size_t before = room;
        put_cells(b, s->run, &room);
        for (size_t k = before - room; k < wrun + 2 && room > 0; k++, room--)
            buf_append_str(b, " ");
        before = room;
        put_cells(b, s->tag, &room);
        for (size_t k = before - room; k < wtag + 2 && room > 0; k++, room--)
            buf_append_str(b, " ");
        snprintf(cell, sizeof cell, "%10" PRId64 "  ", s->step);
        put_cells(b, cell, &room);
        if (s->is_scalar) {
            snprintf(cell, sizeof cell, "%-14.6g  ", s->value);
            put_cells(b, cell, &room);
            sparkline(s, room, b);
        } else {
            put_cells(b, s->summary, &room);
        }
        buf_append_str(b, "\n");
        lines++;
    }
    if (t->n_series + 1 > lines) {
        char more[64];
        snprintf(more, sizeof more, "... %zu more", t->n_series + 1 - lines);
        room = cols > 0 ? cols - 1 : 0;
        buf_append_str(b, "\033[K");
        put_cells(b, more, &room);
        buf_append_str(b, "\n");
        lines++;
    }
    buf_append_str(b, "\033[J");   /* clear what an older, longer frame left */
    t->lines_drawn = lines;
    fwrite(b->data, 1, b->len, stdout);
    fflush(stdout);
}

/* ------------------------------------------------------------------ main loop */

static void problem(struct tail *t, const struct logdir_reader_item *it)
{
    if (it->fault == RECORD_FAULT_TRUNCATED)
        return;   /* shown once complete */
    char msg[sizeof t->status];
    if (it->error)
        snprintf(msg, sizeof msg, "%s: %s", it->file, strerror(-it->error));
    else
        snprintf(msg, sizeof msg, "%s: offset %" PRIu64 ": %s; not reading this file further",
                 it->file, it->offset, record_fault_str(it->fault));
    if (t->live)
        snprintf(t->status, sizeof t->status, "%s", msg);
    else
        cli_error("%s", msg);
}

/* Sleep for s seconds or until a signal asks us to stop. */
static void pause_for(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Show every item the reader has now; what logdir_reader_next() last
 * returned (0, or a negative errno). */
static int show_new(struct tail *t, logdir_reader *r)
{
    struct logdir_reader_item it;
    int rc = 0;
    while (!stop_requested && (rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_PROBLEM) {
            problem(t, &it);
            continue;
        }
        for (size_t i = 0; i < it.n_values; i++) {
            const struct decoded_value *v = &it.values[i];
            if (v->kind == VALUE_EMPTY)
                continue;
            const Tensorboard__Summary__Value *sv = it.event->summary->value[i];
            const char *tag = sv->tag && *sv->tag ? sv->tag : sv->node_name;
            if (t->live)
                record_value(t, it.run, tag, it.event, v);
            else
                plain_line(t, it.run, tag, it.event, v);
        }
    }
    return rc;
}

int cli_tail_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"plain", no_argument, NULL, 'p'},
        {"precision", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double interval = 1.0;
    bool plain = false, full = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:pP:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': {
            char *end;
            errno = 0;
            interval = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(interval >= TAIL_MIN_INTERVAL) ||
                interval > TAIL_MAX_INTERVAL) {
                cli_error("tail: --interval needs seconds from %g to %g, not '%s'",
                          TAIL_MIN_INTERVAL, TAIL_MAX_INTERVAL, optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'p':
            plain = true;
            break;
        case 'P':
            if (!cli_parse_precision(optarg, &full)) {
                cli_error("tail: unknown --precision '%s' (shortest, full)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            tail_usage(stdout);
            return CLI_EXIT_OK;
        default:
            tail_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("tail: needs exactly one LOGDIR");
        tail_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *logdir = argv[optind], *url = logdir;

    /* s3://: a local copy, synced before each poll (cli_s3.h). */
    s3mirror *m;
    if (cli_s3_open(&logdir, &m) < 0)
        return CLI_EXIT_IO;
    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = false;   /* show what is written, as it is written */
    opts.late_files = m != NULL;   /* nodes' segments arrive out of name order */
    logdir_reader *r = NULL;
    int err = logdir_reader_open(&r, logdir, &opts);
    if (err < 0) {
        cli_error("%s: %s", logdir, strerror(-err));
        s3mirror_free(m);
        return CLI_EXIT_IO;
    }

    /* No SA_RESTART: the signal interrupts nanosleep and we leave the loop. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct tail t;
    memset(&t, 0, sizeof t);
    t.live = !plain && isatty(STDOUT_FILENO);
    t.full = full;
    buf_init(&t.line, BUF_NO_CAP);
    int status = CLI_EXIT_OK;
    if (t.live)
        fputs("\033[?25l", stdout);   /* hide the cursor while redrawing */

    bool first = true;
    while (!stop_requested) {
        /* Object storage: the new keys (segments are immutable, so a key
         * once copied is never fetched again). A failure is said, and the
         * next poll tries again. */
        if (m && !first && cli_s3_sync(m, t.live) < 0 && t.live)
            snprintf(t.status, sizeof t.status, "%s", s3mirror_error(m));
        first = false;
        int rc = show_new(&t, r);
        if (stop_requested)
            break;
        if (rc < 0) {
            /* The logdir itself went away or cannot be listed: say so and
             * keep polling, it may come back. */
            if (t.live)
                snprintf(t.status, sizeof t.status, "%s: %s", url, strerror(-rc));
            else
                cli_error("%s: %s", url, strerror(-rc));
            if (rc == -ENOMEM) {
                status = CLI_EXIT_IO;
                break;
            }
        }
        if (t.live)
            draw(&t, url);
        pause_for(interval);
    }

    if (t.live)
        fputs("\033[?25h", stdout);   /* cursor back */
    fflush(stdout);
    for (size_t i = 0; i < t.n_series; i++) {
        free(t.series[i].run);
        free(t.series[i].tag);
    }
    free(t.series);
    buf_free(&t.line);
    logdir_reader_free(r);
    s3mirror_free(m);
    return status;
}
