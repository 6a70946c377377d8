/* lib_daemon: libtfevents' transport to tfeventsd over the binary
 * protocol (docs/protocol.md, "Binary protocol").
 *
 * Requests are appended to a batch (one Batch frame) that is sent when the
 * next request would make it larger than batch_bytes (or the daemon's
 * frame limit), before any request that waits for an answer, and on
 * lib_daemon_send(). Requests without an id get a reply only when they
 * fail; those replies are read whenever the transport touches the socket
 * and remembered (lib_daemon_take_error()). The daemon never blocks on a
 * client that does not read, so blocking sends cannot deadlock. Not
 * thread-safe (the handle's mutex serialises calls).
 *
 * Reconnecting. Every frame is kept (lib_journal) until the daemon
 * acknowledges it (a flush of every logdir answered, a checkpoint flush
 * the transport sends by itself every LIB_JOURNAL_CHECKPOINT_BYTES and on
 * lib_daemon_tick(), or the daemon's goodbye at a graceful stop). The
 * batch's buffer itself goes to the journal, and acknowledged buffers come
 * back as batches (LIB_JOURNAL_SPARES): nothing is copied, and in a
 * steady state no new memory is touched. With reconnect_timeout < 0
 * nothing is kept. When the
 * connection breaks (the daemon restarts or dies), the next use connects
 * again -- waiting LIB_DAEMON_RETRY_FIRST_MS, doubling up to
 * LIB_DAEMON_RETRY_MAX_MS between attempts, for up to reconnect_timeout
 * seconds -- and sends again what was not acknowledged, where that is
 * safe (lib_journal.h); what cannot be sent again safely is counted as
 * lost (lib_daemon_lost()) and reported once by lib_daemon_take_error().
 * When the daemon does not come back in time, everything unacknowledged
 * is counted as lost, and later uses try once more to connect, without
 * waiting. */
#ifndef TFEVENTS_LIB_DAEMON_H
#define TFEVENTS_LIB_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib_request.h"
#include "lib_values.h"

/* Milliseconds to wait for the daemon's Hello. */
#define LIB_DAEMON_HELLO_TIMEOUT_MS 5000
/* Reconnecting: the first pause between attempts, doubled up to the
 * largest; the default time to give up (tfevents_options.reconnect_timeout);
 * how often a call whose connection broke under it is tried again. */
#define LIB_DAEMON_RETRY_FIRST_MS 20
#define LIB_DAEMON_RETRY_MAX_MS 1000
#define LIB_DAEMON_RECONNECT_DEFAULT_S 30.0
#define LIB_DAEMON_CALL_TRIES 3

struct lib_daemon;

/* Connect to path and exchange magic and Hello. reconnect_timeout:
 * seconds to try connecting again after a break (0: the default, < 0:
 * never). -ENOENT, -ECONNREFUSED... (no daemon), -ENAMETOOLONG, -EPROTO
 * (not tfeventsd), -ETIMEDOUT, -ENOMEM. */
int lib_daemon_connect(struct lib_daemon **ret, const char *path, size_t batch_bytes,
                       double reconnect_timeout);

/* Send what is batched, wait for the replies still owed, then close and
 * free. Returns the first error (including -EREMOTEIO for refusals not yet
 * taken, with the sentence in err). NULL-safe. */
int lib_daemon_free(struct lib_daemon *d, char *err, size_t err_size);

/* The daemon's root directory (from its Hello; "" if it did not say). */
const char *lib_daemon_root(const struct lib_daemon *d);

/* Batch one request (without id). -EMSGSIZE when it cannot fit a frame,
 * -EPIPE/-ECONNRESET when the daemon is gone, -ENOMEM. */
int lib_daemon_queue(struct lib_daemon *d, const uint8_t *req, size_t len);

/* lib_daemon_queue() of lib_request_log() for plain scalars, encoded
 * straight into the batch (the same bytes; sc borrowed, tags non-NULL). */
int lib_daemon_queue_log_scalars(struct lib_daemon *d, const char *logdir_name, int64_t step,
                                 double wall_time, const struct lib_scalar *sc, size_t n);

/* The same for one scalar, from the bytes kept of the last one
 * (lib_request_log_scalar_prepare()): the same request, byte for byte. */
int lib_daemon_queue_log_scalar(struct lib_daemon *d, const char *logdir_name, int64_t step,
                                double wall_time, const char *run, const char *tag,
                                double value);

/* Send the request with an id (and everything batched before it) and wait
 * for its reply into *rp. 0 when a reply came (rp->ok says how it went). */
int lib_daemon_call(struct lib_daemon *d, const uint8_t *req, size_t len,
                    struct lib_reply *rp);

/* Send the batch now (and read the replies already there). */
int lib_daemon_send(struct lib_daemon *d);

/* lib_daemon_send(), and ask for an acknowledgement of what was sent when
 * none is on its way (the background flush). */
int lib_daemon_tick(struct lib_daemon *d);

/* Refusals of batched requests: total so far, and -EREMOTEIO with the
 * first new one's sentence in out when some came since the last take
 * (0 when none). */
uint64_t lib_daemon_refused(const struct lib_daemon *d);
/* Requests accepted, then perhaps lost to a broken connection (not sent
 * again: see above), and the connections made again. */
uint64_t lib_daemon_lost(const struct lib_daemon *d);
uint64_t lib_daemon_reconnects(const struct lib_daemon *d);
/* Losses first (-ECONNRESET, with the sentence in out), then refusals
 * (-EREMOTEIO), each reported once; 0 when none came since. */
int lib_daemon_take_error(struct lib_daemon *d, char *out, size_t size);
/* The losses alone. */
int lib_daemon_take_lost(struct lib_daemon *d, char *out, size_t size);

#endif
