/* SPDX-License-Identifier: MIT */
/* Node resources from /proc and sysfs. The parsers are pure (they take the
 * text of the file) so they are unit-tested on sample text. */
#ifndef OAK_AGENT_RESOURCES_H
#define OAK_AGENT_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

struct oak_cpu_times {
	uint64_t busy;
	uint64_t total;
};

struct oak_meminfo {
	int64_t total_mb;
	int64_t available_mb;
};

/* the aggregate "cpu " line of /proc/stat; -1 if absent or malformed */
int oak_res_parse_stat(const char *text, struct oak_cpu_times *out);
/* busy share between two samples, 0..100 (0 when no time passed) */
double oak_res_cpu_percent(const struct oak_cpu_times *a, const struct oak_cpu_times *b);
/* MemTotal and MemAvailable (MemFree+Buffers+Cached when absent); -1 if none */
int oak_res_parse_meminfo(const char *text, struct oak_meminfo *out);
/* uname machine -> the name the scheduler uses ("x86_64" -> "amd64") */
const char *oak_res_arch_name(const char *machine);
/* is this /sys/class/drm entry a GPU (cardN, not a connector cardN-HDMI-A-1)? */
bool oak_res_is_drm_card(const char *name);

/* Readers of the real files (root paths overridable for tests). */
int oak_res_read_cpu(struct oak_cpu_times *out);
int oak_res_read_mem(struct oak_meminfo *out);
unsigned oak_res_gpu_count(void);
int64_t oak_res_disk_free_mb(const char *path);

#endif
