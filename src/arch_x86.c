// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * x86-64 behind the architecture seam (arch.h). Instruction decoding with
 * capstone: whether a function sets up a frame pointer before a call site,
 * whether a return address follows a call, and where on a function an entry
 * uprobe costs least while seeing what it must; registers from ptrace; glibc's
 * thread descriptor.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>

#include "arch_x86.h"

/* A prologue worth the name sets up the frame in the first instructions. */
#define FRAME_WINDOW 64
/* Past this many instructions, a cheaper probe site is not worth looking for. */
#define PROBE_WINDOW 32
#define MAX_CALL_LEN 7

/*
 * One decoder per thread, opened on first use and kept: opening one costs
 * microseconds, and symbolization asks once per frame. A thread that ends
 * closes its own (the key's destructor): worker threads come and go.
 */
static __thread csh handle;
static __thread cs_insn *insn;
static pthread_key_t decoder_key;
static pthread_once_t decoder_once = PTHREAD_ONCE_INIT;

static void decoder_close(void *unused)
{
	cs_free(insn, 1);
	insn = NULL;
	cs_close(&handle);
}

static void decoder_key_new(void)
{
	pthread_key_create(&decoder_key, decoder_close);
}

static int decoder(csh *h, cs_insn **out)
{
	if (!insn) {
		if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK)
			return -ENOMEM;
		cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
		insn = cs_malloc(handle);
		if (!insn) {
			cs_close(&handle);
			return -ENOMEM;
		}
		pthread_once(&decoder_once, decoder_key_new);
		/* Any non-NULL value: the destructor runs only for those. */
		pthread_setspecific(decoder_key, insn);
	}
	*h = handle;
	*out = insn;
	return 0;
}

static bool is_reg(const cs_x86_op *op, x86_reg reg)
{
	return op->type == X86_OP_REG && op->reg == reg;
}

static bool is_push_rbp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return in->id == X86_INS_PUSH && x->op_count == 1 && is_reg(&x->operands[0], X86_REG_RBP);
}

static bool is_mov_rsp_to_rbp(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return in->id == X86_INS_MOV && x->op_count == 2 && is_reg(&x->operands[0], X86_REG_RBP) &&
	       is_reg(&x->operands[1], X86_REG_RSP);
}

bool arch__frame_setup(const uint8_t *code, size_t n, uint64_t func_addr, uint64_t before_addr)
{
	uint64_t addr = func_addr;
	bool pushed = false;
	cs_insn *in;
	csh h;
	int i;

	if (decoder(&h, &in))
		return false;
	for (i = 0; i < FRAME_WINDOW && cs_disasm_iter(h, &code, &n, &addr, in); i++) {
		/* The frame counts once the mov has run, so it must end by before_addr. */
		if (addr > before_addr)
			break;
		if (pushed && is_mov_rsp_to_rbp(in))
			return true;
		pushed = is_push_rbp(in);
	}
	return false;
}

bool arch__after_call(const uint8_t *before, size_t n)
{
	const uint8_t *p;
	uint64_t addr;
	cs_insn *in;
	size_t len, left;
	csh h;

	if (decoder(&h, &in))
		return false;
	for (len = 2; len <= MAX_CALL_LEN && len <= n; len++) {
		p = before + n - len;
		left = len;
		addr = 0;
		if (cs_disasm_iter(h, &p, &left, &addr, in) && in->size == len &&
		    in->id == X86_INS_CALL)
			return true;
	}
	return false;
}

bool arch__insn_starts(const uint8_t *code, size_t n, size_t at)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = n;
	cs_insn *in;
	csh h;

	if (at >= n || decoder(&h, &in))
		return false;
	while (addr < at && cs_disasm_iter(h, &p, &left, &addr, in))
		;
	return addr == at;
}

bool arch__cond_branch(const uint8_t *code, size_t n)
{
	/* jcc rel8 (70-7f), jcc rel32 (0f 80-8f): emulated since 3.15. */
	return (n >= 2 && (code[0] & 0xf0) == 0x70) ||
	       (n >= 6 && code[0] == 0x0f && (code[1] & 0xf0) == 0x80);
}

unsigned int arch__uprobe_emulation(const char *release)
{
	unsigned int v = arch_release_version(release), emul = 0;

	if (!v)
		return 0;
	/* Oleg Nesterov's branch emulation, merged for 3.15. */
	if (v >= ARCH_KV(3, 15))
		emul |= X86_EMUL_BRANCH;
	/* e7ed9d9bd037 "uprobes/x86: Emulate push insns for uprobe on x86" (4.16). */
	if (v >= ARCH_KV(4, 16))
		emul |= X86_EMUL_PUSH;
	/* cefa72129e45 "uprobes/x86: Allow to probe a NOP instruction with 0x66 prefix" (6.2). */
	if (v >= ARCH_KV(6, 2))
		emul |= X86_EMUL_NOP66;
	/* 610f6e14c29d "uprobes/x86: Add support to emulate NOP instructions" (6.16). */
	if (v >= ARCH_KV(6, 16))
		emul |= X86_EMUL_NOPL;
	return emul;
}

/* The kernel's x86_nops[] of 64-bit mode (BYTES_NOP1..8), compared byte for byte. */
static const uint8_t kernel_nops[9][8] = {
	[1] = { 0x90 },
	[2] = { 0x66, 0x90 },
	[3] = { 0x0f, 0x1f, 0x00 },
	[4] = { 0x0f, 0x1f, 0x40, 0x00 },
	[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

struct prefixes {
	size_t len; /* legacy prefixes and REX */
	uint8_t rex;
	bool opsize;  /* 66 */
	bool refused; /* es, cs, ss, ds or lock: the kernel refuses to probe the instruction */
};

static void read_prefixes(const uint8_t *code, size_t n, struct prefixes *p)
{
	memset(p, 0, sizeof(*p));
	for (; p->len < n; p->len++) {
		switch (code[p->len]) {
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0xf0:
			p->refused = true;
			continue;
		case 0x66:
			p->opsize = true;
			continue;
		case 0x64:
		case 0x65:
		case 0x67:
		case 0xf2:
		case 0xf3:
			continue;
		}
		break;
	}
	if (p->len < n && (code[p->len] & 0xf0) == 0x40)
		p->rex = code[p->len++];
}

/* branch_setup_xol_ops(): rel8/rel32 jmp, call and jcc, without a 66 prefix. */
static bool branch_emulated(const uint8_t *op, size_t left, const struct prefixes *p)
{
	if (p->opsize || !left)
		return false;
	if (op[0] == 0xeb || op[0] == 0xe9 || op[0] == 0xe8 || (op[0] >= 0x70 && op[0] <= 0x7f))
		return true;
	return left >= 2 && op[0] == 0x0f && op[1] >= 0x80 && op[1] <= 0x8f;
}

bool x86__emulated(const uint8_t *code, size_t n, unsigned int emul)
{
	struct prefixes p;
	const uint8_t *op;

	read_prefixes(code, n, &p);
	if (p.refused || p.len >= n)
		return false;
	if ((emul & X86_EMUL_NOPL) && n < 9 && !memcmp(code, kernel_nops[n], n))
		return true;
	op = code + p.len;
	/* push_setup_xol_ops(): 50+r alone, or 41 50+r for r8..r15. */
	if (op[0] >= 0x50 && op[0] <= 0x57) {
		if (!(emul & X86_EMUL_PUSH))
			return false;
		return n == 1 || (n == 2 && p.len == 1 && p.rex == 0x41);
	}
	if (n == 1 && op[0] == 0x90)
		return emul & X86_EMUL_BRANCH;
	if (n == 2 && p.opsize && p.len == 1 && op[0] == 0x90)
		return emul & (X86_EMUL_NOP66 | X86_EMUL_NOPL);
	return (emul & X86_EMUL_BRANCH) && branch_emulated(op, n - p.len, &p);
}

/* The argument register (ARCH_ARG*) that reg is, or is part of; 0 for others. */
static unsigned int arg_of(x86_reg reg)
{
	switch (reg) {
	case X86_REG_RDI:
	case X86_REG_EDI:
	case X86_REG_DI:
	case X86_REG_DIL:
		return ARCH_ARG1;
	case X86_REG_RSI:
	case X86_REG_ESI:
	case X86_REG_SI:
	case X86_REG_SIL:
		return ARCH_ARG2;
	case X86_REG_RDX:
	case X86_REG_EDX:
	case X86_REG_DX:
	case X86_REG_DL:
	case X86_REG_DH:
		return ARCH_ARG3;
	case X86_REG_RCX:
	case X86_REG_ECX:
	case X86_REG_CX:
	case X86_REG_CL:
	case X86_REG_CH:
		return ARCH_ARG4;
	case X86_REG_R8:
	case X86_REG_R8D:
	case X86_REG_R8W:
	case X86_REG_R8B:
		return ARCH_ARG5;
	case X86_REG_R9:
	case X86_REG_R9D:
	case X86_REG_R9W:
	case X86_REG_R9B:
		return ARCH_ARG6;
	default:
		return 0;
	}
}

static bool is_sp(x86_reg reg)
{
	return reg == X86_REG_RSP || reg == X86_REG_ESP || reg == X86_REG_SP || reg == X86_REG_SPL;
}

/* What the instructions before the probe have done so far. */
struct walk {
	const struct arch_probe_req *req;
	int sp;		 /* %rsp minus %rsp at the entry */
	bool tested_rdi; /* the previous instruction was test %rdi,%rdi */
	bool null_check; /* the NULL check's je was passed */
};

static bool in_group(const cs_insn *in, uint8_t group)
{
	int i;

	for (i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == group)
			return true;
	return false;
}

/* Instructions that leave the straight line or the process: the probe must come first. */
static bool is_barrier(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
	case X86_INS_INT:
	case X86_INS_INT3:
	case X86_INS_INTO:
	case X86_INS_UD2:
	case X86_INS_HLT:
	case X86_INS_XBEGIN:
		return true;
	}
	return in_group(in, CS_GRP_CALL) || in_group(in, CS_GRP_RET) || in_group(in, CS_GRP_INT) ||
	       in_group(in, CS_GRP_IRET) || in_group(in, CS_GRP_PRIVILEGE);
}

/* A jump before the probe is only free's own `test %rdi,%rdi; je`: NULL needs no probe. */
static enum arch_why check_jump(const cs_insn *in, struct walk *w)
{
	if (!w->req->null_check || !w->tested_rdi || w->null_check || in->id != X86_INS_JE)
		return ARCH_WHY_BRANCH;
	w->null_check = true;
	return ARCH_WHY_MOVED;
}

/* push, and sub/add of a constant: the only moves of %rsp whose size is known. */
static enum arch_why check_sp(const cs_insn *in, struct walk *w)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id == X86_INS_PUSH && !x->prefix[2])
		w->sp -= 8;
	else if ((in->id == X86_INS_SUB || in->id == X86_INS_ADD) && x->op_count == 2 &&
		 is_reg(&x->operands[0], X86_REG_RSP) && x->operands[1].type == X86_OP_IMM) {
		int64_t imm = x->operands[1].imm;

		/* No prologue moves %rsp by 16 MiB; PROBE_WINDOW larger moves could overflow sp. */
		if (imm < -(1 << 24) || imm > (1 << 24))
			return ARCH_WHY_SP_CHANGED;
		w->sp += in->id == X86_INS_SUB ? -(int)imm : (int)imm;
	} else
		return ARCH_WHY_SP_CHANGED;
	/* A return probe hijacks [%rsp]; a stack that grew back is not worth following. */
	if (w->sp > 0 || (w->req->same_sp && w->sp))
		return ARCH_WHY_SP_CHANGED;
	return ARCH_WHY_MOVED;
}

/*
 * A store is allowed into the function's own new frame only: above %rsp (the
 * red zone may be overwritten at the probe: the kernel turns a probe on a
 * 5-byte nop into a call) and below the return address.
 */
static bool store_ok(const cs_x86_op *op, const struct walk *w)
{
	int64_t lo;

	if (op->mem.base != X86_REG_RSP || op->mem.index != X86_REG_INVALID ||
	    op->mem.segment != X86_REG_INVALID || op->mem.disp < 0)
		return false;
	lo = w->sp + op->mem.disp;
	return lo + op->size <= 0;
}

/* Whether in may run before the probe: ARCH_WHY_MOVED when it may, else why not. */
static enum arch_why check_before(csh h, const cs_insn *in, struct walk *w)
{
	const cs_x86 *x = &in->detail->x86;
	enum arch_why why = ARCH_WHY_MOVED;
	cs_regs rd, wr;
	uint8_t nrd, nwr, i;

	if (is_barrier(in))
		return ARCH_WHY_BARRIER;
	if (in_group(in, CS_GRP_JUMP) && check_jump(in, w) != ARCH_WHY_MOVED)
		return ARCH_WHY_BRANCH;
	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return ARCH_WHY_UNDECODABLE;
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & CS_AC_WRITE) &&
		    !store_ok(&x->operands[i], w))
			return ARCH_WHY_MEMORY_WRITE;
	for (i = 0; i < nwr && why == ARCH_WHY_MOVED; i++) {
		if (arg_of(wr[i]) & w->req->args)
			why = ARCH_WHY_ARG_WRITTEN;
		else if (is_sp(wr[i]))
			why = check_sp(in, w);
	}
	w->tested_rdi = in->id == X86_INS_TEST && x->op_count == 2 &&
			is_reg(&x->operands[0], X86_REG_RDI) &&
			is_reg(&x->operands[1], X86_REG_RDI);
	return why;
}

/*
 * True when a direct jump or call anywhere in code[0..n) lands in (0, off]:
 * the probe would fire again, or be skipped, on such a path. Indirect jumps
 * (jump tables) are not seen; compilers do not point them into a prologue.
 */
static bool lands_inside(csh h, cs_insn *in, const uint8_t *code, size_t n, size_t off)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = n;
	int64_t t;

	while (left) {
		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			/* Data or padding: resynchronize on the next byte. */
			p++;
			left--;
			addr++;
			continue;
		}
		if (!in_group(in, CS_GRP_BRANCH_RELATIVE) || in->detail->x86.op_count != 1 ||
		    in->detail->x86.operands[0].type != X86_OP_IMM)
			continue;
		t = in->detail->x86.operands[0].imm;
		if (t > 0 && (uint64_t)t <= off)
			return true;
	}
	return false;
}

int arch__probe_offset(const uint8_t *code, size_t n, const struct arch_probe_req *req,
		       struct arch_probe *out)
{
	struct walk w = { .req = req };
	enum arch_why why = ARCH_WHY_NONE;
	const uint8_t *p = code;
	uint64_t addr = 0;
	size_t left = n, off;
	cs_insn *in;
	csh h;
	int i, err;

	*out = (struct arch_probe){ .why = ARCH_WHY_NONE };
	err = decoder(&h, &in);
	if (err)
		return err;
	for (i = 0; i < PROBE_WINDOW && left; i++) {
		off = p - code;
		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			why = ARCH_WHY_UNDECODABLE;
			break;
		}
		if (x86__emulated(code + off, in->size, req->emul)) {
			if (off && lands_inside(h, in, code, n, off)) {
				out->why = ARCH_WHY_TARGET;
				return 0;
			}
			out->offset = off;
			out->sp_delta = w.sp;
			out->why = off ? ARCH_WHY_MOVED : ARCH_WHY_ENTRY;
			return 0;
		}
		why = check_before(h, in, &w);
		if (why != ARCH_WHY_MOVED)
			break;
	}
	out->why = why == ARCH_WHY_MOVED ? ARCH_WHY_NONE : why;
	return 0;
}

const char *arch_why__str(enum arch_why why)
{
	static const char *const str[] = {
		[ARCH_WHY_ENTRY] = "the entry is emulated",
		[ARCH_WHY_MOVED] = "first emulated instruction",
		[ARCH_WHY_ARG_WRITTEN] = "an argument register is written before",
		[ARCH_WHY_SP_CHANGED] = "the stack pointer moves before",
		[ARCH_WHY_BRANCH] = "a jump comes before",
		[ARCH_WHY_BARRIER] = "a call, return or syscall comes before",
		[ARCH_WHY_MEMORY_WRITE] = "a store comes before",
		[ARCH_WHY_TARGET] = "a jump lands before",
		[ARCH_WHY_LINK_REG] = "the link register is used before",
		[ARCH_WHY_UNDECODABLE] = "undecodable",
		[ARCH_WHY_NONE] = "no emulated instruction",
	};

	return why <= ARCH_WHY_NONE ? str[why] : "?";
}

int arch__regs_read(pid_t tid, struct user_regs_struct *regs)
{
	return ptrace(PTRACE_GETREGS, tid, NULL, regs) ? -1 : 0;
}

uint64_t arch__regs_sp(const struct user_regs_struct *regs)
{
	return regs->rsp;
}

long arch__tcb_find(const uint64_t *w, size_t nr, uint64_t from)
{
	/* x86-64's TCB starts with a pointer to itself, and has another two words on. */
	for (size_t i = nr < 3 ? 0 : nr - 2; i-- > 0;)
		if (w[i] == from + i * 8 && w[i + 2] == w[i])
			return (long)i;
	return -1;
}
