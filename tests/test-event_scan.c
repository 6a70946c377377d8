/* event_scan against protobuf-c: random events, mutated and hand-made wire
 * bytes, every golden record, and whole logdirs read with and without the
 * fast path must give equal results; whatever protobuf-c rejects the
 * scanner must decline. */
#include <errno.h>
#include <ftw.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "event_scan.h"
#include "logdir_reader.h"
#include "record.h"
#include "record_reader.h"
#include "test.h"
#include "value_json.h"

/* ------------------------------------------------------------------ arena */

/* A region allocator for the scanner: blocks are freed all at once. */
struct block {
    struct block *next;
    max_align_t data[];
};

static void *region_alloc(void *opaque, size_t size)
{
    struct block **head = opaque;
    struct block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->next = *head;
    *head = b;
    return b->data;
}

static void region_free_one(void *opaque, void *p)
{
    (void)opaque;
    (void)p;
}

static void region_done(struct block **head)
{
    while (*head) {
        struct block *n = (*head)->next;
        free(*head);
        *head = n;
    }
}

/* ------------------------------------------------------------------ compare */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct stats {
    unsigned fast, declined, both_rejected;
};

/* Decoded values of ev as one string of value_to_json renderings, with each
 * value's kind and plugin; every value is decoded as a file's first. */
static char *values_string(const Tensorboard__Event *ev)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    if (ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY) {
        for (size_t i = 0; i < ev->summary->n_value; i++) {
            struct decoded_value v;
            value_init(&v);
            if (value_decode(ev->summary->value[i], NULL, NULL, &v) < 0) {
                buf_append_str(&b, "ENOMEM;");
                continue;
            }
            cJSON *j = value_to_json(&v);
            buf_printf(&b, "%s/%s:", value_kind_name(v.kind), v.plugin);
            if (j)
                value_json_print(&b, j);
            buf_append_str(&b, ";");
            cJSON_Delete(j);
            value_done(&v);
        }
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

/* Both decoders on one payload: when the scanner accepts it protobuf-c must
 * too, with equal fields (compared by packing both trees again) and equal
 * decoded values; when protobuf-c rejects it the scanner must decline. */
static void differential(const uint8_t *payload, size_t len, struct stats *st)
{
    struct block *head = NULL;
    ProtobufCAllocator a = {region_alloc, region_free_one, &head};
    Tensorboard__Event *fast = NULL;
    int r = event_scan_unpack(payload, len, &a, &fast);
    Tensorboard__Event *slow = event_decode(payload, len);
    CHECK(r == 0 || r == -ENOTSUP);
    if (r == 0) {
        CHECK(slow != NULL);
        if (!slow) {
            fprintf(stderr, "  scanner accepted what protobuf-c rejects (%zu bytes)\n", len);
            region_done(&head);
            return;
        }
        size_t n1 = tensorboard__event__get_packed_size(fast);
        size_t n2 = tensorboard__event__get_packed_size(slow);
        CHECK_EQ(n1, n2);
        uint8_t *p1 = malloc(n1 + 1), *p2 = malloc(n2 + 1);
        REQUIRE(p1 && p2);
        tensorboard__event__pack(fast, p1);
        tensorboard__event__pack(slow, p2);
        CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0);
        free(p1);
        free(p2);
        CHECK_EQ(fast->what_case, slow->what_case);
        char *v1 = values_string(fast), *v2 = values_string(slow);
        CHECK_STR(v1, v2);
        free(v1);
        free(v2);
        st->fast++;
    } else if (slow) {
        st->declined++;
    } else {
        st->both_rejected++;
    }
    event_free(slow);
    region_done(&head);
}

/* ------------------------------------------------------------------ random events */

static const char *const plugins[] = {"scalars", "images", "audio", "histograms", "text",
                                      "hparams", "pr_curves", "custom", ""};
static const char *const tags[] = {"loss", "accuracy", "", "a/b/c", "\xc3\xa9t\xc3\xa9",
                                   "a_rather_long_tag_name_that_spans_words"};

static char *rand_string(char *buf, size_t size)
{
    size_t n = rndn((unsigned)size);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(1 + rndn(255));   /* no NUL: protobuf-c strings are C strings */
    buf[n] = '\0';
    return buf;
}

struct rand_event {
    Tensorboard__Event ev;
    Tensorboard__Summary sum;
    Tensorboard__Summary__Value vals[4], *pvals[4];
    Tensorboard__SummaryMetadata md[4];
    Tensorboard__SummaryMetadata__PluginData pd[4];
    Tensorboard__TensorProto t[4];
    Tensorboard__TensorShapeProto sh[4];
    Tensorboard__TensorShapeProto__Dim dims[4][3], *pdims[4][3];
    Tensorboard__HistogramProto histo;
    Tensorboard__SessionLog sl;
    float floats[4][6];
    double doubles[4][6];
    ProtobufCBinaryData strings[4][6];
    uint8_t bytes[4][32];
    char text[4][3][24];
};

static double rand_double(void)
{
    static const double special[] = {0.0, -0.0, 1.5, -2.25, 1e300, 1e-300, NAN, INFINITY, -INFINITY};
    if (rndn(3) == 0)
        return special[rndn(sizeof special / sizeof special[0])];
    uint64_t u = rnd();
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void rand_tensor(struct rand_event *re, int i)
{
    Tensorboard__TensorProto *t = &re->t[i];
    tensorboard__tensor_proto__init(t);
    static const int dtypes[] = {1, 2, 7, 3, 9, 10, 19, 0, 100};
    t->dtype = dtypes[rndn(sizeof dtypes / sizeof dtypes[0])];
    if (rndn(4) != 0) {
        Tensorboard__TensorShapeProto *sh = &re->sh[i];
        tensorboard__tensor_shape_proto__init(sh);
        sh->n_dim = rndn(4);
        for (size_t d = 0; d < sh->n_dim; d++) {
            tensorboard__tensor_shape_proto__dim__init(&re->dims[i][d]);
            re->dims[i][d].size = rndn(8) == 0 ? -1 : (int64_t)rndn(4);
            if (rndn(4) == 0)
                re->dims[i][d].name = rand_string(re->text[i][d], sizeof re->text[i][d]);
            re->pdims[i][d] = &re->dims[i][d];
        }
        sh->dim = re->pdims[i];
        sh->unknown_rank = rndn(16) == 0;
        t->tensor_shape = sh;
    }
    switch (rndn(5)) {
    case 0:
        t->n_float_val = rndn(4);
        for (size_t k = 0; k < t->n_float_val; k++)
            re->floats[i][k] = (float)rand_double();
        t->float_val = re->floats[i];
        break;
    case 1:
        t->n_double_val = rndn(4);
        for (size_t k = 0; k < t->n_double_val; k++)
            re->doubles[i][k] = rand_double();
        t->double_val = re->doubles[i];
        break;
    case 2:
        t->n_string_val = rndn(5);
        for (size_t k = 0; k < t->n_string_val; k++) {
            re->strings[i][k].data = re->bytes[i] + k;
            re->strings[i][k].len = rndn(16);
        }
        t->string_val = re->strings[i];
        break;
    case 3:
        t->tensor_content.data = re->bytes[i];
        t->tensor_content.len = 4 * rndn(5);
        break;
    default:
        t->version_number = (int32_t)rndn(3);   /* declined by the scanner */
        break;
    }
}

static void rand_event(struct rand_event *re)
{
    memset(re, 0, sizeof *re);
    for (int i = 0; i < 4; i++)
        for (size_t k = 0; k < sizeof re->bytes[i]; k++)
            re->bytes[i][k] = (uint8_t)rnd();
    Tensorboard__Event *ev = &re->ev;
    tensorboard__event__init(ev);
    if (rndn(8))
        ev->wall_time = rand_double();
    if (rndn(8))
        ev->step = rndn(2) ? (int64_t)rndn(1000) : (int64_t)rnd();
    switch (rndn(10)) {
    case 0:
        ev->what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION;
        ev->file_version = rndn(2) ? "brain.Event:2" : rand_string(re->text[0][0], 24);
        return;
    case 1:
        tensorboard__session_log__init(&re->sl);
        re->sl.status = TENSORBOARD__SESSION_LOG__SESSION_STATUS__START;
        ev->what_case = TENSORBOARD__EVENT__WHAT_SESSION_LOG;
        ev->session_log = &re->sl;
        return;
    case 2:
        return;   /* no what */
    default:
        break;
    }
    tensorboard__summary__init(&re->sum);
    ev->what_case = TENSORBOARD__EVENT__WHAT_SUMMARY;
    ev->summary = &re->sum;
    re->sum.n_value = rndn(5);
    re->sum.value = re->pvals;
    for (size_t i = 0; i < re->sum.n_value; i++) {
        Tensorboard__Summary__Value *v = &re->vals[i];
        tensorboard__summary__value__init(v);
        re->pvals[i] = v;
        v->tag = (char *)tags[rndn(sizeof tags / sizeof tags[0])];
        if (rndn(8) == 0)
            v->node_name = (char *)tags[rndn(sizeof tags / sizeof tags[0])];
        if (rndn(2)) {
            tensorboard__summary_metadata__init(&re->md[i]);
            v->metadata = &re->md[i];
            if (rndn(4)) {
                tensorboard__summary_metadata__plugin_data__init(&re->pd[i]);
                re->pd[i].plugin_name = (char *)plugins[rndn(sizeof plugins / sizeof plugins[0])];
                if (rndn(3) == 0) {
                    re->pd[i].content.data = re->bytes[i];
                    re->pd[i].content.len = rndn(8);
                }
                re->md[i].plugin_data = &re->pd[i];
            }
            if (rndn(4) == 0)
                re->md[i].display_name = "display";
            if (rndn(4) == 0)
                re->md[i].summary_description = "a description";
            re->md[i].data_class = rndn(4) == 0 ? (int)rnd() : (int)rndn(4);
        }
        switch (rndn(6)) {
        case 0:
            v->value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
            v->simple_value = (float)rand_double();
            break;
        case 1:
            tensorboard__histogram_proto__init(&re->histo);
            re->histo.max = 1;
            v->value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_HISTO;
            v->histo = &re->histo;
            break;
        case 2:
            break;   /* metadata only */
        default:
            v->value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR;
            rand_tensor(re, (int)i);
            v->tensor = &re->t[i];
            break;
        }
    }
}

static void test_random_events(void)
{
    struct stats st = {0};
    int failures = test_failures_;
    struct rand_event *re = malloc(sizeof *re);
    uint8_t *buf = malloc(64 * 1024);
    REQUIRE(re && buf);
    for (int iter = 0; iter < 20000; iter++) {
        rand_event(re);
        size_t n = tensorboard__event__pack(&re->ev, buf);
        differential(buf, n, &st);
        if (test_failures_ > failures)
            break;   /* one reported difference is enough */
    }
    free(re);
    free(buf);
    fprintf(stderr, "  random: %u fast, %u declined\n", st.fast, st.declined);
    /* Most random events are shapes the scanner knows; some are not. */
    CHECK(st.fast > 10000);
    CHECK(st.declined > 500);
    CHECK_EQ(st.both_rejected, 0);
}

/* Random damage to valid events: byte flips, cuts, insertions and spliced
 * copies of a field (a duplicated field). */
static void test_mutations(void)
{
    struct stats st = {0};
    int failures = test_failures_;
    struct rand_event *re = malloc(sizeof *re);
    uint8_t *buf = malloc(64 * 1024), *mut = malloc(128 * 1024);
    REQUIRE(re && buf && mut);
    for (int iter = 0; iter < 50000; iter++) {
        rand_event(re);
        size_t n = tensorboard__event__pack(&re->ev, buf);
        if (n == 0)
            continue;
        memcpy(mut, buf, n);
        size_t m = n;
        unsigned edits = 1 + rndn(3);
        for (unsigned e = 0; e < edits && m > 0; e++) {
            size_t at = rndn((unsigned)m);
            switch (rndn(5)) {
            case 0:
                mut[at] ^= (uint8_t)(1u << rndn(8));
                break;
            case 1:
                mut[at] = (uint8_t)rnd();
                break;
            case 2:
                m = at;   /* cut */
                break;
            case 3:       /* insert a byte */
                memmove(mut + at + 1, mut + at, m - at);
                mut[at] = (uint8_t)rnd();
                m++;
                break;
            default: {    /* append a copy of a stretch: duplicates fields */
                size_t len = 1 + rndn((unsigned)(m - at));
                memcpy(mut + m, mut + at, len);
                m += len;
                break;
            }
            }
        }
        differential(mut, m, &st);
        if (test_failures_ > failures)
            break;   /* one reported difference is enough */
    }
    free(re);
    free(buf);
    free(mut);
    fprintf(stderr, "  mutated: %u fast, %u declined, %u rejected by both\n", st.fast,
            st.declined, st.both_rejected);
    CHECK(st.fast > 1000);
    CHECK(st.both_rejected > 1000);
}

/* Hand-made wire bytes at the edges of what the scanner reads. */
static void test_wire_edges(void)
{
    static const struct {
        const char *what;
        const char *bytes;
        size_t len;
        int fast;   /* 1 accepted by the scanner, 0 declined (protobuf-c accepts),
                       -1 rejected by both, 2 declined (either for protobuf-c) */
    } cases[] = {
        {"empty event", "", 0, 1},
        {"step 1", "\x10\x01", 2, 1},
        {"overlong step varint", "\x10\x81\x80\x80\x00", 5, 1},
        {"10-byte step -1", "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, 1},
        {"10-byte step, high bits", "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, 1},
        {"11-byte varint", "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, -1},
        {"step given twice", "\x10\x01\x10\x02", 4, 0},
        {"step as fixed64", "\x11\x01\x02\x03\x04\x05\x06\x07\x08", 9, -1},
        {"wall_time cut", "\x09\x01\x02\x03", 4, -1},
        {"unknown field 15", "\x78\x01", 2, 0},
        {"two-byte key for step", "\x90\x00\x01", 3, 0},
        {"field 0", "\x00\x01", 2, 2},
        {"wire type 7", "\x0f", 1, -1},
        {"file_version", "\x1a\x02hi", 4, 1},
        {"file_version, 4-byte length", "\x1a\x82\x80\x80\x00hi", 7, 1},
        {"file_version past the end", "\x1a\x05hi", 4, -1},
        {"file_version, 5-byte length", "\x1a\x82\x80\x80\x80\x00hi", 8, 0},
        {"file_version then summary", "\x1a\x01x\x2a\x00", 5, 0},
        {"empty summary", "\x2a\x00", 2, 1},
        {"summary with an empty value", "\x2a\x02\x0a\x00", 4, 1},
        {"value: simple_value", "\x2a\x0a\x0a\x08\x0a\x01x\x15\x00\x00\x80\x3f", 12, 1},
        {"value: simple_value cut", "\x2a\x06\x0a\x04\x15\x00\x00\x80", 8, -1},
        {"value: simple_value then tensor", "\x2a\x09\x0a\x07\x15\x00\x00\x80\x3f\x42\x00", 11, 0},
        {"tensor: unpacked float", "\x2a\x0b\x0a\x09\x42\x07\x08\x01\x2d\x00\x00\x80\x3f", 13, 0},
        {"tensor: packed float", "\x2a\x0c\x0a\x0a\x42\x08\x08\x01\x2a\x04\x00\x00\x80\x3f", 14, 1},
        {"tensor: packed float, odd length", "\x2a\x0b\x0a\x09\x42\x07\x08\x01\x2a\x03\x00\x00\x80", 13, -1},
        {"tensor: empty shape", "\x2a\x08\x0a\x06\x42\x04\x08\x01\x12\x00", 10, 1},
        {"shape: unknown_rank", "\x2a\x0a\x0a\x08\x42\x06\x08\x01\x12\x02\x18\x01", 12, 0},
        {"shape: dim size -1 (10 bytes)",
         "\x2a\x16\x0a\x14\x42\x12\x12\x10\x12\x0e\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x12\x01n",
         24, 1},
        {"metadata: data_class as 10-byte -1",
         "\x2a\x0f\x0a\x0d\x4a\x0b\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 17, 1},
        {"metadata twice", "\x2a\x06\x0a\x04\x4a\x00\x4a\x00", 8, 0},
        {"tag with NUL inside", "\x2a\x06\x0a\x04\x0a\x02" "a\x00", 8, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct block *head = NULL;
        ProtobufCAllocator a = {region_alloc, region_free_one, &head};
        Tensorboard__Event *fast = NULL;
        const uint8_t *p = (const uint8_t *)cases[i].bytes;
        int r = event_scan_unpack(p, cases[i].len, &a, &fast);
        Tensorboard__Event *slow = event_decode(p, cases[i].len);
        int got = r == 0 ? 1 : slow ? 0 : -1;
        if (cases[i].fast == 2 && got != 1)
            got = 2;
        if (got != cases[i].fast)
            fprintf(stderr, "  case '%s': got %d, expected %d\n", cases[i].what, got, cases[i].fast);
        CHECK_EQ(got, cases[i].fast);
        struct stats st = {0};
        differential(p, cases[i].len, &st);
        if (r == 0 && slow) {
            CHECK_EQ(fast->step, slow->step);
            CHECK_EQ(fast->what_case, slow->what_case);
        }
        event_free(slow);
        region_done(&head);
    }
}

/* ------------------------------------------------------------------ golden */

static struct stats golden_stats;
static unsigned golden_files;

static int visit(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag != FTW_F || !strstr(path, "tfevents"))
        return 0;
    record_reader *rr = NULL;
    if (record_reader_open(&rr, path, 0) < 0)
        return 0;
    golden_files++;
    const uint8_t *payload;
    size_t len;
    while (record_reader_next(rr, &payload, &len) == 1)
        differential(payload, len, &golden_stats);
    record_reader_free(rr);
    return 0;
}

static void test_golden_records(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("shared golden data absent (TFEVENTS_SHARED)");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/golden", shared);
    CHECK(nftw(dir, visit, 16, FTW_PHYS) == 0);
    fprintf(stderr, "  golden: %u files, %u records fast, %u declined\n", golden_files,
            golden_stats.fast, golden_stats.declined);
    CHECK(golden_files > 10);
    CHECK(golden_stats.fast > 50);
}

/* A logdir read through logdir_reader both ways, item by item. */
static char *item_string(const struct logdir_reader_item *it)
{
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    buf_printf(&b, "%d %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %d %d %d %" PRId64 " %d %d|",
               (int)it->type, it->run, it->file, it->offset, it->index, it->length,
               (int)it->purge, (int)it->purge_all_tags, (int)it->fault, it->purge_step,
               it->error, (int)it->n_values);
    if (it->event) {
        size_t n = tensorboard__event__get_packed_size(it->event);
        uint8_t *p = malloc(n + 1);
        if (p) {
            tensorboard__event__pack(it->event, p);
            for (size_t i = 0; i < n; i++)
                buf_printf(&b, "%02x", p[i]);
            free(p);
        }
    }
    for (size_t i = 0; i < it->n_values; i++) {
        const struct decoded_value *v = &it->values[i];
        cJSON *j = value_to_json(v);
        buf_printf(&b, "|%s/%s/%d:", value_kind_name(v->kind), v->plugin, v->meta.data_class);
        if (j)
            value_json_print(&b, j);
        cJSON_Delete(j);
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static void read_logdir(const char *dir, bool slow, struct buf *out)
{
    struct logdir_reader_options o;
    logdir_reader_options_init(&o);
    o.no_fast_path = slow;
    logdir_reader *r = NULL;
    REQUIRE(logdir_reader_open(&r, dir, &o) == 0);
    struct logdir_reader_item it;
    int rc;
    while ((rc = logdir_reader_next(r, &it)) > 0) {
        char *s = item_string(&it);
        buf_append_str(out, s);
        buf_append_str(out, "\n");
        free(s);
    }
    CHECK_EQ(rc, 0);
    logdir_reader_free(r);
}

static void test_golden_logdirs(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("shared golden data absent (TFEVENTS_SHARED)");
    static const char *const dirs[] = {"golden/writers", "golden/edge", "golden/minimal"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", shared, dirs[i]);
        struct buf a, b;
        buf_init(&a, BUF_NO_CAP);
        buf_init(&b, BUF_NO_CAP);
        read_logdir(dir, false, &a);
        read_logdir(dir, true, &b);
        CHECK(a.len > 100);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        buf_free(&a);
        buf_free(&b);
    }
}

TEST_MAIN(TEST(test_wire_edges), TEST(test_random_events), TEST(test_mutations),
          TEST(test_golden_records), TEST(test_golden_logdirs))
