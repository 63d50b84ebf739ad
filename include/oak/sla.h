/* Oakestra SLA v2.0 deployment descriptors: parser, validator and the
 * structs the root and the schedulers work on.
 *
 * Every string is copied into the structs; the original JSON of every
 * microservice is kept (oak_service.raw) so fields oak does not interpret
 * survive a round trip through the root. Parsing is pure (no I/O). */
#ifndef OAK_SLA_H
#define OAK_SLA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OAK_SLA_MAX_BYTES	 (1024 * 1024) /* whole descriptor */
#define OAK_SLA_MAX_APPS	 32
#define OAK_SLA_MAX_SERVICES	 64 /* per application */
#define OAK_SLA_MAX_CONSTRAINTS	 16
#define OAK_SLA_MAX_CONNECTIVITY 16
#define OAK_SLA_MAX_INSTANCES	 256 /* addresses.instances[] */
#define OAK_SLA_MAX_STRV	 256 /* cmd[], args[], environment[], added_files[] */
/* any single string in a strv (cmd[], args[], environment[], added_files[]):
 * bounded by the descriptor only, as Oakestra's schema has no limit */
#define OAK_STR_MAX OAK_SLA_MAX_BYTES

#define OAK_NAME_LEN	31 /* 1..30 alphanumeric + NUL */
#define OAK_ID_LEN	65 /* ids: customer, app, service, node, cluster */
#define OAK_IP4_LEN	16
#define OAK_IP6_LEN	46
#define OAK_CIDR_LEN	50
#define OAK_RUNTIME_LEN 32
#define OAK_CODE_LEN	8192 /* the image reference in a node's deploy message (msg.h) */
#define OAK_DESC_LEN	8192
/* app.appns.service.servicens */
#define OAK_JOB_NAME_LEN (4 * (OAK_NAME_LEN - 1) + 3 + 1)

/* A heap-allocated list of strings (cmd[], args[], environment[]). */
struct oak_strv {
	char **v;
	size_t n;
};

/* A short inline list of short strings (runtimes, architectures). */
#define OAK_NAMES_MAX 16
struct oak_names {
	size_t n;
	char v[OAK_NAMES_MAX][OAK_RUNTIME_LEN];
};

struct oak_geo {
	bool set;
	double lat; /* -90..90 */
	double lon; /* -180..180 */
};

/* Network coordinates (Vivaldi, 2-D plus height), milliseconds. */
struct oak_vivaldi {
	bool set;
	double x, y, height, error;
};

struct oak_resources {
	int64_t memory_mb;
	double vcpus;
	int64_t vgpus;
	int64_t vtpus;
	int64_t storage_mb;
	int64_t bandwidth_in_kbps;
	int64_t bandwidth_out_kbps;
};

enum oak_constraint_type {
	OAK_CONSTRAINT_DIRECT,
	OAK_CONSTRAINT_GEO,
	OAK_CONSTRAINT_LATENCY,
	OAK_CONSTRAINT_CLUSTERS,
	OAK_CONSTRAINT_ADDONS,
};

struct oak_constraint {
	enum oak_constraint_type type;
	char cluster[256];  /* direct/clusters: "c1;c2" */
	char node[256];	    /* direct: "n1;n2" */
	char location[64];  /* geo/latency: "lat,lon" as written */
	struct oak_geo geo; /* parsed location */
	char area[64];
	double threshold; /* geo: km; latency: ms */
	double rigidness;
	int64_t convergence_time;
};

enum oak_con_type {
	OAK_CON_LATENCY,
	OAK_CON_BANDWIDTH,
};

struct oak_con_constraint {
	enum oak_con_type type;
	double threshold;
	double rigidness;
	int64_t convergence_time;
};

struct oak_connectivity {
	char target_microservice_id[OAK_ID_LEN];
	struct oak_con_constraint *con;
	size_t n_con;
};

struct oak_addr_instance {
	int32_t instance_number;
	char instance_ip[OAK_IP4_LEN];
	char instance_ip_v6[OAK_IP6_LEN];
	char from[64], to[64], start[64]; /* Oakestra fields, kept verbatim */
};

struct oak_addresses {
	char rr_ip[OAK_IP4_LEN]; /* "" = let the root allocate */
	char closest_ip[OAK_IP4_LEN];
	char rr_ip_v6[OAK_IP6_LEN];
	char closest_ip_v6[OAK_IP6_LEN];
	struct oak_addr_instance *instances;
	size_t n_instances;
};

struct oak_service {
	char microservice_id[OAK_ID_LEN]; /* Oakestra: must be "" on submit */
	char name[OAK_NAME_LEN];
	char ns[OAK_NAME_LEN];
	char job_name[OAK_JOB_NAME_LEN]; /* filled by the SLA parser */
	char virtualization[OAK_RUNTIME_LEN];
	/* code, state, target_node and sla_violation_strategy: strings of any
	 * length (Oakestra's schema sets none, and code and state are URLs);
	 * they point into raw, never NULL ("" when absent) */
	const char *code;
	struct oak_resources res;
	struct oak_strv cmd;
	struct oak_strv environment; /* "K=V" */
	struct oak_strv args;
	struct oak_strv added_files;
	char port[256]; /* "host:container[/proto]" ';'-separated, or "port" */
	bool one_shot;
	bool privileged;
	const char *target_node;	    /* into raw, "" when absent */
	const char *state;		    /* into raw, "" when absent */
	const char *sla_violation_strategy; /* into raw, "" when absent */
	struct oak_names arch;
	struct oak_addresses addresses;
	struct oak_constraint *constraints;
	size_t n_constraints;
	struct oak_connectivity *connectivity;
	size_t n_connectivity;
	json_t *raw; /* the microservice object exactly as submitted */
};

struct oak_app {
	char application_id[OAK_ID_LEN];
	char name[OAK_NAME_LEN];
	char ns[OAK_NAME_LEN];
	char desc[OAK_DESC_LEN];
	struct oak_service *services;
	size_t n_services;
};

struct oak_sla {
	char sla_version[16];
	char customer_id[OAK_ID_LEN];
	struct oak_app *apps;
	size_t n_apps;
	struct oak_strv args;
};

/* Parse and validate a whole descriptor. Returns 0 and a new *out, or -1
 * with err naming the field ("applications[0].microservices[1].code: ...")
 * and *out NULL. Never crashes on any input of any length. */
int oak_sla_parse(const char *json, size_t len, struct oak_sla **out, char *err, size_t errlen);
/* Same from a parsed JSON document (not consumed). */
int oak_sla_from_json(json_t *root, struct oak_sla **out, char *err, size_t errlen);
void oak_sla_free(struct oak_sla *sla);

/* One microservice object (e.g. PUT /api/service/<sid>, or a deploy
 * request), validated as inside an SLA. app/appns name the application
 * for the job name. path prefixes error messages ("" for none). */
int oak_service_from_json(json_t *obj, const char *app, const char *appns, const char *path,
			  struct oak_service *out, char *err, size_t errlen);
void oak_service_free(struct oak_service *svc);
/* Whether key is a field of an SLA microservice object (what the root
 * keeps of a service as submitted, apart from its own bookkeeping). */
bool oak_sla_service_key(const char *key);

/* 1..30 ASCII letters or digits */
bool oak_sla_name_valid(const char *name);
/* dotted IPv4 inside 10.30.0.0/16 / IPv6 inside fdff::/16 */
bool oak_service_ip_valid(const char *ip);
bool oak_service_ip6_valid(const char *ip);
/* "app.appns.service.servicens"; -1 if it does not fit or a name is bad */
int oak_job_name(char *buf, size_t len, const char *app, const char *appns, const char *svc,
		 const char *svcns);
/* Split a job name into its 4 names (each buf OAK_NAME_LEN); -1 if malformed */
int oak_job_name_split(const char *job, char app[OAK_NAME_LEN], char appns[OAK_NAME_LEN],
		       char svc[OAK_NAME_LEN], char svcns[OAK_NAME_LEN]);

const char *oak_constraint_type_name(enum oak_constraint_type t);

void oak_strv_free(struct oak_strv *sv);

#endif
