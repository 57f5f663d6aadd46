// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --scan: the live processes' blocks told lost or reachable (reach.c), held still or
 * confirmed so that a verdict of lost is proven, for the live source's records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "reach.h"
#include "snap_scan.h"
#include "snap_source_int.h"
#include "stop.h"
#include "tracer.h"
#include "tracer_maps.h"

/* A running process's blocks younger than this are not judged lost (spare_in_flight). */
#define SCAN_GRACE_NS 1000000000ULL
/* A live scan that must confirm what it found unreached holds the process at most this long. */
#define CONFIRM_LIMIT_S 2.0

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
			    const struct lt_alloc *vals, const struct reach_block *blocks, size_t n,
			    uint64_t start, bool ran, int8_t *verdict)
{
	struct lt_alloc now;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = blocks[i].tag;

		if (verdict[k] == REACH_REACHABLE)
			continue;
		/* Freed since, its address maybe reused by another block: no leak. */
		if ((ran && vals[k].ts + SCAN_GRACE_NS > start) ||
		    tracer_maps__record_now(src->tracer, &keys[k], &now) || now.ts != vals[k].ts)
			verdict[k] = REACH_REACHABLE;
	}
}

/* A block a held scan proved beyond its process's reach: no pointer to it can come back. */
struct proven {
	uint64_t addr;
	uint64_t ts; /* of its record: the same block, not one at the same address */
};

static int by_proven(const void *a, const void *b)
{
	const struct proven *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool proven_before(const struct process *p, uint64_t addr, uint64_t ts)
{
	struct proven key = { addr, ts };
	const struct proven *v;

	/* bsearch's array may not be NULL, even empty (UBSan). */
	if (!p->nr_proven)
		return false;
	v = bsearch(&key, p->proven, p->nr_proven, sizeof(key), by_proven);
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
		if (tracer_maps__record_now(src->tracer, &keys[k], &now) || now.ts != vals[k].ts)
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

	if (err && !p->freeze_failed) /* another tracer (gdb, strace) holds it */
		diag__warn("cannot hold pid %d for its scan (%s): scanning it "
			   "running; what it leaves unreached is lost only once a held scan proves "
			   "it",
			   p->pid, strerror(-err));
	p->freeze_failed = err != 0;
	if (!err && fz->nr_running)
		diag__warn("pid %d: %zu thread%s did not stop for the scan "
			   "(asleep in the kernel): scanned running",
			   p->pid, fz->nr_running, fz->nr_running == 1 ? "" : "s");
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
								   CONFIRM_LIMIT_S) *
				    1e9);
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
		else if (!err) /* not held, or not long enough: no proof */
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
static void reach_process(struct snap_source *src, struct process *p, const struct tgid_index *idx,
			  size_t n, const struct lt_alloc_key *keys, const struct lt_alloc *vals,
			  int8_t *verdict)
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
		diag__debug("scan of pid %d: %.1f ms, %zu blocks, %.1f MiB read, "
			    "%.1f MiB without pages skipped, %zu stack%s bounded, roots %s, "
			    "held %.3f ms%s",
			    p->pid, st.ns / 1e6, n, st.bytes_read / 1048576.0,
			    st.bytes_skipped / 1048576.0, st.threads_bounded,
			    st.threads_bounded == 1 ? "" : "s", p->roots, held_ns / 1e6,
			    st.thawed_early ? " (let go early: the hold ran out)" : "");
	else if (err && err != -ESRCH)
		diag__error("cannot scan pid %d: %s", p->pid, strerror(-err));
	free(blocks);
}

/* --scan: a verdict per record (-1 where the process could not be scanned). */
int snap_scan__records(struct snap_source *src, const struct lt_alloc_key *keys,
		       const struct lt_alloc *vals, size_t n, int8_t *verdict)
{
	struct tgid_index *idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t m = 0, i, j;

	if (!idx)
		return -ENOMEM;
	memset(verdict, -1, n);
	for (i = 0; i < n; i++)
		if (snap_source__current(src, keys[i].tgid, keys[i].gen))
			idx[m++] = (struct tgid_index){ keys[i].tgid, i };
	qsort(idx, m, sizeof(*idx), by_tgid);
	for (i = 0; i < m; i = j) {
		struct process *p = snap_source__find(src, idx[i].tgid);

		for (j = i; j < m && idx[j].tgid == idx[i].tgid; j++)
			;
		/* Stopping: the rest are left unscanned (no verdict), not scanned late. */
		if ((p->exiting || !p->exited) && !stop__requested())
			reach_process(src, p, idx + i, j - i, keys, vals, verdict);
	}
	free(idx);
	return 0;
}
