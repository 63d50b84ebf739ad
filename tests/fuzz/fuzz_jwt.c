/* libFuzzer target for oak-root's token parser (the bearer token of every
 * REST request). The first byte picks what the rest is:
 *   even: a token as a client sends it: verifying must not crash, and
 *         claims come back exactly when it verifies;
 *   odd:  a claims payload (JSON text) that is signed and verified: a
 *         token we signed never fails its signature, and what verifies
 *         has an integer "exp" after now and the type asked for.
 * base64url round trips are checked on the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
#define SLEN (sizeof(secret) - 1)
#define NOW  1700000000

static void b64_roundtrip(const uint8_t *d, size_t n)
{
	char *enc = malloc(4 * ((n + 2) / 3) + 1);
	unsigned char *dec = malloc(n + 1);
	size_t el;

	if (!enc || !dec)
		abort();
	el = root_b64url_encode(d, n, enc);
	if (el != strlen(enc) || root_b64url_decode(enc, el, dec, n + 1) != (long)n ||
	    (n && memcmp(dec, d, n)))
		abort();
	/* and decoding arbitrary text stays within the output buffer */
	(void)root_b64url_decode((const char *)d, n, dec, n / 2 + 1);
	free(enc);
	free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *claims = NULL, *c;
	char *tok;
	int rc;

	if (!size || size > 16384)
		return 0;
	b64_roundtrip(data + 1, size - 1);
	tok = strndup((const char *)data + 1, size - 1);
	if (!tok)
		abort();
	if (!(data[0] & 1)) {
		rc =
		    root_jwt_verify(secret, SLEN, tok, data[0] & 2 ? "access" : NULL, NOW, &claims);
		if ((rc == ROOT_JWT_OK) != (claims != NULL) || !root_jwt_strerror(rc))
			abort();
		json_decref(claims);
		free(tok);
		return 0;
	}
	c = json_loads(tok, JSON_DECODE_ANY, NULL);
	free(tok);
	if (!json_is_object(c)) {
		json_decref(c);
		return 0;
	}
	tok = root_jwt_sign(secret, SLEN, c);
	if (!tok)
		abort();
	rc = root_jwt_verify(secret, SLEN, tok, "access", NOW, &claims);
	if (rc == ROOT_JWT_BAD_SIGNATURE)
		abort();
	if (rc == ROOT_JWT_OK) {
		json_t *exp = json_object_get(claims, "exp");
		json_t *typ = json_object_get(claims, "type");

		if (!json_is_integer(exp) || json_integer_value(exp) <= NOW ||
		    !json_is_string(typ) || strcmp(json_string_value(typ), "access") ||
		    !json_equal(claims, c))
			abort();
	} else if (claims) {
		abort();
	}
	/* the same token under another secret never verifies */
	json_decref(claims);
	claims = NULL;
	if (root_jwt_verify((const unsigned char *)"another-secret-another-secret-xx", 32, tok,
			    NULL, NOW, &claims) == ROOT_JWT_OK)
		abort();
	json_decref(claims);
	free(tok);
	json_decref(c);
	return 0;
}
