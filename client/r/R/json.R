# JSON text for requests, in base R (jsonlite is not needed to write).

# String literals: quotes, backslashes and control characters escaped;
# UTF-8 kept as it is (the daemon takes UTF-8 JSON).
json_string <- function(s) {
  s <- enc2utf8(as.character(s))
  if (any(grepl('["\\\\[:cntrl:]]', s, useBytes = TRUE))) {
    s <- gsub("\\", "\\\\", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub('"', '\\"', s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\n", "\\n", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\r", "\\r", s, fixed = TRUE, useBytes = TRUE)
    s <- gsub("\t", "\\t", s, fixed = TRUE, useBytes = TRUE)
    if (any(grepl("[[:cntrl:]]", s, useBytes = TRUE))) {
      ch <- strsplit(s, "", useBytes = TRUE)
      s <- vapply(ch, function(cs) {
        ctl <- grepl("[[:cntrl:]]", cs, useBytes = TRUE)
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

b64_alphabet <- c(LETTERS, letters, as.character(0:9), "+", "/")

# Base64 of a raw vector, vectorised (base R has no encoder).
base64 <- function(r) {
  n <- length(r)
  if (n == 0L) return("")
  pad <- (3L - n %% 3L) %% 3L
  v <- as.integer(c(r, as.raw(rep(0L, pad))))
  m <- matrix(v, nrow = 3L)
  w <- m[1L, ] * 65536L + m[2L, ] * 256L + m[3L, ]
  idx <- rbind(w %/% 262144L, (w %/% 4096L) %% 64L, (w %/% 64L) %% 64L, w %% 64L)
  out <- b64_alphabet[as.vector(idx) + 1L]
  if (pad) out[(length(out) - pad + 1L):length(out)] <- "="
  paste(out, collapse = "")
}
