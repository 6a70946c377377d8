#include "dispatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "event.h"
#include "flusher.h"
#include "json_decode.h"
#include "log.h"
#include "server.h"
#include "utf8.h"

/* Append s as a JSON string. Bytes that are not UTF-8 become '?', so a
 * reply is always valid JSON whatever a client sent. */
static int json_string(struct buf *out, const char *s)
{
    int r = buf_append(out, "\"", 1);
    size_t len = strlen(s);
    for (size_t i = 0; r == 0 && i < len;) {
        unsigned char ch = (unsigned char)s[i];
        unsigned cp;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            r = buf_append(out, esc, 2);
            i++;
        } else if (ch < 0x20) {
            r = buf_printf(out, "\\u%04x", ch);
            i++;
        } else if (ch < 0x80) {
            r = buf_append(out, &s[i], 1);
            i++;
        } else {
            int n = utf8_decode(s + i, len - i, &cp);
            if (n < 0) {
                r = buf_append(out, "?", 1);
                i++;
            } else {
                r = buf_append(out, s + i, (size_t)n);
                i += (size_t)n;
            }
        }
    }
    if (r == 0)
        r = buf_append(out, "\"", 1);
    return r;
}

void dispatch_error(struct conn *c, const char *id, uint64_t line_no, const char *error)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int r = 0;
    if (id)
        r = buf_printf(&b, "{\"id\":%s,\"ok\":false,\"line\":%" PRIu64 ",\"error\":", id,
                       line_no);
    else
        r = buf_printf(&b, "{\"ok\":false,\"line\":%" PRIu64 ",\"error\":", line_no);
    if (r == 0)
        r = json_string(&b, error);
    if (r == 0)
        r = buf_append(&b, "}", 1);
    if (r == 0)
        conn_reply(c, (const char *)b.data, b.len);
    buf_free(&b);
}

/* {"id":ID,"ok":true<extra>} where extra starts with ',' or is empty. */
static void reply_ok(struct conn *c, const char *id, const char *extra)
{
    char line[256 + JD_MAX_ID];
    int n = id ? snprintf(line, sizeof line, "{\"id\":%s,\"ok\":true%s}", id, extra)
               : snprintf(line, sizeof line, "{\"ok\":true%s}", extra);
    if (n > 0 && (size_t)n < sizeof line)
        conn_reply(c, line, (size_t)n);
}

static void count_error(struct server *s, int r)
{
    if (r == -EBADMSG)
        s->stats.errors_json++;
    else if (r == -ERANGE)
        s->stats.errors_step++;
    else if (r == -ENOMEM || r == -ENOSPC || r == -ENOBUFS)
        s->stats.errors_other++;
    else
        s->stats.errors_invalid++;
}

static void fail(struct server *s, struct conn *c, const struct jd_msg *m, uint64_t line_no,
                 int r, const char *why)
{
    count_error(s, r);
    dispatch_error(c, m->has_id ? m->id : NULL, line_no, why);
    log_info("conn %llu (pid %ld) line %llu%s%s: %s", (unsigned long long)c->id, (long)c->pid,
             (unsigned long long)line_no, m->has_logdir ? " logdir " : "",
             m->has_logdir ? m->logdir : "", why);
}

static void step_refusal_text(char *out, size_t size, const struct logdir_refusal *rf)
{
    if (rf->duplicate)
        snprintf(out, size,
                 "tag '%s' appears twice in run '%s' in one message (one value per tag and "
                 "step); nothing of this message was written",
                 rf->tag, rf->run);
    else
        snprintf(out, size,
                 "step %" PRId64 " of tag '%s' in run '%s' is not greater than its last step "
                 "%" PRId64 " (TensorBoard would delete the newer points); nothing of this "
                 "message was written. Use op \"restart\" to go back to an earlier step",
                 rf->step, rf->tag, rf->run, rf->last_step);
}

static const char *logdir_error(int r)
{
    switch (r) {
    case -ENOSPC:
        return "too many logdirs, runs or tags";
    case -ENOBUFS:
        return "too much data waiting to be written; try again";
    case -ENOMEM:
        return "out of memory";
    default:
        return strerror(-r);
    }
}

/* Write the message's values at its step. */
static void do_log(struct server *s, struct conn *c, struct jd_msg *m, uint64_t line_no,
                   logdir *d, double wall_time, bool check_steps)
{
    struct logdir_item small[16] = {{0}};
    struct logdir_item *items = small;
    if (m->n_values > 16) {
        items = malloc(m->n_values * sizeof *items);
        if (!items) {
            fail(s, c, m, line_no, -ENOMEM, "out of memory");
            return;
        }
    }
    for (size_t i = 0; i < m->n_values; i++) {
        items[i].run = m->values[i].run;
        items[i].value = &m->values[i].value;
    }
    int64_t step = 0;
    struct logdir_refusal rf;
    enum logdir_step_mode mode = check_steps ? m->step_mode : LOGDIR_STEP_AT;
    int r = logdir_log(d, mode, check_steps ? m->step : 0, wall_time, items, m->n_values,
                       check_steps, &step, &rf);
    if (items != small)
        free(items);
    if (r == -ERANGE) {
        char why[2560];
        step_refusal_text(why, sizeof why, &rf);
        fail(s, c, m, line_no, r, why);
        return;
    }
    if (r < 0) {
        fail(s, c, m, line_no, r, logdir_error(r));
        return;
    }
    s->stats.messages++;
    s->stats.events += m->n_values;
    if (m->has_id) {
        char extra[64];
        snprintf(extra, sizeof extra, ",\"step\":%" PRId64, step);
        reply_ok(c, m->id, extra);
    }
}

void dispatch_line(struct server *s, struct conn *c, uint64_t line_no, const char *line,
                   size_t len)
{
    struct jd_msg *m = &s->msg;
    char err[JD_ERROR_SIZE];
    s->stats.lines++;
    int r = jd_decode(m, line, len, err, sizeof err);
    if (r < 0) {
        fail(s, c, m, line_no, r, err);
        return;
    }
    double wall_time = m->has_wall_time ? m->wall_time : event_now();
    const char *id = m->has_id ? m->id : NULL;
    logdir *d = NULL;
    bool needs_logdir = m->op != JD_OP_FLUSH && m->op != JD_OP_CLOSE &&
                        m->op != JD_OP_PING && m->op != JD_OP_STATS;
    if (needs_logdir) {
        bool is_new = logdir_set_find(s->logdirs, m->logdir) == NULL;
        r = logdir_set_get(s->logdirs, m->logdir, &d);
        if (r < 0) {
            fail(s, c, m, line_no, r, logdir_error(r));
            return;
        }
        if (is_new) {
            const struct logdir_scan *sc = logdir_scan_result(d);
            log_info("logdir '%s': opened (%llu event files, %llu records found; next step "
                     "%lld)%s",
                     m->logdir, (unsigned long long)sc->files,
                     (unsigned long long)sc->records, (long long)logdir_step(d) + 1,
                     sc->corrupt || sc->truncated ? " - some files end early" : "");
        }
    }

    char extra[128];
    switch (m->op) {
    case JD_OP_LOG:
        do_log(s, c, m, line_no, d, wall_time, true);
        return;
    case JD_OP_HPARAMS_CONFIG:
    case JD_OP_HPARAMS_SESSION_START:
    case JD_OP_HPARAMS_SESSION_END:
        /* hparams live at step 0 and are replaced by a newer copy:
         * outside the step policy. */
        do_log(s, c, m, line_no, d, wall_time, false);
        return;
    case JD_OP_STEP_GET:
        s->stats.messages++;
        snprintf(extra, sizeof extra, ",\"step\":%" PRId64 ",\"next\":%" PRId64, logdir_step(d),
                 logdir_step(d) + 1);
        reply_ok(c, id, extra);
        return;
    case JD_OP_STEP_SET:
        s->stats.messages++;
        logdir_set_step(d, m->step);
        if (id) {
            snprintf(extra, sizeof extra, ",\"step\":%" PRId64 ",\"next\":%" PRId64, m->step,
                     m->step + 1);
            reply_ok(c, id, extra);
        }
        return;
    case JD_OP_RESTART:
        r = logdir_restart(d, m->has_run ? m->run : NULL, m->step, wall_time);
        if (r < 0) {
            fail(s, c, m, line_no, r, logdir_error(r));
            return;
        }
        s->stats.messages++;
        log_info("logdir '%s': restart at step %lld%s%s", m->logdir, (long long)m->step,
                 m->has_run ? " in run " : "", m->has_run ? m->run : "");
        if (id) {
            snprintf(extra, sizeof extra, ",\"step\":%" PRId64, m->step);
            reply_ok(c, id, extra);
        }
        return;
    case JD_OP_FLUSH:
    case JD_OP_CLOSE:
        s->stats.messages++;
        s->stats.flush_requests++;
        if (m->has_logdir) {
            d = logdir_set_find(s->logdirs, m->logdir);
            if (!d) {
                /* Nothing was ever logged there: nothing to write. */
                if (id)
                    reply_ok(c, id, "");
                return;
            }
        }
        flusher_request(s->flusher, d, m->sync && s->cfg->fsync != FSYNC_NEVER,
                        m->op == JD_OP_CLOSE, c, id, line_no);
        return;
    case JD_OP_PING:
        s->stats.messages++;
        reply_ok(c, id, ",\"pong\":true,\"protocol\":1");
        return;
    case JD_OP_STATS: {
        s->stats.messages++;
        struct buf b;
        buf_init(&b, BUF_NO_CAP);
        r = id ? buf_printf(&b, "{\"id\":%s,\"ok\":true,\"stats\":", id)
               : buf_append_str(&b, "{\"ok\":true,\"stats\":");
        if (r == 0)
            r = stats_to_json(&s->stats, flusher_open_writers(s->flusher),
                              logdir_set_count(s->logdirs), flusher_pending_bytes(s->flusher),
                              &b);
        if (r == 0)
            r = buf_append(&b, "}", 1);
        if (r == 0)
            conn_reply(c, (const char *)b.data, b.len);
        buf_free(&b);
        return;
    }
    }
}
