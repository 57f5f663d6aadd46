// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON snapshot, schema version 1: fields are added freely, never renamed or removed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_writer.h"
#include "snapshot_json.h"
#include "snapshot_json_keys.h"

static void rfc3339(struct json_writer *w, const struct timespec *ts)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json__string(w, buf);
}

const struct lost_name snapshot_json__lost_names[NR_LOST] = {
	{ LOST_ALLOCS_UNTRACKED, JK_ALLOCS_UNTRACKED },
	{ LOST_STACKS_DROPPED, JK_STACKS_DROPPED },
	{ LOST_FREES_UNMATCHED, JK_FREES_UNMATCHED },
	{ LOST_FREES_INTERNAL, JK_FREES_INTERNAL },
	{ LOST_FREES_BEFORE_ATTACH, JK_FREES_BEFORE_ATTACH },
	{ LOST_THREADS_UNTRACKED, JK_THREADS_UNTRACKED },
	{ LOST_MUNMAPS_PARTIAL_LOST, JK_MUNMAPS_PARTIAL_LOST },
	{ LOST_KERNEL_ALLOCS_UNTRACKED, JK_KERNEL_ALLOCS_UNTRACKED },
	{ LOST_KERNEL_STACKS_DROPPED, JK_KERNEL_STACKS_DROPPED },
	{ LOST_KERNEL_FREES_UNKNOWN, JK_KERNEL_FREES_UNKNOWN },
	{ LOST_KERNEL_MISSED, JK_KERNEL_MISSED },
};

static void write_lost(struct json_writer *w, const uint64_t *lost, bool kernel)
{
	json__key(w, JK_LOST);
	json__object_begin(w);
	/* The kernel's counters follow the others', and only in a snapshot of --kernel. */
	for (int i = 0; i < (kernel ? NR_LOST : LOST_KERNEL_ALLOCS_UNTRACKED); i++) {
		json__key(w, snapshot_json__lost_names[i].name);
		json__uint(w, lost[snapshot_json__lost_names[i].counter]);
	}
	json__object_end(w);
}

/* Merged snapshots only: the (host, pid) a stack or process was seen in. */
static void write_origins(struct json_writer *w, const struct origin *o, size_t n)
{
	if (!n)
		return;
	json__key(w, JK_ORIGINS);
	json__array_begin(w);
	for (size_t i = 0; i < n; i++) {
		json__object_begin(w);
		json__key(w, JK_HOST);
		json__string(w, o[i].host);
		json__key(w, JK_PID);
		json__int(w, o[i].pid);
		json__object_end(w);
	}
	json__array_end(w);
}

/* Merged snapshots only: the hosts a suspect holds memory on, each once, as first seen. */
static void write_suspect_hosts(struct json_writer *w, const struct origin *o, size_t n)
{
	if (!n)
		return;
	json__key(w, JK_HOSTS);
	json__array_begin(w);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && strcmp(o[j].host, o[i].host))
			j++;
		if (j == i)
			json__string(w, o[i].host);
	}
	json__array_end(w);
}

static void write_frame(struct json_writer *w, const struct frame *fr)
{
	char addr[24];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)fr->address);
	json__object_begin(w);
	json__key(w, JK_SYMBOL);
	json__string(w, fr->symbol ? fr->symbol : JV_SYMBOL_UNKNOWN);
	json__key(w, JK_OFFSET);
	json__uint(w, fr->symbol ? fr->offset : 0);
	json__key(w, JK_MODULE);
	json__string(w, fr->module ? fr->module : JV_MODULE_ANONYMOUS);
	json__key(w, JK_ADDRESS);
	json__string(w, addr);
	if (fr->has_module_offset) {
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)fr->module_offset);
		json__key(w, JK_MODULE_OFFSET);
		json__string(w, addr);
	}
	if (fr->build_id) {
		json__key(w, JK_BUILD_ID);
		json__string(w, fr->build_id);
	}
	if (fr->file) {
		json__key(w, JK_FILE);
		json__string(w, fr->file);
	}
	if (fr->line) {
		json__key(w, JK_LINE);
		json__int(w, fr->line);
	}
	if (fr->start_line) {
		json__key(w, JK_START_LINE);
		json__int(w, fr->start_line);
	}
	if (fr->inlined) {
		json__key(w, JK_INLINED);
		json__bool(w, true);
	}
	json__object_end(w);
}

static void write_hex(struct json_writer *w, const char *key, uint64_t v)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
	json__key(w, key);
	json__string(w, hex);
}

/* "build_ids": {path: hex}; "mappings": where each module's code was mapped. */
static void write_modules(struct json_writer *w, const struct proc_stat *p)
{
	const struct module_id *m = p->modules;
	size_t i;

	for (i = 0; i < p->nr_modules && !m[i].build_id; i++)
		;
	if (i < p->nr_modules) {
		json__key(w, JK_BUILD_IDS);
		json__object_begin(w);
		for (i = 0; i < p->nr_modules; i++) {
			if (!m[i].build_id)
				continue;
			json__key(w, m[i].path);
			json__string(w, m[i].build_id);
		}
		json__object_end(w);
	}
	for (i = 0; i < p->nr_modules && !m[i].has_text; i++)
		;
	if (i == p->nr_modules)
		return;
	json__key(w, JK_MAPPINGS);
	json__array_begin(w);
	for (i = 0; i < p->nr_modules; i++) {
		if (!m[i].has_text)
			continue;
		json__object_begin(w);
		json__key(w, JK_MODULE);
		json__string(w, m[i].path);
		write_hex(w, JK_START, m[i].text.start);
		write_hex(w, JK_LIMIT, m[i].text.limit);
		write_hex(w, JK_OFFSET, m[i].text.offset);
		json__object_end(w);
	}
	json__array_end(w);
}

/* A kernel stack's "task": the process that allocated its first block; its "slab_cache". */
static void write_task(struct json_writer *w, const struct stack_stat *s)
{
	json__key(w, JK_TASK);
	json__object_begin(w);
	json__key(w, JK_PID);
	json__int(w, s->task_pid);
	json__key(w, JK_COMM);
	json__string(w, s->task_comm);
	json__key(w, JK_CGROUP);
	json__uint(w, s->task_cgroup);
	json__object_end(w);
	if (s->slab_cache[0]) {
		json__key(w, JK_SLAB_CACHE);
		json__string(w, s->slab_cache);
	}
}

static void write_stack(struct json_writer *w, const struct stack_stat *s)
{
	json__object_begin(w);
	json__key(w, JK_KIND);
	json__string(w, s->kind == STACK_MMAP	? JV_KIND_MMAP :
			s->kind == STACK_KERNEL ? JV_KIND_KERNEL :
						  JV_KIND_HEAP);
	json__key(w, JK_BYTES);
	json__int(w, s->bytes);
	json__key(w, JK_ALLOCS);
	json__int(w, s->allocs);
	json__key(w, JK_OLDEST_S);
	json__double(w, s->oldest_s >= 0 ? s->oldest_s : 0);
	json__key(w, JK_GROWTH_BYTES_PER_S);
	json__double(w, s->growth);
	json__key(w, JK_TREND);
	json__string(w, trend__name(s->trend));
	json__key(w, JK_SLOPE_BYTES_PER_S);
	json__double(w, s->slope);
	json__key(w, JK_TRUNCATED);
	json__bool(w, s->truncated);
	if (s->table_pending) {
		json__key(w, JK_TABLE_PENDING);
		json__bool(w, true);
	}
	if (s->has_resident) {
		json__key(w, JK_RESIDENT_BYTES);
		json__int(w, s->resident_bytes);
	}
	if (s->allocator) {
		json__key(w, JK_ALLOCATOR);
		json__string(w, s->allocator);
	}
	if (s->has_cached) {
		json__key(w, JK_CACHED_BYTES);
		json__int(w, s->cached_bytes);
		json__key(w, JK_CACHED_ALLOCS);
		json__int(w, s->cached_allocs);
	}
	if (s->scanned) {
		json__key(w, JK_LOST_BYTES);
		json__int(w, s->lost_bytes);
		json__key(w, JK_LOST_ALLOCS);
		json__int(w, s->lost_allocs);
		json__key(w, JK_INDIRECT_BYTES);
		json__int(w, s->indirect_bytes);
		json__key(w, JK_INDIRECT_ALLOCS);
		json__int(w, s->indirect_allocs);
		json__key(w, JK_REACHABLE_BYTES);
		json__int(w, s->reachable_bytes);
		json__key(w, JK_REACHABLE_ALLOCS);
		json__int(w, s->reachable_allocs);
		json__key(w, JK_POSSIBLE_BYTES);
		json__int(w, s->possible_bytes);
		json__key(w, JK_POSSIBLE_ALLOCS);
		json__int(w, s->possible_allocs);
	}
	if (s->kind == STACK_KERNEL)
		write_task(w, s);
	json__key(w, JK_FRAMES);
	json__array_begin(w);
	for (int i = 0; i < s->nr_frames; i++)
		write_frame(w, s->frames[i]);
	json__array_end(w);
	write_origins(w, s->origins, s->nr_origins);
	if (s->suppressed) {
		json__key(w, JK_SUPPRESSED);
		json__string(w, s->suppressed);
	}
	json__object_end(w);
}

/* What suppressions took out of a process's leaks, when they matched any of its stacks. */
static void write_suppressed(struct json_writer *w, const struct proc_stat *p)
{
	if (!p->suppressed_allocs && !p->suppressed_bytes)
		return;
	json__key(w, JK_SUPPRESSED);
	json__object_begin(w);
	json__key(w, JK_BYTES);
	json__int(w, p->suppressed_bytes);
	json__key(w, JK_ALLOCS);
	json__int(w, p->suppressed_allocs);
	json__key(w, JK_LOST_BYTES);
	json__int(w, p->suppressed_lost_bytes);
	json__object_end(w);
}

/* The suppressions that matched, with what each matched: valgrind's "used_suppression". */
static void write_suppressions(struct json_writer *w, const struct snapshot *snap)
{
	if (!snap->nr_suppressions)
		return;
	json__key(w, JK_SUPPRESSIONS);
	json__array_begin(w);
	for (size_t i = 0; i < snap->nr_suppressions; i++) {
		const struct suppression_use *u = &snap->suppressions[i];

		json__object_begin(w);
		json__key(w, JK_NAME);
		json__string(w, u->name);
		json__key(w, JK_WHERE);
		json__string(w, u->where);
		json__key(w, JK_STACKS);
		json__int(w, u->stacks);
		json__key(w, JK_BYTES);
		json__int(w, u->bytes);
		json__key(w, JK_ALLOCS);
		json__int(w, u->allocs);
		json__key(w, JK_LOST_BYTES);
		json__int(w, u->lost_bytes);
		json__object_end(w);
	}
	json__array_end(w);
}

static void write_process(struct json_writer *w, const struct proc_stat *p)
{
	json__object_begin(w);
	json__key(w, JK_PID);
	json__int(w, p->pid);
	json__key(w, JK_COMM);
	json__string(w, p->comm);
	json__key(w, JK_EXE);
	json__string(w, p->exe);
	if (p->argc) {
		json__key(w, JK_ARGV);
		json__array_begin(w);
		for (size_t i = 0; i < p->argc; i++)
			json__string(w, p->argv[i]);
		json__array_end(w);
	}
	json__key(w, JK_ALIVE);
	json__bool(w, p->alive);
	json__key(w, JK_OUTSTANDING_BYTES);
	json__int(w, p->bytes);
	json__key(w, JK_OUTSTANDING_ALLOCS);
	json__int(w, p->allocs);
	json__key(w, JK_GROWTH_BYTES_PER_S);
	json__double(w, p->growth);
	if (p->final) {
		json__key(w, JK_FINAL);
		json__bool(w, true);
	}
	if (p->has_resident) {
		json__key(w, JK_RESIDENT_BYTES);
		json__int(w, p->resident_bytes);
	}
	if (p->scanned) {
		json__key(w, JK_LOST_BYTES);
		json__int(w, p->lost_bytes);
		json__key(w, JK_INDIRECT_BYTES);
		json__int(w, p->indirect_bytes);
		json__key(w, JK_REACHABLE_BYTES);
		json__int(w, p->reachable_bytes);
		json__key(w, JK_POSSIBLE_BYTES);
		json__int(w, p->possible_bytes);
		json__key(w, JK_POSSIBLE_ALLOCS);
		json__int(w, p->possible_allocs);
		if (p->scan_roots) {
			json__key(w, JK_SCAN_ROOTS);
			json__string(w, p->scan_roots);
			json__key(w, JK_SCAN_HELD_MS);
			json__double(w, p->scan_held_ms);
		}
	}
	write_suppressed(w, p);
	json__key(w, JK_STACKS);
	json__array_begin(w);
	for (size_t i = 0; i < p->nr_stacks; i++)
		write_stack(w, &p->stacks[i]);
	json__array_end(w);
	write_modules(w, p);
	write_origins(w, p->origins, p->nr_origins);
	json__object_end(w);
}

struct suspect {
	const struct proc_stat *proc;
	const struct stack_stat *stack;
};

static int by_suspicion(const void *a, const void *b)
{
	return stack_stat__cmp_suspicion(((const struct suspect *)a)->stack,
					 ((const struct suspect *)b)->stack);
}

/*
 * A suspect is a stack with lost bytes, or one that grows steadily (or,
 * before three snapshots tell, one that grew); a large stable one is not.
 */
static void write_suspects(struct json_writer *w, const struct snapshot *snap)
{
	struct suspect *v = NULL, *nv;
	size_t n = 0;

	for (size_t i = 0; i < snap->nr_procs; i++) {
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++) {
			if (!stack_stat__suspect(&snap->procs[i].stacks[j]))
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			v[n++] = (struct suspect){ &snap->procs[i], &snap->procs[i].stacks[j] };
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), by_suspicion);
	json__key(w, JK_SUSPECTS);
	json__array_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct frame *top = v[i].stack->nr_frames ? v[i].stack->frames[0] : NULL;

		json__object_begin(w);
		json__key(w, JK_PID);
		json__int(w, v[i].proc->pid);
		json__key(w, JK_SYMBOL);
		json__string(w, top && top->symbol ? top->symbol : JV_SYMBOL_UNKNOWN);
		json__key(w, JK_MODULE);
		json__string(w, top && top->module ? top->module : JV_MODULE_ANONYMOUS);
		json__key(w, JK_BYTES);
		json__int(w, v[i].stack->bytes);
		if (v[i].stack->has_resident) {
			json__key(w, JK_RESIDENT_BYTES);
			json__int(w, v[i].stack->resident_bytes);
		}
		json__key(w, JK_LOST_BYTES);
		json__int(w, v[i].stack->lost_bytes);
		json__key(w, JK_INDIRECT_BYTES);
		json__int(w, v[i].stack->indirect_bytes);
		json__key(w, JK_TREND);
		json__string(w, trend__name(v[i].stack->trend));
		json__key(w, JK_GROWTH_BYTES_PER_S);
		json__double(w, stack_stat__rate(v[i].stack));
		json__key(w, JK_REASON);
		json__string(w, stack_stat__reason(v[i].stack));
		write_suspect_hosts(w, v[i].stack->origins, v[i].stack->nr_origins);
		json__object_end(w);
	}
	json__array_end(w);
	free(v);
}

void snapshot_json__write(FILE *f, const struct snapshot *snap)
{
	struct json_writer w;

	json__init(&w, f);
	json__object_begin(&w);
	json__key(&w, JK_LEAKTRACE);
	json__int(&w, SNAPSHOT_JSON_VERSION);
	json__key(&w, JK_HOST);
	json__string(&w, snap->host);
	json__key(&w, JK_STARTED);
	rfc3339(&w, &snap->started);
	json__key(&w, JK_TAKEN);
	rfc3339(&w, &snap->taken);
	json__key(&w, JK_ELAPSED_S);
	json__double(&w, snap->elapsed_s);
	json__key(&w, JK_SAMPLING);
	json__object_begin(&w);
	json__key(&w, JK_MODE);
	json__string(&w, snap->sample_bytes ? JV_SAMPLING_BYTES : JV_SAMPLING_EXACT);
	if (snap->sample_bytes) {
		json__key(&w, JK_MEAN_BYTES);
		json__uint(&w, snap->sample_bytes);
	}
	json__object_end(&w);
	write_lost(&w, snap->lost, snap->kernel);
	if (snap->nr_hosts) {
		json__key(&w, JK_HOSTS);
		json__array_begin(&w);
		for (size_t i = 0; i < snap->nr_hosts; i++)
			json__string(&w, snap->hosts[i]);
		json__array_end(&w);
	}
	json__key(&w, JK_PROCESSES);
	json__array_begin(&w);
	for (size_t i = 0; i < snap->nr_procs; i++)
		write_process(&w, &snap->procs[i]);
	json__array_end(&w);
	write_suspects(&w, snap);
	write_suppressions(&w, snap);
	json__object_end(&w);
	fflush(f);
}
