/* http.h on libmicrohttpd in its "external epoll" mode: MHD keeps its own
 * epoll set of the listening and connection sockets, the oak_loop watches
 * that set's fd and calls MHD_run() when it is readable, and a timer
 * covers MHD's idle timeouts. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "web.h"
#include "oak/daemon.h"
#include "oak/log.h"
#include "oak/mhd_loop.h"
#include "oak/metrics_http.h"

#define CONN_LIMIT   512
#define CONN_TIMEOUT 30 /* s: an idle or stalled client is dropped */

struct root_http {
	struct oak_mhd mhd;
	size_t max_body;
	root_http_cb cb;
	void *arg;
	struct oak_metrics *metrics; /* served at /metrics when set */
	const struct root_web *web;  /* NULL: no dashboard */
};

/* per request */
struct pending {
	char *body;
	size_t len, cap;
	bool too_big;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	oak_log(WARN, "http: %s", buf);
}

static void add_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	struct MHD_Response *r;
	enum MHD_Result rc;

	json_decref(body);
	if (body && !text) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		text = strdup("{\"message\":\"cannot encode the answer\"}");
	}
	r = MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (void *)"",
					    text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	add_common_headers(r);
	if (text)
		MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result error(struct MHD_Connection *c, int status, const char *msg)
{
	return answer(c, status, json_pack("{s:s, s:i}", "message", msg, "status", status));
}

static enum MHD_Result preflight(struct MHD_Connection *c)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	add_common_headers(r);
	MHD_add_response_header(r, "Access-Control-Allow-Methods",
				"GET, POST, PUT, DELETE, OPTIONS");
	MHD_add_response_header(r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
	MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
	rc = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return rc;
}

/* A GET or HEAD outside /api/: a file of the dashboard, or a 404 */
static bool is_file_request(const struct root_http *h, const char *url, const char *method)
{
	return h->web && (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
	       strncmp(url, "/api/", 5) && strcmp(url, "/api");
}

static enum MHD_Result answer_file(struct root_http *h, struct MHD_Connection *c, const char *url)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	const char *type;
	uint64_t size;
	int fd, status = root_web_open(h->web, url, &fd, &size, &type);

	if (status) {
		static const char msg[] = "not found\n";

		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		type = "text/plain; charset=utf-8";
	} else {
		r = MHD_create_response_from_fd64(size, fd);
		status = MHD_HTTP_OK;
		if (!r)
			close(fd);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return rc;
}

static void client_text(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)len);
}

static int append(struct pending *p, const char *data, size_t n, size_t max)
{
	if (p->too_big || p->len + n > max) {
		p->too_big = true;
		return 0;
	}
	if (p->len + n + 1 > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *b;

		while (cap < p->len + n + 1)
			cap *= 2;
		b = realloc(p->body, cap);
		if (!b)
			return -1;
		p->body = b;
		p->cap = cap;
	}
	memcpy(p->body + p->len, data, n);
	p->len += n;
	p->body[p->len] = '\0';
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct root_http *h = cls;
	struct pending *p = *con_cls;
	struct root_http_req req = {0};
	struct root_http_resp resp = {0};
	char client[INET6_ADDRSTRLEN + 1];

	if (!p) {
		const char *cl;

		if (!strcmp(method, "OPTIONS"))
			return preflight(c);
		if (h->metrics && !strcmp(url, "/metrics"))
			return (enum MHD_Result)oak_metrics_mhd_answer(c, h->metrics, method);
		if (is_file_request(h, url, method))
			return answer_file(h, c, url);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > h->max_body) {
			char msg[96];

			snprintf(msg, sizeof(msg), "payload: larger than the limit of %zu bytes",
				 h->max_body);
			return error(c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
		}
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (append(p, upload_data, *upload_data_size, h->max_body))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (p->too_big) {
		char msg[96];

		snprintf(msg, sizeof(msg), "payload: larger than the limit of %zu bytes",
			 h->max_body);
		return error(c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
	}
	client_text(c, client, sizeof(client));
	req.method = method;
	req.path = url;
	req.body = p->len ? p->body : NULL;
	req.body_len = p->len;
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	req.client = client;
	resp.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	h->cb(h->arg, &req, &resp);
	return answer(c, resp.status, resp.body);
}

/* MHD's unescaping, except that a URI naming a NUL byte (%00) stays as
 * sent: decoded, it would cut the path short ("/a.html%00.js" as "/a.html") */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
	if (strstr(uri, "%00"))
		return strlen(uri);
	return MHD_http_unescape(uri);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	if (p) {
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

struct root_http *root_http_new(struct oak_loop *loop, const char *addr, int port, size_t max_body,
				root_http_cb cb, void *arg, char *err, size_t errlen)
{
	struct root_http *h = calloc(1, sizeof(*h));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
	struct sockaddr *bind_to = (struct sockaddr *)&sa;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (port >= 0 && port <= 65535 && inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
		sa6.sin6_port = htons((uint16_t)port);
		bind_to = (struct sockaddr *)&sa6;
		flags |= MHD_USE_IPv6;
	} else if (port < 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(
		    err, errlen,
		    "http_addr/http_port: '%s' port %d is not an IPv4 or IPv6 address and port",
		    addr, port);
		free(h);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	h->max_body = max_body;
	h->cb = cb;
	h->arg = arg;
	d = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    h, MHD_OPTION_SOCK_ADDR, bind_to, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen, "http: cannot listen on %s port %d: %s", addr, port,
			 errno ? strerror(errno) : "libmicrohttpd refused");
		free(h);
		return NULL;
	}
	if (oak_mhd_attach(&h->mhd, loop, d)) {
		snprintf(err, errlen, "http: cannot register with the event loop");
		root_http_free(h);
		return NULL;
	}
	if (!h->mhd.port)
		h->mhd.port = port;
	return h;
}

void root_http_free(struct root_http *h)
{
	if (!h)
		return;
	oak_mhd_detach(&h->mhd);
	free(h);
}

void root_http_set_web(struct root_http *h, const struct root_web *web)
{
	h->web = web;
}

int root_http_port(const struct root_http *h)
{
	return h->mhd.port;
}

void root_http_set_metrics(struct root_http *h, struct oak_metrics *m)
{
	h->metrics = m;
}
