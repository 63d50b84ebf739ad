// SPDX-License-Identifier: MIT
/* oakctl get apps|services|instances|clusters|nodes [-o json|yaml|wide] */
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "oakctl.h"
#include "output.h"
#include "status.h"
#include "table.h"

#define T(obj, key, buf) jx_text(obj, key, buf, sizeof(buf))

static int show(struct oakctl *k, struct table *t)
{
	if (!t)
		return fail(EXIT_REFUSED, "out of memory");
	table_print_color(t, stdout, k->o.color);
	table_free(t);
	return EXIT_OK;
}

/* -o json|yaml: the document as the root sent it (taken); false: a table. */
static bool as_document(struct oakctl *k, json_t *doc)
{
	if (k->o.output != OUT_JSON && k->o.output != OUT_YAML)
		return false;
	if (k->o.output == OUT_JSON)
		print_json(doc);
	else
		out_yaml(doc, stdout);
	json_decref(doc);
	return true;
}

static bool wide(const struct oakctl *k)
{
	return k->o.output == OUT_WIDE;
}

static int get_apps(struct oakctl *k)
{
	json_t *apps, *a;
	struct table *t;
	char ns[64], nsvc[16], desc[128], user[64];
	size_t i;
	int rc = list_apps(k, &apps);

	if (rc)
		return rc;
	if (as_document(k, apps))
		return EXIT_OK;
	t = wide(k) ? table_new("NAME", "NAMESPACE", "ID", "SERVICES", "DESCRIPTION", "USER", NULL)
		    : table_new("NAME", "NAMESPACE", "ID", "SERVICES", "DESCRIPTION", NULL);
	json_array_foreach(apps, i, a)
	{
		snprintf(nsvc, sizeof(nsvc), "%zu",
			 json_array_size(json_object_get(a, "microservices")));
		if (t)
			table_add(t, jx_str(a, "application_name", ""),
				  T(a, "application_namespace", ns),
				  jx_str(a, "applicationID", jx_oid(a, "")), nsvc,
				  T(a, "application_desc", desc), T(a, "userId", user));
	}
	json_decref(apps);
	return show(k, t);
}

static unsigned int running_of(const json_t *svc)
{
	const json_t *inst;
	unsigned int n = 0;
	size_t i;

	json_array_foreach(json_object_get(svc, "instance_list"), i, inst) n +=
	    !strcmp(jx_str(inst, "status", ""), "RUNNING");
	return n;
}

/* The services of APP (an id or a name), or of every application. */
static int services_for(struct oakctl *k, const char *app_ref, json_t **services)
{
	json_t *app = NULL;
	int rc;

	if (app_ref && (rc = find_app(k, app_ref, &app)))
		return rc;
	rc = list_services(k, app, services);
	json_decref(app);
	return rc;
}

static int get_services(struct oakctl *k, const char *app_ref)
{
	char name[256], running[32], replicas[16], rr[64], closest[64], st[64], virt[64];
	char code[256], vcpus[32], mem[32];
	json_t *services, *s;
	struct table *t;
	size_t i;
	int rc = services_for(k, app_ref, &services);

	if (rc)
		return rc;
	if (as_document(k, services))
		return EXIT_OK;
	t = wide(k) ? table_new("SERVICE", "ID", "REPLICAS", "RUNNING", "STATUS", "RR_IP",
				"CLOSEST_IP", "VIRTUALIZATION", "CODE", "VCPUS", "MEMORY_MB", NULL)
		    : table_new("SERVICE", "ID", "REPLICAS", "RUNNING", "STATUS", "RR_IP",
				"CLOSEST_IP", NULL);
	json_array_foreach(services, i, s)
	{
		svc_display_name(s, name, sizeof(name));
		snprintf(running, sizeof(running), "%u", running_of(s));
		T(s, "RR_ip", rr);
		if (!rr[0])
			T(s, "rr_ip", rr);
		if (t)
			table_add(t, name, jx_str(s, "microserviceID", jx_oid(s, "")),
				  T(s, "replicas", replicas), running, T(s, "status", st), rr,
				  T(s, "closest_ip", closest), T(s, "virtualization", virt),
				  T(s, "code", code), T(s, "vcpus", vcpus), T(s, "memory", mem));
	}
	json_decref(services);
	return show(k, t);
}

/* Instance entries of the services, each with "service" and "microserviceID" added. */
static json_t *instances_of(const json_t *services)
{
	json_t *out = json_array(), *s, *inst;
	char name[256];
	size_t i, j;

	json_array_foreach(services, i, s)
	{
		svc_display_name(s, name, sizeof(name));
		json_array_foreach(json_object_get(s, "instance_list"), j, inst)
		{
			json_t *e = json_deep_copy(inst);

			if (!e)
				continue;
			json_object_set_new(e, "service", json_string(name));
			json_object_set_new(
			    e, "microserviceID",
			    json_string(jx_str(s, "microserviceID", jx_oid(s, ""))));
			json_array_append_new(out, e);
		}
	}
	return out;
}

static int get_instances(struct oakctl *k, const char *svc_ref)
{
	char id[300], num[32], st[64], cl[128], node[128], ip[64], detail[256], nip[64], gen[32];
	json_t *services, *insts, *e, *one;
	struct table *t;
	size_t i;
	int rc;

	if (svc_ref) {
		rc = find_service(k, svc_ref, &one);
		services = rc ? NULL : json_pack("[o]", one);
	} else {
		rc = list_services(k, NULL, &services);
	}
	if (rc)
		return rc;
	insts = instances_of(services);
	json_decref(services);
	if (as_document(k, insts))
		return EXIT_OK;
	t = wide(k)
		? table_new("INSTANCE", "STATUS", "CLUSTER", "NODE", "INSTANCE_IP", "DETAIL",
			    "NODE_IP", "GENERATION", NULL)
		: table_new("INSTANCE", "STATUS", "CLUSTER", "NODE", "INSTANCE_IP", "DETAIL", NULL);
	json_array_foreach(insts, i, e)
	{
		snprintf(id, sizeof(id), "%s/%s", jx_str(e, "service", "?"),
			 T(e, "instance_number", num));
		T(e, "cluster_id", cl);
		if (!cl[0])
			T(e, "cluster_name", cl);
		if (t)
			table_add(t, id, T(e, "status", st), cl, T(e, "worker_id", node),
				  T(e, "instance_ip", ip), T(e, "status_detail", detail),
				  T(e, "node_ip", nip), T(e, "generation", gen));
	}
	json_decref(insts);
	return show(k, t);
}

static void free_of_total(const json_t *c, const char *free_key, const char *total_key, char *buf,
			  size_t len)
{
	char f[32], tot[32];

	jx_text(c, free_key, f, sizeof(f));
	jx_text(c, total_key, tot, sizeof(tot));
	if (f[0] || tot[0])
		snprintf(buf, len, "%s/%s", f[0] ? f : "?", tot[0] ? tot : "?");
	else
		buf[0] = '\0';
}

static int get_clusters(struct oakctl *k, bool nodes)
{
	char name[128], loc[64], active[8], an[16], cpu[64], mem[64], gpu[64], virt[128], op[128];
	json_t *clusters, *c;
	struct table *t;
	size_t i;
	int rc = api(&k->c, "GET", "/api/clusters/", NULL, &clusters);

	if (rc)
		return rc;
	if (as_document(k, clusters))
		return EXIT_OK;
	if (!json_is_array(clusters)) {
		print_json(clusters);
		json_decref(clusters);
		return EXIT_OK;
	}
	if (nodes && wide(k))
		t = table_new("CLUSTER", "ACTIVE", "ACTIVE_NODES", "VCPUS_FREE", "MEMORY_FREE_MB",
			      "VCPUS_TOTAL", "MEMORY_TOTAL_MB", NULL);
	else if (nodes)
		t = table_new("CLUSTER", "ACTIVE", "ACTIVE_NODES", "VCPUS_FREE", "MEMORY_FREE_MB",
			      NULL);
	else if (wide(k))
		t = table_new("NAME", "ID", "LOCATION", "ACTIVE", "NODES", "VCPUS", "MEMORY_MB",
			      "GPUS", "VIRTUALIZATION", "OPERATOR", NULL);
	else
		t = table_new("NAME", "ID", "LOCATION", "ACTIVE", "NODES", "VCPUS", "MEMORY_MB",
			      "GPUS", "VIRTUALIZATION", NULL);
	json_array_foreach(clusters, i, c)
	{
		T(c, "cluster_name", name);
		T(c, "active", active);
		T(c, "active_nodes", an);
		if (nodes) {
			if (t)
				table_add(t, name, active, an, T(c, "vcpus_free", cpu),
					  T(c, "memory_free_mb", mem), T(c, "vcpus_total", gpu),
					  T(c, "memory_total_mb", virt));
			continue;
		}
		free_of_total(c, "vcpus_free", "vcpus_total", cpu, sizeof(cpu));
		free_of_total(c, "memory_free_mb", "memory_total_mb", mem, sizeof(mem));
		free_of_total(c, "gpus_free", "gpus_total", gpu, sizeof(gpu));
		if (t)
			table_add(t, name, jx_str(c, "cluster_id", jx_oid(c, "")),
				  T(c, "cluster_location", loc), active, an, cpu, mem, gpu,
				  T(c, "virtualization", virt), T(c, "operator", op));
	}
	json_decref(clusters);
	if (nodes && t)
		fprintf(stderr, "oakctl: the root sees clusters' aggregates, not their nodes: "
				"active nodes per cluster\n");
	return show(k, t);
}

int cmd_get(struct oakctl *k, int argc, char **argv)
{
	const char *what = argc > 0 ? argv[0] : "", *arg = argc > 1 ? argv[1] : NULL;
	bool one_arg = argc <= 2;

	if (!strcmp(what, "apps") || !strcmp(what, "applications") || !strcmp(what, "app"))
		return argc == 1 ? get_apps(k) : fail(EXIT_USAGE, "usage: oakctl get apps");
	if (!strcmp(what, "services") || !strcmp(what, "service") || !strcmp(what, "svc"))
		return one_arg ? get_services(k, arg)
			       : fail(EXIT_USAGE, "usage: oakctl get services [APP]");
	if (!strcmp(what, "instances") || !strcmp(what, "instance"))
		return one_arg ? get_instances(k, arg)
			       : fail(EXIT_USAGE, "usage: oakctl get instances [SERVICE]");
	if (!strcmp(what, "clusters") || !strcmp(what, "cluster"))
		return argc == 1 ? get_clusters(k, false)
				 : fail(EXIT_USAGE, "usage: oakctl get clusters");
	if (!strcmp(what, "nodes") || !strcmp(what, "node"))
		return argc == 1 ? get_clusters(k, true)
				 : fail(EXIT_USAGE, "usage: oakctl get nodes");
	return fail(EXIT_USAGE,
		    "get what? apps, services [APP], instances [SERVICE], clusters or "
		    "nodes (not '%s')",
		    what);
}
