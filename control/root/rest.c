/* The REST routes of oak-root and their dispatch: path matching (with or
 * without the trailing slash), the JSON body, the bearer token, and the
 * error shapes every handler shares. */
#include "rest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "metrics.h"
#include "oak/log.h"
#include "oak/metrics.h"

enum auth {
	AUTH_NONE,
	AUTH_REFRESH, /* a refresh token */
	AUTH_USER,    /* an access token */
	AUTH_ADMIN,   /* an access token of an Admin */
};

struct route {
	const char *method;
	const char *pattern; /* ":x" matches one path segment */
	enum auth auth;
	rest_handler h;
};

static int openapi(struct rest *r, struct rest_req *q, json_t **out)
{
	*out = json_incref(r->openapi);
	return 200;
}

static const struct route routes[] = {
    {"GET", "/api/openapi.json", AUTH_NONE, openapi},
    {"POST", "/api/auth/login", AUTH_NONE, rest_login},
    {"POST", "/api/auth/refresh", AUTH_REFRESH, rest_refresh},
    {"POST", "/api/auth/register", AUTH_ADMIN, rest_register},

    {"POST", "/api/application", AUTH_USER, rest_app_create},
    {"GET", "/api/applications", AUTH_USER, rest_apps_list},
    {"GET", "/api/applications/:uid", AUTH_USER, rest_apps_of_user},
    {"GET", "/api/application/:id", AUTH_USER, rest_app_get},
    {"PUT", "/api/application/:id", AUTH_USER, rest_app_update},
    {"DELETE", "/api/application/:id", AUTH_USER, rest_app_delete},

    {"GET", "/api/services", AUTH_USER, rest_services_all},
    {"GET", "/api/services/:appid", AUTH_USER, rest_services_of_app},
    {"GET", "/api/service/:sid", AUTH_USER, rest_service_get},
    {"PUT", "/api/service/:sid", AUTH_USER, rest_service_update},
    {"DELETE", "/api/service/:sid", AUTH_USER, rest_service_delete},
    {"POST", "/api/service/:sid/instance", AUTH_USER, rest_instance_add},
    {"DELETE", "/api/service/:sid/instance/:n", AUTH_USER, rest_instance_remove},

    {"GET", "/api/clusters", AUTH_USER, rest_clusters_list},
    {"GET", "/api/clusters/active", AUTH_USER, rest_clusters_active},
    {"GET", "/api/cluster/:id", AUTH_USER, rest_cluster_get},
    {"GET", "/api/cluster/:id/nodes", AUTH_USER, rest_cluster_nodes},

    {"GET", "/api/users", AUTH_ADMIN, rest_users_list},
    {"GET", "/api/user/:name", AUTH_USER, rest_user_get},
    {"PUT", "/api/user/:name", AUTH_USER, rest_user_update},
    {"DELETE", "/api/user/:name", AUTH_ADMIN, rest_user_delete},
    {"POST", "/api/user/:name", AUTH_USER, rest_user_password},

    {"GET", "/api/organization", AUTH_USER, rest_orgs_list},
    {"POST", "/api/organization", AUTH_ADMIN, rest_org_create},
    {"PUT", "/api/organization/:id", AUTH_ADMIN, rest_org_update},
    {"DELETE", "/api/organization/:id", AUTH_ADMIN, rest_org_delete},
};

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF), 0 when there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80			  ? 1
		   : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		   : (s[0] & 0xf0) == 0xe0	  ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						  : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) ||
	    (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))))
		return 0;
	return n;
}

/* Replaces every byte that is not valid UTF-8 by '?', in place: a path or
 * a quoted field may hold any bytes, and a JSON string may not. */
static void utf8_scrub(char *s)
{
	while (*s) {
		size_t n = utf8_len((const unsigned char *)s);

		if (!n)
			*s++ = '?';
		else
			s += n;
	}
}

int rest_err(json_t **out, int status, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	*out = json_pack("{s:s, s:i}", "message", msg, "status", status);
	if (*out && field) {
		char f[512];

		snprintf(f, sizeof(f), "%s", field);
		utf8_scrub(f);
		json_object_set_new(*out, "field", json_string(f));
	}
	return status;
}

int rest_err_sla(json_t **out, const char *msg)
{
	const char *colon = strstr(msg, ": ");
	char field[512];

	if (!colon || (size_t)(colon - msg) >= sizeof(field))
		return rest_err(out, 400, NULL, "%s", msg);
	memcpy(field, msg, (size_t)(colon - msg));
	field[colon - msg] = '\0';
	return rest_err(out, 400, field, "%s", msg);
}

int rest_err_store(struct rest *r, json_t **out)
{
	root_store_rollback(r->store);
	return rest_err(out, 500, NULL, "the store failed (see oak-root's log); nothing changed");
}

const char *rest_oid(json_t *doc)
{
	const char *s = json_string_value(json_object_get(json_object_get(doc, "_id"), "$oid"));

	return s ? s : "";
}

json_t *rest_oid_new(const char *id)
{
	return json_pack("{s:s}", "$oid", id);
}

bool rest_owns(const struct rest_req *q, json_t *doc)
{
	const char *owner = json_string_value(json_object_get(doc, "userId"));

	return q->admin || (owner && q->user_id && !strcmp(owner, q->user_id));
}

int rest_load_owned(struct rest *r, struct rest_req *q, const char *coll, const char *id,
		    json_t **doc, json_t **out)
{
	int rc = root_store_get(r->store, coll, id, doc);

	if (rc == ROOT_STORE_NOTFOUND)
		return rest_err(out, 404, NULL, "%.*s %s: not found", (int)strlen(coll) - 1, coll,
				id);
	if (rc)
		return rest_err_store(r, out);
	if (!rest_owns(q, *doc)) {
		json_decref(*doc);
		*doc = NULL;
		return rest_err(out, 403, NULL, "%.*s %s belongs to another user",
				(int)strlen(coll) - 1, coll, id);
	}
	return 0;
}

json_t *rest_user_public(json_t *user)
{
	json_t *u = json_copy(user);

	if (u)
		json_object_del(u, "password_hash");
	return u;
}

json_t *rest_user_by_name(struct rest *r, const char *name)
{
	json_t *arr = NULL, *u = NULL;

	if (root_store_list(r->store, "users", "username", name, &arr) == 0 &&
	    json_array_size(arr) > 0)
		u = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return u;
}

#define MAX_SEGS 8

/* "/a/b/c" into its segments, in place; MAX_SEGS + 1 when there are more */
static size_t split(char *s, char *seg[MAX_SEGS])
{
	size_t n = 0;

	while (*s == '/') {
		*s++ = '\0';
		if (n == MAX_SEGS)
			return MAX_SEGS + 1;
		seg[n++] = s;
		s += strcspn(s, "/");
	}
	return *s ? MAX_SEGS + 1 : n;
}

/* Matches path (trailing slashes ignored) against pattern segment by
 * segment; the parameters point into buf. */
static bool match(const char *pattern, const char *path, char *buf, size_t len,
		  const char *param[REST_MAX_PARAMS])
{
	char pbuf[128], *ps[MAX_SEGS], *s[MAX_SEGS];
	size_t n = strlen(path), np = 0, nps, ns;

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= len || strlen(pattern) >= sizeof(pbuf))
		return false;
	memcpy(buf, path, n);
	buf[n] = '\0';
	snprintf(pbuf, sizeof(pbuf), "%s", pattern);
	nps = split(pbuf, ps);
	ns = split(buf, s);
	if (ns != nps || ns > MAX_SEGS)
		return false;
	for (size_t i = 0; i < ns; i++) {
		if (ps[i][0] == ':') {
			if (!s[i][0] || np >= REST_MAX_PARAMS)
				return false;
			param[np++] = s[i];
		} else if (strcmp(ps[i], s[i])) {
			return false;
		}
	}
	return true;
}

static const char *bearer(const char *h)
{
	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

static bool has_role(json_t *roles, const char *role)
{
	size_t i;
	json_t *v = NULL;

	json_array_foreach(roles, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), role))
			return true;
		/* Oakestra's documents hold roles as {"name": ...} too */
		if (json_is_object(v) &&
		    !strcmp(json_string_value(json_object_get(v, "name")) ?: "", role))
			return true;
	}
	return false;
}

static int authenticate(struct rest *r, struct rest_req *q, enum auth need, json_t **out)
{
	const char *tok = bearer(q->http->authorization);
	const char *typ = need == AUTH_REFRESH ? "refresh" : "access";
	int rc;

	if (!tok)
		return rest_err(out, 401, NULL, "missing token (Authorization: Bearer ...)");
	rc = root_jwt_verify(r->secret, r->secret_len, tok, typ, (int64_t)time(NULL), &q->claims);
	if (rc)
		return rest_err(out, 401, NULL, "%s", root_jwt_strerror(rc));
	q->username = json_string_value(json_object_get(q->claims, "sub"));
	q->user = q->username ? rest_user_by_name(r, q->username) : NULL;
	if (!q->user)
		return rest_err(out, 401, NULL, "the token's user no longer exists");
	q->user_id = rest_oid(q->user);
	/* a user deleted and made again under the same name is another user */
	if (json_is_string(json_object_get(q->claims, "uid")) &&
	    strcmp(json_string_value(json_object_get(q->claims, "uid")), q->user_id))
		return rest_err(out, 401, NULL, "the token's user no longer exists");
	/* roles come from the user document: a demoted user loses them at once */
	q->admin = has_role(json_object_get(q->user, "roles"), "Admin");
	if (need == AUTH_ADMIN && !q->admin)
		return rest_err(out, 403, NULL, "this needs the Admin role");
	return 0;
}

static struct oak_metric *m_requests;

int rest_metrics_register(struct oak_metrics *m)
{
	m_requests = oak_metrics_counter(m, "oak_http_requests_total",
					 "REST requests by method, route (its pattern) and status",
					 "method,route,status");
	return m_requests ? 0 : -1;
}

/* by the route's pattern, so that ids do not make series; unknown paths
 * and methods count under "other" */
static void count_request(const struct root_http_req *req, const struct route *rt, int status)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
	const char *method = "other";
	char code[16];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(req->method, methods[i]))
			method = methods[i];
	snprintf(code, sizeof(code), "%d", status);
	oak_metric_inc(m_requests, OAK_LV(method, rt ? rt->pattern : "other", code));
}

void rest_serve(void *arg, const struct root_http_req *req, struct root_http_resp *resp)
{
	struct rest *r = arg;
	struct rest_req q = {.http = req};
	char buf[2048];
	const struct route *rt = NULL;
	bool path_known = false;
	json_t *out = NULL;
	int status;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *param[REST_MAX_PARAMS] = {0};

		if (!match(routes[i].pattern, req->path, buf, sizeof(buf), param))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method))
			continue;
		rt = &routes[i];
		memcpy(q.param, param, sizeof(param));
		break;
	}
	if (!rt) {
		status = path_known ? rest_err(&out, 405, NULL, "%s is not allowed on %s",
					       req->method, req->path)
				    : rest_err(&out, 404, NULL, "no such route: %s", req->path);
		goto done;
	}
	if (rt->auth != AUTH_NONE && (status = authenticate(r, &q, rt->auth, &out)))
		goto done;
	if (req->body && req->body_len) {
		json_error_t e;

		q.body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
		if (!q.body) {
			status = rest_err(&out, 400, "payload",
					  "payload: invalid JSON at line %d column %d: %s", e.line,
					  e.column, e.text);
			goto done;
		}
	}
	status = rt->h(r, &q, &out);
done:
	if (status >= 500 || (status >= 400 && oak_log_enabled(OAK_LOG_DEBUG)))
		oak_log(WARN, "%s %s from %s: %d %s", req->method, req->path, req->client, status,
			json_string_value(json_object_get(out, "message")) ?: "");
	else
		oak_log(DEBUG, "%s %s from %s: %d", req->method, req->path, req->client, status);
	count_request(req, rt, status);
	json_decref(q.body);
	json_decref(q.user);
	json_decref(q.claims);
	resp->status = status;
	resp->body = out;
}
