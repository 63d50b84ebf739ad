/* oak-cluster's placement: instances without a node are placed with the
 * scheduler library (place.h) on usable nodes and deployed there; instance
 * reports from the nodes confirm, move or end them; instances of lost
 * nodes are placed again and unanswered deploys repeated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parts.h"
#include "place.h"
#include "sched_glue.h"
#include "oak/daemon.h"
#include "oak/log.h"
#include "oak/sla.h"

void ocl_send_delete(struct ocl *o, const struct ocl_service *s, uint32_t number, const char *node)
{
	struct oak_msg_delete d = {0};

	snprintf(d.service_id, sizeof(d.service_id), "%s", s->service_id);
	snprintf(d.job_name, sizeof(d.job_name), "%s", s->job_name);
	d.instance_number = number;
	oak_log(INFO, "delete %s.%u on %s", s->job_name, number, node);
	ocl_pub_node(o, node, OAK_T_DELETE, oak_msg_delete_encode(&d), false);
}

static int service_of(const struct ocl_service *s, struct oak_service *svc, char *err,
		      size_t errlen)
{
	struct oak_msg_cluster_deploy m = {0};

	if (!s->spec) {
		snprintf(err, errlen, "no service description known (adopted from node reports)");
		return -1;
	}
	snprintf(m.job_name, sizeof(m.job_name), "%s", s->job_name);
	m.service = s->spec;
	if (oak_msg_cluster_deploy_service(&m, svc, err, errlen))
		return -1;
	/* what a node's deploy message holds: refused here, never cut */
	if (strlen(svc->code) >= OAK_CODE_LEN) {
		snprintf(err, errlen, "code: %zu characters, a node's deploy message holds %d",
			 strlen(svc->code), OAK_CODE_LEN - 1);
		oak_service_free(svc);
		return -1;
	}
	return 0;
}

static void send_deploy(struct ocl *o, const struct ocl_service *s, const struct oak_service *svc,
			const struct ocl_instance *in)
{
	struct oak_msg_deploy d = {0};
	struct ocl_node *n;

	snprintf(d.service_id, sizeof(d.service_id), "%.64s",
		 s->service_id[0] ? s->service_id : s->job_name);
	snprintf(d.job_name, sizeof(d.job_name), "%s", s->job_name);
	d.instance_number = in->number;
	snprintf(d.instance_ip, sizeof(d.instance_ip), "%s", in->instance_ip);
	snprintf(d.rr_ip, sizeof(d.rr_ip), "%s", s->rr_ip);
	snprintf(d.closest_ip, sizeof(d.closest_ip), "%s", s->closest_ip);
	snprintf(d.rr_ip_v6, sizeof(d.rr_ip_v6), "%s", s->rr_ip_v6);
	snprintf(d.closest_ip_v6, sizeof(d.closest_ip_v6), "%s", s->closest_ip_v6);
	snprintf(d.runtime, sizeof(d.runtime), "%s", svc->virtualization);
	snprintf(d.code, sizeof(d.code), "%s", svc->code);
	d.cmd = svc->cmd; /* borrowed: d is not freed */
	d.args = svc->args;
	d.env = svc->environment;
	d.added_files = svc->added_files;
	snprintf(d.port, sizeof(d.port), "%s", svc->port);
	d.memory_mb = svc->res.memory_mb;
	d.vcpus = svc->res.vcpus;
	d.vgpus = svc->res.vgpus > 0 ? (uint32_t)svc->res.vgpus : 0;
	d.one_shot = svc->one_shot;
	d.privileged = svc->privileged;
	oak_log(INFO, "deploy %s.%u (%s) on %s", s->job_name, in->number, in->instance_ip,
		in->node_id);
	ocl_pub_node(o, in->node_id, OAK_T_DEPLOY, oak_msg_deploy_encode(&d), false);
	n = ocl_node_find(&o->c, in->node_id);
	if (n)
		n->busy_until_ms = oak_mono_ms() + o->timeout_ms;
}

static bool node_usable(const struct ocl_node *n)
{
	return n->state == OCL_NODE_ACTIVE && n->have_info && n->underlay_ip[0] && n->subnet[0];
}

/* Place every instance of s that has no node. from_root: instances the root
 * just asked for are given back (FAILED upward, removed) when nothing fits,
 * so the root can try another cluster; instances being re-placed after a
 * node loss wait here for a node instead. */
void ocl_place_pending(struct ocl *o, struct ocl_service *s, bool from_root)
{
	struct oak_service svc;
	struct ocl_req req;
	struct ocl_req_buf rb = {0};
	struct ocl_cand *cands = NULL;
	size_t nc = 0, *idx = NULL, want = 0;
	uint32_t placed;
	int64_t t_start, t_sched, t_end;
	char err[512], notes[1024], why[512];

	for (size_t i = 0; i < s->n_inst; i++)
		want += !s->inst[i].node_id[0] && ocl_state_live(s->inst[i].state);
	if (!want)
		return;
	t_start = oak_mono_ns();
	if (service_of(s, &svc, err, sizeof(err))) {
		oak_log(WARN, "place %s: %s", s->job_name, err);
		/* the root's instances go back with the reason (its status_detail) */
		for (size_t i = 0; from_root && i < s->n_inst; i++) {
			struct ocl_instance *in = &s->inst[i];

			if (in->node_id[0] || !ocl_state_live(in->state))
				continue;
			in->state = OAK_INSTANCE_FAILED;
			ocl_report_up(o, s, in, "", err);
			ocl_instance_remove(s, in->number);
			i--;
			o->dirty = true;
		}
		return;
	}
	if (ocl_build_req(&o->c, &svc, &req, &rb, notes, sizeof(notes)))
		goto out;
	if (notes[0])
		oak_log(WARN, "place %s: %s", s->job_name, notes);
	cands = calloc(o->c.n_nodes ? o->c.n_nodes : 1, sizeof(*cands));
	idx = calloc(want, sizeof(*idx));
	if (!cands || !idx)
		goto out;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		const struct ocl_node *n = &o->c.nodes[i];

		if (!node_usable(n))
			continue;
		ocl_cand_from_node(n, s, &cands[nc++]);
	}
	t_sched = oak_mono_ns();
	placed = ocl_place(&req, cands, nc, (uint32_t)want, (uint64_t)oak_mono_ms(), idx, why,
			   sizeof(why));
	t_end = oak_mono_ns();
	/* the decision's time (candidates and scheduler), for tools/bench/fleet.sh */
	oak_log(INFO, "place %s: %u of %zu on %zu candidates in %lld us", s->job_name, placed, want,
		nc, (long long)((t_end - t_start) / 1000));
	ocl_metrics_placement((double)(t_end - t_sched) / 1e9, placed, (uint32_t)want - placed);
	for (size_t i = 0, k = 0; i < s->n_inst; i++) {
		struct ocl_instance *in = &s->inst[i];

		if (in->node_id[0] || !ocl_state_live(in->state))
			continue;
		if (k < placed) {
			snprintf(in->node_id, sizeof(in->node_id), "%s", cands[idx[k]].id);
			in->namespace_ip[0] = '\0';
			in->state = OAK_INSTANCE_CREATING;
			in->changed_ms = oak_mono_ms();
			send_deploy(o, s, &svc, in);
			/* the root learns where before the node answers */
			ocl_report_as(o, s, in, OAK_INSTANCE_NODE_SCHEDULED, NULL, NULL);
			o->dirty = true;
		} else if (from_root) {
			char reason[600];

			snprintf(reason, sizeof(reason), "no node fits: %s", why);
			in->state = OAK_INSTANCE_FAILED;
			oak_log(WARN, "instance %s.%u: %s", s->job_name, in->number, reason);
			ocl_report_up(o, s, in, "", reason);
			ocl_instance_remove(s, in->number);
			i--;
			o->dirty = true;
		} else {
			o->placements_pending = true;
			oak_log(WARN, "instance %s.%u waits for a node: %s", s->job_name,
				in->number, why);
		}
		k++;
	}
out:
	free(cands);
	free(idx);
	ocl_req_buf_free(&rb);
	oak_service_free(&svc);
}

void ocl_on_job(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_instance_state m = {0};
	struct ocl_service *s;
	struct ocl_instance *in;
	struct ocl_node *n, *owner;
	char id[OAK_ID_LEN], err[256];
	bool live, was_running;

	if (oak_msg_instance_state_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = ocl_node_from_topic(o, topic, id);
	if (!n)
		goto out;
	live = ocl_state_live(m.state);
	s = ocl_service_find(&o->c, m.job_name);
	if (!s && live) { /* unknown to us (state lost): adopt it */
		s = ocl_service_get(&o->c, m.job_name);
		if (!s)
			goto out;
		snprintf(s->service_id, sizeof(s->service_id), "%s", m.service_id);
		oak_log(INFO, "service %s adopted from %s's report", m.job_name, n->id);
	}
	in = s ? ocl_instance_find(s, m.instance_number) : NULL;
	if (!in) {
		if (!live || !s) { /* e.g. UNDEPLOYED after an undeploy: pass it on */
			struct ocl_instance tmp = {.number = m.instance_number, .state = m.state};
			struct ocl_service ts = {0};

			snprintf(tmp.instance_ip, sizeof(tmp.instance_ip), "%s", m.instance_ip);
			snprintf(tmp.namespace_ip, sizeof(tmp.namespace_ip), "%s", m.namespace_ip);
			snprintf(ts.job_name, sizeof(ts.job_name), "%s", m.job_name);
			snprintf(ts.service_id, sizeof(ts.service_id), "%s", m.service_id);
			ocl_report_up(o, s ? s : &ts, &tmp, n->id, m.reason);
			goto out;
		}
		in = ocl_instance_add(s, m.instance_number);
		if (!in)
			goto out;
		snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
		snprintf(in->node_id, sizeof(in->node_id), "%s", n->id);
		oak_log(INFO, "instance %s.%u on %s adopted from its report", s->job_name,
			in->number, n->id);
	}
	if (strcmp(in->node_id, n->id)) {
		owner = in->node_id[0] ? ocl_node_find(&o->c, in->node_id) : NULL;
		if (!live)
			goto out; /* a copy we no longer count on ended */
		if (owner && owner->state == OCL_NODE_ACTIVE && ocl_state_live(in->state)) {
			/* placed elsewhere meanwhile (this node was lost): one copy only */
			oak_log(WARN,
				"instance %s.%u also runs on %s (owner %s): removing it there",
				s->job_name, in->number, n->id, owner->id);
			ocl_send_delete(o, s, in->number, n->id);
			goto out;
		}
		if (in->node_id[0] && owner && owner->state == OCL_NODE_ACTIVE)
			ocl_send_delete(o, s, in->number, owner->id); /* a pending copy */
		oak_log(INFO, "instance %s.%u is on %s", s->job_name, in->number, n->id);
		snprintf(in->node_id, sizeof(in->node_id), "%s", n->id);
		o->dirty = true;
	}
	was_running = in->state == OAK_INSTANCE_RUNNING;
	if (m.namespace_ip[0] && strcmp(in->namespace_ip, m.namespace_ip)) {
		snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s", m.namespace_ip);
		o->dirty = true;
	}
	if (!in->instance_ip[0] && m.instance_ip[0])
		snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
	if (in->state != m.state || m.reason[0])
		ocl_set_inst_state(o, s, in, m.state, m.reason);
	else
		ocl_report_up(o, s, in, NULL, NULL); /* re-report: the root rebuilds too */
	if (was_running != (in->state == OAK_INSTANCE_RUNNING))
		ocl_publish_table(o, s);
out:
	oak_msg_instance_state_free(&m);
}

void ocl_placement_tick(struct ocl *o, int64_t now)
{
	char err[512];

	/* instances whose node is lost (e.g. after a restart) */
	if (o->placements_pending && now - o->last_place_ms >= 1000) {
		o->placements_pending = false;
		o->last_place_ms = now;
		for (size_t i = 0; i < o->c.n_svcs; i++) {
			struct ocl_service *s = o->c.svcs[i];
			bool hit = false;

			for (size_t j = 0; j < s->n_inst; j++) {
				struct ocl_instance *in = &s->inst[j];
				struct ocl_node *n = ocl_node_find(&o->c, in->node_id);

				if (!in->node_id[0] || !ocl_state_live(in->state) ||
				    (n && n->state == OCL_NODE_ACTIVE))
					continue;
				ocl_set_inst_state(o, s, in, OAK_INSTANCE_FAILED,
						   "its node is lost");
				in->node_id[0] = '\0';
				in->state = OAK_INSTANCE_CREATING;
				hit = true;
			}
			if (hit)
				ocl_publish_table(o, s);
			ocl_place_pending(o, s, false);
		}
	}
	/* a deploy that got no answer (lost message, node busy): again; the
	 * node treats a repeated deploy as a request to report */
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		struct ocl_service *s = o->c.svcs[i];

		for (size_t j = 0; j < s->n_inst; j++) {
			struct ocl_instance *in = &s->inst[j];
			struct oak_service svc;

			if (in->state != OAK_INSTANCE_CREATING || !in->node_id[0] ||
			    now - in->changed_ms < 10000)
				continue;
			in->changed_ms = now;
			if (service_of(s, &svc, err, sizeof(err)))
				continue;
			oak_log(WARN, "instance %s.%u: no report from %s for 10 s, deploying again",
				s->job_name, in->number, in->node_id);
			send_deploy(o, s, &svc, in);
			oak_service_free(&svc);
		}
	}
}
