// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Resident pages of a process's mappings, from /proc/PID/pagemap: with
 * PAGEMAP_SCAN (6.7+) the kernel lists the runs of present pages, skipping
 * holes at the page table's levels (a reservation of terabytes costs what its
 * touched pages cost); before, one entry per page is read, up to RESIDENT_READ_MAX.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "resident.h"

#define REGIONS 256 /* runs of present pages listed by one ioctl */
#define BATCH 65536 /* pagemap entries read at once: 256 MiB of address space */
#define PM_PRESENT (1ull << 63)

struct resident {
	int fd;
	uint64_t page;
	bool no_scan;	   /* PAGEMAP_SCAN failed once (an older kernel): entries from then on */
	uint64_t *entries; /* BATCH of them, allocated when first needed */
};

int resident__open(pid_t pid, struct resident **out)
{
	struct resident *r = calloc(1, sizeof(*r));
	char path[64];

	if (!r)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	/* Nothing in it blocks: pagemap is read under the target's mmap lock, briefly. */
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0) {
		int err = -errno;

		free(r);
		return err;
	}
	r->page = (uint64_t)sysconf(_SC_PAGESIZE);
	/* LEAKTRACE_NO_PAGEMAP_SCAN=1 takes the path of kernels before 6.7, for tests. */
	r->no_scan = getenv("LEAKTRACE_NO_PAGEMAP_SCAN") != NULL;
	*out = r;
	return 0;
}

/* The present pages of [start, end) as PAGEMAP_SCAN lists them; -errno without it. */
static int scan_present(struct resident *r, uint64_t start, uint64_t end, uint64_t *bytes)
{
	struct lt_page_region regions[REGIONS];
	struct lt_pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.vec = (uint64_t)(uintptr_t)regions,
		.vec_len = REGIONS,
		/* Present, and not the shared zero page (a read of an untouched page maps it). */
		.category_inverted = LT_PAGE_IS_PFNZERO,
		.category_mask = LT_PAGE_IS_PRESENT | LT_PAGE_IS_PFNZERO,
		.return_mask = LT_PAGE_IS_PRESENT,
	};
	uint64_t sum = 0;
	int n;

	for (;;) {
		n = ioctl(r->fd, LT_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++)
			if (regions[i].end > regions[i].start && regions[i].end <= end)
				sum += regions[i].end - regions[i].start;
		if (arg.walk_end >= end || arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	*bytes = sum;
	return 0;
}

/* The present pages of [start, end), one pagemap entry per page. */
static int read_present(struct resident *r, uint64_t start, uint64_t end, uint64_t *bytes)
{
	uint64_t sum = 0;

	if (end - start > RESIDENT_READ_MAX)
		return -E2BIG;
	if (!r->entries && !(r->entries = malloc(BATCH * sizeof(*r->entries))))
		return -ENOMEM;
	while (start < end) {
		uint64_t pages = (end - start) / r->page;
		ssize_t got;

		if (pages > BATCH)
			pages = BATCH;
		got = pread(r->fd, r->entries, pages * 8, start / r->page * 8);
		if (got < 8)
			return got < 0 ? -errno : -EIO;
		pages = got / 8;
		for (uint64_t i = 0; i < pages; i++)
			sum += r->entries[i] & PM_PRESENT ? r->page : 0;
		start += pages * r->page;
	}
	*bytes = sum;
	return 0;
}

int resident__bytes(struct resident *r, uint64_t start, uint64_t end, uint64_t *bytes)
{
	int err;

	start &= ~(r->page - 1);
	end = (end + r->page - 1) & ~(r->page - 1);
	if (end <= start) {
		*bytes = 0;
		return 0;
	}
	if (!r->no_scan) {
		err = scan_present(r, start, end, bytes);
		if (!err)
			return 0;
		r->no_scan = err == -ENOTTY || err == -EINVAL;
		if (!r->no_scan)
			return err;
	}
	return read_present(r, start, end, bytes);
}

void resident__free(struct resident *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r->entries);
	free(r);
}
