// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a function's first words (from a file a target maps) through
 * arm64's decoders. The first two bytes choose the request; the rest is code.
 */
#include <stdint.h>
#include <stdio.h>

#include "arch_arm64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arch_probe out;
	struct arch_probe_req req;
	const uint8_t *code = data + 2;
	size_t n;

	if (size < 2)
		return 0;
	n = size - 2;
	req = (struct arch_probe_req){ .args = data[0] & 0x3f,
				       .emul = data[1] & 0x3,
				       .null_check = data[0] & 0x40,
				       .same_sp = data[0] & 0x80 };
	if (!arch__probe_offset(code, n, &req, &out))
		arch_why__str(out.why);
	for (size_t i = 0; i + 4 <= n; i += 4)
		arm64__emulated((uint32_t)code[i] | (uint32_t)code[i + 1] << 8 |
					(uint32_t)code[i + 2] << 16 | (uint32_t)code[i + 3] << 24,
				req.emul);
	arch__frame_setup(code, n, 0x1000, 0x1000 + n / 2);
	arch__after_call(code, n);
	return 0;
}
