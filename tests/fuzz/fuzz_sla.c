/* libFuzzer target: the SLA parser must never crash, and what it accepts
 * must satisfy the invariants the root relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oak/sla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oak_sla *sla = NULL;
	char err[256];

	if (oak_sla_parse((const char *)data, size, &sla, err, sizeof(err)) != 0) {
		if (sla || !err[0] || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	for (size_t a = 0; a < sla->n_apps; a++) {
		const struct oak_app *app = &sla->apps[a];

		if (!oak_sla_name_valid(app->name) || !oak_sla_name_valid(app->ns))
			abort();
		for (size_t s = 0; s < app->n_services; s++) {
			const struct oak_service *svc = &app->services[s];
			char job[OAK_JOB_NAME_LEN];

			if (!svc->raw || !svc->code[0] || !svc->virtualization[0])
				abort();
			if (oak_job_name(job, sizeof(job), app->name, app->ns, svc->name,
					 svc->ns) ||
			    strcmp(job, svc->job_name) != 0)
				abort();
			if (svc->addresses.rr_ip[0] && !oak_service_ip_valid(svc->addresses.rr_ip))
				abort();
			if (svc->addresses.closest_ip[0] &&
			    !oak_service_ip_valid(svc->addresses.closest_ip))
				abort();
		}
	}
	oak_sla_free(sla);
	return 0;
}
