#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level current = LOG_LEVEL_INFO;
static bool journal;   /* stderr is the journal's stream */

static const char *const names[] = {"error", "warn", "info", "debug"};
/* syslog priorities of the levels: LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG. */
static const int priorities[] = {3, 4, 6, 7};

void log_init(void)
{
    /* JOURNAL_STREAM is "device:inode" of the stream the service manager
     * connected stdout/stderr to. It is inherited by children whose stderr
     * may go elsewhere, so it counts only when it is our stderr. */
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char extra;
    struct stat st;
    journal = js && sscanf(js, "%llu:%llu%c", &dev, &ino, &extra) == 2 &&
              fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
              (unsigned long long)st.st_ino == ino;
}

bool log_to_journal(void)
{
    return journal;
}

void log_set_level(enum log_level level)
{
    current = level;
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
    /* One message, one line: a newline (say, in a name a client sent)
     * would start a line without the prefix, at the wrong priority. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            *p = '?';
    if (journal)
        fprintf(stderr, "<%d>%s: %s\n", priorities[level], names[level], line);
    else
        fprintf(stderr, "tfeventsd[%ld]: %s: %s\n", (long)getpid(), names[level], line);
}
