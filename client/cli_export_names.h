/* cli_export_names: file names for `tfevents export`, from run and tag
 * names that a file's writer chose (any bytes).
 *
 * A name becomes one safe path component: bytes outside [A-Za-z0-9._-]
 * become '_' (non-ASCII bytes are kept when the whole name is valid
 * UTF-8, so a tag in another script stays readable), a leading '.' or
 * '-' becomes '_' (no ".", "..", hidden files or option-like names), an empty name is "_", and
 * a long one is cut (at a character boundary) to EXPORT_NAME_MAX bytes.
 * No '/' survives, so no name can leave the directory it is made in.
 *
 * Two owners (runs, or tags of one run) whose names clean to the same
 * component get different ones: the first keeps it, later ones get "~2",
 * "~3"... within the same scope (a directory). An owner asks again and
 * gets the name it got first. */
#ifndef TFEVENTS_CLI_EXPORT_NAMES_H
#define TFEVENTS_CLI_EXPORT_NAMES_H

#include <stddef.h>

#include "strmap.h"

/* Bytes of a cleaned component, before a "~N" suffix and an extension
 * (well under NAME_MAX, 255). */
#define EXPORT_NAME_MAX 120
/* Room for a component with its suffixes, NUL included. */
#define EXPORT_NAME_SIZE (EXPORT_NAME_MAX + 48)

/* name[0..len) cleaned into out (EXPORT_NAME_SIZE bytes). */
void export_name_clean(char out[EXPORT_NAME_SIZE], const char *name, size_t len);

struct export_names {
    struct strmap owners;   /* scope NUL owner -> val.ptr: the name given (owned) */
    struct strmap taken;    /* scope NUL name -> taken */
};

void export_names_init(struct export_names *n);
void export_names_done(struct export_names *n);   /* NULL-safe */

/* Mark name as taken in scope (a file of our own there). -ENOMEM. */
int export_names_reserve(struct export_names *n, const char *scope, const char *name);

/* The component of owner (a NUL-free string: a run, or a tag) in scope,
 * made from base when it is not NULL (already clean), else from owner
 * cleaned: *ret borrowed from n, valid until export_names_done().
 * -ENOMEM, -EEXIST when no suffix up to EXPORT_NAMES_MAX_SUFFIX is free. */
#define EXPORT_NAMES_MAX_SUFFIX 1000000u
int export_names_get(struct export_names *n, const char *scope, const char *owner,
                     const char *base, const char **ret);

#endif
