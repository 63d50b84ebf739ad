// SPDX-License-Identifier: MIT
/* oakctl scale SERVICE N [--wait]: the desired instance count of a service. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "oakctl.h"
#include "status.h"

/* Oakestra's way: one POST per instance more, one DELETE per instance less. */
static int scale_by_instances(struct oakctl *k, const char *sid, unsigned int n)
{
	json_t *svc, *list, *inst, *ans;
	char path[512];
	long long numbers[1024];
	unsigned int count = 0, i;
	size_t idx;
	int rc;

	snprintf(path, sizeof(path), "/api/service/%s", sid);
	rc = api(&k->c, "GET", path, NULL, &svc);
	if (rc)
		return rc;
	list = json_object_get(svc, "instance_list");
	json_array_foreach(list, idx,
			   inst) if (inst_classify(jx_str(inst, "status", NULL)) != INST_GONE &&
				     count < 1024) numbers[count++] =
	    jx_int(inst, "instance_number", (long long)idx);
	json_decref(svc);
	for (i = count; i < n && !rc; i++) {
		snprintf(path, sizeof(path), "/api/service/%s/instance", sid);
		rc = api(&k->c, "POST", path, NULL, &ans);
		json_decref(ans);
	}
	/* the newest instances go first */
	for (i = count; i > n && !rc; i--) {
		snprintf(path, sizeof(path), "/api/service/%s/instance/%lld", sid, numbers[i - 1]);
		rc = api(&k->c, "DELETE", path, NULL, &ans);
		json_decref(ans);
	}
	return rc;
}

int set_replicas(struct oakctl *k, const char *sid, unsigned int n)
{
	json_t *body = json_pack("{s:i}", "replicas", (json_int_t)n), *ans = NULL;
	char path[512];
	int rc;

	snprintf(path, sizeof(path), "/api/service/%s", sid);
	rc = client_call(&k->c, "PUT", path, body, &ans);
	json_decref(body);
	json_decref(ans);
	if (rc == EXIT_REFUSED && (k->c.status == 501 || k->c.status == 405))
		return scale_by_instances(k, sid, n);
	if (rc)
		fprintf(stderr, "oakctl: PUT %s: %s\n", path, k->c.err);
	return rc;
}

/* A replica count: a whole number from 0 to 1000. */
int parse_replicas(const char *s, unsigned int *n)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1000)
		return -1;
	*n = (unsigned int)v;
	return 0;
}

int cmd_scale(struct oakctl *k, int argc, char **argv)
{
	const char *sid;
	char name[256];
	unsigned int n;
	json_t *svc;
	int rc;

	if (argc != 2)
		return fail(EXIT_USAGE, "usage: oakctl scale SERVICE N [--wait] [--timeout S]");
	if (parse_replicas(argv[1], &n))
		return fail(EXIT_USAGE, "replicas '%s': must be a whole number from 0 to 1000",
			    argv[1]);
	rc = find_service(k, argv[0], &svc);
	if (rc)
		return rc;
	sid = jx_str(svc, "microserviceID", jx_oid(svc, NULL));
	svc_display_name(svc, name, sizeof(name));
	if (!sid) {
		json_decref(svc);
		return fail(EXIT_REFUSED, "service '%s' has no microserviceID", argv[0]);
	}
	rc = set_replicas(k, sid, n);
	if (!rc) {
		printf("%s: replicas %u\n", name, n);
		fflush(stdout);
		if (k->o.wait)
			rc = wait_services(k, &sid, &n, 1);
	}
	json_decref(svc);
	return rc;
}
