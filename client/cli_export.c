/* tfevents export: a logdir's values as ordinary files.
 *
 * OUT/index.csv           one row per file written for a value
 * OUT/hparams.csv         one row per hparams session (run)
 * OUT/RUN/scalars.csv     step,wall_time,tag,value
 * OUT/RUN/histograms.csv  step,wall_time,tag,left,right,count
 * OUT/RUN/text/TAG.md     every step of a text tag, as Markdown
 * OUT/RUN/tables/TAG/step-N.csv         a text table (rank 2), as CSV
 * OUT/RUN/images/TAG/step-N[-K].png|jpg|gif
 * OUT/RUN/audio/TAG/step-N[-K].wav
 * OUT/RUN/pr_curves/TAG/step-N.csv, OUT/RUN/meshes/NAME/step-N[-K].ply,
 * OUT/RUN/layout/TAG/step-N.json, OUT/RUN/projector/...: cli_export_kinds.h
 *
 * RUN and TAG are cleaned names (cli_export_names.h; the logdir's own run
 * "." is _root); index.csv maps every file back to its exact run, tag and
 * step. Everything is created below
 * OUT through directory descriptors, without following links, and OUT must
 * be new or empty, so an export never writes over anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cli_s3.h"
#include "cli_export_hparams.h"
#include "cli_export_kinds.h"
#include "cli_export_names.h"
#include "cli_filter.h"
#include "cli_view.h"
#include "logdir_reader.h"
#include "utf8.h"
#include "value_json.h"
#include "fdio.h"

/* Rows buffered per CSV file before they are appended to it. */
#define EXPORT_FLUSH_BYTES (256u << 10)
/* Files of one tag at one step with the same name (a step written twice,
 * in a raw export) get "~2", "~3"... up to this. */
#define EXPORT_MAX_SAME_NAME 100000u

struct export_counts {
    uint64_t scalars, histograms, texts, tables, images, audio, hparams, skipped;
    uint64_t pr_curves, meshes, layouts, embeddings;
};

struct export {
    const char *out_path;
    int out_fd;
    struct cli_filter f;        /* --run, --tag, --view, --precision */
    struct export_names names;
    struct strmap keep;         /* --view: the values TensorBoard keeps */
    /* The run being written: its directory and buffered CSV rows. */
    const char *run_dir;        /* borrowed from names */
    char *run;                  /* owned */
    int run_fd;
    struct buf scalars, histograms;
    struct buf index;
    struct buf tmp, tmp2;
    struct cli_mesh_acc meshes;  /* parts of the current step, by mesh name */
    struct export_hparams *hp;
    struct export_counts counts;
};

static void export_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents export [LOGDIR] --out DIR [--run GLOB] [--tag GLOB]\n"
        "                       [--view raw|tensorboard] [--precision shortest|full]\n"
        "\n"
        "Write the values of LOGDIR (default: logs) as files under DIR, which must\n"
        "be new or empty: per run, scalars.csv and histograms.csv, text as\n"
        "Markdown (tables also as CSV), images and audio as their own files; and\n"
        "index.csv (every file with its run, tag and step) and hparams.csv.\n"
        "\n"
        "  -o, --out DIR        where to write (made if missing)\n"
        CLI_FILTER_USAGE
        "                       (with --view tensorboard LOGDIR is read twice)\n"
        "  -h, --help           this text\n"
        "\n"
        "exit status: 0 ok, 1 corruption found (the rest is exported), 2 usage\n"
        "error, 3 LOGDIR cannot be read or DIR written\n");
}

/* ---- files under OUT ---------------------------------------------------- */

/* The directory name in parent, made if missing; never through a link. */
static int dir_at(int parent, const char *name)
{
    if (mkdirat(parent, name, 0777) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Append data to name in dirfd; create it (with head first) when new. A
 * link or a file we did not make is never written through. */
static int append_file(int dirfd, const char *name, const char *head, const void *data,
                       size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    bool made = false;
    if (fd < 0 && errno == ENOENT) {
        fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
                    O_CLOEXEC, 0666);
        made = true;
    }
    if (fd < 0)
        return -errno;
    int r = made && head ? fdio_write_all(fd, head, strlen(head)) : 0;
    if (!r)
        r = fdio_write_all(fd, data, len);
    if (close(fd) < 0 && !r)
        r = -errno;
    return r;
}

/* A new file in dirfd named stem + ext, or stem~2 + ext... when taken; its
 * name in name (EXPORT_NAME_SIZE bytes). Returns the open descriptor. */
static int create_unique(int dirfd, const char *stem, const char *ext, char *name)
{
    for (unsigned i = 1; i <= EXPORT_MAX_SAME_NAME; i++) {
        if (i == 1)
            snprintf(name, EXPORT_NAME_SIZE, "%s%s", stem, ext);
        else
            snprintf(name, EXPORT_NAME_SIZE, "%s~%u%s", stem, i, ext);
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0666);
        if (fd >= 0 || errno != EEXIST)
            return fd < 0 ? -errno : fd;
    }
    return -EEXIST;
}

/* ---- CSV ---------------------------------------------------------------- */

static int csv_field(struct buf *b, const char *s, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return buf_append(b, s, len);
    int r = buf_append(b, "\"", 1);
    for (size_t i = 0; i < len && !r; i++)
        r = s[i] == '"' ? buf_append(b, "\"\"", 2) : buf_append(b, s + i, 1);
    return r ? r : buf_append(b, "\"", 1);
}

/* A run or tag name as a cell: not valid UTF-8 (a foreign writer's
 * bytes), it is shown as TensorBoard shows it, with U+FFFD. */
static int csv_str(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    if (utf8_valid(s, len))
        return csv_field(b, s, len);
    char *fixed = utf8_replace(s, len);
    int r = fixed ? csv_field(b, fixed, strlen(fixed)) : -ENOMEM;
    free(fixed);
    return r;
}

static int csv_double(struct buf *b, double d)
{
    char num[64];
    value_format_double(num, sizeof num, d);
    return buf_append_str(b, num);
}

/* ---- the run being written ---------------------------------------------- */

static int flush_csv(struct export *x, struct buf *b, const char *name, const char *head)
{
    if (b->len == 0)
        return 0;
    int r = append_file(x->run_fd, name, head, b->data, b->len);
    buf_reset(b);
    return r;
}

static int run_flush(struct export *x)
{
    if (x->run_fd < 0)
        return 0;
    int r = flush_csv(x, &x->scalars, "scalars.csv", "step,wall_time,tag,value\n");
    int r2 = flush_csv(x, &x->histograms, "histograms.csv",
                       "step,wall_time,tag,left,right,count\n");
    return r ? r : r2;
}

static int run_close(struct export *x)
{
    int r = run_flush(x);
    if (x->run_fd >= 0)
        close(x->run_fd);
    x->run_fd = -1;
    free(x->run);
    x->run = NULL;
    x->run_dir = NULL;
    return r;
}

/* Make run the one being written (its directory open in x->run_fd). */
static int run_enter(struct export *x, const char *run)
{
    if (x->run && strcmp(x->run, run) == 0)
        return 0;
    int r = run_close(x);
    if (r)
        return r;
    const char *dir;
    /* The logdir's own run "." has no name of its own: "_root". */
    if ((r = export_names_get(&x->names, "", run, strcmp(run, ".") == 0 ? "_root" : NULL,
                              &dir)) < 0)
        return r;
    if (!(x->run = strdup(run)))
        return -ENOMEM;
    x->run_dir = dir;
    x->run_fd = dir_at(x->out_fd, dir);
    return x->run_fd < 0 ? x->run_fd : 0;
}

/* ---- values ------------------------------------------------------------- */

struct val {
    const struct logdir_reader_item *it;
    const char *tag;
    const struct decoded_value *v;
};

static int row_head(struct buf *b, const struct val *vl)
{
    int r = buf_printf(b, "%" PRId64 ",", vl->it->event->step);
    if (!r) r = csv_double(b, vl->it->event->wall_time);
    if (!r) r = buf_append(b, ",", 1);
    if (!r) r = csv_str(b, vl->tag);
    return r;
}

/* One row of index.csv for the file at path (relative to OUT). */
static int index_row_of(struct export *x, const char *run, const char *tag, const char *step,
                        const char *wall, const char *kind, const char *path)
{
    struct buf *b = &x->index;
    int r = csv_str(b, run);
    if (!r) r = buf_append(b, ",", 1);
    if (!r) r = csv_str(b, tag);
    if (!r) r = buf_printf(b, ",%s,%s,%s,", step, wall, kind);
    if (!r) r = csv_str(b, path);
    if (!r) r = buf_append(b, "\n", 1);
    if (!r && b->len >= EXPORT_FLUSH_BYTES) {
        r = append_file(x->out_fd, "index.csv", NULL, b->data, b->len);
        buf_reset(b);
    }
    return r;
}

static int index_row(struct export *x, const struct val *vl, const char *kind,
                     const char *path)
{
    char step[24], wall[64];
    snprintf(step, sizeof step, "%" PRId64, vl->it->event->step);
    value_format_double(wall, sizeof wall, vl->it->event->wall_time);
    return index_row_of(x, vl->it->run, vl->tag, step, wall, kind, path);
}

static int export_scalar(struct export *x, const struct val *vl)
{
    char num[64];
    cli_format_scalar(num, sizeof num, vl->v->scalar, vl->v->dtype, x->f.full);
    struct buf *b = &x->scalars;
    int r = row_head(b, vl);
    if (!r) r = buf_printf(b, ",%s\n", num);
    if (!r) r = export_hparams_scalar(x->hp, vl->it->run, vl->tag, vl->v->scalar);
    if (!r && b->len >= EXPORT_FLUSH_BYTES)
        r = flush_csv(x, b, "scalars.csv", "step,wall_time,tag,value\n");
    x->counts.scalars++;
    return r;
}

static int export_histogram(struct export *x, const struct val *vl)
{
    struct buf *b = &x->histograms;
    const double *n = vl->v->numbers;
    int r = 0;
    for (size_t i = 0; i + 2 < vl->v->n_numbers && !r; i += 3) {
        r = row_head(b, vl);
        for (size_t k = 0; k < 3 && !r; k++) {
            r = buf_append(b, ",", 1);
            if (!r) r = csv_double(b, n[i + k]);
        }
        if (!r) r = buf_append(b, "\n", 1);
    }
    if (!r && b->len >= EXPORT_FLUSH_BYTES)
        r = flush_csv(x, b, "histograms.csv", "step,wall_time,tag,left,right,count\n");
    x->counts.histograms++;
    return r;
}

/* The extension of an image or audio file, from its first bytes. */
static const char *media_ext(const struct value_bytes *b, bool audio)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *ext;
    } kinds[] = {
        {"\x89PNG\r\n\x1a\n", 8, ".png"}, {"\xff\xd8\xff", 3, ".jpg"},
        {"GIF8", 4, ".gif"}, {"BM", 2, ".bmp"}, {"RIFF", 4, ".wav"},
        {"OggS", 4, ".ogg"}, {"fLaC", 4, ".flac"}, {"ID3", 3, ".mp3"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        bool image = i < 4;
        if (image != audio && b->len >= kinds[i].len &&
            memcmp(b->data, kinds[i].magic, kinds[i].len) == 0)
            return kinds[i].ext;
    }
    return ".bin";
}

/* The directory of vl's tag under kind ("images", "audio", "tables") of
 * the current run: its descriptor, and its path relative to OUT in x->tmp;
 * with make false ("text": a file per tag) the kind's directory instead. */
static int tag_dir(struct export *x, const struct val *vl, const char *kind, bool make)
{
    const char *tdir;
    buf_reset(&x->tmp2);
    int r = buf_printf(&x->tmp2, "%s/%s", x->run_dir, kind);
    if (r || (r = export_names_get(&x->names, (char *)x->tmp2.data, vl->tag, NULL, &tdir)) < 0)
        return r < 0 ? r : -ENOMEM;
    buf_reset(&x->tmp);
    if ((r = buf_printf(&x->tmp, "%s/%s/%s", x->run_dir, kind, tdir)) < 0)
        return r;
    int kfd = dir_at(x->run_fd, kind);
    if (kfd < 0 || !make)
        return kfd;
    int fd = dir_at(kfd, tdir);
    close(kfd);
    return fd;
}

/* Write data as the k-th of n files of vl's tag under dir (step-N.ext,
 * step-N-K.ext when n > 1), listed in the index as kind. */
static int export_file(struct export *x, const struct val *vl, const char *dir, size_t k,
                       size_t n, const char *ext, const char *kind, const void *data,
                       size_t len)
{
    int dfd = tag_dir(x, vl, dir, true);
    if (dfd < 0)
        return dfd;
    char stem[64], name[EXPORT_NAME_SIZE];
    if (n > 1)
        snprintf(stem, sizeof stem, "step-%" PRId64 "-%zu", vl->it->event->step, k);
    else
        snprintf(stem, sizeof stem, "step-%" PRId64, vl->it->event->step);
    int fd = create_unique(dfd, stem, ext, name);
    close(dfd);
    if (fd < 0)
        return fd;
    int r = fdio_write_all(fd, data, len);
    if (close(fd) < 0 && !r)
        r = -errno;
    if (!r) r = buf_printf(&x->tmp, "/%s", name);
    if (!r) r = index_row(x, vl, kind, (char *)x->tmp.data);
    return r;
}

/* Write the k-th of n blobs of vl as its own file. */
static int export_blob(struct export *x, const struct val *vl, const char *kind,
                       const struct value_bytes *blob, size_t k, size_t n)
{
    return export_file(x, vl, kind, k, n, media_ext(blob, kind[0] == 'a'),
                       kind[0] == 'a' ? "audio" : "image", blob->data, blob->len);
}

/* A PR curve, as the CSV of what TensorBoard serves (cli_export_kinds.h). */
static int export_pr_curve(struct export *x, const struct val *vl)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = cli_export_pr_csv(&b, vl->v, x->f.full);
    if (!r) r = export_file(x, vl, "pr_curves", 0, 1, ".csv", "pr_curve", b.data, b.len);
    buf_free(&b);
    x->counts.pr_curves++;
    return r;
}

/* The meshes gathered (cli_kinds.h): a PLY per sample, under the mesh's
 * name. Parts without vertices are counted as not exported. */
static int export_meshes_flush(struct export *x)
{
    struct cli_mesh_acc *acc = &x->meshes;
    if (!acc->run)
        return 0;
    Tensorboard__Event ev = TENSORBOARD__EVENT__INIT;
    ev.step = acc->step;
    ev.wall_time = acc->wall_time;
    struct logdir_reader_item it = {.run = acc->run, .event = &ev};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = run_enter(x, acc->run);
    for (size_t i = 0; !r && i < acc->n; i++) {
        const struct cli_mesh *m = &acc->m[i];
        if (!m->part[CLI_MESH_VERTEX].v) {
            x->counts.skipped++;
            continue;
        }
        struct val vl = {&it, m->name, NULL};
        for (size_t k = 0; !r && k < m->samples; k++) {
            buf_reset(&b);
            r = cli_export_mesh_ply(&b, m, k, acc->run, acc->step);
            if (!r) r = export_file(x, &vl, "meshes", k, m->samples, ".ply", "mesh", b.data,
                                    b.len);
        }
        x->counts.meshes++;
    }
    buf_free(&b);
    cli_mesh_acc_reset(acc);
    return r;
}

/* A tensor of a newer dashboard, or a generic one (not exported). */
static int export_tensor(struct export *x, const struct val *vl)
{
    size_t width, kept;
    if (cli_pr_curve(vl->v, &width, &kept))
        return export_pr_curve(x, vl);
    int r = cli_mesh_acc_add(&x->meshes, vl->it, (size_t)(vl->v - vl->it->values));
    if (r != 0)
        return r < 0 ? r : 0;
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    r = cli_export_layout_json(&b, vl->v);
    if (r == 0) {
        r = export_file(x, vl, "layout", 0, 1, ".json", "layout", b.data, b.len);
        x->counts.layouts++;
    } else if (r == -EINVAL) {
        x->counts.skipped++;
        r = 0;
    }
    buf_free(&b);
    return r;
}

static int export_image(struct export *x, const struct val *vl)
{
    const struct decoded_value *v = vl->v;
    int r = 0;
    size_t n = v->n_strings > 2 ? v->n_strings - 2 : 0;
    for (size_t k = 0; k < n && !r; k++)
        r = export_blob(x, vl, "images", &v->strings[2 + k], k, n);
    x->counts.images += n;
    return r;
}

static int export_audio(struct export *x, const struct val *vl)
{
    const struct decoded_value *v = vl->v;
    int r = 0;
    for (size_t k = 0; k < v->n_clips && !r; k++)
        r = export_blob(x, vl, "audio", &v->clips[k].bytes, k, v->n_clips);
    x->counts.audio += v->n_clips;
    return r;
}

/* s on one line, valid UTF-8 (NUL-terminated in b, not counted). */
static int md_inline(struct buf *b, const char *s)
{
    size_t start = b->len;
    char *fixed = utf8_valid(s, strlen(s)) ? NULL : utf8_replace(s, strlen(s));
    int r = buf_append(b, fixed ? fixed : s, strlen(fixed ? fixed : s) + 1);
    free(fixed);
    if (r)
        return r;
    b->len--;
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r' || b->data[i] == '\t')
            b->data[i] = ' ';
    return 0;
}

/* A table cell in Markdown: '|' escaped, line breaks as <br>. */
static int md_cell(struct buf *b, const struct value_bytes *s)
{
    int r = buf_append(b, " ", 1);
    for (size_t i = 0; i < s->len && !r; i++) {
        char c = (char)s->data[i];
        r = c == '|' ? buf_append(b, "\\|", 2) : c == '\n' ? buf_append(b, "<br>", 4)
            : c == '\r' ? 0 : buf_append(b, &c, 1);
    }
    return r ? r : buf_append(b, " |", 2);
}

/* A rank-1 or rank-2 text value as a Markdown table (TensorBoard shows
 * them as tables without a header: the header row is left empty). */
static int md_table(struct buf *b, const struct decoded_value *v, size_t rows, size_t cols)
{
    int r = 0;
    for (int pass = 0; pass < 2 && !r; pass++) {
        r = buf_append(b, "|", 1);
        for (size_t c = 0; c < cols && !r; c++)
            r = buf_append_str(b, pass ? "---|" : "   |");
        if (!r) r = buf_append(b, "\n", 1);
    }
    for (size_t i = 0; i < rows && !r; i++) {
        r = buf_append(b, "|", 1);
        for (size_t c = 0; c < cols && !r; c++)
            r = md_cell(b, &v->strings[i * cols + c]);
        if (!r) r = buf_append(b, "\n", 1);
    }
    return r;
}

/* A rank-2 text value as CSV (no header: the rows are the data); its
 * path relative to OUT in x->tmp. */
static int text_csv(struct export *x, const struct val *vl, size_t rows, size_t cols)
{
    char name[EXPORT_NAME_SIZE];
    int dfd = tag_dir(x, vl, "tables", true);
    if (dfd < 0)
        return dfd;
    char stem[64];
    snprintf(stem, sizeof stem, "step-%" PRId64, vl->it->event->step);
    int fd = create_unique(dfd, stem, ".csv", name);
    close(dfd);
    if (fd < 0)
        return fd;
    struct buf *b = &x->tmp2;
    buf_reset(b);
    int r = 0;
    for (size_t i = 0; i < rows && !r; i++) {
        for (size_t c = 0; c < cols && !r; c++) {
            const struct value_bytes *s = &vl->v->strings[i * cols + c];
            if (c) r = buf_append(b, ",", 1);
            if (!r) r = csv_field(b, (const char *)s->data, s->len);
        }
        if (!r) r = buf_append(b, "\n", 1);
    }
    if (!r) r = fdio_write_all(fd, b->data, b->len);
    if (close(fd) < 0 && !r)
        r = -errno;
    if (!r) r = buf_printf(&x->tmp, "/%s", name);
    if (!r) r = index_row(x, vl, "table", (char *)x->tmp.data);
    x->counts.tables++;
    return r;
}

/* A text value: a section of its tag's Markdown file. */
static int export_text(struct export *x, const struct val *vl)
{
    const struct decoded_value *v = vl->v;
    size_t rank = v->shape.rank;
    size_t rows = rank >= 1 ? (size_t)v->shape.dims[0] : 1;
    size_t cols = rank == 2 ? (size_t)v->shape.dims[1] : 1;
    char *table = NULL;   /* the CSV's path, relative to the run */
    int r = 0;
    if (rank == 2 && rows * cols == v->n_strings) {
        if ((r = text_csv(x, vl, rows, cols)))
            return r;
        if (!(table = strdup((char *)x->tmp.data + strlen(x->run_dir) + 1)))
            return -ENOMEM;
    }
    int dfd = tag_dir(x, vl, "text", false);   /* x->tmp: RUN/text/TAG */
    if (dfd < 0) {
        free(table);
        return dfd;
    }
    const char *slash = strrchr((char *)x->tmp.data, '/');
    char md[EXPORT_NAME_SIZE + 4];
    snprintf(md, sizeof md, "%s.md", slash + 1);
    struct buf *b = &x->tmp2;
    buf_reset(b);
    r = buf_printf(b, "## Step %" PRId64 "\n\n", vl->it->event->step);
    if (!r && rank == 0 && v->n_strings == 1)
        r = buf_append(b, v->strings[0].data, v->strings[0].len);
    else if (!r && rank <= 2 && rows * cols == v->n_strings)
        r = md_table(b, v, rows, cols);
    else if (!r) {
        /* Higher ranks: the value as JSON, in a fence. */
        cJSON *j = value_to_json(v);
        r = j ? buf_append_str(b, "```json\n") : -ENOMEM;
        if (!r) r = value_json_print(b, j);
        if (!r) r = buf_append_str(b, "\n```");
        cJSON_Delete(j);
    }
    if (!r && table)
        r = buf_printf(b, "\n[CSV](../%s)", table);
    if (!r) r = buf_append_str(b, "\n\n");
    free(table);
    if (!r) {
        /* The heading names the tag and run, on one line, in code spans. */
        struct buf head;
        buf_init(&head, BUF_NO_CAP);
        r = buf_append_str(&head, "# Text `` ");
        if (!r) r = md_inline(&head, vl->tag);
        if (!r) r = buf_append_str(&head, " ``, run `` ");
        if (!r) r = md_inline(&head, vl->it->run);
        if (!r) r = buf_append(&head, " ``\n\n", 6);
        if (!r) r = append_file(dfd, md, (char *)head.data, b->data, b->len);
        buf_free(&head);
    }
    close(dfd);
    if (!r) {
        buf_reset(&x->tmp2);
        r = buf_printf(&x->tmp2, "%s/text/%s", x->run_dir, md);
    }
    if (!r) r = index_row(x, vl, "text", (char *)x->tmp2.data);
    x->counts.texts++;
    return r;
}

static int export_value(struct export *x, const struct val *vl)
{
    int r = run_enter(x, vl->it->run);
    if (r)
        return r;
    switch (vl->v->kind) {
    case VALUE_SCALAR: return export_scalar(x, vl);
    case VALUE_HISTOGRAM: return export_histogram(x, vl);
    case VALUE_TEXT: return export_text(x, vl);
    case VALUE_IMAGE: return export_image(x, vl);
    case VALUE_AUDIO: return export_audio(x, vl);
    case VALUE_HPARAMS:
        x->counts.hparams++;
        return export_hparams_value(x->hp, vl->it->run, vl->v);
    case VALUE_TENSOR:
        return export_tensor(x, vl);
    default:
        x->counts.skipped++;
        return 0;
    }
}

/* ---- reading ------------------------------------------------------------ */

/* The key of value i of an item for --view: run, file, offset, index. */
static int view_key(struct buf *b, const struct logdir_reader_item *it, size_t i)
{
    buf_reset(b);
    return buf_printf(b, "%s%c%s%c%" PRIu64 ":%zu", it->run, 0, it->file, 0, it->offset, i);
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

static int add_kept(void *arg, const char *data, size_t len)
{
    struct strmap_entry *e;
    int r = strmap_put(arg, data, len, &e);
    return r < 0 ? r : 0;
}

/* One pass over logdir: with a view, every value is added to it; without,
 * the values are exported (those in x->keep only, when it is used). */
static int export_pass(struct export *x, const char *logdir, struct cli_view *view,
                       bool *corrupt)
{
    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = view != NULL;
    logdir_reader *rd = NULL;
    int err = logdir_reader_open(&rd, logdir, &opts);
    if (err < 0)
        return err;
    struct logdir_reader_item it;
    int rc = 0;
    struct buf key;
    buf_init(&key, BUF_NO_CAP);
    while (err == 0 && (rc = logdir_reader_next(rd, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_PROBLEM) {
            /* Problems are told on the pass that writes. */
            if (!view)
                report_problem(&it, corrupt);
            continue;
        }
        if (!cli_filter_run(&x->f, it.run))
            continue;
        /* The meshes of the previous step are complete. */
        if (!view && cli_mesh_acc_other(&x->meshes, &it) && (err = export_meshes_flush(x)) < 0)
            break;
        if (view && (err = cli_view_event(view, &it)) < 0)
            break;
        for (size_t i = 0; err == 0 && i < it.n_values; i++) {
            const struct decoded_value *v = &it.values[i];
            const char *tag = it.event->summary->value[i]->tag;
            if (v->kind == VALUE_EMPTY || !cli_filter_tag(&x->f, tag))
                continue;
            if (x->f.view && (err = view_key(&key, &it, i)) < 0)
                break;
            if (view) {
                err = cli_view_add(view, it.run, tag, it.event->step, key.data, key.len);
            } else if (!x->f.view || strmap_get(&x->keep, key.data, key.len)) {
                struct val vl = {&it, tag, v};
                err = export_value(x, &vl);
            }
        }
    }
    if (!err && !view)
        err = export_meshes_flush(x);
    buf_free(&key);
    logdir_reader_free(rd);
    return err < 0 ? err : rc < 0 ? rc : 0;
}

/* ---- the command -------------------------------------------------------- */

/* OUT opened, made (with its parents) when missing; -ENOTEMPTY when it
 * holds anything. */
static int open_out(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        char *p = strdup(path);
        if (!p)
            return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
            if (*s != '/')
                continue;
            *s = '\0';
            if (mkdir(p, 0777) < 0 && errno != EEXIST) {
                free(p);
                return -errno;
            }
            *s = '/';
        }
        free(p);
        if (mkdir(path, 0777) < 0 && errno != EEXIST)
            return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        close(fd);
        return -ENOMEM;
    }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    if (!empty) {
        close(fd);
        return -ENOTEMPTY;
    }
    return fd;
}

static int export_parse(int argc, char **argv, struct export *x, const char **logdir)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        CLI_FILTER_LONGOPTS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_filter_init(&x->f, "export");
    int c, t;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:" CLI_FILTER_SHORTOPTS "h", longopts, NULL)) != -1) {
        if ((t = cli_filter_option(&x->f, c, optarg)) != 0) {
            if (t < 0)
                return CLI_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 'o': x->out_path = optarg; break;
        case 'h':
            export_usage(stdout);
            return -1;
        default:
            export_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1 || !x->out_path || !*x->out_path) {
        cli_error(argc - optind > 1 ? "export: one LOGDIR only" : "export: --out DIR is needed");
        export_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    *logdir = optind < argc ? argv[optind] : "logs";
    return CLI_EXIT_OK;
}

/* ---- the projector's files ----------------------------------------------- */

struct projector_export {
    struct export *x;
    const char *run;
    bool *bad;
};

static int projector_index(void *arg, const char *tag, const char *step, const char *kind,
                           const char *path)
{
    struct projector_export *p = arg;
    return index_row_of(p->x, p->run, tag, step, "", kind, path);
}

static int projector_visit(void *arg, const char *run, int run_fd,
                           const struct projector_config *c, int err)
{
    struct projector_export *p = arg;
    if (!c) {
        cli_error("%s/%s: %s", run, PROJECTOR_CONFIG_NAME,
                  err == -EPROTO ? "a field this tfevents does not know"
                  : err == -EBADMSG ? "not a projector config (text format)" : strerror(-err));
        *p->bad = true;
        return 0;
    }
    int r = run_enter(p->x, run);
    p->run = run;
    if (!r) r = cli_export_projector(&p->x->names, p->x->run_dir, p->x->run_fd, run_fd, c,
                                     &p->x->f, projector_index, p, &p->x->counts.embeddings);
    return r;
}

/* Read (twice for --view) and write everything. */
static int export_run(struct export *x, const char *logdir, bool *corrupt)
{
    int err = 0;
    if (x->f.view) {
        struct cli_view *view = cli_view_new();
        if (!view)
            return -ENOMEM;
        err = export_pass(x, logdir, view, corrupt);
        if (!err)
            err = cli_view_each(view, add_kept, &x->keep);
        cli_view_free(view);
    }
    if (!err)
        err = export_pass(x, logdir, NULL, corrupt);
    struct projector_export pe = {x, NULL, corrupt};
    struct stat st;
    /* The projector's files are beside the events of a run directory. */
    if (!err && stat(logdir, &st) == 0 && S_ISDIR(st.st_mode))
        err = cli_projector_each(logdir, &x->f, projector_visit, &pe);
    int r = run_close(x);
    if (!err)
        err = r;
    if (!err && x->index.len > 0)
        err = append_file(x->out_fd, "index.csv", NULL, x->index.data, x->index.len);
    if (!err)
        err = export_hparams_write(x->hp, x->out_fd);
    return err;
}

int cli_export_main(int argc, char **argv)
{
    struct export x;
    memset(&x, 0, sizeof x);
    const char *logdir;
    int status = export_parse(argc, argv, &x, &logdir);
    if (status != CLI_EXIT_OK)
        return status < 0 ? CLI_EXIT_OK : status;
    /* The logdir must be readable before anything is made (s3://: a
     * downloaded copy, cli_s3.h). */
    s3mirror *m;
    if (cli_s3_open(&logdir, &m) < 0)
        return CLI_EXIT_IO;
    struct stat st;
    if (stat(logdir, &st) < 0) {
        cli_error("%s: %s", logdir, strerror(errno));
        s3mirror_free(m);
        return CLI_EXIT_IO;
    }
    x.out_fd = open_out(x.out_path);
    if (x.out_fd < 0) {
        cli_error("%s: %s", x.out_path, x.out_fd == -ENOTEMPTY
                  ? "not empty (export writes into a new or empty directory)"
                  : strerror(-x.out_fd));
        s3mirror_free(m);
        return CLI_EXIT_IO;
    }
    x.run_fd = -1;
    x.meshes.numbers = true;
    export_names_init(&x.names);
    strmap_init(&x.keep);
    buf_init(&x.scalars, BUF_NO_CAP);
    buf_init(&x.histograms, BUF_NO_CAP);
    buf_init(&x.index, BUF_NO_CAP);
    buf_init(&x.tmp, BUF_NO_CAP);
    buf_init(&x.tmp2, BUF_NO_CAP);
    int err = buf_append_str(&x.index, "run,tag,step,wall_time,kind,file\n");
    /* Our own files at the top are never a run's directory name. */
    if (!err) err = export_names_reserve(&x.names, "", "index.csv");
    if (!err) err = export_names_reserve(&x.names, "", "hparams.csv");
    if (!err && !(x.hp = export_hparams_new()))
        err = -ENOMEM;
    bool corrupt = false;
    if (!err)
        err = export_run(&x, logdir, &corrupt);
    if (err < 0) {
        cli_error("%s: %s", err == -E2BIG ? logdir : x.out_path,
                  err == -E2BIG ? "too many values to hold for --view tensorboard (narrow it "
                  "with --run or --tag)" : strerror(-err));
        status = CLI_EXIT_IO;
    } else {
        const struct export_counts *c = &x.counts;
        printf("%s: %" PRIu64 " scalars, %" PRIu64 " histograms, %" PRIu64 " texts (%" PRIu64
               " tables), %" PRIu64 " images, %" PRIu64 " audio clips, %" PRIu64
               " hparams values, %" PRIu64 " PR curves, %" PRIu64 " meshes, %" PRIu64
               " layouts, %" PRIu64 " embeddings", x.out_path, c->scalars, c->histograms,
               c->texts, c->tables, c->images, c->audio, c->hparams, c->pr_curves, c->meshes,
               c->layouts, c->embeddings);
        if (c->skipped)
            printf("; %" PRIu64 " values of other kinds not exported", c->skipped);
        putchar('\n');
        if (corrupt)
            status = CLI_EXIT_DATA;
    }
    run_close(&x);
    cli_mesh_acc_reset(&x.meshes);
    export_hparams_free(x.hp);
    export_names_done(&x.names);
    strmap_done(&x.keep);
    buf_free(&x.scalars);
    buf_free(&x.histograms);
    buf_free(&x.index);
    buf_free(&x.tmp);
    buf_free(&x.tmp2);
    close(x.out_fd);
    s3mirror_free(m);
    return status;
}
