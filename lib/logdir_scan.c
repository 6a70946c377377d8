#include "logdir_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "logdir.h"
#include "record_reader.h"

/* A scan of a logdir's existing files. It owns everything it touches (the
 * directory descriptor, its own maps), so that it can run on any thread
 * while its logdir stays on the loop's. */
struct logdir_scanner {
    int dir_fd;               /* the logdir's directory, taken; -1 once scanned */
    char *path;               /* for reading through a path when /proc is absent */
    struct logdir_steps steps;
    int64_t max_step;         /* the largest step of any summary value */
    /* The largest step of values whose tag is not in steps (no tag, or
     * past its limits), and of the steps a START resumes after (its step
     * - 1): with the last steps of the tags, what a restart leaves. */
    int64_t max_untracked;
    bool done;
    struct logdir_scan scan;
};

/* Read the file name in dirfd, which was seen as a regular file. It is
 * opened without following a link and read through /proc/self/fd, so a
 * link swapped in after the directory was listed is not followed either;
 * without /proc, through its path (display). */
/* One Summary.Value found at step in run: its tag's last step, and its
 * kind, from the first value of the tag that tells it (the plugin name of
 * its metadata, or a legacy simple_value: scalars); a tag none of whose
 * values tells takes any kind. */
static void scan_value(logdir_scanner *sc, const char *run, const Tensorboard__Summary__Value *v,
                       int64_t step)
{
    struct strmap_entry *e;
    if (!v->tag || !*v->tag ||
        logdir_steps_tag_entry(&sc->steps, run, v->tag, strlen(v->tag), &e) < 0) {
        if (step > sc->max_untracked)
            sc->max_untracked = step;
        return;
    }
    bool is_new = e->val.i64 == LOGDIR_STEP_NONE;
    if (is_new || step > e->val.i64)
        e->val.i64 = step;
    if (is_new) {
        logdir_tag_set_kind(e, LOGDIR_KIND_ANY);
        /* The display name and description TensorBoard shows: the first
         * value's (a failure only costs a refusal later). */
        if (v->metadata)
            (void)logdir_steps_set_meta(
                &sc->steps, run, v->tag, strlen(v->tag),
                logdir_meta_fingerprint_of(v->metadata->display_name,
                                           v->metadata->summary_description));
    }
    if (logdir_tag_kind(e) != LOGDIR_KIND_ANY)
        return;
    const char *plugin = v->metadata && v->metadata->plugin_data
                             ? v->metadata->plugin_data->plugin_name
                             : NULL;
    int k = -1;
    if (plugin && *plugin)
        k = logdir_steps_kind(&sc->steps, plugin, strlen(plugin));
    else if (v->value_case == TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE)
        k = LOGDIR_KIND_SCALARS;
    if (k >= 0)
        logdir_tag_set_kind(e, (unsigned)k);
}

/* A graph or tagged run metadata: the value TensorBoard makes of it (its
 * tag and plugin), so that the step policy and kinds hold after a
 * restart too. */
static void scan_graph(logdir_scanner *sc, const char *run, const Tensorboard__Event *ev)
{
    bool is_def = ev->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF;
    Tensorboard__SummaryMetadata__PluginData pd = TENSORBOARD__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    pd.plugin_name = is_def ? LOGDIR_GRAPH_PLUGIN : LOGDIR_GRAPH_METADATA_PLUGIN;
    Tensorboard__SummaryMetadata md = TENSORBOARD__SUMMARY_METADATA__INIT;
    md.plugin_data = &pd;
    Tensorboard__Summary__Value v = TENSORBOARD__SUMMARY__VALUE__INIT;
    v.tag = is_def ? LOGDIR_GRAPH_TAG : ev->tagged_run_metadata->tag;
    v.metadata = &md;
    scan_value(sc, run, &v, ev->step);
}

static void scan_file(logdir_scanner *sc, int dirfd, const char *name, const char *display,
                      const char *run, struct strmap_entry *run_e)
{
    record_reader *rr;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        sc->scan.unreadable++;
        return;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int r = record_reader_open(&rr, proc, 0);
    if (r == -ENOENT)
        r = record_reader_open(&rr, display, 0);
    close(fd);
    if (r < 0) {
        sc->scan.unreadable++;
        return;
    }
    sc->scan.files++;
    for (;;) {
        Tensorboard__Event *ev = NULL;
        r = record_reader_next_event(rr, &ev);
        if (r == 0) {
            if (record_reader_fault(rr) == RECORD_FAULT_TRUNCATED)
                sc->scan.truncated++;
            break;
        }
        if (r < 0) {
            sc->scan.corrupt++;
            break;
        }
        sc->scan.records++;
        if (ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY && ev->summary) {
            for (size_t i = 0; i < ev->summary->n_value; i++)
                scan_value(sc, run, ev->summary->value[i], ev->step);
            if (ev->summary->n_value > 0 && ev->step > sc->max_step)
                sc->max_step = ev->step;
        } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_GRAPH_DEF ||
                   (ev->what_case == TENSORBOARD__EVENT__WHAT_TAGGED_RUN_METADATA &&
                    ev->tagged_run_metadata)) {
            scan_graph(sc, run, ev);
        } else if (ev->what_case == TENSORBOARD__EVENT__WHAT_SESSION_LOG &&
                   ev->session_log &&
                   ev->session_log->status == TENSORBOARD__SESSION_LOG__SESSION_STATUS__START) {
            logdir_steps_lower_run(&sc->steps, run, ev->step);
            if (run_e)
                run_e->aux |= LOGDIR_RUN_STARTED;
            if (ev->step - 1 > sc->max_step)
                sc->max_step = ev->step - 1;
            if (ev->step - 1 > sc->max_untracked)
                sc->max_untracked = ev->step - 1;
        }
        event_free(ev);
    }
    record_reader_free(rr);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk the directory open as dirfd (taken: closed here), the run named
 * run, and its subdirectories, never following a link. Files of one run
 * are read in name order, like TensorBoard does. */
static void scan_dir(logdir_scanner *sc, int dirfd, const char *display, const char *run,
                     unsigned depth)
{
    DIR *dp = fdopendir(dirfd);
    if (!dp) {
        close(dirfd);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = nc;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_str);

    bool is_run = false;
    for (size_t i = 0; i < n; i++) {
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s", display, names[i]) < 0)
            continue;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISREG(st.st_mode) && strstr(names[i], "tfevents")) {
                if (!is_run) {
                    struct strmap_entry *ignored;
                    logdir_steps_run_entry(&sc->steps, run, strlen(run), &ignored);
                    is_run = true;
                }
                /* Looked up per file: the tags map may grow, the runs map
                 * does not change while this run's files are read. */
                scan_file(sc, dirfd, names[i], path, run,
                          strmap_get(&sc->steps.runs, run, strlen(run)));
            } else if (S_ISDIR(st.st_mode) && depth < LOGDIR_MAX_DEPTH &&
                       names[i][0] != '$') {
                char sub[LOGDIR_MAX_NAME + 1];
                int k = strcmp(run, ".") == 0
                            ? snprintf(sub, sizeof sub, "%s", names[i])
                            : snprintf(sub, sizeof sub, "%s/%s", run, names[i]);
                int subfd = openat(dirfd, names[i],
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (subfd >= 0 && k > 0 && (size_t)k < sizeof sub)
                    scan_dir(sc, subfd, path, sub, depth + 1);
                else if (subfd >= 0)
                    close(subfd);
            }
        }
        free(path);
    }
    closedir(dp);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void logdir_scanner_run(logdir_scanner *sc)
{
    if (sc->done)
        return;
    int fd = sc->dir_fd;
    sc->dir_fd = -1;
    sc->done = true;
    scan_dir(sc, fd, sc->path, ".", 0);
}

void logdir_scanner_free(logdir_scanner *sc)
{
    if (!sc)
        return;
    if (sc->dir_fd >= 0)
        close(sc->dir_fd);
    logdir_steps_done(&sc->steps);
    free(sc->path);
    free(sc);
}

logdir_scanner *logdir_scanner_new(int dir_fd, const char *path, unsigned max_tags,
                                   unsigned max_runs, size_t max_key)
{
    logdir_scanner *sc = calloc(1, sizeof *sc);
    char *p = strdup(path);
    if (!sc || !p) {
        close(dir_fd);
        free(sc);
        free(p);
        return NULL;
    }
    sc->dir_fd = dir_fd;
    sc->path = p;
    logdir_steps_init(&sc->steps, max_tags, max_runs, max_key);
    sc->max_step = -1;
    sc->max_untracked = -1;
    return sc;
}

/* The step after which the counter resumes, as logdir_restart() leaves it.
 * A restart lowers the counter when it covers every run holding points
 * (all runs, or the only one); a restart of one run while others hold
 * points leaves it alone. So when every run holding points has a START in
 * its files, the counter resumes after what the STARTs left: the largest
 * last step of a tag (lowered by the STARTs) or START step - 1; when some
 * run without a START holds points, after the largest step written. */
static int64_t resume_step(const logdir_scanner *sc)
{
    int64_t live = sc->max_untracked;
    const struct strmap *tags = &sc->steps.tags;
    for (size_t i = 0; i < tags->cap; i++) {
        const struct strmap_entry *e = &tags->slots[i];
        if (!e->key || e->val.i64 == LOGDIR_STEP_NONE)
            continue;
        /* The key is "run\0tag". */
        const struct strmap_entry *r = strmap_get(&sc->steps.runs, e->key, strlen(e->key));
        if (!r || !(r->aux & LOGDIR_RUN_STARTED))
            return sc->max_step;
        if (e->val.i64 > live)
            live = e->val.i64;
    }
    return live;
}

void logdir_scanner_take(logdir_scanner *sc, struct logdir_steps *steps, int64_t *ret_step,
                         struct logdir_scan *ret_scan)
{
    logdir_scanner_run(sc);
    *ret_step = resume_step(sc);
    logdir_steps_swap(&sc->steps, steps);
    *ret_scan = sc->scan;
}
