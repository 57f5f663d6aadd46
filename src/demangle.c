// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Demangling of C++ and Rust names in snapshots, so that every report and export
 * shows them readable: libiberty's demangler, the one binutils and gdb use.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "arena.h"
#include "demangle.h"
#include "frame_table.h"

/*
 * Itanium C++ names and Rust's legacy ones start with "_Z", Rust's v0 ones with
 * "_R". Other names are never tried: the C++ demangler would turn "i" into "int".
 */
static bool is_mangled(const char *name)
{
	return name && (!strncmp(name, "_Z", 2) || !strncmp(name, "_R", 2));
}

char *demangle__name(const char *name)
{
	/*
	 * No style bit: libiberty tries Rust (legacy and v0) first, then C++.
	 * Parameters and qualifiers are kept; Rust's hashes are not (DMGL_VERBOSE).
	 */
	return is_mangled(name) ? cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI) : NULL;
}

/* One snapshot repeats the same names in many stacks: each is demangled once. */
struct name_cache {
	const char **raw;
	const char **nice; /* the raw name itself when it needs no demangling */
	size_t size;	   /* a power of two */
};

/* FNV-1a: loaded snapshots hold equal names at different addresses. */
static size_t hash_name(const char *s, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)h & (size - 1);
}

static const char *cache_lookup(struct name_cache *c, struct arena *a, const char *raw)
{
	size_t i = hash_name(raw, c->size);
	char *d;

	while (c->raw[i] && strcmp(c->raw[i], raw))
		i = (i + 1) & (c->size - 1);
	if (c->raw[i])
		return c->nice[i];
	d = demangle__name(raw);
	c->raw[i] = raw;
	c->nice[i] = d ? arena__strdup(a, d) : raw;
	if (!c->nice[i])
		c->nice[i] = raw;
	free(d);
	return c->nice[i];
}

static bool stack_is_mangled(const struct stack_stat *s)
{
	for (int i = 0; i < s->nr_frames; i++)
		if (is_mangled(s->frames[i]->symbol))
			return true;
	return false;
}

static int demangle_stack(struct stack_stat *s, struct name_cache *c, struct arena *a,
			  struct frame_table *t)
{
	const struct frame **frames = arena__alloc(a, s->nr_frames * sizeof(*frames));
	struct frame fr;

	if (!frames)
		return -ENOMEM;
	for (int i = 0; i < s->nr_frames; i++) {
		fr = *s->frames[i];
		if (fr.symbol)
			fr.symbol = cache_lookup(c, a, fr.symbol);
		frames[i] = frame_table__get(t, &fr);
		if (!frames[i])
			return -ENOMEM;
	}
	s->frames = frames;
	return 0;
}

int demangle__snapshot(struct snapshot *snap)
{
	struct name_cache c = { .size = 64 };
	struct frame_table *t;
	size_t nr_frames = 0;
	int err = 0;

	for (size_t i = 0; i < snap->nr_procs; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++)
			if (stack_is_mangled(&snap->procs[i].stacks[j]))
				nr_frames += snap->procs[i].stacks[j].nr_frames;
	if (!nr_frames)
		return 0;
	while (c.size < 2 * nr_frames)
		c.size *= 2;
	c.raw = calloc(c.size, sizeof(*c.raw));
	c.nice = calloc(c.size, sizeof(*c.nice));
	if (!snap->arena)
		snap->arena = arena__new();
	t = snap->arena ? frame_table__new(snap->arena) : NULL;
	if (!c.raw || !c.nice || !t)
		err = -ENOMEM;
	for (size_t i = 0; i < snap->nr_procs && !err; i++) {
		for (size_t j = 0; j < snap->procs[i].nr_stacks && !err; j++) {
			struct stack_stat *s = &snap->procs[i].stacks[j];

			if (stack_is_mangled(s))
				err = demangle_stack(s, &c, snap->arena, t);
		}
	}
	frame_table__free(t);
	free(c.raw);
	free(c.nice);
	return err;
}
