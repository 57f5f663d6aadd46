/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Types, enums and limits shared by the BPF programs and the loader. */
#ifndef LEAKTRACE_H
#define LEAKTRACE_H

/* Deepest user stack recorded; the kernel's own PERF_MAX_STACK_DEPTH. */
#define LT_MAX_FRAMES 127

/* The allocator entry points; the loader attaches each one it finds. */
enum lt_func {
	LT_MALLOC,
	LT_CALLOC,
	LT_REALLOC,
	LT_REALLOCARRAY,
	LT_POSIX_MEMALIGN,
	LT_ALIGNED_ALLOC,
	LT_MEMALIGN,
	LT_VALLOC,
	LT_PVALLOC,
	LT_FREE,
	LT_MMAP,
	LT_MUNMAP,
	LT_XALLOCX,	/* jemalloc: resizes in place, returns the size it has */
	LT_NR_FUNCS,
};

enum lt_kind {
	LT_KIND_HEAP,
	LT_KIND_MMAP,
};

/* Events counted per CPU so that nothing is lost silently. */
enum lt_counter {
	LT_ALLOCS_UNTRACKED,	/* the allocation map was full */
	LT_STACKS_DROPPED,	/* the stack map was full: bytes kept, stack unknown */
	LT_FREES_UNMATCHED,	/* a free of a block we should have seen allocated */
	LT_FREES_BEFORE_ATTACH,	/* a free of a block allocated before the attach */
	LT_THREADS_UNTRACKED,	/* the per-thread call state map was full */
	LT_MUNMAPS_PARTIAL_LOST,	/* a munmap inside a mapping we could not split */
	LT_NR_COUNTERS,
	/* Not counted in BPF: user space splits it off LT_FREES_UNMATCHED by call site. */
	LT_FREES_INTERNAL = LT_NR_COUNTERS,
	LT_NR_LOST,
};

/* Flags of a traced process. */
enum lt_target_flags {
	LT_TARGET_FROM_START = 1,	/* traced since exec: every free must match */
	LT_TARGET_EXITED = 2,		/* its last thread is gone: report once, then drop */
};

#define LT_COMM_LEN 16

/*
 * A traced process. Its generation grows at every exec: blocks and totals are
 * keyed by it, so what the old image held is never matched by the new one.
 */
struct lt_target {
	__u32 flags;
	__u32 gen;
	char comm[LT_COMM_LEN];
};

/* Stack id 0 means the stack could not be stored (see LT_STACKS_DROPPED). */
#define LT_STACK_NONE 0

struct lt_alloc_key {
	__u32 tgid;
	__u32 gen;
	__u64 addr;
};

struct lt_alloc {
	__u64 size;
	__u64 stack_id;
	__u64 ts;		/* CLOCK_MONOTONIC ns of the allocation */
	__u32 kind;		/* enum lt_kind */
	__u32 pad;
	__u64 est_bytes;	/* --sample-bytes: the bytes this sample stands for */
};

/* --sample-bytes: the tables the BPF side samples and weighs with (fixed point, 1/65536). */
#define LT_EXP_DRAWS 1024	/* -ln(u) at u = (i + 0.5) / 1024: exponential draws */
#define LT_EST_STEPS 4096	/* x / (1 - exp(-x)) at x = (i + 0.5) / 256, x = size / mean */
#define LT_EST_ALLOCS_ONE 256	/* est_allocs counts in 1/256 of an allocation */

struct lt_total_key {
	__u32 tgid;
	__u32 gen;
	__u64 stack_id;
};

/*
 * Outstanding memory of one stack in one process, updated atomically by every
 * allocation and free, so that a snapshot costs O(stacks). The oldest block is
 * tracked as one candidate: kept while it lives, replaced by the next block
 * allocated after it is freed. For a leak (its first block is never freed) that
 * is exact; otherwise it is a lower bound of the age of the oldest block.
 */
struct lt_total {
	__s64 bytes;
	__s64 allocs;
	__u64 oldest_ts;
	__u64 oldest_addr;
	__u32 kind;
	__u32 pad;
	/* --sample-bytes: unbiased estimates of what bytes and allocs sampled. */
	__s64 est_bytes;
	__s64 est_allocs;	/* in 1/LT_EST_ALLOCS_ONE */
};

struct lt_stack {
	__u32 nr;
	__u32 pad;
	__u64 ips[LT_MAX_FRAMES];
};

/*
 * --unwind=dwarf: one row of an object's unwind table, built by user space from
 * its .eh_frame. A row holds from its pc to the next row's pc. The caller's
 * stack pointer is the CFA; its return address is at CFA - 8.
 */
enum lt_cfa {
	LT_CFA_NONE,	/* no CFI covers pc (or a rule we do not follow): the walk stops, cut */
	LT_CFA_RSP,	/* CFA = rsp + cfa_off */
	LT_CFA_RBP,	/* CFA = rbp + cfa_off */
	LT_CFA_PLT,	/* a PLT entry: CFA = rsp + 8, + 8 more when (pc & 15) >= cfa_off */
	LT_CFA_END,	/* the return address is undefined: the outermost frame (_start) */
};

enum lt_rbp {
	LT_RBP_SAME,	/* the caller's rbp is this frame's rbp */
	LT_RBP_AT,	/* saved at CFA + rbp_off */
	LT_RBP_UNKNOWN,	/* clobbered or kept elsewhere: a caller whose CFA needs it stops the walk */
};

struct lt_unwind_row {
	__u32 pc;	/* link-time address in the object */
	__s32 cfa_off;
	__u8 cfa;	/* enum lt_cfa */
	__u8 rbp;	/* enum lt_rbp */
	__s16 rbp_off;
};

#endif /* LEAKTRACE_H */
