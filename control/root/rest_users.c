/* Users: list (Admin), get and update (oneself or Admin), delete (Admin),
 * password change (oneself with the old password; an Admin resets any). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "password.h"
#include "rest.h"
#include "oak/log.h"

int rest_users_list(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *all = NULL, *v = NULL;
	size_t i;

	if (root_store_list(r->store, "users", NULL, NULL, &all))
		return rest_err_store(r, out);
	*out = json_array();
	json_array_foreach(all, i, v)
	{
		json_array_append_new(*out, rest_user_public(v));
	}
	json_decref(all);
	return 200;
}

/* the user :name for the caller: 0 with *user, or an error status */
static int load_user(struct rest *r, struct rest_req *q, json_t **user, json_t **out)
{
	const char *name = q->param[0];

	if (strcmp(name, q->username) && !q->admin)
		return rest_err(out, 403, NULL, "user %s: only oneself or an Admin", name);
	*user = rest_user_by_name(r, name);
	if (!*user)
		return rest_err(out, 404, NULL, "user %s: not found", name);
	return 0;
}

int rest_user_get(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *u = NULL;
	int rc = load_user(r, q, &u, out);

	if (rc)
		return rc;
	*out = rest_user_public(u);
	json_decref(u);
	return 200;
}

static bool has_admin(json_t *roles)
{
	size_t i;
	json_t *v = NULL;

	json_array_foreach(roles, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), "Admin"))
			return true;
	}
	return false;
}

/* whether another Admin than uid exists */
static bool other_admin(struct rest *r, const char *uid)
{
	json_t *all = NULL, *v = NULL;
	size_t i;
	bool found = false;

	if (root_store_list(r->store, "users", NULL, NULL, &all))
		return true; /* do not block on a store error: the write fails anyway */
	json_array_foreach(all, i, v)
	{
		if (strcmp(rest_oid(v), uid) && has_admin(json_object_get(v, "roles")))
			found = true;
	}
	json_decref(all);
	return found;
}

int rest_user_update(struct rest *r, struct rest_req *q, json_t **out)
{
	static const char *const str_keys[] = {"email", "organization"};
	json_t *u = NULL, *v = NULL;
	const char *k;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected a user object");
	if ((rc = load_user(r, q, &u, out)))
		return rc;
	json_object_foreach(q->body, k, v)
	{
		bool known = false;

		for (size_t i = 0; i < 2; i++)
			if (!strcmp(k, str_keys[i])) {
				known = true;
				if (!json_is_string(v)) {
					rc = rest_err(out, 400, k, "%s: expected string", k);
					goto out;
				}
				json_object_set(u, k, v);
			}
		if (known || !strcmp(k, "_id") || !strcmp(k, "created_at"))
			continue;
		if (!strcmp(k, "username")) {
			if (!json_equal(v, json_object_get(u, "username"))) {
				rc = rest_err(out, 400, k, "username: cannot be changed");
				goto out;
			}
		} else if (!strcmp(k, "roles")) {
			size_t i;
			json_t *e, *roles = json_array();

			if (!q->admin) {
				json_decref(roles);
				rc = rest_err(out, 403, k, "roles: only an Admin changes roles");
				goto out;
			}
			if (!json_is_array(v))
				goto bad_roles;
			json_array_foreach(v, i, e)
			{
				const char *n = json_is_string(e)
						    ? json_string_value(e)
						    : json_string_value(json_object_get(e, "name"));

				if (!n || !*n)
					break;
				json_array_append_new(roles, json_string(n));
			}
			if (i < json_array_size(v)) {
				json_decref(roles);
				goto bad_roles;
			}
			if (!has_admin(roles) && has_admin(json_object_get(u, "roles")) &&
			    !other_admin(r, rest_oid(u))) {
				json_decref(roles);
				rc = rest_err(out, 409, k, "roles: the last Admin keeps its role");
				goto out;
			}
			json_object_set_new(u, "roles", roles);
		} else if (!strcmp(k, "password") || !strcmp(k, "password_hash")) {
			rc = rest_err(out, 400, k,
				      "%s: set passwords with POST /api/user/<name> "
				      "{oldPassword, newPassword}",
				      k);
			goto out;
		} else {
			rc = rest_err(out, 400, k, "%s: unknown field", k);
			goto out;
		}
	}
	if (root_store_put(r->store, "users", rest_oid(u), u)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	*out = rest_user_public(u);
	rc = 200;
out:
	json_decref(u);
	return rc;
bad_roles:
	json_decref(u);
	return rest_err(out, 400, "roles", "roles: expected an array of role names");
}

int rest_user_delete(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *u = rest_user_by_name(r, q->param[0]), *apps = NULL;
	char id[ROOT_ID_LEN];
	int rc;

	if (!u)
		return rest_err(out, 404, NULL, "user %s: not found", q->param[0]);
	snprintf(id, sizeof(id), "%s", rest_oid(u));
	if (has_admin(json_object_get(u, "roles")) && !other_admin(r, id)) {
		json_decref(u);
		return rest_err(out, 409, NULL, "user %s is the last Admin", q->param[0]);
	}
	json_decref(u);
	if (root_store_list(r->store, "applications", "userId", id, &apps))
		return rest_err_store(r, out);
	rc = (int)json_array_size(apps);
	json_decref(apps);
	if (rc)
		return rest_err(out, 409, NULL, "user %s owns %d applications: delete them first",
				q->param[0], rc);
	if (root_store_begin(r->store) || root_store_del(r->store, "users", id) < 0 ||
	    root_store_release_owner(r->store, id) || root_store_commit(r->store))
		return rest_err_store(r, out);
	oak_log(INFO, "user %s deleted by %s", q->param[0], q->username);
	*out = json_pack("{s:s, s:s}", "message", "deleted", "username", q->param[0]);
	return 200;
}

int rest_user_password(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *u = NULL, *oldp = NULL, *newp = NULL;
	bool self;
	char *hash;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload",
				"payload: expected {oldPassword, newPassword}");
	if ((rc = load_user(r, q, &u, out)))
		return rc;
	self = !strcmp(q->param[0], q->username);
	oldp = json_object_get(q->body, "oldPassword");
	newp = json_object_get(q->body, "newPassword");
	if (!json_is_string(newp) || json_string_length(newp) < ROOT_PASSWORD_MIN ||
	    json_string_length(newp) > ROOT_PASSWORD_MAX) {
		json_decref(u);
		return rest_err(out, 400, "newPassword", "newPassword: %d..%d characters",
				ROOT_PASSWORD_MIN, ROOT_PASSWORD_MAX);
	}
	/* oneself: the old password, also for an Admin (a stolen token alone
	 * does not change it) */
	if (self &&
	    (!json_is_string(oldp) ||
	     !root_password_check(json_string_value(oldp),
				  json_string_value(json_object_get(u, "password_hash"))))) {
		json_decref(u);
		return rest_err(out, 403, "oldPassword", "oldPassword: wrong");
	}
	hash = root_password_hash(json_string_value(newp));
	if (!hash) {
		json_decref(u);
		return rest_err(out, 500, NULL, "cannot hash the password");
	}
	json_object_set_new(u, "password_hash", json_string(hash));
	free(hash);
	if (root_store_put(r->store, "users", rest_oid(u), u)) {
		json_decref(u);
		return rest_err_store(r, out);
	}
	json_decref(u);
	*out = json_pack("{s:s}", "message", "password changed");
	return 200;
}
