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
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "procmaps.h"
#include "reach.h"
#include "resident.h"
#include "stop.h"
#include "target_file.h"

#define CHUNK (1u << 20) /* bytes read at once */
#define PAGE 4096u
#define REGION_SHIFT 16		 /* the index finds blocks by 64 KiB region */
#define BIG_REGIONS 64		 /* blocks wider than this are searched apart */
#define SPARSE_MIN (64ull << 20) /* anonymous ranges this large: only their pages */
#define SPARSE_MAX (1ull << 40)	 /* anonymous ranges larger than this are reservations */
#define PAGEMAP_BATCH 65536	 /* pagemap entries read at once: 256 MiB of address space */
#define MAX_RANGES 512		 /* ranges in one read */
#define MERGE_GAP 1024		 /* ranges closer than this are read as one */
#define BUF_SIZE (CHUNK + MAX_RANGES * MERGE_GAP)

enum { UNSEEN, REACHABLE, POSSIBLE, LOST, INDIRECT };

#define VTABLE_WORDS 20	 /* words of a table read to tell a vtable */
#define VTABLE_CACHE 256 /* vtable verdicts kept, by address */
#define TCB_SEARCH 65536 /* a thread's descriptor is this near its stack's top */
#define DTV_MAX 4096	 /* modules with TLS read from a dtv at most */

#define NO_BLOCK UINT32_MAX

/* A pointer from one unreached block into another: the graph the lost are told apart on. */
struct edge {
	uint32_t from, to;
};

/* The blocks overlapping one region: a run of the sorted array. */
struct region {
	uint64_t key; /* region number + 1; 0 marks a free slot */
	uint32_t first;
	uint32_t count;
};

/* A range of the target to scan, and where the batch read it to. */
struct range {
	uint64_t addr;
	size_t len;
	size_t at;	/* offset in the buffer */
	uint32_t owner; /* the block it is part of, or NO_BLOCK for roots */
};

/*
 * Ranges read with one process_vm_readv: sorted, and those less than
 * MERGE_GAP apart read as one, since the kernel's cost is per range more than
 * per byte. The buffer holds their bytes and the gaps between them.
 */
struct batch {
	struct range r[MAX_RANGES];
	size_t nr;
	size_t bytes; /* of the ranges */
};

struct scan {
	pid_t pid;
	struct reach_block *blocks;
	size_t n;
	uint8_t *state;
	uint64_t lo, hi; /* every block lies in [lo, hi) */
	struct region *regions;
	size_t nr_regions; /* slots, a power of two */
	uint32_t *big;	   /* indices of the blocks wider than BIG_REGIONS regions */
	size_t nr_big;
	uint32_t *work; /* blocks to scan */
	size_t nr_work;
	uint8_t *rooted; /* per region block: its memory is read as roots already */
	uint32_t owner;	 /* the block the ranges added now belong to, or NO_BLOCK */
	bool collecting; /* reading the unreached blocks: record edges, mark nothing */
	uint32_t from;	 /* while scanning a range of the batch: its owner */
	struct edge *edges;
	size_t nr_edges, cap_edges;
	char *buf;	   /* BUF_SIZE bytes */
	int pagemap_fd;	   /* /proc/PID/pagemap, opened when first needed; -1 before */
	uint64_t *pagemap; /* PAGEMAP_BATCH entries */
	struct batch batch;
	struct reach_freeze *fz;
	uint64_t deadline_ns;
	struct reach_stats *stats;
	bool confirm; /* any pointer reaches: confirming an earlier scan */
	const struct procmaps *maps;
	uint64_t (*head)[2]; /* the first two words of blocks, read when first needed */
	uint8_t *have_head;
	char *window;			    /* CHUNK bytes of [heap], for glibc's chunk walk */
	uint64_t vtable_addr[VTABLE_CACHE]; /* tables told apart already */
	bool vtable_is[VTABLE_CACHE];
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
		uint64_t first = s->blocks[i].addr >> REGION_SHIFT,
			 last = last_region(&s->blocks[i]);

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
		uint64_t first = s->blocks[i].addr >> REGION_SHIFT,
			 last = last_region(&s->blocks[i]);

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
		if (!v) { /* without it, a lost block may be counted as not indirect */
			s->cap_edges = s->nr_edges;
			return;
		}
		s->edges = v;
	}
	s->edges[s->nr_edges++] = (struct edge){ s->from, to };
}

/* Reads one word of the target; false when it cannot be read. */
static bool read_word(const struct scan *s, uint64_t addr, uint64_t *w)
{
	struct iovec local = { w, 8 }, remote = { (void *)addr, 8 };

	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == 8;
}

/* The first two words of block i (zeros where they cannot be read). */
static const uint64_t *block_head(struct scan *s, size_t i)
{
	if (!s->have_head[i]) {
		struct iovec local = { s->head[i], 16 }, remote = { (void *)s->blocks[i].addr, 16 };

		memset(s->head[i], 0, 16);
		if (s->blocks[i].size >= 16)
			process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
		else if (s->blocks[i].size >= 8)
			read_word(s, s->blocks[i].addr, &s->head[i][0]);
		s->have_head[i] = 1;
	}
	return s->head[i];
}

/*
 * A file mapping on FUSE: a page of it not in memory yet is read by the daemon,
 * which may never answer; the pointers of its writable mappings (a library's
 * data, relocated) are in pages of memory of their own, which its scan misses.
 */
static bool fuse_mapping(const struct procmap *m)
{
	return procmap__is_file(m) && target_file__dev_on_fuse(m->dev_major, m->dev_minor);
}

static bool in_code(const struct scan *s, uint64_t a)
{
	const struct procmap *m = procmaps__find(s->maps, a);

	return m && m->executable && procmap__is_file(m);
}

/*
 * A virtual table, as valgrind tells one: in a readable file mapping, and its
 * first words, nulls aside, point into code, at least two of them.
 */
static bool is_vtable(struct scan *s, uint64_t a)
{
	size_t slot = (a >> 3) % VTABLE_CACHE;
	const struct procmap *m;
	uint64_t words[VTABLE_WORDS + 1];
	struct iovec local = { words, sizeof(words) }, remote = { (void *)a, sizeof(words) };
	size_t nr = VTABLE_WORDS + 1, fns = 0;
	bool yes = false;

	if ((a & 7) || a < PAGE)
		return false;
	if (s->vtable_addr[slot] == a)
		return s->vtable_is[slot];
	m = procmaps__find(s->maps, a);
	if (m && m->readable && procmap__is_file(m) && !fuse_mapping(m)) {
		if ((m->end - a) / 8 < nr)
			nr = (m->end - a) / 8;
		remote.iov_len = local.iov_len = nr * 8;
		if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) != (ssize_t)(nr * 8))
			nr = 0;
		for (size_t i = 0; i < nr && !yes; i++) {
			if (!words[i])
				continue;
			if (!in_code(s, words[i]))
				break;
			yes = ++fns == 2;
		}
	}
	s->vtable_addr[slot] = a;
	s->vtable_is[slot] = yes;
	return yes;
}

/*
 * An interior pointer that valgrind's default heuristics take for a start
 * pointer: after new[]'s element count, after a length prefix (length64), at
 * the characters of an old-ABI std::string, or at a base class's vtable
 * pointer inside an object whose first word is a vtable pointer too.
 */
static bool heuristic_start(struct scan *s, size_t i, uint64_t v)
{
	const struct reach_block *b = &s->blocks[i];
	const uint64_t *head;
	uint64_t inner;

	if (v & 7)
		return false;
	head = block_head(s, i);
	if (v == b->addr + 24 && b->size >= 24 && head[0] <= head[1] && head[1] + 1 + 24 == b->size)
		return true; /* stdstring: length, capacity, refcount, characters */
	if (v == b->addr + 8 && head[0] && head[0] == b->size - 8)
		return true; /* length64 */
	if (v == b->addr + 8 && head[0] && (b->size - 8) % head[0] == 0)
		return true; /* newarray */
	/* multipleinheritance; the first word first: it is read already. */
	return v >= b->addr + 8 && is_vtable(s, head[0]) && read_word(s, v, &inner) &&
	       is_vtable(s, inner);
}

static void push(struct scan *s, size_t i, uint8_t state)
{
	s->state[i] = state;
	s->work[s->nr_work++] = i;
}

/*
 * A word seen in scanned memory reaches the block it points into, if any, as
 * valgrind's leak check does: a start pointer from a root or a reachable
 * block makes it reachable; any other pointer makes it at most possibly
 * reached. A block whose state rises is scanned (again) for what it leads to.
 */
static void mark(struct scan *s, uint64_t v)
{
	long i = block_at(s, v);
	bool start, definite;

	if (i < 0)
		return;
	if (s->collecting) {
		if (s->state[i] == UNSEEN && (uint32_t)i != s->from)
			add_edge(s, i);
		return;
	}
	if (s->state[i] == REACHABLE)
		return;
	if (s->confirm) {
		push(s, i, REACHABLE);
		return;
	}
	definite = s->from == NO_BLOCK || s->state[s->from] == REACHABLE;
	start = v == s->blocks[i].addr;
	if (definite && !start)
		start = heuristic_start(s, i, v);
	if (definite && start)
		push(s, i, REACHABLE);
	else if (s->state[i] == UNSEEN)
		push(s, i, POSSIBLE);
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
	if (got != (ssize_t)asked) /* a hole somewhere: each range on its own */
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

#define PM_REGIONS 256

/* Scans the runs of [start, end) that hold pages, as PAGEMAP_SCAN lists them; -errno without it. */
static int scan_listed_pages(struct scan *s, uint64_t start, uint64_t end)
{
	struct lt_page_region regions[PM_REGIONS];
	struct lt_pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = start,
		.end = end,
		.vec = (uint64_t)(uintptr_t)regions,
		.vec_len = PM_REGIONS,
		.category_anyof_mask = LT_PAGE_IS_PRESENT | LT_PAGE_IS_SWAPPED,
		.return_mask = LT_PAGE_IS_PRESENT | LT_PAGE_IS_SWAPPED,
	};
	uint64_t data = 0;
	int n;

	for (;;) {
		n = ioctl(s->pagemap_fd, LT_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return data ? 0 : -errno; /* a failure halfway: the rest counts as read */
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
			scan_range(s, start, end); /* no pagemap: read it all */
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

			if (b->region)
				continue; /* read as roots already */
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
	uint64_t low = (sp - ARCH_RED_ZONE) & ~7ULL;

	if (b >= 0) {
		const struct reach_block *blk = &s->blocks[b];

		s->state[b] = REACHABLE;
		s->rooted[b] = 1; /* and not scanned below sp */
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
		bound_stack(s, maps, from, arch__regs_sp(&threads[i].regs));
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

/* glibc's malloc (2.26+): a chunk's header, flags in its size's low bits, and its tcache. */
#define CHUNK_HEADER 16
#define PREV_INUSE 1ULL
#define TCACHE_BINS 64
#define TCACHE_SIZE (CHUNK_HEADER + TCACHE_BINS * 2 + TCACHE_BINS * 8) /* 0x290 */
#define TCACHE_CHAIN_MAX 1024

static int by_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/*
 * The chunks the first thread's tcache holds (free, though their headers say
 * in use): the heap's first chunk is that thread's tcache_perthread_struct,
 * whose bins' lists are linked through the chunks, each link mangled with its
 * own address (safe-linking, 2.32+). Sorted; a link that leaves the heap ends
 * its list.
 */
static size_t tcache_chunks(struct scan *s, uint64_t heap, uint64_t end, uint64_t **out)
{
	struct {
		uint64_t prev_size, size;
		uint16_t counts[TCACHE_BINS];
		uint64_t entries[TCACHE_BINS];
	} t;
	struct iovec local = { &t, sizeof(t) }, remote = { (void *)heap, sizeof(t) };
	uint64_t *v = NULL, *nv, e;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) != sizeof(t) ||
	    (t.size & ~7ULL) != TCACHE_SIZE)
		return 0;
	for (int i = 0; i < TCACHE_BINS; i++) {
		e = t.entries[i];
		for (int k = 0; e && k < t.counts[i] && k < TCACHE_CHAIN_MAX; k++) {
			if (e < heap + CHUNK_HEADER || e >= end || (e & 15))
				break;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					break;
				v = nv;
			}
			v[n++] = e - CHUNK_HEADER;
			if (!read_word(s, e, &e))
				break;
			e ^= (v[n - 1] + CHUNK_HEADER) >> 12;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), by_u64);
	*out = v;
	return n;
}

/* Reads [at, at + len) of the target into s->window (len <= CHUNK); false if it cannot. */
static bool window_read(struct scan *s, uint64_t at, size_t len)
{
	struct iovec local = { s->window, len }, remote = { (void *)at, len };

	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* The chunk at c is a known block's (scanned when reached) or in the tcache (free). */
static bool chunk_not_root(const struct scan *s, uint64_t c, const uint64_t *tc, size_t nr_tc)
{
	long b = block_at(s, c + CHUNK_HEADER);

	/* tc is NULL with no tcache entry: bsearch's array may not be (UBSan). */
	return b >= 0 || (nr_tc && bsearch(&c, tc, nr_tc, sizeof(*tc), by_u64));
}

/*
 * Attach mode, glibc's [heap]: blocks from before the attach are unknown, but
 * each chunk's header says its size, and the next one's PREV_INUSE bit
 * whether it is in use. In-use chunks that are no known block are roots;
 * free ones (and the first thread's tcache) are not. Reads the heap a
 * window at a time. False, with *stop at the chunk, when a header makes no
 * sense (the process changed it while running): the caller reads on from
 * there as roots.
 */
static bool walk_glibc_heap(struct scan *s, uint64_t start, uint64_t end, uint64_t *stop)
{
	uint64_t c = start, lo = 0, hi = 0, *tc = NULL, size, next;
	size_t nr_tc;
	bool ok = false;

	if (!s->window && !(s->window = malloc(CHUNK)))
		goto out;
	nr_tc = tcache_chunks(s, start, end, &tc);
	while (c + CHUNK_HEADER <= end) {
		if (c < lo || c + 2 * CHUNK_HEADER > hi) { /* this header and the next's */
			lo = c;
			hi = end - c < CHUNK ? end : c + CHUNK;
			if (!window_read(s, lo, hi - lo))
				goto out;
		}
		size = *(uint64_t *)(s->window + (c - lo) + 8) & ~7ULL;
		if (size < 2 * CHUNK_HEADER || (size & 15) || size > end - c)
			goto out;
		if (size > end - c - CHUNK_HEADER) { /* the top chunk, to the end */
			ok = true;
			break;
		}
		if (c + size + CHUNK_HEADER > hi && c + size + CHUNK_HEADER - lo <= CHUNK) {
			hi = end - lo < CHUNK ? end : lo + CHUNK;
			if (!window_read(s, lo, hi - lo))
				goto out;
		}
		if (c + size + CHUNK_HEADER <= hi)
			next = *(uint64_t *)(s->window + (c + size - lo) + 8);
		else if (!read_word(s, c + size + 8, &next))
			goto out;
		if (!(next & ~7ULL)) { /* past the break: c is the top chunk, free */
			ok = true;
			break;
		}
		if ((next & PREV_INUSE) && !chunk_not_root(s, c, tc, nr_tc)) {
			/* Its data reaches into the next chunk's first word. */
			uint64_t from = c + CHUNK_HEADER, to = c + size + 8;

			if (to <= hi) {
				s->from = NO_BLOCK;
				scan_words(s, s->window + (from - lo), to - from);
			} else {
				scan_range(s, from, to);
			}
		}
		c += size;
	}
	ok = ok || c + CHUNK_HEADER > end;
out:
	*stop = c;
	free(tc);
	return ok;
}

/* Memory that holds roots: writable, readable, and not a device's nor on FUSE. */
static bool root_mapping(const struct procmap *m)
{
	if (!m->readable || !m->writable || fuse_mapping(m))
		return false;
	if (!strncmp(m->path, "/dev/", 5) && strcmp(m->path, "/dev/zero") &&
	    strncmp(m->path, "/dev/shm/", 9))
		return false;
	return strncmp(m->path, "[v", 2) != 0; /* [vvar], [vsyscall] */
}

/*
 * The allocator's own memory, where what is not a live block is free, or the
 * allocator's bookkeeping: the brk heap, and anonymous mappings that hold a
 * heap block (glibc's arenas and large chunks, jemalloc's and tcmalloc's).
 */
static bool allocator_mapping(const struct scan *s, const struct procmap *m)
{
	size_t lo = 0, hi = s->n;

	if (!strcmp(m->path, "[heap]"))
		return true;
	if (procmap__is_file(m) || m->shared || m->path[0])
		return false;
	while (lo < hi) { /* the first block ending after the mapping's start */
		size_t mid = lo + (hi - lo) / 2;

		if (s->blocks[mid].addr + s->blocks[mid].size <= m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->n && s->blocks[lo].addr < m->end; lo++)
		if (!s->blocks[lo].region)
			return true;
	return false;
}

/* glibc's thread descriptor in the top TCB_SEARCH bytes of a stack: its address, or 0. */
static uint64_t find_tcb(struct scan *s, uint64_t start, uint64_t end)
{
	uint64_t from = end - start > TCB_SEARCH ? end - TCB_SEARCH : start;
	const uint64_t *w = (const uint64_t *)s->buf;
	size_t nr = (end - from) / 8;
	long i;

	if (!nr)
		return 0;
	read_mem(s, s->buf, from, end - from);
	i = arch__tcb_find(w, nr, from);
	return i < 0 ? 0 : w[i];
}

/*
 * Where the live part of an exited thread's stack starts: its frames are dead,
 * its static TLS and descriptor on top are not (valgrind's view: what lies
 * below the stack pointer the thread began with is gone). The descriptor's
 * dtv says where each module's static TLS begins; the lowest ends the frames.
 * The whole mapping when no glibc descriptor is found.
 */
static uint64_t dead_stack_from(struct scan *s, uint64_t start, uint64_t end)
{
	uint64_t tcb = find_tcb(s, start, end), dtv, nr, low, e[2];

	if (!tcb)
		return start;
	low = tcb;
	if (!read_word(s, tcb + ARCH_TCB_DTV, &dtv) || !read_word(s, dtv - 16, &nr))
		return low;
	for (uint64_t i = 1; i <= nr && i <= DTV_MAX; i++) {
		struct iovec local = { e, 16 }, remote = { (void *)(dtv + 16 * i), 16 };

		if (process_vm_readv(s->pid, &local, 1, &remote, 1, 0) != 16)
			break;
		if (e[0] >= start && e[0] < low)
			low = e[0];
	}
	return low;
}

/*
 * The program's own mappings are roots, as valgrind has them: a live thread's
 * stack from its sp (bound already), and, where every live thread is known,
 * an exited thread's stack only from its TLS up. Whether a pointer reached a
 * region already (from one read before it) makes no difference: all are read.
 */
static void scan_regions(struct scan *s, bool threads_known)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct reach_block *b = &s->blocks[i];

		if (!b->region || s->rooted[i]) /* a bounded stack */
			continue;
		scan_anon(s,
			  threads_known ? dead_stack_from(s, b->addr, b->addr + b->size) : b->addr,
			  b->addr + b->size);
	}
}

/* Scans [start, end) as roots, skipping the blocks inside it (scanned only when reached). */
static void scan_roots(struct scan *s, uint64_t start, uint64_t end, bool anon)
{
	void (*scan)(struct scan * s, uint64_t start, uint64_t end) = anon ? scan_anon : scan_range;
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
		if (s->state[i] != UNSEEN || s->blocks[i].region)
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
		return; /* every unreached block stays lost */
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
				s->state[t] = INDIRECT; /* an earlier lost one joins this clique */
			}
		}
	}
	free(first);
}

/* Reads the roots and marks every block they lead to. */
static void mark_from_roots(struct scan *s, uint64_t *from, const struct reach_thread *threads,
			    size_t nr_threads, enum reach_roots roots)
{
	bool exact = roots == REACH_ROOTS_EXACT;

	const struct procmaps *maps = s->maps;

	for (size_t i = 0; i < maps->n; i++)
		from[i] = maps->v[i].start;
	stack_bounds(s, maps, from, threads, nr_threads);
	scan_regions(s, exact || s->fz);
	batch_flush(s);
	s->from = NO_BLOCK;
	for (size_t i = 0; i < nr_threads; i++)
		scan_words(s, (const char *)&threads[i].regs, sizeof(threads[i].regs));
	for (size_t i = 0; i < maps->n; i++) {
		const struct procmap *m = &maps->v[i];
		bool anon = !procmap__is_file(m) && !m->shared;

		if (!root_mapping(m) || (exact && allocator_mapping(s, m)))
			continue;
		if (roots == REACH_ROOTS_GLIBC && !strcmp(m->path, "[heap]")) {
			s->stats->heap_walked = walk_glibc_heap(s, m->start, m->end, &from[i]);
			if (s->stats->heap_walked)
				continue; /* else from[i] is where it stopped */
		}
		/* A thread stack the program did not map through the probed mmap (tcmalloc's). */
		if ((exact || s->fz) && anon && !m->path[0] && from[i] == m->start && i > 0 &&
		    maps->v[i - 1].end == m->start && !maps->v[i - 1].readable)
			from[i] = dead_stack_from(s, m->start, m->end);
		scan_roots(s, from[i], m->end, anon);
	}
	drain(s);
}

/*
 * The scan; with confirm, any pointer reaches a block (no verdict is told
 * apart, only what is reached).
 */
static int scan_run(pid_t pid, struct reach_block *blocks, size_t n,
		    const struct reach_thread *threads, size_t nr_threads, struct reach_freeze *fz,
		    uint64_t deadline_ns, enum reach_roots roots, bool confirm,
		    struct reach_stats *stats)
{
	static const enum reach_state verdict[] = {
		[REACHABLE] = REACH_REACHABLE,
		[POSSIBLE] = REACH_POSSIBLE,
		[LOST] = REACH_LOST,
		[INDIRECT] = REACH_INDIRECT,
	};
	struct scan s = {
		.pid = pid,
		.blocks = blocks,
		.n = n,
		.owner = NO_BLOCK,
		.from = NO_BLOCK,
		.pagemap_fd = -1,
		.fz = fz,
		.deadline_ns = deadline_ns,
		.stats = stats,
		.confirm = confirm,
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
	/* A block is pushed at most twice: possibly reached, then reached. */
	s.work = malloc(2 * n * sizeof(*s.work));
	s.buf = malloc(BUF_SIZE);
	s.head = malloc(n * sizeof(*s.head));
	s.have_head = calloc(n, 1);
	s.rooted = calloc(n, 1);
	err = s.state && s.work && s.buf && s.head && s.have_head && s.rooted ? index_blocks(&s) :
										-ENOMEM;
	if (!err)
		err = procmaps__read(pid, &maps);
	if (err == -ENOENT)
		err = -ESRCH;
	if (!err && !(from = calloc(maps->n ? maps->n : 1, sizeof(*from))))
		err = -ENOMEM;
	if (err)
		goto out;
	s.maps = maps;
	mark_from_roots(&s, from, threads, nr_threads, roots);
	/* Nothing the process can reach is unmarked now: the rest it cannot change. */
	if (fz)
		reach__thaw(fz);
	if (!confirm)
		classify_lost(&s);
	for (size_t i = 0; i < n; i++)
		if (!confirm || s.state[i] == REACHABLE)
			blocks[i].state = verdict[s.state[i]];
	if (fz && fz->held) {
		reach__thaw(fz); /* it ran out */
		stats->thawed_early = true;
	}
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
	free(s.head);
	free(s.have_head);
	free(s.rooted);
	free(s.window);
	if (s.pagemap_fd >= 0)
		close(s.pagemap_fd);
	return err;
}

/*
 * --scan-freeze. The threads are seized by a helper process of ours, not by us:
 * a thread asleep in the kernel (vfork's parent, NFS, FUSE) may not stop for a
 * long time, and ptrace cannot let go of a tracee that has not stopped, but the
 * kernel lets every tracee go when its tracer exits, stopped or not, and
 * forgets the pending stop. So thaw is the helper's end, at once and always.
 */
#define STOP_WAIT_NS 500000000ULL /* how long threads are given to stop */
#define HELPER_WAIT_MS 2000	  /* how long the helper is given to report */
#define MAX_SEIZED 4096

/* What the helper reports per thread; a tid of 0 ends the list. */
struct held_thread {
	pid_t tid;
	bool stopped;
	struct user_regs_struct regs;
};

static bool seized_already(const struct held_thread *h, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].tid == tid)
			return true;
	return false;
}

/* Seizes and interrupts every thread of pid, also those started meanwhile; how many. */
static size_t seize_all(pid_t pid, struct held_thread *h)
{
	char path[64];
	struct dirent *d;
	bool more = true;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for (int pass = 0; more && pass < 16; pass++) {
		more = false;
		dir = opendir(path);
		while (dir && n < MAX_SEIZED && (d = readdir(dir))) {
			pid_t tid = atoi(d->d_name);

			if (tid <= 0 || seized_already(h, n, tid))
				continue;
			more = true;
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) ||
			    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL))
				continue; /* ended, or another tracer has it */
			h[n++] = (struct held_thread){ .tid = tid };
		}
		if (dir)
			closedir(dir);
	}
	return n;
}

/* Collects the stops until all threads stopped or STOP_WAIT_NS passed; never blocks. */
static void wait_stops(struct held_thread *h, size_t n)
{
	uint64_t end = now_ns() + STOP_WAIT_NS;
	size_t left = n;
	int status;
	pid_t tid;

	while (left && now_ns() < end) {
		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid < 0)
			break;
		if (tid == 0) {
			usleep(1000);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (h[i].tid != tid || h[i].stopped || !WIFSTOPPED(status))
				continue;
			h[i].stopped = !arch__regs_read(tid, &h[i].regs);
			left--;
		}
	}
}

/* The helper: holds what stops, tells which, and waits for its end (a kill, or ours). */
static void helper_run(pid_t pid, int out, pid_t parent)
{
	static struct held_thread h[MAX_SEIZED + 1];
	size_t n;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	n = seize_all(pid, h);
	wait_stops(h, n);
	h[n].tid = 0;
	if (write(out, h, (n + 1) * sizeof(*h)) < 0)
		_exit(1);
	while (read(out, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Reads len bytes from fd by HELPER_WAIT_MS after start; 0, -ETIMEDOUT or -EINTR (stopping). */
static int read_by(int fd, void *buf, size_t len, uint64_t start)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	while (len) {
		if (now_ns() > start + HELPER_WAIT_MS * 1000000ULL)
			return -ETIMEDOUT;
		if (stop__requested())
			return -EINTR;
		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(fd, buf, len);
		if (r <= 0)
			return -ETIMEDOUT;
		buf = (char *)buf + r;
		len -= (size_t)r;
	}
	return 0;
}

/* The helper's report: the stopped threads into fz, the others counted. */
static int read_report(struct reach_freeze *fz)
{
	struct held_thread h;
	uint64_t start = now_ns();
	struct reach_thread *v;
	int err;

	while (!(err = read_by(fz->fd, &h, sizeof(h), start)) && h.tid) {
		if (!h.stopped) {
			fz->nr_running++;
			continue;
		}
		v = realloc(fz->threads, (fz->nr_threads + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fz->threads = v;
		v[fz->nr_threads++] = (struct reach_thread){ .tid = h.tid, .regs = h.regs };
	}
	return err;
}

int reach__freeze(pid_t pid, struct reach_freeze *fz)
{
	pid_t parent = getpid();
	int sv[2], err;

	memset(fz, 0, sizeof(*fz));
	fz->since_ns = now_ns();
	if (kill(pid, 0))
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fz->helper = fork();
	if (fz->helper == 0) {
		close(sv[0]);
		helper_run(pid, sv[1], parent);
	}
	close(sv[1]);
	if (fz->helper < 0) {
		err = -errno;
		close(sv[0]);
		fz->helper = 0;
		return err;
	}
	fz->fd = sv[0];
	fz->held = true;
	err = read_report(fz);
	if (!err && !fz->nr_threads)
		err = -EPERM; /* none could be held: another tracer has them */
	if (err)
		reach__thaw(fz);
	return err;
}

void reach__thaw(struct reach_freeze *fz)
{
	if (fz->held)
		fz->held_ns = now_ns() - fz->since_ns;
	fz->held = false;
	if (!fz->helper)
		return; /* never held, or let go already */
	kill(fz->helper, SIGKILL);
	while (waitpid(fz->helper, NULL, 0) < 0 && errno == EINTR)
		;
	close(fz->fd);
	fz->helper = 0;
}

int reach__scan(pid_t pid, struct reach_block *blocks, size_t n, const struct reach_thread *threads,
		size_t nr_threads, struct reach_freeze *fz, uint64_t deadline_ns,
		enum reach_roots roots, struct reach_stats *stats)
{
	return scan_run(pid, blocks, n, threads, nr_threads, fz, deadline_ns, roots, false, stats);
}

/*
 * Only the unreached blocks are blocks here: the memory of the others is read
 * as roots, with the rest of the heap. Few blocks to tell apart, and most
 * words are told at once for none of them.
 */
int reach__confirm(pid_t pid, struct reach_block *blocks, size_t n, struct reach_freeze *fz,
		   uint64_t deadline_ns, enum reach_roots roots, struct reach_stats *stats)
{
	struct reach_block *open = malloc((n ? n : 1) * sizeof(*open));
	size_t m = 0;
	int err;

	if (!open)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (blocks[i].state != REACH_REACHABLE && !blocks[i].region) {
			open[m] = blocks[i];
			open[m++].tag = i;
		}
	err = scan_run(pid, open, m, fz->threads, fz->nr_threads, fz, deadline_ns, roots, true,
		       stats);
	for (size_t i = 0; !err && i < m; i++)
		if (open[i].state == REACH_REACHABLE)
			blocks[open[i].tag].state = REACH_REACHABLE;
	free(open);
	return err;
}
