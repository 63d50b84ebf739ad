/* libFuzzer target for the SLA "port" field parser. What parses must be
 * within bounds (1..65535, a known protocol, no host port twice per
 * protocol, at most max entries), and printing the entries back and
 * parsing that again must give the same entries. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oak/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oak_port_map m[OAK_PORTS_MAX], m2[OAK_PORTS_MAX];
	size_t max = size ? data[0] % (OAK_PORTS_MAX + 1) : OAK_PORTS_MAX;
	char *spec, err[256], text[OAK_PORTS_MAX * 24 + 1];
	size_t o = 0;
	int n, n2;

	if (size > 4096)
		return 0;
	spec = malloc(size + 1);
	if (!spec)
		abort();
	if (size)
		memcpy(spec, data + 1, size - 1);
	spec[size ? size - 1 : 0] = '\0';
	err[0] = '\0';
	n = oak_ports_parse(spec, m, max, err, sizeof(err));
	free(spec);
	if (n < 0) {
		if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err))
			abort();
		return 0;
	}
	if ((size_t)n > max)
		abort();
	for (int i = 0; i < n; i++) {
		if (!m[i].host_port || !m[i].container_port ||
		    (m[i].proto != IPPROTO_TCP && m[i].proto != IPPROTO_UDP &&
		     m[i].proto != IPPROTO_SCTP))
			abort();
		for (int j = 0; j < i; j++)
			if (m[j].proto == m[i].proto && m[j].host_port == m[i].host_port)
				abort();
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%u:%u/%s", i ? ";" : "",
				      m[i].host_port, m[i].container_port,
				      oak_port_proto_name(m[i].proto));
	}
	text[o] = '\0';
	n2 = oak_ports_parse(text, m2, OAK_PORTS_MAX, err, sizeof(err));
	if (n2 != n)
		abort();
	for (int i = 0; i < n; i++) /* field by field: the struct has padding */
		if (m[i].proto != m2[i].proto || m[i].host_port != m2[i].host_port ||
		    m[i].container_port != m2[i].container_port)
			abort();
	return 0;
}
