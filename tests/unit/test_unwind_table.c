// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * unwind_table: rows built from the CFI of functions written here in assembly
 * (so that their rules are known to the byte), and from the system's libc and libstdc++.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_syms.h"
#include "unwind_table.h"

#define SELF "/proc/self/exe" /* this test binary, with the functions below */
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"

/*
 * ut_fp: a frame-pointer prologue (offsets 0, 1, 4) and epilogue (8, 9).
 * ut_branch: an early return between .cfi_remember_state and .cfi_restore_state,
 * so the rule at offset 8 comes back from the saved state.
 * ut_nocfi: no FDE at all. ut_signal: a signal frame. ut_outermost: no caller.
 */
asm(".text\n"
    ".globl ut_fp\n.type ut_fp, @function\n"
    "ut_fp:\n.cfi_startproc\n"
    "push %rbp\n" /* 0 */
    ".cfi_def_cfa_offset 16\n.cfi_offset rbp, -16\n"
    "mov %rsp, %rbp\n" /* 1 */
    ".cfi_def_cfa_register rbp\n"
    "call ut_nocfi\n" /* 4 */
    "pop %rbp\n"      /* 9 */
    ".cfi_def_cfa rsp, 8\n"
    "ret\n" /* 10 */
    ".cfi_endproc\n.size ut_fp, .-ut_fp\n"

    ".globl ut_branch\n.type ut_branch, @function\n"
    "ut_branch:\n.cfi_startproc\n"
    "push %rbx\n" /* 0 */
    ".cfi_def_cfa_offset 16\n.cfi_offset rbx, -16\n"
    "test %rdi, %rdi\n" /* 1 */
    "je 1f\n"		/* 4 */
    ".cfi_remember_state\n"
    "pop %rbx\n" /* 6 */
    ".cfi_def_cfa_offset 8\n"
    "ret\n" /* 7 */
    ".cfi_restore_state\n"
    "1: mov $1, %eax\n" /* 8 */
    "pop %rbx\n"	/* 13 */
    ".cfi_def_cfa_offset 8\n"
    "ret\n" /* 14 */
    ".cfi_endproc\n.size ut_branch, .-ut_branch\n"

    ".globl ut_nocfi\n.type ut_nocfi, @function\n"
    "ut_nocfi:\n"
    "nop\nret\n"
    ".size ut_nocfi, .-ut_nocfi\n"

    ".globl ut_signal\n.type ut_signal, @function\n"
    "ut_signal:\n.cfi_startproc\n.cfi_signal_frame\n"
    "nop\nret\n"
    ".cfi_endproc\n.size ut_signal, .-ut_signal\n"

    ".globl ut_bigframe\n.type ut_bigframe, @function\n"
    "ut_bigframe:\n.cfi_startproc\n"
    "sub $40000, %rsp\n" /* 0 */
    ".cfi_def_cfa_offset 40008\n"
    "add $40000, %rsp\n" /* 7 */
    ".cfi_def_cfa_offset 8\n"
    "ret\n"
    ".cfi_endproc\n.size ut_bigframe, .-ut_bigframe\n"

    ".globl ut_outermost\n.type ut_outermost, @function\n"
    "ut_outermost:\n.cfi_startproc\n.cfi_undefined rip\n"
    "nop\nret\n"
    ".cfi_endproc\n.size ut_outermost, .-ut_outermost\n");

static struct unwind_table *build(const char *path)
{
	struct unwind_table *t = NULL;
	int err = unwind_table__build(path, &t);

	cr_assert_eq(err, 0, "cannot build the table of %s: %s", path, strerror(-err));
	cr_assert_not_null(t);
	return t;
}

/* The row at function name's link-time address + off in path. */
static struct lt_unwind_row row_at(const struct unwind_table *t, const char *path, const char *name,
				   uint64_t off)
{
	const struct lt_unwind_row *r;
	struct elf_syms *syms;
	uint64_t addr;
	int err = 0;

	syms = elf_syms__open(path, "/nonexistent", &err);
	cr_assert_not_null(syms, "cannot read the symbols of %s", path);
	cr_assert_eq(elf_syms__find(syms, name, &addr), 0, "%s not in %s", name, path);
	elf_syms__free(syms);
	r = unwind_table__lookup(t, addr + off);
	cr_assert_not_null(r, "no row at %s+%lu", name, (unsigned long)off);
	return *r;
}

static void assert_row(struct lt_unwind_row r, unsigned int cfa, int cfa_off, unsigned int rbp,
		       int rbp_off, const char *where)
{
	cr_assert_eq(r.cfa, cfa, "%s: cfa rule %u, want %u", where, r.cfa, cfa);
	cr_assert_eq(r.cfa_off, cfa_off, "%s: cfa offset %d, want %d", where, r.cfa_off, cfa_off);
	cr_assert_eq(r.fp, rbp, "%s: rbp rule %u, want %u", where, r.fp, rbp);
	cr_assert_eq(r.fp_off8 * 8, rbp_off, "%s: rbp offset %d, want %d", where, r.fp_off8 * 8,
		     rbp_off);
}

Test(unwind_table, frame_pointer_prologue_and_epilogue)
{
	struct unwind_table *t = build(SELF);

	assert_row(row_at(t, SELF, "ut_fp", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "+0");
	assert_row(row_at(t, SELF, "ut_fp", 1), LT_CFA_SP, 16, LT_FP_AT, -16, "+1");
	assert_row(row_at(t, SELF, "ut_fp", 4), LT_CFA_FP, 16, LT_FP_AT, -16, "+4");
	assert_row(row_at(t, SELF, "ut_fp", 9), LT_CFA_FP, 16, LT_FP_AT, -16, "+9");
	assert_row(row_at(t, SELF, "ut_fp", 10), LT_CFA_SP, 8, LT_FP_AT, -16, "+10");
	unwind_table__free(t);
}

Test(unwind_table, rule_restored_after_an_early_return)
{
	struct unwind_table *t = build(SELF);

	assert_row(row_at(t, SELF, "ut_branch", 4), LT_CFA_SP, 16, LT_FP_SAME, 0, "+4");
	assert_row(row_at(t, SELF, "ut_branch", 7), LT_CFA_SP, 8, LT_FP_SAME, 0, "+7");
	assert_row(row_at(t, SELF, "ut_branch", 8), LT_CFA_SP, 16, LT_FP_SAME, 0, "+8");
	assert_row(row_at(t, SELF, "ut_branch", 13), LT_CFA_SP, 16, LT_FP_SAME, 0, "+13");
	assert_row(row_at(t, SELF, "ut_branch", 14), LT_CFA_SP, 8, LT_FP_SAME, 0, "+14");
	unwind_table__free(t);
}

Test(unwind_table, no_fde_signal_frame_and_outermost_frame)
{
	struct unwind_table *t = build(SELF);

	assert_row(row_at(t, SELF, "ut_nocfi", 1), LT_CFA_NONE, 0, LT_FP_SAME, 0, "nocfi");
	assert_row(row_at(t, SELF, "ut_signal", 0), LT_CFA_NONE, 0, LT_FP_SAME, 0, "signal");
	assert_row(row_at(t, SELF, "ut_outermost", 0), LT_CFA_END, 0, LT_FP_SAME, 0, "end");
	/* A frame over 32 KiB: its CFA offset in 8-byte units. */
	assert_row(row_at(t, SELF, "ut_bigframe", 7), LT_CFA_SP8, 40008 / 8, LT_FP_SAME, 0,
		   "bigframe");
	unwind_table__free(t);
}

/*
 * The dynamic loader's entry (_start, then _dl_start_user, which calls every
 * constructor) has no FDE: its entry point ends the walk, as the CFI of an
 * executable's _start does. readelf's header gives the entry point.
 */
Test(unwind_table, loader_entry_without_cfi_is_the_outermost_frame)
{
	const char *ld = "/lib64/ld-linux-x86-64.so.2";
	unsigned long long entry = 0;
	const struct lt_unwind_row *r;
	struct unwind_table *t = build(ld);
	char line[256];
	FILE *p;

	p = popen("readelf -h /lib64/ld-linux-x86-64.so.2", "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p))
		sscanf(line, " Entry point address: %llx", &entry);
	pclose(p);
	cr_assert_neq(entry, 0);
	/* The call to _dl_init returns 0x30 bytes in, still in the entry's code. */
	for (unsigned long long pc = entry; pc < entry + 0x30; pc++) {
		r = unwind_table__lookup(t, pc);
		cr_assert_not_null(r);
		cr_assert_eq(r->cfa, LT_CFA_END, "entry+0x%llx: rule %d", pc - entry, r->cfa);
	}
	unwind_table__free(t);
}

Test(unwind_table, libc_malloc_entry_and_plt)
{
	struct unwind_table *t = build(LIBC);
	size_t plt = 0;

	/* At any function's first instruction, the return address is on top of the stack. */
	assert_row(row_at(t, LIBC, "malloc", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "malloc");
	assert_row(row_at(t, LIBC, "free", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "free");
	/* One FDE covers .plt's entries after PLT0, with the expression every linker writes. */
	for (size_t i = 0; i < t->nr; i++) {
		if (t->rows[i].cfa == LT_CFA_PLT) {
			cr_assert_eq(t->rows[i].cfa_off, 11);
			plt++;
		}
	}
	cr_assert_eq(plt, 1);
	unwind_table__free(t);
}

Test(unwind_table, rows_sorted_and_each_a_change)
{
	struct unwind_table *t = build(LIBSTDCXX);

	cr_assert_gt(t->nr, 1000);
	for (size_t i = 1; i < t->nr; i++) {
		const struct lt_unwind_row *a = &t->rows[i - 1], *b = &t->rows[i];

		cr_assert_lt(a->pc, b->pc, "row %zu", i);
		cr_assert(a->cfa != b->cfa || a->cfa_off != b->cfa_off || a->fp != b->fp ||
				  a->fp_off8 != b->fp_off8,
			  "row %zu repeats row %zu", i, i - 1);
	}
	cr_assert_null(unwind_table__lookup(t, t->rows[0].pc - 1));
	cr_assert_eq(unwind_table__lookup(t, t->rows[0].pc), &t->rows[0]);
	unwind_table__free(t);
}

Test(unwind_table, bad_files)
{
	struct unwind_table *t = NULL;

	cr_assert_eq(unwind_table__build("/nonexistent/lib.so", &t), -ENOENT);
	cr_assert_eq(unwind_table__build("/etc/passwd", &t), -ENOEXEC);
	cr_assert_null(t);
}

/* Compiles a small C program with cc and extra flags into a new temporary file; its path. */
static char *compile(const char *flags)
{
	char *path = strdup("/tmp/lt-unwind-XXXXXX"), *cmd;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_gt(
		asprintf(&cmd, "printf '%s' | cc -O1 -fno-omit-frame-pointer %s -x c - -o %s",
			 "#include <stdlib.h>\\n"
			 "__attribute__((noinline)) void *ut_leaf(int n) { return malloc(n); }\\n"
			 "__attribute__((noinline)) void *ut_mid(int n) { return ut_leaf(n) ; }\\n"
			 "int main(int c, char **v) { return ut_mid(c) != 0; }\\n",
			 flags, path),
		0);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
	return path;
}

/* gcc asks the linker for .eh_frame_hdr only when linking dynamically: .eh_frame is read. */
Test(unwind_table, static_binary_without_eh_frame_hdr, .timeout = 60)
{
	char *path = compile("-static");
	struct unwind_table *t = build(path);

	assert_row(row_at(t, path, "ut_mid", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "+0");
	assert_row(row_at(t, path, "ut_mid", 1), LT_CFA_SP, 16, LT_FP_AT, -16, "+1");
	assert_row(row_at(t, path, "ut_mid", 4), LT_CFA_FP, 16, LT_FP_AT, -16, "+4");
	assert_row(row_at(t, path, "malloc", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "malloc");
	unwind_table__free(t);
	unlink(path);
	free(path);
}

Test(unwind_table, file_without_eh_frame_is_enodata, .timeout = 60)
{
	char *path = compile("-fno-asynchronous-unwind-tables -fno-unwind-tables -nostartfiles "
			     "-Wl,-e,main -Wl,--no-eh-frame-hdr");
	struct unwind_table *t = NULL;
	char *cmd;

	cr_assert_gt(asprintf(&cmd, "objcopy -R .eh_frame -R .eh_frame_hdr %s 2>/dev/null", path),
		     0);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(unwind_table__build(path, &t), -ENODATA);
	cr_assert_null(t);
	unlink(path);
	free(cmd);
	free(path);
}

/*
 * The layout of a Go program built with cgo, in miniature: Go's code between
 * runtime.text and runtime.etext without CFI, runtime.asmcgocall.abi0 in it,
 * and C code with CFI inside and after it. The Go program's mark is its
 * .gopclntab section (given with go, left out without it).
 */
static const char go_like[] =
	"asm(\".text\\n\"\n"
	"    \".globl runtime.text\\n.type runtime.text, @function\\nruntime.text:\\n\"\n"
	"    \".fill 16, 1, 0x90\\n\"\n"
	"    \".globl runtime.asmcgocall.abi0\\n.type runtime.asmcgocall.abi0, @function\\n\"\n"
	"    \"runtime.asmcgocall.abi0:\\nmov %%rdi, %s(%%rsp)\\nmov %%rdi, 0x28(%%rsp)\\n\"\n"
	"    \".fill 6, 1, 0x90\\n\"\n"
	"    \".size runtime.asmcgocall.abi0, 16\\n\"\n"
	"    \".globl ut_go_c\\n.type ut_go_c, @function\\nut_go_c:\\n.cfi_startproc\\n\"\n"
	"    \"push %%rbp\\n.cfi_def_cfa_offset 16\\n.cfi_offset rbp, -16\\n\"\n"
	"    \"pop %%rbp\\n.cfi_def_cfa_offset 8\\nret\\n.cfi_endproc\\n.size ut_go_c, .-ut_go_c\\n\"\n"
	"    \".globl ut_go_after\\n.type ut_go_after, @function\\nut_go_after:\\n\"\n"
	"    \".fill 16, 1, 0x90\\n\"\n"
	"    \".globl runtime.etext\\n.type runtime.etext, @function\\nruntime.etext:\\n\"\n"
	"    \".globl ut_c_after\\n.type ut_c_after, @function\\nut_c_after:\\nnop\\nret\\n\"\n"
	"%s);\n"
	"int main(void) { return 0; }\n";

static char *compile_go_like(bool go, const char *g_at)
{
	char *path = strdup("/tmp/lt-unwind-XXXXXX"), *src, *cmd;
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_gt(asprintf(&src, "%s.c", path), 0);
	f = fopen(src, "w");
	cr_assert_not_null(f);
	fprintf(f, go_like, g_at, go ? "\"\\n.section .gopclntab, \\\"a\\\"\\n.byte 0\\n\"" : "");
	fclose(f);
	cr_assert_gt(asprintf(&cmd, "cc -no-pie %s -o %s", src, path), 0);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	unlink(src);
	free(src);
	free(cmd);
	return path;
}

/*
 * A Go program's code is walked by its frame pointers, runtime.asmcgocall by the
 * row that returns to the goroutine's stack, and the C code by its CFI, inside
 * Go's text or after it.
 */
Test(unwind_table, go_text_followed_by_frame_pointers, .timeout = 60)
{
	char *path = compile_go_like(true, "0x30");
	struct unwind_table *t = build(path);

	assert_row(row_at(t, path, "runtime.text", 0), LT_CFA_FP_CHAIN, 0, LT_FP_SAME, 0, "text");
	assert_row(row_at(t, path, "runtime.asmcgocall.abi0", 0), LT_CFA_GO_CGO, 0, LT_FP_SAME, 0,
		   "asmcgocall");
	assert_row(row_at(t, path, "runtime.asmcgocall.abi0", 15), LT_CFA_GO_CGO, 0, LT_FP_SAME, 0,
		   "asmcgocall+15");
	assert_row(row_at(t, path, "ut_go_c", 0), LT_CFA_SP, 8, LT_FP_SAME, 0, "c+0");
	assert_row(row_at(t, path, "ut_go_c", 1), LT_CFA_SP, 16, LT_FP_AT, -16, "c+1");
	assert_row(row_at(t, path, "ut_go_after", 0), LT_CFA_FP_CHAIN, 0, LT_FP_SAME, 0, "after c");
	assert_row(row_at(t, path, "ut_c_after", 0), LT_CFA_NONE, 0, LT_FP_SAME, 0, "etext");
	unwind_table__free(t);
	unlink(path);
	free(path);
}

/* The same code in a program that is not Go's: no rows but its CFI's. */
Test(unwind_table, go_symbols_without_go_are_plain_code, .timeout = 60)
{
	char *path = compile_go_like(false, "0x30");
	struct unwind_table *t = build(path);

	assert_row(row_at(t, path, "runtime.text", 0), LT_CFA_NONE, 0, LT_FP_SAME, 0, "text");
	assert_row(row_at(t, path, "runtime.asmcgocall.abi0", 0), LT_CFA_NONE, 0, LT_FP_SAME, 0,
		   "asmcgocall");
	assert_row(row_at(t, path, "ut_go_c", 1), LT_CFA_SP, 16, LT_FP_AT, -16, "c+1");
	unwind_table__free(t);
	unlink(path);
	free(path);
}

/* A Go whose runtime.asmcgocall keeps the goroutine elsewhere: its Go code by frame pointers, the switch not followed. */
Test(unwind_table, go_switch_of_another_layout_not_followed, .timeout = 60)
{
	char *path = compile_go_like(true, "0x20");
	struct unwind_table *t = build(path);

	assert_row(row_at(t, path, "runtime.text", 0), LT_CFA_FP_CHAIN, 0, LT_FP_SAME, 0, "text");
	assert_row(row_at(t, path, "runtime.asmcgocall.abi0", 0), LT_CFA_FP_CHAIN, 0, LT_FP_SAME, 0,
		   "asmcgocall");
	unwind_table__free(t);
	unlink(path);
	free(path);
}
