// SPDX-License-Identifier: GPL-2.0
/* Benchmark: a tight malloc(64)+free loop; prints the cost of one pair in ns.
 * Usage: loop [N [wait|hold]]   (default 2000000 pairs; wait: start once a line is read on
 * stdin, so that a tracer can attach to the waiting process first; hold: also exit only once
 * another line is read, so that the tracer's programs are still there to be read)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	bool hold = argc > 2 && !strcmp(argv[2], "hold");
	char line[16];
	double t0, t1;
	long i;

	if (n <= 0) {
		fprintf(stderr, "usage: loop [N [wait|hold]]\n");
		return 2;
	}
	if ((argc > 2 && !strcmp(argv[2], "wait")) || hold) {
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		p = malloc(64);
		free(p);
	}
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	fflush(stdout);
	if (hold && !fgets(line, sizeof(line), stdin))
		return 1;
	return 0;
}
