/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * arm64 behind the architecture seam (arch.h), what its tests also see: the
 * instructions the kernel's uprobe code simulates. Only arch_arm64.c and tests include it.
 */
#ifndef LT_ARCH_ARM64_H
#define LT_ARCH_ARM64_H

#include "arch.h"

/*
 * What the kernel's arm64 uprobe code simulates instead of single-stepping
 * out of line (arch/arm64/kernel/probes/decode-insn.c, arm_probe_decode_insn),
 * by the version that brought it.
 */
enum arm64_emul {
	/* b, bl, b.cond, cbz/cbnz, tbz/tbnz, br/blr/ret, adr/adrp: arm64 uprobes' start, 4.10 */
	ARM64_EMUL_BRANCH = 1 << 0,
	ARM64_EMUL_NOP = 1 << 1, /* nop (hint #0): 6.13 */
};

/* Whether the instruction word insn is simulated under emul (ARM64_EMUL_*). */
bool arm64__emulated(uint32_t insn, unsigned int emul);

#endif
