/* oak-root: node-subnet blocks for the clusters' nodes. A cluster asks on
 * clusters/<cid>/net/subnet/request for a node (keeping the node's previous
 * block when it is free or already its own); the root claims a /26 of
 * 10.18.0.0/16 for "<cid>/<node>" in the store (unique across the
 * federation, durable) and answers on clusters/<cid>/net/subnet. */
#include <stdio.h>
#include <string.h>

#include "addresses.h"
#include "orch_int.h"
#include "oak/log.h"

void root_on_subnet_request(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			    void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_subnet_request rq = {0};
	struct oak_msg_subnet m = {0};
	char id[OAK_ID_LEN], err[256], owner[2 * OAK_ID_LEN + 2], block[20];
	const char *suffix;

	(void)bus;
	if (oak_topic_parse(topic, "clusters", id, sizeof(id), &suffix))
		return;
	if (oak_msg_subnet_request_decode(p, len, &rq, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	root_cluster_seen(o, id);
	if (strcmp(rq.cluster_id, id)) {
		oak_log(WARN, "%s: cluster_id %s does not match the topic", topic, rq.cluster_id);
		goto out;
	}
	snprintf(owner, sizeof(owner), "%s/%s", id, rq.node_id);
	if (root_addr_alloc_subnet(o->store, owner, rq.previous, block)) {
		oak_log(ERROR, "subnet for node %s of cluster %s: none free", rq.node_id, id);
		goto out;
	}
	oak_log(INFO, "subnet %s for node %s of cluster %s%s", block, rq.node_id, id,
		rq.previous[0] && strcmp(rq.previous, block) ? " (its previous one is taken)" : "");
	snprintf(m.node_id, sizeof(m.node_id), "%s", rq.node_id);
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", id);
	snprintf(m.subnet, sizeof(m.subnet), "%s", block);
	root_pub(o, id, OAK_T_SUBNET, oak_msg_subnet_encode(&m));
out:
	oak_msg_subnet_request_free(&rq);
}
