/* fuzz-b64: the strict base64 decoder (b64_decode) on any bytes. It must
 * never write past b64_decoded_max(len), and what it accepts must be the
 * one spelling of its bytes: encoding them again gives the input, with or
 * without its padding. Then packed arrays (json_packed) carrying the same
 * text as each element type must be accepted exactly when the decoder
 * accepts it and the length fits the type. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"
#include "json_decode.h"

/* Inputs past this are cut: the decoder has no state across groups. */
#define FUZZ_B64_MAX 4096u

static void packed_line(const char *text, size_t len, size_t decoded, bool valid)
{
    static const char *const keys[] = {"u8", "i16", "f32", "f64"};
    static const size_t sizes[] = {1, 2, 4, 8};
    static char line[FUZZ_B64_MAX + 200];
    static const char none[] =
        "{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\",\"numbers\":[]}}}}";
    struct request m;
    char err[REQUEST_ERROR_SIZE];
    request_init(&m);
    int empty = jd_decode(&m, none, sizeof none - 1, err, sizeof err);
    request_done(&m);
    for (size_t t = 0; t < 4; t++) {
        int n = snprintf(line, sizeof line,
                         "{\"logdir\":\"e\",\"values\":{\"c\":{\"$custom\":{\"plugin\":\"p\","
                         "\"numbers\":{\"%s\":\"%.*s\"}}}}}", keys[t], (int)len, text);
        FUZZ_CHECK(n > 0 && (size_t)n < sizeof line);
        request_init(&m);
        int r = jd_decode(&m, line, (size_t)n, err, sizeof err);
        if (valid && decoded == 0)
            FUZZ_CHECK(r == empty);   /* as "numbers": [] */
        else if (valid && decoded % sizes[t] == 0)
            FUZZ_CHECK(r == 0);
        else
            FUZZ_CHECK(r == -EINVAL);
        request_done(&m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = size < FUZZ_B64_MAX ? size : FUZZ_B64_MAX;
    /* A guard byte after the decoder's room catches a write past it. */
    static uint8_t out[FUZZ_B64_MAX + 1];
    static char again[FUZZ_B64_MAX + 8];
    size_t max = b64_decoded_max(len);
    out[max] = 0xa5;
    size_t n = 0;
    int r = b64_decode((const char *)data, len, out, &n);
    FUZZ_CHECK(out[max] == 0xa5);
    FUZZ_CHECK(r == 0 || r == -EINVAL);
    if (r == 0) {
        FUZZ_CHECK(n <= max);
        size_t k = b64_encode(out, n, again);
        FUZZ_CHECK(k == b64_encoded_size(n));
        size_t bare = k;
        while (bare > 0 && again[bare - 1] == '=')
            bare--;
        FUZZ_CHECK(len == k || len == bare);
        FUZZ_CHECK(memcmp(again, data, len) == 0);
    }
    /* Text a JSON string can hold as it is: the packed form's path. */
    bool plain = true;
    for (size_t i = 0; i < len; i++)
        if (data[i] < 0x20 || data[i] >= 0x7f || data[i] == '"' || data[i] == '\\')
            plain = false;
    if (plain)
        packed_line((const char *)data, len, n, r == 0);
    return 0;
}
