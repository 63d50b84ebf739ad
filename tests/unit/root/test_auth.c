/* oak-root's tokens (HS256 JWTs) and password hashes (yescrypt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jwt.h"
#include "password.h"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
#define SLEN (sizeof(secret) - 1)

static void test_b64url(void **state)
{
	/* RFC 4648 test vectors, without padding, in the URL alphabet */
	static const char *const v[][2] = {
	    {"", ""},		{"f", "Zg"},	      {"fo", "Zm8"},	     {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
	char out[32];
	unsigned char back[32];
	unsigned char odd[] = {0xfb, 0xff};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = root_b64url_encode((const unsigned char *)v[i][0], strlen(v[i][0]), out);

		assert_string_equal(out, v[i][1]);
		assert_int_equal(n, strlen(v[i][1]));
		assert_int_equal(root_b64url_decode(out, n, back, sizeof(back)), strlen(v[i][0]));
		assert_memory_equal(back, v[i][0], strlen(v[i][0]));
	}
	root_b64url_encode(odd, 2, out);
	assert_string_equal(out, "-_8");
	assert_int_equal(root_b64url_decode("Zm9v+", 5, back, sizeof(back)), -1);
	assert_int_equal(root_b64url_decode("Z", 1, back, sizeof(back)), -1);
	assert_int_equal(root_b64url_decode("Zm9vYmFy", 8, back, 5), -1);
}

static char *make(const char *typ, int64_t exp)
{
	json_t *c = json_pack("{s:s, s:I, s:I, s:[s], s:s, s:s}", "sub", "alice", "iat",
			      (json_int_t)1000, "exp", (json_int_t)exp, "roles", "Admin",
			      "organization", "root", "type", typ);
	char *t = root_jwt_sign(secret, SLEN, c);

	json_decref(c);
	assert_non_null(t);
	return t;
}

static void test_jwt(void **state)
{
	char *t = make("access", 2000);
	json_t *c;
	char *forged;

	assert_int_equal(root_jwt_verify(secret, SLEN, t, "access", 1999, &c), ROOT_JWT_OK);
	assert_string_equal(json_string_value(json_object_get(c, "sub")), "alice");
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "roles"), 0)),
			    "Admin");
	assert_string_equal(json_string_value(json_object_get(c, "organization")), "root");
	json_decref(c);
	/* expiry, type, secret */
	assert_int_equal(root_jwt_verify(secret, SLEN, t, "access", 2000, &c), ROOT_JWT_EXPIRED);
	assert_null(c);
	assert_int_equal(root_jwt_verify(secret, SLEN, t, "refresh", 1000, &c),
			 ROOT_JWT_WRONG_TYPE);
	assert_int_equal(root_jwt_verify((const unsigned char *)"another secret of 32 bytes!!!!!!",
					 32, t, "access", 1000, &c),
			 ROOT_JWT_BAD_SIGNATURE);
	/* a changed payload with the old signature */
	forged = strdup(t);
	{
		char *p = strchr(forged, '.') + 1;

		p[3] = p[3] == 'A' ? 'B' : 'A';
	}
	assert_true(root_jwt_verify(secret, SLEN, forged, "access", 1000, &c) < 0);
	free(forged);
	/* alg none, garbage, missing parts */
	assert_int_equal(root_jwt_verify(secret, SLEN,
					 "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
					 "eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.",
					 NULL, 1000, &c),
			 ROOT_JWT_MALFORMED);
	assert_int_equal(root_jwt_verify(secret, SLEN, "a.b", NULL, 1000, &c), ROOT_JWT_MALFORMED);
	assert_int_equal(root_jwt_verify(secret, SLEN, "", NULL, 1000, &c), ROOT_JWT_MALFORMED);
	assert_int_equal(root_jwt_verify(secret, SLEN, "!!.??.**", NULL, 1000, &c),
			 ROOT_JWT_MALFORMED);
	free(t);
}

static void test_password(void **state)
{
	char *h = root_password_hash("correct horse");
	char *h2 = root_password_hash("correct horse");
	char gen[32], gen2[32];

	assert_non_null(h);
	assert_non_null(h2);
	assert_true(strncmp(h, "$y$", 3) == 0);
	assert_null(strstr(h, "correct"));
	/* salted: the same password hashes differently */
	assert_string_not_equal(h, h2);
	assert_true(root_password_check("correct horse", h));
	assert_true(root_password_check("correct horse", h2));
	assert_false(root_password_check("correct horsE", h));
	assert_false(root_password_check("", h));
	assert_false(root_password_check("correct horse", ""));
	assert_false(root_password_check("correct horse", "correct horse"));
	assert_int_equal(root_password_generate(gen, sizeof(gen)), 0);
	assert_int_equal(root_password_generate(gen2, sizeof(gen2)), 0);
	assert_int_equal(strlen(gen), 20);
	assert_string_not_equal(gen, gen2);
	free(h);
	free(h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_jwt),
	    cmocka_unit_test(test_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
