/* Organizations: {"_id", "name", "members": [user ids]}; listed by any
 * user, written by an Admin. A name is a claim ("org_name"). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rest.h"

int rest_orgs_list(struct rest *r, struct rest_req *q, json_t **out)
{
	if (root_store_list(r->store, "organizations", NULL, NULL, out))
		return rest_err_store(r, out);
	return 200;
}

/* name and members of the body into doc; 0 or an error status */
static int apply(json_t *body, json_t *doc, bool create, json_t **out)
{
	json_t *name = json_object_get(body, "name"), *m = json_object_get(body, "members"), *v;
	const char *k;
	size_t i;

	json_object_foreach(body, k, v)
	{
		if (strcmp(k, "name") && strcmp(k, "members") && strcmp(k, "_id"))
			return rest_err(out, 400, k, "%s: unknown field", k);
	}
	if (create && !name)
		return rest_err(out, 400, "name", "name: missing required field");
	if (name &&
	    (!json_is_string(name) || !json_string_length(name) || json_string_length(name) > 64))
		return rest_err(out, 400, "name", "name: 1..64 characters");
	if (m && !json_is_array(m))
		return rest_err(out, 400, "members", "members: expected an array of user ids");
	json_array_foreach(m, i, v)
	{
		if (!json_is_string(v))
			return rest_err(out, 400, "members", "members[%zu]: expected a user id", i);
	}
	if (name)
		json_object_set(doc, "name", name);
	if (m)
		json_object_set(doc, "members", m);
	else if (create)
		json_object_set_new(doc, "members", json_array());
	return 0;
}

static int claim_name(struct rest *r, json_t *doc, const char *id, json_t **out)
{
	int rc = root_store_claim(r->store, "org_name",
				  json_string_value(json_object_get(doc, "name")), id);

	if (rc == ROOT_STORE_TAKEN) {
		root_store_rollback(r->store);
		return rest_err(out, 409, "name", "name: an organization '%s' exists",
				json_string_value(json_object_get(doc, "name")));
	}
	return rc ? rest_err_store(r, out) : 0;
}

int rest_org_create(struct rest *r, struct rest_req *q, json_t **out)
{
	char id[ROOT_ID_LEN];
	json_t *doc = NULL;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected {name, members}");
	root_store_new_id(r->store, id);
	doc =
	    json_pack("{s:o, s:I}", "_id", rest_oid_new(id), "created_at", (json_int_t)time(NULL));
	if ((rc = apply(q->body, doc, true, out)))
		goto out;
	if (root_store_begin(r->store)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	if ((rc = claim_name(r, doc, id, out)))
		goto out;
	if (root_store_put(r->store, "organizations", id, doc) || root_store_commit(r->store)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	*out = json_incref(doc);
	rc = 200;
out:
	json_decref(doc);
	return rc;
}

int rest_org_update(struct rest *r, struct rest_req *q, json_t **out)
{
	json_t *doc = NULL, *old_name = NULL;
	int rc;

	if (!json_is_object(q->body))
		return rest_err(out, 400, "payload", "payload: expected {name, members}");
	rc = root_store_get(r->store, "organizations", q->param[0], &doc);
	if (rc == ROOT_STORE_NOTFOUND)
		return rest_err(out, 404, NULL, "organization %s: not found", q->param[0]);
	if (rc)
		return rest_err_store(r, out);
	old_name = json_incref(json_object_get(doc, "name"));
	if ((rc = apply(q->body, doc, false, out)))
		goto out;
	if (root_store_begin(r->store)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	if (!json_equal(old_name, json_object_get(doc, "name"))) {
		if ((rc = claim_name(r, doc, q->param[0], out)))
			goto out;
		if (root_store_release(r->store, "org_name", json_string_value(old_name)) < 0) {
			rc = rest_err_store(r, out);
			goto out;
		}
	}
	if (root_store_put(r->store, "organizations", q->param[0], doc) ||
	    root_store_commit(r->store)) {
		rc = rest_err_store(r, out);
		goto out;
	}
	*out = json_incref(doc);
	rc = 200;
out:
	json_decref(old_name);
	json_decref(doc);
	return rc;
}

int rest_org_delete(struct rest *r, struct rest_req *q, json_t **out)
{
	int rc;

	if (root_store_begin(r->store))
		return rest_err_store(r, out);
	rc = root_store_del(r->store, "organizations", q->param[0]);
	if (rc == ROOT_STORE_NOTFOUND) {
		root_store_rollback(r->store);
		return rest_err(out, 404, NULL, "organization %s: not found", q->param[0]);
	}
	if (rc || root_store_release_owner(r->store, q->param[0]) || root_store_commit(r->store))
		return rest_err_store(r, out);
	*out = json_pack("{s:s}", "message", "deleted");
	return 200;
}
