#include "projector.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "png.h"
#include "shortest.h"
#include "utf8.h"
#include "fdio.h"

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void projector_embedding_done(struct projector_embedding *e)
{
    if (!e)
        return;
    free(e->tag);
    free(e->tensor);
    free_strv(e->header, e->n_header);
    free_strv(e->cells, e->n_cells);
    free(e->sprite);
    memset(e, 0, sizeof *e);
}

int projector_check_tag(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > PROJECTOR_MAX_TAG || tag[0] == '.' || !utf8_valid(tag, n))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)tag[i];
        if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\' || ch == ':')
            return -EINVAL;
    }
    return 0;
}

__attribute__((format(printf, 4, 5)))
static int say(char *err, size_t size, int code, const char *fmt, ...)
{
    if (size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* A cell or column name: UTF-8 without tab, CR or LF (they would split it). */
static bool cell_ok(const char *s)
{
    size_t n = strlen(s);
    return utf8_valid(s, n) && !memchr(s, '\t', n) && !memchr(s, '\n', n) &&
           !memchr(s, '\r', n);
}

static int check_metadata(const struct projector_embedding *e, char *err, size_t size)
{
    size_t cols = e->n_header ? e->n_header : 1;
    if (e->n_header > PROJECTOR_MAX_COLUMNS)
        return say(err, size, -EMSGSIZE, "metadata has %zu columns; the limit is %u",
                   e->n_header, PROJECTOR_MAX_COLUMNS);
    if (e->n_cells == 0) {
        if (e->n_header)
            return say(err, size, -EINVAL, "metadata has a header but no rows");
        return 0;
    }
    if (e->n_cells != e->rows * cols)
        return say(err, size, -EINVAL,
                   "metadata has %zu cells; %zu points x %zu columns need %zu", e->n_cells,
                   e->rows, cols, e->rows * cols);
    size_t bytes = 0;
    for (size_t i = 0; i < e->n_header + e->n_cells; i++) {
        const char *s = i < e->n_header ? e->header[i] : e->cells[i - e->n_header];
        if (!s || !cell_ok(s))
            return say(err, size, -EINVAL,
                       "metadata %s %zu holds a tab, a line break or invalid UTF-8",
                       i < e->n_header ? "column name" : "cell",
                       i < e->n_header ? i : i - e->n_header);
        bytes += strlen(s) + 1;
    }
    if (bytes > PROJECTOR_MAX_METADATA)
        return say(err, size, -EMSGSIZE, "metadata is %zu bytes; the limit is %zu", bytes,
                   PROJECTOR_MAX_METADATA);
    return 0;
}

static int check_sprite(const struct projector_embedding *e, char *err, size_t size)
{
    if (!e->sprite)
        return 0;
    if (e->sprite_len > PROJECTOR_MAX_SPRITE)
        return say(err, size, -EMSGSIZE, "sprite is %zu bytes; the limit is %zu",
                   e->sprite_len, PROJECTOR_MAX_SPRITE);
    uint32_t w = 0, h = 0;
    if (png_sniff(e->sprite, e->sprite_len, &w, &h) != PNG_FORMAT_PNG)
        return say(err, size, -EINVAL, "sprite is not a PNG image");
    if (e->sprite_dim[0] == 0 || e->sprite_dim[1] == 0 || e->sprite_dim[0] > w ||
        e->sprite_dim[1] > h)
        return say(err, size, -EINVAL,
                   "sprite single_image_dim %" PRIu32 "x%" PRIu32
                   " must be at least 1x1 and fit the %" PRIu32 "x%" PRIu32 " image",
                   e->sprite_dim[0], e->sprite_dim[1], w, h);
    /* The projector cuts a square grid of ceil(sqrt(points)) images. */
    uint64_t side = 1;
    while (side * side < e->rows)
        side++;
    if (side * e->sprite_dim[0] > w || side * e->sprite_dim[1] > h)
        return say(err, size, -EINVAL,
                   "sprite %" PRIu32 "x%" PRIu32 " cannot hold a %" PRIu64 "x%" PRIu64
                   " grid of %" PRIu32 "x%" PRIu32 " images (one per point)",
                   w, h, side, side, e->sprite_dim[0], e->sprite_dim[1]);
    return 0;
}

int projector_check(const struct projector_embedding *e, char *err, size_t size)
{
    if (projector_check_tag(e->tag) < 0)
        return say(err, size, -EINVAL,
                   "the tag must be 1..%u bytes of UTF-8 without '/', '\\', ':', "
                   "control characters or a leading '.'",
                   PROJECTOR_MAX_TAG);
    if (e->step < 0 || e->step > PROJECTOR_MAX_STEP)
        return say(err, size, -ERANGE, "the step must be 0..%" PRId64,
                   PROJECTOR_MAX_STEP);
    if (e->rows == 0 || e->cols == 0)
        return say(err, size, -EINVAL, "the tensor must have shape [N, D], N, D >= 1");
    if (e->cols > PROJECTOR_MAX_DIMS || e->rows > PROJECTOR_MAX_VALUES / e->cols)
        return say(err, size, -EMSGSIZE,
                   "the tensor [%zu, %zu] is too large (at most %zu values, %u "
                   "dimensions)",
                   e->rows, e->cols, PROJECTOR_MAX_VALUES, PROJECTOR_MAX_DIMS);
    if (!e->tensor)
        return say(err, size, -EINVAL, "a tensor is needed");
    /* The projector reads the TSV with JavaScript's Number(): no NaN or
     * infinity survives it. */
    for (size_t i = 0; i < e->rows * e->cols; i++)
        if (!isfinite(e->tensor[i]))
            return say(err, size, -EINVAL,
                       "tensor value %zu (row %zu) is not finite", i, i / e->cols);
    int r = check_metadata(e, err, size);
    return r < 0 ? r : check_sprite(e, err, size);
}

int projector_tensor_tsv(struct buf *out, const float *v, size_t rows, size_t cols)
{
    char num[48];
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            float f = v[i * cols + j];
            int k = shortest_float(num, sizeof num, f, 1, 9);
            /* Outside shortest_float()'s range: the first "%.Pg" that
             * reads back as f. */
            for (int prec = 1; k < 0 && prec <= 9; prec++) {
                k = snprintf(num, sizeof num, "%.*g", prec, (double)f);
                if (prec < 9 && strtof(num, NULL) != f)
                    k = -1;
            }
            int r = buf_append(out, num, (size_t)k);
            if (r == 0)
                r = buf_append(out, j + 1 < cols ? "\t" : "\n", 1);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

int projector_metadata_tsv(struct buf *out, const struct projector_embedding *e)
{
    size_t cols = e->n_header > 1 ? e->n_header : 1;
    int r = 0;
    /* One column: no header row (the projector would take it for a point). */
    for (size_t i = 0; e->n_header > 1 && r == 0 && i < e->n_header; i++)
        if ((r = buf_append_str(out, e->header[i])) == 0)
            r = buf_append(out, i + 1 < e->n_header ? "\t" : "\n", 1);
    for (size_t i = 0; r == 0 && i < e->n_cells; i++)
        if ((r = buf_append_str(out, e->cells[i])) == 0)
            r = buf_append(out, (i + 1) % cols ? "\t" : "\n", 1);
    return r;
}

/* ---- projector_config.pbtxt ------------------------------------------- */

static void entry_done(struct projector_entry *e)
{
    free(e->tensor_name);
    free(e->tensor_path);
    free(e->metadata_path);
    free(e->sprite_path);
    memset(e, 0, sizeof *e);
}

void projector_config_done(struct projector_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_done(&c->entries[i]);
    free(c->entries);
    free(c->checkpoint_path);
    free(c->checkpoint_dir);
    memset(c, 0, sizeof *c);
}

/* A tokenizer of the protobuf text format, enough for ProjectorConfig. */
struct lex {
    const char *p, *end;
    char word[64];              /* the last identifier */
    struct buf str;             /* the last string, unescaped, NUL-terminated */
    uint64_t num;
};

enum tok { T_END, T_WORD, T_STR, T_NUM, T_OPEN, T_CLOSE, T_COLON, T_BAD };

static void skip_space(struct lex *x)
{
    while (x->p < x->end) {
        if (*x->p == '#') {
            while (x->p < x->end && *x->p != '\n')
                x->p++;
        } else if (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r' ||
                   *x->p == ',' || *x->p == ';') {
            x->p++;
        } else {
            break;
        }
    }
}

static int lex_escape(struct lex *x)
{
    char c = *x->p++;
    int v = 0;
    switch (c) {
    case 'n': v = '\n'; break;
    case 't': v = '\t'; break;
    case 'r': v = '\r'; break;
    case '\\': case '"': case '\'': v = c; break;
    case 'x':
        for (int k = 0; k < 2 && x->p < x->end && strchr("0123456789abcdefABCDEF", *x->p) &&
                        *x->p; k++, x->p++)
            v = v * 16 + (*x->p <= '9' ? *x->p - '0' : (*x->p | 0x20) - 'a' + 10);
        break;
    default:
        if (c < '0' || c > '7')
            return -EBADMSG;
        v = c - '0';
        for (int k = 0; k < 2 && x->p < x->end && *x->p >= '0' && *x->p <= '7'; k++, x->p++)
            v = v * 8 + (*x->p - '0');
        if (v > 255)
            return -EBADMSG;
    }
    uint8_t b = (uint8_t)v;
    return buf_append(&x->str, &b, 1);
}

static enum tok lex_string(struct lex *x)
{
    char q = *x->p++;
    x->str.len = 0;
    while (x->p < x->end && *x->p != q) {
        if (*x->p == '\n')
            return T_BAD;
        int r = *x->p == '\\' && x->p + 1 < x->end ? (x->p++, lex_escape(x))
                                                    : buf_append(&x->str, x->p++, 1);
        if (r < 0)
            return T_BAD;
    }
    if (x->p >= x->end || buf_append(&x->str, "", 1) < 0)
        return T_BAD;
    x->p++;
    x->str.len--;
    return T_STR;
}

static enum tok lex_next(struct lex *x)
{
    skip_space(x);
    if (x->p >= x->end)
        return T_END;
    char c = *x->p;
    if (c == '{' || c == '<')
        return x->p++, T_OPEN;
    if (c == '}' || c == '>')
        return x->p++, T_CLOSE;
    if (c == ':')
        return x->p++, T_COLON;
    if (c == '"' || c == '\'')
        return lex_string(x);
    if (c >= '0' && c <= '9') {
        x->num = 0;
        while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
            if (x->num > (UINT64_MAX - 9) / 10)
                return T_BAD;
            x->num = x->num * 10 + (uint64_t)(*x->p++ - '0');
        }
        return T_NUM;
    }
    size_t n = 0;
    while (x->p < x->end && (*x->p == '_' || (*x->p >= 'a' && *x->p <= 'z') ||
                             (*x->p >= 'A' && *x->p <= 'Z') || (*x->p >= '0' && *x->p <= '9'))) {
        if (n + 1 >= sizeof x->word)
            return T_BAD;
        x->word[n++] = *x->p++;
    }
    x->word[n] = '\0';
    return n ? T_WORD : T_BAD;
}

/* "name: value" after the name: the value's token (the colon is optional
 * before a message, required before a scalar). */
static enum tok lex_value(struct lex *x)
{
    enum tok t = lex_next(x);
    if (t == T_COLON)
        return lex_next(x);
    return t == T_OPEN ? T_OPEN : T_BAD;
}

static int take_str(struct lex *x, char **dst)
{
    char *s = strdup((const char *)x->str.data);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static int parse_sprite(struct lex *x, struct projector_entry *e)
{
    for (;;) {
        enum tok t = lex_next(x);
        if (t == T_CLOSE)
            return 0;
        if (t != T_WORD)
            return -EBADMSG;
        enum tok v = lex_value(x);
        if (strcmp(x->word, "image_path") == 0 && v == T_STR) {
            if (take_str(x, &e->sprite_path) < 0)
                return -ENOMEM;
        } else if (strcmp(x->word, "single_image_dim") == 0 && v == T_NUM) {
            if (e->n_sprite_dim >= 2 || x->num > UINT32_MAX)
                return -EPROTO;
            e->sprite_dim[e->n_sprite_dim++] = (uint32_t)x->num;
        } else {
            return v == T_BAD ? -EBADMSG : -EPROTO;
        }
    }
}

static int parse_entry(struct lex *x, struct projector_entry *e)
{
    for (;;) {
        enum tok t = lex_next(x);
        if (t == T_CLOSE)
            return 0;
        if (t != T_WORD)
            return -EBADMSG;
        char **dst = NULL;
        if (strcmp(x->word, "tensor_name") == 0)
            dst = &e->tensor_name;
        else if (strcmp(x->word, "tensor_path") == 0)
            dst = &e->tensor_path;
        else if (strcmp(x->word, "metadata_path") == 0)
            dst = &e->metadata_path;
        bool shape = strcmp(x->word, "tensor_shape") == 0;
        bool sprite = strcmp(x->word, "sprite") == 0;
        enum tok v = lex_value(x);
        int r;
        if (dst && v == T_STR)
            r = take_str(x, dst);
        else if (shape && v == T_NUM)
            r = e->n_shape < 2 ? (e->shape[e->n_shape++] = x->num, 0) : -EPROTO;
        else if (sprite && v == T_OPEN)
            r = parse_sprite(x, e);
        else
            r = v == T_BAD ? -EBADMSG : -EPROTO;
        if (r < 0)
            return r;
    }
}

static int parse_top(struct lex *x, struct projector_config *c)
{
    for (;;) {
        enum tok t = lex_next(x);
        if (t == T_END)
            return 0;
        if (t != T_WORD)
            return -EBADMSG;
        bool emb = strcmp(x->word, "embeddings") == 0;
        bool cp = strcmp(x->word, "model_checkpoint_path") == 0;
        bool cd = strcmp(x->word, "model_checkpoint_dir") == 0;
        enum tok v = lex_value(x);
        int r;
        if (emb && v == T_OPEN) {
            struct projector_entry e = {0};
            r = parse_entry(x, &e);
            if (r == 0)
                r = projector_config_put(c, &e);
            entry_done(&e);
        } else if ((cp || cd) && v == T_STR) {
            r = take_str(x, cp ? &c->checkpoint_path : &c->checkpoint_dir);
        } else {
            r = v == T_BAD ? -EBADMSG : -EPROTO;
        }
        if (r < 0)
            return r;
    }
}

int projector_config_parse(struct projector_config *c, const char *text, size_t len)
{
    projector_config_done(c);
    /* (NULL, 0) is an empty text: NULL + 0 is undefined in C. */
    struct lex x = {.p = text, .end = len ? text + len : text};
    buf_init(&x.str, PROJECTOR_MAX_CONFIG);
    int r = parse_top(&x, c);
    buf_free(&x.str);
    if (r < 0)
        projector_config_done(c);
    return r;
}

static int dup_or_null(char **dst, const char *s)
{
    *dst = NULL;
    return s && !(*dst = strdup(s)) ? -ENOMEM : 0;
}

int projector_config_put(struct projector_config *c, const struct projector_entry *e)
{
    struct projector_entry copy = *e;
    if (dup_or_null(&copy.tensor_name, e->tensor_name) < 0 ||
        dup_or_null(&copy.tensor_path, e->tensor_path) < 0 ||
        dup_or_null(&copy.metadata_path, e->metadata_path) < 0 ||
        dup_or_null(&copy.sprite_path, e->sprite_path) < 0) {
        entry_done(&copy);
        return -ENOMEM;
    }
    for (size_t i = 0; e->tensor_name && i < c->n; i++) {
        if (c->entries[i].tensor_name && strcmp(c->entries[i].tensor_name, e->tensor_name) == 0) {
            entry_done(&c->entries[i]);
            c->entries[i] = copy;
            return 0;
        }
    }
    if (c->n >= PROJECTOR_MAX_EMBEDDINGS) {
        entry_done(&copy);
        return -ENOSPC;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct projector_entry *p = realloc(c->entries, cap * sizeof *p);
        if (!p) {
            entry_done(&copy);
            return -ENOMEM;
        }
        c->entries = p;
        c->cap = cap;
    }
    c->entries[c->n++] = copy;
    return 0;
}

static int put_string(struct buf *out, const char *indent, const char *name, const char *s)
{
    if (!s)
        return 0;
    int r = buf_printf(out, "%s%s: \"", indent, name);
    for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            r = buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            r = buf_append_str(out, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            r = buf_printf(out, "\\%03o", *p);
        else
            r = buf_append(out, p, 1);
    }
    return r == 0 ? buf_append_str(out, "\"\n") : r;
}

int projector_config_text(struct buf *out, const struct projector_config *c)
{
    int r = put_string(out, "", "model_checkpoint_path", c->checkpoint_path);
    if (r == 0)
        r = put_string(out, "", "model_checkpoint_dir", c->checkpoint_dir);
    for (size_t i = 0; r == 0 && i < c->n; i++) {
        const struct projector_entry *e = &c->entries[i];
        r = buf_append_str(out, "embeddings {\n");
        if (r == 0)
            r = put_string(out, "  ", "tensor_name", e->tensor_name);
        if (r == 0)
            r = put_string(out, "  ", "tensor_path", e->tensor_path);
        if (r == 0)
            r = put_string(out, "  ", "metadata_path", e->metadata_path);
        for (size_t k = 0; r == 0 && k < e->n_shape; k++)
            r = buf_printf(out, "  tensor_shape: %" PRIu64 "\n", e->shape[k]);
        if (r == 0 && (e->sprite_path || e->n_sprite_dim)) {
            r = buf_append_str(out, "  sprite {\n");
            if (r == 0)
                r = put_string(out, "    ", "image_path", e->sprite_path);
            for (size_t k = 0; r == 0 && k < e->n_sprite_dim; k++)
                r = buf_printf(out, "    single_image_dim: %" PRIu32 "\n", e->sprite_dim[k]);
            if (r == 0)
                r = buf_append_str(out, "  }\n");
        }
        if (r == 0)
            r = buf_append_str(out, "}\n");
    }
    return r;
}

/* ---- files ------------------------------------------------------------ */

/* The directory name below dir_fd, made when missing, opened without
 * following a link. */
static int sub_dir(int dir_fd, const char *name, int *ret_fd)
{
    if (mkdirat(dir_fd, name, 0777) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOTDIR ? -ELOOP : -errno;   /* ENOTDIR: maybe a link to a file */
    *ret_fd = fd;
    return 0;
}

/* name in dir_fd replaced by data as a whole: a temporary file, fsynced,
 * renamed over name. */
static int write_atomic(int dir_fd, const char *name, const void *data, size_t len)
{
    static unsigned counter;
    char tmp[PROJECTOR_MAX_TAG + 64];
    snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%u", name, (long)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    int r = fdio_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
        r = -errno;
    if (r < 0)
        unlinkat(dir_fd, tmp, 0);
    return r;
}

/* The run's config as it is (empty when there is none). */
static int read_config(int run_fd, struct projector_config *c)
{
    int fd = openat(run_fd, PROJECTOR_CONFIG_NAME,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    int r = 0;
    char *text = NULL;
    if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode))
        r = -EINVAL;
    else if ((uint64_t)st.st_size > PROJECTOR_MAX_CONFIG)
        r = -EFBIG;
    else if (!(text = malloc((size_t)st.st_size + 1)))
        r = -ENOMEM;
    size_t got = 0;
    while (r == 0 && got < (size_t)st.st_size) {
        ssize_t k = read(fd, text + got, (size_t)st.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (r == 0)
        r = projector_config_parse(c, text, got);
    free(text);
    return r;
}

/* The text of c (the run's config as read) with e's entry (files in dir)
 * added or replaced: -EFBIG past PROJECTOR_MAX_CONFIG bytes. */
static int merged_text(struct projector_config *c, const struct projector_embedding *e,
                       const char *dir, struct buf *text)
{
    char name[PROJECTOR_MAX_TAG + 32], tpath[PROJECTOR_MAX_TAG + 64],
        mpath[PROJECTOR_MAX_TAG + 64], spath[PROJECTOR_MAX_TAG + 64];
    snprintf(name, sizeof name, "%s:%05" PRId64, e->tag, e->step);
    snprintf(tpath, sizeof tpath, "%s/tensors.tsv", dir);
    snprintf(mpath, sizeof mpath, "%s/metadata.tsv", dir);
    snprintf(spath, sizeof spath, "%s/sprite.png", dir);
    struct projector_entry en = {
        .tensor_name = name,
        .tensor_path = tpath,
        .metadata_path = e->n_cells ? mpath : NULL,
        .sprite_path = e->sprite ? spath : NULL,
        .shape = {e->rows, e->cols},
        .n_shape = 2,
        .sprite_dim = {e->sprite_dim[0], e->sprite_dim[1]},
        .n_sprite_dim = e->sprite ? 2 : 0,
    };
    buf_reset(text);
    int r = projector_config_put(c, &en);
    if (r == 0)
        r = projector_config_text(text, c);
    return r == -EMSGSIZE ? -EFBIG : r;   /* text's cap is the limit */
}

/* The run's config read and merged with e into text (nothing written). */
static int read_merged(int run_fd, const struct projector_embedding *e, const char *dir,
                       struct buf *text)
{
    struct projector_config c = {0};
    int r = read_config(run_fd, &c);
    if (r == 0)
        r = merged_text(&c, e, dir, text);
    projector_config_done(&c);
    return r;
}

/* The run's config lock: PROJECTOR_LOCK_NAME in the run directory (made
 * when missing; a link or anything but a regular file is refused), held
 * with flock() -- by open file description, so that two threads of one
 * process exclude each other as two processes do. Waits up to
 * PROJECTOR_LOCK_WAIT_MS, then -ETIMEDOUT. *ret_fd: close it to unlock. */
static int lock_config(int run_fd, int *ret_fd)
{
    int fd = openat(run_fd, PROJECTOR_LOCK_NAME,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno == ELOOP ? -ELOOP : -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    /* Polled rather than blocking: a writer that never lets go costs
     * this caller (a thread of the daemon's pool) a refusal, not the
     * thread. */
    for (unsigned waited = 0;; waited += PROJECTOR_LOCK_POLL_MS) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        int e = errno;
        if ((e != EWOULDBLOCK && e != EINTR) || waited >= PROJECTOR_LOCK_WAIT_MS) {
            close(fd);
            return e == EWOULDBLOCK ? -ETIMEDOUT : -e;
        }
        struct timespec ts = {0, PROJECTOR_LOCK_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    *ret_fd = fd;
    return 0;
}

/* The merged config written over the run's: under the lock, the config
 * is read again (another writer may have added to it since the first
 * read), merged and renamed into place. */
static int merge_config(int run_fd, const struct projector_embedding *e, const char *dir,
                        struct buf *text)
{
    int lock_fd = -1;
    int r = lock_config(run_fd, &lock_fd);
    if (r == 0)
        r = read_merged(run_fd, e, dir, text);
    if (r == 0)
        r = write_atomic(run_fd, PROJECTOR_CONFIG_NAME, text->data, text->len);
    if (r == 0 && fsync(run_fd) < 0)
        r = -errno;
    if (lock_fd >= 0)
        close(lock_fd);
    return r;
}

/* tensors.tsv, metadata.tsv and sprite.png in dir_fd. */
static int write_data(int dir_fd, const struct projector_embedding *e)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = projector_tensor_tsv(&b, e->tensor, e->rows, e->cols);
    if (r == 0)
        r = write_atomic(dir_fd, "tensors.tsv", b.data, b.len);
    if (r == 0 && e->n_cells) {
        b.len = 0;
        if ((r = projector_metadata_tsv(&b, e)) == 0)
            r = write_atomic(dir_fd, "metadata.tsv", b.data, b.len);
    }
    if (r == 0 && e->sprite)
        r = write_atomic(dir_fd, "sprite.png", e->sprite, e->sprite_len);
    if (r == 0 && fsync(dir_fd) < 0)
        r = -errno;
    buf_free(&b);
    return r;
}

int projector_write(int run_fd, const struct projector_embedding *e)
{
    if (projector_check(e, NULL, 0) < 0)
        return -EINVAL;
    char step[32], dir[PROJECTOR_MAX_TAG + 40];
    snprintf(step, sizeof step, "%05" PRId64, e->step);
    snprintf(dir, sizeof dir, "%s/%s", step, e->tag);
    int step_fd = -1, tag_fd = -1;
    struct buf text;
    buf_init(&text, PROJECTOR_MAX_CONFIG);
    /* The config is read and merged first: one that cannot be merged (a
     * link, fields unknown here, past the size limit) refuses the
     * embedding before any file is written. */
    int r = read_merged(run_fd, e, dir, &text);
    if (r == 0)
        r = sub_dir(run_fd, step, &step_fd);
    if (r == 0)
        r = sub_dir(step_fd, e->tag, &tag_fd);
    if (r == 0)
        r = write_data(tag_fd, e);
    if (r == 0 && fsync(step_fd) < 0)
        r = -errno;
    if (r == 0)
        r = merge_config(run_fd, e, dir, &text);
    buf_free(&text);
    if (tag_fd >= 0)
        close(tag_fd);
    if (step_fd >= 0)
        close(step_fd);
    return r;
}
