// SPDX-License-Identifier: MIT
/*
 * The node datapath library (see include/oak/dp.h).
 *
 * The tc object is loaded with pin_root_path set to the node's directory, so
 * libbpf creates every map pinned there on first use and reuses the pins on
 * every later open: that is how a restarted agent adopts a running datapath.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <dirent.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <oak/dp.h>

#include "oak_tc.skel.h"
#include "oak_xdp.skel.h"

#define BPF_FS_MAGIC_NUM 0xcafe4a11
#define TC_HANDLE	 1
#define TC_PRIO		 1

struct oak_dp {
	char dir[256];
	struct oak_tc *tc;
	struct oak_xdp *xdp;
	struct xdp_program *xdp_prog;
	struct ring_buffer *events;
	oak_dp_miss_cb miss_cb;
	void *miss_ctx;
	bool adopted;
};

static const char *const stat_names[OAK_STAT_MAX] = {OAK_STAT_NAMES};

const char *oak_dp_stat_name(unsigned int stat)
{
	return stat < OAK_STAT_MAX ? stat_names[stat] : "?";
}

static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC_NUM)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[256];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

static int node_dir(const char *node_id, char *buf, size_t len)
{
	if (!node_id || !*node_id || strchr(node_id, '/') || strcmp(node_id, "..") == 0 ||
	    strcmp(node_id, ".") == 0)
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", OAK_BPF_ROOT, node_id) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* BPF_F_ADJ_ROOM_DECAP_L3_IPV4 exists since Linux 6.3. */
bool oak_dp_kernel_has_decap_flags(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 3);
}

int oak_dp_open(const char *node_id, struct oak_dp **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct oak_dp *dp;
	char probe[300];
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	err = node_dir(node_id, dp->dir, sizeof(dp->dir));
	if (err)
		goto fail;
	err = ensure_bpffs();
	if (err)
		goto fail;
	err = mkdir_p(dp->dir);
	if (err)
		goto fail;
	snprintf(probe, sizeof(probe), "%s/%s", dp->dir, OAK_MAP_CFG);
	dp->adopted = access(probe, F_OK) == 0;

	opts.pin_root_path = dp->dir;
	dp->tc = oak_tc__open_opts(&opts);
	if (!dp->tc) {
		err = -errno;
		goto fail;
	}
	if (!oak_dp_kernel_has_decap_flags())
		dp->tc->rodata->oak_decap_flags = 0;
	err = oak_tc__load(dp->tc);
	if (err)
		goto fail;
	*out = dp;
	return 0;
fail:
	oak_dp_close(dp);
	return err;
}

void oak_dp_close(struct oak_dp *dp)
{
	if (!dp)
		return;
	ring_buffer__free(dp->events);
	if (dp->xdp_prog)
		xdp_program__close(dp->xdp_prog);
	else
		oak_xdp__destroy(dp->xdp);
	oak_tc__destroy(dp->tc);
	free(dp);
}

bool oak_dp_adopted(const struct oak_dp *dp)
{
	return dp->adopted;
}

int oak_dp_map_fd(struct oak_dp *dp, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(dp->tc->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int count_ports(struct oak_dp *dp);

int oak_dp_configure(struct oak_dp *dp, const struct oak_cfg *cfg)
{
	struct oak_cfg c = *cfg;
	__u32 zero = 0;
	int n = count_ports(dp);

	if (n < 0)
		return n;
	c.ports = n; /* the library's, whatever the caller had there */
	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.oak_cfg_v1), &zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

int oak_dp_get_config(struct oak_dp *dp, struct oak_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->tc->maps.oak_cfg_v1), &zero, cfg))
		return -errno;
	return 0;
}

static int tc_attach(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

static int tc_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	return err == -ENOENT ? 0 : err;
}

/* The driver name of an interface, as `ethtool -i` prints it. */
static int if_driver(int ifindex, char *buf, size_t len)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {0};
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	if (!err)
		snprintf(buf, len, "%s", info.driver);
	return err;
}

static int xdp_attach(struct oak_dp *dp, int ifindex)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp->dir);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts);
	int err;

	if (!dp->xdp) {
		dp->xdp = oak_xdp__open_opts(&opts);
		if (!dp->xdp)
			return -errno;
		if (!oak_dp_kernel_has_decap_flags())
			dp->xdp->rodata->oak_decap_flags = 0;
		xopts.obj = dp->xdp->obj;
		xopts.prog_name = "oak_xdp_decap";
		dp->xdp_prog = xdp_program__create(&xopts);
		err = libxdp_get_error(dp->xdp_prog);
		if (err) {
			dp->xdp_prog = NULL;
			return err;
		}
		/* libxdp owns the object from here (xdp_program__close frees it) */
	}
	return xdp_program__attach(dp->xdp_prog, ifindex, XDP_MODE_NATIVE, 0);
}

static void xdp_detach(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;

	if (libxdp_get_error(mp) || !mp)
		return;
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (strcmp(xdp_program__name(p), "oak_xdp_decap") == 0)
			xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	p = xdp_multiprog__main_prog(mp);
	if (p && !xdp_multiprog__is_legacy(mp)) {
		/* dispatcher: handled above */
	} else if (p && strcmp(xdp_program__name(p), "oak_xdp_decap") == 0) {
		xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	}
	xdp_multiprog__close(mp);
}

/*
 * bpf_fib_lookup() refuses (BPF_FIB_LKUP_RET_FWD_DISABLED) on an interface
 * that does not forward, so a node's uplink must.
 */
static int enable_forwarding(int ifindex)
{
	char name[IF_NAMESIZE], path[96];
	int fd, err = 0;

	if (!if_indextoname(ifindex, name))
		return -errno;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int oak_dp_attach_uplink(struct oak_dp *dp, int ifindex, enum oak_uplink_mode mode,
			 enum oak_uplink_mode *chosen)
{
	char drv[32] = "";
	int err;

	err = enable_forwarding(ifindex);
	if (err)
		return err;

	if (mode == OAK_UPLINK_AUTO) {
		/* native XDP on a veth turns off GSO on its peer: tc is faster there */
		err = if_driver(ifindex, drv, sizeof(drv));
		mode = (!err && strcmp(drv, "veth") != 0) ? OAK_UPLINK_XDP : OAK_UPLINK_TC;
	}
	/* tc ingress always runs: it decapsulates, or delivers what XDP decapsulated */
	err = tc_attach(ifindex, bpf_program__fd(dp->tc->progs.oak_from_uplink));
	if (err)
		return err;
	if (mode == OAK_UPLINK_XDP) {
		err = xdp_attach(dp, ifindex);
		if (err)
			return err;
	} else {
		xdp_detach(ifindex);
	}
	if (chosen)
		*chosen = mode;
	return 0;
}

int oak_dp_detach_uplink(struct oak_dp *dp, int ifindex)
{
	(void)dp;
	xdp_detach(ifindex);
	return tc_detach(ifindex);
}

int oak_dp_attach_instance(struct oak_dp *dp, int ifindex, uint32_t inst_ip, uint32_t ns_ip)
{
	struct oak_local l = {.inst_ip = inst_ip, .ns_ip = ns_ip};
	__u32 key = ifindex;
	int err;

	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.oak_local_v1), &key, &l, BPF_ANY))
		return -errno;
	err = tc_attach(ifindex, bpf_program__fd(dp->tc->progs.oak_from_inst));
	if (err)
		bpf_map_delete_elem(bpf_map__fd(dp->tc->maps.oak_local_v1), &key);
	return err;
}

int oak_dp_detach_instance(struct oak_dp *dp, int ifindex)
{
	__u32 key = ifindex;

	bpf_map_delete_elem(bpf_map__fd(dp->tc->maps.oak_local_v1), &key);
	/* the veth may already be gone with its namespace */
	if (!if_indextoname(ifindex, (char[IF_NAMESIZE]){0}))
		return 0;
	return tc_detach(ifindex);
}

int oak_dp_instance_set(struct oak_dp *dp, uint32_t inst_ip, const struct oak_inst *inst)
{
	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.oak_inst_v1), &inst_ip, inst, BPF_ANY))
		return -errno;
	return 0;
}

int oak_dp_instance_get(struct oak_dp *dp, uint32_t inst_ip, struct oak_inst *inst)
{
	if (bpf_map_lookup_elem(bpf_map__fd(dp->tc->maps.oak_inst_v1), &inst_ip, inst))
		return -errno;
	return 0;
}

int oak_dp_instance_del(struct oak_dp *dp, uint32_t inst_ip)
{
	if (bpf_map_delete_elem(bpf_map__fd(dp->tc->maps.oak_inst_v1), &inst_ip) && errno != ENOENT)
		return -errno;
	return 0;
}

static uint32_t latency_rank(const struct oak_svc_backend *b)
{
	return b->latency_us ? b->latency_us : UINT32_MAX;
}

static int cmp_backend(const void *a, const void *b)
{
	uint32_t la = latency_rank(a), lb = latency_rank(b);
	const struct oak_svc_backend *x = a, *y = b;

	if (la != lb)
		return la < lb ? -1 : 1;
	/* same latency: a fixed order, so rewriting a table moves nothing */
	return x->inst_ip < y->inst_ip ? -1 : x->inst_ip > y->inst_ip;
}

int oak_dp_service_get(struct oak_dp *dp, uint32_t svc_ip, struct oak_svc_meta *meta,
		       struct oak_svc_backend *backends, unsigned int max)
{
	int bfd = bpf_map__fd(dp->tc->maps.oak_backend_v1);
	struct oak_backend_key key = {.addr = svc_ip};
	unsigned int i;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->tc->maps.oak_svc_v2), &svc_ip, meta))
		return -errno;
	for (i = 0; i < meta->count && i < max; i++) {
		key.slot = i + 1;
		if (bpf_map_lookup_elem(bfd, &key, &backends[i]))
			return -errno;
	}
	return 0;
}

int oak_dp_service_set(struct oak_dp *dp, uint32_t svc_ip, enum oak_policy policy, uint32_t svc_id,
		       const struct oak_svc_backend *backends, unsigned int n)
{
	int sfd = bpf_map__fd(dp->tc->maps.oak_svc_v2),
	    bfd = bpf_map__fd(dp->tc->maps.oak_backend_v1);
	struct oak_svc_backend sorted[OAK_MAX_BACKENDS];
	struct oak_backend_key key = {.addr = svc_ip};
	struct oak_svc_meta meta = {0}, old;
	unsigned int i, old_count = 0, closest = 0;

	if (n > OAK_MAX_BACKENDS)
		return -E2BIG;
	if (policy != OAK_POLICY_ROUND_ROBIN && policy != OAK_POLICY_CLOSEST)
		return -EINVAL;
	memcpy(sorted, backends, n * sizeof(*backends));
	qsort(sorted, n, sizeof(*sorted), cmp_backend);
	while (closest < n && latency_rank(&sorted[closest]) == latency_rank(&sorted[0]))
		closest++;

	if (bpf_map_lookup_elem(sfd, &svc_ip, &old) == 0) {
		old_count = old.count;
		meta.rr_next = old.rr_next;
	}
	/* backends first, then the count that makes them visible, then the stale */
	for (i = 0; i < n; i++) {
		key.slot = i + 1;
		if (bpf_map_update_elem(bfd, &key, &sorted[i], BPF_ANY))
			return -errno;
	}
	meta.count = n;
	meta.closest_count = closest;
	meta.policy = policy;
	meta.svc_id = svc_id;
	if (bpf_map_update_elem(sfd, &svc_ip, &meta, BPF_ANY))
		return -errno;
	for (i = n; i < old_count; i++) {
		key.slot = i + 1;
		bpf_map_delete_elem(bfd, &key);
	}
	return 0;
}

int oak_dp_service_del(struct oak_dp *dp, uint32_t svc_ip)
{
	int sfd = bpf_map__fd(dp->tc->maps.oak_svc_v2),
	    bfd = bpf_map__fd(dp->tc->maps.oak_backend_v1);
	struct oak_backend_key key = {.addr = svc_ip};
	struct oak_svc_meta meta;
	unsigned int i;

	if (bpf_map_lookup_elem(sfd, &svc_ip, &meta))
		return errno == ENOENT ? 0 : -errno;
	bpf_map_delete_elem(sfd, &svc_ip);
	for (i = 0; i < meta.count; i++) {
		key.slot = i + 1;
		bpf_map_delete_elem(bfd, &key);
	}
	return 0;
}

int oak_dp_set_latency(struct oak_dp *dp, uint32_t svc_ip, uint32_t inst_ip, uint32_t latency_us)
{
	struct oak_svc_backend b[OAK_MAX_BACKENDS];
	struct oak_svc_meta meta;
	unsigned int i;
	bool found = false;
	int err;

	err = oak_dp_service_get(dp, svc_ip, &meta, b, OAK_MAX_BACKENDS);
	if (err)
		return err;
	for (i = 0; i < meta.count && i < OAK_MAX_BACKENDS; i++) {
		if (b[i].inst_ip == inst_ip) {
			b[i].latency_us = latency_us;
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	return oak_dp_service_set(dp, svc_ip, meta.policy, meta.svc_id, b, meta.count);
}

/* ---- exposed ports ---- */

static int count_ports(struct oak_dp *dp)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_port_v1), n = 0, err;
	struct oak_port_key key, next;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		n++;
	}
	return err == -ENOENT ? n : err;
}

/* cfg.ports tells the programs whether to look at oak_port_v1 at all. */
static int sync_port_count(struct oak_dp *dp)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_cfg_v1), n = count_ports(dp);
	struct oak_cfg cfg;
	__u32 zero = 0;

	if (n < 0)
		return n;
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	if (cfg.ports == (__u32)n)
		return 0;
	cfg.ports = n;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int port_key(uint8_t proto, uint16_t host_port, struct oak_port_key *key)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (host_port == 0)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->port = htons(host_port);
	key->proto = proto;
	return 0;
}

int oak_dp_port_add(struct oak_dp *dp, uint8_t proto, uint16_t host_port, uint32_t inst_ip,
		    uint16_t container_port)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_port_v1);
	struct oak_port_val val = {0}, old;
	struct oak_port_key key;
	int err = port_key(proto, host_port, &key);

	if (err)
		return err;
	if (container_port == 0 || inst_ip == 0)
		return -EINVAL;
	/* the tunnel's datagrams never reach the port table */
	if (proto == IPPROTO_UDP && host_port == OAK_TUNNEL_PORT)
		return -EADDRINUSE;
	val.inst_ip = inst_ip;
	val.port = htons(container_port);
	if (bpf_map_update_elem(fd, &key, &val, BPF_NOEXIST)) {
		if (errno != EEXIST)
			return -errno;
		if (bpf_map_lookup_elem(fd, &key, &old))
			return -errno;
		if (old.inst_ip != val.inst_ip || old.port != val.port)
			return -EADDRINUSE;
	}
	return sync_port_count(dp);
}

/* Forget the reply entries of flows through one exposed port. */
static void purge_port_flows(struct oak_dp *dp, const struct oak_port_key *pk)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_ct_v1);
	struct oak_ct_key key, next, *gone = NULL;
	size_t n = 0, cap = 0;
	struct oak_ct_val v;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (key.dir != OAK_CT_PORT || key.proto != pk->proto ||
		    bpf_map_lookup_elem(fd, &key, &v) || v.port != pk->port)
			continue;
		if (n == cap) {
			struct oak_ct_key *g = realloc(gone, (cap ? cap * 2 : 64) * sizeof(*g));

			if (!g)
				break;
			gone = g;
			cap = cap ? cap * 2 : 64;
		}
		gone[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	free(gone);
}

int oak_dp_port_del(struct oak_dp *dp, uint8_t proto, uint16_t host_port, uint32_t inst_ip)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_port_v1);
	struct oak_port_key key;
	struct oak_port_val old;
	int err = port_key(proto, host_port, &key);

	if (err)
		return err;
	if (bpf_map_lookup_elem(fd, &key, &old))
		return errno == ENOENT ? 0 : -errno;
	if (inst_ip && old.inst_ip != inst_ip)
		return -EADDRINUSE;
	if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
		return -errno;
	purge_port_flows(dp, &key);
	return sync_port_count(dp);
}

static int cmp_port(const void *a, const void *b)
{
	const struct oak_dp_port *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (x->host_port > y->host_port) - (x->host_port < y->host_port);
}

int oak_dp_port_list(struct oak_dp *dp, struct oak_dp_port *out, unsigned int max)
{
	int fd = bpf_map__fd(dp->tc->maps.oak_port_v1), err;
	struct oak_port_key key, next;
	struct oak_port_val val;
	unsigned int n = 0;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue; /* deleted meanwhile */
		if (n < max) {
			out[n].proto = key.proto;
			out[n].host_port = ntohs(key.port);
			out[n].inst_ip = val.inst_ip;
			out[n].container_port = ntohs(val.port);
		}
		n++;
	}
	if (err != -ENOENT)
		return err;
	qsort(out, n < max ? n : max, sizeof(*out), cmp_port);
	return (int)n;
}

int oak_dp_stats(struct oak_dp *dp, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(dp->tc->maps.oak_stats_v2);
	uint64_t *vals;
	__u32 i;
	int c;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < OAK_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct oak_dp *dp = ctx;
	const struct oak_event_miss *e = data;

	if (len >= sizeof(*e) && dp->miss_cb)
		dp->miss_cb(dp->miss_ctx, e->addr, e->src_inst);
	return 0;
}

int oak_dp_events_fd(struct oak_dp *dp, oak_dp_miss_cb cb, void *ctx)
{
	if (!dp->events) {
		dp->events =
		    ring_buffer__new(bpf_map__fd(dp->tc->maps.oak_events_v1), on_event, dp, NULL);
		if (!dp->events)
			return -errno;
	}
	dp->miss_cb = cb;
	dp->miss_ctx = ctx;
	return ring_buffer__epoll_fd(dp->events);
}

int oak_dp_events_poll(struct oak_dp *dp, int timeout_ms)
{
	if (!dp->events)
		return -EINVAL;
	return ring_buffer__poll(dp->events, timeout_ms);
}

int oak_dp_purge(const char *node_id)
{
	char dir[256], path[600];
	struct oak_dp *dp;
	struct dirent *de;
	DIR *d;
	int err;

	err = node_dir(node_id, dir, sizeof(dir));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", dir, OAK_MAP_CFG);
	if (access(path, F_OK))
		return 0;
	if (oak_dp_open(node_id, &dp) == 0) {
		struct oak_cfg cfg;
		__u32 key, next;
		int lfd = bpf_map__fd(dp->tc->maps.oak_local_v1);

		if (oak_dp_get_config(dp, &cfg) == 0 && cfg.uplink_ifindex)
			oak_dp_detach_uplink(dp, cfg.uplink_ifindex);
		for (err = bpf_map_get_next_key(lfd, NULL, &next); !err;
		     err = bpf_map_get_next_key(lfd, &key, &next)) {
			key = next;
			if (if_indextoname(key, (char[IF_NAMESIZE]){0}))
				tc_detach(key);
		}
		oak_dp_close(dp);
	}
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir))
		return -errno;
	rmdir(OAK_BPF_ROOT); /* only when no other node is left */
	return 0;
}
