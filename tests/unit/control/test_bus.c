/* The bus against a real mosquitto broker that this test starts on a free
 * loopback port, kills and restarts (only that broker, by its pid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oak/bus.h"
#include "oak/log.h"

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(oak_bus_backoff_ms(0, 100, 10000), 100);
	assert_int_equal(oak_bus_backoff_ms(1, 100, 10000), 200);
	assert_int_equal(oak_bus_backoff_ms(3, 100, 10000), 800);
	assert_int_equal(oak_bus_backoff_ms(7, 100, 10000), 10000);
	assert_int_equal(oak_bus_backoff_ms(31, 100, 10000), 10000);
	assert_int_equal(oak_bus_backoff_ms(1000, 100, 10000), 10000);
	assert_int_equal(oak_bus_backoff_ms(0, 0, 0), 1);
	assert_int_equal(oak_bus_backoff_ms(2, 500, 100), 500); /* max below min */
	for (unsigned a = 0; a < 40; a++)
		assert_true(oak_bus_backoff_ms(a + 1, 50, 5000) >= oak_bus_backoff_ms(a, 50, 5000));
}

struct broker {
	char dir[64];
	char conf[128];
	int port;
	pid_t pid;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static void broker_start(struct broker *b)
{
	long long deadline;

	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		int null = open("/dev/null", 1);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("mosquitto", "mosquitto", "-c", b->conf, (char *)NULL);
		_exit(127);
	}
	deadline = now_ms() + 5000;
	while (!port_open(b->port)) {
		int st;

		if (waitpid(b->pid, &st, WNOHANG) == b->pid)
			fail_msg("mosquitto exited at start (status %d)", st);
		if (now_ms() > deadline)
			fail_msg("mosquitto did not listen on port %d", b->port);
		usleep(20000);
	}
}

static void broker_stop(struct broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
}

static void broker_init(struct broker *b)
{
	FILE *f;

	strcpy(b->dir, "/tmp/oak-bus-test-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
	b->port = free_port();
	f = fopen(b->conf, "w");
	assert_non_null(f);
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", b->port);
	if (geteuid() == 0)
		fprintf(f, "user root\n");
	fclose(f);
}

static void broker_cleanup(struct broker *b)
{
	broker_stop(b);
	unlink(b->conf);
	rmdir(b->dir);
}

struct rx {
	int count;
	char last_topic[128];
	char last_payload[128];
};

static void on_msg(struct oak_bus *bus, const char *topic, const void *payload, size_t len,
		   void *arg)
{
	struct rx *rx = arg;

	(void)bus;
	rx->count++;
	snprintf(rx->last_topic, sizeof(rx->last_topic), "%s", topic);
	snprintf(rx->last_payload, sizeof(rx->last_payload), "%.*s", (int)len,
		 (const char *)payload);
}

static struct rx *g_rx_unused;

static bool run_until(struct oak_bus **buses, int n, bool (*cond)(void *), void *arg,
		      int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (cond(arg))
			return true;
		for (int i = 0; i < n; i++)
			oak_bus_loop(buses[i], 20);
	}
	return cond(arg);
}

static bool both_connected(void *arg)
{
	struct oak_bus **b = arg;

	return oak_bus_state(b[0]) == OAK_BUS_CONNECTED && oak_bus_state(b[1]) == OAK_BUS_CONNECTED;
}

/* A subscription is live only once its SUBACK is back: publish until the
 * payload arrives, bounded in time. */
static bool publish_until(struct oak_bus **buses, int n, struct oak_bus *pub, const char *topic,
			  const char *payload, struct rx *rx, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (strcmp(rx->last_payload, payload) == 0)
			return true;
		oak_bus_publish_str(pub, topic, payload, false);
		for (int k = 0; k < 10 && strcmp(rx->last_payload, payload) != 0; k++)
			for (int i = 0; i < n; i++)
				oak_bus_loop(buses[i], 20);
	}
	return strcmp(rx->last_payload, payload) == 0;
}

static void test_reconnect(void **state)
{
	struct broker b;
	struct oak_bus_opts o = {.host = "127.0.0.1",
				 .keepalive_s = 5,
				 .clean_session = true,
				 .backoff_min_ms = 50,
				 .backoff_max_ms = 400};
	struct oak_bus *buses[2];
	struct rx rx = {0}, rx_will = {0};
	char will_topic[64];
	unsigned connects;

	(void)state;
	(void)g_rx_unused;
	oak_log_init("test-bus", OAK_LOG_INFO);
	broker_init(&b);
	o.port = b.port;
	broker_start(&b);

	o.client_id = "oak-test-sub";
	buses[0] = oak_bus_new(&o);
	o.client_id = "oak-test-pub";
	snprintf(will_topic, sizeof(will_topic), "nodes/pub/status");
	o.will_topic = will_topic;
	o.will_payload = "{\"id\":\"pub\",\"online\":false}";
	buses[1] = oak_bus_new(&o);
	assert_non_null(buses[0]);
	assert_non_null(buses[1]);
	assert_int_equal(oak_bus_subscribe(buses[0], "nodes/+/information", on_msg, &rx), 0);
	assert_int_equal(oak_bus_subscribe(buses[0], "nodes/#", on_msg, &rx_will), 0);
	assert_int_equal(oak_bus_subscribe(buses[0], "bad/#/filter", on_msg, &rx), -1);
	assert_true(run_until(buses, 2, both_connected, buses, 5000));
	assert_true(oak_bus_fd(buses[0]) >= 0);

	/* wildcard delivery before the restart */
	assert_int_equal(oak_bus_publish_str(buses[1], "nodes/n0/information", "first", false), 0);
	assert_true(publish_until(buses, 2, buses[1], "nodes/n1/information", "before", &rx, 5000));
	assert_string_equal(rx.last_topic, "nodes/n1/information");
	assert_string_equal(rx.last_payload, "before");

	/* kill the broker: both buses notice and go on trying */
	connects = oak_bus_connects(buses[0]);
	broker_stop(&b);
	{
		long long deadline = now_ms() + 5000;

		while (now_ms() < deadline && (oak_bus_state(buses[0]) == OAK_BUS_CONNECTED ||
					       oak_bus_state(buses[1]) == OAK_BUS_CONNECTED)) {
			oak_bus_loop(buses[0], 20);
			oak_bus_loop(buses[1], 20);
		}
		assert_int_not_equal(oak_bus_state(buses[0]), OAK_BUS_CONNECTED);
		/* a few failed attempts against the dead port */
		deadline = now_ms() + 600;
		while (now_ms() < deadline) {
			oak_bus_loop(buses[0], 20);
			oak_bus_loop(buses[1], 20);
		}
		assert_int_equal(oak_bus_fd(buses[0]) >= 0,
				 oak_bus_state(buses[0]) != OAK_BUS_DISCONNECTED);
	}

	/* restart on the same port: reconnect and resubscribe without help */
	broker_start(&b);
	assert_true(run_until(buses, 2, both_connected, buses, 10000));
	assert_true(oak_bus_connects(buses[0]) > connects);
	rx.count = 0;
	rx_will.count = 0;
	assert_true(
	    publish_until(buses, 2, buses[1], "nodes/n2/information", "after-restart", &rx, 5000));
	assert_string_equal(rx.last_topic, "nodes/n2/information");
	assert_string_equal(rx.last_payload, "after-restart");

	/* unsubscribe stops delivery to that callback only */
	assert_int_equal(oak_bus_unsubscribe(buses[0], "nodes/+/information"), 0);
	assert_int_equal(oak_bus_unsubscribe(buses[0], "nodes/+/information"), -1);
	rx.count = 0;
	rx_will.count = 0;
	assert_true(publish_until(buses, 2, buses[1], "nodes/n3/information", "x", &rx_will, 5000));
	assert_int_equal(rx.count, 0);

	/* the broker sends the publisher's last will when it loses that
	 * client without a DISCONNECT: a second client with the same id takes
	 * the session over and the broker drops the first one */
	{
		struct oak_bus_opts o2 = o;
		struct oak_bus *dup;

		o2.will_topic = NULL;
		dup = oak_bus_new(&o2); /* same client id "oak-test-pub" */
		assert_non_null(dup);
		rx_will.count = 0;
		rx_will.last_payload[0] = '\0';
		{
			struct oak_bus *three[3] = {buses[0], dup, buses[1]};
			long long deadline = now_ms() + 5000;

			while (now_ms() < deadline &&
			       strstr(rx_will.last_payload, "\"online\":false") == NULL)
				for (int i = 0; i < 3; i++)
					oak_bus_loop(three[i], 20);
		}
		assert_non_null(strstr(rx_will.last_payload, "\"online\":false"));
		assert_string_equal(rx_will.last_topic, "nodes/pub/status");
		oak_bus_free(dup);
	}

	oak_bus_free(buses[0]);
	oak_bus_free(buses[1]);
	broker_cleanup(&b);
}

static void test_unreachable(void **state)
{
	struct oak_bus_opts o = {.host = "127.0.0.1",
				 .client_id = "oak-test-none",
				 .backoff_min_ms = 10,
				 .backoff_max_ms = 40};
	struct oak_bus *bus;
	long long deadline;

	(void)state;
	o.port = free_port(); /* nothing listens there */
	bus = oak_bus_new(&o);
	assert_non_null(bus);
	deadline = now_ms() + 300;
	while (now_ms() < deadline)
		assert_int_equal(oak_bus_loop(bus, 20), 0);
	assert_int_not_equal(oak_bus_state(bus), OAK_BUS_CONNECTED);
	assert_int_equal(oak_bus_connects(bus), 0);
	assert_true(oak_bus_timeout_ms(bus) <= 1000);
	oak_bus_free(bus);
	assert_null(oak_bus_new(&(struct oak_bus_opts){.client_id = NULL}));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_unreachable),
	    cmocka_unit_test(test_reconnect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
