// SPDX-License-Identifier: MIT
/*
 * oakctl apply -f SLA [--wait] [--timeout S]: register the SLA's
 * applications, set every service's replicas (the SLA's "replicas", default
 * 1) and, with --wait, follow them until every instance runs. When every
 * application of the SLA is registered already, apply updates its services
 * instead (PUT of each microservice with its replicas: the root replaces
 * instances one at a time when code, command, resources... changed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "oakctl.h"
#include "slafile.h"
#include "status.h"

#define MAX_SERVICES 256

static json_t *load_sla(const char *file)
{
	json_error_t jerr;
	json_t *sla;

	if (!strcmp(file, "-"))
		sla = json_loadf(stdin, 0, &jerr);
	else
		sla = json_load_file(file, 0, &jerr);
	if (!sla) {
		if (jerr.line > 0)
			fail(0, "%s: line %d, column %d: %s", file, jerr.line, jerr.column,
			     jerr.text);
		else
			fail(0, "%s: %s", file, jerr.text);
	}
	return sla;
}

/* The created applications: a list, or {"applications": [...]}. */
static const json_t *created_apps(const json_t *answer)
{
	if (json_is_object(answer) && json_is_array(json_object_get(answer, "applications")))
		return json_object_get(answer, "applications");
	return answer;
}

static const char *service_id(const json_t *entry)
{
	if (json_is_string(entry))
		return json_string_value(entry);
	return jx_str(entry, "microserviceID", jx_oid(entry, NULL));
}

/* Set one created service's replicas; remember it for --wait. */
static int start_service(struct oakctl *k, const json_t *sla, const char *app_name, const char *sid,
			 char **ids, unsigned int *want, unsigned int *n)
{
	char path[512], name[256];
	unsigned int replicas;
	json_t *svc;
	int rc;

	snprintf(path, sizeof(path), "/api/service/%s", sid);
	rc = api(&k->c, "GET", path, NULL, &svc);
	if (rc)
		return rc;
	svc_display_name(svc, name, sizeof(name));
	if (sla_replicas(sla, jx_str(svc, "app_name", app_name),
			 jx_str(svc, "microservice_name", ""), &replicas) &&
	    sla_replicas(sla, app_name, jx_str(svc, "microservice_name", ""), &replicas))
		replicas = 1; /* not found by name: the SLA's default */
	json_decref(svc);
	rc = set_replicas(k, sid, replicas);
	if (rc)
		return rc;
	printf("%s: registered as %s, replicas %u\n", name, sid, replicas);
	fflush(stdout);
	if (*n < MAX_SERVICES) {
		ids[*n] = strdup(sid);
		want[*n] = replicas;
		if (ids[*n])
			(*n)++;
	}
	return EXIT_OK;
}

static bool same_field(const json_t *a, const json_t *b, const char *key)
{
	return !strcmp(jx_str(a, key, ""), jx_str(b, key, ""));
}

/* The registered applications of the SLA, in its order; NULL when one is not registered. */
static int registered_apps(struct oakctl *k, const json_t *send, json_t **found)
{
	json_t *apps, *want, *have;
	size_t i, j;
	int rc = list_apps(k, &apps);

	*found = NULL;
	if (rc)
		return rc;
	*found = json_array();
	json_array_foreach(json_object_get(send, "applications"), i, want)
	{
		json_t *match = NULL;

		json_array_foreach(apps, j, have)
		{
			if (same_field(want, have, "application_name") &&
			    same_field(want, have, "application_namespace"))
				match = have;
		}
		if (!match) {
			json_decref(*found);
			*found = NULL;
			break;
		}
		json_array_append(*found, match);
	}
	json_decref(apps);
	return EXIT_OK;
}

/* The registered service of an SLA microservice (same name and namespace), or NULL. */
static const json_t *registered_service(const json_t *services, const json_t *ms)
{
	const json_t *s;
	size_t j;

	json_array_foreach(services, j, s)
	{
		if (same_field(ms, s, "microservice_name") &&
		    same_field(ms, s, "microservice_namespace"))
			return s;
	}
	return NULL;
}

/*
 * PUT every microservice of the SLA application into the registered one;
 * nothing is changed when one of them is not registered.
 */
static int update_app(struct oakctl *k, const json_t *sla, const json_t *want, const json_t *app,
		      char **ids, unsigned int *replicas, unsigned int *n)
{
	const char *app_name = jx_str(app, "application_name", "");
	json_t *services, *ms, *s, *body, *doc;
	char path[512], name[256];
	size_t i, j;
	int rc = list_services(k, app, &services);

	if (rc)
		return rc;
	json_array_foreach(json_object_get(want, "microservices"), i, ms)
	{
		if (!registered_service(services, ms)) {
			rc = fail(EXIT_REFUSED,
				  "%s/%s: not a service of the registered application %s (to add a "
				  "service: oakctl delete app %s, then apply)",
				  app_name, jx_str(ms, "microservice_name", "?"), app_name,
				  app_name);
			json_decref(services);
			return rc;
		}
	}
	json_array_foreach(json_object_get(want, "microservices"), i, ms)
	{
		const json_t *match = registered_service(services, ms);
		const char *sid;
		unsigned int r;

		sid = jx_str(match, "microserviceID", jx_oid(match, ""));
		if (sla_replicas(sla, app_name, jx_str(ms, "microservice_name", ""), &r))
			r = 1;
		body = json_deep_copy(ms);
		json_object_set_new(body, "replicas", json_integer(r));
		snprintf(path, sizeof(path), "/api/service/%s", sid);
		rc = api(&k->c, "PUT", path, body, &doc);
		json_decref(body);
		if (rc) {
			json_decref(doc);
			break;
		}
		svc_display_name(match, name, sizeof(name));
		printf("%s: updated (generation %lld), replicas %u\n", name,
		       jx_int(doc, "generation", 0), r);
		fflush(stdout);
		json_decref(doc);
		if (*n < MAX_SERVICES && (ids[*n] = strdup(sid)))
			replicas[(*n)++] = r;
	}
	/* what the SLA no longer names stays as it is */
	json_array_foreach(services, j, s)
	{
		bool named = false;

		json_array_foreach(json_object_get(want, "microservices"), i, ms) named |=
		    same_field(ms, s, "microservice_name");
		svc_display_name(s, name, sizeof(name));
		if (!named && !rc)
			fprintf(stderr,
				"oakctl: %s is not in the SLA: left as it is (oakctl delete "
				"service %s)\n",
				name, name);
	}
	json_decref(services);
	return rc;
}

int cmd_apply(struct oakctl *k, int argc, char **argv)
{
	const char *file = k->o.file ? k->o.file : argc == 1 ? argv[0] : NULL;
	char *ids[MAX_SERVICES], err[512];
	unsigned int want[MAX_SERVICES], n = 0, i;
	json_t *sla, *send = NULL, *answer = NULL, *app, *entry;
	size_t ai, si;
	int rc;

	if (!file || argc > (k->o.file ? 0 : 1))
		return fail(EXIT_USAGE, "usage: oakctl apply -f SLA.json [--wait] [--timeout S]");
	sla = load_sla(file);
	if (!sla)
		return EXIT_USAGE;
	if (sla_prepare(sla, &send, err, sizeof(err))) {
		json_decref(sla);
		return fail(EXIT_USAGE, "%s: %s", file, err);
	}
	rc = client_call(&k->c, "POST", "/api/application/", send, &answer);
	if (rc == EXIT_REFUSED && k->c.status == 409) {
		/* registered already? then this apply is an update */
		char why[sizeof(k->c.err)];
		json_t *apps = NULL;

		snprintf(why, sizeof(why), "%s", k->c.err);
		rc = registered_apps(k, send, &apps);
		if (!rc && !apps)
			rc = fail(EXIT_REFUSED, "POST /api/application/: %s", why);
		for (ai = 0; !rc && ai < json_array_size(apps); ai++)
			rc = update_app(k, sla,
					json_array_get(json_object_get(send, "applications"), ai),
					json_array_get(apps, ai), ids, want, &n);
		json_decref(apps);
		json_decref(send);
		goto wait;
	}
	json_decref(send);
	if (rc) {
		fprintf(stderr, "oakctl: POST /api/application/: %s\n", k->c.err);
		goto out;
	}
	if (!json_is_array(created_apps(answer))) {
		rc = fail(EXIT_REFUSED, "POST /api/application/: the answer is not a list");
		goto out;
	}
	json_array_foreach(created_apps(answer), ai, app)
	{
		json_array_foreach(json_object_get(app, "microservices"), si, entry)
		{
			const char *sid = service_id(entry);

			if (!sid) {
				rc = fail(EXIT_REFUSED, "application %s: a service without an id",
					  jx_str(app, "application_name", "?"));
				goto out;
			}
			rc = start_service(k, sla, jx_str(app, "application_name", ""), sid, ids,
					   want, &n);
			if (rc)
				goto out;
		}
	}
wait:
	if (!rc && k->o.wait && n)
		rc = wait_services(k, (const char *const *)ids, want, n);
out:
	for (i = 0; i < n; i++)
		free(ids[i]);
	json_decref(answer);
	json_decref(sla);
	return rc;
}
