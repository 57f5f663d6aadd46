// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Why a pid cannot be traced, and what a process that went during the attach is called. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocator.h"
#include "target.h"

static char state_of(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p ? p[2] : '?';
}

/* A child that has exited and is not reaped yet. */
static pid_t zombie(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (!pid)
		_exit(0);
	for (int i = 0; i < 2000 && state_of(pid) != 'Z'; i++)
		usleep(10 * 1000);
	cr_assert_eq(state_of(pid), 'Z');
	return pid;
}

Test(target, a_live_process_can_be_traced)
{
	char buf[128];

	cr_assert_null(target__why_not(getpid(), buf, sizeof(buf)));
}

Test(target, each_wrong_pid_gets_its_reason)
{
	char buf[128];
	pid_t z = zombie();

	cr_assert_str_eq(target__why_not(z, buf, sizeof(buf)),
			 "it is a zombie (it exited; its parent has not reaped it yet): nothing "
			 "left to trace");
	cr_assert_str_eq(target__why_not(2, buf, sizeof(buf)),
			 "it is a kernel thread: it has no user-space memory to trace");
	cr_assert_str_eq(target__why_not(0, buf, sizeof(buf)), "no such process");
	waitpid(z, NULL, 0);
	cr_assert_str_eq(target__why_not(z, buf, sizeof(buf)), "no such process");
}

static void *idle(void *arg)
{
	pause();
	return arg;
}

Test(target, a_thread_names_its_process)
{
	char buf[128], want[128];
	pthread_t th;
	pid_t tid = 0;
	DIR *d;

	cr_assert_eq(pthread_create(&th, NULL, idle, NULL), 0);
	/* The other entry of /proc/self/task is the thread's id. */
	for (int i = 0; i < 1000 && !tid; i++) {
		struct dirent *e;

		d = opendir("/proc/self/task");
		while ((e = readdir(d)))
			if (atoi(e->d_name) > 0 && atoi(e->d_name) != getpid())
				tid = atoi(e->d_name);
		closedir(d);
	}
	cr_assert_gt(tid, 0);
	snprintf(want, sizeof(want), "it is a thread of process %d: trace that process (-p %d)",
		 getpid(), getpid());
	cr_assert_str_eq(target__why_not(tid, buf, sizeof(buf)), want);
}

/*
 * A process that passed the check and went before the plan was made: its files are
 * gone with it, and the plan's error says that it exited, not what failed to open.
 */
Test(target, plan_of_a_process_gone_meanwhile_says_it_exited)
{
	struct alloc_plan plan;
	char err[256] = "", want[128];
	pid_t z = zombie();
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	cr_assert_neq(alloc_plan__for_pid(z, &plan), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	cr_assert_not_null(fgets(err, sizeof(err), f));
	fclose(f);
	snprintf(want, sizeof(want),
		 "leaktrace: cannot attach to pid %d: it exited during the "
		 "attach\n",
		 z);
	cr_assert_str_eq(err, want);
	waitpid(z, NULL, 0);
}

/* Copies the file at from over to, in place (the same inode). */
static void rewrite(const char *to, const char *from)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "r+b");
	size_t n;

	cr_assert(in && out, "cannot open %s or %s", from, to);
	cr_assert_eq(ftruncate(fileno(out), 0), 0);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
}

/* The file offset of the probe named name in plan, or 0. */
static uint64_t probe_offset_of(const struct alloc_plan *plan, const char *name)
{
	for (int i = 0; i < plan->nr_probes; i++)
		if (!strcmp(plan->probes[i].name, name))
			return plan->probes[i].offset;
	return 0;
}

/*
 * Planning keeps what it read of a file for the next process that maps it (-a meets
 * one libc in hundreds): a file written since, in place, is read anew, never planned
 * from what it held before.
 */
Test(target, a_library_rewritten_in_place_is_planned_anew)
{
	char path[] = "/tmp/lt-plan-XXXXXX", libc[128], jemalloc[128];
	struct alloc_plan a, b, libc_plan, je_plan;
	int fd = mkstemp(path);
	struct utsname u;

	cr_assert_eq(uname(&u), 0);
	snprintf(libc, sizeof(libc), "/lib/%s-linux-gnu/libc.so.6", u.machine);
	snprintf(jemalloc, sizeof(jemalloc), "/usr/lib/%s-linux-gnu/libjemalloc.so.2", u.machine);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(alloc_plan__for_lib(libc, &libc_plan), 0);
	cr_assert_eq(alloc_plan__for_lib(jemalloc, &je_plan), 0, "no %s (tools/install-deps test)",
		     jemalloc);
	rewrite(path, libc);
	cr_assert_eq(alloc_plan__for_lib(path, &a), 0);
	cr_assert_eq(alloc_plan__for_lib(path, &a), 0); /* kept from the first */
	rewrite(path, jemalloc);
	cr_assert_eq(alloc_plan__for_lib(path, &b), 0);
	unlink(path);
	cr_assert_neq(probe_offset_of(&libc_plan, "malloc"), 0);
	cr_assert_eq(probe_offset_of(&a, "malloc"), probe_offset_of(&libc_plan, "malloc"));
	cr_assert_eq(probe_offset_of(&a, "mallocx"), 0);
	cr_assert_eq(probe_offset_of(&b, "malloc"), probe_offset_of(&je_plan, "malloc"));
	cr_assert_neq(probe_offset_of(&b, "malloc"), probe_offset_of(&a, "malloc"));
	cr_assert_eq(probe_offset_of(&b, "mallocx"), probe_offset_of(&je_plan, "mallocx"));
	cr_assert_neq(probe_offset_of(&b, "mallocx"), 0);
	cr_assert_eq(b.nr_probes, je_plan.nr_probes);
}
