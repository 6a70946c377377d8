# summary_*(): typed values for log_event(), as in the R tfevents package.
# Each holds the JSON of its typed value (docs/protocol.md), built once.

#' Metadata of a summary: the plugin and what TensorBoard shows about it.
summary_metadata <- function(plugin_name, display_name = NA_character_,
                             description = NA_character_, ..., plugin_content = NA) {
  if (...length()) stop("tfeventsd: summary_metadata(): unexpected arguments", call. = FALSE)
  if (!(length(plugin_content) == 1L && is.na(plugin_content)))
    stop("tfeventsd: plugin_content is not supported (the daemon writes each plugin's ",
         "content itself)", call. = FALSE)
  structure(list(plugin_name = plugin_name, display_name = display_name,
                 description = description), class = "tfeventsd_metadata")
}

new_summary <- function(kind, plugin, fields, metadata, tag) {
  extra <- ""
  if (!is.null(metadata)) {
    if (!identical(metadata$plugin_name, plugin))
      stop("tfeventsd: plugin name should be '", plugin, "', got '", metadata$plugin_name,
           "'", call. = FALSE)
    if (!is.na(metadata$display_name))
      extra <- paste0(extra, ',"display_name":', json_string(metadata$display_name))
    if (!is.na(metadata$description))
      extra <- paste0(extra, ',"description":', json_string(metadata$description))
  }
  structure(list(json = sprintf('{"$%s":{%s%s}}', kind, fields, extra), plugin = plugin,
                 tag = if (length(tag) == 1L) tag else NA),
            class = "tfeventsd_summary")
}

print.tfeventsd_summary <- function(x, ...) {
  cat("<tfeventsd summary: ", x$plugin, ">\n", sep = "")
  invisible(x)
}

#' A scalar.
summary_scalar <- function(value, ..., metadata = NULL, tag = NA) {
  if (length(value) != 1L || !is.numeric(value))
    stop("tfeventsd: summary_scalar() takes one number", call. = FALSE)
  v <- json_scalar(value)
  if (startsWith(v, "{")) v <- sub('^\\{"\\$scalar":\\{(.*)\\}\\}$', "\\1", v)
  else v <- paste0('"value":', v)
  new_summary("scalar", "scalars", v, metadata, tag)
}

#' A histogram of data's elements in `buckets` buckets (TensorBoard's rule).
summary_histogram <- function(data, ..., metadata = NULL, tag = NA) UseMethod("summary_histogram")

# Data this short travels as its values (packed doubles); longer data is
# bucketed here (the bucket rows are ~60 numbers however long the data,
# and bucketing 10k values in R costs less than packing them: see
# docs/performance.md).
HISTOGRAM_SEND_VALUES_BELOW <- 64L

summary_histogram.numeric <- function(data, ..., metadata = NULL, tag = NA, buckets = 30) {
  x <- as.double(data)
  if (!all(is.finite(x)))
    stop("tfeventsd: summary_histogram(): NaN or infinite values", call. = FALSE)
  k <- as.integer(buckets)
  n <- length(x)
  fields <- NULL
  if (n >= HISTOGRAM_SEND_VALUES_BELOW && k > 0L) {
    lo <- min(x); hi <- max(x)
    width <- (hi - lo) / k
    if (width > 0 && is.finite(width)) {
      # As lib/histogram.c (and TensorBoard): bucket floor((x-lo)/width),
      # the top value(s) in the last; edges lo + i*width, the last = max.
      q <- (x - lo) / width
      idx <- ifelse(q >= k - 1, k - 1, floor(q))
      counts <- tabulate(idx + 1, nbins = k)
      edges <- lo + (0:k) * width
      edges[k + 1L] <- hi
      fields <- sprintf('"edges":[%s],"counts":[%s]', json_numbers(edges), json_ints(counts))
    }
  }
  if (is.null(fields))
    fields <- sprintf('"values":%s,"bucket_count":%d', packed_f64(x), k)
  new_summary("histogram", "histograms", fields, metadata, tag)
}

summary_histogram.array <- function(data, ..., metadata = NULL, tag = NA, buckets = 30) {
  summary_histogram(as.numeric(data), ..., metadata = metadata, tag = tag, buckets = buckets)
}

#' Images: an array (batch, height, width, channels) with values in [0, 1]
#' (or integers 0..255), or the raw bytes of a PNG, JPEG or GIF (animated
#' or not) file.
summary_image <- function(img, ..., metadata = NULL, tag = NA) UseMethod("summary_image")

summary_image.array <- function(img, ..., metadata = NULL, tag = NA) {
  d <- dim(img)
  if (length(d) != 4L)
    stop("tfeventsd: summary_image() expects an array (batch, height, width, channels), ",
         "got dimensions (", paste(d, collapse = ", "), ")", call. = FALSE)
  if (!(d[4] %in% 1:4))
    stop("tfeventsd: summary_image(): 1 to 4 channels, got ", d[4], call. = FALSE)
  v <- pixels_u8(aperm(img, 4:1), "summary_image")   # row-major: channel fastest
  fields <- sprintf('"pixels":%s,"shape":[%s],"dtype":"uint8"', packed_u8(v), json_ints(d))
  new_summary("image", "images", fields, metadata, tag)
}

summary_image.raw <- function(img, ..., metadata = NULL, tag = NA) {
  png <- length(img) >= 8L && identical(img[1:4], as.raw(c(0x89, 0x50, 0x4e, 0x47)))
  jpeg <- length(img) >= 3L && identical(img[1:3], as.raw(c(0xff, 0xd8, 0xff)))
  gif <- length(img) >= 6L && rawToChar(img[1:6]) %in% c("GIF87a", "GIF89a")
  if (!png && !jpeg && !gif)
    stop("tfeventsd: summary_image(): raw bytes must be a PNG, JPEG or GIF file", call. = FALSE)
  fields <- sprintf('"%s":"%s"', if (png) "png" else if (jpeg) "jpeg" else "gif", base64(img))
  new_summary("image", "images", fields, metadata, tag)
}

#' Audio: an array (batch, samples, channels) with values in [-1, 1], or
#' the raw bytes of a WAV file.
summary_audio <- function(audio, ..., metadata = NULL, tag = NA) UseMethod("summary_audio")

summary_audio.array <- function(audio, ..., sample_rate = 44100, metadata = NULL, tag = NA) {
  d <- dim(audio)
  if (length(d) != 3L)
    stop("tfeventsd: summary_audio() expects an array (batch, samples, channels)",
         call. = FALSE)
  v <- as.double(aperm(audio, 3:1))
  if (!all(is.finite(v)))
    stop("tfeventsd: summary_audio(): NaN or infinite samples", call. = FALSE)
  # 16-bit PCM is what is written, and the daemon reads samples as
  # 32-bit floats whatever their form: packed floats lose nothing.
  fields <- sprintf('"samples":%s,"shape":[%s],"sample_rate":%.17g',
                    packed_f32(v), json_ints(d), as.double(sample_rate))
  new_summary("audio", "audio", fields, metadata, tag)
}

summary_audio.raw <- function(audio, ..., metadata = NULL, tag = NA) {
  if (length(audio) < 12L || !identical(rawToChar(audio[1:4]), "RIFF"))
    stop("tfeventsd: summary_audio(): raw bytes must be a WAV file", call. = FALSE)
  new_summary("audio", "audio", sprintf('"wav":"%s"', base64(audio)), metadata, tag)
}

#' Text (Markdown); a vector of several strings is a one-column table, a
#' matrix a table.
summary_text <- function(txt, ..., metadata = NULL, tag = NA) UseMethod("summary_text")

summary_text.character <- function(txt, ..., metadata = NULL, tag = NA) {
  if (is.matrix(txt)) {
    rows <- apply(txt, 1, function(r) paste0("[", paste(json_string(r), collapse = ","), "]"))
    v <- paste0("[", paste(rows, collapse = ","), "]")
  } else if (length(txt) == 1L) {
    v <- json_string(txt)
  } else {
    v <- paste0("[", paste(json_string(txt), collapse = ","), "]")
  }
  new_summary("text", "text", paste0('"value":', v), metadata, tag)
}
