// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: /proc/PID/maps text (paths are a target's own) through the maps parser. */
#include <stdint.h>
#include <stdio.h>

#include "procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procmaps *maps = NULL;
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (!procmaps__parse(f, &maps)) {
		for (size_t i = 0; i < maps->n; i++) {
			procmap__is_file(&maps->v[i]);
			procmaps__find(maps, maps->v[i].start);
			procmaps__find(maps, maps->v[i].end - 1);
		}
		procmaps__find(maps, 0);
		procmaps__free(maps);
	}
	fclose(f);
	return 0;
}
