// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * arm64 behind the architecture seam (arch.h). Every instruction is one
 * little-endian 32-bit word, so the few classes that matter are told apart by
 * their encodings (the Arm ARM's top-level decode) rather than by a
 * disassembler: whether a function sets up its frame record (x29, x30) before
 * a call site, whether a return address follows a call, where an entry uprobe
 * costs least; registers from ptrace (NT_PRSTATUS).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "arch_arm64.h"

/* A prologue worth the name sets up the frame in the first instructions. */
#define FRAME_WINDOW 64
/* Past this many instructions, a cheaper probe site is not worth looking for. */
#define PROBE_WINDOW 32

#define REG_FP 29
#define REG_LR 30
#define REG_SP_ZR 31 /* sp or xzr, by the instruction */

static uint32_t word(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned int rd(uint32_t insn)
{
	return insn & 31;
}

static unsigned int rn(uint32_t insn)
{
	return (insn >> 5) & 31;
}

static unsigned int rm(uint32_t insn)
{
	return (insn >> 16) & 31;
}

/* stp x29, x30, [sp, #imm] in any of its forms (offset, pre- or post-index). */
static bool is_stp_frame_record(uint32_t insn)
{
	/* 64-bit STP, the addressing mode in bits 24:23 (1 post, 2 offset, 3 pre). */
	return (insn & 0xfe400000) == 0xa8000000 && ((insn >> 23) & 3) && rd(insn) == REG_FP &&
	       ((insn >> 10) & 31) == REG_LR && rn(insn) == REG_SP_ZR;
}

/* add x29, sp, #imm (mov x29, sp is its #0 form): x29 points at the frame record. */
static bool is_set_fp(uint32_t insn)
{
	return (insn & 0xff8003ff) == 0x910003fd;
}

bool arch__frame_setup(const uint8_t *code, size_t n, uint64_t func_addr, uint64_t before_addr)
{
	bool saved = false;

	for (size_t i = 0; i < FRAME_WINDOW && i * 4 + 4 <= n; i++) {
		uint32_t insn = word(code + i * 4);

		/* The frame counts once x29 is set, so that must end by before_addr. */
		if (func_addr + i * 4 + 4 > before_addr)
			break;
		if (saved && is_set_fp(insn))
			return true;
		saved |= is_stp_frame_record(insn);
	}
	return false;
}

static bool is_bl(uint32_t insn)
{
	return (insn & 0xfc000000) == 0x94000000;
}

/* blr xN, and its pointer-authenticating forms blraa, blrab, blraaz, blrabz. */
static bool is_blr(uint32_t insn)
{
	return (insn & 0xfffffc1f) == 0xd63f0000 || (insn & 0xfefff800) == 0xd63f0800;
}

bool arch__after_call(const uint8_t *before, size_t n)
{
	uint32_t insn;

	if (n < 4)
		return false;
	insn = word(before + n - 4);
	return is_bl(insn) || is_blr(insn);
}

bool arch__insn_starts(const uint8_t *code, size_t n, size_t at)
{
	return at < n && !(at & 3);
}

bool arch__cond_branch(const uint8_t *code, size_t n)
{
	/* b.cond: simulated since 4.10. */
	return n >= 4 && (word(code) & 0xff000010) == 0x54000000;
}

unsigned int arch__uprobe_emulation(const char *release)
{
	unsigned int v = arch_release_version(release), emul = 0;

	if (!v)
		return 0;
	/* 9842ceae9fa8 "arm64: Add uprobe support" (4.10): branches and adr/adrp simulated. */
	if (v >= ARCH_KV(4, 10))
		emul |= ARM64_EMUL_BRANCH;
	/* "arm64: insn: Simulate nop instruction for better uprobe performance" (6.13). */
	if (v >= ARCH_KV(6, 13))
		emul |= ARM64_EMUL_NOP;
	return emul;
}

#define NOP 0xd503201f

static bool is_b_cond(uint32_t insn)
{
	return (insn & 0xff000010) == 0x54000000;
}

static bool is_cbz_cbnz(uint32_t insn)
{
	return (insn & 0x7e000000) == 0x34000000;
}

static bool is_tbz_tbnz(uint32_t insn)
{
	return (insn & 0x7e000000) == 0x36000000;
}

static bool is_b_bl(uint32_t insn)
{
	return (insn & 0x7c000000) == 0x14000000;
}

/* The kernel's aarch64_insn_is_*: the same masks, the same instructions simulated. */
bool arm64__emulated(uint32_t insn, unsigned int emul)
{
	if (insn == NOP)
		return emul & ARM64_EMUL_NOP;
	if (!(emul & ARM64_EMUL_BRANCH))
		return false;
	return is_b_cond(insn) || is_cbz_cbnz(insn) || is_tbz_tbnz(insn) || is_b_bl(insn) ||
	       (insn & 0x1f000000) == 0x10000000 /* adr, adrp */ ||
	       (insn & 0xfffffc1f) == 0xd61f0000 /* br */ ||
	       (insn & 0xfffffc1f) == 0xd63f0000 /* blr */ ||
	       (insn & 0xfffffc1f) == 0xd65f0000 /* ret */;
}

/* The argument register (ARCH_ARG*) that x<reg> is, or 0. */
static unsigned int arg_of(unsigned int reg)
{
	return reg < 6 ? 1u << reg : 0;
}

/*
 * Data processing that writes one general register, Rd, and perhaps the
 * flags, and touches neither memory nor the pc: the only instructions let run
 * before a moved probe. *sp_dest is set where Rd 31 is sp rather than xzr.
 * Registers read: Rn and, for the register forms, Rm (Ra too, for the 3-source
 * forms, bits 14:10, reported in *ra).
 */
static bool is_plain_dp(uint32_t insn, bool *sp_dest, unsigned int *reads, int *nreads)
{
	uint32_t op = (insn >> 23) & 0x3f; /* bits 28:23 of the immediate group */
	bool setflags = insn & (1u << 29);

	*sp_dest = false;
	*nreads = 0;
	if ((insn & 0x1c000000) == 0x10000000) { /* data processing, immediate */
		if ((op & 0x3e) == 0x20)	 /* adr, adrp: simulated, never here */
			return false;
		if (op == 0x22) /* add/sub immediate: Rd 31 is sp unless it sets flags */
			*sp_dest = !setflags;
		else if (op == 0x24) /* logical immediate: Rd 31 is sp but for ands */
			*sp_dest = ((insn >> 29) & 3) != 3;
		else if (op != 0x25 && op != 0x26 && op != 0x27) /* move wide, bitfield, extract */
			return false;
		if (op != 0x25)
			reads[(*nreads)++] = rn(insn);
		return true;
	}
	if ((insn & 0x0e000000) == 0x0a000000) { /* data processing, register */
		/* add/sub (extended register): Rd 31 is sp unless it sets flags. */
		if ((insn & 0x1f200000) == 0x0b200000)
			*sp_dest = !setflags;
		reads[(*nreads)++] = rn(insn);
		reads[(*nreads)++] = rm(insn);
		if ((insn & 0x1f000000) == 0x1b000000) /* 3-source: madd, msub, smulh... */
			reads[(*nreads)++] = (insn >> 10) & 31;
		return true;
	}
	return false;
}

struct walk {
	const struct arch_probe_req *req;
};

/* Whether insn may run before the probe: ARCH_WHY_MOVED when it may, else why not. */
static enum arch_why check_before(uint32_t insn, const struct walk *w)
{
	unsigned int reads[3];
	bool sp_dest;
	int nreads;

	/* A nop or bti (hints #0, #32..#38 even): nothing done, whether simulated or stepped. */
	if (insn == NOP || (insn & 0xffffff3f) == 0xd503241f)
		return ARCH_WHY_MOVED;
	if ((insn & 0x1c000000) == 0x14000000) /* branches, exception generation, system */
		return is_b_cond(insn) || is_cbz_cbnz(insn) || is_tbz_tbnz(insn) || is_b_bl(insn) ?
			       ARCH_WHY_BRANCH :
			       ARCH_WHY_BARRIER;
	if ((insn & 0x0a000000) == 0x08000000) /* loads and stores */
		return ARCH_WHY_MEMORY_WRITE;
	if (!is_plain_dp(insn, &sp_dest, reads, &nreads))
		return ARCH_WHY_UNDECODABLE;
	if (rd(insn) == REG_SP_ZR && sp_dest)
		return ARCH_WHY_SP_CHANGED;
	/*
	 * A return probe takes over x30 at the probe: code before it that copies or
	 * changes x30 would return (or sign) behind the probe's back.
	 */
	if (rd(insn) == REG_LR)
		return ARCH_WHY_LINK_REG;
	for (int i = 0; i < nreads; i++)
		if (reads[i] == REG_LR)
			return ARCH_WHY_LINK_REG;
	if (arg_of(rd(insn)) & w->req->args)
		return ARCH_WHY_ARG_WRITTEN;
	return ARCH_WHY_MOVED;
}

/* The target of a direct branch at off, as an offset in the function; false for others. */
static bool branch_target(uint32_t insn, size_t off, int64_t *t)
{
	int64_t imm;

	if (is_b_bl(insn))
		imm = (int64_t)((int32_t)((insn & 0x03ffffff) << 6) >> 4); /* imm26 * 4, signed */
	else if (is_b_cond(insn) || is_cbz_cbnz(insn))
		imm = (int64_t)(int32_t)((insn & 0x00ffffe0) << 8) >> 11; /* imm19 * 4 */
	else if (is_tbz_tbnz(insn))
		imm = (int64_t)(int32_t)((insn & 0x0007ffe0) << 13) >> 16; /* imm14 * 4 */
	else
		return false;
	*t = (int64_t)off + imm;
	return true;
}

/* True when a direct branch anywhere in code[0..n) lands in (0, off]. */
static bool lands_inside(const uint8_t *code, size_t n, size_t off)
{
	int64_t t;

	for (size_t at = 0; at + 4 <= n; at += 4)
		if (branch_target(word(code + at), at, &t) && t > 0 && (uint64_t)t <= off)
			return true;
	return false;
}

int arch__probe_offset(const uint8_t *code, size_t n, const struct arch_probe_req *req,
		       struct arch_probe *out)
{
	struct walk w = { .req = req };
	enum arch_why why = ARCH_WHY_NONE;

	*out = (struct arch_probe){ .why = ARCH_WHY_NONE };
	for (size_t i = 0; i < PROBE_WINDOW && i * 4 + 4 <= n; i++) {
		size_t off = i * 4;
		uint32_t insn = word(code + off);

		if (arm64__emulated(insn, req->emul)) {
			if (off && lands_inside(code, n, off)) {
				out->why = ARCH_WHY_TARGET;
				return 0;
			}
			out->offset = off;
			out->why = off ? ARCH_WHY_MOVED : ARCH_WHY_ENTRY;
			return 0;
		}
		/* Nothing before the probe moves sp: sp_delta stays 0. */
		why = check_before(insn, &w);
		if (why != ARCH_WHY_MOVED)
			break;
	}
	out->why = why == ARCH_WHY_MOVED ? ARCH_WHY_NONE : why;
	return 0;
}

const char *arch_why__str(enum arch_why why)
{
	static const char *const str[] = {
		[ARCH_WHY_ENTRY] = "the entry is simulated",
		[ARCH_WHY_MOVED] = "first simulated instruction",
		[ARCH_WHY_ARG_WRITTEN] = "an argument register is written before",
		[ARCH_WHY_SP_CHANGED] = "the stack pointer moves before",
		[ARCH_WHY_BRANCH] = "a branch comes before",
		[ARCH_WHY_BARRIER] = "a system instruction or trap comes before",
		[ARCH_WHY_MEMORY_WRITE] = "a load or store comes before",
		[ARCH_WHY_TARGET] = "a branch lands before",
		[ARCH_WHY_LINK_REG] = "the link register is used before",
		[ARCH_WHY_UNDECODABLE] = "not plain data processing",
		[ARCH_WHY_NONE] = "no simulated instruction",
	};

	return why <= ARCH_WHY_NONE ? str[why] : "?";
}

/*
 * The registers only where they are arm64's: the decoders above are also
 * built on other hosts, for their unit tests (make test-unit).
 */
#if defined(__aarch64__)
int arch__regs_read(pid_t tid, struct user_regs_struct *regs)
{
	struct iovec iov = { regs, sizeof(*regs) };

	/* arm64 has no PTRACE_GETREGS: the general registers are the NT_PRSTATUS set. */
	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) ? -1 : 0;
}

uint64_t arch__regs_sp(const struct user_regs_struct *regs)
{
	return regs->sp;
}
#endif

long arch__tcb_find(const uint64_t *w, size_t nr, uint64_t from)
{
	/*
	 * aarch64's TCB is two words (dtv, a private word) after struct pthread,
	 * with no self pointer to recognize it by: not found, and an exited
	 * thread's whole stack mapping stays a root (more reachable, never a
	 * false "lost").
	 */
	return -1;
}
