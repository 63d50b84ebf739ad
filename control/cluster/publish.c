/* oak-cluster: every message leaves through here, to the nodes on the
 * cluster broker or to the root on the root broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "oak/log.h"

void ocl_pub(struct oak_bus *bus, const char *topic, char *payload, bool retain)
{
	if (!payload) {
		oak_log(ERROR, "encode for %s: out of memory", topic);
		return;
	}
	if (oak_bus_publish_str(bus, topic, payload, retain))
		oak_log(WARN, "publish %s: not queued", topic);
	free(payload);
}

void ocl_pub_node(struct ocl *o, const char *node, const char *suffix, char *payload, bool retain)
{
	char t[OAK_TOPIC_LEN];

	if (oak_topic_node(t, sizeof(t), node, suffix)) {
		free(payload);
		return;
	}
	ocl_pub(o->nbus, t, payload, retain);
}

void ocl_pub_root(struct ocl *o, const char *suffix, char *payload, bool retain)
{
	char t[OAK_TOPIC_LEN];

	if (oak_topic_cluster(t, sizeof(t), o->c.id, suffix)) {
		free(payload);
		return;
	}
	ocl_pub(o->rbus, t, payload, retain);
}
