// SPDX-License-Identifier: MIT
/*
 * The UDP heartbeat to the cluster: oak-cluster's liveness signal for this
 * node (MQTT's keepalive is too coarse for it, see bus.h). A datagram of
 * at most 64 bytes every heartbeat_interval to cluster_heartbeat.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <oak/heartbeat.h>
#include <oak/log.h>

#include "node.h"

/* cluster_heartbeat (host:port), else broker_host:OAK_HB_PORT; resolved
 * again every 10 s until it resolves (a name may need DNS) */
static void hb_resolve(struct oak_node *n)
{
	const char *spec = oak_config_str(n->cfg, "cluster_heartbeat");
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
	char host[256], port[16];
	const char *colon;
	int rc;

	if (spec && *spec) {
		colon = strrchr(spec, ':');
		if (!colon || colon == spec || !colon[1] ||
		    (size_t)(colon - spec) >= sizeof(host)) {
			oak_log(ERROR, "cluster_heartbeat: '%s' is not host:port", spec);
			n->hb_resolve_ms = INT64_MAX; /* not again */
			return;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		snprintf(port, sizeof(port), "%.15s", colon + 1);
	} else {
		snprintf(host, sizeof(host), "%s", oak_config_str(n->cfg, "broker_host"));
		snprintf(port, sizeof(port), "%d", OAK_HB_PORT);
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		oak_log(WARN, "heartbeat: cannot resolve %s:%s: %s; trying again in 10 s", host,
			port, gai_strerror(rc));
		return;
	}
	memcpy(&n->hb_to, res->ai_addr, sizeof(n->hb_to));
	freeaddrinfo(res);
	n->hb_ok = true;
	oak_log(INFO, "heartbeat: every %lld s to %s:%s/udp",
		(long long)oak_config_int(n->cfg, "heartbeat_interval"), host, port);
}

/* every second; sends when one is due */
void heartbeat_tick(struct oak_node *n)
{
	int64_t now = oak_mono_ms(), iv = oak_config_int(n->cfg, "heartbeat_interval") * 1000;
	uint8_t buf[OAK_HB_MAX];
	int len;

	if (iv <= 0 || n->hb_fd < 0)
		return;
	if (!n->hb_ok) {
		if (n->hb_resolve_ms != INT64_MAX && now - n->hb_resolve_ms >= 10000) {
			n->hb_resolve_ms = now;
			hb_resolve(n);
		}
		if (!n->hb_ok)
			return;
	}
	/* the timer ticks every second: a little slack keeps a 1 s cadence */
	if (n->last_hb_ms && now - n->last_hb_ms < iv - 200)
		return;
	len = oak_hb_encode(buf, sizeof(buf), n->id, n->boot_id, ++n->hb_seq);
	if (len < 0)
		return;
	n->last_hb_ms = now;
	if (sendto(n->hb_fd, buf, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&n->hb_to,
		   sizeof(n->hb_to)) < 0 &&
	    now - n->hb_err_ms >= 60000) { /* e.g. no route: say so once a minute */
		n->hb_err_ms = now;
		oak_log(WARN, "heartbeat: %s", strerror(errno));
	}
}

/* the socket, the address, and the first heartbeat at once */
void heartbeat_start(struct oak_node *n)
{
	n->hb_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->hb_fd < 0)
		oak_log(WARN, "heartbeat: socket: %s", strerror(errno));
	n->hb_resolve_ms = oak_mono_ms();
	hb_resolve(n);
	heartbeat_tick(n);
}

void heartbeat_stop(struct oak_node *n)
{
	if (n->hb_fd >= 0)
		close(n->hb_fd);
	n->hb_fd = -1;
}
