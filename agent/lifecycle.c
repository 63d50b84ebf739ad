// SPDX-License-Identifier: MIT
/*
 * The instance lifecycle: deploy (namespace, cgroup, datapath entry,
 * process), delete, the exit of a process (seen on its pidfd), restarts
 * with backoff, and the records in <state_dir>/instances that let a
 * restarted agent adopt what runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <oak/log.h>
#include <oak/ports.h>

#include "node.h"
#include "sys.h"

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

/* the runtime that runs an instance: its SLA's, or sim for every one on an
 * agent in sim mode (each runtime it offers is simulated); NULL if none */
const struct oak_runtime *node_runtime(const struct oak_node *n, const char *name)
{
	const struct oak_runtime *rt = oak_runtime_find(name);

	return rt && n->sim ? &oak_runtime_sim : rt;
}

static int start_process(struct oak_node *n, struct oak_instance *in)
{
	const struct oak_runtime *rt = node_runtime(n, in->d.runtime);
	char err[300];

	if (rt->start(&n->env, in, err, sizeof(err))) {
		snprintf(in->reason, sizeof(in->reason), "%.255s", err);
		return -1;
	}
	in->started_ms = oak_mono_ms();
	in->restart_at_ms = 0;
	watch_process(n, in);
	if (n->sim)
		oak_log(INFO, "instance %s.%u: simulated (no process)", in->d.job_name,
			in->d.instance_number);
	else
		oak_log(INFO, "instance %s.%u: pid %d in %s", in->d.job_name, in->d.instance_number,
			(int)in->pid, in->netns);
	return 0;
}

/* ------------------------------------------------------------ instances */

/*
 * The SLA's "port": each entry exposed on this node's underlay address. A
 * host port taken on this node fails the instance, with the port named.
 */
static int dp_ports(struct oak_node *n, struct oak_instance *in, char *err, size_t errlen)
{
	struct oak_port_map m[OAK_PORTS_MAX];
	uint32_t iip = ip4(in->d.instance_ip);
	int count = oak_ports_parse(in->d.port, m, OAK_PORTS_MAX, err, errlen), rc;

	if (count < 0)
		return -1;
	for (int i = 0; i < count; i++) {
		const char *proto = oak_port_proto_name(m[i].proto);

		rc = oak_dp_port_add(n->dp, m[i].proto, m[i].host_port, iip, m[i].container_port);
		if (rc == -EADDRINUSE)
			snprintf(err, errlen, "port %u/%s: host port already exposed on this node",
				 m[i].host_port, proto);
		else if (rc == -EPROTONOSUPPORT)
			snprintf(err, errlen, "port %u/%s: only tcp and udp ports can be exposed",
				 m[i].host_port, proto);
		else if (rc)
			snprintf(err, errlen, "port %u/%s: datapath: %s", m[i].host_port, proto,
				 strerror(-rc));
		if (rc)
			return -1;
	}
	return 0;
}

/* Only this instance's: a host port another instance holds stays its own. */
static void dp_ports_del(struct oak_node *n, const struct oak_instance *in)
{
	struct oak_port_map m[OAK_PORTS_MAX];
	int count = oak_ports_parse(in->d.port, m, OAK_PORTS_MAX, NULL, 0);

	for (int i = 0; i < count; i++)
		oak_dp_port_del(n->dp, m[i].proto, m[i].host_port, ip4(in->d.instance_ip));
}

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
	return dp_ports(n, in, err, errlen);
}

static void teardown(struct oak_node *n, struct oak_instance *in)
{
	const struct oak_runtime *rt = node_runtime(n, in->d.runtime);
	int ifindex = in->veth[0] ? (int)if_nametoindex(in->veth) : 0;

	unwatch_process(n, in);
	if (rt) /* with no process too: a runtime may hold more (a stopped container) */
		rt->stop(&n->env, in, (int)oak_config_int(n->cfg, "stop_timeout_ms"));
	if (n->dp) {
		dp_ports_del(n, in);
		if (ifindex)
			oak_dp_detach_instance(n->dp, ifindex);
		oak_dp_instance_del(n->dp, ip4(in->d.instance_ip));
	}
	if (n->sim) /* it made neither */
		return;
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
	rt = node_runtime(n, in->d.runtime);
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
	if (!n->sim) { /* a simulated instance has no namespace, veth or cgroup */
		oak_net_names(n->id, in);
		oak_cg_path(n->id, in);
	}
	record_save(n, in); /* before anything exists, so a crash leaves a trace */
	set_state(n, in, OAK_INSTANCE_CREATING, NULL);

	if (!n->sim &&
	    (oak_net_create(in, n->gw, OAK_INSTANCE_MTU,
			    oak_config_bool(n->cfg, "instance_tx_offload"), err, sizeof(err)) ||
	     oak_cg_create(in, in->d.memory_mb, in->d.vcpus, err, sizeof(err)) ||
	     dp_local(n, in, err, sizeof(err))))
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
		const struct oak_runtime *rt = node_runtime(n, in->d.runtime);

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
	const struct oak_runtime *rt = node_runtime(n, in->d.runtime);
	bool net = n->sim || oak_net_exists(in); /* sim: it never had one */
	/* sim: no process, so what the record says: it ran */
	bool proc =
	    rt && (in->pid ? rt->alive(&n->env, in) : n->sim && in->state == OAK_INSTANCE_RUNNING);

	if (proc && net) {
		char derr[128];

		in->pidfd = in->pid ? oak_pidfd_open(in->pid) : -1;
		in->adopted = true;
		in->started_ms = oak_mono_ms();
		in->state = OAK_INSTANCE_RUNNING;
		watch_process(n, in);
		if (dp_local(n, in, derr, sizeof(derr)))
			oak_log(WARN, "adopt %s: %s", name, derr);
		if (n->sim)
			oak_log(INFO, "instance %s.%u: adopted (simulated)", in->d.job_name,
				in->d.instance_number);
		else
			oak_log(INFO, "instance %s.%u: adopted (pid %d, %s)", in->d.job_name,
				in->d.instance_number, (int)in->pid, in->netns);
	} else if (rt && net && in->state != OAK_INSTANCE_CREATING) {
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
