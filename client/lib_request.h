/* lib_request: the tfevents.Request messages libtfevents sends (the body
 * of one request, without its id), and what comes back (struct lib_reply),
 * whichever transport carries them. */
#ifndef TFEVENTS_LIB_REQUEST_H
#define TFEVENTS_LIB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lib_values.h"
#include "tfevents.h"

/* Bytes of an error sentence kept from a reply. */
#define LIB_ERROR_SIZE 1024u

struct lib_reply {
    bool ok;
    bool has_step, has_next;
    int64_t step, next;
    char error[LIB_ERROR_SIZE];
};

/* Each appends one Request (without id) to out (reset first). logdir is the
 * transport's name for the logdir. 0, -ENOMEM, -EMSGSIZE, -EINVAL. */
int lib_request_log(struct buf *out, const char *logdir, int64_t step, double wall_time,
                    const struct buf *values);
/* The same Log request for plain scalars sc[0..n) (what lib_request_log()
 * makes of values built by tfevents_add_scalar() alone, byte for byte),
 * written straight to its destination: lib_request_log_scalars_size()
 * says how many bytes lib_request_put_log_scalars() writes at p. Every
 * sc[i].tag must be non-NULL. */
size_t lib_request_log_scalars_size(const char *logdir, int64_t step, double wall_time,
                                    const struct lib_scalar *sc, size_t n);
void lib_request_put_log_scalars(uint8_t *p, const char *logdir, int64_t step,
                                 double wall_time, const struct lib_scalar *sc, size_t n);

/* The same for one scalar, the commonest request, from the bytes kept of
 * the last one: its logdir field and its value up to the float are
 * encoded once per (logdir, run, tag), then only the step, wall time and
 * value per call. lib_request_log_scalar_prepare() makes t hold them
 * (when the names are not those it holds) and returns the size
 * lib_request_log_scalar_put() then writes, or 0 when a name is longer
 * than the bytes kept (use the functions above). tag non-NULL; run NULL
 * or "." is the logdir itself. */
#define LIB_SCALAR_TMPL_LOGDIR 255u
#define LIB_SCALAR_TMPL_NAME 128u
struct lib_scalar_tmpl {
    bool valid;
    char logdir[LIB_SCALAR_TMPL_LOGDIR + 1];
    char run[LIB_SCALAR_TMPL_NAME + 1];   /* "" for the logdir itself */
    char tag[LIB_SCALAR_TMPL_NAME + 1];
    uint8_t logdir_field[LIB_SCALAR_TMPL_LOGDIR + 3];
    size_t logdir_field_len;
    uint8_t value_head[2 * (LIB_SCALAR_TMPL_NAME + 3) + 4];   /* up to the double */
    size_t value_head_len;
    size_t body_len;   /* of the request being put: set by prepare */
};
size_t lib_request_log_scalar_prepare(struct lib_scalar_tmpl *t, const char *logdir,
                                      int64_t step, double wall_time, const char *run,
                                      const char *tag);
void lib_request_log_scalar_put(const struct lib_scalar_tmpl *t, uint8_t *p, int64_t step,
                                double wall_time, double value);
int lib_request_step_get(struct buf *out, const char *logdir);
int lib_request_step_set(struct buf *out, const char *logdir, int64_t step);
/* logdir NULL: every logdir. */
int lib_request_flush(struct buf *out, const char *logdir, bool sync, bool close);
int lib_request_restart(struct buf *out, const char *logdir, const char *run, uint64_t step);
int lib_request_hparams_config(struct buf *out, const char *logdir, const char *run,
                               const struct tfevents_hparam_info *hparams, size_t n_hparams,
                               const struct tfevents_metric_info *metrics, size_t n_metrics);
int lib_request_session_start(struct buf *out, const char *logdir, const char *run,
                              const struct tfevents_hparam *hparams, size_t n,
                              const char *group_name);
int lib_request_session_end(struct buf *out, const char *logdir, const char *run,
                            enum tfevents_status status);
/* An Embedding request; -EINVAL for sizes no request can hold. */
int lib_request_embedding(struct buf *out, const char *logdir, const char *run, int64_t step,
                          const struct tfevents_embedding *e);
/* A Graph request: graph_def (tag NULL) or run_metadata with tag, at step;
 * data borrowed. -EINVAL for a NULL data or a negative step. */
int lib_request_graph(struct buf *out, const char *logdir, const char *run, int64_t step,
                      const char *tag, const void *data, size_t len);

#endif
