/* The daemon skeleton: see include/oak/daemon.h. */
#include "oak/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "oak/bus.h"
#include "oak/config.h"
#include "oak/log.h"

#define MAX_EVENTS 64

struct fd_event {
	int fd; /* -1 = free slot */
	unsigned mask;
	oak_fd_cb cb;
	void *arg;
};

struct timer {
	long id; /* 0 = free slot */
	int64_t due_ms;
	oak_timer_cb cb;
	void *arg;
};

/* A bus's socket changes on every reconnect: the loop registers the one
 * of the current connection (connects counts them) and follows want_write. */
struct bus_watch {
	struct oak_bus *bus;
	int fd;
	unsigned connects;
	bool writing;
	bool rd, wr; /* what this turn's epoll_wait said */
};

struct oak_loop {
	int ep, sig_fd;
	bool stop;
	struct fd_event *fds;
	size_t n_fds, cap_fds;
	struct timer *timers;
	size_t n_timers, cap_timers;
	long next_timer_id;
	struct bus_watch buses[OAK_LOOP_MAX_BUSES];
	int n_buses;
	oak_signal_cb on_signal;
	void *signal_arg;
};

int64_t oak_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t oak_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t oak_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t ep_mask(unsigned mask)
{
	return ((mask & OAK_EV_READ) ? EPOLLIN : 0) | ((mask & OAK_EV_WRITE) ? EPOLLOUT : 0);
}

static void default_signal(struct oak_loop *l, int signo, void *arg)
{
	oak_log(INFO, "signal %d: stopping", signo);
	oak_loop_stop(l);
}

struct oak_loop *oak_loop_new(void)
{
	struct oak_loop *l = calloc(1, sizeof(*l));
	sigset_t mask;

	if (!l)
		return NULL;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->ep < 0 || l->sig_fd < 0) {
		oak_log(ERROR, "event loop: %s", strerror(errno));
		oak_loop_free(l);
		return NULL;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->sig_fd};
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sig_fd, &ev)) {
		oak_log(ERROR, "event loop: signalfd: %s", strerror(errno));
		oak_loop_free(l);
		return NULL;
	}
	l->on_signal = default_signal;
	for (int i = 0; i < OAK_LOOP_MAX_BUSES; i++)
		l->buses[i].fd = -1;
	return l;
}

void oak_loop_free(struct oak_loop *l)
{
	if (!l)
		return;
	if (l->ep >= 0)
		close(l->ep);
	if (l->sig_fd >= 0)
		close(l->sig_fd);
	free(l->fds);
	free(l->timers);
	free(l);
}

static struct fd_event *fd_find(struct oak_loop *l, int fd)
{
	for (size_t i = 0; i < l->n_fds; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int oak_loop_add_fd(struct oak_loop *l, int fd, unsigned mask, oak_fd_cb cb, void *arg)
{
	struct fd_event *e = fd_find(l, fd);
	struct epoll_event ev = {.events = ep_mask(mask), .data.fd = fd};

	if (fd < 0 || !cb)
		return -1;
	if (e) {
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev))
			return -1;
	} else {
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
			return -1;
		e = fd_find(l, -1);
		if (!e) {
			if (l->n_fds == l->cap_fds) {
				size_t nc = l->cap_fds ? l->cap_fds * 2 : 16;
				struct fd_event *n = realloc(l->fds, nc * sizeof(*n));

				if (!n) {
					epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
					return -1;
				}
				l->fds = n;
				l->cap_fds = nc;
			}
			e = &l->fds[l->n_fds++];
		}
	}
	*e = (struct fd_event){.fd = fd, .mask = mask, .cb = cb, .arg = arg};
	return 0;
}

int oak_loop_mod_fd(struct oak_loop *l, int fd, unsigned mask)
{
	struct fd_event *e = fd_find(l, fd);
	struct epoll_event ev = {.events = ep_mask(mask), .data.fd = fd};

	if (!e || epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev))
		return -1;
	e->mask = mask;
	return 0;
}

void oak_loop_del_fd(struct oak_loop *l, int fd)
{
	struct fd_event *e = fd_find(l, fd);

	if (!e)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly if already closed */
	e->fd = -1;
}

long oak_loop_add_timer(struct oak_loop *l, int64_t delay_ms, oak_timer_cb cb, void *arg)
{
	struct timer *t = NULL;

	if (!cb)
		return -1;
	for (size_t i = 0; i < l->n_timers; i++)
		if (!l->timers[i].id) {
			t = &l->timers[i];
			break;
		}
	if (!t) {
		if (l->n_timers == l->cap_timers) {
			size_t nc = l->cap_timers ? l->cap_timers * 2 : 8;
			struct timer *n = realloc(l->timers, nc * sizeof(*n));

			if (!n)
				return -1;
			l->timers = n;
			l->cap_timers = nc;
		}
		t = &l->timers[l->n_timers++];
	}
	*t = (struct timer){.id = ++l->next_timer_id,
			    .due_ms = oak_mono_ms() + (delay_ms > 0 ? delay_ms : 0),
			    .cb = cb,
			    .arg = arg};
	return t->id;
}

void oak_loop_del_timer(struct oak_loop *l, long id)
{
	for (size_t i = 0; i < l->n_timers; i++)
		if (l->timers[i].id == id)
			l->timers[i].id = 0;
}

int oak_loop_add_bus(struct oak_loop *l, struct oak_bus *bus)
{
	if (!bus || l->n_buses == OAK_LOOP_MAX_BUSES)
		return -1;
	l->buses[l->n_buses++] = (struct bus_watch){.bus = bus, .fd = -1};
	return 0;
}

void oak_loop_on_signal(struct oak_loop *l, oak_signal_cb cb, void *arg)
{
	l->on_signal = cb ? cb : default_signal;
	l->signal_arg = arg;
}

void oak_loop_stop(struct oak_loop *l)
{
	l->stop = true;
}

bool oak_loop_stopping(const struct oak_loop *l)
{
	return l->stop;
}

/* Bus sockets are tagged in epoll's data with a negative index: -2 - i. */
static void bus_sync(struct oak_loop *l, struct bus_watch *b, int idx)
{
	int fd = oak_bus_fd(b->bus);
	unsigned connects = oak_bus_connects(b->bus);
	bool writing = fd >= 0 && oak_bus_want_write(b->bus);
	struct epoll_event ev = {.events = EPOLLIN | (writing ? EPOLLOUT : 0), .data.fd = -2 - idx};

	if (fd != b->fd || connects != b->connects) {
		/* the old socket is closed (epoll dropped it) or replaced */
		if (b->fd >= 0)
			epoll_ctl(l->ep, EPOLL_CTL_DEL, b->fd, NULL);
		b->fd = -1;
		if (fd >= 0 && epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == 0)
			b->fd = fd;
		else if (fd >= 0)
			oak_log(WARN, "event loop: bus socket %d: %s", fd, strerror(errno));
		b->connects = connects;
		b->writing = writing;
	} else if (fd >= 0 && writing != b->writing) {
		if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT)
			epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
		b->writing = writing;
	}
	b->rd = b->wr = false;
}

static int64_t run_timers(struct oak_loop *l)
{
	int64_t now = oak_mono_ms(), next = INT64_MAX;

	/* callbacks may add timers (realloc): index, never hold pointers */
	for (size_t i = 0; i < l->n_timers && !l->stop; i++) {
		if (!l->timers[i].id || l->timers[i].due_ms > now)
			continue;
		long id = l->timers[i].id;
		int64_t due = l->timers[i].due_ms;
		int64_t d = l->timers[i].cb(l, l->timers[i].arg);

		if (l->timers[i].id != id) /* deleted by its callback */
			continue;
		if (d < 0) {
			l->timers[i].id = 0;
			continue;
		}
		due += d;
		if (due <= now) /* far behind: do not run it in a burst */
			due = now + d;
		l->timers[i].due_ms = due;
	}
	for (size_t i = 0; i < l->n_timers; i++)
		if (l->timers[i].id && l->timers[i].due_ms < next)
			next = l->timers[i].due_ms;
	return next;
}

static void read_signals(struct oak_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sig_fd, &si, sizeof(si)) == sizeof(si))
		l->on_signal(l, (int)si.ssi_signo, l->signal_arg);
}

int oak_loop_run(struct oak_loop *l)
{
	struct epoll_event evs[MAX_EVENTS];

	while (!l->stop) {
		int64_t next = run_timers(l), now;
		int timeout = 1000, n;

		if (l->stop)
			break;
		for (int i = 0; i < l->n_buses; i++) {
			int t = oak_bus_timeout_ms(l->buses[i].bus);

			if (t < timeout)
				timeout = t;
			bus_sync(l, &l->buses[i], i);
		}
		now = oak_mono_ms();
		if (next != INT64_MAX && next - now < timeout)
			timeout = next > now ? (int)(next - now) : 0;
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			oak_log(ERROR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			int tag = evs[i].data.fd;
			uint32_t e = evs[i].events;

			if (tag <= -2 && -2 - tag < l->n_buses) {
				struct bus_watch *b = &l->buses[-2 - tag];

				b->rd = e & (EPOLLIN | EPOLLHUP | EPOLLERR);
				b->wr = e & EPOLLOUT;
			}
		}
		/* buses first: what arrived is handled before fds and timers */
		for (int i = 0; i < l->n_buses; i++)
			oak_bus_process(l->buses[i].bus, l->buses[i].rd, l->buses[i].wr);
		for (int i = 0; i < n && !l->stop; i++) {
			int tag = evs[i].data.fd;
			uint32_t e = evs[i].events;
			struct fd_event *fe;
			unsigned ev = 0;

			if (tag == l->sig_fd) {
				read_signals(l);
				continue;
			}
			if (tag < 0)
				continue;
			/* looked up now: an earlier callback may have removed it */
			fe = fd_find(l, tag);
			if (!fe)
				continue;
			if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
				ev |= OAK_EV_READ;
			if (e & EPOLLOUT)
				ev |= OAK_EV_WRITE;
			fe->cb(l, tag, ev, fe->arg);
		}
	}
	return 0;
}

void oak_bus_opts_from_config(struct oak_bus_opts *o, const struct oak_config *cfg,
			      const char *prefix)
{
	static const char *const names[] = {"host",	"username", "password",
					    "cafile",	"certfile", "keyfile"};
	const char **slots[] = {&o->host,   &o->username, &o->password,
				&o->cafile, &o->certfile, &o->keyfile};
	char key[96];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, names[i]);
		if (oak_config_has(cfg, key) && *oak_config_str(cfg, key))
			*slots[i] = oak_config_str(cfg, key);
	}
	snprintf(key, sizeof(key), "%sport", prefix);
	if (oak_config_has(cfg, key) && oak_config_int(cfg, key))
		o->port = (int)oak_config_int(cfg, key);
}

void oak_bus_flush(struct oak_bus **buses, int n, int ms)
{
	int64_t end = oak_mono_ms() + ms;

	for (;;) {
		bool pending = false;

		for (int i = 0; i < n; i++)
			if (buses[i] && oak_bus_state(buses[i]) == OAK_BUS_CONNECTED &&
			    oak_bus_want_write(buses[i]))
				pending = true;
		if (!pending || oak_mono_ms() >= end)
			return;
		for (int i = 0; i < n; i++)
			if (buses[i])
				oak_bus_loop(buses[i], 50 / n > 0 ? 50 / n : 1);
	}
}

struct oak_config *oak_daemon_config(const char *name, const struct oak_cfg_key *keys, size_t n,
				     int argc, char **argv, int *exit_code)
{
	struct oak_config *cfg;
	enum oak_log_level lvl;
	char err[512];
	int rc;

	oak_log_init(name, OAK_LOG_INFO);
	cfg = oak_config_new(name, keys, n);
	if (!cfg) {
		*exit_code = 1;
		return NULL;
	}
	rc = oak_config_parse_args(cfg, argc, argv, stdout, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "%s: %s\n", name, err);
		*exit_code = rc < 0 ? 2 : 0;
		oak_config_free(cfg);
		return NULL;
	}
	if (oak_config_has(cfg, "log_level") &&
	    oak_log_level_parse(oak_config_str(cfg, "log_level"), &lvl) == 0)
		oak_log_set_level(lvl);
	return cfg;
}
