/* oak-root's orchestration, wired: the root broker's subscriptions, one
 * timer (cluster liveness, the reconcile sweep), the REST hooks of orch.h,
 * and the deploy/undeploy messages the decisions of reconcile.c turn into.
 *
 * Durability: a service's document is stored (one transaction: its
 * instance entries and their Instance IP claims) before any deploy for it
 * is sent, so a SIGKILL at any point leaves either nothing or an entry
 * assigned to a cluster; an entry assigned to a cluster is never placed
 * anew after a restart: its cluster is asked to re-report it (a deploy of
 * the same instance number, which oak-cluster de-duplicates). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addresses.h"
#include "orch_int.h"
#include "oak/bus.h"
#include "oak/config.h"
#include "oak/daemon.h"
#include "oak/log.h"

#define TICK_MS	 500
#define SWEEP_MS 1000

static double cfg_double(const struct oak_config *cfg, const char *key, double def)
{
	return cfg && oak_config_has(cfg, key) ? oak_config_double(cfg, key) : def;
}

void root_pub(struct root_orch *o, const char *cid, const char *suffix, char *payload)
{
	char t[OAK_TOPIC_LEN];

	if (!payload) {
		oak_log(ERROR, "encode for clusters/%s/%s: out of memory", cid, suffix);
		return;
	}
	if (oak_topic_cluster(t, sizeof(t), cid, suffix))
		oak_log(WARN, "cluster id %s: not a topic level", cid);
	else if (oak_bus_publish_str(o->bus, t, payload, false))
		oak_log(WARN, "publish %s: not queued", t);
	free(payload);
}

/* ------------------------------------------------------------ actions */

static void send_deploy(struct root_orch *o, json_t *doc, const char *cid, uint32_t number)
{
	struct oak_msg_cluster_deploy m = {0};
	json_t *e = root_entry_find(doc, number);

	if (!e)
		return;
	snprintf(m.service_id, sizeof(m.service_id), "%s", root_str(doc, "microserviceID"));
	snprintf(m.job_name, sizeof(m.job_name), "%s", root_str(doc, "job_name"));
	m.instance_number = number;
	snprintf(m.instance_ip, sizeof(m.instance_ip), "%s", root_str(e, "instance_ip"));
	snprintf(m.rr_ip, sizeof(m.rr_ip), "%s", root_str(doc, "rr_ip"));
	snprintf(m.closest_ip, sizeof(m.closest_ip), "%s", root_str(doc, "closest_ip"));
	snprintf(m.rr_ip_v6, sizeof(m.rr_ip_v6), "%s", root_str(doc, "rr_ip_v6"));
	snprintf(m.closest_ip_v6, sizeof(m.closest_ip_v6), "%s", root_str(doc, "closest_ip_v6"));
	m.service = root_sla_object(doc);
	oak_log(INFO, "deploy %s.%u (%s) to cluster %s", m.job_name, number, m.instance_ip, cid);
	root_pub(o, cid, OAK_T_DEPLOY, oak_msg_cluster_deploy_encode(&m));
	json_decref(m.service);
}

static void send_undeploy(struct root_orch *o, const char *sid, const char *job, const char *cid,
			  int32_t number)
{
	struct oak_msg_cluster_undeploy m = {0};

	if (!*job)
		return;
	snprintf(m.service_id, sizeof(m.service_id), "%s", *sid ? sid : job);
	snprintf(m.job_name, sizeof(m.job_name), "%s", job);
	m.instance_number = number;
	oak_log(INFO, "undeploy %s.%d in cluster %s", job, number, cid);
	root_pub(o, cid, OAK_T_UNDEPLOY, oak_msg_cluster_undeploy_encode(&m));
}

static void run_acts(struct root_orch *o, json_t *doc, const struct root_acts *a)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct root_act *x = &a->v[i];

		if (x->kind == ROOT_ACT_DEPLOY)
			send_deploy(o, doc, x->cluster_id, x->number);
		else
			send_undeploy(o, root_str(doc, "microserviceID"), root_str(doc, "job_name"),
				      x->cluster_id, (int32_t)x->number);
	}
}

/* ------------------------------------------------------------ reconcile */

static int alloc_ip(void *arg, const char *owner, const char *wanted, char out[16])
{
	struct root_orch *o = arg;

	if (wanted && *wanted) {
		int rc = root_addr_claim_ip(o->store, wanted, owner);

		if (rc == 0) {
			snprintf(out, 16, "%s", wanted);
			return 0;
		}
		oak_log(WARN, "instance %s: its Instance IP %s is %s; another one is used", owner,
			wanted, rc == ROOT_STORE_TAKEN ? "taken" : "not in 10.30.0.0/16");
	}
	return root_addr_alloc_ip(o->store, owner, out);
}

static void release_ip(void *arg, const char *owner)
{
	struct root_orch *o = arg;

	root_store_release_owner(o->store, owner);
}

/* reconciles doc (stored under its id) and sends what it decided */
static void reconcile_doc(struct root_orch *o, json_t *doc)
{
	struct root_cand *cands = calloc(o->n_cl ? o->n_cl : 1, sizeof(*cands));
	struct root_acts acts = {0};
	struct root_rec_ctx c = {
	    .n = o->n_cl,
	    .now_ms = oak_wall_ms(),
	    .grace_ms = o->grace_ms,
	    .resend_ms = o->resend_ms,
	    .retry_ms = o->retry_ms,
	    .seed = o->seq++,
	    .alloc_ip = alloc_ip,
	    .release_ip = release_ip,
	    .arg = o,
	};
	const char *sid = root_str(doc, "microserviceID");
	bool changed = false;
	json_t *old_list;
	char err[512];
	struct timespec t0, t1;
	size_t deploys = 0;

	if (!cands)
		return;
	root_clusters_cands(o, cands);
	c.cands = cands;
	old_list = json_deep_copy(json_object_get(doc, "instance_list"));
	if (root_store_begin(o->store))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (root_reconcile(doc, &c, &acts, &changed, err, sizeof(err))) {
		root_store_rollback(o->store);
		oak_log(WARN, "service %s: %s", sid, err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (size_t i = 0; i < acts.n; i++)
		deploys += acts.v[i].kind == ROOT_ACT_DEPLOY;
	/* the decision's time (reconcile and placement, not the store), for
	 * tools/bench/fleet.sh */
	if (deploys)
		oak_log(INFO, "service %s: %zu placed on %zu clusters in %lld us", sid, deploys,
			o->n_cl,
			(long long)((t1.tv_sec - t0.tv_sec) * 1000000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (changed && root_store_put(o->store, "services", sid, doc)) {
		root_store_rollback(o->store);
		goto out;
	}
	if (root_store_commit(o->store)) {
		root_store_rollback(o->store);
		goto out;
	}
	run_acts(o, doc, &acts);
	if (changed) {
		/* running instances removed or added: tell the interested */
		struct oak_msg_service_table a, b;
		json_t *tmp =
		    json_pack("{s:O}", "instance_list", old_list ? old_list : json_null());
		bool differ = true;

		if (tmp && !root_table_build(tmp, NULL, &a)) {
			if (!root_table_build(doc, NULL, &b)) {
				differ = a.n_instances != b.n_instances;
				for (size_t i = 0; !differ && i < a.n_instances; i++)
					differ =
					    strcmp(a.instances[i].instance_ip,
						   b.instances[i].instance_ip) ||
					    strcmp(a.instances[i].node_ip, b.instances[i].node_ip);
				oak_msg_service_table_free(&b);
			}
			oak_msg_service_table_free(&a);
		}
		json_decref(tmp);
		if (differ)
			root_tables_push(o, doc);
	}
out:
	json_decref(old_list);
	root_acts_free(&acts);
	free(cands);
}

void root_orch_reconcile_id(struct root_orch *o, const char *sid)
{
	json_t *doc = NULL;

	if (root_store_get(o->store, "services", sid, &doc))
		return;
	reconcile_doc(o, doc);
	json_decref(doc);
}

static bool has_instance_in(json_t *doc, const char *cid)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(doc, "instance_list"), i,
			   e) if (!strcmp(root_str(e, "cluster_id"), cid)) return true;
	return false;
}

void root_orch_sweep(struct root_orch *o, const char *cid)
{
	json_t *all = NULL, *doc;
	size_t i;

	if (root_store_list(o->store, "services", NULL, NULL, &all))
		return;
	json_array_foreach(all, i, doc) if (!cid || has_instance_in(doc, cid))
	    reconcile_doc(o, doc);
	json_decref(all);
}

void root_orch_sync_cluster(struct root_orch *o, const char *cid)
{
	json_t *all = NULL, *doc, *e;
	size_t i, k, n = 0;

	if (root_store_list(o->store, "services", NULL, NULL, &all))
		return;
	json_array_foreach(all, i, doc)
	    json_array_foreach(json_object_get(doc, "instance_list"), k, e)
	{
		const char *st = root_str(e, "status");

		/* not FAILED ones: their node restarts them or their cluster
		 * places them again (a deploy would place a second copy
		 * meanwhile); the grace timer watches them */
		if (strcmp(root_str(e, "cluster_id"), cid) ||
		    !(root_status_live(st) || !strcmp(st, "CLUSTER_SCHEDULED")))
			continue;
		send_deploy(o, doc, cid, (uint32_t)root_int(e, "instance_number"));
		n++;
	}
	json_decref(all);
	if (n)
		oak_log(INFO, "cluster %s: asked to re-report %zu instances", cid, n);
}

/* ------------------------------------------------------------ state reports */

static void on_state(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_instance_state m = {0};
	struct root_acts acts = {0};
	char id[OAK_ID_LEN], err[256];
	const char *suffix;
	json_t *doc = NULL;
	bool changed, table;

	(void)bus;
	if (oak_topic_parse(topic, "clusters", id, sizeof(id), &suffix))
		return;
	if (oak_msg_instance_state_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	root_cluster_seen(o, id);
	if (root_store_get(o->store, "services", m.service_id, &doc)) {
		json_t *all = NULL;

		/* an instance oak-cluster adopted names its job only */
		if (!root_store_list(o->store, "services", "job_name", m.job_name, &all))
			doc = json_incref(json_array_get(all, 0));
		json_decref(all);
	}
	oak_log(DEBUG, "cluster %s: %s.%u %s on %s%s%s", id, m.job_name, m.instance_number,
		oak_instance_state_name(m.state), m.node_id[0] ? m.node_id : "-",
		m.reason[0] ? ": " : "", m.reason);
	root_apply_state(doc, id, &m, oak_wall_ms(), &acts, &changed, &table);
	if (!doc) {
		for (size_t i = 0; i < acts.n; i++)
			send_undeploy(o, m.service_id, m.job_name, id, (int32_t)acts.v[i].number);
		goto out;
	}
	if (changed) {
		json_t *e = root_entry_find(doc, m.instance_number);

		oak_log_write(m.state == OAK_INSTANCE_FAILED || m.state == OAK_INSTANCE_DEAD
				  ? OAK_LOG_WARN
				  : OAK_LOG_INFO,
			      "instance %s.%u in cluster %s: %s%s%s", m.job_name, m.instance_number,
			      id, root_str(e, "status"), *root_str(e, "status_detail") ? ": " : "",
			      root_str(e, "status_detail"));
		if (root_store_put(o->store, "services", root_str(doc, "microserviceID"), doc))
			goto out;
	}
	run_acts(o, doc, &acts);
	if (table)
		root_tables_push(o, doc);
	/* a failure may need a placement now (another cluster, or again) */
	if (changed && m.state != OAK_INSTANCE_RUNNING)
		reconcile_doc(o, doc);
out:
	root_acts_free(&acts);
	json_decref(doc);
	oak_msg_instance_state_free(&m);
}

/* ------------------------------------------------------------ timer */

static int64_t tick(struct oak_loop *l, void *arg)
{
	struct root_orch *o = arg;
	int64_t now = oak_mono_ms();

	(void)l;
	root_clusters_tick(o);
	root_tables_tick(o);
	if (now - o->last_sweep_mono >= SWEEP_MS) {
		o->last_sweep_mono = now;
		root_orch_sweep(o, NULL);
	}
	return TICK_MS;
}

/* ------------------------------------------------------------ orch.h */

struct root_orch *root_orch_new(struct root_store *store, struct oak_bus *bus,
				struct oak_loop *loop, const struct oak_config *cfg)
{
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} subs[] = {
	    {OAK_T_HELLO, root_on_hello},
	    {OAK_T_STATUS, root_on_status},
	    {OAK_T_INFORMATION, root_on_info},
	    {OAK_T_JOBS_STATE, on_state},
	    {OAK_T_SUBNET_REQUEST, root_on_subnet_request},
	    {OAK_T_TABLEQUERY_REQ, root_on_tablequery},
	    {OAK_T_INTEREST_REMOVE, root_on_interest_remove},
	};
	struct root_orch *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->store = store;
	o->bus = bus;
	o->loop = loop;
	o->cfg = cfg;
	o->cluster_timeout_ms =
	    (int64_t)(cfg_double(cfg, "cluster_timeout", ROOT_CLUSTER_TIMEOUT_S) * 1000.0);
	o->offline_grace_ms =
	    (int64_t)(cfg_double(cfg, "cluster_offline_grace", ROOT_OFFLINE_GRACE_S) * 1000.0);
	o->grace_ms = (int64_t)(cfg_double(cfg, "instance_grace", ROOT_GRACE_S) * 1000.0);
	o->resend_ms = (int64_t)(cfg_double(cfg, "deploy_resend", ROOT_RESEND_S) * 1000.0);
	o->retry_ms = (int64_t)(cfg_double(cfg, "placement_retry", ROOT_RETRY_S) * 1000.0);
	o->started_mono = oak_mono_ms();
	o->last_sweep_mono = o->started_mono;
	o->seq = (uint64_t)oak_wall_ms();
	if (root_clusters_load(o))
		oak_log(WARN, "clusters: none loaded from the store");
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char filter[OAK_TOPIC_LEN];

		snprintf(filter, sizeof(filter), "clusters/+/%s", subs[i].suffix);
		if (oak_bus_subscribe(bus, filter, subs[i].cb, o)) {
			oak_log(ERROR, "subscribe %s failed", filter);
			root_orch_free(o);
			return NULL;
		}
	}
	o->timer = loop ? oak_loop_add_timer(loop, TICK_MS, tick, o) : -1;
	if (loop && o->timer < 0) {
		root_orch_free(o);
		return NULL;
	}
	oak_log(INFO,
		"orchestration: a cluster is lost after %.1f s of silence or %.1f s offline; "
		"instance grace %.1f s",
		(double)o->cluster_timeout_ms / 1000.0, (double)o->offline_grace_ms / 1000.0,
		(double)o->grace_ms / 1000.0);
	return o;
}

void root_orch_free(struct root_orch *o)
{
	if (!o)
		return;
	if (o->loop && o->timer > 0)
		oak_loop_del_timer(o->loop, o->timer);
	for (size_t i = 0; i < o->n_cl; i++)
		json_decref(o->cl[i].interests);
	free(o->cl);
	free(o->tsent);
	free(o);
}

void root_orch_service_changed(struct root_orch *o, const char *service_id)
{
	root_orch_reconcile_id(o, service_id);
}

int root_orch_instance_remove(struct root_orch *o, const char *service_id, uint32_t number)
{
	json_t *doc = NULL, *list, *e = NULL;
	char owner[ROOT_ID_LEN + 16], cid[OAK_ID_LEN];
	bool in_cluster;
	size_t i;
	int rc;

	rc = root_store_get(o->store, "services", service_id, &doc);
	if (rc)
		return rc;
	list = json_object_get(doc, "instance_list");
	json_array_foreach(list, i, e) if (root_int(e, "instance_number") == (int64_t)number) break;
	if (i >= json_array_size(list)) {
		json_decref(doc);
		return ROOT_STORE_NOTFOUND;
	}
	snprintf(cid, sizeof(cid), "%s", root_str(e, "cluster_id"));
	in_cluster = *cid;
	json_array_remove(list, i);
	if (root_int(doc, "replicas") > 0)
		root_set_int(doc, "replicas", root_int(doc, "replicas") - 1);
	snprintf(owner, sizeof(owner), "%s/%u", service_id, number);
	rc = root_store_begin(o->store);
	if (!rc)
		rc = root_store_release_owner(o->store, owner);
	if (!rc)
		rc = root_store_put(o->store, "services", service_id, doc);
	if (!rc)
		rc = root_store_commit(o->store);
	if (rc) {
		root_store_rollback(o->store);
		json_decref(doc);
		return -1;
	}
	if (in_cluster)
		send_undeploy(o, service_id, root_str(doc, "job_name"), cid, (int32_t)number);
	root_tables_push(o, doc);
	reconcile_doc(o, doc);
	json_decref(doc);
	return 0;
}

void root_orch_service_deleted(struct root_orch *o, json_t *doc)
{
	const char *sid = root_str(doc, "microserviceID");
	json_t *e, *list;
	size_t i;

	list = json_incref(json_object_get(doc, "instance_list"));
	json_array_foreach(list, i, e)
	{
		const char *cid = root_str(e, "cluster_id");
		char owner[ROOT_ID_LEN + 16];

		if (*cid)
			send_undeploy(o, sid, root_str(doc, "job_name"), cid,
				      (int32_t)root_int(e, "instance_number"));
		snprintf(owner, sizeof(owner), "%s/%lld", sid,
			 (long long)root_int(e, "instance_number"));
		root_store_release_owner(o->store, owner);
	}
	root_store_release_owner(o->store, sid);
	/* the interested clusters learn it has no instances any more */
	json_object_set_new(doc, "instance_list", json_array());
	root_tables_push(o, doc);
	oak_log(INFO, "service %s (%s) deleted: %zu instances undeployed", sid,
		root_str(doc, "job_name"), json_array_size(list));
	json_object_set_new(doc, "instance_list", list ? list : json_array());
}
