// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Frames shared between stacks: the interning table, and snapshots loaded from JSON. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "frame_table.h"
#include "golden.h"
#include "snapshot_json.h"

/* A frame whose strings are fresh copies: equal to another only by content. */
static struct frame copy_of(const char *symbol, const char *module, uint64_t address, int line)
{
	return (struct frame){ .symbol = strdup(symbol),
			       .module = strdup(module),
			       .address = address,
			       .file = line ? strdup("/src/a.c") : NULL,
			       .line = line };
}

static void free_strings(struct frame *f)
{
	free((char *)f->symbol);
	free((char *)f->module);
	free((char *)f->file);
}

Test(frame_table, equal_frames_are_one_frame_and_any_field_tells_them_apart)
{
	struct frame_table *t = frame_table__new(NULL);
	struct frame a = copy_of("leak", "/bin/app", 0x1000, 12);
	struct frame b = copy_of("leak", "/bin/app", 0x1000, 12);
	struct frame c = copy_of("leak", "/bin/app", 0x1000, 13);
	struct frame d = copy_of("leak", "/bin/app", 0x1000, 12);
	const struct frame *fa, *fb, *fc, *fd;

	d.inlined = true;
	fa = frame_table__get(t, &a);
	fb = frame_table__get(t, &b);
	fc = frame_table__get(t, &c);
	fd = frame_table__get(t, &d);
	cr_assert_eq(fa, fb);
	cr_assert_neq(fa, fc);
	cr_assert_neq(fa, fd);
	cr_assert_neq(fc, fd);
	cr_assert_eq(frame_table__count(t), 3);
	/* Without an arena the strings stay the caller's: the first frame's. */
	cr_assert_eq(fa->symbol, a.symbol);
	cr_assert_eq(fa->line, 12);
	frame_table__free(t);
	free_strings(&a);
	free_strings(&b);
	free_strings(&c);
	free_strings(&d);
}

/* Thousands of frames, half put twice: the rest are still found, each once (backward shifts). */
Test(frame_table, last_put_frees_a_frame_and_the_others_stay_found)
{
	enum { N = 5000 };
	struct frame_table *t = frame_table__new(NULL);
	const struct frame *got[N];
	struct frame f = { .symbol = "fn", .module = "/bin/app" };

	for (int i = 0; i < N; i++) {
		f.address = 0x1000 + 16 * (uint64_t)i;
		got[i] = frame_table__get(t, &f);
		cr_assert_not_null(got[i]);
	}
	cr_assert_eq(frame_table__count(t), N);
	for (int i = 0; i < N; i += 2) {
		f.address = 0x1000 + 16 * (uint64_t)i;
		cr_assert_eq(frame_table__get(t, &f), got[i]); /* a second reference */
	}
	for (int i = 0; i < N; i++)
		frame_table__put(t, got[i]);
	cr_assert_eq(frame_table__count(t), N / 2);
	for (int i = 0; i < N; i++) {
		f.address = 0x1000 + 16 * (uint64_t)i;
		if (i % 2 == 0)
			cr_assert_eq(frame_table__get(t, &f), got[i], "frame %d", i);
		else
			frame_table__put(t, frame_table__get(t, &f)); /* new, and gone again */
	}
	cr_assert_eq(frame_table__count(t), N / 2);
	frame_table__free(t);
}

Test(frame_table, arena_frames_own_copies_of_their_strings)
{
	struct arena *a = arena__new();
	struct frame_table *t = frame_table__new(a);
	char symbol[] = "refill", module[] = "/bin/app";
	struct frame f = { .symbol = symbol, .module = module, .address = 0x10 };
	const struct frame *v[2];

	v[0] = frame_table__get(t, &f);
	v[1] = frame_table__get(t, &f);
	frame_table__free(t); /* the frames are the arena's */
	symbol[0] = 'X';
	cr_assert_eq(v[0], v[1]);
	cr_assert_str_eq(v[0]->symbol, "refill");
	cr_assert_str_eq(v[0]->module, "/bin/app");
	cr_assert_null(v[0]->build_id);
	arena__free(a);
}

/* Two processes' stacks with frames in common, written, loaded and written again. */
Test(frame_table, loaded_stacks_share_their_frames_and_write_back_the_same_bytes)
{
	struct frame shared[2] = { copy_of("cache_fill", "/bin/app", 0x1200, 40),
				   copy_of("cache_fill", "/bin/app", 0x1200, 40) };
	struct frame own[2] = { copy_of("a_leak", "/bin/app", 0x1100, 7),
				copy_of("b_leak", "/bin/app", 0x1180, 9) };
	struct stack_stat s[3] = {
		{ .stack_id = 1,
		  .bytes = 300,
		  .allocs = 3,
		  .oldest_s = -1,
		  .nr_frames = 2,
		  .frames = (const struct frame *const[]){ &own[0], &shared[0] } },
		{ .stack_id = 2,
		  .bytes = 200,
		  .allocs = 2,
		  .oldest_s = -1,
		  .nr_frames = 2,
		  .frames = (const struct frame *const[]){ &own[1], &shared[1] } },
		{ .stack_id = 3,
		  .bytes = 100,
		  .allocs = 1,
		  .oldest_s = -1,
		  .nr_frames = 1,
		  .frames = (const struct frame *const[]){ &shared[1] } },
	};
	struct proc_stat p[2] = {
		{ .pid = 10,
		  .comm = "app",
		  .exe = "/bin/app",
		  .alive = true,
		  .bytes = 500,
		  .allocs = 5,
		  .stacks = s,
		  .nr_stacks = 2 },
		{ .pid = 11,
		  .comm = "app",
		  .exe = "/bin/app",
		  .alive = true,
		  .bytes = 100,
		  .allocs = 1,
		  .stacks = &s[2],
		  .nr_stacks = 1 },
	};
	struct snapshot snap = { .host = "h",
				 .taken = { 1700000000, 0 },
				 .procs = p,
				 .nr_procs = 2 };
	struct snapshot *loaded = NULL;
	struct capture first, again;
	const struct proc_stat *lp;
	char err[256];

	snapshot_json__write(golden__open(&first), &snap);
	golden__close(&first);
	cr_assert_eq(snapshot_json__load_text(first.buf, "x.json", &loaded, err, sizeof(err)), 0,
		     "%s", err);
	lp = loaded->procs;
	cr_assert_eq(loaded->nr_procs, 2);
	cr_assert_eq(lp[0].nr_stacks, 2);
	/* One cache_fill frame for all three stacks, across the processes; a_leak and b_leak apart. */
	cr_assert_eq(lp[0].stacks[0].frames[1], lp[0].stacks[1].frames[1]);
	cr_assert_eq(lp[0].stacks[0].frames[1], lp[1].stacks[0].frames[0]);
	cr_assert_neq(lp[0].stacks[0].frames[0], lp[0].stacks[1].frames[0]);
	cr_assert_str_eq(lp[0].stacks[0].frames[1]->symbol, "cache_fill");
	cr_assert_eq(lp[0].stacks[0].frames[1]->line, 40);
	snapshot_json__write(golden__open(&again), loaded);
	golden__close(&again);
	cr_assert_eq(again.len, first.len);
	cr_assert(!memcmp(again.buf, first.buf, first.len), "%s\n---\n%s", first.buf, again.buf);
	free(first.buf);
	free(again.buf);
	snapshot__free(loaded);
	for (int i = 0; i < 2; i++) {
		free_strings(&shared[i]);
		free_strings(&own[i]);
	}
}

/* The golden snapshot, loaded with its frames interned, is written back byte for byte. */
Test(frame_table, golden_snapshot_writes_back_the_same_bytes)
{
	struct snapshot *snap = golden__snapshot(GOLDEN_SNAPSHOT);
	struct capture out;
	size_t len;
	char *want = golden__read(GOLDEN_SNAPSHOT, &len);

	snapshot_json__write(golden__open(&out), snap);
	golden__close(&out);
	cr_assert_eq(out.len, len);
	cr_assert(!memcmp(out.buf, want, len));
	free(out.buf);
	free(want);
	snapshot__free(snap);
}

/* The live source's table: the symbolizer's strings are interned, an equal copy is another string. */
Test(frame_table, shared_strings_are_told_apart_by_address)
{
	struct frame_table *t = frame_table__new_shared_strings();
	struct frame a = copy_of("leak", "/bin/app", 0x1000, 12);
	struct frame b = copy_of("leak", "/bin/app", 0x1000, 12);
	struct frame a2 = a;
	const struct frame *fa = frame_table__get(t, &a);

	cr_assert_eq(frame_table__get(t, &a2), fa);
	cr_assert_neq(frame_table__get(t, &b), fa);
	cr_assert_eq(frame_table__count(t), 2);
	frame_table__free(t);
	free_strings(&a);
	free_strings(&b);
}
