/* oak-root's durable desired state behind one narrow interface, so that a
 * replicated database can replace SQLite later without touching the REST
 * routes or the orchestration.
 *
 * The store holds JSON documents in collections, addressed by an id, and
 * unique claims (a key that at most one owner may hold: an application
 * name, an rr_ip, an Instance IP, a node-subnet block). Every write is
 * durable when the call returns (SQLite in WAL mode, synchronous=FULL):
 * what the root acknowledged survives a SIGKILL. Writes between
 * root_store_begin() and root_store_commit() land together or not at all,
 * so a rejected or interrupted request leaves nothing behind.
 *
 * Collections (document shapes in control/root/README.md):
 *   "users", "organizations", "applications", "services", "clusters"
 * A service document holds its instances (instance_list[]), as Oakestra's.
 *
 * Single-threaded: oak-root's one event loop is the only caller.
 * Return codes: 0 ok, ROOT_STORE_NOTFOUND, ROOT_STORE_TAKEN (a claim held by
 * another owner), -1 error (logged once, by the store). */
#ifndef OAK_ROOT_STORE_H
#define OAK_ROOT_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ROOT_STORE_NOTFOUND 1
#define ROOT_STORE_TAKEN    2
#define ROOT_ID_LEN	    25 /* 24 hex digits (a MongoDB ObjectId's shape) + NUL */

struct root_store;

/* Opens (creating when missing) the database at path. NULL with err set. */
struct root_store *root_store_open(const char *path, char *err, size_t errlen);
void root_store_close(struct root_store *s);

/* A new id: 24 lowercase hex digits, time first (sorts by creation). */
void root_store_new_id(struct root_store *s, char out[ROOT_ID_LEN]);

int root_store_begin(struct root_store *s);
int root_store_commit(struct root_store *s);
void root_store_rollback(struct root_store *s);

/* Inserts or replaces. The store keeps its own copy (doc is not stolen). */
int root_store_put(struct root_store *s, const char *coll, const char *id, json_t *doc);
/* *out is a new reference for the caller to json_decref(). */
int root_store_get(struct root_store *s, const char *coll, const char *id, json_t **out);
int root_store_del(struct root_store *s, const char *coll, const char *id);
/* Every document of coll, oldest first; when field is not NULL only those
 * whose top-level string field equals value. *out: a new JSON array. */
int root_store_list(struct root_store *s, const char *coll, const char *field,
		    const char *value, json_t **out);

/* Claims key in namespace ns ("app_name", "ip", "subnet", ...) for owner.
 * Claiming again for the same owner is a no-op (0). */
int root_store_claim(struct root_store *s, const char *ns, const char *key, const char *owner);
/* Owner of a claim into owner (ROOT_ID_LEN or more), or NOTFOUND. */
int root_store_claim_owner(struct root_store *s, const char *ns, const char *key, char *owner,
			   size_t len);
int root_store_release(struct root_store *s, const char *ns, const char *key);
/* Releases every claim of owner (in every namespace). */
int root_store_release_owner(struct root_store *s, const char *owner);

#endif
