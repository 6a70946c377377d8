/* ustats: the stats counters of each user directory under --per-user-root,
 * so that the stats op answers an unprivileged user with its own figures
 * and never with other users' (see dispatch.c, host_stats).
 *
 * Entries are made on first use and kept for the daemon's life (counters
 * are totals since start): at most USTATS_MAX of them, each a few hundred
 * bytes. A user past that has no counters of its own: its stats answer
 * holds only the gauges of its logdirs, and says so. Loop thread only. */
#ifndef TFEVENTSD_USTATS_H
#define TFEVENTSD_USTATS_H

#include "stats.h"

/* Users whose counters are kept (about 1.3 MiB at most). */
#define USTATS_MAX 4096u

struct ustats;

/* NULL = no memory. */
struct ustats *ustats_new(void);

/* NULL-safe. */
void ustats_free(struct ustats *t);

/* The counters of user directory name (borrowed), made zero on first use;
 * the pointer stays valid until ustats_free(). NULL past USTATS_MAX users
 * or without memory. */
struct stats *ustats_get(struct ustats *t, const char *name);

#endif
