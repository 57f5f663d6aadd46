/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reports of a snapshot: the text a person reads, alone or ranked across a fleet. */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdio.h>

#include "snapshot.h"

/* Human-readable: a summary per process, then its top stacks with their frames. */
void report_text__write(FILE *f, const struct snapshot *snap, int top);
/* The line of what was not tracked (map full, stacks dropped, unmatched frees). */
void report_text__lost(FILE *f, const struct snapshot *snap);
/* A frame as the text reports show it: "function+0xoffset", or "[unknown]". */
const char *report_text__frame(const struct frame *fr, char *buf, size_t size);
/* What the text reports say under a stack whose walk was cut. */
extern const char report_text__cut[];
extern const char report_text__cut_pending[];

/* One stack of a merged snapshot in the fleet ranking. */
struct fleet_row {
	const struct proc_stat *proc;
	const struct stack_stat *stack;
	size_t nr_hosts;	/* distinct hosts among the stack's origins */
};

/*
 * report_fleet.c, the text of a merged snapshot: every stack of every process
 * once, however many hosts hold it; the suspects first (stack_stat__suspect, in
 * the order of stack_stat__cmp_suspicion), then the others, largest first.
 * *rows points into snap; free() it. 0 or -ENOMEM.
 */
int report_fleet__rank(const struct snapshot *snap, struct fleet_row **rows, size_t *nr);
/* The ranking's first top stacks, one line each, then their origins and frames. */
int report_fleet__write(FILE *f, const struct snapshot *snap, int top);

#endif
