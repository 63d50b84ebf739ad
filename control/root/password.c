/* yescrypt through libcrypt's crypt_gensalt_ra()/crypt_r(): the default
 * cost of Debian's libxcrypt (memory-hard; ~10 ms per hash here). */
#include "password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "jwt.h"
#include "oak/log.h"

char *root_password_hash(const char *password)
{
	struct crypt_data *cd;
	char *salt, *h, *out = NULL;

	if (!password || strlen(password) > ROOT_PASSWORD_MAX)
		return NULL;
	salt = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (!salt) {
		oak_log(ERROR, "password: no salt (crypt_gensalt)");
		return NULL;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd) {
		h = crypt_r(password, salt, cd);
		if (h && h[0] == '$')
			out = strdup(h);
		else
			oak_log(ERROR, "password: crypt_r failed");
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(salt);
	return out;
}

bool root_password_check(const char *password, const char *hash)
{
	struct crypt_data *cd;
	bool ok = false;
	char *h;

	if (!password || !hash || hash[0] != '$' || strlen(password) > ROOT_PASSWORD_MAX)
		return false;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	h = crypt_r(password, hash, cd);
	if (h && h[0] == '$' && strlen(h) == strlen(hash))
		ok = CRYPTO_memcmp(h, hash, strlen(hash)) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int root_password_generate(char *out, size_t len)
{
	unsigned char rnd[15];

	if (len < 21 || getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	root_b64url_encode(rnd, sizeof(rnd), out);
	return 0;
}
