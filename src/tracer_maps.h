/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tracer's maps from user space: batched reads and deletes, the block slots read safely. */
#ifndef LT_TRACER_MAPS_H
#define LT_TRACER_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "leaktrace.h"

struct mapping_events;
struct symbolizer;
struct tracer;

/* Whether the records of (tgid, gen) are stale: they may be dropped. */
typedef bool (*tracer_maps_stale_fn)(void *arg, __u32 tgid, __u32 gen);

/* The traced processes (the targets map): their tgids and state; the arrays are malloc'ed. */
int tracer_maps__targets(struct tracer *t, __u32 **tgids, struct lt_target **vals, size_t *n);
/* One traced process's state; 0, or -ENOENT when it has no entry. */
int tracer_maps__target(struct tracer *t, pid_t pid, struct lt_target *val);
/* The per-(process, stack) totals; the arrays are malloc'ed. */
int tracer_maps__totals(struct tracer *t, struct lt_total_key **keys, struct lt_total **vals,
			size_t *n);
/* The frees that matched no block, counted per (process, call site). */
int tracer_maps__unmatched(struct tracer *t, struct lt_alloc_key **sites, uint64_t **counts,
			   size_t *n);
/* The addresses of a stack; 0, or -ENOENT when the stack map has none under stack_id. */
int tracer_maps__stack(struct tracer *t, __u64 stack_id, struct lt_stack *out);
/* The records of every outstanding block: the allocs hash's and the block slots'. */
int tracer_maps__records(struct tracer *t, struct lt_alloc_key **keys, struct lt_alloc **vals,
			 size_t *n);
/* The recorded anonymous mappings: their starts and ends (the mmaps hash, O(mappings)). */
int tracer_maps__mappings(struct tracer *t, struct lt_alloc_key **keys, __u64 **ends, size_t *n);
/* The record of the block at key now (slot or hash); 0, or -ENOENT when there is none. */
int tracer_maps__record_now(struct tracer *t, const struct lt_alloc_key *key, struct lt_alloc *rec);
/* Deletes the stale totals. */
int tracer_maps__drop_stale_totals(struct tracer *t, tracer_maps_stale_fn stale, void *arg);
/*
 * Deletes the stale records: the block slots' (freed), then allocs', mmaps' and the
 * unmatched frees' keys. O(allocations).
 */
int tracer_maps__drop_stale_records(struct tracer *t, tracer_maps_stale_fn stale, void *arg);
/*
 * Deletes the recorded stacks no total names any more (those of exited processes):
 * without it the map fills over weeks of processes that come and go, and new stacks
 * are dropped. One pass over the map's keys.
 */
int tracer_maps__drop_unused_stacks(struct tracer *t);
/* The stack ids the totals of a map name, in any order, malloc'ed: 0 or a negative errno. */
typedef int (*tracer_maps_named_fn)(void *arg, __u64 **ids, size_t *n);
/*
 * Deletes the stacks of the hash at fd (__u64 keys, values of value_size) whose ids
 * named() does not give, and puts back those a total came to name meanwhile.
 */
int tracer_maps__drop_unnamed(int fd, size_t value_size, tracer_maps_named_fn named, void *arg);
/* Stops reporting tgid: its entry in the targets map goes. */
void tracer_maps__forget_target(struct tracer *t, __u32 tgid);
/*
 * Reads the mappings captured as processes make them (-a) into syms: *out, or
 * NULL when none are captured; 0 or a negative errno.
 */
int tracer_maps__mapping_events(struct tracer *t, struct symbolizer *syms,
				struct mapping_events **out);
/* Captured mappings the ring buffer had no room for, since the start. */
uint64_t tracer_maps__mapping_events_lost(const struct tracer *t);

#endif
