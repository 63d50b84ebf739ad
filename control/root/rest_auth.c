/* Login, token refresh and user registration. Access tokens live
 * access_ttl (10 min), refresh tokens refresh_ttl (7 days); failed logins
 * are limited per source address (REST_LOGIN_FAILS per minute, then 429). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "jwt.h"
#include "password.h"
#include "rest.h"
#include "oak/log.h"

#define ADMIN_NAME  "Admin"
#define DEFAULT_ORG "root"

static struct rest_login_fail *fail_slot(struct rest *r, const char *client, int64_t now,
					 bool create)
{
	struct rest_login_fail *victim = NULL; /* a free slot, else the oldest */

	for (size_t i = 0; i < REST_LOGIN_SOURCES; i++) {
		struct rest_login_fail *f = &r->fails[i];

		if (f->client[0] && !strcmp(f->client, client)) {
			if (now - f->window_start >= REST_LOGIN_WINDOW_S) {
				f->window_start = now;
				f->n = 0;
			}
			return f;
		}
		if (!f->client[0]) {
			if (!victim || victim->client[0])
				victim = f;
		} else if (!victim ||
			   (victim->client[0] && f->window_start < victim->window_start)) {
			victim = f;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->client, sizeof(victim->client), "%s", client);
	victim->window_start = now;
	return victim;
}

static json_t *roles_of(json_t *user)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(user, "roles"), i, v)
	{
		const char *name = json_is_string(v)
				       ? json_string_value(v)
				       : json_string_value(json_object_get(v, "name"));

		if (name)
			json_array_append_new(out, json_string(name));
	}
	return out;
}

static bool has_admin_role(json_t *user)
{
	json_t *roles = roles_of(user), *v = NULL;
	size_t i;
	bool yes = false;

	json_array_foreach(roles, i, v)
	{
		if (!strcmp(json_string_value(v), "Admin"))
			yes = true;
	}
	json_decref(roles);
	return yes;
}

static char *issue(struct rest *r, json_t *user, const char *org, const char *type, int64_t ttl)
{
	unsigned char rnd[12];
	char jti[20];
	int64_t now = (int64_t)time(NULL);
	json_t *c = NULL;
	char *tok;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return NULL;
	root_b64url_encode(rnd, sizeof(rnd), jti);
	c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:o, s:s, s:b}", "sub",
		      json_string_value(json_object_get(user, "username")), "uid", rest_oid(user),
		      "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
		      (json_int_t)(now + ttl), "jti", jti, "type", type, "roles", roles_of(user),
		      "organization", org, "fresh", 0);
	if (!c)
		return NULL;
	tok = root_jwt_sign(r->secret, r->secret_len, c);
	json_decref(c);
	return tok;
}

static int body_str(struct rest_req *q, const char *key, bool required, const char **v,
		    json_t **out)
{
	json_t *j = json_object_get(q->body, key);

	*v = NULL;
	if (!j) {
		if (required)
			return rest_err(out, 400, key, "%s: missing required field", key);
		return 0;
	}
	if (!json_is_string(j))
		return rest_err(out, 400, key, "%s: expected string", key);
	*v = json_string_value(j);
	return 0;
}

static void spend_a_hash(const char *pw)
{
	static char *dummy;

	if (!dummy)
		dummy = root_password_hash("not a password of anyone");
	if (dummy)
		(void)root_password_check(pw, dummy);
}

/* Logging in to an organization other than one's own needs membership
 * (an Admin may enter any). 0, or an error status. */
static int org_member(struct rest *r, json_t *user, const char *org, json_t **out)
{
	const char *own = json_string_value(json_object_get(user, "organization"));
	json_t *orgs = NULL, *m = NULL;
	size_t i;
	bool ok = false;

	if ((own && !strcmp(own, org)) || has_admin_role(user))
		return 0;
	if (root_store_list(r->store, "organizations", "name", org, &orgs))
		return rest_err_store(r, out);
	json_array_foreach(json_object_get(json_array_get(orgs, 0), "members"), i, m)
	{
		if (json_is_string(m) && !strcmp(json_string_value(m), rest_oid(user)))
			ok = true;
	}
	json_decref(orgs);
	if (!ok)
		return rest_err(out, 401, "organization_name",
				"organization_name: not a member of '%s'", org);
	return 0;
}

int rest_login(struct rest *r, struct rest_req *q, json_t **out)
{
	const char *name, *pw, *org;
	int64_t now = (int64_t)time(NULL);
	struct rest_login_fail *f = fail_slot(r, q->http->client, now, false);
	json_t *user = NULL;
	char *tok, *ref;
	int rc;

	if (f && f->n >= REST_LOGIN_FAILS)
		return rest_err(out, 429, NULL, "too many failed logins from %s: wait up to %d s",
				q->http->client, REST_LOGIN_WINDOW_S);
	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected {username, password}");
	if ((rc = body_str(q, "username", true, &name, out)) ||
	    (rc = body_str(q, "password", true, &pw, out)) ||
	    (rc = body_str(q, "organization_name", false, &org, out)))
		return rc;
	user = rest_user_by_name(r, name);
	if (!user)
		spend_a_hash(pw); /* an unknown name takes as long as a wrong password */
	if (!user ||
	    !root_password_check(pw, json_string_value(json_object_get(user, "password_hash")))) {
		json_decref(user);
		f = fail_slot(r, q->http->client, now, true);
		f->n++;
		oak_log(WARN, "login of '%.64s' from %s failed (%d in this minute)", name,
			q->http->client, f->n);
		return rest_err(out, 401, NULL, "wrong user name or password");
	}
	if (!org || !*org)
		org = json_string_value(json_object_get(user, "organization")) ?: DEFAULT_ORG;
	else if ((rc = org_member(r, user, org, out))) {
		json_decref(user);
		return rc;
	}
	tok = issue(r, user, org, "access", r->access_ttl_s);
	ref = issue(r, user, org, "refresh", r->refresh_ttl_s);
	json_decref(user);
	if (!tok || !ref) {
		free(tok);
		free(ref);
		return rest_err(out, 500, NULL, "cannot issue a token");
	}
	*out = json_pack("{s:s, s:s}", "token", tok, "refresh_token", ref);
	free(tok);
	free(ref);
	return 200;
}

int rest_refresh(struct rest *r, struct rest_req *q, json_t **out)
{
	const char *org = json_string_value(json_object_get(q->claims, "organization"));
	char *tok = issue(r, q->user, org ? org : DEFAULT_ORG, "access", r->access_ttl_s);

	if (!tok)
		return rest_err(out, 500, NULL, "cannot issue a token");
	*out = json_pack("{s:s}", "token", tok);
	free(tok);
	return 200;
}

/* roles[] as strings ("Admin", "User") from strings or {"name": ...} */
static int parse_roles(json_t *v, json_t **roles, json_t **out)
{
	size_t i;
	json_t *e = NULL;

	if (!v) {
		*roles = json_pack("[s]", "User");
		return 0;
	}
	if (!json_is_array(v))
		return rest_err(out, 400, "roles", "roles: expected an array of role names");
	*roles = json_array();
	json_array_foreach(v, i, e)
	{
		const char *name = json_is_string(e)
				       ? json_string_value(e)
				       : json_string_value(json_object_get(e, "name"));

		if (!name || !*name || strlen(name) > 64) {
			json_decref(*roles);
			*roles = NULL;
			return rest_err(out, 400, "roles", "roles[%zu]: expected a role name", i);
		}
		json_array_append_new(*roles, json_string(name));
	}
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

int rest_register(struct rest *r, struct rest_req *q, json_t **out)
{
	const char *name, *pw, *email, *org;
	char id[ROOT_ID_LEN];
	json_t *roles = NULL, *doc;
	char *hash;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected a user object");
	if ((rc = body_str(q, "username", true, &name, out)) ||
	    (rc = body_str(q, "password", true, &pw, out)) ||
	    (rc = body_str(q, "email", false, &email, out)) ||
	    (rc = body_str(q, "organization", false, &org, out)))
		return rc;
	if (!name_ok(name))
		return rest_err(out, 400, "username",
				"username: 1..64 letters, digits, '_', '-' or '.'");
	if (strlen(pw) < ROOT_PASSWORD_MIN || strlen(pw) > ROOT_PASSWORD_MAX)
		return rest_err(out, 400, "password", "password: %d..%d characters",
				ROOT_PASSWORD_MIN, ROOT_PASSWORD_MAX);
	if ((rc = parse_roles(json_object_get(q->body, "roles"), &roles, out)))
		return rc;
	hash = root_password_hash(pw);
	if (!hash) {
		json_decref(roles);
		return rest_err(out, 500, NULL, "cannot hash the password");
	}
	root_store_new_id(r->store, id);
	doc = json_pack("{s:o, s:s, s:s, s:s, s:o, s:s, s:I}", "_id", rest_oid_new(id), "username",
			name, "email", email ? email : "", "password_hash", hash, "roles", roles,
			"organization", org && *org ? org : DEFAULT_ORG, "created_at",
			(json_int_t)time(NULL));
	free(hash);
	if (root_store_begin(r->store))
		goto store;
	rc = root_store_claim(r->store, "username", name, id);
	if (rc == ROOT_STORE_TAKEN) {
		root_store_rollback(r->store);
		json_decref(doc);
		return rest_err(out, 409, "username", "username: '%s' is taken", name);
	}
	if (rc || root_store_put(r->store, "users", id, doc) || root_store_commit(r->store))
		goto store;
	*out = rest_user_public(doc);
	json_decref(doc);
	return 200;
store:
	json_decref(doc);
	return rest_err_store(r, out);
}

int rest_admin_init(struct root_store *s, const char *password)
{
	struct rest r = {.store = s};
	json_t *user = rest_user_by_name(&r, ADMIN_NAME);
	char id[ROOT_ID_LEN];
	char *hash = root_password_hash(password);
	int rc = -1;

	if (!hash) {
		json_decref(user);
		return -1;
	}
	if (root_store_begin(s))
		goto out;
	if (user) {
		snprintf(id, sizeof(id), "%s", rest_oid(user));
		json_object_set_new(user, "password_hash", json_string(hash));
	} else {
		root_store_new_id(s, id);
		user = json_pack("{s:o, s:s, s:s, s:s, s:[s], s:s, s:I}", "_id", rest_oid_new(id),
				 "username", ADMIN_NAME, "email", "", "password_hash", hash,
				 "roles", "Admin", "organization", DEFAULT_ORG, "created_at",
				 (json_int_t)time(NULL));
	}
	if (!user || root_store_claim(s, "username", ADMIN_NAME, id) ||
	    root_store_put(s, "users", id, user) || root_store_commit(s)) {
		root_store_rollback(s);
		goto out;
	}
	rc = 0;
out:
	free(hash);
	json_decref(user);
	return rc;
}
