/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * x86-64 behind the architecture seam (arch.h), what its tests also see: the
 * instructions the kernel's uprobe code emulates. Only arch_x86.c and tests include it.
 */
#ifndef LT_ARCH_X86_H
#define LT_ARCH_X86_H

#include "arch.h"

/*
 * What the kernel's x86 uprobe code emulates instead of single-stepping
 * (arch/x86/kernel/uprobes.c), by the version that brought it.
 */
enum x86_emul {
	X86_EMUL_BRANCH = 1 << 0, /* jmp, call, jcc rel8/rel32 and nop 90: 3.15 */
	X86_EMUL_PUSH = 1 << 1,	  /* push %reg (50+r, 41 50+r): 4.16 */
	X86_EMUL_NOP66 = 1 << 2,  /* 66 90, refused before: 6.2 */
	X86_EMUL_NOPL = 1 << 3,	  /* the kernel's own nops of 3 to 8 bytes: 6.16 */
};

/* Whether the n-byte instruction at code is emulated under emul (X86_EMUL_*). */
bool x86__emulated(const uint8_t *code, size_t n, unsigned int emul);

#endif
