// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Suppressions in CI: a leak a file suppresses is counted as suppressed and the
 * gate passes; not suppressed, it fails with status 3. valgrind's own generated
 * suppressions are the oracle of the format. Clean C and C++ programs pass
 * --fail-on-leak 1 with the default set, which says what it suppressed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* leaktrace -q --fail-on-leak LIMIT -o OUT [OPTS] -- FIXTURE ARGS; its exit code. */
static int gate(const char *limit, const char *out, const char *const opts[], const char *fixture,
		const char *const args[], struct run_result *r)
{
	char *exe = env__fixture(fixture), *argv[32];
	int n = 0;

	argv[n++] = (char *)env__leaktrace();
	argv[n++] = "-q";
	argv[n++] = "--fail-on-leak";
	argv[n++] = (char *)limit;
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	for (int i = 0; opts && opts[i]; i++)
		argv[n++] = (char *)opts[i];
	argv[n++] = "--";
	argv[n++] = exe;
	for (int i = 0; args && args[i]; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	run__cmd(argv, NULL, RUN_TIMEOUT_S * 2, r);
	free(exe);
	return run__exit_code(r);
}

/* The snapshot's "suppressions" entry that came from where (FILE:LINE), or NULL. */
static json_t *used(json_t *snap, const char *where)
{
	json_t *arr = json_object_get(snap, "suppressions"), *u;
	size_t i;

	json_array_foreach(arr, i, u)
		if (!strcmp(json_string_value(json_object_get(u, "where")), where))
			return u;
	return NULL;
}

/* The entry of the default set called name (the default set's names are unique), or NULL. */
static json_t *used_default(json_t *snap, const char *name)
{
	json_t *arr = json_object_get(snap, "suppressions"), *u;
	size_t i;

	json_array_foreach(arr, i, u)
		if (!strcmp(json_string_value(json_object_get(u, "name")), name) &&
		    !strncmp(json_string_value(json_object_get(u, "where")), "default:", 8))
			return u;
	return NULL;
}

static const char *const lost_args[] = { "run", "lost", NULL };

/* leaky run lost: lose_blocks 7,770 B in 10 blocks, lose_list 64 + new_node 144 (indirect). */
Test(suppress, suppressed_stack_is_counted_apart_and_the_gate_counts_the_rest, .timeout = 120)
{
	/* Without the default set: only this file's entry, so that the counts are its alone. */
	const char *opts[] = { "--no-default-suppressions", "--suppress", NULL, NULL };
	struct run_result r;
	struct tmpdir t;
	char supp[PATH_MAX], out[PATH_MAX], where[PATH_MAX + 8];
	json_t *snap, *proc, *u, *s;

	tmpdir__new(&t);
	snprintf(supp, sizeof(supp), "%s", tmpdir__file(&t, "blocks.supp"));
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "run.json"));
	write_file(supp, "# lose_blocks loses on purpose\n{\n   blocks\n   fun:lose_blocks\n}\n");
	opts[2] = supp;

	/* Not suppressed: all 7,978 bytes count, the gate fails. */
	cr_assert_eq(gate("209", out, NULL, "leaky-nofp", lost_args, &r), 3, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: 7,978 bytes lost, --fail-on-leak 209: "
					 "failing\n"),
			   "stderr:\n%s", r.err);
	run__free(&r);

	/* Suppressed: 208 bytes left, under 209; at 208 it fails and says what was suppressed. */
	cr_assert_eq(gate("209", out, opts, "leaky-nofp", lost_args, &r), 0, "%s", r.err);
	run__free(&r);
	cr_assert_eq(gate("208", out, opts, "leaky-nofp", lost_args, &r), 3, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "leaktrace: 208 bytes lost (7,770 more suppressed), "
					 "--fail-on-leak 208: failing\n"),
			   "stderr:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "(suppressed: blocks)\n"), "stderr:\n%s", r.err);
	run__free(&r);

	snap = snapshot__load(out);
	proc = json_array_get(json_object_get(snap, "processes"), 0);
	u = json_object_get(proc, "suppressed");
	cr_assert_eq(json__int(u, "bytes"), 7770);
	cr_assert_eq(json__int(u, "allocs"), 10);
	cr_assert_eq(json__int(u, "lost_bytes"), 7770);
	/* Still there, and still lost: suppressed is not dropped. */
	cr_assert_eq(json__int(proc, "lost_bytes") + json__int(proc, "indirect_bytes"), 7978);
	s = stack__find(proc, "lose_blocks", "heap");
	cr_assert_not_null(s);
	cr_assert_str_eq(json_string_value(json_object_get(s, "suppressed")), "blocks");
	snprintf(where, sizeof(where), "%s:2", supp);
	u = used(snap, where);
	cr_assert_not_null(u, "no suppressions entry from %s", where);
	cr_assert_str_eq(json_string_value(json_object_get(u, "name")), "blocks");
	cr_assert_eq(json__int(u, "stacks"), 1);
	cr_assert_eq(json__int(u, "bytes"), 7770);
	cr_assert_eq(json__int(u, "allocs"), 10);
	cr_assert_eq(json__int(u, "lost_bytes"), 7770);
	json_decref(snap);
	tmpdir__free(&t);
}

/* The file valgrind --gen-suppressions writes for the same leaks, as it writes it. */
Test(suppress, valgrinds_generated_suppressions_suppress_the_same_leaks, .timeout = 180)
{
	const char *opts[] = { "--suppress", NULL, NULL };
	char *exe = env__fixture("leaky-fp");
	char supp[PATH_MAX], out[PATH_MAX], cmd[PATH_MAX * 5];
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *proc, *u;

	tmpdir__new(&t);
	snprintf(supp, sizeof(supp), "%s", tmpdir__file(&t, "vg.supp"));
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "run.json"));
	snprintf(cmd, sizeof(cmd),
		 "valgrind -q --leak-check=full "
		 "--show-leak-kinds=definite,indirect --gen-suppressions=all --log-file='%s.log' "
		 "'%s' run lost >/dev/null && grep -v '^==' '%s.log' > '%s' && "
		 "grep -c Memcheck:Leak '%s'",
		 supp, exe, supp, supp, supp);
	sh__output(cmd, out, sizeof(out));
	cr_assert_geq(atoi(out), 3, "valgrind generated %s entries", out);
	opts[1] = supp;
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "run.json"));

	cr_assert_eq(gate("1", out, opts, "leaky-fp", lost_args, &r), 0, "stderr:\n%s", r.err);
	snap = snapshot__load(out);
	proc = snapshot__process_by_exe(snap, exe);
	u = json_object_get(proc, "suppressed");
	/* Every lost byte valgrind found is suppressed, and only those (keep_cache stays). */
	cr_assert_eq(json__int(u, "lost_bytes"), 7978);
	cr_assert_eq(json__int(proc, "lost_bytes") + json__int(proc, "indirect_bytes"), 7978);
	cr_assert_null(json_object_get(stack__find(proc, "keep_cache", "heap"), "suppressed"));
	json_decref(snap);
	run__free(&r);
	free(exe);
	tmpdir__free(&t);
}

Test(suppress, bad_file_is_one_line_naming_file_and_line_and_nothing_runs, .timeout = 60)
{
	const char *opts[] = { "--suppress", NULL, NULL };
	char supp[PATH_MAX], out[PATH_MAX], want[PATH_MAX + 128];
	struct run_result r;
	struct tmpdir t;

	tmpdir__new(&t);
	snprintf(supp, sizeof(supp), "%s", tmpdir__file(&t, "bad.supp"));
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "run.json"));
	write_file(supp, "{\n   x\n   fun:lose_*\n   lose_list\n}\n");
	opts[1] = supp;
	cr_assert_eq(gate("1", out, opts, "leaky-nofp", lost_args, &r), 2, "stderr:\n%s", r.err);
	snprintf(want, sizeof(want),
		 "leaktrace: --suppress: %s:4: 'lose_list' is not a frame "
		 "line: use fun:GLOB, obj:GLOB or ...\n",
		 supp);
	cr_assert_str_eq(r.err, want);
	cr_assert_eq(r.out_len, 0, "the command ran: %s", r.out);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * A clean program passes --fail-on-leak 1 with the default set, and the report
 * says what was suppressed. stdout is a pipe here: its buffer is 4,096 bytes
 * (the pipe's st_blksize); the oracle is stat's own answer for a pipe.
 */
static void assert_clean_passes(const char *fixture, const char *const opts[], json_t **snap_out,
				struct tmpdir *t)
{
	char out[PATH_MAX], blksize[32];
	struct run_result r;
	json_t *snap, *u;

	snprintf(out, sizeof(out), "%s", tmpdir__file(t, "clean.json"));
	cr_assert_eq(gate("1", out, opts, fixture, NULL, &r), 0, "%s: stderr:\n%s", fixture, r.err);
	cr_assert_not_null(strstr(r.out, "truth clean 0 0"), "stdout: %s", r.out);
	cr_assert_not_null(strstr(r.err, "\nsuppressions used (bytes, allocations, of them lost, "
					 "stacks, name, where):\n"),
			   "stderr:\n%s", r.err);
	snap = snapshot__load(out);
	u = used_default(snap, "glibc-stdio-buffer");
	cr_assert_not_null(u, "%s: stdout's buffer is not suppressed", fixture);
	sh__output("true | stat -c %o /dev/stdin", blksize, sizeof(blksize));
	cr_assert_eq(json__int(u, "bytes"), atoll(blksize));
	cr_assert_eq(json__int(u, "allocs"), 1);
	/* Four threads, four stacks kept in glibc's cache. */
	u = used_default(snap, "glibc-thread-stack-cache");
	cr_assert_not_null(u, "%s: the thread stacks are not suppressed", fixture);
	cr_assert_eq(json__int(u, "allocs"), 4);
	run__free(&r);
	*snap_out = snap;
}

Test(suppress, clean_c_program_passes_the_gate_with_the_default_set, .timeout = 120)
{
	const char *none[] = { "--no-default-suppressions", NULL };
	char out[PATH_MAX];
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *u;

	tmpdir__new(&t);
	assert_clean_passes("clean-nofp", NULL, &snap, &t);
	u = used_default(snap, "glibc-locale-data");
	cr_assert_not_null(u, "setlocale's data is not suppressed");
	json_decref(snap);

	/* Without the set nothing is suppressed, and no "suppressions" member is written. */
	snprintf(out, sizeof(out), "%s", tmpdir__file(&t, "none.json"));
	gate("1", out, none, "clean-nofp", NULL, &r);
	snap = snapshot__load(out);
	cr_assert_null(json_object_get(snap, "suppressions"));
	cr_assert_null(strstr(r.err, "suppressed"), "stderr:\n%s", r.err);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
}

/*
 * With tables the stack of libstdc++'s emergency pool reaches the loader's
 * call_init, and the default set names it. Oracle: valgrind's still reachable
 * loss record whose stack passes through call_init (as valgrind shows it too).
 */
Test(suppress, clean_cxx_program_passes_the_gate_with_the_default_set, .timeout = 180)
{
	const char *dwarf[] = { "--unwind", "dwarf", NULL };
	char *exe = env__fixture("clean_cxx-nofp");
	char cmd[PATH_MAX * 2], want[64];
	struct tmpdir t;
	json_t *snap, *u;

	tmpdir__new(&t);
	assert_clean_passes("clean_cxx-nofp", NULL, &snap, &t);
	json_decref(snap);
	assert_clean_passes("clean_cxx-nofp", dwarf, &snap, &t);
	u = used_default(snap, "libstdc++-emergency-exception-pool");
	cr_assert_not_null(u, "the exception pool is not suppressed");
	cr_assert_eq(json__int(u, "allocs"), 1);
	/* Without freeres valgrind sees the pool at exit (it may trap at the very end: ';'). */
	snprintf(cmd, sizeof(cmd),
		 "valgrind --run-libc-freeres=no --run-cxx-freeres=no "
		 "--leak-check=full --show-leak-kinds=reachable --log-file=%s '%s' >/dev/null "
		 "2>&1; awk '/are still reachable in loss record/ "
		 "{ b = $2 } /call_init/ { gsub(\",\", \"\", b); print b; exit }' %s",
		 tmpdir__file(&t, "vg.log"), exe, tmpdir__file(&t, "vg.log"));
	sh__output(cmd, want, sizeof(want));
	cr_assert_gt(atoll(want), 0, "valgrind shows no pool: '%s'", want);
	cr_assert_eq(json__int(u, "bytes"), atoll(want));
	json_decref(snap);
	free(exe);
	tmpdir__free(&t);
}
