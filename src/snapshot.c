// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The snapshot model: stacks, processes and their verdicts, trends and suspects,
 * as both the live source (snap_source.c) and a loaded snapshot (snapshot_load.c) fill it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "snapshot.h"

const char *trend__name(enum trend t)
{
	static const char *const names[] = { "unknown", "growing", "stable", "shrinking" };

	return t <= TREND_SHRINKING ? names[t] : "unknown";
}

const char *stack_kind__name(enum stack_kind k)
{
	return k == STACK_MMAP ? "mmap" : k == STACK_KERNEL ? "kernel" : "heap";
}

void stack_stat__add_verdicts(struct stack_stat *to, const struct stack_stat *from)
{
	to->scanned |= from->scanned;
	to->lost_bytes = count__add(to->lost_bytes, from->lost_bytes);
	to->lost_allocs = count__add(to->lost_allocs, from->lost_allocs);
	to->indirect_bytes = count__add(to->indirect_bytes, from->indirect_bytes);
	to->indirect_allocs = count__add(to->indirect_allocs, from->indirect_allocs);
	to->reachable_bytes = count__add(to->reachable_bytes, from->reachable_bytes);
	to->reachable_allocs = count__add(to->reachable_allocs, from->reachable_allocs);
	to->possible_bytes = count__add(to->possible_bytes, from->possible_bytes);
	to->possible_allocs = count__add(to->possible_allocs, from->possible_allocs);
}

void trend__merge(struct stack_stat *to, const struct stack_stat *from)
{
	to->slope += from->slope;
	/* Growing if a part grows; otherwise known as soon as a part is known. */
	if (from->trend == TREND_GROWING || to->trend == TREND_UNKNOWN)
		to->trend = from->trend;
}

int64_t stack_stat__unreachable(const struct stack_stat *s)
{
	return count__add(s->lost_bytes, s->indirect_bytes);
}

static int64_t kind_bytes(unsigned int kinds, int64_t lost, int64_t indirect, int64_t possible)
{
	return (kinds & LEAK_KIND_DEFINITE ? lost : 0) +
	       (kinds & LEAK_KIND_INDIRECT ? indirect : 0) +
	       (kinds & LEAK_KIND_POSSIBLE ? possible : 0);
}

int64_t proc_stat__leaked(const struct proc_stat *p, unsigned int kinds, int64_t *suppressed)
{
	int64_t all = kind_bytes(kinds, p->lost_bytes, p->indirect_bytes, p->possible_bytes);
	int64_t supp = 0;

	for (size_t i = 0; i < p->nr_stacks; i++) {
		const struct stack_stat *s = &p->stacks[i];

		if (s->suppressed)
			supp += kind_bytes(kinds, s->lost_bytes, s->indirect_bytes,
					   s->possible_bytes);
	}
	if (suppressed)
		*suppressed = supp;
	return all - supp;
}

static bool growing(const struct stack_stat *s)
{
	return !s->final && s->trend == TREND_GROWING;
}

static bool judged_lost(const struct stack_stat *s)
{
	return stack_stat__unreachable(s) > 0 || s->possible_bytes > 0;
}

bool stack_stat__suspect(const struct stack_stat *s)
{
	if (s->suppressed)
		return false; /* known and accepted: not what the reader is looking for */
	return judged_lost(s) || growing(s) ||
	       (!s->final && s->trend == TREND_UNKNOWN && s->growth > 0);
}

double stack_stat__rate(const struct stack_stat *s)
{
	return s->trend == TREND_UNKNOWN ? s->growth : s->slope;
}

/* 2: lost and growing, 1: one of them, 0: neither. */
static int suspicion_class(const struct stack_stat *s)
{
	return judged_lost(s) + growing(s);
}

int stack_stat__cmp_suspicion(const struct stack_stat *x, const struct stack_stat *y)
{
	double rx = stack_stat__rate(x), ry = stack_stat__rate(y);
	int64_t lx = stack_stat__unreachable(x), ly = stack_stat__unreachable(y);

	if (suspicion_class(x) != suspicion_class(y))
		return suspicion_class(x) > suspicion_class(y) ? -1 : 1;
	if (growing(x) != growing(y))
		return growing(x) ? 1 : -1; /* lost before growing */
	if (x->lost_bytes != y->lost_bytes)
		return x->lost_bytes < y->lost_bytes ? 1 : -1;
	if (lx != ly)
		return lx < ly ? 1 : -1;
	if (x->possible_bytes != y->possible_bytes)
		return x->possible_bytes < y->possible_bytes ? 1 : -1;
	if (rx != ry)
		return rx < ry ? 1 : -1;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

const char *stack_stat__reason(const struct stack_stat *s)
{
	bool lost = stack_stat__unreachable(s) > 0;

	/* Both only with a steady growth: a first report's growth since the start is no news. */
	if (lost)
		return growing(s) ? "both" : "lost";
	return s->possible_bytes > 0 ? "possible" : "growing";
}

int proc_stat__set_argv(struct proc_stat *p, struct snapshot *snap, const char *cmdline, size_t len)
{
	const char **argv;
	char *copy;
	size_t n = 0;

	if (!cmdline || !len)
		return 0;
	if (!snap->arena)
		snap->arena = arena__new();
	for (size_t i = 0; i < len; i++)
		n += !cmdline[i];
	argv = snap->arena ? arena__alloc(snap->arena, n * sizeof(*argv)) : NULL;
	copy = argv ? arena__alloc(snap->arena, len) : NULL;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, cmdline, len);
	p->argc = 0;
	for (size_t i = 0; i < len; i += strlen(copy + i) + 1)
		argv[p->argc++] = copy + i;
	p->argv = argv;
	return 0;
}

int proc_stat__copy_argv(struct proc_stat *to, struct snapshot *snap, const struct proc_stat *from)
{
	size_t len = 0;
	char *line, *at;
	int err;

	for (size_t i = 0; i < from->argc; i++)
		len += strlen(from->argv[i]) + 1;
	if (!len)
		return 0;
	line = malloc(len);
	if (!line)
		return -ENOMEM;
	at = line;
	for (size_t i = 0; i < from->argc; i++)
		at = stpcpy(at, from->argv[i]) + 1;
	err = proc_stat__set_argv(to, snap, line, len);
	free(line);
	return err;
}

void snapshot__free(struct snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->nr_procs; i++)
		free(snap->procs[i].stacks);
	free(snap->procs);
	arena__free(snap->arena);
	free(snap);
}

bool snapshot__has_verdicts(const struct snapshot *snap)
{
	for (size_t i = 0; i < snap->nr_procs; i++)
		if (snap->procs[i].scanned)
			return true;
	return false;
}

const struct module_id *proc_stat__module(const struct proc_stat *p, const char *path)
{
	for (size_t i = 0; path && i < p->nr_modules; i++)
		if (!strcmp(p->modules[i].path, path))
			return &p->modules[i];
	return NULL;
}

const char *proc_stat__build_id(const struct proc_stat *p, const char *path)
{
	const struct module_id *m = proc_stat__module(p, path);

	return m ? m->build_id : NULL;
}
