/* SPDX-License-Identifier: MIT */
/*
 * What instance statuses mean to a user waiting for a deployment, and the
 * one-line summary of a service's instances ("app/svc: 1/2 RUNNING
 * (1 CREATING)"). Pure: no I/O.
 */
#ifndef OAKCTL_STATUS_H
#define OAKCTL_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum inst_class {
	INST_PENDING, /* REQUESTED, *_SCHEDULED, CREATING, CREATED, unknown */
	INST_READY,   /* RUNNING, or COMPLETED (a one_shot service that ran) */
	INST_FAILED,  /* FAILED, DEAD, or no place found (NoActiveClusterWithCapacity...) */
	INST_GONE,    /* UNDEPLOYED: on its way out, not counted */
};

enum inst_class inst_classify(const char *status);

struct svc_summary {
	unsigned int desired; /* replicas asked for */
	unsigned int total;   /* instance entries, UNDEPLOYED ones left out */
	unsigned int running; /* RUNNING */
	unsigned int ready;   /* RUNNING or COMPLETED */
	unsigned int failed;
	/* the first failed instance, for the exit message */
	long long failed_number;
	char failed_status[64];
	char failed_detail[256];
};

/*
 * Summarise a service document's instance_list[] against desired replicas,
 * writing the progress line ("name: R/D RUNNING (n STATUS, ...)") into line.
 */
void svc_summarise(const json_t *service, unsigned int desired, const char *name,
		   struct svc_summary *sum, char *line, size_t linelen);

/* Every wanted instance is there and ready, and none is too many. */
bool svc_done(const struct svc_summary *sum);

/* "app/svc" from a service document (app_name or applicationID, microservice_name). */
void svc_display_name(const json_t *service, char *out, size_t outlen);

#endif
