// SPDX-License-Identifier: GPL-2.0
/* Benchmark: pipe(2) and two close(2) in a loop, kernel allocations on every one (--kernel's
 * cost); prints the cost of one pipe opened and closed in ns.
 * Usage: pipes [N]   (default 200000 pipes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	double t0, t1;
	int fd[2];

	if (n <= 0) {
		fprintf(stderr, "usage: pipes [N]\n");
		return 2;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (pipe(fd)) {
			perror("pipes: pipe");
			return 1;
		}
		close(fd[0]);
		close(fd[1]);
	}
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
