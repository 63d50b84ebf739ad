// SPDX-License-Identifier: MIT
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"

int oak_exec(char *const argv[], bool capture_stdout, char *out, size_t outlen)
{
	int pfd[2], st;
	pid_t pid;
	ssize_t n;
	size_t off = 0;
	char buf[1024];

	if (out && outlen)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int dn = open("/dev/null", O_RDWR);

		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* the agent's fds stay its own */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(dn, 0);
		dup2(capture_stdout ? pfd[1] : dn, 1);
		dup2(pfd[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && out && off + 1 < outlen) {
			size_t c = (size_t)n < outlen - 1 - off ? (size_t)n : outlen - 1 - off;

			memcpy(out + off, buf, c);
			off += c;
			out[off] = '\0';
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	while (out && off && out[off - 1] == '\n')
		out[--off] = '\0';
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int oak_run(char *const argv[], char *err, size_t errlen)
{
	return oak_exec(argv, false, err, errlen) == 0 ? 0 : -1;
}

void oak_net_names(const char *node_id, struct oak_instance *in)
{
	uint32_t h = oak_instance_hash(in->d.job_name, in->d.instance_number);

	snprintf(in->netns, sizeof(in->netns), "%.40s-i%08x", node_id, h);
	snprintf(in->veth, sizeof(in->veth), "oak%08x", h);
}

void oak_net_macs(const struct oak_instance *in, uint8_t hm[6], uint8_t im[6])
{
	uint32_t h = oak_instance_hash(in->d.job_name, in->d.instance_number);

	/* locally administered, unicast */
	hm[0] = 0x02, hm[1] = 0xfe;
	im[0] = 0x02, im[1] = 0x0a;
	for (int i = 0; i < 4; i++)
		hm[2 + i] = im[2 + i] = (h >> (24 - 8 * i)) & 0xff;
}

/* ---- cgroups ---- */

static bool cg_v2_only(void)
{
	return access(CG_ROOT "/cgroup.controllers", F_OK) == 0;
}

/* the hierarchies an instance joins: v2 only, or v1 memory/cpu + unified */
static int cg_roots(const char **roots, size_t max)
{
	static const char *v1[] = {CG_ROOT "/memory", CG_ROOT "/cpu", CG_ROOT "/unified"};
	size_t n = 0;

	if (cg_v2_only()) {
		roots[n++] = CG_ROOT;
		return (int)n;
	}
	for (size_t i = 0; i < 3 && n < max; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/cgroup.procs", v1[i]);
		if (access(p, W_OK) == 0)
			roots[n++] = v1[i];
	}
	return (int)n;
}

void oak_cg_path(const char *node_id, struct oak_instance *in)
{
	snprintf(in->cgroup, sizeof(in->cgroup), "oak/%.60s/%s", node_id, in->veth);
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int mkdir_p(const char *path)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int oak_cg_create(const struct oak_instance *in, int64_t memory_mb, double vcpus, char *err,
		  size_t errlen)
{
	const char *roots[3];
	int n = cg_roots(roots, 3), rc;
	char p[400], v[64];
	long quota = vcpus > 0 ? (long)(vcpus * 100000.0) : -1;

	if (n == 0) {
		snprintf(err, errlen, "no writable cgroup hierarchy under " CG_ROOT);
		return -1;
	}
	if (quota >= 0 && quota < 1000)
		quota = 1000;
	for (int i = 0; i < n; i++) {
		bool v2 = !strcmp(roots[i], CG_ROOT);

		if (v2) { /* enable the controllers down to the instance's parent */
			char part[300];
			const char *s = in->cgroup;

			write_file(CG_ROOT "/cgroup.subtree_control", "+memory +cpu");
			while ((s = strchr(s, '/'))) {
				snprintf(part, sizeof(part), CG_ROOT "/%.*s", (int)(s - in->cgroup),
					 in->cgroup);
				mkdir_p(part);
				snprintf(p, sizeof(p), "%s/cgroup.subtree_control", part);
				write_file(p, "+memory +cpu");
				s++;
			}
		}
		snprintf(p, sizeof(p), "%s/%s", roots[i], in->cgroup);
		rc = mkdir_p(p);
		if (rc) {
			snprintf(err, errlen, "cgroup %s: %s", p, strerror(-rc));
			return -1;
		}
		if (memory_mb > 0) {
			snprintf(v, sizeof(v), "%lld", (long long)memory_mb * 1024 * 1024);
			if (v2 || strstr(roots[i], "/memory")) {
				snprintf(p, sizeof(p), "%s/%s/%s", roots[i], in->cgroup,
					 v2 ? "memory.max" : "memory.limit_in_bytes");
				rc = write_file(p, v);
				if (rc) {
					snprintf(err, errlen, "%s: %s", p, strerror(-rc));
					return -1;
				}
			}
		}
		if (quota > 0 && (v2 || strstr(roots[i], "/cpu"))) {
			if (v2) {
				snprintf(v, sizeof(v), "%ld 100000", quota);
				snprintf(p, sizeof(p), "%s/%s/cpu.max", roots[i], in->cgroup);
				rc = write_file(p, v);
			} else {
				snprintf(p, sizeof(p), "%s/%s/cpu.cfs_period_us", roots[i],
					 in->cgroup);
				write_file(p, "100000");
				snprintf(v, sizeof(v), "%ld", quota);
				snprintf(p, sizeof(p), "%s/%s/cpu.cfs_quota_us", roots[i],
					 in->cgroup);
				rc = write_file(p, v);
			}
			if (rc) {
				snprintf(err, errlen, "%s: %s", p, strerror(-rc));
				return -1;
			}
		}
	}
	return 0;
}

int oak_cg_attach(const struct oak_instance *in, pid_t pid)
{
	const char *roots[3];
	int n = cg_roots(roots, 3), rc = 0;
	char p[256], v[24];

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s/cgroup.procs", roots[i], in->cgroup);
		if (write_file(p, v))
			rc = -1;
	}
	return rc;
}

static int cg_kill_all(const char *dir)
{
	char p[300], line[32];
	int left = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)atoi(line);

		if (pid > 1) {
			kill(pid, SIGKILL);
			left++;
		}
	}
	fclose(f);
	return left;
}

void oak_cg_destroy(const struct oak_instance *in)
{
	const char *roots[3];
	int n = cg_roots(roots, 3);
	char p[256];

	if (!in->cgroup[0])
		return;
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", roots[i], in->cgroup);
		if (access(p, F_OK))
			continue;
		for (int tries = 0; tries < 50; tries++) {
			cg_kill_all(p);
			if (rmdir(p) == 0 || errno == ENOENT)
				break;
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}

int64_t oak_cg_memory(const struct oak_instance *in)
{
	char p[256], buf[32];
	bool v2 = cg_v2_only();
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s/%s", v2 ? CG_ROOT : CG_ROOT "/memory", in->cgroup,
		 v2 ? "memory.current" : "memory.usage_in_bytes");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

int64_t oak_cg_cpu_usec(const struct oak_instance *in)
{
	char p[256], line[64];
	long long v = -1;
	FILE *f;

	/* cpu.stat of cgroup v2, the unified hierarchy on a hybrid host (the
	 * v1 cpu and cpuacct controllers are apart there, and only cpu holds
	 * the instance) */
	snprintf(p, sizeof(p), "%s/%s/cpu.stat", cg_v2_only() ? CG_ROOT : CG_ROOT "/unified",
		 in->cgroup);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "usage_usec %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t oak_proc_start_time(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long long start = 0;
	int fd;
	ssize_t n;

	if (pid <= 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	/* after ")": state(3) ... starttime is field 22 */
	if (sscanf(
		s + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		&start) != 1)
		return 0;
	return start;
}

bool oak_proc_same(pid_t pid, uint64_t start)
{
	char p[64], st = 0, buf[512], *s;
	int fd;
	ssize_t n;

	if (pid <= 0 || oak_proc_start_time(pid) != start)
		return false;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	if (s && s[1] == ' ')
		st = s[2];
	return st && st != 'Z' && st != 'X';
}

int oak_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

void oak_proc_forget(struct oak_instance *in)
{
	if (in->pidfd >= 0)
		close(in->pidfd);
	in->pidfd = -1;
	in->pid = 0;
	in->pid_start = 0;
}
