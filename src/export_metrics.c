// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Prometheus text exposition of a snapshot (the agent's /metrics). Every label value comes from
 * a target (comm, symbols, paths): escaped, and invalid UTF-8 replaced, as the format requires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export_metrics.h"
#include "json_writer.h"
#include "snapshot_json.h"

/* The stack of a series whose rank (the first of its stacks to rank) is its order. */
struct ranked {
	const struct proc_stat *proc;
	const struct stack_stat *stack;
};

static int cmp_rank(const void *a, const void *b)
{
	const struct stack_stat *x = ((const struct ranked *)a)->stack;
	const struct stack_stat *y = ((const struct ranked *)b)->stack;
	bool sx = stack_stat__suspect(x), sy = stack_stat__suspect(y);

	if (sx != sy)
		return sx ? -1 : 1;
	if (sx)
		return stack_stat__cmp_suspicion(x, y);
	return (y->bytes > x->bytes) - (y->bytes < x->bytes);
}

static void top_name(const struct stack_stat *s, char *buf, size_t size, const char **module)
{
	static const struct frame none = { 0 };
	const struct frame *fr = s->nr_frames ? s->frames[0] : &none;
	char tmp[288];

	snprintf(buf, size, "%s", frame__name(fr, tmp, sizeof(tmp)));
	*module = fr->module ? fr->module : "";
}

static struct top_stack *find(struct top_stack *v, size_t n, const struct proc_stat *p,
			      const char *function, const char *module)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].proc == p && !strcmp(v[i].function, function) &&
		    !strcmp(v[i].module, module))
			return &v[i];
	return NULL;
}

static void add(struct top_stack *t, const struct stack_stat *s)
{
	t->bytes += s->bytes;
	t->allocs += s->allocs;
	t->rate += stack_stat__rate(s);
	t->growing |= !s->final && s->trend == TREND_GROWING;
	t->suspect |= stack_stat__suspect(s);
	t->scanned |= s->scanned;
	t->lost_bytes += s->lost_bytes;
	t->indirect_bytes += s->indirect_bytes;
	t->possible_bytes += s->possible_bytes;
}

/* Walks the stacks in rank order: a new (process, function, module) is a series, while k last. */
static size_t merge(const struct ranked *r, size_t nr, int k, struct top_stack *out)
{
	char function[256];
	const char *module;
	struct top_stack *t;
	size_t n = 0;

	for (size_t i = 0; i < nr; i++) {
		top_name(r[i].stack, function, sizeof(function), &module);
		t = find(out, n, r[i].proc, function, module);
		if (!t && n == (size_t)k)
			continue;
		if (!t) {
			t = &out[n++];
			*t = (struct top_stack){ .proc = r[i].proc, .module = module };
			snprintf(t->function, sizeof(t->function), "%s", function);
		}
		add(t, r[i].stack);
	}
	return n;
}

int top_stacks__collect(const struct snapshot *snap, int k, struct top_stack **out, size_t *n)
{
	struct ranked *r;
	size_t nr = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < snap->nr_procs; i++)
		nr += snap->procs[i].nr_stacks;
	r = calloc(nr ? nr : 1, sizeof(*r));
	*out = calloc(k > 0 ? k : 1, sizeof(**out));
	if (!r || !*out) {
		free(r);
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	nr = 0;
	for (size_t i = 0; i < snap->nr_procs; i++)
		for (size_t j = 0; j < snap->procs[i].nr_stacks; j++)
			if (!snap->procs[i].stacks[j].suppressed &&
			    snap->procs[i].stacks[j].bytes > 0)
				r[nr++] = (struct ranked){ &snap->procs[i],
							   &snap->procs[i].stacks[j] };
	qsort(r, nr, sizeof(*r), cmp_rank);
	*n = merge(r, nr, k, *out);
	free(r);
	return 0;
}

/* A label value: \\, \" and \n escaped; bytes that are not UTF-8 become U+FFFD. */
static void put_value(FILE *f, const char *s)
{
	while (*s) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if ((unsigned char)*s < 0x80) {
			fputc(*s++, f);
		} else {
			s += json__utf8_put(f, s, "\xef\xbf\xbd");
		}
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const struct metrics_proc_labels *labels_of(const struct metrics_input *in, pid_t pid)
{
	for (size_t i = 0; i < in->nr_labels; i++)
		if (in->labels[i].pid == pid)
			return &in->labels[i];
	return NULL;
}

static void proc_labels(FILE *f, const struct metrics_input *in, const struct proc_stat *p)
{
	const struct metrics_proc_labels *l = labels_of(in, p->pid);

	fprintf(f, "{pid=\"%d\",comm=\"", (int)p->pid);
	put_value(f, p->comm);
	fputs("\",cgroup=\"", f);
	put_value(f, l && l->cgroup ? l->cgroup : "");
	fputs("\",unit=\"", f);
	put_value(f, l && l->unit ? l->unit : "");
	fputs("\"", f);
}

static size_t nr_procs(const struct snapshot *snap)
{
	return snap->nr_procs < METRICS_MAX_PROCS ? snap->nr_procs : METRICS_MAX_PROCS;
}

enum proc_value { PV_BYTES, PV_ALLOCS, PV_GROWTH };

static void proc_family(FILE *f, const struct metrics_input *in, const char *name,
			enum proc_value v)
{
	const struct proc_stat *p;

	for (size_t i = 0; i < nr_procs(in->snap); i++) {
		p = &in->snap->procs[i];
		fputs(name, f);
		proc_labels(f, in, p);
		if (v == PV_GROWTH)
			fprintf(f, "} %.3f\n", p->growth);
		else
			fprintf(f, "} %lld\n", (long long)(v == PV_BYTES ? p->bytes : p->allocs));
	}
}

static void proc_lost(FILE *f, const struct metrics_input *in)
{
	static const char *const kinds[] = { "definite", "indirect", "possible" };
	const struct proc_stat *p;
	int64_t v[3];

	for (size_t i = 0; i < nr_procs(in->snap); i++) {
		p = &in->snap->procs[i];
		if (!p->scanned)
			continue;
		v[0] = p->lost_bytes;
		v[1] = p->indirect_bytes;
		v[2] = p->possible_bytes;
		for (int k = 0; k < 3; k++) {
			fputs("leaktrace_process_lost_bytes", f);
			proc_labels(f, in, p);
			fprintf(f, ",kind=\"%s\"} %lld\n", kinds[k], (long long)v[k]);
		}
	}
}

static void write_procs(FILE *f, const struct metrics_input *in)
{
	int64_t other = 0;

	family(f, "leaktrace_process_outstanding_bytes", "gauge",
	       "Bytes allocated and not freed, per traced process (the 100 largest).");
	proc_family(f, in, "leaktrace_process_outstanding_bytes", PV_BYTES);
	family(f, "leaktrace_process_outstanding_allocations", "gauge",
	       "Allocations not freed, per traced process (the 100 largest).");
	proc_family(f, in, "leaktrace_process_outstanding_allocations", PV_ALLOCS);
	family(f, "leaktrace_process_growth_bytes_per_second", "gauge",
	       "Growth of the outstanding bytes since the previous snapshot.");
	proc_family(f, in, "leaktrace_process_growth_bytes_per_second", PV_GROWTH);
	family(f, "leaktrace_process_lost_bytes", "gauge",
	       "Outstanding bytes the scan (--scan) found lost, by valgrind's kind.");
	proc_lost(f, in);
	for (size_t i = nr_procs(in->snap); i < in->snap->nr_procs; i++)
		other += in->snap->procs[i].bytes;
	family(f, "leaktrace_other_processes_outstanding_bytes", "gauge",
	       "Outstanding bytes of the traced processes beyond the 100 largest.");
	fprintf(f, "leaktrace_other_processes_outstanding_bytes %lld\n", (long long)other);
	family(f, "leaktrace_traced_processes", "gauge", "Processes in the last snapshot.");
	fprintf(f, "leaktrace_traced_processes %zu\n", in->snap->nr_procs);
}

static void stack_labels(FILE *f, const struct top_stack *t)
{
	fprintf(f, "{pid=\"%d\",comm=\"", (int)t->proc->pid);
	put_value(f, t->proc->comm);
	fputs("\",function=\"", f);
	put_value(f, t->function);
	fputs("\",module=\"", f);
	put_value(f, t->module);
	fputs("\"", f);
}

enum stack_value { SV_BYTES, SV_ALLOCS, SV_RATE, SV_GROWING };

static void stack_family(FILE *f, const struct top_stack *v, size_t n, const char *name,
			 enum stack_value what)
{
	for (size_t i = 0; i < n; i++) {
		fputs(name, f);
		stack_labels(f, &v[i]);
		if (what == SV_RATE)
			fprintf(f, "} %.3f\n", v[i].rate);
		else
			fprintf(f, "} %lld\n",
				(long long)(what == SV_BYTES  ? v[i].bytes :
					    what == SV_ALLOCS ? v[i].allocs :
								v[i].growing));
	}
}

static void stack_lost(FILE *f, const struct top_stack *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].scanned)
			continue;
		fputs("leaktrace_suspect_lost_bytes", f);
		stack_labels(f, &v[i]);
		fprintf(f, ",kind=\"definite\"} %lld\n", (long long)v[i].lost_bytes);
		fputs("leaktrace_suspect_lost_bytes", f);
		stack_labels(f, &v[i]);
		fprintf(f, ",kind=\"indirect\"} %lld\n", (long long)v[i].indirect_bytes);
		fputs("leaktrace_suspect_lost_bytes", f);
		stack_labels(f, &v[i]);
		fprintf(f, ",kind=\"possible\"} %lld\n", (long long)v[i].possible_bytes);
	}
}

static int write_stacks(FILE *f, const struct metrics_input *in)
{
	struct top_stack *v;
	size_t n;

	if (top_stacks__collect(in->snap, in->top, &v, &n))
		return -ENOMEM;
	family(f, "leaktrace_suspect_outstanding_bytes", "gauge",
	       "Outstanding bytes of the top stacks (suspects first), by frame 0.");
	stack_family(f, v, n, "leaktrace_suspect_outstanding_bytes", SV_BYTES);
	family(f, "leaktrace_suspect_outstanding_allocations", "gauge",
	       "Outstanding allocations of the top stacks, by frame 0.");
	stack_family(f, v, n, "leaktrace_suspect_outstanding_allocations", SV_ALLOCS);
	family(f, "leaktrace_suspect_growth_bytes_per_second", "gauge",
	       "Growth of the top stacks: the slope over the last snapshots.");
	stack_family(f, v, n, "leaktrace_suspect_growth_bytes_per_second", SV_RATE);
	family(f, "leaktrace_suspect_growing", "gauge",
	       "1 when a top stack grows steadily (its trend), else 0.");
	stack_family(f, v, n, "leaktrace_suspect_growing", SV_GROWING);
	family(f, "leaktrace_suspect_lost_bytes", "gauge",
	       "Bytes of the top stacks the scan (--scan) found lost, by valgrind's kind.");
	stack_lost(f, v, n);
	free(v);
	return 0;
}

static void write_lost(FILE *f, const struct snapshot *snap, const struct metrics_self *s)
{
	family(f, "leaktrace_lost_events_total", "counter",
	       "What the tracer could not count, as every report states it.");
	for (int i = 0; i < NR_LOST; i++)
		fprintf(f, "leaktrace_lost_events_total{counter=\"%s\"} %llu\n",
			snapshot_json__lost_names[i].name,
			(unsigned long long)snap->lost[snapshot_json__lost_names[i].counter]);
	/* Not the snapshot's: the ring of mappings captured as processes make them (-a). */
	if (s)
		fprintf(f, "leaktrace_lost_events_total{counter=\"mappings_lost\"} %llu\n",
			(unsigned long long)s->mappings_lost);
	family(f, "leaktrace_sample_bytes", "gauge",
	       "Mean bytes between samples (--sample-bytes), 0 when every allocation counts.");
	fprintf(f, "leaktrace_sample_bytes %llu\n", (unsigned long long)snap->sample_bytes);
	family(f, "leaktrace_snapshot_timestamp_seconds", "gauge",
	       "When the last snapshot was taken (Unix time).");
	fprintf(f, "leaktrace_snapshot_timestamp_seconds %lld\n", (long long)snap->taken.tv_sec);
}

static void write_self(FILE *f, const struct metrics_self *s)
{
	if (s->rss_bytes >= 0) {
		family(f, "leaktrace_self_resident_bytes", "gauge",
		       "leaktrace's own resident memory.");
		fprintf(f, "leaktrace_self_resident_bytes %lld\n", (long long)s->rss_bytes);
	}
	family(f, "leaktrace_self_bpf_map_bytes", "gauge",
	       "Kernel memory of leaktrace's BPF maps.");
	fprintf(f, "leaktrace_self_bpf_map_bytes %llu\n", (unsigned long long)s->map_bytes);
	if (s->bpf_run_s >= 0) {
		family(f, "leaktrace_self_bpf_run_seconds_total", "counter",
		       "Time spent in leaktrace's BPF programs (kernel.bpf_stats_enabled).");
		fprintf(f, "leaktrace_self_bpf_run_seconds_total %.6f\n", s->bpf_run_s);
	}
	family(f, "leaktrace_snapshots_total", "counter", "Snapshots taken since the start.");
	fprintf(f, "leaktrace_snapshots_total %llu\n", (unsigned long long)s->snapshots);
	family(f, "leaktrace_snapshot_duration_seconds", "gauge", "What the last snapshot took.");
	fprintf(f, "leaktrace_snapshot_duration_seconds %.6f\n", s->snapshot_s);
	family(f, "leaktrace_history_lines", "gauge", "Snapshots kept in /history.ndjson.");
	fprintf(f, "leaktrace_history_lines %llu\n", (unsigned long long)s->history_lines);
	family(f, "leaktrace_self_processes", "gauge",
	       "Processes whose state leaktrace holds: traced, or ended and not yet reported.");
	fprintf(f, "leaktrace_self_processes %llu\n", (unsigned long long)s->processes);
}

int export_metrics__write(FILE *f, const struct metrics_input *in)
{
	int err = 0;

	if (in->snap) {
		write_procs(f, in);
		err = write_stacks(f, in);
		write_lost(f, in->snap, in->self);
	}
	if (in->self)
		write_self(f, in->self);
	return err ? err : ferror(f) ? -EIO : 0;
}
