/* SPDX-License-Identifier: MIT */
/* Runtimes run an instance's workload inside the namespace and cgroup the
 * agent prepared for it (in->netns, in->cgroup). The agent owns networking,
 * records and state; a runtime only starts, stops and checks processes.
 *
 * `native` runs the service's command directly on the node; `container`
 * runs an OCI image through containerd (its `ctr` client), joined to the
 * instance's namespace and cgroup; `sim` (an agent with sim = true) runs
 * nothing, for scale tests. The agent offers a runtime in its reports
 * only while available() says so. */
#ifndef OAK_AGENT_RUNTIME_H
#define OAK_AGENT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "instance.h"

struct oak_runtime_env {
	const char *state_dir;		  /* logs go to <state_dir>/logs/<key>.log */
	const char *containerd_address;	  /* containerd's socket */
	const char *containerd_namespace; /* containerd namespace of oak's containers */
};

struct oak_runtime {
	const char *name; /* the SLA's virtualization value */
	bool (*available)(const struct oak_runtime_env *env);
	/* start in->netns/in->cgroup; sets in->pid, in->pid_start, in->pidfd */
	int (*start)(const struct oak_runtime_env *env, struct oak_instance *in, char *err,
		     size_t errlen);
	/* SIGTERM, then SIGKILL after timeout_ms; reaps when it is our child */
	int (*stop)(const struct oak_runtime_env *env, struct oak_instance *in, int timeout_ms);
	/* is the instance's process (the same one) alive? */
	bool (*alive)(const struct oak_runtime_env *env, const struct oak_instance *in);
	/* after the process ended and was not our child to reap: its exit code
	 * (and release what the runtime keeps of it), -1 if unknown. May be NULL. */
	int (*exit_code)(const struct oak_runtime_env *env, struct oak_instance *in);
};

extern const struct oak_runtime oak_runtime_native, oak_runtime_container;
/* the instance without a process of an agent in sim mode (runtime_sim.c);
 * not in oak_runtimes: an SLA never names it */
extern const struct oak_runtime oak_runtime_sim;

/* NULL if no such runtime is built in */
const struct oak_runtime *oak_runtime_find(const char *name);
/* every built-in runtime, NULL-terminated */
extern const struct oak_runtime *const oak_runtimes[];

#endif
