/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* /proc/PID/maps: which file backs which address range of a process. */
#ifndef LT_PROCMAPS_H
#define LT_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct procmap {
	uint64_t start;
	uint64_t end;
	uint64_t offset; /* file offset of start */
	uint64_t inode;
	unsigned int dev_major;
	unsigned int dev_minor;
	bool readable, writable, executable, shared;
	char *path; /* as the process sees it; "" for anonymous, "[heap]" etc. */
};

struct procmaps {
	struct procmap *v;
	size_t n;
};

/* Parses one line of a maps file; returns 0 or -EINVAL. m->path is malloc'ed. */
int procmaps__parse_line(const char *line, struct procmap *m);
/* Reads all of a maps file; returns 0 or a negative errno. */
int procmaps__parse(FILE *f, struct procmaps **out);
/* Reads /proc/PID/maps; -ENOENT (or -ESRCH) when the process is gone. */
int procmaps__read(pid_t pid, struct procmaps **out);
/* The mapping that holds addr, or NULL. */
const struct procmap *procmaps__find(const struct procmaps *maps, uint64_t addr);
/*
 * The first line of /proc/PID/FILE ("comm"), without its newline, in buf;
 * buf is left as it was when the file cannot be read. 0 or a negative errno.
 */
int proc__read_line(pid_t pid, const char *file, char *buf, size_t size);
/* Where /proc/PID/exe points, in buf; 0, or a negative errno (also for a zombie). */
int proc__exe(pid_t pid, char *buf, size_t size);

/* Fields 27 and 28 of /proc/PID/stat (endcode, startstack): which image the process runs. */
int proc__image(pid_t pid, uint64_t *end_code, uint64_t *start_stack);
/*
 * Adds a copy of m to maps, kept sorted; the mappings m overlaps go (a new
 * mmap over them). 0, -EINVAL for an empty range, or -ENOMEM (maps unchanged).
 */
int procmaps__insert(struct procmaps *maps, const struct procmap *m);
/* A deep copy of from (NULL: an empty one) into *out; 0 or -ENOMEM. */
int procmaps__dup(const struct procmaps *from, struct procmaps **out);
/* True for a mapping of a regular file (not anonymous, not [heap], [vdso], ...). */
bool procmap__is_file(const struct procmap *m);
void procmaps__free(struct procmaps *maps);

#endif
