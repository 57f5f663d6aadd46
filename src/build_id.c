// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Build IDs and code mappings of a snapshot's modules: read once per process and file, at output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "build_id.h"

/*
 * Adds m to the sorted set v of *n paths unless there. Stacks share their
 * frames' modules: a few dozen paths for hundreds of thousands of frames.
 */
static void add_path(const char **v, size_t *n, const char *m)
{
	size_t lo = 0, hi = *n;
	int cmp;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		cmp = strcmp(v[mid], m);
		if (!cmp)
			return;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&v[lo + 1], &v[lo], (*n - lo) * sizeof(*v));
	v[lo] = m;
	++*n;
}

/* The distinct file paths of p's frames, sorted; *n of them. */
static const char **module_paths(const struct proc_stat *p, size_t *n)
{
	const char **v = NULL, **grown, *last = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0; i < p->nr_stacks; i++) {
		for (int j = 0; j < p->stacks[i].nr_frames; j++) {
			const char *m = p->stacks[i].frames[j]->module;

			/* A file, not [vdso] or such; most frames are in the module of the last. */
			if (!m || m[0] != '/' || m == last)
				continue;
			last = m;
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				grown = realloc(v, cap * sizeof(*v));
				if (!grown) {
					free(v);
					return NULL;
				}
				v = grown;
			}
			add_path(v, n, m);
		}
	}
	return v ? v : calloc(1, sizeof(*v));
}

static int fill_process(struct arena *a, struct symbolizer *syms, struct proc_stat *p)
{
	struct module_id *mods;
	const char **paths;
	size_t n, k = 0;
	int err = 0;

	paths = module_paths(p, &n);
	if (!paths)
		return -ENOMEM;
	mods = arena__alloc(a, (n + 1) * sizeof(*mods));
	for (size_t i = 0; i < n && mods && !err; i++) {
		const char *id = symbolizer__build_id(syms, p->pid, paths[i]);

		mods[k].has_text = !symbolizer__text_mapping(syms, p->pid, paths[i], &mods[k].text);
		if (!id && !mods[k].has_text)
			continue;
		mods[k].path = arena__strdup(a, paths[i]);
		mods[k].build_id = arena__strdup(a, id);
		err = mods[k].path && (mods[k].build_id || !id) ? 0 : -ENOMEM;
		k++;
	}
	free(paths);
	if (!mods || err)
		return -ENOMEM;
	p->modules = mods;
	p->nr_modules = k;
	return 0;
}

int build_id__fill(struct snapshot *snap, struct symbolizer *syms)
{
	int err = 0;

	if (!snap->arena)
		snap->arena = arena__new();
	if (!snap->arena)
		return -ENOMEM;
	for (size_t i = 0; i < snap->nr_procs && !err; i++)
		err = fill_process(snap->arena, syms, &snap->procs[i]);
	return err;
}
