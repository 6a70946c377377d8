#include "users.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logdir.h"

/* getpwuid_r's scratch: enough for any sane passwd entry. */
#define USERS_PWBUF 16384u

/* Loop thread only (the lookups write their answer into their job). */
static struct {
    bool used;
    uid_t uid;
    char name[USERS_MAX_NAME + 1];
} cache[USERS_CACHE];
static unsigned cache_next;

bool users_cached(uid_t uid, char out[USERS_MAX_NAME + 1])
{
    for (unsigned i = 0; i < USERS_CACHE; i++)
        if (cache[i].used && cache[i].uid == uid) {
            memcpy(out, cache[i].name, USERS_MAX_NAME + 1);
            return true;
        }
    return false;
}

struct job {
    uv_work_t work;
    uid_t uid;
    char name[USERS_MAX_NAME + 1];
    void (*done)(void *ctx, const char *name);
    void *ctx;
};

/* Thread pool: the name, or uid-<n> when there is no usable one. */
static void lookup(uv_work_t *w)
{
    struct job *j = w->data;
    snprintf(j->name, sizeof j->name, "uid-%lu", (unsigned long)j->uid);
    char *pwbuf = malloc(USERS_PWBUF);
    if (!pwbuf)
        return;
    struct passwd pw, *res = NULL;
    if (getpwuid_r(j->uid, &pw, pwbuf, USERS_PWBUF, &res) == 0 && res && res->pw_name) {
        char norm[LOGDIR_MAX_NAME + 1];
        size_t n = strlen(res->pw_name);
        if (n > 0 && n <= USERS_MAX_NAME && !strchr(res->pw_name, '/') &&
            logdir_normalize(res->pw_name, n, norm, sizeof norm, NULL) == 0 &&
            strcmp(norm, res->pw_name) == 0)
            memcpy(j->name, res->pw_name, n + 1);
    }
    free(pwbuf);
}

static void looked_up(uv_work_t *w, int status)
{
    struct job *j = w->data;
    (void)status;   /* never cancelled */
    char name[USERS_MAX_NAME + 1];
    if (!users_cached(j->uid, name)) {
        unsigned slot = cache_next++ % USERS_CACHE;
        cache[slot].used = true;
        cache[slot].uid = j->uid;
        memcpy(cache[slot].name, j->name, sizeof cache[slot].name);
    }
    j->done(j->ctx, j->name);
    free(j);
}

int users_resolve(uv_loop_t *loop, uid_t uid, void (*done)(void *ctx, const char *name),
                  void *ctx)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->uid = uid;
    j->done = done;
    j->ctx = ctx;
    j->work.data = j;
    int r = uv_queue_work(loop, &j->work, lookup, looked_up);
    if (r < 0)
        free(j);
    return r;
}
