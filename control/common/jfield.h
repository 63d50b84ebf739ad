/* Table-driven JSON <-> struct codec shared by the SLA parser and the MQTT
 * message codecs. Internal to control/: the public headers expose only the
 * structs and the per-message encode/decode functions. */
#ifndef OAK_CONTROL_JFIELD_H
#define OAK_CONTROL_JFIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jf_type {
	JF_STR,	    /* char[size], inline */
	JF_NAME,    /* char[size], 1..30 alphanumeric */
	JF_I64,	    /* int64_t, JSON integer in [min,max] */
	JF_I32,	    /* int32_t */
	JF_U32,	    /* uint32_t */
	JF_DBL,	    /* double, JSON integer or real in [min,max] */
	JF_BOOL,    /* bool */
	JF_ENUM,    /* int-sized enum, JSON string from enum_names */
	JF_STRV,    /* struct oak_strv, heap; max = max count */
	JF_NAMES,   /* struct oak_names, inline list of short strings */
	JF_ARR,	    /* heap array of sub-structs: void *at off, size_t at count_off */
	JF_OBJ,	    /* inline nested struct described by sub */
	JF_JSON,    /* json_t * (any JSON object), reference held */
	JF_SELF,    /* json_t *: the object being decoded itself (not a key) */
	JF_GEO,	    /* struct oak_geo: {"lat":..,"lon":..} */
	JF_VIVALDI, /* struct oak_vivaldi: {"x","y","height","error"} */
};

#define JF_REQ	    0x1u /* must be present */
#define JF_NONEMPTY 0x2u /* string must not be empty */
#define JF_ID	    0x4u /* string usable as one MQTT topic level */

struct jf_table;

struct jf_field {
	const char *name;
	enum jf_type type;
	size_t off;
	size_t size; /* JF_STR/JF_NAME: buffer size; JF_ARR: element size */
	unsigned flags;
	double min, max; /* numbers: range; JF_STRV/JF_ARR: max = max count */
	const struct jf_table *sub;
	size_t count_off;
	const char *const *enum_names;
	size_t enum_n;
};

struct jf_table {
	const char *what; /* for messages: "node report" etc. */
	const struct jf_field *fields;
	size_t n;
	size_t size; /* sizeof the struct */
	bool strict; /* unknown keys are errors */
	/* optional semantic check after all fields decoded; 0 or -1 */
	int (*check)(void *obj, const char *path, char *err, size_t errlen);
};

/* Decode JSON object obj into out (zeroed first). On error out is left
 * freed (no heap members) and err names the field path. */
int jf_decode(const struct jf_table *t, json_t *obj, void *out, const char *path, char *err,
	      size_t errlen);
/* Parse text (len bytes, at most max_bytes) and decode it. */
int jf_decode_text(const struct jf_table *t, const char *buf, size_t len, size_t max_bytes,
		   void *out, char *err, size_t errlen);
json_t *jf_encode(const struct jf_table *t, const void *in);
char *jf_encode_text(const struct jf_table *t, const void *in);
void jf_free(const struct jf_table *t, void *obj);

/* "a.b" / "a[3]" path joins; always NUL-terminated, truncates safely */
void jf_path_key(char *dst, size_t len, const char *base, const char *key);
void jf_path_idx(char *dst, size_t len, const char *base, size_t idx);
void jf_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define JF_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
