// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reachability by a conservative pointer scan of a live process, as valgrind's
 * leak check does it, but from outside: process_vm_readv reads the roots (the
 * writable mappings around the blocks, stacks from their stack pointer up,
 * registers), every aligned word that points into an outstanding block marks
 * it reachable, and reachable blocks are scanned in turn. What is left is lost;
 * a lost block that only other lost blocks point to is indirectly lost.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procmaps.h"
#include "reach.h"

#define CHUNK (1u << 20)	/* bytes read at once */
#define PAGE 4096u
#define REGION_SHIFT 16		/* the index finds blocks by 64 KiB region */
#define BIG_REGIONS 64		/* blocks wider than this are searched apart */
#define RED_ZONE 128		/* below the stack pointer, still live (x86-64 ABI) */
#define SPARSE_MIN (64ull << 20)	/* anonymous ranges this large: only their pages */
#define SPARSE_MAX (1ull << 40)	/* anonymous ranges larger than this are reservations */
#define PAGEMAP_BATCH 65536	/* pagemap entries read at once: 256 MiB of address space */
#define MAX_RANGES 512	/* ranges in one read */
#define MERGE_GAP 1024		/* ranges closer than this are read as one */
#define BUF_SIZE (CHUNK + MAX_RANGES * MERGE_GAP)

enum { UNSEEN, REACHABLE, LOST, INDIRECT };

#define NO_BLOCK UINT32_MAX

/* A pointer from one unreached block into another: the graph the lost are told apart on. */
struct edge {
	uint32_t from, to;
};

/* The blocks overlapping one region: a run of the sorted array. */
struct region {
	uint64_t key;		/* region number + 1; 0 marks a free slot */
	uint32_t first;
	uint32_t count;
};

/* A range of the target to scan, and where the batch read it to. */
struct range {
	uint64_t addr;
	size_t len;
	size_t at;		/* offset in the buffer */
	uint32_t owner;		/* the block it is part of, or NO_BLOCK for roots */
};

/*
 * Ranges read with one process_vm_readv: sorted, and those less than
 * MERGE_GAP apart read as one, since the kernel's cost is per range more than
 * per byte. The buffer holds their bytes and the gaps between them.
 */
struct batch {
	struct range r[MAX_RANGES];
	size_t nr;
	size_t bytes;		/* of the ranges */
};

struct scan {
	pid_t pid;
	struct reach_block *blocks;
	size_t n;
	uint8_t *state;
	uint64_t lo, hi;	/* every block lies in [lo, hi) */
	struct region *regions;
	size_t nr_regions;	/* slots, a power of two */
	uint32_t *big;		/* indices of the blocks wider than BIG_REGIONS regions */
	size_t nr_big;
	uint32_t *work;		/* blocks to scan */
	size_t nr_work;
	uint32_t owner;		/* the block the ranges added now belong to, or NO_BLOCK */
	bool collecting;	/* reading the unreached blocks: record edges, mark nothing */
	uint32_t from;		/* while scanning a range of the batch: its owner */
	struct edge *edges;
	size_t nr_edges, cap_edges;
	char *buf;		/* BUF_SIZE bytes */
	int pagemap_fd;		/* /proc/PID/pagemap, opened when first needed; -1 before */
	uint64_t *pagemap;	/* PAGEMAP_BATCH entries */
	struct batch batch;
	struct reach_freeze *fz;
	uint64_t deadline_ns;
	struct reach_stats *stats;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int by_addr(const void *a, const void *b)
{
	const struct reach_block *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static size_t region_slot(const struct scan *s, uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ULL >> 20) & (s->nr_regions - 1);
}

static struct region *region_find(const struct scan *s, uint64_t region)
{
	size_t i = region_slot(s, region + 1);

	while (s->regions[i].key && s->regions[i].key != region + 1)
		i = (i + 1) & (s->nr_regions - 1);
	return &s->regions[i];
}

static uint64_t last_region(const struct reach_block *b)
{
	return (b->addr + (b->size ? b->size : 1) - 1) >> REGION_SHIFT;
}

/* Indexes the sorted blocks by region, so that most words are told apart in one probe. */
static int index_blocks(struct scan *s)
{
	uint64_t prev = UINT64_MAX;
	size_t distinct = 0, slots = 64;

	/* Sorted and disjoint, the blocks visit the regions in order: count them first. */
	for (size_t i = 0; i < s->n; i++) {
		uint64_t first = s->blocks[i].addr >> REGION_SHIFT, last = last_region(&s->blocks[i]);

		if (last - first >= BIG_REGIONS)
			continue;
		distinct += last - first + 1 - (first == prev);
		prev = last;
	}
	while (slots < 2 * distinct)
		slots *= 2;
	s->nr_regions = slots;
	s->regions = calloc(s->nr_regions, sizeof(*s->regions));
	s->big = calloc(s->n, sizeof(*s->big));
	if (!s->regions || !s->big)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		uint64_t first = s->blocks[i].addr >> REGION_SHIFT, last = last_region(&s->blocks[i]);

		if (last - first >= BIG_REGIONS) {
			s->big[s->nr_big++] = i;
			continue;
		}
		for (uint64_t r = first; r <= last; r++) {
			struct region *slot = region_find(s, r);

			if (!slot->key)
				*slot = (struct region){ r + 1, i, 0 };
			slot->count = i - slot->first + 1;
		}
	}
	return 0;
}

/* The block that holds address v, or -1. */
static long block_at(const struct scan *s, uint64_t v)
{
	const struct region *r;
	size_t lo, hi;

	if (v < s->lo || v >= s->hi)
		return -1;
	r = region_find(s, v >> REGION_SHIFT);
	if (r->key) {
		lo = r->first;
		hi = r->first + r->count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct reach_block *b = &s->blocks[mid];

			if (v < b->addr)
				hi = mid;
			else if (v - b->addr >= (b->size ? b->size : 1))
				lo = mid + 1;
			else
				return mid;
		}
	}
	for (size_t i = 0; i < s->nr_big; i++) {
		const struct reach_block *b = &s->blocks[s->big[i]];

		if (v >= b->addr && v - b->addr < b->size)
			return s->big[i];
	}
	return -1;
}

static void add_edge(struct scan *s, uint32_t to)
{
	struct edge *v;

	if (s->nr_edges == s->cap_edges) {
		s->cap_edges = s->cap_edges ? 2 * s->cap_edges : 1024;
		v = realloc(s->edges, s->cap_edges * sizeof(*v));
		if (!v) {	/* without it, a lost block may be counted as not indirect */
			s->cap_edges = s->nr_edges;
			return;
		}
		s->edges = v;
	}
	s->edges[s->nr_edges++] = (struct edge){ s->from, to };
}

/* A word seen in scanned memory: the block it points into, if any, is reached. */
static void mark(struct scan *s, uint64_t v)
{
	long i = block_at(s, v);

	if (i < 0)
		return;
	if (s->collecting) {
		if (s->state[i] == UNSEEN && (uint32_t)i != s->from)
			add_edge(s, i);
		return;
	}
	if (s->state[i] != UNSEEN)
		return;
	s->state[i] = REACHABLE;
	s->work[s->nr_work++] = i;
}

static void scan_words(struct scan *s, const char *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] - s->lo < s->hi - s->lo)
			mark(s, w[i]);
}

static void check_deadline(struct scan *s)
{
	if (s->fz && s->fz->held && now_ns() > s->deadline_ns) {
		reach__thaw(s->fz);
		s->stats->thawed_early = true;
	}
}

/* Reads [addr, addr+len) of the target into dst; pages that cannot be read are zeros. */
static void read_mem(struct scan *s, char *dst, uint64_t addr, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)addr, len };
	ssize_t got = process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
	size_t done = got > 0 ? (size_t)got : 0;

	/* A page gone or unreadable (a guard, a device): read on past it. */
	while (done < len) {
		size_t page = PAGE - ((addr + done) & (PAGE - 1));

		if (page > len - done)
			page = len - done;
		local = (struct iovec){ dst + done, page };
		remote = (struct iovec){ (void *)(addr + done), page };
		if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) != (ssize_t)page)
			memset(dst + done, 0, page);
		done += page;
	}
}

static int by_range_addr(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Reads the ranges gathered in the batch with one system call, and scans them. */
static void batch_flush(struct scan *s)
{
	struct iovec local[MAX_RANGES], remote[MAX_RANGES];
	struct batch *b = &s->batch;
	size_t nr_iov = 0, used = 0, asked = 0;
	ssize_t got;

	if (!b->nr)
		return;
	qsort(b->r, b->nr, sizeof(b->r[0]), by_range_addr);
	for (size_t i = 0; i < b->nr; i++) {
		struct range *r = &b->r[i];
		struct iovec *last = nr_iov ? &remote[nr_iov - 1] : NULL;
		uint64_t last_end = last ? (uint64_t)last->iov_base + last->iov_len : 0;

		if (last && r->addr >= last_end && r->addr - last_end < MERGE_GAP) {
			size_t grow = r->addr + r->len - last_end;

			r->at = used + (r->addr - last_end);
			last->iov_len += grow;
			local[nr_iov - 1].iov_len += grow;
			used += grow;
		} else {
			r->at = used;
			local[nr_iov] = (struct iovec){ s->buf + used, r->len };
			remote[nr_iov++] = (struct iovec){ (void *)r->addr, r->len };
			used += r->len;
		}
	}
	for (size_t i = 0; i < nr_iov; i++)
		asked += remote[i].iov_len;
	got = process_vm_readv(s->pid, local, nr_iov, remote, nr_iov, 0);
	if (got != (ssize_t)asked)	/* a hole somewhere: each range on its own */
		for (size_t i = 0; i < nr_iov; i++)
			read_mem(s, local[i].iov_base, (uint64_t)remote[i].iov_base,
				 remote[i].iov_len);
	s->stats->bytes_read += asked;
	/* Marking adds to the work list, not to the batch: the buffer stays as read. */
	for (size_t i = 0; i < b->nr; i++) {
		s->from = b->r[i].owner;
		scan_words(s, s->buf + b->r[i].at, b->r[i].len);
	}
	b->nr = b->bytes = 0;
	check_deadline(s);
}

/* Adds [start, end) to the ranges to read and scan (whole aligned words only). */
static void scan_range(struct scan *s, uint64_t start, uint64_t end)
{
	struct batch *b = &s->batch;

	start = (start + 7) & ~7ULL;
	end &= ~7ULL;
	while (start < end) {
		size_t len = end - start;

		if (b->nr == MAX_RANGES || b->bytes == CHUNK)
			batch_flush(s);
		if (len > CHUNK - b->bytes)
			len = CHUNK - b->bytes;
		b->r[b->nr++] = (struct range){ start, len, 0, s->owner };
		b->bytes += len;
		start += len;
	}
}

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
#define PM_REGIONS 256

/* Scans the runs of [start, end) that hold pages, as PAGEMAP_SCAN lists them; -errno without it. */
static int scan_listed_pages(struct scan *s, uint64_t start, uint64_t end)
{
	struct lt_page_region regions[PM_REGIONS];
	struct lt_pm_scan_arg arg = {
		.size = sizeof(arg), .start = start, .end = end,
		.vec = (uint64_t)(uintptr_t)regions, .vec_len = PM_REGIONS,
		.category_anyof_mask = LT_PAGE_IS_PRESENT | LT_PAGE_IS_SWAPPED,
		.return_mask = LT_PAGE_IS_PRESENT | LT_PAGE_IS_SWAPPED,
	};
	uint64_t data = 0;
	int n;

	for (;;) {
		n = ioctl(s->pagemap_fd, LT_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return data ? 0 : -errno;	/* a failure halfway: the rest counts as read */
		for (int i = 0; i < n; i++) {
			scan_range(s, regions[i].start, regions[i].end);
			data += regions[i].end - regions[i].start;
		}
		if (arg.walk_end >= end || arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	s->stats->bytes_skipped += end - start - data;
	return 0;
}

/* Scans the runs of [start, end) that hold pages, one pagemap entry per page. */
static void scan_mapped_pages(struct scan *s, uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t pages = (end - start + PAGE - 1) / PAGE, run = 0;
		ssize_t got;

		if (pages > PAGEMAP_BATCH)
			pages = PAGEMAP_BATCH;
		got = pread(s->pagemap_fd, s->pagemap, pages * 8, start / PAGE * 8);
		if (got < 8) {
			scan_range(s, start, end);	/* no pagemap: read it all */
			return;
		}
		pages = got / 8;
		/* Bit 63: present; bit 62: swapped. Runs of such pages are read. */
		for (uint64_t i = 0; i <= pages; i++) {
			if (i < pages && (s->pagemap[i] >> 62)) {
				run++;
				continue;
			}
			if (run)
				scan_range(s, start + (i - run) * PAGE,
					   start + i * PAGE < end ? start + i * PAGE : end);
			if (i < pages)
				s->stats->bytes_skipped += PAGE;
			run = 0;
		}
		start += pages * PAGE;
	}
}

/*
 * Private anonymous memory, large: only the pages that hold data, present or
 * swapped out, as /proc/PID/pagemap says. Reading the others would give zeros
 * and make the kernel build page tables for them in the target (gigabytes for
 * a reservation of terabytes). Without PAGEMAP_SCAN, a range past SPARSE_MAX
 * is taken for a reservation (a sanitizer's shadow) and skipped.
 */
static void scan_anon(struct scan *s, uint64_t start, uint64_t end)
{
	char path[64];

	if (end - start < SPARSE_MIN) {
		scan_range(s, start, end);
		return;
	}
	start &= ~(uint64_t)(PAGE - 1);
	if (s->pagemap_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", s->pid);
		s->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* LEAKTRACE_NO_PAGEMAP_SCAN=1 takes the path of kernels before 6.7, for tests. */
	if (s->pagemap_fd >= 0 && !getenv("LEAKTRACE_NO_PAGEMAP_SCAN") &&
	    !scan_listed_pages(s, start, end))
		return;
	if (s->pagemap_fd < 0 || end - start > SPARSE_MAX) {
		s->stats->bytes_skipped += end - start;
		return;
	}
	if (!s->pagemap && !(s->pagemap = malloc(PAGEMAP_BATCH * sizeof(*s->pagemap)))) {
		scan_range(s, start, end);
		return;
	}
	scan_mapped_pages(s, start, end);
}

/* Scans the blocks on the work list, and those they lead to, until none is left. */
static void drain(struct scan *s)
{
	while (s->nr_work || s->batch.nr) {
		while (s->nr_work) {
			const struct reach_block *b = &s->blocks[s->work[--s->nr_work]];

			s->owner = b - s->blocks;
			scan_anon(s, b->addr, b->addr + b->size);
		}
		s->owner = NO_BLOCK;
		batch_flush(s);
	}
}

/* The stack pointer of a thread blocked in the kernel, from /proc/PID/task/TID/syscall. */
static int blocked_sp(pid_t pid, pid_t tid, uint64_t *sp)
{
	char path[64], line[512], *tok, *save, *prev = NULL, *last = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	/* "NR ARGS... SP PC", "-1 SP PC" when blocked outside a syscall, or "running". */
	for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		prev = last;
		last = tok;
	}
	if (!prev || strncmp(prev, "0x", 2))
		return -EAGAIN;
	*sp = strtoull(prev, NULL, 16);
	return 0;
}

/*
 * A thread's stack pointer: its stack holds roots from there up, not below,
 * where only dead frames are. A stack the process mapped itself (pthread's,
 * recorded as an mmap block) is such a root too, not a block to judge.
 */
static void bound_stack(struct scan *s, const struct procmaps *maps, uint64_t *from, uint64_t sp)
{
	const struct procmap *m = procmaps__find(maps, sp);
	long b = block_at(s, sp);
	uint64_t low = (sp - RED_ZONE) & ~7ULL;

	if (b >= 0) {
		const struct reach_block *blk = &s->blocks[b];

		s->state[b] = REACHABLE;	/* and not scanned below sp */
		scan_range(s, low > blk->addr ? low : blk->addr, blk->addr + blk->size);
	} else if (m) {
		uint64_t *f = &from[m - maps->v];

		/* Two threads on one stack (a signal stack, say): the lower bound holds. */
		if (*f == m->start || low < *f)
			*f = low > m->start ? low : m->start;
	}
	s->stats->threads_bounded++;
}

/* Bounds the stacks of the threads whose stack pointer is known: given, or blocked in the kernel. */
static void stack_bounds(struct scan *s, const struct procmaps *maps, uint64_t *from,
			 const struct reach_thread *threads, size_t nr_threads)
{
	char path[64];
	struct dirent *d;
	uint64_t sp = 0;
	DIR *dir;

	for (size_t i = 0; i < nr_threads; i++)
		bound_stack(s, maps, from, threads[i].regs.rsp);
	snprintf(path, sizeof(path), "/proc/%d/task", s->pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		pid_t tid = atoi(d->d_name);
		bool known = false;

		for (size_t i = 0; i < nr_threads; i++)
			known |= threads[i].tid == tid;
		if (tid > 0 && !known && !blocked_sp(s->pid, tid, &sp))
			bound_stack(s, maps, from, sp);
	}
	if (dir)
		closedir(dir);
}

/* Memory that holds roots: writable, readable, and not a device's. */
static bool root_mapping(const struct procmap *m)
{
	if (!m->readable || !m->writable)
		return false;
	if (!strncmp(m->path, "/dev/", 5) && strcmp(m->path, "/dev/zero") &&
	    strncmp(m->path, "/dev/shm/", 9))
		return false;
	return strncmp(m->path, "[v", 2) != 0;	/* [vvar], [vsyscall] */
}

/* Scans [start, end) as roots, skipping the blocks inside it (scanned only when reached). */
static void scan_roots(struct scan *s, uint64_t start, uint64_t end, bool anon)
{
	void (*scan)(struct scan *s, uint64_t start, uint64_t end) = anon ? scan_anon : scan_range;
	size_t lo = 0, hi = s->n;

	/* The first block ending after start. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->blocks[mid].addr + s->blocks[mid].size <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->n && start < end; i++) {
		const struct reach_block *b = &s->blocks[i];

		if (b->addr >= end)
			break;
		if (b->addr > start)
			scan(s, start, b->addr);
		if (b->addr + b->size > start)
			start = b->addr + b->size;
	}
	if (start < end)
		scan(s, start, end);
}

static int by_from(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/*
 * Tells lost from indirectly lost, as valgrind does: each unreached block in
 * address order that no earlier one led to is lost, and what it leads to is
 * indirectly lost (an earlier lost block it reaches joins it). The unreached
 * blocks are read once, in batches, for the pointers between them; the
 * floods then run on those edges, in memory.
 */
static void classify_lost(struct scan *s)
{
	size_t *first = NULL, nr_stack = 0;
	uint32_t *stack = s->work;

	s->collecting = true;
	for (size_t i = 0; i < s->n; i++) {
		if (s->state[i] != UNSEEN)
			continue;
		s->owner = i;
		scan_anon(s, s->blocks[i].addr, s->blocks[i].addr + s->blocks[i].size);
	}
	s->owner = NO_BLOCK;
	batch_flush(s);
	s->collecting = false;
	if (s->nr_edges)
		qsort(s->edges, s->nr_edges, sizeof(*s->edges), by_from);
	first = calloc(s->n + 1, sizeof(*first));
	if (!first)
		return;		/* every unreached block stays lost */
	for (size_t e = 0; e < s->nr_edges; e++)
		first[s->edges[e].from + 1]++;
	for (size_t i = 0; i < s->n; i++)
		first[i + 1] += first[i];
	for (size_t i = 0; i < s->n; i++) {
		if (s->state[i] != UNSEEN)
			continue;
		s->state[i] = LOST;
		stack[nr_stack++] = i;
		while (nr_stack) {
			uint32_t b = stack[--nr_stack];

			for (size_t e = first[b]; e < first[b + 1]; e++) {
				uint32_t t = s->edges[e].to;

				if (t == i || s->state[t] == INDIRECT)
					continue;
				if (s->state[t] == UNSEEN)
					stack[nr_stack++] = t;
				s->state[t] = INDIRECT;	/* an earlier lost one joins this clique */
			}
		}
	}
	free(first);
}

int reach__scan(pid_t pid, struct reach_block *blocks, size_t n,
		const struct reach_thread *threads, size_t nr_threads,
		struct reach_freeze *fz, uint64_t deadline_ns, struct reach_stats *stats)
{
	static const enum reach_state verdict[] = {
		[REACHABLE] = REACH_REACHABLE, [LOST] = REACH_LOST, [INDIRECT] = REACH_INDIRECT,
	};
	struct scan s = {
		.pid = pid, .blocks = blocks, .n = n, .owner = NO_BLOCK, .pagemap_fd = -1,
		.fz = fz, .deadline_ns = deadline_ns, .stats = stats,
	};
	struct procmaps *maps = NULL;
	uint64_t t0 = now_ns(), *from = NULL;
	int err;

	memset(stats, 0, sizeof(*stats));
	if (!n)
		return 0;
	qsort(blocks, n, sizeof(*blocks), by_addr);
	s.lo = blocks[0].addr;
	s.hi = blocks[n - 1].addr + (blocks[n - 1].size ? blocks[n - 1].size : 1);
	for (size_t i = 0; i < n; i++)
		if (blocks[i].addr + blocks[i].size > s.hi)
			s.hi = blocks[i].addr + blocks[i].size;
	s.state = calloc(n, 1);
	s.work = malloc(n * sizeof(*s.work));
	s.buf = malloc(BUF_SIZE);
	err = s.state && s.work && s.buf ? index_blocks(&s) : -ENOMEM;
	if (!err)
		err = procmaps__read(pid, &maps);
	if (err == -ENOENT)
		err = -ESRCH;
	if (!err && !(from = calloc(maps->n ? maps->n : 1, sizeof(*from))))
		err = -ENOMEM;
	if (err)
		goto out;
	for (size_t i = 0; i < maps->n; i++)
		from[i] = maps->v[i].start;
	stack_bounds(&s, maps, from, threads, nr_threads);
	for (size_t i = 0; i < nr_threads; i++)
		scan_words(&s, (const char *)&threads[i].regs, sizeof(threads[i].regs));
	for (size_t i = 0; i < maps->n; i++)
		if (root_mapping(&maps->v[i]))
			scan_roots(&s, from[i], maps->v[i].end,
				   !procmap__is_file(&maps->v[i]) && !maps->v[i].shared);
	drain(&s);
	classify_lost(&s);
	for (size_t i = 0; i < n; i++)
		blocks[i].state = verdict[s.state[i]];
out:
	stats->ns = now_ns() - t0;
	procmaps__free(maps);
	free(from);
	free(s.state);
	free(s.work);
	free(s.buf);
	free(s.regions);
	free(s.big);
	free(s.pagemap);
	free(s.edges);
	if (s.pagemap_fd >= 0)
		close(s.pagemap_fd);
	return err;
}

static bool frozen_already(const struct reach_freeze *fz, pid_t tid)
{
	for (size_t i = 0; i < fz->nr_threads; i++)
		if (fz->threads[i].tid == tid)
			return true;
	return false;
}

/* Seizes and stops one thread; its registers go in the freeze. */
static int freeze_thread(struct reach_freeze *fz, pid_t tid)
{
	struct reach_thread *v, *t;
	int status;

	v = realloc(fz->threads, (fz->nr_threads + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fz->threads = v;
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL))
		return errno == ESRCH ? 0 : -errno;	/* a thread that just ended */
	t = &v[fz->nr_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	fz->held = true;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
	    waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status))
		return 0;	/* it is exiting: nothing of it to hold */
	ptrace(PTRACE_GETREGS, tid, NULL, &t->regs);
	return 0;
}

int reach__freeze(pid_t pid, struct reach_freeze *fz)
{
	char path[64];
	struct dirent *d;
	bool more = true;
	int err = 0;
	DIR *dir;

	memset(fz, 0, sizeof(*fz));
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	/* A thread may start while others stop: go over the list until it holds still. */
	for (int pass = 0; more && !err && pass < 16; pass++) {
		more = false;
		dir = opendir(path);
		if (!dir) {
			err = -errno;
			break;
		}
		while (!err && (d = readdir(dir))) {
			pid_t tid = atoi(d->d_name);

			if (tid <= 0 || frozen_already(fz, tid))
				continue;
			err = freeze_thread(fz, tid);
			more = true;
		}
		closedir(dir);
	}
	if (err)
		reach__thaw(fz);
	return err;
}

void reach__thaw(struct reach_freeze *fz)
{
	for (size_t i = 0; fz->held && i < fz->nr_threads; i++)
		ptrace(PTRACE_DETACH, fz->threads[i].tid, NULL, NULL);
	fz->held = false;
}
