// SPDX-License-Identifier: MIT
/* Instance statuses and service summaries (see status.h). */
#include "status.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"

/* Oakestra's "no place found" statuses: the scheduler gave up on the instance. */
static const char *const unschedulable[] = {
    "NoActiveClusterWithCapacity",
    "TargetClusterNotFound",
    "TargetClusterNotActive",
    "TargetClusterNoCapacity",
    "NO_WORKER_CAPACITY",
    "NO_QUALIFIED_WORKER_FOUND",
    "NO_NODE_FOUND",
    "NoQualifiedWorkerFound",
};

enum inst_class inst_classify(const char *status)
{
	size_t i;

	if (!status)
		return INST_PENDING;
	if (!strcmp(status, "RUNNING") || !strcmp(status, "COMPLETED"))
		return INST_READY;
	if (!strcmp(status, "FAILED") || !strcmp(status, "DEAD"))
		return INST_FAILED;
	if (!strcmp(status, "UNDEPLOYED"))
		return INST_GONE;
	for (i = 0; i < sizeof(unschedulable) / sizeof(unschedulable[0]); i++)
		if (!strcmp(status, unschedulable[i]))
			return INST_FAILED;
	return INST_PENDING;
}

#define MAX_KINDS 16

struct kind {
	const char *status;
	unsigned int n;
};

static void count_kind(struct kind *kinds, unsigned int *nkinds, const char *status)
{
	unsigned int i;

	for (i = 0; i < *nkinds; i++)
		if (!strcmp(kinds[i].status, status)) {
			kinds[i].n++;
			return;
		}
	if (*nkinds < MAX_KINDS)
		kinds[(*nkinds)++] = (struct kind){status, 1};
}

void svc_summarise(const json_t *service, unsigned int desired, const char *name,
		   struct svc_summary *sum, char *line, size_t linelen)
{
	const json_t *list = json_object_get(service, "instance_list"), *inst;
	struct kind kinds[MAX_KINDS];
	unsigned int nkinds = 0, i;
	size_t idx, used;
	int n;

	memset(sum, 0, sizeof(*sum));
	sum->desired = desired;
	sum->failed_number = -1;
	json_array_foreach(list, idx, inst)
	{
		const char *st = jx_str(inst, "status", "REQUESTED");

		switch (inst_classify(st)) {
		case INST_GONE:
			continue;
		case INST_READY:
			sum->ready++;
			if (!strcmp(st, "RUNNING"))
				sum->running++;
			break;
		case INST_FAILED:
			if (!sum->failed++) {
				sum->failed_number =
				    jx_int(inst, "instance_number", (long long)idx);
				snprintf(sum->failed_status, sizeof(sum->failed_status), "%s", st);
				snprintf(sum->failed_detail, sizeof(sum->failed_detail), "%s",
					 jx_str(inst, "status_detail", ""));
			}
			break;
		case INST_PENDING:
			break;
		}
		sum->total++;
		if (strcmp(st, "RUNNING"))
			count_kind(kinds, &nkinds, st);
	}
	if (!linelen)
		return;
	n = snprintf(line, linelen, "%s: %u/%u RUNNING", name, sum->running, desired);
	used = n < 0 ? 0 : (size_t)n;
	if (sum->total < desired) {
		struct kind missing = {"not yet created", desired - sum->total};

		if (nkinds < MAX_KINDS)
			kinds[nkinds++] = missing;
	}
	for (i = 0; i < nkinds && used < linelen; i++) {
		n = snprintf(line + used, linelen - used, "%s%u %s", i ? ", " : " (", kinds[i].n,
			     kinds[i].status);
		used += n < 0 ? 0 : (size_t)n;
	}
	if (nkinds && used < linelen)
		snprintf(line + used, linelen - used, ")");
}

bool svc_done(const struct svc_summary *sum)
{
	return sum->failed == 0 && sum->ready == sum->desired && sum->total == sum->desired;
}

void svc_display_name(const json_t *service, char *out, size_t outlen)
{
	const char *app = jx_str(service, "app_name", NULL);
	const char *svc = jx_str(service, "microservice_name", NULL);

	if (!app)
		app = jx_str(service, "applicationID", "?");
	if (!svc)
		svc = jx_str(service, "microserviceID", "?");
	snprintf(out, outlen, "%s/%s", app, svc);
}
