/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The live source's state, shared by its files (snap_source.c, snap_scan.c) and no other. */
#ifndef LT_SNAP_SOURCE_INT_H
#define LT_SNAP_SOURCE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include <time.h>

#include "glibc_threads.h"
#include "snap_filter.h"
#include "snapshot.h"

/* Snapshots a trend is read from: with 5 s reports, the last 40 s. */
#define TREND_POINTS 8

struct proven;
struct symbolizer;
struct tracer;
struct stack_entry;
struct frame_table;
struct mapping_events;

/* An exited process as last reported, and the generation of its entries. */
struct gone {
	struct proc_stat st;
	uint32_t gen;
};

struct process {
	pid_t pid;
	uint32_t gen;	/* its exec generation, as the targets map says */
	bool gen_known; /* gen was read: a new one later is an exec */
	bool seen;	/* in the targets map at the last refresh */
	bool exited;
	bool reported; /* shown in a snapshot since it exited: may be dropped */
	bool finished; /* its report was taken at its exit: later ones leave it out */
	bool pending;  /* new, or exec'd since: refresh's on_new has not seen it yet */
	char comm[17];
	char *cmdline; /* its argv, each NUL-terminated, as /proc/PID/cmdline */
	size_t cmdline_len;
	dev_t alloc_dev; /* the file of its allocator, 0 when unknown */
	ino_t alloc_ino;
	bool glibc_malloc; /* its allocator is libc's: [heap]'s chunk headers can be read */
	const char *roots; /* how its last scan told roots: "exact", "glibc-chunks", ... */
	bool exiting;	   /* stopped in its exit by us: scanned, reported as gone */
	bool have_regs;
	struct user_regs_struct regs; /* its registers at that stop */
	bool freeze_failed;	      /* --scan-freeze could not hold it: said once */
	uint64_t held_max_ns;	      /* the longest of its scans' holds */
	struct proven *proven;	      /* blocks proven unreachable while it ran, by address */
	size_t nr_proven;
	/* Its libc's thread descriptor layout: 0 not read yet, 1 read, -1 unknown. */
	int threads_known;
	struct glibc_threads threads;
};

struct snap_source {
	struct tracer *tracer;
	struct symbolizer *syms;
	struct mapping_events *events; /* mappings captured as made; NULL: none */
	uint64_t events_lost;	       /* those lost, as last said */
	struct snap_filter filter;
	struct stack_entry **buckets;
	size_t nr_buckets;
	size_t nr_entries;
	struct process *procs;
	size_t nr_procs;
	uint64_t last_ns;
	uint64_t builds;
	uint64_t build_ns[TREND_POINTS]; /* when build b read the maps: at b % TREND_POINTS */
	struct timespec started;
	uint64_t started_ns;
	pid_t only; /* non-zero: snapshots of this process alone (snap_source__finish) */
	struct snapshot **finished; /* one per process reported at its exit */
	size_t nr_finished;
	/* Processes that exited, as last reported, after their records went: for the end. */
	struct gone *gone;
	size_t nr_gone;
	bool with_gone;	 /* the next snapshots hold them too */
	size_t max_gone; /* the most kept: the largest */
	/* snap_source__forget_exited: processes whose entries go at the next reap. */
	bool forget_exited;
	pid_t *doomed;
	size_t nr_doomed;
	struct kmem *kmem;	    /* --kernel, or NULL */
	struct kallsyms *ksyms;	    /* its stacks' symbols */
	struct frame_table *frames; /* the stack entries' frames, shared */
	/* Frames replaced by entry_resymbolize: kept reports may still point to them. */
	const struct frame ***retired;
	size_t nr_retired;
};

static inline struct process *snap_source__find(struct snap_source *src, pid_t pid)
{
	for (size_t i = 0; i < src->nr_procs; i++)
		if (src->procs[i].pid == pid)
			return &src->procs[i];
	return NULL;
}

/* True when (tgid, gen) is what a traced process holds now, and is reported. */
static inline bool snap_source__current(struct snap_source *src, pid_t tgid, uint32_t gen)
{
	struct process *p = snap_source__find(src, tgid);

	return p && p->gen == gen && !p->finished && (!src->only || src->only == tgid);
}

#endif
