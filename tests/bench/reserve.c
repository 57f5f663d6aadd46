// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A reservation read for its resident pages: maps RESERVE_MIB MiB (no memory
 * committed) and touches its first TOUCH_MIB MiB, prints "ready", then waits
 * for a line on stdin (or its end) and exits.
 *
 *   reserve RESERVE_MIB TOUCH_MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t reserve, touch, page = (size_t)sysconf(_SC_PAGESIZE);
	char line[16], *p;

	if (argc != 3) {
		fprintf(stderr, "usage: reserve RESERVE_MIB TOUCH_MIB\n");
		return 2;
	}
	reserve = strtoull(argv[1], NULL, 0) << 20;
	touch = strtoull(argv[2], NULL, 0) << 20;
	p = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED || touch > reserve) {
		perror("mmap");
		return 1;
	}
	madvise(p, reserve, MADV_NOHUGEPAGE); /* 4 KiB pages: the most entries to read */
	for (size_t i = 0; i < touch; i += page)
		p[i] = 1;
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return p[0] == 1 ? 0 : 1;
}
