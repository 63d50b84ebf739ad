// SPDX-License-Identifier: MIT
/*
 * oak-node: the node agent. One thread on the shared event loop: the
 * cluster bus, the datapath's miss ring buffer, the probe socket, a pidfd
 * per instance and a 1 s tick. Here: registration and reports, the
 * instance lifecycle (deploy, exit, restart, records and adoption), and the
 * wiring of the parts; instances and the kernel keep running when it stops.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oak/fsutil.h>
#include <oak/log.h>

#include "node.h"
#include "sys.h"

static const struct oak_cfg_key keys[] = {
    {"node_id", OAK_CFG_STR, NULL, "node id, unique in the cluster (default: hostname)"},
    {"broker_host", OAK_CFG_STR, "127.0.0.1", "cluster MQTT broker host"},
    {"broker_port", OAK_CFG_INT, "1883", "cluster MQTT broker port (8883 usual with TLS)"},
    {"broker_username", OAK_CFG_STR, NULL, "MQTT user name (optional)"},
    {"broker_password", OAK_CFG_STR, NULL, "MQTT password (optional)"},
    {"broker_cafile", OAK_CFG_STR, NULL, "CA certificate: TLS on when set"},
    {"broker_certfile", OAK_CFG_STR, NULL, "client certificate for TLS (optional)"},
    {"broker_keyfile", OAK_CFG_STR, NULL, "client key for TLS (optional)"},
    {"keepalive", OAK_CFG_INT, "5", "MQTT keepalive in seconds (libmosquitto minimum 5)"},
    {"report_interval", OAK_CFG_INT, "10",
     "seconds between resource reports at the latest (sooner on significant change)"},
    {"heartbeat_interval", OAK_CFG_INT, "1",
     "seconds between UDP heartbeats to the cluster (its liveness signal; 0: off)"},
    {"cluster_heartbeat", OAK_CFG_STR, NULL,
     "host:port of oak-cluster's heartbeat socket (default: broker_host:50104)"},
    {"node_ip", OAK_CFG_STR, NULL, "underlay IPv4 address: tunnel endpoint (required)"},
    {"uplink", OAK_CFG_STR, NULL, "underlay interface (required)"},
    {"uplink_mode", OAK_CFG_STR, "auto", "decapsulation hook: auto, tc or xdp"},
    {"subnet", OAK_CFG_STR, NULL,
     "instance subnet, a /26 of 10.18.0.0/16; normally assigned by the cluster"},
    {"latitude", OAK_CFG_DOUBLE, "0", "node location: latitude"},
    {"longitude", OAK_CFG_DOUBLE, "0", "node location: longitude"},
    {"location_set", OAK_CFG_BOOL, "false", "report latitude/longitude"},
    {"runtimes", OAK_CFG_STR, "native,container",
     "runtimes to offer, comma-separated; offered only when available"},
    {"state_dir", OAK_CFG_STR, NULL, "instance records and logs (default /var/lib/oak/<node_id>)"},
    {"restart_tries", OAK_CFG_INT, "3", "local restarts of a crashed instance before DEAD"},
    {"restart_backoff_ms", OAK_CFG_INT, "1000", "first restart delay, doubled each try"},
    {"stop_timeout_ms", OAK_CFG_INT, "3000", "SIGTERM to SIGKILL on undeploy"},
    {"interest_idle", OAK_CFG_INT, "10", "seconds an unused service interest is kept"},
    {"probe_interval", OAK_CFG_INT, "3",
     "seconds between latency probes to each peer node hosting a service in use (0: off)"},
    {"probe_resolution_us", OAK_CFG_INT, "1000",
     "latencies are ranked in steps of this many µs: nearer peers tie and share flows"},
    {"instance_tx_offload", OAK_CFG_BOOL, "false", "leave tx checksum offload on inside instances"},
    {"containerd_address", OAK_CFG_STR, "/run/containerd/containerd.sock",
     "containerd's socket, for the container runtime"},
    {"containerd_namespace", OAK_CFG_STR, "oak", "containerd namespace of oak's containers"},
    {"log_level", OAK_CFG_STR, "info", "debug, info, warn or error"},
};

/* ------------------------------------------------------------ reports */

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
		const struct oak_runtime *rt = oak_runtime_find(t);
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
	h.tunnel_port = OAK_TUNNEL_PORT;
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
	return n->mem.total_mb
		   ? 100.0 * (double)(n->mem.total_mb - n->mem.available_mb) /
			 (double)n->mem.total_mb
		   : 0;
}

static void send_info(struct oak_node *n)
{
	struct oak_msg_node_info m = {0};
	uint32_t cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	m.timestamp_ms = oak_wall_ms();
	m.cpu_percent = n->cpu_percent;
	m.vcpus = cpus;
	m.vcpus_free = cpus * (100.0 - n->cpu_percent) / 100.0;
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

static void send_usage(struct oak_node *n)
{
	struct oak_msg_job_usage m = {0};
	struct oak_job_usage_entry e[OAK_MSG_MAX_JOBS];
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
		mem = oak_cg_memory(in);
		e[k].memory_mb = mem > 0 ? mem / (1024 * 1024) : 0;
		k++;
	}
	m.jobs = e;
	m.n_jobs = k;
	n->last_usage_ms = oak_mono_ms();
	publish_node(n, OAK_T_JOBS_RESOURCES, oak_msg_job_usage_encode(&m), false);
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
void on_cluster_status(struct oak_bus *bus, const char *topic, const void *p, size_t len,
		       void *arg)
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

/* ------------------------------------------------------------ instances */

struct oak_instance *instance_by_ip(struct oak_node *n, uint32_t ip)
{
	for (struct oak_instance *in = n->insts; in; in = in->next)
		if (ip4(in->d.instance_ip) == ip)
			return in;
	return NULL;
}

bool instance_state_live(enum oak_instance_state s)
{
	return s == OAK_INSTANCE_RUNNING || s == OAK_INSTANCE_CREATING || s == OAK_INSTANCE_CREATED;
}

/* ------------------------------------------------------------ records */

static void record_path(struct oak_node *n, const struct oak_instance *in, char *buf, size_t len)
{
	char key[OAK_JOB_NAME_LEN + 16];

	oak_instance_key(in, key, sizeof(key));
	snprintf(buf, len, "%s/instances/%s.json", n->state_dir, key);
}

static void record_save(struct oak_node *n, const struct oak_instance *in)
{
	char path[700], tmp[710], *js = oak_record_encode(in);
	int fd;

	if (!js) {
		oak_log(ERROR, "record: encode failed");
		return;
	}
	record_path(n, in, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, js, strlen(js)) != (ssize_t)strlen(js) || fsync(fd) ||
	    rename(tmp, path))
		oak_log(ERROR, "record %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(js);
}

static void record_remove(struct oak_node *n, const struct oak_instance *in)
{
	char path[700];

	record_path(n, in, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		oak_log(WARN, "record %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------ processes */

static void on_exit_of(struct oak_node *n, struct oak_instance *in);

/* An instance's pidfd became readable: its process ended. */
static void on_pidfd(struct oak_loop *l, int fd, unsigned events, void *arg)
{
	struct oak_node *n = arg;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	/* the pidfd of the process that really ended, not a new one that
	 * got the same number within this loop turn */
	if (poll(&p, 1, 0) != 1)
		return;
	for (struct oak_instance *in = n->insts; in; in = in->next)
		if (in->pidfd == fd) {
			on_exit_of(n, in);
			return;
		}
}

static void watch_process(struct oak_node *n, struct oak_instance *in)
{
	if (in->pidfd >= 0 && oak_loop_add_fd(n->loop, in->pidfd, OAK_EV_READ, on_pidfd, n))
		oak_log(WARN, "instance %s.%u: cannot watch pid %d", in->d.job_name,
			in->d.instance_number, (int)in->pid);
}

/* before anything closes the pidfd */
static void unwatch_process(struct oak_node *n, struct oak_instance *in)
{
	if (in->pidfd >= 0)
		oak_loop_del_fd(n->loop, in->pidfd);
}

static int start_process(struct oak_node *n, struct oak_instance *in)
{
	const struct oak_runtime *rt = oak_runtime_find(in->d.runtime);
	char err[300];

	if (rt->start(&n->env, in, err, sizeof(err))) {
		snprintf(in->reason, sizeof(in->reason), "%.255s", err);
		return -1;
	}
	in->started_ms = oak_mono_ms();
	in->restart_at_ms = 0;
	watch_process(n, in);
	oak_log(INFO, "instance %s.%u: pid %d in %s", in->d.job_name, in->d.instance_number,
		(int)in->pid, in->netns);
	return 0;
}

/* ------------------------------------------------------------ instances */

static int dp_local(struct oak_node *n, struct oak_instance *in, char *err, size_t errlen)
{
	struct oak_inst e = {0};
	int ifindex = (int)if_nametoindex(in->veth), rc;
	uint32_t iip = ip4(in->d.instance_ip);

	if (!n->dp)
		return 0;
	if (!ifindex) {
		snprintf(err, errlen, "veth %s: gone", in->veth);
		return -1;
	}
	e.ns_ip = ip4(in->ns_ip);
	e.ifindex = ifindex;
	e.flags = OAK_INST_F_LOCAL;
	oak_net_macs(in, e.host_mac, e.mac);
	rc = oak_dp_attach_instance(n->dp, ifindex, iip, e.ns_ip);
	if (!rc)
		rc = oak_dp_instance_set(n->dp, iip, &e);
	if (rc) {
		snprintf(err, errlen, "datapath: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static void teardown(struct oak_node *n, struct oak_instance *in)
{
	const struct oak_runtime *rt = oak_runtime_find(in->d.runtime);
	int ifindex = in->veth[0] ? (int)if_nametoindex(in->veth) : 0;

	unwatch_process(n, in);
	if (rt) /* with no process too: a runtime may hold more (a stopped container) */
		rt->stop(&n->env, in, (int)oak_config_int(n->cfg, "stop_timeout_ms"));
	if (n->dp) {
		if (ifindex)
			oak_dp_detach_instance(n->dp, ifindex);
		oak_dp_instance_del(n->dp, ip4(in->d.instance_ip));
	}
	oak_cg_destroy(in);
	oak_net_destroy(in);
}

/* unlink and free; the process, if any, is left alone */
static void instance_free(struct oak_node *n, struct oak_instance *in)
{
	for (struct oak_instance **pp = &n->insts; *pp; pp = &(*pp)->next)
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	unwatch_process(n, in);
	if (in->pidfd >= 0)
		close(in->pidfd);
	oak_msg_deploy_free(&in->d);
	free(in);
}

void instances_free(struct oak_node *n)
{
	while (n->insts)
		instance_free(n, n->insts);
}

/* the instance is over: report, clean, forget */
void instance_finish(struct oak_node *n, struct oak_instance *in, enum oak_instance_state s,
		     const char *reason)
{
	char job[OAK_JOB_NAME_LEN];

	snprintf(job, sizeof(job), "%s", in->d.job_name);
	teardown(n, in);
	publish_net_service(n, in, false);
	set_state(n, in, s, reason);
	record_remove(n, in);
	instance_free(n, in);
	reprogram_job(n, job);
}

/* next free address of the block: .2 .. .62 (.1 is the gateway) */
static int alloc_ns_ip(struct oak_node *n, char *out)
{
	for (uint32_t k = 2; k < 63; k++) {
		char a[INET_ADDRSTRLEN];
		bool used = false;

		ipstr(htonl(n->subnet_base + k), a);
		for (struct oak_instance *in = n->insts; in; in = in->next)
			used |= !strcmp(in->ns_ip, a);
		if (!used) {
			strcpy(out, a);
			return 0;
		}
	}
	return -1;
}

/* the interest in a local instance's service: its Service IPs come with it */
static struct oak_interest *interest_of(struct oak_node *n, const struct oak_instance *in)
{
	struct oak_interest *it = interest_get(n, in->d.job_name);

	if (it)
		snprintf(it->service_id, sizeof(it->service_id), "%s", in->d.service_id);
	return it;
}

void on_deploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct oak_node *n = arg;
	struct oak_instance *in;
	const struct oak_runtime *rt;
	struct oak_interest *it;
	char err[300];

	in = calloc(1, sizeof(*in));
	if (!in)
		return;
	in->pidfd = -1;
	if (oak_msg_deploy_decode(p, len, &in->d, err, sizeof(err))) {
		oak_log(WARN, "deploy: rejected: %s", err);
		free(in);
		return;
	}
	for (struct oak_instance *o = n->insts; o; o = o->next)
		if (!strcmp(o->d.job_name, in->d.job_name) &&
		    o->d.instance_number == in->d.instance_number) {
			oak_log(INFO, "deploy: %s.%u already here (%s)", o->d.job_name,
				o->d.instance_number, oak_instance_state_name(o->state));
			report_state(n, o);
			oak_msg_deploy_free(&in->d);
			free(in);
			return;
		}
	in->state = OAK_INSTANCE_CREATING;
	in->next = n->insts;
	n->insts = in;
	oak_log(INFO, "deploy: %s.%u (%s, %s) as %s", in->d.job_name, in->d.instance_number,
		in->d.runtime, in->d.code, in->d.instance_ip);
	rt = oak_runtime_find(in->d.runtime);
	if (!rt || !rt->available(&n->env)) {
		snprintf(err, sizeof(err), "runtime '%s' not available on this node",
			 in->d.runtime);
		goto failed_early;
	}
	if (!ip4(in->d.instance_ip)) {
		snprintf(err, sizeof(err), "instance_ip: not an IPv4 address");
		goto failed_early;
	}
	if (!n->subnet_base) {
		snprintf(err, sizeof(err), "no subnet assigned to this node yet");
		goto failed_early;
	}
	if (alloc_ns_ip(n, in->ns_ip)) {
		snprintf(err, sizeof(err), "subnet %s is full", n->subnet);
		goto failed_early;
	}
	oak_net_names(n->id, in);
	oak_cg_path(n->id, in);
	record_save(n, in); /* before anything exists, so a crash leaves a trace */
	set_state(n, in, OAK_INSTANCE_CREATING, NULL);

	if (oak_net_create(in, n->gw, OAK_INSTANCE_MTU,
			   oak_config_bool(n->cfg, "instance_tx_offload"), err, sizeof(err)) ||
	    oak_cg_create(in, in->d.memory_mb, in->d.vcpus, err, sizeof(err)) ||
	    dp_local(n, in, err, sizeof(err)))
		goto failed;
	if (start_process(n, in)) {
		snprintf(err, sizeof(err), "%s", in->reason);
		goto failed;
	}
	in->state = OAK_INSTANCE_RUNNING;
	record_save(n, in);
	set_state(n, in, OAK_INSTANCE_RUNNING, NULL);
	publish_net_service(n, in, true);

	it = interest_of(n, in);
	if (it) {
		if (in->d.rr_ip[0])
			it->rr_ip = ip4(in->d.rr_ip);
		if (in->d.closest_ip[0])
			it->closest_ip = ip4(in->d.closest_ip);
		program_service(n, it);
		if (!it->have_table)
			send_query(n, in->d.job_name, 0);
	}
	return;

failed_early:
	set_state(n, in, OAK_INSTANCE_FAILED, err);
	instance_free(n, in);
	return;
failed:
	instance_finish(n, in, OAK_INSTANCE_FAILED, err);
}

void on_delete(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct oak_node *n = arg;
	struct oak_msg_delete m = {0};
	char err[256];

	if (oak_msg_delete_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "delete: rejected: %s", err);
		return;
	}
	for (struct oak_instance *in = n->insts; in; in = in->next)
		if (!strcmp(in->d.job_name, m.job_name) &&
		    in->d.instance_number == m.instance_number) {
			oak_log(INFO, "delete: %s.%u", m.job_name, m.instance_number);
			instance_finish(n, in, OAK_INSTANCE_UNDEPLOYED, NULL);
			oak_msg_delete_free(&m);
			return;
		}
	oak_log(INFO, "delete: %s.%u not on this node", m.job_name, m.instance_number);
	oak_msg_delete_free(&m);
}

/* the process of an instance ended */
static void on_exit_of(struct oak_node *n, struct oak_instance *in)
{
	siginfo_t si = {0};
	char why[128];
	unsigned tries = (unsigned)oak_config_int(n->cfg, "restart_tries");
	int code = -1;

	if (syscall(SYS_waitid, P_PIDFD, in->pidfd, &si, WEXITED | WNOHANG, NULL) == 0 &&
	    si.si_pid) {
		if (si.si_code == CLD_EXITED) {
			code = si.si_status;
			snprintf(why, sizeof(why), "exited with code %d", code);
		} else {
			snprintf(why, sizeof(why), "killed by signal %d", si.si_status);
		}
	} else {
		const struct oak_runtime *rt = oak_runtime_find(in->d.runtime);

		code = rt && rt->exit_code ? rt->exit_code(&n->env, in) : -1;
		if (code >= 0)
			snprintf(why, sizeof(why), "exited with code %d", code);
		else
			snprintf(why, sizeof(why), "process %d ended (exit code unknown)",
				 (int)in->pid);
	}
	unwatch_process(n, in);
	oak_proc_forget(in);
	in->exit_code = code;
	if (in->d.one_shot && code == 0) {
		instance_finish(n, in, OAK_INSTANCE_COMPLETED, why);
		return;
	}
	if (in->restarts >= tries) {
		char r[200];

		snprintf(r, sizeof(r), "%s; gave up after %u restarts", why, in->restarts);
		instance_finish(n, in, OAK_INSTANCE_DEAD, r);
		return;
	}
	in->restart_at_ms =
	    oak_mono_ms() +
	    oak_restart_backoff_ms(in->restarts,
				   (unsigned)oak_config_int(n->cfg, "restart_backoff_ms"), 60000);
	in->restarts++;
	set_state(n, in, OAK_INSTANCE_FAILED, why);
	record_save(n, in);
	reprogram_job(n, in->d.job_name);
}

/* every second: restarts that are due */
void restarts_tick(struct oak_node *n)
{
	int64_t now = oak_mono_ms();
	struct oak_instance *in, *next;

	for (in = n->insts; in; in = next) {
		next = in->next;
		if (in->state == OAK_INSTANCE_RUNNING && in->restarts &&
		    now - in->started_ms > 60000) {
			in->restarts = 0; /* ran long enough: a later crash starts afresh */
			record_save(n, in);
		}
		if (in->state != OAK_INSTANCE_FAILED || !in->restart_at_ms ||
		    now < in->restart_at_ms)
			continue;
		oak_log(INFO, "instance %s.%u: restart %u", in->d.job_name, in->d.instance_number,
			in->restarts);
		if (start_process(n, in)) {
			char r[300];

			snprintf(r, sizeof(r), "restart: %s", in->reason);
			instance_finish(n, in, OAK_INSTANCE_DEAD, r);
			continue;
		}
		in->state = OAK_INSTANCE_RUNNING;
		record_save(n, in);
		set_state(n, in, OAK_INSTANCE_RUNNING, NULL);
		reprogram_job(n, in->d.job_name);
	}
}

/* One record: adopt a live process in a live namespace as it is; nothing
 * is restarted that runs, and nothing is created twice. */
static void adopt_one(struct oak_node *n, struct oak_instance *in, const char *name)
{
	const struct oak_runtime *rt = oak_runtime_find(in->d.runtime);

	if (rt && in->pid && rt->alive(&n->env, in) && oak_net_exists(in)) {
		char derr[128];

		in->pidfd = oak_pidfd_open(in->pid);
		in->adopted = true;
		in->started_ms = oak_mono_ms();
		in->state = OAK_INSTANCE_RUNNING;
		watch_process(n, in);
		if (dp_local(n, in, derr, sizeof(derr)))
			oak_log(WARN, "adopt %s: %s", name, derr);
		oak_log(INFO, "instance %s.%u: adopted (pid %d, %s)", in->d.job_name,
			in->d.instance_number, (int)in->pid, in->netns);
	} else if (rt && oak_net_exists(in) && in->state != OAK_INSTANCE_CREATING) {
		/* crashed while the agent was away: the usual restart path */
		oak_log(WARN, "instance %s.%u: process gone while the agent was down",
			in->d.job_name, in->d.instance_number);
		in->pid = 0;
		in->state = OAK_INSTANCE_FAILED;
		in->restart_at_ms = oak_mono_ms();
		in->restarts++;
		snprintf(in->reason, sizeof(in->reason), "process ended while agent down");
	} else {
		oak_log(WARN, "instance %s.%u: half-made or gone; cleaning it up", in->d.job_name,
			in->d.instance_number);
		in->pid = 0;
		in->state = OAK_INSTANCE_FAILED;
		snprintf(in->reason, sizeof(in->reason), "lost while the agent was down");
		in->restart_at_ms = -1; /* finished once connected */
	}
}

/* Restart safety: rebuild the instance list from the records, then the
 * datapath entries of their services. */
void adopt_records(struct oak_node *n)
{
	char dir[600], path[1000], err[256], buf[OAK_MSG_MAX_BYTES * 2];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.512s/instances", n->state_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct oak_instance *in;
		ssize_t len;
		int fd;
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf));
		close(fd);
		in = calloc(1, sizeof(*in));
		if (!in)
			break;
		if (len <= 0 || oak_record_decode(buf, (size_t)len, in, err, sizeof(err))) {
			oak_log(ERROR, "record %s: unreadable (%s); left in place", path,
				len <= 0 ? "empty" : err);
			free(in);
			continue;
		}
		in->next = n->insts;
		n->insts = in;
		adopt_one(n, in, e->d_name);
	}
	closedir(d);
	for (struct oak_instance *in = n->insts; in; in = in->next) {
		struct oak_interest *it = interest_of(n, in);

		if (it) {
			it->rr_ip = ip4(in->d.rr_ip);
			it->closest_ip = ip4(in->d.closest_ip);
		}
	}
	for (struct oak_interest *it = n->interests; it; it = it->next)
		program_service(n, it);
}

/* ------------------------------------------------------------ wiring */

/* the parts that work on time, in this order every second */
static int64_t tick(struct oak_loop *l, void *arg)
{
	struct oak_node *n = arg;

	heartbeat_tick(n);
	restarts_tick(n);
	reports_tick(n);
	interests_tick(n);
	probe_tick(n);
	return 1000;
}

static void on_signal(struct oak_loop *l, int signo, void *arg)
{
	oak_log(INFO, "signal %d: stopping (instances keep running)", signo);
	oak_loop_stop(l);
}

static int subscribe_all(struct oak_node *n)
{
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} subs[] = {
	    {OAK_T_DEPLOY, on_deploy},
	    {OAK_T_DELETE, on_delete},
	    {OAK_T_SUBNET, on_subnet},
	    {OAK_T_TABLEQUERY_RES, on_table},
	};
	char topic[OAK_TOPIC_LEN];

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (oak_topic_node(topic, sizeof(topic), n->id, subs[i].suffix) ||
		    oak_bus_subscribe(n->bus, topic, subs[i].cb, n))
			return -1;
	}
	return oak_bus_subscribe(n->bus, OAK_TOPIC_CLUSTER_STATUS, on_cluster_status, n);
}

/* Who and where this node is: id, underlay address, state dir, subnet,
 * architecture, location. 0, or the exit status. */
static int node_identity(struct oak_node *n, char *id_buf, size_t id_len)
{
	const char *s = oak_config_str(n->cfg, "node_id");
	char path[600];
	struct utsname un;

	gethostname(n->hostname, sizeof(n->hostname) - 1);
	snprintf(id_buf, id_len, "%.64s", *s ? s : n->hostname);
	n->id = id_buf;
	if (!oak_topic_id_valid(n->id)) {
		oak_log(ERROR, "node_id: '%s' is not usable as an MQTT topic level", n->id);
		return 2;
	}
	snprintf(n->node_ip, sizeof(n->node_ip), "%s", oak_config_str(n->cfg, "node_ip"));
	n->node_ip_n = ip4(n->node_ip);
	if (!n->node_ip_n) {
		oak_log(ERROR, "node_ip: required, an IPv4 address (got '%s')", n->node_ip);
		return 2;
	}
	if (!*oak_config_str(n->cfg, "uplink")) {
		oak_log(ERROR, "uplink: required, the underlay interface");
		return 2;
	}
	s = oak_config_str(n->cfg, "state_dir");
	if (*s)
		snprintf(n->state_dir, sizeof(n->state_dir), "%s", s);
	else
		snprintf(n->state_dir, sizeof(n->state_dir), "/var/lib/oak/%s", n->id);
	snprintf(path, sizeof(path), "%.512s/instances", n->state_dir);
	if (oak_mkdir_p(path, 0755, 0750)) {
		oak_log(ERROR, "state_dir: %s: %s", path, strerror(errno));
		return 1;
	}
	n->env.state_dir = n->state_dir;
	n->env.containerd_address = oak_config_str(n->cfg, "containerd_address");
	n->env.containerd_namespace = oak_config_str(n->cfg, "containerd_namespace");
	if (subnet_init(n))
		return 2;
	uname(&un);
	snprintf(n->arch, sizeof(n->arch), "%s", oak_res_arch_name(un.machine));
	n->location.set = oak_config_bool(n->cfg, "location_set");
	n->location.lat = oak_config_double(n->cfg, "latitude");
	n->location.lon = oak_config_double(n->cfg, "longitude");
	return 0;
}

/* the cluster bus, with a retained offline status as its last will */
static int connect_bus(struct oak_node *n, const char *will_topic, const char *will_payload)
{
	struct oak_bus_opts bo = {0};

	oak_bus_opts_from_config(&bo, n->cfg, "broker_");
	bo.client_id = n->id;
	bo.keepalive_s = (int)oak_config_int(n->cfg, "keepalive");
	bo.clean_session = true;
	bo.will_topic = will_topic;
	bo.will_payload = will_payload;
	bo.will_retain = true;
	oak_log(INFO, "node %s: underlay %s, state %s, subnet %s, broker %s:%d", n->id, n->node_ip,
		n->state_dir, n->subnet[0] ? n->subnet : "(none yet)", bo.host, bo.port);
	n->bus = oak_bus_new(&bo);
	if (!n->bus) {
		oak_log(ERROR, "bus: cannot create");
		return -1;
	}
	oak_bus_on_state(n->bus, on_bus_state, n);
	if (subscribe_all(n)) {
		oak_log(ERROR, "bus: cannot subscribe");
		return -1;
	}
	if (oak_loop_add_bus(n->loop, n->bus)) {
		oak_log(ERROR, "bus: cannot watch its socket");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct oak_node node = {.dp_fd = -1, .hb_fd = -1};
	struct oak_node *n = &node;
	struct oak_msg_status will = {0};
	char err[512], will_topic[OAK_TOPIC_LEN], node_id_buf[OAK_ID_LEN];
	char *will_payload = NULL;
	enum oak_log_level lvl;
	int rc;

	oak_log_init("oak-node", OAK_LOG_INFO);
	n->cfg = oak_config_new("oak-node", keys, sizeof(keys) / sizeof(keys[0]));
	if (!n->cfg)
		return 1;
	rc = oak_config_parse_args(n->cfg, argc, argv, stdout, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "oak-node: %s\n", err);
		return 2;
	}
	if (oak_log_level_parse(oak_config_str(n->cfg, "log_level"), &lvl) == 0)
		oak_log_set_level(lvl);
	rc = node_identity(n, node_id_buf, sizeof(node_id_buf));
	if (rc)
		return rc;
	pick_runtimes(n);
	read_boot_id(n);
	sample_resources(n);
	n->cpu_prev_ms = oak_mono_ms();

	n->loop = oak_loop_new();
	if (!n->loop)
		return 1;
	oak_loop_on_signal(n->loop, on_signal, n);
	if (setup_datapath(n))
		return 1;
	latency_start(n);
	heartbeat_start(n);

	snprintf(will.id, sizeof(will.id), "%s", n->id);
	will.online = false;
	snprintf(will.boot_id, sizeof(will.boot_id), "%.39s", n->boot_id);
	will_payload = oak_msg_status_encode(&will);
	oak_topic_node(will_topic, sizeof(will_topic), n->id, OAK_T_STATUS);
	if (connect_bus(n, will_topic, will_payload))
		return 1;
	interests_restore(n);
	adopt_records(n);
	if (oak_loop_add_timer(n->loop, 1000, tick, n) < 0) {
		oak_log(ERROR, "event loop: cannot add the tick");
		return 1;
	}

	rc = oak_loop_run(n->loop);

	/* clean stop: say so (the will is only for crashes); instances keep
	 * running and the kernel keeps forwarding */
	if (node_connected(n)) {
		publish_node(n, OAK_T_STATUS, oak_msg_status_encode(&will), true);
		oak_bus_flush(&n->bus, 1, 500);
	}
	oak_bus_free(n->bus);
	free(will_payload);
	if (n->dp)
		oak_dp_close(n->dp);
	oak_probe_free(n->probe);
	heartbeat_stop(n);
	instances_free(n);
	interests_free(n);
	oak_loop_free(n->loop);
	oak_config_free(n->cfg);
	oak_log(INFO, "stopped");
	return rc ? 1 : 0;
}
