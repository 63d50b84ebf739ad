/* MQTT bus over libmosquitto: one connection, a subscription list that is
 * replayed after every connect, reconnect with exponential backoff. */
#include "oak/bus.h"

#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oak/log.h"
#include "oak/metrics.h"

struct bus_sub {
	char *filter;
	oak_bus_msg_cb cb;
	void *arg;
	bool dead;
};

struct oak_bus {
	struct mosquitto *mosq;
	char *host;
	int port;
	int keepalive;
	char *client_id;
	unsigned backoff_min, backoff_max;

	enum oak_bus_state state;
	bool ever_started; /* connect_async once, reconnect_async after */
	bool closing;
	unsigned attempts;  /* failed attempts since last success */
	unsigned connects;  /* successful connects */
	long long next_try; /* monotonic ms of next attempt when disconnected */

	struct bus_sub *subs;
	size_t n_subs, cap_subs;
	int dispatching;

	oak_bus_state_cb state_cb;
	void *state_arg;

	/* messages, for the metrics (oak_bus_metrics) */
	unsigned long long received, sent, send_failed;
	char *metrics_name;
	struct oak_metric *m_connected, *m_reconnects, *m_received, *m_sent, *m_failed;
};

static int lib_refs;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned oak_bus_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms)
{
	unsigned long long d;

	if (min_ms == 0)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	if (attempt >= 32)
		return max_ms;
	d = (unsigned long long)min_ms << attempt;
	return d > max_ms ? max_ms : (unsigned)d;
}

static void set_state(struct oak_bus *bus, enum oak_bus_state st)
{
	if (bus->state == st)
		return;
	bus->state = st;
	if (bus->state_cb)
		bus->state_cb(bus, st, bus->state_arg);
}

static void schedule_reconnect(struct oak_bus *bus)
{
	unsigned delay = oak_bus_backoff_ms(bus->attempts, bus->backoff_min, bus->backoff_max);

	bus->attempts++;
	bus->next_try = now_ms() + delay;
	set_state(bus, OAK_BUS_DISCONNECTED);
	oak_log(INFO, "bus %s: reconnect to %s:%d in %u ms (attempt %u)", bus->client_id, bus->host,
		bus->port, delay, bus->attempts);
}

static void start_connect(struct oak_bus *bus)
{
	int rc;

	oak_log(INFO, "bus %s: connecting to %s:%d", bus->client_id, bus->host, bus->port);
	if (!bus->ever_started)
		rc = mosquitto_connect_async(bus->mosq, bus->host, bus->port, bus->keepalive);
	else
		rc = mosquitto_reconnect_async(bus->mosq);
	if (rc == MOSQ_ERR_SUCCESS) {
		bus->ever_started = true;
		set_state(bus, OAK_BUS_CONNECTING);
		return;
	}
	if (rc == MOSQ_ERR_ERRNO)
		oak_log(WARN, "bus %s: connect to %s:%d failed: %s", bus->client_id, bus->host,
			bus->port, strerror(errno));
	else
		oak_log(WARN, "bus %s: connect to %s:%d failed: %s", bus->client_id, bus->host,
			bus->port, mosquitto_strerror(rc));
	/* connect_async stored host/port even when the TCP connect failed */
	if (rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_EAI)
		bus->ever_started = true;
	schedule_reconnect(bus);
}

static void resubscribe(struct oak_bus *bus)
{
	for (size_t i = 0; i < bus->n_subs; i++) {
		int rc;

		if (bus->subs[i].dead)
			continue;
		rc = mosquitto_subscribe(bus->mosq, NULL, bus->subs[i].filter, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			oak_log(WARN, "bus %s: subscribe %s failed: %s", bus->client_id,
				bus->subs[i].filter, mosquitto_strerror(rc));
	}
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct oak_bus *bus = obj;

	(void)mosq;
	if (rc != 0) {
		oak_log(WARN, "bus %s: broker %s:%d refused the connection: %s", bus->client_id,
			bus->host, bus->port, mosquitto_connack_string(rc));
		return; /* the library reports a disconnect next */
	}
	bus->attempts = 0;
	bus->connects++;
	oak_log(INFO, "bus %s: connected to %s:%d, resubscribing %zu filters", bus->client_id,
		bus->host, bus->port, bus->n_subs);
	resubscribe(bus);
	set_state(bus, OAK_BUS_CONNECTED);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct oak_bus *bus = obj;

	(void)mosq;
	if (bus->closing) {
		set_state(bus, OAK_BUS_DISCONNECTED);
		return;
	}
	oak_log(WARN, "bus %s: disconnected from %s:%d (rc %d: %s)", bus->client_id, bus->host,
		bus->port, rc, mosquitto_strerror(rc));
	schedule_reconnect(bus);
}

static void compact_subs(struct oak_bus *bus)
{
	size_t w = 0;

	for (size_t r = 0; r < bus->n_subs; r++) {
		if (bus->subs[r].dead) {
			free(bus->subs[r].filter);
			continue;
		}
		bus->subs[w++] = bus->subs[r];
	}
	bus->n_subs = w;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct oak_bus *bus = obj;
	size_t n = bus->n_subs;

	(void)mosq;
	bus->received++;
	bus->dispatching++;
	for (size_t i = 0; i < n && i < bus->n_subs; i++) {
		bool match = false;
		struct bus_sub s = bus->subs[i];

		if (s.dead)
			continue;
		if (mosquitto_topic_matches_sub(s.filter, msg->topic, &match) != MOSQ_ERR_SUCCESS ||
		    !match)
			continue;
		s.cb(bus, msg->topic, msg->payload,
		     msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, s.arg);
	}
	bus->dispatching--;
	if (!bus->dispatching)
		compact_subs(bus);
}

struct oak_bus *oak_bus_new(const struct oak_bus_opts *o)
{
	struct oak_bus *bus;
	int rc;

	if (!o || !o->client_id || !*o->client_id) {
		oak_log(ERROR, "bus: a client id is required");
		return NULL;
	}
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	if (lib_refs++ == 0)
		mosquitto_lib_init();
	bus->host = strdup(o->host && *o->host ? o->host : "127.0.0.1");
	bus->client_id = strdup(o->client_id);
	bus->port = o->port > 0 ? o->port : (o->cafile && *o->cafile ? 8883 : 1883);
	bus->keepalive = o->keepalive_s > 0 ? o->keepalive_s : 5;
	if (bus->keepalive < 5) {
		oak_log(WARN, "bus %s: keepalive %d s raised to 5 s (libmosquitto minimum)",
			o->client_id, bus->keepalive);
		bus->keepalive = 5;
	}
	bus->backoff_min = o->backoff_min_ms ? o->backoff_min_ms : 100;
	bus->backoff_max = o->backoff_max_ms ? o->backoff_max_ms : 10000;
	bus->state = OAK_BUS_DISCONNECTED;
	if (!bus->host || !bus->client_id)
		goto fail;
	bus->mosq = mosquitto_new(o->client_id, o->clean_session, bus);
	if (!bus->mosq) {
		oak_log(ERROR, "bus %s: mosquitto_new: %s", o->client_id, strerror(errno));
		goto fail;
	}
	mosquitto_int_option(bus->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_connect_callback_set(bus->mosq, on_connect);
	mosquitto_disconnect_callback_set(bus->mosq, on_disconnect);
	mosquitto_message_callback_set(bus->mosq, on_message);
	if (o->username && *o->username) {
		rc = mosquitto_username_pw_set(bus->mosq, o->username, o->password);
		if (rc != MOSQ_ERR_SUCCESS) {
			oak_log(ERROR, "bus %s: username: %s", o->client_id,
				mosquitto_strerror(rc));
			goto fail;
		}
	}
	if (o->cafile && *o->cafile) {
		rc = mosquitto_tls_set(bus->mosq, o->cafile, NULL,
				       o->certfile && *o->certfile ? o->certfile : NULL,
				       o->keyfile && *o->keyfile ? o->keyfile : NULL, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			oak_log(ERROR, "bus %s: TLS setup (cafile %s): %s", o->client_id, o->cafile,
				mosquitto_strerror(rc));
			goto fail;
		}
	}
	if (o->will_topic && *o->will_topic) {
		const char *p = o->will_payload ? o->will_payload : "";

		rc = mosquitto_will_set(bus->mosq, o->will_topic, (int)strlen(p), p, 1,
					o->will_retain);
		if (rc != MOSQ_ERR_SUCCESS) {
			oak_log(ERROR, "bus %s: last will on %s: %s", o->client_id, o->will_topic,
				mosquitto_strerror(rc));
			goto fail;
		}
	}
	start_connect(bus);
	return bus;
fail:
	oak_bus_free(bus);
	return NULL;
}

void oak_bus_free(struct oak_bus *bus)
{
	if (!bus)
		return;
	bus->closing = true;
	if (bus->mosq) {
		if (bus->state == OAK_BUS_CONNECTED) {
			mosquitto_disconnect(bus->mosq);
			mosquitto_loop(bus->mosq, 50, 1);
		}
		mosquitto_destroy(bus->mosq);
		if (--lib_refs == 0)
			mosquitto_lib_cleanup();
	} else if (--lib_refs == 0) {
		mosquitto_lib_cleanup();
	}
	for (size_t i = 0; i < bus->n_subs; i++)
		free(bus->subs[i].filter);
	free(bus->subs);
	free(bus->host);
	free(bus->client_id);
	free(bus->metrics_name);
	free(bus);
}

int oak_bus_subscribe(struct oak_bus *bus, const char *filter, oak_bus_msg_cb cb, void *arg)
{
	struct bus_sub *s = NULL;

	if (!filter || !cb || mosquitto_sub_topic_check(filter) != MOSQ_ERR_SUCCESS) {
		oak_log(ERROR, "bus %s: invalid topic filter '%s'", bus->client_id,
			filter ? filter : "(null)");
		return -1;
	}
	for (size_t i = 0; i < bus->n_subs; i++)
		if (!bus->subs[i].dead && strcmp(bus->subs[i].filter, filter) == 0)
			s = &bus->subs[i];
	if (s) {
		s->cb = cb;
		s->arg = arg;
		return 0;
	}
	if (bus->n_subs == bus->cap_subs) {
		size_t cap = bus->cap_subs ? bus->cap_subs * 2 : 8;
		struct bus_sub *ns = realloc(bus->subs, cap * sizeof(*ns));

		if (!ns)
			return -1;
		bus->subs = ns;
		bus->cap_subs = cap;
	}
	s = &bus->subs[bus->n_subs];
	s->filter = strdup(filter);
	if (!s->filter)
		return -1;
	s->cb = cb;
	s->arg = arg;
	s->dead = false;
	bus->n_subs++;
	if (bus->state == OAK_BUS_CONNECTED) {
		int rc = mosquitto_subscribe(bus->mosq, NULL, filter, 1);

		if (rc != MOSQ_ERR_SUCCESS)
			oak_log(WARN, "bus %s: subscribe %s: %s (retried on reconnect)",
				bus->client_id, filter, mosquitto_strerror(rc));
	}
	return 0;
}

int oak_bus_unsubscribe(struct oak_bus *bus, const char *filter)
{
	bool found = false;

	for (size_t i = 0; i < bus->n_subs; i++) {
		if (!bus->subs[i].dead && strcmp(bus->subs[i].filter, filter) == 0) {
			bus->subs[i].dead = true;
			found = true;
		}
	}
	if (!found)
		return -1;
	if (bus->state == OAK_BUS_CONNECTED)
		mosquitto_unsubscribe(bus->mosq, NULL, filter);
	if (!bus->dispatching)
		compact_subs(bus);
	return 0;
}

int oak_bus_publish(struct oak_bus *bus, const char *topic, const void *payload, size_t len,
		    bool retain)
{
	int rc;

	if (len > 256u * 1024 * 1024)
		return -1;
	rc = mosquitto_publish(bus->mosq, NULL, topic, (int)len, payload, 1, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		bus->send_failed++;
		oak_log(DEBUG, "bus %s: publish %s: %s", bus->client_id, topic,
			mosquitto_strerror(rc));
		return -1;
	}
	bus->sent++;
	return 0;
}

int oak_bus_publish_str(struct oak_bus *bus, const char *topic, const char *payload, bool retain)
{
	return oak_bus_publish(bus, topic, payload, payload ? strlen(payload) : 0, retain);
}

void oak_bus_on_state(struct oak_bus *bus, oak_bus_state_cb cb, void *arg)
{
	bus->state_cb = cb;
	bus->state_arg = arg;
}

static void after_loop(struct oak_bus *bus, int rc)
{
	if (rc == MOSQ_ERR_SUCCESS || bus->state == OAK_BUS_DISCONNECTED)
		return;
	/* errors the library did not turn into a disconnect callback */
	if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_CONN_REFUSED ||
	    rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_TLS ||
	    rc == MOSQ_ERR_KEEPALIVE) {
		oak_log(WARN, "bus %s: connection to %s:%d failed: %s", bus->client_id, bus->host,
			bus->port, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		schedule_reconnect(bus);
	}
}

static int wait_disconnected(struct oak_bus *bus, int timeout_ms)
{
	long long left = bus->next_try - now_ms();

	if (left > 0) {
		if (timeout_ms >= 0 && left > timeout_ms)
			left = timeout_ms;
		poll(NULL, 0, (int)left);
	}
	if (now_ms() >= bus->next_try)
		start_connect(bus);
	return 0;
}

int oak_bus_loop(struct oak_bus *bus, int timeout_ms)
{
	int rc;

	if (bus->state == OAK_BUS_DISCONNECTED)
		return wait_disconnected(bus, timeout_ms);
	rc = mosquitto_loop(bus->mosq, timeout_ms, 1);
	after_loop(bus, rc);
	return 0;
}

int oak_bus_fd(struct oak_bus *bus)
{
	if (bus->state == OAK_BUS_DISCONNECTED)
		return -1;
	return mosquitto_socket(bus->mosq);
}

bool oak_bus_want_write(struct oak_bus *bus)
{
	return bus->state != OAK_BUS_DISCONNECTED && mosquitto_want_write(bus->mosq);
}

int oak_bus_timeout_ms(struct oak_bus *bus)
{
	if (bus->state == OAK_BUS_DISCONNECTED) {
		long long left = bus->next_try - now_ms();

		return left <= 0 ? 0 : (left > 1000 ? 1000 : (int)left);
	}
	return 1000;
}

void oak_bus_process(struct oak_bus *bus, bool readable, bool writable)
{
	(void)readable;
	(void)writable;
	if (bus->state == OAK_BUS_DISCONNECTED) {
		if (now_ms() >= bus->next_try)
			start_connect(bus);
		return;
	}
	/* mosquitto_loop with a zero timeout does read, write, keepalive and
	 * error handling in one place */
	after_loop(bus, mosquitto_loop(bus->mosq, 0, 1));
}

enum oak_bus_state oak_bus_state(const struct oak_bus *bus)
{
	return bus->state;
}

unsigned oak_bus_connects(const struct oak_bus *bus)
{
	return bus->connects;
}

static void collect(struct oak_metrics *m, void *arg)
{
	struct oak_bus *bus = arg;
	const char *const *lv = OAK_LV(bus->metrics_name);

	(void)m;
	oak_metric_set(bus->m_connected, lv, bus->state == OAK_BUS_CONNECTED);
	oak_metric_set(bus->m_reconnects, lv, bus->connects ? bus->connects - 1 : 0);
	oak_metric_set(bus->m_received, lv, (double)bus->received);
	oak_metric_set(bus->m_sent, lv, (double)bus->sent);
	oak_metric_set(bus->m_failed, lv, (double)bus->send_failed);
}

int oak_bus_metrics(struct oak_bus *bus, struct oak_metrics *m, const char *name)
{
	free(bus->metrics_name);
	bus->metrics_name = strdup(name);
	bus->m_connected = oak_metrics_gauge(
	    m, "oak_mqtt_connected", "Whether the MQTT bus is connected to its broker", "bus");
	bus->m_reconnects = oak_metrics_counter(m, "oak_mqtt_reconnects_total",
						"Connections to the broker after the first", "bus");
	bus->m_received = oak_metrics_counter(m, "oak_mqtt_messages_received_total",
					      "MQTT messages received", "bus");
	bus->m_sent = oak_metrics_counter(m, "oak_mqtt_messages_sent_total",
					  "MQTT messages queued for sending (QoS 1)", "bus");
	bus->m_failed = oak_metrics_counter(m, "oak_mqtt_publish_failures_total",
					    "MQTT messages that could not be queued", "bus");
	if (!bus->metrics_name || !bus->m_connected || !bus->m_reconnects || !bus->m_received ||
	    !bus->m_sent || !bus->m_failed)
		return -1;
	return oak_metrics_on_collect(m, collect, bus);
}
