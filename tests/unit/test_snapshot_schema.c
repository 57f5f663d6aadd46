// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON Schema of snapshots (doc/leaktrace-snapshot.schema.json) against what the writer
 * writes, validated by a real validator (tools/validate-snapshot: python3-jsonschema).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golden.h"
#include "snapshot_json.h"

/* Runs the validator on path; its exit status, its output in out. */
static int validate(const char *path, char *out, size_t size)
{
	char cmd[512];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tools/validate-snapshot %s 2>&1", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static void write_file(const char *path, const struct snapshot *snap)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	snapshot_json__write(f, snap);
	cr_assert_eq(fclose(f), 0);
}

Test(snapshot_schema, golden_snapshots_are_valid)
{
	static const char *const files[] = {
		"tests/unit/golden/snapshot.json",
		"tests/unit/golden/merged.json",
		"tests/unit/golden/later.json",
		"tests/unit/golden/host-02.json",
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		cr_assert_eq(validate(files[i], out, sizeof(out)), 0, "%s:\n%s", files[i], out);
}

static const struct frame every_frame[] = {
	{ .symbol = "inlined_fill",
	  .module = "/usr/bin/leaky",
	  .address = 0x5555555551f0,
	  .module_offset = 0x11f0,
	  .has_module_offset = true,
	  .build_id = "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c",
	  .file = "/src/leaky.c",
	  .line = 12,
	  .start_line = 10,
	  .inlined = true },
	{ .symbol = "leak_here",
	  .offset = 32,
	  .module = "/usr/bin/leaky",
	  .address = 0x5555555551f0,
	  .module_offset = 0x11f0,
	  .has_module_offset = true,
	  .build_id = "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c",
	  .file = "/src/leaky.c",
	  .line = 40,
	  .start_line = 35 },
	{ .module = "/usr/lib/x86_64-linux-gnu/libc.so.6", .address = 0x7f0000001000 },
};

static const struct frame every_kernel_frame[] = {
	{ .symbol = "alloc_pipe_info",
	  .offset = 93,
	  .module = "[kernel.kallsyms]",
	  .address = 0xffffffff816e2a1d,
	  .kernel = true },
};
/* The stacks' frame lists, as snapshots hold them: pointers to their frames. */
static const struct frame *const every_frames[] = { &every_frame[0], &every_frame[1],
						    &every_frame[2] };
static const struct frame *const every_kernel_frames[] = { &every_kernel_frame[0] };

static const struct origin every_origin[] = { { "host-01", 4242 }, { "host-02", 77 } };

static const char *every_argv[] = { "leaky", "--leak", "100" };

static const struct module_id every_module[] = {
	{ .path = "/usr/bin/leaky",
	  .build_id = "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c",
	  .text = { 0x555555555000, 0x555555556000, 0x1000 },
	  .has_text = true },
};

static const struct suppression_use every_suppression[] = {
	{ "libc-cache", "default:3", 1, 64, 2, 0 },
};

static const char *const every_host[] = { "host-01", "host-02" };

/* A snapshot with every field the writer can write: optional ones, verdicts, a merge's. */
static void every_field(struct snapshot *snap, struct proc_stat *p, struct stack_stat *s)
{
	s[0] = (struct stack_stat){
		.kind = STACK_HEAP,
		.bytes = 4096,
		.allocs = 4,
		.oldest_s = 2.5,
		.growth = 512,
		.trend = TREND_GROWING,
		.slope = 500,
		.frames = every_frames,
		.nr_frames = 3,
		.truncated = true,
		.table_pending = true,
		.scanned = true,
		.lost_bytes = 1024,
		.lost_allocs = 1,
		.indirect_bytes = 1024,
		.indirect_allocs = 1,
		.reachable_bytes = 1024,
		.reachable_allocs = 1,
		.possible_bytes = 1024,
		.possible_allocs = 1,
		.origins = every_origin,
		.nr_origins = 2,
	};
	s[1] = (struct stack_stat){
		.kind = STACK_MMAP,
		.bytes = 64,
		.allocs = 2,
		.oldest_s = -1,
		.frames = every_frames + 2,
		.nr_frames = 1,
		.scanned = true,
		.reachable_bytes = 64,
		.reachable_allocs = 2,
		.suppressed = "libc-cache",
		.has_resident = true,
		.resident_bytes = 16,
		.has_cached = true, /* a glibc thread stack cache: frame 0 in libc */
		.cached_bytes = 64,
		.cached_allocs = 2,
		.allocator = "glibc",
	};
	/* --kernel's: in a process of its own in a real snapshot; here only its fields count. */
	s[2] = (struct stack_stat){
		.kind = STACK_KERNEL,
		.bytes = 192,
		.allocs = 1,
		.oldest_s = 1,
		.frames = every_kernel_frames,
		.nr_frames = 1,
		.task_pid = 4242,
		.task_comm = "leaky",
		.task_cgroup = 1,
		.slab_cache = "filp",
	};
	*p = (struct proc_stat){
		.pid = 4242,
		.comm = "leaky",
		.exe = "/usr/bin/leaky",
		.argv = every_argv,
		.argc = 3,
		.bytes = 4160,
		.allocs = 6,
		.growth = 512,
		.scanned = true,
		.lost_bytes = 1024,
		.indirect_bytes = 1024,
		.reachable_bytes = 1088,
		.possible_bytes = 1024,
		.possible_allocs = 1,
		.scan_roots = "exact",
		.scan_held_ms = 1.5,
		.final = true,
		.has_resident = true,
		.resident_bytes = 16,
		.stacks = s,
		.nr_stacks = 3,
		.origins = every_origin,
		.nr_origins = 2,
		.modules = every_module,
		.nr_modules = 1,
		.suppressed_bytes = 64,
		.suppressed_allocs = 2,
	};
	*snap = (struct snapshot){
		.host = "host-01",
		.started = { 1700000000, 0 },
		.taken = { 1700000012, 0 },
		.elapsed_s = 12,
		.lost = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 },
		.kernel = true,
		.sample_bytes = 4096,
		.procs = p,
		.nr_procs = 1,
		.hosts = every_host,
		.nr_hosts = 2,
		.suppressions = every_suppression,
		.nr_suppressions = 1,
	};
}

/* Every field name of snapshot_json_keys.h is in the JSON at path: the test misses none. */
static void assert_every_key_written(const char *path)
{
	char *json = golden__read(path, NULL), line[256], key[64], quoted[80];
	FILE *h = fopen("src/snapshot_json_keys.h", "r");
	int keys = 0;

	cr_assert_not_null(h);
	while (fgets(line, sizeof(line), h)) {
		if (sscanf(line, "#define JK_%*s \"%63[a-z_0-9]\"", key) != 1)
			continue;
		snprintf(quoted, sizeof(quoted), "\"%s\":", key);
		cr_assert_not_null(strstr(json, quoted), "%s is not written", quoted);
		keys++;
	}
	fclose(h);
	cr_assert_geq(keys, 61, "the keys header was read");
	free(json);
}

Test(snapshot_schema, a_snapshot_with_every_field_is_valid)
{
	char path[] = "/tmp/leaktrace-schema-XXXXXX", out[4096];
	struct stack_stat stacks[3];
	struct snapshot snap;
	struct proc_stat p;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	every_field(&snap, &p, stacks);
	write_file(path, &snap);
	cr_assert_eq(validate(path, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "");
	assert_every_key_written(path);
	unlink(path);
}

Test(snapshot_schema, a_field_the_schema_does_not_name_is_an_error)
{
	char path[] = "/tmp/leaktrace-schema-XXXXXX", out[4096];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fputs("{\"leaktrace\":1,\"host\":\"h\",\"started\":\"2023-11-14T22:13:20Z\","
	      "\"taken\":\"2023-11-14T22:13:32Z\",\"elapsed_s\":1.000,\"sampling\":{\"mode\":"
	      "\"exact\"},\"lost\":{\"allocs_untracked\":0,\"stacks_dropped\":0,"
	      "\"frees_unmatched\":0},\"processes\":[],\"colour\":\"red\"}",
	      f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(validate(path, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out + strlen(path), ": (top): Additional properties are not allowed "
					     "('colour' was unexpected)\n");
	unlink(path);
}
