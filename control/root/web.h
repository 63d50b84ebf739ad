/* The dashboard's static files (control/root/web/, installed under
 * share/oak/web), served by oak-root's HTTP server at every path outside
 * /api/. Only files under the web root, with a known extension, reached
 * through plain path segments (no "..", ".", empty or hidden segment) and
 * not through a symbolic link as the last component, are served. No HTTP
 * here: http.c answers with what root_web_open() found. */
#ifndef OAK_ROOT_WEB_H
#define OAK_ROOT_WEB_H

#include <stddef.h>
#include <stdint.h>

struct root_web;

/* dir: the web root. NULL with a message in err when it cannot be opened. */
struct root_web *root_web_new(const char *dir, char *err, size_t errlen);
void root_web_free(struct root_web *w);
const char *root_web_dir(const struct root_web *w);

/* The web root oak-root uses when the config names none: the source
 * folder when the binary runs from its build tree, else the installed one. */
const char *root_web_default_dir(void);

/* Opens the file for the URL path ("/" is "/index.html"). 0 with *fd (the
 * caller closes it), *size and *type (a Content-Type), or the HTTP status
 * to answer: 404 (nothing there, or a path that is not served). */
int root_web_open(const struct root_web *w, const char *path, int *fd, uint64_t *size,
		  const char **type);

/* The Content-Type of a file name by its extension, NULL when the
 * extension is not one that is served. */
const char *root_web_type(const char *name);

#endif
