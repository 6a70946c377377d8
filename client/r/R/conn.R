# The connection to tfeventsd: its loopback TCP listener (base R has no
# Unix sockets), the token that stands in for the socket's permissions,
# and the daemon's root, which maps the logdir paths of the R API to the
# names the daemon takes (relative to its root).

.state <- new.env(parent = emptyenv())
.state$con <- NULL
.state$next_id <- 0
.state$sent <- 0
.state$root <- NULL

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

tcp_port <- function() {
  p <- setting("tfeventsd.port", "TFEVENTSD_TCP_PORT")
  if (!nzchar(p))
    stop("tfeventsd: no TCP port: start the daemon with --tcp-port PORT and set ",
         "TFEVENTSD_TCP_PORT (or options(tfeventsd.port = PORT))", call. = FALSE)
  as.integer(p)
}

read_token <- function() {
  f <- token_file()
  tok <- tryCatch(readLines(f, n = 1L, warn = FALSE), error = function(e) NULL,
                  warning = function(w) NULL)
  if (length(tok) != 1L || !nzchar(tok))
    stop("tfeventsd: cannot read the TCP token file ", f, ": is the daemon running with ",
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
      stop("tfeventsd: cannot connect to ", host, ":", port, " (", conditionMessage(e),
           "): is the daemon running with --tcp-port ", port, "?", call. = FALSE))
  writeLines(sprintf('{"op":"auth","token":%s}', json_string(read_token())), con, useBytes = TRUE)
  reply <- readLines(con, n = 1L)
  if (length(reply) != 1L || !grepl('"ok":true', reply, fixed = TRUE)) {
    close(con)
    stop("tfeventsd: the daemon refused the connection: ",
         if (length(reply)) reply else "(closed)", call. = FALSE)
  }
  con
}

# The daemon's root (absolute, symbolic links resolved): asked once per
# session in a binary-protocol Hello, the only reply that carries it.
daemon_root <- function() {
  if (!is.null(.state$root)) return(.state$root)
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

connection <- function() {
  if (is.null(.state$con)) {
    .state$con <- open_authenticated()
    .state$sent <- 0
  }
  .state$con
}

#' Connect to the daemon now (otherwise the first call does).
tfeventsd_connect <- function() invisible(connection())

#' Close the connection (after the daemon has everything).
tfeventsd_disconnect <- function() {
  if (!is.null(.state$con)) {
    try(tfeventsd_flush(), silent = TRUE)
    try(close(.state$con), silent = TRUE)
    .state$con <- NULL
  }
  invisible()
}

# A reply line that is not the one awaited: a refused fire-and-forget
# request. Surfaced as a warning, with the daemon's sentence.
stray_reply <- function(line) {
  if (!grepl('"ok":true', line, fixed = TRUE))
    warning("tfeventsd: ", line, call. = FALSE)
}

# Read the replies already there, without waiting.
drain_replies <- function() {
  con <- .state$con
  if (is.null(con)) return(invisible())
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

# Send lines; reconnect once when the daemon went away (restarted).
send_lines <- function(lines) {
  ok <- tryCatch({
    writeLines(lines, connection(), useBytes = TRUE)
    TRUE
  }, error = function(e) FALSE)
  if (!ok) {
    try(close(.state$con), silent = TRUE)
    .state$con <- NULL
    writeLines(lines, connection(), useBytes = TRUE)
  }
  .state$sent <- .state$sent + length(lines)
  # Now and then, collect refusals so that they are not all held until
  # the next flush (the daemon queues a bounded number of replies).
  if (.state$sent >= 512) {
    .state$sent <- 0
    drain_replies()
  }
  invisible()
}

# Send one request (JSON object text without its braces) and wait for its
# reply line; returns the line. Errors are R errors.
request <- function(body) {
  .state$next_id <- .state$next_id + 1
  id <- sprintf("%.0f", .state$next_id)
  send_lines(sprintf('{"id":%s,%s}', id, body))
  pat <- sprintf('"id":%s[,}]', id)
  repeat {
    line <- readLines(.state$con, n = 1L)
    if (length(line) == 0L) {
      .state$con <- NULL
      stop("tfeventsd: the daemon closed the connection", call. = FALSE)
    }
    if (grepl(pat, line)) break
    stray_reply(line)
  }
  if (!grepl('"ok":true', line, fixed = TRUE))
    stop("tfeventsd: ", line, call. = FALSE)
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

resolve_logdir <- function(logdir) {
  root <- daemon_root()
  abs <- full_path(logdir)
  if (!startsWith(abs, paste0(root, "/")))
    stop("tfeventsd: the logdir ", abs, " is not under the daemon's root ", root,
         ": log under it (or start tfeventsd with --root above this logdir)", call. = FALSE)
  substring(abs, nchar(root) + 2L)
}
