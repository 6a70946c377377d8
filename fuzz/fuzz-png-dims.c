/* fuzz-png-dims: the PNG/JPEG and GIF size sniffers (png_sniff,
 * gif_sniff) behind summary_image_encoded(). The builder must accept exactly the blobs the
 * sniffer can size, report that size, and refuse a caller's size that
 * disagrees with it; the value must read back (value_decode()) as one
 * image of that width and height. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "gif.h"
#include "summary.h"
#include "value.h"

static void check_image_value(const struct summary_value *sv, uint32_t w, uint32_t h)
{
    struct buf values, event;
    buf_init(&values, BUF_NO_CAP);
    buf_init(&event, BUF_NO_CAP);
    FUZZ_CHECK(summary_value_encode(&values, sv, true) == 0);
    FUZZ_CHECK(event_encode_summary(&event, 1.0, 0, values.data, values.len) == 0);
    Tensorboard__Event *ev;
    FUZZ_CHECK(event_unpack(event.data, event.len, &ev) == 0);
    struct decoded_value v;
    value_init(&v);
    FUZZ_CHECK(value_decode(ev->summary->value[0], NULL, NULL, &v) == 0);
    FUZZ_CHECK(v.kind == VALUE_IMAGE && v.n_strings == 3);
    char ws[16], hs[16];
    snprintf(ws, sizeof ws, "%" PRIu32, w);
    snprintf(hs, sizeof hs, "%" PRIu32, h);
    FUZZ_CHECK(v.strings[0].len == strlen(ws) && memcmp(v.strings[0].data, ws, strlen(ws)) == 0);
    FUZZ_CHECK(v.strings[1].len == strlen(hs) && memcmp(v.strings[1].data, hs, strlen(hs)) == 0);
    value_done(&v);
    event_free(ev);
    buf_free(&values);
    buf_free(&event);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t w = 0, h = 0;
    int r = png_sniff(data, size, &w, &h);
    FUZZ_CHECK(r == PNG_FORMAT_PNG || r == PNG_FORMAT_JPEG || r == -EINVAL);
    if (r > 0)
        FUZZ_CHECK(w > 0 && h > 0);
    else if (gif_sniff(data, size, &w, &h) == 0)
        r = 1;   /* a GIF: its logical screen size */

    struct summary_value sv;
    summary_value_init(&sv);
    struct summary_bytes blob = {data, size};
    int sr = summary_image_encoded(&sv, "fuzz/image", &blob, 1, 0, 0, NULL);
    FUZZ_CHECK(sr == 0 || sr == -EINVAL);
    FUZZ_CHECK((sr == 0) == (r > 0));
    if (sr == 0) {
        check_image_value(&sv, w, h);
        /* The caller's size must match what the blob says. */
        FUZZ_CHECK(summary_image_encoded(&sv, "fuzz/image", &blob, 1, w, h, NULL) == 0);
        FUZZ_CHECK(summary_image_encoded(&sv, "fuzz/image", &blob, 1, w + 1, h, NULL) ==
                   -EINVAL);
        FUZZ_CHECK(sv.tag.len == 0 && sv.body.len == 0);
    }
    summary_value_done(&sv);
    return 0;
}
