/* oak-cluster's link to the root: its hello and retained status, the
 * aggregate reports, instance states upward, and the root's deploy,
 * undeploy and scale requests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"

void ocl_report_up(struct ocl *o, const struct ocl_service *s, const struct ocl_instance *in,
		   const char *node_id, const char *reason)
{
	ocl_report_as(o, s, in, in->state, node_id, reason);
}

void ocl_report_as(struct ocl *o, const struct ocl_service *s, const struct ocl_instance *in,
		   enum oak_instance_state st, const char *node_id, const char *reason)
{
	struct oak_msg_instance_state m = {0};
	const struct ocl_node *n;

	snprintf(m.node_id, sizeof(m.node_id), "%s", node_id ? node_id : in->node_id);
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", o->c.id);
	snprintf(m.job_name, sizeof(m.job_name), "%s", s->job_name);
	snprintf(m.service_id, sizeof(m.service_id), "%.64s",
		 s->service_id[0] ? s->service_id : s->job_name);
	m.instance_number = in->number;
	m.state = st;
	n = ocl_node_find(&o->c, m.node_id);
	if (n && n->underlay_ip[0]) { /* the tunnel endpoint other clusters send to */
		snprintf(m.node_ip, sizeof(m.node_ip), "%s", n->underlay_ip);
		m.node_port = n->tunnel_port;
	}
	snprintf(m.instance_ip, sizeof(m.instance_ip), "%s", in->instance_ip);
	snprintf(m.namespace_ip, sizeof(m.namespace_ip), "%s", in->namespace_ip);
	snprintf(m.reason, sizeof(m.reason), "%s", reason ? reason : "");
	m.timestamp_ms = oak_wall_ms();
	ocl_pub_root(o, OAK_T_JOBS_STATE, oak_msg_instance_state_encode(&m), false);
}

void ocl_set_inst_state(struct ocl *o, struct ocl_service *s, struct ocl_instance *in,
			enum oak_instance_state st, const char *reason)
{
	if (in->state != st)
		oak_log_write(st == OAK_INSTANCE_FAILED || st == OAK_INSTANCE_DEAD ? OAK_LOG_WARN
										   : OAK_LOG_INFO,
			      "instance %s.%u on %s: %s -> %s%s%s", s->job_name, in->number,
			      in->node_id[0] ? in->node_id : "-",
			      oak_instance_state_name(in->state), oak_instance_state_name(st),
			      reason && *reason ? ": " : "", reason ? reason : "");
	in->state = st;
	in->changed_ms = oak_mono_ms();
	o->dirty = true;
	ocl_report_up(o, s, in, NULL, reason);
}

void ocl_send_info(struct ocl *o, bool force)
{
	struct oak_msg_cluster_info m;
	int64_t now = oak_mono_ms();
	double iv = oak_config_double(o->cfg, "report_interval") * 1000.0;

	if (oak_bus_state(o->rbus) != OAK_BUS_CONNECTED)
		return;
	ocl_aggregate(&o->c, &m);
	if (!force && now - o->last_info_ms < (int64_t)iv &&
	    !ocl_info_significant(&o->last_info, &m))
		return;
	m.timestamp_ms = oak_wall_ms();
	o->last_info = m;
	o->last_info_ms = now;
	oak_log(DEBUG, "report: %u nodes, %.1f/%.1f vcpus, %lld/%lld MB free", m.active_nodes,
		m.vcpus_free, m.vcpus_total, (long long)m.memory_free_mb,
		(long long)m.memory_total_mb);
	ocl_pub_root(o, OAK_T_INFORMATION, oak_msg_cluster_info_encode(&m), false);
}

void ocl_on_root_state(struct oak_bus *bus, enum oak_bus_state st, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_status s = {0};
	struct oak_msg_cluster_hello h = {0};

	if (st != OAK_BUS_CONNECTED)
		return;
	snprintf(s.id, sizeof(s.id), "%s", o->c.id);
	s.online = true;
	snprintf(s.boot_id, sizeof(s.boot_id), "%s", o->boot_id);
	ocl_pub_root(o, OAK_T_STATUS, oak_msg_status_encode(&s), true);
	snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", o->c.id);
	snprintf(h.name, sizeof(h.name), "%s", o->name);
	snprintf(h.operator_name, sizeof(h.operator_name), "%s",
		 oak_config_str(o->cfg, "operator"));
	h.location = o->c.location;
	h.radius_km = o->c.radius_km;
	snprintf(h.version, sizeof(h.version), "%s", OAK_CLUSTER_VERSION);
	snprintf(h.boot_id, sizeof(h.boot_id), "%s", o->boot_id);
	ocl_pub_root(o, OAK_T_HELLO, oak_msg_cluster_hello_encode(&h), false);
	ocl_send_info(o, true);
	ocl_subnets_root_up(o);
	/* the root rebuilds its view of this cluster from reports too, and
	 * answers again for the tables our services share with other clusters */
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		struct ocl_service *sv = o->c.svcs[i];

		for (size_t k = 0; !sv->remote && k < sv->n_inst; k++)
			ocl_report_up(o, sv, &sv->inst[k], NULL, NULL);
		sv->root_interest = false;
		if (!sv->remote && ocl_interested_any(&o->c, sv))
			ocl_root_interest(o, sv);
	}
}

void ocl_on_deploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_deploy m = {0};
	struct ocl_service *s;
	struct ocl_instance *in;
	char err[512];

	if (oak_msg_cluster_deploy_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_get(&o->c, m.job_name);
	if (!s)
		goto out;
	if (s->remote) { /* ours now; the root keeps our interest in the rest */
		s->remote = false;
		s->root_interest = true;
	}
	snprintf(s->service_id, sizeof(s->service_id), "%s", m.service_id);
	snprintf(s->rr_ip, sizeof(s->rr_ip), "%s", m.rr_ip);
	snprintf(s->closest_ip, sizeof(s->closest_ip), "%s", m.closest_ip);
	snprintf(s->rr_ip_v6, sizeof(s->rr_ip_v6), "%s", m.rr_ip_v6);
	snprintf(s->closest_ip_v6, sizeof(s->closest_ip_v6), "%s", m.closest_ip_v6);
	json_decref(s->spec);
	s->spec = json_incref(m.service);
	o->dirty = true;
	in = ocl_instance_find(s, m.instance_number);
	if (in && ocl_state_live(in->state)) {
		oak_log(INFO, "deploy %s.%u: already %s on %s", s->job_name, in->number,
			oak_instance_state_name(in->state), in->node_id[0] ? in->node_id : "-");
		ocl_report_up(o, s, in, NULL, NULL);
		goto out;
	}
	in = ocl_instance_add(s, m.instance_number);
	if (!in)
		goto out;
	in->node_id[0] = '\0';
	in->state = OAK_INSTANCE_CREATING;
	snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
	if (!in->instance_ip[0] && ocl_alloc_instance_ip(&o->c, in->instance_ip)) {
		oak_log(ERROR, "deploy %s.%u: no free Instance IP", s->job_name, in->number);
		ocl_instance_remove(s, m.instance_number);
		goto out;
	}
	ocl_place_pending(o, s, true);
out:
	oak_msg_cluster_deploy_free(&m);
}

static void undeploy_instance(struct ocl *o, struct ocl_service *s, uint32_t number)
{
	struct ocl_instance *in = ocl_instance_find(s, number);

	if (!in)
		return;
	if (in->node_id[0]) {
		ocl_send_delete(o, s, number, in->node_id);
	} else {
		in->state = OAK_INSTANCE_UNDEPLOYED;
		ocl_report_up(o, s, in, "", NULL);
	}
	ocl_instance_remove(s, number);
	o->dirty = true;
}

void ocl_on_undeploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_undeploy m = {0};
	struct ocl_service *s;
	char err[256];

	if (oak_msg_cluster_undeploy_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_find(&o->c, m.job_name);
	if (!s || s->remote) {
		oak_log(INFO, "undeploy %s: not here", m.job_name);
		goto out;
	}
	if (m.instance_number < 0)
		oak_log(INFO, "undeploy %s: every instance", s->job_name);
	else
		oak_log(INFO, "undeploy %s.%d", s->job_name, m.instance_number);
	if (m.instance_number < 0) {
		while (s->n_inst)
			undeploy_instance(o, s, s->inst[s->n_inst - 1].number);
	} else {
		undeploy_instance(o, s, (uint32_t)m.instance_number);
	}
	ocl_publish_table(o, s);
	if (!s->n_inst && m.instance_number < 0)
		ocl_service_remove(&o->c, s);
out:
	oak_msg_cluster_undeploy_free(&m);
}

void ocl_on_scale(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_scale m = {0};
	struct ocl_service *s;
	uint32_t live = 0;
	char err[256];

	if (oak_msg_cluster_scale_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_find(&o->c, m.job_name);
	if (!s || !s->spec) {
		oak_log(WARN, "scale %s: no such service here (deploy one instance first)",
			m.job_name);
		goto out;
	}
	for (size_t i = 0; i < s->n_inst; i++)
		live += ocl_state_live(s->inst[i].state);
	oak_log(INFO, "scale %s: %u -> %u", s->job_name, live, m.replicas);
	while (live < m.replicas) {
		struct ocl_instance *in = ocl_instance_add(s, ocl_instance_next_number(s));

		if (!in)
			break;
		if (ocl_alloc_instance_ip(&o->c, in->instance_ip)) {
			oak_log(ERROR, "scale %s: no free Instance IP", s->job_name);
			ocl_instance_remove(s, in->number);
			break;
		}
		live++;
	}
	ocl_place_pending(o, s, true);
	while (live > m.replicas && s->n_inst) {
		/* the highest-numbered live instance goes first */
		size_t hi = SIZE_MAX;

		for (size_t i = 0; i < s->n_inst; i++)
			if (ocl_state_live(s->inst[i].state) &&
			    (hi == SIZE_MAX || s->inst[i].number > s->inst[hi].number))
				hi = i;
		if (hi == SIZE_MAX)
			break;
		undeploy_instance(o, s, s->inst[hi].number);
		live--;
	}
	ocl_publish_table(o, s);
	o->dirty = true;
out:
	oak_msg_cluster_scale_free(&m);
}
