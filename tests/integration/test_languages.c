// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Programs in the other languages the allocator serves: Rust (legacy and v0 symbol
 * mangling) with its names demangled, and Go calling C (cgo) with its frames named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(languages, .fini = procs__cleanup);

/*
 * Fixture NAME, built by COMPILER; the test is skipped only when that compiler is not
 * installed (package PKG), so could not have built it, and never under CI.
 */
static char *built_by(const char *name, const char *compiler, const char *pkg)
{
	char path[PATH_MAX], cmd[64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", getenv("FIXTURES") ? getenv("FIXTURES") : ".", name);
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", compiler);
	/* CI installs every compiler (tools/install-deps): a missing one is a failure there. */
	if (stat(path, &st) && system(cmd) && getenv("CI"))
		cr_assert_fail("%s is not built: %s is not installed under CI", name, compiler);
	if (stat(path, &st) && system(cmd))
		cr_skip_test("%s is not built: %s is not installed (apt-get install %s)", name,
			     compiler, pkg);
	return env__fixture(name);
}

/* Whether every frame of STACK has a name, and none is left mangled. */
static void assert_all_named(json_t *stack)
{
	json_t *frames = json_object_get(stack, "frames"), *f;
	size_t i;

	json_array_foreach(frames, i, f) {
		const char *sym = json_string_value(json_object_get(f, "symbol"));

		cr_assert_not_null(sym, "frame %zu has no name", i);
		cr_assert(strncmp(sym, "_R", 2) && strncmp(sym, "_Z", 2), "frame %zu: %s", i, sym);
	}
}

/*
 * The fixture's leaks from its own functions, each frame 0 with its exact bytes and
 * allocations, called from leaky_rust::main, the whole stack walked and demangled down
 * to _start; the leak through Box and Vec below std's allocation functions.
 */
static void assert_rust_names(const char *fixture, const char *keep, const char *raw_prefix)
{
	const char *const opts[] = { "--unwind", "dwarf", NULL };
	const char *const raw_opts[] = { "--unwind", "dwarf", "--no-demangle", NULL };
	char *exe = built_by(fixture, "rustc", "rustc");
	struct run_result r;
	struct stack_sum sum;
	long long boxed = 0, boxed_allocs = 0;
	json_t *snap, *proc, *stack;
	struct tmpdir t;
	size_t i, n;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, NULL, &r);
	proc = snapshot__process_by_exe(snap, exe);
	sum = stack__sum(proc, "leaky_rust::inner::leak_bytes", "heap");
	cr_assert_eq(sum.bytes, 640);
	cr_assert_eq(sum.allocs, 10);
	sum = stack__sum(proc, keep, "heap");
	cr_assert_eq(sum.bytes, 500, "%s: %lld bytes", keep, sum.bytes);
	cr_assert_eq(sum.allocs, 5);
	cr_assert_not_null(strstr(r.out, keep), "%s", r.out);
	stack = stack__find(proc, "leaky_rust::inner::leak_bytes", "heap");
	cr_assert_str_eq(stack__symbol(stack, 1), "leaky_rust::main");
	n = json_array_size(json_object_get(stack, "frames"));
	cr_assert_str_eq(stack__symbol(stack, n - 1), "_start");
	cr_assert(json_is_false(json_object_get(stack, "truncated")));
	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		assert_all_named(stack);
		for (size_t j = 0; stack__symbol(stack, j); j++) {
			if (strcmp(stack__symbol(stack, j), "leaky_rust::leak_boxed"))
				continue;
			cr_assert_str_eq(stack__symbol(stack, j + 1), "leaky_rust::main");
			boxed += json__int(stack, "bytes");
			boxed_allocs += json__int(stack, "allocs");
		}
	}
	cr_assert_eq(boxed, 144);
	cr_assert_eq(boxed_allocs, 3);
	json_decref(snap);
	run__free(&r);

	/* The same frame raw: the fixture was built with the mangling the test means. */
	snap = trace__run(&t, exe, raw_opts, NULL, &r);
	proc = snapshot__process_by_exe(snap, exe);
	stack = stack__find(proc, "leaky_rust::inner::leak_bytes", "heap");
	cr_assert_null(stack);
	json_array_foreach(json_object_get(proc, "stacks"), i, stack)
		if (json__int(stack, "bytes") == 64 || json__int(stack, "bytes") == 640)
			cr_assert(!strncmp(stack__symbol(stack, 0), raw_prefix, strlen(raw_prefix)),
				  "%s", stack__symbol(stack, 0));
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

Test(languages, rust_legacy_names_are_demangled, .timeout = 120)
{
	assert_rust_names("leaky_rust-legacy", "leaky_rust::Holder<u64>::keep",
			  "_ZN10leaky_rust5inner10leak_bytes17h");
}

Test(languages, rust_v0_names_are_demangled, .timeout = 120)
{
	assert_rust_names("leaky_rust-v0", "<leaky_rust::Holder<u64>>::keep", "_RNvNtCs");
}

/*
 * Go calling C: the C function that leaks is frame 0, with its exact bytes, then cgo's
 * wrapper and the Go runtime's switch to the system stack, each named; the walk ends
 * there (Go's own code has no unwind tables and pushes no frame pointer at that switch).
 */
Test(languages, go_cgo_frames_are_named, .timeout = 120)
{
	const char *const opts[] = { "--unwind", "dwarf", NULL };
	char *exe = built_by("leaky_cgo", "go", "golang-go");
	struct run_result r;
	struct stack_sum sum;
	json_t *snap, *proc, *stack;
	const char *wrapper;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, NULL, &r);
	cr_assert_not_null(strstr(r.out, "truth leak_c 640 10\n"), "%s", r.out);
	proc = snapshot__process_by_exe(snap, exe);
	sum = stack__sum(proc, "leak_c", "heap");
	cr_assert_eq(sum.bytes, 640);
	cr_assert_eq(sum.allocs, 10);
	stack = stack__find(proc, "leak_c", "heap");
	wrapper = stack__symbol(stack, 1);
	cr_assert_not_null(wrapper);
	cr_assert(!strncmp(wrapper, "_cgo_", 5) &&
			  !strcmp(wrapper + strlen(wrapper) - strlen("_Cfunc_leak_c"),
				  "_Cfunc_leak_c"),
		  "%s", wrapper);
	cr_assert_str_eq(stack__symbol(stack, 2), "runtime.asmcgocall.abi0");
	assert_all_named(stack);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}
