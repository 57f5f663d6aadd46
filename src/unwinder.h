/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --unwind=dwarf from user space: the unwind tables of the files the traced
 * processes map, loaded into the BPF maps once per file, and each process's
 * executable mappings.
 */
#ifndef LT_UNWINDER_H
#define LT_UNWINDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct unwinder;

/* The BPF side: map fds, and its row cache's generation mapped into memory. */
struct unwinder_maps {
	int objs_fd;
	int files_fd;
	int procs_fd;	  /* struct lt_unwind_proc by tgid: the programs write it */
	int views_fd;	  /* struct lt_unwind_view by tgid: user space writes it */
	int slot_gens_fd; /* __u32 by slot: the generation each view of it must have */
	int wake_fd;	  /* ring buffer: tgids of processes to read again now */
	int rows_fd;	  /* struct lt_unwind_row[max_rows]: mapped a table at a time */
	int ranges_fd; /* struct lt_unwind_range[MAX_PROCS * MAX_RANGES]: mapped a slot at a time */
	uint64_t *gen; /* the BPF side's row cache holds while this does not change */
	uint32_t max_rows;
};

struct unwinder_stats {
	uint32_t objects;	 /* files with a table loaded */
	uint32_t failed;	 /* files without one: no .eh_frame_hdr, or no room */
	uint32_t frame_pointers; /* --unwind auto: files walked by their frame pointers */
	uint32_t idle;		 /* of them, those no process maps now: kept for the next */
	uint64_t rows;		 /* rows in use */
	uint64_t max_rows;
	uint64_t build_ns; /* time spent building tables */
};

/*
 * fp_where_kept (--unwind auto): files built with frame pointers get no table,
 * their frames are walked by the frame pointer. A thread of the unwinder's own
 * reads the mappings the BPF side marks as it marks them (wake_fd): the
 * functions below may be called from any one thread.
 */
int unwinder__new(const struct unwinder_maps *maps, bool fp_where_kept, bool verbose,
		  struct unwinder **out);
/*
 * Builds the table of the file at path now, before a process maps it (run
 * mode: the libraries the loader will map). 0, or a negative errno.
 */
int unwinder__add_file(struct unwinder *u, const char *path);
/*
 * Run mode, at pid's exec before its new image runs: builds the tables of the
 * objects it will map (paths: its executable and libraries, as the loader
 * lists them) side by side on every CPU, holds them while pid lives, and reads
 * its mappings. Its first allocations are walked whole. 0, or a negative errno.
 */
int unwinder__add_exec(struct unwinder *u, pid_t pid, char *const *paths, int n);
/*
 * Reads pid's executable mappings, builds the tables of files not seen yet
 * and writes its ranges. 0, or a negative errno (-ESRCH: the process is gone;
 * -ENOSPC: unwinder__max_processes() hold theirs already).
 */
int unwinder__add_process(struct unwinder *u, pid_t pid);
/* The processes whose mappings are held at once (LT_UNWIND_MAX_PROCS). */
unsigned unwinder__max_processes(const struct unwinder *u);
/*
 * Re-adds the processes whose mappings changed: every one when every is true
 * (a few processes, without the BPF mmap hook), else those the BPF side marked
 * (new mappings, or an address in none); forgets the ones that are gone,
 * dropping tables no process maps.
 */
int unwinder__refresh(struct unwinder *u, bool every);
void unwinder__stats(struct unwinder *u, struct unwinder_stats *st);
/* NULL is fine. */
void unwinder__free(struct unwinder *u);

#endif
