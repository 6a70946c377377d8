/* projector: config text round trip and merge, TSV formatting, the
 * checks of an embedding, and projector_write() in a temporary directory
 * (files, a second embedding added, a replaced one, symbolic links). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png.h"
#include "projector.h"
#include "test.h"

static char *slurp(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDONLY);
    if (fd < 0)
        return NULL;
    static char text[1 << 16];
    ssize_t k = read(fd, text, sizeof text - 1);
    close(fd);
    if (k < 0)
        return NULL;
    text[k] = '\0';
    return text;
}

static void test_tensor_tsv(void)
{
    const float v[] = {0.0f, 1.5f, -0.25f, 0.1f, 1e-8f, 3e20f};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK_EQ(projector_tensor_tsv(&b, v, 2, 3), 0);
    REQUIRE(buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "0\t1.5\t-0.25\n0.1\t1e-08\t3e+20\n");
    /* Every number reads back as the same float. */
    char *p = (char *)b.data;
    for (int i = 0; i < 6; i++) {
        char *end;
        CHECK(strtof(p, &end) == v[i]);
        p = end + 1;
    }
    buf_free(&b);
}

static void test_metadata_tsv(void)
{
    char *hdr[] = {"label", "color"}, *cells[] = {"w0", "red", "w1", "green"};
    struct projector_embedding e = {.rows = 2, .cols = 1, .header = hdr, .n_header = 2,
                                    .cells = cells, .n_cells = 4};
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK_EQ(projector_metadata_tsv(&b, &e), 0);
    REQUIRE(buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "label\tcolor\nw0\tred\nw1\tgreen\n");
    /* One column: no header row even when one was named. */
    char *one[] = {"a", "b"};
    struct projector_embedding f = {.rows = 2, .cols = 1, .header = hdr, .n_header = 1,
                                    .cells = one, .n_cells = 2};
    b.len = 0;
    CHECK_EQ(projector_metadata_tsv(&b, &f), 0);
    REQUIRE(buf_append(&b, "", 1) == 0);
    CHECK_STR((char *)b.data, "a\nb\n");
    buf_free(&b);
}

static void test_check(void)
{
    float v[4] = {0};
    char err[256];
    char *cells[] = {"a", "b\tc"};
    struct projector_embedding e = {.tag = "emb", .rows = 2, .cols = 2, .tensor = v};
    CHECK_EQ(projector_check(&e, err, sizeof err), 0);
    const char *bad_tags[] = {"", "../x", "a/b", ".hidden", "a:b", "a\nb", "a\\b"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof *bad_tags; i++) {
        e.tag = (char *)bad_tags[i];
        CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);
    }
    e.tag = "emb";
    e.cells = cells;
    e.n_cells = 2;
    CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);   /* a tab in a cell */
    CHECK(strstr(err, "tab") != NULL);
    e.n_cells = 1;
    CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);   /* too few cells */
    e.n_cells = 0;
    e.rows = PROJECTOR_MAX_VALUES;
    CHECK_EQ(projector_check(&e, err, sizeof err), -EMSGSIZE);
    e.rows = 2;
    v[3] = NAN;
    CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);
    v[3] = 0;
    e.step = -1;
    CHECK_EQ(projector_check(&e, err, sizeof err), -ERANGE);
    e.step = 0;
    /* A sprite: PNG only, big enough for a grid of one image per point. */
    struct buf png;
    buf_init(&png, BUF_NO_CAP);
    uint8_t px[4 * 4 * 3] = {0};
    REQUIRE(png_encode(&png, px, 4, 4, 3) == 0);
    e.sprite = png.data;
    e.sprite_len = png.len;
    e.sprite_dim[0] = e.sprite_dim[1] = 2;
    CHECK_EQ(projector_check(&e, err, sizeof err), 0);
    e.sprite_dim[0] = 3;   /* 2 x 2 grid of 3-wide images: 6 > 4 */
    CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);
    e.sprite_dim[0] = 2;
    e.sprite_len = 10;
    CHECK_EQ(projector_check(&e, err, sizeof err), -EINVAL);
    buf_free(&png);
}

static void test_config_text(void)
{
    const char *text = "# a comment\nmodel_checkpoint_path: \"m.ckpt\"\n"
                       "embeddings {\n tensor_name: \"words\"\n metadata_path: 'meta\\\"x.tsv'\n"
                       " tensor_shape: 5 tensor_shape: 4\n tensor_path: \"tensors.tsv\"\n"
                       " sprite: { image_path: \"s.png\" single_image_dim: 8, single_image_dim: 9 }\n"
                       "}\n";
    struct projector_config c = {0};
    CHECK_EQ(projector_config_parse(&c, text, strlen(text)), 0);
    REQUIRE(c.n == 1);
    CHECK_STR(c.checkpoint_path, "m.ckpt");
    CHECK_STR(c.entries[0].tensor_name, "words");
    CHECK_STR(c.entries[0].metadata_path, "meta\"x.tsv");
    CHECK_STR(c.entries[0].sprite_path, "s.png");
    CHECK_EQ(c.entries[0].n_shape, 2u);
    CHECK_EQ(c.entries[0].shape[1], 4u);
    CHECK_EQ(c.entries[0].sprite_dim[1], 9u);
    /* Our text parses back to the same config. */
    struct buf b;
    buf_init(&b, BUF_NO_CAP);
    CHECK_EQ(projector_config_text(&b, &c), 0);
    struct projector_config d = {0};
    CHECK_EQ(projector_config_parse(&d, (char *)b.data, b.len), 0);
    REQUIRE(d.n == 1);
    CHECK_STR(d.entries[0].metadata_path, "meta\"x.tsv");
    CHECK_EQ(d.entries[0].sprite_dim[0], 8u);
    /* put: a new name is added, the same name replaced. */
    struct projector_entry e = {.tensor_name = "other", .tensor_path = "o.tsv"};
    CHECK_EQ(projector_config_put(&d, &e), 0);
    CHECK_EQ(d.n, 2u);
    e.tensor_name = "words";
    CHECK_EQ(projector_config_put(&d, &e), 0);
    CHECK_EQ(d.n, 2u);
    CHECK_STR(d.entries[0].tensor_path, "o.tsv");
    CHECK(d.entries[0].metadata_path == NULL);
    /* Unknown fields are not dropped silently; bad syntax is refused. */
    const char *unknown = "embeddings { tensor_name: \"a\" bookmarks_path: \"b\" }";
    CHECK_EQ(projector_config_parse(&d, unknown, strlen(unknown)), -EPROTO);
    const char *broken = "embeddings { tensor_name: \"a }";
    CHECK_EQ(projector_config_parse(&d, broken, strlen(broken)), -EBADMSG);
    CHECK_EQ(d.n, 0u);
    /* No text at all (the fuzzer's empty input): an empty config, no
     * arithmetic on the NULL pointer (UBSan). */
    CHECK_EQ(projector_config_parse(&d, NULL, 0), 0);
    CHECK_EQ(d.n, 0u);
    buf_free(&b);
    projector_config_done(&c);
    projector_config_done(&d);
}

/* The config TensorBoard's projector read in the golden fixture parses, and
 * a merge into it keeps its entry. */
static void test_golden_config(void)
{
    const char *shared = getenv("TFEVENTS_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/dashboards/projector", shared ? shared : "");
    int dir = shared ? open(path, O_RDONLY | O_DIRECTORY) : -1;
    if (dir < 0)
        TEST_SKIP("golden/dashboards/projector absent (TFEVENTS_SHARED)");
    char *text = slurp(dir, PROJECTOR_CONFIG_NAME);
    close(dir);
    REQUIRE(text != NULL);
    struct projector_config c = {0};
    CHECK_EQ(projector_config_parse(&c, text, strlen(text)), 0);
    REQUIRE(c.n == 1);
    CHECK_STR(c.entries[0].tensor_name, "words");
    CHECK_STR(c.entries[0].tensor_path, "tensors.tsv");
    CHECK_STR(c.entries[0].metadata_path, "metadata.tsv");
    CHECK_EQ(c.entries[0].n_shape, 2u);
    CHECK_EQ(c.entries[0].shape[0], 5u);
    CHECK_EQ(c.entries[0].shape[1], 4u);
    struct projector_entry e = {.tensor_name = "more:00001", .tensor_path = "t.tsv"};
    CHECK_EQ(projector_config_put(&c, &e), 0);
    CHECK_EQ(c.n, 2u);
    CHECK_STR(c.entries[0].tensor_name, "words");
    projector_config_done(&c);
}

static void test_write(void)
{
    char root[] = "/tmp/tfproj.XXXXXX";
    REQUIRE(mkdtemp(root) != NULL);
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
    float v[6] = {1, 2, 3, 4, 5, 6.5f};
    char *cells[] = {"x", "y"};
    struct projector_embedding e = {.tag = "emb", .step = 3, .rows = 2, .cols = 3,
                                    .tensor = v, .cells = cells, .n_cells = 2};
    CHECK_EQ(projector_write(fd, &e), 0);
    int dir = openat(fd, "00003/emb", O_RDONLY | O_DIRECTORY);
    REQUIRE(dir >= 0);
    CHECK_STR(slurp(dir, "tensors.tsv"), "1\t2\t3\n4\t5\t6.5\n");
    CHECK_STR(slurp(dir, "metadata.tsv"), "x\ny\n");
    close(dir);
    e.step = 10;
    e.n_cells = 0;
    CHECK_EQ(projector_write(fd, &e), 0);
    char *text = slurp(fd, PROJECTOR_CONFIG_NAME);
    REQUIRE(text != NULL);
    struct projector_config c = {0};
    CHECK_EQ(projector_config_parse(&c, text, strlen(text)), 0);
    REQUIRE(c.n == 2);
    CHECK_STR(c.entries[0].tensor_name, "emb:00003");
    CHECK_STR(c.entries[0].metadata_path, "00003/emb/metadata.tsv");
    CHECK_STR(c.entries[1].tensor_name, "emb:00010");
    CHECK_STR(c.entries[1].tensor_path, "00010/emb/tensors.tsv");
    CHECK(c.entries[1].metadata_path == NULL);
    /* The same step again replaces its entry. */
    CHECK_EQ(projector_write(fd, &e), 0);
    text = slurp(fd, PROJECTOR_CONFIG_NAME);
    CHECK_EQ(projector_config_parse(&c, text, strlen(text)), 0);
    CHECK_EQ(c.n, 2u);
    projector_config_done(&c);
    /* A link planted as a step directory is not followed. */
    char target[64];
    snprintf(target, sizeof target, "%s/00003", root);
    CHECK_EQ(symlinkat(target, fd, "00011"), 0);
    e.step = 11;
    CHECK_EQ(projector_write(fd, &e), -ELOOP);
    /* Nor a config that is a link. */
    CHECK_EQ(unlinkat(fd, PROJECTOR_CONFIG_NAME, 0), 0);
    CHECK_EQ(symlinkat("/etc/hostname", fd, PROJECTOR_CONFIG_NAME), 0);
    e.step = 12;
    CHECK_EQ(projector_write(fd, &e), -ELOOP);
    /* No temporary file left behind. */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s -name '.*tmp*')\"", root);
    CHECK_EQ(system(cmd), 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    CHECK_EQ(system(cmd), 0);
}

TEST_MAIN(TEST(test_tensor_tsv), TEST(test_metadata_tsv), TEST(test_check),
          TEST(test_config_text), TEST(test_golden_config), TEST(test_write))
