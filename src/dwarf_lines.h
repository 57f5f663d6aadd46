/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Source lines and inlined calls at an address of one ELF file's DWARF, read with libdw. */
#ifndef LT_DWARF_LINES_H
#define LT_DWARF_LINES_H

#include <stdint.h>

/* The most function levels (an inlined chain and its outer function) told of one address. */
#define DWARF_LINES_MAX_DEPTH 16

struct dwarf_lines;

/* One function level at an address: the innermost (inlined) first, its real function last. */
struct src_line {
	const char *function; /* linkage name when DWARF has one, else its name; or NULL */
	const char *file;     /* as DWARF names it, with its compilation directory: or NULL */
	int line;	      /* 0 when unknown */
	int decl_line;	      /* the line its function starts at (DW_AT_decl_line), or 0 */
	uint64_t entry;	      /* the outermost level only: its function's entry, or 0 */
};

/*
 * Reads the DWARF of the ELF file open at fd (a dup is kept: the caller keeps
 * fd), with pread, never mapped. NULL with *err set: -ENODATA when the file
 * has no DWARF (.debug_info), -ENOEXEC for a file that is not ELF.
 */
struct dwarf_lines *dwarf_lines__open(int fd, int *err);
void dwarf_lines__free(struct dwarf_lines *dl);
/*
 * Lets go of what libdw holds of the DWARF (its units, abbreviations and line
 * tables: 2.8 MiB for libc), and leaves out of leaktrace's RSS the DWARF pages
 * the lookups read (from a dwarf_image: page cache, mapped again when read).
 * The answers stay cached; a lookup of a new address reads the DWARF again.
 */
void dwarf_lines__release(struct dwarf_lines *dl);
/*
 * The function levels at link-time address addr, innermost first, at most max:
 * out[0] has the line of addr itself, each outer level the line of the call
 * that inlined the level inside it. Returns how many (0 when DWARF has nothing
 * there). The strings live until dwarf_lines__free. Answers are cached.
 */
int dwarf_lines__lookup(struct dwarf_lines *dl, uint64_t addr, struct src_line *out, int max);

#endif
