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
	bool follow_new;	/* -a: trace every process that execs from now on */
	bool follow_children;	/* -a: a traced process's children are traced */
	const char *comm;	/* --comm: only processes of this name, or NULL */
	bool verbose;
};

/* Checks the kernel, loads the programs; prints one error line and returns -errno. */
int tracer__new(const struct tracer_opts *opts, struct tracer **out);
/*
 * Probes pid's allocator as planned. from_start: the process is traced since
 * exec, so every free must match an allocation. Prints one error line on failure.
 */
int tracer__attach(struct tracer *t, pid_t pid, const struct alloc_plan *plan, bool from_start);
/* -a: traces pid, which is already running (a process that execs later is traced by BPF). */
int tracer__add_target(struct tracer *t, pid_t pid);
/* -a: probes the planned objects for every process on the host, once per function. */
int tracer__attach_all(struct tracer *t, const struct alloc_plan *plan);
/* Detaches everything and frees; NULL is fine. */
void tracer__free(struct tracer *t);

/* The maps, for snapshots. */
int tracer__allocs_fd(const struct tracer *t);
int tracer__totals_fd(const struct tracer *t);
int tracer__stacks_fd(const struct tracer *t);
int tracer__unmatched_fd(const struct tracer *t);
int tracer__targets_fd(const struct tracer *t);
int tracer__mmaps_fd(const struct tracer *t);
/* Sums the per-CPU counters into c[LT_NR_COUNTERS]. */
int tracer__counters(const struct tracer *t, uint64_t *c);
/* Bytes of kernel memory the maps are charged for (their memlock). */
uint64_t tracer__map_memory(const struct tracer *t);
/* CLOCK_MONOTONIC nanoseconds, the clock of the allocation timestamps. */
uint64_t tracer__now_ns(void);

#endif
