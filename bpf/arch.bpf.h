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
#include <bpf/bpf_tracing.h>

#if defined(__TARGET_ARCH_x86)
/* A system call's number and arguments in the registers its sys_exit tracepoint gets. */
#define ARCH_SYSCALL_NR(regs) ((regs)->orig_ax)
#define ARCH_SYSCALL_ARG2(regs) ((regs)->si)
#define ARCH_SYSCALL_ARG3(regs) ((regs)->dx)
#define ARCH_SYSCALL_ARG4(regs) ((regs)->r10)
#define ARCH_SYSCALL_ARG6(regs) ((regs)->r9)
#define ARCH_NR_MMAP 9

/*
 * The return address at a function's entry (or at a probe where the stack
 * pointer is as there): the call pushed it on top of the stack. 0 or -errno.
 */
static __always_inline long arch_entry_ret(struct pt_regs *ctx, __u64 *ret)
{
	return bpf_probe_read_user(ret, sizeof(*ret), (void *)PT_REGS_SP(ctx));
}
#else
#error "leaktrace's BPF side has no seam for this target (bpf/arch.bpf.h): -D__TARGET_ARCH_x86 only"
#endif

#endif
