/* cli_log_files: images, PR curves and meshes for `tfevents log` from
 * files (see cli_log_files.h); the text formats are taken apart by
 * cli_parse.c. */
#include "cli_log_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_parse.h"
#include "graph.h"

int cli_log_read_file(const char *path, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0             ? -errno
            : !S_ISREG(st.st_mode)          ? -EINVAL
            : (uint64_t)st.st_size > CLI_LOG_MAX_FILE ? -EFBIG
                                            : 0;
    if (e < 0) {
        close(fd);
        return e;
    }
    size_t cap = (size_t)st.st_size, len = 0;
    char *data = malloc(cap + 1);
    if (!data) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t n;
    /* The size may change while we read: never past cap. */
    while (len < cap && (n = read(fd, data + len, cap - len)) != 0) {
        if (n < 0) {
            e = -errno;
            free(data);
            close(fd);
            return e;
        }
        len += (size_t)n;
    }
    close(fd);
    data[len] = '\0';
    *ret = data;
    *ret_len = len;
    return 0;
}

static int read_or_say(const char *path, char **ret, size_t *ret_len)
{
    int r = cli_log_read_file(path, ret, ret_len);
    if (r < 0)
        cli_error("log: %s: %s", path, r == -EFBIG ? "larger than 256 MiB"
                  : r == -EINVAL ? "not a regular file" : strerror(-r));
    return r;
}

int cli_log_image_file(tfevents_values *vs, const char *run, const char *tag,
                       const char *path)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    const void *blob = data;
    if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        r = tfevents_add_image_png(vs, run, tag, &blob, &len, 1);
    else if (len >= 3 && memcmp(data, "\xff\xd8\xff", 3) == 0)
        r = tfevents_add_image_jpeg(vs, run, tag, &blob, &len, 1);
    else if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
        r = tfevents_add_image_gif(vs, run, tag, &blob, &len, 1);
    else
        r = -EMEDIUMTYPE;
    if (r < 0)
        cli_error("log: %s: %s", path, r == -EMEDIUMTYPE ? "not a PNG, JPEG or GIF file"
                  : strerror(-r));
    free(data);
    return r;
}

/* err's sentence, after the file's name and line. */
static void say(const char *path, const struct cli_parse_err *err)
{
    if (err->line)
        cli_error("log: %s:%zu: %s", path, err->line, err->why);
    else
        cli_error("log: %s: %s", path, err->why);
}

int cli_log_pr_curve_file(tfevents_values *vs, const char *run, const char *tag,
                          const char *path, unsigned num_thresholds)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    struct cli_pr_table t;
    struct cli_parse_err err;
    if ((r = cli_parse_pr_table(data, len, &t, &err)) < 0) {
        say(path, &err);
    } else {
        r = tfevents_add_pr_curve(vs, run, tag, t.labels, t.preds, t.n, t.weights,
                                  t.weights ? t.n : 0, num_thresholds);
        if (r < 0)
            cli_error("log: %s: %s", path, strerror(-r));
    }
    cli_parse_pr_table_done(&t);
    free(data);
    return r;
}

int cli_log_mesh_file(tfevents_values *vs, const char *run, const char *name,
                      const char *path, const char *config)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    struct cli_mesh m;
    struct cli_parse_err err;
    if ((r = cli_parse_mesh(data, len, &m, &err)) < 0) {
        say(path, &err);
    } else {
        r = tfevents_add_mesh(vs, run, name, m.xyz, m.n_vertices, m.faces, m.n_faces, m.rgb, 1,
                              config);
        if (r < 0)
            cli_error("log: %s: %s", path, strerror(-r));
    }
    cli_parse_mesh_done(&m);
    free(data);
    return r;
}

/* ---- custom scalar layouts ---------------------------------------------- */

int cli_log_layout_file(tfevents_values *vs, const char *run, const char *path)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len + 1, NULL, 1);   /* all of it */
    struct cli_layout l = {0};
    struct cli_parse_err err = {0, "not JSON"};
    r = root ? cli_parse_layout(root, &l, &err) : -EINVAL;
    if (r < 0)
        say(path, &err);
    if (!r && (r = tfevents_add_custom_scalars(vs, run, l.cats, l.n_cats)) < 0)
        cli_error("log: %s: %s", path, strerror(-r));
    cli_parse_layout_done(&l);
    cJSON_Delete(root);
    free(data);
    return r;
}

/* ---- graphs and run metadata -------------------------------------------- */

int cli_log_graph_file(const char *path, bool run_metadata, char **ret, size_t *ret_len)
{
    char *data;
    size_t len;
    int r = read_or_say(path, &data, &len);
    if (r < 0)
        return r;
    enum graph_kind kind = run_metadata ? GRAPH_RUN_METADATA : GRAPH_DEF;
    char why[256] = "";
    r = graph_check(kind, data, len, NULL, why, sizeof why);
    if (r == -EBADMSG)
        cli_error("log: %s does not parse as a %s: %s; TensorBoard's graphs dashboard would "
                  "fail on it, so nothing was logged", path, graph_kind_name(kind), why);
    else if (r == -EINVAL)
        cli_error("log: %s is empty (not a %s)", path, graph_kind_name(kind));
    else if (r == -EMSGSIZE)
        cli_error("log: %s is larger than %u MiB, the limit of a %s", path,
                  GRAPH_MAX_BYTES >> 20, graph_kind_name(kind));
    else if (r < 0)
        cli_error("log: %s: %s", path, strerror(-r));
    if (r < 0) {
        free(data);
        return r;
    }
    *ret = data;
    *ret_len = len;
    return 0;
}
