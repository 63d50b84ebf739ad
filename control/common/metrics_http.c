/* metrics_http.h: a /metrics listener on libmicrohttpd in its "external
 * epoll" mode (MHD keeps its epoll set of sockets, the oak_loop watches
 * that set's fd and calls MHD_run(), a timer covers MHD's idle timeouts),
 * and the process metrics every daemon exports. */
#include "oak/metrics_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "oak/config.h"
#include "oak/daemon.h"
#include "oak/log.h"
#include "oak/metrics.h"
#include "oak/mhd_loop.h"

#define CONN_LIMIT   64
#define CONN_TIMEOUT 10 /* s: a scrape that stalls is dropped */

#ifndef OAK_VERSION
#define OAK_VERSION "unknown"
#endif

struct oak_metrics_http {
	struct oak_mhd mhd;
	struct oak_metrics *m;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	oak_log(WARN, "metrics http: %s", buf);
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

int oak_metrics_mhd_answer(struct MHD_Connection *c, struct oak_metrics *m, const char *method)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t len = 0;
	char *text;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	text = oak_metrics_render(m, &len);
	if (!text)
		return plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", OAK_METRICS_CONTENT_TYPE);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct oak_metrics_http *h = cls;

	if (*upload_data_size) { /* a body is not wanted: skip it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics"))
		return plain(c, MHD_HTTP_NOT_FOUND, "oak serves /metrics only\n");
	return (enum MHD_Result)oak_metrics_mhd_answer(c, h->m, method);
}

/* "1.2.3.4:9464", "[::1]:9464" into a socket address */
static int parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *flags)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port < 0 || port > 65535)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -1;
}

struct oak_metrics_http *oak_metrics_http_new(struct oak_loop *loop, struct oak_metrics *m,
					      const char *listen, char *err, size_t errlen)
{
	struct oak_metrics_http *h;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	if (parse_listen(listen, &ss, &flags)) {
		snprintf(err, errlen, "'%s' is not ADDRESS:PORT ([ADDRESS]:PORT for IPv6)", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->m = m;
	errno = 0;
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
			     mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT,
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
			 errno ? strerror(errno) : "libmicrohttpd refused");
		free(h);
		return NULL;
	}
	if (oak_mhd_attach(&h->mhd, loop, d)) {
		snprintf(err, errlen, "cannot register with the event loop");
		oak_metrics_http_free(h);
		return NULL;
	}
	return h;
}

void oak_metrics_http_free(struct oak_metrics_http *h)
{
	if (!h)
		return;
	oak_mhd_detach(&h->mhd);
	free(h);
}

int oak_metrics_http_port(const struct oak_metrics_http *h)
{
	return h ? h->mhd.port : 0;
}

int oak_metrics_http_from_config(struct oak_loop *loop, struct oak_metrics *m,
				 const struct oak_config *cfg, const char *key,
				 struct oak_metrics_http **out)
{
	const char *listen = oak_config_str(cfg, key);
	bool set = strcmp(oak_config_origin(cfg, key), "default") != 0;
	char err[256];

	*out = NULL;
	if (!*listen || !strcmp(listen, "off"))
		return 0;
	*out = oak_metrics_http_new(loop, m, listen, err, sizeof(err));
	if (*out) {
		oak_log(INFO, "metrics on http://%s/metrics", listen);
		return 0;
	}
	if (set) {
		oak_log(ERROR, "%s: %s", key, err);
		return -1;
	}
	oak_log(WARN, "%s: %s; metrics off (set %s to another address, or to off)", key, err, key);
	return 0;
}

/* process_* as the Prometheus client libraries export them */
struct process_metrics {
	struct oak_metric *cpu, *rss, *fds;
};

static void collect_process(struct oak_metrics *m, void *arg)
{
	struct process_metrics *p = arg;
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	DIR *d = opendir("/proc/self/fd");

	if (!getrusage(RUSAGE_SELF, &ru))
		oak_metric_set(p->cpu, NULL,
			       (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
				   ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
				       1e6);
	if (f && fscanf(f, "%ld %ld", &pages, &rss) == 2)
		oak_metric_set(p->rss, NULL, (double)rss * (double)sysconf(_SC_PAGESIZE));
	if (f)
		fclose(f);
	if (d) {
		long n = 0;

		while (readdir(d))
			n++;
		closedir(d);
		oak_metric_set(p->fds, NULL, (double)(n - 3)); /* ., .. and the DIR's own */
	}
}

int oak_metrics_process(struct oak_metrics *m, const char *daemon)
{
	static struct process_metrics p; /* one process, one set */
	struct oak_metric *info, *start;
	struct timespec now;

	info = oak_metrics_gauge(m, "oak_build_info", "The running oak daemon and its version",
				 "daemon,version");
	start = oak_metrics_gauge(m, "process_start_time_seconds",
				  "Start time of the process since the Unix epoch", NULL);
	p.cpu = oak_metrics_counter(m, "process_cpu_seconds_total",
				    "User and system CPU time spent", NULL);
	p.rss = oak_metrics_gauge(m, "process_resident_memory_bytes", "Resident memory size", NULL);
	p.fds = oak_metrics_gauge(m, "process_open_fds", "Open file descriptors", NULL);
	if (!info || !start || !p.cpu || !p.rss || !p.fds)
		return -1;
	oak_metric_set(info, OAK_LV(daemon, OAK_VERSION), 1);
	/* called once at start: now is the start time */
	clock_gettime(CLOCK_REALTIME, &now);
	oak_metric_set(start, NULL, (double)now.tv_sec + (double)now.tv_nsec / 1e9);
	return oak_metrics_on_collect(m, collect_process, &p);
}
