/* logdir_scan: reading a logdir's existing event files, so that a logdir
 * opened again resumes where its files end.
 *
 * The scan walks every run under the logdir (files in name order, as
 * TensorBoard reads them; never following a link), tolerates truncated
 * tails, stops a file at corruption, and learns the last step of every
 * (run, tag), which runs hold a SessionLog START (and the steps those
 * lower), and the largest step, after which the logdir's counter resumes.
 *
 * Ownership. A scanner owns everything it touches -- the logdir's
 * directory descriptor and its own logdir_steps -- and never touches the
 * logdir it is for, so it can run on any thread while its logdir stays on
 * its own (logdir_open_deferred(), logdir_scan_finish() in logdir.h). It
 * never logs. */
#ifndef TFEVENTS_LOGDIR_SCAN_H
#define TFEVENTS_LOGDIR_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "logdir_steps.h"

/* What the scan of existing files found. */
struct logdir_scan {
    uint64_t files;        /* event files read */
    uint64_t records;
    uint64_t truncated;    /* files ending inside a record */
    uint64_t corrupt;      /* files with a corrupt record (read up to it) */
    uint64_t unreadable;   /* files that could not be opened */
};

typedef struct logdir_scanner logdir_scanner;

/* A scan of the directory open as dir_fd (taken: closed by the scanner,
 * also when this fails), shown as path (borrowed, copied; files are read
 * through it when /proc is absent). Its bookkeeping has the limits given
 * (see logdir_steps_init()). NULL when out of memory. */
logdir_scanner *logdir_scanner_new(int dir_fd, const char *path, unsigned max_tags,
                                   unsigned max_runs, size_t max_key);

/* Read the files (the slow part). Touches nothing but sc: any thread. Runs
 * once; later calls do nothing. */
void logdir_scanner_run(logdir_scanner *sc);

/* Hand over what sc found (running it first if it has not run): steps
 * (initialised, empty) is exchanged with the scan's bookkeeping, *ret_step
 * gets the largest step found (-1: none), *ret_scan the counts. sc keeps
 * only what steps held before, freed with it. */
void logdir_scanner_take(logdir_scanner *sc, struct logdir_steps *steps, int64_t *ret_step,
                         struct logdir_scan *ret_scan);

/* Free a scanner (applied or not). NULL-safe. */
void logdir_scanner_free(logdir_scanner *sc);

#endif
