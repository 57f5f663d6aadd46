/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The function symbols of one ELF file (and of its separate debug file), read with libelf. */
#ifndef LT_ELF_SYMS_H
#define LT_ELF_SYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_syms;

/* Where debug files are, by build ID (.build-id/xx/rest.debug) and by path, as gdb looks. */
#define ELF_SYMS_DEBUG_ROOT "/usr/lib/debug"

struct elf_sym {
	const char *name;
	uint64_t addr; /* link-time virtual address */
	uint64_t size;
};

/*
 * Opens path (as target_file__open does: never blocking, a regular file only)
 * and reads its function symbols from .symtab and .dynsym, and from a separate
 * debug file when one is found under debug_root (default "/usr/lib/debug") by
 * build id (.build-id/xx/rest.debug), or by the plain name in .gnu_debuglink
 * next to the file, in .debug/ there, or under debug_root + the file's
 * directory; a debug file must carry the same build ID, or the link's CRC.
 * Returns NULL with *err set to a negative errno (-ENOEXEC for a non-ELF file).
 * The file is read with pread, never mapped: truncating it cannot hurt us.
 */
struct elf_syms *elf_syms__open(const char *path, const char *debug_root, int *err);
/*
 * The same for the file open at fd (taken over, closed by elf_syms__free), named
 * path inside the directory root_fd (a process's root): the debug link next to
 * it is looked up there, confined to it; root_fd negative: not next to it at all,
 * AT_FDCWD: path is ours.
 */
struct elf_syms *elf_syms__open_fd(int fd, const char *path, int root_fd, const char *debug_root,
				   int *err);
void elf_syms__free(struct elf_syms *syms);

/* The function containing addr (link-time address), or NULL. */
const struct elf_sym *elf_syms__lookup(const struct elf_syms *syms, uint64_t addr);
/* The link-time address of the defined function `name`; 0 or -ENOENT. */
int elf_syms__find(const struct elf_syms *syms, const char *name, uint64_t *addr);
/* File offset <-> link-time address, through the PT_LOAD segments; 0 or -ENOENT. */
int elf_syms__addr_to_offset(const struct elf_syms *syms, uint64_t addr, uint64_t *offset);
int elf_syms__offset_to_addr(const struct elf_syms *syms, uint64_t offset, uint64_t *addr);
/* Copies len bytes of the file's contents at link-time address addr; 0 or -ENOENT. */
int elf_syms__read(const struct elf_syms *syms, uint64_t addr, void *buf, size_t len);

/*
 * True when the function at func_addr has set up a frame pointer (arch.h's
 * arch__frame_setup) before ret, a return address (or any address) inside it.
 */
bool elf_syms__keeps_frame_pointer(const struct elf_syms *syms, uint64_t func_addr, uint64_t ret);
/*
 * True when the file's functions set up frame pointers (9 in 10 of a sample of
 * sizable ones): built with -fno-omit-frame-pointer, so that a frame-pointer
 * walk through it is sound; false when it cannot tell (few symbols).
 */
bool elf_syms__built_with_frame_pointers(const struct elf_syms *syms);
/* True when the instruction just before the return address ret is a call. */
bool elf_syms__after_call(const struct elf_syms *syms, uint64_t ret);

/* The ELF e_machine (EM_X86_64, EM_AARCH64, ...): whose instructions the code is. */
uint16_t elf_syms__machine(const struct elf_syms *syms);
/* The number of functions read, one per address (0 for a stripped file without .dynsym). */
size_t elf_syms__count(const struct elf_syms *syms);
/* True when the file has a .symtab (or its debug file has one). */
bool elf_syms__has_symtab(const struct elf_syms *syms);
/*
 * True for a statically linked executable: an ET_EXEC without PT_INTERP, or a
 * static-pie (ET_DYN without PT_INTERP, DT_NEEDED and DT_SONAME, with an entry
 * point). Shared libraries, ld.so included, carry a DT_SONAME and are not static.
 */
bool elf_syms__is_static(const struct elf_syms *syms);
/* The PT_INTERP path, or NULL. */
const char *elf_syms__interp(const struct elf_syms *syms);
/* Hex build id, or NULL. */
const char *elf_syms__build_id(const struct elf_syms *syms);
/* Path of the separate debug file used, or NULL. */
const char *elf_syms__debug_file(const struct elf_syms *syms);
/*
 * The file read (its fd, kept open until elf_syms__free), and the separate debug
 * file whose symbols were used, or -1: for reading their DWARF (dwarf_lines).
 */
int elf_syms__fd(const struct elf_syms *syms);
int elf_syms__debug_fd(const struct elf_syms *syms);
/* The hex build ID of the ELF file at path, read from its notes alone; free() it. NULL if none. */
char *elf_syms__file_build_id(const char *path);
/* The same for the file open at fd (left open). */
char *elf_syms__fd_build_id(int fd);

#endif
