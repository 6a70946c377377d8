#include "ustats.h"

#include <stdlib.h>
#include <string.h>

#include "users.h"

struct entry {
    char name[USERS_MAX_NAME + 1];
    struct stats st;
};

struct ustats {
    struct entry **v;   /* one allocation each: conns and writers keep &st */
    size_t n, cap;
};

struct ustats *ustats_new(void)
{
    return calloc(1, sizeof(struct ustats));
}

void ustats_free(struct ustats *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    free(t);
}

struct stats *ustats_get(struct ustats *t, const char *name)
{
    if (!t || strlen(name) > USERS_MAX_NAME)
        return NULL;
    /* A walk, done once per connection and per writer opened. */
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->name, name) == 0)
            return &t->v[i]->st;
    if (t->n >= USTATS_MAX)
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct entry **v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    strcpy(e->name, name);
    t->v[t->n++] = e;
    return &e->st;
}
