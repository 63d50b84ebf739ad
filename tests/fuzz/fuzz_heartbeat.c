/* libFuzzer target for the UDP heartbeat datagram (anyone who reaches the
 * cluster's heartbeat port can send one). What decodes must hold a
 * NUL-terminated id of the length the header says, and encoding that id
 * again must give the same header fields and id bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oak/heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oak_hb hb;
	uint8_t out[OAK_HB_MAX];
	size_t n;
	int len;

	memset(&hb, 0x5a, sizeof(hb));
	if (oak_hb_decode(data, size, &hb) != 0)
		return 0;
	n = strnlen(hb.id, sizeof(hb.id));
	if (n == 0 || n == sizeof(hb.id) || n != data[6] || size != OAK_HB_HDR + n)
		abort();
	len = oak_hb_encode(out, sizeof(out), hb.id, "boot", hb.seq);
	if (len != (int)size || memcmp(out, data, 5) || out[6] != data[6] ||
	    memcmp(out + 8, data + 8, 4) || memcmp(out + OAK_HB_HDR, data + OAK_HB_HDR, n))
		abort();
	return 0;
}
