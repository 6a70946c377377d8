#include "tcp_auth.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int random_token(char token[TCP_AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[TCP_AUTH_TOKEN_LEN / 2];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        token[2 * i] = hex[raw[i] >> 4];
        token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[TCP_AUTH_TOKEN_LEN] = '\0';
    return 0;
}

int tcp_auth_create(const char *path, gid_t gid, bool group_read,
                    char token[TCP_AUTH_TOKEN_LEN + 1], const char **what)
{
    *what = "getrandom";
    int r = random_token(token);
    if (r < 0)
        return r;
    /* A new inode each start: a reader that opened the old file keeps the
     * old (now useless) token, and nobody else's file is written into. */
    *what = "unlink";
    if (unlink(path) < 0 && errno != ENOENT)
        return -errno;
    *what = "open";
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* The group first, the group's read bit after: never readable by a
     * group other than the socket's. */
    *what = "fchown";
    if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0 && errno != EPERM)
        goto fail;
    *what = "fchmod";
    if (group_read && fchmod(fd, 0640) < 0)
        goto fail;
    *what = "write";
    char line[TCP_AUTH_TOKEN_LEN + 2];
    memcpy(line, token, TCP_AUTH_TOKEN_LEN);
    line[TCP_AUTH_TOKEN_LEN] = '\n';
    if (write(fd, line, sizeof line - 1) != (ssize_t)(sizeof line - 1)) {
        if (errno == 0)
            errno = EIO;
        goto fail;
    }
    *what = "close";
    if (close(fd) < 0) {
        r = -errno;
        unlink(path);
        return r;
    }
    return 0;
fail:
    r = -errno;
    close(fd);
    unlink(path);
    return r;
}

int tcp_auth_check(const char *token, const char *line, size_t len, const char **why)
{
    cJSON *j = cJSON_ParseWithLength(line, len);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
    int r = 0;
    if (!cJSON_IsObject(j) || !cJSON_IsString(op) || strcmp(op->valuestring, "auth") != 0) {
        *why = "not authenticated: the first line of a TCP connection must be "
               "{\"op\":\"auth\",\"token\":\"...\"} with the daemon's token "
               "(see --tcp-token-file in tfeventsd(8))";
        r = -EPROTO;
    } else if (!cJSON_IsString(tok)) {
        *why = "auth: no \"token\" string";
        r = -EACCES;
    } else {
        /* Constant time over the token's length: no byte-by-byte oracle. */
        size_t n = strlen(tok->valuestring);
        char got[TCP_AUTH_TOKEN_LEN] = {0};
        memcpy(got, tok->valuestring, n < sizeof got ? n : sizeof got);
        unsigned diff = n != TCP_AUTH_TOKEN_LEN;
        for (size_t i = 0; i < TCP_AUTH_TOKEN_LEN; i++)
            diff |= (unsigned char)token[i] ^ (unsigned char)got[i];
        if (diff) {
            *why = "auth: wrong token";
            r = -EACCES;
        }
    }
    cJSON_Delete(j);
    return r;
}
