#include "stats.h"

#include <inttypes.h>
#include <stddef.h>

int stats_to_json(const struct stats *s, const struct stats_gauges *g, struct buf *out)
{
    /* The table keeps names and fields side by side. */
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
#define F(x) {#x, offsetof(struct stats, x)}
        F(connections_accepted), F(connections_open), F(connections_refused),
        F(limit_connections_user),
        F(bytes_in), F(lines), F(messages), F(events),
        F(errors_json), F(errors_invalid), F(errors_oversize), F(errors_timeout), F(errors_step),
        F(errors_write), F(records_lost), F(errors_other),
        F(replies), F(replies_dropped), F(reply_pauses),
        F(writers_opened), F(writers_closed), F(writes), F(bytes_written), F(fsyncs),
        F(files_created), F(flush_requests), F(read_pauses),
        F(limit_logdirs), F(limit_runs), F(limit_tags), F(limit_name), F(limit_values),
        F(limit_json_depth), F(limit_elements), F(limit_input_total), F(errors_path),
#undef F
    };
    int r = buf_append_str(out, "{");
    for (size_t i = 0; r == 0 && i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t v = *(const uint64_t *)((const char *)s + fields[i].off);
        r = buf_printf(out, "\"%s\":%" PRIu64 ",", fields[i].name, v);
    }
    if (r == 0)
        r = buf_printf(out,
                       "\"writers_open\":%" PRIu64 ",\"writers_closing\":%" PRIu64
                       ",\"logdirs\":%" PRIu64 ",\"pending_bytes\":%" PRIu64 "}",
                       g->writers_open, g->writers_closing, g->logdirs, g->pending_bytes);
    return r;
}
