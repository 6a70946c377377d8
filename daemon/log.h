/* log: the daemon's one logging edge. One line per notable thing on
 * stderr, filtered by level: "tfeventsd[pid]: level: message" on a
 * terminal or in a file; "<N>level: message" when stderr is the journal
 * ($JOURNAL_STREAM names it), where N is the syslog priority that journald
 * stores (sd-daemon(3)) and journald adds the name and pid itself. Only
 * the daemon's edge modules (main, server, conn, dispatch, flusher) log. */
#ifndef TFEVENTSD_LOG_H
#define TFEVENTSD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
};

/* Look at $JOURNAL_STREAM and stderr once, at start-up, before the first
 * line. Without it lines are written in the plain form. */
void log_init(void);

/* Whether stderr is the journal (as found by log_init). */
bool log_to_journal(void);

void log_set_level(enum log_level level);

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

/* Bytes log_escape may need for a message of n bytes: 4 per byte. */
#define LOG_ESCAPED_MAX(n) (4 * (n) + 1)

/* Copy the NUL-terminated in to out (cap bytes, always terminated,
 * truncated at a whole character or escape) with what a client could use
 * to forge or hide log lines made visible: \n \r \t and \\ as such,
 * other control bytes (ESC, DEL) and bytes that are not UTF-8 as \xNN,
 * C1 controls as \u0080..\u009f. Returns the length written. log_msg
 * applies it to every line. */
size_t log_escape(const char *in, char *out, size_t cap);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
