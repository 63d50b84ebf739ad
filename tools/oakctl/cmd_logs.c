// SPDX-License-Identifier: MIT
/*
 * oakctl logs INSTANCE [-f]: an instance's logs as the root holds them
 * (the instance entry's "logs"); -f polls and prints what is new.
 * INSTANCE is SERVICE/N as 'get instances' prints it, or a SERVICE that
 * has exactly one instance.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonx.h"
#include "oakctl.h"
#include "status.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The logs as one text: a string, or a list of lines. A new string, or NULL. */
static char *logs_text(const json_t *inst)
{
	const json_t *v = json_object_get(inst, "logs"), *e;
	size_t i, len = 0;
	char *out, *p;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!json_is_array(v))
		return strdup("");
	json_array_foreach(v, i, e) len += json_is_string(e) ? json_string_length(e) + 1 : 0;
	p = out = malloc(len + 1);
	if (!out)
		return NULL;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			continue;
		memcpy(p, json_string_value(e), json_string_length(e));
		p += json_string_length(e);
		*p++ = '\n';
	}
	*p = '\0';
	return out;
}

/* The instance entry numbered num (-1: the only one) of service sid; a new reference. */
static int fetch_instance(struct oakctl *k, const char *sid, long long num, const char *name,
			  json_t **inst)
{
	const json_t *list, *e;
	char path[512];
	json_t *svc;
	size_t i;
	int rc;

	*inst = NULL;
	snprintf(path, sizeof(path), "/api/service/%s", sid);
	rc = api(&k->c, "GET", path, NULL, &svc);
	if (rc)
		return rc;
	list = json_object_get(svc, "instance_list");
	if (num < 0 && json_array_size(list) == 1)
		*inst = json_incref(json_array_get(list, 0));
	json_array_foreach(list, i, e) if (num >= 0 && jx_int(e, "instance_number", -1) == num)
	{
		*inst = json_incref((json_t *)e);
		break;
	}
	if (!*inst && num < 0)
		rc = fail(json_array_size(list) ? EXIT_USAGE : EXIT_REFUSED,
			  "%s has %zu instances: name one as %s/N (see 'oakctl get instances %s')",
			  name, json_array_size(list), name, name);
	else if (!*inst)
		rc = fail(EXIT_REFUSED, "%s has no instance %lld (see 'oakctl get instances %s')",
			  name, num, name);
	json_decref(svc);
	return rc;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

int cmd_logs(struct oakctl *k, int argc, char **argv)
{
	char ref[256], name[256], *slash, *old = NULL, *now;
	long long num = -1;
	const char *sid;
	json_t *svc, *inst;
	int rc;

	if (argc != 1 || snprintf(ref, sizeof(ref), "%s", argv[0]) >= (int)sizeof(ref))
		return fail(EXIT_USAGE, "usage: oakctl logs SERVICE[/N] [-f]");
	slash = strrchr(ref, '/');
	if (slash && slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
		num = strtoll(slash + 1, NULL, 10);
		*slash = '\0';
	}
	rc = find_service(k, ref, &svc);
	if (rc)
		return rc;
	svc_display_name(svc, name, sizeof(name));
	sid = jx_str(svc, "microserviceID", jx_oid(svc, ""));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		rc = fetch_instance(k, sid, num, name, &inst);
		if (rc)
			break;
		now = logs_text(inst);
		json_decref(inst);
		if (!now) {
			rc = fail(EXIT_REFUSED, "out of memory");
			break;
		}
		/* print what is new; a log that was cut or rotated prints again */
		if (old && !strncmp(now, old, strlen(old)))
			fputs(now + strlen(old), stdout);
		else
			fputs(now, stdout);
		if (!k->o.follow && *now && now[strlen(now) - 1] != '\n')
			fputc('\n', stdout);
		fflush(stdout);
		free(old);
		old = now;
		if (k->o.follow && !stop)
			sleep_s(k->o.interval_s > 0 ? k->o.interval_s : 1.0);
	} while (k->o.follow && !stop);
	free(old);
	json_decref(svc);
	return stop ? EXIT_OK : rc;
}
