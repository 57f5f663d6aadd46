// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The mmap system calls of a file's code, found by their bytes in its
 * executable segments (the call, the compare of its result, then a conditional
 * branch: the site) and checked as instructions: a uprobe placed inside an
 * instruction would corrupt the process, so a match counts only where decoding
 * from the start of its unwind row (an instruction boundary, as every row of
 * .eh_frame starts at one) lands on it.
 */
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "mmap_sites.h"
#include "target_file.h"

#define PATTERN_LEN (sizeof(ARCH_MMAP_SYSCALL) - 1)

/* Whether the match at vaddr (seg's bytes from vaddr0 on) is an instruction of a described function. */
static bool is_instruction(Dwarf_CFI *cfi, const uint8_t *seg, size_t n, uint64_t vaddr0,
			   uint64_t vaddr)
{
	Dwarf_Addr start, end;
	Dwarf_Frame *frame;
	bool ok;

	if (dwarf_cfi_addrframe(cfi, vaddr, &frame))
		return false;
	ok = dwarf_frame_info(frame, &start, &end, NULL) >= 0 && start >= vaddr0 &&
	     start <= vaddr && vaddr < end && start - vaddr0 < n;
	free(frame);
	return ok && arch__insn_starts(seg + (start - vaddr0), n - (start - vaddr0), vaddr - start);
}

/* The sites of one executable segment, after the nr found already. */
static int segment_sites(int fd, Dwarf_CFI *cfi, const GElf_Phdr *ph, uint64_t *offsets, int nr,
			 int max)
{
	const uint8_t *p, *end;
	uint8_t *seg;
	int err;

	if (ph->p_filesz < PATTERN_LEN || ph->p_filesz > TARGET_FILE_MAX)
		return nr;
	seg = malloc(ph->p_filesz);
	if (!seg)
		return -ENOMEM;
	err = target_file__pread(fd, seg, ph->p_filesz, ph->p_offset);
	if (err) {
		free(seg);
		return err;
	}
	end = seg + ph->p_filesz;
	for (p = seg; nr < max && (p = memmem(p, end - p, ARCH_MMAP_SYSCALL, PATTERN_LEN)); p++) {
		size_t off = p - seg;

		if (arch__cond_branch(p + PATTERN_LEN, end - p - PATTERN_LEN) &&
		    is_instruction(cfi, seg, ph->p_filesz, ph->p_vaddr, ph->p_vaddr + off))
			offsets[nr++] = ph->p_offset + off + PATTERN_LEN;
	}
	free(seg);
	return nr;
}

int mmap_sites__find(const char *path, uint64_t *offsets, int max)
{
	Dwarf_CFI *cfi = NULL;
	size_t phnum = 0;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	int fd, nr = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	fd = target_file__open(path);
	if (fd < 0)
		return fd;
	/* ELF_C_READ: libelf copies what it reads, where a mapping could SIGBUS on a truncation. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_machine != ARCH_ELF_MACHINE || elf_getphdrnum(elf, &phnum)) {
		nr = -ENOEXEC;
		goto out;
	}
	/* Without unwind information no match can be proven an instruction: none is taken. */
	cfi = dwarf_getcfi_elf(elf);
	for (size_t i = 0; cfi && i < phnum && nr >= 0; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			nr = segment_sites(fd, cfi, &ph, offsets, nr, max);
	if (cfi)
		dwarf_cfi_end(cfi);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return nr;
}
