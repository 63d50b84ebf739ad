// SPDX-License-Identifier: MIT
/*
 * The node's datapath on its uplink: open (or adopt) the pinned programs
 * and maps of this node, configure the node's address and the Service IP
 * range, attach decapsulation to the uplink (tc or XDP, uplink_mode), and
 * watch the datapath's miss ring buffer on the event loop.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <oak/log.h>

#include "node.h"

static int if_mtu(const char *ifname)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	mtu = ioctl(fd, SIOCGIFMTU, &ifr) ? -1 : ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static int uplink_mode(const char *s, enum oak_uplink_mode *mode)
{
	if (!strcmp(s, "tc"))
		*mode = OAK_UPLINK_TC;
	else if (!strcmp(s, "xdp"))
		*mode = OAK_UPLINK_XDP;
	else if (!strcmp(s, "auto"))
		*mode = OAK_UPLINK_AUTO;
	else
		return -1;
	return 0;
}

/* misses: the kernel saw an address it has no entry for */
static void on_dp_events(struct oak_loop *l, int fd, unsigned events, void *arg)
{
	struct oak_node *n = arg;

	oak_dp_events_poll(n->dp, 0);
}

int setup_datapath(struct oak_node *n)
{
	const char *up = oak_config_str(n->cfg, "uplink"),
		   *ms = oak_config_str(n->cfg, "uplink_mode");
	enum oak_uplink_mode mode, chosen;
	struct oak_cfg c = {0};
	int ifindex = (int)if_nametoindex(up), err, mtu;

	if (uplink_mode(ms, &mode)) {
		oak_log(ERROR, "uplink_mode: must be auto, tc or xdp, not '%s'", ms);
		return -1;
	}
	if (!ifindex) {
		oak_log(ERROR, "uplink: no interface '%s'", up);
		return -1;
	}
	mtu = if_mtu(up);
	err = oak_dp_open(n->id, &n->dp);
	if (err) {
		oak_log(ERROR, "datapath: open %s/%s: %s", OAK_BPF_ROOT, n->id, strerror(-err));
		return -1;
	}
	c.node_ip = n->node_ip_n;
	c.svc_net = htonl(0x0a1e0000);
	c.svc_mask = htonl(0xffff0000);
	c.uplink_ifindex = (uint32_t)ifindex;
	c.uplink_mtu = mtu > 0 ? (uint32_t)mtu : 1500;
	err = oak_dp_configure(n->dp, &c);
	if (!err)
		err = oak_dp_attach_uplink(n->dp, ifindex, mode, &chosen);
	if (err) {
		oak_log(ERROR, "datapath: uplink %s: %s", up, strerror(-err));
		return -1;
	}
	n->dp_fd = oak_dp_events_fd(n->dp, on_miss, n);
	if (n->dp_fd >= 0 && oak_loop_add_fd(n->loop, n->dp_fd, OAK_EV_READ, on_dp_events, n))
		oak_log(WARN, "datapath: cannot watch the miss ring buffer");
	oak_log(INFO, "datapath: %s maps %s, uplink %s decap at %s", n->id,
		oak_dp_adopted(n->dp) ? "adopted" : "created", up,
		chosen == OAK_UPLINK_XDP ? "xdp" : "tc");
	return 0;
}
