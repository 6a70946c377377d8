# JSON text for requests, in base R (jsonlite is not needed to write).

# String literals: quotes, backslashes and control characters escaped;
# UTF-8 kept as it is (the daemon takes UTF-8 JSON). The control bytes are
# named (0x00-0x1f, 0x7f): [[:cntrl:]] on bytes also takes 0x80-0x9f, the
# continuation bytes of many UTF-8 characters (the euro sign, CJK, emoji).
JSON_CONTROL <- "[\\x00-\\x1f\\x7f]"

json_string <- function(s) {
  s <- enc2utf8(as.character(s))
  if (any(grepl('["\\\\\\x00-\\x1f\\x7f]', s, perl = TRUE, useBytes = TRUE))) {
    s <- gsub("\\", "\\\\", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub('"', '\\"', s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\n", "\\n", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\r", "\\r", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\t", "\\t", s, fixed = TRUE, useBytes = TRUE)
    if (any(grepl(JSON_CONTROL, s, perl = TRUE, useBytes = TRUE))) {
      ch <- strsplit(s, "", useBytes = TRUE)
      s <- vapply(ch, function(cs) {
        ctl <- grepl(JSON_CONTROL, cs, perl = TRUE, useBytes = TRUE)
        cs[ctl] <- sprintf("\\u%04x", vapply(cs[ctl], function(c) as.integer(charToRaw(c))[1], 0L))
        paste(cs, collapse = "")
      }, "")
    }
  }
  paste0('"', s, '"')
}

# Names (tags, runs) repeat from call to call: their JSON is kept.
.names <- new.env(parent = emptyenv(), size = 1024L)
NAME_CACHE_MAX <- 10000L

json_name <- function(s) {
  hit <- .names[[s]]
  if (!is.null(hit)) return(hit)
  j <- json_string(s)
  if (length(.names) < NAME_CACHE_MAX) assign(s, j, envir = .names)
  j
}

# Numbers with all their digits: 17 significant ones round-trip a double.
json_numbers <- function(x) {
  x <- as.double(x)
  if (!all(is.finite(x)))
    stop("tfeventsd: NaN or infinite values in an array (only a scalar may be one)",
         call. = FALSE)
  paste(sprintf("%.17g", x), collapse = ",")
}

json_ints <- function(x) paste(as.integer(x), collapse = ",")

# A scalar: a number, or NaN/Inf as the strings of the $scalar form.
json_scalar <- function(x) {
  x <- as.double(x)
  if (is.finite(x)) sprintf("%.17g", x)
  else sprintf('{"$scalar":{"value":"%s"}}',
               if (is.nan(x) || is.na(x)) "NaN" else if (x > 0) "Infinity" else "-Infinity")
}

b64_alphabet <- charToRaw("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

# Base64 of a raw vector in base R, vectorised over the 3-byte groups
# (about 7 ms for 80 KB; jsonlite's C encoder, below, about 1 ms).
base64_r <- function(r) {
  n <- length(r)
  if (n == 0L) return("")
  pad <- (3L - n %% 3L) %% 3L
  m <- matrix(as.integer(c(r, raw(pad))), nrow = 3L)
  b1 <- m[1L, ]; b2 <- m[2L, ]; b3 <- m[3L, ]
  out <- rbind(b64_alphabet[b1 %/% 4L + 1L],
               b64_alphabet[(b1 %% 4L) * 16L + b2 %/% 16L + 1L],
               b64_alphabet[(b2 %% 16L) * 4L + b3 %/% 64L + 1L],
               b64_alphabet[b3 %% 64L + 1L])
  out <- as.vector(out)
  if (pad) out[(length(out) - pad + 1L):length(out)] <- as.raw(61L)   # "="
  rawToChar(out)
}

# jsonlite's encoder when it is installed (it breaks lines every 76
# characters, which the daemon's strict decoder refuses: they go), unless
# options(tfeventsd.jsonlite = FALSE).
use_jsonlite <- function() {
  if (is.null(.state$jsonlite))
    .state$jsonlite <- !identical(getOption("tfeventsd.jsonlite"), FALSE) &&
      requireNamespace("jsonlite", quietly = TRUE)
  .state$jsonlite
}

base64 <- function(r) {
  if (use_jsonlite()) gsub("\n", "", jsonlite::base64_enc(r), fixed = TRUE) else base64_r(r)
}

# Packed arrays of the protocol (docs/protocol.md): the little-endian
# elements in base64, instead of each number as text.
packed_f64 <- function(x) {
  sprintf('{"f64":"%s"}', base64(writeBin(as.double(x), raw(), size = 8L, endian = "little")))
}

packed_f32 <- function(x) {
  sprintf('{"f32":"%s"}', base64(writeBin(as.double(x), raw(), size = 4L, endian = "little")))
}

packed_u8 <- function(x) sprintf('{"u8":"%s"}', base64(as.raw(x)))

# ---- reading replies --------------------------------------------------------

# One escape of a JSON string: a surrogate pair (one character outside
# the Basic Multilingual Plane), another \uXXXX, or a backslash and a
# character.
JSON_ESCAPE <- paste0("\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}",
                      "|\\\\u[0-9a-fA-F]{4}|\\\\.")
JSON_SHORT <- c('"' = '"', "\\" = "\\", "/" = "/", b = "\b", f = "\f", n = "\n", r = "\r",
                t = "\t")

json_escape_text <- function(e) {
  if (nchar(e, type = "bytes") == 2L) {
    c <- substr(e, 2L, 2L)
    return(if (c %in% names(JSON_SHORT)) JSON_SHORT[[c]] else e)   # not JSON: kept
  }
  cp <- strtoi(substr(e, 3L, 6L), 16L)
  if (nchar(e, type = "bytes") == 12L)
    cp <- 0x10000 + (cp - 0xD800) * 1024 + (strtoi(substr(e, 9L, 12L), 16L) - 0xDC00)
  # A lone surrogate, or NUL (an R string cannot hold one): the
  # replacement character.
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) cp <- 0xFFFD
  intToUtf8(cp)
}

# The text of a JSON string literal's body (between its quotes; UTF-8, as
# the daemon writes it), marked UTF-8. Base R even when jsonlite is there:
# replies are short, and jsonlite's parser turns a lone surrogate into
# "?" and drops the character after it.
json_unescape <- function(s) {
  m <- gregexpr(JSON_ESCAPE, s, perl = TRUE, useBytes = TRUE)[[1]]
  if (m[1L] > 0L) {
    b <- charToRaw(s)
    at <- as.integer(m)
    len <- attr(m, "match.length")
    keep <- c(1L, at + len)   # where the bytes between escapes start
    parts <- vector("list", 2L * length(at) + 1L)
    for (i in seq_along(at)) {
      if (at[i] > keep[i]) parts[[2L * i - 1L]] <- b[keep[i]:(at[i] - 1L)]
      e <- rawToChar(b[at[i]:(at[i] + len[i] - 1L)])
      parts[[2L * i]] <- charToRaw(enc2utf8(json_escape_text(e)))
    }
    if (keep[length(keep)] <= length(b)) parts[[length(parts)]] <- b[keep[length(keep)]:length(b)]
    s <- rawToChar(unlist(parts))
  }
  Encoding(s) <- "UTF-8"
  s
}

# A reply line's top-level fields as a named list (strings unescaped,
# numbers as doubles, true/false as logicals; objects, arrays and nulls
# left out): the daemon's replies are flat apart from "stats".
# Text that is not a JSON object gives an empty list.
reply_fields <- function(line) {
  tok <- regmatches(line, gregexpr('"(?:[^"\\\\]|\\\\.)*"|[{}\\[\\]]|[^\\s,:{}\\[\\]"]+', line,
                                   perl = TRUE, useBytes = TRUE))[[1]]
  out <- list()
  depth <- 0L
  key <- NULL
  for (t in tok) {
    if (t == "{" || t == "[") {
      if (depth == 1L) key <- NULL   # a nested value: skipped
      depth <- depth + 1L
    } else if (t == "}" || t == "]") {
      depth <- depth - 1L
    } else if (depth == 1L) {
      quoted <- startsWith(t, '"')
      if (is.null(key)) {
        if (!quoted) return(list())
        key <- json_unescape(substr(t, 2L, nchar(t, type = "bytes") - 1L))
      } else {
        v <- if (quoted) json_unescape(substr(t, 2L, nchar(t, type = "bytes") - 1L))
             else if (t == "true") TRUE else if (t == "false") FALSE
             else if (t == "null") NULL else suppressWarnings(as.numeric(t))
        if (!is.null(v)) out[[key]] <- v
        key <- NULL
      }
    }
  }
  out
}
