/* A small program built against the installed libtfevents:
 *
 *   cc example.c $(pkg-config --cflags --libs tfevents) -o example
 *   ./example LOGDIR
 *
 * It logs a few steps of a pretend training run (a scalar per step in two
 * runs, a histogram, a text note, hparams), then reads the logdir back and
 * prints one line per scalar. It uses tfeventsd when one answers on the
 * default socket and writes the files itself otherwise.
 *
 * Run again into the same logdir, it continues at the logdir's next steps
 * (the counter resumes after the steps already there) and leaves the
 * hparams alone: they are written once, at step 0, and writing them again
 * would put a second value at the same step. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <tfevents.h>

static int fail(tfevents *h, const char *what, int r)
{
    char why[512] = "";
    if (h)
        tfevents_last_error(h, why, sizeof why);
    fprintf(stderr, "example: %s failed: %s%s%s\n", what, tfevents_strerror(r), *why ? ": " : "",
            why);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: example LOGDIR\n");
        return 2;
    }
    struct tfevents_options o = TFEVENTS_OPTIONS_INIT;
    o.logdir = argv[1];
    tfevents *h;
    int r = tfevents_open(&h, &o);
    if (r < 0)
        return fail(NULL, "tfevents_open", r);
    printf("mode: %s\n", tfevents_mode(h) == TFEVENTS_MODE_DAEMON ? "daemon" : "embedded");

    int64_t last;
    if ((r = tfevents_get_step(h, NULL, &last)) < 0)
        return fail(h, "tfevents_get_step", r);
    bool fresh = last < 0;   /* nothing logged in this logdir yet */

    struct tfevents_hparam_info infos[] = {{.name = "lr", .has_interval = true, .min = 1e-4,
                                            .max = 1}};
    struct tfevents_metric_info metrics[] = {{.tag = "loss"}};
    struct tfevents_hparam hp[] = {{"lr", {.kind = TFEVENTS_HPARAM_NUMBER, .number = 0.01}}};
    if (fresh && ((r = tfevents_hparams_config(h, NULL, NULL, infos, 1, metrics, 1)) < 0 ||
                  (r = tfevents_hparams_session_start(h, NULL, NULL, hp, 1, NULL)) < 0))
        return fail(h, "hparams", r);

    tfevents_values *vs = tfevents_values_new();
    if (!vs)
        return fail(h, "tfevents_values_new", -12);
    for (int step = 0; step < 5; step++) {
        double weights[100];
        for (int i = 0; i < 100; i++)
            weights[i] = (i - 50) / (10.0 + step);
        tfevents_values_clear(vs);
        if ((r = tfevents_add_scalar(vs, NULL, "loss", 1.0 / (step + 1))) < 0 ||
            (r = tfevents_add_scalar(vs, "validation", "loss", 1.5 / (step + 1))) < 0 ||
            (r = tfevents_add_histogram(vs, NULL, "weights", weights, 100, -1)) < 0)
            return fail(h, "tfevents_add", r);
        if ((r = tfevents_log(h, NULL, vs, TFEVENTS_STEP_NEXT, TFEVENTS_NOW, NULL)) < 0)
            return fail(h, "tfevents_log", r);
    }
    tfevents_values_free(vs);
    if ((r = tfevents_log_scalar(h, NULL, NULL, "done", 1, TFEVENTS_STEP_CURRENT)) < 0)
        return fail(h, "tfevents_log_scalar", r);
    if (fresh && (r = tfevents_hparams_session_end(h, NULL, NULL, TFEVENTS_STATUS_SUCCESS)) < 0)
        return fail(h, "hparams_session_end", r);
    if ((r = tfevents_close(h)) < 0)
        return fail(NULL, "tfevents_close", r);

    tfevents_reader *rd;
    if ((r = tfevents_reader_open(&rd, argv[1])) < 0)
        return fail(NULL, "tfevents_reader_open", r);
    const struct tfevents_record *rec;
    while ((r = tfevents_reader_next(rd, &rec)) > 0)
        if (rec->kind == TFEVENTS_KIND_SCALAR)
            printf("%s %s %lld %.6g\n", rec->run, rec->tag, (long long)rec->step, rec->scalar);
    tfevents_reader_free(rd);
    return r < 0 ? fail(NULL, "tfevents_reader_next", r) : 0;
}
