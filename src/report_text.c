// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The text report: what a person reads on a terminal every interval. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

/* 1234567 -> "1,234,567": exact bytes, readable. */
static const char *grouped(int64_t v, char *buf, size_t size)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%" PRId64, v < 0 ? -v : v);
	n = strlen(digits);
	if (v < 0 && o < size - 1)
		buf[o++] = '-';
	for (i = 0; i < n && o < size - 1; i++) {
		if (i && (n - i) % 3 == 0 && o < size - 1)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static const char *human(double bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes < 0 ? -bytes : bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%s%.1f %s" : "%s%.0f %s", bytes < 0 ? "-" : "", v, units[u]);
	return buf;
}

static void write_lost(FILE *f, const struct snapshot *snap)
{
	const uint64_t *l = snap->lost;

	fprintf(f, "not tracked: %" PRIu64 " allocations (map full), %" PRIu64 " stacks dropped, "
		"%" PRIu64 " unmatched frees", l[LT_ALLOCS_UNTRACKED], l[LT_STACKS_DROPPED],
		l[LT_FREES_UNMATCHED]);
	if (l[LT_THREADS_UNTRACKED])
		fprintf(f, ", %" PRIu64 " calls of untracked threads", l[LT_THREADS_UNTRACKED]);
	if (l[LT_MUNMAPS_PARTIAL_LOST])
		fprintf(f, ", %" PRIu64 " partial munmaps", l[LT_MUNMAPS_PARTIAL_LOST]);
	/* Not warnings: blocks from before the attach, and the allocator's own bookkeeping. */
	fprintf(f, "; normal: %" PRIu64 " frees of blocks from before the attach, %" PRIu64
		" of the allocator's own\n", l[LT_FREES_BEFORE_ATTACH], l[LT_FREES_INTERNAL]);
}

static void write_stack(FILE *f, int rank, const struct stack_stat *s)
{
	char b1[32], b2[32], b3[32], b4[32];

	fprintf(f, "  #%d %s bytes (%s) in %s allocation%s, %s", rank, grouped(s->bytes, b1, 32),
		human(s->bytes, b2, 32), grouped(s->allocs, b3, 32), s->allocs == 1 ? "" : "s",
		s->kind == LT_KIND_MMAP ? "mmap" : "heap");
	if (s->oldest_s >= 0)
		fprintf(f, ", oldest %.1f s", s->oldest_s);
	fprintf(f, ", %s%s/s\n", s->growth > 0 ? "+" : "", human(s->growth, b4, 32));
	for (int i = 0; i < s->nr_frames; i++) {
		const struct frame *fr = &s->frames[i];

		fprintf(f, "      %-3d 0x%016" PRIx64 " ", i, fr->address);
		if (fr->symbol)
			fprintf(f, "%s+0x%" PRIx64, fr->symbol, fr->offset);
		else
			fputs("[unknown]", f);
		fprintf(f, "  %s\n", fr->module ? fr->module : "[anonymous]");
	}
	if (!s->nr_frames)
		fputs("      [stack not recorded: --max-stacks reached]\n", f);
	else if (s->truncated)
		fputs("      ... (outer frames cut: no frame pointer to follow soundly)\n", f);
}

void report_text__write(FILE *f, const struct snapshot *snap, int top)
{
	char when[32], b1[32], b2[32], b3[32], b4[32];
	struct tm tm;

	localtime_r(&snap->taken.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "[%s] leaktrace on %s, %.1f s traced\n", when, snap->host, snap->elapsed_s);
	write_lost(f, snap);
	for (size_t i = 0; i < snap->nr_procs; i++) {
		const struct proc_stat *p = &snap->procs[i];
		size_t n = p->nr_stacks < (size_t)top ? p->nr_stacks : (size_t)top;

		fprintf(f, "\npid %d (%s) %s%s: %s bytes (%s) outstanding in %s allocation%s, "
			"%s%s/s\n", p->pid, p->comm, p->exe, p->alive ? "" : " [exited]",
			grouped(p->bytes, b1, 32), human(p->bytes, b2, 32),
			grouped(p->allocs, b3, 32), p->allocs == 1 ? "" : "s",
			p->growth > 0 ? "+" : "", human(p->growth, b4, 32));
		for (size_t j = 0; j < n; j++)
			write_stack(f, (int)j + 1, &p->stacks[j]);
		if (n < p->nr_stacks)
			fprintf(f, "  ... %zu more stack%s (-n to show more)\n", p->nr_stacks - n,
				p->nr_stacks - n == 1 ? "" : "s");
	}
	fputc('\n', f);
	fflush(f);
}
