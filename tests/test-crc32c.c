#include <cjson/cJSON.h>
#include <stdint.h>

#include "crc32c.h"
#include "test.h"

/* An independent reference: the definition, one bit at a time. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Vectors that need no shared data: the check value and RFC 3720 B.4. */
static void builtin_vectors(void)
{
    uint8_t buf[32];
    CHECK_EQ(crc32c("123456789", 9), 0xe3069283u);
    CHECK_EQ(crc32c_extend_sw(0, "123456789", 9), 0xe3069283u);
    CHECK_EQ(crc32c("", 0), 0);
    CHECK_EQ(crc32c("a", 1), 0xc1d04330u);

    memset(buf, 0, sizeof buf);
    CHECK_EQ(crc32c(buf, 32), 0x8a9136aau);
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ(crc32c(buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CHECK_EQ(crc32c(buf, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    CHECK_EQ(crc32c(buf, 32), 0x113fdb5cu);

    if (crc32c_hw_available())
        CHECK_EQ(crc32c_extend_hw(0, "123456789", 9), 0xe3069283u);
}

static void mask_unmask(void)
{
    CHECK_EQ(crc32c_mask(0), 0xa282ead8u);
    CHECK_EQ(crc32c_mask(0xe3069283u), 0xc78ab0e5u);
    uint32_t s = 12345;
    for (int i = 0; i < 100000; i++) {
        uint32_t v = xorshift(&s);
        CHECK_EQ(crc32c_unmask(crc32c_mask(v)), v);
    }
}

static uint8_t *hex_decode(const char *hex, size_t *ret_len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    *ret_len = n;
    return out;
}

/* The 1 MiB vector of vectors.json is described, not stored. */
static uint8_t *lcg_buffer(size_t len)
{
    uint8_t *out = malloc(len);
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < len; i++) {
        x = 1103515245u * x + 12345u;
        out[i] = (uint8_t)(x >> 24);
    }
    return out;
}

static void check_one(const char *name, const uint8_t *data, size_t len,
                      uint32_t want, uint32_t want_masked)
{
    uint32_t got_sw = crc32c_extend_sw(0, data, len);
    uint32_t got = crc32c(data, len);
    if (got_sw != want || got != want)
        fprintf(stderr, "vector %s: sw %08x auto %08x want %08x\n", name, got_sw, got, want);
    CHECK_EQ(got_sw, want);
    CHECK_EQ(got, want);
    CHECK_EQ(crc32c_mask(got), want_masked);
    if (crc32c_hw_available())
        CHECK_EQ(crc32c_extend_hw(0, data, len), want);
    /* Split in two: extend continues a CRC. */
    size_t half = len / 3;
    CHECK_EQ(crc32c_extend(crc32c(data, half), data + half, len - half), want);
    CHECK_EQ(crc32c_extend_sw(crc32c_extend_sw(0, data, half), data + half, len - half), want);
}

static void shared_vectors(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        TEST_SKIP("TFEVENTS_SHARED not set or has no golden/: shared CRC vectors not checked");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/crc32c/vectors.json", shared);
    size_t len;
    char *text = test_read_file(path, &len);
    REQUIRE(text);
    cJSON *root = cJSON_ParseWithLength(text, len);
    REQUIRE(root);
    cJSON *vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
    REQUIRE(cJSON_IsArray(vectors));
    int seen = 0, generated = 0;
    cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(v, "name"));
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(v, "hex"));
        const char *crc_s = cJSON_GetStringValue(cJSON_GetObjectItem(v, "crc32c"));
        const char *masked_s = cJSON_GetStringValue(cJSON_GetObjectItem(v, "masked_crc32c"));
        const char *le_s = cJSON_GetStringValue(cJSON_GetObjectItem(v, "masked_crc32c_le_bytes"));
        cJSON *length = cJSON_GetObjectItem(v, "length");
        REQUIRE(name && crc_s && masked_s && cJSON_IsNumber(length));
        uint32_t want = (uint32_t)strtoul(crc_s, NULL, 16);
        uint32_t want_masked = (uint32_t)strtoul(masked_s, NULL, 16);
        uint8_t *data;
        size_t n;
        if (hex) {
            data = hex_decode(hex, &n);
        } else {
            /* Not stored: the generator described in golden/README.md. */
            n = (size_t)length->valuedouble;
            data = lcg_buffer(n);
            static const uint8_t first16[16] = {0x0b, 0x6f, 0x2e, 0x99, 0xa5, 0x77, 0x20, 0x6a,
                                                0x26, 0x93, 0x77, 0xaf, 0x20, 0x25, 0xfb, 0x4e};
            CHECK(n >= 16 && memcmp(data, first16, 16) == 0);
            generated++;
        }
        CHECK_EQ(n, (size_t)length->valuedouble);
        check_one(name, data, n, want, want_masked);
        if (le_s) {
            size_t le_len;
            uint8_t *le = hex_decode(le_s, &le_len);
            uint32_t m = crc32c_mask(crc32c(data, n));
            uint8_t mine[4] = {(uint8_t)m, (uint8_t)(m >> 8), (uint8_t)(m >> 16), (uint8_t)(m >> 24)};
            CHECK(le_len == 4 && memcmp(le, mine, 4) == 0);
            free(le);
        }
        free(data);
        seen++;
    }
    CHECK_EQ(seen, 20);
    CHECK_EQ(generated, 1);
    cJSON_Delete(root);
    free(text);
}

/* Every start alignment and many lengths: sw, hw and bitwise agree. */
static void offsets_and_lengths(void)
{
    enum { MAXLEN = 300, MAXOFF = 16 };
    uint8_t buf[MAXLEN + MAXOFF];
    uint32_t s = 0xdeadbeef;
    bool hw = crc32c_hw_available();
    if (!hw)
        printf("note: no CRC-32C instruction on this CPU; hardware path not compared\n");
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (uint8_t)xorshift(&s);
        for (size_t off = 0; off < MAXOFF; off++) {
            for (size_t len = 0; len <= MAXLEN; len++) {
                uint32_t ref = crc_bitwise(buf + off, len);
                uint32_t sw = crc32c_extend_sw(0, buf + off, len);
                if (sw != ref) {
                    CHECK_EQ(sw, ref);
                    return;
                }
                if (hw) {
                    uint32_t h = crc32c_extend_hw(0, buf + off, len);
                    if (h != ref) {
                        CHECK_EQ(h, ref);
                        return;
                    }
                }
            }
        }
    }
}

/* Buffers long enough for the hardware path's three-stream blocks, at odd
 * offsets and lengths around the block boundaries. */
static void long_buffers(void)
{
    size_t max = 3 * 4096 * 3 + 64;
    uint8_t *buf = malloc(max);
    uint32_t s = 99;
    for (size_t i = 0; i < max; i++)
        buf[i] = (uint8_t)xorshift(&s);
    static const size_t lens[] = {12287, 12288, 12289, 12295, 24575, 24576, 24583,
                                  36863, 36864, 36871};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (size_t off = 0; off < 9; off++) {
            size_t len = lens[li];
            uint32_t ref = crc_bitwise(buf + off, len);
            CHECK_EQ(crc32c_extend_sw(0, buf + off, len), ref);
            CHECK_EQ(crc32c(buf + off, len), ref);
            if (crc32c_hw_available())
                CHECK_EQ(crc32c_extend_hw(0, buf + off, len), ref);
        }
    }
    free(buf);
}

static void hw_path(void)
{
    if (!crc32c_hw_available())
        TEST_SKIP("no CRC-32C instruction on this CPU (SSE4.2): hardware path untested");
    uint8_t *big = lcg_buffer(1 << 20);
    CHECK_EQ(crc32c_extend_hw(0, big, 1 << 20), crc32c_extend_sw(0, big, 1 << 20));
    CHECK_EQ(crc32c_extend_hw(0, big, 1 << 20), 0x4258c35bu);
    free(big);
}

TEST_MAIN(TEST(builtin_vectors), TEST(mask_unmask), TEST(shared_vectors),
          TEST(offsets_and_lengths), TEST(long_buffers), TEST(hw_path))
