// SPDX-License-Identifier: MIT
#include "instance.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oak_instance_key(const struct oak_instance *in, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%u", in->d.job_name, in->d.instance_number);
}

uint32_t oak_instance_hash(const char *job_name, uint32_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)job_name; *p; p++)
		h = (h ^ *p) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((n >> (8 * i)) & 0xff)) * 16777619u;
	return h;
}

unsigned oak_restart_backoff_ms(unsigned attempt, unsigned base_ms, unsigned max_ms)
{
	uint64_t d = base_ms;

	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	return d > max_ms ? max_ms : (unsigned)d;
}

char *oak_record_encode(const struct oak_instance *in)
{
	char *dep = oak_msg_deploy_encode(&in->d), *out = NULL;
	json_t *o, *dj;

	if (!dep)
		return NULL;
	dj = json_loads(dep, 0, NULL);
	free(dep);
	if (!dj)
		return NULL;
	o = json_pack("{s:i,s:o,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:i,s:s}", "version", 1, "deploy",
		      dj, "state", oak_instance_state_name(in->state), "netns", in->netns, "veth",
		      in->veth, "ns_ip", in->ns_ip, "cgroup", in->cgroup, "pid",
		      (json_int_t)in->pid, "pid_start", (json_int_t)in->pid_start, "restarts",
		      (int)in->restarts, "exit_code", (int)in->exit_code, "reason", in->reason);
	if (!o)
		return NULL;
	out = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	return out;
}

static int get_str(json_t *o, const char *k, char *dst, size_t len, bool required, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(o, k);

	if (!v) {
		if (!required) {
			dst[0] = '\0';
			return 0;
		}
		snprintf(err, errlen, "%s: missing", k);
		return -1;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) >= len) {
		snprintf(err, errlen, "%s: not a string of at most %zu bytes", k, len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", json_string_value(v));
	return 0;
}

static int get_int(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(o, k);

	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(err, errlen, "%s: not an integer in %lld..%lld", k, (long long)lo,
			 (long long)hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int oak_record_decode(const char *buf, size_t len, struct oak_instance *in, char *err,
		      size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je), *dj;
	char state[32], derr[256], *dep;
	int64_t pid, start, restarts, code;
	int rc = -1;

	memset(in, 0, sizeof(*in));
	in->pidfd = -1;
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object: %s", o ? "" : je.text);
		goto out;
	}
	dj = json_object_get(o, "deploy");
	if (!json_is_object(dj)) {
		snprintf(err, errlen, "deploy: missing or not an object");
		goto out;
	}
	dep = json_dumps(dj, JSON_COMPACT);
	if (!dep) {
		snprintf(err, errlen, "deploy: out of memory");
		goto out;
	}
	if (oak_msg_deploy_decode(dep, strlen(dep), &in->d, derr, sizeof(derr))) {
		snprintf(err, errlen, "deploy.%s", derr);
		free(dep);
		goto out;
	}
	free(dep);
	if (get_str(o, "state", state, sizeof(state), true, err, errlen))
		goto out;
	if (oak_instance_state_parse(state, &in->state)) {
		snprintf(err, errlen, "state: unknown '%s'", state);
		goto out;
	}
	if (get_str(o, "netns", in->netns, sizeof(in->netns), true, err, errlen) ||
	    get_str(o, "veth", in->veth, sizeof(in->veth), true, err, errlen) ||
	    get_str(o, "ns_ip", in->ns_ip, sizeof(in->ns_ip), false, err, errlen) ||
	    get_str(o, "cgroup", in->cgroup, sizeof(in->cgroup), false, err, errlen) ||
	    get_str(o, "reason", in->reason, sizeof(in->reason), false, err, errlen) ||
	    get_int(o, "pid", 0, 0x7fffffff, &pid, err, errlen) ||
	    get_int(o, "pid_start", 0, INT64_MAX, &start, err, errlen) ||
	    get_int(o, "restarts", 0, 1000000, &restarts, err, errlen) ||
	    get_int(o, "exit_code", -1000, 1000, &code, err, errlen))
		goto out;
	in->pid = (pid_t)pid;
	in->pid_start = (uint64_t)start;
	in->restarts = (uint32_t)restarts;
	in->exit_code = (int32_t)code;
	rc = 0;
out:
	if (rc)
		oak_msg_deploy_free(&in->d);
	json_decref(o);
	return rc;
}
