/* Daemon configuration: a table of keys (name, type, default, help) owned
 * by each daemon, filled from a file and then from the command line.
 *
 * File format, one setting per line:
 *     # comment (whole line, or after a value preceded by whitespace)
 *     broker_host = 127.0.0.1
 *     keepalive   = 5
 * Blank lines are ignored; values may be wrapped in double quotes to keep
 * '#' or surrounding spaces. An unknown key or a value of the wrong type is
 * an error naming the key and the line. Command-line options
 * (--key=value, --key value, --flag for booleans) override the file;
 * --config FILE picks the file and --help prints every key. */
#ifndef OAK_CONFIG_H
#define OAK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum oak_cfg_type {
	OAK_CFG_STR,
	OAK_CFG_INT,  /* int64, decimal */
	OAK_CFG_BOOL, /* true/false/yes/no/on/off/1/0 */
	OAK_CFG_DOUBLE,
};

struct oak_cfg_key {
	const char *name; /* [a-z0-9_]+ */
	enum oak_cfg_type type;
	const char *def; /* default as text, NULL = "" */
	const char *help;
};

struct oak_config;

/* keys must outlive the config; returns NULL on bad table or no memory */
struct oak_config *oak_config_new(const char *prog, const struct oak_cfg_key *keys, size_t n);
void oak_config_free(struct oak_config *cfg);

/* Set one key from text; -1 with err if unknown or not of its type. */
int oak_config_set(struct oak_config *cfg, const char *key, const char *value, char *err,
		   size_t errlen);
/* Parse a whole config text; where names the source in errors ("oak.conf"). */
int oak_config_load_string(struct oak_config *cfg, const char *text, const char *where, char *err,
			   size_t errlen);
int oak_config_load_file(struct oak_config *cfg, const char *path, char *err, size_t errlen);
/* argv handling: --config FILE loaded first, then every --key overrides.
 * Returns 0 to run, 1 when --help was printed (to out), -1 on error.
 * Positional arguments are errors. */
int oak_config_parse_args(struct oak_config *cfg, int argc, char **argv, FILE *out, char *err,
			  size_t errlen);
void oak_config_print_help(const struct oak_config *cfg, FILE *out);

/* Getters; the key must be in the table and of that type (else abort()
 * with a message: it is a programming error). */
const char *oak_config_str(const struct oak_config *cfg, const char *key);
/* Whether the daemon's key table has this key (of any type). */
bool oak_config_has(const struct oak_config *cfg, const char *key);
int64_t oak_config_int(const struct oak_config *cfg, const char *key);
bool oak_config_bool(const struct oak_config *cfg, const char *key);
double oak_config_double(const struct oak_config *cfg, const char *key);
/* where the value came from: "default", "<file>:<line>", "command line" */
const char *oak_config_origin(const struct oak_config *cfg, const char *key);

#endif
