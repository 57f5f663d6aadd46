/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The architecture seam of the BPF side: what differs per target beyond
 * libbpf's PT_REGS_* (which -D__TARGET_ARCH_$(ARCH) selects already). The
 * user-space side is src/arch.h.
 */
#ifndef LT_ARCH_BPF_H
#define LT_ARCH_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#if defined(__TARGET_ARCH_x86)
/* A system call's number and arguments in the registers its sys_exit tracepoint gets. */
#define ARCH_SYSCALL_NR(regs) ((regs)->orig_ax)
#define ARCH_SYSCALL_ARG2(regs) ((regs)->si)
#define ARCH_SYSCALL_ARG3(regs) ((regs)->dx)
#define ARCH_SYSCALL_ARG4(regs) ((regs)->r10)
#define ARCH_SYSCALL_ARG5(regs) ((regs)->r8)
#define ARCH_SYSCALL_ARG6(regs) ((regs)->r9)
#define ARCH_NR_MMAP 9
/*
 * A uprobe's registers (its context), where the same fields hold a system
 * call's arguments after it returns (the kernel keeps them) and rax its result.
 */
#define ARCH_SITE_REGS struct pt_regs
#define ARCH_SITE_RET(regs) ((regs)->ax)
/* A task's user pc in its saved registers (bpf_task_pt_regs'), read with CO-RE. */
#define ARCH_REGS_PC(regs) BPF_CORE_READ(regs, ip)
/* The stack pointer at the entry of the function whose CFA is cfa: below the pushed return. */
#define ARCH_ENTRY_SP(cfa) ((cfa)-8)

/*
 * The return address at a function's entry (or at a probe where the stack
 * pointer is as there): the call pushed it on top of the stack. 0 or -errno.
 */
static __always_inline long arch_entry_ret(struct pt_regs *ctx, __u64 *ret)
{
	return bpf_probe_read_user(ret, sizeof(*ret), (void *)PT_REGS_SP(ctx));
}

/*
 * The stack slot at the entry's stack pointer holds the return address (the
 * call put it there): 0 and the address read, or -errno.
 */
static __always_inline long arch_ret_slot(struct pt_regs *ctx, __u64 *ret)
{
	return arch_entry_ret(ctx, ret);
}
#elif defined(__TARGET_ARCH_arm64)
/*
 * arm64: the number in syscallno, the arguments in x0..x5; x0 holds the return
 * value at sys_exit (the first argument is orig_x0 then, unused here).
 */
#define ARCH_SYSCALL_NR(regs) ((regs)->syscallno)
#define ARCH_SYSCALL_ARG2(regs) ((regs)->regs[1])
#define ARCH_SYSCALL_ARG3(regs) ((regs)->regs[2])
#define ARCH_SYSCALL_ARG4(regs) ((regs)->regs[3])
#define ARCH_SYSCALL_ARG5(regs) ((regs)->regs[4])
#define ARCH_SYSCALL_ARG6(regs) ((regs)->regs[5])
/* include/uapi/asm-generic/unistd.h's __NR3264_mmap. */
#define ARCH_NR_MMAP 222
/* A uprobe's context is user_pt_regs: after svc, x0 is the result, x1..x5 the arguments. */
#define ARCH_SITE_REGS struct user_pt_regs
#define ARCH_SITE_RET(regs) ((regs)->regs[0])
#define ARCH_REGS_PC(regs) BPF_CORE_READ(regs, pc)
/* bl pushes nothing: the entry's stack pointer is the CFA (a uretprobe's ri->stack). */
#define ARCH_ENTRY_SP(cfa) (cfa)

/*
 * The return address at a function's entry: bl put it in the link register
 * (x30), which a probe placed before the prologue saves it still sees.
 */
static __always_inline long arch_entry_ret(struct pt_regs *ctx, __u64 *ret)
{
	*ret = PT_REGS_RET(ctx);
	return 0;
}

/*
 * No stack slot holds the return address at the entry (it is in x30, saved
 * wherever the prologue chooses): -ENOENT, and callers that need a slot to
 * check later go the long way (sampled mode keeps the return probe).
 */
static __always_inline long arch_ret_slot(struct pt_regs *ctx, __u64 *ret)
{
	return -2; /* -ENOENT */
}
#else
#error "leaktrace's BPF side has no seam for this target (bpf/arch.bpf.h): x86 and arm64 only"
#endif

#endif
