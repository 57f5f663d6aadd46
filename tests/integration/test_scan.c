// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Leak verdicts in run mode (the scan at exit): lost, indirectly lost and
 * reachable bytes per stack, equal to what valgrind's leak check says of the
 * same program, and --fail-on-leak as a CI gate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

struct verdicts {
	long long lost_bytes, lost_allocs;
	long long indirect_bytes, indirect_allocs;
	long long reachable_bytes, reachable_allocs;
	long long bytes, allocs;
};

/* The verdicts summed over PROC's stacks whose frame 0 is FRAME0 (NULL: all stacks). */
static struct verdicts verdicts_of(json_t *proc, const char *frame0)
{
	struct verdicts v = { 0 };
	json_t *stack;
	size_t i;

	json_array_foreach(json_object_get(proc, "stacks"), i, stack) {
		const char *sym = stack__symbol(stack, 0);

		if (frame0 && (!sym || strcmp(sym, frame0)))
			continue;
		v.lost_bytes += json__int(stack, "lost_bytes");
		v.lost_allocs += json__int(stack, "lost_allocs");
		v.indirect_bytes += json__int(stack, "indirect_bytes");
		v.indirect_allocs += json__int(stack, "indirect_allocs");
		v.reachable_bytes += json__int(stack, "reachable_bytes");
		v.reachable_allocs += json__int(stack, "reachable_allocs");
		v.bytes += json__int(stack, "bytes");
		v.allocs += json__int(stack, "allocs");
	}
	return v;
}

/* "==PID==    definitely lost: 7,882 bytes in 12 blocks": bytes and blocks after LABEL. */
static void valgrind_figure(const char *text, const char *label, long long *bytes,
			    long long *blocks)
{
	const char *p = strstr(text, label);
	char digits[64];
	size_t n = 0;

	cr_assert_not_null(p, "valgrind's summary has no '%s':\n%s", label, text);
	p += strlen(label);
	while (*p == ' ')
		p++;
	for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
		if (*p != ',' && n < sizeof(digits) - 1)
			digits[n++] = *p;
	digits[n] = '\0';
	*bytes = atoll(digits);
	cr_assert_eq(sscanf(p, " bytes in %lld blocks", blocks), 1, "after '%s': '%.40s'", label,
		     p);
}

static json_t *trace_lost(struct tmpdir *t, const char *exe, struct run_result *r)
{
	const char *args[] = { "run", "lost", NULL };

	return trace__run(t, exe, NULL, args, r);
}

Test(scan, run_mode_verdicts_are_exact_per_function, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct verdicts v;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	snap = trace_lost(&t, exe, &r);
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert_eq(json__int(proc, "lost_bytes"), 7770 + 64);

	v = verdicts_of(proc, "lose_blocks");
	cr_assert_eq(v.lost_bytes, 7770, "lose_blocks: %lld bytes lost", v.lost_bytes);
	cr_assert_eq(v.lost_allocs, 10);
	cr_assert_eq(v.indirect_bytes + v.reachable_bytes, 0);

	/* The list's head is lost; the three nodes only it leads to, indirectly. */
	v = verdicts_of(proc, "lose_list");
	cr_assert_eq(v.lost_bytes, 64, "lose_list: %lld bytes lost", v.lost_bytes);
	cr_assert_eq(v.lost_allocs, 1);
	v = verdicts_of(proc, "new_node");
	cr_assert_eq(v.lost_bytes, 0, "new_node: %lld bytes lost", v.lost_bytes);
	cr_assert_eq(v.indirect_bytes, 144, "new_node: %lld bytes indirectly lost",
		     v.indirect_bytes);
	cr_assert_eq(v.indirect_allocs, 3);

	v = verdicts_of(proc, "keep_cache");
	cr_assert_eq(v.reachable_bytes, 50000, "keep_cache: %lld bytes reachable",
		     v.reachable_bytes);
	cr_assert_eq(v.reachable_allocs, 100);
	cr_assert_eq(v.lost_bytes + v.indirect_bytes, 0);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/* A lost stack is the first suspect, for the reason "lost", ahead of the larger cache. */
Test(scan, lost_stacks_lead_the_suspects, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *first;

	tmpdir__new(&t);
	snap = trace_lost(&t, exe, &r);
	first = json_array_get(json_object_get(snap, "suspects"), 0);
	cr_assert_not_null(first, "no suspects");
	cr_assert_str_eq(json_string_value(json_object_get(first, "symbol")), "lose_blocks");
	cr_assert_str_eq(json_string_value(json_object_get(first, "reason")), "lost");
	cr_assert_eq(json__int(first, "lost_bytes"), 7770);
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/*
 * The same program under valgrind --leak-check=full: definitely lost equals
 * lost_bytes, indirectly lost and still reachable equal theirs, and the
 * totals equal valgrind's "in use at exit".
 */
Test(scan, verdicts_equal_valgrind, .timeout = 120)
{
	char *exe = env__fixture("leaky-nofp");
	char *vg[] = { "valgrind",
		       "--leak-check=full",
		       "--run-libc-freeres=no",
		       "--show-leak-kinds=all",
		       exe,
		       "run",
		       "lost",
		       NULL };
	long long bytes, blocks;
	struct run_result r, vr;
	struct verdicts v;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	snap = trace_lost(&t, exe, &r);
	proc = snapshot__process_by_exe(snap, exe);
	v = verdicts_of(proc, NULL);
	run__cmd(vg, NULL, 100, &vr);
	cr_assert_eq(run__exit_code(&vr), 0, "valgrind: exit %d:\n%s", run__exit_code(&vr), vr.err);
	/* Its stdout is a pipe too, so both runs have the same stdio buffers. */
	cr_assert_str_eq(vr.out, r.out);

	valgrind_figure(vr.err, "in use at exit:", &bytes, &blocks);
	cr_assert_eq(v.bytes, bytes, "in use at exit: leaktrace %lld, valgrind %lld", v.bytes,
		     bytes);
	cr_assert_eq(v.allocs, blocks, "blocks in use: leaktrace %lld, valgrind %lld", v.allocs,
		     blocks);
	valgrind_figure(vr.err, "definitely lost:", &bytes, &blocks);
	cr_assert_eq(v.lost_bytes, bytes, "definitely lost: leaktrace %lld, valgrind %lld",
		     v.lost_bytes, bytes);
	cr_assert_eq(v.lost_allocs, blocks);
	valgrind_figure(vr.err, "indirectly lost:", &bytes, &blocks);
	cr_assert_eq(v.indirect_bytes, bytes, "indirectly lost: leaktrace %lld, valgrind %lld",
		     v.indirect_bytes, bytes);
	cr_assert_eq(v.indirect_allocs, blocks);
	valgrind_figure(vr.err, "possibly lost:", &bytes, &blocks);
	cr_assert_eq(bytes, 0, "valgrind says %lld bytes possibly lost", bytes);
	valgrind_figure(vr.err, "still reachable:", &bytes, &blocks);
	cr_assert_eq(v.reachable_bytes, bytes, "still reachable: leaktrace %lld, valgrind %lld",
		     v.reachable_bytes, bytes);
	cr_assert_eq(v.reachable_allocs, blocks);
	json_decref(snap);
	run__free(&r);
	run__free(&vr);
	tmpdir__free(&t);
	free(exe);
}

static int run_gate(const char *limit, const char *scan_opt)
{
	char *exe = env__fixture("leaky-nofp");
	char *argv[] = { (char *)env__leaktrace(),
			 "-q",
			 "--fail-on-leak",
			 (char *)limit,
			 (char *)scan_opt,
			 "--",
			 exe,
			 "run",
			 "lost",
			 NULL };
	struct run_result r;
	int code;

	if (!scan_opt) {
		argv[4] = "--";
		argv[5] = exe, argv[6] = "run", argv[7] = "lost", argv[8] = NULL;
	}
	run__cmd(argv, NULL, 60, &r);
	code = run__exit_code(&r);
	if (code == 3)
		cr_assert(strstr(r.err, "leaktrace: 7,978 bytes lost, --fail-on-leak"),
			  "stderr:\n%s", r.err);
	run__free(&r);
	free(exe);
	return code;
}

/* 7,834 bytes definitely and 144 indirectly lost: 7,978 in all. */
Test(scan, fail_on_leak_fails_at_the_limit_and_passes_below, .timeout = 60)
{
	cr_assert_eq(run_gate("7978", NULL), 3);
	cr_assert_eq(run_gate("7979", NULL), 0);
	cr_assert_eq(run_gate("7K", NULL), 3);
	cr_assert_eq(run_gate("1", "--no-scan"), 2, "--fail-on-leak without the scan is an error");
}

/* A failed command's own status wins over the gate: it says more. */
Test(scan, fail_on_leak_keeps_a_failed_commands_status, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	char *argv[] = { (char *)env__leaktrace(),
			 "-q",
			 "--fail-on-leak",
			 "1",
			 "--",
			 exe,
			 "exit",
			 "7",
			 "lost",
			 NULL };
	struct run_result r;

	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 7, "stderr:\n%s", r.err);
	/* The gate was reached all the same, and says so. */
	cr_assert(strstr(r.err, "leaktrace: 7,978 bytes lost, --fail-on-leak 1: failing"),
		  "stderr:\n%s", r.err);
	run__free(&r);
	free(exe);
}

/* --no-scan: no verdicts in the snapshot at all. */
Test(scan, no_scan_gives_no_verdicts, .timeout = 60)
{
	const char *opts[] = { "--no-scan", NULL };
	const char *args[] = { "run", "lost", NULL };
	char *exe = env__fixture("leaky-nofp");
	struct run_result r;
	struct tmpdir t;
	json_t *snap, *proc;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, opts, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	cr_assert_null(json_object_get(proc, "lost_bytes"));
	cr_assert_null(
		json_object_get(json_array_get(json_object_get(proc, "stacks"), 0), "lost_bytes"));
	json_decref(snap);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}

/* --lost -o FILE.folded: the flamegraph input of the leaks alone, the cache left out. */
Test(scan, lost_folded_stacks_are_the_leaks_alone, .timeout = 60)
{
	char *exe = env__fixture("leaky-nofp");
	char *argv[] = {
		(char *)env__leaktrace(), "-q", "--lost", "-o", NULL, "--", exe, "run", "lost", NULL
	};
	long long lose_blocks = 0, lose_list = 0, new_node = 0;
	char line[4096], *sp;
	struct run_result r;
	struct tmpdir t;
	FILE *f;

	tmpdir__new(&t);
	argv[4] = strdup(tmpdir__file(&t, "lost.folded"));
	run__cmd(argv, NULL, 60, &r);
	cr_assert_eq(run__exit_code(&r), 0, "stderr:\n%s", r.err);
	f = fopen(argv[4], "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		sp = strrchr(line, ' ');
		cr_assert_not_null(sp, "'%s'", line);
		*sp = '\0';
		cr_assert_null(strstr(line, "keep_cache"), "a reachable stack: '%s'", line);
		if (strstr(line, ";lose_blocks") && !strchr(strstr(line, ";lose_blocks") + 1, ';'))
			lose_blocks += atoll(sp + 1);
		else if (strstr(line, ";new_node") && !strchr(strstr(line, ";new_node") + 1, ';'))
			new_node += atoll(sp + 1);
		else if (strstr(line, ";lose_list") && !strchr(strstr(line, ";lose_list") + 1, ';'))
			lose_list += atoll(sp + 1);
		else
			cr_assert_fail("a stack that lost nothing: '%s'", line);
	}
	fclose(f);
	cr_assert_eq(lose_blocks, 7770);
	cr_assert_eq(lose_list, 64);
	cr_assert_eq(new_node, 144);
	free(argv[4]);
	run__free(&r);
	tmpdir__free(&t);
	free(exe);
}
