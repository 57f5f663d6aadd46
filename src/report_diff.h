/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What grew between two snapshots of the same processes, as a person reads it. */
#ifndef LT_REPORT_DIFF_H
#define LT_REPORT_DIFF_H

#include <stdio.h>

#include "snapshot.h"

/*
 * Per process (matched by name and executable), the stacks whose outstanding
 * bytes grew from old to new, most growth first (top at most), and what shrank
 * in one line. Names label the two snapshots. 0 or -ENOMEM.
 */
int report_diff__text(FILE *f, const struct snapshot *old, const char *old_name,
		      const struct snapshot *new, const char *new_name, int top);

#endif
