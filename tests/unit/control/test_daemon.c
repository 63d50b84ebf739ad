/* The daemon skeleton's event loop: timers, file events, signals. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oak/bus.h"
#include "oak/config.h"
#include "oak/daemon.h"

struct ticks {
	int n, stop_at;
	int64_t first_ms, last_ms;
};

static int64_t tick(struct oak_loop *l, void *arg)
{
	struct ticks *t = arg;
	int64_t now = oak_mono_ms();

	if (!t->n)
		t->first_ms = now;
	t->last_ms = now;
	if (++t->n == t->stop_at)
		oak_loop_stop(l);
	return 20;
}

static int64_t once(struct oak_loop *l, void *arg)
{
	(*(int *)arg)++;
	return OAK_TIMER_DONE;
}

static void test_timers(void **state)
{
	struct oak_loop *l = oak_loop_new();
	struct ticks t = {.stop_at = 5};
	int fired = 0;
	long gone;

	(void)state;
	assert_non_null(l);
	assert_true(oak_loop_add_timer(l, 0, tick, &t) > 0);
	assert_true(oak_loop_add_timer(l, 10, once, &fired) > 0);
	gone = oak_loop_add_timer(l, 5, once, &fired);
	oak_loop_del_timer(l, gone);
	assert_int_equal(oak_loop_run(l), 0);
	assert_int_equal(t.n, 5);
	assert_int_equal(fired, 1); /* once ran once, the deleted one never */
	/* four periods of 20 ms, not drifting, not bursting */
	assert_true(t.last_ms - t.first_ms >= 78);
	assert_true(t.last_ms - t.first_ms < 300);
	oak_loop_free(l);
}

struct pipe_ctx {
	int fds[2];
	int reads;
	char got[16];
};

static void on_readable(struct oak_loop *l, int fd, unsigned ev, void *arg)
{
	struct pipe_ctx *p = arg;
	ssize_t n;

	assert_true(ev & OAK_EV_READ);
	n = read(fd, p->got, sizeof(p->got) - 1);
	assert_true(n > 0);
	p->got[n] = '\0';
	p->reads++;
	oak_loop_del_fd(l, fd); /* removing itself while dispatched */
	oak_loop_stop(l);
}

static int64_t write_later(struct oak_loop *l, void *arg)
{
	struct pipe_ctx *p = arg;

	assert_int_equal(write(p->fds[1], "hello", 5), 5);
	return OAK_TIMER_DONE;
}

static void test_fd_events(void **state)
{
	struct oak_loop *l = oak_loop_new();
	struct pipe_ctx p = {0};

	(void)state;
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(oak_loop_add_fd(l, p.fds[0], OAK_EV_READ, on_readable, &p), 0);
	oak_loop_add_timer(l, 10, write_later, &p);
	assert_int_equal(oak_loop_run(l), 0);
	assert_int_equal(p.reads, 1);
	assert_string_equal(p.got, "hello");
	close(p.fds[0]);
	close(p.fds[1]);
	oak_loop_free(l);
}

static int64_t send_term(struct oak_loop *l, void *arg)
{
	kill(getpid(), SIGTERM);
	return OAK_TIMER_DONE;
}

static void on_sig(struct oak_loop *l, int signo, void *arg)
{
	*(int *)arg = signo;
	oak_loop_stop(l);
}

static void test_signal_stops(void **state)
{
	struct oak_loop *l = oak_loop_new();
	int got = 0;

	(void)state;
	oak_loop_on_signal(l, on_sig, &got);
	oak_loop_add_timer(l, 5, send_term, NULL);
	assert_int_equal(oak_loop_run(l), 0);
	assert_int_equal(got, SIGTERM);
	assert_true(oak_loop_stopping(l));
	oak_loop_free(l);
}

static void test_bus_opts_from_config(void **state)
{
	static const struct oak_cfg_key keys[] = {
	    {"root_broker_host", OAK_CFG_STR, "", "h"},
	    {"root_broker_port", OAK_CFG_INT, "0", "p"},
	    {"root_broker_cafile", OAK_CFG_STR, "", "ca"},
	};
	struct oak_config *cfg = oak_config_new("t", keys, 3);
	struct oak_bus_opts o = {.host = "default", .port = 1883};
	char err[256];

	(void)state;
	assert_int_equal(oak_config_set(cfg, "root_broker_cafile", "/ca.pem", err, sizeof(err)),
			 0);
	oak_bus_opts_from_config(&o, cfg, "root_broker_");
	assert_string_equal(o.host, "default"); /* empty: kept */
	assert_int_equal(o.port, 1883);		 /* 0: kept */
	assert_string_equal(o.cafile, "/ca.pem");
	assert_null(o.username); /* not in the table */
	oak_config_free(cfg);
}

static void test_daemon_config(void **state)
{
	static const struct oak_cfg_key keys[] = {
	    {"node_timeout", OAK_CFG_DOUBLE, "3", "t"},
	    {"log_level", OAK_CFG_STR, "info", "l"},
	};
	char *run[] = {"d", "--node_timeout=1.5", "--log_level", "debug", NULL};
	char *bad[] = {"d", "--no_such_key=1", NULL};
	char *stray[] = {"d", "positional", NULL};
	char *help[] = {"d", "--help", NULL};
	struct oak_config *cfg;
	int code = -1;

	(void)state;
	cfg = oak_daemon_config("d", keys, 2, 4, run, &code);
	assert_non_null(cfg);
	assert_int_equal(code, -1); /* untouched when it runs */
	assert_true(oak_config_double(cfg, "node_timeout") == 1.5);
	assert_string_equal(oak_config_origin(cfg, "log_level"), "command line");
	oak_config_free(cfg);
	assert_null(oak_daemon_config("d", keys, 2, 2, bad, &code));
	assert_int_equal(code, 2);
	code = -1;
	assert_null(oak_daemon_config("d", keys, 2, 2, stray, &code));
	assert_int_equal(code, 2);
	assert_null(oak_daemon_config("d", keys, 2, 2, help, &code)); /* printed the keys */
	assert_int_equal(code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_fd_events),
	    cmocka_unit_test(test_signal_stops),
	    cmocka_unit_test(test_bus_opts_from_config),
	    cmocka_unit_test(test_daemon_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
