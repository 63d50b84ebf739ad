// SPDX-License-Identifier: MIT
/*
 * --wait: poll services until every wanted instance is RUNNING, printing a
 * progress line whenever a service's summary changes; fail when an
 * instance fails or cannot be placed (at once, or when it stays so for
 * --grace seconds: oak-root retries placement and replaces failed
 * instances itself), or when --timeout passes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonx.h"
#include "oakctl.h"
#include "status.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

int wait_services(struct oakctl *k, const char *const *ids, const unsigned int *desired,
		  unsigned int n)
{
	char(*last)[512] = calloc(n ? n : 1, sizeof(*last));
	double *failing = calloc(n ? n : 1, sizeof(*failing)); /* since when; 0: not failing */
	bool *done_svc = calloc(n ? n : 1, sizeof(*done_svc));
	double start = now_s(), interval = k->o.interval_s > 0 ? k->o.interval_s : 0.5;
	int rc = EXIT_OK;
	unsigned int i;

	if (!last || !failing || !done_svc) {
		rc = fail(EXIT_WAIT, "out of memory");
		goto out;
	}
	for (;;) {
		unsigned int done = 0;
		char why[600] = "";

		/* every service's line first, then the verdict of the round */
		for (i = 0; i < n; i++) {
			char path[512], name[256], line[512];
			struct svc_summary sum;
			unsigned int want;
			json_t *svc;

			snprintf(path, sizeof(path), "/api/service/%s", ids[i]);
			rc = api(&k->c, "GET", path, NULL, &svc);
			if (rc)
				goto out;
			want = desired[i] == UINT_MAX ? (unsigned int)jx_int(svc, "replicas", 1)
						      : desired[i];
			svc_display_name(svc, name, sizeof(name));
			svc_summarise(svc, want, name, &sum, line, sizeof(line));
			json_decref(svc);
			if (strcmp(line, last[i])) {
				printf("%s\n", line);
				fflush(stdout);
				snprintf(last[i], sizeof(last[i]), "%s", line);
			}
			if (!sum.failed)
				failing[i] = 0;
			else if (!failing[i])
				failing[i] = now_s();
			if (sum.failed && !why[0] && now_s() - failing[i] >= k->o.grace_s)
				snprintf(why, sizeof(why), "%s instance %lld is %s%s%s", name,
					 sum.failed_number, sum.failed_status,
					 sum.failed_detail[0] ? ": " : "", sum.failed_detail);
			done_svc[i] = svc_done(&sum);
			done += done_svc[i];
		}
		if (why[0]) {
			rc = fail(EXIT_WAIT, "%s", why);
			goto out;
		}
		if (done == n)
			goto out;
		if (k->o.timeout_s > 0 && now_s() - start >= k->o.timeout_s) {
			fprintf(stderr, "oakctl: timed out after %gs; still waiting for:\n",
				k->o.timeout_s);
			for (i = 0; i < n; i++)
				if (!done_svc[i])
					fprintf(stderr, "  %s\n", last[i]);
			rc = EXIT_WAIT;
			goto out;
		}
		sleep_s(interval);
	}
out:
	free(done_svc);
	free(failing);
	free(last);
	return rc;
}
