#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

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

size_t log_escape(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && cap > 0;) {
        const unsigned char ch = (unsigned char)in[i];
        char e[8];
        size_t el = 0, take = 1;
        unsigned cp = 0;
        int len = ch < 0x80 ? 1 : utf8_decode(in + i, n - i, &cp);
        if (ch == '\n' || ch == '\r' || ch == '\t' || ch == '\\') {
            e[el++] = '\\';
            e[el++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch == '\t' ? 't' : '\\';
        } else if (ch < 0x20 || ch == 0x7f || len < 0) {
            /* Control bytes (ESC starts terminal sequences) and bytes that
             * are not UTF-8: their value, visibly. */
            e[el++] = '\\';
            e[el++] = 'x';
            e[el++] = hex[ch >> 4];
            e[el++] = hex[ch & 15];
        } else if (len == 2 && cp >= 0x80 && cp <= 0x9f) {
            /* C1 controls (U+009B is a CSI for some terminals). */
            el = (size_t)snprintf(e, sizeof e, "\\u%04x", cp);
            take = 2;
        } else {
            take = ch < 0x80 ? 1 : (size_t)len;
            if (take > sizeof e)
                take = 1;
            memcpy(e, in + i, take);
            el = take;
        }
        if (o + el >= cap)
            break;   /* never half an escape or a character */
        memcpy(out + o, e, el);
        o += el;
        i += take;
    }
    if (cap > 0)
        out[o] = '\0';
    return o;
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
    /* One message, one line, nothing a terminal acts on: names, ids and
     * text a client sent are escaped here, so no caller can forget. */
    char safe[LOG_ESCAPED_MAX(sizeof line)];
    log_escape(line, safe, sizeof safe);
    if (journal)
        fprintf(stderr, "<%d>%s: %s\n", priorities[level], names[level], safe);
    else
        fprintf(stderr, "tfeventsd[%ld]: %s: %s\n", (long)getpid(), names[level], safe);
}
