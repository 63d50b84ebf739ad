/* Password hashes for oak-root's users: yescrypt (libcrypt), salted per
 * password; only the hash string ("$y$...") is ever stored. */
#ifndef OAK_ROOT_PASSWORD_H
#define OAK_ROOT_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define ROOT_PASSWORD_MIN 8 /* characters */
#define ROOT_PASSWORD_MAX 1024

/* A new "$y$..." hash of password into a malloc'd string, NULL on error. */
char *root_password_hash(const char *password);
/* Whether password matches the stored hash (constant-time compare). */
bool root_password_check(const char *password, const char *hash);
/* A random password (base64url, 20 characters) into out (>= 21 bytes). */
int root_password_generate(char *out, size_t len);

#endif
