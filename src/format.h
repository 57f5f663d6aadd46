/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The output formats, one table (format.c): each format's name, file extension,
 * writer and what it supports. Options, help text and errors are made from it.
 */
#ifndef LT_FORMAT_H
#define LT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "snapshot.h"

enum lt_format {
	LT_FORMAT_NONE, /* from the output file's extension */
	LT_FORMAT_TEXT,
	LT_FORMAT_JSON,
	LT_FORMAT_FOLDED,
	LT_FORMAT_SVG,
	LT_FORMAT_PPROF,
};

/* What the writers are asked for, beside the snapshot. */
struct export_opts {
	int top;       /* text: stacks per process */
	bool counts;   /* folded: allocation counts instead of outstanding bytes */
	bool lost;     /* folded, svg: only what a scan found lost (--lost) */
	bool lines;    /* folded: frames with their source line (--lines) */
	bool reserved; /* flamegraphs: mappings by what they reserve, not their resident pages */
};

/* What a format supports, beside writing a snapshot: bits of struct format's flags. */
enum format_flags {
	FORMAT_DIFF = 1,   /* `report --diff` writes it */
	FORMAT_LOST = 2,   /* --lost: the view of what a scan found lost */
	FORMAT_BINARY = 4, /* not for a terminal */
	FORMAT_HELD = 8,   /* mappings weighed by their resident pages (--reserved: reserved) */
};

struct format {
	enum lt_format id;
	const char *name;   /* --format NAME */
	const char *ext;    /* the extension of -o FILE that chooses it */
	const char *help;   /* what reads it, for --help */
	unsigned int flags; /* FORMAT_* */
	int (*write)(FILE *f, const struct snapshot *snap, const struct export_opts *opts);
};

/* The row of id (LT_FORMAT_NONE: text's). */
const struct format *format__get(enum lt_format id);
/* A --format name; 0 or -EINVAL (nothing printed). */
int format__by_name(const char *name, enum lt_format *out);
/* From path's extension (.json .txt ...); 0 or -EINVAL (nothing printed). */
int format__by_path(const char *path, enum lt_format *out);
/* Whether id's row has all of flags (FORMAT_*). */
bool format__has(enum lt_format id, unsigned int flags);
/*
 * For messages: the names of the formats that have all of flags (0: every format),
 * "json, text, folded, svg or pprof"; with ext, their extensions instead.
 */
const char *format__list(char *buf, size_t size, unsigned int flags, bool ext);
/*
 * --help's lines under --format: one per format, its name, extension and what
 * reads it; then, for each of notes (FORMAT_DIFF, FORMAT_LOST), the formats that have it.
 */
void format__help(FILE *f, unsigned int notes);

#endif
