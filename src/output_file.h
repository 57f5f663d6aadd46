/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output files that are complete or absent: written to a new temporary file
 * next to the destination, every write checked, synced, then renamed over it.
 * The path "-" is standard output, written in place.
 */
#ifndef LT_OUTPUT_FILE_H
#define LT_OUTPUT_FILE_H

#include <stdbool.h>
#include <stdio.h>

struct output_file {
	FILE *f;	  /* write here */
	const char *path; /* the destination */
	char *tmp;	  /* the temporary file; NULL when writing path directly */
	int fd;
	int err; /* the first write's errno, 0 while all went well */
};

/* Whether path is "-", standard output. */
bool output_file__is_stdout(const char *path);
/* path as messages name it: "standard output" for "-". */
const char *output_file__name(const char *path);
/*
 * Whether path can be written, tried before the work that fills it: a file
 * created and removed in its directory (or, for a device like /dev/null, the
 * right to write it). 0 or a negative errno.
 */
int output_file__check(const char *path);
/*
 * Opens o->f for path: a new file (O_EXCL, so never through a planted symlink)
 * in path's directory, or path itself when it exists and is not a regular file
 * (/dev/null, a FIFO), or standard output for "-". 0 or a negative errno.
 */
int output_file__open(struct output_file *o, const char *path);
/*
 * With keep, checks every write, flushes, syncs and closes, and renames the
 * file over path; without keep (or on any failure) removes it. 0 or a negative
 * errno; path is then untouched.
 */
int output_file__close(struct output_file *o, bool keep);

#endif
