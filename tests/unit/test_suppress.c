// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Suppressions: the format (valgrind's), matching of globs and "...", counting, and errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "golden.h"
#include "report_text.h"
#include "snapshot_json.h"
#include "suppress.h"

static struct suppressions *parsed(const char *text)
{
	struct suppressions *s = suppress__new();
	char err[256] = "";

	cr_assert_not_null(s);
	cr_assert_eq(suppress__parse(s, text, "t.supp", err, sizeof(err)), 0, "%s", err);
	return s;
}

/* The one error line parsing text gives. */
static const char *parse_error(const char *text, char *err, size_t size)
{
	struct suppressions *s = suppress__new();

	cr_assert_eq(suppress__parse(s, text, "bad.supp", err, size), -EINVAL, "parsed: %s", text);
	cr_assert_null(strchr(err, '\n'), "more than one line: %s", err);
	suppress__free(s);
	return err;
}

#define FR(sym, mod)                                \
	{                                           \
		sym, 0, mod, 0x1000, 0, false, NULL \
	}

/* strdup called by parse_config called by main: frame 0 is the allocator's caller. */
static const struct frame app[] = {
	FR("strdup", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
	FR("parse_config", "/usr/bin/app"),
	FR("load", "/usr/bin/app"),
	FR("main", "/usr/bin/app"),
};

static const struct frame cxx[] = {
	FR("_ZN5cache6refillEm", "/usr/bin/app"),
	FR(NULL, "/usr/lib/libplugin.so"),
	FR("main", "/usr/bin/app"),
};

/* A stack of frames[0..n); its frame list from a static pool, enough for one test's stacks. */
static struct stack_stat stack_of(const struct frame *frames, int n)
{
	static const struct frame *pool[256];
	static int used;
	const struct frame **v;

	cr_assert_leq(used + n, 256);
	v = &pool[used];
	used += n;
	for (int i = 0; i < n; i++)
		v[i] = &frames[i];
	return (struct stack_stat){ .bytes = 100, .allocs = 1, .frames = v, .nr_frames = n };
}

static const char *match(const char *text, const struct frame *frames, int n)
{
	static char name[128];
	struct suppressions *s = parsed(text);
	struct stack_stat st = stack_of(frames, n);
	const char *m = suppress__match(s, &st);

	snprintf(name, sizeof(name), "%s", m ? m : "(none)");
	suppress__free(s);
	return name;
}

Test(suppress, frames_match_from_the_innermost_and_the_rest_is_not_looked_at)
{
	cr_assert_str_eq(match("{\n n\n fun:strdup\n fun:parse_config\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n fun:strdup\n}\n", app, 4), "n");
	/* Frame 0 must match: a pattern is not looked for further up. */
	cr_assert_str_eq(match("{\n n\n fun:parse_config\n}\n", app, 4), "(none)");
	cr_assert_str_eq(match("{\n n\n fun:strdup\n fun:load\n}\n", app, 4), "(none)");
}

Test(suppress, globs_star_and_question_mark_for_functions_and_objects)
{
	cr_assert_str_eq(match("{\n n\n fun:str*\n fun:parse_?onfig\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n obj:*/libc.so*\n obj:/usr/bin/*\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n obj:*/libm.so*\n}\n", app, 4), "(none)");
	cr_assert_str_eq(match("{\n n\n fun:*\n fun:*\n fun:*\n fun:*\n}\n", app, 4), "n");
	/* '[' is no class: valgrind's globs know '*' and '?' only (operator[] stays literal). */
	cr_assert_str_eq(match("{\n n\n fun:[s]trdup\n}\n", app, 4), "(none)");
}

Test(suppress, ellipsis_stands_for_any_number_of_frames_none_too)
{
	cr_assert_str_eq(match("{\n n\n fun:strdup\n ...\n fun:main\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n fun:strdup\n ...\n fun:parse_config\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n ...\n fun:load\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n ...\n fun:load\n ...\n fun:main\n}\n", app, 4), "n");
	cr_assert_str_eq(match("{\n n\n ...\n fun:nowhere\n}\n", app, 4), "(none)");
	cr_assert_str_eq(match("{\n n\n ...\n}\n", app, 4), "n");
}

Test(suppress, a_stack_shorter_than_the_pattern_does_not_match)
{
	/* A walk cut after two frames: what the pattern wants beyond is unknown, so no. */
	cr_assert_str_eq(match("{\n n\n fun:strdup\n fun:parse_config\n fun:load\n}\n", app, 2),
			 "(none)");
	cr_assert_str_eq(match("{\n n\n fun:strdup\n ...\n fun:main\n}\n", app, 3), "(none)");
}

Test(suppress, cxx_names_match_mangled_or_demangled_and_unnamed_frames_are_question_marks)
{
	cr_assert_str_eq(match("{\n n\n fun:_ZN5cache6refill*\n}\n", cxx, 3), "n");
	cr_assert_str_eq(match("{\n n\n fun:cache::refill(unsigned long)\n}\n", cxx, 3), "n");
	cr_assert_str_eq(match("{\n n\n fun:cache::*\n fun:???\n fun:main\n}\n", cxx, 3), "n");
	cr_assert_str_eq(match("{\n n\n fun:cache::*\n obj:*/libplugin.so\n}\n", cxx, 3), "n");
}

Test(suppress, first_entry_that_matches_names_the_stack)
{
	cr_assert_str_eq(match("# two\n{\n first\n fun:nope\n}\n{\n second\n fun:strdup\n}\n"
			       "{\n third\n fun:str*\n}\n",
			       app, 4),
			 "second");
}

/* valgrind's own entries: the kind line, and a first frame that is valgrind's allocator frame. */
Test(suppress, valgrind_entries_are_read_as_valgrind_means_them)
{
	const char *vg = "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n"
			 "   match-leak-kinds: definite\n   fun:malloc\n   fun:strdup\n"
			 "   fun:parse_config\n}\n";
	struct suppressions *s = parsed(vg);
	struct stack_stat st = stack_of(app, 4);

	st.scanned = true;
	st.lost_bytes = 100;
	cr_assert_str_eq(suppress__match(s, &st), "<insert_a_suppression_name_here>");
	/* match-leak-kinds: definite does not cover reachable bytes. */
	st.lost_bytes = 60;
	st.reachable_bytes = 40;
	cr_assert_null(suppress__match(s, &st));
	suppress__free(s);
	/* "..." first stands for the allocator frame too. */
	cr_assert_str_eq(match("{\n v\n Memcheck:Leak\n ...\n fun:load\n}\n", app, 4), "v");
	/* Other kinds (errors, not leaks) are read and skipped, their extra lines too. */
	s = parsed("{\n p\n Memcheck:Param\n write(buf)\n fun:write\n}\n"
		   "{\n c\n Memcheck:Cond\n fun:strdup\n}\n");
	cr_assert_eq(suppress__count(s), 0);
	suppress__free(s);
}

Test(suppress, errors_name_file_and_line_in_one_line)
{
	char err[256];

	cr_assert_str_eq(parse_error("{\n n\n fun:a\n bogus\n}\n", err, sizeof(err)),
			 "bad.supp:4: 'bogus' is not a frame line: use fun:GLOB, obj:GLOB or ...");
	cr_assert_str_eq(parse_error("\n\nfun:a\n", err, sizeof(err)),
			 "bad.supp:3: expected '{' to start a suppression, got 'fun:a'");
	cr_assert_str_eq(parse_error("# c\n{\n n\n fun:a\n", err, sizeof(err)),
			 "bad.supp:2: suppression 'n' has no closing '}'");
	cr_assert_str_eq(parse_error("{\n n\n}\n", err, sizeof(err)),
			 "bad.supp:3: suppression 'n' has no frame lines: it would match every "
			 "stack");
	cr_assert_str_eq(parse_error("{\n v\n Memcheck:Leak\n fun:malloc\n}\n", err, sizeof(err)),
			 "bad.supp:5: suppression 'v' has no frame lines after valgrind's "
			 "allocator frame: it would match every stack");
	cr_assert_str_eq(parse_error("{\n}\n", err, sizeof(err)),
			 "bad.supp:2: a suppression without a name");
	cr_assert_str_eq(parse_error("{\n n\n fun:\n}\n", err, sizeof(err)),
			 "bad.supp:3: 'fun:' names no function");
	cr_assert_str_eq(parse_error("{\n n\n src:a.c:3\n}\n", err, sizeof(err)),
			 "bad.supp:3: 'src:' frame lines are not supported: use fun: or obj:");
	cr_assert_str_eq(parse_error("{\n n\n match-leak-kinds: lost\n fun:a\n}\n", err,
				     sizeof(err)),
			 "bad.supp:3: match-leak-kinds: 'lost' is not a kind: use definite, "
			 "indirect, possible, reachable, all or none");
}

Test(suppress, file_that_cannot_be_read_says_why)
{
	struct suppressions *s = suppress__new();
	char err[256];

	cr_assert_eq(suppress__load_file(s, "/nonexistent/x.supp", err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "/nonexistent/x.supp: cannot read: No such file or directory");
	cr_assert_eq(suppress__load_file(s, "/tmp", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "/tmp: not a suppressions file (a regular file of at most 16 MiB)");
	suppress__free(s);
}

Test(suppress, default_set_parses_and_matches_glibc_one_time_allocations)
{
	static const struct frame stdio[] = { FR("_IO_file_doallocate",
						 "/usr/lib/x86_64-linux-gnu/libc.so.6") };
	static const struct frame dtv[] = { FR("allocate_dtv",
					       "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2") };
	static const struct frame pool[] = {
		FR(NULL, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30"),
		FR(NULL, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30"),
		FR("call_init", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
	};
	struct suppressions *s = suppress__new();
	struct stack_stat st;

	cr_assert_eq(suppress__add_defaults(s), 0);
	cr_assert_gt(suppress__count(s), 10);
	st = stack_of(stdio, 1);
	cr_assert_str_eq(suppress__match(s, &st), "glibc-stdio-buffer");
	st = stack_of(dtv, 1);
	cr_assert_str_eq(suppress__match(s, &st), "glibc-ld.so");
	st = stack_of(pool, 3);
	cr_assert_str_eq(suppress__match(s, &st), "libstdc++-emergency-exception-pool");
	/* A program's own strdup is not suppressed, nor an unnamed libstdc++ frame alone. */
	st = stack_of(app, 4);
	cr_assert_null(suppress__match(s, &st));
	st = stack_of(pool, 1);
	cr_assert_null(suppress__match(s, &st));
	suppress__free(s);
}

/* Two processes, three stacks: what apply marks and counts, and what the gate still sees. */
Test(suppress, apply_counts_per_process_and_per_entry_and_the_gate_skips_them)
{
	struct stack_stat a[2] = { stack_of(app, 4), stack_of(cxx, 3) };
	struct stack_stat b[1] = { stack_of(app, 4) };
	struct proc_stat procs[2] = {
		{ .pid = 1,
		  .scanned = true,
		  .lost_bytes = 300,
		  .indirect_bytes = 50,
		  .stacks = a,
		  .nr_stacks = 2 },
		{ .pid = 2, .scanned = true, .lost_bytes = 7, .stacks = b, .nr_stacks = 1 },
	};
	struct snapshot snap = { .procs = procs, .nr_procs = 2 };
	struct suppressions *s = parsed("{\n config\n fun:strdup\n fun:parse_config\n}\n");

	a[0].scanned = a[1].scanned = b[0].scanned = true;
	a[0].bytes = 200, a[0].allocs = 2, a[0].lost_bytes = 120, a[0].indirect_bytes = 30;
	a[1].lost_bytes = 180, a[1].indirect_bytes = 20;
	b[0].bytes = 7, b[0].lost_bytes = 7;
	cr_assert_eq(suppress__apply(s, &snap), 0);
	cr_assert_str_eq(a[0].suppressed, "config");
	cr_assert_null(a[1].suppressed);
	cr_assert_eq(procs[0].suppressed_bytes, 200);
	cr_assert_eq(procs[0].suppressed_allocs, 2);
	cr_assert_eq(procs[0].suppressed_lost_bytes, 150);
	cr_assert_eq(proc_stat__leaked(&procs[0], LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT, NULL),
		     200);
	cr_assert_eq(proc_stat__leaked(&procs[1], LEAK_KIND_DEFINITE | LEAK_KIND_INDIRECT, NULL),
		     0);
	cr_assert_eq(snap.nr_suppressions, 1);
	cr_assert_str_eq(snap.suppressions[0].name, "config");
	cr_assert_str_eq(snap.suppressions[0].where, "t.supp:1");
	cr_assert_eq(snap.suppressions[0].stacks, 2);
	cr_assert_eq(snap.suppressions[0].bytes, 207);
	cr_assert_eq(snap.suppressions[0].allocs, 3);
	cr_assert_eq(snap.suppressions[0].lost_bytes, 157);
	/* A suppressed stack is never a suspect, however lost. */
	cr_assert_not(stack_stat__suspect(&a[0]));
	cr_assert(stack_stat__suspect(&a[1]));

	/* JSON: written, read back, and written again the same. */
	{
		struct capture c1, c2;
		struct snapshot *back = NULL;
		char err[256];

		snapshot_json__write(golden__open(&c1), &snap);
		golden__close(&c1);
		cr_assert_not_null(strstr(c1.buf, "\"suppressed\":{\"bytes\":200,\"allocs\":2,"
						  "\"lost_bytes\":150}"),
				   "%s", c1.buf);
		cr_assert_not_null(strstr(c1.buf,
					  "\"suppressions\":[{\"name\":\"config\","
					  "\"where\":\"t.supp:1\",\"stacks\":2,\"bytes\":207,"
					  "\"allocs\":3,\"lost_bytes\":157}]"),
				   "%s", c1.buf);
		cr_assert_eq(snapshot_json__load_text(c1.buf, "s.json", &back, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert_str_eq(back->procs[0].stacks[0].suppressed, "config");
		cr_assert_eq(back->procs[0].suppressed_lost_bytes, 150);
		cr_assert_eq(back->nr_suppressions, 1);
		snapshot_json__write(golden__open(&c2), back);
		golden__close(&c2);
		cr_assert_str_eq(c2.buf, c1.buf);
		free(c1.buf);
		free(c2.buf);
		snapshot__free(back);
	}
	arena__free(snap.arena);
	suppress__free(s);
}

/* Many "..." against a long stack that never matches: remembered failures keep it short. */
Test(suppress, many_ellipses_on_a_long_stack_end_without_matching, .timeout = 30)
{
	static struct frame deep[SNAP_MAX_FRAMES];
	char text[4096] = "{\n n\n";
	struct suppressions *s;
	struct stack_stat st;

	for (int i = 0; i < SNAP_MAX_FRAMES; i++)
		deep[i] = (struct frame){ .symbol = "a", .module = "/m", .address = 0x10 };
	for (int i = 0; i < 30; i++)
		strcat(text, " ...\n fun:a\n");
	strcat(text, " ...\n fun:b\n}\n");
	s = parsed(text);
	st = stack_of(deep, SNAP_MAX_FRAMES);
	cr_assert_null(suppress__match(s, &st));
	deep[SNAP_MAX_FRAMES - 1].symbol = "b";
	cr_assert_str_eq(suppress__match(s, &st), "n");
	suppress__free(s);
}
