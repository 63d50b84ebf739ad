// SPDX-License-Identifier: MIT
/*
 * The node's instance subnet: a /26 of 10.18.0.0/16 whose first address
 * is the instances' gateway. Configured, or handed out by the cluster and
 * kept in <state_dir>/subnet for the next start; never changed while
 * instances use it.
 */
#include <stdio.h>
#include <string.h>

#include <oak/log.h>

#include "node.h"

int set_subnet(struct oak_node *n, const char *cidr)
{
	char a[INET_ADDRSTRLEN + 8], *slash;
	uint32_t base;

	snprintf(a, sizeof(a), "%s", cidr);
	slash = strchr(a, '/');
	if (!slash || strcmp(slash, "/26"))
		return -1;
	*slash = '\0';
	base = ntohl(ip4(a));
	if (!base || (base & 0x3f) || (base & 0xffff0000) != 0x0a120000)
		return -1;
	snprintf(n->subnet, sizeof(n->subnet), "%s", cidr);
	n->subnet_base = base;
	ipstr(htonl(base + 1), n->gw);
	return 0;
}

static void subnet_path(const struct oak_node *n, char *buf, size_t len)
{
	snprintf(buf, len, "%.512s/subnet", n->state_dir);
}

/* the configured subnet, else the one the cluster gave us before */
int subnet_init(struct oak_node *n)
{
	const char *s = oak_config_str(n->cfg, "subnet");
	char path[600], line[OAK_CIDR_LEN] = "";
	FILE *f;

	if (*s) {
		if (set_subnet(n, s)) {
			oak_log(ERROR, "subnet: '%s' is not a /26 of 10.18.0.0/16", s);
			return -1;
		}
		return 0;
	}
	subnet_path(n, path, sizeof(path));
	f = fopen(path, "re");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (set_subnet(n, line) == 0)
			oak_log(INFO, "subnet: %s (kept from %s)", n->subnet, path);
	}
	if (f)
		fclose(f);
	return 0;
}

void on_subnet(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct oak_node *n = arg;
	struct oak_msg_subnet m = {0};
	char err[256], path[600];
	FILE *f;

	if (oak_msg_subnet_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "subnet: rejected: %s", err);
		return;
	}
	if (!strcmp(m.subnet, n->subnet))
		goto out;
	if (n->insts) {
		oak_log(WARN, "subnet: %s offered but %s is in use by instances; kept", m.subnet,
			n->subnet);
		goto out;
	}
	if (set_subnet(n, m.subnet)) {
		oak_log(WARN, "subnet: %s is not a /26 of 10.18.0.0/16", m.subnet);
		goto out;
	}
	oak_log(INFO, "subnet: %s (gateway %s)", n->subnet, n->gw);
	subnet_path(n, path, sizeof(path));
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%s\n", n->subnet);
		fclose(f);
	}
out:
	oak_msg_subnet_free(&m);
}
