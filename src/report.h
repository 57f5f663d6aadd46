/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reports of a snapshot: the text a person reads, and JSON schema v1 for tools. */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdio.h>

#include "snapshot.h"

/* The "lost" counters' names in the JSON snapshot, in the order they are written. */
struct lost_name {
	enum lt_counter counter;
	const char *name;
};

extern const struct lost_name report_json__lost_names[LT_NR_LOST];

/* Human-readable: a summary per process, then its top stacks with their frames. */
void report_text__write(FILE *f, const struct snapshot *snap, int top);
/* JSON snapshot, schema version 1 (shared/DESIGN.md): every stack of every process. */
void report_json__write(FILE *f, const struct snapshot *snap);

#endif
