/* oak-root's HTTP server: libmicrohttpd without threads of its own, driven
 * from the oak_loop (its epoll fd is one file event of the loop). It reads
 * whole bodies up to a limit (413 beyond), answers CORS preflights itself
 * (any origin; Content-Type and Authorization headers), and hands every
 * other request to one callback that answers with a status and JSON;
 * with a web root set, a GET or HEAD outside /api/ is a dashboard file
 * (web.h). */
#ifndef OAK_ROOT_HTTP_H
#define OAK_ROOT_HTTP_H

#include <jansson.h>
#include <stddef.h>

struct oak_loop;
struct root_http;
struct root_web;

struct root_http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* without the query string */
	const char *body;   /* NUL-terminated; NULL when there is none */
	size_t body_len;
	const char *authorization; /* header value, or NULL */
	const char *client;	   /* the peer's address as text */
};

struct root_http_resp {
	int status;
	json_t *body; /* stolen by the server; NULL answers an empty body */
};

typedef void (*root_http_cb)(void *arg, const struct root_http_req *req,
			     struct root_http_resp *resp);

/* Listens on addr (IPv4 or IPv6, "::" for all) and port (0: any free port,
 * see root_http_port()). */
struct root_http *root_http_new(struct oak_loop *loop, const char *addr, int port, size_t max_body,
				root_http_cb cb, void *arg, char *err, size_t errlen);
void root_http_free(struct root_http *h);
/* Serves the dashboard's files from web (NULL: none); web outlives h. */
void root_http_set_web(struct root_http *h, const struct root_web *web);
int root_http_port(const struct root_http *h);
/* GET /metrics answers m's exposition (NULL: no such route). */
struct oak_metrics;
void root_http_set_metrics(struct root_http *h, struct oak_metrics *m);

#endif
