/* reload: "tfeventsd --reload PID", the units' ExecReload=. It sends
 * SIGHUP (start new event files) to PID with kill(2) once it has checked
 * that PID runs this same program, so that reloading needs no kill(1):
 * procps, which has it, is absent from minimal Debian systems and
 * containers. */
#ifndef TFEVENTSD_RELOAD_H
#define TFEVENTSD_RELOAD_H

#include <stddef.h>

/* Longest PID text accepted (a pid_t is at most 10 digits). */
#define RELOAD_MAX_PID_TEXT 10

/* Send SIGHUP to the tfeventsd whose pid is the decimal text pid_text.
 * Returns 0, -EINVAL (not a pid above 1), -ESRCH (no such process),
 * -EPERM (not a tfeventsd, or not ours to signal) or another negative
 * errno, with a message in err. */
int reload_send(const char *pid_text, char *err, size_t err_size);

#endif
