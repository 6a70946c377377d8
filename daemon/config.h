/* config: tfeventsd's options, from the command line and an optional
 * configuration file of "key = value" lines (the keys are the long option
 * names without "--"; '#' starts a comment). The command line wins over
 * the file. Every option, its default and its meaning are in the table in
 * config.c, which also prints --help, and in docs/tfeventsd.8.scd. */
#ifndef TFEVENTSD_CONFIG_H
#define TFEVENTSD_CONFIG_H

/* Default seconds a logdir may stay unused before its state is released
 * (--logdir-idle): long enough that a training loop logging every few
 * minutes keeps its logdir (a reopen rescans its files), short enough that
 * thousands of finished runs do not pin their memory for long. */
#define CONFIG_LOGDIR_IDLE 600

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logdir.h"

enum fsync_mode {
    FSYNC_NEVER = 0,   /* never fsync, even when a client asks */
    FSYNC_FLUSH,       /* on flush/close requests with "sync":true and at exit */
    FSYNC_ALWAYS,      /* after every write */
};

/* Longest configuration file line. */
#define CONFIG_MAX_LINE 4096

/* Ceiling of --max-json-depth: cJSON recurses once per level, so the
 * stack bounds it (cJSON's own limit is 1000). */
#define CONFIG_MAX_JSON_DEPTH 512u

/* Longest --tcp-address text (an IPv6 address fits INET6_ADDRSTRLEN, 46). */
#define CONFIG_MAX_TCP_ADDRESS 48

/* --max-connections-per-user when not given: a quarter of
 * --max-connections (at least 1). */
#define CONFIG_CONNS_PER_USER_DEFAULT(total) ((total) / 4 ? (total) / 4 : 1u)

struct config {
    char socket_path[4096];
    char root[4096];
    unsigned socket_mode;
    double flush_interval;       /* seconds */
    size_t flush_bytes;          /* pending bytes that trigger a write */
    enum fsync_mode fsync;
    size_t max_line;             /* bytes of one line */
    size_t max_input_total;      /* input buffered by all connections */
    unsigned max_connections;
    unsigned max_connections_per_user; /* of one uid (all TCP peers: one) */
    bool max_connections_per_user_set; /* given, not derived from the total */
    unsigned max_writers;        /* open run writers (files) */
    unsigned max_replies;        /* replies queued per connection */
    size_t max_pending;          /* unwritten bytes before reading pauses */
    double idle_timeout;         /* seconds; 0: never */
    double read_timeout;         /* seconds to finish a begun message; 0: never */
    double logdir_idle;          /* seconds unused before a logdir's state is
                                    released (CONFIG_LOGDIR_IDLE); 0: only
                                    at --max-logdirs */
    /* Limits on what clients control (each with a compiled ceiling). */
    unsigned max_logdirs;        /* logdirs open at once (LOGDIR_MAX_LOGDIRS) */
    unsigned max_runs;           /* runs per logdir (LOGDIR_MAX_RUNS) */
    unsigned max_tags;           /* (run, tag) pairs per logdir (LOGDIR_MAX_TAGS) */
    size_t max_name;             /* bytes of a logdir or run name (LOGDIR_MAX_NAME) */
    unsigned max_values;         /* values in one message (REQUEST_MAX_VALUES) */
    unsigned max_json_depth;     /* nesting of a JSON line (CONFIG_MAX_JSON_DEPTH) */
    size_t max_elements;         /* array elements in one message (REQUEST_MAX_ARRAY) */
    bool per_user_root;          /* confine each peer uid to <root>/<user name> */
    /* Opt-in TCP listener for clients that cannot open a Unix socket (base
     * R): 0 off; bound to a loopback address only (tcp_address). */
    unsigned tcp_port;
    char tcp_address[CONFIG_MAX_TCP_ADDRESS];
    /* Where the TCP listener's token is written (tcp_auth.h); empty: the
     * socket's path with ".token" appended. */
    char tcp_token_file[4096];
    uint64_t rotate_bytes;       /* 0: never */
    /* Mirror of closed event files to object storage (upload.h); off when
     * upload_url is "". */
    char upload_url[4096];       /* s3://BUCKET/PREFIX */
    char upload_credentials[4096]; /* a credentials file; "": the environment */
    char upload_state[4096];     /* the journal; "": <root>/.upload-journal */
    int upload_addressing;       /* enum s3_addressing */
    double upload_interval;      /* seconds: a file open this long is closed; 0: never */
    uint64_t upload_size;        /* rotate past this size when uploading; 0: rotate_bytes */
    size_t upload_part_size;     /* multipart past this size, in parts of it */
    bool upload_delete;          /* remove a local file once its upload is verified */
    double upload_exit_wait;     /* seconds to finish uploads at exit */
    enum logdir_step_policy step_policy;
    int log_level;
    char config_file[4096];
};

/* Defaults (the socket path depends on $XDG_RUNTIME_DIR). */
void config_defaults(struct config *c);

/* Parse the command line (and the file named by --config). Returns 0 to
 * run, 1 when --help or --version was printed (exit 0), or -EINVAL with a
 * message in err. */
int config_parse(struct config *c, int argc, char **argv, char *err, size_t err_size);

const char *config_fsync_name(enum fsync_mode m);

#endif
