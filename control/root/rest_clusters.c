/* Clusters, as the orchestrator keeps them in the "clusters" collection:
 * name, location, aggregated CPU/memory/GPUs, runtimes, "active"
 * (reported within the last 30 s), and its nodes (nodes.h). Read-only here. */
#include <string.h>

#include "nodes.h"
#include "rest.h"
#include "oak/daemon.h"

int rest_clusters_list(struct rest *r, struct rest_req *q, json_t **out)
{
	if (root_store_list(r->store, "clusters", NULL, NULL, out))
		return rest_err_store(r, out);
	return 200;
}

int rest_clusters_active(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *all = NULL, *v = NULL;
	size_t i;

	if (root_store_list(r->store, "clusters", NULL, NULL, &all))
		return rest_err_store(r, out);
	*out = json_array();
	json_array_foreach(all, i, v)
	{
		if (json_is_true(json_object_get(v, "active")))
			json_array_append(*out, v);
	}
	json_decref(all);
	return 200;
}

/* by document id or by cluster_id */
static int cluster_doc(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *arr = NULL;
	int rc = root_store_get(r->store, "clusters", q->param[0], out);

	if (rc == 0)
		return 200;
	if (rc < 0)
		return rest_err_store(r, out);
	if (root_store_list(r->store, "clusters", "cluster_id", q->param[0], &arr))
		return rest_err_store(r, out);
	if (!json_array_size(arr)) {
		json_decref(arr);
		return rest_err(out, 404, NULL, "cluster %s: not found", q->param[0]);
	}
	*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 200;
}

int rest_cluster_get(struct rest *r, struct rest_req *q, json_t **out)
{
	return cluster_doc(r, q, out);
}

/* the cluster's nodes as it last reported them (its forwarded node
 * reports: location, CPU, memory, liveness) */
int rest_cluster_nodes(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL;
	int rc = cluster_doc(r, q, &doc);

	if (rc != 200) {
		*out = doc;
		return rc;
	}
	*out = root_nodes_of_cluster(
	    r->nodes, json_string_value(json_object_get(doc, "cluster_id")) ?: "", oak_wall_ms());
	json_decref(doc);
	return *out ? 200 : rest_err(out, 500, NULL, "out of memory");
}
