// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Takes snapshots: reads the per-stack totals (O(stacks)), symbolizes stacks
 * not seen before (cached), and computes each stack's growth since the last one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "arena.h"
#include "mapping_events.h"
#include "procmaps.h"
#include "reach.h"
#include "snapshot.h"
#include "stop.h"
#include "tracer.h"

#define BATCH 4096
/* Snapshots a trend is read from: with 5 s reports, the last 40 s. */
#define TREND_POINTS 8
/* Exited processes whose last figures are kept for the final snapshot: the largest. */
#define MAX_GONE 4096
/* A running process's blocks younger than this are not judged lost (spare_in_flight). */
#define SCAN_GRACE_NS 1000000000ULL
/* The most of a process's command line kept for its report. */
#define CMDLINE_MAX 4096
/* A live scan that must confirm what it found unreached holds the process at most this long. */
#define CONFIRM_LIMIT_S 2.0

/* A stack's records summed by the scan's verdict (enum reach_state). */
struct reach_sums {
	bool known;
	int64_t bytes[REACH_NR_STATES];
	int64_t allocs[REACH_NR_STATES];
};

/* One (process, stack): its symbolized frames and its bytes at the last snapshot. */
struct stack_entry {
	struct stack_entry *next;
	pid_t pid;
	uint32_t gen;		/* the process's exec generation */
	uint64_t stack_id;
	uint64_t sound_id;	/* of the sound frames only: stacks that differ above them merge */
	struct frame *frames;
	int nr_frames;
	bool truncated;
	bool lines_pending;	/* a module's debug info was being fetched: symbolized again */
	unsigned int fetch_gen;	/* symbolizer__fetch_generation then */
	bool table_pending;
	int64_t last_bytes;
	uint64_t last_build;	/* the build that read last_bytes; older means 0 since */
	/* Its bytes at the last TREND_POINTS builds, for its trend: a ring, oldest first. */
	int64_t hist_bytes[TREND_POINTS];
	uint64_t hist_ns[TREND_POINTS];
	int nr_hist;
	/* Aggregated from the allocations themselves when --older is given. */
	int64_t scan_bytes;
	int64_t scan_allocs;
	uint64_t scan_oldest_ts;
	struct reach_sums reach;	/* --scan */
};

struct process {
	pid_t pid;
	uint32_t gen;		/* its exec generation, as the targets map says */
	bool exited;
	bool reported;		/* shown in a snapshot since it exited: may be dropped */
	bool finished;		/* its report was taken at its exit: later ones leave it out */
	bool pending;		/* new, or exec'd since: refresh's on_new has not seen it yet */
	char comm[17];
	char *cmdline;		/* its argv, each NUL-terminated, as /proc/PID/cmdline */
	size_t cmdline_len;
	dev_t alloc_dev;	/* the file of its allocator, 0 when unknown */
	ino_t alloc_ino;
	bool glibc_malloc;	/* its allocator is libc's: [heap]'s chunk headers can be read */
	const char *roots;	/* how its last scan told roots: "exact", "glibc-chunks", ... */
	bool exiting;		/* stopped in its exit by us: scanned, reported as gone */
	bool have_regs;
	struct user_regs_struct regs;	/* its registers at that stop */
	bool freeze_failed;	/* --scan-freeze could not hold it: said once */
	uint64_t held_max_ns;	/* the longest of its scans' holds */
	struct proven *proven;	/* blocks proven unreachable while it ran, by address */
	size_t nr_proven;
};

struct snap_source {
	struct tracer *tracer;
	struct symbolizer *syms;
	struct mapping_events *events;	/* mappings captured as made; NULL: none */
	uint64_t events_lost;		/* those lost, as last said */
	struct snap_filter filter;
	struct stack_entry **buckets;
	size_t nr_buckets;
	size_t nr_entries;
	struct process *procs;
	size_t nr_procs;
	uint64_t last_ns;
	uint64_t builds;
	struct timespec started;
	uint64_t started_ns;
	pid_t only;		/* non-zero: snapshots of this process alone (snap_source__finish) */
	struct snapshot **finished;	/* one per process reported at its exit */
	size_t nr_finished;
	/* Processes that exited, as last reported, after their records went: for the end. */
	struct proc_stat *gone;
	size_t nr_gone;
	bool with_gone;		/* the next snapshots hold them too */
	/* Frames replaced by entry_resymbolize: kept reports may still point to them. */
	struct frame **retired;
	size_t nr_retired;
};

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
	src->tracer = t;
	src->syms = syms;
	src->filter = *filter;
	/* Without them, processes gone before a refresh have unknown frames: not fatal. */
	if (t && tracer__map_events_fd(t) >= 0 &&
	    mapping_events__new(tracer__map_events_fd(t), syms, &src->events))
		fprintf(stderr, "leaktrace: cannot read the captured mappings: short-lived "
			"processes may show unknown frames\n");
	clock_gettime(CLOCK_REALTIME, &src->started);
	src->started_ns = src->last_ns = tracer__now_ns();
	return src;
}

static struct process *process_find(struct snap_source *src, pid_t pid)
{
	for (size_t i = 0; i < src->nr_procs; i++)
		if (src->procs[i].pid == pid)
			return &src->procs[i];
	return NULL;
}

/* True when (tgid, gen) is what a traced process holds now, and is reported. */
static bool current(struct snap_source *src, pid_t tgid, uint32_t gen)
{
	struct process *p = process_find(src, tgid);

	return p && p->gen == gen && !p->finished && (!src->only || src->only == tgid);
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
	p->cmdline[n] = '\0';	/* a cut last argument ends too */
	if (buf[n - 1])
		p->cmdline_len++;
}

int snap_source__add_process(struct snap_source *src, pid_t pid)
{
	struct process *p, *procs;

	p = process_find(src, pid);
	if (!p) {
		procs = realloc(src->procs, (src->nr_procs + 1) * sizeof(*procs));
		if (!procs)
			return -ENOMEM;
		src->procs = procs;
		p = &procs[src->nr_procs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
	}
	proc__read_line(pid, "comm", p->comm, sizeof(p->comm));
	read_cmdline(p);
	return symbolizer__add_process(src->syms, pid);
}

void snap_source__exiting(struct snap_source *src, pid_t pid, const struct user_regs_struct *regs)
{
	struct process *p = process_find(src, pid);

	if (!p)
		return;
	p->exiting = true;
	p->have_regs = regs != NULL;
	if (regs)
		p->regs = *regs;
}

int snap_source__set_allocator(struct snap_source *src, pid_t pid, const char *path)
{
	struct process *p = process_find(src, pid);
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
		return;		/* longer chains, still correct */
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
	static const char *const names[] = { "_start", "__libc_start_call_main",
					     "__libc_start_main", "start_thread", "clone3",
					     "clone", "__clone", "__clone3", "__GI___clone3" };

	for (size_t i = 0; f->symbol && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(f->symbol, names[i]))
			return true;
	return false;
}

/* Symbolizes a stack the first time it is seen in a process. */
static void entry_symbolize(struct snap_source *src, struct stack_entry *e)
{
	struct lt_stack raw;

	if (e->stack_id == LT_STACK_NONE || !src->tracer ||
	    bpf_map_lookup_elem(tracer__stacks_fd(src->tracer), &e->stack_id, &raw) ||
	    !raw.nr) {
		e->truncated = true;
		return;
	}
	if (raw.nr > LT_MAX_FRAMES)
		raw.nr = LT_MAX_FRAMES;
	e->frames = calloc(raw.nr, sizeof(*e->frames));
	if (!e->frames) {
		e->truncated = true;
		return;
	}
	if (raw.flags & LT_STACK_UNWOUND) {
		e->nr_frames = symbolizer__stack_unwound(src->syms, e->pid,
							 (const uint64_t *)raw.ips, raw.nr,
							 e->frames);
		e->truncated = raw.flags & LT_STACK_CUT;
	} else {
		e->nr_frames = symbolizer__stack(src->syms, e->pid, (const uint64_t *)raw.ips,
						 raw.nr, e->frames, &e->truncated);
	}
	if (e->nr_frames && thread_start(&e->frames[e->nr_frames - 1]))
		e->truncated = false;
	e->table_pending = e->truncated && (raw.flags & LT_STACK_UNBUILT);
	e->fetch_gen = symbolizer__fetch_generation(src->syms);
	e->nr_frames = symbolizer__add_lines(src->syms, e->pid, &e->frames, e->nr_frames,
					     &e->lines_pending);
	e->sound_id = 0xcbf29ce484222325ULL;
	for (int i = 0; i < e->nr_frames; i++)
		if (!e->frames[i].inlined)
			e->sound_id = (e->sound_id ^ e->frames[i].address) * 0x100000001b3ULL;
}

/* A stack symbolized while its debug info was being fetched: again, once a fetch ended. */
static void entry_resymbolize(struct snap_source *src, struct stack_entry *e)
{
	struct frame **v;

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

static struct stack_entry *entry_get(struct snap_source *src, pid_t pid, uint32_t gen,
				     uint64_t stack_id)
{
	size_t h = entry_hash(src, pid, stack_id);
	struct stack_entry *e;

	for (e = src->buckets[h]; e; e = e->next) {
		if (e->pid == pid && e->gen == gen && e->stack_id == stack_id) {
			entry_resymbolize(src, e);
			return e;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	e->gen = gen;
	e->stack_id = stack_id;
	entry_symbolize(src, e);
	e->next = src->buckets[h];
	src->buckets[h] = e;
	if (++src->nr_entries > 2 * src->nr_buckets)
		entries_grow(src);
	return e;
}

/* Reads a whole hash map with batched lookups; the arrays are malloc'ed. */
static int map_read_all(int fd, size_t key_size, size_t value_size, void **keys,
			void **values, size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t cap = BATCH, total = 0;
	__u64 token[4] = {}, *in = NULL;
	char *k = NULL, *v = NULL;
	int err = 0;

	for (;;) {
		__u32 count = BATCH;
		char *nk, *nv;

		if (total + BATCH > cap || !k) {
			cap = total + 2 * BATCH;
			nk = realloc(k, cap * key_size);
			nv = nk ? realloc(v, cap * value_size) : NULL;
			if (nk)
				k = nk;
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		err = bpf_map_lookup_batch(fd, in, token, k + total * key_size,
					   v + total * value_size, &count, &opts);
		total += count;
		in = token;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	if (err) {
		free(k);
		free(v);
		return err;
	}
	*keys = k;
	*values = v;
	*n = total;
	return 0;
}

/*
 * Copies the block slot's record; false when it is free, being written, or
 * changed while read. The programs publish a record with an atomic exchange
 * after writing it (leaktrace.bpf.c, slot_insert()).
 */
static bool slot_read(const struct lt_block_slot *s, struct lt_alloc_key *key,
		      struct lt_alloc *rec)
{
	__u64 addr = __atomic_load_n(&s->key.addr, __ATOMIC_ACQUIRE);

	if (addr <= LT_SLOT_BUSY)
		return false;
	memcpy(key, &s->key, sizeof(*key));
	memcpy(rec, &s->rec, sizeof(*rec));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	key->addr = addr;
	return __atomic_load_n(&s->key.addr, __ATOMIC_RELAXED) == addr;
}

/* Room for at least one more record past n in keys and vals (cap of them now); 0 or -ENOMEM. */
static int records_grow(struct lt_alloc_key **keys, struct lt_alloc **vals, size_t n,
			size_t *cap)
{
	size_t c = n < *cap ? *cap : n + n / 2 + 4096;
	struct lt_alloc_key *k;
	struct lt_alloc *v;

	if (c == *cap)
		return 0;
	k = realloc(*keys, c * sizeof(*k));
	if (k)
		*keys = k;
	v = k ? realloc(*vals, c * sizeof(*v)) : NULL;
	if (v)
		*vals = v;
	if (!v)
		return -ENOMEM;
	*cap = c;
	return 0;
}

/*
 * The records of every outstanding block: the allocs hash's and the block
 * slots', read a window of slots at a time (tracer__blocks_at()).
 */
static int records_read(struct snap_source *src, struct lt_alloc_key **keys,
			struct lt_alloc **vals, size_t *n)
{
	size_t nr_slots = tracer__nr_blocks(src->tracer), cap, left = 0;
	struct lt_block_slot *s = NULL;
	int err;

	err = map_read_all(tracer__allocs_fd(src->tracer), sizeof(**keys), sizeof(**vals),
			   (void **)keys, (void **)vals, n);
	cap = *n;
	for (size_t i = 0; !err && i < nr_slots; i++, left--, s++) {
		if (!left && !(s = tracer__blocks_at(src->tracer, i, &left)))
			err = -errno;
		else
			err = records_grow(keys, vals, *n, &cap);
		if (!err)
			*n += slot_read(s, &(*keys)[*n], &(*vals)[*n]);
	}
	if (err) {
		free(*keys);
		free(*vals);
		*keys = NULL;
		*vals = NULL;
	}
	return err;
}

/* The record of the block at key now (slot or hash); 0, or -ENOENT when there is none. */
static int record_now(struct snap_source *src, const struct lt_alloc_key *key,
		      struct lt_alloc *rec)
{
	struct lt_block_slot *s;
	struct lt_alloc_key k;

	for (__u32 j = 0; j < LT_BLOCK_PROBES; j++) {
		s = tracer__block_slot(src->tracer, key, j);
		if (s && slot_read(s, &k, rec) && !memcmp(&k, key, sizeof(k)))
			return 0;
	}
	return bpf_map_lookup_elem(tracer__allocs_fd(src->tracer), key, rec) ? -ENOENT : 0;
}

struct tgid_index {
	uint32_t tgid;
	uint32_t index;
};

static int by_tgid(const void *a, const void *b)
{
	const struct tgid_index *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * A live process's records were read before its scan: a block freed since
 * (its record gone, or another block's at its address) is no leak. One that
 * ran while scanned also holds pointers the scan could not see, in a register
 * or moved from a part not read yet to one read already: a block it allocated
 * just before the scan (within SCAN_GRACE_NS) is not judged either. A leak is
 * still there at the next report.
 */
static void spare_in_flight(struct snap_source *src, const struct lt_alloc_key *keys,
			    const struct lt_alloc *vals, const struct reach_block *blocks,
			    size_t n, uint64_t start, bool ran, int8_t *verdict)
{
	struct lt_alloc now;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = blocks[i].tag;

		if (verdict[k] == REACH_REACHABLE)
			continue;
		/* Freed since, its address maybe reused by another block: no leak. */
		if ((ran && vals[k].ts + SCAN_GRACE_NS > start) ||
		    record_now(src, &keys[k], &now) || now.ts != vals[k].ts)
			verdict[k] = REACH_REACHABLE;
	}
}

/* A block a held scan proved beyond its process's reach: no pointer to it can come back. */
struct proven {
	uint64_t addr;
	uint64_t ts;		/* of its record: the same block, not one at the same address */
};

static int by_proven(const void *a, const void *b)
{
	const struct proven *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool proven_before(const struct process *p, uint64_t addr, uint64_t ts)
{
	struct proven key = { addr, ts };
	const struct proven *v = bsearch(&key, p->proven, p->nr_proven, sizeof(key), by_proven);

	return v && v->ts == ts;
}

/*
 * The unreached blocks of a scan of the running process that need a proof: a
 * block freed since the records were read is no leak (its verdict becomes
 * reachable, and spare_in_flight drops it); one proven unreachable before
 * needs none. Returns how many are left.
 */
static size_t unproven(struct snap_source *src, struct process *p, struct reach_block *blocks,
		       size_t n, const struct lt_alloc_key *keys, const struct lt_alloc *vals)
{
	struct lt_alloc now;
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = blocks[i].tag;

		if (blocks[i].state == REACH_REACHABLE || blocks[i].region)
			continue;
		if (record_now(src, &keys[k], &now) || now.ts != vals[k].ts)
			blocks[i].state = REACH_REACHABLE;
		else if (!proven_before(p, keys[k].addr, vals[k].ts))
			left++;
	}
	return left;
}

/* Without a proof, a block is not called lost: those still unproven become reachable. */
static void spare_unproven(const struct process *p, struct reach_block *blocks, size_t n,
			   const struct lt_alloc_key *keys, const struct lt_alloc *vals)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t k = blocks[i].tag;

		if (blocks[i].state != REACH_REACHABLE && !blocks[i].region &&
		    !proven_before(p, keys[k].addr, vals[k].ts))
			blocks[i].state = REACH_REACHABLE;
	}
}

/* Keeps the blocks left unreached by a held confirmation: they need no proof again. */
static void remember_proven(struct process *p, const struct reach_block *blocks, size_t n,
			    const struct lt_alloc_key *keys, const struct lt_alloc *vals)
{
	struct proven *v;
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		m += blocks[i].state != REACH_REACHABLE && !blocks[i].region;
	v = malloc((m ? m : 1) * sizeof(*v));
	if (!v)
		return;
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (blocks[i].state != REACH_REACHABLE && !blocks[i].region)
			v[m++] = (struct proven){ keys[blocks[i].tag].addr,
						  vals[blocks[i].tag].ts };
	qsort(v, m, sizeof(*v), by_proven);
	free(p->proven);
	p->proven = v;
	p->nr_proven = m;
}

/* Holds pid still for a scan: its threads' registers are roots, nothing moves. */
static int hold(struct process *p, struct reach_freeze *fz)
{
	int err = reach__freeze(p->pid, fz);

	if (err && !p->freeze_failed)	/* another tracer (gdb, strace) holds it */
		fprintf(stderr, "leaktrace: cannot hold pid %d for its scan (%s): scanning it "
			"running; what it leaves unreached is lost only once a held scan proves "
			"it\n", p->pid, strerror(-err));
	p->freeze_failed = err != 0;
	if (!err && fz->nr_running)
		fprintf(stderr, "leaktrace: pid %d: %zu thread%s did not stop for the scan "
			"(asleep in the kernel): scanned running\n", p->pid, fz->nr_running,
			fz->nr_running == 1 ? "" : "s");
	return err;
}

/*
 * The verdicts of a live process, consistent: a scan of the running process
 * first, which does not stop it. What it left unreached and still allocated
 * may be a pointer that moved while it read: unless proven unreachable by an
 * earlier scan, the process is held while the roots and the blocks reached
 * are read again (reach__confirm). --scan-freeze holds it for the one scan.
 * *ran: the verdicts are not proven (no hold could be had).
 */
static int scan_live(struct snap_source *src, struct process *p, struct reach_block *blocks,
		     size_t n, const struct lt_alloc_key *keys, const struct lt_alloc *vals,
		     struct reach_stats *st, uint64_t *held_ns, bool *ran)
{
	enum reach_roots roots = p->glibc_malloc ? REACH_ROOTS_GLIBC : REACH_ROOTS_CONSERVATIVE;
	struct reach_freeze fz = { 0 };
	uint64_t limit = (uint64_t)((src->filter.scan_freeze > 0 ? src->filter.scan_freeze :
				     CONFIRM_LIMIT_S) * 1e9);
	struct reach_stats st2;
	bool held = false;
	int err;

	*held_ns = 0;
	*ran = false;
	if (src->filter.scan_freeze > 0 && (held = !hold(p, &fz))) {
		err = reach__scan(p->pid, blocks, n, fz.threads, fz.nr_threads, &fz,
				  tracer__now_ns() + limit, roots, st);
	} else {
		free(fz.threads);
		memset(&fz, 0, sizeof(fz));
		err = reach__scan(p->pid, blocks, n, NULL, 0, NULL, 0, roots, st);
		if (err || !unproven(src, p, blocks, n, keys, vals))
			return err;
		/* A thread that did not stop may still move a pointer: no proof then. */
		held = !hold(p, &fz) && !fz.nr_running;
		if (held) {
			err = reach__confirm(p->pid, blocks, n, &fz, tracer__now_ns() + limit,
					     roots, &st2);
			/* The verdicts are the held scan's. */
			st->thawed_early = st2.thawed_early;
			st->heap_walked = st2.heap_walked;
		}
		if (!err && held && !st->thawed_early)
			remember_proven(p, blocks, n, keys, vals);
		else if (!err)	/* not held, or not long enough: no proof */
			spare_unproven(p, blocks, n, keys, vals);
	}
	reach__thaw(&fz);
	*held_ns = fz.held_ns;
	*ran = !held || st->thawed_early;
	free(fz.threads);
	return err;
}

/*
 * Scans one process for the records at idx[0..n) (its current image's), and
 * writes their verdicts. A stopped (exiting) process is scanned as it is,
 * with exact roots: every block its allocator holds is known.
 */
static void reach_process(struct snap_source *src, struct process *p,
			  const struct tgid_index *idx, size_t n, const struct lt_alloc_key *keys,
			  const struct lt_alloc *vals, int8_t *verdict)
{
	struct reach_thread stopped = { .tid = p->pid, .regs = p->regs };
	struct reach_block *blocks;
	struct reach_stats st;
	uint64_t start, held_ns = 0;
	bool ran = false;
	int err;

	blocks = malloc(n * sizeof(*blocks));
	if (!blocks)
		return;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = idx[i].index;

		blocks[i] = (struct reach_block){ keys[k].addr, vals[k].size, k, REACH_REACHABLE,
						  vals[k].kind == LT_KIND_MMAP };
	}
	start = tracer__now_ns();
	if (p->exiting)
		err = reach__scan(p->pid, blocks, n, &stopped, p->have_regs, NULL, 0,
				  REACH_ROOTS_EXACT, &st);
	else
		err = scan_live(src, p, blocks, n, keys, vals, &st, &held_ns, &ran);
	if (!err)
		for (size_t i = 0; i < n; i++)
			verdict[blocks[i].tag] = blocks[i].state;
	if (!err && !p->exiting)
		spare_in_flight(src, keys, vals, blocks, n, start, ran, verdict);
	p->held_max_ns = held_ns > p->held_max_ns ? held_ns : p->held_max_ns;
	if (!err)
		p->roots = p->exiting ? "exact" : st.heap_walked ? "glibc-chunks" : "conservative";
	if (src->filter.verbose && !err)
		fprintf(stderr, "leaktrace: scan of pid %d: %.1f ms, %zu blocks, %.1f MiB read, "
			"%.1f MiB without pages skipped, %zu stack%s bounded, roots %s, "
			"held %.3f ms%s\n", p->pid,
			st.ns / 1e6, n, st.bytes_read / 1048576.0, st.bytes_skipped / 1048576.0,
			st.threads_bounded, st.threads_bounded == 1 ? "" : "s",
			p->roots, held_ns / 1e6,
			st.thawed_early ? " (let go early: the hold ran out)" : "");
	else if (err && err != -ESRCH)
		fprintf(stderr, "leaktrace: cannot scan pid %d: %s\n", p->pid, strerror(-err));
	free(blocks);
}

/* --scan: a verdict per record (-1 where the process could not be scanned). */
static int reach_records(struct snap_source *src, const struct lt_alloc_key *keys,
			 const struct lt_alloc *vals, size_t n, int8_t *verdict)
{
	struct tgid_index *idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t m = 0, i, j;

	if (!idx)
		return -ENOMEM;
	memset(verdict, -1, n);
	for (i = 0; i < n; i++)
		if (current(src, keys[i].tgid, keys[i].gen))
			idx[m++] = (struct tgid_index){ keys[i].tgid, i };
	qsort(idx, m, sizeof(*idx), by_tgid);
	for (i = 0; i < m; i = j) {
		struct process *p = process_find(src, idx[i].tgid);

		for (j = i; j < m && idx[j].tgid == idx[i].tgid; j++)
			;
		/* Stopping: the rest are left unscanned (no verdict), not scanned late. */
		if ((p->exiting || !p->exited) && !stop__requested())
			reach_process(src, p, idx + i, j - i, keys, vals, verdict);
	}
	free(idx);
	return 0;
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

	err = records_read(src, &keys, &vals, &n);
	if (err)
		return err;
	if (src->filter.scan) {
		verdict = malloc(n ? n : 1);
		err = verdict ? reach_records(src, keys, vals, n, verdict) : -ENOMEM;
	}
	for (i = 0; i < src->nr_buckets; i++)
		for (e = src->buckets[i]; e; e = e->next) {
			e->scan_bytes = e->scan_allocs = 0, e->scan_oldest_ts = 0;
			memset(&e->reach, 0, sizeof(e->reach));
		}
	for (i = 0; !err && i < n; i++) {
		int64_t bytes, allocs;

		if (!current(src, keys[i].tgid, keys[i].gen) || vals[i].ts > cutoff ||
		    vals[i].size < src->filter.min_size ||
		    vals[i].size > src->filter.max_size)
			continue;
		e = entry_get(src, keys[i].tgid, keys[i].gen, vals[i].stack_id);
		if (!e)
			continue;
		/* Sampled, each record stands for its estimate (allocs rounded per record). */
		bytes = src->filter.sample_bytes ? (int64_t)vals[i].est_bytes : (int64_t)vals[i].size;
		allocs = src->filter.sample_bytes ?
			(vals[i].est_bytes + vals[i].size / 2) / (vals[i].size ? vals[i].size : 1) : 1;
		e->scan_bytes += bytes;
		e->scan_allocs += allocs;
		if (!e->scan_oldest_ts || vals[i].ts < e->scan_oldest_ts)
			e->scan_oldest_ts = vals[i].ts;
		if (verdict && verdict[i] >= 0) {
			e->reach.known = true;
			e->reach.bytes[verdict[i]] += bytes;
			e->reach.allocs[verdict[i]] += allocs;
		}
	}
	free(verdict);
	free(keys);
	free(vals);
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

	err = map_read_all(tracer__unmatched_fd(src->tracer), sizeof(*sites), sizeof(*counts),
			   (void **)&sites, (void **)&counts, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		p = process_find(src, sites[i].tgid);
		if (!p || !p->alloc_ino ||
		    symbolizer__file_id(src->syms, p->pid, sites[i].addr, &dev, &ino) ||
		    dev != p->alloc_dev || ino != p->alloc_ino)
			continue;
		lost[LT_FREES_INTERNAL] += counts[i];
		lost[LT_FREES_UNMATCHED] -= counts[i] < lost[LT_FREES_UNMATCHED] ?
					    counts[i] : lost[LT_FREES_UNMATCHED];
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
	lost = tracer__map_events_lost(src->tracer);
	if (lost > src->events_lost)
		fprintf(stderr, "leaktrace: %llu captured mappings lost (the ring buffer was "
			"full): processes that exited meanwhile may show unknown frames\n",
			(unsigned long long)(lost - src->events_lost));
	src->events_lost = lost;
}

int snap_source__refresh(struct snap_source *src, void (*on_new)(void *arg, pid_t pid),
			 void *arg)
{
	struct lt_target *vals = NULL;
	__u32 *keys = NULL;
	struct process *p;
	size_t n = 0;
	int err;

	if (!src->tracer)
		return 0;
	read_mappings(src);
	err = map_read_all(tracer__targets_fd(src->tracer), sizeof(*keys), sizeof(*vals),
			   (void **)&keys, (void **)&vals, &n);
	for (size_t i = 0; !err && i < n; i++) {
		p = process_find(src, keys[i]);
		if (!p) {
			if (snap_source__add_process(src, keys[i]) == -ENOMEM)
				break;
			p = process_find(src, keys[i]);
			if (!p)
				break;
			if (!p->comm[0])
				memcpy(p->comm, vals[i].comm, LT_COMM_LEN);
			p->pending = true;
		} else if (p->gen != vals[i].gen) {
			snap_source__add_process(src, keys[i]);	/* a new image: new mappings */
			p = process_find(src, keys[i]);
			p->pending = true;
		}
		p->gen = vals[i].gen;
		p->exited = vals[i].flags & LT_TARGET_EXITED;
		/* Its turn comes with the first refresh that has on_new, whoever saw it first. */
		if (on_new && p->pending && !p->exited)
			on_new(arg, keys[i]);
		if (on_new)
			p->pending = false;
	}
	free(keys);
	free(vals);
	return err;
}

/*
 * Whether records of (tgid, gen) are stale: an old image, or a process gone
 * and reported. A process not known yet (under -a, started since the last
 * refresh) keeps its records.
 */
static bool records_stale(struct snap_source *src, __u32 tgid, __u32 gen)
{
	struct process *p = process_find(src, tgid);

	return p && (p->gen != gen || (p->exited && (p->reported || p->finished)));
}

/*
 * Frees the block slots holding stale records. No program touches them: a
 * program takes only a free slot or one of its own process's current image.
 */
static void drop_stale_slots(struct snap_source *src)
{
	size_t nr_slots = tracer__nr_blocks(src->tracer), left = 0;
	struct lt_block_slot *s = NULL;
	struct lt_alloc_key key;
	struct lt_alloc rec;

	for (size_t i = 0; i < nr_slots; i++, left--, s++) {
		if (!left && !(s = tracer__blocks_at(src->tracer, i, &left)))
			return;	/* not mapped: the next reap frees them */
		if (slot_read(s, &key, &rec) && records_stale(src, key.tgid, key.gen))
			__atomic_compare_exchange_n(&s->key.addr, &key.addr, 0, false,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

/*
 * Deletes the keys of a map whose (tgid, gen) head says they are stale; allocs
 * says the map is allocs, whose records the block slots count.
 */
static int drop_stale(struct snap_source *src, int fd, size_t key_size, size_t value_size,
		      bool allocs)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = NULL, *vals = NULL, *out;
	size_t n = 0, nr = 0;
	int err;

	err = map_read_all(fd, key_size, value_size, (void **)&keys, (void **)&vals, &n);
	out = keys;
	for (size_t i = 0; !err && i < n; i++) {
		/* Every key of these maps starts with {__u32 tgid; __u32 gen;}. */
		const __u32 *head = (const __u32 *)(keys + i * key_size);

		if (!records_stale(src, head[0], head[1]))
			continue;
		memmove(vals + nr * value_size, vals + i * value_size, value_size);
		memmove(out + nr++ * key_size, head, key_size);
	}
	if (!err && nr) {
		__u32 count = nr;

		err = bpf_map_delete_batch(fd, keys, &count, &opts) ? -errno : 0;
		if (!err && allocs)
			tracer__hash_dropped(src->tracer, (const struct lt_alloc_key *)keys,
					     (const struct lt_alloc *)vals, nr);
	}
	free(keys);
	free(vals);
	return err;
}

int snap_source__reap(struct snap_source *src)
{
	struct tracer *t = src->tracer;
	size_t i, out = 0;
	bool stale = false;
	__u32 tgid;
	int err;

	for (i = 0; i < src->nr_procs; i++)
		stale |= src->procs[i].exited && (src->procs[i].reported || src->procs[i].finished);
	/* Old generations: cheap to find in the totals, which say whether a scan is due. */
	err = drop_stale(src, tracer__totals_fd(t), sizeof(struct lt_total_key),
			 sizeof(struct lt_total), false);
	if (err || !stale)
		return err;
	drop_stale_slots(src);
	err = drop_stale(src, tracer__allocs_fd(t), sizeof(struct lt_alloc_key),
			 sizeof(struct lt_alloc), true);
	if (!err)
		err = drop_stale(src, tracer__mmaps_fd(t), sizeof(struct lt_alloc_key),
				 sizeof(__u64), false);
	if (!err)
		err = drop_stale(src, tracer__unmatched_fd(t), sizeof(struct lt_alloc_key),
				 sizeof(__u64), false);
	for (i = 0; i < src->nr_procs; i++) {
		struct process *p = &src->procs[i];

		if (!(p->exited && (p->reported || p->finished))) {
			src->procs[out++] = *p;
			continue;
		}
		free(p->cmdline);
		tgid = p->pid;
		free(p->proven);
		bpf_map_delete_elem(tracer__targets_fd(t), &tgid);
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
	info = process_find(src, pid);
	if (info) {
		memcpy(p->comm, info->comm, sizeof(p->comm));
		if (proc_stat__set_argv(p, snap, info->cmdline, info->cmdline_len))
			return NULL;
	}
	/* The symbolizer read it with the mappings, while the process lived. */
	if (!symbolizer__exe(src->syms, pid, &exe))
		snprintf(p->exe, sizeof(p->exe), "%s", exe);
	/* A zombie has no executable any more: it is gone for our purposes. */
	p->alive = (!info || (!info->exited && !info->exiting)) && !proc__exe(pid, buf, sizeof(buf));
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
	return 0;
}

static void fill_stack(struct stack_stat *s, const struct stack_entry *e, const struct lt_total *t,
		       uint64_t now_ns, double dt, bool scanned, bool sampled)
{
	uint64_t oldest = scanned ? e->scan_oldest_ts : (t->oldest_addr ? t->oldest_ts : 0);

	memset(s, 0, sizeof(*s));	/* fields a snapshot of the maps has not, like origins */
	s->stack_id = e->sound_id ? e->sound_id : e->stack_id;
	s->kind = t->kind;
	if (scanned) {
		s->bytes = e->scan_bytes;
		s->allocs = e->scan_allocs;
	} else if (sampled) {
		/* Estimates: what the samples stand for (a count rounded to the nearest). */
		s->bytes = t->est_bytes;
		s->allocs = (t->est_allocs + LT_EST_ALLOCS_ONE / 2) / LT_EST_ALLOCS_ONE;
	} else {
		s->bytes = t->bytes;
		s->allocs = t->allocs;
	}
	s->oldest_s = oldest && oldest <= now_ns ? (now_ns - oldest) / 1e9 : -1;
	s->growth = dt > 0 ? (s->bytes - e->last_bytes) / dt : 0;
	s->frames = e->frames;
	s->nr_frames = e->nr_frames;
	s->truncated = e->truncated;
	s->table_pending = e->table_pending;
	s->scanned = scanned && e->reach.known;
	s->lost_bytes = s->scanned ? e->reach.bytes[REACH_LOST] : 0;
	s->lost_allocs = s->scanned ? e->reach.allocs[REACH_LOST] : 0;
	s->indirect_bytes = s->scanned ? e->reach.bytes[REACH_INDIRECT] : 0;
	s->indirect_allocs = s->scanned ? e->reach.allocs[REACH_INDIRECT] : 0;
	s->reachable_bytes = s->scanned ? e->reach.bytes[REACH_REACHABLE] : 0;
	s->reachable_allocs = s->scanned ? e->reach.allocs[REACH_REACHABLE] : 0;
	s->possible_bytes = s->scanned ? e->reach.bytes[REACH_POSSIBLE] : 0;
	s->possible_allocs = s->scanned ? e->reach.allocs[REACH_POSSIBLE] : 0;
}

const char *trend__name(enum trend t)
{
	static const char *const names[] = { "unknown", "growing", "stable", "shrinking" };

	return t <= TREND_SHRINKING ? names[t] : "unknown";
}

void stack_stat__add_verdicts(struct stack_stat *to, const struct stack_stat *from)
{
	to->scanned |= from->scanned;
	to->lost_bytes = count__add(to->lost_bytes, from->lost_bytes);
	to->lost_allocs = count__add(to->lost_allocs, from->lost_allocs);
	to->indirect_bytes = count__add(to->indirect_bytes, from->indirect_bytes);
	to->indirect_allocs = count__add(to->indirect_allocs, from->indirect_allocs);
	to->reachable_bytes = count__add(to->reachable_bytes, from->reachable_bytes);
	to->reachable_allocs = count__add(to->reachable_allocs, from->reachable_allocs);
	to->possible_bytes = count__add(to->possible_bytes, from->possible_bytes);
	to->possible_allocs = count__add(to->possible_allocs, from->possible_allocs);
}

void trend__merge(struct stack_stat *to, const struct stack_stat *from)
{
	to->slope += from->slope;
	/* Growing if a part grows; otherwise known as soon as a part is known. */
	if (from->trend == TREND_GROWING || to->trend == TREND_UNKNOWN)
		to->trend = from->trend;
}

int64_t stack_stat__unreachable(const struct stack_stat *s)
{
	return count__add(s->lost_bytes, s->indirect_bytes);
}

static int64_t kind_bytes(unsigned int kinds, int64_t lost, int64_t indirect, int64_t possible)
{
	return (kinds & LEAK_KIND_DEFINITE ? lost : 0) + (kinds & LEAK_KIND_INDIRECT ? indirect : 0) +
	       (kinds & LEAK_KIND_POSSIBLE ? possible : 0);
}

int64_t proc_stat__leaked(const struct proc_stat *p, unsigned int kinds, int64_t *suppressed)
{
	int64_t all = kind_bytes(kinds, p->lost_bytes, p->indirect_bytes, p->possible_bytes);
	int64_t supp = 0;

	for (size_t i = 0; i < p->nr_stacks; i++) {
		const struct stack_stat *s = &p->stacks[i];

		if (s->suppressed)
			supp += kind_bytes(kinds, s->lost_bytes, s->indirect_bytes, s->possible_bytes);
	}
	if (suppressed)
		*suppressed = supp;
	return all - supp;
}

static bool growing(const struct stack_stat *s)
{
	return !s->final && s->trend == TREND_GROWING;
}

static bool judged_lost(const struct stack_stat *s)
{
	return stack_stat__unreachable(s) > 0 || s->possible_bytes > 0;
}

bool stack_stat__suspect(const struct stack_stat *s)
{
	if (s->suppressed)
		return false;	/* known and accepted: not what the reader is looking for */
	return judged_lost(s) || growing(s) ||
	       (!s->final && s->trend == TREND_UNKNOWN && s->growth > 0);
}

double stack_stat__rate(const struct stack_stat *s)
{
	return s->trend == TREND_UNKNOWN ? s->growth : s->slope;
}

/* 2: lost and growing, 1: one of them, 0: neither. */
static int suspicion_class(const struct stack_stat *s)
{
	return judged_lost(s) + growing(s);
}

int stack_stat__cmp_suspicion(const struct stack_stat *x, const struct stack_stat *y)
{
	double rx = stack_stat__rate(x), ry = stack_stat__rate(y);
	int64_t lx = stack_stat__unreachable(x), ly = stack_stat__unreachable(y);

	if (suspicion_class(x) != suspicion_class(y))
		return suspicion_class(x) > suspicion_class(y) ? -1 : 1;
	if (growing(x) != growing(y))
		return growing(x) ? 1 : -1;	/* lost before growing */
	if (x->lost_bytes != y->lost_bytes)
		return x->lost_bytes < y->lost_bytes ? 1 : -1;
	if (lx != ly)
		return lx < ly ? 1 : -1;
	if (x->possible_bytes != y->possible_bytes)
		return x->possible_bytes < y->possible_bytes ? 1 : -1;
	if (rx != ry)
		return rx < ry ? 1 : -1;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

const char *stack_stat__reason(const struct stack_stat *s)
{
	bool lost = stack_stat__unreachable(s) > 0;

	/* Both only with a steady growth: a first report's growth since the start is no news. */
	if (lost)
		return growing(s) ? "both" : "lost";
	return s->possible_bytes > 0 ? "possible" : "growing";
}

static void trend_push(struct stack_entry *e, uint64_t now_ns, int64_t bytes)
{
	if (e->nr_hist == TREND_POINTS) {
		memmove(e->hist_bytes, e->hist_bytes + 1, (TREND_POINTS - 1) * sizeof(int64_t));
		memmove(e->hist_ns, e->hist_ns + 1, (TREND_POINTS - 1) * sizeof(uint64_t));
		e->nr_hist--;
	}
	e->hist_bytes[e->nr_hist] = bytes;
	e->hist_ns[e->nr_hist++] = now_ns;
}

/*
 * The least-squares slope of the last snapshots, and the verdict: growing
 * when it rises in at least two steps of three and ends above where it began;
 * shrinking the other way round; stable otherwise.
 */
static void trend_read(const struct stack_entry *e, struct stack_stat *s)
{
	double mt = 0, mb = 0, stt = 0, stb = 0;
	int n = e->nr_hist, rises = 0, falls = 0;

	s->trend = TREND_UNKNOWN;
	s->slope = s->growth;
	if (n < 3)
		return;
	for (int i = 0; i < n; i++) {
		mt += (e->hist_ns[i] - e->hist_ns[0]) / 1e9 / n;
		mb += (double)e->hist_bytes[i] / n;
	}
	for (int i = 0; i < n; i++) {
		double dt = (e->hist_ns[i] - e->hist_ns[0]) / 1e9 - mt;

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

	src->builds++;
	for (size_t i = 0; !err && i < n; i++) {
		if (!current(src, keys[i].tgid, keys[i].gen))
			continue;	/* an image before exec, or a process no longer traced */
		e = entry_get(src, keys[i].tgid, keys[i].gen, keys[i].stack_id);
		if (!e)
			continue;
		/* A stack absent from the last build held nothing then. */
		if (e->last_build + 1 != src->builds) {
			e->last_bytes = 0;
			e->nr_hist = 0;
		}
		fill_stack(&s, e, &vals[i], now_ns, dt, scanned, src->filter.sample_bytes);
		trend_push(e, now_ns, s.bytes);
		trend_read(e, &s);
		e->last_bytes = s.bytes;
		e->last_build = src->builds;
		if (!s.allocs && !s.bytes && !s.growth)
			continue;
		p = snapshot_proc(snap, src, keys[i].tgid);
		if (!p)
			return -ENOMEM;
		if (s.allocs > 0 || s.bytes > 0)
			err = stack_add(p, &s);
		else
			p->growth += s.growth;	/* freed to zero: gone from the list, not the rate */
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
static int keep_gone(struct snap_source *src, const struct proc_stat *p)
{
	struct proc_stat *slot = NULL, *grown;
	struct stack_stat *stacks;
	const char **argv;

	for (size_t i = 0; i < src->nr_gone && !slot; i++)
		if (src->gone[i].pid == p->pid)
			slot = &src->gone[i];
	if (!slot && src->nr_gone == MAX_GONE) {
		slot = &src->gone[0];
		for (size_t i = 1; i < src->nr_gone; i++)
			if (src->gone[i].bytes < slot->bytes)
				slot = &src->gone[i];
		if (slot->bytes >= p->bytes)
			return 0;
	}
	if (!slot) {
		grown = realloc(src->gone, (src->nr_gone + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		src->gone = grown;
		slot = &src->gone[src->nr_gone++];
		slot->stacks = NULL;
		slot->argv = NULL;
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
	free(slot->stacks);
	free(slot->argv);
	*slot = *p;
	slot->stacks = stacks;
	slot->argv = argv;	/* p's is in its snapshot's arena, which goes with it */
	return 0;
}

/* The kept exited processes that snap does not hold already, appended to it. */
static int add_gone(struct snap_source *src, struct snapshot *snap)
{
	for (size_t i = 0; i < src->nr_gone; i++) {
		const struct proc_stat *g = &src->gone[i];
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
	if (err)
		return err;
	/* A traced process is reported also when it holds nothing, unless under -a. */
	for (size_t i = 0; i < src->nr_procs && !src->filter.busy_only; i++)
		if (!src->procs[i].finished && (!src->only || src->only == src->procs[i].pid))
			snapshot_proc(snap, src, src->procs[i].pid);
	for (size_t i = 0; i < snap->nr_procs && !err; i++) {
		struct process *info = process_find(src, snap->procs[i].pid);

		merge_same_frames(&snap->procs[i]);
		if (snap->procs[i].nr_stacks)
			qsort(snap->procs[i].stacks, snap->procs[i].nr_stacks,
			      sizeof(struct stack_stat), by_bytes);
		/* Run mode keeps its finished processes' own reports (snap_source__finish). */
		if (info && info->exited && !info->finished && snap->procs[i].nr_stacks)
			err = keep_gone(src, &snap->procs[i]);
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
	struct process *p = process_find(src, pid);
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
	p = process_find(src, pid);
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

int proc_stat__set_argv(struct proc_stat *p, struct snapshot *snap, const char *cmdline,
			size_t len)
{
	const char **argv;
	char *copy;
	size_t n = 0;

	if (!cmdline || !len)
		return 0;
	if (!snap->arena)
		snap->arena = arena__new();
	for (size_t i = 0; i < len; i++)
		n += !cmdline[i];
	argv = snap->arena ? arena__alloc(snap->arena, n * sizeof(*argv)) : NULL;
	copy = argv ? arena__alloc(snap->arena, len) : NULL;
	if (!copy)
		return -ENOMEM;
	memcpy(copy, cmdline, len);
	p->argc = 0;
	for (size_t i = 0; i < len; i += strlen(copy + i) + 1)
		argv[p->argc++] = copy + i;
	p->argv = argv;
	return 0;
}

int proc_stat__copy_argv(struct proc_stat *to, struct snapshot *snap, const struct proc_stat *from)
{
	size_t len = 0;
	char *line, *at;
	int err;

	for (size_t i = 0; i < from->argc; i++)
		len += strlen(from->argv[i]) + 1;
	if (!len)
		return 0;
	line = malloc(len);
	if (!line)
		return -ENOMEM;
	at = line;
	for (size_t i = 0; i < from->argc; i++)
		at = stpcpy(at, from->argv[i]) + 1;
	err = proc_stat__set_argv(to, snap, line, len);
	free(line);
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
		err = map_read_all(tracer__totals_fd(src->tracer), sizeof(*keys), sizeof(*vals),
				   (void **)&keys, (void **)&vals, &n);
	if (!err && (src->filter.older > 0 || src->filter.scan))
		err = scan_allocs(src, now_ns);
	if (!err)
		err = snap_source__build(src, keys, vals, n, now_ns, snap);
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
			free(e->frames);
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
	for (size_t i = 0; i < src->nr_gone; i++) {
		free(src->gone[i].stacks);
		free(src->gone[i].argv);
	}
	free(src->gone);
	free(src);
}

void snapshot__free(struct snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->nr_procs; i++)
		free(snap->procs[i].stacks);
	free(snap->procs);
	arena__free(snap->arena);
	free(snap);
}
