// SPDX-License-Identifier: MIT
/*
 * oakctl delete app APP | service SERVICE | instance SERVICE N | -f SLA.json
 * (undeploys what runs and forgets the application or service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "oakctl.h"
#include "status.h"

static const char usage[] = "usage: oakctl delete app APP | service SERVICE | instance SERVICE N "
			    "| -f SLA.json";

static int delete_path(struct oakctl *k, const char *path, const char *what)
{
	json_t *ans;
	int rc = api(&k->c, "DELETE", path, NULL, &ans);

	json_decref(ans);
	if (!rc)
		printf("%s: deleted\n", what);
	return rc;
}

static int delete_app(struct oakctl *k, const char *ref)
{
	char path[512], what[256];
	json_t *app;
	int rc = find_app(k, ref, &app);

	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/api/application/%s",
		 jx_str(app, "applicationID", jx_oid(app, "")));
	snprintf(what, sizeof(what), "application %s", jx_str(app, "application_name", ref));
	json_decref(app);
	return delete_path(k, path, what);
}

static int delete_service(struct oakctl *k, const char *ref, const char *instance)
{
	char path[512], what[300], name[256];
	json_t *svc;
	int rc = find_service(k, ref, &svc);

	if (rc)
		return rc;
	svc_display_name(svc, name, sizeof(name));
	if (instance) {
		snprintf(path, sizeof(path), "/api/service/%s/instance/%s",
			 jx_str(svc, "microserviceID", jx_oid(svc, "")), instance);
		snprintf(what, sizeof(what), "instance %s/%s", name, instance);
	} else {
		snprintf(path, sizeof(path), "/api/service/%s",
			 jx_str(svc, "microserviceID", jx_oid(svc, "")));
		snprintf(what, sizeof(what), "service %s", name);
	}
	json_decref(svc);
	return delete_path(k, path, what);
}

static int delete_sla(struct oakctl *k, const char *file)
{
	json_error_t jerr;
	json_t *sla = json_load_file(file, 0, &jerr), *app;
	size_t i;
	int rc = EXIT_OK, one;

	if (!sla)
		return fail(EXIT_USAGE, "%s: line %d: %s", file, jerr.line, jerr.text);
	if (!json_is_array(json_object_get(sla, "applications"))) {
		json_decref(sla);
		return fail(EXIT_USAGE, "%s: applications: missing or not a list", file);
	}
	json_array_foreach(json_object_get(sla, "applications"), i, app)
	{
		const char *name = jx_str(app, "application_name", NULL);

		if (!name) {
			rc = fail(EXIT_USAGE, "%s: applications[%zu].application_name: missing",
				  file, i);
			continue;
		}
		one = delete_app(k, name);
		if (one && !rc)
			rc = one;
	}
	json_decref(sla);
	return rc;
}

int cmd_delete(struct oakctl *k, int argc, char **argv)
{
	char ref[256], *slash;

	if (k->o.file)
		return argc ? fail(EXIT_USAGE, "%s", usage) : delete_sla(k, k->o.file);
	if (argc == 2 && (!strcmp(argv[0], "app") || !strcmp(argv[0], "application")))
		return delete_app(k, argv[1]);
	if (argc == 2 && (!strcmp(argv[0], "service") || !strcmp(argv[0], "svc")))
		return delete_service(k, argv[1], NULL);
	if (argc == 3 && !strcmp(argv[0], "instance") &&
	    strspn(argv[2], "0123456789") == strlen(argv[2]) && argv[2][0])
		return delete_service(k, argv[1], argv[2]);
	/* instance SERVICE/N, as 'get instances' prints it */
	if (argc == 2 && !strcmp(argv[0], "instance") &&
	    snprintf(ref, sizeof(ref), "%s", argv[1]) < (int)sizeof(ref) &&
	    (slash = strrchr(ref, '/')) && slash[1] &&
	    strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
		*slash = '\0';
		return delete_service(k, ref, slash + 1);
	}
	return fail(EXIT_USAGE, "%s", usage);
}
