/* upload_journal: the queue rebuilt from the files on disk and the
 * journal, across "restarts" (reopening), a cut-off last line, files
 * removed or grown, and another destination. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "upload_journal.h"

static char root[64], jpath[128];

static void put(const char *rel, const char *data)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0777);
    *slash = '/';
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(data, f);
        fclose(f);
    }
}

/* Open, return the queued paths joined by ',' (sorted), close. */
static int todo(const char *dest, char *out, size_t size, struct upload_journal **keep)
{
    struct upload_journal *j;
    struct upload_file *v;
    size_t n;
    bool trunc;
    int r = upload_journal_open(&j, jpath, dest, root, &v, &n, &trunc);
    if (r < 0)
        return r;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", v[i].rel);
        free(v[i].rel);
    }
    free(v);
    if (keep)
        *keep = j;
    else
        upload_journal_close(j);
    return (int)n;
}

static void test_rebuild(void)
{
    snprintf(root, sizeof root, "/tmp/test-uj.XXXXXX");
    REQUIRE(mkdtemp(root));
    snprintf(jpath, sizeof jpath, "%s/.upload-journal", root);
    put("a/events.out.tfevents.1.h.1.0", "one");
    put("a/b/events.out.tfevents.2.h.1.1", "two");
    put("a/not-an-event-file", "x");
    put("c/events.out.tfevents.3.h.1.2", "three");
    char q[1024];
    struct upload_journal *j;
    /* Nothing uploaded yet: every event file, sorted; not the journal. */
    REQUIRE(todo("D", q, sizeof q, &j) == 3);
    CHECK_STR(q, "a/b/events.out.tfevents.2.h.1.1,a/events.out.tfevents.1.h.1.0,"
                 "c/events.out.tfevents.3.h.1.2");
    CHECK_EQ(upload_journal_add(j, "a/events.out.tfevents.1.h.1.0", 3), 0);
    CHECK_EQ(upload_journal_add(j, "c/events.out.tfevents.3.h.1.2", 5), 0);
    upload_journal_close(j);
    /* After a restart only the third is left. */
    CHECK_EQ(todo("D", q, sizeof q, NULL), 1);
    CHECK_STR(q, "a/b/events.out.tfevents.2.h.1.1");
    /* A crash in the middle of a line: that line does not count. */
    int fd = open(jpath, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    const char *cut = "3 a/b/events.out.tfevents.2.h.1.1";
    CHECK_EQ(write(fd, cut, strlen(cut)), (ssize_t)strlen(cut));
    close(fd);
    CHECK_EQ(todo("D", q, sizeof q, NULL), 1);
    /* A file whose size differs from the journal's is uploaded again;
     * an entry whose file is gone is dropped. */
    put("a/events.out.tfevents.1.h.1.0", "one more");
    char p[256];
    snprintf(p, sizeof p, "%s/c/events.out.tfevents.3.h.1.2", root);
    unlink(p);
    CHECK_EQ(todo("D", q, sizeof q, NULL), 2);
    /* Another destination: everything again. */
    CHECK_EQ(todo("E", q, sizeof q, NULL), 2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -r %s", root);
    CHECK_EQ(system(cmd), 0);
}

TEST_MAIN(TEST(test_rebuild))
