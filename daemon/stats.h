/* stats: the daemon's counters, answered by the "stats" op. Plain
 * integers updated on the loop thread. */
#ifndef TFEVENTSD_STATS_H
#define TFEVENTSD_STATS_H

#include <stdint.h>

#include "buf.h"

struct stats {
    /* connections */
    uint64_t connections_accepted;
    uint64_t connections_open;
    uint64_t connections_refused;    /* over a connection limit */
    uint64_t limit_connections_user; /* of those, --max-connections-per-user */
    /* input */
    uint64_t bytes_in;
    uint64_t lines;
    uint64_t messages;               /* lines executed successfully */
    uint64_t events;                 /* values logged (one Event each) */
    /* errors by kind */
    uint64_t errors_json;            /* not JSON / not an object */
    uint64_t errors_invalid;         /* a field or value is wrong */
    uint64_t errors_oversize;        /* line longer than the limit */
    uint64_t errors_timeout;         /* a line or frame not finished in time */
    uint64_t errors_step;            /* refused by the step policy */
    uint64_t errors_write;           /* disk writes that failed */
    uint64_t records_lost;           /* accepted, dropped when their file closed */
    uint64_t errors_other;           /* limits, out of memory */
    /* replies */
    uint64_t replies;
    uint64_t replies_dropped;        /* the connection closed first, or no memory */
    uint64_t reply_pauses;           /* a connection not read: --max-replies unread */
    /* writing */
    uint64_t writers_opened;
    uint64_t writers_closed;
    uint64_t writes;                 /* batches written */
    uint64_t bytes_written;
    uint64_t fsyncs;
    uint64_t files_created;
    uint64_t flush_requests;
    uint64_t read_pauses;            /* reading paused: too much unwritten data */
    /* refusals by named limit (each also counted in errors_*) */
    uint64_t limit_logdirs;          /* --max-logdirs */
    uint64_t limit_runs;             /* --max-runs */
    uint64_t limit_tags;             /* --max-tags */
    uint64_t limit_name;             /* --max-name */
    uint64_t limit_values;           /* --max-values */
    uint64_t limit_json_depth;       /* --max-json-depth */
    uint64_t limit_elements;         /* --max-elements */
    uint64_t limit_input_total;      /* --max-input-total: a partial message refused */
    uint64_t errors_path;            /* a logdir/run path refused (link, not a dir) */
};

/* What is so now, as opposed to the counters above. */
struct stats_gauges {
    uint64_t writers_open;       /* writers taking records */
    uint64_t writers_closing;    /* detached, their close queued or running on
                                    the pool (their last data being written) */
    uint64_t logdirs;
    uint64_t pending_bytes;      /* accepted, not yet written */
};

/* Append {"name":value,...}: the counters of s, then the gauges g. */
int stats_to_json(const struct stats *s, const struct stats_gauges *g, struct buf *out);

#endif
