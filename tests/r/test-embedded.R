# The tfeventsd R package in embedded mode: no daemon runs, and
# libtfevents (TFEVENTS_LIBRARY) writes the files in this process, with
# the daemon's semantics and refusals. Run by test-r-client.py
# (test_embedded) in an empty directory; every logdir then passes eventlint
# --strict, and the lines held at exit must be in the files. Prints "ok".
library(tfeventsd)

check <- function(cond, what) if (!isTRUE(cond)) stop("check failed: ", what, call. = FALSE)
expect_error <- function(expr, pattern) {
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  check(!is.null(msg) && grepl(pattern, msg), paste("error matching", pattern, "got", msg))
}

check(tfeventsd_mode() == "embedded", "embedded mode without a daemon")

# Scalars, runs, text and the global step, as in daemon mode.
check(get_global_step(increment = FALSE) == -1L, "fresh step counter")
for (i in 0:4) log_event(loss = 1 / (i + 1), train = list(acc = i / 4))
log_event(notes = "from **R**, in process", nan = NaN)
sc <- collect_events(type = "scalar")
check(identical(sc$step[sc$tag == "loss"], as.numeric(0:4)), "loss steps")
check(identical(sc$value[sc$tag == "acc"], (0:4) / 4) && all(sc$run[sc$tag == "acc"] == "train"),
      "train/acc")
check(is.nan(sc$value[sc$tag == "nan"]), "NaN kept")
su <- collect_events(type = "summary")
check(value(su[su$tag == "notes", ]) == "from **R**, in process", "text")
set_global_step(100)
log_event(loss = 0.01)
check(get_global_step(increment = FALSE) == 101L, "set_global_step")

# Histograms, images, audio (packed), hparams.
set.seed(2)
x <- rnorm(3000)
with_logdir("media", {
  log_event(w = summary_histogram(x), small = summary_histogram(c(1, 2, 2)),
            img = summary_image(array(runif(2 * 6 * 5 * 3), c(2, 6, 5, 3))),
            snd = summary_audio(array(sin(1:400 / 5), c(1, 200, 2)), sample_rate = 8000),
            step = 0)
  su <- collect_events(type = "summary")
})
check(setequal(su$tag, c("w", "small", "img", "snd")), "media tags")
check(sum(value(su[su$tag == "w", ])[, "count"]) == 3000, "histogram count")
with_logdir("hp", {
  log_hparams_config(list(hparams_hparam("lr", domain = c(min_value = 0.001, max_value = 0.1))),
                     list(hparams_metric("loss")))
  log_hparams(lr = 0.01)
  log_event(loss = 1)
})
check(sum(collect_events("hp", type = "summary")$tag == "_hparams_/session_start_info") == 1,
      "hparams session")

# The newer kinds and an embedding (a request: refusals are errors).
with_logdir("kinds", {
  log_event(pr = summary_pr_curve(c(TRUE, FALSE, TRUE), c(0.9, 0.3, 0.6), num_thresholds = 5),
            m = summary_mesh(matrix(c(0, 1, 0, 0, 0, 1, 0, 0, 0), 3)),
            v = summary_video(array(0:1, c(2, 2, 2, 1)) * 255L),
            proj = list(words = summary_embedding(matrix(1:6, 3), c("a", "b", "c")), n = 3))
  expect_error(log_embedding(matrix(1, 1, 1), tag = "../x"), "tag")
  su <- collect_events(type = "summary")
})
check(setequal(su$tag, c("pr", "m_VERTEX", "v", "n")), paste(su$tag, collapse = " "))
check(file.exists("kinds/proj/projector_config.pbtxt") &&
      file.exists("kinds/proj/00000/words/tensors.tsv"), "projector files")

# Refusals: the daemon's sentence, as a warning at the next waiting call.
with_logdir("refused", {
  log_event(x = 1, step = 5)
  w <- NULL
  withCallingHandlers({
    log_event(x = 2, step = 3)
    collect_events()
  }, warning = function(cond) {
    w <<- conditionMessage(cond)
    invokeRestart("muffleWarning")
  })
  check(!is.null(w) && grepl("not greater", w), paste("refusal warning:", w))
})
expect_error(log_event(bad = c(1, 2)), "single number")

# A logdir anywhere: the root is "/" (no daemon confines it).
out <- file.path(tempdir(), "elsewhere")
with_logdir(out, log_event(a = 1, step = 0))
check(nrow(collect_events(out, type = "scalar")) == 1, "a logdir outside the directory")
unlink(out, recursive = TRUE)

# Disconnect and go on: a new handle continues the step counters from the files.
tfeventsd_disconnect()
log_event(loss = 0.001)
check(get_global_step(increment = FALSE) == 102L, "step after reopening")

# A forked child cannot use the parent's handle: an error, not lines lost
# in silence.
job <- parallel::mcparallel(tryCatch({ log_event(y = 1); tfeventsd_flush(); "none" },
                                     error = function(e) conditionMessage(e)))
msg <- parallel::mccollect(job)[[1]]
check(grepl("parent process", msg), paste("forked child:", msg))

# Lines held at exit are written by the exit finalizer (checked by the harness).
with_logdir("exit", for (i in 1:3000) log_event(n = i))
cat("ok\n")
