/* fuzz-wav: WAV header parsing (wav_parse_header) and the paths a WAV blob
 * takes: summary_audio_wav() must accept exactly the blobs the parser
 * accepts, and the value it builds must read back (value_decode()) as one
 * clip with the parser's sample rate, channels and frames. value_wav_info(),
 * the reader's own header walk, must not crash on any blob. */
#include <errno.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "summary.h"
#include "value.h"
#include "wav.h"

static void check_audio_value(const struct summary_value *sv, const struct wav_info *info)
{
    struct buf values, event;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&event, BUF_NO_CAP);
    FUZZ_CHECK(summary_value_encode(&values, sv, true) == 0);
    FUZZ_CHECK(event_encode_summary(&event, 1.0, 0, values.data, values.len) == 0);
    Tensorboard__Event *ev;
    FUZZ_CHECK(event_unpack(event.data, event.len, &ev) == 0);
    FUZZ_CHECK(ev->summary && ev->summary->n_value == 1);
    struct decoded_value v;
    value_init(&v);
    FUZZ_CHECK(value_decode(ev->summary->value[0], NULL, NULL, &v) == 0);
    FUZZ_CHECK(v.kind == VALUE_AUDIO && v.n_clips == 1);
    /* The reader's header walk and ours agree on what a WAV file says. */
    if (v.clips[0].is_wav) {
        FUZZ_CHECK(v.clips[0].sample_rate == info->sample_rate);
        FUZZ_CHECK(v.clips[0].channels == info->channels);
    }
    value_done(&v);
    event_free(ev);
    buf_free(&values);
    buf_free(&event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wav_info info;
    memset(&info, 0, sizeof info);
    int r = wav_parse_header(data, size, &info);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(info.channels > 0 && info.sample_rate > 0 && info.bits_per_sample > 0);
        FUZZ_CHECK(info.data_offset <= size);
        FUZZ_CHECK(info.data_len <= size - info.data_offset);
        size_t align = (size_t)info.channels * info.bits_per_sample / 8;
        FUZZ_CHECK(align > 0);
        FUZZ_CHECK(info.frames <= info.data_len / align);
    }

    struct value_clip clip;
    memset(&clip, 0, sizeof clip);
    int vr = value_wav_info(data, size, &clip);
    FUZZ_CHECK(vr == 0 || vr == -EBADMSG);

    struct summary_value sv;
    summary_value_init(&sv);
    struct summary_bytes blob = {data, size};
    int sr = summary_audio_wav(&sv, "fuzz/audio", &blob, 1, NULL);
    FUZZ_CHECK((sr == 0) == (r == 0));
    FUZZ_CHECK(sr == 0 || sr == -EINVAL);
    if (sr == 0)
        check_audio_value(&sv, &info);
    else
        FUZZ_CHECK(sv.tag.len == 0 && sv.body.len == 0 && sv.metadata.len == 0);
    summary_value_done(&sv);
    return 0;
}
