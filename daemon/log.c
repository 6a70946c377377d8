#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level current = LOG_LEVEL_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    current = level;
}

enum log_level log_get_level(void)
{
    return current;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    /* One fprintf per line: stderr is unbuffered, and a single call keeps
     * the line whole when several processes share the terminal. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tfeventsd[%ld]: %s: %s\n", (long)getpid(), names[level], line);
}
