/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Unwind tables for --unwind=dwarf: an ELF file's .eh_frame as sorted rows the BPF walk follows. */
#ifndef LT_UNWIND_TABLE_H
#define LT_UNWIND_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "leaktrace.h"

struct unwind_table {
	struct lt_unwind_row *rows; /* sorted by pc, no two neighbours alike but for pc */
	size_t nr;
	int64_t delta; /* link-time address - file offset, in the first executable segment */
};

/*
 * Builds the table of the ELF file (of arch.h's architecture) at path from the FDEs that its
 * .eh_frame_hdr lists (or, without one, as a static binary is linked, that its
 * .eh_frame holds), with libdw interpreting the CFI. Where no FDE covers an
 * address, a LT_CFA_NONE row says so. The file is opened as target_file__open
 * does and read with pread. 0, or a negative errno: -ENOENT for a file that
 * is not there, -ENODATA for one without .eh_frame, -ENOEXEC for one that is
 * not ELF, -E2BIG for addresses beyond 4 GiB, -ENOTSUP for a search table
 * encoding we do not read.
 */
int unwind_table__build(const char *path, struct unwind_table **out);
/* The row that holds pc (link-time address), or NULL before the first row. */
const struct lt_unwind_row *unwind_table__lookup(const struct unwind_table *t, uint64_t pc);
void unwind_table__free(struct unwind_table *t);

#endif
