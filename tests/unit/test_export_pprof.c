// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The pprof profile: the golden encoding, gzip, and what `go tool pprof` itself reads from it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "export.h"
#include "export_pprof.h"
#include "golden.h"
#include "snapshot_merge.h"

static unsigned char *encode(const struct snapshot *snap, size_t *len)
{
	unsigned char *buf = NULL;

	cr_assert_eq(export_pprof__encode(snap, &buf, len), 0);
	return buf;
}

static bool contains(const unsigned char *buf, size_t len, const char *s)
{
	return memmem(buf, len, s, strlen(s)) != NULL;
}

Test(export_pprof, encoding_matches_golden_file)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	size_t len;
	unsigned char *pb = encode(snap, &len);

	golden__check("tests/unit/golden/snapshot.pb", (const char *)pb, len);
	free(pb);
	snapshot__free(snap);
}

Test(export_pprof, file_is_the_encoding_gzip_compressed)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	size_t len, out_len;
	unsigned char *pb = encode(snap, &len), *out;
	struct capture c;
	z_stream z = { 0 };

	cr_assert_eq(export_pprof__write(golden__open(&c), snap), 0);
	golden__close(&c);
	cr_assert_eq((unsigned char)c.buf[0], 0x1f);
	cr_assert_eq((unsigned char)c.buf[1], 0x8b);
	out = malloc(len + 64);
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)c.buf;
	z.avail_in = c.len;
	z.next_out = out;
	z.avail_out = len + 64;
	cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	out_len = z.total_out;
	inflateEnd(&z);
	cr_assert_eq(out_len, len);
	cr_assert(!memcmp(out, pb, len));
	free(out);
	free(pb);
	free(c.buf);
	snapshot__free(snap);
}

Test(export_pprof, sample_types_and_names_are_in_the_string_table)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	size_t len;
	unsigned char *pb = encode(snap, &len);

	cr_assert(contains(pb, len, "inuse_objects"));
	cr_assert(contains(pb, len, "inuse_space"));
	cr_assert(contains(pb, len, "leak_here"));
	cr_assert(contains(pb, len, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	free(pb);
	snapshot__free(snap);
}

Test(export_pprof, merged_samples_carry_their_hosts)
{
	struct snapshot *in[2] = { golden__snapshot(GOLDEN_SNAPSHOT),
				   golden__snapshot("tests/unit/golden/host-02.json") };
	struct snapshot *merged;
	unsigned char *pb;
	size_t len;

	cr_assert_eq(snapshot__merge((const struct snapshot *const *)in, 2, &merged), 0);
	pb = encode(merged, &len);
	cr_assert(contains(pb, len, "host-01"));
	cr_assert(contains(pb, len, "host-02"));
	free(pb);
	snapshot__free(merged);
	snapshot__free(in[0]);
	snapshot__free(in[1]);
}

static bool have_go(void)
{
	return !system("command -v go >/dev/null 2>&1");
}

/* `go tool pprof ARGS FILE`'s output. */
static char *pprof(const char *args, const char *path)
{
	char cmd[1024], *out = NULL;
	size_t len = 0;
	FILE *p, *m = open_memstream(&out, &len);
	int c;

	snprintf(cmd, sizeof(cmd), "HOME=\"${HOME:-/tmp}\" timeout 120 go tool pprof %s %s 2>&1",
		 args, path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((c = fgetc(p)) != EOF)
		fputc(c, m);
	cr_assert_eq(pclose(p), 0, "go tool pprof failed:\n%s", out);
	fclose(m);
	return out;
}

Test(export_pprof, go_tool_pprof_lists_the_leak_with_its_exact_bytes, .timeout = 240)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	char path[] = "/tmp/lt-profile-XXXXXX.pb.gz", *top, *objects;
	FILE *f;
	int fd;

	if (!have_go()) {
		fprintf(stderr, "SKIPPED export_pprof::go_tool_pprof_lists_the_leak_with_its_exact_"
				"bytes: no go (tools/install-deps test installs golang-go)\n");
		cr_skip_test("no go");
	}
	fd = mkstemps(path, 6);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_eq(export_pprof__write(f, snap), 0);
	fclose(f);
	top = pprof("-top -unit=B", path);
	objects = pprof("-top -sample_index=inuse_objects", path);
	unlink(path);
	cr_assert_not_null(strstr(top, "Type: inuse_space\n"), "%s", top);
	cr_assert_not_null(strstr(top, "1234567B 53.97% 53.97%   1234567B 53.97%  leak_here\n"),
			   "%s", top);
	cr_assert_not_null(strstr(top, "1048576B 45.84% 99.81%   1048576B 45.84%  [unknown]\n"),
			   "%s", top);
	cr_assert_not_null(strstr(objects, "      1001 99.50% 99.50%       1001 99.50%  "
					   "leak_here\n"),
			   "%s", objects);
	free(top);
	free(objects);
	snapshot__free(snap);
}

/* After --scan: what a stack lost, definitely and indirectly, as lost_space and lost_objects. */
static const struct frame lost_frames[] = { { "lose_blocks", 0x1f, "/usr/bin/leaky", 0x1000, 0,
					      false, NULL } };
static const struct frame kept_frames[] = { { "keep_cache", 0x1c, "/usr/bin/leaky", 0x2000, 0,
					      false, NULL } };
static const struct frame possible_frames[] = { { "interior", 0x14, "/usr/bin/leaky", 0x3000, 0,
						  false, NULL } };
static struct stack_stat scanned_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_HEAP,
	  .bytes = 50000,
	  .allocs = 100,
	  .scanned = true,
	  .reachable_bytes = 50000,
	  .reachable_allocs = 100,
	  .frames = (const struct frame *const[]){ &kept_frames[0] },
	  .nr_frames = 1 },
	{ .stack_id = 2,
	  .kind = STACK_HEAP,
	  .bytes = 7914,
	  .allocs = 13,
	  .scanned = true,
	  .lost_bytes = 7770,
	  .lost_allocs = 10,
	  .indirect_bytes = 144,
	  .indirect_allocs = 3,
	  .frames = (const struct frame *const[]){ &lost_frames[0] },
	  .nr_frames = 1 },
	{ .stack_id = 3,
	  .kind = STACK_HEAP,
	  .bytes = 230,
	  .allocs = 3,
	  .scanned = true,
	  .possible_bytes = 230,
	  .possible_allocs = 3,
	  .frames = (const struct frame *const[]){ &possible_frames[0] },
	  .nr_frames = 1 },
};
static struct proc_stat scanned_proc = {
	.pid = 9,
	.comm = "leaky",
	.exe = "/usr/bin/leaky",
	.bytes = 58144,
	.allocs = 116,
	.scanned = true,
	.lost_bytes = 7770,
	.indirect_bytes = 144,
	.reachable_bytes = 50000,
	.possible_bytes = 230,
	.possible_allocs = 3,
	.stacks = scanned_stacks,
	.nr_stacks = 3,
};
static const struct snapshot scanned_snap = { .host = "h", .procs = &scanned_proc, .nr_procs = 1 };

Test(export_pprof, scanned_profiles_have_lost_sample_types)
{
	size_t len, plain_len;
	unsigned char *buf = encode(&scanned_snap, &len);
	unsigned char *plain = encode(&(struct snapshot){ .host = "h" }, &plain_len);

	cr_assert(contains(buf, len, "lost_space"));
	cr_assert(contains(buf, len, "lost_objects"));
	cr_assert(contains(buf, len, "possible_space"));
	cr_assert(contains(buf, len, "possible_objects"));
	cr_assert_not(contains(plain, plain_len, "lost_space"), "only after a scan");
	cr_assert_not(contains(plain, plain_len, "possible_space"), "only after a scan");
	free(buf);
	free(plain);
}

Test(export_pprof, go_tool_pprof_shows_the_lost_bytes, .timeout = 240)
{
	char path[] = "/tmp/lt-lost-XXXXXX.pb.gz", *lost, *objects, *possible;
	FILE *f;
	int fd;

	if (!have_go()) {
		fprintf(stderr, "SKIPPED export_pprof::go_tool_pprof_shows_the_lost_bytes: no go "
				"(tools/install-deps test installs golang-go)\n");
		cr_skip_test("no go");
	}
	fd = mkstemps(path, 6);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_eq(export_pprof__write(f, &scanned_snap), 0);
	fclose(f);
	lost = pprof("-top -unit=B -sample_index=lost_space", path);
	objects = pprof("-top -sample_index=lost_objects", path);
	possible = pprof("-top -unit=B -sample_index=possible_space", path);
	unlink(path);
	cr_assert_not_null(strstr(possible, "230B   100%   100%       230B   100%  interior\n"),
			   "%s", possible);
	free(possible);
	cr_assert_not_null(strstr(lost, "Type: lost_space\n"), "%s", lost);
	cr_assert_not_null(strstr(lost, "7914B   100%   100%      7914B   100%  lose_blocks\n"),
			   "%s", lost);
	cr_assert_not_null(strstr(objects, "13   100%   100%         13   100%  lose_blocks\n"),
			   "%s", objects);
	free(lost);
	free(objects);
}

/*
 * Source lines: a call inlined at an address is a Line of that address's Location
 * before its caller's, functions carry file and start line, and the mappings the
 * code ranges, the executable's first (go tool pprof -raw shows all of it).
 */
static const struct frame line_frames[] = {
	{ .symbol = "make_block",
	  .module = "/usr/bin/leaky",
	  .address = 0x55d0c5a011a5,
	  .module_offset = 0x11a5,
	  .has_module_offset = true,
	  .file = "/src/inlined.c",
	  .line = 17,
	  .start_line = 15,
	  .inlined = true },
	{ .symbol = "leak_inlined",
	  .offset = 0x1c,
	  .module = "/usr/bin/leaky",
	  .address = 0x55d0c5a011a5,
	  .module_offset = 0x11a5,
	  .has_module_offset = true,
	  .file = "/src/inlined.c",
	  .line = 28,
	  .start_line = 25 },
	{ .symbol = "__libc_start_call_main",
	  .offset = 0x7a,
	  .module = "/lib/x86_64-linux-gnu/libc.so.6",
	  .address = 0x7f000002724a,
	  .module_offset = 0x2724a,
	  .has_module_offset = true },
};
static struct stack_stat line_stacks[] = {
	{ .stack_id = 1,
	  .kind = STACK_HEAP,
	  .bytes = 640,
	  .allocs = 10,
	  .frames = (const struct frame *const[]){ &line_frames[0], &line_frames[1],
						   &line_frames[2] },
	  .nr_frames = 3 },
};
/* libc first among the frames' modules: the executable's mapping must still come first. */
static const struct module_id line_modules[] = {
	{ .path = "/lib/x86_64-linux-gnu/libc.so.6",
	  .text = { 0x7f0000026000, 0x7f000017c000, 0x26000 },
	  .has_text = true },
	{ .path = "/usr/bin/leaky",
	  .build_id = "8f3a1c2b",
	  .text = { 0x55d0c5a01000, 0x55d0c5a02000, 0x1000 },
	  .has_text = true },
};
static struct proc_stat line_proc = {
	.pid = 9,
	.comm = "leaky",
	.exe = "/usr/bin/leaky",
	.bytes = 640,
	.allocs = 10,
	.stacks = line_stacks,
	.nr_stacks = 1,
	.modules = line_modules,
	.nr_modules = 2,
};
static const struct snapshot line_snap = { .host = "h", .procs = &line_proc, .nr_procs = 1 };

Test(export_pprof, inlined_calls_are_lines_of_one_location_and_the_exe_maps_first, .timeout = 240)
{
	char path[] = "/tmp/lt-profile-XXXXXX.pb.gz", *raw;
	FILE *f;
	int fd;

	if (!have_go()) {
		fprintf(stderr, "SKIPPED export_pprof::inlined_calls_are_lines_of_one_location: no "
				"go (tools/install-deps test installs golang-go)\n");
		cr_skip_test("no go");
	}
	fd = mkstemps(path, 6);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_eq(export_pprof__write(f, &line_snap), 0);
	fclose(f);
	raw = pprof("-raw", path);
	unlink(path);
	cr_assert_not_null(strstr(raw, "     1: 0x55d0c5a011a5 M=1 make_block /src/inlined.c:17 "
				       "s=15\n             leak_inlined /src/inlined.c:28 s=25\n"),
			   "%s", raw);
	cr_assert_not_null(strstr(raw, "     2: 0x7f000002724a M=2 __libc_start_call_main :0 "
				       "s=0\n"),
			   "%s", raw);
	cr_assert_not_null(strstr(raw,
				  "Mappings\n1: 0x55d0c5a01000/0x55d0c5a02000/0x1000 "
				  "/usr/bin/leaky 8f3a1c2b [FN][FL][LN][IN]\n2: 0x7f0000026000/"
				  "0x7f000017c000/0x26000 /lib/x86_64-linux-gnu/libc.so.6  "
				  "[FN][FL][LN][IN]\n"),
			   "%s", raw);
	free(raw);
}
