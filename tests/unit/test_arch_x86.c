// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * x86: probe placement on the real allocators of Debian 12 (glibc 2.36, libjemalloc2
 * 5.3.0, libgoogle-perftools4 2.10) and on hand-made code; frame setup; kernel rules.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_syms.h"
#include "arch_x86.h"
#include "mmap_sites.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#define TCMALLOC "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"
#define NO_DEBUG_ROOT "/nonexistent/leaktrace-debug"

/* What the allocator probes read (as src/allocator.c asks). */
#define ARGS1 ARCH_ARG1
#define ARGS2 (ARCH_ARG1 | ARCH_ARG2)
#define ARGS3 (ARCH_ARG1 | ARCH_ARG2 | ARCH_ARG3)
#define ARGS5 (ARGS3 | ARCH_ARG4 | ARCH_ARG5)

/* A kernel that emulates everything this file knows of (6.18, the machine's). */
static unsigned int all_emul(void)
{
	return arch__uprobe_emulation("6.18.44");
}

static struct arch_probe place_code(const uint8_t *code, size_t n, unsigned int args,
				    bool null_check, bool same_sp, unsigned int emul)
{
	const struct arch_probe_req req = {
		.args = args,
		.emul = emul,
		.null_check = null_check,
		.same_sp = same_sp,
	};
	struct arch_probe site;

	memset(&site, 0xa5, sizeof(site));
	cr_assert_eq(arch__probe_offset(code, n, &req, &site), 0);
	return site;
}

/* The placement of func in lib: the whole function, as src/allocator.c reads it. */
static struct arch_probe place_in(const char *lib, const char *func, unsigned int args,
				  bool null_check, bool same_sp, unsigned int emul)
{
	const struct elf_sym *sym;
	struct elf_syms *syms;
	struct arch_probe site;
	uint64_t addr;
	uint8_t *code;
	int err;

	syms = elf_syms__open(lib, NO_DEBUG_ROOT, &err);
	cr_assert_not_null(syms, "cannot open %s: %s (tools/install-deps test)", lib,
			   strerror(-err));
	cr_assert_eq(elf_syms__find(syms, func, &addr), 0, "%s has no %s", lib, func);
	sym = elf_syms__lookup(syms, addr);
	cr_assert_not_null(sym);
	cr_assert_gt(sym->size, 0);
	code = malloc(sym->size);
	cr_assert_not_null(code);
	cr_assert_eq(elf_syms__read(syms, addr, code, sym->size), 0);
	site = place_code(code, sym->size, args, null_check, same_sp, emul);
	free(code);
	elf_syms__free(syms);
	return site;
}

static struct arch_probe place(const char *lib, const char *func, unsigned int args,
			       bool null_check, bool same_sp)
{
	return place_in(lib, func, args, null_check, same_sp, all_emul());
}

static void assert_site(struct arch_probe site, size_t offset, enum arch_why why)
{
	cr_assert_eq(site.offset, offset, "offset %zu (%s), expected %zu (%s)", site.offset,
		     arch_why__str(site.why), offset, arch_why__str(why));
	cr_assert_eq(site.why, why, "%s, expected %s", arch_why__str(site.why), arch_why__str(why));
	cr_assert_eq(site.sp_delta, 0);
}

/* glibc */

Test(arch_probe, glibc_malloc_stays_at_its_emulated_push_r12)
{
	assert_site(place(LIBC, "malloc", ARGS1, false, true), 0, ARCH_WHY_ENTRY);
}

/* test %rdi,%rdi (3 bytes, single-stepped); je (emulated, sees NULL too); push %rbp at 9. */
Test(arch_probe, glibc_free_moves_to_the_je_of_its_null_check)
{
	assert_site(place(LIBC, "free", ARGS1, true, false), 3, ARCH_WHY_MOVED);
}

Test(arch_probe, glibc_calloc_and_realloc_stay_at_their_pushes)
{
	assert_site(place(LIBC, "calloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(LIBC, "realloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
}

/* cmpb $0x0,__malloc_initialized(%rip) (7 bytes) writes only the flags. */
Test(arch_probe, glibc_aligned_functions_move_past_the_initialized_check)
{
	assert_site(place(LIBC, "posix_memalign", ARGS3, false, true), 7, ARCH_WHY_MOVED);
	assert_site(place(LIBC, "aligned_alloc", ARGS2, false, true), 7, ARCH_WHY_MOVED);
	assert_site(place(LIBC, "memalign", ARGS2, false, true), 7, ARCH_WHY_MOVED);
	assert_site(place(LIBC, "valloc", ARGS1, false, true), 7, ARCH_WHY_MOVED);
	assert_site(place(LIBC, "pvalloc", ARGS1, false, true), 7, ARCH_WHY_MOVED);
}

/* mov %rsi,%rax; mul %rdx: the product overwrites the third argument. */
Test(arch_probe, glibc_reallocarray_stays_at_entry_as_mul_overwrites_rdx)
{
	assert_site(place(LIBC, "reallocarray", ARGS3, false, true), 0, ARCH_WHY_ARG_WRITTEN);
}

/* mov %ecx,%r10d (3); test $0xfff,%r9d (7); jne at 10. */
Test(arch_probe, glibc_mmap_moves_to_its_first_jne)
{
	assert_site(place(LIBC, "mmap", ARGS5, false, true), 10, ARCH_WHY_MOVED);
}

/* mov $0xb,%eax; syscall: the unmapping must not happen before the probe. */
Test(arch_probe, glibc_munmap_stays_before_its_syscall)
{
	assert_site(place(LIBC, "munmap", ARGS2, false, false), 0, ARCH_WHY_BARRIER);
}

/* jemalloc */

/* cmp $0x1000,%rdi (7); ja at 7. */
Test(arch_probe, jemalloc_malloc_moves_to_its_size_class_ja)
{
	assert_site(place(JEMALLOC, "malloc", ARGS1, false, true), 7, ARCH_WHY_MOVED);
}

/* Ten instructions that read %rdi and write %rax, %rcx, %rdx only; jne at 0x30. */
Test(arch_probe, jemalloc_free_moves_to_its_first_jne)
{
	assert_site(place(JEMALLOC, "free", ARGS1, true, false), 0x30, ARCH_WHY_MOVED);
}

Test(arch_probe, jemalloc_other_functions_stay_at_their_push_r15)
{
	assert_site(place(JEMALLOC, "calloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(JEMALLOC, "realloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(JEMALLOC, "posix_memalign", ARGS3, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(JEMALLOC, "aligned_alloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(JEMALLOC, "memalign", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(JEMALLOC, "valloc", ARGS1, false, true), 0, ARCH_WHY_ENTRY);
}

/* tcmalloc */

/* mov hook(%rip),%rax (7); mov %rdi,%r8 (3); test %rax,%rax (3); jne at 13. */
Test(arch_probe, tcmalloc_malloc_moves_to_its_hook_jne)
{
	assert_site(place(TCMALLOC, "malloc", ARGS1, false, true), 13, ARCH_WHY_MOVED);
}

/* mov hook(%rip),%rax (7); test %rax,%rax (3); jne at 10. */
Test(arch_probe, tcmalloc_free_moves_to_its_hook_jne)
{
	assert_site(place(TCMALLOC, "free", ARGS1, true, false), 10, ARCH_WHY_MOVED);
}

/* mov tls(%rip),%rcx (7, %rcx is no argument of calloc); cmpb $0,%fs:0x10(%rcx) (5). */
Test(arch_probe, tcmalloc_calloc_moves_to_its_jne)
{
	assert_site(place(TCMALLOC, "calloc", ARGS2, false, true), 12, ARCH_WHY_MOVED);
}

Test(arch_probe, tcmalloc_realloc_valloc_pvalloc_stay_at_their_pushes)
{
	assert_site(place(TCMALLOC, "realloc", ARGS2, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(TCMALLOC, "valloc", ARGS1, false, true), 0, ARCH_WHY_ENTRY);
	assert_site(place(TCMALLOC, "pvalloc", ARGS1, false, true), 0, ARCH_WHY_ENTRY);
}

/* lea -0x1(%rsi),%rax (4); or $0x7,%rax (4); test %rsi,%rax (3); jne at 11. */
Test(arch_probe, tcmalloc_posix_memalign_moves_to_its_alignment_jne)
{
	assert_site(place(TCMALLOC, "posix_memalign", ARGS3, false, true), 11, ARCH_WHY_MOVED);
}

/* mov %rdi,%r8 (3); cmp $0x2000,%rdi (7); ja at 10. */
Test(arch_probe, tcmalloc_memalign_moves_to_its_ja)
{
	assert_site(place(TCMALLOC, "memalign", ARGS2, false, true), 10, ARCH_WHY_MOVED);
	assert_site(place(TCMALLOC, "aligned_alloc", ARGS2, false, true), 10, ARCH_WHY_MOVED);
}

/* Older kernels */

/* 4.15 single-steps push: walking past push %r12 would move %rsp under a return probe. */
Test(arch_probe, glibc_malloc_stays_at_entry_on_a_kernel_without_push_emulation)
{
	unsigned int emul = arch__uprobe_emulation("4.15.0-20-generic");

	assert_site(place_in(LIBC, "malloc", ARGS1, false, true, emul), 0, ARCH_WHY_SP_CHANGED);
	assert_site(place_in(LIBC, "free", ARGS1, true, false, emul), 3, ARCH_WHY_MOVED);
}

/* Hand-made code */

Test(arch_probe, emulated_entry_stays_at_entry)
{
	/* push %r12; push %rbp; push %rbx */
	static const uint8_t code[] = { 0x41, 0x54, 0x55, 0x53 };

	assert_site(place_code(code, sizeof(code), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_ENTRY);
}

Test(arch_probe, argument_written_before_the_push_keeps_the_entry)
{
	/* mov %rsi,%rdi; push %rbx */
	static const uint8_t mov[] = { 0x48, 0x89, 0xf7, 0x53 };
	/* xor %edi,%edi; push %rbx: a 32-bit write clears all of %rdi */
	static const uint8_t xor [] = { 0x31, 0xff, 0x53 };

	assert_site(place_code(mov, sizeof(mov), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_ARG_WRITTEN);
	assert_site(place_code(xor, sizeof(xor), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_ARG_WRITTEN);
}

Test(arch_probe, write_to_a_register_the_probe_does_not_read_is_passed)
{
	static const uint8_t code[] = { 0x48, 0x89, 0xf7, 0x53 }; /* mov %rsi,%rdi; push %rbx */

	assert_site(place_code(code, sizeof(code), ARCH_ARG2, false, true, all_emul()), 3,
		    ARCH_WHY_MOVED);
}

Test(arch_probe, indirect_jump_before_keeps_the_entry)
{
	/* test %rdi,%rdi; jmp *%rax; push %rbx */
	static const uint8_t code[] = { 0x48, 0x85, 0xff, 0xff, 0xe0, 0x53 };

	assert_site(place_code(code, sizeof(code), ARGS1, true, false, all_emul()), 0,
		    ARCH_WHY_BRANCH);
}

/* On a kernel that would not emulate the je, free may still skip its NULL check. */
Test(arch_probe, null_check_is_passed_only_for_free_and_only_on_rdi)
{
	/* test %rdi,%rdi; je +0x10; push %rbp */
	static const uint8_t rdi[] = { 0x48, 0x85, 0xff, 0x74, 0x10, 0x55 };
	/* test %rsi,%rsi; je +0x10; push %rbp */
	static const uint8_t rsi[] = { 0x48, 0x85, 0xf6, 0x74, 0x10, 0x55 };
	/* test %rdi,%rdi; jne +0x10; push %rbp */
	static const uint8_t jne[] = { 0x48, 0x85, 0xff, 0x75, 0x10, 0x55 };
	unsigned int push_only = X86_EMUL_PUSH;

	assert_site(place_code(rdi, sizeof(rdi), ARGS1, true, false, push_only), 5, ARCH_WHY_MOVED);
	assert_site(place_code(rdi, sizeof(rdi), ARGS1, false, false, push_only), 0,
		    ARCH_WHY_BRANCH);
	assert_site(place_code(rsi, sizeof(rsi), ARGS1, true, false, push_only), 0,
		    ARCH_WHY_BRANCH);
	assert_site(place_code(jne, sizeof(jne), ARGS1, true, false, push_only), 0,
		    ARCH_WHY_BRANCH);
}

Test(arch_probe, stack_moved_before_is_reported_or_refused_under_a_return_probe)
{
	/* sub $0x18,%rsp; mov %rdi,0x8(%rsp); push %rbx */
	static const uint8_t code[] = {
		0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x7c, 0x24, 0x08, 0x53
	};
	struct arch_probe site = place_code(code, sizeof(code), ARGS1, true, false, all_emul());

	cr_assert_eq(site.offset, 9);
	cr_assert_eq(site.why, ARCH_WHY_MOVED);
	cr_assert_eq(site.sp_delta, -0x18);
	assert_site(place_code(code, sizeof(code), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_SP_CHANGED);
}

Test(arch_probe, store_to_the_return_address_or_the_red_zone_keeps_the_entry)
{
	static const uint8_t ret[] = { 0x48, 0x89, 0x3c, 0x24, 0x53 };	     /* mov %rdi,(%rsp) */
	static const uint8_t red[] = { 0x48, 0x89, 0x7c, 0x24, 0xf8, 0x53 }; /* mov %rdi,-8(%rsp) */
	static const uint8_t rdi[] = { 0x48, 0x89, 0x37, 0x53 };	     /* mov %rsi,(%rdi) */

	assert_site(place_code(ret, sizeof(ret), ARGS1, true, false, all_emul()), 0,
		    ARCH_WHY_MEMORY_WRITE);
	assert_site(place_code(red, sizeof(red), ARGS1, true, false, all_emul()), 0,
		    ARCH_WHY_MEMORY_WRITE);
	assert_site(place_code(rdi, sizeof(rdi), ARGS1, true, false, all_emul()), 0,
		    ARCH_WHY_MEMORY_WRITE);
}

Test(arch_probe, syscall_or_call_before_keeps_the_entry)
{
	/* mov $0xb,%eax; syscall; push %rbx */
	static const uint8_t sys[] = { 0xb8, 0x0b, 0, 0, 0, 0x0f, 0x05, 0x53 };
	/* endbr64; call *%rax; push %rbx */
	static const uint8_t call[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0xd0, 0x53 };

	assert_site(place_code(sys, sizeof(sys), ARGS2, false, false, all_emul()), 0,
		    ARCH_WHY_BARRIER);
	assert_site(place_code(call, sizeof(call), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_BARRIER);
}

Test(arch_probe, jump_back_between_entry_and_probe_keeps_the_entry)
{
	/* 0: mov %rdi,%rax; 3: push %rbx; 4: pop %rbx; 5: jmp 3 */
	static const uint8_t back[] = { 0x48, 0x89, 0xf8, 0x53, 0x5b, 0xeb, 0xfc };
	/* the same loop back to the entry, which a probe at the entry sees as well */
	static const uint8_t entry[] = { 0x48, 0x89, 0xf8, 0x53, 0x5b, 0xeb, 0xf9 };

	assert_site(place_code(back, sizeof(back), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_TARGET);
	assert_site(place_code(entry, sizeof(entry), ARGS1, false, true, all_emul()), 3,
		    ARCH_WHY_MOVED);
}

Test(arch_probe, no_emulated_instruction_keeps_the_entry)
{
	/* endbr64; mov %rdi,%rax; ud2 */
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xf8, 0x0f, 0x0b };
	static const uint8_t bad[] = { 0x48, 0x89, 0xf8, 0xff, 0xff };

	assert_site(place_code(code, sizeof(code), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_BARRIER);
	assert_site(place_code(code, 7, ARGS1, false, true, all_emul()), 0, ARCH_WHY_NONE);
	assert_site(place_code(bad, sizeof(bad), ARGS1, false, true, all_emul()), 0,
		    ARCH_WHY_UNDECODABLE);
}

/* Kernel rules */

Test(x86_emul, versions_bring_branch_push_and_nop_emulation)
{
	cr_assert_eq(arch__uprobe_emulation("3.14.0"), 0);
	cr_assert_eq(arch__uprobe_emulation("4.15.0-20-generic"), X86_EMUL_BRANCH);
	cr_assert_eq(arch__uprobe_emulation("4.16.0"), X86_EMUL_BRANCH | X86_EMUL_PUSH);
	cr_assert_eq(arch__uprobe_emulation("6.1.0-18-amd64"), X86_EMUL_BRANCH | X86_EMUL_PUSH);
	cr_assert_eq(arch__uprobe_emulation("6.15.9"),
		     X86_EMUL_BRANCH | X86_EMUL_PUSH | X86_EMUL_NOP66);
	cr_assert_eq(arch__uprobe_emulation("6.16.0"),
		     X86_EMUL_BRANCH | X86_EMUL_PUSH | X86_EMUL_NOP66 | X86_EMUL_NOPL);
	cr_assert_eq(arch__uprobe_emulation("10.0"), all_emul());
	cr_assert_eq(arch__uprobe_emulation("linux"), 0);
	cr_assert_eq(arch__uprobe_emulation(NULL), 0);
}

Test(x86_emul, push_is_emulated_for_plain_registers_only)
{
	static const uint8_t rbp[] = { 0x55 }, r12[] = { 0x41, 0x54 };
	static const uint8_t rexw[] = { 0x48, 0x55 }, o16[] = { 0x66, 0x55 },
			     mem[] = { 0xff, 0x30 };

	cr_assert(x86__emulated(rbp, sizeof(rbp), X86_EMUL_PUSH));
	cr_assert(x86__emulated(r12, sizeof(r12), X86_EMUL_PUSH));
	cr_assert_not(x86__emulated(rbp, sizeof(rbp), X86_EMUL_BRANCH));
	cr_assert_not(x86__emulated(rexw, sizeof(rexw), all_emul()));
	cr_assert_not(x86__emulated(o16, sizeof(o16), all_emul()));
	cr_assert_not(x86__emulated(mem, sizeof(mem), all_emul()));
}

Test(x86_emul, branches_are_emulated_unless_the_kernel_refuses_their_prefix)
{
	static const uint8_t jcc8[] = { 0x74, 0x10 }, jcc32[] = { 0x0f, 0x84, 1, 0, 0, 0 };
	static const uint8_t jmp[] = { 0xe9, 1, 0, 0, 0 }, call[] = { 0xe8, 1, 0, 0, 0 };
	static const uint8_t bnd[] = { 0xf2, 0xe9, 1, 0, 0, 0 }, o16[] = { 0x66, 0xe9, 1, 0 };
	static const uint8_t ds[] = { 0x3e, 0x74, 0x10 }, ind[] = { 0xff, 0xe0 };

	cr_assert(x86__emulated(jcc8, sizeof(jcc8), X86_EMUL_BRANCH));
	cr_assert(x86__emulated(jcc32, sizeof(jcc32), X86_EMUL_BRANCH));
	cr_assert(x86__emulated(jmp, sizeof(jmp), X86_EMUL_BRANCH));
	cr_assert(x86__emulated(call, sizeof(call), X86_EMUL_BRANCH));
	cr_assert(x86__emulated(bnd, sizeof(bnd), X86_EMUL_BRANCH));
	cr_assert_not(x86__emulated(o16, sizeof(o16), all_emul()));
	cr_assert_not(x86__emulated(ds, sizeof(ds), all_emul()));
	cr_assert_not(x86__emulated(ind, sizeof(ind), all_emul()));
}

Test(x86_emul, nops_by_kernel_version)
{
	static const uint8_t nop[] = { 0x90 }, xchg[] = { 0x66, 0x90 };
	static const uint8_t nopl[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const uint8_t cs_nopw[] = { 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 };
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	cr_assert(x86__emulated(nop, sizeof(nop), arch__uprobe_emulation("3.15")));
	cr_assert_not(x86__emulated(xchg, sizeof(xchg), arch__uprobe_emulation("6.1")));
	cr_assert(x86__emulated(xchg, sizeof(xchg), arch__uprobe_emulation("6.2")));
	cr_assert_not(x86__emulated(nopl, sizeof(nopl), arch__uprobe_emulation("6.15")));
	cr_assert(x86__emulated(nopl, sizeof(nopl), arch__uprobe_emulation("6.16")));
	cr_assert_not(x86__emulated(cs_nopw, sizeof(cs_nopw), all_emul()));
	cr_assert_not(x86__emulated(endbr64, sizeof(endbr64), all_emul()));
}

/* Frame setup */

/*
 * gcc -O1 -fno-omit-frame-pointer, shrink-wrapped: mov $0,%eax; test %edi,%edi;
 * jle 1a; push %rbp; mov %rsp,%rbp; movslq %edi,%rdi; call malloc (returns to 0x15).
 */
static const uint8_t shrink_wrapped[] = {
	0xb8, 0x00, 0x00, 0x00, 0x00, 0x85, 0xff, 0x7e, 0x11, 0x55, 0x48, 0x89, 0xe5, 0x48,
	0x63, 0xff, 0xe8, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x00, 0x01, 0x5d, 0xc3, 0xc3,
};

Test(x86_frame, shrink_wrapped_prologue_sets_up_the_frame_before_the_call)
{
	cr_assert(arch__frame_setup(shrink_wrapped, sizeof(shrink_wrapped), 0x1000, 0x1015));
}

Test(x86_frame, frame_is_not_set_up_before_its_mov_ends)
{
	cr_assert_not(arch__frame_setup(shrink_wrapped, sizeof(shrink_wrapped), 0x1000, 0x1009));
	cr_assert_not(arch__frame_setup(shrink_wrapped, sizeof(shrink_wrapped), 0x1000, 0x100c));
	cr_assert(arch__frame_setup(shrink_wrapped, sizeof(shrink_wrapped), 0x1000, 0x100d));
}

Test(x86_frame, push_rbp_then_other_push_is_no_frame)
{
	/* push %rbp; push %rbx; mov %rsp,%rbp: %rbp would not point at the saved %rbp */
	static const uint8_t code[] = { 0x55, 0x53, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0 };

	cr_assert_not(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
}

Test(x86_frame, prologue_past_64_instructions_does_not_count)
{
	uint8_t code[70];

	/* 64 nops, then push %rbp; mov %rsp,%rbp */
	memset(code, 0x90, sizeof(code));
	code[64] = 0x55;
	code[65] = 0x48;
	code[66] = 0x89;
	code[67] = 0xe5;
	cr_assert_not(arch__frame_setup(code, sizeof(code), 0x1000, 0x1000 + sizeof(code)));
	/* 62 nops: the push is the 63rd instruction, the mov the 64th */
	cr_assert(arch__frame_setup(code + 2, sizeof(code) - 2, 0x1000, 0x1000 + sizeof(code)));
}

/*
 * The mmap hook's sites: in Debian 12's glibc (libc and ld.so) exactly the ones
 * objdump shows (mov $0x9,%eax; syscall; cmp $-4096,%rax; then the ja probed);
 * none in a file without them; the pattern's bytes inside another instruction
 * are not an instruction.
 */
#define LDSO "/lib64/ld-linux-x86-64.so.2"

/*
 * objdump's oracle: the addresses of the conditional jumps right after
 * mov $0x9,%eax; syscall; cmp $0xfffffffffffff000,%rax (link-time addresses,
 * which are file offsets in glibc's text). Their number.
 */
static int objdump_sites(const char *path, uint64_t *out, int max)
{
	char cmd[512], line[512];
	int n = 0, state = 0;
	unsigned long long addr;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn %s", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char insn[256] = "";

		if (sscanf(line, " %llx:\t%255[^\n]", &addr, insn) != 2)
			continue;
		if (state == 3 && insn[0] == 'j' && n < max)
			out[n++] = addr;
		if (strstr(insn, "mov    $0x9,%eax"))
			state = 1;
		else if (state == 1 && !strncmp(insn, "syscall", 7))
			state = 2;
		else if (state == 2 && strstr(insn, "cmp    $0xfffffffffffff000,%rax"))
			state = 3;
		else
			state = 0;
	}
	pclose(p);
	return n;
}

static void assert_sites_as_objdump(const char *path)
{
	uint64_t got[MMAP_SITES_MAX], want[MMAP_SITES_MAX];
	int n = mmap_sites__find(path, got, MMAP_SITES_MAX);
	int m = objdump_sites(path, want, MMAP_SITES_MAX);

	cr_assert_gt(m, 0, "objdump shows no mmap system call in %s", path);
	cr_assert_eq(n, m, "%s: %d sites, objdump shows %d", path, n, m);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "%s: site %d at %#" PRIx64 ", objdump's at %#" PRIx64,
			     path, i, got[i], want[i]);
}

Test(mmap_sites, glibc_libc_has_its_mmap_wrappers_site)
{
	assert_sites_as_objdump(LIBC);
}

Test(mmap_sites, glibc_loader_has_its_mmap_wrappers_site)
{
	assert_sites_as_objdump(LDSO);
}

Test(mmap_sites, a_file_without_the_call_has_none)
{
	uint64_t got[MMAP_SITES_MAX];

	/* libz makes no system call of its own. */
	cr_assert_eq(mmap_sites__find("/lib/x86_64-linux-gnu/libz.so.1", got, MMAP_SITES_MAX), 0);
	cr_assert_eq(mmap_sites__find("/etc/hostname", got, MMAP_SITES_MAX), -ENOEXEC);
	cr_assert_eq(mmap_sites__find("/nonexistent/leaktrace", got, MMAP_SITES_MAX), -ENOENT);
}

/* movabs $0x050f00000009b8,%rax: the pattern's first bytes inside its immediate. */
Test(mmap_sites, the_pattern_inside_another_instruction_is_not_one)
{
	const uint8_t code[] = { 0x48, 0xb8, 0xb8, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x05,
				 0x00, 0xb8, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x05 };

	cr_assert(!arch__insn_starts(code, sizeof(code), 2));
	cr_assert(arch__insn_starts(code, sizeof(code), 10));
}

Test(mmap_sites, conditional_jumps_are_branches_the_kernel_emulates)
{
	const uint8_t ja8[] = { 0x77, 0x25 }, ja32[] = { 0x0f, 0x87, 1, 2, 3, 4 };
	const uint8_t ret[] = { 0xc3, 0x90 }, cmov[] = { 0x48, 0x0f, 0x46, 0xd0, 0x90, 0x90 };

	cr_assert(arch__cond_branch(ja8, sizeof(ja8)));
	cr_assert(arch__cond_branch(ja32, sizeof(ja32)));
	cr_assert(!arch__cond_branch(ret, sizeof(ret)));
	cr_assert(!arch__cond_branch(cmov, sizeof(cmov)));
	cr_assert(!arch__cond_branch(ja32, 2));
}
