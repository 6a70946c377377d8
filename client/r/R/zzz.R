# When R exits, the lines still held (conn.R, batching) are sent: a script
# that ends without tfeventsd_flush() loses nothing it logged.
.onLoad <- function(libname, pkgname) {
  reg.finalizer(.state, function(e) {
    try(send_held(), silent = TRUE)
    # Embedded mode: the files written and closed (the handle's own
    # finalizer does not run at exit, so that this order holds).
    if (is_embedded(e$con)) try(close_transport(e$con), silent = TRUE)
  }, onexit = TRUE)
  invisible()
}
