/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's /metrics: a snapshot as Prometheus text exposition (format 0.0.4), with its
 * series bounded: the top stacks (top_stacks__collect) and the largest processes.
 */
#ifndef LT_EXPORT_METRICS_H
#define LT_EXPORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "snapshot.h"

/* Processes with series of their own, the largest first; the others are summed apart. */
#define METRICS_MAX_PROCS 100

/*
 * One series of the top stacks: the stacks of a process with the same frame 0 (function and
 * module) summed, so that no two series have the same labels.
 */
struct top_stack {
	const struct proc_stat *proc;
	char function[256]; /* frame 0's name (frame__name), "[unknown]" without frames */
	const char *module; /* frame 0's module, "" when unknown */
	int64_t bytes, allocs;
	double rate;  /* bytes per second (stack_stat__rate), summed */
	bool growing; /* one of its stacks grows steadily (trend) */
	bool suspect; /* one of its stacks is a suspect */
	bool scanned;
	int64_t lost_bytes, indirect_bytes, possible_bytes;
};

/*
 * The k top stacks of snap: suspects, most suspicious first, then the largest others, so that
 * a stack keeps its series while it stays among the k. *out is malloc'd; 0 or -ENOMEM.
 */
int top_stacks__collect(const struct snapshot *snap, int k, struct top_stack **out, size_t *n);

/* A process's place: its cgroup (v2 path) and systemd unit, "" when none. */
struct metrics_proc_labels {
	pid_t pid;
	const char *cgroup;
	const char *unit;
};

/* leaktrace's own cost, as measured by the agent. */
struct metrics_self {
	int64_t rss_bytes;	/* < 0: unknown */
	uint64_t map_bytes;	/* BPF maps' memory */
	double bpf_run_s;	/* time in its BPF programs since the start; < 0: unknown */
	uint64_t snapshots;	/* taken since the start */
	double snapshot_s;	/* what the last one took */
	uint64_t history_lines; /* kept in /history.ndjson */
	uint64_t mappings_lost; /* captured mappings lost (ring buffer full) since the start */
	uint64_t processes;	/* whose state it holds: traced, or ended and not yet reported */
};

struct metrics_input {
	const struct snapshot *snap; /* NULL before the first snapshot */
	int top;		     /* k of the top stacks */
	const struct metrics_proc_labels *labels;
	size_t nr_labels;
	const struct metrics_self *self;
};

/* Writes the exposition; 0 or -EIO. */
int export_metrics__write(FILE *f, const struct metrics_input *in);

#endif
