/* tfevents log: log scalars and text from a shell, one invocation = one
 * message = one step, through libtfevents (tfeventsd when one answers,
 * else written in-process).
 *
 * Naming: NAME=VALUE, NAME split at its last '/' into a run and a tag
 * ("train/eval/acc" is tag "acc" in run "train/eval", as nested names are
 * runs in the R package and in the JSON protocol's nested objects); with
 * --run every NAME is a whole tag, slashes included. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_daemon.h"
#include "tfevents.h"

static void log_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents log [--logdir DIR] [--step N|current] [--run RUN] [--text]\n"
        "                    [--socket PATH] [--daemon|--embedded] [--print-step]\n"
        "                    NAME=VALUE...\n"
        "\n"
        "Log values at one step, each as its own event: VALUE is a scalar when it\n"
        "is a decimal number as strtod(3) reads it whole (1, -2.5e-3, nan, inf),\n"
        "else text (Markdown). NAME is RUN/TAG split at the last '/': 'loss=0.5'\n"
        "is tag loss in the logdir itself, 'train/eval/acc=0.9' tag acc in run\n"
        "train/eval. Everything after the first '=' is the value.\n"
        "\n"
        "Through tfeventsd when it answers on the socket (DIR must then lie under\n"
        "its root), else the files are written by this process (a new event file\n"
        "per run and invocation: run tfeventsd to log often).\n"
        "\n"
        "  -l, --logdir DIR    the logdir (default: logs)\n"
        "  -S, --step N|current\n"
        "                      log at step N (0 .. 2^53) or at the current step;\n"
        "                      default: the next step of the logdir's counter\n"
        "  -r, --run RUN       every value in run RUN; NAMEs are whole tags\n"
        "  -t, --text          every VALUE is text, even a number\n"
        "  -s, --socket PATH   the daemon's socket (default: $TFEVENTS_SOCKET, else\n"
        "                      $XDG_RUNTIME_DIR/tfevents.sock, else /run/tfevents.sock\n"
        "                      as root, else ./tfevents.sock)\n"
        "      --daemon        through the daemon or fail (exit 3)\n"
        "      --embedded      write the files in this process\n"
        "  -p, --print-step    print the step the values were logged at\n"
        "\n"
        "exit status: 0 logged, 1 refused (a step not above the tag's last step,\n"
        "invalid text...), 2 usage error, 3 no daemon with --daemon, or I/O error\n");
}

/* A whole decimal number: what strtod reads completely, hexadecimal
 * excepted (0x10 reads as text, as a user would expect). */
static bool parse_number(const char *s, double *ret)
{
    if (!*s || strchr(s, 'x') || strchr(s, 'X') || *s == ' ' || *s == '\t' || *s == '\n')
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s)
        return false;
    /* ERANGE: an overflow is still that infinity, an underflow that tiny
     * number; both are what the user wrote. */
    *ret = v;
    return true;
}

/* Add NAME=VALUE to vs. CLI_EXIT_OK, or the exit status after a message. */
static int add_arg(tfevents_values *vs, const char *arg, const char *run_opt, bool text)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cli_error("log: '%s' is not NAME=VALUE", arg);
        return CLI_EXIT_USAGE;
    }
    size_t nlen = (size_t)(eq - arg);
    char *name = strndup(arg, nlen);
    if (!name) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    const char *run = run_opt, *tag = name;
    if (!run_opt) {
        char *slash = strrchr(name, '/');
        if (slash) {
            *slash = '\0';
            run = name;
            tag = slash + 1;
        }
    }
    int st = CLI_EXIT_OK;
    if (!*tag || (run && !*run)) {
        cli_error("log: '%.*s' has an empty %s", (int)nlen, arg, *tag ? "run" : "tag");
        st = CLI_EXIT_USAGE;
        goto out;
    }
    const char *value = eq + 1;
    double d;
    int r;
    if (!text && parse_number(value, &d))
        r = tfevents_add_scalar(vs, run, tag, d);
    else
        r = tfevents_add_text(vs, run, tag, value);
    if (r < 0) {
        cli_error("log: %.*s: %s", (int)nlen, arg, strerror(-r));
        st = r == -ENOMEM ? CLI_EXIT_IO : CLI_EXIT_USAGE;
    }
out:
    free(name);
    return st;
}

int cli_log_main(int argc, char **argv)
{
    enum { OPT_DAEMON = 256, OPT_EMBEDDED };
    static const struct option longopts[] = {
        {"logdir", required_argument, NULL, 'l'},
        {"step", required_argument, NULL, 'S'},
        {"run", required_argument, NULL, 'r'},
        {"text", no_argument, NULL, 't'},
        {"socket", required_argument, NULL, 's'},
        {"daemon", no_argument, NULL, OPT_DAEMON},
        {"embedded", no_argument, NULL, OPT_EMBEDDED},
        {"print-step", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *logdir = "logs", *run = NULL, *sock = NULL;
    int64_t step = TFEVENTS_STEP_NEXT;
    bool text = false, print_step = false;
    enum tfevents_mode mode = TFEVENTS_MODE_AUTO;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:S:r:ts:ph", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            logdir = optarg;
            break;
        case 'S': {
            unsigned long long v;
            if (strcmp(optarg, "current") == 0) {
                step = TFEVENTS_STEP_CURRENT;
            } else if (strcmp(optarg, "next") == 0) {
                step = TFEVENTS_STEP_NEXT;
            } else if (cli_parse_count(optarg, &v) && v <= (1ULL << 53)) {
                step = (int64_t)v;
            } else {
                cli_error("log: --step '%s' is not a step (0 .. 2^53 or current)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        }
        case 'r':
            run = optarg;
            break;
        case 't':
            text = true;
            break;
        case 's':
            sock = optarg;
            break;
        case 'p':
            print_step = true;
            break;
        case OPT_DAEMON:
        case OPT_EMBEDDED:
            if (mode != TFEVENTS_MODE_AUTO) {
                cli_error("log: --daemon or --embedded, not both");
                return CLI_EXIT_USAGE;
            }
            mode = c == OPT_DAEMON ? TFEVENTS_MODE_DAEMON : TFEVENTS_MODE_EMBEDDED;
            break;
        case 'h':
            log_usage(stdout);
            return CLI_EXIT_OK;
        case ':':
            cli_error("log: option '%s' needs a value", argv[optind - 1]);
            log_usage(stderr);
            return CLI_EXIT_USAGE;
        default:
            cli_error("log: unknown option '%s'", argv[optind - 1]);
            log_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("log: no NAME=VALUE to log");
        log_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (run && !*run) {
        cli_error("log: --run needs a run name ('.' for the logdir itself)");
        return CLI_EXIT_USAGE;
    }

    int st = CLI_EXIT_OK;
    tfevents *h = NULL;
    tfevents_values *vs = tfevents_values_new();
    if (!vs) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    /* Every argument is checked before anything is opened or sent. */
    for (int i = optind; i < argc && st == CLI_EXIT_OK; i++)
        st = add_arg(vs, argv[i], run, text);
    if (st != CLI_EXIT_OK)
        goto out;

    char path[4096];
    if (cli_daemon_socket_path(sock, path, sizeof path) < 0) {
        cli_error("log: socket path too long for a Unix socket");
        st = CLI_EXIT_IO;
        goto out;
    }
    struct tfevents_options o;
    tfevents_options_init(&o);
    o.mode = mode;
    o.socket_path = sock;
    o.logdir = logdir;
    /* A short-lived process: tfevents_close() sends and writes everything,
     * and returns once it is in the files (in daemon mode too). */
    o.flush_interval = 0;
    int r = tfevents_open(&h, &o);
    if (r < 0) {
        if (mode == TFEVENTS_MODE_DAEMON)
            cli_error("log: no daemon answers at %s: %s", path, strerror(-r));
        else
            cli_error("log: %s", strerror(-r));
        st = r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_IO;
        goto out;
    }
    int64_t at = -1;
    /* ret_step makes a daemon-mode call wait for the answer, so that a
     * refusal is reported here, with the daemon's sentence. */
    r = tfevents_log(h, NULL, vs, step, TFEVENTS_NOW, &at);
    if (r < 0) {
        char msg[1024];
        tfevents_last_error(h, msg, sizeof msg);
        if (r == -EXDEV)
            cli_error("log: %s is outside the daemon's root (use --embedded to write it "
                      "here)", logdir);
        else if (*msg && (r == -EREMOTEIO || r == -ERANGE))
            cli_error("log: refused: %s", msg);
        else
            cli_error("log: %s%s%s", strerror(-r), *msg ? ": " : "", msg);
        st = cli_daemon_lib_exit(r);
        goto out;
    }
    if (print_step)
        printf("%" PRId64 "\n", at);
out:
    r = tfevents_close(h);
    if (r < 0 && st == CLI_EXIT_OK) {
        cli_error("log: %s", strerror(-r));
        st = cli_daemon_lib_exit(r);
    }
    tfevents_values_free(vs);
    if (fflush(stdout) != 0 && st == CLI_EXIT_OK)
        st = CLI_EXIT_IO;
    return st;
}
