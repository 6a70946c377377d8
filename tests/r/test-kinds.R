# The newer dashboards' kinds of the tfeventsd R package (PR curves,
# custom scalar layouts, meshes, animated images, the embedding projector)
# against a real daemon. Run by test-r-client.py (test_kinds), which writes
# the inputs (the golden fixtures' data, and data that the Python client
# logs too) into the R file named by TFEVENTSD_KINDS_INPUTS, and afterwards
# compares what this wrote with TensorBoard's golden view and with the
# Python client's files. Here: the calls, their refusals, and what
# collect_events() reads back. Prints "ok" at the end.
library(tfeventsd)

check <- function(cond, what) if (!isTRUE(cond)) stop("check failed: ", what, call. = FALSE)
expect_error <- function(expr, pattern) {
  msg <- tryCatch({ expr; NULL }, error = function(e) conditionMessage(e))
  check(!is.null(msg) && grepl(pattern, msg), paste("error matching", pattern, "got", msg))
}
source(Sys.getenv("TFEVENTSD_KINDS_INPUTS"))

# PR curves: the golden fixture's (float32 predictions, as TensorBoard's
# summary computes them), and the raw counts in a nested run.
with_logdir("pr", {
  for (s in 0:2) {
    w <- if (s == 1) ifelse(pr_lab[[s + 1]], 2, 1) else NULL
    log_event(`small/pr_curves` = summary_pr_curve(
                pr_lab[[s + 1]], pr_pred[[s + 1]], num_thresholds = 11, weights = w,
                dtype = "float",
                metadata = summary_metadata("pr_curves", display_name = "small",
                                            description = pr_desc)),
              `fine/pr_curves` = summary_pr_curve(
                pr_lab[[s + 1]], pr_pred[[s + 1]], num_thresholds = 201, dtype = "float",
                metadata = summary_metadata("pr_curves", display_name = "fine")),
              step = s)
  }
  log_event(raw = list(`counts/pr_curves` = do.call(summary_pr_curve_raw, c(pr_raw, list(
    metadata = summary_metadata("pr_curves", display_name = "raw counts"))))), step = 0)
  su <- collect_events(type = "summary")
})
check(nrow(su) == 7 && all(su$plugin == "pr_curves"), "pr rows")
check(setequal(su$run, c(".", "raw")), "pr runs")
# value(): one row per threshold (with jsonlite, and without it).
for (jl in c(TRUE, FALSE)) {
  options(tfeventsd.jsonlite = if (!jl) FALSE)
  assign("jsonlite", NULL, envir = tfeventsd:::.state)
  raw <- value(su[su$run == "raw", ])
  check(is.data.frame(raw) && identical(raw$threshold, (0:4) / 4), "PR curve thresholds")
  for (i in 1:6) check(isTRUE(all.equal(raw[[i + 1L]], pr_raw[[i]], tolerance = 1e-7)),
                       paste("PR curve row", names(raw)[i + 1L]))
  fine <- value(su[su$tag == "fine/pr_curves" & su$step == 2, ])
  check(nrow(fine) == 201 && fine$true_positives[1] == sum(pr_lab[[3]]) &&
        fine$false_positives[1] == sum(!pr_lab[[3]]), "fine curve at threshold 0")
}
options(tfeventsd.jsonlite = NULL)
assign("jsonlite", NULL, envir = tfeventsd:::.state)
expect_error(summary_pr_curve(c(1, 0), c(0.5, 1.5)), "\\[0, 1\\]")
expect_error(summary_pr_curve(c(1, 0), 0.5), "2 labels but 1")
expect_error(summary_pr_curve(1, 0.5, num_thresholds = 1), "num_thresholds")
expect_error(summary_pr_curve(c(1, 0), c(0.5, 0.2), weights = 1:3), "weights")
expect_error(summary_pr_curve_raw(1:2, 1, 1, 1, 1, 1), "one length")
expect_error(summary_pr_curve(1, 0.5, metadata = summary_metadata("scalars")), "plugin name")

# Custom scalars: the fixture's layout (one category closed), and the
# scalars it charts.
layout <- summary_custom_scalars(list(
  losses = list(`all losses` = layout_multiline("loss/.*"),
                `train only` = layout_multiline("loss/train$")),
  accuracy = layout_category(`acc with bounds` = layout_margin("acc/mean", "acc/lower",
                                                               "acc/upper"),
                             closed = TRUE)))
with_logdir("cs", {
  log_event(anything = layout, step = 0)   # the tag is always custom_scalars__config__
  for (s in 0:4) do.call(log_event, c(cs[[s + 1]], list(step = s)))
  su <- collect_events(type = "summary")
})
check(sum(su$tag == "custom_scalars__config__") == 1 &&
      su$plugin[su$tag == "custom_scalars__config__"] == "custom_scalars", "layout row")
expect_error(layout_margin(c("a", "b"), "l", "u"), "one length")
expect_error(layout_category(layout_multiline("x")), "named by their titles")
expect_error(summary_custom_scalars(list(c = list(t = "loss"))), "layout_multiline")
expect_error(summary_custom_scalars(list(layout_category(t = layout_multiline("x")))),
             "named list")

# Meshes: the fixture's tetrahedron (faces, colours, config) and point cloud.
with_logdir("mesh", {
  for (s in 0:1) {
    v <- list(tetra = summary_mesh(tetra_v[[s + 1]], faces = tetra_f[[s + 1]],
                                   colors = tetra_c[[s + 1]], config = mesh_config,
                                   metadata = summary_metadata("mesh", description = mesh_desc)))
    if (s == 0) v$cloud <- summary_mesh(cloud_v)
    do.call(log_event, c(v, list(step = s)))
  }
  su <- collect_events(type = "summary")
})
check(setequal(su$tag, c("tetra_VERTEX", "tetra_FACE", "tetra_COLOR", "cloud_VERTEX")),
      paste("mesh tags", paste(su$tag, collapse = " ")))
expect_error(summary_mesh(matrix(0, 4, 2)), "\\(n, 3\\)")
expect_error(summary_mesh(matrix(0, 4, 3), faces = matrix(c(0, 1, 4), 1)), "0 to 3")
expect_error(summary_mesh(matrix(0, 4, 3), colors = matrix(300, 4, 3)), "0..255")
expect_error(summary_mesh(matrix(0, 4, 3), colors = matrix(0, 3, 3)), "one colour per vertex")
expect_error(summary_mesh(matrix(NaN, 1, 3)), "finite")
# A config given as an R list is JSON (compared with the text by the harness).
with_logdir("meshcfg", log_event(m = summary_mesh(matrix(1:6, 2, 3), config = list(
  camera = list(cls = "PerspectiveCamera", fov = 75), lights = list(list(cls = "AmbientLight")),
  flag = TRUE)), step = 0))

# Animated images: the fixture's GIF as bytes, and its frames through the
# daemon's encoder.
with_logdir("gif", {
  for (s in 0:1)
    log_event(anim = summary_image(gif_bytes[[s + 1]], metadata = summary_metadata(
      "images", display_name = gif_display_name, description = gif_description)), step = s)
})
with_logdir("gifenc", log_event(a = summary_video(gif_frames, fps = gif_fps), step = 0))
expect_error(summary_video(array(0, c(2, 3, 3))), "frames, height, width, channels")
expect_error(summary_video(array(2, c(2, 3, 3, 3))), "\\[0, 1\\]")
expect_error(summary_video(array(0, c(2, 3, 3, 3)), fps = 0), "fps")

# The projector: the fixture's embedding (two metadata columns: a header).
with_logdir("proj", {
  log_event(loss = 1, step = 0)   # an event file: the projector lists runs only
  log_event(words = summary_embedding(proj_tensor, proj_meta), step = 0)
})
expect_error(summary_embedding(matrix(c(1, NaN), 1)), "finite")
expect_error(summary_embedding(matrix(0, 2, 2), c("a", "b", "c")), "3 labels for 2")
expect_error(with_logdir("proj", log_embedding(matrix(0, 1, 1), tag = "../x", step = 0)),
             "tag")   # refused by the daemon: the request waits and errors
expect_error(log_event(r = list(1, 2)), "must have a name")
expect_error(log_event(r = list(summary_embedding(matrix(0, 1, 1)))), "must have a name")

# The same calls as the Python client's in logdir "pykinds" (the harness
# compares the files): nested runs, the global step, every kind at once.
with_logdir("rkinds", {
  set_global_step(2)
  log_event(pr = summary_pr_curve(cmp_lab, cmp_pred, num_thresholds = 21, weights = cmp_w),
            eval = list(raw = do.call(summary_pr_curve_raw, pr_raw)),
            m = summary_mesh(cmp_mv, faces = cmp_mf, colors = cmp_mc, config = cmp_cfg),
            v4 = summary_video(cmp_video4, fps = 5),
            v5 = summary_video(cmp_video5),
            layout = layout,
            emb = list(e = summary_embedding(cmp_mat, cmp_labels, cmp_img), x = 1))
  log_embedding(cmp_mat, cmp_meta, tag = "table", step = 3)
  check(get_global_step(increment = FALSE) == 3L, "one step for the call with an embedding")
  su <- collect_events(type = "summary")
})
check(all(su$step == 3), "every value at the global step")
check(setequal(su$run, c(".", "eval", "emb")), paste("runs", paste(unique(su$run), collapse = " ")))
tfeventsd_disconnect()
cat("ok\n")
