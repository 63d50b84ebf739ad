/* oak-cluster's pure logic: the node registry, aggregation, services,
 * instances, interests and tables; see cluster.h (addresses.c holds the
 * subnet and Instance IP allocators). */
#include "cluster.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 8;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * elem);
	if (!np)
		return -1;
	memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
	*p = np;
	*cap = nc;
	return 0;
}

/* ------------------------------------------------------------ cluster */

void ocl_cluster_init(struct ocl_cluster *c, const char *id)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id ? id : "");
	c->ip_cursor = 0x0a1e0000u;
}

static void service_free(struct ocl_service *s)
{
	if (!s)
		return;
	json_decref(s->spec);
	oak_msg_service_table_free(&s->remote_table);
	free(s->inst);
	free(s->interest);
	free(s);
}

void ocl_cluster_free(struct ocl_cluster *c)
{
	for (size_t i = 0; i < c->n_svcs; i++)
		service_free(c->svcs[i]);
	free(c->svcs);
	free(c->nodes);
	ocl_subnets_free(&c->subnets);
	memset(c, 0, sizeof(*c));
}

struct ocl_node *ocl_node_find(struct ocl_cluster *c, const char *id)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (!strcmp(c->nodes[i].id, id))
			return &c->nodes[i];
	return NULL;
}

struct ocl_node *ocl_node_get(struct ocl_cluster *c, const char *id, int64_t now_ms)
{
	struct ocl_node *n = ocl_node_find(c, id);

	if (n)
		return n;
	if (!id || !*id || strlen(id) >= OAK_ID_LEN ||
	    grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + 1, sizeof(*c->nodes)))
		return NULL;
	n = &c->nodes[c->n_nodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->id_hash = oak_hb_hash(n->id);
	n->state = OCL_NODE_ACTIVE;
	n->last_seen_ms = now_ms;
	return n;
}

void ocl_node_apply_hello(struct ocl_node *n, const struct oak_msg_node_hello *h)
{
	snprintf(n->underlay_ip, sizeof(n->underlay_ip), "%s", h->underlay_ip);
	n->tunnel_port = h->tunnel_port;
	snprintf(n->arch, sizeof(n->arch), "%s", h->architecture);
	n->runtimes = h->virtualization;
	if (!n->have_info) { /* until the first report: the whole node is free */
		n->vcpus = h->vcpus;
		n->vcpus_free = h->vcpus;
		n->memory_mb = h->memory_mb;
		n->memory_free_mb = h->memory_mb;
		n->gpus = h->gpus;
		n->gpus_free = h->gpus;
		n->have_info = true;
	}
	if (h->location.set)
		n->location = h->location;
	if (strcmp(n->boot_id, h->boot_id)) { /* a new incarnation */
		snprintf(n->boot_id, sizeof(n->boot_id), "%s", h->boot_id);
		n->boot_hash = oak_hb_hash(n->boot_id);
		n->last_hb_ms = 0;
	}
}

void ocl_node_apply_info(struct ocl_node *n, const struct oak_msg_node_info *m)
{
	n->vcpus = m->vcpus;
	n->vcpus_free = m->vcpus_free;
	n->memory_mb = m->memory_mb;
	n->memory_free_mb = m->memory_free_mb;
	n->gpus = m->gpus;
	n->gpus_free = m->gpus_free;
	if (m->architecture[0])
		snprintf(n->arch, sizeof(n->arch), "%s", m->architecture);
	if (m->virtualization.n)
		n->runtimes = m->virtualization;
	if (m->location.set)
		n->location = m->location;
	n->vivaldi = m->vivaldi; /* the latest report's, unknown when it has none */
	n->have_info = true;
}

bool ocl_node_seen(struct ocl_node *n, int64_t now_ms)
{
	bool back = n->state == OCL_NODE_LOST;

	n->state = OCL_NODE_ACTIVE;
	n->confirmed = true;
	if (now_ms > n->last_seen_ms)
		n->last_seen_ms = now_ms;
	if (back)
		n->last_hb_ms = 0;
	return back;
}

struct ocl_node *ocl_node_by_hb(struct ocl_cluster *c, const struct oak_hb *hb)
{
	size_t l = strlen(hb->id);

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct ocl_node *n = &c->nodes[i];

		if (n->id_hash != hb->id_hash || strncmp(n->id, hb->id, l) ||
		    (!hb->truncated && n->id[l]))
			continue;
		if (n->boot_id[0] && n->boot_hash != hb->boot_hash)
			return NULL; /* an earlier (or a not yet announced) incarnation */
		return n;
	}
	return NULL;
}

bool ocl_node_heartbeat(struct ocl_node *n, int64_t now_ms, uint32_t seq)
{
	if (n->state != OCL_NODE_ACTIVE)
		return false;
	n->hb_seq = seq;
	if (now_ms > n->last_hb_ms)
		n->last_hb_ms = now_ms;
	return true;
}

size_t ocl_nodes_expire(struct ocl_cluster *c, int64_t now_ms, int64_t timeout_ms,
			char (*lost)[OAK_ID_LEN], size_t max)
{
	int64_t rto = c->report_timeout_ms > 0 ? c->report_timeout_ms : timeout_ms;
	size_t k = 0;

	for (size_t i = 0; i < c->n_nodes; i++) {
		struct ocl_node *n = &c->nodes[i];
		bool silent = n->last_hb_ms ? now_ms - n->last_hb_ms > timeout_ms
					    : now_ms - n->last_seen_ms > rto;

		if (n->state != OCL_NODE_ACTIVE || !silent || now_ms < n->busy_until_ms)
			continue;
		if (k >= max)
			break; /* the rest on the next call */
		n->state = OCL_NODE_LOST;
		snprintf(lost[k++], OAK_ID_LEN, "%s", n->id);
	}
	return k;
}

size_t ocl_nodes_active(const struct ocl_cluster *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n_nodes; i++)
		k += c->nodes[i].state == OCL_NODE_ACTIVE;
	return k;
}

static void names_union(struct oak_names *u, const char *name)
{
	if (!name || !*name)
		return;
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->v[i], name))
			return;
	if (u->n < OAK_NAMES_MAX)
		snprintf(u->v[u->n++], OAK_RUNTIME_LEN, "%s", name);
}

void ocl_aggregate(const struct ocl_cluster *c, struct oak_msg_cluster_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->cluster_id, sizeof(out->cluster_id), "%s", c->id);
	out->location = c->location;
	out->radius_km = c->radius_km;
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct ocl_node *n = &c->nodes[i];

		if (n->state != OCL_NODE_ACTIVE || !n->have_info)
			continue;
		out->active_nodes++;
		out->vcpus_total += n->vcpus;
		out->vcpus_free += n->vcpus_free < n->vcpus ? n->vcpus_free : n->vcpus;
		out->memory_total_mb += n->memory_mb;
		out->memory_free_mb +=
		    n->memory_free_mb < n->memory_mb ? n->memory_free_mb : n->memory_mb;
		out->gpus_total += n->gpus;
		out->gpus_free += n->gpus_free < n->gpus ? n->gpus_free : n->gpus;
		for (size_t k = 0; k < n->runtimes.n; k++)
			names_union(&out->virtualization, n->runtimes.v[k]);
		names_union(&out->arch, n->arch);
	}
}

static bool names_same(const struct oak_names *a, const struct oak_names *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		bool f = false;

		for (size_t j = 0; j < b->n && !f; j++)
			f = !strcmp(a->v[i], b->v[j]);
		if (!f)
			return false;
	}
	return true;
}

bool ocl_info_significant(const struct oak_msg_cluster_info *p,
			  const struct oak_msg_cluster_info *n)
{
	double cpu_tot = fmax(p->vcpus_total, n->vcpus_total);
	double mem_tot = (double)(p->memory_total_mb > n->memory_total_mb ? p->memory_total_mb
									  : n->memory_total_mb);

	if (p->active_nodes != n->active_nodes || p->gpus_total != n->gpus_total ||
	    p->gpus_free != n->gpus_free || !names_same(&p->virtualization, &n->virtualization) ||
	    !names_same(&p->arch, &n->arch))
		return true;
	if (cpu_tot > 0 && fabs(p->vcpus_free - n->vcpus_free) >= 0.1 * cpu_tot)
		return true;
	if (mem_tot > 0 && fabs((double)(p->memory_free_mb - n->memory_free_mb)) >= 0.1 * mem_tot)
		return true;
	return false;
}

/* ------------------------------------------------------------ services */

struct ocl_service *ocl_service_find(struct ocl_cluster *c, const char *job_name)
{
	for (size_t i = 0; i < c->n_svcs; i++)
		if (!strcmp(c->svcs[i]->job_name, job_name))
			return c->svcs[i];
	return NULL;
}

struct ocl_service *ocl_service_get(struct ocl_cluster *c, const char *job_name)
{
	struct ocl_service *s = ocl_service_find(c, job_name);

	if (s)
		return s;
	if (!job_name || !*job_name || strlen(job_name) >= OAK_JOB_NAME_LEN ||
	    grow((void **)&c->svcs, &c->cap_svcs, c->n_svcs + 1, sizeof(*c->svcs)))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->job_name, sizeof(s->job_name), "%s", job_name);
	c->svcs[c->n_svcs++] = s;
	return s;
}

void ocl_service_remove(struct ocl_cluster *c, struct ocl_service *s)
{
	for (size_t i = 0; i < c->n_svcs; i++)
		if (c->svcs[i] == s) {
			c->svcs[i] = c->svcs[--c->n_svcs];
			service_free(s);
			return;
		}
}

struct ocl_service *ocl_service_by_ip(struct ocl_cluster *c, const char *ip, bool *by_instance)
{
	if (by_instance)
		*by_instance = false;
	if (!ip || !*ip)
		return NULL;
	for (size_t i = 0; i < c->n_svcs; i++) {
		struct ocl_service *s = c->svcs[i];

		if (!strcmp(s->rr_ip, ip) || !strcmp(s->closest_ip, ip) ||
		    !strcmp(s->rr_ip_v6, ip) || !strcmp(s->closest_ip_v6, ip))
			return s;
	}
	for (size_t i = 0; i < c->n_svcs; i++) {
		struct ocl_service *s = c->svcs[i];

		for (size_t k = 0; k < s->n_inst; k++)
			if (!strcmp(s->inst[k].instance_ip, ip)) {
				if (by_instance)
					*by_instance = true;
				return s;
			}
		for (size_t k = 0; k < s->remote_table.n_instances; k++)
			if (!strcmp(s->remote_table.instances[k].instance_ip, ip)) {
				if (by_instance)
					*by_instance = true;
				return s;
			}
	}
	return NULL;
}

struct ocl_instance *ocl_instance_find(struct ocl_service *s, uint32_t number)
{
	for (size_t i = 0; i < s->n_inst; i++)
		if (s->inst[i].number == number)
			return &s->inst[i];
	return NULL;
}

struct ocl_instance *ocl_instance_add(struct ocl_service *s, uint32_t number)
{
	struct ocl_instance *in = ocl_instance_find(s, number);

	if (in)
		return in;
	if (grow((void **)&s->inst, &s->cap_inst, s->n_inst + 1, sizeof(*s->inst)))
		return NULL;
	in = &s->inst[s->n_inst++];
	memset(in, 0, sizeof(*in));
	in->number = number;
	in->state = OAK_INSTANCE_CREATING;
	return in;
}

void ocl_instance_remove(struct ocl_service *s, uint32_t number)
{
	for (size_t i = 0; i < s->n_inst; i++)
		if (s->inst[i].number == number) {
			memmove(&s->inst[i], &s->inst[i + 1],
				(s->n_inst - i - 1) * sizeof(*s->inst));
			s->n_inst--;
			return;
		}
}

uint32_t ocl_instance_next_number(const struct ocl_service *s)
{
	for (uint32_t k = 0;; k++) {
		bool used = false;

		for (size_t i = 0; i < s->n_inst && !used; i++)
			used = s->inst[i].number == k;
		if (!used)
			return k;
	}
}

bool ocl_state_live(enum oak_instance_state st)
{
	return st == OAK_INSTANCE_CREATING || st == OAK_INSTANCE_CREATED ||
	       st == OAK_INSTANCE_RUNNING;
}

uint32_t ocl_instances_on(const struct ocl_service *s, const char *node_id)
{
	uint32_t k = 0;

	for (size_t i = 0; i < s->n_inst; i++)
		k += ocl_state_live(s->inst[i].state) && !strcmp(s->inst[i].node_id, node_id);
	return k;
}

/* ------------------------------------------------------------ interests */

void ocl_interest_add(struct ocl_service *s, const char *node_id)
{
	if (ocl_interest_has(s, node_id) ||
	    grow((void **)&s->interest, &s->cap_interest, s->n_interest + 1, sizeof(*s->interest)))
		return;
	snprintf(s->interest[s->n_interest++], OAK_ID_LEN, "%s", node_id);
}

bool ocl_interest_remove(struct ocl_service *s, const char *node_id)
{
	for (size_t i = 0; i < s->n_interest; i++)
		if (!strcmp(s->interest[i], node_id)) {
			memmove(s->interest[i], s->interest[i + 1],
				(s->n_interest - i - 1) * sizeof(*s->interest));
			s->n_interest--;
			return true;
		}
	return false;
}

bool ocl_interest_has(const struct ocl_service *s, const char *node_id)
{
	for (size_t i = 0; i < s->n_interest; i++)
		if (!strcmp(s->interest[i], node_id))
			return true;
	return false;
}

void ocl_interest_drop_node(struct ocl_cluster *c, const char *node_id)
{
	for (size_t i = 0; i < c->n_svcs; i++)
		ocl_interest_remove(c->svcs[i], node_id);
}

/* does a's SLA name b as a connectivity target? */
static bool talks_to(const struct ocl_service *a, const struct ocl_service *b)
{
	json_t *con = a->spec ? json_object_get(a->spec, "connectivity") : NULL, *e;
	size_t idx;

	json_array_foreach(con, idx, e)
	{
		const char *t = json_string_value(json_object_get(e, "target_microservice_id"));

		if (t && *t &&
		    (!strcmp(t, b->service_id) || !strcmp(t, b->job_name) ||
		     (strlen(t) < strlen(b->job_name) && strstr(b->job_name, t) &&
		      b->job_name[strlen(b->job_name) - strlen(t) - 1] == '.' &&
		      !strcmp(b->job_name + strlen(b->job_name) - strlen(t), t))))
			return true;
	}
	return false;
}

bool ocl_interested_any(const struct ocl_cluster *c, const struct ocl_service *s)
{
	if (s->n_interest)
		return true;
	for (size_t k = 0; k < s->n_inst; k++)
		if (s->inst[k].node_id[0] && ocl_state_live(s->inst[k].state))
			return true;
	for (size_t i = 0; i < c->n_svcs; i++) {
		const struct ocl_service *o = c->svcs[i];

		if (o == s || !talks_to(o, s))
			continue;
		for (size_t k = 0; k < o->n_inst; k++)
			if (o->inst[k].node_id[0] && ocl_state_live(o->inst[k].state))
				return true;
	}
	return false;
}

/* ------------------------------------------------------------ tables */

int ocl_service_table(const struct ocl_cluster *c, const struct ocl_service *s,
		      const char *query_ip, struct oak_msg_service_table *t)
{
	size_t k = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->job_name, sizeof(t->job_name), "%s", s->job_name);
	snprintf(t->service_id, sizeof(t->service_id), "%s", s->service_id);
	snprintf(t->query_ip, sizeof(t->query_ip), "%s", query_ip ? query_ip : "");
	t->found = true;
	snprintf(t->rr_ip, sizeof(t->rr_ip), "%s", s->rr_ip);
	snprintf(t->closest_ip, sizeof(t->closest_ip), "%s", s->closest_ip);
	snprintf(t->rr_ip_v6, sizeof(t->rr_ip_v6), "%s", s->rr_ip_v6);
	snprintf(t->closest_ip_v6, sizeof(t->closest_ip_v6), "%s", s->closest_ip_v6);
	if (s->remote) {
		const struct oak_msg_service_table *r = &s->remote_table;

		t->instances = calloc(r->n_instances ? r->n_instances : 1, sizeof(*t->instances));
		if (!t->instances)
			return -1;
		memcpy(t->instances, r->instances, r->n_instances * sizeof(*t->instances));
		t->n_instances = r->n_instances;
		return 0;
	}
	t->instances = calloc(s->n_inst + s->remote_table.n_instances + 1, sizeof(*t->instances));
	if (!t->instances)
		return -1;
	for (size_t i = 0; i < s->n_inst; i++) {
		const struct ocl_instance *in = &s->inst[i];
		const struct ocl_node *n = NULL;
		struct oak_table_instance *e = &t->instances[k];

		if (in->state != OAK_INSTANCE_RUNNING || !in->node_id[0])
			continue;
		for (size_t j = 0; j < c->n_nodes; j++)
			if (!strcmp(c->nodes[j].id, in->node_id))
				n = &c->nodes[j];
		if (!n || n->state != OCL_NODE_ACTIVE || !n->underlay_ip[0])
			continue;
		e->instance_number = in->number;
		snprintf(e->instance_ip, sizeof(e->instance_ip), "%s", in->instance_ip);
		snprintf(e->node_id, sizeof(e->node_id), "%s", n->id);
		snprintf(e->node_ip, sizeof(e->node_ip), "%s", n->underlay_ip);
		e->node_port = n->tunnel_port;
		snprintf(e->cluster_id, sizeof(e->cluster_id), "%s", c->id);
		snprintf(e->namespace_ip, sizeof(e->namespace_ip), "%s", in->namespace_ip);
		e->state = in->state;
		k++;
	}
	/* then other clusters' instances as the root last said (ours: from us) */
	for (size_t i = 0; i < s->remote_table.n_instances && k < OAK_MSG_MAX_INSTANCES; i++) {
		const struct oak_table_instance *r = &s->remote_table.instances[i];

		if (r->cluster_id[0] && strcmp(r->cluster_id, c->id))
			t->instances[k++] = *r;
	}
	t->n_instances = k;
	return 0;
}
