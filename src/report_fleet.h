/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The text of a merged snapshot: its stacks ranked across the fleet's hosts. */
#ifndef LT_REPORT_FLEET_H
#define LT_REPORT_FLEET_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

/* One stack of a merged snapshot in the fleet ranking. */
struct fleet_row {
	const struct proc_stat *proc;
	const struct stack_stat *stack;
	size_t nr_hosts; /* distinct hosts among the stack's origins */
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
