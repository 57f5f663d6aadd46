/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every output format behind one writer, so that -o and `leaktrace report` write the same. */
#ifndef LT_EXPORT_H
#define LT_EXPORT_H

#include <stdio.h>

#include "format.h"
#include "snapshot.h"

/* Writes snap in fmt (format.c's writer; --lost's view where asked); 0 or a negative errno. */
int export__write(FILE *f, const struct snapshot *snap, enum lt_format fmt,
		  const struct export_opts *opts);
/*
 * `report --diff --format folded`: old's and new's stacks, mappings weighed by
 * their resident pages unless opts->reserved, as flamegraphs weigh them.
 */
int export__write_folded_diff(FILE *f, const struct snapshot *old, const struct snapshot *new,
			      const struct export_opts *opts);
/*
 * Writes what `leaktrace report` writes from snap once saved as JSON: through the
 * JSON text and back (times in whole seconds, numbers to 3 decimals), so that
 * trace mode's -o FILE and a report of its saved snapshot are the same bytes.
 */
int export__write_saved(FILE *f, const struct snapshot *snap, enum lt_format fmt,
			const struct export_opts *opts);

#endif
