/* log_escape (daemon/log.c): what a client sent cannot start a log line,
 * move the cursor or hide itself; table-driven, plus truncation never
 * cuts an escape or a character in half. */
#include <string.h>

#include "log.h"
#include "test.h"

static void test_table(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain text", "plain text"},
        {"a\nb", "a\\nb"},
        {"cr\rlf\n", "cr\\rlf\\n"},
        {"tab\there", "tab\\there"},
        {"back\\slash", "back\\\\slash"},
        {"\x1b[31mred", "\\x1b[31mred"},
        {"del\x7f", "del\\x7f"},
        {"bell\x07", "bell\\x07"},
        {"bad \xff\xfe utf8", "bad \\xff\\xfe utf8"},
        {"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
        {"cut \xe2\x82", "cut \\xe2\\x82"},
        {"csi \xc2\x9b", "csi \\u009b"},
        {"euro \xe2\x82\xac ok", "euro \xe2\x82\xac ok"},
        {"emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[LOG_ESCAPED_MAX(64)];
        size_t n = log_escape(cases[i].in, out, sizeof out);
        CHECK_STR(out, cases[i].want);
        CHECK_EQ(n, strlen(cases[i].want));
    }
}

static void test_truncation(void)
{
    char out[6];
    /* "ab" then "\n" needs 2 more: "ab\n" is 4 chars, fits in 6 with NUL. */
    CHECK_EQ(log_escape("ab\ncd", out, sizeof out), 5u);
    CHECK_STR(out, "ab\\nc");
    /* An escape that does not fit is left out whole. */
    CHECK_EQ(log_escape("abc\x1b", out, sizeof out), 3u);
    CHECK_STR(out, "abc");
    /* So is a character. */
    CHECK_EQ(log_escape("abc\xe2\x82\xac", out, sizeof out), 3u);
    CHECK_STR(out, "abc");
    CHECK_EQ(log_escape("abcd\xe2\x82\xac", out, 1), 0u);
    CHECK_STR(out, "");
    /* The worst case fits LOG_ESCAPED_MAX. */
    char in[33], big[LOG_ESCAPED_MAX(32)];
    memset(in, 0xff, 32);
    in[32] = '\0';
    CHECK_EQ(log_escape(in, big, sizeof big), 128u);
}

TEST_MAIN(TEST(test_table), TEST(test_truncation))
