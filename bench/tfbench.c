/* tfbench: the benchmark harness of tfevents (docs/performance.md).
 *
 * It starts tfeventsd on a temporary socket and root, drives it with client
 * processes, waits until the data is written (a flush request answered),
 * reads the files back to check that every value arrived, and prints one
 * line per figure: the median, min and max of several runs (-r, default 5).
 * Beside the end-to-end figures it measures, in the same run and on the same
 * machine, the limits they should be compared with (cJSON parsing the very
 * same lines, buffered writes of the same bytes, CRC-32C), and prints
 * ratios: on a shared, noisy machine a ratio within one run says more than
 * an absolute rate.
 *
 * Figures (-f, comma separated; default all):
 *   json      JSON lines, 1 and K clients (-k, default 8): scalars/s end to
 *             end, and the daemon's CPU time per scalar (/proc/<pid>/stat)
 *   binary    the binary protocol through libtfevents, 1 and K clients
 *   embedded  libtfevents writing the files itself, one process
 *   encode    histogram of 10k doubles, 64x64x3 image to PNG, 1 s of 16 kHz
 *             audio to WAV: CPU µs per value
 *   collect   logdir_reader over a generated logdir (-m MB, default 256)
 *   latency   flush-ack latency p50/p99 while another client loads the
 *             daemon; the daemon's memory idle, under load and at its peak
 *   limits    cJSON parse-only and jd_decode of the JSON lines, buffered
 *             write of the ingested bytes, CRC-32C
 *
 * Usage: tfbench [-r RUNS] [-n SCALARS] [-k CLIENTS] [-m MB] [-f FIGURES]
 *                [-d TFEVENTSD] [-t TMPDIR]
 * Not a test: it prints numbers and exits 1 only when something failed
 * (a client error, a count that does not match). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "benchutil.h"
#include "crc32c.h"
#include "decode_limit.h"
#include "logdir_reader.h"
#include "run_writer.h"
#include "summary.h"
#include "tfevents.h"

#define MAX_RUNS 64
#define MAX_CLIENTS 64
/* Clients write in chunks of this size, as a client that batches its
 * lines would. */
#define CLIENT_CHUNK (64u * 1024)
/* Flush probes of the latency figure. */
#define LATENCY_PROBES 300
/* The loader of the latency figure stops by itself after this long. */
#define LOADER_MAX_SECONDS 60

/* ---- options and small helpers ------------------------------------------ */

static struct {
    int runs;
    long scalars;
    int clients;
    unsigned long collect_mb;
    const char *figures;
    char daemon[4096];
    const char *tmp_base;
} opt = {.runs = 5, .scalars = 1000000, .clients = 8, .collect_mb = 256, .figures = "all"};

static char tmp[4096];   /* this run's directory */
static int failures;

static bool want(const char *figure)
{
    if (strcmp(opt.figures, "all") == 0)
        return true;
    size_t n = strlen(figure);
    for (const char *p = opt.figures; (p = strstr(p, figure)) != NULL; p += n)
        if ((p == opt.figures || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

static void fail_msg(const char *what, const char *why)
{
    printf("%-36s FAILED: %s\n", what, why);
    fflush(stdout);
    failures++;
}

/* The results of the runs of one figure. */
struct series {
    double v[MAX_RUNS];
    int n;
};

static void series_add(struct series *s, double x)
{
    if (s->n < MAX_RUNS)
        s->v[s->n++] = x;
}

/* The runs of s summarized (s itself keeps its order). */
static struct benchutil_stats series_stats(const struct series *s)
{
    double v[MAX_RUNS];
    memcpy(v, s->v, (size_t)s->n * sizeof v[0]);
    return benchutil_summarize(v, (size_t)s->n);
}

static double series_median(const struct series *s)
{
    return series_stats(s).median;
}

/* "median X unit (min A, max B)" with a precision fitting the size. */
static void print_series(const char *what, const struct series *s, const char *unit,
                         const char *extra)
{
    struct benchutil_stats st = series_stats(s);
    double m = st.median;
    int prec = fabs(m) >= 1000 ? 0 : fabs(m) >= 10 ? 1 : fabs(m) >= 1 ? 2 : 3;
    printf("%-36s %12.*f %-12s (min %.*f, max %.*f; %d runs)%s\n", what, prec, m, unit, prec,
           st.min, prec, st.max, s->n, extra ? extra : "");
    fflush(stdout);
}

static void print_machine(void)
{
    char model[256], sys[512];
    benchutil_cpu_model(model, sizeof model, "unknown CPU");
    benchutil_system(sys, sizeof sys);
    double load[3] = {0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    printf("machine: %s, %ld cores online, %s, CRC-32C %s, load average %.2f\n", model,
           benchutil_cores(), sys, crc32c_hw_available() ? "SSE4.2" : "software", load[0]);
    printf("tfbench: %d runs per figure; median (min, max); rates are wall clock unless "
           "marked CPU\n",
           opt.runs);
    fflush(stdout);
}

static void remove_tree(const char *path)
{
    pid_t p = fork();
    if (p == 0) {
        execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
        _exit(127);
    }
    if (p > 0)
        waitpid(p, NULL, 0);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int connect_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof sa.sun_path) {
        close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, n + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the daemon --------------------------------------------------------- */

static struct {
    pid_t pid;
    char sock[4200];
    char root[4200];
} dmn;

static int daemon_start(void)
{
    snprintf(dmn.sock, sizeof dmn.sock, "%s/d.sock", tmp);
    snprintf(dmn.root, sizeof dmn.root, "%s/root", tmp);
    if (mkdir(dmn.root, 0755) < 0 && errno != EEXIST)
        return -1;
    dmn.pid = fork();
    if (dmn.pid < 0)
        return -1;
    if (dmn.pid == 0) {
        /* Its banner and warnings go to a file, kept when a figure fails. */
        char logf[4300];
        snprintf(logf, sizeof logf, "%s/daemon.log", tmp);
        int lfd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
            close(lfd);
        }
        execl(opt.daemon, opt.daemon, "--socket", dmn.sock, "--root", dmn.root, "--log-level",
              "warn", (char *)NULL);
        fprintf(stderr, "tfbench: cannot run %s: %s\n", opt.daemon, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        int fd = connect_unix(dmn.sock);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (waitpid(dmn.pid, NULL, WNOHANG) == dmn.pid) {
            dmn.pid = 0;
            return -1;
        }
        usleep(10000);
    }
    return -1;
}

static void daemon_stop(void)
{
    if (dmn.pid > 0) {
        kill(dmn.pid, SIGTERM);
        waitpid(dmn.pid, NULL, 0);
        dmn.pid = 0;
    }
}

/* The daemon's CPU time (every thread: the loop and the writers), s. */
static double daemon_cpu_s(void)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)dmn.pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NAN;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return NAN;
    buf[n] = '\0';
    /* Fields after the command name, which may hold spaces: state is 3,
     * utime 14 and stime 15. */
    char *p = strrchr(buf, ')');
    if (!p)
        return NAN;
    unsigned long long ut = 0, st = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return NAN;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "VmRSS:"-style field of /proc/<pid>/status in KiB, or -1. */
static long daemon_status_kb(const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)dmn.pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0) {
            kb = strtol(line + n, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return kb;
}

/* ---- reading the files back --------------------------------------------- */

/* Scalars in the logdir at path; -1 when it cannot be read or a problem
 * (a bad CRC, a truncated record) was found. *ret_bytes: record bytes. */
static long long count_scalars(const char *path, uint64_t *ret_bytes, uint64_t *ret_records)
{
    logdir_reader *r = NULL;
    struct logdir_reader_options o;
    logdir_reader_options_init(&o);
    o.purge = false;
    if (logdir_reader_open(&r, path, &o) < 0)
        return -1;
    struct logdir_reader_item it;
    int rc;
    long long n = 0;
    while ((rc = logdir_reader_next(r, &it)) > 0)
        for (size_t i = 0; i < it.n_values; i++)
            n += it.values[i].kind == VALUE_SCALAR;
    struct logdir_reader_stats st;
    logdir_reader_stats(r, &st);
    logdir_reader_free(r);
    if (ret_bytes)
        *ret_bytes = st.bytes;
    if (ret_records)
        *ret_records = st.records;
    return rc < 0 || st.problems ? -1 : n;
}

/* ---- JSON clients ------------------------------------------------------- */

/* The commonest line: one scalar at an explicit step. */
static size_t json_line(char *out, const char *ldname, long step)
{
    return (size_t)sprintf(out,
                           "{\"op\":\"log\",\"logdir\":\"%s\",\"step\":%ld,"
                           "\"values\":{\"loss\":%.7g}}\n",
                           ldname, step, 1.0 / (double)(step + 1));
}

/* n lines into a new buffer. */
static char *json_lines(const char *ldname, long first_step, long n, size_t *ret_len)
{
    size_t cap = (size_t)n * (strlen(ldname) + 96) + 1;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    size_t len = 0;
    for (long i = 0; i < n; i++)
        len += json_line(b + len, ldname, first_step + i);
    *ret_len = len;
    return b;
}

/* Read replies until the one carrying id; count the errors. 0 when the
 * flush was answered ok and nothing failed. */
static int await_reply(int fd, const char *id, bool quiet)
{
    char buf[65536];
    size_t have = 0;
    char want_id[96];
    snprintf(want_id, sizeof want_id, "\"id\":%s", id);
    int errors = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
            *nl = '\0';
            bool bad = strstr(line, "\"ok\":false") != NULL;
            if (bad && errors++ == 0 && !quiet)
                fprintf(stderr, "tfbench: daemon answered: %.300s\n", line);
            if (strstr(line, want_id))
                return errors || bad ? -1 : 0;
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have >= sizeof buf - 1)
            have = 0;   /* a reply longer than the buffer: not ours */
    }
}

/* One client process: connect, say it is ready, wait for go (EOF on the
 * pipe), send the lines in CLIENT_CHUNK writes, flush, wait for the ack. */
/* In a client process: its CPU time when the start was given (what it
 * spends from there to its answered flush is reported to the parent). */
static double client_cpu_at_go;

static int json_client(const char *ldname, long n, int ready_fd, int go_fd)
{
    size_t len;
    char *lines = json_lines(ldname, 0, n, &len);
    int fd = connect_unix(dmn.sock);
    if (!lines || fd < 0)
        return 1;
    char c = 'r', g;
    if (write(ready_fd, &c, 1) != 1)
        return 1;
    while (read(go_fd, &g, 1) > 0)
        ;
    client_cpu_at_go = benchutil_cpu_s();
    for (size_t off = 0; off < len; off += CLIENT_CHUNK) {
        size_t k = len - off < CLIENT_CHUNK ? len - off : CLIENT_CHUNK;
        if (write_all(fd, lines + off, k) < 0)
            return 1;
    }
    static const char flush[] = "{\"op\":\"flush\",\"id\":\"tfbench-flush\"}\n";
    if (write_all(fd, flush, sizeof flush - 1) < 0)
        return 1;
    int r = await_reply(fd, "\"tfbench-flush\"", false);
    close(fd);
    return r < 0;
}

/* ---- binary clients (libtfevents) --------------------------------------- */

static int binary_client(const char *ldname, long n, int ready_fd, int go_fd)
{
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = dmn.sock;
    o.logdir = ldname;
    tfevents *h;
    if (tfevents_open(&h, &o) < 0)
        return 1;
    char c = 'r', g;
    if (write(ready_fd, &c, 1) != 1)
        return 1;
    while (read(go_fd, &g, 1) > 0)
        ;
    client_cpu_at_go = benchutil_cpu_s();
    for (long i = 0; i < n; i++)
        if (tfevents_log_scalar(h, NULL, ".", "loss", 1.0 / (double)(i + 1), i) < 0)
            return 1;
    int r = tfevents_flush(h, false);
    if (r < 0) {
        char why[256];
        tfevents_last_error(h, why, sizeof why);
        fprintf(stderr, "tfbench: binary client: %s\n", why);
    }
    return tfevents_close(h) < 0 || r < 0;
}

enum ingest_kind { INGEST_JSON, INGEST_BINARY };

/* One run of an ingest figure: `clients` processes, n scalars each, into
 * logdirs <tag>-<run>-<k>. Returns 0 and the rate and daemon CPU µs per
 * scalar, after checking the counts in the files. */
static int ingest_run(enum ingest_kind kind, int clients, long n, int run, double *ret_rate,
                      double *ret_cpu_us, double *ret_client_cpu_us, double *ret_record_bytes,
                      char *why, size_t why_size)
{
    int ready[2], go[2], spent[2];
    if (pipe(ready) < 0 || pipe(go) < 0 || pipe(spent) < 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        return -1;
    }
    const char *tag = kind == INGEST_JSON ? "json" : "bin";
    pid_t pids[MAX_CLIENTS];
    for (int k = 0; k < clients; k++) {
        char ldname[4400];
        if (kind == INGEST_JSON)
            snprintf(ldname, sizeof ldname, "%s-c%d-r%d-%d", tag, clients, run, k);
        else   /* libtfevents takes a path; under the root it is the daemon's */
            snprintf(ldname, sizeof ldname, "%s/%s-c%d-r%d-%d", dmn.root, tag, clients, run, k);
        pids[k] = fork();
        if (pids[k] == 0) {
            close(ready[0]);
            close(go[1]);
            close(spent[0]);
            int rc = kind == INGEST_JSON ? json_client(ldname, n, ready[1], go[0])
                                         : binary_client(ldname, n, ready[1], go[0]);
            double cpu = benchutil_cpu_s() - client_cpu_at_go;
            if (write(spent[1], &cpu, sizeof cpu) != (ssize_t)sizeof cpu)
                rc = 1;
            _exit(rc);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(spent[1]);
    int up = 0;
    char c;
    while (up < clients && read(ready[0], &c, 1) == 1)
        up++;
    close(ready[0]);
    double cpu0 = daemon_cpu_s(), t0 = benchutil_now_s();
    close(go[1]);   /* go */
    int bad = up < clients;
    for (int k = 0; k < clients; k++) {
        int st;
        waitpid(pids[k], &st, 0);
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    double t1 = benchutil_now_s(), cpu1 = daemon_cpu_s();
    double clients_cpu = 0, one;
    for (int k = 0; k < clients && read(spent[0], &one, sizeof one) == (ssize_t)sizeof one; k++)
        clients_cpu += one;
    close(spent[0]);
    if (bad) {
        snprintf(why, why_size, "a client failed (see above)");
        return -1;
    }
    uint64_t bytes = 0, records = 0;
    for (int k = 0; k < clients; k++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s-c%d-r%d-%d", dmn.root, tag, clients, run, k);
        uint64_t b = 0, r = 0;
        long long got = count_scalars(path, &b, &r);
        if (got != n) {
            snprintf(why, why_size, "%.300s holds %lld scalars, %ld were sent", path, got, n);
            return -1;
        }
        bytes += b;
        records += r;
        remove_tree(path);
    }
    double total = (double)n * clients;
    *ret_rate = total / (t1 - t0);
    *ret_cpu_us = (cpu1 - cpu0) / total * 1e6;
    *ret_client_cpu_us = clients_cpu / total * 1e6;
    *ret_record_bytes = records ? (double)bytes / (double)records : 0;
    return 0;
}

/* Bytes of one scalar's record as the daemon writes it (for the write
 * limit); measured by the JSON figure. */
static double record_bytes = 0;
static struct series json1_rate, json1_cpu;

static void figure_ingest(enum ingest_kind kind)
{
    const char *name = kind == INGEST_JSON ? "JSON" : "binary";
    int counts[2] = {1, opt.clients};
    for (int ci = 0; ci < 2; ci++) {
        int clients = counts[ci];
        long n = clients == 1 ? opt.scalars : opt.scalars / clients;
        struct series rate = {0}, cpu = {0}, client_cpu = {0};
        char what[96], why[512];
        snprintf(what, sizeof what, "%s ingest, %d client%s", name, clients,
                 clients == 1 ? "" : "s");
        bool ok = true;
        for (int r = 0; r < opt.runs && ok; r++) {
            double x, y, z, rb;
            if (ingest_run(kind, clients, n, r, &x, &y, &z, &rb, why, sizeof why) < 0) {
                fail_msg(what, why);
                ok = false;
                break;
            }
            series_add(&rate, x);
            series_add(&cpu, y);
            series_add(&client_cpu, z);
            if (kind == INGEST_JSON)
                record_bytes = rb;
        }
        if (!ok)
            continue;
        char extra[96];
        snprintf(extra, sizeof extra, "  [%ld scalars per client]", n);
        print_series(what, &rate, "scalars/s", extra);
        snprintf(what, sizeof what, "  daemon CPU per scalar, %d client%s", clients,
                 clients == 1 ? "" : "s");
        print_series(what, &cpu, "us CPU", NULL);
        snprintf(what, sizeof what, "  client CPU per scalar, %d client%s", clients,
                 clients == 1 ? "" : "s");
        print_series(what, &client_cpu, "us CPU", NULL);
        if (kind == INGEST_JSON && clients == 1) {
            json1_rate = rate;
            json1_cpu = cpu;
        }
    }
}

/* ---- embedded ----------------------------------------------------------- */

/* tags: 1 (one series), or 4 (a training loop's loss, accuracy, learning
 * rate and gradient norm at each step, one call each). */
static void figure_embedded(int tags)
{
    static const char *const names[] = {"loss", "accuracy", "learning_rate", "grad_norm"};
    struct series rate = {0}, cpu = {0};
    char what[96];
    snprintf(what, sizeof what, "embedded C API, 1 process%s", tags > 1 ? ", 4 tags" : "");
    for (int r = 0; r < opt.runs; r++) {
        char ldpath[4200];
        snprintf(ldpath, sizeof ldpath, "%s/embedded-%d", tmp, r);
        struct tfevents_options o;
        tfevents_options_init(&o);
        o.mode = TFEVENTS_MODE_EMBEDDED;
        o.logdir = ldpath;
        tfevents *h;
        if (tfevents_open(&h, &o) < 0) {
            fail_msg(what, "tfevents_open failed");
            return;
        }
        double t0 = benchutil_now_s(), c0 = benchutil_cpu_s();
        int err = 0;
        for (long i = 0; i < opt.scalars && err == 0; i++)
            err = tfevents_log_scalar(h, NULL, ".", names[i % tags], 1.0 / (double)(i + 1),
                                      i / tags);
        if (err == 0)
            err = tfevents_flush(h, false);
        double t1 = benchutil_now_s(), c1 = benchutil_cpu_s();
        if (tfevents_close(h) < 0 || err < 0) {
            fail_msg(what, "logging failed");
            return;
        }
        long long got = count_scalars(ldpath, NULL, NULL);
        if (got != opt.scalars) {
            char why[256];
            snprintf(why, sizeof why, "%lld scalars in the files, %ld logged", got,
                     opt.scalars);
            fail_msg(what, why);
            return;
        }
        remove_tree(ldpath);
        series_add(&rate, (double)opt.scalars / (t1 - t0));
        series_add(&cpu, (c1 - c0) / (double)opt.scalars * 1e6);
    }
    print_series(what, &rate, "scalars/s", NULL);
    print_series(tags > 1 ? "  CPU per scalar, embedded, 4 tags" : "  CPU per scalar, embedded",
                 &cpu, "us CPU", NULL);
}

/* ---- encoders ----------------------------------------------------------- */

enum encoder { ENC_HISTOGRAM, ENC_IMAGE, ENC_IMAGE_SMOOTH, ENC_AUDIO };

struct enc_input {
    double hist[10000];
    uint8_t image[64 * 64 * 3];
    uint8_t smooth[64 * 64 * 3];
    double audio[16000];
};

static int encode_once(struct summary_value *v, enum encoder e, const struct enc_input *in)
{
    switch (e) {
    case ENC_HISTOGRAM:
        return summary_histogram(v, "weights", in->hist, 10000, HISTOGRAM_DEFAULT_BUCKETS, NULL);
    case ENC_IMAGE:
        return summary_image_u8(v, "image", in->image, 1, 64, 64, 3, NULL);
    case ENC_IMAGE_SMOOTH:
        return summary_image_u8(v, "image", in->smooth, 1, 64, 64, 3, NULL);
    case ENC_AUDIO:
        return summary_audio_doubles(v, "audio", in->audio, 1, 16000, 1, 16000, NULL);
    }
    return -EINVAL;
}

static void figure_encode(void)
{
    static struct enc_input in;
    for (int i = 0; i < 10000; i++)
        in.hist[i] = benchutil_normal();
    /* A gradient with some noise: a photograph-like image, neither flat
     * nor random. */
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            for (int ch = 0; ch < 3; ch++)
                in.image[(y * 64 + x) * 3 + ch] =
                    (uint8_t)((x * 2 + y * (ch + 1)) % 200 + (int)(benchutil_uniform() * 32));
    /* A smooth one (a plot, a rendered mask): what deflate is good at. */
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
            for (int ch = 0; ch < 3; ch++)
                in.smooth[(y * 64 + x) * 3 + ch] = (uint8_t)(x * 2 + y * ch + (x * y) / 64);
    for (int i = 0; i < 16000; i++)
        in.audio[i] = 0.8 * sin(i * 2 * M_PI * 440 / 16000) + 0.05 * (benchutil_uniform() - 0.5);
    static const struct {
        enum encoder e;
        const char *what;
        const char *goal;
    } encs[] = {
        {ENC_HISTOGRAM, "histogram of 10k doubles", "  [goal <= 30 us]"},
        {ENC_IMAGE, "image 64x64x3 u8 -> PNG, noisy", "  [goal <= 150 us]"},
        {ENC_IMAGE_SMOOTH, "image 64x64x3 u8 -> PNG, smooth", "  [goal <= 150 us]"},
        {ENC_AUDIO, "audio 1 s 16 kHz mono -> WAV", NULL},
    };
    struct summary_value v;
    summary_value_init(&v);
    for (size_t k = 0; k < sizeof encs / sizeof encs[0]; k++) {
        struct series s = {0};
        if (encode_once(&v, encs[k].e, &in) < 0) {
            fail_msg(encs[k].what, summary_last_error());
            continue;
        }
        for (int r = 0; r < opt.runs; r++) {
            /* About 0.2 s of CPU per run, whatever the encoder costs. */
            long iters = 0;
            double c0 = benchutil_thread_cpu_s(), c1;
            do {
                for (int i = 0; i < 50; i++)
                    encode_once(&v, encs[k].e, &in);
                iters += 50;
                c1 = benchutil_thread_cpu_s();
            } while (c1 - c0 < 0.2);
            series_add(&s, (c1 - c0) / (double)iters * 1e6);
        }
        char what[96], extra[128];
        snprintf(what, sizeof what, "encode %s", encs[k].what);
        snprintf(extra, sizeof extra, "%s  [%zu bytes]", encs[k].goal ? encs[k].goal : "",
                 v.body.len);
        print_series(what, &s, "us CPU", extra);
    }
    summary_value_done(&v);
}

/* ---- collect ------------------------------------------------------------ */

/* A logdir of about mb MB of scalar events as the daemon writes them
 * (summary_scalar + run_writer): 4 runs, 4 tags. */
static int collect_generate(const char *root, unsigned long mb)
{
    static const char *const tags[4] = {"loss", "accuracy", "learning_rate", "grad_norm"};
    struct summary_value v;
    summary_value_init(&v);
    int err = 0;
    for (int run = 0; run < 4 && err == 0; run++) {
        char dir[4400];
        snprintf(dir, sizeof dir, "%s/run_%d", root, run);
        struct run_writer_options o = {.rotate_bytes = 64ull << 20};
        run_writer *w = run_writer_new(dir, &o);
        if (!w) {
            err = -ENOMEM;
            break;
        }
        uint64_t per_run = ((uint64_t)mb << 20) / 4, written = 0;
        for (int64_t step = 0; written < per_run && err == 0; step++) {
            for (int k = 0; k < 4 && err == 0; k++) {
                err = summary_scalar(&v, tags[k], 1.0 / (double)(step + k + 1), NULL);
                if (err == 0)
                    err = run_writer_add_summary(w, 1.7e9 + (double)step * 0.01, step, &v);
            }
            if (run_writer_pending_bytes(w) >= (4u << 20)) {
                written += run_writer_pending_bytes(w);
                if (err == 0)
                    err = run_writer_flush(w, false);
            }
        }
        int e2 = run_writer_close(w, false);
        if (err == 0)
            err = e2;
    }
    summary_value_done(&v);
    return err;
}

static void figure_collect(struct series *ret_mbs)
{
    const char *what = "collect (logdir_reader, CRC checked)";
    char root[4200];
    snprintf(root, sizeof root, "%s/collect", tmp);
    if (mkdir(root, 0755) < 0 || collect_generate(root, opt.collect_mb) < 0) {
        fail_msg(what, "cannot generate the logdir");
        return;
    }
    struct series mbs = {0}, cpu_mbs = {0}, rps = {0};
    for (int r = 0; r < opt.runs; r++) {
        logdir_reader *rd = NULL;
        struct logdir_reader_options o;
        logdir_reader_options_init(&o);
        o.purge = false;
        double t0 = benchutil_now_s(), c0 = benchutil_cpu_s();
        if (logdir_reader_open(&rd, root, &o) < 0) {
            fail_msg(what, "cannot open the logdir");
            return;
        }
        struct logdir_reader_item it;
        int rc;
        double sink = 0;
        while ((rc = logdir_reader_next(rd, &it)) > 0)
            for (size_t i = 0; i < it.n_values; i++)
                if (it.values[i].kind == VALUE_SCALAR)
                    sink += it.values[i].scalar;
        struct logdir_reader_stats st;
        logdir_reader_stats(rd, &st);
        logdir_reader_free(rd);
        double t1 = benchutil_now_s(), c1 = benchutil_cpu_s();
        if (rc < 0 || st.problems || sink <= 0) {
            fail_msg(what, "reading failed or found problems");
            return;
        }
        series_add(&mbs, (double)st.bytes / 1e6 / (t1 - t0));
        series_add(&cpu_mbs, (double)st.bytes / 1e6 / (c1 - c0));
        series_add(&rps, (double)st.records / (t1 - t0));
    }
    char extra[96];
    snprintf(extra, sizeof extra, "  [%lu MB logdir; goal >= 500 MB/s]", opt.collect_mb);
    print_series(what, &mbs, "MB/s", extra);
    print_series("  collect, per CPU second", &cpu_mbs, "MB/s CPU", NULL);
    print_series("  collect, records", &rps, "records/s", NULL);
    remove_tree(root);
    *ret_mbs = cpu_mbs;
}

/* ---- flush latency and memory ------------------------------------------- */

/* The loader: JSON lines as fast as it can until its time is up or it is
 * killed. */
static int loader(const char *ldname, double seconds)
{
    int fd = connect_unix(dmn.sock);
    if (fd < 0)
        return 1;
    char *chunk = malloc(CLIENT_CHUNK + 256);
    if (!chunk)
        return 1;
    double end = benchutil_now_s() + seconds;
    long step = 0;
    while (benchutil_now_s() < end) {
        size_t len = 0;
        while (len < CLIENT_CHUNK)
            len += json_line(chunk + len, ldname, step++);
        if (write_all(fd, chunk, len) < 0)
            return 1;
    }
    return 0;
}

/* The daemon's "events" counter, asked on connection fd; -1 on error. */
static long long daemon_events(int fd)
{
    static const char req[] = "{\"op\":\"stats\",\"id\":\"tfbench-stats\"}\n";
    if (write_all(fd, req, sizeof req - 1) < 0)
        return -1;
    char buf[8192];
    size_t have = 0;
    while (have < sizeof buf - 1) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if (memchr(buf, '\n', have)) {
            const char *e = strstr(buf, "\"events\":");
            return e ? strtoll(e + 9, NULL, 10) : -1;
        }
    }
    return -1;
}

/* Time LATENCY_PROBES flush requests; with_value logs one value to the
 * probe's own logdir first and flushes that logdir, else flushes all. */
static int probe_flushes(int fd, bool with_value, int run, double *lat, long *rss_max_kb)
{
    for (int i = 0; i < LATENCY_PROBES; i++) {
        char req[512], id[64];
        snprintf(id, sizeof id, "%d", i + 1);
        int len = with_value
                      ? snprintf(req, sizeof req,
                                 "{\"logdir\":\"probe-%d\",\"step\":%d,\"values\":{\"x\":%d}}\n"
                                 "{\"op\":\"flush\",\"logdir\":\"probe-%d\",\"id\":%s}\n",
                                 run, i, i, run, id)
                      : snprintf(req, sizeof req, "{\"op\":\"flush\",\"id\":%s}\n", id);
        double t0 = benchutil_now_s();
        if (write_all(fd, req, (size_t)len) < 0 || await_reply(fd, id, false) < 0)
            return -1;
        lat[i] = benchutil_now_s() - t0;
        long kb = daemon_status_kb("VmRSS:");
        if (kb > *rss_max_kb)
            *rss_max_kb = kb;
    }
    benchutil_sort(lat, LATENCY_PROBES);
    return 0;
}

static void figure_latency(long idle_kb)
{
    const char *what = "flush-ack latency under load";
    struct series p50[2], p99[2];
    memset(p50, 0, sizeof p50);
    memset(p99, 0, sizeof p99);
    long rss_load_kb = 0;
    struct series load = {0};
    for (int r = 0; r < opt.runs; r++) {
        char ldname[64];
        snprintf(ldname, sizeof ldname, "load-%d", r);
        pid_t ld = fork();
        if (ld == 0)
            _exit(loader(ldname, LOADER_MAX_SECONDS));
        usleep(300000);   /* let the load build up */
        int fd = connect_unix(dmn.sock);
        double lat[LATENCY_PROBES];
        bool ok = fd >= 0;
        long long ev0 = ok ? daemon_events(fd) : -1;
        double t0 = benchutil_now_s();
        for (int mode = 0; mode < 2 && ok; mode++) {
            if (probe_flushes(fd, mode == 1, r, lat, &rss_load_kb) < 0) {
                ok = false;
                break;
            }
            series_add(&p50[mode], lat[LATENCY_PROBES / 2] * 1e3);
            series_add(&p99[mode], lat[LATENCY_PROBES * 99 / 100] * 1e3);
        }
        long long ev1 = ok ? daemon_events(fd) : -1;
        if (ok && ev0 >= 0 && ev1 >= ev0)
            series_add(&load, (double)(ev1 - ev0) / (benchutil_now_s() - t0));
        if (fd >= 0)
            close(fd);
        kill(ld, SIGKILL);
        waitpid(ld, NULL, 0);
        if (!ok) {
            fail_msg(what, "a flush was not answered, or answered with an error");
            return;
        }
    }
    print_series("flush-ack latency p50, flush all", &p50[0], "ms", "  [another client loading]");
    print_series("flush-ack latency p99, flush all", &p99[0], "ms", NULL);
    print_series("flush-ack latency p50, own logdir", &p50[1], "ms", "  [1 value, then flush]");
    print_series("flush-ack latency p99, own logdir", &p99[1], "ms", NULL);
    print_series("  load meanwhile (1 JSON client)", &load, "scalars/s", NULL);
    long hwm = daemon_status_kb("VmHWM:");
    printf("%-36s %12.1f MiB idle at start, %.1f MiB max under load, VmHWM %.1f MiB  "
           "[goal idle <= 16 MiB]\n",
           "daemon memory (VmRSS)", (double)idle_kb / 1024, (double)rss_load_kb / 1024,
           (double)hwm / 1024);
    fflush(stdout);
    for (int r = 0; r < opt.runs; r++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/load-%d", dmn.root, r);
        remove_tree(path);
        snprintf(path, sizeof path, "%s/probe-%d", dmn.root, r);
        remove_tree(path);
    }
}

/* ---- limits ------------------------------------------------------------- */

static void figure_limits(const struct series *collect_cpu_mbs)
{
    long n = opt.scalars;
    size_t len;
    char *lines = json_lines("json-c1-r0-0", 0, n, &len);
    const char **starts = malloc((size_t)n * sizeof *starts);
    size_t *lens = malloc((size_t)n * sizeof *lens);
    if (!lines || !starts || !lens) {
        fail_msg("limits", "out of memory");
        goto out;
    }
    for (long i = 0, off = 0; i < n; i++) {
        const char *p = lines + off, *nl = memchr(p, '\n', len - (size_t)off);
        starts[i] = p;
        lens[i] = (size_t)(nl - p);
        off += (long)lens[i] + 1;
    }

    /* cJSON alone: parse and free every line, nothing else. */
    struct series parse = {0}, decode = {0};
    for (int r = 0; r < opt.runs; r++) {
        double c0 = benchutil_thread_cpu_s();
        for (long i = 0; i < n; i++) {
            cJSON *j = cJSON_ParseWithLength(starts[i], lens[i]);
            if (!j) {
                fail_msg("limit: cJSON parse", "a line did not parse");
                goto out;
            }
            cJSON_Delete(j);
        }
        series_add(&parse, (double)n / (benchutil_thread_cpu_s() - c0));
    }
    print_series("limit: cJSON parse only, same lines", &parse, "lines/s CPU", NULL);

    /* The daemon's decoder (parse, check, normalise, build the value). */
    for (int r = 0; r < opt.runs; r++) {
        char err[512];
        double t = decode_limit_run(starts, lens, n, err, sizeof err);
        if (t < 0) {
            fail_msg("limit: jd_decode", err);
            goto out;
        }
        series_add(&decode, (double)n / t);
    }
    print_series("  jd_decode (parse+check+encode)", &decode, "lines/s CPU", NULL);

    /* Buffered writes of the bytes the JSON figure put in the files. */
    struct series wr = {0};
    double rb = record_bytes > 0 ? record_bytes : 50;
    size_t total = (size_t)(rb * (double)n);
    size_t bufsize = 256u * 1024;
    char *wbuf = malloc(bufsize);
    char path[4200];
    snprintf(path, sizeof path, "%s/write-limit", tmp);
    for (int r = 0; wbuf && r < opt.runs; r++) {
        memset(wbuf, 'x' + r, bufsize);
        double t0 = benchutil_now_s();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            break;
        for (size_t off = 0; off < total; off += bufsize)
            if (write_all(fd, wbuf, total - off < bufsize ? total - off : bufsize) < 0)
                break;
        close(fd);
        series_add(&wr, (double)total / 1e6 / (benchutil_now_s() - t0));
        unlink(path);
    }
    free(wbuf);
    char extra[128];
    snprintf(extra, sizeof extra, "  [%.1f MB = %ld records of %.1f B; = %.0f records/s]",
             (double)total / 1e6, n, rb, series_median(&wr) * 1e6 / rb);
    print_series("limit: buffered write, same bytes", &wr, "MB/s", extra);

    /* CRC-32C over 1 MiB and over one scalar record's bytes. */
    struct series big = {0}, small = {0};
    size_t blen = 1u << 20, slen = (size_t)rb - 8;   /* a record's payload */
    uint8_t *cbuf = malloc(blen);
    for (size_t i = 0; cbuf && i < blen; i++)
        cbuf[i] = (uint8_t)(i * 131 + 7);
    uint32_t sink = 0;
    for (int r = 0; cbuf && r < opt.runs; r++) {
        double c0 = benchutil_thread_cpu_s();
        for (int i = 0; i < 500; i++)
            sink ^= crc32c(cbuf, blen);
        series_add(&big, 500.0 * (double)blen / 1e9 / (benchutil_thread_cpu_s() - c0));
        c0 = benchutil_thread_cpu_s();
        for (int i = 0; i < 2000000; i++)
            sink ^= crc32c(cbuf + (i & 63), slen);
        series_add(&small, (benchutil_thread_cpu_s() - c0) / 2000000.0 * 1e9);
    }
    free(cbuf);
    print_series("limit: CRC-32C, 1 MiB buffers", &big, "GB/s CPU", sink == 1 ? " " : NULL);
    snprintf(extra, sizeof extra, "  [%zu bytes, unaligned]", slen);
    print_series("  CRC-32C of one scalar record", &small, "ns CPU", extra);

    /* What every tfevents_log_scalar() pays whatever the library does: the
     * wall time (clock_gettime(CLOCK_REALTIME), which TensorBoard shows)
     * and the handle's mutex, locked and unlocked. */
    struct series clk = {0}, mtx = {0};
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    double tsink = 0;
    volatile unsigned msink = 0;
    for (int r = 0; r < opt.runs; r++) {
        double c0 = benchutil_thread_cpu_s();
        for (int i = 0; i < 2000000; i++) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            tsink += (double)ts.tv_nsec;
        }
        series_add(&clk, (benchutil_thread_cpu_s() - c0) / 2000000.0 * 1e9);
        c0 = benchutil_thread_cpu_s();
        for (int i = 0; i < 2000000; i++) {
            pthread_mutex_lock(&mu);
            msink++;
            pthread_mutex_unlock(&mu);
        }
        series_add(&mtx, (benchutil_thread_cpu_s() - c0) / 2000000.0 * 1e9);
    }
    print_series("limit: clock_gettime(CLOCK_REALTIME)", &clk, "ns CPU",
                 tsink < 0 ? " " : NULL);
    print_series("limit: mutex lock + unlock, uncontended", &mtx, "ns CPU", NULL);

    /* Ratios within this run. */
    if (json1_rate.n > 0) {
        double pm = series_median(&parse);
        printf("ratio: JSON ingest (1 client) / cJSON parse-only rate: %.2f; daemon CPU per "
               "scalar / cJSON parse CPU per line: %.2f; / jd_decode CPU per line: %.2f\n",
               series_median(&json1_rate) / pm, series_median(&json1_cpu) / (1e6 / pm),
               series_median(&json1_cpu) / (1e6 / series_median(&decode)));
        printf("ratio: JSON ingest bytes written / buffered write rate: %.4f\n",
               series_median(&json1_rate) * rb / 1e6 / series_median(&wr));
    }
    if (collect_cpu_mbs && collect_cpu_mbs->n > 0)
        printf("ratio: collect (CPU MB/s) / CRC-32C rate: %.3f\n",
               series_median(collect_cpu_mbs) / 1e3 / series_median(&big));
    fflush(stdout);
out:
    free(lines);
    free(starts);
    free(lens);
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: tfbench [-r RUNS] [-n SCALARS] [-k CLIENTS] [-m MB] [-f FIGURES]\n"
            "               [-d TFEVENTSD] [-t TMPDIR]\n"
            "FIGURES: all or a comma list of json, binary, embedded, encode, collect,\n"
            "latency, limits\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "r:n:k:m:f:d:t:h")) != -1) {
        switch (c) {
        case 'r':
            opt.runs = atoi(optarg);
            break;
        case 'n':
            opt.scalars = atol(optarg);
            break;
        case 'k':
            opt.clients = atoi(optarg);
            break;
        case 'm':
            opt.collect_mb = strtoul(optarg, NULL, 10);
            break;
        case 'f':
            opt.figures = optarg;
            break;
        case 'd':
            snprintf(opt.daemon, sizeof opt.daemon, "%s", optarg);
            break;
        case 't':
            opt.tmp_base = optarg;
            break;
        default:
            usage();
        }
    }
    if (opt.runs < 1 || opt.runs > MAX_RUNS || opt.scalars < opt.clients ||
        opt.clients < 2 || opt.clients > MAX_CLIENTS || opt.collect_mb < 1)
        usage();
    if (!opt.daemon[0]) {
        /* Beside this program in the build tree: bench/../daemon. */
        char self[4000];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = '\0';
            snprintf(opt.daemon, sizeof opt.daemon, "%s/../daemon/tfeventsd", self);
        }
    }
    if (!opt.tmp_base)
        opt.tmp_base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%.3000s/tfbench.XXXXXX", opt.tmp_base);
    if (!mkdtemp(tmp)) {
        perror("tfbench: mkdtemp");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    print_machine();

    bool need_daemon = want("json") || want("binary") || want("latency");
    long idle_kb = -1;
    if (need_daemon) {
        if (daemon_start() < 0) {
            fail_msg("tfeventsd", "did not start (use -d PATH)");
            need_daemon = false;
        } else {
            usleep(200000);
            idle_kb = daemon_status_kb("VmRSS:");
            printf("daemon: %s (pid %ld), idle VmRSS %.1f MiB\n", opt.daemon, (long)dmn.pid,
                   (double)idle_kb / 1024);
        }
    }
    if (need_daemon && want("json"))
        figure_ingest(INGEST_JSON);
    if (need_daemon && want("binary"))
        figure_ingest(INGEST_BINARY);
    if (want("embedded")) {
        figure_embedded(1);
        figure_embedded(4);
    }
    if (want("encode"))
        figure_encode();
    struct series collect_cpu = {0};
    if (want("collect"))
        figure_collect(&collect_cpu);
    if (need_daemon && want("latency"))
        figure_latency(idle_kb);
    if (want("limits"))
        figure_limits(&collect_cpu);
    daemon_stop();
    remove_tree(tmp);
    if (failures)
        printf("tfbench: %d figure(s) FAILED\n", failures);
    return failures ? 1 : 0;
}
