/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Exports of a snapshot for the tools developers use: folded stacks, SVG flamegraph, pprof. */
#ifndef LT_EXPORT_H
#define LT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "snapshot.h"

struct export_opts {
	int top;		/* text: stacks per process */
	bool counts;		/* folded: allocation counts instead of outstanding bytes */
	bool lost;		/* folded, svg: only what a scan found lost (--lost) */
	bool lines;		/* folded: frames with their source line (--lines) */
};

/* export.c: formats by name and by file extension, and the one writer behind -o and report. */
extern const char export__format_list[];	/* "json, text, folded, svg or pprof" */
/* A --format name; 0 or -EINVAL (nothing printed). */
int export__format_by_name(const char *name, enum lt_format *out);
/* From path's extension: .json .txt .folded .svg .pb.gz; 0 or -EINVAL (nothing printed). */
int export__format_by_path(const char *path, enum lt_format *out);
/* Writes snap in fmt; 0 or a negative errno. */
int export__write(FILE *f, const struct snapshot *snap, enum lt_format fmt,
		  const struct export_opts *opts);
/*
 * Writes what `leaktrace report` writes from snap once saved as JSON: through the
 * JSON text and back (times in whole seconds, numbers to 3 decimals), so that
 * trace mode's -o FILE and a report of its saved snapshot are the same bytes.
 */
int export__write_saved(FILE *f, const struct snapshot *snap, enum lt_format fmt,
			const struct export_opts *opts);
/* True when some stack of snap was scanned: --lost has something to show. */
bool export__has_verdicts(const struct snapshot *snap);
/* A frame as exports name it: its function, else "[module basename]", else "[unknown]". */
const char *export__frame_name(const struct frame *fr, char *buf, size_t size);
/* The same with the source line where it is known: "fn (file.c:LINE)". */
const char *export__frame_label(const struct frame *fr, char *buf, size_t size);
/* The last component of a path ("" for NULL). */
const char *export__basename(const char *path);

/*
 * export_folded.c: one line per stack, "comm;outermost;...;caller_of_malloc VALUE",
 * sorted, equal lines summed: what flamegraph.pl, inferno and speedscope read.
 */
int export_folded__write(FILE *f, const struct snapshot *snap, bool counts, bool lines);
/* Differential folded stacks, "stack OLD NEW" (flamegraph.pl and inferno's diff input). */
int export_folded__diff(FILE *f, const struct snapshot *old, const struct snapshot *new,
			bool counts);

/* export_svg.c: a self-contained interactive flamegraph of the outstanding bytes. */
int export_svg__write(FILE *f, const struct snapshot *snap);

/* export_pprof.c: a gzip-compressed profile.proto heap profile (inuse_space, inuse_objects). */
int export_pprof__write(FILE *f, const struct snapshot *snap);
/* The profile.proto bytes before compression, to free(); 0 or -ENOMEM. */
int export_pprof__encode(const struct snapshot *snap, unsigned char **out, size_t *len);

#endif
