/* An SLA's "port" field (Oakestra's syntax): which host ports of the node
 * expose which container ports of an instance.
 *
 *   "6080:60/tcp;7000/udp;80"
 *
 * Entries are separated by ';'. Each is "host:container[/proto]", or
 * "port[/proto]" for the same port on both sides; proto is tcp (the default),
 * udp or sctp; ports are 1..65535. Exactly what the SLA validator accepts
 * (control/common/sla.c), and a host port may appear only once per protocol.
 * Parsing is pure (no I/O). */
#ifndef OAK_PORTS_H
#define OAK_PORTS_H

#include <stddef.h>
#include <stdint.h>

#define OAK_PORTS_MAX 64 /* entries in one "port" field */

struct oak_port_map {
	uint8_t proto;		 /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	uint16_t host_port;	 /* host order */
	uint16_t container_port; /* host order */
};

/*
 * Parse spec into out (room for max). Returns the number of entries ("" has
 * none), or -1 with an error in err that quotes the entry at fault.
 */
int oak_ports_parse(const char *spec, struct oak_port_map *out, size_t max, char *err,
		    size_t errlen);

/* "tcp", "udp", "sctp", or "?" */
const char *oak_port_proto_name(uint8_t proto);

#endif
