/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The live source of snapshots: the tracer's maps read into the model, symbolized. */
#ifndef LT_SNAP_SOURCE_H
#define LT_SNAP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <linux/types.h>

#include "leaktrace.h"
#include "snap_filter.h"
#include "snapshot.h"
#include "symbolize.h"

struct tracer;

/* What a snapshot is taken of: the tracer's maps, and the processes' symbols. */
struct snap_source;

struct snap_source *snap_source__new(struct tracer *t, struct symbolizer *syms,
				     const struct snap_filter *filter);
/* A process to report on; its name and executable are read now, while it lives. */
int snap_source__add_process(struct snap_source *src, pid_t pid);
/*
 * pid is stopped in its exit (run mode): it is reported as gone, and its
 * registers, when given, are roots of its scan.
 */
void snap_source__exiting(struct snap_source *src, pid_t pid, const struct user_regs_struct *regs);
/* The object pid's malloc family lives in (any path to it): its own frees are not misses. */
int snap_source__set_allocator(struct snap_source *src, pid_t pid, const char *path);
/*
 * Reads the traced processes from the BPF side (new ones under -a, exec
 * generations, exits); on_new, if given, is called for each process seen first.
 */
int snap_source__refresh(struct snap_source *src, void (*on_new)(void *arg, pid_t pid), void *arg);
/*
 * After a report: drops from the maps what exited processes (already reported
 * as exited) and images replaced by exec still held. O(allocations) when any.
 */
int snap_source__reap(struct snap_source *src);
/*
 * Run mode: pid is stopped in its exit (snap_source__exiting): its report is
 * taken now, alone (scanned when the snapshots scan), and kept; later
 * snapshots leave it out, its records go at the next reap.
 */
int snap_source__finish(struct snap_source *src, pid_t pid);
/* Adds the reports kept by snap_source__finish to snap (the final report). */
int snap_source__add_finished(struct snap_source *src, struct snapshot *snap);
/*
 * Whether the snapshots taken from now on also hold the processes that exited
 * and were reaped since (alive false, their figures when last reported): the final one.
 */
void snap_source__with_exited(struct snap_source *src, bool with);
/*
 * The agent's: at most keep exited processes kept for the final snapshot (the
 * largest), and the symbolized stacks of the others freed one reap after theirs, when no
 * snapshot taken since their end holds them: for weeks of processes that come and go.
 * Not for run mode, whose reports kept at each exit hold their frames.
 */
void snap_source__forget_exited(struct snap_source *src, size_t keep);
/* The processes it holds: traced ones, and ended ones until their last report. */
size_t snap_source__nr_processes(const struct snap_source *src);
/* Whether the snapshots taken from now on scan the processes (--scan, or a final report). */
void snap_source__set_scan(struct snap_source *src, bool scan);
struct kmem;
/*
 * --kernel: the snapshots also hold the kernel's allocations of k, as process
 * 0 ("kernel"), their stacks symbolized from /proc/kallsyms (read now).
 * Prints one error line and returns -errno.
 */
int snap_source__set_kernel(struct snap_source *src, struct kmem *k);
/* Reads the maps; 0 or a negative errno. */
int snap_source__take(struct snap_source *src, struct snapshot **out);
/*
 * The pure part of a snapshot: per-(process, stack) totals read at now_ns
 * into snap, with each stack's growth since the previous build, stacks and
 * processes largest first. With no tracer (tests) stacks have no frames.
 */
int snap_source__build(struct snap_source *src, const struct lt_total_key *keys,
		       const struct lt_total *vals, size_t n, uint64_t now_ns,
		       struct snapshot *snap);
void snap_source__free(struct snap_source *src);

#endif
