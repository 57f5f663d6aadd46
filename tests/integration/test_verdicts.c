// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Run mode's verdicts against the oracle: the same fixture under valgrind
 * --leak-check=full, its LEAK SUMMARY parsed, every kind equal byte and block
 * exact (definitely, indirectly and possibly lost, still reachable, in use at
 * exit), under glibc, jemalloc and tcmalloc; and each fixture's own truth per
 * function. The cases are those where roots are easy to get wrong: a freed
 * array of pointers, dead threads' caches, stale pointers in freed memory and
 * below the stack pointer, interior pointers, C++'s new[] and bases.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define TCMALLOC "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"

enum kind { DEFINITE, INDIRECT, POSSIBLE, REACHABLE, IN_USE, NR_KINDS };

static const char *const kind_name[] = { "definite", "indirect", "possible", "reachable",
					 "in use" };
/* valgrind's labels, and leaktrace's JSON fields, for each kind. */
static const char *const vg_label[] = { "definitely lost:", "indirectly lost:", "possibly lost:",
					"still reachable:", "in use at exit:" };
static const char *const field[][2] = {
	{ "lost_bytes", "lost_allocs" },
	{ "indirect_bytes", "indirect_allocs" },
	{ "possible_bytes", "possible_allocs" },
	{ "reachable_bytes", "reachable_allocs" },
	{ "bytes", "allocs" },
};

struct figure {
	long long bytes, blocks;
};

/* "==PID==    definitely lost: 7,882 bytes in 12 blocks": the figures after LABEL. */
static struct figure valgrind_figure(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	struct figure f = { 0, 0 };
	char digits[64];
	size_t n = 0;

	/* A summary without leaks has no LEAK SUMMARY: every kind is 0 then. */
	if (!p && strstr(text, "All heap blocks were freed"))
		return f;
	cr_assert_not_null(p, "valgrind's summary has no '%s':\n%s", label, text);
	p += strlen(label);
	while (*p == ' ')
		p++;
	for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
		if (*p != ',' && n < sizeof(digits) - 1)
			digits[n++] = *p;
	digits[n] = '\0';
	f.bytes = atoll(digits);
	cr_assert_eq(sscanf(p, " bytes in %lld blocks", &f.blocks), 1, "after '%s': '%.40s'", label,
		     p);
	return f;
}

/* Kind K summed over PROC's heap stacks whose frame 0 is FRAME0 (NULL: all of them). */
static struct figure leaktrace_figure(json_t *proc, const char *frame0, enum kind k)
{
	struct figure f = { 0, 0 };
	json_t *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *sym = stack__symbol(stack, 0);

		if (strcmp(json_string_value(json_object_get(stack, "kind")), "heap"))
			continue; /* valgrind judges no mapping */
		if (frame0 && (!sym || strcmp(sym, frame0)))
			continue;
		f.bytes += json__int(stack, field[k][0]);
		f.blocks += json__int(stack, field[k][1]);
	}
	return f;
}

/* Each "truth FUNCTION KIND BYTES BLOCKS" line the fixture printed holds for leaktrace. */
static int check_truth(json_t *proc, const char *out)
{
	char fn[64], kind[16];
	struct figure want, got;
	int lines = 0, k;

	for (const char *p = strstr(out, "truth "); p; p = strstr(p + 1, "truth ")) {
		cr_assert_eq(sscanf(p, "truth %63s %15s %lld %lld", fn, kind, &want.bytes,
				    &want.blocks),
			     4, "bad truth line: %.60s", p);
		for (k = 0; k < IN_USE && strcmp(kind_name[k], kind); k++)
			;
		cr_assert_lt(k, IN_USE, "unknown kind %s", kind);
		got = leaktrace_figure(proc, fn, k);
		cr_assert_eq(got.bytes, want.bytes, "%s %s: leaktrace %lld bytes, truth %lld", fn,
			     kind, got.bytes, want.bytes);
		cr_assert_eq(got.blocks, want.blocks, "%s %s: leaktrace %lld blocks, truth %lld",
			     fn, kind, got.blocks, want.blocks);
		lines++;
	}
	return lines;
}

/*
 * FIXTURE ARGS... traced by leaktrace and run under valgrind (LIB preloaded in
 * both, NULL: glibc's malloc): every kind of valgrind's summary equals
 * leaktrace's, and the fixture's truth holds.
 */
static void equal_valgrind(const char *fixture, const char *const args[], const char *lib)
{
	char *exe = env__fixture(fixture), synonyms[128];
	char *vg[16] = { "valgrind", "--leak-check=full", "--run-libc-freeres=no",
			 "--run-cxx-freeres=no" };
	struct run_result r, vr;
	struct tmpdir t;
	json_t *snap, *proc;
	int n = 4;

	tmpdir__new(&t);
	if (lib) {
		snprintf(synonyms, sizeof(synonyms), "--soname-synonyms=somalloc=*%s*",
			 strstr(lib, "jemalloc") ? "jemalloc" : "tcmalloc");
		vg[n++] = synonyms;
		cr_assert_eq(setenv("LD_PRELOAD", lib, 1), 0);
	}
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	vg[n++] = exe;
	for (int i = 0; args[i]; i++)
		vg[n++] = (char *)args[i];
	vg[n] = NULL;
	run__cmd(vg, NULL, 100, &vr);
	unsetenv("LD_PRELOAD");
	/* A uprobe of a leaktrace -a running meanwhile is an int3 valgrind cannot run. */
	cr_assert_null(strstr(vr.err, "SIGTRAP"),
		       "valgrind hit another tracer's uprobe "
		       "(a leaktrace -a running): rerun this test alone\n%s",
		       vr.err);
	cr_assert_eq(run__exit_code(&vr), 0, "valgrind: exit %d:\n%s", run__exit_code(&vr), vr.err);
	cr_assert_str_eq(vr.out, r.out);
	cr_assert_str_eq(json_string_value(json_object_get(proc, "scan_roots")), "exact");
	for (int k = 0; k < NR_KINDS; k++) {
		struct figure v = valgrind_figure(vr.err, vg_label[k]);
		struct figure l = leaktrace_figure(proc, NULL, k);

		cr_assert_eq(l.bytes, v.bytes, "%s: leaktrace %lld bytes, valgrind %lld",
			     vg_label[k], l.bytes, v.bytes);
		cr_assert_eq(l.blocks, v.blocks, "%s: leaktrace %lld blocks, valgrind %lld",
			     vg_label[k], l.blocks, v.blocks);
	}
	cr_assert_gt(check_truth(proc, r.out), 0, "the fixture printed no truth");
	json_decref(snap);
	run__free(&r);
	run__free(&vr);
	tmpdir__free(&t);
	free(exe);
}

static const char *const freed_array[] = { "run", "freed_array", NULL };
static const char *const threads[] = { "run", "threads", NULL };
static const char *const stale[] = { "run", "stale", NULL };
static const char *const interior[] = { "run", "interior", NULL };
static const char *const regions[] = { "run", "regions", NULL };
static const char *const all[] = { "run",      "freed_array", "threads", "stale",
				   "interior", "regions",     NULL };
static const char *const cxx[] = { "run", NULL };

/* The strings' array was freed: freed memory is no root, the strings are lost. */
Test(verdicts, a_freed_array_of_pointers_leaves_its_strings_lost, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", freed_array, NULL);
}

/* Workers exited: their stacks are dead, their TLS stays mapped in glibc's cache of stacks. */
Test(verdicts, exited_threads_caches_equal_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", threads, NULL);
}

/* A pointer only in a freed block or below the stack pointer reaches nothing. */
Test(verdicts, stale_pointers_reach_nothing, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", stale, NULL);
}

/* Blocks only interior pointers reach are possibly lost; a length prefix's is reachable. */
Test(verdicts, interior_pointers_make_blocks_possibly_lost, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", interior, NULL);
}

/* Every mapping the program made is read as roots, also one a pointer reached before (cc1plus). */
Test(verdicts, program_mappings_are_roots_also_when_pointed_to, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", regions, NULL);
}

Test(verdicts, every_case_with_frame_pointers_equals_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts-fp", all, NULL);
}

/* new[] of objects with destructors and a base in the middle: valgrind's heuristics. */
Test(verdicts, cxx_new_arrays_and_bases_equal_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts_cxx-nofp", cxx, NULL);
}

Test(verdicts, jemalloc_equals_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", all, JEMALLOC);
}

Test(verdicts, jemalloc_cxx_equals_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts_cxx-nofp", cxx, JEMALLOC);
}

Test(verdicts, tcmalloc_equals_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts-nofp", all, TCMALLOC);
}

Test(verdicts, tcmalloc_cxx_equals_valgrind, .timeout = 120)
{
	equal_valgrind("verdicts_cxx-nofp", cxx, TCMALLOC);
}

/*
 * A live scan (--scan, no --scan-freeze) of a process whose 4 threads
 * allocate, free and move pointers at full speed: a pointer moving while the
 * scan reads must never make a block lost. 50 reports, each "0 B lost".
 */
Test(verdicts, live_scans_of_four_churning_threads_never_call_a_block_lost, .timeout = 240,
     .fini = procs__cleanup)
{
	char *exe = env__fixture("verdicts-nofp"), pid[16], line[8192], want[64];
	char *fixture_argv[] = { exe, "churn", NULL };
	char *argv[] = {
		(char *)env__leaktrace(), "-p", pid, "--scan", "-i", "0.05", "-n", "1", NULL
	};
	struct fixture f, lt;
	int out[2], status, reports = 0;

	fixture__start_argv(&f, fixture_argv);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	snprintf(want, sizeof(want), "pid %d (", (int)f.pid);
	cr_assert_eq(pipe(out), 0);
	lt = (struct fixture){ proc__spawn(argv, -1, out[1], STDERR_FILENO), -1, out[0] };
	close(out[1]);
	while (reports < 50) {
		fixture__read_line(&lt, line, sizeof(line), 60000);
		if (strncmp(line, want, strlen(want)))
			continue;
		reports++;
		cr_assert(strstr(line, ", 0 B lost (0 definitely, 0 indirectly), "),
			  "report %d calls blocks lost:\n%s", reports, line);
	}
	cr_assert_eq(kill(lt.pid, SIGINT), 0);
	cr_assert_eq(proc__wait(lt.pid, 20000, &status), 0, "leaktrace did not stop");
	cr_assert(proc__running(f.pid), "the fixture is gone or held stopped");
	close(lt.out_fd);
	fixture__stop(&f);
	free(exe);
}

/* leaktrace OPTS... -- verdicts-nofp run SCENARIO: its exit code; its stderr in R. */
static int gate(const char *scenario, const char *kinds, struct run_result *r)
{
	char *exe = env__fixture("verdicts-nofp");
	char *argv[] = { (char *)env__leaktrace(),
			 "-q",
			 "--fail-on-leak",
			 "1",
			 "--leak-kinds",
			 (char *)kinds,
			 "--",
			 exe,
			 "run",
			 (char *)scenario,
			 NULL };
	int code;

	if (!kinds) /* the default kinds */
		memmove(&argv[4], &argv[6], 5 * sizeof(*argv));
	run__cmd(argv, NULL, 60, r);
	code = run__exit_code(r);
	free(exe);
	return code;
}

/* Only interior pointers reach interior's blocks: the gate counts them only when asked. */
Test(verdicts, fail_on_leak_counts_possibly_lost_only_with_leak_kinds, .timeout = 120)
{
	struct run_result r;

	cr_assert_eq(gate("interior", NULL, &r), 0, "stderr:\n%s", r.err);
	run__free(&r);
	cr_assert_eq(gate("interior", "definite,indirect", &r), 0, "stderr:\n%s", r.err);
	run__free(&r);
	cr_assert_eq(gate("interior", "possible", &r), 3, "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "leaktrace: 230 bytes lost, --fail-on-leak 1: failing"),
		  "stderr:\n%s", r.err);
	run__free(&r);
	cr_assert_eq(gate("freed_array", "all", &r), 3, "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "leaktrace: 1,400 bytes lost"), "stderr:\n%s", r.err);
	run__free(&r);
	cr_assert_eq(gate("interior", "definite,bogus", &r), 2, "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, "--leak-kinds: unknown kind 'bogus'"), "stderr:\n%s", r.err);
	run__free(&r);
}

/* A command's final report: suspects by verdict (lost, then possible), none for growth. */
Test(verdicts, a_final_report_ranks_lost_then_possible_and_never_growth, .timeout = 120)
{
	const char *args[] = { "run", "interior", "freed_array", NULL };
	char *exe = env__fixture("verdicts-nofp");
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *v, *proc;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert(json_is_true(json_object_get(proc, "final")));
	v = json_object_get(snap, "suspects");
	/* freed_array's stack, then interior's three possibly lost (one stack per call site). */
	cr_assert_eq(json_array_size(v), 4, "suspects: %zu", json_array_size(v));
	for (size_t i = 0; i < 4; i++) {
		json_t *s = json_array_get(v, i);

		cr_assert_str_eq(json_string_value(json_object_get(s, "symbol")),
				 i ? "interior" : "freed_array");
		cr_assert_str_eq(json_string_value(json_object_get(s, "reason")),
				 i ? "possible" : "lost");
	}
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/* Nothing lost: the text report says so, and names no suspect for the growth of a short run. */
Test(verdicts, a_final_report_without_leaks_says_no_leak, .timeout = 60)
{
	char *exe = env__fixture("verdicts-nofp");
	char *argv[] = { (char *)env__leaktrace(), "--", exe, "run", "clean", NULL };
	struct run_result r;

	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "stderr:\n%s", r.err);
	/* Run mode's report goes to stderr: the command's stdout stays its own. */
	cr_assert(strstr(r.err, ", 0 B lost (0 definitely, 0 indirectly), 0 B possibly lost, "),
		  "stderr:\n%s", r.err);
	cr_assert(strstr(r.err, ", no leak\n"), "stderr:\n%s", r.err);
	cr_assert_null(strstr(r.err, "top suspect"), "stderr:\n%s", r.err);
	run__free(&r);
	free(exe);
}

/*
 * Attach mode: blocks from before the attach are unknown, but glibc's chunk
 * headers tell free memory from them. The strings of an array freed after
 * the attach are lost: the freed array (in the tcache) is no root.
 */
Test(verdicts, attach_mode_reads_glibcs_chunks_and_finds_the_freed_arrays_strings, .timeout = 120,
     .fini = procs__cleanup)
{
	const char *args[] = { "freed_array", NULL };
	char *exe = env__fixture("verdicts-nofp"), pid[16], err_path[PATH_MAX];
	char *argv[] = { (char *)env__leaktrace(),
			 "-p",
			 pid,
			 "--scan",
			 "-i",
			 "100",
			 "-d",
			 "3",
			 "-o",
			 NULL,
			 NULL };
	struct fixture f;
	struct tmpdir t;
	int err_fd, status;
	json_t *snap, *proc, *s;

	tmpdir__new(&t);
	fixture__start(&f, exe, args);
	snprintf(pid, sizeof(pid), "%d", (int)f.pid);
	argv[9] = strdup(tmpdir__file(&t, "attach.json"));
	snprintf(err_path, sizeof(err_path), "%s", tmpdir__file(&t, "stderr.txt"));
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(err_fd, 0);
	pid_t lt = proc__spawn(argv, -1, -1, err_fd);

	close(err_fd);
	file__assert_tracing(err_path, "leaktrace: tracing");
	fixture__trigger(&f);
	cr_assert_eq(proc__wait(lt, 30000, &status), 0, "leaktrace did not end");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	snap = snapshot__load(argv[9]);
	proc = snapshot__process(snap, f.pid);
	cr_assert_not_null(proc);
	cr_assert_str_eq(json_string_value(json_object_get(proc, "scan_roots")), "glibc-chunks");
	s = stack__find(proc, "freed_array", "heap");
	cr_assert_not_null(s);
	cr_assert_eq(json__int(s, "lost_bytes"), 1400);
	cr_assert_eq(json__int(s, "lost_allocs"), 100);
	json_decref(snap);
	fixture__stop(&f);
	free(argv[9]);
	free(exe);
	tmpdir__free(&t);
}
