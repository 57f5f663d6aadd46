// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Output formats by name and by extension, for -o and for leaktrace report. */
#include <criterion/criterion.h>
#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "format.h"
#include "golden.h"
#include "report_text.h"
#include "snapshot_json.h"

Test(export, formats_by_name)
{
	static const struct {
		const char *name;
		enum lt_format f;
	} cases[] = {
		{ "json", LT_FORMAT_JSON },	{ "text", LT_FORMAT_TEXT },
		{ "folded", LT_FORMAT_FOLDED }, { "svg", LT_FORMAT_SVG },
		{ "pprof", LT_FORMAT_PPROF },
	};
	enum lt_format f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(format__by_name(cases[i].name, &f), 0, "%s", cases[i].name);
		cr_assert_eq(f, cases[i].f, "%s", cases[i].name);
	}
	cr_assert_eq(format__by_name("yaml", &f), -EINVAL);
}

Test(export, formats_by_extension)
{
	static const struct {
		const char *path;
		enum lt_format f;
	} cases[] = {
		{ "a.json", LT_FORMAT_JSON },	   { "d/a.txt", LT_FORMAT_TEXT },
		{ "a.folded", LT_FORMAT_FOLDED },  { "a.b.svg", LT_FORMAT_SVG },
		{ "heap.pb.gz", LT_FORMAT_PPROF },
	};
	enum lt_format f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(format__by_path(cases[i].path, &f), 0, "%s", cases[i].path);
		cr_assert_eq(f, cases[i].f, "%s", cases[i].path);
	}
	cr_assert_eq(format__by_path("a.gz", &f), -EINVAL);
	cr_assert_eq(format__by_path(".svg", &f), -EINVAL, "a name, not only a suffix");
	cr_assert_eq(format__by_path("svg", &f), -EINVAL);
}

Test(export, format_lists_come_from_the_table)
{
	char buf[128];

	cr_assert_str_eq(format__list(buf, sizeof(buf), 0, false),
			 "json, text, folded, svg or pprof");
	cr_assert_str_eq(format__list(buf, sizeof(buf), 0, true),
			 ".json, .txt, .folded, .svg or .pb.gz");
	cr_assert_str_eq(format__list(buf, sizeof(buf), FORMAT_DIFF, false), "text or folded");
	cr_assert_str_eq(format__list(buf, sizeof(buf), FORMAT_LOST, true), ".folded or .svg");
	cr_assert_str_eq(format__list(buf, sizeof(buf), FORMAT_BINARY, false), "pprof");
	cr_assert_str_eq(format__list(buf, 12, 0, false), "json, text,", "cut, NUL-terminated");
}

Test(export, format_help_is_one_row_per_format_then_the_notes)
{
	struct capture c;
	FILE *f = golden__open(&c);

	format__help(f, FORMAT_DIFF | FORMAT_LOST);
	golden__close(&c);
	cr_assert_str_eq(
		c.buf,
		"                         json    .json   snapshot, schema v1 (for tools)\n"
		"                         text    .txt    what leaktrace prints\n"
		"                         folded  .folded flamegraph.pl, inferno, speedscope\n"
		"                         svg     .svg    interactive flamegraph\n"
		"                         pprof   .pb.gz  heap profile (go tool pprof)\n"
		"                       --diff writes text or folded\n"
		"                       --lost writes folded or svg\n");
	free(c.buf);
}

Test(export, every_format_row_names_itself_and_its_extension)
{
	for (size_t i = 0; i < GOLDEN_NR_FORMATS; i++) {
		const struct format *fmt = format__get(golden__formats[i]);
		char path[64];
		enum lt_format id;

		cr_assert_not_null(fmt);
		cr_assert_eq(fmt->id, golden__formats[i]);
		cr_assert_eq(format__by_name(fmt->name, &id), 0);
		cr_assert_eq(id, fmt->id, "%s", fmt->name);
		snprintf(path, sizeof(path), "out%s", fmt->ext);
		cr_assert_eq(format__by_path(path, &id), 0);
		cr_assert_eq(id, fmt->id, "%s", path);
	}
	cr_assert_eq(format__get(LT_FORMAT_NONE)->id, LT_FORMAT_TEXT, "no format: text");
}

#define ARGV(...) ((char *[]){ "leaktrace", __VA_ARGS__, NULL })

Test(export, trace_mode_takes_every_export_extension)
{
	char **argv = ARGV("-o", "leak.pb.gz", "--", "true");
	struct config cfg;

	cr_assert_eq(cli__parse(5, argv, &cfg), CLI_RUN);
	cr_assert_eq(cfg.format, LT_FORMAT_PPROF);
	cr_assert(cfg.demangle);
	cr_assert_not(cfg.counts);
}

Test(export, trace_mode_format_count_and_no_demangle_options)
{
	char **argv = ARGV("--format", "folded", "--count", "--no-demangle", "-o", "x", "--",
			   "true");
	struct config cfg;

	cr_assert_eq(cli__parse(9, argv, &cfg), CLI_RUN);
	cr_assert_eq(cfg.format, LT_FORMAT_FOLDED);
	cr_assert(cfg.counts);
	cr_assert_not(cfg.demangle);
}

/* What -o writes in trace mode equals what `leaktrace report` makes of the saved JSON. */
Test(export, trace_mode_output_equals_report_of_the_saved_json)
{
	static const struct frame fr = { "_ZN5cache6refillEm", 4, "/m", 0x10, 0, false, NULL };
	struct stack_stat s = { .bytes = 1000,
				.allocs = 3,
				.oldest_s = -1,
				.growth = 12.34567,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1 };
	struct proc_stat p = { .pid = 7,
			       .comm = "c",
			       .exe = "/m",
			       .alive = true,
			       .bytes = 1000,
			       .allocs = 3,
			       .growth = 12.34567,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot snap = { .host = "h",
				 .taken = { 1700000000, 987654321 },
				 .elapsed_s = 0.04951,
				 .procs = &p,
				 .nr_procs = 1 };
	struct export_opts opts = { .top = 10 };
	struct snapshot *saved = NULL;
	struct capture json;
	char err[256];

	snapshot_json__write(golden__open(&json), &snap);
	golden__close(&json);
	cr_assert_eq(snapshot_json__load_text(json.buf, "saved", &saved, err, sizeof(err)), 0);
	for (size_t i = 0; i < GOLDEN_NR_FORMATS; i++) {
		struct capture direct, report;

		cr_assert_eq(export__write_saved(golden__open(&direct), &snap, golden__formats[i],
						 &opts),
			     0);
		golden__close(&direct);
		cr_assert_eq(export__write(golden__open(&report), saved, golden__formats[i], &opts),
			     0);
		golden__close(&report);
		cr_assert_eq(direct.len, report.len, "format %d", golden__formats[i]);
		cr_assert(!memcmp(direct.buf, report.buf, direct.len), "format %d",
			  golden__formats[i]);
		free(direct.buf);
		free(report.buf);
	}
	free(json.buf);
	snapshot__free(saved);
}

/* A 64 GiB reservation holding 10 MiB, beside a heap block: what flamegraphs weigh. */
static const struct frame held_frames[] = {
	{ .symbol = "reserve", .module = "/bin/srv", .address = 0x1001 },
	{ .symbol = "leak", .module = "/bin/srv", .address = 0x1002 },
};
static struct stack_stat held_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_MMAP,
	  .bytes = 64ll << 30,
	  .allocs = 1,
	  .has_resident = true,
	  .resident_bytes = 10 << 20,
	  .frames = (const struct frame *const[]){ &held_frames[0] },
	  .nr_frames = 1 },
	{ .stack_id = 2,
	  .kind = STACK_HEAP,
	  .bytes = 100,
	  .allocs = 1,
	  .frames = (const struct frame *const[]){ &held_frames[1] },
	  .nr_frames = 1 },
};
static struct proc_stat held_proc = { .pid = 7,
				      .comm = "srv",
				      .exe = "/bin/srv",
				      .bytes = (64ll << 30) + 100,
				      .allocs = 2,
				      .stacks = held_stacks,
				      .nr_stacks = 2 };
static const struct snapshot held_snap = { .host = "h", .procs = &held_proc, .nr_procs = 1 };

static char *written(const struct export_opts *opts, bool diff)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	if (diff)
		cr_assert_eq(export__write_folded_diff(f, &held_snap, &held_snap, opts), 0);
	else
		cr_assert_eq(export__write(f, &held_snap, LT_FORMAT_FOLDED, opts), 0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(export, flamegraphs_weigh_mappings_by_resident_pages_unless_reserved)
{
	struct export_opts opts = { .top = 10 };
	char *text = written(&opts, false);

	cr_assert_str_eq(text, "srv;leak 100\nsrv;reserve 10485760\n");
	free(text);
	text = written(&opts, true);
	cr_assert_str_eq(text, "srv;leak 100 100\nsrv;reserve 10485760 10485760\n");
	free(text);
	opts.reserved = true;
	text = written(&opts, false);
	cr_assert_str_eq(text, "srv;leak 100\nsrv;reserve 68719476736\n");
	free(text);
	text = written(&opts, true);
	cr_assert_str_eq(text, "srv;leak 100 100\nsrv;reserve 68719476736 68719476736\n");
	free(text);
}
