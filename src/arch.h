/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The architecture seam: everything user space knows of the target's
 * instruction set, ABI and registers. src/arch_$(ARCH).c implements it (the
 * Makefile's ARCH picks one); the constants are per compiler target below.
 */
#ifndef LT_ARCH_H
#define LT_ARCH_H

/*
 * ARCH_FOREIGN_NAME: src/arch_NAME.c's decoders built on another host for
 * their unit tests (the Makefile's unit-arch-NAME): NAME's constants, no registers.
 */
#if defined(__x86_64__) && !defined(ARCH_FOREIGN_arm64)
/* The ELF e_machine whose code the decoders below read. */
#define ARCH_ELF_MACHINE EM_X86_64
/* Bytes read before a return address to find its call: the longest call (7) and one more. */
#define ARCH_CALL_WINDOW 8
/* Below the stack pointer, still live: the System V ABI's red zone. */
#define ARCH_RED_ZONE 128
/* DWARF register numbers: the frame pointer, the stack pointer, the return address column. */
#define ARCH_DWARF_FP 6
#define ARCH_DWARF_SP 7
#define ARCH_DWARF_RA 16
/* The kernel function of the syscall a uretprobe's trampoline makes (6.11+), in BTF. */
#define ARCH_URETPROBE_SYSCALL "__x64_sys_uretprobe"
/* What -v says of the architecture and the path taken on it. */
#define ARCH_NAME "x86-64"
#define ARCH_PATH                                                                              \
	"probes moved to instructions the kernel emulates, frame pointer rbp, unwind tables' " \
	"rbp and rsp with the return address at the CFA"
/* Where glibc's thread descriptor (arch__tcb_find) keeps its dtv pointer, from its start. */
#define ARCH_TCB_DTV 8
/*
 * glibc's mmap wrapper (libc, ld.so, static binaries): mov $9,%eax; syscall;
 * cmp $-4096,%rax, then a conditional jump on the result. The mmap hook's
 * uprobe goes on that jump: the registers are as the call left them, and the
 * kernel emulates a jump (one trap, no single step in a page of its own).
 */
#define ARCH_MMAP_SYSCALL "\xb8\x09\x00\x00\x00\x0f\x05\x48\x3d\x00\xf0\xff\xff"
#elif defined(__aarch64__) || defined(ARCH_FOREIGN_arm64)
#define ARCH_ELF_MACHINE EM_AARCH64
/* Every instruction is 4 bytes: a call (bl, blr) is the one word before its return address. */
#define ARCH_CALL_WINDOW 4
/* AAPCS64 has no red zone: nothing below sp is live. */
#define ARCH_RED_ZONE 0
/* x29 (the frame pointer), sp, x30 (the link register: the return address column). */
#define ARCH_DWARF_FP 29
#define ARCH_DWARF_SP 31
#define ARCH_DWARF_RA 30
/*
 * arm64's uretprobe trampoline traps (brk): there is no such syscall, and
 * BTF's __arm64_sys_uretprobe (6.11+) is sys_ni_syscall's stub. "" matches no
 * name kernel.c compares.
 */
#define ARCH_URETPROBE_SYSCALL ""
#define ARCH_NAME "arm64"
#define ARCH_PATH                                                                                   \
	"probes moved to instructions the kernel simulates, frame records x29/x30, unwind tables' " \
	"x29, x30 and sp"
/* The TCB (tpidr_el0's target) is { dtv, private }. */
#define ARCH_TCB_DTV 0
/* mov x8, #222; svc #0; cmn x0, #1, lsl #12 (little-endian words), then b.cond. */
#define ARCH_MMAP_SYSCALL "\xc8\x1b\x80\xd2\x01\x00\x00\xd4\x1f\x04\x40\xb1"
#else
#error "leaktrace supports x86-64 and arm64: src/arch.h has no seam for this target"
#endif

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/user.h>

/*
 * True when the function whose first n bytes are code (at func_addr) sets up a
 * frame pointer before before_addr (on x86-64 push %rbp then mov %rsp,%rbp):
 * decoded in address order from its start, at most 64 instructions. Tests and
 * branches may come first (gcc's shrink-wrapping puts an early exit first).
 */
bool arch__frame_setup(const uint8_t *code, size_t n, uint64_t func_addr, uint64_t before_addr);
/*
 * True when before[] (the n bytes before a return address) ends with a call:
 * one instruction that decodes as a call ending exactly there.
 */
bool arch__after_call(const uint8_t *before, size_t n);
/*
 * True when an instruction starts at code[at], decoding from code[0] (one that
 * starts there) onwards: bytes that match an instruction's pattern may be the
 * middle of another one on x86, and a uprobe there would corrupt it.
 */
bool arch__insn_starts(const uint8_t *code, size_t n, size_t at);
/* True when code[] (n bytes) starts with a conditional branch, which the kernel's uprobes emulate. */
bool arch__cond_branch(const uint8_t *code, size_t n);

/* What the kernel's uprobe code emulates instead of single-stepping, by its release. */
unsigned int arch__uprobe_emulation(const char *release);

/* KERNEL_VERSION() of <linux/version.h>, without depending on the build host's headers. */
#define ARCH_KV(a, b) (((a) << 16) + ((b) << 8))

/* A release ("6.1.0-57-cloud-arm64") as ARCH_KV(major, minor); 0 when unreadable. */
static inline unsigned int arch_release_version(const char *release)
{
	unsigned int major, minor;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return 0;
	return ARCH_KV(major, minor);
}

/* Integer argument registers, by the calling convention's order. */
enum arch_arg {
	ARCH_ARG1 = 1 << 0,
	ARCH_ARG2 = 1 << 1,
	ARCH_ARG3 = 1 << 2,
	ARCH_ARG4 = 1 << 3,
	ARCH_ARG5 = 1 << 4,
	ARCH_ARG6 = 1 << 5,
};

struct arch_probe_req {
	unsigned int args; /* ARCH_ARG*: registers that must hold the arguments at the probe */
	unsigned int emul; /* of arch__uprobe_emulation: what the running kernel emulates */
	bool null_check;   /* the function's own NULL check of its first argument may be passed */
	bool same_sp;	   /* a return probe shares the site: sp must be as at the entry */
};

/* Why a probe sits where it does: the last one names what stopped the search. */
enum arch_why {
	ARCH_WHY_ENTRY,	       /* the first instruction is emulated */
	ARCH_WHY_MOVED,	       /* moved to the first emulated instruction, safely */
	ARCH_WHY_ARG_WRITTEN,  /* an argument register is written first */
	ARCH_WHY_SP_CHANGED,   /* the stack pointer changes in a way the probe cannot allow */
	ARCH_WHY_BRANCH,       /* a jump (other than the NULL check) comes first */
	ARCH_WHY_BARRIER,      /* a call, return, syscall or trap comes first */
	ARCH_WHY_MEMORY_WRITE, /* a store that could reach the return address comes first */
	ARCH_WHY_TARGET,       /* a jump in the function lands between its entry and the probe */
	ARCH_WHY_LINK_REG,     /* the link register (arm64's x30, the return address) is used */
	ARCH_WHY_UNDECODABLE,  /* bytes the decoder cannot decode */
	ARCH_WHY_NONE,	       /* no emulated instruction in the first instructions */
};

struct arch_probe {
	size_t offset; /* from the function's start */
	int sp_delta;  /* sp at the probe minus sp at the entry: 0 or negative */
	enum arch_why why;
};

/*
 * Where an entry probe on the function whose code is code[0..n) (the whole
 * function) costs least: the first instruction the kernel emulates, when every
 * instruction before it leaves req->args alone, moves the stack pointer only by
 * known amounts (none with same_sp), stores nowhere near the return address,
 * and cannot branch (but for free's NULL check); and no direct jump in the
 * function lands between the entry and it. Else the entry, offset 0. Fills
 * *out; 0, or -ENOMEM when the decoder cannot start (*out is the entry then).
 */
int arch__probe_offset(const uint8_t *code, size_t n, const struct arch_probe_req *req,
		       struct arch_probe *out);
const char *arch_why__str(enum arch_why why);

/* A stopped tracee's registers (ptrace): 0, or -1 with errno set. */
int arch__regs_read(pid_t tid, struct user_regs_struct *regs);
/* The stack pointer of registers read so. */
uint64_t arch__regs_sp(const struct user_regs_struct *regs);

/*
 * glibc's thread descriptor (its TCB) in a stack's top words: the index of
 * w[0..nr) where one starts, searched from the top, or -1. from is w[0]'s address.
 */
long arch__tcb_find(const uint64_t *w, size_t nr, uint64_t from);

#endif
