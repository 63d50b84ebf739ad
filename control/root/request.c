/* oak-root: a service document as what the clusters are sent (the SLA
 * microservice object, without the root's own fields) and as a placement
 * request over cluster aggregates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"
#include "placement.h"
#include "oak/sla.h"

/* The SLA microservice object of doc: its SLA keys (oak_sla_service_key),
 * without the root's own fields, nor microserviceID (which a submitted SLA
 * leaves empty and the document fills). */
json_t *root_sla_object(json_t *doc)
{
	json_t *o = json_object(), *v;
	const char *k;

	if (!o)
		return NULL;
	json_object_foreach(doc, k, v)
	{
		if (oak_sla_service_key(k) && strcmp(k, "microserviceID") && !json_is_null(v))
			json_object_set(o, k, v);
	}
	return o;
}

int root_service_parse(json_t *doc, struct oak_service *out, char *err, size_t errlen)
{
	json_t *o = root_sla_object(doc);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = oak_service_from_json(o, root_str(doc, "app_name"), root_str(doc, "app_ns"), "service",
				   out, err, errlen);
	json_decref(o);
	return rc;
}

static int parse_point(const char *s, double *lat, double *lon)
{
	char *end;

	if (!s || !*s)
		return -1;
	*lat = strtod(s, &end);
	if (end == s || *end != ',')
		return -1;
	s = end + 1;
	*lon = strtod(s, &end);
	if (end == s || (*end && *end != ' '))
		return -1;
	if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180)
		return -1;
	return 0;
}

static void note(char *notes, size_t nlen, const char *what)
{
	size_t len;

	if (!notes || !nlen)
		return;
	len = strlen(notes);
	snprintf(notes + len, nlen - len, "%s%s", len ? "; " : "", what);
}

void root_req_from_service(const struct oak_service *svc, struct root_req *r, char *notes,
			   size_t nlen)
{
	memset(r, 0, sizeof(*r));
	if (notes && nlen)
		notes[0] = '\0';
	r->vcpus = svc->res.vcpus;
	r->memory_mb = svc->res.memory_mb;
	r->gpus = svc->res.vgpus > 0 ? (uint32_t)svc->res.vgpus : 0;
	r->runtime = root_runtime_mask(svc->virtualization);
	for (size_t i = 0; i < svc->arch.n; i++)
		r->archs |= root_arch_mask(svc->arch.v[i]);
	for (size_t i = 0; i < svc->n_constraints; i++) {
		const struct oak_constraint *k = &svc->constraints[i];
		double lat, lon;
		char what[200];

		switch (k->type) {
		case OAK_CONSTRAINT_DIRECT:
		case OAK_CONSTRAINT_CLUSTERS:
			if (k->cluster[0]) {
				size_t len = strlen(r->direct);

				snprintf(r->direct + len, sizeof(r->direct) - len, "%s%s",
					 len ? ";" : "", k->cluster);
			}
			break;
		case OAK_CONSTRAINT_GEO:
			if (k->geo.set && r->n_geo < ROOT_MAX_GEO) {
				r->geo[r->n_geo].lat = k->geo.lat;
				r->geo[r->n_geo].lon = k->geo.lon;
				r->geo[r->n_geo].threshold_km = k->threshold;
				r->n_geo++;
			}
			break;
		case OAK_CONSTRAINT_LATENCY:
			if (r->n_lat >= ROOT_MAX_LAT)
				break;
			if (k->geo.set) {
				lat = k->geo.lat;
				lon = k->geo.lon;
			} else if (parse_point(k->area, &lat, &lon)) {
				snprintf(
				    what, sizeof(what),
				    "latency constraint to area \"%.64s\" (%g ms) not enforced: "
				    "no location (\"lat,lon\") given",
				    k->area, k->threshold);
				note(notes, nlen, what);
				break;
			}
			r->lat[r->n_lat].lat = lat;
			r->lat[r->n_lat].lon = lon;
			r->lat[r->n_lat].threshold_ms = k->threshold;
			r->n_lat++;
			break;
		default:
			break;
		}
	}
}
