/* s3url (s3:// URLs, keys, SigV4 URI encoding, XML fields, credentials
 * files) and s3_config_init (environment, credentials file, endpoint and
 * addressing), table-driven. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "s3.h"
#include "s3url.h"
#include "test.h"

static void test_parse(void)
{
    static const struct {
        const char *url, *bucket, *prefix;   /* bucket NULL: refused */
    } cases[] = {
        {"s3://bkt", "bkt", ""},
        {"s3://bkt/", "bkt", ""},
        {"s3://my.bucket-1/a/b/", "my.bucket-1", "a/b"},
        {"s3://bkt//a", "bkt", "a"},
        {"s3://bkt/job 1/run", "bkt", "job 1/run"},
        {"s3://bk", NULL, NULL},              /* too short */
        {"s3://Bkt/a", NULL, NULL},           /* upper case */
        {"s3://b_k_t/a", NULL, NULL},
        {"http://bkt/a", NULL, NULL},
        {"s3:/bkt", NULL, NULL},
        {"s3://bkt/a//b", NULL, NULL},        /* empty segment */
        {"s3://bkt/a/../b", NULL, NULL},
        {"s3://bkt/./a", NULL, NULL},
        {"s3://bkt/..", NULL, NULL},
        {"", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct s3_location loc;
        int r = s3url_parse(cases[i].url, &loc);
        if (!cases[i].bucket) {
            if (r != -EINVAL)
                fprintf(stderr, "accepted: %s\n", cases[i].url);
            CHECK_EQ(r, -EINVAL);
            continue;
        }
        CHECK_EQ(r, 0);
        CHECK_STR(loc.bucket, cases[i].bucket);
        CHECK_STR(loc.prefix, cases[i].prefix);
    }
    /* A 64-byte bucket name and a prefix past S3's key limit. */
    char url[2200];
    snprintf(url, sizeof url, "s3://%064d", 0);
    struct s3_location loc;
    CHECK_EQ(s3url_parse(url, &loc), -EINVAL);
    snprintf(url, sizeof url, "s3://bkt/%01030d", 0);
    CHECK_EQ(s3url_parse(url, &loc), -EINVAL);
}

static void test_key_encode(void)
{
    char key[S3_MAX_KEY + 1];
    CHECK_EQ(s3url_key(key, sizeof key, "job", "exp/a/events.out.tfevents.1.h.2.3"), 0);
    CHECK_STR(key, "job/exp/a/events.out.tfevents.1.h.2.3");
    CHECK_EQ(s3url_key(key, sizeof key, "", "x"), 0);
    CHECK_STR(key, "x");
    char long_rel[S3_MAX_KEY + 8];
    memset(long_rel, 'a', sizeof long_rel - 1);
    long_rel[sizeof long_rel - 1] = '\0';
    CHECK_EQ(s3url_key(key, sizeof key, "p", long_rel), -ENAMETOOLONG);

    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    const char *s = "a b/c~d_e.f-g+h%=&\xc3\xa9";
    REQUIRE(s3url_encode(&b, s, strlen(s), true) == 0);
    CHECK_STR((const char *)b.data, "a%20b/c~d_e.f-g%2Bh%25%3D%26%C3%A9");
    buf_reset(&b);
    REQUIRE(s3url_encode(&b, "a/b", 3, false) == 0);
    CHECK_STR((const char *)b.data, "a%2Fb");
    buf_free(&b);
}

static void test_xml(void)
{
    const char *xml = "<R><Contents><Key>a&amp;b&lt;c&#x41;&#66;</Key><Size>12</Size></Contents>"
                      "<Contents><Key>d</Key></Contents><IsTruncated>false</IsTruncated></R>";
    size_t pos = 0, len;
    const char *v;
    char out[64];
    REQUIRE(s3url_xml_next(xml, strlen(xml), "Key", &pos, &v, &len) == 1);
    CHECK_EQ(s3url_xml_text(out, sizeof out, v, len), 0);
    CHECK_STR(out, "a&b<cAB");
    REQUIRE(s3url_xml_next(xml, strlen(xml), "Key", &pos, &v, &len) == 1);
    CHECK_EQ(len, 1);
    CHECK_EQ(s3url_xml_next(xml, strlen(xml), "Key", &pos, &v, &len), 0);
    pos = 0;
    CHECK_EQ(s3url_xml_next(xml, strlen(xml), "Missing", &pos, &v, &len), 0);
    /* An element never closed is not found. */
    pos = 0;
    CHECK_EQ(s3url_xml_next("<Key>abc", 8, "Key", &pos, &v, &len), 0);
    CHECK_EQ(s3url_xml_text(out, sizeof out, "&bogus;", 7), -EINVAL);
    CHECK_EQ(s3url_xml_text(out, sizeof out, "&#300;", 6), -EINVAL);
    CHECK_EQ(s3url_xml_text(out, 3, "abc", 3), -ENAMETOOLONG);
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test-s3url.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static void test_credentials(void)
{
    struct s3_credentials c;
    memset(&c, 0, sizeof c);
    char *p = write_tmp("# comment\n[other]\naws_access_key_id = NO\n[default]\n"
                        "aws_access_key_id = AK\nAWS_SECRET_ACCESS_KEY=\"S K\"\n"
                        "region = eu-west-1\nunknown = x\n");
    REQUIRE(p);
    CHECK_EQ(s3url_read_credentials(p, &c), 0);
    CHECK_STR(c.access_key, "AK");
    CHECK_STR(c.secret_key, "S K");
    CHECK_STR(c.region, "eu-west-1");
    CHECK_STR(c.session_token, "");
    unlink(p);
    /* Environment style, as a systemd credential or EnvironmentFile. */
    memset(&c, 0, sizeof c);
    p = write_tmp("export AWS_ACCESS_KEY_ID=K2\nAWS_SESSION_TOKEN='tok'\n"
                  "AWS_ENDPOINT_URL=http://127.0.0.1:9000\n");
    REQUIRE(p);
    CHECK_EQ(s3url_read_credentials(p, &c), 0);
    CHECK_STR(c.access_key, "K2");
    CHECK_STR(c.session_token, "tok");
    CHECK_STR(c.endpoint, "http://127.0.0.1:9000");
    unlink(p);
    p = write_tmp("no equals sign\n");
    REQUIRE(p);
    CHECK_EQ(s3url_read_credentials(p, &c), -EINVAL);
    unlink(p);
    CHECK_EQ(s3url_read_credentials("/nonexistent/creds", &c), -ENOENT);
}

static void test_config(void)
{
    static struct s3_config c;
    char err[256];
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_SESSION_TOKEN");
    setenv("AWS_ACCESS_KEY_ID", "AK", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_REGION");
    REQUIRE(s3_config_init(&c, "s3://bkt/p", NULL, S3_ADDRESSING_AUTO, err, sizeof err) == 0);
    CHECK_STR(c.scheme, "https");
    CHECK_STR(c.host, "s3.us-east-1.amazonaws.com");
    CHECK(!c.path_style);   /* AWS: virtual-host addressing */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
    setenv("AWS_REGION", "eu-central-1", 1);
    REQUIRE(s3_config_init(&c, "s3://bkt/p", NULL, S3_ADDRESSING_AUTO, err, sizeof err) == 0);
    CHECK_STR(c.scheme, "http");
    CHECK_STR(c.host, "127.0.0.1:9000");
    CHECK_STR(c.region, "eu-central-1");
    CHECK(c.path_style);    /* a custom endpoint: path addressing */
    REQUIRE(s3_config_init(&c, "s3://bkt", NULL, S3_ADDRESSING_VIRTUAL, err, sizeof err) == 0);
    CHECK(!c.path_style);
    /* The credentials file wins over the environment. */
    char *p = write_tmp("aws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
    REQUIRE(p);
    REQUIRE(s3_config_init(&c, "s3://bkt", p, S3_ADDRESSING_AUTO, err, sizeof err) == 0);
    CHECK_STR(c.cred.access_key, "FILEKEY");
    unlink(p);
    /* Refusals, each with words. */
    CHECK_EQ(s3_config_init(&c, "s3://B", NULL, S3_ADDRESSING_AUTO, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "s3://") != NULL);
    setenv("AWS_ENDPOINT_URL", "ftp://x", 1);
    CHECK_EQ(s3_config_init(&c, "s3://bkt", NULL, S3_ADDRESSING_AUTO, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "endpoint") != NULL);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK_EQ(s3_config_init(&c, "s3://bkt", NULL, S3_ADDRESSING_AUTO, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "credentials") != NULL);
    CHECK_EQ(s3_addressing_parse("path"), S3_ADDRESSING_PATH);
    CHECK_EQ(s3_addressing_parse("virtual"), S3_ADDRESSING_VIRTUAL);
    CHECK_EQ(s3_addressing_parse("vhost"), -EINVAL);
}

TEST_MAIN(TEST(test_parse), TEST(test_key_encode), TEST(test_xml), TEST(test_credentials),
          TEST(test_config))
