// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: an ELF file's DWARF (a target maps what it likes) through the source line reader. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "dwarf_lines.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	struct dwarf_lines *dl;
	int fd = open(fuzz_file(data, size), O_RDONLY), err;

	if (fd < 0)
		return 0;
	dl = dwarf_lines__open(fd, &err);
	close(fd);
	if (!dl)
		return 0;
	/* Addresses the input itself names (its first words), each twice: the cache's answer. */
	for (size_t i = 0; i + 8 <= size && i < 128; i += 8) {
		uint64_t v = 0;

		for (int b = 0; b < 8; b++)
			v |= (uint64_t)data[i + b] << (8 * b);
		dwarf_lines__lookup(dl, v, lv, DWARF_LINES_MAX_DEPTH);
		dwarf_lines__lookup(dl, v, lv, DWARF_LINES_MAX_DEPTH);
	}
	/* libdw let go (as after a report), then read again: the answers kept stay readable. */
	dwarf_lines__release(dl);
	for (uint64_t a = 0x1000; a < 0x1200; a += 0x10)
		dwarf_lines__lookup(dl, a, lv, DWARF_LINES_MAX_DEPTH);
	for (size_t i = 0; i + 8 <= size && i < 128; i += 8) {
		uint64_t v = 0;

		for (int b = 0; b < 8; b++)
			v |= (uint64_t)data[i + b] << (8 * b);
		if (dwarf_lines__lookup(dl, v, lv, DWARF_LINES_MAX_DEPTH) > 0 && lv[0].file)
			(void)strlen(lv[0].file);
	}
	dwarf_lines__free(dl);
	return 0;
}
