/* log: the daemon's one logging edge. One line per notable thing on
 * stderr, filtered by level: "tfeventsd[pid]: level: message" on a
 * terminal or in a file; "<N>level: message" when stderr is the journal
 * ($JOURNAL_STREAM names it), where N is the syslog priority that journald
 * stores (sd-daemon(3)) and journald adds the name and pid itself. Only
 * the daemon's edge modules (main, server, conn, dispatch, flusher) log. */
#ifndef TFEVENTSD_LOG_H
#define TFEVENTSD_LOG_H

#include <stdbool.h>

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

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
