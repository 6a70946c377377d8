/* The same mistake sent as a JSON line and as a binary Request must be
 * refused with the same errno and the same sentence: the JSON decoder
 * translates into a Request and frame_decode judges both (see
 * protocol/json_decode.c). Each case below is a pair written by hand, the
 * JSON line and the Request a binary client would send for it. */
#include <errno.h>
#include <string.h>

#include "frame_decode.h"
#include "json_decode.h"
#include "test.h"

/* A Log request for logdir "e" holding the one value v. */
struct log_rq {
    Tfevents__Request rq;
    Tfevents__Log log;
    Tfevents__Value *vp;
};

static void log_rq_init(struct log_rq *l, Tfevents__Value *v)
{
    tfevents__request__init(&l->rq);
    tfevents__log__init(&l->log);
    l->rq.op_case = TFEVENTS__REQUEST__OP_LOG;
    l->rq.log = &l->log;
    l->log.logdir = "e";
    l->vp = v;
    l->log.values = &l->vp;
    l->log.n_values = 1;
}

static void value_init(Tfevents__Value *v, char *tag)
{
    tfevents__value__init(v);
    v->tag = tag;
}

/* Decode both; they must fail alike. */
static void check_pair(const char *what, const char *line, const Tfevents__Request *rq,
                       const char *phrase)
{
    struct request m;
    char ej[REQUEST_ERROR_SIZE], eb[REQUEST_ERROR_SIZE];
    request_init(&m);
    int rj = jd_decode(&m, line, strlen(line), ej, sizeof ej);
    int rb = frame_decode_request(rq, &m, eb, sizeof eb);
    request_done(&m);
    if (rj >= 0 || rj != rb || strcmp(ej, eb) != 0 || !strstr(ej, phrase)) {
        fprintf(stderr, "%s:\n  JSON   %d '%s'\n  binary %d '%s'\n  (want both < 0, the same, "
                "with '%s')\n", what, rj, ej, rb, eb, phrase);
        test_failures_++;
    }
}

static void test_envelope(void)
{
    struct log_rq l;
    Tfevents__Value v;
    value_init(&v, "x");
    v.kind_case = TFEVENTS__VALUE__KIND_SCALAR;
    log_rq_init(&l, &v);

    l.log.step_kind_case = TFEVENTS__LOG__STEP_KIND_STEP;
    l.log.step = (UINT64_C(1) << 53) + 1;
    check_pair("step 1.5 / 2^53+1", "{\"logdir\":\"e\",\"step\":1.5,\"values\":{\"x\":1}}", &l.rq,
               "\"step\" must be");
    check_pair("step \"later\" / 2^53+1",
               "{\"logdir\":\"e\",\"step\":\"later\",\"values\":{\"x\":1}}", &l.rq, "current");
    l.log.step_kind_case = TFEVENTS__LOG__STEP_KIND__NOT_SET;

    l.log.has_wall_time = true;
    l.log.wall_time = -1;
    check_pair("wall_time -1", "{\"logdir\":\"e\",\"wall_time\":-1,\"values\":{\"x\":1}}",
               &l.rq, "wall_time");
    check_pair("wall_time \"now\" / -1",
               "{\"logdir\":\"e\",\"wall_time\":\"now\",\"values\":{\"x\":1}}", &l.rq,
               "wall_time");
    l.log.has_wall_time = false;

    l.log.logdir = "/etc";
    check_pair("absolute logdir", "{\"logdir\":\"/etc\",\"values\":{\"x\":1}}", &l.rq,
               "absolute");
    l.log.logdir = "e";

    v.tag = "$x";
    check_pair("reserved tag", "{\"logdir\":\"e\",\"values\":{\"$x\":1}}", &l.rq, "reserved");

    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    Tfevents__StepSet ss = TFEVENTS__STEP_SET__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_STEP_SET;
    rq.step_set = &ss;
    ss.logdir = "e";
    ss.step = -2;
    check_pair("step_set 1.5 / -2", "{\"op\":\"step_set\",\"logdir\":\"e\",\"step\":1.5}", &rq,
               "-1 to 2^53");
}

static void test_values(void)
{
    struct log_rq l;
    Tfevents__Value v;
    value_init(&v, "h");
    log_rq_init(&l, &v);

    Tfevents__Histogram h = TFEVENTS__HISTOGRAM__INIT;
    double edges[] = {0, 1}, counts[] = {1, 2};
    v.kind_case = TFEVENTS__VALUE__KIND_HISTOGRAM;
    v.histogram = &h;
    h.edges = edges, h.n_edges = 2, h.counts = counts, h.n_counts = 2;
    check_pair("histogram k+1",
               "{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"edges\":[0,1],"
               "\"counts\":[1,2]}}}}",
               &l.rq, "k+1");
    h.n_edges = h.n_counts = 0;
    double one[] = {1};
    h.values = one, h.n_values = 1, h.has_bucket_count = true, h.bucket_count = 1u << 30;
    check_pair("bucket_count -1 / 2^30",
               "{\"logdir\":\"e\",\"values\":{\"h\":{\"$histogram\":{\"values\":[1],"
               "\"bucket_count\":-1}}}}",
               &l.rq, "bucket_count");

    Tfevents__Image im = TFEVENTS__IMAGE__INIT;
    uint8_t px[] = {1, 2, 3};
    uint64_t shape[] = {2, 2};
    v.tag = "i";
    v.kind_case = TFEVENTS__VALUE__KIND_IMAGE;
    v.image = &im;
    im.has_pixels_u8 = true, im.pixels_u8.data = px, im.pixels_u8.len = 3;
    im.shape = shape, im.n_shape = 2;
    check_pair("image shape",
               "{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"pixels\":[1,2,3],"
               "\"shape\":[2,2],\"dtype\":\"uint8\"}}}}",
               &l.rq, "image shape holds 4 values but 3 were given");
    ProtobufCBinaryData hello = {5, (uint8_t *)"hello"};
    memset(&im, 0, sizeof im);
    tfevents__image__init(&im);
    im.png = &hello, im.n_png = 1;
    check_pair("png not a PNG",
               "{\"logdir\":\"e\",\"values\":{\"i\":{\"$image\":{\"png\":\"aGVsbG8=\"}}}}",
               &l.rq, "PNG");

    Tfevents__Audio au = TFEVENTS__AUDIO__INIT;
    float s[] = {0.1f};
    v.tag = "a";
    v.kind_case = TFEVENTS__VALUE__KIND_AUDIO;
    v.audio = &au;
    au.samples = s, au.n_samples = 1;
    check_pair("audio without a rate",
               "{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"samples\":[0.1]}}}}", &l.rq,
               "sample_rate");
    au.has_sample_rate = true;
    check_pair("audio rate -3 / 0",
               "{\"logdir\":\"e\",\"values\":{\"a\":{\"$audio\":{\"samples\":[0.1],"
               "\"sample_rate\":-3}}}}",
               &l.rq, "sample_rate");

    Tfevents__Custom cu = TFEVENTS__CUSTOM__INIT;
    double n1[] = {1};
    v.tag = "c";
    v.kind_case = TFEVENTS__VALUE__KIND_CUSTOM;
    v.custom = &cu;
    cu.plugin = "";
    cu.numbers = n1, cu.n_numbers = 1;
    check_pair("custom without plugin",
               "{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"numbers\":[1]}}}}", &l.rq,
               "plugin");
    cu.plugin = "p";
    cu.has_data_class = true, cu.data_class = 7;
    check_pair("custom data_class",
               "{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\","
               "\"numbers\":[1],\"data_class\":\"blob\"}}}}",
               &l.rq, "data_class");
}

static void test_hparams(void)
{
    Tfevents__Request rq = TFEVENTS__REQUEST__INIT;
    Tfevents__HparamsSessionEnd se = TFEVENTS__HPARAMS_SESSION_END__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_SESSION_END;
    rq.hparams_session_end = &se;
    se.logdir = "e";
    se.status = 9;
    check_pair("session status",
               "{\"op\":\"hparams_session_end\",\"logdir\":\"e\",\"status\":\"meh\"}", &rq,
               "\"status\" must be");

    Tfevents__HparamsSessionStart ss = TFEVENTS__HPARAMS_SESSION_START__INIT;
    Tfevents__Hparam hp = TFEVENTS__HPARAM__INIT, *hpp = &hp;
    Tfevents__HparamValue hv = TFEVENTS__HPARAM_VALUE__INIT;
    rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_SESSION_START;
    rq.hparams_session_start = &ss;
    ss.logdir = "e";
    ss.hparams = &hpp, ss.n_hparams = 1;
    hp.name = "x", hp.value = &hv;
    check_pair("hparam value kind",
               "{\"op\":\"hparams_session_start\",\"logdir\":\"e\",\"hparams\":{\"x\":[1]}}",
               &rq, "hparam 'x': must be a number, a string or a boolean");

    Tfevents__HparamsConfig hc = TFEVENTS__HPARAMS_CONFIG__INIT;
    Tfevents__HparamInfo hi = TFEVENTS__HPARAM_INFO__INIT, *hip = &hi;
    rq.op_case = TFEVENTS__REQUEST__OP_HPARAMS_CONFIG;
    rq.hparams_config = &hc;
    hc.logdir = "e";
    hc.hparams = &hip, hc.n_hparams = 1;
    hi.name = "lr", hi.has_min = true, hi.min = 0;
    check_pair("interval without max",
               "{\"op\":\"hparams_config\",\"logdir\":\"e\",\"hparams\":[{\"name\":\"lr\","
               "\"min\":0}]}",
               &rq, "both \"min\" and \"max\"");
    hi.has_min = false, hi.has_type = true, hi.type = 9;
    check_pair("hparam type",
               "{\"op\":\"hparams_config\",\"logdir\":\"e\",\"hparams\":[{\"name\":\"lr\","
               "\"type\":\"complex\"}]}",
               &rq, "\"type\" must be");
}

TEST_MAIN(TEST(test_envelope), TEST(test_values), TEST(test_hparams))
