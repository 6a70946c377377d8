/* tfevents dump: every record of event files, for humans.
 *
 * Offsets, sizes and CRC verdicts come first, so that a broken file can be
 * located byte by byte; then each event's content with its values decoded
 * the way TensorBoard loads them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "graph.h"
#include "logdir_reader.h"
#include "s3mirror.h"
#include "value_json.h"

/* Longest value rendering printed per line; the rest is elided. */
#define DUMP_MAX_VALUE_CHARS 400

static void dump_usage(FILE *f)
{
    fprintf(f,
        "usage: tfevents dump FILE...\n"
        "\n"
        "Print every record of each event file FILE, in the order given: its\n"
        "offset, size and CRC\n"
        "verdict, then the event (wall time, step, file version, session log,\n"
        "summary values decoded the way TensorBoard loads them). Reading stops at\n"
        "the first corrupt record, as TensorBoard's does.\n"
        "\n"
        "  -h, --help   this text\n"
        "\n"
        "exit status: 0 every record is whole and valid, 1 corruption or a\n"
        "truncated record found, 2 usage error, 3 a FILE cannot be read (the\n"
        "others are still dumped)\n");
}

static void print_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_shape(const struct tensor_shape *s)
{
    putchar('[');
    for (size_t i = 0; i < s->rank; i++)
        printf("%s%" PRId64, i ? "," : "", s->dims[i]);
    putchar(']');
}

static void print_value(const Tensorboard__Summary__Value *sv, const struct decoded_value *v, struct buf *b)
{
    printf("    tag ");
    print_quoted(sv->tag ? sv->tag : "");
    printf(": plugin %s", *v->plugin ? v->plugin : "(none)");
    if (v->meta.present)
        printf(", %s", value_data_class_name(v->meta.data_class));
    if (v->legacy)
        printf(", legacy value migrated");
    if (!v->has_tensor) {
        printf(", metadata only\n");
        return;
    }
    printf(", %s ", tensor_dtype_name(v->dtype));
    print_shape(&v->shape);
    printf(" %s", value_kind_name(v->kind));
    buf_reset(b);
    cJSON *j = value_to_json(v);
    if (j && value_json_print(b, j) == 0) {
        size_t n = b->len > DUMP_MAX_VALUE_CHARS ? DUMP_MAX_VALUE_CHARS : b->len;
        printf(" = %.*s%s", (int)n, (const char *)b->data, n < b->len ? " ..." : "");
    }
    cJSON_Delete(j);
    putchar('\n');
}

static const char *session_status(int s)
{
    switch (s) {
    case 1: return "START";
    case 2: return "STOP";
    case 3: return "CHECKPOINT";
    default: return "STATUS_UNSPECIFIED";
    }
}

/* The end of a graph's line: its nodes, or why TensorBoard could not
 * parse it. */
static void print_graph(enum graph_kind kind, const ProtobufCBinaryData *bytes)
{
    struct graph_info info;
    char why[160];
    if (graph_check(kind, bytes->data, bytes->len, &info, why, sizeof why) < 0)
        printf("; not a valid %s: %s)\n", graph_kind_name(kind), why);
    else
        printf(", %zu %s)\n", info.nodes, kind == GRAPH_DEF ? "nodes" : "node stats");
}

static void print_event(const struct logdir_reader_item *it, size_t payload_len, struct buf *b)
{
    const Tensorboard__Event *ev = it->event;
    char wall[64];
    value_format_double(wall, sizeof wall, ev->wall_time);
    printf("offset %" PRIu64 ": record %" PRIu64 ", %" PRIu64 " bytes (payload %zu), CRCs ok: "
           "wall_time %s step %" PRId64, it->offset, it->index, it->length, payload_len,
           wall, ev->step);
    switch (ev->what_case) {
    case TENSORBOARD__EVENT__WHAT_FILE_VERSION:
        printf(" file_version ");
        print_quoted(ev->file_version);
        putchar('\n');
        break;
    case TENSORBOARD__EVENT__WHAT_SUMMARY:
        printf(" summary, %zu value(s)\n", ev->summary->n_value);
        for (size_t i = 0; i < ev->summary->n_value && i < it->n_values; i++)
            print_value(ev->summary->value[i], &it->values[i], b);
        break;
    case TENSORBOARD__EVENT__WHAT_SESSION_LOG:
        printf(" session_log %s", session_status(ev->session_log->status));
        if (ev->session_log->msg && *ev->session_log->msg) {
            putchar(' ');
            print_quoted(ev->session_log->msg);
        }
        putchar('\n');
        break;
    case TENSORBOARD__EVENT__WHAT_LOG_MESSAGE:
        printf(" log_message level %d ", ev->log_message->level);
        print_quoted(ev->log_message->message);
        putchar('\n');
        break;
    case TENSORBOARD__EVENT__WHAT_GRAPH_DEF:
        printf(" graph_def (%zu bytes", ev->graph_def.len);
        print_graph(GRAPH_DEF, &ev->graph_def);
        break;
    case TENSORBOARD__EVENT__WHAT_META_GRAPH_DEF:
        printf(" meta_graph_def (%zu bytes)\n", ev->meta_graph_def.len);
        break;
    case TENSORBOARD__EVENT__WHAT_TAGGED_RUN_METADATA:
        printf(" tagged_run_metadata ");
        print_quoted(ev->tagged_run_metadata->tag);
        printf(" (%zu bytes", ev->tagged_run_metadata->run_metadata.len);
        print_graph(GRAPH_RUN_METADATA, &ev->tagged_run_metadata->run_metadata);
        break;
    default:
        printf(" (no content)\n");
        break;
    }
}

/* How much of the record at offset the file holds, for the message. */
static void print_truncation(int fd, uint64_t size, uint64_t offset)
{
    uint64_t have = size - offset;
    uint8_t hdr[8];
    if (have < 8 || pread(fd, hdr, 8, (off_t)offset) != 8) {
        printf("offset %" PRIu64 ": truncated record (file ends %" PRIu64
               " bytes into the 12-byte record header)\n", offset, have);
        return;
    }
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--)
        len = len << 8 | hdr[i];
    if (have < 12 || len > RECORD_MAX_PAYLOAD)
        printf("offset %" PRIu64 ": truncated record (file ends %" PRIu64
               " bytes into the 12-byte record header)\n", offset, have);
    else
        printf("offset %" PRIu64 ": truncated record (file ends %" PRIu64
               " bytes into a %" PRIu64 "-byte record)\n", offset, have, len + RECORD_OVERHEAD);
}

/* Dump one file, b as scratch space: its exit status. shown is the name
 * said (path, or the s3:// URL it was downloaded from). */
static int dump_file(const char *path, const char *shown, struct buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        cli_error("%s: %s", shown, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_EXIT_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_error("%s: not a regular file", shown);
        close(fd);
        return CLI_EXIT_IO;
    }

    struct logdir_reader_options opts;
    logdir_reader_options_init(&opts);
    opts.purge = false;
    logdir_reader *r = NULL;
    int err = logdir_reader_open(&r, path, &opts);
    if (err < 0) {
        cli_error("%s: %s", shown, strerror(-err));
        close(fd);
        return CLI_EXIT_IO;
    }
    printf("%s: %" PRIu64 " bytes\n", shown, (uint64_t)st.st_size);

    int status = CLI_EXIT_OK;
    uint64_t records = 0, end = 0;
    struct logdir_reader_item it;
    int rc;
    while ((rc = logdir_reader_next(r, &it)) > 0) {
        if (it.type == LOGDIR_READER_ITEM_EVENT) {
            print_event(&it, (size_t)(it.length - RECORD_OVERHEAD), b);
            records++;
            end = it.offset + it.length;
            continue;
        }
        if (it.error) {
            cli_error("%s: %s", shown, strerror(-it.error));
            status = CLI_EXIT_IO;
            break;
        }
        if (status == CLI_EXIT_OK)
            status = CLI_EXIT_DATA;
        if (it.fault == RECORD_FAULT_TRUNCATED)
            print_truncation(fd, (uint64_t)st.st_size, it.offset);
        else
            printf("offset %" PRIu64 ": %s; stopping\n", it.offset, record_fault_str(it.fault));
    }
    if (rc < 0) {
        cli_error("%s: %s", shown, strerror(-rc));
        status = CLI_EXIT_IO;
    }
    printf("%" PRIu64 " record(s), %" PRIu64 " of %" PRIu64 " bytes read%s\n", records, end,
           (uint64_t)st.st_size, status == CLI_EXIT_DATA ? "; problems found" : "");
    logdir_reader_free(r);
    close(fd);
    return status;
}

/* Dump the object url (s3://BUCKET/KEY) through a temporary copy. */
static int dump_s3(const char *url, struct buf *b)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX], err[512];
    if ((size_t)snprintf(path, sizeof path, "%s/tfevents-dump-XXXXXX",
                         tmp && *tmp ? tmp : "/tmp") >= sizeof path) {
        cli_error("TMPDIR is too long");
        return CLI_EXIT_IO;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        cli_error("making a temporary file: %s", strerror(errno));
        return CLI_EXIT_IO;
    }
    int r = s3mirror_get_object(url, fd, err, sizeof err);
    close(fd);
    int status = CLI_EXIT_IO;
    if (r < 0)
        cli_error("%s", err);
    else
        status = dump_file(path, url, b);
    unlink(path);
    return status;
}

int cli_dump_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            dump_usage(stdout);
            return CLI_EXIT_OK;
        }
        dump_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (argc - optind < 1) {
        cli_error("dump: no FILE");
        dump_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    /* Every file is dumped whatever the others hold; the worst status
     * wins (I/O error over data problem). */
    int status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        if (i > optind)
            putchar('\n');
        int st = s3mirror_is_url(argv[i]) ? dump_s3(argv[i], &b)
                                          : dump_file(argv[i], argv[i], &b);
        if (st > status)
            status = st;
    }
    buf_free(&b);
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
        status = CLI_EXIT_IO;
    return status;
}
