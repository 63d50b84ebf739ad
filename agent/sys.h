/* SPDX-License-Identifier: MIT */
/* The node's system plumbing for instances: network namespaces and veths
 * (rtnetlink in this process, netlink.c), cgroups (v1 controllers,
 * v2 unified, or both on a hybrid host) and process helpers. */
#ifndef OAK_AGENT_SYS_H
#define OAK_AGENT_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "instance.h"

/*
 * Run argv (no shell, PATH lookup) with stdin from /dev/null and no signal
 * blocked. Its stderr, and with capture_stdout its stdout too, goes into out
 * (may be NULL), trailing newlines removed. Returns the exit status, or -1
 * if it could not run or did not exit.
 */
int oak_exec(char *const argv[], bool capture_stdout, char *out, size_t outlen);

/* Run argv (no shell); 0 on exit status 0, else -1 with its stderr in err. */
int oak_run(char *const argv[], char *err, size_t errlen);

/* Names derived from the instance: netns "<node>-i<hash>", veth "oak<hash>". */
void oak_net_names(const char *node_id, struct oak_instance *in);
void oak_net_macs(const struct oak_instance *in, uint8_t host_mac[6], uint8_t inst_mac[6]);

/* Namespace + veth pair + addresses/routes as tests/e2e/topo.sh builds them:
 * host veth holds gw/32 and a /32 route to ns_ip; eth0 inside holds ns_ip/32,
 * MTU mtu, default route via gw. Removes any leftover of the same name first. */
int oak_net_create(const struct oak_instance *in, const char *gw, unsigned mtu, bool tx_offload,
		   char *err, size_t errlen);
void oak_net_destroy(const struct oak_instance *in);
bool oak_net_exists(const struct oak_instance *in);

/* cgroup "oak/<node>/<name>" under every hierarchy that is mounted */
void oak_cg_path(const char *node_id, struct oak_instance *in);
int oak_cg_create(const struct oak_instance *in, int64_t memory_mb, double vcpus, char *err,
		  size_t errlen);
/* move pid into the instance's cgroups */
int oak_cg_attach(const struct oak_instance *in, pid_t pid);
/* SIGKILL whatever is left in it, then remove it */
void oak_cg_destroy(const struct oak_instance *in);
/* memory in use by the instance, bytes; -1 if unknown */
int64_t oak_cg_memory(const struct oak_instance *in);
/* CPU time used by the instance (cpu.stat usage_usec of its cgroup v2, the
 * unified hierarchy on a hybrid host), microseconds; -1 if unknown */
int64_t oak_cg_cpu_usec(const struct oak_instance *in);

/* /proc/<pid>/stat start time; 0 if the process does not exist */
uint64_t oak_proc_start_time(pid_t pid);
/* does pid exist and is it the process that started at start? */
bool oak_proc_same(pid_t pid, uint64_t start);
/* pidfd_open(2): an fd that turns readable when pid ends; -1 on failure */
int oak_pidfd_open(pid_t pid);
/* the instance's process is over: close its pidfd, clear pid and start time */
void oak_proc_forget(struct oak_instance *in);

#endif
