# Hyperparameters, as in the R tfevents package: the experiment's
# configuration (log_hparams_config) and one session per logdir
# (log_hparams), written by the daemon's hparams ops.

#' A hyperparameter: a vector of the values it takes, or
#' c(min_value = , max_value = ) for an interval.
hparams_hparam <- function(name, domain = NA, display_name = name, description = name) {
  structure(list(name = name, domain = domain, display_name = display_name,
                 description = description), class = "hparams_hparam")
}

#' A metric: the scalar tag (in run <session>/<group>) shown per session.
hparams_metric <- function(tag, group = NA, display_name = tag, description = tag,
                           dataset_type = NA) {
  if (is.na(dataset_type)) dataset_type <- "unknown"
  structure(list(tag = tag, group = group, display_name = display_name,
                 description = description, dataset_type = dataset_type),
            class = "hparams_metric")
}

json_atoms <- function(v) {
  if (is.logical(v)) return(paste(ifelse(v, "true", "false"), collapse = ","))
  if (is.numeric(v)) return(json_numbers(v))
  paste(json_string(v), collapse = ",")
}

hparam_json <- function(h) {
  f <- paste0('"name":', json_string(h$name))
  d <- h$domain
  if (!is.null(names(d)) && all(c("min_value", "max_value") %in% names(d))) {
    f <- paste0(f, ',"type":"float","min":', json_numbers(d[["min_value"]]),
                ',"max":', json_numbers(d[["max_value"]]))
  } else if (!(length(d) == 1L && is.na(d))) {
    type <- if (is.logical(d)) "bool" else if (is.numeric(d)) "float" else "string"
    f <- paste0(f, ',"type":"', type, '","values":[', json_atoms(d), "]")
  }
  if (!is.na(h$display_name)) f <- paste0(f, ',"display_name":', json_string(h$display_name))
  if (!is.na(h$description)) f <- paste0(f, ',"description":', json_string(h$description))
  paste0("{", f, "}")
}

metric_json <- function(m) {
  f <- paste0('"tag":', json_string(m$tag))
  if (!is.na(m$group)) f <- paste0(f, ',"group":', json_string(m$group))
  if (!is.na(m$display_name)) f <- paste0(f, ',"display_name":', json_string(m$display_name))
  if (!is.na(m$description)) f <- paste0(f, ',"description":', json_string(m$description))
  if (m$dataset_type %in% c("training", "validation"))
    f <- paste0(f, ',"dataset_type":"', m$dataset_type, '"')
  paste0("{", f, "}")
}

get_wall_time <- function() as.numeric(Sys.time())

#' The experiment: which hparams and metrics the hparams dashboard shows.
log_hparams_config <- function(hparams, metrics, time_created_secs = get_wall_time()) {
  if (inherits(hparams, "hparams_hparam")) hparams <- list(hparams)
  if (inherits(metrics, "hparams_metric")) metrics <- list(metrics)
  body <- sprintf('"op":"hparams_config","logdir":%s,"hparams":[%s],"metrics":[%s],"time_created_secs":%.17g',
                  json_string(logdir_name(get_default_logdir())),
                  paste(vapply(hparams, hparam_json, ""), collapse = ","),
                  paste(vapply(metrics, metric_json, ""), collapse = ","),
                  as.double(time_created_secs))
  request(body)
  invisible(list(hparams = hparams, metrics = metrics))
}

#' This logdir's hyperparameter values (one session); trial_id groups
#' sessions (default: a hash of the values, as TensorBoard does).
log_hparams <- function(..., trial_id = NA, time_created_secs = get_wall_time()) {
  hp <- list(...)
  if (length(hp) == 0L || is.null(names(hp)) || any(!nzchar(names(hp))))
    stop("tfeventsd: log_hparams() takes named values", call. = FALSE)
  kv <- vapply(seq_along(hp), function(i) {
    v <- hp[[i]]
    if (length(v) != 1L || !(is.numeric(v) || is.character(v) || is.logical(v)))
      stop("tfeventsd: hparam '", names(hp)[i], "' must be one number, string or logical",
           call. = FALSE)
    paste0(json_string(names(hp)[i]), ":", json_atoms(v))
  }, "")
  body <- sprintf('"op":"hparams_session_start","logdir":%s,"hparams":{%s},"start_time_secs":%.17g',
                  json_string(logdir_name(get_default_logdir())), paste(kv, collapse = ","),
                  as.double(time_created_secs))
  if (!is.na(trial_id)) body <- paste0(body, ',"group_name":', json_string(trial_id))
  request(body)
  invisible(hp)
}
