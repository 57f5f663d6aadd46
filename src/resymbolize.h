/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `leaktrace report --symbolize`: a saved snapshot's frames named again on this
 * machine, from each frame's build ID and module offset: a production host's
 * stripped binaries, their debug files here, or debuginfod's.
 */
#ifndef LT_RESYMBOLIZE_H
#define LT_RESYMBOLIZE_H

#include "debuginfo.h"
#include "snapshot.h"

/*
 * Every frame with a module offset, in a module found by its build ID (the
 * debug directories of d, the module's own path when that file carries the
 * build ID, then debuginfod), gets its function, file:line and inlined calls
 * from there; the others stay as they were. Frames marked inlined are made
 * again from the DWARF found. Strings go to snap's arena. 0 or -ENOMEM; *found
 * tells how many modules had debug info or a symbol table here, *missing how
 * many had neither (a stripped binary alone, or nothing of that build).
 */
int resymbolize__snapshot(struct snapshot *snap, struct debuginfo *d, int *found, int *missing);

#endif
