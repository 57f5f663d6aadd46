// SPDX-License-Identifier: GPL-2.0
/* LD_PRELOAD library for the benchmarks: when a process named $BENCH_EXITSTAT_COMM exits, it
 * appends "<seconds> <KiB>" to the file $BENCH_EXITSTAT: its run time from this library's
 * constructor to its exit (the loading of a traced command and leaktrace's attach and detach
 * are not in it), and its peak resident set (VmHWM, its own: not its children's, as
 * `/usr/bin/time -f %M` would count them). Other processes that inherit it say nothing.
 * It allocates nothing, so that it adds no call for the probes to see.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct timespec start;

static double since_start(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - start.tv_sec) + (ts.tv_nsec - start.tv_nsec) / 1e9;
}

/* VmHWM of this process in KiB, or -1. */
static long peak_rss_kib(void)
{
	char buf[4096], *p;
	long kib = -1;
	ssize_t n;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nVmHWM:");
	if (p)
		kib = strtol(p + 7, NULL, 10);
	return kib;
}

__attribute__((constructor)) static void exitstat_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start);
}

__attribute__((destructor)) static void exitstat_report(void)
{
	const char *path = getenv("BENCH_EXITSTAT"), *comm = getenv("BENCH_EXITSTAT_COMM");
	double secs = since_start();
	char line[64];
	int fd, len, saved = errno;

	if (!path || !comm || strcmp(comm, program_invocation_short_name))
		return;
	len = snprintf(line, sizeof(line), "%.6f %ld\n", secs, peak_rss_kib());
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, len) != len)
			fprintf(stderr, "exitstat: cannot write %s\n", path);
		close(fd);
	}
	errno = saved;
}
