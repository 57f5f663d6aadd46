/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tracer's maps from user space: batched reads and deletes, the block slots read safely. */
#ifndef LT_TRACER_MAPS_H
#define LT_TRACER_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "leaktrace.h"

struct tracer;

/* Whether the records of (tgid, gen) are stale: they may be dropped. */
typedef bool (*tracer_maps_stale_fn)(void *arg, __u32 tgid, __u32 gen);

/* Reads a whole hash map with batched lookups; the arrays are malloc'ed. */
int tracer_maps__read_all(int fd, size_t key_size, size_t value_size, void **keys, void **values,
			  size_t *n);
/* The records of every outstanding block: the allocs hash's and the block slots'. */
int tracer_maps__records(struct tracer *t, struct lt_alloc_key **keys, struct lt_alloc **vals,
			 size_t *n);
/* The record of the block at key now (slot or hash); 0, or -ENOENT when there is none. */
int tracer_maps__record_now(struct tracer *t, const struct lt_alloc_key *key, struct lt_alloc *rec);
/* Frees the block slots holding stale records. */
void tracer_maps__drop_stale_slots(struct tracer *t, tracer_maps_stale_fn stale, void *arg);
/*
 * Deletes the keys of a map whose (tgid, gen) head says they are stale; allocs
 * says the map is allocs, whose records the block slots count.
 */
int tracer_maps__drop_stale(struct tracer *t, int fd, size_t key_size, size_t value_size,
			    bool allocs, tracer_maps_stale_fn stale, void *arg);

#endif
