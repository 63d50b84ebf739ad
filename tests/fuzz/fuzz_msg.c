/* libFuzzer target for one message decoder, chosen at build time with
 * -DFUZZ_MSG=<name>: tests/fuzz/CMakeLists.txt builds one for each of the
 * 18 messages of include/oak/msg.h (a cluster deploy's decoder also runs
 * the SLA service decoder on the object it carries). Decoding must never crash; whatever decodes
 * must encode, and the encoding must decode again to the same encoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oak/msg.h"

#define CAT3(a, b, c)  a##b##c
#define FN(name, what) CAT3(oak_msg_, name, what)
#define MSG_STRUCT(n)  struct CAT3(oak_msg_, n, )

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MSG_STRUCT(FUZZ_MSG) m, m2;
	char err[256], *t1, *t2;

	if (FN(FUZZ_MSG, _decode)((const char *)data, size, &m, err, sizeof(err)) != 0) {
		if (!err[0])
			abort();
		return 0;
	}
	t1 = FN(FUZZ_MSG, _encode)(&m);
	if (!t1)
		abort();
	if (FN(FUZZ_MSG, _decode)(t1, strlen(t1), &m2, err, sizeof(err)) != 0)
		abort(); /* our own encoding must be accepted */
	t2 = FN(FUZZ_MSG, _encode)(&m2);
	if (!t2 || strcmp(t1, t2) != 0)
		abort();
	free(t1);
	free(t2);
	FN(FUZZ_MSG, _free)(&m);
	FN(FUZZ_MSG, _free)(&m2);
	return 0;
}
