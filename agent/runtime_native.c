// SPDX-License-Identifier: MIT
/* The native runtime: fork, enter the instance's network namespace and
 * cgroups, exec the service's command. The process gets its own session so
 * it outlives the agent (a restarted agent adopts it through its record). */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys.h"

static bool native_available(const struct oak_runtime_env *env)
{
	return true;
}

/* argv: cmd + args; else code + args (through sh -c when code has spaces) */
static char **build_argv(const struct oak_msg_deploy *d)
{
	size_t n = 0, max = d->cmd.n + d->args.n + 4;
	char **argv = calloc(max, sizeof(*argv));

	if (!argv)
		return NULL;
	if (d->cmd.n) {
		for (size_t i = 0; i < d->cmd.n; i++)
			argv[n++] = d->cmd.v[i];
	} else if (strchr(d->code, ' ')) {
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = (char *)d->code;
		return argv;
	} else {
		argv[n++] = (char *)d->code;
	}
	for (size_t i = 0; i < d->args.n; i++)
		argv[n++] = d->args.v[i];
	return argv;
}

static int native_start(const struct oak_runtime_env *env, struct oak_instance *in, char *err,
			size_t errlen)
{
	char key[OAK_JOB_NAME_LEN + 16], logp[512], nsp[128];
	int pfd[2], nsfd, logfd, child_err = 0;
	char **argv = build_argv(&in->d);
	pid_t pid;
	ssize_t n;

	if (!argv || !argv[0] || !argv[0][0]) {
		free(argv);
		snprintf(err, errlen, "nothing to run: empty cmd and code");
		return -1;
	}
	oak_instance_key(in, key, sizeof(key));
	snprintf(logp, sizeof(logp), "%s/logs", env->state_dir);
	mkdir(logp, 0750);
	snprintf(logp, sizeof(logp), "%s/logs/%s.log", env->state_dir, key);
	snprintf(nsp, sizeof(nsp), "/run/netns/%s", in->netns);
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	nsfd = open(nsp, O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nsfd < 0 || pipe2(pfd, O_CLOEXEC)) {
		snprintf(err, errlen, "%s: %s", logfd < 0 ? logp : nsp, strerror(errno));
		if (logfd >= 0)
			close(logfd);
		if (nsfd >= 0)
			close(nsfd);
		free(argv);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int dn = open("/dev/null", O_RDONLY), e;

		/* nothing of the agent's (its MQTT socket: a crashed agent's
		 * last will waits for its close) lives on in the instance */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		if (oak_cg_attach(in, getpid()) || setns(nsfd, CLONE_NEWNET)) {
			e = errno ? errno : EPERM;
			goto child_fail;
		}
		dup2(dn, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		for (size_t i = 0; i < in->d.env.n; i++)
			putenv(in->d.env.v[i]);
		execvp(argv[0], argv);
		e = errno;
	child_fail:
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	close(nsfd);
	close(logfd);
	free(argv);
	if (pid < 0) {
		close(pfd[0]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	/* EOF on exec, or the child's errno */
	while ((n = read(pfd[0], &child_err, sizeof(child_err))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	if (n == sizeof(child_err)) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "exec %s: %s", in->d.cmd.n ? in->d.cmd.v[0] : in->d.code,
			 strerror(child_err));
		return -1;
	}
	in->pid = pid;
	in->pid_start = oak_proc_start_time(pid);
	in->pidfd = oak_pidfd_open(pid);
	in->adopted = false;
	return 0;
}

static bool native_alive(const struct oak_runtime_env *env, const struct oak_instance *in)
{
	return oak_proc_same(in->pid, in->pid_start);
}

static int native_stop(const struct oak_runtime_env *env, struct oak_instance *in, int timeout_ms)
{
	struct pollfd p;

	if (in->pid <= 0 || !oak_proc_same(in->pid, in->pid_start))
		goto reap;
	kill(-in->pid, SIGTERM);
	kill(in->pid, SIGTERM);
	if (in->pidfd >= 0) {
		p.fd = in->pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, timeout_ms) == 1)
			goto reap;
	} else {
		for (int t = 0; t < timeout_ms / 20 && oak_proc_same(in->pid, in->pid_start); t++)
			usleep(20000);
	}
	if (oak_proc_same(in->pid, in->pid_start)) {
		kill(-in->pid, SIGKILL);
		kill(in->pid, SIGKILL);
	}
reap:
	if (in->pid > 0 && !in->adopted)
		waitpid(in->pid, NULL, 0);
	oak_proc_forget(in);
	return 0;
}

const struct oak_runtime oak_runtime_native = {
    .name = "native",
    .available = native_available,
    .start = native_start,
    .stop = native_stop,
    .alive = native_alive,
};

const struct oak_runtime *const oak_runtimes[] = {&oak_runtime_native, &oak_runtime_container,
						  NULL};

const struct oak_runtime *oak_runtime_find(const char *name)
{
	for (int i = 0; oak_runtimes[i]; i++)
		if (!strcmp(oak_runtimes[i]->name, name))
			return oak_runtimes[i];
	return NULL;
}
