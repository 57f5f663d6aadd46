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
 * A cgo call's stack, whole: FN in C with its exact bytes and allocations, cgo's C
 * wrapper (_cgo_<hash>_Cfunc_FN), Go's switch to the system stack and its caller
 * (runtime.asmcgocall.abi0, runtime.cgocall), cgo's Go stub (main._Cfunc_FN.abi0), then
 * the Go functions the fixture printed as Go's own runtime.Callers sees them ("chain FN
 * ...") down to runtime.goexit, where the stack ends: not truncated. Go names its
 * assembly functions without the ".abi0" that their ELF symbols carry.
 */
static void assert_cgo_stack(json_t *proc, const char *out, const char *fn, long long bytes,
			     long long allocs)
{
	char want[64], line[512], *save = NULL, *go;
	struct stack_sum sum = stack__sum(proc, fn, "heap");
	json_t *stack = stack__find(proc, fn, "heap");
	const char *sym, *at;
	size_t i = 5, n;

	cr_assert_eq(sum.bytes, bytes, "%s: %lld bytes", fn, sum.bytes);
	cr_assert_eq(sum.allocs, allocs, "%s: %lld allocations", fn, sum.allocs);
	cr_assert_eq(sum.stacks, 1, "%s: %d stacks", fn, sum.stacks);
	cr_assert_not(json_is_true(json_object_get(stack, "truncated")), "%s: truncated", fn);
	sym = stack__symbol(stack, 1);
	snprintf(want, sizeof(want), "_Cfunc_%s", fn);
	cr_assert(sym && !strncmp(sym, "_cgo_", 5) && strlen(sym) > strlen(want) &&
			  !strcmp(sym + strlen(sym) - strlen(want), want),
		  "frame 1: %s", sym ?: "(none)");
	snprintf(want, sizeof(want), "main._Cfunc_%s.abi0", fn);
	stack__assert_frames(stack, 2,
			     (const char *const[]){ "runtime.asmcgocall.abi0", "runtime.cgocall",
						    want, NULL },
			     false);
	snprintf(line, sizeof(line), "chain %s ", fn);
	at = strstr(out, line);
	cr_assert_not_null(at, "no chain of %s in: %s", fn, out);
	n = strcspn(at, "\n");
	cr_assert_lt(n, sizeof(line));
	memcpy(line, at, n);
	line[n] = '\0';
	strtok_r(line, " ", &save);
	strtok_r(NULL, " ", &save);
	while ((go = strtok_r(NULL, " ", &save))) {
		sym = stack__symbol(stack, i) ?: "(none)";
		snprintf(want, sizeof(want), "%s.abi0", go);
		cr_assert(!strcmp(sym, go) || !strcmp(sym, want), "%s: frame %zu is %s, Go says %s",
			  fn, i, sym, go);
		i++;
	}
	cr_assert_str_eq(stack__symbol(stack, i - 1) ?: "(none)", "runtime.goexit.abi0");
	cr_assert_eq(json_array_size(json_object_get(stack, "frames")), i, "%s: frame %zu is %s",
		     fn, i, stack__symbol(stack, i) ?: "(none)");
	assert_all_named(stack);
}

/*
 * Go calling C: the C functions that leak, called from the main goroutine and from
 * another, each walked past Go's switch to the system stack back into the goroutine's
 * Go frames, every frame named.
 */
static void go_cgo_frames(const char *unwind)
{
	const char *const opts[] = { "--unwind", unwind, NULL };
	char *exe = built_by("leaky_cgo", "go", "golang-go");
	struct run_result r;
	json_t *snap, *proc;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, NULL, &r);
	cr_assert_not_null(strstr(r.out, "truth leak_c 640 10\n"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "truth leak_c_goroutine 160 5\n"), "%s", r.out);
	proc = snapshot__process_by_exe(snap, exe);
	assert_cgo_stack(proc, r.out, "leak_c", 640, 10);
	assert_cgo_stack(proc, r.out, "leak_c_goroutine", 160, 5);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

Test(languages, go_cgo_frames_are_named, .timeout = 120)
{
	go_cgo_frames("dwarf");
}

Test(languages, go_cgo_frames_auto, .timeout = 120)
{
	go_cgo_frames("auto");
}
