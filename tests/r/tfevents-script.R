# A script written for the R tfevents package (mlverse), with only its
# library() line changed: it must run unchanged on tfeventsd.
library(tfeventsd)

set_default_logdir("script-logs")
epochs <- 10
for (epoch in seq_len(epochs)) {
  log_event(
    train = list(loss = exp(-epoch / 3), acc = 1 - exp(-epoch / 3)),
    valid = list(loss = exp(-epoch / 4), acc = 1 - exp(-epoch / 4))
  )
  log_event(weights = summary_histogram(rnorm(1000, sd = 1 / epoch)))
}
log_event(text = summary_text("Some **markdown** text"))
log_event(image = summary_image(array(runif(3 * 28 * 28 * 1), dim = c(3, 28, 28, 1))))
log_event(audio = summary_audio(array(runif(100, -1, 1), dim = c(1, 100, 1))))
log_event(loss = summary_scalar(0.5, metadata = summary_metadata("scalars",
                                                                 description = "The loss")))
with_logdir("script-logs/run1", {
  log_hparams_config(list(hparams_hparam("dropout", c(0.1, 0.5))),
                     list(hparams_metric("loss", group = "train")))
  log_hparams(dropout = 0.1)
  log_event(train = list(loss = 0.3))
})
events <- collect_events("script-logs")
scalars <- collect_events("script-logs", type = "scalar")
stopifnot(nrow(scalars) == 4 * epochs + 2, nrow(events) > nrow(scalars))
print(head(scalars))
cat("ok\n")
