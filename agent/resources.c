// SPDX-License-Identifier: MIT
#include "resources.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int oak_res_parse_stat(const char *text, struct oak_cpu_times *out)
{
	const char *p = text;
	uint64_t v[10] = {0};
	int n;

	while (p && *p) {
		if (!strncmp(p, "cpu ", 4)) {
			n = sscanf(p + 4,
				   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
				   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
				   &v[9]);
			if (n < 4)
				return -1;
			/* user nice system idle iowait irq softirq steal guest guest_nice;
			 * guest time is already counted in user/nice */
			out->total = 0;
			for (int i = 0; i < n && i < 8; i++)
				out->total += v[i];
			out->busy = out->total - v[3] - (n > 4 ? v[4] : 0);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

double oak_res_cpu_percent(const struct oak_cpu_times *a, const struct oak_cpu_times *b)
{
	double dt, db;

	if (b->total <= a->total || b->busy < a->busy)
		return 0.0;
	dt = (double)(b->total - a->total);
	db = (double)(b->busy - a->busy);
	if (db > dt)
		return 100.0;
	return 100.0 * db / dt;
}

static int64_t mem_field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			char *end;
			long long kb = strtoll(p + kl + 1, &end, 10);

			if (end == p + kl + 1 || kb < 0)
				return -1;
			return kb;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int oak_res_parse_meminfo(const char *text, struct oak_meminfo *out)
{
	int64_t total = mem_field(text, "MemTotal"), avail = mem_field(text, "MemAvailable");

	if (total < 0)
		return -1;
	if (avail < 0) {
		int64_t f = mem_field(text, "MemFree"), b = mem_field(text, "Buffers"),
			c = mem_field(text, "Cached");

		if (f < 0)
			return -1;
		avail = f + (b > 0 ? b : 0) + (c > 0 ? c : 0);
	}
	if (avail > total)
		avail = total;
	out->total_mb = total / 1024;
	out->available_mb = avail / 1024;
	return 0;
}

const char *oak_res_arch_name(const char *m)
{
	if (!strcmp(m, "x86_64") || !strcmp(m, "amd64"))
		return "amd64";
	if (!strcmp(m, "aarch64") || !strcmp(m, "arm64"))
		return "arm64";
	if (!strncmp(m, "armv7", 5) || !strcmp(m, "armhf"))
		return "arm";
	if (!strcmp(m, "i686") || !strcmp(m, "i386"))
		return "386";
	if (!strcmp(m, "riscv64"))
		return "riscv64";
	return m;
}

bool oak_res_is_drm_card(const char *name)
{
	if (strncmp(name, "card", 4) || !name[4])
		return false;
	for (const char *p = name + 4; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, off = 0;

	if (fd < 0)
		return -1;
	while ((size_t)off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	close(fd);
	buf[off] = '\0';
	return off > 0 ? 0 : -1;
}

int oak_res_read_cpu(struct oak_cpu_times *out)
{
	char buf[4096];

	if (read_text("/proc/stat", buf, sizeof(buf)))
		return -1;
	return oak_res_parse_stat(buf, out);
}

int oak_res_read_mem(struct oak_meminfo *out)
{
	char buf[8192];

	if (read_text("/proc/meminfo", buf, sizeof(buf)))
		return -1;
	return oak_res_parse_meminfo(buf, out);
}

unsigned oak_res_gpu_count(void)
{
	unsigned drm = 0, nv = 0;
	struct dirent *e;
	DIR *d = opendir("/sys/class/drm");

	if (d) {
		while ((e = readdir(d)))
			if (oak_res_is_drm_card(e->d_name))
				drm++;
		closedir(d);
	}
	d = opendir("/dev");
	if (d) {
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "nvidia", 6) && e->d_name[6] >= '0' &&
			    e->d_name[6] <= '9')
				nv++;
		closedir(d);
	}
	return nv > drm ? nv : drm;
}

int64_t oak_res_disk_free_mb(const char *path)
{
	struct statvfs s;

	if (statvfs(path, &s))
		return -1;
	return (int64_t)((uint64_t)s.f_bavail * s.f_frsize / (1024 * 1024));
}
