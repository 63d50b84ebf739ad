/* JSON Web Tokens as Oakestra's clients read them: HS256 (HMAC-SHA256),
 * claims "sub" (user name), "exp", "iat", "roles" (list of role names),
 * "organization", and "type" ("access" or "refresh", as flask_jwt_extended
 * writes it, which Oakestra uses) so that a
 * refresh token cannot be used as an access token. */
#ifndef OAK_ROOT_JWT_H
#define OAK_ROOT_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ROOT_JWT_SECRET_MIN 32 /* bytes */

enum root_jwt_rc {
	ROOT_JWT_OK = 0,
	ROOT_JWT_MALFORMED = -1, /* not three base64url parts, bad JSON, alg not HS256 */
	ROOT_JWT_BAD_SIGNATURE = -2,
	ROOT_JWT_EXPIRED = -3,
	ROOT_JWT_WRONG_TYPE = -4,
};

/* Signs claims (not consumed) into a new string ("header.payload.sig"),
 * NULL on failure. */
char *root_jwt_sign(const unsigned char *secret, size_t secret_len, json_t *claims);

/* Verifies signature, "exp" against now (seconds) and "type" when typ is not
 * NULL; on ROOT_JWT_OK *claims is a new reference to the payload. */
int root_jwt_verify(const unsigned char *secret, size_t secret_len, const char *token,
		    const char *typ, int64_t now, json_t **claims);

const char *root_jwt_strerror(int rc);

/* base64url without padding; out needs 4 * ceil(n / 3) + 1 bytes */
size_t root_b64url_encode(const unsigned char *in, size_t n, char *out);
/* -1 on a character outside the alphabet or an impossible length */
long root_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen);

#endif
