// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text of a merged snapshot (leaktrace report --merge, tools/leak-sweep): the
 * stacks of every host in one ranking, one line per stack however many hosts hold
 * it, the suspects first as every report ranks them; then each ranked stack's frames.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "report_fleet.h"
#include "report_text.h"
#include "units.h"

/* Host names listed on a ranking line; the frames section lists the origins. */
#define LINE_HOSTS 3
#define BLOCK_ORIGINS 8

/* The merged snapshot's hosts, sorted by name, to find an origin's host index quickly. */
struct host_index {
	const char *name;
	size_t index;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct host_index *)a)->name, ((const struct host_index *)b)->name);
}

static size_t host_lookup(const struct host_index *idx, size_t n, const char *name)
{
	struct host_index key = { name, 0 };
	const struct host_index *hit = bsearch(&key, idx, n, sizeof(*idx), by_name);

	return hit ? hit->index : n;
}

/*
 * Distinct hosts among a stack's origins: one process merged from several pids of
 * one host counts once. seen[] holds, per host, the last stamp that counted it.
 */
static size_t count_hosts(const struct stack_stat *s, const struct host_index *idx, size_t n,
			  size_t *seen, size_t stamp)
{
	size_t hosts = 0;

	if (!s->nr_origins)
		return 1;
	for (size_t i = 0; i < s->nr_origins; i++) {
		size_t h = host_lookup(idx, n, s->origins[i].host);

		if (h == n) {
			hosts++; /* not in the host list: a snapshot merged by hand */
		} else if (seen[h] != stamp) {
			seen[h] = stamp;
			hosts++;
		}
	}
	return hosts;
}

static const char *frame0_name(const struct stack_stat *s, char *buf, size_t size)
{
	return s->nr_frames ? frame__name(s->frames[0], buf, size) : "[stack not recorded]";
}

static const char *frame0_module(const struct stack_stat *s)
{
	return s->nr_frames && s->frames[0]->module ? s->frames[0]->module : "";
}

/* Equal ranks by process, function, module, executable: the order never depends on qsort. */
static int tie_break(const struct fleet_row *x, const struct fleet_row *y)
{
	char bx[288], by[288];
	int c = strcmp(x->proc->comm, y->proc->comm);

	if (!c)
		c = strcmp(frame0_name(x->stack, bx, sizeof(bx)),
			   frame0_name(y->stack, by, sizeof(by)));
	if (!c)
		c = strcmp(frame0_module(x->stack), frame0_module(y->stack));
	return c ? c : strcmp(x->proc->exe, y->proc->exe);
}

/* Suspects first, in the order of stack_stat__cmp_suspicion; then the rest by bytes. */
static int by_fleet_rank(const void *a, const void *b)
{
	const struct fleet_row *x = a, *y = b;
	bool sx = stack_stat__suspect(x->stack), sy = stack_stat__suspect(y->stack);
	int c;

	if (sx != sy)
		return sx ? -1 : 1;
	if (sx)
		c = stack_stat__cmp_suspicion(x->stack, y->stack);
	else
		c = x->stack->bytes < y->stack->bytes ? 1 :
		    x->stack->bytes > y->stack->bytes ? -1 :
							0;
	return c ? c : tie_break(x, y);
}

int report_fleet__rank(const struct snapshot *snap, struct fleet_row **out, size_t *nr_out)
{
	size_t nr = 0, k = 0, nh = snap->nr_hosts;
	struct host_index *idx = calloc(nh + 1, sizeof(*idx));
	size_t *seen = calloc(nh + 1, sizeof(*seen));
	struct fleet_row *rows;

	for (size_t i = 0; i < snap->nr_procs; i++)
		nr += snap->procs[i].nr_stacks;
	rows = calloc(nr + 1, sizeof(*rows));
	if (!rows || !idx || !seen) {
		free(rows);
		free(idx);
		free(seen);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nh; i++)
		idx[i] = (struct host_index){ snap->hosts[i], i };
	qsort(idx, nh, sizeof(*idx), by_name);
	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];

		for (size_t j = 0; j < p->nr_stacks; j++, k++)
			rows[k] = (struct fleet_row){
				p, &p->stacks[j], count_hosts(&p->stacks[j], idx, nh, seen, k + 1)
			};
	}
	qsort(rows, nr, sizeof(*rows), by_fleet_rank);
	free(idx);
	free(seen);
	*out = rows;
	*nr_out = nr;
	return 0;
}

/* The cells of one ranking line, formatted first so that the columns can be measured. */
struct cells {
	char rank[24], function[288], hosts[32], bytes[32], size[32], lost[32], growth[40];
	char trend[16], on[288];
	char process[72]; /* a comm of 16 bytes, each "\xNN" at worst */
};

struct widths {
	int rank, function, process, hosts, bytes, size, lost, growth, trend;
	bool scanned; /* a lost column: some stack's reachability is known (--scan) */
};

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* The first LINE_HOSTS distinct hosts of a stack, then how many more. */
static void fill_on(const struct fleet_row *r, const char *self, char *buf, size_t size)
{
	size_t len = 0, shown = 0;

	char tmp[ESCAPE_SIZE];

	buf[0] = '\0';
	if (!r->stack->nr_origins) {
		snprintf(buf, size, "%s", escape__text(self, tmp, sizeof(tmp)));
		return;
	}
	for (size_t i = 0; i < r->stack->nr_origins && shown < LINE_HOSTS; i++) {
		const char *h = r->stack->origins[i].host;
		size_t j = 0;

		while (j < i && strcmp(r->stack->origins[j].host, h))
			j++;
		if (j < i)
			continue; /* that host again (another pid of it) */
		len += snprintf(buf + len, size - len, "%s%s", shown ? ", " : "",
				escape__text(h, tmp, sizeof(tmp)));
		if (len >= size)
			return;
		shown++;
	}
	if (r->nr_hosts > shown)
		snprintf(buf + len, size - len, ", +%zu more", r->nr_hosts - shown);
}

static void fill_cells(const struct snapshot *snap, const struct fleet_row *r, size_t rank,
		       struct cells *c)
{
	const struct stack_stat *s = r->stack;
	double rate = stack_stat__rate(s);
	const char *name;
	char h[32];

	char tmp[ESCAPE_SIZE];

	snprintf(c->rank, sizeof(c->rank), "%zu", rank);
	name = escape__text(frame0_name(s, c->function, sizeof(c->function)), tmp, sizeof(tmp));
	if (name != c->function)
		snprintf(c->function, sizeof(c->function), "%s", name);
	snprintf(c->process, sizeof(c->process), "%s",
		 escape__text(r->proc->comm, tmp, sizeof(tmp)));
	snprintf(c->hosts, sizeof(c->hosts), "%zu/%zu", r->nr_hosts,
		 snap->nr_hosts ? snap->nr_hosts : 1);
	units__grouped(s->bytes, c->bytes, sizeof(c->bytes));
	units__human(s->bytes, c->size, sizeof(c->size));
	if (s->scanned)
		units__human(stack_stat__unreachable(s), c->lost, sizeof(c->lost));
	else
		snprintf(c->lost, sizeof(c->lost), "-");
	snprintf(c->growth, sizeof(c->growth), "%s%s/s", rate > 0 ? "+" : "",
		 units__human(rate, h, sizeof(h)));
	snprintf(c->trend, sizeof(c->trend), "%s",
		 s->trend == TREND_UNKNOWN ? "-" : trend__name(s->trend));
	fill_on(r, snap->host, c->on, sizeof(c->on));
}

static void measure(const struct fleet_row *rows, const struct cells *c, size_t n, struct widths *w)
{
	*w = (struct widths){ 1, 8, 7, 5, 5, 4, 4, 6, 5, false };
	for (size_t i = 0; i < n; i++) {
		w->rank = max_int(w->rank, (int)strlen(c[i].rank));
		w->function = max_int(w->function, (int)strlen(c[i].function));
		w->process = max_int(w->process, (int)strlen(c[i].process));
		w->hosts = max_int(w->hosts, (int)strlen(c[i].hosts));
		w->bytes = max_int(w->bytes, (int)strlen(c[i].bytes));
		w->size = max_int(w->size, (int)strlen(c[i].size));
		w->lost = max_int(w->lost, (int)strlen(c[i].lost));
		w->scanned |= rows[i].stack->scanned;
		w->growth = max_int(w->growth, (int)strlen(c[i].growth));
		w->trend = max_int(w->trend, (int)strlen(c[i].trend));
	}
}

static void write_table(FILE *f, const struct fleet_row *rows, const struct cells *c, size_t n)
{
	struct widths w;

	measure(rows, c, n, &w);
	fprintf(f, "  %*s  %-*s  %-*s  %*s  %*s  %*s  ", w.rank, "#", w.function, "function",
		w.process, "process", w.hosts, "hosts", w.bytes, "bytes", w.size, "size");
	if (w.scanned)
		fprintf(f, "%*s  ", w.lost, "lost");
	fprintf(f, "%*s  %-*s  on\n", w.growth, "growth", w.trend, "trend");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  %*s  %-*s  %-*s  %*s  %*s  %*s  ", w.rank, c[i].rank, w.function,
			c[i].function, w.process, c[i].process, w.hosts, c[i].hosts, w.bytes,
			c[i].bytes, w.size, c[i].size);
		if (w.scanned)
			fprintf(f, "%*s  ", w.lost, c[i].lost);
		fprintf(f, "%*s  %-*s  %s\n", w.growth, c[i].growth, w.trend, c[i].trend, c[i].on);
	}
}

/* Where a ranked stack was seen (host and pid), then its frames, innermost first. */
static void write_block(FILE *f, const struct snapshot *snap, const struct fleet_row *r,
			const struct cells *c)
{
	const struct stack_stat *s = r->stack;
	char sym[ESCAPE_SIZE + 32], tmp[ESCAPE_SIZE];

	fprintf(f, "[%s] %s in %s (%s):", c->rank, c->function, c->process,
		escape__text(r->proc->exe, tmp, sizeof(tmp)));
	for (size_t i = 0; i < s->nr_origins && i < BLOCK_ORIGINS; i++)
		fprintf(f, "%s %s pid %d", i ? "," : "",
			escape__text(s->origins[i].host, tmp, sizeof(tmp)), s->origins[i].pid);
	if (s->nr_origins > BLOCK_ORIGINS)
		fprintf(f, ", and %zu more", s->nr_origins - BLOCK_ORIGINS);
	if (!s->nr_origins)
		fprintf(f, " %s pid %d", escape__text(snap->host, tmp, sizeof(tmp)), r->proc->pid);
	fputc('\n', f);
	for (int i = 0; i < s->nr_frames; i++) {
		const struct frame *fr = s->frames[i];

		fprintf(f, "    %-40s  %s\n", report_text__frame(fr, sym, sizeof(sym)),
			fr->module ? escape__text(fr->module, tmp, sizeof(tmp)) : "[anonymous]");
	}
	if (s->nr_frames && s->truncated)
		fprintf(f, "    %s\n",
			s->table_pending ? report_text__cut_pending : report_text__cut);
}

static void write_header(FILE *f, const struct snapshot *snap, const struct fleet_row *rows,
			 size_t nr)
{
	char when[32], tmp[ESCAPE_SIZE];
	size_t suspects = 0;
	bool scanned = false;
	struct tm tm;

	gmtime_r(&snap->taken.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (snap->nr_hosts) {
		fprintf(f, "leaktrace fleet report: %zu host%s (", snap->nr_hosts,
			snap->nr_hosts == 1 ? "" : "s");
		for (size_t i = 0; i < snap->nr_hosts; i++)
			fprintf(f, "%s%s", i ? ", " : "",
				escape__text(snap->hosts[i], tmp, sizeof(tmp)));
	} else {
		fprintf(f, "leaktrace fleet report: 1 host (%s",
			escape__text(snap->host, tmp, sizeof(tmp)));
	}
	fprintf(f, "), up to %.1f s traced, taken %s\n", snap->elapsed_s, when);
	report_text__lost(f, snap);
	for (size_t i = 0; i < nr; i++)
		scanned |= rows[i].stack->scanned;
	while (suspects < nr && stack_stat__suspect(rows[suspects].stack))
		suspects++;
	fprintf(f, "%zu stack%s in %zu process%s; %zu suspect%s (%s), ranked first\n", nr,
		nr == 1 ? "" : "s", snap->nr_procs, snap->nr_procs == 1 ? "" : "es", suspects,
		suspects == 1 ? "" : "s", scanned ? "lost or growing" : "growing");
}

int report_fleet__write(FILE *f, const struct snapshot *snap, int top)
{
	struct fleet_row *rows;
	struct cells *cells;
	size_t nr, n;
	int err;

	err = report_fleet__rank(snap, &rows, &nr);
	if (err)
		return err;
	n = nr < (size_t)top ? nr : (size_t)top;
	cells = calloc(n + 1, sizeof(*cells));
	if (!cells) {
		free(rows);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		fill_cells(snap, &rows[i], i + 1, &cells[i]);
	write_header(f, snap, rows, nr);
	if (n) {
		fputc('\n', f);
		write_table(f, rows, cells, n);
	}
	if (n < nr)
		fprintf(f, "  ... %zu more stack%s (-n to show more)\n", nr - n,
			nr - n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		fputc('\n', f);
		write_block(f, snap, &rows[i], &cells[i]);
	}
	free(cells);
	free(rows);
	fflush(f);
	return 0;
}
