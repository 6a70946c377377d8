/* sockpath: where tfeventsd listens and clients connect when no path is
 * given -- one rule for the daemon, libtfevents and the CLI:
 *
 *   $TFEVENTS_SOCKET, else $XDG_RUNTIME_DIR/tfevents.sock, else
 *   /run/tfevents.sock as root (sudo, su, containers: a fixed path, the
 *   same from every directory), else ./tfevents.sock.
 *
 * (The Python client, client/python/tfevents/_daemon.py, and the
 * documentation follow the same rule.) */
#ifndef TFEVENTS_SOCKPATH_H
#define TFEVENTS_SOCKPATH_H

#include <stddef.h>

/* Write the default path into out[size]. 0, or -ENAMETOOLONG when it
 * does not fit out or a sockaddr_un. */
int sockpath_default(char *out, size_t size);

#endif
