/* SPDX-License-Identifier: MIT */
/* What oakctl's commands share: the options, the client, lookups by name. */
#ifndef OAKCTL_H
#define OAKCTL_H

#include <jansson.h>
#include <stdbool.h>

#include "client.h"
#include "output.h"

struct opts {
	const char *file; /* -f FILE (apply, delete) */
	const char *node; /* --node (dp) */
	bool json, wait, follow, password_stdin;
	enum out_format output; /* -o (get); --json is OUT_JSON */
	bool color;		/* tables may use colour (output.h) */
	double timeout_s;	/* --timeout, 0 = none */
	double grace_s;		/* --grace: how long a failed instance may stay failed */
	double interval_s;	/* poll interval of --wait and logs -f */
};

struct oakctl {
	struct opts o;
	struct settings s;
	struct client c;
	char config_path[1024];
};

/* Print "oakctl: ..." to stderr and return code. */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print JSON to stdout, indented, with a newline. */
void print_json(const json_t *v);

/* Every application the user can see (GET /api/applications/, or the user's own). */
int list_apps(struct oakctl *k, json_t **apps);
/* An application by applicationID or application_name. */
int find_app(struct oakctl *k, const char *ref, json_t **app);
/* Services of one application (app NULL: of every application), documents. */
int list_services(struct oakctl *k, const json_t *app, json_t **services);
/*
 * A service by microserviceID, "app/service" or a service name unique
 * among the user's services. *svc is the service document.
 */
int find_service(struct oakctl *k, const char *ref, json_t **svc);

/*
 * Set a service's desired instance count (PUT {"replicas": n}); against a
 * root without PUT (Oakestra answers 501) one instance call at a time.
 */
int set_replicas(struct oakctl *k, const char *sid, unsigned int n);
/* "0".."1000" -> n; -1 otherwise. */
int parse_replicas(const char *s, unsigned int *n);

/* Poll the services (ids) until every instance is ready; see wait.c. */
int wait_services(struct oakctl *k, const char *const *ids, const unsigned int *desired,
		  unsigned int n);

int cmd_login(struct oakctl *k, int argc, char **argv);
int cmd_apply(struct oakctl *k, int argc, char **argv);
int cmd_get(struct oakctl *k, int argc, char **argv);
int cmd_scale(struct oakctl *k, int argc, char **argv);
int cmd_delete(struct oakctl *k, int argc, char **argv);
int cmd_logs(struct oakctl *k, int argc, char **argv);
int cmd_dp(struct oakctl *k, int argc, char **argv);
int cmd_completion(struct oakctl *k, int argc, char **argv);

#endif
