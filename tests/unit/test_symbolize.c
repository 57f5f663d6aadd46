// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* symbolizer: addresses and frame-pointer stacks of this very test process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "elf_syms.h"
#include "procs.h"
#include "symbolize.h"

uint64_t lt_test_fp_callee(void);
uint64_t lt_test_fp_caller(void);
uint64_t lt_test_nofp_callee(void);
uint64_t lt_test_nofp_caller(void);

/*
 * Helpers with a known prologue whatever the test binary's flags: the callees
 * return their own return address, a real return address in the caller.
 */
__attribute__((noinline, noclone, optimize("no-omit-frame-pointer"))) uint64_t
lt_test_fp_callee(void)
{
	/* A frame-0 address past the prologue: the frame is set up there. */
	__asm__ volatile(".globl lt_test_fp_callee_body\nlt_test_fp_callee_body:");
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

extern const char lt_test_fp_callee_body[];

__attribute__((noinline, optimize("no-omit-frame-pointer", "no-optimize-sibling-calls"))) uint64_t
lt_test_fp_caller(void)
{
	return lt_test_fp_callee();
}

__attribute__((noinline, optimize("omit-frame-pointer"))) uint64_t lt_test_nofp_callee(void)
{
	return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

__attribute__((noinline, optimize("omit-frame-pointer", "no-optimize-sibling-calls"))) uint64_t
lt_test_nofp_caller(void)
{
	return lt_test_nofp_callee();
}

static uint64_t addr_of(uint64_t (*fn)(void))
{
	return (uint64_t)(uintptr_t)fn;
}

static const char *self_exe(void)
{
	static char exe[PATH_MAX];

	if (!exe[0])
		cr_assert_gt(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	return exe;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static struct symbolizer *new_for_self(void)
{
	struct symbolizer *s = symbolizer__new();

	cr_assert_not_null(s);
	cr_assert_eq(symbolizer__add_process(s, getpid()), 0);
	return s;
}

Test(symbolize, function_of_test_binary)
{
	struct symbolizer *s = new_for_self();
	struct frame f;

	cr_assert_eq(symbolizer__frame(s, getpid(), addr_of(lt_test_fp_callee), &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_fp_callee");
	cr_assert_eq(f.offset, 0);
	cr_assert_str_eq(f.module, self_exe());
	cr_assert(ends_with(f.module, "tests/unit"));
	cr_assert_eq(f.address, addr_of(lt_test_fp_callee));
	symbolizer__free(s);
}

/* Where the frame is in its file: the symbol table's address for it, and the file's build ID. */
Test(symbolize, frame_has_module_offset_and_build_id)
{
	struct symbolizer *s = new_for_self();
	struct elf_syms *syms;
	char *id = elf_syms__file_build_id(self_exe());
	uint64_t link = 0;
	struct frame f;
	int err;

	syms = elf_syms__open(self_exe(), NULL, &err);
	cr_assert_not_null(syms);
	cr_assert_eq(elf_syms__find(syms, "lt_test_fp_callee", &link), 0);
	cr_assert_eq(symbolizer__frame(s, getpid(), addr_of(lt_test_fp_callee) + 3, &f), 0);
	cr_assert(f.has_module_offset);
	cr_assert_eq(f.module_offset, link + 3);
	cr_assert_not_null(id, "the test binary has no build ID");
	cr_assert_str_eq(f.build_id, id);
	free(id);
	elf_syms__free(syms);
	symbolizer__free(s);
}

Test(symbolize, offset_inside_function)
{
	struct symbolizer *s = new_for_self();
	struct frame f;

	cr_assert_eq(symbolizer__frame(s, getpid(), addr_of(lt_test_fp_callee) + 1, &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_fp_callee");
	cr_assert_eq(f.offset, 1);
	symbolizer__free(s);
}

Test(symbolize, heap_address_has_no_symbol_nor_module)
{
	struct symbolizer *s = symbolizer__new();
	void *p = malloc(64);
	struct frame f;

	cr_assert_eq(symbolizer__frame(s, getpid(), (uint64_t)(uintptr_t)p, &f), 0);
	cr_assert_null(f.symbol);
	cr_assert_null(f.module);
	cr_assert_eq(f.offset, 0);
	cr_assert_not(f.has_module_offset);
	cr_assert_null(f.build_id);
	free(p);
	symbolizer__free(s);
}

Test(symbolize, unmapped_address_is_enoent)
{
	struct symbolizer *s = new_for_self();
	struct frame f;

	cr_assert_eq(symbolizer__frame(s, getpid(), 0x10, &f), -ENOENT);
	cr_assert_null(f.symbol);
	cr_assert_eq(f.address, 0x10);
	symbolizer__free(s);
}

Test(symbolize, dead_process_cannot_be_added)
{
	pid_t pid = procs__dead();
	struct symbolizer *s;

	s = symbolizer__new();
	cr_assert_eq(symbolizer__add_process(s, pid), -ESRCH);
	symbolizer__free(s);
}

/* A forked child has our mappings: after it exits, its addresses still resolve. */
Test(symbolize, process_symbolized_after_exit)
{
	pid_t pid = fork();
	struct symbolizer *s;
	struct frame f;
	const char *exe;

	if (pid == 0) {
		pause();
		_exit(0);
	}
	s = symbolizer__new();
	cr_assert_eq(symbolizer__add_process(s, pid), 0);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(symbolizer__add_process(s, pid), -ESRCH);
	cr_assert_eq(symbolizer__frame(s, pid, addr_of(lt_test_fp_caller), &f), 0);
	cr_assert_str_eq(f.symbol, "lt_test_fp_caller");
	cr_assert_eq(symbolizer__exe(s, pid, &exe), 0);
	cr_assert_str_eq(exe, self_exe());
	symbolizer__free(s);
}

Test(symbolize, removed_process_frames_keep_their_strings)
{
	struct symbolizer *s = new_for_self();
	struct frame f;

	cr_assert_eq(symbolizer__frame(s, getpid(), addr_of(lt_test_fp_callee), &f), 0);
	symbolizer__remove_process(s, getpid());
	cr_assert_str_eq(f.module, self_exe());
	cr_assert_str_eq(f.symbol, "lt_test_fp_callee");
	symbolizer__free(s);
}

Test(symbolize, exe_of_process)
{
	struct symbolizer *s = new_for_self();
	const char *exe = NULL;

	cr_assert_eq(symbolizer__exe(s, getpid(), &exe), 0);
	cr_assert_str_eq(exe, self_exe());
	symbolizer__free(s);
}

Test(symbolize, exe_of_unknown_process_is_esrch)
{
	struct symbolizer *s = symbolizer__new();
	const char *exe = "x";

	cr_assert_eq(symbolizer__exe(s, getpid(), &exe), -ESRCH);
	cr_assert_null(exe);
	symbolizer__free(s);
}

Test(symbolize, stack_follows_frame_pointer_function_to_its_caller)
{
	struct symbolizer *s = new_for_self();
	uint64_t body = (uint64_t)(uintptr_t)lt_test_fp_callee_body;
	uint64_t ips[] = { body, lt_test_fp_caller(), 0, 0x1234 };
	struct frame out[4];
	bool truncated = true;

	cr_assert_eq(symbolizer__stack(s, getpid(), ips, 4, out, &truncated), 2);
	cr_assert_not(truncated);
	cr_assert_str_eq(out[0].symbol, "lt_test_fp_callee");
	cr_assert_eq(out[0].offset, ips[0] - addr_of(lt_test_fp_callee));
	cr_assert_str_eq(out[1].symbol, "lt_test_fp_caller");
	cr_assert_eq(out[1].offset, ips[1] - addr_of(lt_test_fp_caller));
	cr_assert_gt(out[1].offset, 0);
	symbolizer__free(s);
}

Test(symbolize, stack_stops_after_function_without_frame_pointer)
{
	struct symbolizer *s = new_for_self();
	uint64_t ips[] = { addr_of(lt_test_nofp_callee), lt_test_nofp_caller() };
	struct frame out[2];
	bool truncated = false;

	cr_assert_eq(symbolizer__stack(s, getpid(), ips, 2, out, &truncated), 1);
	cr_assert(truncated);
	cr_assert_str_eq(out[0].symbol, "lt_test_nofp_callee");
	symbolizer__free(s);
}

/* The start of a function is no return address: nothing before it is a call. */
Test(symbolize, stack_stops_at_address_not_after_call)
{
	struct symbolizer *s = new_for_self();
	uint64_t ips[] = { addr_of(lt_test_fp_callee), addr_of(lt_test_fp_caller) + 1 };
	struct frame out[2];
	bool truncated = false;

	cr_assert_eq(symbolizer__stack(s, getpid(), ips, 2, out, &truncated), 1);
	cr_assert(truncated);
	symbolizer__free(s);
}

Test(symbolize, stack_keeps_unknown_frame_zero_and_stops)
{
	struct symbolizer *s = new_for_self();
	void *p = malloc(64);
	uint64_t ips[] = { (uint64_t)(uintptr_t)p, lt_test_fp_caller() };
	struct frame out[2];
	bool truncated = false;

	cr_assert_eq(symbolizer__stack(s, getpid(), ips, 2, out, &truncated), 1);
	cr_assert(truncated);
	cr_assert_null(out[0].symbol);
	cr_assert_eq(out[0].address, ips[0]);
	free(p);
	symbolizer__free(s);
}

Test(symbolize, free_accepts_null)
{
	symbolizer__free(NULL);
}
