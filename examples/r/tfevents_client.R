# Log to tfeventsd from R with nothing but base R.
#
# Usage: Rscript tfevents_client.R PORT TOKEN_FILE LOGDIR
#
# (The tfeventsd R package, client/r, does all of this behind the R
# tfevents API; this file shows the protocol itself.)
#
# Base R cannot open a Unix socket (socketConnection() is TCP only), so this
# client needs the daemon's opt-in loopback TCP listener:
#   tfeventsd --tcp-port 6006x ...   (see tfeventsd(8))
# PORT is that port on 127.0.0.1; TOKEN_FILE the file where the daemon put
# the listener's token (by default the socket's path with ".token"
# appended: whoever may use the socket may read it); LOGDIR a directory
# relative to the daemon's root. Logs five steps of scalars (loss, train/acc), a text and a
# histogram, then flushes and checks every reply. The protocol is in
# docs/protocol.md: one JSON object per line, one reply line for each
# request that carries an "id". Base R has no JSON parser either: the
# requests are built with sprintf() and the replies only searched for
# "ok":true.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) {
  message("usage: Rscript tfevents_client.R PORT TOKEN_FILE LOGDIR")
  quit(status = 2)
}
port <- as.integer(args[1])
token <- readLines(args[2], n = 1, warn = FALSE)
logdir <- args[3]

# A JSON string literal: quotes, backslashes and control characters escaped.
json_string <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  s <- gsub("\r", "\\r", s, fixed = TRUE)
  paste0("\"", s, "\"")
}
# Numbers with all their digits (17 significant: the double round-trips).
json_number <- function(x) sprintf("%.17g", x)

con <- socketConnection(host = "127.0.0.1", port = port, blocking = TRUE,
                        open = "r+", timeout = 30)
next_id <- 0L

# A TCP connection's first line presents the token; nothing else is
# accepted before it is answered.
writeLines(sprintf("{\"op\":\"auth\",\"token\":\"%s\"}", token), con)
auth <- readLines(con, n = 1)
if (length(auth) == 0 || !grepl("\"ok\":true", auth, fixed = TRUE)) {
  message("not authenticated: ", auth)
  quit(status = 1)
}

# Send one request (JSON text without its closing brace's id) and return
# the reply line that carries its id.
request <- function(body) {
  next_id <<- next_id + 1L
  writeLines(sprintf("{\"id\":%d,%s}", next_id, body), con)
  repeat {
    line <- readLines(con, n = 1)
    if (length(line) == 0) stop("the daemon closed the connection")
    if (grepl(sprintf("\"id\":%d[,}]", next_id), line)) return(line)
  }
}
ok <- function(reply) grepl("\"ok\":true", reply, fixed = TRUE)

failed <- FALSE
# No "step": each message takes the logdir's next step, so running the
# example again continues after the steps already there.
for (i in 0:4) {
  values <- c(sprintf("\"loss\":%s", json_number(1 / (i + 1))),
              sprintf("\"train\":{\"acc\":%s}", json_number(i / 4)))
  if (i == 0)
    values <- c(values, sprintf("\"notes\":%s", json_string("hello from **R**")))
  if (i == 4) {
    w <- c(0.1, 0.2, 0.2, 0.7, 1.5)
    values <- c(values, sprintf("\"weights\":{\"$histogram\":{\"values\":[%s]}}",
                                paste(json_number(w), collapse = ",")))
  }
  reply <- request(sprintf("\"logdir\":%s,\"values\":{%s}",
                           json_string(logdir), paste(values, collapse = ",")))
  if (!ok(reply)) {
    message(sprintf("message %d refused: %s", i, reply))
    failed <- TRUE
  }
}
# The reply to a flush comes once everything before it is in the files.
reply <- request(sprintf("\"op\":\"flush\",\"logdir\":%s,\"sync\":true", json_string(logdir)))
close(con)
if (!ok(reply)) {
  message("flush failed: ", reply)
  quit(status = 1)
}
if (failed) quit(status = 1)
cat("ok\n")
