/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Folded stacks: one line per stack, "comm;outermost;...;caller_of_malloc VALUE",
 * sorted, equal lines summed: what flamegraph.pl, inferno and speedscope read.
 */
#ifndef LT_EXPORT_FOLDED_H
#define LT_EXPORT_FOLDED_H

#include <stdbool.h>
#include <stdio.h>

#include "snapshot.h"

int export_folded__write(FILE *f, const struct snapshot *snap, bool counts, bool lines);
/* Differential folded stacks, "stack OLD NEW" (flamegraph.pl and inferno's diff input). */
int export_folded__diff(FILE *f, const struct snapshot *old, const struct snapshot *new,
			bool counts);

#endif
