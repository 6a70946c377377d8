# The connection to tfeventsd: its loopback TCP listener (base R has no
# Unix sockets), the token that stands in for the socket's permissions,
# and the daemon's root, which maps the logdir paths of the R API to the
# names the daemon takes (relative to its root).

.state <- new.env(parent = emptyenv())
.state$con <- NULL
.state$next_id <- 0
.state$sent <- 0
.state$root <- NULL
.state$max_held <- 1L   # until connection() reads the option

# The rule of tfeventsd and libtfevents for the default socket.
default_socket <- function() {
  s <- Sys.getenv("TFEVENTS_SOCKET")
  if (nzchar(s)) return(s)
  x <- Sys.getenv("XDG_RUNTIME_DIR")
  if (nzchar(x)) return(file.path(x, "tfevents.sock"))
  if (identical(Sys.info()[["effective_user"]], "root")) return("/run/tfevents.sock")
  "./tfevents.sock"
}

setting <- function(option, env, default = "") {
  v <- getOption(option)
  if (!is.null(v)) return(as.character(v))
  v <- Sys.getenv(env)
  if (nzchar(v)) v else default
}

token_file <- function() {
  setting("tfeventsd.token_file", "TFEVENTSD_TOKEN_FILE", paste0(default_socket(), ".token"))
}

# No daemon to talk to (as opposed to one that refuses): in mode "auto",
# the files are then written in this process (embedded mode).
no_daemon <- function(..., call. = FALSE) {
  stop(structure(class = c("tfeventsd_no_daemon", "error", "condition"),
                 list(message = paste0(...), call = NULL)))
}

tcp_port <- function() {
  p <- setting("tfeventsd.port", "TFEVENTSD_TCP_PORT")
  if (!nzchar(p))
    no_daemon("tfeventsd: no TCP port: start the daemon with --tcp-port PORT and set ",
              "TFEVENTSD_TCP_PORT (or options(tfeventsd.port = PORT))")
  as.integer(p)
}

read_token <- function() {
  f <- token_file()
  tok <- tryCatch(readLines(f, n = 1L, warn = FALSE), error = function(e) NULL,
                  warning = function(w) NULL)
  if (length(tok) != 1L || !nzchar(tok))
    (if (file.exists(f)) stop else no_daemon)(
      "tfeventsd: cannot read the TCP token file ", f, ": is the daemon running with ",
      "--tcp-port, and may this user use its socket? (set TFEVENTSD_TOKEN_FILE when ",
      "the file is elsewhere)", call. = FALSE)
  tok
}

# A new TCP connection that presented the token.
open_authenticated <- function() {
  host <- setting("tfeventsd.host", "TFEVENTSD_TCP_HOST", "127.0.0.1")
  port <- tcp_port()
  con <- tryCatch(
    suppressWarnings(socketConnection(host = host, port = port, blocking = TRUE,
                                      open = "r+b", timeout = 60)),
    error = function(e)
      no_daemon("tfeventsd: cannot connect to ", host, ":", port, " (", conditionMessage(e),
                "): is the daemon running with --tcp-port ", port, "?"))
  writeLines(sprintf('{"op":"auth","token":%s}', json_string(read_token())), con, useBytes = TRUE)
  reply <- readLines(con, n = 1L)
  if (length(reply) != 1L || !grepl('"ok":true', reply, fixed = TRUE)) {
    close(con)
    if (!length(reply))
      stop("tfeventsd: the daemon closed the connection before its answer", call. = FALSE)
    refused(reply, "the daemon refused the connection: ")
  }
  con
}

# The daemon's root (absolute, symbolic links resolved): asked once per
# session in a binary-protocol Hello, the only reply that carries it.
daemon_root <- function() {
  if (!is.null(.state$root)) return(.state$root)
  if (is_embedded(connection())) return(.state$root <- "/")   # names are paths
  con <- open_authenticated()
  on.exit(close(con))
  writeBin(charToRaw("TFEVBIN\001"), con)
  head <- readBin(con, "raw", 5L)
  if (length(head) != 5L || head[5] != as.raw(3L))
    stop("tfeventsd: no Hello frame from the daemon", call. = FALSE)
  n <- sum(as.integer(head[1:4]) * 256^(0:3))
  p <- readBin(con, "raw", n)
  i <- 1L
  root <- NULL
  while (i <= length(p)) {
    key <- as.integer(p[i]); i <- i + 1L
    v <- 0; shift <- 1
    repeat {   # a varint: the value, or the length of a string
      b <- as.integer(p[i]); i <- i + 1L
      v <- v + (b %% 128L) * shift; shift <- shift * 128
      if (b < 128L) break
    }
    if (key %% 8L == 2L) {
      if (key %/% 8L == 3L) root <- rawToChar(p[i:(i + v - 1L)])
      i <- i + v
    }
  }
  if (is.null(root)) stop("tfeventsd: the Hello carries no root", call. = FALSE)
  Encoding(root) <- "UTF-8"
  .state$root <- root
  root
}

# ---- the transport: the daemon, or libtfevents in this process -----------

is_embedded <- function(con) inherits(con, "tfeventsd_embedded")

# Embedded mode (src/embedded.c): libtfevents, loaded at run time, executes
# the same JSON lines as the daemon would and writes the files itself.
open_embedded <- function() {
  path <- setting("tfeventsd.library", "TFEVENTS_LIBRARY", "libtfevents.so.1")
  ptr <- tryCatch(.Call(C_tfd_open, path), error = function(e)
    stop("tfeventsd: no daemon, and no libtfevents to write the files in this process (",
         conditionMessage(e), "): install libtfevents (or set TFEVENTS_LIBRARY), or start ",
         "the daemon: tfeventsd --root DIR --tcp-port PORT, with TFEVENTSD_TCP_PORT=PORT ",
         "here", call. = FALSE))
  structure(list(ptr = ptr, replies = new.env(parent = emptyenv())),
            class = "tfeventsd_embedded")
}

# "auto" (default): the daemon when one answers, else embedded; "daemon"
# or "embedded" forced (TFEVENTS_MODE, as for libtfevents and Python).
open_transport <- function() {
  mode <- setting("tfeventsd.mode", "TFEVENTS_MODE", "auto")
  if (!mode %in% c("auto", "daemon", "embedded"))
    stop("tfeventsd: the mode is auto, daemon or embedded, not '", mode, "'", call. = FALSE)
  if (mode == "embedded") return(open_embedded())
  con <- tryCatch(open_authenticated(), tfeventsd_no_daemon = function(e) e)
  if (!inherits(con, "tfeventsd_no_daemon")) {
    .state$had_daemon <- TRUE
    return(con)
  }
  # A session that used the daemon stays with it: lines held for it name
  # logdirs under its root, and would land elsewhere in embedded mode.
  if (mode == "daemon" || isTRUE(.state$had_daemon)) stop(conditionMessage(con), call. = FALSE)
  # A daemon on its socket only (base R cannot use one): writing the same
  # logdirs from here too would interleave two writers.
  sock <- default_socket()
  if (file.exists(sock))
    stop(conditionMessage(con), "\ntfeventsd: a daemon seems to listen on ", sock,
         ": give it a TCP listener (--tcp-port PORT, and TFEVENTSD_TCP_PORT=PORT here), ",
         "or set TFEVENTS_MODE=embedded to write in this process anyway", call. = FALSE)
  open_embedded()
}

# A new transport may see other names (the daemon's root or "/"): the
# caches of names are emptied.
forget_names <- function() {
  .state$root <- NULL
  .state$names <- NULL
  .state$last_logdir <- NULL
  .state$json_logdir <- NULL
}

connection <- function() {
  if (is.null(.state$con)) {
    con <- open_transport()
    if (!identical(class(con), .state$con_class)) forget_names()
    .state$con_class <- class(con)
    .state$con <- con
    .state$sent <- 0
    .state$max_held <- batch_lines()
  }
  .state$con
}

#' Connect to the daemon now (otherwise the first call does).
tfeventsd_connect <- function() invisible(connection())

#' "daemon" or "embedded": where the values go (connecting first).
tfeventsd_mode <- function() if (is_embedded(connection())) "embedded" else "daemon"

# Close the transport (embedded: write and close every file).
close_transport <- function(con) {
  if (is_embedded(con)) {
    why <- .Call(C_tfd_close, con$ptr)
    if (nzchar(why)) warning("tfeventsd: closing the files: ", why, call. = FALSE)
  } else {
    close(con)
  }
}

#' Close the connection (after the daemon has everything).
tfeventsd_disconnect <- function() {
  if (!is.null(.state$con)) {
    try(tfeventsd_flush(), silent = TRUE)
    try(close_transport(.state$con), silent = TRUE)
    .state$con <- NULL
  }
  invisible()
}

# The next reply line (NULL: the transport is gone): the daemon's, or one
# that embedded mode queued.
read_reply <- function(con) {
  if (is_embedded(con)) {
    q <- con$replies$lines
    if (!length(q)) stop("tfeventsd: no reply (a bug)", call. = FALSE)
    con$replies$lines <- q[-1L]
    return(q[[1L]])
  }
  line <- readLines(con, n = 1L)
  if (length(line)) line else NULL
}

# A refused request (a reply with "ok":false) as a condition of class
# tfeventsd_refused (an error) or tfeventsd_refused_warning: its message
# is the daemon's sentence as text, its fields those of the reply that a
# program may use (error, line, id, op; absent ones NULL) and the reply
# line itself.
refusal <- function(line, what = "") {
  f <- reply_fields(line)
  if (Encoding(line) == "unknown") Encoding(line) <- "UTF-8"   # the daemon writes UTF-8
  err <- if (is.character(f$error)) f$error else line   # not a reply: shown as it is
  c(list(message = paste0("tfeventsd: ", what, err), call = NULL, error = err),
    f[intersect(c("line", "id", "op"), names(f))], list(reply = line))
}

refused <- function(line, what = "") {
  stop(structure(class = c("tfeventsd_refused", "error", "condition"), refusal(line, what)))
}

# A reply line that is not the one awaited: a refused fire-and-forget
# request. Surfaced as a warning, with the daemon's sentence.
stray_reply <- function(line) {
  if (!grepl('"ok":true', line, fixed = TRUE))
    warning(structure(class = c("tfeventsd_refused_warning", "warning", "condition"),
                      refusal(line)))
}

# Read the replies already there, without waiting.
drain_replies <- function() {
  con <- .state$con
  if (is.null(con)) return(invisible())
  if (is_embedded(con)) {
    q <- con$replies$lines
    con$replies$lines <- NULL
    for (line in q) stray_reply(line)
    return(invisible())
  }
  while (isTRUE(socketSelect(list(con), write = FALSE, timeout = 0))) {
    line <- readLines(con, n = 1L)
    if (length(line) == 0L) {
      try(close(con), silent = TRUE)
      .state$con <- NULL
      warning("tfeventsd: the daemon closed the connection", call. = FALSE)
      break
    }
    stray_reply(line)
  }
  invisible()
}

# Batching. A log_event() call costs R microseconds, a send() on a socket
# tens of them, so lines are held and sent together: when BATCH_LINES or
# BATCH_BYTES are held, when a call comes BATCH_SECONDS after the oldest
# held line (the clock is read every BATCH_CLOCK_EVERY lines, it costs
# more than the rest of a call), before every request that waits for a
# reply (flush, step_get, ...), on tfeventsd_flush() / tfeventsd_disconnect()
# and when R exits. A line is sent at once when nothing was sent for
# BATCH_SECONDS (a script that logs now and then is not delayed). Without
# a thread R cannot send on a timer: the last lines of a burst wait for the
# next call (or a flush). options(tfeventsd.batch_lines = 1) sends every
# line as it is logged.
BATCH_LINES <- 4096L
BATCH_BYTES <- 262144
BATCH_SECONDS <- 0.05
BATCH_CLOCK_EVERY <- 32L

.state$held <- character(BATCH_LINES)
.state$n_held <- 0L
.state$held_bytes <- 0
.state$held_since <- 0
.state$last_send <- 0

batch_lines <- function() {
  n <- getOption("tfeventsd.batch_lines")
  if (is.null(n)) BATCH_LINES else max(1L, min(as.integer(n), BATCH_LINES))
}

# Write text (whole lines) to the daemon; reconnect once when it went away
# (restarted). One write: R sends each writeLines() element separately.
write_text <- function(text) {
  con <- connection()
  if (is_embedded(con)) {   # executed now; the replies kept for reading
    con$replies$lines <- c(con$replies$lines, .Call(C_tfd_exec, con$ptr, text))
    return(invisible())
  }
  ok <- tryCatch({
    writeChar(text, connection(), eos = NULL, useBytes = TRUE)
    TRUE
  }, error = function(e) FALSE)
  if (!ok) {
    try(close(.state$con), silent = TRUE)
    .state$con <- NULL
    writeChar(text, connection(), eos = NULL, useBytes = TRUE)
  }
}

# Send the held lines now.
send_held <- function() {
  n <- .state$n_held
  if (n == 0L) return(invisible())
  held <- .state$held
  .state$held <- NULL
  text <- paste0(paste(held[seq_len(n)], collapse = "\n"), "\n")
  held[seq_len(n)] <- ""   # sent: not kept alive (an image line is 16 KB)
  .state$held <- held
  .state$n_held <- 0L
  .state$held_bytes <- 0
  .state$last_send <- as.double(Sys.time())
  # Now and then, collect refusals so that they are not all held until
  # the next flush (the daemon queues a bounded number of replies). Before
  # writing: afterwards, the reply that request() awaits could be taken.
  if (.state$sent >= 512) {
    .state$sent <- 0
    drain_replies()
  }
  write_text(text)
  .state$sent <- .state$sent + n
  invisible()
}

# Queue lines (complete JSON objects, no newline) for the daemon.
send_lines <- function(lines) {
  if (is.null(.state$con)) connection()   # a refused connection is an error now
  n <- .state$n_held
  k <- length(lines)
  if (n + k > length(.state$held)) {   # more than a batch at once
    send_held()
    n <- 0L
    if (k > length(.state$held)) .state$held <- character(k)
  }
  # Taken out of .state while it changes: `.state$held[i] <- x` would copy
  # the whole vector on every call.
  held <- .state$held
  .state$held <- NULL
  held[(n + 1L):(n + k)] <- lines
  .state$held <- held
  .state$n_held <- n <- n + k
  .state$held_bytes <- .state$held_bytes + sum(nchar(lines, type = "bytes"))
  if (n == k) {
    # The first held line: send it now when the caller is logging slowly.
    now <- as.double(Sys.time())
    .state$held_since <- now
    if (now - .state$last_send >= BATCH_SECONDS) return(send_held())
  }
  if (n >= .state$max_held || .state$held_bytes >= BATCH_BYTES ||
      (n %% BATCH_CLOCK_EVERY == 0L && as.double(Sys.time()) - .state$held_since >= BATCH_SECONDS))
    send_held()
  invisible()
}

# Send one request (JSON object text without its braces) and wait for its
# reply line; returns the line. A refusal is an R error of class
# tfeventsd_refused (refused()).
request <- function(body) {
  .state$next_id <- .state$next_id + 1
  id <- sprintf("%.0f", .state$next_id)
  send_lines(sprintf('{"id":%s,%s}', id, body))
  send_held()
  pat <- sprintf('"id":%s[,}]', id)
  repeat {
    line <- read_reply(.state$con)
    if (is.null(line)) {
      .state$con <- NULL
      stop("tfeventsd: the daemon closed the connection", call. = FALSE)
    }
    if (grepl(pat, line)) break
    stray_reply(line)
  }
  if (!grepl('"ok":true', line, fixed = TRUE)) refused(line)
  line
}

#' Wait until everything logged so far is in the files.
tfeventsd_flush <- function(logdir = NULL, sync = FALSE) {
  body <- '"op":"flush"'
  if (!is.null(logdir)) body <- paste0(body, ',"logdir":', json_string(logdir_name(logdir)))
  if (sync) body <- paste0(body, ',"sync":true')
  invisible(request(body))
}

# An absolute path with "." and ".." folded and symbolic links of its
# existing part resolved (as the daemon's root is).
full_path <- function(path) {
  path <- path.expand(path)
  if (!startsWith(path, "/")) path <- file.path(getwd(), path)
  parts <- strsplit(path, "/", fixed = TRUE)[[1]]
  out <- character()
  for (p in parts) {
    if (p == "" || p == ".") next
    if (p == "..") out <- out[-length(out)] else out <- c(out, p)
  }
  rest <- character()
  while (length(out) > 0 && !file.exists(paste0("/", paste(out, collapse = "/")))) {
    rest <- c(out[length(out)], rest)
    out <- out[-length(out)]
  }
  base <- normalizePath(paste0("/", paste(out, collapse = "/")), mustWork = FALSE)
  if (length(rest)) paste(c(sub("/$", "", base), rest), collapse = "/") else base
}

# The daemon's name of a logdir path: relative to its root.
logdir_name <- function(logdir) {
  cache <- .state$names
  if (is.null(cache)) cache <- .state$names <- new.env(parent = emptyenv())
  # The last answer first: most calls log to the same logdir.
  wd <- getwd()
  if (identical(.state$last_logdir, logdir) && identical(.state$last_wd, wd))
    return(.state$last_name)
  key <- paste0(wd, "\r", logdir)
  hit <- cache[[key]]
  if (is.null(hit)) hit <- resolve_logdir(logdir)
  assign(key, hit, envir = cache)
  .state$last_logdir <- logdir
  .state$last_wd <- wd
  .state$last_name <- hit
  hit
}

# The same as a JSON string, kept for the last logdir (log_event()'s).
logdir_json <- function(logdir) {
  if (identical(.state$json_logdir, logdir) && identical(.state$json_wd, getwd()))
    return(.state$json_name)
  j <- json_string(logdir_name(logdir))
  .state$json_logdir <- logdir
  .state$json_wd <- getwd()
  .state$json_name <- j
  j
}

resolve_logdir <- function(logdir) {
  root <- daemon_root()
  abs <- full_path(logdir)
  prefix <- if (root == "/") "/" else paste0(root, "/")   # embedded: "/"
  if (!startsWith(abs, prefix))
    stop("tfeventsd: the logdir ", abs, " is not under the daemon's root ", root,
         ": log under it (or start tfeventsd with --root above this logdir)", call. = FALSE)
  substring(abs, nchar(prefix) + 1L)
}
