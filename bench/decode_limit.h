/* decode_limit: the daemon's JSON decoder alone, for tfbench. Kept apart
 * from tfbench.c so that tfbench.c needs none of protocol/'s headers. */
#ifndef TFBENCH_DECODE_LIMIT_H
#define TFBENCH_DECODE_LIMIT_H

#include <stddef.h>

/* Decode the n lines (borrowed) with jd_decode() into one reused message;
 * returns the thread CPU seconds it took, or -1 with the decoder's reason
 * in err when a line is refused. */
double decode_limit_run(const char *const *lines, const size_t *lens, long n, char *err,
                        size_t err_size);

#endif
