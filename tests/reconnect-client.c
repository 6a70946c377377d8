/* reconnect-client: one libtfevents handle in daemon mode, driven line by
 * line from standard input, so that tests/test-reconnect.py can restart
 * or kill the daemon between (or during) its calls. One output line per
 * command: "ok ..." or "err CODE SENTENCE".
 *
 *   open SOCKET LOGDIR BATCH_BYTES RECONNECT_TIMEOUT   (flush_interval 0)
 *   at RUN TAG FROM TO     one tfevents_log_scalar() per step FROM..TO-1
 *                          at that step, value = step (a failure answers
 *                          "err CODE at=STEP ...": the steps before it
 *                          were accepted)
 *   next RUN TAG N         N of them at the counter's step, value = 1000000+i
 *   step                   tfevents_get_step(): everything before it was
 *                          read and executed by the daemon (not written)
 *   flush                  tfevents_flush()
 *   counters               "ok lost=L reconnects=R refused=F"
 *   close                  tfevents_close()
 *
 * Not installed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfevents.h"

#define LINE_MAX_LEN 4096

static tfevents *h;

static void answer(int r)
{
    if (r >= 0) {
        printf("ok\n");
    } else {
        char err[1024];
        tfevents_last_error(h, err, sizeof err);
        printf("err %d %s\n", -r, err);
    }
}

/* Log steps from..to-1; on a failure, say at which one (the ones before
 * it were accepted). */
static void log_range(const char *run, const char *tag, long from, long to, bool at)
{
    for (long i = from; i < to; i++) {
        int r = at ? tfevents_log_scalar(h, NULL, run, tag, (double)i, i)
                   : tfevents_log_scalar(h, NULL, run, tag, 1000000.0 + (double)i,
                                         TFEVENTS_STEP_NEXT);
        if (r < 0) {
            char err[1024];
            tfevents_last_error(h, err, sizeof err);
            printf("err %d at=%ld %s\n", -r, i, err);
            return;
        }
    }
    printf("ok\n");
}

int main(void)
{
    char line[LINE_MAX_LEN], a[LINE_MAX_LEN], b[LINE_MAX_LEN];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        long x, y;
        double t;
        if (sscanf(line, "open %4095s %4095s %ld %lf", a, b, &x, &t) == 4) {
            struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
            o.mode = TFEVENTS_MODE_DAEMON;
            o.socket_path = a;
            o.logdir = b;
            o.batch_bytes = (size_t)x;
            o.flush_interval = 0;
            o.reconnect_timeout = t;
            int r = tfevents_open(&h, &o);
            printf(r == 0 ? "ok\n" : "err %d open\n", -r);
        } else if (sscanf(line, "at %4095s %4095s %ld %ld", a, b, &x, &y) == 4) {
            log_range(a, b, x, y, true);
        } else if (sscanf(line, "next %4095s %4095s %ld", a, b, &x) == 3) {
            log_range(a, b, 0, x, false);
        } else if (strncmp(line, "step", 4) == 0) {
            int64_t s = 0;
            answer(tfevents_get_step(h, NULL, &s));
        } else if (strncmp(line, "flush", 5) == 0) {
            answer(tfevents_flush(h, false));
        } else if (strncmp(line, "counters", 8) == 0) {
            printf("ok lost=%" PRIu64 " reconnects=%" PRIu64 " refused=%" PRIu64 "\n",
                   tfevents_lost(h), tfevents_reconnects(h), tfevents_refused(h));
        } else if (strncmp(line, "close", 5) == 0) {
            int r = tfevents_close(h);
            printf(r == 0 ? "ok\n" : "err %d close\n", -r);
            h = NULL;
        } else {
            printf("err %d unknown command\n", EINVAL);
        }
    }
    return 0;
}
