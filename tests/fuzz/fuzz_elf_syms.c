// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: an ELF file (a target maps what it likes) through the symbol reader. */
#include <stdint.h>
#include <stdio.h>

#include "elf_syms.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	uint64_t addr = 0, off = 0, a2;
	struct elf_syms *syms;
	unsigned char buf[64];
	int err;

	free(elf_syms__file_build_id(path));
	syms = elf_syms__open(path, "/nonexistent", &err);
	if (!syms)
		return 0;
	elf_syms__machine(syms);
	elf_syms__count(syms);
	elf_syms__has_symtab(syms);
	elf_syms__is_static(syms);
	elf_syms__interp(syms);
	elf_syms__build_id(syms);
	elf_syms__debug_file(syms);
	elf_syms__built_with_frame_pointers(syms);
	if (!elf_syms__find(syms, "malloc", &addr) || !elf_syms__find(syms, "main", &addr)) {
		elf_syms__lookup(syms, addr);
		elf_syms__lookup(syms, addr + 1);
		elf_syms__read(syms, addr, buf, sizeof(buf));
		elf_syms__keeps_frame_pointer(syms, addr, addr + 8);
		elf_syms__after_call(syms, addr + 8);
		if (!elf_syms__addr_to_offset(syms, addr, &off))
			elf_syms__offset_to_addr(syms, off, &a2);
	}
	/* Addresses the input itself names: its first words. */
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		uint64_t v = 0;

		for (int b = 0; b < 8; b++)
			v |= (uint64_t)data[i + b] << (8 * b);
		elf_syms__lookup(syms, v);
		elf_syms__read(syms, v, buf, 16);
		elf_syms__after_call(syms, v);
	}
	elf_syms__free(syms);
	return 0;
}
