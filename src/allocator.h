/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which object's allocator functions a process calls, and where they are in the file. */
#ifndef LT_ALLOCATOR_H
#define LT_ALLOCATOR_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "leaktrace.h"

struct alloc_probe {
	const char *path;	/* the object, opened through /proc/PID/root; NULL: absent */
	uint64_t offset;	/* file offset of the function */
};

struct alloc_plan {
	char heap[PATH_MAX];	/* the object of the malloc family */
	char mmap[PATH_MAX];	/* the object of mmap/munmap: libc, or a static executable */
	struct alloc_probe probes[LT_NR_FUNCS];
};

/* The symbol name of an allocator function. */
const char *alloc_func__name(enum lt_func func);

/*
 * Plans the probes for a running process from its mappings: its executable
 * when that defines malloc (statically linked, or its own allocator), else a
 * mapped allocator library (jemalloc, tcmalloc, ...), else libc. Prints one
 * error line and returns a negative errno when there is none.
 */
int alloc_plan__for_pid(pid_t pid, struct alloc_plan *plan);
/*
 * Plans the probes for a process stopped right after exec, before its
 * libraries are mapped: the objects are those its dynamic loader will load,
 * in the order it resolves symbols.
 */
int alloc_plan__for_exec(pid_t pid, struct alloc_plan *plan);

#endif
