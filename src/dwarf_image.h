/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The DWARF sections of an ELF file, decompressed into an unnamed file of
 * leaktrace's own and mapped: libdw reads them there, and what it never reads
 * stays page cache the kernel can drop, instead of leaktrace's heap.
 */
#ifndef LT_DWARF_IMAGE_H
#define LT_DWARF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <gelf.h>

/* The largest image made: as large as a file leaktrace reads (target_file.h). */
#define DWARF_IMAGE_MAX (4ULL << 30)

struct dwarf_image {
	void *base;
	size_t size;
};

/* Whether libdw's lookups of lines and inlined calls read the section of this name. */
bool dwarf_image__wanted(const char *name);
/*
 * Builds the image of elf's wanted sections (elf read from fd, ELF_C_READ: its
 * headers only are used), each decompressed, in an unnamed file on a disk-backed
 * file system, and maps it. 0; -ENODATA when it has no debug section;
 * -EBADMSG when the file is broken (a section cut short, or not decompressing
 * to the size its header says), -EFBIG past DWARF_IMAGE_MAX: its DWARF is not
 * to be read. Other errors (no disk to write to, a file size limit (ulimit -f)
 * refusing the image, not a 64-bit ELF of this byte order, a compression
 * other than zlib) leave the file to be read as libelf reads it.
 */
int dwarf_image__make(int fd, Elf *elf, struct dwarf_image *img);
void dwarf_image__free(struct dwarf_image *img);
/* Lets go of the image's pages leaktrace has read (they stay page cache, read again if asked). */
void dwarf_image__release(struct dwarf_image *img);
/* The directory the unnamed files are made in (/var/tmp), for the tests. */
void dwarf_image__set_dir(const char *dir);

#endif
