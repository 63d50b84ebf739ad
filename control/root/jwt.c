/* HS256 JWTs with OpenSSL's HMAC. Only alg HS256 is accepted (never
 * "none"); the signature is compared in constant time. */
#include "jwt.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define MAX_TOKEN 8192

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t root_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long root_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

static int hmac(const unsigned char *secret, size_t secret_len, const char *data, size_t n,
		unsigned char mac[32])
{
	unsigned int len = 32;

	if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, n, mac,
		  &len) ||
	    len != 32)
		return -1;
	return 0;
}

static char *b64_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	char *out;
	size_t n;

	if (!text)
		return NULL;
	n = strlen(text);
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		root_b64url_encode((const unsigned char *)text, n, out);
	free(text);
	return out;
}

char *root_jwt_sign(const unsigned char *secret, size_t secret_len, json_t *claims)
{
	json_t *hdr = json_pack("{s:s, s:s}", "alg", "HS256", "typ", "JWT");
	char *h = hdr ? b64_json(hdr) : NULL;
	char *p = b64_json(claims);
	char *tok = NULL;
	unsigned char mac[32];
	size_t hl, pl;

	json_decref(hdr);
	if (!h || !p)
		goto out;
	hl = strlen(h);
	pl = strlen(p);
	tok = malloc(hl + pl + 2 + 44);
	if (!tok)
		goto out;
	memcpy(tok, h, hl);
	tok[hl] = '.';
	memcpy(tok + hl + 1, p, pl + 1);
	if (hmac(secret, secret_len, tok, hl + 1 + pl, mac)) {
		free(tok);
		tok = NULL;
		goto out;
	}
	tok[hl + 1 + pl] = '.';
	root_b64url_encode(mac, sizeof(mac), tok + hl + pl + 2);
out:
	free(h);
	free(p);
	return tok;
}

static json_t *part_json(const char *s, size_t n)
{
	unsigned char *buf = malloc(n);
	long len;
	json_t *j = NULL;

	if (!buf)
		return NULL;
	len = root_b64url_decode(s, n, buf, n);
	if (len > 0)
		j = json_loadb((const char *)buf, (size_t)len, 0, NULL);
	free(buf);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

int root_jwt_verify(const unsigned char *secret, size_t secret_len, const char *token,
		    const char *typ, int64_t now, json_t **claims)
{
	const char *d1, *d2;
	unsigned char mac[32], got[33];
	json_t *hdr, *body, *exp, *t;
	size_t n;

	*claims = NULL;
	if (!token || (n = strlen(token)) > MAX_TOKEN)
		return ROOT_JWT_MALFORMED;
	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.') || d1 == token || d2 == d1 + 1)
		return ROOT_JWT_MALFORMED;
	hdr = part_json(token, (size_t)(d1 - token));
	if (!hdr)
		return ROOT_JWT_MALFORMED;
	t = json_object_get(hdr, "alg");
	if (!json_is_string(t) || strcmp(json_string_value(t), "HS256")) {
		json_decref(hdr);
		return ROOT_JWT_MALFORMED;
	}
	json_decref(hdr);
	if (root_b64url_decode(d2 + 1, strlen(d2 + 1), got, sizeof(got)) != 32 ||
	    hmac(secret, secret_len, token, (size_t)(d2 - token), mac))
		return ROOT_JWT_MALFORMED;
	if (CRYPTO_memcmp(mac, got, 32))
		return ROOT_JWT_BAD_SIGNATURE;
	body = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!body)
		return ROOT_JWT_MALFORMED;
	exp = json_object_get(body, "exp");
	if (!json_is_integer(exp)) {
		json_decref(body);
		return ROOT_JWT_MALFORMED;
	}
	if (json_integer_value(exp) <= now) {
		json_decref(body);
		return ROOT_JWT_EXPIRED;
	}
	t = json_object_get(body, "type");
	if (typ && (!json_is_string(t) || strcmp(json_string_value(t), typ))) {
		json_decref(body);
		return ROOT_JWT_WRONG_TYPE;
	}
	*claims = body;
	return ROOT_JWT_OK;
}

const char *root_jwt_strerror(int rc)
{
	switch (rc) {
	case ROOT_JWT_OK:
		return "ok";
	case ROOT_JWT_MALFORMED:
		return "malformed token";
	case ROOT_JWT_BAD_SIGNATURE:
		return "bad token signature";
	case ROOT_JWT_EXPIRED:
		return "token expired";
	case ROOT_JWT_WRONG_TYPE:
		return "wrong token type";
	}
	return "bad token";
}
