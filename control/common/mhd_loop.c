/* SPDX-License-Identifier: MIT */
/* libmicrohttpd on the shared loop (include/oak/mhd_loop.h). */
#include "oak/mhd_loop.h"

#include <string.h>

#include "oak/daemon.h"

#define IDLE_TICK_MS 500

/* MHD may have more to do at once (a response to push after a read):
 * run until it asks for no immediate turn, a bounded number of times */
static void run(struct oak_mhd *m)
{
	for (int i = 0; i < 16; i++) {
		MHD_UNSIGNED_LONG_LONG to;

		if (MHD_run(m->d) != MHD_YES)
			return;
		if (MHD_get_timeout(m->d, &to) != MHD_YES || to > 0)
			return;
	}
}

static void on_epoll(struct oak_loop *l, int fd, unsigned events, void *arg)
{
	run(arg);
}

static int64_t on_tick(struct oak_loop *l, void *arg)
{
	struct oak_mhd *m = arg;
	MHD_UNSIGNED_LONG_LONG to;

	run(m);
	if (MHD_get_timeout(m->d, &to) == MHD_YES && to < IDLE_TICK_MS)
		return (int64_t)to;
	return IDLE_TICK_MS;
}

int oak_mhd_attach(struct oak_mhd *m, struct oak_loop *loop, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di;

	memset(m, 0, sizeof(*m));
	m->d = d;
	m->loop = loop;
	m->timer = -1;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	m->epfd = di ? di->epoll_fd : -1;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	m->port = di ? di->port : 0;
	if (m->epfd < 0 || oak_loop_add_fd(loop, m->epfd, OAK_EV_READ, on_epoll, m)) {
		m->epfd = -1;
		oak_mhd_detach(m);
		return -1;
	}
	m->timer = oak_loop_add_timer(loop, IDLE_TICK_MS, on_tick, m);
	if (m->timer < 0) {
		oak_mhd_detach(m);
		return -1;
	}
	return 0;
}

void oak_mhd_detach(struct oak_mhd *m)
{
	if (m->loop && m->epfd >= 0)
		oak_loop_del_fd(m->loop, m->epfd);
	if (m->loop && m->timer > 0)
		oak_loop_del_timer(m->loop, m->timer);
	if (m->d)
		MHD_stop_daemon(m->d);
	memset(m, 0, sizeof(*m));
	m->epfd = -1;
	m->timer = -1;
}
