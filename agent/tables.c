// SPDX-License-Identifier: MIT
/*
 * Service tables and interests: the cluster's table of a service (its
 * Service IPs and instances) becomes datapath calls (service backends,
 * tunnel entries for remote instances). A datapath miss asks the cluster
 * for the table of an address; an interest is held while local instances
 * or flows use the service, kept across agent restarts in
 * <state_dir>/interests.json, and dropped after interest_idle unused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include <oak/log.h>

#include "node.h"

static struct oak_interest *interest_find(struct oak_node *n, const char *job)
{
	for (struct oak_interest *i = n->interests; i; i = i->next)
		if (!strcmp(i->job, job))
			return i;
	return NULL;
}

/* does any interest other than skip list this remote Instance IP? */
static bool remote_wanted(struct oak_node *n, uint32_t ip, const struct oak_interest *skip)
{
	for (struct oak_interest *i = n->interests; i; i = i->next) {
		if (i == skip)
			continue;
		for (size_t k = 0; k < i->n_inst; k++)
			if (i->inst[k].inst_ip == ip && strcmp(i->inst[k].node_id, n->id))
				return true;
	}
	return false;
}

/* a remote Instance IP that no table lists any more leaves the datapath */
static void remote_release(struct oak_node *n, uint32_t ip, const struct oak_interest *skip)
{
	if (!instance_by_ip(n, ip) && !remote_wanted(n, ip, skip))
		oak_dp_instance_del(n->dp, ip);
}

static uint32_t svc_id_of(const char *service_id)
{
	return oak_instance_hash(service_id, 0);
}

static void service_set(struct oak_node *n, uint32_t ip, enum oak_policy policy,
			const struct oak_interest *it, const struct oak_svc_backend *b, unsigned nb)
{
	char a[INET_ADDRSTRLEN];
	int err = oak_dp_service_set(n->dp, ip, policy, svc_id_of(it->service_id), b, nb);

	if (err)
		oak_log(WARN, "datapath: service %s: %s", ipstr(ip, a), strerror(-err));
}

/* Program the Service IPs of one interest: the table's live instances and
 * the live local instances of the job; remote ones get tunnel entries. */
void program_service(struct oak_node *n, struct oak_interest *it)
{
	struct oak_svc_backend b[OAK_MAX_BACKENDS];
	unsigned nb = 0;
	char a[INET_ADDRSTRLEN];
	int err;

	if (!n->dp)
		return;
	memset(b, 0, sizeof(b));
	for (struct oak_instance *in = n->insts; in && nb < OAK_MAX_BACKENDS; in = in->next)
		if (!strcmp(in->d.job_name, it->job) && in->state == OAK_INSTANCE_RUNNING)
			b[nb++].inst_ip = ip4(in->d.instance_ip);
	for (size_t k = 0; k < it->n_inst && nb < OAK_MAX_BACKENDS; k++) {
		struct oak_remote *r = &it->inst[k];
		bool dup = false;

		if (!strcmp(r->node_id, n->id) || !instance_state_live(r->state))
			continue; /* local ones: only what really runs here */
		for (unsigned j = 0; j < nb; j++)
			dup |= b[j].inst_ip == r->inst_ip;
		if (dup || instance_by_ip(n, r->inst_ip))
			continue;
		struct oak_inst e = {.node_ip = r->node_ip};

		err = oak_dp_instance_set(n->dp, r->inst_ip, &e);
		if (err)
			oak_log(WARN, "datapath: remote %s: %s", ipstr(r->inst_ip, a),
				strerror(-err));
		b[nb++].inst_ip = r->inst_ip;
	}
	if (it->rr_ip)
		service_set(n, it->rr_ip, OAK_POLICY_ROUND_ROBIN, it, b, nb);
	if (it->closest_ip) {
		fill_latencies(n, it, b, nb);
		service_set(n, it->closest_ip, OAK_POLICY_CLOSEST, it, b, nb);
	}
	oak_log(DEBUG, "datapath: %s has %u backends", it->job, nb);
}

void reprogram_job(struct oak_node *n, const char *job)
{
	struct oak_interest *it = interest_find(n, job);

	if (it)
		program_service(n, it);
}

static void job_topic(const char *job, char *buf, size_t len)
{
	if (oak_topic_job_updates(buf, len, job))
		buf[0] = '\0';
}

static void subscribe_job(struct oak_node *n, const char *job)
{
	char topic[OAK_TOPIC_LEN];

	job_topic(job, topic, sizeof(topic));
	if (topic[0])
		oak_bus_subscribe(n->bus, topic, on_table, n);
}

void send_query(struct oak_node *n, const char *job, uint32_t addr)
{
	struct oak_msg_table_query q = {0};
	char a[INET_ADDRSTRLEN];

	snprintf(q.node_id, sizeof(q.node_id), "%s", n->id);
	if (job)
		snprintf(q.job_name, sizeof(q.job_name), "%s", job);
	if (addr)
		snprintf(q.service_ip, sizeof(q.service_ip), "%s", ipstr(addr, a));
	oak_log(INFO, "table query: %s%s", job ? job : "", addr ? a : "");
	publish_node(n, OAK_T_TABLEQUERY_REQ, oak_msg_table_query_encode(&q), false);
}

/* Interests outlive the agent like the maps they fill: kept in
 * <state_dir>/interests.json so a restarted agent still updates and drops
 * what its predecessor programmed. */
static void interests_path(const struct oak_node *n, char *buf, size_t len)
{
	snprintf(buf, len, "%.512s/interests.json", n->state_dir);
}

static void interests_save(struct oak_node *n)
{
	json_t *arr = json_array();
	char path[600], tmp[610], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	for (struct oak_interest *i = n->interests; i && arr; i = i->next) {
		json_t *insts = json_array();

		for (size_t k = 0; k < i->n_inst && insts; k++)
			json_array_append_new(insts,
					      json_pack("{s:s,s:s,s:s,s:s}", "ip",
							ipstr(i->inst[k].inst_ip, a), "node_ip",
							ipstr(i->inst[k].node_ip, b), "node_id",
							i->inst[k].node_id, "state",
							oak_instance_state_name(i->inst[k].state)));
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:b,s:b,s:o}", "job", i->job,
						     "service_id", i->service_id, "rr_ip",
						     (json_int_t)i->rr_ip, "closest_ip",
						     (json_int_t)i->closest_ip, "have_table",
						     i->have_table, "by_instance", i->by_instance,
						     "instances", insts ? insts : json_array()));
	}
	interests_path(n, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!arr || json_dump_file(arr, tmp, JSON_COMPACT) || rename(tmp, path))
		oak_log(WARN, "interests: cannot save %s", path);
	json_decref(arr);
}

static struct oak_interest *interest_decode(json_t *o)
{
	struct oak_interest *it = calloc(1, sizeof(*it));
	json_t *insts = json_object_get(o, "instances"), *e;
	const char *job = json_string_value(json_object_get(o, "job"));
	size_t k;

	if (!it || !job) {
		free(it);
		return NULL;
	}
	snprintf(it->job, sizeof(it->job), "%s", job);
	snprintf(it->service_id, sizeof(it->service_id), "%s",
		 json_string_value(json_object_get(o, "service_id")) ?: "");
	it->rr_ip = (uint32_t)json_integer_value(json_object_get(o, "rr_ip"));
	it->closest_ip = (uint32_t)json_integer_value(json_object_get(o, "closest_ip"));
	it->have_table = json_is_true(json_object_get(o, "have_table"));
	it->by_instance = json_is_true(json_object_get(o, "by_instance"));
	it->n_inst = json_array_size(insts);
	it->inst = calloc(it->n_inst ? it->n_inst : 1, sizeof(*it->inst));
	if (!it->inst) {
		free(it);
		return NULL;
	}
	json_array_foreach(insts, k, e)
	{
		const char *st = json_string_value(json_object_get(e, "state"));

		it->inst[k].inst_ip = ip4(json_string_value(json_object_get(e, "ip")));
		it->inst[k].node_ip = ip4(json_string_value(json_object_get(e, "node_ip")));
		snprintf(it->inst[k].node_id, sizeof(it->inst[k].node_id), "%s",
			 json_string_value(json_object_get(e, "node_id")) ?: "");
		if (!st || oak_instance_state_parse(st, &it->inst[k].state))
			it->inst[k].state = OAK_INSTANCE_FAILED;
	}
	return it;
}

/* at start: the interests a predecessor held, subscribed to again */
void interests_restore(struct oak_node *n)
{
	char path[600];
	json_t *arr, *o;
	size_t idx;

	interests_path(n, path, sizeof(path));
	arr = json_load_file(path, 0, NULL);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return;
	}
	json_array_foreach(arr, idx, o)
	{
		struct oak_interest *it = interest_decode(o);

		if (!it)
			continue;
		it->last_used_ms = oak_mono_ms();
		it->next = n->interests;
		n->interests = it;
		oak_log(INFO, "interest: %s kept from %s", it->job, path);
	}
	json_decref(arr);
	for (struct oak_interest *it = n->interests; it; it = it->next)
		subscribe_job(n, it->job);
}

struct oak_interest *interest_get(struct oak_node *n, const char *job)
{
	struct oak_interest *it = interest_find(n, job);

	if (it)
		return it;
	it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	snprintf(it->job, sizeof(it->job), "%s", job);
	it->last_used_ms = oak_mono_ms();
	it->next = n->interests;
	n->interests = it;
	subscribe_job(n, job);
	oak_log(INFO, "interest: %s added", job);
	return it;
}

static void interest_drop(struct oak_node *n, struct oak_interest *it)
{
	struct oak_msg_interest m = {0};
	char topic[OAK_TOPIC_LEN];

	for (struct oak_interest **pp = &n->interests; *pp; pp = &(*pp)->next)
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	job_topic(it->job, topic, sizeof(topic));
	if (topic[0])
		oak_bus_unsubscribe(n->bus, topic);
	if (n->dp) {
		if (it->rr_ip)
			oak_dp_service_del(n->dp, it->rr_ip);
		if (it->closest_ip)
			oak_dp_service_del(n->dp, it->closest_ip);
		for (size_t k = 0; k < it->n_inst; k++)
			remote_release(n, it->inst[k].inst_ip, NULL);
	}
	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	snprintf(m.job_name, sizeof(m.job_name), "%s", it->job);
	publish_node(n, OAK_T_INTEREST_REMOVE, oak_msg_interest_encode(&m), false);
	oak_log(INFO, "interest: %s dropped (idle)", it->job);
	free(it->inst);
	free(it);
	interests_save(n);
}

void interests_free(struct oak_node *n)
{
	while (n->interests) {
		struct oak_interest *it = n->interests;

		n->interests = it->next;
		free(it->inst);
		free(it);
	}
}

void on_table(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct oak_node *n = arg;
	struct oak_msg_service_table t = {0};
	struct oak_interest *it;
	struct oak_remote *ni;
	char err[256];
	uint32_t qip;

	if (oak_msg_service_table_decode(p, len, &t, err, sizeof(err))) {
		oak_log(WARN, "%s: bad service table: %s", topic, err);
		return;
	}
	qip = ip4(t.query_ip);
	for (size_t k = 0; k < sizeof(n->asked) / sizeof(n->asked[0]); k++)
		if (qip && n->asked[k].addr == qip)
			n->asked[k].at_ms = 0; /* answered: a later miss may ask again */
	if (!t.found) {
		oak_log(INFO, "table: %s%s unknown to the cluster", t.job_name, t.query_ip);
		goto out;
	}
	it = interest_get(n, t.job_name);
	if (!it)
		goto out;
	ni = calloc(t.n_instances ? t.n_instances : 1, sizeof(*ni));
	if (!ni)
		goto out;
	for (size_t k = 0; k < t.n_instances; k++) {
		ni[k].inst_ip = ip4(t.instances[k].instance_ip);
		ni[k].node_ip = ip4(t.instances[k].node_ip);
		ni[k].state = t.instances[k].state;
		snprintf(ni[k].node_id, sizeof(ni[k].node_id), "%s", t.instances[k].node_id);
	}
	/* remote instances that left the table leave the datapath */
	for (size_t k = 0; n->dp && k < it->n_inst; k++) {
		bool still = false;

		for (size_t j = 0; j < t.n_instances; j++)
			still |= ni[j].inst_ip == it->inst[k].inst_ip &&
				 instance_state_live(ni[j].state);
		if (!still)
			remote_release(n, it->inst[k].inst_ip, it);
	}
	free(it->inst);
	it->inst = ni;
	it->n_inst = t.n_instances;
	it->have_table = true;
	it->last_used_ms = oak_mono_ms();
	snprintf(it->service_id, sizeof(it->service_id), "%s", t.service_id);
	if (t.rr_ip[0])
		it->rr_ip = ip4(t.rr_ip);
	if (t.closest_ip[0])
		it->closest_ip = ip4(t.closest_ip);
	if (qip && qip != it->rr_ip && qip != it->closest_ip)
		for (size_t k = 0; k < it->n_inst; k++)
			it->by_instance |= it->inst[k].inst_ip == qip;
	oak_log(INFO, "table: %s, %zu instances", it->job, it->n_inst);
	program_service(n, it);
	interests_save(n);
out:
	oak_msg_service_table_free(&t);
}

/* The datapath saw a packet to an address it has no entry for: ask the
 * cluster, at most once per address every 3 s. */
void on_miss(void *ctx, uint32_t addr, uint32_t src_inst)
{
	struct oak_node *n = ctx;
	int64_t now = oak_mono_ms();
	size_t slot = 0, sz = sizeof(n->asked) / sizeof(n->asked[0]);
	char a[INET_ADDRSTRLEN];

	for (size_t k = 0; k < sz; k++) {
		if (n->asked[k].addr == addr && now - n->asked[k].at_ms < 3000)
			return;
		if (n->asked[k].at_ms < n->asked[slot].at_ms)
			slot = k;
	}
	n->asked[slot].addr = addr;
	n->asked[slot].at_ms = now;
	oak_log(DEBUG, "datapath: miss for %s", ipstr(addr, a));
	if (node_connected(n))
		send_query(n, NULL, addr);
}

/* Flows in the CT map that use a Service IP recently: mark interests used. */
static void mark_used_interests(struct oak_node *n, int64_t idle_ms)
{
	struct oak_ct_key k, next;
	struct oak_ct_val v;
	struct timespec ts;
	uint64_t now_ns;
	int fd, err, guard = 0;

	if (!n->dp)
		return;
	fd = oak_dp_map_fd(n->dp, OAK_MAP_CT);
	if (fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err && guard < OAK_CT_ENTRIES;
	     err = bpf_map_get_next_key(fd, &k, &next), guard++) {
		k = next;
		if (k.dir != OAK_CT_FORWARD || bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (now_ns - v.last_seen_ns > (uint64_t)idle_ms * 1000000ull)
			continue;
		/* used when its last packet went (bpf_ktime_get_ns is
		 * CLOCK_MONOTONIC too), not when we looked: else a flow seen
		 * just before would keep it for up to twice interest_idle */
		for (struct oak_interest *i = n->interests; i; i = i->next)
			if ((k.daddr == i->rr_ip || k.daddr == i->closest_ip) &&
			    (int64_t)(v.last_seen_ns / 1000000ull) > i->last_used_ms)
				i->last_used_ms = (int64_t)(v.last_seen_ns / 1000000ull);
	}
}

/* every second; every 2 s it drops the interests unused for interest_idle */
void interests_tick(struct oak_node *n)
{
	int64_t now = oak_mono_ms(), idle = oak_config_int(n->cfg, "interest_idle") * 1000;
	struct oak_interest *it, *next;

	if (now - n->last_idle_check_ms < 2000)
		return;
	n->last_idle_check_ms = now;
	mark_used_interests(n, idle);
	for (it = n->interests; it; it = next) {
		bool local = false;

		next = it->next;
		for (struct oak_instance *in = n->insts; in; in = in->next)
			local |= !strcmp(in->d.job_name, it->job);
		if (local || (it->by_instance && it->n_inst))
			it->last_used_ms = now;
		else if (now - it->last_used_ms > idle)
			interest_drop(n, it);
	}
}
