#include <errno.h>

#include "strmap.h"
#include "test.h"

static void test_put_get_remove(void)
{
    struct strmap m;
    strmap_init(&m);
    char key[32];
    const unsigned n = 5000;
    for (unsigned i = 0; i < n; i++) {
        struct strmap_entry *e;
        int len = snprintf(key, sizeof key, "k%u", i);
        REQUIRE(strmap_put(&m, key, (size_t)len, &e) == 1);
        e->val.i64 = i;
    }
    CHECK_EQ(m.count, n);
    /* Putting again finds the same entry. */
    struct strmap_entry *e;
    CHECK_EQ(strmap_put(&m, "k7", 2, &e), 0);
    CHECK_EQ(e->val.i64, 7);
    /* Remove every third key: backward-shift deletion must keep the others
     * reachable. */
    for (unsigned i = 0; i < n; i += 3) {
        int len = snprintf(key, sizeof key, "k%u", i);
        CHECK_EQ(strmap_remove(&m, key, (size_t)len), 1);
    }
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, "k%u", i);
        e = strmap_get(&m, key, (size_t)len);
        if (i % 3 == 0) {
            CHECK(e == NULL);
        } else {
            REQUIRE(e != NULL);
            CHECK_EQ(e->val.i64, i);
        }
    }
    CHECK_EQ(strmap_remove(&m, "k0", 2), 0);
    CHECK_EQ(strmap_remove(&m, "absent", 6), 0);
    strmap_done(&m);
    strmap_done(&m);   /* NULL-safe and idempotent */
}

/* Keys are byte strings: "a\0b" and "a\0c" and "a" are three keys. */
static void test_binary_keys(void)
{
    struct strmap m;
    strmap_init(&m);
    struct strmap_entry *e;
    CHECK_EQ(strmap_put(&m, "a\0b", 3, &e), 1);
    CHECK_EQ(strmap_put(&m, "a\0c", 3, &e), 1);
    CHECK_EQ(strmap_put(&m, "a", 1, &e), 1);
    CHECK_EQ(m.count, 3);
    CHECK(strmap_get(&m, "a\0b", 3) != NULL);
    CHECK(strmap_get(&m, "a\0d", 3) == NULL);
    strmap_clear(&m);
    CHECK_EQ(m.count, 0);
    CHECK(strmap_get(&m, "a", 1) == NULL);
    CHECK_EQ(strmap_put(&m, "a", 1, &e), 1);
    strmap_done(&m);
}

/* strmap_bytes_equal() (overlapping loads, or first/middle/last byte for
 * short keys) against memcmp(): every length up to 40, a difference at
 * every position, and equal keys. */
static void test_bytes_equal(void)
{
    unsigned char a[48], b[48];
    for (size_t n = 0; n <= 40; n++) {
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (unsigned char)('a' + (i * 7) % 26);
        CHECK(strmap_bytes_equal(a, b, n));
        for (size_t pos = 0; pos < n; pos++) {
            b[pos] ^= 0x20;
            CHECK(!strmap_bytes_equal(a, b, n));
            CHECK_EQ(strmap_bytes_equal(a, b, n), memcmp(a, b, n) == 0);
            b[pos] ^= 0x20;
        }
        /* A difference past n is not looked at. */
        a[n] = 1;
        b[n] = 2;
        CHECK(strmap_bytes_equal(a, b, n));
    }
}

TEST_MAIN(TEST(test_put_get_remove), TEST(test_binary_keys), TEST(test_bytes_equal))
