/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reads a saved JSON snapshot (schema version 1) back into a struct snapshot. */
#ifndef LT_SNAPSHOT_LOAD_H
#define LT_SNAPSHOT_LOAD_H

#include <stddef.h>

#include "snapshot.h"

/*
 * Loads path ("-" for stdin) into *out, which owns all its strings (snapshot__free).
 * 0 or a negative errno; then err holds one line naming the file and what is wrong,
 * with the line and column for text that is not JSON: "x.json:3:17: ...".
 */
int snapshot__load(const char *path, struct snapshot **out, char *err, size_t err_size);
/* The same from text in memory; name is what errors call it. */
int snapshot__load_text(const char *text, const char *name, struct snapshot **out, char *err,
			size_t err_size);

#endif
