// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * file:line and the chain of inlined calls at an address, from one ELF file's
 * DWARF (libdw), with a cache per address: stacks share most of their frames.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "dwarf_image.h"
#include "dwarf_lines.h"
#include "elf_syms.h"
#include "target_file.h"

/* One cached answer: levels [start, start + n) of the pool. */
struct cached {
	uint64_t addr;
	uint32_t start;
	uint8_t n;
	bool used;
};

/* A file name, owned: libdw's own go with its Dwarf (dwarf_lines__release). */
struct name {
	uint64_t hash;
	char *s;
};

/* A function's code range in a unit, for finding it without walking the unit again. */
struct fn_range {
	uint64_t low, high; /* [low, high) */
	Dwarf_Off die;
};

/* The functions of one unit, by address, built the first time an address falls in it. */
struct unit_index {
	Dwarf_Off unit;
	struct fn_range *v;
	size_t n;
};

/* An ELF file's DWARF, read by libdw: from its image when one could be made. */
struct dwarf_file {
	int fd;
	Elf *elf;
	Dwarf *dw;
	struct dwarf_image img;
};

struct dwarf_lines {
	struct dwarf_file file;
	struct dwarf_file alt; /* the dwz supplement its DWARF refers to, if any */
	struct cached *slots;  /* open addressing, a power of two */
	size_t nr_slots, nr_used;
	bool fresh; /* libdw began reading and has not looked up an address yet */
	struct src_line *pool;
	size_t nr_pool, cap_pool;
	struct name *names; /* the answers' file names; open addressing, a power of two */
	size_t nr_names, nr_named;
	struct unit_index *units; /* sorted by unit offset */
	size_t nr_units;
};

/*
 * Whether every string section (as libdw reads it: decompressed) ends with its
 * NUL: elfutils 0.188 reads strings of these sections with strlen, so one that
 * does not would read past its buffer (found by fuzz_dwarf_lines).
 */
static bool strings_terminated(Elf *elf)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	size_t shstrndx;
	const char *name;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || (strcmp(name, ".debug_str") && strcmp(name, ".debug_line_str")))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_size &&
		    (!data->d_buf || ((const char *)data->d_buf)[data->d_size - 1]))
			return false;
	}
	return true;
}

/*
 * Debug sections lookups never read marked empty in libelf's copy of the
 * headers: dwarf_begin_elf reads every debug section it knows, decompressed
 * (libc's .debug_loclists: 1.4 MiB).
 */
static void skip_unused(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strncmp(name, ".debug_", 7) && !dwarf_image__wanted(name)) {
			sh.sh_type = SHT_NOBITS;
			gelf_update_shdr(scn, &sh);
		}
	}
}

/* Reads fd's DWARF (fd taken): -ENOEXEC for a file that is not ELF, -ENODATA for no DWARF. */
static int file_open(struct dwarf_file *f, int fd)
{
	int err;

	f->fd = fd;
	/* ELF_C_READ: libelf reads with pread; a mapping of a file truncated later could SIGBUS. */
	elf_version(EV_CURRENT);
	f->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF)
		return -ENOEXEC;
	err = dwarf_image__make(fd, f->elf, &f->img);
	if (err == -EBADMSG || err == -EFBIG || err == -ENODATA)
		return -ENODATA;
	if (!err) {
		elf_end(f->elf);
		f->elf = elf_memory(f->img.base, f->img.size);
		if (!f->elf)
			return -ENODATA;
	} else {
		skip_unused(f->elf); /* read by libelf, into memory */
	}
	f->dw = dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
	return f->dw && strings_terminated(f->elf) ? 0 : -ENODATA;
}

static void file_close(struct dwarf_file *f)
{
	if (f->dw)
		dwarf_end(f->dw);
	if (f->elf)
		elf_end(f->elf);
	dwarf_image__free(&f->img);
	if (f->fd >= 0)
		close(f->fd);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Opens path as the supplement, when it is the file of the hex build ID id. */
static bool supplement_try(struct dwarf_file *f, const char *path, const char *id)
{
	int fd = target_file__open(path);
	char *got = fd < 0 ? NULL : elf_syms__fd_build_id(fd);
	bool same = got && !strcmp(got, id);

	free(got);
	if (same && !file_open(f, fd))
		return true;
	if (same)
		file_close(f); /* fd too */
	else if (fd >= 0)
		close(fd);
	return false;
}

/*
 * The supplement dwz made the DWARF of dl refer to (.gnu_debugaltlink: its
 * path and its build ID). libdw would open that path by itself, with open(2),
 * when a lookup first needs it: a FIFO or a FUSE file planted there by the
 * file's owner would hold leaktrace for ever. It is found here instead, by its
 * build ID under ELF_SYMS_DEBUG_ROOT, then by its path (absolute, or beside the file),
 * opened as every target's file is, proven by its build ID, and handed to libdw
 * (dwarf_setalt), whose own search then never runs. 0, also when there is none
 * to find; -ENODATA when one is named and not found: no line of dl is read.
 */
static int find_supplement(struct dwarf_lines *dl)
{
	char id[2 * 64 + 1], path[PATH_MAX], self[64], dir[PATH_MAX], *slash;
	const unsigned char *raw;
	const char *name;
	ssize_t len, n;

	len = dwelf_dwarf_gnu_debugaltlink(dl->file.dw, &name, (const void **)&raw);
	if (len == 0)
		return 0;
	if (len < 2 || len > 64)
		return -ENODATA;
	for (ssize_t i = 0; i < len; i++)
		sprintf(id + 2 * i, "%02x", raw[i]);
	snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", ELF_SYMS_DEBUG_ROOT, id, id + 2);
	if (supplement_try(&dl->alt, path, id) ||
	    (name[0] == '/' && supplement_try(&dl->alt, name, id)))
		goto found;
	/* A relative name is beside the file (the path of our fd: the file, in our namespace). */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", dl->file.fd);
	n = readlink(self, dir, sizeof(dir) - 1);
	dir[n > 0 && n < (ssize_t)sizeof(dir) ? n : 0] = '\0';
	if (name[0] != '/' && n > 0 && n < (ssize_t)sizeof(dir) - 1) {
		slash = strrchr(dir, '/');
		if (slash &&
		    snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - dir), dir, name) <
			    (int)sizeof(path) &&
		    supplement_try(&dl->alt, path, id))
			goto found;
	}
	diag__debug("%s: no source lines: its DWARF's supplement %s (build ID %s) is not found",
		    dir, name, id);
	return -ENODATA;
found:
	dwarf_setalt(dl->file.dw, dl->alt.dw);
	return 0;
}

struct dwarf_lines *dwarf_lines__open(int fd, int *err)
{
	struct dwarf_lines *dl = calloc(1, sizeof(*dl));

	*err = -ENOMEM;
	if (!dl)
		return NULL;
	dl->file.fd = dl->alt.fd = -1;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	*err = fd < 0 ? -errno : file_open(&dl->file, fd);
	if (!*err)
		*err = find_supplement(dl);
	if (*err)
		goto err_free;
	dl->fresh = true;
	return dl;

err_free:
	dwarf_lines__free(dl);
	return NULL;
}

/* The DWARF pages read so far leave leaktrace's RSS (a dwarf_image's: mapped again when read). */
static void release_pages(struct dwarf_lines *dl)
{
	dwarf_image__release(&dl->file.img);
	dwarf_image__release(&dl->alt.img);
}

void dwarf_lines__release(struct dwarf_lines *dl)
{
	if (!dl)
		return;
	/* The alternate's after: libdw does not free what dwarf_setalt gave. */
	if (dl->file.dw)
		dwarf_end(dl->file.dw);
	if (dl->alt.dw)
		dwarf_end(dl->alt.dw);
	dl->file.dw = dl->alt.dw = NULL;
	release_pages(dl);
}

/*
 * libdw's reading of the DWARF again after a release: of the same ELF images,
 * so the offsets units_index keeps still hold. 0, or -ENODATA.
 */
static int reopen(struct dwarf_lines *dl)
{
	dl->file.dw = dwarf_begin_elf(dl->file.elf, DWARF_C_READ, NULL);
	if (dl->file.dw && dl->alt.elf) {
		dl->alt.dw = dwarf_begin_elf(dl->alt.elf, DWARF_C_READ, NULL);
		if (dl->alt.dw)
			dwarf_setalt(dl->file.dw, dl->alt.dw);
	}
	dl->fresh = true;
	if (dl->file.dw && (!dl->alt.elf || dl->alt.dw))
		return 0;
	dwarf_lines__release(dl);
	return -ENODATA;
}

void dwarf_lines__free(struct dwarf_lines *dl)
{
	if (!dl)
		return;
	file_close(&dl->file);
	file_close(&dl->alt); /* after the file: libdw does not free what dwarf_setalt gave */
	for (size_t i = 0; i < dl->nr_names; i++)
		free(dl->names[i].s);
	free(dl->names);
	for (size_t i = 0; i < dl->nr_units; i++)
		free(dl->units[i].v);
	free(dl->units);
	free(dl->slots);
	free(dl->pool);
	free(dl);
}

static struct name *name_slot(struct name *v, size_t n, uint64_t hash, const char *str)
{
	size_t i = hash & (n - 1);

	while (v[i].s && (v[i].hash != hash || strcmp(v[i].s, str)))
		i = (i + 1) & (n - 1);
	return &v[i];
}

static int names_grow(struct dwarf_lines *dl)
{
	size_t n = dl->nr_names ? 2 * dl->nr_names : 64;
	struct name *v = calloc(n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < dl->nr_names; i++)
		if (dl->names[i].s)
			*name_slot(v, n, dl->names[i].hash, dl->names[i].s) = dl->names[i];
	free(dl->names);
	dl->names = v;
	dl->nr_names = n;
	return 0;
}

/* dir "/" file, kept once: NULL when out of memory. */
static const char *name_of(struct dwarf_lines *dl, const char *dir, const char *file)
{
	char buf[PATH_MAX];
	uint64_t hash = 0xcbf29ce484222325ULL;
	struct name *slot;

	if (dir && snprintf(buf, sizeof(buf), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			    file[0] == '.' && file[1] == '/' ? file + 2 : file) < (int)sizeof(buf))
		file = buf;
	for (const char *c = file; *c; c++)
		hash = (hash ^ (unsigned char)*c) * 0x100000001b3ULL;
	if (2 * (dl->nr_named + 1) > dl->nr_names && names_grow(dl))
		return NULL;
	slot = name_slot(dl->names, dl->nr_names, hash, file);
	if (!slot->s && (slot->s = strdup(file))) {
		slot->hash = hash;
		dl->nr_named++;
	}
	return slot->s;
}

/*
 * Names as gdb and eu-addr2line show them: a relative one (DWARF 5 names files
 * from the compilation directory) joined to the unit's DW_AT_comp_dir. Kept by
 * dl: libdw's strings go with its Dwarf.
 */
static const char *full_path(struct dwarf_lines *dl, Dwarf_Die *cu, const char *raw)
{
	Dwarf_Attribute attr;
	const char *dir;

	if (!raw)
		return NULL;
	dir = raw[0] == '/' ? NULL : dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
	/* A relative directory (Debian's packages: "./libio"): libdw has joined it already. */
	return name_of(dl, dir && dir[0] == '/' ? dir : NULL, raw);
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
static void call_site(struct dwarf_lines *dl, Dwarf_Die *cu, Dwarf_Die *die, struct src_line *to)
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

/* DIEs whose children may hold functions without a range of their own: C++ scopes. */
static bool is_container(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_module;
}

/*
 * The inlined instances whose code holds pc inside parent (a function),
 * outermost first, into chain: into a child only when its ranges hold pc.
 */
static int inlined_chain(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int max)
{
	Dwarf_Die die;
	int n;

	if (dwarf_child(parent, &die))
		return 0;
	do {
		if (dwarf_haspc(&die, pc) != 1)
			continue;
		if (dwarf_tag(&die) != DW_TAG_inlined_subroutine)
			return inlined_chain(&die, pc, chain, max); /* a lexical block */
		if (max <= 0)
			return 0;
		chain[0] = die;
		n = inlined_chain(&die, pc, chain + 1, max - 1);
		return n + 1;
	} while (!dwarf_siblingof(&die, &die));
	return 0;
}

static int add_range(struct unit_index *u, size_t *cap, uint64_t low, uint64_t high, Dwarf_Off die)
{
	struct fn_range *v;

	if (u->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		v = realloc(u->v, *cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->v = v;
	}
	u->v[u->n++] = (struct fn_range){ low, high, die };
	return 0;
}

/* Every function with code under parent (into C++ scopes too), with each of its ranges. */
static int index_functions(Dwarf_Die *parent, struct unit_index *u, size_t *cap)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off;
	Dwarf_Die die;
	int tag, err = 0;

	if (dwarf_child(parent, &die))
		return 0;
	do {
		tag = dwarf_tag(&die);
		if (is_container(tag)) {
			err = index_functions(&die, u, cap);
		} else if (tag == DW_TAG_subprogram) {
			off = 0;
			while (!err && (off = dwarf_ranges(&die, off, &base, &low, &high)) > 0)
				err = add_range(u, cap, low, high, dwarf_dieoffset(&die));
		}
	} while (!err && !dwarf_siblingof(&die, &die));
	return err;
}

static int by_low(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

/* The index of unit cu, built now the first time; NULL when out of memory. */
static struct unit_index *unit_of(struct dwarf_lines *dl, Dwarf_Die *cu)
{
	Dwarf_Off off = dwarf_dieoffset(cu);
	size_t lo = 0, hi = dl->nr_units, mid, cap = 0;
	struct unit_index *v, u = { .unit = off };

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (dl->units[mid].unit == off)
			return &dl->units[mid];
		if (dl->units[mid].unit < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	v = realloc(dl->units, (dl->nr_units + 1) * sizeof(*v));
	if (!v)
		return NULL;
	dl->units = v;
	if (index_functions(cu, &u, &cap)) {
		free(u.v);
		return NULL;
	}
	if (u.n)
		qsort(u.v, u.n, sizeof(*u.v), by_low);
	memmove(&v[lo + 1], &v[lo], (dl->nr_units - lo) * sizeof(*v));
	v[lo] = u;
	dl->nr_units++;
	return &v[lo];
}

/*
 * The functions whose code holds pc, outermost first, into chain: the unit's
 * function (from its index), then the instances inlined in it. dwarf_getscopes
 * would walk the unit for each address, and again for an inlined instance's
 * abstract scopes: most of the time of a cold snapshot.
 */
static int function_chain(struct dwarf_lines *dl, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die *chain,
			  int max)
{
	struct unit_index *u = unit_of(dl, cu);
	size_t lo = 0, hi = u ? u->n : 0, mid;

	/* The last range starting at or below pc; functions do not overlap. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u->v[mid].low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || pc >= u->v[lo - 1].high || max <= 0 ||
	    !dwarf_offdie(dl->file.dw, u->v[lo - 1].die, &chain[0]))
		return 0;
	return 1 + inlined_chain(&chain[0], pc, chain + 1, max - 1);
}

/*
 * The levels from the chain (outermost first): each is named by its function;
 * the innermost has the line table's line, each outer one the line of the call
 * the level inside it was inlined at (DW_AT_call_file, DW_AT_call_line).
 */
static int levels_of(struct dwarf_lines *dl, Dwarf_Die *cu, Dwarf_Die *chain, int nr,
		     struct src_line *out)
{
	Dwarf_Addr entry;

	for (int k = 0; k < nr; k++) {
		if (k > 0) {
			memset(&out[k], 0, sizeof(out[k]));
			call_site(dl, cu, &chain[nr - k], &out[k]);
		}
		out[k].function = die_name(&chain[nr - 1 - k]);
		decl_line(&chain[nr - 1 - k], &out[k]);
	}
	if (nr && !dwarf_entrypc(&chain[0], &entry))
		out[nr - 1].entry = entry;
	return nr;
}

/* The levels at addr, from libdw: the line table for the innermost, call sites for the rest. */
static int resolve(struct dwarf_lines *dl, uint64_t addr, struct src_line *out, int max)
{
	Dwarf_Die cu, chain[DWARF_LINES_MAX_DEPTH];
	Dwarf_Line *line;
	int n, lineno;

	if ((!dl->file.dw && reopen(dl)) || !dwarf_addrdie(dl->file.dw, addr, &cu))
		return 0;
	memset(out, 0, sizeof(*out));
	line = dwarf_getsrc_die(&cu, addr);
	if (line) {
		out[0].file = full_path(dl, &cu, dwarf_linesrc(line, NULL, NULL));
		if (!dwarf_lineno(line, &lineno))
			out[0].line = lineno;
	}
	n = function_chain(dl, &cu, addr, chain,
			   max < DWARF_LINES_MAX_DEPTH ? max : DWARF_LINES_MAX_DEPTH);
	/* No function DIE (assembly): the line table's answer alone. */
	return n ? levels_of(dl, &cu, chain, n, out) : out[0].file != NULL;
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
	if (n)
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
		if (n)
			memcpy(out, &dl->pool[c->start], n * sizeof(*out));
		return n;
	}
	n = resolve(dl, addr, v, DWARF_LINES_MAX_DEPTH);
	/*
	 * The first since libdw began (or began again) made it read the header of
	 * every unit (libc's 2,062: nearly every page of its .debug_info) to index
	 * them by address: those pages go now.
	 */
	if (dl->fresh) {
		dl->fresh = false;
		release_pages(dl);
	}
	remember(dl, addr, v, n);
	if (n > max)
		n = max;
	memcpy(out, v, n * sizeof(*out));
	return n;
}
