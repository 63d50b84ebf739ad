/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers oakctl needs around the root's answers: Oakestra answers
 * some calls with a JSON string that holds JSON (double-encoded), errors
 * carry {"message": ...} or {"error": ...}, and tokens are JWTs whose
 * payload says when they expire. Pure: no I/O.
 */
#ifndef OAKCTL_JSONX_H
#define OAKCTL_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse an HTTP body: empty is JSON null; a JSON string that itself holds
 * an object or array is decoded again (Oakestra's double encoding); a body
 * that is not JSON at all comes back as a JSON string of the text.
 * Returns a new reference (never NULL unless out of memory).
 */
json_t *jx_parse_body(const char *body, size_t len);

/*
 * The human part of an error answer: "message" or "error" when it is a
 * string (or a list of strings, joined with "; "), else the body's text
 * (trimmed, at most outlen-1 bytes). Empty when there is nothing.
 */
void jx_error_message(const json_t *answer, char *out, size_t outlen);

/* A string field, or def when missing or not a string. */
const char *jx_str(const json_t *obj, const char *key, const char *def);
/* An integer field (a JSON integer, a real or a numeric string), or def. */
long long jx_int(const json_t *obj, const char *key, long long def);
/* A document's id: "_id": {"$oid": ...}, or "_id" as a string, or def. */
const char *jx_oid(const json_t *doc, const char *def);

/*
 * A field as table text: strings as they are, numbers, booleans as
 * "yes"/"no", lists of scalars joined with ","; "" when missing or null.
 * Returns buf.
 */
const char *jx_text(const json_t *obj, const char *key, char *buf, size_t len);

/*
 * The "exp" claim (seconds since the epoch) of a JWT, from its payload
 * (base64url, unverified: the root verifies it). 0 with *exp set, or -1
 * when the token is not a JWT or has no numeric exp.
 */
int jx_jwt_exp(const char *token, int64_t *exp);

#endif
