/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reachability: which outstanding blocks a live process can still reach, told
 * the way valgrind's leak check tells it, by scanning its memory for pointers.
 */
#ifndef LT_REACH_H
#define LT_REACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

enum reach_state {
	REACH_REACHABLE,	/* a chain of pointers from the roots leads to it */
	REACH_LOST,		/* nothing points to it: valgrind's "definitely lost" */
	REACH_INDIRECT,		/* only lost blocks point to it: "indirectly lost" */
};

struct reach_block {
	uint64_t addr;
	uint64_t size;
	uint64_t tag;		/* the caller's, kept */
	enum reach_state state;	/* the verdict */
};

/* A thread whose registers are known (stopped by ptrace): they are roots too. */
struct reach_thread {
	pid_t tid;
	struct user_regs_struct regs;
};

/* Threads held stopped for a scan (--scan-freeze), by a helper process. */
struct reach_freeze {
	struct reach_thread *threads;	/* those that stopped */
	size_t nr_threads;
	size_t nr_running;	/* those that did not stop in time (asleep in the kernel) */
	bool held;
	pid_t helper;		/* the tracer that holds them, or 0; its end lets them go */
	int fd;			/* to the helper, while there is one */
};

struct reach_stats {
	uint64_t bytes_read;	/* of the target's memory */
	uint64_t bytes_skipped;	/* anonymous memory that holds no page (or is a reservation) */
	uint64_t ns;
	size_t threads_bounded;	/* threads whose stack was scanned from their sp only */
	bool thawed_early;	/* the freeze limit ran out during the scan */
};

/*
 * Stops every thread of pid with PTRACE_SEIZE and PTRACE_INTERRUPT, without a
 * signal the process or its parent could see, and reads their registers. A
 * helper process is their tracer: its end releases them, stopped or not, so
 * they cannot be left stopped, also when we are killed. A thread that does not
 * stop within half a second (asleep in the kernel: vfork, NFS, FUSE) is left
 * running and counted in nr_running. Returns within about 2 s: 0 or -errno
 * (-EPERM when no thread could be held: another tracer has them).
 */
int reach__freeze(pid_t pid, struct reach_freeze *fz);
/* Lets the threads go on; fine on a freeze that holds nothing. */
void reach__thaw(struct reach_freeze *fz);

/*
 * Classifies blocks (disjoint, any order; sorted by address on return). The
 * roots are every readable, writable mapping of pid outside the blocks: data,
 * bss, the heap around the blocks, anonymous mappings; a thread's stack only
 * from its stack pointer up, where the pointer is known (from threads, or from
 * /proc/PID/task/TID/syscall for a thread blocked in the kernel). Of large
 * anonymous mappings, only pages present or swapped out are read. The
 * registers of threads are roots. When fz is given and holds the threads, it
 * is thawed once deadline_ns (CLOCK_MONOTONIC) passes, and the scan finishes
 * on the running process. 0 or a negative errno (-ESRCH: the process is gone).
 */
int reach__scan(pid_t pid, struct reach_block *blocks, size_t n,
		const struct reach_thread *threads, size_t nr_threads,
		struct reach_freeze *fz, uint64_t deadline_ns, struct reach_stats *stats);

#endif
