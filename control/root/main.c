/*
 * oak-root: the root orchestrator. One thread, one oak_loop: the REST API
 * (libmicrohttpd, http.c and rest_*.c) on port 10000, the durable desired
 * state (SQLite, store.c), and the orchestration over the root MQTT broker
 * (orch.c). The REST API answers while the broker is unreachable.
 *
 *   oak-root [--config /etc/oak/oak-root.conf] [--key=value ...]
 *   oak-root --init-admin [--admin-password P]   create/reset the Admin user
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "addresses.h"
#include "http.h"
#include "jwt.h"
#include "metrics.h"
#include "nodes.h"
#include "orch.h"
#include "password.h"
#include "rest.h"
#include "store.h"
#include "web.h"
#include "oak/bus.h"
#include "oak/config.h"
#include "oak/daemon.h"
#include "oak/fsutil.h"
#include "oak/log.h"
#include "oak/metrics.h"
#include "oak/sla.h"

extern const char root_openapi_json[]; /* openapi.json, embedded at build time */

static const struct oak_cfg_key keys[] = {
    {"http_addr", OAK_CFG_STR, "0.0.0.0", "address the REST API listens on"},
    {"http_port", OAK_CFG_INT, "10000", "port of the REST API"},
    {"state_dir", OAK_CFG_STR, "/var/lib/oak/root", "durable state (root.db, SQLite)"},
    {"root_broker_host", OAK_CFG_STR, "127.0.0.1", "root MQTT broker (towards the clusters)"},
    {"root_broker_port", OAK_CFG_INT, "1883", "root broker port"},
    {"root_broker_username", OAK_CFG_STR, NULL, "root broker user (optional)"},
    {"root_broker_password", OAK_CFG_STR, NULL, "root broker password (optional)"},
    {"root_broker_cafile", OAK_CFG_STR, NULL, "root broker CA certificate: TLS on when set"},
    {"root_broker_certfile", OAK_CFG_STR, NULL, "client certificate for the root broker"},
    {"root_broker_keyfile", OAK_CFG_STR, NULL, "client key for the root broker"},
    {"keepalive", OAK_CFG_INT, "5", "MQTT keepalive in seconds (libmosquitto minimum 5)"},
    {"token_secret", OAK_CFG_STR, NULL,
     "HS256 secret of the tokens, 32 characters or more (default: generated once and kept "
     "in the store)"},
    {"access_token_ttl", OAK_CFG_INT, "600", "seconds an access token is valid"},
    {"refresh_token_ttl", OAK_CFG_INT, "604800", "seconds a refresh token is valid"},
    {"max_body_bytes", OAK_CFG_INT, "1048576", "largest request body accepted (413 beyond)"},
    {"cluster_timeout", OAK_CFG_DOUBLE, "8",
     "seconds of silence after which a cluster is lost (its instances go elsewhere)"},
    {"cluster_offline_grace", OAK_CFG_DOUBLE, "2",
     "seconds a cluster whose status says offline (its last will) has to come back"},
    {"instance_grace", OAK_CFG_DOUBLE, "10",
     "seconds a FAILED instance is left to its cluster before the root places it again"},
    {"deploy_resend", OAK_CFG_DOUBLE, "5", "seconds after which an unanswered deploy is resent"},
    {"placement_retry", OAK_CFG_DOUBLE, "3",
     "seconds between tries of an instance that no cluster could take"},
    {"metrics", OAK_CFG_BOOL, "true", "serve Prometheus metrics at /metrics on the HTTP port"},
    {"web_root", OAK_CFG_STR, "",
     "the dashboard's files, served at / (default: the installed share/oak/web, or the "
     "source folder when run from the build tree; \"off\": no dashboard)"},
    {"log_level", OAK_CFG_STR, "info", "debug, info, warn or error"},
};

struct root {
	struct oak_config *cfg;
	struct root_store *store;
	struct oak_bus *bus;
	struct oak_loop *loop;
	struct root_http *http;
	struct root_orch *orch;
	struct oak_metrics *metrics;
	struct root_web *web;
	struct root_nodes *nodes;
	struct rest rest;
};

/* --init-admin and --admin-password are actions, not settings: taken out
 * of argv before the config sees it */
static int take_actions(int *argc, char **argv, bool *init_admin, const char **password)
{
	int o = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--init-admin") || !strcmp(a, "--init_admin")) {
			*init_admin = true;
		} else if (!strncmp(a, "--admin-password=", 17) ||
			   !strncmp(a, "--admin_password=", 17)) {
			*password = a + 17;
		} else if (!strcmp(a, "--admin-password") || !strcmp(a, "--admin_password")) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "oak-root: --admin-password needs a value\n");
				return -1;
			}
			*password = argv[++i];
		} else {
			argv[o++] = argv[i];
		}
	}
	*argc = o;
	argv[o] = NULL;
	return 0;
}

static struct root_store *open_store(struct oak_config *cfg)
{
	const char *dir = oak_config_str(cfg, "state_dir");
	char path[1024], err[512];
	struct root_store *s;

	if (oak_mkdir_p(dir, 0755, 0700)) {
		oak_log(ERROR, "state_dir %s: %s", dir, strerror(errno));
		return NULL;
	}
	snprintf(path, sizeof(path), "%.1000s/root.db", dir);
	umask(077); /* the database holds password hashes and the token secret */
	s = root_store_open(path, err, sizeof(err));
	if (!s)
		oak_log(ERROR, "store: %s", err);
	return s;
}

static int init_admin(struct root_store *s, const char *password)
{
	char gen[32];

	if (password && strlen(password) < ROOT_PASSWORD_MIN) {
		fprintf(stderr, "oak-root: --admin-password: at least %d characters\n",
			ROOT_PASSWORD_MIN);
		return 2;
	}
	if (!password) {
		if (root_password_generate(gen, sizeof(gen))) {
			fprintf(stderr, "oak-root: cannot generate a password\n");
			return 1;
		}
		password = gen;
	}
	if (rest_admin_init(s, password)) {
		fprintf(stderr, "oak-root: cannot store the Admin user\n");
		return 1;
	}
	if (password == gen)
		printf("Admin password (shown once): %s\n", gen);
	else
		printf("Admin password set\n");
	fflush(stdout);
	return 0;
}

/* token_secret from the config, else the one kept in the store (made the
 * first time) */
static int load_secret(struct root *r)
{
	const char *cfg = oak_config_str(r->cfg, "token_secret");
	unsigned char rnd[32];
	char text[64];
	json_t *doc = NULL;
	long n;

	if (*cfg) {
		if (strlen(cfg) < ROOT_JWT_SECRET_MIN || strlen(cfg) > sizeof(r->rest.secret)) {
			oak_log(ERROR, "token_secret: %d..%zu characters", ROOT_JWT_SECRET_MIN,
				sizeof(r->rest.secret));
			return -1;
		}
		memcpy(r->rest.secret, cfg, strlen(cfg));
		r->rest.secret_len = strlen(cfg);
		return 0;
	}
	if (root_store_get(r->store, "meta", "token_secret", &doc) == 0) {
		const char *s = json_string_value(json_object_get(doc, "secret"));

		n = s ? root_b64url_decode(s, strlen(s), r->rest.secret, sizeof(r->rest.secret))
		      : -1;
		json_decref(doc);
		if (n < ROOT_JWT_SECRET_MIN) {
			oak_log(ERROR, "store: the kept token secret is damaged");
			return -1;
		}
		r->rest.secret_len = (size_t)n;
		return 0;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	root_b64url_encode(rnd, sizeof(rnd), text);
	doc = json_pack("{s:s}", "secret", text);
	if (!doc || root_store_put(r->store, "meta", "token_secret", doc)) {
		json_decref(doc);
		return -1;
	}
	json_decref(doc);
	memcpy(r->rest.secret, rnd, sizeof(rnd));
	r->rest.secret_len = sizeof(rnd);
	oak_log(INFO, "token secret generated and kept in the store");
	return 0;
}

static int configure_rest(struct root *r)
{
	json_error_t e;
	json_t *users = NULL;

	r->rest.store = r->store;
	r->rest.access_ttl_s = oak_config_int(r->cfg, "access_token_ttl");
	r->rest.refresh_ttl_s = oak_config_int(r->cfg, "refresh_token_ttl");
	if (r->rest.access_ttl_s < 1 || r->rest.refresh_ttl_s < 1) {
		oak_log(ERROR, "access_token_ttl/refresh_token_ttl: at least 1 s");
		return -1;
	}
	if (oak_config_int(r->cfg, "max_body_bytes") < 1024) {
		oak_log(ERROR, "max_body_bytes: at least 1024");
		return -1;
	}
	r->rest.openapi = json_loads(root_openapi_json, 0, &e);
	if (!r->rest.openapi) {
		oak_log(ERROR, "openapi.json: line %d: %s", e.line, e.text);
		return -1;
	}
	if (load_secret(r))
		return -1;
	if (root_store_list(r->store, "users", NULL, NULL, &users) == 0 && !json_array_size(users))
		oak_log(WARN, "no user yet: run oak-root --init-admin to create the Admin");
	json_decref(users);
	return 0;
}

/* The dashboard is optional: without its files the API still answers. */
static void open_web(struct root *r)
{
	const char *dir = oak_config_str(r->cfg, "web_root");
	char err[PATH_MAX + 64];

	if (!strcmp(dir, "off"))
		return;
	if (!*dir)
		dir = root_web_default_dir();
	r->web = root_web_new(dir, err, sizeof(err));
	if (!r->web) {
		oak_log(WARN, "dashboard off: %s", err);
		return;
	}
	root_http_set_web(r->http, r->web);
	oak_log(INFO, "dashboard at / from %s", dir);
}

static int connect_bus(struct root *r)
{
	struct oak_bus_opts bo = {0};

	oak_bus_opts_from_config(&bo, r->cfg, "root_broker_");
	bo.client_id = "oak-root";
	bo.keepalive_s = (int)oak_config_int(r->cfg, "keepalive");
	bo.clean_session = true;
	r->bus = oak_bus_new(&bo);
	if (!r->bus) {
		oak_log(ERROR, "bus: cannot create");
		return -1;
	}
	oak_log(INFO, "root broker %s:%d", bo.host ? bo.host : "127.0.0.1",
		bo.port ? bo.port : 1883);
	return oak_loop_add_bus(r->loop, r->bus);
}

int main(int argc, char **argv)
{
	static struct root root;
	struct root *r = &root;
	bool want_admin = false;
	const char *admin_pw = NULL;
	char err[512];
	int rc = 1;

	if (take_actions(&argc, argv, &want_admin, &admin_pw))
		return 2;
	r->cfg =
	    oak_daemon_config("oak-root", keys, sizeof(keys) / sizeof(keys[0]), argc, argv, &rc);
	if (!r->cfg)
		return rc;
	rc = 1;
	r->store = open_store(r->cfg);
	if (!r->store)
		goto out;
	if (want_admin) {
		rc = init_admin(r->store, admin_pw);
		goto out;
	}
	if (configure_rest(r))
		goto out;
	r->loop = oak_loop_new();
	if (!r->loop || connect_bus(r))
		goto out;
	r->orch = root_orch_new(r->store, r->bus, r->loop, r->cfg);
	if (!r->orch) {
		oak_log(ERROR, "orchestration: cannot start");
		goto out;
	}
	r->rest.orch = r->orch;
	r->nodes = root_nodes_new(r->bus);
	if (!r->nodes) {
		oak_log(ERROR, "node reports: cannot start");
		goto out;
	}
	r->rest.nodes = r->nodes;
	r->http = root_http_new(r->loop, oak_config_str(r->cfg, "http_addr"),
				(int)oak_config_int(r->cfg, "http_port"),
				(size_t)oak_config_int(r->cfg, "max_body_bytes"), rest_serve,
				&r->rest, err, sizeof(err));
	if (!r->http) {
		oak_log(ERROR, "%s", err);
		goto out;
	}
	if (oak_config_bool(r->cfg, "metrics")) {
		r->metrics = root_metrics_new(r->store, r->orch, r->bus);
		if (!r->metrics)
			goto out;
		root_http_set_metrics(r->http, r->metrics);
	}
	open_web(r);
	oak_log(INFO, "REST API on %s:%d, state %s/root.db", oak_config_str(r->cfg, "http_addr"),
		root_http_port(r->http), oak_config_str(r->cfg, "state_dir"));

	rc = oak_loop_run(r->loop) ? 1 : 0;
	oak_log(INFO, "stopping");
out:
	if (r->http)
		root_http_free(r->http);
	oak_metrics_free(r->metrics);
	root_web_free(r->web);
	if (r->orch)
		root_orch_free(r->orch);
	root_nodes_free(r->nodes);
	if (r->bus) {
		oak_bus_flush(&r->bus, 1, 500);
		oak_bus_free(r->bus);
	}
	oak_loop_free(r->loop);
	json_decref(r->rest.openapi);
	root_store_close(r->store);
	oak_config_free(r->cfg);
	return rc;
}
