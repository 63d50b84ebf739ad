// SPDX-License-Identifier: MIT
/* Finding applications and services by id or by name. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "oakctl.h"
#include "status.h"

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("oakctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

static int want_array(json_t **v, const char *what)
{
	if (json_is_array(*v))
		return EXIT_OK;
	if (json_is_null(*v)) {
		json_decref(*v);
		*v = json_array();
		return EXIT_OK;
	}
	json_decref(*v);
	*v = NULL;
	return fail(EXIT_REFUSED, "%s: the root's answer is not a list", what);
}

int list_apps(struct oakctl *k, json_t **apps)
{
	char path[512];
	json_t *user = NULL;
	const char *uid;
	int rc;

	rc = client_call(&k->c, "GET", "/api/applications/", NULL, apps);
	if (rc == EXIT_REFUSED && k->c.status == 403 && k->s.username[0]) {
		/* not an admin: the caller's own applications, by user id */
		json_decref(*apps);
		snprintf(path, sizeof(path), "/api/user/%s", k->s.username);
		rc = api(&k->c, "GET", path, NULL, &user);
		if (rc)
			return rc;
		uid = jx_oid(user, NULL);
		if (!uid) {
			json_decref(user);
			return fail(EXIT_REFUSED, "GET %s: the answer has no _id", path);
		}
		snprintf(path, sizeof(path), "/api/applications/%s", uid);
		json_decref(user);
		rc = api(&k->c, "GET", path, NULL, apps);
	} else if (rc) {
		fprintf(stderr, "oakctl: GET /api/applications/: %s\n", k->c.err);
	}
	return rc ? rc : want_array(apps, "applications");
}

static bool app_matches(const json_t *app, const char *ref)
{
	const char *id = jx_str(app, "applicationID", jx_oid(app, ""));

	return !strcmp(id, ref) || !strcmp(jx_str(app, "application_name", ""), ref);
}

int find_app(struct oakctl *k, const char *ref, json_t **app)
{
	json_t *apps, *a, *found = NULL;
	unsigned int matches = 0;
	size_t i;
	int rc = list_apps(k, &apps);

	*app = NULL;
	if (rc)
		return rc;
	json_array_foreach(apps, i, a) if (app_matches(a, ref))
	{
		matches++;
		if (!found)
			found = json_incref(a);
	}
	json_decref(apps);
	if (matches == 1) {
		*app = found;
		return EXIT_OK;
	}
	json_decref(found);
	if (!matches)
		return fail(EXIT_REFUSED, "no application '%s' (see 'oakctl get apps')", ref);
	return fail(EXIT_USAGE, "'%s' names %u applications: give its applicationID", ref, matches);
}

static int services_of(struct oakctl *k, const json_t *app, json_t *out)
{
	const char *id = jx_str(app, "applicationID", jx_oid(app, NULL));
	char path[512];
	json_t *list;
	int rc;

	if (!id)
		return fail(EXIT_REFUSED, "an application without applicationID in the answer");
	snprintf(path, sizeof(path), "/api/services/%s", id);
	rc = api(&k->c, "GET", path, NULL, &list);
	if (rc || (rc = want_array(&list, path)))
		return rc;
	json_array_extend(out, list);
	json_decref(list);
	return EXIT_OK;
}

int list_services(struct oakctl *k, const json_t *app, json_t **services)
{
	json_t *apps, *a;
	size_t i;
	int rc = EXIT_OK;

	*services = json_array();
	if (app)
		rc = services_of(k, app, *services);
	else if (!(rc = list_apps(k, &apps))) {
		json_array_foreach(apps, i, a) if ((rc = services_of(k, a, *services))) break;
		json_decref(apps);
	}
	if (rc) {
		json_decref(*services);
		*services = NULL;
	}
	return rc;
}

static bool looks_like_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n == 24 && !s[n];
}

int find_service(struct oakctl *k, const char *ref, json_t **svc)
{
	json_t *all, *s, *found = NULL;
	unsigned int matches = 0;
	char path[512], name[256];
	size_t i;
	int rc;

	*svc = NULL;
	if (looks_like_id(ref)) {
		snprintf(path, sizeof(path), "/api/service/%s", ref);
		rc = client_call(&k->c, "GET", path, NULL, svc);
		if (rc == EXIT_OK && json_is_object(*svc))
			return EXIT_OK;
		json_decref(*svc);
		*svc = NULL;
		if (rc != EXIT_REFUSED || k->c.status != 404)
			return rc ? fail(rc, "GET %s: %s", path, k->c.err)
				  : fail(EXIT_REFUSED, "GET %s: not a service document", path);
	}
	rc = list_services(k, NULL, &all);
	if (rc)
		return rc;
	json_array_foreach(all, i, s)
	{
		svc_display_name(s, name, sizeof(name));
		if (strcmp(name, ref) && strcmp(jx_str(s, "microservice_name", ""), ref) &&
		    strcmp(jx_str(s, "microserviceID", ""), ref))
			continue;
		matches++;
		if (!found)
			found = json_incref(s);
	}
	json_decref(all);
	if (matches == 1) {
		*svc = found;
		return EXIT_OK;
	}
	json_decref(found);
	if (!matches)
		return fail(EXIT_REFUSED, "no service '%s' (see 'oakctl get services')", ref);
	return fail(EXIT_USAGE, "'%s' names %u services: give APP/SERVICE or its id", ref, matches);
}
