# Refusals as an R user reads them: the daemon's sentence as plain text
# (its JSON string unescaped), prefixed by "tfeventsd: ", in conditions of
# class tfeventsd_refused (requests: errors) and tfeventsd_refused_warning
# (fire-and-forget lines), which carry the reply's fields. Run by
# test-r-client.py against the daemon and in embedded mode (there without
# jsonlite: TFEVENTSD_TEST_NO_JSONLITE=1), so both give the same text and
# the package reads replies in base R. Prints "ok".
library(tfeventsd)

check <- function(cond, what) if (!isTRUE(cond)) stop("check failed: ", what, call. = FALSE)
same <- function(got, want, what)
  check(identical(got, want), sprintf("%s:\n got  %s\n want %s", what,
                                      paste(deparse(got), collapse = ""),
                                      paste(deparse(want), collapse = "")))

if (nzchar(Sys.getenv("TFEVENTSD_TEST_NO_JSONLITE")))
  check(!requireNamespace("jsonlite", quietly = TRUE), "jsonlite is hidden from this run")

# The condition a call raises (an error, or a warning at the next call
# that waits), with its class checked.
caught <- function(expr, class) {
  got <- tryCatch({ expr; NULL }, condition = function(e) e)
  check(!is.null(got), paste("no condition; expected", class))
  same(class(got), c(class, if (grepl("warning", class)) "warning" else "error", "condition"),
       "condition class")
  got
}

# The fields a program can use: the sentence (the message without the
# prefix), the line number, the id of a request, the reply as it came.
check_fields <- function(e, request) {
  same(conditionMessage(e), paste0("tfeventsd: ", e$error), "message = prefix + error")
  check(is.numeric(e$line) && length(e$line) == 1L && e$line >= 1, "line field")
  if (request) check(is.numeric(e$id) && length(e$id) == 1L, "id field of a request")
  else check(is.null(e$id), "a fire-and-forget line has no id")
  check(is.character(e$reply) && grepl('"ok":false', e$reply, fixed = TRUE), "reply field")
  check(Encoding(e$error) %in% c("UTF-8", "unknown"), "the sentence is UTF-8")
}

# A tag with a quote, a backslash and non-ASCII letters: escaped in the
# reply, plain in the message.
tag <- "q\"\\\u00e9\u20ac\U0001F600"
restart <- paste0(" (TensorBoard would delete the newer points); nothing of this message ",
                  "was written. Use op \"restart\" to go back to an earlier step")
with_logdir("refused", {
  do.call(log_event, c(setNames(list(1), tag), step = 5))
  w <- caught({
    do.call(log_event, c(setNames(list(2), tag), step = 3))
    tfeventsd_flush()
  }, "tfeventsd_refused_warning")
  same(conditionMessage(w), paste0("tfeventsd: step 3 of tag '", tag, "' in run '.' is not ",
                                   "greater than its last step 5", restart), "step refused")
  check_fields(w, request = FALSE)
  # Caught by its class too, as a program would.
  n <- 0
  withCallingHandlers({
    do.call(log_event, c(setNames(list(3), tag), step = 4))
    tfeventsd_flush()
  }, tfeventsd_refused_warning = function(w) {
    n <<- n + 1
    invokeRestart("muffleWarning")
  })
  check(n == 1, "withCallingHandlers(tfeventsd_refused_warning = )")

  # A bad value: bytes that start as a PNG and are not one.
  w <- caught({
    not_png <- summary_image(as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3)))
    do.call(log_event, c(setNames(list(not_png), "img \"\\ \u00fc"), step = 0))
    tfeventsd_flush()
  }, "tfeventsd_refused_warning")
  same(conditionMessage(w), paste0("tfeventsd: image value 'img \"\\ \u00fc': image is not a ",
                                   "PNG, JPEG or GIF with a readable size"), "bad image")

  # Requests: errors at once. The tag echoed holds a tab (\u0009 in the
  # reply) and a backslash.
  bad <- "a\"\\\t\u20ac"
  e <- caught(log_embedding(matrix(1, 1, 1), tag = bad, step = 0), "tfeventsd_refused")
  same(conditionMessage(e), paste0("tfeventsd: embedding '", bad, "': the tag must be 1..200 ",
                                   "bytes of UTF-8 without '/', '\\', ':', control characters ",
                                   "or a leading '.'"), "embedding tag refused")
  check_fields(e, request = TRUE)
  e <- caught(set_global_step(-5), "tfeventsd_refused")
  same(conditionMessage(e), "tfeventsd: \"step\" must be an integer from -1 to 2^53",
       "step_set refused")
  check_fields(e, request = TRUE)
  # A graph at a step not after the run's last one (the step policy of
  # the graphs dashboard), through tryCatch by class.
  g <- as.raw(c(0x0a, 0x10, 0x0a, 0x01, 0x78, 0x12, 0x0b, 0x50, 0x6c, 0x61, 0x63, 0x65, 0x68,
                0x6f, 0x6c, 0x64, 0x65, 0x72))   # GraphDef{node{name "x" op "Placeholder"}}
  log_graph(g, run = "tr\u00e4in", step = 2)
  msg <- tryCatch({ log_graph(g, run = "tr\u00e4in", step = 1); NULL },
                  tfeventsd_refused = function(e) e$error)
  check(is.character(msg) && startsWith(msg, "run 'tr\u00e4in' already holds a graph at step 2"),
        paste("graph step refused:", msg))
})

# The reader itself: JSON string escapes (RFC 8259), checked against
# jsonlite's parser where jsonlite reads them right.
u <- tfeventsd:::json_unescape
same(u("plain \u00e9"), "plain \u00e9", "no escapes")
same(u("a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti"), "a\"b\\c/d\be\ff\ng\rh\ti", "short escapes")
same(u("\\u00e9\\u20AC \\ud83d\\ude00 \\uD834\\uDD1E"), "\u00e9\u20ac \U0001F600 \U0001D11E",
     "\\u escapes and surrogate pairs")
same(u("x\\u0001y\\u001f"), "x\001y\037", "control characters")
same(u("lone \\ud800 \\udc00x"), "lone \ufffd \ufffdx", "lone surrogates")
same(u("nul \\u0000!"), "nul \ufffd!", "NUL (no R string holds one)")
same(u("\\\\u00e9"), "\\u00e9", "an escaped backslash before u")
same(u("\u00e9\\n\u00e9"), "\u00e9\n\u00e9", "escapes between UTF-8 characters")
if (requireNamespace("jsonlite", quietly = TRUE)) {
  for (s in c("a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti", "\\u00e9\\u20AC \\ud83d\\ude00 x",
              "\u00e9\\n\u00e9\\t\u20ac", "\\\\u00e9", "\\u0001\\u001f"))
    same(u(s), enc2utf8(jsonlite::parse_json(paste0('"', s, '"'))), paste("jsonlite on", s))
}
f <- tfeventsd:::reply_fields(paste0('{"id":7,"ok":false,"line":12,"stats":{"a":[1,{"b":"}"}]},',
                                     '"error":"a \\"}\\" here \\\\","x":null}'))
same(f, list(id = 7, ok = FALSE, line = 12, error = "a \"}\" here \\"), "reply fields")
same(tfeventsd:::reply_fields("not json"), list(), "not a reply")
cat("ok\n")
