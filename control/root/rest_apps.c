/* Applications: POST a whole SLA (registers its applications and services,
 * nothing runs yet), list, get, update, delete (undeploys every instance).
 *
 * Claims taken for an application: "app_name" "<owner>/<name>/<namespace>"
 * (owner: the application id); for each service "job" <job_name> (one name
 * across the federation: the clusters and nodes key services by it) and
 * "ip" for its rr_ip and closest_ip (owner: the service id). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addresses.h"
#include "orch.h"
#include "rest.h"
#include "oak/log.h"
#include "oak/sla.h"

static json_t *service_doc(const struct oak_app *app, const struct oak_service *svc,
			   const char *app_id, const char *sid, const char *owner)
{
	json_t *d = json_deep_copy(svc->raw);

	if (!d)
		return NULL;
	json_object_set_new(d, "_id", rest_oid_new(sid));
	json_object_set_new(d, "microserviceID", json_string(sid));
	json_object_set_new(d, "applicationID", json_string(app_id));
	json_object_set_new(d, "userId", json_string(owner));
	json_object_set_new(d, "app_name", json_string(app->name));
	json_object_set_new(d, "app_ns", json_string(app->ns));
	json_object_set_new(d, "job_name", json_string(svc->job_name));
	json_object_set_new(d, "rr_ip", json_string(""));
	json_object_set_new(d, "RR_ip", json_string(""));
	json_object_set_new(d, "closest_ip", json_string(""));
	json_object_set_new(d, "replicas", json_integer(0));
	json_object_set_new(d, "generation", json_integer(1));
	json_object_set_new(d, "status", json_string("REGISTERED"));
	json_object_set_new(d, "instance_list", json_array());
	json_object_set_new(d, "created_at", json_integer((json_int_t)time(NULL)));
	return d;
}

static void set_ip(json_t *doc, const char *key, const char *ip)
{
	json_object_set_new(doc, key, json_string(ip));
	if (!strcmp(key, "rr_ip"))
		json_object_set_new(doc, "RR_ip", json_string(ip));
}

/* the address an SLA asks for, claimed for sid; 0 or an error status */
static int claim_wanted(struct rest *r, json_t *doc, const char *sid, const char *key,
			const char *ip, const char *path, json_t **out)
{
	char field[200];
	int rc;

	if (!ip[0])
		return 0;
	snprintf(field, sizeof(field), "%s.addresses.%s", path, key);
	rc = root_addr_claim_ip(r->store, ip, sid);
	if (rc == ROOT_STORE_TAKEN)
		return rest_err(out, 409, field, "%s: %s is taken by another service or instance",
				field, ip);
	if (rc)
		return rest_err_store(r, out);
	set_ip(doc, key, ip);
	return 0;
}

static int claim_job(struct rest *r, const char *job, const char *sid, const char *path,
		     json_t **out)
{
	int rc = root_store_claim(r->store, "job", job, sid);

	if (rc == ROOT_STORE_TAKEN)
		return rest_err(out, 409, path,
				"%s: a service named %s exists already (application, namespace, "
				"service and namespace are one name across the root)",
				path, job);
	return rc ? rest_err_store(r, out) : 0;
}

/* Registers every application of sla inside one transaction (the caller
 * holds it). created: the application documents, sdocs: the service
 * documents. 0, or an error status in *out. */
static int register_sla(struct rest *r, struct rest_req *q, const struct oak_sla *sla,
			json_t *created, json_t *sdocs, json_t **out)
{
	char key[256], path[160];
	size_t i, k;
	json_t *d = NULL;
	int rc;

	for (i = 0; i < sla->n_apps; i++) {
		const struct oak_app *app = &sla->apps[i];
		char app_id[ROOT_ID_LEN];
		json_t *adoc, *ids = json_array();

		root_store_new_id(r->store, app_id);
		snprintf(key, sizeof(key), "%s/%s/%s", q->user_id, app->name, app->ns);
		snprintf(path, sizeof(path), "applications[%zu].application_name", i);
		rc = root_store_claim(r->store, "app_name", key, app_id);
		if (rc == ROOT_STORE_TAKEN) {
			json_decref(ids);
			return rest_err(out, 409, path,
					"%s: you have an application %s in namespace %s already",
					path, app->name, app->ns);
		}
		if (rc) {
			json_decref(ids);
			return rest_err_store(r, out);
		}
		for (k = 0; k < app->n_services; k++) {
			const struct oak_service *svc = &app->services[k];
			char sid[ROOT_ID_LEN];

			root_store_new_id(r->store, sid);
			snprintf(path, sizeof(path), "applications[%zu].microservices[%zu]", i, k);
			d = service_doc(app, svc, app_id, sid, q->user_id);
			if (!d) {
				json_decref(ids);
				return rest_err(out, 500, NULL, "out of memory");
			}
			json_array_append_new(sdocs, d);
			json_array_append_new(ids, json_string(sid));
			if ((rc = claim_job(r, svc->job_name, sid, path, out)) ||
			    (rc = claim_wanted(r, d, sid, "rr_ip", svc->addresses.rr_ip, path,
					       out)) ||
			    (rc = claim_wanted(r, d, sid, "closest_ip", svc->addresses.closest_ip,
					       path, out))) {
				json_decref(ids);
				return rc;
			}
		}
		adoc = json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:I}", "_id",
				 rest_oid_new(app_id), "applicationID", app_id, "application_name",
				 app->name, "application_namespace", app->ns, "application_desc",
				 app->desc, "userId", q->user_id, "microservices", ids,
				 "created_at", (json_int_t)time(NULL));
		if (!adoc || root_store_put(r->store, "applications", app_id, adoc)) {
			json_decref(adoc);
			return rest_err_store(r, out);
		}
		json_array_append_new(created, adoc);
	}
	/* then the addresses nobody asked for: after every wanted one is held,
	 * so an allocation never takes what a later service of the SLA wants */
	json_array_foreach(sdocs, i, d)
	{
		const char *sid = json_string_value(json_object_get(d, "microserviceID"));
		static const char *const keys[] = {"rr_ip", "closest_ip"};

		for (k = 0; k < 2; k++) {
			char ip[16];

			if (json_string_value(json_object_get(d, keys[k]))[0])
				continue;
			if (root_addr_alloc_ip(r->store, sid, ip)) {
				root_store_rollback(r->store);
				return rest_err(out, 503, NULL,
						"no Service IP left in 10.30.0.0/16");
			}
			set_ip(d, keys[k], ip);
		}
		if (root_store_put(r->store, "services", sid, d))
			return rest_err_store(r, out);
	}
	return 0;
}

int rest_app_create(struct rest *r, struct rest_req *q, json_t **out)
{
	struct oak_sla *sla = NULL;
	json_t *created = NULL, *sdocs = NULL, *d = NULL;
	char err[1024];
	size_t i;
	int rc;

	if (!q->body)
		return rest_err(out, 400, "payload", "payload: missing (an SLA v2.0 descriptor)");
	if (oak_sla_from_json(q->body, &sla, err, sizeof(err)))
		return rest_err_sla(out, err);
	created = json_array();
	sdocs = json_array();
	if (root_store_begin(r->store)) {
		rc = rest_err_store(r, out);
		goto done;
	}
	rc = register_sla(r, q, sla, created, sdocs, out);
	if (rc) {
		root_store_rollback(r->store);
		goto done;
	}
	if (root_store_commit(r->store)) {
		rc = rest_err_store(r, out);
		goto done;
	}
	json_array_foreach(sdocs, i, d)
	{
		oak_log(INFO, "service %s (%s) registered by %s: rr_ip %s, closest_ip %s",
			json_string_value(json_object_get(d, "microserviceID")),
			json_string_value(json_object_get(d, "job_name")), q->username,
			json_string_value(json_object_get(d, "rr_ip")),
			json_string_value(json_object_get(d, "closest_ip")));
		if (r->orch)
			root_orch_service_changed(
			    r->orch, json_string_value(json_object_get(d, "microserviceID")));
	}
	*out = json_incref(created);
	rc = 200;
done:
	json_decref(created);
	json_decref(sdocs);
	oak_sla_free(sla);
	return rc;
}

int rest_apps_list(struct rest *r, struct rest_req *q, json_t **out)
{
	if (root_store_list(r->store, "applications", q->admin ? NULL : "userId",
			    q->admin ? NULL : q->user_id, out))
		return rest_err_store(r, out);
	return 200;
}

int rest_apps_of_user(struct rest *r, struct rest_req *q, json_t **out)
{
	const char *uid = q->param[0];
	json_t *u = NULL;

	/* by id, as Oakestra; a user name is taken too */
	if (strcmp(uid, q->user_id) && strcmp(uid, q->username)) {
		if (!q->admin)
			return rest_err(out, 403, NULL,
					"the applications of another user need the Admin role");
		if (root_store_get(r->store, "users", uid, &u) == ROOT_STORE_NOTFOUND &&
		    !(u = rest_user_by_name(r, uid)))
			return rest_err(out, 404, NULL, "user %s: not found", uid);
		uid = rest_oid(u);
	} else {
		uid = q->user_id;
	}
	if (root_store_list(r->store, "applications", "userId", uid, out)) {
		json_decref(u);
		return rest_err_store(r, out);
	}
	json_decref(u);
	return 200;
}

int rest_app_get(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL;
	int rc = rest_load_owned(r, q, "applications", q->param[0], &doc, out);

	if (rc)
		return rc;
	*out = doc;
	return 200;
}

/* Only the description changes; a name or namespace that differs is an
 * error (its services' job names and addresses hang on them). */
int rest_app_update(struct rest *r, struct rest_req *q, json_t **out)
{
	static const char *const fixed[] = {"application_name", "application_namespace"};
	json_t *doc = NULL, *v = NULL;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected an application object");
	rc = rest_load_owned(r, q, "applications", q->param[0], &doc, out);
	if (rc)
		return rc;
	for (size_t i = 0; i < 2; i++) {
		v = json_object_get(q->body, fixed[i]);
		if (v && !json_equal(v, json_object_get(doc, fixed[i]))) {
			json_decref(doc);
			return rest_err(out, 400, fixed[i],
					"%s: cannot be changed (delete and register the "
					"application again)",
					fixed[i]);
		}
	}
	v = json_object_get(q->body, "application_desc");
	if (v && !json_is_string(v)) {
		json_decref(doc);
		return rest_err(out, 400, "application_desc", "application_desc: expected string");
	}
	if (v)
		json_object_set(doc, "application_desc", v);
	if (root_store_put(r->store, "applications", q->param[0], doc)) {
		json_decref(doc);
		return rest_err_store(r, out);
	}
	*out = doc;
	return 200;
}

int rest_service_drop(struct rest *r, const char *sid, json_t **last)
{
	int rc = root_store_get(r->store, "services", sid, last);

	if (rc)
		return rc;
	if (root_store_del(r->store, "services", sid) < 0 ||
	    root_store_release_owner(r->store, sid)) {
		json_decref(*last);
		*last = NULL;
		return -1;
	}
	return 0;
}

int rest_app_delete(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc, *sids, *gone = json_array(), *v;
	size_t i;
	int rc = rest_load_owned(r, q, "applications", q->param[0], &doc, out);

	if (rc) {
		json_decref(gone);
		return rc;
	}
	sids = json_object_get(doc, "microservices");
	if (root_store_begin(r->store))
		goto store;
	json_array_foreach(sids, i, v)
	{
		json_t *last = NULL;

		if (!json_is_string(v))
			continue;
		rc = rest_service_drop(r, json_string_value(v), &last);
		if (rc < 0)
			goto store;
		if (last)
			json_array_append_new(gone, last);
	}
	if (root_store_del(r->store, "applications", q->param[0]) < 0 ||
	    root_store_release_owner(r->store, q->param[0]) || root_store_commit(r->store))
		goto store;
	oak_log(INFO, "application %s (%s) deleted by %s with %zu services", q->param[0],
		json_string_value(json_object_get(doc, "application_name")), q->username,
		json_array_size(gone));
	json_array_foreach(gone, i, v)
	{
		if (r->orch)
			root_orch_service_deleted(r->orch, v);
	}
	*out = json_pack("{s:s, s:s, s:I}", "message", "deleted", "applicationID", q->param[0],
			 "services", (json_int_t)json_array_size(gone));
	json_decref(doc);
	json_decref(gone);
	return 200;
store:
	json_decref(doc);
	json_decref(gone);
	return rest_err_store(r, out);
}
