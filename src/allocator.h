/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which object's allocator functions a process calls, and where they are in the file. */
#ifndef LT_ALLOCATOR_H
#define LT_ALLOCATOR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "leaktrace.h"

/* The most probes one plan holds: the malloc family, jemalloc's extras, C++'s new and delete. */
#define LT_MAX_PROBES 48

struct alloc_probe {
	const char *path;  /* the object, opened through /proc/PID/root or map_files */
	const char *name;  /* the symbol probed */
	enum lt_func func; /* what its BPF program does: mallocx is a malloc */
	uint64_t offset;   /* file offset of the function */
	/*
	 * File offset of the entry probe: the function's first instruction the
	 * running kernel emulates rather than single-steps, where that is provably
	 * safe (arch.h), else offset. The arguments are still in their registers
	 * there, and the stack pointer is as at the entry: the return probe shares
	 * the site, and free's probe finds the return address as at the entry. free may skip its
	 * own NULL check.
	 */
	uint64_t probe_offset;
};

struct alloc_plan {
	char heap[PATH_MAX]; /* the object of the malloc family */
	char mmap[PATH_MAX]; /* the object of mmap/munmap: libc, or a static executable */
	char cxx[PATH_MAX];  /* the object of C++'s operator new and delete, or "" */
	/* The dynamic loader (it maps the libraries), or "". */
	char interp[PATH_MAX];
	struct alloc_probe probes[LT_MAX_PROBES];
	int nr_probes;
	/*
	 * The allocator is LeakSanitizer's (ASan, LSan): it ptraces its own
	 * threads at exit, which fails while another tracer holds the process.
	 */
	bool lsan;
	/* alloc_plan__for_exec: the objects the exec will map (the loader's list, the loader). */
	char **objects;
	int nr_objects;
};

/* Frees what a plan holds (its objects); the plan stays usable. */
void alloc_plan__release(struct alloc_plan *plan);

/*
 * Plans the probes for a running process from its mappings: its executable
 * when that defines malloc (statically linked, or its own allocator), else a
 * mapped allocator library (jemalloc, tcmalloc, ...), else libc. Prints one
 * error line and returns a negative errno when there is none.
 */
int alloc_plan__for_pid(pid_t pid, struct alloc_plan *plan);

/*
 * The plan of a running process made on a thread of its own while the caller
 * does other work (a start loads the BPF programs meanwhile), silently: NULL
 * when no thread could start.
 */
struct alloc_plan_ahead *alloc_plan__ahead(pid_t pid);
/*
 * Waits for the plan made ahead and frees ahead (NULL is none). When it is
 * pid's and was made, it goes to *plan (unless NULL) and 0 is returned; else
 * -ENOENT, and the caller plans in turn (alloc_plan__for_pid says why it fails).
 */
int alloc_plan__ahead_take(struct alloc_plan_ahead *ahead, pid_t pid, struct alloc_plan *plan);
/*
 * --lib: the allocator functions path defines, probed by hand (a custom
 * allocator). Prints one error line when path is missing, not ELF, or defines none.
 */
int alloc_plan__for_lib(const char *path, struct alloc_plan *plan);
/*
 * Plans the probes for a process stopped right after exec, before its
 * libraries are mapped: the objects are those its dynamic loader will load,
 * in the order it resolves symbols.
 */
int alloc_plan__for_exec(pid_t pid, struct alloc_plan *plan);

#endif
