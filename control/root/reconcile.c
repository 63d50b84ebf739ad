/* oak-root: desired state (a service's "replicas" and "generation") against
 * its instance_list[], and the clusters' reports into it. Pure: the caller
 * stores the document and sends the actions; the unit tests drive it.
 *
 * An entry's life (statuses as Oakestra's):
 *   REQUESTED -> CLUSTER_SCHEDULED (a deploy sent) -> CREATING/CREATED/
 *   RUNNING as its cluster reports; a negative status with status_detail
 *   when no cluster can take it (tried again every retry_ms).
 * Failures, and who places the instance again:
 *   - its cluster is lost: at once in another cluster (same number, same
 *     Instance IP); the lost cluster gets an undeploy for when it returns;
 *   - FAILED on a node: its cluster restarts it or places it again within
 *     itself; only if it stays FAILED (or without a node) for grace_ms does
 *     the root move it;
 *   - the cluster reports FAILED without a node (nothing fits there):
 *     NO_WORKER_CAPACITY, and at once another cluster;
 *   - DEAD (its node gave up): placed again by its own cluster first (a new
 *     deploy there), in another cluster when it dies again.
 * A new generation (PUT with a changed spec) is rolled out one instance at
 * a time: a new instance first, an old one goes when it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"
#include "oak/sla.h"

#define MAX_BACKOFF_MS 60000

enum cls {
	C_REQUESTED, /* not placed yet */
	C_ROOT_NEG,  /* no cluster could take it (root-level negative) */
	C_CLUS_NEG,  /* its cluster could not (cluster-level negative) */
	C_SCHEDULED, /* deploy sent, no report yet */
	C_LIVE,	     /* CREATING, CREATED, RUNNING */
	C_FAILED,
	C_DEAD,
	C_DONE, /* COMPLETED */
	C_OTHER,
};

static enum cls classify(const char *st)
{
	static const char *const root_neg[] = {"NoActiveClusterWithCapacity",
					       "TargetClusterNotFound", "TargetClusterNotActive",
					       "TargetClusterNoCapacity"};

	if (!strcmp(st, "REQUESTED") || !*st)
		return C_REQUESTED;
	for (size_t i = 0; i < sizeof(root_neg) / sizeof(root_neg[0]); i++)
		if (!strcmp(st, root_neg[i]))
			return C_ROOT_NEG;
	if (!strcmp(st, "NO_WORKER_CAPACITY") || !strcmp(st, "NO_QUALIFIED_WORKER_FOUND"))
		return C_CLUS_NEG;
	if (!strcmp(st, "CLUSTER_SCHEDULED") || !strcmp(st, "NODE_SCHEDULED"))
		return C_SCHEDULED;
	if (root_status_live(st))
		return C_LIVE;
	if (!strcmp(st, "FAILED"))
		return C_FAILED;
	if (!strcmp(st, "DEAD"))
		return C_DEAD;
	if (!strcmp(st, "COMPLETED"))
		return C_DONE;
	return C_OTHER;
}

bool root_status_live(const char *st)
{
	return !strcmp(st, "CREATING") || !strcmp(st, "CREATED") || !strcmp(st, "RUNNING");
}

/* ------------------------------------------------------------ json helpers */

const char *root_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int64_t root_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

bool root_set_str(json_t *o, const char *key, const char *v)
{
	json_t *cur = json_object_get(o, key);

	if (json_is_string(cur) && !strcmp(json_string_value(cur), v))
		return false;
	json_object_set_new(o, key, json_string(v));
	return true;
}

bool root_set_int(json_t *o, const char *key, int64_t v)
{
	json_t *cur = json_object_get(o, key);

	if (json_is_integer(cur) && json_integer_value(cur) == v)
		return false;
	json_object_set_new(o, key, json_integer(v));
	return true;
}

json_t *root_entry_find(json_t *doc, uint32_t number)
{
	json_t *list = json_object_get(doc, "instance_list"), *e;
	size_t i;

	json_array_foreach(list, i, e) if (json_is_object(e) && root_int(e, "instance_number") ==
								    (int64_t)number) return e;
	return NULL;
}

void root_acts_free(struct root_acts *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void act(struct root_acts *a, enum root_act_kind kind, const char *cid, uint32_t number)
{
	if (!cid || !*cid)
		return;
	for (size_t i = 0; i < a->n; i++) /* one of each is enough */
		if (a->v[i].kind == kind && a->v[i].number == number &&
		    !strcmp(a->v[i].cluster_id, cid))
			return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct root_act *v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n].kind = kind;
	snprintf(a->v[a->n].cluster_id, sizeof(a->v[a->n].cluster_id), "%s", cid);
	a->v[a->n].number = number;
	a->n++;
}

static bool excluded(json_t *e, const char *cid)
{
	json_t *x = json_object_get(e, "excluded_clusters"), *v;
	size_t i;

	json_array_foreach(x, i, v) if (json_is_string(v) &&
					!strcmp(json_string_value(v), cid)) return true;
	return false;
}

static void exclude(json_t *e, const char *cid)
{
	json_t *x = json_object_get(e, "excluded_clusters");

	if (!cid || !*cid || excluded(e, cid))
		return;
	if (!json_is_array(x)) {
		x = json_array();
		json_object_set_new(e, "excluded_clusters", x);
	}
	json_array_append_new(x, json_string(cid));
}

static const struct root_cand *cand_find(const struct root_rec_ctx *c, const char *cid)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->cands[i].id, cid))
			return &c->cands[i];
	return NULL;
}

static void owner_of(char *buf, size_t len, json_t *doc, uint32_t number)
{
	snprintf(buf, len, "%s/%u", root_str(doc, "microserviceID"), number);
}

/* ------------------------------------------------------------ one entry */

static void clear_placement(json_t *e)
{
	root_set_str(e, "cluster_id", "");
	root_set_str(e, "cluster_location", "");
	root_set_str(e, "worker_id", "");
	root_set_str(e, "namespace_ip", "");
	root_set_str(e, "host_ip", "");
	root_set_str(e, "publicip", "");
}

/* The instance leaves its cluster: an undeploy there, and it is to be
 * placed (elsewhere: the cluster is excluded for this placement). */
static void leave(json_t *e, struct root_acts *acts, const char *why, bool exclude_it)
{
	char cid[OAK_ID_LEN];

	snprintf(cid, sizeof(cid), "%s", root_str(e, "cluster_id"));
	act(acts, ROOT_ACT_UNDEPLOY, cid, (uint32_t)root_int(e, "instance_number"));
	if (exclude_it)
		exclude(e, cid);
	clear_placement(e);
	root_set_str(e, "status", "REQUESTED");
	root_set_str(e, "status_detail", why);
}

/* Places entry e (REQUESTED or negative). counts[i]: instances of this
 * service already in cands[i]. */
static bool place(json_t *e, const struct root_rec_ctx *c, const struct root_req *req,
		  uint32_t *counts, struct root_acts *acts)
{
	struct root_cand *k = calloc(c->n ? c->n : 1, sizeof(*k));
	char status[ROOT_STATUS_LEN], detail[ROOT_DETAIL_LEN], msg[ROOT_DETAIL_LEN + 320];
	uint32_t number = (uint32_t)root_int(e, "instance_number");
	long i;

	if (!k)
		return false;
	for (size_t j = 0; j < c->n; j++) {
		k[j] = c->cands[j];
		k[j].instances = counts[j];
		k[j].excluded = excluded(e, k[j].id);
	}
	i = root_place(req, k, c->n, c->seed + number, status, detail, sizeof(detail));
	free(k);
	if (i < 0) {
		const char *before = root_str(e, "status_detail");

		/* keep why it had to move, say why it cannot be placed */
		if (strstr(before, "; not placed: ") || !*before ||
		    classify(root_str(e, "status")) == C_ROOT_NEG)
			snprintf(msg, sizeof(msg), "%s", detail);
		else
			snprintf(msg, sizeof(msg), "%.290s; not placed: %s", before, detail);
		root_set_str(e, "status", status);
		root_set_str(e, "status_detail", msg);
		root_set_int(e, "retry_at", c->now_ms + c->retry_ms);
		root_set_int(e, "updated_at", c->now_ms);
		return true;
	}
	{
		const struct root_cand *t = &c->cands[i];
		char loc[64] = "";

		if (t->loc_known)
			snprintf(loc, sizeof(loc), "%g,%g", t->lat, t->lon);
		root_set_str(e, "cluster_id", t->id);
		root_set_str(e, "cluster_location", loc);
	}
	counts[i]++;
	root_set_str(e, "worker_id", "");
	root_set_str(e, "namespace_ip", "");
	root_set_str(e, "host_ip", "");
	root_set_str(e, "status", "CLUSTER_SCHEDULED");
	root_set_int(e, "deployed_at", c->now_ms);
	root_set_int(e, "updated_at", c->now_ms);
	root_set_int(e, "resends", 0);
	act(acts, ROOT_ACT_DEPLOY, c->cands[i].id, number);
	return true;
}

/* Timers and failures of one placed entry. Returns true when it needs
 * placing (again); *drop when it should go instead (an old generation). */
static bool step(json_t *e, const struct root_rec_ctx *c, int64_t gen, struct root_acts *acts,
		 bool *drop)
{
	const char *st = root_str(e, "status"), *cid = root_str(e, "cluster_id");
	const struct root_cand *k = *cid ? cand_find(c, cid) : NULL;
	enum cls cl = classify(st);
	int64_t now = c->now_ms, since = now - root_int(e, "updated_at");
	bool old = root_int(e, "generation") < gen;
	char why[ROOT_DETAIL_LEN];

	*drop = false;
	switch (cl) {
	case C_REQUESTED:
		return true;
	case C_ROOT_NEG:
		if (now < root_int(e, "retry_at"))
			return false;
		json_object_del(e, "excluded_clusters"); /* every cluster gets another chance */
		return true;
	case C_CLUS_NEG:
		return true;
	case C_DONE:
	case C_OTHER:
		return false;
	default:
		break;
	}
	/* placed in cluster cid */
	if (!*cid || !k || k->lost) {
		snprintf(why, sizeof(why), "cluster %s lost", *cid ? cid : "(none)");
		if (old) {
			*drop = true;
			return false;
		}
		leave(e, acts, why, true);
		return true;
	}
	switch (cl) {
	case C_SCHEDULED:
		if (now - root_int(e, "deployed_at") >= c->resend_ms && k->active) {
			/* the deploy or its report was lost: again (the cluster
			 * de-duplicates by instance number and re-reports) */
			root_set_int(e, "deployed_at", now);
			root_set_int(e, "resends", root_int(e, "resends") + 1);
			act(acts, ROOT_ACT_DEPLOY, cid, (uint32_t)root_int(e, "instance_number"));
		}
		return false;
	case C_LIVE:
		if (!strcmp(st, "CREATING") && !*root_str(e, "worker_id") && since >= c->grace_ms) {
			/* the cluster holds it without a node */
			if (old) {
				*drop = true;
				return false;
			}
			snprintf(why, sizeof(why), "cluster %s found no node for %llds", cid,
				 (long long)(since / 1000));
			leave(e, acts, why, true);
			return true;
		}
		return false;
	case C_FAILED:
		if (since < c->grace_ms)
			return false; /* its node restarts it, or its cluster places it again */
		if (old) {
			*drop = true;
			return false;
		}
		snprintf(why, sizeof(why), "FAILED in cluster %s for %llds (%.200s)", cid,
			 (long long)(since / 1000), root_str(e, "status_detail"));
		leave(e, acts, why, true);
		return true;
	case C_DEAD: {
		int64_t n = root_int(e, "redeploys"), wait;

		if (old) {
			*drop = true;
			return false;
		}
		if (now - root_int(e, "running_at") > MAX_BACKOFF_MS && root_int(e, "running_at"))
			n = 0; /* it ran long enough: a new failure, not a crash loop */
		wait = n ? (int64_t)1000 << (n > 6 ? 6 : n - 1) : 0;
		if (wait > MAX_BACKOFF_MS)
			wait = MAX_BACKOFF_MS;
		if (since < wait)
			return false;
		root_set_int(e, "redeploys", n + 1);
		snprintf(why, sizeof(why), "DEAD in cluster %s (%.200s), placed again", cid,
			 root_str(e, "status_detail"));
		if (n == 0 && k->active) {
			/* its own cluster first: a new deploy there */
			root_set_str(e, "status", "REQUESTED");
			root_set_str(e, "status_detail", why);
			root_set_str(e, "worker_id", "");
			root_set_str(e, "namespace_ip", "");
			root_set_str(e, "host_ip", "");
			root_set_str(e, "status", "CLUSTER_SCHEDULED");
			root_set_int(e, "deployed_at", now);
			root_set_int(e, "updated_at", now);
			root_set_int(e, "resends", 0);
			act(acts, ROOT_ACT_DEPLOY, cid, (uint32_t)root_int(e, "instance_number"));
			return false;
		}
		leave(e, acts, why, true);
		return true;
	}
	default:
		return false;
	}
}

/* ------------------------------------------------------------ the service */

static bool counts_as_running(const char *st)
{
	return !strcmp(st, "RUNNING") || !strcmp(st, "COMPLETED");
}

static bool in_cluster(const char *st)
{
	enum cls cl = classify(st);

	return cl == C_SCHEDULED || cl == C_LIVE || cl == C_FAILED;
}

static uint32_t next_number(json_t *list)
{
	for (uint32_t n = 0;; n++) {
		json_t *e;
		size_t i;
		bool used = false;

		json_array_foreach(list, i, e) used |= root_int(e, "instance_number") == (int64_t)n;
		if (!used)
			return n;
	}
}

/* the Instance IP the SLA asks for instance number n (addresses.instances[]) */
static const char *wanted_ip(const struct oak_service *svc, uint32_t n)
{
	for (size_t i = 0; i < svc->addresses.n_instances; i++)
		if (svc->addresses.instances[i].instance_number == (int32_t)n)
			return svc->addresses.instances[i].instance_ip;
	return "";
}

static json_t *create(json_t *doc, json_t *list, const struct oak_service *svc,
		      const struct root_rec_ctx *c, int64_t gen)
{
	uint32_t n = next_number(list);
	char owner[ROOT_ID_LEN + 16], ip[16];
	json_t *e;

	owner_of(owner, sizeof(owner), doc, n);
	if (c->alloc_ip(c->arg, owner, wanted_ip(svc, n), ip))
		return NULL;
	e = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:f,s:f,s:s,s:s,s:I}",
		      "instance_number", (json_int_t)n, "instance_ip", ip, "generation",
		      (json_int_t)gen, "status", "REQUESTED", "status_detail", "", "cluster_id", "",
		      "cluster_location", "", "worker_id", "", "publicip", "", "host_ip", "",
		      "namespace_ip", "", "host_port", (json_int_t)0, "cpu_percent", 0.0,
		      "memory_percent", 0.0, "logs", "", "instance_ip_v6", "", "updated_at",
		      (json_int_t)c->now_ms);
	if (e)
		json_array_append_new(list, e);
	return e;
}

/* removes entry idx: an undeploy where it runs, its Instance IP released */
static void drop_entry(json_t *doc, json_t *list, size_t idx, const struct root_rec_ctx *c,
		       struct root_acts *acts)
{
	json_t *e = json_array_get(list, idx);
	uint32_t n = (uint32_t)root_int(e, "instance_number");
	char owner[ROOT_ID_LEN + 16];

	if (in_cluster(root_str(e, "status")) || classify(root_str(e, "status")) == C_DEAD)
		act(acts, ROOT_ACT_UNDEPLOY, root_str(e, "cluster_id"), n);
	owner_of(owner, sizeof(owner), doc, n);
	c->release_ip(c->arg, owner);
	json_array_remove(list, idx);
}

/* the entry to remove among those of (or not of) generation gen: not
 * running first, then the highest number */
static long victim(json_t *list, int64_t gen, bool of_gen)
{
	long best = -1;
	int best_rank = -1;
	int64_t best_n = -1;
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		int rank;
		int64_t n = root_int(e, "instance_number");

		if ((root_int(e, "generation") == gen) != of_gen)
			continue;
		rank = counts_as_running(root_str(e, "status")) ? 0 : 1;
		if (rank > best_rank || (rank == best_rank && n > best_n)) {
			best = (long)i;
			best_rank = rank;
			best_n = n;
		}
	}
	return best;
}

static void summarize(json_t *doc, json_t *list, int64_t replicas)
{
	int64_t running = 0;
	const char *first = NULL;
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		const char *st = root_str(e, "status");

		if (counts_as_running(st))
			running++;
		else if (!first)
			first = st;
	}
	if (!replicas && !json_array_size(list)) {
		if (strcmp(root_str(doc, "status"), "REGISTERED"))
			root_set_str(doc, "status", "UNDEPLOYED");
		return;
	}
	root_set_str(doc, "status",
		     running >= replicas && replicas ? "RUNNING"
		     : first			     ? first
						     : "UNDEPLOYED");
}

int root_reconcile(json_t *doc, const struct root_rec_ctx *c, struct root_acts *acts, bool *changed,
		   char *err, size_t errlen)
{
	struct oak_service svc;
	struct root_req req;
	json_t *list = json_object_get(doc, "instance_list"), *before, *e;
	int64_t replicas = root_int(doc, "replicas"), gen = root_int(doc, "generation");
	uint32_t *counts;
	bool *placeme = NULL;
	size_t i, n_new = 0, n_old = 0, n_new_running = 0;
	bool all_new_running = true;
	char notes[512];

	*changed = false;
	if (root_service_parse(doc, &svc, err, errlen))
		return -1;
	if (gen < 1)
		gen = 1;
	if (replicas < 0)
		replicas = 0;
	root_req_from_service(&svc, &req, notes, sizeof(notes));
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(doc, "instance_list", list);
	}
	before = json_deep_copy(doc);
	counts = calloc(c->n ? c->n : 1, sizeof(*counts));
	if (!counts || !before) {
		snprintf(err, errlen, "out of memory");
		free(counts);
		json_decref(before);
		oak_service_free(&svc);
		return -1;
	}
	/* failures and timers of every entry; old entries that would have to
	 * move are dropped instead (new ones replace them) */
	for (i = 0; i < json_array_size(list);) {
		bool drop;

		e = json_array_get(list, i);
		if (!json_is_object(e)) {
			json_array_remove(list, i);
			continue;
		}
		step(e, c, gen, acts, &drop);
		if (drop) {
			drop_entry(doc, list, i, c, acts);
			continue;
		}
		i++;
	}
	/* replicas and generations */
	json_array_foreach(list, i, e)
	{
		if (root_int(e, "generation") == gen) {
			n_new++;
			if (counts_as_running(root_str(e, "status")))
				n_new_running++;
			else
				all_new_running = false;
		} else {
			n_old++;
		}
	}
	if (!n_old) {
		while ((int64_t)n_new < replicas && create(doc, list, &svc, c, gen))
			n_new++;
	} else if ((int64_t)n_new < replicas && all_new_running) {
		if (create(doc, list, &svc, c, gen))
			n_new++; /* one at a time */
	}
	while (n_old && (int64_t)(n_old + n_new_running) > replicas) {
		long v = victim(list, gen, false);

		if (v < 0)
			break;
		drop_entry(doc, list, (size_t)v, c, acts);
		n_old--;
	}
	while ((int64_t)n_new > replicas) {
		long v = victim(list, gen, true);

		if (v < 0)
			break;
		drop_entry(doc, list, (size_t)v, c, acts);
		n_new--;
	}
	/* place what needs a cluster, spreading over the clusters */
	json_array_foreach(list, i, e)
	{
		const char *cid = root_str(e, "cluster_id");

		if (!*cid || !in_cluster(root_str(e, "status")))
			continue;
		for (size_t k = 0; k < c->n; k++)
			if (!strcmp(c->cands[k].id, cid))
				counts[k]++;
	}
	placeme = calloc(json_array_size(list) + 1, sizeof(*placeme));
	json_array_foreach(list, i, e)
	{
		enum cls cl = classify(root_str(e, "status"));

		if (cl == C_REQUESTED || cl == C_CLUS_NEG ||
		    (cl == C_ROOT_NEG && c->now_ms >= root_int(e, "retry_at")))
			if (placeme)
				placeme[i] = true;
	}
	json_array_foreach(list, i, e) if (placeme && placeme[i])
	{
		if (root_int(e, "generation") < gen)
			root_set_int(e, "generation", gen);
		place(e, c, &req, counts, acts);
	}
	summarize(doc, list, replicas);
	*changed = !json_equal(before, doc);
	json_decref(before);
	free(placeme);
	free(counts);
	oak_service_free(&svc);
	return 0;
}

/* ------------------------------------------------------------ reports */

void root_apply_state(json_t *doc, const char *cid, const struct oak_msg_instance_state *m,
		      int64_t now_ms, struct root_acts *acts, bool *changed, bool *table)
{
	const char *state = oak_instance_state_name(m->state);
	json_t *e = doc ? root_entry_find(doc, m->instance_number) : NULL;
	bool live = m->state == OAK_INSTANCE_CREATING || m->state == OAK_INSTANCE_CREATED ||
		    m->state == OAK_INSTANCE_RUNNING || m->state == OAK_INSTANCE_FAILED ||
		    m->state == OAK_INSTANCE_NODE_SCHEDULED;
	bool was_running, now_running;
	char detail[ROOT_DETAIL_LEN];

	*changed = false;
	*table = false;
	if (!e || strcmp(root_str(e, "cluster_id"), cid) ||
	    (!in_cluster(root_str(e, "status")) && classify(root_str(e, "status")) != C_DEAD)) {
		/* a copy the root does not count here (moved, removed, never
		 * placed here): one copy only */
		if (live)
			act(acts, ROOT_ACT_UNDEPLOY, cid, m->instance_number);
		return;
	}
	if (m->state == OAK_INSTANCE_UNDEPLOYED)
		return; /* the end of an earlier copy in the same cluster */
	was_running = !strcmp(root_str(e, "status"), "RUNNING");
	if (m->state == OAK_INSTANCE_FAILED && !m->node_id[0]) {
		/* the cluster found no node: another cluster, at once */
		snprintf(detail, sizeof(detail), "cluster %s: %s", cid,
			 m->reason[0] ? m->reason : "no node fits");
		exclude(e, cid);
		clear_placement(e);
		*changed |= root_set_str(e, "status", "NO_WORKER_CAPACITY");
		*changed |= root_set_str(e, "status_detail", detail);
		root_set_int(e, "updated_at", now_ms);
		*changed = true;
		*table = was_running;
		return;
	}
	if (strcmp(root_str(e, "status"), state) || strcmp(root_str(e, "worker_id"), m->node_id)) {
		root_set_int(e, "updated_at", now_ms);
		*changed = true;
	}
	*changed |= root_set_str(e, "status", state);
	*changed |=
	    root_set_str(e, "status_detail", m->state == OAK_INSTANCE_RUNNING ? "" : m->reason);
	*changed |= root_set_str(e, "worker_id", m->node_id);
	if (m->namespace_ip[0] || m->state != OAK_INSTANCE_RUNNING)
		*changed |= root_set_str(e, "namespace_ip", m->namespace_ip);
	if (m->node_ip[0]) {
		*changed |= root_set_str(e, "host_ip", m->node_ip);
		*changed |= root_set_int(e, "host_tunnel_port", m->node_port);
	}
	now_running = m->state == OAK_INSTANCE_RUNNING;
	if (now_running && !was_running) {
		root_set_int(e, "running_at", now_ms);
		json_object_del(e, "excluded_clusters");
	}
	*table = was_running != now_running || (now_running && *changed);
	if (*changed)
		summarize(doc, json_object_get(doc, "instance_list"), root_int(doc, "replicas"));
}
