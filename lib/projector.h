/* projector: the files of TensorBoard's embedding projector.
 *
 * The projector plugin reads no events: it looks for projector_config.pbtxt
 * (protobuf text format of a ProjectorConfig) in each run directory, and
 * for the files that config names, relative to that directory: a tensor
 * as TSV (one row per point, tab-separated floats, no header), a metadata
 * TSV (a header row only with more than one column) and a sprite PNG.
 *
 * Layout (as tensorboardX's add_embedding lays it out): an embedding named
 * tag at step s lives in <run>/<s as %05d>/<tag>/ as tensors.tsv,
 * metadata.tsv and sprite.png, and is listed in <run>/projector_config.pbtxt
 * under the tensor name "<tag>:<s as %05d>". A new embedding is merged into
 * the config that is there (read, merge, write): one with the same tensor
 * name replaces its entry, any other is added. Every file is written to a
 * temporary name, fsynced and renamed over, so that a reader sees the old
 * file or the new one, never half of one; the read, merge and rename of
 * the config happen under PROJECTOR_LOCK_NAME's flock(), so that writers
 * in several processes (daemons, embedded clients) or threads never lose
 * each other's entries.
 *
 * Pure apart from projector_write()'s file I/O below a directory
 * descriptor; no logging; no symbolic link is followed. */
#ifndef TFEVENTS_PROJECTOR_H
#define TFEVENTS_PROJECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Points x dimensions of one tensor. */
#define PROJECTOR_MAX_VALUES ((size_t)1 << 24)
/* Dimensions of one point. */
#define PROJECTOR_MAX_DIMS 65536u
/* Bytes of a metadata TSV (cells, tabs and newlines). */
#define PROJECTOR_MAX_METADATA ((size_t)16 << 20)
/* Metadata columns. */
#define PROJECTOR_MAX_COLUMNS 256u
/* Bytes of a sprite PNG. */
#define PROJECTOR_MAX_SPRITE ((size_t)16 << 20)
/* Bytes of projector_config.pbtxt read back for a merge. */
#define PROJECTOR_MAX_CONFIG ((size_t)4 << 20)
/* Embeddings listed in one config. */
#define PROJECTOR_MAX_EMBEDDINGS 4096u
/* Bytes of a tag (one directory name). */
#define PROJECTOR_MAX_TAG 200u
/* Largest step: %05d directories of a 32-bit step. */
#define PROJECTOR_MAX_STEP INT64_C(2147483647)

#define PROJECTOR_CONFIG_NAME "projector_config.pbtxt"
/* The lock file beside it (flock) that writers of the config take, in
 * every process, to read, merge and rename it one at a time. */
#define PROJECTOR_LOCK_NAME ".projector_config.pbtxt.lock"
/* How long a writer waits for that lock before giving up (-ETIMEDOUT),
 * polling every PROJECTOR_LOCK_POLL_MS. */
#define PROJECTOR_LOCK_WAIT_MS 10000u
#define PROJECTOR_LOCK_POLL_MS 5u

struct projector_embedding {
    char *tag;                  /* owned; projector_check_tag() */
    int64_t step;
    size_t rows, cols;          /* points, dimensions */
    float *tensor;              /* owned; rows * cols, row-major */
    char **header;              /* owned; n_header column names (0: one column) */
    size_t n_header;
    char **cells;               /* owned; rows * max(1, n_header) cells, or none */
    size_t n_cells;
    uint8_t *sprite;            /* owned PNG bytes, or NULL */
    size_t sprite_len;
    uint32_t sprite_dim[2];     /* width, height of one image in the sprite */
};

/* Release e's buffers and zero it. NULL-safe. */
void projector_embedding_done(struct projector_embedding *e);

/* Is tag usable as one directory name: 1..PROJECTOR_MAX_TAG bytes of
 * UTF-8 without '/', '\\', control characters or a leading '.'? 0 or
 * -EINVAL. */
int projector_check_tag(const char *tag);

/* The whole embedding against the rules and limits above; 0, or a negative
 * errno with a sentence in err[0..size). */
int projector_check(const struct projector_embedding *e, char *err, size_t size);

/* rows x cols floats as TSV text (shortest round-trip decimals). */
int projector_tensor_tsv(struct buf *out, const float *v, size_t rows, size_t cols);

/* e's metadata as TSV text: the header row when there are several columns. */
int projector_metadata_tsv(struct buf *out, const struct projector_embedding *e);

/* One entry of a ProjectorConfig. */
struct projector_entry {
    char *tensor_name, *tensor_path, *metadata_path, *sprite_path;  /* owned or NULL */
    uint64_t shape[2];
    size_t n_shape;
    uint32_t sprite_dim[2];
    size_t n_sprite_dim;
};

struct projector_config {
    char *checkpoint_path;      /* model_checkpoint_path, kept as found */
    char *checkpoint_dir;       /* model_checkpoint_dir */
    struct projector_entry *entries;
    size_t n, cap;
};

void projector_config_done(struct projector_config *c);

/* Parse the text format of a ProjectorConfig (the fields above). A field
 * this module does not know is -EPROTO (the config is then not rewritten,
 * rather than losing it); bad syntax -EBADMSG. c is emptied first. text
 * may be NULL when len is 0. */
int projector_config_parse(struct projector_config *c, const char *text, size_t len);

/* Add e (copied), replacing an entry of the same tensor name. -ENOSPC past
 * PROJECTOR_MAX_EMBEDDINGS, -ENOMEM. */
int projector_config_put(struct projector_config *c, const struct projector_entry *e);

/* c in text format. */
int projector_config_text(struct buf *out, const struct projector_config *c);

/* Write e's files below the run directory run_fd (borrowed) and merge it
 * into the run's config. 0, or a negative errno: -ELOOP for a symbolic
 * link on the way, -EPROTO/-EBADMSG for a config that cannot be merged,
 * -EFBIG for a config that is or would become larger than
 * PROJECTOR_MAX_CONFIG, -ETIMEDOUT when the config's lock stayed taken,
 * -errno of the file system. Blocks (file I/O, fsync, the lock): the
 * daemon runs it on its thread pool. */
int projector_write(int run_fd, const struct projector_embedding *e);

#endif
