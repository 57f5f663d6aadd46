// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Where a module's DWARF comes from, decided once per module, and its fetch awaited. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "module_lines.h"

enum lines_state {
	LINES_READ,
	LINES_NONE,
	LINES_FETCHING, /* asked of debuginfod: its answer is taken at a later call */
};

struct module_lines {
	struct dwarf_lines *lines;
	enum lines_state state;
};

/* The DWARF of the file open at fd, if it has some; the fd stays the caller's. */
static bool lines_from(struct module_lines *ml, int fd)
{
	int err;

	if (fd < 0)
		return false;
	ml->lines = dwarf_lines__open(fd, &err);
	return ml->lines != NULL;
}

static enum lines_state find_local(struct module_lines *ml, const struct elf_syms *syms,
				   struct debuginfo *d)
{
	const char *id = elf_syms__build_id(syms);
	bool found;
	int fd;

	if (lines_from(ml, elf_syms__fd(syms)) || lines_from(ml, elf_syms__debug_fd(syms)))
		return LINES_READ;
	if (!d || !id)
		return LINES_NONE;
	fd = debuginfo__open_local(d, id);
	if (fd < 0)
		return LINES_FETCHING;
	found = lines_from(ml, fd);
	close(fd);
	return found ? LINES_READ : LINES_NONE;
}

struct dwarf_lines *module_lines__get(struct module_lines **mlp, const struct elf_syms *syms,
				      struct debuginfo *d, bool *pending)
{
	struct module_lines *ml = *mlp;
	int fd;

	if (!ml) {
		ml = calloc(1, sizeof(*ml));
		if (!ml)
			return NULL;
		ml->state = find_local(ml, syms, d);
		*mlp = ml;
	}
	if (ml->state == LINES_FETCHING) {
		fd = debuginfo__fetch(d, elf_syms__build_id(syms));
		if (fd != -EINPROGRESS)
			ml->state = lines_from(ml, fd) ? LINES_READ : LINES_NONE;
		if (fd >= 0)
			close(fd);
	}
	*pending |= ml->state == LINES_FETCHING;
	return ml->lines;
}

void module_lines__release(struct module_lines *ml)
{
	if (ml)
		dwarf_lines__release(ml->lines);
}

void module_lines__free(struct module_lines *ml)
{
	if (!ml)
		return;
	dwarf_lines__free(ml->lines);
	free(ml);
}
