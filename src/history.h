/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's history: one JSON line per snapshot (the top stacks and the largest processes),
 * in a ring of a fixed number of lines, for /history.ndjson and the live page's timeline.
 */
#ifndef LT_HISTORY_H
#define LT_HISTORY_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

/* Processes in a line, the largest first. */
#define HISTORY_MAX_PROCS 20

struct history;

/* A ring of cap lines (cap >= 1); 0 or -ENOMEM. */
int history__new(size_t cap, struct history **out);
void history__free(struct history *h);
/* Takes line (malloc'd, without '\n'); the oldest goes when the ring is full. */
void history__push(struct history *h, char *line);
size_t history__len(const struct history *h);
/* The lines, oldest first, each ended by '\n'. */
void history__write(const struct history *h, FILE *f);
/*
 * snap's line: {"t": unix seconds, "processes": [{"pid", "comm", "bytes", "allocs"}],
 * "stacks": [{"pid", "comm", "function", "module", "bytes", "growth_bytes_per_s", "suspect"}]}
 * with the top stacks (top_stacks__collect). *out is malloc'd; 0 or -ENOMEM.
 */
int history__line(const struct snapshot *snap, int top, char **out);

#endif
