/* The MQTT bus every tier talks over (libmosquitto, QoS 1).
 *
 * Single-threaded: the daemon's event loop either calls oak_bus_loop()
 * with a timeout, or polls oak_bus_fd() itself (POLLOUT when
 * oak_bus_want_write()) and calls oak_bus_process(). The bus reconnects on
 * its own with exponential backoff and resubscribes every filter after
 * each (re)connect; every state change is logged once. */
#ifndef OAK_BUS_H
#define OAK_BUS_H

#include <stdbool.h>
#include <stddef.h>

struct oak_bus;

struct oak_bus_opts {
	const char *host;      /* default "127.0.0.1" */
	int port;	       /* default 1883 (8883 with TLS) */
	const char *client_id; /* required: node/cluster id, unique per broker */
	const char *username;  /* optional */
	const char *password;
	const char *cafile; /* TLS on when set */
	const char *certfile;
	const char *keyfile;
	/*
	 * default 5; libmosquitto 2.0 refuses less (v3.1.1 and v5 alike). A
	 * broker could impose less through MQTT v5's Server Keep Alive, which
	 * libmosquitto follows, but mosquitto 2.0 refuses max_keepalive < 10
	 * and scans for expired clients only every ~5 s: a dead client's will
	 * comes 4-10 s after its last packet. Hence oak detects a silent node
	 * within 3 s from its UDP heartbeats (include/oak/heartbeat.h,
	 * oak-cluster's node_timeout), not from the keepalive nor from the
	 * MQTT reports, which come every 10 s only. (Measured 2026-11 with
	 * Debian 12's mosquitto 2.0.11.)
	 */
	int keepalive_s;
	bool clean_session;
	const char *will_topic; /* last will, optional */
	const char *will_payload;
	bool will_retain;
	unsigned backoff_min_ms; /* default 100 */
	unsigned backoff_max_ms; /* default 10000 */
};

enum oak_bus_state {
	OAK_BUS_DISCONNECTED,
	OAK_BUS_CONNECTING,
	OAK_BUS_CONNECTED,
};

typedef void (*oak_bus_msg_cb)(struct oak_bus *bus, const char *topic, const void *payload,
			       size_t len, void *arg);
typedef void (*oak_bus_state_cb)(struct oak_bus *bus, enum oak_bus_state state, void *arg);

/* Delay before reconnect attempt number `attempt` (0-based):
 * min_ms * 2^attempt, capped at max_ms. Pure. */
unsigned oak_bus_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms);

/* Creates the bus and starts the first connection attempt (non-blocking). */
struct oak_bus *oak_bus_new(const struct oak_bus_opts *opts);
/* Disconnects cleanly (the last will is not sent) and frees. */
void oak_bus_free(struct oak_bus *bus);

/* Topic filter with + and #; cb runs for every message matching it (a
 * message matching several filters runs each). Kept and re-sent after
 * every reconnect. Subscribing the same filter again replaces the cb. */
int oak_bus_subscribe(struct oak_bus *bus, const char *filter, oak_bus_msg_cb cb, void *arg);
int oak_bus_unsubscribe(struct oak_bus *bus, const char *filter);
/* QoS 1. Returns 0, or -1 if the message could not be queued
 * (while disconnected libmosquitto keeps QoS 1 messages for the next
 * session only when clean_session is false). */
int oak_bus_publish(struct oak_bus *bus, const char *topic, const void *payload, size_t len,
		    bool retain);
int oak_bus_publish_str(struct oak_bus *bus, const char *topic, const char *payload, bool retain);
void oak_bus_on_state(struct oak_bus *bus, oak_bus_state_cb cb, void *arg);

/* Run I/O for up to timeout_ms (also waits when disconnected, until the
 * next reconnect attempt is due). Returns 0, or -1 on a fatal error. */
int oak_bus_loop(struct oak_bus *bus, int timeout_ms);

/* External event loop: fd is -1 while disconnected. */
int oak_bus_fd(struct oak_bus *bus);
bool oak_bus_want_write(struct oak_bus *bus);
/* ms until the bus needs oak_bus_process() even without I/O (keepalive,
 * reconnect); never more than 1000 */
int oak_bus_timeout_ms(struct oak_bus *bus);
void oak_bus_process(struct oak_bus *bus, bool readable, bool writable);

enum oak_bus_state oak_bus_state(const struct oak_bus *bus);
/* number of successful connects so far (1 after the first) */
unsigned oak_bus_connects(const struct oak_bus *bus);

/* Exports the bus's state and message counters as oak_mqtt_*{bus="name"}
 * (include/oak/metrics.h); the registry must not be rendered after the
 * bus is freed. */
struct oak_metrics;
int oak_bus_metrics(struct oak_bus *bus, struct oak_metrics *m, const char *name);

#endif
