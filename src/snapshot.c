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

const char *stack_stat__tell_allocator(const struct stack_stat *s)
{
	static const struct {
		const char *prefix, *name;
	} modules[] = { { "libc.so", "glibc" },
			{ "libc-", "glibc" },
			{ "libjemalloc.so", "jemalloc" },
			{ "libtcmalloc", "tcmalloc" } };
	const struct frame *f = s->nr_frames ? s->frames[0] : NULL;
	const char *base;

	/* The allocators' own mmap calls inside malloc are not recorded: those outside are. */
	if (s->kind != STACK_MMAP || !f)
		return NULL;
	if (f->symbol && !strcmp(f->symbol, "x_cgo_mmap"))
		return "go";
	if (!f->module)
		return NULL;
	base = strrchr(f->module, '/') ? strrchr(f->module, '/') + 1 : f->module;
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (!strncmp(base, modules[i].prefix, strlen(modules[i].prefix)))
			return modules[i].name;
	return NULL;
}

int64_t stack_stat__held(const struct stack_stat *s)
{
	return s->has_resident ? s->resident_bytes : s->bytes;
}

void stack_stat__add_resident(struct stack_stat *to, const struct stack_stat *from)
{
	/* Known only when known for both: a part unread leaves the sum unread. */
	to->has_resident = to->has_resident && from->has_resident;
	to->resident_bytes = to->has_resident ?
				     count__add(to->resident_bytes, from->resident_bytes) :
				     0;
	to->has_cached = to->has_cached && from->has_cached;
	to->cached_bytes = to->has_cached ? count__add(to->cached_bytes, from->cached_bytes) : 0;
	to->cached_allocs = to->has_cached ? count__add(to->cached_allocs, from->cached_allocs) : 0;
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

/* Of a mapping's leaked bytes, those it holds: a reservation's untouched pages hold nothing. */
int64_t stack_stat__held_of(const struct stack_stat *s, int64_t bytes)
{
	return s->has_resident && bytes > s->resident_bytes ? s->resident_bytes : bytes;
}

int64_t proc_stat__leaked(const struct proc_stat *p, unsigned int kinds, int64_t *suppressed)
{
	int64_t all = kind_bytes(kinds, p->lost_bytes, p->indirect_bytes, p->possible_bytes);
	int64_t supp = 0;

	for (size_t i = 0; i < p->nr_stacks; i++) {
		const struct stack_stat *s = &p->stacks[i];
		int64_t leaked = kind_bytes(kinds, s->lost_bytes, s->indirect_bytes,
					    s->possible_bytes);

		if (s->suppressed)
			supp += leaked;
		else if (s->allocator)
			all -= leaked; /* the allocator's own memory: no leak of the program's */
		else
			all -= leaked - stack_stat__held_of(s, leaked);
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
	return stack_stat__held_of(s, stack_stat__unreachable(s)) > 0 ||
	       stack_stat__held_of(s, s->possible_bytes) > 0;
}

bool stack_stat__suspect(const struct stack_stat *s)
{
	if (s->suppressed)
		return false; /* known and accepted: not what the reader is looking for */
	if (s->has_resident && !s->resident_bytes)
		return false; /* a reservation not touched: it holds nothing */
	if (s->allocator)
		return false; /* what the allocator keeps for itself */
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
	/* Mappings rank by what they hold: their resident pages, not their reservation. */
	int64_t lx = stack_stat__held_of(x, stack_stat__unreachable(x));
	int64_t ly = stack_stat__held_of(y, stack_stat__unreachable(y));
	int64_t dx = stack_stat__held_of(x, x->lost_bytes),
		dy = stack_stat__held_of(y, y->lost_bytes);
	int64_t px = stack_stat__held_of(x, x->possible_bytes),
		py = stack_stat__held_of(y, y->possible_bytes);
	int64_t hx = stack_stat__held(x), hy = stack_stat__held(y);

	if (suspicion_class(x) != suspicion_class(y))
		return suspicion_class(x) > suspicion_class(y) ? -1 : 1;
	if (growing(x) != growing(y))
		return growing(x) ? 1 : -1; /* lost before growing */
	if (dx != dy)
		return dx < dy ? 1 : -1;
	if (lx != ly)
		return lx < ly ? 1 : -1;
	if (px != py)
		return px < py ? 1 : -1;
	if (rx != ry)
		return rx < ry ? 1 : -1;
	return hx < hy ? 1 : hx > hy ? -1 : 0;
}

const char *stack_stat__reason(const struct stack_stat *s)
{
	bool lost = stack_stat__held_of(s, stack_stat__unreachable(s)) > 0;

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
