/* oak-cluster's durable state: <state_dir>/state.json (see parts.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"

void ocl_state_save(struct ocl *o)
{
	json_t *root = json_object(), *nodes = json_array(), *svcs = json_array();
	char tmp[620];

	if (!root || !nodes || !svcs)
		goto out;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		const struct ocl_node *n = &o->c.nodes[i];
		json_t *rt = json_array();

		for (size_t k = 0; k < n->runtimes.n; k++)
			json_array_append_new(rt, json_string(n->runtimes.v[k]));
		json_array_append_new(
		    nodes,
		    json_pack("{s:s,s:s,s:I,s:s,s:b,s:s,s:s,s:o,s:b}", "id", n->id, "underlay_ip",
			      n->underlay_ip, "tunnel_port", (json_int_t)n->tunnel_port, "subnet",
			      n->subnet, "subnet_root", n->subnet_from_root, "boot_id", n->boot_id,
			      "arch", n->arch, "runtimes", rt, "lost", n->state == OCL_NODE_LOST));
	}
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		const struct ocl_service *s = o->c.svcs[i];
		json_t *insts = json_array(), *ints = json_array();

		if (s->remote) {
			json_decref(insts);
			json_decref(ints);
			continue;
		}
		for (size_t k = 0; k < s->n_inst; k++)
			json_array_append_new(
			    insts, json_pack("{s:I,s:s,s:s,s:s,s:s}", "number",
					     (json_int_t)s->inst[k].number, "instance_ip",
					     s->inst[k].instance_ip, "node_id", s->inst[k].node_id,
					     "namespace_ip", s->inst[k].namespace_ip, "state",
					     oak_instance_state_name(s->inst[k].state)));
		for (size_t k = 0; k < s->n_interest; k++)
			json_array_append_new(ints, json_string(s->interest[k]));
		json_array_append_new(
		    svcs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O?,s:o,s:o}", "job_name",
				    s->job_name, "service_id", s->service_id, "rr_ip", s->rr_ip,
				    "closest_ip", s->closest_ip, "rr_ip_v6", s->rr_ip_v6,
				    "closest_ip_v6", s->closest_ip_v6, "spec", s->spec, "instances",
				    insts, "interests", ints));
	}
	json_object_set_new(root, "cluster_id", json_string(o->c.id));
	json_object_set_new(root, "ip_cursor", json_integer(o->c.ip_cursor));
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "services", svcs);
	nodes = svcs = NULL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->state_path);
	if (json_dump_file(root, tmp, JSON_COMPACT) || rename(tmp, o->state_path))
		oak_log(WARN, "state: cannot write %s: %s", o->state_path, strerror(errno));
	else
		o->dirty = false;
out:
	json_decref(nodes);
	json_decref(svcs);
	json_decref(root);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

void ocl_state_load(struct ocl *o)
{
	json_error_t je;
	json_t *root = json_load_file(o->state_path, 0, &je), *e, *f;
	size_t i, k;
	int64_t now = oak_mono_ms();

	if (!root) {
		oak_log(INFO, "state: none at %s (fresh start)", o->state_path);
		return;
	}
	if (strcmp(jstr(root, "cluster_id"), o->c.id)) {
		oak_log(WARN, "state: %s belongs to cluster '%s', not '%s': ignored", o->state_path,
			jstr(root, "cluster_id"), o->c.id);
		json_decref(root);
		return;
	}
	o->c.ip_cursor = (uint32_t)json_integer_value(json_object_get(root, "ip_cursor"));
	json_array_foreach(json_object_get(root, "nodes"), i, e)
	{
		struct ocl_node *n = ocl_node_get(&o->c, jstr(e, "id"), now);

		if (!n)
			continue;
		snprintf(n->underlay_ip, sizeof(n->underlay_ip), "%s", jstr(e, "underlay_ip"));
		n->tunnel_port = (uint32_t)json_integer_value(json_object_get(e, "tunnel_port"));
		snprintf(n->boot_id, sizeof(n->boot_id), "%s", jstr(e, "boot_id"));
		n->boot_hash = oak_hb_hash(n->boot_id);
		snprintf(n->arch, sizeof(n->arch), "%s", jstr(e, "arch"));
		json_array_foreach(json_object_get(e, "runtimes"), k,
				   f) if (n->runtimes.n < OAK_NAMES_MAX)
		    snprintf(n->runtimes.v[n->runtimes.n++], OAK_RUNTIME_LEN, "%s",
			     json_string_value(f) ?: "");
		/* the root's subnet stays the node's (outside the block too) */
		if (json_is_true(json_object_get(e, "subnet_root")) &&
		    ocl_subnet_valid(jstr(e, "subnet"))) {
			ocl_subnet_claim(&o->c.subnets, n->id, jstr(e, "subnet"));
			snprintf(n->subnet, sizeof(n->subnet), "%s", jstr(e, "subnet"));
			n->subnet_from_root = true;
		} else if (!ocl_subnet_claim(&o->c.subnets, n->id, jstr(e, "subnet"))) {
			snprintf(n->subnet, sizeof(n->subnet), "%s", jstr(e, "subnet"));
		}
		/* lost before: stays lost until it speaks; else it has
		 * node_timeout to confirm it is alive */
		n->state =
		    json_is_true(json_object_get(e, "lost")) ? OCL_NODE_LOST : OCL_NODE_ACTIVE;
		n->confirmed = false;
	}
	json_array_foreach(json_object_get(root, "services"), i, e)
	{
		struct ocl_service *s = ocl_service_get(&o->c, jstr(e, "job_name"));

		if (!s)
			continue;
		snprintf(s->service_id, sizeof(s->service_id), "%s", jstr(e, "service_id"));
		snprintf(s->rr_ip, sizeof(s->rr_ip), "%s", jstr(e, "rr_ip"));
		snprintf(s->closest_ip, sizeof(s->closest_ip), "%s", jstr(e, "closest_ip"));
		snprintf(s->rr_ip_v6, sizeof(s->rr_ip_v6), "%s", jstr(e, "rr_ip_v6"));
		snprintf(s->closest_ip_v6, sizeof(s->closest_ip_v6), "%s",
			 jstr(e, "closest_ip_v6"));
		f = json_object_get(e, "spec");
		s->spec = json_is_object(f) ? json_incref(f) : NULL;
		json_array_foreach(json_object_get(e, "instances"), k, f)
		{
			struct ocl_instance *in = ocl_instance_add(
			    s, (uint32_t)json_integer_value(json_object_get(f, "number")));

			if (!in)
				continue;
			snprintf(in->instance_ip, sizeof(in->instance_ip), "%s",
				 jstr(f, "instance_ip"));
			snprintf(in->node_id, sizeof(in->node_id), "%s", jstr(f, "node_id"));
			snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s",
				 jstr(f, "namespace_ip"));
			if (oak_instance_state_parse(jstr(f, "state"), &in->state))
				in->state = OAK_INSTANCE_CREATING;
			in->changed_ms = now;
		}
		json_array_foreach(json_object_get(e, "interests"), k, f)
		    ocl_interest_add(s, json_string_value(f) ?: "");
	}
	oak_log(INFO, "state: %zu nodes, %zu services from %s; confirming from node reports",
		o->c.n_nodes, o->c.n_svcs, o->state_path);
	json_decref(root);
	o->placements_pending = true;
}
