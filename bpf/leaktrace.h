/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Types, enums and limits shared by the BPF programs and the loader. */
#ifndef LEAKTRACE_H
#define LEAKTRACE_H

#ifndef __bpf__
#include <stdbool.h>
#endif

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
	LT_XALLOCX, /* jemalloc: resizes in place, returns the size it has */
	LT_NR_FUNCS,
};

enum lt_kind {
	LT_KIND_HEAP,
	LT_KIND_MMAP,
};

/* Events counted per CPU so that nothing is lost silently. */
enum lt_counter {
	LT_ALLOCS_UNTRACKED,	 /* the allocation map was full */
	LT_STACKS_DROPPED,	 /* the stack map was full: bytes kept, stack unknown */
	LT_FREES_UNMATCHED,	 /* a free of a block we should have seen allocated */
	LT_FREES_BEFORE_ATTACH,	 /* a free of a block allocated before the attach */
	LT_THREADS_UNTRACKED,	 /* the per-thread call state map was full */
	LT_MUNMAPS_PARTIAL_LOST, /* a munmap inside a mapping we could not split */
	LT_NR_COUNTERS,
	/* Not counted in BPF: user space splits it off LT_FREES_UNMATCHED by call site. */
	LT_FREES_INTERNAL = LT_NR_COUNTERS,
	LT_NR_LOST,
};

/* Flags of a traced process. */
enum lt_target_flags {
	LT_TARGET_FROM_START = 1, /* traced since exec: every free must match */
	LT_TARGET_EXITED = 2,	  /* its last thread is gone: report once, then drop */
};

#define LT_COMM_LEN 16

/*
 * A traced process. Its generation grows at every exec: blocks and totals are
 * keyed by it, so what the old image held is never matched by the new one.
 */
/* The map of traced processes: -a's holds every process an interval starts. */
#define LT_MAX_TARGETS (1 << 12)
#define LT_MAX_TARGETS_ALL (1 << 15)

struct lt_target {
	__u32 flags;
	__u32 gen;
	char comm[LT_COMM_LEN];
};

/*
 * Stack ids below LT_STACK_NONE_END mean the stack could not be stored (see
 * LT_STACKS_DROPPED): one per kind, LT_STACK_NONE + kind, so that heap blocks
 * and mappings whose stacks were dropped are counted apart.
 */
#define LT_STACK_NONE 0
#define LT_STACK_NONE_END (LT_STACK_NONE + LT_KIND_MMAP + 1)

/* One step of the hash of a stack's frames (user space and kernel stacks alike). */
static inline __u64 lt_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static inline __u64 lt_stack_none(__u32 kind)
{
	return LT_STACK_NONE + kind;
}

static inline bool lt_stack_is_none(__u64 stack_id)
{
	return stack_id < LT_STACK_NONE_END;
}

struct lt_alloc_key {
	__u32 tgid;
	__u32 gen;
	__u64 addr;
};

struct lt_alloc {
	__u64 size;
	__u64 stack_id;
	__u64 ts;   /* CLOCK_MONOTONIC ns of the allocation */
	__u32 kind; /* enum lt_kind */
	__u32 pad;
	__u64 est_bytes; /* --sample-bytes: the bytes this sample stands for */
};

/*
 * A block slot (5.13+): most records live in an array, in the first free of
 * the LT_BLOCK_PROBES slots from a hash of the block's address and process,
 * where the programs reach them without a helper call; a block whose slots
 * others hold goes to the allocs hash, and so do mappings. key.addr is 0
 * while the slot is free, LT_SLOT_BUSY while a program writes it (block
 * addresses are aligned: 1 is none of them). A slot that counts no hashed
 * block spares a lookup in allocs.
 */
#define LT_SLOT_BUSY 1

struct lt_block_slot {
	struct lt_alloc_key key;
	struct lt_alloc rec;
	__u64 hashed; /* heap blocks in allocs whose first slot this is (all were taken) */
};

/*
 * The slot of the block at addr in process who ((__u64)gen << 32 | tgid), of
 * n (any number: --max-allocs sizes them). The blocks of a 4 KiB region of
 * memory, which an allocator hands out one after another, take slots one
 * after another (one per 16 bytes) from where the region's hash puts them:
 * the CPU fetches those slots ahead, where a slot at random per block took a
 * cache miss per allocation.
 */
static inline __u32 lt_block_slot_index(__u64 addr, __u64 who, __u32 n)
{
	__u64 h = ((addr >> 12) ^ who) * 0x9e3779b97f4a7c15ULL;

	return ((__u32)(h ^ (h >> 29)) + (__u32)(addr >> 4)) % n;
}

/*
 * The slots a block may take: the one above and the next. With blocks of 32
 * bytes and more (every other slot of a run) the second fills the gaps two
 * runs leave: a simulation of 1M blocks of 32 bytes in 2M slots put 20.7% in
 * the hash with one slot, 9.6% with two (no fewer with four).
 */
#define LT_BLOCK_PROBES 2

static inline __u32 lt_block_slot_probe(__u64 addr, __u64 who, __u32 j, __u32 n)
{
	return (lt_block_slot_index(addr, who, n) + j) % n;
}

/* --sample-bytes: the tables the BPF side samples and weighs with (fixed point, 1/65536). */
#define LT_EXP_DRAWS 1024     /* -ln(u) at u = (i + 0.5) / 1024: exponential draws */
#define LT_EST_STEPS 4096     /* x / (1 - exp(-x)) at x = (i + 0.5) / 256, x = size / mean */
#define LT_EST_ALLOCS_ONE 256 /* est_allocs counts in 1/256 of an allocation */

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
	__s64 est_allocs; /* in 1/LT_EST_ALLOCS_ONE */
};

/* Flags of a recorded stack. */
enum lt_stack_flags {
	LT_STACK_UNWOUND = 1, /* walked with unwind tables: every frame is sound */
	LT_STACK_CUT = 2,     /* ... and the walk stopped before the end of the stack */
	LT_STACK_UNBUILT = 4, /* ... at code without its table yet (a library just mapped) */
};

struct lt_stack {
	__u32 nr;
	__u32 flags; /* enum lt_stack_flags */
	__u64 ips[LT_MAX_FRAMES];
};

/*
 * --unwind=dwarf: one row of an object's unwind table, built by user space from
 * its .eh_frame. A row holds from its pc to the next row's pc. The caller's
 * stack pointer is the CFA; its return address is at CFA - 8 (x86-64's call
 * pushes it there) unless fp says otherwise (arm64 saves its link register
 * where the prologue chooses, mostly beside fp in the frame record).
 */
enum lt_cfa {
	LT_CFA_NONE,	 /* no CFI covers pc (or a rule we do not follow): the walk stops, cut */
	LT_CFA_SP,	 /* CFA = sp + cfa_off */
	LT_CFA_FP,	 /* CFA = fp (the frame pointer register) + cfa_off */
	LT_CFA_PLT,	 /* an x86-64 PLT entry: CFA = sp + 8, + 8 more when (pc & 15) >= cfa_off */
	LT_CFA_END,	 /* the return address is undefined: the outermost frame (_start) */
	LT_CFA_SP8,	 /* CFA = sp + 8 * cfa_off: a frame over 32 KiB (a big array on it) */
	LT_CFA_FP_CHAIN, /* code without a table (JIT, Go's own code): follow fp */
	LT_CFA_GO_CGO,	 /* x86-64 Go's runtime.asmcgocall: the goroutine's stack goes on */
};

/* Register names are the architecture's own (arch.h, arch.bpf.h): sp, and fp its frame pointer. */
enum lt_fp {
	LT_FP_SAME,    /* the caller's fp is this frame's fp */
	LT_FP_AT,      /* saved at CFA + fp_off */
	LT_FP_UNKNOWN, /* clobbered, or kept elsewhere: a CFA that needs it stops the walk */
	LT_FP_RECORD,  /* a frame record: fp saved at CFA + fp_off, the return address next above */
	LT_FP_SAME_RA, /* the caller's fp is this frame's; the return address at CFA + fp_off */
};

struct lt_unwind_row {
	__u32 pc; /* link-time address in the object */
	__s16 cfa_off;
	__u8 cfa : 4; /* enum lt_cfa */
	__u8 fp : 4;  /* enum lt_fp */
	__s8 fp_off8; /* in 8-byte units: saved registers sit 8-byte aligned */
};

/* --unwind: how stacks are walked. */
enum lt_unwind_mode {
	LT_UNWIND_FP,	 /* frame pointers, checked by user space */
	LT_UNWIND_DWARF, /* unwind tables */
	LT_UNWIND_AUTO,	 /* frame pointers in files built with them, tables elsewhere */
};

#define LT_UNWIND_MAX_OBJS 4096		 /* objects with a table at once */
#define LT_UNWIND_MAX_RANGES 256	 /* executable mappings of a process (a power of 2) */
#define LT_UNWIND_SEARCH_STEPS 25	 /* binary search steps: up to 32M rows */
#define LT_UNWIND_FP_OBJ 0		 /* no file (JIT code, [vdso]): follow the frame pointer */
#define LT_UNWIND_NO_OBJ 0xffffffff	 /* a file without a table: the walk stops, cut */
#define LT_UNWIND_UNBUILT_OBJ 0xfffffffe /* a file mapped before its table is built */
#define LT_UNWIND_CACHE 4096		 /* rows cached per CPU, by process and pc (a power of 2) */
#define LT_WALK_MEMO 64			 /* whole walks kept per CPU, by process, pc and sp (2^n) */

/* The rows of one object, in the rows array. */
struct lt_unwind_obj {
	__u32 first;
	__u32 nr;
};

/* An executable mapping: pc - bias is the object's link-time address. */
struct lt_unwind_range {
	__u64 start;
	__u64 end;
	__u64 bias;
	__u32 obj; /* index in the objects array, or LT_UNWIND_*_OBJ */
	__u32 pad;
};

#define LT_UNWIND_PENDING 64	 /* mappings the BPF side adds between two rereads */
#define LT_UNWIND_MAX_PROCS 1024 /* processes with their mappings read at once */
#define LT_UNWIND_NO_SLOT 0xffffffff

/*
 * A process's executable mappings, in two values so that neither side ever
 * overwrites what the other wrote (an update replaces a whole value: what a
 * program wrote meanwhile into the one replaced would be lost). An image is
 * known by where its stack starts (mm->start_stack, /proc/PID/stat's
 * startstack): an exec makes another, and the old image's mappings stop counting.
 *
 * The view, written by user space: the mappings it read from /proc/PID/maps,
 * sorted by start, at slot * LT_UNWIND_MAX_RANGES in the ranges array; and by
 * the programs at a fork, a copy of the parent's for the child (borrowed) until
 * user space reads the child. A slot's generation changes each time user space
 * gives it to a process: a view holds while its slot's generation is its own.
 */
struct lt_unwind_view {
	__u64 image; /* the image the ranges are of */
	__u32 slot;  /* LT_UNWIND_NO_SLOT: none */
	__u32 nr;
	__u32 seen;  /* the process's mappings (its count) made before the maps were read */
	__u32 marks; /* the process's marks user space has taken */
	__u32 slot_gen;
	__u32 borrowed; /* the parent's, copied at fork: user space is to read the child's */
};

/* An image's name: from its mm (the programs), or /proc/PID/stat's endcode and startstack. */
static inline __u64 lt_unwind_image(__u64 end_code, __u64 start_stack)
{
	return start_stack ^ end_code << 16;
}

/* A mapping made with mmap, by image. */
struct lt_unwind_mapped {
	struct lt_unwind_range r;
	__u64 image;
};

/*
 * Written by the programs only: every executable mapping made since exec with
 * mmap, the last LT_UNWIND_PENDING of them in a ring (those made since the
 * view's maps were read win over its ranges); and its marks: the process is
 * to be read again while they differ from the view's.
 */
struct lt_unwind_proc {
	__u32 count; /* mappings made: the next goes to pending[count % LT_UNWIND_PENDING] */
	__u32 marks;
	struct lt_unwind_mapped pending[LT_UNWIND_PENDING];
};

/* A file with a table, by the kernel's device number and inode. */
struct lt_unwind_file_key {
	__u32 dev; /* as the kernel encodes it (MKDEV): major << 20 | minor */
	__u32 pad;
	__u64 ino;
};

struct lt_unwind_file {
	__u32 obj;
	__u32 pad;
	__s64 delta; /* link-time address - file offset, executable segment */
	__u64 size;  /* the file's when its table was built: one of another size has none */
};

/* lt_unwind_file's size when the file could not be told as its table was built: any. */
#define LT_UNWIND_ANY_SIZE (~0ULL)

/*
 * -a and run mode: the executable file mappings of traced processes, captured as
 * they are made (exec, mmap) and inherited at fork, so that a process that exits
 * before user space reads /proc/PID/maps is still symbolized.
 */
enum lt_map_event_type {
	LT_MAP_EXEC, /* a new image: its executable's and its interpreter's code */
	LT_MAP_MMAP, /* a file mapped executable */
	LT_MAP_FORK, /* child starts with tgid's mappings */
};

#define LT_MAP_NAMES 512    /* bytes of path components an event holds */
#define LT_MAP_NAME_MAX 256 /* one component with its NUL (NAME_MAX + 1) */
#define LT_MAP_DEPTH 32	    /* dentries and mounts walked up to the root */

struct lt_map_event {
	__u32 type; /* enum lt_map_event_type */
	__u32 tgid;
	__u32 child; /* LT_MAP_FORK */
	__u32 dev;   /* the file's device as the kernel encodes it: major << 20 | minor */
	__u64 ino;
	__u64 start;
	__u64 end;
	__u64 offset; /* in the file, of start */
	/*
	 * The file's path as its mount namespace sees it: nr_names components,
	 * innermost first, each NUL-terminated; 0 when the walk did not reach the root.
	 */
	__u32 nr_names;
	__u32 pad;
	char names[LT_MAP_NAMES + LT_MAP_NAME_MAX];
};

/*
 * --kernel (bpf/kmem.bpf.c): outstanding kernel allocations from the kmem and
 * percpu tracepoints. Each space is an address space of its own: a slab
 * object, a struct page, a per-CPU pointer.
 */
enum lt_kspace {
	LT_KSPACE_SLAB,	  /* kmalloc, kmem_cache_alloc: freed by kfree, kmem_cache_free */
	LT_KSPACE_PAGE,	  /* the page allocator: keyed by struct page */
	LT_KSPACE_PERCPU, /* alloc_percpu */
	LT_NR_KSPACES,
};

/* Counted per CPU, so that nothing of the kernel's is lost silently. */
enum lt_kcounter {
	LT_K_ALLOCS_UNTRACKED, /* the block or totals map was full (--max-allocs, --max-stacks) */
	LT_K_STACKS_DROPPED,   /* the stack map was full: counted under no stack */
	LT_K_FREES_UNKNOWN,    /* a free of a block allocated before the start (or not seen) */
	LT_K_MAP_BUSY,	       /* a map update refused inside an interrupt of a program's own */
	LT_NR_KCOUNTERS,
};

/*
 * stack: the kernel stack's key in kstacks (a hash of its frames, never 0); 0 when
 * it was dropped. tgid: the allocating task's process.
 */
struct lt_ktotal_key {
	__u64 stack;
	__u32 space; /* enum lt_kspace */
	__u32 tgid;
};

struct lt_kblock_key {
	__u64 addr;
	__u32 space;
	__u32 pad;
};

struct lt_kblock {
	struct lt_ktotal_key total;
	__u64 size;
	__u64 est_bytes; /* --sample-bytes: the bytes this sample stands for */
	__u64 ts;
};

#define LT_KCACHE_NAME 32
/*
 * Deepest kernel stack recorded (the innermost frames kept): half a user stack,
 * 4 per --max-stacks in the stack map. Frames past the depth are 0.
 */
#define LT_KMAX_FRAMES 64

struct lt_kstack {
	__u64 ips[LT_KMAX_FRAMES];
};

/* As struct lt_total, with the context of the stack's first block in this process. */
struct lt_ktotal {
	__s64 bytes;
	__s64 allocs;
	__u64 oldest_ts;
	__u64 oldest_addr;
	__s64 est_bytes;
	__s64 est_allocs;	    /* in 1/LT_EST_ALLOCS_ONE */
	__u64 call_site;	    /* the allocator's caller (slab, percpu): frame 0 */
	__u64 cgroup;		    /* the task's cgroup (v2) id */
	char comm[LT_COMM_LEN];	    /* the allocating task's name */
	char cache[LT_KCACHE_NAME]; /* kmem_cache_alloc: the slab cache's name */
};

#endif /* LEAKTRACE_H */
