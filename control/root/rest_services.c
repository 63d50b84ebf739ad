/* Services: list, get, update (PUT: a new spec; a changed image, command
 * or resources bumps "generation" and the orchestrator replaces the
 * instances one at a time, the Service IPs stay), delete, and the replica
 * count (POST .../instance: one more, or {"replicas": N}; DELETE
 * .../instance/<n>: that one less). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nodes.h"
#include "orch.h"
#include "rest.h"
#include "oak/log.h"
#include "oak/sla.h"

#define REST_MAX_REPLICAS 1024

/* a change of any of these replaces the running instances */
static const char *const generation_keys[] = {
    "code",	     "cmd",	    "args",	  "environment", "virtualization", "port",
    "memory",	     "vcpus",	    "vgpus",	  "vtpus",	 "storage",	   "bandwidth_in",
    "bandwidth_out", "added_files", "privileged", "one_shot",	 "state",
};

/* the root's own fields of a service document: a client sending the whole
 * document back does not change them */
static const char *const bookkeeping_keys[] = {
    "_id",	     "microserviceID", "applicationID", "userId",     "app_name",   "app_ns",
    "job_name",	     "RR_ip",	       "rr_ip",		"closest_ip", "generation", "status",
    "status_detail", "instance_list",  "created_at",	"updated_at",
};

static bool is_bookkeeping(const char *key)
{
	for (size_t i = 0; i < sizeof(bookkeeping_keys) / sizeof(bookkeeping_keys[0]); i++)
		if (!strcmp(key, bookkeeping_keys[i]))
			return true;
	return false;
}

static json_t *spec_of(json_t *doc)
{
	json_t *s = json_object(), *v;
	const char *k;

	json_object_foreach(doc, k, v)
	{
		if (oak_sla_service_key(k) && strcmp(k, "microserviceID"))
			json_object_set(s, k, v);
	}
	return s;
}

/* the instances' usage as their nodes last reported it (nodes.h) */
static void fill_usage(struct rest *r, json_t *list)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v) root_nodes_fill_usage(r->nodes, v);
}

int rest_services_all(struct rest *r, struct rest_req *q, json_t **out)
{
	if (root_store_list(r->store, "services", q->admin ? NULL : "userId",
			    q->admin ? NULL : q->user_id, out))
		return rest_err_store(r, out);
	fill_usage(r, *out);
	return 200;
}

int rest_services_of_app(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *app = NULL;
	int rc = rest_load_owned(r, q, "applications", q->param[0], &app, out);

	if (rc)
		return rc;
	json_decref(app);
	if (root_store_list(r->store, "services", "applicationID", q->param[0], out))
		return rest_err_store(r, out);
	fill_usage(r, *out);
	return 200;
}

int rest_service_get(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL;
	int rc = rest_load_owned(r, q, "services", q->param[0], &doc, out);

	if (rc)
		return rc;
	root_nodes_fill_usage(r->nodes, doc);
	*out = doc;
	return 200;
}

static int replicas_of(json_t *v, int64_t *n, json_t **out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > REST_MAX_REPLICAS)
		return rest_err(out, 400, "replicas", "replicas: expected an integer 0..%d",
				REST_MAX_REPLICAS);
	*n = json_integer_value(v);
	return 0;
}

/* The Service IPs stay: an update may repeat them, not change them. */
static int check_addresses(json_t *doc, json_t *spec, json_t **out)
{
	static const char *const keys[] = {"rr_ip", "closest_ip"};
	json_t *a = json_object_get(spec, "addresses");

	for (size_t i = 0; i < 2; i++) {
		const char *want = json_string_value(json_object_get(a, keys[i]));
		const char *have = json_string_value(json_object_get(doc, keys[i]));

		if (want && *want && (!have || strcmp(want, have)))
			return rest_err(out, 400,
					keys[i] == keys[0] ? "addresses.rr_ip"
							   : "addresses.closest_ip",
					"addresses.%s: cannot be changed from %s (the Service IPs "
					"of a service stay)",
					keys[i], have ? have : "");
	}
	return 0;
}

int rest_service_update(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL, *spec = NULL, *v = NULL, *old = NULL;
	struct oak_service svc;
	const char *k;
	char err[1024];
	int64_t replicas = -1;
	bool bump = false;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected a microservice object");
	rc = rest_load_owned(r, q, "services", q->param[0], &doc, out);
	if (rc)
		return rc;
	old = spec_of(doc);
	spec = json_copy(old);
	json_object_foreach(q->body, k, v)
	{
		if (!strcmp(k, "replicas")) {
			if ((rc = replicas_of(v, &replicas, out)))
				goto out;
		} else if (!strcmp(k, "microserviceID") || is_bookkeeping(k)) {
			continue;
		} else if (!oak_sla_service_key(k)) {
			rc = rest_err(out, 400, k, "%s: unknown field", k);
			goto out;
		} else {
			json_object_set(spec, k, v);
		}
	}
	/* the merged spec must be a valid microservice of this application */
	if (oak_service_from_json(spec, json_string_value(json_object_get(doc, "app_name")),
				  json_string_value(json_object_get(doc, "app_ns")), "", &svc, err,
				  sizeof(err))) {
		rc = rest_err_sla(out, err);
		goto out;
	}
	oak_service_free(&svc);
	for (size_t i = 0; i < 2; i++) {
		k = i ? "microservice_namespace" : "microservice_name";
		if (!json_equal(json_object_get(spec, k), json_object_get(old, k))) {
			rc = rest_err(out, 400, k, "%s: cannot be changed", k);
			goto out;
		}
	}
	if ((rc = check_addresses(doc, spec, out)))
		goto out;
	for (size_t i = 0; i < sizeof(generation_keys) / sizeof(generation_keys[0]); i++) {
		json_t *a = json_object_get(old, generation_keys[i]);
		json_t *b = json_object_get(spec, generation_keys[i]);

		if ((a || b) && !(a && b && json_equal(a, b)))
			bump = true;
	}
	/* the document: the new spec, the root's fields as they were */
	json_object_foreach(old, k, v)
	{
		if (!json_object_get(spec, k))
			json_object_del(doc, k);
	}
	json_object_update(doc, spec);
	if (bump)
		json_object_set_new(
		    doc, "generation",
		    json_integer(json_integer_value(json_object_get(doc, "generation")) + 1));
	if (replicas >= 0)
		json_object_set_new(doc, "replicas", json_integer(replicas));
	json_object_set_new(doc, "updated_at", json_integer((json_int_t)time(NULL)));
	if (root_store_put(r->store, "services", q->param[0], doc)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	oak_log(INFO, "service %s updated by %s: generation %lld, replicas %lld", q->param[0],
		q->username, (long long)json_integer_value(json_object_get(doc, "generation")),
		(long long)json_integer_value(json_object_get(doc, "replicas")));
	if (r->orch)
		root_orch_service_changed(r->orch, q->param[0]);
	*out = json_incref(doc);
	rc = 200;
out:
	json_decref(old);
	json_decref(spec);
	json_decref(doc);
	return rc;
}

int rest_service_delete(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL, *app = NULL, *last = NULL, *ids = NULL;
	const char *app_id;
	size_t i;
	int rc = rest_load_owned(r, q, "services", q->param[0], &doc, out);

	if (rc)
		return rc;
	app_id = json_string_value(json_object_get(doc, "applicationID"));
	if (root_store_begin(r->store))
		goto store;
	if (app_id && root_store_get(r->store, "applications", app_id, &app) == 0) {
		ids = json_object_get(app, "microservices");
		for (i = json_array_size(ids); i-- > 0;)
			if (!strcmp(json_string_value(json_array_get(ids, i)) ?: "", q->param[0]))
				json_array_remove(ids, i);
		if (root_store_put(r->store, "applications", app_id, app))
			goto store;
	}
	if (rest_service_drop(r, q->param[0], &last) || root_store_commit(r->store))
		goto store;
	oak_log(INFO, "service %s deleted by %s", q->param[0], q->username);
	if (r->orch)
		root_orch_service_deleted(r->orch, last);
	*out = json_pack("{s:s, s:s}", "message", "deleted", "microserviceID", q->param[0]);
	json_decref(last);
	json_decref(app);
	json_decref(doc);
	return 200;
store:
	json_decref(last);
	json_decref(app);
	json_decref(doc);
	return rest_err_store(r, out);
}

int rest_instance_add(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL;
	int64_t n = 0;
	int rc;

	if (q->body && !json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected {\"replicas\": N} or none");
	rc = rest_load_owned(r, q, "services", q->param[0], &doc, out);
	if (rc)
		return rc;
	if (q->body && json_object_get(q->body, "replicas")) {
		if ((rc = replicas_of(json_object_get(q->body, "replicas"), &n, out))) {
			json_decref(doc);
			return rc;
		}
	} else {
		n = json_integer_value(json_object_get(doc, "replicas")) + 1;
		if (n > REST_MAX_REPLICAS) {
			json_decref(doc);
			return rest_err(out, 400, "replicas", "replicas: at most %d",
					REST_MAX_REPLICAS);
		}
	}
	json_object_set_new(doc, "replicas", json_integer(n));
	json_object_set_new(doc, "updated_at", json_integer((json_int_t)time(NULL)));
	if (root_store_put(r->store, "services", q->param[0], doc)) {
		json_decref(doc);
		return rest_err_store(r, out);
	}
	oak_log(INFO, "service %s: replicas %lld (%s)", q->param[0], (long long)n, q->username);
	if (r->orch)
		root_orch_service_changed(r->orch, q->param[0]);
	json_decref(doc);
	*out = json_pack("{s:s, s:s, s:I}", "message", "ok", "microserviceID", q->param[0],
			 "replicas", (json_int_t)n);
	return 200;
}

int rest_instance_remove(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL;
	char *end;
	unsigned long n;
	int rc;

	errno = 0;
	n = strtoul(q->param[1], &end, 10);
	if (*end || errno || n > UINT32_MAX || q->param[1][0] == '-')
		return rest_err(out, 400, "instance", "instance: '%s' is not an instance number",
				q->param[1]);
	rc = rest_load_owned(r, q, "services", q->param[0], &doc, out);
	if (rc)
		return rc;
	json_decref(doc);
	rc = r->orch ? root_orch_instance_remove(r->orch, q->param[0], (uint32_t)n)
		     : ROOT_STORE_NOTFOUND;
	if (rc == ROOT_STORE_NOTFOUND)
		return rest_err(out, 404, NULL, "service %s has no instance %lu", q->param[0], n);
	if (rc)
		return rest_err_store(r, out);
	oak_log(INFO, "service %s: instance %lu removed by %s", q->param[0], n, q->username);
	*out = json_pack("{s:s, s:s, s:I}", "message", "ok", "microserviceID", q->param[0],
			 "instance_number", (json_int_t)n);
	return 200;
}
