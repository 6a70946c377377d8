/* libtfevents' ABI and process rules, through both transports (the real
 * tfeventsd on a temporary socket and root, and embedded mode): the
 * version macros against meson's project version, options that carry
 * their size, tfevents_strerror(), the reader-owned record, handles across
 * fork(), and JPEG images (made here byte by byte, and with cjpeg when
 * present), read back and checked with djpeg and eventlint. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client_util.h"
#include "test.h"
#include "tfevents.h"

static char *tmp;

/* ---- the ABI ------------------------------------------------------------------ */

/* The version macros, the library's string and meson's project version
 * (TFEVENTS_PROJECT_VERSION, from tests/meson.build) agree. */
static void test_version(void)
{
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", TFEVENTS_VERSION_MAJOR, TFEVENTS_VERSION_MINOR,
             TFEVENTS_VERSION_PATCH);
    CHECK_STR(v, TFEVENTS_PROJECT_VERSION);
    CHECK_STR(tfevents_version(), TFEVENTS_PROJECT_VERSION);
    CHECK_EQ(TFEVENTS_VERSION_NUMBER, (TFEVENTS_VERSION_MAJOR << 16) |
                                          (TFEVENTS_VERSION_MINOR << 8) | TFEVENTS_VERSION_PATCH);
    /* The number orders versions. */
    CHECK(TFEVENTS_VERSION_AT(0, 10, 0) > TFEVENTS_VERSION_AT(0, 9, 255));
    CHECK(TFEVENTS_VERSION_AT(1, 0, 0) > TFEVENTS_VERSION_AT(0, 255, 255));
    CHECK(TFEVENTS_VERSION_NUMBER >= TFEVENTS_VERSION_AT(0, 2, 0));
}

/* Options carry their size: the macro and the function agree, an
 * uninitialised or too small struct is refused, and a newer caller's
 * larger struct is read when its unknown tail is zero. */
static void test_options_size(void)
{
    REQUIRE(tmp);
    struct tfevents_options a = TFEVENTS_OPTIONS_INIT, b;
    memset(&b, 0x5a, sizeof b);
    tfevents_options_init(&b);
    CHECK_EQ(a.size, sizeof(struct tfevents_options));
    CHECK_EQ(b.size, a.size);
    CHECK_EQ(b.mode, a.mode);
    CHECK(b.socket_path == NULL && a.socket_path == NULL);
    CHECK(b.logdir == NULL && a.logdir == NULL);
    CHECK_EQ(b.batch_bytes, a.batch_bytes);
    CHECK(b.flush_interval == 1.0 && a.flush_interval == 1.0);
    CHECK(!a.any_step && !b.any_step);
    CHECK(a.reconnect_timeout == 0 && b.reconnect_timeout == 0);

    char dir[600], got[600];
    snprintf(dir, sizeof dir, "%s/opts", tmp);
    tfevents *h = (tfevents *)1;
    struct tfevents_options zero;
    memset(&zero, 0, sizeof zero);
    zero.mode = TFEVENTS_MODE_EMBEDDED;
    CHECK_EQ(tfevents_open(&h, &zero), -EINVAL);   /* size 0: not initialised */
    CHECK(h == NULL);
    a.mode = TFEVENTS_MODE_EMBEDDED;
    a.logdir = dir;
    a.size = offsetof(struct tfevents_options, any_step);
    CHECK_EQ(tfevents_open(&h, &a), -EINVAL);
    a.size = sizeof a;

    /* A caller built with a later header: one more field. */
    struct {
        struct tfevents_options o;
        uint64_t later_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.o = a;
    newer.o.size = sizeof newer;
    newer.later_field = 1;
    CHECK_EQ(tfevents_open(&h, &newer.o), -E2BIG);
    newer.later_field = 0;
    REQUIRE(tfevents_open(&h, &newer.o) == 0);
    CHECK_EQ(tfevents_mode(h), TFEVENTS_MODE_EMBEDDED);
    CHECK_EQ(tfevents_get_logdir(h, got, sizeof got), (int)strlen(dir));
    CHECK_STR(got, dir);
    CHECK_EQ(tfevents_close(h), 0);
}

/* tfevents_strerror(): the library's meaning of every error it documents,
 * strerror() for the others, whatever the sign. */
static void test_strerror(void)
{
    REQUIRE(tmp);
    static const struct {
        int err;
        const char *word;
    } ours[] = {
        {EINVAL, "invalid"},     {ENOMEM, "memory"},      {EMSGSIZE, "limit"},
        {EILSEQ, "UTF-8"},       {ERANGE, "step"},        {EXDEV, "root"},
        {EPIPE, "daemon"},       {ECONNRESET, "daemon"},  {ECONNREFUSED, "daemon"},
        {EREMOTEIO, "refused by the daemon"},             {EPROTO, "protocol"},
        {ETIMEDOUT, "daemon"},   {ECHILD, "fork"},        {E2BIG, "options"},
        {ENOSPC, "stack"},       {ENAMETOOLONG, "path"},  {ENOENT, "socket"},
        {EMEDIUMTYPE, "kind"}, {EEXIST, "first value"},   {EOVERFLOW, "2^53"},
    };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        const char *s = tfevents_strerror(-ours[i].err);
        CHECK(s && strstr(s, ours[i].word) != NULL);
        CHECK(s == tfevents_strerror(ours[i].err));
    }
    CHECK_STR(tfevents_strerror(-EBADF), strerror(EBADF));
    CHECK_STR(tfevents_strerror(-EACCES), strerror(EACCES));
    CHECK(tfevents_strerror(-100000) != NULL);
    CHECK(tfevents_strerror(0) != NULL);
    /* tfevents_last_error() falls back on the same sentences. */
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    o.flush_interval = 0;
    o.logdir = tmp;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    char big[TFEVENTS_MAX_PATH + 10], why[256];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ(tfevents_set_logdir(h, big), -ENAMETOOLONG);
    tfevents_last_error(h, why, sizeof why);
    CHECK(*why);
    CHECK_EQ(tfevents_close(h), 0);
}

/* The reader hands out its own record: one object, the same every call,
 * NULL when there is nothing. */
static void test_reader_record(void)
{
    REQUIRE(tmp);
    char logdir[600];
    snprintf(logdir, sizeof logdir, "%s/rec", tmp);
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    o.logdir = logdir;
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "a", 1.5, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "b", 2.5, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_close(h), 0);
    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec = NULL, *first = NULL;
    int r, n = 0;
    double sum = 0;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        REQUIRE(rec != NULL);
        if (!first)
            first = rec;
        CHECK(rec == first);
        n++;
        if (rec->kind == TFEVENTS_KIND_SCALAR)
            sum += rec->scalar;
        else
            CHECK_EQ(rec->kind, TFEVENTS_KIND_FILE_VERSION);
    }
    CHECK_EQ(r, 0);
    CHECK(rec == NULL);
    CHECK_EQ(n, 3);
    CHECK(sum == 4);
    tfevents_reader_free(rd);
}

/* ---- fork ------------------------------------------------------------------- */

/* What a child does with a handle of its parent (run in the child): every
 * call is refused, nothing is written or sent, close lets go of it; a new
 * handle works. Returns a bit per failed expectation (the exit status). */
static int child_of(tfevents *h, const struct tfevents_options *o, const char *child_logdir)
{
    alarm(20);   /* a deadlock fails the test instead of hanging it */
    int bad = 0;
    int64_t step;
    char why[256];
    enum tfevents_mode mode = tfevents_mode(h);
    bad |= (tfevents_log_scalar(h, NULL, NULL, "x", 99, TFEVENTS_STEP_NEXT) != -ECHILD) << 0;
    bad |= (tfevents_flush(h, false) != -ECHILD) << 1;
    bad |= (tfevents_get_step(h, NULL, &step) != -ECHILD) << 2;
    bad |= (tfevents_set_logdir(h, child_logdir) != -ECHILD) << 3;
    tfevents_last_error(h, why, sizeof why);
    bad |= (strstr(why, "parent") == NULL) << 4;
    bad |= (tfevents_close(h) != 0) << 5;
    struct tfevents_options c = *o;
    c.logdir = child_logdir;
    c.flush_interval = 0;   /* ThreadSanitizer allows no thread after fork() */
    tfevents *hc;
    if (tfevents_open(&hc, &c) != 0)
        return bad | 1 << 6;
    bad |= (tfevents_mode(hc) != mode) << 7;
    bad |= (tfevents_log_scalar(hc, NULL, NULL, "child", 7, TFEVENTS_STEP_NEXT) != 0) << 8;
    bad |= (tfevents_close(hc) != 0) << 9;
    return bad;
}


/* Values the parent logged before fork() and had not written or sent yet
 * reach the files once, from the parent, whatever the child does. */
static void fork_case(struct tfevents_options o, const char *base)
{
    char logdir[700], child_logdir[700];
    snprintf(logdir, sizeof logdir, "%s/parent", base);
    snprintf(child_logdir, sizeof child_logdir, "%s/child", base);
    o.logdir = logdir;
    o.flush_interval = 3600;   /* a thread that leaves the pending values alone */
    tfevents *h;
    REQUIRE(tfevents_open(&h, &o) == 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", i, TFEVENTS_STEP_NEXT), 0);
    fflush(NULL);
    pid_t p = fork();
    REQUIRE(p >= 0);
    if (p == 0)
        _exit(child_of(h, &o, child_logdir));
    int st = 0;
    CHECK_EQ(waitpid(p, &st, 0), p);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
    for (int i = 5; i < 10; i++)
        CHECK_EQ(tfevents_log_scalar(h, NULL, NULL, "x", i, TFEVENTS_STEP_NEXT), 0);
    CHECK_EQ(tfevents_close(h), 0);
    char want[1024];
    size_t len = 0;
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(want + len, sizeof want - len, ".|x|%d|1|scalars|%d||\n", i, i);
    snprintf(want + len, sizeof want - len, ".||0|11||||\n");
    client_util_check_dump(logdir, want);
    client_util_check_dump(child_logdir, ".|child|0|1|scalars|7||\n.||0|11||||\n");
    client_util_eventlint(logdir);
}

/* The busy thread's scalars: a fixed count (the files stay small), in
 * bursts of BUSY_BURST with a millisecond between bursts, so that it lasts
 * while the forks happen. */
#define BUSY_SCALARS 10000
#define BUSY_BURST 100

struct busy {
    tfevents *h;
    int logged, failed;
};

static void *busy_logger(void *arg)
{
    struct busy *b = arg;
    for (int i = 0; i < BUSY_SCALARS; i++) {
        if (tfevents_log_scalar(b->h, NULL, NULL, "t", b->logged, TFEVENTS_STEP_NEXT) == 0)
            b->logged++;
        else
            b->failed++;
        if (i % BUSY_BURST == BUSY_BURST - 1) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* fork() while another thread logs and the background thread flushes:
 * every child gets a usable (refusing) handle rather than a mutex locked
 * forever, and the parent's values all arrive, once. */
static void fork_busy(struct tfevents_options o, const char *logdir)
{
    o.logdir = logdir;
    o.flush_interval = 0.001;
    o.batch_bytes = 4096;
    struct busy b = {0};
    REQUIRE(tfevents_open(&b.h, &o) == 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, busy_logger, &b) == 0);
    int children_ok = 0;
    for (int i = 0; i < 20; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        fflush(NULL);
        pid_t p = fork();
        if (p == 0) {
            alarm(5);
            int bad = tfevents_log_scalar(b.h, NULL, NULL, "c", 1, TFEVENTS_STEP_NEXT) != -ECHILD;
            bad |= (tfevents_close(b.h) != 0) << 1;
            _exit(bad);
        }
        int st = 0;
        if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            children_ok++;
    }
    pthread_join(t, NULL);
    CHECK_EQ(children_ok, 20);
    CHECK_EQ(b.failed, 0);
    CHECK_EQ(b.logged, BUSY_SCALARS);
    CHECK_EQ(tfevents_close(b.h), 0);
    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec;
    int r, n = 0, in_order = 1;
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        if (rec->kind != TFEVENTS_KIND_SCALAR)
            continue;
        CHECK_STR(rec->tag, "t");
        in_order &= rec->step == n && rec->scalar == n;
        n++;
    }
    CHECK_EQ(r, 0);
    CHECK_EQ(n, b.logged);
    CHECK(in_order);
    tfevents_reader_free(rd);
}

static void test_fork(void)
{
    REQUIRE(tmp);
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char base[700];
    snprintf(base, sizeof base, "%s/fork-emb", tmp);
    fork_case(o, base);
    snprintf(base, sizeof base, "%s/fork-busy-emb", tmp);
    fork_busy(o, base);
    if (client_util_daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = client_util_daemon_sock;
    snprintf(base, sizeof base, "%s/fork-dmn", client_util_daemon_root);
    fork_case(o, base);
    snprintf(base, sizeof base, "%s/fork-busy-dmn", client_util_daemon_root);
    fork_busy(o, base);
}

/* ---- JPEG images ------------------------------------------------------------- */

/* A baseline JPEG of w x h mid-grey pixels, built byte by byte: one 8-bit
 * component, a quantisation table of ones, and Huffman tables with one
 * 1-bit code each (DC: difference category 0; AC: end of block), so that
 * every 8x8 block is the two bits 00 and decodes to 128 everywhere. */
static size_t grey_jpeg(uint8_t *out, size_t size, unsigned w, unsigned h)
{
    static const uint8_t dht_counts[16] = {1};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_append(&b, "\xFF\xD8", 2);                                  /* SOI */
    buf_append(&b, "\xFF\xDB\x00\x43\x00", 5);                      /* DQT, table 0 */
    for (int i = 0; i < 64; i++)
        buf_append(&b, "\x01", 1);
    uint8_t sof[] = {0xFF, 0xC0, 0, 11, 8, (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(w >> 8),
                     (uint8_t)w, 1, 1, 0x11, 0};                    /* SOF0, 1 component */
    buf_append(&b, sof, sizeof sof);
    for (int table = 0; table < 2; table++) {                       /* DHT: DC 0, AC 0 */
        uint8_t head[] = {0xFF, 0xC4, 0, 20, table ? 0x10 : 0x00};
        buf_append(&b, head, sizeof head);
        buf_append(&b, dht_counts, sizeof dht_counts);
        buf_append(&b, "\x00", 1);                                  /* the one symbol */
    }
    buf_append(&b, "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10); /* SOS */
    size_t bits = 2 * (size_t)((w + 7) / 8) * ((h + 7) / 8);
    for (size_t i = 0; i < bits / 8; i++)
        buf_append(&b, "\x00", 1);
    if (bits % 8) {
        uint8_t last = (uint8_t)(0xFF >> (bits % 8));               /* padded with ones */
        buf_append(&b, &last, 1);
    }
    buf_append(&b, "\xFF\xD9", 2);                                  /* EOI */
    size_t n = b.len <= size ? b.len : 0;
    memcpy(out, b.data, n);
    buf_free(&b);
    return n;
}

/* Write len bytes to dir/name; the path into path. */
static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -EIO;
}

/* djpeg's view of a JPEG: "WxH" and whether every pixel is 128, or NULL
 * when it does not decode. */
static bool djpeg_size(const void *jpeg, size_t len, unsigned *w, unsigned *h, bool *all_128)
{
    char in[700], out[700], cmd[1600];
    if (write_file(tmp, "decode.jpg", jpeg, len, in, sizeof in) < 0)
        return false;
    snprintf(out, sizeof out, "%s/decode.pgm", tmp);
    snprintf(cmd, sizeof cmd, "djpeg -pnm -outfile '%s' '%s' 2>&1", out, in);
    int st = -1;
    free(test_run_capture(cmd, &st));
    size_t n = 0;
    char *pgm = st == 0 ? test_read_file(out, &n) : NULL;
    int off = 0;
    bool ok = pgm && sscanf(pgm, "P%*d %u %u 255%n", w, h, &off) == 2 && off > 0;
    if (ok) {
        *all_128 = true;
        for (size_t i = (size_t)off + 1; i < n; i++)
            *all_128 &= (uint8_t)pgm[i] == 128;
    }
    free(pgm);
    return ok;
}

static bool have_program(const char *name)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    int st = -1;
    free(test_run_capture(cmd, &st));
    return st == 0;
}

/* A 13x7 colour gradient through cjpeg (libjpeg-turbo-progs); 0 when
 * cjpeg is absent. *ret: caller frees. */
static size_t photo_jpeg(char **ret)
{
    *ret = NULL;
    if (!have_program("cjpeg"))
        return 0;
    uint8_t ppm[32 + 13 * 7 * 3];
    int head = snprintf((char *)ppm, 32, "P6\n13 7\n255\n");
    for (int i = 0; i < 13 * 7; i++) {
        ppm[head + 3 * i] = (uint8_t)(i * 2);
        ppm[head + 3 * i + 1] = (uint8_t)(255 - i);
        ppm[head + 3 * i + 2] = (uint8_t)((i % 13) * 19);
    }
    char in[700], out[700], cmd[1600];
    if (write_file(tmp, "photo.ppm", ppm, (size_t)head + 13 * 7 * 3, in, sizeof in) < 0)
        return 0;
    snprintf(out, sizeof out, "%s/photo.jpg", tmp);
    snprintf(cmd, sizeof cmd, "cjpeg -quality 90 -outfile '%s' '%s' 2>&1", out, in);
    int st = -1;
    free(test_run_capture(cmd, &st));
    size_t n = 0;
    *ret = st == 0 ? test_read_file(out, &n) : NULL;
    return *ret ? n : 0;
}

/* JPEG files logged with tfevents_add_image_jpeg() come back from the
 * reader as they went in, with their size, and pass eventlint; a JPEG
 * without a frame header, or of another size than the first, is refused. */
static void jpeg_case(tfevents *h, const char *logdir, bool daemon, const uint8_t *grey,
                      size_t grey_len, const char *photo, size_t photo_len)
{
    tfevents_values *vs = tfevents_values_new();
    REQUIRE(vs);
    const void *greys[] = {grey, grey};
    size_t grey_lens[] = {grey_len, grey_len};
    CHECK_EQ(tfevents_add_image_jpeg(vs, NULL, "grey", greys, grey_lens, 2), 0);
    CHECK_EQ(tfevents_values_meta(vs, "Grey", "two mid-grey JPEGs"), 0);
    if (photo_len)
        CHECK_EQ(tfevents_add_image_jpeg(vs, "train", "photo", (const void *const[]){photo},
                                         &photo_len, 1),
                 0);
    CHECK_EQ(tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, NULL), 0);
    CHECK_EQ(tfevents_flush(h, false), 0);

    /* Refused: cut before the frame header; two sizes in one value. */
    uint8_t other[512];
    size_t other_len = grey_jpeg(other, sizeof other, 16, 8);
    const void *bad[][2] = {{grey, NULL}, {grey, other}};
    size_t bad_lens[][2] = {{40, 0}, {grey_len, other_len}};
    for (int k = 0; k < 2; k++) {
        tfevents_values_clear(vs);
        CHECK_EQ(tfevents_add_image_jpeg(vs, NULL, "bad", bad[k], bad_lens[k], k + 1), 0);
        int r = tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, NULL);
        CHECK_EQ(daemon && r == 0 ? tfevents_flush(h, false) : r, daemon ? -EREMOTEIO : -EINVAL);
    }
    tfevents_values_free(vs);
    CHECK_EQ(tfevents_close(h), 0);

    tfevents_reader *rd;
    REQUIRE(tfevents_reader_open(&rd, logdir) == 0);
    const struct tfevents_record *rec;
    int r, images = 0;
    bool decode = have_program("djpeg");
    while ((r = tfevents_reader_next(rd, &rec)) > 0) {
        if (rec->kind != TFEVENTS_KIND_IMAGE)
            continue;
        images++;
        CHECK_STR(rec->plugin, "images");
        bool is_grey = strcmp(rec->tag, "grey") == 0;
        CHECK(is_grey || strcmp(rec->tag, "photo") == 0);
        CHECK_STR(rec->run, is_grey ? "." : "train");
        CHECK_EQ(rec->width, is_grey ? 9 : 13);
        CHECK_EQ(rec->height, is_grey ? 5 : 7);
        CHECK_EQ(rec->n_blobs, is_grey ? 2 : 1);
        if (is_grey)
            CHECK_STR(rec->display_name, "Grey");
        for (size_t i = 0; i < rec->n_blobs; i++) {
            const void *want = is_grey ? (const void *)grey : photo;
            size_t want_len = is_grey ? grey_len : photo_len;
            CHECK_EQ(rec->blobs[i].len, want_len);
            CHECK(rec->blobs[i].len == want_len && memcmp(rec->blobs[i].data, want, want_len) == 0);
            unsigned w = 0, hh = 0;
            bool all_128 = false;
            if (decode) {
                CHECK(djpeg_size(rec->blobs[i].data, rec->blobs[i].len, &w, &hh, &all_128));
                CHECK_EQ(w, rec->width);
                CHECK_EQ(hh, rec->height);
                CHECK(all_128 == is_grey);
            }
        }
    }
    CHECK_EQ(r, 0);
    CHECK_EQ(images, photo_len ? 2 : 1);
    tfevents_reader_free(rd);
    client_util_eventlint(logdir);
}

static void test_image_jpeg(void)
{
    REQUIRE(tmp);
    uint8_t grey[512];
    size_t grey_len = grey_jpeg(grey, sizeof grey, 9, 5);
    REQUIRE(grey_len > 0);
    char *photo;
    size_t photo_len = photo_jpeg(&photo);
    if (!photo_len)
        fprintf(stderr, "note: cjpeg-made JPEG part skipped (cjpeg absent: libjpeg-turbo-progs)\n");
    if (!have_program("djpeg"))
        fprintf(stderr, "note: djpeg decoding skipped (djpeg absent: libjpeg-turbo-progs)\n");
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.mode = TFEVENTS_MODE_EMBEDDED;
    char logdir[700];
    snprintf(logdir, sizeof logdir, "%s/jpeg-emb", tmp);
    o.logdir = logdir;
    tfevents *h;
    if (tfevents_open(&h, &o) == 0)
        jpeg_case(h, logdir, false, grey, grey_len, photo, photo_len);
    else
        CHECK(0);
    if (client_util_daemon_pid > 0) {
        o.mode = TFEVENTS_MODE_DAEMON;
        o.socket_path = client_util_daemon_sock;
        snprintf(logdir, sizeof logdir, "%s/jpeg-dmn", client_util_daemon_root);
        o.logdir = logdir;
        if (tfevents_open(&h, &o) == 0)
            jpeg_case(h, logdir, true, grey, grey_len, photo, photo_len);
        else
            CHECK(0);
    }
    free(photo);
    if (client_util_daemon_pid <= 0)
        TEST_SKIP("embedded checked; the daemon did not start");
}

static void test_all(void)
{
    tmp = test_tmpdir("libtfevents_abi");
    REQUIRE(tmp);
    if (client_util_start_daemon(tmp) < 0)
        fprintf(stderr, "note: tfeventsd not started ($TFEVENTSD): daemon parts skipped\n");
}

static void teardown(void)
{
    client_util_stop_daemon();
    if (tmp && !getenv("KEEP_TMP"))
        test_rmtree(tmp);
    free(tmp);
}

TEST_MAIN(TEST(test_all), TEST(test_version), TEST(test_options_size), TEST(test_strerror),
          TEST(test_reader_record), TEST(test_fork), TEST(test_image_jpeg), TEST(teardown))
