// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark: a large heap for leaktrace's reachability scan to read.
 * Usage: heap MIB [BLOCK]   (default 1024 MiB in blocks of 2048 bytes)
 * Allocates MIB MiB in blocks of BLOCK bytes filled with bytes that are no
 * pointers, links seven of every eight into a list a global holds (reachable),
 * drops the eighth (lost), prints "lost BYTES BLOCKS" and exits: the scan
 * happens at its exit, as in leaktrace's run mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void **volatile list; /* the root of what stays reachable */

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t block = argc > 2 ? strtoul(argv[2], NULL, 10) : 2048;
	size_t n = (mib << 20) / block, lost = 0;

	if (block < 16 || !n) {
		fprintf(stderr, "usage: heap MIB [BLOCK >= 16]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		void **b = malloc(block);

		if (!b)
			return 1;
		memset(b, 0x5a, block);
		if (i % 8 == 7) {
			lost++;
			continue;
		}
		b[0] = list;
		list = b;
	}
	printf("lost %zu %zu\n", lost * block, lost);
	return 0;
}
