// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: /proc/kallsyms text (--kernel reads it as untrusted) through the reader and lookup. */
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "kallsyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name, *module;
	struct kallsyms *ks;
	uint64_t off, addr = 0;

	if (kallsyms__load(fuzz_file(data, size), &ks))
		return 0;
	/* Addresses taken from the input itself, and the edges. */
	memcpy(&addr, data, size < sizeof(addr) ? size : sizeof(addr));
	kallsyms__lookup(ks, addr, &name, &off, &module);
	kallsyms__lookup(ks, 0, &name, &off, &module);
	kallsyms__lookup(ks, UINT64_MAX, &name, &off, &module);
	kallsyms__lookup(ks, 0xffffffff81000000ULL, &name, &off, &module);
	kallsyms__free(ks);
	return 0;
}
