/* b64: RFC 4648's vectors, every way a string can be refused, and random
 * round trips held to nettle's encoder, an independent implementation. */
#include <errno.h>
#include <nettle/base64.h>
#include <stdint.h>

#include "b64.h"
#include "test.h"

/* s decoded; -EINVAL or the length, the bytes in out. */
static long decode(const char *s, uint8_t *out)
{
    size_t n = 0;
    int r = b64_decode(s, strlen(s), out, &n);
    if (r < 0)
        return r;
    CHECK(n <= b64_decoded_max(strlen(s)));
    return (long)n;
}

static void rfc4648_vectors(void)
{
    static const struct { const char *plain, *padded, *bare; } v[] = {
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t out[16];
        char enc[16];
        size_t n = strlen(v[i].plain);
        CHECK_EQ(decode(v[i].padded, out), (long)n);
        CHECK(memcmp(out, v[i].plain, n) == 0);
        CHECK_EQ(decode(v[i].bare, out), (long)n);
        CHECK(memcmp(out, v[i].plain, n) == 0);
        size_t k = b64_encode((const uint8_t *)v[i].plain, n, enc);
        CHECK_EQ(k, b64_encoded_size(n));
        enc[k] = '\0';
        CHECK_STR(enc, v[i].padded);
    }
}

static void refused(void)
{
    static const char *const bad[] = {
        "Z",         /* one character holds no byte */
        "Zm9vY",     /* nor does a last group of one */
        "Zg=",       /* padding that does not complete a group */
        "Zg===",
        "Z===",
        "====",
        "=Zg=",
        "Zm=v",      /* '=' inside */
        "Zh==",      /* unused bits set: not the spelling of "f" */
        "Zm9=",
        "Zm 9v",     /* whitespace */
        "Zm9v\n",
        "Zm-v",      /* the URL alphabet */
        "Zm_v",
        "Zm9v\x80YmFy",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        long r = decode(bad[i], out);
        if (r != -EINVAL)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_EQ(r, -EINVAL);
    }
    /* A NUL inside is a character outside the alphabet. */
    uint8_t out[8];
    size_t n;
    CHECK_EQ(b64_decode("Zm\0v", 4, out, &n), -EINVAL);
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Random bytes: ours and nettle's encodings agree, and decode back, with
 * and without the padding. */
static void round_trips(void)
{
    uint32_t seed = 12345;
    uint8_t in[700], back[700];
    char ours[1000], theirs[1000];
    for (int t = 0; t < 20000; t++) {
        size_t n = t < 700 ? (size_t)t : xorshift(&seed) % 700;
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)xorshift(&seed);
        size_t k = b64_encode(in, n, ours);
        struct base64_encode_ctx e;
        base64_encode_init(&e);
        size_t m = base64_encode_update(&e, theirs, n, in);
        m += base64_encode_final(&e, theirs + m);
        CHECK_EQ(k, m);
        CHECK(memcmp(ours, theirs, k) == 0);
        size_t got = 0;
        CHECK_EQ(b64_decode(ours, k, back, &got), 0);
        CHECK_EQ(got, n);
        CHECK(memcmp(back, in, n) == 0);
        size_t bare = k;
        while (bare > 0 && ours[bare - 1] == '=')
            bare--;
        CHECK_EQ(b64_decode(ours, bare, back, &got), 0);
        CHECK_EQ(got, n);
        CHECK(memcmp(back, in, n) == 0);
        CHECK(b64_decoded_max(bare) == n);
    }
}

TEST_MAIN(TEST(rfc4648_vectors), TEST(refused), TEST(round_trips))
