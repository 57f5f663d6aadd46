// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The allocator each process really uses: jemalloc and tcmalloc preloaded, and
 * C++'s operator new and delete from libstdc++, each exact and counted once.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define TCMALLOC "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"

/* leaky-nofp under an allocator loaded with LD_PRELOAD: the same exact answers as under libc. */
static void exact_under(const char *lib)
{
	const char *args[] = { "run",	  "malloc", "calloc", "realloc", "posix_memalign",
			       "threads", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	cr_assert_eq(setenv("LD_PRELOAD", lib, 1), 0);
	char *exe = env__fixture("leaky-nofp");
	json_t *snap = trace__run(&t, exe, NULL, args, &r);
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);

	unsetenv("LD_PRELOAD");
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").bytes, 100000);
	cr_assert_eq(stack__sum(proc, "leak_malloc", "heap").allocs, 1000);
	cr_assert_eq(stack__sum(proc, "leak_calloc", "heap").bytes, 246000);
	cr_assert_eq(stack__sum(proc, "leak_realloc", "heap").bytes, 253777);
	cr_assert_eq(stack__sum(proc, "leak_realloc", "heap").allocs, 61);
	cr_assert_eq(stack__sum(proc, "leak_posix_memalign", "heap").bytes, 30000);
	cr_assert_eq(stack__sum(proc, "thread_main", "heap").bytes, 64000);
	cr_assert_eq(stack__sum(proc, "thread_main", "heap").allocs, 1000);
	cr_assert_eq(stack__sum(proc, "churn", NULL).stacks, 0);
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

Test(allocators, jemalloc_preloaded_is_exact, .timeout = 60)
{
	exact_under(JEMALLOC);
}

Test(allocators, tcmalloc_preloaded_is_exact, .timeout = 60)
{
	exact_under(TCMALLOC);
}

/* new int[25] x 100 and new Node x 50: frame 0 is the caller of new, each block once. */
static void cxx_exact(const char *fixture)
{
	const char *args[] = { "run", NULL };
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	char *exe = env__fixture(fixture);
	json_t *snap = trace__run(&t, exe, NULL, args, &r);
	json_t *proc = json_array_get(json_object_get(snap, "processes"), 0);

	cr_assert_eq(stack__sum(proc, "leak_array()", "heap").bytes, 10000);
	cr_assert_eq(stack__sum(proc, "leak_array()", "heap").allocs, 100);
	cr_assert_eq(stack__sum(proc, "leak_nodes()", "heap").bytes, 3200);
	cr_assert_eq(stack__sum(proc, "leak_nodes()", "heap").allocs, 50);
	cr_assert_eq(stack__sum(proc, "operator new(unsigned long)", NULL).stacks, 0);
	cr_assert_eq(stack__sum(proc, "churn_cxx()", NULL).stacks, 0);
	/* sized delete calls delete calls free: one block, one free. */
	cr_assert_eq(json__int(json_object_get(snap, "lost"), "frees_unmatched"), 0);
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

Test(allocators, cxx_new_and_delete_without_frame_pointers, .timeout = 60)
{
	cxx_exact("leaky_cxx-nofp");
}

Test(allocators, cxx_new_and_delete_with_frame_pointers, .timeout = 60)
{
	cxx_exact("leaky_cxx-fp");
}
