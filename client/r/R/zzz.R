# When R exits, the lines still held (conn.R, batching) are sent: a script
# that ends without tfeventsd_flush() loses nothing it logged.
.onLoad <- function(libname, pkgname) {
  reg.finalizer(.state, function(e) try(send_held(), silent = TRUE), onexit = TRUE)
  invisible()
}
