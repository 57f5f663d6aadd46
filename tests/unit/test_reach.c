// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * reach: the pointer scan on a real child process whose memory holds a known
 * graph of blocks: reachable by start and interior pointers, from data, the
 * heap and the gaps between blocks; lost; indirectly lost, cycles included.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reach.h"

#define PAGE 4096
#define NR_PAGES 24
#define GAP 20 /* a page of the region that is no block: a root */
#define NR_BLOCKS 14

/* The child's roots in its data: the test binary's bss. */
static void *volatile roots[2];

/* Block k of the region, computed where it is needed and nowhere kept. */
static void **blk(char *region, int k)
{
	return (void **)(region + (size_t)k * PAGE);
}

static __attribute__((noinline)) void build_graph(char *r)
{
	void **heap = malloc(64);

	roots[0] = blk(r, 0);			/* 0: from data */
	blk(r, 0)[0] = blk(r, 1);		/* 1: from a reachable block */
	blk(r, 1)[5] = (char *)blk(r, 2) + 100; /* 2: an interior pointer: possibly lost */
	/* 3: lost; it alone points to 10, which is indirectly lost. */
	blk(r, 3)[1] = blk(r, 10);
	/* 4 -> 5 -> 6 -> 4: a lost cycle entered at 4; 5 and 6 indirectly lost. */
	blk(r, 4)[0] = blk(r, 5);
	blk(r, 5)[0] = blk(r, 6);
	blk(r, 6)[0] = blk(r, 4);
	/* 7 <-> 8: a lost pair; the first seen is lost, the other indirectly. */
	blk(r, 7)[3] = blk(r, 8);
	blk(r, 8)[3] = blk(r, 7);
	blk(r, GAP)[7] = blk(r, 9); /* 9: from a gap between blocks */
	heap[2] = blk(r, 11);	    /* 11: from the heap, not a block */
	roots[1] = heap;
	/* 12 points to 13 from within itself, and nothing to 12: both lost, 13 indirectly. */
	blk(r, 12)[0] = blk(r, 13);
}

/* Overwrites the stack below us, so no stale copy of a block's address is left there. */
static __attribute__((noinline)) void clear_stack(void)
{
	volatile char junk[64 * 1024];

	memset((char *)junk, 0, sizeof(junk));
}

/*
 * Forks a child that maps NR_PAGES pages, lets build() lay out its graph in
 * them, and sleeps; the region's address comes back through a pipe.
 */
static pid_t start_child(void (*build)(char *r), char **region)
{
	int fds[2];
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *r = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		build(r);
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		r = NULL;
		clear_stack();
		for (;;)
			pause();
	}
	cr_assert_eq(read(fds[0], region, sizeof(*region)), sizeof(*region));
	close(fds[0]);
	close(fds[1]);
	usleep(50 * 1000); /* until it sleeps in pause() */
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Blocks 0..13 of the region, given in reverse order: the scan sorts them. */
static void fill_blocks(char *region, struct reach_block *b)
{
	for (int k = 0; k < NR_BLOCKS; k++)
		b[k] = (struct reach_block){
			.addr = (uint64_t)(uintptr_t)blk(region, NR_BLOCKS - 1 - k),
			.size = PAGE,
			.tag = NR_BLOCKS - 1 - k,
			.state = REACH_LOST,
		};
}

static const enum reach_state expected[NR_BLOCKS] = {
	[0] = REACH_REACHABLE, [1] = REACH_REACHABLE, [2] = REACH_POSSIBLE,  [3] = REACH_LOST,
	[10] = REACH_INDIRECT, [4] = REACH_LOST,      [5] = REACH_INDIRECT,  [6] = REACH_INDIRECT,
	[7] = REACH_LOST,      [8] = REACH_INDIRECT,  [9] = REACH_REACHABLE, [11] = REACH_REACHABLE,
	[12] = REACH_LOST,     [13] = REACH_INDIRECT,
};

static void check_verdicts(const struct reach_block *b)
{
	for (int i = 0; i < NR_BLOCKS; i++) {
		cr_assert_eq(b[i].tag, (uint64_t)i, "sorted by address");
		cr_assert_eq(b[i].state, expected[i], "block %d: %d, expected %d", i, b[i].state,
			     expected[i]);
	}
}

Test(reach, classifies_a_known_graph)
{
	struct reach_block b[NR_BLOCKS];
	struct reach_stats st;
	char *region;
	pid_t pid = start_child(build_graph, &region);

	fill_blocks(region, b);
	cr_assert_eq(reach__scan(pid, b, NR_BLOCKS, NULL, 0, NULL, 0, REACH_ROOTS_CONSERVATIVE,
				 &st),
		     0);
	stop_child(pid);
	check_verdicts(b);
	cr_assert_geq(st.threads_bounded, 1, "the sleeping thread's stack is read from its sp");
	cr_assert_geq(st.bytes_read, (NR_PAGES - NR_BLOCKS) * PAGE);
}

Test(reach, frozen_scan_reads_registers_and_resumes)
{
	struct reach_block b[NR_BLOCKS];
	struct reach_freeze fz;
	struct reach_stats st;
	struct timespec ts;
	char *region;
	pid_t pid = start_child(build_graph, &region);
	int status;

	cr_assert_eq(reach__freeze(pid, &fz), 0);
	cr_assert_eq(fz.nr_threads, 1);
	cr_assert(fz.held);
	/* Frozen, it is in a ptrace stop: its state letter is 't'. */
	fill_blocks(region, b);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cr_assert_eq(reach__scan(pid, b, NR_BLOCKS, fz.threads, fz.nr_threads, &fz,
				 ts.tv_sec * 1000000000ULL + ts.tv_nsec + 10000000000ULL,
				 REACH_ROOTS_CONSERVATIVE, &st),
		     0);
	/* Let go once every reachable block is marked, well before its 10 s limit. */
	cr_assert_not(fz.held);
	cr_assert_gt(fz.held_ns, 0);
	free(fz.threads);
	check_verdicts(b);
	cr_assert_eq(st.threads_bounded, 1);
	cr_assert_not(st.thawed_early);
	/* Released and alive: a signal still reaches it. */
	cr_assert_eq(waitpid(pid, &status, WNOHANG), 0);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

Test(reach, a_passed_deadline_thaws_during_the_scan)
{
	struct reach_block b[NR_BLOCKS];
	struct reach_freeze fz;
	struct reach_stats st;
	char *region;
	pid_t pid = start_child(build_graph, &region);

	cr_assert_eq(reach__freeze(pid, &fz), 0);
	fill_blocks(region, b);
	cr_assert_eq(reach__scan(pid, b, NR_BLOCKS, fz.threads, fz.nr_threads, &fz, 1,
				 REACH_ROOTS_CONSERVATIVE, &st),
		     0);
	cr_assert(st.thawed_early);
	cr_assert_not(fz.held);
	free(fz.threads);
	stop_child(pid);
	check_verdicts(b);
}

Test(reach, a_dead_process_is_an_error)
{
	struct reach_block b = { .addr = 0x1000, .size = 16 };
	struct reach_stats st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	cr_assert_eq(reach__scan(pid, &b, 1, NULL, 0, NULL, 0, REACH_ROOTS_CONSERVATIVE, &st),
		     -ESRCH);
}

/*
 * A reachable block whose first page cannot be read (PROT_NONE): the batch's
 * read fails at once, and the scan reads on page by page: the pointer in its
 * second page still reaches the next block.
 */
/* Block 0 (pages 0-1, its first page unreadable) reachable, leading to block 1 (page 2). */
static void build_guarded(char *r)
{
	roots[0] = r;
	blk(r, 1)[1] = blk(r, 2);
	mprotect(r, PAGE, PROT_NONE);
}

Test(reach, reads_past_an_unreadable_page)
{
	struct reach_block b[2];
	struct reach_stats st;
	char *r;
	pid_t pid = start_child(build_guarded, &r);

	b[0] = (struct reach_block){ (uint64_t)(uintptr_t)r, 2 * PAGE, 0, REACH_LOST, false };
	b[1] = (struct reach_block){ (uint64_t)(uintptr_t)blk(r, 2), PAGE, 1, REACH_LOST, false };
	cr_assert_eq(reach__scan(pid, b, 2, NULL, 0, NULL, 0, REACH_ROOTS_CONSERVATIVE, &st), 0);
	stop_child(pid);
	cr_assert_eq(b[0].state, REACH_REACHABLE);
	cr_assert_eq(b[1].state, REACH_REACHABLE);
}

/*
 * A 1 GiB anonymous mapping with one page touched, 700 MiB in, that holds the
 * only pointer to block 0; and a 2 TiB reservation, never touched. Guard pages
 * keep the kernel from merging them, or with other mappings. Only the touched
 * page is read (pagemap says which), the reservation not at all.
 */
static void build_sparse(char *r)
{
	char *big = mmap(NULL, (1ull << 30) + 2 * PAGE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *huge = mmap(NULL, (2ull << 40) + 2 * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (big == MAP_FAILED || huge == MAP_FAILED ||
	    mprotect(big + PAGE, 1ull << 30, PROT_READ | PROT_WRITE) ||
	    mprotect(huge + PAGE, 2ull << 40, PROT_READ | PROT_WRITE))
		_exit(1);
	((void **)(big + PAGE + (700ull << 20)))[3] = blk(r, 0);
}

static void scan_sparse_child(void)
{
	struct reach_block b[2];
	struct reach_stats st;
	char *r;
	pid_t pid = start_child(build_sparse, &r);

	b[0] = (struct reach_block){ (uint64_t)(uintptr_t)blk(r, 0), PAGE, 0, REACH_LOST, false };
	b[1] = (struct reach_block){ (uint64_t)(uintptr_t)blk(r, 1), PAGE, 1, REACH_REACHABLE,
				     false };
	cr_assert_eq(reach__scan(pid, b, 2, NULL, 0, NULL, 0, REACH_ROOTS_CONSERVATIVE, &st), 0);
	stop_child(pid);
	cr_assert_eq(b[0].state, REACH_REACHABLE, "the pointer in the touched page was read");
	cr_assert_eq(b[1].state, REACH_LOST);
	cr_assert_lt(st.bytes_read, 64ull << 20, "%llu bytes read",
		     (unsigned long long)st.bytes_read);
	cr_assert_geq(st.bytes_skipped, (2ull << 40) + (1ull << 30) - PAGE);
}

Test(reach, large_anonymous_mappings_are_read_by_their_pages)
{
	unsetenv("LEAKTRACE_NO_PAGEMAP_SCAN");
	scan_sparse_child();
}

/* Kernels before 6.7: one pagemap entry per page, and terabytes taken for a reservation. */
Test(reach, without_pagemap_scan_pagemap_entries_tell_the_pages)
{
	setenv("LEAKTRACE_NO_PAGEMAP_SCAN", "1", 1);
	scan_sparse_child();
	unsetenv("LEAKTRACE_NO_PAGEMAP_SCAN");
}

/*
 * A thread's stack, mapped by pthread_create and recorded as a block: it is a
 * root from the thread's stack pointer up. Block 2's address lives in a live
 * frame of the thread (reachable); block 3's only in a dead frame far below
 * its stack pointer (lost, as valgrind would say).
 */
static char *thread_region;
static uint64_t stack_lo, stack_hi;

static __attribute__((noinline)) void dead_frame(void)
{
	void *volatile deep[4096];

	deep[0] = blk(thread_region, 3);
	deep[4095] = deep[0];
}

static void *thread_keeps(void *arg)
{
	void *volatile keep = blk(thread_region, 2);
	pthread_attr_t attr;
	size_t size;
	void *addr;

	dead_frame();
	pthread_getattr_np(pthread_self(), &attr);
	pthread_attr_getstack(&attr, &addr, &size);
	stack_lo = (uint64_t)(uintptr_t)addr;
	stack_hi = stack_lo + size;
	for (;;)
		pause();
	return (void *)keep;
}

static void build_thread(char *r)
{
	pthread_t t;

	thread_region = r;
	pthread_create(&t, NULL, thread_keeps, NULL);
	while (!stack_hi)
		usleep(1000);
	memcpy(blk(r, NR_PAGES - 1), (uint64_t[]){ stack_lo, stack_hi }, 16);
	thread_region = NULL;
}

Test(reach, a_thread_stack_block_is_a_root_from_its_stack_pointer)
{
	struct reach_block b[3];
	struct reach_stats st;
	uint64_t range[2];
	char *r;
	pid_t pid = start_child(build_thread, &r);
	char path[64];
	FILE *f;

	/* The thread's stack bounds, from the last page of the region. */
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fseeko(f, (off_t)(uintptr_t)blk(r, NR_PAGES - 1), SEEK_SET), 0);
	cr_assert_eq(fread(range, sizeof(range), 1, f), 1);
	fclose(f);
	b[0] = (struct reach_block){ (uint64_t)(uintptr_t)blk(r, 2), PAGE, 2, REACH_LOST, false };
	b[1] = (struct reach_block){ (uint64_t)(uintptr_t)blk(r, 3), PAGE, 3, REACH_REACHABLE,
				     false };
	b[2] = (struct reach_block){ range[0], range[1] - range[0], 9, REACH_LOST, false };
	cr_assert_eq(reach__scan(pid, b, 3, NULL, 0, NULL, 0, REACH_ROOTS_CONSERVATIVE, &st), 0);
	stop_child(pid);
	for (int i = 0; i < 3; i++) {
		if (b[i].tag == 2)
			cr_assert_eq(b[i].state, REACH_REACHABLE,
				     "kept in the thread's live frame");
		else if (b[i].tag == 3)
			cr_assert_eq(b[i].state, REACH_LOST, "only in a dead frame below its sp");
		else
			cr_assert_eq(b[i].state, REACH_REACHABLE,
				     "a live thread's stack is not lost");
	}
	cr_assert_geq(st.threads_bounded, 2);
}

/* The state letter of /proc/PID/task/TID/stat ('S', 'D', 't', ...), or 0. */
static char thread_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Polls until the thread's state is want, at most 10 s; true when it got there. */
static bool wait_state(pid_t pid, pid_t tid, char want)
{
	for (int i = 0; i < 1000; i++) {
		if (thread_state(pid, tid) == want)
			return true;
		usleep(10000);
	}
	return false;
}

/* The thread of pid that is not its leader (it has two). */
static pid_t other_thread(pid_t pid)
{
	char path[64];
	struct dirent *d;
	pid_t tid = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (int i = 0; i < 1000 && !tid; i++) {
		dir = opendir(path);
		while (dir && (d = readdir(dir)))
			if (atoi(d->d_name) > 0 && atoi(d->d_name) != pid)
				tid = atoi(d->d_name);
		if (dir)
			closedir(dir);
		if (!tid)
			usleep(10000);
	}
	cr_assert_gt(tid, 0, "the child's second thread never started");
	return tid;
}

static int vfork_go[2], vfork_woke[2];

/* Asleep in vfork until the test writes to vfork_go: uninterruptible, ptrace cannot stop it. */
static void *vfork_thread(void *arg)
{
	char c;

	if (vfork() == 0) {
		if (read(vfork_go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (write(vfork_woke[1], "w", 1) != 1)
		return NULL;
	for (;;)
		pause();
}

Test(reach, a_thread_asleep_in_vfork_is_left_running_and_the_process_released, .timeout = 60)
{
	struct reach_freeze fz;
	struct timespec t0, t1;
	int status;
	pid_t pid, tid;
	char c;

	cr_assert_eq(pipe(vfork_go), 0);
	cr_assert_eq(pipe(vfork_woke), 0);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		pthread_create(&t, NULL, vfork_thread, NULL);
		for (;;)
			pause();
	}
	tid = other_thread(pid);
	cr_assert(wait_state(pid, tid, 'D'), "the vfork thread never slept (state %c)",
		  thread_state(pid, tid));
	cr_assert(wait_state(pid, pid, 'S'));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(reach__freeze(pid, &fz), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 10, "the freeze waited on the sleeping thread");
	cr_assert_eq(fz.nr_threads, 1);
	cr_assert_eq(fz.threads[0].tid, pid);
	cr_assert_eq(fz.nr_running, 1);
	cr_assert_eq(thread_state(pid, pid), 't');
	reach__thaw(&fz);
	free(fz.threads);
	cr_assert(wait_state(pid, pid, 'S'), "the leader stays stopped: %c",
		  thread_state(pid, pid));

	/* Woken, the thread runs on: no stop was left pending for it. */
	cr_assert_eq(write(vfork_go[1], "g", 1), 1);
	cr_assert_eq(read(vfork_woke[0], &c, 1), 1);
	cr_assert(wait_state(pid, tid, 'S'), "the woken thread is held: %c",
		  thread_state(pid, tid));
	usleep(100000);
	cr_assert_eq(thread_state(pid, tid), 'S');
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
}
