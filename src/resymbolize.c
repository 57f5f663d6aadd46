// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Offline symbolization of a loaded snapshot, module by module, keyed by build ID. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "dwarf_lines.h"
#include "elf_syms.h"
#include "frame_lines.h"
#include "frame_table.h"
#include "resymbolize.h"
#include "target_file.h"

/* A module found here: its symbols, and its DWARF when it has some. */
struct module {
	char *build_id;
	struct elf_syms *syms; /* NULL: not found */
	struct dwarf_lines *lines;
};

struct resym {
	struct debuginfo *d;
	struct arena *arena;
	struct frame_table *frames; /* the new frames, their strings copied into the arena */
	struct module *mods;
	size_t nr_mods;
};

/* Symbols and DWARF of the debug file open at fd (kept by them; closed here). */
static void open_debug_file(struct module *m, int fd, const char *name)
{
	int err, dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	m->lines = dwarf_lines__open(fd, &err);
	close(fd);
	if (dup_fd >= 0)
		m->syms = elf_syms__open_fd(dup_fd, name, -1, NULL, &err);
}

/* The file at path when it carries build_id: its symbols, its DWARF or its debug file's. */
static void open_binary(struct module *m, const char *path)
{
	const char *id;
	int err;

	if (!path || path[0] != '/')
		return;
	m->syms = elf_syms__open(path, NULL, &err);
	id = m->syms ? elf_syms__build_id(m->syms) : NULL;
	if (!id || strcmp(id, m->build_id)) {
		elf_syms__free(m->syms);
		m->syms = NULL;
		return;
	}
	m->lines = dwarf_lines__open(elf_syms__fd(m->syms), &err);
	if (!m->lines && elf_syms__debug_fd(m->syms) >= 0)
		m->lines = dwarf_lines__open(elf_syms__debug_fd(m->syms), &err);
}

/* Debug directories first, then the binary itself, then debuginfod. */
static void find_module(struct resym *r, struct module *m, const char *path)
{
	int fd = debuginfo__open_local(r->d, m->build_id);

	if (fd >= 0) {
		open_debug_file(m, fd, m->build_id);
		if (m->syms)
			return;
	}
	open_binary(m, path);
	if (m->syms && m->lines)
		return;
	fd = debuginfo__fetch_wait(r->d, m->build_id);
	if (fd < 0)
		return;
	elf_syms__free(m->syms);
	dwarf_lines__free(m->lines);
	m->syms = NULL;
	m->lines = NULL;
	open_debug_file(m, fd, m->build_id);
}

static struct module *get_module(struct resym *r, const char *build_id, const char *path)
{
	struct module *v, *m;

	for (size_t i = 0; i < r->nr_mods; i++)
		if (!strcmp(r->mods[i].build_id, build_id))
			return &r->mods[i];
	v = realloc(r->mods, (r->nr_mods + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->mods = v;
	m = &r->mods[r->nr_mods];
	*m = (struct module){ .build_id = strdup(build_id) };
	if (!m->build_id)
		return NULL;
	r->nr_mods++;
	find_module(r, m, path);
	return m;
}

/* The frame named from m: its function (frame 0 at its address, others one byte back). */
static void name_frame(const struct module *m, struct frame *fr, bool first)
{
	const struct elf_sym *sym;
	uint64_t at = fr->module_offset;

	sym = elf_syms__lookup(m->syms, first || !at ? at : at - 1);
	if (sym) {
		fr->symbol = sym->name;
		fr->offset = fr->module_offset - sym->addr;
	}
}

static int redo_stack(struct resym *r, const struct proc_stat *p, struct stack_stat *s)
{
	struct frame *v, fr;
	struct module *m;
	const char *id;
	int n = 0, real = 0;

	if (!s->nr_frames)
		return 0;
	v = malloc((size_t)s->nr_frames * DWARF_LINES_MAX_DEPTH * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < s->nr_frames; i++) {
		fr = *s->frames[i];
		id = fr.build_id ? fr.build_id : proc_stat__build_id(p, fr.module);
		m = id && fr.has_module_offset ? get_module(r, id, fr.module) : NULL;
		if (m && m->syms && fr.inlined)
			continue; /* made again below, from the DWARF found */
		if (m && m->syms) {
			name_frame(m, &fr, real == 0);
			n += frame_lines__expand(m->lines, &fr, &v[n], DWARF_LINES_MAX_DEPTH);
		} else {
			v[n++] = fr;
		}
		real += !fr.inlined;
	}
	/* The strings of new frames go into the arena: the modules go when we are done. */
	s->frames = frame_table__get_all(r->frames, v, n);
	s->nr_frames = s->frames ? n : 0;
	free(v);
	return s->frames || !n ? 0 : -ENOMEM;
}

int resymbolize__snapshot(struct snapshot *snap, struct debuginfo *d, int *found, int *missing)
{
	struct resym r = { .d = d, .arena = snap->arena };
	int err;

	r.frames = r.arena ? frame_table__new(r.arena) : NULL;
	err = r.frames ? 0 : -ENOMEM;

	for (size_t i = 0; i < snap->nr_procs && !err; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks && !err; j++)
			err = redo_stack(&r, &snap->procs[i], &snap->procs[i].stacks[j]);
	*found = *missing = 0;
	for (size_t i = 0; i < r.nr_mods; i++) {
		if (r.mods[i].lines || (r.mods[i].syms && elf_syms__has_symtab(r.mods[i].syms)))
			++*found;
		else
			++*missing;
		free(r.mods[i].build_id);
		elf_syms__free(r.mods[i].syms);
		dwarf_lines__free(r.mods[i].lines);
	}
	free(r.mods);
	frame_table__free(r.frames);
	return err;
}
