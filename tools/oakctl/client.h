/* SPDX-License-Identifier: MIT */
/*
 * oakctl's HTTP client for the root's REST API (libcurl).
 *
 * Every call sends the access token; an expired one (by its exp claim, or
 * a 401 answer) is renewed once with the refresh token, and when that
 * fails and a password is at hand (OAK_PASSWORD) the client logs in again.
 * New tokens are written back to the config file.
 */
#ifndef OAKCTL_CLIENT_H
#define OAKCTL_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"

/* oakctl's exit codes, documented in --help */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,     /* the root said no (its message printed) */
	EXIT_USAGE = 2,	      /* bad command line or input file */
	EXIT_UNREACHABLE = 3, /* cannot reach the root */
	EXIT_WAIT = 4,	      /* a wait failed or timed out */
};

struct client {
	struct settings *s;
	const char *config_path; /* where renewed tokens are saved */
	void *curl;
	bool refreshed; /* the one renewal per run is used */
	bool verbose;
	long status;	/* HTTP status of the last answer */
	char err[1024]; /* why the last call failed */
};

int client_init(struct client *c, struct settings *s, const char *config_path);
void client_cleanup(struct client *c);

/*
 * method path [body] -> *answer (a new reference; JSON null for an empty
 * body). Returns EXIT_OK for a 2xx answer, EXIT_REFUSED for any other
 * status (c->err: "<status> <message>"), EXIT_UNREACHABLE when no answer
 * came (c->err says why). *answer is set for refusals too (the error body).
 */
int client_call(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **answer);

/* POST /api/auth/login with the settings' user and password; saves the tokens. */
int client_login(struct client *c);

/* client_call, and on failure print "oakctl: METHOD PATH: <err>" to stderr. */
int api(struct client *c, const char *method, const char *path, const json_t *body,
	json_t **answer);

#endif
