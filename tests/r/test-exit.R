# Lines still held when R exits are sent (run by test-r-client.py, which
# counts them in the files after the daemon stopped): a burst, then the end
# of the script without tfeventsd_flush().
library(tfeventsd)
set_default_logdir("exit-logs")
for (i in 1:5000) log_event(loss = i, step = i)
stopifnot(tfeventsd:::.state$n_held > 0L)   # some are held: the test means something
cat("ok\n")
