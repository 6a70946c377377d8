# Model graphs and run metadata from the tfeventsd R package (op "graph"),
# with a daemon or embedded. Run by test-r-client.py (test_graph,
# test_embedded_graph), which names in TFEVENTSD_GRAPH_INPUTS an R file
# setting graph_dir (a directory of .pb files to send) and, when the
# golden fixtures are there, golden (their steps, wall times and tag);
# the harness then compares the Events written with the bytes sent, byte
# for byte. Here: the calls, the refusals (R errors carrying the daemon's
# sentence) and what collect_events() reads back. Prints "ok" at the end.
library(tfeventsd)

check <- function(cond, what) if (!isTRUE(cond)) stop("check failed: ", what, call. = FALSE)
expect_error <- function(expr, ...) {   # every one of the texts in ...
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  for (text in c(...))
    check(!is.null(msg) && grepl(text, msg, fixed = TRUE),
          paste("error containing", text, "got", msg))
}
source(Sys.getenv("TFEVENTSD_GRAPH_INPUTS"))
pb <- function(name) {
  path <- file.path(graph_dir, name)
  readBin(path, "raw", file.size(path))
}

# A graph of our own (GraphDef{node{name "x", op "Placeholder"}}): refusals
# first (nothing written for them), then the graph and a run metadata in a
# nested run, at the daemon's clock.
own <- pb("own_graph.pb")
with_logdir("graphown", {
  expect_error(log_graph(own[-length(own)], run = "train"),
               "does not parse as a GraphDef")
  expect_error(log_graph(as.raw(c(0x0a, 0x05, 0x0a, 0x01, 0xff, 0x78, 0x78)), run = "train"),
               "NodeDef field 1 is not valid UTF-8 (byte 4)", "graphs dashboard would answer HTTP 500", "nothing was written")
  expect_error(log_graph(raw(0), run = "train"), "empty")   # (the daemon's word)
  expect_error(log_run_metadata(as.raw(c(0x0a, 0x04, 0x0a, 0x02, 0x10, 0x05)), tag = "step_3",
                                step = 3, run = "train"),
               "does not parse as a RunMetadata")
  expect_error(log_run_metadata(pb("own_run_metadata.pb"), tag = "__run_graph__", step = 3,
                                run = "train"), "other than __run_graph__")
  expect_error(log_graph("x.pb"), "must be a raw vector")
  expect_error(log_graph(own, step = -1), "the step")
  expect_error(log_graph(own, extra = 1), "unexpected arguments")
  set_global_step(7)
  check(log_graph(own, run = "train") == 0, "the graph's step")
  check(log_run_metadata(pb("own_run_metadata.pb"), tag = "step_3", step = 3,
                         run = "train") == 3, "the run metadata's step")
  # A second graph at a step not after the first is refused; later is fine.
  expect_error(log_graph(own, run = "train"), "run 'train' already holds a graph at step 0",
               "Send a new graph at a later step")
  check(log_graph(own, run = "train", step = 5) == 5, "a later graph")
  check(get_global_step(increment = FALSE) == 7L, "the global step left alone")
  su <- collect_events(type = "summary")
})
check(nrow(su) == 3 && all(su$run == "train"), paste("rows", nrow(su)))
check(identical(sort(unique(su$tag)), c("__run_graph__", "step_3")), "tags")
check(all(su$plugin[su$tag == "__run_graph__"] == "graphs") &&
      su$plugin[su$tag == "step_3"] == "graph_tagged_run_metadata", "plugins")

# The golden fixture's GraphDef and RunMetadata, at its steps and wall times.
if (exists("golden")) {
  with_logdir("graph", {
    log_graph(pb("golden_graph.pb"), step = golden$graph_step, wall_time = golden$graph_wall)
    log_run_metadata(pb("golden_run_metadata.pb"), tag = golden$tag, step = golden$md_step,
                     wall_time = golden$md_wall)
  })
} else {
  cat("note: golden fixture absent, only our own graph sent\n")
}
tfeventsd_disconnect()
cat("ok\n")
