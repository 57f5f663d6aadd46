// SPDX-License-Identifier: GPL-2.0
/* Benchmark: N getppid(2) system calls; prints the cost of one in ns. A system-call hook
 * anywhere on the host (a tp_btf/sys_exit program) shows here, in a process no one traces.
 * Usage: getppid [N]   (default 2000000 calls)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	double t0, t1;

	if (n <= 0) {
		fprintf(stderr, "usage: getppid [N]\n");
		return 2;
	}
	t0 = now_ns();
	/* syscall(2): a real system call each time, whatever the libc caches. */
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
