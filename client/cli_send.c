/* tfevents send: pipe JSON lines (stdin or files) to tfeventsd and print
 * its replies.
 *
 * The input is copied to the socket in large writes while the replies are
 * read (one poll loop: the daemon never waits on us, and we never hold
 * more than SEND_BUF_SIZE of input). Lines are not parsed; a small
 * streaming scanner only counts the lines whose top-level object has an
 * "id" key, each of which gets exactly one reply (docs/protocol.md). After
 * the input, a flush with an id of our own is sent: its reply comes once
 * everything before it is in the files, so when it and one reply per
 * counted id have arrived, nothing is lost and we may close. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_daemon.h"

/* Input bytes buffered for the socket, and read per read(). */
#define SEND_BUF_SIZE (4u << 20)
#define SEND_READ_CHUNK (256u << 10)
/* Default seconds without a byte from the daemon, once all the input is
 * sent, before giving up. */
#define SEND_DEFAULT_TIMEOUT_S 60.0

/* Counts the lines whose top-level object has the key "id" (spelled
 * plainly: a key with escapes is not recognised), without parsing. */
struct idscan {
    int depth;
    bool in_str, esc, expect_key, key_str, key_ok, has_id;
    unsigned key_len;
    uint64_t ids;
};

static void idscan_bytes(struct idscan *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        /* A newline ends the line whatever the state: the daemon splits
         * there (a JSON string cannot hold a raw newline). */
        if (c == '\n') {
            if (s->has_id)
                s->ids++;
            uint64_t ids = s->ids;
            memset(s, 0, sizeof *s);
            s->ids = ids;
            continue;
        }
        if (s->in_str) {
            if (s->esc) {
                s->esc = false;
                s->key_ok = false;
            } else if (c == '\\') {
                s->esc = true;
            } else if (c == '"') {
                s->in_str = false;
                if (s->key_str && s->key_ok && s->key_len == 2)
                    s->has_id = true;
                s->key_str = false;
            } else if (s->key_str) {
                if (s->key_len >= 2 || c != "id"[s->key_len])
                    s->key_ok = false;
                s->key_len++;
            }
            continue;
        }
        switch (c) {
        case '"':
            s->in_str = true;
            s->key_str = s->depth == 1 && s->expect_key;
            s->key_len = 0;
            s->key_ok = true;
            break;
        case '{':
        case '[':
            s->depth++;
            if (s->depth == 1)
                s->expect_key = c == '{';
            break;
        case '}':
        case ']':
            s->depth--;
            break;
        case ':':
            if (s->depth == 1)
                s->expect_key = false;
            break;
        case ',':
            if (s->depth == 1)
                s->expect_key = true;
            break;
        default:
            break;
        }
    }
}

struct sender {
    int sock;
    char marker[64];            /* our final flush's id */
    /* input waiting for the socket: ob[ob_start, ob_end) */
    char *ob;
    size_t ob_start, ob_end;
    char last_byte;             /* last input byte queued ('\n' at a line end) */
    struct idscan scan;
    /* replies: rb[0, rb_len) */
    char *rb;
    size_t rb_len;
    uint64_t id_replies, errors;
    bool marker_seen, marker_ok;
    /* the inputs: files[0, nfiles) (none: standard input), in_fd the one
     * being read */
    char **files;
    int nfiles, next_file;
    int in_fd;
    bool input_done, marker_queued;
    double last_heard;          /* when the daemon last sent something */
    double timeout;
    int status;                 /* CLI_EXIT_*: the worst so far */
};

static void send_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents send [--socket PATH] [--timeout S] [FILE...]\n"
        "\n"
        "Send the JSON lines of the FILEs (or standard input; '-' is standard\n"
        "input too) to tfeventsd as they are, and print every reply line the\n"
        "daemon sends to standard output. After the input a flush is sent;\n"
        "send exits once its reply and one reply for every line with a\n"
        "top-level \"id\" have arrived, so everything sent is in the files.\n"
        "A last line without a newline is ended with one.\n"
        "\n"
        "  -s, --socket PATH  the daemon's socket (default: $TFEVENTS_SOCKET, else\n"
        "                     $XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock\n"
        "                     as root, else ./tfevents.sock)\n"
        "  -T, --timeout S    give up when the daemon sends nothing for S seconds\n"
        "                     once all the input is sent (default %g)\n"
        "\n"
        "exit status: 0 every line accepted, 1 some line got an error reply (or a\n"
        "reply is missing), 2 usage error, 3 no daemon, connection lost or a FILE\n"
        "cannot be read\n",
        SEND_DEFAULT_TIMEOUT_S);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One reply line (NUL-terminated, without its newline). */
static void handle_reply(struct sender *s, char *line, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
    if (cJSON_IsString(id) && strcmp(id->valuestring, s->marker) == 0) {
        s->marker_seen = true;
        s->marker_ok = ok;
        if (!ok)
            cli_error("send: the final flush failed: %s", line);
        cJSON_Delete(j);
        return;
    }
    if (id)
        s->id_replies++;
    if (!ok)
        s->errors++;
    cJSON_Delete(j);
    line[len] = '\n';
    fwrite(line, 1, len + 1, stdout);
}

/* Read what the daemon sent. 0, or -ECONNRESET when it closed, -EBADMSG
 * for an endless line, -errno. */
static int read_replies(struct sender *s)
{
    ssize_t n = recv(s->sock, s->rb + s->rb_len, CLI_DAEMON_MAX_REPLY + 1 - s->rb_len,
                     MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    if (n == 0)
        return -ECONNRESET;
    size_t scanned = s->rb_len;
    s->rb_len += (size_t)n;
    size_t start = 0;
    char *nl;
    while ((nl = memchr(s->rb + scanned, '\n', s->rb_len - scanned))) {
        size_t end = (size_t)(nl - s->rb);
        s->rb[end] = '\0';
        handle_reply(s, s->rb + start, end - start);
        start = scanned = end + 1;
    }
    memmove(s->rb, s->rb + start, s->rb_len - start);
    s->rb_len -= start;
    if (s->rb_len > CLI_DAEMON_MAX_REPLY)
        return -EBADMSG;
    return 0;
}

static int write_some(struct sender *s)
{
    ssize_t n = send(s->sock, s->ob + s->ob_start, s->ob_end - s->ob_start,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    s->ob_start += (size_t)n;
    if (s->ob_start == s->ob_end)
        s->ob_start = s->ob_end = 0;
    return 0;
}

/* Queue bytes that are not input (a missing newline, the marker). The
 * buffer always keeps room for them: reads stop SEND_READ_CHUNK early. */
static void queue(struct sender *s, const char *p, size_t n)
{
    memcpy(s->ob + s->ob_end, p, n);
    s->ob_end += n;
    s->last_byte = p[n - 1];
}

/* Options into *sock_opt, *timeout; argv[optind..] are the files.
 * -1 to go on, else the exit status. */
static int send_parse(int argc, char **argv, const char **sock_opt, double *timeout)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:T:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            *sock_opt = optarg;
            break;
        case 'T': {
            char *end;
            *timeout = strtod(optarg, &end);
            if (*end || end == optarg || !(*timeout > 0) || *timeout > 1e6) {
                cli_error("send: --timeout '%s' is not a number of seconds", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'h':
            send_usage(stdout);
            return CLI_EXIT_OK;
        case ':':
            cli_error("send: option '%s' needs a value", argv[optind - 1]);
            send_usage(stderr);
            return CLI_EXIT_USAGE;
        default:
            cli_error("send: unknown option '%s'", argv[optind - 1]);
            send_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return -1;
}

/* A missing file is found before anything is sent. */
static int check_files(char **files, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(files[i], "-") == 0)
            continue;
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error("send: %s: %s", files[i], strerror(errno));
            return CLI_EXIT_IO;
        }
        close(fd);
    }
    return CLI_EXIT_OK;
}

static void fail_status(struct sender *s, int st)
{
    if (s->status == CLI_EXIT_OK)
        s->status = st;
}

/* Open the next input when none is open; after the last one, queue a
 * newline if needed and the final flush (the marker). */
static void next_input(struct sender *s)
{
    if (!s->input_done && s->in_fd < 0) {
        if (s->nfiles == 0 && s->next_file == 0) {
            s->in_fd = STDIN_FILENO;
            s->next_file = 1;
        } else if (s->next_file < s->nfiles) {
            const char *f = s->files[s->next_file++];
            if (strcmp(f, "-") == 0) {
                s->in_fd = STDIN_FILENO;
            } else {
                s->in_fd = open(f, O_RDONLY | O_CLOEXEC);
                if (s->in_fd < 0) {
                    cli_error("send: %s: %s", f, strerror(errno));
                    s->status = CLI_EXIT_IO;
                    s->input_done = true;
                }
            }
        } else {
            s->input_done = true;
        }
    }
    if (s->input_done && !s->marker_queued) {
        char m[128];
        if (s->last_byte != '\n')
            queue(s, "\n", 1);
        int n = snprintf(m, sizeof m, "{\"op\":\"flush\",\"id\":\"%s\"}\n", s->marker);
        queue(s, m, (size_t)n);
        s->marker_queued = true;
    }
}

static void close_input(struct sender *s)
{
    if (s->in_fd > STDIN_FILENO)
        close(s->in_fd);
    s->in_fd = -1;
}

/* Read a chunk of input into the output buffer. */
static void read_input(struct sender *s)
{
    ssize_t n = read(s->in_fd, s->ob + s->ob_end, SEND_READ_CHUNK);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        cli_error("send: reading the input: %s", strerror(errno));
        s->status = CLI_EXIT_IO;
        close_input(s);
        s->input_done = true;
    } else if (n == 0) {
        /* A file not ending in a newline must not join the next. */
        if (s->last_byte != '\n') {
            queue(s, "\n", 1);
            idscan_bytes(&s->scan, "\n", 1);
        }
        close_input(s);
    } else if (n > 0) {
        idscan_bytes(&s->scan, s->ob + s->ob_end, (size_t)n);
        s->ob_end += (size_t)n;
        s->last_byte = s->ob[s->ob_end - 1];
    }
}

/* How long poll() may wait: -1 (for ever) until everything is sent, then
 * what is left of the timeout; 0 when it ran out (said, status set). */
static int wait_ms(struct sender *s)
{
    if (!s->marker_queued || s->ob_end != s->ob_start)
        return -1;
    double left = s->last_heard + s->timeout - now_s();
    if (left > 0)
        return (int)(left * 1000) + 1;
    cli_error("send: no reply from the daemon for %g s; %llu of %llu replies to lines with "
              "an id, final flush %s", s->timeout, (unsigned long long)s->id_replies,
              (unsigned long long)s->scan.ids, s->marker_seen ? "answered" : "unanswered");
    fail_status(s, s->marker_seen ? CLI_EXIT_FAIL : CLI_EXIT_IO);
    return 0;
}

/* One round: poll the socket and the input, then read replies, write
 * input, read input. false when the round ended the conversation. */
static bool pump(struct sender *s)
{
    /* Room for a read, keeping some for a newline and the marker. */
    if (s->ob_start > 0 && SEND_BUF_SIZE - s->ob_end < 2 * SEND_READ_CHUNK) {
        memmove(s->ob, s->ob + s->ob_start, s->ob_end - s->ob_start);
        s->ob_end -= s->ob_start;
        s->ob_start = 0;
    }
    bool want_read = s->in_fd >= 0 && SEND_BUF_SIZE - s->ob_end >= 2 * SEND_READ_CHUNK;
    struct pollfd p[2] = {
        {.fd = s->sock, .events = (short)(POLLIN | (s->ob_end > s->ob_start ? POLLOUT : 0))},
        {.fd = want_read ? s->in_fd : -1, .events = POLLIN},
    };
    int ms = wait_ms(s);
    if (ms == 0)
        return false;
    /* What was printed is visible before we sleep. */
    fflush(stdout);
    int pr = poll(p, 2, ms);
    if (pr < 0 && errno == EINTR)
        return true;
    if (pr < 0) {
        cli_error("send: poll: %s", strerror(errno));
        s->status = CLI_EXIT_IO;
        return false;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        int r = read_replies(s);
        s->last_heard = now_s();
        if (r < 0) {
            if (r == -ECONNRESET)
                cli_error("send: the daemon closed the connection before every reply came");
            else
                cli_error("send: reading replies: %s", strerror(-r));
            s->status = CLI_EXIT_IO;
            return false;
        }
    }
    if ((p[0].revents & POLLOUT) && s->ob_end > s->ob_start) {
        int r = write_some(s);
        if (r < 0) {
            cli_error("send: writing to the daemon: %s", strerror(-r));
            s->status = CLI_EXIT_IO;
            return false;
        }
    }
    if (want_read && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        read_input(s);
    return true;
}

int cli_send_main(int argc, char **argv)
{
    const char *sock_opt = NULL;
    double timeout = SEND_DEFAULT_TIMEOUT_S;
    int st = send_parse(argc, argv, &sock_opt, &timeout);
    if (st >= 0)
        return st;
    if ((st = check_files(argv + optind, argc - optind)) != CLI_EXIT_OK)
        return st;

    struct sender s = {
        .sock = -1,
        .last_byte = '\n',
        .files = argv + optind,
        .nfiles = argc - optind,
        .in_fd = -1,
        .timeout = timeout,
        .status = CLI_EXIT_OK,
    };
    char path[4096];
    int r = cli_daemon_socket_path(sock_opt, path, sizeof path);
    if (r < 0) {
        cli_error("send: socket path too long for a Unix socket");
        return CLI_EXIT_IO;
    }
    s.ob = malloc(SEND_BUF_SIZE);
    s.rb = malloc(CLI_DAEMON_MAX_REPLY + 2);
    if (!s.ob || !s.rb) {
        cli_error("out of memory");
        s.status = CLI_EXIT_IO;
        goto out;
    }
    r = cli_daemon_connect(path);
    if (r < 0) {
        cli_error("send: no daemon answers at %s: %s", path, strerror(-r));
        s.status = CLI_EXIT_IO;
        goto out;
    }
    s.sock = r;
    snprintf(s.marker, sizeof s.marker, "tfevents-send-%ld-%ld", (long)getpid(),
             (long)time(NULL));
    s.last_heard = now_s();
    while (!(s.marker_seen && s.id_replies >= s.scan.ids)) {
        next_input(&s);
        if (!pump(&s))
            break;
    }
    close_input(&s);
    if (s.marker_seen && !s.marker_ok)
        fail_status(&s, CLI_EXIT_FAIL);
    if (s.errors) {
        cli_error("send: %llu error repl%s", (unsigned long long)s.errors,
                  s.errors == 1 ? "y" : "ies");
        fail_status(&s, CLI_EXIT_FAIL);
    }
out:
    if (s.sock >= 0)
        close(s.sock);
    free(s.ob);
    free(s.rb);
    if (fflush(stdout) != 0)
        fail_status(&s, CLI_EXIT_IO);
    return s.status;
}
