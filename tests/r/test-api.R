# The tfeventsd R package against a real daemon (run by test-r-client.py,
# which starts tfeventsd with --tcp-port, sets TFEVENTSD_TCP_PORT,
# TFEVENTSD_TOKEN_FILE and TFEVENTS_CLI, and runs this in the daemon's
# root). Every check reads the files back with collect_events(). Prints
# "ok" at the end; any failed check stops with an error.
library(tfeventsd)

check <- function(cond, what) if (!isTRUE(cond)) stop("check failed: ", what, call. = FALSE)
expect_error <- function(expr, pattern) {
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  check(!is.null(msg) && grepl(pattern, msg), paste("error matching", pattern, "got", msg))
}

# Defaults and the logdir helpers.
check(get_default_logdir() == "logs", "default logdir")
with_logdir("other", check(get_default_logdir() == "other", "with_logdir inside"))
check(get_default_logdir() == "logs", "with_logdir restores")
f <- function() { local_logdir("local"); get_default_logdir() }
check(f() == "local" && get_default_logdir() == "logs", "local_logdir")

# Scalars, a run, text; the global step (one per call, from 0).
check(get_global_step(increment = FALSE) == -1L, "fresh step counter")
for (i in 0:4) log_event(loss = 1 / (i + 1), train = list(acc = i / 4))
log_event(notes = "hello from **R**", big = 1e300, tiny = -2.5e-300)
sc <- collect_events(type = "scalar")
loss <- sc[sc$tag == "loss", ]
check(identical(loss$step, as.numeric(0:4)), "loss steps")
check(isTRUE(all.equal(loss$value, 1 / (1:5), tolerance = 1e-6)), "loss values")
acc <- sc[sc$tag == "acc", ]
check(all(acc$run == "train") && identical(acc$value, (0:4) / 4), "train/acc")
check(all(sc$wall_time > 1.6e9), "wall_time column")
su <- collect_events(type = "summary")
check(value(su[su$tag == "notes", ]) == "hello from **R**", "text read back")
check(su$step[su$tag == "notes"] == 5, "text step")
check(get_global_step(increment = FALSE) == 5L, "step after six calls")

# set_global_step and explicit steps (which leave the counter alone).
set_global_step(100)
log_event(loss = 0.01)
log_event(other = 2, step = 7)
log_event(loss = 0.005)
sc <- collect_events(type = "scalar")
check(identical(sc$step[sc$tag == "loss" & sc$step > 4], c(101, 102)), "set_global_step")
check(sc$step[sc$tag == "other"] == 7, "explicit step")
check(get_global_step() == 103L && get_global_step(FALSE) == 103L, "get_global_step(TRUE)")

# NaN and infinities, and metadata.
log_event(nan = NaN, pinf = Inf,
          s = summary_scalar(2, metadata = summary_metadata("scalars", display_name = "Two",
                                                            description = "two")))
sc <- collect_events(type = "scalar")
check(is.nan(sc$value[sc$tag == "nan"]) && sc$value[sc$tag == "pinf"] == Inf, "NaN, Inf")
check(sc$value[sc$tag == "s"] == 2, "summary_scalar")
expect_error(summary_scalar(1, metadata = summary_metadata("images")), "plugin name")

# Histograms: bucketed here (64+ values) exactly as the daemon does it.
set.seed(1)
x <- rnorm(5000)
with_logdir("hist", {
  log_event(w = summary_histogram(x), small = summary_histogram(c(1, 2, 2, 3)),
            const = summary_histogram(rep(3, 100)), arr = summary_histogram(array(x, c(50, 100))),
            b10 = summary_histogram(x, buckets = 10))
  # The same data as numbers, bucketed by the daemon.
  tfeventsd:::send_lines(sprintf('{"logdir":"hist","step":0,"values":{"w_daemon":{"$histogram":{"values":[%s]}}}}',
                                 tfeventsd:::json_numbers(x)))
  su <- collect_events(type = "summary")
})
h <- value(su[su$tag == "w", ])
check(identical(dim(h), c(30L, 3L)) && sum(h[, "count"]) == 5000, "histogram shape, count")
check(identical(h, value(su[su$tag == "w_daemon", ])), "R buckets == daemon buckets")
check(identical(h, value(su[su$tag == "arr", ])), "array histogram")
check(nrow(value(su[su$tag == "b10", ])) == 10, "buckets = 10")
hs <- value(su[su$tag == "small", ])
check(sum(hs[, "count"]) == 4 && hs[1, "left"] == 1 && hs[30, "right"] == 3, "small histogram")
hc <- value(su[su$tag == "const", ])
check(hc[30, "count"] == 100 && all(hc[, "left"] == 3), "constant data")
expect_error(summary_histogram(c(1, NaN)), "NaN")

# Images (pixels, and PNG bytes) and audio (samples, and WAV bytes).
img <- array(runif(2 * 16 * 24 * 3), dim = c(2, 16, 24, 3))
png1 <- as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48,
                 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3a, 0x7e, 0x9b, 0x55,
                 0, 0, 0, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2,
                 0, 1, 0x48, 0xaf, 0xa4, 0x71, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae,
                 0x42, 0x60, 0x82))
with_logdir("media", {
  log_event(img = summary_image(img), one = summary_image(png1),
            gray = summary_image(array(200L, dim = c(1, 4, 4, 1))),
            snd = summary_audio(array(sin(1:800 / 10), dim = c(1, 400, 2)), sample_rate = 8000))
  su <- collect_events(type = "summary")
})
check(setequal(su$tag, c("img", "one", "gray", "snd")), "media tags")
check(all(su$plugin[su$tag %in% c("img", "one", "gray")] == "images"), "image plugin")
check(su$plugin[su$tag == "snd"] == "audio", "audio plugin")
expect_error(summary_image(array(0, c(4, 4, 3))), "batch, height, width, channels")
expect_error(summary_image(as.raw(1:10)), "PNG, JPEG or GIF")

# Packed arrays: the same image and audio sent as numbers in text give
# the same values; histogram data sent packed (the daemon buckets it) gives
# the R buckets.
img8 <- array(sample(0:255, 3 * 5 * 7 * 3, replace = TRUE), dim = c(3, 5, 7, 3))
storage.mode(img8) <- "integer"
snd <- array(sin(1:600 / 7) * 0.9, dim = c(2, 100, 3))
with_logdir("packed", {
  log_event(img = summary_image(img8), snd = summary_audio(snd, sample_rate = 8000), step = 0)
  name <- tfeventsd:::json_string(tfeventsd:::logdir_name("packed"))
  tfeventsd:::send_lines(sprintf(
    '{"logdir":%s,"step":0,"values":{"img_text":{"$image":{"pixels":[%s],"shape":[3,5,7,3],"dtype":"uint8"}},"snd_text":{"$audio":{"samples":[%s],"shape":[2,100,3],"sample_rate":8000}}}}',
    name, paste(as.integer(aperm(img8, 4:1)), collapse = ","),
    paste(sprintf("%.9g", as.double(aperm(snd, 3:1))), collapse = ",")))
  old <- tfeventsd:::HISTOGRAM_SEND_VALUES_BELOW
  assignInNamespace("HISTOGRAM_SEND_VALUES_BELOW", .Machine$integer.max, "tfeventsd")
  log_event(h_packed = summary_histogram(x), step = 0)
  assignInNamespace("HISTOGRAM_SEND_VALUES_BELOW", old, "tfeventsd")
  log_event(h_r = summary_histogram(x), step = 0)
  su <- collect_events(type = "summary")
})
check(su$value[su$tag == "img"] == su$value[su$tag == "img_text"], "packed pixels == text pixels")
check(su$value[su$tag == "snd"] == su$value[su$tag == "snd_text"], "packed samples == text samples")
check(identical(value(su[su$tag == "h_packed", ]), value(su[su$tag == "h_r", ])),
      "packed values bucketed by the daemon == R buckets")
expect_error(summary_image(array(300L, dim = c(1, 2, 2, 1))), "0..255")

# Base64: the base R encoder and jsonlite's (when installed) agree with
# known vectors and with each other.
check(tfeventsd:::base64_r(charToRaw("foobar")) == "Zm9vYmFy" &&
      tfeventsd:::base64_r(charToRaw("fooba")) == "Zm9vYmE=" &&
      tfeventsd:::base64_r(charToRaw("foob")) == "Zm9vYg==" &&
      tfeventsd:::base64_r(raw()) == "", "base64_r vectors")
for (n in c(1:10, 1000, 80001)) {
  r <- as.raw(sample(0:255, n, replace = TRUE))
  check(tfeventsd:::base64(r) == tfeventsd:::base64_r(r), paste("base64 of", n, "bytes"))
}

# Batching: a burst is held and sent in batches, and everything is in the
# files once a call waits; one line at a time with batch_lines = 1.
with_logdir("burst", {
  for (i in 1:20000) log_event(loss = i)
  sc <- collect_events(type = "scalar")
  check(nrow(sc) == 20000 && identical(sc$value, as.numeric(1:20000)), "burst of 20000")
  # A request right after a batch: its reply is its own (a drain of
  # refusals after the write once took it).
  for (k in 1:20) {
    for (i in 1:700) log_event(more = i)
    tfeventsd_flush()
  }
  check(sum(collect_events(type = "scalar")$tag == "more") == 14000, "bursts and flushes")
})
tfeventsd_disconnect()
options(tfeventsd.batch_lines = 1)
with_logdir("unbatched", {
  for (i in 1:50) log_event(loss = i)
  check(tfeventsd:::.state$n_held == 0L, "nothing held with batch_lines = 1")
  check(nrow(collect_events(type = "scalar")) == 50, "unbatched scalars")
})
tfeventsd_disconnect()
options(tfeventsd.batch_lines = NULL)

# Text tables.
with_logdir("text", {
  log_event(t1 = summary_text(c("a", "b")), t2 = summary_text(matrix(c("x", "y", "1", "2"), 2)),
            quote = "a \"quoted\"\n\\ line\twith \001 control")
  # UTF-8 whose continuation bytes are 0x80-0x9f (once escaped as
  # control characters), in a text and in a tag.
  do.call(log_event, setNames(list("5 \u20ac, \u4e2d\u6587 \U0001F600"), "euro \u20ac"))
  su <- collect_events(type = "summary")
})
check(setequal(su$tag, c("t1", "t2", "quote", "euro \u20ac")) && all(su$plugin == "text"),
      paste("text tags:", paste(su$tag, collapse = " ")))
check(identical(enc2utf8(value(su[su$tag == "euro \u20ac", ])),
                "5 \u20ac, \u4e2d\u6587 \U0001F600"), "UTF-8 text round trip")
check(value(su[su$tag == "quote", ]) == "a \"quoted\"\n\\ line\twith \001 control",
      "escaped text round trip")

# hparams: the config in the root, one session per logdir.
with_logdir("hp", {
  log_hparams_config(list(hparams_hparam("lr", domain = c(min_value = 0.001, max_value = 0.1)),
                          hparams_hparam("opt", domain = c("adam", "sgd")),
                          hparams_hparam("bn", domain = c(TRUE, FALSE))),
                     list(hparams_metric("loss", group = "train"), hparams_metric("acc")))
})
for (r in 1:2) with_logdir(file.path("hp", paste0("run", r)), {
  log_hparams(lr = 0.01 * r, opt = c("adam", "sgd")[r], bn = r == 1)
  log_event(train = list(loss = 1 / r), acc = r / 2)
})
su <- collect_events("hp", type = "summary")
check(sum(su$tag == "_hparams_/experiment") == 1, "experiment written")
check(sum(su$tag == "_hparams_/session_start_info") == 2, "two sessions")
check(all(su$step[grepl("^_hparams_", su$tag)] == 0), "hparams at step 0")

# events_logdir(): each call returns what is new.
with_logdir("inc", {
  log_event(a = 1)
  con <- events_logdir()
  first <- collect_events(con, type = "scalar")
  log_event(a = 2)
  log_event(a = 3)
  second <- collect_events(con, type = "scalar")
  check(nrow(first) == 1 && identical(second$value, c(2, 3)), "events_logdir increments")
  check(nrow(collect_events(con, type = "scalar")) == 0, "nothing new")
  check(nrow(collect_events(n = 2, type = "scalar")) == 2, "n rows")
})

# Refusals come back as warnings (fire and forget) or errors (requests).
with_logdir("refused", {
  log_event(x = 1, step = 5)
  w <- NULL
  withCallingHandlers({
    log_event(x = 2, step = 3)   # not greater than 5: refused by the daemon
    collect_events()
  }, warning = function(cond) {
    w <<- conditionMessage(cond)
    invokeRestart("muffleWarning")
  })
  check(!is.null(w) && grepl("not greater", w), paste("refusal warning:", w))
})
expect_error(log_event(bad = c(1, 2)), "single number")
expect_error(log_event(1), "name")
expect_error(with_logdir("/", log_event(x = 1)), "not under the daemon's root")

# A wrong token: refused with the daemon's sentence.
tfeventsd_disconnect()
bad <- tempfile()
writeLines(strrep("0", 64), bad)
options(tfeventsd.token_file = bad)
e <- tryCatch(log_event(x = 1), tfeventsd_refused = function(e) e)
check(inherits(e, "tfeventsd_refused") && identical(e$op, "auth") &&
      identical(conditionMessage(e),
                "tfeventsd: the daemon refused the connection: auth: wrong token"),
      paste("wrong token:", conditionMessage(e)))
options(tfeventsd.token_file = NULL)
log_event(after = 1)
check(nrow(collect_events(type = "scalar")) > 0, "works again with the right token")
tfeventsd_disconnect()

# The daemon gone (here: a port nothing listens on): a session that used it
# does not fall back to embedded mode.
options(tfeventsd.port = 1)
expect_error(log_event(x = 1), "cannot connect to 127.0.0.1:1")
options(tfeventsd.port = NULL)
cat("ok\n")
