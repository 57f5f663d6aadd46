// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Turns one frame and the DWARF levels at its address into the frames the source shows. */
#include "frame_lines.h"

int frame_lines__expand(struct dwarf_lines *dl, const struct frame *fr, struct frame *out, int max)
{
	struct src_line lv[DWARF_LINES_MAX_DEPTH];
	const struct src_line *outer;
	uint64_t at;
	int n, k = 0;

	out[0] = *fr;
	if (!dl || !fr->has_module_offset || !fr->module_offset || fr->inlined)
		return 1;
	at = fr->module_offset - 1;
	n = dwarf_lines__lookup(dl, at, lv, DWARF_LINES_MAX_DEPTH);
	if (!n)
		return 1;
	/* Inlined levels beyond max are left out, from the innermost: the real frame stays. */
	for (int i = n - 1 < max - 1 ? 0 : n - max; i < n - 1; i++, k++) {
		out[k] = *fr;
		out[k].symbol = lv[i].function;
		out[k].offset = 0;
		out[k].file = lv[i].file;
		out[k].line = lv[i].line;
		out[k].start_line = lv[i].decl_line;
		out[k].inlined = true;
	}
	outer = &lv[n - 1];
	out[k] = *fr;
	out[k].file = outer->file;
	out[k].line = outer->line;
	out[k].start_line = outer->decl_line;
	if (!fr->symbol && outer->function) {
		out[k].symbol = outer->function;
		out[k].offset = outer->entry && outer->entry <= fr->module_offset ?
					fr->module_offset - outer->entry :
					0;
	}
	return k + 1;
}
