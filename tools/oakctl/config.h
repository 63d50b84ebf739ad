/* SPDX-License-Identifier: MIT */
/*
 * oakctl's settings: where the root is, who the user is, and the tokens a
 * login left. The file (~/.config/oak/oakctl.json, mode 0600) holds
 * {"root_url", "username", "token", "refresh_token"}; the environment
 * (OAK_ROOT_URL, OAK_USER, OAK_PASSWORD) overrides the file and flags
 * (--root, --user) override both. Stored tokens belong to the root and
 * user they were issued for: when either is overridden to something else,
 * they are not sent.
 */
#ifndef OAKCTL_CONFIG_H
#define OAKCTL_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#define OAKCTL_DEFAULT_ROOT "http://127.0.0.1:10000"

/* Each source may leave any field NULL. */
struct cfg_source {
	const char *root_url, *username, *password, *token, *refresh_token;
};

struct settings {
	char root_url[512];
	char username[128];
	char password[256]; /* never written to the file */
	char token[4096];
	char refresh_token[4096];
	const char *root_origin; /* "--root", "OAK_ROOT_URL", the file, "default" */
};

/*
 * Precedence: flags, then environment, then file, then the default root.
 * The password comes from flags or environment only; tokens from the file
 * only, and only when the resolved root and user are the file's. A root
 * URL loses trailing slashes. 0, or -1 with err when a value is too long
 * or the root URL is not http(s)://.
 */
int settings_resolve(const struct cfg_source *flags, const struct cfg_source *env,
		     const struct cfg_source *file, struct settings *out, char *err, size_t errlen);

/*
 * The config file's path: explicit (--config) if given, else $OAKCTL_CONFIG,
 * else $XDG_CONFIG_HOME/oak/oakctl.json, else $HOME/.config/oak/oakctl.json.
 */
int settings_path(const char *explicit_path, char *out, size_t outlen, char *err, size_t errlen);

/*
 * Read the file into *doc (a new object; an empty one when the file does
 * not exist). -1 with err naming the file and the line when it is not a
 * JSON object.
 */
int settings_load(const char *path, json_t **doc, char *err, size_t errlen);
/*
 * Whether others may read the file (it holds tokens): 1 with a warning in
 * msg naming the mode and the fix, 0 when it is private or missing.
 */
int settings_file_exposed(const char *path, char *msg, size_t msglen);

/* The file's fields as a source (pointers into doc). */
void settings_source_from(const json_t *doc, struct cfg_source *src);

/*
 * Write root_url, username and the tokens to path, atomically (a temporary
 * file renamed over it) with mode 0600, creating its directory (0700).
 */
int settings_save(const char *path, const struct settings *s, char *err, size_t errlen);

#endif
