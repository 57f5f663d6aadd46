/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frames interned: one struct frame per distinct frame, which the stacks that
 * share it point to (most frames of a process's stacks are the same few hundred).
 */
#ifndef LT_FRAME_TABLE_H
#define LT_FRAME_TABLE_H

#include "frame.h"

struct arena;
struct frame_table;

/*
 * With an arena, the frames and their strings are copied into it and live as
 * long as it (the table may be freed first; frame_table__put does nothing);
 * without one, each frame lives while it has references, its strings the caller's.
 */
struct frame_table *frame_table__new(struct arena *a);
/*
 * A table whose callers hand it strings that are interned already (the
 * symbolizer's): equal only when the same string. Hashing a frame's strings
 * would cost more than the rest of a stack's symbolization.
 */
struct frame_table *frame_table__new_shared_strings(void);
/* The table's frame equal to fr (every field, strings by content), added when new; a reference. */
const struct frame *frame_table__get(struct frame_table *t, const struct frame *fr);
/*
 * Interned v[0..n): an array of n frames, from the table's arena, else malloc'd
 * (the caller puts each frame and frees it); NULL when out of memory or n is 0.
 */
const struct frame **frame_table__get_all(struct frame_table *t, const struct frame *v, int n);
/* Drops a reference frame_table__get gave; the frame goes with the last one. */
void frame_table__put(struct frame_table *t, const struct frame *fr);
/* The distinct frames held. */
size_t frame_table__count(const struct frame_table *t);
/* Frees the table and, without an arena, its frames; accepts NULL. */
void frame_table__free(struct frame_table *t);

#endif
