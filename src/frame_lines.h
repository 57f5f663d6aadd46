/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A frame with its source line, and the calls inlined at its address as frames of their own. */
#ifndef LT_FRAME_LINES_H
#define LT_FRAME_LINES_H

#include "dwarf_lines.h"
#include "frame.h"

/*
 * The frames fr stands for, by the DWARF dl (fr->module_offset is looked up one
 * byte back: every frame's address is a return address): the calls inlined at
 * it, innermost first, each with inlined true, then fr with its file and line
 * (and its function's name from DWARF when fr has none). Writes at most max
 * (>= 1) frames to out and returns how many: fr alone when DWARF tells nothing.
 */
int frame_lines__expand(struct dwarf_lines *dl, const struct frame *fr, struct frame *out, int max);

#endif
