/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Resident pages of a process's mappings, read from outside through
 * /proc/PID/pagemap: what a reservation really holds.
 */
#ifndef LT_RESIDENT_H
#define LT_RESIDENT_H

#include <stdint.h>
#include <sys/types.h>

/* PAGEMAP_SCAN (kernel 6.7; Debian 12's headers predate it): the ranges that hold pages. */
struct lt_page_region {
	uint64_t start, end, categories;
};

struct lt_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define LT_PAGEMAP_SCAN _IOWR('f', 16, struct lt_pm_scan_arg)
#define LT_PAGE_IS_PRESENT (1 << 3)
#define LT_PAGE_IS_SWAPPED (1 << 4)
#define LT_PAGE_IS_PFNZERO (1 << 5)

/*
 * Without PAGEMAP_SCAN a mapping's pagemap is read entry by entry: past this
 * size its residency is left unknown (64 GiB: 128 MiB of entries).
 */
#define RESIDENT_READ_MAX (64ull << 30)

/* One process's pagemap, opened once for all its mappings. */
struct resident;

/* 0, or a negative errno (the process is gone, or its pagemap cannot be opened). */
int resident__open(pid_t pid, struct resident **out);
/*
 * The bytes of [start, end) whose pages are present in memory (not swapped
 * out, not the shared zero page: with PAGEMAP_SCAN only); 0, or a negative
 * errno when unknown (-E2BIG: too large to read without PAGEMAP_SCAN).
 */
int resident__bytes(struct resident *r, uint64_t start, uint64_t end, uint64_t *bytes);
void resident__free(struct resident *r);

#endif
