// SPDX-License-Identifier: MIT
/*
 * oak-dp: program a node's datapath by hand. The node agent does the same
 * through the library; this tool is for operators, tests and benchmarks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <bpf/libbpf.h>

#include <oak/dp.h>

static const char usage[] =
    "usage: oak-dp -n NODE COMMAND [ARGS]\n"
    "\n"
    "Maps are pinned under " OAK_BPF_ROOT "/NODE; run inside the node's network\n"
    "namespace (nsenter --net=..., not 'ip netns exec', which hides bpffs).\n"
    "\n"
    "commands:\n"
    "  init NODE_IP UPLINK [auto|tc|xdp] [MTU]   configure, attach the uplink\n"
    "  local INST_IP VETH NS_IP INST_MAC         a local instance behind host veth VETH\n"
    "  remote INST_IP NODE_IP                    an instance on another node\n"
    "  unlocal VETH                              detach a local instance's veth\n"
    "  del INST_IP                               forget an Instance IP\n"
    "  svc SVC_IP rr|closest INST_IP[@LAT_US]... set a Service IP's backends\n"
    "  svc-del SVC_IP                            remove a Service IP\n"
    "  svc-bulk COUNT FIRST_SVC_IP INST_IP       COUNT round-robin services (benchmarks)\n"
    "  latency SVC_IP INST_IP US                 latency from this node to a backend\n"
    "  port add tcp|udp HOST_PORT INST_IP CONTAINER_PORT\n"
    "                                            expose an instance's port on NODE_IP\n"
    "  port del tcp|udp HOST_PORT [INST_IP]      stop exposing it (only INST_IP's)\n"
    "  port list                                 the exposed ports\n"
    "  show SVC_IP                               a Service IP's table\n"
    "  stats                                     per-verdict counters\n"
    "  watch                                     print unknown-address events until killed\n"
    "  batch [--hold] [FILE]                     run commands from FILE (or stdin), one a line;\n"
    "                                            --hold: stay alive after EOF until killed\n"
    "  purge                                     detach the uplink and unpin everything\n";

static int fail(const char *what, int err)
{
	fprintf(stderr, "oak-dp: %s: %s\n", what, strerror(-err));
	return 1;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "oak-dp: not an IPv4 address: '%s'\n", s);
		return -1;
	}
	*out = a.s_addr;
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		   &mac[5]) != 6) {
		fprintf(stderr, "oak-dp: not a MAC address: '%s'\n", s);
		return -1;
	}
	return 0;
}

static int if_mac(const char *ifname, uint8_t *mac)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int if_mtu(const char *ifname)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	mtu = ioctl(fd, SIOCGIFMTU, &ifr) ? -errno : ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static int cmd_init(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_cfg cfg = {0};
	enum oak_uplink_mode mode = OAK_UPLINK_AUTO, chosen;
	int ifindex, mtu, err;

	if (argc < 2)
		return fprintf(stderr, "%s", usage), 2;
	if (parse_ip(argv[0], &cfg.node_ip))
		return 2;
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		return fail(argv[1], -errno);
	if (argc > 2) {
		if (!strcmp(argv[2], "tc"))
			mode = OAK_UPLINK_TC;
		else if (!strcmp(argv[2], "xdp"))
			mode = OAK_UPLINK_XDP;
		else if (strcmp(argv[2], "auto"))
			return fprintf(stderr, "oak-dp: mode must be auto, tc or xdp\n"), 2;
	}
	mtu = argc > 3 ? atoi(argv[3]) : if_mtu(argv[1]);
	if (mtu < 576)
		return fail("uplink MTU", mtu < 0 ? mtu : -EINVAL);
	cfg.svc_net = htonl(0x0a1e0000);  /* 10.30.0.0 */
	cfg.svc_mask = htonl(0xffff0000); /* /16 */
	cfg.uplink_ifindex = ifindex;
	cfg.uplink_mtu = mtu;
	err = oak_dp_configure(dp, &cfg);
	if (err)
		return fail("configure", err);
	err = oak_dp_attach_uplink(dp, ifindex, mode, &chosen);
	if (err)
		return fail("attach uplink", err);
	printf("uplink %s: decap at %s\n", argv[1], chosen == OAK_UPLINK_XDP ? "xdp" : "tc");
	return 0;
}

static int cmd_local(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_inst inst = {0};
	uint32_t ip;
	int ifindex, err;

	if (argc < 4)
		return fprintf(stderr, "%s", usage), 2;
	if (parse_ip(argv[0], &ip) || parse_ip(argv[2], &inst.ns_ip) ||
	    parse_mac(argv[3], inst.mac))
		return 2;
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex)
		return fail(argv[1], -errno);
	err = if_mac(argv[1], inst.host_mac);
	if (err)
		return fail(argv[1], err);
	inst.ifindex = ifindex;
	inst.flags = OAK_INST_F_LOCAL;
	err = oak_dp_attach_instance(dp, ifindex, ip, inst.ns_ip);
	if (err)
		return fail("attach instance", err);
	err = oak_dp_instance_set(dp, ip, &inst);
	return err ? fail("instance", err) : 0;
}

static int cmd_svc(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_svc_backend b[OAK_MAX_BACKENDS] = {0};
	enum oak_policy policy;
	uint32_t svc;
	int i, n = 0, err;

	if (argc < 2)
		return fprintf(stderr, "%s", usage), 2;
	if (parse_ip(argv[0], &svc))
		return 2;
	if (!strcmp(argv[1], "rr"))
		policy = OAK_POLICY_ROUND_ROBIN;
	else if (!strcmp(argv[1], "closest"))
		policy = OAK_POLICY_CLOSEST;
	else
		return fprintf(stderr, "oak-dp: policy must be rr or closest\n"), 2;
	for (i = 2; i < argc && n < OAK_MAX_BACKENDS; i++, n++) {
		char addr[64], *at;

		snprintf(addr, sizeof(addr), "%s", argv[i]);
		at = strchr(addr, '@');
		if (at) {
			*at = '\0';
			b[n].latency_us = strtoul(at + 1, NULL, 10);
		}
		if (parse_ip(addr, &b[n].inst_ip))
			return 2;
	}
	err = oak_dp_service_set(dp, svc, policy, 0, b, n);
	return err ? fail("service", err) : 0;
}

static int cmd_svc_bulk(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_svc_backend b = {0};
	uint32_t first;
	long i, count;
	int err;

	if (argc < 3)
		return fprintf(stderr, "%s", usage), 2;
	count = strtol(argv[0], NULL, 10);
	if (parse_ip(argv[1], &first) || parse_ip(argv[2], &b.inst_ip))
		return 2;
	for (i = 0; i < count; i++) {
		err = oak_dp_service_set(dp, htonl(ntohl(first) + i), OAK_POLICY_ROUND_ROBIN, i, &b,
					 1);
		if (err)
			return fail("service", err);
	}
	return 0;
}

static int cmd_show(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_svc_backend b[OAK_MAX_BACKENDS];
	struct oak_svc_meta meta;
	char s[INET_ADDRSTRLEN];
	uint32_t svc;
	unsigned int i;
	int err;

	if (argc < 1 || parse_ip(argv[0], &svc))
		return 2;
	err = oak_dp_service_get(dp, svc, &meta, b, OAK_MAX_BACKENDS);
	if (err)
		return fail(argv[0], err);
	printf("%s policy=%s backends=%u closest=%u next_turn=%u\n", argv[0],
	       meta.policy == OAK_POLICY_CLOSEST ? "closest" : "rr", meta.count, meta.closest_count,
	       meta.rr_next);
	for (i = 0; i < meta.count && i < OAK_MAX_BACKENDS; i++)
		printf("  %u %s latency_us=%u\n", i + 1,
		       inet_ntop(AF_INET, &b[i].inst_ip, s, sizeof(s)), b[i].latency_us);
	return 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else
		return fprintf(stderr, "oak-dp: protocol must be tcp or udp: '%s'\n", s), -1;
	return 0;
}

static int parse_port(const char *what, const char *s, uint16_t *port)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 65535)
		return fprintf(stderr, "oak-dp: %s is not a port (1..65535): '%s'\n", what, s), -1;
	*port = (uint16_t)v;
	return 0;
}

static int cmd_port(struct oak_dp *dp, int argc, char **argv)
{
	struct oak_dp_port ports[OAK_PORT_ENTRIES];
	uint16_t host_port, container_port;
	char a[INET_ADDRSTRLEN];
	uint32_t inst_ip = 0;
	uint8_t proto;
	int i, n, err;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		n = oak_dp_port_list(dp, ports, OAK_PORT_ENTRIES);
		if (n < 0)
			return fail("port list", n);
		for (i = 0; i < n && i < OAK_PORT_ENTRIES; i++)
			printf("%u/%s -> %s:%u\n", ports[i].host_port,
			       ports[i].proto == IPPROTO_TCP ? "tcp" : "udp",
			       inet_ntop(AF_INET, &ports[i].inst_ip, a, sizeof(a)),
			       ports[i].container_port);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[0], "add")) {
		if (parse_proto(argv[1], &proto) || parse_port("HOST_PORT", argv[2], &host_port) ||
		    parse_ip(argv[3], &inst_ip) ||
		    parse_port("CONTAINER_PORT", argv[4], &container_port))
			return 2;
		err = oak_dp_port_add(dp, proto, host_port, inst_ip, container_port);
		if (err == -EADDRINUSE)
			fprintf(stderr, "oak-dp: %s/%s is exposed already (or is the tunnel's)\n",
				argv[2], argv[1]);
		return err ? fail("port add", err) : 0;
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[0], "del")) {
		if (parse_proto(argv[1], &proto) || parse_port("HOST_PORT", argv[2], &host_port) ||
		    (argc == 4 && parse_ip(argv[3], &inst_ip)))
			return 2;
		err = oak_dp_port_del(dp, proto, host_port, inst_ip);
		return err ? fail("port del", err) : 0;
	}
	fprintf(stderr, "%s", usage);
	return 2;
}

static void print_miss(void *ctx, uint32_t addr, uint32_t src)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	(void)ctx;
	printf("miss %s from %s\n", inet_ntop(AF_INET, &addr, a, sizeof(a)),
	       inet_ntop(AF_INET, &src, b, sizeof(b)));
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_watch(struct oak_dp *dp)
{
	int err = oak_dp_events_fd(dp, print_miss, NULL);

	if (err < 0)
		return fail("events", err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("watching\n");
	fflush(stdout);
	while (!stop) {
		err = oak_dp_events_poll(dp, 500);
		if (err < 0 && err != -EINTR)
			return fail("events", err);
	}
	return 0;
}

static int cmd_batch(struct oak_dp *dp, int argc, char **argv);

static int run_cmd(struct oak_dp *dp, const char *cmd, int argc, char **argv)
{
	uint64_t stats[OAK_STAT_MAX];
	uint32_t a, b;
	unsigned int i;
	int err, rc = 0;

	if (!strcmp(cmd, "init")) {
		rc = cmd_init(dp, argc, argv);
	} else if (!strcmp(cmd, "local")) {
		rc = cmd_local(dp, argc, argv);
	} else if (!strcmp(cmd, "remote")) {
		struct oak_inst inst = {0};

		if (argc < 2 || parse_ip(argv[0], &a) || parse_ip(argv[1], &inst.node_ip))
			rc = 2;
		else if ((err = oak_dp_instance_set(dp, a, &inst)))
			rc = fail("instance", err);
	} else if (!strcmp(cmd, "unlocal")) {
		int ifindex = argc > 0 ? (int)if_nametoindex(argv[0]) : 0;

		if (!ifindex)
			rc = fail("veth", -ENODEV);
		else if ((err = oak_dp_detach_instance(dp, ifindex)))
			rc = fail("detach", err);
	} else if (!strcmp(cmd, "del")) {
		if (argc < 1 || parse_ip(argv[0], &a))
			rc = 2;
		else if ((err = oak_dp_instance_del(dp, a)))
			rc = fail("del", err);
	} else if (!strcmp(cmd, "svc")) {
		rc = cmd_svc(dp, argc, argv);
	} else if (!strcmp(cmd, "svc-del")) {
		if (argc < 1 || parse_ip(argv[0], &a))
			rc = 2;
		else if ((err = oak_dp_service_del(dp, a)))
			rc = fail("svc-del", err);
	} else if (!strcmp(cmd, "svc-bulk")) {
		rc = cmd_svc_bulk(dp, argc, argv);
	} else if (!strcmp(cmd, "latency")) {
		if (argc < 3 || parse_ip(argv[0], &a) || parse_ip(argv[1], &b))
			rc = 2;
		else if ((err = oak_dp_set_latency(dp, a, b, strtoul(argv[2], NULL, 10))))
			rc = fail("latency", err);
	} else if (!strcmp(cmd, "port")) {
		rc = cmd_port(dp, argc, argv);
	} else if (!strcmp(cmd, "show")) {
		rc = cmd_show(dp, argc, argv);
	} else if (!strcmp(cmd, "stats")) {
		err = oak_dp_stats(dp, stats);
		if (err) {
			rc = fail("stats", err);
		} else {
			for (i = 0; i < OAK_STAT_MAX; i++)
				printf("%-16s %llu\n", oak_dp_stat_name(i),
				       (unsigned long long)stats[i]);
		}
	} else if (!strcmp(cmd, "watch")) {
		rc = cmd_watch(dp);
	} else if (!strcmp(cmd, "batch")) {
		rc = cmd_batch(dp, argc, argv);
	} else {
		fprintf(stderr, "oak-dp: unknown command '%s'\n%s", cmd, usage);
		rc = 2;
	}
	return rc;
}

static int cmd_batch(struct oak_dp *dp, int argc, char **argv)
{
	bool hold = argc > 0 && !strcmp(argv[0], "--hold");
	const char *path = argc > (hold ? 1 : 0) ? argv[hold ? 1 : 0] : NULL;
	FILE *in = stdin;
	char line[1024];
	int rc = 0, lineno = 0;

	if (path && !(in = fopen(path, "r"))) {
		fprintf(stderr, "oak-dp: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		char *args[72], *tok, *save = NULL;
		int n = 0;

		lineno++;
		for (tok = strtok_r(line, " \t\n", &save); tok && n < 72;
		     tok = strtok_r(NULL, " \t\n", &save))
			args[n++] = tok;
		if (n == 0 || args[0][0] == '#')
			continue;
		if (!strcmp(args[0], "batch") || !strcmp(args[0], "purge")) {
			fprintf(stderr, "oak-dp: line %d: '%s' not allowed in a batch\n", lineno,
				args[0]);
			rc = 2;
			continue;
		}
		if (run_cmd(dp, args[0], n - 1, args + 1)) {
			fprintf(stderr, "oak-dp: line %d failed\n", lineno);
			rc = 1;
		}
	}
	if (in != stdin)
		fclose(in);
	printf("batch done rc=%d\n", rc);
	fflush(stdout);
	if (hold) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		while (!stop)
			pause();
	}
	return rc;
}

/* libbpf's warnings, minus the expected "a clsact qdisc already exists" */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || strstr(fmt, "Kernel error message"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	const char *node = NULL, *cmd;
	struct oak_dp *dp;
	int opt, err, rc;

	while ((opt = getopt(argc, argv, "+n:h")) != -1) {
		switch (opt) {
		case 'n':
			node = optarg;
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		default:
			fprintf(stderr, "%s", usage);
			return 2;
		}
	}
	if (!node || optind >= argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	libbpf_set_print(libbpf_print);
	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;

	if (!strcmp(cmd, "purge")) {
		err = oak_dp_purge(node);
		return err ? fail("purge", err) : 0;
	}
	err = oak_dp_open(node, &dp);
	if (err)
		return fail("open datapath", err);

	rc = run_cmd(dp, cmd, argc, argv);
	oak_dp_close(dp);
	return rc;
}
