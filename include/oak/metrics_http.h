/* /metrics over HTTP for a daemon's registry (include/oak/metrics.h):
 * libmicrohttpd without threads of its own, its epoll fd one file event of
 * the oak_loop (as oak-root's REST server runs), plus the metrics every
 * daemon has (build info, process start time, CPU and memory).
 *
 *   oak_metrics_process(m, "oak-node");
 *   rc = oak_metrics_http_from_config(loop, m, cfg, "metrics_listen", &http);
 *   ...
 *   oak_metrics_http_free(http);     before whatever the collectors read
 */
#ifndef OAK_METRICS_HTTP_H
#define OAK_METRICS_HTTP_H

#include <stddef.h>

struct MHD_Connection;
struct oak_config;
struct oak_loop;
struct oak_metrics;
struct oak_metrics_http;

/* listen: "ADDR:PORT" or "[ADDR6]:PORT" (port 0: any free one). NULL with
 * the reason in err when it cannot listen. GET and HEAD of /metrics answer
 * the exposition; other paths 404, other methods 405. */
struct oak_metrics_http *oak_metrics_http_new(struct oak_loop *loop, struct oak_metrics *m,
					      const char *listen, char *err, size_t errlen);
void oak_metrics_http_free(struct oak_metrics_http *h);
int oak_metrics_http_port(const struct oak_metrics_http *h);

/*
 * The listener a config key names: "" or "off" serves nothing (*out NULL,
 * 0). When it cannot listen: -1 if the key was set (the operator asked for
 * it), else a warning and 0, metrics off (a default port taken by another
 * daemon on the host must not stop this one).
 */
int oak_metrics_http_from_config(struct oak_loop *loop, struct oak_metrics *m,
				 const struct oak_config *cfg, const char *key,
				 struct oak_metrics_http **out);

/* Answers a request for the exposition on a libmicrohttpd connection (for
 * a server that serves more than metrics, as oak-root's). Returns MHD's
 * enum MHD_Result. */
int oak_metrics_mhd_answer(struct MHD_Connection *c, struct oak_metrics *m, const char *method);

/* oak_build_info{daemon,version} 1, process_start_time_seconds,
 * process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds. */
int oak_metrics_process(struct oak_metrics *m, const char *daemon);

#endif
