/* libtfevents' handle: the public functions of tfevents.h other than the
 * value builders (lib_values.c) and the reader (lib_reader.c).
 *
 * A handle holds the transport (lib_daemon or lib_embedded, or both in
 * auto mode when some logdir lies outside the daemon's root), the stack of
 * default logdirs, a small cache of logdir routes, the last error sentence
 * and the background flush thread. Every public function takes the
 * handle's mutex.
 *
 * fork(): every open handle is on one list, and pthread_atfork handlers
 * hold all their mutexes across fork(), so that a child never inherits a
 * handle in the middle of a call (a mutex locked by a thread that does not
 * exist there, a half-built batch). The child marks the inherited handles
 * as its parent's (forked): they refuse every call with -ECHILD, since
 * whatever they sent or wrote would land in the parent's stream and files,
 * and tfevents_close() there only lets go of them. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "lib_daemon.h"
#include "sockpath.h"
#include "lib_embedded.h"
#include "lib_path.h"
#include "lib_request.h"
#include "lib_values.h"
#include "logdir.h"
#include "tfevents.h"

#define TFEV_API __attribute__((visibility("default")))

/* Default bytes per batch (and per run's pending records, embedded). */
#define LIB_DEFAULT_BATCH ((size_t)256 * 1024)
/* Logdirs whose route (transport and name) is remembered. */
#define LIB_ROUTES 8u
/* Largest step a request carries (the JSON protocol's limit). */
#define LIB_MAX_STEP ((int64_t)1 << 53)
/* The size of the first struct tfevents_options (0.2.0): a smaller .size
 * means the struct was not initialised. */
#define LIB_OPTIONS_MIN_SIZE (offsetof(struct tfevents_options, any_step) + sizeof(bool))

/* meson passes the project version; the header must say the same. */
_Static_assert(TFEVENTS_VERSION_NUMBER == TFEVENTS_VERSION_AT(LIBTFEVENTS_VERSION_MAJOR,
                                                              LIBTFEVENTS_VERSION_MINOR,
                                                              LIBTFEVENTS_VERSION_PATCH),
               "tfevents.h's TFEVENTS_VERSION_* differ from meson.build's project version");

struct route {
    char *abs;                 /* lexically normalised absolute path */
    enum tfevents_mode mode;
    char name[LOGDIR_MAX_NAME + 1];   /* the transport's name for it */
    logdir *em_logdir;         /* embedded: its logdir, once known */
};

struct tfevents {
    pthread_mutex_t mu;
    struct tfevents_options opts;
    bool forced_daemon;
    struct lib_daemon *dm;     /* NULL in embedded mode */
    struct lib_embedded *em;   /* created on first use */
    char *stack[TFEVENTS_MAX_LOGDIR_STACK + 1];   /* [0] is the default */
    size_t depth;
    struct route routes[LIB_ROUTES];
    unsigned next_route;
    unsigned last_route;       /* the route found last: looked at first */
    struct route *top_route;   /* the route of stack[depth]; NULL: look */
    struct buf req;
    struct lib_scalars scalars;   /* tfevents_log()'s direct route */
    char err[LIB_ERROR_SIZE];
    /* background flush */
    pthread_t thread;
    bool has_thread;
    bool stop;
    pthread_cond_t cv;
    /* fork: the list of open handles; forked: inherited by a child. */
    struct tfevents *prev, *next;
    bool forked;
};

/* ---- fork ------------------------------------------------------------------- */

static pthread_mutex_t handles_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tfevents *handles;             /* open handles, under handles_mu */
static struct tfevents *forked_handles;      /* closed in a child: kept, see below */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Lock order: handles_mu, then the handles' mutexes in list order. No
 * function holds a handle's mutex while taking handles_mu. */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&handles_mu);
    for (struct tfevents *h = handles; h; h = h->next)
        pthread_mutex_lock(&h->mu);
}

static void atfork_parent(void)
{
    for (struct tfevents *h = handles; h; h = h->next)
        pthread_mutex_unlock(&h->mu);
    pthread_mutex_unlock(&handles_mu);
}

static void atfork_child(void)
{
    for (struct tfevents *h = handles; h; h = h->next) {
        h->forked = true;
        pthread_mutex_unlock(&h->mu);
    }
    pthread_mutex_unlock(&handles_mu);
}

static void register_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void handles_add(tfevents *h)
{
    pthread_mutex_lock(&handles_mu);
    h->prev = NULL;
    h->next = handles;
    if (handles)
        handles->prev = h;
    handles = h;
    pthread_mutex_unlock(&handles_mu);
}

static void handles_remove(tfevents *h)
{
    pthread_mutex_lock(&handles_mu);
    if (h->prev)
        h->prev->next = h->next;
    else
        handles = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
    pthread_mutex_unlock(&handles_mu);
}

/* tfevents_close() in a child of the process that opened h. The
 * transports cannot be freed without writing (their free functions flush
 * what the parent had pending into the parent's socket and files), the
 * background thread does not exist here, and the condition variable may
 * count its waiter: h is set aside as it is, reachable (leak checkers stay
 * quiet), and its memory and descriptors (all close-on-exec) go with the
 * child's exit or exec. */
static void forget_forked(tfevents *h)
{
    handles_remove(h);
    pthread_mutex_lock(&handles_mu);
    h->next = forked_handles;
    forked_handles = h;
    pthread_mutex_unlock(&handles_mu);
}

/* Take h's mutex for a call; -ECHILD (unlocked) when h is the parent's. */
static int enter(tfevents *h)
{
    pthread_mutex_lock(&h->mu);
    if (!h->forked)
        return 0;
    snprintf(h->err, sizeof h->err, "the handle was opened by the parent process");
    pthread_mutex_unlock(&h->mu);
    return -ECHILD;
}

TFEV_API const char *tfevents_version(void)
{
    return LIBTFEVENTS_VERSION;
}

TFEV_API void tfevents_options_init(struct tfevents_options *o)
{
    *o = (struct tfevents_options)TFEVENTS_OPTIONS_INIT;
}

/* The caller's options (of its size) over the defaults. */
static int copy_options(struct tfevents_options *to, const struct tfevents_options *from)
{
    tfevents_options_init(to);
    if (!from)
        return 0;
    if (from->size < LIB_OPTIONS_MIN_SIZE)
        return -EINVAL;
    if (from->size > sizeof *to) {
        /* A newer caller: fine while it leaves what we do not know at 0. */
        const unsigned char *tail = (const unsigned char *)from + sizeof *to;
        for (size_t i = 0; i < from->size - sizeof *to; i++)
            if (tail[i])
                return -E2BIG;
    }
    memcpy(to, from, from->size < sizeof *to ? from->size : sizeof *to);
    to->size = sizeof *to;
    return 0;
}

TFEV_API const char *tfevents_strerror(int err)
{
    switch (err < 0 ? -err : err) {
    case 0: return "success";
    case EINVAL: return "invalid argument";
    case ENOMEM: return "out of memory";
    case EMSGSIZE: return "too large: past a limit of the library or the protocol";
    case EILSEQ: return "invalid UTF-8";
    case ERANGE: return "step refused: not greater than the last step of a tag "
                        "(or an output buffer too small)";
    case EXDEV: return "the logdir is outside the daemon's root directory";
    case EMEDIUMTYPE: return "a tag's value of another kind than the tag holds (scalars, text, ...)";
    case EEXIST: return "a display name or description other than the tag's first value's "
                        "(TensorBoard shows only those)";
    case EOVERFLOW: return "no next step: the logdir's step counter is at 2^53 or beyond";
    case EPIPE:
    case ECONNRESET: return "the connection to the daemon broke (tfevents_last_error() says "
                            "what may be lost)";
    case ECONNREFUSED: return "no daemon listens on the socket";
    case EREMOTEIO: return "refused by the daemon (tfevents_last_error() says why)";
    case EPROTO: return "the socket does not speak the tfevents protocol";
    case ETIMEDOUT: return "the daemon did not answer in time";
    case ECHILD: return "the handle was opened by the parent process (after fork())";
    case E2BIG: return "options newer than the library: a field it does not know is set";
    case ENOSPC: return "no room: the logdir stack or a daemon limit is full, or the disk";
    case ENAMETOOLONG: return "path too long";
    case ENOENT: return "no such file, socket or pushed logdir";
    default: return strerror(err < 0 ? -err : err);
    }
}

static int set_err(tfevents *h, int r, const char *why)
{
    snprintf(h->err, sizeof h->err, "%s", why && *why ? why : tfevents_strerror(r));
    return r;
}

/* A failure of the daemon transport: the sentence of what it lost when it
 * has one to report (the daemon did not come back), else why. */
static int set_daemon_err(tfevents *h, int r, const char *why)
{
    if ((!why || !*why) && lib_daemon_take_lost(h->dm, h->err, sizeof h->err) < 0)
        return r;
    return set_err(h, r, why);
}

/* ---- paths ----------------------------------------------------------------- */

/* The daemon's name for abs: its path under the daemon's root, or
 * -EXDEV when it lies elsewhere. */
static int daemon_name(tfevents *h, const char *abs, char *name)
{
    return lib_path_under_root(lib_daemon_root(h->dm), abs, name);
}

static int ensure_embedded(tfevents *h)
{
    if (h->em)
        return 0;
    h->em = lib_embedded_new(h->opts.batch_bytes, h->opts.any_step);
    return h->em ? 0 : -ENOMEM;
}

/* How dir (NULL: the default) is reached. *ret is borrowed from h. */
static int route(tfevents *h, const char *dir, struct route **ret)
{
    char buf[TFEVENTS_MAX_PATH];
    const char *abs = buf;
    int r;
    if (!dir && h->top_route) {
        *ret = h->top_route;
        return 0;
    }
    if (dir) {
        if ((r = lib_path_absolute(dir, buf, sizeof buf)) < 0)
            return set_err(h, r, "invalid logdir path");
    } else {
        abs = h->stack[h->depth];
    }
    /* Most calls name the logdir of the call before. */
    struct route *last = &h->routes[h->last_route];
    if (last->abs && strcmp(last->abs, abs) == 0) {
        *ret = last;
        goto found;
    }
    for (unsigned i = 0; i < LIB_ROUTES; i++) {
        if (h->routes[i].abs && strcmp(h->routes[i].abs, abs) == 0) {
            h->last_route = i;
            *ret = &h->routes[i];
            goto found;
        }
    }
    struct route *rt = &h->routes[h->next_route];
    h->last_route = h->next_route;
    h->next_route = (h->next_route + 1) % LIB_ROUTES;
    if (h->top_route == rt)
        h->top_route = NULL;
    free(rt->abs);
    rt->abs = NULL;
    rt->em_logdir = NULL;
    rt->mode = TFEVENTS_MODE_EMBEDDED;
    if (h->dm) {
        r = daemon_name(h, abs, rt->name);
        if (r == 0)
            rt->mode = TFEVENTS_MODE_DAEMON;
        else if (r != -EXDEV || h->forced_daemon)
            return set_err(h, r, r == -EXDEV ? "the logdir is outside the daemon's root"
                                             : "invalid logdir for the daemon");
    }
    if (rt->mode == TFEVENTS_MODE_EMBEDDED) {
        if ((r = lib_path_embedded_name(abs, rt->name)) < 0)
            return set_err(h, r, "invalid logdir name");
        if ((r = ensure_embedded(h)) < 0)
            return set_err(h, r, NULL);
    }
    if (!(rt->abs = strdup(abs)))
        return set_err(h, -ENOMEM, NULL);
    *ret = rt;
found:
    if (!dir)
        h->top_route = *ret;
    return 0;
}

/* ---- executing requests ----------------------------------------------------- */

/* Run the request in h->req on rt's transport. wait: the daemon's answer
 * is needed (a reply into *rp); otherwise the request is batched. */
static int submit(tfevents *h, const struct route *rt, bool wait, struct lib_reply *rp)
{
    int r;
    memset(rp, 0, sizeof *rp);
    if (rt->mode == TFEVENTS_MODE_EMBEDDED) {
        r = lib_embedded_exec(h->em, h->req.data, h->req.len, rp);
        return r < 0 ? set_err(h, r, rp->error) : 0;
    }
    if (!wait) {
        r = lib_daemon_queue(h->dm, h->req.data, h->req.len);
        return r < 0 ? set_daemon_err(h, r, NULL) : 0;
    }
    r = lib_daemon_call(h->dm, h->req.data, h->req.len, rp);
    if (r < 0)
        return set_daemon_err(h, r, rp->error);
    if (!rp->ok)
        return set_err(h, -EREMOTEIO, rp->error);
    /* Refusals of earlier batched requests surface at the first wait. */
    r = lib_daemon_take_error(h->dm, h->err, sizeof h->err);
    return r;
}

/* ---- the background flush --------------------------------------------------- */

static void *flush_thread(void *arg)
{
    tfevents *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double t = (double)ts.tv_sec + ts.tv_nsec / 1e9 + h->opts.flush_interval;
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        int r = 0;
        while (!h->stop && r != ETIMEDOUT)
            r = pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        if (h->stop)
            break;
        /* Errors stay with the transports and surface on the next call. */
        if (h->dm)
            lib_daemon_tick(h->dm);
        if (h->em)
            lib_embedded_tick(h->em);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- open / close ----------------------------------------------------------- */

TFEV_API int tfevents_open(tfevents **ret, const struct tfevents_options *opts)
{
    *ret = NULL;
    struct tfevents_options o;
    int r = copy_options(&o, opts);
    if (r < 0)
        return r;
    pthread_once(&atfork_once, register_atfork);
    tfevents *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->opts = o;
    if (h->opts.batch_bytes == 0)
        h->opts.batch_bytes = LIB_DEFAULT_BATCH;
    buf_init(&h->req, BUF_NO_CAP);
    lib_scalars_init(&h->scalars);
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
    enum tfevents_mode mode = h->opts.mode;
    if ((unsigned)mode > TFEVENTS_MODE_EMBEDDED || !(h->opts.flush_interval >= 0)) {
        r = -EINVAL;
        goto fail;
    }
    const char *env = getenv("TFEVENTS_MODE");
    if (mode == TFEVENTS_MODE_AUTO && env && *env) {
        if (strcmp(env, "daemon") == 0)
            mode = TFEVENTS_MODE_DAEMON;
        else if (strcmp(env, "embedded") == 0)
            mode = TFEVENTS_MODE_EMBEDDED;
        else if (strcmp(env, "auto") != 0) {
            r = -EINVAL;
            goto fail;
        }
    }
    h->forced_daemon = mode == TFEVENTS_MODE_DAEMON;
    if (mode != TFEVENTS_MODE_EMBEDDED) {
        char sock[TFEVENTS_MAX_PATH];
        if (h->opts.socket_path)
            r = snprintf(sock, sizeof sock, "%s", h->opts.socket_path) >= (int)sizeof sock
                    ? -ENAMETOOLONG : 0;
        else
            r = sockpath_default(sock, sizeof sock);
        if (r == 0)
            r = lib_daemon_connect(&h->dm, sock, h->opts.batch_bytes,
                                   h->opts.reconnect_timeout);
        if (r < 0 && (mode == TFEVENTS_MODE_DAEMON || r == -ENOMEM))
            goto fail;
        r = 0;
    }
    if (!h->dm && (r = ensure_embedded(h)) < 0)
        goto fail;
    char abs[TFEVENTS_MAX_PATH];
    if ((r = lib_path_absolute(h->opts.logdir ? h->opts.logdir : "logs", abs, sizeof abs)) < 0)
        goto fail;
    if (!(h->stack[0] = strdup(abs))) {
        r = -ENOMEM;
        goto fail;
    }
    h->opts.logdir = NULL;
    h->opts.socket_path = NULL;
    if (h->opts.flush_interval > 0) {
        if (pthread_create(&h->thread, NULL, flush_thread, h) != 0) {
            r = -EAGAIN;
            goto fail;
        }
        h->has_thread = true;
    }
    handles_add(h);
    *ret = h;
    return 0;
fail:
    lib_daemon_free(h->dm, NULL, 0);
    lib_embedded_free(h->em);
    free(h->stack[0]);
    buf_free(&h->req);
    lib_scalars_done(&h->scalars);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return r;
}

TFEV_API int tfevents_close(tfevents *h)
{
    if (!h)
        return 0;
    if (h->forked) {
        forget_forked(h);
        return 0;
    }
    handles_remove(h);
    if (h->has_thread) {
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    }
    int r = 0;
    if (h->dm) {
        /* Everything in the files before returning, like embedded mode. */
        struct lib_reply rp;
        r = lib_request_flush(&h->req, NULL, false, false);
        if (r == 0)
            r = lib_daemon_call(h->dm, h->req.data, h->req.len, &rp);
        if (r == 0 && !rp.ok)
            r = -EREMOTEIO;
        int r2 = lib_daemon_free(h->dm, h->err, sizeof h->err);
        if (r == 0)
            r = r2;
    }
    int r3 = lib_embedded_free(h->em);
    if (r == 0)
        r = r3;
    for (size_t i = 0; i <= h->depth; i++)
        free(h->stack[i]);
    for (unsigned i = 0; i < LIB_ROUTES; i++)
        free(h->routes[i].abs);
    buf_free(&h->req);
    lib_scalars_done(&h->scalars);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return r;
}

TFEV_API enum tfevents_mode tfevents_mode(tfevents *h)
{
    return h->dm ? TFEVENTS_MODE_DAEMON : TFEVENTS_MODE_EMBEDDED;
}

TFEV_API int tfevents_logdir_mode(tfevents *h, const char *dir)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    int r = route(h, dir, &rt);
    if (r == 0)
        r = (int)rt->mode;
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API size_t tfevents_last_error(tfevents *h, char *out, size_t size)
{
    pthread_mutex_lock(&h->mu);
    size_t n = strlen(h->err);
    if (size > 0)
        snprintf(out, size, "%s", h->err);
    pthread_mutex_unlock(&h->mu);
    return n;
}

TFEV_API uint64_t tfevents_refused(tfevents *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->dm ? lib_daemon_refused(h->dm) : 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

TFEV_API uint64_t tfevents_lost(tfevents *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->dm ? lib_daemon_lost(h->dm) : 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

TFEV_API uint64_t tfevents_reconnects(tfevents *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->dm ? lib_daemon_reconnects(h->dm) : 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- logdirs ---------------------------------------------------------------- */

static int replace_top(tfevents *h, const char *dir, bool push)
{
    char abs[TFEVENTS_MAX_PATH];
    int r = lib_path_absolute(dir, abs, sizeof abs);
    if (r < 0)
        return set_err(h, r, "invalid logdir path");
    if (push && h->depth >= TFEVENTS_MAX_LOGDIR_STACK)
        return set_err(h, -ENOSPC, "logdir stack full");
    char *copy = strdup(abs);
    if (!copy)
        return set_err(h, -ENOMEM, NULL);
    h->top_route = NULL;
    if (push) {
        h->stack[++h->depth] = copy;
    } else {
        free(h->stack[h->depth]);
        h->stack[h->depth] = copy;
    }
    return 0;
}

TFEV_API int tfevents_set_logdir(tfevents *h, const char *dir)
{
    if (enter(h) < 0)
        return -ECHILD;
    int r = replace_top(h, dir, false);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_push_logdir(tfevents *h, const char *dir)
{
    if (enter(h) < 0)
        return -ECHILD;
    int r = replace_top(h, dir, true);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_pop_logdir(tfevents *h)
{
    if (enter(h) < 0)
        return -ECHILD;
    int r = 0;
    if (h->depth == 0)
        r = set_err(h, -ENOENT, "no logdir was pushed");
    else
        free(h->stack[h->depth--]);
    h->top_route = NULL;
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_get_logdir(tfevents *h, char *out, size_t size)
{
    if (enter(h) < 0)
        return -ECHILD;
    size_t n = strlen(h->stack[h->depth]);
    int r = (int)n;
    if (!out || n >= size) {
        if (out && size > 0)
            out[0] = '\0';
        r = -ERANGE;
    } else {
        memcpy(out, h->stack[h->depth], n + 1);
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- steps ------------------------------------------------------------------ */

TFEV_API int tfevents_get_step(tfevents *h, const char *dir, int64_t *ret_step)
{
    if (!ret_step)
        return -EINVAL;
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_step_get(&h->req, rt->name)) < 0)
        set_err(h, r, NULL);
    if (r == 0)
        r = submit(h, rt, true, &rp);
    if (r == 0 || (r == -EREMOTEIO && rp.ok))
        *ret_step = rp.step;
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_set_step(tfevents *h, const char *dir, int64_t step)
{
    if (step < -1 || step > LIB_MAX_STEP)
        return -EINVAL;
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_step_set(&h->req, rt->name, step)) < 0)
        set_err(h, r, NULL);
    if (r == 0)
        r = submit(h, rt, false, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- logging ---------------------------------------------------------------- */

/* The direct route of plain scalars (under h->mu): straight into the
 * in-process writer, or encoded straight into the daemon batch. 1 when
 * it declines (the general route then runs and answers). */
static int log_scalars(tfevents *h, struct route *rt, const struct lib_scalar *sc,
                       size_t n, int64_t step, double wall_time, int64_t *ret_step)
{
    if (rt->mode == TFEVENTS_MODE_EMBEDDED) {
        struct lib_reply rp;
        enum logdir_step_mode mode = step == TFEVENTS_STEP_NEXT      ? LOGDIR_STEP_NEXT
                                     : step == TFEVENTS_STEP_CURRENT ? LOGDIR_STEP_CURRENT
                                                                     : LOGDIR_STEP_AT;
        int r = n == 1 ? lib_embedded_log_scalar(h->em, rt->name, &rt->em_logdir, mode, step,
                                                 wall_time, sc->run, sc->tag, sc->value, &rp)
                       : lib_embedded_log_scalars(h->em, rt->name, mode, step, wall_time, sc,
                                                  n, &rp);
        if (r == LIB_EMBEDDED_DECLINED)
            return 1;
        if (r < 0)
            return set_err(h, r, rp.error);
        if (ret_step)
            *ret_step = rp.step;
        return 0;
    }
    /* A caller waiting for its step takes the general route (a call). */
    if (ret_step)
        return 1;
    int r = n == 1 ? lib_daemon_queue_log_scalar(h->dm, rt->name, step, wall_time, sc->run,
                                                 sc->tag, sc->value)
                   : lib_daemon_queue_log_scalars(h->dm, rt->name, step, wall_time, sc, n);
    return r < 0 ? set_daemon_err(h, r, NULL) : 0;
}

TFEV_API int tfevents_log(tfevents *h, const char *dir, const tfevents_values *vs,
                          int64_t step, double wall_time, int64_t *ret_step)
{
    if (!h || !vs || vs->n == 0)
        return -EINVAL;
    if (step != TFEVENTS_STEP_NEXT && step != TFEVENTS_STEP_CURRENT &&
        (step < 0 || step > LIB_MAX_STEP))
        return -EINVAL;
    /* The wall time is taken now: a batch may wait a while before the
     * daemon reads it. */
    if (wall_time < 0)
        wall_time = event_now();
    else if (!(wall_time < 1e10))
        return -EINVAL;
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && lib_values_scalars(vs, &h->scalars) == 1 &&
        (r = log_scalars(h, rt, h->scalars.v, h->scalars.n, step, wall_time, ret_step)) != 1)
        goto out;
    if (r == 1)
        r = 0;
    if (r == 0 && (r = lib_request_log(&h->req, rt->name, step, wall_time, &vs->packed)) < 0)
        set_err(h, r, NULL);
    if (r == 0)
        r = submit(h, rt, ret_step != NULL, &rp);
    if (ret_step && (r == 0 || (r == -EREMOTEIO && rp.ok)))
        *ret_step = rp.step;
out:
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_log_scalar(tfevents *h, const char *dir, const char *run,
                                 const char *tag, double value, int64_t step)
{
    /* The direct route needs what tfevents_add_scalar() and tfevents_log()
     * check before any transport is involved; otherwise they say no. */
    if (h && tag && *tag &&
        (step == TFEVENTS_STEP_NEXT || step == TFEVENTS_STEP_CURRENT ||
         (step >= 0 && step <= LIB_MAX_STEP))) {
        double wall_time = event_now();
        struct lib_scalar sc = {run, tag, value};
        if (enter(h) < 0)
            return -ECHILD;
        struct route *rt;
        int r = route(h, dir, &rt);
        if (r == 0)
            r = log_scalars(h, rt, &sc, 1, step, wall_time, NULL);
        pthread_mutex_unlock(&h->mu);
        if (r != 1)
            return r;
    }
    /* One value on the stack: no allocation beyond the buffers. */
    tfevents_values vs;
    lib_values_init(&vs);
    int r = tfevents_add_scalar(&vs, run, tag, value);
    if (r == 0)
        r = tfevents_log(h, dir, &vs, step, TFEVENTS_NOW, NULL);
    lib_values_done(&vs);
    return r;
}

TFEV_API int tfevents_restart(tfevents *h, const char *dir, const char *run, int64_t step)
{
    if (step < 0 || step > LIB_MAX_STEP)
        return -EINVAL;
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_restart(&h->req, rt->name, run, (uint64_t)step)) < 0)
        set_err(h, r, NULL);
    if (r == 0)
        r = submit(h, rt, false, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_flush(tfevents *h, bool sync)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct lib_reply rp;
    int r = 0;
    if (h->em) {
        struct route rt = {.mode = TFEVENTS_MODE_EMBEDDED};
        r = lib_request_flush(&h->req, NULL, sync, false);
        if (r == 0)
            r = submit(h, &rt, true, &rp);
    }
    if (h->dm) {
        struct route rt = {.mode = TFEVENTS_MODE_DAEMON};
        int r2 = lib_request_flush(&h->req, NULL, sync, false);
        if (r2 == 0)
            r2 = submit(h, &rt, true, &rp);
        if (r == 0)
            r = r2;
    }
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_exec_json(tfevents *h, const char *line, size_t len, char *reply,
                                size_t size, size_t *ret_len)
{
    if (size)
        reply[0] = '\0';
    if (ret_len)
        *ret_len = 0;
    if (enter(h) < 0)
        return -ECHILD;
    int r = h->dm ? set_err(h, -ENOTSUP, "JSON lines go to the daemon itself in daemon mode")
                  : ensure_embedded(h);
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    if (r == 0)
        r = lib_embedded_exec_json(h->em, line, len, &out);
    if (out.len && size) {   /* the reply, cut between whole UTF-8 characters */
        size_t n = out.len < size ? out.len : size - 1;
        while (n > 0 && n < out.len && (out.data[n] & 0xC0) == 0x80)
            n--;
        memcpy(reply, out.data, n);
        reply[n] = '\0';
    }
    if (ret_len)
        *ret_len = out.len;
    if (r < 0 && !h->dm)
        set_err(h, r, "refused (see the reply)");
    buf_free(&out);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_close_files(tfevents *h, const char *dir, bool sync)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_flush(&h->req, rt->name, sync, true)) < 0)
        set_err(h, r, NULL);
    if (r == 0)
        r = submit(h, rt, true, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- hparams ---------------------------------------------------------------- */

TFEV_API int tfevents_hparams_config(tfevents *h, const char *dir, const char *run,
                                     const struct tfevents_hparam_info *hparams,
                                     size_t n_hparams,
                                     const struct tfevents_metric_info *metrics,
                                     size_t n_metrics)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_hparams_config(&h->req, rt->name, run, hparams, n_hparams,
                                                  metrics, n_metrics)) < 0)
        set_err(h, r, "invalid hparams config");
    if (r == 0)
        r = submit(h, rt, false, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_hparams_session_start(tfevents *h, const char *dir, const char *run,
                                            const struct tfevents_hparam *hparams, size_t n,
                                            const char *group_name)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 &&
        (r = lib_request_session_start(&h->req, rt->name, run, hparams, n, group_name)) < 0)
        set_err(h, r, "invalid hparams");
    if (r == 0)
        r = submit(h, rt, false, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_hparams_session_end(tfevents *h, const char *dir, const char *run,
                                          enum tfevents_status status)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_session_end(&h->req, rt->name, run, status)) < 0)
        set_err(h, r, "invalid session status");
    if (r == 0)
        r = submit(h, rt, false, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- the embedding projector ------------------------------------------------ */

TFEV_API int tfevents_add_embedding(tfevents *h, const char *dir, const char *run, int64_t step,
                                    const struct tfevents_embedding *e)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_embedding(&h->req, rt->name, run, step, e)) < 0)
        set_err(h, r, "invalid embedding (sizes, or a NULL tensor or label)");
    if (r == 0)
        r = submit(h, rt, true, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

/* ---- graphs ----------------------------------------------------------------- */

static int add_graph(tfevents *h, const char *dir, const char *run, int64_t step,
                     const char *tag, const void *data, size_t len)
{
    if (enter(h) < 0)
        return -ECHILD;
    struct route *rt;
    struct lib_reply rp;
    int r = route(h, dir, &rt);
    if (r == 0 && (r = lib_request_graph(&h->req, rt->name, run, step, tag, data, len)) < 0)
        set_err(h, r, r == -EINVAL ? "a graph needs its bytes and a step of at least 0"
                                   : "the graph does not fit in a request");
    if (r == 0)
        r = submit(h, rt, true, &rp);
    pthread_mutex_unlock(&h->mu);
    return r;
}

TFEV_API int tfevents_add_graph(tfevents *h, const char *dir, const char *run, int64_t step,
                                const void *graph_def, size_t len)
{
    return add_graph(h, dir, run, step, NULL, graph_def, len);
}

TFEV_API int tfevents_add_run_metadata(tfevents *h, const char *dir, const char *run,
                                       int64_t step, const char *tag, const void *run_metadata,
                                       size_t len)
{
    if (!tag)
        return -EINVAL;
    return add_graph(h, dir, run, step, tag, run_metadata, len);
}
