/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the live source's snapshots hold and how they are taken: the options that shape them. */
#ifndef LT_SNAP_FILTER_H
#define LT_SNAP_FILTER_H

#include <stdbool.h>
#include <stdint.h>

struct snap_filter {
	double older;	   /* only allocations at least this many seconds old */
	uint64_t min_size; /* with older: the size filter the probes apply */
	uint64_t max_size;
	bool busy_only;	       /* -a: only processes that hold memory are reported */
	uint64_t sample_bytes; /* --sample-bytes: totals are estimates from samples */
	bool scan;	       /* --scan: tell lost blocks from reachable ones */
	double scan_freeze;    /* --scan-freeze: seconds a process may be held for its scan */
	bool verbose;	       /* -v: what each scan cost, on stderr */
};

#endif
