/* tfevents step / stats / ping: ask the running tfeventsd, and the
 * connection helpers the daemon commands share (cli_daemon.h).
 *
 * step goes through libtfevents in daemon mode, so that --logdir means the
 * same path as for `tfevents log` (relative to the working directory,
 * mapped to a name under the daemon's root). stats and ping have no
 * library call: they are one JSON line each way. */
#include "cli_daemon.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sockpath.h"
#include "tfevents.h"

int cli_daemon_socket_path(const char *opt, char *out, size_t size)
{
    struct sockaddr_un sa;
    if (!opt)
        return sockpath_default(out, size);
    int n = snprintf(out, size, "%s", opt);
    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    return 0;
}

int cli_daemon_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Is line (NUL-terminated) a JSON object whose "id" is the number id? */
static int reply_matches(const char *line, long id)
{
    cJSON *j = cJSON_Parse(line);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return -EBADMSG;
    }
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
    int match = cJSON_IsNumber(jid) && jid->valuedouble == (double)id;
    cJSON_Delete(j);
    return match;
}

int cli_daemon_request(int fd, const char *request, long id, char **ret_reply)
{
    size_t rlen = strlen(request);
    char *buf = NULL;
    int r = 0;
    /* The request and its newline in one send: a single short write. */
    char *line = malloc(rlen + 1);
    if (!line)
        return -ENOMEM;
    memcpy(line, request, rlen);
    line[rlen] = '\n';
    for (size_t off = 0; off < rlen + 1;) {
        ssize_t n = send(fd, line + off, rlen + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            free(line);
            return r;
        }
        off += (size_t)n;
    }
    free(line);

    size_t len = 0, cap = 4096;
    buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    double deadline = now_s() + CLI_DAEMON_TIMEOUT_S;
    for (;;) {
        /* Complete lines first. */
        char *nl;
        while ((nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            r = reply_matches(buf, id);
            if (r < 0)
                goto out;
            if (r > 0) {
                size_t l = (size_t)(nl - buf);
                char *copy = malloc(l + 1);
                if (!copy) {
                    r = -ENOMEM;
                    goto out;
                }
                memcpy(copy, buf, l + 1);
                *ret_reply = copy;
                r = 0;
                goto out;
            }
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
        if (len >= CLI_DAEMON_MAX_REPLY) {
            r = -EBADMSG;
            goto out;
        }
        if (cap - len < 1024) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                r = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        double left = deadline - now_s();
        if (left <= 0) {
            r = -ETIMEDOUT;
            goto out;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            r = -errno;
            goto out;
        }
        if (pr == 0)
            continue;
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            goto out;
        }
        if (n == 0) {
            r = -ECONNRESET;
            goto out;
        }
        len += (size_t)n;
    }
out:
    free(buf);
    return r;
}

int cli_daemon_lib_exit(int err)
{
    switch (-err) {
    case EREMOTEIO: /* the daemon refused it */
    case ERANGE:    /* step policy */
    case EXDEV:     /* logdir outside the daemon's root */
    case EINVAL:
    case EILSEQ:
    case EMSGSIZE:
        return CLI_EXIT_FAIL;
    default:
        return CLI_EXIT_IO;
    }
}

/* Connect, or say why not: the exit status when it failed (*fd < 0). */
static int connect_or_say(const char *sock_opt, int *fd, char *path, size_t size)
{
    *fd = -1;
    int r = cli_daemon_socket_path(sock_opt, path, size);
    if (r < 0) {
        cli_error("socket path too long for a Unix socket");
        return CLI_EXIT_IO;
    }
    r = cli_daemon_connect(path);
    if (r < 0) {
        cli_error("no daemon answers at %s: %s", path, strerror(-r));
        return CLI_EXIT_IO;
    }
    *fd = r;
    return CLI_EXIT_OK;
}

/* ---- ping ------------------------------------------------------------- */

static void ping_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents ping [--socket PATH] [--quiet]\n"
        "\n"
        "Ask tfeventsd whether it answers: prints 'pong from PATH (protocol N) in\n"
        "T ms'. The socket is PATH, else $TFEVENTS_SOCKET, else\n"
        "$XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock as root,\n"
        "else ./tfevents.sock.\n"
        "\n"
        "  -s, --socket PATH  the daemon's socket\n"
        "  -q, --quiet        print nothing; the exit status tells\n"
        "\n"
        "exit status: 0 the daemon answered, 1 it answered with an error,\n"
        "2 usage error, 3 no daemon (or no reply within %d s)\n",
        CLI_DAEMON_TIMEOUT_S);
}

/* The common options of ping and stats: --socket PATH, one flag, --help.
 * Returns -1 to go on, else the exit status. */
static int parse_simple(int argc, char **argv, const char *flag_long, char flag_short,
                        const char **sock, bool *flag, void (*usage)(FILE *))
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if ((strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) && i + 1 < argc) {
            *sock = argv[++i];
        } else if (strncmp(a, "--socket=", 9) == 0) {
            *sock = a + 9;
        } else if ((a[0] == '-' && a[1] == flag_short && !a[2]) ||
                   (strncmp(a, "--", 2) == 0 && strcmp(a + 2, flag_long) == 0)) {
            *flag = true;
        } else {
            cli_error("%s: unexpected argument '%s'", argv[0], a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return -1;
}

int cli_ping_main(int argc, char **argv)
{
    const char *sock = NULL;
    bool quiet = false;
    int st = parse_simple(argc, argv, "quiet", 'q', &sock, &quiet, ping_usage);
    if (st >= 0)
        return st;
    char path[4096];
    int fd;
    double t0 = now_s();
    st = connect_or_say(sock, &fd, path, sizeof path);
    if (fd < 0)
        return st;
    char *reply = NULL;
    int r = cli_daemon_request(fd, "{\"op\":\"ping\",\"id\":1}", 1, &reply);
    double ms = (now_s() - t0) * 1e3;
    close(fd);
    if (r < 0) {
        cli_error("no reply from the daemon at %s: %s", path, strerror(-r));
        return CLI_EXIT_IO;
    }
    cJSON *j = cJSON_Parse(reply);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
    const cJSON *proto = cJSON_GetObjectItemCaseSensitive(j, "protocol");
    if (!cJSON_IsTrue(ok)) {
        cli_error("the daemon at %s answered: %s", path, reply);
        st = CLI_EXIT_FAIL;
    } else if (!quiet) {
        printf("pong from %s (protocol %d) in %.3f ms\n", path,
               cJSON_IsNumber(proto) ? proto->valueint : 0, ms);
    }
    cJSON_Delete(j);
    free(reply);
    if (fflush(stdout) != 0)
        return CLI_EXIT_IO;
    return st;
}

/* ---- stats ------------------------------------------------------------ */

static void stats_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents stats [--socket PATH]\n"
        "                      [--format plain|json|openmetrics|prometheus]\n"
        "\n"
        "Print tfeventsd's counters, one 'name value' line each (nested groups\n"
        "as group.name), in the daemon's order; --json prints the daemon's\n"
        "\"stats\" object as one JSON line instead; --format openmetrics prints\n"
        "them in the OpenMetrics text format (Prometheus): counters as\n"
        "tfeventsd_NAME_total, gauges as tfeventsd_NAME, ending with '# EOF'\n"
        "(a scraper); prometheus: Prometheus' text format 0.0.4 (node_exporter's\n"
        "textfile collector).\n"
        "\n"
        "  -s, --socket PATH  the daemon's socket (default as for ping)\n"
        "  -f, --format FMT   plain (default), json, openmetrics or prometheus\n"
        "  -j, --json         --format json\n"
        "\n"
        "exit status: 0 ok, 1 the daemon answered with an error, 2 usage error,\n"
        "3 no daemon (or no reply within %d s)\n",
        CLI_DAEMON_TIMEOUT_S);
}

/* What the daemon's counters mean, for OpenMetrics' HELP and TYPE lines.
 * A name the daemon sends that is not here (a newer daemon) is exported as
 * type unknown, so that nothing is dropped and nothing is mislabelled. */
static const struct stat_info {
    const char *name;
    bool gauge;
    const char *help;
} stat_infos[] = {
    {"connections_accepted", false, "Connections accepted."},
    {"connections_open", true, "Connections open now."},
    {"connections_refused", false, "Connections refused over the connection limit."},
    {"limit_connections_user", false,
     "Connections refused by --max-connections-per-user."},
    {"bytes_in", false, "Bytes read from clients."},
    {"lines", false, "Request lines and frames read."},
    {"messages", false, "Requests executed successfully."},
    {"events", false, "Values logged, one Event each."},
    {"errors_json", false, "Requests that were not JSON objects."},
    {"errors_invalid", false, "Requests with a wrong field or value."},
    {"errors_oversize", false, "Lines longer than the limit."},
    {"errors_timeout", false, "Lines or frames not finished in time."},
    {"errors_step", false, "Requests refused by the step policy."},
    {"errors_write", false, "Disk writes that failed."},
    {"records_lost", false, "Accepted records that could never be written."},
    {"errors_other", false, "Requests refused by limits or for lack of memory."},
    {"errors_path", false, "Logdir or run paths refused (a link, not a directory)."},
    {"replies", false, "Replies sent."},
    {"replies_dropped", false, "Replies not sent: the connection was closing, or out of memory."},
    {"reply_pauses", false, "Times reading paused for a client not reading its replies."},
    {"writers_opened", false, "Event files opened for writing."},
    {"writers_closed", false, "Event files closed."},
    {"writes", false, "Batches written to event files."},
    {"bytes_written", false, "Bytes written to event files."},
    {"fsyncs", false, "fsync calls on event files."},
    {"files_created", false, "Event files created."},
    {"flush_requests", false, "Flush and close requests."},
    {"read_pauses", false, "Times reading paused for too much unwritten data."},
    {"limit_logdirs", false, "Requests refused by --max-logdirs."},
    {"limit_runs", false, "Requests refused by --max-runs."},
    {"limit_tags", false, "Requests refused by --max-tags."},
    {"limit_name", false, "Requests refused by --max-name."},
    {"limit_values", false, "Requests refused by --max-values."},
    {"limit_json_depth", false, "Requests refused by --max-json-depth."},
    {"limit_elements", false, "Requests refused by --max-elements."},
    {"limit_input_total", false, "Unfinished messages refused by --max-input-total."},
    {"writers_open", true, "Event files open now."},
    {"writers_closing", true, "Event files being closed now (their last data being written)."},
    {"logdirs", true, "Logdirs known now."},
    {"pending_bytes", true, "Bytes accepted but not yet written."},
    {"upload_queued_files", true, "Closed event files waiting to be uploaded (--upload)."},
    {"upload_files", false, "Event files uploaded to object storage."},
    {"upload_bytes", false, "Bytes uploaded to object storage."},
    {"upload_errors", false, "Upload attempts that failed (each is retried)."},
    {"upload_deleted", false, "Local files removed after a verified upload."},
    {"upload_unverified", false, "Uploads whose ETag was not the MD5 of what was sent."},
    {"upload_multipart", false, "Files uploaded as multipart uploads."},
    {"upload_seconds", false, "Seconds spent in successful uploads."},
    {"upload_backoff_seconds", true, "Seconds until the next try after failures."},
    {"upload_aborted_multipart", false, "Incomplete multipart uploads of this node's files aborted at start."},
};

/* One OpenMetrics metric name part: [a-zA-Z0-9_], anything else as '_'. */
static void print_metric_name(const char *prefix, const char *name)
{
    fputs("tfeventsd_", stdout);
    for (const char *p = prefix; *p; p++)
        putchar(isalnum((unsigned char)*p) ? *p : '_');
    for (const char *p = name; *p; p++)
        putchar(isalnum((unsigned char)*p) ? *p : '_');
}

/* Every number of o (nested objects as PREFIX_NAME) as a metric family.
 * prom: Prometheus' older text format (0.0.4, node_exporter's textfile
 * collector), where TYPE and HELP name the sample itself (..._total for a
 * counter) and there is no # EOF; else OpenMetrics, where they name the
 * family and a counter's sample adds _total. */
static void print_openmetrics(const cJSON *o, const char *prefix, bool prom)
{
    for (const cJSON *it = o->child; it; it = it->next) {
        if (cJSON_IsObject(it)) {
            char p[256];
            snprintf(p, sizeof p, "%s%s_", prefix, it->string);
            print_openmetrics(it, p, prom);
            continue;
        }
        if (!cJSON_IsNumber(it))
            continue;
        const struct stat_info *si = NULL;
        for (size_t i = 0; !*prefix && i < sizeof stat_infos / sizeof stat_infos[0]; i++)
            if (strcmp(stat_infos[i].name, it->string) == 0)
                si = &stat_infos[i];
        const char *type = si ? (si->gauge ? "gauge" : "counter")
                              : prom ? "untyped" : "unknown";
        const char *total = si && !si->gauge ? "_total" : "";
        fputs("# TYPE ", stdout);
        print_metric_name(prefix, it->string);
        printf("%s %s\n# HELP ", prom ? total : "", type);
        print_metric_name(prefix, it->string);
        printf("%s %s\n", prom ? total : "",
               si ? si->help : "tfeventsd counter (no description known).");
        print_metric_name(prefix, it->string);
        double v = it->valuedouble;
        if (v == floor(v) && fabs(v) < 9007199254740992.0)
            printf("%s %" PRId64 "\n", total, (int64_t)v);
        else
            printf("%s %.17g\n", total, v);
    }
}

static void print_stats(const cJSON *o, const char *prefix)
{
    for (const cJSON *it = o->child; it; it = it->next) {
        if (cJSON_IsObject(it)) {
            char p[256];
            snprintf(p, sizeof p, "%s%s.", prefix, it->string);
            print_stats(it, p);
        } else if (cJSON_IsNumber(it)) {
            double v = it->valuedouble;
            if (v == floor(v) && fabs(v) < 9007199254740992.0)
                printf("%s%s %" PRId64 "\n", prefix, it->string, (int64_t)v);
            else
                printf("%s%s %.17g\n", prefix, it->string, v);
        } else {
            char *s = cJSON_PrintUnformatted(it);
            printf("%s%s %s\n", prefix, it->string, s ? s : "?");
            cJSON_free(s);
        }
    }
}

enum stats_format { STATS_PLAIN, STATS_JSON, STATS_OPENMETRICS, STATS_PROMETHEUS };

/* Options of stats: CLI_EXIT_OK, -1 after --help, or a usage error. */
static int stats_parse(int argc, char **argv, const char **sock, enum stats_format *fmt)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const names[] = {"plain", "json", "openmetrics", "prometheus"};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:f:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            *sock = optarg;
            break;
        case 'j':
            *fmt = STATS_JSON;
            break;
        case 'f':
            for (*fmt = 0; *fmt < 4 && strcmp(optarg, names[*fmt]) != 0; (*fmt)++)
                ;
            if (*fmt == 4) {
                cli_error("stats: --format is plain, json, openmetrics or prometheus, not '%s'",
                          optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            stats_usage(stdout);
            return -1;
        default:
            cli_error("stats: %s '%s'", c == ':' ? "option needs a value:" : "unknown option",
                      argv[optind - 1]);
            stats_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("stats: unexpected argument '%s'", argv[optind]);
        stats_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_stats_main(int argc, char **argv)
{
    const char *sock = NULL;
    enum stats_format fmt = STATS_PLAIN;
    int st = stats_parse(argc, argv, &sock, &fmt);
    if (st != CLI_EXIT_OK)
        return st < 0 ? CLI_EXIT_OK : st;
    char path[4096];
    int fd;
    st = connect_or_say(sock, &fd, path, sizeof path);
    if (fd < 0)
        return st;
    char *reply = NULL;
    int r = cli_daemon_request(fd, "{\"op\":\"stats\",\"id\":1}", 1, &reply);
    close(fd);
    if (r < 0) {
        cli_error("no reply from the daemon at %s: %s", path, strerror(-r));
        return CLI_EXIT_IO;
    }
    cJSON *j = cJSON_Parse(reply);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(j, "stats");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) || !cJSON_IsObject(stats)) {
        cli_error("the daemon at %s answered: %s", path, reply);
        st = CLI_EXIT_FAIL;
    } else if (fmt == STATS_JSON) {
        char *s = cJSON_PrintUnformatted(stats);
        if (s)
            printf("%s\n", s);
        else
            st = CLI_EXIT_IO;
        cJSON_free(s);
    } else if (fmt == STATS_OPENMETRICS || fmt == STATS_PROMETHEUS) {
        print_openmetrics(stats, "", fmt == STATS_PROMETHEUS);
        if (fmt == STATS_OPENMETRICS)
            printf("# EOF\n");
    } else {
        print_stats(stats, "");
    }
    cJSON_Delete(j);
    free(reply);
    if (fflush(stdout) != 0)
        return CLI_EXIT_IO;
    return st;
}

/* ---- step ------------------------------------------------------------- */

static void step_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents step get [--logdir DIR] [--socket PATH]\n"
        "       tfevents step set N [--logdir DIR] [--socket PATH]\n"
        "\n"
        "The global step counter of a logdir, kept by tfeventsd: 'get' prints\n"
        "it (the step of the last log without an explicit step, -1 before the\n"
        "first); 'set N' makes the next log without a step use N+1 (N from -1\n"
        "to 2^53; -1 starts over at 0). DIR (default: logs) is a path like\n"
        "'tfevents log --logdir' takes: relative to the working directory, and\n"
        "under the daemon's root.\n"
        "\n"
        "  -l, --logdir DIR   the logdir\n"
        "  -s, --socket PATH  the daemon's socket (default as for ping)\n"
        "\n"
        "exit status: 0 ok, 1 the daemon refused (e.g. DIR outside its root),\n"
        "2 usage error, 3 no daemon\n");
}

int cli_step_main(int argc, char **argv)
{
    const char *sock = NULL, *logdir = "logs", *verb = NULL, *num = NULL;
    /* By hand rather than getopt: "set -1" must read -1 as a number. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            step_usage(stdout);
            return CLI_EXIT_OK;
        }
        if ((strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) && i + 1 < argc) {
            sock = argv[++i];
        } else if (strncmp(a, "--socket=", 9) == 0) {
            sock = a + 9;
        } else if ((strcmp(a, "-l") == 0 || strcmp(a, "--logdir") == 0) && i + 1 < argc) {
            logdir = argv[++i];
        } else if (strncmp(a, "--logdir=", 9) == 0) {
            logdir = a + 9;
        } else if (a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
            cli_error("step: unknown option '%s'", a);
            step_usage(stderr);
            return CLI_EXIT_USAGE;
        } else if (!verb) {
            verb = a;
        } else if (!num) {
            num = a;
        } else {
            cli_error("step: unexpected argument '%s'", a);
            step_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    bool set = verb && strcmp(verb, "set") == 0;
    if (!verb || (!set && strcmp(verb, "get") != 0) || (set && !num) || (!set && num)) {
        cli_error(!verb ? "step: get or set?"
                        : set ? "step set: which step?"
                              : (strcmp(verb, "get") == 0 ? "step get takes no number"
                                                          : "step: get or set?"));
        step_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    int64_t step = 0;
    if (set) {
        char *end;
        errno = 0;
        long long v = strtoll(num, &end, 10);
        if (errno || *end || end == num || v < -1 || v > (1LL << 53)) {
            cli_error("step set: '%s' is not a step (-1 .. 2^53)", num);
            return CLI_EXIT_USAGE;
        }
        step = v;
    }

    char path[4096];
    if (cli_daemon_socket_path(sock, path, sizeof path) < 0) {
        cli_error("socket path too long for a Unix socket");
        return CLI_EXIT_IO;
    }
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = TFEVENTS_MODE_DAEMON;
    o.socket_path = path;
    o.logdir = logdir;
    o.flush_interval = 0;
    tfevents *h = NULL;
    int r = tfevents_open(&h, &o);
    if (r < 0) {
        cli_error("no daemon answers at %s: %s", path, strerror(-r));
        return CLI_EXIT_IO;
    }
    if (set)
        r = tfevents_set_step(h, NULL, step);
    else
        r = tfevents_get_step(h, NULL, &step);
    if (r < 0) {
        char msg[512];
        tfevents_last_error(h, msg, sizeof msg);
        cli_error("step %s for %s: %s%s%s", verb, logdir, strerror(-r), *msg ? ": " : "",
                  msg);
        tfevents_close(h);
        return cli_daemon_lib_exit(r);
    }
    r = tfevents_close(h);
    if (r < 0) {
        cli_error("step %s for %s: %s", verb, logdir, strerror(-r));
        return cli_daemon_lib_exit(r);
    }
    if (!set)
        printf("%" PRId64 "\n", step);
    if (fflush(stdout) != 0)
        return CLI_EXIT_IO;
    return CLI_EXIT_OK;
}
