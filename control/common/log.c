#include "oak/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char log_component[32] = "oak";
static enum oak_log_level log_min = OAK_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void oak_log_init(const char *component, enum oak_log_level min_level)
{
	if (component)
		snprintf(log_component, sizeof(log_component), "%s", component);
	oak_log_set_level(min_level);
}

void oak_log_set_level(enum oak_log_level level)
{
	if (level >= OAK_LOG_DEBUG && level <= OAK_LOG_ERROR)
		log_min = level;
}

enum oak_log_level oak_log_get_level(void)
{
	return log_min;
}

bool oak_log_enabled(enum oak_log_level level)
{
	return level >= log_min;
}

int oak_log_level_parse(const char *s, enum oak_log_level *out)
{
	if (!s)
		return -1;
	if (strcasecmp(s, "debug") == 0)
		*out = OAK_LOG_DEBUG;
	else if (strcasecmp(s, "info") == 0)
		*out = OAK_LOG_INFO;
	else if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		*out = OAK_LOG_WARN;
	else if (strcasecmp(s, "error") == 0)
		*out = OAK_LOG_ERROR;
	else
		return -1;
	return 0;
}

const char *oak_log_level_name(enum oak_log_level level)
{
	if (level < OAK_LOG_DEBUG || level > OAK_LOG_ERROR)
		return "?";
	return level_names[level];
}

void oak_log_vwrite(enum oak_log_level level, const char *fmt, va_list ap)
{
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	int n;

	if (!oak_log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%d] %s ", ts, now.tv_nsec / 1000000L,
		     log_component, (int)getpid(), oak_log_level_name(level));
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* one write per line so concurrent processes do not interleave */
	n = (int)strnlen(line, sizeof(line) - 2);
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
	fflush(stderr);
}

void oak_log_write(enum oak_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oak_log_vwrite(level, fmt, ap);
	va_end(ap);
}
