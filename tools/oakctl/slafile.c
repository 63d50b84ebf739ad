// SPDX-License-Identifier: MIT
/* The SLA file apply sends (see slafile.h). */
#include "slafile.h"

#include <stdio.h>
#include <string.h>

static int replicas_of(const json_t *ms, unsigned int *n)
{
	const json_t *r = json_object_get(ms, "replicas");

	if (!r) {
		*n = 1;
		return 0;
	}
	if (!json_is_integer(r) || json_integer_value(r) < 0 ||
	    json_integer_value(r) > SLA_MAX_REPLICAS)
		return -1;
	*n = (unsigned int)json_integer_value(r);
	return 0;
}

int sla_prepare(const json_t *sla, json_t **send, char *err, size_t errlen)
{
	const json_t *apps = json_object_get(sla, "applications"), *app, *ms;
	json_t *copy, *capps, *cms;
	size_t i, j;
	unsigned int n;

	*send = NULL;
	if (!json_is_object(sla)) {
		snprintf(err, errlen, "the SLA must be a JSON object");
		return -1;
	}
	if (!json_is_array(apps)) {
		snprintf(err, errlen, "applications: missing or not a list");
		return -1;
	}
	json_array_foreach(apps, i, app)
	{
		const json_t *list = json_object_get(app, "microservices");

		if (!json_is_object(app) ||
		    !json_is_string(json_object_get(app, "application_name"))) {
			snprintf(err, errlen, "applications[%zu].application_name: missing", i);
			return -1;
		}
		if (list && !json_is_array(list)) {
			snprintf(err, errlen, "applications[%zu].microservices: not a list", i);
			return -1;
		}
		json_array_foreach(list, j, ms)
		{
			if (!json_is_object(ms) ||
			    !json_is_string(json_object_get(ms, "microservice_name"))) {
				snprintf(err, errlen,
					 "applications[%zu].microservices[%zu].microservice_name: "
					 "missing",
					 i, j);
				return -1;
			}
			if (replicas_of(ms, &n)) {
				snprintf(err, errlen,
					 "applications[%zu].microservices[%zu].replicas: must be a "
					 "whole number from 0 to %d",
					 i, j, SLA_MAX_REPLICAS);
				return -1;
			}
		}
	}
	copy = json_deep_copy(sla);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	capps = json_object_get(copy, "applications");
	for (i = 0; i < json_array_size(capps); i++) {
		cms = json_object_get(json_array_get(capps, i), "microservices");
		for (j = 0; j < json_array_size(cms); j++)
			json_object_del(json_array_get(cms, j), "replicas");
	}
	*send = copy;
	return 0;
}

int sla_replicas(const json_t *sla, const char *app_name, const char *svc_name, unsigned int *n)
{
	const json_t *apps = json_object_get(sla, "applications"), *app, *ms;
	size_t i, j;

	json_array_foreach(apps, i, app)
	{
		const json_t *an = json_object_get(app, "application_name");

		if (!json_is_string(an) || strcmp(json_string_value(an), app_name))
			continue;
		json_array_foreach(json_object_get(app, "microservices"), j, ms)
		{
			const json_t *sn = json_object_get(ms, "microservice_name");

			if (json_is_string(sn) && !strcmp(json_string_value(sn), svc_name))
				return replicas_of(ms, n);
		}
	}
	return -1;
}
