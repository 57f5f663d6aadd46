/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The JSON snapshot, schema version 1 (doc/leaktrace-snapshot.schema.json): its writer
 * (snapshot_json_write.c) and its reader (snapshot_json_read.c), side by side.
 */
#ifndef LT_SNAPSHOT_JSON_H
#define LT_SNAPSHOT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

/* The "lost" counters' names in the JSON snapshot, in the order they are written. */
struct lost_name {
	enum lost_counter counter;
	const char *name;
};

extern const struct lost_name snapshot_json__lost_names[NR_LOST];

/* Writes snap as JSON, every stack of every process. */
void snapshot_json__write(FILE *f, const struct snapshot *snap);

/*
 * Loads path ("-" for stdin) into *out, which owns all its strings (snapshot__free).
 * 0 or a negative errno; then err holds one line naming the file and what is wrong,
 * with the line and column for text that is not JSON: "x.json:3:17: ...".
 */
int snapshot_json__load(const char *path, struct snapshot **out, char *err, size_t err_size);
/* The same from text in memory; name is what errors call it. */
int snapshot_json__load_text(const char *text, const char *name, struct snapshot **out, char *err,
			     size_t err_size);

#endif
