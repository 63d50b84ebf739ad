// SPDX-License-Identifier: MIT
/*
 * oak-netsetup-bench: time oak-node's set-up and removal of instance
 * networks (agent/netlink.c: namespace, veth pair, addresses, routes, MTU,
 * links up, tx checksum offload off), the same calls the agent makes per
 * instance. Run it inside a scratch network namespace: the host sides of
 * the veths appear where it runs. tools/bench/netsetup.sh drives it.
 *
 *   oak-netsetup-bench PREFIX N    one line per phase: "create|destroy us ..."
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys.h"

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *v, int n)
{
	int64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += v[i];
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%s n=%d mean_us=%lld p50_us=%lld p99_us=%lld\n", what, n, (long long)(sum / n),
	       (long long)v[n / 2], (long long)v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0;
	struct oak_instance *in;
	int64_t *tc, *td;
	char err[300];

	if (argc != 3 || n < 1 || n > 61) {
		fprintf(stderr, "usage: %s PREFIX N (1..61)\n", argv[0]);
		return 2;
	}
	in = calloc((size_t)n, sizeof(*in));
	tc = calloc((size_t)n, sizeof(*tc));
	td = calloc((size_t)n, sizeof(*td));
	if (!in || !tc || !td)
		return 1;
	for (int i = 0; i < n; i++) {
		int64_t t0;

		snprintf(in[i].d.job_name, sizeof(in[i].d.job_name), "bench.netsetup");
		in[i].d.instance_number = (uint32_t)i;
		oak_net_names(argv[1], &in[i]);
		snprintf(in[i].ns_ip, sizeof(in[i].ns_ip), "10.18.0.%d", 2 + i);
		t0 = now_us();
		if (oak_net_create(&in[i], "10.18.0.1", 1450, false, err, sizeof(err))) {
			fprintf(stderr, "instance %d: %s\n", i, err);
			for (int j = 0; j < i; j++)
				oak_net_destroy(&in[j]);
			return 1;
		}
		tc[i] = now_us() - t0;
	}
	for (int i = 0; i < n; i++) {
		int64_t t0 = now_us();

		oak_net_destroy(&in[i]);
		td[i] = now_us() - t0;
	}
	report("create", tc, n);
	report("destroy", td, n);
	free(in);
	free(tc);
	free(td);
	return 0;
}
