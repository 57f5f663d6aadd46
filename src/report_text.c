// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text report: what a person reads on a terminal every interval. A summary
 * line per process (outstanding, growth, top suspect), then its stacks in aligned
 * columns with their frames. Color only on a terminal, and never with NO_COLOR.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "report_text.h"
#include "units.h"

#define MAX_SYMBOL_COLUMN 60 /* longer names (C++) push their module right, alone */

struct style {
	const char *bold, *red, *dim, *off;
};

static const struct style plain = { "", "", "", "" };
static const struct style ansi = { "\033[1m", "\033[31m", "\033[2m", "\033[0m" };

static const struct style *style_for(FILE *f)
{
	const char *term = getenv("TERM");
	int fd = fileno(f);

	if (fd < 0 || !isatty(fd) || getenv("NO_COLOR") || (term && !strcmp(term, "dumb")))
		return &plain;
	return &ansi;
}

/* The cells of one stack's line, formatted first so that the columns can be measured. */
struct row {
	char bytes[32], human[32], allocs[32], oldest[32], growth[40], lost[32], possible[32];
	char resident[32];
};

struct widths {
	int rank, bytes, human, allocs, oldest, growth, lost, possible, symbol, resident;
	bool scanned;	     /* a lost column: some stack's reachability is known */
	bool resident_known; /* a resident column: some mapping's pages were read */
};

static void growth_text(double growth, char *buf, size_t size)
{
	char h[32];

	snprintf(buf, size, "%s%s/s", growth > 0 ? "+" : "", units__human(growth, h, sizeof(h)));
}

static void fill_row(const struct stack_stat *s, struct row *r)
{
	units__grouped(s->bytes, r->bytes, sizeof(r->bytes));
	units__human(s->bytes, r->human, sizeof(r->human));
	units__grouped(s->allocs, r->allocs, sizeof(r->allocs));
	if (s->oldest_s >= 0)
		snprintf(r->oldest, sizeof(r->oldest), "%.1f s", s->oldest_s);
	else
		snprintf(r->oldest, sizeof(r->oldest), "-");
	growth_text(s->growth, r->growth, sizeof(r->growth));
	if (s->has_resident)
		units__human(s->resident_bytes, r->resident, sizeof(r->resident));
	else
		snprintf(r->resident, sizeof(r->resident), "-");
	if (s->scanned) {
		units__human(stack_stat__unreachable(s), r->lost, sizeof(r->lost));
		units__human(s->possible_bytes, r->possible, sizeof(r->possible));
	} else {
		snprintf(r->lost, sizeof(r->lost), "-");
		snprintf(r->possible, sizeof(r->possible), "-");
	}
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static int symbol_width(const struct frame *fr)
{
	char buf[ESCAPE_SIZE + 32];

	return (int)strlen(report_text__frame(fr, buf, sizeof(buf)));
}

static void measure(const struct stack_stat *stacks, const struct row *rows, size_t n,
		    struct widths *w)
{
	char rank[16];

	*w = (struct widths){ 1, 5, 4, 6, 6, 6, 4, 8, 0, 8, false, false };
	for (size_t i = 0; i < n; i++) {
		w->scanned |= stacks[i].scanned;
		w->resident_known |= stacks[i].has_resident;
		w->resident = max_int(w->resident, (int)strlen(rows[i].resident));
		w->lost = max_int(w->lost, (int)strlen(rows[i].lost));
		w->possible = max_int(w->possible, (int)strlen(rows[i].possible));
		w->rank = max_int(w->rank, snprintf(rank, sizeof(rank), "%zu", i + 1));
		w->bytes = max_int(w->bytes, (int)strlen(rows[i].bytes));
		w->human = max_int(w->human, (int)strlen(rows[i].human));
		w->allocs = max_int(w->allocs, (int)strlen(rows[i].allocs));
		w->oldest = max_int(w->oldest, (int)strlen(rows[i].oldest));
		w->growth = max_int(w->growth, (int)strlen(rows[i].growth));
		for (int j = 0; j < stacks[i].nr_frames; j++)
			w->symbol = max_int(w->symbol, symbol_width(stacks[i].frames[j]));
	}
	if (w->symbol > MAX_SYMBOL_COLUMN)
		w->symbol = MAX_SYMBOL_COLUMN;
}

void report_text__lost(FILE *f, const struct snapshot *snap)
{
	const uint64_t *l = snap->lost;

	fprintf(f,
		"not tracked: %" PRIu64 " allocations (map full), %" PRIu64 " stacks dropped, "
		"%" PRIu64 " unmatched frees",
		l[LOST_ALLOCS_UNTRACKED], l[LOST_STACKS_DROPPED], l[LOST_FREES_UNMATCHED]);
	if (l[LOST_THREADS_UNTRACKED])
		fprintf(f, ", %" PRIu64 " calls of untracked threads", l[LOST_THREADS_UNTRACKED]);
	if (l[LOST_MUNMAPS_PARTIAL_LOST])
		fprintf(f, ", %" PRIu64 " partial munmaps", l[LOST_MUNMAPS_PARTIAL_LOST]);
	/* Not warnings: blocks from before the attach, and the allocator's own bookkeeping. */
	fprintf(f,
		"; normal: %" PRIu64 " frees of blocks from before the attach, %" PRIu64
		" of the allocator's own\n",
		l[LOST_FREES_BEFORE_ATTACH], l[LOST_FREES_INTERNAL]);
	if (snap->kernel)
		fprintf(f,
			"kernel: not tracked: %" PRIu64 " allocations (map full), %" PRIu64
			" stacks dropped, %" PRIu64 " events missed; normal: %" PRIu64
			" frees of blocks from before the start\n",
			l[LOST_KERNEL_ALLOCS_UNTRACKED], l[LOST_KERNEL_STACKS_DROPPED],
			l[LOST_KERNEL_MISSED], l[LOST_KERNEL_FREES_UNKNOWN]);
}

const char report_text__cut[] = "... (outer frames cut: the stack walk could not go on soundly)";
const char report_text__cut_pending[] =
	"... (outer frames cut: a library's unwind table was not built yet at this allocation)";

const char *report_text__frame(const struct frame *fr, char *buf, size_t size)
{
	char tmp[ESCAPE_SIZE];

	char file[ESCAPE_SIZE];
	const char *name = fr->symbol ? escape__text(fr->symbol, tmp, sizeof(tmp)) : "[unknown]";

	/* Where the source is known it says more than an offset: "leak_malloc (leaky.c:73)". */
	if (fr->file && fr->line)
		snprintf(buf, size, "%s (%s:%d)%s", name,
			 escape__text(frame__basename(fr->file), file, sizeof(file)), fr->line,
			 fr->inlined ? " [inlined]" : "");
	else if (fr->symbol && !fr->inlined)
		snprintf(buf, size, "%s+0x%" PRIx64, name, fr->offset);
	else
		snprintf(buf, size, "%s%s", name, fr->inlined ? " [inlined]" : "");
	return buf;
}

/* A kernel stack's context: the process that allocated its first block, the slab cache. */
static void write_task(FILE *f, const struct stack_stat *s, const struct widths *w,
		       const struct style *st)
{
	char comm[ESCAPE_SIZE], cache[ESCAPE_SIZE];

	fprintf(f, "  %*s  %s(allocated by pid %d (%s), cgroup %" PRIu64 "%s%s)%s\n", w->rank, "",
		st->dim, s->task_pid, escape__text(s->task_comm, comm, sizeof(comm)),
		s->task_cgroup, s->slab_cache[0] ? ", slab cache " : "",
		s->slab_cache[0] ? escape__text(s->slab_cache, cache, sizeof(cache)) : "", st->off);
}

static void write_frames(FILE *f, const struct stack_stat *s, const struct widths *w,
			 const struct style *st)
{
	char sym[ESCAPE_SIZE + 32], mod[ESCAPE_SIZE];

	for (int i = 0; i < s->nr_frames; i++) {
		const struct frame *fr = s->frames[i];

		fprintf(f, "  %*s  %-3d 0x%016" PRIx64 "  %-*s  %s%s%s\n", w->rank, "", i,
			fr->address, w->symbol, report_text__frame(fr, sym, sizeof(sym)), st->dim,
			fr->module ? escape__text(fr->module, mod, sizeof(mod)) : "[anonymous]",
			st->off);
	}
	if (!s->nr_frames)
		fprintf(f, "  %*s  [stack not recorded: --max-stacks reached]\n", w->rank, "");
	else if (s->truncated)
		fprintf(f, "  %*s  %s\n", w->rank, "",
			s->table_pending ? report_text__cut_pending : report_text__cut);
	if (s->suppressed)
		fprintf(f, "  %*s  %s(suppressed: %s)%s\n", w->rank, "", st->dim, s->suppressed,
			st->off);
	if (s->allocator && s->has_cached)
		fprintf(f,
			"  %*s  %s(%s's own, never a leak: thread stacks, %lld of %lld in its "
			"cache for reuse, their threads gone)%s\n",
			w->rank, "", st->dim, s->allocator, (long long)s->cached_allocs,
			(long long)s->allocs, st->off);
	else if (s->allocator)
		fprintf(f, "  %*s  %s(%s's own, never a leak)%s\n", w->rank, "", st->dim,
			s->allocator, st->off);
	if (s->kind == STACK_KERNEL)
		write_task(f, s, w, st);
}

static void write_stacks(FILE *f, const struct stack_stat *stacks, size_t n, const struct style *st)
{
	struct row *rows = calloc(n, sizeof(*rows));
	struct widths w;
	int kind_width;

	if (!rows || !n) {
		free(rows);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fill_row(&stacks[i], &rows[i]);
	measure(stacks, rows, n, &w);
	/* "heap" and "mmap", or "kernel" (--kernel's process 0, whose stacks are all kernel). */
	kind_width = stacks[0].kind == STACK_KERNEL ? 6 : 4;
	fprintf(f, "  %*s  %*s  %*s  %*s  %-*s  %*s  ", w.rank, "#", w.bytes, "bytes", w.human,
		"size", w.allocs, "allocs", kind_width, "kind", w.oldest, "oldest");
	if (w.resident_known)
		fprintf(f, "%*s  ", w.resident, "resident");
	if (w.scanned)
		fprintf(f, "%*s  %*s  ", w.lost, "lost", w.possible, "possible");
	fprintf(f, "%*s  trend\n", w.growth, "growth");
	for (size_t i = 0; i < n; i++) {
		bool lost = stack_stat__unreachable(&stacks[i]) > 0;

		fprintf(f, "  %*zu  %*s  %*s  %*s  %-*s  %*s  ", w.rank, i + 1, w.bytes,
			rows[i].bytes, w.human, rows[i].human, w.allocs, rows[i].allocs, kind_width,
			stack_kind__name(stacks[i].kind), w.oldest, rows[i].oldest);
		if (w.resident_known)
			fprintf(f, "%*s  ", w.resident, rows[i].resident);
		if (w.scanned)
			fprintf(f, "%s%*s%s  %*s  ", lost ? st->red : "", w.lost, rows[i].lost,
				lost ? st->off : "", w.possible, rows[i].possible);
		/* The trend is over the last snapshots: blank until three of them tell. */
		fprintf(f, "%s%*s%s%s%s\n", stacks[i].growth > 0 ? st->red : "", w.growth,
			rows[i].growth, stacks[i].growth > 0 ? st->off : "",
			stacks[i].trend == TREND_UNKNOWN ? "" : "  ",
			stacks[i].trend == TREND_UNKNOWN ? "" : trend__name(stacks[i].trend));
		write_frames(f, &stacks[i], &w, st);
	}
	free(rows);
}

/* The first of the suspects, as the JSON ranks them. */
static const struct stack_stat *top_suspect(const struct proc_stat *p)
{
	const struct stack_stat *best = NULL;

	for (size_t i = 0; i < p->nr_stacks; i++) {
		const struct stack_stat *s = &p->stacks[i];

		if (stack_stat__suspect(s) && (!best || stack_stat__cmp_suspicion(s, best) < 0))
			best = s;
	}
	return best;
}

static void write_summary(FILE *f, const struct proc_stat *p, const struct style *st)
{
	const struct stack_stat *sus = top_suspect(p);
	int64_t unreachable = p->lost_bytes + p->indirect_bytes;
	char b1[32], b2[32], b3[32], g[40], tmp[288], comm[ESCAPE_SIZE], exe[ESCAPE_SIZE];

	growth_text(p->growth, g, sizeof(g));
	fprintf(f, "%spid %d (%s) %s%s%s: %s outstanding (%s bytes in %s allocation%s), %s",
		st->bold, p->pid, escape__text(p->comm, comm, sizeof(comm)),
		escape__text(p->exe, exe, sizeof(exe)), p->alive ? "" : " [exited]", st->off,
		units__human(p->bytes, b1, sizeof(b1)), units__grouped(p->bytes, b2, sizeof(b2)),
		units__grouped(p->allocs, b3, sizeof(b3)), p->allocs == 1 ? "" : "s", g);
	if (p->has_resident)
		fprintf(f, ", of its mappings %s resident",
			units__human(p->resident_bytes, b1, sizeof(b1)));
	if (p->scanned) {
		fprintf(f, ", %s%s lost%s (%s definitely, %s indirectly), ",
			unreachable ? st->red : "", units__human(unreachable, b1, sizeof(b1)),
			unreachable ? st->off : "", units__grouped(p->lost_bytes, b2, sizeof(b2)),
			units__grouped(p->indirect_bytes, b3, sizeof(b3)));
		fprintf(f, "%s possibly lost, %s reachable",
			units__human(p->possible_bytes, b1, sizeof(b1)),
			units__human(p->reachable_bytes, tmp, sizeof(tmp)));
	}
	if (sus) {
		/* What makes it the top suspect: its lost bytes, else its growth. */
		int64_t lost = stack_stat__held_of(sus, stack_stat__unreachable(sus));
		int64_t possible = stack_stat__held_of(sus, sus->possible_bytes);

		/* Of a mapping, what it holds: its resident pages. */
		if (lost > 0)
			snprintf(g, sizeof(g), "%s lost", units__human(lost, b1, sizeof(b1)));
		else if (possible > 0)
			snprintf(g, sizeof(g), "%s possibly lost",
				 units__human(possible, b1, sizeof(b1)));
		else
			growth_text(stack_stat__rate(sus), g, sizeof(g));
		fprintf(f, ", top suspect %s%s%s %s\n", st->red,
			sus->nr_frames ? escape__text(frame__name(sus->frames[0], tmp, sizeof(tmp)),
						      comm, sizeof(comm)) :
					 "[stack not recorded]",
			st->off, g);
	} else if (p->final) {
		fputs(", no leak\n", f); /* a final report: growth over a run is no sign */
	} else {
		fputs(p->scanned ? ", no lost or growing stack\n" : ", no growing stack\n", f);
	}
	if (p->suppressed_allocs || p->suppressed_bytes)
		fprintf(f,
			"suppressed: %s bytes in %s allocation%s, %s of them lost: not counted "
			"as leaks\n",
			units__grouped(p->suppressed_bytes, b1, sizeof(b1)),
			units__grouped(p->suppressed_allocs, b2, sizeof(b2)),
			p->suppressed_allocs == 1 ? "" : "s",
			units__grouped(p->suppressed_lost_bytes, b3, sizeof(b3)));
}

/*
 * What the allocators keep for themselves, by allocator: its mappings, what they reserve and
 * hold, and glibc's cached thread stacks.
 */
static void write_allocators(FILE *f, const struct proc_stat *p)
{
	char b1[32], b2[32], b3[32];

	for (size_t i = 0; i < p->nr_stacks; i++) {
		const char *name = p->stacks[i].allocator;
		int64_t bytes = 0, allocs = 0, held = 0, cached = 0;
		bool first = true;

		for (size_t j = 0; name && j < i && first; j++)
			first = !p->stacks[j].allocator || strcmp(p->stacks[j].allocator, name);
		if (!name || !first)
			continue;
		for (size_t j = i; j < p->nr_stacks; j++) {
			const struct stack_stat *s = &p->stacks[j];

			if (!s->allocator || strcmp(s->allocator, name))
				continue;
			bytes += s->bytes;
			allocs += s->allocs;
			held += stack_stat__held(s);
			cached += s->cached_allocs;
		}
		fprintf(f,
			"%s's own: %s bytes in %s mapping%s (%s held), %lld cached thread "
			"stack%s: not counted as leaks\n",
			name, units__grouped(bytes, b1, sizeof(b1)),
			units__grouped(allocs, b2, sizeof(b2)), allocs == 1 ? "" : "s",
			units__human(held, b3, sizeof(b3)), (long long)cached,
			cached == 1 ? "" : "s");
	}
}

/* The suppressions that matched, as valgrind lists its used ones: what each took. */
static void write_suppressions(FILE *f, const struct snapshot *snap)
{
	char b1[32], b2[32], b3[32];

	if (!snap->nr_suppressions)
		return;
	fputs("\nsuppressions used (bytes, allocations, of them lost, stacks, name, where):\n", f);
	for (size_t i = 0; i < snap->nr_suppressions; i++) {
		const struct suppression_use *u = &snap->suppressions[i];

		fprintf(f, "  %14s  %9s  %9s  %4lld  %s  %s\n",
			units__grouped(u->bytes, b1, sizeof(b1)),
			units__grouped(u->allocs, b2, sizeof(b2)),
			units__grouped(u->lost_bytes, b3, sizeof(b3)), (long long)u->stacks,
			u->name, u->where);
	}
}

/* The process's command line, cut to a line, its control characters shown as '?'. */
static void write_argv(FILE *f, const struct proc_stat *p)
{
	size_t left = 200;

	if (!p->argc)
		return;
	fputs("  command:", f);
	for (size_t i = 0; i < p->argc && left; i++) {
		fputc(' ', f);
		for (const char *c = p->argv[i]; *c && left; c++, left--)
			fputc((unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c, f);
	}
	fputs(left ? "\n" : " ...\n", f);
}

void report_text__write(FILE *f, const struct snapshot *snap, int top)
{
	const struct style *st = style_for(f);
	char when[32], host[ESCAPE_SIZE];
	struct tm tm;

	localtime_r(&snap->taken.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "[%s] leaktrace on %s, %.1f s traced\n", when,
		escape__text(snap->host, host, sizeof(host)), snap->elapsed_s);
	report_text__lost(f, snap);
	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];
		size_t n = p->nr_stacks < (size_t)top ? p->nr_stacks : (size_t)top;

		fputc('\n', f);
		write_summary(f, p, st);
		write_allocators(f, p);
		write_argv(f, p);
		write_stacks(f, p->stacks, n, st);
		if (n < p->nr_stacks)
			fprintf(f, "  ... %zu more stack%s (-n to show more)\n", p->nr_stacks - n,
				p->nr_stacks - n == 1 ? "" : "s");
	}
	write_suppressions(f, snap);
	fputc('\n', f);
	fflush(f);
}
