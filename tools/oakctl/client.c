// SPDX-License-Identifier: MIT
/* The root's REST API over libcurl, with token renewal (see client.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "jsonx.h"

#define CONNECT_TIMEOUT_S 5
#define CALL_TIMEOUT_S	  30
#define EXPIRY_MARGIN_S	  2

struct buf {
	char *data;
	size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int client_init(struct client *c, struct settings *s, const char *config_path)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->config_path = config_path;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -1;
	c->curl = curl_easy_init();
	return c->curl ? 0 : -1;
}

void client_cleanup(struct client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	curl_global_cleanup();
}

/* One HTTP exchange. EXIT_OK with *answer and c->status, or EXIT_UNREACHABLE. */
static int exchange(struct client *c, const char *method, const char *path, const json_t *body,
		    const char *bearer, json_t **answer)
{
	char url[1024], auth[4200], curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct buf resp = {0};
	char *text = NULL;
	CURLcode rc;
	CURL *h = c->curl;

	*answer = NULL;
	c->status = 0;
	snprintf(url, sizeof(url), "%s%s", c->s->root_url, path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)CALL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "oakctl/" OAKCTL_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_VERBOSE, c->verbose ? 1L : 0L);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (bearer && *bearer) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ? text : "");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	free(text);
	if (rc != CURLE_OK) {
		snprintf(c->err, sizeof(c->err), "cannot reach the root at %s (%s): %s",
			 c->s->root_url, c->s->root_origin ? c->s->root_origin : "default",
			 curl_err[0] ? curl_err : curl_easy_strerror(rc));
		free(resp.data);
		return EXIT_UNREACHABLE;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	*answer = jx_parse_body(resp.data ? resp.data : "", resp.len);
	free(resp.data);
	return EXIT_OK;
}

static int refused(struct client *c, const json_t *answer)
{
	char msg[800];

	jx_error_message(answer, msg, sizeof(msg));
	snprintf(c->err, sizeof(c->err), "%ld %s", c->status, msg[0] ? msg : "(no message)");
	return EXIT_REFUSED;
}

static void save_tokens(struct client *c)
{
	char err[512];

	if (c->config_path && settings_save(c->config_path, c->s, err, sizeof(err)))
		fprintf(stderr, "oakctl: warning: new token not saved: %s\n", err);
}

static int store_token(struct client *c, const json_t *answer, const char *key, char *dst,
		       size_t len)
{
	const char *tok = jx_str(answer, key, NULL);

	if (!tok || !*tok || strlen(tok) >= len) {
		snprintf(c->err, sizeof(c->err), "the root's answer has no usable '%s'", key);
		return -1;
	}
	snprintf(dst, len, "%s", tok);
	return 0;
}

int client_login(struct client *c)
{
	json_t *body, *answer = NULL;
	int rc;

	if (!c->s->username[0]) {
		snprintf(c->err, sizeof(c->err), "no user name: give --user USER or set OAK_USER");
		return EXIT_USAGE;
	}
	if (!c->s->password[0]) {
		snprintf(c->err, sizeof(c->err),
			 "no password for '%s': set OAK_PASSWORD, or run 'oakctl login'",
			 c->s->username);
		return EXIT_USAGE;
	}
	body = json_pack("{s:s, s:s}", "username", c->s->username, "password", c->s->password);
	rc = exchange(c, "POST", "/api/auth/login", body, NULL, &answer);
	json_decref(body);
	if (rc == EXIT_OK && (c->status < 200 || c->status > 299))
		rc = refused(c, answer);
	else if (rc == EXIT_OK) {
		if (store_token(c, answer, "token", c->s->token, sizeof(c->s->token)))
			rc = EXIT_REFUSED;
		/* a refresh token is optional: without one, expiry means logging in again */
		if (store_token(c, answer, "refresh_token", c->s->refresh_token,
				sizeof(c->s->refresh_token)))
			c->s->refresh_token[0] = '\0';
		if (rc == EXIT_OK)
			save_tokens(c);
	}
	if (rc == EXIT_REFUSED && c->status == 401)
		snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
			 " (login as '%s' at %s)", c->s->username, c->s->root_url);
	json_decref(answer);
	return rc;
}

/* A new access token from the refresh token, else by logging in again. */
static int renew(struct client *c)
{
	json_t *answer = NULL;
	int rc;

	if (c->s->refresh_token[0]) {
		rc = exchange(c, "POST", "/api/auth/refresh", NULL, c->s->refresh_token, &answer);
		if (rc == EXIT_UNREACHABLE)
			return rc;
		if (c->status >= 200 && c->status <= 299 &&
		    !store_token(c, answer, "token", c->s->token, sizeof(c->s->token))) {
			if (jx_str(answer, "refresh_token", NULL))
				store_token(c, answer, "refresh_token", c->s->refresh_token,
					    sizeof(c->s->refresh_token));
			json_decref(answer);
			save_tokens(c);
			return EXIT_OK;
		}
		json_decref(answer);
	}
	if (c->s->password[0] && c->s->username[0])
		return client_login(c);
	snprintf(c->err, sizeof(c->err),
		 "the session expired: run 'oakctl login' (or set OAK_USER and OAK_PASSWORD)");
	return EXIT_REFUSED;
}

static bool token_expired(const char *token)
{
	int64_t exp;

	return jx_jwt_exp(token, &exp) == 0 && exp <= (int64_t)time(NULL) + EXPIRY_MARGIN_S;
}

int client_call(struct client *c, const char *method, const char *path, const json_t *body,
		json_t **answer)
{
	bool renewed = false;
	int rc;

	*answer = NULL;
	c->err[0] = '\0';
	if (!c->s->token[0] && c->s->password[0] && c->s->username[0]) {
		rc = client_login(c);
		if (rc)
			return rc;
		renewed = true;
	} else if (c->s->token[0] && token_expired(c->s->token)) {
		rc = renew(c);
		if (rc)
			return rc;
		renewed = true;
	}
	for (;;) {
		rc = exchange(c, method, path, body, c->s->token, answer);
		if (rc)
			return rc;
		if (c->status >= 200 && c->status <= 299)
			return EXIT_OK;
		if (c->status != 401 || renewed ||
		    (!c->s->refresh_token[0] && !(c->s->password[0] && c->s->username[0])))
			break;
		json_decref(*answer);
		*answer = NULL;
		rc = renew(c);
		if (rc)
			return rc;
		renewed = true;
	}
	rc = refused(c, *answer);
	if (c->status == 401 && !c->s->token[0])
		snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
			 " (not logged in: run 'oakctl login')");
	return rc;
}

int api(struct client *c, const char *method, const char *path, const json_t *body, json_t **answer)
{
	int rc = client_call(c, method, path, body, answer);

	if (rc)
		fprintf(stderr, "oakctl: %s %s: %s\n", method, path, c->err);
	return rc;
}
