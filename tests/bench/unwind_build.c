// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark: the time to build the unwind table of each file given (best of 3), as
 * "PATH ROWS KIB MS" lines. Usage: unwind_build FILE...
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unwind_table.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct unwind_table *t = NULL;
		double best = -1;
		size_t rows = 0;

		for (int run = 0; run < 3; run++) {
			double t0 = now_ms();
			int err = unwind_table__build(argv[i], &t);
			double ms = now_ms() - t0;

			if (err) {
				fprintf(stderr, "unwind_build: %s: %s\n", argv[i], strerror(-err));
				return 1;
			}
			rows = t->nr;
			unwind_table__free(t);
			if (best < 0 || ms < best)
				best = ms;
		}
		printf("%s %zu %zu %.1f\n", argv[i], rows,
		       rows * sizeof(struct lt_unwind_row) / 1024, best);
	}
	return 0;
}
