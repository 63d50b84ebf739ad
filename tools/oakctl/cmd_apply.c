// SPDX-License-Identifier: MIT
/*
 * oakctl apply -f SLA [--wait] [--timeout S]: register the SLA's
 * applications, set every service's replicas (the SLA's "replicas", default
 * 1) and, with --wait, follow them until every instance runs.
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
	rc = api(&k->c, "POST", "/api/application/", send, &answer);
	json_decref(send);
	if (rc)
		goto out;
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
	if (k->o.wait && n)
		rc = wait_services(k, (const char *const *)ids, want, n);
out:
	for (i = 0; i < n; i++)
		free(ids[i]);
	json_decref(answer);
	json_decref(sla);
	return rc;
}
