/* The daemon skeleton every oak tier runs on: one single-threaded event
 * loop (epoll) with file events, timers, the stop signals and the MQTT
 * buses, in the manner of Redis' ae.c. Nothing else in a daemon calls
 * poll or epoll: its parts register here and the loop calls them back.
 *
 *   struct oak_loop *l = oak_loop_new();        SIGINT/SIGTERM/SIGHUP stop it
 *   oak_loop_add_bus(l, bus);                   its fd follows reconnects
 *   oak_loop_add_fd(l, fd, OAK_EV_READ, cb, arg);
 *   oak_loop_add_timer(l, 1000, tick, arg);     tick returns its next delay
 *   rc = oak_loop_run(l);                       until a signal or oak_loop_stop()
 *   oak_loop_free(l);
 */
#ifndef OAK_DAEMON_H
#define OAK_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oak_bus;
struct oak_bus_opts;
struct oak_cfg_key;
struct oak_config;
struct oak_loop;

#define OAK_EV_READ  1u
#define OAK_EV_WRITE 2u

/* A timer callback returns the delay in ms until it runs again (counted
 * from when it was due, so a 1000 ms tick does not drift), or OAK_TIMER_DONE. */
#define OAK_TIMER_DONE (-1)

typedef void (*oak_fd_cb)(struct oak_loop *l, int fd, unsigned events, void *arg);
typedef int64_t (*oak_timer_cb)(struct oak_loop *l, void *arg);
typedef void (*oak_signal_cb)(struct oak_loop *l, int signo, void *arg);

/* Blocks SIGINT, SIGTERM and SIGHUP (delivered through a signalfd) and
 * ignores SIGPIPE. NULL on failure (logged). */
struct oak_loop *oak_loop_new(void);
/* Closes what the loop opened (not the fds or buses it was given). */
void oak_loop_free(struct oak_loop *l);

/* One callback per fd; adding an fd again replaces its mask and callback.
 * events passed to the callback are OAK_EV_* bits (hang-up and error
 * count as readable). */
int oak_loop_add_fd(struct oak_loop *l, int fd, unsigned mask, oak_fd_cb cb, void *arg);
int oak_loop_mod_fd(struct oak_loop *l, int fd, unsigned mask);
/* Safe from inside any callback, also for the fd being dispatched. */
void oak_loop_del_fd(struct oak_loop *l, int fd);

/* Returns a timer id (> 0), or -1. */
long oak_loop_add_timer(struct oak_loop *l, int64_t delay_ms, oak_timer_cb cb, void *arg);
void oak_loop_del_timer(struct oak_loop *l, long id);

/* The bus's socket is watched while it exists (for writing too while it
 * has output queued), and oak_bus_process() runs once per loop turn, at
 * least every oak_bus_timeout_ms(). At most OAK_LOOP_MAX_BUSES. */
#define OAK_LOOP_MAX_BUSES 4
int oak_loop_add_bus(struct oak_loop *l, struct oak_bus *bus);

/* Replaces the default reaction to SIGINT/SIGTERM/SIGHUP (log and stop). */
void oak_loop_on_signal(struct oak_loop *l, oak_signal_cb cb, void *arg);

/* Runs until oak_loop_stop(). 0 on a clean stop, -1 on a fatal error. */
int oak_loop_run(struct oak_loop *l);
void oak_loop_stop(struct oak_loop *l);
bool oak_loop_stopping(const struct oak_loop *l);

/* Monotonic and wall-clock time in ms; monotonic in ns (durations). */
int64_t oak_mono_ms(void);
int64_t oak_mono_ns(void);
int64_t oak_wall_ms(void);

/* Fills bus options from the config keys <prefix>host, <prefix>port,
 * <prefix>username, <prefix>password, <prefix>cafile, <prefix>certfile,
 * <prefix>keyfile (an empty value or a key the config does not have
 * leaves the option unset). The strings point into cfg. */
void oak_bus_opts_from_config(struct oak_bus_opts *o, const struct oak_config *cfg,
			      const char *prefix);

/* Drains queued output of the given buses for up to about ms (the clean
 * stop: the last status messages leave before the buses are freed). */
void oak_bus_flush(struct oak_bus **buses, int n, int ms);

/* The start of every daemon: logs as name, reads its config (keys, then
 * the command line: --config FILE, --key=value, --help) and sets the log
 * level from the key log_level when the table has one. Returns the config,
 * or NULL with *exit_code set: 0 after --help, 2 on a bad argument (said
 * on stderr), 1 when out of memory. */
struct oak_config *oak_daemon_config(const char *name, const struct oak_cfg_key *keys, size_t n,
				     int argc, char **argv, int *exit_code);

#endif
