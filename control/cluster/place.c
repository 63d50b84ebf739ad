/* oak-cluster: SLA constraints and node reports as scheduler input. */
#include "place.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(char *notes, size_t nlen, const char *fmt, ...)
{
	size_t l = notes ? strnlen(notes, nlen) : 0;
	va_list ap;

	if (!notes || l + 1 >= nlen)
		return;
	if (l)
		l += (size_t)snprintf(notes + l, nlen - l, "; ");
	if (l >= nlen)
		return;
	va_start(ap, fmt);
	vsnprintf(notes + l, nlen - l, fmt, ap);
	va_end(ap);
}

/* "lat,lon" with lat -90..90, lon -180..180 */
static bool parse_point(const char *s, double *lat, double *lon)
{
	char *end;

	errno = 0;
	*lat = strtod(s, &end);
	if (end == s || errno)
		return false;
	while (*end == ' ')
		end++;
	if (*end != ',')
		return false;
	s = end + 1;
	*lon = strtod(s, &end);
	if (end == s || errno)
		return false;
	while (*end == ' ')
		end++;
	return !*end && *lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180;
}

/* Does a connectivity target_microservice_id name s? The same rules as
 * talks_to() in cluster.c: its service id, its job name, or the trailing
 * dot-separated part of its job name. */
static bool names_service(const char *t, const struct ocl_service *s)
{
	size_t lt = strlen(t), lj = strlen(s->job_name);

	if (!*t)
		return false;
	if (!strcmp(t, s->service_id) || !strcmp(t, s->job_name))
		return true;
	return lt < lj && s->job_name[lj - lt - 1] == '.' && !strcmp(s->job_name + lj - lt, t);
}

static int push_coord(struct ocl_req_buf *b, const struct oak_vivaldi *v)
{
	if (b->n_coords == b->cap_coords) {
		size_t cap = b->cap_coords ? 2 * b->cap_coords : 16;
		struct ocl_coord *p = realloc(b->coords, cap * sizeof(*p));

		if (!p)
			return -1;
		b->coords = p;
		b->cap_coords = cap;
	}
	b->coords[b->n_coords++] = (struct ocl_coord){v->x, v->y, v->height, v->error};
	return 0;
}

/* Coordinates of the nodes holding target's placed, live instances (on
 * active nodes that reported coordinates) appended to b; how many. */
static size_t target_coords(const struct ocl_cluster *c, const char *target, struct ocl_req_buf *b,
			    bool *oom)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_svcs; i++) {
		const struct ocl_service *s = c->svcs[i];

		/* a remote service's instances run in other clusters, on nodes
		 * whose coordinates this cluster does not know */
		if (s->remote || !names_service(target, s))
			continue;
		for (size_t k = 0; k < s->n_inst; k++) {
			const struct ocl_instance *in = &s->inst[k];
			const struct ocl_node *node;

			if (!in->node_id[0] || !ocl_state_live(in->state))
				continue;
			node = ocl_node_find((struct ocl_cluster *)c, in->node_id);
			if (!node || node->state != OCL_NODE_ACTIVE || !node->vivaldi.set)
				continue;
			if (push_coord(b, &node->vivaldi)) {
				*oom = true;
				return n;
			}
			n++;
		}
	}
	return n;
}

int ocl_build_req(const struct ocl_cluster *c, const struct oak_service *svc, struct ocl_req *r,
		  struct ocl_req_buf *b, char *notes, size_t nlen)
{
	size_t off[OCL_MAX_LAT] = {0};
	bool oom = false;

	memset(r, 0, sizeof(*r));
	b->direct[0] = '\0';
	b->n_coords = 0;
	if (notes && nlen)
		notes[0] = '\0';
	r->vcpus = svc->res.vcpus;
	r->memory_mb = svc->res.memory_mb;
	r->gpus = svc->res.vgpus > 0 ? (uint32_t)svc->res.vgpus : 0;
	r->runtime = ocl_runtime_mask(svc->virtualization);
	for (size_t i = 0; i < svc->arch.n; i++)
		r->archs |= ocl_arch_mask(svc->arch.v[i]);
	r->target_node = svc->target_node[0] ? svc->target_node : NULL;
	for (size_t i = 0; i < svc->n_constraints; i++) {
		const struct oak_constraint *k = &svc->constraints[i];
		double lat, lon;

		if (k->type == OAK_CONSTRAINT_DIRECT && k->node[0]) {
			size_t len = strlen(b->direct);

			snprintf(b->direct + len, sizeof(b->direct) - len, "%s%s", len ? ";" : "",
				 k->node);
		} else if (k->type == OAK_CONSTRAINT_GEO && k->geo.set && r->n_geo < OCL_MAX_GEO) {
			r->geo[r->n_geo].lat = k->geo.lat;
			r->geo[r->n_geo].lon = k->geo.lon;
			r->geo[r->n_geo].threshold_km = k->threshold;
			r->n_geo++;
		} else if (k->type == OAK_CONSTRAINT_LATENCY && r->n_lat < OCL_MAX_LAT) {
			if (k->geo.set) {
				lat = k->geo.lat;
				lon = k->geo.lon;
			} else if (!parse_point(k->area, &lat, &lon)) {
				/* Oakestra names areas ("munich") that nothing here
				 * maps to a place: not enforced rather than
				 * rejecting every node forever */
				note(notes, nlen,
				     "latency constraint to area \"%s\" (%g ms) not enforced: no "
				     "location (\"lat,lon\") given",
				     k->area, k->threshold);
				continue;
			}
			memset(&r->lat[r->n_lat], 0, sizeof(r->lat[r->n_lat]));
			r->lat[r->n_lat].threshold_ms = k->threshold;
			r->lat[r->n_lat].lat = lat;
			r->lat[r->n_lat].lon = lon;
			r->n_lat++;
		}
	}
	r->direct = b->direct[0] ? b->direct : NULL;
	for (size_t i = 0; i < svc->n_connectivity; i++) {
		const struct oak_connectivity *con = &svc->connectivity[i];
		const char *t = con->target_microservice_id;
		double thr = -1;
		size_t n;

		for (size_t k = 0; k < con->n_con; k++)
			if (con->con[k].type == OAK_CON_LATENCY && con->con[k].threshold > 0 &&
			    (thr < 0 || con->con[k].threshold < thr))
				thr = con->con[k].threshold;
		if (thr < 0 || r->n_lat >= OCL_MAX_LAT)
			continue;
		off[r->n_lat] = b->n_coords;
		n = target_coords(c, t, b, &oom);
		if (oom)
			return -1;
		if (!n) {
			/*
			 * The target has no placed instance here yet (it is
			 * placed later, elsewhere, or its nodes have not measured
			 * their coordinates): the constraint cannot be checked and
			 * the scheduler would reject every node. Place without it
			 * rather than refuse the service; services deployed
			 * together would otherwise depend on their order.
			 */
			note(notes, nlen,
			     "latency to service %s (%g ms) not enforced: it has no placed "
			     "instance with known coordinates in this cluster",
			     t, thr);
			continue;
		}
		memset(&r->lat[r->n_lat], 0, sizeof(r->lat[r->n_lat]));
		r->lat[r->n_lat].to_service = true;
		r->lat[r->n_lat].threshold_ms = thr;
		r->lat[r->n_lat].n_inst = n;
		r->n_lat++;
	}
	/* b->coords is final only now (it grows by realloc) */
	for (size_t i = 0; i < r->n_lat; i++)
		if (r->lat[i].to_service)
			r->lat[i].inst = b->coords + off[i];
	return 0;
}

void ocl_req_buf_free(struct ocl_req_buf *b)
{
	free(b->coords);
	b->coords = NULL;
	b->n_coords = b->cap_coords = 0;
}

void ocl_cand_from_node(const struct ocl_node *n, const struct ocl_service *s, struct ocl_cand *c)
{
	memset(c, 0, sizeof(*c));
	c->id = n->id;
	c->vcpus_free = n->vcpus_free;
	c->memory_free_mb = n->memory_free_mb;
	c->gpus_free = n->gpus_free;
	for (size_t k = 0; k < n->runtimes.n; k++)
		c->runtimes |= ocl_runtime_mask(n->runtimes.v[k]);
	c->archs = ocl_arch_mask(n->arch);
	c->instances = s ? ocl_instances_on(s, n->id) : 0;
	c->loc_known = n->location.set;
	c->lat = n->location.lat;
	c->lon = n->location.lon;
	c->coord_known = n->vivaldi.set;
	c->coord =
	    (struct ocl_coord){n->vivaldi.x, n->vivaldi.y, n->vivaldi.height, n->vivaldi.error};
}
