// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* leaktrace report --diff: the growth between two snapshots, by process, then by stack. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "report_diff.h"
#include "stack_match.h"
#include "units.h"

#define SHOWN_FRAMES 4

struct delta {
	const struct stack_ref *ref; /* the newest of the matched stacks */
	int64_t bytes[2], allocs[2]; /* old, new */
};

struct proc_delta {
	struct delta *stacks;
	size_t nr;
	int64_t bytes[2], allocs[2];
};

static int by_growth(const void *a, const void *b)
{
	const struct delta *x = a, *y = b;
	int64_t dx = x->bytes[1] - x->bytes[0], dy = y->bytes[1] - y->bytes[0];

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->ref->key, y->ref->key);
}

static int by_proc_growth(const void *a, const void *b)
{
	const struct proc_delta *x = a, *y = b;
	int64_t dx = x->bytes[1] - x->bytes[0], dy = y->bytes[1] - y->bytes[0];

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->stacks[0].ref->key, y->stacks[0].ref->key);
}

/* Groups the sorted refs: processes are contiguous, and stacks within them. */
static void group(const struct stack_ref *refs, size_t nr, struct delta *d, struct proc_delta *p,
		  size_t *nr_procs)
{
	size_t nd = 0, np = 0;

	for (size_t i = 0; i < nr; i += stack_match__run(refs, nr, i), nd++) {
		size_t len = stack_match__run(refs, nr, i);

		d[nd] = (struct delta){ .ref = &refs[i + len - 1] };
		for (size_t j = i; j < i + len; j++) {
			int64_t *b = &d[nd].bytes[refs[j].snap], *a = &d[nd].allocs[refs[j].snap];

			*b = count__add(*b, refs[j].stack->bytes);
			*a = count__add(*a, refs[j].stack->allocs);
		}
		if (!np || !stack_match__same_process(p[np - 1].stacks[0].ref, &refs[i]))
			p[np++] = (struct proc_delta){ .stacks = &d[nd] };
		p[np - 1].nr++;
		for (int s = 0; s < 2; s++) {
			p[np - 1].bytes[s] = count__add(p[np - 1].bytes[s], d[nd].bytes[s]);
			p[np - 1].allocs[s] = count__add(p[np - 1].allocs[s], d[nd].allocs[s]);
		}
	}
	*nr_procs = np;
}

static void put_stack_name(FILE *f, const struct stack_stat *s)
{
	char tmp[288], safe[ESCAPE_SIZE];
	int n = s->nr_frames < SHOWN_FRAMES ? s->nr_frames : SHOWN_FRAMES;

	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " < " : "",
			escape__text(frame__name(s->frames[i], tmp, 288), safe, sizeof(safe)));
	if (n < s->nr_frames)
		fputs(" < ...", f);
	if (!s->nr_frames)
		fputs("[stack not recorded]", f);
	if (s->kind != STACK_HEAP)
		fprintf(f, " (%s)", stack_kind__name(s->kind));
}

static void put_signed(FILE *f, const char *fmt, int64_t v)
{
	char b1[32], b2[32];

	snprintf(b2, sizeof(b2), "%s%s", v > 0 ? "+" : "", units__grouped(v, b1, sizeof(b1)));
	fprintf(f, fmt, b2);
}

static void put_process(FILE *f, const struct proc_delta *p, int top)
{
	const struct proc_stat *proc = p->stacks[0].ref->proc;
	int64_t shrunk = 0, nr_shrunk = 0, shown = 0, more = 0;
	char b1[32], b2[32], b3[32], comm[ESCAPE_SIZE], exe[ESCAPE_SIZE];

	fprintf(f, "\n%s %s: %s -> %s (", escape__text(proc->comm, comm, sizeof(comm)),
		escape__text(proc->exe, exe, sizeof(exe)),
		units__human(p->bytes[0], b1, sizeof(b1)),
		units__human(p->bytes[1], b2, sizeof(b2)));
	put_signed(f, "%s bytes, ", p->bytes[1] - p->bytes[0]);
	put_signed(f, "%s allocations)\n", p->allocs[1] - p->allocs[0]);
	for (size_t i = 0; i < p->nr; i++) {
		const struct delta *d = &p->stacks[i];
		int64_t db = d->bytes[1] - d->bytes[0];

		if (db < 0) {
			shrunk = count__add(shrunk, db);
			nr_shrunk++;
			continue;
		}
		if (db == 0)
			continue;
		if (shown >= top) {
			more++;
			continue;
		}
		if (!shown)
			fprintf(f, "  %3s %14s %10s %10s %10s  %s\n", "#", "bytes", "size",
				"allocs", "now", "stack");
		fprintf(f, "  %3" PRId64 " ", ++shown);
		put_signed(f, "%14s ", db);
		fprintf(f, "%10s ", units__human(db, b3, sizeof(b3)));
		put_signed(f, "%10s ", d->allocs[1] - d->allocs[0]);
		fprintf(f, "%10s  ", units__human(d->bytes[1], b3, sizeof(b3)));
		put_stack_name(f, d->ref->stack);
		fputs(d->bytes[0] ? "\n" : " (new)\n", f);
	}
	if (!shown)
		fputs("  no stack grew\n", f);
	if (more)
		fprintf(f, "  ... %" PRId64 " more stack%s grew (-n to show more)\n", more,
			more == 1 ? "" : "s");
	if (nr_shrunk)
		fprintf(f, "  %" PRId64 " stack%s shrank or %s freed: %s\n", nr_shrunk,
			nr_shrunk == 1 ? "" : "s", nr_shrunk == 1 ? "was" : "were",
			units__human(shrunk, b3, sizeof(b3)));
}

static void put_side(FILE *f, const char *name, const struct snapshot *snap)
{
	char when[40], a[ESCAPE_SIZE], b[ESCAPE_SIZE];
	struct tm tm;

	gmtime_r(&snap->taken.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "%s (%s, %s)", escape__text(name, a, sizeof(a)),
		escape__text(snap->host, b, sizeof(b)), when);
}

int report_diff__text(FILE *f, const struct snapshot *old, const char *old_name,
		      const struct snapshot *new, const char *new_name, int top)
{
	const struct snapshot *both[2] = { old, new };
	struct stack_ref *refs = NULL;
	struct proc_delta *procs = NULL;
	struct delta *deltas = NULL;
	size_t nr = 0, nr_procs = 0;
	int err;

	err = stack_match__build(both, 2, &refs, &nr);
	if (!err) {
		deltas = calloc(nr + 1, sizeof(*deltas));
		procs = calloc(nr + 1, sizeof(*procs));
		if (!deltas || !procs)
			err = -ENOMEM;
	}
	if (!err) {
		group(refs, nr, deltas, procs, &nr_procs);
		for (size_t i = 0; i < nr_procs; i++)
			qsort(procs[i].stacks, procs[i].nr, sizeof(*deltas), by_growth);
		qsort(procs, nr_procs, sizeof(*procs), by_proc_growth);
		fputs("leaktrace diff: ", f);
		put_side(f, old_name, old);
		fputs(" -> ", f);
		put_side(f, new_name, new);
		fprintf(f, ", %.1f s apart\n", difftime(new->taken.tv_sec, old->taken.tv_sec));
		for (size_t i = 0; i < nr_procs; i++)
			put_process(f, &procs[i], top);
		fputc('\n', f);
	}
	free(procs);
	free(deltas);
	stack_match__free(refs, nr);
	return err ? err : ferror(f) ? -EIO : 0;
}
