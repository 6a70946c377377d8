# One R writer on one workload; prints "WRITER WORKLOAD ITEMS SECONDS".
# Run by r_bench.py (which starts the daemon and sets the environment).
#   Rscript r_bench.R WRITER WORKLOAD N
# WRITER: tfeventsd (this project's client/r), tfeventsd-values (the same,
# histograms sent as numbers for the daemon to bucket), tfeventsd-embedded
# (the same in embedded mode: r_bench.py sets TFEVENTS_MODE and
# TFEVENTS_LIBRARY) or tfevents (the R tfevents package, when installed). Time runs from the first call until
# the data is in the files (tfeventsd: its flush returned; tfevents writes
# each record unbuffered).
args <- commandArgs(trailingOnly = TRUE)
writer <- args[1]; workload <- args[2]; n <- as.integer(args[3])
pkg <- if (writer == "tfevents") "tfevents" else "tfeventsd"
suppressPackageStartupMessages(library(pkg, character.only = TRUE))
if (writer == "tfeventsd-values")
  assignInNamespace("HISTOGRAM_SEND_VALUES_BELOW", .Machine$integer.max, "tfeventsd")
set_default_logdir(file.path(Sys.getenv("BENCH_LOGDIR"), paste(writer, workload, sep = "-")))
set.seed(1)
hist_data <- rnorm(10000)
img <- array(runif(64 * 64 * 3), dim = c(1, 64, 64, 3))
log_event(warmup = 0)   # connect, create the files
if (pkg == "tfeventsd") tfeventsd::tfeventsd_flush()
t0 <- proc.time()[["elapsed"]]
switch(workload,
       scalars = for (i in seq_len(n)) log_event(loss = i / n),
       texts = for (i in seq_len(n)) log_event(note = "some *markdown* text"),
       histograms = for (i in seq_len(n)) log_event(h = summary_histogram(hist_data)),
       images = for (i in seq_len(n)) log_event(img = summary_image(img)),
       stop("unknown workload ", workload))
if (pkg == "tfeventsd") tfeventsd::tfeventsd_flush()
dt <- proc.time()[["elapsed"]] - t0
cat(writer, workload, n, sprintf("%.4f", dt), "\n")
