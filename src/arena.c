// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The arena behind loaded, merged and demangled snapshots: a list of chunks, freed together. */
#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define CHUNK_SIZE 65536

struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct chunk *head;
};

struct arena *arena__new(void)
{
	return calloc(1, sizeof(struct arena));
}

/* A chunk linked first (the one allocations come from), or second when it is a large block's. */
static struct chunk *chunk_new(struct arena *a, size_t size, bool first)
{
	struct chunk *c = malloc(sizeof(*c) + size);
	struct chunk **at = first || !a->head ? &a->head : &a->head->next;

	if (!c)
		return NULL;
	c->used = 0;
	c->size = size;
	c->next = *at;
	*at = c;
	return c;
}

void *arena__alloc(struct arena *a, size_t size)
{
	size_t align = alignof(max_align_t);
	struct chunk *c = a->head;
	void *p;

	size = (size + align - 1) & ~(align - 1);
	if (!size)
		size = align;
	if (!c || c->size - c->used < size) {
		/* A large block gets a chunk of its own: the current chunk's rest stays usable. */
		if (size > CHUNK_SIZE / 4)
			c = chunk_new(a, size, false);
		else
			c = chunk_new(a, CHUNK_SIZE, true);
		if (!c)
			return NULL;
	}
	p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *arena__strdup(struct arena *a, const char *s)
{
	size_t n;
	char *p;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	p = arena__alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void arena__free(struct arena *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}
