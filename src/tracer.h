/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF side from user space: load the programs, attach them to processes, detach. */
#ifndef LT_TRACER_H
#define LT_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "allocator.h"
#include <linux/types.h>

#include "leaktrace.h"

struct tracer;

struct tracer_opts {
	uint64_t max_allocs;
	uint64_t max_stacks;
	uint64_t min_size;
	uint64_t max_size;
	bool follow_new;       /* -a: trace every process that execs from now on */
	bool follow_children;  /* -a, run mode: a traced process's children are traced */
	const char *comm;      /* --comm: only processes of this name, or NULL */
	uint64_t sample_bytes; /* --sample-bytes: mean bytes between samples, 0 for exact */
	uint64_t sample_seed;
	enum lt_unwind_mode unwind; /* --unwind */
	uint64_t max_unwind_rows;   /* --max-unwind-mb, in rows */
	/*
	 * New mappings (for the unwinder, the mapping capture) are caught by
	 * uprobes after the mmap system call of each target's loader and C library.
	 * Where a file has no such site: true, the hook on every system call's exit
	 * (run mode, -a: ~0.2 us each on the whole host); false, every target's
	 * mappings are read again each tick.
	 */
	bool sys_exit_fallback;
	/*
	 * -a: traced processes' executable file mappings are sent as they are made
	 * (exec with 5.17+, mmap, fork), for the processes gone before their
	 * /proc/PID/maps is read.
	 */
	bool capture_mappings;
	bool verbose;
};

/* --sample-bytes: the tables of a BPF side (leaktrace.h), fixed point 1/65536. */
void tracer__sampling_tables(volatile __u32 *exp_draws, volatile __u32 *est_steps);
/* Checks the kernel, loads the programs; prints one error line and returns -errno. */
int tracer__new(const struct tracer_opts *opts, struct tracer **out);
/*
 * Traces pid. from_start: it is traced since exec, so every free must match an
 * allocation. (Under -a, BPF itself adds the processes that exec or fork later.)
 */
int tracer__add_target(struct tracer *t, pid_t pid, bool from_start);
/*
 * Probes the planned functions for pid, or with pid -1 for every process on
 * the host (each function once). Prints one error line on failure.
 */
int tracer__probe(struct tracer *t, pid_t pid, const struct alloc_plan *plan);
/*
 * fork: child's memory is a copy of parent's, so are its records (parent
 * stopped in its fork, child before its first instruction). -ENOSPC when a
 * map was full and some could not be copied.
 */
int tracer__inherit(struct tracer *t, pid_t parent, pid_t child);
/*
 * pid is gone: its probes are closed at the next flush, and a new process with
 * its pid gets probes of its own. Closing waits for the kernel (~150 ms): a
 * flush closes them side by side on a thread of its own, tracer__free waits.
 */
void tracer__forget(struct tracer *t, pid_t pid);
/* Every process with probes of its own that has ended is forgotten (the agent's --comm). */
void tracer__forget_ended(struct tracer *t);
/* New processes BPF could not add to the map of targets since the start (it was full). */
uint64_t tracer__targets_full(const struct tracer *t);
void tracer__flush(struct tracer *t);
/*
 * --unwind=dwarf: builds the unwind table of a file the target will map
 * (run mode: before its loader maps it); refreshes the mappings of processes
 * whose mappings changed (dlopen, -a's new processes) and drops those of
 * processes gone. Both do nothing in the other modes.
 */
int tracer__unwind_file(struct tracer *t, const char *path);
/* Run mode, at pid's exec: the tables of every object of the plan, before the image runs. */
int tracer__unwind_exec(struct tracer *t, pid_t pid, const struct alloc_plan *plan);
void tracer__unwind_refresh(struct tracer *t);
/* -v: the unwind tables' objects, rows and budget, and their build time. */
void tracer__unwind_print(struct tracer *t);
/*
 * -p: waits for the tables of the processes added (tracer__add_target builds
 * them while their probes go live); 0, or -errno after one error line.
 */
int tracer__unwind_wait(struct tracer *t);
/* Removes every probe at once; the maps stay readable for a last snapshot. */
void tracer__detach(struct tracer *t);
/* Detaches everything and frees; NULL is fine. */
void tracer__free(struct tracer *t);

/* Sums the per-CPU counters into c[LT_NR_COUNTERS]. */
int tracer__counters(const struct tracer *t, uint64_t *c);
/* The sums over CPUs of a per-CPU array of n __u64 counters (the map fd), into sums[n]. */
int tracer__percpu_sums(int fd, uint32_t n, uint64_t *sums);
/* Bytes of kernel memory the maps are charged for (their memlock). */
uint64_t tracer__map_memory(const struct tracer *t);
/*
 * Time spent in its BPF programs since they were loaded, as the kernel counts it while
 * run-time statistics are on (bpf_enable_stats, or kernel.bpf_stats_enabled); 0 or -errno.
 */
int tracer__run_ns(const struct tracer *t, uint64_t *ns);
/* CLOCK_MONOTONIC nanoseconds, the clock of the allocation timestamps. */
uint64_t tracer__now_ns(void);

#endif
