// SPDX-License-Identifier: MIT
/* oakctl's settings: precedence, the config file (see config.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <oak/fsutil.h>

static const char *pick(const char *a, const char *b, const char *c)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	return c && *c ? c : NULL;
}

static int copy(char *dst, size_t len, const char *src, const char *what, char *err, size_t errlen)
{
	if ((size_t)snprintf(dst, len, "%s", src ? src : "") >= len) {
		snprintf(err, errlen, "%s is too long (at most %zu characters)", what, len - 1);
		return -1;
	}
	return 0;
}

static bool same_root(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la && a[la - 1] == '/')
		la--;
	while (lb && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

int settings_resolve(const struct cfg_source *flags, const struct cfg_source *env,
		     const struct cfg_source *file, struct settings *out, char *err, size_t errlen)
{
	const char *root, *user, *file_root;
	size_t n;

	memset(out, 0, sizeof(*out));
	root = pick(flags->root_url, env->root_url, file->root_url);
	out->root_origin = flags->root_url && *flags->root_url ? "--root"
			   : env->root_url && *env->root_url   ? "OAK_ROOT_URL"
			   : root			       ? "the config file"
							       : "default";
	if (!root)
		root = OAKCTL_DEFAULT_ROOT;
	user = pick(flags->username, env->username, file->username);
	if (copy(out->root_url, sizeof(out->root_url), root, "the root URL", err, errlen) ||
	    copy(out->username, sizeof(out->username), user, "the user name", err, errlen) ||
	    copy(out->password, sizeof(out->password), pick(flags->password, env->password, NULL),
		 "the password", err, errlen))
		return -1;
	n = strlen(out->root_url);
	while (n && out->root_url[n - 1] == '/')
		out->root_url[--n] = '\0';
	if (strncmp(out->root_url, "http://", 7) && strncmp(out->root_url, "https://", 8)) {
		snprintf(err, errlen, "root URL '%s' (from %s) must start with http:// or https://",
			 out->root_url, out->root_origin);
		return -1;
	}
	/* tokens were issued by the file's root to the file's user */
	file_root = file->root_url && *file->root_url ? file->root_url : OAKCTL_DEFAULT_ROOT;
	if (same_root(out->root_url, file_root) &&
	    !strcmp(out->username, file->username ? file->username : "")) {
		if (copy(out->token, sizeof(out->token), file->token, "the stored token", err,
			 errlen) ||
		    copy(out->refresh_token, sizeof(out->refresh_token), file->refresh_token,
			 "the stored refresh token", err, errlen))
			return -1;
	}
	return 0;
}

int settings_path(const char *explicit_path, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *env = getenv("OAKCTL_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"),
		   *home = getenv("HOME");
	int n;

	if (explicit_path && *explicit_path)
		n = snprintf(out, outlen, "%s", explicit_path);
	else if (env && *env)
		n = snprintf(out, outlen, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(out, outlen, "%s/oak/oakctl.json", xdg);
	else if (home && *home)
		n = snprintf(out, outlen, "%s/.config/oak/oakctl.json", home);
	else {
		snprintf(err, errlen, "no config file: HOME is not set (use --config FILE)");
		return -1;
	}
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "config file path is too long");
		return -1;
	}
	return 0;
}

int settings_load(const char *path, json_t **doc, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *d;

	*doc = NULL;
	if (access(path, F_OK) && errno == ENOENT) {
		*doc = json_object();
		return *doc ? 0 : -1;
	}
	d = json_load_file(path, 0, &jerr);
	if (!d) {
		snprintf(err, errlen, "config file %s: line %d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(d)) {
		snprintf(err, errlen, "config file %s: not a JSON object", path);
		json_decref(d);
		return -1;
	}
	*doc = d;
	return 0;
}

int settings_file_exposed(const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (stat(path, &st) || !(st.st_mode & 077))
		return 0;
	snprintf(msg, msglen, "config file %s holds tokens but has mode %04o: chmod 600 %s", path,
		 (unsigned int)(st.st_mode & 07777), path);
	return 1;
}

static const char *field(const json_t *doc, const char *key)
{
	const json_t *v = json_object_get(doc, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

void settings_source_from(const json_t *doc, struct cfg_source *src)
{
	memset(src, 0, sizeof(*src));
	src->root_url = field(doc, "root_url");
	src->username = field(doc, "username");
	src->token = field(doc, "token");
	src->refresh_token = field(doc, "refresh_token");
}

static int parent_dir(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(out, outlen, ".");
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= outlen)
		return -1;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int settings_save(const char *path, const struct settings *s, char *err, size_t errlen)
{
	char dir[1024], tmp[1100];
	json_t *doc;
	int fd, rc = -1;
	char *text = NULL;
	size_t len;

	if (parent_dir(path, dir, sizeof(dir)) || oak_mkdir_p(dir, 0700, 0700)) {
		snprintf(err, errlen, "config directory of %s: %s", path, strerror(errno));
		return -1;
	}
	doc = json_pack("{s:s, s:s, s:s, s:s}", "root_url", s->root_url, "username", s->username,
			"token", s->token, "refresh_token", s->refresh_token);
	if (doc)
		text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text) {
		snprintf(err, errlen, "config file %s: out of memory", path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "config file %s: %s", tmp, strerror(errno));
		goto out;
	}
	len = strlen(text);
	if (fchmod(fd, 0600) || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd)) {
		snprintf(err, errlen, "config file %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path)) {
		snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}
