/* Leveled logger shared by every oak process: one line per event on
 * stderr, "2024-05-01T12:00:00.123Z oak-node[42] INFO bus: connected". */
#ifndef OAK_LOG_H
#define OAK_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum oak_log_level {
	OAK_LOG_DEBUG,
	OAK_LOG_INFO,
	OAK_LOG_WARN,
	OAK_LOG_ERROR,
};

/* component appears on every line ("oak-root"); copied */
void oak_log_init(const char *component, enum oak_log_level min_level);
void oak_log_set_level(enum oak_log_level level);
enum oak_log_level oak_log_get_level(void);
bool oak_log_enabled(enum oak_log_level level);
/* "debug", "info", "warn"/"warning", "error" (any case); -1 if unknown */
int oak_log_level_parse(const char *s, enum oak_log_level *out);
const char *oak_log_level_name(enum oak_log_level level);

void oak_log_write(enum oak_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void oak_log_vwrite(enum oak_log_level level, const char *fmt, va_list ap);

/* oak_log(INFO, "bus: connected to %s", host) */
#define oak_log(level, ...)                                                                        \
	do {                                                                                       \
		if (oak_log_enabled(OAK_LOG_##level))                                              \
			oak_log_write(OAK_LOG_##level, __VA_ARGS__);                               \
	} while (0)

#endif
