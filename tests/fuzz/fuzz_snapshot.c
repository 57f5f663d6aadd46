// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a saved snapshot (what a fleet host sends) through the loader, then
 * every writer of `leaktrace report`: each format, --merge (with itself) and --diff.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "export.h"
#include "export_folded.h"
#include "report_text.h"
#include "report_diff.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

static void write_all(const struct snapshot *snap)
{
	static const enum lt_format formats[] = { LT_FORMAT_JSON, LT_FORMAT_TEXT, LT_FORMAT_FOLDED,
						  LT_FORMAT_SVG, LT_FORMAT_PPROF };
	struct export_opts opts = { .top = 5 };

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		export__write(sink(), snap, formats[i], &opts);
	opts.lost = true;
	opts.counts = true;
	export__write(sink(), snap, LT_FORMAT_SVG, &opts);
	export__write(sink(), snap, LT_FORMAT_FOLDED, &opts);
	report_text__write(sink(), snap, 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *snap = NULL, *merged = NULL;
	const struct snapshot *two[2];
	char *text = malloc(size + 1), err[512];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (snapshot_json__load_text(text, "fuzz.json", &snap, err, sizeof(err))) {
		free(text);
		return 0;
	}
	demangle__snapshot(snap);
	write_all(snap);
	two[0] = two[1] = snap;
	report_diff__text(sink(), snap, "a", snap, "b", 5);
	export_folded__diff(sink(), snap, snap, false);
	if (!snapshot__merge(two, 2, &merged)) {
		write_all(merged);
		report_diff__text(sink(), snap, "a", merged, "b", 5);
	}
	snapshot__free(merged);
	snapshot__free(snap);
	free(text);
	return 0;
}
