/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* x86-64 instruction decoding (capstone): frame-pointer prologues, call sites, probe placement. */
#ifndef LT_X86_H
#define LT_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * True when the function whose first n bytes are code (at func_addr) sets up a
 * frame pointer, push %rbp then mov %rsp,%rbp, before before_addr: decoded in
 * address order from its start, at most 64 instructions. Tests and branches
 * may come first (gcc's shrink-wrapping puts an early exit before the push).
 */
bool x86__frame_setup(const uint8_t *code, size_t n, uint64_t func_addr, uint64_t before_addr);
/*
 * True when before[] (the n bytes before a return address) ends with a call:
 * one instruction of 2 to 7 bytes that decodes as a call ending exactly there.
 */
bool x86__after_call(const uint8_t *before, size_t n);

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

/* The emulation of a kernel by its release ("6.18.44-..."), 0 when unreadable. */
unsigned int x86__uprobe_emulation(const char *release);
/* Whether the n-byte instruction at code is emulated under emul (X86_EMUL_*). */
bool x86__emulated(const uint8_t *code, size_t n, unsigned int emul);

/* Argument registers, in System V order. */
enum x86_arg {
	X86_ARG_RDI = 1 << 0,
	X86_ARG_RSI = 1 << 1,
	X86_ARG_RDX = 1 << 2,
	X86_ARG_RCX = 1 << 3,
	X86_ARG_R8 = 1 << 4,
	X86_ARG_R9 = 1 << 5,
};

struct x86_probe_req {
	unsigned int args; /* X86_ARG_*: registers that must hold the arguments at the probe */
	unsigned int emul; /* X86_EMUL_*: what the running kernel emulates */
	bool null_check;   /* the function's own `test %rdi,%rdi; je` may be passed (free) */
	bool same_sp;	   /* a return probe shares the site: %rsp must be as at the entry */
};

/* Why a probe sits where it does: the last one names what stopped the search. */
enum x86_why {
	X86_WHY_ENTRY,	      /* the first instruction is emulated */
	X86_WHY_MOVED,	      /* moved to the first emulated instruction, safely */
	X86_WHY_ARG_WRITTEN,  /* an argument register is written first */
	X86_WHY_SP_CHANGED,   /* %rsp changes in a way the probe cannot allow */
	X86_WHY_BRANCH,	      /* a jump (other than the NULL check) comes first */
	X86_WHY_BARRIER,      /* a call, return, syscall or trap comes first */
	X86_WHY_MEMORY_WRITE, /* a store that could reach the return address comes first */
	X86_WHY_TARGET,	      /* a jump in the function lands between its entry and the probe */
	X86_WHY_UNDECODABLE,  /* bytes capstone cannot decode */
	X86_WHY_NONE,	      /* no emulated instruction in the first instructions */
};

struct x86_probe {
	size_t offset; /* from the function's start */
	int sp_delta;  /* %rsp at the probe minus %rsp at the entry: 0 or negative */
	enum x86_why why;
};

/*
 * Where an entry probe on the function whose code is code[0..n) (the whole
 * function) costs least: the first instruction the kernel emulates, when every
 * instruction before it leaves req->args alone, moves %rsp only by known
 * amounts (none with same_sp), stores nowhere near the return address, and
 * cannot branch (but for free's NULL check); and no direct jump in the
 * function lands between the entry and it. Else the entry, offset 0. Fills
 * *out; 0, or -ENOMEM when the decoder cannot start (*out is the entry then).
 */
int x86__probe_offset(const uint8_t *code, size_t n, const struct x86_probe_req *req,
		      struct x86_probe *out);
const char *x86_why__str(enum x86_why why);

#endif
