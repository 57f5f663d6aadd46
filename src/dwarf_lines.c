// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * file:line and the chain of inlined calls at an address, from one ELF file's
 * DWARF (libdw), with a cache per address: stacks share most of their frames.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarf_lines.h"

/* One cached answer: levels [start, start + n) of the pool. */
struct cached {
	uint64_t addr;
	uint32_t start;
	uint8_t n;
	bool used;
};

/* A relative file name of libdw's (by its pointer) joined to its unit's compilation directory. */
struct joined {
	const char *raw;
	char *path;
};

struct dwarf_lines {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct cached *slots;	/* open addressing, a power of two */
	size_t nr_slots, nr_used;
	struct src_line *pool;
	size_t nr_pool, cap_pool;
	struct joined *joins;	/* open addressing, a power of two */
	size_t nr_joins, nr_joined;
};

struct dwarf_lines *dwarf_lines__open(int fd, int *err)
{
	struct dwarf_lines *dl = calloc(1, sizeof(*dl));

	*err = -ENOMEM;
	if (!dl)
		return NULL;
	dl->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dl->fd < 0) {
		*err = -errno;
		goto err_free;
	}
	/* ELF_C_READ: libelf reads with pread; a mapping of a file its owner truncates could SIGBUS. */
	elf_version(EV_CURRENT);
	dl->elf = elf_begin(dl->fd, ELF_C_READ, NULL);
	if (!dl->elf || elf_kind(dl->elf) != ELF_K_ELF) {
		*err = -ENOEXEC;
		goto err_free;
	}
	dl->dw = dwarf_begin_elf(dl->elf, DWARF_C_READ, NULL);
	if (!dl->dw) {
		*err = -ENODATA;
		goto err_free;
	}
	*err = 0;
	return dl;

err_free:
	dwarf_lines__free(dl);
	return NULL;
}

void dwarf_lines__free(struct dwarf_lines *dl)
{
	if (!dl)
		return;
	if (dl->dw)
		dwarf_end(dl->dw);
	if (dl->elf)
		elf_end(dl->elf);
	if (dl->fd >= 0)
		close(dl->fd);
	for (size_t i = 0; i < dl->nr_joins; i++)
		free(dl->joins[i].path);
	free(dl->joins);
	free(dl->slots);
	free(dl->pool);
	free(dl);
}

static struct joined *join_slot(struct joined *v, size_t n, const char *raw)
{
	size_t i = ((uintptr_t)raw * 0x9e3779b97f4a7c15ULL >> 20) & (n - 1);

	while (v[i].raw && v[i].raw != raw)
		i = (i + 1) & (n - 1);
	return &v[i];
}

static int joins_grow(struct dwarf_lines *dl)
{
	size_t n = dl->nr_joins ? 2 * dl->nr_joins : 64;
	struct joined *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < dl->nr_joins; i++)
		if (dl->joins[i].raw)
			*join_slot(v, n, dl->joins[i].raw) = dl->joins[i];
	free(dl->joins);
	dl->joins = v;
	dl->nr_joins = n;
	return 0;
}

/*
 * Names as gdb and eu-addr2line show them: a relative one (DWARF 5 names files
 * from the compilation directory) joined to the unit's DW_AT_comp_dir.
 */
static const char *full_path(struct dwarf_lines *dl, Dwarf_Die *cu, const char *raw)
{
	Dwarf_Attribute attr;
	struct joined *j;
	const char *dir;

	if (!raw || raw[0] == '/')
		return raw;
	dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
	/* A relative directory too (Debian's packages: "./libio"): libdw has joined that already. */
	if (!dir || dir[0] != '/')
		return raw;
	if (2 * (dl->nr_joined + 1) > dl->nr_joins && joins_grow(dl))
		return raw;
	j = join_slot(dl->joins, dl->nr_joins, raw);
	if (j->raw)
		return j->path;
	if (asprintf(&j->path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		     raw[0] == '.' && raw[1] == '/' ? raw + 2 : raw) < 0) {
		j->path = NULL;
		return raw;
	}
	j->raw = raw;
	dl->nr_joined++;
	return j->path;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name;
}

/* Where the inlined instance die was called from: its DW_AT_call_file and DW_AT_call_line. */
static void call_site(struct dwarf_lines *dl, Dwarf_Die *cu, Dwarf_Die *die,
		      struct src_line *to)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word idx, line;
	size_t nr;

	if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &idx) &&
	    !dwarf_getsrcfiles(cu, &files, &nr) && idx < nr)
		to->file = full_path(dl, cu, dwarf_filesrc(files, idx, NULL, NULL));
	if (!dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &line) && line <= INT32_MAX)
		to->line = (int)line;
}

/* The line its function's definition starts at, of the function itself for an inlined instance. */
static void decl_line(Dwarf_Die *die, struct src_line *to)
{
	Dwarf_Attribute attr;
	Dwarf_Word line;

	if (!dwarf_formudata(dwarf_attr_integrate(die, DW_AT_decl_line, &attr), &line) &&
	    line <= INT32_MAX)
		to->decl_line = (int)line;
}

/*
 * The function levels from scope `from` of the chain scopes on. After an inlined
 * instance dwarf_getscopes goes on with the scopes of the inlined function's
 * definition: the chain that holds the instance is asked for then
 * (dwarf_getscopes_die), as eu-addr2line does.
 */
static int walk_scopes(struct dwarf_lines *dl, Dwarf_Die *cu, Dwarf_Die *scopes, int nr, int from,
		       struct src_line *out, int max)
{
	Dwarf_Die *outer = NULL;
	Dwarf_Addr entry;
	int n = 0, nr_outer, tag;

	for (int i = from; i < nr && n < max; i++) {
		tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		out[n].function = die_name(&scopes[i]);
		decl_line(&scopes[i], &out[n]);
		if (tag == DW_TAG_subprogram) {
			if (!dwarf_entrypc(&scopes[i], &entry))
				out[n].entry = entry;
			return n + 1;
		}
		/* The next level out is where this one was inlined. */
		if (++n == max)
			return n;
		memset(&out[n], 0, sizeof(out[n]));
		call_site(dl, cu, &scopes[i], &out[n]);
		nr_outer = dwarf_getscopes_die(&scopes[i], &outer);
		if (nr_outer > 0)
			n += walk_scopes(dl, cu, outer, nr_outer, 1, &out[n], max - n);
		free(outer);
		return n;
	}
	return n;
}

/* The levels at addr, from libdw: the line table for the innermost, call sites for the rest. */
static int resolve(struct dwarf_lines *dl, uint64_t addr, struct src_line *out, int max)
{
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Line *line;
	int nr_scopes, n = 0, lineno;

	if (!dwarf_addrdie(dl->dw, addr, &cu))
		return 0;
	memset(out, 0, sizeof(*out));
	line = dwarf_getsrc_die(&cu, addr);
	if (line) {
		out[0].file = full_path(dl, &cu, dwarf_linesrc(line, NULL, NULL));
		if (!dwarf_lineno(line, &lineno))
			out[0].line = lineno;
	}
	nr_scopes = dwarf_getscopes(&cu, addr, &scopes);
	if (nr_scopes > 0)
		n = walk_scopes(dl, &cu, scopes, nr_scopes, 0, out, max);
	free(scopes);
	/* No function DIE (assembly): the line table's answer alone. */
	return n ? n : out[0].file != NULL;
}

static struct cached *slot_of(struct dwarf_lines *dl, uint64_t addr)
{
	size_t mask = dl->nr_slots - 1, i = (addr * 0x9e3779b97f4a7c15ULL >> 20) & mask;

	while (dl->slots[i].used && dl->slots[i].addr != addr)
		i = (i + 1) & mask;
	return &dl->slots[i];
}

static int slots_grow(struct dwarf_lines *dl)
{
	struct cached *old = dl->slots;
	size_t nr_old = dl->nr_slots;

	dl->nr_slots = nr_old ? nr_old * 2 : 1024;
	dl->slots = calloc(dl->nr_slots, sizeof(*dl->slots));
	if (!dl->slots) {
		dl->slots = old;
		dl->nr_slots = nr_old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < nr_old; i++)
		if (old[i].used)
			*slot_of(dl, old[i].addr) = old[i];
	free(old);
	return 0;
}

/* Keeps the answer for addr; best effort (a lookup that is not cached is only slower). */
static void remember(struct dwarf_lines *dl, uint64_t addr, const struct src_line *v, int n)
{
	struct cached *c;
	struct src_line *pool;
	size_t cap;

	if (2 * (dl->nr_used + 1) > dl->nr_slots && slots_grow(dl))
		return;
	if (dl->nr_pool + n > dl->cap_pool) {
		cap = dl->cap_pool ? 2 * dl->cap_pool : 1024;
		while (cap < dl->nr_pool + n)
			cap *= 2;
		pool = realloc(dl->pool, cap * sizeof(*pool));
		if (!pool)
			return;
		dl->pool = pool;
		dl->cap_pool = cap;
	}
	memcpy(&dl->pool[dl->nr_pool], v, n * sizeof(*v));
	c = slot_of(dl, addr);
	*c = (struct cached){ .addr = addr, .start = dl->nr_pool, .n = n, .used = true };
	dl->nr_pool += n;
	dl->nr_used++;
}

int dwarf_lines__lookup(struct dwarf_lines *dl, uint64_t addr, struct src_line *out, int max)
{
	struct src_line v[DWARF_LINES_MAX_DEPTH];
	struct cached *c;
	int n;

	if (max <= 0)
		return 0;
	c = dl->nr_slots ? slot_of(dl, addr) : NULL;
	if (c && c->used) {
		n = c->n < max ? c->n : max;
		memcpy(out, &dl->pool[c->start], n * sizeof(*out));
		return n;
	}
	n = resolve(dl, addr, v, DWARF_LINES_MAX_DEPTH);
	remember(dl, addr, v, n);
	if (n > max)
		n = max;
	memcpy(out, v, n * sizeof(*out));
	return n;
}
