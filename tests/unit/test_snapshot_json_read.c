// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading saved JSON snapshots: every field back, round trips, and clear errors on bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "golden.h"
#include "report_text.h"
#include "snapshot_json.h"
#include "snapshot_merge.h"

static char *json_of(const struct snapshot *snap, size_t *len)
{
	struct capture c;

	snapshot_json__write(golden__open(&c), snap);
	golden__close(&c);
	*len = c.len;
	return c.buf;
}

/* Loads text that must fail; returns the error line. */
static const char *load_error(const char *text, char *err, size_t size)
{
	struct snapshot *snap = (struct snapshot *)1;

	cr_assert_lt(snapshot_json__load_text(text, "bad.json", &snap, err, size), 0, "loaded: %s",
		     text);
	cr_assert_null(snap);
	return err;
}

Test(snapshot_load, json_round_trip_is_byte_identical)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	size_t len;
	char *got = json_of(snap, &len);

	golden__check(GOLDEN_SNAPSHOT, got, len);
	free(got);
	snapshot__free(snap);
}

Test(snapshot_load, header_fields_are_read)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);

	cr_assert_str_eq(snap->host, "host-01");
	cr_assert_eq(snap->started.tv_sec, 1700000000);
	cr_assert_eq(snap->taken.tv_sec, 1700000012);
	cr_assert_eq(snap->elapsed_s, 12.5);
	cr_assert_eq(snap->lost[LOST_ALLOCS_UNTRACKED], 1);
	cr_assert_eq(snap->lost[LOST_FREES_INTERNAL], 7);
	cr_assert_eq(snap->lost[LOST_MUNMAPS_PARTIAL_LOST], 6);
	cr_assert_eq(snap->nr_procs, 2);
	cr_assert_eq(snap->nr_hosts, 0);
	snapshot__free(snap);
}

Test(snapshot_load, processes_stacks_and_frames_are_read)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	const struct proc_stat *p = &snap->procs[0];
	const struct stack_stat *s = &p->stacks[0];

	cr_assert_eq(p->pid, 4242);
	cr_assert_str_eq(p->comm, "leaky");
	cr_assert_str_eq(p->exe, "/usr/bin/leaky");
	cr_assert(p->alive);
	cr_assert_eq(p->bytes, 2287239);
	cr_assert_eq(p->allocs, 1004);
	cr_assert_eq(p->nr_stacks, 3);
	cr_assert_eq(s->kind, STACK_HEAP);
	cr_assert_eq(s->bytes, 1234567);
	cr_assert_eq(s->allocs, 1001);
	cr_assert_eq(s->oldest_s, 12.5);
	cr_assert_eq(s->growth, 2048.0);
	cr_assert_eq(s->nr_frames, 3);
	cr_assert_str_eq(s->frames[0]->symbol, "leak_here");
	cr_assert_eq(s->frames[0]->offset, 0x1f);
	cr_assert_str_eq(s->frames[0]->module, "/usr/bin/leaky");
	cr_assert_eq(s->frames[0]->address, 0x55d0c5a0111f);
	cr_assert_eq(p->stacks[1].kind, STACK_MMAP);
	cr_assert(p->stacks[1].truncated);
	cr_assert_not(snap->procs[1].alive);
	snapshot__free(snap);
}

Test(snapshot_load, unknown_symbol_and_anonymous_module_load_as_none)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	const struct frame *fr = snap->procs[0].stacks[1].frames[0];

	cr_assert_null(fr->symbol);
	cr_assert_null(fr->module);
	cr_assert_eq(fr->address, 0x7f00dead0000);
	snapshot__free(snap);
}

Test(snapshot_load, module_offset_and_build_id_are_read_where_written)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	const struct stack_stat *s = &snap->procs[0].stacks[0];

	cr_assert(s->frames[0]->has_module_offset);
	cr_assert_eq(s->frames[0]->module_offset, 0x111f);
	cr_assert_str_eq(s->frames[0]->build_id, "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c");
	/* Absent members: not known (an older snapshot, or a file that could not be read). */
	cr_assert_not(s->frames[1]->has_module_offset);
	cr_assert_null(s->frames[1]->build_id);
	cr_assert(s->frames[2]->has_module_offset);
	cr_assert_eq(s->frames[2]->module_offset, 0x27d7a);
	cr_assert_null(s->frames[2]->build_id);
	snapshot__free(snap);
}

Test(snapshot_load, bad_module_offset_or_build_id_names_the_frame)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"frames\": [{\"address\": \"0x12\", \"module_offset\": "
		   "\"0xzz\"}]}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0].frames[0]: \"module_offset\" is "
			      "not a hex address: \"0xzz\"");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"frames\": [{\"address\": \"0x12\", \"build_id\": "
		   "\"ABC\"}]}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0].frames[0]: \"build_id\" is not "
			      "lower-case hex bytes: \"ABC\"");
}

/* Each format from a snapshot that went through JSON twice equals the one from the first. */
Test(snapshot_load, every_format_survives_a_json_round_trip)
{
	struct snapshot *a = golden__snapshot(GOLDEN_SNAPSHOT), *b = NULL;
	struct export_opts opts = { .top = 10 };
	char err[256], *text;
	size_t len;

	text = json_of(a, &len);
	cr_assert_eq(snapshot_json__load_text(text, "again", &b, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < GOLDEN_NR_FORMATS; i++) {
		struct capture ca, cb;

		cr_assert_eq(export__write(golden__open(&ca), a, golden__formats[i], &opts), 0);
		golden__close(&ca);
		cr_assert_eq(export__write(golden__open(&cb), b, golden__formats[i], &opts), 0);
		golden__close(&cb);
		cr_assert_eq(ca.len, cb.len, "format %d", golden__formats[i]);
		cr_assert(!memcmp(ca.buf, cb.buf, ca.len), "format %d differs", golden__formats[i]);
		free(ca.buf);
		free(cb.buf);
	}
	free(text);
	snapshot__free(a);
	snapshot__free(b);
}

Test(snapshot_load, truncated_file_names_file_line_and_column)
{
	size_t len;
	char *text = golden__read(GOLDEN_SNAPSHOT, &len);
	char path[] = "/tmp/lt-truncated-XXXXXX.json";
	struct snapshot *snap = NULL;
	char err[512];
	int fd = mkstemps(path, 5);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, 700), 700);
	close(fd);
	cr_assert_lt(snapshot_json__load(path, &snap, err, sizeof(err)), 0);
	unlink(path);
	cr_assert_null(snap);
	cr_assert_not_null(strstr(err, path), "%s", err);
	cr_assert_not_null(strstr(err, ":1:700: not valid JSON: "), "%s", err);
	cr_assert_not_null(strstr(err, "(the file is cut short)"), "%s", err);
	free(text);
}

Test(snapshot_load, syntax_error_names_line_and_column)
{
	char err[512];

	load_error("{\"leaktrace\": 1,\n \"host\": \"h\",\n \"processes\": [}", err, sizeof(err));
	cr_assert_eq(strncmp(err, "bad.json:3:16: not valid JSON: ", 31), 0, "%s", err);
}

Test(snapshot_load, empty_input_is_cut_short)
{
	char err[512];

	load_error("", err, sizeof(err));
	cr_assert_not_null(strstr(err, "bad.json:"), "%s", err);
	cr_assert_not_null(strstr(err, "(the file is cut short)"), "%s", err);
}

Test(snapshot_load, other_json_is_not_a_snapshot)
{
	char err[512];

	load_error("{\"name\": \"x\"}", err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: not a leaktrace snapshot (no \"leaktrace\" version "
			      "member)");
}

Test(snapshot_load, newer_schema_version_is_refused)
{
	char err[512];

	load_error("{\"leaktrace\": 2, \"processes\": []}", err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: snapshot schema version 2: this leaktrace reads "
			      "version 1");
}

Test(snapshot_load, wrong_type_names_the_member_path)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": "
		   "\"many\", \"allocs\": 1, \"frames\": []}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0]: \"bytes\" is not an integer");
}

Test(snapshot_load, missing_member_names_the_member_path)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"frames\": [{\"symbol\": \"f\", \"address\": \"12\"}]}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0].frames[0]: \"address\" is not a "
			      "hex address: \"12\"");
	load_error("{\"leaktrace\": 1}", err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: \"processes\" is missing");
}

Test(snapshot_load, missing_file_says_why)
{
	struct snapshot *snap = NULL;
	char err[512];

	cr_assert_eq(snapshot_json__load("/nonexistent/s.json", &snap, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "cannot read /nonexistent/s.json: No such file or directory");
}

Test(snapshot_load, optional_members_may_be_absent)
{
	struct snapshot *snap = NULL;
	char err[512];

	cr_assert_eq(
		snapshot_json__load_text("{\"leaktrace\": 1, \"processes\": [{\"pid\": 9, "
					 "\"stacks\": [{\"bytes\": 5, \"allocs\": 1, \"frames\": "
					 "[]}]}]}",
					 "min.json", &snap, err, sizeof(err)),
		0, "%s", err);
	cr_assert_eq(snap->procs[0].pid, 9);
	cr_assert_eq(snap->procs[0].stacks[0].bytes, 5);
	cr_assert_eq(snap->procs[0].stacks[0].nr_frames, 0);
	snapshot__free(snap);
}

Test(snapshot_load, argv_is_read_and_written_back)
{
	const char *text = "{\"leaktrace\": 1, \"processes\": [{\"pid\": 9, \"argv\": [\"sh\", "
			   "\"-c\", \"a | b\"], \"stacks\": []}]}";
	struct snapshot *snap = NULL;
	char err[512], *json;
	size_t len;

	cr_assert_eq(snapshot_json__load_text(text, "argv.json", &snap, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(snap->procs[0].argc, 3);
	cr_assert_str_eq(snap->procs[0].argv[0], "sh");
	cr_assert_str_eq(snap->procs[0].argv[2], "a | b");
	json = json_of(snap, &len);
	cr_assert_not_null(strstr(json, "\"argv\":[\"sh\",\"-c\",\"a | b\"]"), "%s", json);
	free(json);
	snapshot__free(snap);
}

Test(snapshot_load, argv_of_another_type_names_the_member_path)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"argv\": [\"a\", 2], "
		   "\"stacks\": []}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].argv[1] is not a string");
}

/* A scanned final snapshot: possibly lost, the roots and the hold come back, byte for byte. */
Test(snapshot_load, verdicts_of_a_final_scan_round_trip)
{
	static const struct frame frames[] = { { "interior", 0x14, "/bin/cmd", 0x1004, 0, false,
						 NULL } };
	struct stack_stat stack = {
		.stack_id = 1,
		.bytes = 230,
		.allocs = 3,
		.scanned = true,
		.possible_bytes = 230,
		.possible_allocs = 3,
		.final = true,
		.frames = (const struct frame *const[]){ &frames[0] },
		.nr_frames = 1,
	};
	struct proc_stat proc = {
		.pid = 8,
		.comm = "cmd",
		.exe = "/bin/cmd",
		.final = true,
		.bytes = 230,
		.allocs = 3,
		.scanned = true,
		.possible_bytes = 230,
		.possible_allocs = 3,
		.scan_roots = "exact",
		.scan_held_ms = 1.5,
		.stacks = &stack,
		.nr_stacks = 1,
	};
	struct snapshot snap = { .host = "h", .procs = &proc, .nr_procs = 1 }, *back;
	char err[256], *first, *second;
	size_t len, len2;

	first = json_of(&snap, &len);
	cr_assert_eq(snapshot_json__load_text(first, "final.json", &back, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(back->procs[0].final);
	cr_assert(back->procs[0].stacks[0].final);
	cr_assert_eq(back->procs[0].stacks[0].possible_allocs, 3);
	cr_assert_str_eq(back->procs[0].scan_roots, "exact");
	second = json_of(back, &len2);
	cr_assert_eq(len2, len);
	cr_assert_str_eq(second, first);
	cr_assert(strstr(first, "\"possible_bytes\":230,\"possible_allocs\":3,\"scan_roots\":"
				"\"exact\",\"scan_held_ms\":1.500"),
		  "%s", first);
	free(first);
	free(second);
	snapshot__free(back);
}

/* A fleet host sends what it likes: an origin without a host is refused, not a crash. */
Test(snapshot_load, origin_without_host_is_refused)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"frames\": [], \"origins\": [{\"pid\": 4}]}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0].origins[0]: \"host\" is missing");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"origins\": [7], "
		   "\"stacks\": []}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].origins[0] is not an object");
}

/* INT64 extremes and numbers beyond 2^53 never reach the sums of the reports. */
Test(snapshot_load, numbers_out_of_range_are_refused)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": "
		   "9223372036854775807, \"allocs\": 1, \"frames\": []}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0]: \"bytes\" is 9223372036854775807, "
			      "out of range (0 to 9007199254740992)");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": -9223372036854775808, \"frames\": []}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0]: \"allocs\" is "
			      "-9223372036854775808, out of range (0 to 9007199254740992)");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": -1, \"stacks\": []}]}", err,
		   sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0]: \"pid\" is -1, out of range (0 to 4194304)");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"growth_bytes_per_s\": 1e300, \"frames\": []}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0]: \"growth_bytes_per_s\" is 1e+300, "
			      "out of range");
	load_error("{\"leaktrace\": 1, \"lost\": {\"stacks_dropped\": -5}, \"processes\": []}", err,
		   sizeof(err));
	cr_assert_str_eq(err, "bad.json: lost: \"stacks_dropped\" is -5, out of range (0 to "
			      "9007199254740992)");
}

/* A duration pprof writes as u64 nanoseconds: negative or huge is refused, not converted. */
Test(snapshot_load, elapsed_out_of_range_is_refused)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"elapsed_s\": -6.1e11, \"processes\": []}", err,
		   sizeof(err));
	cr_assert_str_eq(err, "bad.json: \"elapsed_s\" is -6.1e+11, out of range (0 to 1e+10)");
	load_error("{\"leaktrace\": 1, \"elapsed_s\": 2e10, \"processes\": []}", err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: \"elapsed_s\" is 2e+10, out of range (0 to 1e+10)");
}

/* The largest counts allowed, merged many times over, saturate instead of wrapping. */
Test(snapshot_load, largest_counts_sum_without_overflow)
{
	static const char text[] =
		"{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"comm\": \"a\", "
		"\"outstanding_bytes\": 9007199254740992, \"lost_bytes\": 9007199254740992, "
		"\"stacks\": [{\"bytes\": 9007199254740992, \"allocs\": 9007199254740992, "
		"\"lost_bytes\": 9007199254740992, \"indirect_bytes\": 9007199254740992, "
		"\"frames\": [{\"symbol\": \"f\"}]}]}]}";
	struct snapshot *in[2048], *merged;
	char err[512];

	cr_assert_eq(snapshot_json__load_text(text, "max.json", &in[0], err, sizeof(err)), 0, "%s",
		     err);
	for (int i = 1; i < 2048; i++)
		in[i] = in[0];
	cr_assert_eq(snapshot__merge((const struct snapshot *const *)in, 2048, &merged), 0);
	cr_assert_eq(merged->procs[0].bytes, INT64_MAX);
	cr_assert_eq(merged->procs[0].stacks[0].bytes, INT64_MAX);
	cr_assert_eq(merged->procs[0].stacks[0].lost_bytes, INT64_MAX);
	cr_assert_eq(stack_stat__unreachable(&merged->procs[0].stacks[0]), INT64_MAX);
	snapshot__free(merged);
	snapshot__free(in[0]);
}

/* Source lines (file, line, start_line, inlined) and code mappings are read, and written back. */
Test(snapshot_load, source_lines_and_mappings_are_read_and_written_back)
{
	static const char text[] =
		"{\"leaktrace\": 1, \"processes\": [{\"pid\": 7, \"exe\": \"/usr/bin/leaky\", "
		"\"stacks\": [{\"bytes\": 64, \"allocs\": 1, \"frames\": ["
		"{\"symbol\": \"make_block\", \"offset\": 0, \"module\": \"/usr/bin/leaky\", "
		"\"address\": \"0x55d0c5a011a5\", \"module_offset\": \"0x11a5\", \"file\": "
		"\"/src/inlined.c\", \"line\": 17, \"start_line\": 15, \"inlined\": true}, "
		"{\"symbol\": \"leak_inlined\", \"offset\": 28, \"module\": \"/usr/bin/leaky\", "
		"\"address\": \"0x55d0c5a011a5\", \"module_offset\": \"0x11a5\", \"file\": "
		"\"/src/inlined.c\", \"line\": 28, \"start_line\": 25}]}], "
		"\"build_ids\": {\"/usr/bin/leaky\": \"8f3a\"}, "
		"\"mappings\": [{\"module\": \"/usr/bin/leaky\", \"start\": \"0x55d0c5a01000\", "
		"\"limit\": \"0x55d0c5a02000\", \"offset\": \"0x1000\"}, "
		"{\"module\": \"/lib/libc.so.6\", \"start\": \"0x7f0000026000\", "
		"\"limit\": \"0x7f000017c000\", \"offset\": \"0x26000\"}]}]}";
	struct snapshot *snap = NULL, *again = NULL;
	const struct frame *const *f;
	const struct proc_stat *p;
	char err[256], *json, *json2;
	size_t len, len2;

	cr_assert_eq(snapshot_json__load_text(text, "x.json", &snap, err, sizeof(err)), 0, "%s",
		     err);
	p = &snap->procs[0];
	f = p->stacks[0].frames;
	cr_assert_str_eq(f[0]->file, "/src/inlined.c");
	cr_assert_eq(f[0]->line, 17);
	cr_assert_eq(f[0]->start_line, 15);
	cr_assert(f[0]->inlined);
	cr_assert_eq(f[1]->line, 28);
	cr_assert_not(f[1]->inlined);
	cr_assert_eq(p->nr_modules, 2);
	cr_assert_str_eq(p->modules[0].path, "/usr/bin/leaky");
	cr_assert_str_eq(p->modules[0].build_id, "8f3a");
	cr_assert(p->modules[0].has_text);
	cr_assert_eq(p->modules[0].text.start, 0x55d0c5a01000);
	cr_assert_eq(p->modules[0].text.limit, 0x55d0c5a02000);
	cr_assert_eq(p->modules[0].text.offset, 0x1000);
	cr_assert_str_eq(p->modules[1].path, "/lib/libc.so.6");
	cr_assert_null(p->modules[1].build_id);
	cr_assert_eq(p->modules[1].text.offset, 0x26000);
	json = json_of(snap, &len);
	cr_assert_eq(snapshot_json__load_text(json, "y.json", &again, err, sizeof(err)), 0, "%s",
		     err);
	json2 = json_of(again, &len2);
	cr_assert_eq(len, len2);
	cr_assert(!memcmp(json, json2, len), "not the same after a round trip:\n%s\n%s", json,
		  json2);
	cr_assert(strstr(json, "\"module_offset\":\"0x11a5\",\"file\":\"/src/inlined.c\","
			       "\"line\":17,\"start_line\":15,\"inlined\":true}"),
		  "%s", json);
	cr_assert(strstr(json,
			 "\"mappings\":[{\"module\":\"/usr/bin/leaky\",\"start\":"
			 "\"0x55d0c5a01000\",\"limit\":\"0x55d0c5a02000\",\"offset\":\"0x1000\"}"),
		  "%s", json);
	free(json);
	free(json2);
	snapshot__free(snap);
	snapshot__free(again);
}

Test(snapshot_load, bad_line_or_mapping_names_the_member)
{
	char err[512];

	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [{\"bytes\": 1, "
		   "\"allocs\": 1, \"frames\": [{\"address\": \"0x12\", \"line\": -3}]}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].stacks[0].frames[0]: \"line\" is -3, out of "
			      "range (0 to 2147483647)");
	load_error(
		"{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [], \"mappings\": "
		"[{\"module\": \"/a\", \"start\": \"0x2000\", \"limit\": \"0x1000\", \"offset\": "
		"\"0x0\"}]}]}",
		err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].mappings[0]: \"limit\" is not above "
			      "\"start\"");
	load_error("{\"leaktrace\": 1, \"processes\": [{\"pid\": 1, \"stacks\": [], \"mappings\": "
		   "[{\"module\": \"/a\", \"start\": \"0x2000\"}]}]}",
		   err, sizeof(err));
	cr_assert_str_eq(err, "bad.json: processes[0].mappings[0]: a mapping needs module, start, "
			      "limit and offset");
}

Test(snapshot_json_read, kernel_stack_round_trips)
{
	static const struct frame fr = { .symbol = "alloc_pipe_info",
					 .offset = 93,
					 .module = "[kernel.kallsyms]",
					 .address = 0xffffffff816e2a1dULL,
					 .kernel = true };
	struct stack_stat s = { .kind = STACK_KERNEL,
				.bytes = 12288,
				.allocs = 64,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1,
				.task_pid = 4242,
				.task_comm = "kpipes",
				.task_cgroup = 7,
				.slab_cache = "filp" };
	struct proc_stat p = { .pid = 0,
			       .comm = "kernel",
			       .exe = "[kernel]",
			       .alive = true,
			       .bytes = 12288,
			       .allocs = 64,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot in = { .host = "h", .procs = &p, .nr_procs = 1, .kernel = true };
	struct snapshot *out = NULL;
	const struct stack_stat *t;
	char err[256], *text;
	size_t len;

	in.lost[LOST_KERNEL_FREES_UNKNOWN] = 99;
	in.lost[LOST_KERNEL_MISSED] = 3;
	text = json_of(&in, &len);
	cr_assert_eq(snapshot_json__load_text(text, "kernel", &out, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(out->kernel);
	cr_assert_eq(out->lost[LOST_KERNEL_FREES_UNKNOWN], 99);
	cr_assert_eq(out->lost[LOST_KERNEL_MISSED], 3);
	t = &out->procs[0].stacks[0];
	cr_assert_eq(t->kind, STACK_KERNEL);
	cr_assert_eq(t->task_pid, 4242);
	cr_assert_str_eq(t->task_comm, "kpipes");
	cr_assert_eq(t->task_cgroup, 7);
	cr_assert_str_eq(t->slab_cache, "filp");
	cr_assert(t->frames[0]->kernel);
	cr_assert_str_eq(t->frames[0]->module, "[kernel.kallsyms]");
	free(text);
	snapshot__free(out);
}

Test(snapshot_json_read, user_snapshot_has_no_kernel_counters)
{
	struct snapshot in = { .host = "h" };
	size_t len;
	char *text = json_of(&in, &len);

	cr_assert_null(strstr(text, "kernel_"), "%s", text);
	free(text);
}

Test(snapshot_json_read, merged_kernel_stacks_keep_their_context)
{
	static const struct frame fr = { .symbol = "alloc_pipe_info", .kernel = true };
	struct stack_stat s = { .kind = STACK_KERNEL,
				.bytes = 10,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &fr },
				.nr_frames = 1,
				.task_pid = 7,
				.task_comm = "a",
				.slab_cache = "filp" };
	struct proc_stat p = { .pid = 0,
			       .comm = "kernel",
			       .exe = "[kernel]",
			       .alive = true,
			       .bytes = 10,
			       .allocs = 1,
			       .stacks = &s,
			       .nr_stacks = 1 };
	struct snapshot a = { .host = "a", .procs = &p, .nr_procs = 1, .kernel = true };
	struct snapshot b = { .host = "b", .procs = &p, .nr_procs = 1, .kernel = true };
	const struct snapshot *in[] = { &a, &b };
	struct snapshot *out = NULL;
	const struct stack_stat *t;

	a.lost[LOST_KERNEL_MISSED] = 2;
	b.lost[LOST_KERNEL_MISSED] = 3;
	cr_assert_eq(snapshot__merge(in, 2, &out), 0);
	cr_assert(out->kernel);
	cr_assert_eq(out->lost[LOST_KERNEL_MISSED], 5);
	cr_assert_eq(out->nr_procs, 1);
	t = &out->procs[0].stacks[0];
	cr_assert_eq(t->kind, STACK_KERNEL);
	cr_assert_eq(t->bytes, 20);
	cr_assert_str_eq(t->slab_cache, "filp");
	cr_assert(t->frames[0]->kernel);
	snapshot__free(out);
}
