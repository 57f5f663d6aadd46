// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interned frames: an open-addressing set (linear probing), a reference count per frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "frame_table.h"

struct interned {
	struct frame fr; /* first: a frame handed out is its entry */
	uint64_t hash;
	uint32_t refs;
};

struct frame_table {
	struct arena *arena;
	bool shared_strings; /* strings compared and hashed by address */
	struct interned **slots;
	size_t nr_slots; /* a power of two, or 0 */
	size_t count;
};

struct frame_table *frame_table__new(struct arena *a)
{
	struct frame_table *t = calloc(1, sizeof(*t));

	if (t)
		t->arena = a;
	return t;
}

struct frame_table *frame_table__new_shared_strings(void)
{
	struct frame_table *t = frame_table__new(NULL);

	if (t)
		t->shared_strings = true;
	return t;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

static uint64_t mix_str(const struct frame_table *t, uint64_t h, const char *s)
{
	if (t->shared_strings)
		return mix(h, (uintptr_t)s);
	if (!s)
		return mix(h, 1);
	for (; *s; s++)
		h = mix(h, (unsigned char)*s);
	return mix(h, 0);
}

static uint64_t frame_hash(const struct frame_table *t, const struct frame *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = mix(h, f->address);
	h = mix(h, f->offset);
	h = mix(h, f->module_offset);
	h = mix(h, (uint64_t)(uint32_t)f->line << 32 | (uint32_t)f->start_line);
	h = mix(h, f->has_module_offset | f->inlined << 1 | f->kernel << 2);
	h = mix_str(t, h, f->symbol);
	h = mix_str(t, h, f->module);
	h = mix_str(t, h, f->build_id);
	h = mix_str(t, h, f->file);
	/* The low bits pick the slot: fold the well-mixed high ones in. */
	return h ^ h >> 29;
}

static bool str_eq(const struct frame_table *t, const char *a, const char *b)
{
	return a == b || (!t->shared_strings && a && b && !strcmp(a, b));
}

static bool frame_eq(const struct frame_table *t, const struct frame *a, const struct frame *b)
{
	return a->address == b->address && a->offset == b->offset &&
	       a->module_offset == b->module_offset && a->line == b->line &&
	       a->start_line == b->start_line && a->has_module_offset == b->has_module_offset &&
	       a->inlined == b->inlined && a->kernel == b->kernel &&
	       str_eq(t, a->symbol, b->symbol) && str_eq(t, a->module, b->module) &&
	       str_eq(t, a->build_id, b->build_id) && str_eq(t, a->file, b->file);
}

static int grow(struct frame_table *t)
{
	size_t n = t->nr_slots ? 2 * t->nr_slots : 1024;
	struct interned **v = calloc(n, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i < t->nr_slots; i++) {
		size_t j;

		if (!t->slots[i])
			continue;
		for (j = t->slots[i]->hash & (n - 1); v[j]; j = (j + 1) & (n - 1))
			;
		v[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = v;
	t->nr_slots = n;
	return 0;
}

static int copy_str(struct arena *a, const char **s)
{
	return *s && !(*s = arena__strdup(a, *s)) ? -1 : 0;
}

static int copy_strings(struct arena *a, struct frame *fr)
{
	return copy_str(a, &fr->symbol) || copy_str(a, &fr->module) || copy_str(a, &fr->build_id) ||
	       copy_str(a, &fr->file);
}

const struct frame *frame_table__get(struct frame_table *t, const struct frame *fr)
{
	uint64_t hash = frame_hash(t, fr);
	struct interned *e;
	size_t i;

	/* At most half full: probes stay short. */
	if (2 * (t->count + 1) > t->nr_slots && grow(t))
		return NULL;
	for (i = hash & (t->nr_slots - 1); (e = t->slots[i]); i = (i + 1) & (t->nr_slots - 1)) {
		if (e->hash == hash && frame_eq(t, &e->fr, fr)) {
			e->refs++;
			return &e->fr;
		}
	}
	e = t->arena ? arena__alloc(t->arena, sizeof(*e)) : malloc(sizeof(*e));
	if (!e)
		return NULL;
	e->fr = *fr;
	if (t->arena && copy_strings(t->arena, &e->fr))
		return NULL; /* the arena keeps what was allocated, the table never saw it */
	e->hash = hash;
	e->refs = 1;
	t->slots[i] = e;
	t->count++;
	return &e->fr;
}

const struct frame **frame_table__get_all(struct frame_table *t, const struct frame *v, int n)
{
	const struct frame **out;
	int i;

	if (n <= 0)
		return NULL;
	out = t->arena ? arena__alloc(t->arena, n * sizeof(*out)) : malloc(n * sizeof(*out));
	for (i = 0; out && i < n; i++)
		if (!(out[i] = frame_table__get(t, &v[i])))
			break;
	if (!out || i == n)
		return out;
	while (i--)
		frame_table__put(t, out[i]);
	if (!t->arena)
		free(out);
	return NULL;
}

/* Empties slot i, moving later entries of its run back so that every lookup still finds them. */
static void remove_at(struct frame_table *t, size_t i)
{
	size_t mask = t->nr_slots - 1, j = i, home;

	t->slots[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slots[j])
			return;
		home = t->slots[j]->hash & mask;
		/* It may move to i when its home is not in (i, j], cyclically. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

void frame_table__put(struct frame_table *t, const struct frame *fr)
{
	struct interned *e = (struct interned *)fr;
	size_t i;

	if (!fr || t->arena || --e->refs)
		return;
	for (i = e->hash & (t->nr_slots - 1); t->slots[i] != e; i = (i + 1) & (t->nr_slots - 1))
		;
	remove_at(t, i);
	t->count--;
	free(e);
}

size_t frame_table__count(const struct frame_table *t)
{
	return t->count;
}

void frame_table__free(struct frame_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; !t->arena && i < t->nr_slots; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}
