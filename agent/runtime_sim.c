// SPDX-License-Identifier: MIT
/*
 * The sim runtime: an instance with no process. An agent started with
 * sim = true runs every deploy through it, whatever runtime the SLA names,
 * and creates no namespace, veth, cgroup or BPF program: what it does is
 * the control plane only (registration, reports, deploy, state changes,
 * records, table queries, interests), so that one machine hosts hundreds
 * of agents for scale tests. A simulated instance "runs" from start until
 * it is stopped; it never exits by itself.
 */
#include "runtime.h"

static bool sim_available(const struct oak_runtime_env *env)
{
	return true;
}

static int sim_start(const struct oak_runtime_env *env, struct oak_instance *in, char *err,
		     size_t errlen)
{
	in->pid = 0;
	in->pid_start = 0;
	in->pidfd = -1; /* nothing to watch: no exit ever comes */
	in->adopted = false;
	return 0;
}

static int sim_stop(const struct oak_runtime_env *env, struct oak_instance *in, int timeout_ms)
{
	return 0;
}

static bool sim_alive(const struct oak_runtime_env *env, const struct oak_instance *in)
{
	return true;
}

const struct oak_runtime oak_runtime_sim = {
    .name = "sim",
    .available = sim_available,
    .start = sim_start,
    .stop = sim_stop,
    .alive = sim_alive,
};
