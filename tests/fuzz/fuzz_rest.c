/* libFuzzer target for oak-root's REST API: every route's body, path and
 * bearer token go through the real dispatch (rest_serve) and handlers, on
 * a fresh in-memory SQLite store each run that holds an Admin, a user
 * "alice" and one application of hers (created through the API).
 *
 * An input is one or more requests separated by a line "~~~":
 *
 *     <auth> <METHOD> <path>\n<body>
 *
 * auth: "-" no token, "A"/"U" an access token of Admin/alice, "R"/"r" a
 * refresh token of Admin/alice, "E" an expired access token of alice, any
 * other word is sent as the Authorization header itself. In the path, "@A"
 * stands for alice's application id and "@S" for its first service's id.
 *
 * Whatever the input, every answer must be JSON that encodes (an object,
 * or a list for a 2xx) with a status in 200..599, and every error must be
 * an object carrying "message" and the same "status"; a 500 is a failure
 * too (the store is in memory and never fails). ASan/LSan catch the
 * rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "password.h"
#include "rest.h"
#include "store.h"
#include "oak/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define PASSWORD "fuzz-password-1"
#define MAX_REQS 8

static const unsigned char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
static char *hash;

static const char app_sla[] =
    "{\"sla_version\":\"v2.0\",\"customerID\":\"Admin\",\"applications\":[{"
    "\"applicationID\":\"\",\"application_name\":\"fz\",\"application_namespace\":\"test\","
    "\"application_desc\":\"\",\"microservices\":[{\"microserviceID\":\"\","
    "\"microservice_name\":\"web\",\"microservice_namespace\":\"test\","
    "\"virtualization\":\"container\",\"cmd\":[],\"memory\":100,\"vcpus\":1,"
    "\"vgpus\":0,\"vtpus\":0,\"bandwidth_in\":0,\"bandwidth_out\":0,\"storage\":0,"
    "\"code\":\"docker.io/library/nginx:latest\",\"state\":\"\",\"port\":\"80:80\","
    "\"added_files\":[],\"constraints\":[]}]}]}";

struct world {
	struct root_store *store;
	struct rest rest;
	char admin_id[ROOT_ID_LEN], alice_id[ROOT_ID_LEN];
	char app_id[ROOT_ID_LEN + 8], svc_id[ROOT_ID_LEN + 8];
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	oak_log_init("fuzz_rest", OAK_LOG_ERROR);
	if (getenv("FUZZ_REST_LOG"))
		oak_log_set_level(OAK_LOG_DEBUG);
	hash = root_password_hash(PASSWORD);
	if (!hash)
		abort();
	return 0;
}

static void put_user(struct world *w, const char *name, const char *role, char *id)
{
	json_t *u;

	root_store_new_id(w->store, id);
	u = json_pack("{s:o, s:s, s:s, s:s, s:[], s:s, s:I}", "_id", rest_oid_new(id), "username",
		      name, "email", "", "password_hash", hash, "roles", "organization", "root",
		      "created_at", (json_int_t)1700000000);
	if (!u)
		abort();
	if (role)
		json_array_append_new(json_object_get(u, "roles"), json_string(role));
	if (root_store_claim(w->store, "username", name, id) ||
	    root_store_put(w->store, "users", id, u))
		abort();
	json_decref(u);
}

static char *token(struct world *w, const char *name, const char *uid, const char *type,
		   int64_t exp)
{
	json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:[], s:s}", "sub", name, "uid", uid,
			      "iat", (json_int_t)(exp - 600), "exp", (json_int_t)exp, "type", type,
			      "roles", "organization", "root");
	char *t, *h;

	if (!c)
		abort();
	t = root_jwt_sign(w->rest.secret, w->rest.secret_len, c);
	json_decref(c);
	if (!t || asprintf(&h, "Bearer %s", t) < 0)
		abort();
	free(t);
	return h;
}

static char *auth_header(struct world *w, const char *a, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	char *h;

	if (n == 1) {
		switch (a[0]) {
		case '-':
			return NULL;
		case 'A':
			return token(w, "Admin", w->admin_id, "access", now + 600);
		case 'U':
			return token(w, "alice", w->alice_id, "access", now + 600);
		case 'R':
			return token(w, "Admin", w->admin_id, "refresh", now + 600);
		case 'r':
			return token(w, "alice", w->alice_id, "refresh", now + 600);
		case 'E':
			return token(w, "alice", w->alice_id, "access", now - 5);
		}
	}
	h = strndup(a, n);
	if (!h)
		abort();
	return h;
}

/* "@A"/"@S" replaced by the ids */
static char *expand(struct world *w, const char *p, size_t n)
{
	size_t cap = n * (ROOT_ID_LEN + 8) + 1, o = 0;
	char *out = malloc(cap);

	if (!out)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;

		if (p[i] == '@' && i + 1 < n && p[i + 1] == 'A')
			rep = w->app_id;
		else if (p[i] == '@' && i + 1 < n && p[i + 1] == 'S')
			rep = w->svc_id;
		if (rep) {
			o += (size_t)sprintf(out + o, "%s", rep);
			i++;
		} else {
			out[o++] = p[i];
		}
	}
	out[o] = '\0';
	return out;
}

static void check(const struct root_http_req *req, const struct root_http_resp *resp)
{
	json_t *st;
	char *text;

	if (resp->status < 200 || resp->status > 599 ||
	    !(json_is_object(resp->body) || (resp->status < 300 && json_is_array(resp->body)))) {
		fprintf(stderr, "%s %s: status %d, body %s\n", req->method, req->path, resp->status,
			resp->body ? "not an object or a list" : "missing");
		abort();
	}
	text = json_dumps(resp->body, JSON_COMPACT);
	if (!text)
		abort();
	if (resp->status == 500) {
		fprintf(stderr, "%s %s: %d %s\n", req->method, req->path, resp->status, text);
		abort();
	}
	if (resp->status >= 400) {
		st = json_object_get(resp->body, "status");
		if (!json_is_string(json_object_get(resp->body, "message")) ||
		    json_integer_value(st) != resp->status) {
			fprintf(stderr, "%s %s: error without message/status: %s\n", req->method,
				req->path, text);
			abort();
		}
	}
	free(text);
}

static int serve(struct world *w, const char *method, const char *path, const char *auth,
		 const char *body, size_t body_len, json_t **out)
{
	struct root_http_req req = {.method = method,
				    .path = path,
				    .body = body_len ? body : NULL,
				    .body_len = body_len,
				    .authorization = auth,
				    .client = "192.0.2.1"};
	struct root_http_resp resp = {.status = 500};

	rest_serve(&w->rest, &req, &resp);
	check(&req, &resp);
	if (out)
		*out = resp.body;
	else
		json_decref(resp.body);
	return resp.status;
}

static void world_open(struct world *w)
{
	char err[256], *auth;
	json_t *ans = NULL, *app, *svc;

	memset(w, 0, sizeof(*w));
	w->store = root_store_open(":memory:", err, sizeof(err));
	if (!w->store) {
		fprintf(stderr, "store: %s\n", err);
		abort();
	}
	memcpy(w->rest.secret, secret, sizeof(secret) - 1);
	w->rest.secret_len = sizeof(secret) - 1;
	w->rest.store = w->store;
	w->rest.access_ttl_s = 600;
	w->rest.refresh_ttl_s = 3600;
	w->rest.openapi = json_pack("{s:s}", "openapi", "3.0.0");
	put_user(w, "Admin", "Admin", w->admin_id);
	put_user(w, "alice", NULL, w->alice_id);

	auth = token(w, "alice", w->alice_id, "access", (int64_t)time(NULL) + 600);
	if (serve(w, "POST", "/api/application", auth, app_sla, strlen(app_sla), &ans) != 200)
		abort();
	free(auth);
	app = json_array_get(ans, 0);
	if (!app)
		app = ans;
	snprintf(w->app_id, sizeof(w->app_id), "%s", rest_oid(app));
	svc = json_array_get(json_object_get(app, "microservices"), 0);
	snprintf(w->svc_id, sizeof(w->svc_id), "%s",
		 json_string_value(svc) ?: json_string_value(json_object_get(svc, "$oid")) ?: "");
	json_decref(ans);
}

static void world_close(struct world *w)
{
	json_decref(w->rest.openapi);
	root_store_close(w->store);
}

/* one "<auth> <METHOD> <path>\n<body>" */
static void one(struct world *w, const char *s, size_t n)
{
	const char *end = s + n, *sp1, *sp2, *nl;
	char *method, *path, *auth, *b;
	const char *body;
	size_t blen;

	nl = memchr(s, '\n', n);
	if (!nl)
		nl = end;
	sp1 = memchr(s, ' ', (size_t)(nl - s));
	if (!sp1)
		return;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1));
	if (!sp2)
		return;
	auth = auth_header(w, s, (size_t)(sp1 - s));
	method = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path = expand(w, sp2 + 1, (size_t)(nl - sp2 - 1));
	/* the server hands over a NUL-terminated copy, as http.c does */
	body = nl < end ? nl + 1 : end;
	blen = (size_t)(end - body);
	b = malloc(blen + 1);
	if (!method || !b)
		abort();
	memcpy(b, body, blen);
	b[blen] = '\0';
	serve(w, method, path, auth, b, blen, NULL);
	free(b);
	free(auth);
	free(method);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	struct world w;

	if (size > 65536)
		return 0;
	world_open(&w);
	for (int i = 0; i < MAX_REQS && s < end; i++) {
		const char *sep = memmem(s, (size_t)(end - s), "\n~~~\n", 5);
		const char *stop = sep ? sep : end;

		one(&w, s, (size_t)(stop - s));
		s = sep ? sep + 5 : end;
	}
	world_close(&w);
	return 0;
}
