/* store.h on SQLite: one documents table (collection, id, JSON text) and
 * one claims table with UNIQUE(ns, key). WAL journal with synchronous=FULL,
 * so a write is on disk when the call returns (a commit is one fsync of the
 * WAL); every statement is prepared once. Outside root_store_begin() each
 * write is its own transaction. */
#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sqlite3.h>

#include "oak/log.h"

enum stmt {
	ST_PUT,
	ST_GET,
	ST_DEL,
	ST_LIST,
	ST_LIST_FIELD,
	ST_CLAIM_INS,
	ST_CLAIM_OWNER,
	ST_RELEASE,
	ST_RELEASE_OWNER,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_N,
};

static const char *const sql[ST_N] = {
    [ST_PUT] = "INSERT INTO documents(coll, id, doc) VALUES(?1, ?2, ?3) "
	       "ON CONFLICT(coll, id) DO UPDATE SET doc = excluded.doc",
    [ST_GET] = "SELECT doc FROM documents WHERE coll = ?1 AND id = ?2",
    [ST_DEL] = "DELETE FROM documents WHERE coll = ?1 AND id = ?2",
    [ST_LIST] = "SELECT doc FROM documents WHERE coll = ?1 ORDER BY seq",
    /* ?2 is a JSON path ($."field"): the field name is never SQL text */
    [ST_LIST_FIELD] = "SELECT doc FROM documents WHERE coll = ?1 AND "
		      "json_type(doc, ?2) = 'text' AND json_extract(doc, ?2) = ?3 ORDER BY seq",
    [ST_CLAIM_INS] = "INSERT INTO claims(ns, key, owner) VALUES(?1, ?2, ?3) "
		     "ON CONFLICT(ns, key) DO NOTHING",
    [ST_CLAIM_OWNER] = "SELECT owner FROM claims WHERE ns = ?1 AND key = ?2",
    [ST_RELEASE] = "DELETE FROM claims WHERE ns = ?1 AND key = ?2",
    [ST_RELEASE_OWNER] = "DELETE FROM claims WHERE owner = ?1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS documents ("
			     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
			     " coll TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
			     " UNIQUE(coll, id));"
			     "CREATE TABLE IF NOT EXISTS claims ("
			     " ns TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,"
			     " UNIQUE(ns, key));"
			     "CREATE INDEX IF NOT EXISTS claims_owner ON claims(owner);";

struct root_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	int depth; /* nested root_store_begin() */
	uint8_t rnd[5];
	uint32_t counter;
};

static int fail(struct root_store *s, const char *what)
{
	oak_log(ERROR, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static sqlite3_stmt *prep(struct root_store *s, enum stmt i)
{
	sqlite3_stmt *st = s->st[i];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

struct root_store *root_store_open(const char *path, char *err, size_t errlen)
{
	struct root_store *s = calloc(1, sizeof(*s));
	char *msg = NULL;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto bad;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA foreign_keys=ON;",
			 NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		goto bad;
	}
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
			goto bad;
		}
	if (getrandom(s->rnd, sizeof(s->rnd), 0) != (ssize_t)sizeof(s->rnd) ||
	    getrandom(&s->counter, sizeof(s->counter), 0) != (ssize_t)sizeof(s->counter)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto bad;
	}
	return s;
bad:
	root_store_close(s);
	return NULL;
}

void root_store_close(struct root_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db)
		sqlite3_close(s->db);
	free(s);
}

/* ObjectId's shape: 4 bytes of seconds, 5 random bytes per process, a
 * 3-byte counter (so ids made in the same second still sort in order). */
void root_store_new_id(struct root_store *s, char out[ROOT_ID_LEN])
{
	uint32_t t = (uint32_t)time(NULL);
	uint32_t c = s->counter++ & 0xffffff;

	snprintf(out, ROOT_ID_LEN, "%08x%02x%02x%02x%02x%02x%06x", t, s->rnd[0], s->rnd[1],
		 s->rnd[2], s->rnd[3], s->rnd[4], c);
}

static int step_done(struct root_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return 0;
}

int root_store_begin(struct root_store *s)
{
	if (s->depth++ > 0)
		return 0;
	if (step_done(s, prep(s, ST_BEGIN), "begin")) {
		s->depth = 0;
		return -1;
	}
	return 0;
}

int root_store_commit(struct root_store *s)
{
	if (s->depth <= 0)
		return 0;
	if (--s->depth > 0)
		return 0;
	if (step_done(s, prep(s, ST_COMMIT), "commit")) {
		if (!sqlite3_get_autocommit(s->db))
			step_done(s, prep(s, ST_ROLLBACK), "rollback");
		return -1;
	}
	return 0;
}

void root_store_rollback(struct root_store *s)
{
	if (s->depth <= 0)
		return;
	s->depth = 0;
	if (!sqlite3_get_autocommit(s->db))
		step_done(s, prep(s, ST_ROLLBACK), "rollback");
}

int root_store_put(struct root_store *s, const char *coll, const char *id, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	sqlite3_stmt *st;
	int rc;

	if (!text) {
		oak_log(ERROR, "store: put %s/%s: cannot encode", coll, id);
		return -1;
	}
	st = prep(s, ST_PUT);
	bind_text(st, 1, coll);
	bind_text(st, 2, id);
	bind_text(st, 3, text);
	rc = step_done(s, st, "put");
	free(text);
	return rc;
}

static json_t *decode(const unsigned char *text, int len)
{
	json_error_t e;
	json_t *doc = json_loadb((const char *)text, (size_t)len, JSON_DECODE_ANY, &e);

	if (!doc)
		oak_log(ERROR, "store: a stored document does not parse: %s", e.text);
	return doc;
}

int root_store_get(struct root_store *s, const char *coll, const char *id, json_t **out)
{
	sqlite3_stmt *st = prep(s, ST_GET);
	int rc;

	*out = NULL;
	bind_text(st, 1, coll);
	bind_text(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = decode(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));
		sqlite3_reset(st);
		return *out ? 0 : -1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return ROOT_STORE_NOTFOUND;
	return fail(s, "get");
}

int root_store_del(struct root_store *s, const char *coll, const char *id)
{
	sqlite3_stmt *st = prep(s, ST_DEL);

	bind_text(st, 1, coll);
	bind_text(st, 2, id);
	if (step_done(s, st, "del"))
		return -1;
	return sqlite3_changes(s->db) ? 0 : ROOT_STORE_NOTFOUND;
}

int root_store_list(struct root_store *s, const char *coll, const char *field, const char *value,
		    json_t **out)
{
	sqlite3_stmt *st;
	char path[300];
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (!arr)
		return -1;
	if (field) {
		/* a JSON path that quotes the key: no '"' or '\' may be in it */
		if (strpbrk(field, "\"\\") || strlen(field) > 256) {
			json_decref(arr);
			oak_log(ERROR, "store: list %s: bad field name", coll);
			return -1;
		}
		snprintf(path, sizeof(path), "$.\"%s\"", field);
		st = prep(s, ST_LIST_FIELD);
		bind_text(st, 2, path);
		bind_text(st, 3, value ? value : "");
	} else {
		st = prep(s, ST_LIST);
	}
	bind_text(st, 1, coll);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *doc = decode(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));

		if (!doc || json_array_append_new(arr, doc)) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return fail(s, "list");
	}
	*out = arr;
	return 0;
}

int root_store_claim_owner(struct root_store *s, const char *ns, const char *key, char *owner,
			   size_t len)
{
	sqlite3_stmt *st = prep(s, ST_CLAIM_OWNER);
	int rc;

	bind_text(st, 1, ns);
	bind_text(st, 2, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (owner && len)
			snprintf(owner, len, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ROOT_STORE_NOTFOUND : fail(s, "claim owner");
}

int root_store_claim(struct root_store *s, const char *ns, const char *key, const char *owner)
{
	sqlite3_stmt *st = prep(s, ST_CLAIM_INS);
	char held[512];
	int rc;

	bind_text(st, 1, ns);
	bind_text(st, 2, key);
	bind_text(st, 3, owner);
	if (step_done(s, st, "claim"))
		return -1;
	if (sqlite3_changes(s->db))
		return 0;
	rc = root_store_claim_owner(s, ns, key, held, sizeof(held));
	if (rc)
		return -1;
	return strcmp(held, owner) ? ROOT_STORE_TAKEN : 0;
}

int root_store_release(struct root_store *s, const char *ns, const char *key)
{
	sqlite3_stmt *st = prep(s, ST_RELEASE);

	bind_text(st, 1, ns);
	bind_text(st, 2, key);
	if (step_done(s, st, "release"))
		return -1;
	return sqlite3_changes(s->db) ? 0 : ROOT_STORE_NOTFOUND;
}

int root_store_release_owner(struct root_store *s, const char *owner)
{
	sqlite3_stmt *st = prep(s, ST_RELEASE_OWNER);

	bind_text(st, 1, owner);
	return step_done(s, st, "release owner");
}
