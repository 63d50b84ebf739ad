// SPDX-License-Identifier: MIT
/*
 * An instance's network through rtnetlink in this process (libmnl), in
 * place of iproute2's `ip` run ten times per instance: the named network
 * namespace (as `ip netns add` makes it: a bind mount of the namespace on
 * /run/netns/<name>, /run/netns a shared mount), the veth pair with its
 * peer created inside the namespace, addresses, routes, MTU, links up, and
 * tx checksum offload off by ethtool ioctl. The namespace's side is set up
 * by this thread entering the namespace (setns) and coming back: oak-node
 * is single-threaded, and a thread's network namespace is its own.
 */
#include "sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#define NETNS_RUN_DIR "/run/netns"

struct nl {
	struct mnl_socket *s;
	uint32_t seq, portid;
	char buf[8192];
};

static int nl_open(struct nl *nl)
{
	nl->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->s)
		return -errno;
	if (mnl_socket_bind(nl->s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(nl->s);
		nl->s = NULL;
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->s);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->s)
		mnl_socket_close(nl->s);
	nl->s = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* send, wait for the ACK; 0 or -errno of the kernel's answer */
static int nl_talk(struct nl *nl, struct nlmsghdr *h)
{
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(nl->s, h, h->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl->s, nl->buf, sizeof(nl->buf));
	if (n < 0)
		return -errno;
	rc = mnl_cb_run(nl->buf, (size_t)n, h->nlmsg_seq, nl->portid, NULL, NULL);
	return rc < 0 ? -errno : 0;
}

static int link_set_up(struct nl *nl, int ifindex, unsigned mtu)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return nl_talk(nl, h);
}

static int addr_add32(struct nl *nl, int ifindex, uint32_t a)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(h, IFA_LOCAL, a);
	mnl_attr_put_u32(h, IFA_ADDRESS, a);
	return nl_talk(nl, h);
}

/* dst/len via gw (0: on the link) out of ifindex, in the main table */
static int route_add(struct nl *nl, uint32_t dst, unsigned len, uint32_t gw, int ifindex,
		     uint16_t flags)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | flags);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = (unsigned char)len;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (len)
		mnl_attr_put_u32(h, RTA_DST, dst);
	if (gw)
		mnl_attr_put_u32(h, RTA_GATEWAY, gw);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	return nl_talk(nl, h);
}

/* host side `ve` (MAC hm) and its peer eth0 (MAC im, MTU mtu) created in
 * the namespace nsfd */
static int veth_add(struct nl *nl, const char *ve, const uint8_t hm[6], const uint8_t im[6],
		    unsigned mtu, int nsfd)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi)), *peer;
	struct nlattr *info, *data, *pa;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, ve);
	mnl_attr_put(h, IFLA_ADDRESS, 6, hm);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	pa = mnl_attr_nest_start(h, VETH_INFO_PEER);
	peer = mnl_nlmsg_put_extra_header(h, sizeof(*peer));
	peer->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, "eth0");
	mnl_attr_put(h, IFLA_ADDRESS, 6, im);
	mnl_attr_put_u32(h, IFLA_MTU, mtu);
	mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)nsfd);
	mnl_attr_nest_end(h, pa);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	return nl_talk(nl, h);
}

static int link_del(struct nl *nl, int ifindex)
{
	struct nlmsghdr *h = nl_msg(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(nl, h);
}

/* ------------------------------------------------------------ namespaces */

/* /run/netns a shared mount, as iproute2 makes it, so that a namespace
 * mounted there is seen from every mount namespace */
static int netns_dir(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (!mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return 0;
	if (errno != EINVAL)
		return -errno;
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) ||
	    mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		return -errno;
	return 0;
}

/* A new network namespace bound to /run/netns/<name>; this thread stays
 * in its own. Returns an fd of the new namespace, or -errno. */
static int netns_add(const char *name)
{
	char path[128];
	int fd, self, e = 0, nsfd;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	e = netns_dir();
	if (e)
		return e;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		e = -errno;
		unlink(path);
		return e;
	}
	if (unshare(CLONE_NEWNET)) {
		e = -errno;
		goto out;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL))
		e = -errno;
	if (setns(self, CLONE_NEWNET) && !e)
		e = -errno;
out:
	close(self);
	if (e) {
		umount2(path, MNT_DETACH);
		unlink(path);
		return e;
	}
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	return nsfd < 0 ? -errno : nsfd;
}

static void netns_del(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

/* ------------------------------------------------------------ inside */

static int tx_csum_off(const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(s, SIOCETHTOOL, &ifr) ? -errno : 0;
	close(s);
	return rc;
}

/* lo and eth0 up, ns_ip/32 on eth0, gw on the link, default via gw; run
 * inside the namespace */
static int inside(const char *ns_ip_s, uint32_t ns_ip, uint32_t gw, bool tx_offload, char *err,
		  size_t errlen)
{
	struct nl nl = {0};
	int rc, eth0 = (int)if_nametoindex("eth0"), lo = (int)if_nametoindex("lo");
	const char *step = "netlink";

	if (!eth0 || !lo) {
		snprintf(err, errlen, "inside: %s missing", eth0 ? "lo" : "eth0");
		return -1;
	}
	rc = nl_open(&nl);
	if (!rc && (step = "lo up", rc = link_set_up(&nl, lo, 0)) == 0 &&
	    (step = "eth0 up", rc = link_set_up(&nl, eth0, 0)) == 0 &&
	    (step = "eth0 address", rc = addr_add32(&nl, eth0, ns_ip)) == 0 &&
	    (step = "route to the gateway", rc = route_add(&nl, gw, 32, 0, eth0, NLM_F_EXCL)) ==
		0 &&
	    (step = "default route", rc = route_add(&nl, 0, 0, gw, eth0, NLM_F_EXCL)) == 0 &&
	    !tx_offload)
		step = "eth0 tx checksum offload off", rc = tx_csum_off("eth0");
	nl_close(&nl);
	if (rc)
		snprintf(err, errlen, "%s %s: %s", step, ns_ip_s, strerror(-rc));
	return rc ? -1 : 0;
}

/* ------------------------------------------------------------ the API */

int oak_net_create(const struct oak_instance *in, const char *gw_s, unsigned mtu, bool tx_offload,
		   char *err, size_t errlen)
{
	struct nl nl = {0};
	uint8_t hm[6], im[6];
	struct in_addr gw, ip;
	int nsfd = -1, self = -1, ve, rc;
	const char *step;

	if (inet_pton(AF_INET, gw_s, &gw) != 1 || inet_pton(AF_INET, in->ns_ip, &ip) != 1) {
		snprintf(err, errlen, "gateway %s or address %s: not IPv4", gw_s, in->ns_ip);
		return -1;
	}
	oak_net_macs(in, hm, im);
	oak_net_destroy(in); /* leftovers of a crash between create and record */
	step = "netns";
	nsfd = rc = netns_add(in->netns);
	if (nsfd < 0)
		goto fail;
	step = "netlink";
	rc = nl_open(&nl);
	if (!rc)
		step = "veth pair", rc = veth_add(&nl, in->veth, hm, im, mtu, nsfd);
	ve = rc ? 0 : (int)if_nametoindex(in->veth);
	if (!rc && !ve)
		rc = -ENODEV;
	if (!rc && (step = "host address", rc = addr_add32(&nl, ve, gw.s_addr)) == 0 &&
	    (step = "host link up", rc = link_set_up(&nl, ve, 0)) == 0)
		step = "route to the instance",
		rc = route_add(&nl, ip.s_addr, 32, 0, ve, NLM_F_REPLACE);
	nl_close(&nl);
	if (rc)
		goto fail;
	/* the namespace's side, from inside it */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(nsfd, CLONE_NEWNET)) {
		rc = -errno;
		step = "enter the namespace";
		goto fail;
	}
	rc = inside(in->ns_ip, ip.s_addr, gw.s_addr, tx_offload, err, errlen);
	if (setns(self, CLONE_NEWNET)) {
		/* cannot happen with a valid fd of our own namespace; and if it
		 * did, nothing of this thread could work any more */
		snprintf(err, errlen, "back to the node's namespace: %s", strerror(errno));
		rc = -1;
	}
	close(self);
	close(nsfd);
	if (rc) {
		oak_net_destroy(in);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s %s: %s", step, in->netns, strerror(-rc));
	if (self >= 0)
		close(self);
	if (nsfd >= 0)
		close(nsfd);
	oak_net_destroy(in);
	return -1;
}

bool oak_net_exists(const struct oak_instance *in)
{
	char path[128];

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", in->netns);
	return access(path, F_OK) == 0 && if_nametoindex(in->veth) != 0;
}

void oak_net_destroy(const struct oak_instance *in)
{
	int ifindex = in->veth[0] ? (int)if_nametoindex(in->veth) : 0;

	if (ifindex) {
		struct nl nl = {0};

		if (!nl_open(&nl))
			link_del(&nl, ifindex); /* its peer goes with it */
		nl_close(&nl);
	}
	if (in->netns[0])
		netns_del(in->netns);
}
