/* SPDX-License-Identifier: MIT */
/*
 * The SLA file apply sends. oak's extension "replicas" (per microservice,
 * default 1) is oakctl's to apply after registering, so it is checked and
 * taken out before the SLA goes to the root (whose validator, like
 * Oakestra's, knows only SLA v2.0's fields). Pure: no I/O.
 */
#ifndef OAKCTL_SLAFILE_H
#define OAKCTL_SLAFILE_H

#include <jansson.h>
#include <stddef.h>

#define SLA_MAX_REPLICAS 1000

/*
 * Check the shape apply relies on (an object with applications[], each
 * with application_name and microservices[] of objects with
 * microservice_name; replicas a whole number 0..1000) and return in *send
 * a copy without "replicas". -1 with err naming the field.
 */
int sla_prepare(const json_t *sla, json_t **send, char *err, size_t errlen);

/* The replicas the SLA asks for app/service (1 when it does not say). -1: not in the SLA. */
int sla_replicas(const json_t *sla, const char *app, const char *svc, unsigned int *n);

#endif
