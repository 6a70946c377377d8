/* logdir_steps: the step bookkeeping of one logdir -- the last step written
 * for every (run, tag), and the runs it knows.
 *
 * A logdir (logdir.c) keeps one while it writes; the scan of its existing
 * files (logdir_scan.c) builds another off the logdir's thread, which is
 * then moved into the logdir whole (logdir_steps_swap()). Both learn steps
 * through the functions here, so the scan and the writes follow one rule.
 *
 * Ownership. The struct owns its maps, their keys and the key buffer. The
 * runs map's val.ptr is NOT owned here: a logdir stores its run_writers
 * there and closes them itself before logdir_steps_done(); a scan leaves
 * it NULL. Pure; no I/O; not thread-safe (one thread at a time). */
#ifndef TFEVENTS_LOGDIR_STEPS_H
#define TFEVENTS_LOGDIR_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "strmap.h"

/* The last step of a (run, tag) that was never written: any step passes. */
#define LOGDIR_STEP_NONE INT64_MIN

/* Run flag (runs map, aux): the run's files hold a SessionLog START
 * (learned by the scan, or written by logdir_restart()). */
#define LOGDIR_RUN_STARTED 1u
/* Run flag (logdir_run, while a scan is applied): made from that scan. */
#define LOGDIR_RUN_FRESH 2u

/* The kind of a (run, tag): the plugin name of its values ("scalars",
 * "text", "images", ... or a custom plugin's), interned per logdir_steps
 * and kept as an index in the top bits of the tag entry's aux (the low
 * bits hold the generation). Index 0 is "scalars", so that writing a
 * generation alone (the scalar shortcut) keeps a scalar tag's kind;
 * LOGDIR_KIND_ANY is a tag found in files without a known kind (no
 * metadata, no simple_value): any kind passes. */
#define LOGDIR_KIND_SHIFT 56
#define LOGDIR_GEN_MASK ((UINT64_C(1) << LOGDIR_KIND_SHIFT) - 1)
#define LOGDIR_KIND_SCALARS 0u
#define LOGDIR_KIND_ANY 255u
/* Distinct kinds per logdir (plugin names); more are refused (-ENOSPC). */
#define LOGDIR_MAX_KINDS 255u

static inline unsigned logdir_tag_kind(const struct strmap_entry *e)
{
    return (unsigned)(e->aux >> LOGDIR_KIND_SHIFT);
}

static inline void logdir_tag_set_kind(struct strmap_entry *e, unsigned kind)
{
    e->aux = (e->aux & LOGDIR_GEN_MASK) | ((uint64_t)kind << LOGDIR_KIND_SHIFT);
}

struct logdir_steps {
    /* "run\0tag" -> val.i64 last step (LOGDIR_STEP_NONE: not written yet),
     * aux: the generation of the logdir_log() call that checked it last. */
    struct strmap tags;
    /* run -> val.ptr the run's writer or NULL (owned by the logdir, see
     * above), aux LOGDIR_RUN_* flags. */
    struct strmap runs;
    /* "run\0tag" -> val.i64 the fingerprint (logdir_meta_fingerprint()) of
     * the display name and description of the tag's first value, for the
     * tags whose first value had either: TensorBoard shows those of a
     * tag's first value only. */
    struct strmap metas;
    struct buf key;           /* scratch: the last key built */
    char *kinds[LOGDIR_MAX_KINDS];   /* kind index -> plugin name (owned) */
    unsigned n_kinds;
    unsigned max_tags, max_runs;
};

/* Empty bookkeeping refusing more than max_tags (run, tag) pairs and
 * max_runs runs; max_key caps a key (longest run + 1 + longest tag).
 * Cannot fail (nothing is allocated yet). */
void logdir_steps_init(struct logdir_steps *s, unsigned max_tags, unsigned max_runs,
                       size_t max_key);

/* Free the maps and keys (not the writers in runs' val.ptr). NULL-safe. */
void logdir_steps_done(struct logdir_steps *s);

/* Exchange a and b whole (the limits included). Entry pointers into either
 * stay valid, now in the other. */
void logdir_steps_swap(struct logdir_steps *a, struct logdir_steps *b);

/* Build the key "run\0tag" of (run, tag[0..tag_len)) in s->key (borrowed
 * by the caller until the next call). 0, -ENOMEM, -EMSGSIZE. */
int logdir_steps_key(struct logdir_steps *s, const char *run, const void *tag, size_t tag_len);

/* The entry of (run, tag), made (last step LOGDIR_STEP_NONE) when new.
 * *ret is valid until the next put or remove on s->tags. -ENOSPC past
 * max_tags (nothing made), -ENOMEM. */
int logdir_steps_tag_entry(struct logdir_steps *s, const char *run, const void *tag,
                           size_t tag_len, struct strmap_entry **ret);

/* Remember that (run, tag) was written at step (the larger step wins).
 * -ENOSPC past max_tags, -ENOMEM. */
int logdir_steps_note_tag(struct logdir_steps *s, const char *run, const void *tag,
                          size_t tag_len, int64_t step);

/* Forget (run, tag) if it was made but never written (its last step is
 * still LOGDIR_STEP_NONE), so that refused messages do not use up
 * max_tags. */
void logdir_steps_forget_unwritten(struct logdir_steps *s, const char *run, const void *tag,
                                   size_t tag_len);

/* After a SessionLog START at step in run: no tag of run keeps a last step
 * at or above it (each is lowered to step - 1). */
void logdir_steps_lower_run(struct logdir_steps *s, const char *run, int64_t step);

/* The index of kind name[0..len) (a plugin name), interned when new:
 * >= 0, or -ENOSPC past LOGDIR_MAX_KINDS, -ENOMEM. */
int logdir_steps_kind(struct logdir_steps *s, const void *name, size_t len);

/* The plugin name of kind index k ("scalars", or "any kind"). */
const char *logdir_steps_kind_name(const struct logdir_steps *s, unsigned k);

/* The plugin name in a serialized SummaryMetadata (borrowed from meta),
 * or NULL with *ret_len 0 when it holds none. */
const char *logdir_plugin_name(const void *meta, size_t len, size_t *ret_len);

/* A fingerprint of the display name and description in a serialized
 * SummaryMetadata: 0 when it holds neither (or both empty), else a
 * nonzero 64-bit hash of the two strings. */
uint64_t logdir_meta_fingerprint(const void *meta, size_t len);
/* The same from the two strings (NULL or "" for none). */
uint64_t logdir_meta_fingerprint_of(const char *display_name, const char *description);

/* The fingerprint of (run, tag)'s first value (0: it had none, or the tag
 * is unknown), and setting it (fp 0 is not stored). -ENOMEM. */
uint64_t logdir_steps_meta(struct logdir_steps *s, const char *run, const void *tag,
                           size_t tag_len);
int logdir_steps_set_meta(struct logdir_steps *s, const char *run, const void *tag,
                          size_t tag_len, uint64_t fp);

/* True when a run other than run has a tag written (a last step). */
bool logdir_steps_others_written(const struct logdir_steps *s, const char *run);

/* The run's entry in *ret, made (val.ptr NULL, aux 0) when new: returns 1
 * when made, 0 when known, -ENOSPC past max_runs, -ENOMEM. *ret is valid
 * until the next put or remove on s->runs. */
int logdir_steps_run_entry(struct logdir_steps *s, const char *run, size_t run_len,
                           struct strmap_entry **ret);

#endif
