/* SPDX-License-Identifier: MIT */
/* A libmicrohttpd daemon (MHD_USE_EPOLL, no threads of its own) driven by
 * an oak_loop: its epoll set's fd wakes the loop, a timer covers MHD's own
 * timeouts. Shared by oak-root's REST server and the daemons' /metrics. */
#ifndef OAK_MHD_LOOP_H
#define OAK_MHD_LOOP_H

#include <microhttpd.h>

struct oak_loop;

struct oak_mhd {
	struct MHD_Daemon *d;
	struct oak_loop *loop;
	int epfd, port; /* port: the one bound (0 asks the kernel) */
	long timer;
};

/* Takes d (started): on error it is stopped and *m zeroed; -1. */
int oak_mhd_attach(struct oak_mhd *m, struct oak_loop *loop, struct MHD_Daemon *d);
/* Off the loop, the daemon stopped; safe on a zeroed or detached m. */
void oak_mhd_detach(struct oak_mhd *m);

#endif
