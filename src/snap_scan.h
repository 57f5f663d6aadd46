/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* --scan of the live source's processes: a verdict per record. */
#ifndef LT_SNAP_SCAN_H
#define LT_SNAP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "leaktrace.h"

struct snap_source;

/*
 * A verdict (enum reach_state) per record of keys/vals, -1 where the process
 * could not be scanned; 0 or -ENOMEM.
 */
int snap_scan__records(struct snap_source *src, const struct lt_alloc_key *keys,
		       const struct lt_alloc *vals, size_t n, int8_t *verdict);

#endif
