/* fuzz-event: an Event payload through everything a reader does with it.
 *
 * The input is one serialized Event. When it holds a Summary, every
 * Summary.Value is decoded the way the logdir reader does (value_decode()
 * with the tag's first metadata in the "file" and the metadata kept for the
 * tag), rendered as the golden files' JSON, printed, and its plugin content
 * rendered too. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "fuzz.h"
#include "value_json.h"

/* Distinct tags tracked per input; later tags decode as first values. */
#define MAX_TAGS 64
/* Elements above which we skip the JSON rendering: one value may "fill" a
 * shape of VALUE_MAX_ELEMENTS by design, and building millions of cJSON
 * nodes per input would only make the fuzzer slow. */
#define MAX_JSON_ELEMENTS 4096

struct tag_state {
    const char *tag;           /* borrowed from the event */
    struct value_meta initial; /* plugin and data class of the first value */
    struct value_meta kept;    /* first metadata seen (post-inference) */
};

static void render(const cJSON *j)
{
    if (!j)
        return;
    struct buf out;
    buf_init(&out, BUF_NO_CAP);
    int r = value_json_print(&out, j);
    FUZZ_CHECK(r == 0 || r == -ENOMEM);
    buf_free(&out);
}

static void decode_summary(const Tensorboard__Summary *s)
{
    static struct tag_state tags[MAX_TAGS];
    size_t n_tags = 0;

    for (size_t i = 0; i < s->n_value; i++) {
        const Tensorboard__Summary__Value *sv = s->value[i];
        const char *tag = sv->tag ? sv->tag : "";
        struct tag_state *t = NULL;
        for (size_t k = 0; k < n_tags; k++)
            if (strcmp(tags[k].tag, tag) == 0)
                t = &tags[k];

        const struct value_meta *initial = t ? &t->initial : NULL;
        const struct value_meta *kept = t && t->kept.present ? &t->kept : NULL;
        struct decoded_value v;
        value_init(&v);
        int r = value_decode(sv, initial, kept, &v);
        FUZZ_CHECK(r == 0 || r == -ENOMEM);
        if (r < 0) {
            value_done(&v);
            continue;
        }
        FUZZ_CHECK(v.kind >= VALUE_EMPTY && v.kind <= VALUE_INVALID);
        FUZZ_CHECK(v.kind != VALUE_EMPTY || !v.has_tensor);
        FUZZ_CHECK(value_kind_name(v.kind) != NULL);
        FUZZ_CHECK(v.n_numbers <= VALUE_MAX_ELEMENTS && v.n_strings <= VALUE_MAX_ELEMENTS);
        if (v.meta.present)
            FUZZ_CHECK(v.meta.plugin && v.meta.display_name && v.meta.description);

        if (v.n_numbers + v.n_strings + v.n_clips <= MAX_JSON_ELEMENTS) {
            cJSON *j = value_to_json(&v);
            render(j);
            cJSON_Delete(j);
        }
        if (v.meta.present) {
            cJSON *j = value_content_json(v.meta.plugin, v.meta.content, v.meta.content_len);
            render(j);
            cJSON_Delete(j);
        }

        if (!t && n_tags < MAX_TAGS) {
            t = &tags[n_tags++];
            t->tag = tag;
            value_meta_init(&t->initial);
            value_meta_init(&t->kept);
            if (v.meta.present)
                FUZZ_CHECK(value_meta_copy(&t->initial, &v.meta) == 0);
        }
        if (t && !kept && v.meta.present) {
            value_meta_done(&t->kept);
            FUZZ_CHECK(value_meta_copy(&t->kept, &v.meta) == 0);
        }
        value_done(&v);
    }
    for (size_t k = 0; k < n_tags; k++) {
        value_meta_done(&tags[k].initial);
        value_meta_done(&tags[k].kept);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Tensorboard__Event *ev;
    int r = event_unpack(data, size, &ev);
    FUZZ_CHECK(r == 0 || r == -EBADMSG);
    if (r < 0)
        return 0;
    if (ev->what_case == TENSORBOARD__EVENT__WHAT_SUMMARY && ev->summary)
        decode_summary(ev->summary);
    event_free(ev);
    return 0;
}
