// SPDX-License-Identifier: GPL-2.0
/* Benchmark: a tight malloc(64)+free loop; prints the cost of one pair in ns.
 * Usage: loop [N]   (default 2000000 pairs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	/* volatile keeps the compiler from pairing malloc with free and dropping both */
	void *volatile p;
	double t0, t1;
	long i;

	if (n <= 0) {
		fprintf(stderr, "usage: loop [N]\n");
		return 2;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		p = malloc(64);
		free(p);
	}
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
