// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: an ELF file's .eh_frame (as a target maps it) through the unwind-table builder. */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_file.h"
#include "unwind_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_table *t = NULL;

	if (unwind_table__build(fuzz_file(data, size), &t))
		return 0;
	for (size_t i = 0; i < t->nr; i += 1 + t->nr / 16)
		unwind_table__lookup(t, t->rows[i].pc + 1);
	unwind_table__lookup(t, 0);
	unwind_table__lookup(t, UINT64_MAX);
	unwind_table__free(t);
	return 0;
}
