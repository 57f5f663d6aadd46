/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The text report of a snapshot, the one a person reads. */
#ifndef LT_REPORT_TEXT_H
#define LT_REPORT_TEXT_H

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

#endif
