#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"
#include "log.h"
#include "s3.h"
#include "sockpath.h"

enum opt_kind { K_PATH, K_MODE, K_SECONDS, K_SIZE, K_COUNT, K_FSYNC, K_POLICY, K_LEVEL, K_BOOL,
                K_PORT, K_LOOPBACK, K_ADDRESSING };

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t off;
    uint64_t max;      /* K_SIZE, K_COUNT: largest accepted value; 0: the kind's */
    const char *def;   /* default, as documented */
    const char *help;
};

#define OFF(x) offsetof(struct config, x)

static const struct opt opts[] = {
    {"socket", K_PATH, OFF(socket_path), 0,
     "$TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock as root, else ./tfevents.sock",
     "Unix socket to listen on"},
    {"root", K_PATH, OFF(root), 0, "./logs", "directory under which logdirs are created"},
    {"socket-mode", K_MODE, OFF(socket_mode), 0, "0660", "permissions of the socket (octal)"},
    {"flush-interval", K_SECONDS, OFF(flush_interval), 0, "1",
     "seconds between writes of buffered events"},
    {"flush-bytes", K_SIZE, OFF(flush_bytes), 0, "256K",
     "buffered bytes of one run that trigger a write before the interval"},
    {"fsync", K_FSYNC, 0, 0, "flush",
     "never | flush (when a client asks, and at exit) | always (after every write)"},
    {"max-line", K_SIZE, OFF(max_line), 0, "16M", "longest accepted line"},
    {"max-input-total", K_SIZE, OFF(max_input_total), 0, "256M",
     "input buffered by all connections together; past it the largest unfinished line "
     "or frame is refused (at least --max-line)"},
    {"max-connections", K_COUNT, OFF(max_connections), 0, "1024", "simultaneous clients"},
    {"max-connections-per-user", K_COUNT, OFF(max_connections_per_user), 0,
     "a quarter of --max-connections",
     "simultaneous clients of one uid (TCP clients count as one user), so that one user "
     "cannot lock the others out"},
    {"max-writers", K_COUNT, OFF(max_writers), 0, "256",
     "open event files; the least recently used is closed past it"},
    {"max-replies", K_COUNT, OFF(max_replies), 0, "1024",
     "unread replies per connection; past it the connection is not read until half are "
     "taken"},
    {"max-pending", K_SIZE, OFF(max_pending), 0, "256M",
     "unwritten bytes in all runs before the daemon stops reading from clients"},
    {"idle-timeout", K_SECONDS, OFF(idle_timeout), 0, "300",
     "seconds after which an unused event file is closed (0: never)"},
    {"read-timeout", K_SECONDS, OFF(read_timeout), 0, "0",
     "seconds a client has to finish a line or frame it began; then it gets an error "
     "and its connection is closed (0: never)"},
    {"max-logdirs", K_COUNT, OFF(max_logdirs), LOGDIR_MAX_LOGDIRS, "4096",
     "logdirs in use at once; past it the least recently used idle one is released, "
     "and a message to one more is refused only when none can be"},
    {"logdir-idle", K_SECONDS, OFF(logdir_idle), 0, "600",
     "seconds after which an unused logdir's state is released (its files keep its "
     "steps; 0: only when --max-logdirs is reached)"},
    {"max-runs", K_COUNT, OFF(max_runs), LOGDIR_MAX_RUNS, "4096",
     "runs (directories) per logdir; a message to one more is refused"},
    {"max-tags", K_COUNT, OFF(max_tags), LOGDIR_MAX_TAGS, "65536",
     "(run, tag) pairs per logdir; a message with one more is refused"},
    {"max-name", K_SIZE, OFF(max_name), LOGDIR_MAX_NAME, "1024",
     "bytes of a logdir or run name (path relative to the root)"},
    {"max-values", K_COUNT, OFF(max_values), REQUEST_MAX_VALUES, "65536",
     "values in one message"},
    {"max-json-depth", K_COUNT, OFF(max_json_depth), CONFIG_MAX_JSON_DEPTH, "64",
     "nesting of objects and arrays in one JSON line"},
    {"max-elements", K_SIZE, OFF(max_elements), REQUEST_MAX_ARRAY, "4M",
     "array elements (pixels, samples, histogram data, ...) in one message"},
    {"per-user-root", K_BOOL, OFF(per_user_root), 0, "no",
     "yes: each client's logdirs go under <root>/<its user name>/ (by SO_PEERCRED uid)"},
    {"tcp-port", K_PORT, OFF(tcp_port), 0, "0 (off)",
     "also listen on this TCP port of --tcp-address, for clients without Unix sockets; "
     "a client must first present the token of --tcp-token-file"},
    {"tcp-address", K_LOOPBACK, OFF(tcp_address), 0, "127.0.0.1",
     "address of the TCP listener: a loopback address only (127.x.x.x or ::1)"},
    {"tcp-token-file", K_PATH, OFF(tcp_token_file), 0, "<socket>.token",
     "file the daemon writes a random token into at start (the socket's group, mode 0640 "
     "or 0600); a TCP client's first line must present it: {\"op\":\"auth\",\"token\":...}"},
    {"rotate-size", K_SIZE, OFF(rotate_bytes), 0, "1G",
     "start a new event file past this size (0: never)"},
    {"upload", K_PATH, OFF(upload_url), 0, "none",
     "mirror every closed event file to s3://BUCKET/PREFIX/<path under the root> "
     "(credentials and endpoint: AWS_* environment or --upload-credentials)"},
    {"upload-interval", K_SECONDS, OFF(upload_interval), 0, "30",
     "with --upload: close an event file this many seconds after it was opened, so that "
     "it is uploaded (0: only by size)"},
    {"upload-size", K_SIZE, OFF(upload_size), 0, "64M",
     "with --upload: start a new event file past this size (0: --rotate-size)"},
    {"upload-part-size", K_SIZE, OFF(upload_part_size), S3_MAX_PART_SIZE, "16M",
     "files larger than this are uploaded in parts of this size (5M to 5G: S3's smallest "
     "and largest part)"},
    {"upload-credentials", K_PATH, OFF(upload_credentials), 0, "none",
     "file with the keys (AWS credentials format or AWS_*=... lines, e.g. a systemd "
     "credential); it wins over the environment"},
    {"upload-addressing", K_ADDRESSING, OFF(upload_addressing), 0, "auto",
     "auto (path with AWS_ENDPOINT_URL, else virtual) | path | virtual"},
    {"upload-state", K_PATH, OFF(upload_state), 0, "<root>/.upload-journal",
     "journal of the files already uploaded (what is not in it is uploaded at start)"},
    {"upload-delete", K_BOOL, OFF(upload_delete), 0, "no",
     "yes: remove a local file once the server's ETag shows it arrived intact"},
    {"upload-exit-wait", K_SECONDS, OFF(upload_exit_wait), 0, "10",
     "seconds to finish uploading at exit; what is left goes at the next start"},
    {"step-policy", K_POLICY, 0, 0, "increasing",
     "increasing (refuse steps that do not increase per tag) | any"},
    {"log-level", K_LEVEL, 0, 0, "info", "error | warn | info | debug"},
};

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    /* The clients' default too (lib/sockpath.h); a path too long for a
     * socket is refused when the daemon binds it. */
    if (sockpath_default(c->socket_path, sizeof c->socket_path) < 0)
        c->socket_path[0] = '\0';
    snprintf(c->root, sizeof c->root, "./logs");
    c->socket_mode = 0660;
    c->flush_interval = 1.0;
    c->flush_bytes = 256u << 10;
    c->fsync = FSYNC_FLUSH;
    c->max_line = 16u << 20;
    c->max_input_total = 256u << 20;
    c->max_connections = 1024;
    c->max_writers = 256;
    c->max_replies = 1024;
    c->max_pending = 256u << 20;
    c->idle_timeout = 300;
    c->read_timeout = 0;   /* off: see tfeventsd(8) */
    c->logdir_idle = CONFIG_LOGDIR_IDLE;
    c->max_logdirs = 4096;
    c->max_runs = 4096;
    c->max_tags = 65536;
    c->max_name = LOGDIR_MAX_NAME;
    c->max_values = REQUEST_MAX_VALUES;
    c->max_json_depth = 64;
    c->max_elements = 4u << 20;
    c->per_user_root = false;
    c->tcp_port = 0;
    snprintf(c->tcp_address, sizeof c->tcp_address, "127.0.0.1");
    c->rotate_bytes = RUN_WRITER_DEFAULT_ROTATE_BYTES;
    c->upload_interval = 30;
    c->upload_size = 64u << 20;
    c->upload_part_size = S3_DEFAULT_PART_SIZE;
    c->upload_addressing = S3_ADDRESSING_AUTO;
    c->upload_exit_wait = 10;
    c->step_policy = LOGDIR_POLICY_INCREASING;
    c->log_level = LOG_LEVEL_INFO;
}

const char *config_fsync_name(enum fsync_mode m)
{
    return m == FSYNC_NEVER ? "never" : m == FSYNC_ALWAYS ? "always" : "flush";
}

/* "123", "64K", "16M", "1G" (powers of 1024). */
static int parse_size(const char *s, uint64_t *ret)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -EINVAL;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v > (ULLONG_MAX >> shift))
        return -EINVAL;
    *ret = v << shift;
    return 0;
}

static int set_opt(struct config *c, const struct opt *o, const char *val, char *err,
                   size_t err_size)
{
    char *field = (char *)c + o->off;
    char *end;
    uint64_t u;
    double d;
    int k;
    switch (o->kind) {
    case K_PATH:
        if (!*val || strlen(val) >= sizeof c->root)
            goto bad;
        snprintf(field, sizeof c->root, "%s", val);
        return 0;
    case K_MODE:
        errno = 0;
        u = strtoul(val, &end, 8);
        if (errno || *end || end == val || u > 0777)
            goto bad;
        *(unsigned *)field = (unsigned)u;
        return 0;
    case K_SECONDS:
        errno = 0;
        d = strtod(val, &end);
        if (errno || *end || end == val || !(d >= 0) || d > 1e6)
            goto bad;
        *(double *)field = d;
        return 0;
    case K_SIZE:
        if (parse_size(val, &u) < 0 || u > SIZE_MAX || (o->max && (u < 1 || u > o->max)))
            goto bad;
        if (o->off == OFF(rotate_bytes))
            c->rotate_bytes = u;
        else if (o->off == OFF(upload_size))
            c->upload_size = u;
        else if (o->off == OFF(upload_part_size) && u < S3_MIN_PART_SIZE)
            goto bad;
        else
            *(size_t *)field = (size_t)u;
        return 0;
    case K_COUNT:
        if (parse_size(val, &u) < 0 || u < 1 || u > (o->max ? o->max : 1000000))
            goto bad;
        *(unsigned *)field = (unsigned)u;
        if (o->off == OFF(max_connections_per_user))
            c->max_connections_per_user_set = true;
        return 0;
    case K_FSYNC:
        if (strcmp(val, "never") == 0)
            c->fsync = FSYNC_NEVER;
        else if (strcmp(val, "flush") == 0)
            c->fsync = FSYNC_FLUSH;
        else if (strcmp(val, "always") == 0)
            c->fsync = FSYNC_ALWAYS;
        else
            goto bad;
        return 0;
    case K_POLICY:
        if (strcmp(val, "increasing") == 0)
            c->step_policy = LOGDIR_POLICY_INCREASING;
        else if (strcmp(val, "any") == 0)
            c->step_policy = LOGDIR_POLICY_ANY;
        else
            goto bad;
        return 0;
    case K_LEVEL:
        k = log_level_parse(val);
        if (k < 0)
            goto bad;
        c->log_level = k;
        return 0;
    case K_PORT:
        errno = 0;
        u = strtoul(val, &end, 10);
        if (errno || *end || end == val || val[0] == '-' || u > 65535)
            goto bad;
        *(unsigned *)field = (unsigned)u;
        return 0;
    case K_LOOPBACK: {
        /* Never a routable address: the TCP listener has no peer
         * credentials, so only local processes may reach it at all. */
        unsigned char a[16];
        static const unsigned char v6_loopback[16] = {[15] = 1};
        bool loop4 = inet_pton(AF_INET, val, a) == 1 && a[0] == 127;
        bool loop6 = !loop4 && inet_pton(AF_INET6, val, a) == 1 &&
                     memcmp(a, v6_loopback, 16) == 0;
        if ((!loop4 && !loop6) || strlen(val) >= sizeof c->tcp_address)
            goto bad;
        snprintf(field, sizeof c->tcp_address, "%s", val);
        return 0;
    }
    case K_ADDRESSING:
        k = s3_addressing_parse(val);
        if (k < 0)
            goto bad;
        *(int *)field = k;
        return 0;
    case K_BOOL:
        if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
            *(bool *)field = true;
        else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
            *(bool *)field = false;
        else
            goto bad;
        return 0;
    }
bad:
    snprintf(err, err_size, "invalid value for %s: '%s' (%s)", o->name, val, o->help);
    return -EINVAL;
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(struct config *c, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot open config file %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    char line[CONFIG_MAX_LINE];
    unsigned no = 0;
    int r = 0;
    while (r == 0 && fgets(line, sizeof line, f)) {
        no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, err_size, "%s:%u: expected \"key = value\"", path, no);
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        const struct opt *o = find_opt(key, strlen(key));
        if (!o) {
            snprintf(err, err_size, "%s:%u: unknown key '%s'", path, no, key);
            r = -EINVAL;
            break;
        }
        char msg[512];
        if (set_opt(c, o, val, msg, sizeof msg) < 0) {
            snprintf(err, err_size, "%s:%u: %s", path, no, msg);
            r = -EINVAL;
        }
    }
    fclose(f);
    return r;
}

static void usage(void)
{
    printf("Usage: tfeventsd [OPTION]...\n"
           "Write TensorBoard event files for clients that send newline-delimited JSON\n"
           "over a Unix socket (see tfeventsd(8) and docs/protocol.md).\n\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].max)
            printf("  --%s=VALUE\n      %s (default: %s, at most %llu)\n", opts[i].name,
                   opts[i].help, opts[i].def, (unsigned long long)opts[i].max);
        else
            printf("  --%s=VALUE\n      %s (default: %s)\n", opts[i].name, opts[i].help,
                   opts[i].def);
    printf("  --config=FILE\n      read options from FILE (\"key = value\" lines; the\n"
           "      command line wins)\n"
           "  --reload PID\n      send SIGHUP (new event files) to the tfeventsd PID, and exit\n"
           "      (the units' ExecReload=; only argument)\n"
           "  --help      print this help\n"
           "  --version   print the version\n");
}

/* Split "--name=value" or "--name value". */
static int arg_value(int argc, char **argv, int *i, const char **name, size_t *name_len,
                     const char **val)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    *name = a;
    if (eq) {
        *name_len = (size_t)(eq - a);
        *val = eq + 1;
        return 0;
    }
    *name_len = strlen(a);
    *val = NULL;
    if (*i + 1 < argc) {
        *val = argv[++*i];
        return 0;
    }
    return -EINVAL;
}

int config_parse(struct config *c, int argc, char **argv, char *err, size_t err_size)
{
    /* First the flags that end the program, and --config (read before
     * the other options so that the command line wins). */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("tfeventsd %s\n", TFEVENTSD_VERSION);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--config", 8) != 0 || (argv[i][8] && argv[i][8] != '='))
            continue;
        const char *name, *val;
        size_t nl;
        if (arg_value(argc, argv, &i, &name, &nl, &val) < 0) {
            snprintf(err, err_size, "--config needs a file name");
            return -EINVAL;
        }
        snprintf(c->config_file, sizeof c->config_file, "%s", val);
        int r = load_file(c, val, err, err_size);
        if (r < 0)
            return r;
    }
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            snprintf(err, err_size, "unexpected argument '%s' (try --help)", argv[i]);
            return -EINVAL;
        }
        const char *name, *val;
        size_t nl;
        if (arg_value(argc, argv, &i, &name, &nl, &val) < 0) {
            snprintf(err, err_size, "option %s needs a value", argv[i]);
            return -EINVAL;
        }
        if (nl == 6 && memcmp(name, "config", 6) == 0)
            continue;
        const struct opt *o = find_opt(name, nl);
        if (!o) {
            snprintf(err, err_size, "unknown option --%.*s (try --help)", (int)nl, name);
            return -EINVAL;
        }
        int r = set_opt(c, o, val, err, err_size);
        if (r < 0)
            return r;
    }
    /* One line must fit, or no long line ever could. */
    if (c->max_input_total < c->max_line) {
        snprintf(err, err_size, "--max-input-total (%zu) is below --max-line (%zu)",
                 c->max_input_total, c->max_line);
        return -EINVAL;
    }
    /* Unset (or reset): a quarter of the total, so that three other users
     * still get in when one holds all it may. */
    if (!c->max_connections_per_user_set)
        c->max_connections_per_user = CONFIG_CONNS_PER_USER_DEFAULT(c->max_connections);
    /* A TCP peer has no uid to confine it by: per-user roots cannot hold. */
    if (c->tcp_port && c->per_user_root) {
        snprintf(err, err_size, "--tcp-port cannot be combined with --per-user-root: TCP "
                 "clients have no peer credentials to pick their directory by");
        return -EINVAL;
    }
    return 0;
}
