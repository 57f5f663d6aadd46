// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* C++ and Rust names demangled with libiberty's demangler, and only those. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "demangle.h"

Test(demangle, mangled_function_is_demangled)
{
	char *s = demangle__name("_ZN5cache6refillEm");

	cr_assert_str_eq(s, "cache::refill(unsigned long)");
	free(s);
}

Test(demangle, operator_new_and_clones_are_demangled)
{
	char *a = demangle__name("_Znwm"), *b = demangle__name("_ZN3fooC2Ev.cold");

	cr_assert_str_eq(a, "operator new(unsigned long)");
	cr_assert_str_eq(b, "foo::foo() [clone .cold]");
	free(a);
	free(b);
}

/* Rust's legacy mangling is C++'s with a hash at the end, which is left out. */
Test(demangle, rust_legacy_names_are_demangled_without_their_hash)
{
	char *s = demangle__name("_ZN4leak5inner10leak_bytes17h0123456789abcdefE");

	cr_assert_str_eq(s, "leak::inner::leak_bytes");
	free(s);
}

/* Rust's v0 mangling ("_R"): paths, generic arguments and closures, without crate hashes. */
Test(demangle, rust_v0_names_are_demangled)
{
	char *a = demangle__name("_RNvNtCs1234_4leak5inner10leak_bytes");
	char *b = demangle__name("_RNvMNtCs1234_4leak5innerINtB2_6HolderlE4keepB4_");
	char *c = demangle__name("_RNCNvCs1234_4leak4main0B3_");

	cr_assert_str_eq(a, "leak::inner::leak_bytes");
	cr_assert_str_eq(b, "<leak::inner::Holder<i32>>::keep");
	cr_assert_str_eq(c, "leak::main::{closure#0}");
	free(a);
	free(b);
	free(c);
}

Test(demangle, c_names_and_bad_names_are_left_alone)
{
	cr_assert_null(demangle__name("malloc"));
	cr_assert_null(demangle__name("i"));
	cr_assert_null(demangle__name("_Zgarbage"));
	cr_assert_null(demangle__name("_Rgarbage"));
	cr_assert_null(demangle__name("_RNvC"));
	cr_assert_null(demangle__name(NULL));
}

Test(demangle, snapshot_frames_are_replaced_and_the_source_frames_kept)
{
	static const struct frame frames[] = {
		{ "_ZN5cache6refillEm", 4, "/m", 0x10, 0, false, NULL },
		{ "main", 8, "/m", 0x20, 0, false, NULL },
	};
	struct stack_stat s = { .bytes = 1,
				.allocs = 1,
				.frames = (const struct frame *const[]){ &frames[0], &frames[1] },
				.nr_frames = 2 };
	struct proc_stat p = { .pid = 1, .comm = "c", .stacks = &s, .nr_stacks = 1 };
	struct snapshot *snap = calloc(1, sizeof(*snap));

	snap->procs = calloc(1, sizeof(p));
	snap->procs[0] = p;
	snap->procs[0].stacks = calloc(1, sizeof(s));
	snap->procs[0].stacks[0] = s;
	snap->nr_procs = 1;
	cr_assert_eq(demangle__snapshot(snap), 0);
	cr_assert_str_eq(snap->procs[0].stacks[0].frames[0]->symbol,
			 "cache::refill(unsigned long)");
	cr_assert_eq(snap->procs[0].stacks[0].frames[0]->offset, 4);
	cr_assert_str_eq(snap->procs[0].stacks[0].frames[1]->symbol, "main");
	cr_assert_str_eq(frames[0].symbol, "_ZN5cache6refillEm");
	snapshot__free(snap);
}
