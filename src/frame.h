/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A stack's frame and a module's code mapping: what the symbolizer gives, what snapshots hold. */
#ifndef LT_FRAME_H
#define LT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The strings stay valid until symbolizer__free, also after the process is removed. */
struct frame {
	const char *symbol; /* NULL when unknown; owned by the symbolizer */
	uint64_t offset;    /* from the symbol's start; 0 when symbol is NULL */
	const char *module; /* path as the process sees it, NULL for no file */
	uint64_t address;   /* in the process */
	/*
	 * Where the frame is in its module, for symbolizing it later (addr2line -e
	 * MODULE): the link-time (ELF virtual) address, the address less the
	 * module's load bias; valid when has_module_offset (the file was readable).
	 */
	uint64_t module_offset;
	bool has_module_offset;
	const char *build_id; /* the module's GNU build ID (hex), NULL when it has none */
	/* From the module's DWARF (dwarf_lines.c), when it has some: the line of the call. */
	const char *file; /* the source file, NULL when unknown */
	int line;	  /* 0 when unknown */
	int start_line;	  /* where its function starts in file, 0 when unknown */
	/*
	 * A call the compiler inlined into the next frame (same address): a frame of
	 * its own, as in the source. Its offset is 0.
	 */
	bool inlined;
	bool kernel; /* a kernel stack's (--kernel): exports name it "fn_[k]", as perf does */
};

/* Where a file's code is mapped in a process: for pprof's mappings. */
struct text_mapping {
	uint64_t start, limit; /* [start, limit) */
	uint64_t offset;       /* the file offset at start */
};

/*
 * A frame as exports name it: its function, else "[module basename]", else
 * "[unknown]"; a kernel frame "function_[k]".
 */
const char *frame__name(const struct frame *fr, char *buf, size_t size);
/* The same with the source line where it is known: "fn (file.c:LINE)". */
const char *frame__label(const struct frame *fr, char *buf, size_t size);
/* The last component of a path ("" for NULL). */
const char *frame__basename(const char *path);

#endif
