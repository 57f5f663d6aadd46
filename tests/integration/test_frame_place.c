// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frames that cannot be named keep where they are: module, module_offset (the
 * link-time address) and the module's build ID, written to JSON and read back by
 * `leaktrace report`, so that they can be symbolized later. Oracles: addr2line
 * on the unstripped twin, and readelf -n's build ID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

/* The stack of proc whose frame 0 is unnamed and in module, with the most bytes. */
static json_t *unnamed_stack(json_t *proc, const char *module, json_t **frame0)
{
	json_t *stacks = json_object_get(proc, "stacks"), *s, *best = NULL;
	size_t i;

	json_array_foreach(stacks, i, s) {
		json_t *f = json_array_get(json_object_get(s, "frames"), 0);

		if (!f || strcmp(json_string_value(json_object_get(f, "symbol")), "[unknown]") ||
		    strcmp(json_string_value(json_object_get(f, "module")), module))
			continue;
		if (!best || json__int(s, "bytes") > json__int(best, "bytes")) {
			best = s;
			*frame0 = f;
		}
	}
	return best;
}

static const char *str_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_string(v), "\"%s\" is missing or not a string", key);
	return json_string_value(v);
}

Test(frame_place, unnamed_frame_keeps_module_offset_and_build_id, .timeout = 90)
{
	const char *args[] = { "run", "malloc", NULL };
	char *exe = env__fixture("leaky-stripped"), *twin = env__fixture("leaky-nofp");
	char cmd[PATH_MAX * 2 + 64], want_id[128], fn[256], again[PATH_MAX];
	json_t *snap, *back, *proc, *stack, *f0 = NULL, *g0 = NULL;
	unsigned long long offset, address;
	struct run_result r, rr;
	struct tmpdir t;

	tmpdir__new(&t);
	snap = trace__run(&t, exe, NULL, args, &r);
	proc = snapshot__process_by_exe(snap, exe);
	stack = unnamed_stack(proc, exe, &f0);
	cr_assert_not_null(stack, "no stack with an unnamed frame 0 in %s", exe);
	/* leak_malloc's 1,000 blocks of 100 bytes, under a frame no symbol names. */
	cr_assert_eq(json__int(stack, "bytes"), 100000);
	cr_assert_eq(json__int(stack, "allocs"), 1000);

	/* The oracle for the build ID: readelf's notes of the same file. */
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' | sed -n 's/.*Build ID: *//p'", exe);
	sh__output(cmd, want_id, sizeof(want_id));
	cr_assert_gt(strlen(want_id), 0, "readelf found no build ID in %s", exe);
	cr_assert_str_eq(str_member(f0, "build_id"), want_id);

	/* The oracle for the offset: the unstripped twin (same code) names it leak_malloc. */
	offset = strtoull(str_member(f0, "module_offset"), NULL, 16);
	address = strtoull(str_member(f0, "address"), NULL, 16);
	cr_assert_eq((address - offset) % 4096, 0,
		     "address 0x%llx less module_offset 0x%llx is "
		     "no load bias",
		     address, offset);
	snprintf(cmd, sizeof(cmd), "addr2line -f -e '%s' 0x%llx | head -n 1", twin, offset - 1);
	sh__output(cmd, fn, sizeof(fn));
	cr_assert_str_eq(fn, "leak_malloc", "addr2line -e leaky-nofp 0x%llx: %s", offset - 1, fn);

	/* leaktrace report reads them and writes them again, unchanged. */
	snprintf(again, sizeof(again), "%s", tmpdir__file(&t, "again.json"));
	{
		char *saved = (char *)tmpdir__file(&t, "run.json");
		char *argv[] = { (char *)env__leaktrace(),
				 "report",
				 saved,
				 "--format",
				 "json",
				 "-o",
				 again,
				 NULL };

		run__cmd(argv, NULL, RUN_TIMEOUT_S, &rr);
	}
	cr_assert_eq(run__exit_code(&rr), 0, "leaktrace report: %s", rr.err);
	back = snapshot__load(again);
	stack = unnamed_stack(snapshot__process_by_exe(back, exe), exe, &g0);
	cr_assert_not_null(stack);
	cr_assert_str_eq(str_member(g0, "module_offset"), str_member(f0, "module_offset"));
	cr_assert_str_eq(str_member(g0, "build_id"), want_id);

	json_decref(back);
	json_decref(snap);
	run__free(&rr);
	run__free(&r);
	free(exe);
	free(twin);
	tmpdir__free(&t);
}
