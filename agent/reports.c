// SPDX-License-Identifier: MIT
/*
 * Registration and reports to the cluster: the retained online status and
 * hello on every connect, instance states, service deployed/undeployed,
 * node information (resources, every report_interval and at once on a
 * significant change) and per-instance usage.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oak/log.h>

#include "node.h"
#include "sys.h"

#define OAK_NODE_VERSION "0.1.0"

void publish_node(struct oak_node *n, const char *suffix, char *payload, bool retain)
{
	char topic[OAK_TOPIC_LEN];

	if (!payload) {
		oak_log(ERROR, "encode %s: out of memory", suffix);
		return;
	}
	if (oak_topic_node(topic, sizeof(topic), n->id, suffix) == 0)
		oak_bus_publish_str(n->bus, topic, payload, retain);
	free(payload);
}

bool node_connected(const struct oak_node *n)
{
	return oak_bus_state(n->bus) == OAK_BUS_CONNECTED;
}

void report_state(struct oak_node *n, struct oak_instance *in)
{
	struct oak_msg_instance_state m = {0};

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	snprintf(m.job_name, sizeof(m.job_name), "%s", in->d.job_name);
	snprintf(m.service_id, sizeof(m.service_id), "%s", in->d.service_id);
	m.instance_number = in->d.instance_number;
	m.state = in->state;
	snprintf(m.instance_ip, sizeof(m.instance_ip), "%s", in->d.instance_ip);
	snprintf(m.namespace_ip, sizeof(m.namespace_ip), "%s", in->ns_ip);
	snprintf(m.reason, sizeof(m.reason), "%s", in->reason);
	m.exit_code = in->exit_code;
	m.timestamp_ms = oak_wall_ms();
	publish_node(n, OAK_T_JOB, oak_msg_instance_state_encode(&m), false);
}

void set_state(struct oak_node *n, struct oak_instance *in, enum oak_instance_state s,
	       const char *reason)
{
	char key[OAK_JOB_NAME_LEN + 16];

	oak_instance_key(in, key, sizeof(key));
	/* bounded: a reason longer than the record's field is cut there */
	snprintf(in->reason, sizeof(in->reason), "%.*s", (int)sizeof(in->reason) - 1,
		 reason ? reason : "");
	if (in->state != s || reason)
		oak_log_write(s == OAK_INSTANCE_FAILED || s == OAK_INSTANCE_DEAD ? OAK_LOG_WARN
										 : OAK_LOG_INFO,
			      "instance %s: %s -> %s%s%s", key, oak_instance_state_name(in->state),
			      oak_instance_state_name(s), reason && *reason ? ": " : "",
			      reason ? reason : "");
	in->state = s;
	report_state(n, in);
}

void publish_net_service(struct oak_node *n, struct oak_instance *in, bool deployed)
{
	struct oak_msg_net_service m = {0};

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	snprintf(m.job_name, sizeof(m.job_name), "%s", in->d.job_name);
	snprintf(m.service_id, sizeof(m.service_id), "%s", in->d.service_id);
	m.instance_number = in->d.instance_number;
	snprintf(m.instance_ip, sizeof(m.instance_ip), "%s", in->d.instance_ip);
	snprintf(m.namespace_ip, sizeof(m.namespace_ip), "%s", in->ns_ip);
	publish_node(n, deployed ? OAK_T_SERVICE_DEPLOYED : OAK_T_SERVICE_UNDEPLOY,
		     oak_msg_net_service_encode(&m), false);
}

static unsigned running_count(struct oak_node *n)
{
	unsigned c = 0;

	for (struct oak_instance *in = n->insts; in; in = in->next)
		c += in->state == OAK_INSTANCE_RUNNING;
	return c;
}

/* The configured runtimes that are available now (containerd may come and
 * go); logged when the offer changes. */
void pick_runtimes(struct oak_node *n)
{
	char list[256], *save = NULL, off[256] = "";
	struct oak_names now = {0};

	snprintf(list, sizeof(list), "%s", oak_config_str(n->cfg, "runtimes"));
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		const struct oak_runtime *rt = node_runtime(n, t);
		bool ok = rt && rt->available(&n->env);

		if (ok && now.n < OAK_NAMES_MAX)
			snprintf(now.v[now.n++], OAK_RUNTIME_LEN, "%s", t);
		else if (!ok)
			snprintf(off + strlen(off), sizeof(off) - strlen(off), " %s", t);
	}
	if (now.n == n->runtimes.n && !memcmp(now.v, n->runtimes.v, now.n * sizeof(now.v[0])))
		return;
	n->runtimes = now;
	list[0] = '\0';
	for (size_t i = 0; i < now.n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s", now.v[i]);
	oak_log(INFO, "runtimes: offered:%s%s%s", now.n ? list : " none",
		off[0] ? "; not available:" : "", off);
	n->last_report_ms = 0; /* tell the cluster soon */
}

void sample_resources(struct oak_node *n)
{
	struct oak_cpu_times now;

	if (oak_res_read_cpu(&now) == 0) {
		if (n->cpu_prev.total) {
			n->cpu_percent = oak_res_cpu_percent(&n->cpu_prev, &now);
			/* samples in a row that moved from the reported value */
			n->cpu_moved =
			    fabs(n->cpu_percent - n->rep_cpu) >= 20.0 ? n->cpu_moved + 1 : 0;
		}
		n->cpu_prev = now;
	}
	if (oak_res_read_mem(&n->mem))
		oak_log(WARN, "resources: cannot read /proc/meminfo");
	n->gpus = oak_res_gpu_count();
	pick_runtimes(n);
}

/* A fresh id per agent start: the cluster tells a restart from a reconnect. */
void read_boot_id(struct oak_node *n)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

	if (!f || !fgets(n->boot_id, sizeof(n->boot_id), f))
		snprintf(n->boot_id, sizeof(n->boot_id), "%lld-%d", (long long)oak_wall_ms(),
			 (int)getpid());
	if (f)
		fclose(f);
	n->boot_id[strcspn(n->boot_id, "\n")] = '\0';
}

static void send_hello(struct oak_node *n)
{
	struct oak_msg_node_hello h = {0};

	snprintf(h.node_id, sizeof(h.node_id), "%s", n->id);
	snprintf(h.hostname, sizeof(h.hostname), "%s", n->hostname);
	snprintf(h.underlay_ip, sizeof(h.underlay_ip), "%s", n->node_ip);
	h.tunnel_port = n->sim ? 0 : OAK_TUNNEL_PORT; /* sim: no tunnel to offer */
	snprintf(h.architecture, sizeof(h.architecture), "%s", n->arch);
	h.virtualization = n->runtimes;
	h.vcpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	h.memory_mb = n->mem.total_mb;
	h.gpus = n->gpus;
	h.location = n->location;
	snprintf(h.version, sizeof(h.version), "%s", OAK_NODE_VERSION);
	snprintf(h.boot_id, sizeof(h.boot_id), "%s", n->boot_id);
	snprintf(h.subnet, sizeof(h.subnet), "%s", n->subnet);
	publish_node(n, OAK_T_HELLO, oak_msg_node_hello_encode(&h), false);
}

static double memory_percent(const struct oak_node *n)
{
	return n->mem.total_mb ? 100.0 * (double)(n->mem.total_mb - n->mem.available_mb) /
				     (double)n->mem.total_mb
			       : 0;
}

static void send_info(struct oak_node *n)
{
	struct oak_msg_node_info m = {0};
	uint32_t cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	double reserved = 0;

	/* free CPU is what the node has not promised to its instances (their
	 * SLA's vcpus), not what the host happens to leave idle this second:
	 * a busy neighbour must not make placement come and go */
	for (const struct oak_instance *in = n->insts; in; in = in->next)
		if (in->state == OAK_INSTANCE_CREATING || in->state == OAK_INSTANCE_CREATED ||
		    in->state == OAK_INSTANCE_RUNNING)
			reserved += in->d.vcpus;

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	m.timestamp_ms = oak_wall_ms();
	m.cpu_percent = n->cpu_percent;
	m.vcpus = cpus;
	m.vcpus_free = reserved < cpus ? cpus - reserved : 0;
	m.memory_mb = n->mem.total_mb;
	m.memory_free_mb = n->mem.available_mb;
	m.memory_percent = memory_percent(n);
	snprintf(m.architecture, sizeof(m.architecture), "%s", n->arch);
	m.virtualization = n->runtimes;
	m.gpus = n->gpus;
	m.gpus_free = n->gpus;
	m.disk_free_mb = oak_res_disk_free_mb(n->state_dir);
	m.instances = running_count(n);
	m.location = n->location;
	if (n->probe) {
		struct oak_probe_coord c;

		if (oak_probe_coord(n->probe, &c)) {
			m.vivaldi.set = true;
			m.vivaldi.x = c.x;
			m.vivaldi.y = c.y;
			m.vivaldi.height = c.h;
			m.vivaldi.error = c.err;
		}
	}
	n->rep_cpu = m.cpu_percent;
	n->cpu_moved = 0;
	n->rep_mem = m.memory_percent;
	n->rep_insts = m.instances;
	n->rep_gpus = m.gpus;
	n->last_report_ms = oak_mono_ms();
	oak_log(DEBUG, "report: cpu %.1f%% mem %.1f%% of %lld MB, %u instances", m.cpu_percent,
		m.memory_percent, (long long)m.memory_mb, m.instances);
	publish_node(n, OAK_T_INFORMATION, oak_msg_node_info_encode(&m), false);
}

#define LOG_TAIL_BYTES 4096
#define LOG_TAIL_LINES 50
#define LOG_RESEND_MS  30000 /* unchanged tails too, for a root that restarted */

/* The last lines of in's log into out, when the log changed since they
 * were last sent or LOG_RESEND_MS passed; out stays empty otherwise. */
static void log_tail(struct oak_node *n, struct oak_instance *in, int64_t now,
		     struct oak_strv *out)
{
	char key[OAK_JOB_NAME_LEN + 16], path[1024], buf[LOG_TAIL_BYTES + 1], *line, *save;
	struct stat st;
	off_t from;
	ssize_t got;
	int fd;

	oak_instance_key(in, key, sizeof(key));
	snprintf(path, sizeof(path), "%s/logs/%s.log", n->state_dir, key);
	if (stat(path, &st) || !st.st_size ||
	    (st.st_size == in->log_size && now - in->log_sent_ms < LOG_RESEND_MS))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	from = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
	got = pread(fd, buf, LOG_TAIL_BYTES, from);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = '\0';
	line = buf;
	if (from) { /* a partial first line */
		line = strchr(buf, '\n');
		line = line ? line + 1 : buf + got;
	}
	out->v = calloc(LOG_TAIL_LINES, sizeof(*out->v));
	if (!out->v)
		return;
	for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (out->n == LOG_TAIL_LINES) { /* keep the last ones */
			free(out->v[0]);
			memmove(out->v, out->v + 1, (LOG_TAIL_LINES - 1) * sizeof(*out->v));
			out->n--;
		}
		out->v[out->n] = strdup(l);
		if (out->v[out->n])
			out->n++;
	}
	in->log_size = st.st_size;
	in->log_sent_ms = now;
}

/* CPU since the last report, in percent of one core */
static double cpu_percent(struct oak_instance *in, int64_t now)
{
	int64_t usec = oak_cg_cpu_usec(in);
	double pct = 0;

	if (usec < 0)
		return 0;
	if (!in->cpu_at_ms && !in->adopted && in->started_ms) {
		in->cpu_usec = 0; /* its cgroup is as old as it: its start counts too */
		in->cpu_at_ms = in->started_ms;
	}
	if (in->cpu_at_ms && now > in->cpu_at_ms && usec >= in->cpu_usec)
		pct = (double)(usec - in->cpu_usec) / (double)((now - in->cpu_at_ms) * 1000) * 100.0;
	in->cpu_usec = usec;
	in->cpu_at_ms = now;
	return pct;
}

static void send_usage(struct oak_node *n)
{
	struct oak_msg_job_usage m = {0};
	struct oak_job_usage_entry e[OAK_MSG_MAX_JOBS];
	int64_t now = oak_mono_ms();
	size_t k = 0;

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	m.timestamp_ms = oak_wall_ms();
	for (struct oak_instance *in = n->insts; in && k < OAK_MSG_MAX_JOBS; in = in->next) {
		int64_t mem;

		if (in->state != OAK_INSTANCE_RUNNING)
			continue;
		memset(&e[k], 0, sizeof(e[k]));
		snprintf(e[k].job_name, sizeof(e[k].job_name), "%s", in->d.job_name);
		snprintf(e[k].service_id, sizeof(e[k].service_id), "%s", in->d.service_id);
		e[k].instance_number = in->d.instance_number;
		mem = n->sim ? -1 : oak_cg_memory(in); /* sim: no cgroup, nothing to say */
		e[k].memory_mb = mem > 0 ? mem / (1024 * 1024) : 0;
		if (!n->sim) {
			e[k].cpu_percent = cpu_percent(in, now);
			log_tail(n, in, now, &e[k].logs);
		}
		k++;
	}
	m.jobs = e;
	m.n_jobs = k;
	n->last_usage_ms = now;
	publish_node(n, OAK_T_JOBS_RESOURCES, oak_msg_job_usage_encode(&m), false);
	for (size_t i = 0; i < k; i++)
		oak_strv_free(&e[i].logs);
}

/* every second: sample, and report what is due or changed */
void reports_tick(struct oak_node *n)
{
	int64_t now = oak_mono_ms(), iv = oak_config_int(n->cfg, "report_interval") * 1000;
	double memp = memory_percent(n);

	if (now - n->cpu_prev_ms >= 2000) {
		sample_resources(n);
		n->cpu_prev_ms = now;
	}
	if (!node_connected(n))
		return;
	/* significant: CPU moved by 20 points in two samples in a row (one
	 * spike is noise: reporting each would make reports a heartbeat again),
	 * memory by 10 points, the instance count or GPUs changed */
	if (now - n->last_report_ms >= iv || n->cpu_moved >= 2 || fabs(memp - n->rep_mem) >= 10.0 ||
	    running_count(n) != n->rep_insts || n->gpus != n->rep_gpus)
		send_info(n);
	/* per-instance usage: nothing to say on a node without instances
	 * (after one last empty report when the last one goes) */
	if (now - n->last_usage_ms >= iv && (running_count(n) || n->usage_nonempty)) {
		n->usage_nonempty = running_count(n) > 0;
		send_usage(n);
	}
}

/* Connected (again): the cluster rebuilds its view from reports, so tell
 * it everything. */
void on_bus_state(struct oak_bus *bus, enum oak_bus_state s, void *arg)
{
	struct oak_node *n = arg;
	struct oak_msg_status st = {0};
	struct oak_instance *in, *next;

	if (s != OAK_BUS_CONNECTED)
		return;
	snprintf(st.id, sizeof(st.id), "%s", n->id);
	st.online = true;
	snprintf(st.boot_id, sizeof(st.boot_id), "%s", n->boot_id);
	publish_node(n, OAK_T_STATUS, oak_msg_status_encode(&st), true);
	send_hello(n);
	send_info(n);
	for (in = n->insts; in; in = next) {
		next = in->next;
		if (in->restart_at_ms == -1) { /* lost while the agent was down */
			instance_finish(n, in, OAK_INSTANCE_FAILED, in->reason);
			continue;
		}
		report_state(n, in);
	}
	for (struct oak_interest *it = n->interests; it; it = it->next)
		if (!it->have_table)
			send_query(n, it->job, 0);
}

/* cluster/status: a cluster that (re)started rebuilds its view from the
 * nodes' reports, so a new cluster boot_id makes us report everything again */
void on_cluster_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	static char last[OAK_ID_LEN];
	struct oak_msg_status m = {0};
	char err[256];

	if (oak_msg_status_decode(p, len, &m, err, sizeof(err)) == 0 && m.online &&
	    strcmp(m.boot_id, last)) {
		bool first = !last[0];

		snprintf(last, sizeof(last), "%s", m.boot_id);
		if (!first) { /* the first one comes right after our own connect report */
			oak_log(INFO, "cluster %s (re)started: reporting everything", m.id);
			on_bus_state(bus, OAK_BUS_CONNECTED, arg);
		}
	}
	oak_msg_status_free(&m);
}
