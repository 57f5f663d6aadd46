// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Stack frames: frame 0 is always the allocator's caller, frame pointers give
 * the whole walk, and without them no garbage frames are shown.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* A symbol that names a function, not a placeholder for an address that did not resolve. */
static bool is_function(const char *sym)
{
	return sym && sym[0] && sym[0] != '[' && strncmp(sym, "0x", 2) != 0;
}

/*
 * FIXTURE ARGS... traced in run mode: the only heap stack whose frame 0 is FRAME0,
 * from *SNAP (the caller's to json_decref).
 */
static json_t *only_stack(const char *fixture, const char *const args[], const char *frame0,
			  json_t **snap)
{
	char *exe = env__fixture(fixture);
	struct run_result r;
	struct stack_sum sum;
	struct tmpdir t;
	json_t *proc;

	tmpdir__new(&t);
	*snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(*snap, exe);
	sum = stack__sum(proc, frame0, "heap");
	cr_assert_eq(sum.stacks, 1, "%s: %d stacks, expected 1", frame0, sum.stacks);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
	return stack__find(proc, frame0, "heap");
}

Test(frames, frame0_is_a_function_in_every_stack_without_frame_pointers, .timeout = 60)
{
	const char *args[] = {
		"run",		"malloc",	  "big",	   "calloc",   "realloc",
		"reallocarray", "posix_memalign", "aligned_alloc", "memalign", "valloc",
		"pvalloc",	"mmap",		  "threads",	   "churn",    NULL
	};
	char *exe = env__fixture("leaky-nofp");
	json_t *snap, *proc, *stack;
	struct run_result r;
	struct tmpdir t;
	size_t i;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert_gt(json_array_size(json_object_get(proc, "stacks")), 0, "no stacks at all");
	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *sym = stack__symbol(stack, 0);
		json_t *frame = json_array_get(json_object_get(stack, "frames"), 0);
		const char *module = json_string_value(json_object_get(frame, "module"));

		cr_assert(is_function(sym),
			  "stack %zu (%lld bytes): frame 0 is '%s', not a function", i,
			  json__int(stack, "bytes"), sym ? sym : "(none)");
		cr_assert(module && module[0] == '/', "stack %zu (%s): frame 0 without a module", i,
			  sym);
	}
	json_decref(snap);
	free(exe);
	run__free(&r);
	tmpdir__free(&t);
}

Test(frames, malloc_stack_walks_to_main_with_frame_pointers, .timeout = 60)
{
	const char *args[] = { "run", "malloc", NULL };
	json_t *snap, *stack = only_stack("leaky-fp", args, "leak_malloc", &snap);

	stack__assert_frames(stack, 0,
			     (const char *const[]){ "leak_malloc", "run_scenarios", "main", NULL },
			     false);
	json_decref(snap);
}

/* A stack of 44 frames over 25 KiB of stack: every frame, in order, to main. */
Test(frames, deep_stack_walks_whole_with_frame_pointers, .timeout = 60)
{
	const char *args[] = { "run", "deep", NULL };
	const char *want[42] = { NULL };
	json_t *snap, *stack = only_stack("leaky-fp", args, "descend", &snap);

	cr_assert_eq(json__int(stack, "bytes"), 321, "descend: %lld bytes, expected 321",
		     json__int(stack, "bytes"));
	for (size_t i = 0; i <= 40; i++)
		want[i] = "descend";
	stack__assert_frames(stack, 0, want, false);
	stack__assert_frames(stack, 41,
			     (const char *const[]){ "leak_deep", "run_scenarios", "main", NULL },
			     false);
	json_decref(snap);
}

/*
 * Without frame pointers the walk past leak_malloc is not sound: the stack ends
 * there (or is marked truncated), and any frame shown must be the real caller.
 */
Test(frames, malloc_stack_has_no_garbage_frames_without_frame_pointers, .timeout = 60)
{
	const char *args[] = { "run", "malloc", NULL };
	const char *callers[] = { "leak_malloc", "run_scenarios", "main" };
	json_t *snap, *stack = only_stack("leaky-nofp", args, "leak_malloc", &snap), *truncated;
	size_t n;

	n = json_array_size(json_object_get(stack, "frames"));
	truncated = json_object_get(stack, "truncated");
	cr_assert(json_is_boolean(truncated), "stack without a boolean \"truncated\"");
	for (size_t i = 1; i < n; i++) {
		const char *sym = stack__symbol(stack, i);

		cr_assert(is_function(sym), "frame %zu of %zu is '%s'", i, n, sym ? sym : "(none)");
		if (i < 3)
			cr_assert_str_eq(sym, callers[i],
					 "frame %zu: '%s', expected %s (garbage "
					 "from an unsound walk?)",
					 i, sym, callers[i]);
	}
	cr_assert(n == 1 || json_is_true(truncated) || n >= 3,
		  "the stack stops after %zu frames without being marked truncated", n);
	json_decref(snap);
}
