/* notify and activation: the parsers of the service manager's variables
 * (table-driven), then the real thing in-process: a datagram socket bound
 * here receives what notify_send() sends, and a listening socket placed at
 * descriptor 3 is taken by activation_take(). The same tests run in the
 * libsystemd build and in the build without it (-Dsystemd=disabled), which
 * exercises our own implementation of both protocols. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "activation.h"
#include "notify.h"
#include "test.h"

static void test_parse_address(void)
{
    struct sockaddr_un sa;
    socklen_t len = 0;
    CHECK_EQ(notify_parse_address("/run/systemd/notify", &sa, &len), 0);
    CHECK_STR(sa.sun_path, "/run/systemd/notify");
    CHECK_EQ(len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/systemd/notify") + 1);
    CHECK_EQ(sa.sun_family, AF_UNIX);

    /* Abstract: a leading NUL, the name, no terminator counted. */
    CHECK_EQ(notify_parse_address("@abc", &sa, &len), 0);
    CHECK_EQ(sa.sun_path[0], '\0');
    CHECK(memcmp(sa.sun_path + 1, "abc", 3) == 0);
    CHECK_EQ(len, offsetof(struct sockaddr_un, sun_path) + 4);

    static const char *const bad[] = {"", "relative/path", "@", "/", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(notify_parse_address(bad[i], &sa, &len), -EINVAL);
    CHECK_EQ(notify_parse_address(NULL, &sa, &len), -EINVAL);

    /* The longest path that fits sun_path with its NUL, and one more. */
    char p[sizeof sa.sun_path + 2];
    memset(p, 'a', sizeof p);
    p[0] = '/';
    p[sizeof sa.sun_path - 1] = '\0';
    CHECK_EQ(notify_parse_address(p, &sa, &len), 0);
    p[sizeof sa.sun_path - 1] = 'a';
    p[sizeof sa.sun_path] = '\0';
    CHECK_EQ(notify_parse_address(p, &sa, &len), -ENAMETOOLONG);
    /* Abstract names use every byte of sun_path (no terminator). */
    p[0] = '@';
    CHECK_EQ(notify_parse_address(p, &sa, &len), 0);
    CHECK_EQ(len, sizeof sa);
    p[sizeof sa.sun_path] = 'a';
    p[sizeof sa.sun_path + 1] = '\0';
    CHECK_EQ(notify_parse_address(p, &sa, &len), -ENAMETOOLONG);
}

static void test_parse_watchdog(void)
{
    static const struct {
        const char *usec, *pid;
        int want;
        uint64_t usec_want;
    } cases[] = {
        {"200000", NULL, 1, 200000},
        {"200000", "4242", 1, 200000},   /* our pid */
        {"200000", "4243", 0, 0},        /* another process's */
        {NULL, NULL, 0, 0},
        {NULL, "4242", 0, 0},
        {"0", NULL, -EINVAL, 0},
        {"-5", NULL, -EINVAL, 0},
        {"12x", NULL, -EINVAL, 0},
        {"", NULL, -EINVAL, 0},
        {" 5", NULL, -EINVAL, 0},
        {"99999999999999999999999", NULL, -EINVAL, 0},
        {"200000", "abc", -EINVAL, 0},
        {"200000", "0", -EINVAL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t u = 0;
        int r = notify_parse_watchdog(cases[i].usec, cases[i].pid, 4242, &u);
        if (r != cases[i].want)
            fprintf(stderr, "case %zu: %s %s\n", i, cases[i].usec ? cases[i].usec : "-",
                    cases[i].pid ? cases[i].pid : "-");
        CHECK_EQ(r, cases[i].want);
        if (r == 1)
            CHECK_EQ(u, cases[i].usec_want);
    }
}

static void test_activation_parse(void)
{
    static const struct {
        const char *pid, *fds;
        int want;
    } cases[] = {
        {"4242", "1", 1},
        {"4242", "3", 3},
        {"4242", "0", 0},
        {"4243", "1", 0},    /* meant for another process */
        {NULL, "1", 0},
        {"4242", NULL, 0},
        {"4242", "x", -EINVAL},
        {"4242", "-1", -EINVAL},
        {"4242", "", -EINVAL},
        {"abc", "1", -EINVAL},
        {"0", "1", -EINVAL},
        {"4242", "65", -E2BIG},  /* past ACTIVATION_MAX_FDS */
        {"4242", "4294967297", -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = activation_parse(cases[i].pid, cases[i].fds, 4242);
        if (r != cases[i].want)
            fprintf(stderr, "case %zu\n", i);
        CHECK_EQ(r, cases[i].want);
    }
}

static void test_activation_name(void)
{
    char n[8];
    activation_name("a.socket:b:", 0, n, sizeof n);
    CHECK_STR(n, "a.socke");   /* cut to the buffer */
    activation_name("a.socket:b:", 1, n, sizeof n);
    CHECK_STR(n, "b");
    activation_name("a.socket:b:", 2, n, sizeof n);
    CHECK_STR(n, "");
    activation_name("a.socket:b:", 3, n, sizeof n);
    CHECK_STR(n, "");
    activation_name(NULL, 0, n, sizeof n);
    CHECK_STR(n, "");
}

/* A datagram socket at a fresh path; returns the fd, fills path. */
static int bind_dgram(char *path, size_t size)
{
    snprintf(path, size, "/tmp/tfev-notify.%ld.sock", (long)getpid());
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void test_notify_send(void)
{
    char path[108];
    int rx = bind_dgram(path, sizeof path);
    REQUIRE(rx >= 0);
    setenv("NOTIFY_SOCKET", path, 1);
    struct notify n;
    CHECK_EQ(notify_open(&n), 1);
    CHECK_EQ(notify_send(&n, "READY=1\nSTATUS=%d clients", 3), 0);
    char buf[256];
    ssize_t got = recv(rx, buf, sizeof buf - 1, MSG_DONTWAIT);
    CHECK(got > 0);
    if (got > 0) {
        buf[got] = '\0';
        CHECK_STR(buf, "READY=1\nSTATUS=3 clients");
    }
    /* Too long to be one of ours: refused, nothing sent. */
    char big[NOTIFY_MAX_MESSAGE + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ(notify_send(&n, "STATUS=%s", big), -EMSGSIZE);
    CHECK(recv(rx, buf, sizeof buf, MSG_DONTWAIT) < 0);
    notify_close(&n);
    CHECK(getenv("NOTIFY_SOCKET") == NULL);
    notify_close(&n);   /* idempotent */
    close(rx);
    unlink(path);

    /* No manager: nothing to do, and sending is a no-op. */
    unsetenv("NOTIFY_SOCKET");
    CHECK_EQ(notify_open(&n), 0);
    CHECK_EQ(notify_send(&n, "READY=1"), 0);
    notify_close(&n);
    setenv("NOTIFY_SOCKET", "relative", 1);
    CHECK_EQ(notify_open(&n), -EINVAL);
    CHECK_EQ(notify_send(&n, "READY=1"), 0);
    notify_close(&n);
    notify_close(NULL);
}

static void test_notify_watchdog_env(void)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_USEC", "300000", 1);
    setenv("WATCHDOG_PID", pid, 1);
    uint64_t u = 0;
    CHECK_EQ(notify_watchdog(&u), 1);
    CHECK_EQ(u, 300000);
    CHECK(getenv("WATCHDOG_USEC") == NULL);
    CHECK(getenv("WATCHDOG_PID") == NULL);
    CHECK_EQ(notify_watchdog(&u), 0);
}

static void test_activation_take(void)
{
    /* A listening socket at descriptor 3, as a manager would pass it. */
    char path[108];
    snprintf(path, sizeof path, "/tmp/tfev-act.%ld.sock", (long)getpid());
    unlink(path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    REQUIRE(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    REQUIRE(listen(s, 4) == 0);
    int saved3 = fcntl(ACTIVATION_FD_START, F_DUPFD_CLOEXEC, 10);   /* -1 if 3 was free */
    if (s != ACTIVATION_FD_START) {
        REQUIRE(dup2(s, ACTIVATION_FD_START) == ACTIVATION_FD_START);
        close(s);
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_FDNAMES", "tfeventsd.socket", 1);
    int fd = -1;
    char name[ACTIVATION_MAX_NAME + 1];
    CHECK_EQ(activation_take(&fd, name, sizeof name), 1);
    CHECK_EQ(fd, ACTIVATION_FD_START);
    CHECK_STR(name, "tfeventsd.socket");
    CHECK(fcntl(ACTIVATION_FD_START, F_GETFD) & FD_CLOEXEC);
    CHECK(getenv("LISTEN_PID") == NULL);
    CHECK(getenv("LISTEN_FDS") == NULL);
    CHECK(getenv("LISTEN_FDNAMES") == NULL);
    /* Read once: a second look finds nothing. */
    CHECK_EQ(activation_take(&fd, name, sizeof name), 0);

    /* Not a listening socket: refused. */
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(d >= 0);
    REQUIRE(dup2(d, ACTIVATION_FD_START) == ACTIVATION_FD_START);
    close(d);
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    unsetenv("LISTEN_FDNAMES");
    CHECK_EQ(activation_take(&fd, name, sizeof name), -ENOTSOCK);

    /* For another process: ignored, and still cleared. */
    setenv("LISTEN_PID", "1", 1);
    setenv("LISTEN_FDS", "1", 1);
    CHECK_EQ(activation_take(&fd, name, sizeof name), 0);
    CHECK(getenv("LISTEN_FDS") == NULL);

    close(ACTIVATION_FD_START);
    if (saved3 >= 0) {
        dup2(saved3, ACTIVATION_FD_START);
        close(saved3);
    }
    unlink(path);
}

TEST_MAIN(TEST(test_parse_address), TEST(test_parse_watchdog), TEST(test_activation_parse),
          TEST(test_activation_name), TEST(test_notify_send), TEST(test_notify_watchdog_env),
          TEST(test_activation_take))
