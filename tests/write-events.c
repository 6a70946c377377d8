/* write-events: a test helper that writes scalar events the way a training
 * program does, for tests of readers that follow a logdir (tfevents tail).
 *
 *   write-events new DIR TAG STEP VALUE...     a new event file in DIR
 *                                              (created with its parents if
 *                                              missing) through
 *                                              record_writer; prints its path
 *   write-events append FILE TAG STEP VALUE... framed events appended to FILE
 *   write-events head FILE TAG STEP VALUE      the first half of one event
 *   write-events rest FILE TAG STEP VALUE      the rest of that same event
 *
 * Values get steps STEP, STEP+1, ...; an event's wall time is 1700000000 +
 * its step, so tests can predict the lines they expect. Not installed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "record.h"
#include "record_writer.h"
#include "event.pb-c.h"

/* One framed scalar event {wall_time, step, summary{value{tag, simple_value}}}
 * appended to out. */
static int frame_scalar(struct buf *out, const char *tag, long long step, float x)
{
    Tensorboard__Summary__Value v, *vp = &v;
    tensorboard__summary__value__init(&v);
    v.tag = (char *)tag;
    v.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = x;
    Tensorboard__Summary s;
    tensorboard__summary__init(&s);
    s.n_value = 1;
    s.value = &vp;
    Tensorboard__Event ev;
    tensorboard__event__init(&ev);
    ev.wall_time = 1700000000.0 + (double)step;
    ev.step = step;
    ev.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    ev.summary = &s;
    size_t n = tensorboard__event__get_packed_size(&ev);
    uint8_t *payload = malloc(n);
    if (!payload)
        return -ENOMEM;
    tensorboard__event__pack(&ev, payload);
    int r = record_frame(out, payload, n);
    free(payload);
    return r;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char tmp[4096];
    if (strlen(path) >= sizeof tmp)
        return -ENAMETOOLONG;
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int append_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, data, len);
    int err = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
    close(fd);
    return err;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: write-events new|append|head|rest PATH TAG STEP VALUE...\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2], *tag = argv[3];
    long long step = strtoll(argv[4], NULL, 10);
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    int err = 0;
    for (int i = 5; i < argc && !err; i++)
        err = frame_scalar(&b, tag, step + (i - 5), strtof(argv[i], NULL));
    if (err)
        goto out;
    if (strcmp(mode, "new") == 0) {
        err = make_dirs(path);
        if (err)
            goto out;
        record_writer *w = NULL;
        struct record_writer_options o = {.wall_time = 1700000000.0};
        err = record_writer_open(&w, path, &o);
        if (err)
            goto out;
        err = record_writer_write_framed(w, b.data, b.len);
        if (!err)
            printf("%s\n", record_writer_path(w));
        int cerr = record_writer_close(w);
        if (!err)
            err = cerr;
    } else if (strcmp(mode, "append") == 0) {
        err = append_bytes(path, b.data, b.len);
    } else if (strcmp(mode, "head") == 0) {
        err = append_bytes(path, b.data, b.len / 2);
    } else if (strcmp(mode, "rest") == 0) {
        err = append_bytes(path, b.data + b.len / 2, b.len - b.len / 2);
    } else {
        fprintf(stderr, "write-events: unknown mode '%s'\n", mode);
        err = -EINVAL;
    }
out:
    buf_free(&b);
    if (err) {
        fprintf(stderr, "write-events: %s: %s\n", path, strerror(-err));
        return 1;
    }
    return 0;
}
