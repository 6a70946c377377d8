#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "event.h"

const char *exec_strerror(int err)
{
    switch (err) {
    case -ENOSPC:
        return "too many logdirs, runs or tags";
    case -ENOBUFS:
        return "too much data waiting to be written; try again";
    case -ENOMEM:
        return "out of memory";
    default:
        return confine_strerror(err);
    }
}

static bool is_path_error(int err)
{
    return err == -ELOOP || err == -ENOTDIR || err == -EXDEV || err == -EACCES;
}

int exec_fail_write(struct reply *rp, int err, const char *dir)
{
    if (dir && *dir)
        return reply_fail(rp, err, "writing %s failed: %s", dir, strerror(-err));
    return reply_fail(rp, err, "writing event files failed: %s", strerror(-err));
}

int exec_fail_logdir(const struct exec_host *h, const char *name, int err, struct reply *rp)
{
    if (err == -ENOSPC)
        return reply_fail_count(rp, err, REPLY_COUNT_LOGDIRS,
                                "logdir '%s' would be one logdir too many (the limit is %u, "
                                "--max-logdirs)",
                                name, h->max_logdirs ? h->max_logdirs : LOGDIR_MAX_LOGDIRS);
    return reply_fail_count(rp, err, err == -ENOMEM ? REPLY_COUNT_NONE : REPLY_COUNT_PATH,
                            "logdir '%s': %s", name, exec_strerror(err));
}

/* The sizes of a decoded request against the host's limits, and the
 * logdir put under the host's prefix. 0, or a refusal. */
static int check_limits(const struct exec_host *h, struct request *m, struct reply *rp)
{
    size_t max_values = h->max_values ? h->max_values : REQUEST_MAX_VALUES;
    size_t max_name = h->max_name ? h->max_name : LOGDIR_MAX_NAME;
    if (m->n_values > max_values)
        return reply_fail_count(rp, -EMSGSIZE, REPLY_COUNT_VALUES,
                                "%zu values in one message; the limit is %zu (--max-values)",
                                m->n_values, max_values);
    const char *long_name = NULL;
    if (m->has_logdir && strlen(m->logdir) > max_name)
        long_name = m->logdir;
    if (m->has_run && strlen(m->run) > max_name)
        long_name = m->run;
    for (size_t i = 0; !long_name && i < m->n_values; i++)
        if (strlen(m->values[i].run) > max_name)
            long_name = m->values[i].run;
    if (long_name)
        return reply_fail_count(
            rp, -ENAMETOOLONG, REPLY_COUNT_NAME,
            "the logdir or run name '%.40s...' is longer than %zu bytes (--max-name)",
            long_name, max_name);
    if (h->prefix && *h->prefix && m->has_logdir) {
        char name[LOGDIR_MAX_NAME + 1];
        bool dot = strcmp(m->logdir, ".") == 0;
        int k = snprintf(name, sizeof name, "%s%s%s", h->prefix, dot ? "" : "/",
                         dot ? "" : m->logdir);
        if (k < 0 || (size_t)k >= sizeof name)
            return reply_fail_count(rp, -ENAMETOOLONG, REPLY_COUNT_NAME,
                                    "the logdir name is too long once put under the user "
                                    "directory '%s' (at most %u bytes in all)",
                                    h->prefix, LOGDIR_MAX_NAME);
        memcpy(m->logdir, name, (size_t)k + 1);
    }
    return 0;
}

/* A counter past LOGDIR_MAX_STEP: set there by a step_set of 2^53 and a
 * log, or resumed from files another program wrote. */
static int fail_counter(int64_t counter, const char *ldname, struct reply *rp)
{
    if (counter > LOGDIR_MAX_STEP)
        return reply_fail(rp, -EOVERFLOW,
                          "logdir '%s': its event files hold step %" PRId64 ", beyond the "
                          "largest step 2^53 = %" PRId64 "; set the counter with op "
                          "\"step_set\" or log at an explicit step",
                          ldname, counter, LOGDIR_MAX_STEP);
    return reply_fail(rp, -EOVERFLOW,
                      "logdir '%s': its step counter is at the largest step 2^53 = %" PRId64
                      "; set it lower with op \"step_set\" or log at an explicit step",
                      ldname, LOGDIR_MAX_STEP);
}

/* A refusal of logdir_log(): the step policy, a limit, or a run directory. */
static int fail_log(int err, const struct logdir_refusal *rf, const char *ldname,
                    struct reply *rp)
{
    if (err == -ERANGE && rf->duplicate)
        return reply_fail(rp, err,
                          "tag '%s' appears twice in run '%s' in one message (one value per "
                          "tag and step); nothing of this message was written",
                          rf->tag, rf->run);
    if (err == -ERANGE)
        return reply_fail(rp, err,
                          "step %" PRId64 " of tag '%s' in run '%s' is not greater than its "
                          "last step %" PRId64 " (TensorBoard would delete the newer points); "
                          "nothing of this message was written. Use op \"restart\" to go "
                          "back to an earlier step",
                          rf->step, rf->tag, rf->run, rf->last_step);
    if (err == -EMEDIUMTYPE && rf->kind == LOGDIR_REFUSED_KIND)
        return reply_fail(rp, err,
                          "tag '%s' in run '%s' holds %s (last step %" PRId64 "); a value of "
                          "kind %s cannot join it (TensorBoard shows one kind per tag); "
                          "nothing of this message was written. Use another tag",
                          rf->tag, rf->run, rf->kind_had, rf->last_step, rf->kind_new);
    if (err == -EEXIST && rf->kind == LOGDIR_REFUSED_META)
        return reply_fail(rp, err,
                          "tag '%s' in run '%s' was first written %s (last step %" PRId64
                          "); TensorBoard shows only the display name and description of a "
                          "tag's first value, so other ones now would be lost: nothing of "
                          "this message was written. Send the first ones again, or none",
                          rf->tag, rf->run,
                          rf->meta_had ? "with another display name or description"
                                       : "without a display name or description",
                          rf->last_step);
    if (err == -ENOSPC && rf->kind == LOGDIR_REFUSED_KINDS)
        return reply_fail(rp, err,
                          "tag '%s' in run '%s' of logdir '%s' would bring one kind (plugin "
                          "name) too many into its run (the limit is %d); nothing of this "
                          "message was written",
                          rf->tag, rf->run, ldname, rf->limit);
    if (err == -ENOSPC && rf->kind == LOGDIR_REFUSED_RUNS)
        return reply_fail_count(rp, err, REPLY_COUNT_RUNS,
                                "run '%s' would be one run too many in logdir '%s' (the limit "
                                "is %d runs, --max-runs); nothing of this message was written",
                                rf->run, ldname, rf->limit);
    if (err == -ENOSPC && rf->kind == LOGDIR_REFUSED_TAGS)
        return reply_fail_count(rp, err, REPLY_COUNT_TAGS,
                                "tag '%s' in run '%s' would be one tag too many in logdir '%s' "
                                "(the limit is %d run/tag pairs, --max-tags); nothing of this "
                                "message was written",
                                rf->tag, rf->run, ldname, rf->limit);
    if (rf->kind == LOGDIR_REFUSED_DIR)
        return reply_fail_count(rp, err, REPLY_COUNT_PATH,
                                "run '%s' of logdir '%s': cannot use its directory: %s; nothing "
                                "of this message was written",
                                rf->run, ldname, confine_strerror(err));
    return reply_fail(rp, err, "%s", exec_strerror(err));
}

int exec_log_items(logdir *d, const char *ldname, const struct logdir_item *items, size_t n,
                   enum logdir_step_mode mode, int64_t step, double wall_time,
                   bool check_steps, struct reply *rp)
{
    /* Filled by logdir_log() when it refuses; only the fields read for
     * other errors are set here (the whole struct is over 1 KiB). */
    struct logdir_refusal rf;
    rf.kind = LOGDIR_REFUSED_STEP;
    rf.run[0] = rf.tag[0] = '\0';
    rf.step = rf.last_step = 0;
    rf.duplicate = false;
    rf.limit = 0;
    int64_t used = 0;
    int r = logdir_log(d, check_steps ? mode : LOGDIR_STEP_AT, check_steps ? step : 0,
                       wall_time, items, n, check_steps, &used, &rf);
    if (r == -EOVERFLOW)
        return fail_counter(logdir_step(d), ldname, rp);
    if (r < 0)
        return fail_log(r, &rf, ldname, rp);
    rp->has_step = true;
    rp->step = used;
    return 0;
}

/* The request's values at its step (check_steps false: hparams). */
static int do_log(struct request *m, logdir *d, double wall_time, bool check_steps,
                  struct reply *rp)
{
    struct logdir_item small[16];
    small[0] = (struct logdir_item){NULL, NULL};   /* n_values is never 0 here */
    struct logdir_item *items = small;
    if (m->n_values > 16 && !(items = malloc(m->n_values * sizeof *items)))
        return reply_fail(rp, -ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < m->n_values; i++) {
        const struct summary_value *v = &m->values[i].value;
        /* Sent again after a broken connection: a value whose tag holds
         * this step or a later one was written by the first sending. */
        if (m->resent && v->tag.len > 0 &&
            logdir_tag_last_step(d, m->values[i].run, v->tag.data, v->tag.len) >= m->step)
            continue;
        items[n].run = m->values[i].run;
        items[n++].summary = v;
    }
    int r = 0;
    if (n == 0) {
        rp->has_step = true;
        rp->step = m->step;
    } else {
        r = exec_log_items(d, m->logdir, items, n, m->step_mode, m->step, wall_time,
                           check_steps, rp);
    }
    if (items != small)
        free(items);
    return r;
}

static int do_flush(const struct exec_host *h, struct request *m, struct reply *rp)
{
    logdir *d = NULL;
    if (m->has_logdir) {
        d = logdir_set_find(h->logdirs, m->logdir);
        if (!d)
            return 0;   /* nothing was ever logged there: nothing to write */
        /* Requests of others may wait for its opening: this waits too. */
        if (logdir_scanning(d))
            return EXEC_WAIT;
    }
    return h->flush(h->ctx, m, d, m->sync, rp);
}

static int open_logdir(const struct exec_host *h, struct request *m, logdir **ret,
                       struct reply *rp)
{
    int r = h->open_logdir ? h->open_logdir(h->ctx, m->logdir, ret)
                           : logdir_set_get(h->logdirs, m->logdir, ret);
    if (r < 0)
        return exec_fail_logdir(h, m->logdir, r, rp);
    return r;
}

/* The projector's files of an embedding below <root>/<logdir>/<run>,
 * reached without following a link (confine.h). */
int exec_embedding(const char *root, const char *ldname, const char *run,
                   const struct projector_embedding *e, struct reply *rp)
{
    char rel[CONFINE_MAX_PATH + 1];
    bool ld_dot = strcmp(ldname, ".") == 0, run_dot = strcmp(run, ".") == 0;
    int k = snprintf(rel, sizeof rel, "%s%s%s", ld_dot ? "" : ldname,
                     ld_dot || run_dot ? "" : "/", run_dot ? "" : run);
    if (k < 0 || (size_t)k >= sizeof rel)
        return reply_fail_count(rp, -ENAMETOOLONG, REPLY_COUNT_NAME,
                                "the logdir and run names are too long together");
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int run_fd = -1;
    int r = root_fd < 0 ? -errno : confine_open_dir(root_fd, rel, true, &run_fd);
    if (root_fd >= 0)
        close(root_fd);
    if (r < 0)
        return reply_fail_count(rp, r, is_path_error(r) ? REPLY_COUNT_PATH : REPLY_COUNT_NONE,
                                "run '%s' of logdir '%s': cannot use its directory: %s",
                                run, ldname, exec_strerror(r));
    r = projector_write(run_fd, e);
    close(run_fd);
    if (r == -EPROTO || r == -EBADMSG || r == -EFBIG)
        return reply_fail(rp, r,
                          "run '%s' of logdir '%s': its %s cannot be merged (%s); it was "
                          "left as it is",
                          run, ldname, PROJECTOR_CONFIG_NAME,
                          r == -EPROTO ? "it holds fields this writer does not know"
                          : r == -EFBIG ? "it is, or with this embedding would be, larger "
                                          "than the 4 MiB limit"
                                        : "it is not valid text format");
    if (r == -ETIMEDOUT)
        return reply_fail(rp, r,
                          "run '%s' of logdir '%s': another writer held the lock of its %s "
                          "(%s) for more than %u s; the embedding's files are written but "
                          "not listed in the config",
                          run, ldname, PROJECTOR_CONFIG_NAME, PROJECTOR_LOCK_NAME,
                          PROJECTOR_LOCK_WAIT_MS / 1000);
    if (r < 0)
        return reply_fail_count(rp, r, is_path_error(r) ? REPLY_COUNT_PATH : REPLY_COUNT_NONE,
                                "embedding '%s' in run '%s' of logdir '%s': %s", e->tag, run,
                                ldname, is_path_error(r) ? exec_strerror(r) : strerror(-r));
    rp->has_step = true;
    rp->step = e->step;
    return 0;
}

/* A graph or a run metadata, checked when decoded, into its run's file. */
static int do_graph(struct request *m, logdir *d, double wall_time, struct reply *rp)
{
    struct logdir_refusal rf;
    rf.kind = LOGDIR_REFUSED_STEP;
    rf.run[0] = rf.tag[0] = '\0';
    rf.step = rf.last_step = 0;
    rf.duplicate = false;
    rf.limit = 0;
    int r = logdir_log_graph(d, m->run, m->step, wall_time, m->graph_tag, m->graph_data,
                             m->graph_len, &rf);
    if (r == -ERANGE && !m->graph_tag)
        return reply_fail(rp, r,
                          "run '%s' already holds a graph at step %" PRId64 ", and this one "
                          "is at step %" PRId64 ": TensorBoard would keep both, or only one "
                          "of them; nothing was written. Send a new graph at a later step",
                          rf.run, rf.last_step, m->step);
    if (r < 0)
        return fail_log(r, &rf, m->logdir, rp);
    rp->has_step = true;
    rp->step = m->step;
    return 0;
}

int exec_request(const struct exec_host *h, struct request *m, struct reply *rp)
{
    double wall_time = m->has_wall_time ? m->wall_time : event_now();
    logdir *d = NULL;
    int r = check_limits(h, m, rp);
    if (r < 0)
        return 0;
    if (request_needs_logdir(m->op)) {
        r = open_logdir(h, m, &d, rp);
        if (r != 0)
            return r < 0 ? 0 : r;
    }
    switch (m->op) {
    case REQUEST_LOG:
        do_log(m, d, wall_time, true, rp);
        break;
    case REQUEST_HPARAMS_CONFIG:
    case REQUEST_HPARAMS_SESSION_START:
    case REQUEST_HPARAMS_SESSION_END:
        /* hparams live at step 0 and are replaced by a newer copy:
         * outside the step policy. */
        do_log(m, d, wall_time, false, rp);
        break;
    case REQUEST_STEP_GET:
        rp->answer = true;
        if (logdir_step(d) > LOGDIR_MAX_STEP) {
            fail_counter(logdir_step(d), m->logdir, rp);
            break;
        }
        rp->has_step = true;
        rp->step = logdir_step(d);
        /* At 2^53 there is no next step to tell. */
        rp->has_next = rp->step < LOGDIR_MAX_STEP;
        rp->next = rp->step + 1;
        break;
    case REQUEST_STEP_SET:
        logdir_step_set(d, m->step);
        rp->has_step = true;
        rp->has_next = m->step < LOGDIR_MAX_STEP;
        rp->step = m->step;
        rp->next = m->step + 1;
        break;
    case REQUEST_RESTART:
        r = logdir_restart(d, m->has_run ? m->run : NULL, m->step, wall_time);
        if (r < 0) {
            reply_fail_count(rp, r, is_path_error(r) ? REPLY_COUNT_PATH : REPLY_COUNT_NONE,
                             "%s", exec_strerror(r));
            break;
        }
        rp->has_step = true;
        rp->step = m->step;
        break;
    case REQUEST_FLUSH:
    case REQUEST_CLOSE:
        return do_flush(h, m, rp);
    case REQUEST_PING:
        rp->answer = true;
        rp->pong = true;
        break;
    case REQUEST_EMBEDDING:
        if (!h->root)
            reply_fail(rp, -ENOTSUP, "this host does not write embedding files");
        else if (h->embedding)
            return h->embedding(h->ctx, m, rp);
        else
            exec_embedding(h->root, m->logdir, m->run, &m->embedding, rp);
        break;
    case REQUEST_GRAPH:
        do_graph(m, d, wall_time, rp);
        break;
    case REQUEST_STATS:
        rp->answer = true;
        if (h->stats)
            h->stats(h->ctx, rp);
        break;
    }
    return 0;
}
