/* cli_export_names: safe, distinct file names (see cli_export_names.h). */
#include "cli_export_names.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

static bool plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

void export_name_clean(char out[EXPORT_NAME_SIZE], const char *name, size_t len)
{
    bool utf8 = utf8_valid(name, len);
    size_t n = 0;
    for (size_t i = 0; i < len && n < EXPORT_NAME_MAX; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80 && utf8) {
            /* A whole character or nothing: its length from the lead byte. */
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (n + k > EXPORT_NAME_MAX)
                break;
            memcpy(out + n, name + i, k);
            n += k;
            i += k - 1;
            continue;
        }
        out[n++] = plain(c) ? (char)c : '_';
    }
    if (n == 0)
        out[n++] = '_';
    /* No ".", "..", hidden file, or name a shell takes for an option. */
    if (out[0] == '.' || out[0] == '-')
        out[0] = '_';
    out[n] = '\0';
}

void export_names_init(struct export_names *n)
{
    strmap_init(&n->owners);
    strmap_init(&n->taken);
}

void export_names_done(struct export_names *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->owners.cap; i++)
        if (n->owners.slots[i].key)
            free(n->owners.slots[i].val.ptr);
    strmap_done(&n->owners);
    strmap_done(&n->taken);
}

/* scope NUL s into b. */
static int scoped(struct buf *b, const char *scope, const char *s)
{
    buf_reset(b);
    int r = buf_append(b, scope, strlen(scope) + 1);
    return r ? r : buf_append(b, s, strlen(s));
}

int export_names_reserve(struct export_names *n, const char *scope, const char *name)
{
    struct buf k;
    buf_init(&k, BUF_NO_CAP);
    struct strmap_entry *e;
    int r = scoped(&k, scope, name);
    if (!r)
        r = strmap_put(&n->taken, k.data, k.len, &e);
    buf_free(&k);
    return r < 0 ? r : 0;
}

int export_names_get(struct export_names *n, const char *scope, const char *owner,
                     const char *base_in, const char **ret)
{
    struct buf k;
    buf_init(&k, BUF_NO_CAP);
    struct strmap_entry *e;
    int r = scoped(&k, scope, owner);
    if (r)
        goto out;
    if ((e = strmap_get(&n->owners, k.data, k.len))) {
        *ret = e->val.ptr;
        goto out;
    }
    char base[EXPORT_NAME_SIZE], name[EXPORT_NAME_SIZE];
    if (base_in)
        snprintf(base, sizeof base, "%s", base_in);
    else
        export_name_clean(base, owner, strlen(owner));
    r = -EEXIST;
    for (unsigned i = 1; i <= EXPORT_NAMES_MAX_SUFFIX; i++) {
        if (i == 1)
            memcpy(name, base, strlen(base) + 1);
        else
            snprintf(name, sizeof name, "%s~%u", base, i);
        if ((r = scoped(&k, scope, name)) < 0)
            goto out;
        if ((r = strmap_put(&n->taken, k.data, k.len, &e)) < 0)
            goto out;
        if (r == 1)
            break;
        r = -EEXIST;
    }
    if (r < 0)
        goto out;
    char *copy = strdup(name);
    if (!copy || (r = scoped(&k, scope, owner)) < 0 ||
        (r = strmap_put(&n->owners, k.data, k.len, &e)) < 0) {
        free(copy);
        r = r < 0 ? r : -ENOMEM;
        goto out;
    }
    e->val.ptr = copy;
    *ret = copy;
    r = 0;
out:
    buf_free(&k);
    return r;
}
