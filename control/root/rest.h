/* oak-root's REST API (Oakestra's routes, see /api/openapi.json): the
 * route table and dispatch (rest.c), one file per resource
 * (rest_auth.c, rest_apps.c, rest_services.c, rest_users.c,
 * rest_clusters.c, rest_orgs.c). A handler validates, changes desired state
 * in the store in one transaction, answers, and then tells the
 * orchestrator. Every answer is plain JSON; errors are
 * {"message": ..., "status": N[, "field": ...]}. */
#ifndef OAK_ROOT_REST_H
#define OAK_ROOT_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

struct root_orch;
struct root_nodes;

#define REST_MAX_PARAMS	    3
#define REST_LOGIN_FAILS    5  /* failed logins per source address ... */
#define REST_LOGIN_WINDOW_S 60 /* ... per this window, then 429 */
#define REST_LOGIN_SOURCES  256

struct rest_login_fail {
	char client[48];
	int64_t window_start; /* s */
	int n;
};

struct rest {
	struct root_store *store;
	struct root_orch *orch; /* NULL: nothing is told (tests of the REST layer alone) */
	struct root_nodes *nodes; /* NULL: no node reports (tests of the REST layer alone) */
	unsigned char secret[64];
	size_t secret_len;
	int64_t access_ttl_s, refresh_ttl_s;
	json_t *openapi;
	struct rest_login_fail fails[REST_LOGIN_SOURCES];
};

struct rest_req {
	const struct root_http_req *http;
	const char *param[REST_MAX_PARAMS];
	json_t *body; /* the parsed body, or NULL when there is none */
	/* the caller (routes that need a token) */
	json_t *user; /* the user document */
	const char *user_id;
	const char *username;
	bool admin;
	json_t *claims;
};

/* A handler returns the HTTP status and sets *out to the answer. */
typedef int (*rest_handler)(struct rest *r, struct rest_req *q, json_t **out);

/* The http.h callback: routing, body parsing, authentication. */
void rest_serve(void *arg, const struct root_http_req *req, struct root_http_resp *resp);

/* An error answer; field may be NULL. Returns status. */
int rest_err(json_t **out, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An SLA parser message "a.b[0].c: why" as a 400 naming the field. */
int rest_err_sla(json_t **out, const char *msg);
/* 500 after a store failure (the transaction, if any, rolled back). */
int rest_err_store(struct rest *r, json_t **out);

/* The document's id (its "_id".$oid), "" when it has none. */
const char *rest_oid(json_t *doc);
json_t *rest_oid_new(const char *id);
/* Whether the caller may see/change doc (owned through "userId"). */
bool rest_owns(const struct rest_req *q, json_t *doc);
/* Loads coll/id for the caller: 0 with *doc, or an error status in *out
 * (404 missing, 403 another user's). */
int rest_load_owned(struct rest *r, struct rest_req *q, const char *coll, const char *id,
		    json_t **doc, json_t **out);
/* A user document without its password hash (a new reference). */
json_t *rest_user_public(json_t *user);
/* The user document of name, NULL when there is none (a new reference). */
json_t *rest_user_by_name(struct rest *r, const char *name);

/* ---- handlers */
int rest_login(struct rest *r, struct rest_req *q, json_t **out);
int rest_refresh(struct rest *r, struct rest_req *q, json_t **out);
int rest_register(struct rest *r, struct rest_req *q, json_t **out);

int rest_app_create(struct rest *r, struct rest_req *q, json_t **out);
int rest_apps_list(struct rest *r, struct rest_req *q, json_t **out);
int rest_apps_of_user(struct rest *r, struct rest_req *q, json_t **out);
int rest_app_get(struct rest *r, struct rest_req *q, json_t **out);
int rest_app_update(struct rest *r, struct rest_req *q, json_t **out);
int rest_app_delete(struct rest *r, struct rest_req *q, json_t **out);

int rest_services_all(struct rest *r, struct rest_req *q, json_t **out);
int rest_services_of_app(struct rest *r, struct rest_req *q, json_t **out);
int rest_service_get(struct rest *r, struct rest_req *q, json_t **out);
int rest_service_update(struct rest *r, struct rest_req *q, json_t **out);
int rest_service_delete(struct rest *r, struct rest_req *q, json_t **out);
int rest_instance_add(struct rest *r, struct rest_req *q, json_t **out);
int rest_instance_remove(struct rest *r, struct rest_req *q, json_t **out);

int rest_clusters_list(struct rest *r, struct rest_req *q, json_t **out);
int rest_clusters_active(struct rest *r, struct rest_req *q, json_t **out);
int rest_cluster_get(struct rest *r, struct rest_req *q, json_t **out);
int rest_cluster_nodes(struct rest *r, struct rest_req *q, json_t **out);

int rest_users_list(struct rest *r, struct rest_req *q, json_t **out);
int rest_user_get(struct rest *r, struct rest_req *q, json_t **out);
int rest_user_update(struct rest *r, struct rest_req *q, json_t **out);
int rest_user_delete(struct rest *r, struct rest_req *q, json_t **out);
int rest_user_password(struct rest *r, struct rest_req *q, json_t **out);

int rest_orgs_list(struct rest *r, struct rest_req *q, json_t **out);
int rest_org_create(struct rest *r, struct rest_req *q, json_t **out);
int rest_org_update(struct rest *r, struct rest_req *q, json_t **out);
int rest_org_delete(struct rest *r, struct rest_req *q, json_t **out);

/* Deletes a service's document and claims inside the caller's
 * transaction; *last is its last version (for the orchestrator). */
int rest_service_drop(struct rest *r, const char *sid, json_t **last);

/* Creates or resets the user "Admin" (roles ["Admin"]) with password. */
int rest_admin_init(struct root_store *s, const char *password);

#endif
