/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Snapshots of many hosts combined into one, for a fleet's flamegraph or report. */
#ifndef LT_SNAPSHOT_MERGE_H
#define LT_SNAPSHOT_MERGE_H

#include <stddef.h>

#include "snapshot.h"

/*
 * One snapshot of n: processes with the same name and executable become one,
 * identical stacks (stack_match.h) are summed, and each merged process and stack
 * lists the (host, pid) it came from. *out owns everything (snapshot__free); the
 * inputs can be freed at once. 0 or -ENOMEM.
 */
int snapshot__merge(const struct snapshot *const *in, size_t n, struct snapshot **out);

#endif
