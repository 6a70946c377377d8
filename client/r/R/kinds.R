# The newer dashboards (docs/protocol.md): PR curves, custom scalar
# layouts, meshes, animated images and the embedding projector. The R
# tfevents package has none of these; the names follow its summary_*()
# style and the Python client's (summary_pr_curve, summary_pr_curve_raw,
# summary_mesh, summary_video). Bulk data travels packed.

no_dots <- function(fun, ...) {
  if (...length()) stop("tfeventsd: ", fun, "(): unexpected arguments", call. = FALSE)
}

# 8-bit pixels of an array in [0, 1] (rounded to the nearest of 255 steps)
# or of integers 0..255, as summary_image() takes them.
pixels_u8 <- function(v, fun) {
  if (!is.integer(v)) {
    if (!all(is.finite(v)) || min(v) < 0 || max(v) > 1)
      stop("tfeventsd: ", fun, "(): values must be in [0, 1] (or integers 0..255)",
           call. = FALSE)
    v[] <- as.integer(round(v * 255))
    storage.mode(v) <- "integer"
  }
  if (anyNA(v) || min(v) < 0L || max(v) > 255L)
    stop("tfeventsd: ", fun, "(): integer values must be in 0..255", call. = FALSE)
  v
}

# ---- PR curves ---------------------------------------------------------------

#' A precision-recall curve from labels and predictions, computed by the
#' daemon exactly as TensorBoard's pr_curve summary does.
summary_pr_curve <- function(labels, predictions, ..., num_thresholds = 127L, weights = NULL,
                             dtype = c("double", "float"), metadata = NULL, tag = NA) {
  no_dots("summary_pr_curve", ...)
  dtype <- match.arg(dtype)
  lab <- as.double(labels)
  pred <- as.double(predictions)
  if (length(lab) != length(pred))
    stop("tfeventsd: summary_pr_curve(): ", length(lab), " labels but ", length(pred),
         " predictions", call. = FALSE)
  if (!all(is.finite(lab)))
    stop("tfeventsd: summary_pr_curve(): labels must be finite (1/TRUE positive)",
         call. = FALSE)
  if (anyNA(pred) || any(pred < 0 | pred > 1))
    stop("tfeventsd: summary_pr_curve(): predictions must be in [0, 1]", call. = FALSE)
  k <- as.integer(num_thresholds)
  if (length(k) != 1L || is.na(k) || k < 2L || k > 65536L)
    stop("tfeventsd: summary_pr_curve(): num_thresholds must be 2..65536", call. = FALSE)
  # 0/1 labels (the usual ones) travel as bytes.
  fields <- sprintf('"labels":%s,"predictions":%s,"dtype":"%s","num_thresholds":%d',
                    if (all(lab == 0 | lab == 1)) packed_u8(lab) else packed_f64(lab), if (dtype == "float") packed_f32(pred) else packed_f64(pred),
                    dtype, k)
  if (!is.null(weights)) {
    w <- as.double(weights)
    if (!all(is.finite(w)) || !(length(w) %in% c(1L, length(lab))))
      stop("tfeventsd: summary_pr_curve(): weights: one finite number, or one per label",
           call. = FALSE)
    fields <- paste0(fields, ',"weights":',
                     if (length(w) == 1L) sprintf("%.17g", w) else packed_f64(w))
  }
  new_summary("pr_curve", "pr_curves", fields, metadata, tag)
}

#' A precision-recall curve from its six rows (one entry per threshold).
summary_pr_curve_raw <- function(true_positives, false_positives, true_negatives,
                                 false_negatives, precision, recall, ..., metadata = NULL,
                                 tag = NA) {
  no_dots("summary_pr_curve_raw", ...)
  rows <- list(true_positives = true_positives, false_positives = false_positives,
               true_negatives = true_negatives, false_negatives = false_negatives,
               precision = precision, recall = recall)
  rows <- lapply(rows, as.double)
  if (length(unique(lengths(rows))) != 1L)
    stop("tfeventsd: summary_pr_curve_raw(): the six rows must have one length",
         call. = FALSE)
  if (!all(is.finite(unlist(rows))))
    stop("tfeventsd: summary_pr_curve_raw(): NaN or infinite values", call. = FALSE)
  fields <- paste(sprintf('"%s":%s', names(rows), vapply(rows, packed_f64, "")), collapse = ",")
  new_summary("pr_curve", "pr_curves", fields, metadata, tag)
}

# ---- custom scalar layouts ---------------------------------------------------

#' A chart of every scalar tag matching one of the regular expressions.
layout_multiline <- function(tags) {
  tags <- as.character(tags)
  if (!length(tags) || anyNA(tags))
    stop("tfeventsd: layout_multiline(): give one or more tag regexes", call. = FALSE)
  structure(list(kind = "multiline", tags = tags), class = "tfeventsd_chart")
}

#' A chart of values with their lower and upper bounds (each a scalar tag);
#' vectors give several series.
layout_margin <- function(value, lower, upper) {
  s <- list(value = as.character(value), lower = as.character(lower),
            upper = as.character(upper))
  if (!length(s$value) || length(unique(lengths(s))) != 1L || anyNA(unlist(s)))
    stop("tfeventsd: layout_margin(): value, lower and upper tags, of one length",
         call. = FALSE)
  structure(list(kind = "margin", series = s), class = "tfeventsd_chart")
}

#' A category of charts (named by their titles), closed or open at first.
layout_category <- function(..., closed = FALSE) {
  charts <- list(...)
  check_charts(charts, "layout_category")
  structure(list(charts = charts, closed = isTRUE(closed)), class = "tfeventsd_category")
}

check_charts <- function(charts, fun) {
  nm <- names(charts)
  if (!length(charts) || is.null(nm) || any(!nzchar(nm) | is.na(nm)))
    stop("tfeventsd: ", fun, "(): charts are named by their titles", call. = FALSE)
  if (!all(vapply(charts, inherits, NA, "tfeventsd_chart")))
    stop("tfeventsd: ", fun, "(): charts are layout_multiline() or layout_margin()",
         call. = FALSE)
}

chart_json <- function(title, ch) {
  body <- if (ch$kind == "multiline") {
    sprintf('"multiline":[%s]', paste(json_string(ch$tags), collapse = ","))
  } else {
    s <- ch$series
    sprintf('"margin":[%s]', paste(sprintf('{"value":%s,"lower":%s,"upper":%s}',
                                           json_string(s$value), json_string(s$lower),
                                           json_string(s$upper)), collapse = ","))
  }
  sprintf('{"title":%s,%s}', json_string(title), body)
}

#' The layout of the Custom Scalars dashboard: a named list of categories
#' (layout_category(), or a named list of charts).
summary_custom_scalars <- function(layout, ...) {
  no_dots("summary_custom_scalars", ...)
  nm <- names(layout)
  if (!is.list(layout) || !length(layout) || is.null(nm) || any(!nzchar(nm) | is.na(nm)))
    stop("tfeventsd: summary_custom_scalars(): a named list of categories", call. = FALSE)
  cats <- vapply(seq_along(layout), function(i) {
    cat <- layout[[i]]
    if (!inherits(cat, "tfeventsd_category")) {
      if (inherits(cat, "tfeventsd_chart") || !is.list(cat))
        stop("tfeventsd: summary_custom_scalars(): category '", nm[[i]], "' must be ",
             "layout_category() or a named list of charts", call. = FALSE)
      cat <- do.call(layout_category, cat)
    }
    charts <- vapply(seq_along(cat$charts), function(j)
      chart_json(names(cat$charts)[[j]], cat$charts[[j]]), "")
    sprintf('{"title":%s%s,"charts":[%s]}', json_string(nm[[i]]),
            if (cat$closed) ',"closed":true' else "", paste(charts, collapse = ","))
  }, "")
  new_summary("layout", "custom_scalars", sprintf('"categories":[%s]', paste(cats, collapse = ",")),
              NULL, "custom_scalars__config__")
}

# ---- meshes ------------------------------------------------------------------

# A mesh part: a matrix (n, 3) or an array (samples, n, 3), row-major.
mesh_part <- function(x, what) {
  d <- dim(x)
  if (!(length(d) %in% 2:3) || d[length(d)] != 3L)
    stop("tfeventsd: summary_mesh(): ", what, " must be a matrix (n, 3) or an array ",
         "(samples, n, 3)", call. = FALSE)
  list(v = as.vector(aperm(x, rev(seq_along(d)))),
       samples = if (length(d) == 3L) d[1] else 1L, n = d[length(d) - 1L])
}

# JSON of an R value: named lists are objects, other lists and vectors of
# several elements arrays, one element a scalar (for mesh configs).
json_value <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    nm <- names(x)
    inner <- vapply(x, json_value, "", USE.NAMES = FALSE)
    if (!is.null(nm) && length(x))
      return(sprintf("{%s}", paste0(json_string(nm), ":", inner, collapse = ",")))
    return(sprintf("[%s]", paste(inner, collapse = ",")))
  }
  el <- if (is.logical(x)) ifelse(x, "true", "false")
        else if (is.numeric(x)) {
          if (!all(is.finite(x)))
            stop("tfeventsd: NaN or infinite number in a JSON value", call. = FALSE)
          sprintf("%.17g", as.double(x))
        } else json_string(as.character(x))
  if (length(x) == 1L && is.null(names(x))) el else sprintf("[%s]", paste(el, collapse = ","))
}

#' A 3D mesh or point cloud: vertices, optional faces (vertex indices from
#' 0) and colours (RGB 0..255 per vertex), and the three.js settings.
summary_mesh <- function(vertices, ..., faces = NULL, colors = NULL, config = NULL,
                         metadata = NULL, tag = NA) {
  no_dots("summary_mesh", ...)
  v <- mesh_part(vertices, "vertices")
  if (!all(is.finite(v$v)))
    stop("tfeventsd: summary_mesh(): vertices must be finite", call. = FALSE)
  fields <- sprintf('"vertices":%s,"samples":%d', packed_f32(v$v), as.integer(v$samples))
  if (!is.null(faces)) {
    f <- mesh_part(faces, "faces")
    if (f$samples != v$samples)
      stop("tfeventsd: summary_mesh(): faces and vertices differ in samples", call. = FALSE)
    if (anyNA(f$v) || any(f$v != round(f$v)) || any(f$v < 0 | f$v >= v$n))
      stop("tfeventsd: summary_mesh(): faces are vertex indices from 0 to ", v$n - 1,
           call. = FALSE)
    # Indices are below 2^24 (a part holds at most 2^24 points): exact in
    # 32-bit floats.
    fields <- paste0(fields, ',"faces":', packed_f32(f$v))
  }
  if (!is.null(colors)) {
    k <- mesh_part(colors, "colors")
    if (k$samples != v$samples || k$n != v$n)
      stop("tfeventsd: summary_mesh(): one colour per vertex", call. = FALSE)
    if (anyNA(k$v) || any(k$v != round(k$v)) || any(k$v < 0 | k$v > 255))
      stop("tfeventsd: summary_mesh(): colours are integers 0..255", call. = FALSE)
    fields <- paste0(fields, ',"colors":', packed_u8(k$v))
  }
  if (!is.null(config)) {
    text <- if (is.character(config) && length(config) == 1L) config else json_value(config)
    fields <- paste0(fields, ',"config":', json_string(text))
  }
  new_summary("mesh", "mesh", fields, metadata, tag)
}

# ---- animated images ---------------------------------------------------------

#' An animated image (a looping GIF the daemon encodes) from an array
#' (frames, height, width, channels), or (batch, frames, height, width,
#' channels) tiled into one grid as tensorboardX's add_video() tiles it.
summary_video <- function(video, ..., fps = 4, metadata = NULL, tag = NA) {
  no_dots("summary_video", ...)
  d <- dim(video)
  if (!(length(d) %in% 4:5))
    stop("tfeventsd: summary_video() expects an array (frames, height, width, channels) ",
         "or (batch, frames, height, width, channels)", call. = FALSE)
  if (!(d[length(d)] %in% 1:4))
    stop("tfeventsd: summary_video(): 1 to 4 channels, got ", d[length(d)], call. = FALSE)
  v <- pixels_u8(video, "summary_video")
  if (length(d) == 5L) v <- tile_videos(v)
  f <- as.double(fps)
  if (length(f) != 1L || !is.finite(f) || f <= 0 || f > 100)
    stop("tfeventsd: summary_video(): fps must be in (0, 100]", call. = FALSE)
  fields <- sprintf('"pixels":%s,"shape":[%s],"dtype":"uint8","animate":true,"fps":%.17g',
                    packed_u8(aperm(v, 4:1)), json_ints(dim(v)), f)
  new_summary("image", "images", fields, metadata, tag)
}

# (b, t, h, w, c) as (t, rows * h, cols * w, c): b padded with black videos
# to a power of two, 2^floor((bits(b) - 1) / 2) rows, filled row by row.
tile_videos <- function(v) {
  d <- dim(v)
  b <- d[1]
  bits <- 0L
  while (2^bits <= b) bits <- bits + 1L
  total <- if (bitwAnd(b, b - 1L) == 0L) b else 2L^bits
  rows <- 2L^((bits - 1L) %/% 2L)
  cols <- total %/% rows
  h <- d[3]; w <- d[4]
  out <- array(0L, c(d[2], rows * h, cols * w, d[5]))
  for (i in seq_len(b) - 1L) {
    r <- i %/% cols; k <- i %% cols
    out[, r * h + seq_len(h), k * w + seq_len(w), ] <- v[i + 1L, , , , , drop = FALSE]
  }
  out
}

# ---- the embedding projector -------------------------------------------------

# CRC-32 (zlib's, as PNG chunks carry it) of raw bytes: base R has none,
# but a gzip file ends with the CRC-32 of what it holds.
crc32_be <- function(r) {
  f <- tempfile()
  on.exit(unlink(f))
  con <- gzfile(f, "wb", compression = 1L)
  writeBin(r, con)
  close(con)
  z <- readBin(f, "raw", file.size(f))
  rev(z[length(z) - 7:4])   # little-endian in the file, big-endian in PNG
}

png_chunk <- function(type, data) {
  td <- c(charToRaw(type), data)
  c(writeBin(length(data), raw(), size = 4L, endian = "big"), td, crc32_be(td))
}

# An 8-bit PNG of px, an integer array (channels, width, height).
png_encode <- function(px) {
  d <- dim(px)
  rows <- rbind(0L, matrix(px, nrow = d[1] * d[2]))   # filter byte 0 per row
  ihdr <- c(writeBin(as.integer(d[2:3]), raw(), size = 4L, endian = "big"),
            as.raw(c(8L, c(0L, 4L, 2L, 6L)[d[1]], 0L, 0L, 0L)))
  c(as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), png_chunk("IHDR", ihdr),
    png_chunk("IDAT", memCompress(as.raw(rows), type = "gzip")), png_chunk("IEND", raw()))
}

# The sprite of label images (n, height, width, channels): a square grid
# of ceiling(sqrt(n)) images a side, row by row, the rest black.
sprite_png <- function(label_img, n) {
  d <- dim(label_img)
  if (length(d) != 4L || !(d[4] %in% c(1L, 3L, 4L)))
    stop("tfeventsd: label_img must be an array (n, height, width, channels) with 1, 3 ",
         "or 4 channels", call. = FALSE)
  if (d[1] != n)
    stop("tfeventsd: label_img holds ", d[1], " images for ", n, " points", call. = FALSE)
  v <- pixels_u8(label_img, "summary_embedding")
  side <- as.integer(ceiling(sqrt(n)))
  h <- d[2]; w <- d[3]
  canvas <- array(0L, c(d[4], side * w, side * h))
  for (k in seq_len(n) - 1L) {
    gy <- k %/% side; gx <- k %% side
    img <- v[k + 1L, , , , drop = FALSE]
    dim(img) <- d[2:4]
    canvas[, gx * w + seq_len(w), gy * h + seq_len(h)] <- aperm(img, 3:1)
  }
  list(png = png_encode(canvas), dim = c(w, h))
}

# Metadata as the op's JSON: a vector is one column of labels, a data frame
# or matrix several (a header row: its column names or metadata_header).
embedding_metadata <- function(metadata, n, header) {
  cells <- function(col) {
    if (is.numeric(col)) {
      if (!all(is.finite(col)))
        stop("tfeventsd: embedding metadata: NaN or infinite number", call. = FALSE)
      sprintf("%.17g", as.double(col))
    } else json_string(as.character(col))
  }
  if (is.matrix(metadata)) metadata <- as.data.frame(metadata, stringsAsFactors = FALSE)
  if (is.data.frame(metadata)) {
    if (is.null(header)) header <- names(metadata)
    if (ncol(metadata) == 1L) metadata <- metadata[[1L]]
  }
  if (!is.data.frame(metadata)) {
    if (length(metadata) != n)
      stop("tfeventsd: embedding metadata holds ", length(metadata), " labels for ", n,
           " points", call. = FALSE)
    return(sprintf("[%s]", paste(cells(metadata), collapse = ",")))
  }
  if (nrow(metadata) != n)
    stop("tfeventsd: embedding metadata holds ", nrow(metadata), " rows for ", n, " points",
         call. = FALSE)
  if (length(header) != ncol(metadata))
    stop("tfeventsd: embedding metadata_header names ", length(header), " columns, not ",
         ncol(metadata), call. = FALSE)
  cols <- lapply(metadata, function(col) cells(if (is.factor(col)) as.character(col) else col))
  rows <- do.call(paste, c(cols, sep = ","))
  sprintf('{"header":[%s],"rows":[%s]}', paste(json_string(header), collapse = ","),
          paste0("[", rows, "]", collapse = ","))
}

#' An embedding for the projector: a matrix (points, dimensions), labels
#' or a table of metadata, and label images as a sprite.
summary_embedding <- function(mat, metadata = NULL, label_img = NULL, ...,
                              metadata_header = NULL) {
  no_dots("summary_embedding", ...)
  if (is.data.frame(mat)) mat <- as.matrix(mat)
  if (!is.matrix(mat) || !is.numeric(mat) || !all(is.finite(mat)))
    stop("tfeventsd: summary_embedding(): mat must be a numeric matrix (points, dimensions) ",
         "of finite values", call. = FALSE)
  n <- nrow(mat)
  body <- sprintf('"tensor":%s,"shape":[%d,%d]', packed_f32(t(mat)), n, ncol(mat))
  if (!is.null(metadata))
    body <- paste0(body, ',"metadata":', embedding_metadata(metadata, n, metadata_header))
  if (!is.null(label_img)) {
    sp <- if (is.raw(label_img)) stop("tfeventsd: label_img is an array of images", call. = FALSE)
          else sprite_png(label_img, n)
    body <- paste0(body, sprintf(',"sprite":{"png":"%s","single_image_dim":[%s]}',
                                 base64(sp$png), json_ints(sp$dim)))
  }
  structure(list(body = body), class = "tfeventsd_embedding")
}

print.tfeventsd_embedding <- function(x, ...) {
  cat("<tfeventsd embedding>\n")
  invisible(x)
}

# Embeddings are not events: each is its own request (op "embedding",
# which waits for the daemon). Taken out of a log_event() tree, with the
# run (names of the lists above it) and the tag.
split_embeddings <- function(x, run = character()) {
  found <- list()
  keep <- rep(TRUE, length(x))
  nm <- names(x)
  for (i in seq_along(x)) {
    v <- x[[i]]
    name <- if (is.null(nm) || is.na(nm[[i]]) || !nzchar(nm[[i]])) NULL else nm[[i]]
    if (is.null(name)) {
      if (!inherits(v, "tfeventsd_embedding")) next   # encode_members() says why
      stop("tfeventsd: every value must have a name (its tag, or the name of a run)",
           call. = FALSE)
    }
    if (inherits(v, "tfeventsd_embedding")) {
      found[[length(found) + 1L]] <- list(run = run, tag = name, e = v)
      keep[i] <- FALSE
    } else if (is.list(v) && !is.data.frame(v) && !inherits(v, "tfeventsd_summary")) {
      s <- split_embeddings(v, c(run, name))
      found <- c(found, s$found)
      x[[i]] <- s$data
      if (length(s$found) && !length(s$data)) keep[i] <- FALSE
    }
  }
  list(data = x[keep], found = found)
}

send_embedding <- function(logdir, run, tag, e, step) {
  request(sprintf('"op":"embedding","logdir":%s,"run":%s,"step":%.0f,"embedding":{"tag":%s,%s}',
                  json_string(logdir_name(logdir)),
                  json_string(if (length(run)) paste(run, collapse = "/") else "."),
                  as.numeric(step), json_string(tag), e$body))
  invisible()
}

#' Write an embedding's projector files (beside the default logdir's event
#' files), as tensorboardX's add_embedding() lays them out.
log_embedding <- function(mat, metadata = NULL, label_img = NULL, ..., metadata_header = NULL,
                          tag = "default", step = get_global_step(increment = TRUE)) {
  no_dots("log_embedding", ...)
  e <- summary_embedding(mat, metadata, label_img, metadata_header = metadata_header)
  send_embedding(get_default_logdir(), character(), tag, e, step)
}
