# Reading logdirs back: collect_events() and events_logdir() of the R
# tfevents package. The decoding (record framing, CRCs, truncated tails,
# every tensor dtype) is the tfevents command-line tool's, which
# `tfevents collect` runs; this file turns its CSV into data frames.

tfevents_cli <- function() {
  cli <- setting("tfeventsd.cli", "TFEVENTS_CLI", "")
  if (!nzchar(cli)) cli <- Sys.which("tfevents")
  if (!nzchar(cli))
    stop("tfeventsd: reading logdirs needs the tfevents command (installed with the ",
         "daemon); set TFEVENTS_CLI when it is not on the PATH", call. = FALSE)
  cli
}

#' A logdir being read: collect_events() on it returns only what is new
#' since the last call.
events_logdir <- function(logdir = get_default_logdir()) {
  if (inherits(logdir, "tfeventsd_logdir")) return(logdir)
  con <- new.env(parent = emptyenv())
  con$path <- logdir
  con$seen <- c(any = 0, summary = 0, scalar = 0)
  structure(list(con = con), class = "tfeventsd_logdir")
}

# What was logged before reading must be in the files: flush first when
# connected (every logdir: those nested in this one are separate to the daemon).
flush_before_reading <- function(path) {
  if (is.null(.state$con)) return(invisible())
  tryCatch(tfeventsd_flush(), error = function(e) NULL)   # nested logdirs too
  invisible()
}

#' Events of a logdir as a data frame: one row per event (type "any":
#' run, step, wall_time, kind), per summary value ("summary": run, step,
#' wall_time, tag, plugin, value) or per scalar ("scalar": run, tag, step,
#' wall_time, value). n: at most this many rows.
collect_events <- function(logdir = get_default_logdir(), n = NULL,
                           type = c("any", "summary", "scalar")) {
  type <- match.arg(type)
  if (!is.null(n) && n <= 0) stop("tfeventsd: n must be positive or NULL", call. = FALSE)
  lc <- if (inherits(logdir, "tfeventsd_logdir")) logdir$con else NULL
  path <- if (is.null(lc)) logdir else lc$path
  flush_before_reading(path)
  err <- tempfile()
  on.exit(unlink(err))
  out <- suppressWarnings(system2(tfevents_cli(), c("collect", shQuote(path), "--type", type,
                                                    "--format", "csv"),
                                  stdout = TRUE, stderr = err))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0L)
    stop("tfeventsd: reading ", path, " failed: ", paste(readLines(err), collapse = "\n"),
         call. = FALSE)
  cls <- switch(type,
                any = c("character", "numeric", "numeric", "character"),
                summary = c("character", "numeric", "numeric", "character", "character",
                            "character"),
                scalar = c("character", "character", "numeric", "numeric", "numeric"))
  df <- utils::read.csv(text = paste(out, collapse = "\n"), colClasses = cls,
                        stringsAsFactors = FALSE, na.strings = character())
  skip <- if (is.null(lc)) 0 else lc$seen[[type]]
  if (skip > 0) df <- df[-seq_len(min(skip, nrow(df))), , drop = FALSE]
  if (!is.null(n) && nrow(df) > n) df <- df[seq_len(n), , drop = FALSE]
  if (!is.null(lc)) lc$seen[[type]] <- skip + nrow(df)
  rownames(df) <- NULL
  df
}

#' The value(s) of collected events: numbers for scalars, strings for
#' text, a (k x 3) matrix (left, right, count) for a histogram, a data
#' frame (one row per threshold) for a PR curve.
value <- function(x, ...) UseMethod("value")

value.default <- function(x, ...) x

decode_json <- function(s) {
  if (use_jsonlite()) return(jsonlite::fromJSON(s))
  nums <- regmatches(s, gregexpr("-?[0-9.]+(e[-+]?[0-9]+)?", s, ignore.case = TRUE))[[1]]
  as.numeric(nums)
}

value.data.frame <- function(x, ..., as_list = FALSE) {
  if (!"value" %in% names(x)) stop("tfeventsd: no value column", call. = FALSE)
  if (!"plugin" %in% names(x)) return(x$value)
  out <- lapply(seq_len(nrow(x)), function(i) {
    v <- x$value[[i]]
    switch(x$plugin[[i]],
           scalars = as.numeric(v),
           histograms = {
             h <- decode_json(v)
             if (!is.matrix(h)) h <- matrix(h, ncol = 3L, byrow = TRUE)
             colnames(h) <- c("left", "right", "count")
             h
           },
           pr_curves = pr_curve_frame(v),
           v)
  })
  if (!as_list && length(out) == 1L) out[[1]] else out
}

# A PR curve row of `tfevents collect` ({"num_thresholds": k, and six
# arrays of k numbers, in this order}) as a data frame.
PR_CURVE_ROWS <- c("true_positives", "false_positives", "true_negatives", "false_negatives",
                   "precision", "recall")

pr_curve_frame <- function(v) {
  j <- decode_json(v)
  if (is.list(j)) {
    k <- j$num_thresholds
    cols <- lapply(PR_CURVE_ROWS, function(n) as.numeric(j[[n]]))
  } else {   # without jsonlite: the numbers in order
    k <- j[1]
    cols <- lapply(seq_along(PR_CURVE_ROWS) - 1L, function(i) j[1L + i * k + seq_len(k)])
  }
  names(cols) <- PR_CURVE_ROWS
  data.frame(threshold = (seq_len(k) - 1) / (k - 1), cols)
}
