// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pages of leaktrace's own binary let go once read (self_pages.h). madvise's
 * MADV_DONTNEED on a private file mapping never written drops the pages from
 * the process alone: they stay in the page cache, and a read maps them again.
 */
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "self_pages.h"

static void release_range(uintptr_t start, uintptr_t end)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	start = (start + page - 1) & ~(page - 1);
	end &= ~(page - 1);
	if (start < end)
		madvise((void *)start, end - start, MADV_DONTNEED);
}

void self_pages__release(const void *p, size_t size)
{
	release_range((uintptr_t)p, (uintptr_t)p + size);
}

/* The first object dl_iterate_phdr gives is the executable. */
static int first_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		/* Read-only, from the file's start: what ld.so reads, not code, not data. */
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_flags == PF_R && ph->p_offset == 0)
			release_range(info->dlpi_addr + ph->p_vaddr,
				      info->dlpi_addr + ph->p_vaddr + ph->p_filesz);
		break; /* only the first segment */
	}
	return 1;
}

void self_pages__release_loader_data(void)
{
	dl_iterate_phdr(first_segment, NULL);
}
