/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* An arena: many small allocations (strings, frames) freed at once, for snapshots it owns. */
#ifndef LT_ARENA_H
#define LT_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena__new(void);
/* size bytes, zeroed and aligned for any type; NULL when out of memory. */
void *arena__alloc(struct arena *a, size_t size);
/* A copy of s (NULL for NULL); NULL when out of memory. */
char *arena__strdup(struct arena *a, const char *s);
/* Frees everything allocated from a; accepts NULL. */
void arena__free(struct arena *a);

#endif
