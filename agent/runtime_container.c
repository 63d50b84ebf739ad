// SPDX-License-Identifier: MIT
/*
 * The container runtime: OCI images run by containerd, driven through its
 * `ctr` client (no shell in between). The container joins the network
 * namespace and the cgroup the agent prepared (`--with-ns network:...`,
 * `--cgroup /oak/<node>/<name>`), so networking, limits, usage and cleanup
 * work as for native instances. The container id is the instance's netns
 * name, unique per node and instance.
 *
 * `code` naming a local file is an OCI (or docker save) archive, imported
 * under the name its index annotates (io.containerd.image.name); anything
 * else is an image reference, pulled unless containerd has it.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

#define MAX_ARGS 256

static const char *ctr_path(void)
{
	static const char *const paths[] = {"/usr/bin/ctr", "/usr/local/bin/ctr", "/bin/ctr",
					    "/usr/sbin/ctr"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static bool socket_answers(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static bool container_available(const struct oak_runtime_env *env)
{
	return ctr_path() && socket_answers(env->containerd_address);
}

/*
 * Run ctr with the env's address and namespace and argv (NULL-terminated);
 * stdout and stderr together into out (may be NULL). Returns the exit
 * status, or -1 if it could not run.
 */
static int ctr(const struct oak_runtime_env *env, char *out, size_t outlen, char *const argv[])
{
	const char *full[MAX_ARGS + 8];
	const char *bin = ctr_path();
	size_t n = 0;

	if (out && outlen)
		out[0] = '\0';
	if (!bin) {
		if (out)
			snprintf(out, outlen, "ctr: not installed");
		return -1;
	}
	full[n++] = bin;
	full[n++] = "--address";
	full[n++] = env->containerd_address;
	full[n++] = "--connect-timeout";
	full[n++] = "3s";
	full[n++] = "--namespace";
	full[n++] = env->containerd_namespace;
	for (size_t i = 0; argv[i] && n < MAX_ARGS + 7; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return oak_exec((char *const *)full, true, out, outlen);
}

#define CTR(env, out, outlen, ...) ctr(env, out, outlen, (char *const[]){__VA_ARGS__, NULL})

/* the last line of ctr's output, for error messages */
static const char *last_line(const char *s)
{
	const char *nl = strrchr(s, '\n');

	return nl ? nl + 1 : s;
}

/* docker-style short names to what containerd wants: nginx ->
 * docker.io/library/nginx:latest, user/app -> docker.io/user/app:latest */
static void normalize_ref(const char *code, char *ref, size_t len)
{
	const char *slash = strchr(code, '/'), *last = strrchr(code, '/');
	bool domain = slash && (memchr(code, '.', (size_t)(slash - code)) ||
				memchr(code, ':', (size_t)(slash - code)) ||
				!strncmp(code, "localhost/", 10));
	bool tag = strchr(last ? last : code, ':') || strchr(code, '@');

	snprintf(ref, len, "%s%s%.400s%s", domain ? "" : "docker.io/", !slash ? "library/" : "",
		 code, tag ? "" : ":latest");
}

/* a path (not a reference) names an archive on this node */
static bool local_archive(const char *code)
{
	return code[0] == '/' || !strncmp(code, "./", 2) || !strncmp(code, "../", 3);
}

/* the image to run: imported from a local archive, or pulled if missing */
static int ensure_image(const struct oak_runtime_env *env, const char *code, char *ref,
			size_t reflen, char *err, size_t errlen)
{
	char out[4096], filter[600];
	const char *p;

	if (local_archive(code)) {
		struct stat st;
		int e = stat(code, &st) ? errno : 0;

		if (e || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "image archive %s: %s", code,
				 e ? strerror(e) : "not a regular file");
			return -1;
		}
		if (CTR(env, out, sizeof(out), "image", "import", (char *)code)) {
			snprintf(err, errlen, "image import %s: %s", code, last_line(out));
			return -1;
		}
		/* "unpacking <name> (sha256:...)...done" per image */
		p = strstr(out, "unpacking ");
		if (!p || sscanf(p + 10, "%511s", ref) != 1 || reflen < 512) {
			snprintf(
			    err, errlen,
			    "image import %s: no image name in the archive (annotate its index "
			    "with io.containerd.image.name)",
			    code);
			return -1;
		}
		return 0;
	}
	normalize_ref(code, ref, reflen);
	snprintf(filter, sizeof(filter), "name==%s", ref);
	if (CTR(env, out, sizeof(out), "image", "ls", "-q", filter) == 0 && !strcmp(out, ref))
		return 0;
	if (CTR(env, out, sizeof(out), "image", "pull", ref)) {
		snprintf(err, errlen, "image pull %s: %s", ref, last_line(out));
		return -1;
	}
	return 0;
}

/* the task's pid and whether it runs, from `ctr task ls` */
static pid_t task_pid(const struct oak_runtime_env *env, const char *id, bool *running)
{
	char out[8192], *save = NULL;

	*running = false;
	if (CTR(env, out, sizeof(out), "task", "ls"))
		return 0;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char tid[128], status[32];
		long pid;

		if (sscanf(l, "%127s %ld %31s", tid, &pid, status) == 3 && !strcmp(tid, id)) {
			*running = !strcmp(status, "RUNNING");
			return (pid_t)pid;
		}
	}
	return 0;
}

/* remove the task and the container (with its snapshot), whatever is left */
static void remove_container(const struct oak_runtime_env *env, const char *id)
{
	char out[1024];

	CTR(env, out, sizeof(out), "task", "rm", "-f", (char *)id);
	CTR(env, out, sizeof(out), "container", "rm", (char *)id);
}

static int container_exit_code(const struct oak_runtime_env *env, struct oak_instance *in);

static int container_start(const struct oak_runtime_env *env, struct oak_instance *in, char *err,
			   size_t errlen)
{
	char ref[512], key[OAK_JOB_NAME_LEN + 16], logp[600], ns[160], cg[160], mem[32], cpus[32],
	    out[2048];
	char *argv[MAX_ARGS];
	size_t n = 0;
	bool running;
	pid_t pid;

	if (!in->d.code[0]) {
		snprintf(err, errlen, "code: no image given");
		return -1;
	}
	if (ensure_image(env, in->d.code, ref, sizeof(ref), err, errlen))
		return -1;
	remove_container(env, in->netns); /* a previous run's */
	oak_instance_key(in, key, sizeof(key));
	snprintf(logp, sizeof(logp), "%s/logs", env->state_dir);
	mkdir(logp, 0750);
	snprintf(logp, sizeof(logp), "file://%s/logs/%s.log", env->state_dir, key);
	snprintf(ns, sizeof(ns), "network:/run/netns/%s", in->netns);
	snprintf(cg, sizeof(cg), "/%s", in->cgroup);
	argv[n++] = "run";
	argv[n++] = "--detach";
	argv[n++] = "--with-ns";
	argv[n++] = ns;
	argv[n++] = "--log-uri";
	argv[n++] = logp;
	if (in->cgroup[0]) {
		argv[n++] = "--cgroup";
		argv[n++] = cg;
	}
	if (in->d.memory_mb > 0) {
		snprintf(mem, sizeof(mem), "%lld", (long long)in->d.memory_mb * 1024 * 1024);
		argv[n++] = "--memory-limit";
		argv[n++] = mem;
	}
	if (in->d.vcpus > 0) {
		snprintf(cpus, sizeof(cpus), "%g", in->d.vcpus);
		argv[n++] = "--cpus";
		argv[n++] = cpus;
	}
	for (size_t i = 0; i < in->d.env.n && n < MAX_ARGS - 8; i++) {
		argv[n++] = "--env";
		argv[n++] = in->d.env.v[i];
	}
	argv[n++] = ref;
	argv[n++] = in->netns;
	/* cmd replaces the image's command; args alone replace it too (ctr has
	 * no way to append to the image's entrypoint) */
	for (size_t i = 0; i < in->d.cmd.n && n < MAX_ARGS - 2; i++)
		argv[n++] = in->d.cmd.v[i];
	for (size_t i = 0; i < in->d.args.n && n < MAX_ARGS - 2; i++)
		argv[n++] = in->d.args.v[i];
	argv[n] = NULL;
	if (ctr(env, out, sizeof(out), argv)) {
		snprintf(err, errlen, "ctr run %s: %s", ref, last_line(out));
		remove_container(env, in->netns);
		return -1;
	}
	pid = task_pid(env, in->netns, &running);
	in->pidfd = pid > 0 ? oak_pidfd_open(pid) : -1;
	if (pid <= 0 || in->pidfd < 0) {
		int code = -1;

		if (pid > 0)
			code = container_exit_code(env, in);
		snprintf(err, errlen, "container %s ended at once (exit code %d; see its log)",
			 in->netns, code);
		remove_container(env, in->netns);
		return -1;
	}
	in->pid = pid;
	in->pid_start = oak_proc_start_time(pid);
	in->adopted = true; /* the shim's child, not ours: never waitpid it */
	return 0;
}

static bool container_alive(const struct oak_runtime_env *env, const struct oak_instance *in)
{
	return oak_proc_same(in->pid, in->pid_start);
}

static bool wait_gone(struct oak_instance *in, int timeout_ms)
{
	struct pollfd p = {.fd = in->pidfd, .events = POLLIN};

	if (in->pidfd >= 0)
		return poll(&p, 1, timeout_ms) == 1;
	for (int t = 0; t < timeout_ms / 20; t++) {
		if (!oak_proc_same(in->pid, in->pid_start))
			return true;
		usleep(20000);
	}
	return !oak_proc_same(in->pid, in->pid_start);
}

static int container_stop(const struct oak_runtime_env *env, struct oak_instance *in,
			  int timeout_ms)
{
	char out[1024];

	if (in->pid > 0 && oak_proc_same(in->pid, in->pid_start)) {
		CTR(env, out, sizeof(out), "task", "kill", "--signal", "SIGTERM", in->netns);
		if (!wait_gone(in, timeout_ms)) {
			CTR(env, out, sizeof(out), "task", "kill", "--all", "--signal", "SIGKILL",
			    in->netns);
			wait_gone(in, 2000);
		}
	}
	remove_container(env, in->netns);
	oak_proc_forget(in);
	return 0;
}

/* The task ended: `ctr task rm` says "... exit code N" unless it was 0. */
static int container_exit_code(const struct oak_runtime_env *env, struct oak_instance *in)
{
	char out[1024];
	const char *p;
	int code = -1;

	if (CTR(env, out, sizeof(out), "task", "rm", in->netns))
		return -1;
	p = strstr(out, "exit code ");
	if (!p)
		return 0;
	sscanf(p + 10, "%d", &code);
	return code;
}

const struct oak_runtime oak_runtime_container = {
    .name = "container",
    .available = container_available,
    .start = container_start,
    .stop = container_stop,
    .alive = container_alive,
    .exit_code = container_exit_code,
};
