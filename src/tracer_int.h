/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tracer's raw maps and block slots, for tracer.c and tracer_maps.c only:
 * the rest of user space reaches them through tracer_maps.h, which keeps the
 * slots' protocol (tools/check-includes enforces it).
 */
#ifndef LT_TRACER_INT_H
#define LT_TRACER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "leaktrace.h"

struct tracer;

/* The maps' fds. */
int tracer__allocs_fd(const struct tracer *t);
int tracer__totals_fd(const struct tracer *t);
int tracer__stacks_fd(const struct tracer *t);
int tracer__unmatched_fd(const struct tracer *t);
int tracer__targets_fd(const struct tracer *t);
int tracer__mmaps_fd(const struct tracer *t);
/* The number of block slots (0 without them): they hold the records not in allocs. */
size_t tracer__nr_blocks(const struct tracer *t);
/*
 * The block slots from i on, mapped a window at a time so that leaktrace's RSS
 * does not grow with them: *n of them, valid until the next call of this or
 * tracer__block_slot(). NULL (errno set) past the last one or when the mapping
 * failed.
 */
struct lt_block_slot *tracer__blocks_at(struct tracer *t, size_t i, size_t *n);
/*
 * The j-th slot (j < LT_BLOCK_PROBES) the block at key may take, whatever it
 * holds, valid as above; NULL without slots. The first counts its blocks in allocs.
 */
struct lt_block_slot *tracer__block_slot(struct tracer *t, const struct lt_alloc_key *key, __u32 j);
/* User space deleted these n records from allocs: their first slots count them no more. */
void tracer__hash_dropped(struct tracer *t, const struct lt_alloc_key *keys,
			  const struct lt_alloc *recs, size_t n);
/* The ring buffer of captured mappings (struct lt_map_event), or -1 when none are captured. */
int tracer__map_events_fd(const struct tracer *t);
/* Captured mappings the ring buffer had no room for, since the start. */
uint64_t tracer__map_events_lost(const struct tracer *t);

#endif
