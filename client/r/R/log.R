# log_event() and the state it uses: the default logdir and the global
# step, as in the R tfevents package. The step counter is the daemon's
# (one per logdir, shared by every client, starting at -1), so a
# log_event() without a step costs no round trip.

.state$logdir <- NULL

#' The logdir that log_event() writes to ("logs" until set).
get_default_logdir <- function() {
  if (is.null(.state$logdir)) set_default_logdir()
  .state$logdir
}

set_default_logdir <- function(logdir = "logs") {
  .state$logdir <- path.expand(logdir)
  invisible(logdir)
}

#' Evaluate code with another default logdir.
with_logdir <- function(logdir, code) {
  old <- get_default_logdir()
  set_default_logdir(logdir)
  on.exit(set_default_logdir(old))
  force(code)
}

#' Set the default logdir until the calling function (.env) returns.
local_logdir <- function(logdir, .env = parent.frame()) {
  old <- get_default_logdir()
  set_default_logdir(logdir)
  restore <- substitute(tfeventsd::set_default_logdir(OLD), list(OLD = old))
  do.call(base::on.exit, list(restore, add = TRUE, after = FALSE), envir = .env)
  invisible(old)
}

reply_number <- function(line, field) {
  m <- regmatches(line, regexec(sprintf('"%s":(-?[0-9]+)', field), line))[[1]]
  if (length(m) < 2L) stop("tfeventsd: no ", field, " in the reply ", line, call. = FALSE)
  as.numeric(m[2])
}

#' The global step of the default logdir; increment = TRUE advances it and
#' returns the new value (what the next log_event() would have used).
get_global_step <- function(increment = TRUE) {
  name <- json_string(logdir_name(get_default_logdir()))
  r <- request(sprintf('"op":"step_get","logdir":%s', name))
  if (!increment) return(as.integer(reply_number(r, "step")))
  nxt <- reply_number(r, "next")
  request(sprintf('"op":"step_set","logdir":%s,"step":%.0f', name, nxt))
  as.integer(nxt)
}

#' Make step the current one: the next log_event() without a step gets step + 1.
set_global_step <- function(step) {
  name <- json_string(logdir_name(get_default_logdir()))
  request(sprintf('"op":"step_set","logdir":%s,"step":%.0f', name, as.numeric(step)))
  invisible(as.integer(step))
}

encode_item <- function(v, name) {
  if (inherits(v, "tfeventsd_summary")) {
    if (!is.na(v$tag)) name <- v$tag
    return(c(name, v$json))
  }
  if (is.list(v) && !is.data.frame(v)) return(c(name, encode_run(v)))
  if (is.factor(v)) v <- as.character(v)
  if (is.numeric(v) && length(v) == 1L) return(c(name, json_scalar(v)))
  if (is.character(v)) {
    if (length(v) == 1L) return(c(name, json_string(v)))
    return(c(name, summary_text(v)$json))
  }
  stop("tfeventsd: cannot log '", name, "' (", class(v)[1], " of length ", length(v),
       "): log a single number, a string, a summary_*() value or a named list (a run)",
       call. = FALSE)
}

# A named list as a JSON object: values, and named lists as runs.
encode_run <- function(x) paste0("{", encode_members(x), "}")

# The object's members, without the braces.
encode_members <- function(x) {
  nm <- names(x)
  if (length(x) && (is.null(nm) || any(!nzchar(nm) | is.na(nm))))
    stop("tfeventsd: every value must have a name (its tag, or the name of a run)",
         call. = FALSE)
  kv <- vapply(seq_along(x), function(i) {
    e <- encode_item(x[[i]], nm[[i]])
    paste0(json_name(e[1]), ":", e[2])
  }, "")
  paste(kv, collapse = ",")
}

#' Log values: each named argument is a tag (a number is a scalar, a string
#' a text, a summary_*() value its kind); a named list is a run holding more.
log_event <- function(..., step = get_global_step(increment = TRUE)) {
  data <- list(...)
  nm <- names(data)
  # The commonest call, one finite number: straight to one sprintf (each
  # R call here costs about a microsecond, the whole call ~10).
  if (length(data) == 1L && is.numeric(v <- data[[1L]]) && length(v) == 1L &&
      is.finite(v) && !is.null(nm) && !is.na(nm) && nzchar(nm)) {
    ld <- .state$logdir
    if (is.null(ld)) ld <- get_default_logdir()
    name <- if (identical(ld, .state$json_logdir) && identical(getwd(), .state$json_wd))
      .state$json_name else logdir_json(ld)
    send_lines(if (missing(step))
      sprintf('{"logdir":%s,"values":{%s:%.17g}}', name, json_name(nm), v)
    else
      sprintf('{"logdir":%s,"step":%.0f,"values":{%s:%.17g}}', name, as.numeric(step),
              json_name(nm), v))
    return(invisible(data))
  }
  if (length(data) > 1L && !is.null(nm) && anyDuplicated(nm[nzchar(nm)]))
    stop("tfeventsd: a name is given twice in log_event()", call. = FALSE)
  name <- logdir_json(get_default_logdir())
  # The usual call, finite numbers only: one vectorised sprintf.
  x <- if (length(data) && !is.null(nm)) unlist(data, use.names = FALSE)
  if (is.numeric(x) && length(x) == length(data) && all(is.finite(x)) && all(nzchar(nm)) &&
      !anyNA(nm) &&
      (if (length(data) == 1L) is.numeric(data[[1L]]) else all(vapply(data, is.numeric, NA)))) {
    if (length(x) == 1L) {   # one sprintf for the whole line
      line <- if (missing(step))
        sprintf('{"logdir":%s,"values":{%s:%.17g}}', name, json_name(nm), x)
      else
        sprintf('{"logdir":%s,"step":%.0f,"values":{%s:%.17g}}', name, as.numeric(step),
                json_name(nm), x)
      send_lines(line)
      return(invisible(data))
    }
    keys <- vapply(nm, json_name, "", USE.NAMES = FALSE)
    values <- paste0(keys, ":", sprintf("%.17g", as.double(x)), collapse = ",")
  } else {
    # Embeddings are requests of their own (kinds.R), at this call's step:
    # without one given, the default's round trip gives it.
    if (any(vapply(data, is.list, NA))) {
      sp <- split_embeddings(data)
      if (length(sp$found)) {
        s <- as.numeric(step)
        if (length(sp$data))
          send_lines(sprintf('{"logdir":%s,"step":%.0f,"values":{%s}}', name, s,
                             encode_members(sp$data)))
        for (e in sp$found) send_embedding(get_default_logdir(), e$run, e$tag, e$e, s)
        return(invisible(data))
      }
    }
    values <- encode_members(data)
  }
  line <- if (missing(step)) {
    paste0('{"logdir":', name, ',"values":{', values, "}}")
  } else {
    sprintf('{"logdir":%s,"step":%.0f,"values":{%s}}', name, as.numeric(step), values)
  }
  send_lines(line)
  invisible(data)
}
