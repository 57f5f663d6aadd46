// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The agent's /metrics writer: exact series, bounded top stacks, escaping, and promtool's check. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export_metrics.h"

#define MAX_STACKS 32

/* A snapshot built by hand: processes and stacks whose frame 0 is given. */
struct fake {
	struct snapshot snap;
	struct proc_stat procs[2];
	struct stack_stat stacks[2][MAX_STACKS];
	struct frame frames[2][MAX_STACKS];
	const struct frame *frame_of[2][MAX_STACKS]; /* the stacks' frame lists */
};

static void add_stack(struct fake *f, int p, const char *fn, const char *module, int64_t bytes,
		      enum trend trend, double slope)
{
	struct proc_stat *proc = &f->procs[p];
	size_t i = proc->nr_stacks++;

	f->frames[p][i] = (struct frame){ .symbol = fn, .module = module };
	f->frame_of[p][i] = &f->frames[p][i];
	f->stacks[p][i] = (struct stack_stat){ .stack_id = i + 1,
					       .bytes = bytes,
					       .allocs = bytes / 8,
					       .trend = trend,
					       .slope = slope,
					       .frames = &f->frame_of[p][i],
					       .nr_frames = 1 };
	proc->stacks = f->stacks[p];
	proc->bytes += bytes;
	proc->allocs += bytes / 8;
}

static void fake_init(struct fake *f, int nr_procs)
{
	memset(f, 0, sizeof(*f));
	f->snap.procs = f->procs;
	f->snap.nr_procs = nr_procs;
	f->snap.taken.tv_sec = 1700000000;
	f->snap.lost[LOST_STACKS_DROPPED] = 7;
	for (int i = 0; i < nr_procs; i++) {
		f->procs[i].pid = 100 + i;
		f->procs[i].alive = true;
		snprintf(f->procs[i].comm, sizeof(f->procs[i].comm), "svc%d", i);
	}
}

static char *write_metrics(const struct snapshot *snap, int top,
			   const struct metrics_proc_labels *labels, size_t nr_labels)
{
	struct metrics_self self = { .rss_bytes = 4096,
				     .map_bytes = 8192,
				     .bpf_run_s = 1.5,
				     .snapshots = 3,
				     .snapshot_s = 0.25,
				     .history_lines = 3,
				     .mappings_lost = 5,
				     .processes = 7 };
	struct metrics_input in = { .snap = snap,
				    .top = top,
				    .labels = labels,
				    .nr_labels = nr_labels,
				    .self = &self };
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(export_metrics__write(f, &in), 0);
	fclose(f);
	return buf;
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		n += !strncmp(l, prefix, strlen(prefix));
	return n;
}

static void assert_line(const char *text, const char *line)
{
	char *want;

	cr_assert(asprintf(&want, "\n%s\n", line) > 0);
	cr_assert_not_null(strstr(text, want), "no line '%s' in:\n%s", line, text);
	free(want);
}

Test(export_metrics, process_and_suspect_series_are_exact)
{
	struct metrics_proc_labels labels[] = { { 100, "/system.slice/svc.service",
						  "svc.service" } };
	struct fake f;
	char *m;

	fake_init(&f, 1);
	add_stack(&f, 0, "cache_fill", "/usr/bin/svc", 9000, TREND_STABLE, 0);
	add_stack(&f, 0, "leak_here", "/usr/bin/svc", 4096, TREND_GROWING, 512.5);
	m = write_metrics(&f.snap, 10, labels, 1);
	assert_line(m, "leaktrace_process_outstanding_bytes{pid=\"100\",comm=\"svc0\","
		       "cgroup=\"/system.slice/svc.service\",unit=\"svc.service\"} 13096");
	assert_line(m, "leaktrace_process_outstanding_allocations{pid=\"100\",comm=\"svc0\","
		       "cgroup=\"/system.slice/svc.service\",unit=\"svc.service\"} 1637");
	assert_line(m, "leaktrace_suspect_outstanding_bytes{pid=\"100\",comm=\"svc0\","
		       "function=\"leak_here\",module=\"/usr/bin/svc\"} 4096");
	assert_line(m, "leaktrace_suspect_growth_bytes_per_second{pid=\"100\",comm=\"svc0\","
		       "function=\"leak_here\",module=\"/usr/bin/svc\"} 512.500");
	assert_line(m, "leaktrace_suspect_growing{pid=\"100\",comm=\"svc0\","
		       "function=\"leak_here\",module=\"/usr/bin/svc\"} 1");
	assert_line(m, "leaktrace_suspect_growing{pid=\"100\",comm=\"svc0\","
		       "function=\"cache_fill\",module=\"/usr/bin/svc\"} 0");
	assert_line(m, "leaktrace_lost_events_total{counter=\"stacks_dropped\"} 7");
	assert_line(m, "leaktrace_lost_events_total{counter=\"mappings_lost\"} 5");
	assert_line(m, "leaktrace_self_resident_bytes 4096");
	assert_line(m, "leaktrace_self_bpf_map_bytes 8192");
	assert_line(m, "leaktrace_self_bpf_run_seconds_total 1.500000");
	assert_line(m, "leaktrace_self_processes 7");
	/* The suspect ranks before the larger stable stack. */
	cr_assert_lt(strstr(m, "function=\"leak_here\""), strstr(m, "function=\"cache_fill\""));
	/* No scan: no lost series. */
	cr_assert_eq(count_lines(m, "leaktrace_process_lost_bytes{"), 0);
	free(m);
}

Test(export_metrics, stacks_with_the_same_frame0_are_one_series)
{
	struct fake f;
	char *m;

	fake_init(&f, 1);
	add_stack(&f, 0, "leak_here", "/usr/bin/svc", 1000, TREND_GROWING, 10);
	add_stack(&f, 0, "leak_here", "/usr/bin/svc", 24, TREND_GROWING, 2);
	m = write_metrics(&f.snap, 10, NULL, 0);
	cr_assert_eq(count_lines(m, "leaktrace_suspect_outstanding_bytes{"), 1);
	assert_line(m, "leaktrace_suspect_outstanding_bytes{pid=\"100\",comm=\"svc0\","
		       "function=\"leak_here\",module=\"/usr/bin/svc\"} 1024");
	assert_line(m, "leaktrace_suspect_growth_bytes_per_second{pid=\"100\",comm=\"svc0\","
		       "function=\"leak_here\",module=\"/usr/bin/svc\"} 12.000");
	/* Without labels the process's cgroup and unit are empty. */
	assert_line(m, "leaktrace_process_outstanding_bytes{pid=\"100\",comm=\"svc0\","
		       "cgroup=\"\",unit=\"\"} 1024");
	free(m);
}

Test(export_metrics, top_stacks_are_bounded_suspects_first)
{
	static char names[MAX_STACKS][16];
	struct fake f;
	char *m;

	fake_init(&f, 2);
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "grow%d", i);
		add_stack(&f, i % 2, names[i], "/m", 100 + i, TREND_GROWING, 1 + i);
	}
	add_stack(&f, 0, "huge_stable", "/m", 1 << 20, TREND_STABLE, 0);
	m = write_metrics(&f.snap, 10, NULL, 0);
	cr_assert_eq(count_lines(m, "leaktrace_suspect_outstanding_bytes{"), 10);
	cr_assert_null(strstr(m, "huge_stable"));
	/* The fastest growing ten: grow2 to grow11. */
	cr_assert_null(strstr(m, "\"grow0\""));
	cr_assert_null(strstr(m, "\"grow1\""));
	cr_assert_not_null(strstr(m, "\"grow2\""));
	free(m);
	m = write_metrics(&f.snap, 13, NULL, 0);
	cr_assert_eq(count_lines(m, "leaktrace_suspect_outstanding_bytes{"), 13);
	cr_assert_not_null(strstr(m, "huge_stable"));
	free(m);
}

Test(export_metrics, label_values_are_escaped_and_utf8)
{
	struct fake f;
	char *m;

	fake_init(&f, 1);
	snprintf(f.procs[0].comm, sizeof(f.procs[0].comm), "a\"b\\c\nd\xff");
	add_stack(&f, 0, NULL, NULL, 64, TREND_GROWING, 1);
	m = write_metrics(&f.snap, 10, NULL, 0);
	assert_line(m, "leaktrace_suspect_outstanding_bytes{pid=\"100\",comm=\"a\\\"b\\\\c\\nd"
		       "\xef\xbf\xbd\",function=\"[unknown]\",module=\"\"} 64");
	free(m);
}

Test(export_metrics, before_the_first_snapshot_only_leaktraces_own)
{
	char *m = write_metrics(NULL, 10, NULL, 0);

	cr_assert_null(strstr(m, "leaktrace_process_"));
	assert_line(m, "leaktrace_snapshots_total 3");
	free(m);
}

/* promtool, Prometheus' own checker, where installed (make test installs it). */
Test(export_metrics, promtool_check_metrics_passes)
{
	struct metrics_proc_labels labels[] = { { 100, "/x", "" } };
	char path[] = "/tmp/lt-metrics-XXXXXX", cmd[128];
	struct fake f;
	FILE *out;
	char *m;
	int fd;

	if (system("command -v promtool >/dev/null"))
		cr_skip_test("no promtool (apt-get install prometheus)");
	fake_init(&f, 2);
	add_stack(&f, 0, "leak_here", "/usr/bin/svc", 4096, TREND_GROWING, 512);
	add_stack(&f, 1, "other", "/usr/lib/libx.so", 100, TREND_UNKNOWN, 0);
	f.procs[1].scanned = f.stacks[1][0].scanned = true;
	f.stacks[1][0].lost_bytes = f.procs[1].lost_bytes = 100;
	m = write_metrics(&f.snap, 10, labels, 1);
	fd = mkstemp(path);
	out = fdopen(fd, "w");
	fputs(m, out);
	fclose(out);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	cr_assert_eq(system(cmd), 0, "promtool check metrics failed on:\n%s", m);
	unlink(path);
	free(m);
}
