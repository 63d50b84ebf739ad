/* The SLA "port" field parser (see include/oak/ports.h). */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "oak/ports.h"

const char *oak_port_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	}
	return "?";
}

static int entry_err(char *err, size_t errlen, const char *s, size_t n, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "port \"%.*s\": %s", (int)n, s, why);
	return -1;
}

/* Digits only, 1..65535; *s moves past them. */
static bool port_num(const char **s, const char *end, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = *s;

	if (p == end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
		p++;
	}
	if (v == 0)
		return false;
	*out = (uint16_t)v;
	*s = p;
	return true;
}

static bool proto_of(const char *s, size_t n, uint8_t *proto)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"sctp", IPPROTO_SCTP}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n && memcmp(s, names[i].name, n) == 0) {
			*proto = names[i].proto;
			return true;
		}
	}
	return false;
}

/* One entry, s..end (no ';' inside). */
static int parse_entry(const char *s, const char *end, struct oak_port_map *m, char *err,
		       size_t errlen)
{
	const char *p = s;
	size_t n = (size_t)(end - s);

	if (!port_num(&p, end, &m->host_port))
		return entry_err(err, errlen, s, n, "%s",
				 p == end ? "empty" : "the host port is not a number in 1..65535");
	m->container_port = m->host_port;
	m->proto = IPPROTO_TCP;
	if (p < end && *p == ':') {
		p++;
		if (!port_num(&p, end, &m->container_port))
			return entry_err(err, errlen, s, n,
					 "the container port is not a number in 1..65535");
	}
	if (p < end && *p == '/') {
		p++;
		if (!proto_of(p, (size_t)(end - p), &m->proto))
			return entry_err(err, errlen, s, n, "the protocol is not tcp, udp or sctp");
		p = end;
	}
	if (p != end)
		return entry_err(err, errlen, s, n, "not \"host:container[/tcp|udp|sctp]\"");
	return 0;
}

int oak_ports_parse(const char *spec, struct oak_port_map *out, size_t max, char *err,
		    size_t errlen)
{
	const char *s = spec;
	size_t count = 0;

	if (!spec || !*spec)
		return 0;
	for (;;) {
		const char *end = s + strcspn(s, ";");
		struct oak_port_map m;

		if (parse_entry(s, end, &m, err, errlen))
			return -1;
		for (size_t i = 0; i < count; i++)
			if (out[i].proto == m.proto && out[i].host_port == m.host_port)
				return entry_err(err, errlen, s, (size_t)(end - s),
						 "host port %u/%s is already exposed", m.host_port,
						 oak_port_proto_name(m.proto));
		if (count == max)
			return entry_err(err, errlen, s, (size_t)(end - s), "more than %zu entries",
					 max);
		out[count++] = m;
		if (!*end)
			return (int)count;
		s = end + 1;
	}
}
