# The graphs dashboard: a run's model graph (a serialized GraphDef) and a
# traced step's RunMetadata. Neither is a summary value: each is one
# request of its own (op "graph", docs/protocol.md "Graphs") that waits
# for the daemon, so bytes TensorBoard could not parse are an R error at
# once, with the daemon's sentence saying where.

graph_bytes <- function(fun, arg, x) {
  if (!is.raw(x))
    stop("tfeventsd: ", fun, "(): ", arg, " must be a raw vector (the serialized protobuf, ",
         "e.g. readBin(path, \"raw\", file.size(path)) or a tensorflow object's ",
         "SerializeToString())", call. = FALSE)
  x
}

send_graph <- function(logdir, run, step, wall_time, fields) {
  if (length(step) != 1L || !is.numeric(step) || !is.finite(step) || step < 0)
    stop("tfeventsd: the step must be one number, 0 or more", call. = FALSE)
  if (length(run) != 1L || !is.character(run) || is.na(run))
    stop("tfeventsd: the run must be one string (\".\": the logdir itself)", call. = FALSE)
  body <- sprintf('"op":"graph","logdir":%s,"run":%s,"step":%.0f%s',
                  json_string(logdir_name(logdir)), json_string(run), as.numeric(step), fields)
  if (!is.null(wall_time)) {
    if (length(wall_time) != 1L || !is.numeric(wall_time) || !is.finite(wall_time))
      stop("tfeventsd: wall_time must be one finite number of seconds", call. = FALSE)
    body <- paste0(body, sprintf(',"wall_time":%.17g', as.double(wall_time)))
  }
  line <- request(body)
  invisible(as.numeric(sub('.*"step":([0-9]+).*', "\\1", line)))
}

#' Write a model graph (a serialized GraphDef, as raw bytes) for the graphs
#' dashboard, as tensorboardX's add_graph() does.
log_graph <- function(graph_def, ..., logdir = get_default_logdir(), run = ".", step = 0,
                      wall_time = NULL) {
  no_dots("log_graph", ...)
  graph_def <- graph_bytes("log_graph", "graph_def", graph_def)
  send_graph(logdir, run, step, wall_time, sprintf(',"graph_def":"%s"', base64(graph_def)))
}

#' Write a traced step's RunMetadata (raw bytes) under a tag, as
#' TensorFlow's add_run_metadata() does.
log_run_metadata <- function(run_metadata, tag, step, ..., logdir = get_default_logdir(),
                             run = ".", wall_time = NULL) {
  no_dots("log_run_metadata", ...)
  run_metadata <- graph_bytes("log_run_metadata", "run_metadata", run_metadata)
  if (length(tag) != 1L || !is.character(tag) || is.na(tag))
    stop("tfeventsd: log_run_metadata(): the tag must be one string", call. = FALSE)
  send_graph(logdir, run, step, wall_time, sprintf(',"tag":%s,"run_metadata":"%s"',
                                                   json_string(tag), base64(run_metadata)))
}
