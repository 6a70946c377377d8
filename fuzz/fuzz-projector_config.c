/* fuzz-projector_config: the projector_config.pbtxt parser
 * (projector_config_parse, lib/projector.c) that `tfevents embedding`
 * (through tfevents_add_embedding), collect and export run on a config
 * they find in a run directory. It answers 0, -EBADMSG, -EPROTO or
 * -ENOMEM; a config it accepts is written back (projector_config_text)
 * as text that parses again to the same text, so that merging an entry
 * never loses or changes the others. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "projector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct projector_config c = {0}, again = {0};
    int r = projector_config_parse(&c, (const char *)data, size);
    FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPROTO);
    if (r == 0) {
        struct buf t1, t2;
        buf_init(&t1, BUF_NO_CAP);
        buf_init(&t2, BUF_NO_CAP);
        FUZZ_CHECK(projector_config_text(&t1, &c) == 0);
        FUZZ_CHECK(projector_config_parse(&again, (const char *)t1.data, t1.len) == 0);
        FUZZ_CHECK(again.n == c.n);
        FUZZ_CHECK(projector_config_text(&t2, &again) == 0);
        FUZZ_CHECK(t1.len == t2.len && (t1.len == 0 || memcmp(t1.data, t2.data, t1.len) == 0));
        buf_free(&t1);
        buf_free(&t2);
    } else {
        FUZZ_CHECK(c.n == 0 && !c.checkpoint_path && !c.checkpoint_dir);
    }
    projector_config_done(&c);
    projector_config_done(&again);
    return 0;
}
