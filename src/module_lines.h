/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The DWARF of one module, wherever it is: the file, its debug file, debug dirs, debuginfod. */
#ifndef LT_MODULE_LINES_H
#define LT_MODULE_LINES_H

#include <stdbool.h>

#include "debuginfo.h"
#include "dwarf_lines.h"
#include "elf_syms.h"

struct module_lines;

/*
 * The DWARF of the module syms read, looked for at the first call (*ml NULL):
 * the file's own, its debug file's (found with its symbols), then by build ID
 * in d's debug directories, then from debuginfod; d may be NULL (none of
 * those two). NULL when there is none, or not yet: *pending is set while
 * debuginfod fetches it, and a later call takes the answer.
 */
struct dwarf_lines *module_lines__get(struct module_lines **ml, const struct elf_syms *syms,
				      struct debuginfo *d, bool *pending);
void module_lines__free(struct module_lines *ml);
/* dwarf_lines__release of its DWARF, if read. */
void module_lines__release(struct module_lines *ml);

#endif
