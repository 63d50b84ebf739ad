/* SPDX-License-Identifier: MIT */
/* Runtimes run an instance's workload inside the namespace and cgroup the
 * agent prepared for it (in->netns, in->cgroup). The agent owns networking,
 * records and state; a runtime only starts, stops and checks processes.
 *
 * Only `native` exists so far: the service's command runs directly on the
 * node. A containerd runtime (through `ctr`) is not written yet; the agent
 * offers `container` in its reports only when it is. */
#ifndef OAK_AGENT_RUNTIME_H
#define OAK_AGENT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "instance.h"

struct oak_runtime_env {
	const char *state_dir; /* logs go to <state_dir>/logs/<key>.log */
};

struct oak_runtime {
	const char *name; /* the SLA's virtualization value */
	bool (*available)(void);
	/* start in->netns/in->cgroup; sets in->pid, in->pid_start, in->pidfd */
	int (*start)(const struct oak_runtime_env *env, struct oak_instance *in, char *err,
		     size_t errlen);
	/* SIGTERM, then SIGKILL after timeout_ms; reaps when it is our child */
	int (*stop)(const struct oak_runtime_env *env, struct oak_instance *in, int timeout_ms);
	/* is the instance's process (the same one) alive? */
	bool (*alive)(const struct oak_runtime_env *env, const struct oak_instance *in);
};

/* NULL if no such runtime is built in */
const struct oak_runtime *oak_runtime_find(const char *name);
/* every built-in runtime, NULL-terminated */
extern const struct oak_runtime *const oak_runtimes[];

#endif
