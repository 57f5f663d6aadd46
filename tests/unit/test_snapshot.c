// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* snapshot: aggregation of per-(process, stack) totals, ordering, ages and growth, no BPF. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snap_source.h"
#include "tracer.h"

/* Processes that do not exist: no /proc lookup succeeds for them. */
#define PID_A 999991
#define PID_B 999992
#define SEC 1000000000ULL

struct fixture {
	struct symbolizer *syms;
	struct snap_source *src;
	uint64_t created_before; /* tracer__now_ns() around snap_source__new */
	uint64_t created_after;
};

static struct fixture fx;

static void setup(void)
{
	/* busy_only: the two registered processes below show only when they hold memory. */
	struct snap_filter filter = { .min_size = 0, .max_size = UINT64_MAX, .busy_only = true };

	fx.syms = symbolizer__new();
	cr_assert_not_null(fx.syms);
	fx.created_before = tracer__now_ns();
	fx.src = snap_source__new(NULL, fx.syms, &filter);
	fx.created_after = tracer__now_ns();
	cr_assert_not_null(fx.src);
	/* Traced processes (that do not exist): only their totals are reported. */
	snap_source__add_process(fx.src, PID_A);
	snap_source__add_process(fx.src, PID_B);
}

static void teardown(void)
{
	snap_source__free(fx.src);
	symbolizer__free(fx.syms);
}

TestSuite(snapshot, .init = setup, .fini = teardown);

/* A clock value safely after the source's creation, as the tracer's clock would give. */
static uint64_t later(uint64_t seconds)
{
	return fx.created_after + seconds * SEC;
}

static struct lt_total_key key(pid_t pid, uint64_t stack_id)
{
	return (struct lt_total_key){ .tgid = (__u32)pid, .stack_id = stack_id };
}

static struct lt_total total(int64_t bytes, int64_t allocs)
{
	return (struct lt_total){ .bytes = bytes, .allocs = allocs, .kind = LT_KIND_HEAP };
}

static struct snapshot *build(const struct lt_total_key *keys, const struct lt_total *vals,
			      size_t n, uint64_t now_ns)
{
	struct snapshot *snap = calloc(1, sizeof(*snap));

	cr_assert_not_null(snap);
	cr_assert_eq(snap_source__build(fx.src, keys, vals, n, now_ns, snap), 0);
	return snap;
}

static const struct proc_stat *proc_of(const struct snapshot *snap, pid_t pid)
{
	for (size_t i = 0; i < snap->nr_procs; i++)
		if (snap->procs[i].pid == pid)
			return &snap->procs[i];
	cr_assert_fail("pid %d is not in the snapshot", pid);
	return NULL;
}

static const struct stack_stat *stack_of(const struct snapshot *snap, pid_t pid, uint64_t id)
{
	const struct proc_stat *p = proc_of(snap, pid);

	for (size_t i = 0; i < p->nr_stacks; i++)
		if (p->stacks[i].stack_id == id)
			return &p->stacks[i];
	cr_assert_fail("stack %llu of pid %d is not in the snapshot", (unsigned long long)id, pid);
	return NULL;
}

/* Four stacks of PID_A (one shares its id with a stack of PID_B) and one of PID_B. */
static const struct lt_total_key keys4[] = {
	{ .tgid = PID_A, .stack_id = 1 }, { .tgid = PID_A, .stack_id = 2 },
	{ .tgid = PID_B, .stack_id = 1 }, { .tgid = PID_A, .stack_id = 4 },
	{ .tgid = PID_A, .stack_id = 3 },
};

static const struct lt_total vals4[] = {
	{ .bytes = 1000, .allocs = 10 }, { .bytes = 3000, .allocs = 30 },
	{ .bytes = 500, .allocs = 5 },	 { .bytes = 200, .allocs = 2 },
	{ .bytes = 1000, .allocs = 1 },
};

Test(snapshot, bytes_and_allocs_are_summed_per_process)
{
	struct snapshot *snap = build(keys4, vals4, 5, later(1));
	const struct proc_stat *a = proc_of(snap, PID_A), *b = proc_of(snap, PID_B);

	cr_assert_eq(snap->nr_procs, 2);
	cr_assert_eq(a->bytes, 5200);
	cr_assert_eq(a->allocs, 43);
	cr_assert_eq(a->nr_stacks, 4);
	cr_assert_eq(b->bytes, 500);
	cr_assert_eq(b->allocs, 5);
	cr_assert_eq(b->nr_stacks, 1);
	cr_assert_eq(b->stacks[0].stack_id, 1);
	snapshot__free(snap);
}

Test(snapshot, stacks_are_sorted_largest_first_then_by_id)
{
	struct snapshot *snap = build(keys4, vals4, 5, later(1));
	const struct proc_stat *a = proc_of(snap, PID_A);

	cr_assert_eq(a->stacks[0].stack_id, 2);
	cr_assert_eq(a->stacks[0].bytes, 3000);
	cr_assert_eq(a->stacks[1].stack_id, 1);
	cr_assert_eq(a->stacks[1].bytes, 1000);
	cr_assert_eq(a->stacks[2].stack_id, 3);
	cr_assert_eq(a->stacks[2].bytes, 1000);
	cr_assert_eq(a->stacks[3].stack_id, 4);
	cr_assert_eq(a->stacks[3].bytes, 200);
	snapshot__free(snap);
}

Test(snapshot, processes_are_sorted_by_bytes)
{
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_B, 2), key(PID_B, 3) };
	const struct lt_total vals[] = { total(100, 1), total(80, 1), total(80, 1) };
	struct snapshot *snap = build(keys, vals, 3, later(1));

	cr_assert_eq(snap->nr_procs, 2);
	cr_assert_eq(snap->procs[0].pid, PID_B);
	cr_assert_eq(snap->procs[0].bytes, 160);
	cr_assert_eq(snap->procs[1].pid, PID_A);
	cr_assert_eq(snap->procs[1].bytes, 100);
	snapshot__free(snap);
}

Test(snapshot, processes_with_equal_bytes_are_sorted_by_pid)
{
	const struct lt_total_key keys[] = { key(PID_B, 1), key(PID_A, 1) };
	const struct lt_total vals[] = { total(64, 1), total(64, 1) };
	struct snapshot *snap = build(keys, vals, 2, later(1));

	cr_assert_eq(snap->procs[0].pid, PID_A);
	cr_assert_eq(snap->procs[1].pid, PID_B);
	snapshot__free(snap);
}

Test(snapshot, zero_totals_are_omitted)
{
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2), key(PID_B, 3) };
	const struct lt_total vals[] = { total(0, 0), total(48, 3), total(0, 0) };
	struct snapshot *snap = build(keys, vals, 3, later(1));

	cr_assert_eq(snap->nr_procs, 1);
	cr_assert_eq(snap->procs[0].pid, PID_A);
	cr_assert_eq(snap->procs[0].nr_stacks, 1);
	cr_assert_eq(snap->procs[0].stacks[0].stack_id, 2);
	snapshot__free(snap);
}

Test(snapshot, no_totals_give_no_processes)
{
	struct snapshot *snap = build(NULL, NULL, 0, later(1));

	cr_assert_eq(snap->nr_procs, 0);
	cr_assert_null(snap->procs);
	snapshot__free(snap);
}

Test(snapshot, oldest_age_comes_from_oldest_ts)
{
	uint64_t now = later(10);
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = {
		{ .bytes = 16,
		  .allocs = 1,
		  .oldest_ts = now - 2500000000ULL,
		  .oldest_addr = 0x1000 },
	};
	struct snapshot *snap = build(keys, vals, 1, now);

	cr_assert_eq(stack_of(snap, PID_A, 1)->oldest_s, 2.5);
	snapshot__free(snap);
}

Test(snapshot, oldest_age_is_unknown_without_oldest_addr)
{
	uint64_t now = later(10);
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = {
		{ .bytes = 16, .allocs = 1, .oldest_ts = now - SEC, .oldest_addr = 0 },
	};
	struct snapshot *snap = build(keys, vals, 1, now);

	cr_assert_lt(stack_of(snap, PID_A, 1)->oldest_s, 0);
	snapshot__free(snap);
}

Test(snapshot, oldest_age_is_unknown_when_timestamp_is_in_the_future)
{
	uint64_t now = later(10);
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = {
		{ .bytes = 16, .allocs = 1, .oldest_ts = now + 1, .oldest_addr = 0x1000 },
	};
	struct snapshot *snap = build(keys, vals, 1, now);

	cr_assert_lt(stack_of(snap, PID_A, 1)->oldest_s, 0);
	snapshot__free(snap);
}

Test(snapshot, kind_is_copied_from_the_total)
{
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2) };
	const struct lt_total vals[] = {
		{ .bytes = 4096, .allocs = 1, .kind = LT_KIND_MMAP },
		{ .bytes = 16, .allocs = 1, .kind = LT_KIND_HEAP },
	};
	struct snapshot *snap = build(keys, vals, 2, later(1));

	cr_assert_eq(stack_of(snap, PID_A, 1)->kind, LT_KIND_MMAP);
	cr_assert_eq(stack_of(snap, PID_A, 2)->kind, LT_KIND_HEAP);
	snapshot__free(snap);
}

Test(snapshot, stacks_without_tracer_have_no_frames_and_are_truncated)
{
	const struct lt_total_key keys[] = { key(PID_A, 7), key(PID_A, LT_STACK_NONE) };
	const struct lt_total vals[] = { total(16, 1), total(32, 1) };
	struct snapshot *snap = build(keys, vals, 2, later(1));
	const struct stack_stat *s = stack_of(snap, PID_A, 7);
	const struct stack_stat *none = stack_of(snap, PID_A, LT_STACK_NONE);

	cr_assert_null(s->frames);
	cr_assert_eq(s->nr_frames, 0);
	cr_assert(s->truncated);
	cr_assert_null(none->frames);
	cr_assert_eq(none->nr_frames, 0);
	snapshot__free(snap);
}

Test(snapshot, process_that_does_not_exist_is_not_alive_and_unnamed)
{
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = { total(16, 1) };
	struct snapshot *snap = build(keys, vals, 1, later(1));
	const struct proc_stat *a = proc_of(snap, PID_A);

	cr_assert_not(a->alive);
	cr_assert_str_empty(a->comm);
	cr_assert_str_empty(a->exe);
	snapshot__free(snap);
}

Test(snapshot, added_process_is_reported_with_comm_and_exe_when_it_holds_nothing)
{
	char exe[PATH_MAX], comm[32] = "";
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = fopen("/proc/self/comm", "r");
	struct snapshot *snap;
	const struct proc_stat *me;

	cr_assert_gt(len, 0);
	exe[len] = '\0';
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';

	/* Without busy_only (-p, run mode), a traced process is listed even holding nothing. */
	struct snap_filter all = { .max_size = UINT64_MAX };
	struct snap_source *busy = fx.src;

	fx.src = snap_source__new(NULL, fx.syms, &all);
	cr_assert_eq(snap_source__add_process(fx.src, getpid()), 0);
	snap = build(NULL, NULL, 0, later(1));
	cr_assert_eq(snap->nr_procs, 1);
	me = &snap->procs[0];
	cr_assert_eq(me->pid, getpid());
	cr_assert(me->alive);
	cr_assert_str_eq(me->comm, comm);
	cr_assert_str_eq(me->exe, exe);
	cr_assert_eq(me->bytes, 0);
	cr_assert_eq(me->nr_stacks, 0);
	snapshot__free(snap);
	snap_source__free(fx.src);
	fx.src = busy;
}

/* After an exec the old image's totals (an older generation) are not reported. */
Test(snapshot, totals_of_an_older_generation_are_skipped)
{
	const struct lt_total_key keys[] = {
		{ .tgid = PID_A, .gen = 0, .stack_id = 1 },
		{ .tgid = PID_A, .gen = 1, .stack_id = 2 },
	};
	const struct lt_total vals[] = { total(100, 1), total(200, 2) };
	struct snapshot *snap = build(keys, vals, 2, later(1));

	cr_assert_eq(proc_of(snap, PID_A)->bytes, 100);
	cr_assert_eq(proc_of(snap, PID_A)->nr_stacks, 1);
	snapshot__free(snap);
}

Test(snapshot, elapsed_and_started_are_since_the_source_was_created)
{
	struct timespec before, after;
	struct snap_filter filter = { .max_size = UINT64_MAX };
	struct snap_source *src;
	struct snapshot *snap = calloc(1, sizeof(*snap));
	uint64_t t0, t1, now;

	clock_gettime(CLOCK_REALTIME, &before);
	t0 = tracer__now_ns();
	src = snap_source__new(NULL, fx.syms, &filter);
	t1 = tracer__now_ns();
	clock_gettime(CLOCK_REALTIME, &after);
	now = t1 + 3 * SEC;
	cr_assert_eq(snap_source__build(src, NULL, NULL, 0, now, snap), 0);
	cr_assert_geq(snap->elapsed_s, (now - t1) / 1e9);
	cr_assert_leq(snap->elapsed_s, (now - t0) / 1e9);
	cr_assert_geq(snap->started.tv_sec, before.tv_sec);
	cr_assert_leq(snap->started.tv_sec, after.tv_sec);
	snapshot__free(snap);
	snap_source__free(src);
}

Test(snapshot, first_growth_is_since_the_source_was_created)
{
	uint64_t now = later(4);
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = { total(8000, 8) };
	struct snapshot *snap = build(keys, vals, 1, now);
	double g = stack_of(snap, PID_A, 1)->growth;

	cr_assert_geq(g, 8000 / ((now - fx.created_before) / 1e9));
	cr_assert_leq(g, 8000 / ((now - fx.created_after) / 1e9));
	snapshot__free(snap);
}

Test(snapshot, growth_is_bytes_change_per_second_since_the_previous_build)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2) };
	const struct lt_total vals1[] = { total(1000, 1), total(5000, 5) };
	const struct lt_total vals2[] = { total(5000, 5), total(1000, 1) };
	struct snapshot *s1 = build(keys, vals1, 2, now1);
	struct snapshot *s2 = build(keys, vals2, 2, now2);

	cr_assert_eq(stack_of(s2, PID_A, 1)->growth, 2000.0);
	cr_assert_eq(stack_of(s2, PID_A, 2)->growth, -2000.0);
	snapshot__free(s1);
	snapshot__free(s2);
}

Test(snapshot, unchanged_stack_has_zero_growth)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 1) };
	const struct lt_total vals[] = { total(1000, 1) };
	struct snapshot *s1 = build(keys, vals, 1, now1);
	struct snapshot *s2 = build(keys, vals, 1, now2);

	cr_assert_eq(stack_of(s2, PID_A, 1)->growth, 0.0);
	snapshot__free(s1);
	snapshot__free(s2);
}

Test(snapshot, same_stack_id_in_two_processes_grows_separately)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 9), key(PID_B, 9) };
	const struct lt_total vals1[] = { total(100, 1), total(100, 1) };
	const struct lt_total vals2[] = { total(300, 3), total(900, 9) };
	struct snapshot *s1 = build(keys, vals1, 2, now1);
	struct snapshot *s2 = build(keys, vals2, 2, now2);

	cr_assert_eq(stack_of(s2, PID_A, 9)->growth, 100.0);
	cr_assert_eq(stack_of(s2, PID_B, 9)->growth, 400.0);
	snapshot__free(s1);
	snapshot__free(s2);
}

Test(snapshot, process_growth_is_the_sum_of_its_stacks_growth)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2), key(PID_B, 3) };
	const struct lt_total vals1[] = { total(1000, 1), total(1000, 1), total(10, 1) };
	const struct lt_total vals2[] = { total(3000, 3), total(600, 1), total(10, 1) };
	struct snapshot *s1 = build(keys, vals1, 3, now1);
	struct snapshot *s2 = build(keys, vals2, 3, now2);

	cr_assert_eq(proc_of(s2, PID_A)->growth, 1000.0 - 200.0);
	cr_assert_eq(proc_of(s2, PID_B)->growth, 0.0);
	snapshot__free(s1);
	snapshot__free(s2);
}

/* The BPF side keeps a stack's total at zero once its blocks are all freed. */
Test(snapshot, stack_freed_to_zero_then_growing_again_grows_from_zero)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC, now3 = now2 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2) };
	const struct lt_total vals1[] = { total(1000, 1), total(8, 1) };
	const struct lt_total vals2[] = { total(0, 0), total(8, 1) };
	const struct lt_total vals3[] = { total(3000, 3), total(8, 1) };
	struct snapshot *s1 = build(keys, vals1, 2, now1);
	struct snapshot *s2 = build(keys, vals2, 2, now2);
	struct snapshot *s3 = build(keys, vals3, 2, now3);

	cr_assert_eq(proc_of(s2, PID_A)->nr_stacks, 1);
	cr_assert_eq(stack_of(s3, PID_A, 1)->growth, 1500.0);
	snapshot__free(s1);
	snapshot__free(s2);
	snapshot__free(s3);
}

/* A stack absent from the totals holds nothing: when it comes back it grows from zero. */
Test(snapshot, stack_missing_then_back_grows_from_zero)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC, now3 = now2 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 2), key(PID_A, 1) };
	const struct lt_total vals1[] = { total(8, 1), total(1000, 1) };
	const struct lt_total vals3[] = { total(8, 1), total(3000, 3) };
	struct snapshot *s1 = build(keys, vals1, 2, now1);
	struct snapshot *s2 = build(keys, vals1, 1, now2); /* only stack 2 */
	struct snapshot *s3 = build(keys, vals3, 2, now3);

	cr_assert_eq(proc_of(s2, PID_A)->nr_stacks, 1);
	cr_assert_eq(stack_of(s3, PID_A, 1)->growth, 1500.0,
		     "growth %.1f: measured from the bytes of two builds ago",
		     stack_of(s3, PID_A, 1)->growth);
	snapshot__free(s1);
	snapshot__free(s2);
	snapshot__free(s3);
}

/* Process growth is the change of its outstanding bytes: 2000 -> 1000 in 2 s is -500/s. */
Test(snapshot, process_growth_counts_stacks_freed_to_zero)
{
	uint64_t now1 = later(1), now2 = now1 + 2 * SEC;
	const struct lt_total_key keys[] = { key(PID_A, 1), key(PID_A, 2) };
	const struct lt_total vals1[] = { total(1000, 1), total(1000, 1) };
	const struct lt_total vals2[] = { total(0, 0), total(1000, 1) };
	struct snapshot *s1 = build(keys, vals1, 2, now1);
	struct snapshot *s2 = build(keys, vals2, 2, now2);

	cr_assert_eq(proc_of(s2, PID_A)->bytes, 1000);
	cr_assert_eq(proc_of(s2, PID_A)->growth, -500.0, "process growth %.1f",
		     proc_of(s2, PID_A)->growth);
	snapshot__free(s1);
	snapshot__free(s2);
}

/* Builds of one stack of PID_A holding bytes[i] at second i + 1; the last snapshot is kept. */
static struct snapshot *series(const int64_t *bytes, int n)
{
	const struct lt_total_key keys[] = { key(PID_A, 7) };
	struct snapshot *snap = NULL;

	for (int i = 0; i < n; i++) {
		const struct lt_total vals[] = { total(bytes[i], bytes[i] ? 1 : 0) };

		snapshot__free(snap);
		snap = build(keys, vals, 1, later(i + 1));
	}
	return snap;
}

Test(snapshot, steady_rise_is_growing_with_its_slope)
{
	const int64_t bytes[] = { 100, 200, 300, 400 };
	struct snapshot *snap = series(bytes, 4);
	const struct stack_stat *s = stack_of(snap, PID_A, 7);

	cr_assert_eq(s->trend, TREND_GROWING);
	cr_assert_float_eq(s->slope, 100.0, 1e-6);
	snapshot__free(snap);
}

Test(snapshot, plateau_is_stable)
{
	const int64_t bytes[] = { 500, 800, 800, 800, 800 };
	struct snapshot *snap = series(bytes, 5);

	cr_assert_eq(stack_of(snap, PID_A, 7)->trend, TREND_STABLE);
	snapshot__free(snap);
}

Test(snapshot, steady_fall_is_shrinking)
{
	const int64_t bytes[] = { 900, 600, 300 };
	struct snapshot *snap = series(bytes, 3);
	const struct stack_stat *s = stack_of(snap, PID_A, 7);

	cr_assert_eq(s->trend, TREND_SHRINKING);
	cr_assert_float_eq(s->slope, -300.0, 1e-6);
	snapshot__free(snap);
}

Test(snapshot, two_snapshots_do_not_make_a_trend)
{
	const int64_t bytes[] = { 100, 200 };
	struct snapshot *snap = series(bytes, 2);

	cr_assert_eq(stack_of(snap, PID_A, 7)->trend, TREND_UNKNOWN);
	snapshot__free(snap);
}

/* A mapping as a snapshot has it after its pages were read: reserved bytes, resident ones. */
static struct stack_stat mapping(int64_t reserved, int64_t resident, int64_t lost)
{
	return (struct stack_stat){ .kind = STACK_MMAP,
				    .bytes = reserved,
				    .allocs = 1,
				    .has_resident = true,
				    .resident_bytes = resident,
				    .scanned = true,
				    .lost_bytes = lost,
				    .lost_allocs = lost > 0,
				    .trend = TREND_UNKNOWN,
				    .growth = 1 };
}

Test(snapshot, untouched_reservation_is_never_a_suspect)
{
	struct stack_stat s = mapping(1ll << 40, 0, 1ll << 40);

	cr_assert_not(stack_stat__suspect(&s), "lost and grown, but it holds nothing");
	s.resident_bytes = 4096;
	cr_assert(stack_stat__suspect(&s));
}

Test(snapshot, lost_mappings_rank_by_their_resident_pages)
{
	struct stack_stat big = mapping(64ll << 30, 4096, 64ll << 30);
	struct stack_stat small = mapping(16 << 20, 4 << 20, 16 << 20);
	struct stack_stat heap = { .kind = STACK_HEAP,
				   .bytes = 1 << 20,
				   .allocs = 1,
				   .scanned = true,
				   .lost_bytes = 1 << 20,
				   .lost_allocs = 1 };

	cr_assert_lt(stack_stat__cmp_suspicion(&small, &big), 0, "4 MiB held before 4 KiB");
	cr_assert_lt(stack_stat__cmp_suspicion(&heap, &big), 0, "1 MiB of heap before 4 KiB");
	cr_assert_gt(stack_stat__cmp_suspicion(&heap, &small), 0);
	cr_assert_eq(stack_stat__held_of(&big, big.lost_bytes), 4096);
	cr_assert_eq(stack_stat__held_of(&heap, heap.lost_bytes), 1 << 20);
}

Test(snapshot, fail_on_leak_counts_a_lost_mapping_by_its_resident_pages)
{
	struct stack_stat s[2] = { mapping(64ll << 30, 0, 64ll << 30),
				   mapping(16 << 20, 4 << 20, 16 << 20) };
	struct proc_stat p = { .stacks = s,
			       .nr_stacks = 2,
			       .scanned = true,
			       .lost_bytes = (64ll << 30) + (16 << 20) };

	cr_assert_eq(proc_stat__leaked(&p, LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT, NULL), 4 << 20);
}

/* What a stack holds, which growth and ranking go by: a mapping's resident pages once read. */
Test(snapshot, held_is_the_resident_pages_once_read_else_the_reservation)
{
	struct stack_stat s = mapping(1 << 30, 8 << 20, 0);

	cr_assert_eq(stack_stat__held(&s), 8 << 20);
	s.has_resident = false;
	cr_assert_eq(stack_stat__held(&s), 1 << 30, "unread: what it reserves");
}

/* A mapping whose frame 0 is symbol in module. */
/* A stack of the one frame f; its frame list is static: one such stack at a time. */
static struct stack_stat mapped_by(const struct frame *f)
{
	static const struct frame *only[1];
	struct stack_stat s = { .kind = STACK_MMAP,
				.bytes = 1 << 20,
				.allocs = 1,
				.frames = only,
				.nr_frames = 1,
				.trend = TREND_GROWING,
				.scanned = true,
				.lost_bytes = 1 << 20,
				.lost_allocs = 1 };

	only[0] = f;
	s.allocator = stack_stat__tell_allocator(&s); /* as a snapshot keeps it */
	return s;
}

Test(snapshot, mappings_of_allocators_code_are_the_allocators_own)
{
	const struct frame glibc = { .symbol = "allocate_stack",
				     .module = "/usr/lib/x86_64-linux-gnu/libc.so.6" };
	const struct frame je = { .symbol = "je_pages_map", .module = "/usr/lib/libjemalloc.so.2" };
	const struct frame tc = { .symbol = "TCMalloc_SystemAlloc",
				  .module = "/usr/lib/libtcmalloc_minimal.so.4" };
	const struct frame go = { .symbol = "x_cgo_mmap", .module = "/srv/app" };
	const struct frame prog = { .symbol = "reserve", .module = "/srv/libcache.so" };
	struct stack_stat s = mapped_by(&glibc);
	struct proc_stat p = { .stacks = &s,
			       .nr_stacks = 1,
			       .scanned = true,
			       .lost_bytes = 1 << 20 };

	cr_assert_str_eq(stack_stat__tell_allocator(&s), "glibc");
	cr_assert_not(stack_stat__suspect(&s), "lost and growing, but glibc's own");
	cr_assert_eq(proc_stat__leaked(&p, LEAK_KIND_DEFINITE, NULL), 0);
	s = mapped_by(&je);
	cr_assert_str_eq(stack_stat__tell_allocator(&s), "jemalloc");
	s = mapped_by(&tc);
	cr_assert_str_eq(stack_stat__tell_allocator(&s), "tcmalloc");
	s = mapped_by(&go);
	cr_assert_str_eq(stack_stat__tell_allocator(&s), "go");
	s = mapped_by(&prog);
	cr_assert_null(stack_stat__tell_allocator(&s), "libcache.so is not libc");
	cr_assert(stack_stat__suspect(&s));
	cr_assert_eq(proc_stat__leaked(&p, LEAK_KIND_DEFINITE, NULL), 1 << 20);
	s = mapped_by(&glibc);
	s.kind = STACK_HEAP; /* a block malloc handed out: the program's */
	cr_assert_null(stack_stat__tell_allocator(&s));
}
