// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Takes snapshots: reads the per-stack totals (O(stacks)), symbolizes stacks
 * not seen before (cached), and computes each stack's growth since the last one.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "frame_table.h"
#include "kallsyms.h"
#include "kmem.h"
#include "kstack.h"
#include "mapping_events.h"
#include "procmaps.h"
#include "reach.h"
#include "resident.h"
#include "snap_source.h"
#include "snap_source_int.h"
#include "snap_scan.h"
#include "tracer.h"
#include "tracer_maps.h"

/* The model's kinds and lost counters are the tracer's, read into it as they are. */
_Static_assert(STACK_HEAP == (int)LT_KIND_HEAP && STACK_MMAP == (int)LT_KIND_MMAP, "stack kinds");
_Static_assert(LOST_ALLOCS_UNTRACKED == (int)LT_ALLOCS_UNTRACKED &&
		       LOST_STACKS_DROPPED == (int)LT_STACKS_DROPPED &&
		       LOST_FREES_UNMATCHED == (int)LT_FREES_UNMATCHED &&
		       LOST_FREES_BEFORE_ATTACH == (int)LT_FREES_BEFORE_ATTACH &&
		       LOST_THREADS_UNTRACKED == (int)LT_THREADS_UNTRACKED &&
		       LOST_MUNMAPS_PARTIAL_LOST == (int)LT_MUNMAPS_PARTIAL_LOST &&
		       LOST_FREES_INTERNAL == (int)LT_FREES_INTERNAL,
	       "lost counters");
_Static_assert(SNAP_MAX_FRAMES == LT_MAX_FRAMES, "frames of a stack");
_Static_assert(LOST_KERNEL_ALLOCS_UNTRACKED == (int)LT_NR_LOST, "the kernel's lost counters");

/* Exited processes whose last figures are kept for the final snapshot: the largest. */
#define MAX_GONE 4096
/* The most of a process's command line kept for its report. */
#define CMDLINE_MAX 4096

/* A stack's records summed by the scan's verdict (enum reach_state). */
struct reach_sums {
	bool known;
	int64_t bytes[REACH_NR_STATES];
	int64_t allocs[REACH_NR_STATES];
};

/*
 * What a stack's records and mappings add up to (scan_allocs, read_resident):
 * apart from its entry, since most runs read neither, and a service has stacks
 * by the ten thousand.
 */
struct entry_sums {
	/* Aggregated from the allocations themselves when --older or --scan is given. */
	int64_t scan_bytes;
	int64_t scan_allocs;
	uint64_t scan_oldest_ts;
	struct reach_sums reach; /* --scan */
	/* Its mappings' pages present in memory, and what they reserve (read_resident). */
	int64_t resident, resident_reserved;
	bool resident_unknown; /* a mapping's pages could not be read */
	/* glibc thread stacks: those in glibc's cache; cached_unknown: a stack not told. */
	int64_t cached_bytes, cached_allocs;
	bool cached_unknown;
};

/* One (process, stack): its symbolized frames and its bytes at the last snapshot. */
struct stack_entry {
	struct stack_entry *next;
	pid_t pid;
	uint32_t gen; /* the process's exec generation */
	uint64_t stack_id;
	uint64_t sound_id; /* of the sound frames only: stacks that differ above them merge */
	const struct frame **frames; /* interned in src->frames, one reference each */
	int nr_frames;
	bool symbolized; /* at the first build that reports it: most stacks are freed to 0 first */
	bool truncated;
	bool lines_pending;	/* a module's debug info was being fetched: symbolized again */
	unsigned int fetch_gen; /* symbolizer__fetch_generation then */
	bool table_pending;
	int64_t last_bytes;
	uint64_t last_build; /* the build that read last_bytes; older means 0 since */
	/*
	 * Its bytes at the last nr_hist builds, oldest first, for its trend: builds in
	 * a row, up to the last (one it missed starts it again), so their times are
	 * src->build_ns's.
	 */
	int64_t hist_bytes[TREND_POINTS];
	int nr_hist;
	struct entry_sums *sums; /* NULL: none read, all 0 */
};

static const struct entry_sums no_sums;

static const struct entry_sums *entry_sums(const struct stack_entry *e)
{
	return e->sums ? e->sums : &no_sums;
}

/* Its sums to add to, made when first needed; NULL when out of memory. */
static struct entry_sums *entry_sums_mut(struct stack_entry *e)
{
	if (!e->sums)
		e->sums = calloc(1, sizeof(*e->sums));
	return e->sums;
}

struct snap_source *snap_source__new(struct tracer *t, struct symbolizer *syms,
				     const struct snap_filter *filter)
{
	struct snap_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->nr_buckets = 1024;
	src->buckets = calloc(src->nr_buckets, sizeof(*src->buckets));
	if (!src->buckets) {
		free(src);
		return NULL;
	}
	src->frames = frame_table__new_shared_strings();
	if (!src->frames) {
		free(src->buckets);
		free(src);
		return NULL;
	}
	src->max_gone = MAX_GONE;
	src->tracer = t;
	src->syms = syms;
	src->filter = *filter;
	/* Without them, processes gone before a refresh have unknown frames: not fatal. */
	if (t && tracer_maps__mapping_events(t, syms, &src->events))
		diag__warn("cannot read the captured mappings: short-lived "
			   "processes may show unknown frames");
	clock_gettime(CLOCK_REALTIME, &src->started);
	src->started_ns = src->last_ns = tracer__now_ns();
	return src;
}

/* Its argv as /proc/PID/cmdline gives it, cut at CMDLINE_MAX; nothing when it cannot be read. */
static void read_cmdline(struct process *p)
{
	char path[64], buf[CMDLINE_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return;
	free(p->cmdline);
	p->cmdline = malloc(n + 1);
	p->cmdline_len = p->cmdline ? n : 0;
	if (!p->cmdline)
		return;
	memcpy(p->cmdline, buf, n);
	p->cmdline[n] = '\0'; /* a cut last argument ends too */
	if (buf[n - 1])
		p->cmdline_len++;
}

int snap_source__add_process(struct snap_source *src, pid_t pid)
{
	struct process *p, *procs;
	struct lt_target target;

	p = snap_source__find(src, pid);
	if (!p) {
		procs = realloc(src->procs, (src->nr_procs + 1) * sizeof(*procs));
		if (!procs)
			return -ENOMEM;
		src->procs = procs;
		p = &procs[src->nr_procs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
		/* Added as it is made a target (-p, -a's start): its image is this one. */
		if (src->tracer && !tracer_maps__target(src->tracer, pid, &target)) {
			p->gen = target.gen;
			p->gen_known = true;
		}
	}
	proc__read_line(pid, "comm", p->comm, sizeof(p->comm));
	read_cmdline(p);
	return symbolizer__add_process(src->syms, pid);
}

void snap_source__exiting(struct snap_source *src, pid_t pid, const struct user_regs_struct *regs)
{
	struct process *p = snap_source__find(src, pid);

	if (!p)
		return;
	p->exiting = true;
	p->have_regs = regs != NULL;
	if (regs)
		p->regs = *regs;
}

int snap_source__set_allocator(struct snap_source *src, pid_t pid, const char *path)
{
	struct process *p = snap_source__find(src, pid);
	char real[PATH_MAX];
	const char *base;
	struct stat st;
	ssize_t len;

	if (!p)
		return -ENOENT;
	if (stat(path, &st))
		return -errno;
	p->alloc_dev = st.st_dev;
	p->alloc_ino = st.st_ino;
	/* A /proc/PID/map_files entry names its file by its link. */
	len = readlink(path, real, sizeof(real) - 1);
	real[len > 0 ? len : 0] = '\0';
	base = len > 0 ? real : path;
	base = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
	p->glibc_malloc = !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
	return 0;
}

static size_t entry_hash(const struct snap_source *src, pid_t pid, uint64_t stack_id)
{
	uint64_t h = (stack_id ^ (uint64_t)pid * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;

	/* gen is left out: an exec changes the stacks, and the rare equal id finds its entry. */

	return (h >> 32) & (src->nr_buckets - 1);
}

static void entries_grow(struct snap_source *src)
{
	size_t old = src->nr_buckets, i;
	struct stack_entry **buckets, *e, *next;

	buckets = calloc(old * 2, sizeof(*buckets));
	if (!buckets)
		return; /* longer chains, still correct */
	src->nr_buckets = old * 2;
	for (i = 0; i < old; i++) {
		for (e = src->buckets[i]; e; e = next) {
			size_t h = entry_hash(src, e->pid, e->stack_id);

			next = e->next;
			e->next = buckets[h];
			buckets[h] = e;
		}
	}
	free(src->buckets);
	src->buckets = buckets;
}

/*
 * Where a thread's stack starts: a walk that stops at one of these (a libc
 * without frame pointers past __libc_start_call_main, say) has the whole stack.
 */
static bool thread_start(const struct frame *f)
{
	static const char *const names[] = { "_start",
					     "__libc_start_call_main",
					     "__libc_start_main",
					     "start_thread",
					     "clone3",
					     "clone",
					     "__clone",
					     "__clone3",
					     "__GI___clone3" };

	for (size_t i = 0; f->symbol && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(f->symbol, names[i]))
			return true;
	return false;
}

/* Its frames interned: stacks share most of theirs (the same callers, the same libraries). */
static void entry_intern(struct snap_source *src, struct stack_entry *e, struct frame *v, int n)
{
	e->frames = frame_table__get_all(src->frames, v, n);
	e->nr_frames = e->frames ? n : 0;
	e->truncated |= n && !e->frames;
	free(v);
}

/* Drops its frames' references and its array. */
static void entry_drop_frames(struct snap_source *src, struct stack_entry *e)
{
	for (int i = 0; i < e->nr_frames; i++)
		frame_table__put(src->frames, e->frames[i]);
	free(e->frames);
	e->frames = NULL;
	e->nr_frames = 0;
}

/* An entry gone: its frames' references, its sums, itself. */
static void entry_free(struct snap_source *src, struct stack_entry *e)
{
	entry_drop_frames(src, e);
	free(e->sums);
	free(e);
}

/* Symbolizes a stack the first time it is seen in a process. */
static void entry_symbolize(struct snap_source *src, struct stack_entry *e)
{
	struct lt_stack raw;
	struct frame *v;
	int n;

	if (lt_stack_is_none(e->stack_id) || !src->tracer ||
	    tracer_maps__stack(src->tracer, e->stack_id, &raw) || !raw.nr) {
		e->truncated = true;
		return;
	}
	if (raw.nr > LT_MAX_FRAMES)
		raw.nr = LT_MAX_FRAMES;
	v = calloc(raw.nr, sizeof(*v));
	if (!v) {
		e->truncated = true;
		return;
	}
	if (raw.flags & LT_STACK_UNWOUND) {
		n = symbolizer__stack_unwound(src->syms, e->pid, (const uint64_t *)raw.ips, raw.nr,
					      v);
		e->truncated = raw.flags & LT_STACK_CUT;
	} else {
		n = symbolizer__stack(src->syms, e->pid, (const uint64_t *)raw.ips, raw.nr, v,
				      &e->truncated);
	}
	/* Not a walk cut for want of a table: the frames above may be the program's. */
	if (n && !(raw.flags & LT_STACK_UNBUILT) && thread_start(&v[n - 1]))
		e->truncated = false;
	e->table_pending = e->truncated && (raw.flags & LT_STACK_UNBUILT);
	e->fetch_gen = symbolizer__fetch_generation(src->syms);
	n = symbolizer__add_lines(src->syms, e->pid, &v, n, &e->lines_pending);
	e->sound_id = 0xcbf29ce484222325ULL;
	for (int i = 0; i < n; i++)
		if (!v[i].inlined)
			e->sound_id = (e->sound_id ^ v[i].address) * 0x100000001b3ULL;
	entry_intern(src, e, v, n);
}

/* A stack symbolized while its debug info was being fetched: again, once a fetch ended. */
static void entry_resymbolize(struct snap_source *src, struct stack_entry *e)
{
	const struct frame ***v;

	if (!e->lines_pending || e->fetch_gen == symbolizer__fetch_generation(src->syms))
		return;
	v = realloc(src->retired, (src->nr_retired + 1) * sizeof(*v));
	if (!v)
		return;
	src->retired = v;
	src->retired[src->nr_retired++] = e->frames;
	e->frames = NULL;
	e->nr_frames = 0;
	entry_symbolize(src, e);
}

/*
 * Its frames, symbolized when a build first reports it: a stack whose blocks
 * were all freed before (most of a busy server's) would only hold memory, and
 * open its modules' DWARF for nothing.
 */
static void entry_frames(struct snap_source *src, struct stack_entry *e)
{
	if (e->symbolized) {
		entry_resymbolize(src, e);
		return;
	}
	entry_symbolize(src, e);
	e->symbolized = true;
}

static struct stack_entry *entry_get(struct snap_source *src, pid_t pid, uint32_t gen,
				     uint64_t stack_id)
{
	size_t h = entry_hash(src, pid, stack_id);
	struct stack_entry *e;

	for (e = src->buckets[h]; e; e = e->next) {
		if (e->pid == pid && e->gen == gen && e->stack_id == stack_id)
			return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	e->gen = gen;
	e->stack_id = stack_id;
	e->next = src->buckets[h];
	src->buckets[h] = e;
	if (++src->nr_entries > 2 * src->nr_buckets)
		entries_grow(src);
	return e;
}

/*
 * --older and --scan: sums the allocations per stack from the records
 * themselves (with --older, only those at least that old), with the scan's
 * verdicts.
 */
static int scan_allocs(struct snap_source *src, uint64_t now_ns)
{
	uint64_t cutoff = now_ns - (uint64_t)(src->filter.older * 1e9);
	struct lt_alloc_key *keys;
	struct lt_alloc *vals;
	struct stack_entry *e;
	int8_t *verdict = NULL;
	size_t n, i;
	int err;

	err = tracer_maps__records(src->tracer, &keys, &vals, &n);
	if (err)
		return err;
	if (src->filter.scan) {
		verdict = malloc(n ? n : 1);
		err = verdict ? snap_scan__records(src, keys, vals, n, verdict) : -ENOMEM;
	}
	for (i = 0; i < src->nr_buckets; i++)
		for (e = src->buckets[i]; e; e = e->next) {
			if (!e->sums)
				continue;
			e->sums->scan_bytes = e->sums->scan_allocs = 0, e->sums->scan_oldest_ts = 0;
			memset(&e->sums->reach, 0, sizeof(e->sums->reach));
		}
	for (i = 0; !err && i < n; i++) {
		struct entry_sums *sums;
		int64_t bytes, allocs;

		if (!snap_source__current(src, keys[i].tgid, keys[i].gen) || vals[i].ts > cutoff ||
		    vals[i].size < src->filter.min_size || vals[i].size > src->filter.max_size)
			continue;
		e = entry_get(src, keys[i].tgid, keys[i].gen, vals[i].stack_id);
		if (!e || !(sums = entry_sums_mut(e))) {
			err = -ENOMEM; /* a scan that left records out would mislead */
			continue;
		}
		/* Sampled, each record stands for its estimate (allocs rounded per record). */
		bytes = src->filter.sample_bytes ? (int64_t)vals[i].est_bytes :
						   (int64_t)vals[i].size;
		allocs = src->filter.sample_bytes ? (vals[i].est_bytes + vals[i].size / 2) /
							    (vals[i].size ? vals[i].size : 1) :
						    1;
		sums->scan_bytes += bytes;
		sums->scan_allocs += allocs;
		if (!sums->scan_oldest_ts || vals[i].ts < sums->scan_oldest_ts)
			sums->scan_oldest_ts = vals[i].ts;
		if (verdict && verdict[i] >= 0) {
			sums->reach.known = true;
			sums->reach.bytes[verdict[i]] += bytes;
			sums->reach.allocs[verdict[i]] += allocs;
		}
	}
	free(verdict);
	free(keys);
	free(vals);
	return err;
}

struct mapping_index {
	uint32_t tgid;
	uint32_t index;
};

static int by_mapping_tgid(const void *a, const void *b)
{
	const struct mapping_index *x = a, *y = b;

	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

/* Whether e's mappings are glibc's thread stacks: mapped by libc under pthread_create. */
static bool thread_stack(const struct stack_entry *e)
{
	struct stack_stat s = { .kind = STACK_MMAP,
				.frames = e->frames,
				.nr_frames = e->nr_frames };
	const char *a = stack_stat__tell_allocator(&s);

	for (int i = 0; a && !strcmp(a, "glibc") && i < e->nr_frames; i++)
		if (e->frames[i]->symbol && (strstr(e->frames[i]->symbol, "pthread_create") ||
					     !strcmp(e->frames[i]->symbol, "allocate_stack")))
			return true;
	return false;
}

/* The layout of p's libc's thread descriptors, read once from the libc its stack names. */
static const struct glibc_threads *thread_layout(struct process *p, const struct stack_entry *e)
{
	char path[PATH_MAX];

	if (!p->threads_known) {
		snprintf(path, sizeof(path), "/proc/%d/root%s", p->pid, e->frames[0]->module);
		p->threads_known = glibc_threads__open(path, &p->threads) ? -1 : 1;
	}
	return p->threads_known > 0 ? &p->threads : NULL;
}

/* Counts the glibc thread stack at key (size bytes) as cached or not. */
static void add_cached(struct snap_source *src, struct stack_entry *e, struct entry_sums *sums,
		       const struct lt_alloc_key *key, uint64_t size)
{
	struct process *p = snap_source__find(src, key->tgid);
	const struct glibc_threads *g = p ? thread_layout(p, e) : NULL;
	int cached = g ? glibc_threads__cached(g, p->pid, key->addr, key->addr + size) : -ENOENT;

	if (cached < 0) {
		sums->cached_unknown = true;
	} else if (cached) {
		sums->cached_allocs++;
		sums->cached_bytes += size;
	}
}

/* Adds the resident pages of the mapping at key (its record rec) to its stack's entry. */
static void add_resident(struct snap_source *src, struct resident *r,
			 const struct lt_alloc_key *key, const struct lt_alloc *rec, uint64_t *sum)
{
	struct stack_entry *e = entry_get(src, key->tgid, key->gen, rec->stack_id);
	struct entry_sums *sums = e ? entry_sums_mut(e) : NULL;
	uint64_t bytes;

	/* Without its sums, what it reserves stays unequal to its bytes: told as unread. */
	if (!sums)
		return;
	entry_frames(src, e); /* reported, being held: its frames tell whose it is */
	if (thread_stack(e))
		add_cached(src, e, sums, key, rec->size);
	sums->resident_reserved += rec->size;
	if (!r || resident__bytes(r, key->addr, key->addr + rec->size, &bytes)) {
		sums->resident_unknown = true;
		return;
	}
	sums->resident += bytes;
	*sum += bytes;
}

/*
 * The pages present in the recorded mappings, summed per stack: O(mappings),
 * one pagemap per process. With --older, only the mappings the records count.
 */
static int read_resident(struct snap_source *src, uint64_t now_ns)
{
	uint64_t cutoff = now_ns - (uint64_t)(src->filter.older * 1e9);
	bool filtered = src->filter.older > 0 || src->filter.scan;
	struct mapping_index *idx = NULL;
	struct resident *r = NULL;
	struct lt_alloc_key *keys;
	struct stack_entry *e;
	struct lt_alloc rec;
	uint64_t start_ns = tracer__now_ns(), reserved = 0, resident = 0;
	uint32_t open_tgid = 0;
	size_t n, m = 0;
	__u64 *ends;
	int err;

	for (size_t i = 0; i < src->nr_buckets; i++)
		for (e = src->buckets[i]; e; e = e->next) {
			if (!e->sums)
				continue;
			e->sums->resident = e->sums->resident_reserved = 0;
			e->sums->resident_unknown = false;
			e->sums->cached_bytes = e->sums->cached_allocs = 0;
			e->sums->cached_unknown = false;
		}
	err = tracer_maps__mappings(src->tracer, &keys, &ends, &n);
	if (err)
		return err;
	idx = malloc((n ? n : 1) * sizeof(*idx));
	for (size_t i = 0; idx && i < n; i++)
		if (snap_source__current(src, keys[i].tgid, keys[i].gen))
			idx[m++] = (struct mapping_index){ keys[i].tgid, i };
	if (m)
		qsort(idx, m, sizeof(*idx), by_mapping_tgid);
	for (size_t i = 0; i < m; i++) {
		const struct lt_alloc_key *k = &keys[idx[i].index];

		if (tracer_maps__record_now(src->tracer, k, &rec) || rec.kind != LT_KIND_MMAP)
			continue; /* unmapped since */
		if (filtered && (rec.ts > cutoff || rec.size < src->filter.min_size ||
				 rec.size > src->filter.max_size))
			continue;
		if (!r || open_tgid != k->tgid) {
			resident__free(r);
			r = NULL;
			open_tgid = k->tgid;
			resident__open(k->tgid, &r); /* the process gone: its stacks unread */
		}
		add_resident(src, r, k, &rec, &resident);
		reserved += rec.size;
	}
	resident__free(r);
	if (src->filter.verbose)
		diag__debug("resident pages: %zu mappings, %.1f GiB reserved, %.1f MiB resident, "
			    "read in %.1f ms",
			    m, reserved / 1073741824.0, resident / 1048576.0,
			    (tracer__now_ns() - start_ns) / 1e6);
	err = idx ? 0 : -ENOMEM;
	free(idx);
	free(keys);
	free(ends);
	return err;
}

/* Frees by the allocator itself of memory it took without malloc are not misses. */
static int count_internal_frees(struct snap_source *src, uint64_t *lost)
{
	struct lt_alloc_key *sites;
	struct process *p;
	uint64_t *counts;
	dev_t dev;
	ino_t ino;
	size_t n, i;
	int err;

	err = tracer_maps__unmatched(src->tracer, &sites, &counts, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		p = snap_source__find(src, sites[i].tgid);
		if (!p || !p->alloc_ino ||
		    symbolizer__file_id(src->syms, p->pid, sites[i].addr, &dev, &ino) ||
		    dev != p->alloc_dev || ino != p->alloc_ino)
			continue;
		lost[LOST_FREES_INTERNAL] += counts[i];
		lost[LOST_FREES_UNMATCHED] -= counts[i] < lost[LOST_FREES_UNMATCHED] ?
						      counts[i] :
						      lost[LOST_FREES_UNMATCHED];
	}
	free(sites);
	free(counts);
	return 0;
}

/* The mappings captured since the last refresh, before their processes are looked at. */
static void read_mappings(struct snap_source *src)
{
	uint64_t lost;

	if (!src->events)
		return;
	mapping_events__poll(src->events);
	lost = tracer_maps__mapping_events_lost(src->tracer);
	if (lost > src->events_lost)
		diag__warn("%llu captured mappings lost (the ring buffer was "
			   "full): processes that exited meanwhile may show unknown frames",
			   (unsigned long long)(lost - src->events_lost));
	src->events_lost = lost;
}

int snap_source__refresh(struct snap_source *src, void (*on_new)(void *arg, pid_t pid), void *arg)
{
	struct lt_target *vals = NULL;
	__u32 *keys = NULL;
	struct process *p;
	size_t n = 0;
	int err;

	if (!src->tracer)
		return 0;
	read_mappings(src);
	err = tracer_maps__targets(src->tracer, &keys, &vals, &n);
	for (size_t i = 0; i < src->nr_procs; i++)
		src->procs[i].seen = false;
	for (size_t i = 0; !err && i < n; i++) {
		p = snap_source__find(src, keys[i]);
		if (!p) {
			if (snap_source__add_process(src, keys[i]) == -ENOMEM ||
			    !(p = snap_source__find(src, keys[i]))) {
				err = -ENOMEM;
				break;
			}
			if (!p->comm[0])
				memcpy(p->comm, vals[i].comm, LT_COMM_LEN);
			p->pending = true;
		} else if (p->gen_known && p->gen != vals[i].gen) {
			snap_source__add_process(src, keys[i]); /* a new image: new mappings */
			p = snap_source__find(src, keys[i]);
			p->pending = true;
			p->threads_known = 0; /* its libc may be another */
		}
		p->gen = vals[i].gen;
		p->gen_known = true;
		p->seen = true;
		p->exited = vals[i].flags & LT_TARGET_EXITED;
		/* Its turn comes with the first refresh that has on_new, whoever saw it first. */
		if (on_new && p->pending && !p->exited)
			on_new(arg, keys[i]);
		if (on_new)
			p->pending = false;
	}
	/*
	 * Gone from the map: its pid exec'd a name --comm does not want (the traced image ended,
	 * or the pid was reused before this refresh saw the exit).
	 */
	for (size_t i = 0; !err && i < src->nr_procs; i++)
		src->procs[i].exited |= src->procs[i].gen_known && !src->procs[i].seen;
	free(keys);
	free(vals);
	return err;
}

/* With snap_source__forget_exited: pid's entries go at the next reap. */
static void doom(struct snap_source *src, pid_t pid)
{
	pid_t *v;

	if (!src->forget_exited)
		return;
	v = realloc(src->doomed, (src->nr_doomed + 1) * sizeof(*v));
	if (!v)
		return; /* kept: memory, not correctness */
	src->doomed = v;
	src->doomed[src->nr_doomed++] = pid;
}

static bool kept_gone(const struct snap_source *src, pid_t pid, uint32_t gen)
{
	for (size_t i = 0; i < src->nr_gone; i++)
		if (src->gone[i].st.pid == pid && src->gone[i].gen == gen)
			return true;
	return false;
}

/* Not a process that took the pid since, which the refresh found. */
static bool doomed(struct snap_source *src, const struct stack_entry *e)
{
	struct process *p;

	for (size_t i = 0; i < src->nr_doomed; i++) {
		if (src->doomed[i] != e->pid)
			continue;
		p = snap_source__find(src, e->pid);
		return !p || p->gen != e->gen;
	}
	return false;
}

/*
 * Frees the entries doomed at the last reap: the snapshots taken since (the agent keeps
 * the last) no longer hold them, nor does the final one (not kept gone). One pass.
 */
static void entries_forget(struct snap_source *src)
{
	struct stack_entry **link, *e;

	for (size_t i = 0; src->nr_doomed && i < src->nr_buckets; i++) {
		for (link = &src->buckets[i]; (e = *link);) {
			if (!doomed(src, e) || kept_gone(src, e->pid, e->gen)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			entry_free(src, e);
			src->nr_entries--;
		}
	}
	src->nr_doomed = 0;
}

void snap_source__forget_exited(struct snap_source *src, size_t keep)
{
	src->forget_exited = true;
	src->max_gone = keep;
}

size_t snap_source__nr_processes(const struct snap_source *src)
{
	return src->nr_procs;
}

/*
 * Whether records of (tgid, gen) are stale: an old image, or a process gone
 * and reported. A process not known yet (under -a, started since the last
 * refresh) keeps its records.
 */
static bool records_stale(void *arg, __u32 tgid, __u32 gen)
{
	struct snap_source *src = arg;
	struct process *p = snap_source__find(src, tgid);

	return p && (p->gen != gen || (p->exited && (p->reported || p->finished)));
}

int snap_source__reap(struct snap_source *src)
{
	struct tracer *t = src->tracer;
	size_t i, out = 0;
	bool stale = false;
	__u32 tgid;
	int err;

	entries_forget(src);
	for (i = 0; i < src->nr_procs; i++)
		stale |= src->procs[i].exited && (src->procs[i].reported || src->procs[i].finished);
	/* Old generations: cheap to find in the totals, which say whether a scan is due. */
	err = tracer_maps__drop_stale_totals(t, records_stale, src);
	if (err || !stale)
		return err;
	err = tracer_maps__drop_stale_records(t, records_stale, src);
	if (!err)
		err = tracer_maps__drop_unused_stacks(t);
	for (i = 0; i < src->nr_procs; i++) {
		struct process *p = &src->procs[i];

		if (!(p->exited && (p->reported || p->finished))) {
			src->procs[out++] = *p;
			continue;
		}
		if (!kept_gone(src, p->pid, p->gen))
			doom(src, p->pid);
		free(p->cmdline);
		tgid = p->pid;
		free(p->proven);
		tracer_maps__forget_target(t, tgid);
		symbolizer__remove_process(src->syms, p->pid);
	}
	src->nr_procs = out;
	return err;
}

static struct proc_stat *snapshot_proc(struct snapshot *snap, struct snap_source *src, pid_t pid)
{
	struct proc_stat *p, *procs;
	struct process *info;
	char buf[PATH_MAX];
	const char *exe;

	for (size_t i = 0; i < snap->nr_procs; i++)
		if (snap->procs[i].pid == pid)
			return &snap->procs[i];
	procs = realloc(snap->procs, (snap->nr_procs + 1) * sizeof(*procs));
	if (!procs)
		return NULL;
	snap->procs = procs;
	p = &procs[snap->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	info = snap_source__find(src, pid);
	if (info) {
		memcpy(p->comm, info->comm, sizeof(p->comm));
		if (proc_stat__set_argv(p, snap, info->cmdline, info->cmdline_len))
			return NULL;
	}
	/* The symbolizer read it with the mappings, while the process lived. */
	if (!symbolizer__exe(src->syms, pid, &exe))
		snprintf(p->exe, sizeof(p->exe), "%s", exe);
	/* A zombie has no executable any more: it is gone for our purposes. */
	p->alive = (!info || (!info->exited && !info->exiting)) &&
		   !proc__exe(pid, buf, sizeof(buf));
	if (info && info->exited)
		info->reported = true;
	p->final = info && info->exiting;
	if (src->filter.scan) {
		p->scan_roots = info ? info->roots : NULL;
		p->scan_held_ms = info ? info->held_max_ns / 1e6 : 0;
	}
	return p;
}

static int stack_add(struct proc_stat *p, const struct stack_stat *s)
{
	struct stack_stat *stacks = realloc(p->stacks, (p->nr_stacks + 1) * sizeof(*stacks));

	if (!stacks)
		return -ENOMEM;
	p->stacks = stacks;
	stacks[p->nr_stacks] = *s;
	stacks[p->nr_stacks++].final = p->final;
	p->bytes += s->bytes;
	p->allocs += s->allocs;
	p->growth += s->growth;
	p->scanned |= s->scanned;
	p->lost_bytes += s->lost_bytes;
	p->indirect_bytes += s->indirect_bytes;
	p->reachable_bytes += s->reachable_bytes;
	p->possible_bytes += s->possible_bytes;
	p->possible_allocs += s->possible_allocs;
	p->has_resident |= s->has_resident;
	p->resident_bytes += s->resident_bytes;
	return 0;
}

/* What a reported stack takes from its symbolized entry (entry_frames). */
static void fill_frames(struct stack_stat *s, const struct stack_entry *e)
{
	s->stack_id = e->sound_id ? e->sound_id : e->stack_id;
	s->frames = e->frames;
	s->nr_frames = e->nr_frames;
	s->truncated = e->truncated;
	s->table_pending = e->table_pending;
	s->allocator = stack_stat__tell_allocator(s);
}

/*
 * What a stack holds at this build: of its records when they were summed
 * (scan_allocs), the estimates of its samples when sampled, else its totals.
 */
static void stack_amount(const struct stack_entry *e, const struct lt_total *t, bool scanned,
			 bool sampled, int64_t *bytes, int64_t *allocs)
{
	if (scanned) {
		*bytes = entry_sums(e)->scan_bytes;
		*allocs = entry_sums(e)->scan_allocs;
	} else if (sampled) {
		/* Estimates: what the samples stand for (a count rounded to the nearest). */
		*bytes = t->est_bytes;
		*allocs = (t->est_allocs + LT_EST_ALLOCS_ONE / 2) / LT_EST_ALLOCS_ONE;
	} else {
		*bytes = t->bytes;
		*allocs = t->allocs;
	}
}

static void fill_stack(struct stack_stat *s, const struct stack_entry *e, const struct lt_total *t,
		       uint64_t now_ns, double dt, bool scanned, bool sampled)
{
	const struct entry_sums *sums = entry_sums(e);
	uint64_t oldest = scanned ? sums->scan_oldest_ts : (t->oldest_addr ? t->oldest_ts : 0);

	memset(s, 0, sizeof(*s)); /* fields a snapshot of the maps has not, like origins */
	s->kind = t->kind;
	stack_amount(e, t, scanned, sampled, &s->bytes, &s->allocs);
	s->oldest_s = oldest && oldest <= now_ns ? (now_ns - oldest) / 1e9 : -1;
	/* Every mapping of it read: what they reserve is what the totals count. */
	if (s->kind == STACK_MMAP && !sums->resident_unknown &&
	    sums->resident_reserved == s->bytes && s->bytes > 0) {
		s->has_resident = true;
		s->resident_bytes = sums->resident;
		s->has_cached = !sums->cached_unknown && (sums->cached_allocs || thread_stack(e));
		s->cached_bytes = s->has_cached ? sums->cached_bytes : 0;
		s->cached_allocs = s->has_cached ? sums->cached_allocs : 0;
	}
	/* A mapping grows as its pages do: a reservation is no growth. */
	s->growth = dt > 0 ? (stack_stat__held(s) - e->last_bytes) / dt : 0;
	s->scanned = scanned && sums->reach.known;
	s->lost_bytes = s->scanned ? sums->reach.bytes[REACH_LOST] : 0;
	s->lost_allocs = s->scanned ? sums->reach.allocs[REACH_LOST] : 0;
	s->indirect_bytes = s->scanned ? sums->reach.bytes[REACH_INDIRECT] : 0;
	s->indirect_allocs = s->scanned ? sums->reach.allocs[REACH_INDIRECT] : 0;
	s->reachable_bytes = s->scanned ? sums->reach.bytes[REACH_REACHABLE] : 0;
	s->reachable_allocs = s->scanned ? sums->reach.allocs[REACH_REACHABLE] : 0;
	s->possible_bytes = s->scanned ? sums->reach.bytes[REACH_POSSIBLE] : 0;
	s->possible_allocs = s->scanned ? sums->reach.allocs[REACH_POSSIBLE] : 0;
}

/* Its bytes at this build, the last of its history. */
static void trend_push(struct stack_entry *e, int64_t bytes)
{
	if (e->nr_hist == TREND_POINTS) {
		memmove(e->hist_bytes, e->hist_bytes + 1, (TREND_POINTS - 1) * sizeof(int64_t));
		e->nr_hist--;
	}
	e->hist_bytes[e->nr_hist++] = bytes;
}

/* When point i of e's history was read, in seconds after its first. */
static double trend_time(const struct snap_source *src, const struct stack_entry *e, int i)
{
	uint64_t first = src->builds - e->nr_hist + 1;

	return (src->build_ns[(first + i) % TREND_POINTS] - src->build_ns[first % TREND_POINTS]) /
	       1e9;
}

/*
 * The least-squares slope of the last snapshots, and the verdict: growing
 * when it rises in at least two steps of three and ends above where it began;
 * shrinking the other way round; stable otherwise.
 */
static void trend_read(const struct snap_source *src, const struct stack_entry *e,
		       struct stack_stat *s)
{
	double mt = 0, mb = 0, stt = 0, stb = 0;
	int n = e->nr_hist, rises = 0, falls = 0;

	s->trend = TREND_UNKNOWN;
	s->slope = s->growth;
	if (n < 3)
		return;
	for (int i = 0; i < n; i++) {
		mt += trend_time(src, e, i) / n;
		mb += (double)e->hist_bytes[i] / n;
	}
	for (int i = 0; i < n; i++) {
		double dt = trend_time(src, e, i) - mt;

		stt += dt * dt;
		stb += dt * (e->hist_bytes[i] - mb);
		rises += i && e->hist_bytes[i] > e->hist_bytes[i - 1];
		falls += i && e->hist_bytes[i] < e->hist_bytes[i - 1];
	}
	s->slope = stt > 0 ? stb / stt : 0;
	if (s->slope > 0 && 3 * rises >= 2 * (n - 1) && e->hist_bytes[n - 1] > e->hist_bytes[0])
		s->trend = TREND_GROWING;
	else if (s->slope < 0 && 3 * falls >= 2 * (n - 1) &&
		 e->hist_bytes[n - 1] < e->hist_bytes[0])
		s->trend = TREND_SHRINKING;
	else
		s->trend = TREND_STABLE;
}

/*
 * Symbolizes the stacks a build reports before it makes their figures, then
 * lets go of what libdw read for them: its memory (2.8 MiB for libc's units)
 * and the snapshot's stacks (2.9 MiB for 10,000) are never held at once, and
 * the pages freed leave the heap (malloc_trim), so a report's peak is the
 * larger of the two, not their sum.
 */
static void symbolize_reported(struct snap_source *src, const struct lt_total_key *keys,
			       const struct lt_total *vals, size_t n, bool scanned)
{
	struct stack_entry *e;
	int64_t bytes, allocs;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (!snap_source__current(src, keys[i].tgid, keys[i].gen))
			continue;
		e = entry_get(src, keys[i].tgid, keys[i].gen, keys[i].stack_id);
		if (!e)
			continue;
		stack_amount(e, &vals[i], scanned, src->filter.sample_bytes, &bytes, &allocs);
		if (allocs <= 0 && bytes <= 0)
			continue;
		any |= !e->symbolized || e->lines_pending;
		entry_frames(src, e);
	}
	if (!any)
		return;
	symbolizer__release_lines(src->syms);
	malloc_trim(0);
}

/* Adds the stacks of the totals read at now_ns to snap; the growth is since the last call. */
static int add_totals(struct snap_source *src, struct snapshot *snap,
		      const struct lt_total_key *keys, const struct lt_total *vals, size_t n,
		      uint64_t now_ns)
{
	double dt = (now_ns - src->last_ns) / 1e9;
	bool scanned = src->filter.older > 0 || src->filter.scan;
	struct stack_entry *e;
	struct proc_stat *p;
	struct stack_stat s;
	int err = 0;

	src->build_ns[++src->builds % TREND_POINTS] = now_ns;
	symbolize_reported(src, keys, vals, n, scanned);
	for (size_t i = 0; !err && i < n; i++) {
		if (!snap_source__current(src, keys[i].tgid, keys[i].gen))
			continue; /* an image before exec, or a process no longer traced */
		e = entry_get(src, keys[i].tgid, keys[i].gen, keys[i].stack_id);
		if (!e)
			continue;
		/* A stack absent from the last build held nothing then. */
		if (e->last_build + 1 != src->builds) {
			e->last_bytes = 0;
			e->nr_hist = 0;
		}
		fill_stack(&s, e, &vals[i], now_ns, dt, scanned, src->filter.sample_bytes);
		trend_push(e, stack_stat__held(&s));
		trend_read(src, e, &s);
		e->last_bytes = stack_stat__held(&s);
		e->last_build = src->builds;
		if (!s.allocs && !s.bytes && !s.growth)
			continue;
		p = snapshot_proc(snap, src, keys[i].tgid);
		if (!p)
			return -ENOMEM;
		if (s.allocs > 0 || s.bytes > 0) {
			entry_frames(src, e);
			fill_frames(&s, e);
			err = stack_add(p, &s);
		} else
			p->growth += s.growth; /* freed to zero: gone from the list, not the rate */
	}
	return err;
}

static int by_id(const void *a, const void *b)
{
	const struct stack_stat *x = a, *y = b;

	if (x->stack_id != y->stack_id)
		return x->stack_id < y->stack_id ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/*
 * Without frame pointers the walk above frame 0 is cut, so stacks that differ
 * only in what was cut are one stack to the reader: merge them.
 */
static void merge_same_frames(struct proc_stat *p)
{
	struct stack_stat *v = p->stacks, *last;
	size_t out = 0;

	if (!p->nr_stacks)
		return;
	qsort(v, p->nr_stacks, sizeof(*v), by_id);
	for (size_t i = 0; i < p->nr_stacks; i++) {
		last = out ? &v[out - 1] : NULL;
		if (!last || by_id(last, &v[i])) {
			v[out++] = v[i];
			continue;
		}
		last->bytes += v[i].bytes;
		last->allocs += v[i].allocs;
		last->growth += v[i].growth;
		stack_stat__add_verdicts(last, &v[i]);
		stack_stat__add_resident(last, &v[i]);
		trend__merge(last, &v[i]);
		if (v[i].oldest_s > last->oldest_s)
			last->oldest_s = v[i].oldest_s;
	}
	p->nr_stacks = out;
}

static int by_bytes(const void *a, const void *b)
{
	const struct stack_stat *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static int proc_by_bytes(const void *a, const void *b)
{
	const struct proc_stat *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->pid - y->pid;
}

/* A copy of p's argv in one block of its own (the pointers, then the strings); NULL for none. */
static const char **argv_dup(const struct proc_stat *p)
{
	size_t len = 0;
	const char **argv;
	char *at;

	for (size_t i = 0; i < p->argc; i++)
		len += strlen(p->argv[i]) + 1;
	argv = p->argc ? malloc(p->argc * sizeof(*argv) + len) : NULL;
	if (!argv)
		return NULL;
	at = (char *)(argv + p->argc);
	for (size_t i = 0; i < p->argc; i++) {
		argv[i] = at;
		at = stpcpy(at, p->argv[i]) + 1;
	}
	return argv;
}

/*
 * Keeps an exited process's figures as this snapshot has them: its records go
 * at the next reap, and the final snapshot still shows it. Beyond MAX_GONE
 * processes the smallest make room. The frames stay the cache's.
 */
static int keep_gone(struct snap_source *src, const struct proc_stat *p, uint32_t gen)
{
	struct gone *slot = NULL, *grown;
	struct stack_stat *stacks;
	const char **argv;

	for (size_t i = 0; i < src->nr_gone && !slot; i++)
		if (src->gone[i].st.pid == p->pid)
			slot = &src->gone[i];
	/* An earlier process of its pid: its frames were the last reason to keep its entries. */
	if (slot && slot->gen != gen)
		doom(src, slot->st.pid);
	if (!slot && src->nr_gone >= src->max_gone) {
		if (!src->nr_gone)
			return 0;
		slot = &src->gone[0];
		for (size_t i = 1; i < src->nr_gone; i++)
			if (src->gone[i].st.bytes < slot->st.bytes)
				slot = &src->gone[i];
		if (slot->st.bytes >= p->bytes)
			return 0;
		/* Those of a process that took its pid since are not doomed: their gen differs. */
		doom(src, slot->st.pid);
	}
	if (!slot) {
		grown = realloc(src->gone, (src->nr_gone + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		src->gone = grown;
		slot = &src->gone[src->nr_gone++];
		slot->st.stacks = NULL;
		slot->st.argv = NULL;
	}
	stacks = malloc((p->nr_stacks + 1) * sizeof(*stacks));
	argv = argv_dup(p);
	if (!stacks || (p->argc && !argv)) {
		free(stacks);
		free(argv);
		return -ENOMEM;
	}
	if (p->nr_stacks)
		memcpy(stacks, p->stacks, p->nr_stacks * sizeof(*stacks));
	free(slot->st.stacks);
	free(slot->st.argv);
	slot->st = *p;
	slot->gen = gen;
	slot->st.stacks = stacks;
	slot->st.argv = argv; /* p's is in its snapshot's arena, which goes with it */
	return 0;
}

/* The kept exited processes that snap does not hold already, appended to it. */
static int add_gone(struct snap_source *src, struct snapshot *snap)
{
	for (size_t i = 0; i < src->nr_gone; i++) {
		const struct proc_stat *g = &src->gone[i].st;
		struct proc_stat *p, *procs;
		size_t k = 0;

		while (k < snap->nr_procs && snap->procs[k].pid != g->pid)
			k++;
		if (k < snap->nr_procs)
			continue;
		procs = realloc(snap->procs, (snap->nr_procs + 1) * sizeof(*procs));
		if (!procs)
			return -ENOMEM;
		snap->procs = procs;
		p = &procs[snap->nr_procs];
		*p = *g;
		p->alive = false;
		p->argv = NULL;
		p->argc = 0;
		p->stacks = malloc((g->nr_stacks + 1) * sizeof(*p->stacks));
		if (!p->stacks)
			return -ENOMEM;
		if (g->nr_stacks)
			memcpy(p->stacks, g->stacks, g->nr_stacks * sizeof(*p->stacks));
		snap->nr_procs++;
		if (proc_stat__copy_argv(p, snap, g))
			return -ENOMEM;
	}
	return 0;
}

/* The kernel's frames of a kernel stack entry, at its first report. */
static void kernel_frames(struct snap_source *src, struct stack_entry *e, uint64_t stack,
			  uint64_t call_site)
{
	uint64_t ips[LT_MAX_FRAMES];
	struct frame *v;
	int nr;

	if (e->symbolized)
		return;
	e->symbolized = true;
	nr = kmem__stack(src->kmem, stack, (__u64 *)ips, LT_MAX_FRAMES);
	v = nr ? calloc(nr, sizeof(*v)) : NULL;
	entry_intern(src, e, v, v ? kstack__frames(src->ksyms, ips, nr, call_site, v) : 0);
	e->truncated = !e->nr_frames;
}

/* Process 0 of a snapshot: the kernel, --kernel's stacks. */
static struct proc_stat *kernel_proc(struct snapshot *snap)
{
	struct proc_stat *p, *procs = realloc(snap->procs, (snap->nr_procs + 1) * sizeof(*procs));

	if (!procs)
		return NULL;
	snap->procs = procs;
	p = &procs[snap->nr_procs++];
	memset(p, 0, sizeof(*p));
	snprintf(p->comm, sizeof(p->comm), "kernel");
	snprintf(p->exe, sizeof(p->exe), "[kernel]");
	p->alive = true;
	return p;
}

/* A kernel stack's figures as a stack_stat, with the context of its first block. */
static void kernel_stack(struct snap_source *src, struct stack_entry *e,
			 const struct lt_ktotal_key *k, const struct lt_ktotal *v, uint64_t now_ns,
			 double dt, struct stack_stat *s)
{
	struct lt_total t = { .bytes = v->bytes,
			      .allocs = v->allocs,
			      .oldest_ts = v->oldest_ts,
			      .oldest_addr = v->oldest_addr,
			      .kind = STACK_KERNEL,
			      .est_bytes = v->est_bytes,
			      .est_allocs = v->est_allocs };

	fill_stack(s, e, &t, now_ns, dt, false, src->filter.sample_bytes);
	s->task_pid = k->tgid;
	memcpy(s->task_comm, v->comm, LT_COMM_LEN);
	s->task_cgroup = v->cgroup;
	memcpy(s->slab_cache, v->cache, LT_KCACHE_NAME);
	s->slab_cache[LT_KCACHE_NAME - 1] = 0;
}

static void kernel_lost(struct snap_source *src, struct snapshot *snap)
{
	struct kmem_lost l;

	snap->kernel = true;
	if (kmem__lost(src->kmem, &l))
		return;
	snap->lost[LOST_KERNEL_ALLOCS_UNTRACKED] = l.counters[LT_K_ALLOCS_UNTRACKED];
	snap->lost[LOST_KERNEL_STACKS_DROPPED] = l.counters[LT_K_STACKS_DROPPED];
	snap->lost[LOST_KERNEL_FREES_UNKNOWN] = l.counters[LT_K_FREES_UNKNOWN];
	snap->lost[LOST_KERNEL_MISSED] = l.counters[LT_K_MAP_BUSY] + l.missed;
}

/*
 * --kernel: process 0's stacks, one per (kernel stack, space, allocating
 * process), with their growth and trend as user stacks have them.
 */
static int add_kernel(struct snap_source *src, struct snapshot *snap, uint64_t now_ns)
{
	double dt = (now_ns - src->last_ns) / 1e9;
	struct lt_ktotal_key *keys = NULL;
	struct lt_ktotal *vals = NULL;
	struct proc_stat *p = kernel_proc(snap);
	struct stack_stat s;
	struct stack_entry *e;
	size_t n = 0;
	int err;

	if (!p)
		return -ENOMEM;
	kernel_lost(src, snap);
	err = kmem__totals(src->kmem, &keys, &vals, &n);
	for (size_t i = 0; !err && i < n; i++) {
		uint64_t id = keys[i].stack ^ (uint64_t)(keys[i].space + 1) * 0x9e3779b97f4a7c15ULL;

		e = entry_get(src, 0, keys[i].tgid, id);
		if (!e)
			continue;
		if (e->last_build + 1 != src->builds) {
			e->last_bytes = 0;
			e->nr_hist = 0;
		}
		kernel_stack(src, e, &keys[i], &vals[i], now_ns, dt, &s);
		trend_push(e, s.bytes);
		trend_read(src, e, &s);
		e->last_bytes = s.bytes;
		e->last_build = src->builds;
		if (s.allocs <= 0 && s.bytes <= 0) {
			p->growth += s.growth;
			continue;
		}
		kernel_frames(src, e, keys[i].stack, vals[i].call_site);
		s.frames = e->frames;
		s.nr_frames = e->nr_frames;
		s.truncated = e->truncated;
		/* Told apart by process: merge_same_frames keeps one row per (stack, process). */
		s.stack_id = (id ^ (uint64_t)keys[i].tgid * 0x9e3779b97f4a7c15ULL) | 1;
		err = stack_add(p, &s);
	}
	free(keys);
	free(vals);
	return err;
}

int snap_source__set_kernel(struct snap_source *src, struct kmem *k)
{
	int err = kallsyms__load("/proc/kallsyms", &src->ksyms);

	if (err == -EPERM)
		diag__error("--kernel: /proc/kallsyms hides the kernel's addresses "
			    "(kernel.kptr_restrict): run as root");
	else if (err)
		diag__error("--kernel: cannot read /proc/kallsyms: %s", strerror(-err));
	else
		src->kmem = k;
	return err;
}

void snap_source__with_exited(struct snap_source *src, bool with)
{
	src->with_gone = with;
}

int snap_source__build(struct snap_source *src, const struct lt_total_key *keys,
		       const struct lt_total *vals, size_t n, uint64_t now_ns,
		       struct snapshot *snap)
{
	int err;

	snap->started = src->started;
	snap->elapsed_s = (now_ns - src->started_ns) / 1e9;
	snap->sample_bytes = src->filter.sample_bytes;
	err = add_totals(src, snap, keys, vals, n, now_ns);
	if (!err && src->kmem && !src->only)
		err = add_kernel(src, snap, now_ns);
	if (err)
		return err;
	/*
	 * A traced process is reported also when it holds nothing, unless under -a: there, one
	 * that exited holding nothing has had its last report (it goes at the next reap).
	 */
	for (size_t i = 0; i < src->nr_procs; i++) {
		struct process *p = &src->procs[i];

		if (p->finished || (src->only && src->only != p->pid))
			continue;
		if (!src->filter.busy_only)
			snapshot_proc(snap, src, p->pid);
		else if (p->exited)
			p->reported = true;
	}
	for (size_t i = 0; i < snap->nr_procs && !err; i++) {
		struct process *info = snap_source__find(src, snap->procs[i].pid);

		merge_same_frames(&snap->procs[i]);
		if (snap->procs[i].nr_stacks)
			qsort(snap->procs[i].stacks, snap->procs[i].nr_stacks,
			      sizeof(struct stack_stat), by_bytes);
		/* Run mode keeps its finished processes' own reports (snap_source__finish). */
		if (info && info->exited && !info->finished && snap->procs[i].nr_stacks)
			err = keep_gone(src, &snap->procs[i], info->gen);
	}
	if (!err && src->with_gone)
		err = add_gone(src, snap);
	if (err)
		return err;
	if (snap->nr_procs)
		qsort(snap->procs, snap->nr_procs, sizeof(*snap->procs), proc_by_bytes);
	src->last_ns = now_ns;
	return 0;
}

int snap_source__finish(struct snap_source *src, pid_t pid)
{
	struct process *p = snap_source__find(src, pid);
	uint64_t last_ns = src->last_ns, builds = src->builds;
	struct snapshot *snap, **v;
	int err;

	if (!p)
		return -ENOENT;
	v = realloc(src->finished, (src->nr_finished + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	src->finished = v;
	src->only = pid;
	err = snap_source__take(src, &snap);
	src->only = 0;
	/* The others' growth is still since their last report. */
	src->last_ns = last_ns;
	src->builds = builds;
	if (err)
		return err;
	src->finished[src->nr_finished++] = snap;
	/* The take may have added processes: p moved. */
	p = snap_source__find(src, pid);
	if (p)
		p->finished = true;
	return 0;
}

/* A copy of one process's report into snap: its stacks copied, its argv in snap's arena. */
static int proc_copy(struct snapshot *snap, const struct proc_stat *from)
{
	struct proc_stat *p, *procs = realloc(snap->procs, (snap->nr_procs + 1) * sizeof(*procs));

	if (!procs)
		return -ENOMEM;
	snap->procs = procs;
	p = &procs[snap->nr_procs];
	*p = *from;
	p->argv = NULL;
	p->argc = 0;
	p->stacks = malloc((from->nr_stacks ? from->nr_stacks : 1) * sizeof(*p->stacks));
	if (!p->stacks)
		return -ENOMEM;
	if (from->nr_stacks) /* from->stacks is NULL then: memcpy's may not be (UBSan) */
		memcpy(p->stacks, from->stacks, from->nr_stacks * sizeof(*p->stacks));
	snap->nr_procs++;
	return proc_stat__copy_argv(p, snap, from);
}

int snap_source__add_finished(struct snap_source *src, struct snapshot *snap)
{
	int err = 0;

	for (size_t i = 0; i < src->nr_finished && !err; i++)
		for (size_t j = 0; j < src->finished[i]->nr_procs && !err; j++)
			err = proc_copy(snap, &src->finished[i]->procs[j]);
	if (snap->nr_procs)
		qsort(snap->procs, snap->nr_procs, sizeof(*snap->procs), proc_by_bytes);
	return err;
}

void snap_source__set_scan(struct snap_source *src, bool scan)
{
	src->filter.scan = scan;
}

int snap_source__take(struct snap_source *src, struct snapshot **out)
{
	struct lt_total_key *keys = NULL;
	struct lt_total *vals = NULL;
	struct snapshot *snap;
	uint64_t now_ns;
	size_t n = 0;
	int err;

	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	snap_source__refresh(src, NULL, NULL);
	for (size_t i = 0; i < src->nr_procs; i++)
		if (!src->procs[i].exited)
			symbolizer__add_process(src->syms, src->procs[i].pid);
	now_ns = tracer__now_ns();
	clock_gettime(CLOCK_REALTIME, &snap->taken);
	gethostname(snap->host, sizeof(snap->host) - 1);
	err = tracer__counters(src->tracer, snap->lost);
	if (!err)
		err = count_internal_frees(src, snap->lost);
	if (!err)
		err = tracer_maps__totals(src->tracer, &keys, &vals, &n);
	/* Before a scan: its reads would add the zero page to what was never touched. */
	if (!err)
		err = read_resident(src, now_ns);
	if (!err && (src->filter.older > 0 || src->filter.scan))
		err = scan_allocs(src, now_ns);
	if (!err)
		err = snap_source__build(src, keys, vals, n, now_ns, snap);
	/* Its stacks symbolized: the DWARF read for them need not stay resident until the next. */
	symbolizer__release_lines(src->syms);
	free(keys);
	free(vals);
	if (err) {
		snapshot__free(snap);
		return err;
	}
	*out = snap;
	return 0;
}

void snap_source__free(struct snap_source *src)
{
	struct stack_entry *e, *next;

	if (!src)
		return;
	mapping_events__free(src->events);
	for (size_t i = 0; i < src->nr_buckets; i++) {
		for (e = src->buckets[i]; e; e = next) {
			next = e->next;
			free(e->frames); /* the frames go with the table */
			free(e->sums);
			free(e);
		}
	}
	free(src->buckets);
	for (size_t i = 0; i < src->nr_procs; i++) {
		free(src->procs[i].cmdline);
		free(src->procs[i].proven);
	}
	free(src->procs);
	for (size_t i = 0; i < src->nr_finished; i++)
		snapshot__free(src->finished[i]);
	free(src->finished);
	for (size_t i = 0; i < src->nr_retired; i++)
		free(src->retired[i]);
	free(src->retired);
	frame_table__free(src->frames);
	free(src->doomed);
	for (size_t i = 0; i < src->nr_gone; i++) {
		free(src->gone[i].st.stacks);
		free(src->gone[i].st.argv);
	}
	free(src->gone);
	kallsyms__free(src->ksyms);
	free(src);
}
