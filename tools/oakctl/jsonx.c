// SPDX-License-Identifier: MIT
/* JSON helpers around the root's answers (see jsonx.h). */
#include "jsonx.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static json_t *decode_nested(json_t *v)
{
	int depth;

	/* a string holding an object or array: Oakestra's json.dumps() of json */
	for (depth = 0; depth < 2 && json_is_string(v); depth++) {
		const char *s = json_string_value(v);
		json_t *inner;

		while (isspace((unsigned char)*s))
			s++;
		if (*s != '{' && *s != '[')
			break;
		inner = json_loads(s, JSON_DECODE_ANY, NULL);
		if (!inner)
			break;
		json_decref(v);
		v = inner;
	}
	return v;
}

json_t *jx_parse_body(const char *body, size_t len)
{
	json_t *v;
	size_t i;

	for (i = 0; i < len && isspace((unsigned char)body[i]); i++)
		;
	if (i == len)
		return json_null();
	v = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	if (!v)
		return json_stringn(body, len);
	return decode_nested(v);
}

static void copy_trimmed(const char *s, size_t n, char *out, size_t outlen)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	/* one line: a multi-line HTML error page stays readable */
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static bool append_strings(const json_t *v, char *out, size_t outlen)
{
	size_t i, used = 0;
	json_t *e;

	if (json_is_string(v)) {
		copy_trimmed(json_string_value(v), json_string_length(v), out, outlen);
		return true;
	}
	if (!json_is_array(v) || !json_array_size(v))
		return false;
	out[0] = '\0';
	json_array_foreach(v, i, e)
	{
		int n;

		if (!json_is_string(e))
			continue;
		n = snprintf(out + used, outlen - used, "%s%s", used ? "; " : "",
			     json_string_value(e));
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += n;
	}
	return used > 0;
}

void jx_error_message(const json_t *answer, char *out, size_t outlen)
{
	static const char *const keys[] = {"message", "error", "msg", "detail"};
	size_t i;

	if (!outlen)
		return;
	out[0] = '\0';
	if (json_is_object(answer)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (append_strings(json_object_get(answer, keys[i]), out, outlen))
				return;
		/* {"error": {"message": ...}} */
		for (i = 0; i < 2; i++) {
			const json_t *inner = json_object_get(answer, keys[i]);

			if (json_is_object(inner)) {
				jx_error_message(inner, out, outlen);
				if (out[0])
					return;
			}
		}
		return;
	}
	if (json_is_string(answer))
		copy_trimmed(json_string_value(answer), json_string_length(answer), out, outlen);
}

const char *jx_str(const json_t *obj, const char *key, const char *def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

long long jx_int(const json_t *obj, const char *key, long long def)
{
	const json_t *v = json_object_get(obj, key);
	char *end;
	long long n;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	if (json_is_string(v) && *json_string_value(v)) {
		n = strtoll(json_string_value(v), &end, 10);
		if (!*end)
			return n;
	}
	return def;
}

const char *jx_oid(const json_t *doc, const char *def)
{
	const json_t *id = json_object_get(doc, "_id");

	if (json_is_string(id))
		return json_string_value(id);
	return jx_str(id, "$oid", def);
}

static size_t scalar_text(const json_t *v, char *buf, size_t len)
{
	int n = 0;

	if (json_is_string(v))
		n = snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		n = snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		n = snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		n = snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else if (len)
		buf[0] = '\0';
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

const char *jx_text(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(obj, key), *e;
	size_t i, used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!json_is_array(v)) {
		scalar_text(v, buf, len);
		return buf;
	}
	json_array_foreach(v, i, e)
	{
		if (used + 2 >= len)
			break;
		if (i)
			buf[used++] = ',';
		used += scalar_text(e, buf + used, len - used);
	}
	buf[used] = '\0';
	return buf;
}

static int b64url_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* Decodes base64url (padding optional) into out; returns the length or -1. */
static long b64url_decode(const char *in, size_t n, char *out, size_t outlen)
{
	unsigned int acc = 0, bits = 0;
	size_t i, len = 0;
	int v;

	for (i = 0; i < n && in[i] != '='; i++) {
		v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len + 1 >= outlen)
				return -1;
			out[len++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[len] = '\0';
	return (long)len;
}

int jx_jwt_exp(const char *token, int64_t *exp)
{
	const char *p1, *p2;
	char payload[4096];
	json_t *claims, *v;
	long len;
	int rc = -1;

	if (!token || !(p1 = strchr(token, '.')) || !(p2 = strchr(p1 + 1, '.')))
		return -1;
	len = b64url_decode(p1 + 1, (size_t)(p2 - p1 - 1), payload, sizeof(payload));
	if (len <= 0)
		return -1;
	claims = json_loadb(payload, (size_t)len, 0, NULL);
	v = json_object_get(claims, "exp");
	if (json_is_integer(v)) {
		*exp = json_integer_value(v);
		rc = 0;
	} else if (json_is_real(v)) {
		*exp = (int64_t)json_real_value(v);
		rc = 0;
	}
	json_decref(claims);
	return rc;
}
