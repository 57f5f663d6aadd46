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
	REACH_REACHABLE, /* a chain of pointers from the roots leads to it */
	REACH_LOST,	 /* nothing points to it: valgrind's "definitely lost" */
	REACH_INDIRECT,	 /* only lost blocks point to it: "indirectly lost" */
	REACH_POSSIBLE,	 /* reached through interior pointers only: "possibly lost" */
	REACH_NR_STATES,
};

struct reach_block {
	uint64_t addr;
	uint64_t size;
	uint64_t tag;		/* the caller's, kept */
	enum reach_state state; /* the verdict */
	bool region;		/* a mapping the program made itself: its contents are roots */
};

/* A thread whose registers are known (stopped by ptrace): they are roots too. */
struct reach_thread {
	pid_t tid;
	struct user_regs_struct regs;
};

/* Threads held stopped for a scan (--scan-freeze), by a helper process. */
struct reach_freeze {
	struct reach_thread *threads; /* those that stopped */
	size_t nr_threads;
	size_t nr_running; /* those that did not stop in time (asleep in the kernel) */
	bool held;
	pid_t helper;	   /* the tracer that holds them, or 0; its end lets them go */
	int fd;		   /* to the helper, while there is one */
	uint64_t since_ns; /* CLOCK_MONOTONIC when the first thread was stopped */
	uint64_t held_ns;  /* how long they were held, once thawed */
};

/* How the roots are told from the allocator's memory. */
enum reach_roots {
	REACH_ROOTS_CONSERVATIVE, /* the heap around the known blocks is roots */
	REACH_ROOTS_GLIBC,	  /* ... but glibc's free chunks, by their headers, are not */
	REACH_ROOTS_EXACT,	  /* every live block is known: the allocator's memory is none */
};

struct reach_stats {
	uint64_t bytes_read;	/* of the target's memory */
	uint64_t bytes_skipped; /* anonymous memory that holds no page (or is a reservation) */
	uint64_t ns;
	size_t threads_bounded; /* threads whose stack was scanned from their sp only */
	bool thawed_early;	/* the freeze limit ran out during the scan */
	bool heap_walked;	/* REACH_ROOTS_GLIBC: [heap]'s chunks were told apart to its end */
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
 * bss, the heap around the blocks, anonymous mappings, the contents of region
 * blocks. With REACH_ROOTS_EXACT (every live block of the allocator is among
 * the blocks), not the allocator's own memory: [heap] and anonymous mappings
 * that hold a block are read only where blocks are. With REACH_ROOTS_GLIBC,
 * [heap] is read by glibc's chunk headers: chunks in use that are no block
 * (older than the attach) are roots, free ones (and those in the first
 * thread's tcache) are not; a header that makes no sense ends the walk, and
 * the rest is read as roots. A thread's stack only from its stack
 * pointer up, where the pointer is known (from threads, or from
 * /proc/PID/task/TID/syscall for a thread blocked in the kernel); where every
 * live thread is known (exact roots, or fz), a thread stack no live thread runs on
 * only from its static TLS up, as glibc's thread descriptor on top tells. Of large
 * anonymous mappings, only pages present or swapped out are read. The
 * registers of threads are roots. When fz is given and holds the threads, it
 * is thawed once deadline_ns (CLOCK_MONOTONIC) passes, and the scan finishes
 * on the running process; it is thawed anyway once every reachable block is
 * marked: what is left unreached the process cannot touch. A pointer to a
 * block's start reaches it; one into its middle only "possibly", unless it is
 * one that C++ or a length prefix makes (valgrind's heuristics newarray,
 * stdstring, length64, multipleinheritance). 0 or a negative errno (-ESRCH:
 * the process is gone).
 */
int reach__scan(pid_t pid, struct reach_block *blocks, size_t n, const struct reach_thread *threads,
		size_t nr_threads, struct reach_freeze *fz, uint64_t deadline_ns,
		enum reach_roots roots, struct reach_stats *stats);

/*
 * Confirms a scan of the running process, holding it (fz, already frozen) at
 * most until deadline_ns, then letting it go: blocks hold that scan's
 * verdicts. Memory is read again with the reachable blocks as roots, and a
 * block not reached then is beyond the process's reach for good (it stays
 * lost, indirect or possible); one that any pointer reaches now (a pointer
 * that moved while the first scan read) becomes reachable. Cheaper than a
 * scan: few blocks, no verdicts to tell apart.
 */
int reach__confirm(pid_t pid, struct reach_block *blocks, size_t n, struct reach_freeze *fz,
		   uint64_t deadline_ns, enum reach_roots roots, struct reach_stats *stats);

#endif
