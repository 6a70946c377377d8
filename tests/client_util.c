/* client_util: see client_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client_util.h"
#include "test.h"
#include "tfevents.h"

pid_t client_util_daemon_pid;
char client_util_daemon_sock[100];
char client_util_daemon_root[512];

void client_util_stop_daemon(void)
{
    if (client_util_daemon_pid > 0) {
        kill(client_util_daemon_pid, SIGTERM);
        int st;
        waitpid(client_util_daemon_pid, &st, 0);
        client_util_daemon_pid = 0;
    }
}

int client_util_start_daemon(const char *tmp)
{
    const char *exe = getenv("TFEVENTSD");
    if (!exe || access(exe, X_OK) != 0)
        return -ENOENT;
    snprintf(client_util_daemon_sock, sizeof client_util_daemon_sock, "%s/d.sock", tmp);
    snprintf(client_util_daemon_root, sizeof client_util_daemon_root, "%s/root", tmp);
    mkdir(client_util_daemon_root, 0755);
    char log[600];
    snprintf(log, sizeof log, "%s/daemon.log", tmp);
    pid_t p = fork();
    if (p < 0)
        return -errno;
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(exe, exe, "--socket", client_util_daemon_sock, "--root", client_util_daemon_root, "--flush-interval",
              "0.2", "--log-level", "debug", (char *)NULL);
        _exit(127);
    }
    client_util_daemon_pid = p;
    for (int i = 0; i < 500; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", client_util_daemon_sock);
        int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        close(fd);
        if (ok)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    client_util_stop_daemon();
    return -ETIMEDOUT;
}

/* ---- reading back ------------------------------------------------------------- */

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *client_util_dump(const char *logdir, size_t *ret_records)
{
    tfevents_reader *rd;
    if (tfevents_reader_open(&rd, logdir) < 0)
        return NULL;
    size_t n = 0, cap = 64;
    char **lines = malloc(cap * sizeof *lines);
    const struct tfevents_record *rec;
    int r;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        struct buf b;
        buf_init(&b, BUF_NO_CAP);
        buf_printf(&b, "%s|%s|%lld|%d|%s|", rec->run, rec->tag, (long long)rec->step, rec->kind,
                   rec->plugin);
        switch (rec->kind) {
        case TFEVENTS_KIND_SCALAR:
            buf_printf(&b, "%.9g", rec->scalar);
            break;
        case TFEVENTS_KIND_TEXT:
        case TFEVENTS_KIND_TENSOR:
            for (size_t i = 0; i < rec->n_strings; i++)
                buf_printf(&b, "'%.*s'", (int)rec->strings[i].len,
                           (const char *)rec->strings[i].data);
            for (size_t i = 0; i < rec->n_numbers; i++)
                buf_printf(&b, "%.6g,", rec->numbers[i]);
            buf_printf(&b, " rank %zu", rec->rank);
            break;
        case TFEVENTS_KIND_HISTOGRAM:
            for (size_t i = 0; i < rec->n_numbers; i++)
                buf_printf(&b, "%.9g,", rec->numbers[i]);
            break;
        case TFEVENTS_KIND_IMAGE: {
            unsigned sum = 0;
            for (size_t i = 0; i < rec->n_blobs; i++)
                for (size_t k = 0; k < rec->blobs[i].len; k++)
                    sum = sum * 31 + ((const uint8_t *)rec->blobs[i].data)[k];
            buf_printf(&b, "%ux%u n=%zu sum=%u", rec->width, rec->height, rec->n_blobs, sum);
            break;
        }
        case TFEVENTS_KIND_AUDIO:
            for (size_t i = 0; i < rec->n_clips; i++)
                buf_printf(&b, "%u/%u/%llu ", rec->clips[i].sample_rate, rec->clips[i].channels,
                           (unsigned long long)rec->clips[i].frames);
            break;
        case TFEVENTS_KIND_SESSION_LOG:
            buf_printf(&b, "status %d", rec->status);
            break;
        case TFEVENTS_KIND_GRAPH:
            for (size_t i = 0; i < rec->n_blobs; i++)
                buf_printf(&b, "len=%zu ", rec->blobs[i].len);
            break;
        default:
            break;
        }
        buf_printf(&b, "|%s|%s", rec->display_name, rec->description);
        if (n == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
        }
        buf_append(&b, "", 1);
        lines[n++] = (char *)b.data;
    }
    tfevents_reader_free(rd);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
        free(lines);
        return NULL;
    }
    qsort(lines, n, sizeof *lines, cmp_lines);
    struct buf all;
    buf_init(&all, BUF_NO_CAP);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&all, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    buf_append(&all, "", 1);
    *ret_records = n;
    return (char *)all.data;
}

void client_util_check_dump(const char *logdir, const char *want)
{
    size_t n = 0;
    char *got = client_util_dump(logdir, &n);
    CHECK(got != NULL);
    if (got && strcmp(got, want) != 0) {
        fprintf(stderr, "%s holds:\n%swant:\n%s", logdir, got, want);
        CHECK(0);
    }
    free(got);
}

void client_util_eventlint(const char *logdir)
{
    const char *shared = test_shared_dir();
    if (!shared) {
        fprintf(stderr, "note: eventlint part skipped (TFEVENTS_SHARED absent)\n");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/eventlint' --strict -q '%s' 2>&1", shared,
             logdir);
    int st = -1;
    char *out = test_run_capture(cmd, &st);
    if (st != 0)
        fprintf(stderr, "eventlint %s:\n%s\n", logdir, out ? out : "");
    CHECK_EQ(st, 0);
    free(out);
}
