// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run mode (leaktrace -- COMMAND): exact bytes and counts of every allocator
 * function, the stacks they are reported under, and the command's stdio and exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

/*
 * Run "FIXTURE run SCENARIO" traced and assert that the stacks whose frame 0 is
 * FUNC hold exactly BYTES in ALLOCS allocations, all of KIND.
 */
static void assert_leak_exact(const char *fixture, const char *scenario, const char *func,
			      const char *kind, long long bytes, long long allocs)
{
	const char *args[] = { "run", scenario, NULL };
	struct run_result r;
	struct stack_sum sum, any;
	struct tmpdir t;
	char truth[128];
	char *exe;
	json_t *snap, *proc;

	tmpdir__new(&t);
	exe = env__fixture(fixture);
	snap = trace__run(&t, exe, NULL, args, &r);
	/* The fixture's own ground truth must be what this test expects. */
	snprintf(truth, sizeof(truth), "truth %s %lld %lld\n", func, bytes, allocs);
	cr_assert_not_null(strstr(r.out, truth), "%s run %s: expected '%s' on stdout, got '%s'",
			   fixture, scenario, truth, r.out);
	proc = snapshot__process_by_exe(snap, exe);
	sum = stack__sum(proc, func, kind);
	cr_assert_eq(sum.bytes, bytes, "%s run %s: %s %s bytes: got %lld, expected %lld", fixture,
		     scenario, func, kind, sum.bytes, bytes);
	cr_assert_eq(sum.allocs, allocs, "%s run %s: %s %s allocs: got %lld, expected %lld",
		     fixture, scenario, func, kind, sum.allocs, allocs);
	any = stack__sum(proc, func, NULL);
	cr_assert_eq(any.stacks, sum.stacks,
		     "%s run %s: %s has %d stacks of a kind other than %s (%lld bytes in all)",
		     fixture, scenario, func, any.stacks - sum.stacks, kind, any.bytes);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(run_mode, malloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "malloc", "leak_malloc", "heap", 100000, 1000);
}

Test(run_mode, calloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "calloc", "leak_calloc", "heap", 246000, 200);
}

Test(run_mode, realloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "realloc", "leak_realloc", "heap", 253777, 61);
}

Test(run_mode, reallocarray_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "reallocarray", "leak_reallocarray", "heap", 10000, 20);
}

Test(run_mode, posix_memalign_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "posix_memalign", "leak_posix_memalign", "heap", 30000, 30);
}

Test(run_mode, aligned_alloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "aligned_alloc", "leak_aligned_alloc", "heap", 25600, 40);
}

Test(run_mode, memalign_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "memalign", "leak_memalign", "heap", 12800, 50);
}

Test(run_mode, valloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "valloc", "leak_valloc", "heap", 50000, 10);
}

Test(run_mode, pvalloc_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "pvalloc", "leak_pvalloc", "heap", 50000, 10);
}

/* 3 whole 16-page mappings, and one cut to 10 pages in 2 pieces (4 KiB pages). */
Test(run_mode, mmap_leak_exact, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "mmap", "leak_mmap", "mmap", 237568, 5);
}

/* 4 threads, each 250 blocks of 64 bytes, allocated in thread_main. */
Test(run_mode, threads_leak_exact_over_four_threads, .timeout = 60)
{
	assert_leak_exact("leaky-nofp", "threads", "thread_main", "heap", 64000, 1000);
}

Test(run_mode, malloc_leak_exact_with_frame_pointers, .timeout = 60)
{
	assert_leak_exact("leaky-fp", "malloc", "leak_malloc", "heap", 100000, 1000);
}

Test(run_mode, realloc_leak_exact_with_frame_pointers, .timeout = 60)
{
	assert_leak_exact("leaky-fp", "realloc", "leak_realloc", "heap", 253777, 61);
}

Test(run_mode, mmap_leak_exact_with_frame_pointers, .timeout = 60)
{
	assert_leak_exact("leaky-fp", "mmap", "leak_mmap", "mmap", 237568, 5);
}

Test(run_mode, threads_leak_exact_with_frame_pointers, .timeout = 60)
{
	assert_leak_exact("leaky-fp", "threads", "thread_main", "heap", 64000, 1000);
}

/* glibc serves 1234567 bytes with mmap: it must count once, as heap, not again as mmap. */
Test(run_mode, big_malloc_counts_once_as_heap, .timeout = 60)
{
	const char *args[] = { "run", "big", NULL };
	char *exe = env__fixture("leaky-nofp");
	json_t *snap, *proc, *stack;
	struct run_result r;
	struct stack_sum sum;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	sum = stack__sum(proc, "leak_big", "heap");
	cr_assert_eq(sum.bytes, 1234567, "leak_big heap bytes: got %lld", sum.bytes);
	cr_assert_eq(sum.allocs, 1, "leak_big heap allocs: got %lld", sum.allocs);
	sum = stack__sum(proc, "leak_big", "mmap");
	cr_assert_eq(sum.stacks, 0, "leak_big also has %d mmap stacks (%lld bytes)", sum.stacks,
		     sum.bytes);
	/* Nor under an allocator-internal frame. */
	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *kind = json_string_value(json_object_get(stack, "kind"));

		if (kind && !strcmp(kind, "mmap"))
			cr_assert_lt(json__int(stack, "bytes"), 1234567,
				     "an mmap stack from %s holds %lld bytes: the big block "
				     "counted twice",
				     stack__symbol(stack, 0), json__int(stack, "bytes"));
	}
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(run_mode, freed_blocks_count_zero, .timeout = 60)
{
	const char *args[] = { "run", "churn", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct stack_sum sum;
	struct tmpdir t;
	json_t *snap;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	sum = stack__sum(snapshot__process_by_exe(snap, exe), "churn", NULL);
	cr_assert_eq(sum.stacks, 0,
		     "churn frees all it allocates, yet %d stacks hold %lld bytes "
		     "in %lld allocations",
		     sum.stacks, sum.bytes, sum.allocs);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(run_mode, nothing_lost_for_malloc, .timeout = 60)
{
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *lost;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	lost = json_object_get(snap, "lost");
	cr_assert(json_is_object(lost), "snapshot without a \"lost\" object");
	cr_assert_eq(json__int(lost, "frees_unmatched"), 0, "frees_unmatched: got %lld",
		     json__int(lost, "frees_unmatched"));
	cr_assert_eq(json__int(lost, "allocs_untracked"), 0, "allocs_untracked: got %lld",
		     json__int(lost, "allocs_untracked"));
	cr_assert_eq(json__int(lost, "stacks_dropped"), 0, "stacks_dropped: got %lld",
		     json__int(lost, "stacks_dropped"));
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(run_mode, process_not_alive_in_final_snapshot, .timeout = 60)
{
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *alive;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	alive = json_object_get(snapshot__process_by_exe(snap, exe), "alive");
	cr_assert(json_is_boolean(alive), "process without a boolean \"alive\"");
	cr_assert(json_is_false(alive), "the command exited, yet \"alive\" is true");
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(run_mode, exit_status_is_the_commands, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	char *argv[] = { (char *)env__leaktrace(), "-q", "--", exe, "exit", "7", NULL };
	struct run_result r;

	run__cmd(argv, NULL, RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 7, "exit code: got %d (status 0x%x), stderr:\n%s",
		     run__exit_code(&r), r.status, r.err);
	free(exe);
	run__free(&r);
}

Test(run_mode, stdio_passes_through, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	char *argv[] = { (char *)env__leaktrace(), "-q", "--", exe, "echo", NULL };
	struct run_result r;

	run__cmd(argv, "hello\n", RUN_TIMEOUT_S, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit code: got %d, stderr:\n%s", run__exit_code(&r),
		     r.err);
	cr_assert_eq(r.out_len, 6, "stdout: %zu bytes '%s', expected 'hello\\n'", r.out_len, r.out);
	cr_assert_str_eq(r.out, "hello\n", "stdout: '%s', expected 'hello\\n'", r.out);
	/* The final report goes to stderr, out of the command's way. */
	cr_assert_not_null(strstr(r.err, "leaky-nofp"), "no final report on stderr:\n%s", r.err);
	free(exe);
	run__free(&r);
}

static void assert_size_filter(const char *opt, const char *size, long long malloc_bytes,
			       long long big_bytes)
{
	const char *opts[] = { opt, size, NULL };
	const char *args[] = { "run", "malloc", "big", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct stack_sum m, b;
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	m = stack__sum(proc, "leak_malloc", NULL);
	b = stack__sum(proc, "leak_big", NULL);
	cr_assert_eq(m.bytes, malloc_bytes, "%s %s: leak_malloc bytes: got %lld, expected %lld",
		     opt, size, m.bytes, malloc_bytes);
	cr_assert_eq(m.allocs, malloc_bytes / 100, "%s %s: leak_malloc allocs: got %lld", opt, size,
		     m.allocs);
	cr_assert_eq(b.bytes, big_bytes, "%s %s: leak_big bytes: got %lld, expected %lld", opt,
		     size, b.bytes, big_bytes);
	cr_assert_eq(b.allocs, big_bytes ? 1 : 0, "%s %s: leak_big allocs: got %lld", opt, size,
		     b.allocs);
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(filters, min_size_drops_smaller_blocks, .timeout = 60)
{
	assert_size_filter("--min-size", "200", 0, 1234567);
}

Test(filters, max_size_drops_larger_blocks, .timeout = 60)
{
	assert_size_filter("--max-size", "150", 100000, 0);
}

/* Bytes and blocks of every stack of PROC of KIND, those without a stack too. */
static struct stack_sum kind__sum(json_t *proc, const char *kind)
{
	struct stack_sum sum = { 0 };
	json_t *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		if (strcmp(json_string_value(json_object_get(stack, "kind")), kind))
			continue;
		sum.bytes += json__int(stack, "bytes");
		sum.allocs += json__int(stack, "allocs");
		sum.stacks++;
	}
	return sum;
}

/*
 * Stacks dropped at a full --max-stacks leave their blocks without a stack, but
 * of their kind: mappings never count as heap (cc1plus's garbage-collected pages
 * were 37 MB of "heap" in use).
 */
Test(run_mode, dropped_stacks_keep_heap_and_mappings_apart, .timeout = 60)
{
	const char *opts[] = { "--max-stacks", "64", NULL };
	const char *args[] = { "run", "stacks", "mmap", NULL };
	long long pg = sysconf(_SC_PAGESIZE), mmap_bytes = 3 * 16 * pg + 10 * pg;
	struct stack_sum heap, maps, whole_heap;
	struct run_result r, whole;
	json_t *snap, *all;
	struct tmpdir t;
	char *exe;

	tmpdir__new(&t);
	exe = env__fixture("leaky-nofp");
	snap = trace__run(&t, exe, opts, args, &r);
	cr_assert(json__int(json_object_get(snap, "lost"), "stacks_dropped") > 0,
		  "the fixture's 100 stacks did not fill --max-stacks 64");
	heap = kind__sum(snapshot__process_by_exe(snap, exe), "heap");
	maps = kind__sum(snapshot__process_by_exe(snap, exe), "mmap");
	cr_assert_eq(maps.bytes, mmap_bytes, "mappings: %lld bytes, expected %lld", maps.bytes,
		     mmap_bytes);
	cr_assert_eq(maps.allocs, 5, "mappings: %lld, expected 5", maps.allocs);
	/* The heap holds what it holds with every stack stored. */
	all = trace__run(&t, exe, NULL, args, &whole);
	whole_heap = kind__sum(snapshot__process_by_exe(all, exe), "heap");
	cr_assert_eq(heap.bytes, whole_heap.bytes, "heap: %lld bytes, %lld with every stack",
		     heap.bytes, whole_heap.bytes);
	cr_assert_eq(heap.allocs, whole_heap.allocs);
	json_decref(all);
	json_decref(snap);
	free(exe);
	run__free(&whole);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * CO-RE's types cannot be written for libbpf (here a file size limit makes the
 * memfd refuse them): one warning, libbpf reads the kernel's BTF itself, and the
 * run's report is whole, source lines and all.
 */
Test(run_mode, co_re_types_not_written_warn_once_and_trace_all_the_same, .timeout = 60)
{
	char *exe = env__fixture("leaky-fp");
	char *argv[] = { "sh",
			 "-c",
			 "ulimit -f 16; trap '' XFSZ; exec \"$0\" -q -- \"$1\" run malloc",
			 (char *)env__leaktrace(),
			 exe,
			 NULL };
	const char *warn = "leaktrace: CO-RE: cannot write the kernel's types for libbpf (File too "
			   "large): it reads all of the kernel's BTF instead, a slower start\n";
	struct run_result r;

	run__cmd(argv, NULL, 50, &r);
	cr_assert_eq(run__exit_code(&r), 0, "exit %d, stderr:\n%s", run__exit_code(&r), r.err);
	cr_assert(strstr(r.out, "truth leak_malloc 100000 1000\n"), "stdout:\n%s", r.out);
	cr_assert(strstr(r.err, warn) == r.err && !strstr(r.err + strlen(warn), "CO-RE"),
		  "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "(104,096 bytes in 1,001 allocations)"), "stderr:\n%s", r.err);
	/* Its source lines too: the limit refuses leaktrace's DWARF image, read from the file instead. */
	cr_assert(strstr(r.err, " 100,000 ") && strstr(r.err, " leak_malloc (leaky.c:"),
		  "stderr:\n%s", r.err);
	free(exe);
	run__free(&r);
}
