/* web.h: the dashboard's files, looked up below one directory fd. */
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OAK_WEB_SRCDIR
#define OAK_WEB_SRCDIR ""
#endif
#ifndef OAK_WEB_INSTALLDIR
#define OAK_WEB_INSTALLDIR "/usr/share/oak/web"
#endif
#ifndef OAK_BUILD_BINDIR
#define OAK_BUILD_BINDIR ""
#endif

#define WEB_PATH_MAX 512

struct root_web {
	int dirfd;
	char dir[PATH_MAX];
};

static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *root_web_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

const char *root_web_default_dir(void)
{
	static const char src[] = OAK_WEB_SRCDIR, bindir[] = OAK_BUILD_BINDIR;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0 && bindir[0] && src[0]) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (!strcmp(exe, bindir))
				return src;
		}
	}
	return OAK_WEB_INSTALLDIR;
}

struct root_web *root_web_new(const char *dir, char *err, size_t errlen)
{
	struct root_web *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		snprintf(err, errlen, "web_root %s: %s", dir, strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

void root_web_free(struct root_web *w)
{
	if (!w)
		return;
	close(w->dirfd);
	free(w);
}

const char *root_web_dir(const struct root_web *w)
{
	return w->dir;
}

/* path without its leading '/' into rel, each segment checked */
static int relative(const char *path, char rel[WEB_PATH_MAX])
{
	const char *s;
	size_t n;

	if (path[0] != '/')
		return -1;
	n = (size_t)snprintf(rel, WEB_PATH_MAX, "%s%s", path + 1,
			     path[strlen(path) - 1] == '/' ? "index.html" : "");
	if (n >= WEB_PATH_MAX)
		return -1;
	for (s = rel;; s += strcspn(s, "/") + 1) {
		size_t len = strcspn(s, "/");

		/* empty ("a//b"), ".", "..", hidden files: never served */
		if (!len || s[0] == '.' || memchr(s, '\\', len))
			return -1;
		if (!s[len])
			return 0;
	}
}

int root_web_open(const struct root_web *w, const char *path, int *fd, uint64_t *size,
		  const char **type)
{
	char rel[WEB_PATH_MAX];
	struct stat st;
	int f;

	if (relative(path, rel) || !(*type = root_web_type(rel)))
		return 404;
	f = openat(w->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (f < 0)
		return 404;
	if (fstat(f, &st) || !S_ISREG(st.st_mode)) {
		close(f);
		return 404;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}
