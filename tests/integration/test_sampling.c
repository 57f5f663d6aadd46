// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --sample-bytes: Poisson sampling over bytes gives unbiased estimates. The
 * fixture leaks 10 MiB (5120 x 1 KiB and 80 x 64 KiB) from leak_tenmib. With a
 * mean of 512 KiB between samples, one estimate's standard error is
 * sqrt(sum s^2 (1/p - 1)) = 2.3 MB, 22% of the leak, whatever the seed: one run
 * is held to 3.5 standard errors, the mean of twelve seeds (6.4%) to 10%.
 */
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define LEAK 10485760LL

static long long estimate(unsigned int seed)
{
	char seedarg[16];
	const char *opts[] = { "--sample-bytes", "512K", "--sample-seed", seedarg, NULL };
	const char *args[] = { "run", "tenmib", NULL };
	struct run_result r;
	struct tmpdir t;
	long long bytes;

	snprintf(seedarg, sizeof(seedarg), "%u", seed);
	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);
	json_t *sampling = json_object_get(snap, "sampling");

	cr_assert_str_eq(json_string_value(json_object_get(sampling, "mode")), "bytes");
	cr_assert_eq(json__int(sampling, "mean_bytes"), 524288);
	bytes = stack__sum(json_array_get(json_object_get(snap, "processes"), 0), "leak_tenmib",
			   "heap")
			.bytes;
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
	return bytes;
}

#define STDERR 2310000LL

Test(sampling, one_seed_estimate_is_within_its_error_and_repeatable, .timeout = 60)
{
	long long bytes = estimate(1);

	cr_assert(llabs(bytes - LEAK) <= 35 * STDERR / 10, "estimate %lld for %lld", bytes, LEAK);
	/* The same seed gives the same samples. */
	cr_assert_eq(estimate(1), bytes);
}

Test(sampling, estimates_are_unbiased_over_twelve_seeds, .timeout = 180)
{
	long long sum = 0;

	for (unsigned int seed = 1; seed <= 12; seed++)
		sum += estimate(seed);
	cr_assert(llabs(sum / 12 - LEAK) <= LEAK / 10, "mean estimate %lld for %lld", sum / 12,
		  LEAK);
}

/* Mappings are not sampled: cut at their head, tail and middle, they stay exact. */
Test(sampling, mappings_stay_exact_when_sampling, .timeout = 60)
{
	const char *opts[] = { "--sample-bytes", "4K", "--sample-seed", "1", NULL };
	const char *args[] = { "run", "mmap", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);
	struct stack_sum s = stack__sum(json_array_get(json_object_get(snap, "processes"), 0),
					"leak_mmap", "mmap");

	cr_assert_eq(s.bytes, 237568);
	cr_assert_eq(s.allocs, 5);
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

/* The estimate of leak_array's 100 x new int[25] (10000 bytes) at a mean of 200 bytes. */
static long long cxx_estimate(unsigned int seed)
{
	char seedarg[16];
	const char *opts[] = { "--sample-bytes", "200", "--sample-seed", seedarg, NULL };
	const char *args[] = { "run", NULL };
	struct run_result r;
	struct tmpdir t;
	long long bytes;

	snprintf(seedarg, sizeof(seedarg), "%u", seed);
	tmpdir__new(&t);
	char *exe = env__fixture("leaky_cxx-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);

	bytes = stack__sum(json_array_get(json_object_get(snap, "processes"), 0), "leak_array()",
			   "heap")
			.bytes;
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
	return bytes;
}

/*
 * new[] jumps to new, which calls malloc. With uprobe sessions a new[] not
 * sampled skips its return probe, and the new it jumps to must not be drawn
 * again: the same seed gives the same samples with and without sessions, and
 * twelve seeds average to the leak (one estimate's standard error is 12%).
 */
Test(sampling, cxx_new_array_is_sampled_once_with_and_without_sessions, .timeout = 120)
{
	long long sum = 0, with;

	for (unsigned int seed = 1; seed <= 12; seed++)
		sum += cxx_estimate(seed);
	cr_assert(llabs(sum / 12 - 10000) <= 1500, "mean estimate %lld for 10000", sum / 12);
	with = cxx_estimate(1);
	setenv("LEAKTRACE_NO_SESSION", "1", 1);
	cr_assert_eq(cxx_estimate(1), with);
	unsetenv("LEAKTRACE_NO_SESSION");
}

/*
 * A call not sampled skips its return probe (uprobe sessions): the mmap that
 * glibc's malloc makes inside it for a big block must still count as the
 * allocator's, not as a mapping of the program's. At a mean of 1 GiB, the
 * 1234567-byte block is not sampled (seed 1).
 */
Test(sampling, mmap_inside_a_call_not_sampled_is_not_the_programs, .timeout = 60)
{
	const char *opts[] = { "--sample-bytes", "1G", "--sample-seed", "1", NULL };
	const char *args[] = { "run", "big", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, opts, args, &r);
	json_t *proc = snapshot__process_by_exe(snap, exe);
	struct stack_sum heap = stack__sum(proc, "leak_big", "heap");
	json_t *stack;
	size_t i;

	cr_assert_eq(heap.stacks, 0, "leak_big was sampled: %lld bytes", heap.bytes);
	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		cr_assert_str_neq(json_string_value(json_object_get(stack, "kind")), "mmap",
				  "an mmap stack from %s holds %lld bytes", stack__symbol(stack, 0),
				  json__int(stack, "bytes"));
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}
